// SPDX-License-Identifier: MIT
/*
 * ENCLS[ETRACK] (encls_etrack.c): each check C1..C4 in both directions, and
 * the effects E1 (the LPs inside become the tracked set) and E2 (the epoch
 * advances).
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "paging_util.h"

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 3);
	fx_build(&fx, 2);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_etrack, .init = setup, .fini = teardown);

static uint64_t epoch(void)
{
	return sgx_secs_epoch(&fx.cpu, secs_idx(&fx));
}

static const struct secs_hidden *hidden(void)
{
	return secs_hidden_at(&fx.cpu, secs_idx(&fx));
}

Test(encls_etrack, c1_page_aligned)
{
	struct fx_snap s;

	fx_snap(&fx, fx.secs, &s);
	fx_expect_gp(fx.lp, encls_etrack(fx.lp, fx.secs + 0x40));
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
}

Test(encls_etrack, c2_in_epc)
{
	static uint8_t outside[4096] __attribute__((aligned(4096)));
	uint64_t past = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1) + 4096;
	uint64_t before = epoch();

	fx_expect_pf(fx.lp, encls_etrack(fx.lp, (uintptr_t)outside),
		     (uintptr_t)outside, FX_PF_EPCM);
	fx_expect_pf(fx.lp, encls_etrack(fx.lp, past), past, FX_PF_EPCM);
	cr_assert_eq(epoch(), before);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
}

Test(encls_etrack, c3_must_be_a_valid_secs)
{
	uint64_t reg = fx_epc_of(&fx, fx_data(&fx, 0));
	uint64_t tcs = fx_epc_of(&fx, fx.base + FX_TCS_OFF);
	uint64_t va = va_page(&fx), free_page = fx_alloc_epc(&fx);
	uint64_t before = epoch();
	struct fx_snap s;

	fx_snap(&fx, reg, &s);
	fx_expect_pf(fx.lp, encls_etrack(fx.lp, reg), reg, FX_PF_EPCM);
	fx_expect_same(&fx, &s);
	fx_expect_pf(fx.lp, encls_etrack(fx.lp, tcs), tcs, FX_PF_EPCM);
	fx_expect_pf(fx.lp, encls_etrack(fx.lp, va), va, FX_PF_EPCM);
	fx_expect_pf(fx.lp, encls_etrack(fx.lp, free_page), free_page,
		     FX_PF_EPCM);
	cr_assert_eq(epoch(), before);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	cr_assert_eq(epoch(), before + 1);
}

/* An LP that entered before the first ETRACK holds up the second. */
Test(encls_etrack, c4_previous_tracking_incomplete)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t before;
	struct fx_snap s;

	fx_enter(&fx, a);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	before = epoch();
	fx_snap(&fx, fx.secs, &s);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), SGX_PREV_TRK_INCMPL);
	fx_expect_same(&fx, &s);
	cr_assert_eq(epoch(), before);
	fx_exit(&fx, a);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	cr_assert_eq(epoch(), before + 1);
}

/* An AEX drains the tracked set like an EEXIT does. */
Test(encls_etrack, c4_aex_completes_tracking)
{
	struct sgx_lp *a = &fx.cpu.lps[1];

	fx_enter(&fx, a);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), SGX_PREV_TRK_INCMPL);
	fx_aex(&fx, a);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
}

/* Only the LPs inside at the last ETRACK count, not later entrants. */
Test(encls_etrack, c4_later_entry_does_not_block)
{
	struct sgx_lp *a = &fx.cpu.lps[1];

	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	fx_enter(&fx, a);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), SGX_PREV_TRK_INCMPL);
	fx_exit(&fx, a);
}

Test(encls_etrack, e1_lps_inside_become_the_tracked_set)
{
	struct sgx_lp *a = &fx.cpu.lps[1], *b = &fx.cpu.lps[2];

	fx_enter(&fx, a);
	fx_enter(&fx, b);
	cr_assert_eq(hidden()->prev_active, 0);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	cr_assert_eq(hidden()->prev_active, 2);
	fx_exit(&fx, a);
	cr_assert_eq(hidden()->prev_active, 1);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), SGX_PREV_TRK_INCMPL);
	fx_exit(&fx, b);
	cr_assert_eq(hidden()->prev_active, 0);
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
}

Test(encls_etrack, e2_epoch_advances_and_tracks_stamps)
{
	uint64_t lin = fx_data(&fx, 0);
	uint64_t idx = epc_idx(&fx, fx_epc_of(&fx, lin));
	uint64_t before = epoch();

	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_not(sgx_page_tracked(&fx.cpu, idx));
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	cr_assert_eq(epoch(), before + 1);
	cr_assert(sgx_page_tracked(&fx.cpu, idx));
	cr_assert_eq(encls_etrack(fx.lp, fx.secs), 0);
	cr_assert_eq(epoch(), before + 2);
}
