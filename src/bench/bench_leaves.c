// SPDX-License-Identifier: MIT
/*
 * bench_leaves: how fast the emulator runs its two hottest leaves, and what
 * an idle EPC costs. A benchmark, not a test: the figures depend on the
 * machine, so nothing here passes or fails on them.
 *
 * - EMODPR and EACCEPT: each round restricts every page of a 1024-page
 *   enclave (EMODPR), tracks it (ETRACK with nobody inside), then the
 *   enclave thread accepts every page (EACCEPT). A round's time divided by
 *   the pages gives one per-leaf sample; the median over the rounds is
 *   reported. Invariant checking is off, as in benchmarks and the explorer.
 * - Lazy EPC: resident memory before and after creating a 1M-page (4 GiB)
 *   EPC, and after touching 1000 of its pages.
 *
 * Usage: bench_leaves [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/bare.h"

#define PAGES 1024
#define ROUNDS 31
#define BASE 0x40000000ULL
#define TCS_OFF 0x0000
#define SSA_OFF 0x1000
#define SCRATCH_OFF 0x2000
#define DATA_OFF 0x3000
#define AEP 0x7000DEAD000ULL
#define RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "bench_leaves: %s failed\n", what);
	exit(1);
}

static void build(struct bare *b)
{
	static struct sgx_tcs tcs;
	int ext;

	tcs = (struct sgx_tcs){ .ssa_offset = SSA_OFF, .nr_ssa_frames = 1,
				.entry_offset = DATA_OFF,
				.fs_limit = 0xFFFFFFFF, .gs_limit = 0xFFFFFFFF };
	if (bare_ecreate(b, BASE, 8ULL << 20) ||
	    bare_eadd(b, TCS_OFF, SGX_SECINFO_TYPE(PT_TCS), &tcs, false, &ext) ||
	    bare_eadd(b, SSA_OFF, RW, NULL, false, &ext) ||
	    bare_eadd(b, SCRATCH_OFF, RW, NULL, false, &ext))
		die("building the enclave");
	for (unsigned int i = 0; i < PAGES; i++)
		if (bare_eadd(b, DATA_OFF + i * PAGE_SIZE, RW, NULL, false, &ext))
			die("EADD");
	if (bare_einit(b))
		die("EINIT");
}

/* One round; adds the per-page EMODPR and EACCEPT times to the samples. */
static void round_once(struct bare *b, double *emodpr, double *eaccept)
{
	struct sgx_lp *os = &b->cpu.lps[0], *thread = &b->cpu.lps[1];
	struct sgx_secinfo r = { .flags = SGX_SECINFO_R };
	uint64_t epc[PAGES], scratch = BASE + SCRATCH_OFF;
	double t0, t1;
	int bad = 0;

	for (unsigned int i = 0; i < PAGES; i++)
		epc[i] = bare_epc(b, DATA_OFF + i * PAGE_SIZE);
	t0 = now_ns();
	for (unsigned int i = 0; i < PAGES; i++)
		bad |= encls_emodpr(os, &r, epc[i]);
	t1 = now_ns();
	*emodpr = (t1 - t0) / PAGES;
	bad |= encls_etrack(os, b->secs);
	bad |= enclu_eenter(thread, BASE + TCS_OFF, AEP);
	t0 = now_ns();
	for (unsigned int i = 0; i < PAGES; i++)
		bad |= enclu_eaccept(thread, scratch,
				     BASE + DATA_OFF + i * PAGE_SIZE);
	t1 = now_ns();
	*eaccept = (t1 - t0) / PAGES;
	bad |= enclu_eexit(thread, AEP);
	if (bad)
		die("a leaf in the measured round");
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
		die("reading /proc/self/statm");
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void lazy_epc(long out[3])
{
	struct sgx_cpu_config cfg = { .epc_pages = 1ULL << 20, .nr_lps = 4,
				      .seed = 1 };
	struct sgx_cpu cpu;

	out[0] = rss_kib();
	if (sgx_cpu_init(&cpu, &cfg))
		die("creating a 1M-page EPC");
	out[1] = rss_kib();
	for (uint64_t i = 0; i < 1000; i++)
		memset((void *)(uintptr_t)sgx_epc_addr(&cpu, i * 1000), 1, 64);
	out[2] = rss_kib();
	sgx_cpu_destroy(&cpu);
}

int main(int argc, char **argv)
{
	struct sgx_cpu_config cfg = { .epc_pages = 2 * PAGES, .nr_lps = 2,
				      .seed = 1 };
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	double emodpr[ROUNDS], eaccept[ROUNDS];
	static struct bare b;
	long rss[3];

	if (bare_init(&b, &cfg))
		die("bare_init");
	build(&b);
	/* The SECINFO the enclave passes to EACCEPT: R|REG|PR. */
	struct sgx_secinfo pr = { .flags = SGX_SECINFO_TYPE(PT_REG) |
					   SGX_SECINFO_R | SGX_SECINFO_PR };
	memcpy((void *)(uintptr_t)bare_epc(&b, SCRATCH_OFF), &pr, sizeof(pr));
	for (int i = 0; i < ROUNDS; i++)
		round_once(&b, &emodpr[i], &eaccept[i]);
	bare_destroy(&b);
	lazy_epc(rss);
	if (json) {
		printf("{\"emodpr_median_ns\":%.1f,\"eaccept_median_ns\":%.1f,"
		       "\"rss_kib_before\":%ld,\"rss_kib_1m_epc\":%ld,"
		       "\"rss_kib_1000_touched\":%ld}\n",
		       median(emodpr, ROUNDS), median(eaccept, ROUNDS), rss[0],
		       rss[1], rss[2]);
		return 0;
	}
	printf("EMODPR   median %.1f ns per leaf (%d rounds of %d pages)\n",
	       median(emodpr, ROUNDS), ROUNDS, PAGES);
	printf("EACCEPT  median %.1f ns per leaf (%d rounds of %d pages)\n",
	       median(eaccept, ROUNDS), ROUNDS, PAGES);
	printf("RSS      %ld KiB before, %ld KiB with a 1M-page EPC, "
	       "%ld KiB after touching 1000 pages\n", rss[0], rss[1], rss[2]);
	return 0;
}
