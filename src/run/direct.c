// SPDX-License-Identifier: MIT
/*
 * EENTER and ERESUME from the vDSO image without a trap (issue 13 item 3).
 * The image is ours: its entry jumps through a slot (vdso.h) to
 * run_direct_entry (direct.S), which keeps the program's registers and
 * extended state in a frame laid out as the kernel's rt_sigframe, then
 * calls run_direct_enclu(). That runs the leaf as the SIGILL handler would
 * (LP, model lock, the CPU model), loads the enclave's FS and GS, and
 * leaves through rt_sigreturn: one system call puts every register, the
 * extended state, the signal mask and the alternate stack in place at
 * once, so no signal can find the thread between the model's enclave mode
 * and the enclave's first instruction. Signals are blocked from the start,
 * as in a trap handler, and the IPI that waits meanwhile strikes at that
 * first instruction. MODEL: anything else (a thread's first entry, an
 * entry from a signal handler, a leaf that faults) goes back to the
 * image's ENCLU, which traps as before; the AEP is the image's jump
 * through the slot, not an ENCLU, and the exception fixup accepts both.
 * The enclave's EEXIT still traps: that is the one
 * trap of a round trip. A program's own ENCLU traps too.
 *
 * The frame's extended-state header (the kernel's sw_reserved: its
 * features and size) is learnt from the first real signal frame of a
 * vDSO ENCLU trap; the slot points here from then on.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "run/runtime.h"

#define XSAVE_OFF 4096 /* in the area direct.S makes: the frame first */
#define AREA 8192
#define SW_RESERVED 464 /* the XSAVE legacy area's bytes for software */
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define USER_CS 0x33ULL
#define USER_DS 0x2bULL
/* Not a mode: sigreturn's sigaltstack fails and keeps the thread's. */
#define SS_KEEP (SS_ONSTACK | SS_DISABLE)
#define RUN_DIRECT_ENV "SGXEMU_DIRECT"

struct fx_sw {
	uint32_t magic1;
	uint32_t extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

/* What direct.S pushed, lowest address first. */
struct direct_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax, rflags;
};

/* The kernel's rt_sigframe: sigreturn reads the ucontext at RSP. */
struct direct_frame {
	uint64_t pretcode;
	ucontext_t uc;
	siginfo_t si;
};

extern const char run_direct_entry[], run_gate_code[], run_gate_sigreturn[];
/* direct.S saves these components (XSAVE's RFBM). */
__attribute__((visibility("hidden"))) uint64_t run_direct_xfeatures;
static struct fx_sw fx_sw;
static atomic_bool learnt, disabled;

void run_direct_setup(void)
{
	const char *s = getenv(RUN_DIRECT_ENV);

	atomic_store(&disabled, s && !strcmp(s, "0"));
}

/**
 * run_direct_learn() - a trap of the image's ENCLU: its signal frame's
 * extended-state header, once; then the image's slot points here.
 * @uc: the trap's context
 */
void run_direct_learn(const ucontext_t *uc)
{
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
	struct fx_sw sw;

	if (atomic_load(&learnt) || atomic_load(&disabled) || !fp)
		return;
	memcpy(&sw, fp + SW_RESERVED, sizeof(sw));
	if (sw.magic1 != FP_XSTATE_MAGIC1 ||
	    sw.xstate_size + sizeof(uint32_t) > AREA - XSAVE_OFF)
		return;
	fx_sw = sw;
	run_direct_xfeatures = sw.xfeatures;
	atomic_store(&learnt, true);
	run_vdso_set_direct(run.vdso, (uintptr_t)run_direct_entry);
}

static void frame_from(const struct direct_regs *r, ucontext_t *uc,
		       uint64_t rsp, uint8_t *xs)
{
	greg_t *g = uc->uc_mcontext.gregs;

	memset(uc, 0, sizeof(*uc));
	g[REG_R8] = (greg_t)r->r8;
	g[REG_R9] = (greg_t)r->r9;
	g[REG_R10] = (greg_t)r->r10;
	g[REG_R11] = (greg_t)r->r11;
	g[REG_R12] = (greg_t)r->r12;
	g[REG_R13] = (greg_t)r->r13;
	g[REG_R14] = (greg_t)r->r14;
	g[REG_R15] = (greg_t)r->r15;
	g[REG_RDI] = (greg_t)r->rdi;
	g[REG_RSI] = (greg_t)r->rsi;
	g[REG_RBP] = (greg_t)r->rbp;
	g[REG_RBX] = (greg_t)r->rbx;
	g[REG_RDX] = (greg_t)r->rdx;
	g[REG_RAX] = (greg_t)r->rax;
	g[REG_RCX] = (greg_t)r->rcx;
	g[REG_RSP] = (greg_t)rsp;
	g[REG_RIP] = (greg_t)run.vdso->enclu;
	g[REG_EFL] = (greg_t)r->rflags;
	g[REG_CSGSFS] = (greg_t)(USER_CS | USER_DS << 48);
	memcpy(xs + SW_RESERVED, &fx_sw, sizeof(fx_sw));
	memcpy(xs + fx_sw.xstate_size, &(uint32_t){ FP_XSTATE_MAGIC2 },
	       sizeof(uint32_t));
	uc->uc_mcontext.fpregs = (void *)xs;
	uc->uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	uc->uc_stack.ss_flags = SS_KEEP;
}

/*
 * The common case only: the thread has its armed stack, and the ENCLU is
 * not in a signal handler (on either alternate stack), where the trap
 * path works out which part of the stack is free.
 */
static bool direct_ok(struct run_thread *t, uint64_t rsp)
{
	return t && t->armed && !t->in_use &&
	       rsp - run_thread_stack(t) >= RUN_ALTSTACK_SIZE &&
	       !run_on_stack(&t->program_stack, rsp);
}

/* The leaf; true if the thread goes on in enclave mode. */
static bool direct_leaf(struct run_thread *t, ucontext_t *uc)
{
	struct sgx_lp *lp = run_lp_get(t);
	int ret;

	/* Not in enclave mode yet: no IPI targets it, this is a plain lock. */
	native_lock_or_ipi(&run.native, lp);
	run_lp_activate(lp);
	run_sud_on(t, run.native.generation);
	ret = run_enclu_entry(lp, uc);
	native_unlock(&run.native);
	if (ret || !lp->enclave_mode) {
		run_lp_put(t);
		return false;
	}
	uc->uc_stack = run_thread_altstack(t, 0);
	run_fs_load(t, lp);
	return true;
}

/**
 * run_direct_enclu() - the vDSO's EENTER or ERESUME in @r, with the
 * extended state XSAVEd at @area + XSAVE_OFF: into the enclave, or back to
 * the image's ENCLU, through rt_sigreturn.
 */
__attribute__((noreturn, used, no_stack_protector)) void
run_direct_enclu(const struct direct_regs *r, uint8_t *area)
{
	struct direct_frame *f = (struct direct_frame *)area;
	uint64_t rsp = (uint64_t)(uintptr_t)(r + 1) + 128;
	uint64_t block = ~(1ULL << (SIGSYS - 1));
	uintptr_t sigreturn = run_sysgate_page();
	struct run_thread *t;

	frame_from(r, &f->uc, rsp, area + XSAVE_OFF);
	run_sys6(SYS_rt_sigprocmask, SIG_BLOCK, (long)&block,
		 (long)&f->uc.uc_sigmask, 8, 0, 0);
	t = run_ready() ? run_thread_self() : NULL;
	if (direct_ok(t, rsp))
		direct_leaf(t, &f->uc);
	/* The gate's sigreturn: dispatch lets only its page through. */
	sigreturn = sigreturn ? sigreturn + (uintptr_t)(run_gate_sigreturn -
							run_gate_code) :
				(uintptr_t)run_gate_sigreturn;
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "jmp *%1"
			 :
			 : "r"(&f->uc), "r"(sigreturn)
			 : "memory");
	__builtin_unreachable();
}
