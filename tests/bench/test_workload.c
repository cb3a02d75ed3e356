// SPDX-License-Identifier: MIT
/*
 * The benchmark's workload: the counted events of one EDMM call under each
 * ETRACK policy, and the cost model's accounting of them. Counts are exact;
 * cycles are asserted only as the model's own arithmetic, never as time.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "bench/workload.h"

static struct bench_point point(uint64_t pages, unsigned int cpus,
				unsigned int threads, unsigned int batch)
{
	struct bench_point p = {
		.pages = pages, .cpus = cpus, .threads = threads,
		.etrack_batch = batch, .op = BENCH_RESTRICT,
	};

	sgx_costs_at(&p.costs, SGX_COST_TYPICAL);
	return p;
}

static struct bench_result run(const struct bench_point *p)
{
	struct bench_result r;

	cr_assert_eq(bench_run(p, &r), 0, "pages %llu batch %u",
		     (unsigned long long)p->pages, p->etrack_batch);
	return r;
}

Test(workload, batch_0_is_one_flow_one_round_one_aex_per_thread)
{
	struct bench_point p = point(64, 4, 3, 0);
	struct bench_result r = run(&p);

	cr_assert_eq(r.etrack_flows, 1);
	cr_assert_eq(r.ipi_rounds, 1);
	cr_assert_eq(r.ipis, 4, "the caller and three threads");
	cr_assert_eq(r.aex_inflicted, 3);
}

Test(workload, batch_1_is_linux_one_flow_per_page)
{
	struct bench_point p = point(64, 4, 3, 1);
	struct bench_result r = run(&p);

	cr_assert_eq(r.etrack_flows, 64);
	cr_assert_eq(r.ipi_rounds, 64);
	cr_assert_eq(r.aex_inflicted, 64 * 3);
}

Test(workload, batch_7_rounds_up)
{
	struct bench_point p = point(64, 2, 1, 7);
	struct bench_result r = run(&p);

	cr_assert_eq(r.etrack_flows, 10);
	cr_assert_eq(r.aex_inflicted, 10);
}

/* Batch 0 pays the limit plus the per-page loop checks, nothing else. */
Test(workload, batch_0_is_the_limit_plus_the_loop_checks)
{
	struct bench_point p = point(256, 4, 3, 0);
	struct bench_result r = run(&p);

	cr_assert_eq(r.latency_cycles,
		     r.limit_cycles +
			     256 * p.costs.event[SGX_COST_LOOP_CHECKS]);
}

/* Per page: the page's work plus a whole ETRACK round, N times over. */
Test(workload, batch_1_pays_a_round_per_page)
{
	struct bench_point p = point(16, 4, 3, 1);
	struct bench_result r = run(&p), r0;
	const struct sgx_costs *c = &p.costs;
	uint64_t round = bench_etrack_round(&p);

	p.etrack_batch = 0;
	r0 = run(&p);
	cr_assert_eq(round, c->encls[ETRACK] + c->mutex_lock +
				    c->mutex_unlock + 3 * c->ipi_send +
				    c->ipi_remote + c->aex);
	cr_assert_eq(r.latency_cycles, r0.latency_cycles + 15 * round);
	cr_assert_eq(r.lost_cycles,
		     16 * 3 * (c->ipi_remote + c->aex + c->enclu[ERESUME]));
	cr_assert_eq(r0.lost_cycles,
		     3 * (c->ipi_remote + c->aex + c->enclu[ERESUME]));
}

Test(workload, no_threads_no_aex_and_no_remote_round)
{
	struct bench_point p = point(8, 1, 0, 1);
	struct bench_result r = run(&p);

	cr_assert_eq(r.etrack_flows, 8);
	cr_assert_eq(r.aex_inflicted, 0);
	cr_assert_eq(r.lost_cycles, 0);
}

Test(workload, trim_prices_emodt)
{
	struct bench_point p = point(32, 2, 1, 0);
	struct bench_result r;
	uint64_t limit;

	p.op = BENCH_TRIM;
	p.costs.encls[EMODT] = 777;
	r = run(&p);
	cr_assert_eq(r.etrack_flows, 1);
	cr_assert_eq(r.latency_cycles,
		     r.limit_cycles + 32 * p.costs.event[SGX_COST_LOOP_CHECKS]);
	limit = bench_limit(&p);
	p.costs.encls[EMODT] = 0;
	cr_assert_eq(limit - 32 * 777, bench_limit(&p));
}

Test(workload, bad_points_are_refused)
{
	struct bench_result r;
	struct bench_point p = point(8, 4, 4, 0);

	cr_assert_eq(bench_run(&p, &r), -EINVAL, "threads must leave the caller a CPU");
	p = point(0, 4, 3, 0);
	cr_assert_eq(bench_run(&p, &r), -EINVAL);
	p = point(8, BENCH_CPUS_MAX + 1, 3, 0);
	cr_assert_eq(bench_run(&p, &r), -EINVAL);
}

/*
 * After the call the enclave EACCEPTs every page; each EACCEPT succeeds
 * only if the call tracked its page, and costs one EACCEPT on the
 * accepting thread's clock, whatever the batch and with or without
 * threads.
 */
Test(workload, the_enclave_accepts_every_page_after_the_call)
{
	const unsigned int batches[] = { 1, 0, 7, 512 };

	for (unsigned int i = 0; i < 4; i++)
		for (unsigned int op = BENCH_RESTRICT; op <= BENCH_TRIM; op++) {
			struct bench_point p = point(40, 4, 3, batches[i]);
			struct bench_result r;

			p.op = (enum bench_op)op;
			r = run(&p);
			cr_assert_eq(r.accept_cycles,
				     40 * p.costs.enclu[EACCEPT]);
			p.cpus = 1;
			p.threads = 0;
			r = run(&p);
			cr_assert_eq(r.accept_cycles,
				     40 * p.costs.enclu[EACCEPT]);
		}
}
