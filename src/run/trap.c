// SPDX-License-Identifier: MIT
/*
 * The traps that run enclave code natively (docs/RUNNER.md):
 *
 * - SIGILL: a patched CPUID (cpuid.c), or ENCLU (0F 01 D7), which the
 *   host CPU does not have. The leaf in EAX runs on the thread's LP with the
 *   registers of the ucontext, and the ucontext gets the result: EENTER and
 *   ERESUME continue in the enclave, EEXIT at its target; EACCEPT & co.
 *   return their code in EAX.
 * - SIGSEGV in enclave mode: an access the host mappings refused. Either a
 *   fresh walk allows it (hostmap.c maps the page, the access retries), or
 *   it is the CPU's fault: AEX into the SSA, then what Linux's
 *   do_user_addr_fault() does: the driver may fix it (EAUG, a PTE), and
 *   the thread continues at the AEP, whose ENCLU[ERESUME] re-enters; or it
 *   is a signal, which the vDSO's exception fixup turns into the fields of
 *   struct sgx_enclave_run when the AEP is the vDSO's ENCLU.
 * - The IPI signal: the thread takes an AEX wherever the enclave is, and
 *   acknowledges; it then runs the AEP, which ERESUMEs.
 *
 * The handlers run on a per-thread alternate stack (thread.c), so nothing
 * is written on an enclave stack, and with every signal blocked. The
 * program's own handlers for them are kept (sigaction() and signal() are
 * interposed) and called for everything that is not the runtime's, with
 * the program's mask (the runtime's signals never blocked, so its traps
 * work in them) and on the program's alternate stack if it asks.
 * A thread holds an LP only while it needs one: each handler gives it
 * back once the thread is outside enclave mode.
 *
 * FS and GS: every handler is wrapped so that its body runs on the
 * thread's own bases and the enclave's are back when it returns to enclave
 * code (fsgs.c). The program's handlers of other signals are wrapped too:
 * a signal that interrupts enclave code makes the LP take an AEX first, as
 * the hardware does, so the handler sees the AEP and the thread ERESUMEs.
 * The extended state goes into the SSA at AEX and comes back at ERESUME
 * (xstate.c).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "base/bits.h"
#include "run/cpuid.h"
#include "run/runtime.h"

#define X86_EFLAGS_ZF_BIT 0x40ULL
#define X86_EFLAGS_ARITH 0x8d5ULL /* CF PF AF ZF SF OF */
/* Page-fault error code bits the host kernel reports in REG_ERR. */
#define HOST_PF_WRITE 0x2
#define HOST_PF_INSTR 0x10
/* si_code of a SIGSYS from a seccomp filter (linux/signal.h). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

static const int trapped[] = { SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP };

/* Exception vectors (SDM Vol. 3A Table 6-1) not in arch/sdm.h. */
#define X86_TRAP_DE 0
#define X86_TRAP_DB 1
#define X86_TRAP_BP 3
#define X86_TRAP_MF 16
#define X86_TRAP_AC 17
#define X86_TRAP_XM 19

/* The program's own dispositions of the signals the runtime takes. */
static struct sigaction program_act[_NSIG];

/*
 * The calling thread's record (thread.c), which holds what used to be
 * thread-local here: the signal decided under the model lock for the
 * program (unfixed()), and whether to let others have the lock first
 * (user_fault()).
 */
static bool runtime_signal(int sig)
{
	if (sig == SIGSYS)
		return true;
	for (unsigned int i = 0; i < sizeof(trapped) / sizeof(trapped[0]); i++)
		if (trapped[i] == sig)
			return true;
	return sig == run.ipi_signo;
}

/* ---- Registers ---------------------------------------------------------- */

void run_regs_from_uc(struct sgx_lp *lp, const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	struct sgx_regs *r = &lp->regs;

	r->rax = (uint64_t)g[REG_RAX];
	r->rbx = (uint64_t)g[REG_RBX];
	r->rcx = (uint64_t)g[REG_RCX];
	r->rdx = (uint64_t)g[REG_RDX];
	r->rsi = (uint64_t)g[REG_RSI];
	r->rdi = (uint64_t)g[REG_RDI];
	r->rsp = (uint64_t)g[REG_RSP];
	r->rbp = (uint64_t)g[REG_RBP];
	r->r8 = (uint64_t)g[REG_R8];
	r->r9 = (uint64_t)g[REG_R9];
	r->r10 = (uint64_t)g[REG_R10];
	r->r11 = (uint64_t)g[REG_R11];
	r->r12 = (uint64_t)g[REG_R12];
	r->r13 = (uint64_t)g[REG_R13];
	r->r14 = (uint64_t)g[REG_R14];
	r->r15 = (uint64_t)g[REG_R15];
	r->rip = (uint64_t)g[REG_RIP];
	r->rflags = (uint64_t)g[REG_EFL];
}

void run_regs_to_uc(const struct sgx_lp *lp, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	const struct sgx_regs *r = &lp->regs;

	g[REG_RAX] = (greg_t)r->rax;
	g[REG_RBX] = (greg_t)r->rbx;
	g[REG_RCX] = (greg_t)r->rcx;
	g[REG_RDX] = (greg_t)r->rdx;
	g[REG_RSI] = (greg_t)r->rsi;
	g[REG_RDI] = (greg_t)r->rdi;
	g[REG_RSP] = (greg_t)r->rsp;
	g[REG_RBP] = (greg_t)r->rbp;
	g[REG_R8] = (greg_t)r->r8;
	g[REG_R9] = (greg_t)r->r9;
	g[REG_R10] = (greg_t)r->r10;
	g[REG_R11] = (greg_t)r->r11;
	g[REG_R12] = (greg_t)r->r12;
	g[REG_R13] = (greg_t)r->r13;
	g[REG_R14] = (greg_t)r->r14;
	g[REG_R15] = (greg_t)r->r15;
	g[REG_RIP] = (greg_t)r->rip;
	g[REG_EFL] = (greg_t)r->rflags;
}

static uint64_t uc_reg(const ucontext_t *uc, int reg)
{
	return (uint64_t)uc->uc_mcontext.gregs[reg];
}

/* ---- The program's handlers --------------------------------------------- */

/*
 * Hand a signal to the program as the kernel would have: its handler, or
 * the default action. A fault the program ignores or leaves at SIG_DFL
 * kills it with that signal, as force_sig() does.
 */
struct program_call {
	const struct sigaction *act;
	int sig;
	siginfo_t *si;
	ucontext_t *uc;
};

static void call_handler(void *p)
{
	const struct program_call *c = p;

	if (c->act->sa_flags & SA_SIGINFO)
		c->act->sa_sigaction(c->sig, c->si, c->uc);
	else
		c->act->sa_handler(c->sig);
}

static void runtime_mask(sigset_t *mask);

/*
 * The program's handler, as the kernel would run it: with the mask it
 * asks for (the interrupted one, sa_mask, and the signal unless
 * SA_NODEFER), except the runtime's own signals, so that its traps keep
 * working in the handler (which may fault, or enter an enclave); and with
 * SA_ONSTACK on the alternate stack the program asked sigaltstack() for,
 * unless it runs there already. The runtime's frames below which it runs
 * stay reserved (run_arm_altstack()).
 */
static void call_program(const struct sigaction *act, int sig,
			 siginfo_t *si, ucontext_t *uc)
{
	struct program_call c = { act, sig, si, uc };
	struct run_thread *t = run_thread_self();
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	sigset_t mask = uc->uc_sigmask, traps, saved;
	const stack_t *ps = t ? &t->program_stack : NULL;

	sigorset(&mask, &mask, &act->sa_mask);
	if (!(act->sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	sigemptyset(&traps);
	runtime_mask(&traps);
	sigaddset(&traps, SIGSYS);
	for (int i = 1; i < _NSIG; i++)
		if (sigismember(&traps, i))
			sigdelset(&mask, i);
	if (t)
		run_lp_put(t);
	run_sys_sigmask(SIG_SETMASK, &mask, &saved);
	if (ps && !(ps->ss_flags & SS_DISABLE) && act->sa_flags & SA_ONSTACK &&
	    !run_on_stack(ps, uc_reg(uc, REG_RSP)) && !run_on_stack(ps, here)) {
		uintptr_t in_use = t->in_use;

		/* Our frames above here stay (run_arm_altstack()). */
		if (here - run_thread_stack(t) < RUN_ALTSTACK_SIZE)
			t->in_use = here - 256;
		run_call_on_stack(call_handler, &c,
				  (uintptr_t)ps->ss_sp + ps->ss_size);
		t->in_use = in_use;
	} else {
		call_handler(&c);
	}
	run_sys_sigmask(SIG_SETMASK, &saved, NULL);
}

static void deliver(int sig, siginfo_t *si, ucontext_t *uc)
{
	const struct sigaction *act = &program_act[sig];
	struct sigaction dfl = { 0 };

	if ((act->sa_flags & SA_SIGINFO && act->sa_sigaction) ||
	    (!(act->sa_flags & SA_SIGINFO) && act->sa_handler != SIG_DFL &&
	     act->sa_handler != SIG_IGN)) {
		call_program(act, sig, si, uc);
		return;
	}
	if (sig == run.ipi_signo && act->sa_handler == SIG_IGN)
		return;
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	run_sys_sigaction(sig, &dfl, NULL);
	/* Blocked in this handler: it strikes as the handler returns. */
	raise(sig);
}

/*
 * An exception of enclave code, after its AEX, as Linux reports it: the
 * signal with si_addr = the #PF address or the AEP (the RIP the kernel
 * saw), and in uc_mcontext the vector (trapno) and the error code, with
 * X86_PF_SGX for an EPCM fault.
 */
static void deliver_exception(int sig, int code,
			      const struct sgx_exception *exc, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = code;
	si.si_addr = exc->vector == X86_TRAP_PF ?
			     (void *)(uintptr_t)exc->addr :
		     exc->vector == X86_TRAP_GP ? NULL :
						  (void *)(uintptr_t)g[REG_RIP];
	g[REG_TRAPNO] = exc->vector;
	g[REG_ERR] = exc->error_code;
	deliver(sig, &si, uc);
}

/* ---- Exceptions --------------------------------------------------------- */

/* The signal Linux sends for an exception, and its si_code. */
static int fault_signal(const struct sgx_exception *exc,
			enum sgx_fault_result fr, int *code)
{
	switch (exc->vector) {
	case X86_TRAP_UD:
		*code = ILL_ILLOPN;
		return SIGILL;
	case X86_TRAP_DE:
		*code = FPE_INTDIV;
		return SIGFPE;
	case X86_TRAP_MF:
	case X86_TRAP_XM:
		*code = FPE_FLTINV; /* the host's code replaces it */
		return SIGFPE;
	case X86_TRAP_DB:
		*code = TRAP_TRACE;
		return SIGTRAP;
	case X86_TRAP_BP:
		*code = SI_KERNEL;
		return SIGTRAP;
	case X86_TRAP_AC:
		*code = BUS_ADRALN;
		return SIGBUS;
	case X86_TRAP_GP:
		*code = SI_KERNEL;
		return SIGSEGV;
	default:
		break;
	}
	if (fr == SGX_FAULT_SIGBUS) {
		*code = BUS_ADRERR;
		return SIGBUS;
	}
	*code = exc->error_code & X86_PF_PROT ? SEGV_ACCERR : SEGV_MAPERR;
	return SIGSEGV;
}

/*
 * The signal for an exception that nothing fixed. If the thread is at the
 * vDSO's ENCLU, Linux's fixup_vdso_exception() sends it to the fixup with
 * the trap number, error code and address, except #DB and #BP, which it
 * never fixes up; otherwise the program gets it.
 */
static void unfixed(const struct sgx_exception *exc, enum sgx_fault_result fr,
		    ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct run_thread *t = run_thread_self();

	if (run.vdso && (uc_reg(uc, REG_RIP) == run.vdso->enclu ||
			 uc_reg(uc, REG_RIP) == run.vdso->aep) &&
	    exc->vector != X86_TRAP_DB && exc->vector != X86_TRAP_BP) {
		g[REG_RIP] = (greg_t)run.vdso->fixup;
		g[REG_RDI] = exc->vector;
		g[REG_RSI] = exc->error_code;
		g[REG_RDX] = (greg_t)exc->addr;
		return;
	}
	t->pending.sig = fault_signal(exc, fr, &t->pending.code);
	t->pending.exc = *exc;
}

/*
 * The program's handler runs after the model lock is dropped: it may
 * longjmp away, or enter the enclave again.
 */
static void deliver_pending(ucontext_t *uc)
{
	struct run_thread *t = run_thread_self();
	int sig = t ? t->pending.sig : 0;

	if (t && t->must_yield) {
		t->must_yield = false;
		sched_yield();
	}
	if (!sig)
		return;
	t->pending.sig = 0;
	deliver_exception(sig, t->pending.code, &t->pending.exc, uc);
}

/*
 * The kernel's #PF handling. A fault "fixed" without a PTE (no free EPC
 * page until ksgxd reclaims one: Linux's VM_FAULT_NOPAGE after -EBUSY)
 * makes the thread yield once it has dropped the model lock, so that
 * ksgxd, not the retry, gets the lock.
 */
static enum sgx_fault_result user_fault(uint64_t addr, uint32_t error_code)
{
	enum sgx_fault_result fr = sgx_user_fault(run.mm, addr, error_code);

	if (fr == SGX_FAULT_FIXED &&
	    !sgx_pgtable_lookup(&run.mm->pgtable, addr))
		run_thread_self()->must_yield = true;
	return fr;
}

/*
 * The signal context whose extended state an AEX on an LP saves: set
 * around every call into the CPU model that may take an AEX, because the
 * model raises the AEX of a faulting leaf or fill itself (arch/aex.c).
 * Per LP: the thread on it is the one in the CPU model.
 */
static ucontext_t *aex_ucs[SGX_LPS_MAX];

/**
 * run_aex_hook() - the CPU's AEX hook, in enclave mode before the AEX saves
 * anything: the extended state of aex_uc goes into the SSA (xstate.c), and
 * the recorder, if any, sees the AEX.
 */
void run_aex_hook(void *ctx, struct sgx_lp *lp)
{
	(void)ctx;
	if (aex_ucs[lp->id])
		run_xstate_aex(lp, aex_ucs[lp->id]);
	run_record_aex(lp);
}

/*
 * The AEX of @lp at the state in @uc: the GPRs and the extended state go
 * into the SSA, and @uc becomes the synthetic state at the AEP.
 */
static void take_aex(struct sgx_lp *lp, ucontext_t *uc,
		     const struct sgx_exception *exc)
{
	ucontext_t *outer = aex_ucs[lp->id];

	run_regs_from_uc(lp, uc);
	aex_ucs[lp->id] = uc;
	sgx_aex(lp, exc);
	aex_ucs[lp->id] = outer;
	run_regs_to_uc(lp, uc);
}

/*
 * An exception in enclave mode: AEX into the SSA (the ucontext becomes the
 * synthetic state at the AEP), then the kernel's #PF handling. A fault the
 * CPU model raised (a leaf's, an access's) had its AEX in arch already,
 * from lp->regs, which the caller loaded from the ucontext first.
 */
static void enclave_exception(struct sgx_lp *lp, ucontext_t *uc,
			      const struct sgx_exception *raised)
{
	struct sgx_exception exc = *raised;
	enum sgx_fault_result fr = SGX_FAULT_SIGSEGV;

	if (lp->enclave_mode)
		take_aex(lp, uc, &exc);
	else
		run_regs_to_uc(lp, uc);
	exc = lp->exc; /* CR2 is page aligned after an AEX */
	if (exc.vector == X86_TRAP_PF) {
		fr = user_fault(exc.addr, exc.error_code);
		if (fr == SGX_FAULT_FIXED)
			return;
	}
	unfixed(&exc, fr, uc);
}

/*
 * A leaf that faulted outside enclave mode (EENTER, ERESUME): a #PF may be
 * fixed by the kernel, and the ENCLU then simply runs again.
 */
static bool outside_fault_fixed(const struct sgx_lp *lp)
{
	return lp->exc.vector == X86_TRAP_PF &&
	       user_fault(lp->exc.addr, lp->exc.error_code | X86_PF_USER) ==
		       SGX_FAULT_FIXED;
}

/*
 * An IPI found the thread inside: AEX where it stands, and say so. The
 * sender holds the model lock and only waits, but the targets take their
 * AEXs at once, and each changes its enclave's SECS counters: they take
 * them one at a time.
 */
static void ipi_aex(struct sgx_lp *lp, ucontext_t *uc)
{
	static pthread_mutex_t targets = PTHREAD_MUTEX_INITIALIZER;

	if (lp->enclave_mode) {
		pthread_mutex_lock(&targets);
		take_aex(lp, uc, NULL);
		pthread_mutex_unlock(&targets);
	}
	native_ipi_ack(&run.native, lp);
}

/*
 * A thread waiting for an LP asked for this one (native_lp_claim()): an
 * interrupt, as the timer's when Linux preempts a thread. The AEX is
 * taken under the model lock (nobody holds it for this thread); the LP is
 * free once the handler is done, and the AEP's ERESUME waits for one.
 */
static void preempt_aex(struct sgx_lp *lp, ucontext_t *uc)
{
	if (native_lock_or_ipi(&run.native, lp)) {
		ipi_aex(lp, uc);
		return;
	}
	if (lp->enclave_mode)
		take_aex(lp, uc, NULL);
	native_unlock(&run.native);
}

/* #UD of enclave code, with RIP at the instruction. */
/* #UD of enclave code, model lock held; drops it. */
static void enclave_ud_locked(struct sgx_lp *lp, ucontext_t *uc)
{
	struct sgx_exception ud = { .vector = X86_TRAP_UD };

	enclave_exception(lp, uc, &ud);
	native_unlock(&run.native);
	deliver_pending(uc);
}

static void enclave_ud(struct sgx_lp *lp, ucontext_t *uc)
{
	/* An IPI first: the instruction runs again later. */
	if (native_lock_or_ipi(&run.native, lp)) {
		ipi_aex(lp, uc);
		return;
	}
	enclave_ud_locked(lp, uc);
}

/*
 * The bytes of enclave code at rip. Its page may have been revoked by a
 * zap on another thread (ksgxd's) since the instruction trapped: the read
 * then fails instead of faulting in the handler, and the caller lets the
 * instruction run again (its fault brings the page back).
 */
static bool enclave_code(uint64_t rip, uint8_t *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)rip,
				.iov_len = len };

	memset(buf, 0, len);
	return run_syscall(SYS_process_vm_readv, run.self, &local, 1, &remote,
			   1, 0) > 0;
}

/*
 * Instructions the SDM makes illegal in enclave mode (#UD) that the host
 * answers with #GP in user mode: I/O (IN, OUT, INS, OUTS), INT n, and
 * SLDT/STR/SGDT/SIDT and RDPMC where the host forbids them.
 */
static bool illegal_in_enclave(uint64_t rip)
{
	uint8_t bytes[17];
	const uint8_t *p = bytes;
	unsigned int i = 0;

	if (!enclave_code(rip, bytes, sizeof(bytes)))
		return false;

	/* Legacy and REX prefixes. */
	while (i < 14 && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0xf2 ||
			  p[i] == 0xf3 || p[i] == 0x2e || p[i] == 0x36 ||
			  p[i] == 0x3e || p[i] == 0x26 || p[i] == 0x64 ||
			  p[i] == 0x65 || (p[i] & 0xf0) == 0x40))
		i++;
	p += i;
	if ((p[0] >= 0xe4 && p[0] <= 0xe7) || (p[0] >= 0xec && p[0] <= 0xef) ||
	    (p[0] >= 0x6c && p[0] <= 0x6f) || p[0] == 0xcd)
		return true;
	if (p[0] != 0x0f)
		return false;
	/* 0F 00 /0 /1, 0F 01 /0 /1 (memory forms), 0F 33. */
	if ((p[1] == 0x00 || p[1] == 0x01) && ((p[2] >> 3) & 7) < 2 &&
	    (p[1] == 0x00 || (p[2] >> 6) != 3))
		return true;
	return p[1] == 0x33;
}

/*
 * The 3 bytes at the RIP of a trap in enclave mode, model lock held: read
 * in place when no host page was revoked since the LP entered (the page
 * the instruction came from is still mapped, and nothing can revoke it
 * under the lock), else through enclave_code(). The system call costs
 * about a third of a trap, on every EEXIT.
 */
static bool enclave_insn(const struct sgx_lp *lp, uint64_t rip, uint8_t *op)
{
	if (run.host_revokes == run.lp_entry_revokes[lp->id] &&
	    (rip & (PAGE_SIZE - 1)) <= PAGE_SIZE - 3) {
		memcpy(op, (const void *)(uintptr_t)rip, 3);
		return true;
	}
	return enclave_code(rip, op, 3);
}

/* ---- ENCLU -------------------------------------------------------------- */

static bool is_enclu(const uint8_t *p)
{
	return p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xd7;
}

/*
 * What a leaf that stays in place leaves behind. EACCEPT, EACCEPTCOPY and
 * EGETKEY return their code in EAX with ZF set on error and CF, PF, AF,
 * OF, SF cleared; EMODPE and EREPORT change no register or flag (SDM,
 * "Flags Affected: None"): an EMODPE loop keeps EAX = EMODPE.
 */
static void leaf_result(struct sgx_lp *lp, uint64_t leaf, int ret)
{
	lp->regs.rip += 3;
	if (leaf == EMODPE || leaf == EREPORT)
		return;
	lp->regs.rax = (uint64_t)ret;
	lp->regs.rflags &= ~X86_EFLAGS_ARITH;
	if (ret)
		lp->regs.rflags |= X86_EFLAGS_ZF_BIT;
}

static int run_leaf(struct sgx_lp *lp)
{
	const struct sgx_regs *r = &lp->regs;
	uint64_t rbx = r->rbx, rcx = r->rcx, rdx = r->rdx;

	switch (r->rax) {
	case EENTER:
		run_revoke_if_tracked();
		return enclu_eenter(lp, rbx, rcx);
	case ERESUME:
		run_revoke_if_tracked();
		return enclu_eresume(lp, rbx, rcx);
	case EEXIT:
		return enclu_eexit(lp, rbx);
	case EACCEPT:
		return enclu_eaccept(lp, rbx, rcx);
	case EACCEPTCOPY:
		return enclu_eacceptcopy(lp, rbx, rcx, rdx);
	case EMODPE:
		return enclu_emodpe(lp, rbx, rcx);
	case EREPORT:
		return enclu_ereport(lp, rbx, rcx, rdx);
	case EGETKEY:
		return enclu_egetkey(lp, rbx, rcx);
	default:
		lp->exc = (struct sgx_exception){ .vector = X86_TRAP_UD };
		return SGX_FAULT_FLAG | X86_TRAP_UD;
	}
}

static bool leaf_moves_rip(uint64_t leaf)
{
	return leaf != EENTER && leaf != ERESUME && leaf != EEXIT;
}

/* One ENCLU, model lock held. */
static void enclu(struct sgx_lp *lp, ucontext_t *uc)
{
	bool inside = lp->enclave_mode;
	uint64_t leaf = uc_reg(uc, REG_RAX);
	int ret;

	run_regs_from_uc(lp, uc);
	aex_ucs[lp->id] = uc;
	ret = run_leaf(lp);
	aex_ucs[lp->id] = NULL;
	if (!sgx_faulted(ret)) {
		if (leaf_moves_rip(leaf))
			leaf_result(lp, leaf, ret);
		if (leaf == ERESUME)
			run_xstate_resume(lp, uc);
		run_regs_to_uc(lp, uc);
		return;
	}
	if (inside) {
		enclave_exception(lp, uc, &lp->exc);
		return;
	}
	/* Fixed: the ENCLU runs again once the model lock is dropped. */
	if (!outside_fault_fixed(lp))
		unfixed(&lp->exc, SGX_FAULT_SIGSEGV, uc);
}

/*
 * A fork's child touched its parent's enclave: the #PF that Linux answers
 * with SIGBUS, or the vDSO's fixup (hostmap.c).
 */
static bool orphan(uint64_t addr, uint32_t error_code, ucontext_t *uc)
{
	struct sgx_exception exc;

	if (!run_orphan_fault(addr, error_code, &exc))
		return false;
	unfixed(&exc, SGX_FAULT_SIGBUS, uc);
	deliver_pending(uc);
	return true;
}

/* EENTER or ERESUME in a fork's child: the TCS read faults. */
static bool orphan_enclu(ucontext_t *uc)
{
	uint64_t leaf = uc_reg(uc, REG_RAX);

	return (leaf == EENTER || leaf == ERESUME) &&
	       is_enclu((const uint8_t *)(uintptr_t)uc_reg(uc, REG_RIP)) &&
	       orphan(uc_reg(uc, REG_RBX), 0, uc);
}

/**
 * run_enclu_entry() - EENTER or ERESUME (EAX) of the ENCLU in @uc on @lp,
 * model lock held, for the vDSO's direct entry (direct.c): on success @uc
 * is the enclave's state; if the leaf faults, nothing changed (a faulting
 * leaf commits nothing) and the caller lets the ENCLU trap instead.
 *
 * Return: 0, or -EFAULT.
 */
int run_enclu_entry(struct sgx_lp *lp, ucontext_t *uc)
{
	int ret;

	run_regs_from_uc(lp, uc);
	aex_ucs[lp->id] = uc;
	ret = run_leaf(lp);
	aex_ucs[lp->id] = NULL;
	if (sgx_faulted(ret))
		return -EFAULT;
	if (uc_reg(uc, REG_RAX) == ERESUME)
		run_xstate_resume(lp, uc);
	run_regs_to_uc(lp, uc);
	return 0;
}

__attribute__((noinline)) static void sigill_body(int sig, siginfo_t *si,
						 void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t host_rsp = uc_reg(uc, REG_RSP), host_rip = uc_reg(uc, REG_RIP);
	int saved_errno = errno;
	const uint8_t *code = (const uint8_t *)(uintptr_t)uc_reg(uc, REG_RIP);
	uint8_t op[3];
	struct run_thread *t;
	struct sgx_lp *lp;
	bool locked;

	if (run_cpuid_trap(uc) || orphan_enclu(uc))
		goto out;
	lp = run_thread_lp(run_thread_self());
	/* In enclave mode: the lock first, then the bytes (enclave_insn()). */
	locked = lp && lp->enclave_mode;
	if (locked) {
		if (native_lock_or_ipi(&run.native, lp)) {
			ipi_aex(lp, uc);
			goto out;
		}
		if (!enclave_insn(lp, host_rip, op)) {
			native_unlock(&run.native);
			goto out;
		}
		code = op;
	}
	if (!run_ready() || !is_enclu(code)) {
		if (locked)
			enclave_ud_locked(lp, uc);
		else
			deliver(sig, si, uc);
		goto out;
	}
	t = run_thread_get();
	if (!t) {
		fprintf(stderr, "sgxemu: no memory for a thread's state\n");
		abort();
	}
	/* An LP first, then the lock: LPs are waited for without it. */
	lp = run_lp_get(t);
	if (!locked && native_lock_or_ipi(&run.native, lp)) {
		ipi_aex(lp, uc);
		goto out;
	}
	run_lp_activate(lp);
	run_sud_on(t, run.native.generation);
	enclu(lp, uc);
	native_unlock(&run.native);
	if (run.vdso && host_rip == run.vdso->enclu)
		run_direct_learn(uc);
	/*
	 * Only an entry (EENTER, ERESUME) arms: its RSP is the host's, and
	 * tells whether the frames of a program's handler are still live. A
	 * leaf inside (EACCEPT & co.) has the enclave's RSP and runs on the
	 * stack armed at the entry, which sigreturn restores; arming anew
	 * from it would free the frames of a handler that entered (a nested
	 * EENTER from a signal handler) for the next signal to overwrite.
	 */
	if (!locked && lp->enclave_mode &&
	    run_arm_altstack(t, uc, host_rsp)) {
		fprintf(stderr, "sgxemu: cannot arm the alternate stack\n");
		abort();
	}
	run_lp_put(t);
	deliver_pending(uc);
out:
	errno = saved_errno;
}

/* ---- Faults ------------------------------------------------------------- */

static enum sgx_access host_access(const ucontext_t *uc)
{
	uint64_t err = uc_reg(uc, REG_ERR);

	if (err & HOST_PF_INSTR)
		return SGX_ACCESS_EXEC;
	return err & HOST_PF_WRITE ? SGX_ACCESS_WRITE : SGX_ACCESS_READ;
}

static bool in_elrange(const struct sgx_lp *lp, uint64_t addr)
{
	return addr - lp->elrange_base < lp->elrange_size;
}

/* A fault of enclave code, model lock held. */
static void enclave_fault(struct sgx_lp *lp, siginfo_t *si, ucontext_t *uc)
{
	uint64_t addr = (uint64_t)(uintptr_t)si->si_addr;
	enum sgx_access acc = host_access(uc);
	int fault;
	struct sgx_exception exc = {
		.vector = X86_TRAP_PF,
		.error_code = (uint32_t)uc_reg(uc, REG_ERR) | X86_PF_USER,
		.addr = addr,
	};

	if (si->si_code == SI_KERNEL) {
		/* #GP: no address, no error code the program can use. */
		exc = (struct sgx_exception){ .vector = X86_TRAP_GP };
		if (illegal_in_enclave(uc_reg(uc, REG_RIP)))
			exc.vector = X86_TRAP_UD;
	} else if (in_elrange(lp, addr)) {
		run_regs_from_uc(lp, uc); /* for the AEX of a refused fill */
		aex_ucs[lp->id] = uc;
		fault = run_host_fill(lp, addr, acc);
		aex_ucs[lp->id] = NULL;
		if (!fault)
			return;
		exc = lp->exc;
	}
	enclave_exception(lp, uc, &exc);
}

__attribute__((noinline)) static void sigsegv_body(int sig, siginfo_t *si,
						  void *ucv)
{
	ucontext_t *uc = ucv;
	int saved_errno = errno;
	struct sgx_lp *lp = run_thread_lp(run_thread_self());

	if (sig == SIGSEGV && !(lp && lp->enclave_mode) &&
	    orphan((uint64_t)(uintptr_t)si->si_addr,
		   (uint32_t)uc_reg(uc, REG_ERR), uc)) {
		/* delivered */
	} else if (!lp || !lp->enclave_mode || sig != SIGSEGV) {
		deliver(sig, si, uc);
	} else if (native_lock_or_ipi(&run.native, lp)) {
		ipi_aex(lp, uc);
	} else {
		enclave_fault(lp, si, uc);
		native_unlock(&run.native);
		deliver_pending(uc);
	}
	errno = saved_errno;
}

__attribute__((noinline)) static void ipi_body(int sig, siginfo_t *si,
					      void *ucv)
{
	struct sgx_lp *lp = run_thread_lp(run_thread_self());
	int saved_errno = errno;

	/*
	 * The runtime's IPIs come from tgkill() of this process. One that
	 * finds no flag was answered already, in native_lock_or_ipi(): the
	 * thread may since have left its LP, or taken another.
	 */
	if (lp && native_ipi_pending(&run.native, lp))
		ipi_aex(lp, ucv);
	else if (lp && native_preempted(&run.native, lp))
		preempt_aex(lp, ucv);
	else if (si->si_code != SI_TKILL || si->si_pid != run.self)
		deliver(sig, si, ucv);
	errno = saved_errno;
}

/*
 * SIGSYS: a system call one of the runtime's seccomp filters trapped
 * (sysgate.c). The result goes in RAX; RIP is already past the `syscall`.
 * Any other SIGSYS is the program's.
 */
__attribute__((noinline)) static void sigsys_body(int sig, siginfo_t *si,
						 void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int saved_errno = errno;

	struct sgx_lp *lp = run_thread_lp(run_thread_self());

	if (si->si_code == SYS_USER_DISPATCH) {
		/*
		 * SYSCALL (or INT 80h) in enclave mode: the kernel rolled the
		 * call back and left RIP after it; the enclave gets the #UD
		 * at the instruction. Outside enclave mode (a signal that came
		 * before the selector was reset) the call simply runs again.
		 */
		g[REG_RIP] -= 2;
		g[REG_RAX] = si->si_syscall;
		if (lp && lp->enclave_mode)
			enclave_ud(lp, uc);
	} else if (si->si_code == SYS_SECCOMP &&
		   si->si_errno == RUN_GATE_TAG) {
		const long a[6] = { g[REG_RDI], g[REG_RSI], g[REG_RDX],
				    g[REG_R10], g[REG_R8],  g[REG_R9] };

		g[REG_RAX] = run_sysgate_emulate(si->si_syscall, a, uc);
	} else {
		deliver(sig, si, uc);
	}
	errno = saved_errno;
}

static void runtime_mask(sigset_t *mask);

/*
 * A signal of the program's own that interrupts enclave code: the CPU takes
 * an AEX first (an interrupt), so the program's handler sees the AEP's
 * synthetic state, and the thread ERESUMEs when the handler returns.
 */
__attribute__((noinline)) static void foreign_body(int sig, siginfo_t *si,
						  void *ucv)
{
	struct sgx_lp *lp = run_thread_lp(run_thread_self());
	int saved_errno = errno;

	if (lp && lp->enclave_mode) {
		if (native_lock_or_ipi(&run.native, lp)) {
			ipi_aex(lp, ucv);
		} else {
			take_aex(lp, ucv, NULL);
			native_unlock(&run.native);
		}
	}
	errno = saved_errno;
	deliver(sig, si, ucv);
}

/* After a handler's body: an LP held outside enclave mode is free. */
__attribute__((noinline)) static void lp_done(void)
{
	if (run_ready())
		run_lp_put(run_thread_self());
}

/*
 * The handlers the kernel calls: FS and GS are the thread's own for the
 * body, which may touch TLS; the enclave's again after, if it goes on.
 */
#define HANDLER(name, body)                                               \
	__attribute__((no_stack_protector)) static void name(              \
		int sig, siginfo_t *si, void *uc)                         \
	{                                                                 \
		run_fs_enter();                                           \
		body(sig, si, uc);                                        \
		lp_done();                                                \
		run_fs_leave();                                           \
	}

/*
 * SIGFPE and SIGTRAP: #DE, #MF, #XM, #DB or #BP of enclave code is an
 * exception in the enclave (AEX with EXITINFO, then Linux's signal at the
 * AEP), not an interrupt. One sent with kill() is an interrupt, as any
 * other signal of the program's.
 */
__attribute__((noinline)) static void exception_body(int sig, siginfo_t *si,
						    void *ucv)
{
	ucontext_t *uc = ucv;
	struct sgx_lp *lp = run_thread_lp(run_thread_self());
	int saved_errno = errno;
	struct sgx_exception exc = {
		.vector = (uint8_t)uc_reg(uc, REG_TRAPNO),
		.error_code = (uint32_t)uc_reg(uc, REG_ERR),
	};

	if (!lp || !lp->enclave_mode) {
		deliver(sig, si, uc);
	} else if (si->si_code <= 0) {
		foreign_body(sig, si, ucv);
	} else if (native_lock_or_ipi(&run.native, lp)) {
		/* A fault runs again after ERESUME; a trap (#BP) is lost. */
		ipi_aex(lp, uc);
	} else {
		enclave_exception(lp, uc, &exc);
		native_unlock(&run.native);
		/* The host's code is the precise one (#MF, #XM, #DB). */
		if (run_thread_self()->pending.sig == sig)
			run_thread_self()->pending.code = si->si_code;
		deliver_pending(uc);
	}
	errno = saved_errno;
}

HANDLER(on_sigill, sigill_body)
HANDLER(on_sigsegv, sigsegv_body)
HANDLER(on_ipi, ipi_body)
HANDLER(on_foreign, foreign_body)
HANDLER(on_sigsys, sigsys_body)
HANDLER(on_exception, exception_body)

/* ---- Installation ------------------------------------------------------- */

static void runtime_mask(sigset_t *mask)
{
	for (unsigned int i = 0; i < sizeof(trapped) / sizeof(trapped[0]); i++)
		sigaddset(mask, trapped[i]);
	sigaddset(mask, run.ipi_signo);
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn };

	/*
	 * Every signal waits while a trap is handled: a handler of the
	 * program must not run while this thread holds the model lock.
	 */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	/*
	 * Except SIGSYS: a call a filter traps inside a handler (libc's
	 * raise() masks signals) is emulated, not fatal. Its own handler
	 * nests for the same reason.
	 */
	sigdelset(&sa.sa_mask, SIGSYS);
	if (sig == SIGSYS)
		sa.sa_flags |= SA_NODEFER;
	return run_sys_sigaction(sig, &sa, &program_act[sig]);
}

/*
 * A program's handler for any other signal runs behind on_foreign(), on the
 * alternate stack, with the program's flags and mask. The runtime's signals
 * wait while on_foreign() takes the AEX, and are let through for the
 * program's handler. SIG_DFL and SIG_IGN are the kernel's own business.
 */
static int install_foreign(int sig, const struct sigaction *act,
			   struct sigaction *old)
{
	struct sigaction sa = *act, prev = program_act[sig];
	int ret;

	if (act->sa_handler == SIG_DFL || act->sa_handler == SIG_IGN) {
		ret = run_sys_sigaction(sig, act, old);
	} else {
		sa.sa_sigaction = on_foreign;
		sa.sa_flags |= SA_SIGINFO | SA_ONSTACK;
		runtime_mask(&sa.sa_mask);
		ret = run_sys_sigaction(sig, &sa, old);
	}
	if (ret)
		return ret;
	if (old && old->sa_sigaction == on_foreign)
		*old = prev;
	program_act[sig] = *act;
	return 0;
}

/**
 * run_traps_install() - take SIGILL, SIGSEGV, SIGBUS and the IPI signal;
 * what the program had for them is kept for deliver().
 *
 * Return: 0 or -1.
 */
int run_traps_install(void)
{
	if (install(SIGILL, on_sigill) || install(SIGSEGV, on_sigsegv) ||
	    install(SIGBUS, on_sigsegv) || install(SIGSYS, on_sigsys) ||
	    install(SIGFPE, on_exception) || install(SIGTRAP, on_exception) ||
	    install(run.ipi_signo, on_ipi))
		return -1;
	return 0;
}

/*
 * The program's sigaction() and signal(): for the runtime's signals they
 * only record the program's wish, which deliver() honours.
 */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig <= 0 || sig >= _NSIG || sig == SIGKILL || sig == SIGSTOP)
		return run_sys_sigaction(sig, act, old);
	if (!runtime_signal(sig)) {
		int ret = act ? install_foreign(sig, act, old) :
				run_sys_sigaction(sig, NULL, old);

		if (!ret && !act && old && old->sa_sigaction == on_foreign)
			*old = program_act[sig];
		return ret;
	}
	if (old)
		*old = program_act[sig];
	if (act)
		program_act[sig] = *act;
	return 0;
}

sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction act = { .sa_handler = handler }, old;

	sigemptyset(&act.sa_mask);
	act.sa_flags = SA_RESTART;
	if (sigaction(sig, &act, &old))
		return SIG_ERR;
	return old.sa_handler;
}
