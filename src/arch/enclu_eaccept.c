// SPDX-License-Identifier: MIT
/*
 * EACCEPT - Accept Changes to an EPC Page. SDM Vol. 3D, "EACCEPT", ENCLU
 * leaf 0x05 (SGX2).
 *
 * Operands (enclave linear addresses): RBX = SECINFO, RCX = the page.
 *
 * Checks, in SDM order:
 *   C1 the LP is in enclave mode, else #GP. MODEL: the SDM gives #GP for
 *      ENCLU leaves other than EENTER/ERESUME outside enclave mode.
 *   C2 RBX is 64-byte aligned, else #GP.
 *   C3 RBX is inside ELRANGE, else #GP.
 *   C4 RBX resolves to an EPC page, else #PF(RBX).
 *   C5 the SECINFO page is VALID, readable, not PENDING, MODIFIED or
 *      BLOCKED, a PT_REG page of the running enclave at RBX's page, else
 *      #PF(RBX).
 *   C6 SECINFO has no reserved bit set, else #GP.
 *   C7 RCX is 4 KiB aligned, else #GP.
 *   C8 RCX is inside ELRANGE, else #GP.
 *   C9 RCX resolves to an EPC page, else #PF(RCX).
 *   C10 SECINFO asks for a legal combination, else #GP: PT_REG with PR or
 *      PENDING and not MODIFIED; or PT_TCS/PT_TRIM with MODIFIED only.
 *      MODEL: CET is not emulated, so the SS_FIRST/SS_REST case is absent.
 *   C11 the page is VALID, not BLOCKED, PT_REG, PT_TCS or PT_TRIM, and
 *      owned by the running enclave, else #PF(RCX).
 *   C12 the EPCM matches the request: address = RCX, and PENDING,
 *      MODIFIED, R, W, X and PT equal to SECINFO's, else
 *      SGX_PAGE_ATTRIBUTES_MISMATCH. EPCM.PR is not compared (SDM).
 *   C13 the last EMODPR/EMODT of the page is tracked, else SGX_NOT_TRACKED.
 *   C14 for a TCS: its reserved fields are zero, else #GP.
 *   C15 for a TCS: DBGOPTIN, AEP and STATE are 0 and CSSA < NSSA, else #GP.
 *   C16 for a TCS of a 32-bit enclave: FSLIMIT and GSLIMIT end in 0xFFF,
 *      else #GP.
 *
 * Effects:
 *   E1 EPCM.PENDING := 0, EPCM.MODIFIED := 0, EPCM.PR := 0.
 *   E2 MODEL: the tracking stamp is cleared; C13 showed the tracking cycle
 *      complete, so no stale translation of the page survives anywhere.
 *
 * Operands are translated by lp_operand() (the PTE must be present; the
 * TLB is not filled) and an operand failing its EPCM check gets enclu_pf().
 * MODEL: leaves are atomic, so the SDM's concurrency check (#GP for a page
 * in use) and the re-check after it never fire.
 */
#include "arch/internal.h"

#define EACCEPT_SECINFO_RESERVED SGX_SECINFO_FLAGS_RESERVED_MASK

static uint8_t secinfo_pt(uint64_t flags)
{
	return (uint8_t)((flags & SGX_SECINFO_PAGE_TYPE_MASK) >>
			 SGX_SECINFO_PAGE_TYPE_SHIFT);
}

/* C2..C6: fetch the SECINFO at RBX into *s. */
static int eaccept_secinfo(struct sgx_lp *lp, uint64_t rbx,
			   struct sgx_secinfo *s)
{
	struct sgx_cpu *cpu = lp->cpu;
	uint64_t idx;
	int ret;

	/* C2: SECINFO alignment. */
	if (!is_aligned(rbx, 64))
		return sgx_gp(lp);
	/* C3: SECINFO must be enclave memory. */
	if (!in_elrange(lp, rbx))
		return sgx_gp(lp);
	/* C4: and resolve to an EPC page (paging faults come first). */
	ret = lp_operand(lp, rbx, SGX_ACCESS_READ, &idx);
	if (ret)
		return ret;
	/* C5: a readable regular page of this enclave at that address. */
	if (!readable_operand(lp, epcm_at(cpu, idx), rbx))
		return enclu_pf(lp, rbx, false);
	memcpy(s, (uint8_t *)epc_page_at(cpu, idx) + (rbx & ~PAGE_MASK),
	       sizeof(*s));
	/* C6: reserved SECINFO bits (the state bits 3-5 are inputs here). */
	if (!secinfo_reserved_clear(s, EACCEPT_SECINFO_RESERVED))
		return sgx_gp(lp);
	return 0;
}

/* C10: the (PT, PENDING, MODIFIED, PR) combinations EACCEPT understands. */
static bool eaccept_request_legal(uint64_t flags)
{
	bool pending = flags & SGX_SECINFO_PENDING;
	bool modified = flags & SGX_SECINFO_MODIFIED;
	bool pr = flags & SGX_SECINFO_PR;
	uint8_t pt = secinfo_pt(flags);

	if (pt == PT_REG)
		return (pr || pending) && !modified;
	if (pt == PT_TCS || pt == PT_TRIM)
		return !pr && !pending && modified;
	return false;
}

/* C12: everything the enclave asserts about the page, except PR. */
static bool eaccept_matches(const struct epcm_entry *e, uint64_t flags,
			    uint64_t rcx)
{
	return e->enclave_address == rcx &&
	       e->pending == !!(flags & SGX_SECINFO_PENDING) &&
	       e->modified == !!(flags & SGX_SECINFO_MODIFIED) &&
	       e->r == !!(flags & SGX_SECINFO_R) &&
	       e->w == !!(flags & SGX_SECINFO_W) &&
	       e->x == !!(flags & SGX_SECINFO_X) &&
	       e->pt == secinfo_pt(flags);
}

static bool tcs_reserved_clear(const struct sgx_tcs *tcs)
{
	static const uint8_t zero[SGX_TCS_RESERVED_SIZE];

	return !(tcs->flags & ~SGX_TCS_DBGOPTIN) &&
	       !memcmp(tcs->reserved, zero, sizeof(zero));
}

/* C14..C16: a new TCS must look like one EADD would accept, never used. */
static int eaccept_tcs(struct sgx_lp *lp, const struct epcm_entry *e,
		       uint64_t idx)
{
	const struct sgx_tcs *tcs = epc_page_at(lp->cpu, idx);
	const struct sgx_secs *secs = secs_at(lp->cpu, e->enclave_secs);

	/* C14: reserved TCS fields. */
	if (!tcs_reserved_clear(tcs))
		return sgx_gp(lp);
	/* C15: not debug-opted-in, a free SSA frame, never entered. */
	if ((tcs->flags & SGX_TCS_DBGOPTIN) ||
	    tcs->ssa_index >= tcs->nr_ssa_frames || tcs->exit_addr ||
	    tcs->state)
		return sgx_gp(lp);
	/* C16: 32-bit enclaves need page-granular FS/GS limits. */
	if (!(secs->attributes & SGX_ATTR_MODE64BIT) &&
	    ((tcs->fs_limit & 0xFFF) != 0xFFF ||
	     (tcs->gs_limit & 0xFFF) != 0xFFF))
		return sgx_gp(lp);
	return 0;
}

static int eaccept(struct sgx_lp *lp, uint64_t rbx, uint64_t rcx)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct sgx_secinfo s;
	struct epcm_entry *e;
	uint64_t idx;
	int ret;

	/* C1: ENCLU[EACCEPT] runs inside an enclave. */
	if (!lp->enclave_mode)
		return sgx_gp(lp);
	ret = eaccept_secinfo(lp, rbx, &s);
	if (ret)
		return ret;
	/* C7: target alignment. */
	if (!is_aligned(rcx, PAGE_SIZE))
		return sgx_gp(lp);
	/* C8: the target must be enclave memory. */
	if (!in_elrange(lp, rcx))
		return sgx_gp(lp);
	/* C9: and resolve to an EPC page (paging faults come first). */
	ret = lp_operand(lp, rcx, SGX_ACCESS_READ, &idx);
	if (ret)
		return ret;
	/* C10: the request must be one EACCEPT can grant. */
	if (!eaccept_request_legal(s.flags))
		return sgx_gp(lp);
	e = epcm_at(cpu, idx);
	/* C11: a valid, unblocked page of this enclave that can be accepted. */
	if (!e->valid || e->blocked ||
	    (e->pt != PT_REG && e->pt != PT_TCS && e->pt != PT_TRIM) ||
	    e->enclave_secs != lp->active_secs)
		return enclu_pf(lp, rcx, false);
	/* C12: the page is what the enclave believes it is. */
	if (!eaccept_matches(e, s.flags, rcx))
		return SGX_PAGE_ATTRIBUTES_MISMATCH;
	/* C13: every LP that may cache the old rights or type has left. */
#ifdef SGXEMU_PLANTS
	if (!(cpu->cfg.plants & SGX_PLANT_EACCEPT_UNTRACKED))
#endif
	if (!sgx_page_tracked(cpu, idx))
		return SGX_NOT_TRACKED;
	if (e->pt == PT_TCS) {
		ret = eaccept_tcs(lp, e, idx);
		if (ret)
			return ret;
	}

	e->pending = 0; /* E1 */
	e->modified = 0;
	e->pr = 0;
	e->track_stamp = 0; /* E2 */
	return 0;
}

/**
 * enclu_eaccept() - ENCLU[EACCEPT]: the enclave accepts the pending EAUG,
 * EMODPR or EMODT of the page at @target, as described by the SECINFO at
 * @secinfo.
 *
 * Return: 0, SGX_PAGE_ATTRIBUTES_MISMATCH, SGX_NOT_TRACKED, or a #GP/#PF
 * fault.
 */
int enclu_eaccept(struct sgx_lp *lp, uint64_t secinfo, uint64_t target)
{
	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, EACCEPT);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, EACCEPT,
			    eaccept(lp, secinfo, target));
}
