/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's workload: one EDMM call over a range of N pages of an
 * enclave, on a machine of C simulated CPUs where T of them run enclave
 * threads, priced by the cost model (src/platform/cost.h) on the sim
 * platform's virtual clocks.
 *
 * The machine: the caller on LP 0; enclave threads inside the enclave on
 * LPs 1..T, each on its own TCS. An IPI forces a thread out (AEX) and the
 * thread's AEP handler re-enters at once (ERESUME), as any enclave runtime
 * does. MODEL: that ERESUME happens before the caller's next instruction,
 * so every IPI of a call finds every thread inside; the threads do no
 * other work, so the cycles their LPs are charged are enclave work lost.
 *
 * The range is heap pages added after EINIT through EAUG faults and then
 * EACCEPTed, as an enclave runtime grows its heap; with the EPC's lazy
 * zeroing (arch/internal.h epc_zero()) a 1M-page heap commits no memory.
 */
#ifndef SGXEMU_BENCH_WORKLOAD_H
#define SGXEMU_BENCH_WORKLOAD_H

#include <stdint.h>

#include "platform/cost.h"

#define BENCH_CPUS_MAX 64

enum bench_op {
	BENCH_RESTRICT, /* RESTRICT_PERMISSIONS to R */
	BENCH_TRIM, /* MODIFY_TYPES to PT_TRIM */
};

struct bench_point {
	uint64_t pages; /* the range, 1 .. 4M */
	unsigned int cpus; /* 1 .. BENCH_CPUS_MAX */
	unsigned int threads; /* enclave threads, 0 .. cpus - 1 */
	unsigned int etrack_batch; /* 1 Linux, N, 0 once per call */
	bool no_loop_checks; /* no per-page signal/resched checks (Linux) */
	enum bench_op op;
	struct sgx_costs costs;
};

struct bench_result {
	uint64_t latency_cycles; /* the caller's clock across the ioctl */
	uint64_t limit_cycles; /* bench_limit() */
	uint64_t etrack_flows;
	uint64_t ipi_rounds;
	uint64_t ipis;
	uint64_t aex_inflicted; /* on the enclave threads */
	uint64_t lost_cycles; /* the enclave threads' LPs, summed */
	uint64_t encl_lock_longest; /* encl->lock's longest hold, cycles */
	/* the enclave's EACCEPT of every page after the call, on its clock */
	uint64_t accept_cycles;
};

/*
 * bench_run() - build the machine, run the call once, check that it did
 * the whole range, and measure. Returns 0, -EINVAL for a bad point,
 * -ENOMEM, or -EIO if the driver or the CPU did not behave as Linux and the
 * SDM say (the call failed or left a page unchanged).
 */
int bench_run(const struct bench_point *p, struct bench_result *r);

/*
 * bench_limit() - the fastest any driver could do the call: per page the
 * lookup, the EMODPR (EMODT), and one lock and unlock; one ETRACK round
 * for the whole range; and the one syscall every implementation pays.
 */
uint64_t bench_limit(const struct bench_point *p);
/*
 * bench_etrack_round() - one ETRACK flow as the sender pays it: ETRACK,
 * the walk of the enclave's mm_list for the cpumask, and the IPI round to
 * the enclave threads. MODEL: the driver walks mm_list under a mutex where
 * Linux uses SRCU; the walk is priced as one lock and unlock.
 */
uint64_t bench_etrack_round(const struct bench_point *p);

const char *bench_op_name(enum bench_op op);

#endif
