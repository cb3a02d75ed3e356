// SPDX-License-Identifier: MIT
/*
 * Self-tests of the explorer engine, on tiny programs whose schedules can
 * be counted by hand: DFS enumerates exactly the interleavings within its
 * preemption bound (C(2k,k) unbounded for two threads of k steps, as
 * exhaustigen's 4! test), random and PCT stay inside that space, a replay
 * reproduces the trace hash of the execution it came from, violations stop
 * their execution and replay to the same message, and malformed schedule
 * strings are refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explore/engine.h"
#include "explore/explore.h"

/*
 * The tiny program: tiny_threads threads of tiny_steps steps each, a step
 * being the code between two preemption points.
 */
static unsigned int tiny_threads = 2, tiny_steps = 3;

static void tiny_thread(void *arg)
{
	struct xp_world *w = arg;

	for (unsigned int i = 1; i < tiny_steps; i++)
		sim_yield(&w->sim);
}

static int tiny_machine(struct xp_world *w)
{
	struct sgx_cpu_config cfg = { .epc_pages = 1, .nr_lps = 4, .seed = 1 };
	int ret = sgx_cpu_init(&w->cpu, &cfg);

	if (ret)
		return ret;
	return sim_init(&w->sim, &w->cpu);
}

static int tiny_build(struct xp_world *w)
{
	int ret = tiny_machine(w);

	for (unsigned int i = 0; ret >= 0 && i < tiny_threads; i++)
		ret = sim_spawn(&w->sim, "tiny", i % 4, false, tiny_thread, w);
	return ret < 0 ? ret : 0;
}

static void tiny_destroy(struct xp_world *w)
{
	sim_destroy(&w->sim);
	sgx_cpu_destroy(&w->cpu);
}

static const struct xp_scenario tiny = {
	.name = "tiny",
	.summary = "threads of a few empty steps",
	.build = tiny_build,
	.destroy = tiny_destroy,
};

static struct xp_result explore(const struct xp_scenario *sc,
				enum xp_strategy strategy, uint64_t executions,
				unsigned int bound_or_depth)
{
	struct xp_options opt = {
		.scenario = sc,
		.strategy = strategy,
		.executions = executions,
		.seed = 42,
		.preemptions = bound_or_depth,
		.depth = bound_or_depth,
	};
	struct xp_result res;

	cr_assert_eq(xp_explore(&opt, &res), 0);
	return res;
}

static void expect_dfs(unsigned int threads, unsigned int steps,
		       unsigned int bound, uint64_t schedules)
{
	struct xp_result res;

	tiny_threads = threads;
	tiny_steps = steps;
	res = explore(&tiny, XP_DFS, 1000000, bound);
	cr_expect(res.complete, "%u x %u bound %u", threads, steps, bound);
	cr_expect_eq(res.executions, schedules, "%u x %u bound %u: %llu",
		     threads, steps, bound,
		     (unsigned long long)res.executions);
	cr_expect_eq(res.distinct, schedules, "%u x %u bound %u", threads,
		     steps, bound);
	cr_expect_eq(res.violations, 0);
}

/* Two threads of k steps: C(2k, k) interleavings, 2 without preemption. */
Test(dfs, two_threads_exact_counts_by_preemption_bound)
{
	expect_dfs(2, 3, 0, 2);
	expect_dfs(2, 3, 1, 6);
	expect_dfs(2, 3, 2, 14);
	expect_dfs(2, 3, 3, 18);
	expect_dfs(2, 3, XP_UNBOUNDED, 20);
	expect_dfs(2, 4, 0, 2);
	expect_dfs(2, 4, 1, 8);
	expect_dfs(2, 4, 2, 26);
	expect_dfs(2, 4, 3, 44);
	expect_dfs(2, 4, XP_UNBOUNDED, 70);
}

/* Three threads: 3! orders of one step; 6!/(2!)^3 = 90 of two steps. */
Test(dfs, three_threads_exact_counts)
{
	expect_dfs(3, 1, 0, 6);
	expect_dfs(3, 1, XP_UNBOUNDED, 6);
	expect_dfs(3, 2, 0, 6);
	expect_dfs(3, 2, 1, 24);
	expect_dfs(3, 2, 2, 60);
	expect_dfs(3, 2, 3, 90);
	expect_dfs(3, 2, XP_UNBOUNDED, 90);
}

Test(dfs, a_single_thread_has_one_schedule)
{
	expect_dfs(1, 5, XP_UNBOUNDED, 1);
}

Test(dfs, stops_at_the_execution_budget_incomplete)
{
	struct xp_result res;

	tiny_threads = 2;
	tiny_steps = 4;
	res = explore(&tiny, XP_DFS, 69, XP_UNBOUNDED);
	cr_expect_not(res.complete);
	cr_expect_eq(res.executions, 69);
	res = explore(&tiny, XP_DFS, 70, XP_UNBOUNDED);
	cr_expect(res.complete, "the 70th execution is the last one");
	cr_expect_eq(res.executions, 70);
}

Test(random, covers_the_space_and_nothing_else)
{
	struct xp_result res;

	tiny_threads = 2;
	tiny_steps = 3;
	res = explore(&tiny, XP_RANDOM, 2000, 0);
	cr_expect_eq(res.executions, 2000);
	cr_expect_eq(res.distinct, 20, "C(6,3) = 20, got %llu",
		     (unsigned long long)res.distinct);
	cr_expect_not(res.complete);
	cr_expect_eq(res.steps, 2000 * 6);
	cr_expect_eq(res.steps_max_seen, 6);
}

/*
 * With two threads, PCT of depth d reaches exactly the schedules with at
 * most d - 1 preemptions: 2, 6 and 14 for k = 3 (the DFS counts above).
 */
Test(pct, depth_d_reaches_the_schedules_of_d_minus_1_preemptions)
{
	tiny_threads = 2;
	tiny_steps = 3;
	cr_expect_eq(explore(&tiny, XP_PCT, 3000, 1).distinct, 2);
	cr_expect_eq(explore(&tiny, XP_PCT, 3000, 2).distinct, 6);
	cr_expect_eq(explore(&tiny, XP_PCT, 3000, 3).distinct, 14);
	tiny_threads = 3;
	tiny_steps = 1;
	cr_expect_eq(explore(&tiny, XP_PCT, 3000, 1).distinct, 6, "3! orders");
}

Test(options, bad_ones_are_refused)
{
	struct xp_options opt = { .scenario = &tiny, .strategy = XP_PCT,
				  .executions = 1 };
	struct xp_scenario unnamed = tiny;
	struct xp_result res;

	cr_expect_eq(xp_explore(&opt, &res), -EINVAL, "PCT depth 0");
	opt.depth = XP_PCT_DEPTH_MAX + 1;
	cr_expect_eq(xp_explore(&opt, &res), -EINVAL);
	opt.strategy = XP_REPLAY;
	cr_expect_eq(xp_explore(&opt, &res), -EINVAL, "replay is xp_replay");
	opt.strategy = XP_RANDOM;
	opt.plants = 1;
	cr_expect_eq(xp_explore(&opt, &res), -EINVAL, "not a planted build");
	opt.plants = 0;
	unnamed.name = "two words";
	opt.scenario = &unnamed;
	cr_expect_eq(xp_explore(&opt, &res), -EINVAL);
	opt.scenario = NULL;
	cr_expect_eq(xp_explore(&opt, &res), -EINVAL);
}

/* Every execution's schedule and hash, for the replay tests. */
#define RECORDED_MAX 64

struct recorded {
	char *schedule[RECORDED_MAX];
	uint64_t hash[RECORDED_MAX];
	bool violated[RECORDED_MAX];
	unsigned int n;
};

static void record_execution(void *ctx, const char *schedule, uint64_t hash,
			     const char *violation)
{
	struct recorded *r = ctx;

	if (r->n == RECORDED_MAX)
		return;
	r->schedule[r->n] = strdup(schedule);
	cr_assert_not_null(r->schedule[r->n]);
	r->hash[r->n] = hash;
	r->violated[r->n++] = violation != NULL;
}

static void expect_replays(const struct xp_scenario *sc,
			   enum xp_strategy strategy, unsigned int param,
			   uint64_t executions)
{
	struct recorded r = { .n = 0 };
	struct xp_options opt = {
		.scenario = sc, .strategy = strategy,
		.executions = executions, .seed = 7, .preemptions = param,
		.depth = param, .etrack_batch = 1,
		.on_execution = record_execution, .on_execution_ctx = &r,
	};
	struct xp_result res;

	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_assert_eq(r.n, res.executions < RECORDED_MAX ? res.executions :
							     RECORDED_MAX);
	for (unsigned int i = 0; i < r.n; i++) {
		uint64_t hash = 0;

		cr_assert_eq(xp_replay_scenario(sc, r.schedule[i], NULL, &res,
						&hash),
			     0, "%s", r.schedule[i]);
		cr_expect_eq(hash, r.hash[i], "%s", r.schedule[i]);
		cr_expect_eq(res.violations, r.violated[i]);
		free(r.schedule[i]);
	}
}

Test(replay, reproduces_the_trace_hash_of_every_strategy)
{
	tiny_threads = 3;
	tiny_steps = 4;
	expect_replays(&tiny, XP_RANDOM, 0, 64);
	expect_replays(&tiny, XP_PCT, 3, 64);
	expect_replays(&tiny, XP_DFS, 2, 64);
}

/* The lost update: read, preemption point, write back plus one. */
static int counter;

static void incrementer(void *arg)
{
	struct xp_world *w = arg;
	int seen = counter;

	sim_yield(&w->sim);
	counter = seen + 1;
}

static int racy_build(struct xp_world *w)
{
	int ret = tiny_machine(w);

	counter = 0;
	if (!ret)
		ret = sim_spawn(&w->sim, "inc", 0, false, incrementer, w);
	if (ret >= 0)
		ret = sim_spawn(&w->sim, "inc", 1, false, incrementer, w);
	return ret < 0 ? ret : 0;
}

static const char *racy_end(struct xp_world *w, int run)
{
	return counter == 2 ? NULL : "lost update";
}

static const struct xp_scenario racy = {
	.name = "racy",
	.build = racy_build,
	.check_end = racy_end,
	.destroy = tiny_destroy,
};

/*
 * Of the 6 schedules, 4 read twice before writing. DFS first runs A to the
 * end, then preempts A after its read: the second execution loses.
 */
Test(violations, dfs_counts_the_lost_updates_and_replays_the_first)
{
	struct xp_result res = explore(&racy, XP_DFS, 100, XP_UNBOUNDED);
	struct xp_result again;
	uint64_t hash;

	cr_expect(res.complete);
	cr_expect_eq(res.executions, 6);
	cr_expect_eq(res.violations, 4);
	cr_expect_eq(res.first_violation, 2);
	cr_expect_str_eq(res.message, "lost update");
	cr_expect_str_eq(res.schedule, "s1:racy:b0,m200000,s42:ab2",
			 "the last pick has no alternative: not recorded");
	cr_assert_eq(xp_replay_scenario(&racy, res.schedule, NULL, &again,
					&hash),
		     0);
	cr_expect_eq(again.violations, 1);
	cr_expect_eq(again.first_violation, 1);
	cr_expect_str_eq(again.message, "lost update");
	cr_expect_str_eq(again.schedule, res.schedule);
}

Test(violations, stop_on_violation_ends_the_exploration)
{
	struct xp_options opt = { .scenario = &racy, .strategy = XP_RANDOM,
				  .executions = 1000, .seed = 3,
				  .stop_on_violation = true };
	struct xp_result res;

	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect_eq(res.violations, 1);
	cr_expect_eq(res.executions, res.first_violation);
}

/* A step check that fires in the middle of a run stops it right there. */
static const char *racy_step(struct xp_world *w)
{
	return counter == 1 && w->sim.threads[1].state == SIM_DONE &&
			       w->sim.threads[0].state != SIM_DONE ?
		       "second incrementer first" :
		       NULL;
}

static const struct xp_scenario racy_steps = {
	.name = "racy_steps",
	.build = racy_build,
	.check_step = racy_step,
	.destroy = tiny_destroy,
};

Test(violations, a_step_violation_stops_its_execution)
{
	struct xp_result res = explore(&racy_steps, XP_DFS, 100, 0);
	struct xp_result again;
	uint64_t hash;

	/* Bound 0: A then B (clean), B then A (caught after B's 2nd step). */
	cr_expect_eq(res.executions, 2);
	cr_expect_eq(res.violations, 1);
	cr_expect_str_eq(res.schedule, "s1:racy_steps:b0,m200000,s42:b2");
	cr_expect_eq(res.steps, 4 + 2, "the second run stopped after 2 steps");
	cr_assert_eq(xp_replay_scenario(&racy_steps, res.schedule, NULL,
					&again, &hash),
		     0);
	cr_expect_eq(again.steps, 2);
	cr_expect_str_eq(again.message, "second incrementer first");
}

/* Opposite lock orders: some schedule deadlocks. */
static struct sgx_mutex lock_a, lock_b;

static void locker(void *arg)
{
	struct xp_world *w = arg;
	bool reverse = sim_current(&w->sim)->id == 1;
	struct sgx_mutex *first = reverse ? &lock_b : &lock_a;
	struct sgx_mutex *second = reverse ? &lock_a : &lock_b;

	w->sim.plat.mutex_lock(w->sim.plat.ctx, first);
	w->sim.plat.mutex_lock(w->sim.plat.ctx, second);
	w->sim.plat.mutex_unlock(w->sim.plat.ctx, second);
	w->sim.plat.mutex_unlock(w->sim.plat.ctx, first);
}

static int locks_build(struct xp_world *w)
{
	int ret = tiny_machine(w);

	memset(&lock_a, 0, sizeof(lock_a));
	memset(&lock_b, 0, sizeof(lock_b));
	if (!ret)
		ret = sim_spawn(&w->sim, "ab", 0, false, locker, w);
	if (ret >= 0)
		ret = sim_spawn(&w->sim, "ba", 1, false, locker, w);
	return ret < 0 ? ret : 0;
}

static const struct xp_scenario locks = {
	.name = "locks", .build = locks_build, .destroy = tiny_destroy,
};

Test(violations, deadlock_is_one)
{
	struct xp_result res = explore(&locks, XP_DFS, 1000, 1);

	cr_expect(res.complete);
	cr_expect_gt(res.violations, 0);
	cr_expect_lt(res.violations, res.executions);
	cr_expect_eq(strncmp(res.message, "deadlock", 8), 0, "%s",
		     res.message);
}

static void spinner(void *arg)
{
	struct xp_world *w = arg;

	for (;;)
		sim_yield(&w->sim);
}

static int spin_build(struct xp_world *w)
{
	int ret = tiny_machine(w);

	if (!ret)
		ret = sim_spawn(&w->sim, "spin", 0, false, spinner, w);
	return ret < 0 ? ret : 0;
}

static const struct xp_scenario spin = {
	.name = "spin", .build = spin_build, .destroy = tiny_destroy,
};

Test(violations, livelock_is_one_at_steps_max)
{
	struct xp_options opt = { .scenario = &spin, .strategy = XP_RANDOM,
				  .executions = 3, .steps_max = 50 };
	struct xp_result res, again;

	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect_eq(res.violations, 3);
	cr_expect_eq(res.steps, 150);
	opt.strategy = XP_DFS;
	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect(res.complete, "one thread: one schedule");
	cr_expect_eq(res.violations, 1);
	cr_expect_eq(strncmp(res.message, "livelock", 8), 0);
	cr_expect_str_eq(res.schedule, "s1:spin:b0,m50,s0:", "%s",
			 res.schedule);
	cr_assert_eq(xp_replay_scenario(&spin, res.schedule, NULL, &again,
					NULL),
		     0);
	cr_expect_eq(again.steps, 50);
}

static const char *const bad_schedules[] = {
	"",
	"s1",
	"s1:",
	"s1:tiny",
	"s1:tiny:",
	"s1:tiny:b0,m10,s0",
	"s2:tiny:b0,m10,s0:",
	"S1:tiny:b0,m10,s0:",
	"s1:other:b0,m10,s0:",
	"s1:ti ny:b0,m10,s0:",
	"s1::b0,m10,s0:",
	"s1:tiny:m10,s0:",
	"s1:tiny:b0,s0:",
	"s1:tiny:b0,m10:",
	"s1:tiny:b0,b0,m10,s0:",
	"s1:tiny:b0,m0,s0:",
	"s1:tiny:b0,m10,s0,p0:",
	"s1:tiny:b0,m10,s0,l1:",
	"s1:tiny:b0,m10,s0,l0,l0:",
	"s1:tiny:b0,m10,s0,q1:",
	"s1:tiny:b0,m010,s0:",
	"s1:tiny:b-1,m10,s0:",
	"s1:tiny:b4294967296,m10,s0:",
	"s1:tiny:b0,m18446744073709551616,s0:",
	"s1:tiny:b0,m10,s0,:",
	"s1:tiny:b0;m10,s0:",
	"s1:tiny:b0,m10,s0:a0",
	"s1:tiny:b0,m10,s0:a1",
	"s1:tiny:b0,m10,s0:a01",
	"s1:tiny:b0,m10,s0:aa",
	"s1:tiny:b0,m10,s0:a2a",
	"s1:tiny:b0,m10,s0:0",
	"s1:tiny:b0,m10,s0:G",
	"s1:tiny:b0,m10,s0:a-",
	"s1:tiny:b0,m10,s0:ab ",
	"s1:tiny:b0,m10,s0:a99999999999",
	/* Well formed, but not a run of this scenario: */
	"s1:tiny:b0,m10,s0:z",
	"s1:tiny:b0,m10,s0:ab100",
};

Test(schedule, malformed_or_foreign_strings_are_einval)
{
	tiny_threads = 2;
	tiny_steps = 3;
	for (size_t i = 0; i < sizeof(bad_schedules) / sizeof(*bad_schedules);
	     i++) {
		struct xp_result res;

		cr_expect_eq(xp_replay_scenario(&tiny, bad_schedules[i], NULL,
						&res, NULL),
			     -EINVAL, "'%s'", bad_schedules[i]);
	}
}

Test(schedule, parse_then_encode_is_the_identity)
{
	static const char *const good[] = {
		"s1:tiny:b0,m10,s0:",
		"s1:tiny:b1,m200000,s18446744073709551615:a3bca12",
		"s1:tiny:b1,m10,s0,l0:",
		"s1:a-b_C9:b4294967295,m1,s5,p3:FaEbDcC1000000",
	};
	struct xp_schedule s = { 0 };
	char buf[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		cr_assert_eq(xp_schedule_parse(good[i], &s), 0, "%s", good[i]);
		cr_assert_eq(xp_schedule_encode(&s, buf, sizeof(buf)),
			     (int)strlen(good[i]));
		cr_expect_str_eq(buf, good[i]);
	}
	cr_expect_eq(s.choices.len, 6 + 1000000);
	cr_expect_eq(s.choices.id[0], 31);
	cr_expect_eq(s.choices.id[6], 28);
	cr_expect_eq(xp_schedule_encode(&s, buf, 20), -ENOSPC);
	xp_choices_free(&s.choices);
}

static unsigned int built_batch, built_plants;
static uint64_t built_seed;
static bool built_no_checks;

static int settings_build(struct xp_world *w)
{
	built_batch = w->etrack_batch;
	built_no_checks = w->no_loop_checks;
	built_plants = w->plants;
	built_seed = w->seed;
	return tiny_build(w);
}

static const struct xp_scenario settings = {
	.name = "settings", .build = settings_build, .destroy = tiny_destroy,
};

Test(schedule, settings_reach_the_world)
{
	struct xp_options opt = { .scenario = &settings, .strategy = XP_DFS,
				  .executions = 1, .seed = 5,
				  .etrack_batch = 3 };
	struct xp_result res;

	tiny_threads = 1;
	cr_assert_eq(xp_replay_scenario(&settings, "s1:settings:b7,m10,s99:",
					NULL, &res, NULL),
		     0);
	cr_expect_eq(built_batch, 7);
	cr_expect_eq(built_seed, 99);
	cr_expect_eq(built_plants, 0);
	cr_expect(!built_no_checks);
	cr_assert_eq(xp_replay_scenario(&settings, "s1:settings:b1,m10,s9,l0:",
					NULL, &res, NULL),
		     0);
	cr_expect(built_no_checks, "l0: the driver without loop checks");
	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect_eq(built_batch, 3);
	cr_expect_eq(built_seed, 5, "DFS keeps the seed");
	opt.strategy = XP_RANDOM;
	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect_neq(built_seed, 5, "random derives one per execution");
}

/*
 * A JSON syntax check, enough to know Perfetto's parser will take the file:
 * value := object | array | string | number | true | false | null.
 */
static const char *json_value(const char *p);

static const char *json_space(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string_at(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\' && !*++p)
			return NULL;
	}
	return *p ? p + 1 : NULL;
}

static const char *json_list(const char *p, char close, bool object)
{
	p = json_space(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			p = json_string_at(json_space(p));
			if (!p || *(p = json_space(p)) != ':')
				return NULL;
			p++;
		}
		p = json_value(p);
		if (!p)
			return NULL;
		p = json_space(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p)
{
	p = json_space(p);
	if (*p == '{')
		return json_list(p, '}', true);
	if (*p == '[')
		return json_list(p, ']', false);
	if (*p == '"')
		return json_string_at(p);
	for (const char *word = "true\0false\0null\0"; *word;
	     word += strlen(word) + 1)
		if (!strncmp(p, word, strlen(word)))
			return p + strlen(word);
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		char *end;

		strtod(p, &end);
		return end;
	}
	return NULL;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* Leaves, an IPI and a span, without any enclave: only events matter. */
static void noisy(void *arg)
{
	struct xp_world *w = arg;
	struct sgx_lp *lp = w->sim.plat.this_lp(w->sim.plat.ctx);
	struct sgx_cpumask mask = { 0 };

	xp_trace_span(w, "ioctl \"quoted\"", true);
	sgx_cpumask_set(&mask, 1);
	w->sim.plat.ipi(w->sim.plat.ctx, &mask);
	sim_yield(&w->sim);
	encls_etrack(lp, 0);
	enclu_eexit(lp, 0);
	xp_trace_span(w, "ioctl \"quoted\"", false);
}

static int noisy_build(struct xp_world *w)
{
	int ret = tiny_machine(w);

	if (!ret)
		ret = sim_spawn(&w->sim, "noisy\t0", 0, false, noisy, w);
	if (ret >= 0)
		ret = sim_spawn(&w->sim, "noisy 1", 1, false, noisy, w);
	return ret < 0 ? ret : 0;
}

static const struct xp_scenario noisy_scenario = {
	.name = "noisy", .build = noisy_build, .destroy = tiny_destroy,
};

Test(trace, replay_writes_valid_chrome_json_with_every_event_kind)
{
	char path[64];
	uint64_t plain, traced;
	struct xp_result res;
	char *json;

	snprintf(path, sizeof(path), "/tmp/sgxemu-trace-%d.json", getpid());
	cr_assert_eq(xp_replay_scenario(&noisy_scenario,
					"s1:noisy:b0,m100,s0:ab2", NULL,
					&res, &plain),
		     0);
	cr_assert_eq(xp_replay_scenario(&noisy_scenario,
					"s1:noisy:b0,m100,s0:ab2", path, &res,
					&traced),
		     0);
	cr_expect_eq(plain, traced, "recording changes nothing");
	json = read_file(path);
	unlink(path);
	cr_assert_not_null(json_value(json), "not JSON:\n%s", json);
	cr_expect_eq(*json_space(json_value(json)), '\0');
	cr_expect_not_null(strstr(json, "\"traceEvents\":["));
	cr_expect_not_null(strstr(json, "\"name\":\"ETRACK\""));
	cr_expect_not_null(strstr(json, "\"name\":\"EEXIT\""));
	cr_expect_not_null(strstr(json, "\"name\":\"IPI\""));
	cr_expect_not_null(strstr(json, "\"name\":\"noisy\\u0009"));
	cr_expect_not_null(strstr(json, "\"ph\":\"B\",\"name\":\"ioctl "
					"\\\"quoted\\\"\""));
	cr_expect_not_null(strstr(json, "\"ph\":\"X\",\"name\":\"step\""));
	free(json);
	cr_expect_eq(xp_replay_scenario(&noisy_scenario,
					"s1:noisy:b0,m100,s0:ab2",
					"/nonexistent/dir/trace.json", &res,
					NULL),
		     -ENOENT);
}

Test(trace, hash_tells_schedules_apart)
{
	uint64_t h[3];
	struct xp_result res;
	const char *const schedules[3] = {
		"s1:noisy:b0,m100,s0:ab2",
		"s1:noisy:b0,m100,s0:a2",
		"s1:noisy:b0,m100,s0:ba2",
	};

	for (int i = 0; i < 3; i++)
		cr_assert_eq(xp_replay_scenario(&noisy_scenario, schedules[i],
						NULL, &res, &h[i]),
			     0, "%s", schedules[i]);
	cr_expect_neq(h[0], h[1]);
	cr_expect_neq(h[0], h[2]);
	cr_expect_neq(h[1], h[2]);
}

/*
 * sgx_cpu_reset(), which lets a world reuse its CPU between executions:
 * after any use the package is exactly as sgx_cpu_init() made it.
 */
Test(arch_reset, gives_back_the_freshly_initialized_package)
{
	struct sgx_cpu_config cfg = { .epc_pages = 8, .nr_lps = 3, .seed = 9 };
	static struct sgx_cpu used, fresh;
	uint8_t *epc;

	cr_assert_eq(sgx_cpu_init(&used, &cfg), 0);
	cr_assert_eq(sgx_cpu_init(&fresh, &cfg), 0);
	cr_assert_eq(encls_epa(&used.lps[0], PT_VA, sgx_epc_addr(&used, 2)), 0);
	memset(used.epc + 5 * PAGE_SIZE, 0xAB, PAGE_SIZE);
	used.lps[1].enclave_mode = true;
	used.lps[1].tlb[3].vpn = 77;
	used.lps[2].tlb_gen = 40;
	used.next_eid = 12;
	used.next_version = 99;
	used.hooks.ctx = &used;
	used.stats.aex = 3;
	epc = used.epc;
	sgx_cpu_reset(&used);
	cr_expect_eq(used.epc, epc, "the memory is kept");
	cr_expect_eq(memcmp(used.epc, fresh.epc, 8 * PAGE_SIZE), 0);
	cr_expect_eq(memcmp(used.epcm, fresh.epcm, 8 * sizeof(*used.epcm)), 0);
	for (unsigned int i = 0; i < 3; i++) {
		used.lps[i].cpu = &fresh;
		cr_expect_eq(memcmp(&used.lps[i], &fresh.lps[i],
				    sizeof(used.lps[i])),
			     0, "LP %u", i);
		used.lps[i].cpu = &used;
	}
	cr_expect_eq(used.next_eid, fresh.next_eid);
	cr_expect_eq(used.next_version, fresh.next_version);
	cr_expect_null(used.hooks.ctx);
	cr_expect_eq(memcmp(&used.stats, &fresh.stats, sizeof(used.stats)), 0);
	cr_expect_eq(memcmp(used.paging_key, fresh.paging_key, 16), 0);
	cr_expect_eq(memcmp(used.seal_key_secret, fresh.seal_key_secret, 32),
		     0);
	cr_expect_eq(encls_epa(&used.lps[0], PT_VA, sgx_epc_addr(&used, 2)), 0,
		     "the page is free again");
	cr_expect_eq(used.stats.encls[EPA], 1);
	sgx_cpu_destroy(&used);
	sgx_cpu_destroy(&fresh);
}

/*
 * The real thing: x2's restrict-vs-reclaimer scenarios from the registry,
 * with the Linux driver (one ETRACK flow per page). A replay of any of
 * their executions gives the same trace hash, whichever strategy made it;
 * DFS with two preemptions explores the 2-page one completely, and every
 * schedule it runs is a distinct one.
 */
static const struct xp_scenario *registered(const char *name)
{
	const struct xp_scenario *sc = xp_scenario_find(name);

	cr_assert_not_null(sc, "no scenario %s in the registry", name);
	return sc;
}

Test(registry, replays_of_restrict_vs_reclaim4_are_identical)
{
	const struct xp_scenario *sc = registered("restrict_vs_reclaim4");

	expect_replays(sc, XP_RANDOM, 0, RECORDED_MAX);
	expect_replays(sc, XP_PCT, 3, RECORDED_MAX);
	expect_replays(sc, XP_DFS, 2, RECORDED_MAX);
}

Test(registry, dfs_bound_2_completes_restrict_vs_reclaim, .timeout = 600)
{
	struct xp_options opt = {
		.scenario = registered("restrict_vs_reclaim"),
		.strategy = XP_DFS, .executions = 50000000, .seed = 1,
		.preemptions = 2, .etrack_batch = 1,
	};
	struct xp_result res;

	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect(res.complete, "%llu executions",
		  (unsigned long long)res.executions);
	cr_expect_eq(res.violations, 0, "%s: %s", res.message, res.schedule);
	cr_expect_eq(res.distinct, res.executions);
}

/*
 * Worker processes: random executions depend on (seed, index) alone, so
 * any number of workers finds the same executions, the same distinct
 * schedules and the same first violation.
 */
Test(jobs, workers_find_what_one_process_finds)
{
	struct xp_options opt = { .scenario = &racy, .strategy = XP_RANDOM,
				  .executions = 3000, .seed = 11 };
	struct xp_result one, three;

	cr_assert_eq(xp_explore(&opt, &one), 0);
	opt.jobs = 3;
	cr_assert_eq(xp_explore(&opt, &three), 0);
	cr_expect_eq(three.executions, 3000);
	cr_expect_eq(three.distinct, one.distinct);
	cr_expect_eq(three.violations, one.violations);
	cr_expect_eq(three.steps, one.steps);
	cr_expect_eq(three.first_violation, one.first_violation);
	cr_expect_str_eq(three.schedule, one.schedule);
	cr_expect_str_eq(three.message, "lost update");
	opt.jobs = 2;
	opt.strategy = XP_PCT;
	opt.depth = 2;
	cr_assert_eq(xp_explore(&opt, &three), 0);
	cr_expect_eq(three.executions, 3000);
	cr_expect_eq(three.distinct, 4, "2 x 2 steps, one preemption");
}

Test(jobs, stop_on_violation_stops_every_worker)
{
	struct xp_options opt = { .scenario = &racy, .strategy = XP_RANDOM,
				  .executions = 1000000, .seed = 3,
				  .stop_on_violation = true, .jobs = 2 };
	struct xp_result res;

	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect_geq(res.violations, 1);
	cr_expect_leq(res.violations, 2);
	cr_expect_lt(res.executions, 1000000);
}

Test(jobs, only_for_random_and_pct_without_callbacks)
{
	struct xp_options opt = { .scenario = &tiny, .strategy = XP_DFS,
				  .executions = 10, .jobs = 2 };
	struct recorded r = { .n = 0 };
	struct xp_result res;

	cr_expect_eq(xp_explore(&opt, &res), -EINVAL);
	opt.strategy = XP_RANDOM;
	opt.on_execution = record_execution;
	opt.on_execution_ctx = &r;
	cr_expect_eq(xp_explore(&opt, &res), -EINVAL);
	opt.on_execution = NULL;
	opt.jobs = XP_JOBS_MAX + 1;
	cr_expect_eq(xp_explore(&opt, &res), -EINVAL);
}
