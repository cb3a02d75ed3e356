/* SPDX-License-Identifier: MIT */
/*
 * The kernel-API compatibility layer, part 2: include it right before a
 * single-source fragment (src/kernel/upstream/<file>, spliced unchanged into
 * Linux's arch/x86/kernel/cpu/sgx/<file> by scripts/kernel-patch.sh) and
 * fragment_end.h right after it. In between, Linux's names mean the model's
 * operations, so the fragment compiles as it is written for the kernel.
 *
 * MODEL: the model has no `current` task and no global machine: several
 * drivers live in one process (the explorer runs many). Every fragment
 * function has its enclave in scope as `encl`, and the macros below reach
 * the machine through encl->drv; a fragment function without an `encl`
 * does not compile here, which keeps the rule checked.
 *
 * Hooks. Model-only work reaches a fragment only through one-line
 * statements whose first token is an SGX_MODEL_ macro (the splicer deletes
 * those lines; docs/BATCHED-ETRACK.md, "The upstream series"):
 *   SGX_MODEL_STAT(encl, field)	count an event in encl->stats
 *   SGX_MODEL_WINDOW(encl, offset)	a test's injected event between pages
 *   SGX_MODEL_LOOP_CHECKS(encl)	the per-page checks' on/off switch: the
 *					signal_pending() and cond_resched()
 *					after it do nothing when the enclave's
 *					loop_checks is off (Linux 6.12)
 *   SGX_MODEL_PLANT(encl, BUG, stmt)	run stmt if planted bug BUG is on
 *					(compat/kernel.h: the rest of the
 *					model may use it too)
 *
 * Adding a planted bug: give it a bit in sgx.h (SGX_PLANT_*, described
 * there), put one SGX_MODEL_PLANT(encl, NAME, stmt); line where the bug
 * happens, and if stmt needs more than a line, a helper in plants.h. Only
 * the *_planted libraries (-DSGXEMU_PLANTS) compile the stmt.
 */
#include "kernel/compat/plants.h"

/* <linux/mutex.h>: every encl->lock goes through the platform. */
#define mutex_lock(lock) mutex_lock(encl->drv, lock)
#define mutex_unlock(lock) mutex_unlock(encl->drv, lock)

/*
 * <linux/sched.h>: the thread running the fragment is the one that called
 * into the driver for this enclave; the per-page checks exist only after
 * SGX_MODEL_LOOP_CHECKS() has said whether they are on.
 */
#define current encl
#define signal_pending(task) \
	(sgx_loop_checks && sgx_compat_signal_pending((task)->drv))
#define cond_resched() sgx_compat_cond_resched(encl->drv, sgx_loop_checks)

/*
 * <linux/printk.h>. MODEL: pr_err_once() prints nothing; what the model
 * must see it counts through SGX_MODEL_STAT, e.g. a failed ETRACK in
 * encl->stats.etrack_failures.
 */
#define pr_err_once(...) \
	do {             \
	} while (0)

/* <linux/mman.h> */
#define PROT_READ SGX_PROT_READ
#define PROT_WRITE SGX_PROT_WRITE
#define calc_vm_prot_bits(prot, pkey) ((prot) & VM_ACCESS_FLAGS)

/* <linux/slab.h>; <linux/xarray.h> is compat/xarray.h, under its names. */
#define kfree(ptr) free(ptr)

/* <linux/smp.h>: the IPI round, counted in encl->stats (sgx_ipi_mask()). */
#define on_each_cpu_mask(mask, func, info, wait) sgx_ipi_mask(encl, mask)

/* sgx.h, main.c: Linux's global EPC and reclaimer are the enclave's driver. */
#define sgx_get_epc_virt_addr(page) \
	((void *)(uintptr_t)sgx_get_epc_virt_addr(encl->drv, page))
#define sgx_reclaim_direct() sgx_reclaim_direct(encl->drv)
#define sgx_mark_page_reclaimable(page) \
	sgx_mark_page_reclaimable(encl->drv, page)
#define sgx_unmark_page_reclaimable(page) \
	sgx_unmark_page_reclaimable(encl->drv, page)
#define sgx_encl_free_epc_page(page) sgx_encl_free_epc_page(encl, page)

/*
 * encls.h, with Linux's signatures: a preemption point, then the leaf on
 * the caller's LP. MODEL: an injected ETRACK failure (tests only,
 * drv->inject.etrack_fail) is part of the model's ENCLS, as a fault of the
 * CPU would be: SGX_PREV_TRK_INCMPL without running the leaf.
 */
#undef __etrack
#undef __emodpr
#undef __emodt
#define __etrack(addr) sgx_compat_etrack(encl, (uintptr_t)(addr))
#define __emodpr(secinfo, addr) \
	encls_emodpr(encls_lp(encl->drv), secinfo, (uintptr_t)(addr))
#define __emodt(secinfo, addr) \
	encls_emodt(encls_lp(encl->drv), secinfo, (uintptr_t)(addr))

/*
 * encl.h: the patch's batch constant is the model's per-enclave setting,
 * 0 (one flow per call) being a batch no range reaches.
 */
#define SGX_EDMM_ETRACK_BATCH \
	(encl->etrack_batch ? encl->etrack_batch : ULONG_MAX >> PAGE_SHIFT)

/* The hooks. */
#define SGX_MODEL_STAT(encl, field) ((encl)->stats.field++)
#define SGX_MODEL_WINDOW(encl, offset) sgx_compat_window(encl, offset)
#define SGX_MODEL_LOOP_CHECKS(encl) \
	const bool sgx_loop_checks = sgx_compat_loop_checks(encl)
