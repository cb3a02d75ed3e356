/* SPDX-License-Identifier: MIT */
/*
 * The sim platform: every simulated thread (ioctl callers, ksgxd, enclave
 * threads) is a coroutine on one OS thread, pinned to one logical processor.
 * A thread runs until it reaches a preemption point; the scheduler then asks
 * a chooser which runnable thread goes next. Given the same chooser answers
 * a run is reproduced exactly, which is what the explorer and the
 * benchmarks build on. Each LP has a virtual clock that the cost model
 * charges.
 */
#ifndef SGXEMU_PLATFORM_SIM_H
#define SGXEMU_PLATFORM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "platform/cost.h"
#include "sgxemu/platform.h"

#define SIM_THREADS_MAX 32

enum sim_thread_state {
	SIM_RUNNABLE,
	SIM_BLOCKED, /* on a mutex */
	SIM_SLEEPING, /* ksgxd waiting to be woken */
	SIM_DONE,
};

struct sim_thread {
	unsigned int id;
	const char *name;
	struct sgx_lp *lp;
	bool daemon; /* the run may end while it sleeps */
	unsigned int held; /* mutexes it holds */
	bool signal_pending;
	enum sim_thread_state state;
	const struct sgx_mutex *blocked_on;
	void (*fn)(void *arg);
	void *arg;
	void *sp; /* saved stack pointer while switched out */
	void *stack;
	size_t stack_size;
	void *asan_fake_stack;
};

/*
 * Choose the next thread: runnable[] holds the ids of the runnable threads
 * in increasing order (n >= 1), current is the id of the thread that just
 * yielded (or SIM_NONE). Returns an index into runnable[].
 */
#define SIM_NONE UINT32_MAX
typedef unsigned int (*sim_choose_fn)(void *ctx, const unsigned int *runnable,
				      unsigned int n, unsigned int current);
/* The default chooser: the next runnable thread after current, in id order. */
unsigned int sim_choose_round_robin(void *ctx, const unsigned int *runnable,
				    unsigned int n, unsigned int current);

/*
 * Calls out of the scheduler, for the explorer; each may be NULL. step runs
 * after every step (the chosen thread has yielded back or finished), before
 * the next decision: returning false ends sim_run() with -ECANCELED, which
 * leaves the unfinished threads suspended where they were. ipi runs for
 * every LP an IPI reaches; aex says it forced the LP out of enclave mode.
 */
struct sim_hooks {
	void *ctx;
	bool (*step)(void *ctx);
	void (*ipi)(void *ctx, const struct sgx_lp *lp, bool aex);
	/*
	 * The running thread touches a shared object (SIM_OBJ_*): a mutex it
	 * tries, takes or releases, ksgxd's wait queue, the point where it
	 * holds no mutex any more. The explorer's dependency relation.
	 */
	void (*touch)(void *ctx, uint64_t object);
};

/* Objects for sim_hooks.touch: the kind in the top byte. */
#define SIM_OBJ_KIND(o) ((o) >> 56)
#define SIM_OBJ(kind, n) ((uint64_t)(kind) << 56 | ((n) & ((1ULL << 56) - 1)))
enum sim_obj_kind {
	SIM_OBJ_MUTEX = 1, /* n: the mutex's address */
	SIM_OBJ_NOLOCK, /* kernel code holding no mutex (see explore/dpor.c) */
	SIM_OBJ_KSGXD, /* ksgxd's wait queue */
	SIM_OBJ_LP, /* n: an LP's id: its registers, mode and TLB */
	SIM_OBJ_EPC, /* n: an EPC page's index */
	SIM_OBJ_PGTABLE, /* the process's page table */
	SIM_OBJ_ENV, /* n: a part of a scenario's own state */
	SIM_OBJ_GLOBAL, /* everything */
};

struct sim_stats {
	uint64_t steps; /* scheduling decisions */
	uint64_t switches; /* decisions that changed the running thread */
	uint64_t ipi_rounds;
	uint64_t ipis; /* one per target LP */
	uint64_t ipi_aex; /* AEXs the IPIs caused */
	uint64_t ipi_wait; /* cycles senders waited for IPI rounds */
};

struct sim {
	struct sgx_cpu *cpu;
	struct sgx_platform plat;
	struct sim_thread threads[SIM_THREADS_MAX];
	unsigned int nr_threads;
	struct sim_thread *current; /* NULL while the scheduler runs */
	unsigned int direct_lp; /* the LP of calls outside sim_run (0) */
	unsigned int last; /* id of the thread of the last step, or SIM_NONE */
	void *sched_sp;
	void *asan_sched_fake_stack;
	sim_choose_fn choose;
	void *choose_ctx;
	uint64_t steps_max; /* 0: unbounded */
	uint64_t clock[SGX_LPS_MAX]; /* virtual cycles per LP */
	const struct sgx_costs *costs; /* NULL: nothing is charged */
	struct sim_stats stats;
	struct sim_hooks hooks;
};

/* Returns 0. The default chooser is round robin. */
int sim_init(struct sim *s, struct sgx_cpu *cpu);
/*
 * Free the threads, finished or not. Their stacks go to a small per-OS-thread
 * pool that later sim_spawn() calls reuse, so that the explorer's many short
 * runs do not map, fault in and unmap fresh stacks every time.
 */
void sim_destroy(struct sim *s);
/* Add a thread pinned to LP lp. Returns its id, or -EINVAL / -ENOMEM. */
int sim_spawn(struct sim *s, const char *name, unsigned int lp, bool daemon,
	      void (*fn)(void *arg), void *arg);
/*
 * Run until every non-daemon thread is done: 0. If no thread can run but
 * some are not done: -EDEADLK. If steps_max is reached: -E2BIG. If the step
 * hook says stop: -ECANCELED.
 */
int sim_run(struct sim *s);
/*
 * Price everything from now on with costs (kept by the caller): every leaf
 * of the CPU (through its leaf hook; both CPU hooks must be free), mutex
 * operations,
 * IPI rounds and the kernel's charged events, each on the clock of the LP
 * that does the work. Returns 0, or -EBUSY if the CPU's hooks are taken.
 */
int sim_set_costs(struct sim *s, const struct sgx_costs *costs);
/* A preemption point for the running thread. */
void sim_yield(struct sim *s);
/* The running thread, or NULL outside sim_run. */
struct sim_thread *sim_current(const struct sim *s);

#endif
