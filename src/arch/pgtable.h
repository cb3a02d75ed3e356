/* SPDX-License-Identifier: MIT */
/*
 * A page table: what CR3 points at. It maps a linear page to a frame (a host
 * address: an EPC page in the EPC view, or ordinary memory) with x86 PTE
 * bits. The OS side (the driver model's fault handler and PTE zapping) edits
 * it; the LP walks it on a TLB miss. Like x86-64's, it is a four-level radix
 * tree of 512-entry tables over 48-bit linear addresses, so the pages of a
 * range sit side by side (a 1M-page enclave is walked in memory order) and
 * empty stretches are skipped a table at a time.
 */
#ifndef SGXEMU_ARCH_PGTABLE_H
#define SGXEMU_ARCH_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

/* PTE bits (SDM Vol. 3A 4.5). Present implies readable on x86. */
#define SGX_PTE_PRESENT 0x1U
#define SGX_PTE_WRITE 0x2U
#define SGX_PTE_ACCESSED 0x20U
#define SGX_PTE_DIRTY 0x40U
#define SGX_PTE_NX 0x80U

struct sgx_pte {
	uint64_t vpn; /* linear address >> 12 */
	uint64_t frame; /* host address of the 4 KiB frame */
	uint32_t flags;
	uint32_t used; /* the entry maps a page */
};

/*
 * Told after a PTE of lin was installed, replaced, re-protected or removed,
 * for whoever keeps a shadow of the table (the runner's host mappings).
 */
typedef void (*sgx_pgtable_changed_fn)(void *ctx, uint64_t lin);

struct sgx_pgtable {
	void *root; /* the top-level table (PML4) */
	uint64_t nr_used; /* pages mapped */
	sgx_pgtable_changed_fn changed; /* NULL: nobody is told */
	void *changed_ctx;
	/* Called on every lookup or change (the explorer's DPOR); or NULL. */
	void (*touch)(void *ctx);
	void *touch_ctx;
};

int sgx_pgtable_init(struct sgx_pgtable *pt);
void sgx_pgtable_destroy(struct sgx_pgtable *pt);
/*
 * Install or replace the mapping of one page. Returns 0, -EINVAL for an
 * address beyond 48 bits, or -ENOMEM.
 */
int sgx_pgtable_map(struct sgx_pgtable *pt, uint64_t lin, uint64_t frame,
		    uint32_t flags);
/* Remove the mapping of one page; returns true if there was one. */
bool sgx_pgtable_unmap(struct sgx_pgtable *pt, uint64_t lin);
/* Replace the flags of a PTE that lookup returned (mprotect()). */
void sgx_pgtable_protect(struct sgx_pgtable *pt, struct sgx_pte *pte,
			 uint32_t flags);
/* The PTE for a page, or NULL when none is present. */
struct sgx_pte *sgx_pgtable_lookup(const struct sgx_pgtable *pt, uint64_t lin);
/*
 * The first PTE that maps a page of [lin, end), in address order, or NULL.
 * Unmapping the PTE it returned does not disturb any other.
 */
struct sgx_pte *sgx_pgtable_next(const struct sgx_pgtable *pt, uint64_t lin,
				 uint64_t end);

#endif
