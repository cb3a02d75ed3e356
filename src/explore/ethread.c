// SPDX-License-Identifier: MIT
/*
 * Scripted enclave threads (world.h): a sim thread pinned to its own LP
 * runs a small program of enclave operations, played the way the CPU,
 * Linux's fault path and the vDSO's ENCLU/AEP loop treat a real enclave
 * thread (tests/kernel/kfixture.c is the model):
 * - before every ENCLU leaf and every enclave memory access the thread
 *   offers a preemption point, so the explorer can put anything between;
 * - an IPI forces the LP out (the sim's IPI runs the AEX): the thread
 *   ERESUMEs before its next operation, as the vDSO's AEP does;
 * - a fault inside the enclave takes its AEX, then goes through Linux's
 *   user fault path; a fault the kernel fixed is retried after ERESUME,
 *   as the vDSO loop does, and one it did not fix is the operation's
 *   outcome (EPCM, SEGV, GP).
 * MODEL: after a fault the kernel did not fix, the thread ERESUMEs and goes
 * on with its next operation, as if the enclave's handler had skipped the
 * faulting instruction; a real handler needs a second SSA frame, which the
 * scenarios' TCSs do not have.
 *
 * What a thread reads must be what was last written there (the shadow in
 * world.h), which checks that eviction preserves contents. An EACCEPT that
 * succeeds on a page whose EMODPR or EMODT was not yet tracked is a
 * violation, and every successful EACCEPT of a restriction is recorded for
 * the security property (invariants.c).
 */
#include "explore/world.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"
#include "kernel/encl.h"

/* Faults the kernel "fixed" in a row before it counts as a livelock. */
#define XP_FIXED_MAX 64
#define XP_SECINFO_REG SGX_SECINFO_TYPE(PT_REG)

/* What the last fault of an operation was, if the kernel did not fix it. */
struct xp_fault {
	bool raised;
	struct sgx_exception exc;
};

typedef int (*xp_try_fn)(struct xp_ethread *t, const struct xp_eop *op);

static struct sgx_lp *xp_lp(const struct xp_ethread *t)
{
	return &t->env->w->cpu.lps[t->lp];
}

/* A try that an IPI interrupted: ERESUME, then try again. */
#define XP_AEXED (-1)

/* The preemption point before EENTER or ERESUME. */
static void xp_yield(const struct xp_ethread *t)
{
	sim_yield(&t->env->w->sim);
}

/*
 * The preemption point before a leaf or an access inside the enclave. An
 * IPI may force the LP out meanwhile; then the instruction runs only after
 * the AEP's ERESUME.
 */
static bool xp_yield_inside(const struct xp_ethread *t)
{
	sim_yield(&t->env->w->sim);
	return xp_lp(t)->enclave_mode;
}

static unsigned int xp_ethread_index(const struct xp_ethread *t)
{
	return (unsigned int)(t - t->env->ethreads);
}

static const char *xp_outcome_name(enum xp_outcome outcome)
{
	switch (outcome) {
	case XP_OUT_OK:
		return "success";
	case XP_OUT_NOT_TRACKED:
		return "SGX_NOT_TRACKED";
	case XP_OUT_MISMATCH:
		return "SGX_PAGE_ATTRIBUTES_MISMATCH";
	case XP_OUT_SGX:
		return "an SGX error code";
	case XP_OUT_EPCM:
		return "an EPCM #PF";
	case XP_OUT_SEGV:
		return "an unfixed #PF";
	case XP_OUT_GP:
		return "#GP";
	case XP_OUT_OUTSIDE:
		return "no way back into the enclave";
	default:
		return "?";
	}
}

static enum xp_outcome xp_outcome_of(int ret, const struct xp_fault *f)
{
	if (f->raised) {
		if (f->exc.vector != X86_TRAP_PF)
			return XP_OUT_GP;
		return f->exc.error_code & X86_PF_SGX ? XP_OUT_EPCM :
							XP_OUT_SEGV;
	}
	if (!ret)
		return XP_OUT_OK;
	if (ret == SGX_NOT_TRACKED)
		return XP_OUT_NOT_TRACKED;
	if (ret == SGX_PAGE_ATTRIBUTES_MISMATCH)
		return XP_OUT_MISMATCH;
	return XP_OUT_SGX;
}

/* The EPC page lin translates to through the LP's page table, if any. */
static bool xp_translate(const struct sgx_lp *lp, uint64_t lin,
			 uint64_t *index)
{
	const struct sgx_pte *pte = lp->pgtable ?
		sgx_pgtable_lookup(lp->pgtable, lin) : NULL;

	return pte && sgx_epc_index(lp->cpu, pte->frame & PAGE_MASK, index);
}

/*
 * A fault of the operation, as Linux handles it (the CPU delivered it
 * through an AEX if it happened inside): Linux's user fault path for a #PF.
 * Returns true when the kernel fixed it and the operation is to be retried.
 * MODEL: a fix that installed no PTE (the reclaimer holds the page, or EPC
 * is short) is retried only once the reclaimer has finished a batch, an
 * EPC hog has let its pages go, or a direct reclaim holding a page has
 * ended (xp_env_wait_epc()), or at once when none of them is under way: a
 * real thread would spin meanwhile, to no effect but steps that a
 * preemption-bounded search would have to preempt, one by one.
 */
static bool xp_ethread_fault(struct xp_ethread *t, struct xp_fault *f,
			     unsigned int *fixed)
{
	struct xp_env *env = t->env;
	struct sgx_lp *lp = xp_lp(t);
	struct sgx_exception exc = lp->exc;
	uint64_t seen = env->reclaims;

	ASSERT(!lp->enclave_mode); /* the fault's AEX happened in arch */
	f->raised = true;
	f->exc = exc;
	if (exc.vector != X86_TRAP_PF || !env->driver || !t->mm)
		return false;
	if (sgx_user_fault(t->mm, exc.addr, exc.error_code) !=
	    SGX_FAULT_FIXED)
		return false;
	if (++*fixed > XP_FIXED_MAX) {
		xp_violation(env, "%s: the fault at %#llx was fixed %u times "
			     "without progress (livelock)", t->name,
			     (unsigned long long)exc.addr, XP_FIXED_MAX);
		return false;
	}
	if (!sgx_pgtable_lookup(&t->mm->pgtable, exc.addr))
		xp_env_wait_epc(env, seen);
	f->raised = false;
	return true;
}

static int xp_try_eresume(struct xp_ethread *t)
{
	xp_yield(t);
	return enclu_eresume(xp_lp(t), t->tcs, XP_AEP);
}

/*
 * Run one try of an operation until it ends without a fault the kernel
 * fixes, the way the vDSO loops: a fixed fault inside the enclave resumes
 * it with ERESUME (itself retried on fixed faults), then the operation
 * runs again. Returns the last result; f says whether a fault ended it.
 */
static int xp_ethread_run(struct xp_ethread *t, xp_try_fn fn,
			  const struct xp_eop *op, struct xp_fault *f)
{
	struct sgx_lp *lp = xp_lp(t);
	unsigned int fixed = 0;
	bool resume = false;

	memset(f, 0, sizeof(*f));
	for (;;) {
		bool inside = lp->enclave_mode;
		int ret = resume ? xp_try_eresume(t) : fn(t, op);

		if (ret == XP_AEXED) {
			resume = true;
			continue;
		}
		if (!sgx_faulted(ret)) {
			if (!resume || ret)
				return ret;
			resume = false;
			continue;
		}
		if (!xp_ethread_fault(t, f, &fixed))
			return ret;
		resume = resume || inside;
	}
}

static int xp_try_eresume_op(struct xp_ethread *t, const struct xp_eop *op)
{
	(void)op;
	return xp_try_eresume(t);
}

/*
 * Back into the enclave after an AEX (an IPI, or a fault the kernel did
 * not fix), as the AEP does. A thread that cannot get back in is dead.
 */
static bool xp_ethread_inside(struct xp_ethread *t)
{
	struct xp_fault f;

	if (t->dead || !t->inside)
		return false;
	if (xp_lp(t)->enclave_mode)
		return true;
	if (xp_ethread_run(t, xp_try_eresume_op, NULL, &f) || f.raised)
		t->dead = true;
	return !t->dead;
}

static int xp_try_eenter(struct xp_ethread *t, const struct xp_eop *op)
{
	(void)op;
	xp_yield(t);
	return enclu_eenter(xp_lp(t), t->tcs, XP_AEP);
}

static int xp_try_read(struct xp_ethread *t, const struct xp_eop *op)
{
	struct xp_env *env = t->env;
	uint64_t lin = xp_page_lin(env, op->page) + op->arg * XP_SLOT_STRIDE;
	uint64_t value, expect;
	int ret;

	if (!xp_yield_inside(t))
		return XP_AEXED;
	ret = sgx_lp_read(xp_lp(t), lin, &value, sizeof(value));
	expect = env->shadow[op->page][op->arg];
	if (!ret && env->known[op->page] && value != expect)
		xp_violation(env, "%s: page %u slot %u holds %#llx, not the "
			     "%#llx written last (contents lost)", t->name,
			     op->page, (unsigned int)op->arg,
			     (unsigned long long)value,
			     (unsigned long long)expect);
	return ret;
}

static int xp_try_write(struct xp_ethread *t, const struct xp_eop *op)
{
	struct xp_env *env = t->env;
	uint64_t lin = xp_page_lin(env, op->page) + op->arg * XP_SLOT_STRIDE;
	uint64_t value = 0xC0DE000000000000ULL |
			 (uint64_t)xp_ethread_index(t) << 32 |
			 (uint64_t)t->op << 8 | op->page;
	int ret;

	if (!xp_yield_inside(t))
		return XP_AEXED;
	ret = sgx_lp_write(xp_lp(t), lin, &value, sizeof(value));
	if (!ret)
		env->shadow[op->page][op->arg] = value;
	return ret;
}

/* The SECINFO an EACCEPT_AUTO asks for: whatever the EPCM now says. */
static uint64_t xp_auto_flags(const struct xp_ethread *t, uint64_t lin)
{
	const struct sgx_lp *lp = xp_lp(t);
	const struct epcm_entry *e;
	uint64_t index;

	if (!xp_translate(lp, lin, &index))
		return XP_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_PR;
	e = sgx_epcm(lp->cpu, index);
	return SGX_SECINFO_TYPE(e->pt) | e->r * SGX_SECINFO_R |
	       e->w * SGX_SECINFO_W | e->x * SGX_SECINFO_X |
	       e->pr * SGX_SECINFO_PR | e->pending * SGX_SECINFO_PENDING |
	       e->modified * SGX_SECINFO_MODIFIED;
}

/* Put the SECINFO on this LP's slot of the OP page: an enclave access. */
static int xp_put_secinfo(struct xp_ethread *t, uint64_t flags,
			  uint64_t *slot)
{
	struct sgx_secinfo secinfo;

	memset(&secinfo, 0, sizeof(secinfo));
	secinfo.flags = flags;
	*slot = xp_op_lin(t->env) + sizeof(secinfo) * t->lp;
	if (!xp_yield_inside(t))
		return XP_AEXED;
	return sgx_lp_write(xp_lp(t), *slot, &secinfo, sizeof(secinfo));
}

/*
 * Whether the page's last EMODPR or EMODT is tracked, just before the
 * EACCEPT (nothing runs in between): an EACCEPT must not succeed otherwise.
 */
static bool xp_untracked_change(const struct sgx_lp *lp, uint64_t lin)
{
	const struct epcm_entry *e;
	uint64_t index;

	if (!xp_translate(lp, lin, &index))
		return false;
	e = sgx_epcm(lp->cpu, index);
	return e->valid && (e->pr || e->modified) &&
	       !sgx_page_tracked(lp->cpu, index);
}

/* What a successful EACCEPT or EACCEPTCOPY of the page means. */
static void xp_accepted(struct xp_ethread *t, const struct xp_eop *op,
			uint64_t flags, uint64_t lin, bool untracked)
{
	struct xp_env *env = t->env;
	uint64_t index;

	if (untracked)
		xp_violation(env, "%s: EACCEPT of page %u succeeded before its "
			     "EMODPR/EMODT was tracked", t->name, op->page);
	env->accepted[op->page] = true;
	if (flags & SGX_SECINFO_PENDING) {
		memset(env->shadow[op->page], 0, sizeof(env->shadow[0]));
		env->known[op->page] = true;
	}
	if (flags & SGX_SECINFO_MODIFIED)
		env->known[op->page] = false;
	if ((flags & SGX_SECINFO_PR) && xp_translate(xp_lp(t), lin, &index))
		xp_record_accept(env, index, lin);
}

static int xp_try_eaccept(struct xp_ethread *t, const struct xp_eop *op)
{
	uint64_t lin = xp_page_lin(t->env, op->page), slot;
	uint64_t flags = op->kind == XP_EOP_EACCEPT_AUTO ?
		xp_auto_flags(t, lin) : op->arg;
	struct sgx_lp *lp = xp_lp(t);
	bool untracked;
	int ret = xp_put_secinfo(t, flags, &slot);

	if (ret)
		return ret;
	if (!xp_yield_inside(t))
		return XP_AEXED;
	untracked = xp_untracked_change(lp, lin);
	ret = enclu_eaccept(lp, slot, lin);
	if (!ret)
		xp_accepted(t, op, flags, lin, untracked);
	return ret;
}

static int xp_try_eacceptcopy(struct xp_ethread *t, const struct xp_eop *op)
{
	struct xp_env *env = t->env;
	uint64_t lin = xp_page_lin(env, op->page), slot;
	int ret = xp_put_secinfo(t, op->arg, &slot);

	if (ret)
		return ret;
	if (!xp_yield_inside(t))
		return XP_AEXED;
	ret = enclu_eacceptcopy(xp_lp(t), slot, lin, xp_copy_lin(env));
	if (ret)
		return ret;
	env->accepted[op->page] = true;
	env->known[op->page] = true;
	for (unsigned int s = 0; s < XP_SLOTS; s++)
		env->shadow[op->page][s] = xp_slot_pattern(XP_PAGES_MAX, s);
	return 0;
}

static int xp_try_emodpe(struct xp_ethread *t, const struct xp_eop *op)
{
	uint64_t lin = xp_page_lin(t->env, op->page), slot;
	int ret = xp_put_secinfo(t, op->arg, &slot);

	if (ret)
		return ret;
	if (!xp_yield_inside(t))
		return XP_AEXED;
	ret = enclu_emodpe(xp_lp(t), slot, lin);
	if (!ret)
		t->env->extended[op->page] = true;
	return ret;
}

static int xp_try_eexit(struct xp_ethread *t, const struct xp_eop *op)
{
	(void)op;
	if (!xp_yield_inside(t))
		return XP_AEXED;
	return enclu_eexit(xp_lp(t), XP_AEP);
}

static xp_try_fn xp_try_of(enum xp_eop_kind kind)
{
	switch (kind) {
	case XP_EOP_ENTER:
		return xp_try_eenter;
	case XP_EOP_EXIT:
		return xp_try_eexit;
	case XP_EOP_READ:
		return xp_try_read;
	case XP_EOP_WRITE:
		return xp_try_write;
	case XP_EOP_EACCEPT:
	case XP_EOP_EACCEPT_AUTO:
		return xp_try_eaccept;
	case XP_EOP_EACCEPTCOPY:
		return xp_try_eacceptcopy;
	case XP_EOP_EMODPE:
		return xp_try_emodpe;
	default:
		return NULL;
	}
}

/* One try: EENTER from outside, everything else from inside. */
static enum xp_outcome xp_ethread_try(struct xp_ethread *t,
				      const struct xp_eop *op)
{
	struct xp_fault f;
	int ret;

	if (op->kind == XP_EOP_ENTER) {
		ASSERT(!t->inside); /* a scenario's program enters once */
		t->tcs = xp_tcs_lin(t->env, (unsigned int)op->arg);
	} else if (!xp_ethread_inside(t)) {
		return XP_OUT_OUTSIDE;
	}
	ret = xp_ethread_run(t, xp_try_of(op->kind), op, &f);
	if (!ret && !f.raised)
		t->inside = op->kind != XP_EOP_EXIT;
	return xp_outcome_of(ret, &f);
}

static const char *xp_eop_name(enum xp_eop_kind kind)
{
	static const char *const names[] = {
		[XP_EOP_ENTER] = "EENTER",
		[XP_EOP_EXIT] = "EEXIT",
		[XP_EOP_READ] = "read",
		[XP_EOP_WRITE] = "write",
		[XP_EOP_EACCEPT] = "EACCEPT",
		[XP_EOP_EACCEPT_AUTO] = "EACCEPT",
		[XP_EOP_EACCEPTCOPY] = "EACCEPTCOPY",
		[XP_EOP_EMODPE] = "EMODPE",
	};

	return kind < ARRAY_SIZE(names) && names[kind] ? names[kind] : "?";
}

/* Tries until success or op->tries; each outcome must be allowed. */
static void xp_ethread_op(struct xp_ethread *t, const struct xp_eop *op)
{
	unsigned int tries = op->tries ? op->tries : 1;
	uint32_t allow = op->allow ? op->allow : XP_OUT_OK;

	for (unsigned int i = 0; i < tries; i++) {
		enum xp_outcome out = xp_ethread_try(t, op);

		if (!(out & allow))
			xp_violation(t->env, "%s: %s of page %u: %s", t->name,
				     xp_eop_name(op->kind), op->page,
				     xp_outcome_name(out));
		if (out == XP_OUT_OK || out == XP_OUT_OUTSIDE)
			return;
	}
}

/* Leave the enclave if the program did not: a thread ends outside. */
static void xp_ethread_leave(struct xp_ethread *t)
{
	struct sgx_lp *lp = xp_lp(t);
	struct xp_env *env = t->env;

	if (lp->enclave_mode)
		enclu_eexit(lp, XP_AEP);
	t->inside = false;
	if (env->driver && t->mm)
		sgx_mm_deactivate(t->mm, lp);
}

/*
 * An interrupt takes the LP out of the enclave, if it is inside, and the
 * scheduler switches the thread's mm off it (the thread stays inside: it
 * ERESUMEs when it runs again). MODEL: a migration or a process exit is
 * one step of the thread's own, at a preemption point of its program: the
 * interrupt's AEX, the switch off the old LP and onto the new one (or the
 * exit) happen together, and mm_cpumask loses the old LP at once, as x86's
 * switch_mm_irqs_off() clears it.
 */
static void xp_ethread_switch_out(struct xp_ethread *t)
{
	struct sgx_lp *lp = xp_lp(t);

	if (lp->enclave_mode)
		sgx_aex(lp, NULL);
	if (t->env->driver && t->mm)
		sgx_mm_deactivate(t->mm, lp);
}

/* XP_EOP_MIGRATE: from now on the thread runs on LP op->arg. */
static void xp_ethread_migrate(struct xp_ethread *t, const struct xp_eop *op)
{
	struct xp_world *w = t->env->w;

	xp_yield(t);
	xp_ethread_switch_out(t);
	t->lp = (unsigned int)op->arg;
	sim_current(&w->sim)->lp = xp_lp(t);
	if (t->env->driver && t->mm)
		sgx_mm_activate(t->mm, xp_lp(t));
}

/*
 * XP_EOP_MM_EXIT: the process exits under the thread (a fork's child): its
 * mm goes, which takes it off the enclave's mm_list.
 */
static void xp_ethread_mm_exit(struct xp_ethread *t)
{
	struct xp_env *env = t->env;

	ASSERT(env->driver && t->mm); /* a driver scenario's process */
	xp_yield(t);
	xp_ethread_switch_out(t);
	t->inside = false;
	t->dead = true;
	if (t->mm == env->fork_mm)
		env->fork_mm = NULL;
	sgx_mm_destroy(t->mm);
	t->mm = NULL;
}

static void xp_ethread_main(void *arg)
{
	struct xp_ethread *t = arg;
	struct xp_env *env = t->env;

	if (env->driver)
		sgx_mm_activate(t->mm, xp_lp(t));
	for (t->op = 0; t->ops[t->op].kind != XP_EOP_END; t->op++) {
		const struct xp_eop *op = &t->ops[t->op];

		if (op->kind == XP_EOP_MM_EXIT) {
			xp_ethread_mm_exit(t);
			return;
		}
		if (op->kind == XP_EOP_MIGRATE) {
			xp_ethread_migrate(t, op);
		} else if (op->kind == XP_EOP_WAIT) {
			xp_env_wait(env, &env->flags[op->arg], NULL, 0);
		} else if (op->kind == XP_EOP_SIGNAL) {
			env->flags[op->arg] = true;
			xp_env_wake(env);
		} else {
			xp_ethread_op(t, op);
		}
	}
	xp_ethread_leave(t);
}

/**
 * xp_ethread_spawn() - start an enclave thread running ops on LP lp.
 * @env: the execution
 * @name: its name in traces and violations (a string constant)
 * @lp: its LP, which no other thread uses
 * @ops: its program, ended by XP_EOP_END; it must outlive the run
 *
 * Return: 0, -ENOSPC for too many threads, or sim_spawn()'s error.
 */
int xp_ethread_spawn(struct xp_env *env, const char *name, unsigned int lp,
		     const struct xp_eop *ops)
{
	struct xp_ethread *t;

	if (env->nr_ethreads == XP_ETHREADS_MAX)
		return -ENOSPC;
	unsigned int id = env->w->sim.nr_threads;
	int ret;

	t = &env->ethreads[env->nr_ethreads++];
	*t = (struct xp_ethread){ .env = env, .name = name, .lp = lp,
				  .mm = env->w->mm, .ops = ops };
	ret = xp_env_spawn(env, name, lp, xp_ethread_main, t);
	if (!ret)
		env->w->user_threads |= 1U << id;
	return ret;
}
