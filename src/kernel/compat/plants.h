/* SPDX-License-Identifier: MIT */
/*
 * The planted behaviours that take more than a line of an
 * SGX_MODEL_PLANT() hook (compat/kernel.h); -DSGXEMU_PLANTS only.
 */
#ifndef SGXEMU_KERNEL_COMPAT_PLANTS_H
#define SGXEMU_KERNEL_COMPAT_PLANTS_H

#include "kernel/compat/compat.h"

#ifdef SGXEMU_PLANTS
/*
 * BATCH_SECS_EVICTED: SECS is not loaded for the flow, so ETRACK goes to
 * the address SECS had when the batch began (Linux would dereference a
 * NULL epc_page). Records the batch's start, then runs the stale flow.
 */
static inline void sgx_plant_batch_start(struct sgx_encl *encl)
{
	encl->plant_secs_addr =
		sgx_get_epc_virt_addr(encl->drv, encl->secs.epc_page);
}

static inline int sgx_plant_etrack_stale(struct sgx_encl *encl,
					 unsigned long done, u64 *count)
{
	encl->stats.etrack_flows++;
	if (sgx_compat_etrack(encl, encl->plant_secs_addr))
		return -EFAULT;
	*count = done;
	return 0;
}

/* ETRACK_BEFORE_EMODPR: the flow ran before the EMODPR instead. */
static inline int sgx_plant_tracked(unsigned long done, u64 *count)
{
	*count = done;
	return 0;
}
#endif

#endif
