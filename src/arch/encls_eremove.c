// SPDX-License-Identifier: MIT
/*
 * EREMOVE - Remove a page from the EPC. SDM Vol. 3D, "EREMOVE", ENCLS leaf
 * 0x03.
 *
 * Operands: RCX = EPC address of the page.
 *
 * Checks, in SDM order:
 *   C1 RCX is 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF.
 *   C3 the page is VALID; a free page is a successful no-op.
 *   C4 a SECS has no child pages, else SGX_CHILD_PRESENT.
 *   C5 no LP is executing inside the owning enclave, else SGX_ENCLAVE_ACT.
 *      Skipped for VA and SECS pages, which no enclave uses, and for a TRIM
 *      page the enclave has accepted (MODIFIED = 0): that is how a running
 *      enclave gives trimmed pages back.
 *
 * Effects:
 *   E1 EPCM.VALID := 0.
 *   E2 for a child page, the owner's child count drops.
 *
 * EREMOVE needs no tracking: either no LP is inside, or the page is an
 * accepted TRIM page, whose EACCEPT already required tracking and which no
 * TLB maps (TRIM is not accessible).
 *
 * UNCERTAIN: the SDM text folds "PT = TRIM and MODIFIED = 0" into the
 * VALID = 0 no-op, which would leave an accepted TRIM page VALID for ever;
 * we clear VALID, as Linux's remove-pages flow requires
 * (sgx-architecture.md section 4, EREMOVE).
 * MODEL: leaves are atomic, so the SDM's concurrency #GP (another SGX
 * instruction using the page) never fires.
 */
#include "arch/internal.h"
#include "arch/paging.h"

/* Whether removing the page must wait until no LP runs in its enclave. */
static bool needs_inactive(const struct epcm_entry *e)
{
	if (!pt_is_child(e->pt))
		return false;
	return !(e->pt == PT_TRIM && !e->modified);
}

static int eremove(struct sgx_lp *lp, uint64_t epc)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct epcm_entry *e;
	uint64_t idx;

	/* C1: page alignment. */
	if (!is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: the target must be an EPC page. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	e = epcm_at(cpu, idx);
	/* C3: a free page is already removed. */
	if (!e->valid)
		return 0;
	/* C4: a SECS goes last, after every page it owns. */
	if (e->pt == PT_SECS && secs_hidden_at(cpu, idx)->child_count)
		return SGX_CHILD_PRESENT;
	/* C5: an LP inside may still use the page through its TLB. */
	if (needs_inactive(e) &&
	    secs_hidden_at(cpu, e->enclave_secs)->active_count)
		return SGX_ENCLAVE_ACT;

	e->valid = 0; /* E1 */
	if (pt_is_child(e->pt)) /* E2 */
		secs_hidden_at(cpu, e->enclave_secs)->child_count--;
	return 0;
}

/**
 * encls_eremove() - ENCLS[EREMOVE]: free the EPC page @epc.
 *
 * Return: 0, SGX_CHILD_PRESENT, SGX_ENCLAVE_ACT, or a #GP/#PF fault.
 */
int encls_eremove(struct sgx_lp *lp, uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EREMOVE);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EREMOVE,
			    ret ? ret : eremove(lp, epc));
}
