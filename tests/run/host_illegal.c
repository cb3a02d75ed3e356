// SPDX-License-Identifier: MIT
/*
 * Instructions that are illegal in enclave mode raise #UD there, as on
 * hardware (docs/RUNNER.md, "Illegal instructions"): SYSCALL and INT 80h
 * never reach the host kernel (Syscall User Dispatch), OUT is #UD rather
 * than the host's #GP. Each takes an AEX and reaches the program as
 * SIGILL at the AEP. The host's own system calls keep working after.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "host_encl.h"


static sigjmp_buf jmp;
static volatile int got_sig;
static volatile uint64_t got_rip;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	got_sig = sig;
	got_rip = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	siglongjmp(jmp, 1);
}

/* The op on its own TCS: the signal it ended in, or 0. */
static int run_op(const struct host_encl *e, unsigned int tcs, uint64_t op,
		  uint64_t *out)
{
	got_sig = 0;
	if (!sigsetjmp(jmp, 1))
		*out = host_enter(e->base + HE_TCS + tcs * 4096, op, 0, 0);
	return got_sig;
}

int main(void)
{
	static const struct {
		uint64_t op;
		const char *name;
	} ops[] = {
		{ HE_SYSCALL, "SYSCALL" },
		{ HE_OUT, "OUT" },
		{ HE_INT80, "INT 80h" },
	};
	struct sigaction sa = { .sa_sigaction = on_sig,
				.sa_flags = SA_SIGINFO };
	struct host_encl e;
	uint64_t out = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	if (host_encl_build(&e))
		return 1;
	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int sig = run_op(&e, 3 + i, ops[i].op, &out);

		CHECK(sig == SIGILL, "%s in the enclave: signal %d (result %llu)",
		      ops[i].name, sig, (unsigned long long)out);
		CHECK(got_rip == (uint64_t)(uintptr_t)host_aep,
		      "%s: the signal is at the AEP", ops[i].name);
		CHECK(getpid() > 0, "the host's system calls after %s",
		      ops[i].name);
	}
	host_encl_destroy(&e);
	printf("host_illegal: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
