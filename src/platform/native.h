/* SPDX-License-Identifier: MIT */
/*
 * The native platform (architecture.md section 2): real pthreads and real
 * signals, for the runner (`sgxemu run`, src/run/). The kernel model and the
 * CPU run under one lock, the model lock: a thread holds it for a whole
 * device call, ENCLU emulation or fault, and ksgxd for its work between
 * sleeps. Enclave code itself runs natively and in parallel, outside it.
 *
 * MODEL: one model lock, so at most one thread executes model code at a
 * time, as in sim; leaves are therefore atomic, and the page tables the
 * LPs walk never change under a walker. The driver's own mutexes are then
 * never contended; they keep their counters (longest hold in ns).
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
 * sees the flag through native_lock_or_ipi() instead.
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
};

struct native_stats {
	uint64_t ipi_rounds;
	uint64_t ipis; /* signals sent: targets that were in enclave mode */
};

struct native {
	struct sgx_platform plat;
	struct sgx_cpu *cpu;
	uint64_t generation; /* tells a thread's LP from an older instance */
	int ipi_signo;
	pthread_mutex_t model_lock;
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
