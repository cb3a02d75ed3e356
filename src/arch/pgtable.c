// SPDX-License-Identifier: MIT
/*
 * Page tables as a four-level radix tree (see pgtable.h). Interior tables
 * hold 512 pointers; the last level holds 512 PTEs. Tables are made on the
 * first mapping below them and kept until the page table is destroyed, as
 * Linux keeps page-table pages until the range is unmapped and freed.
 */
#include "arch/pgtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/bits.h"

#define PT_BITS 9
#define PT_ENTRIES (1U << PT_BITS)
#define PT_LEVELS 4
#define PT_VPN_BITS (PT_BITS * PT_LEVELS) /* 48-bit linear addresses */

struct pt_table {
	void *entry[PT_ENTRIES]; /* next level, or NULL */
};

struct pt_leaf {
	struct sgx_pte pte[PT_ENTRIES];
};

static unsigned int index_at(uint64_t vpn, unsigned int level)
{
	return (unsigned int)(vpn >> (PT_BITS * level)) & (PT_ENTRIES - 1);
}

int sgx_pgtable_init(struct sgx_pgtable *pt)
{
	pt->root = calloc(1, sizeof(struct pt_table));
	if (!pt->root)
		return -ENOMEM;
	pt->nr_used = 0;
	pt->changed = NULL;
	pt->changed_ctx = NULL;
	pt->touch = NULL;
	pt->touch_ctx = NULL;
	return 0;
}

static void free_table(struct pt_table *t, unsigned int level)
{
	for (unsigned int i = 0; i < PT_ENTRIES; i++) {
		if (!t->entry[i])
			continue;
		if (level > 1)
			free_table(t->entry[i], level - 1);
		else
			free(t->entry[i]); /* a leaf */
	}
	free(t);
}

void sgx_pgtable_destroy(struct sgx_pgtable *pt)
{
	if (pt->root)
		free_table(pt->root, PT_LEVELS - 1);
	pt->root = NULL;
	pt->nr_used = 0;
}

/*
 * The PTE slot of vpn, or NULL if a table on the way is missing and create
 * is false (or the allocation failed).
 */
static struct sgx_pte *walk(const struct sgx_pgtable *pt, uint64_t vpn,
			    bool create)
{
	struct pt_table *t = pt->root;

	if (pt->touch)
		pt->touch(pt->touch_ctx);
	if (!t || vpn >> PT_VPN_BITS)
		return NULL;
	for (unsigned int level = PT_LEVELS - 1; level; level--) {
		void **slot = &t->entry[index_at(vpn, level)];

		if (!*slot && create)
			*slot = calloc(1, level == 1 ? sizeof(struct pt_leaf) :
						       sizeof(struct pt_table));
		if (!*slot)
			return NULL;
		if (level == 1)
			return &((struct pt_leaf *)*slot)->pte[index_at(vpn, 0)];
		t = *slot;
	}
	ASSERT(!"a page table has at least two levels");
	return NULL;
}

int sgx_pgtable_map(struct sgx_pgtable *pt, uint64_t lin, uint64_t frame,
		    uint32_t flags)
{
	uint64_t vpn = lin >> PAGE_SHIFT;
	struct sgx_pte *e;

	ASSERT(is_aligned(frame, PAGE_SIZE));
	if (vpn >> PT_VPN_BITS)
		return -EINVAL;
	e = walk(pt, vpn, true);
	if (!e)
		return -ENOMEM;
	if (!e->used)
		pt->nr_used++;
	*e = (struct sgx_pte){
		.vpn = vpn, .frame = frame, .flags = flags, .used = 1,
	};
	if (pt->changed)
		pt->changed(pt->changed_ctx, lin & PAGE_MASK);
	return 0;
}

bool sgx_pgtable_unmap(struct sgx_pgtable *pt, uint64_t lin)
{
	struct sgx_pte *e = walk(pt, lin >> PAGE_SHIFT, false);

	if (!e || !e->used)
		return false;
	memset(e, 0, sizeof(*e));
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
	struct sgx_pte *e = walk(pt, lin >> PAGE_SHIFT, false);

	return e && e->used ? e : NULL;
}

/*
 * The first vpn >= *vpn below end whose tables all exist: *vpn is moved
 * past every missing table on the way. Returns its leaf, or NULL.
 */
static struct pt_leaf *next_leaf(const struct sgx_pgtable *pt, uint64_t *vpn,
				 uint64_t end)
{
	if (pt->touch)
		pt->touch(pt->touch_ctx);
	while (*vpn < end) {
		struct pt_table *t = pt->root;
		unsigned int level = PT_LEVELS - 1;

		for (; level; level--) {
			void *next = t->entry[index_at(*vpn, level)];

			if (!next)
				break;
			if (level == 1)
				return next;
			t = next;
		}
		/* The table below level is missing: skip all it would map. */
		*vpn = (*vpn | ((1ULL << (PT_BITS * level)) - 1)) + 1;
	}
	return NULL;
}

struct sgx_pte *sgx_pgtable_next(const struct sgx_pgtable *pt, uint64_t lin,
				 uint64_t end)
{
	uint64_t vpn = lin >> PAGE_SHIFT;
	uint64_t last = (end >> PAGE_SHIFT) + !!(end & ~PAGE_MASK);
	const uint64_t top = 1ULL << PT_VPN_BITS;

	if (!pt->root)
		return NULL;
	if (last > top)
		last = top;
	for (struct pt_leaf *leaf; (leaf = next_leaf(pt, &vpn, last));) {
		for (; vpn < last; vpn++) {
			struct sgx_pte *e = &leaf->pte[index_at(vpn, 0)];

			if (e->used)
				return e;
			if (index_at(vpn, 0) == PT_ENTRIES - 1) {
				vpn++;
				break;
			}
		}
	}
	return NULL;
}
