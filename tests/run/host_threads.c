// SPDX-License-Identifier: MIT
/*
 * More enclave threads than LPs (run with --cpus 2), and threads made by a
 * raw clone(): one without CLONE_SETTLS (it shares this thread's glibc
 * TLS) and one whose FS base is a thread block of its own, as a LibOS
 * runtime's threads have. Every thread enters its own TCS many times at
 * once with the others and writes and reads back its own slot; the raw
 * threads also check that their FS base is theirs after every return.
 * The threads end with a raw exit, which must give back what they held.
 *
 * Then two threads spin inside the enclave until a third, which needs an
 * LP to enter (and the main thread, to reach the driver), sets the value
 * they wait for: with 2 LPs only preemption, as Linux's scheduler does it,
 * lets the third in. Last, four threads enter through the vDSO at once
 * (its EENTER goes straight into the runtime, without a trap).
 */
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "host_encl.h"
#include "raw_sys.h"

#define PTHREADS 6
#define ROUNDS 400
#define RAW_STACK (64 * 1024)
#define CLONE_THREAD_FLAGS                                                 \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
	 CLONE_SYSVSEM)

static struct host_encl e;

struct worker {
	unsigned int tcs;
	uint64_t fs; /* the raw thread's own FS base; 0: not checked */
	unsigned int wrong, fs_lost;
	atomic_int done;
};

static uint64_t tcs_of(unsigned int i)
{
	return e.base + HE_TCS + i * 4096ULL;
}

static inline uint64_t fs_self(void)
{
	uint64_t v;

	__asm__ volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

/*
 * One round: write a value only this thread uses into its slot of the
 * stress page, read it back, and spin a little so that the threads
 * overlap inside. No TLS, no libc: raw threads run it.
 */
__attribute__((no_stack_protector)) static void rounds(struct worker *w)
{
	uint64_t slot = e.base + HE_STRESS + 8 * w->tcs;

	for (uint64_t k = 1; k <= ROUNDS; k++) {
		uint64_t v = (uint64_t)w->tcs << 32 | k;

		host_enter_notls(tcs_of(w->tcs), HE_WRITE, slot, v);
		if (host_enter_notls(tcs_of(w->tcs), HE_READ, slot, 0) != v)
			w->wrong++;
		host_enter_notls(tcs_of(w->tcs), HE_SPIN, 0, 200);
		if (w->fs && fs_self() != w->fs)
			w->fs_lost++;
	}
}

static void *pthread_worker(void *p)
{
	rounds(p);
	return NULL;
}

__attribute__((no_stack_protector)) static void raw_worker(void *p)
{
	struct worker *w = p;

	rounds(w);
	atomic_store(&w->done, 1);
}

/*
 * clone() without libc: the child runs fn(arg) on @stack_top and leaves
 * with a raw exit.
 */
__attribute__((noinline)) static long raw_clone(unsigned long flags,
						void *stack_top, uint64_t tls,
						void (*fn)(void *), void *arg)
{
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = (long)tls;
	register long r9 __asm__("r9") = (long)fn;
	register long r12 __asm__("r12") = (long)arg;
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "call *%%r9\n\t"
			 "mov $60, %%eax\n\t" /* exit */
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone), "D"(flags), "S"(stack_top),
			   "d"(0L), "r"(r10), "r"(r8), "r"(r9), "r"(r12)
			 : "rcx", "r11", "memory");
	return ret;
}

static void start_raw(struct worker *w, uint64_t tls)
{
	char *stack = mmap(NULL, RAW_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(stack != MAP_FAILED, "a stack for a raw thread");
	CHECK(raw_clone(CLONE_THREAD_FLAGS | (tls ? CLONE_SETTLS : 0),
			stack + RAW_STACK - 64, tls, raw_worker, w) > 0,
	      "raw clone");
}

/*
 * A thread block of the raw thread's own runtime at FS: the x86-64 TLS
 * ABI's self pointer at %fs:0, one writable page below it (what the
 * runtime's handlers need there: docs/RUNNER.md), nothing below that.
 */
static uint64_t own_thread_block(void)
{
	char *block = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t fs = (uint64_t)(uintptr_t)(block + (1 << 15));

	mprotect(block, (1 << 15) - 4096, PROT_NONE);
	*(uint64_t *)(uintptr_t)fs = fs;
	return fs;
}

static void *waiter(void *p)
{
	uint64_t tcs = (uint64_t)(uintptr_t)p;

	host_enter(tcs_of((unsigned int)tcs), HE_WAIT, 0x3a17, 0);
	return NULL;
}

static void *putter(void *p)
{
	host_enter(tcs_of(2), HE_PUT, 0x3a17, 0);
	return NULL;
}

static void test_spinners_give_way(void)
{
	pthread_t w[2], p;

	host_enter(tcs_of(2), HE_PUT, 0, 0);
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&w[i], NULL, waiter, (void *)i);
	pthread_create(&p, NULL, putter, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	pthread_join(p, NULL);
	CHECK(host_enter(tcs_of(3), HE_GET, 0, 0) == 0x3a17,
	      "the waiters saw the value");
}

#define VDSO_THREADS 4
#define VDSO_ROUNDS 300

static vdso_sgx_enter_enclave_t vdso;

/* The vDSO's user handler: keep the enclave's RDX, return 0. */
static int keep_rdx(long rdi, long rsi, long rdx, long rsp, long r8, long r9,
		    struct sgx_enclave_run *run)
{
	run->user_data = (uint64_t)rdx;
	return 0;
}

static uint64_t vdso_call(unsigned int tcs, uint64_t op, uint64_t rsi,
			  uint64_t rdx)
{
	struct sgx_enclave_run run = {
		.tcs = tcs_of(tcs),
		.user_handler = (uint64_t)(uintptr_t)keep_rdx,
	};

	if (vdso(op, rsi, rdx, 2 /* EENTER */, 0, 0, &run) ||
	    run.function != 4 /* EEXIT */)
		return ~0ULL;
	return run.user_data;
}

static void *vdso_worker(void *p)
{
	struct worker *w = p;
	uint64_t slot = e.base + HE_STRESS + 8 * w->tcs;

	for (uint64_t k = 1; k <= VDSO_ROUNDS; k++) {
		uint64_t v = (uint64_t)w->tcs << 40 | k;

		vdso_call(w->tcs, HE_WRITE, slot, v);
		if (vdso_call(w->tcs, HE_READ, slot, 0) != v)
			w->wrong++;
	}
	return NULL;
}

static void test_vdso_threads(void)
{
	struct worker w[VDSO_THREADS];
	pthread_t th[VDSO_THREADS];

	vdso = host_vdso_enter();
	CHECK(vdso != NULL, "the vDSO's enter function");
	if (!vdso)
		return;
	memset(w, 0, sizeof(w));
	for (unsigned int i = 0; i < VDSO_THREADS; i++) {
		w[i].tcs = i;
		pthread_create(&th[i], NULL, vdso_worker, &w[i]);
	}
	for (unsigned int i = 0; i < VDSO_THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK(w[i].wrong == 0, "vDSO thread %u: %u wrong reads", i,
		      w[i].wrong);
	}
}

int main(void)
{
	struct worker w[PTHREADS + 2];
	pthread_t th[PTHREADS];

	if (host_encl_build(&e))
		return 1;
	memset(w, 0, sizeof(w));
	for (unsigned int i = 0; i < PTHREADS + 2; i++)
		w[i].tcs = i;
	w[PTHREADS].fs = fs_self(); /* shares this thread's */
	w[PTHREADS + 1].fs = own_thread_block();
	start_raw(&w[PTHREADS], 0);
	start_raw(&w[PTHREADS + 1], w[PTHREADS + 1].fs);
	for (unsigned int i = 0; i < PTHREADS; i++)
		pthread_create(&th[i], NULL, pthread_worker, &w[i]);
	for (unsigned int i = 0; i < PTHREADS; i++)
		pthread_join(th[i], NULL);
	for (unsigned int i = PTHREADS; i < PTHREADS + 2; i++)
		while (!atomic_load(&w[i].done))
			sched_yield();
	for (unsigned int i = 0; i < PTHREADS + 2; i++) {
		CHECK(w[i].wrong == 0, "thread %u: %u wrong reads", i,
		      w[i].wrong);
		CHECK(w[i].fs_lost == 0, "thread %u: FS lost %u times", i,
		      w[i].fs_lost);
	}
	CHECK(fs_self() == w[PTHREADS].fs, "the main thread's FS");
	test_spinners_give_way();
	test_vdso_threads();
	host_encl_destroy(&e);
	printf("%u checks, %u failed\n", checks, failures);
	return failures != 0;
}
