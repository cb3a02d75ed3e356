// SPDX-License-Identifier: MIT
/*
 * Page tables as an open-addressing hash table with linear probing and
 * backward-shift deletion, so lookups stay O(1) for enclaves of a million
 * pages and no tombstones accumulate as the driver maps and zaps.
 */
#include "arch/pgtable.h"

#include <errno.h>
#include <stdlib.h>

#include "base/assert.h"
#include "base/bits.h"

#define PGTABLE_MIN_SLOTS 64ULL

static uint64_t slot_of(const struct sgx_pgtable *pt, uint64_t vpn)
{
	/*
	 * Fibonacci hashing: the product's top bits spread the pages of a
	 * range evenly, so probe runs stay short at any size.
	 */
	unsigned int bits = (unsigned int)__builtin_ctzll(pt->nr_slots);

	return (vpn * 0x9E3779B97F4A7C15ULL) >> (64 - bits);
}

int sgx_pgtable_init(struct sgx_pgtable *pt)
{
	pt->slots = calloc(PGTABLE_MIN_SLOTS, sizeof(*pt->slots));
	if (!pt->slots)
		return -ENOMEM;
	pt->nr_slots = PGTABLE_MIN_SLOTS;
	pt->nr_used = 0;
	pt->changed = NULL;
	pt->changed_ctx = NULL;
	return 0;
}

void sgx_pgtable_destroy(struct sgx_pgtable *pt)
{
	free(pt->slots);
	pt->slots = NULL;
	pt->nr_slots = 0;
	pt->nr_used = 0;
}

static struct sgx_pte *find(const struct sgx_pgtable *pt, uint64_t vpn)
{
	uint64_t i = slot_of(pt, vpn);

	for (uint64_t n = 0; n < pt->nr_slots; n++) {
		struct sgx_pte *e = &pt->slots[i];

		if (!e->used || e->vpn == vpn)
			return e;
		i = (i + 1) & (pt->nr_slots - 1);
	}
	ASSERT(!"page table full");
	return NULL;
}

static int grow(struct sgx_pgtable *pt)
{
	struct sgx_pgtable bigger = { 0 };

	bigger.nr_slots = pt->nr_slots * 2;
	bigger.slots = calloc(bigger.nr_slots, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (uint64_t i = 0; i < pt->nr_slots; i++) {
		if (pt->slots[i].used) {
			*find(&bigger, pt->slots[i].vpn) = pt->slots[i];
			bigger.nr_used++;
		}
	}
	free(pt->slots);
	pt->slots = bigger.slots;
	pt->nr_slots = bigger.nr_slots;
	pt->nr_used = bigger.nr_used;
	return 0;
}

int sgx_pgtable_map(struct sgx_pgtable *pt, uint64_t lin, uint64_t frame,
		    uint32_t flags)
{
	uint64_t vpn = lin >> PAGE_SHIFT;
	struct sgx_pte *e;

	ASSERT(is_aligned(frame, PAGE_SIZE));
	/* Keep the load factor under one half. */
	if ((pt->nr_used + 1) * 2 > pt->nr_slots) {
		int ret = grow(pt);

		if (ret)
			return ret;
	}
	e = find(pt, vpn);
	if (!e->used)
		pt->nr_used++;
	e->used = 1;
	e->vpn = vpn;
	e->frame = frame;
	e->flags = flags;
	if (pt->changed)
		pt->changed(pt->changed_ctx, lin & PAGE_MASK);
	return 0;
}

bool sgx_pgtable_unmap(struct sgx_pgtable *pt, uint64_t lin)
{
	struct sgx_pte *e = find(pt, lin >> PAGE_SHIFT);
	uint64_t hole, i;

	if (!e->used)
		return false;
	/* Backward-shift: pull later members of the probe run into the hole. */
	hole = (uint64_t)(e - pt->slots);
	i = hole;
	for (;;) {
		uint64_t home;

		i = (i + 1) & (pt->nr_slots - 1);
		if (!pt->slots[i].used)
			break;
		home = slot_of(pt, pt->slots[i].vpn);
		/* Move it if its home is not in the cyclic range (hole, i]. */
		if (((i - home) & (pt->nr_slots - 1)) >=
		    ((i - hole) & (pt->nr_slots - 1))) {
			pt->slots[hole] = pt->slots[i];
			hole = i;
		}
	}
	pt->slots[hole].used = 0;
	pt->nr_used--;
	if (pt->changed)
		pt->changed(pt->changed_ctx, lin & PAGE_MASK);
	return true;
}

void sgx_pgtable_protect(struct sgx_pgtable *pt, struct sgx_pte *pte,
			 uint32_t flags)
{
	pte->flags = flags;
	if (pt->changed)
		pt->changed(pt->changed_ctx, pte->vpn << PAGE_SHIFT);
}

struct sgx_pte *sgx_pgtable_lookup(const struct sgx_pgtable *pt, uint64_t lin)
{
	struct sgx_pte *e;

	if (!pt->nr_slots)
		return NULL;
	e = find(pt, lin >> PAGE_SHIFT);
	return e->used ? e : NULL;
}
