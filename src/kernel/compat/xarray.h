/* SPDX-License-Identifier: MIT */
/*
 * <linux/xarray.h> for the model: a sparse map from unsigned long to
 * pointer, with Linux's names and calling conventions, so that the driver
 * model and the single-source fragments use encl->page_array as Linux does
 * (xa_load, xa_insert, xa_erase, xa_for_each_range, xa_destroy).
 *
 * A radix tree of 64-slot nodes, as Linux's: a tree only as tall as its
 * largest index needs, nodes made on the first entry below them and freed
 * with their last one, so its memory follows the entries, never the span
 * of indices (a 1 TiB ELRANGE costs nothing until pages are added).
 *
 * KERNEL: no locking (encl->lock serialises every user in the model, as it
 * does every writer in Linux), no marks, no multi-index entries, no value
 * entries; gfp flags are accepted and ignored. MODEL: nr_nodes and
 * nr_entries count what the tree holds (not in Linux), so that tests can
 * assert the memory is proportional to the entries.
 */
#ifndef SGXEMU_KERNEL_COMPAT_XARRAY_H
#define SGXEMU_KERNEL_COMPAT_XARRAY_H

#include <limits.h>
#include <stdbool.h>

#define XA_CHUNK_SHIFT 6
#define XA_CHUNK_SIZE (1U << XA_CHUNK_SHIFT)

struct xa_node {
	unsigned int shift; /* index bits below each slot */
	unsigned int count; /* slots in use */
	void *slots[XA_CHUNK_SIZE]; /* nodes, or entries when shift is 0 */
};

struct xarray {
	struct xa_node *head; /* NULL when empty */
	unsigned long nr_nodes; /* accounting, see above */
	unsigned long nr_entries; /* accounting, see above */
};

typedef unsigned int gfp_t;
#define GFP_KERNEL 0U
/* The search filter of xa_find(): every present entry (no marks here). */
#define XA_PRESENT 0U

void xa_init(struct xarray *xa);
void *xa_load(const struct xarray *xa, unsigned long index);
/* 0, -EBUSY if @index is taken, -ENOMEM; @entry must not be NULL. */
int xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
/* The entry that was at @index, or NULL; empty nodes are freed. */
void *xa_erase(struct xarray *xa, unsigned long index);
/* The first entry at *@indexp..@max (*@indexp set to its index), or NULL. */
void *xa_find(const struct xarray *xa, unsigned long *indexp,
	      unsigned long max, unsigned int filter);
/* The first entry after *@indexp, up to @max, or NULL. */
void *xa_find_after(const struct xarray *xa, unsigned long *indexp,
		    unsigned long max, unsigned int filter);
/* Free every node; the entries stay the caller's. */
void xa_destroy(struct xarray *xa);

static inline bool xa_empty(const struct xarray *xa)
{
	return !xa->head;
}

#define xa_for_each_range(xa, index, entry, start, last)                 \
	for (index = (start),                                             \
	    entry = xa_find(xa, &index, last, XA_PRESENT);                \
	     entry; entry = xa_find_after(xa, &index, last, XA_PRESENT))

#define xa_for_each(xa, index, entry) \
	xa_for_each_range(xa, index, entry, 0, ULONG_MAX)

#endif
