// SPDX-License-Identifier: MIT
/*
 * ETRACK - Activate EBLOCK Checks. SDM Vol. 3D, "ETRACK", ENCLS leaf 0x0C.
 *
 * Operands: RCX = EPC address of the SECS.
 *
 * Checks, in SDM order:
 *   C1 RCX is 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF.
 *   C3 the page is VALID and a PT_SECS, else #PF.
 *   C4 TRACKING(secs) is clear: no LP that entered before the previous
 *      ETRACK is still inside, else SGX_PREV_TRK_INCMPL.
 *
 * Effects:
 *   E1 every LP inside now becomes part of the tracked set (prev_active).
 *   E2 the epoch advances, so stamps taken before now can become tracked.
 *
 * MODEL: the epoch counter and the tracked-set counter follow
 * sgx-architecture.md section 3.2 (the SDM shows neither). Leaves are
 * atomic in this model, so the SDM's "another tracking user" #GP cannot
 * occur and has no check here.
 */
#include "arch/internal.h"

static int etrack(struct sgx_lp *lp, uint64_t secs)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct secs_hidden *h;
	uint64_t idx;

	/* C1: SECS operand must be page aligned. */
	if (!is_aligned(secs, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: and inside the EPC. */
	if (!epc_lookup(cpu, secs, &idx))
		return sgx_pf_epcm(lp, secs);
	/* C3: a valid SECS page. */
	if (!epcm_is_secs(epcm_at(cpu, idx)))
		return sgx_pf_epcm(lp, secs);
	h = secs_hidden_at(cpu, idx);
	/* C4: the previous tracking cycle must have drained. */
	if (secs_tracking(h))
		return SGX_PREV_TRK_INCMPL;

	h->prev_active = h->active_count; /* E1 */
	h->epoch++; /* E2 */
	return 0;
}

/**
 * encls_etrack() - ENCLS[ETRACK] on the SECS at @secs.
 *
 * Return: 0, SGX_PREV_TRK_INCMPL, or a #GP/#PF fault.
 */
int encls_etrack(struct sgx_lp *lp, uint64_t secs)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, ETRACK);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, ETRACK,
			    ret ? ret : etrack(lp, secs));
}
