// SPDX-License-Identifier: MIT
/*
 * minirt: a small LibOS-style SGX runtime (README.md), and its test.
 *
 *   minirt [--vdso] [--signal-entry] [--elrange SIZE] [--threads N]
 *	    [--bench N] [--buffers PAGES] [ENCLAVE]
 *
 * builds the enclave (minirt_enclave.elf beside this program) with an
 * ELRANGE of SIZE (default 1T; K, M, G, T), then checks each behaviour of
 * the runtime and prints what the enclave's handler counted. Exits 0 only
 * if every check held. --vdso enters through __vdso_sgx_enter_enclave
 * instead of its own ENCLU. --threads N runs N workers (0 to 3, default
 * 3) from a raw clone: on the two built-in TCSs after the main thread's,
 * then on the TCS made at run time.
 * --signal-entry runs the enclave's exception handler from inside the
 * signal handler, on an alternate stack, as Gramine does, instead of after
 * it. --bench N instead times N OCALL round trips against N trapped INT3s.
 * --buffers PAGES ends with a large buffer made read-only and one unmapped,
 * PAGES pages each, one EDMM call per step (a runtime's big mmap/munmap).
 */
#include <cpuid.h>
#include <libgen.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "sys.h"

void mrt_restorer(void);
long mrt_clone(unsigned long flags, void *stack, int *ctid,
	       void (*fn)(void *), void *arg);

static unsigned int checks, failures;

static void expect(int ok, const char *what, uint64_t got)
{
	checks++;
	if (!ok)
		failures++;
	printf("%s: %s (%#llx)\n", ok ? "ok" : "FAIL", what,
	       (unsigned long long)got);
}

/* ---- Threads from a raw clone ---- */

#define WORK_ROUNDS 8
#define WORKER_STACK (256 * 1024)

struct worker {
	struct mrt_thread t; /* first: the child's GS points here */
	struct mrt_enclave *e;
	uint64_t tcs, result;
	int vdso;
	int ctid; /* cleared by the kernel when the thread exits */
};

/* The child: no libc (it shares the parent's TLS), only GS and raw calls. */
static void worker_main(void *arg)
{
	struct worker *w = arg;

	if (mrt_thread_init(&w->t, w->e, w->tcs, w->vdso))
		return;
	w->result = mrt_ecall(&w->t, ECALL_WORK, WORK_ROUNDS);
}

static int start_worker(struct worker *w)
{
	const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES |
				    CLONE_SIGHAND | CLONE_THREAD |
				    CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
	uint8_t *stack = sys_mmap(NULL, WORKER_STACK, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (sys_failed(stack))
		return -1;
	w->ctid = 1;
	return mrt_clone(flags, stack + WORKER_STACK, &w->ctid, worker_main,
			 w) < 0 ? -1 : 0;
}

static void join_worker(struct worker *w)
{
	int v;

	while ((v = __atomic_load_n(&w->ctid, __ATOMIC_ACQUIRE)))
		sys6(SYS_futex, (long)&w->ctid, FUTEX_WAIT, v, 0, 0, 0);
}

static void test_threads(struct mrt_thread *t, uint64_t new_tcs,
			 unsigned int n)
{
	struct worker w[MRT_THREADS];
	const uint64_t want = WORK_ROUNDS * (WORK_ROUNDS + 1) / 2;
	unsigned int started = 0;

	/* Workers on the built-in TCSs after the main thread's, then one
	 * on the TCS made at run time. */
	for (unsigned int i = 0; i < n && i < MRT_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].e = t->encl;
		w[i].vdso = t->vdso;
		w[i].tcs = i + 1 < MRT_THREADS ? t->encl->tcs[i + 1] : new_tcs;
		if (start_worker(&w[i]))
			break;
		started++;
	}
	for (unsigned int i = 0; i < started; i++)
		join_worker(&w[i]);
	/* The workers' GS writes are theirs: the main thread's is intact. */
	uint64_t gs = 0;

	expect(sys3(SYS_arch_prctl, 0x1004 /* ARCH_GET_GS */, &gs, 0) == 0 &&
		       gs == (uint64_t)(uintptr_t)t,
	       "the main thread's GS base is still its own TCB", gs);
	for (unsigned int i = 0; i < n && i < MRT_THREADS; i++)
		expect(i < started && w[i].result == want,
		       "a raw-clone thread's OCALLs and heap pages", w[i].result);
}

/* ---- The checks ---- */

static void counters(struct mrt_thread *t, struct mrt_counters *c)
{
	memset(c, 0, sizeof(*c));
	mrt_ecall(t, ECALL_COUNTERS, (uint64_t)(uintptr_t)c);
}

static void test_basics(struct mrt_thread *t)
{
	unsigned int eax, ebx, ecx, edx;

	expect(mrt_ecall(t, ECALL_PING, 41) == 42, "ECALL", 0);
	expect(mrt_ecall(t, ECALL_OCALLS, 10) == 3 * 45,
	       "10 OCALLs with their frames below RSP", 0);
	expect(mrt_ecall(t, ECALL_HEAP, 16) == 16,
	       "16 heap pages and ELRANGE's last page, committed on #PF", 0);
	expect(mrt_ecall(t, ECALL_SYSCALL, 0) == (uint64_t)getpid(),
	       "SYSCALL getpid, #UD emulated by an OCALL", 0);
	expect(mrt_ecall(t, ECALL_WRITE, 1) == 33,
	       "SYSCALL write, #UD emulated by an OCALL", 0);
	__cpuid_count(0, 0, eax, ebx, ecx, edx);
	(void)eax, (void)ecx, (void)edx;
	expect(mrt_ecall(t, ECALL_CPUID, 0) == ebx,
	       "CPUID leaf 0 (native, or #UD emulated by an OCALL)", ebx);
	expect(mrt_ecall(t, ECALL_DIV0, 5) == (uint64_t)-1,
	       "#DE: fixed up, resumed", 0);
	expect(mrt_ecall(t, ECALL_INT3, 5) == 12, "#BP: resumed after INT3", 0);
	if (t->encl->xfrm & 0x4)
		expect(mrt_ecall(t, ECALL_AVX, 0x0123456789abcdefULL) == 1,
		       "YMM0 across a #PF and a #DE handled on the host", 0);
	else
		printf("skip: no AVX in XCR0\n");
}

static void test_edmm(struct mrt_thread *t, uint64_t *new_tcs)
{
	uint64_t r;

	r = mrt_ecall(t, ECALL_MPROTECT, 4);
	expect(r == MRT_OK_ALL, "mprotect R: RESTRICT_PERMISSIONS + EACCEPT", r);
	r = mrt_ecall(t, ECALL_MUNMAP, 4);
	expect(r == 4, "munmap: TRIM + EACCEPT + REMOVE_PAGES, then anew", r);
	r = mrt_ecall(t, ECALL_JIT, 0);
	expect(r == MRT_OK_ALL, "JIT page: EMODPE adds X, RESTRICT removes W",
	       r);
	*new_tcs = mrt_ecall(t, ECALL_NEW_TCS, 0);
	expect(*new_tcs != 0, "a TCS from MODIFY_TYPES", *new_tcs);
	if (*new_tcs) {
		struct mrt_thread nt = *t;

		/* Entered once from the main thread, on its own TCB. */
		nt.self = &nt;
		nt.tcs = *new_tcs;
		nt.aexs = 0;
		sys3(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, &nt, 0);
		r = mrt_ecall(&nt, ECALL_HEAP, 2);
		sys3(SYS_arch_prctl, 0x1001, t, 0);
		expect(r == 2 && nt.aexs == 2,
		       "an ECALL on the new TCS, its two commits", nt.aexs);
	}
}

/*
 * A large buffer, as runtimes map and unmap them: PAGES committed and made
 * read-only in one RESTRICT_PERMISSIONS, then PAGES committed and unmapped
 * in one MODIFY_TYPES and one REMOVE_PAGES (the workload of
 * docs/perf/workloads/minirt.trace.xz).
 */
static void test_buffers(struct mrt_thread *t, uint64_t pages)
{
	uint64_t r = mrt_ecall(t, ECALL_MPROTECT, pages);

	expect(r == MRT_OK_ALL, "a large buffer made read-only", r);
	r = mrt_ecall(t, ECALL_MUNMAP, pages);
	expect(r == pages, "a large buffer unmapped, then anew", r);
}

static int run_tests(struct mrt_thread *t, unsigned int threads,
		     uint64_t buffer_pages)
{
	struct mrt_counters c;
	uint64_t new_tcs = 0;

	test_basics(t);
	test_edmm(t, &new_tcs);
	counters(t, &c);
	expect(c.syscalls == 2, "the handler emulated two SYSCALLs", c.syscalls);
	expect(c.breakpoints == 1, "the handler saw one #BP", c.breakpoints);
	expect(c.fixups == 2 + 4 + 1, "fixups: #DE twice, 5 writes", c.fixups);
	/* 16 + 1 heap pages, 1 for YMM0, 4 read-only, 4 + 4 unmapped and
	 * touched again, the JIT page, the new thread block. */
	expect(c.commits == 16 + 1 + 1 + 4 + 8 + 1 + MRT_BLOCK_PAGES,
	       "the main thread's commits", c.commits);
	expect(t->aexs == c.commits + c.syscalls + c.cpuids + c.fixups +
				  c.breakpoints && !c.no_exception,
	       "one entry of the handler per exception, each handled", t->aexs);
	/* Linux's vDSO fixes up every exception but #DB and #BP: those come
	 * as SIGTRAP at its ENCLU. With its own ENCLU, all come as signals. */
	expect(t->signals == (t->vdso ? c.breakpoints : t->aexs),
	       "the exceptions that came as signals", t->signals);
	/* The buffers commit each page once, the unmapped one twice. */
	printf("minirt: commits %llu, cpuid emulations %llu\n",
	       (unsigned long long)(c.commits + 2 + (uint64_t)threads *
				    WORK_ROUNDS + 3 * buffer_pages),
	       (unsigned long long)c.cpuids);
	if (threads)
		test_threads(t, new_tcs, threads);
	if (buffer_pages)
		test_buffers(t, buffer_pages);
	printf("minirt: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}

/* ---- The benchmark ---- */

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

#define K_SA_RESTORER 0x04000000UL

static void on_int3(int sig)
{
	(void)sig;
}

/*
 * Median ns of one INT3 trapped by a handler of minirt's own that the
 * runtime never sees, the unit of tests/run/bench_enter.c: installed with
 * a raw rt_sigaction before the device is opened (no filter traps it
 * then), and the kernel's previous action put back after, so the time is
 * the kernel's signal delivery and return alone.
 */
static uint64_t time_int3(uint64_t *ns, unsigned long n)
{
	struct k_sigaction act = { .handler = on_int3,
				   .flags = K_SA_RESTORER,
				   .restorer = mrt_restorer }, old;

	if (sys6(SYS_rt_sigaction, SIGTRAP, (long)&act, (long)&old, 8, 0, 0))
		return 0;
	for (unsigned long i = 0; i < n; i++) {
		uint64_t start = now_ns();

		__asm__ volatile("int3");
		ns[i] = now_ns() - start;
	}
	if (sys6(SYS_rt_sigaction, SIGTRAP, (long)&old, 0, 8, 0, 0))
		return 0;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	return ns[n / 2];
}

/* Each OCALL's round trip: between two OCALLs reaching the host. */
static int bench(struct mrt_thread *t, uint64_t *ns, unsigned long n,
		 uint64_t int3)
{
	uint64_t trip, ratio;

	mrt_ecall(t, ECALL_OCALLS, 1); /* warm */
	t->bench_ns = ns;
	mrt_ecall(t, ECALL_OCALLS, n + 1);
	t->bench_ns = NULL;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	trip = ns[n / 2];
	ratio = trip * 100 / int3;
	printf("OCALL round trip over %lu calls (%s): median %llu ns, p10 %llu, "
	       "p90 %llu\ntrapped INT3: median %llu ns; OCALL / INT3: "
	       "%llu.%02llu\n",
	       n, t->vdso ? "vDSO" : "own ENCLU", (unsigned long long)trip,
	       (unsigned long long)ns[n / 10],
	       (unsigned long long)ns[n * 9 / 10], (unsigned long long)int3,
	       (unsigned long long)ratio / 100, (unsigned long long)ratio % 100);
	free(ns);
	return 0;
}

/* ---- main ---- */

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'T': v <<= 10; /* fall through */
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; break;
	case '\0': break;
	default: return 0;
	}
	return v && !(v & (v - 1)) ? v : 0;
}

static char *enclave_beside_me(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);

	if (n <= 0)
		return NULL;
	path[n] = '\0';
	strcat(dirname(path), "/minirt_enclave.elf");
	return path;
}

int main(int argc, char **argv)
{
	static struct mrt_enclave e;
	static struct mrt_thread t;
	uint64_t elrange = 1ULL << 40;
	unsigned long bench_n = 0, buffer_pages = 0;
	uint64_t *bench_ns = NULL, int3 = 0;
	unsigned int threads = MRT_THREADS;
	const char *path = NULL;
	int vdso = 0, signal_entry = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vdso"))
			vdso = 1;
		else if (!strcmp(argv[i], "--signal-entry"))
			signal_entry = 1;
		else if (!strcmp(argv[i], "--elrange") && i + 1 < argc)
			elrange = parse_size(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench_n = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--buffers") && i + 1 < argc)
			buffer_pages = strtoul(argv[++i], NULL, 0);
		else if (argv[i][0] != '-')
			path = argv[i];
		else
			elrange = 0;
	}
	if (!elrange || threads > MRT_THREADS) {
		fprintf(stderr, "usage: minirt [--vdso] [--signal-entry] "
				"[--elrange SIZE] [--threads 0..%d] [--bench N] "
				"[--buffers PAGES] [ENCLAVE]\n",
			MRT_THREADS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!path)
		path = enclave_beside_me();
	if (vdso && mrt_find_vdso()) {
		fprintf(stderr, "minirt: no vDSO enter function\n");
		return 1;
	}
	/* The unit first: before the device is opened. */
	if (bench_n) {
		bench_ns = calloc(bench_n + 1, sizeof(*bench_ns));
		int3 = bench_n < 2 || !bench_ns ? 0 :
						  time_int3(bench_ns, bench_n);
		if (!int3)
			return 1;
	}
	if (mrt_install_handlers(signal_entry)) {
		perror("minirt: signal handlers");
		return 1;
	}
	if (!path || mrt_load(&e, path, elrange) ||
	    mrt_thread_init(&t, &e, e.tcs[0], vdso))
		return 1;
	printf("minirt: ELRANGE %#llx bytes at %#llx, XFRM %#llx, %s%s\n",
	       (unsigned long long)e.size, (unsigned long long)e.base,
	       (unsigned long long)e.xfrm, vdso ? "vDSO" : "own ENCLU",
	       signal_entry ? ", handler entered from the signal" : "");
	return bench_n ? bench(&t, bench_ns, bench_n, int3) :
			 run_tests(&t, threads, buffer_pages);
}
