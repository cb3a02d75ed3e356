// SPDX-License-Identifier: MIT
/*
 * The runner's state of each program thread (struct run_thread, runtime.h)
 * and the LP a thread holds.
 *
 * Threads made by a raw clone() share their parent's glibc TLS (no
 * CLONE_SETTLS) or have a thread block of their own runtime at FS, so
 * nothing here uses __thread. UNCERTAIN: the runtime's handlers still run
 * glibc code (errno, malloc in the driver model) on whatever TLS such a
 * thread's FS names: its parent's, or its runtime's block, which must then
 * follow the x86-64 TLS ABI (%fs:0 the thread pointer) with writable
 * memory below it for glibc's own TLS (a page, in run_threads' paths). A record lives at the bottom of the thread's
 * alternate signal stack, aligned to RUN_ALTSTACK_SIZE: a handler finds it
 * from its stack pointer; other code by the kernel tid (gettid). Records
 * are only ever added to the table, and a thread's exit (pthread's key
 * destructor, or a raw exit that sysgate.c traps) marks its record EXITED;
 * it is reused once that tid is gone.
 *
 * LPs: an LP is a logical CPU. A thread holds one only while it needs one,
 * in enclave mode or in model code (run_lp_get() before the model lock,
 * run_lp_put() after it), and may get another one next time, as a Linux
 * thread migrates between CPUs. The LP stays in mm_cpumask once it ran the
 * process's mm, as in Linux. When every LP is busy the thread waits.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "run/runtime.h"

#define THREADS_MAX 4096
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
/* Below a frame in use: the red zone and a margin. */
#define STACK_GAP 512
/* The record's page; the stack proper is above it. */
#define STACK_LO 4096

static struct run_thread *threads[THREADS_MAX];
static atomic_uint nr_threads;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

pid_t run_gettid(void)
{
	return (pid_t)run_sys6(SYS_gettid, 0, 0, 0, 0, 0, 0);
}

/**
 * run_thread_here() - the record whose alternate stack the caller runs on,
 * or NULL. Touches no TLS (handlers call it before FS is the thread's).
 */
__attribute__((noinline, no_stack_protector)) struct run_thread *
run_thread_here(void)
{
	uintptr_t base = (uintptr_t)__builtin_frame_address(0) &
			 ~(RUN_ALTSTACK_SIZE - 1);
	unsigned int n = atomic_load(&nr_threads);

	for (unsigned int i = 0; i < n && i < THREADS_MAX; i++)
		if ((uintptr_t)threads[i] == base)
			return atomic_load(&threads[i]->state) ==
					       RUN_THREAD_LIVE ?
				       threads[i] :
				       NULL;
	return NULL;
}

static struct run_thread *find(pid_t tid)
{
	unsigned int n = atomic_load(&nr_threads);

	for (unsigned int i = 0; i < n && i < THREADS_MAX; i++) {
		struct run_thread *t = threads[i];

		if (t && t->tid == tid &&
		    atomic_load(&t->state) == RUN_THREAD_LIVE)
			return t;
	}
	return NULL;
}

/* The calling thread's record, or NULL if it has none yet. */
struct run_thread *run_thread_self(void)
{
	struct run_thread *t = run_thread_here();

	return t ? t : find(run_gettid());
}

/* A record of an exited thread whose tid is gone, claimed; or NULL. */
static struct run_thread *reuse(void)
{
	unsigned int n = atomic_load(&nr_threads);

	for (unsigned int i = 0; i < n && i < THREADS_MAX; i++) {
		struct run_thread *t = threads[i];
		int exited = RUN_THREAD_EXITED;

		/* Still running (on this stack, maybe): not yet. */
		if (!t || atomic_load(&t->state) != exited ||
		    run_sys6(SYS_tgkill, run.self, t->tid, 0, 0, 0, 0) !=
			    -ESRCH)
			continue;
		if (atomic_compare_exchange_strong(&t->state, &exited,
						   RUN_THREAD_FREE))
			return t;
	}
	return NULL;
}

static struct run_thread *fresh(void)
{
	uintptr_t raw, base;
	unsigned int n;

	raw = (uintptr_t)run_sys_mmap(NULL, 2 * RUN_ALTSTACK_SIZE,
				      PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((void *)raw == MAP_FAILED)
		return NULL;
	base = (raw + RUN_ALTSTACK_SIZE - 1) & ~(RUN_ALTSTACK_SIZE - 1);
	n = atomic_fetch_add(&nr_threads, 1);
	if (n >= THREADS_MAX) {
		run_sys_munmap((void *)raw, 2 * RUN_ALTSTACK_SIZE);
		return NULL;
	}
	threads[n] = (struct run_thread *)base;
	return threads[n];
}

static void exit_key_destructor(void *t)
{
	(void)t;
	run_thread_exit();
}

static void exit_key_create(void)
{
	pthread_key_create(&exit_key, exit_key_destructor);
}

/*
 * glibc's TLS at FS is the calling thread's own: the kernel clears its tid
 * there at exit (set_tid_address, CLONE_CHILD_CLEARTID), as for every
 * pthread. A raw clone() thread shares its parent's, or FS is its
 * runtime's: its glibc thread data (pthread keys) is not its own to set.
 */
static bool own_tls(pid_t tid)
{
	pid_t *p = NULL;

	return !run_sys6(SYS_prctl, PR_GET_TID_ADDRESS, (long)&p, 0, 0, 0,
			 0) &&
	       p && *p == tid;
}

/**
 * run_thread_get() - the calling thread's record, made at its first use:
 * the thread's own FS and GS bases, and its alternate stack not yet armed.
 *
 * Return: the record, or NULL if none can be made.
 */
struct run_thread *run_thread_get(void)
{
	struct run_thread *t = run_thread_self();

	if (t)
		return t;
	t = reuse();
	if (!t)
		t = fresh();
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	run_sys6(SYS_arch_prctl, ARCH_GET_FS, (long)&t->host_fs, 0, 0, 0, 0);
	run_sys6(SYS_arch_prctl, ARCH_GET_GS, (long)&t->gs, 0, 0, 0, 0);
	t->host_gs = t->gs;
	t->tid = run_gettid();
	t->program_stack.ss_flags = SS_DISABLE;
	atomic_store(&t->state, RUN_THREAD_LIVE);
	if (own_tls(t->tid)) {
		pthread_once(&exit_key_once, exit_key_create);
		pthread_setspecific(exit_key, t);
	}
	return t;
}

/**
 * run_thread_exit() - the calling thread exits: its LP is free, and its
 * record is reused once the thread is gone.
 */
void run_thread_exit(void)
{
	struct run_thread *t = run_thread_self();

	if (!t)
		return;
	if (run_thread_lp(t) && !t->lp->enclave_mode) {
		native_lp_free(&run.native, t->lp);
		t->lp = NULL;
	}
	atomic_store(&t->state, RUN_THREAD_EXITED);
}

/**
 * run_thread_forked() - in a fork's child: only the forking thread goes
 * on, under its new tid; the model's LPs are the parent's, so none is held.
 * @me: its record (run_thread_self() before the fork), or NULL
 */
void run_thread_forked(struct run_thread *me)
{
	unsigned int n = atomic_load(&nr_threads);

	for (unsigned int i = 0; i < n && i < THREADS_MAX; i++) {
		struct run_thread *t = threads[i];

		if (t && t != me && atomic_load(&t->state) == RUN_THREAD_LIVE)
			atomic_store(&t->state, RUN_THREAD_EXITED);
	}
	if (me) {
		me->tid = run_gettid();
		me->lp = NULL;
	}
}

uintptr_t run_thread_stack(const struct run_thread *t)
{
	return (uintptr_t)t;
}

/* @t's alternate stack up to @top (0: all of it), armed. */
stack_t run_thread_altstack(const struct run_thread *t, uintptr_t top)
{
	uintptr_t lo = run_thread_stack(t) + STACK_LO;

	if (!top)
		top = run_thread_stack(t) + RUN_ALTSTACK_SIZE;
	return (stack_t){ .ss_sp = (void *)lo, .ss_size = top - lo,
			  .ss_flags = (int)SS_AUTODISARM };
}

/* The LP @t holds in this process's model, or NULL. */
struct sgx_lp *run_thread_lp(struct run_thread *t)
{
	if (!t || !t->lp || t->lp_gen != run.native.generation ||
	    !run_ready())
		return NULL;
	return t->lp;
}

/**
 * run_lp_get() - the LP @t holds, or a free one, waiting while every LP is
 * busy (a CPU oversubscribed). Never call it with the model lock held.
 */
struct sgx_lp *run_lp_get(struct run_thread *t)
{
	struct sgx_lp *lp = run_thread_lp(t);

	if (lp)
		return lp;
	t->lp = native_lp_claim(&run.native, t->tid);
	t->lp_gen = run.native.generation;
	return t->lp;
}

/* @t leaves model code: outside enclave mode, its LP is free again. */
void run_lp_put(struct run_thread *t)
{
	struct sgx_lp *lp = run_thread_lp(t);

	if (!lp || lp->enclave_mode)
		return;
	native_lp_free(&run.native, lp);
	t->lp = NULL;
}

/*
 * Model lock held: a thread of the process now runs on @lp, which loads
 * the mm's page table and joins mm_cpumask (switch_mm()); it stays there.
 */
void run_lp_activate(struct sgx_lp *lp)
{
	if (!sgx_cpumask_test(&run.mm->cpumask, lp->id))
		sgx_mm_activate(run.mm, lp);
}

/* ---- The alternate stack ------------------------------------------------ */

static bool on_stack(const struct run_thread *t, uint64_t sp)
{
	return sp - run_thread_stack(t) < RUN_ALTSTACK_SIZE;
}

/* @sp lies on the stack @ss (an enabled one). */
bool run_on_stack(const stack_t *ss, uint64_t sp)
{
	return !(ss->ss_flags & SS_DISABLE) &&
	       sp - (uintptr_t)ss->ss_sp <= ss->ss_size;
}

/* Call fn(arg) with the stack pointer at @top. */
void run_call_on_stack(void (*fn)(void *), void *arg, uintptr_t top)
{
	__asm__ volatile("mov %%rsp, %%rbx\n\t"
			 "mov %[top], %%rsp\n\t"
			 "call *%[fn]\n\t"
			 "mov %%rbx, %%rsp"
			 : "+D"(arg)
			 : [fn] "r"(fn), [top] "r"(top & ~15UL)
			 : "rbx", "rax", "rcx", "rdx", "rsi", "r8", "r9", "r10",
			   "r11", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
			   "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
			   "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
			   "memory", "cc");
}

static void set_altstack(void *ss)
{
	run_sys6(SYS_sigaltstack, (long)ss, 0, 0, 0, 0, 0);
}

/**
 * run_arm_altstack() - before a handler returns to enclave code: the part
 * of @t's alternate stack below every frame still in use becomes the
 * thread's alternate stack, now and (through @uc, which sigreturn
 * restores) after the return. A signal of enclave code, whose RSP is the
 * enclave's, is then delivered there, never on the enclave's stack nor
 * over a live frame: one of this handler's callers, when the program's
 * handler entered the enclave, or the program's own alternate stack.
 * MODEL: SS_AUTODISARM: inside a handler no stack is armed, so nested
 * signals stay below the frame they interrupt, and this one may change it;
 * after a longjmp() out of a handler none is armed until the next entry.
 * @t: the thread's record
 * @uc: the handler's context
 * @host_rsp: the stack pointer of the ENCLU (outside the enclave)
 *
 * Return: 0, or -errno.
 */
int run_arm_altstack(struct run_thread *t, ucontext_t *uc, uint64_t host_rsp)
{
	uintptr_t top = run_thread_stack(t) + RUN_ALTSTACK_SIZE;
	stack_t want, *got = &uc->uc_stack;
	long ret;

	/*
	 * Frames above in_use wait for the program's handler on its own
	 * stack, if the ENCLU comes from there; otherwise the handler has
	 * left by longjmp() and they are gone.
	 */
	if (!run_on_stack(&t->program_stack, host_rsp))
		t->in_use = 0;
	if (t->in_use && t->in_use - STACK_GAP < top)
		top = t->in_use - STACK_GAP;
	if (on_stack(t, host_rsp) && host_rsp - STACK_GAP < top)
		top = host_rsp - STACK_GAP;
	want = run_thread_altstack(t, top);
	if (got->ss_sp == want.ss_sp && got->ss_size == want.ss_size &&
	    !(got->ss_flags & SS_DISABLE))
		return 0;
	/* The program's own stack is armed: it is the program's wish. */
	if (!(got->ss_flags & SS_DISABLE) && !on_stack(t, (uintptr_t)got->ss_sp)) {
		t->program_stack = *got;
		t->program_stack.ss_flags &= ~SS_ONSTACK;
	}
	ret = run_sys6(SYS_sigaltstack, (long)&want, 0, 0, 0, 0, 0);
	/* On the program's armed stack, which cannot change under us. */
	if (ret == -EPERM)
		run_call_on_stack(set_altstack, &want, top);
	else if (ret)
		return (int)ret;
	*got = want;
	t->armed = true;
	return 0;
}
