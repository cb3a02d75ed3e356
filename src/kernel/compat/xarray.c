// SPDX-License-Identifier: MIT
/*
 * The model's xarray (compat/xarray.h): a radix tree of 64-slot nodes.
 * The head node's shift says how tall the tree is; an index beyond what it
 * covers grows the tree by new heads above it, and an erase that empties a
 * node frees it and every ancestor it leaves empty, then drops heads whose
 * only child is their first slot, so an emptied tree holds nothing.
 */
#include "kernel/compat/xarray.h"

#include <errno.h>
#include <stdlib.h>

#include "base/assert.h"

#define XA_MAX_SHIFT 60 /* the head of a tree that covers every index */
#define XA_MAX_DEPTH (XA_MAX_SHIFT / XA_CHUNK_SHIFT + 1)

/* The last index a node of @shift covers from its own first index. */
static unsigned long xa_span_last(unsigned int shift)
{
	if (shift + XA_CHUNK_SHIFT >= sizeof(unsigned long) * CHAR_BIT)
		return ULONG_MAX;
	return (1UL << (shift + XA_CHUNK_SHIFT)) - 1;
}

static unsigned int xa_offset(unsigned long index, unsigned int shift)
{
	return (unsigned int)(index >> shift) & (XA_CHUNK_SIZE - 1);
}

static struct xa_node *xa_node_alloc(struct xarray *xa, unsigned int shift)
{
	struct xa_node *node = calloc(1, sizeof(*node));

	if (node) {
		node->shift = shift;
		xa->nr_nodes++;
	}
	return node;
}

static void xa_node_free(struct xarray *xa, struct xa_node *node)
{
	free(node);
	xa->nr_nodes--;
}

void xa_init(struct xarray *xa)
{
	xa->head = NULL;
	xa->nr_nodes = 0;
	xa->nr_entries = 0;
}

void *xa_load(const struct xarray *xa, unsigned long index)
{
	const struct xa_node *node = xa->head;

	if (!node || index > xa_span_last(node->shift))
		return NULL;
	for (;;) {
		void *slot = node->slots[xa_offset(index, node->shift)];

		if (!node->shift || !slot)
			return slot;
		node = slot;
	}
}

/* Grow the tree until its head covers @index. */
static int xa_expand(struct xarray *xa, unsigned long index)
{
	unsigned int shift = 0;

	while (index > xa_span_last(shift))
		shift += XA_CHUNK_SHIFT;
	if (!xa->head) {
		xa->head = xa_node_alloc(xa, shift);
		return xa->head ? 0 : -ENOMEM;
	}
	while (xa->head->shift < shift) {
		struct xa_node *top = xa_node_alloc(xa, xa->head->shift +
							    XA_CHUNK_SHIFT);

		if (!top)
			return -ENOMEM;
		top->slots[0] = xa->head;
		top->count = 1;
		xa->head = top;
	}
	return 0;
}

int xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	struct xa_node *node;
	void **slot;

	(void)gfp;
	ASSERT(entry);
	if (xa_expand(xa, index))
		return -ENOMEM;
	node = xa->head;
	for (;;) {
		slot = &node->slots[xa_offset(index, node->shift)];
		if (!node->shift)
			break;
		if (!*slot) {
			*slot = xa_node_alloc(xa, node->shift - XA_CHUNK_SHIFT);
			if (!*slot)
				return -ENOMEM;
			node->count++;
		}
		node = *slot;
	}
	if (*slot)
		return -EBUSY;
	*slot = entry;
	node->count++;
	xa->nr_entries++;
	return 0;
}

/* Drop heads whose only child is in their first slot. */
static void xa_shrink(struct xarray *xa)
{
	struct xa_node *head = xa->head;

	while (head && head->shift && head->count == 1 && head->slots[0]) {
		xa->head = head->slots[0];
		xa_node_free(xa, head);
		head = xa->head;
	}
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	struct xa_node *path[XA_MAX_DEPTH];
	struct xa_node *node = xa->head;
	unsigned int depth = 0;
	void *entry;

	if (!node || index > xa_span_last(node->shift))
		return NULL;
	for (;;) {
		path[depth++] = node;
		if (!node->shift)
			break;
		node = node->slots[xa_offset(index, node->shift)];
		if (!node)
			return NULL;
	}
	entry = node->slots[xa_offset(index, 0)];
	if (!entry)
		return NULL;
	xa->nr_entries--;
	/* Clear the slot, then every node the clearing leaves empty. */
	while (depth--) {
		node = path[depth];
		node->slots[xa_offset(index, node->shift)] = NULL;
		if (--node->count)
			break;
		if (node == xa->head)
			xa->head = NULL;
		xa_node_free(xa, node);
	}
	xa_shrink(xa);
	return entry;
}

/* The first entry at @from..@max below @node, whose first index is @base. */
static void *xa_node_find(const struct xa_node *node, unsigned long base,
			  unsigned long from, unsigned long max,
			  unsigned long *found)
{
	unsigned int i = xa_offset(from, node->shift);

	for (; i < XA_CHUNK_SIZE; i++) {
		unsigned long first = base + ((unsigned long)i << node->shift);
		void *slot = node->slots[i];
		void *entry;

		if (first > max)
			return NULL;
		if (!slot)
			continue;
		if (!node->shift) {
			*found = first;
			return slot;
		}
		entry = xa_node_find(slot, first, from > first ? from : first,
				     max, found);
		if (entry)
			return entry;
	}
	return NULL;
}

void *xa_find(const struct xarray *xa, unsigned long *indexp,
	      unsigned long max, unsigned int filter)
{
	const struct xa_node *head = xa->head;

	(void)filter;
	if (!head || *indexp > max || *indexp > xa_span_last(head->shift))
		return NULL;
	return xa_node_find(head, 0, *indexp, max, indexp);
}

void *xa_find_after(const struct xarray *xa, unsigned long *indexp,
		    unsigned long max, unsigned int filter)
{
	unsigned long next = *indexp + 1;
	void *entry;

	if (*indexp >= max)
		return NULL;
	entry = xa_find(xa, &next, max, filter);
	if (entry)
		*indexp = next;
	return entry;
}

static void xa_node_destroy(struct xarray *xa, struct xa_node *node)
{
	for (unsigned int i = 0; node->shift && i < XA_CHUNK_SIZE; i++)
		if (node->slots[i])
			xa_node_destroy(xa, node->slots[i]);
	xa_node_free(xa, node);
}

void xa_destroy(struct xarray *xa)
{
	if (xa->head)
		xa_node_destroy(xa, xa->head);
	xa_init(xa);
}
