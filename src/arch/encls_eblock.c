// SPDX-License-Identifier: MIT
/*
 * EBLOCK - Mark a page in EPC as Blocked. SDM Vol. 3D, "EBLOCK", ENCLS leaf
 * 0x09.
 *
 * Operands: RCX = EPC address of the page.
 *
 * Checks, in SDM order:
 *   C1 RCX is 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF.
 *   C3 the page is VALID, else SGX_PG_INVLD.
 *   C4 the page is not a SECS, else SGX_PG_IS_SECS.
 *   C5 the page type is blockable (REG, TCS, TRIM, SS), else
 *      SGX_NOTBLOCKABLE (a VA page).
 *   C6 the page is not BLOCKED yet, else SGX_BLKSTATE and nothing changes.
 *
 * Effects:
 *   E1 EPCM.BLOCKED := 1: no LP can fill a TLB entry for the page any more.
 *   E2 MODEL: the page is stamped with the SECS epoch, so EWB can tell
 *      whether an ETRACK cycle has flushed the entries filled before E1
 *      (sgx-architecture.md section 3.2 rule 5).
 *
 * EBLOCK checks neither PENDING, MODIFIED, PR nor INIT.
 *
 * MODEL: the SDM reports SGX_BLKSTATE, SGX_NOTBLOCKABLE and SGX_PG_IS_SECS
 * with CF and the others with ZF; the model returns every code in the int
 * alone, as Linux's ENCLS wrappers see it.
 * MODEL: leaves are atomic, so SGX_EPC_PAGE_CONFLICT (page in use) and
 * SGX_ENTRYEPOCH_LOCKED (an ETRACK updating the epoch) never occur.
 */
#include "arch/internal.h"
#include "arch/paging.h"

static int eblock(struct sgx_lp *lp, uint64_t epc)
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
	/* C3: a free page cannot be blocked. */
	if (!e->valid)
		return SGX_PG_INVLD;
	/* C4: a SECS is never mapped, so there is nothing to block. */
	if (e->pt == PT_SECS)
		return SGX_PG_IS_SECS;
	/* C5: nor is a VA page. */
	if (!pt_is_child(e->pt))
		return SGX_NOTBLOCKABLE;
	/* C6: tell the caller the page was blocked already (for ELDB). */
	if (e->blocked)
		return SGX_BLKSTATE;

	e->blocked = 1; /* E1 */
	epcm_stamp(e, secs_hidden_at(cpu, e->enclave_secs)); /* E2 */
	return 0;
}

/**
 * encls_eblock() - ENCLS[EBLOCK]: block @epc ahead of its eviction.
 *
 * Return: 0, SGX_PG_INVLD, SGX_PG_IS_SECS, SGX_NOTBLOCKABLE, SGX_BLKSTATE,
 * or a #GP/#PF fault.
 */
int encls_eblock(struct sgx_lp *lp, uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EBLOCK);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EBLOCK,
			    ret ? ret : eblock(lp, epc));
}
