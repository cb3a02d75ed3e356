// SPDX-License-Identifier: MIT
/*
 * The native platform on real threads: LPs taken and given back, a wait
 * while all are busy,
 * the driver mutexes' counters, the model lock giving way to a pending
 * IPI, IPI rounds that signal exactly the targets in enclave mode and wait
 * for their acknowledgements, and ksgxd's sleep and wake. The runtime's
 * AEX is stood in for by a handler that only acknowledges.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/native.h"

#define IPI_SIGNAL (SIGRTMAX - 3)

static struct sgx_cpu cpu;
static struct native n;
static atomic_uint handled; /* IPI signals the targets received */

static void on_ipi(int sig, siginfo_t *si, void *uc)
{
	struct sgx_lp *lp = native_current_lp(&n);

	atomic_fetch_add(&handled, 1);
	if (lp && native_ipi_pending(&n, lp)) {
		lp->enclave_mode = false; /* what the AEX does */
		native_ipi_ack(&n, lp);
	} else if (lp && native_preempted(&n, lp)) {
		lp->enclave_mode = false; /* the AEX, and the LP given up */
		native_lp_free(&n, lp);
	}
}

static void setup(void)
{
	struct sgx_cpu_config cfg = { .epc_pages = 16, .nr_lps = 4 };
	struct sigaction sa = { .sa_sigaction = on_ipi,
				.sa_flags = SA_SIGINFO };

	cr_assert_eq(sgx_cpu_init(&cpu, &cfg), 0);
	cr_assert_eq(native_init(&n, &cpu, IPI_SIGNAL), 0);
	sigemptyset(&sa.sa_mask);
	sigaction(IPI_SIGNAL, &sa, NULL);
	atomic_store(&handled, 0);
}

static void teardown(void)
{
	sgx_cpu_destroy(&cpu);
}

TestSuite(native, .init = setup, .fini = teardown);

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void *claim_and_report(void *p)
{
	struct sgx_lp **out = p;

	*out = native_lp_claim(&n, tid());
	cr_assert_eq(native_current_lp(&n), *out, "the thread's LP");
	native_lp_free(&n, *out);
	cr_assert_null(native_current_lp(&n));
	return NULL;
}

Test(native, threads_take_lps_and_give_them_back)
{
	struct sgx_lp *mine, *other = NULL;
	pthread_t t;

	mine = native_lp_claim(&n, tid());
	cr_assert_not_null(mine);
	pthread_create(&t, NULL, claim_and_report, &other);
	pthread_join(t, NULL);
	cr_assert_not_null(other);
	cr_assert_neq(other, mine, "a second thread gets a second LP");
	native_lp_free(&n, mine);
	/* A freed LP is handed out again, to any thread. */
	pthread_create(&t, NULL, claim_and_report, &other);
	pthread_join(t, NULL);
	cr_assert_eq(other, mine);
}

static void *claim_one(void *p)
{
	struct sgx_lp **out = p;

	*out = native_lp_claim(&n, tid());
	return NULL;
}

Test(native, a_thread_waits_while_every_lp_is_busy)
{
	struct sgx_lp *held[SGX_LPS_MAX], *late = NULL;
	unsigned int users = cpu.cfg.nr_lps - 1; /* the last is ksgxd's */
	pthread_t t;

	for (unsigned int i = 0; i < users; i++)
		held[i] = native_lp_claim(&n, 1000 + (pid_t)i);
	pthread_create(&t, NULL, claim_one, &late);
	while (atomic_load(&n.lp_waits) < 3)
		usleep(100);
	cr_assert_null(late, "no LP while all are busy");
	cr_assert_eq(atomic_load(&n.lps[users].tid), 0, "never ksgxd's");
	native_lp_free(&n, held[1]);
	pthread_join(t, NULL);
	cr_assert_eq(late, held[1], "the freed LP");
}

struct target {
	struct sgx_lp *lp;
	atomic_bool ready, done;
};

static void *target_thread(void *p);

Test(native, a_waiter_preempts_a_thread_in_enclave_mode)
{
	struct sgx_lp *held[SGX_LPS_MAX], *late = NULL;
	unsigned int users = cpu.cfg.nr_lps - 1;
	struct target in = { 0 };
	pthread_t t, w;

	/* Every LP busy: two outside enclave mode, one inside. */
	for (unsigned int i = 0; i < users - 1; i++)
		held[i] = native_lp_claim(&n, 1000 + (pid_t)i);
	pthread_create(&t, NULL, target_thread, &in);
	while (!atomic_load(&in.ready))
		usleep(100);
	in.lp->enclave_mode = true;
	pthread_create(&w, NULL, claim_one, &late);
	pthread_join(w, NULL);
	cr_assert_eq(late, in.lp, "the LP in enclave mode, given up");
	cr_assert_geq(atomic_load(&n.preempts), 1);
	cr_assert_not(in.lp->enclave_mode, "after its AEX");
	atomic_store(&in.done, true);
	pthread_join(t, NULL);
	native_lp_free(&n, late);
	for (unsigned int i = 0; i < users - 1; i++)
		native_lp_free(&n, held[i]);
}

Test(native, mutexes_count_acquisitions_and_the_longest_hold)
{
	struct sgx_mutex m;

	n.plat.mutex_init(n.plat.ctx, &m);
	for (int i = 0; i < 3; i++) {
		n.plat.mutex_lock(n.plat.ctx, &m);
		usleep(1000);
		n.plat.mutex_unlock(n.plat.ctx, &m);
	}
	cr_assert_eq(m.acquisitions, 3);
	cr_assert_geq(m.longest_hold, 1000000, "at least the 1 ms held");
}

/* A thread that claims an LP, says so, and waits in user code. */
static void *target_thread(void *p)
{
	struct target *t = p;

	t->lp = native_lp_claim(&n, tid());
	atomic_store(&t->ready, true);
	while (!atomic_load(&t->done))
		usleep(100);
	return NULL;
}

static void start_target(struct target *t, pthread_t *th)
{
	pthread_create(th, NULL, target_thread, t);
	while (!atomic_load(&t->ready))
		usleep(100);
}

static void stop_target(struct target *t, pthread_t th)
{
	atomic_store(&t->done, true);
	pthread_join(th, NULL);
	native_lp_free(&n, t->lp);
}

Test(native, an_ipi_signals_the_lps_in_enclave_mode_and_waits_for_them)
{
	struct target in = { 0 }, out = { 0 };
	struct sgx_cpumask mask = { { 0 } };
	pthread_t t1, t2;

	start_target(&in, &t1);
	start_target(&out, &t2);
	in.lp->enclave_mode = true;
	sgx_cpumask_set(&mask, in.lp->id);
	sgx_cpumask_set(&mask, out.lp->id);
	native_lock(&n);
	n.plat.ipi(n.plat.ctx, &mask);
	native_unlock(&n);
	/* Returned: the target inside has acknowledged, after its "AEX". */
	cr_assert_not(in.lp->enclave_mode);
	cr_assert_not(native_ipi_pending(&n, in.lp));
	cr_assert_eq(atomic_load(&handled), 1, "only the LP inside");
	cr_assert_eq(n.stats.ipi_rounds, 1);
	cr_assert_eq(n.stats.ipis, 1);
	stop_target(&in, t1);
	stop_target(&out, t2);
}

Test(native, a_waiter_with_a_pending_ipi_gets_eintr_not_the_lock)
{
	struct target t = { 0 };
	pthread_t th;

	start_target(&t, &th);
	native_lock(&n);
	t.lp->enclave_mode = true;
	atomic_store(&n.lps[t.lp->id].ipi_pending, 1);
	/* This thread holds the lock: the "waiter" must not block on it. */
	cr_assert_eq(native_lock_or_ipi(&n, t.lp), -EINTR);
	t.lp->enclave_mode = false;
	native_ipi_ack(&n, t.lp);
	cr_assert_eq(atomic_load(&n.acks), 1);
	native_unlock(&n);
	cr_assert_eq(native_lock_or_ipi(&n, t.lp), 0, "free: taken");
	native_unlock(&n);
	stop_target(&t, th);
}

static atomic_uint sleeps;
static atomic_bool ksgxd_stop;

static void ksgxd_body(void *arg)
{
	struct native *nat = arg;

	while (!atomic_load(&ksgxd_stop)) {
		atomic_fetch_add(&sleeps, 1);
		nat->plat.ksgxd_sleep(nat->plat.ctx);
	}
}

Test(native, ksgxd_sleeps_until_woken_and_has_its_own_lp)
{
	cr_assert_eq(native_start_ksgxd(&n, ksgxd_body, &n), 0);
	while (atomic_load(&sleeps) < 1)
		usleep(100);
	usleep(10000);
	cr_assert_eq(atomic_load(&sleeps), 1, "asleep until woken");
	native_lock(&n);
	n.plat.ksgxd_wake(n.plat.ctx);
	native_unlock(&n);
	while (atomic_load(&sleeps) < 2)
		usleep(100);
	atomic_store(&ksgxd_stop, true);
	native_lock(&n);
	n.plat.ksgxd_wake(n.plat.ctx);
	native_unlock(&n);
	/* ksgxd frees its LP on the way out; not a program thread's. */
	for (int i = 0; i < 1000; i++) {
		bool busy = false;

		native_lock(&n);
		for (unsigned int l = 0; l < cpu.cfg.nr_lps; l++)
			busy = busy || n.lps[l].tid;
		native_unlock(&n);
		if (!busy)
			return;
		usleep(1000);
	}
	cr_assert_fail("ksgxd kept its LP");
}
