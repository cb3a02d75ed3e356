// SPDX-License-Identifier: MIT
/*
 * EENTER - Enter an Enclave, and ERESUME - Re-Enter an Enclave. SDM Vol. 3D,
 * "EENTER" and "ERESUME", ENCLU leaves 0x02 and 0x03. Both share one checked
 * body; they differ in the SSA frame they use (CSSA for EENTER, CSSA - 1 for
 * ERESUME) and in what they load into the registers.
 *
 * Operands: RBX = linear address of a TCS, RCX = AEP (the outside address
 * AEX returns to).
 *
 * Checks, in SDM order:
 *   C1  the LP is not in enclave mode, else #GP.
 *   C2  RBX is 4 KiB aligned, else #GP.
 *   C3  RBX translates (paging) to an EPC page, else #PF(RBX).
 *   C4  RCX (the AEP) is canonical, else #GP.
 *   C5  the TCS page is VALID, else #PF(RBX).
 *   C6  the TCS page is not BLOCKED, else #PF(RBX).
 *   C7  its ENCLAVEADDRESS is RBX and its type PT_TCS, else #PF(RBX).
 *   C8  it is neither PENDING nor MODIFIED (an EAUG+EMODT TCS must be
 *       EACCEPTed first), else #PF(RBX).
 *   C9  TCS.OSSA is 4 KiB aligned, else #GP.
 *   C10 TCS.OFSBASE and TCS.OGSBASE are 4 KiB aligned, else #GP.
 *   C11 TCS.FLAGS has no reserved bit set, else #GP.
 *   C12 the enclave is initialized, else #GP.
 *   C13 the enclave is a 64-bit one (SECS.ATTRIBUTES.MODE64BIT), like the
 *       LP, else #GP.
 *   C14 EENTER: CSSA < NSSA (a frame is free for an AEX); ERESUME: CSSA > 0
 *       (a frame holds saved state). Else #GP.
 *   C15-C17 the first page of the SSA frame, then C18-C20 the page of its
 *       GPRSGX area, each: C15/C18 translates with R and W to an EPC page
 *       (#PF), C16/C19 is VALID, not BLOCKED, PENDING or MODIFIED (#PF),
 *       C17/C20 is a PT_REG page of this enclave at that address with EPCM
 *       R and W (#PF). The #PF names the page (C15-C17) or the GPRSGX
 *       address (C18-C20), as the SDM does.
 *   C21 the target RIP (EENTER: BASEADDR + OENTRY; ERESUME: GPRSGX.RIP) is
 *       canonical, else #GP.
 *   C22 the new FS and GS bases are canonical, else #GP.
 *   C23 TCS.STATE is INACTIVE (no other LP runs on this TCS), else #GP.
 *
 * Effects:
 *   E1 TCS.STATE := ACTIVE; TCS.AEP := RCX.
 *   E2 the hidden CREGs (entry.h): outside FS/GS bases, CR_GPR_PA.
 *   E3 enclave mode on; CR_ACTIVE_SECS, CR_TCS_PA/LA, CR_ELRANGE; the
 *      outside RSP/RBP are kept for the exit (CR_SAVE_XSP).
 *   E4 EENTER: SSA.GPRSGX.URSP/URBP := RSP/RBP; RCX := the address after
 *      ENCLU; RAX := CSSA; RIP := BASEADDR + OENTRY; FS/GS bases :=
 *      BASEADDR + OFSBASE/OGSBASE.
 *   E5 ERESUME: the GPRs, RIP, FS/GS bases and the arithmetic and control
 *      RFLAGS bits are restored from GPRSGX of SSA[CSSA - 1]; CSSA -= 1.
 *   E6 the LP joins the enclave's tracking set at the current epoch and
 *      flushes its TLB (Flush_linear_context).
 *
 * MODEL: the LP always runs in 64-bit mode with CS/DS/ES/SS bases 0,
 * CR4.OSFXSR = 1 and an XCR0 that covers every XFRM, so the SDM's segment,
 * OSFXSR and XFRM-vs-XCR0 checks always pass and are not written out.
 * MODEL: AEX-Notify and CET are not modelled: TCS.FLAGS bits other than
 * DBGOPTIN are reserved (as sdm.h defines them), and there is no CET save
 * area to check.
 * MODEL: debug and monitoring state (TF, DBGOPTIN breakpoints, perfmon,
 * XCR0) is not modelled, so the entry and exit swaps of it are absent.
 * MODEL: the XSAVE part of a frame is taken to fit in the frame's first
 * page (true for every XFRM up to AVX-512), so C15-C17 check that page only.
 * MODEL: leaves are atomic, so the SDM's "other SGX instructions are
 * operating on the TCS" #GP never fires and has no check here.
 */
#include "arch/entry.h"

/* The RFLAGS bits ERESUME takes from the SSA (SDM ERESUME operation). */
#define ERESUME_RFLAGS                                                    \
	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF |  \
	 X86_EFLAGS_SF | X86_EFLAGS_DF | X86_EFLAGS_OF | X86_EFLAGS_NT |  \
	 X86_EFLAGS_AC | X86_EFLAGS_ID | X86_EFLAGS_RF)

/* MODEL: ENCLU is 0F 01 D7, so EENTER's RCX is RIP + 3. */
#define ENCLU_LEN 3

/* What the checks found, kept for the effects. */
struct entry {
	bool resume;
	uint64_t tcs_lin, aep;
	uint64_t tcs_idx, gpr_idx, xsave_idx;
	struct sgx_tcs *tcs;
	uint32_t secs_idx;
	struct sgx_secs *secs;
	uint32_t cssa; /* the frame in use */
	struct sgx_gprsgx *gpr;
	uint64_t target, fsbase, gsbase;
};

/* C1-C8: the TCS operand and its EPCM entry. */
static int check_tcs(struct sgx_lp *lp, struct entry *en)
{
	struct sgx_cpu *cpu = lp->cpu;
	const struct epcm_entry *e;
	int ret;

	/* C1: EENTER/ERESUME are legal only outside enclave mode. */
	if (lp->enclave_mode)
		return sgx_gp(lp);
	/* C2: the TCS is page aligned. */
	if (!is_aligned(en->tcs_lin, PAGE_SIZE))
		return sgx_gp(lp);
	/* C3: it translates to an EPC page. */
	ret = lp_operand(lp, en->tcs_lin, SGX_ACCESS_READ, &en->tcs_idx);
	if (ret)
		return ret;
	/* C4: the AEP is canonical. */
	if (!is_canonical(en->aep))
		return sgx_gp(lp);
	e = epcm_at(cpu, en->tcs_idx);
	/* C5: the TCS page is valid. */
	if (!e->valid)
		return enclu_pf(lp, en->tcs_lin, false);
	/* C6: and not blocked for eviction. */
	if (e->blocked)
		return enclu_pf(lp, en->tcs_lin, false);
	/* C7: a TCS, at the address it was entered through. */
	if (e->enclave_address != en->tcs_lin || e->pt != PT_TCS)
		return enclu_pf(lp, en->tcs_lin, false);
	/* C8: not waiting for EACCEPT. */
	if (e->pending || e->modified)
		return enclu_pf(lp, en->tcs_lin, false);
	en->tcs = tcs_at(cpu, en->tcs_idx);
	en->secs_idx = e->enclave_secs;
	en->secs = secs_at(cpu, e->enclave_secs);
	return 0;
}

/* C9-C14: the TCS fields and the enclave. */
static int check_tcs_fields(struct sgx_lp *lp, struct entry *en)
{
	const struct sgx_tcs *tcs = en->tcs;

	/* C9: OSSA is page aligned. */
	if (!is_aligned(tcs->ssa_offset, PAGE_SIZE))
		return sgx_gp(lp);
	/* C10: so are OFSBASE and OGSBASE. */
	if (!is_aligned(tcs->fs_offset, PAGE_SIZE) ||
	    !is_aligned(tcs->gs_offset, PAGE_SIZE))
		return sgx_gp(lp);
	/* C11: no reserved TCS.FLAGS bit. */
	if (tcs->flags & ~SGX_TCS_DBGOPTIN)
		return sgx_gp(lp);
	/* C12: the enclave was EINITed. */
	if (!(en->secs->attributes & SGX_ATTR_INIT))
		return sgx_gp(lp);
	/* C13: the LP's 64-bit mode matches the enclave's. */
	if (!(en->secs->attributes & SGX_ATTR_MODE64BIT))
		return sgx_gp(lp);
	/* C14: a free frame for EENTER, a saved one for ERESUME. */
	if (en->resume ? tcs->ssa_index == 0 :
			 tcs->ssa_index >= tcs->nr_ssa_frames)
		return sgx_gp(lp);
	en->cssa = en->resume ? tcs->ssa_index - 1 : tcs->ssa_index;
	return 0;
}

/*
 * C15-C17 or C18-C20: one page of the SSA frame; fault_lin is the address
 * the #PF names.
 */
static int check_ssa_page(struct sgx_lp *lp, const struct entry *en,
			  uint64_t fault_lin, uint64_t *idx)
{
	uint64_t page = fault_lin & PAGE_MASK;
	const struct epcm_entry *e;
	int ret;

	/* C15/C18: the page is mapped readable and writable, in the EPC. */
	ret = lp_operand(lp, fault_lin,
			 SGX_ACCESS_READ | SGX_ACCESS_WRITE, idx);
	if (ret)
		return ret;
	e = epcm_at(lp->cpu, *idx);
	/* C16/C19: valid and in no transitional state. */
	if (!e->valid || e->blocked || e->pending || e->modified)
		return enclu_pf(lp, fault_lin, true);
	/* C17/C20: a R/W regular page of this enclave at that address. */
	if (e->enclave_address != page || e->pt != PT_REG ||
	    e->enclave_secs != en->secs_idx || !e->r || !e->w)
		return enclu_pf(lp, fault_lin, true);
	return 0;
}

/* C15-C20: the SSA frame in use must be usable for the AEX state save. */
static int check_ssa(struct sgx_lp *lp, struct entry *en)
{
	const struct sgx_secs *secs = en->secs;
	uint64_t frame = secs->base + en->tcs->ssa_offset +
			 (uint64_t)en->cssa * secs->ssa_frame_size * PAGE_SIZE;
	uint64_t gpr_lin = ssa_gpr_lin(secs, frame);
	int ret;

	ret = check_ssa_page(lp, en, frame, &en->xsave_idx);
	if (ret)
		return ret;
	ret = check_ssa_page(lp, en, gpr_lin, &en->gpr_idx);
	if (ret)
		return ret;
	en->gpr = (struct sgx_gprsgx *)((uint8_t *)epc_page_at(lp->cpu,
							       en->gpr_idx) +
					(gpr_lin & ~PAGE_MASK));
	return 0;
}

/* C21-C23: where execution continues, and the TCS's own state. */
static int check_target(struct sgx_lp *lp, struct entry *en)
{
	const struct sgx_tcs *tcs = en->tcs;
	uint64_t base = en->secs->base;

	en->target = en->resume ? en->gpr->rip : base + tcs->entry_offset;
	en->fsbase = en->resume ? en->gpr->fsbase : base + tcs->fs_offset;
	en->gsbase = en->resume ? en->gpr->gsbase : base + tcs->gs_offset;
	/* C21: the target RIP is canonical. */
	if (!is_canonical(en->target))
		return sgx_gp(lp);
	/* C22: so are the new FS and GS bases. */
	if (!is_canonical(en->fsbase) || !is_canonical(en->gsbase))
		return sgx_gp(lp);
	/* C23: no other LP is running on this TCS. */
	if (tcs->state != TCS_STATE_INACTIVE)
		return sgx_gp(lp);
	return 0;
}

/* E4: EENTER's register state. */
static void load_eenter(struct sgx_lp *lp, const struct entry *en)
{
	struct sgx_regs *r = &lp->regs;

	en->gpr->ursp = r->rsp;
	en->gpr->urbp = r->rbp;
	r->rcx = r->rip + ENCLU_LEN;
	r->rax = en->tcs->ssa_index;
	r->rip = en->target;
}

/* E5: ERESUME's register state, from the frame AEX filled. */
static void load_eresume(struct sgx_lp *lp, const struct entry *en)
{
	const struct sgx_gprsgx *g = en->gpr;
	struct sgx_regs *r = &lp->regs;

	r->rax = g->rax;
	r->rcx = g->rcx;
	r->rdx = g->rdx;
	r->rbx = g->rbx;
	r->rsp = g->rsp;
	r->rbp = g->rbp;
	r->rsi = g->rsi;
	r->rdi = g->rdi;
	r->r8 = g->r8;
	r->r9 = g->r9;
	r->r10 = g->r10;
	r->r11 = g->r11;
	r->r12 = g->r12;
	r->r13 = g->r13;
	r->r14 = g->r14;
	r->r15 = g->r15;
	r->rflags = ((r->rflags & ~ERESUME_RFLAGS) |
		     (g->rflags & ERESUME_RFLAGS)) & ~X86_EFLAGS_VM;
	r->rip = en->target;
	en->tcs->ssa_index--;
}

static void enter_effects(struct sgx_lp *lp, const struct entry *en)
{
	struct tcs_hidden *hid = tcs_hidden_at(lp->cpu, en->tcs_idx);

	en->tcs->state = TCS_STATE_ACTIVE; /* E1 */
	en->tcs->exit_addr = en->aep;
	hid->save_fsbase = lp->regs.fsbase; /* E2 */
	hid->save_gsbase = lp->regs.gsbase;
	hid->gpr_epc = en->gpr_idx + 1;
	hid->xsave_epc = en->xsave_idx + 1;
	lp->enclave_mode = true; /* E3 */
	lp->active_secs = en->secs_idx;
	lp->tcs = (uint32_t)en->tcs_idx;
	lp->tcs_lin = en->tcs_lin;
	lp->elrange_base = en->secs->base;
	lp->elrange_size = en->secs->size;
	lp->save_rsp = lp->regs.rsp;
	lp->save_rbp = lp->regs.rbp;
	if (en->resume) /* E5 */
		load_eresume(lp, en);
	else /* E4 */
		load_eenter(lp, en);
	lp->regs.fsbase = en->fsbase;
	lp->regs.gsbase = en->gsbase;
	lp_enter_tracking(lp, en->secs_idx); /* E6 */
	sgx_tlb_flush(lp);
}

static int enter(struct sgx_lp *lp, struct entry *en)
{
	int ret = check_tcs(lp, en);

	if (!ret)
		ret = check_tcs_fields(lp, en);
	if (!ret)
		ret = check_ssa(lp, en);
	if (!ret)
		ret = check_target(lp, en);
	if (ret)
		return ret;
	enter_effects(lp, en);
	return 0;
}

/**
 * enclu_eenter() - ENCLU[EENTER]: enter the enclave through the TCS at @tcs.
 * @aep: where an AEX will send the thread (RCX).
 *
 * Return: 0 with lp->regs loaded for the enclave, or a #GP/#PF fault.
 */
int enclu_eenter(struct sgx_lp *lp, uint64_t tcs, uint64_t aep)
{
	struct entry en = { .resume = false, .tcs_lin = tcs, .aep = aep };

	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, EENTER);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, EENTER, enter(lp, &en));
}

/**
 * enclu_eresume() - ENCLU[ERESUME]: resume the thread an AEX interrupted.
 * @aep: where a further AEX will send the thread (RCX).
 *
 * Return: 0 with lp->regs restored from the SSA, or a #GP/#PF fault.
 */
int enclu_eresume(struct sgx_lp *lp, uint64_t tcs, uint64_t aep)
{
	struct entry en = { .resume = true, .tcs_lin = tcs, .aep = aep };

	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, ERESUME);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, ERESUME, enter(lp, &en));
}
