/* SPDX-License-Identifier: MIT */
/*
 * The native platform (architecture.md section 2): real pthreads and real
 * signals, for the runner (`sgxemu run`, src/run/).
 *
 * The model lock. The kernel model and the CPU are single-issue: one
 * thread at a time executes model code (a leaf, a page-table walk, a
 * fault's handling, driver code), under the model lock. It lets go
 * wherever Linux may switch or block, the sim platform's switch points:
 *   - a driver mutex (encl->lock, mmap_lock, encl->mm_lock, the reclaimer's
 *     and the free list's locks) is a real sleeping lock: a thread that
 *     finds one held drops the model lock and sleeps until a release;
 *   - a preemption point (cond_resched(), and the one before every ENCLS)
 *     hands the model lock to the threads waiting for it, first to the
 *     threads an IPI forced out of an enclave, so that they ERESUME
 *     between the pages of a call;
 *   - ksgxd sleeps without it.
 * MODEL: kernel code between two switch points runs alone, as if every
 * other CPU were in user mode then; Linux would run it in parallel, but
 * with the same locks held, so the interleavings are the sim's (which the
 * explorer checks). Enclave code runs natively and in parallel, outside it.
 *
 * Logical processors: a program thread holds one of the first nr_lps - 1
 * only while it needs one (native_lp_claim(), native_lp_free()), and may
 * get another next time; ksgxd has the last.
 *
 * IPIs: the sender holds the model lock. For each target LP in enclave
 * mode it raises the LP's pending flag, sends ipi_signo to the thread with
 * tgkill() and waits until every such target has called native_ipi_ack()
 * (after its AEX). A target outside enclave mode needs nothing: its TLB is
 * empty there. A target that waits for the model lock in a trap handler
 * sees the flag through native_lock_or_ipi() instead. A target that
 * acknowledges owes a resume: the next preemption point of any thread
 * waits until it has taken the model lock again (its ERESUME, normally),
 * or for at most NATIVE_RESUME_WAIT_NS.
 */
#ifndef SGXEMU_PLATFORM_NATIVE_H
#define SGXEMU_PLATFORM_NATIVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/cpu.h"
#include "sgxemu/platform.h"

#define NATIVE_IPI 1 /* an IPI round waits for the AEX */
#define NATIVE_PREEMPT 2 /* a thread waiting for an LP asks for this one */

struct native_lp {
	_Atomic pid_t tid; /* the thread on it; 0 when free */
	atomic_int ipi_pending; /* NATIVE_IPI | NATIVE_PREEMPT */
	/*
	 * An IPI forced owed_by out on this LP, and it has not taken the model
	 * lock since (on any LP: it may give this one up at the AEP).
	 */
	atomic_bool resume_owed;
	_Atomic pid_t owed_by;
};

/*
 * MODEL: how long a preemption point waits for the threads an IPI forced
 * out to take the model lock again. They normally do at once (the AEP
 * ERESUMEs); one that runs other code first only delays the caller.
 */
#define NATIVE_RESUME_WAIT_NS 100000000ULL

struct native_stats {
	uint64_t ipi_rounds;
	uint64_t ipis; /* signals sent: targets that were in enclave mode */
	uint64_t resume_timeouts; /* preemption points that stopped waiting */
};

struct native {
	struct sgx_platform plat;
	struct sgx_cpu *cpu;
	uint64_t generation; /* tells a thread's LP from an older instance */
	int ipi_signo;
	pthread_mutex_t model_lock;
	atomic_uint lock_waiters; /* threads waiting for the model lock */
	atomic_uint_fast64_t lock_taken; /* acquisitions of the model lock */
	atomic_uint resumes_owed; /* LPs with resume_owed set */
	/*
	 * Sleeps without the model lock: for a driver mutex (release_seq
	 * moves at each release that has waiters, under both locks) and for
	 * owed resumes.
	 */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	uint64_t release_seq;
	pthread_mutex_t ksgxd_mutex;
	pthread_cond_t ksgxd_cond;
	bool ksgxd_woken;
	pthread_t ksgxd_thread;
	bool ksgxd_running;
	atomic_uint acks;
	atomic_uint lp_waits; /* a thread found every LP busy */
	atomic_uint preempts; /* LPs asked to give way (native_lp_claim()) */
	struct native_stats stats;
	struct native_lp lps[SGX_LPS_MAX];
};

/* Returns 0, or -errno if a pthread object cannot be made. */
int native_init(struct native *n, struct sgx_cpu *cpu, int ipi_signo);

void native_lock(struct native *n);
void native_unlock(struct native *n);
/* Whether the calling thread holds the model lock (of any instance). */
bool native_holds_lock(void);
/*
 * Take the model lock, unless an IPI is waiting for lp (non-NULL, in
 * enclave mode) first: then return -EINTR without the lock, and the caller
 * takes the AEX and calls native_ipi_ack(). Returns 0 with the lock.
 */
int native_lock_or_ipi(struct native *n, struct sgx_lp *lp);

/*
 * LP assignment (native.c's LP part): a program thread holds an LP only
 * while it needs one, and waits for one while all are busy; see there.
 */
struct sgx_lp *native_lp_claim(struct native *n, pid_t tid);
void native_lp_free(struct native *n, struct sgx_lp *lp);
struct sgx_lp *native_lp_of(const struct native *n, pid_t tid);
/* The calling thread's LP if it holds one (any context). */
struct sgx_lp *native_current_lp(const struct native *n);

bool native_ipi_pending(struct native *n, const struct sgx_lp *lp);
bool native_preempted(struct native *n, const struct sgx_lp *lp);
void native_ipi_ack(struct native *n, const struct sgx_lp *lp);

/*
 * Run body(arg) as ksgxd on its own pthread, with its own LP, under the
 * model lock except while it sleeps; every signal is blocked there.
 */
int native_start_ksgxd(struct native *n, void (*body)(void *), void *arg);

#endif
