// SPDX-License-Identifier: MIT
/*
 * The strategies: each answers sim's "which runnable thread goes next?"
 * (sim_choose_fn) for one execution after another.
 *
 * random  Every choice uniform among the runnable threads, from a PRNG
 *         seeded by (seed, execution index), so any execution can be redone
 *         on its own.
 *
 * pct     Probabilistic Concurrency Testing: S. Burckhardt, P. Kothari,
 *         M. Musuvathi, S. Nagarakatte, "A Randomized Scheduler with
 *         Probabilistic Guarantees of Finding Bugs", ASPLOS 2010. The n
 *         threads get distinct random priorities d..d+n-1; d-1 change points
 *         k_1..k_{d-1} are drawn from the steps 1..k; the runnable thread of
 *         highest priority always runs, and at step k_i the thread about to
 *         run drops to priority i, below every initial one. A bug of depth d
 *         is then hit with probability at least 1/(n k^(d-1)) per execution.
 *         Deviations from the paper:
 *         - a step is one scheduling decision of sim (a preemption point),
 *           not one instruction;
 *         - k is not known in advance: it is the longest execution seen so
 *           far (PCT_STEPS_FIRST for the first), as in Coyote and Shuttle;
 *         - the change point demotes the thread that would run step k_i
 *           before that step, not after it (also as Coyote and Shuttle);
 *         - the change points are distinct and at most k of them;
 *         - past step k every choice is uniform random: the guarantee is for
 *           bugs within k steps anyway, and strict priorities beyond could
 *           starve the thread a higher one waits for, which would turn a
 *           retry loop into a false livelock.
 *
 * dfs     Every schedule with at most a given number of preemptions, depth
 *         first, as CHESS does (M. Musuvathi, S. Qadeer, "Iterative Context
 *         Bounding for Systematic Testing of Multithreaded Programs", PLDI
 *         2007). A preemption is a switch away from a thread that could have
 *         gone on; a switch from a thread that blocked, slept or finished is
 *         free. The whole state is the path: for each decision with more
 *         than one allowed option, the option taken and how many there
 *         were. After an execution the deepest level with an untried option
 *         advances and everything below it is dropped; the next execution
 *         follows the path and extends it with first options. When no level
 *         can advance, the bounded space is complete.
 *
 * replay  The recorded choices of a schedule string. Past their end it
 *         lets the running thread go on, or else the lowest runnable id.
 *
 * dpor    Dynamic partial-order reduction with sleep sets (dpor.c).
 *
 * --shard I/N (dfs, dpor): the first XP_DPOR_SHARD_LEVELS levels with a
 *         choice decide the shard: shard I keeps the subtrees whose hash of
 *         those choices is I modulo N; an execution that reaches another
 *         shard's subtree stops there, uncounted, and the subtree is skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "explore/engine.h"

#define PCT_STEPS_FIRST 1000

int xp_chooser_init(struct xp_chooser *c, const struct xp_options *opt,
		    const struct xp_choices *replay)
{
	memset(c, 0, sizeof(*c));
	c->strategy = opt->strategy;
	c->seed = opt->seed;
	c->preemption_bound = opt->preemptions;
	c->depth = opt->depth;
	c->replay = replay;
	c->shard = opt->shard;
	c->shards = opt->shards > 1 ? opt->shards : 0;
	if (c->shards && c->shard >= c->shards)
		return -EINVAL;
	switch (opt->strategy) {
	case XP_DPOR:
		return xp_dpor_init(&c->dpor, opt->shard, opt->shards);
	case XP_RANDOM:
		return c->shards ? -EINVAL : 0;
	case XP_DFS:
		return 0;
	case XP_PCT:
		return opt->depth && opt->depth <= XP_PCT_DEPTH_MAX &&
		       !c->shards ? 0 : -EINVAL;
	case XP_REPLAY:
		return replay && !c->shards ? 0 : -EINVAL;
	}
	return -EINVAL;
}

void xp_chooser_destroy(struct xp_chooser *c)
{
	xp_dpor_destroy(&c->dpor);
	free(c->level);
	memset(c, 0, sizeof(*c));
}

/* The index of the running thread in runnable[], or -1. */
static int running_index(const unsigned int *runnable, unsigned int n,
			 unsigned int current)
{
	for (unsigned int i = 0; i < n; i++)
		if (runnable[i] == current)
			return (int)i;
	return -1;
}

/*
 * Floyd's sampling of m distinct values from 1..k, in m draws: for
 * j = k-m+1..k take t in 1..j, or j itself if t was taken already.
 */
static void pct_change_points(struct xp_chooser *c)
{
	uint64_t m = c->depth - 1;

	if (m > c->k)
		m = c->k;
	c->change_points = (unsigned int)m;
	for (uint64_t j = c->k - m + 1, i = 0; i < m; j++, i++) {
		uint64_t t = 1 + xp_rng_next(&c->rng) % j;

		for (uint64_t p = 0; p < i; p++)
			if (c->change_point[p] == t)
				t = j;
		c->change_point[i] = t;
	}
}

/* Priorities d..d+n-1 over the threads, shuffled (Fisher-Yates). */
static void pct_begin(struct xp_chooser *c, unsigned int nr_threads)
{
	for (unsigned int i = 0; i < nr_threads; i++)
		c->priority[i] = c->depth + i;
	for (unsigned int i = nr_threads; i > 1; i--) {
		unsigned int j = xp_rng_below(&c->rng, i);
		unsigned int p = c->priority[i - 1];

		c->priority[i - 1] = c->priority[j];
		c->priority[j] = p;
	}
	c->k = c->steps_longest ? c->steps_longest : PCT_STEPS_FIRST;
	pct_change_points(c);
}

void xp_chooser_begin(struct xp_chooser *c, unsigned int nr_threads,
		      uint64_t execution)
{
	ASSERT(nr_threads <= SIM_THREADS_MAX);
	c->execution = execution;
	c->step = 0;
	c->preemptions = 0;
	c->level_pos = 0;
	c->replay_pos = 0;
	c->diverged = false;
	c->pruned = false;
	if (c->strategy == XP_DPOR)
		xp_dpor_begin(&c->dpor);
	c->rng.state = xp_mix64(c->seed ^ xp_mix64(c->execution));
	if (c->strategy == XP_PCT)
		pct_begin(c, nr_threads);
}

static unsigned int pct_highest(const struct xp_chooser *c,
				const unsigned int *runnable, unsigned int n)
{
	unsigned int best = 0;

	for (unsigned int i = 1; i < n; i++)
		if (c->priority[runnable[i]] > c->priority[runnable[best]])
			best = i;
	return best;
}

static unsigned int pct_pick(struct xp_chooser *c, const unsigned int *runnable,
			     unsigned int n)
{
	unsigned int best = pct_highest(c, runnable, n);

	for (unsigned int i = 0; i < c->change_points; i++) {
		if (c->change_point[i] != c->step)
			continue;
		c->priority[runnable[best]] = i + 1;
		best = pct_highest(c, runnable, n);
	}
	if (c->step > c->k && n > 1)
		return xp_rng_below(&c->rng, n);
	return best;
}

/* The shard of a DFS path by its first levels (at most levels of them). */
static bool dfs_ours(const struct xp_chooser *c, size_t levels)
{
	uint64_t h = 0x5348415244ULL;

	for (size_t i = 0; i < levels && i < XP_DPOR_SHARD_LEVELS; i++)
		h = xp_mix64(h ^ c->level[i].choice);
	return h % c->shards == c->shard;
}

/* A new level just below the shard levels: skip it unless it is ours. */
static void dfs_shard(struct xp_chooser *c)
{
	if (dfs_ours(c, XP_DPOR_SHARD_LEVELS))
		return;
	c->pruned = true;
	c->level[c->levels - 1].choice = (uint8_t)(c->level[c->levels - 1].count - 1);
}

/* The option to take at the next DFS level, which offers count of them. */
static unsigned int dfs_level(struct xp_chooser *c, unsigned int count)
{
	struct xp_dfs_level *l;

	if (c->level_pos < c->levels) {
		l = &c->level[c->level_pos++];
		if (l->count != count) {
			c->error = -EPROTO;
			return 0;
		}
		return l->choice;
	}
	if (c->levels == c->level_cap) {
		size_t cap = c->level_cap ? 2 * c->level_cap : 256;
		struct xp_dfs_level *grown = realloc(c->level,
						     cap * sizeof(*grown));

		if (!grown) {
			c->error = -ENOMEM;
			return 0;
		}
		c->level = grown;
		c->level_cap = cap;
	}
	c->level[c->levels++] = (struct xp_dfs_level){ 0, (uint8_t)count };
	c->level_pos++;
	if (c->shards && c->levels == XP_DPOR_SHARD_LEVELS + 1)
		dfs_shard(c);
	return 0;
}

/*
 * The options, in order: the running thread (no preemption), then every
 * other runnable thread by id, each a preemption and allowed only while
 * the bound is not used up. A thread that cannot go on leaves every
 * runnable thread as a free option.
 */
static unsigned int dfs_pick(struct xp_chooser *c, const unsigned int *runnable,
			     unsigned int n, unsigned int current)
{
	int cur = running_index(runnable, n, current);
	unsigned int count = n, option;

	if (cur >= 0 && c->preemptions >= c->preemption_bound)
		count = 1;
	if (count == 1)
		return cur >= 0 ? (unsigned int)cur : 0;
	option = dfs_level(c, count);
	if (cur < 0)
		return option;
	if (!option)
		return (unsigned int)cur;
	c->preemptions++;
	return option - 1 < (unsigned int)cur ? option - 1 : option;
}

/* After the recorded choices: the running thread, or the lowest id. */
static unsigned int default_pick(const unsigned int *runnable, unsigned int n,
				 unsigned int current)
{
	int cur = running_index(runnable, n, current);

	return cur >= 0 ? (unsigned int)cur : 0;
}

static unsigned int replay_pick(struct xp_chooser *c,
				const unsigned int *runnable, unsigned int n,
				unsigned int current)
{
	int k;

	if (c->replay_pos == c->replay->len)
		return default_pick(runnable, n, current);
	k = running_index(runnable, n, c->replay->id[c->replay_pos++]);
	if (k < 0) {
		c->diverged = true;
		return 0;
	}
	return (unsigned int)k;
}

unsigned int xp_chooser_pick(struct xp_chooser *c, const unsigned int *runnable,
			     unsigned int n, unsigned int current)
{
	ASSERT(n >= 1);
	c->step++;
	switch (c->strategy) {
	case XP_DPOR: {
		unsigned int k = 0;
		int ret = xp_dpor_pick(&c->dpor, runnable, n, current, &k);

		if (ret)
			c->error = ret;
		return k;
	}
	case XP_PCT:
		return pct_pick(c, runnable, n);
	case XP_DFS:
		return dfs_pick(c, runnable, n, current);
	case XP_REPLAY:
		return n > 1 ? replay_pick(c, runnable, n, current) : 0;
	case XP_RANDOM:
		break;
	}
	return n > 1 ? xp_rng_below(&c->rng, n) : 0;
}

/* Drop the exhausted levels at the bottom, advance the deepest other one. */
static bool dfs_backtrack(struct xp_chooser *c)
{
	struct xp_dfs_level *l;

	for (c->levels = c->level_pos; c->levels; c->levels--) {
		l = &c->level[c->levels - 1];
		if (l->choice + 1 < l->count) {
			l->choice++;
			return true;
		}
	}
	return false;
}

bool xp_chooser_ours(struct xp_chooser *c)
{
	if (c->strategy == XP_DPOR)
		return xp_dpor_ours(&c->dpor);
	if (c->strategy != XP_DFS || !c->shards)
		return true;
	if (!c->pruned && c->level_pos <= XP_DPOR_SHARD_LEVELS)
		c->pruned = !dfs_ours(c, c->level_pos);
	return !c->pruned;
}

bool xp_chooser_end(struct xp_chooser *c, uint64_t steps)
{
	if (steps > c->steps_longest)
		c->steps_longest = steps;
	if (c->strategy == XP_DFS)
		return dfs_backtrack(c);
	if (c->strategy == XP_DPOR)
		return xp_dpor_end(&c->dpor);
	return c->strategy != XP_REPLAY;
}
