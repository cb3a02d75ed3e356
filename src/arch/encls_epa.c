// SPDX-License-Identifier: MIT
/*
 * EPA - Add Version Array. SDM Vol. 3D, "EPA", ENCLS leaf 0x0A.
 *
 * Operands: RBX = PT_VA (a constant), RCX = EPC address of the page.
 *
 * Checks, in SDM order:
 *   C1 RBX is PT_VA, else #GP.
 *   C2 RCX is 4 KiB aligned, else #GP.
 *   C3 RCX is in the EPC, else #PF.
 *   C4 the page is free (VALID = 0), else #PF.
 *
 * Effects:
 *   E1 the page is zeroed: every slot is empty (a version is never 0).
 *   E2 EPCM := PT_VA, no rights, address 0, BLOCKED, PENDING, MODIFIED and
 *      PR clear, no tracking stamp, VALID.
 *
 * MODEL: a VA page has no owner; its ENCLAVESECS names the page itself, as
 * for a SECS, so that no field points at an unrelated page.
 * MODEL: leaves are atomic, so the SDM's concurrency #GP (another SGX
 * instruction using the page) never fires.
 */
#include "arch/internal.h"

static int epa(struct sgx_lp *lp, uint64_t page_type, uint64_t epc)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct epcm_entry *e;
	uint64_t idx;

	/* C1: RBX must name the only page type EPA creates. */
	if (page_type != PT_VA)
		return sgx_gp(lp);
	/* C2: page alignment. */
	if (!is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C3: the target must be an EPC page. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	e = epcm_at(cpu, idx);
	/* C4: and a free one. */
	if (e->valid)
		return sgx_pf_epcm(lp, epc);

	memset(epc_page_at(cpu, idx), 0, PAGE_SIZE); /* E1 */
	*e = (struct epcm_entry){ /* E2 */
		.valid = 1,
		.pt = PT_VA,
		.enclave_secs = (uint32_t)idx,
	};
	epc_mark_written(cpu, idx);
	return 0;
}

/**
 * encls_epa() - ENCLS[EPA]: turn the free EPC page @epc into an empty
 * version array.
 *
 * Return: 0, or a #GP/#PF fault.
 */
int encls_epa(struct sgx_lp *lp, uint64_t page_type, uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EPA);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EPA,
			    ret ? ret : epa(lp, page_type, epc));
}
