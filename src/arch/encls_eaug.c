// SPDX-License-Identifier: MIT
/*
 * EAUG - Add a Page to an Initialized Enclave. SDM Vol. 3D, "EAUG", ENCLS
 * leaf 0x0D (SGX2).
 *
 * Operands: RBX = PAGEINFO{LINADDR, SRCPGE (must be 0), SECINFO (0 or a
 * pointer), SECS (EPC address)}, RCX = EPC address of a free page.
 *
 * Checks, in SDM order:
 *   C1 RBX is 32-byte aligned and RCX 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF.
 *   C3 PAGEINFO.SECINFO (when given) is 64-byte aligned, PAGEINFO.SECS and
 *      PAGEINFO.LINADDR are 4 KiB aligned, else #GP.
 *   C4 PAGEINFO.SRCPGE is 0, else #GP.
 *   C5 PAGEINFO.SECS is in the EPC, else #PF(SECS).
 *   C6 the target page is not VALID, else #PF.
 *   C7 PAGEINFO.SECINFO is 0, else #GP. MODEL: a SECINFO may only ask for a
 *      CET shadow-stack page, and CET is not emulated, so any SECINFO is
 *      an unsupported request.
 *   C8 PAGEINFO.SECS is a VALID PT_SECS page, else #PF(SECS).
 *   C9 the enclave is initialized, else #GP.
 *   C10 LINADDR lies inside the enclave's [BASEADDR, BASEADDR + SIZE),
 *      else #GP.
 *
 * Effects:
 *   E1 the page is zeroed.
 *   E2 EPCM: PT_REG, R|W, PENDING=1, MODIFIED=PR=BLOCKED=0, the address and
 *      the owning SECS, no tracking stamp, VALID=1.
 *   E3 the SECS child count rises.
 *
 * EAUG needs no ETRACK: no LP can have a translation for a page that was
 * not valid, and PENDING keeps it unusable until the enclave EACCEPTs it.
 *
 * UNCERTAIN: the SDM's faulting-conditions table says "The SECS has been
 * initialized" while its pseudocode requires INIT; we follow the pseudocode
 * (and Linux), see sgx-architecture.md section 4 "EAUG".
 * MODEL: leaves are atomic, so the SDM's concurrency checks (#GP for a
 * target page in use or a SECS not available for EAUG) never fire.
 */
#include "arch/internal.h"

static int eaug(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
		uint64_t epc)
{
	struct sgx_cpu *cpu = lp->cpu;
	const struct sgx_secs *secs;
	struct epcm_entry *e;
	uint64_t idx, sidx, lin;

	/* C1: operand alignment. */
	if (!is_aligned((uintptr_t)pageinfo, 32) || !is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: the target must be an EPC page. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	lin = pageinfo->linaddr;
	/* C3: alignment of the PAGEINFO fields. */
	if (!is_aligned(pageinfo->secinfo, 64) ||
	    !is_aligned(pageinfo->secs, PAGE_SIZE) ||
	    !is_aligned(lin, PAGE_SIZE))
		return sgx_gp(lp);
	/* C4: EAUG never copies a source page. */
	if (pageinfo->srcpge)
		return sgx_gp(lp);
	/* C5: the SECS must be an EPC page. */
	if (!epc_lookup(cpu, pageinfo->secs, &sidx))
		return sgx_pf_epcm(lp, pageinfo->secs);
	e = epcm_at(cpu, idx);
	/* C6: the target must be free. */
	if (e->valid)
		return sgx_pf_epcm(lp, epc);
	/* C7: no SECINFO, hence a regular page (no CET shadow stacks). */
	if (pageinfo->secinfo)
		return sgx_gp(lp);
	/* C8: the SECS must be a valid SECS page. */
	if (!epcm_is_secs(epcm_at(cpu, sidx)))
		return sgx_pf_epcm(lp, pageinfo->secs);
	secs = secs_at(cpu, sidx);
	/* C9: only an initialized enclave grows dynamically. */
	if (!(secs->attributes & SGX_ATTR_INIT))
		return sgx_gp(lp);
	/* C10: the page must land inside ELRANGE. */
	if (lin - secs->base >= secs->size)
		return sgx_gp(lp);

	epc_zero(cpu, idx); /* E1 */
	*e = (struct epcm_entry){ /* E2 */
		.valid = 1,
		.r = 1,
		.w = 1,
		.pending = 1,
		.pt = PT_REG,
		.enclave_secs = (uint32_t)sidx,
		.enclave_address = lin,
	};
	secs_hidden_at(cpu, sidx)->child_count++; /* E3 */
	return 0;
}

/**
 * encls_eaug() - ENCLS[EAUG]: add a zeroed, PENDING RW page at
 * @pageinfo->linaddr to an initialized enclave.
 *
 * Return: 0, or a #GP/#PF fault.
 */
int encls_eaug(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EAUG);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EAUG,
			    ret ? ret : eaug(lp, pageinfo, epc));
}
