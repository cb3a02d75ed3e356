// SPDX-License-Identifier: MIT
/*
 * EMODPE - Extend an EPC Page Permissions. SDM Vol. 3D, "EMODPE", ENCLU
 * leaf 0x06 (SGX2).
 *
 * Operands (enclave linear addresses): RBX = SECINFO (only R/W/X used),
 * RCX = the page.
 *
 * Checks, in SDM order:
 *   C1 the LP is in enclave mode, else #GP. MODEL: the SDM gives #GP for
 *      ENCLU leaves other than EENTER/ERESUME outside enclave mode.
 *   C2 RBX is 64-byte aligned and RCX 4 KiB aligned, else #GP.
 *   C3 RBX and RCX are inside ELRANGE, else #GP.
 *   C4 RBX resolves to an EPC page, else #PF(RBX).
 *   C5 RCX resolves to an EPC page, else #PF(RCX).
 *   C6 the SECINFO page is VALID, readable, not PENDING, MODIFIED or
 *      BLOCKED, a PT_REG page of the running enclave at RBX's page, else
 *      #PF(RBX).
 *   C7 SECINFO has no reserved bit set, else #GP.
 *   C8 the page is VALID, not PENDING, MODIFIED or BLOCKED, PT_REG and
 *      owned by the running enclave, else #PF(RCX).
 *   C9 the page's EPCM address is RCX, else #PF(RCX) (the SDM checks it
 *      only in its re-check after the concurrency test).
 *   C10 the result would not be W without R (EPCM.R = 0, SECINFO.R = 0
 *      and SECINFO.W = 1), else #GP.
 *
 * Effects:
 *   E1 EPCM.R/W/X |= SECINFO.R/W/X; bits already set are a no-op.
 *
 * No return code and no tracking: stale TLB entries only hold fewer rights;
 * an access that needs the new ones takes one spurious #PF on such an entry,
 * whose AEX flushes it (lp.c). EPCM.PR is neither checked nor
 * changed, so a page waiting for EACCEPT after EMODPR may be extended.
 *
 * UNCERTAIN: whether the SECINFO state bits 3-5 are reserved for EMODPE;
 * we follow the conservative reading (sgx-architecture.md section 1.3).
 * PAGE_TYPE is ignored, like EMODPR's.
 * Operands are translated by lp_operand() without filling the TLB; an
 * operand failing its EPCM check gets enclu_pf().
 * MODEL: leaves are atomic, so the SDM's concurrency check (#GP for a page
 * in use by another SGX2 leaf) never fires.
 */
#include "arch/internal.h"

#define EMODPE_SECINFO_RESERVED                                           \
	(SGX_SECINFO_FLAGS_RESERVED_MASK | SGX_SECINFO_STATE_MASK)

/* C2..C5: alignment, ELRANGE and EPC membership of both operands. */
static int emodpe_operands(struct sgx_lp *lp, uint64_t rbx, uint64_t rcx,
			   uint64_t *sidx, uint64_t *idx)
{
	int ret;

	/* C2: operand alignment. */
	if (!is_aligned(rbx, 64) || !is_aligned(rcx, PAGE_SIZE))
		return sgx_gp(lp);
	/* C3: both must be enclave memory. */
	if (!in_elrange(lp, rbx) || !in_elrange(lp, rcx))
		return sgx_gp(lp);
	/* C4: the SECINFO resolves to an EPC page. */
	ret = lp_operand(lp, rbx, SGX_ACCESS_READ, sidx);
	if (ret)
		return ret;
	/* C5: so does the target. */
	return lp_operand(lp, rcx, SGX_ACCESS_READ, idx);
}

static int emodpe(struct sgx_lp *lp, uint64_t rbx, uint64_t rcx)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct sgx_secinfo s;
	struct epcm_entry *e;
	uint64_t sidx, idx;
	int ret;

	/* C1: ENCLU[EMODPE] runs inside an enclave. */
	if (!lp->enclave_mode)
		return sgx_gp(lp);
	ret = emodpe_operands(lp, rbx, rcx, &sidx, &idx);
	if (ret)
		return ret;
	/* C6: the SECINFO sits in a readable regular page of this enclave. */
	if (!readable_operand(lp, epcm_at(cpu, sidx), rbx))
		return enclu_pf(lp, rbx, false);
	memcpy(&s, (uint8_t *)epc_page_at(cpu, sidx) + (rbx & ~PAGE_MASK),
	       sizeof(s));
	/* C7: reserved SECINFO bits. */
	if (!secinfo_reserved_clear(&s, EMODPE_SECINFO_RESERVED))
		return sgx_gp(lp);
	e = epcm_at(cpu, idx);
	/* C8: an accepted, unblocked regular page of this enclave. */
	if (!e->valid || e->pending || e->modified || e->blocked ||
	    e->pt != PT_REG || e->enclave_secs != lp->active_secs)
		return enclu_pf(lp, rcx, false);
	/* C9: mapped at the address the EPCM recorded for it. */
	if (e->enclave_address != rcx)
		return enclu_pf(lp, rcx, false);
	/* C10: never leave the page writable but unreadable. */
	if (!e->r && !(s.flags & SGX_SECINFO_R) && (s.flags & SGX_SECINFO_W))
		return sgx_gp(lp);

	e->r |= !!(s.flags & SGX_SECINFO_R); /* E1 */
	e->w |= !!(s.flags & SGX_SECINFO_W);
	e->x |= !!(s.flags & SGX_SECINFO_X);
	return 0;
}

/**
 * enclu_emodpe() - ENCLU[EMODPE]: extend the EPCM rights of the page at
 * @target by those in the SECINFO at @secinfo.
 *
 * Return: 0, or a #GP/#PF fault.
 */
int enclu_emodpe(struct sgx_lp *lp, uint64_t secinfo, uint64_t target)
{
	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, EMODPE);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, EMODPE,
			    emodpe(lp, secinfo, target));
}
