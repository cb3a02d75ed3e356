// SPDX-License-Identifier: MIT
/*
 * The user page-fault path for enclave memory, after Linux 6.12:
 * do_user_addr_fault()/access_error() of arch/x86/mm/fault.c for the part
 * before the driver, then sgx_vma_fault() and sgx_encl_eaug_page() of
 * arch/x86/kernel/cpu/sgx/encl.c (linux-sgx-driver.md sections 6 and 9).
 *
 * The CPU reports a #PF after the AEX; the kernel either fixes it (a PTE is
 * installed and the vDSO's AEP simply ERESUMEs) or sends a signal, which
 * the vDSO turns into the exception fields of struct sgx_enclave_run. An
 * EPCM fault (X86_PF_SGX) is never fixed.
 */
#include <errno.h>
#include <stdlib.h>

#include "kernel/encl.h"
#include "kernel/encls.h"

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
static enum sgx_fault_result vmf_insert_pfn(struct sgx_mm *mm,
					    struct sgx_vma *vma, uint64_t addr,
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
	int err = sgx_encl_load_secs(encl);

	if (err)
		return err == -EBUSY ? busy : SGX_FAULT_SIGBUS;
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
	sgx_encl_erase(encl, page);
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
						       unsigned long vm_flags,
						       int *err)
{
	unsigned long vm_prot_bits = vm_flags & VM_ACCESS_FLAGS;
	struct sgx_encl_page *entry = sgx_encl_lookup(encl, addr);

	if (!entry ||
	    (entry->vm_max_prot_bits & vm_prot_bits) != vm_prot_bits) {
		*err = -EFAULT;
		return NULL;
	}
	return sgx_encl_load_page(encl, addr, err);
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
	int err;

	/* vm_private_data is NULL after sgx_encl_mm_add() failed on fork. */
	if (!encl)
		return SGX_FAULT_SIGBUS;
	if (encl->drv->cfg.sgx2 && !sgx_encl_lookup(encl, addr))
		return sgx_encl_eaug_page(mm, vma, encl, addr);
	mutex_lock(encl->drv, &encl->lock);
	entry = sgx_encl_load_page_in_vma(encl, addr, vma->vm_flags, &err);
	if (!entry) {
		mutex_unlock(encl->drv, &encl->lock);
		return err == -EBUSY ? SGX_FAULT_FIXED : SGX_FAULT_SIGBUS;
	}
	ret = vmf_insert_pfn(mm, vma, addr, entry->epc_page);
	if (ret == SGX_FAULT_FIXED)
		sgx_encl_mm_test_and_clear_young(mm, entry);
	else
		ret = SGX_FAULT_SIGBUS;
	mutex_unlock(encl->drv, &encl->lock);
	return ret;
}
