/* SPDX-License-Identifier: MIT */
/*
 * A page table: what CR3 points at. It maps a linear page to a frame (a host
 * address: an EPC page in the EPC view, or ordinary memory) with x86 PTE
 * bits. The OS side (the driver model's fault handler and PTE zapping) edits
 * it; the LP walks it on a TLB miss. It is a hash table rather than a radix
 * tree because only the leaf mapping matters to SGX.
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
	uint32_t used; /* slot in use */
};

/*
 * Told after a PTE of lin was installed, replaced, re-protected or removed,
 * for whoever keeps a shadow of the table (the runner's host mappings).
 */
typedef void (*sgx_pgtable_changed_fn)(void *ctx, uint64_t lin);

struct sgx_pgtable {
	struct sgx_pte *slots;
	uint64_t nr_slots; /* a power of two */
	uint64_t nr_used;
	sgx_pgtable_changed_fn changed; /* NULL: nobody is told */
	void *changed_ctx;
};

int sgx_pgtable_init(struct sgx_pgtable *pt);
void sgx_pgtable_destroy(struct sgx_pgtable *pt);
/* Install or replace the mapping of one page. Returns 0 or -ENOMEM. */
int sgx_pgtable_map(struct sgx_pgtable *pt, uint64_t lin, uint64_t frame,
		    uint32_t flags);
/* Remove the mapping of one page; returns true if there was one. */
bool sgx_pgtable_unmap(struct sgx_pgtable *pt, uint64_t lin);
/* Replace the flags of a PTE that lookup returned (mprotect()). */
void sgx_pgtable_protect(struct sgx_pgtable *pt, struct sgx_pte *pte,
			 uint32_t flags);
/* The PTE for a page, or NULL when none is present. */
struct sgx_pte *sgx_pgtable_lookup(const struct sgx_pgtable *pt, uint64_t lin);

#endif
