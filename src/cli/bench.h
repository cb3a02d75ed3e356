/* SPDX-License-Identifier: MIT */
/* sgxemu bench's rows and their reports: CSV, JSON and gnuplot plots. */
#ifndef SGXEMU_CLI_BENCH_H
#define SGXEMU_CLI_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bench/replay.h"
#include "bench/workload.h"

struct bench_row {
	struct bench_point point;
	enum sgx_cost_point cost; /* before --emodpr/--etrack overrides */
	struct bench_result result;
	uint64_t baseline; /* latency of batch 1 at the same point; 0: none */
	uint64_t baseline_accept; /* its EACCEPT loop after the call */
};

/* latency / limit. */
double bench_row_x_limit(const struct bench_row *r);
/* baseline / latency: what batching gains over Linux (needs a baseline). */
double bench_row_speedup(const struct bench_row *r);
/* The same, with the enclave's EACCEPT loop after the call on both sides. */
double bench_row_speedup_accepted(const struct bench_row *r);

void bench_write_csv(FILE *f, const struct bench_row *rows, size_t n);
void bench_write_json(FILE *f, const struct bench_row *rows, size_t n);

/*
 * Write dir/bench.gp and run gnuplot on it: latency against pages per
 * policy with the limit, speed-up against CPUs, and enclave disruption,
 * each as SVG and PNG. Returns 0, or -1 with a message on stderr.
 */
int bench_plot(const char *dir, const struct bench_row *rows, size_t n,
	       bool quiet);

/* One row of sgxemu bench --replay: a policy at a cost point. */
struct replay_row {
	unsigned int batch;
	enum sgx_cost_point cost;
	struct replay_result r;
	uint64_t baseline; /* EDMM latency at batch 1; 0: none */
};

/*
 * Write dir/replay.gp and run gnuplot on it: per policy, the latency of
 * the EDMM calls by kind, and the ETRACK flows, IPI rounds and AEXs they
 * inflicted, at the typical cost point if the rows have it; SVG and PNG.
 * Returns 0, or -1 with a message on stderr.
 */
int bench_replay_plot(const char *dir, const char *workload,
		      const struct replay_row *rows, size_t n);

/* sgxemu bench --replay (bench_replay.c); returns the exit status. */
struct bench_replay_args {
	const char *path;
	const uint64_t *batches, *points;
	unsigned int nr_batches, nr_points;
	unsigned int cpus; /* 0: what the trace recorded */
	bool loop_checks, json;
	const char *out; /* NULL: no CSV */
	const char *plot; /* NULL: no plot */
};

int bench_replay(const struct bench_replay_args *a);

#endif
