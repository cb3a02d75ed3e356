// SPDX-License-Identifier: MIT
/*
 * One ETRACK per range (architecture.md section 5, docs/BATCHED-ETRACK.md):
 * RESTRICT_PERMISSIONS and MODIFY_TYPES with etrack_batch 1 (Linux 6.12),
 * N and 0 (once per call).
 *
 * - Event counts: a batch is one ETRACK flow and one IPI round, so an LP
 *   running the enclave takes one IPI-induced AEX per call with batch 0
 *   and one per page with batch 1.
 * - The count contract under every early exit (an EMODPR error, a page
 *   that cannot be loaded, a signal, an injected ELDU failure or exhausted
 *   EPC, a failed ETRACK, SECS evicted in between): every page before
 *   offset + count is modified and tracked, pages after it are untouched
 *   unless tracking itself failed, and a retry from offset + count
 *   completes once the fault is gone.
 * - MODIFY_TYPES remembers an untracked EMODT: a repeat call only tracks.
 * - The windows between pages: early EACCEPT, EAUG faults, the reclaimer,
 *   close.
 * - With -DSGXEMU_PLANTS (test_k_batch_plants): each naive-batch plant
 *   breaks the contract.
 *
 * The tests choose the batch themselves (kfx_config.pin_batch); the window
 * between pages is reached with the driver's test hook drv.inject.edmm_page.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel/encl.h"
#include "kfixture.h"

#define R SGX_SECINFO_R
#define W SGX_SECINFO_W
#define REG SGX_SECINFO_TYPE(PT_REG)
#define ACCEPT_R (R | REG | SGX_SECINFO_PR)
#define ACCEPT_TRIM (SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED)
#define ACCEPT_AUG (R | W | REG | SGX_SECINFO_PENDING)

#define HEAP_PAGES 8
#define LOOPS_MAX 10000
/* The early-exit range: LEN pages, the first failing one at index K. */
#define K 5
#define LEN 7
#define OFF_IN (KFX_HEAP + 1 * PAGE_SIZE) /* page K: heap + 6 */
#define OFF_END (KFX_HEAP + 3 * PAGE_SIZE) /* page K: heap + 8, a hole */

static const unsigned int batches[] = { 1, 2, 7, 0 };
#define NR_BATCHES (sizeof(batches) / sizeof(batches[0]))

static struct kfx fx;

static void setup_batch(unsigned int batch, uint64_t heap_pages)
{
	struct kfx_config cfg = {
		.heap_size = heap_pages * PAGE_SIZE,
		.pin_batch = true,
		.etrack_batch = batch,
	};

	kfx_init(&fx, &cfg);
	kfx_build(&fx);
	cr_assert_eq(kfx_batch(&fx), batch);
}

static void finish(void)
{
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/* --- the window between pages -------------------------------------------- */

static struct {
	uint64_t at; /* page index of the call */
	void (*fn)(void); /* one shot */
} win;

static void window_hook(struct sgx_encl *encl, uint64_t index, void *arg)
{
	void (*fn)(void) = win.fn;

	if (fn && index == win.at) {
		win.fn = NULL;
		fn();
	}
}

/* Run fn in the window before page index at of the next call. */
static void at_page(uint64_t at, void (*fn)(void))
{
	win.at = at;
	win.fn = fn;
	fx.drv.inject.edmm_page = window_hook;
}

/* Reclaim batch after batch until nothing reclaimable is left: SECS too. */
static void evict_all(void)
{
	unsigned int loops = 0;

	while (!list_empty(&fx.drv.active_page_list)) {
		cr_assert_lt(loops++, LOOPS_MAX);
		sgx_reclaim_pages(&fx.drv);
	}
	cr_assert_null(fx.encl->secs.epc_page);
}

/* --- the calls, each from a sim thread on LP 0 (so signals work) --------- */

struct call {
	unsigned int cmd;
	uint64_t offset, length, arg; /* arg: permissions or page type */
	long ret;
	uint64_t count, result;
};

static void call_thread(void *p)
{
	struct call *c = p;

	if (c->cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS)
		c->ret = kfx_restrict(&fx, c->offset, c->length, c->arg,
				      &c->count, &c->result);
	else
		c->ret = kfx_modify_types(&fx, c->offset, c->length, c->arg,
					  &c->count, &c->result);
}

static struct call run_call(unsigned int cmd, uint64_t offset, uint64_t len,
			    uint64_t arg)
{
	struct call c = { cmd, offset, len, arg, 0, 0, 0 };

	cr_assert_geq(sim_spawn(&fx.sim, "caller", 0, false, call_thread, &c),
		      0);
	cr_assert_eq(sim_run(&fx.sim), 0);
	return c;
}

static struct call restrict_r(uint64_t offset, uint64_t pages)
{
	return run_call(SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, offset,
			pages * PAGE_SIZE, R);
}

static struct call trim(uint64_t offset, uint64_t pages)
{
	return run_call(SGX_IOC_ENCLAVE_MODIFY_TYPES, offset,
			pages * PAGE_SIZE, PT_TRIM);
}

/* --- what the contract says about a page --------------------------------- */

static const struct sgx_encl_page *page_at(uint64_t off)
{
	const struct sgx_encl_page *p = kfx_page(&fx, off);

	cr_assert_not_null(p, "no page at %#lx", (unsigned long)off);
	return p;
}

/*
 * Pages [from, to) of the range at off were restricted to R and tracked.
 * An evicted page was written back, which EWB allows only when tracked.
 */
static void expect_tracked(uint64_t off, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		const struct sgx_encl_page *p = page_at(off + i * PAGE_SIZE);
		const struct epcm_entry *e;

		if (!p->epc_page)
			continue;
		e = sgx_epcm(&fx.cpu, p->epc_page->index);
		cr_assert(e->pr && e->r && !e->w, "page %lu", (unsigned long)i);
		cr_assert(sgx_page_tracked(&fx.cpu, p->epc_page->index),
			  "page %lu is not tracked", (unsigned long)i);
	}
}

/* Pages [from, to): restricted by EMODPR, and not tracked. */
static void expect_untracked(uint64_t off, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		uint64_t idx = kfx_epc_index(&fx, off + i * PAGE_SIZE);
		const struct epcm_entry *e = sgx_epcm(&fx.cpu, idx);

		cr_assert(e->pr && !e->w, "page %lu", (unsigned long)i);
		cr_assert(!sgx_page_tracked(&fx.cpu, idx), "page %lu",
			  (unsigned long)i);
	}
}

/* Resident pages [from, to) of the range: no EMODPR (a REG page is RW). */
static void expect_untouched(uint64_t off, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		uint64_t at = off + i * PAGE_SIZE;
		const struct sgx_encl_page *p = kfx_page(&fx, at);
		const struct epcm_entry *e;

		if (!p || !p->epc_page)
			continue;
		e = sgx_epcm(&fx.cpu, p->epc_page->index);
		cr_assert(!e->pr, "page %lu", (unsigned long)i);
		cr_assert(e->pt != PT_REG || e->w, "page %lu",
			  (unsigned long)i);
	}
}

/* --- event counts -------------------------------------------------------- */

/* Restrict n heap pages: one ETRACK flow, IPI round and ETRACK per batch. */
static void count_restrict(unsigned int batch, unsigned int n)
{
	struct sgx_encl_stats before;
	uint64_t etrack, locks;
	struct call c;

	setup_batch(batch, n);
	before = fx.encl->stats;
	etrack = fx.cpu.stats.encls[ETRACK];
	locks = fx.encl->lock.acquisitions;
	c = restrict_r(KFX_HEAP, n);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(c.count, n * PAGE_SIZE);
	cr_assert_eq(fx.encl->stats.emodpr - before.emodpr, n);
	cr_assert_eq(fx.encl->stats.etrack_flows - before.etrack_flows,
		     kfx_flows(&fx, n));
	cr_assert_eq(fx.encl->stats.ipi_rounds - before.ipi_rounds,
		     kfx_flows(&fx, n));
	cr_assert_eq(fx.cpu.stats.encls[ETRACK] - etrack, kfx_flows(&fx, n));
	cr_assert_eq(fx.encl->stats.etrack_failures, 0);
	/* Still one hold of encl->lock per page, tracking included. */
	cr_assert_eq(fx.encl->lock.acquisitions - locks, n);
	expect_tracked(KFX_HEAP, 0, n);
	finish();
}

Test(batch_counts, restrict_one_flow_per_batch)
{
	count_restrict(0, 16);
	count_restrict(1, 16);
	count_restrict(2, 16);
	count_restrict(7, 16);
	count_restrict(16, 16);
}

Test(batch_counts, batch_zero_is_one_flow_and_one_round)
{
	struct call c;

	setup_batch(0, 16);
	c = restrict_r(KFX_HEAP, 16);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(fx.encl->stats.etrack_flows, 1);
	cr_assert_eq(fx.encl->stats.ipi_rounds, 1);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK], 1);
	c = trim(KFX_HEAP, 16);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(c.count, 16 * PAGE_SIZE);
	cr_assert_eq(fx.encl->stats.etrack_flows, 2);
	cr_assert_eq(fx.encl->stats.ipi_rounds, 2);
	cr_assert_eq(fx.encl->stats.emodt, 16);
	for (uint64_t i = 0; i < 16; i++)
		cr_assert_eq(sgx_encl_page_type_now(page_at(KFX_HEAP + i * PAGE_SIZE)), PT_TRIM);
	finish();
}

/*
 * LPs 1 and 2 run the enclave; in the window before each page, one forced
 * out by an IPI goes back in (the vDSO's AEP and ERESUME). Each LP takes
 * one IPI-induced AEX per batch: 1 per call with batch 0, n with batch 1.
 */
static unsigned int resumed[KFX_NR_LPS];

static void resume_lps(struct sgx_encl *encl, uint64_t index, void *arg)
{
	for (unsigned int lp = 1; lp <= 2; lp++) {
		if (fx.cpu.lps[lp].enclave_mode)
			continue;
		resumed[lp]++;
		cr_assert_eq(kfx_eresume(&fx, lp, NULL), 0);
	}
}

static void aex_per_lp(unsigned int batch, unsigned int n, unsigned int aex)
{
	uint64_t cpu_aex;

	setup_batch(batch, n);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_enter(&fx, 2, KFX_TCS2, NULL), 0);
	memset(resumed, 0, sizeof(resumed));
	fx.drv.inject.edmm_page = resume_lps;
	cpu_aex = fx.cpu.stats.aex;
	cr_assert_eq(kfx_restrict(&fx, KFX_HEAP, n * PAGE_SIZE, R, NULL, NULL),
		     0);
	for (unsigned int lp = 1; lp <= 2; lp++) {
		/* The last round forced it out; nothing brought it back. */
		cr_assert(!fx.cpu.lps[lp].enclave_mode);
		cr_assert_eq(resumed[lp] + 1, aex, "LP %u", lp);
	}
	cr_assert_eq(fx.encl->stats.ipi_aex, 2 * aex);
	cr_assert_eq(fx.sim.stats.ipi_aex, 2 * aex);
	cr_assert_eq(fx.cpu.stats.aex - cpu_aex, 2 * aex);
	cr_assert_eq(fx.encl->stats.ipi_rounds, aex);
	fx.drv.inject.edmm_page = NULL;
	for (unsigned int lp = 1; lp <= 2; lp++) {
		cr_assert_eq(kfx_eresume(&fx, lp, NULL), 0);
		kfx_exit(&fx, lp);
	}
	finish();
}

Test(batch_counts, one_ipi_aex_per_lp_and_call)
{
	aex_per_lp(0, 12, 1);
	aex_per_lp(1, 12, 12);
	aex_per_lp(4, 12, 3);
}

/* --- early exits: the count contract, then a retry ----------------------- */

static void raise_signal(void)
{
	sim_current(&fx.sim)->signal_pending = true;
}

static void fail_eldu(void)
{
	fx.drv.inject.eldu_fail = 1;
}

static void exhaust_epc(void)
{
	fx.drv.inject.epc_exhausted = true;
}

/* An EAUGed page the enclave has not accepted: PENDING, EMODPR says 20. */
static void make_pending(void)
{
	uint64_t off = OFF_END + K * PAGE_SIZE, v;
	struct kfx_fault f;

	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + off, 2 * PAGE_SIZE,
			      SGX_PROT_READ | SGX_PROT_WRITE,
			      SGX_MAP_SHARED | SGX_MAP_FIXED), 0);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	kfx_read(&fx, 1, off, &v, sizeof(v), &f);
	cr_assert(f.raised && f.error_code == 0x8005);
	cr_assert(kfx_epcm(&fx, off)->pending);
}

static void trim_page_k(void)
{
	struct call c = trim(OFF_IN + K * PAGE_SIZE, 1);

	cr_assert_eq(c.ret, 0);
}

struct exit_case {
	const char *name;
	uint64_t offset;
	void (*prepare)(void); /* before the call */
	void (*at_k)(void); /* in the window before page K */
	long ret;
	uint64_t result;
	bool transient; /* once it is gone a retry completes */
};

static const struct exit_case exits[] = {
	{ "hole", OFF_END, NULL, NULL, -EFAULT, 0, false },
	{ "pending page", OFF_END, make_pending, NULL, -EFAULT,
	  SGX_PAGE_NOT_MODIFIABLE, false },
	{ "trimmed page", OFF_IN, trim_page_k, NULL, -EINVAL, 0, false },
	{ "signal", OFF_IN, NULL, raise_signal, 0, 0, true },
	{ "ELDU fails", OFF_IN, evict_all, fail_eldu, -EFAULT, 0, true },
	{ "EPC exhausted", OFF_IN, evict_all, exhaust_epc, -EFAULT, 0, true },
};

/* The call stops at page K: pages before it are restricted and tracked. */
static void early_exit(unsigned int batch, const struct exit_case *x)
{
	struct sgx_encl_stats before;
	struct call c;

	setup_batch(batch, HEAP_PAGES);
	if (x->prepare)
		x->prepare();
	before = fx.encl->stats;
	if (x->at_k)
		at_page(K, x->at_k);
	c = restrict_r(x->offset, LEN);
	cr_assert_eq(c.ret, x->ret, "%s, batch %u: %ld", x->name, batch,
		     c.ret);
	cr_assert_eq(c.count, K * PAGE_SIZE, "%s, batch %u", x->name, batch);
	cr_assert_eq(c.result, x->result, "%s", x->name);
	/* K EMODPRs, and the one that failed at page K if any. */
	cr_assert_eq(fx.encl->stats.emodpr - before.emodpr, K + !!x->result,
		     "%s", x->name);
	cr_assert_eq(fx.encl->stats.etrack_flows - before.etrack_flows,
		     kfx_flows(&fx, K), "%s, batch %u", x->name, batch);
	expect_tracked(x->offset, 0, K);
	expect_untouched(x->offset, K, LEN);
	fx.drv.inject.epc_exhausted = false;
	cr_assert_eq(fx.drv.inject.eldu_fail, 0);

	/* From offset + count: done, or the same obstacle at once. */
	c = restrict_r(x->offset + K * PAGE_SIZE, LEN - K);
	cr_assert_eq(c.ret, x->transient ? 0 : x->ret, "%s", x->name);
	cr_assert_eq(c.count, x->transient ? (LEN - K) * PAGE_SIZE : 0);
	expect_tracked(x->offset, 0, x->transient ? LEN : K);
	finish();
}

Test(batch_contract, early_exits_track_first)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++)
		for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++)
			early_exit(batches[b], &exits[i]);
}

/*
 * Linux 6.12 exactly: etrack_batch 1 with the loop checks off. A signal
 * pending from before the first page, or raised between pages, changes
 * nothing: the whole range, 0, and one ETRACK (flow, IPI round) per page,
 * as 6.12's loop, which never looks at signals. With the checks on the
 * same signal stops the call (-ERESTARTSYS before the first page, else 0
 * and the partial count).
 */
static void linux_signal(unsigned int cmd, uint64_t at, bool checks)
{
	struct kfx_config cfg = {
		.heap_size = HEAP_PAGES * PAGE_SIZE,
		.pin_batch = true,
		.etrack_batch = 1,
		.no_loop_checks = !checks,
	};
	uint64_t etrack, full = HEAP_PAGES * PAGE_SIZE;
	struct call c;

	kfx_init(&fx, &cfg);
	kfx_build(&fx);
	etrack = fx.cpu.stats.encls[ETRACK];
	at_page(at, raise_signal);
	c = run_call(cmd, KFX_HEAP, full,
		     cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES ? PT_TRIM : R);
	cr_assert_null(win.fn, "the signal was raised");
	if (checks) {
		cr_assert_eq(c.ret, at ? 0 : -ERESTARTSYS);
		cr_assert_eq(c.count, at * PAGE_SIZE);
	} else {
		cr_assert_eq(c.ret, 0);
		cr_assert_eq(c.count, full);
	}
	cr_assert_eq(c.result, 0);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK] - etrack, c.count / PAGE_SIZE);
	cr_assert_eq(fx.encl->stats.etrack_flows, c.count / PAGE_SIZE);
	cr_assert_eq(fx.encl->stats.ipi_rounds, c.count / PAGE_SIZE);
	finish();
}

Test(batch_linux, signal_changes_nothing_with_checks_off)
{
	static const unsigned int cmds[] = {
		SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS,
		SGX_IOC_ENCLAVE_MODIFY_TYPES,
	};

	for (size_t i = 0; i < 2; i++) {
		for (uint64_t at = 0; at < HEAP_PAGES; at += 3) {
			linux_signal(cmds[i], at, false);
			linux_signal(cmds[i], at, true);
		}
	}
}

/* A signal before the first page: -ERESTARTSYS, nothing done or tracked. */
Test(batch_contract, signal_first_is_erestartsys)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		struct call c;

		setup_batch(batches[b], HEAP_PAGES);
		at_page(0, raise_signal);
		c = trim(KFX_HEAP, 4);
		cr_assert_eq(c.ret, -ERESTARTSYS);
		cr_assert_eq(c.count, 0);
		cr_assert_eq(fx.encl->stats.emodt, 0);
		cr_assert_eq(fx.encl->stats.etrack_flows, 0);
		cr_assert_eq(sgx_encl_page_type_now(page_at(KFX_HEAP)), PT_REG);
		finish();
	}
}

/* --- ETRACK failures ----------------------------------------------------- */

static void fail_flow(void)
{
	fx.drv.inject.etrack_fail = 2; /* the ETRACK and its retry */
}

/* [first, end): the batch, of a 6-page call, whose flow meets page 2. */
static void failing_batch(unsigned int batch, uint64_t *first, uint64_t *end)
{
	*first = batch ? 2 / batch * batch : 0;
	*end = batch && *first + batch < 6 ? *first + batch : 6;
}

/*
 * The flow of the batch that holds page 2 fails: count stops at that
 * batch's first page, its pages are restricted but untracked, the rest is
 * untouched. The retry restricts them again (EMODPR allows PR) and tracks
 * them; the enclave then accepts each page once.
 */
static void flow_fails(unsigned int batch)
{
	uint64_t first, end, emodpr;
	struct call c;

	setup_batch(batch, HEAP_PAGES);
	failing_batch(batch, &first, &end);
	at_page(2, fail_flow);
	c = restrict_r(KFX_HEAP, 6);
	cr_assert_eq(c.ret, -EFAULT);
	cr_assert_eq(c.count, first * PAGE_SIZE, "batch %u", batch);
	cr_assert_eq(c.result, 0);
	cr_assert_eq(fx.encl->stats.etrack_failures, 2);
	expect_tracked(KFX_HEAP, 0, first);
	expect_untracked(KFX_HEAP, first, end);
	expect_untouched(KFX_HEAP, end, 6);

	emodpr = fx.encl->stats.emodpr;
	c = restrict_r(KFX_HEAP + c.count, 6 - first);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(c.count, (6 - first) * PAGE_SIZE);
	cr_assert_eq(fx.encl->stats.emodpr - emodpr, 6 - first);
	expect_tracked(KFX_HEAP, 0, 6);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	for (uint64_t i = 0; i < 6; i++) {
		uint64_t off = KFX_HEAP + i * PAGE_SIZE;

		cr_assert_eq(kfx_eaccept(&fx, 1, off, ACCEPT_R, NULL), 0);
		cr_assert(!kfx_epcm(&fx, off)->pr);
	}
	kfx_exit(&fx, 1);
	finish();
}

Test(batch_etrack, flow_fails_then_retry_converges)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++)
		flow_fails(batches[b]);
}

/* One ETRACK fails: the flow's IPI round and retry recover. */
Test(batch_etrack, fails_once_recovers)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		struct call c;

		setup_batch(batches[b], HEAP_PAGES);
		fx.drv.inject.etrack_fail = 1;
		c = restrict_r(KFX_HEAP, 6);
		cr_assert_eq(c.ret, 0);
		cr_assert_eq(c.count, 6 * PAGE_SIZE);
		cr_assert_eq(fx.encl->stats.etrack_failures, 1);
		cr_assert_eq(fx.encl->stats.ipi_rounds, kfx_flows(&fx, 6) + 1);
		expect_tracked(KFX_HEAP, 0, 6);
		finish();
	}
}

/* ETRACK fails every time: no call gets further; then one completes. */
Test(batch_etrack, always_fails_then_converges)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		uint64_t end = batches[b] && batches[b] < 6 ? batches[b] : 6;
		struct call c;

		setup_batch(batches[b], HEAP_PAGES);
		fx.drv.inject.etrack_fail = SGX_INJECT_ALWAYS;
		for (unsigned int i = 0; i < 3; i++) {
			c = restrict_r(KFX_HEAP, 6);
			cr_assert_eq(c.ret, -EFAULT);
			cr_assert_eq(c.count, 0);
			expect_untracked(KFX_HEAP, 0, end);
			expect_untouched(KFX_HEAP, end, 6);
		}
		cr_assert_eq(fx.encl->stats.etrack_failures, 6);
		fx.drv.inject.etrack_fail = 0;
		c = restrict_r(KFX_HEAP, 6);
		cr_assert_eq(c.ret, 0);
		cr_assert_eq(c.count, 6 * PAGE_SIZE);
		expect_tracked(KFX_HEAP, 0, 6);
		finish();
	}
}

/*
 * An EMODPR error at page K, then the early exit's own tracking fails:
 * count goes back to the last tracked page, whose EMODPR succeeded, so
 * result is 0 there (with batch 1 nothing was left to track).
 */
Test(batch_etrack, early_exit_tracking_fails)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		unsigned int batch = batches[b];
		uint64_t tracked = batch ? K / batch * batch : 0;
		struct call c;

		setup_batch(batch, HEAP_PAGES);
		make_pending();
		at_page(K, fail_flow);
		c = restrict_r(OFF_END, LEN);
		cr_assert_eq(c.count, tracked * PAGE_SIZE, "batch %u", batch);
		if (tracked == K) {
			cr_assert_eq(c.ret, -EFAULT);
			cr_assert_eq(c.result, SGX_PAGE_NOT_MODIFIABLE);
		} else {
			cr_assert_eq(c.ret, -EFAULT);
			cr_assert_eq(c.result, 0);
			expect_untracked(OFF_END, tracked, K);
		}
		expect_tracked(OFF_END, 0, tracked);
		fx.drv.inject.etrack_fail = 0;
		finish();
	}
}

/* --- SECS evicted in the window, then an early exit ---------------------- */

static void evict_and_signal(void)
{
	evict_all();
	raise_signal();
}

static void evict_signal_fail_eldu(void)
{
	evict_and_signal();
	fail_eldu();
}

/* The exit's ETRACK flow loads SECS again first (for pages not tracked). */
Test(batch_secs, early_exit_reloads_secs)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		unsigned int batch = batches[b];
		bool pending = batch != 1;
		uint64_t eldu;
		struct call c;

		setup_batch(batch, HEAP_PAGES);
		at_page(3, evict_and_signal);
		eldu = fx.encl->stats.eldu;
		c = restrict_r(KFX_HEAP, 6);
		cr_assert_eq(c.ret, 0);
		cr_assert_eq(c.count, 3 * PAGE_SIZE);
		cr_assert_eq(fx.encl->stats.etrack_flows, kfx_flows(&fx, 3));
		/* Only SECS came back, and only if a flow was still due. */
		cr_assert_eq(fx.encl->stats.eldu - eldu, pending);
		cr_assert_eq(fx.encl->secs.epc_page != NULL, pending);
		expect_tracked(KFX_HEAP, 0, 3);
		finish();
	}
}

/*
 * SECS cannot come back: the exit's tracking fails with -EFAULT, count
 * stops at the last tracked page; the retry reloads everything.
 */
Test(batch_secs, secs_reload_fails_then_converges)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		unsigned int batch = batches[b];
		uint64_t tracked = batch ? 3 / batch * batch : 0;
		struct call c;

		setup_batch(batch, HEAP_PAGES);
		at_page(3, evict_signal_fail_eldu);
		c = restrict_r(KFX_HEAP, 6);
		cr_assert_eq(c.ret, tracked == 3 ? 0 : -EFAULT, "batch %u",
			     batch);
		cr_assert_eq(c.count, tracked * PAGE_SIZE);
		cr_assert_null(fx.encl->secs.epc_page);
		fx.drv.inject.eldu_fail = 0;
		c = restrict_r(KFX_HEAP + c.count, 6 - tracked);
		cr_assert_eq(c.ret, 0);
		expect_tracked(KFX_HEAP, 0, 6);
		finish();
	}
}

/* --- MODIFY_TYPES: bookkeeping waits for tracking; a repeat only tracks -- */

static void check_untracked_trims(void)
{
	for (uint64_t i = 0; i < 3; i++) {
		uint64_t off = KFX_HEAP + i * PAGE_SIZE;
		const struct sgx_encl_page *p = page_at(off);

		cr_assert_eq(sgx_encl_page_type_now(p), PT_REG);
		cr_assert_eq(p->modt_type, PT_TRIM);
		cr_assert_eq(kfx_epcm(&fx, off)->pt, PT_TRIM);
		cr_assert(kfx_epcm(&fx, off)->modified);
		cr_assert(!sgx_page_tracked(&fx.cpu, kfx_epc_index(&fx, off)));
	}
}

Test(batch_types, type_recorded_only_once_tracked)
{
	struct call c;

	setup_batch(0, HEAP_PAGES);
	at_page(3, check_untracked_trims);
	c = trim(KFX_HEAP, 4);
	cr_assert_eq(c.ret, 0);
	cr_assert_null(win.fn);
	for (uint64_t i = 0; i < 4; i++) {
		const struct sgx_encl_page *p =
			page_at(KFX_HEAP + i * PAGE_SIZE);

		cr_assert_eq(sgx_encl_page_type_now(p), PT_TRIM);
		cr_assert_eq(p->modt_type, PT_SECS);
	}
	finish();
}

/*
 * No walk over the batch under encl->lock: the flow that tracks a batch
 * touches none of its pages. Each keeps its pending type until the driver
 * next reads it, and the generation then makes it the page's type.
 */
Test(batch_types, flow_touches_no_page)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		struct call c;

		setup_batch(batches[b], HEAP_PAGES);
		c = trim(KFX_HEAP, HEAP_PAGES);
		cr_assert_eq(c.ret, 0);
		cr_assert_eq(fx.encl->etrack_gen,
			     kfx_flows(&fx, HEAP_PAGES));
		for (uint64_t i = 0; i < HEAP_PAGES; i++) {
			const struct sgx_encl_page *p =
				page_at(KFX_HEAP + i * PAGE_SIZE);

			cr_assert_eq(p->type, PT_REG, "batch %u", batches[b]);
			cr_assert_eq(p->modt_type, PT_TRIM);
			cr_assert_lt(p->modt_gen, fx.encl->etrack_gen);
			cr_assert_eq(sgx_encl_page_type_now(p), PT_TRIM);
			cr_assert_eq(p->type, PT_TRIM);
		}
		finish();
	}
}

/* The first call's tracking fails; the repeat does no EMODT, only tracks. */
static void repeat_only_tracks(unsigned int batch, uint64_t type)
{
	uint64_t emodt, flows;
	struct call c;

	setup_batch(batch, HEAP_PAGES);
	fx.drv.inject.etrack_fail = SGX_INJECT_ALWAYS;
	c = run_call(SGX_IOC_ENCLAVE_MODIFY_TYPES, KFX_HEAP, 2 * PAGE_SIZE,
		     type);
	cr_assert_eq(c.ret, -EFAULT);
	cr_assert_eq(c.count, 0);
	emodt = fx.encl->stats.emodt;
	cr_assert_eq(emodt, batch == 1 ? 1 : 2);
	cr_assert_eq(sgx_encl_page_type_now(page_at(KFX_HEAP)), PT_REG);
	cr_assert_eq(page_at(KFX_HEAP)->modt_type, type);
	fx.drv.inject.etrack_fail = 0;
	flows = fx.encl->stats.etrack_flows;
	c = run_call(SGX_IOC_ENCLAVE_MODIFY_TYPES, KFX_HEAP, 2 * PAGE_SIZE,
		     type);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(c.count, 2 * PAGE_SIZE);
	cr_assert_eq(c.result, 0);
	/* Only the page the first call did not reach gets its EMODT. */
	cr_assert_eq(fx.encl->stats.emodt, 2);
	cr_assert_eq(fx.encl->stats.etrack_flows - flows, kfx_flows(&fx, 2));
	for (uint64_t i = 0; i < 2; i++) {
		uint64_t off = KFX_HEAP + i * PAGE_SIZE;

		cr_assert_eq(sgx_encl_page_type_now(page_at(off)), type);
		cr_assert_eq(page_at(off)->modt_type, PT_SECS);
		cr_assert_eq(kfx_epcm(&fx, off)->pt, type);
		cr_assert(sgx_page_tracked(&fx.cpu, kfx_epc_index(&fx, off)));
	}
}

Test(batch_types, trim_repeat_only_tracks_then_removes)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		uint64_t count;

		repeat_only_tracks(batches[b], PT_TRIM);
		cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
		for (uint64_t i = 0; i < 2; i++)
			cr_assert_eq(kfx_eaccept(&fx, 1,
						 KFX_HEAP + i * PAGE_SIZE,
						 ACCEPT_TRIM, NULL), 0);
		kfx_exit(&fx, 1);
		cr_assert_eq(kfx_remove(&fx, KFX_HEAP, 2 * PAGE_SIZE, &count),
			     0);
		cr_assert_eq(count, 2 * PAGE_SIZE);
		finish();
	}
}

Test(batch_types, tcs_repeat_only_tracks)
{
	for (unsigned int b = 0; b < NR_BATCHES; b++) {
		repeat_only_tracks(batches[b], PT_TCS);
		cr_assert_eq(page_at(KFX_HEAP)->vm_max_prot_bits,
			     VM_READ | VM_WRITE);
		finish();
	}
}

/* --- the windows between pages (batch 0: the widest) --------------------- */

/* An early EACCEPT: the restriction is there, not yet tracked. */
static void eaccept_too_early(void)
{
	cr_assert_eq(kfx_eaccept(&fx, 1, KFX_HEAP, ACCEPT_R, NULL),
		     SGX_NOT_TRACKED);
	cr_assert(kfx_epcm(&fx, KFX_HEAP)->pr);
}

Test(batch_window, early_eaccept_is_not_tracked)
{
	setup_batch(0, HEAP_PAGES);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	at_page(3, eaccept_too_early);
	cr_assert_eq(restrict_r(KFX_HEAP, 6).ret, 0);
	cr_assert_null(win.fn);
	cr_assert_eq(kfx_eresume(&fx, 1, NULL), 0); /* after the IPI */
	cr_assert_eq(kfx_eaccept(&fx, 1, KFX_HEAP, ACCEPT_R, NULL), 0);
	kfx_exit(&fx, 1);
	finish();
}

/* An EAUG fault in the window takes encl->lock between two pages. */
static void eaug_fault(void)
{
	uint64_t off = KFX_HEAP + HEAP_PAGES * PAGE_SIZE;

	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + off, PAGE_SIZE,
			      SGX_PROT_READ | SGX_PROT_WRITE,
			      SGX_MAP_SHARED | SGX_MAP_FIXED), 0);
	cr_assert_eq(kfx_eaccept(&fx, 1, off, ACCEPT_AUG, NULL), 0);
}

Test(batch_window, eaug_between_pages)
{
	setup_batch(0, HEAP_PAGES);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	at_page(2, eaug_fault);
	cr_assert_eq(restrict_r(KFX_HEAP, 6).ret, 0);
	cr_assert_eq(fx.encl->stats.eaug, 1);
	cr_assert_eq(fx.encl->stats.etrack_flows, 1);
	expect_tracked(KFX_HEAP, 0, 6);
	cr_assert_eq(kfx_eresume(&fx, 1, NULL), 0);
	kfx_exit(&fx, 1);
	finish();
}

/*
 * The reclaimer writes back everything, SECS last, between two pages: the
 * modified pages need their own ETRACK to be written back; the walk then
 * reloads SECS and goes on. The enclave accepts every page.
 */
Test(batch_window, reclaimer_evicts_modified_pages_and_secs)
{
	setup_batch(0, HEAP_PAGES);
	at_page(3, evict_all);
	cr_assert_eq(restrict_r(KFX_HEAP, 6).ret, 0);
	cr_assert_eq(fx.drv.stats.secs_evictions, 1);
	cr_assert_eq(fx.encl->stats.etrack_flows, 1);
	cr_assert_null(page_at(KFX_HEAP)->epc_page);
	expect_tracked(KFX_HEAP, 0, 6);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	for (uint64_t i = 0; i < 6; i++)
		cr_assert_eq(kfx_eaccept(&fx, 1, KFX_HEAP + i * PAGE_SIZE,
					 ACCEPT_R, NULL), 0);
	kfx_exit(&fx, 1);
	finish();
}

/*
 * close() and the mm's exit in the window: the call holds the file, as
 * fdget() does, finishes on an enclave nobody maps, and the last fput()
 * releases every EPC page.
 */
static void close_everything(void)
{
	sgx_mm_destroy(fx.mm);
	fx.mm = NULL;
	kfx_close(&fx);
}

Test(batch_window, close_between_pages)
{
	struct sgx_file *file;
	struct call c;

	setup_batch(0, HEAP_PAGES);
	file = get_file(fx.file);
	at_page(3, close_everything);
	c = run_call(SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, KFX_HEAP,
		     6 * PAGE_SIZE, R);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(c.count, 6 * PAGE_SIZE);
	cr_assert_eq(file->encl->stats.etrack_flows, 1);
	cr_assert_eq(file->encl->stats.ipis, 0);
	fput(file);
	cr_assert_eq(fx.drv.nr_free_pages, KFX_EPC_PAGES);
	cr_assert_eq(fx.drv.stats.encls_warnings, 0);
	cr_assert_null(sgx_cpu_check(&fx.cpu));
	kfx_fini(&fx);
}

#ifdef SGXEMU_PLANTS
/*
 * --- planted naive batches (test_k_batch_plants) ----------------------------
 * Each plant breaks the contract the tests above hold the driver to; the
 * same scenario without it is shown to keep the contract.
 */

/* COUNT_BEFORE_TRACKING: count covers pages whose tracking failed. */
static void count_before_tracking(bool planted)
{
	struct call c;

	setup_batch(0, HEAP_PAGES);
	fx.drv.cfg.plants = planted ? SGX_PLANT_COUNT_BEFORE_TRACKING : 0;
	fx.drv.inject.etrack_fail = 2;
	c = restrict_r(KFX_HEAP, 4);
	expect_untracked(KFX_HEAP, 0, 4);
	if (!planted) {
		cr_assert_eq(c.ret, -EFAULT);
		cr_assert_eq(c.count, 0);
	} else {
		/* Broken: "done", yet the enclave cannot accept the pages. */
		cr_assert_eq(c.ret, 0);
		cr_assert_eq(c.count, 4 * PAGE_SIZE);
		cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
		cr_assert_eq(kfx_eaccept(&fx, 1, KFX_HEAP, ACCEPT_R, NULL),
			     SGX_NOT_TRACKED);
		kfx_exit(&fx, 1);
	}
	finish();
}

Test(batch_plants, count_before_tracking)
{
	count_before_tracking(false);
	count_before_tracking(true);
}

/*
 * BATCH_SECS_EVICTED: the reclaimer evicted SECS in the window, then a
 * signal: the exit's ETRACK goes to a stale SECS address and faults, and a
 * call that processed 3 pages returns -EFAULT with count 0 instead of 0
 * with count 3.
 */
static void secs_evicted(bool planted)
{
	struct call c;

	setup_batch(0, HEAP_PAGES);
	fx.drv.cfg.plants = planted ? SGX_PLANT_BATCH_SECS_EVICTED : 0;
	at_page(3, evict_and_signal);
	c = restrict_r(KFX_HEAP, 6);
	cr_assert_eq(c.ret, planted ? -EFAULT : 0);
	cr_assert_eq(c.count, planted ? 0 : 3 * PAGE_SIZE);
	cr_assert_eq(fx.cpu.stats.encls_fault[ETRACK], planted);
	cr_assert_eq(fx.encl->secs.epc_page == NULL, planted);
	finish();
}

Test(batch_plants, batch_secs_evicted)
{
	secs_evicted(false);
	secs_evicted(true);
}

/*
 * BATCH_NO_EARLY_TRACK: the call stops at a hole without tracking what it
 * modified: count is 0, and pages 0..K-1 stay restricted and untracked
 * though no tracking failed.
 */
static void no_early_track(bool planted)
{
	struct call c;

	setup_batch(0, HEAP_PAGES);
	fx.drv.cfg.plants = planted ? SGX_PLANT_BATCH_NO_EARLY_TRACK : 0;
	c = restrict_r(OFF_END, LEN);
	cr_assert_eq(c.ret, -EFAULT);
	cr_assert_eq(fx.encl->stats.etrack_failures, 0);
	if (!planted) {
		cr_assert_eq(c.count, K * PAGE_SIZE);
		expect_tracked(OFF_END, 0, K);
	} else {
		cr_assert_eq(c.count, 0);
		cr_assert_eq(fx.encl->stats.etrack_flows, 0);
		expect_untracked(OFF_END, 0, K);
	}
	finish();
}

Test(batch_plants, batch_no_early_track)
{
	no_early_track(false);
	no_early_track(true);
}

/* ETRACK_BEFORE_EMODPR, in the batched loop: the last page is untracked. */
Test(batch_plants, etrack_before_emodpr)
{
	struct call c;

	setup_batch(0, HEAP_PAGES);
	fx.drv.cfg.plants = SGX_PLANT_ETRACK_BEFORE_EMODPR;
	c = restrict_r(KFX_HEAP, 4);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(c.count, 4 * PAGE_SIZE);
	cr_assert_eq(fx.encl->stats.etrack_flows, 4);
	expect_untracked(KFX_HEAP, 3, 4);
	finish();
}
#endif
