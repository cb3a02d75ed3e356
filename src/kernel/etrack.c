// SPDX-License-Identifier: MIT
/*
 * The ETRACK flow of the EDMM ioctls, and the one loop of
 * RESTRICT_PERMISSIONS and MODIFY_TYPES that runs it.
 *
 * sgx_enclave_etrack() is Linux 6.12's (ioctl.c, linux-sgx-driver.md
 * section 5.4): ETRACK on the SECS, then an IPI round to every CPU that may
 * run inside the enclave, so each takes an AEX and the tracking epoch
 * completes.
 *
 * sgx_edmm_walk() is the per-page loop of both ioctls, with the ETRACK flow
 * run once per batch of encl->etrack_batch pages (architecture.md section
 * 5, docs/BATCHED-ETRACK.md). Batch 1 is exactly Linux's loop; a larger
 * batch only moves the point where tracking happens. Every exit tracks the
 * pages it modified first, so the ioctl's count keeps Linux's meaning: each
 * page in [offset, offset + count) was modified and then tracked.
 */
#include <errno.h>

#include "kernel/encl.h"
#include "kernel/encls.h"

/* ETRACK on SECS; an injected failure (tests only) does not run it. */
static int sgx_etrack(struct sgx_encl *encl, uint64_t secs)
{
	if (sgx_inject_fire(&encl->drv->inject.etrack_fail))
		return SGX_PREV_TRK_INCMPL;
	return __etrack(encl->drv, secs);
}

/**
 * sgx_enclave_etrack() - ETRACK the enclave and IPI its CPUs
 * @encl:	an enclave pointer, with encl->lock held and SECS resident
 *
 * Linux holds encl->lock from the EMODPR or EMODT to the end of this flow;
 * sgx_edmm_walk() holds it from the last EMODPR/EMODT of a batch, the
 * earlier ones having had their windows (docs/BATCHED-ETRACK.md). The
 * caller keeps SECS resident: the page that ends a batch is a resident
 * child, and on an early exit sgx_edmm_walk() loads SECS first. ETRACK
 * fails only through an OS bug, such as two ETRACKs without a completed IPI
 * round in between; the flow then sends the IPI round and retries once.
 *
 * The mask is computed after ETRACK, so an mm added later enters with
 * fresh mappings; encl->lock makes sure no new ETRACK starts before the
 * IPIs of this one are done.
 *
 * MODEL: Linux's pr_err_once() of a failed ETRACK is the counter
 * encl->stats.etrack_failures, one per ETRACK that returned non-zero.
 *
 * Return: 0, or -EFAULT if the retry failed too.
 */
int sgx_enclave_etrack(struct sgx_encl *encl)
{
	struct sgx_driver *drv = encl->drv;
	uint64_t secs = sgx_get_epc_virt_addr(drv, encl->secs.epc_page);
	int ret;

	encl->stats.etrack_flows++;
	ret = sgx_etrack(encl, secs);
	if (ret) {
		encl->stats.etrack_failures++;
		/* Kick the CPUs out of the enclave, then try again. */
		sgx_ipi_mask(encl, sgx_encl_cpumask(encl));
		ret = sgx_etrack(encl, secs);
		if (ret) {
			encl->stats.etrack_failures++;
			return -EFAULT;
		}
	}
#ifdef SGXEMU_PLANTS
	if (sgx_planted(drv, NO_IPI))
		return 0;
#endif
	sgx_ipi_mask(encl, sgx_encl_cpumask(encl));
	return 0;
}

#ifdef SGXEMU_PLANTS
/*
 * The flow as two planted bugs run it. ETRACK_BEFORE_EMODPR: restrict ran
 * it before each EMODPR instead. BATCH_SECS_EVICTED: SECS is not loaded,
 * so ETRACK goes to the address SECS had when the batch began (Linux would
 * dereference a NULL epc_page).
 */
static int sgx_edmm_planted_etrack(struct sgx_encl *encl,
				   struct sgx_edmm_walk *w)
{
	if (w->etrack_first)
		return 0;
	if (encl->secs.epc_page)
		return sgx_enclave_etrack(encl);
	encl->stats.etrack_flows++;
	return sgx_etrack(encl, w->secs_addr) ? -EFAULT : 0;
}
#endif

/* The ETRACK flow of a batch, SECS loaded first if it was evicted. */
static int sgx_edmm_etrack(struct sgx_encl *encl, struct sgx_edmm_walk *w)
{
	int ret;

#ifdef SGXEMU_PLANTS
	if (w->etrack_first || sgx_planted(encl->drv, BATCH_SECS_EVICTED))
		return sgx_edmm_planted_etrack(encl, w);
#endif
	ret = sgx_encl_load_secs(encl);
	if (ret)
		return ret == -EBUSY ? -EAGAIN : -EFAULT;
	return sgx_enclave_etrack(encl);
}

/*
 * Under encl->lock: track the pages modified since the last flow,
 * [count, modified), then let the driver update its records for them.
 *
 * SECS is resident when the page that ends a batch is, but an early exit
 * may come after the reclaimer wrote back every child and then SECS in a
 * window between pages: sgx_edmm_etrack() loads it again.
 */
static int sgx_edmm_track(struct sgx_encl *encl, struct sgx_edmm_walk *w)
{
	uint64_t start = encl->base + w->offset;
	int ret;

	if (w->count == w->modified)
		return 0;
	ret = sgx_edmm_etrack(encl, w);
#ifdef SGXEMU_PLANTS
	ret = sgx_planted(encl->drv, COUNT_BEFORE_TRACKING) ? 0 : ret;
#endif
	if (ret)
		return ret;
	if (w->tracked)
		w->tracked(encl, start + w->count, start + w->modified);
	w->count = w->modified;
	return 0;
}

/* Whether the page just modified ends a batch: track now, while loaded. */
static bool sgx_edmm_batch_ends(const struct sgx_encl *encl,
				const struct sgx_edmm_walk *w)
{
	uint64_t pending = (w->modified - w->count) >> PAGE_SHIFT;

	if (w->modified == w->length)
		return true;
	return encl->etrack_batch && pending >= encl->etrack_batch;
}

/*
 * Under encl->lock: modify the next page, and track if it ends a batch.
 * If it fails, track the pages before it first: that is what makes count
 * cover exactly the tracked pages.
 *
 * MODEL: if the tracking of an early exit fails, its error is returned and
 * result goes back to 0: the page at offset + count is then one whose
 * EMODPR/EMODT succeeded (Linux, tracking every page, never meets this).
 */
static int sgx_edmm_page(struct sgx_encl *encl, struct sgx_edmm_walk *w)
{
	uint64_t addr = encl->base + w->offset + w->modified;
	int ret, track;

	ret = w->modify(encl, addr, w);
	if (!ret) {
#ifdef SGXEMU_PLANTS
		if (w->count == w->modified)
			w->secs_addr = sgx_get_epc_virt_addr(
				encl->drv, encl->secs.epc_page);
#endif
		w->modified += PAGE_SIZE;
		return sgx_edmm_batch_ends(encl, w) ? sgx_edmm_track(encl, w) :
						      0;
	}
#ifdef SGXEMU_PLANTS
	if (sgx_planted(encl->drv, BATCH_NO_EARLY_TRACK))
		return ret;
#endif
	track = sgx_edmm_track(encl, w);
	if (track) {
		*w->result = 0;
		return track;
	}
	return ret;
}

/* The window between pages: a test's injected event, if any. */
static void sgx_edmm_window(struct sgx_encl *encl, uint64_t index)
{
	const struct sgx_fault_inject *inject = &encl->drv->inject;

	if (inject->edmm_page)
		inject->edmm_page(encl, index, inject->edmm_page_arg);
}

/*
 * After the loop: if a signal stopped it, track the pages still untracked,
 * making room for SECS first as the loop does for a page.
 */
static int sgx_edmm_track_last(struct sgx_encl *encl, struct sgx_edmm_walk *w)
{
	struct sgx_driver *drv = encl->drv;
	int ret;

	if (w->count == w->modified)
		return 0;
#ifdef SGXEMU_PLANTS
	if (sgx_planted(drv, BATCH_NO_EARLY_TRACK))
		return 0;
#endif
	sgx_reclaim_direct(drv);
	mutex_lock(drv, &encl->lock);
	ret = sgx_edmm_track(encl, w);
	mutex_unlock(drv, &encl->lock);
	return ret;
}

/**
 * sgx_edmm_walk() - the per-page loop of RESTRICT_PERMISSIONS and
 * MODIFY_TYPES, with one ETRACK flow per batch
 * @encl:	an enclave pointer
 * @w:		the call: range, result, callbacks; progress starts at 0
 *
 * Per page, in address order: direct reclaim without the lock; under
 * encl->lock, load the page (SECS first if evicted), check and modify it
 * (@w->modify), and if it ends a batch run the ETRACK flow while it is
 * loaded. A batch is encl->etrack_batch pages, 0 meaning the whole range,
 * and the last page always ends one; so the lock is held for one page's
 * work plus at most one ETRACK round. An error, a page that cannot be
 * loaded, a signal or a failed ETRACK ends the walk after tracking the
 * pages modified so far, loading SECS under the lock if it was evicted.
 *
 * KERNEL: with an etrack_batch other than 1 the ETRACK flow runs once per
 * batch instead of after every page; errno, count and result keep their
 * Linux meaning (docs/BATCHED-ETRACK.md).
 *
 * KERNEL: a pending signal stops the walk between pages and a resched
 * point follows, as for ADD_PAGES; Linux 6.12 has neither (soft lockups on
 * huge ranges). -ERESTARTSYS only when no page was processed.
 *
 * On return @w->count is the ioctl's count: every page of [offset, offset +
 * count) was modified, then tracked. Pages after it were modified and left
 * untracked only if the tracking itself failed; a repeat call from offset
 * + count tracks them, redoing only what the enclave cannot tell from one
 * change (EMODPR of the same rights; an EMODT is not redone at all).
 *
 * Return: 0; -ERESTARTSYS; or the error of the page at offset + count
 * (-EAGAIN, -EFAULT, -EINVAL, -EPERM), -EFAULT if its ETRACK flow failed,
 * -EAGAIN/-EFAULT if SECS could not be loaded for it.
 */
long sgx_edmm_walk(struct sgx_encl *encl, struct sgx_edmm_walk *w)
{
	struct sgx_driver *drv = encl->drv;
	int ret;

	while (w->modified < w->length) {
		sgx_edmm_window(encl, w->modified >> PAGE_SHIFT);
		sgx_charge(drv, SGX_COST_LOOP_CHECKS);
		if (drv->plat->signal_pending(drv->plat->ctx))
			break;
		drv->plat->preempt(drv->plat->ctx); /* cond_resched() */
		sgx_reclaim_direct(drv);
		mutex_lock(drv, &encl->lock);
		ret = sgx_edmm_page(encl, w);
		mutex_unlock(drv, &encl->lock);
		if (ret)
			return ret;
	}
	if (!w->modified)
		return -ERESTARTSYS;
	return sgx_edmm_track_last(encl, w);
}
