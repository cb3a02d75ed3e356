/* SPDX-License-Identifier: MIT */
/* sgxemu bench's rows and their reports: CSV, JSON and gnuplot plots. */
#ifndef SGXEMU_CLI_BENCH_H
#define SGXEMU_CLI_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

#endif
