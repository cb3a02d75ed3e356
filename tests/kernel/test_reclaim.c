// SPDX-License-Identifier: MIT
/*
 * The EPC allocator and the reclaimer (main.c), enclave pages, loading and
 * eviction (encl.c): linux-sgx-driver.md sections 4, 6 (release) and 7.
 * Enclaves are built through the ioctls by the kernel fixture; the tests
 * then drive sgx_reclaim_pages(), sgx_encl_load_page() and friends
 * directly, in sim's direct mode, or on sim threads where an interleaving
 * is the point, with a chooser that opens exactly the window under test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel/encl.h"
#include "kfixture.h"

static struct kfx fx;

#define NR_FIXED_PAGES (KFX_HEAP / PAGE_SIZE) /* TCS, text, data: 11 */
#define LOOPS_MAX 10000

static void setup(uint64_t epc_pages, uint64_t heap_pages)
{
	struct kfx_config cfg = { .epc_pages = epc_pages,
				  .heap_size = heap_pages * PAGE_SIZE };

	kfx_init(&fx, &cfg);
}

static uint64_t nr_children(void)
{
	return fx.total_size / PAGE_SIZE;
}

static unsigned int nr_va_pages(void)
{
	unsigned int n = 0;
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &fx.encl->va_pages)
		n++;
	return n;
}

static unsigned int va_slots_used(const struct sgx_va_page *va_page)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(va_page->slots); i++)
		n += __builtin_popcountll(va_page->slots[i]);
	return n;
}

static unsigned int list_len(const struct list_head *head)
{
	unsigned int n = 0;

	for (const struct list_head *pos = head->next; pos != head;
	     pos = pos->next)
		n++;
	return n;
}

static uint64_t nr_evicted(void)
{
	uint64_t n = 0;

	for (uint64_t off = 0; off < fx.total_size; off += PAGE_SIZE)
		n += !kfx_page(&fx, off)->epc_page;
	return n;
}

static uint8_t *epc_bytes(uint64_t offset)
{
	return (uint8_t *)(uintptr_t)sgx_epc_addr(&fx.cpu,
						  kfx_epc_index(&fx, offset));
}

/* Reclaim batch after batch until nothing reclaimable is left. */
static void evict_all(void)
{
	unsigned int loops = 0;

	while (!list_empty(&fx.drv.active_page_list)) {
		cr_assert_lt(loops++, LOOPS_MAX);
		sgx_reclaim_pages(&fx.drv);
	}
}

/* What an EDMM ioctl does per page: direct reclaim, lock, load, unlock. */
static struct sgx_encl_page *load(uint64_t offset, int *err)
{
	struct sgx_encl_page *page;

	sgx_reclaim_direct(&fx.drv);
	mutex_lock(&fx.drv, &fx.encl->lock);
	page = sgx_encl_load_page(fx.encl, fx.base + offset);
	mutex_unlock(&fx.drv, &fx.encl->lock);
	*err = IS_ERR(page) ? (int)PTR_ERR(page) : 0;
	return IS_ERR(page) ? NULL : page;
}

static void assert_free_pages_invalid(void)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &fx.drv.free_list) {
		struct sgx_epc_page *page =
			list_entry(pos, struct sgx_epc_page, list);

		cr_assert_eq(page->flags, SGX_EPC_PAGE_IS_FREE);
		cr_assert_eq(sgx_epcm(&fx.cpu, page->index)->valid, 0,
			     "free EPC page %lu is valid in the EPCM",
			     (unsigned long)page->index);
	}
	cr_assert_eq(list_len(&fx.drv.free_list), fx.drv.nr_free_pages);
}

/*
 * The watermarks scale with the EPC (MODEL in main.c) and reach Linux's
 * 32/64 from 256 pages on.
 */
Test(alloc, watermarks_scale_with_the_epc)
{
	setup(64, 1);
	cr_assert_eq(fx.drv.nr_low_pages, 8);
	cr_assert_eq(fx.drv.nr_high_pages, 16);
	kfx_fini(&fx);
	setup(4096, 1);
	cr_assert_eq(fx.drv.nr_low_pages, SGX_NR_LOW_PAGES);
	cr_assert_eq(fx.drv.nr_high_pages, SGX_NR_HIGH_PAGES);
	kfx_fini(&fx);
}

/* Take every free page, without reclaim; returns how many. */
static unsigned int hold_all_free(struct sgx_epc_page **held, unsigned int max)
{
	unsigned int n = 0;
	int err;

	while (fx.drv.nr_free_pages) {
		cr_assert_lt(n, max);
		held[n] = sgx_alloc_epc_page(&fx.drv, NULL, false, &err);
		cr_assert_not_null(held[n]);
		cr_assert_eq(held[n]->flags, 0);
		n++;
	}
	return n;
}

/*
 * An empty free list: -EBUSY without reclaim while pages are reclaimable,
 * a reclaimed batch with it, -ENOMEM once nothing is left to reclaim.
 */
Test(alloc, empty_free_list)
{
	struct sgx_epc_page *held[64], *page;
	unsigned int n;
	int err = 0;

	setup(64, 16);
	kfx_build(&fx);
	n = hold_all_free(held, ARRAY_SIZE(held));
	cr_assert_eq(fx.drv.stats.ksgxd_wakeups, fx.drv.nr_low_pages);

	cr_assert_null(sgx_alloc_epc_page(&fx.drv, NULL, false, &err));
	cr_assert_eq(err, -EBUSY);
	cr_assert_eq(fx.drv.stats.reclaim_batches, 0);

	page = sgx_alloc_epc_page(&fx.drv, NULL, true, &err);
	cr_assert_not_null(page);
	cr_assert_eq(fx.drv.stats.direct_reclaims, 1);
	cr_assert_eq(fx.drv.stats.reclaimed_pages, SGX_NR_TO_SCAN);
	cr_assert_eq(fx.drv.nr_free_pages, SGX_NR_TO_SCAN - 1);
	sgx_free_epc_page(&fx.drv, page);

	evict_all();
	n += hold_all_free(held + n, ARRAY_SIZE(held) - n);
	err = 0;
	cr_assert_null(sgx_alloc_epc_page(&fx.drv, NULL, true, &err));
	cr_assert_eq(err, -ENOMEM);
	cr_assert_null(sgx_alloc_epc_page(&fx.drv, NULL, false, &err));
	cr_assert_eq(err, -ENOMEM);
	while (n)
		sgx_free_epc_page(&fx.drv, held[--n]);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

struct alloc_call {
	struct sgx_epc_page *page;
	int err;
};

static void alloc_with_reclaim(void *arg)
{
	struct alloc_call *c = arg;

	c->page = sgx_alloc_epc_page(&fx.drv, NULL, true, &c->err);
}

/* A pending signal stops the reclaim loop before any batch runs. */
Test(alloc, signal_pending_gives_erestartsys)
{
	struct sgx_epc_page *held[64];
	struct alloc_call call = { 0 };
	unsigned int n;
	int id;

	setup(64, 16);
	kfx_build(&fx);
	n = hold_all_free(held, ARRAY_SIZE(held));
	id = sim_spawn(&fx.sim, "alloc", 0, false, alloc_with_reclaim, &call);
	cr_assert_geq(id, 0);
	fx.sim.threads[id].signal_pending = true;
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_null(call.page);
	cr_assert_eq(call.err, -ERESTARTSYS);
	cr_assert_eq(fx.drv.stats.reclaim_batches, 0);
	while (n)
		sgx_free_epc_page(&fx.drv, held[--n]);
	kfx_fini(&fx);
}

/*
 * One batch takes the 16 oldest pages. EBLOCK stamps all of them before
 * the first EWB, so a single ETRACK tracks the whole batch: 17 EWBs, one
 * ETRACK, no IPI (no LP is inside).
 */
Test(reclaim, one_batch_on_a_tiny_epc)
{
	uint64_t free0, etrack0, children;

	setup(64, 16);
	kfx_build(&fx);
	children = nr_children();
	cr_assert_eq(fx.encl->secs_child_cnt, children);
	cr_assert_eq(fx.drv.stats.reclaim_batches, 0);
	free0 = fx.drv.nr_free_pages;
	etrack0 = fx.cpu.stats.encls[ETRACK];

	sgx_reclaim_pages(&fx.drv);

	cr_assert_eq(fx.drv.stats.reclaim_batches, 1);
	cr_assert_eq(fx.drv.stats.reclaimed_pages, SGX_NR_TO_SCAN);
	cr_assert_eq(fx.drv.nr_free_pages, free0 + SGX_NR_TO_SCAN);
	cr_assert_eq(fx.encl->stats.ewb, SGX_NR_TO_SCAN + 1);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK] - etrack0, 1);
	cr_assert_eq(fx.encl->stats.ipi_rounds, 0);
	cr_assert_eq(fx.drv.stats.secs_evictions, 0);
	cr_assert_eq(fx.encl->secs_child_cnt, children - SGX_NR_TO_SCAN);
	for (uint64_t i = 0; i < children; i++) {
		struct sgx_encl_page *page = kfx_page(&fx, i * PAGE_SIZE);

		if (i < SGX_NR_TO_SCAN) {
			cr_assert_null(page->epc_page, "page %lu", i);
			cr_assert_not_null(page->va_page);
			cr_assert_eq(page->desc & SGX_ENCL_PAGE_VA_OFFSET_MASK,
				     i * 8, "VA slots are taken in order");
		} else {
			cr_assert_not_null(page->epc_page, "page %lu", i);
		}
	}
	cr_assert_eq(nr_va_pages(), 1);
	cr_assert_eq(va_slots_used(list_first_entry(
			     &fx.encl->va_pages, struct sgx_va_page, list)),
		     SGX_NR_TO_SCAN);
	assert_free_pages_invalid();
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/* Fill every REG page with bytes no other page has. */
static void scribble_reg_pages(void)
{
	for (uint64_t off = 0; off < fx.total_size; off += PAGE_SIZE) {
		uint8_t *p;

		if (sgx_encl_page_type_now(kfx_page(&fx, off)) != PT_REG)
			continue;
		p = epc_bytes(off);
		for (unsigned int i = 0; i < PAGE_SIZE; i++)
			p[i] = (uint8_t)(off / PAGE_SIZE * 31 + i * 7 + 1);
	}
}

/*
 * Everything out (children, then SECS), everything back: each page's
 * contents and EPCM attributes are what they were, and SECS came back
 * once, with the first child.
 */
Test(reclaim, contents_survive_ewb_and_eldu)
{
	static uint8_t before[64][PAGE_SIZE];
	struct epcm_entry epcm[64];
	uint64_t children, off;
	int err;

	setup(256, 32);
	kfx_build(&fx);
	children = nr_children();
	cr_assert_leq(children, ARRAY_SIZE(before));
	scribble_reg_pages();
	for (off = 0; off < fx.total_size; off += PAGE_SIZE) {
		memcpy(before[off / PAGE_SIZE], epc_bytes(off), PAGE_SIZE);
		epcm[off / PAGE_SIZE] = *kfx_epcm(&fx, off);
	}

	evict_all();
	cr_assert_eq(fx.encl->secs_child_cnt, 0);
	cr_assert_null(fx.encl->secs.epc_page);
	cr_assert_eq(fx.drv.stats.secs_evictions, 1);
	cr_assert_eq(fx.drv.nr_free_pages, 256 - nr_va_pages());
	/* One extra EWB per batch (before its ETRACK), one for SECS. */
	cr_assert_eq(fx.encl->stats.ewb,
		     children + 1 + fx.drv.stats.reclaim_batches);

	for (off = 0; off < fx.total_size; off += PAGE_SIZE) {
		const struct epcm_entry *e;

		cr_assert_not_null(load(off, &err), "offset %#lx: %d", off,
				   err);
		cr_assert_eq(memcmp(epc_bytes(off), before[off / PAGE_SIZE],
				    PAGE_SIZE), 0, "offset %#lx", off);
		e = kfx_epcm(&fx, off);
		cr_assert_eq(e->pt, epcm[off / PAGE_SIZE].pt);
		cr_assert_eq(e->r, epcm[off / PAGE_SIZE].r);
		cr_assert_eq(e->w, epcm[off / PAGE_SIZE].w);
		cr_assert_eq(e->x, epcm[off / PAGE_SIZE].x);
		cr_assert_eq(e->enclave_address, fx.base + off);
		cr_assert_eq(e->blocked, 0);
	}
	cr_assert_eq(fx.encl->stats.eldu, children + 1);
	cr_assert_eq(fx.encl->secs_child_cnt, children);
	cr_assert_eq(list_len(&fx.drv.active_page_list), children);
	assert_free_pages_invalid();
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * Loading a child of an enclave whose SECS is out ELDUs SECS first: the
 * child's ELDU names the new SECS page. The child's departure takes SECS
 * out again.
 */
Test(reclaim, secs_reloaded_before_its_child)
{
	const struct epcm_entry *e;
	uint64_t secs_index;
	int err;

	setup(256, 1);
	kfx_build(&fx);
	evict_all();
	cr_assert_null(fx.encl->secs.epc_page);
	cr_assert_eq(fx.encl->stats.eldu, 0);

	cr_assert_not_null(load(KFX_DATA_START, &err), "err %d", err);
	cr_assert_eq(fx.encl->stats.eldu, 2);
	cr_assert_not_null(fx.encl->secs.epc_page);
	secs_index = fx.encl->secs.epc_page->index;
	cr_assert_eq(sgx_epcm(&fx.cpu, secs_index)->pt, PT_SECS);
	cr_assert_eq(sgx_secs_child_count(&fx.cpu, secs_index), 1);
	e = kfx_epcm(&fx, KFX_DATA_START);
	cr_assert_eq(e->enclave_secs, secs_index);
	cr_assert_eq(fx.encl->secs_child_cnt, 1);

	sgx_reclaim_pages(&fx.drv);
	cr_assert_null(fx.encl->secs.epc_page);
	cr_assert_eq(fx.drv.stats.secs_evictions, 2);
	cr_assert_eq(sgx_epcm(&fx.cpu, secs_index)->valid, 0);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/* Before EINIT the enclave is being built: its SECS stays resident. */
Test(reclaim, secs_stays_before_einit)
{
	setup(256, 1);
	kfx_build_uninit(&fx);
	evict_all();
	cr_assert_eq(fx.encl->secs_child_cnt, 0);
	cr_assert_not_null(fx.encl->secs.epc_page);
	cr_assert_eq(fx.drv.stats.secs_evictions, 0);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * With no free EPC page and nothing reclaimable, a load fails with the
 * allocator's error and leaves the page evicted.
 */
Test(reclaim, load_without_a_free_page)
{
	struct sgx_epc_page *held[256];
	unsigned int n;
	int err = 0;

	setup(256, 1);
	kfx_build(&fx);
	evict_all();
	n = hold_all_free(held, ARRAY_SIZE(held));
	mutex_lock(&fx.drv, &fx.encl->lock);
	cr_assert_eq(PTR_ERR(sgx_encl_load_page(fx.encl, fx.base + KFX_DATA)),
		     -ENOMEM);
	cr_assert_eq(PTR_ERR(sgx_encl_load_secs(fx.encl)), -ENOMEM);
	mutex_unlock(&fx.drv, &fx.encl->lock);
	cr_assert_null(kfx_page(&fx, KFX_DATA)->epc_page);
	cr_assert_eq(fx.encl->stats.eldu, 0);
	while (n)
		sgx_free_epc_page(&fx.drv, held[--n]);

	cr_assert_not_null(load(KFX_DATA, &err), "err %d", err);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/* An address where no page was ever added is -EFAULT, evicted or not. */
Test(reclaim, load_of_a_hole_is_efault)
{
	int err = 0;

	setup(256, 1);
	kfx_build(&fx);
	cr_assert_null(load(fx.total_size, &err));
	cr_assert_eq(err, -EFAULT);
	err = 0;
	cr_assert_null(load(fx.size, &err));
	cr_assert_eq(err, -EFAULT);
	kfx_fini(&fx);
}

/* VA slots: first free slot first, 512 per page, offsets in bytes. */
Test(va, slot_allocation)
{
	struct sgx_va_page va = { 0 };

	for (unsigned int i = 0; i < SGX_VA_SLOT_COUNT; i++) {
		cr_assert_not(sgx_va_page_full(&va));
		cr_assert_eq(sgx_alloc_va_slot(&va), i * 8);
	}
	cr_assert(sgx_va_page_full(&va));
	sgx_free_va_slot(&va, 100 * 8);
	sgx_free_va_slot(&va, 7 * 8);
	cr_assert_not(sgx_va_page_full(&va));
	cr_assert_eq(sgx_alloc_va_slot(&va), 7 * 8);
	cr_assert_eq(sgx_alloc_va_slot(&va), 100 * 8);
	cr_assert(sgx_va_page_full(&va));
}

/*
 * page_cnt counts SECS and every page; a VA page is added whenever it is
 * a multiple of 512 before the increment. 512 pages fit one VA page, the
 * 513th needs a second.
 */
static void check_va_growth(uint64_t heap_pages, unsigned int va_pages)
{
	struct list_head *pos, *tmp;

	setup(1024, heap_pages);
	kfx_build(&fx);
	cr_assert_eq(fx.encl->page_cnt, 1 + NR_FIXED_PAGES + heap_pages);
	cr_assert_eq(nr_va_pages(), va_pages);
	list_for_each_safe(pos, tmp, &fx.encl->va_pages) {
		struct sgx_va_page *va_page =
			list_entry(pos, struct sgx_va_page, list);

		cr_assert_eq(sgx_epcm(&fx.cpu, va_page->epc_page->index)->pt,
			     PT_VA);
		cr_assert_eq(va_slots_used(va_page), 0);
	}
}

Test(va, one_page_for_512)
{
	check_va_growth(512 - 1 - NR_FIXED_PAGES, 1);
	kfx_fini(&fx);
}

/*
 * With 513 pages out (SECS included) one VA page is full and at the tail,
 * the other holds one slot; a reload frees its slot and moves that VA page
 * to the head.
 */
Test(va, second_page_for_513)
{
	struct sgx_va_page *head, *tail, *owner;
	int err;

	check_va_growth(513 - 1 - NR_FIXED_PAGES, 2);
	evict_all();
	cr_assert_null(fx.encl->secs.epc_page);
	head = list_first_entry(&fx.encl->va_pages, struct sgx_va_page, list);
	tail = list_entry(fx.encl->va_pages.prev, struct sgx_va_page, list);
	cr_assert_eq(va_slots_used(head), 1);
	cr_assert_eq(va_slots_used(tail), SGX_VA_SLOT_COUNT);
	cr_assert(sgx_va_page_full(tail));

	owner = kfx_page(&fx, KFX_DATA)->va_page;
	cr_assert_eq(owner, tail);
	cr_assert_not_null(load(KFX_DATA, &err), "err %d", err);
	cr_assert_eq(list_first_entry(&fx.encl->va_pages, struct sgx_va_page,
				      list), tail);
	/* SECS came back too, freeing the head's only slot. */
	cr_assert_eq(va_slots_used(tail), SGX_VA_SLOT_COUNT - 1);
	cr_assert_eq(va_slots_used(head), 0);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * The window of a page the reclaimer is writing back: a sim thread runs
 * sgx_reclaim_pages() and the chooser lets a second thread in exactly while
 * the watched page is resident with BEING_RECLAIMED set.
 */
struct window {
	struct sgx_encl_page *page;
	unsigned int reclaimer, intruder;
	bool seen; /* the intruder ran inside the window */
	struct sgx_encl_page *loaded;
	int unmark_ret;
	long restrict_ret;
	uint64_t count, result;
	bool close; /* the intruder closes the file instead */
};

static bool window_open(const struct window *w)
{
	return w->page->epc_page &&
	       (w->page->desc & SGX_ENCL_PAGE_BEING_RECLAIMED);
}

static unsigned int choose_window(void *ctx, const unsigned int *runnable,
				  unsigned int n, unsigned int current)
{
	struct window *w = ctx;
	unsigned int want = w->reclaimer;

	(void)current;
	if (w->seen || window_open(w))
		want = w->intruder;
	for (unsigned int i = 0; i < n; i++)
		if (runnable[i] == want)
			return i;
	return 0;
}

static void reclaimer_thread(void *arg)
{
	(void)arg;
	sgx_reclaim_pages(&fx.drv);
}

static void intruder_thread(void *arg)
{
	struct window *w = arg;

	w->seen = window_open(w);
	if (w->close) {
		kfx_close(&fx);
		return;
	}
	mutex_lock(&fx.drv, &fx.encl->lock);
	w->loaded = sgx_encl_load_page(fx.encl, sgx_encl_page_addr(w->page));
	w->unmark_ret = sgx_unmark_page_reclaimable(&fx.drv,
						     w->page->epc_page);
	mutex_unlock(&fx.drv, &fx.encl->lock);
	w->restrict_ret = kfx_restrict(&fx, sgx_encl_page_addr(w->page) -
					       fx.base,
				       PAGE_SIZE, SGX_SECINFO_R, &w->count,
				       &w->result);
}

static void run_window(struct window *w)
{
	int id;

	id = sim_spawn(&fx.sim, "reclaimer", 0, false, reclaimer_thread, w);
	cr_assert_geq(id, 0);
	w->reclaimer = (unsigned int)id;
	id = sim_spawn(&fx.sim, "intruder", 1, false, intruder_thread, w);
	cr_assert_geq(id, 0);
	w->intruder = (unsigned int)id;
	fx.sim.choose = choose_window;
	fx.sim.choose_ctx = w;
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert(w->seen, "the intruder never ran inside the window");
}

/*
 * Inside the window a load answers -EBUSY, unmarking answers -EBUSY (the
 * page is tracked but on no list), and an EDMM ioctl turns it into -EAGAIN
 * with count 0. Afterwards the page is simply evicted and loads again.
 */
Test(reclaim, being_reclaimed_window)
{
	struct window w = { 0 };
	int err;

	setup(256, 1);
	kfx_build(&fx);
	w.page = kfx_page(&fx, KFX_DATA_START);
	/* Put the watched page first in line. */
	mutex_lock(&fx.drv, &fx.drv.reclaimer_lock);
	list_move(&w.page->epc_page->list, &fx.drv.active_page_list);
	mutex_unlock(&fx.drv, &fx.drv.reclaimer_lock);

	run_window(&w);
	cr_assert_eq(PTR_ERR(w.loaded), -EBUSY);
	cr_assert_eq(w.unmark_ret, -EBUSY);
	cr_assert_eq(w.restrict_ret, -EAGAIN);
	cr_assert_eq(w.count, 0);
	cr_assert_eq(w.result, 0);

	cr_assert_null(w.page->epc_page);
	cr_assert_eq(fx.drv.stats.reclaimed_pages, nr_children());
	cr_assert_not_null(load(KFX_DATA_START, &err), "err %d", err);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * Closing the file while a batch holds pages of the enclave: the batch's
 * reference keeps the enclave alive, and its last sgx_encl_put() releases
 * it. Every EPC page is free at the end.
 */
Test(release, close_during_a_batch)
{
	struct window w = { .close = true };

	setup(256, 1);
	kfx_build_uninit(&fx);
	cr_assert_eq(kfx_einit(&fx), 0);
	w.page = kfx_page(&fx, 0);
	run_window(&w);
	cr_assert_null(fx.file);
	cr_assert_eq(fx.drv.stats.reclaimed_pages, nr_children());
	cr_assert_eq(fx.drv.nr_free_pages, 256);
	cr_assert_eq(fx.drv.stats.encls_warnings, 0);
	assert_free_pages_invalid();
	kfx_fini(&fx);
}

/*
 * Release on close frees every EPC page: resident children, evicted ones
 * (their backing just goes), SECS whether in or out, and the VA pages.
 */
static void check_release(bool evict_everything)
{
	setup(64, 40);
	kfx_build_uninit(&fx);
	cr_assert_eq(kfx_einit(&fx), 0);
	if (evict_everything)
		evict_all();
	else
		sgx_reclaim_pages(&fx.drv);
	cr_assert_lt(fx.drv.nr_free_pages, 64);
	kfx_close(&fx);
	cr_assert_eq(fx.drv.nr_free_pages, 64);
	cr_assert_eq(fx.drv.stats.encls_warnings, 0);
	cr_assert(list_empty(&fx.drv.active_page_list));
	assert_free_pages_invalid();
	kfx_fini(&fx);
}

Test(release, close_frees_every_epc_page)
{
	check_release(false);
}

Test(release, close_frees_an_evicted_enclave)
{
	check_release(true);
}

/*
 * ksgxd sleeps until an allocation leaves fewer than the low watermark
 * free, then reclaims until the high watermark is reached (here 31 free
 * pages, three batches to reach 64), and sleeps again; it returns once
 * told to stop.
 */
Test(reclaim, ksgxd_refills_to_the_high_watermark)
{
	struct sgx_epc_page *held[2];
	int id, err;

	/* 477 children, SECS and one VA page leave 33 pages free. */
	setup(512, 477 - NR_FIXED_PAGES);
	kfx_build(&fx);
	cr_assert_eq(fx.drv.nr_low_pages, 32);
	cr_assert_eq(fx.drv.nr_high_pages, 64);
	cr_assert_eq(fx.drv.nr_free_pages, 33);
	cr_assert_eq(fx.drv.stats.ksgxd_wakeups, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(held); i++) {
		held[i] = sgx_alloc_epc_page(&fx.drv, NULL, false, &err);
		cr_assert_not_null(held[i]);
	}
	cr_assert_eq(fx.drv.nr_free_pages, 31);
	cr_assert_eq(fx.drv.stats.ksgxd_wakeups, 1);

	id = sim_spawn(&fx.sim, "ksgxd", 0, true, ksgxd, &fx.drv);
	cr_assert_geq(id, 0);
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_eq(fx.sim.threads[id].state, SIM_SLEEPING);
	cr_assert_eq(fx.drv.stats.reclaim_batches, 3);
	cr_assert_eq(fx.drv.nr_free_pages, 31 + 3 * SGX_NR_TO_SCAN);

	fx.drv.ksgxd_stop = true;
	fx.drv.plat->ksgxd_wake(fx.drv.plat->ctx);
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_eq(fx.sim.threads[id].state, SIM_DONE);
	for (unsigned int i = 0; i < ARRAY_SIZE(held); i++)
		sgx_free_epc_page(&fx.drv, held[i]);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * An enclave eight times the EPC is built (ADD_PAGES reclaims as it goes),
 * initialized, and then read back page by page the way the EDMM ioctls
 * load pages: every heap page still holds its own bytes.
 */
Test(reclaim, enclave_eight_times_the_epc)
{
	const uint64_t heap_pages = 8 * 64;
	struct kfx_segment *heap;
	int err;

	setup(64, heap_pages);
	heap = &fx.seg[KFX_SEG_HEAP];
	for (uint64_t i = 0; i < heap->size; i++)
		heap->src[i] = (uint8_t)(i / PAGE_SIZE * 13 + i * 3 + 5);
	kfx_build(&fx);
	/* At most 61 children fit beside SECS and two VA pages. */
	cr_assert_eq(nr_evicted(), fx.drv.stats.reclaimed_pages);
	cr_assert_geq(nr_evicted(), nr_children() - 61);

	for (uint64_t off = 0; off < heap->size; off += PAGE_SIZE) {
		cr_assert_not_null(load(heap->offset + off, &err),
				   "offset %#lx: %d", off, err);
		cr_assert_eq(memcmp(epc_bytes(heap->offset + off),
				    heap->src + off, PAGE_SIZE), 0,
			     "heap page %lu", off / PAGE_SIZE);
	}
	cr_assert_gt(fx.drv.stats.direct_reclaims, 0);
	assert_free_pages_invalid();
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/* Move every page but the heap's to the tail of the active list. */
static void heap_first(void)
{
	mutex_lock(&fx.drv, &fx.drv.reclaimer_lock);
	for (uint64_t off = 0; off < KFX_HEAP; off += PAGE_SIZE)
		list_move_tail(&kfx_page(&fx, off)->epc_page->list,
			       &fx.drv.active_page_list);
	mutex_unlock(&fx.drv, &fx.drv.reclaimer_lock);
}

/*
 * With an LP inside the enclave, ETRACK alone cannot track the batch: the
 * first EWB after it still says SGX_NOT_TRACKED, so sgx_encl_ewb() sends
 * one IPI round, which forces the LP out, and the third EWB succeeds. The
 * rest of the batch needs neither.
 */
Test(reclaim, ipi_forces_an_lp_out)
{
	uint64_t etrack0;

	setup(256, SGX_NR_TO_SCAN);
	kfx_build(&fx);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, NULL), 0);
	cr_assert(fx.cpu.lps[1].enclave_mode);
	heap_first();
	etrack0 = fx.cpu.stats.encls[ETRACK];

	sgx_reclaim_pages(&fx.drv);

	cr_assert_eq(fx.drv.stats.reclaimed_pages, SGX_NR_TO_SCAN);
	cr_assert_eq(fx.encl->stats.ewb, SGX_NR_TO_SCAN + 2);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK] - etrack0, 1);
	cr_assert_eq(fx.encl->stats.ipi_rounds, 1);
	cr_assert_eq(fx.encl->stats.ipi_aex, 1);
	cr_assert_not(fx.cpu.lps[1].enclave_mode);
	for (uint64_t off = 0; off < SGX_NR_TO_SCAN * PAGE_SIZE;
	     off += PAGE_SIZE)
		cr_assert_null(kfx_page(&fx, KFX_HEAP + off)->epc_page);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * A page the enclave touched since the last scan is young: the batch
 * clears its accessed bit and puts it back at the tail; the next scan
 * takes it.
 */
Test(reclaim, young_page_goes_back_to_the_tail)
{
	struct sgx_encl_page *young;
	uint64_t value;

	setup(256, SGX_NR_TO_SCAN);
	kfx_build(&fx);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_read(&fx, 1, KFX_HEAP, &value, sizeof(value), NULL),
		     0);
	kfx_exit(&fx, 1);
	heap_first();
	young = kfx_page(&fx, KFX_HEAP);

	sgx_reclaim_pages(&fx.drv);

	cr_assert_not_null(young->epc_page);
	cr_assert_eq(fx.drv.stats.reclaimed_pages, SGX_NR_TO_SCAN - 1);
	cr_assert_eq(fx.drv.active_page_list.prev, &young->epc_page->list);
	evict_all();
	cr_assert_null(young->epc_page);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * What ksgxd would do between two accesses of an enclave thread: reclaim up
 * to the high watermark. Its IPIs may force the LP out; ERESUME goes back.
 */
static void ksgxd_step(unsigned int lp)
{
	unsigned int loops = 0;

	while (sgx_should_reclaim(&fx.drv, fx.drv.nr_high_pages)) {
		cr_assert_lt(loops++, LOOPS_MAX);
		sgx_reclaim_pages(&fx.drv);
	}
	if (!fx.cpu.lps[lp].enclave_mode)
		cr_assert_eq(kfx_eresume(&fx, lp, NULL), 0);
}

/*
 * End to end on an EPC smaller than the enclave: the enclave writes its
 * own bytes to every heap page (faulting evicted pages back in), all of it
 * is evicted, SECS included, and the enclave reads every page back through
 * the fault path.
 */
Test(reclaim, enclave_reads_back_what_it_wrote)
{
	const uint64_t heap_pages = 96;
	static uint8_t buf[PAGE_SIZE];
	struct kfx_fault f;

	setup(64, heap_pages);
	kfx_build(&fx);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, NULL), 0);
	for (uint64_t i = 0; i < heap_pages; i++) {
		memset(buf, (int)(i * 5 + 1), sizeof(buf));
		buf[i] = 0xA5;
		ksgxd_step(1);
		cr_assert_eq(kfx_write(&fx, 1, KFX_HEAP + i * PAGE_SIZE, buf,
				       sizeof(buf), &f), 0);
		cr_assert_not(f.raised);
	}
	kfx_exit(&fx, 1);
	evict_all();
	cr_assert_null(fx.encl->secs.epc_page);
	cr_assert_eq(nr_evicted(), nr_children());

	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	cr_assert_gt(f.fixed, 0);
	for (uint64_t i = 0; i < heap_pages; i++) {
		ksgxd_step(1);
		cr_assert_eq(kfx_read(&fx, 1, KFX_HEAP + i * PAGE_SIZE, buf,
				      sizeof(buf), &f), 0);
		cr_assert_not(f.raised);
		cr_assert_eq(buf[i], 0xA5, "heap page %lu", i);
		buf[i] = (uint8_t)(i * 5 + 1);
		for (unsigned int j = 0; j < PAGE_SIZE; j++)
			cr_assert_eq(buf[j], (uint8_t)(i * 5 + 1),
				     "heap page %lu byte %u", i, j);
	}
	/* Every page came back by ELDU; LP 1 was IPIed out on the way. */
	cr_assert_geq(fx.encl->stats.eldu, heap_pages + 1);
	cr_assert_gt(fx.encl->stats.ipi_aex, 0);
	cr_assert_eq(fx.encl->stats.ipis, fx.encl->stats.ipi_rounds);
	kfx_exit(&fx, 1);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * A reclaimer that meets the pages of an enclave whose release is already
 * running (refcount 0) must not take a reference: it drops them from the
 * active list untouched, and release frees them.
 */
struct dying {
	struct sgx_encl *encl;
	unsigned int closer, reclaimer;
	bool reclaimer_done;
};

static unsigned int choose_dying(void *ctx, const unsigned int *runnable,
				 unsigned int n, unsigned int current)
{
	struct dying *d = ctx;
	unsigned int want = d->closer;

	(void)current;
	if (!d->reclaimer_done && !d->encl->refcount)
		want = d->reclaimer;
	for (unsigned int i = 0; i < n; i++)
		if (runnable[i] == want)
			return i;
	return 0;
}

static void closer_thread(void *arg)
{
	(void)arg;
	kfx_close(&fx);
}

static void dying_reclaimer_thread(void *arg)
{
	struct dying *d = arg;

	sgx_reclaim_pages(&fx.drv);
	d->reclaimer_done = true;
}

Test(release, reclaimer_skips_a_dying_enclave)
{
	struct dying d = { 0 };
	int id;

	setup(256, 1);
	kfx_build_uninit(&fx);
	cr_assert_eq(kfx_einit(&fx), 0);
	d.encl = fx.encl;
	id = sim_spawn(&fx.sim, "closer", 0, false, closer_thread, &d);
	cr_assert_geq(id, 0);
	d.closer = (unsigned int)id;
	id = sim_spawn(&fx.sim, "reclaimer", 1, false, dying_reclaimer_thread,
		       &d);
	cr_assert_geq(id, 0);
	d.reclaimer = (unsigned int)id;
	fx.sim.choose = choose_dying;
	fx.sim.choose_ctx = &d;
	cr_assert_eq(sim_run(&fx.sim), 0);

	cr_assert(d.reclaimer_done);
	cr_assert_null(fx.file);
	cr_assert_eq(fx.drv.stats.reclaim_batches, 1);
	cr_assert_eq(fx.drv.stats.reclaimed_pages, 0);
	cr_assert(list_empty(&fx.drv.active_page_list));
	cr_assert_eq(fx.drv.nr_free_pages, 256);
	cr_assert_eq(fx.drv.stats.encls_warnings, 0);
	assert_free_pages_invalid();
	kfx_fini(&fx);
}
