// SPDX-License-Identifier: MIT
/*
 * The little of Linux's core mm that SGX needs, as the SGX driver model
 * (src/kernel/) sees it: VMAs, mmap/mprotect/munmap, PTE zapping with its
 * TLB shootdown, the user page-fault entry (do_user_addr_fault()), mm exit
 * and the file's reference count. The driver's side of each (Linux's
 * sgx_mmap(), vm_ops, the mmu notifier, sgx_release()) is in src/kernel/,
 * as in arch/x86/kernel/cpu/sgx/.
 *
 * Locks, outermost first: mm->mmap_lock, encl->lock, encl->mm_lock. Like
 * Linux, sgx_zap_enclave_ptes() and the reclaimer's aging take mmap_lock and
 * so are called without encl->lock. mm_lock is innermost: nothing is taken
 * while it is held.
 *
 * Lifetimes:
 * - struct sgx_file: the descriptor and every VMA hold a reference
 *   (vm_file); Linux's sgx_release() body runs when the last one goes, so
 *   an enclave stays alive as long as it is mapped.
 * - struct sgx_mm: mm_count counts the process, every sgx_encl_mm entry
 *   (mmu_notifier_register() grabs the mm) and walkers in flight.
 *
 * MODEL: every VMA is an SGX VMA of a file opened O_RDWR on an exec mount,
 * so VM_MAYREAD/MAYWRITE/MAYEXEC always hold and are not stored; Linux's
 * VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP | VM_IO change nothing here.
 * Adjacent VMAs are never merged, which nothing in this API can observe.
 * MODEL: mmap_lock is a platform mutex, not an rwsem, and a fault holds it
 * throughout (Linux 6.12 may fault under the per-VMA lock), so the faults
 * of one mm run one at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "kernel/encl.h"
#include "kernel/encls.h"

/* x86-64 with 4-level paging. */
#define TASK_SIZE (BIT(47) - PAGE_SIZE)
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)

#define SGX_PROT_SEM 0x8
#define SGX_PROT_GROWSDOWN 0x01000000
#define SGX_PROT_GROWSUP 0x02000000
#define SGX_MAP_TYPE 0x0f
#define SGX_MAP_SHARED_VALIDATE 0x03

static unsigned long calc_vm_prot_bits(unsigned long prot)
{
	/* PROT_READ/WRITE/EXEC and VM_READ/WRITE/EXEC share their values. */
	return prot & VM_ACCESS_FLAGS;
}

/**
 * vm_get_page_prot() - the PTE bits for a page of a shared VMA.
 * @vm_flags: the VMA's flags
 *
 * x86's protection map for shared mappings: write implies read, and a VMA
 * with none of R/W/X maps nothing (PAGE_NONE).
 *
 * Return: SGX_PTE_* bits; 0 for PROT_NONE.
 */
uint32_t vm_get_page_prot(unsigned long vm_flags)
{
	uint32_t prot = SGX_PTE_PRESENT;

	if (!(vm_flags & VM_ACCESS_FLAGS))
		return 0;
	if (vm_flags & VM_WRITE)
		prot |= SGX_PTE_WRITE;
	if (!(vm_flags & VM_EXEC))
		prot |= SGX_PTE_NX;
	return prot;
}

/**
 * vma_lookup() - the VMA of @mm that covers @addr. Call with mm->mmap_lock
 * held.
 * @mm: the address space
 * @addr: any address
 *
 * Return: the VMA, or NULL.
 */
struct sgx_vma *vma_lookup(struct sgx_mm *mm, uint64_t addr)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &mm->vmas) {
		struct sgx_vma *vma = list_entry(pos, struct sgx_vma, list);

		if (addr < vma->start)
			break;
		if (addr < vma->end)
			return vma;
	}
	return NULL;
}

/* The first VMA that ends after start and begins before end, or NULL. */
static struct sgx_vma *vma_find(struct sgx_mm *mm, uint64_t start,
				uint64_t end)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &mm->vmas) {
		struct sgx_vma *vma = list_entry(pos, struct sgx_vma, list);

		if (vma->start >= end)
			break;
		if (vma->end > start)
			return vma;
	}
	return NULL;
}

/* Link vma into mm->vmas, which is kept sorted by address. */
static void vma_link(struct sgx_mm *mm, struct sgx_vma *vma)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &mm->vmas) {
		if (list_entry(pos, struct sgx_vma, list)->start > vma->start)
			break;
	}
	list_add_tail(&vma->list, pos);
}

/*
 * Split vma at addr: vma keeps [start, addr), a new VMA after it takes
 * [addr, end) with its own file reference. *upper receives the new VMA.
 */
static int split_vma(struct sgx_vma *vma, uint64_t addr,
		     struct sgx_vma **upper)
{
	struct sgx_vma *new = malloc(sizeof(*new));

	if (!new)
		return -ENOMEM;
	*new = *vma;
	new->start = addr;
	vma->end = addr;
	get_file(new->vm_file);
	list_add(&new->list, &vma->list);
	*upper = new;
	return 0;
}

/* Split the VMA that straddles addr, if any, so that addr is a boundary. */
static int split_at(struct sgx_mm *mm, uint64_t addr)
{
	struct sgx_vma *vma = vma_lookup(mm, addr), *upper;

	if (!vma || vma->start == addr)
		return 0;
	return split_vma(vma, addr, &upper);
}

typedef void (*pte_fn)(struct sgx_pgtable *pt, struct sgx_pte *pte,
		       uint32_t prot);

/*
 * Apply fn to each PTE that maps a page of [start, end), in address order,
 * skipping empty page tables whole.
 *
 * Return: the number of PTEs visited.
 */
static uint64_t for_each_pte(struct sgx_pgtable *pt, uint64_t start,
			     uint64_t end, pte_fn fn, uint32_t prot)
{
	struct sgx_pte *pte;
	uint64_t n = 0;

	while ((pte = sgx_pgtable_next(pt, start, end))) {
		start = (pte->vpn + 1) << PAGE_SHIFT;
		fn(pt, pte, prot);
		n++;
	}
	return n;
}

static void pte_clear(struct sgx_pgtable *pt, struct sgx_pte *pte,
		      uint32_t prot)
{
	sgx_pgtable_unmap(pt, pte->vpn << PAGE_SHIFT);
}

/*
 * MODEL: a PROT_NONE PTE is removed instead of kept non-present with its
 * frame; the next access after a widening mprotect refaults it in.
 */
static void pte_modify(struct sgx_pgtable *pt, struct sgx_pte *pte,
		       uint32_t prot)
{
	if (!prot) {
		pte_clear(pt, pte, prot);
		return;
	}
	sgx_pgtable_protect(pt, pte,
			    (pte->flags & (SGX_PTE_ACCESSED | SGX_PTE_DIRTY)) |
				    prot);
}

/*
 * flush_tlb_mm_range(): every other LP that runs mm gets an IPI, which
 * forces a thread inside an enclave out with an AEX (the LP's TLB goes with
 * it); the caller's LP is in the kernel, not in enclave mode.
 */
static void flush_tlb_mm_range(struct sgx_mm *mm)
{
	const struct sgx_platform *plat = mm->drv->plat;
	struct sgx_cpumask others = mm->cpumask;
	bool any = false;

	sgx_cpumask_clear(&others, plat->this_lp(plat->ctx)->id);
	for (unsigned int w = 0; w < SGX_CPUMASK_WORDS; w++)
		any = any || others.bits[w];
	if (any)
		plat->ipi(plat->ctx, &others);
}

/* Unmap the pages of [start, end) in mm and flush the TLBs if any was. */
void zap_page_range(struct sgx_mm *mm, uint64_t start, uint64_t end)
{
	if (for_each_pte(&mm->pgtable, start, end, pte_clear, 0))
		flush_tlb_mm_range(mm);
}

void mmdrop(struct sgx_mm *mm)
{
	ASSERT(mm->mm_count);
	if (--mm->mm_count)
		return;
	sgx_pgtable_destroy(&mm->pgtable);
	free(mm);
}

/**
 * get_file() - take a reference on the file.
 * @filp: a file with a reference held by the caller
 *
 * Return: @filp.
 */
struct sgx_file *get_file(struct sgx_file *filp)
{
	ASSERT(filp->f_count);
	filp->f_count++;
	return filp;
}

/**
 * fput() - drop a reference on the file; the last one releases it
 * (sgx_file_release()). Call with no mmap_lock held.
 * @filp: the file
 */
void fput(struct sgx_file *filp)
{
	ASSERT(filp->f_count);
	if (!--filp->f_count)
		sgx_file_release(filp);
}

/*
 * Free VMAs taken out of an mm. Linux's fput() from munmap is deferred to
 * the return to user space; here it runs once mmap_lock is dropped, because
 * the last one runs sgx_file_release(), which takes mmap_locks.
 */
static void remove_vmas(struct list_head *detached)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, detached) {
		struct sgx_vma *vma = list_entry(pos, struct sgx_vma, list);

		list_del_init(&vma->list);
		fput(vma->vm_file);
		free(vma);
	}
}

/*
 * Move the VMAs inside [start, end) to detached and unmap their pages,
 * splitting the VMAs across start and end first so that a failed split
 * changes nothing. Call with mm->mmap_lock held.
 */
static int detach_range(struct sgx_mm *mm, uint64_t start, uint64_t end,
			struct list_head *detached)
{
	struct list_head *pos, *tmp;
	uint64_t zapped = 0;
	int ret;

	ret = split_at(mm, start);
	if (!ret)
		ret = split_at(mm, end);
	if (ret)
		return ret;
	list_for_each_safe(pos, tmp, &mm->vmas) {
		struct sgx_vma *vma = list_entry(pos, struct sgx_vma, list);

		if (vma->start < start || vma->end > end)
			continue;
		list_del_init(&vma->list);
		list_add_tail(&vma->list, detached);
		zapped += for_each_pte(&mm->pgtable, vma->start, vma->end,
				       pte_clear, 0);
	}
	if (zapped)
		flush_tlb_mm_range(mm);
	return 0;
}

/**
 * sgx_mm_create() - a new, empty address space.
 * @drv: the driver (its platform supplies the mmap_lock)
 * @out: receives the mm
 *
 * Return: 0 or -ENOMEM.
 */
int sgx_mm_create(struct sgx_driver *drv, struct sgx_mm **out)
{
	struct sgx_mm *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return -ENOMEM;
	if (sgx_pgtable_init(&mm->pgtable)) {
		free(mm);
		return -ENOMEM;
	}
	mm->drv = drv;
	INIT_LIST_HEAD(&mm->vmas);
	INIT_LIST_HEAD(&mm->notifiers);
	drv->plat->mutex_init(drv->plat->ctx, &mm->mmap_lock);
	mm->mm_count = 1;
	*out = mm;
	return 0;
}

/**
 * sgx_mm_destroy() - the process exits: exit_mmap().
 * @mm: the address space; the caller's reference is dropped
 *
 * Its threads have exited, so it is first deactivated on every LP still
 * running it. Then every VMA is unmapped, and the mmu notifier's release
 * runs for every enclave that lists the mm: the entry leaves mm_list and
 * its enclave reference is put (.free_notifier). The struct itself lives
 * on while walkers that grabbed it finish.
 */
void sgx_mm_destroy(struct sgx_mm *mm)
{
	struct sgx_driver *drv = mm->drv;
	struct list_head vmas, released, *pos, *tmp;
	int ret;

	/* Its threads are gone: no LP keeps running it. */
	for (unsigned int i = 0; i < drv->cpu->cfg.nr_lps; i++) {
		if (sgx_cpumask_test(&mm->cpumask, i))
			sgx_mm_deactivate(mm, &drv->cpu->lps[i]);
	}
	INIT_LIST_HEAD(&vmas);
	INIT_LIST_HEAD(&released);
	mutex_lock(drv, &mm->mmap_lock);
	/* Every VMA lies inside [0, TASK_SIZE): no split, so no failure. */
	ret = detach_range(mm, 0, TASK_SIZE, &vmas);
	ASSERT(!ret);
	sgx_mmu_notifier_release(mm, &released);
	mutex_unlock(drv, &mm->mmap_lock);
	remove_vmas(&vmas);
	list_for_each_safe(pos, tmp, &released) {
		struct sgx_encl_mm *encl_mm =
			list_entry(pos, struct sgx_encl_mm, mm_node);

		list_del_init(&encl_mm->mm_node);
		sgx_encl_put(encl_mm->encl);
		free(encl_mm);
		mmdrop(mm);
	}
	mmdrop(mm);
}

/**
 * sgx_mm_activate() - a thread of @mm now runs on @lp: load its page table
 * (CR3) and set the LP in mm_cpumask.
 * @mm: the address space
 * @lp: the logical processor
 */
void sgx_mm_activate(struct sgx_mm *mm, struct sgx_lp *lp)
{
	lp->pgtable = &mm->pgtable;
	sgx_cpumask_set(&mm->cpumask, lp->id);
}

/**
 * sgx_mm_deactivate() - @lp no longer runs @mm: clear it from mm_cpumask
 * and unload the page table.
 * @mm: the address space
 * @lp: the logical processor
 */
void sgx_mm_deactivate(struct sgx_mm *mm, struct sgx_lp *lp)
{
	sgx_cpumask_clear(&mm->cpumask, lp->id);
	if (lp->pgtable == &mm->pgtable)
		lp->pgtable = NULL;
}

/*
 * do_mmap()'s checks up to the driver, in Linux's order, with
 * sgx_get_unmapped_area() in its place. *len is page-aligned on success.
 */
static int sgx_mmap_check(uint64_t addr, uint64_t *len, unsigned long flags)
{
	unsigned long type = flags & SGX_MAP_TYPE;

	if (!*len)
		return -EINVAL;
	*len = PAGE_ALIGN(*len);
	if (!*len || *len > TASK_SIZE)
		return -ENOMEM;
	if (type == SGX_MAP_PRIVATE)
		return -EINVAL;
	/* MODEL: no address allocation: the caller places every mapping. */
	if (!(flags & SGX_MAP_FIXED))
		return -EINVAL;
	if (addr > TASK_SIZE - *len)
		return -ENOMEM;
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	if (type != SGX_MAP_SHARED && type != SGX_MAP_SHARED_VALIDATE)
		return -EINVAL;
	return 0;
}

/* mmap_region(): replace whatever [addr, addr + len) held by a new VMA. */
static int mmap_region(struct sgx_mm *mm, struct sgx_file *filp,
		       uint64_t addr, uint64_t len, unsigned long vm_flags,
		       struct list_head *detached)
{
	struct sgx_vma *vma = calloc(1, sizeof(*vma));
	int ret;

	if (!vma)
		return -ENOMEM;
	ret = detach_range(mm, addr, addr + len, detached);
	if (ret) {
		free(vma);
		return ret;
	}
	vma->start = addr;
	vma->end = addr + len;
	vma->vm_flags = vm_flags;
	vma->encl = filp->encl;
	vma->vm_file = get_file(filp);
	vma_link(mm, vma);
	return 0;
}

/**
 * sgx_mmap() - mmap(@addr, @len, @prot, @flags, enclave fd, 0).
 * @filp: the enclave file
 * @mm: the calling process's address space
 * @addr: where to map; MAP_FIXED is required (MODEL)
 * @len: the length, rounded up to pages
 * @prot: SGX_PROT_*
 * @flags: SGX_MAP_*; MAP_SHARED only (sgx_get_unmapped_area())
 *
 * The file offset is not modelled: Linux ignores it, the address alone
 * selects the enclave page. MAP_FIXED replaces what was mapped there.
 *
 * MODEL: sgx_encl_may_map() and sgx_encl_mm_add() run before the old
 * mappings are replaced, so a refused mmap changes nothing; Linux 6.12
 * restores the old VMAs too but has already cleared their PTEs, which only
 * costs a refault.
 *
 * Return: 0, -EINVAL, -ENOMEM or -EACCES, as Linux's mmap() does.
 */
int sgx_mmap(struct sgx_file *filp, struct sgx_mm *mm, uint64_t addr,
	     uint64_t len, unsigned long prot, unsigned long flags)
{
	struct sgx_driver *drv = mm->drv;
	unsigned long vm_flags;
	struct list_head detached;
	int ret;

	ret = sgx_mmap_check(addr, &len, flags);
	if (ret)
		return ret;
	vm_flags = calc_vm_prot_bits(prot) | VM_SHARED;
	INIT_LIST_HEAD(&detached);
	mutex_lock(drv, &mm->mmap_lock);
	ret = sgx_mm_may_map(mm, filp->encl, addr, addr + len, vm_flags);
	if (!ret)
		ret = sgx_encl_mm_add(filp->encl, mm);
	if (!ret)
		ret = mmap_region(mm, filp, addr, len, vm_flags, &detached);
	mutex_unlock(drv, &mm->mmap_lock);
	remove_vmas(&detached);
	return ret;
}

/*
 * mprotect_fixup(): give [start, end) of vma the flags newflags, splitting
 * it as needed, and bring its PTEs in line (change_protection()).
 * *changed counts the PTEs touched, for the TLB flush.
 */
static int mprotect_fixup(struct sgx_mm *mm, struct sgx_vma *vma,
			  uint64_t start, uint64_t end, unsigned long newflags,
			  uint64_t *changed)
{
	struct sgx_vma *upper;
	int ret;

	if (newflags == vma->vm_flags)
		return 0;
	if (start > vma->start) {
		ret = split_vma(vma, start, &upper);
		if (ret)
			return ret;
		vma = upper;
	}
	if (end < vma->end) {
		ret = split_vma(vma, end, &upper);
		if (ret)
			return ret;
	}
	vma->vm_flags = newflags;
	*changed += for_each_pte(&mm->pgtable, start, end, pte_modify,
				 vm_get_page_prot(newflags));
	return 0;
}

/*
 * The VMA walk of do_mprotect_pkey(), with mmap_lock held. Like Linux, a
 * hole or a refused VMA stops the walk with the VMAs before it already
 * changed. No VMA here is VM_GROWSDOWN or VM_GROWSUP, so asking for either
 * fails once a VMA is found.
 */
static int mprotect_range(struct sgx_mm *mm, uint64_t start, uint64_t end,
			  unsigned long prot, unsigned long grows)
{
	struct sgx_vma *vma = vma_find(mm, start, end);
	uint64_t nstart = start, tmp, changed = 0;
	int ret = 0;

	if (!vma)
		return -ENOMEM;
	if (grows & SGX_PROT_GROWSDOWN)
		return -EINVAL;
	if (vma->start > start)
		return -ENOMEM;
	if (grows)
		return -EINVAL;
	for (tmp = vma->start; vma;) {
		unsigned long newflags = calc_vm_prot_bits(prot) |
					 (vma->vm_flags & ~VM_ACCESS_FLAGS);

		if (vma->start != tmp) {
			ret = -ENOMEM;
			break;
		}
		tmp = vma->end < end ? vma->end : end;
		/* vm_ops->mprotect: sgx_vma_mprotect() */
		ret = sgx_mm_may_map(mm, vma->encl, nstart, tmp, newflags);
		if (!ret)
			ret = mprotect_fixup(mm, vma, nstart, tmp, newflags,
					     &changed);
		if (ret)
			break;
		nstart = tmp;
		vma = tmp < end ? vma_find(mm, tmp, end) : NULL;
	}
	if (changed)
		flush_tlb_mm_range(mm);
	if (!ret && tmp < end)
		ret = -ENOMEM;
	return ret;
}

/**
 * sgx_mprotect() - mprotect(@addr, @len, @prot) over enclave mappings.
 * @mm: the calling process's address space
 * @addr: page-aligned start
 * @len: the length, rounded up to pages; 0 does nothing
 * @prot: SGX_PROT_* (PROT_SEM is accepted and ignored, as on x86;
 *	  PROT_GROWSDOWN/GROWSUP fail, no enclave VMA grows)
 *
 * Each VMA in the range goes through the .mprotect hook,
 * sgx_encl_may_map(), before its flags change; the PTEs in the range are
 * then updated to the new rights (removed for PROT_NONE) and the other LPs
 * running the mm get a TLB shootdown.
 *
 * Return: 0, -EINVAL, -ENOMEM (a hole in the range) or -EACCES.
 */
int sgx_mprotect(struct sgx_mm *mm, uint64_t addr, uint64_t len,
		 unsigned long prot)
{
	unsigned long grows = prot & (SGX_PROT_GROWSDOWN | SGX_PROT_GROWSUP);
	uint64_t end;
	int ret;

	prot &= ~grows;
	if (grows == (SGX_PROT_GROWSDOWN | SGX_PROT_GROWSUP))
		return -EINVAL;
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	if (!len)
		return 0;
	end = addr + PAGE_ALIGN(len);
	if (end <= addr)
		return -ENOMEM;
	if (prot & ~(unsigned long)(VM_ACCESS_FLAGS | SGX_PROT_SEM))
		return -EINVAL;
	mutex_lock(mm->drv, &mm->mmap_lock);
	ret = mprotect_range(mm, addr, end, prot, grows);
	mutex_unlock(mm->drv, &mm->mmap_lock);
	return ret;
}

/**
 * sgx_munmap() - munmap(@addr, @len).
 * @mm: the calling process's address space
 * @addr: page-aligned start
 * @len: the length, rounded up to pages
 *
 * Removes the mappings in the range, splitting VMAs that straddle its
 * ends, and zaps their PTEs. The mm stays on the enclave's mm_list until
 * it exits or the file is released, as in Linux.
 *
 * Return: 0 (also when nothing was mapped), -EINVAL or -ENOMEM.
 */
int sgx_munmap(struct sgx_mm *mm, uint64_t addr, uint64_t len)
{
	struct list_head detached;
	uint64_t end;
	int ret;

	if ((addr & ~PAGE_MASK) || addr > TASK_SIZE || len > TASK_SIZE - addr)
		return -EINVAL;
	end = addr + PAGE_ALIGN(len);
	if (end == addr)
		return -EINVAL;
	INIT_LIST_HEAD(&detached);
	mutex_lock(mm->drv, &mm->mmap_lock);
	ret = detach_range(mm, addr, end, &detached);
	mutex_unlock(mm->drv, &mm->mmap_lock);
	remove_vmas(&detached);
	return ret;
}

/*
 * x86's access_error(): whether the VMA forbids the access outright. Note
 * what it does not check: an instruction fetch from a VMA without VM_EXEC
 * whose PTE is missing is let through, the page is mapped NX, and the
 * retried fetch then faults with PROT set, which is an access error.
 */
static bool access_error(uint32_t error_code, const struct sgx_vma *vma)
{
	/* The kernel cannot fix what the EPCM blocked. */
	if (error_code & X86_PF_SGX)
		return true;
	if (error_code & X86_PF_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	/* read, present */
	if (error_code & X86_PF_PROT)
		return true;
	/* read, not present: any of R/W/X will do on x86 */
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

/**
 * sgx_user_fault() - do_user_addr_fault() for a #PF the enclave (or its
 * host thread) took at @addr.
 * @mm: the faulting thread's address space
 * @addr: the faulting linear address (CR2)
 * @error_code: the #PF error code
 *
 * No VMA, or an access the VMA forbids (access_error()), is a SIGSEGV;
 * everything else is the enclave VMA's fault handler, sgx_vma_fault().
 *
 * Return: SGX_FAULT_FIXED to retry the access, or the signal to send.
 */
enum sgx_fault_result sgx_user_fault(struct sgx_mm *mm, uint64_t addr,
				     uint32_t error_code)
{
	enum sgx_fault_result ret = SGX_FAULT_SIGSEGV;
	struct sgx_vma *vma;

	mutex_lock(mm->drv, &mm->mmap_lock);
	vma = vma_lookup(mm, addr);
	if (vma && !access_error(error_code, vma))
		ret = sgx_vma_fault(mm, vma, addr & PAGE_MASK);
	mutex_unlock(mm->drv, &mm->mmap_lock);
	return ret;
}

/*
 * vmf_insert_pfn(): map addr to the EPC page with the VMA's protection. A
 * PTE that is already there (another thread's fault won) is left alone.
 * Return: SGX_FAULT_FIXED (VM_FAULT_NOPAGE), or SGX_FAULT_OOM.
 */
enum sgx_fault_result vmf_insert_pfn(struct sgx_mm *mm, struct sgx_vma *vma,
				     uint64_t addr,
				     struct sgx_epc_page *epc_page)
{
	struct sgx_driver *drv = vma->encl->drv;

	if (sgx_pgtable_lookup(&mm->pgtable, addr))
		return SGX_FAULT_FIXED;
	if (sgx_pgtable_map(&mm->pgtable, addr,
			    sgx_get_epc_virt_addr(drv, epc_page),
			    vm_get_page_prot(vma->vm_flags)))
		return SGX_FAULT_OOM;
	return SGX_FAULT_FIXED;
}

/* ---- madvise ------------------------------------------------------------ */

/* madvise_behavior_valid() of Linux 6.12 (x86-64: KSM, THP, memory failure). */
static bool madvise_behavior_valid(int behavior)
{
	return (behavior >= SGX_MADV_NORMAL &&
		behavior <= SGX_MADV_COLLAPSE && behavior != 5 &&
		behavior != 6 && behavior != 7) ||
	       behavior == SGX_MADV_HWPOISON ||
	       behavior == SGX_MADV_SOFT_OFFLINE;
}

/*
 * madvise_vma_behavior() for an SGX VMA, whose Linux flags are VM_SHARED |
 * VM_MAYWRITE | VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP on the
 * /dev/sgx_enclave character device. No advice touches a page:
 * - DONTNEED, DONTNEED_LOCKED and FREE refuse VM_PFNMAP (EINVAL); COLD and
 *   PAGEOUT refuse it too (can_madv_lru_vma()), and so does COLLAPSE
 *   (VM_NO_KHUGEPAGED);
 * - REMOVE punches a hole with vfs_fallocate(), which a character device
 *   refuses (ENODEV);
 * - DOFORK refuses VM_IO, WIPEONFORK a file VMA, DODUMP VM_SPECIAL;
 * - the rest only change flags (0). Only DONTFORK's VM_DONTCOPY matters
 *   here (fork); the others are not stored.
 * POPULATE_* never get here (sgx_madvise()).
 */
static int madvise_sgx_vma(struct sgx_mm *mm, struct sgx_vma *vma,
			   uint64_t start, uint64_t end, int behavior)
{
	int ret;

	switch (behavior) {
	case SGX_MADV_REMOVE:
		return -ENODEV;
	case SGX_MADV_DONTNEED:
	case SGX_MADV_DONTNEED_LOCKED:
	case SGX_MADV_FREE:
	case SGX_MADV_COLD:
	case SGX_MADV_PAGEOUT:
	case SGX_MADV_COLLAPSE:
	case SGX_MADV_DOFORK:
	case SGX_MADV_WIPEONFORK:
	case SGX_MADV_DODUMP:
		return -EINVAL;
	case SGX_MADV_DONTFORK:
		break;
	default:
		return 0;
	}
	if (vma->vm_flags & VM_DONTCOPY)
		return 0;
	/* madvise_update_vma(): split off [start, end); ENOMEM is EAGAIN. */
	ret = split_at(mm, start);
	if (!ret)
		ret = split_at(mm, end);
	if (ret)
		return ret == -ENOMEM ? -EAGAIN : ret;
	/* [start, end) lies in one VMA: now exactly one. */
	vma_lookup(mm, start)->vm_flags |= VM_DONTCOPY;
	return 0;
}

/*
 * madvise_walk_vmas() over the model's VMAs and, between them, @other's
 * host mappings: the first error stops the walk, a hole only makes the
 * result -ENOMEM at the end. MADV_POPULATE_* (faultin_page_range()) stop
 * at once at a hole, and at an SGX VMA with -EFAULT (GUP refuses VM_IO |
 * VM_PFNMAP).
 */
static int madvise_walk(struct sgx_mm *mm, uint64_t start, uint64_t end,
			int behavior, sgx_madvise_other_fn other, void *ctx)
{
	bool populate = behavior == SGX_MADV_POPULATE_READ ||
			behavior == SGX_MADV_POPULATE_WRITE;
	int unmapped = 0, ret;

	while (start < end) {
		struct sgx_vma *vma = vma_find(mm, start, end);
		uint64_t stop = vma ? (vma->start > start ? vma->start : start) :
				      end;

		if (stop > start) {
			ret = other(ctx, start, stop, behavior);
			if (ret == -ENOMEM && !populate)
				unmapped = ret;
			else if (ret)
				return ret;
			start = stop;
			continue;
		}
		if (populate)
			return -EFAULT;
		stop = vma->end < end ? vma->end : end;
		ret = madvise_sgx_vma(mm, vma, start, stop, behavior);
		if (ret)
			return ret;
		start = stop;
	}
	return unmapped;
}

/**
 * sgx_madvise() - madvise(@start, @len_in, @behavior) over a range that may
 * hold enclave VMAs.
 * @mm: the calling process's address space
 * @start: the range's start
 * @len_in: its length, rounded up to pages
 * @behavior: the advice (SGX_MADV_*)
 * @other: called for each part without an enclave VMA, in address order
 * @ctx: its context
 *
 * do_madvise()'s checks first, then the walk. MADV_HWPOISON and
 * MADV_SOFT_OFFLINE need CAP_SYS_ADMIN (@mm->cap_sys_admin, the caller's
 * to set), then pin each page, which VM_IO | VM_PFNMAP refuses.
 * UNCERTAIN: with CAP_SYS_ADMIN, host pages before the enclave in the
 * range are not poisoned here; Linux would poison them first.
 *
 * Return: 0 or -errno, as Linux 6.12's madvise().
 */
int sgx_madvise(struct sgx_mm *mm, uint64_t start, uint64_t len_in,
		int behavior, sgx_madvise_other_fn other, void *ctx)
{
	uint64_t len = PAGE_ALIGN(len_in), end = start + len;
	int ret;

	if (!madvise_behavior_valid(behavior) || (start & ~PAGE_MASK))
		return -EINVAL;
	if ((len_in && !len) || end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	if (behavior == SGX_MADV_HWPOISON || behavior == SGX_MADV_SOFT_OFFLINE)
		return mm->cap_sys_admin ? -EFAULT : -EPERM;
	mutex_lock(mm->drv, &mm->mmap_lock);
	ret = madvise_walk(mm, start, end, behavior, other, ctx);
	mutex_unlock(mm->drv, &mm->mmap_lock);
	return ret;
}

/* ---- mremap ------------------------------------------------------------- */

/* do_munmap() of [start, end) inside mremap; recorded for the host. */
static int mremap_unmap(struct sgx_mm *mm, uint64_t start, uint64_t end,
			struct list_head *detached, struct sgx_mremap_done *done)
{
	int ret = detach_range(mm, start, end, detached);
	unsigned int i = done->unmap[0][1] ? 1 : 0;

	if (!ret) {
		done->unmap[i][0] = start;
		done->unmap[i][1] = end;
	}
	return ret;
}

/*
 * vma_to_resize() for an SGX VMA: VM_DONTEXPAND | VM_PFNMAP refuse
 * MREMAP_DONTUNMAP and any growth.
 */
static struct sgx_vma *vma_to_resize(struct sgx_mm *mm, uint64_t addr,
				     uint64_t old_len, uint64_t new_len,
				     unsigned long flags, long *err)
{
	struct sgx_vma *vma = vma_lookup(mm, addr);

	*err = -EFAULT;
	if (!vma)
		return NULL;
	*err = -EINVAL;
	if (flags & SGX_MREMAP_DONTUNMAP)
		return NULL;
	*err = -EFAULT;
	if (old_len > vma->end - addr)
		return NULL;
	if (new_len == old_len)
		return vma;
	if (((addr - vma->start) >> PAGE_SHIFT) + (new_len >> PAGE_SHIFT) <
	    ((addr - vma->start) >> PAGE_SHIFT))
		*err = -EINVAL;
	return NULL;
}

/*
 * move_vma(): [addr, addr + len) of its VMA becomes a VMA at new_addr.
 * MODEL: its PTEs are zapped, not moved (Linux's move_page_tables()): the
 * pages refault, and outside ELRANGE no enclave page is found.
 */
static long move_vma(struct sgx_mm *mm, uint64_t addr, uint64_t len,
		     uint64_t new_addr, struct sgx_mremap_done *done)
{
	struct sgx_vma *vma;
	int ret = split_at(mm, addr);

	if (!ret)
		ret = split_at(mm, addr + len);
	if (ret)
		return ret;
	vma = vma_lookup(mm, addr);
	zap_page_range(mm, addr, addr + len);
	list_del_init(&vma->list);
	vma->start = new_addr;
	vma->end = new_addr + len;
	vma_link(mm, vma);
	done->moved_from = addr;
	done->moved_to = new_addr;
	done->moved_len = len;
	return (long)new_addr;
}

/* mremap_to(): MREMAP_FIXED or MREMAP_DONTUNMAP. */
static long mremap_to(struct sgx_mm *mm, uint64_t addr, uint64_t old_len,
		      uint64_t new_addr, uint64_t new_len, unsigned long flags,
		      struct list_head *detached, struct sgx_mremap_done *done)
{
	long err;
	int ret;

	if ((new_addr & ~PAGE_MASK) || new_len > TASK_SIZE ||
	    new_addr > TASK_SIZE - new_len)
		return -EINVAL;
	if (addr + old_len > new_addr && new_addr + new_len > addr)
		return -EINVAL;
	if (flags & SGX_MREMAP_FIXED) {
		ret = mremap_unmap(mm, new_addr, new_addr + new_len, detached,
				   done);
		if (ret)
			return ret;
	}
	if (old_len > new_len) {
		ret = mremap_unmap(mm, addr + new_len, addr + old_len,
				   detached, done);
		if (ret)
			return ret;
		old_len = new_len;
	}
	if (!vma_to_resize(mm, addr, old_len, new_len, flags, &err))
		return err;
	/* sgx_get_unmapped_area() returns a MAP_FIXED address as it is. */
	return move_vma(mm, addr, new_len, new_addr, done);
}

/*
 * The checks and cases of Linux 6.12's mremap() for an address inside an
 * SGX VMA, with mmap_lock held.
 */
static long mremap_locked(struct sgx_mm *mm, uint64_t addr, uint64_t old_len,
			  uint64_t new_len, unsigned long flags,
			  uint64_t new_addr, struct list_head *detached,
			  struct sgx_mremap_done *done)
{
	long err;
	int ret;

	if (!vma_lookup(mm, addr))
		return -EFAULT;
	if (flags & (SGX_MREMAP_FIXED | SGX_MREMAP_DONTUNMAP))
		return mremap_to(mm, addr, old_len, new_addr, new_len, flags,
				 detached, done);
	if (old_len >= new_len) {
		if (old_len == new_len)
			return (long)addr;
		ret = mremap_unmap(mm, addr + new_len, addr + old_len,
				   detached, done);
		return ret ? ret : (long)addr;
	}
	/* Growing: vma_to_resize() refuses VM_DONTEXPAND | VM_PFNMAP. */
	vma_to_resize(mm, addr, old_len, new_len, flags, &err);
	return err;
}

/**
 * sgx_mremap() - mremap(@addr, @old_len, @new_len, @flags, @new_addr) where
 * @addr lies in an enclave VMA.
 * @mm: the calling process's address space
 * @addr: the old start
 * @old_len: the old length (0 is Linux's duplicate request)
 * @new_len: the new length
 * @flags: SGX_MREMAP_*
 * @new_addr: the target with MREMAP_FIXED
 * @done: receives what the host's mappings must follow, even on failure
 *
 * Shrinking unmaps the tail; growing fails with EFAULT (VM_DONTEXPAND |
 * VM_PFNMAP); MREMAP_DONTUNMAP fails with EINVAL; a move (MREMAP_FIXED,
 * not growing) succeeds, as in Linux, and leaves the enclave's pages as
 * they are: only the VMA moves.
 *
 * Return: the new address, or -errno.
 */
long sgx_mremap(struct sgx_mm *mm, uint64_t addr, uint64_t old_len,
		uint64_t new_len, unsigned long flags, uint64_t new_addr,
		struct sgx_mremap_done *done)
{
	unsigned long known = SGX_MREMAP_FIXED | SGX_MREMAP_MAYMOVE |
			      SGX_MREMAP_DONTUNMAP;
	struct list_head detached;
	long ret;

	memset(done, 0, sizeof(*done));
	if (flags & ~known)
		return -EINVAL;
	if ((flags & SGX_MREMAP_FIXED) && !(flags & SGX_MREMAP_MAYMOVE))
		return -EINVAL;
	if ((flags & SGX_MREMAP_DONTUNMAP) &&
	    (!(flags & SGX_MREMAP_MAYMOVE) || old_len != new_len))
		return -EINVAL;
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	old_len = PAGE_ALIGN(old_len);
	new_len = PAGE_ALIGN(new_len);
	if (!new_len)
		return -EINVAL;
	INIT_LIST_HEAD(&detached);
	mutex_lock(mm->drv, &mm->mmap_lock);
	ret = mremap_locked(mm, addr, old_len, new_len, flags, new_addr,
			    &detached, done);
	mutex_unlock(mm->drv, &mm->mmap_lock);
	remove_vmas(&detached);
	return ret;
}
