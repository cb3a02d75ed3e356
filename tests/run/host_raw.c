// SPDX-License-Identifier: MIT
/*
 * System calls without libc under `sgxemu run` (docs/RUNNER.md, "Raw
 * system calls"): the program makes every call that matters with its own
 * `syscall` instruction, as a runtime's loader does, and must get what
 * libc's wrappers would have got:
 *
 * - it installs its SIGSEGV handler with a raw rt_sigaction first, and the
 *   runner's traps keep working (the enclave's pages still fill), while its
 *   own faults reach its handler;
 * - openat, ioctl, mmap of /dev/sgx_enclave build the enclave;
 * - a raw rt_sigprocmask that blocks SIGSEGV and SIGILL reads back as asked
 *   and leaves the enclave running;
 * - a raw dup of the device names the device; a raw sigaltstack is
 *   reported back;
 * - munmap and close tear it down, and a raw exit_group ends the process,
 *   with --stats still counting it (check_stats.sh).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "check.h"
#include "host_encl.h"
#include "raw_sys.h"
#include "sgxemu/uapi.h"

#define MAGIC 0x5152535455565758ULL


/* The kernel's struct sigaction on x86-64. */
struct k_sigaction {
	void (*handler)(int, siginfo_t *, void *);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

#define K_SA_RESTORER 0x04000000UL

void raw_restorer(void);
__asm__(".text\n"
	"raw_restorer:\n"
	"	mov $15, %eax\n" /* rt_sigreturn */
	"	syscall\n");

static sigjmp_buf segv_jmp;
static volatile uint64_t segv_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	segv_addr = (uint64_t)(uintptr_t)si->si_addr;
	siglongjmp(segv_jmp, 1);
}

static long raw_sigaction(int sig, const struct k_sigaction *act,
			  struct k_sigaction *old)
{
	return raw_syscall6(SYS_rt_sigaction, sig, (long)act, (long)old, 8, 0,
			    0);
}

static void install_segv(void)
{
	struct k_sigaction act = {
		.handler = on_segv,
		.flags = SA_SIGINFO | K_SA_RESTORER,
		.restorer = raw_restorer,
	}, old;

	CHECK(raw_sigaction(SIGSEGV, &act, NULL) == 0, "raw rt_sigaction");
	CHECK(raw_sigaction(SIGSEGV, NULL, &old) == 0 &&
		      old.handler == on_segv,
	      "the program's handler reads back");
}

static __attribute__((noinline)) volatile uint8_t *own_page(void)
{
	return raw_mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
}

/* The program's own fault, at a page it made PROT_NONE itself. */
static void test_own_fault(void)
{
	volatile uint8_t *volatile p = own_page();
	volatile bool faulted = false;

	if (sigsetjmp(segv_jmp, 1))
		faulted = true;
	else
		(void)*p;
	CHECK(faulted && segv_addr == (uint64_t)(uintptr_t)p,
	      "the program's raw-installed SIGSEGV handler ran");
	raw_munmap((void *)p, 4096);
}

static void test_calls(const struct host_encl *e, uint64_t tcs)
{
	host_enter(tcs, HE_PUT, MAGIC, 0);
	CHECK(host_enter(tcs, HE_GET, 0, 0) == MAGIC, "GET after PUT");
	CHECK(host_enter(tcs, HE_READ, e->base + HE_DATA, 0) == MAGIC,
	      "READ of the data page");
}

static void test_sigprocmask(const struct host_encl *e)
{
	uint64_t block = 1ULL << (SIGSEGV - 1) | 1ULL << (SIGILL - 1), cur = 0;

	CHECK(raw_syscall6(SYS_rt_sigprocmask, SIG_BLOCK, (long)&block, 0, 8,
			   0, 0) == 0,
	      "raw rt_sigprocmask");
	CHECK(raw_syscall6(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&cur, 8, 0,
			   0) == 0 &&
		      (cur & block) == block,
	      "the mask reads back as set: %#llx", (unsigned long long)cur);
	/* Page fills and ENCLU still trap: the enclave still runs. */
	test_calls(e, e->base + HE_TCS + 4096);
	CHECK(raw_syscall6(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&block, 0, 8,
			   0, 0) == 0,
	      "raw unblock");
}

static void test_dup(const struct host_encl *e)
{
	struct sgx_enclave_restrict_permissions zero = { 0 };
	int fd = (int)raw_syscall6(SYS_dup, e->fd, 0, 0, 0, 0, 0);

	CHECK(fd >= 0, "raw dup");
	/* The driver refuses a zero length; another file would say ENOTTY. */
	CHECK(raw_ioctl(fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &zero) ==
			      -1 &&
		      errno == EINVAL,
	      "the copy reaches the driver: errno %d", errno);
	CHECK(raw_close(fd) == 0, "raw close of the copy");
}

static void test_sigaltstack(void)
{
	static uint8_t stack[65536];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) }, old;

	CHECK(raw_syscall6(SYS_sigaltstack, (long)&ss, 0, 0, 0, 0, 0) == 0,
	      "raw sigaltstack");
	CHECK(raw_syscall6(SYS_sigaltstack, 0, (long)&old, 0, 0, 0, 0) == 0 &&
		      old.ss_sp == stack && old.ss_size == sizeof(stack),
	      "the program's stack reads back");
}

int main(void)
{
	struct host_encl e;

	install_segv();
	test_own_fault();
	if (host_encl_build(&e))
		return 1;
	test_calls(&e, e.base + HE_TCS);
	test_sigprocmask(&e);
	test_dup(&e);
	test_sigaltstack();
	test_own_fault();
	test_calls(&e, e.base + HE_TCS + 2 * 4096);
	host_encl_destroy(&e);
	printf("host_raw: %u checks, %u failed\n", checks, failures);
	fflush(stdout);
	raw_syscall6(SYS_exit_group, failures ? 1 : 0, 0, 0, 0, 0, 0);
	return 1;
}
