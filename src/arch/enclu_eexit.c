// SPDX-License-Identifier: MIT
/*
 * EEXIT - Exits an Enclave. SDM Vol. 3D, "EEXIT", ENCLU leaf 0x04.
 *
 * Operands: RBX = target address outside the enclave. Output: RCX = the
 * AEP the thread entered with, so software can EENTER again after an OCALL.
 *
 * Checks, in SDM order:
 *   C1 the LP is in enclave mode, else #GP.
 *   C2 RBX is canonical, else #GP.
 *
 * Effects:
 *   E1 RIP := RBX; RCX := TCS.AEP.
 *   E2 the FS/GS bases saved at entry come back.
 *   E3 RSP/RBP stay as the enclave set them.
 *   E4 TCS.STATE := INACTIVE.
 *   E5 the LP leaves the enclave's tracking set and enclave mode.
 *   E6 Flush_linear_context: the LP's TLB is flushed.
 *
 * E3 follows the SDM's EEXIT pseudocode, which writes neither RSP nor RBP:
 * runtimes build an OCALL's frame below the enclave's RSP, or restore the
 * outside stack from SSA.URSP themselves. Only an AEX restores them.
 * MODEL: EEXIT has no concurrency restriction that can fail.
 */
#include "arch/entry.h"

void lp_exit_enclave(struct sgx_lp *lp)
{
	struct tcs_hidden *hid = tcs_hidden_at(lp->cpu, lp->tcs);

	lp->regs.fsbase = hid->save_fsbase;
	lp->regs.gsbase = hid->save_gsbase;
	/* The TCS cannot leave the enclave while this LP runs on it. */
	ASSERT(tcs_bound(lp));
	tcs_at(lp->cpu, lp->tcs)->state = TCS_STATE_INACTIVE;
	memset(hid, 0, sizeof(*hid));
	lp_leave_tracking(lp);
	lp->enclave_mode = false;
	sgx_tlb_flush(lp);
}

static int eexit(struct sgx_lp *lp, uint64_t target)
{
	/* C1: only an enclave can leave. */
	if (!lp->enclave_mode)
		return sgx_gp(lp);
	/* C2: the target must be canonical. */
	if (!is_canonical(target))
		return sgx_gp(lp);

	lp->regs.rip = target; /* E1 */
	lp->regs.rcx = tcs_at(lp->cpu, lp->tcs)->exit_addr;
	lp_exit_enclave(lp); /* E2, E4-E6 */
	return 0;
}

/**
 * enclu_eexit() - ENCLU[EEXIT]: leave the enclave and continue at @target.
 *
 * Return: 0 with lp->regs.rip = @target and lp->regs.rcx = the AEP, or #GP.
 */
int enclu_eexit(struct sgx_lp *lp, uint64_t target)
{
	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, EEXIT);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, EEXIT, eexit(lp, target));
}
