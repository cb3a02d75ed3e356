/* SPDX-License-Identifier: MIT */
/*
 * The explorer engine's own interfaces, shared by explore.c (the execution
 * loop), strategy.c (the choosers), schedule.c (schedule strings) and
 * trace.c (trace hash and Chrome trace). Scenarios see explore.h only.
 *
 * The engine's view of a run: sim asks "who runs next?" at every step; the
 * engine answers through a strategy, records the answer whenever more than
 * one thread could run (those answers are the schedule), feeds every step,
 * leaf, enclave access and IPI to the trace hash, and checks the scenario's
 * invariants after every step.
 */
#ifndef SGXEMU_EXPLORE_ENGINE_H
#define SGXEMU_EXPLORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "explore/explore.h"

/* splitmix64 (Steele, Lea, Flood, OOPSLA 2014): tiny, fast, seedable. */
struct xp_rng {
	uint64_t state;
};

static inline uint64_t xp_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t xp_rng_next(struct xp_rng *r)
{
	r->state += 0x9e3779b97f4a7c15ULL;
	return xp_mix64(r->state);
}

/* Uniform enough below n <= SIM_THREADS_MAX: the bias is under 2^-58. */
static inline unsigned int xp_rng_below(struct xp_rng *r, unsigned int n)
{
	return (unsigned int)(xp_rng_next(r) % n);
}

/*
 * The choices of one execution: the id of the thread picked at each step
 * where more than one thread was runnable. With the scenario, that is all a
 * replay needs, whichever strategy made the choices.
 */
struct xp_choices {
	uint8_t *id;
	size_t len, cap;
};

#define XP_CHOICES_MAX (1U << 24)

int xp_choices_push(struct xp_choices *c, unsigned int id);
void xp_choices_free(struct xp_choices *c);

/* schedule.c: a schedule and its string form. */
#define XP_NAME_MAX 64

struct xp_schedule {
	char scenario[XP_NAME_MAX];
	unsigned int etrack_batch;
	bool no_loop_checks;
	unsigned int plants;
	uint64_t steps_max;
	uint64_t seed; /* the scenario's data seed, xp_world.seed */
	struct xp_choices choices;
};

/* The string into buf: its length, or -ENOSPC / -EINVAL (bad name). */
int xp_schedule_encode(const struct xp_schedule *s, char *buf, size_t size);
/* Parse text into s (whose choices it replaces): 0, -EINVAL or -ENOMEM. */
int xp_schedule_parse(const char *text, struct xp_schedule *s);
bool xp_scenario_name_valid(const char *name);

/* dpor.c: what one step touched (SIM_OBJ_* objects, platform/sim.h). */
#define XP_TOUCH_MAX 24
#define XP_DPOR_THREADS 8
#define XP_DPOR_SHARD_LEVELS 6

struct xp_event {
	uint8_t thread;
	uint8_t n;
	uint64_t obj[XP_TOUCH_MAX];
};

void xp_event_touch(struct xp_event *ev, uint64_t obj);
bool xp_event_dependent(const struct xp_event *a, const struct xp_event *b);

/* One state of the current execution's path, and the step taken from it. */
struct xp_dpor_node {
	uint32_t enabled, backtrack, done, sleep; /* thread masks */
	uint8_t chosen;
	struct xp_event ev;
	uint32_t clock[XP_DPOR_THREADS]; /* vector clock of ev */
	/* The next steps of the threads asleep here or already done. */
	struct xp_event tev[XP_DPOR_THREADS];
};

struct xp_last {
	uint64_t obj;
	size_t step;
};

enum xp_dpor_stop { XP_DPOR_GO, XP_DPOR_SLEEPING, XP_DPOR_PRUNED };

struct xp_dpor {
	struct xp_dpor_node *node;
	size_t len, cap, pos;
	unsigned int branch; /* states with a choice passed so far */
	enum xp_dpor_stop stop; /* end this execution early, and why */
	unsigned int shard, shards; /* shards 0: no sharding */
	uint32_t tclock[XP_DPOR_THREADS][XP_DPOR_THREADS];
	struct xp_last *last;
	size_t nr_last, cap_last;
	uint32_t next_sleep;
	struct xp_event next_tev[XP_DPOR_THREADS];
};

int xp_dpor_init(struct xp_dpor *d, unsigned int shard, unsigned int shards);
void xp_dpor_destroy(struct xp_dpor *d);
void xp_dpor_begin(struct xp_dpor *d);
/* The index into runnable[] to run: 0 or -ENOMEM, -EPROTO, -E2BIG. */
int xp_dpor_pick(struct xp_dpor *d, const unsigned int *runnable,
		 unsigned int n, unsigned int current, unsigned int *index);
/* After the step just picked, which touched ev: 0 or -ENOMEM. */
int xp_dpor_step(struct xp_dpor *d, const struct xp_event *ev);
/* After an execution: whether this shard counts it (see dpor.c). */
bool xp_dpor_ours(struct xp_dpor *d);
/* After an execution: false when the exploration is complete. */
bool xp_dpor_end(struct xp_dpor *d);

/* strategy.c: one chooser per exploration, reset for every execution. */
struct xp_dfs_level {
	uint8_t choice; /* ordinal among the options allowed at this level */
	uint8_t count; /* options allowed at this level, at least 2 */
};

struct xp_chooser {
	enum xp_strategy strategy;
	uint64_t seed;
	uint64_t execution; /* index of the current one in the exploration */
	uint64_t step; /* decisions so far in this execution */
	struct xp_rng rng;
	/* Replay: the choices to follow, and where we are in them. */
	const struct xp_choices *replay;
	size_t replay_pos;
	bool diverged; /* a recorded thread was not runnable */
	int error; /* -ENOMEM, or -EPROTO: a scenario was not deterministic */
	/* DFS: the path of the current execution (see strategy.c). */
	unsigned int preemption_bound;
	unsigned int preemptions; /* used so far in this execution */
	struct xp_dfs_level *level;
	size_t levels, level_cap, level_pos;
	/* PCT: priorities by thread id, change points by number. */
	unsigned int depth;
	uint64_t steps_longest; /* the longest execution so far */
	uint64_t k; /* this execution's step estimate */
	unsigned int change_points; /* in use: min(depth - 1, k) */
	unsigned int priority[SIM_THREADS_MAX];
	uint64_t change_point[XP_PCT_DEPTH_MAX];
	struct xp_dpor dpor;
	/* DFS --shard: the subtrees kept, by the hash of their first levels. */
	unsigned int shard, shards;
	bool pruned; /* this execution is another shard's */
};

/* 0, or -EINVAL / -ENOMEM; replay is used by XP_REPLAY only. */
int xp_chooser_init(struct xp_chooser *c, const struct xp_options *opt,
		    const struct xp_choices *replay);
void xp_chooser_destroy(struct xp_chooser *c);
/* Before execution number execution, whose sim has nr_threads threads. */
void xp_chooser_begin(struct xp_chooser *c, unsigned int nr_threads,
		      uint64_t execution);
/* The sim_choose_fn answer. */
unsigned int xp_chooser_pick(struct xp_chooser *c, const unsigned int *runnable,
			     unsigned int n, unsigned int current);
/*
 * After an execution, before it is counted: whether it belongs to this
 * shard (an execution stopped in another shard's subtree does not).
 */
bool xp_chooser_ours(struct xp_chooser *c);
/*
 * After an execution of steps steps: false when no execution is left (DFS
 * explored its whole bounded space).
 */
bool xp_chooser_end(struct xp_chooser *c, uint64_t steps);

/* trace.c: the trace hash, and the recorded events of a replay. */
struct xp_trace_event;

struct xp_trace {
	uint64_t hash;
	const struct sim *sim; /* the run's scheduler: who is running */
	bool record; /* keep the events for the Chrome trace */
	int error; /* -ENOMEM if an event could not be recorded */
	struct xp_trace_event *event;
	size_t len, cap;
	/* Per LP, for the enclave spans of the LP tracks: */
	bool inside[SGX_LPS_MAX];
	unsigned int last_enclu[SGX_LPS_MAX];
};

void xp_trace_reset(struct xp_trace *t, const struct sim *sim, bool record);
void xp_trace_free(struct xp_trace *t);
void xp_trace_step(struct xp_trace *t, unsigned int thread);
void xp_trace_leaf(struct xp_trace *t, const struct sgx_lp *lp,
		   enum sgx_leaf_class cls, unsigned int leaf);
void xp_trace_access(struct xp_trace *t, const struct sgx_lp *lp,
		     uint64_t lin);
void xp_trace_ipi(struct xp_trace *t, const struct sgx_lp *lp, bool aex);
/* The final hash, after the run. */
uint64_t xp_trace_finish(struct xp_trace *t);
/* Write the recorded run as Chrome trace-event JSON: 0 or -errno. */
int xp_trace_write_json(const struct xp_trace *t, const struct sim *sim,
			const char *scenario, const char *path);

#endif
