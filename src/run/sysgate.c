// SPDX-License-Identifier: MIT
/*
 * System calls that do not go through libc (docs/RUNNER.md, "Raw system
 * calls"). A program, or a library it loads, may issue `syscall` itself:
 * Gramine's loader opens /dev/sgx_enclave that way. Those calls must reach
 * the driver model just as the libc ones that device.c interposes do.
 *
 * seccomp-BPF filters trap them (SECCOMP_RET_TRAP: SIGSYS, emulated here).
 * A filter sees the call's number, its arguments and the address of its
 * `syscall` instruction, so each rule is narrow:
 *
 * - Always (installed by the constructor): open/openat with an access mode
 *   other than O_RDONLY, every openat2, rt_sigaction of the runtime's own
 *   signals, and arch_prctl(ARCH_SET_GS/ARCH_GET_GS) (fsgs.c). ld.so and libc's start-up never make such calls, so a
 *   filter inherited across execve cannot hit a program before its own
 *   runtime's constructor has taken SIGSYS.
 * - Once the process has opened the device: rt_sigaction of every signal
 *   (handlers of other signals are wrapped, trap.c), rt_sigprocmask,
 *   sigaltstack, exit and exit_group (so --stats still sees the process),
 *   fork, and clone without CLONE_VM and without a new stack (a fork: the
 *   child must drop the parent's enclaves, hostmap.c).
 * - For each device descriptor: close, ioctl, dup, dup2, dup3, fcntl and
 *   fallocate on it, and mmap of it.
 * - For each enclave mapping: mmap, mprotect, munmap, madvise and mremap
 *   whose address lies in it. A call that starts below an enclave and
 *   reaches into it is not seen (the filter cannot add the length).
 *
 * Every filter lets through the runtime's own site: one `syscall`
 * instruction on a page at a fixed address (RUN_GATE_ADDR), where the
 * runtime copies gate.S. Fixed, because filters survive execve and the next
 * program's runtime must find its site where the old filters allow it.
 * libc's wrappers stay untrapped where they are already interposed
 * (open(), ioctl(), mmap() ... in device.c); what is left, libc's internal
 * calls, traps and gets the same answer.
 *
 * SECCOMP_FILTER_FLAG_SPEC_ALLOW: a filter would otherwise turn on the
 * speculation mitigations (SSBD) for the process, which slows every trap.
 * MODEL: open/openat trap only for a writable access mode, so that an
 * inherited filter never hits ld.so; a read-only raw open of the device is
 * not seen. mmap/mprotect/munmap/madvise/mremap trap only at an address
 * inside an enclave mapping: one that starts below it and reaches into it
 * is not seen. A fork through clone3, or through clone with a new stack,
 * is not seen: the child keeps the parent's host mappings of the EPC.
 * MODEL: the gate page sits at RUN_GATE_ADDR in every process; if
 * something is mapped there, raw system calls are not seen.
 * MODEL: the process gets no_new_privs (seccomp requires it without
 * CAP_SYS_ADMIN): a set-user-ID program it executes runs without the
 * privilege.
 * MODEL: the runtime's signals (SIGILL, SIGSEGV, SIGBUS, SIGSYS, the IPI
 * signal) are never really blocked: a mask the program sets keeps them
 * out, and the mask it reads back has them as it asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <asm/prctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run/runtime.h"

/* Where gate.S is copied: away from PIE, heap and top-down mmap areas. */
#define RUN_GATE_ADDR 0x2e5e00000000ULL
#define GATE_TAG 0x5e5 /* SECCOMP_RET_DATA of our traps: si_errno */
#define FILTER_MAX 160

extern const char run_gate_code[], run_gate_after_syscall[],
	run_gate_sigreturn[], run_gate_code_end[];

typedef long (*gate_fn)(long, long, long, long, long, long, long);

static gate_fn gate = (gate_fn)(uintptr_t)run_gate_code;
static uintptr_t gate_base = (uintptr_t)run_gate_code;
static uint64_t gate_site; /* the address after the gate's syscall */
static bool filtering, device_stage;
static uint64_t fd_filtered[RUN_FDS_MAX / 64];
#define SPANS_MAX 64
static struct {
	uint64_t lo, hi;
} spans[SPANS_MAX];
static unsigned int nr_spans;

/* Called with the enclave's FS loaded (fsgs.c): no TLS, no canary. */
__attribute__((no_stack_protector)) long run_sys6(long nr, long a1, long a2,
						 long a3, long a4, long a5,
						 long a6)
{
	return gate(nr, a1, a2, a3, a4, a5, a6);
}

long run_sys_ret(long ret)
{
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* ---- Filters -------------------------------------------------------------- */

struct filter {
	struct sock_filter f[FILTER_MAX];
	unsigned int n;
};

enum check { CHK_NONE, CHK_ARG_EQ, CHK_ACCMODE, CHK_RANGE, CHK_SIGS, CHK_FORK };

struct rule {
	int nr;
	enum check chk;
	unsigned int arg;
	uint32_t v; /* CHK_ARG_EQ */
	uint64_t lo, hi; /* CHK_RANGE, inclusive */
};

#define DATA_NR offsetof(struct seccomp_data, nr)
#define DATA_ARCH offsetof(struct seccomp_data, arch)
#define DATA_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define DATA_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

static unsigned int emit(struct filter *p, uint16_t code, uint8_t jt,
			 uint8_t jf, uint32_t k)
{
	p->f[p->n] = (struct sock_filter){ code, jt, jf, k };
	return p->n++;
}

/* Allow other architectures and the gate; the rules follow. */
static void emit_header(struct filter *p)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARCH);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_IP_LO);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, (uint32_t)gate_site);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_IP_LO + 4);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)(gate_site >> 32));
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
}

static const int runtime_sigs[] = { SIGILL, SIGSEGV, SIGBUS, SIGSYS };

/*
 * One rule: if the number matches and the check holds, trap; otherwise
 * on to the next rule. Jumps that skip the rule are patched to its end.
 */
static void emit_rule(struct filter *p, const struct rule *r)
{
	unsigned int skip[8], nskip = 0, skip_t[2], nskip_t = 0;
	unsigned int nsigs = sizeof(runtime_sigs) / sizeof(runtime_sigs[0]);

	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_NR);
	skip[nskip++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0,
			     (uint32_t)r->nr);
	switch (r->chk) {
	case CHK_NONE:
		break;
	case CHK_ARG_EQ:
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(r->arg));
		skip[nskip++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, r->v);
		break;
	case CHK_ACCMODE:
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(r->arg));
		emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, O_ACCMODE);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, O_RDONLY);
		skip[nskip++] = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
		break;
	case CHK_RANGE: {
		/* r->lo <= arg <= r->hi, 64-bit, from two 32-bit halves. */
		uint32_t lo_hi = (uint32_t)(r->lo >> 32), hi_hi =
			(uint32_t)(r->hi >> 32);

		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0,
		     DATA_ARG_LO(r->arg) + 4);
		skip_t[nskip_t++] = emit(p, BPF_JMP | BPF_JGT | BPF_K, 0, 0,
					 hi_hi);
		skip[nskip++] = emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 0, lo_hi);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 2, lo_hi);
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(r->arg));
		skip[nskip++] = emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 0,
				     (uint32_t)r->lo);
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0,
		     DATA_ARG_LO(r->arg) + 4);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 2, hi_hi);
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(r->arg));
		skip_t[nskip_t++] = emit(p, BPF_JMP | BPF_JGT | BPF_K, 0, 0,
					 (uint32_t)r->hi);
		break;
	}
	case CHK_FORK:
		/* clone() without CLONE_VM and without a new stack. */
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(0));
		emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, CLONE_VM);
		skip[nskip++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(1));
		skip[nskip++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(1) + 4);
		skip[nskip++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
		break;
	case CHK_SIGS:
		emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG_LO(r->arg));
		for (unsigned int i = 0; i <= nsigs; i++) {
			uint32_t sig = i < nsigs ? (uint32_t)runtime_sigs[i] :
						   (uint32_t)run.ipi_signo;

			emit(p, BPF_JMP | BPF_JEQ | BPF_K,
			     (uint8_t)(nsigs + 1 - i), 0, sig);
		}
		skip[nskip++] = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
		break;
	}
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRAP | GATE_TAG);
	for (unsigned int i = 0; i < nskip; i++) {
		struct sock_filter *j = &p->f[skip[i]];
		uint32_t off = p->n - skip[i] - 1;

		if (BPF_OP(j->code) == BPF_JA)
			j->k = off;
		else
			j->jf = (uint8_t)off;
	}
	for (unsigned int i = 0; i < nskip_t; i++)
		p->f[skip_t[i]].jt = (uint8_t)(p->n - skip_t[i] - 1);
}

static int install(const struct rule *rules, unsigned int n)
{
	struct filter p = { .n = 0 };
	struct sock_fprog prog;
	long ret;

	emit_header(&p);
	for (unsigned int i = 0; i < n; i++)
		emit_rule(&p, &rules[i]);
	emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)p.n;
	prog.filter = p.f;
	ret = run_sys6(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		       SECCOMP_FILTER_FLAG_TSYNC |
			       SECCOMP_FILTER_FLAG_SPEC_ALLOW,
		       (long)&prog, 0, 0, 0);
	if (ret) {
		fprintf(stderr, "sgxemu: seccomp filter refused (%ld): "
				"raw system calls are not seen\n", ret);
		return -EPERM;
	}
	return 0;
}

/**
 * run_sysgate_map() - the gate's page at its fixed address, before the
 * runtime makes any call a filter inherited across execve may trap. The
 * old page went with the old address space.
 *
 * Return: 0, or -errno (raw system calls then go unseen).
 */
int run_sysgate_map(void)
{
	size_t len = (size_t)(run_gate_code_end - run_gate_code);
	void *p = (void *)(uintptr_t)run_sys6(
		SYS_mmap, (long)RUN_GATE_ADDR, PAGE_SIZE,
		PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != (void *)(uintptr_t)RUN_GATE_ADDR)
		return -EEXIST;
	memcpy(p, run_gate_code, len);
	if (run_sys6(SYS_mprotect, (long)p, PAGE_SIZE, PROT_READ | PROT_EXEC,
		     0, 0, 0))
		return -EPERM;
	gate = (gate_fn)p;
	gate_base = RUN_GATE_ADDR;
	gate_site = RUN_GATE_ADDR +
		    (uint64_t)(run_gate_after_syscall - run_gate_code);
	return 0;
}

/**
 * run_sysgate_page() - where the gate is, for Syscall User Dispatch.
 *
 * Return: the page's address, or 0 if it is not mapped.
 */
uint64_t run_sysgate_page(void)
{
	return gate_site ? RUN_GATE_ADDR : 0;
}

/**
 * run_sysgate_setup() - the constructor's filter: opens of the device and
 * the runtime's signals. Call once the SIGSYS handler is in place.
 *
 * Return: 0, or -errno (raw system calls then go unseen; said on stderr).
 */
int run_sysgate_setup(void)
{
	const struct rule rules[] = {
		{ SYS_open, CHK_ACCMODE, 1, 0, 0, 0 },
		{ SYS_openat, CHK_ACCMODE, 2, 0, 0, 0 },
		{ SYS_openat2, CHK_NONE, 0, 0, 0, 0 },
		{ SYS_rt_sigaction, CHK_SIGS, 0, 0, 0, 0 },
		{ SYS_arch_prctl, CHK_ARG_EQ, 0, ARCH_SET_GS, 0, 0 },
		{ SYS_arch_prctl, CHK_ARG_EQ, 0, ARCH_GET_GS, 0, 0 },
	};
	int ret;

	if (!gate_site) {
		fprintf(stderr, "sgxemu: no system-call gate at %#llx: raw "
				"system calls are not seen\n",
			(unsigned long long)RUN_GATE_ADDR);
		return -EEXIST;
	}
	if (run_sys6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0))
		return -EPERM;
	ret = install(rules, sizeof(rules) / sizeof(rules[0]));
	filtering = !ret;
	return ret;
}

/**
 * run_sysgate_device_fd() - @fd names an enclave file: trap raw calls on it
 * (model lock held). The first one also traps the process-wide calls.
 */
void run_sysgate_device_fd(int fd)
{
	const struct rule process[] = {
		{ SYS_rt_sigaction, CHK_NONE, 0, 0, 0, 0 },
		{ SYS_rt_sigprocmask, CHK_NONE, 0, 0, 0, 0 },
		{ SYS_sigaltstack, CHK_NONE, 0, 0, 0, 0 },
		{ SYS_exit, CHK_NONE, 0, 0, 0, 0 },
		{ SYS_exit_group, CHK_NONE, 0, 0, 0, 0 },
		{ SYS_fork, CHK_NONE, 0, 0, 0, 0 },
		{ SYS_clone, CHK_FORK, 0, 0, 0, 0 },
	};
	uint32_t v = (uint32_t)fd;
	const struct rule on_fd[] = {
		{ SYS_close, CHK_ARG_EQ, 0, v, 0, 0 },
		{ SYS_ioctl, CHK_ARG_EQ, 0, v, 0, 0 },
		{ SYS_dup, CHK_ARG_EQ, 0, v, 0, 0 },
		{ SYS_dup2, CHK_ARG_EQ, 0, v, 0, 0 },
		{ SYS_dup3, CHK_ARG_EQ, 0, v, 0, 0 },
		{ SYS_fcntl, CHK_ARG_EQ, 0, v, 0, 0 },
		{ SYS_mmap, CHK_ARG_EQ, 4, v, 0, 0 },
		{ SYS_fallocate, CHK_ARG_EQ, 0, v, 0, 0 },
		{ SYS_dup2, CHK_ARG_EQ, 1, v, 0, 0 },
		{ SYS_dup3, CHK_ARG_EQ, 1, v, 0, 0 },
	};
	uint64_t bit = 1ULL << (fd % 64);

	if (!filtering || fd < 0 || fd >= RUN_FDS_MAX)
		return;
	if (!device_stage &&
	    !install(process, sizeof(process) / sizeof(process[0])))
		device_stage = true;
	if (fd_filtered[fd / 64] & bit)
		return;
	if (!install(on_fd, sizeof(on_fd) / sizeof(on_fd[0])))
		fd_filtered[fd / 64] |= bit;
}

/**
 * run_sysgate_range() - [start, start + len) is an enclave mapping: trap
 * raw mmap, mprotect and munmap near it (model lock held).
 */
void run_sysgate_range(uint64_t start, uint64_t len)
{
	uint64_t lo = start, hi = start + len - 1;
	const struct rule rules[] = {
		{ SYS_mmap, CHK_RANGE, 0, 0, lo, hi },
		{ SYS_mprotect, CHK_RANGE, 0, 0, lo, hi },
		{ SYS_munmap, CHK_RANGE, 0, 0, lo, hi },
		{ SYS_madvise, CHK_RANGE, 0, 0, lo, hi },
		{ SYS_mremap, CHK_RANGE, 0, 0, lo, hi },
	};

	if (!filtering || !len)
		return;
	for (unsigned int i = 0; i < nr_spans; i++)
		if (spans[i].lo <= lo && hi <= spans[i].hi)
			return;
	if (nr_spans == SPANS_MAX ||
	    install(rules, sizeof(rules) / sizeof(rules[0])))
		return;
	spans[nr_spans].lo = lo;
	spans[nr_spans].hi = hi;
	nr_spans++;
}

/* ---- Signals -------------------------------------------------------------- */

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

#define K_SA_RESTORER 0x04000000UL

/**
 * run_sys_sigaction() - rt_sigaction(2) through the gate, with libc's
 * struct sigaction; the runtime's restorer unless the caller gave one.
 *
 * Return: 0 or -1 with errno.
 */
int run_sys_sigaction(int sig, const struct sigaction *act,
		      struct sigaction *old)
{
	struct k_sigaction k, ko;
	long ret;

	if (act) {
		k.handler = (void *)(uintptr_t)act->sa_handler;
		k.flags = (unsigned long)act->sa_flags | K_SA_RESTORER;
		k.restorer = act->sa_flags & K_SA_RESTORER && act->sa_restorer ?
				     act->sa_restorer :
				     (void (*)(void))(gate_base +
						      (run_gate_sigreturn -
						       run_gate_code));
		memcpy(&k.mask, &act->sa_mask, sizeof(k.mask));
	}
	ret = run_sys6(SYS_rt_sigaction, sig, act ? (long)&k : 0,
		       old ? (long)&ko : 0, 8, 0, 0);
	if (ret)
		return (int)run_sys_ret(ret);
	if (old) {
		memset(old, 0, sizeof(*old));
		old->sa_handler = (sighandler_t)ko.handler;
		old->sa_flags = (int)ko.flags;
		old->sa_restorer = ko.restorer;
		memcpy(&old->sa_mask, &ko.mask, sizeof(ko.mask));
	}
	return 0;
}

static uint64_t runtime_sig_bits(void)
{
	uint64_t m = 1ULL << (run.ipi_signo - 1);

	for (unsigned int i = 0;
	     i < sizeof(runtime_sigs) / sizeof(runtime_sigs[0]); i++)
		m |= 1ULL << (runtime_sigs[i] - 1);
	return m;
}

/**
 * run_sys_sigmask() - rt_sigprocmask(2) through the gate, untouched (the
 * runtime's own masks).
 */
int run_sys_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return (int)run_sys_ret(run_sys6(SYS_rt_sigprocmask, how, (long)set,
					 (long)old, 8, 0, 0));
}

/* @how applied to @mask; false if @how is not one. */
static bool apply_how(int how, uint64_t set, uint64_t *mask)
{
	switch (how) {
	case SIG_BLOCK:
		*mask |= set;
		return true;
	case SIG_UNBLOCK:
		*mask &= ~set;
		return true;
	case SIG_SETMASK:
		*mask = set;
		return true;
	default:
		return false;
	}
}

/*
 * The program's rt_sigprocmask: the runtime's signals stay deliverable.
 * @uc_mask: the mask of the trapped thread's ucontext, which sigreturn
 * restores, so a trapped call changes that one; NULL: the thread's own.
 */
static long program_sigmask(int how, const uint64_t *set, uint64_t *old,
			    unsigned long size, uint64_t *uc_mask)
{
	struct run_thread *t = run_thread_get();
	uint64_t rt = runtime_sig_bits(), blocked, cur;
	long ret;

	if (size != 8 || !t)
		return -EINVAL;
	blocked = t->program_blocked;
	if (set && !apply_how(how, *set & rt, &blocked))
		return -EINVAL;
	if (uc_mask) {
		cur = *uc_mask;
		if (set)
			apply_how(how, *set & ~rt, uc_mask);
	} else {
		uint64_t want = set ? *set & ~rt : 0;

		ret = run_sys6(SYS_rt_sigprocmask, how, set ? (long)&want : 0,
			       (long)&cur, 8, 0, 0);
		if (ret)
			return ret;
	}
	if (old)
		*old = (cur & ~rt) | t->program_blocked;
	t->program_blocked = blocked;
	return 0;
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return (int)run_sys_ret(program_sigmask(how, (const uint64_t *)set,
						(uint64_t *)old, 8, NULL));
}

int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	long ret = program_sigmask(how, (const uint64_t *)set,
				   (uint64_t *)old, 8, NULL);

	return ret < 0 ? (int)-ret : 0;
}

/* The program's raw rt_sigaction, through the interposed sigaction(). */
static long program_sigaction(int sig, const struct k_sigaction *k,
			      struct k_sigaction *ko, unsigned long size)
{
	struct sigaction act, old;

	if (size != 8)
		return -EINVAL;
	if (k) {
		memset(&act, 0, sizeof(act));
		act.sa_handler = (sighandler_t)k->handler;
		act.sa_flags = (int)k->flags;
		act.sa_restorer = k->restorer;
		memcpy(&act.sa_mask, &k->mask, sizeof(k->mask));
	}
	if (sigaction(sig, k ? &act : NULL, ko ? &old : NULL))
		return -errno;
	if (ko) {
		ko->handler = (void *)(uintptr_t)old.sa_handler;
		ko->flags = (unsigned long)old.sa_flags;
		ko->restorer = old.sa_restorer;
		memcpy(&ko->mask, &old.sa_mask, sizeof(ko->mask));
	}
	return 0;
}

/* ---- Emulation ------------------------------------------------------------ */

static long libc_ret(long ret)
{
	return ret == -1 ? -errno : ret;
}

static long ptr_ret(void *p)
{
	return p == MAP_FAILED ? -errno : (long)(uintptr_t)p;
}

static long emulate_openat2(int dirfd, const char *path,
			    const struct open_how *how, size_t size)
{
	if (path && !strcmp(path, RUN_SGX_DEVICE)) {
		if (size < sizeof(uint64_t) * 3)
			return -EINVAL;
		return libc_ret(openat(dirfd, path, (int)how->flags));
	}
	return run_sys6(SYS_openat2, dirfd, (long)path, (long)how,
			(long)size, 0, 0);
}

/*
 * A raw fork (fork, or clone without CLONE_VM and without a new stack):
 * what libc's atfork handlers do around it (hostmap.c). libc's own fork
 * holds the model lock by then and is passed through.
 */
static long emulate_fork(long nr, const long a[6])
{
	long ret;

	run_atfork_prepare();
	ret = run_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret)
		run_fork_parent();
	else
		run_atfork_child();
	return ret;
}

/* The program's exit: what its destructors would have done. */
static void before_exit(long nr)
{
	if (nr == SYS_exit_group)
		run_at_exit();
	else
		run_thread_exit();
}

/**
 * run_sysgate_emulate() - a trapped system call, as libc's wrapper of the
 * runtime would have answered it.
 * @nr: the number
 * @a: its six arguments
 * @uc: the trapped thread's context
 *
 * Return: the kernel's value: a result, or -errno.
 */
long run_sysgate_emulate(long nr, const long a[6], ucontext_t *uc)
{
	void *p0 = (void *)(uintptr_t)a[0];

	/* Model code's own calls (malloc's munmap, say) are the host's. */
	if (native_holds_lock())
		return run_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	switch (nr) {
	case SYS_open:
		return libc_ret(open(p0, (int)a[1], (mode_t)a[2]));
	case SYS_openat:
		return libc_ret(openat((int)a[0], (const char *)a[1],
				       (int)a[2], (mode_t)a[3]));
	case SYS_openat2:
		return emulate_openat2((int)a[0], (const char *)a[1],
				       (const struct open_how *)a[2],
				       (size_t)a[3]);
	case SYS_close:
		return libc_ret(close((int)a[0]));
	case SYS_ioctl:
		return libc_ret(ioctl((int)a[0], (unsigned long)a[1], a[2]));
	case SYS_dup:
		return libc_ret(dup((int)a[0]));
	case SYS_dup2:
		return libc_ret(dup2((int)a[0], (int)a[1]));
	case SYS_dup3:
		return libc_ret(dup3((int)a[0], (int)a[1], (int)a[2]));
	case SYS_fcntl:
		return libc_ret(fcntl((int)a[0], (int)a[1], a[2]));
	case SYS_mmap:
		return ptr_ret(mmap(p0, (size_t)a[1], (int)a[2], (int)a[3],
				    (int)a[4], (off_t)a[5]));
	case SYS_mprotect:
		return libc_ret(mprotect(p0, (size_t)a[1], (int)a[2]));
	case SYS_munmap:
		return libc_ret(munmap(p0, (size_t)a[1]));
	case SYS_fallocate:
		return libc_ret(fallocate((int)a[0], (int)a[1], (off_t)a[2],
					  (off_t)a[3]));
	case SYS_madvise:
		return libc_ret(madvise(p0, (size_t)a[1], (int)a[2]));
	case SYS_mremap:
		return ptr_ret(mremap(p0, (size_t)a[1], (size_t)a[2],
				      (int)a[3], (void *)(uintptr_t)a[4]));
	case SYS_fork:
	case SYS_clone:
		return emulate_fork(nr, a);
	case SYS_rt_sigaction:
		return program_sigaction((int)a[0],
					 (const struct k_sigaction *)a[1],
					 (struct k_sigaction *)a[2],
					 (unsigned long)a[3]);
	case SYS_rt_sigprocmask:
		return program_sigmask((int)a[0], (const uint64_t *)a[1],
				       (uint64_t *)a[2], (unsigned long)a[3],
				       (uint64_t *)&uc->uc_sigmask);
	case SYS_sigaltstack:
		return libc_ret(sigaltstack(p0, (stack_t *)a[1]));
	case SYS_arch_prctl:
		return run_fs_arch_prctl((int)a[0], (uint64_t)a[1]);
	case SYS_exit:
	case SYS_exit_group:
		before_exit(nr);
		break;
	default:
		break;
	}
	return run_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
