// SPDX-License-Identifier: MIT
/*
 * sgxemu bench --replay FILE: price a recorded EDMM trace (docs/TRACE.md)
 * under each ETRACK policy and cost point: a table (or --json on stdout)
 * and replay.csv in --out. Every figure is counted events priced by the
 * cost model; the speed-up is against batch 1 (Linux) at the same cost
 * point, when the list has it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench/replay.h"
#include "cli/bench.h"
#include "cli/cli.h"

static uint64_t edmm_latency(const struct replay_result *r)
{
	return r->latency[RC_RESTRICT] + r->latency[RC_MODT] +
	       r->latency[RC_REMOVE];
}

static uint64_t edmm_calls(const struct replay_result *r)
{
	return r->calls[RC_RESTRICT] + r->calls[RC_MODT] + r->calls[RC_REMOVE];
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void print_table(const struct replay_row *rows, size_t n)
{
	const struct replay_result *r0 = &rows[0].r;

	printf("%5s %-7s %4s %6s %14s %12s %7s %8s %7s %7s %7s %7s %7s %8s "
	       "%14s\n",
	       "batch", "cost", "cpus", "calls", "edmm_cyc", "per_call",
	       "x_limit", "speedup", "flows", "etracks", "rounds", "aex",
	       "eaugs", "diverged", "reclaim_cyc");
	for (size_t i = 0; i < n; i++) {
		const struct replay_result *r = &rows[i].r;
		char speedup[16] = "-";

		if (rows[i].baseline)
			snprintf(speedup, sizeof(speedup), "%.2f",
				 ratio(rows[i].baseline, edmm_latency(r)));
		printf("%5u %-7s %4u %6" PRIu64 " %14" PRIu64 " %12.0f %7.3f "
		       "%8s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
		       " %7" PRIu64 " %8" PRIu64 " %14" PRIu64 "\n",
		       rows[i].batch, sgx_cost_point_name(rows[i].cost), r->cpus,
		       edmm_calls(r), edmm_latency(r),
		       ratio(edmm_latency(r), edmm_calls(r)),
		       ratio(r->tracked_latency, r->tracked_limit), speedup,
		       r->etrack_flows, r->etracks, r->ipi_rounds,
		       r->aex_inflicted, r->eaugs, r->divergences,
		       r->reclaim_cycles);
	}
	printf("\ncalls (pages): restrict %" PRIu64 " (%" PRIu64 "), modt %"
	       PRIu64 " (%" PRIu64 "), remove %" PRIu64 " (%" PRIu64 ")\n"
	       "range sizes in pages:",
	       r0->calls[RC_RESTRICT], r0->pages[RC_RESTRICT],
	       r0->calls[RC_MODT], r0->pages[RC_MODT], r0->calls[RC_REMOVE],
	       r0->pages[RC_REMOVE]);
	for (unsigned int b = 0; b < REPLAY_SIZE_BUCKETS; b++)
		printf(" %" PRIu64 "+:%" PRIu64, replay_bucket_min(b),
		       r0->size_hist[b]);
	printf("\nrecorded reclaim: ewb %" PRIu64 ", eldu %" PRIu64
	       ", %" PRIu64 " batches of EWBs (an ETRACK each), priced as "
	       "reclaim_cyc\n", r0->ewbs, r0->eldus, r0->reclaim_etracks);
	for (size_t i = 0; i < n; i++)
		if (rows[i].r.divergences)
			printf("batch %u, %s: first divergence at line %u\n",
			       rows[i].batch, sgx_cost_point_name(rows[i].cost),
			       rows[i].r.first_divergence);
}

static void json_row(FILE *f, const struct replay_row *row)
{
	const struct replay_result *r = &row->r;

	fprintf(f, "{\"etrack_batch\":%u,\"cost\":\"%s\",\"cpus\":%u,",
		row->batch, sgx_cost_point_name(row->cost), r->cpus);
	for (unsigned int k = 0; k < RC_KINDS; k++)
		fprintf(f, "\"%s\":{\"calls\":%" PRIu64 ",\"pages\":%" PRIu64
			   ",\"latency_cycles\":%" PRIu64 "},",
			replay_call_name(k), r->calls[k], r->pages[k],
			r->latency[k]);
	fprintf(f, "\"edmm_cycles\":%" PRIu64 ",\"tracked_cycles\":%" PRIu64
		   ",\"tracked_limit_cycles\":%" PRIu64 ",\"speedup\":",
		edmm_latency(r), r->tracked_latency, r->tracked_limit);
	if (row->baseline)
		fprintf(f, "%.6f", ratio(row->baseline, edmm_latency(r)));
	else
		fprintf(f, "null");
	fprintf(f, ",\"etrack_flows\":%" PRIu64 ",\"etracks\":%" PRIu64
		   ",\"ipi_rounds\":%" PRIu64 ",\"ipis\":%" PRIu64
		   ",\"aex_inflicted\":%" PRIu64 ",\"lost_cycles\":%" PRIu64
		   ",\"eaugs\":%" PRIu64 ",\"eaccepts\":%" PRIu64
		   ",\"ewbs\":%" PRIu64 ",\"eldus\":%" PRIu64
		   ",\"reclaim_etracks\":%" PRIu64
		   ",\"reclaim_cycles\":%" PRIu64
		   ",\"divergences\":%" PRIu64 ",\"range_pages_hist\":{",
		r->etrack_flows, r->etracks, r->ipi_rounds, r->ipis,
		r->aex_inflicted, r->lost_cycles, r->eaugs, r->eaccepts,
		r->ewbs, r->eldus, r->reclaim_etracks, r->reclaim_cycles,
		r->divergences);
	for (unsigned int b = 0; b < REPLAY_SIZE_BUCKETS; b++)
		fprintf(f, "%s\"%" PRIu64 "\":%" PRIu64, b ? "," : "",
			replay_bucket_min(b), r->size_hist[b]);
	fprintf(f, "}}");
}

static void write_json(FILE *f, const char *path, const struct replay_row *rows,
		       size_t n)
{
	fprintf(f, "{\"trace\":\"");
	for (const char *c = path; *c; c++)
		fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	fprintf(f, "\",\"rows\":[");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_row(f, &rows[i]);
	}
	fprintf(f, "]}\n");
}

static void write_csv(FILE *f, const struct replay_row *rows, size_t n)
{
	fprintf(f, "etrack_batch,cost,cpus,calls,edmm_cycles,tracked_cycles,"
		   "tracked_limit_cycles,speedup,etrack_flows,etracks,"
		   "ipi_rounds,ipis,aex_inflicted,lost_cycles,eaugs,"
		   "divergences,ewbs,eldus,reclaim_etracks,reclaim_cycles\n");
	for (size_t i = 0; i < n; i++) {
		const struct replay_result *r = &rows[i].r;

		fprintf(f, "%u,%s,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
			   PRIu64 ",",
			rows[i].batch, sgx_cost_point_name(rows[i].cost),
			r->cpus, edmm_calls(r), edmm_latency(r),
			r->tracked_latency, r->tracked_limit);
		if (rows[i].baseline)
			fprintf(f, "%.6f", ratio(rows[i].baseline,
						 edmm_latency(r)));
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			   ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			   ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
			r->etrack_flows, r->etracks, r->ipi_rounds, r->ipis,
			r->aex_inflicted, r->lost_cycles, r->eaugs,
			r->divergences, r->ewbs, r->eldus, r->reclaim_etracks,
			r->reclaim_cycles);
	}
}

static int load(const char *path, struct trace *t)
{
	char err[256];
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		fprintf(stderr, "sgxemu bench: %s: %s\n", path, strerror(errno));
		return CLI_USAGE;
	}
	ret = trace_parse(f, t, err, sizeof(err));
	fclose(f);
	if (ret == -ENOMEM) {
		fprintf(stderr, "sgxemu bench: out of memory\n");
		return CLI_FAIL;
	}
	if (ret) {
		fprintf(stderr, "sgxemu bench: %s: %s\n", path, err);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int run_rows(const struct bench_replay_args *a, const struct trace *t,
		    struct replay_row *rows)
{
	size_t n = 0;

	for (unsigned int k = 0; k < a->nr_points; k++)
		for (unsigned int b = 0; b < a->nr_batches; b++, n++) {
			struct replay_config cfg = {
				.cpus = a->cpus,
				.etrack_batch = (unsigned int)a->batches[b],
				.no_loop_checks = !a->loop_checks,
			};
			int ret;

			rows[n].batch = cfg.etrack_batch;
			rows[n].cost = (enum sgx_cost_point)a->points[k];
			sgx_costs_at(&cfg.costs, rows[n].cost);
			ret = replay_run(t, &cfg, &rows[n].r);
			if (ret == -EINVAL) {
				fprintf(stderr, "sgxemu bench: the trace needs "
						"more than --cpus %u CPUs (at "
						"most %d)\n", a->cpus,
					BENCH_CPUS_MAX);
				return CLI_USAGE;
			}
			if (ret) {
				fprintf(stderr, "sgxemu bench: replay: %s\n",
					strerror(-ret));
				return CLI_FAIL;
			}
		}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (rows[j].batch == 1 && rows[j].cost == rows[i].cost)
				rows[i].baseline = edmm_latency(&rows[j].r);
	return CLI_OK;
}

static int save_csv(const char *dir, const struct replay_row *rows, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/replay.csv", dir);
	f = fopen(path, "w");
	if (f)
		write_csv(f, rows, n);
	if (!f || fclose(f)) {
		fprintf(stderr, "sgxemu bench: %s: %s\n", path, strerror(errno));
		return CLI_FAIL;
	}
	return CLI_OK;
}

int bench_replay(const struct bench_replay_args *a)
{
	size_t n = (size_t)a->nr_points * a->nr_batches;
	struct replay_row *rows = calloc(n, sizeof(*rows));
	struct trace t;
	int status = rows ? load(a->path, &t) : CLI_FAIL;

	if (status == CLI_OK) {
		status = run_rows(a, &t, rows);
		trace_free(&t);
	}
	if (status == CLI_OK) {
		if (a->json)
			write_json(stdout, a->path, rows, n);
		else
			print_table(rows, n);
		if (a->out && save_csv(a->out, rows, n))
			status = CLI_FAIL;
		if (a->plot && bench_replay_plot(a->plot, a->path, rows, n))
			status = CLI_FAIL;
	}
	free(rows);
	return status;
}
