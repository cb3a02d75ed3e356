// SPDX-License-Identifier: MIT
/*
 * ENCLU[EACCEPTCOPY] (src/arch/enclu_eacceptcopy.c): each check C1..C13
 * violated (exact fault or code, nothing changed) and satisfied (the leaf
 * gets past it), and the effects E1..E3.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define NR_DATA 4
#define SI_OFF 0x800 /* where the tests put SECINFOs on the scratch page */

#define REG SGX_SECINFO_TYPE(PT_REG)
#define R SGX_SECINFO_R
#define W SGX_SECINFO_W
#define X SGX_SECINFO_X

#define ENCLU_PF (X86_PF_SGX | X86_PF_USER | X86_PF_PROT) /* 0x8005 */
#define PTE_RW (SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX)

static struct fx fx;
static struct sgx_lp *lp; /* inside the enclave unless a test says not */
static uint8_t ram[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint64_t src, dst, rbx; /* a good source, destination and SECINFO */

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

static void map(uint64_t lin, uint64_t frame, uint32_t flags)
{
	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, frame, flags), 0);
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
	src = fx_data(&fx, 0);
	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		((uint8_t *)host(src))[i] = (uint8_t)(i * 7 + 1);
	dst = hole(0);
	fx_eaug(&fx, dst);
	rbx = secinfo(REG | R | X);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(enclu_eacceptcopy, .init = setup, .fini = teardown);

static int copy(uint64_t b, uint64_t c, uint64_t d)
{
	return enclu_eacceptcopy(lp, b, c, d);
}

/* A failing EACCEPTCOPY changes neither the destination nor the source. */
static struct fx_snap snap_dst, snap_src;

static void take_snaps(void)
{
	fx_snap(&fx, fx_epc_of(&fx, dst), &snap_dst);
	fx_snap(&fx, fx_epc_of(&fx, src), &snap_src);
}

static void expect_same(void)
{
	fx_expect_same(&fx, &snap_dst);
	fx_expect_same(&fx, &snap_src);
}

static void expect_gp_same(uint64_t b, uint64_t c, uint64_t d)
{
	take_snaps();
	fx_expect_gp(lp, copy(b, c, d));
	expect_same();
}

static void expect_pf_same(uint64_t b, uint64_t c, uint64_t d,
			   uint64_t addr, uint32_t ec)
{
	take_snaps();
	fx_expect_pf(lp, copy(b, c, d), addr, ec);
	expect_same();
}

static void expect_mismatch_same(uint64_t b, uint64_t c, uint64_t d)
{
	take_snaps();
	cr_assert_eq(copy(b, c, d), SGX_PAGE_ATTRIBUTES_MISMATCH);
	expect_same();
}

/* A page of a second, initialized enclave with the same ELRANGE. */
static uint64_t foreign_eaug(uint64_t lin)
{
	uint64_t secs = fx.secs, epc;

	fx_ecreate(&fx, fx.base, fx.size);
	fx_einit(&fx);
	epc = fx_eaug(&fx, lin);
	fx.secs = secs;
	return epc;
}

/* A page of a second enclave with the same ELRANGE, not PENDING. */
static void foreign_eadd(uint64_t lin)
{
	uint64_t secs = fx.secs;

	fx_ecreate(&fx, fx.base, fx.size);
	fx_eadd(&fx, lin, REG | R | W, NULL, false);
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

Test(enclu_eacceptcopy, c1_outside_enclave_mode)
{
	fx_exit(&fx, lp);
	expect_gp_same(rbx, dst, src);
	fx_enter(&fx, lp);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, c2_unaligned)
{
	expect_gp_same(put_secinfo(scratch() + 0x908, REG | R | X), dst, src);
	expect_gp_same(rbx, dst + 8, src);
	expect_gp_same(rbx, dst, src + 0x100);
	/* Checked before C3 and C4: outside ELRANGE and unmapped. */
	expect_gp_same(hole(5) + 0x40, dst, fx.base + fx.size + 8);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, c3_outside_elrange)
{
	uint64_t out = fx.base + fx.size;

	expect_gp_same(fx.base - 64, dst, src);
	expect_gp_same(rbx, out, src);
	expect_gp_same(rbx, dst, fx.base - PAGE_SIZE);
	/* Outside even where a real EPC page is mapped. */
	map(out, fx_epc_of(&fx, src), PTE_RW);
	expect_gp_same(rbx, dst, out);
	/* Checked before C4: the unmapped SECINFO is not reached. */
	expect_gp_same(hole(5) + 0x40, dst, out);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, c4_secinfo_not_in_epc)
{
	uint64_t unmapped = hole(5) + 0x40, plain = hole(6) + 0x40;
	struct sgx_secinfo s = { .flags = REG | R };

	memcpy(ram + 0x40, &s, sizeof(s));
	map(hole(6), (uint64_t)(uintptr_t)ram, PTE_RW);
	expect_pf_same(unmapped, dst, src, unmapped, X86_PF_USER);
	expect_pf_same(plain, dst, src, plain, ENCLU_PF);
	/* Checked before C5: an unmapped destination is not reached. */
	expect_pf_same(unmapped, hole(7), src, unmapped, X86_PF_USER);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, c5_dest_not_in_epc)
{
	uint64_t unmapped = hole(5), plain = hole(6);

	map(plain, (uint64_t)(uintptr_t)ram, PTE_RW);
	expect_pf_same(rbx, unmapped, src, unmapped,
		       X86_PF_USER | X86_PF_WRITE);
	expect_pf_same(rbx, plain, src, plain,
		       X86_PF_SGX | X86_PF_USER | X86_PF_WRITE | X86_PF_PROT);
	/* The destination is written: a read-only PTE is not enough. */
	map(dst, fx_epc_of(&fx, dst), SGX_PTE_PRESENT | SGX_PTE_NX);
	expect_pf_same(rbx, dst, src, dst,
		       X86_PF_USER | X86_PF_WRITE | X86_PF_PROT);
	/* Checked before C6: an unmapped source is not reached. */
	expect_pf_same(rbx, unmapped, hole(7), unmapped,
		       X86_PF_USER | X86_PF_WRITE);
	map(dst, fx_epc_of(&fx, dst), PTE_RW);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, c6_source_not_in_epc)
{
	uint64_t unmapped = hole(5), plain = hole(6);
	uint64_t bad_rbx = put_secinfo(fx.base + FX_TCS_OFF + SI_OFF, REG | R);

	map(plain, (uint64_t)(uintptr_t)ram, PTE_RW);
	expect_pf_same(rbx, dst, unmapped, unmapped, X86_PF_USER);
	expect_pf_same(rbx, dst, plain, plain, ENCLU_PF);
	/* Checked before C7: a SECINFO in a TCS page is not reached. */
	expect_pf_same(bad_rbx, dst, unmapped, unmapped, X86_PF_USER);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, c7_secinfo_page_state)
{
	uint64_t pending = hole(1), alias = hole(2) + SI_OFF, in_pending;
	uint64_t in_tcs = put_secinfo(fx.base + FX_TCS_OFF + SI_OFF, REG | R);

	fx_eaug(&fx, pending);
	in_pending = put_secinfo(pending + 0x40, REG | R);
	map(hole(2), fx_epc_of(&fx, scratch()), PTE_RW);
	expect_pf_same(in_pending, dst, src, in_pending, ENCLU_PF);
	expect_pf_same(in_tcs, dst, src, in_tcs, ENCLU_PF);
	expect_pf_same(alias, dst, src, alias, ENCLU_PF);
	/* Checked before C8: reserved bits in such a SECINFO are unseen. */
	put_secinfo(in_tcs, REG | R | (1ULL << 6));
	expect_pf_same(in_tcs, dst, src, in_tcs, ENCLU_PF);
	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, scratch())), 0);
	expect_pf_same(rbx, dst, src, rbx, ENCLU_PF);
}

Test(enclu_eacceptcopy, c8_secinfo_reserved)
{
	static const uint64_t bad[] = { 1ULL << 6, 1ULL << 7, 1ULL << 16,
					1ULL << 63 };
	struct sgx_secinfo s = { .flags = REG | R | X };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_gp_same(secinfo(REG | R | X | bad[i]), dst, src);
	s.reserved[30] = 1;
	memcpy(host(rbx), &s, sizeof(s));
	expect_gp_same(rbx, dst, src);
	/* The state bits are accepted and ignored. */
	cr_assert_eq(copy(secinfo(REG | R | X | SGX_SECINFO_STATE_MASK), dst,
			  src), 0);
	cr_assert_eq(epcm(dst)->modified, 0);
	cr_assert_eq(epcm(dst)->pr, 0);
	cr_assert_eq(epcm(dst)->pending, 0);
}

Test(enclu_eacceptcopy, c9_w_without_r)
{
	expect_gp_same(secinfo(REG | W), dst, src);
	expect_gp_same(secinfo(REG | W | X), dst, src);
	/* Checked before C10: with a bad type too, still #GP. */
	expect_gp_same(secinfo(SGX_SECINFO_TYPE(PT_TCS) | W), dst, src);
	cr_assert_eq(copy(secinfo(REG | R | W), dst, src), 0);
}

Test(enclu_eacceptcopy, c10_type_not_reg)
{
	static const unsigned int bad[] = { PT_SECS, PT_TCS, PT_VA, PT_TRIM,
					    PT_SS_FIRST, PT_SS_REST, 0xFF };
	uint64_t pending_src = hole(1);

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_gp_same(secinfo(SGX_SECINFO_TYPE(bad[i]) | R), dst,
			       src);
	/* Checked before C11: a PENDING source is not reached. */
	fx_eaug(&fx, pending_src);
	expect_gp_same(secinfo(SGX_SECINFO_TYPE(PT_TCS) | R), dst,
		       pending_src);
	cr_assert_eq(copy(secinfo(REG | R), dst, src), 0);
}

Test(enclu_eacceptcopy, c11_source_state)
{
	uint64_t pending = hole(1), alias = hole(2), tcs = fx.base;

	fx_eaug(&fx, pending);
	map(alias, fx_epc_of(&fx, src), PTE_RW);
	expect_pf_same(rbx, dst, pending, pending, ENCLU_PF);
	expect_pf_same(rbx, dst, tcs, tcs, ENCLU_PF);
	expect_pf_same(rbx, dst, alias, alias, ENCLU_PF);
	/* Checked before C12: a destination that is not PENDING. */
	expect_pf_same(rbx, fx_data(&fx, 1), pending, pending, ENCLU_PF);
	cr_assert_eq(fx_emodt(&fx, fx_data(&fx, 2), PT_TRIM), 0);
	expect_pf_same(rbx, dst, fx_data(&fx, 2), fx_data(&fx, 2), ENCLU_PF);
}

Test(enclu_eacceptcopy, c11_source_not_readable)
{
	cr_assert_eq(fx_emodpr(&fx, src, 0), 0);
	expect_pf_same(rbx, dst, src, src, ENCLU_PF);
	/* Readable is enough: R only. */
	cr_assert_eq(fx_emodpe(&fx, lp, src, R), 0);
	cr_assert_eq(copy(secinfo(REG | R | X), dst, src), 0);
}

Test(enclu_eacceptcopy, c11_source_blocked_foreign_or_removed)
{
	uint64_t foreign = hole(3), removed = fx_data(&fx, 1);

	foreign_eadd(foreign);
	expect_pf_same(rbx, dst, foreign, foreign, ENCLU_PF);
	remove_page(removed);
	expect_pf_same(rbx, dst, removed, removed, ENCLU_PF);
	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, src)), 0);
	expect_pf_same(rbx, dst, src, src, ENCLU_PF);
}

Test(enclu_eacceptcopy, c12_dest_state)
{
	uint64_t accepted = fx_data(&fx, 1), free_page = hole(2);
	uint64_t trim = fx_data(&fx, 2);

	map(free_page, fx_alloc_epc(&fx), PTE_RW);
	cr_assert_eq(fx_emodt(&fx, trim, PT_TRIM), 0);
	/* Not PENDING, not VALID, MODIFIED (and not REG), a TCS. */
	expect_mismatch_same(rbx, accepted, src);
	expect_mismatch_same(rbx, free_page, src);
	expect_mismatch_same(rbx, trim, src);
	expect_mismatch_same(rbx, fx.base, src);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, c12_dest_removed)
{
	remove_page(dst);
	expect_mismatch_same(rbx, dst, src);
}

Test(enclu_eacceptcopy, c12_dest_blocked)
{
	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, dst)), 0);
	expect_mismatch_same(rbx, dst, src);
}

Test(enclu_eacceptcopy, c12_dest_other_enclave)
{
	uint64_t foreign = hole(3);

	foreign_eaug(foreign);
	expect_mismatch_same(rbx, foreign, src);
	cr_assert_eq(fx_epcm_of(&fx, foreign)->pending, 1);
}

Test(enclu_eacceptcopy, c13_dest_address)
{
	uint64_t alias = hole(4);

	map(alias, fx_epc_of(&fx, dst), PTE_RW);
	expect_mismatch_same(rbx, alias, src);
	cr_assert_eq(copy(rbx, dst, src), 0);
}

Test(enclu_eacceptcopy, e1_copies_source)
{
	uint8_t want[PAGE_SIZE];

	memcpy(want, host(src), PAGE_SIZE);
	cr_assert_eq(copy(rbx, dst, src), 0);
	cr_assert_eq(memcmp(host(dst), want, PAGE_SIZE), 0);
	cr_assert_eq(memcmp(host(src), want, PAGE_SIZE), 0, "source intact");
}

Test(enclu_eacceptcopy, e2_rights_exactly_secinfo)
{
	static const uint64_t rights[] = { 0, R, R | W, R | X, R | W | X, X };
	void *h;

	for (unsigned int i = 0; i < sizeof(rights) / sizeof(rights[0]); i++) {
		uint64_t d = hole(1 + i);

		fx_eaug(&fx, d);
		cr_assert_eq(copy(secinfo(REG | rights[i]), d, src), 0);
		cr_assert_eq(epcm(d)->r, !!(rights[i] & R), "rights %#lx",
			     (unsigned long)rights[i]);
		cr_assert_eq(epcm(d)->w, !!(rights[i] & W));
		cr_assert_eq(epcm(d)->x, !!(rights[i] & X));
	}
	/* RX code that never was writable: read and fetch, but no write. */
	map(dst, fx_epc_of(&fx, dst), SGX_PTE_PRESENT | SGX_PTE_WRITE);
	cr_assert_eq(copy(secinfo(REG | R | X), dst, src), 0);
	cr_assert_eq(sgx_lp_access(lp, dst, SGX_ACCESS_READ, &h), 0);
	cr_assert_eq(sgx_lp_access(lp, dst, SGX_ACCESS_EXEC, &h), 0);
	/* The entry says RX: a stale-rights #PF, then the EPCM's own. */
	fx_expect_pf(lp, sgx_lp_access(lp, dst, SGX_ACCESS_WRITE, &h), dst,
		     0x7);
	fx_expect_pf(lp, sgx_lp_access(lp, dst, SGX_ACCESS_WRITE, &h), dst,
		     0x8007);
}

Test(enclu_eacceptcopy, e3_pending_cleared)
{
	uint64_t etracks = fx.cpu.stats.encls[ETRACK];
	const struct epcm_entry *e = epcm(dst);

	cr_assert_eq(e->pending, 1);
	cr_assert_eq(copy(rbx, dst, src), 0);
	cr_assert_eq(e->pending, 0);
	cr_assert_eq(e->modified, 0);
	cr_assert_eq(e->pr, 0);
	cr_assert_eq(e->pt, PT_REG);
	cr_assert_eq(e->enclave_address, dst);
	cr_assert_eq(e->track_stamp, 0);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK], etracks, "no tracking");
	/* Accepted now: a second copy or EACCEPT mismatches. */
	expect_mismatch_same(rbx, dst, src);
}
