// SPDX-License-Identifier: MIT
/*
 * ENCLS[ELDU] and ENCLS[ELDB] (encls_eld.c): the two leaves share one
 * checked body, so every check C1..C12 is run in both directions against
 * both leaves; then the effects E1 (contents), E2 (slot cleared), E3
 * (EPCM restored), E4 (BLOCKED: the one difference), E5 (no tracking stamp)
 * and E6 (VALID, child count). Tampering and replay are in test_sealing.c.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "paging_util.h"

typedef int (*load_fn)(struct sgx_lp *lp, const struct sgx_pageinfo *pi,
		       uint64_t epc, uint64_t va_slot);

static struct fx fx;
static struct backing b;
static uint64_t va, target; /* the VA page, and a free EPC page */
static uint8_t pattern[4096];

static uint64_t data_epc(unsigned int i)
{
	return fx_epc_of(&fx, fx_data(&fx, i));
}

/* Data page 0, filled with pattern, evicted into b (slot 2 of va). */
static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, 4);
	va = va_page(&fx);
	target = fx_alloc_epc(&fx);
	for (unsigned int i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13 + 5);
	memcpy((void *)(uintptr_t)data_epc(0), pattern, sizeof(pattern));
	memset(&b, 0, sizeof(b));
	evict(&fx, fx_data(&fx, 0), va + 16, &b);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_eldu, .init = setup, .fini = teardown);
TestSuite(encls_eldb, .init = setup, .fini = teardown);

/* One check body, run as an ELDU test and as an ELDB test. */
#define BOTH_LEAVES(name)                                                      \
	static void name(load_fn ld);                                          \
	Test(encls_eldu, name)                                                 \
	{                                                                      \
		name(encls_eldu);                                              \
	}                                                                      \
	Test(encls_eldb, name)                                                 \
	{                                                                      \
		name(encls_eldb);                                              \
	}                                                                      \
	static void name(load_fn ld)

static int load(load_fn ld, const struct sgx_pageinfo *pi, uint64_t epc,
		uint64_t slot)
{
	return ld(fx.lp, pi, epc, slot);
}

/* A rejected load: target page, slot and child count are unchanged. */
struct before {
	struct fx_snap page;
	uint64_t slot_value;
	uint32_t children;
};

static void before_take(uint64_t epc, struct before *s)
{
	fx_snap(&fx, epc, &s->page);
	s->slot_value = va_slot_value(b.slot);
	s->children = child_count(&fx);
}

static void before_assert(const struct before *s)
{
	fx_expect_same(&fx, &s->page);
	cr_assert_eq(va_slot_value(b.slot), s->slot_value);
	cr_assert_eq(child_count(&fx), s->children);
}

BOTH_LEAVES(c1_pageinfo_and_page_aligned)
{
	static struct {
		struct sgx_pageinfo pi;
		uint8_t pad[64];
	} buf __attribute__((aligned(64)));
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	void *odd = (uint8_t *)&buf + 8;
	struct before s;

	memcpy(odd, &pi, sizeof(pi));
	before_take(target, &s);
	fx_expect_gp(fx.lp, load(ld, odd, target, b.slot));
	fx_expect_gp(fx.lp, load(ld, &pi, target + 0x100, b.slot));
	before_assert(&s);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c2_page_in_epc)
{
	static uint8_t outside[4096] __attribute__((aligned(4096)));
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	uint64_t past = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1) + 4096;
	struct before s;

	before_take(target, &s);
	fx_expect_pf(fx.lp, load(ld, &pi, (uintptr_t)outside, b.slot),
		     (uintptr_t)outside, FX_PF_EPCM);
	fx_expect_pf(fx.lp, load(ld, &pi, past, b.slot), past, FX_PF_EPCM);
	before_assert(&s);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c3_slot_aligned)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	struct before s;

	before_take(target, &s);
	fx_expect_gp(fx.lp, load(ld, &pi, target, b.slot + 2));
	before_assert(&s);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c4_slot_in_epc)
{
	static uint64_t outside[512] __attribute__((aligned(4096)));
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	uint64_t slot = (uintptr_t)&outside[2];
	struct before s;

	outside[2] = va_slot_value(b.slot);
	before_take(target, &s);
	fx_expect_pf(fx.lp, load(ld, &pi, target, slot), slot, FX_PF_EPCM);
	before_assert(&s);
	cr_assert_eq(outside[2], va_slot_value(b.slot));
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c5_pcmd_and_srcpge_aligned)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	struct before s;

	before_take(target, &s);
	pi.secinfo += 32;
	fx_expect_gp(fx.lp, load(ld, &pi, target, b.slot));
	pi.secinfo -= 32;
	pi.srcpge += 512;
	fx_expect_gp(fx.lp, load(ld, &pi, target, b.slot));
	before_assert(&s);
	pi.srcpge -= 512;
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c6_target_must_be_free)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	struct before s;

	before_take(data_epc(1), &s);
	fx_expect_pf(fx.lp, load(ld, &pi, data_epc(1), b.slot), data_epc(1),
		     FX_PF_EPCM);
	before_assert(&s);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c7_slot_must_be_in_a_va_page)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	uint64_t reg_slot = data_epc(1) + 16;
	uint64_t free_slot = fx_alloc_epc(&fx) + 16;
	struct before s;

	/* The same version in a non-VA page must not count. */
	*(uint64_t *)(uintptr_t)reg_slot = va_slot_value(b.slot);
	*(uint64_t *)(uintptr_t)free_slot = va_slot_value(b.slot);
	before_take(target, &s);
	fx_expect_pf(fx.lp, load(ld, &pi, target, reg_slot), reg_slot,
		     FX_PF_EPCM);
	fx_expect_pf(fx.lp, load(ld, &pi, target, free_slot), free_slot,
		     FX_PF_EPCM);
	before_assert(&s);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c8_secs_aligned)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs + 8);
	struct before s;

	before_take(target, &s);
	fx_expect_gp(fx.lp, load(ld, &pi, target, b.slot));
	before_assert(&s);
	pi.secs = fx.secs;
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c9_secs_in_epc)
{
	static uint8_t outside[4096] __attribute__((aligned(4096)));
	struct sgx_pageinfo pi = backing_pageinfo(&b, (uintptr_t)outside);
	struct before s;

	before_take(target, &s);
	fx_expect_pf(fx.lp, load(ld, &pi, target, b.slot), (uintptr_t)outside,
		     FX_PF_EPCM);
	before_assert(&s);
	pi.secs = fx.secs;
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(c10_secs_must_be_a_valid_secs)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, data_epc(1));
	uint64_t free_page = fx_alloc_epc(&fx);
	struct before s;

	before_take(target, &s);
	fx_expect_pf(fx.lp, load(ld, &pi, target, b.slot), data_epc(1),
		     FX_PF_EPCM);
	pi.secs = va;
	fx_expect_pf(fx.lp, load(ld, &pi, target, b.slot), va, FX_PF_EPCM);
	pi.secs = free_page;
	fx_expect_pf(fx.lp, load(ld, &pi, target, b.slot), free_page,
		     FX_PF_EPCM);
	before_assert(&s);
	pi.secs = fx.secs;
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

/* A VA page has no owner: PAGEINFO.SECS must be 0 for it. */
BOTH_LEAVES(c11_ownerless_page_needs_secs_zero)
{
	static struct backing vb;
	uint64_t other = va_page(&fx);
	struct sgx_pageinfo pi;
	struct fx_snap s;

	cr_assert_eq(backing_ewb(&fx, other, va + 8, &vb), 0);
	pi = backing_pageinfo(&vb, fx.secs);
	fx_snap(&fx, target, &s);
	fx_expect_gp(fx.lp, ld(fx.lp, &pi, target, vb.slot));
	fx_expect_same(&fx, &s);
	cr_assert_neq(va_slot_value(vb.slot), 0);
	pi.secs = 0;
	cr_assert_eq(ld(fx.lp, &pi, target, vb.slot), 0);
	cr_assert_eq(epcm_of(&fx, target)->pt, PT_VA);
}

BOTH_LEAVES(c12_mac_must_verify)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	struct before s;

	before_take(target, &s);
	pi.linaddr = fx_data(&fx, 1);
	cr_assert_eq(load(ld, &pi, target, b.slot), SGX_MAC_COMPARE_FAIL);
	before_assert(&s);
	pi.linaddr = fx_data(&fx, 0);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
}

BOTH_LEAVES(e1_contents_restored)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);

	memset((void *)(uintptr_t)target, 0xEE, 4096);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
	cr_assert_eq(memcmp((void *)(uintptr_t)target, pattern, 4096), 0);
}

/* The slot is consumed: the same sealed copy cannot be loaded twice. */
BOTH_LEAVES(e2_slot_cleared)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	uint64_t second = fx_alloc_epc(&fx);

	cr_assert_neq(va_slot_value(b.slot), 0);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
	cr_assert_eq(va_slot_value(b.slot), 0);
	cr_assert_eq(load(ld, &pi, second, b.slot), SGX_MAC_COMPARE_FAIL);
	cr_assert_not(epcm_of(&fx, second)->valid);
}

BOTH_LEAVES(e3_epcm_restored)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	const struct epcm_entry *e = epcm_of(&fx, target);

	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
	cr_assert_eq(e->pt, PT_REG);
	cr_assert(e->r && e->w && !e->x);
	cr_assert_eq(e->pending | e->modified | e->pr, 0);
	cr_assert_eq(e->enclave_address, fx_data(&fx, 0));
	cr_assert_eq(e->enclave_secs, secs_idx(&fx));
}

BOTH_LEAVES(e3_va_page_names_itself)
{
	static struct backing vb;
	uint64_t other = va_page(&fx);
	struct sgx_pageinfo pi;
	const struct epcm_entry *e = epcm_of(&fx, target);

	*(uint64_t *)(uintptr_t)(other + 64) = va_slot_value(b.slot);
	*(uint64_t *)(uintptr_t)b.slot = 0;
	b.slot = other + 64;
	cr_assert_eq(backing_ewb(&fx, other, va + 8, &vb), 0);
	pi = backing_pageinfo(&vb, 0);
	cr_assert_eq(ld(fx.lp, &pi, target, vb.slot), 0);
	cr_assert_eq(e->pt, PT_VA);
	cr_assert_eq(e->enclave_secs, epc_idx(&fx, target));
	cr_assert_eq(e->blocked | e->r | e->w | e->x, 0);
	/* The slots it held came back with it. */
	b.slot = target + 64;
	cr_assert_eq(backing_eldu(&fx, &b, fx.secs, fx_alloc_epc(&fx)), 0);
}

Test(encls_eldu, e4_child_comes_back_unblocked)
{
	cr_assert_eq(backing_eldu(&fx, &b, fx.secs, target), 0);
	cr_assert_not(epcm_of(&fx, target)->blocked);
}

/* ELDB restores a blocked page that needs no new tracking cycle. */
Test(encls_eldb, e4_child_comes_back_blocked)
{
	static struct backing again;

	cr_assert_eq(backing_eldb(&fx, &b, fx.secs, target), 0);
	cr_assert(epcm_of(&fx, target)->blocked);
	cr_assert_eq(backing_ewb(&fx, target, va, &again), 0);
}

Test(encls_eldb, e4_secs_comes_back_unblocked)
{
	static struct backing sb;
	uint64_t lins[MAX_CHILDREN];
	unsigned int n = enclave_children(&fx, 4, lins);

	/* Data page 0 is evicted already: its old frame is a no-op. */
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(encls_eremove(fx.lp, fx_epc_of(&fx, lins[i])), 0);
	cr_assert_eq(backing_ewb(&fx, fx.secs, va + 24, &sb), 0);
	cr_assert_eq(backing_eldb(&fx, &sb, 0, target), 0);
	cr_assert_eq(epcm_of(&fx, target)->pt, PT_SECS);
	cr_assert_not(epcm_of(&fx, target)->blocked);
}

BOTH_LEAVES(e5_no_tracking_stamp)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);

	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
	cr_assert_eq(epcm_of(&fx, target)->track_stamp, 0);
	cr_assert(sgx_page_tracked(&fx.cpu, epc_idx(&fx, target)));
}

BOTH_LEAVES(e6_valid_and_counted)
{
	struct sgx_pageinfo pi = backing_pageinfo(&b, fx.secs);
	uint32_t children = child_count(&fx);

	cr_assert_not(epcm_of(&fx, target)->valid);
	cr_assert_eq(load(ld, &pi, target, b.slot), 0);
	cr_assert(epcm_of(&fx, target)->valid);
	cr_assert_eq(child_count(&fx), children + 1);
}
