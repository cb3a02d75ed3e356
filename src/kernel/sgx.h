/* SPDX-License-Identifier: MIT */
/*
 * The Linux SGX driver model: its data structures, named as in Linux 6.12
 * (arch/x86/kernel/cpu/sgx/{sgx.h,encl.h}) so the two read side by side.
 * See linux-sgx-driver.md section 4.
 *
 * Where Linux keeps global state (the EPC sections, the free and active
 * lists, ksgxd), the model keeps it in struct sgx_driver, so that several
 * independent machines can exist in one process (the explorer runs many).
 */
#ifndef SGXEMU_KERNEL_SGX_H
#define SGXEMU_KERNEL_SGX_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "base/list.h"
#include "kernel/compat/xarray.h"
#include "sgxemu/platform.h"

/* Reclaim constants (sgx.h). The watermarks scale with the EPC: see main.c. */
#define SGX_NR_TO_SCAN 16
#define SGX_NR_LOW_PAGES 32
#define SGX_NR_HIGH_PAGES 64

/* struct sgx_epc_page.flags */
#define SGX_EPC_PAGE_RECLAIMER_TRACKED BIT(0)
#define SGX_EPC_PAGE_IS_FREE BIT(1)

struct sgx_encl_page;

struct sgx_epc_page {
	uint64_t index; /* EPC page number; the address is sgx_epc_addr() */
	uint16_t flags;
	struct sgx_encl_page *owner; /* or the sgx_encl for SECS/VA pages */
	struct list_head list; /* free list or active list */
};

/* VA pages (encl.h). */
#define SGX_VA_SLOT_COUNT 512
struct sgx_va_page {
	struct sgx_epc_page *epc_page;
	uint64_t slots[SGX_VA_SLOT_COUNT / 64]; /* bitmap of used slots */
	struct list_head list;
};

/* desc: page address | VA slot offset (bits 3..11) | BEING_RECLAIMED. */
#define SGX_ENCL_PAGE_BEING_RECLAIMED BIT(3)
#define SGX_ENCL_PAGE_VA_OFFSET_MASK 0xFF8ULL
#define SGX_ENCL_PAGE_ADDR_MASK PAGE_MASK

/* vm_max_prot_bits and VMA flags, Linux's values. */
#define VM_READ 0x1UL
#define VM_WRITE 0x2UL
#define VM_EXEC 0x4UL
#define VM_SHARED 0x8UL
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)

struct sgx_encl;

struct sgx_encl_page {
	uint64_t desc;
	unsigned long vm_max_prot_bits;
	enum sgx_page_type type;
	struct sgx_epc_page *epc_page;
	struct sgx_encl *encl;
	struct sgx_va_page *va_page;
	/*
	 * MODIFY_TYPES (upstream/ioctl.c, sgx_encl_page_type()): the type an
	 * EMODT gave the page, PT_SECS (never a target) when none is
	 * pending, and encl->etrack_gen at that EMODT. @type takes the new
	 * type once a later ETRACK flow has advanced encl->etrack_gen.
	 */
	enum sgx_page_type modt_type;
	unsigned long modt_gen;
};

/* struct sgx_encl.flags */
#define SGX_ENCL_IOCTL BIT(0)
#define SGX_ENCL_DEBUG BIT(1)
#define SGX_ENCL_CREATED BIT(2)
#define SGX_ENCL_INITIALIZED BIT(3)

/*
 * The shmem backing of an evicted page: contents and PCMD. Allocated by
 * the first EWB of the page, freed when ELDU reads it back or the enclave
 * goes (shmem pages come and go with their contents alike).
 */
struct sgx_backing_page {
	uint8_t contents[4096];
	struct sgx_pcmd pcmd;
};

/* Per-enclave event counters (architecture.md section 6). */
struct sgx_encl_stats {
	uint64_t etrack_flows; /* sgx_enclave_etrack() calls by the ioctls */
	uint64_t etrack_failures; /* ETRACKs that returned non-zero */
	uint64_t ipi_rounds; /* on_each_cpu_mask() calls, ioctls + reclaimer */
	uint64_t ipis; /* target LPs over all rounds */
	uint64_t ipi_aex; /* LPs of this enclave the IPIs forced out */
	uint64_t ewb;
	uint64_t eldu;
	uint64_t eaug;
	uint64_t emodpr;
	uint64_t emodt;
	uint64_t eremove;
};

struct sgx_encl {
	uint64_t base;
	uint64_t size;
	unsigned long flags;
	unsigned int page_cnt;
	unsigned int secs_child_cnt;
	struct sgx_mutex lock;
	struct xarray page_array; /* by PFN_DOWN(address), as in Linux */
	struct sgx_encl_page secs;
	uint64_t attributes;
	uint64_t attributes_mask;
	struct sgx_cpumask cpumask;
	/* Linux's shmem file: by page number from the base, SECS last. */
	struct xarray backing;
	unsigned int refcount;
	struct list_head va_pages;
	struct list_head mm_list; /* struct sgx_encl_mm */
	struct sgx_driver *drv;
	struct sgx_encl_stats stats;
	struct sgx_mutex mm_lock; /* mm_list, mm_list_version (driver.c) */
	uint64_t mm_list_version; /* bumped whenever mm_list changes */
	unsigned long etrack_gen; /* ETRACK flows completed by the ioctls */
	/* The pages a failed flow left changed but uncounted (MODIFY_TYPES). */
	unsigned long edmm_untracked_start, edmm_untracked_end;
	/*
	 * Pages per ETRACK flow in RESTRICT_PERMISSIONS and MODIFY_TYPES:
	 * 1 is Linux 6.12, N > 1 every N pages, 0 once per call. Set from
	 * drv->cfg.etrack_batch at ECREATE; may be changed any time after.
	 * It is the patch's constant SGX_EDMM_ETRACK_BATCH (compat/fragment.h).
	 */
	unsigned int etrack_batch;
	/*
	 * Whether those ioctls check for a pending signal and offer to
	 * reschedule before each page (patch 3 of the series); off is Linux
	 * 6.12. Set from !drv->cfg.no_loop_checks at ECREATE.
	 */
	bool loop_checks;
	/* Planted bugs' state (compat/plants.h); unused elsewhere. */
	bool plant_etrack_first; /* ETRACK_BEFORE_EMODPR: in RESTRICT */
	uint64_t plant_secs_addr; /* BATCH_SECS_EVICTED: SECS at batch start */
};

struct sgx_mm;

/* One mm that maps the enclave (encl.h sgx_encl_mm). */
struct sgx_encl_mm {
	struct sgx_encl *encl;
	struct sgx_mm *mm;
	struct list_head list;
	struct list_head mm_node; /* on mm->notifiers, under mm->mmap_lock */
};

/* Driver-wide counters. */
struct sgx_driver_stats {
	uint64_t reclaim_batches;
	uint64_t reclaimed_pages;
	uint64_t direct_reclaims;
	uint64_t ksgxd_wakeups;
	uint64_t secs_evictions;
	uint64_t encls_warnings; /* what Linux would ENCLS_WARN about */
};

/*
 * The default of sgx_driver_config.etrack_batch: one ETRACK flow per
 * EDMM call (docs/BATCHED-ETRACK.md says why). It is 0, so a zeroed
 * configuration gets it.
 */
#define SGX_ETRACK_BATCH_DEFAULT 0

struct sgx_driver_config {
	bool sgx2; /* X86_FEATURE_SGX2 */
	unsigned int etrack_batch; /* each new enclave's encl->etrack_batch */
	/*
	 * No per-page signal and resched checks in RESTRICT_PERMISSIONS and
	 * MODIFY_TYPES, as in Linux 6.12: with etrack_batch 1 the walk is
	 * then 6.12's exactly. A zeroed configuration has the checks.
	 */
	bool no_loop_checks;
#ifdef SGXEMU_PLANTS
	unsigned int plants; /* SGX_PLANT_* bits, below */
#endif
};

#ifdef SGXEMU_PLANTS
/*
 * Planted bugs: only in the *_planted libraries, which the explorer's
 * self-tests link to show that each one is found. Bit 2 is the CPU's
 * (SGX_PLANT_EACCEPT_UNTRACKED, arch/cpu.h), so one mask serves both.
 *   NO_IPI: the EDMM ETRACK flow sends no IPI round after its ETRACK.
 *   ETRACK_BEFORE_EMODPR: RESTRICT_PERMISSIONS tracks before it modifies.
 *   COUNT_BEFORE_TRACKING: count covers a page whose tracking failed.
 *   BATCH_SECS_EVICTED: a batched ETRACK runs without loading an evicted
 *	SECS first; its hook belongs to the batched-ETRACK loop.
 *   BATCH_NO_EARLY_TRACK: an early exit of the batched loop returns
 *	without tracking the pages it modified since the last batch.
 *   SIGNAL_NO_TRACK: a walk a signal stopped returns without its flow.
 *   IPI_FIRST_MM_ONLY: the IPI mask is the first mm's only, so a second
 *	process (a fork's child) inside the enclave is not kicked out.
 *   IPI_DROP_LP: the IPI mask misses its highest LP.
 *   TYPE_BEFORE_TRACKING: MODIFY_TYPES records the new type at EMODT,
 *	before the ETRACK flow that makes it effective.
 */
#define SGX_PLANT_NO_IPI (1U << 0)
#define SGX_PLANT_ETRACK_BEFORE_EMODPR (1U << 1)
#define SGX_PLANT_COUNT_BEFORE_TRACKING (1U << 3)
#define SGX_PLANT_BATCH_SECS_EVICTED (1U << 4)
#define SGX_PLANT_BATCH_NO_EARLY_TRACK (1U << 5)
#define SGX_PLANT_SIGNAL_NO_TRACK (1U << 6)
#define SGX_PLANT_IPI_FIRST_MM_ONLY (1U << 7)
#define SGX_PLANT_IPI_DROP_LP (1U << 8)
#define SGX_PLANT_TYPE_BEFORE_TRACKING (1U << 9)
#define sgx_planted(drv, bug) ((drv)->cfg.plants & SGX_PLANT_##bug)
#endif

/*
 * Fault injection, for tests only (tests/kernel/test_batch.c); all zero in
 * normal use. A counter makes that many of the next operations fail, then
 * is spent; SGX_INJECT_ALWAYS makes every one fail.
 */
#define SGX_INJECT_ALWAYS (~0U)
struct sgx_fault_inject {
	/* ETRACKs of sgx_enclave_etrack(): SGX_PREV_TRK_INCMPL, not run. */
	unsigned int etrack_fail;
	/* ELDUs of pages and SECS: -EFAULT before anything is consumed. */
	unsigned int eldu_fail;
	/* No free EPC page and nothing reclaimable: -ENOMEM. */
	bool epc_exhausted;
	/*
	 * Called by the RESTRICT_PERMISSIONS and MODIFY_TYPES loops before
	 * page @index (0 is the first of the call), without encl->lock: the
	 * window between pages (set a signal, evict, enter the enclave...).
	 */
	void (*edmm_page)(struct sgx_encl *encl, uint64_t index, void *arg);
	void *edmm_page_arg;
};

/* Whether an injected failure happens now; spends one unless ALWAYS. */
static inline bool sgx_inject_fire(unsigned int *n)
{
	if (!*n)
		return false;
	if (*n != SGX_INJECT_ALWAYS)
		(*n)--;
	return true;
}

/*
 * MODEL: an observer of the driver for `sgxemu run --record` (not in
 * Linux): the ioctl hook runs at sgx_ioctl() entry (ret NULL) and exit
 * (*ret its result, the argument's outputs written back), the EAUG hook
 * after a fault added a page, under encl->lock (so that it is ordered with
 * the other changes of the page). Observers only read; both may be NULL.
 */
struct sgx_trace_hooks {
	void *ctx;
	void (*ioctl)(void *ctx, struct sgx_encl *encl, unsigned int cmd,
		      unsigned long arg, const long *ret);
	void (*eaug)(void *ctx, struct sgx_encl *encl, uint64_t offset);
};

struct sgx_driver {
	struct sgx_cpu *cpu;
	const struct sgx_platform *plat;
	struct sgx_driver_config cfg;
	struct sgx_epc_page *epc_pages; /* one per EPC page */
	struct list_head free_list;
	uint64_t nr_free_pages;
	struct list_head active_page_list;
	struct sgx_mutex reclaimer_lock; /* Linux: the sgx_reclaimer_lock spinlock */
	uint64_t nr_low_pages, nr_high_pages; /* watermarks */
	bool ksgxd_stop;
	struct sgx_driver_stats stats;
	struct sgx_mutex free_lock; /* Linux: the NUMA node's spinlock */
	/* sgx_drv_init(): the XFRM bits CPUID.(12H,1) does not report. */
	uint64_t xfrm_reserved_mask;
	struct sgx_fault_inject inject; /* tests only */
	struct sgx_trace_hooks trace;
};

#endif
