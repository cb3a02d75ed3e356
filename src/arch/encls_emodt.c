// SPDX-License-Identifier: MIT
/*
 * EMODT - Change the Type of an EPC Page. SDM Vol. 3D, "EMODT", ENCLS leaf
 * 0x0F (SGX2).
 *
 * Operands: RBX = SECINFO (only PAGE_TYPE used), RCX = EPC address of the
 * page.
 *
 * Checks, in SDM order:
 *   C1 RBX is 64-byte aligned and RCX 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF.
 *   C3 SECINFO has no reserved bit set, else #GP.
 *   C4 SECINFO asks for PT_TCS or PT_TRIM, else #GP.
 *   C5 the page is VALID, else #PF.
 *   C6 the change is legal: REG->TCS, REG->TRIM or TCS->TRIM, else #PF.
 *      MODEL: CET is not emulated, so the SDM's SS_FIRST/SS_REST->TRIM
 *      cannot arise (no page ever has those types).
 *   C7 the page is neither PENDING nor MODIFIED, else
 *      SGX_PAGE_NOT_MODIFIABLE (this comes after the type check).
 *   C8 the owning enclave is initialized, else #GP.
 *
 * Effects:
 *   E1 EPCM.PR := 0, EPCM.MODIFIED := 1, EPCM.R/W/X := 0,
 *      EPCM.PT := SECINFO.PAGE_TYPE. MODIFIED keeps the enclave from using
 *      the page until it EACCEPTs the new type.
 *   E2 MODEL: the page is stamped with the SECS epoch, so EACCEPT can tell
 *      whether an ETRACK cycle has flushed stale TLB entries since.
 *
 * EMODT touches no TLB: an LP that cached the page as REG keeps using it
 * until it exits. That is why the OS must ETRACK and IPI afterwards.
 *
 * UNCERTAIN: whether the SECINFO state bits 3-5 are reserved for EMODT; we
 * follow the conservative reading (sgx-architecture.md section 1.3). The
 * R/W/X bits are ignored, as EMODT clears the rights anyway.
 * MODEL: leaves are atomic, so the SDM's concurrency checks
 * (SGX_EPC_PAGE_CONFLICT against SGX1 and SGX2 users of the page) never
 * fire.
 */
#include "arch/internal.h"

#define EMODT_SECINFO_RESERVED                                            \
	(SGX_SECINFO_FLAGS_RESERVED_MASK | SGX_SECINFO_STATE_MASK)

/* The type changes the SDM allows (CET shadow-stack pages aside). */
static bool emodt_legal(uint8_t from, uint8_t to)
{
	return from == PT_REG || (from == PT_TCS && to == PT_TRIM);
}

static int emodt(struct sgx_lp *lp, const struct sgx_secinfo *secinfo,
		 uint64_t epc)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct epcm_entry *e;
	uint64_t idx;
	uint8_t pt;

	/* C1: operand alignment. */
	if (!is_aligned((uintptr_t)secinfo, 64) || !is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: the target must be an EPC page. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	pt = (uint8_t)((secinfo->flags & SGX_SECINFO_PAGE_TYPE_MASK) >>
		       SGX_SECINFO_PAGE_TYPE_SHIFT);
	/* C3: reserved SECINFO bits. */
	if (!secinfo_reserved_clear(secinfo, EMODT_SECINFO_RESERVED))
		return sgx_gp(lp);
	/* C4: EMODT only makes TCS or TRIM pages. */
	if (pt != PT_TCS && pt != PT_TRIM)
		return sgx_gp(lp);
	e = epcm_at(cpu, idx);
	/* C5: the page must be valid. */
	if (!e->valid)
		return sgx_pf_epcm(lp, epc);
	/* C6: only REG->TCS, REG->TRIM and TCS->TRIM. */
	if (!emodt_legal(e->pt, pt))
		return sgx_pf_epcm(lp, epc);
	/* C7: not while an EAUG or an earlier EMODT waits for EACCEPT. */
	if (e->pending || e->modified)
		return SGX_PAGE_NOT_MODIFIABLE;
	/* C8: the enclave must be initialized. */
	if (!(secs_at(cpu, e->enclave_secs)->attributes & SGX_ATTR_INIT))
		return sgx_gp(lp);

	e->pr = 0; /* E1 */
	e->modified = 1;
	e->r = 0;
	e->w = 0;
	e->x = 0;
	e->pt = pt;
	epcm_stamp(e, secs_hidden_at(cpu, e->enclave_secs)); /* E2 */
	return 0;
}

/**
 * encls_emodt() - ENCLS[EMODT]: change @epc to the TCS or TRIM type.
 *
 * Return: 0, SGX_PAGE_NOT_MODIFIABLE, or a #GP/#PF fault.
 */
int encls_emodt(struct sgx_lp *lp, const struct sgx_secinfo *secinfo,
		uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EMODT);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EMODT,
			    ret ? ret : emodt(lp, secinfo, epc));
}
