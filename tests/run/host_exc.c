// SPDX-License-Identifier: MIT
/*
 * Exceptions of enclave code under `sgxemu run` (docs/RUNNER.md,
 * "Exceptions"): #DE, #BP and an EPCM #PF each take an AEX with EXITINFO
 * in the SSA, and reach the program, which enters with its own ENCLU, as
 * the signal Linux sends: at the AEP with RAX = ERESUME, si_addr the AEP
 * (or the #PF address), and in uc_mcontext the vector and the error code,
 * 0x8007 (P, W, U and SGX) for the EPCM write fault. XMM0 set before a
 * fault that the host handles, with its own XMM0 clobbered, is the
 * enclave's again after ERESUME (the SSA's XSAVE area).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "arch/sdm.h"
#include "check.h"
#include "host_encl.h"
#include "sgxemu/uapi.h"


static sigjmp_buf jmp;
static struct {
	int sig, code;
	uint64_t addr, rip, rax, trapno, err;
} got;

static void on_sig(int sig, siginfo_t *si, void *ucv)
{
	const greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;

	got.sig = sig;
	got.code = si->si_code;
	got.addr = (uint64_t)(uintptr_t)si->si_addr;
	got.rip = (uint64_t)g[REG_RIP];
	got.rax = (uint64_t)g[REG_RAX];
	got.trapno = (uint64_t)g[REG_TRAPNO];
	got.err = (uint64_t)g[REG_ERR];
	/* Host code at the AEP uses SSE as it likes. */
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0" : : : "xmm0");
	siglongjmp(jmp, 1);
}

static uint64_t tcs_of(const struct host_encl *e, unsigned int i)
{
	return e->base + HE_TCS + i * 4096ULL;
}

/* EXITINFO of TCS i's first SSA frame, read by the enclave. */
static uint32_t exitinfo(const struct host_encl *e, unsigned int i)
{
	uint64_t gpr = e->base + HE_SSA + 2ULL * i * 4096 + 4096 -
		       sizeof(struct sgx_gprsgx);

	return (uint32_t)host_enter(tcs_of(e, i), HE_READ,
				    gpr + offsetof(struct sgx_gprsgx, exitinfo),
				    0);
}

static void enter_expecting(const struct host_encl *e, unsigned int i,
			    uint64_t op, uint64_t rsi, uint64_t rdx)
{
	memset(&got, 0, sizeof(got));
	if (!sigsetjmp(jmp, 1))
		host_enter(tcs_of(e, i), op, rsi, rdx);
}

static void check_common(const char *what, int sig, uint64_t trapno)
{
	uint64_t aep = (uint64_t)(uintptr_t)host_aep;

	CHECK(got.sig == sig, "%s: signal %d, not %d", what, got.sig, sig);
	CHECK(got.rip == aep, "%s: RIP at the AEP", what);
	CHECK(got.rax == ERESUME, "%s: RAX %llu, not ERESUME", what,
	      (unsigned long long)got.rax);
	CHECK(got.trapno == trapno, "%s: trapno %llu, not %llu", what,
	      (unsigned long long)got.trapno, (unsigned long long)trapno);
}

static void test_de(const struct host_encl *e)
{
	enter_expecting(e, 1, HE_DIV0, 0, 0);
	check_common("#DE", SIGFPE, 0);
	CHECK(got.code == FPE_INTDIV, "#DE: si_code %d", got.code);
	CHECK(got.addr == (uint64_t)(uintptr_t)host_aep, "#DE: si_addr");
	CHECK(exitinfo(e, 1) == (SGX_EXITINFO_VALID | 3 << 8 | 0),
	      "#DE: EXITINFO %#x", exitinfo(e, 1));
}

static void test_bp(const struct host_encl *e)
{
	enter_expecting(e, 2, HE_INT3, 0, 0);
	check_common("#BP", SIGTRAP, 3);
	CHECK(exitinfo(e, 2) == (SGX_EXITINFO_VALID | 6 << 8 | 3),
	      "#BP: EXITINFO %#x", exitinfo(e, 2));
}

/* The stress page made read-only in the EPCM, then written. */
static void test_epcm_pf(const struct host_encl *e)
{
	struct sgx_enclave_restrict_permissions arg = {
		.offset = HE_STRESS, .length = 4096,
		.permissions = SGX_SECINFO_R,
	};
	uint64_t page = e->base + HE_STRESS;

	CHECK(ioctl(e->fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &arg) == 0,
	      "RESTRICT_PERMISSIONS");
	CHECK(host_enter(tcs_of(e, 3), HE_EACCEPT, page,
			 SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
				 SGX_SECINFO_PR) == 0,
	      "EACCEPT of the restriction");
	enter_expecting(e, 4, HE_WRITE, page, 1);
	check_common("EPCM #PF", SIGSEGV, 14);
	CHECK(got.err == 0x8007, "EPCM #PF: error code %#llx, not 0x8007",
	      (unsigned long long)got.err);
	CHECK(got.code == SEGV_ACCERR && got.addr == page,
	      "EPCM #PF: si_code %d, si_addr %#llx", got.code,
	      (unsigned long long)got.addr);
}

static void test_xmm(const struct host_encl *e)
{
	uint64_t page = e->base + HE_DATA, out;
	void *p = (void *)(uintptr_t)page;

	CHECK(mprotect(p, 4096, PROT_READ) == 0, "mprotect R");
	enter_expecting(e, 5, HE_XMM, page, 0x1234567890abcdefULL);
	CHECK(got.sig == SIGSEGV, "the write faults: %d", got.sig);
	CHECK(mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect RW");
	out = host_resume(tcs_of(e, 5));
	CHECK(out == 0x1234567890abcdefULL,
	      "XMM0 after ERESUME: %#llx", (unsigned long long)out);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_sig,
				.sa_flags = SA_SIGINFO };
	struct host_encl e;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	if (host_encl_build(&e))
		return 1;
	test_de(&e);
	test_bp(&e);
	test_epcm_pf(&e);
	test_xmm(&e);
	host_encl_destroy(&e);
	printf("host_exc: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
