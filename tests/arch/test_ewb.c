// SPDX-License-Identifier: MIT
/*
 * ENCLS[EWB] (encls_ewb.c): each check C1..C12 in both directions, and the
 * effects E1 (sealed contents), E2 (PCMD and PAGEINFO.LINADDR), E3 (an
 * occupied slot is reported but the eviction goes on), E4 (the version in
 * the slot) and E5 (VALID := 0, child count). The round trip through ELDU
 * is in test_sealing.c.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "paging_util.h"

static struct fx fx;
static struct backing b, b2;
static uint64_t va; /* a VA page; slot k is at va + 8 * k */

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, 4);
	va = va_page(&fx);
	memset(&b, 0, sizeof(b));
	memset(&b2, 0, sizeof(b2));
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_ewb, .init = setup, .fini = teardown);

static uint64_t data_epc(unsigned int i)
{
	return fx_epc_of(&fx, fx_data(&fx, i));
}

/* Data page i, blocked and tracked: ready for EWB. Returns its EPC addr. */
static uint64_t ready(unsigned int i)
{
	cr_assert_eq(encls_eblock(fx.lp, data_epc(i)), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	return data_epc(i);
}

static struct sgx_pageinfo pageinfo_for(struct backing *bk)
{
	return (struct sgx_pageinfo){
	    .srcpge = (uint64_t)(uintptr_t)bk->contents,
	    .secinfo = (uint64_t)(uintptr_t)&bk->pcmd,
	};
}

/* A rejected EWB: the page, the slot and the child count are unchanged. */
struct before {
	struct fx_snap page;
	uint64_t slot_value;
	uint32_t children;
};

static void before_take(uint64_t epc, uint64_t slot, struct before *s)
{
	fx_snap(&fx, epc, &s->page);
	s->slot_value = va_slot_value(slot);
	s->children = child_count(&fx);
}

static void before_assert(uint64_t slot, const struct before *s)
{
	fx_expect_same(&fx, &s->page);
	cr_assert_eq(va_slot_value(slot), s->slot_value);
	cr_assert_eq(child_count(&fx), s->children);
}

Test(encls_ewb, c1_pageinfo_and_page_aligned)
{
	static struct {
		struct sgx_pageinfo pi;
		uint8_t pad[64];
	} buf __attribute__((aligned(64)));
	struct sgx_pageinfo pi = pageinfo_for(&b);
	void *odd = (uint8_t *)&buf + 16;
	uint64_t epc = ready(0);
	struct before s;

	memcpy(odd, &pi, sizeof(pi));
	before_take(epc, va, &s);
	fx_expect_gp(fx.lp, encls_ewb(fx.lp, odd, epc, va));
	fx_expect_gp(fx.lp, backing_ewb(&fx, epc + 0x800, va, &b));
	before_assert(va, &s);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b), 0);
}

Test(encls_ewb, c2_page_in_epc)
{
	static uint8_t outside[4096] __attribute__((aligned(4096)));
	uint64_t past = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1) + 4096;

	fx_expect_pf(fx.lp, backing_ewb(&fx, (uintptr_t)outside, va, &b),
		     (uintptr_t)outside, FX_PF_EPCM);
	fx_expect_pf(fx.lp, backing_ewb(&fx, past, va, &b), past, FX_PF_EPCM);
	cr_assert_eq(va_slot_value(va), 0);
	cr_assert_eq(backing_ewb(&fx, ready(0), va, &b), 0);
}

Test(encls_ewb, c3_slot_aligned)
{
	uint64_t epc = ready(0);
	struct before s;

	before_take(epc, va, &s);
	fx_expect_gp(fx.lp, backing_ewb(&fx, epc, va + 4, &b));
	before_assert(va, &s);
	cr_assert_eq(backing_ewb(&fx, epc, va + 8, &b), 0);
}

Test(encls_ewb, c4_slot_in_epc)
{
	static uint64_t outside[512] __attribute__((aligned(4096)));
	uint64_t epc = ready(0), slot = (uintptr_t)&outside[3];
	struct before s;

	before_take(epc, va, &s);
	fx_expect_pf(fx.lp, backing_ewb(&fx, epc, slot, &b), slot, FX_PF_EPCM);
	before_assert(va, &s);
	cr_assert_eq(outside[3], 0);
	cr_assert_eq(backing_ewb(&fx, epc, va + 24, &b), 0);
}

Test(encls_ewb, c5_page_and_slot_not_the_same_page)
{
	uint64_t other = va_page(&fx);
	struct before s;

	before_take(va, va + 16, &s);
	fx_expect_gp(fx.lp, backing_ewb(&fx, va, va + 16, &b));
	before_assert(va + 16, &s);
	/* A VA page's version can live in another VA page. */
	cr_assert_eq(backing_ewb(&fx, va, other, &b), 0);
	cr_assert_not(epcm_of(&fx, va)->valid);
}

Test(encls_ewb, c6_linaddr_and_secs_must_be_zero)
{
	struct sgx_pageinfo pi = pageinfo_for(&b);
	uint64_t epc = ready(0);
	struct before s;

	before_take(epc, va, &s);
	pi.linaddr = fx_data(&fx, 0);
	fx_expect_gp(fx.lp, encls_ewb(fx.lp, &pi, epc, va));
	pi.linaddr = 0;
	pi.secs = fx.secs;
	fx_expect_gp(fx.lp, encls_ewb(fx.lp, &pi, epc, va));
	before_assert(va, &s);
	pi.secs = 0;
	cr_assert_eq(encls_ewb(fx.lp, &pi, epc, va), 0);
}

Test(encls_ewb, c7_pcmd_and_srcpge_aligned)
{
	struct sgx_pageinfo pi = pageinfo_for(&b);
	uint64_t epc = ready(0);
	struct before s;

	before_take(epc, va, &s);
	pi.secinfo += 64;
	fx_expect_gp(fx.lp, encls_ewb(fx.lp, &pi, epc, va));
	pi.secinfo -= 64;
	pi.srcpge += 128;
	fx_expect_gp(fx.lp, encls_ewb(fx.lp, &pi, epc, va));
	before_assert(va, &s);
	pi.srcpge -= 128;
	cr_assert_eq(encls_ewb(fx.lp, &pi, epc, va), 0);
}

Test(encls_ewb, c8_page_must_be_valid)
{
	uint64_t free_page = fx_alloc_epc(&fx);
	struct before s;

	before_take(free_page, va, &s);
	fx_expect_pf(fx.lp, backing_ewb(&fx, free_page, va, &b), free_page,
		     FX_PF_EPCM);
	before_assert(va, &s);
	cr_assert_eq(backing_ewb(&fx, ready(0), va, &b), 0);
}

Test(encls_ewb, c9_slot_must_be_in_a_va_page)
{
	uint64_t epc = ready(0), free_page = fx_alloc_epc(&fx);
	uint64_t reg_slot = data_epc(1) + 8, free_slot = free_page + 8;
	struct before s;
	struct fx_snap r;

	before_take(epc, va, &s);
	fx_snap(&fx, data_epc(1), &r);
	fx_expect_pf(fx.lp, backing_ewb(&fx, epc, reg_slot, &b), reg_slot,
		     FX_PF_EPCM);
	fx_expect_pf(fx.lp, backing_ewb(&fx, epc, free_slot, &b), free_slot,
		     FX_PF_EPCM);
	fx_expect_pf(fx.lp, backing_ewb(&fx, epc, fx.secs, &b), fx.secs,
		     FX_PF_EPCM);
	before_assert(va, &s);
	fx_expect_same(&fx, &r);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b), 0);
}

Test(encls_ewb, c10_child_must_be_blocked)
{
	uint64_t epc = data_epc(0);
	uint64_t tcs = fx_epc_of(&fx, fx.base + FX_TCS_OFF);
	struct before s;

	before_take(epc, va, &s);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b), SGX_PAGE_NOT_BLOCKED);
	before_assert(va, &s);
	cr_assert_eq(backing_ewb(&fx, tcs, va, &b), SGX_PAGE_NOT_BLOCKED);
	cr_assert_eq(backing_ewb(&fx, ready(0), va, &b), 0);
}

Test(encls_ewb, c11_child_must_be_tracked)
{
	uint64_t epc = data_epc(0);
	struct before s;

	cr_assert_eq(encls_eblock(fx.lp, epc), 0);
	before_take(epc, va, &s);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b), SGX_NOT_TRACKED);
	before_assert(va, &s);
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b), 0);
}

/* The reclaimer's retry: NOT_TRACKED until the LP inside has exited. */
Test(encls_ewb, c11_lp_inside_at_etrack_must_exit)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t epc = data_epc(0);
	struct before s;

	fx_enter(&fx, a);
	cr_assert_eq(encls_eblock(fx.lp, epc), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	before_take(epc, va, &s);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b), SGX_NOT_TRACKED);
	before_assert(va, &s);
	fx_aex(&fx, a);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b), 0);
}

Test(encls_ewb, c12_secs_with_children)
{
	struct before s;

	before_take(fx.secs, va, &s);
	cr_assert_eq(backing_ewb(&fx, fx.secs, va, &b), SGX_CHILD_PRESENT);
	before_assert(va, &s);
}

Test(encls_ewb, c12_childless_secs_needs_no_blocking)
{
	uint64_t lins[MAX_CHILDREN];
	unsigned int n = enclave_children(&fx, 4, lins);

	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(encls_eremove(fx.lp, fx_epc_of(&fx, lins[i])), 0);
	cr_assert_eq(child_count(&fx), 0);
	cr_assert_eq(backing_ewb(&fx, fx.secs, va, &b), 0);
	cr_assert_not(epcm_of(&fx, fx.secs)->valid);
}

Test(encls_ewb, va_page_needs_no_blocking_or_tracking)
{
	uint64_t other = va_page(&fx);

	cr_assert_eq(backing_ewb(&fx, other, va, &b), 0);
	cr_assert_not(epcm_of(&fx, other)->valid);
}

Test(encls_ewb, e1_contents_leave_sealed)
{
	uint64_t epc = data_epc(0);
	static const uint8_t zero[16];
	uint8_t plain[4096];

	for (unsigned int i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 + 1);
	memcpy((void *)(uintptr_t)epc, plain, sizeof(plain));
	cr_assert_eq(backing_ewb(&fx, ready(0), va, &b), 0);
	cr_assert_neq(memcmp(b.contents, plain, sizeof(plain)), 0);
	cr_assert_neq(memcmp(b.pcmd.mac, zero, sizeof(zero)), 0);
}

Test(encls_ewb, e2_pcmd_and_linaddr_of_a_child)
{
	const struct secs_hidden *h = secs_hidden_at(&fx.cpu, secs_idx(&fx));
	static const uint8_t zero[56];

	memset(&b.pcmd, 0xAA, sizeof(b.pcmd));
	cr_assert_eq(fx_emodpr(&fx, fx_data(&fx, 0), SGX_SECINFO_R), 0);
	cr_assert_eq(backing_ewb(&fx, ready(0), va, &b), 0);
	cr_assert_eq(b.pcmd.secinfo.flags,
		     SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_PR);
	cr_assert_eq(memcmp(b.pcmd.secinfo.reserved, zero, 56), 0);
	cr_assert_eq(memcmp(b.pcmd.reserved, zero, 40), 0);
	cr_assert_eq(b.pcmd.enclave_id, h->eid);
	cr_assert_neq(h->eid, 0);
	cr_assert_eq(b.linaddr, fx_data(&fx, 0));
}

Test(encls_ewb, e2_pcmd_of_va_page)
{
	uint64_t other = va_page(&fx);

	memset(&b.pcmd, 0xAA, sizeof(b.pcmd));
	cr_assert_eq(backing_ewb(&fx, other, va, &b), 0);
	cr_assert_eq(b.pcmd.secinfo.flags, SGX_SECINFO_TYPE(PT_VA));
	cr_assert_eq(b.pcmd.enclave_id, 0);
	cr_assert_eq(b.linaddr, 0);
}

Test(encls_ewb, e3_occupied_slot_still_evicts)
{
	uint64_t first, epc;

	cr_assert_eq(backing_ewb(&fx, ready(0), va, &b), 0);
	first = va_slot_value(va);
	epc = ready(1);
	cr_assert_eq(backing_ewb(&fx, epc, va, &b2), SGX_VA_SLOT_OCCUPIED);
	cr_assert_not(epcm_of(&fx, epc)->valid);
	cr_assert_neq(va_slot_value(va), first);
	cr_assert_eq(va_slot_value(va), fx.cpu.next_version - 1);
}

Test(encls_ewb, e4_fresh_version_in_slot)
{
	uint64_t v0, v1;

	cr_assert_eq(va_slot_value(va), 0);
	cr_assert_eq(backing_ewb(&fx, ready(0), va, &b), 0);
	v0 = va_slot_value(va);
	cr_assert_neq(v0, 0);
	cr_assert_eq(backing_ewb(&fx, ready(1), va + 8, &b2), 0);
	v1 = va_slot_value(va + 8);
	cr_assert_gt(v1, v0);
	cr_assert_eq(v1, fx.cpu.next_version - 1);
}

Test(encls_ewb, e5_page_freed_and_uncounted)
{
	uint32_t children = child_count(&fx);
	uint64_t epc = ready(2);

	cr_assert_eq(backing_ewb(&fx, epc, va, &b), 0);
	cr_assert_not(epcm_of(&fx, epc)->valid);
	cr_assert_eq(child_count(&fx), children - 1);
}
