/* SPDX-License-Identifier: MIT */
/*
 * The model's side of fragment.h's macros: what Linux's names do in the
 * model. Only fragment.h includes this.
 */
#ifndef SGXEMU_KERNEL_COMPAT_COMPAT_H
#define SGXEMU_KERNEL_COMPAT_COMPAT_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/encl.h"
#include "kernel/encls.h"

static inline bool sgx_compat_signal_pending(struct sgx_driver *drv)
{
	return drv->plat->signal_pending(drv->plat->ctx);
}

/* cond_resched(): the platform decides whether someone else runs. */
static inline void sgx_compat_cond_resched(struct sgx_driver *drv, bool on)
{
	if (on)
		drv->plat->preempt(drv->plat->ctx);
}

/* Whether the per-page checks run for this page; they are priced if so. */
static inline bool sgx_compat_loop_checks(struct sgx_encl *encl)
{
	if (encl->loop_checks)
		sgx_charge(encl->drv, SGX_COST_LOOP_CHECKS);
	return encl->loop_checks;
}

/* The window between pages: a test's injected event, if any. */
static inline void sgx_compat_window(struct sgx_encl *encl,
				     unsigned long offset)
{
	const struct sgx_fault_inject *inject = &encl->drv->inject;

	if (inject->edmm_page)
		inject->edmm_page(encl, offset >> PAGE_SHIFT,
				  inject->edmm_page_arg);
}

/* ETRACK on the SECS at secs; an injected failure does not run it. */
static inline int sgx_compat_etrack(struct sgx_encl *encl, uint64_t secs)
{
	if (sgx_inject_fire(&encl->drv->inject.etrack_fail))
		return SGX_PREV_TRK_INCMPL;
	return encls_etrack(encls_lp(encl->drv), secs);
}

#endif
