// SPDX-License-Identifier: MIT
/*
 * ENCLU[EMODPE] (src/arch/enclu_emodpe.c): each check C1..C10 violated
 * (exact fault, nothing changed) and satisfied (the leaf gets past it), and
 * the effect E1, with what it means for the LP's TLB.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define NR_DATA 4
#define SI_OFF 0x800 /* where the tests put SECINFOs on the scratch page */

#define R SGX_SECINFO_R
#define W SGX_SECINFO_W
#define X SGX_SECINFO_X

#define ENCLU_PF (X86_PF_SGX | X86_PF_USER | X86_PF_PROT) /* 0x8005 */
#define PTE_RW (SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX)

static struct fx fx;
static struct sgx_lp *lp; /* inside the enclave unless a test says not */
static uint8_t ram[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint64_t page, rbx; /* a good target (REG RW) and SECINFO (X) */

static uint64_t hole(unsigned int i)
{
	return fx_data(&fx, NR_DATA + i);
}

static uint64_t scratch(void)
{
	return fx.base + FX_SCRATCH_OFF;
}

static void *host(uint64_t lin)
{
	return (void *)(uintptr_t)(fx_epc_of(&fx, lin & PAGE_MASK) +
				   (lin & ~PAGE_MASK));
}

static uint64_t put_secinfo(uint64_t lin, uint64_t flags)
{
	struct sgx_secinfo s = { .flags = flags };

	memcpy(host(lin), &s, sizeof(s));
	return lin;
}

static uint64_t secinfo(uint64_t flags)
{
	return put_secinfo(scratch() + SI_OFF, flags);
}

static void map(uint64_t lin, uint64_t frame)
{
	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, frame, PTE_RW), 0);
}

static const struct epcm_entry *epcm(uint64_t lin)
{
	return fx_epcm_of(&fx, lin);
}

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, NR_DATA);
	lp = &fx.cpu.lps[1];
	fx_enter(&fx, lp);
	memset(ram, 0, sizeof(ram));
	page = fx_data(&fx, 0);
	rbx = secinfo(X);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(enclu_emodpe, .init = setup, .fini = teardown);

static int emodpe(uint64_t b, uint64_t c)
{
	return enclu_emodpe(lp, b, c);
}

static struct fx_snap snap;

static void take_snap(uint64_t lin)
{
	fx_snap(&fx, fx_epc_of(&fx, lin), &snap);
}

static void expect_gp_same(uint64_t b, uint64_t c)
{
	fx_expect_gp(lp, emodpe(b, c));
	fx_expect_same(&fx, &snap);
}

static void expect_pf_same(uint64_t b, uint64_t c, uint64_t addr,
			   uint32_t ec)
{
	fx_expect_pf(lp, emodpe(b, c), addr, ec);
	fx_expect_same(&fx, &snap);
}

/* A page of a second enclave with the same ELRANGE, mapped at lin. */
static void foreign_page(uint64_t lin)
{
	uint64_t secs = fx.secs;

	fx_ecreate(&fx, fx.base, fx.size);
	fx_eadd(&fx, lin, SGX_SECINFO_TYPE(PT_REG) | R | W, NULL, false);
	fx.secs = secs;
}

/* EREMOVE the page at lin (no LP may be inside): VALID goes, the rest of
 * its EPCM entry stays as it was. */
static void remove_page(uint64_t lin)
{
	fx_exit(&fx, lp);
	cr_assert_eq(encls_eremove(fx.lp, fx_epc_of(&fx, lin)), 0);
	fx_enter(&fx, lp);
}

Test(enclu_emodpe, c1_outside_enclave_mode)
{
	take_snap(page);
	fx_exit(&fx, lp);
	expect_gp_same(rbx, page);
	fx_enter(&fx, lp);
	cr_assert_eq(emodpe(rbx, page), 0);
}

Test(enclu_emodpe, c2_unaligned)
{
	take_snap(page);
	expect_gp_same(put_secinfo(scratch() + 0x840, X) + 0x10, page);
	expect_gp_same(rbx, page + 8);
	/* Checked before C3: unaligned and outside ELRANGE is #GP too. */
	expect_gp_same(rbx, fx.base + fx.size + 8);
	cr_assert_eq(emodpe(rbx, page), 0);
}

Test(enclu_emodpe, c3_outside_elrange)
{
	uint64_t out = fx.base + fx.size;

	take_snap(page);
	expect_gp_same(fx.base - 64, page);
	map(out, fx_epc_of(&fx, page));
	expect_gp_same(rbx, out);
	expect_gp_same(rbx, fx.base - PAGE_SIZE);
	/* Checked before C4: an unmapped SECINFO is not reached. */
	expect_gp_same(hole(5), out);
	cr_assert_eq(emodpe(rbx, page), 0);
}

Test(enclu_emodpe, c4_secinfo_not_in_epc)
{
	uint64_t unmapped = hole(5) + 0x40, plain = hole(6) + 0x40;
	struct sgx_secinfo s = { .flags = X };

	memcpy(ram + 0x40, &s, sizeof(s));
	map(hole(6), (uint64_t)(uintptr_t)ram);
	take_snap(page);
	expect_pf_same(unmapped, page, unmapped, X86_PF_USER);
	expect_pf_same(plain, page, plain, ENCLU_PF);
	/* Checked before C5: an unmapped target is not reached. */
	expect_pf_same(unmapped, hole(7), unmapped, X86_PF_USER);
	cr_assert_eq(emodpe(rbx, page), 0);
}

Test(enclu_emodpe, c5_target_not_in_epc)
{
	uint64_t unmapped = hole(5), plain = hole(6);
	uint64_t bad_rbx = put_secinfo(fx.base + FX_TCS_OFF + SI_OFF, X);

	map(plain, (uint64_t)(uintptr_t)ram);
	take_snap(page);
	expect_pf_same(rbx, unmapped, unmapped, X86_PF_USER);
	expect_pf_same(rbx, plain, plain, ENCLU_PF);
	/* Checked before C6: a SECINFO in a TCS page is not reached. */
	expect_pf_same(bad_rbx, unmapped, unmapped, X86_PF_USER);
	cr_assert_eq(emodpe(rbx, page), 0);
}

Test(enclu_emodpe, c6_secinfo_page_state)
{
	uint64_t pending = hole(1), alias = hole(2) + SI_OFF, in_pending;
	uint64_t in_tcs = put_secinfo(fx.base + FX_TCS_OFF + SI_OFF, X);
	uint64_t foreign = hole(3) + 0x40;

	fx_eaug(&fx, pending);
	in_pending = put_secinfo(pending + 0x40, X);
	map(hole(2), fx_epc_of(&fx, scratch()));
	foreign_page(hole(3));
	put_secinfo(foreign, X);
	take_snap(page);
	expect_pf_same(in_pending, page, in_pending, ENCLU_PF);
	expect_pf_same(in_tcs, page, in_tcs, ENCLU_PF);
	expect_pf_same(alias, page, alias, ENCLU_PF);
	expect_pf_same(foreign, page, foreign, ENCLU_PF);
	/* Checked before C7: reserved bits in such a SECINFO are unseen. */
	put_secinfo(in_tcs, X | (1ULL << 6));
	expect_pf_same(in_tcs, page, in_tcs, ENCLU_PF);
	cr_assert_eq(fx_emodpr(&fx, scratch(), 0), 0);
	expect_pf_same(rbx, page, rbx, ENCLU_PF);
}

Test(enclu_emodpe, c6_secinfo_page_not_valid)
{
	uint64_t in_removed = put_secinfo(fx_data(&fx, 1) + 0x40, X);

	remove_page(fx_data(&fx, 1));
	take_snap(page);
	expect_pf_same(in_removed, page, in_removed, ENCLU_PF);
}

Test(enclu_emodpe, c6_secinfo_blocked)
{
	take_snap(page);
	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, scratch())), 0);
	expect_pf_same(rbx, page, rbx, ENCLU_PF);
}

Test(enclu_emodpe, c7_secinfo_reserved)
{
	static const uint64_t bad[] = { 1ULL << 6, 1ULL << 7, 1ULL << 16,
					1ULL << 63, SGX_SECINFO_PENDING,
					SGX_SECINFO_MODIFIED, SGX_SECINFO_PR };
	struct sgx_secinfo s = { .flags = X };
	uint64_t pending = hole(1);

	take_snap(page);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_gp_same(secinfo(X | bad[i]), page);
	s.reserved[1] = 1;
	memcpy(host(rbx), &s, sizeof(s));
	expect_gp_same(rbx, page);
	/* Checked before C8: a PENDING target is not reached. */
	fx_eaug(&fx, pending);
	expect_gp_same(secinfo(X | SGX_SECINFO_PR), pending);
	/* PAGE_TYPE is ignored. */
	cr_assert_eq(emodpe(secinfo(X | SGX_SECINFO_TYPE(PT_TCS)), page), 0);
}

Test(enclu_emodpe, c8_target_state)
{
	uint64_t pending = hole(1), free_page = hole(2), trim = fx_data(&fx, 1);
	uint64_t tcs = fx.base + FX_TCS_OFF, foreign = hole(3);

	fx_eaug(&fx, pending);
	map(free_page, fx_alloc_epc(&fx));
	cr_assert_eq(fx_emodt(&fx, trim, PT_TRIM), 0);
	foreign_page(foreign);
	take_snap(pending);
	expect_pf_same(rbx, pending, pending, ENCLU_PF);
	take_snap(free_page);
	expect_pf_same(rbx, free_page, free_page, ENCLU_PF);
	take_snap(trim);
	expect_pf_same(rbx, trim, trim, ENCLU_PF);
	take_snap(tcs);
	expect_pf_same(rbx, tcs, tcs, ENCLU_PF);
	take_snap(foreign);
	expect_pf_same(rbx, foreign, foreign, ENCLU_PF);
	/* Checked before C10: an R=0 page with a W-only request on TRIM. */
	expect_pf_same(secinfo(W), trim, trim, ENCLU_PF);
}

Test(enclu_emodpe, c8_target_not_valid)
{
	remove_page(page);
	take_snap(page);
	expect_pf_same(rbx, page, page, ENCLU_PF);
}

Test(enclu_emodpe, c8_target_blocked)
{
	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, page)), 0);
	take_snap(page);
	expect_pf_same(rbx, page, page, ENCLU_PF);
}

Test(enclu_emodpe, c9_target_address)
{
	uint64_t alias = hole(4);

	map(alias, fx_epc_of(&fx, page));
	take_snap(page);
	expect_pf_same(rbx, alias, alias, ENCLU_PF);
	cr_assert_eq(emodpe(rbx, page), 0);
}

Test(enclu_emodpe, c10_w_without_r)
{
	cr_assert_eq(fx_emodpr(&fx, page, 0), 0);
	take_snap(page);
	expect_gp_same(secinfo(W), page);
	expect_gp_same(secinfo(W | X), page);
	/* With R in the request, or R already in the EPCM, W is fine. */
	cr_assert_eq(emodpe(secinfo(R | W), page), 0);
	cr_assert(epcm(page)->r && epcm(page)->w);
	cr_assert_eq(fx_emodpr(&fx, fx_data(&fx, 1), R), 0);
	cr_assert_eq(emodpe(secinfo(W), fx_data(&fx, 1)), 0);
	cr_assert(epcm(fx_data(&fx, 1))->w);
	/* X alone on an R=0 page is allowed. */
	cr_assert_eq(fx_emodpr(&fx, fx_data(&fx, 2), 0), 0);
	cr_assert_eq(emodpe(secinfo(X), fx_data(&fx, 2)), 0);
	cr_assert(!epcm(fx_data(&fx, 2))->r && epcm(fx_data(&fx, 2))->x);
}

Test(enclu_emodpe, e1_rights_ored)
{
	const struct epcm_entry *e = epcm(page);

	cr_assert_eq(fx_emodpr(&fx, page, R), 0);
	cr_assert(e->r && !e->w && !e->x);
	cr_assert_eq(emodpe(secinfo(X), page), 0);
	cr_assert(e->r && !e->w && e->x);
	/* Nothing to add is a no-op, not a restriction. */
	cr_assert_eq(emodpe(secinfo(0), page), 0);
	cr_assert(e->r && !e->w && e->x);
	cr_assert_eq(emodpe(secinfo(W), page), 0);
	cr_assert(e->r && e->w && e->x);
}

Test(enclu_emodpe, e1_pr_and_tracking_untouched)
{
	const struct epcm_entry *e = epcm(page);
	uint64_t stamp, etracks = fx.cpu.stats.encls[ETRACK];

	cr_assert_eq(fx_emodpr(&fx, page, R), 0);
	stamp = e->track_stamp;
	cr_assert_eq(emodpe(secinfo(W), page), 0);
	cr_assert_eq(e->pr, 1, "a page waiting for EACCEPT may be extended");
	cr_assert_eq(e->track_stamp, stamp);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK], etracks);
	cr_assert_eq(e->pending, 0);
	cr_assert_eq(e->modified, 0);
	cr_assert_eq(e->pt, PT_REG);
}

Test(enclu_emodpe, e1_new_rights_after_one_spurious_pf)
{
	uint64_t v = 5, stale = fx.cpu.stats.tlb_stale_fault;
	void *h;

	/* The OS maps the page RWX; the EPCM allows RW only. */
	cr_assert_eq(sgx_pgtable_map(&fx.pt, page, fx_epc_of(&fx, page),
				     SGX_PTE_PRESENT | SGX_PTE_WRITE), 0);
	cr_assert_eq(sgx_lp_write(lp, page, &v, sizeof(v)), 0);
	cr_assert_eq(emodpe(rbx, page), 0);
	/*
	 * The TLB entry the write filled still says RW: the fetch takes the
	 * spurious #PF (a plain protection fault, which the kernel finds
	 * nothing to fix for); its AEX flushes, and after ERESUME the new
	 * rights are there.
	 */
	fx_expect_pf(lp, sgx_lp_access(lp, page, SGX_ACCESS_EXEC, &h), page,
		     0x15);
	cr_assert_eq(fx.cpu.stats.tlb_stale_fault, stale + 1);
	cr_assert(lp->enclave_mode);
	cr_assert_eq(sgx_lp_access(lp, page, SGX_ACCESS_EXEC, &h), 0);
	cr_assert_eq(sgx_lp_write(lp, page, &v, sizeof(v)), 0);
	cr_assert_eq(fx.cpu.stats.tlb_stale_fault, stale + 1);
}
