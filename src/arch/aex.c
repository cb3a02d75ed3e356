// SPDX-License-Identifier: MIT
/*
 * AEX - Asynchronous Enclave Exit. SDM Vol. 3D, "Enclave Exiting Events",
 * sections "State Saving by AEX", "Synthetic State on Asynchronous Enclave
 * Exit" and "AEX Flow". Not a leaf: an interrupt or exception that arrives
 * in enclave mode runs this before the OS sees the event.
 *
 * Input: the LP (in enclave mode) and the exception, or NULL for an
 * interrupt such as an IPI.
 *
 * Steps:
 *   S1 the GPRs, RFLAGS (TF cleared), RIP and FS/GS bases go into GPRSGX of
 *      SSA[CSSA], through the GPRSGX page cached at entry (CR_GPR_PA).
 *   S2 EXITINFO: VALID, vector and exit type for the exceptions reported to
 *      the enclave (#DE, #DB, #BP, #BR, #UD, #MF, #AC, #XM always; #PF and
 *      #GP only with SECS.MISCSELECT.EXINFO); zero otherwise.
 *   S3 with MISCSELECT.EXINFO, a #PF or #GP also writes EXINFO (MADDR: the
 *      full #PF address, 0 for #GP; ERRCD) just below GPRSGX.
 *   S4 CSSA += 1.
 *   S5 synthetic state: RAX := 3 (ERESUME), RBX := the TCS address, RCX :=
 *      RIP := AEP, RDX/RSI/RDI/R8-R15 := 0, RFLAGS.CF/PF/AF/ZF/SF/OF/RF := 0.
 *   S6 the outside RSP/RBP and FS/GS come back, TCS.STATE := INACTIVE, the
 *      LP leaves the tracking set and enclave mode and flushes its TLB.
 *   S7 the OS sees the event: for #PF, lp->exc.addr has bits 11:0 cleared.
 *
 * MODEL: S6 restores RSP/RBP from CR_SAVE_XSP (set at the latest EENTER or
 * ERESUME) rather than from SSA.URSP/URBP; they differ only if the enclave
 * rewrote URSP or ERESUMEd from another stack than it EENTERed from.
 * MODEL: EENTER/ERESUME guarantee CSSA < NSSA and cache the frame's page.
 * While the LP is inside, neither that page nor the TCS can leave the
 * enclave (EREMOVE refuses with the LP inside, and EWB or an accepted trim
 * needs this LP to exit first), so an AEX always has its frame; this is
 * asserted, not handled.
 * MODEL: only the GPR part of a frame is written here: the model has no
 * XSAVE state. A platform that runs enclave code on the real CPU saves it
 * through sgx_ssa_xsave() (the runner: src/run/xstate.c).
 */
#include "arch/entry.h"

/* Exception vectors (SDM Vol. 3A Table 6-1). */
#define X86_TRAP_DE 0
#define X86_TRAP_DB 1
#define X86_TRAP_BP 3
#define X86_TRAP_BR 5
#define X86_TRAP_MF 16
#define X86_TRAP_AC 17
#define X86_TRAP_XM 19

/* The RFLAGS bits AEX clears in the synthetic state. */
#define AEX_RFLAGS_CLEAR                                                  \
	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF |  \
	 X86_EFLAGS_SF | X86_EFLAGS_OF | X86_EFLAGS_RF)

/* EXITINFO.EXIT_TYPE for a software exception (INT3). */
#define SGX_EXITINFO_TYPE_SW 6U
#define SGX_EXITINFO_TYPE_SHIFT 8

/* The GPRSGX of SSA[CSSA], through the page cached at entry. */
static struct sgx_gprsgx *current_gpr(const struct sgx_lp *lp)
{
	const struct sgx_cpu *cpu = lp->cpu;
	const struct sgx_tcs *tcs = tcs_at(cpu, lp->tcs);
	const struct tcs_hidden *hid = tcs_hidden_at(cpu, lp->tcs);
	const struct sgx_secs *secs = secs_at(cpu, lp->active_secs);
	uint64_t frame = secs->base + tcs->ssa_offset +
			 (uint64_t)tcs->ssa_index * secs->ssa_frame_size *
				 PAGE_SIZE;
	uint64_t lin = ssa_gpr_lin(secs, frame);
	uint64_t idx = hid->gpr_epc - 1;
	const struct epcm_entry *e;

	ASSERT(tcs_bound(lp) && tcs->ssa_index < tcs->nr_ssa_frames);
	ASSERT(hid->gpr_epc && idx < cpu->cfg.epc_pages);
	e = epcm_at(cpu, idx);
	ASSERT(e->valid && e->enclave_secs == lp->active_secs &&
	       e->enclave_address == (lin & PAGE_MASK));
	return (struct sgx_gprsgx *)((uint8_t *)epc_page_at(cpu, idx) +
				     (lin & ~PAGE_MASK));
}

/* S2: the EXITINFO value for this event. */
static uint32_t exitinfo(const struct sgx_exception *exc, bool exinfo)
{
	uint32_t type = SGX_EXITINFO_TYPE_HW;

	if (!exc)
		return 0;
	switch (exc->vector) {
	case X86_TRAP_BP:
		type = SGX_EXITINFO_TYPE_SW;
		break;
	case X86_TRAP_DE:
	case X86_TRAP_DB:
	case X86_TRAP_BR:
	case X86_TRAP_UD:
	case X86_TRAP_MF:
	case X86_TRAP_AC:
	case X86_TRAP_XM:
		break;
	case X86_TRAP_PF:
	case X86_TRAP_GP:
		if (exinfo)
			break;
		return 0;
	default:
		return 0;
	}
	return SGX_EXITINFO_VALID | type << SGX_EXITINFO_TYPE_SHIFT |
	       exc->vector;
}

/* S3: EXINFO sits in the MISC region, just below GPRSGX. */
static void save_exinfo(struct sgx_gprsgx *g, const struct sgx_exception *exc)
{
	struct sgx_exinfo *x = (struct sgx_exinfo *)g - 1;

	x->maddr = exc->vector == X86_TRAP_PF ? exc->addr : 0;
	x->errcd = exc->error_code;
	if (exc->vector == X86_TRAP_PF)
		x->errcd |= X86_PF_USER; /* U/S always reads 1 in EXINFO */
	x->reserved = 0;
}

/* S1-S3. */
static void save_state(const struct sgx_lp *lp, struct sgx_gprsgx *g,
		       const struct sgx_exception *exc)
{
	const struct sgx_regs *r = &lp->regs;
	bool exinfo = secs_at(lp->cpu, lp->active_secs)->miscselect &
		      SGX_MISC_EXINFO;

	g->rax = r->rax;
	g->rcx = r->rcx;
	g->rdx = r->rdx;
	g->rbx = r->rbx;
	g->rsp = r->rsp;
	g->rbp = r->rbp;
	g->rsi = r->rsi;
	g->rdi = r->rdi;
	g->r8 = r->r8;
	g->r9 = r->r9;
	g->r10 = r->r10;
	g->r11 = r->r11;
	g->r12 = r->r12;
	g->r13 = r->r13;
	g->r14 = r->r14;
	g->r15 = r->r15;
	g->rflags = r->rflags & ~X86_EFLAGS_TF;
	g->rip = r->rip;
	g->fsbase = r->fsbase;
	g->gsbase = r->gsbase;
	g->exitinfo = exitinfo(exc, exinfo);
	if (exinfo && exc &&
	    (exc->vector == X86_TRAP_PF || exc->vector == X86_TRAP_GP))
		save_exinfo(g, exc);
}

/* S5: what the OS and the AEP trampoline see instead of enclave state. */
static void load_synthetic(struct sgx_lp *lp, uint64_t aep)
{
	struct sgx_regs *r = &lp->regs;
	uint64_t rflags = r->rflags & ~AEX_RFLAGS_CLEAR;

	*r = (struct sgx_regs){ 0 };
	r->rax = ERESUME;
	r->rbx = lp->tcs_lin;
	r->rcx = aep;
	r->rip = aep;
	r->rflags = rflags;
}

/**
 * sgx_ssa_xsave() - the XSAVE area of the SSA frame in use (SSA[CSSA], the
 * one the next AEX writes and the one ERESUME just resumed), at the start
 * of the frame, for a platform that runs enclave code on a real CPU and
 * so holds the extended state itself.
 *
 * Return: a host pointer to the frame's first page, or NULL outside
 * enclave mode.
 */
void *sgx_ssa_xsave(const struct sgx_lp *lp)
{
	const struct tcs_hidden *hid;
	uint64_t idx;

	if (!lp->enclave_mode)
		return NULL;
	hid = tcs_hidden_at(lp->cpu, lp->tcs);
	idx = hid->xsave_epc - 1;
	ASSERT(hid->xsave_epc && idx < lp->cpu->cfg.epc_pages);
	return epc_page_at(lp->cpu, idx);
}

/**
 * sgx_aex() - an asynchronous enclave exit of @lp, which must be in enclave
 * mode. @exc is the exception that caused it, or NULL for an interrupt.
 */
void sgx_aex(struct sgx_lp *lp, const struct sgx_exception *exc)
{
	struct sgx_tcs *tcs = tcs_at(lp->cpu, lp->tcs);

	ASSERT(lp->enclave_mode);
	if (lp->cpu->hooks.aex)
		lp->cpu->hooks.aex(lp->cpu->hooks.ctx, lp);
	save_state(lp, current_gpr(lp), exc); /* S1-S3 */
	tcs->ssa_index++; /* S4 */
	load_synthetic(lp, tcs->exit_addr); /* S5 */
	lp->regs.rsp = lp->save_rsp; /* S6 */
	lp->regs.rbp = lp->save_rbp;
	lp_exit_enclave(lp);
	if (exc) { /* S7 */
		lp->exc = *exc;
		if (exc->vector == X86_TRAP_PF)
			lp->exc.addr &= PAGE_MASK;
	}
	lp->cpu->stats.aex++;
}

void lp_fault_exit(struct sgx_lp *lp)
{
	struct sgx_exception exc = lp->exc;

	if (!lp->enclave_mode)
		return;
	lp->cpu->stats.fault_aex++;
	sgx_aex(lp, &exc);
}
