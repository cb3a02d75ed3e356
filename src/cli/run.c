// SPDX-License-Identifier: MIT
/*
 * sgxemu run: run an unmodified Linux SGX program on the emulator. The
 * program gets the runtime library (src/run/) through LD_PRELOAD, which
 * provides /dev/sgx_enclave and runs its enclaves natively; the options go
 * to the runtime in the environment. With --stats the command forks, waits
 * for the program and prints the counters every process of the program
 * added to a shared memory file (src/run/stats.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/cpuid.h"
#include "run/runtime.h"
#include "run/stats.h"

#define RUNTIME_NAME "libsgxemu-run.so"
#define RUNTIME_ENV "SGXEMU_RUNTIME"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sgxemu run [--etrack-batch N] [--loop-checks on|off] "
		"[--epc-size SIZE]\n"
		"                  [--cpus N] [--stats] [--record FILE] -- "
		"PROGRAM [ARGS]\n\n"
		"Run PROGRAM with /dev/sgx_enclave provided by the driver "
		"model and its\nenclaves running natively on the emulated "
		"CPU.\n\n"
		"  --etrack-batch N  pages per ETRACK in RESTRICT_PERMISSIONS "
		"and\n"
		"                    MODIFY_TYPES (1: Linux, 0: whole range; "
		"default %u)\n"
		"  --loop-checks on|off  per-page signal and resched checks in "
		"those\n"
		"                    ioctls (default on); batch 1 and off is "
		"Linux 6.12\n"
		"  --epc-size SIZE   EPC size, bytes with optional K, M or G "
		"(default 64M)\n"
		"  --cpus N          logical processors for program threads "
		"(default %u)\n"
		"  --stats           print ETRACKs, IPIs, AEXs, EAUGs, EWB/ELDU "
		"at exit\n"
		"  --record FILE     write the EDMM trace of every process to "
		"FILE\n"
		"                    (docs/TRACE.md; replay: sgxemu bench "
		"--replay FILE)\n",
		SGX_ETRACK_BATCH_DEFAULT, RUN_DEFAULT_CPUS);
}

/* "64M" and the like; false if it is not a size. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	default: break;
	}
	*out = v;
	return !*end && v >= PAGE_SIZE;
}

static bool parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

/* The runtime beside this executable: the build tree or the install. */
static bool find_runtime(char *out, size_t len)
{
	static const char *const rel[] = {
		"src/run/" RUNTIME_NAME,
		"../lib/x86_64-linux-gnu/" RUNTIME_NAME,
		"../lib/" RUNTIME_NAME,
		"../lib64/" RUNTIME_NAME,
	};
	const char *env = getenv(RUNTIME_ENV);
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, R_OK) == 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	slash[1] = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(out, len, "%s%s", exe, rel[i]);
		if (access(out, R_OK) == 0)
			return true;
	}
	return false;
}

static int set_env_u64(const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return setenv(name, buf, 1);
}

/* LD_PRELOAD gets the runtime first, keeping what was there. */
static int set_preload(const char *runtime)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;
	int ret;

	if (!old || !*old)
		return setenv("LD_PRELOAD", runtime, 1);
	if (asprintf(&v, "%s:%s", runtime, old) < 0)
		return -1;
	ret = setenv("LD_PRELOAD", v, 1);
	free(v);
	return ret;
}

static void print_stats(const struct run_stats *s)
{
	printf("sgxemu run stats:\n"
	       "  processes   %llu\n  etracks     %llu\n"
	       "  ipi_rounds  %llu\n  ipis        %llu\n"
	       "  aexs        %llu\n  eaugs       %llu\n"
	       "  ewbs        %llu\n  eldus       %llu\n"
	       "  eenters     %llu\n  eresumes    %llu\n"
	       "  eexits      %llu\n  host_fills  %llu\n"
	       "  revocations %llu\n",
	       (unsigned long long)s->processes,
	       (unsigned long long)s->etracks,
	       (unsigned long long)s->ipi_rounds, (unsigned long long)s->ipis,
	       (unsigned long long)s->aexs, (unsigned long long)s->eaugs,
	       (unsigned long long)s->ewbs, (unsigned long long)s->eldus,
	       (unsigned long long)s->eenters,
	       (unsigned long long)s->eresumes,
	       (unsigned long long)s->eexits,
	       (unsigned long long)s->host_fills,
	       (unsigned long long)s->revocations);
	fflush(stdout);
}

/*
 * The trace file: truncated, the header written, and its descriptor in
 * the environment; O_APPEND so that every process's lines stay whole.
 */
static int open_record(const char *path)
{
	static const char header[] = "sgxemu-trace 2\n";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0666);

	if (fd < 0 || write(fd, header, sizeof(header) - 1) !=
			      (ssize_t)(sizeof(header) - 1) ||
	    set_env_u64(RUN_RECORD_FD_ENV, (uint64_t)fd)) {
		fprintf(stderr, "sgxemu run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Fork, exec, wait, print; the exit status is the program's. */
static int run_with_stats(char **argv)
{
	struct run_stats *s;
	int fd, status;
	pid_t pid;

	fd = memfd_create("sgxemu-stats", 0);
	if (fd < 0 || ftruncate(fd, sizeof(*s)) ||
	    set_env_u64(RUN_STATS_FD_ENV, (uint64_t)fd)) {
		perror("sgxemu run: stats");
		return CLI_FAIL;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		perror("sgxemu run: stats");
		return CLI_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("sgxemu run: fork");
		return CLI_FAIL;
	}
	if (!pid) {
		execvp(argv[0], argv);
		fprintf(stderr, "sgxemu run: %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	print_stats(s);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "etrack-batch", required_argument, NULL, 'b' },
		{ "loop-checks", required_argument, NULL, 'L' },
		{ "epc-size", required_argument, NULL, 'e' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "stats", no_argument, NULL, 's' },
		{ "record", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int batch = SGX_ETRACK_BATCH_DEFAULT, cpus = RUN_DEFAULT_CPUS;
	uint64_t epc = RUN_DEFAULT_EPC_SIZE;
	char runtime[PATH_MAX];
	bool stats = false, loop_checks = true;
	const char *record = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (!parse_uint(optarg, UINT_MAX, &batch))
				goto bad;
			break;
		case 'L':
			if (!cli_parse_on_off(optarg, &loop_checks))
				goto bad;
			break;
		case 'e':
			if (!parse_size(optarg, &epc) ||
			    epc / PAGE_SIZE > SGX_EPC_PAGES_MAX)
				goto bad;
			break;
		case 'c':
			if (!parse_uint(optarg, SGX_LPS_MAX - 1, &cpus) ||
			    !cpus)
				goto bad;
			break;
		case 's':
			stats = true;
			break;
		case 'r':
			record = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			goto bad;
		}
	}
	if (optind >= argc)
		goto bad;
	if (!find_runtime(runtime, sizeof(runtime))) {
		fprintf(stderr, "sgxemu run: cannot find %s (set %s)\n",
			RUNTIME_NAME, RUNTIME_ENV);
		return CLI_FAIL;
	}
	if (set_preload(runtime) || set_env_u64(RUN_ETRACK_BATCH_ENV, batch) ||
	    set_env_u64(RUN_LOOP_CHECKS_ENV, loop_checks) ||
	    set_env_u64(RUN_EPC_SIZE_ENV, epc) ||
	    set_env_u64(RUN_CPUS_ENV, cpus)) {
		perror("sgxemu run: environment");
		return CLI_FAIL;
	}
	if (record && open_record(record))
		return CLI_FAIL;
	if (stats)
		return run_with_stats(argv + optind);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "sgxemu run: %s: %s\n", argv[optind], strerror(errno));
	return CLI_FAIL;
bad:
	usage(stderr);
	return CLI_USAGE;
}
