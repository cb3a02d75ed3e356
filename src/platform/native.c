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

static __thread struct {
	uint64_t generation;
	struct sgx_lp *lp;
} self;
/* This thread holds the model lock. */
static __thread bool holding;

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

static struct sgx_lp *self_lp(const struct native *n)
{
	return self.generation == n->generation ? self.lp : NULL;
}

/* Model code never lets go of the model lock in enclave mode: an IPI
 * sender, holding it, would wait for this thread's acknowledgement. */
static void assert_may_sleep(const struct native *n)
{
	const struct sgx_lp *lp = self_lp(n);

	ASSERT(holding);
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

static struct sgx_lp *claim_lp(struct native *n, bool user)
{
	for (unsigned int i = 0; i < n->cpu->cfg.nr_lps; i++) {
		struct native_lp *nl = &n->lps[i];

		if (nl->tid)
			continue;
		nl->tid = gettid_raw();
		nl->user = user;
		atomic_store(&nl->ipi_pending, 0);
		self.generation = n->generation;
		self.lp = &n->cpu->lps[i];
		if (user && n->lp_claimed)
			n->lp_claimed(n->lp_claimed_ctx, self.lp);
		return self.lp;
	}
	return NULL;
}

struct sgx_lp *native_current_lp(const struct native *n)
{
	return self_lp(n);
}

struct sgx_lp *native_this_lp(struct native *n)
{
	struct sgx_lp *lp = native_current_lp(n);

	return lp ? lp : claim_lp(n, true);
}

void native_release_lp(struct native *n)
{
	struct sgx_lp *lp = native_current_lp(n);

	if (!lp)
		return;
	ASSERT(!lp->enclave_mode);
	forget_resume(n, &n->lps[lp->id]);
	n->lps[lp->id].tid = 0;
	self.lp = NULL;
}

static struct sgx_lp *native_plat_this_lp(void *ctx)
{
	struct sgx_lp *lp = native_this_lp(native_of(ctx));

	/* MODEL: more threads than --cpus is a configuration error. */
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
	return atomic_load(&n->lps[lp->id].ipi_pending) != 0;
}

void native_ipi_ack(struct native *n, const struct sgx_lp *lp)
{
	struct native_lp *nl = &n->lps[lp->id];

	if (!atomic_exchange(&nl->ipi_pending, 0))
		return;
	/* The target itself answered: it is out, and owes its resume. */
	if (self_lp(n) == lp && !atomic_exchange(&nl->resume_owed, true))
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
		ASSERT(nl->tid);
		atomic_store(&nl->ipi_pending, 1);
		n->stats.ipis++;
		expected++;
		/* A thread that is gone cannot answer: count it as done. */
		if (syscall(SYS_tgkill, getpid(), nl->tid, n->ipi_signo))
			native_ipi_ack(n, &n->cpu->lps[i]);
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

/* The calling thread has just taken the model lock. */
static void taken(struct native *n)
{
	struct sgx_lp *lp = self_lp(n);

	holding = true;
	atomic_fetch_add(&n->lock_taken, 1);
	if (lp)
		forget_resume(n, &n->lps[lp->id]);
}

void native_lock(struct native *n)
{
	atomic_fetch_add(&n->lock_waiters, 1);
	pthread_mutex_lock(&n->model_lock);
	atomic_fetch_sub(&n->lock_waiters, 1);
	taken(n);
}

void native_unlock(struct native *n)
{
	holding = false;
	pthread_mutex_unlock(&n->model_lock);
}

bool native_holds_lock(void)
{
	return holding;
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
		taken(n);
	return ret;
}

struct ksgxd_start {
	struct native *n;
	void (*body)(void *);
	void *arg;
	atomic_int copied; /* the thread has its copy; start may go */
};

static void *ksgxd_main(void *p)
{
	struct ksgxd_start *start = p;
	struct native *n = start->n;
	void (*body)(void *) = start->body;
	void *arg = start->arg;
	sigset_t all;

	atomic_store(&start->copied, 1);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	native_lock(n);
	ASSERT(claim_lp(n, false));
	body(arg);
	native_release_lp(n);
	native_unlock(n);
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
