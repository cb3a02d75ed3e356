// SPDX-License-Identifier: MIT
/*
 * The EPC page allocator and the reclaimer, after Linux 6.12
 * arch/x86/kernel/cpu/sgx/main.c (linux-sgx-driver.md section 7). Linux's
 * globals (the free and active lists, their locks, the free page count,
 * ksgxd) live in struct sgx_driver.
 *
 * Where an EPC page is:
 * - on drv->free_list, flags == IS_FREE;
 * - on drv->active_page_list, RECLAIMER_TRACKED: reclaimable;
 * - RECLAIMER_TRACKED but on no list: isolated in a reclaimer batch, "being
 *   reclaimed", so sgx_unmark_page_reclaimable() answers -EBUSY;
 * - on no list and not tracked: in use and pinned (SECS, VA pages, a page
 *   an ioctl took off the active list).
 *
 * Lock order: encl->lock, then reclaimer_lock or free_lock. The last two
 * are leaves: nothing else is taken while one of them is held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/encl.h"
#include "kernel/encls.h"

static uint64_t sgx_nr_free_pages(const struct sgx_driver *drv)
{
	return __atomic_load_n(&drv->nr_free_pages, __ATOMIC_RELAXED);
}

/**
 * sgx_should_reclaim() - whether free EPC is below a watermark while
 * something could still be reclaimed.
 * @drv: the driver
 * @watermark: drv->nr_low_pages or drv->nr_high_pages
 *
 * Return: true when fewer than @watermark pages are free and the active
 * list is not empty (never under the injected drv->inject.epc_exhausted).
 */
bool sgx_should_reclaim(const struct sgx_driver *drv, uint64_t watermark)
{
	if (drv->inject.epc_exhausted)
		return false;
	return sgx_nr_free_pages(drv) < watermark &&
	       !list_empty(&drv->active_page_list);
}

static struct sgx_epc_page *__sgx_alloc_epc_page(struct sgx_driver *drv)
{
	struct sgx_epc_page *page = NULL;

	mutex_lock(drv, &drv->free_lock);
	if (!list_empty(&drv->free_list)) {
		page = list_first_entry(&drv->free_list, struct sgx_epc_page,
					list);
		list_del_init(&page->list);
		page->flags = 0;
		__atomic_fetch_sub(&drv->nr_free_pages, 1, __ATOMIC_RELAXED);
	}
	mutex_unlock(drv, &drv->free_lock);
	return page;
}

/**
 * sgx_alloc_epc_page() - take a free EPC page, reclaiming if allowed.
 * @drv: the driver
 * @owner: the sgx_encl_page (or sgx_encl, for a VA page) that will own it
 * @reclaim: whether to reclaim pages synchronously when none is free
 * @err: receives the error when NULL is returned
 *
 * When the free list is empty: with nothing on the active list the answer
 * is -ENOMEM; without @reclaim it is -EBUSY; otherwise reclaim batches run
 * until a page frees up, a signal is pending (-ERESTARTSYS) or nothing is
 * left to reclaim. ksgxd is woken whenever free pages fall below the low
 * watermark.
 *
 * Return: the page (flags 0, owner set), or NULL with *@err set.
 */
struct sgx_epc_page *sgx_alloc_epc_page(struct sgx_driver *drv, void *owner,
					bool reclaim, int *err)
{
	const struct sgx_platform *plat = drv->plat;
	struct sgx_epc_page *page;

	/* Injected (tests only): as if every page were in use and pinned. */
	if (drv->inject.epc_exhausted) {
		*err = -ENOMEM;
		return NULL;
	}
	for (;;) {
		page = __sgx_alloc_epc_page(drv);
		if (page) {
			page->owner = owner;
			break;
		}
		if (list_empty(&drv->active_page_list)) {
			*err = -ENOMEM;
			return NULL;
		}
		if (!reclaim) {
			*err = -EBUSY;
			break;
		}
		if (plat->signal_pending(plat->ctx)) {
			*err = -ERESTARTSYS;
			break;
		}
		drv->stats.direct_reclaims++;
		sgx_reclaim_pages(drv);
		plat->preempt(plat->ctx); /* cond_resched() */
	}
	if (sgx_should_reclaim(drv, drv->nr_low_pages)) {
		drv->stats.ksgxd_wakeups++;
		plat->ksgxd_wake(plat->ctx);
	}
	return page;
}

/**
 * sgx_free_epc_page() - put an EPC page back on the free list.
 * @drv: the driver
 * @page: a page the EPCM no longer holds valid (EREMOVEd or written back)
 *
 * Freed pages go to the tail, so the free list hands out the least
 * recently freed page first, as Linux's does.
 */
void sgx_free_epc_page(struct sgx_driver *drv, struct sgx_epc_page *page)
{
	mutex_lock(drv, &drv->free_lock);
	page->owner = NULL;
	list_add_tail(&page->list, &drv->free_list);
	page->flags = SGX_EPC_PAGE_IS_FREE;
	__atomic_fetch_add(&drv->nr_free_pages, 1, __ATOMIC_RELAXED);
	mutex_unlock(drv, &drv->free_lock);
}

/**
 * sgx_mark_page_reclaimable() - make an enclave page a reclaim candidate.
 * @drv: the driver
 * @page: a resident REG or TCS page whose owner is its sgx_encl_page
 *
 * The page goes to the tail of the active list, so pages are reclaimed
 * oldest first.
 */
void sgx_mark_page_reclaimable(struct sgx_driver *drv,
			       struct sgx_epc_page *page)
{
	mutex_lock(drv, &drv->reclaimer_lock);
	page->flags |= SGX_EPC_PAGE_RECLAIMER_TRACKED;
	list_add_tail(&page->list, &drv->active_page_list);
	mutex_unlock(drv, &drv->reclaimer_lock);
}

/**
 * sgx_unmark_page_reclaimable() - take a page off the active list.
 * @drv: the driver
 * @page: the page
 *
 * Return: 0 when the page is no longer reclaimable (or never was), -EBUSY
 * when a reclaimer batch holds it: tracked, yet on no list.
 */
int sgx_unmark_page_reclaimable(struct sgx_driver *drv,
				struct sgx_epc_page *page)
{
	int ret = 0;

	mutex_lock(drv, &drv->reclaimer_lock);
	if (page->flags & SGX_EPC_PAGE_RECLAIMER_TRACKED) {
		if (list_empty(&page->list)) {
			ret = -EBUSY;
		} else {
			list_del_init(&page->list);
			page->flags &= ~SGX_EPC_PAGE_RECLAIMER_TRACKED;
		}
	}
	mutex_unlock(drv, &drv->reclaimer_lock);
	return ret;
}

/* kref_get_unless_zero(): a dying enclave must not be touched. */
static bool sgx_encl_get_unless_zero(struct sgx_encl *encl)
{
	unsigned int ref = __atomic_load_n(&encl->refcount, __ATOMIC_RELAXED);

	do {
		if (!ref)
			return false;
	} while (!__atomic_compare_exchange_n(&encl->refcount, &ref, ref + 1,
					      true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

/*
 * Take up to SGX_NR_TO_SCAN pages off the head of the active list. The
 * list_del_init() is what marks them "being reclaimed". Each kept page pins
 * its enclave; a page of a dying enclave is just forgotten, since its
 * release is about to free it.
 */
static unsigned int sgx_reclaimer_isolate(struct sgx_driver *drv,
					  struct sgx_epc_page **chunk)
{
	unsigned int cnt = 0;

	mutex_lock(drv, &drv->reclaimer_lock);
	for (unsigned int i = 0; i < SGX_NR_TO_SCAN; i++) {
		struct sgx_epc_page *page;

		if (list_empty(&drv->active_page_list))
			break;
		page = list_first_entry(&drv->active_page_list,
					struct sgx_epc_page, list);
		list_del_init(&page->list);
		if (sgx_encl_get_unless_zero(page->owner->encl))
			chunk[cnt++] = page;
		else
			page->flags &= ~SGX_EPC_PAGE_RECLAIMER_TRACKED;
	}
	mutex_unlock(drv, &drv->reclaimer_lock);
	return cnt;
}

/* A page some mm accessed since the last scan is young and stays. */
static bool sgx_reclaimer_age(struct sgx_epc_page *epc_page)
{
	struct sgx_encl_page *page = epc_page->owner;

	return !sgx_encl_test_and_clear_young(page->encl, page);
}

/*
 * Age the page and get its backing store; from here on loads of the page
 * see BEING_RECLAIMED and answer -EBUSY. A page that stays goes back to the
 * tail of the active list and unpins its enclave.
 */
static bool sgx_reclaimer_prepare(struct sgx_driver *drv,
				  struct sgx_epc_page *epc_page,
				  struct sgx_backing_page **backing)
{
	struct sgx_encl_page *encl_page = epc_page->owner;
	struct sgx_encl *encl = encl_page->encl;
	uint64_t addr = sgx_encl_page_addr(encl_page);

	*backing = NULL;
	if (sgx_reclaimer_age(epc_page)) {
		mutex_lock(drv, &encl->lock);
		*backing = sgx_encl_backing(encl,
					    sgx_encl_page_index(encl, addr));
		if (*backing)
			encl_page->desc |= SGX_ENCL_PAGE_BEING_RECLAIMED;
		mutex_unlock(drv, &encl->lock);
	}
	if (*backing)
		return true;

	mutex_lock(drv, &drv->reclaimer_lock);
	list_add_tail(&epc_page->list, &drv->active_page_list);
	mutex_unlock(drv, &drv->reclaimer_lock);
	sgx_encl_put(encl);
	return false;
}

/* Unmap the page everywhere, then EBLOCK it so no new TLB entry appears. */
static void sgx_reclaimer_block(struct sgx_driver *drv,
				struct sgx_epc_page *epc_page)
{
	struct sgx_encl_page *page = epc_page->owner;
	struct sgx_encl *encl = page->encl;
	int ret;

	sgx_zap_enclave_ptes(encl, sgx_encl_page_addr(page));
	mutex_lock(drv, &encl->lock);
	ret = __eblock(drv, sgx_get_epc_virt_addr(drv, epc_page));
	if (encls_failed(ret))
		ENCLS_WARN(drv, ret, "EBLOCK");
	mutex_unlock(drv, &encl->lock);
}

/*
 * Write the page back; once the enclave's last child is out, SECS follows
 * (only after EINIT: before it the enclave is still being built).
 */
static void sgx_reclaimer_write(struct sgx_driver *drv,
				struct sgx_epc_page *epc_page,
				struct sgx_backing_page *backing)
{
	struct sgx_encl_page *encl_page = epc_page->owner;
	struct sgx_encl *encl = encl_page->encl;
	struct sgx_backing_page *secs_backing;

	mutex_lock(drv, &encl->lock);
	sgx_encl_ewb(encl, epc_page, backing);
	encl_page->epc_page = NULL;
	encl->secs_child_cnt--;

	if (!encl->secs_child_cnt && (encl->flags & SGX_ENCL_INITIALIZED)) {
		secs_backing = sgx_encl_backing(encl, encl->size >> PAGE_SHIFT);
		if (secs_backing) {
			if (!sgx_encl_ewb(encl, encl->secs.epc_page,
					  secs_backing))
				drv->stats.secs_evictions++;
			sgx_encl_free_epc_page(encl, encl->secs.epc_page);
			encl->secs.epc_page = NULL;
		}
	}
	mutex_unlock(drv, &encl->lock);
}

/**
 * sgx_reclaim_pages() - reclaim one batch of up to SGX_NR_TO_SCAN pages.
 * @drv: the driver
 *
 * In passes over the whole batch, so that one ETRACK and one IPI round can
 * cover many pages: isolate and pin, age and get backing, zap PTEs and
 * EBLOCK, then EWB (sgx_encl_ewb) and free. Called with no lock held.
 */
void sgx_reclaim_pages(struct sgx_driver *drv)
{
	struct sgx_epc_page *chunk[SGX_NR_TO_SCAN];
	struct sgx_backing_page *backing[SGX_NR_TO_SCAN];
	unsigned int cnt, i;

	drv->stats.reclaim_batches++;
	cnt = sgx_reclaimer_isolate(drv, chunk);
	for (i = 0; i < cnt; i++)
		if (!sgx_reclaimer_prepare(drv, chunk[i], &backing[i]))
			chunk[i] = NULL;
	for (i = 0; i < cnt; i++)
		if (chunk[i])
			sgx_reclaimer_block(drv, chunk[i]);
	for (i = 0; i < cnt; i++) {
		struct sgx_epc_page *epc_page = chunk[i];
		struct sgx_encl *encl;

		if (!epc_page)
			continue;
		encl = epc_page->owner->encl;
		sgx_reclaimer_write(drv, epc_page, backing[i]);
		sgx_encl_put(encl);
		epc_page->flags &= ~SGX_EPC_PAGE_RECLAIMER_TRACKED;
		sgx_free_epc_page(drv, epc_page);
		drv->stats.reclaimed_pages++;
	}
}

/**
 * sgx_reclaim_direct() - reclaim one batch if free EPC is below the low
 * watermark.
 * @drv: the driver
 *
 * The EDMM ioctls call it before each page, without encl->lock, so that the
 * ELDU they may need under the lock (which cannot reclaim) finds a page.
 */
void sgx_reclaim_direct(struct sgx_driver *drv)
{
	if (sgx_should_reclaim(drv, drv->nr_low_pages)) {
		drv->stats.direct_reclaims++;
		sgx_reclaim_pages(drv);
	}
}

/**
 * sgx_ipi_mask() - on_each_cpu_mask(mask, sgx_ipi_cb, NULL, true).
 * @encl: the enclave whose flow sends the round (for its counters)
 * @mask: the target LPs
 *
 * Counts the round, its targets, and the targets that are inside this
 * enclave and so will take an AEX, then has the platform deliver it and
 * wait for every target.
 */
void sgx_ipi_mask(struct sgx_encl *encl, const struct sgx_cpumask *mask)
{
	struct sgx_driver *drv = encl->drv;
	const struct sgx_cpu *cpu = drv->cpu;
	const struct sgx_epc_page *secs = encl->secs.epc_page;

	encl->stats.ipi_rounds++;
	for (unsigned int i = 0; i < cpu->cfg.nr_lps; i++) {
		const struct sgx_lp *lp = &cpu->lps[i];

		if (!sgx_cpumask_test(mask, i))
			continue;
		encl->stats.ipis++;
		if (secs && lp->enclave_mode && lp->active_secs == secs->index)
			encl->stats.ipi_aex++;
	}
	drv->plat->ipi(drv->plat->ctx, mask);
}

/**
 * ksgxd() - the reclaimer thread's body.
 * @p: the struct sgx_driver
 *
 * Sleeps until free pages fall below the high watermark with pages left to
 * reclaim, then reclaims batch by batch until that no longer holds. Returns
 * once drv->ksgxd_stop is set (set it, then wake ksgxd).
 */
void ksgxd(void *p)
{
	struct sgx_driver *drv = p;
	const struct sgx_platform *plat = drv->plat;

	while (!__atomic_load_n(&drv->ksgxd_stop, __ATOMIC_ACQUIRE)) {
		if (!sgx_should_reclaim(drv, drv->nr_high_pages)) {
			plat->ksgxd_sleep(plat->ctx);
			continue;
		}
		sgx_reclaim_pages(drv);
		plat->preempt(plat->ctx); /* cond_resched() */
	}
}

/*
 * MODEL: Linux's watermarks (SGX_NR_LOW_PAGES 32, SGX_NR_HIGH_PAGES 64)
 * assume thousands of EPC pages. On a tiny EPC ksgxd could never free 64
 * pages and would evict without end, so both scale to 1/8 and 1/4 of the
 * EPC (at least 1 and 2); an EPC of 256 pages or more gets Linux's values.
 */
static void sgx_set_watermarks(struct sgx_driver *drv, uint64_t nr_pages)
{
	uint64_t low = nr_pages / 8, high = nr_pages / 4;

	drv->nr_low_pages = low < 1 ? 1 : low > SGX_NR_LOW_PAGES ?
				SGX_NR_LOW_PAGES : low;
	drv->nr_high_pages = high < 2 ? 2 : high > SGX_NR_HIGH_PAGES ?
				SGX_NR_HIGH_PAGES : high;
}

/**
 * sgx_driver_init() - set up the driver over an emulated CPU: one
 * struct sgx_epc_page per EPC page, all free, in index order.
 * @drv: the driver to fill
 * @cpu: the CPU package, whose EPC is all free
 * @plat: the platform (locks, LPs, IPIs, ksgxd's wait queue)
 * @cfg: the configuration; NULL means an SGX2 CPU
 *
 * ksgxd is not started here: a platform runs ksgxd(drv) as a daemon thread
 * if it wants background reclaim.
 *
 * Return: 0, -EINVAL for an empty EPC, or -ENOMEM.
 */
int sgx_driver_init(struct sgx_driver *drv, struct sgx_cpu *cpu,
		    const struct sgx_platform *plat,
		    const struct sgx_driver_config *cfg)
{
	uint64_t nr_pages = cpu->cfg.epc_pages;

	memset(drv, 0, sizeof(*drv));
	if (!nr_pages)
		return -EINVAL;
	drv->epc_pages = calloc(nr_pages, sizeof(*drv->epc_pages));
	if (!drv->epc_pages)
		return -ENOMEM;
	drv->cpu = cpu;
	drv->plat = plat;
	drv->cfg = cfg ? *cfg : (struct sgx_driver_config){ .sgx2 = true };
	INIT_LIST_HEAD(&drv->free_list);
	INIT_LIST_HEAD(&drv->active_page_list);
	plat->mutex_init(plat->ctx, &drv->reclaimer_lock);
	plat->mutex_init(plat->ctx, &drv->free_lock);
	for (uint64_t i = 0; i < nr_pages; i++) {
		struct sgx_epc_page *page = &drv->epc_pages[i];

		page->index = i;
		page->flags = SGX_EPC_PAGE_IS_FREE;
		list_add_tail(&page->list, &drv->free_list);
	}
	drv->nr_free_pages = nr_pages;
	sgx_set_watermarks(drv, nr_pages);
	/*
	 * sgx_drv_init() reads the XFRM the CPU supports from CPUID 12H.1
	 * when the kernel has XSAVE enabled (OSXSAVE), as the model always
	 * does: the reserved mask follows the CPU, AVX-512 and all.
	 */
	drv->xfrm_reserved_mask = ~sgx_cpu_xfrm_supported(cpu);
	return 0;
}

/**
 * sgx_driver_destroy() - free the driver's page descriptors.
 * @drv: the driver; every enclave is released and ksgxd has returned
 */
void sgx_driver_destroy(struct sgx_driver *drv)
{
	free(drv->epc_pages);
	drv->epc_pages = NULL;
	INIT_LIST_HEAD(&drv->free_list);
	INIT_LIST_HEAD(&drv->active_page_list);
	drv->nr_free_pages = 0;
}
