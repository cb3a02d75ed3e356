/* SPDX-License-Identifier: MIT */
/*
 * A circular doubly linked list with the kernel's shape (list_head), so the
 * driver model's free, active and VA page lists read like Linux's.
 */
#ifndef SGXEMU_BASE_LIST_H
#define SGXEMU_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

#define container_of(ptr, type, member)                                   \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member)                              \
	list_entry((head)->next, type, member)

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool list_empty(const struct list_head *l)
{
	return l->next == l;
}

static inline void list_insert(struct list_head *n, struct list_head *prev,
			       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	list_insert(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	list_insert(n, head->prev, head);
}

/* Unlink and leave the node pointing at itself, as list_del_init does. */
static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	INIT_LIST_HEAD(n);
}

static inline void list_move_tail(struct list_head *n, struct list_head *head)
{
	list_del_init(n);
	list_add_tail(n, head);
}

static inline void list_move(struct list_head *n, struct list_head *head)
{
	list_del_init(n);
	list_add(n, head);
}

#define list_for_each_safe(pos, tmp, head)                                \
	for (pos = (head)->next, tmp = pos->next; pos != (head);           \
	     pos = tmp, tmp = pos->next)

#endif
