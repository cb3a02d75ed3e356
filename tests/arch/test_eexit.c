// SPDX-License-Identifier: MIT
/*
 * ENCLU[EEXIT] (src/arch/enclu_eexit.c): checks C1..C2 violated (exact
 * fault, nothing changed) and satisfied, and the effects E1..E6.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/internal.h"
#include "fixture.h"

#define OUT_RSP 0x7ffe0000ULL
#define OUT_RBP 0x7ffe0100ULL
#define OUT_RIP 0x401000ULL
#define OUT_FS 0x7f0000001000ULL
#define OUT_GS 0x7f0000002000ULL
#define TARGET 0x402000ULL
#define MY_AEP 0x7ABC000ULL
#define NONCANON 0x0000800000000000ULL
#define HIGH_CANON 0xFFFF800000000000ULL
#define TCS_STATE_ACTIVE 1

static struct fx fx;
static struct sgx_lp *lp;
static uint64_t tcs, tcs_epc, secs_idx;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, 2);
	lp = &fx.cpu.lps[1];
	tcs = fx_tcs_of(&fx, lp);
	tcs_epc = fx_epc_of(&fx, tcs);
	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &secs_idx));
	lp->regs = (struct sgx_regs){ .rsp = OUT_RSP, .rbp = OUT_RBP,
				      .rip = OUT_RIP, .fsbase = OUT_FS,
				      .gsbase = OUT_GS };
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(enclu_eexit, .init = setup, .fini = teardown);

static struct sgx_tcs *tcs_page(void)
{
	return (struct sgx_tcs *)(uintptr_t)tcs_epc;
}

static const struct secs_hidden *hidden(void)
{
	return secs_hidden_at(&fx.cpu, secs_idx);
}

/* Enter with a known AEP, then let the enclave clobber its registers. */
static void enter(void)
{
	cr_assert_eq(enclu_eenter(lp, tcs, MY_AEP), 0);
	lp->regs.rsp = fx.base + 0x5000;
	lp->regs.rbp = fx.base + 0x5100;
	lp->regs.fsbase = fx.base + 0x6000;
	lp->regs.gsbase = fx.base + 0x7000;
}

static void expect_gp_same(uint64_t target)
{
	struct sgx_regs regs = lp->regs;
	bool mode = lp->enclave_mode;
	uint32_t active = hidden()->active_count;
	uint64_t gen = lp->tlb_gen;
	struct fx_snap s;

	fx_snap(&fx, tcs_epc, &s);
	fx_expect_gp(lp, enclu_eexit(lp, target));
	/*
	 * Inside, the #GP was an AEX and fx_expect_gp() ERESUMEd: all is as
	 * it was but the TLB, which the AEX and ERESUME flushed.
	 */
	fx_expect_same(&fx, &s);
	cr_assert_eq(memcmp(&lp->regs, &regs, sizeof(regs)), 0);
	cr_assert_eq(lp->enclave_mode, mode);
	cr_assert_eq(hidden()->active_count, active);
	cr_assert_eq(lp->tlb_gen, gen + (mode ? 2 : 0));
}

Test(enclu_eexit, c1_outside_enclave)
{
	expect_gp_same(TARGET);
	enter();
	cr_assert_eq(enclu_eexit(lp, TARGET), 0);
	expect_gp_same(TARGET);
}

Test(enclu_eexit, c2_target_not_canonical)
{
	enter();
	expect_gp_same(NONCANON);
	cr_assert(lp->enclave_mode);
	cr_assert_eq(tcs_page()->state, TCS_STATE_ACTIVE);
	cr_assert_eq(enclu_eexit(lp, HIGH_CANON), 0);
	cr_assert_eq(lp->regs.rip, HIGH_CANON);
}

Test(enclu_eexit, e1_rip_is_target_and_rcx_is_aep)
{
	enter();
	lp->regs.rbx = TARGET;
	lp->regs.rcx = 0;
	cr_assert_eq(enclu_eexit(lp, TARGET), 0);
	cr_assert_eq(lp->regs.rip, TARGET);
	cr_assert_eq(lp->regs.rcx, MY_AEP);
	cr_assert_eq(lp->regs.rbx, TARGET);
}

Test(enclu_eexit, e2_fs_gs_bases_restored)
{
	enter();
	cr_assert_neq(lp->regs.fsbase, OUT_FS);
	cr_assert_eq(enclu_eexit(lp, TARGET), 0);
	cr_assert_eq(lp->regs.fsbase, OUT_FS);
	cr_assert_eq(lp->regs.gsbase, OUT_GS);
}

/* E3: an OCALL frame below the enclave's RSP stays where it was built. */
Test(enclu_eexit, e3_stack_left_as_the_enclave_set_it)
{
	enter();
	lp->regs.rsp = OUT_RSP - 0x240;
	lp->regs.rbp = 0x1234;
	cr_assert_eq(enclu_eexit(lp, TARGET), 0);
	cr_assert_eq(lp->regs.rsp, OUT_RSP - 0x240);
	cr_assert_eq(lp->regs.rbp, 0x1234);
}

Test(enclu_eexit, e4_tcs_inactive_and_reusable)
{
	static const uint8_t zero[SGX_TCS_RESERVED_SIZE];

	enter();
	cr_assert_eq(enclu_eexit(lp, TARGET), 0);
	cr_assert_eq(tcs_page()->state, 0);
	/* The hidden entry state is gone, so EACCEPT/EADD rules still hold. */
	cr_assert_eq(memcmp(tcs_page()->reserved, zero, sizeof(zero)), 0);
	cr_assert_eq(enclu_eenter(&fx.cpu.lps[0], tcs, FX_AEP), 0);
}

Test(enclu_eexit, e5_leaves_enclave_mode_and_tracking)
{
	uint64_t data = fx_data(&fx, 0), idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx_epc_of(&fx, data), &idx));
	enter();
	cr_assert_eq(fx_emodpr(&fx, data, SGX_SECINFO_R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert_not(sgx_page_tracked(&fx.cpu, idx));
	cr_assert_eq(enclu_eexit(lp, TARGET), 0);
	cr_assert_not(lp->enclave_mode);
	cr_assert_eq(hidden()->active_count, 0);
	cr_assert_eq(hidden()->prev_active, 0);
	cr_assert(sgx_page_tracked(&fx.cpu, idx));
}

Test(enclu_eexit, e6_tlb_flushed)
{
	uint8_t byte;
	uint64_t flushes, gen;

	enter();
	cr_assert_eq(sgx_lp_read(lp, fx_data(&fx, 0), &byte, 1), 0);
	flushes = fx.cpu.stats.tlb_flush;
	gen = lp->tlb_gen;
	cr_assert_eq(enclu_eexit(lp, TARGET), 0);
	cr_assert_eq(lp->tlb_gen, gen + 1);
	cr_assert_eq(fx.cpu.stats.tlb_flush, flushes + 1);
	for (unsigned int i = 0; i < SGX_TLB_ENTRIES; i++)
		cr_assert_neq(lp->tlb[i].gen, lp->tlb_gen);
}
