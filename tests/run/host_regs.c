// SPDX-License-Identifier: MIT
/*
 * Registers across ENCLU under `sgxemu run` (docs/RUNNER.md, "Registers"):
 *
 * - EMODPE and EREPORT change no register or flag the SDM does not name:
 *   EAX keeps the leaf and CF stays set;
 * - EEXIT leaves RSP and RBP as the enclave set them (an OCALL frame below
 *   RSP survives);
 * - the host's FS and GS bases are back after every exit, EEXIT or AEX,
 *   with a GS base the program set itself (runtimes keep their thread
 *   block there), and arch_prctl(ARCH_GET_GS) reports it.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "check.h"
#include "host_encl.h"

#define MAGIC 0x6162636465666768ULL


/* The program's own thread block, which it keeps in GS. */
static uint64_t gs_block[8] = { 0x4753424c4f434b21ULL };

static uint64_t gs_word0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

static uint64_t get_gs(void)
{
	uint64_t v = 0;

	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	return v;
}

static void test_leaf_registers(const struct host_encl *e, uint64_t tcs)
{
	uint64_t rw = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W;
	uint64_t out;

	for (int i = 0; i < 3; i++) {
		out = host_enter(tcs, HE_EMODPE_REGS, e->base + HE_DATA, rw);
		CHECK(out == (EMODPE << 8 | 1),
		      "EMODPE: EAX %llu, CF %llu (want EAX 6, CF 1)",
		      (unsigned long long)out >> 8,
		      (unsigned long long)out & 1);
	}
	out = host_enter(tcs, HE_EREPORT_REGS, 0, 0);
	CHECK(out == (EREPORT << 8 | 1),
	      "EREPORT: EAX %llu, CF %llu (want EAX 0, CF 1)",
	      (unsigned long long)out >> 8, (unsigned long long)out & 1);
}

static void test_eexit_stack(uint64_t tcs)
{
	uint64_t out[3];

	host_enter_stack(tcs, out);
	CHECK(out[1] == out[0] - 64, "EEXIT: RSP moved by %lld, not -64",
	      (long long)(out[1] - out[0]));
	CHECK(out[2] == 0x7777, "EEXIT: RBP %#llx, not the enclave's",
	      (unsigned long long)out[2]);
}

static sigjmp_buf ill_jmp;
static volatile uint64_t gs_in_handler;

static void on_ill(int sig, siginfo_t *si, void *uc)
{
	gs_in_handler = gs_word0();
	siglongjmp(ill_jmp, 1);
}

static void test_host_gs(const struct host_encl *e, uint64_t tcs)
{
	struct sigaction sa = { .sa_sigaction = on_ill,
				.sa_flags = SA_SIGINFO };
	volatile bool trapped = false;

	CHECK(syscall(SYS_arch_prctl, ARCH_SET_GS, gs_block) == 0,
	      "ARCH_SET_GS: %d", errno);
	host_enter(tcs, HE_PUT, MAGIC, 0);
	CHECK(host_enter(tcs, HE_GS, 0, 0) == MAGIC,
	      "the enclave's GS inside");
	CHECK(gs_word0() == gs_block[0], "the host's GS after EEXIT");
	CHECK(get_gs() == (uint64_t)(uintptr_t)gs_block,
	      "ARCH_GET_GS after EEXIT: %#llx",
	      (unsigned long long)get_gs());
	CHECK(host_enter(tcs, HE_FS, 0, 0) == MAGIC, "the enclave's FS");
	CHECK(errno == errno && getpid() > 0, "the host's TLS after EEXIT");

	sigemptyset(&sa.sa_mask);
	sigaction(SIGILL, &sa, NULL);
	if (sigsetjmp(ill_jmp, 1))
		trapped = true;
	else
		host_enter(tcs, HE_UD2, 0, 0);
	CHECK(trapped && gs_in_handler == gs_block[0],
	      "the host's GS in the handler after an AEX");
	CHECK(gs_word0() == gs_block[0], "the host's GS after the AEX");
}

int main(void)
{
	struct host_encl e;

	if (host_encl_build(&e))
		return 1;
	test_leaf_registers(&e, e.base + HE_TCS);
	test_eexit_stack(e.base + HE_TCS);
	test_host_gs(&e, e.base + HE_TCS + 4096);
	host_encl_destroy(&e);
	printf("host_regs: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
