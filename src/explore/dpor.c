// SPDX-License-Identifier: MIT
/*
 * dpor: dynamic partial-order reduction with sleep sets, C. Flanagan and
 * P. Godefroid, "Dynamic Partial-Order Reduction for Model Checking
 * Software", POPL 2005 (Figure 4, with the sleep sets of their section 5
 * and of Godefroid's thesis), stateless: every execution runs the scenario
 * again from its start, replaying a prefix of the previous one.
 *
 * A step is what one thread does between two preemption points. While it
 * runs, the engine collects the objects it touches (xp_dpor_touch()):
 *   SIM_OBJ_MUTEX   a mutex it tries, takes or releases (sim.c)
 *   SIM_OBJ_NOLOCK  kernel code running with no mutex held: the start of a
 *                   step of a thread that is not an enclave thread and holds
 *                   none, and the release of its last one (sim.c)
 *   SIM_OBJ_KSGXD   ksgxd's wait queue, which the scenarios' waits share
 *   SIM_OBJ_LP      an LP's registers, mode and TLB: its own thread's
 *                   leaves and accesses, and IPIs sent to it
 *   SIM_OBJ_EPC     an EPC page or its EPCM entry (arch's touch hook: every
 *                   leaf, access and AEX; a SECS's hidden state is its page)
 *   SIM_OBJ_PGTABLE the process's page table, on every lookup and change
 *   SIM_OBJ_ENV     the scenario's shared state: every enclave-thread step
 * Two steps are dependent when they touch a common object, or one touches
 * SIM_OBJ_NOLOCK and the other a mutex or SIM_OBJ_ENV, or either touches
 * SIM_OBJ_GLOBAL (a step that touched more objects than are kept).
 *
 * MODEL: the relation rests on one assumption about the driver model: data
 * that two threads share outside the leaves and the page table is
 * protected by a mutex, or is touched only by code holding no mutex at some
 * point of the step (atomics such as nr_free_pages are read and written in
 * steps that take or drop a lock, which then touch SIM_OBJ_NOLOCK). Every
 * touch is treated as a write. test_x_dpor checks the assumption where it
 * can: on small scenarios DPOR reaches every final state plain DFS does.
 *
 * After each step the engine calls xp_dpor_step(): the race detection of
 * FG05 with vector clocks. For each object the step touches, the last
 * earlier step touching a conflicting object, if by another thread and not
 * ordered before this one (by program order and earlier dependences), is a
 * race: at the state before that step, this step's thread goes into the
 * backtrack set if it was enabled there, else every enabled thread does.
 * The sleep set of a state holds threads whose next step was explored from
 * an earlier sibling state and is independent of everything since; a state
 * where every enabled thread sleeps ends its execution (it is redundant).
 *
 * --shard I/N: the first XP_DPOR_SHARD_LEVELS states with a choice are
 * expanded fully (every enabled thread backtracked, no sleep set), which
 * needs no race to be seen; the executions then split by the hash of those
 * choices, and shard I keeps the prefixes whose hash is I modulo N. The N
 * shards are disjoint and together explore at least what one run does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "explore/engine.h"

static bool obj_conflict(uint64_t a, uint64_t b)
{
	unsigned int ka = SIM_OBJ_KIND(a), kb = SIM_OBJ_KIND(b);

	if (a == b || ka == SIM_OBJ_GLOBAL || kb == SIM_OBJ_GLOBAL)
		return true;
	if (ka == SIM_OBJ_NOLOCK)
		return kb == SIM_OBJ_MUTEX || kb == SIM_OBJ_ENV;
	if (kb == SIM_OBJ_NOLOCK)
		return ka == SIM_OBJ_MUTEX || ka == SIM_OBJ_ENV;
	return false;
}

bool xp_event_dependent(const struct xp_event *a, const struct xp_event *b)
{
	for (unsigned int i = 0; i < a->n; i++)
		for (unsigned int j = 0; j < b->n; j++)
			if (obj_conflict(a->obj[i], b->obj[j]))
				return true;
	return false;
}

void xp_event_touch(struct xp_event *ev, uint64_t obj)
{
	for (unsigned int i = 0; i < ev->n; i++)
		if (ev->obj[i] == obj)
			return;
	if (ev->n == XP_TOUCH_MAX) {
		ev->obj[0] = SIM_OBJ(SIM_OBJ_GLOBAL, 0);
		ev->n = 1;
		return;
	}
	if (ev->n == 1 && SIM_OBJ_KIND(ev->obj[0]) == SIM_OBJ_GLOBAL)
		return;
	ev->obj[ev->n++] = obj;
}

int xp_dpor_init(struct xp_dpor *d, unsigned int shard, unsigned int shards)
{
	memset(d, 0, sizeof(*d));
	if (shards > 1 && shard >= shards)
		return -EINVAL;
	d->shard = shard;
	d->shards = shards > 1 ? shards : 0;
	return 0;
}

void xp_dpor_destroy(struct xp_dpor *d)
{
	free(d->node);
	free(d->last);
	memset(d, 0, sizeof(*d));
}

void xp_dpor_begin(struct xp_dpor *d)
{
	d->pos = 0;
	d->branch = 0;
	d->stop = XP_DPOR_GO;
	d->nr_last = 0;
	d->next_sleep = 0;
	memset(d->tclock, 0, sizeof(d->tclock));
}

static struct xp_dpor_node *new_node(struct xp_dpor *d)
{
	if (d->len == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		struct xp_dpor_node *grown = realloc(d->node,
						     cap * sizeof(*grown));

		if (!grown)
			return NULL;
		d->node = grown;
		d->cap = cap;
	}
	return &d->node[d->len++];
}

/* The hash of the choices at the fully expanded states so far. */
static uint64_t prefix_hash(const struct xp_dpor *d)
{
	uint64_t h = 0x5348415244ULL;

	for (size_t k = 0; k < d->pos; k++)
		if (__builtin_popcount(d->node[k].enabled) > 1)
			h = xp_mix64(h ^ d->node[k].chosen);
	return h;
}

/* A state reached for the first time in this branch of the search. */
static int fresh(struct xp_dpor *d, uint32_t enabled, unsigned int current)
{
	struct xp_dpor_node *n = new_node(d);
	bool choice = __builtin_popcount(enabled) > 1;
	uint32_t awake;

	if (!n)
		return -ENOMEM;
	memset(n, 0, offsetof(struct xp_dpor_node, tev));
	n->enabled = enabled;
	n->sleep = d->next_sleep & enabled;
	for (unsigned int q = 0; q < XP_DPOR_THREADS; q++)
		if (n->sleep >> q & 1)
			n->tev[q] = d->next_tev[q];
	if (choice && d->shards && d->branch < XP_DPOR_SHARD_LEVELS) {
		n->backtrack = enabled;
		n->sleep = 0;
	}
	if (choice && d->shards && d->branch == XP_DPOR_SHARD_LEVELS &&
	    prefix_hash(d) % d->shards != d->shard)
		d->stop = XP_DPOR_PRUNED;
	awake = enabled & ~n->sleep;
	if (!awake) {
		d->stop = XP_DPOR_SLEEPING;
		awake = enabled;
	}
	if (current < XP_DPOR_THREADS && awake >> current & 1)
		n->chosen = (uint8_t)current;
	else
		n->chosen = (uint8_t)__builtin_ctz(awake);
	n->backtrack |= 1U << n->chosen;
	n->done = 1U << n->chosen;
	return 0;
}

int xp_dpor_pick(struct xp_dpor *d, const unsigned int *runnable,
		 unsigned int n, unsigned int current, unsigned int *index)
{
	uint32_t enabled = 0;
	const struct xp_dpor_node *node;
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		if (runnable[i] >= XP_DPOR_THREADS)
			return -E2BIG;
		enabled |= 1U << runnable[i];
	}
	if (d->pos < d->len) {
		if (d->node[d->pos].enabled != enabled)
			return -EPROTO; /* not deterministic */
	} else {
		ret = fresh(d, enabled, current);
		if (ret)
			return ret;
	}
	node = &d->node[d->pos++];
	d->branch += __builtin_popcount(enabled) > 1;
	for (unsigned int i = 0; i < n; i++)
		if (runnable[i] == node->chosen)
			*index = i;
	return 0;
}

/* The last step per object, for the race detection. */
static int set_last(struct xp_dpor *d, uint64_t obj, size_t k)
{
	for (size_t i = 0; i < d->nr_last; i++)
		if (d->last[i].obj == obj) {
			d->last[i].step = k;
			return 0;
		}
	if (d->nr_last == d->cap_last) {
		size_t cap = d->cap_last ? 2 * d->cap_last : 64;
		struct xp_last *grown = realloc(d->last, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		d->last = grown;
		d->cap_last = cap;
	}
	d->last[d->nr_last++] = (struct xp_last){ obj, k };
	return 0;
}

/* Step i races with this step of thread p: backtrack at the state before i. */
static void add_backtrack(struct xp_dpor_node *at, unsigned int p)
{
	if (at->enabled >> p & 1)
		at->backtrack |= 1U << p;
	else
		at->backtrack |= at->enabled;
}

/*
 * FG05's race detection for step k, with vector clocks: clock[t] is one
 * more than the index of the last step of thread t ordered before.
 */
static void detect_races(struct xp_dpor *d, size_t k)
{
	struct xp_dpor_node *node = &d->node[k];
	unsigned int p = node->chosen;
	uint32_t before[XP_DPOR_THREADS], clock[XP_DPOR_THREADS];

	memcpy(before, d->tclock[p], sizeof(before));
	memcpy(clock, before, sizeof(clock));
	for (size_t e = 0; e < d->nr_last; e++) {
		const struct xp_dpor_node *at = &d->node[d->last[e].step];
		unsigned int q = at->chosen;
		bool dep = false;

		for (unsigned int j = 0; j < node->ev.n && !dep; j++)
			dep = obj_conflict(d->last[e].obj, node->ev.obj[j]);
		if (!dep)
			continue;
		if (q != p && at->clock[q] > before[q])
			add_backtrack(&d->node[d->last[e].step], p);
		for (unsigned int t = 0; t < XP_DPOR_THREADS; t++)
			if (at->clock[t] > clock[t])
				clock[t] = at->clock[t];
	}
	clock[p] = (uint32_t)k + 1;
	memcpy(node->clock, clock, sizeof(clock));
	memcpy(d->tclock[p], clock, sizeof(clock));
}

/* The sleep set of the state after step k, if that state is new. */
static void next_sleep(struct xp_dpor *d, size_t k)
{
	const struct xp_dpor_node *node = &d->node[k];
	uint32_t asleep = (node->sleep | node->done) & ~(1U << node->chosen);

	d->next_sleep = 0;
	for (unsigned int q = 0; q < XP_DPOR_THREADS; q++) {
		if (!(asleep >> q & 1) ||
		    xp_event_dependent(&node->tev[q], &node->ev))
			continue;
		d->next_sleep |= 1U << q;
		d->next_tev[q] = node->tev[q];
	}
}

int xp_dpor_step(struct xp_dpor *d, const struct xp_event *ev)
{
	size_t k = d->pos - 1;
	struct xp_dpor_node *node = &d->node[k];

	ASSERT(d->pos && ev->thread == node->chosen);
	node->ev = *ev;
	node->tev[node->chosen] = *ev;
	detect_races(d, k);
	for (unsigned int j = 0; j < ev->n; j++)
		if (set_last(d, ev->obj[j], k))
			return -ENOMEM;
	if (d->pos == d->len)
		next_sleep(d, k);
	return 0;
}

bool xp_dpor_ours(struct xp_dpor *d)
{
	if (d->shards && d->stop != XP_DPOR_PRUNED &&
	    d->branch <= XP_DPOR_SHARD_LEVELS &&
	    prefix_hash(d) % d->shards != d->shard)
		d->stop = XP_DPOR_PRUNED;
	return d->stop != XP_DPOR_PRUNED;
}

bool xp_dpor_end(struct xp_dpor *d)
{
	for (size_t k = d->pos; k-- > 0;) {
		struct xp_dpor_node *n = &d->node[k];
		uint32_t todo = n->backtrack & ~n->done & ~n->sleep;

		if (!todo)
			continue;
		n->chosen = (uint8_t)__builtin_ctz(todo);
		n->done |= 1U << n->chosen;
		d->len = k + 1;
		return true;
	}
	d->len = 0;
	return false;
}
