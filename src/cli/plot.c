// SPDX-License-Identifier: MIT
/*
 * sgxemu bench's plots (see bench.h). The rows of one reference setting
 * (the first row's cost point, EMODPR and ETRACK, and on each CPU count
 * its most enclave threads) become small whitespace tables that a
 * generated gnuplot script draws, as SVG and PNG:
 *   latency.*     latency against pages, one line per policy, and the limit
 *   speedup.*     per-page latency / batched latency against CPUs, per N
 *   disruption.*  AEXs inflicted on the enclave threads against pages
 * and those of a trace's replay (bench_replay_plot()), per policy:
 *   replay-latency.*  the EDMM calls' cycles, stacked by kind
 *   replay-events.*   ETRACK flows, IPI rounds and AEXs inflicted
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli/bench.h"

#define DISTINCT_MAX 32

struct distinct {
	uint64_t v[DISTINCT_MAX];
	unsigned int n;
};

static void distinct_add(struct distinct *d, uint64_t v)
{
	unsigned int i = 0;

	while (i < d->n && d->v[i] < v)
		i++;
	if ((i < d->n && d->v[i] == v) || d->n == DISTINCT_MAX)
		return;
	memmove(&d->v[i + 1], &d->v[i], (d->n - i) * sizeof(d->v[0]));
	d->v[i] = v;
	d->n++;
}

struct plot {
	const char *dir;
	const struct bench_row *rows, *ref;
	size_t n;
	struct distinct pages, cpus, batches;
};

static bool same_setting(const struct bench_row *a, const struct bench_row *b)
{
	return a->cost == b->cost && a->point.op == b->point.op &&
	       !memcmp(&a->point.costs, &b->point.costs,
		       sizeof(a->point.costs));
}

/* The most enclave threads any row of the reference setting has on cpus. */
static unsigned int threads_on(const struct plot *pl, uint64_t cpus)
{
	unsigned int t = 0;

	for (size_t i = 0; i < pl->n; i++)
		if (same_setting(&pl->rows[i], pl->ref) &&
		    pl->rows[i].point.cpus == cpus &&
		    pl->rows[i].point.threads > t)
			t = pl->rows[i].point.threads;
	return t;
}

static const struct bench_row *row_at(const struct plot *pl, uint64_t pages,
				      uint64_t cpus, uint64_t batch)
{
	unsigned int threads = threads_on(pl, cpus);

	for (size_t i = 0; i < pl->n; i++) {
		const struct bench_row *r = &pl->rows[i];

		if (same_setting(r, pl->ref) && r->point.pages == pages &&
		    r->point.cpus == cpus && r->point.threads == threads &&
		    r->point.etrack_batch == batch)
			return r;
	}
	return NULL;
}

static FILE *open_in(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "sgxemu bench: %s: %s\n", path, strerror(errno));
	return f;
}

static int close_file(FILE *f)
{
	if (fclose(f)) {
		fprintf(stderr, "sgxemu bench: writing a plot: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static const char *batch_title(uint64_t batch, char *buf, size_t len)
{
	if (batch == 1)
		return "per page (Linux 6.12)";
	if (!batch)
		return "batched: one ETRACK per call";
	snprintf(buf, len, "batched: one ETRACK per %" PRIu64 " pages",
		 batch);
	return buf;
}

/* One column per policy at the most CPUs: f(row), "NaN" where missing. */
static int write_by_pages(const struct plot *pl, const char *name,
			  bool with_limit, bool aex)
{
	uint64_t cpus = pl->cpus.v[pl->cpus.n - 1];
	FILE *f = open_in(pl->dir, name);

	if (!f)
		return -1;
	for (unsigned int p = 0; p < pl->pages.n; p++) {
		const struct bench_row *any = NULL;

		fprintf(f, "%" PRIu64, pl->pages.v[p]);
		for (unsigned int b = 0; b < pl->batches.n; b++) {
			const struct bench_row *r = row_at(
				pl, pl->pages.v[p], cpus, pl->batches.v[b]);

			any = r ? r : any;
			if (r)
				fprintf(f, " %" PRIu64,
					aex ? r->result.aex_inflicted :
					      r->result.latency_cycles);
			else
				fputs(" NaN", f);
		}
		if (with_limit && any)
			fprintf(f, " %" PRIu64, any->result.limit_cycles);
		else if (with_limit)
			fputs(" NaN", f);
		fputc('\n', f);
	}
	return close_file(f);
}

/* The first batched policy in the sweep, or -1 if there is none. */
static int64_t batched_policy(const struct plot *pl)
{
	for (unsigned int b = 0; b < pl->batches.n; b++)
		if (pl->batches.v[b] != 1)
			return (int64_t)pl->batches.v[b];
	return -1;
}

/* Rows: CPUs; columns: pages; speed-up of the batched policy. */
static int write_speedup(const struct plot *pl, uint64_t batch)
{
	FILE *f = open_in(pl->dir, "speedup.dat");

	if (!f)
		return -1;
	for (unsigned int c = 0; c < pl->cpus.n; c++) {
		fprintf(f, "%" PRIu64, pl->cpus.v[c]);
		for (unsigned int p = 0; p < pl->pages.n; p++) {
			const struct bench_row *r = row_at(
				pl, pl->pages.v[p], pl->cpus.v[c], batch);

			if (r && r->baseline)
				fprintf(f, " %.4f", bench_row_speedup(r));
			else
				fputs(" NaN", f);
		}
		fputc('\n', f);
	}
	return close_file(f);
}

/* The same figure, once per terminal. */
static void plot_twice(FILE *gp, const char *name, const char *body)
{
	fprintf(gp, "set terminal svg size 900,560 dynamic enhanced "
		    "font 'sans,12'\nset output '%s.svg'\n%s", name, body);
	fprintf(gp, "set terminal pngcairo size 900,560 enhanced "
		    "font 'sans,11'\nset output '%s.png'\n%s", name, body);
}

static void by_pages_body(const struct plot *pl, char *buf, size_t len,
			  const char *file, const char *ylabel,
			  const char *title, bool limit)
{
	size_t at = (size_t)snprintf(buf, len,
				     "set title '%s'\nset format x '2^{%%L}'\n"
				     "set xlabel 'pages in the range'\n"
				     "set ylabel '%s'\nplot ",
				     title, ylabel);
	char t[64];

	for (unsigned int b = 0; b < pl->batches.n && at < len; b++)
		at += (size_t)snprintf(buf + at, len - at,
				       "%s'%s' using 1:%u with linespoints "
				       "title '%s'",
				       b ? ", " : "", file, b + 2,
				       batch_title(pl->batches.v[b], t,
						   sizeof(t)));
	if (limit && at < len)
		at += (size_t)snprintf(buf + at, len - at,
				       ", '%s' using 1:%u with lines dt 2 lw 2 "
				       "title 'limit'",
				       file, pl->batches.n + 2);
	if (at < len)
		snprintf(buf + at, len - at, "\n");
}

static void speedup_body(const struct plot *pl, char *buf, size_t len,
			 int64_t batch)
{
	char t[64];
	size_t at = (size_t)snprintf(
		buf, len,
		"set title 'Speed-up of %s over per page, cost %s'\n"
		"set format x '%%g'\nset xlabel "
		"'simulated CPUs (an enclave thread on each but the "
		"caller)'\nset ylabel 'per-page latency / batched latency'\n"
		"unset logscale y\nplot ",
		batch_title((uint64_t)batch, t, sizeof(t)),
		sgx_cost_point_name(pl->ref->cost));

	for (unsigned int p = 0; p < pl->pages.n && at < len; p++)
		at += (size_t)snprintf(buf + at, len - at,
				       "%s'speedup.dat' using 1:%u with "
				       "linespoints title 'N = %" PRIu64 "'",
				       p ? ", " : "", p + 2, pl->pages.v[p]);
	if (at < len)
		snprintf(buf + at, len - at, "\nset logscale y\n");
}

static int write_script(const struct plot *pl)
{
	uint64_t cpus = pl->cpus.v[pl->cpus.n - 1];
	int64_t batch = batched_policy(pl);
	char body[4096], title[256];
	FILE *gp = open_in(pl->dir, "bench.gp");

	if (!gp)
		return -1;
	fprintf(gp, "# Written by sgxemu bench; run in this directory.\n"
		    "set datafile missing 'NaN'\nset key top left\n"
		    "set grid\nset logscale x 2\nset logscale y\n");
	snprintf(title, sizeof(title),
		 "%s latency, %" PRIu64 " CPUs, %u enclave threads, cost %s",
		 pl->ref->point.op == BENCH_TRIM ? "MODIFY\\_TYPES (trim)" :
						   "RESTRICT\\_PERMISSIONS",
		 cpus, threads_on(pl, cpus), sgx_cost_point_name(pl->ref->cost));
	by_pages_body(pl, body, sizeof(body), "latency.dat", "cycles", title,
		      true);
	plot_twice(gp, "latency", body);
	snprintf(title, sizeof(title),
		 "AEXs inflicted on %u enclave threads by one call",
		 threads_on(pl, cpus));
	by_pages_body(pl, body, sizeof(body), "disruption.dat", "AEXs",
		      title, false);
	plot_twice(gp, "disruption", body);
	if (batch >= 0) {
		fprintf(gp, "set logscale x 2\n");
		speedup_body(pl, body, sizeof(body), batch);
		plot_twice(gp, "speedup", body);
	}
	return close_file(gp);
}

static int run_gnuplot(const char *dir, const char *script, bool quiet)
{
	char cmd[4200];
	int status;

	snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot %s%s", dir, script,
		 quiet ? " 2>/dev/null" : "");
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "sgxemu bench: gnuplot failed on %s/%s "
				"(is gnuplot installed?)\n", dir, script);
		return -1;
	}
	return 0;
}

int bench_plot(const char *dir, const struct bench_row *rows, size_t n,
	       bool quiet)
{
	struct plot pl = { .dir = dir, .rows = rows, .n = n, .ref = rows };
	int64_t batch;

	if (!n || strchr(dir, '\'')) {
		fprintf(stderr, "sgxemu bench: cannot plot into '%s'\n", dir);
		return -1;
	}
	/* The typical cost point if the sweep has it. */
	for (size_t i = n; i-- > 0;)
		if (rows[i].cost == SGX_COST_TYPICAL)
			pl.ref = &rows[i];
	for (size_t i = 0; i < n; i++) {
		if (!same_setting(&rows[i], pl.ref))
			continue;
		distinct_add(&pl.pages, rows[i].point.pages);
		distinct_add(&pl.cpus, rows[i].point.cpus);
		distinct_add(&pl.batches, rows[i].point.etrack_batch);
	}
	batch = batched_policy(&pl);
	if (write_by_pages(&pl, "latency.dat", true, false) ||
	    write_by_pages(&pl, "disruption.dat", false, true) ||
	    (batch >= 0 && write_speedup(&pl, (uint64_t)batch)) ||
	    write_script(&pl))
		return -1;
	return run_gnuplot(dir, "bench.gp", quiet);
}

/* ---- The replay's plots -------------------------------------------------- */

/* The rows at the typical cost point, else at the first row's. */
static enum sgx_cost_point replay_ref_cost(const struct replay_row *rows,
					   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].cost == SGX_COST_TYPICAL)
			return SGX_COST_TYPICAL;
	return rows[0].cost;
}

/* A count; on a log scale a zero is missing, not a bar. */
static void put_count(FILE *f, uint64_t v, bool log)
{
	if (v || !log)
		fprintf(f, " %" PRIu64, v);
	else
		fputs(" NaN", f);
}

/* The largest flow, round or AEX count of the rows at cost. */
static uint64_t most_counted(const struct replay_row *rows, size_t n,
			     enum sgx_cost_point cost)
{
	uint64_t most = 0;

	for (size_t i = 0; i < n; i++) {
		const struct replay_result *r = &rows[i].r;

		if (rows[i].cost != cost)
			continue;
		most = r->etrack_flows > most ? r->etrack_flows : most;
		most = r->ipi_rounds > most ? r->ipi_rounds : most;
		most = r->aex_inflicted > most ? r->aex_inflicted : most;
	}
	return most;
}

/*
 * One line per policy: its title, the cycles of each call kind, flows,
 * IPI rounds, AEXs inflicted (log: for a log scale).
 */
static int write_replay_dat(const char *dir, const struct replay_row *rows,
			    size_t n, enum sgx_cost_point cost, bool log)
{
	FILE *f = open_in(dir, "replay.dat");
	char t[64];

	if (!f)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct replay_result *r = &rows[i].r;

		if (rows[i].cost != cost)
			continue;
		if (rows[i].batch > 1)
			snprintf(t, sizeof(t), "%u", rows[i].batch);
		fprintf(f, "\"%s\"", rows[i].batch == 1 ? "1 (Linux 6.12)" :
				     rows[i].batch ? t : "0 (per call)");
		for (unsigned int k = 0; k < RC_KINDS; k++)
			fprintf(f, " %" PRIu64, r->latency[k]);
		put_count(f, r->etrack_flows, log);
		put_count(f, r->ipi_rounds, log);
		put_count(f, r->aex_inflicted, log);
		fputc('\n', f);
	}
	return close_file(f);
}

/* The workload's name: the trace's file name without directory. */
static void workload_name(const char *path, char *buf, size_t len)
{
	const char *base = strrchr(path, '/');

	snprintf(buf, len, "%s", base ? base + 1 : path);
	for (char *c = buf; *c; c++)
		if (*c == '\'' || *c == '_' || *c == '\\')
			*c = *c == '_' ? ' ' : '-';
}

static int write_replay_script(const char *dir, const char *name,
			       enum sgx_cost_point cost, bool counts)
{
	FILE *gp = open_in(dir, "replay.gp");
	char body[2048];

	if (!gp)
		return -1;
	fprintf(gp, "# Written by sgxemu bench --replay; run in this "
		    "directory.\nset datafile missing 'NaN'\nset grid ytics\n"
		    "set style data histograms\nset style fill solid 0.8 "
		    "border -1\nset boxwidth 0.8\nset key top right\n"
		    "set xtics noenhanced\nset xlabel 'ETRACK policy: "
		    "pages per flow (--etrack-batch)'\n");
	snprintf(body, sizeof(body),
		 "set title '%s: the EDMM calls per ETRACK policy, cost %s'\n"
		 "set style histogram rowstacked\nset ylabel 'cycles "
		 "(the caller, summed)'\nset yrange [0:*]\n"
		 "plot 'replay.dat' using 2:xtic(1) title 'RESTRICT\\_"
		 "PERMISSIONS', '' using 3 title 'MODIFY\\_TYPES', '' using "
		 "4 title 'REMOVE\\_PAGES'\n",
		 name, sgx_cost_point_name(cost));
	plot_twice(gp, "replay-latency", body);
	snprintf(body, sizeof(body),
		 "set title '%s: what the EDMM calls cost the machine'\n"
		 "set style histogram clustered gap 1\nset ylabel 'count%s'\n"
		 "%s\nplot 'replay.dat' using 5:xtic(1) title 'ETRACK flows', "
		 "'' using 6 title 'IPI rounds', '' using 7 title 'AEXs "
		 "inflicted on enclave threads'\n",
		 name, counts ? " (log scale; none: no bar)" : "",
		 counts ? "set logscale y\nset yrange [0.8:*]" :
			  "set yrange [0:1]");
	plot_twice(gp, "replay-events", body);
	return close_file(gp);
}

int bench_replay_plot(const char *dir, const char *workload,
		      const struct replay_row *rows, size_t n)
{
	enum sgx_cost_point cost;
	char name[128];
	bool log;

	if (!n || strchr(dir, '\'') ||
	    (mkdir(dir, 0777) && errno != EEXIST)) {
		fprintf(stderr, "sgxemu bench: cannot plot into '%s'\n", dir);
		return -1;
	}
	cost = replay_ref_cost(rows, n);
	workload_name(workload, name, sizeof(name));
	log = most_counted(rows, n, cost) > 0;
	if (write_replay_dat(dir, rows, n, cost, log) ||
	    write_replay_script(dir, name, cost, log))
		return -1;
	return run_gnuplot(dir, "replay.gp", true);
}
