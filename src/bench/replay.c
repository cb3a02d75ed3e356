// SPDX-License-Identifier: MIT
/*
 * The trace replay (replay.h). One machine per recorded enclave; the
 * replayed enclave by page number from its base, S the recorded size:
 *   0 .. S-1              the recorded pages, added as recorded
 *   S .. S + 4T - 1       four SSA frames for each of the T recorded TCSs:
 *                         the added ones, then those MODIFY_TYPES makes
 *   S + 4T                the OP page: entry point and EACCEPT's SECINFO
 */
#include "bench/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "sgxemu/uapi.h"

#define SSA_PER_TCS 4
#define SECINFO_RWX (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | \
		     SGX_SECINFO_W | SGX_SECINFO_X)

struct replay {
	const struct trace *t;
	unsigned int encl; /* the enclave being replayed */
	struct bench_point p;
	struct bench_machine m;
	uint64_t s_pages, nr_tcs; /* recorded pages; TCSs added or made */
	uint64_t tcs_next; /* the next TCS's SSA frames */
	uint64_t tcs0; /* the first added TCS's offset; S: none */
	uint64_t op; /* the OP page's address */
	uint64_t *want; /* per recorded page: EACCEPT's SECINFO; 0: none */
	uint64_t tcs[SGX_LPS_MAX]; /* the TCS each LP last entered on */
	/* The thread on TCS t replays on LP i >= 1 where tcs_of_lp[i] is t. */
	uint64_t tcs_of_lp[SGX_LPS_MAX];
	unsigned int nr_tcs_lps;
	/* Per recorded LP: the TCS offset it last entered on, plus 1; 0 none. */
	uint64_t rec_tcs[TRACE_LPS_MAX];
	struct replay_result *r;
};

const char *replay_call_name(enum replay_call k)
{
	static const char *const names[] = { "restrict", "modt", "remove" };

	return k < RC_KINDS ? names[k] : "?";
}

uint64_t replay_bucket_min(unsigned int bucket)
{
	static const uint64_t min[REPLAY_SIZE_BUCKETS] = {
		1, 2, 16, 256, 4096, 65536,
	};

	return bucket < REPLAY_SIZE_BUCKETS ? min[bucket] : 0;
}

static unsigned int bucket_of(uint64_t pages)
{
	unsigned int b = 0;

	while (b + 1 < REPLAY_SIZE_BUCKETS && pages >= replay_bucket_min(b + 1))
		b++;
	return b;
}

static bool is_tcs(uint64_t flags)
{
	return (flags & SGX_SECINFO_PAGE_TYPE_MASK) == SGX_SECINFO_TYPE(PT_TCS);
}

static bool mine(const struct replay *x, const struct trace_event *ev)
{
	return ev->kind != TR_EWB && ev->kind != TR_ELDU &&
	       ev->encl == x->encl;
}

static bool added(const struct trace_event *ev)
{
	return ev->kind == TR_ADD && !ev->ret && ev->count == ev->length;
}

static void diverged(struct replay *x, const struct trace_event *ev)
{
	if (!x->r->divergences++)
		x->r->first_divergence = ev->line;
}

static uint64_t lin(const struct replay *x, uint64_t offset)
{
	return x->m.base + offset;
}

/* ---- Building the recorded enclave -------------------------------------- */

/* The EPC the enclave can ever hold: its adds, its EAUGs, the replay's. */
static uint64_t pages_needed(struct replay *x)
{
	uint64_t pages = x->nr_tcs * SSA_PER_TCS + 1;


	for (size_t i = 0; i < x->t->n; i++) {
		const struct trace_event *ev = &x->t->ev[i];

		if (!mine(x, ev))
			continue;
		if (added(ev))
			pages += ev->length / PAGE_SIZE;
		pages += ev->kind == TR_EAUG;
	}
	return pages;
}

/* Every successful add, in order, then the replay's own pages. */
static struct bench_run *runs_of(struct replay *x, unsigned int *n)
{
	struct bench_run *runs = calloc(x->t->n + 1, sizeof(*runs));

	*n = 0;
	for (size_t i = 0; runs && i < x->t->n; i++) {
		const struct trace_event *ev = &x->t->ev[i];

		if (mine(x, ev) && added(ev))
			runs[(*n)++] = (struct bench_run){
				.first = ev->offset / PAGE_SIZE,
				.pages = ev->length / PAGE_SIZE,
				.flags = is_tcs(ev->arg) ?
						 SGX_SECINFO_TYPE(PT_TCS) :
						 SECINFO_RWX,
			};
	}
	if (runs)
		runs[(*n)++] = (struct bench_run){
			.first = x->s_pages,
			.pages = x->nr_tcs * SSA_PER_TCS + 1,
			.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
				 SGX_SECINFO_W,
		};
	return runs;
}

/* The next TCS: its own SSA frames, the replay's entry point. */
static void tcs_image(struct replay *x, uint8_t *page)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)page;

	memset(page, 0, PAGE_SIZE);
	tcs->ssa_offset = (x->s_pages + x->tcs_next++ * SSA_PER_TCS) *
			  PAGE_SIZE;
	tcs->nr_ssa_frames = SSA_PER_TCS;
	tcs->entry_offset = x->op - x->m.base;
	tcs->fs_limit = 0xFFFFFFFF;
	tcs->gs_limit = 0xFFFFFFFF;
}

/* One run's pages: zero, or TCSs. */
static long add_run(struct replay *x, const struct bench_run *run,
		    uint8_t *page)
{
	for (uint64_t i = 0; i < run->pages; i++) {
		long ret;

		memset(page, 0, PAGE_SIZE);
		if (is_tcs(run->flags))
			tcs_image(x, page);
		ret = bench_add_pages(&x->m, page, run->first + i, 1,
				      run->flags);
		if (ret)
			return ret;
	}
	return 0;
}

static long create_and_add(struct replay *x, const struct bench_run *runs,
			   unsigned int n)
{
	struct sgx_secs secs = {
		.base = x->m.base, .size = x->m.size, .ssa_frame_size = 1,
		.attributes = SGX_ATTR_MODE64BIT, .xfrm = 3,
	};
	struct sgx_enclave_create create = { .src = (uintptr_t)&secs };
	uint8_t *page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	long ret = page ? bench_ioctl(&x->m, SGX_IOC_ENCLAVE_CREATE, &create) :
			  -ENOMEM;

	for (unsigned int i = 0; !ret && i < n; i++)
		ret = add_run(x, &runs[i], page);
	free(page);
	return ret;
}

/* ECREATE, the adds, EINIT, the mapping, every added page faulted in. */
static int build(struct replay *x)
{
	struct sgx_sigstruct *sig = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	struct sgx_enclave_init init = { .sigstruct = (uintptr_t)sig };
	unsigned int n = 0;
	struct bench_run *runs = runs_of(x, &n);
	long ret = sig && runs ? bench_sign(x->m.size, runs, n, sig) : -ENOMEM;

	if (!ret)
		ret = create_and_add(x, runs, n);
	if (!ret)
		ret = bench_ioctl(&x->m, SGX_IOC_ENCLAVE_INIT, &init);
	if (!ret)
		ret = sgx_mmap(x->m.file, x->m.mm, x->m.base, x->m.size,
			       SGX_PROT_READ | SGX_PROT_WRITE,
			       SGX_MAP_SHARED | SGX_MAP_FIXED);
	for (unsigned int i = 0; !ret && i < n; i++)
		for (uint64_t p = 0; !ret && p < runs[i].pages; p++)
			if (sgx_user_fault(x->m.mm,
					   lin(x, (runs[i].first + p) * PAGE_SIZE),
					   X86_PF_USER) != SGX_FAULT_FIXED)
				ret = -EIO;
	free(sig);
	free(runs);
	return ret ? -EIO : 0;
}

/* ---- The threads -------------------------------------------------------- */

/* The LP of the thread on the TCS at offset tcs, which runs the mm. */
static struct sgx_lp *tcs_lp(struct replay *x, uint64_t tcs)
{
	unsigned int i = 1;
	struct sgx_lp *lp;

	while (i <= x->nr_tcs_lps && x->tcs_of_lp[i] != tcs)
		i++;
	if (i > x->nr_tcs_lps) {
		if (i >= x->m.cpu.cfg.nr_lps)
			return NULL;
		x->tcs_of_lp[i] = tcs;
		x->nr_tcs_lps = i;
	}
	lp = &x->m.cpu.lps[i];
	sgx_mm_activate(x->m.mm, lp);
	return lp;
}

/*
 * An event's LP: that of the thread on the TCS its recorded LP last
 * entered on (see replay.h); NULL if that LP entered on none.
 */
static struct sgx_lp *lp_of(struct replay *x, const struct trace_event *ev)
{
	if (ev->kind == TR_EENTER || ev->kind == TR_ERESUME)
		x->rec_tcs[ev->lp] = ev->offset + 1;
	return x->rec_tcs[ev->lp] ? tcs_lp(x, x->rec_tcs[ev->lp] - 1) : NULL;
}

/* The TCS the recorded LP of ev enters on next, plus 1; 0: none. */
static uint64_t next_tcs(const struct replay *x, const struct trace_event *ev)
{
	for (size_t i = (size_t)(ev - x->t->ev); i < x->t->n; i++) {
		const struct trace_event *e = &x->t->ev[i];

		if (mine(x, e) && e->lp == ev->lp &&
		    (e->kind == TR_EENTER || e->kind == TR_ERESUME))
			return e->offset + 1;
	}
	return 0;
}

/*
 * A call's LP: its thread's if that is outside (the thread of the TCS its
 * recorded LP entered on last, or will enter on next), else LP 0.
 */
static struct sgx_lp *caller_lp(struct replay *x, const struct trace_event *ev)
{
	uint64_t tcs = x->rec_tcs[ev->lp] ? x->rec_tcs[ev->lp] : next_tcs(x, ev);
	struct sgx_lp *lp = tcs ? tcs_lp(x, tcs - 1) : NULL;

	if (!lp || lp->enclave_mode)
		lp = &x->m.cpu.lps[0];
	sgx_mm_activate(x->m.mm, lp);
	return lp;
}

/* An IPI's AEX: straight back in, as the recorded runtime's AEP does. */
static void resume_thread(void *ctx, const struct sgx_lp *lp, bool aex)
{
	struct replay *x = ctx;

	if (aex)
		ASSERT(!enclu_eresume(&x->m.cpu.lps[lp->id], x->tcs[lp->id],
				      BENCH_AEP));
}

/*
 * The kernel's fault path for a thread's fault at lin, on the thread's LP
 * (priced on its clock), which the fault's AEX took out of enclave mode.
 * MODEL: a trace that says a thread faulted while the replay has it
 * inside (its AEX not on record) gets that AEX here.
 */
static enum sgx_fault_result fault_on(struct replay *x, struct sgx_lp *lp,
				      uint64_t lin)
{
	enum sgx_fault_result fr;

	if (lp->enclave_mode)
		sgx_aex(lp, NULL);
	sgx_mm_activate(x->m.mm, lp);
	x->m.sim.direct_lp = lp->id;
	fr = sgx_user_fault(x->m.mm, lin, X86_PF_USER | X86_PF_WRITE);
	x->m.sim.direct_lp = 0;
	return fr;
}

/*
 * A leaf that faulted. A #PF takes the kernel's fault path, as the runner
 * takes it after the AEX (an absent heap page gets its EAUG here, the
 * recorded eaug line then finds it mapped); the recorded thread retries,
 * and so do the recorded lines. Any other fault is the replay's own, which
 * the recorded lines do not follow: a divergence, and a thread that was
 * inside goes straight back in, so that it keeps the recorded thread's
 * SSA frames.
 */
static void handle_fault(struct replay *x, struct sgx_lp *lp,
			 const struct trace_event *ev, int ret, bool inside)
{
	if (!sgx_faulted(ret))
		return;
	if (lp->exc.vector == X86_TRAP_PF) {
		(void)fault_on(x, lp, lp->exc.addr);
		return;
	}
	diverged(x, ev);
	if (inside && !lp->enclave_mode)
		(void)enclu_eresume(lp, x->tcs[lp->id], BENCH_AEP);
}

static void enter(struct replay *x, const struct trace_event *ev)
{
	struct sgx_lp *lp = lp_of(x, ev);
	uint64_t tcs = lin(x, ev->offset);
	int ret;

	if (!lp) {
		diverged(x, ev); /* more TCSs than LPs (--cpus) */
		return;
	}
	if (lp->enclave_mode)
		return; /* the recorded thread was inside already */
	ret = ev->kind == TR_EENTER ? enclu_eenter(lp, tcs, BENCH_AEP) :
				      enclu_eresume(lp, tcs, BENCH_AEP);
	handle_fault(x, lp, ev, ret, false);
	if (!ret)
		x->tcs[lp->id] = tcs;
	else if (!sgx_faulted(ret))
		diverged(x, ev);
}

static void accept(struct replay *x, const struct trace_event *ev)
{
	struct sgx_lp *lp = lp_of(x, ev);
	uint64_t page = ev->offset / PAGE_SIZE;
	struct sgx_secinfo si = { .flags = x->want[page] };
	int ret;

	if (!lp || !lp->enclave_mode)
		return;
	if (!si.flags) /* nothing pending: no fault, but an error code */
		si.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
			   SGX_SECINFO_PR;
	x->r->eaccepts++;
	if (ev->kind == TR_EACCEPTCOPY)
		si.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
			   SGX_SECINFO_W;
	if (sgx_lp_write(lp, x->op, &si, sizeof(si)))
		return;
	ret = ev->kind == TR_EACCEPTCOPY ?
		      enclu_eacceptcopy(lp, x->op, lin(x, ev->offset), x->op) :
		      enclu_eaccept(lp, x->op, lin(x, ev->offset));
	handle_fault(x, lp, ev, ret, true);
	if (!ret)
		x->want[page] = 0;
}

static void thread_event(struct replay *x, const struct trace_event *ev)
{
	struct sgx_lp *lp = ev->kind == TR_EENTER || ev->kind == TR_ERESUME ?
				    NULL : lp_of(x, ev);

	switch (ev->kind) {
	case TR_EENTER:
	case TR_ERESUME:
		enter(x, ev);
		break;
	case TR_EEXIT:
		if (lp && lp->enclave_mode)
			ASSERT(!enclu_eexit(lp, BENCH_AEP));
		break;
	case TR_AEX:
		if (!ev->ipi && lp && lp->enclave_mode)
			sgx_aex(lp, NULL);
		break;
	case TR_EACCEPT:
	case TR_EACCEPTCOPY:
		accept(x, ev);
		break;
	default: /* EMODPE: counted by the trace, see replay.h */
		break;
	}
}

/* ---- The EDMM calls ----------------------------------------------------- */

static long call(struct replay *x, const struct trace_event *ev,
		 uint64_t *count)
{
	union {
		struct sgx_enclave_restrict_permissions rp;
		struct sgx_enclave_modify_types mt;
		struct sgx_enclave_remove_pages rm;
	} a;
	long ret;

	memset(&a, 0, sizeof(a));
	if (ev->kind == TR_RESTRICT) {
		a.rp = (struct sgx_enclave_restrict_permissions){
			.offset = ev->offset, .length = ev->length,
			.permissions = ev->arg,
		};
		ret = bench_ioctl(&x->m, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS,
				  &a.rp);
		*count = a.rp.count;
	} else if (ev->kind == TR_MODT) {
		a.mt = (struct sgx_enclave_modify_types){
			.offset = ev->offset, .length = ev->length,
			.page_type = ev->arg,
		};
		ret = bench_ioctl(&x->m, SGX_IOC_ENCLAVE_MODIFY_TYPES, &a.mt);
		*count = a.mt.count;
	} else {
		a.rm = (struct sgx_enclave_remove_pages){
			.offset = ev->offset, .length = ev->length,
		};
		ret = bench_ioctl(&x->m, SGX_IOC_ENCLAVE_REMOVE_PAGES, &a.rm);
		*count = a.rm.count;
	}
	return ret;
}

/* What EACCEPT must say for the pages the call changed. */
static void changed(struct replay *x, const struct trace_event *ev,
		    uint64_t count)
{
	uint64_t first = ev->offset / PAGE_SIZE;
	uint64_t flags = ev->kind == TR_RESTRICT ?
				 SGX_SECINFO_TYPE(PT_REG) | ev->arg |
					 SGX_SECINFO_PR :
				 SGX_SECINFO_TYPE(ev->arg) | SGX_SECINFO_MODIFIED;

	for (uint64_t i = 0; i < count / PAGE_SIZE; i++)
		x->want[first + i] = ev->kind == TR_REMOVE ? 0 : flags;
}

/* The LPs in enclave mode, and the cycles of all but the caller's. */
static unsigned int threads_inside(const struct replay *x)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < x->m.cpu.cfg.nr_lps; i++)
		n += x->m.cpu.lps[i].enclave_mode;
	return n;
}

static uint64_t others_cycles(const struct replay *x,
			      const struct sgx_lp *caller)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < x->m.cpu.cfg.nr_lps; i++)
		sum += i == caller->id ? 0 : x->m.sim.clock[i];
	return sum;
}

/*
 * Before a MODIFY_TYPES to TCS: what the recorded enclave wrote into the
 * pages, a TCS image, written from inside on the caller's LP (between
 * calls, so no call's figures change).
 */
static void write_tcs_images(struct replay *x, struct sgx_lp *lp,
			     const struct trace_event *ev)
{
	uint8_t *page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	if (page && x->tcs0 < x->s_pages * PAGE_SIZE &&
	    !enclu_eenter(lp, lin(x, x->tcs0), BENCH_AEP)) {
		for (uint64_t i = 0; i < ev->count / PAGE_SIZE; i++) {
			tcs_image(x, page);
			/* A write that faults took the LP out (AEX). */
			if (sgx_lp_write(lp, lin(x, ev->offset + i * PAGE_SIZE),
					 page, PAGE_SIZE)) {
				diverged(x, ev);
				break;
			}
		}
		if (lp->enclave_mode)
			ASSERT(!enclu_eexit(lp, BENCH_AEP));
	}
	free(page);
}

static bool makes_tcs(const struct trace_event *ev)
{
	return ev->kind == TR_MODT && ev->arg == PT_TCS && !ev->ret;
}

static void edmm_call(struct replay *x, const struct trace_event *ev)
{
	enum replay_call k = ev->kind == TR_RESTRICT ? RC_RESTRICT :
			     ev->kind == TR_MODT ? RC_MODT : RC_REMOVE;
	struct bench_point lim = x->p;
	struct sgx_lp *lp = caller_lp(x, ev);
	uint64_t start, others, count = 0, latency;
	long ret;

	lim.pages = ev->length / PAGE_SIZE;
	lim.threads = threads_inside(x);
	lim.op = k == RC_MODT ? BENCH_TRIM : BENCH_RESTRICT;
	if (makes_tcs(ev))
		write_tcs_images(x, lp, ev);
	start = x->m.sim.clock[lp->id];
	others = others_cycles(x, lp);
	x->m.sim.direct_lp = lp->id;
	ret = call(x, ev, &count);
	x->m.sim.direct_lp = 0;
	if (!lp->id) /* a thread of no TCS yet: its CPU leaves the mm */
		sgx_mm_deactivate(x->m.mm, lp);
	latency = x->m.sim.clock[lp->id] - start;
	x->r->lost_cycles += others_cycles(x, lp) - others;
	if (ret != ev->ret || count != ev->count)
		diverged(x, ev);
	changed(x, ev, count);
	x->r->calls[k]++;
	x->r->pages[k] += lim.pages;
	x->r->latency[k] += latency;
	if (lim.pages)
		x->r->size_hist[bucket_of(lim.pages)]++;
	if (k != RC_REMOVE && !ev->ret) {
		x->r->tracked_latency += latency;
		x->r->tracked_limit += bench_limit(&lim);
	}
}

/* ---- One enclave -------------------------------------------------------- */

static void event(struct replay *x, const struct trace_event *ev)
{
	struct sgx_lp *lp;

	switch (ev->kind) {
	case TR_CREATE:
	case TR_ADD:
	case TR_INIT:
		break;
	case TR_RESTRICT:
	case TR_MODT:
	case TR_REMOVE:
		edmm_call(x, ev);
		break;
	case TR_EAUG:
		lp = lp_of(x, ev);
		if (fault_on(x, lp ? lp : &x->m.cpu.lps[0], lin(x, ev->offset)) !=
		    SGX_FAULT_FIXED)
			diverged(x, ev);
		else
			x->want[ev->offset / PAGE_SIZE] =
				SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
				SGX_SECINFO_W | SGX_SECINFO_PENDING;
		break;
	default:
		thread_event(x, ev);
	}
}

/* The counters since s0, e0 and c0: the replay, not the build. */
static void measure(struct replay *x, const struct sgx_encl_stats *e0,
		    const struct sim_stats *s0, const struct sgx_arch_stats *c0)
{
	const struct sgx_encl_stats *e = sgx_file_stats(x->m.file);
	const struct sgx_arch_stats *c = &x->m.cpu.stats;
	struct replay_result *r = x->r;

	r->etrack_flows += e->etrack_flows - e0->etrack_flows;
	r->aex_inflicted += e->ipi_aex - e0->ipi_aex;
	r->ipi_rounds += x->m.sim.stats.ipi_rounds - s0->ipi_rounds;
	r->ipis += x->m.sim.stats.ipis - s0->ipis;
	r->etracks += c->encls[ETRACK] - c0->encls[ETRACK];
	r->eaugs += c->encls[EAUG] - c0->encls[EAUG];
}

static void replay_events(struct replay *x)
{
	const struct sgx_encl_stats e0 = *sgx_file_stats(x->m.file);
	const struct sim_stats s0 = x->m.sim.stats;
	const struct sgx_arch_stats c0 = x->m.cpu.stats;

	/* The build's LP runs the mm again only if the trace uses it. */
	sgx_mm_deactivate(x->m.mm, &x->m.cpu.lps[0]);
	x->m.sim.hooks = (struct sim_hooks){ .ctx = x, .ipi = resume_thread };
	ASSERT(!sim_set_costs(&x->m.sim, &x->p.costs));
	for (size_t i = 0; i < x->t->n; i++)
		if (mine(x, &x->t->ev[i]))
			event(x, &x->t->ev[i]);
	measure(x, &e0, &s0, &c0);
}

static int replay_encl(struct replay *x)
{
	int ret;

	x->s_pages = x->t->encls[x->encl].size / PAGE_SIZE;
	x->nr_tcs = 0;
	x->tcs_next = 0;
	x->tcs0 = x->s_pages * PAGE_SIZE;
	x->nr_tcs_lps = 0;
	memset(x->rec_tcs, 0, sizeof(x->rec_tcs));
	for (size_t i = 0; i < x->t->n; i++) {
		const struct trace_event *ev = &x->t->ev[i];

		if (mine(x, ev) && added(ev) && is_tcs(ev->arg)) {
			if (!x->nr_tcs)
				x->tcs0 = ev->offset;
			x->nr_tcs += ev->length / PAGE_SIZE;
		}
		if (mine(x, ev) && makes_tcs(ev))
			x->nr_tcs += ev->count / PAGE_SIZE;
	}
	memset(&x->m, 0, sizeof(x->m));
	x->m.size = bench_elrange_size(x->s_pages + x->nr_tcs * SSA_PER_TCS + 1);
	x->m.base = x->m.size > (1ULL << 32) ? x->m.size : 1ULL << 32;
	x->op = lin(x, (x->s_pages + x->nr_tcs * SSA_PER_TCS) * PAGE_SIZE);
	x->want = calloc(x->s_pages, sizeof(*x->want));
	ret = x->want ? bench_machine_boot(&x->m, &x->p,
					   bench_epc_pages(pages_needed(x))) :
			-ENOMEM;
	if (!ret)
		ret = build(x);
	if (!ret)
		replay_events(x);
	for (unsigned int i = 0; x->m.cpu_up && i < x->m.cpu.cfg.nr_lps; i++)
		while (x->m.cpu.lps[i].enclave_mode)
			ASSERT(!enclu_eexit(&x->m.cpu.lps[i], BENCH_AEP));
	bench_machine_down(&x->m);
	free(x->want);
	return ret;
}

/* LP 0 and one per TCS entered, in the enclave that enters the most. */
static unsigned int lps_needed(const struct trace *t)
{
	unsigned int most = 0;

	for (size_t e = 0; e < t->nr_encls; e++) {
		uint64_t tcs[BENCH_CPUS_MAX];
		unsigned int n = 0, j;

		for (size_t i = 0; i < t->n; i++) {
			const struct trace_event *ev = &t->ev[i];

			if (ev->encl != e || (ev->kind != TR_EENTER &&
					      ev->kind != TR_ERESUME))
				continue;
			for (j = 0; j < n && tcs[j] != ev->offset; j++)
				;
			if (j == n && n < BENCH_CPUS_MAX)
				tcs[n++] = ev->offset;
		}
		most = n > most ? n : most;
	}
	return most + 1;
}

/* See replay.h: EWB and ELDU counted and priced, batches of EWBs tracked. */
static void price_reclaim(const struct trace *t, const struct sgx_costs *c,
			  struct replay_result *r)
{
	unsigned int batch = 0; /* EWBs in the current batch */

	for (size_t i = 0; i < t->n; i++) {
		const struct trace_event *ev = &t->ev[i];

		if (ev->kind != TR_EWB) {
			batch = 0;
			r->eldus += ev->kind == TR_ELDU;
			continue;
		}
		if (i && t->ev[i - 1].pid != ev->pid)
			batch = 0;
		r->ewbs++;
		if (!batch++)
			r->reclaim_etracks++;
		if (batch == SGX_NR_TO_SCAN)
			batch = 0;
	}
	r->reclaim_cycles = r->ewbs * (c->encls[EBLOCK] + c->encls[EWB]) +
			    r->eldus * c->encls[ELDU] +
			    r->reclaim_etracks * c->encls[ETRACK];
}

int replay_run(const struct trace *t, const struct replay_config *cfg,
	       struct replay_result *r)
{
	unsigned int need = lps_needed(t);
	struct replay *x;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->cpus = cfg->cpus ? cfg->cpus : need;
	if (r->cpus < need || r->cpus > BENCH_CPUS_MAX)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->t = t;
	x->r = r;
	x->p = (struct bench_point){
		.pages = 1, .cpus = r->cpus,
		.etrack_batch = cfg->etrack_batch,
		.no_loop_checks = cfg->no_loop_checks, .costs = cfg->costs,
	};
	price_reclaim(t, &cfg->costs, r);
	for (x->encl = 0; !ret && x->encl < t->nr_encls; x->encl++)
		ret = replay_encl(x);
	free(x);
	return ret;
}
