// SPDX-License-Identifier: MIT
/*
 * The runner end to end, single-threaded, run under `sgxemu run`: an
 * enclave built through the real uapi, entered with ENCLU (EENTER, EEXIT,
 * ERESUME), EAUG on a hole with the enclave's EACCEPT, an EPCM restriction
 * that faults and an EMODPE that lifts it, a PTE restriction, and the
 * program's own SIGSEGV handler for its own faults. Prints each failed
 * check and exits 1 if there was one.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <ucontext.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "check.h"
#include "host_encl.h"
#include "sgxemu/uapi.h"

#define MAGIC 0x1122334455667788ULL

static sigjmp_buf segv_jmp;
static volatile uint64_t segv_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	segv_addr = (uint64_t)(uintptr_t)si->si_addr;
	siglongjmp(segv_jmp, 1);
}

/* Enter; true if the call ended in SIGSEGV (the address in segv_addr). */
static bool enter_faults(uint64_t tcs, uint64_t op, uint64_t rsi,
			 uint64_t rdx, uint64_t *out)
{
	if (sigsetjmp(segv_jmp, 1))
		return true;
	*out = host_enter(tcs, op, rsi, rdx);
	return false;
}

static uint64_t secinfo_reg(uint64_t flags)
{
	return SGX_SECINFO_TYPE(PT_REG) | flags;
}

static void test_put_get(const struct host_encl *e)
{
	uint64_t tcs = e->base + HE_TCS;

	host_enter(tcs, HE_PUT, MAGIC, 0);
	CHECK(host_enter(tcs, HE_GET, 0, 0) == MAGIC, "GET after PUT");
	CHECK(host_enter(tcs, HE_READ, e->base + HE_DATA, 0) == MAGIC,
	      "READ of the data page");
}

/* EENTER loads FS and GS from the TCS; the host's come back at EEXIT. */
static void test_fs_gs(const struct host_encl *e)
{
	uint64_t tcs = e->base + HE_TCS;

	CHECK(host_enter(tcs, HE_FS, 0, 0) == MAGIC, "%%fs:0 is the data page");
	CHECK(host_enter(tcs, HE_GS, 0, 0) == MAGIC,
	      "%%gs:0x1000 is the data page");
	errno = 0;
	CHECK(close(-1) == -1 && errno == EBADF, "the host's TLS works after");
}

/*
 * A program that installs its own alternate stack (language runtimes do)
 * sees it reported back, and the enclave's faults keep working after.
 */
static void test_program_altstack(void)
{
	static char stack[65536];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) }, old;

	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
	CHECK(sigaltstack(NULL, &old) == 0 && old.ss_sp == stack &&
		      old.ss_size == sizeof(stack),
	      "the program's alternate stack is reported back");
}

/* A copy of the device descriptor names the same enclave file. */
static void test_dup(const struct host_encl *e)
{
	struct sgx_enclave_restrict_permissions zero = { 0 };
	int fds[2] = { dup(e->fd), fcntl(e->fd, F_DUPFD_CLOEXEC, 100) };

	for (int i = 0; i < 2; i++) {
		errno = 0;
		/* The selftests' probe: length 0 is EINVAL from the driver. */
		CHECK(ioctl(fds[i], SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS,
			    &zero) == -1 && errno == EINVAL,
		      "an ioctl through copy %d reaches the driver: %d", i,
		      errno);
		CHECK(close(fds[i]) == 0, "close copy %d", i);
	}
	CHECK(host_enter(e->base + HE_TCS, HE_GET, 0, 0) == MAGIC,
	      "the enclave lives on");
}

static const struct host_encl *timer_encl;
static volatile unsigned int timer_calls, timer_bad;

/* A timer's handler that enters the enclave on its own TCS. */
static void on_timer(int sig)
{
	int saved = errno;

	timer_calls++;
	if (host_enter(timer_encl->base + HE_TCS + 4096, HE_GET, 0, 0) !=
	    MAGIC)
		timer_bad++;
	errno = saved;
}

/*
 * The program's own signals keep coming while its thread is inside the
 * enclave or in a device call: an interrupted enclave takes an AEX first
 * and ERESUMEs after the handler, which may itself enter the enclave.
 */
static void test_timer_signals(const struct host_encl *e)
{
	struct itimerval every = { { 0, 200 }, { 0, 200 } }, off = { 0 };
	struct sgx_enclave_restrict_permissions zero = { 0 };
	unsigned int wrong = 0;

	timer_encl = e;
	signal(SIGALRM, on_timer);
	setitimer(ITIMER_REAL, &every, NULL);
	for (int i = 0; i < 3000; i++) {
		wrong += host_enter(e->base + HE_TCS, HE_SPIN, 0, 2000) != 0;
		wrong += host_enter(e->base + HE_TCS, HE_GET, 0, 0) != MAGIC;
		wrong += ioctl(e->fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS,
			       &zero) != -1;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	CHECK(wrong == 0, "%u wrong results under the timer", wrong);
	CHECK(timer_calls > 0, "the timer's handler ran");
	CHECK(timer_bad == 0, "%u wrong results in the handler", timer_bad);
}

/* augment: the write EAUGs, then faults on the PENDING page. */
static void test_eaug(const struct host_encl *e)
{
	uint64_t tcs = e->base + HE_TCS, page = e->base + HE_HOLE, out;
	void *want = (void *)(uintptr_t)page;

	CHECK(mmap(want, PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, e->fd, 0) == want, "mmap hole");
	CHECK(enter_faults(tcs, HE_WRITE, page, 7, &out),
	      "a write to a PENDING page faults");
	CHECK(segv_addr == page, "fault address %#llx",
	      (unsigned long long)segv_addr);
	out = host_enter(tcs, HE_EACCEPT, page,
			 secinfo_reg(SGX_SECINFO_R | SGX_SECINFO_W |
				     SGX_SECINFO_PENDING));
	CHECK(out == 0, "EACCEPT of the EAUGed page: %llu",
	      (unsigned long long)out);
	host_resume(tcs);
	CHECK(host_enter(tcs, HE_READ, page, 0) == 7,
	      "the resumed write landed");
}

/* epcm_permissions: RESTRICT, EACCEPT, fault, EMODPE, resume. */
static void test_restrict(const struct host_encl *e)
{
	struct sgx_enclave_restrict_permissions arg = {
		.offset = HE_DATA, .length = PAGE_SIZE,
		.permissions = SGX_SECINFO_R,
	};
	uint64_t tcs = e->base + HE_TCS, page = e->base + HE_DATA, out;

	CHECK(ioctl(e->fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &arg) == 0,
	      "RESTRICT_PERMISSIONS");
	CHECK(arg.count == PAGE_SIZE && arg.result == 0, "count %llu",
	      (unsigned long long)arg.count);
	out = host_enter(tcs, HE_EACCEPT, page,
			 secinfo_reg(SGX_SECINFO_R | SGX_SECINFO_PR));
	CHECK(out == 0, "EACCEPT of the restriction: %llu",
	      (unsigned long long)out);
	CHECK(enter_faults(tcs, HE_WRITE, page, 9, &out),
	      "a write to a read-only EPCM page faults");
	CHECK(segv_addr == page, "EPCM fault address");
	CHECK(host_enter(tcs, HE_READ, page, 0) == MAGIC, "still readable");
	out = host_enter(tcs, HE_EMODPE, page,
			 secinfo_reg(SGX_SECINFO_R | SGX_SECINFO_W));
	CHECK(out == 0, "EMODPE");
	host_resume(tcs);
	CHECK(host_enter(tcs, HE_GET, 0, 0) == 9, "the resumed write landed");
}

/* pte_permissions: mprotect takes W away, and gives it back. */
static void test_pte(const struct host_encl *e)
{
	uint64_t tcs = e->base + HE_TCS, page = e->base + HE_DATA, out;
	void *p = (void *)(uintptr_t)page;

	CHECK(mprotect(p, PAGE_SIZE, PROT_READ) == 0, "mprotect R");
	CHECK(enter_faults(tcs, HE_PUT, 11, 0, &out), "PTE write fault");
	CHECK(segv_addr == page, "PTE fault address");
	CHECK(mprotect(p, PAGE_SIZE, PROT_READ | PROT_WRITE) == 0,
	      "mprotect RW");
	host_resume(tcs);
	CHECK(host_enter(tcs, HE_GET, 0, 0) == 11, "the resumed PUT landed");
}

/* The program's own faults still reach its own handler. */
static void test_host_fault(void)
{
	volatile int *null = NULL;

	segv_addr = 1;
	if (!sigsetjmp(segv_jmp, 1))
		*null = 1;
	CHECK(segv_addr == 0, "the program's SIGSEGV handler ran");
}

static sigjmp_buf ill_jmp;
static volatile uint64_t ill_rip;

static void on_ill(int sig, siginfo_t *si, void *uc)
{
	ill_rip = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	siglongjmp(ill_jmp, 1);
}

/* #UD in the enclave: an AEX, then SIGILL at the AEP for the program. */
static void test_ud(const struct host_encl *e)
{
	struct sigaction sa = { .sa_sigaction = on_ill,
				.sa_flags = SA_SIGINFO };
	volatile bool trapped = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGILL, &sa, NULL);
	if (sigsetjmp(ill_jmp, 1))
		trapped = true;
	else
		host_enter(e->base + HE_TCS + 2 * 4096, HE_UD2, 0, 0);
	CHECK(trapped, "UD2 in the enclave reaches the program's SIGILL");
	CHECK(ill_rip == (uint64_t)(uintptr_t)host_aep,
	      "at the AEP, after the AEX");
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv,
				.sa_flags = SA_SIGINFO };
	struct host_encl e;
	int fd = open("/dev/null", 0);

	CHECK(fd >= 0 && close(fd) == 0, "other files open as before");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	if (host_encl_build(&e))
		return 1;
	test_put_get(&e);
	test_fs_gs(&e);
	test_program_altstack();
	test_dup(&e);
	test_timer_signals(&e);
	test_eaug(&e);
	test_restrict(&e);
	test_pte(&e);
	test_host_fault();
	test_ud(&e);
	host_encl_destroy(&e);
	printf("host_basic: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
