// SPDX-License-Identifier: MIT
/*
 * EADD - Add a Page to an Uninitialized Enclave. SDM Vol. 3D, "EADD",
 * ENCLS leaf 0x01 (SGX1).
 *
 * Operands: RBX = PAGEINFO {LINADDR, SRCPGE = source page, SECINFO, SECS =
 * EPC address of the enclave's SECS}, RCX = EPC address of the free target.
 *
 * Checks, in SDM order:
 *   C1  PAGEINFO is 32-byte aligned, else #GP.
 *   C2  RCX is 4 KiB aligned, else #GP.
 *   C3  RCX is in the EPC, else #PF(RCX).
 *   C4  SRCPGE, SECS and LINADDR are 4 KiB aligned and SECINFO 64-byte
 *       aligned, else #GP.
 *   C5  PAGEINFO.SECS is in the EPC, else #PF(SECS).
 *   C6  SECINFO has no reserved bit set and PT is PT_REG or PT_TCS,
 *       else #GP.
 *   C7  the target page is not VALID, else #PF(RCX).
 *   C8  PAGEINFO.SECS is a VALID PT_SECS page, else #PF(SECS).
 *   C9  for a TCS: the source TCS has no reserved bit or byte set,
 *       else #GP.
 *   C10 for a REG page: SECINFO does not give W without R, else #GP.
 *   C11 LINADDR is inside ELRANGE [BASEADDR, BASEADDR + SIZE), else #GP.
 *   C12 the enclave is not initialized, else #GP.
 *
 * Effects:
 *   E1 the 4 KiB source page is copied into the target.
 *   E2 for a TCS: RWX forced to 0; FLAGS.DBGOPTIN, CSSA, AEP and STATE
 *      cleared in the copy.
 *   E3 MRENCLAVE is extended with {"EADD", LINADDR - BASEADDR, the first
 *      48 bytes of SECINFO as adjusted by E2}.
 *   E4 EPCM: VALID, PT and RWX from SECINFO, ENCLAVEADDRESS = LINADDR,
 *      ENCLAVESECS = SECS, BLOCKED, PENDING, MODIFIED and PR 0, no
 *      tracking stamp.
 *   E5 the SECS child count rises.
 *
 * UNCERTAIN: whether the SECINFO state bits 3-5 are reserved for EADD; we
 * follow Linux and the conservative reading (sgx-architecture.md 1.3).
 * MODEL: leaves are atomic, so the SDM's concurrency checks (#GP for a
 * locked target, SECS or measurement) never fire.
 * MODEL: 32-bit enclaves do not exist here (ECREATE refuses them), so the
 * SDM's 32-bit FS/GS limit check on a TCS has nothing to check.
 */
#include "arch/crypto.h"
#include "arch/internal.h"

#define EADD_SECINFO_RESERVED                                             \
	(SGX_SECINFO_FLAGS_RESERVED_MASK | SGX_SECINFO_STATE_MASK)

static bool tcs_reserved_clear(const struct sgx_tcs *tcs)
{
	for (size_t i = 0; i < sizeof(tcs->reserved); i++)
		if (tcs->reserved[i])
			return false;
	return !(tcs->flags & ~SGX_TCS_DBGOPTIN);
}

/* C9, C10: the checks that depend on the page type. */
static int check_type(struct sgx_lp *lp, uint64_t flags, const void *src)
{
	uint64_t pt = (flags & SGX_SECINFO_PAGE_TYPE_MASK) >>
		      SGX_SECINFO_PAGE_TYPE_SHIFT;

	/* C9: a TCS must not use reserved fields. */
	if (pt == PT_TCS && !tcs_reserved_clear(src))
		return sgx_gp(lp);
	/* C10: a regular page is never writable without being readable. */
	if (pt == PT_REG && (flags & SGX_SECINFO_W) && !(flags & SGX_SECINFO_R))
		return sgx_gp(lp);
	return 0;
}

/* E3: the EADD record of MRENCLAVE. */
static void measure_eadd(struct secs_hidden *h, uint64_t offset,
			 const struct sgx_secinfo *scratch)
{
	uint8_t rec[64];
	uint64_t tag = 0x0000000044444145ULL; /* "EADD" */

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &offset, 8);
	memcpy(rec + 16, scratch, 48);
	measure_update(h, rec);
}

static void eadd_commit(struct sgx_cpu *cpu, const struct sgx_pageinfo *pi,
			struct sgx_secinfo scratch, uint64_t idx,
			uint64_t secs_idx)
{
	struct secs_hidden *h = secs_hidden_at(cpu, secs_idx);
	uint64_t base = secs_at(cpu, secs_idx)->base;
	uint8_t pt = (uint8_t)(scratch.flags >> SGX_SECINFO_PAGE_TYPE_SHIFT);
	void *page = epc_page_at(cpu, idx);

	memcpy(page, (const void *)(uintptr_t)pi->srcpge, PAGE_SIZE); /* E1 */
	if (pt == PT_TCS) { /* E2 */
		struct sgx_tcs *tcs = page;

		scratch.flags &= ~SGX_SECINFO_PERMISSION_MASK;
		tcs->flags &= ~SGX_TCS_DBGOPTIN;
		tcs->ssa_index = 0;
		tcs->exit_addr = 0;
		tcs->state = 0;
	}
	measure_eadd(h, pi->linaddr - base, &scratch); /* E3 */
	*epcm_at(cpu, idx) = (struct epcm_entry){ /* E4 */
		.valid = 1,
		.r = !!(scratch.flags & SGX_SECINFO_R),
		.w = !!(scratch.flags & SGX_SECINFO_W),
		.x = !!(scratch.flags & SGX_SECINFO_X),
		.pt = pt,
		.enclave_secs = (uint32_t)secs_idx,
		.enclave_address = pi->linaddr,
	};
	epc_mark_written(cpu, idx);
	h->child_count++; /* E5 */
}

/* C6..C12, once the operands are known to be aligned and in the EPC. */
static int check_page(struct sgx_lp *lp, const struct sgx_pageinfo *pi,
		      const struct sgx_secinfo *scratch, uint64_t idx,
		      uint64_t secs_idx)
{
	struct sgx_cpu *cpu = lp->cpu;
	uint64_t pt = scratch->flags & SGX_SECINFO_PAGE_TYPE_MASK;
	const struct sgx_secs *secs;
	int ret;

	/* C6: SECINFO reserved bits and the page type. */
	if (!secinfo_reserved_clear(scratch, EADD_SECINFO_RESERVED) ||
	    (pt != SGX_SECINFO_TYPE(PT_REG) && pt != SGX_SECINFO_TYPE(PT_TCS)))
		return sgx_gp(lp);
	/* C7: the target page must be free. */
	if (epcm_at(cpu, idx)->valid)
		return sgx_pf_epcm(lp, sgx_epc_addr(cpu, idx));
	/* C8: PAGEINFO.SECS must name a SECS. */
	if (!epcm_is_secs(epcm_at(cpu, secs_idx)))
		return sgx_pf_epcm(lp, pi->secs);
	ret = check_type(lp, scratch->flags,
			 (const void *)(uintptr_t)pi->srcpge);
	if (ret)
		return ret;
	secs = secs_at(cpu, secs_idx);
	/* C11: the page lies inside ELRANGE. */
	if (pi->linaddr - secs->base >= secs->size)
		return sgx_gp(lp);
	/* C12: pages are added only while the enclave is being built. */
	if (secs->attributes & SGX_ATTR_INIT)
		return sgx_gp(lp);
	return 0;
}

static int eadd(struct sgx_lp *lp, const struct sgx_pageinfo *pi,
		uint64_t epc)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct sgx_secinfo scratch;
	uint64_t idx, secs_idx;
	int ret;

	/* C1: PAGEINFO alignment. */
	if (!is_aligned((uintptr_t)pi, 32))
		return sgx_gp(lp);
	/* C2: the target is a page. */
	if (!is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C3: in the EPC. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	/* C4: alignment of what PAGEINFO points to. */
	if (!is_aligned(pi->srcpge, PAGE_SIZE) ||
	    !is_aligned(pi->secs, PAGE_SIZE) ||
	    !is_aligned(pi->secinfo, 64) || !is_aligned(pi->linaddr, PAGE_SIZE))
		return sgx_gp(lp);
	/* C5: the SECS is in the EPC. */
	if (!epc_lookup(cpu, pi->secs, &secs_idx))
		return sgx_pf_epcm(lp, pi->secs);
	scratch = *(const struct sgx_secinfo *)(uintptr_t)pi->secinfo;
	ret = check_page(lp, pi, &scratch, idx, secs_idx);
	if (ret)
		return ret;

	eadd_commit(cpu, pi, scratch, idx, secs_idx);
	return 0;
}

/**
 * encls_eadd() - ENCLS[EADD]: copy a page into an uninitialized enclave.
 * @pageinfo: LINADDR, SRCPGE, SECINFO (PT_REG or PT_TCS) and SECS.
 * @epc: the free EPC page that receives it.
 *
 * Return: 0, or a #GP/#PF fault.
 */
int encls_eadd(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EADD);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EADD,
			    ret ? ret : eadd(lp, pageinfo, epc));
}
