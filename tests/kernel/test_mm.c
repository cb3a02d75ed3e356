// SPDX-License-Identifier: MIT
/*
 * Address spaces and the enclave file (driver.c): the mmap rules of
 * linux-sgx-driver.md section 6 (sgx_get_unmapped_area, sgx_encl_may_map),
 * mprotect and munmap with their PTE updates and TLB shootdowns, the
 * enclave's mm list (sgx_encl_cpumask, sgx_zap_enclave_ptes, aging, IPI
 * accounting), the lifetimes of file, enclave and mm, and uaccess.c.
 *
 * The default fixture enclave: ELRANGE [base, base + 64 KiB), TCS pages at
 * 0x0-0x2000 (max RW), text 0x2000-0x4000 (RX), data 0x4000-0xB000 (RW),
 * heap 0xB000 (RW), holes 0xC000-0x10000.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "kernel/encl.h"
#include "kfixture.h"

static struct kfx fx;

#define RW (SGX_PROT_READ | SGX_PROT_WRITE)
#define RWX (SGX_PROT_READ | SGX_PROT_WRITE | SGX_PROT_EXEC)
#define SHARED_FIXED (SGX_MAP_SHARED | SGX_MAP_FIXED)
#define HOLE 0xC000ULL
#define READ_FAULT (X86_PF_USER)
#define WRITE_FAULT (X86_PF_USER | X86_PF_WRITE)

static void setup(void)
{
	kfx_init(&fx, NULL);
	kfx_build(&fx);
}

static enum sgx_fault_result fault(struct sgx_mm *mm, uint64_t off,
				   uint32_t error_code)
{
	return sgx_user_fault(mm, fx.base + off, error_code);
}

static unsigned int nr_listed(const struct list_head *head)
{
	unsigned int n = 0;

	for (const struct list_head *p = head->next; p != head; p = p->next)
		n++;
	return n;
}

static struct sgx_vma *vma_at(struct sgx_mm *mm, uint64_t off)
{
	return vma_lookup(mm, fx.base + off);
}

static bool mask_is(const struct sgx_cpumask *m, uint64_t word0)
{
	return m->bits[0] == word0 && !m->bits[1] && !m->bits[2] &&
	       !m->bits[3];
}

Test(mmap, map_private_is_einval_and_changes_nothing)
{
	struct sgx_mm *mm2;

	setup();
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
			      SGX_PROT_READ, SGX_MAP_PRIVATE | SGX_MAP_FIXED),
		     -EINVAL);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->vm_flags, VM_SHARED | RW);
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	/* a process that never mapped the enclave is not listed on it */
	cr_assert_eq(sgx_mm_create(&fx.drv, &mm2), 0);
	cr_assert_eq(sgx_mmap(fx.file, mm2, fx.base + HOLE, PAGE_SIZE, RW,
			      SGX_MAP_PRIVATE | SGX_MAP_FIXED),
		     -EINVAL);
	cr_assert_null(vma_at(mm2, HOLE));
	cr_assert_eq(nr_listed(&fx.encl->mm_list), 1);
	sgx_mm_destroy(mm2);
	kfx_fini(&fx);
}

Test(mmap, argument_checks_in_do_mmap_order)
{
	setup();
	/* len 0 comes first, even before MAP_PRIVATE */
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base, 0, RW,
			      SGX_MAP_PRIVATE | SGX_MAP_FIXED), -EINVAL);
	/* a length that overflows when rounded up */
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base, UINT64_MAX, RW,
			      SHARED_FIXED), -ENOMEM);
	/* MODEL: no address allocation without MAP_FIXED */
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + HOLE, PAGE_SIZE, RW,
			      SGX_MAP_SHARED), -EINVAL);
	/* past TASK_SIZE, then misaligned, then no mapping type */
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, 1ULL << 47, PAGE_SIZE, RW,
			      SHARED_FIXED), -ENOMEM);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + HOLE + 1, PAGE_SIZE,
			      RW, SHARED_FIXED), -EINVAL);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + HOLE, PAGE_SIZE, RW,
			      SGX_MAP_FIXED), -EINVAL);
	/* a length that is not a page multiple is rounded up */
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, 1, RW), 0);
	cr_assert_eq(vma_at(fx.mm, HOLE)->end, fx.base + HOLE + PAGE_SIZE);
	kfx_fini(&fx);
}

Test(mmap, outside_the_enclave_after_init_is_eacces)
{
	setup();
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base - PAGE_SIZE,
			      2 * PAGE_SIZE, SGX_PROT_READ, SHARED_FIXED),
		     -EACCES);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + fx.size - PAGE_SIZE,
			      2 * PAGE_SIZE, SGX_PROT_READ, SHARED_FIXED),
		     -EACCES);
	cr_assert_eq(kfx_map(&fx, fx.mm, fx.size - PAGE_SIZE, PAGE_SIZE, RWX), 0);
	kfx_fini(&fx);
}

Test(mmap, anywhere_before_init)
{
	kfx_init(&fx, NULL);
	kfx_build_uninit(&fx);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base - PAGE_SIZE,
			      2 * PAGE_SIZE, SGX_PROT_READ, SHARED_FIXED), 0);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + fx.size,
			      PAGE_SIZE, RWX, SHARED_FIXED), 0);
	/* the pages already added still cap the rights */
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_TEXT, PAGE_SIZE, RW), -EACCES);
	kfx_fini(&fx);
}

Test(mmap, added_pages_cap_the_rights_holes_do_not)
{
	setup();
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_TEXT, PAGE_SIZE, SGX_PROT_READ), 0);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_TEXT, PAGE_SIZE,
			 SGX_PROT_READ | SGX_PROT_EXEC), 0);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_TEXT, PAGE_SIZE, RW), -EACCES);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_DATA, PAGE_SIZE, RWX), -EACCES);
	/* a TCS is RW for the kernel, never X */
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_TCS1, PAGE_SIZE, RW), 0);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_TCS1, PAGE_SIZE, SGX_PROT_EXEC), -EACCES);
	/* holes are unrestricted, a range is as strict as its pages */
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, fx.size - HOLE, RWX), 0);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_HEAP, fx.size - KFX_HEAP, RW), 0);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_HEAP, fx.size - KFX_HEAP, RWX), -EACCES);
	/* the refused MAP_FIXED left the mapping it would have replaced */
	cr_assert_eq(vma_at(fx.mm, KFX_HEAP)->vm_flags, VM_SHARED | RW);
	kfx_fini(&fx);
}

Test(mmap, eaug_pages_allow_rwx)
{
	struct kfx_fault f;

	setup();
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RW), 0);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	cr_assert_eq(kfx_eaccept(&fx, 1, HOLE, SGX_SECINFO_R | SGX_SECINFO_W |
				 SGX_SECINFO_TYPE(PT_REG) |
				 SGX_SECINFO_PENDING, &f), 0);
	/* the op page's first touch, then the EAUG of the hole */
	cr_assert_eq(f.fixed, 2);
	cr_assert_eq(fx.encl->stats.eaug, 1);
	cr_assert_eq(kfx_page(&fx, HOLE)->vm_max_prot_bits, VM_ACCESS_FLAGS);
	kfx_exit(&fx, 1);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RWX), 0);
	kfx_fini(&fx);
}

Test(mmap, read_implies_exec_is_eacces)
{
	setup();
	fx.mm->read_implies_exec = true;
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, SGX_PROT_READ), -EACCES);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, SGX_PROT_WRITE), -EACCES);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
				  SGX_PROT_READ), -EACCES);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->vm_flags, VM_SHARED | RW);
	fx.mm->read_implies_exec = false;
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, SGX_PROT_READ), 0);
	kfx_fini(&fx);
}

Test(mmap, replaces_and_splits_what_was_there)
{
	struct sgx_vma *vma;

	setup();
	cr_assert_eq(fault(fx.mm, KFX_DATA_START, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, KFX_DATA_START));
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_DATA_START, PAGE_SIZE, SGX_PROT_READ), 0);
	/* the old PTE went with the old mapping */
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA_START));
	vma = vma_at(fx.mm, KFX_DATA);
	cr_assert_eq(vma->start, fx.base + KFX_DATA);
	cr_assert_eq(vma->end, fx.base + KFX_DATA_START);
	vma = vma_at(fx.mm, KFX_DATA_START);
	cr_assert_eq(vma->end, fx.base + KFX_DATA_START + PAGE_SIZE);
	cr_assert_eq(vma->vm_flags, VM_SHARED | VM_READ);
	vma = vma_at(fx.mm, KFX_DATA_START + PAGE_SIZE);
	cr_assert_eq(vma->start, fx.base + KFX_DATA_START + PAGE_SIZE);
	cr_assert_eq(vma->end, fx.base + KFX_HEAP);
	cr_assert_eq(vma->vm_flags, VM_SHARED | RW);
	kfx_fini(&fx);
}

Test(mprotect, narrowing_and_widening_update_the_pte)
{
	const struct sgx_pte *pte;
	struct sgx_vma *vma;

	setup();
	cr_assert_eq(fault(fx.mm, KFX_DATA_START, WRITE_FAULT),
		     SGX_FAULT_FIXED);
	pte = kfx_pte_of(&fx, fx.mm, KFX_DATA_START);
	cr_assert_eq(pte->flags & ~(SGX_PTE_ACCESSED | SGX_PTE_DIRTY),
		     SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX);

	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA_START, PAGE_SIZE,
				  SGX_PROT_READ), 0);
	pte = kfx_pte_of(&fx, fx.mm, KFX_DATA_START);
	cr_assert_eq(pte->flags, SGX_PTE_PRESENT | SGX_PTE_NX);
	vma = vma_at(fx.mm, KFX_DATA_START);
	cr_assert_eq(vma->start, fx.base + KFX_DATA_START);
	cr_assert_eq(vma->end, fx.base + KFX_DATA_START + PAGE_SIZE);
	cr_assert_eq(vma->vm_flags, VM_SHARED | VM_READ);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->vm_flags, VM_SHARED | RW);
	cr_assert_eq(fault(fx.mm, KFX_DATA_START, WRITE_FAULT | X86_PF_PROT),
		     SGX_FAULT_SIGSEGV);

	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA_START, PAGE_SIZE,
				  RW), 0);
	pte = kfx_pte_of(&fx, fx.mm, KFX_DATA_START);
	cr_assert_eq(pte->flags, SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX);
	kfx_fini(&fx);
}

Test(mprotect, beyond_vm_max_prot_bits_is_eacces)
{
	const struct sgx_pte *pte;

	setup();
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE, RWX),
		     -EACCES);
	pte = kfx_pte_of(&fx, fx.mm, KFX_DATA);
	cr_assert_eq(pte->flags, SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->vm_flags, VM_SHARED | RW);
	/* the TCS segment: RW is its ceiling too */
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base, PAGE_SIZE, SGX_PROT_EXEC),
		     -EACCES);
	kfx_fini(&fx);
}

Test(mprotect, prot_none_removes_the_pte)
{
	setup();
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE, 0), 0);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_SIGSEGV);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
				  SGX_PROT_READ), 0);
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_DATA)->flags,
		     SGX_PTE_PRESENT | SGX_PTE_NX);
	kfx_fini(&fx);
}

Test(mprotect, argument_checks)
{
	setup();
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + 1, PAGE_SIZE, RW), -EINVAL);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base, 0, 0x100), 0);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base, UINT64_MAX, RW), -ENOMEM);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base, PAGE_SIZE, 0x100), -EINVAL);
	/* PROT_SEM is ignored; GROWSDOWN/GROWSUP fail on enclave VMAs */
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
				  RW | 0x8), 0);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
				  RW | 0x01000000), -EINVAL);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
				  RW | 0x02000000), -EINVAL);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, 0,
				  RW | 0x03000000), -EINVAL);
	/* nothing mapped at all */
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + HOLE, PAGE_SIZE, RW),
		     -ENOMEM);
	kfx_fini(&fx);
}

/* Linux changes the VMAs before a hole and then fails with -ENOMEM. */
Test(mprotect, a_hole_stops_the_walk_after_the_changes_before_it)
{
	setup();
	cr_assert_eq(sgx_munmap(fx.mm, fx.base + KFX_DATA_START, PAGE_SIZE), 0);
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, 2 * PAGE_SIZE,
				  SGX_PROT_READ), -ENOMEM);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->vm_flags, VM_SHARED | VM_READ);
	/* a refused VMA also stops it: data RW, then text RX refuses W */
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_TCS1, KFX_DATA, RW),
		     -EACCES);
	cr_assert_eq(vma_at(fx.mm, KFX_TCS1)->vm_flags, VM_SHARED | RW);
	cr_assert_eq(vma_at(fx.mm, KFX_TEXT)->vm_flags,
		     VM_SHARED | VM_READ | VM_EXEC);
	kfx_fini(&fx);
}

Test(munmap, zaps_the_ptes_and_splits)
{
	setup();
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(fault(fx.mm, KFX_DATA_START, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(sgx_munmap(fx.mm, fx.base + KFX_DATA_START, PAGE_SIZE), 0);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA_START));
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	cr_assert_null(vma_at(fx.mm, KFX_DATA_START));
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->end, fx.base + KFX_DATA_START);
	cr_assert_eq(vma_at(fx.mm, KFX_OP)->start, fx.base + KFX_OP);
	cr_assert_eq(fault(fx.mm, KFX_DATA_START, READ_FAULT),
		     SGX_FAULT_SIGSEGV);
	/* the mm stays on mm_list until exit or release, as in Linux */
	cr_assert_eq(nr_listed(&fx.encl->mm_list), 1);
	/* nothing mapped is fine; bad arguments are not */
	cr_assert_eq(sgx_munmap(fx.mm, fx.base + KFX_DATA_START, PAGE_SIZE), 0);
	cr_assert_eq(sgx_munmap(fx.mm, fx.base + 1, PAGE_SIZE), -EINVAL);
	cr_assert_eq(sgx_munmap(fx.mm, fx.base, 0), -EINVAL);
	cr_assert_eq(sgx_munmap(fx.mm, 1ULL << 47, PAGE_SIZE), -EINVAL);
	kfx_fini(&fx);
}

/* A page unmapped under a thread inside the enclave: TLB shootdown. */
Test(munmap, shoots_down_the_tlb_of_other_lps)
{
	uint64_t word, ipis0, aex0;
	struct kfx_fault f;

	setup();
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	cr_assert_eq(kfx_read(&fx, 1, KFX_DATA, &word, sizeof(word), &f), 0);
	ipis0 = fx.sim.stats.ipi_rounds;
	aex0 = fx.cpu.stats.aex;
	/* the heap page was never touched: nothing to shoot down */
	cr_assert_eq(sgx_munmap(fx.mm, fx.base + KFX_HEAP, PAGE_SIZE), 0);
	cr_assert_eq(fx.sim.stats.ipi_rounds, ipis0);
	cr_assert(fx.cpu.lps[1].enclave_mode);
	cr_assert_eq(sgx_munmap(fx.mm, fx.base + KFX_DATA, PAGE_SIZE), 0);
	cr_assert_eq(fx.sim.stats.ipi_rounds, ipis0 + 1);
	cr_assert_eq(fx.cpu.stats.aex, aex0 + 1);
	cr_assert_not(fx.cpu.lps[1].enclave_mode);
	/* back inside, the page is gone for good */
	cr_assert_eq(kfx_eresume(&fx, 1, &f), 0);
	cr_assert_neq(kfx_read(&fx, 1, KFX_DATA, &word, sizeof(word), &f), 0);
	cr_assert_eq(f.vector, X86_TRAP_PF);
	cr_assert_eq(f.error_code, X86_PF_USER);
	cr_assert_eq(f.result, SGX_FAULT_SIGSEGV);
	kfx_fini(&fx);
}

Test(mm_list, cpumask_is_the_union_of_the_mms)
{
	struct sgx_mm *mm2, *other;
	struct sgx_file *file2;

	setup();
	cr_assert_eq(sgx_mm_create(&fx.drv, &mm2), 0);
	cr_assert_eq(sgx_mm_create(&fx.drv, &other), 0);
	cr_assert_eq(kfx_map(&fx, mm2, KFX_DATA, PAGE_SIZE, RW), 0);
	/* another enclave's mm does not count */
	cr_assert_eq(sgx_open(&fx.drv, &file2), 0);
	cr_assert_eq(sgx_mmap(file2, other, fx.base, PAGE_SIZE, RW,
			      SHARED_FIXED), 0);
	cr_assert_eq(nr_listed(&fx.encl->mm_list), 2);

	sgx_mm_activate(fx.mm, &fx.cpu.lps[1]);
	sgx_mm_activate(mm2, &fx.cpu.lps[2]);
	sgx_mm_activate(mm2, &fx.cpu.lps[3]);
	sgx_mm_activate(other, &fx.cpu.lps[0]);
	cr_assert(mask_is(sgx_encl_cpumask(fx.encl), 0xE));
	cr_assert_eq(fx.cpu.lps[2].pgtable, &mm2->pgtable);
	sgx_mm_deactivate(mm2, &fx.cpu.lps[2]);
	cr_assert_null(fx.cpu.lps[2].pgtable);
	cr_assert(mask_is(sgx_encl_cpumask(fx.encl), 0xA));
	/* unmapped but still listed: it still counts, as in Linux */
	cr_assert_eq(sgx_munmap(mm2, fx.base, fx.size), 0);
	cr_assert(mask_is(sgx_encl_cpumask(fx.encl), 0xA));
	sgx_mm_deactivate(mm2, &fx.cpu.lps[3]);
	sgx_mm_destroy(mm2);
	cr_assert_eq(nr_listed(&fx.encl->mm_list), 1);
	cr_assert(mask_is(sgx_encl_cpumask(fx.encl), 0x2));

	sgx_mm_deactivate(other, &fx.cpu.lps[0]);
	sgx_mm_destroy(other);
	cr_assert_eq(sgx_release(file2), 0);
	kfx_fini(&fx);
}

Test(mm_list, an_mm_is_listed_once)
{
	setup();
	cr_assert_eq(nr_listed(&fx.encl->mm_list), 1);
	cr_assert_eq(nr_listed(&fx.mm->notifiers), 1);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RW), 0);
	cr_assert_eq(nr_listed(&fx.encl->mm_list), 1);
	kfx_fini(&fx);
}

Test(mm_list, zap_removes_the_page_from_every_mm)
{
	struct sgx_mm *mm2, *other;
	struct sgx_file *file2;

	setup();
	cr_assert_eq(sgx_mm_create(&fx.drv, &mm2), 0);
	cr_assert_eq(kfx_map(&fx, mm2, KFX_DATA, 2 * PAGE_SIZE, RW), 0);
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(fault(fx.mm, KFX_DATA_START, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(fault(mm2, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(kfx_pte_of(&fx, mm2, KFX_DATA)->frame,
		     kfx_pte_of(&fx, fx.mm, KFX_DATA)->frame);
	/*
	 * A third mm lists the enclave (it maps the heap page) but maps
	 * another enclave at the address: its PTE there stays (set by hand,
	 * that enclave was never created).
	 */
	cr_assert_eq(sgx_mm_create(&fx.drv, &other), 0);
	cr_assert_eq(kfx_map(&fx, other, KFX_HEAP, PAGE_SIZE, RW), 0);
	cr_assert_eq(sgx_open(&fx.drv, &file2), 0);
	cr_assert_eq(sgx_mmap(file2, other, fx.base + KFX_DATA, PAGE_SIZE, RW,
			      SHARED_FIXED), 0);
	cr_assert_eq(sgx_pgtable_map(&other->pgtable, fx.base + KFX_DATA,
				     kfx_pte_of(&fx, fx.mm, KFX_DATA)->frame,
				     SGX_PTE_PRESENT), 0);

	sgx_zap_enclave_ptes(fx.encl, fx.base + KFX_DATA + 0x123);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	cr_assert_null(kfx_pte_of(&fx, mm2, KFX_DATA));
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, KFX_DATA_START));
	cr_assert_not_null(kfx_pte_of(&fx, other, KFX_DATA));

	sgx_mm_destroy(other);
	cr_assert_eq(sgx_release(file2), 0);
	sgx_mm_destroy(mm2);
	kfx_fini(&fx);
}

Test(mm_list, aging_tests_and_clears_the_accessed_bit)
{
	struct sgx_encl_page *page;
	struct kfx_fault f;
	uint64_t word;

	setup();
	page = kfx_page(&fx, KFX_DATA);
	cr_assert_not(sgx_encl_test_and_clear_young(fx.encl, page));
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	/* the fault clears it, as Linux's sgx_vma_fault() does */
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_DATA)->flags & SGX_PTE_ACCESSED, 0);
	cr_assert_not(sgx_encl_test_and_clear_young(fx.encl, page));
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	cr_assert_eq(kfx_read(&fx, 1, KFX_DATA, &word, sizeof(word), &f), 0);
	kfx_exit(&fx, 1);
	cr_assert_neq(kfx_pte_of(&fx, fx.mm, KFX_DATA)->flags & SGX_PTE_ACCESSED, 0);
	cr_assert(sgx_encl_test_and_clear_young(fx.encl, page));
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_DATA)->flags & SGX_PTE_ACCESSED, 0);
	cr_assert_not(sgx_encl_test_and_clear_young(fx.encl, page));
	kfx_fini(&fx);
}

Test(mm_list, ipi_mask_counts_rounds_targets_and_aexs)
{
	struct sgx_cpumask mask = { { 0x6 } };
	struct kfx_fault f;

	setup();
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	sgx_mm_activate(fx.mm, &fx.cpu.lps[2]);
	sgx_ipi_mask(fx.encl, &mask);
	cr_assert_eq(fx.encl->stats.ipi_rounds, 1);
	cr_assert_eq(fx.encl->stats.ipis, 2);
	cr_assert_eq(fx.encl->stats.ipi_aex, 1);
	cr_assert_eq(fx.sim.stats.ipi_aex, 1);
	cr_assert_not(fx.cpu.lps[1].enclave_mode);
	cr_assert_eq(sgx_file_stats(fx.file), &fx.encl->stats);
	kfx_fini(&fx);
}

/* Every VMA holds the file: close() alone does not release the enclave. */
Test(lifetime, close_while_mapped_then_munmap_releases)
{
	uint64_t total;

	setup();
	total = fx.cpu.cfg.epc_pages;
	cr_assert_eq(sgx_munmap(fx.mm, fx.base + KFX_DATA_START, PAGE_SIZE), 0);
	kfx_close(&fx);
	cr_assert_lt(fx.drv.nr_free_pages, total);
	cr_assert_eq(fault(fx.mm, KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	/* the split VMAs each hold a reference: unmap them one by one */
	cr_assert_eq(sgx_munmap(fx.mm, fx.base, KFX_DATA_START), 0);
	cr_assert_lt(fx.drv.nr_free_pages, total);
	cr_assert_eq(sgx_munmap(fx.mm, fx.base, fx.size), 0);
	cr_assert_eq(fx.drv.nr_free_pages, total);
	cr_assert(list_empty(&fx.mm->notifiers));
	kfx_fini(&fx);
}

Test(lifetime, exit_then_close_releases)
{
	struct sgx_encl *encl;
	uint64_t total;

	setup();
	total = fx.cpu.cfg.epc_pages;
	encl = fx.encl;
	sgx_mm_activate(fx.mm, &fx.cpu.lps[3]);
	sgx_mm_destroy(fx.mm);
	cr_assert_null(fx.cpu.lps[3].pgtable);
	fx.mm = NULL;
	cr_assert(list_empty(&encl->mm_list));
	cr_assert_eq(encl->refcount, 1);
	cr_assert_lt(fx.drv.nr_free_pages, total);
	kfx_close(&fx);
	cr_assert_eq(fx.drv.nr_free_pages, total);
	kfx_fini(&fx);
}

Test(lifetime, close_then_exit_releases)
{
	uint64_t total;

	setup();
	total = fx.cpu.cfg.epc_pages;
	kfx_close(&fx);
	sgx_mm_destroy(fx.mm);
	fx.mm = NULL;
	cr_assert_eq(fx.drv.nr_free_pages, total);
	kfx_fini(&fx);
}

/* A syscall in flight holds the file, as fdget() does, across close(). */
Test(lifetime, a_held_reference_defers_release)
{
	struct sgx_file *file;
	uint64_t total;

	setup();
	total = fx.cpu.cfg.epc_pages;
	sgx_mm_destroy(fx.mm);
	fx.mm = NULL;
	file = get_file(fx.file);
	cr_assert_eq(file, fx.file);
	kfx_close(&fx);
	cr_assert_lt(fx.drv.nr_free_pages, total);
	fput(file);
	cr_assert_eq(fx.drv.nr_free_pages, total);
	kfx_fini(&fx);
}

/* A second process that unmapped but did not exit is drained on release. */
Test(lifetime, release_drains_the_mms_still_listed)
{
	struct sgx_mm *mm2;
	uint64_t total;

	setup();
	total = fx.cpu.cfg.epc_pages;
	cr_assert_eq(sgx_mm_create(&fx.drv, &mm2), 0);
	cr_assert_eq(kfx_map(&fx, mm2, KFX_DATA, PAGE_SIZE, RW), 0);
	cr_assert_eq(sgx_munmap(mm2, fx.base, fx.size), 0);
	cr_assert_eq(sgx_munmap(fx.mm, fx.base, fx.size), 0);
	cr_assert_eq(nr_listed(&fx.encl->mm_list), 2);
	kfx_close(&fx);
	cr_assert_eq(fx.drv.nr_free_pages, total);
	cr_assert(list_empty(&mm2->notifiers));
	cr_assert(list_empty(&fx.mm->notifiers));
	sgx_mm_destroy(mm2);
	kfx_fini(&fx);
}

static uint8_t *two_pages_second_none(void)
{
	uint8_t *p = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(mprotect(p + PAGE_SIZE, PAGE_SIZE, PROT_NONE), 0);
	return p;
}

Test(uaccess, copy_from_user_bad_pointers_are_efault)
{
	uint8_t *p = two_pages_second_none();
	uint8_t buf[16];

	memset(buf, 0xAA, sizeof(buf));
	cr_assert_eq(copy_from_user(buf, 0, sizeof(buf)), -EFAULT);
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0, "byte %zu", i);
	cr_assert_eq(copy_from_user(buf, (uintptr_t)(p + PAGE_SIZE), 8),
		     -EFAULT);
	/* straddling into the unreadable page: the tail is zeroed */
	memset(p + PAGE_SIZE - 8, 0x5C, 8);
	memset(buf, 0xAA, sizeof(buf));
	cr_assert_eq(copy_from_user(buf, (uintptr_t)(p + PAGE_SIZE - 8),
				    sizeof(buf)), -EFAULT);
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], i < 8 ? 0x5C : 0, "byte %zu", i);
	cr_assert_eq(copy_from_user(buf, (uintptr_t)p, 8), 0);
	cr_assert_eq(copy_from_user(buf, 0, 0), 0);
	munmap(p, 2 * PAGE_SIZE);
}

Test(uaccess, copy_to_user_bad_pointers_are_efault)
{
	uint8_t *p = two_pages_second_none();
	const uint8_t src[16] = { 1, 2, 3 };

	cr_assert_eq(mprotect(p, PAGE_SIZE, PROT_READ), 0);
	cr_assert_eq(copy_to_user((uintptr_t)p, src, sizeof(src)), -EFAULT);
	cr_assert_eq(p[0], 0);
	cr_assert_eq(copy_to_user(0, src, sizeof(src)), -EFAULT);
	cr_assert_eq(mprotect(p, PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(copy_to_user((uintptr_t)p, src, sizeof(src)), 0);
	cr_assert_eq(memcmp(p, src, sizeof(src)), 0);
	cr_assert_eq(copy_to_user(0, src, 0), 0);
	munmap(p, 2 * PAGE_SIZE);
}

/* ---- madvise and mremap of SGX VMAs (Linux 6.12) ------------------------- */

struct host_parts {
	unsigned int calls;
	uint64_t start, end;
	int ret;
};

/* Stands for the host's madvise on the parts without an enclave VMA. */
static int host_part(void *ctx, uint64_t start, uint64_t end, int behavior)
{
	struct host_parts *h = ctx;

	h->calls++;
	h->start = start;
	h->end = end;
	return h->ret;
}

Test(madvise, sgx_vmas_answer_as_linux_6_12_and_keep_their_ptes)
{
	static const struct {
		int advice, ret;
	} table[] = {
		{ SGX_MADV_NORMAL, 0 },		 { SGX_MADV_WILLNEED, 0 },
		{ SGX_MADV_DONTNEED, -EINVAL },	 { SGX_MADV_FREE, -EINVAL },
		{ SGX_MADV_REMOVE, -ENODEV },	 { SGX_MADV_DOFORK, -EINVAL },
		{ SGX_MADV_DODUMP, -EINVAL },	 { SGX_MADV_DONTDUMP, 0 },
		{ SGX_MADV_WIPEONFORK, -EINVAL }, { SGX_MADV_KEEPONFORK, 0 },
		{ SGX_MADV_COLD, -EINVAL },	 { SGX_MADV_PAGEOUT, -EINVAL },
		{ SGX_MADV_POPULATE_READ, -EFAULT },
		{ SGX_MADV_COLLAPSE, -EINVAL },	 { SGX_MADV_HUGEPAGE, 0 },
		{ 5, -EINVAL },			 { 26, -EINVAL },
	};
	struct host_parts h = { 0 };

	setup();
	cr_assert_eq(fault(fx.mm, KFX_DATA, WRITE_FAULT), SGX_FAULT_FIXED);
	for (unsigned int i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
					 table[i].advice, host_part, &h),
			     table[i].ret, "advice %d", table[i].advice);
	cr_assert_eq(h.calls, 0);
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	/* do_madvise()'s own checks */
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA + 1, PAGE_SIZE,
				 SGX_MADV_NORMAL, host_part, &h), -EINVAL);
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA, 0,
				 SGX_MADV_REMOVE, host_part, &h), 0);
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA, UINT64_MAX,
				 SGX_MADV_NORMAL, host_part, &h), -EINVAL);
	/* memory-failure injection: CAP_SYS_ADMIN, then GUP refuses */
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA + 1, PAGE_SIZE,
				 SGX_MADV_HWPOISON, host_part, &h), -EINVAL);
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
				 SGX_MADV_HWPOISON, host_part, &h), -EPERM);
	fx.mm->cap_sys_admin = true;
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA, PAGE_SIZE,
				 SGX_MADV_SOFT_OFFLINE, host_part, &h),
		     -EFAULT);
	cr_assert_eq(h.calls, 0);
	kfx_fini(&fx);
}

Test(madvise, the_walk_gives_the_host_its_parts_and_holes_are_enomem_last)
{
	uint64_t end;
	struct host_parts h = { .ret = -ENOMEM };

	setup();
	end = vma_at(fx.mm, KFX_HEAP)->end;
	/* the heap's VMA, then the hole after it: ENOMEM at the end */
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_HEAP,
				 end + PAGE_SIZE - fx.base - KFX_HEAP,
				 SGX_MADV_NORMAL, host_part, &h), -ENOMEM);
	cr_assert_eq(h.calls, 1);
	cr_assert_eq(h.start, end);
	cr_assert_eq(h.end, end + PAGE_SIZE);
	/* an error of an SGX VMA stops the walk before the host's part */
	h.calls = 0;
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_HEAP,
				 end + PAGE_SIZE - fx.base - KFX_HEAP,
				 SGX_MADV_DONTNEED, host_part, &h), -EINVAL);
	cr_assert_eq(h.calls, 0);
	/* POPULATE stops at once: at the hole, or at the SGX VMA */
	cr_assert_eq(sgx_madvise(fx.mm, end, 2 * PAGE_SIZE,
				 SGX_MADV_POPULATE_WRITE, host_part, &h),
		     -ENOMEM);
	h.ret = 0;
	cr_assert_eq(sgx_madvise(fx.mm, end - PAGE_SIZE, 2 * PAGE_SIZE,
				 SGX_MADV_POPULATE_READ, host_part, &h),
		     -EFAULT);
	kfx_fini(&fx);
}

Test(madvise, dontfork_marks_exactly_the_range)
{
	struct host_parts h = { 0 };
	struct sgx_vma *vma;

	setup();
	vma = vma_at(fx.mm, KFX_DATA);
	cr_assert(vma->end >= fx.base + KFX_DATA + 3 * PAGE_SIZE);
	cr_assert_eq(sgx_madvise(fx.mm, fx.base + KFX_DATA + PAGE_SIZE,
				 PAGE_SIZE, SGX_MADV_DONTFORK, host_part, &h),
		     0);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->vm_flags & VM_DONTCOPY, 0);
	vma = vma_at(fx.mm, KFX_DATA + PAGE_SIZE);
	cr_assert(vma->vm_flags & VM_DONTCOPY);
	cr_assert_eq(vma->start, fx.base + KFX_DATA + PAGE_SIZE);
	cr_assert_eq(vma->end, fx.base + KFX_DATA + 2 * PAGE_SIZE);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA + 2 * PAGE_SIZE)->vm_flags &
			     VM_DONTCOPY,
		     0);
	kfx_fini(&fx);
}

Test(mremap, grow_dontunmap_same_and_shrink)
{
	uint64_t a, end;
	struct sgx_mremap_done d;

	setup();
	a = fx.base + KFX_DATA;
	end = vma_at(fx.mm, KFX_DATA)->end;
	cr_assert_eq(sgx_mremap(fx.mm, a, PAGE_SIZE, 2 * PAGE_SIZE, 0, 0, &d),
		     -EFAULT);
	cr_assert_eq(sgx_mremap(fx.mm, a, PAGE_SIZE, 2 * PAGE_SIZE,
				SGX_MREMAP_MAYMOVE, 0, &d),
		     -EFAULT);
	cr_assert_eq(sgx_mremap(fx.mm, a, PAGE_SIZE, PAGE_SIZE,
				SGX_MREMAP_MAYMOVE | SGX_MREMAP_DONTUNMAP, 0,
				&d),
		     -EINVAL);
	cr_assert_eq(sgx_mremap(fx.mm, a, PAGE_SIZE, PAGE_SIZE,
				SGX_MREMAP_FIXED, a + PAGE_SIZE, &d),
		     -EINVAL);
	cr_assert_eq(sgx_mremap(fx.mm, a, PAGE_SIZE, 0, 0, 0, &d), -EINVAL);
	cr_assert_eq(sgx_mremap(fx.mm, a, PAGE_SIZE, PAGE_SIZE, 0, 0, &d),
		     (long)a);
	cr_assert_eq(d.unmap[0][1], 0);
	cr_assert_eq(fault(fx.mm, KFX_DATA + PAGE_SIZE, WRITE_FAULT),
		     SGX_FAULT_FIXED);
	cr_assert_eq(sgx_mremap(fx.mm, a, end - a, PAGE_SIZE, 0, 0, &d),
		     (long)a);
	cr_assert_eq(vma_at(fx.mm, KFX_DATA)->end, a + PAGE_SIZE);
	cr_assert_null(vma_at(fx.mm, KFX_DATA + PAGE_SIZE));
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA + PAGE_SIZE));
	cr_assert_eq(d.unmap[0][0], a + PAGE_SIZE);
	cr_assert_eq(d.unmap[0][1], end);
	kfx_fini(&fx);
}

Test(mremap, a_fixed_move_moves_the_vma_and_drops_its_ptes)
{
	struct sgx_mremap_done d;
	uint64_t a, to;

	setup();
	a = fx.base + KFX_DATA;
	to = fx.base + 0x100000;
	cr_assert_eq(fault(fx.mm, KFX_DATA, WRITE_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(sgx_mremap(fx.mm, a, PAGE_SIZE, PAGE_SIZE,
				SGX_MREMAP_MAYMOVE | SGX_MREMAP_FIXED, to, &d),
		     (long)to);
	cr_assert_null(vma_at(fx.mm, KFX_DATA));
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	cr_assert_eq(vma_lookup(fx.mm, to)->encl, fx.encl);
	cr_assert_eq(vma_lookup(fx.mm, to)->end, to + PAGE_SIZE);
	cr_assert_eq(d.moved_from, a);
	cr_assert_eq(d.moved_to, to);
	cr_assert_eq(d.moved_len, PAGE_SIZE);
	cr_assert_eq(d.unmap[0][0], to);
	kfx_fini(&fx);
}
