// SPDX-License-Identifier: MIT
/*
 * The native platform: see native.h for the locking and IPI protocol.
 */
#include "platform/native.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"

/* Each native_init() gets a new one, so a thread's LP of a previous
 * instance (before a fork, say) is never taken for its LP in this one. */
static atomic_uint_fast64_t generations;

/*
 * Who holds the model lock, without TLS (threads of a raw clone() have no
 * glibc TLS of their own): the index + 1 of the LP it runs on when it
 * said (native_lock_or_ipi()), else minus its tid; 0 when free.
 */
static atomic_long holder;
static struct native *holder_native; /* the instance holder refers to */

static struct native *native_of(void *ctx)
{
	return ctx;
}

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Model code never lets go of the model lock in enclave mode: an IPI
 * sender, holding it, would wait for this thread's acknowledgement. */
static void assert_may_sleep(const struct native *n)
{
	const struct sgx_lp *lp = native_current_lp(n);

	ASSERT(native_holds_lock());
	ASSERT(!lp || !lp->enclave_mode);
}

/*
 * Sleep without the model lock until a driver mutex is released: a release
 * moves release_seq under both the model lock and wait_lock, so one that
 * comes after this thread read it is never missed.
 */
static void wait_release(struct native *n)
{
	uint64_t seq = n->release_seq;

	assert_may_sleep(n);
	native_unlock(n);
	pthread_mutex_lock(&n->wait_lock);
	while (n->release_seq == seq)
		pthread_cond_wait(&n->wait_cond, &n->wait_lock);
	pthread_mutex_unlock(&n->wait_lock);
	native_lock(n);
}

static void signal_release(struct native *n)
{
	pthread_mutex_lock(&n->wait_lock);
	n->release_seq++;
	pthread_cond_broadcast(&n->wait_cond);
	pthread_mutex_unlock(&n->wait_lock);
}

/*
 * Driver mutexes, under the model lock: impl[0] the owner's tid, or
 * MUTEX_HANDOFF once released to its waiters; impl[1] when it was taken;
 * impl[2] how many threads sleep on it. A release with waiters hands the
 * mutex to one of them, as Linux's mutex does to a waiter it woke: the
 * releaser, looping to its next page, cannot take it back first.
 */
#define MUTEX_HANDOFF UINT64_MAX

static void native_mutex_init(void *ctx, struct sgx_mutex *m)
{
	memset(m, 0, sizeof(*m));
}

static void native_mutex_lock(void *ctx, struct sgx_mutex *m)
{
	struct native *n = native_of(ctx);
	uint64_t tid = (uint64_t)gettid_raw();

	/* Held already: a driver path that would deadlock in Linux too. */
	ASSERT(m->impl[0] != tid);
	if (m->impl[0]) {
		m->impl[2]++;
		do
			wait_release(n);
		while (m->impl[0] && m->impl[0] != MUTEX_HANDOFF);
		m->impl[2]--;
	}
	m->impl[0] = tid;
	m->impl[1] = now_ns();
	m->acquisitions++;
}

static void native_mutex_unlock(void *ctx, struct sgx_mutex *m)
{
	uint64_t held = now_ns() - m->impl[1];

	ASSERT(m->impl[0] == (uint64_t)gettid_raw());
	if (held > m->longest_hold)
		m->longest_hold = held;
	m->impl[0] = m->impl[2] ? MUTEX_HANDOFF : 0;
	if (m->impl[2])
		signal_release(native_of(ctx));
}

/* nl's thread is back under the model lock, or will never be. */
static void forget_resume(struct native *n, struct native_lp *nl)
{
	if (!atomic_exchange(&nl->resume_owed, false))
		return;
	pthread_mutex_lock(&n->wait_lock);
	atomic_fetch_sub(&n->resumes_owed, 1);
	pthread_cond_broadcast(&n->wait_cond);
	pthread_mutex_unlock(&n->wait_lock);
}

/* ---- LP assignment ------------------------------------------------------ */

/*
 * LPs 0 .. nr_lps - 2 are the program's, taken and given back by its
 * threads as they need one (the runner, src/run/thread.c); the last is
 * ksgxd's. An LP's tid says which thread runs on it.
 */
static unsigned int user_lps(const struct native *n)
{
	return n->cpu->cfg.nr_lps - 1;
}

static struct sgx_lp *take(struct native *n, unsigned int i, pid_t tid)
{
	pid_t none = 0;

	if (!atomic_compare_exchange_strong(&n->lps[i].tid, &none, tid))
		return NULL;
	atomic_store(&n->lps[i].ipi_pending, 0);
	return &n->cpu->lps[i];
}

/*
 * MODEL: every LP busy for this long: the waiter has one in enclave mode
 * interrupted, as the timer interrupt does when Linux preempts a thread
 * (an AEX). The thread there gives its LP up at the AEP and waits for one
 * to ERESUME. Otherwise a thread spinning in an enclave for another one
 * that has no LP would wait forever, where Linux would time-slice them.
 */
#define PREEMPT_AFTER 64 /* sched_yield()s */

static void preempt_one(struct native *n, unsigned int *next)
{
	for (unsigned int k = 0; k < user_lps(n); k++) {
		unsigned int i = (*next + k) % user_lps(n);
		struct native_lp *nl = &n->lps[i];
		pid_t tid = atomic_load(&nl->tid);

		if (!tid || !n->cpu->lps[i].enclave_mode)
			continue;
		*next = i + 1;
		atomic_fetch_or(&nl->ipi_pending, NATIVE_PREEMPT);
		atomic_fetch_add(&n->preempts, 1);
		syscall(SYS_tgkill, getpid(), tid, n->ipi_signo);
		return;
	}
}

/**
 * native_lp_claim() - a free LP for thread @tid, waiting while every one is
 * busy: more runnable threads than CPUs. Never with the model lock held:
 * the threads on the LPs may need it to leave them.
 */
struct sgx_lp *native_lp_claim(struct native *n, pid_t tid)
{
	unsigned int next = 0;

	for (unsigned int waits = 1;; waits++) {
		for (unsigned int i = 0; i < user_lps(n); i++) {
			struct sgx_lp *lp = take(n, i, tid);

			if (lp)
				return lp;
		}
		atomic_fetch_add(&n->lp_waits, 1);
		if (waits % PREEMPT_AFTER == 0)
			preempt_one(n, &next);
		sched_yield();
	}
}

/* @lp, outside enclave mode, is free again. */
void native_lp_free(struct native *n, struct sgx_lp *lp)
{
	ASSERT(!lp->enclave_mode);
	atomic_store(&n->lps[lp->id].tid, 0);
}

/* The LP thread @tid runs on, or NULL. */
struct sgx_lp *native_lp_of(const struct native *n, pid_t tid)
{
	for (unsigned int i = 0; i < n->cpu->cfg.nr_lps; i++)
		if (atomic_load(&n->lps[i].tid) == tid)
			return &n->cpu->lps[i];
	return NULL;
}

struct sgx_lp *native_current_lp(const struct native *n)
{
	return native_lp_of(n, gettid_raw());
}

/* Model code runs on the LP its thread claimed before it took the lock. */
static struct sgx_lp *native_plat_this_lp(void *ctx)
{
	struct sgx_lp *lp = native_current_lp(native_of(ctx));

	ASSERT(lp);
	return lp;
}

static void timespec_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

/*
 * Wait without the model lock until every thread an IPI forced out has
 * taken it again, or NATIVE_RESUME_WAIT_NS has passed: then they are
 * owed nothing any more.
 */
static void wait_resumes(struct native *n)
{
	struct timespec deadline;
	bool late = false;

	timespec_after(&deadline, NATIVE_RESUME_WAIT_NS);
	native_unlock(n);
	pthread_mutex_lock(&n->wait_lock);
	while (atomic_load(&n->resumes_owed) && !late)
		late = pthread_cond_timedwait(&n->wait_cond, &n->wait_lock,
					      &deadline) == ETIMEDOUT;
	pthread_mutex_unlock(&n->wait_lock);
	native_lock(n);
	if (!late)
		return;
	n->stats.resume_timeouts++;
	for (unsigned int i = 0; i < n->cpu->cfg.nr_lps; i++)
		forget_resume(n, &n->lps[i]);
}

/* Let every thread that waits for the model lock take it once. */
static void hand_over(struct native *n)
{
	uint_fast64_t taken = atomic_load(&n->lock_taken);

	native_unlock(n);
	while (atomic_load(&n->lock_waiters) &&
	       atomic_load(&n->lock_taken) == taken)
		sched_yield();
	native_lock(n);
}

/*
 * cond_resched(), and the point before every ENCLS: the OS schedules the
 * threads, but one that waits for the model lock gets it here, as another
 * CPU would run it meanwhile. Threads an IPI forced out go first.
 */
static void native_preempt(void *ctx)
{
	struct native *n = native_of(ctx);

	assert_may_sleep(n);
	if (atomic_load(&n->resumes_owed))
		wait_resumes(n);
	else if (atomic_load(&n->lock_waiters))
		hand_over(n);
}

/*
 * MODEL: the runner never interrupts a device call with a signal: the
 * program's signals wait until the call returns, so the per-page checks
 * never see one pending.
 */
static bool native_signal_pending(void *ctx)
{
	return false;
}

bool native_ipi_pending(struct native *n, const struct sgx_lp *lp)
{
	return atomic_load(&n->lps[lp->id].ipi_pending) & NATIVE_IPI;
}

/* Whether a waiter asked @lp to give way; the request is taken. */
bool native_preempted(struct native *n, const struct sgx_lp *lp)
{
	return atomic_fetch_and(&n->lps[lp->id].ipi_pending, ~NATIVE_PREEMPT) &
	       NATIVE_PREEMPT;
}

void native_ipi_ack(struct native *n, const struct sgx_lp *lp)
{
	struct native_lp *nl = &n->lps[lp->id];

	/* A preemption alone has no sender waiting. */
	if (!(atomic_exchange(&nl->ipi_pending, 0) & NATIVE_IPI))
		return;
	/* The target answered: it is out, and owes its resume. */
	atomic_store(&nl->owed_by, atomic_load(&nl->tid));
	if (!atomic_exchange(&nl->resume_owed, true))
		atomic_fetch_add(&n->resumes_owed, 1);
	atomic_fetch_add(&n->acks, 1);
}

static void native_ipi(void *ctx, const struct sgx_cpumask *mask)
{
	struct native *n = native_of(ctx);
	unsigned int expected = 0;

	n->stats.ipi_rounds++;
	atomic_store(&n->acks, 0);
	for (unsigned int i = 0; i < n->cpu->cfg.nr_lps; i++) {
		struct native_lp *nl = &n->lps[i];

		if (!sgx_cpumask_test(mask, i) || !n->cpu->lps[i].enclave_mode)
			continue;
		ASSERT(atomic_load(&nl->tid));
		atomic_fetch_or(&nl->ipi_pending, NATIVE_IPI);
		n->stats.ipis++;
		expected++;
		/* A thread that is gone cannot answer: count it as done. */
		if (syscall(SYS_tgkill, getpid(), nl->tid, n->ipi_signo) &&
		    atomic_exchange(&nl->ipi_pending, 0) & NATIVE_IPI)
			atomic_fetch_add(&n->acks, 1);
	}
	while (atomic_load(&n->acks) < expected)
		sched_yield();
}

/* MODEL: native runs in real time; there is no clock to charge. */
static void native_charge(void *ctx, enum sgx_cost_event event)
{
}

static void native_ksgxd_sleep(void *ctx)
{
	struct native *n = native_of(ctx);

	native_unlock(n);
	pthread_mutex_lock(&n->ksgxd_mutex);
	while (!n->ksgxd_woken)
		pthread_cond_wait(&n->ksgxd_cond, &n->ksgxd_mutex);
	n->ksgxd_woken = false;
	pthread_mutex_unlock(&n->ksgxd_mutex);
	native_lock(n);
}

static void native_ksgxd_wake(void *ctx)
{
	struct native *n = native_of(ctx);

	pthread_mutex_lock(&n->ksgxd_mutex);
	n->ksgxd_woken = true;
	pthread_cond_signal(&n->ksgxd_cond);
	pthread_mutex_unlock(&n->ksgxd_mutex);
}

/* Timed waits (wait_resumes()) count on the monotonic clock. */
static int init_wait_cond(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int ret;

	pthread_condattr_init(&attr);
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	      pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return ret;
}

int native_init(struct native *n, struct sgx_cpu *cpu, int ipi_signo)
{
	memset(n, 0, sizeof(*n));
	n->cpu = cpu;
	n->ipi_signo = ipi_signo;
	n->generation = atomic_fetch_add(&generations, 1) + 1;
	if (pthread_mutex_init(&n->model_lock, NULL) ||
	    pthread_mutex_init(&n->ksgxd_mutex, NULL) ||
	    pthread_cond_init(&n->ksgxd_cond, NULL) ||
	    pthread_mutex_init(&n->wait_lock, NULL) ||
	    init_wait_cond(&n->wait_cond))
		return -ENOMEM;
	n->plat = (struct sgx_platform){
		.ctx = n,
		.mutex_init = native_mutex_init,
		.mutex_lock = native_mutex_lock,
		.mutex_unlock = native_mutex_unlock,
		.this_lp = native_plat_this_lp,
		.preempt = native_preempt,
		.signal_pending = native_signal_pending,
		.ipi = native_ipi,
		.charge = native_charge,
		.ksgxd_sleep = native_ksgxd_sleep,
		.ksgxd_wake = native_ksgxd_wake,
	};
	return 0;
}

/*
 * The calling thread has just taken the model lock, on @lp if it said
 * (native_lock_or_ipi()), else on the LP its tid holds, if any.
 */
static void taken(struct native *n, struct sgx_lp *lp)
{
	pid_t tid = lp ? atomic_load(&n->lps[lp->id].tid) : gettid_raw();

	if (!lp)
		lp = native_lp_of(n, tid);
	holder_native = n;
	atomic_store(&holder, lp ? (long)lp->id + 1 : -(long)tid);
	atomic_fetch_add(&n->lock_taken, 1);
	if (!atomic_load(&n->resumes_owed))
		return;
	/* Its debt, wherever it was forced out. */
	for (unsigned int i = 0; i < n->cpu->cfg.nr_lps; i++)
		if (atomic_load(&n->lps[i].resume_owed) &&
		    atomic_load(&n->lps[i].owed_by) == tid)
			forget_resume(n, &n->lps[i]);
}

void native_lock(struct native *n)
{
	atomic_fetch_add(&n->lock_waiters, 1);
	pthread_mutex_lock(&n->model_lock);
	atomic_fetch_sub(&n->lock_waiters, 1);
	taken(n, NULL);
}

void native_unlock(struct native *n)
{
	atomic_store(&holder, 0);
	pthread_mutex_unlock(&n->model_lock);
}

bool native_holds_lock(void)
{
	long h = atomic_load(&holder);
	pid_t tid;

	if (!h)
		return false;
	tid = gettid_raw();
	return h < 0 ? -h == tid : atomic_load(&holder_native->lps[h - 1].tid) == tid;
}

int native_lock_or_ipi(struct native *n, struct sgx_lp *lp)
{
	int ret = 0;

	atomic_fetch_add(&n->lock_waiters, 1);
	while (pthread_mutex_trylock(&n->model_lock)) {
		if (lp && lp->enclave_mode && native_ipi_pending(n, lp)) {
			ret = -EINTR;
			break;
		}
		sched_yield();
	}
	atomic_fetch_sub(&n->lock_waiters, 1);
	if (!ret)
		taken(n, lp);
	return ret;
}

struct ksgxd_start {
	struct native *n;
	void (*body)(void *);
	void *arg;
	atomic_int copied; /* the thread has its copy and its LP; start may go */
};

static void *ksgxd_main(void *p)
{
	struct ksgxd_start *start = p;
	struct native *n = start->n;
	void (*body)(void *) = start->body;
	void *arg = start->arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	ASSERT(take(n, user_lps(n), gettid_raw()));
	/* Once started, ksgxd is seen on its LP (callers wait for it to go). */
	atomic_store(&start->copied, 1);
	native_lock(n);
	body(arg);
	native_unlock(n);
	native_lp_free(n, &n->cpu->lps[user_lps(n)]);
	return NULL;
}

int native_start_ksgxd(struct native *n, void (*body)(void *), void *arg)
{
	struct ksgxd_start start = { .n = n, .body = body, .arg = arg };
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&n->ksgxd_thread, &attr, ksgxd_main, &start);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	while (!atomic_load(&start.copied))
		sched_yield();
	n->ksgxd_running = true;
	return 0;
}
