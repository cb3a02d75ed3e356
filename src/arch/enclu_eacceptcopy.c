// SPDX-License-Identifier: MIT
/*
 * EACCEPTCOPY - Initialize a Pending Page. SDM Vol. 3D, "EACCEPTCOPY",
 * ENCLU leaf 0x07 (SGX2).
 *
 * Operands (enclave linear addresses): RBX = SECINFO, RCX = the PENDING
 * destination page, RDX = the source page.
 *
 * Checks, in SDM order:
 *   C1 the LP is in enclave mode, else #GP. MODEL: the SDM gives #GP for
 *      ENCLU leaves other than EENTER/ERESUME outside enclave mode.
 *   C2 RBX is 64-byte aligned, RCX and RDX 4 KiB aligned, else #GP.
 *   C3 RBX, RCX and RDX are inside ELRANGE, else #GP.
 *   C4 RBX resolves to an EPC page, else #PF(RBX).
 *   C5 RCX resolves to an EPC page, else #PF(RCX).
 *   C6 RDX resolves to an EPC page, else #PF(RDX).
 *   C7 the SECINFO page is VALID, readable, not PENDING, MODIFIED or
 *      BLOCKED, a PT_REG page of the running enclave at RBX's page, else
 *      #PF(RBX).
 *   C8 SECINFO has no reserved bit set, else #GP.
 *   C9 SECINFO does not ask for W without R, else #GP.
 *   C10 SECINFO asks for PT_REG, else #GP.
 *   C11 the source page is VALID, readable, not PENDING, MODIFIED or
 *      BLOCKED, a PT_REG page of the running enclave at RDX, else #PF(RDX).
 *      UNCERTAIN: the SDM tests "EPCM(DS:RCX).R" in this line; we read it
 *      as a typo for RDX, the page being read.
 *   C12 the destination is VALID, PENDING, not MODIFIED, not BLOCKED, a
 *      PT_REG page of the running enclave, else
 *      SGX_PAGE_ATTRIBUTES_MISMATCH. UNCERTAIN: the SDM tests
 *      "EPCM(DS:RDX).BLOCKED" here; we read it as the destination's.
 *   C13 the destination's EPCM address is RCX, else
 *      SGX_PAGE_ATTRIBUTES_MISMATCH. MODEL: the SDM's re-check also wants
 *      R=1, W=1, X=0 and PT equal to SECINFO's; here every PENDING page is
 *      EAUG's RW REG page (EMODPR, EMODT and EMODPE refuse PENDING pages,
 *      EWB/ELDU keep the rights, C10 and C12 fix PT), so only the address
 *      is left to compare.
 *
 * Effects:
 *   E1 the 4 KiB of the source are copied to the destination.
 *   E2 EPCM.R/W/X := exactly SECINFO.R/W/X (so RX code never was RWX).
 *   E3 EPCM.PENDING := 0.
 *
 * No tracking check: the destination was never accessible (PENDING), so no
 * LP can hold a translation for it. MODIFIED and PR stay untouched.
 *
 * UNCERTAIN: whether the SECINFO state bits 3-5 are reserved here; like
 * EACCEPT, they are accepted and ignored (sgx-architecture.md section 1.3).
 * Operands are translated by lp_operand() without filling the TLB (the
 * destination needs a writable PTE, the others a present one); an operand
 * failing its EPCM check gets enclu_pf().
 * MODEL: leaves are atomic, so the SDM's concurrency check (#GP for a
 * destination in use) never fires.
 */
#include "arch/internal.h"

#define EACCEPTCOPY_SECINFO_RESERVED SGX_SECINFO_FLAGS_RESERVED_MASK

/* C2..C6: alignment, ELRANGE and EPC membership of the three operands. */
static int eacceptcopy_operands(struct sgx_lp *lp, const uint64_t lin[3],
				uint64_t idx[3])
{
	static const enum sgx_access acc[3] = {
		SGX_ACCESS_READ, SGX_ACCESS_WRITE, SGX_ACCESS_READ
	};
	int ret;

	/* C2: operand alignment. */
	if (!is_aligned(lin[0], 64) || !is_aligned(lin[1], PAGE_SIZE) ||
	    !is_aligned(lin[2], PAGE_SIZE))
		return sgx_gp(lp);
	/* C3: all three must be enclave memory. */
	if (!in_elrange(lp, lin[0]) || !in_elrange(lp, lin[1]) ||
	    !in_elrange(lp, lin[2]))
		return sgx_gp(lp);
	/* C4, C5, C6: each resolves to an EPC page, RBX first. */
	for (int i = 0; i < 3; i++) {
		ret = lp_operand(lp, lin[i], acc[i], &idx[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int eacceptcopy(struct sgx_lp *lp, uint64_t rbx, uint64_t rcx,
		       uint64_t rdx)
{
	const uint64_t lin[3] = { rbx, rcx, rdx };
	struct sgx_cpu *cpu = lp->cpu;
	struct sgx_secinfo s;
	struct epcm_entry *d;
	uint64_t idx[3];
	int ret;

	/* C1: ENCLU[EACCEPTCOPY] runs inside an enclave. */
	if (!lp->enclave_mode)
		return sgx_gp(lp);
	ret = eacceptcopy_operands(lp, lin, idx);
	if (ret)
		return ret;
	/* C7: the SECINFO sits in a readable regular page of this enclave. */
	if (!readable_operand(lp, epcm_at(cpu, idx[0]), rbx))
		return enclu_pf(lp, rbx, false);
	memcpy(&s, (uint8_t *)epc_page_at(cpu, idx[0]) + (rbx & ~PAGE_MASK),
	       sizeof(s));
	/* C8: reserved SECINFO bits. */
	if (!secinfo_reserved_clear(&s, EACCEPTCOPY_SECINFO_RESERVED))
		return sgx_gp(lp);
	/* C9: never W without R. */
	if ((s.flags & SGX_SECINFO_W) && !(s.flags & SGX_SECINFO_R))
		return sgx_gp(lp);
	/* C10: only regular pages are initialized by copy. */
	if ((s.flags & SGX_SECINFO_PAGE_TYPE_MASK) != SGX_SECINFO_TYPE(PT_REG))
		return sgx_gp(lp);
	/* C11: the source is a readable regular page of this enclave. */
	if (!readable_operand(lp, epcm_at(cpu, idx[2]), rdx))
		return enclu_pf(lp, rdx, false);
	d = epcm_at(cpu, idx[1]);
	/* C12: the destination waits for acceptance in this enclave. */
	if (!d->valid || !d->pending || d->modified || d->blocked ||
	    d->pt != PT_REG || d->enclave_secs != lp->active_secs)
		return SGX_PAGE_ATTRIBUTES_MISMATCH;
	/* C13: it is the page EAUG made for RCX. */
	if (d->enclave_address != rcx)
		return SGX_PAGE_ATTRIBUTES_MISMATCH;

	memcpy(epc_page_at(cpu, idx[1]), epc_page_at(cpu, idx[2]),
	       PAGE_SIZE); /* E1 */
	d->r = !!(s.flags & SGX_SECINFO_R); /* E2 */
	d->w = !!(s.flags & SGX_SECINFO_W);
	d->x = !!(s.flags & SGX_SECINFO_X);
	d->pending = 0; /* E3 */
	return 0;
}

/**
 * enclu_eacceptcopy() - ENCLU[EACCEPTCOPY]: initialize the PENDING page at
 * @dest with a copy of @src and the exact rights of the SECINFO at
 * @secinfo, and accept it.
 *
 * Return: 0, SGX_PAGE_ATTRIBUTES_MISMATCH, or a #GP/#PF fault.
 */
int enclu_eacceptcopy(struct sgx_lp *lp, uint64_t secinfo, uint64_t dest,
		      uint64_t src)
{
	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, EACCEPTCOPY);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, EACCEPTCOPY,
			    eacceptcopy(lp, secinfo, dest, src));
}
