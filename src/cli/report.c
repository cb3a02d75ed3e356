// SPDX-License-Identifier: MIT
/* sgxemu bench's rows as CSV and JSON (see bench.h). */
#include <inttypes.h>

#include "cli/bench.h"

double bench_row_x_limit(const struct bench_row *r)
{
	return r->result.limit_cycles ? (double)r->result.latency_cycles /
						(double)r->result.limit_cycles :
					0;
}

double bench_row_speedup(const struct bench_row *r)
{
	return r->result.latency_cycles ? (double)r->baseline /
						  (double)r->result.latency_cycles :
					  0;
}

double bench_row_speedup_accepted(const struct bench_row *r)
{
	uint64_t total = r->result.latency_cycles + r->result.accept_cycles;

	return total ? (double)(r->baseline + r->baseline_accept) /
			       (double)total :
		       0;
}

#define CSV_HEADER                                                        \
	"pages,cpus,enclave_threads,etrack_batch,op,cost_point,"          \
	"emodpr_cycles,etrack_cycles,latency_cycles,limit_cycles,x_limit," \
	"speedup_vs_per_page,etrack_flows,ipi_rounds,ipis,aex_inflicted,"  \
	"lost_cycles,encl_lock_longest_cycles,accept_cycles,"             \
	"speedup_with_accept\n"

void bench_write_csv(FILE *f, const struct bench_row *rows, size_t n)
{
	fputs(CSV_HEADER, f);
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];
		const struct bench_point *p = &r->point;
		const struct bench_result *x = &r->result;

		fprintf(f, "%" PRIu64 ",%u,%u,%u,%s,%s,%" PRIu64 ",%" PRIu64
			   ",%" PRIu64 ",%" PRIu64 ",%.6f,",
			p->pages, p->cpus, p->threads, p->etrack_batch,
			bench_op_name(p->op), sgx_cost_point_name(r->cost),
			p->costs.encls[EMODPR], p->costs.encls[ETRACK],
			x->latency_cycles, x->limit_cycles,
			bench_row_x_limit(r));
		if (r->baseline)
			fprintf(f, "%.6f", bench_row_speedup(r));
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			   ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
			x->etrack_flows, x->ipi_rounds, x->ipis,
			x->aex_inflicted, x->lost_cycles,
			x->encl_lock_longest, x->accept_cycles);
		if (r->baseline)
			fprintf(f, "%.6f", bench_row_speedup_accepted(r));
		fputc('\n', f);
	}
}

static void json_row(FILE *f, const struct bench_row *r)
{
	const struct bench_point *p = &r->point;
	const struct bench_result *x = &r->result;

	fprintf(f, "{\"pages\":%" PRIu64 ",\"cpus\":%u,\"enclave_threads\":%u,"
		   "\"etrack_batch\":%u,\"op\":\"%s\",\"cost_point\":\"%s\","
		   "\"emodpr_cycles\":%" PRIu64 ",\"etrack_cycles\":%" PRIu64
		   ",\"latency_cycles\":%" PRIu64 ",\"limit_cycles\":%" PRIu64
		   ",\"x_limit\":%.6f,\"speedup_vs_per_page\":",
		p->pages, p->cpus, p->threads, p->etrack_batch,
		bench_op_name(p->op), sgx_cost_point_name(r->cost),
		p->costs.encls[EMODPR], p->costs.encls[ETRACK],
		x->latency_cycles, x->limit_cycles, bench_row_x_limit(r));
	if (r->baseline)
		fprintf(f, "%.6f", bench_row_speedup(r));
	else
		fputs("null", f);
	fprintf(f, ",\"etrack_flows\":%" PRIu64 ",\"ipi_rounds\":%" PRIu64
		   ",\"ipis\":%" PRIu64 ",\"aex_inflicted\":%" PRIu64
		   ",\"lost_cycles\":%" PRIu64
		   ",\"encl_lock_longest_cycles\":%" PRIu64
		   ",\"accept_cycles\":%" PRIu64 ",\"speedup_with_accept\":",
		x->etrack_flows, x->ipi_rounds, x->ipis, x->aex_inflicted,
		x->lost_cycles, x->encl_lock_longest, x->accept_cycles);
	if (r->baseline)
		fprintf(f, "%.6f}", bench_row_speedup_accepted(r));
	else
		fputs("null}", f);
}

void bench_write_json(FILE *f, const struct bench_row *rows, size_t n)
{
	fputs("{\"unit\":\"cycles\",\"rows\":[", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_row(f, &rows[i]);
	}
	fputs("]}\n", f);
}
