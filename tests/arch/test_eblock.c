// SPDX-License-Identifier: MIT
/*
 * ENCLS[EBLOCK] (encls_eblock.c): each check C1..C6 in both directions, and
 * the effects E1 (BLOCKED, so no new TLB fill) and E2 (the tracking stamp).
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "paging_util.h"

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, 4);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_eblock, .init = setup, .fini = teardown);

static uint64_t data_epc(unsigned int i)
{
	return fx_epc_of(&fx, fx_data(&fx, i));
}

Test(encls_eblock, c1_page_aligned)
{
	uint64_t epc = data_epc(0);
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_gp(fx.lp, encls_eblock(fx.lp, epc + 0x10));
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_eblock(fx.lp, epc), 0);
}

Test(encls_eblock, c2_in_epc)
{
	static uint8_t outside[4096] __attribute__((aligned(4096)));
	uint64_t past = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1) + 4096;

	fx_expect_pf(fx.lp, encls_eblock(fx.lp, (uintptr_t)outside),
		     (uintptr_t)outside, FX_PF_EPCM);
	fx_expect_pf(fx.lp, encls_eblock(fx.lp, past), past, FX_PF_EPCM);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(0)), 0);
}

Test(encls_eblock, c3_page_must_be_valid)
{
	uint64_t free_page = fx_alloc_epc(&fx);
	struct fx_snap s;

	fx_snap(&fx, free_page, &s);
	cr_assert_eq(encls_eblock(fx.lp, free_page), SGX_PG_INVLD);
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(1)), 0);
}

Test(encls_eblock, c4_secs_is_not_blockable)
{
	struct fx_snap s;

	fx_snap(&fx, fx.secs, &s);
	cr_assert_eq(encls_eblock(fx.lp, fx.secs), SGX_PG_IS_SECS);
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(0)), 0);
}

Test(encls_eblock, c5_va_is_not_blockable)
{
	uint64_t va = va_page(&fx);
	struct fx_snap s;

	fx_snap(&fx, va, &s);
	cr_assert_eq(encls_eblock(fx.lp, va), SGX_NOTBLOCKABLE);
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(0)), 0);
}

Test(encls_eblock, c5_tcs_and_trim_are_blockable)
{
	uint64_t tcs = fx_epc_of(&fx, fx.base + FX_TCS_OFF);

	cr_assert_eq(encls_eblock(fx.lp, tcs), 0);
	cr_assert(epcm_of(&fx, tcs)->blocked);
	cr_assert_eq(fx_emodt(&fx, fx_data(&fx, 2), PT_TRIM), 0);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(2)), 0);
	cr_assert(epcm_of(&fx, data_epc(2))->blocked);
}

Test(encls_eblock, c6_already_blocked_changes_nothing)
{
	uint64_t epc = data_epc(0);
	struct fx_snap s;

	cr_assert_eq(encls_eblock(fx.lp, epc), 0);
	/* Advance the epoch: a second stamp would now differ. */
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_snap(&fx, epc, &s);
	cr_assert_eq(encls_eblock(fx.lp, epc), SGX_BLKSTATE);
	fx_expect_same(&fx, &s);
	cr_assert(sgx_page_tracked(&fx.cpu, epc_idx(&fx, epc)));
}

Test(encls_eblock, ignores_pending_modified_and_pr)
{
	uint64_t lin = fx_data(&fx, 4);
	uint64_t aug = fx_eaug(&fx, lin);

	cr_assert(epcm_of(&fx, aug)->pending);
	cr_assert_eq(encls_eblock(fx.lp, aug), 0);
	cr_assert_eq(fx_emodt(&fx, fx_data(&fx, 1), PT_TRIM), 0);
	cr_assert(epcm_of(&fx, data_epc(1))->modified);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(1)), 0);
	cr_assert_eq(fx_emodpr(&fx, fx_data(&fx, 0), SGX_SECINFO_R), 0);
	cr_assert(epcm_of(&fx, data_epc(0))->pr);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(0)), 0);
}

Test(encls_eblock, needs_no_init)
{
	uint64_t epc;

	fx_fini(&fx);
	fx_init(&fx, 64, 2);
	fx_build_uninit(&fx, 1);
	epc = data_epc(0);
	cr_assert_eq(encls_eblock(fx.lp, epc), 0);
	cr_assert(epcm_of(&fx, epc)->blocked);
}

Test(encls_eblock, e1_blocked_page_cannot_be_filled)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0);
	uint8_t buf[8];

	fx_enter(&fx, a);
	cr_assert_eq(sgx_lp_read(a, lin, buf, sizeof(buf)), 0);
	fx_exit(&fx, a);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(0)), 0);
	cr_assert(epcm_of(&fx, data_epc(0))->blocked);
	fx_enter(&fx, a);
	fx_expect_pf(a, sgx_lp_read(a, lin, buf, sizeof(buf)), lin,
		     X86_PF_SGX | X86_PF_USER | X86_PF_PROT);
	fx_exit(&fx, a);
}

/* EBLOCK touches no TLB: that is why EWB needs ETRACK and an exit. */
Test(encls_eblock, e1_leaves_other_tlbs_alone)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0);
	uint8_t buf[8];

	fx_enter(&fx, a);
	cr_assert_eq(sgx_lp_read(a, lin, buf, sizeof(buf)), 0);
	cr_assert_eq(encls_eblock(fx.lp, data_epc(0)), 0);
	cr_assert_eq(sgx_lp_read(a, lin, buf, sizeof(buf)), 0);
	fx_exit(&fx, a);
}

Test(encls_eblock, e2_stamps_the_secs_epoch)
{
	uint64_t epc = data_epc(0);
	uint64_t epoch = sgx_secs_epoch(&fx.cpu, secs_idx(&fx));

	cr_assert_eq(epcm_of(&fx, epc)->track_stamp, 0);
	cr_assert_eq(encls_eblock(fx.lp, epc), 0);
	cr_assert_eq(epcm_of(&fx, epc)->track_stamp, epoch + 1);
	cr_assert_not(sgx_page_tracked(&fx.cpu, epc_idx(&fx, epc)));
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert(sgx_page_tracked(&fx.cpu, epc_idx(&fx, epc)));
}
