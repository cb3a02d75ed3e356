// SPDX-License-Identifier: MIT
/*
 * EENTER + EEXIT round trip under `sgxemu run` (a benchmark, not a test):
 * a warm enclave call that does nothing but EEXIT, timed one by one; prints
 * the median, the 10th and 90th percentiles in ns.
 *   sgxemu run -- build/tests/run/run_bench_enter [CALLS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "host_encl.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long calls = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	struct host_encl e;
	uint64_t *t;

	if (!calls || host_encl_build(&e))
		return 1;
	t = calloc(calls, sizeof(*t));
	if (!t)
		return 1;
	/* Warm: the code page is mapped after the first call. */
	host_enter(e.base + HE_TCS, 0, 0, 0);
	for (unsigned long i = 0; i < calls; i++) {
		uint64_t start = now_ns();

		host_enter(e.base + HE_TCS, 0, 0, 0);
		t[i] = now_ns() - start;
	}
	qsort(t, calls, sizeof(*t), cmp_u64);
	printf("EENTER+EEXIT round trip over %lu calls: median %llu ns, "
	       "p10 %llu ns, p90 %llu ns\n",
	       calls, (unsigned long long)t[calls / 2],
	       (unsigned long long)t[calls / 10],
	       (unsigned long long)t[calls * 9 / 10]);
	free(t);
	host_encl_destroy(&e);
	return 0;
}
