// SPDX-License-Identifier: MIT
/*
 * The asynchronous enclave exit (src/arch/aex.c): the state saved to the
 * SSA (S1-S4), EXITINFO and EXINFO for each kind of event, the synthetic
 * state the OS sees (S5), the exit itself (S6) and the #PF address the OS
 * is given (S7).
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
#define GPR_OFF (PAGE_SIZE - sizeof(struct sgx_gprsgx))
#define EFLAGS_CF 0x1ULL
#define EFLAGS_ZF 0x40ULL
#define EFLAGS_TF 0x100ULL
#define EFLAGS_IF 0x200ULL
#define EFLAGS_DF 0x400ULL
#define EFLAGS_OF 0x800ULL
#define EFLAGS_RF 0x10000ULL
#define EXIT_HW(v) (SGX_EXITINFO_VALID | 3U << 8 | (v))
#define FAULT_ADDR 0x40005123ULL

static struct fx fx;
static struct sgx_lp *lp;
static uint64_t tcs, tcs_epc, ssa_epc[FX_NSSA], secs_idx;

static void build(uint32_t miscselect)
{
	fx_init(&fx, 64, 2);
	fx.miscselect = miscselect;
	fx_build(&fx, 2);
	lp = &fx.cpu.lps[1];
	tcs = fx_tcs_of(&fx, lp);
	tcs_epc = fx_epc_of(&fx, tcs);
	for (unsigned int i = 0; i < FX_NSSA; i++)
		ssa_epc[i] = fx_epc_of(&fx, tcs + (1 + i) * PAGE_SIZE);
	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &secs_idx));
	lp->regs = (struct sgx_regs){ .rsp = OUT_RSP, .rbp = OUT_RBP,
				      .rip = OUT_RIP, .fsbase = OUT_FS,
				      .gsbase = OUT_GS, .rflags = 0x202 };
}

static void setup(void)
{
	build(0);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(sgx_aex, .init = setup, .fini = teardown);

/* Start over with SECS.MISCSELECT.EXINFO set. */
static void rebuild_with_exinfo(void)
{
	fx_fini(&fx);
	build(SGX_MISC_EXINFO);
}

static struct sgx_tcs *tcs_page(void)
{
	return (struct sgx_tcs *)(uintptr_t)tcs_epc;
}

static struct sgx_gprsgx *gpr(unsigned int frame)
{
	return (struct sgx_gprsgx *)(uintptr_t)(ssa_epc[frame] + GPR_OFF);
}

static struct sgx_exinfo *exinfo(unsigned int frame)
{
	return (struct sgx_exinfo *)gpr(frame) - 1;
}

/* Enter and give every register a distinct enclave value. */
static struct sgx_regs enter(void)
{
	uint64_t *r = &lp->regs.rax;

	fx_enter(&fx, lp);
	for (unsigned int i = 0; i < 16; i++)
		if (&r[i] != &lp->regs.rsp && &r[i] != &lp->regs.rbp)
			r[i] = 0xE000 + i;
	lp->regs.rsp = fx.base + 0x5F00;
	lp->regs.rbp = fx.base + 0x5F80;
	lp->regs.rip = fx.base + FX_DATA_OFF + 0x10;
	lp->regs.rflags = 0x202 | EFLAGS_CF | EFLAGS_ZF | EFLAGS_OF |
			  EFLAGS_DF | EFLAGS_TF | EFLAGS_RF;
	lp->regs.fsbase = fx.base + 0x6000;
	lp->regs.gsbase = fx.base + 0x7000;
	return lp->regs;
}

static struct sgx_exception fault(uint8_t vector, uint32_t ec, uint64_t addr)
{
	return (struct sgx_exception){ .vector = vector, .error_code = ec,
				       .addr = addr };
}

Test(sgx_aex, s1_saves_gprs_rip_rflags_fs_gs)
{
	struct sgx_regs in = enter();
	const struct sgx_gprsgx *g = gpr(0);

	sgx_aex(lp, NULL);
	cr_assert_eq(g->rax, in.rax);
	cr_assert_eq(g->rbx, in.rbx);
	cr_assert_eq(g->rcx, in.rcx);
	cr_assert_eq(g->rdx, in.rdx);
	cr_assert_eq(g->rsp, in.rsp);
	cr_assert_eq(g->rbp, in.rbp);
	cr_assert_eq(g->rsi, in.rsi);
	cr_assert_eq(g->rdi, in.rdi);
	cr_assert_eq(g->r8, in.r8);
	cr_assert_eq(g->r15, in.r15);
	cr_assert_eq(g->rip, in.rip);
	cr_assert_eq(g->fsbase, in.fsbase);
	cr_assert_eq(g->gsbase, in.gsbase);
	/* TF is never saved; everything else is. */
	cr_assert_eq(g->rflags, in.rflags & ~EFLAGS_TF);
	/* URSP/URBP stay what EENTER wrote. */
	cr_assert_eq(g->ursp, OUT_RSP);
	cr_assert_eq(g->urbp, OUT_RBP);
}

Test(sgx_aex, s2_exitinfo_zero_for_interrupt)
{
	enter();
	gpr(0)->exitinfo = 0xFFFFFFFF;
	sgx_aex(lp, NULL);
	cr_assert_eq(gpr(0)->exitinfo, 0);
}

Test(sgx_aex, s2_exitinfo_reported_exceptions)
{
	static const uint8_t vectors[] = { 0, 1, 5, 6, 16, 17, 19 };

	for (unsigned int i = 0; i < sizeof(vectors); i++) {
		struct sgx_exception e = fault(vectors[i], 0, 0);

		enter();
		sgx_aex(lp, &e);
		cr_assert_eq(gpr(0)->exitinfo, EXIT_HW(vectors[i]),
			     "vector %u", vectors[i]);
		tcs_page()->ssa_index = 0;
	}
}

Test(sgx_aex, s2_exitinfo_breakpoint_is_software)
{
	struct sgx_exception e = fault(3, 0, 0);

	enter();
	sgx_aex(lp, &e);
	cr_assert_eq(gpr(0)->exitinfo, SGX_EXITINFO_VALID | 6U << 8 | 3);
}

Test(sgx_aex, s2_exitinfo_unreported_exception)
{
	struct sgx_exception e = fault(X86_TRAP_PF, 0x8005, FAULT_ADDR);

	enter();
	gpr(0)->exitinfo = 0xFFFFFFFF;
	memset(exinfo(0), 0xAA, sizeof(struct sgx_exinfo));
	sgx_aex(lp, &e);
	/* Without MISCSELECT.EXINFO, #PF and #GP are not reported. */
	cr_assert_eq(gpr(0)->exitinfo, 0);
	cr_assert_eq(exinfo(0)->maddr, 0xAAAAAAAAAAAAAAAAULL);
	e = fault(2, 0, 0); /* NMI: never reported */
	tcs_page()->ssa_index = 0;
	enter();
	sgx_aex(lp, &e);
	cr_assert_eq(gpr(0)->exitinfo, 0);
}

Test(sgx_aex, s3_exinfo_for_page_fault)
{
	struct sgx_exception e;

	rebuild_with_exinfo();
	e = fault(X86_TRAP_PF, X86_PF_SGX | X86_PF_PROT | X86_PF_WRITE,
		  FAULT_ADDR);
	enter();
	memset(exinfo(0), 0xAA, sizeof(struct sgx_exinfo));
	sgx_aex(lp, &e);
	cr_assert_eq(gpr(0)->exitinfo, EXIT_HW(X86_TRAP_PF));
	cr_assert_eq(exinfo(0)->maddr, FAULT_ADDR);
	cr_assert_eq(exinfo(0)->errcd, X86_PF_SGX | X86_PF_PROT |
					       X86_PF_WRITE | X86_PF_USER);
	cr_assert_eq(exinfo(0)->reserved, 0);
}

Test(sgx_aex, s3_exinfo_for_general_protection)
{
	struct sgx_exception e;

	rebuild_with_exinfo();
	e = fault(X86_TRAP_GP, 0x18, FAULT_ADDR);
	enter();
	memset(exinfo(0), 0xAA, sizeof(struct sgx_exinfo));
	sgx_aex(lp, &e);
	cr_assert_eq(gpr(0)->exitinfo, EXIT_HW(X86_TRAP_GP));
	cr_assert_eq(exinfo(0)->maddr, 0);
	cr_assert_eq(exinfo(0)->errcd, 0x18);
}

Test(sgx_aex, s3_no_exinfo_for_other_events)
{
	struct sgx_exception e;

	rebuild_with_exinfo();
	e = fault(X86_TRAP_UD, 0, 0);
	enter();
	memset(exinfo(0), 0xAA, sizeof(struct sgx_exinfo));
	sgx_aex(lp, &e);
	cr_assert_eq(gpr(0)->exitinfo, EXIT_HW(X86_TRAP_UD));
	cr_assert_eq(exinfo(0)->maddr, 0xAAAAAAAAAAAAAAAAULL);
	tcs_page()->ssa_index = 0;
	enter();
	sgx_aex(lp, NULL);
	cr_assert_eq(exinfo(0)->maddr, 0xAAAAAAAAAAAAAAAAULL);
}

Test(sgx_aex, s4_cssa_counts_frames)
{
	struct sgx_regs first = enter();

	sgx_aex(lp, NULL);
	cr_assert_eq(tcs_page()->ssa_index, 1);
	/* The exception handler entry uses frame 1 and leaves frame 0. */
	enter();
	lp->regs.rip = fx.base + FX_DATA_OFF + 0x80;
	sgx_aex(lp, NULL);
	cr_assert_eq(tcs_page()->ssa_index, 2);
	cr_assert_eq(gpr(1)->rip, fx.base + FX_DATA_OFF + 0x80);
	cr_assert_eq(gpr(0)->rip, first.rip);
}

Test(sgx_aex, s5_synthetic_state)
{
	struct sgx_regs in = enter();

	cr_assert_eq(enclu_eexit(lp, OUT_RIP), 0);
	cr_assert_eq(enclu_eenter(lp, tcs, 0x7ABC000), 0);
	lp->regs = in;
	sgx_aex(lp, NULL);
	cr_assert_eq(lp->regs.rax, ERESUME);
	cr_assert_eq(lp->regs.rbx, tcs);
	cr_assert_eq(lp->regs.rcx, 0x7ABC000);
	cr_assert_eq(lp->regs.rip, 0x7ABC000);
	cr_assert_eq(lp->regs.rdx | lp->regs.rsi | lp->regs.rdi, 0);
	cr_assert_eq(lp->regs.r8 | lp->regs.r9 | lp->regs.r10 |
			     lp->regs.r11 | lp->regs.r12 | lp->regs.r13 |
			     lp->regs.r14 | lp->regs.r15,
		     0);
	/* CF, ZF, OF and RF cleared; DF, TF and IF left as they were. */
	cr_assert_eq(lp->regs.rflags, 0x202 | EFLAGS_DF | EFLAGS_TF);
}

Test(sgx_aex, s6_exit_restores_outside)
{
	uint64_t gen, flushes;

	enter();
	gen = lp->tlb_gen;
	flushes = fx.cpu.stats.tlb_flush;
	sgx_aex(lp, NULL);
	cr_assert_eq(lp->regs.rsp, OUT_RSP);
	cr_assert_eq(lp->regs.rbp, OUT_RBP);
	cr_assert_eq(lp->regs.fsbase, OUT_FS);
	cr_assert_eq(lp->regs.gsbase, OUT_GS);
	cr_assert_eq(tcs_page()->state, 0);
	cr_assert_not(lp->enclave_mode);
	cr_assert_eq(secs_hidden_at(&fx.cpu, secs_idx)->active_count, 0);
	cr_assert_eq(lp->tlb_gen, gen + 1);
	cr_assert_eq(fx.cpu.stats.tlb_flush, flushes + 1);
}

Test(sgx_aex, s6_thread_resumes)
{
	struct sgx_regs in = enter();

	sgx_aex(lp, NULL);
	cr_assert_eq(enclu_eresume(lp, lp->regs.rbx, lp->regs.rcx), 0);
	cr_assert_eq(lp->regs.rip, in.rip);
	cr_assert_eq(lp->regs.r15, in.r15);
	cr_assert_eq(tcs_page()->ssa_index, 0);
}

Test(sgx_aex, s7_os_sees_page_aligned_address)
{
	struct sgx_exception e = fault(X86_TRAP_PF, 0x8007, FAULT_ADDR);

	enter();
	sgx_aex(lp, &e);
	cr_assert_eq(lp->exc.vector, X86_TRAP_PF);
	cr_assert_eq(lp->exc.addr, FAULT_ADDR & ~0xFFFULL);
	cr_assert_eq(lp->exc.error_code, 0x8007);
}

Test(sgx_aex, s7_other_exceptions_passed_on)
{
	struct sgx_exception e = fault(X86_TRAP_GP, 0x18, FAULT_ADDR);

	enter();
	sgx_aex(lp, &e);
	cr_assert_eq(lp->exc.vector, X86_TRAP_GP);
	cr_assert_eq(lp->exc.error_code, 0x18);
	cr_assert_eq(lp->exc.addr, FAULT_ADDR);
}

Test(sgx_aex, counted)
{
	uint64_t before = fx.cpu.stats.aex;

	enter();
	sgx_aex(lp, NULL);
	cr_assert_eq(fx.cpu.stats.aex, before + 1);
}
