// SPDX-License-Identifier: MIT
/*
 * ENCLS[EREMOVE] (encls_eremove.c): each check C1..C5 in both directions,
 * including the accepted-TRIM and VA cases that skip the ENCLAVE_ACT check,
 * and the effects E1 (VALID := 0) and E2 (the child count drops).
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "paging_util.h"

#define NR_DATA 3

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, NR_DATA);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_eremove, .init = setup, .fini = teardown);

static uint64_t data_epc(unsigned int i)
{
	return fx_epc_of(&fx, fx_data(&fx, i));
}

Test(encls_eremove, c1_page_aligned)
{
	uint64_t epc = data_epc(0);
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_gp(fx.lp, encls_eremove(fx.lp, epc + 1));
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
}

Test(encls_eremove, c2_in_epc)
{
	static uint8_t outside[4096] __attribute__((aligned(4096)));
	uint64_t past = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1) + 4096;

	fx_expect_pf(fx.lp, encls_eremove(fx.lp, (uintptr_t)outside),
		     (uintptr_t)outside, FX_PF_EPCM);
	fx_expect_pf(fx.lp, encls_eremove(fx.lp, past), past, FX_PF_EPCM);
	cr_assert_eq(encls_eremove(fx.lp, data_epc(0)), 0);
}

Test(encls_eremove, c3_free_page_is_a_no_op)
{
	uint64_t epc = data_epc(0);
	uint32_t children;
	struct fx_snap s;

	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
	children = child_count(&fx);
	fx_snap(&fx, epc, &s);
	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
	fx_expect_same(&fx, &s);
	cr_assert_eq(child_count(&fx), children);
}

Test(encls_eremove, c4_secs_with_children)
{
	uint32_t children = child_count(&fx);
	struct fx_snap s;

	fx_snap(&fx, fx.secs, &s);
	cr_assert_eq(encls_eremove(fx.lp, fx.secs), SGX_CHILD_PRESENT);
	fx_expect_same(&fx, &s);
	cr_assert_eq(child_count(&fx), children);
}

Test(encls_eremove, c4_secs_goes_last)
{
	uint64_t lins[MAX_CHILDREN];
	unsigned int n = enclave_children(&fx, NR_DATA, lins);

	cr_assert_eq(child_count(&fx), n);
	for (unsigned int i = 0; i < n - 1; i++)
		cr_assert_eq(encls_eremove(fx.lp, fx_epc_of(&fx, lins[i])), 0);
	cr_assert_eq(child_count(&fx), 1);
	cr_assert_eq(encls_eremove(fx.lp, fx.secs), SGX_CHILD_PRESENT);
	cr_assert_eq(encls_eremove(fx.lp, fx_epc_of(&fx, lins[n - 1])), 0);
	cr_assert_eq(child_count(&fx), 0);
	cr_assert_eq(encls_eremove(fx.lp, fx.secs), 0);
	cr_assert_not(epcm_of(&fx, fx.secs)->valid);
}

Test(encls_eremove, c5_enclave_active)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t tcs = fx_epc_of(&fx, fx.base + FX_TCS_OFF);
	uint32_t children = child_count(&fx);
	struct fx_snap s, t;

	fx_enter(&fx, a);
	fx_snap(&fx, data_epc(0), &s);
	fx_snap(&fx, tcs, &t);
	cr_assert_eq(encls_eremove(fx.lp, data_epc(0)), SGX_ENCLAVE_ACT);
	cr_assert_eq(encls_eremove(fx.lp, tcs), SGX_ENCLAVE_ACT);
	fx_expect_same(&fx, &s);
	fx_expect_same(&fx, &t);
	cr_assert_eq(child_count(&fx), children);
	fx_exit(&fx, a);
	cr_assert_eq(encls_eremove(fx.lp, data_epc(0)), 0);
}

/* A TRIM page the enclave has not accepted yet is still in use. */
Test(encls_eremove, c5_unaccepted_trim_needs_inactive)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t epc = data_epc(1);
	struct fx_snap s;

	cr_assert_eq(fx_emodt(&fx, fx_data(&fx, 1), PT_TRIM), 0);
	fx_enter(&fx, a);
	fx_snap(&fx, epc, &s);
	cr_assert_eq(encls_eremove(fx.lp, epc), SGX_ENCLAVE_ACT);
	fx_expect_same(&fx, &s);
	fx_exit(&fx, a);
	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
}

/* Linux's REMOVE_PAGES flow: EREMOVE while enclave threads run. */
Test(encls_eremove, c5_accepted_trim_skips_active_check)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 1), epc = data_epc(1);
	uint32_t children = child_count(&fx);

	cr_assert_eq(fx_emodt(&fx, lin, PT_TRIM), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_enter(&fx, a);
	cr_assert_eq(
	    fx_eaccept(&fx, a, lin,
		       SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED),
	    0);
	cr_assert_not(epcm_of(&fx, epc)->modified);
	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
	cr_assert_not(epcm_of(&fx, epc)->valid);
	cr_assert_eq(child_count(&fx), children - 1);
	fx_exit(&fx, a);
}

Test(encls_eremove, c5_va_skips_active_check)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t va = va_page(&fx);

	fx_enter(&fx, a);
	cr_assert_eq(encls_eremove(fx.lp, va), 0);
	cr_assert_not(epcm_of(&fx, va)->valid);
	fx_exit(&fx, a);
}

Test(encls_eremove, e1_e2_page_freed_and_uncounted)
{
	uint64_t epc = data_epc(2);
	uint32_t children = child_count(&fx);

	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
	cr_assert_not(epcm_of(&fx, epc)->valid);
	cr_assert_eq(child_count(&fx), children - 1);
	/* The freed page can be reused at once. */
	cr_assert_eq(encls_epa(fx.lp, PT_VA, epc), 0);
}
