// SPDX-License-Identifier: MIT
/*
 * Enclave pages, their loading and eviction, VA slots, the backing store and
 * the enclave's release, after Linux 6.12 arch/x86/kernel/cpu/sgx/encl.c
 * (linux-sgx-driver.md sections 4, 6 "sgx_encl_release" and 7 "Reload").
 *
 * The life of an enclave page (struct sgx_encl_page), all under encl->lock
 * except where the reclaimer says otherwise:
 *
 *   added (EADD/EAUG) --mark reclaimable--> resident, on the active list
 *   resident --reclaimer isolates, ages--> BEING_RECLAIMED: loads say -EBUSY
 *   BEING_RECLAIMED --EBLOCK, EWB--> evicted: epc_page NULL, contents in
 *       encl->backing at index, version in VA slot (desc bits 3..11, va_page)
 *   evicted --sgx_encl_load_page: SECS first, then ELDU--> resident again
 *   any --REMOVE_PAGES or release--> EREMOVE, entry freed
 *
 * SECS follows its children: the reclaimer writes it back after the last
 * child of an initialized enclave, and every load brings it back first.
 *
 * The page array is an xarray by PFN_DOWN(address), as in Linux
 * (compat/xarray.h). KERNEL: the backing store is an xarray of heap pages,
 * each a page of contents plus its PCMD, by page number (SECS at size /
 * PAGE_SIZE), not a shmem file with packed PCMD pages, so there is no PCMD
 * page shared between neighbours and nothing like Linux's
 * reclaimer_writing_to_pcmd() is needed. Both hold memory only for pages
 * that exist (and, for the backing, are evicted): an ELRANGE of 1 TiB
 * costs nothing until pages are added.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "kernel/encl.h"
#include "kernel/encls.h"

/* How often release offers a preemption point, Linux's XA_CHECK_SCHED. */
#define XA_CHECK_SCHED 4096

/* A WARN_ON_ONCE() of Linux that is not an ENCLS result: counted alike. */
static void sgx_warn(struct sgx_driver *drv, const char *what)
{
	drv->stats.encls_warnings++;
	if (drv->stats.encls_warnings == 1)
		fprintf(stderr, "sgxemu: WARN: %s\n", what);
}

static uint64_t sgx_encl_nr_pages(const struct sgx_encl *encl)
{
	return encl->size >> PAGE_SHIFT;
}

/**
 * sgx_encl_page_alloc() - a new page descriptor at @offset, not yet in the
 * page array.
 * @encl: the enclave
 * @offset: the page's offset from the base
 * @secinfo_flags: the SECINFO flags it is added with (R/W/X and the type)
 *
 * vm_max_prot_bits, the most a VMA over the page may allow, comes from the
 * SECINFO permissions; a TCS always gets RW, because the CPU forces a TCS's
 * SECINFO permissions to zero while user space still maps it read-write.
 *
 * Return: the page, or NULL when out of memory.
 */
struct sgx_encl_page *sgx_encl_page_alloc(struct sgx_encl *encl,
					  uint64_t offset,
					  uint64_t secinfo_flags)
{
	struct sgx_encl_page *encl_page = calloc(1, sizeof(*encl_page));
	unsigned long prot = 0;

	if (!encl_page)
		return NULL;
	encl_page->desc = encl->base + offset;
	encl_page->encl = encl;
	if (secinfo_flags & SGX_SECINFO_R)
		prot |= VM_READ;
	if (secinfo_flags & SGX_SECINFO_W)
		prot |= VM_WRITE;
	if (secinfo_flags & SGX_SECINFO_X)
		prot |= VM_EXEC;
	if ((secinfo_flags & SGX_SECINFO_PAGE_TYPE_MASK) ==
	    SGX_SECINFO_TYPE(PT_TCS))
		prot |= VM_READ | VM_WRITE;
	encl_page->vm_max_prot_bits = prot;
	return encl_page;
}

/**
 * sgx_encl_lookup() - xa_load(): the page descriptor at @addr.
 * @encl: the enclave
 * @addr: any address inside the page
 *
 * Return: the page, or NULL if no page was ever added there.
 */
struct sgx_encl_page *sgx_encl_lookup(const struct sgx_encl *encl,
				      uint64_t addr)
{
	return xa_load(&encl->page_array, PFN_DOWN(addr));
}

/**
 * sgx_encl_insert() - xa_insert(): put @page at its address. Call with
 * encl->lock held.
 * @encl: the enclave, whose size is set (ECREATE done)
 * @page: from sgx_encl_page_alloc()
 *
 * KERNEL: an address outside the enclave is refused here with -EINVAL;
 * Linux's xarray would take it and the ENCLS on the page would fail next,
 * with the same result for user space.
 *
 * Return: 0, -EBUSY if a page is already there, -EINVAL, or -ENOMEM.
 */
int sgx_encl_insert(struct sgx_encl *encl, struct sgx_encl_page *page)
{
	uint64_t addr = sgx_encl_page_addr(page);

	if (addr < encl->base || addr - encl->base >= encl->size)
		return -EINVAL;
	return xa_insert(&encl->page_array, PFN_DOWN(addr), page, GFP_KERNEL);
}

static unsigned int sgx_va_first_free(const struct sgx_va_page *va_page)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(va_page->slots); i++)
		if (~va_page->slots[i])
			return i * 64 + __builtin_ctzll(~va_page->slots[i]);
	return SGX_VA_SLOT_COUNT;
}

/**
 * sgx_alloc_va_slot() - take the first free slot of a VA page.
 * @va_page: a VA page that is not full
 *
 * Return: the slot's byte offset in the page (slot number * 8).
 */
unsigned int sgx_alloc_va_slot(struct sgx_va_page *va_page)
{
	unsigned int slot = sgx_va_first_free(va_page);

	if (slot < SGX_VA_SLOT_COUNT)
		va_page->slots[slot / 64] |= 1ULL << (slot % 64);
	return slot << 3;
}

/**
 * sgx_free_va_slot() - give back a slot taken by sgx_alloc_va_slot().
 * @va_page: the VA page
 * @offset: the slot's byte offset
 */
void sgx_free_va_slot(struct sgx_va_page *va_page, unsigned int offset)
{
	unsigned int slot = offset >> 3;

	va_page->slots[slot / 64] &= ~(1ULL << (slot % 64));
}

/**
 * sgx_va_page_full() - whether every slot of a VA page is taken.
 * @va_page: the VA page
 *
 * Return: true when no slot is free.
 */
bool sgx_va_page_full(const struct sgx_va_page *va_page)
{
	return sgx_va_first_free(va_page) == SGX_VA_SLOT_COUNT;
}

/**
 * sgx_encl_free_epc_page() - EREMOVE an enclave's EPC page and free it.
 * @encl: the enclave the page belongs to (for its counters)
 * @page: a child, SECS or VA page, off the active list
 *
 * If EREMOVE fails the page is leaked, as Linux does: it cannot be reused
 * while the EPCM still holds it. That, like freeing a page the reclaimer
 * still tracks, is a driver bug and counted as a warning.
 */
void sgx_encl_free_epc_page(struct sgx_encl *encl, struct sgx_epc_page *page)
{
	struct sgx_driver *drv = encl->drv;
	int ret;

	if (page->flags & SGX_EPC_PAGE_RECLAIMER_TRACKED)
		sgx_warn(drv, "freeing an EPC page the reclaimer tracks");
	encl->stats.eremove++;
	ret = __eremove(drv, sgx_get_epc_virt_addr(drv, page));
	if (ret) {
		ENCLS_WARN(drv, ret, "EREMOVE (an EPC page was leaked)");
		return;
	}
	sgx_free_epc_page(drv, page);
}

/**
 * sgx_alloc_va_page() - allocate an EPC page and make it a VA page (EPA).
 * @encl: the enclave that will own it
 * @reclaim: whether the allocation may reclaim
 * @err: receives the error when NULL is returned
 *
 * Return: the page, or NULL with *@err = the allocator's error, or -EFAULT
 * if EPA failed (a warning).
 */
struct sgx_epc_page *sgx_alloc_va_page(struct sgx_encl *encl, bool reclaim,
				       int *err)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_epc_page *epc_page;
	int ret;

	epc_page = sgx_alloc_epc_page(drv, encl, reclaim, err);
	if (!epc_page)
		return NULL;
	ret = __epa(drv, sgx_get_epc_virt_addr(drv, epc_page));
	if (ret) {
		ENCLS_WARN(drv, ret, "EPA");
		sgx_encl_free_epc_page(encl, epc_page);
		*err = -EFAULT;
		return NULL;
	}
	return epc_page;
}

/**
 * sgx_encl_grow() - account for one more enclave page (SECS included),
 * adding a VA page when the slots run out.
 * @encl: the enclave
 * @reclaim: whether the EPC allocation may reclaim
 * @err: set to 0, or to the error when the growth failed
 *
 * Every SGX_VA_SLOT_COUNT pages need one VA page, so that each page can
 * always be evicted. The caller adds a returned VA page to encl->va_pages
 * under encl->lock, and undoes the growth with sgx_encl_shrink().
 *
 * Return: a new VA page, or NULL: either none was needed (*@err == 0) or
 * the growth failed (*@err is -ENOMEM, -EBUSY, -ERESTARTSYS or -EFAULT and
 * page_cnt is unchanged).
 */
struct sgx_va_page *sgx_encl_grow(struct sgx_encl *encl, bool reclaim,
				  int *err)
{
	struct sgx_va_page *va_page = NULL;

	*err = 0;
	if (!(encl->page_cnt % SGX_VA_SLOT_COUNT)) {
		va_page = calloc(1, sizeof(*va_page));
		if (!va_page) {
			*err = -ENOMEM;
			return NULL;
		}
		va_page->epc_page = sgx_alloc_va_page(encl, reclaim, err);
		if (!va_page->epc_page) {
			free(va_page);
			return NULL;
		}
		INIT_LIST_HEAD(&va_page->list);
	}
	encl->page_cnt++;
	return va_page;
}

/**
 * sgx_encl_shrink() - undo one sgx_encl_grow(), or account for a removed
 * page.
 * @encl: the enclave
 * @va_page: the VA page that growth returned, to free; NULL to keep every
 *	     VA page (page removal keeps them, as Linux does)
 */
void sgx_encl_shrink(struct sgx_encl *encl, struct sgx_va_page *va_page)
{
	encl->page_cnt--;
	if (va_page) {
		sgx_encl_free_epc_page(encl, va_page->epc_page);
		list_del_init(&va_page->list);
		free(va_page);
	}
}

/**
 * sgx_encl_backing() - sgx_encl_alloc_backing(): the backing page of page
 * number @page_index, created zeroed on first use. Call with encl->lock
 * held.
 * @encl: the enclave
 * @page_index: page number from the base; size / PAGE_SIZE is SECS
 *
 * Return: the backing page, or NULL when out of memory (or out of range).
 */
struct sgx_backing_page *sgx_encl_backing(struct sgx_encl *encl,
					  uint64_t page_index)
{
	struct sgx_backing_page *page;

	if (page_index > sgx_encl_nr_pages(encl))
		return NULL;
	page = xa_load(&encl->backing, page_index);
	if (page)
		return page;
	/* EWB and ELDU want the contents page-aligned. */
	if (posix_memalign((void **)&page, PAGE_SIZE, sizeof(*page)))
		return NULL;
	memset(page, 0, sizeof(*page));
	if (xa_insert(&encl->backing, page_index, page, GFP_KERNEL)) {
		free(page);
		return NULL;
	}
	return page;
}

/* Drop a backing page once its contents are back in the EPC. */
static void sgx_encl_truncate_backing(struct sgx_encl *encl,
				      uint64_t page_index)
{
	free(xa_erase(&encl->backing, page_index));
}

/* The SECS page's descriptor is encl->secs, whatever its owner field says. */
static struct sgx_encl_page *sgx_epc_encl_page(struct sgx_encl *encl,
					       struct sgx_epc_page *epc_page)
{
	return epc_page == encl->secs.epc_page ? &encl->secs : epc_page->owner;
}

static int __sgx_encl_ewb(struct sgx_encl *encl, struct sgx_epc_page *epc_page,
			  uint64_t va_slot, struct sgx_backing_page *backing)
{
	struct sgx_pageinfo pginfo = {
		.srcpge = (uint64_t)(uintptr_t)backing->contents,
		.secinfo = (uint64_t)(uintptr_t)&backing->pcmd,
	};

	encl->stats.ewb++;
	return __ewb(encl->drv, &pginfo,
		     sgx_get_epc_virt_addr(encl->drv, epc_page), va_slot);
}

/*
 * EWB again after ETRACK, and after IPIs if still needed. The cpumask is
 * computed after ETRACK: an LP that entered before it would be missed.
 */
static int sgx_encl_ewb_track(struct sgx_encl *encl,
			      struct sgx_epc_page *epc_page, uint64_t va_slot,
			      struct sgx_backing_page *backing)
{
	struct sgx_driver *drv = encl->drv;
	int ret;

	ret = __etrack(drv, sgx_get_epc_virt_addr(drv, encl->secs.epc_page));
	if (ret) {
		encl->stats.etrack_failures++;
		if (encls_failed(ret))
			ENCLS_WARN(drv, ret, "ETRACK");
	}
	ret = __sgx_encl_ewb(encl, epc_page, va_slot, backing);
	if (ret == SGX_NOT_TRACKED) {
		sgx_ipi_mask(encl, sgx_encl_cpumask(encl));
		ret = __sgx_encl_ewb(encl, epc_page, va_slot, backing);
	}
	return ret;
}

/**
 * sgx_encl_ewb() - write a blocked page (or a childless SECS) back to its
 * backing page. Call with encl->lock held.
 * @encl: the enclave
 * @epc_page: the page; a child must have been EBLOCKed
 * @backing: where the sealed contents and PCMD go
 *
 * EWB as is first: often the page is already tracked. On SGX_NOT_TRACKED,
 * ETRACK and EWB; if still not tracked, IPI the enclave's CPUs out and EWB
 * a third time. On success the VA slot's offset goes into desc and the VA
 * page into va_page; on failure (a warning) the slot is freed and the
 * contents are lost, as in Linux.
 *
 * Return: 0, or the last EWB result.
 */
int sgx_encl_ewb(struct sgx_encl *encl, struct sgx_epc_page *epc_page,
		 struct sgx_backing_page *backing)
{
	struct sgx_encl_page *encl_page = sgx_epc_encl_page(encl, epc_page);
	struct sgx_driver *drv = encl->drv;
	struct sgx_va_page *va_page;
	unsigned int va_offset;
	uint64_t va_slot;
	int ret;

	encl_page->desc &= ~SGX_ENCL_PAGE_BEING_RECLAIMED;
	ASSERT(!list_empty(&encl->va_pages)); /* sgx_encl_grow() saw to it */
	va_page = list_first_entry(&encl->va_pages, struct sgx_va_page, list);
	va_offset = sgx_alloc_va_slot(va_page);
	ASSERT(va_offset < PAGE_SIZE); /* full VA pages sit at the tail */
	va_slot = sgx_get_epc_virt_addr(drv, va_page->epc_page) + va_offset;
	if (sgx_va_page_full(va_page))
		list_move_tail(&va_page->list, &encl->va_pages);

	ret = __sgx_encl_ewb(encl, epc_page, va_slot, backing);
	if (ret == SGX_NOT_TRACKED)
		ret = sgx_encl_ewb_track(encl, epc_page, va_slot, backing);
	if (ret) {
		if (encls_failed(ret))
			ENCLS_WARN(drv, ret, "EWB");
		sgx_free_va_slot(va_page, va_offset);
	} else {
		encl_page->desc |= va_offset;
		encl_page->va_page = va_page;
	}
	return ret;
}

/*
 * ELDU the page from its backing into @epc_page. secs_page NULL means the
 * page is SECS itself, which has no linear address and no owner. The
 * backing page is dropped whatever the outcome, as Linux truncates it.
 */
static int __sgx_encl_eldu(struct sgx_encl *encl,
			   struct sgx_encl_page *encl_page,
			   struct sgx_epc_page *epc_page,
			   struct sgx_epc_page *secs_page)
{
	uint64_t va_offset = encl_page->desc & SGX_ENCL_PAGE_VA_OFFSET_MASK;
	struct sgx_driver *drv = encl->drv;
	struct sgx_pageinfo pginfo = { 0 };
	struct sgx_backing_page *b;
	uint64_t index;
	int ret;

	/* KERNEL: after a failed EWB Linux would dereference a NULL va_page. */
	if (!encl_page->va_page)
		return -EFAULT;
	index = secs_page ? sgx_encl_page_index(encl,
						sgx_encl_page_addr(encl_page)) :
			    sgx_encl_nr_pages(encl);
	b = sgx_encl_backing(encl, index);
	if (!b)
		return -ENOMEM;
	pginfo.linaddr = secs_page ? sgx_encl_page_addr(encl_page) : 0;
	pginfo.srcpge = (uint64_t)(uintptr_t)b->contents;
	pginfo.secinfo = (uint64_t)(uintptr_t)&b->pcmd;
	pginfo.secs = secs_page ? sgx_get_epc_virt_addr(drv, secs_page) : 0;

	encl->stats.eldu++;
	ret = __eldu(drv, &pginfo, sgx_get_epc_virt_addr(drv, epc_page),
		     sgx_get_epc_virt_addr(drv, encl_page->va_page->epc_page) +
			     va_offset);
	if (ret) {
		if (encls_failed(ret))
			ENCLS_WARN(drv, ret, "ELDU");
		ret = -EFAULT;
	}
	sgx_encl_truncate_backing(encl, index);
	return ret;
}

/*
 * Load an evicted page into a new EPC page, allocated without reclaim: the
 * caller holds encl->lock, which the reclaimer needs. The freed VA slot's
 * page moves to the head of the list, where EWB looks first. @secs_page is
 * NULL when @encl_page is the SECS.
 *
 * Return: the new EPC page, or ERR_PTR(-EBUSY, -ENOMEM, -EFAULT).
 */
static struct sgx_epc_page *sgx_encl_eldu(struct sgx_encl_page *encl_page,
					  struct sgx_epc_page *secs_page)
{
	uint64_t va_offset = encl_page->desc & SGX_ENCL_PAGE_VA_OFFSET_MASK;
	struct sgx_encl *encl = encl_page->encl;
	struct sgx_epc_page *epc_page;
	int err;

	/*
	 * MODEL: an injected ELDU failure (tests only) comes before anything
	 * is allocated or consumed, so the page loads once the fault is gone;
	 * a real one loses the page, as in Linux.
	 */
	if (sgx_inject_fire(&encl->drv->inject.eldu_fail))
		return ERR_PTR(-EFAULT);
	epc_page = sgx_alloc_epc_page(encl->drv, encl_page, false, &err);
	if (!epc_page)
		return ERR_PTR(err);
	err = __sgx_encl_eldu(encl, encl_page, epc_page, secs_page);
	if (err) {
		sgx_encl_free_epc_page(encl, epc_page);
		return ERR_PTR(err);
	}
	sgx_free_va_slot(encl_page->va_page, va_offset);
	list_move(&encl_page->va_page->list, &encl->va_pages);
	encl_page->desc &= ~SGX_ENCL_PAGE_VA_OFFSET_MASK;
	encl_page->epc_page = epc_page;
	return epc_page;
}

/* sgx_encl_load_secs(), single source with the Linux patch (patch 1). */
#include "kernel/compat/fragment.h"
#include "kernel/upstream/encl.c"
#include "kernel/compat/fragment_end.h"

static struct sgx_encl_page *__sgx_encl_load_page(struct sgx_encl *encl,
						  struct sgx_encl_page *entry)
{
	struct sgx_epc_page *epc_page;

	if (entry->epc_page) {
		if (entry->desc & SGX_ENCL_PAGE_BEING_RECLAIMED)
			return ERR_PTR(-EBUSY);
		return entry;
	}
	epc_page = sgx_encl_load_secs(encl);
	if (IS_ERR(epc_page))
		return ERR_CAST(epc_page);
	epc_page = sgx_encl_eldu(entry, encl->secs.epc_page);
	if (IS_ERR(epc_page))
		return ERR_CAST(epc_page);
	encl->secs_child_cnt++;
	sgx_mark_page_reclaimable(encl->drv, entry->epc_page);
	return entry;
}

/**
 * sgx_encl_load_page() - the page at @addr, made resident. Call with
 * encl->lock held.
 * @encl: the enclave
 * @addr: an address inside the page
 *
 * No VMA permission check is made. An evicted page is reloaded with ELDU,
 * SECS first.
 *
 * Return: the page, or ERR_PTR(-EFAULT) if no page was added at @addr or
 * ELDU failed, ERR_PTR(-EBUSY) if the reclaimer is writing the page back
 * or no EPC page is free, ERR_PTR(-ENOMEM).
 */
struct sgx_encl_page *sgx_encl_load_page(struct sgx_encl *encl,
					 unsigned long addr)
{
	struct sgx_encl_page *entry = sgx_encl_lookup(encl, addr);

	sgx_charge(encl->drv, SGX_COST_PAGE_LOOKUP);
	if (!entry)
		return ERR_PTR(-EFAULT);
	return __sgx_encl_load_page(encl, entry);
}

/**
 * sgx_encl_get() - kref_get(): take a reference on the enclave.
 * @encl: the enclave, whose refcount is not zero
 */
void sgx_encl_get(struct sgx_encl *encl)
{
	__atomic_fetch_add(&encl->refcount, 1, __ATOMIC_RELAXED);
}

/**
 * sgx_encl_put() - kref_put(): drop a reference; the last one releases the
 * enclave (sgx_encl_release()).
 * @encl: the enclave
 */
void sgx_encl_put(struct sgx_encl *encl)
{
	if (!__atomic_sub_fetch(&encl->refcount, 1, __ATOMIC_ACQ_REL))
		sgx_encl_release(encl);
}

/*
 * EREMOVE and free every resident child, and free every descriptor. A page
 * a reclaimer batch holds is left to the reclaimer.
 */
static void sgx_encl_release_pages(struct sgx_encl *encl)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_encl_page *entry;
	unsigned long index;
	uint64_t count = 0;

	xa_for_each(&encl->page_array, index, entry) {
		if (entry->epc_page) {
			if (sgx_unmark_page_reclaimable(drv, entry->epc_page))
				continue;
			sgx_encl_free_epc_page(encl, entry->epc_page);
			encl->secs_child_cnt--;
			entry->epc_page = NULL;
		}
		free(entry);
		if (!(++count % XA_CHECK_SCHED))
			drv->plat->preempt(drv->plat->ctx); /* cond_resched() */
	}
	xa_destroy(&encl->page_array);
}

static void sgx_encl_release_store(struct sgx_encl *encl)
{
	while (!list_empty(&encl->va_pages)) {
		struct sgx_va_page *va_page = list_first_entry(
			&encl->va_pages, struct sgx_va_page, list);

		list_del_init(&va_page->list);
		sgx_encl_free_epc_page(encl, va_page->epc_page);
		free(va_page);
	}
	struct sgx_backing_page *backing;
	unsigned long index;

	xa_for_each(&encl->backing, index, backing)
		free(backing);
	xa_destroy(&encl->backing);
}

/**
 * sgx_encl_mem_bytes() - the heap the model holds for the enclave's pages:
 * the nodes of the page array and of the backing, the page descriptors,
 * and the backing pages of evicted pages. MODEL: not in Linux; tests use
 * it to show that the cost follows the pages added, not ELRANGE.
 * @encl: the enclave, encl->lock held or no one else using it
 *
 * Return: bytes, from the xarrays' counts.
 */
uint64_t sgx_encl_mem_bytes(const struct sgx_encl *encl)
{
	return (uint64_t)(encl->page_array.nr_nodes + encl->backing.nr_nodes) *
		       sizeof(struct xa_node) +
	       (uint64_t)encl->page_array.nr_entries *
		       sizeof(struct sgx_encl_page) +
	       (uint64_t)encl->backing.nr_entries *
		       sizeof(struct sgx_backing_page);
}

/**
 * sgx_encl_release() - free an enclave whose last reference is gone.
 * @encl: the enclave, allocated with malloc()/calloc(); freed here
 *
 * Children first (EREMOVE), then SECS, then the VA pages and the backing
 * store. What is still there afterwards (an mm on mm_list, children, SECS)
 * is a leak and counted as a warning.
 */
void sgx_encl_release(struct sgx_encl *encl)
{
	struct sgx_driver *drv = encl->drv;

	sgx_encl_release_pages(encl);
	if (!encl->secs_child_cnt && encl->secs.epc_page) {
		sgx_encl_free_epc_page(encl, encl->secs.epc_page);
		encl->secs.epc_page = NULL;
	}
	sgx_encl_release_store(encl);
	if (!list_empty(&encl->mm_list))
		sgx_warn(drv, "enclave released with an mm still listed");
	if (encl->secs_child_cnt)
		sgx_warn(drv, "enclave released with EPC pages leaked");
	if (encl->secs.epc_page)
		sgx_warn(drv, "enclave released with SECS leaked");
	free(encl);
}

/* sgx_encl_may_map() offers a preemption point this often (Linux's). */
#define XA_CHECK_SCHED 4096

/*
 * The EAUG pageinfo and leaf. A free EPC page cannot fault EAUG unless the
 * driver is wrong, but Linux does not warn here and neither does the model:
 * the fault just ends in SIGBUS.
 */
static int sgx_encl_eaug(struct sgx_encl *encl, struct sgx_encl_page *page,
			 struct sgx_epc_page *epc_page)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_pageinfo pginfo = {
		.secs = sgx_get_epc_virt_addr(drv, encl->secs.epc_page),
		.linaddr = sgx_encl_page_addr(page),
	};

	return __eaug(drv, &pginfo, sgx_get_epc_virt_addr(drv, epc_page));
}

/*
 * sgx_encl_eaug_page() under encl->lock, from SECS reload to the PTE: the
 * steps after the descriptor is allocated. On failure everything is undone
 * except the descriptor, which the caller frees.
 */
static enum sgx_fault_result __sgx_encl_eaug_page(struct sgx_mm *mm,
						  struct sgx_vma *vma,
						  struct sgx_encl_page *page)
{
	struct sgx_encl *encl = page->encl;
	struct sgx_driver *drv = encl->drv;
	/* -EBUSY: no EPC without reclaim; NOPAGE retries while ksgxd works. */
	enum sgx_fault_result busy = SGX_FAULT_FIXED;
	struct sgx_epc_page *epc_page;
	struct sgx_va_page *va_page;
	struct sgx_epc_page *secs = sgx_encl_load_secs(encl);
	int err;

	if (IS_ERR(secs))
		return PTR_ERR(secs) == -EBUSY ? busy : SGX_FAULT_SIGBUS;
	epc_page = sgx_alloc_epc_page(drv, page, false, &err);
	if (!epc_page)
		return err == -EBUSY ? busy : SGX_FAULT_SIGBUS;
	va_page = sgx_encl_grow(encl, false, &err);
	if (err) {
		sgx_encl_free_epc_page(encl, epc_page);
		return err == -EBUSY ? busy : SGX_FAULT_SIGBUS;
	}
	if (va_page)
		list_add(&va_page->list, &encl->va_pages);
	/* -EBUSY: a racing fault added the page while we slept on the lock. */
	if (sgx_encl_insert(encl, page))
		goto err_out_shrink;
	if (sgx_encl_eaug(encl, page, epc_page))
		goto err_out;
	encl->stats.eaug++;
	page->epc_page = epc_page;
	page->type = PT_REG;
	encl->secs_child_cnt++;
	sgx_mark_page_reclaimable(drv, epc_page);
	/* A failed PTE insert is not undone: the next fault finds the page. */
	if (vmf_insert_pfn(mm, vma, sgx_encl_page_addr(page), epc_page) !=
	    SGX_FAULT_FIXED)
		return SGX_FAULT_SIGBUS;
	return SGX_FAULT_FIXED;

err_out:
	xa_erase(&encl->page_array, PFN_DOWN(page->desc));
err_out_shrink:
	sgx_encl_shrink(encl, va_page);
	sgx_encl_free_epc_page(encl, epc_page);
	return SGX_FAULT_SIGBUS;
}

/*
 * sgx_encl_eaug_page() - add a regular page at addr to an initialized
 * enclave with EAUG and map it. The page is PENDING until the enclave
 * EACCEPTs it; its vm_max_prot_bits are RWX, because the enclave, not the
 * kernel, decides the permissions of dynamic pages (EACCEPT, EACCEPTCOPY,
 * EMODPE). No ETRACK is needed: no LP can hold a translation for a page
 * that was not valid.
 */
static enum sgx_fault_result sgx_encl_eaug_page(struct sgx_mm *mm,
						struct sgx_vma *vma,
						struct sgx_encl *encl,
						uint64_t addr)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_encl_page *page;
	enum sgx_fault_result ret;
	bool added;

	if (!(encl->flags & SGX_ENCL_INITIALIZED))
		return SGX_FAULT_SIGBUS;
	page = sgx_encl_page_alloc(encl, addr - encl->base,
				   SGX_SECINFO_R | SGX_SECINFO_W |
					   SGX_SECINFO_X);
	if (!page)
		return SGX_FAULT_OOM;
	mutex_lock(drv, &encl->lock);
	ret = __sgx_encl_eaug_page(mm, vma, page);
	/* Once unlocked, the reclaimer may evict the page at any time. */
	added = page->epc_page;
	if (added && drv->trace.eaug)
		drv->trace.eaug(drv->trace.ctx, encl, addr - encl->base);
	mutex_unlock(drv, &encl->lock);
	if (!added)
		free(page);
	return ret;
}

/*
 * sgx_encl_load_page_in_vma(): sgx_encl_load_page() for a fault, which
 * first requires the VMA's rights to be within what the page was added
 * with (vm_max_prot_bits).
 */
static struct sgx_encl_page *sgx_encl_load_page_in_vma(struct sgx_encl *encl,
						       uint64_t addr,
						       unsigned long vm_flags)
{
	unsigned long vm_prot_bits = vm_flags & VM_ACCESS_FLAGS;
	struct sgx_encl_page *entry = sgx_encl_lookup(encl, addr);

	if (!entry ||
	    (entry->vm_max_prot_bits & vm_prot_bits) != vm_prot_bits)
		return ERR_PTR(-EFAULT);
	return sgx_encl_load_page(encl, addr);
}

/**
 * sgx_vma_fault() - the fault handler of an enclave VMA (vm_ops->fault).
 * Call with mm->mmap_lock held.
 * @mm: the faulting address space
 * @vma: the enclave VMA that covers @addr
 * @addr: the page-aligned faulting address
 *
 * An address with no enclave page is EAUGed on an SGX2 CPU. Otherwise the
 * page is loaded (ELDU if it was evicted, SECS first) and mapped with the
 * VMA's rights, and its accessed bit in this mm is cleared, as Linux does.
 *
 * Return: SGX_FAULT_FIXED (VM_FAULT_NOPAGE; also while the reclaimer holds
 * the page, so the access retries), SGX_FAULT_SIGBUS or SGX_FAULT_OOM.
 */
enum sgx_fault_result sgx_vma_fault(struct sgx_mm *mm, struct sgx_vma *vma,
				    uint64_t addr)
{
	struct sgx_encl *encl = vma->encl;
	struct sgx_encl_page *entry;
	enum sgx_fault_result ret;

	/* vm_private_data is NULL after sgx_encl_mm_add() failed on fork. */
	if (!encl)
		return SGX_FAULT_SIGBUS;
	if (encl->drv->cfg.sgx2 && !sgx_encl_lookup(encl, addr))
		return sgx_encl_eaug_page(mm, vma, encl, addr);
	mutex_lock(encl->drv, &encl->lock);
	entry = sgx_encl_load_page_in_vma(encl, addr, vma->vm_flags);
	if (IS_ERR(entry)) {
		mutex_unlock(encl->drv, &encl->lock);
		return PTR_ERR(entry) == -EBUSY ? SGX_FAULT_FIXED :
						  SGX_FAULT_SIGBUS;
	}
	ret = vmf_insert_pfn(mm, vma, addr, entry->epc_page);
	if (ret == SGX_FAULT_FIXED)
		sgx_encl_mm_test_and_clear_young(mm, entry);
	else
		ret = SGX_FAULT_SIGBUS;
	mutex_unlock(encl->drv, &encl->lock);
	return ret;
}

/*
 * sgx_mmu_notifier_release() for each enclave that still lists mm: take
 * the entry off its mm_list (6.12's "found" walk is list_empty() here,
 * since entries leave with list_del_init) and queue it on released.
 * Entries sgx_release already took off are left to it. Call with
 * mm->mmap_lock held.
 */
void sgx_mmu_notifier_release(struct sgx_mm *mm,
				     struct list_head *released)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &mm->notifiers) {
		struct sgx_encl_mm *encl_mm =
			list_entry(pos, struct sgx_encl_mm, mm_node);
		struct sgx_encl *encl = encl_mm->encl;
		bool found;

		mutex_lock(mm->drv, &encl->mm_lock);
		found = !list_empty(&encl_mm->list);
		if (found) {
			list_del_init(&encl_mm->list);
			encl->mm_list_version++;
		}
		mutex_unlock(mm->drv, &encl->mm_lock);
		if (found) {
			list_del_init(&encl_mm->mm_node);
			list_add_tail(&encl_mm->mm_node, released);
		}
	}
}

/* Whether mm is on encl->mm_list. Call with encl->mm_lock held. */
static bool sgx_encl_find_mm(struct sgx_encl *encl, struct sgx_mm *mm)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &encl->mm_list) {
		if (list_entry(pos, struct sgx_encl_mm, list)->mm == mm)
			return true;
	}
	return false;
}

/**
 * sgx_encl_mm_add() - list @mm on the enclave, once. Call with
 * mm->mmap_lock held, which keeps a second caller for the same mm out.
 * @encl: the enclave
 * @mm: an address space that maps it
 *
 * The entry holds an enclave reference and grabs the mm, as Linux's
 * mmu_notifier registration does; it is removed on file release or mm
 * exit, not on munmap.
 *
 * Return: 0 or -ENOMEM.
 */
int sgx_encl_mm_add(struct sgx_encl *encl, struct sgx_mm *mm)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_encl_mm *encl_mm;
	bool listed;

	mutex_lock(drv, &encl->mm_lock);
	listed = sgx_encl_find_mm(encl, mm);
	mutex_unlock(drv, &encl->mm_lock);
	if (listed)
		return 0;
	encl_mm = calloc(1, sizeof(*encl_mm));
	if (!encl_mm)
		return -ENOMEM;
	sgx_encl_get(encl);
	encl_mm->encl = encl;
	encl_mm->mm = mm;
	mm->mm_count++;
	list_add_tail(&encl_mm->mm_node, &mm->notifiers);
	mutex_lock(drv, &encl->mm_lock);
	list_add(&encl_mm->list, &encl->mm_list);
	encl->mm_list_version++;
	mutex_unlock(drv, &encl->mm_lock);
	return 0;
}

/*
 * MODEL: Linux walks mm_list under SRCU while it sleeps on each mm's
 * mmap_lock. The model has no SRCU: each step takes the index-th entry
 * under mm_lock and grabs its mm, so entries may come and go between
 * steps. Every change of the list bumps mm_list_version (Linux bumps it on
 * additions only), so a walk that must see every mm repeats until the
 * version holds still over a whole pass.
 *
 * Return: the index-th mm, grabbed (mmdrop() it), or NULL past the end;
 * *version receives the list's version at that moment.
 */
static struct sgx_mm *sgx_encl_mm_grab(struct sgx_encl *encl,
				       unsigned int index, uint64_t *version)
{
	struct sgx_mm *mm = NULL;
	struct list_head *pos, *tmp;

	mutex_lock(encl->drv, &encl->mm_lock);
	list_for_each_safe(pos, tmp, &encl->mm_list) {
		if (!index--) {
			mm = list_entry(pos, struct sgx_encl_mm, list)->mm;
			mm->mm_count++;
			break;
		}
	}
	*version = encl->mm_list_version;
	mutex_unlock(encl->drv, &encl->mm_lock);
	return mm;
}

/**
 * sgx_encl_cpumask() - the LPs that may run inside the enclave: the union
 * of mm_cpumask() over the enclave's mm_list.
 * @encl: the enclave; call with encl->lock held, after the ETRACK it
 *	  pairs with, so that an mm added later enters with fresh mappings
 *
 * Return: encl->cpumask, recomputed.
 */
const struct sgx_cpumask *sgx_encl_cpumask(struct sgx_encl *encl)
{
	struct sgx_cpumask *mask = &encl->cpumask;
	struct list_head *pos, *tmp;

	memset(mask, 0, sizeof(*mask));
	mutex_lock(encl->drv, &encl->mm_lock);
	list_for_each_safe(pos, tmp, &encl->mm_list) {
		const struct sgx_mm *mm =
			list_entry(pos, struct sgx_encl_mm, list)->mm;

		for (unsigned int w = 0; w < SGX_CPUMASK_WORDS; w++)
			mask->bits[w] |= mm->cpumask.bits[w];
	}
	SGX_MODEL_PLANT(encl, IPI_FIRST_MM_ONLY, if (!list_empty(&encl->mm_list)) *mask = list_entry(encl->mm_list.prev, struct sgx_encl_mm, list)->mm->cpumask);
	mutex_unlock(encl->drv, &encl->mm_lock);
	SGX_MODEL_PLANT(encl, IPI_DROP_LP, if (mask->bits[0]) mask->bits[0] &= ~(1ULL << (63 - __builtin_clzll(mask->bits[0]))));
	return mask;
}

/* Unmap addr in mm if an SGX VMA of encl maps it there. */
static void sgx_zap_mm_pte(struct sgx_mm *mm, struct sgx_encl *encl,
			   uint64_t addr)
{
	struct sgx_vma *vma;

	mutex_lock(mm->drv, &mm->mmap_lock);
	vma = vma_lookup(mm, addr);
	if (vma && vma->encl == encl)
		zap_page_range(mm, addr, addr + PAGE_SIZE);
	mutex_unlock(mm->drv, &mm->mmap_lock);
}

/**
 * sgx_zap_enclave_ptes() - unmap the page at @addr from every mm that maps
 * it through a VMA of this enclave. Call without encl->lock (it takes each
 * mm's mmap_lock, which nests outside).
 * @encl: the enclave
 * @addr: the page's address
 *
 * Passes over mm_list repeat until no mm joined or left during one, as
 * Linux repeats until mm_list_version holds still.
 */
void sgx_zap_enclave_ptes(struct sgx_encl *encl, uint64_t addr)
{
	uint64_t start, version;
	struct sgx_mm *mm;

	addr &= PAGE_MASK;
	do {
		unsigned int i = 0;

		mm = sgx_encl_mm_grab(encl, 0, &start);
		version = start;
		while (mm) {
			sgx_zap_mm_pte(mm, encl, addr);
			mmdrop(mm);
			mm = sgx_encl_mm_grab(encl, ++i, &version);
		}
	} while (version != start);
}

/**
 * sgx_encl_mm_test_and_clear_young() - Linux's per-mm
 * sgx_encl_test_and_clear_young(). Call with mm->mmap_lock held.
 * @mm: the address space
 * @page: an enclave page
 *
 * Return: whether mm maps @page through a VMA of its enclave with the
 * accessed bit set; the bit is cleared.
 */
bool sgx_encl_mm_test_and_clear_young(struct sgx_mm *mm,
				      struct sgx_encl_page *page)
{
	uint64_t addr = sgx_encl_page_addr(page);
	struct sgx_vma *vma = vma_lookup(mm, addr);
	struct sgx_pte *pte;

	if (!vma || vma->encl != page->encl)
		return false;
	pte = sgx_pgtable_lookup(&mm->pgtable, addr);
	if (!pte || !(pte->flags & SGX_PTE_ACCESSED))
		return false;
	pte->flags &= ~SGX_PTE_ACCESSED;
	return true;
}

/**
 * sgx_encl_test_and_clear_young() - the aging step of the reclaimer
 * (sgx_reclaimer_age()): was @page accessed through any mm since the last
 * look? Call without encl->lock.
 * @encl: the enclave
 * @page: one of its pages
 *
 * The mms are tried in mm_list order and the walk stops at the first young
 * one, as Linux's does, so only the mms up to it have their bit cleared.
 *
 * Return: true if the page is young in some mm.
 */
bool sgx_encl_test_and_clear_young(struct sgx_encl *encl,
				   struct sgx_encl_page *page)
{
	uint64_t version;
	struct sgx_mm *mm;
	bool young = false;

	for (unsigned int i = 0;
	     !young && (mm = sgx_encl_mm_grab(encl, i, &version)); i++) {
		mutex_lock(encl->drv, &mm->mmap_lock);
		young = sgx_encl_mm_test_and_clear_young(mm, page);
		mutex_unlock(encl->drv, &mm->mmap_lock);
		mmdrop(mm);
	}
	return young;
}

/**
 * sgx_encl_may_map() - may a VMA over [@start, @end) have @vm_flags?
 * @encl: the enclave
 * @start: the range's first byte
 * @end: the byte after its last
 * @vm_flags: the VMA's requested flags; only R/W/X matter
 *
 * After INIT the range must lie inside the enclave. Every page already
 * added in the range must allow the requested rights (vm_max_prot_bits);
 * addresses with no page impose nothing, so holes can be mapped RWX and
 * later EAUGed. The READ_IMPLIES_EXEC check is the caller's:
 * sgx_mm_may_map().
 *
 * Return: 0 or -EACCES.
 */
int sgx_encl_may_map(struct sgx_encl *encl, uint64_t start, uint64_t end,
		     unsigned long vm_flags)
{
	unsigned long vm_prot_bits = vm_flags & VM_ACCESS_FLAGS;
	struct sgx_driver *drv = encl->drv;
	const struct sgx_encl_page *page;
	uint64_t first, last, count = 0;
	unsigned long index;
	int ret = 0;

	if ((encl->flags & SGX_ENCL_INITIALIZED) &&
	    (start < encl->base || end > encl->base + encl->size))
		return -EACCES;
	/* Pages exist only inside [base, base + size). */
	first = start > encl->base ? start : encl->base;
	last = end < encl->base + encl->size ? end : encl->base + encl->size;
	if (first >= last)
		return 0;
	mutex_lock(drv, &encl->lock);
	xa_for_each_range(&encl->page_array, index, page, PFN_DOWN(first),
			  PFN_DOWN(last - 1)) {
		if (~page->vm_max_prot_bits & vm_prot_bits) {
			ret = -EACCES;
			break;
		}
		if (!(++count % XA_CHECK_SCHED)) {
			mutex_unlock(drv, &encl->lock);
			drv->plat->preempt(drv->plat->ctx);
			mutex_lock(drv, &encl->lock);
		}
	}
	mutex_unlock(drv, &encl->lock);
	return ret;
}

/*
 * MODEL: current->personality lives in the mm here, which
 * sgx_encl_may_map()'s Linux signature does not carry, so its
 * READ_IMPLIES_EXEC check is made by this wrapper. Both checks give
 * -EACCES, so their order cannot be observed.
 */
int sgx_mm_may_map(struct sgx_mm *mm, struct sgx_encl *encl,
			  uint64_t start, uint64_t end, unsigned long vm_flags)
{
	if (mm->read_implies_exec)
		return -EACCES;
	return sgx_encl_may_map(encl, start, end, vm_flags);
}
