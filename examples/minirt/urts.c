// SPDX-License-Identifier: MIT
/*
 * minirt's untrusted runtime: the host side of ECALLs, OCALLs and
 * exceptions, for one thread, through its own ENCLU (host_entry.S) or
 * through __vdso_sgx_enter_enclave.
 *
 * Exceptions, own ENCLU: the AEX brings a signal at the AEP. The handler
 * points the context at mrt_exception_stub, which EENTERs the enclave's
 * handler (CSSA 1) and then ERESUMEs at the AEP: the Intel SDK's way.
 * Through the vDSO, the kernel's fixup returns from the vDSO instead, and
 * the ECALL loop does the same two steps. Either way every EENTER of a
 * call and the ERESUME happen at one RSP and RBP, which the enclave's exit
 * frames rely on.
 */
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include <asm/prctl.h>

#include "../edmm/host.h"
#include "arch/sdm.h"
#include "host.h"
#include "sys.h"

vdso_sgx_enter_enclave_t vdso_sgx_enter_enclave;
static size_t vdso_enter_size;

void mrt_enclu(uint64_t tcs, uint64_t cmd, uint64_t a1, uint64_t a2,
	       struct mrt_frame *out);
extern const char mrt_aep[];
void mrt_exception_stub(void);
void mrt_on_exception(void);

static struct mrt_thread *self(void)
{
	struct mrt_thread *t;

	__asm__("mov %%gs:0, %0" : "=r"(t));
	return t;
}

int mrt_thread_init(struct mrt_thread *t, struct mrt_enclave *e,
		    uint64_t tcs, int vdso)
{
	memset(t, 0, sizeof(*t));
	t->self = t;
	t->tcs = tcs;
	t->encl = e;
	t->vdso = vdso;
	return sys3(SYS_arch_prctl, ARCH_SET_GS, t, 0) ? -1 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* RESTRICT_PERMISSIONS or MODIFY_TYPES (one layout), to the end. */
static long edmm(struct mrt_enclave *e, unsigned long req, uint64_t offset,
		 uint64_t length, uint64_t value)
{
	struct sgx_enclave_modify_types arg = { .offset = offset,
						.length = length,
						.page_type = value };
	long ret;

	_Static_assert(sizeof(struct sgx_enclave_modify_types) ==
			       sizeof(struct sgx_enclave_restrict_permissions),
		       "one layout");
	do {
		arg.count = 0;
		ret = sys3(SYS_ioctl, e->fd, req, &arg);
		arg.offset += arg.count;
		arg.length -= arg.count;
	} while (arg.length && (ret == -EAGAIN || (!ret && arg.count)));
	return ret;
}

static long remove_pages(struct mrt_enclave *e, uint64_t offset,
			 uint64_t length)
{
	struct sgx_enclave_remove_pages arg = { .offset = offset,
						.length = length };
	long ret;

	do {
		arg.count = 0;
		ret = sys3(SYS_ioctl, e->fd, SGX_IOC_ENCLAVE_REMOVE_PAGES, &arg);
		arg.offset += arg.count;
		arg.length -= arg.count;
	} while (arg.length && (ret == -EAGAIN || (!ret && arg.count)));
	return ret;
}

/* The OCALL in f: its two results in r. Raw system calls only. */
static void do_ocall(struct mrt_thread *t, const struct mrt_frame *f,
		     uint64_t r[2])
{
	struct mrt_enclave *e = t->encl;
	const uint64_t *a = f->a;
	unsigned int eax, ebx, ecx, edx;

	r[1] = 0;
	switch (f->nr) {
	case OCALL_ECHO:
		if (t->bench_ns) {
			uint64_t now = now_ns();

			if (a[0])
				t->bench_ns[a[0] - 1] = now - t->ocall_ns[0];
			t->ocall_ns[0] = now;
		}
		r[0] = a[0] + a[1];
		break;
	case OCALL_SYSCALL:
		r[0] = (uint64_t)sys6((long)a[0], (long)a[1], (long)a[2],
				      (long)a[3], (long)a[4], (long)a[5],
				      (long)a[6]);
		break;
	case OCALL_CPUID:
		__cpuid_count((unsigned int)a[0], (unsigned int)a[1], eax, ebx,
			      ecx, edx);
		r[0] = eax | (uint64_t)ebx << 32;
		r[1] = ecx | (uint64_t)edx << 32;
		break;
	case OCALL_RESTRICT:
		r[0] = (uint64_t)edmm(e, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS,
				      a[0], a[1], a[2]);
		break;
	case OCALL_TRIM:
		r[0] = (uint64_t)edmm(e, SGX_IOC_ENCLAVE_MODIFY_TYPES, a[0],
				      a[1], PT_TRIM);
		break;
	case OCALL_MAKE_TCS:
		r[0] = (uint64_t)edmm(e, SGX_IOC_ENCLAVE_MODIFY_TYPES, a[0],
				      a[1], PT_TCS);
		break;
	case OCALL_REMOVE:
		r[0] = (uint64_t)remove_pages(e, a[0], a[1]);
		break;
	case OCALL_MPROTECT:
		r[0] = (uint64_t)sys3(SYS_mprotect, e->base + a[0], a[1], a[2]);
		break;
	default:
		r[0] = (uint64_t)-ENOSYS;
	}
}

/* Copies the exit frame: the vDSO calls this at EEXIT with the RSP. */
static int vdso_exit(long rdi, long rsi, long rdx, long ursp, long r8,
		     long r9, struct sgx_enclave_run *run)
{
	(void)rdi, (void)rsi, (void)rdx, (void)r8, (void)r9;
	memcpy((void *)(uintptr_t)run->user_data, (void *)(uintptr_t)ursp,
	       sizeof(struct mrt_frame));
	return 0;
}

/* One vDSO call: 0 at an EEXIT (frame in f), 1 at an exception. */
static int vdso_enter(struct mrt_thread *t, unsigned int leaf, uint64_t cmd,
		      uint64_t a1, uint64_t a2, struct mrt_frame *f)
{
	struct sgx_enclave_run run = {
		.tcs = t->tcs,
		.user_handler = (uint64_t)(uintptr_t)vdso_exit,
		.user_data = (uint64_t)(uintptr_t)f,
	};
	int ret = enter_enclave(cmd, a1, a2, leaf, 0, 0, &run);

	if (ret) {
		fprintf(stderr, "minirt: the vDSO returned %d\n", ret);
		abort();
	}
	return run.function != EEXIT;
}

static _Noreturn void unhandled(void)
{
	static const char msg[] = "minirt: an exception the enclave cannot handle\n";

	sys3(SYS_write, 2, msg, sizeof(msg) - 1);
	abort();
}

uint64_t mrt_ecall(struct mrt_thread *t, uint64_t cmd, uint64_t arg)
{
	struct mrt_frame f;
	uint64_t a1 = arg, a2 = 0, r[2];
	unsigned int leaf = EENTER, resumes = 0;

	for (;;) {
		if (!t->vdso) {
			mrt_enclu(t->tcs, cmd, a1, a2, &f);
		} else if (vdso_enter(t, leaf, cmd, a1, a2, &f)) {
			/* An exception: the handler first, then ERESUME. */
			t->aexs++;
			resumes++;
			leaf = EENTER;
			cmd = ECMD_EXCEPT;
			continue;
		}
		if (f.reason == EXIT_OCALL) {
			do_ocall(t, &f, r);
			leaf = EENTER;
			cmd = ECMD_ORET;
			a1 = r[0];
			a2 = r[1];
			continue;
		}
		if (!resumes)
			return f.ret;
		if (!f.ret)
			unhandled();
		resumes--;
		leaf = ERESUME;
	}
}

/* From mrt_exception_stub, own ENCLU: run the enclave's handler. */
void mrt_on_exception(void)
{
	struct mrt_thread *t = self();

	t->aexs++;
	if (!mrt_ecall(t, ECMD_EXCEPT, 0))
		unhandled();
}

static int enter_in_handler;

/*
 * SIGSEGV, SIGILL, SIGFPE, SIGTRAP. At the AEP (with RAX = ERESUME, as
 * Linux delivers an enclave's exception) the enclave's
 * handler runs: after this handler returns, from mrt_exception_stub (the
 * SDK's way), or right here, on the alternate stack (Gramine's way; the
 * return to the AEP then ERESUMEs). Anything else is the program's own
 * fault: die of it. Host code here may use vector registers: YMM0 (or
 * XMM0) is clobbered on purpose, and the SSA gives the enclave its own
 * back at ERESUME.
 */
/*
 * Where an AEX comes back: minirt's own ENCLU, or somewhere inside the
 * vDSO's function (Linux: its ENCLU; sgxemu's image: a jump before it).
 */
static int at_aep(const struct mrt_thread *t, uint64_t rip)
{
	if (t->vdso)
		return rip - (uintptr_t)vdso_sgx_enter_enclave < vdso_enter_size;
	return rip == (uintptr_t)mrt_aep;
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
	greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;

	(void)si;
	/* Only an AEX leaves RAX = ERESUME; then GS is a minirt thread's. */
	if (g[REG_RAX] != ERESUME || !at_aep(self(), (uint64_t)g[REG_RIP])) {
		signal(sig, SIG_DFL);
		return;
	}
	if (self()->encl->xfrm & 0x4)
		__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0" : : : "xmm0");
	else
		__asm__ volatile("pcmpeqd %%xmm0, %%xmm0" : : : "xmm0");
	self()->aep = (uint64_t)g[REG_RIP];
	self()->signals++;
	if (enter_in_handler)
		mrt_on_exception();
	else
		g[REG_RIP] = (greg_t)(uintptr_t)mrt_exception_stub;
}

int mrt_install_handlers(int in_handler)
{
	struct sigaction sa = { .sa_sigaction = on_signal,
				.sa_flags = SA_SIGINFO };
	const int sigs[] = { SIGSEGV, SIGILL, SIGFPE, SIGTRAP };
	stack_t ss = { .ss_size = 1 << 18 };

	enter_in_handler = in_handler;
	if (in_handler) {
		ss.ss_sp = malloc(ss.ss_size);
		if (!ss.ss_sp || sigaltstack(&ss, NULL))
			return -1;
		sa.sa_flags |= SA_ONSTACK;
	}
	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	return 0;
}

int mrt_find_vdso(void)
{
	vdso_sgx_enter_enclave = vdso_find_enter(&vdso_enter_size);
	return vdso_sgx_enter_enclave ? 0 : -1;
}
