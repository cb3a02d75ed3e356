// SPDX-License-Identifier: MIT
/*
 * The user fault path (fault.c): do_user_addr_fault()/access_error(),
 * sgx_vma_fault() and sgx_encl_eaug_page() (linux-sgx-driver.md sections 6
 * and 9), driven directly through sgx_user_fault() and end to end from
 * enclave threads as the selftests augment and augment_via_eaccept do.
 *
 * The default fixture enclave: ELRANGE [base, base + 64 KiB), TCS pages at
 * 0x0-0x2000, text 0x2000-0x4000 (RX), data 0x4000-0xB000 (RW), heap
 * 0xB000 (RW), holes 0xC000-0x10000.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel/encl.h"
#include "kfixture.h"

static struct kfx fx;

#define RW (SGX_PROT_READ | SGX_PROT_WRITE)
#define RWX (SGX_PROT_READ | SGX_PROT_WRITE | SGX_PROT_EXEC)
#define HOLE 0xC000ULL
#define READ_FAULT (X86_PF_USER)
#define WRITE_FAULT (X86_PF_USER | X86_PF_WRITE)
#define FETCH_FAULT (X86_PF_USER | X86_PF_INSTR)
#define EAUG_ACCEPT                                                        \
	(SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_TYPE(PT_REG) |       \
	 SGX_SECINFO_PENDING)
#define LOOPS_MAX 1000

static void setup(const struct kfx_config *cfg)
{
	kfx_init(&fx, cfg);
	kfx_build(&fx);
}

static enum sgx_fault_result fault(uint64_t off, uint32_t error_code)
{
	return sgx_user_fault(fx.mm, fx.base + off, error_code);
}

static uint64_t epc_addr_of(uint64_t off)
{
	return sgx_epc_addr(&fx.cpu, kfx_epc_index(&fx, off));
}

static void evict_all(void)
{
	unsigned int loops = 0;

	while (!list_empty(&fx.drv.active_page_list)) {
		cr_assert_lt(loops++, LOOPS_MAX);
		sgx_reclaim_pages(&fx.drv);
	}
}

Test(eaug, a_hole_gets_a_pending_page_mapped_rw)
{
	const struct epcm_entry *e;
	const struct sgx_pte *pte;
	unsigned int children, page_cnt;
	uint64_t eaug0, free0;

	setup(NULL);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RW), 0);
	children = fx.encl->secs_child_cnt;
	page_cnt = fx.encl->page_cnt;
	eaug0 = fx.cpu.stats.encls[EAUG];
	free0 = fx.drv.nr_free_pages;

	cr_assert_eq(fault(HOLE + 0x10, WRITE_FAULT), SGX_FAULT_FIXED);

	cr_assert_eq(fx.encl->stats.eaug, 1);
	cr_assert_eq(fx.cpu.stats.encls[EAUG], eaug0 + 1);
	cr_assert_eq(fx.encl->secs_child_cnt, children + 1);
	cr_assert_eq(fx.encl->page_cnt, page_cnt + 1);
	cr_assert_eq(fx.drv.nr_free_pages, free0 - 1);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(&fx, HOLE)), PT_REG);
	cr_assert_eq(kfx_page(&fx, HOLE)->vm_max_prot_bits, VM_ACCESS_FLAGS);
	e = kfx_epcm(&fx, HOLE);
	cr_assert(e->valid && e->pending && e->r && e->w && !e->x);
	cr_assert_eq(e->pt, PT_REG);
	cr_assert_eq(e->enclave_address, fx.base + HOLE);
	pte = kfx_pte_of(&fx, fx.mm, HOLE);
	cr_assert_not_null(pte);
	cr_assert_eq(pte->frame, epc_addr_of(HOLE));
	cr_assert_eq(pte->flags, SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX);
	/* the page is reclaimable like any other */
	cr_assert_eq(kfx_page(&fx, HOLE)->epc_page->flags,
		     SGX_EPC_PAGE_RECLAIMER_TRACKED);
	kfx_fini(&fx);
}

/* The selftest "augment": EAUG, the PENDING write fault, EACCEPT, ERESUME. */
Test(eaug, augment)
{
	const uint64_t magic = 0x1122334455667788ULL;
	struct kfx_fault f;
	uint64_t word = 0;

	setup(NULL);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RWX), 0);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	cr_assert_neq(kfx_write(&fx, 1, HOLE, &magic, sizeof(magic), &f), 0);
	cr_assert_eq(f.fixed, 1);
	cr_assert_eq(f.vector, X86_TRAP_PF);
	cr_assert_eq(f.error_code, 0x8007);
	cr_assert_eq(f.addr, fx.base + HOLE);
	cr_assert_eq(f.result, SGX_FAULT_SIGSEGV);
	cr_assert_eq(fx.encl->stats.eaug, 1);

	cr_assert_eq(kfx_enter(&fx, 2, KFX_TCS2, &f), 0);
	cr_assert_eq(kfx_eaccept(&fx, 2, HOLE, EAUG_ACCEPT, &f), 0);
	kfx_exit(&fx, 2);
	cr_assert_eq(kfx_eresume(&fx, 1, &f), 0);
	cr_assert_eq(kfx_write(&fx, 1, HOLE, &magic, sizeof(magic), &f), 0);
	cr_assert_eq(kfx_read(&fx, 1, HOLE, &word, sizeof(word), &f), 0);
	cr_assert_eq(word, magic);
	kfx_exit(&fx, 1);
	cr_assert_eq(fx.encl->stats.eaug, 1);
	kfx_fini(&fx);
}

/* The selftest "augment_via_eaccept": the EACCEPT's own #PF EAUGs. */
Test(eaug, augment_via_eaccept)
{
	struct kfx_fault f;

	setup(NULL);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RWX), 0);
	/* fault in the op page first, so only the EAUG is left */
	cr_assert_eq(fault(KFX_OP, WRITE_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	cr_assert_eq(kfx_eaccept(&fx, 1, HOLE, EAUG_ACCEPT, &f), 0);
	cr_assert_eq(f.fixed, 1);
	cr_assert_eq(fx.encl->stats.eaug, 1);
	cr_assert_not(kfx_epcm(&fx, HOLE)->pending);
	kfx_exit(&fx, 1);
	kfx_fini(&fx);
}

Test(eaug, sigbus_before_init)
{
	kfx_init(&fx, NULL);
	kfx_build_uninit(&fx);
	kfx_mmap_all(&fx);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RW), 0);
	cr_assert_eq(fault(HOLE, WRITE_FAULT), SGX_FAULT_SIGBUS);
	cr_assert_null(kfx_page(&fx, HOLE));
	cr_assert_null(kfx_pte_of(&fx, fx.mm, HOLE));
	cr_assert_eq(fx.encl->stats.eaug, 0);
	cr_assert_eq(fx.cpu.stats.encls[EAUG], 0);
	/* a page that was added is mapped all the same, as in Linux */
	cr_assert_eq(fault(KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_DATA)->frame, epc_addr_of(KFX_DATA));
	kfx_fini(&fx);
}

Test(eaug, no_sgx2_means_sigbus)
{
	struct kfx_config cfg = { .no_sgx2 = true };

	setup(&cfg);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RW), 0);
	cr_assert_eq(fault(HOLE, WRITE_FAULT), SGX_FAULT_SIGBUS);
	cr_assert_null(kfx_page(&fx, HOLE));
	cr_assert_eq(fx.cpu.stats.encls[EAUG], 0);
	kfx_fini(&fx);
}

/*
 * A VMA mapped past ELRANGE before INIT: the EAUG cannot happen there, and
 * nothing leaks on the way out.
 */
Test(eaug, outside_elrange_is_sigbus)
{
	uint64_t free0;

	kfx_init(&fx, NULL);
	kfx_build_uninit(&fx);
	cr_assert_eq(kfx_map(&fx, fx.mm, fx.size, PAGE_SIZE, RW), 0);
	cr_assert_eq(kfx_einit(&fx), 0);
	free0 = fx.drv.nr_free_pages;
	cr_assert_eq(fault(fx.size, WRITE_FAULT), SGX_FAULT_SIGBUS);
	cr_assert_eq(fx.drv.nr_free_pages, free0);
	cr_assert_eq(fx.encl->stats.eaug, 0);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, fx.size));
	kfx_fini(&fx);
}

/* No free EPC page: NOPAGE, the access retries while ksgxd reclaims. */
Test(eaug, no_free_epc_page_retries)
{
	struct sgx_epc_page *held[KFX_EPC_PAGES];
	unsigned int n = 0, children;
	int err;

	setup(NULL);
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RW), 0);
	children = fx.encl->secs_child_cnt;
	while ((held[n] = sgx_alloc_epc_page(&fx.drv, NULL, false, &err)))
		n++;
	cr_assert_eq(err, -EBUSY);
	cr_assert_eq(fault(HOLE, WRITE_FAULT), SGX_FAULT_FIXED);
	cr_assert_null(kfx_page(&fx, HOLE));
	cr_assert_null(kfx_pte_of(&fx, fx.mm, HOLE));
	cr_assert_eq(fx.encl->secs_child_cnt, children);
	while (n)
		sgx_free_epc_page(&fx.drv, held[--n]);
	cr_assert_eq(fault(HOLE, WRITE_FAULT), SGX_FAULT_FIXED);
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, HOLE));
	cr_assert_eq(fx.encl->secs_child_cnt, children + 1);
	kfx_fini(&fx);
}

struct racer {
	struct sgx_mm *mm;
	enum sgx_fault_result result;
};

static void race_fault(void *arg)
{
	struct racer *r = arg;

	r->result = sgx_user_fault(r->mm, fx.base + HOLE, WRITE_FAULT);
}

/*
 * Two processes fault the same hole. Both find no page and allocate one;
 * the second to take the enclave lock loses xa_insert() and, as in Linux,
 * gets SIGBUS with everything undone.
 */
Test(eaug, insert_race_loser_gets_sigbus)
{
	struct racer a = { 0 }, b = { 0 };
	uint64_t free0;

	setup(NULL);
	cr_assert_eq(sgx_mm_create(&fx.drv, &b.mm), 0);
	a.mm = fx.mm;
	cr_assert_eq(kfx_map(&fx, a.mm, HOLE, PAGE_SIZE, RW), 0);
	cr_assert_eq(kfx_map(&fx, b.mm, HOLE, PAGE_SIZE, RW), 0);
	free0 = fx.drv.nr_free_pages;
	cr_assert_geq(sim_spawn(&fx.sim, "a", 1, false, race_fault, &a), 0);
	cr_assert_geq(sim_spawn(&fx.sim, "b", 2, false, race_fault, &b), 0);
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_eq(a.result, SGX_FAULT_FIXED);
	cr_assert_eq(b.result, SGX_FAULT_SIGBUS);
	cr_assert_eq(fx.encl->stats.eaug, 1);
	cr_assert_eq(fx.cpu.stats.encls[EAUG], 1);
	cr_assert_eq(fx.drv.nr_free_pages, free0 - 1);
	cr_assert_not_null(kfx_pte_of(&fx, a.mm, HOLE));
	cr_assert_null(kfx_pte_of(&fx, b.mm, HOLE));
	/* b's retry maps the page a added */
	cr_assert_eq(sgx_user_fault(b.mm, fx.base + HOLE, WRITE_FAULT),
		     SGX_FAULT_FIXED);
	cr_assert_eq(kfx_pte_of(&fx, b.mm, HOLE)->frame, kfx_pte_of(&fx, a.mm, HOLE)->frame);
	sgx_mm_destroy(b.mm);
	kfx_fini(&fx);
}

/* X86_PF_SGX: the EPCM said no, and the kernel cannot change its mind. */
Test(fault, epcm_faults_are_never_fixed)
{
	uint64_t eldu0;

	setup(NULL);
	cr_assert_eq(fault(KFX_DATA, WRITE_FAULT), SGX_FAULT_FIXED);
	eldu0 = fx.encl->stats.eldu;
	cr_assert_eq(fault(KFX_DATA, X86_PF_SGX | X86_PF_USER | X86_PF_PROT |
				     X86_PF_WRITE), SGX_FAULT_SIGSEGV);
	cr_assert_eq(fault(KFX_DATA, X86_PF_SGX | X86_PF_USER | X86_PF_PROT),
		     SGX_FAULT_SIGSEGV);
	/* even on a hole, where a plain fault would EAUG */
	cr_assert_eq(kfx_map(&fx, fx.mm, HOLE, PAGE_SIZE, RW), 0);
	cr_assert_eq(fault(HOLE, X86_PF_SGX | X86_PF_USER | X86_PF_WRITE),
		     SGX_FAULT_SIGSEGV);
	cr_assert_null(kfx_page(&fx, HOLE));
	cr_assert_eq(fx.encl->stats.eldu, eldu0);
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	kfx_fini(&fx);
}

Test(fault, vma_access_errors_are_sigsegv)
{
	setup(NULL);
	/* no VMA */
	cr_assert_eq(fault(HOLE, READ_FAULT), SGX_FAULT_SIGSEGV);
	/* write to the RX text */
	cr_assert_eq(fault(KFX_TEXT, WRITE_FAULT), SGX_FAULT_SIGSEGV);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_TEXT));
	/* a present page read with PROT set */
	cr_assert_eq(fault(KFX_TEXT, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(fault(KFX_TEXT, READ_FAULT | X86_PF_PROT),
		     SGX_FAULT_SIGSEGV);
	/* PROT_NONE */
	cr_assert_eq(sgx_mprotect(fx.mm, fx.base + KFX_DATA, PAGE_SIZE, 0), 0);
	cr_assert_eq(fault(KFX_DATA, READ_FAULT), SGX_FAULT_SIGSEGV);
	kfx_fini(&fx);
}

/*
 * x86 access_error() lets a not-present fetch from a non-exec VMA through;
 * the page is mapped NX and the retried fetch is the access error.
 */
Test(fault, fetch_from_a_non_exec_vma)
{
	setup(NULL);
	cr_assert_eq(fault(KFX_DATA, FETCH_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_DATA)->flags,
		     SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX);
	cr_assert_eq(fault(KFX_DATA, FETCH_FAULT | X86_PF_PROT),
		     SGX_FAULT_SIGSEGV);
	kfx_fini(&fx);
}

/* On x86 write implies read: a write-only VMA serves reads. */
Test(fault, read_from_a_write_only_vma)
{
	setup(NULL);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_DATA, PAGE_SIZE, SGX_PROT_WRITE), 0);
	cr_assert_eq(fault(KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_DATA)->flags,
		     SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX);
	kfx_fini(&fx);
}

/*
 * A VMA that asks for more than the page was added with: mapped before
 * ADD_PAGES, when there was no page to cap it, then faulted after INIT.
 */
Test(fault, vma_beyond_vm_max_prot_bits_is_sigbus)
{
	kfx_init(&fx, NULL);
	cr_assert_eq(kfx_create(&fx), 0);
	cr_assert_eq(kfx_map(&fx, fx.mm, KFX_TEXT, PAGE_SIZE, RWX), 0);
	for (unsigned int s = 0; s < KFX_NR_SEGS; s++)
		cr_assert_eq(kfx_add_segment(&fx, s), 0);
	cr_assert_eq(kfx_einit(&fx), 0);
	cr_assert_eq(fault(KFX_TEXT, READ_FAULT), SGX_FAULT_SIGBUS);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_TEXT));
	kfx_fini(&fx);
}

Test(fault, no_vm_private_data_is_sigbus)
{
	struct sgx_vma *vma;

	setup(NULL);
	vma = vma_lookup(fx.mm, fx.base + KFX_DATA);
	vma->encl = NULL;
	cr_assert_eq(fault(KFX_DATA, READ_FAULT), SGX_FAULT_SIGBUS);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	vma->encl = fx.encl;
	kfx_fini(&fx);
}

/* The reclaimer holds the page (BEING_RECLAIMED): NOPAGE, no PTE. */
Test(fault, page_being_reclaimed_retries)
{
	struct sgx_encl_page *page;

	setup(NULL);
	page = kfx_page(&fx, KFX_DATA);
	page->desc |= SGX_ENCL_PAGE_BEING_RECLAIMED;
	cr_assert_eq(fault(KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	page->desc &= ~SGX_ENCL_PAGE_BEING_RECLAIMED;
	cr_assert_eq(fault(KFX_DATA, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_not_null(kfx_pte_of(&fx, fx.mm, KFX_DATA));
	kfx_fini(&fx);
}

/* An evicted page comes back through the fault: SECS first, then ELDU. */
Test(fault, evicted_page_is_loaded_and_mapped)
{
	struct kfx_config cfg = { .epc_pages = 64 };
	const uint32_t deadbeef = 0xDEADBEEF;
	struct kfx_fault f;
	uint32_t word = 0;
	uint64_t eldu0;

	setup(&cfg);
	evict_all();
	cr_assert_null(fx.encl->secs.epc_page);
	cr_assert_null(kfx_page(&fx, KFX_TEXT)->epc_page);
	eldu0 = fx.encl->stats.eldu;

	cr_assert_eq(fault(KFX_TEXT + 8, READ_FAULT), SGX_FAULT_FIXED);
	cr_assert_eq(fx.encl->stats.eldu, eldu0 + 2);
	cr_assert_not_null(fx.encl->secs.epc_page);
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_TEXT)->frame, epc_addr_of(KFX_TEXT));
	cr_assert_eq(kfx_pte_of(&fx, fx.mm, KFX_TEXT)->flags, SGX_PTE_PRESENT);
	cr_assert_eq(fx.encl->secs_child_cnt, 1);

	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, &f), 0);
	cr_assert_eq(kfx_read(&fx, 1, KFX_TEXT + 8, &word, sizeof(word), &f),
		     0);
	cr_assert_eq(word, deadbeef);
	kfx_exit(&fx, 1);
	kfx_fini(&fx);
}
