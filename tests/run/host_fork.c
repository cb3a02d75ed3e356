// SPDX-License-Identifier: MIT
/*
 * fork() and personality under `sgxemu run` (docs/RUNNER.md, "fork";
 * issue 12 item 11):
 *
 * - a child forked by libc, by a raw fork or by a raw clone keeps the parent's enclave
 *   range but not the enclave: a host read or write there, a raw ENCLU
 *   EENTER and a vDSO EENTER all get the #PF that Linux answers with
 *   SIGBUS (BUS_ADRERR), or the vDSO's return of 0 with the #PF in
 *   struct sgx_enclave_run; a page the parent marked MADV_DONTFORK is not mapped
 *   at all (SIGSEGV, SEGV_MAPERR); the child can build an enclave of its
 *   own, and what it maps over the parent's range is its own; the
 *   inherited descriptor is not the enclave's (ENOTTY); and the
 *   parent's enclave is untouched;
 * - with personality(READ_IMPLIES_EXEC), mmap and mprotect of the enclave
 *   fail with EACCES, as sgx_encl_may_map() does.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "check.h"
#include "host_encl.h"
#include "sgxemu/uapi.h"

#define PAGE 4096UL
#define SECRET 0x666f726b73656372ULL

static sigjmp_buf jmp;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jmp, 1);
}

/* Run @fn(@arg); which signal stopped it (0: none). */
static int faults(void (*fn)(uint64_t), uint64_t arg)
{
	got_sig = 0;
	if (!sigsetjmp(jmp, 1))
		fn(arg);
	return got_sig;
}

static void host_read(uint64_t addr)
{
	(void)*(volatile uint64_t *)(uintptr_t)addr;
}

static void host_write(uint64_t addr)
{
	*(volatile uint64_t *)(uintptr_t)addr = 0xdead;
}

static void raw_eenter(uint64_t tcs)
{
	host_enter(tcs, HE_GET, 0, 0);
}

static void check_sigbus(int sig, uint64_t addr, const char *what)
{
	CHECK(sig == SIGBUS && got_code == BUS_ADRERR &&
		      got_addr == (void *)(uintptr_t)addr,
	      "child, %s: signal %d code %d addr %p (want SIGBUS BUS_ADRERR "
	      "%#llx)",
	      what, sig, got_code, got_addr, (unsigned long long)addr);
}

/* What a forked child sees of its parent's enclave; exit status = failures. */
static void child(const struct host_encl *e)
{
	uint64_t data = e->base + HE_DATA, tcs = e->base + HE_TCS;
	vdso_sgx_enter_enclave_t enter = host_vdso_enter();
	struct sgx_enclave_run run = { .tcs = tcs };
	struct host_encl own;
	int ret;

	check_sigbus(faults(host_read, data), data, "read");
	check_sigbus(faults(host_write, data), data, "write");
	check_sigbus(faults(raw_eenter, tcs), tcs, "raw EENTER");
	CHECK(enter, "no __vdso_sgx_enter_enclave");
	if (enter) {
		ret = enter(0, 0, 0, EENTER, 0, 0, &run);
		CHECK(ret == 0 && run.function == EENTER &&
			      run.exception_vector == X86_TRAP_PF &&
			      run.exception_addr == tcs,
		      "child, vDSO EENTER: %d, function %u vector %u addr "
		      "%#llx",
		      ret, run.function, run.exception_vector,
		      (unsigned long long)run.exception_addr);
	}
	ret = faults(host_read, e->base + HE_STRESS);
	CHECK(ret == SIGSEGV && got_code == SEGV_MAPERR,
	      "child, MADV_DONTFORK page: signal %d code %d (want SIGSEGV "
	      "SEGV_MAPERR)",
	      ret, got_code);
	errno = 0;
	CHECK(ioctl(e->fd, SGX_IOC_ENCLAVE_INIT, &run) == -1 &&
		      errno == ENOTTY,
	      "child: ioctl on the inherited descriptor: errno %d", errno);
	CHECK(host_encl_build(&own) == 0, "child: its own enclave");
	CHECK(host_enter(own.base + HE_TCS, HE_GET, 0, 0) == 0,
	      "child: its own enclave's DATA");
	check_sigbus(faults(host_read, data), data, "read, with a model");
	/* Mapped anew, the range is the child's own. */
	CHECK(mmap((void *)(uintptr_t)data, PAGE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED,
	      "child: mmap over the parent's DATA");
	ret = faults(host_read, data);
	CHECK(ret == SIGSEGV && got_code == SEGV_ACCERR,
	      "child, its own PROT_NONE page: signal %d code %d", ret,
	      got_code);
	_exit((int)failures);
}

enum how { LIBC_FORK, RAW_FORK, RAW_CLONE };
static const char *const how_name[] = { "libc fork", "raw fork",
					"raw clone" };

static pid_t do_fork(enum how how)
{
	switch (how) {
	case RAW_FORK:
		return (pid_t)syscall(SYS_fork);
	case RAW_CLONE:
		return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	default:
		return fork();
	}
}

static void fork_and_check(const struct host_encl *e, enum how how)
{
	pid_t pid = do_fork(how);
	int status = 0;

	if (!pid)
		child(e);
	CHECK(pid > 0, "%s: %s", how_name[how], strerror(errno));
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s: the child failed (status %#x)", how_name[how], status);
	CHECK(host_enter(e->base + HE_TCS, HE_GET, 0, 0) == SECRET,
	      "parent: DATA after the %s's child", how_name[how]);
}

static void test_personality(const struct host_encl *e)
{
	void *data = (void *)(uintptr_t)(e->base + HE_DATA);
	int rw = PROT_READ | PROT_WRITE;

	CHECK(personality(READ_IMPLIES_EXEC) != -1, "personality");
	errno = 0;
	CHECK(mmap(data, PAGE, rw, MAP_SHARED | MAP_FIXED, e->fd, 0) ==
			      MAP_FAILED && errno == EACCES,
	      "READ_IMPLIES_EXEC mmap: errno %d, want EACCES", errno);
	errno = 0;
	CHECK(mprotect(data, PAGE, PROT_READ) == -1 && errno == EACCES,
	      "READ_IMPLIES_EXEC mprotect: errno %d, want EACCES", errno);
	CHECK(personality(PER_LINUX) != -1, "personality back");
	CHECK(mmap(data, PAGE, rw, MAP_SHARED | MAP_FIXED, e->fd, 0) == data,
	      "mmap after READ_IMPLIES_EXEC is gone");
	CHECK(host_enter(e->base + HE_TCS, HE_GET, 0, 0) == SECRET,
	      "DATA after the personality checks");
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	struct host_encl e;

	setvbuf(stdout, NULL, _IONBF, 0);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	if (host_encl_build(&e))
		return 1;
	host_enter(e.base + HE_TCS, HE_PUT, SECRET, 0);
	host_enter(e.base + HE_TCS, HE_WRITE, e.base + HE_STRESS, SECRET);
	CHECK(madvise((void *)(uintptr_t)(e.base + HE_STRESS), PAGE,
		      MADV_DONTFORK) == 0,
	      "MADV_DONTFORK: %s", strerror(errno));
	fork_and_check(&e, LIBC_FORK);
	fork_and_check(&e, RAW_FORK);
	fork_and_check(&e, RAW_CLONE);
	test_personality(&e);
	printf("%u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}
