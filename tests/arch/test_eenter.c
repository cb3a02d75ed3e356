// SPDX-License-Identifier: MIT
/*
 * ENCLU[EENTER] and ENCLU[ERESUME] (src/arch/enclu_eenter.c): each check
 * C1..C23 violated (exact fault, nothing changed) and satisfied (the leaf
 * gets past it), for both leaves where they share the check, and the
 * effects E1..E6.
 *
 * The LP under test is LP 1 on its own TCS (fx_tcs_of). For ERESUME it is
 * first entered and interrupted once, so CSSA = 1 and SSA frame 0 holds
 * its state; both leaves then use frame 0.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/internal.h"
#include "fixture.h"
#include "key_util.h"

#define NR_DATA 2
#define OUT_RSP 0x7ffe0000ULL
#define OUT_RBP 0x7ffe0100ULL
#define OUT_RIP 0x401000ULL
#define OUT_FS 0x7f0000001000ULL
#define OUT_GS 0x7f0000002000ULL
#define OUT_RFLAGS 0x202ULL
#define NONCANON 0x0000800000000000ULL
#define HIGH_CANON 0xFFFF800000000000ULL
#define GPR_OFF (PAGE_SIZE - sizeof(struct sgx_gprsgx))
#define PF_ENCLU (X86_PF_SGX | X86_PF_USER | X86_PF_PROT)
#define PF_ENCLU_W (PF_ENCLU | X86_PF_WRITE)
#define PTE_RW (SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX)
#define EFLAGS_CF 0x1ULL
#define EFLAGS_TF 0x100ULL
#define EFLAGS_DF 0x400ULL

static struct fx fx;
static struct sgx_lp *lp;
static uint64_t tcs, tcs_epc, ssa_epc[FX_NSSA];
static uint8_t plain[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void set_outside_regs(struct sgx_lp *l)
{
	l->regs = (struct sgx_regs){ .rsp = OUT_RSP, .rbp = OUT_RBP,
				     .rip = OUT_RIP, .rflags = OUT_RFLAGS,
				     .fsbase = OUT_FS, .gsbase = OUT_GS };
}

static uint64_t ssa(unsigned int i)
{
	return tcs + (1 + i) * PAGE_SIZE;
}

static void setup(void)
{
	fx_init(&fx, 64, 3);
	fx_build(&fx, NR_DATA);
	lp = &fx.cpu.lps[1];
	tcs = fx_tcs_of(&fx, lp);
	tcs_epc = fx_epc_of(&fx, tcs);
	for (unsigned int i = 0; i < FX_NSSA; i++)
		ssa_epc[i] = fx_epc_of(&fx, ssa(i));
	set_outside_regs(lp);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(enclu_eenter, .init = setup, .fini = teardown);
TestSuite(enclu_eresume, .init = setup, .fini = teardown);

static struct sgx_tcs *tcs_page(void)
{
	return (struct sgx_tcs *)(uintptr_t)tcs_epc;
}

static struct sgx_secs *secs_page(void)
{
	return (struct sgx_secs *)(uintptr_t)fx.secs;
}

static uint64_t idx_of(uint64_t epc)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, epc, &idx));
	return idx;
}

static struct sgx_gprsgx *gpr_in(uint64_t epc)
{
	return (struct sgx_gprsgx *)(uintptr_t)(epc + GPR_OFF);
}

static int run_at(bool resume, uint64_t t, uint64_t aep)
{
	return resume ? enclu_eresume(lp, t, aep) : enclu_eenter(lp, t, aep);
}

static int run(bool resume)
{
	return run_at(resume, tcs, FX_AEP);
}

/* ERESUME needs an interrupted thread: CSSA = 1, frame 0 saved. */
static void prepare(bool resume)
{
	if (!resume)
		return;
	fx_enter(&fx, lp);
	sgx_aex(lp, NULL);
	cr_assert_eq(tcs_page()->ssa_index, 1);
}

/* Undo a successful run: back to the state prepare() left. */
static void leave(bool resume)
{
	if (resume)
		sgx_aex(lp, NULL);
	else
		fx_exit(&fx, lp);
}

/* The state a failing entry must not touch. */
static struct {
	struct fx_snap tcs, ssa[FX_NSSA];
	struct sgx_regs regs;
	bool mode;
	uint32_t active;
} snap;

static uint32_t active_count(void)
{
	return secs_hidden_at(&fx.cpu, idx_of(fx.secs))->active_count;
}

static void take(void)
{
	fx_snap(&fx, tcs_epc, &snap.tcs);
	for (unsigned int i = 0; i < FX_NSSA; i++)
		fx_snap(&fx, ssa_epc[i], &snap.ssa[i]);
	snap.regs = lp->regs;
	snap.mode = lp->enclave_mode;
	snap.active = active_count();
}

static void expect_same(void)
{
	fx_expect_same(&fx, &snap.tcs);
	for (unsigned int i = 0; i < FX_NSSA; i++)
		fx_expect_same(&fx, &snap.ssa[i]);
	cr_assert_eq(memcmp(&lp->regs, &snap.regs, sizeof(snap.regs)), 0,
		     "registers changed");
	cr_assert_eq(lp->enclave_mode, snap.mode);
	cr_assert_eq(active_count(), snap.active);
}

static void expect_gp_same_at(bool resume, uint64_t t, uint64_t aep)
{
	take();
	fx_expect_gp(lp, run_at(resume, t, aep));
	expect_same();
}

static void expect_gp_same(bool resume)
{
	expect_gp_same_at(resume, tcs, FX_AEP);
}

static void expect_pf_same_at(bool resume, uint64_t t, uint64_t addr,
			      uint32_t ec)
{
	take();
	fx_expect_pf(lp, run_at(resume, t, FX_AEP), addr, ec);
	expect_same();
}

static void expect_pf_same(bool resume, uint64_t addr, uint32_t ec)
{
	expect_pf_same_at(resume, tcs, addr, ec);
}

/* Pass the satisfied direction first, then come back for the violation. */
static void pass_once(bool resume)
{
	cr_assert_eq(run(resume), 0);
	leave(resume);
}

/* One test per leaf for the checks EENTER and ERESUME share. */
#define BOTH(name)                                                        \
	static void name(bool resume);                                    \
	Test(enclu_eenter, name)                                          \
	{                                                                 \
		name(false);                                              \
	}                                                                 \
	Test(enclu_eresume, name)                                         \
	{                                                                 \
		name(true);                                               \
	}                                                                 \
	static void name(bool resume)

BOTH(c1_in_enclave_mode)
{
	struct sgx_lp *other = &fx.cpu.lps[2];
	uint64_t tcs2 = fx_tcs_of(&fx, other);
	struct fx_snap s2;

	prepare(resume);
	if (resume) { /* a second thread, interrupted, ready to resume */
		fx_enter(&fx, other);
		sgx_aex(other, NULL);
	}
	cr_assert_eq(run(resume), 0);
	cr_assert(lp->enclave_mode);
	/*
	 * Even a free TCS cannot be entered from inside an enclave. The #GP
	 * is an AEX (its frame is written), then fx_expect_gp() ERESUMEs:
	 * the TCS, the registers and the mode are as they were.
	 */
	fx_snap(&fx, fx_epc_of(&fx, tcs2), &s2);
	take();
	fx_expect_gp(lp, run_at(resume, tcs2, FX_AEP));
	fx_expect_same(&fx, &snap.tcs);
	cr_assert_eq(memcmp(&lp->regs, &snap.regs, sizeof(snap.regs)), 0);
	cr_assert(lp->enclave_mode);
	fx_expect_same(&fx, &s2);
	leave(resume);
	cr_assert_eq(run_at(resume, tcs2, FX_AEP), 0);
}

BOTH(c2_tcs_unaligned)
{
	prepare(resume);
	expect_gp_same_at(resume, tcs + 0x800, FX_AEP);
	cr_assert_eq(run(resume), 0);
}

BOTH(c3_tcs_unmapped)
{
	prepare(resume);
	cr_assert(sgx_pgtable_unmap(&fx.pt, tcs));
	expect_pf_same(resume, tcs, X86_PF_USER);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, tcs, tcs_epc, PTE_RW), 0);
	cr_assert_eq(run(resume), 0);
}

BOTH(c3_tcs_not_in_epc)
{
	prepare(resume);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, tcs, (uintptr_t)plain, PTE_RW), 0);
	expect_pf_same(resume, tcs, X86_PF_SGX | X86_PF_USER | X86_PF_PROT);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, tcs, tcs_epc, PTE_RW), 0);
	cr_assert_eq(run(resume), 0);
}

BOTH(c4_aep_not_canonical)
{
	prepare(resume);
	expect_gp_same_at(resume, tcs, NONCANON);
	expect_gp_same_at(resume, tcs, HIGH_CANON - PAGE_SIZE);
	cr_assert_eq(run_at(resume, tcs, HIGH_CANON), 0);
	cr_assert_eq(tcs_page()->exit_addr, HIGH_CANON);
}

BOTH(c5_tcs_invalid)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(encls_eremove(fx.lp, tcs_epc), 0);
	expect_pf_same(resume, tcs, PF_ENCLU);
}

BOTH(c6_tcs_blocked)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(encls_eblock(fx.lp, tcs_epc), 0);
	expect_pf_same(resume, tcs, PF_ENCLU);
}

BOTH(c7_tcs_address_mismatch)
{
	uint64_t alias = fx.base + 0x80000;

	prepare(resume);
	pass_once(resume);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, alias, tcs_epc, PTE_RW), 0);
	expect_pf_same_at(resume, alias, alias, PF_ENCLU);
}

BOTH(c7_not_a_tcs)
{
	uint64_t data = fx_data(&fx, 0);

	prepare(resume);
	pass_once(resume);
	expect_pf_same_at(resume, data, data, PF_ENCLU);
}

BOTH(c8_tcs_modified)
{
	uint64_t data = fx_data(&fx, 1);
	uint64_t idx = idx_of(fx_epc_of(&fx, data));

	prepare(resume);
	cr_assert_eq(fx_emodt(&fx, data, PT_TCS), 0);
	expect_pf_same_at(resume, data, data, PF_ENCLU);
	/* Accepted (MODIFIED = 0), it gets to C14: this page has NSSA = 0. */
	fx.cpu.epcm[idx].modified = 0;
	fx_expect_gp(lp, run_at(resume, data, FX_AEP));
}

BOTH(c9_ossa_unaligned)
{
	prepare(resume);
	pass_once(resume);
	tcs_page()->ssa_offset += 0x800;
	expect_gp_same(resume);
}

BOTH(c10_ofsbase_unaligned)
{
	prepare(resume);
	tcs_page()->fs_offset = PAGE_SIZE;
	pass_once(resume);
	tcs_page()->fs_offset = 0x10;
	expect_gp_same(resume);
}

BOTH(c10_ogsbase_unaligned)
{
	prepare(resume);
	tcs_page()->gs_offset = PAGE_SIZE;
	pass_once(resume);
	tcs_page()->gs_offset = 0x10;
	expect_gp_same(resume);
}

BOTH(c11_reserved_tcs_flags)
{
	prepare(resume);
	tcs_page()->flags = SGX_TCS_DBGOPTIN;
	pass_once(resume);
	tcs_page()->flags = 0x2;
	expect_gp_same(resume);
}

BOTH(c12_not_initialized)
{
	prepare(resume);
	pass_once(resume);
	secs_page()->attributes &= ~SGX_ATTR_INIT;
	expect_gp_same(resume);
}

Test(enclu_eenter, c12_never_einited)
{
	fx_fini(&fx);
	fx_init(&fx, 64, 3);
	fx_build_uninit(&fx, NR_DATA);
	lp = &fx.cpu.lps[1];
	set_outside_regs(lp);
	fx_expect_gp(lp, enclu_eenter(lp, fx_tcs_of(&fx, lp), FX_AEP));
	cr_assert_not(lp->enclave_mode);
	cr_assert_eq(lp->regs.rip, OUT_RIP);
}

BOTH(c13_not_64bit)
{
	prepare(resume);
	pass_once(resume);
	secs_page()->attributes &= ~SGX_ATTR_MODE64BIT;
	expect_gp_same(resume);
}

Test(enclu_eenter, c14_no_free_frame)
{
	tcs_page()->ssa_index = FX_NSSA;
	expect_gp_same(false);
	tcs_page()->ssa_index = FX_NSSA - 1;
	cr_assert_eq(run(false), 0);
	cr_assert_eq(lp->regs.rax, FX_NSSA - 1);
}

Test(enclu_eresume, c14_no_saved_frame)
{
	expect_gp_same(true);
	prepare(true);
	cr_assert_eq(run(true), 0);
	cr_assert_eq(tcs_page()->ssa_index, 0);
}

BOTH(c15_ssa_unmapped)
{
	prepare(resume);
	pass_once(resume);
	cr_assert(sgx_pgtable_unmap(&fx.pt, ssa(0)));
	expect_pf_same(resume, ssa(0), X86_PF_USER | X86_PF_WRITE);
}

BOTH(c15_ssa_pte_read_only)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, ssa(0), ssa_epc[0],
				     SGX_PTE_PRESENT | SGX_PTE_NX), 0);
	expect_pf_same(resume, ssa(0),
		       X86_PF_USER | X86_PF_PROT | X86_PF_WRITE);
}

BOTH(c15_ssa_not_in_epc)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, ssa(0), (uintptr_t)plain, PTE_RW),
		     0);
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

BOTH(c16_ssa_blocked)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(encls_eblock(fx.lp, ssa_epc[0]), 0);
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

BOTH(c16_ssa_invalid)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(encls_eremove(fx.lp, ssa_epc[0]), 0);
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

BOTH(c16_ssa_modified)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(fx_emodt(&fx, ssa(0), PT_TRIM), 0);
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

Test(enclu_eenter, c16_ssa_pending)
{
	uint64_t page = fx.base + 0x80000;

	fx_eaug(&fx, page);
	pass_once(false);
	tcs_page()->ssa_offset = page - fx.base;
	expect_pf_same(false, page, PF_ENCLU_W);
}

BOTH(c17_ssa_not_writable)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(fx_emodpr(&fx, ssa(0), SGX_SECINFO_R), 0);
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

BOTH(c17_ssa_address_mismatch)
{
	prepare(resume);
	pass_once(resume);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, ssa(0),
				     fx_epc_of(&fx, fx_data(&fx, 0)), PTE_RW),
		     0);
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

BOTH(c17_ssa_other_enclave)
{
	struct enclave2 b;
	uint64_t page;

	build_enclave2(&fx, &b, 0xB2);
	page = fx_epc_of(&fx, scratch_of(b.base));
	prepare(resume);
	pass_once(resume);
	/* B's page, claiming A's SSA address: only the owner is wrong. */
	fx.cpu.epcm[idx_of(page)].enclave_address = ssa(0);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, ssa(0), page, PTE_RW), 0);
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

BOTH(c17_ssa_not_readable)
{
	uint64_t idx = idx_of(ssa_epc[0]);

	prepare(resume);
	pass_once(resume);
	/* W without R cannot arise from any leaf; forced, for this check. */
	fx.cpu.epcm[idx].r = 0;
	expect_pf_same(resume, ssa(0), PF_ENCLU_W);
}

BOTH(c17_ssa_not_a_reg_page)
{
	uint64_t tcs2 = fx_tcs_of(&fx, &fx.cpu.lps[2]);
	uint64_t idx = idx_of(fx_epc_of(&fx, tcs2));

	prepare(resume);
	pass_once(resume);
	/* A TCS with R/W forced on, so only its type is wrong. */
	fx.cpu.epcm[idx].r = 1;
	fx.cpu.epcm[idx].w = 1;
	tcs_page()->ssa_offset = tcs2 - fx.base;
	expect_pf_same(resume, tcs2, PF_ENCLU_W);
}

/*
 * C18-C20 need the GPRSGX area on another page than the frame's first:
 * SSAFRAMESIZE = 2 makes frame 0 = SSA pages 0 and 1, GPRSGX at the end
 * of page 1.
 */
static uint64_t two_page_frame(bool resume)
{
	secs_page()->ssa_frame_size = 2;
	prepare(resume);
	pass_once(resume);
	return ssa(1) + GPR_OFF;
}

BOTH(c18_gpr_page_unmapped)
{
	uint64_t gpr = two_page_frame(resume);

	cr_assert(sgx_pgtable_unmap(&fx.pt, ssa(1)));
	expect_pf_same(resume, gpr, X86_PF_USER | X86_PF_WRITE);
}

BOTH(c19_gpr_page_blocked)
{
	uint64_t gpr = two_page_frame(resume);

	cr_assert_eq(encls_eblock(fx.lp, ssa_epc[1]), 0);
	expect_pf_same(resume, gpr, PF_ENCLU_W);
}

BOTH(c20_gpr_page_not_writable)
{
	uint64_t gpr = two_page_frame(resume);

	cr_assert_eq(fx_emodpr(&fx, ssa(1), SGX_SECINFO_R), 0);
	expect_pf_same(resume, gpr, PF_ENCLU_W);
}

Test(enclu_eenter, c21_target_not_canonical)
{
	pass_once(false);
	tcs_page()->entry_offset = NONCANON - fx.base;
	expect_gp_same(false);
}

Test(enclu_eresume, c21_target_not_canonical)
{
	prepare(true);
	pass_once(true);
	gpr_in(ssa_epc[0])->rip = NONCANON;
	expect_gp_same(true);
}

Test(enclu_eenter, c22_fsbase_not_canonical)
{
	pass_once(false);
	tcs_page()->fs_offset = NONCANON - fx.base;
	expect_gp_same(false);
}

Test(enclu_eenter, c22_gsbase_not_canonical)
{
	pass_once(false);
	tcs_page()->gs_offset = NONCANON - fx.base;
	expect_gp_same(false);
}

Test(enclu_eresume, c22_fsbase_not_canonical)
{
	prepare(true);
	pass_once(true);
	gpr_in(ssa_epc[0])->fsbase = NONCANON;
	expect_gp_same(true);
}

Test(enclu_eresume, c22_gsbase_not_canonical)
{
	prepare(true);
	pass_once(true);
	gpr_in(ssa_epc[0])->gsbase = NONCANON;
	expect_gp_same(true);
}

/* Another LP on a TCS that lp is running on. */
static void expect_tcs_busy(bool resume)
{
	struct sgx_lp *other = &fx.cpu.lps[2];
	struct fx_snap t;
	uint32_t active = active_count();

	set_outside_regs(other);
	fx_snap(&fx, tcs_epc, &t);
	fx_expect_gp(other, resume ? enclu_eresume(other, tcs, FX_AEP) :
				     enclu_eenter(other, tcs, FX_AEP));
	fx_expect_same(&fx, &t);
	cr_assert_not(other->enclave_mode);
	cr_assert_eq(other->regs.rip, OUT_RIP);
	cr_assert_eq(active_count(), active);
}

Test(enclu_eenter, c23_tcs_active)
{
	fx_enter(&fx, lp);
	expect_tcs_busy(false);
	fx_exit(&fx, lp);
	cr_assert_eq(enclu_eenter(&fx.cpu.lps[2], tcs, FX_AEP), 0);
}

Test(enclu_eresume, c23_tcs_active)
{
	prepare(true);
	fx_enter(&fx, lp); /* nested entry on frame 1 while frame 0 waits */
	expect_tcs_busy(true);
	sgx_aex(lp, NULL);
	tcs_page()->ssa_index = 1;
	cr_assert_eq(enclu_eresume(&fx.cpu.lps[2], tcs, FX_AEP), 0);
}

BOTH(e1_tcs_active_with_aep)
{
	prepare(resume);
	cr_assert_eq(tcs_page()->state, 0);
	cr_assert_eq(run_at(resume, tcs, 0x7ABC000), 0);
	cr_assert_eq(tcs_page()->state, 1);
	cr_assert_eq(tcs_page()->exit_addr, 0x7ABC000);
}

BOTH(e2_gpr_page_cached_for_aex)
{
	uint64_t rip = fx.base + FX_DATA_OFF + 0x123;

	prepare(resume);
	cr_assert_eq(run(resume), 0);
	/* The OS zaps the SSA PTE; AEX still saves through CR_GPR_PA. */
	cr_assert(sgx_pgtable_unmap(&fx.pt, ssa(0)));
	lp->regs.rip = rip;
	sgx_aex(lp, NULL);
	cr_assert_eq(gpr_in(ssa_epc[0])->rip, rip);
}

BOTH(e2_outside_fs_gs_kept)
{
	prepare(resume);
	set_outside_regs(lp);
	cr_assert_eq(run(resume), 0);
	lp->regs.fsbase = fx.base;
	lp->regs.gsbase = fx.base;
	fx_exit(&fx, lp);
	cr_assert_eq(lp->regs.fsbase, OUT_FS);
	cr_assert_eq(lp->regs.gsbase, OUT_GS);
}

BOTH(e3_lp_control_registers)
{
	prepare(resume);
	set_outside_regs(lp);
	lp->regs.rsp = OUT_RSP - 0x100;
	cr_assert_eq(run(resume), 0);
	cr_assert(lp->enclave_mode);
	cr_assert_eq(lp->active_secs, idx_of(fx.secs));
	cr_assert_eq(lp->tcs, idx_of(tcs_epc));
	cr_assert_eq(lp->tcs_lin, tcs);
	cr_assert_eq(lp->elrange_base, fx.base);
	cr_assert_eq(lp->elrange_size, fx.size);
	cr_assert_eq(lp->save_rsp, OUT_RSP - 0x100);
	cr_assert_eq(lp->save_rbp, OUT_RBP);
}

Test(enclu_eenter, e4_registers)
{
	tcs_page()->fs_offset = 0x2000;
	tcs_page()->gs_offset = 0x3000;
	cr_assert_eq(run(false), 0);
	cr_assert_eq(lp->regs.rax, 0);
	cr_assert_eq(lp->regs.rcx, OUT_RIP + 3);
	cr_assert_eq(lp->regs.rip, fx.base + FX_DATA_OFF);
	cr_assert_eq(lp->regs.fsbase, fx.base + 0x2000);
	cr_assert_eq(lp->regs.gsbase, fx.base + 0x3000);
	cr_assert_eq(lp->regs.rsp, OUT_RSP);
	cr_assert_eq(lp->regs.rbp, OUT_RBP);
	cr_assert_eq(gpr_in(ssa_epc[0])->ursp, OUT_RSP);
	cr_assert_eq(gpr_in(ssa_epc[0])->urbp, OUT_RBP);
}

Test(enclu_eenter, e4_rax_is_cssa_and_frame_follows)
{
	tcs_page()->ssa_index = 1;
	cr_assert_eq(run(false), 0);
	cr_assert_eq(lp->regs.rax, 1);
	cr_assert_eq(gpr_in(ssa_epc[1])->ursp, OUT_RSP);
	cr_assert_eq(gpr_in(ssa_epc[0])->ursp, 0);
	cr_assert_eq(tcs_page()->ssa_index, 1);
}

Test(enclu_eresume, e5_restores_saved_state)
{
	struct sgx_regs in = { 0 };
	uint64_t *r = &in.rax;

	fx_enter(&fx, lp);
	for (unsigned int i = 0; i < 16; i++)
		r[i] = 0x1000 + i;
	in.rip = fx.base + FX_DATA_OFF + 0x40;
	in.rflags = 0x2 | EFLAGS_CF | EFLAGS_DF | EFLAGS_TF; /* IF clear */
	in.fsbase = fx.base + 0x5000;
	in.gsbase = fx.base + 0x6000;
	lp->regs = in;
	sgx_aex(lp, NULL);
	lp->regs.rflags = OUT_RFLAGS; /* as the OS's IRET to the AEP left it */
	cr_assert_eq(run(true), 0);
	cr_assert_eq(memcmp(&lp->regs, &in, offsetof(struct sgx_regs, rip)),
		     0, "GPRs not restored");
	cr_assert_eq(lp->regs.rip, in.rip);
	cr_assert_eq(lp->regs.fsbase, in.fsbase);
	cr_assert_eq(lp->regs.gsbase, in.gsbase);
	/* CF/DF come from the SSA, TF was not saved, IF stays the OS's. */
	cr_assert_eq(lp->regs.rflags, OUT_RFLAGS | EFLAGS_CF | EFLAGS_DF);
	cr_assert_eq(tcs_page()->ssa_index, 0);
}

BOTH(e6_tracking_and_tlb_flush)
{
	uint64_t gen, flushes;
	uint64_t secs_idx = idx_of(fx.secs);

	prepare(resume);
	cr_assert_eq(fx_etrack(&fx), 0);
	gen = lp->tlb_gen;
	flushes = fx.cpu.stats.tlb_flush;
	cr_assert_eq(run(resume), 0);
	cr_assert_eq(lp->tlb_gen, gen + 1);
	cr_assert_eq(fx.cpu.stats.tlb_flush, flushes + 1);
	cr_assert_eq(active_count(), 1);
	cr_assert_eq(lp->entry_epoch, sgx_secs_epoch(&fx.cpu, secs_idx));
	cr_assert_eq(secs_hidden_at(&fx.cpu, secs_idx)->prev_active, 0);
}

Test(enclu_eenter, stats_count_calls_and_faults)
{
	uint64_t calls = fx.cpu.stats.enclu[EENTER];
	uint64_t faults = fx.cpu.stats.enclu_fault[EENTER];

	fx_expect_gp(lp, run_at(false, tcs + 8, FX_AEP));
	cr_assert_eq(run(false), 0);
	cr_assert_eq(fx.cpu.stats.enclu[EENTER], calls + 2);
	cr_assert_eq(fx.cpu.stats.enclu_fault[EENTER], faults + 1);
}
