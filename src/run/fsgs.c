// SPDX-License-Identifier: MIT
/*
 * FS and GS across the enclave boundary. EENTER and ERESUME load the
 * enclave's FS and GS bases (TCS.OFSBASGX/OGSBASGX + base, or the SSA's);
 * every exit restores the thread's own. Enclave code runs natively, so the
 * thread's real bases must be the enclave's while it runs, but the
 * runtime's handlers, and the program's, are glibc code that finds its TLS
 * (errno, the stack protector's canary) at %fs.
 *
 * So every handler is a wrapper that, before anything touches TLS, puts the
 * thread's own FS base back if the enclave's was loaded (run_fs_enter()),
 * and, once done, loads the enclave's if the thread goes on in enclave mode
 * (run_fs_leave()). The thread's own base, and whether the enclave's is
 * loaded, live in a header at the bottom of its alternate signal stack: a
 * handler finds it from its stack pointer, without TLS. The stacks are
 * aligned to their size and registered, so a handler on an ordinary stack
 * (a thread that never entered) finds none.
 *
 * The bases are switched with the FSGSBASE instructions where the kernel
 * enabled them (AT_HWCAP2 bit 1): every exit, EEXIT or AEX, then gives the
 * host both of its bases back, and every entry reads them afresh, so the
 * program may change them as it likes (runtimes keep a thread block in GS).
 *
 * Otherwise each switch is arch_prctl(2), an MSR write that costs several
 * microseconds in a VM. The host's FS base is read at each entry from
 * %fs:0 (the x86-64 TLS ABI keeps the thread pointer there); its GS base is
 * what the thread had when its stack was made, or what it set since with
 * arch_prctl(ARCH_SET_GS), which a seccomp filter traps (sysgate.c).
 * MODEL: without FSGSBASE, a host GS base of 0 (glibc never sets one) is
 * not written back at exit: the enclave's stays loaded until an entry
 * needs another, ARCH_GET_GS still reports 0, and only a %gs-relative
 * access of host code, which would fault near address 0, sees the
 * difference. A nonzero host GS base is written back at every exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run/runtime.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_GS 0x1004
#define SYS_ARCH_PRCTL 158

#define HWCAP2_FSGSBASE (1UL << 1)

#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1

/* Set once by the constructor, before any thread enters. */
static bool fsgsbase;

static inline uint64_t rdfsbase(void)
{
	uint64_t v;

	__asm__ volatile("rdfsbase %0" : "=r"(v));
	return v;
}

static inline uint64_t rdgsbase(void)
{
	uint64_t v;

	__asm__ volatile("rdgsbase %0" : "=r"(v));
	return v;
}

static inline void wrfsbase(uint64_t v)
{
	__asm__ volatile("wrfsbase %0" : : "r"(v) : "memory");
}

static inline void wrgsbase(uint64_t v)
{
	__asm__ volatile("wrgsbase %0" : : "r"(v) : "memory");
}

static long raw_sigaltstack(const stack_t *ss, stack_t *old)
{
	return run_syscall(SYS_sigaltstack, ss, old);
}

/*
 * arch_prctl through the gate (a filter traps ARCH_SET_GS elsewhere),
 * without glibc: no errno, so no TLS.
 */
static inline long raw_arch_prctl(long code, uint64_t arg)
{
	return run_sys6(SYS_ARCH_PRCTL, code, (long)arg, 0, 0, 0, 0);
}

/* GS := @v through arch_prctl, unless it holds @v already. */
static inline void set_gs(struct run_thread *h, uint64_t v)
{
	if (h->gs == v)
		return;
	h->gs = v;
	raw_arch_prctl(ARCH_SET_GS, v);
}

/**
 * run_fs_enter() - the first call of every handler: the thread's own FS
 * and GS bases, if the enclave's were loaded. Touches no TLS.
 */
__attribute__((noinline, no_stack_protector)) void run_fs_enter(void)
{
	struct run_thread *h = run_thread_here();

	if (!h)
		return;
	h->selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (!h->loaded)
		return;
	if (fsgsbase) {
		wrfsbase(h->host_fs);
		wrgsbase(h->host_gs);
	} else {
		raw_arch_prctl(ARCH_SET_FS, h->host_fs);
		if (h->host_gs)
			set_gs(h, h->host_gs);
	}
	h->loaded = 0;
}

/**
 * run_fs_leave() - the last call of every handler: if the thread goes on
 * in enclave mode, the enclave's bases; the host's, which are loaded until
 * then, are kept for the next exit. Nothing may touch TLS after it.
 */
__attribute__((noinline)) void run_fs_leave(void)
{
	struct run_thread *h = run_ready() ? run_thread_self() : NULL;
	struct sgx_lp *lp = run_thread_lp(h);

	if (lp && lp->enclave_mode)
		run_fs_load(h, lp);
}

/**
 * run_fs_load() - @h goes on in enclave mode on @lp: the enclave's bases
 * and dispatch's BLOCK; the host's, which are loaded until then, are kept
 * for the next exit. Nothing may touch TLS after it.
 */
__attribute__((noinline, no_stack_protector)) void
run_fs_load(struct run_thread *h, const struct sgx_lp *lp)
{
	if (fsgsbase) {
		if (!h->loaded) {
			h->host_fs = rdfsbase();
			h->host_gs = rdgsbase();
		}
		wrgsbase(lp->regs.gsbase);
		h->loaded = 1;
		h->selector = SYSCALL_DISPATCH_FILTER_BLOCK;
		wrfsbase(lp->regs.fsbase);
		return;
	}
	if (!h->loaded)
		h->host_fs = (uint64_t)(uintptr_t)__builtin_thread_pointer();
	set_gs(h, lp->regs.gsbase);
	h->loaded = 1;
	h->selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	raw_arch_prctl(ARCH_SET_FS, lp->regs.fsbase);
}

/**
 * run_sud_on() - Syscall User Dispatch for the calling thread, once per
 * model (fork clears it): while its selector says BLOCK (enclave mode),
 * every system call outside the gate's page raises SIGSYS, which trap.c
 * turns into the #UD that SYSCALL raises in an enclave. Only the gate,
 * where the runtime's calls and its handlers' rt_sigreturn are, passes.
 * A kernel without it (before 5.11, or CONFIG_GENERIC_ENTRY off) lets
 * enclave system calls through to the host, as before; said once.
 * @h: the thread's record
 * @gen: the model's generation (run.native.generation)
 */
void run_sud_on(struct run_thread *h, uint64_t gen)
{
	static bool warned;
	uint64_t page = run_sysgate_page();

	if (!h || h->sud_gen == gen || !page)
		return;
	h->selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (run_sys6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH,
		     PR_SYS_DISPATCH_ON, (long)page, PAGE_SIZE,
		     (long)&h->selector, 0) && !warned) {
		warned = true;
		fprintf(stderr, "sgxemu: no Syscall User Dispatch: SYSCALL "
				"in an enclave reaches the host kernel\n");
	}
	h->sud_gen = gen;
}

/**
 * run_fs_setup() - the constructor's part: whether the kernel lets user
 * space use the FSGSBASE instructions.
 */
void run_fs_setup(void)
{
	fsgsbase = getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE;
}

/**
 * run_fs_arch_prctl() - the program's arch_prctl(ARCH_SET_GS/ARCH_GET_GS),
 * trapped: the runtime keeps the host's GS base for the exits.
 *
 * Return: the kernel's value.
 */
long run_fs_arch_prctl(int code, uint64_t arg)
{
	struct run_thread *h = run_thread_self();
	long ret;

	ret = raw_arch_prctl(code, arg);
	if (!h || fsgsbase || ret)
		return ret;
	/* The kernel checked and wrote the pointer; the host's value wins. */
	if (code == ARCH_GET_GS)
		*(uint64_t *)(uintptr_t)arg = h->host_gs;
	else
		h->host_gs = h->gs = arg;
	return 0;
}

/*
 * The program's sigaltstack(): once the thread has armed the runtime's
 * stack, the program's wish is recorded and reported back, never
 * installed, so that every trap of enclave code lands on the runtime's.
 * MODEL: the program's handlers with SA_ONSTACK run on the stack it chose
 * by a switch inside the runtime's handler (trap.c, call_program()); their
 * context's uc_stack is the runtime's, which sigreturn must restore.
 */
int sigaltstack(const stack_t *ss, stack_t *old)
{
	struct run_thread *t = run_thread_self();

	if (!t || !t->armed)
		return (int)raw_sigaltstack(ss, old);
	if (old)
		*old = t->program_stack;
	if (ss)
		t->program_stack = *ss;
	return 0;
}
