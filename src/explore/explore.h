/* SPDX-License-Identifier: MIT */
/*
 * The systematic schedule explorer (architecture.md sections 2-3). A
 * scenario builds one machine (CPU, sim platform, driver, enclave) and
 * spawns its sim threads; the explorer runs it many times, each time letting
 * a strategy answer the scheduler's "who runs next?", checks the invariants
 * after every step, and reports each violation with the schedule that
 * replays it bit for bit.
 *
 * Layering: explore/ sits above kernel/, platform/sim and arch/; the
 * scenarios act as user space (ioctls, mmaps) and as enclave threads
 * (scripted ENCLU sequences) on top of them.
 */
#ifndef SGXEMU_EXPLORE_H
#define SGXEMU_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "kernel/driver.h"
#include "platform/sim.h"

struct xp_trace;

/* One execution's machine. Scenarios may keep their own state in priv. */
struct xp_world {
	struct sgx_cpu cpu;
	struct sim sim;
	struct sgx_driver drv;
	struct sgx_mm *mm;
	struct sgx_file *file;
	void *priv;
	/* Filled by scenarios and by the driver invariants: */
	char violation[256]; /* first violation seen, "" if none */
	/*
	 * Set by the explorer before build, from the options or the replayed
	 * schedule: the driver's etrack_batch for the enclave, and which
	 * planted bugs to switch on (0 but in SGXEMU_PLANTS builds).
	 */
	unsigned int etrack_batch;
	unsigned int plants;
	bool no_loop_checks; /* the driver's no_loop_checks (Linux 6.12) */
	/*
	 * Set by the explorer before build (x2, additive): this execution's
	 * data seed, the source of every random choice a scenario makes by
	 * itself (an adversary's leaves, say). The schedule string must carry
	 * it, so that a replay makes the same choices; a fixed value (such as
	 * xp_options.seed) for every execution of a DFS is fine.
	 */
	uint64_t seed;
	/* The explorer's trace, for xp_trace_span(): set after build. */
	struct xp_trace *trace;
	/*
	 * Sim threads (bit per id) that are enclave threads: user code, so
	 * DPOR does not count their steps as kernel code (see dpor.c). And
	 * threads that report every object they share through xp_touch()
	 * beyond what sim and arch report (the self-tests' programs).
	 */
	uint32_t user_threads, declared_threads;
	/* The engine, for xp_touch(): set after build. */
	void *engine;
};

/* The running step touches a scenario object (SIM_OBJ_ENV...): DPOR. */
void xp_touch(struct xp_world *w, uint64_t object);

/*
 * Mark the start (begin) or the end of a span of the running sim thread in
 * the replay's Chrome trace, such as an ioctl. name must be a string
 * constant. Does nothing unless a trace is being written.
 */
void xp_trace_span(struct xp_world *w, const char *name, bool begin);

struct xp_scenario {
	const char *name;
	const char *summary;
	/*
	 * Build the machine in w (w->cpu and w->sim are not yet initialized:
	 * the scenario chooses the CPU size) and spawn the sim threads. The
	 * explorer installs its chooser after build returns and before
	 * sim_run(). Returns 0 or -errno (after undoing its own work).
	 * The explorer zeroes *w before every build. Memory worth reusing
	 * across executions is kept outside w: above all the CPU, since
	 * mapping and faulting in a fresh EPC costs about 1 ms on the
	 * reference machine (keep the last one, copy it into w->cpu and
	 * sgx_cpu_reset(&w->cpu), which also fixes its LPs' back pointers).
	 */
	int (*build)(struct xp_world *w);
	/* After every step: NULL, or a description of the violation. */
	const char *(*check_step)(struct xp_world *w);
	/* After the run (sim_run's result given): NULL or a violation. */
	const char *(*check_end)(struct xp_world *w, int run_result);
	/*
	 * Also called after a run the explorer ended early (a violation, a
	 * deadlock, steps_max): threads may then be suspended anywhere, with
	 * mutexes held.
	 */
	void (*destroy)(struct xp_world *w);
};

/* The registry of scenarios (scenarios.c). */
const struct xp_scenario *xp_scenario_find(const char *name);
const struct xp_scenario *xp_scenario_at(size_t i); /* NULL past the end */

enum xp_strategy { XP_RANDOM, XP_PCT, XP_DFS, XP_REPLAY, XP_DPOR };

struct xp_options {
	const struct xp_scenario *scenario;
	enum xp_strategy strategy;
	uint64_t executions; /* upper bound; DFS may finish earlier */
	uint64_t seed;
	unsigned int preemptions; /* DFS preemption bound, or XP_UNBOUNDED */
	unsigned int depth; /* PCT: bug depth d, 1..XP_PCT_DEPTH_MAX */
	uint64_t steps_max; /* per execution; beyond it: livelock violation */
	unsigned int etrack_batch; /* the driver's setting (batched-ETRACK issue) */
	bool no_loop_checks; /* no per-page signal/resched checks (Linux) */
	/* Progress, called now and then; may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t violations);
	void *progress_ctx;
	unsigned int plants; /* SGXEMU_PLANTS builds: planted bugs to enable */
	bool stop_on_violation; /* end the exploration at the first one */
	/*
	 * After every execution, may be NULL: its schedule (replayable), its
	 * trace hash and its violation (NULL if none). Setting it costs an
	 * encoded schedule per execution.
	 */
	void (*on_execution)(void *ctx, const char *schedule, uint64_t hash,
			     const char *violation);
	void *on_execution_ctx;
	/*
	 * Worker processes sharing the executions (random and PCT, without
	 * on_execution), 1..XP_JOBS_MAX; 0 or 1: this process alone. Random
	 * gives the same results with any number; PCT's step estimate k is
	 * per worker. Workers are forked: memory a scenario keeps across
	 * executions must not be MAP_SHARED from before the fork (a kept
	 * CPU's EPC is), or the workers would share it.
	 */
	unsigned int jobs;
	/*
	 * DFS and DPOR: explore part shard of shards (1 or 0: everything).
	 * The parts are disjoint and together cover the whole space.
	 */
	unsigned int shard, shards;
};

#define XP_UNBOUNDED UINT32_MAX
#define XP_JOBS_MAX 64
#define XP_PCT_DEPTH_MAX 32
#define XP_STEPS_MAX_DEFAULT 200000 /* when xp_options.steps_max is 0 */

struct xp_result {
	uint64_t executions;
	uint64_t distinct; /* distinct schedules (by trace hash) */
	uint64_t violations;
	bool complete; /* DFS explored its whole bounded space */
	char schedule[4096]; /* the first violating schedule, replayable */
	char message[256]; /* what it violated */
	uint64_t first_violation; /* 1-based execution of it; 0: none */
	uint64_t steps; /* scheduling steps over all executions */
	uint64_t steps_max_seen; /* the longest execution, in steps */
	uint64_t sleep_blocked; /* DPOR: executions a sleep set ended early */
};

/* Explore; returns 0, or -errno for bad options. */
int xp_explore(const struct xp_options *opt, struct xp_result *res);

/*
 * Replay a schedule string exactly. trace_json may be NULL; else the run is
 * written there as Chrome trace-event JSON. Returns 0 or -errno; the result
 * tells whether the replay violated anything, and its trace hash.
 */
int xp_replay(const char *schedule, const char *trace_json,
	      struct xp_result *res, uint64_t *trace_hash);
/* The same against a given scenario, whose name the schedule must carry. */
int xp_replay_scenario(const struct xp_scenario *sc, const char *schedule,
		       const char *trace_json, struct xp_result *res,
		       uint64_t *trace_hash);

#endif
