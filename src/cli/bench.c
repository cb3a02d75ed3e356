// SPDX-License-Identifier: MIT
/*
 * sgxemu bench: sweep the workload of src/bench/workload.h over pages,
 * CPUs, enclave threads, ETRACK policies and cost points; print a table,
 * write CSV (always, in --out) and JSON (--json, on stdout), and plot.
 *
 * Every figure is counted events priced by the cost model (docs/COSTS.md),
 * never wall-clock time. The speed-up of a row is against the row with
 * etrack_batch 1 (Linux) at the same point, when the sweep has one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/workload.h"
#include "cli/bench.h"
#include "cli/cli.h"

#define LIST_MAX 16

struct u64_list {
	uint64_t v[LIST_MAX];
	unsigned int n;
};

struct bench_args {
	struct u64_list pages, cpus, threads, batches, points;
	struct u64_list emodpr, etrack; /* cycles; empty: the cost point's */
	bool threads_others; /* --threads others: cpus - 1 */
	bool loop_checks; /* --loop-checks */
	enum bench_op op;
	const char *out;
	bool json, plots, quiet;
	const char *replay; /* --replay FILE */
	const char *plot; /* --plot DIR, with --replay */
	bool cpus_set, synthetic; /* --cpus; an option of the sweep alone */
};

static const uint64_t default_pages[] = { 1, 16, 256, 4096, 65536 };
static const uint64_t full_pages[] = { 1, 16, 256, 4096, 65536, 1048576 };
static const uint64_t default_cpus[] = { 4, 16, 64 };
static const uint64_t full_cpus[] = { 1, 4, 16, 64 };
/*
 * Linux, one flow per call, and the upstream series' SGX_EDMM_ETRACK_BATCH
 * (docs/PERFORMANCE.md, "The batch constant of the upstream series").
 */
static const uint64_t default_batches[] = { 1, 0, 512 };

static int bench_usage(FILE *out, int status)
{
	fprintf(out,
		"usage: sgxemu bench [--pages LIST] [--cpus LIST] "
		"[--threads LIST|others]\n"
		"                    [--etrack-batch LIST] [--loop-checks on|off] "
		"[--costs LIST]\n"
		"                    [--emodpr LIST] [--etrack LIST] "
		"[--op restrict|trim] "
		"[--full] [--out DIR]\n"
		"                    [--no-plots] [--json] [--quiet]\n"
		"       sgxemu bench --replay FILE [--etrack-batch LIST] "
		"[--cpus N]\n"
		"                    [--loop-checks on|off] [--costs LIST] "
		"[--out DIR] [--json]\n"
		"                    [--plot DIR]\n\n"
		"Price one EDMM call over N enclave pages, Linux's ETRACK per "
		"page against\nbatched ETRACK, on the sim platform with the "
		"cost model of docs/COSTS.md.\nLISTs are comma-separated; the "
		"sweep is their cross product.\n\n"
		"  --pages LIST         pages in the range "
		"(1,16,256,4096,65536)\n"
		"  --cpus LIST          simulated CPUs, 1..%u (4,16,64)\n"
		"  --threads LIST       enclave threads inside the enclave, "
		"each on its own CPU;\n"
		"                       'others' runs one on every CPU but the "
		"caller's (others)\n"
		"  --etrack-batch LIST  the driver's pages per ETRACK flow: 1 "
		"is Linux 6.12,\n"
		"                       0 one flow per call, 512 the upstream "
		"series' batch\n"
		"                       (1,0,512)\n"
		"  --loop-checks on|off the driver's per-page signal and "
		"resched checks (on);\n"
		"                       batch 1 and off is Linux 6.12\n"
		"  --costs LIST         cost points: low, typical, high "
		"(typical)\n"
		"  --emodpr LIST        EMODPR/EMODT cycles, overriding the "
		"cost point\n"
		"  --etrack LIST        ETRACK cycles, overriding the cost "
		"point\n"
		"  --op OP              restrict (RESTRICT_PERMISSIONS to R) "
		"or trim\n"
		"                       (MODIFY_TYPES to TRIM) (restrict)\n"
		"  --full               pages up to 1M, CPUs 1,4,16,64, all "
		"three cost points\n"
		"  --out DIR            where bench.csv and the plots go "
		"(bench-out)\n"
		"  --no-plots           write no plots\n"
		"  --json               the rows as one JSON object on stdout "
		"(no table)\n"
		"  --quiet              no progress on stderr\n"
		"  --replay FILE        replay a trace of `sgxemu run --record` "
		"(docs/TRACE.md)\n"
		"                       under each policy; --cpus is one "
		"number (the trace's\n"
		"                       TCSs + 1); bench-out/replay.csv\n"
		"  --plot DIR           with --replay: plot per policy the "
		"EDMM calls' latency\n"
		"                       and the flows, IPI rounds and AEXs "
		"(gnuplot, SVG and PNG)\n\n"
		"Exit status: 0 done, 1 the driver misbehaved at a point, 2 "
		"usage error or\na bad trace.\n",
		BENCH_CPUS_MAX);
	return status;
}

static void set_list(struct u64_list *l, const uint64_t *v, unsigned int n)
{
	memcpy(l->v, v, n * sizeof(*v));
	l->n = n;
}

/* One token of a list: a number in [range[0], range[1]], or a cost point. */
typedef bool (*token_fn)(const char *tok, const uint64_t *range, uint64_t *v);

static bool number_token(const char *tok, const uint64_t *range, uint64_t *v)
{
	return cli_parse_u64(tok, range[0], range[1], v);
}

static bool point_token(const char *tok, const uint64_t *range, uint64_t *v)
{
	int point = sgx_cost_point_parse(tok);

	(void)range;
	*v = (uint64_t)point;
	return point >= 0;
}

/* "a,b,c": at least one token, each accepted by fn. */
static bool parse_tokens(const char *s, token_fn fn, const uint64_t *range,
			 struct u64_list *l)
{
	char buf[256], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	l->n = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (l->n == LIST_MAX || !fn(tok, range, &l->v[l->n]))
			return false;
		l->n++;
	}
	return l->n > 0;
}

static bool parse_list(const char *s, uint64_t min, uint64_t max,
		       struct u64_list *l)
{
	const uint64_t range[2] = { min, max };

	return parse_tokens(s, number_token, range, l);
}

static bool bench_option(struct bench_args *a, int c, const char *arg)
{
	a->synthetic |= strchr("ptEToF", c) != NULL;
	switch (c) {
	case 'p':
		return parse_list(arg, 1, 4ULL << 20, &a->pages);
	case 'c':
		a->cpus_set = true;
		return parse_list(arg, 1, BENCH_CPUS_MAX, &a->cpus);
	case 'R':
		a->replay = arg;
		return true;
	case 'G':
		a->plot = arg;
		return true;
	case 't':
		a->threads_others = !strcmp(arg, "others");
		return a->threads_others ||
		       parse_list(arg, 0, BENCH_CPUS_MAX - 1, &a->threads);
	case 'b':
		return parse_list(arg, 0, UINT32_MAX, &a->batches);
	case 'L':
		return cli_parse_on_off(arg, &a->loop_checks);
	case 'C':
		return parse_tokens(arg, point_token, NULL, &a->points);
	case 'E':
		return parse_list(arg, 0, 1000000000, &a->emodpr);
	case 'T':
		return parse_list(arg, 0, 1000000000, &a->etrack);
	case 'o':
		a->op = !strcmp(arg, "trim") ? BENCH_TRIM : BENCH_RESTRICT;
		return !strcmp(arg, "trim") || !strcmp(arg, "restrict");
	case 'F':
		set_list(&a->pages, full_pages, 6);
		set_list(&a->cpus, full_cpus, 4);
		set_list(&a->points, (const uint64_t[]){ 0, 1, 2 }, 3);
		return true;
	case 'O':
		a->out = arg;
		return true;
	case 'P':
		a->plots = false;
		return true;
	case 'j':
		a->json = true;
		return true;
	case 'q':
		a->quiet = true;
		return true;
	default:
		return false;
	}
}

/* -1 to go on, else the exit status. */
static int bench_parse(int argc, char **argv, struct bench_args *a)
{
	static const struct option opts[] = {
		{ "pages", required_argument, 0, 'p' },
		{ "cpus", required_argument, 0, 'c' },
		{ "threads", required_argument, 0, 't' },
		{ "etrack-batch", required_argument, 0, 'b' },
		{ "loop-checks", required_argument, 0, 'L' },
		{ "costs", required_argument, 0, 'C' },
		{ "emodpr", required_argument, 0, 'E' },
		{ "etrack", required_argument, 0, 'T' },
		{ "op", required_argument, 0, 'o' },
		{ "full", no_argument, 0, 'F' },
		{ "out", required_argument, 0, 'O' },
		{ "no-plots", no_argument, 0, 'P' },
		{ "json", no_argument, 0, 'j' },
		{ "quiet", no_argument, 0, 'q' },
		{ "replay", required_argument, 0, 'R' },
		{ "plot", required_argument, 0, 'G' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c;

	set_list(&a->pages, default_pages, 5);
	set_list(&a->cpus, default_cpus, 3);
	set_list(&a->batches, default_batches, 3);
	set_list(&a->points, (const uint64_t[]){ SGX_COST_TYPICAL }, 1);
	a->threads_others = true;
	a->loop_checks = true;
	a->out = "bench-out";
	a->plots = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h')
			return bench_usage(stdout, CLI_OK);
		if (!bench_option(a, c, optarg)) {
			if (c != '?')
				fprintf(stderr, "sgxemu bench: bad argument "
						"'%s'\n", optarg);
			return bench_usage(stderr, CLI_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sgxemu bench: unexpected '%s'\n",
			argv[optind]);
		return bench_usage(stderr, CLI_USAGE);
	}
	if (a->replay && (a->synthetic || (a->cpus_set && a->cpus.n != 1))) {
		fprintf(stderr, "sgxemu bench: --replay takes one --cpus and "
				"none of --pages, --threads, --op, --emodpr, "
				"--etrack, --full\n");
		return bench_usage(stderr, CLI_USAGE);
	}
	if (a->plot && !a->replay) {
		fprintf(stderr, "sgxemu bench: --plot goes with --replay (the "
				"sweep plots into --out)\n");
		return bench_usage(stderr, CLI_USAGE);
	}
	return -1;
}

/* ---- The sweep ---------------------------------------------------------- */

struct sweep {
	struct bench_row *rows;
	size_t n, cap;
};

static struct bench_row *sweep_add(struct sweep *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct bench_row *rows = realloc(s->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		s->rows = rows;
		s->cap = cap;
	}
	memset(&s->rows[s->n], 0, sizeof(s->rows[0]));
	return &s->rows[s->n++];
}

/* The cost table of one point, with the EMODPR/ETRACK overrides. */
static void costs_of(struct bench_point *p, enum sgx_cost_point point,
		     const uint64_t *emodpr, const uint64_t *etrack)
{
	sgx_costs_at(&p->costs, point);
	if (emodpr) {
		p->costs.encls[EMODPR] = *emodpr;
		p->costs.encls[EMODT] = *emodpr;
	}
	if (etrack)
		p->costs.encls[ETRACK] = *etrack;
}

/* The threads of one CPU count: --threads, or every CPU but the caller's. */
static struct u64_list threads_for(const struct bench_args *a, uint64_t cpus)
{
	struct u64_list l = { .n = 0 };

	if (a->threads_others) {
		l.v[l.n++] = cpus - 1;
		return l;
	}
	for (unsigned int i = 0; i < a->threads.n; i++) {
		if (a->threads.v[i] < cpus)
			l.v[l.n++] = a->threads.v[i];
		else if (!a->quiet)
			fprintf(stderr, "bench: no point for %" PRIu64 " threads "
					"on %" PRIu64 " CPUs (the caller needs "
					"one)\n", a->threads.v[i], cpus);
	}
	return l;
}

static int run_row(const struct bench_args *a, struct bench_row *row,
		   size_t index, size_t total)
{
	int ret;

	if (!a->quiet)
		fprintf(stderr, "bench: %zu/%zu pages %" PRIu64 " cpus %u "
				"threads %u batch %u %s\n",
			index + 1, total, row->point.pages, row->point.cpus,
			row->point.threads, row->point.etrack_batch,
			sgx_cost_point_name(row->cost));
	ret = bench_run(&row->point, &row->result);
	if (ret)
		fprintf(stderr, "sgxemu bench: pages %" PRIu64 " cpus %u "
				"batch %u: %s\n",
			row->point.pages, row->point.cpus,
			row->point.etrack_batch, strerror(-ret));
	return ret;
}

/* Every point of the cross product, in the order the table shows them. */
static int sweep_build(const struct bench_args *a, struct sweep *s)
{
	unsigned int ne = a->emodpr.n ? a->emodpr.n : 1;
	unsigned int nt = a->etrack.n ? a->etrack.n : 1;

	for (unsigned int k = 0; k < a->points.n; k++)
	for (unsigned int e = 0; e < ne; e++)
	for (unsigned int t = 0; t < nt; t++)
	for (unsigned int c = 0; c < a->cpus.n; c++) {
		struct u64_list th = threads_for(a, a->cpus.v[c]);

		for (unsigned int h = 0; h < th.n; h++)
		for (unsigned int p = 0; p < a->pages.n; p++)
		for (unsigned int b = 0; b < a->batches.n; b++) {
			struct bench_row *row = sweep_add(s);

			if (!row)
				return -ENOMEM;
			row->cost = (enum sgx_cost_point)a->points.v[k];
			row->point = (struct bench_point){
				.pages = a->pages.v[p],
				.cpus = (unsigned int)a->cpus.v[c],
				.threads = (unsigned int)th.v[h],
				.etrack_batch = (unsigned int)a->batches.v[b],
				.no_loop_checks = !a->loop_checks,
				.op = a->op,
			};
			costs_of(&row->point, row->cost,
				 a->emodpr.n ? &a->emodpr.v[e] : NULL,
				 a->etrack.n ? &a->etrack.v[t] : NULL);
		}
	}
	return 0;
}

/* The Linux row (batch 1) of the same point, if the sweep has it. */
static const struct bench_row *baseline_of(const struct sweep *s,
					   const struct bench_row *row)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct bench_row *r = &s->rows[i];
		struct bench_point p = r->point;

		p.etrack_batch = row->point.etrack_batch;
		if (r->point.etrack_batch == 1 && r->cost == row->cost &&
		    !memcmp(&p, &row->point, sizeof(p)))
			return r;
	}
	return NULL;
}

static int sweep_run(const struct bench_args *a, struct sweep *s)
{
	int status = CLI_OK;

	for (size_t i = 0; i < s->n; i++)
		if (run_row(a, &s->rows[i], i, s->n))
			status = CLI_FAIL;
	for (size_t i = 0; i < s->n; i++) {
		const struct bench_row *base = baseline_of(s, &s->rows[i]);

		s->rows[i].baseline = base ? base->result.latency_cycles : 0;
		s->rows[i].baseline_accept =
			base ? base->result.accept_cycles : 0;
	}
	return status;
}

/* ---- Output ------------------------------------------------------------- */

static void print_table(const struct sweep *s)
{
	printf("%8s %4s %4s %5s %-7s %6s %6s %14s %14s %7s %8s %7s %7s %8s "
	       "%14s %14s %8s %12s\n",
	       "pages", "cpus", "thr", "batch", "cost", "emodpr", "etrack",
	       "latency_cyc", "limit_cyc", "x_limit", "speedup", "flows",
	       "rounds", "aex", "lost_cyc", "accept_cyc", "speedup+",
	       "lock_hold");
	for (size_t i = 0; i < s->n; i++) {
		const struct bench_row *r = &s->rows[i];
		char speedup[16] = "-", accepted[16] = "-";

		if (r->baseline) {
			snprintf(speedup, sizeof(speedup), "%.2f",
				 bench_row_speedup(r));
			snprintf(accepted, sizeof(accepted), "%.2f",
				 bench_row_speedup_accepted(r));
		}
		printf("%8" PRIu64 " %4u %4u %5u %-7s %6" PRIu64 " %6" PRIu64
		       " %14" PRIu64 " %14" PRIu64 " %7.3f %8s %7" PRIu64
		       " %7" PRIu64 " %8" PRIu64 " %14" PRIu64 " %14" PRIu64
		       " %8s %12" PRIu64 "\n",
		       r->point.pages, r->point.cpus, r->point.threads,
		       r->point.etrack_batch, sgx_cost_point_name(r->cost),
		       r->point.costs.encls[EMODPR],
		       r->point.costs.encls[ETRACK], r->result.latency_cycles, r->result.limit_cycles,
		       bench_row_x_limit(r), speedup, r->result.etrack_flows,
		       r->result.ipi_rounds, r->result.aex_inflicted,
		       r->result.lost_cycles, r->result.accept_cycles,
		       accepted, r->result.encl_lock_longest);
	}
}

static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "sgxemu bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_csv(const char *dir, const struct sweep *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bench.csv", dir);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "sgxemu bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	bench_write_csv(f, s->rows, s->n);
	if (fclose(f)) {
		fprintf(stderr, "sgxemu bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int replay_main(const struct bench_args *a)
{
	const struct bench_replay_args ra = {
		.path = a->replay,
		.batches = a->batches.v, .nr_batches = a->batches.n,
		.points = a->points.v, .nr_points = a->points.n,
		.cpus = a->cpus_set ? (unsigned int)a->cpus.v[0] : 0,
		.loop_checks = a->loop_checks, .json = a->json,
		.out = ensure_dir(a->out) ? NULL : a->out,
		.plot = a->plot,
	};

	return bench_replay(&ra);
}

int cmd_bench(int argc, char **argv)
{
	struct bench_args a = { .op = BENCH_RESTRICT };
	struct sweep s = { 0 };
	int status = bench_parse(argc, argv, &a);

	if (status >= 0)
		return status;
	if (a.replay)
		return replay_main(&a);
	if (sweep_build(&a, &s)) {
		fprintf(stderr, "sgxemu bench: out of memory\n");
		free(s.rows);
		return CLI_FAIL;
	}
	if (!s.n) {
		fprintf(stderr, "sgxemu bench: no point: every --threads "
				"needs more --cpus\n");
		return bench_usage(stderr, CLI_USAGE);
	}
	status = sweep_run(&a, &s);
	if (a.json)
		bench_write_json(stdout, s.rows, s.n);
	else
		print_table(&s);
	if (ensure_dir(a.out) || write_csv(a.out, &s) ||
	    (a.plots && bench_plot(a.out, s.rows, s.n, a.quiet)))
		status = CLI_FAIL;
	else if (!a.quiet)
		fprintf(stderr, "bench: wrote %s/bench.csv%s\n", a.out,
			a.plots ? " and the plots" : "");
	free(s.rows);
	return status;
}
