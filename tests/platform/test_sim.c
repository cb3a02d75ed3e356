// SPDX-License-Identifier: MIT
/*
 * The sim platform: coroutine threads, the scheduler's choices, mutexes,
 * deadlock detection, daemons, step bounds and IPI accounting.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "platform/sim.h"

static struct sgx_cpu cpu;
static struct sim sim;

static void setup(void)
{
	struct sgx_cpu_config cfg = { .epc_pages = 16, .nr_lps = 4, .seed = 1 };

	cr_assert_eq(sgx_cpu_init(&cpu, &cfg), 0);
	cr_assert_eq(sim_init(&sim, &cpu), 0);
}

static void teardown(void)
{
	sim_destroy(&sim);
	sgx_cpu_destroy(&cpu);
}

TestSuite(sim, .init = setup, .fini = teardown);

static char order[64];
static unsigned int order_len;

static void yielder(void *arg)
{
	for (int i = 0; i < 3; i++) {
		order[order_len++] = *(char *)arg;
		sim_yield(&sim);
	}
}

Test(sim, round_robin_interleaves)
{
	static char a = 'a', b = 'b';

	order_len = 0;
	cr_assert_geq(sim_spawn(&sim, "a", 0, false, yielder, &a), 0);
	cr_assert_geq(sim_spawn(&sim, "b", 1, false, yielder, &b), 0);
	cr_assert_eq(sim_run(&sim), 0);
	order[order_len] = 0;
	cr_assert_str_eq(order, "ababab");
}

static unsigned int choose_last(void *ctx, const unsigned int *runnable,
				unsigned int n, unsigned int current)
{
	(void)ctx;
	(void)runnable;
	(void)current;
	return n - 1;
}

Test(sim, chooser_decides)
{
	static char a = 'a', b = 'b';

	order_len = 0;
	sim.choose = choose_last;
	sim_spawn(&sim, "a", 0, false, yielder, &a);
	sim_spawn(&sim, "b", 1, false, yielder, &b);
	cr_assert_eq(sim_run(&sim), 0);
	order[order_len] = 0;
	cr_assert_str_eq(order, "bbbaaa");
}

static struct sgx_mutex m1, m2;
static int shared, inside;

static void critical(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++) {
		sim.plat.mutex_lock(sim.plat.ctx, &m1);
		cr_assert_eq(inside++, 0, "two threads inside the mutex");
		sim_yield(&sim);
		shared++;
		inside--;
		sim.plat.mutex_unlock(sim.plat.ctx, &m1);
	}
}

Test(sim, mutex_excludes)
{
	sim.plat.mutex_init(sim.plat.ctx, &m1);
	shared = inside = 0;
	for (unsigned int i = 0; i < 3; i++)
		sim_spawn(&sim, "c", i, false, critical, NULL);
	cr_assert_eq(sim_run(&sim), 0);
	cr_assert_eq(shared, 15);
	cr_assert_eq(m1.acquisitions, 15);
}

static void lock_ab(void *arg)
{
	bool reverse = arg != NULL;

	sim.plat.mutex_lock(sim.plat.ctx, reverse ? &m2 : &m1);
	sim_yield(&sim);
	sim.plat.mutex_lock(sim.plat.ctx, reverse ? &m1 : &m2);
}

Test(sim, deadlock_is_reported)
{
	sim.plat.mutex_init(sim.plat.ctx, &m1);
	sim.plat.mutex_init(sim.plat.ctx, &m2);
	sim_spawn(&sim, "ab", 0, false, lock_ab, NULL);
	sim_spawn(&sim, "ba", 1, false, lock_ab, &sim);
	cr_assert_eq(sim_run(&sim), -EDEADLK);
}

static int daemon_rounds;

static void daemon_fn(void *arg)
{
	(void)arg;
	for (;;) {
		sim.plat.ksgxd_sleep(sim.plat.ctx);
		daemon_rounds++;
	}
}

static void waker(void *arg)
{
	(void)arg;
	sim.plat.ksgxd_wake(sim.plat.ctx);
	sim_yield(&sim);
	sim_yield(&sim);
}

Test(sim, daemon_runs_when_woken_and_does_not_keep_run_alive)
{
	daemon_rounds = 0;
	sim_spawn(&sim, "ksgxd", 3, true, daemon_fn, NULL);
	sim_spawn(&sim, "waker", 0, false, waker, NULL);
	cr_assert_eq(sim_run(&sim), 0);
	cr_assert_eq(daemon_rounds, 1);
}

static void forever(void *arg)
{
	(void)arg;
	for (;;)
		sim_yield(&sim);
}

Test(sim, steps_max_bounds_a_run)
{
	sim.steps_max = 100;
	sim_spawn(&sim, "loop", 0, false, forever, NULL);
	cr_assert_eq(sim_run(&sim), -E2BIG);
	cr_assert_eq(sim.stats.steps, 100);
}

Test(sim, ipi_counts_targets_and_aex_only_inside)
{
	struct sgx_cpumask mask = { 0 };

	sgx_cpumask_set(&mask, 1);
	sgx_cpumask_set(&mask, 3);
	sim.plat.ipi(sim.plat.ctx, &mask);
	cr_assert_eq(sim.stats.ipi_rounds, 1);
	cr_assert_eq(sim.stats.ipis, 2);
	cr_assert_eq(sim.stats.ipi_aex, 0, "no LP was in enclave mode");
	cr_assert_eq(cpu.stats.aex, 0);
}

Test(sim, direct_mode_runs_on_lp0)
{
	sim.plat.mutex_init(sim.plat.ctx, &m1);
	sim.plat.mutex_lock(sim.plat.ctx, &m1);
	cr_assert_eq(sim.plat.this_lp(sim.plat.ctx), &cpu.lps[0]);
	sim.plat.charge(sim.plat.ctx, SGX_COST_SYSCALL);
	cr_assert_eq(sim.clock[0], 0, "no cost model: nothing charged");
	sim.plat.mutex_unlock(sim.plat.ctx, &m1);
	cr_assert_eq(m1.acquisitions, 1);
	cr_assert_eq(m1.longest_hold, 0);
}

static unsigned int hook_steps;

static bool stop_after_four(void *ctx)
{
	(void)ctx;
	return ++hook_steps < 4;
}

Test(sim, step_hook_runs_after_every_step_and_may_stop_the_run)
{
	static char a = 'a', b = 'b';

	order_len = 0;
	hook_steps = 0;
	sim.hooks.step = stop_after_four;
	sim_spawn(&sim, "a", 0, false, yielder, &a);
	sim_spawn(&sim, "b", 1, false, yielder, &b);
	cr_assert_eq(sim_run(&sim), -ECANCELED);
	cr_assert_eq(hook_steps, 4);
	cr_assert_eq(sim.stats.steps, 4);
	order[order_len] = 0;
	cr_assert_str_eq(order, "abab", "the run stopped after four steps");
	cr_assert_null(sim_current(&sim));
}

static unsigned int ipi_seen[4], ipi_aex_seen[4];

static void count_ipi(void *ctx, const struct sgx_lp *lp, bool aex)
{
	cr_assert_eq(ctx, &sim);
	ipi_seen[lp->id]++;
	ipi_aex_seen[lp->id] += aex;
}

Test(sim, ipi_hook_sees_every_target)
{
	struct sgx_cpumask mask = { 0 };

	sim.hooks.ctx = &sim;
	sim.hooks.ipi = count_ipi;
	sgx_cpumask_set(&mask, 0);
	sgx_cpumask_set(&mask, 2);
	sim.plat.ipi(sim.plat.ctx, &mask);
	cr_assert_eq(ipi_seen[0], 1);
	cr_assert_eq(ipi_seen[1], 0);
	cr_assert_eq(ipi_seen[2], 1);
	cr_assert_eq(ipi_seen[3], 0);
	cr_assert_eq(ipi_aex_seen[0] + ipi_aex_seen[2], 0, "nobody inside");
}

static void nothing(void *arg)
{
	(void)arg;
}

Test(sim, destroyed_stacks_are_reused_even_of_unfinished_threads)
{
	void *first;

	sim.hooks.step = stop_after_four;
	hook_steps = 3;
	sim_spawn(&sim, "loop", 0, false, forever, NULL);
	cr_assert_eq(sim_run(&sim), -ECANCELED);
	first = sim.threads[0].stack;
	sim_destroy(&sim);
	cr_assert_eq(sim_init(&sim, &cpu), 0);
	cr_assert_eq(sim_spawn(&sim, "again", 1, false, nothing, NULL), 0);
	cr_assert_eq(sim.threads[0].stack, first);
	cr_assert_eq(sim_run(&sim), 0);
}

/* ---- The cost model's charges ------------------------------------------ */

static struct sgx_costs costs;

static void setup_costs(void)
{
	setup();
	sgx_costs_at(&costs, SGX_COST_TYPICAL);
	cr_assert_eq(sim_set_costs(&sim, &costs), 0);
}

TestSuite(sim_costs, .init = setup_costs, .fini = teardown);

Test(sim_costs, events_and_mutexes_charge_the_callers_lp)
{
	sim.plat.mutex_init(sim.plat.ctx, &m1);
	sim.plat.mutex_lock(sim.plat.ctx, &m1);
	sim.plat.charge(sim.plat.ctx, SGX_COST_PAGE_LOOKUP);
	sim.plat.mutex_unlock(sim.plat.ctx, &m1);
	cr_assert_eq(sim.clock[0], costs.mutex_lock +
				       costs.event[SGX_COST_PAGE_LOOKUP] +
				       costs.mutex_unlock);
	cr_assert_eq(m1.longest_hold, costs.event[SGX_COST_PAGE_LOOKUP] +
					      costs.mutex_unlock);
	cr_assert_eq(sim.clock[1], 0);
}

Test(sim_costs, a_leaf_is_charged_to_the_lp_that_runs_it)
{
	/* A failing ETRACK costs its attempt all the same. */
	cr_assert_neq(encls_etrack(&cpu.lps[2], 0), 0);
	cr_assert_eq(sim.clock[2], costs.encls[ETRACK]);
	cr_assert_eq(sim.clock[0], 0);
}

Test(sim_costs, the_cpu_hooks_must_be_free)
{
	struct sim other;

	cr_assert_eq(sim_init(&other, &cpu), 0);
	cr_assert_eq(sim_set_costs(&other, &costs), -EBUSY);
}

Test(sim_costs, an_ipi_round_costs_the_sender_the_slowest_target)
{
	struct sgx_cpumask mask = { 0 };

	sgx_cpumask_set(&mask, 0); /* the sender: run locally, free */
	sgx_cpumask_set(&mask, 1);
	sgx_cpumask_set(&mask, 3);
	sim.plat.ipi(sim.plat.ctx, &mask);
	cr_assert_eq(sim.clock[0], 2 * costs.ipi_send + costs.ipi_remote);
	cr_assert_eq(sim.stats.ipi_wait, sim.clock[0]);
	cr_assert_eq(sim.clock[1], costs.ipi_remote);
	cr_assert_eq(sim.clock[2], 0);
	cr_assert_eq(sim.clock[3], costs.ipi_remote);
	cr_assert_eq(sgx_cost_ipi_round(&costs, 2, 1),
		     2 * costs.ipi_send + costs.ipi_remote + costs.aex);
	cr_assert_eq(sgx_cost_ipi_round(&costs, 0, 0), 0);
}

static void holder(void *arg)
{
	(void)arg;
	sim.plat.mutex_lock(sim.plat.ctx, &m1);
	sim.plat.charge(sim.plat.ctx, SGX_COST_SYSCALL);
	sim_yield(&sim);
	sim.plat.mutex_unlock(sim.plat.ctx, &m1);
}

/* The waiter's clock cannot be earlier than the release it waited for. */
Test(sim_costs, a_waiter_takes_the_mutex_no_earlier_than_its_release)
{
	uint64_t released = costs.mutex_lock +
			    costs.event[SGX_COST_SYSCALL] + costs.mutex_unlock;

	sim.plat.mutex_init(sim.plat.ctx, &m1);
	cr_assert_geq(sim_spawn(&sim, "a", 0, false, holder, NULL), 0);
	cr_assert_geq(sim_spawn(&sim, "b", 1, false, holder, NULL), 0);
	cr_assert_eq(sim_run(&sim), 0);
	cr_assert_eq(sim.clock[0], released);
	cr_assert_eq(sim.clock[1], released + released);
}

Test(sim_costs, cost_points_are_ordered_and_named)
{
	struct sgx_costs lo, hi;

	sgx_costs_at(&lo, SGX_COST_LOW);
	sgx_costs_at(&hi, SGX_COST_HIGH);
	cr_assert_leq(lo.encls[EMODPR], costs.encls[EMODPR]);
	cr_assert_leq(costs.encls[EMODPR], hi.encls[EMODPR]);
	cr_assert_lt(lo.ipi_remote, hi.ipi_remote);
	cr_assert_eq(sgx_cost_point_parse("typical"), SGX_COST_TYPICAL);
	cr_assert_eq(sgx_cost_point_parse("median"), -1);
	cr_assert_str_eq(sgx_cost_point_name(SGX_COST_HIGH), "high");
}
