/* SPDX-License-Identifier: MIT */
/*
 * Replaying an EDMM trace (bench/trace.h) on the benchmark's machine
 * (bench/workload.h): each recorded enclave is rebuilt with its size and
 * its added pages, and its events run in the recorded order on the sim
 * platform, priced by the cost model. Each thread enters, leaves, faults
 * and accepts pages as recorded, on an LP of its own (see below), so the
 * threads inside at each call are the recorded ones; a fault's EAUG runs
 * on the faulting thread's LP. An IPI's AEX is followed at once by the
 * thread's ERESUME
 * (as in bench_run()), so the recorded AEXs of IPIs and their ERESUMEs
 * are not replayed: the replayed policy's own IPIs stand for them.
 *
 * MODEL: the replayed enclave is not the recorded one byte for byte:
 * every added regular page is RWX (one RW mapping covers them), each TCS
 * gets four SSA frames and the replay's entry point, in pages added after
 * the recorded range (a TCS that MODIFY_TYPES makes gets that image
 * written from inside before the call, as the recorded enclave wrote its
 * own), and EMODPE is counted, not run (no ETRACK, IPI or EAUG depends on
 * it). EACCEPT uses the SECINFO the page's last change asks for (for a page
 * with none pending, a restriction to R: refused with an error code, or
 * accepted, never a fault); a leaf's #PF takes the kernel's fault path,
 * and the recorded retry follows, while any other fault of a replayed
 * leaf is a divergence, after which the thread goes back in. A recorded
 * call whose return or count the replay does not reproduce is counted as
 * a divergence, and the replay goes on.
 *
 * MODEL: the recorded reclaim is priced, not run (a trace does not say
 * which pages went out): each EWB as the reclaimer pays it per page, an
 * EBLOCK and the EWB; each ELDU as the leaf; and one ETRACK per batch of
 * up to SGX_NR_TO_SCAN EWBs that follow each other in their process (the
 * first EWB of a batch finds its enclave not tracked). The IPIs of those
 * flows (to threads inside) and the reclaimer's other work are not
 * priced, and no ETRACK policy changes any of it.
 *
 * MODEL: a recorded LP is a CPU, and the runner's threads change CPUs;
 * a thread inside is on one TCS. So the thread on each TCS replays on an
 * LP of its own (from LP 1, in the order the trace enters them), and an
 * event of recorded LP l acts on the thread of the TCS l last entered on.
 * A call runs on its thread's LP (the TCS its recorded LP entered on last,
 * or will next) if that is outside, else on LP 0, which leaves the mm
 * after the call. A thread that enters several TCSs in turn on one CPU
 * thus replays on several, each in mm_cpumask from then on.
 */
#ifndef SGXEMU_BENCH_REPLAY_H
#define SGXEMU_BENCH_REPLAY_H

#include "bench/trace.h"
#include "bench/workload.h"

/* Range sizes in pages: 1, 2-15, 16-255, 256-4095, 4096-65535, more. */
#define REPLAY_SIZE_BUCKETS 6

enum replay_call { RC_RESTRICT, RC_MODT, RC_REMOVE, RC_KINDS };

struct replay_config {
	unsigned int cpus; /* 0: LP 0 and one per TCS entered */
	unsigned int etrack_batch;
	bool no_loop_checks;
	struct sgx_costs costs;
};

struct replay_result {
	unsigned int cpus;
	uint64_t calls[RC_KINDS], pages[RC_KINDS];
	uint64_t latency[RC_KINDS]; /* caller's cycles, summed per kind */
	/* RESTRICT_PERMISSIONS and MODIFY_TYPES that succeeded live: their
	 * latency and limit */
	uint64_t tracked_latency, tracked_limit;
	uint64_t etrack_flows, etracks, ipi_rounds, ipis;
	uint64_t aex_inflicted; /* on enclave threads, by the IPIs */
	uint64_t lost_cycles; /* the other LPs' cycles during the calls */
	uint64_t eaugs, eaccepts, ewbs, eldus; /* ewbs, eldus: recorded */
	/* The recorded reclaim, priced (replay_price_reclaim()). */
	uint64_t reclaim_etracks, reclaim_cycles;
	uint64_t size_hist[REPLAY_SIZE_BUCKETS]; /* calls of 1 page or more */
	uint64_t divergences;
	unsigned int first_divergence; /* its line; 0: none */
};

/* Returns 0, -EINVAL if cfg->cpus is too few for the trace, -ENOMEM, -EIO. */
int replay_run(const struct trace *t, const struct replay_config *cfg,
	       struct replay_result *r);
const char *replay_call_name(enum replay_call k);
/* The bucket's smallest size in pages. */
uint64_t replay_bucket_min(unsigned int bucket);

#endif
