// SPDX-License-Identifier: MIT
/*
 * Oversubscription stress: an enclave eight times the EPC, ksgxd running
 * as a sim thread, and a test thread that applies a few thousand random
 * EDMM operations (RESTRICT_PERMISSIONS + EACCEPT, MODIFY_TYPES to TRIM +
 * EACCEPT + REMOVE_PAGES, EAUG through faults + EACCEPT, EMODPE) and
 * random reads and writes by an enclave thread, chosen by a seeded PRNG.
 * A shadow model keeps every page's expected contents and EPCM rights;
 * every access is checked against it as it happens, and at the end every
 * page is read back through the enclave (nothing lost), the enclave is
 * closed, and every EPC page must be free with no ENCLS warning.
 *
 * The enclave thread stays inside the enclave (TCS #1, on its own LP)
 * across the ioctls, as a real enclave thread would: the ETRACK flows'
 * IPIs and the reclaimer's make it AEX, and it ERESUMEs before its next
 * access, as the vDSO's AEP does. An access the EPCM forbids is handled
 * the way the selftests do it: through TCS #2, EMODPE adds the missing
 * right, then TCS #1 resumes and the access is done again.
 *
 * A second test pins down the baseline that batching is measured against:
 * Linux restricts N pages with N ETRACK flows and N IPI rounds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel/encl.h"
#include "kfixture.h"

#define EPC_PAGES 64
#define HEAP_PAGES (8 * EPC_PAGES)
#define EXTRA_PAGES 64 /* holes after the heap, mapped RW, EAUG'd on use */
#define NR_PAGES (HEAP_PAGES + EXTRA_PAGES)
#define NR_OPS 3000
#define RANGE_MAX 8 /* pages per ioctl */
#define RETRIES_MAX 10000
#define SEED 0x5eed2024c0ffeeULL

#define BODY_LP 0
#define KSGXD_LP 1
#define ELP 2 /* the enclave thread */

#define RIGHTS (SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X)
#define SECINFO_REG SGX_SECINFO_TYPE(PT_REG)
#define ACCEPT_AUG                                                        \
	(SGX_SECINFO_R | SGX_SECINFO_W | SECINFO_REG | SGX_SECINFO_PENDING)
#define ACCEPT_TRIM (SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED)

enum op_kind {
	OP_READ,
	OP_WRITE,
	OP_RESTRICT,
	OP_TRIM,
	OP_EAUG,
	OP_EMODPE,
	NR_OP_KINDS,
};

/* Out of 100: accesses dominate, as in a real enclave. */
static const unsigned int op_weight[NR_OP_KINDS] = { 28, 28, 12, 10, 12, 10 };

struct shadow_page {
	bool present;
	uint8_t rights; /* EPCM R/W/X */
	uint8_t data[PAGE_SIZE];
};

struct stress {
	uint64_t rng;
	struct shadow_page page[NR_PAGES];
	uint64_t done[NR_OP_KINDS];
	uint64_t retries; /* -EAGAIN / -EBUSY answers retried */
	uint64_t epcm_faults; /* accesses the EPCM refused, as expected */
};

static struct kfx fx;
static struct stress st;

/* xorshift64*: small, seeded, the same sequence everywhere. */
static uint64_t rnd(void)
{
	st.rng ^= st.rng >> 12;
	st.rng ^= st.rng << 25;
	st.rng ^= st.rng >> 27;
	return st.rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static uint64_t page_off(unsigned int i)
{
	return KFX_HEAP + (uint64_t)i * PAGE_SIZE;
}

/* The vDSO's AEP: back into TCS #1 after an AEX (IPI or fault). */
static void ensure_inside(void)
{
	struct kfx_fault f;
	int ret;

	if (fx.cpu.lps[ELP].enclave_mode)
		return;
	fx.tcs[ELP] = fx.base + KFX_TCS1;
	ret = kfx_eresume(&fx, ELP, &f);
	cr_assert(!ret && !f.raised, "ERESUME: %#x", ret);
}

static void eaccept(unsigned int i, uint64_t flags)
{
	struct kfx_fault f;
	int ret;

	ensure_inside();
	ret = kfx_eaccept(&fx, ELP, page_off(i), flags, &f);
	cr_assert(!ret && !f.raised, "EACCEPT %#lx of page %u: %#x (#%u %#x)",
		  (unsigned long)flags, i, ret, f.vector, f.error_code);
}

static void emodpe(unsigned int i, uint64_t flags)
{
	struct kfx_fault f;
	int ret;

	ensure_inside();
	ret = kfx_emodpe(&fx, ELP, page_off(i), flags, &f);
	cr_assert(!ret && !f.raised, "EMODPE of page %u: %#x", i, ret);
	st.page[i].rights |= flags & RIGHTS;
}

/*
 * The fix-up after an EPCM fault, as the selftests do it: a second TCS
 * extends the rights with EMODPE, then TCS #1 resumes.
 */
static void handler_emodpe(unsigned int i, uint64_t flags)
{
	cr_assert_eq(kfx_enter(&fx, ELP, KFX_TCS2, NULL), 0);
	emodpe(i, flags);
	kfx_exit(&fx, ELP);
	ensure_inside();
}

/* A random page that is (or is not) in the enclave, or -1. */
static int pick_page(bool present)
{
	unsigned int start = (unsigned int)rnd_below(NR_PAGES);

	for (unsigned int k = 0; k < NR_PAGES; k++) {
		unsigned int i = (start + k) % NR_PAGES;

		if (st.page[i].present == present)
			return (int)i;
	}
	return -1;
}

/*
 * A random run of up to RANGE_MAX pages that are all (or all not) in the
 * enclave: its first page, or -1; *n receives its length.
 */
static int pick_range(bool present, unsigned int *n)
{
	int first = pick_page(present);
	unsigned int want = 1 + (unsigned int)rnd_below(RANGE_MAX);

	*n = 0;
	if (first < 0)
		return -1;
	while (*n < want && first + *n < NR_PAGES &&
	       st.page[first + *n].present == present)
		(*n)++;
	return first;
}

static int access(bool write, unsigned int i, uint64_t o, uint8_t *buf,
		  uint64_t len, struct kfx_fault *f)
{
	ensure_inside();
	if (write)
		return kfx_write(&fx, ELP, page_off(i) + o, buf, len, f);
	return kfx_read(&fx, ELP, page_off(i) + o, buf, len, f);
}

/*
 * A read or write of a random chunk of a present page. Without the EPCM
 * right it must take an EPCM fault (0x8005 / 0x8007) at the chunk; the
 * handler adds the right and the access is done again.
 */
static void op_access(bool write)
{
	int i = pick_page(true);
	uint64_t o = rnd_below(PAGE_SIZE / 8) * 8;
	uint64_t len = 8 * (1 + rnd_below(32));
	uint64_t need = write ? SGX_SECINFO_W : SGX_SECINFO_R;
	uint8_t buf[256];
	struct kfx_fault f;
	int ret;

	if (i < 0)
		return;
	if (o + len > PAGE_SIZE)
		len = PAGE_SIZE - o;
	for (uint64_t k = 0; k < len; k++)
		buf[k] = (uint8_t)rnd();
	ret = access(write, (unsigned int)i, o, buf, len, &f);
	if (!(st.page[i].rights & need)) {
		cr_assert(f.raised, "page %d rights %#x: no fault", i,
			  st.page[i].rights);
		cr_assert_eq(f.vector, X86_TRAP_PF);
		cr_assert_eq(f.error_code, write ? 0x8007 : 0x8005);
		cr_assert_eq(f.addr & PAGE_MASK, fx.base + page_off(i));
		st.epcm_faults++;
		handler_emodpe((unsigned int)i,
			       SGX_SECINFO_R | (write ? SGX_SECINFO_W : 0));
		ret = access(write, (unsigned int)i, o, buf, len, &f);
	}
	cr_assert(!ret && !f.raised, "%s page %d: %#x (#%u %#x)",
		  write ? "write" : "read", i, ret, f.vector, f.error_code);
	if (write)
		memcpy(st.page[i].data + o, buf, len);
	else
		cr_assert_eq(memcmp(st.page[i].data + o, buf, len), 0,
			     "page %d at %#lx", i, (unsigned long)o);
}

/*
 * One EDMM ioctl over [first, first + n), retried from offset + count on
 * -EAGAIN (and -EBUSY for REMOVE_PAGES) as user space should.
 */
static void edmm_ioctl(unsigned int cmd, unsigned int first, unsigned int n,
		       uint64_t arg)
{
	uint64_t done = 0, len = (uint64_t)n * PAGE_SIZE;
	unsigned int tries = 0;

	while (done < len) {
		uint64_t offset = page_off(first) + done, count = 0, result = 0;
		long ret;

		if (cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS)
			ret = kfx_restrict(&fx, offset, len - done, arg, &count,
					   &result);
		else if (cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES)
			ret = kfx_modify_types(&fx, offset, len - done, arg,
					       &count, &result);
		else
			ret = kfx_remove(&fx, offset, len - done, &count);
		cr_assert_eq(result, 0);
		cr_assert_eq(count % PAGE_SIZE, 0);
		cr_assert_leq(count, len - done);
		done += count;
		if (!ret) {
			cr_assert_eq(done, len);
			break;
		}
		cr_assert(ret == -EAGAIN ||
				  (ret == -EBUSY &&
				   cmd == SGX_IOC_ENCLAVE_REMOVE_PAGES),
			  "ioctl %#x at %#lx: %ld", cmd,
			  (unsigned long)offset, ret);
		cr_assert_lt(tries++, RETRIES_MAX);
		st.retries++;
	}
}

/* RESTRICT_PERMISSIONS, then the enclave EACCEPTs each page's new rights. */
static void op_restrict(void)
{
	static const uint64_t perms[] = {
		0,
		SGX_SECINFO_R,
		SGX_SECINFO_X,
		SGX_SECINFO_R | SGX_SECINFO_W,
		SGX_SECINFO_R | SGX_SECINFO_X,
		SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X,
	};
	uint64_t perm = perms[rnd_below(ARRAY_SIZE(perms))];
	unsigned int n;
	int first = pick_range(true, &n);

	if (first < 0)
		return;
	edmm_ioctl(SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, (unsigned int)first,
		   n, perm);
	for (unsigned int i = (unsigned int)first; i < first + n; i++) {
		st.page[i].rights &= perm;
		eaccept(i, st.page[i].rights | SECINFO_REG | SGX_SECINFO_PR);
	}
}

/* MODIFY_TYPES to TRIM, EACCEPT of each, REMOVE_PAGES: pages leave. */
static void op_trim(void)
{
	unsigned int n;
	int first = pick_range(true, &n);

	if (first < 0)
		return;
	edmm_ioctl(SGX_IOC_ENCLAVE_MODIFY_TYPES, (unsigned int)first, n,
		   PT_TRIM);
	for (unsigned int i = (unsigned int)first; i < first + n; i++)
		eaccept(i, ACCEPT_TRIM);
	edmm_ioctl(SGX_IOC_ENCLAVE_REMOVE_PAGES, (unsigned int)first, n, 0);
	for (unsigned int i = (unsigned int)first; i < first + n; i++) {
		cr_assert_null(kfx_page(&fx, page_off(i)));
		st.page[i].present = false;
	}
}

/*
 * A page comes (back) through the EAUG fault path: either EACCEPT is the
 * first access, or a write is, which faults on the PENDING page (0x8007)
 * and is redone after TCS #2 accepted the page.
 */
static void eaug_page(unsigned int i)
{
	uint64_t value = rnd(), o = rnd_below(PAGE_SIZE / 8) * 8;
	struct kfx_fault f;
	int ret;

	memset(st.page[i].data, 0, PAGE_SIZE);
	st.page[i].present = true;
	st.page[i].rights = SGX_SECINFO_R | SGX_SECINFO_W;
	if (rnd_below(2)) {
		eaccept(i, ACCEPT_AUG);
		return;
	}
	ret = access(true, i, o, (uint8_t *)&value, 8, &f);
	cr_assert(f.raised, "write to a PENDING page %u: %#x", i, ret);
	cr_assert_eq(f.vector, X86_TRAP_PF);
	cr_assert_eq(f.error_code, 0x8007);
	cr_assert_eq(kfx_enter(&fx, ELP, KFX_TCS2, NULL), 0);
	eaccept(i, ACCEPT_AUG);
	kfx_exit(&fx, ELP);
	ret = access(true, i, o, (uint8_t *)&value, 8, &f);
	cr_assert(!ret && !f.raised, "write to page %u: %#x", i, ret);
	memcpy(st.page[i].data + o, &value, 8);
}

/* A run of holes filled by EAUG, page by page in address order. */
static void op_eaug(void)
{
	unsigned int n;
	int first = pick_range(false, &n);

	for (unsigned int k = 0; first >= 0 && k < n; k++)
		eaug_page((unsigned int)first + k);
}

static void op_emodpe(void)
{
	static const uint64_t ext[] = {
		SGX_SECINFO_R,
		SGX_SECINFO_R | SGX_SECINFO_W,
		SGX_SECINFO_R | SGX_SECINFO_X,
		SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X,
	};
	int i = pick_page(true);

	if (i >= 0)
		emodpe((unsigned int)i, ext[rnd_below(ARRAY_SIZE(ext))]);
}

static enum op_kind pick_op(void)
{
	unsigned int r = (unsigned int)rnd_below(100), k = 0;

	while (r >= op_weight[k])
		r -= op_weight[k++];
	return (enum op_kind)k;
}

/* Every page read back through the enclave; rights and types agree. */
static void check_all_pages(void)
{
	static uint8_t buf[PAGE_SIZE];

	for (unsigned int i = 0; i < NR_PAGES; i++) {
		const struct sgx_encl_page *page = kfx_page(&fx, page_off(i));
		struct kfx_fault f;
		int ret;

		if (!st.page[i].present) {
			cr_assert_null(page, "removed page %u is back", i);
			continue;
		}
		cr_assert_not_null(page, "page %u is lost", i);
		cr_assert_eq(sgx_encl_page_type_now(page), PT_REG);
		if (page->epc_page) {
			const struct epcm_entry *e =
				sgx_epcm(&fx.cpu, page->epc_page->index);

			cr_assert_eq(e->r | e->w << 1 | e->x << 2,
				     st.page[i].rights, "rights of page %u", i);
		}
		if (!(st.page[i].rights & SGX_SECINFO_R))
			emodpe(i, SGX_SECINFO_R);
		ret = access(false, i, 0, buf, PAGE_SIZE, &f);
		cr_assert(!ret && !f.raised, "read of page %u: %#x", i, ret);
		cr_assert_eq(memcmp(buf, st.page[i].data, PAGE_SIZE), 0,
			     "contents of page %u", i);
	}
}

static void stress_body(void *arg)
{
	kfx_build(&fx);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + page_off(HEAP_PAGES),
			      EXTRA_PAGES * PAGE_SIZE,
			      SGX_PROT_READ | SGX_PROT_WRITE,
			      SGX_MAP_SHARED | SGX_MAP_FIXED), 0);
	cr_assert_eq(kfx_enter(&fx, ELP, KFX_TCS1, NULL), 0);
	for (unsigned int k = 0; k < NR_OPS; k++) {
		enum op_kind op = pick_op();

		switch (op) {
		case OP_READ:
		case OP_WRITE:
			op_access(op == OP_WRITE);
			break;
		case OP_RESTRICT:
			op_restrict();
			break;
		case OP_TRIM:
			op_trim();
			break;
		case OP_EAUG:
			op_eaug();
			break;
		case OP_EMODPE:
			op_emodpe();
			break;
		case NR_OP_KINDS:
			break;
		}
		st.done[op]++;
	}
	check_all_pages();
	ensure_inside();
	kfx_exit(&fx, ELP);
}

/*
 * ksgxd has an LP of its own: when both threads can run, a seeded coin
 * gives it KSGXD_SHARE of every KSGXD_SHARE + 1 decisions on average, so
 * it keeps up with a test thread that spins on faults waiting for free
 * EPC, while the test thread still runs inside its batches (the windows
 * that make the ioctls answer -EAGAIN).
 */
#define KSGXD_SHARE 2

struct ksgxd_sched {
	unsigned int ksgxd;
	uint64_t rng;
};

static unsigned int choose_ksgxd(void *ctx, const unsigned int *runnable,
				 unsigned int n, unsigned int current)
{
	struct ksgxd_sched *k = ctx;
	unsigned int ksgxd = n, other = n;

	for (unsigned int i = 0; i < n; i++) {
		if (runnable[i] == k->ksgxd)
			ksgxd = i;
		else if (other == n)
			other = i;
	}
	if (ksgxd == n || other == n)
		return ksgxd == n ? other : ksgxd;
	k->rng = k->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (k->rng >> 33) % (KSGXD_SHARE + 1) ? ksgxd : other;
}

/* The heap's initial contents, in the source pages and in the shadow. */
static void fill_heap(void)
{
	struct kfx_segment *heap = &fx.seg[KFX_SEG_HEAP];

	for (uint64_t k = 0; k < heap->size; k++)
		heap->src[k] = (uint8_t)rnd();
	for (unsigned int i = 0; i < HEAP_PAGES; i++) {
		st.page[i].present = true;
		st.page[i].rights = SGX_SECINFO_R | SGX_SECINFO_W;
		memcpy(st.page[i].data, heap->src + (uint64_t)i * PAGE_SIZE,
		       PAGE_SIZE);
	}
}

static void run_stress(uint64_t seed)
{
	struct kfx_config cfg = { .epc_pages = EPC_PAGES,
				  .heap_size = HEAP_PAGES * PAGE_SIZE };
	struct ksgxd_sched sched = { .rng = seed };
	int kid, bid;

	memset(&st, 0, sizeof(st));
	st.rng = seed;
	kfx_init(&fx, &cfg);
	fill_heap();
	kid = sim_spawn(&fx.sim, "ksgxd", KSGXD_LP, true, ksgxd, &fx.drv);
	bid = sim_spawn(&fx.sim, "stress", BODY_LP, false, stress_body, NULL);
	cr_assert(kid >= 0 && bid >= 0);
	sched.ksgxd = (unsigned int)kid;
	fx.sim.choose = choose_ksgxd;
	fx.sim.choose_ctx = &sched;
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_eq(fx.sim.threads[bid].state, SIM_DONE);
	fx.drv.ksgxd_stop = true;
	fx.drv.plat->ksgxd_wake(fx.drv.plat->ctx);
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_eq(fx.sim.threads[kid].state, SIM_DONE);
}

/* Every kind of operation ran, and the reclaimer had real work. */
static void assert_coverage(void)
{
	const struct sgx_encl_stats *s = &fx.encl->stats;

	for (unsigned int k = 0; k < NR_OP_KINDS; k++)
		cr_assert_gt(st.done[k], 0, "operation %u never ran", k);
	cr_assert_gt(st.epcm_faults, 0);
	cr_assert_gt(st.retries, 0);
	cr_assert_gt(s->emodpr, 0);
	cr_assert_gt(s->emodt, 0);
	cr_assert_gt(s->eaug, 0);
	cr_assert_gt(s->eremove, 0);
	cr_assert_gt(s->ewb, HEAP_PAGES);
	cr_assert_gt(s->eldu, 0);
	cr_assert_gt(s->ipi_aex, 0);
	cr_assert_gt(fx.drv.stats.reclaimed_pages, HEAP_PAGES);
	cr_assert_eq(s->etrack_failures, 0);
}

/*
 * The random run, then close: nothing lost on the way, and every EPC page
 * comes back to the free list.
 */
Test(stress, oversubscribed_random_edmm, .timeout = 300)
{
	run_stress(SEED);
	assert_coverage();
	kfx_assert_clean(&fx);
	sgx_mm_destroy(fx.mm);
	fx.mm = NULL;
	kfx_close(&fx);
	cr_assert_eq(fx.drv.nr_free_pages, EPC_PAGES);
	cr_assert(list_empty(&fx.drv.active_page_list));
	cr_assert_eq(fx.drv.stats.encls_warnings, 0);
	cr_assert_null(sgx_cpu_check(&fx.cpu));
	kfx_fini(&fx);
}

/*
 * The baseline: with no reclaim in the way, restricting N pages costs
 * exactly N ETRACK flows and N IPI rounds (one per page, Linux 6.12), each
 * round aimed at the one LP that runs the mm; the LP inside the enclave
 * takes one AEX, from the first round.
 */
Test(stress, restrict_baseline_one_etrack_per_page)
{
	const unsigned int n = 16;
	struct kfx_config cfg = { .heap_size = n * PAGE_SIZE,
				  .pin_batch = true, .etrack_batch = 1 };
	struct sgx_encl_stats before;
	const struct sgx_encl_stats *s;
	uint64_t count, result;

	kfx_init(&fx, &cfg);
	kfx_build(&fx);
	cr_assert_eq(kfx_enter(&fx, ELP, KFX_TCS1, NULL), 0);
	s = &fx.encl->stats;
	before = *s;
	cr_assert_eq(kfx_restrict(&fx, KFX_HEAP, n * PAGE_SIZE, SGX_SECINFO_R,
				  &count, &result), 0);
	cr_assert_eq(count, n * PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(s->emodpr - before.emodpr, n);
	cr_assert_eq(s->etrack_flows - before.etrack_flows, n);
	cr_assert_eq(s->ipi_rounds - before.ipi_rounds, n);
	cr_assert_eq(s->ipis - before.ipis, n);
	cr_assert_eq(s->ipi_aex - before.ipi_aex, 1);
	cr_assert_eq(s->etrack_failures, 0);
	cr_assert_eq(s->ewb, 0);
	cr_assert_eq(s->eldu, 0);
	cr_assert_not(fx.cpu.lps[ELP].enclave_mode);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}
