// SPDX-License-Identifier: MIT
/*
 * EMODPR - Restrict the Permissions of an EPC Page. SDM Vol. 3D, "EMODPR",
 * ENCLS leaf 0x0E (SGX2).
 *
 * Operands: RBX = SECINFO (only R/W/X used), RCX = EPC address of the page.
 *
 * Checks, in SDM order:
 *   C1 RBX is 64-byte aligned and RCX 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF.
 *   C3 SECINFO has no reserved bit set, else #GP.
 *   C4 SECINFO does not ask for W without R, else #GP.
 *   C5 the page is VALID, else #PF.
 *   C6 the page is neither PENDING nor MODIFIED, else
 *      SGX_PAGE_NOT_MODIFIABLE (this comes before the type check).
 *   C7 the page is a PT_REG page, else #PF.
 *   C8 the owning enclave is initialized, else #GP.
 *
 * Effects:
 *   E1 EPCM.PR := 1 (also when it was already set).
 *   E2 EPCM.R/W/X &= SECINFO.R/W/X; extra bits are a mask, not a grant.
 *   E3 MODEL: the page is stamped with the SECS epoch, so EACCEPT can tell
 *      whether an ETRACK cycle has flushed stale TLB entries since.
 *
 * EMODPR touches no TLB: an LP that cached the old rights keeps them until
 * it exits. That is why the OS must ETRACK and IPI afterwards.
 *
 * UNCERTAIN: whether the SECINFO state bits 3-5 are reserved for EMODPR;
 * we follow the conservative reading (sgx-architecture.md section 1.3).
 * MODEL: leaves are atomic, so the SDM's concurrency checks (#GP for a
 * concurrent SGX1 user, SGX_EPC_PAGE_CONFLICT for an SGX2 one) never fire.
 */
#include "arch/internal.h"

#define EMODPR_SECINFO_RESERVED                                           \
	(SGX_SECINFO_FLAGS_RESERVED_MASK | SGX_SECINFO_STATE_MASK)

static int emodpr(struct sgx_lp *lp, const struct sgx_secinfo *secinfo,
		  uint64_t epc)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct epcm_entry *e;
	uint64_t flags, idx;

	/* C1: operand alignment. */
	if (!is_aligned((uintptr_t)secinfo, 64) || !is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: the target must be an EPC page. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	flags = secinfo->flags;
	/* C3: reserved SECINFO bits (PT is ignored, Linux passes 0). */
	if (!secinfo_reserved_clear(secinfo, EMODPR_SECINFO_RESERVED))
		return sgx_gp(lp);
	/* C4: never W without R. */
	if ((flags & SGX_SECINFO_W) && !(flags & SGX_SECINFO_R))
		return sgx_gp(lp);
	e = epcm_at(cpu, idx);
	/* C5: the page must be valid. */
	if (!e->valid)
		return sgx_pf_epcm(lp, epc);
	/* C6: not while an EAUG or EMODT waits for EACCEPT. */
	if (e->pending || e->modified)
		return SGX_PAGE_NOT_MODIFIABLE;
	/* C7: only regular pages have permissions to restrict. */
	if (e->pt != PT_REG)
		return sgx_pf_epcm(lp, epc);
	/* C8: the enclave must be initialized. */
	if (!(secs_at(cpu, e->enclave_secs)->attributes & SGX_ATTR_INIT))
		return sgx_gp(lp);

	e->pr = 1; /* E1 */
	e->r &= !!(flags & SGX_SECINFO_R); /* E2 */
	e->w &= !!(flags & SGX_SECINFO_W);
	e->x &= !!(flags & SGX_SECINFO_X);
	epcm_stamp(e, secs_hidden_at(cpu, e->enclave_secs)); /* E3 */
	return 0;
}

/**
 * encls_emodpr() - ENCLS[EMODPR]: restrict the EPCM rights of @epc.
 *
 * Return: 0, SGX_PAGE_NOT_MODIFIABLE, or a #GP/#PF fault.
 */
int encls_emodpr(struct sgx_lp *lp, const struct sgx_secinfo *secinfo,
		 uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EMODPR);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EMODPR,
			    ret ? ret : emodpr(lp, secinfo, epc));
}
