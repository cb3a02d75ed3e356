/* SPDX-License-Identifier: MIT */
/*
 * ENCLS wrappers and result classification (arch/x86/kernel/cpu/sgx/encls.h,
 * linux-sgx-driver.md section 3). Each wrapper is a preemption point, then
 * runs the leaf on the caller's logical processor.
 */
#ifndef SGXEMU_KERNEL_ENCLS_H
#define SGXEMU_KERNEL_ENCLS_H

#include <stdio.h>

#include "kernel/sgx.h"

#define SGX_ENCLS_FAULT_FLAG SGX_FAULT_FLAG
#define ENCLS_TRAPNR(r) ((r) & ~SGX_ENCLS_FAULT_FLAG)

static inline bool encls_faulted(int ret)
{
	return ret & SGX_ENCLS_FAULT_FLAG;
}

/* A #PF is expected (EPCM conflicts, lost EPC): everything else failed. */
static inline bool encls_failed(int ret)
{
	if (encls_faulted(ret))
		return ENCLS_TRAPNR(ret) != X86_TRAP_PF;
	return !!ret;
}

/*
 * ENCLS_WARN: Linux prints a WARN_ONCE. The model counts it, because an
 * unexpected ENCLS result is a driver bug the explorer must report.
 */
#define ENCLS_WARN(drv, r, name)                                          \
	do {                                                              \
		(drv)->stats.encls_warnings++;                            \
		if ((drv)->stats.encls_warnings == 1)                     \
			fprintf(stderr, "sgxemu: %s returned %d (0x%x)\n", \
				name, r, r);                              \
	} while (0)

static inline struct sgx_lp *encls_lp(struct sgx_driver *drv)
{
	drv->plat->preempt(drv->plat->ctx);
	return drv->plat->this_lp(drv->plat->ctx);
}

static inline uint64_t sgx_get_epc_virt_addr(struct sgx_driver *drv,
					     const struct sgx_epc_page *page)
{
	return sgx_epc_addr(drv->cpu, page->index);
}

#define __ecreate(d, pi, epc) encls_ecreate(encls_lp(d), pi, epc)
#define __eadd(d, pi, epc) encls_eadd(encls_lp(d), pi, epc)
#define __eextend(d, secs, addr) encls_eextend(encls_lp(d), secs, addr)
#define __einit(d, sig, secs, tok) encls_einit(encls_lp(d), sig, secs, tok)
#define __eremove(d, epc) encls_eremove(encls_lp(d), epc)
#define __epa(d, epc) encls_epa(encls_lp(d), PT_VA, epc)
#define __eblock(d, epc) encls_eblock(encls_lp(d), epc)
#define __etrack(d, secs) encls_etrack(encls_lp(d), secs)
#define __ewb(d, pi, epc, va) encls_ewb(encls_lp(d), pi, epc, va)
#define __eldu(d, pi, epc, va) encls_eldu(encls_lp(d), pi, epc, va)
#define __eaug(d, pi, epc) encls_eaug(encls_lp(d), pi, epc)
#define __emodpr(d, si, epc) encls_emodpr(encls_lp(d), si, epc)
#define __emodt(d, si, epc) encls_emodt(encls_lp(d), si, epc)

#endif
