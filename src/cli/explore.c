// SPDX-License-Identifier: MIT
/*
 * sgxemu explore and sgxemu replay: the schedule explorer's front end.
 *
 * explore prints its settings first (they and the commit reproduce the
 * whole run), progress to stderr, one line per violating scenario with the
 * schedule and the exact replay command, and ends with one summary line.
 * replay runs one schedule and can write it as a Chrome trace for
 * Perfetto. Exit status: 0 no violation, 1 a violation, 2 a usage error or
 * a schedule that does not parse or fit its scenario.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "explore/explore.h"

struct explore_args {
	struct xp_options opt;
	const char *scenario; /* a name or "all" */
	bool json;
};

/*
 * Progress, and the clocks behind the executions-per-second figures: wall
 * time, and CPU time of this process and its workers (which tells the
 * explorer's own speed on a machine busy with other work).
 */
struct progress {
	const char *scenario;
	double start, last;
	double cpu_start;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* User and system time of this process and its waited-for workers. */
static double cpu_seconds(void)
{
	struct rusage self, children;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	return tv_seconds(self.ru_utime) + tv_seconds(self.ru_stime) +
	       tv_seconds(children.ru_utime) + tv_seconds(children.ru_stime);
}

static double rate(uint64_t executions, double start)
{
	double elapsed = now_seconds() - start;

	return elapsed > 0 ? (double)executions / elapsed : 0;
}

static double cpu_rate(uint64_t executions, double cpu_start)
{
	double used = cpu_seconds() - cpu_start;

	return used > 0 ? (double)executions / used : 0;
}

static void progress(void *ctx, uint64_t done, uint64_t violations)
{
	struct progress *p = ctx;
	double t = now_seconds();

	if (t - p->last < 1.0)
		return;
	p->last = t;
	fprintf(stderr, "  %s: %" PRIu64 " executions, %" PRIu64
			" violations, %.0f exec/s\n",
		p->scenario, done, violations, rate(done, p->start));
}

static int explore_usage(FILE *out, int status)
{
	fprintf(out,
		"usage: sgxemu explore [--scenario NAME|all] "
		"[--strategy random|pct|dfs|dpor]\n"
		"                      [--executions N] [--seed S] "
		"[--preemptions K|unbounded]\n"
		"                      [--depth D] [--steps-max N] "
		"[--etrack-batch N] [--loop-checks on|off]\n"
		"                      [--jobs N] [--shard I/N] "
		"[--stop-on-violation] [--json] [--list]\n\n"
		"Run scenarios under many schedules, checking the invariants "
		"after every step.\n\n"
		"  --scenario NAME|all  one scenario, or each in turn (all)\n"
		"  --strategy S         random (default), pct, dfs, or dpor "
		"(partial-order\n"
		"                       reduction with sleep sets, unbounded)\n"
		"  --executions N       per scenario (10000); dfs and dpor may "
		"finish sooner\n"
		"  --seed S             seed of random, pct and the scenarios' "
		"data (1)\n"
		"  --preemptions K      dfs preemption bound (2), or "
		"unbounded\n"
		"  --depth D            pct bug depth, 1..%u (3)\n"
		"  --steps-max N        steps before a run is a livelock (%u)\n"
		"  --etrack-batch N     the driver's pages per ETRACK flow: 1 "
		"is Linux (1),\n"
		"                       0 one flow per call\n"
		"  --loop-checks on|off the driver's per-page signal and "
		"resched checks in\n"
		"                       those ioctls (on); batch 1 and off "
		"is Linux 6.12\n"
		"  --jobs N             worker processes for random and pct "
		"(online CPUs),\n"
		"                       1..%u; dfs and dpor run in one\n"
		"  --shard I/N          dfs, dpor: part I of N (0 <= I < N); "
		"the parts are\n"
		"                       disjoint and together the whole "
		"exploration\n"
		"  --stop-on-violation  stop a scenario at its first "
		"violation\n"
		"  --json               the results as one JSON object on "
		"stdout\n"
		"  --list               list the scenarios and exit\n\n"
		"Exit status: 0 no violation, 1 a violation, 2 usage error.\n",
		XP_PCT_DEPTH_MAX, XP_STEPS_MAX_DEFAULT, XP_JOBS_MAX);
	return status;
}

static bool parse_strategy(const char *s, enum xp_strategy *out)
{
	static const struct {
		const char *name;
		enum xp_strategy strategy;
	} names[] = { { "random", XP_RANDOM },
		      { "pct", XP_PCT },
		      { "dfs", XP_DFS },
		      { "dpor", XP_DPOR } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].strategy;
			return true;
		}
	}
	return false;
}

static bool parse_preemptions(const char *s, unsigned int *out)
{
	uint64_t v;

	if (!strcmp(s, "unbounded")) {
		*out = XP_UNBOUNDED;
		return true;
	}
	if (!cli_parse_u64(s, 0, XP_UNBOUNDED - 1, &v))
		return false;
	*out = (unsigned int)v;
	return true;
}

/* I/N with 0 <= I < N. */
static bool parse_shard(const char *s, unsigned int *shard,
			unsigned int *shards)
{
	char buf[64], *slash;
	uint64_t i, n;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (!cli_parse_u64(buf, 0, UINT32_MAX, &i) ||
	    !cli_parse_u64(slash + 1, 1, UINT32_MAX, &n) || i >= n)
		return false;
	*shard = (unsigned int)i;
	*shards = (unsigned int)n;
	return true;
}

static void list_scenarios(void)
{
	for (size_t i = 0; xp_scenario_at(i); i++)
		printf("%-28s %s\n", xp_scenario_at(i)->name,
		       xp_scenario_at(i)->summary ? xp_scenario_at(i)->summary :
						    "");
}

/* One option: false if its argument is bad. */
static bool explore_option(struct explore_args *a, int c, const char *arg)
{
	struct xp_options *o = &a->opt;
	uint64_t v = 0;
	bool on = true;
	bool ok = true;

	switch (c) {
	case 's':
		a->scenario = arg;
		break;
	case 'S':
		ok = parse_strategy(arg, &o->strategy);
		break;
	case 'n':
		ok = cli_parse_u64(arg, 0, UINT64_MAX, &o->executions);
		break;
	case 'r':
		ok = cli_parse_u64(arg, 0, UINT64_MAX, &o->seed);
		break;
	case 'p':
		ok = parse_preemptions(arg, &o->preemptions);
		break;
	case 'd':
		ok = cli_parse_u64(arg, 1, XP_PCT_DEPTH_MAX, &v);
		o->depth = (unsigned int)v;
		break;
	case 'm':
		ok = cli_parse_u64(arg, 1, UINT64_MAX, &o->steps_max);
		break;
	case 'b':
		ok = cli_parse_u64(arg, 0, UINT32_MAX, &v);
		o->etrack_batch = (unsigned int)v;
		break;
	case 'L':
		ok = cli_parse_on_off(arg, &on);
		o->no_loop_checks = !on;
		break;
	case 'J':
		ok = cli_parse_u64(arg, 1, XP_JOBS_MAX, &v);
		o->jobs = (unsigned int)v;
		break;
	case 'x':
		o->stop_on_violation = true;
		break;
	case 'P':
		ok = parse_shard(arg, &o->shard, &o->shards);
		break;
	case 'j':
		a->json = true;
		break;
	default:
		return false;
	}
	return ok;
}

/* -1 to go on, else the exit status. */
static int explore_parse(int argc, char **argv, struct explore_args *a)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, 0, 's' },
		{ "strategy", required_argument, 0, 'S' },
		{ "executions", required_argument, 0, 'n' },
		{ "seed", required_argument, 0, 'r' },
		{ "preemptions", required_argument, 0, 'p' },
		{ "depth", required_argument, 0, 'd' },
		{ "steps-max", required_argument, 0, 'm' },
		{ "etrack-batch", required_argument, 0, 'b' },
		{ "loop-checks", required_argument, 0, 'L' },
		{ "jobs", required_argument, 0, 'J' },
		{ "stop-on-violation", no_argument, 0, 'x' },
		{ "shard", required_argument, 0, 'P' },
		{ "json", no_argument, 0, 'j' },
		{ "list", no_argument, 0, 'l' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h')
			return explore_usage(stdout, CLI_OK);
		if (c == 'l') {
			list_scenarios();
			return CLI_OK;
		}
		if (!explore_option(a, c, optarg)) {
			if (c != '?')
				fprintf(stderr, "sgxemu explore: bad "
						"argument '%s'\n", optarg);
			return explore_usage(stderr, CLI_USAGE);
		}
	}
	if (optind != argc)
		return explore_usage(stderr, CLI_USAGE);
	/* Workers cannot share a depth-first enumeration. */
	if (a->opt.strategy == XP_DFS || a->opt.strategy == XP_DPOR)
		a->opt.jobs = 1;
	if (a->opt.shards > 1 && a->opt.strategy != XP_DFS &&
	    a->opt.strategy != XP_DPOR) {
		fprintf(stderr, "sgxemu explore: --shard needs dfs or dpor\n");
		return CLI_USAGE;
	}
	if (strcmp(a->scenario, "all") && !xp_scenario_find(a->scenario)) {
		fprintf(stderr, "sgxemu explore: no scenario '%s' (--list)\n",
			a->scenario);
		return CLI_USAGE;
	}
	return -1;
}

static const char *strategy_name(enum xp_strategy s)
{
	return s == XP_PCT ? "pct" : s == XP_DFS ? "dfs" :
	       s == XP_DPOR ? "dpor" : "random";
}

static void print_settings(const struct explore_args *a)
{
	const struct xp_options *o = &a->opt;
	char bound[16];

	if (o->preemptions == XP_UNBOUNDED)
		snprintf(bound, sizeof(bound), "unbounded");
	else
		snprintf(bound, sizeof(bound), "%u", o->preemptions);
	fprintf(stderr,
		"explore: --scenario %s --strategy %s --executions %" PRIu64
		" --seed %" PRIu64 " --preemptions %s --depth %u --steps-max %"
		PRIu64 " --etrack-batch %u --loop-checks %s --jobs %u --shard %u/%u"
		"%s\n",
		a->scenario, strategy_name(o->strategy), o->executions,
		o->seed, bound, o->depth, o->steps_max, o->etrack_batch,
		o->no_loop_checks ? "off" : "on", o->jobs, o->shard,
		o->shards ? o->shards : 1,
		o->stop_on_violation ? " --stop-on-violation" : "");
}

/* A JSON string, for names and messages. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Executions per second of wall time and of CPU time. */
struct speed {
	double wall, cpu;
};

static struct speed speed_since(uint64_t executions, double start,
				double cpu_start)
{
	return (struct speed){ rate(executions, start),
			       cpu_rate(executions, cpu_start) };
}

static void json_scenario(const struct xp_scenario *sc,
			  const struct xp_result *r, struct speed v,
			  bool first)
{
	printf("%s\n  {\"scenario\":", first ? "" : ",");
	json_string(sc->name);
	printf(",\"executions\":%" PRIu64 ",\"distinct\":%" PRIu64
	       ",\"violations\":%" PRIu64 ",\"complete\":%s,\"steps\":%" PRIu64
	       ",\"sleep_blocked\":%" PRIu64
	       ",\"exec_per_s\":%.0f,\"exec_per_cpu_s\":%.0f",
	       r->executions, r->distinct, r->violations,
	       r->complete ? "true" : "false", r->steps, r->sleep_blocked,
	       v.wall, v.cpu);
	if (r->violations) {
		printf(",\"first_violation\":%" PRIu64 ",\"message\":",
		       r->first_violation);
		json_string(r->message);
		printf(",\"schedule\":");
		json_string(r->schedule);
	}
	putchar('}');
}

static void text_scenario(const struct xp_scenario *sc,
			  const struct xp_result *r, struct speed v)
{
	if (r->violations)
		printf("VIOLATION %s (execution %" PRIu64 "): %s; replay: "
		       "sgxemu replay '%s'\n",
		       sc->name, r->first_violation, r->message, r->schedule);
	fprintf(stderr, "  %s: %" PRIu64 " executions, %" PRIu64
			" distinct, %" PRIu64 " violations%s, %.0f exec/s "
			"(%.0f per CPU second)\n",
		sc->name, r->executions, r->distinct, r->violations,
		r->complete ? ", complete" : "", v.wall, v.cpu);
}

struct totals {
	uint64_t executions, distinct, violations, scenarios, complete;
	double start, cpu_start;
};

/* Explore one scenario; false on an error (reported). */
static bool explore_one(const struct explore_args *a,
			const struct xp_scenario *sc, struct totals *t)
{
	struct xp_options opt = a->opt;
	struct progress p = { .scenario = sc->name };
	struct xp_result r;
	struct speed v;
	int ret;

	p.start = p.last = now_seconds();
	p.cpu_start = cpu_seconds();
	opt.scenario = sc;
	opt.progress = progress;
	opt.progress_ctx = &p;
	ret = xp_explore(&opt, &r);
	if (ret) {
		fprintf(stderr, "sgxemu explore: %s: %s\n", sc->name,
			strerror(-ret));
		return false;
	}
	v = speed_since(r.executions, p.start, p.cpu_start);
	if (a->json)
		json_scenario(sc, &r, v, !t->scenarios);
	else
		text_scenario(sc, &r, v);
	t->executions += r.executions;
	t->distinct += r.distinct;
	t->violations += r.violations;
	t->complete += r.complete;
	t->scenarios++;
	return true;
}

static void print_summary(const struct explore_args *a,
			  const struct totals *t)
{
	struct speed v = speed_since(t->executions, t->start, t->cpu_start);

	if (a->json) {
		printf("\n ],\n \"executions\":%" PRIu64 ",\"distinct\":%"
		       PRIu64 ",\"violations\":%" PRIu64 ",\"exec_per_s\":%.0f"
		       ",\"exec_per_cpu_s\":%.0f}\n",
		       t->executions, t->distinct, t->violations, v.wall,
		       v.cpu);
		return;
	}
	printf("explore: %" PRIu64 " scenario(s), %" PRIu64 " executions, %"
	       PRIu64 " distinct schedules, %" PRIu64 " violations",
	       t->scenarios, t->executions, t->distinct, t->violations);
	if (a->opt.strategy == XP_DFS || a->opt.strategy == XP_DPOR)
		printf(", %" PRIu64 " complete", t->complete);
	printf(", %.0f exec/s (%.0f per CPU second, %u job%s)\n", v.wall,
	       v.cpu, a->opt.jobs, a->opt.jobs > 1 ? "s" : "");
}

static unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > XP_JOBS_MAX ? XP_JOBS_MAX : (unsigned int)n;
}

int cmd_explore(int argc, char **argv)
{
	struct explore_args a = {
		.opt = { .strategy = XP_RANDOM, .executions = 10000,
			 .seed = 1, .preemptions = 2, .depth = 3,
			 .steps_max = XP_STEPS_MAX_DEFAULT,
			 .etrack_batch = 1, .jobs = online_cpus() },
		.scenario = "all",
	};
	struct totals t = { 0 };
	int ret = explore_parse(argc, argv, &a);
	bool all;

	if (ret >= 0)
		return ret;
	all = !strcmp(a.scenario, "all");
	print_settings(&a);
	if (a.json)
		printf("{\"scenarios\":[");
	t.start = now_seconds();
	t.cpu_start = cpu_seconds();
	for (size_t i = 0; all ? xp_scenario_at(i) != NULL : i < 1; i++) {
		const struct xp_scenario *sc =
			all ? xp_scenario_at(i) : xp_scenario_find(a.scenario);

		if (!explore_one(&a, sc, &t))
			return CLI_USAGE;
	}
	print_summary(&a, &t);
	return t.violations ? CLI_FAIL : CLI_OK;
}

static int replay_usage(FILE *out, int status)
{
	fprintf(out, "usage: sgxemu replay SCHEDULE [--trace FILE.json]\n\n"
		     "Run one schedule exactly, as printed by sgxemu explore, "
		     "and report its\nviolation if any. --trace writes the run "
		     "as Chrome trace-event JSON, for\nhttps://ui.perfetto.dev."
		     "\n\nExit status: 0 no violation, 1 a violation, 2 usage "
		     "error or bad schedule.\n");
	return status;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trace", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *trace = NULL;
	struct xp_result r;
	uint64_t hash = 0;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 't')
			trace = optarg;
		else
			return replay_usage(c == 'h' ? stdout : stderr,
					    c == 'h' ? CLI_OK : CLI_USAGE);
	}
	if (optind + 1 != argc)
		return replay_usage(stderr, CLI_USAGE);
	ret = xp_replay(argv[optind], trace, &r, &hash);
	if (ret == -EINVAL) {
		fprintf(stderr, "sgxemu replay: not a schedule of a known "
				"scenario, or it does not fit it\n");
		return CLI_USAGE;
	}
	if (ret) {
		fprintf(stderr, "sgxemu replay: %s%s%s\n",
			trace ? trace : "", trace ? ": " : "", strerror(-ret));
		return CLI_USAGE;
	}
	printf("replay: %" PRIu64 " steps, trace hash %016" PRIx64 ": %s\n",
	       r.steps, hash, r.violations ? r.message : "no violation");
	if (trace)
		fprintf(stderr, "replay: trace written to %s (open it in "
				"https://ui.perfetto.dev)\n",
			trace);
	return r.violations ? CLI_FAIL : CLI_OK;
}
