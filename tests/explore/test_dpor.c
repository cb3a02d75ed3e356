// SPDX-License-Identifier: MIT
/*
 * Self-tests of the DPOR strategy (dpor.c) and of --shard:
 * - on small programs that plain DFS can enumerate completely (unbounded),
 *   DPOR reaches every distinct final state DFS reaches, in fewer
 *   executions when the threads' steps are independent;
 * - its dependency relation: threads touching disjoint objects need one
 *   execution, threads on one object all their orders;
 * - the parts --shard I/N explores are disjoint and their union is what one
 *   run explores, for DFS (same executions) and DPOR (same final states).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "explore/engine.h"
#include "explore/explore.h"

/*
 * The programs: each thread runs ops[t], a list of steps; a step either
 * updates a shared cell (x = x * 5 + thread + 1, touching that cell), or
 * takes or drops the shared mutex, or only yields. The final state is the
 * cells' values and the order in which threads took the mutex.
 */
enum { OP_END, OP_CELL0, OP_CELL1, OP_CELL2, OP_LOCK, OP_UNLOCK, OP_NOP };

#define THREADS 3
#define OPS 6

static unsigned char prog[THREADS][OPS];
static unsigned int nr_threads;

struct state {
	uint64_t cell[3];
	uint64_t lock_order;
	struct sgx_mutex m;
};

static struct state st;
static struct sgx_cpu kept_cpu;
static bool kept;

/* Distinct final states seen, as hashes. */
#define FINALS_MAX 4096
static uint64_t finals[FINALS_MAX];
static unsigned int nr_finals;

static void add_final(uint64_t h)
{
	for (unsigned int i = 0; i < nr_finals; i++)
		if (finals[i] == h)
			return;
	cr_assert_lt(nr_finals, FINALS_MAX);
	finals[nr_finals++] = h;
}

static void thread_main(void *arg)
{
	struct xp_world *w = arg;
	unsigned int t = sim_current(&w->sim)->id;
	const struct sgx_platform *plat = &w->sim.plat;

	for (unsigned int i = 0; i < OPS && prog[t][i] != OP_END; i++) {
		unsigned char op = prog[t][i];

		if (op <= OP_CELL2) {
			xp_touch(w, SIM_OBJ(SIM_OBJ_ENV, 1 + op - OP_CELL0));
			st.cell[op - OP_CELL0] =
				st.cell[op - OP_CELL0] * 5 + t + 1;
		} else if (op == OP_LOCK) {
			plat->mutex_lock(plat->ctx, &st.m);
			st.lock_order = st.lock_order * 5 + t + 1;
		} else if (op == OP_UNLOCK) {
			plat->mutex_unlock(plat->ctx, &st.m);
		}
		sim_yield(&w->sim);
	}
}

static int prog_build(struct xp_world *w)
{
	struct sgx_cpu_config cfg = { .epc_pages = 1, .nr_lps = 4, .seed = 1 };
	int ret = 0;

	if (!kept)
		ret = sgx_cpu_init(&kept_cpu, &cfg);
	if (ret)
		return ret;
	kept = true;
	w->cpu = kept_cpu;
	sgx_cpu_reset(&w->cpu);
	memset(&st, 0, sizeof(st));
	ret = sim_init(&w->sim, &w->cpu);
	w->sim.plat.mutex_init(w->sim.plat.ctx, &st.m);
	/* They report what they share: no implicit objects. */
	for (unsigned int t = 0; !ret && t < nr_threads; t++) {
		ret = sim_spawn(&w->sim, "prog", t, false, thread_main, w);
		ret = ret < 0 ? ret : 0;
		w->declared_threads |= 1U << t;
	}
	return ret;
}

static const char *prog_end(struct xp_world *w, int run_result)
{
	uint64_t h = xp_mix64(st.lock_order);

	for (unsigned int i = 0; i < 3; i++)
		h = xp_mix64(h ^ st.cell[i]);
	if (!run_result)
		add_final(h);
	return NULL;
}

static void prog_destroy(struct xp_world *w)
{
	sim_destroy(&w->sim);
}

static const struct xp_scenario prog_sc = {
	.name = "prog",
	.summary = "cells and a mutex",
	.build = prog_build,
	.check_end = prog_end,
	.destroy = prog_destroy,
};

static struct xp_result run(enum xp_strategy s, unsigned int shard,
			    unsigned int shards)
{
	struct xp_options opt = {
		.scenario = &prog_sc, .strategy = s, .executions = 10000000,
		.seed = 1, .preemptions = XP_UNBOUNDED, .shard = shard,
		.shards = shards,
	};
	struct xp_result res;

	nr_finals = 0;
	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_assert(res.complete, "the exploration completes");
	cr_assert_eq(res.violations, 0);
	return res;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sorted final states of one exploration, into out. */
static unsigned int finals_of(enum xp_strategy s, uint64_t *out,
			      uint64_t *executions)
{
	struct xp_result r = run(s, 0, 0);

	*executions = r.executions;
	qsort(finals, nr_finals, sizeof(finals[0]), cmp_u64);
	memcpy(out, finals, nr_finals * sizeof(finals[0]));
	return nr_finals;
}

static void set_prog(const char *const text[THREADS])
{
	static const char codes[] = " 012LUn";

	memset(prog, 0, sizeof(prog));
	nr_threads = 0;
	for (unsigned int t = 0; t < THREADS && text[t]; t++, nr_threads++)
		for (unsigned int i = 0; text[t][i]; i++)
			prog[t][i] = (unsigned char)(strchr(codes, text[t][i]) -
						     codes);
}

/* DFS and DPOR reach the same final states; returns both counts. */
static void same_finals(const char *const text[THREADS], uint64_t *dfs_n,
			uint64_t *dpor_n)
{
	static uint64_t a[FINALS_MAX], b[FINALS_MAX];
	unsigned int na, nb;

	set_prog(text);
	na = finals_of(XP_DFS, a, dfs_n);
	nb = finals_of(XP_DPOR, b, dpor_n);
	cr_assert_eq(na, nb, "DFS reaches %u final states, DPOR %u", na, nb);
	cr_assert_eq(memcmp(a, b, na * sizeof(a[0])), 0);
	cr_assert_leq(*dpor_n, *dfs_n);
}

Test(dpor, disjoint_cells_need_one_execution)
{
	const char *const p[THREADS] = { "000", "111", "222" };
	uint64_t dfs, dpor;

	same_finals(p, &dfs, &dpor);
	cr_assert_eq(nr_finals, 1);
	cr_assert_eq(dpor, 1, "independent threads: %lu executions",
		     (unsigned long)dpor);
	cr_assert_gt(dfs, 1000);
}

Test(dpor, one_cell_all_orders)
{
	const char *const p[THREADS] = { "00", "00", "0" };
	uint64_t dfs, dpor;

	same_finals(p, &dfs, &dpor);
	/* 5 updates in program order: 5! / (2! 2! 1!) = 30 final values. */
	cr_assert_eq(nr_finals, 30);
	cr_assert_eq(dpor, 30, "one execution per trace: %lu",
		     (unsigned long)dpor);
}

Test(dpor, mixed_cells_and_nops)
{
	const char *const p[THREADS] = { "0n1n", "n1n2", "2n0" };
	uint64_t dfs, dpor;

	same_finals(p, &dfs, &dpor);
	cr_assert_lt(dpor, dfs / 10);
}

Test(dpor, mutex_sections)
{
	const char *const p[THREADS] = { "L0U1", "0LU", NULL };
	uint64_t dfs, dpor;

	same_finals(p, &dfs, &dpor);
	cr_assert_lt(dpor, dfs);
}

Test(dpor, shards_are_disjoint_and_cover)
{
	const char *const p[THREADS] = { "0n1", "n1n2", "2n0" };
	static uint64_t all[FINALS_MAX];
	uint64_t whole_dfs, parts = 0, whole_dpor;
	unsigned int n_all;

	set_prog(p);
	whole_dfs = run(XP_DFS, 0, 0).executions;
	for (unsigned int i = 0; i < 3; i++)
		parts += run(XP_DFS, i, 3).executions;
	cr_assert_eq(parts, whole_dfs, "DFS shards: %lu executions, one run %lu",
		     (unsigned long)parts, (unsigned long)whole_dfs);
	n_all = finals_of(XP_DPOR, all, &whole_dpor);
	/* DPOR shards: each final state in some shard, nothing else. */
	uint64_t seen[FINALS_MAX];
	unsigned int n_seen = 0;

	for (unsigned int i = 0; i < 4; i++) {
		run(XP_DPOR, i, 4);
		for (unsigned int j = 0; j < nr_finals; j++) {
			bool dup = false;

			for (unsigned int k = 0; k < n_seen; k++)
				dup |= seen[k] == finals[j];
			if (!dup)
				seen[n_seen++] = finals[j];
		}
	}
	qsort(seen, n_seen, sizeof(seen[0]), cmp_u64);
	cr_assert_eq(n_seen, n_all);
	cr_assert_eq(memcmp(seen, all, n_all * sizeof(all[0])), 0);
}
