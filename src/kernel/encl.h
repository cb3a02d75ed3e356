/* SPDX-License-Identifier: MIT */
/*
 * Functions shared inside the kernel model, with Linux's names and roles
 * (encl.h, sgx.h, main.c of arch/x86/kernel/cpu/sgx). Front ends use
 * driver.h instead.
 */
#ifndef SGXEMU_KERNEL_ENCL_H
#define SGXEMU_KERNEL_ENCL_H

#include "kernel/compat/kernel.h"
#include "kernel/driver.h"
#include "kernel/sgx.h"

/* Mutex helpers: every lock of encl->lock goes through the platform. */
static inline void mutex_lock(struct sgx_driver *drv, struct sgx_mutex *m)
{
	drv->plat->mutex_lock(drv->plat->ctx, m);
}

static inline void mutex_unlock(struct sgx_driver *drv, struct sgx_mutex *m)
{
	drv->plat->mutex_unlock(drv->plat->ctx, m);
}

/* Tell the platform's cost model what the kernel just did. */
static inline void sgx_charge(struct sgx_driver *drv, enum sgx_cost_event ev)
{
	drv->plat->charge(drv->plat->ctx, ev);
}

static inline uint64_t sgx_encl_page_addr(const struct sgx_encl_page *p)
{
	return p->desc & SGX_ENCL_PAGE_ADDR_MASK;
}

static inline uint64_t sgx_encl_page_index(const struct sgx_encl *encl,
					   uint64_t addr)
{
	return (addr - encl->base) >> PAGE_SHIFT;
}

/* main.c: the EPC allocator and the reclaimer. */
struct sgx_epc_page *sgx_alloc_epc_page(struct sgx_driver *drv, void *owner,
					bool reclaim, int *err);
void sgx_free_epc_page(struct sgx_driver *drv, struct sgx_epc_page *page);
void sgx_mark_page_reclaimable(struct sgx_driver *drv,
			       struct sgx_epc_page *page);
int sgx_unmark_page_reclaimable(struct sgx_driver *drv,
				struct sgx_epc_page *page);
void sgx_reclaim_direct(struct sgx_driver *drv);
void sgx_reclaim_pages(struct sgx_driver *drv);
bool sgx_should_reclaim(const struct sgx_driver *drv, uint64_t watermark);

/* encl.c: enclave pages, loading, VA slots, backing, release. */
struct sgx_encl_page *sgx_encl_page_alloc(struct sgx_encl *encl,
					  uint64_t offset, uint64_t secinfo_flags);
struct sgx_encl_page *sgx_encl_lookup(const struct sgx_encl *encl,
				      uint64_t addr);
int sgx_encl_insert(struct sgx_encl *encl, struct sgx_encl_page *page);
/* Load a page (and SECS first) under encl->lock; ERR_PTR()s as Linux. */
struct sgx_encl_page *sgx_encl_load_page(struct sgx_encl *encl,
					 unsigned long addr);
/* upstream/encl.c, single source with the Linux patch. */
struct sgx_epc_page *sgx_encl_load_secs(struct sgx_encl *encl);
struct sgx_va_page *sgx_encl_grow(struct sgx_encl *encl, bool reclaim,
				  int *err);
void sgx_encl_shrink(struct sgx_encl *encl, struct sgx_va_page *va_page);
struct sgx_epc_page *sgx_alloc_va_page(struct sgx_encl *encl, bool reclaim,
				       int *err);
unsigned int sgx_alloc_va_slot(struct sgx_va_page *va_page);
void sgx_free_va_slot(struct sgx_va_page *va_page, unsigned int offset);
bool sgx_va_page_full(const struct sgx_va_page *va_page);
void sgx_encl_free_epc_page(struct sgx_encl *encl, struct sgx_epc_page *page);
int sgx_encl_ewb(struct sgx_encl *encl, struct sgx_epc_page *epc_page,
		 struct sgx_backing_page *backing);
struct sgx_backing_page *sgx_encl_backing(struct sgx_encl *encl,
					  uint64_t page_index);
void sgx_encl_release(struct sgx_encl *encl);
/* The heap bytes the enclave's page array and backing hold (not Linux's). */
uint64_t sgx_encl_mem_bytes(const struct sgx_encl *encl);
void sgx_encl_get(struct sgx_encl *encl);
void sgx_encl_put(struct sgx_encl *encl);

/* Address spaces (encl.c): mm list, cpumask, PTE zapping, may_map. */
int sgx_encl_mm_add(struct sgx_encl *encl, struct sgx_mm *mm);
const struct sgx_cpumask *sgx_encl_cpumask(struct sgx_encl *encl);
void sgx_zap_enclave_ptes(struct sgx_encl *encl, uint64_t addr);
bool sgx_encl_test_and_clear_young(struct sgx_encl *encl,
				   struct sgx_encl_page *page);
int sgx_encl_may_map(struct sgx_encl *encl, uint64_t start, uint64_t end,
		     unsigned long vm_flags);
/* Linux's per-mm sgx_encl_test_and_clear_young(); mm->mmap_lock held. */
bool sgx_encl_mm_test_and_clear_young(struct sgx_mm *mm,
				      struct sgx_encl_page *page);
/*
 * The driver's hooks core mm (src/mm/) calls: f_op->release once the last
 * reference is gone, the mmu notifier's release at mm exit, the mmap and
 * mprotect checks, and vm_ops->fault.
 */
void sgx_file_release(struct sgx_file *filp);
void sgx_mmu_notifier_release(struct sgx_mm *mm, struct list_head *released);
int sgx_mm_may_map(struct sgx_mm *mm, struct sgx_encl *encl, uint64_t start,
		   uint64_t end, unsigned long vm_flags);
enum sgx_fault_result sgx_vma_fault(struct sgx_mm *mm, struct sgx_vma *vma,
				    uint64_t addr);

/* ioctl.c: an enclave page's type once its MODIFY_TYPES change is tracked. */
enum sgx_page_type sgx_encl_page_type_now(const struct sgx_encl_page *entry);

/*
 * sgx_ipi_mask() - the IPI round of the ETRACK flows: counts it in the
 * enclave's statistics (rounds, targets, AEXs of this enclave's LPs), then
 * asks the platform to deliver it and wait.
 */
void sgx_ipi_mask(struct sgx_encl *encl, const struct sgx_cpumask *mask);

#endif
