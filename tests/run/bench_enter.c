// SPDX-License-Identifier: MIT
/*
 * EENTER + EEXIT round trip under `sgxemu run` (a benchmark, not a test):
 * a warm enclave call that does nothing but EEXIT, timed one by one, once
 * through the vDSO (whose EENTER goes straight into the runtime) and once
 * with the program's own ENCLU (which traps); prints the median, the 10th
 * and 90th percentiles in ns. The same run first times
 * one trapped INT3 (a signal and its return), the unit the round trip is
 * reported in: a ratio stays comparable across machines and loads.
 *   sgxemu run -- build/tests/run/run_bench_enter [CALLS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
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

/* The kernel's struct sigaction on x86-64, for a raw rt_sigaction. */
struct k_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

void bench_restorer(void);
__asm__(".text\n"
	"bench_restorer:\n"
	"	mov $15, %eax\n" /* rt_sigreturn */
	"	syscall\n");

static void on_trap(int sig)
{
}

/*
 * Median ns of one INT3 trapped by a handler of the program's own, which
 * the runtime never sees: installed with a raw rt_sigaction before the
 * device is opened (no filter traps it then), so the time is the
 * kernel's signal delivery and return as this process has them.
 */
static uint64_t time_trap(uint64_t *t, unsigned long calls)
{
	struct k_sigaction act = { .handler = on_trap,
				   .flags = 0x04000000UL, /* SA_RESTORER */
				   .restorer = bench_restorer };
	register long sigsetsize __asm__("r10") = 8;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_rt_sigaction), "D"((long)SIGTRAP),
			   "S"(&act), "d"(0L), "r"(sigsetsize)
			 : "rcx", "r11", "memory");
	if (ret)
		return 1;
	for (unsigned long i = 0; i < calls; i++) {
		uint64_t start = now_ns();

		__asm__ volatile("int3");
		t[i] = now_ns() - start;
	}
	qsort(t, calls, sizeof(*t), cmp_u64);
	return t[calls / 2];
}

static vdso_sgx_enter_enclave_t vdso;

static void own_trip(const struct host_encl *e)
{
	host_enter(e->base + HE_TCS, 0, 0, 0);
}

static void vdso_trip(const struct host_encl *e)
{
	struct sgx_enclave_run run = { .tcs = e->base + HE_TCS };

	vdso(0, 0, 0, 2 /* EENTER */, 0, 0, &run);
}

/* Warm (the code page is mapped after the first call), then timed. */
static uint64_t *time_trips(uint64_t *t, unsigned long calls,
			    const struct host_encl *e,
			    void (*trip)(const struct host_encl *))
{
	trip(e);
	for (unsigned long i = 0; i < calls; i++) {
		uint64_t start = now_ns();

		trip(e);
		t[i] = now_ns() - start;
	}
	qsort(t, calls, sizeof(*t), cmp_u64);
	return t;
}

static void report(const char *how, const uint64_t *t, uint64_t trap,
		   unsigned long calls)
{
	uint64_t ratio = t[calls / 2] * 100 / trap;

	printf("EENTER+EEXIT round trip (%s) over %lu calls: median %llu ns, "
	       "p10 %llu ns, p90 %llu ns; round trip / trap: %llu.%02llu\n",
	       how, calls, (unsigned long long)t[calls / 2],
	       (unsigned long long)t[calls / 10],
	       (unsigned long long)t[calls * 9 / 10],
	       (unsigned long long)ratio / 100,
	       (unsigned long long)ratio % 100);
}

int main(int argc, char **argv)
{
	uint64_t trap;
	unsigned long calls = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	struct host_encl e;
	uint64_t *t;

	t = calloc(calls ? calls : 1, sizeof(*t));
	if (!calls || !t)
		return 1;
	trap = time_trap(t, calls);
	vdso = host_vdso_enter();
	if (!vdso || host_encl_build(&e))
		return 1;
	printf("trapped INT3: median %llu ns\n", (unsigned long long)trap);
	report("vDSO", time_trips(t, calls, &e, vdso_trip), trap, calls);
	report("own ENCLU", time_trips(t, calls, &e, own_trip), trap, calls);
	free(t);
	host_encl_destroy(&e);
	return 0;
}
