// SPDX-License-Identifier: MIT
/*
 * ENCLS[EPA] (encls_epa.c): each check C1..C4 in both directions, and the
 * effects E1 (zeroed page) and E2 (EPCM of an empty VA page).
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "paging_util.h"

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 32, 1);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_epa, .init = setup, .fini = teardown);

Test(encls_epa, c1_rbx_must_be_pt_va)
{
	uint64_t epc = fx_alloc_epc(&fx);
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_gp(fx.lp, encls_epa(fx.lp, PT_REG, epc));
	fx_expect_gp(fx.lp, encls_epa(fx.lp, PT_SECS, epc));
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_epa(fx.lp, PT_VA, epc), 0);
}

Test(encls_epa, c2_page_aligned)
{
	uint64_t epc = fx_alloc_epc(&fx);
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_gp(fx.lp, encls_epa(fx.lp, PT_VA, epc + 8));
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_epa(fx.lp, PT_VA, epc), 0);
}

Test(encls_epa, c3_in_epc)
{
	static uint8_t outside[4096] __attribute__((aligned(4096)));
	uint64_t past = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1) + 4096;
	uint64_t last = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1);

	fx_expect_pf(fx.lp, encls_epa(fx.lp, PT_VA, (uintptr_t)outside),
		     (uintptr_t)outside, FX_PF_EPCM);
	fx_expect_pf(fx.lp, encls_epa(fx.lp, PT_VA, past), past, FX_PF_EPCM);
	cr_assert_eq(encls_epa(fx.lp, PT_VA, last), 0);
}

Test(encls_epa, c4_page_must_be_free)
{
	uint64_t va = va_page(&fx), epc;
	struct fx_snap s;

	*(uint64_t *)(uintptr_t)va = 42; /* a version, as EWB would leave */
	fx_snap(&fx, va, &s);
	fx_expect_pf(fx.lp, encls_epa(fx.lp, PT_VA, va), va, FX_PF_EPCM);
	fx_expect_same(&fx, &s);

	fx_build(&fx, 1);
	epc = fx_epc_of(&fx, fx_data(&fx, 0));
	fx_snap(&fx, epc, &s);
	fx_expect_pf(fx.lp, encls_epa(fx.lp, PT_VA, epc), epc, FX_PF_EPCM);
	fx_expect_same(&fx, &s);
	fx_snap(&fx, fx.secs, &s);
	fx_expect_pf(fx.lp, encls_epa(fx.lp, PT_VA, fx.secs), fx.secs,
		     FX_PF_EPCM);
	fx_expect_same(&fx, &s);

	cr_assert_eq(encls_eremove(fx.lp, va), 0);
	cr_assert_eq(encls_epa(fx.lp, PT_VA, va), 0);
}

Test(encls_epa, e1_page_is_zeroed)
{
	uint64_t epc = fx_alloc_epc(&fx);
	const uint8_t *p = (const uint8_t *)(uintptr_t)epc;

	memset((void *)(uintptr_t)epc, 0xA5, 4096);
	cr_assert_eq(encls_epa(fx.lp, PT_VA, epc), 0);
	for (unsigned int i = 0; i < 4096; i++)
		cr_assert_eq(p[i], 0, "byte %u", i);
}

Test(encls_epa, e2_epcm_is_an_empty_va_page)
{
	uint64_t epc = fx_alloc_epc(&fx);
	const struct epcm_entry *e = epcm_of(&fx, epc);

	cr_assert_eq(encls_epa(fx.lp, PT_VA, epc), 0);
	cr_assert(e->valid);
	cr_assert_eq(e->pt, PT_VA);
	cr_assert_eq(e->r | e->w | e->x, 0);
	cr_assert_eq(e->blocked | e->pending | e->modified | e->pr, 0);
	cr_assert_eq(e->enclave_address, 0);
	cr_assert_eq(e->track_stamp, 0);
	cr_assert_eq(e->enclave_secs, epc_idx(&fx, epc));
}
