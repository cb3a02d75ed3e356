/* SPDX-License-Identifier: MIT */
/*
 * The platform interface: the only way the kernel model reaches threads,
 * time and CPUs (architecture.md section 2). Two implementations exist:
 * sim (coroutines on one OS thread, deterministic, src/platform/sim.c) and,
 * later, native (pthreads and signals, for the runner).
 */
#ifndef SGXEMU_PLATFORM_H
#define SGXEMU_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

struct sgx_lp;

/*
 * One platform mutex. impl is the platform's own; the counters are kept by
 * the platform for the driver's statistics (architecture.md section 6):
 * longest_hold is in the platform's time unit (sim: virtual cycles).
 */
struct sgx_mutex {
	uint64_t impl[3];
	uint64_t acquisitions;
	uint64_t longest_hold;
};

/* A set of logical processors, by LP id. */
#define SGX_CPUMASK_WORDS 4
struct sgx_cpumask {
	uint64_t bits[SGX_CPUMASK_WORDS];
};

static inline void sgx_cpumask_set(struct sgx_cpumask *m, unsigned int cpu)
{
	m->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline void sgx_cpumask_clear(struct sgx_cpumask *m, unsigned int cpu)
{
	m->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

static inline bool sgx_cpumask_test(const struct sgx_cpumask *m,
				    unsigned int cpu)
{
	return m->bits[cpu / 64] >> (cpu % 64) & 1;
}

/*
 * The kernel's own work that the cost model prices (src/platform/cost.h):
 * the kernel says what it did, the platform decides what it costs.
 */
enum sgx_cost_event {
	SGX_COST_SYSCALL, /* entry to and return from one ioctl */
	SGX_COST_PAGE_LOOKUP, /* xa_load() of an enclave page, and its checks */
	/*
	 * Per page of an EDMM walk: signal_pending(), cond_resched() and
	 * sgx_reclaim_direct()'s watermark test.
	 */
	SGX_COST_LOOP_CHECKS,
	SGX_COST_EVENTS,
};

struct sgx_platform {
	void *ctx;
	void (*mutex_init)(void *ctx, struct sgx_mutex *m);
	void (*mutex_lock)(void *ctx, struct sgx_mutex *m);
	void (*mutex_unlock)(void *ctx, struct sgx_mutex *m);
	/* The logical processor the caller runs on. */
	struct sgx_lp *(*this_lp)(void *ctx);
	/* A preemption point: another thread may run here. */
	void (*preempt)(void *ctx);
	/* signal_pending(current), for the per-page checks. */
	bool (*signal_pending)(void *ctx);
	/*
	 * on_each_cpu_mask(mask, empty, wait=1): interrupt every LP in mask
	 * (an LP in enclave mode takes an AEX) and wait for all of them.
	 */
	void (*ipi)(void *ctx, const struct sgx_cpumask *mask);
	/* Charge one event to the caller's LP clock (the cost model). */
	void (*charge)(void *ctx, enum sgx_cost_event event);
	/* ksgxd's wait queue: sleep until woken, and wake it. */
	void (*ksgxd_sleep)(void *ctx);
	void (*ksgxd_wake)(void *ctx);
};

#endif
