// SPDX-License-Identifier: MIT
/*
 * ENCLU[EACCEPT] (src/arch/enclu_eaccept.c): each check C1..C16 violated
 * (exact fault or code, nothing changed) and satisfied (the leaf gets past
 * it), the effects E1..E2, and the EDMM acceptance scenarios: stale TLB
 * rights until an AEX, one ETRACK for many EMODPRs, EAUG without ETRACK,
 * and trimming.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define NR_DATA 8
#define SI_OFF 0x800 /* where the tests put SECINFOs on the scratch page */

#define REG SGX_SECINFO_TYPE(PT_REG)
#define R SGX_SECINFO_R
#define W SGX_SECINFO_W
#define X SGX_SECINFO_X
#define PENDING SGX_SECINFO_PENDING
#define MODIFIED SGX_SECINFO_MODIFIED
#define PR SGX_SECINFO_PR
#define ACCEPT_AUG (REG | R | W | PENDING)
#define ACCEPT_TRIM (SGX_SECINFO_TYPE(PT_TRIM) | MODIFIED)
#define ACCEPT_TCS (SGX_SECINFO_TYPE(PT_TCS) | MODIFIED)

#define ENCLU_PF (X86_PF_SGX | X86_PF_USER | X86_PF_PROT) /* 0x8005 */
#define PTE_RW (SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX)

static struct fx fx;
static struct sgx_lp *lp; /* inside the enclave unless a test says not */
static uint8_t ram[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void setup(void)
{
	fx_init(&fx, 64, 3);
	fx_build(&fx, NR_DATA);
	lp = &fx.cpu.lps[1];
	fx_enter(&fx, lp);
	memset(ram, 0, sizeof(ram));
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(enclu_eaccept, .init = setup, .fini = teardown);

/* ELRANGE pages fx_build left unpopulated. */
static uint64_t hole(unsigned int i)
{
	return fx_data(&fx, NR_DATA + i);
}

static uint64_t scratch(void)
{
	return fx.base + FX_SCRATCH_OFF;
}

static void map(uint64_t lin, uint64_t frame)
{
	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, frame, PTE_RW), 0);
}

/* Store a SECINFO at enclave address lin, straight into its EPC page. */
static uint64_t put_secinfo(uint64_t lin, uint64_t flags)
{
	struct sgx_secinfo s = { .flags = flags };
	uint64_t epc = fx_epc_of(&fx, lin & PAGE_MASK);

	memcpy((void *)(uintptr_t)(epc + (lin & ~PAGE_MASK)), &s, sizeof(s));
	return lin;
}

static uint64_t secinfo(uint64_t flags)
{
	return put_secinfo(scratch() + SI_OFF, flags);
}

static const struct epcm_entry *epcm(uint64_t lin)
{
	return fx_epcm_of(&fx, lin);
}

static int accept(uint64_t rbx, uint64_t rcx)
{
	return enclu_eaccept(lp, rbx, rcx);
}

/* The page whose state a failing EACCEPT must leave alone. */
static struct fx_snap snap;

static void take_snap(uint64_t lin)
{
	fx_snap(&fx, fx_epc_of(&fx, lin), &snap);
}

static void expect_gp_same(uint64_t rbx, uint64_t rcx)
{
	fx_expect_gp(lp, accept(rbx, rcx));
	fx_expect_same(&fx, &snap);
}

static void expect_pf_same(uint64_t rbx, uint64_t rcx, uint64_t addr,
			   uint32_t ec)
{
	fx_expect_pf(lp, accept(rbx, rcx), addr, ec);
	fx_expect_same(&fx, &snap);
}

static void expect_code_same(uint64_t rbx, uint64_t rcx, int code)
{
	cr_assert_eq(accept(rbx, rcx), code);
	fx_expect_same(&fx, &snap);
}

/* EAUG hole(i), snapshot it, and return its address. */
static uint64_t aug(unsigned int i)
{
	fx_eaug(&fx, hole(i));
	take_snap(hole(i));
	return hole(i);
}

/*
 * A page of a second enclave with the same ELRANGE, mapped at lin in the
 * address space the LPs run in: right address, wrong owner.
 */
static uint64_t foreign_page(uint64_t lin)
{
	uint64_t secs = fx.secs;
	uint64_t epc;

	fx_ecreate(&fx, fx.base, fx.size);
	epc = fx_eadd(&fx, lin, REG | R | W, NULL, false);
	fx.secs = secs;
	return epc;
}

/* EMODT data page i to TRIM, ETRACK, and let lp leave and re-enter. */
static uint64_t trim_tracked(unsigned int i)
{
	cr_assert_eq(fx_emodt(&fx, fx_data(&fx, i), PT_TRIM), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	return fx_data(&fx, i);
}

/* A TCS as software would prepare it before EMODT: never used. */
static struct sgx_tcs good_tcs(void)
{
	struct sgx_tcs t;

	memset(&t, 0, sizeof(t));
	t.ssa_offset = FX_SSA_OFF;
	t.nr_ssa_frames = 1;
	t.entry_offset = FX_DATA_OFF;
	t.fs_limit = 0xFFF;
	t.gs_limit = 0xFFF;
	return t;
}

/*
 * The SDM's new-TCS flow up to the EACCEPT: EAUG hole(i), accept it, write
 * t into it from inside, EMODT it to TCS and (if track) ETRACK with lp
 * outside. lp ends inside; the page is snapshotted.
 */
static uint64_t new_tcs(unsigned int i, const struct sgx_tcs *t, bool track)
{
	uint64_t lin = hole(i);

	fx_eaug(&fx, lin);
	cr_assert_eq(fx_eaccept(&fx, lp, lin, ACCEPT_AUG), 0);
	cr_assert_eq(sgx_lp_write(lp, lin, t, sizeof(*t)), 0);
	fx_exit(&fx, lp);
	cr_assert_eq(fx_emodt(&fx, lin, PT_TCS), 0);
	if (track)
		cr_assert_eq(fx_etrack(&fx), 0);
	fx_enter(&fx, lp);
	take_snap(lin);
	return lin;
}

static void expect_tcs_gp(unsigned int i, const struct sgx_tcs *t)
{
	uint64_t lin = new_tcs(i, t, true);

	expect_gp_same(secinfo(ACCEPT_TCS), lin);
	cr_assert_eq(epcm(lin)->modified, 1);
}

/* EREMOVE the page at lin (no LP may be inside): VALID goes, the rest of
 * its EPCM entry stays as it was. */
static void remove_page(uint64_t lin)
{
	fx_exit(&fx, lp);
	cr_assert_eq(encls_eremove(fx.lp, fx_epc_of(&fx, lin)), 0);
	fx_enter(&fx, lp);
}

static struct sgx_secs *secs(void)
{
	return (struct sgx_secs *)(uintptr_t)fx.secs;
}

Test(enclu_eaccept, c1_outside_enclave_mode)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	fx_exit(&fx, lp);
	expect_gp_same(rbx, lin);
	fx_enter(&fx, lp);
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c2_secinfo_unaligned)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	put_secinfo(rbx + 8, ACCEPT_AUG);
	expect_gp_same(rbx + 8, lin);
	put_secinfo(rbx + 32, ACCEPT_AUG);
	expect_gp_same(rbx + 32, lin);
	put_secinfo(rbx, ACCEPT_AUG);
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c3_secinfo_outside_elrange)
{
	uint64_t lin = aug(0);
	struct sgx_secinfo s = { .flags = ACCEPT_AUG };

	expect_gp_same(fx.base - 64, lin);
	/* Outside ELRANGE even where a valid SECINFO is mapped. */
	memcpy(ram, &s, sizeof(s));
	map(fx.base + fx.size, (uint64_t)(uintptr_t)ram);
	expect_gp_same(fx.base + fx.size, lin);
	cr_assert_eq(accept(secinfo(ACCEPT_AUG), lin), 0);
}

Test(enclu_eaccept, c4_secinfo_not_in_epc)
{
	uint64_t lin = aug(0);
	uint64_t unmapped = hole(5) + 0x40, plain = hole(6) + 0x40;
	struct sgx_secinfo s = { .flags = ACCEPT_AUG };

	memcpy(ram + 0x40, &s, sizeof(s));
	map(hole(6), (uint64_t)(uintptr_t)ram);
	expect_pf_same(unmapped, lin, unmapped, X86_PF_USER);
	expect_pf_same(plain, lin, plain, ENCLU_PF);
	/* Checked before C7: a bad target is not reached. */
	expect_pf_same(plain, lin + 8, plain, ENCLU_PF);
	cr_assert_eq(accept(secinfo(ACCEPT_AUG), lin), 0);
}

Test(enclu_eaccept, c5_secinfo_in_pending_page)
{
	uint64_t other = hole(1), lin, rbx;

	fx_eaug(&fx, other);
	rbx = put_secinfo(other + 0x40, ACCEPT_AUG);
	lin = aug(0);
	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
	cr_assert_eq(accept(secinfo(ACCEPT_AUG), other), 0);
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c5_secinfo_in_tcs_page)
{
	uint64_t rbx = put_secinfo(fx.base + FX_TCS_OFF + SI_OFF, ACCEPT_AUG);
	uint64_t lin = aug(0);

	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
}

Test(enclu_eaccept, c5_secinfo_in_trim_page)
{
	uint64_t data = fx_data(&fx, 0);
	uint64_t rbx = put_secinfo(data + 0x40, ACCEPT_AUG);
	uint64_t lin = aug(0);

	/* MODIFIED and not PT_REG, before and after the EACCEPT. */
	cr_assert_eq(fx_emodt(&fx, data, PT_TRIM), 0);
	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
	trim_tracked(1);
	cr_assert_eq(fx_eaccept(&fx, lp, fx_data(&fx, 1), ACCEPT_TRIM), 0);
	rbx = put_secinfo(fx_data(&fx, 1) + 0x40, ACCEPT_AUG);
	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
}

Test(enclu_eaccept, c5_secinfo_not_readable)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	cr_assert_eq(fx_emodpr(&fx, scratch(), 0), 0);
	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
}

Test(enclu_eaccept, c5_secinfo_page_not_valid)
{
	uint64_t rbx = put_secinfo(fx_data(&fx, 1) + 0x40, ACCEPT_AUG);
	uint64_t lin = aug(0);

	remove_page(fx_data(&fx, 1));
	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
}

Test(enclu_eaccept, c5_secinfo_read_only_is_enough)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	cr_assert_eq(fx_emodpr(&fx, scratch(), R), 0);
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c5_secinfo_blocked)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, scratch())), 0);
	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
}

Test(enclu_eaccept, c5_secinfo_wrong_address)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);
	uint64_t alias = hole(3) + SI_OFF;

	/* The scratch page, mapped a second time at another address. */
	map(hole(3), fx_epc_of(&fx, scratch()));
	expect_pf_same(alias, lin, alias, ENCLU_PF);
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c5_secinfo_other_enclave)
{
	uint64_t rbx, lin;

	foreign_page(hole(4));
	rbx = put_secinfo(hole(4) + 0x40, ACCEPT_AUG);
	lin = aug(0);
	expect_pf_same(rbx, lin, rbx, ENCLU_PF);
}

Test(enclu_eaccept, c6_secinfo_reserved)
{
	static const uint64_t bad[] = { 1ULL << 6, 1ULL << 7, 1ULL << 16,
					1ULL << 63 };
	uint64_t lin = aug(0), rbx;
	struct sgx_secinfo s = { .flags = ACCEPT_AUG };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_gp_same(secinfo(ACCEPT_AUG | bad[i]), lin);
	s.reserved[0] = 1;
	memcpy((void *)(uintptr_t)(fx_epc_of(&fx, scratch()) + SI_OFF), &s,
	       sizeof(s));
	expect_gp_same(scratch() + SI_OFF, lin);
	s.reserved[0] = 0;
	s.reserved[55] = 1;
	memcpy((void *)(uintptr_t)(fx_epc_of(&fx, scratch()) + SI_OFF), &s,
	       sizeof(s));
	expect_gp_same(scratch() + SI_OFF, lin);
	/* Checked before C9: an unmapped target is not reached. */
	rbx = secinfo(ACCEPT_AUG | (1ULL << 6));
	fx_expect_gp(lp, accept(rbx, hole(7)));
	/* The state bits 3-5 are inputs, not reserved. */
	cr_assert_eq(accept(secinfo(ACCEPT_AUG | PR), lin), 0);
}

Test(enclu_eaccept, c7_target_unaligned)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	expect_gp_same(rbx, lin + 8);
	expect_gp_same(rbx, lin + 0x800);
	/* Checked before C9: unaligned and unmapped is still #GP. */
	fx_expect_gp(lp, accept(rbx, hole(7) + 0x10));
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c8_target_outside_elrange)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	expect_gp_same(rbx, fx.base - PAGE_SIZE);
	/* Mapped to the pending page, but outside ELRANGE. */
	map(fx.base + fx.size, fx_epc_of(&fx, lin));
	expect_gp_same(rbx, fx.base + fx.size);
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c9_target_not_in_epc)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	expect_pf_same(rbx, hole(5), hole(5), X86_PF_USER);
	map(hole(6), (uint64_t)(uintptr_t)ram);
	expect_pf_same(rbx, hole(6), hole(6), ENCLU_PF);
	/* Checked before C10: an illegal request on it still faults. */
	expect_pf_same(secinfo(REG | R | W), hole(5), hole(5), X86_PF_USER);
	cr_assert_eq(accept(secinfo(ACCEPT_AUG), lin), 0);
}

Test(enclu_eaccept, c10_illegal_request)
{
	static const uint64_t bad[] = {
		REG | R | W,
		REG | R | W | PENDING | MODIFIED,
		REG | R | W | PR | MODIFIED,
		SGX_SECINFO_TYPE(PT_TCS),
		SGX_SECINFO_TYPE(PT_TCS) | MODIFIED | PENDING,
		SGX_SECINFO_TYPE(PT_TCS) | MODIFIED | PR,
		SGX_SECINFO_TYPE(PT_TRIM) | PENDING,
		SGX_SECINFO_TYPE(PT_TRIM) | MODIFIED | PR,
		SGX_SECINFO_TYPE(PT_SECS) | MODIFIED,
		SGX_SECINFO_TYPE(PT_VA) | MODIFIED,
		SGX_SECINFO_TYPE(PT_SS_FIRST) | R | W | PENDING,
		SGX_SECINFO_TYPE(PT_SS_REST) | R | W | PENDING,
		SGX_SECINFO_TYPE(7) | MODIFIED,
	};
	uint64_t lin = aug(0), free_frame = fx_alloc_epc(&fx);

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_gp_same(secinfo(bad[i]), lin);
	/* Checked before C11: a free EPC page behind RCX is not reached. */
	map(hole(3), free_frame);
	expect_gp_same(secinfo(REG | R | W), hole(3));
	cr_assert_eq(accept(secinfo(ACCEPT_AUG), lin), 0);
}

Test(enclu_eaccept, c11_target_not_valid)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	map(hole(3), fx_alloc_epc(&fx));
	expect_pf_same(rbx, hole(3), hole(3), ENCLU_PF);
	/* EREMOVEd: the stale entry would match, but VALID is 0. */
	remove_page(lin);
	take_snap(lin);
	expect_pf_same(rbx, lin, lin, ENCLU_PF);
}

Test(enclu_eaccept, c11_target_blocked)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, lin)), 0);
	take_snap(lin);
	expect_pf_same(rbx, lin, lin, ENCLU_PF);
}

Test(enclu_eaccept, c11_target_type)
{
	uint64_t rbx = secinfo(ACCEPT_TRIM);
	uint64_t va = fx_alloc_epc(&fx);

	cr_assert_eq(encls_epa(fx.lp, PT_VA, va), 0);
	map(hole(3), fx.secs);
	map(hole(4), va);
	take_snap(hole(3));
	expect_pf_same(rbx, hole(3), hole(3), ENCLU_PF);
	take_snap(hole(4));
	expect_pf_same(rbx, hole(4), hole(4), ENCLU_PF);
	/* TCS pages get past C11 (and here mismatch at C12). */
	take_snap(fx.base + FX_TCS_OFF);
	expect_code_same(rbx, fx.base + FX_TCS_OFF,
			 SGX_PAGE_ATTRIBUTES_MISMATCH);
}

Test(enclu_eaccept, c11_target_other_enclave)
{
	uint64_t lin = aug(0), rbx = secinfo(REG | R | W | PR);

	foreign_page(hole(4));
	take_snap(hole(4));
	expect_pf_same(rbx, hole(4), hole(4), ENCLU_PF);
	cr_assert_eq(accept(secinfo(ACCEPT_AUG), lin), 0);
}

Test(enclu_eaccept, c12_address_mismatch)
{
	uint64_t lin = aug(0), rbx = secinfo(ACCEPT_AUG);

	/* The pending page, mapped a second time at another address. */
	map(hole(3), fx_epc_of(&fx, lin));
	expect_code_same(rbx, hole(3), SGX_PAGE_ATTRIBUTES_MISMATCH);
	cr_assert_eq(accept(rbx, lin), 0);
}

Test(enclu_eaccept, c12_pending_mismatch)
{
	uint64_t lin = aug(0), data = fx_data(&fx, 0);

	expect_code_same(secinfo(REG | R | W | PR), lin,
			 SGX_PAGE_ATTRIBUTES_MISMATCH);
	take_snap(data);
	expect_code_same(secinfo(ACCEPT_AUG), data,
			 SGX_PAGE_ATTRIBUTES_MISMATCH);
}

Test(enclu_eaccept, c12_rights_mismatch)
{
	static const uint64_t bad[] = { REG | PENDING, REG | R | PENDING,
					REG | W | PENDING,
					REG | R | W | X | PENDING };
	uint64_t lin = aug(0);

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_code_same(secinfo(bad[i]), lin,
				 SGX_PAGE_ATTRIBUTES_MISMATCH);
	cr_assert_eq(accept(secinfo(ACCEPT_AUG), lin), 0);
}

Test(enclu_eaccept, c12_modified_mismatch)
{
	uint64_t lin = trim_tracked(0);

	cr_assert_eq(accept(secinfo(ACCEPT_TRIM), lin), 0);
	/* Accepted already: MODIFIED is 0 now. */
	take_snap(lin);
	expect_code_same(secinfo(ACCEPT_TRIM), lin,
			 SGX_PAGE_ATTRIBUTES_MISMATCH);
}

Test(enclu_eaccept, c12_type_mismatch)
{
	uint64_t trim = trim_tracked(0);

	take_snap(trim);
	expect_code_same(secinfo(ACCEPT_TCS), trim,
			 SGX_PAGE_ATTRIBUTES_MISMATCH);
	cr_assert_eq(accept(secinfo(ACCEPT_TRIM), trim), 0);
}

Test(enclu_eaccept, c12_pr_not_compared)
{
	uint64_t lin = aug(0), data = fx_data(&fx, 0);

	/* EPCM.PR = 0 on both pages; asking with PR still succeeds. */
	cr_assert_eq(accept(secinfo(REG | R | W | PR), data), 0);
	cr_assert_eq(accept(secinfo(ACCEPT_AUG | PR), lin), 0);
}

Test(enclu_eaccept, c12_before_c13)
{
	uint64_t data = fx_data(&fx, 0);

	cr_assert_eq(fx_emodpr(&fx, data, R), 0);
	take_snap(data);
	/* Untracked, but the wrong rights are reported first. */
	expect_code_same(secinfo(REG | R | W | PR), data,
			 SGX_PAGE_ATTRIBUTES_MISMATCH);
	expect_code_same(secinfo(REG | R | PR), data, SGX_NOT_TRACKED);
}

Test(enclu_eaccept, c13_emodpr_not_tracked)
{
	uint64_t data = fx_data(&fx, 0), rbx = secinfo(REG | R | PR);

	cr_assert_eq(fx_emodpr(&fx, data, R), 0);
	take_snap(data);
	expect_code_same(rbx, data, SGX_NOT_TRACKED);
	/* lp was inside at the ETRACK: still not tracked. */
	cr_assert_eq(fx_etrack(&fx), 0);
	expect_code_same(rbx, data, SGX_NOT_TRACKED);
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	cr_assert_eq(accept(rbx, data), 0);
}

Test(enclu_eaccept, c13_emodt_not_tracked)
{
	uint64_t data = fx_data(&fx, 0), rbx = secinfo(ACCEPT_TRIM);

	cr_assert_eq(fx_emodt(&fx, data, PT_TRIM), 0);
	take_snap(data);
	expect_code_same(rbx, data, SGX_NOT_TRACKED);
	fx_exit(&fx, lp);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(accept(rbx, data), 0);
}

Test(enclu_eaccept, c13_before_c14)
{
	struct sgx_tcs t = good_tcs();
	uint64_t lin;

	t.flags = 1ULL << 5;
	lin = new_tcs(0, &t, false);
	expect_code_same(secinfo(ACCEPT_TCS), lin, SGX_NOT_TRACKED);
}

Test(enclu_eaccept, c14_tcs_reserved)
{
	struct sgx_tcs t = good_tcs();

	t.flags = 1ULL << 1;
	expect_tcs_gp(0, &t);
	t.flags = 1ULL << 63;
	expect_tcs_gp(1, &t);
	t.flags = 0;
	t.reserved[0] = 1;
	expect_tcs_gp(2, &t);
	t.reserved[0] = 0;
	t.reserved[SGX_TCS_RESERVED_SIZE - 1] = 1;
	expect_tcs_gp(3, &t);
	t.reserved[SGX_TCS_RESERVED_SIZE - 1] = 0;
	cr_assert_eq(accept(secinfo(ACCEPT_TCS), new_tcs(4, &t, true)), 0);
}

Test(enclu_eaccept, c15_tcs_fields)
{
	struct sgx_tcs t = good_tcs();

	t.flags = SGX_TCS_DBGOPTIN;
	expect_tcs_gp(0, &t);
	t = good_tcs();
	t.ssa_index = 1; /* CSSA = NSSA */
	expect_tcs_gp(1, &t);
	t.nr_ssa_frames = 0; /* CSSA > NSSA */
	expect_tcs_gp(2, &t);
	t = good_tcs();
	t.exit_addr = 0x1000;
	expect_tcs_gp(3, &t);
	t = good_tcs();
	t.state = 1;
	expect_tcs_gp(4, &t);
	t = good_tcs();
	t.nr_ssa_frames = 2;
	t.ssa_index = 1; /* CSSA < NSSA */
	cr_assert_eq(accept(secinfo(ACCEPT_TCS), new_tcs(5, &t, true)), 0);
}

Test(enclu_eaccept, c16_tcs_32bit_limits)
{
	struct sgx_tcs t = good_tcs();
	uint64_t a, b, c;

	t.fs_limit = 0x1000;
	a = new_tcs(0, &t, true);
	t.fs_limit = 0xFFF;
	t.gs_limit = 0x1FFE;
	b = new_tcs(1, &t, true);
	t.gs_limit = 0x1FFF;
	c = new_tcs(2, &t, true);
	/*
	 * A 32-bit enclave; lp is already inside, so EENTER never sees it.
	 * The #GP's AEX leaves it, and ERESUME would refuse a 32-bit
	 * enclave on this 64-bit LP: the bit is back before fx_expect_gp().
	 */
	take_snap(a);
	secs()->attributes &= ~SGX_ATTR_MODE64BIT;
	int ret = accept(secinfo(ACCEPT_TCS), a);

	secs()->attributes |= SGX_ATTR_MODE64BIT;
	fx_expect_gp(lp, ret);
	fx_expect_same(&fx, &snap);
	take_snap(b);
	secs()->attributes &= ~SGX_ATTR_MODE64BIT;
	ret = accept(secinfo(ACCEPT_TCS), b);
	secs()->attributes |= SGX_ATTR_MODE64BIT;
	fx_expect_gp(lp, ret);
	fx_expect_same(&fx, &snap);
	secs()->attributes &= ~SGX_ATTR_MODE64BIT;
	cr_assert_eq(accept(secinfo(ACCEPT_TCS), c), 0);
	/* A 64-bit enclave ignores the limits. */
	secs()->attributes |= SGX_ATTR_MODE64BIT;
	cr_assert_eq(accept(secinfo(ACCEPT_TCS), a), 0);
}

Test(enclu_eaccept, e1_clears_pending)
{
	uint64_t lin = aug(0), v = 0x1234, r = 0;

	cr_assert_eq(accept(secinfo(ACCEPT_AUG), lin), 0);
	cr_assert_eq(epcm(lin)->pending, 0);
	cr_assert(epcm(lin)->r && epcm(lin)->w && !epcm(lin)->x);
	cr_assert_eq(epcm(lin)->pt, PT_REG);
	cr_assert_eq(sgx_lp_write(lp, lin, &v, sizeof(v)), 0);
	cr_assert_eq(sgx_lp_read(lp, lin, &r, sizeof(r)), 0);
	cr_assert_eq(r, v);
}

Test(enclu_eaccept, e1_clears_modified)
{
	uint64_t lin = trim_tracked(0);

	cr_assert_eq(epcm(lin)->modified, 1);
	cr_assert_eq(accept(secinfo(ACCEPT_TRIM), lin), 0);
	cr_assert_eq(epcm(lin)->modified, 0);
	cr_assert_eq(epcm(lin)->pt, PT_TRIM);
	cr_assert(!epcm(lin)->r && !epcm(lin)->w && !epcm(lin)->x);
}

Test(enclu_eaccept, e1_clears_pr)
{
	uint64_t data = fx_data(&fx, 0);

	cr_assert_eq(fx_emodpr(&fx, data, R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	cr_assert_eq(epcm(data)->pr, 1);
	cr_assert_eq(accept(secinfo(REG | R | PR), data), 0);
	cr_assert_eq(epcm(data)->pr, 0);
	cr_assert(epcm(data)->r && !epcm(data)->w && !epcm(data)->x);
}

Test(enclu_eaccept, e2_track_stamp_cleared)
{
	uint64_t data = fx_data(&fx, 0);

	cr_assert_eq(fx_emodpr(&fx, data, R), 0);
	cr_assert_neq(epcm(data)->track_stamp, 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	cr_assert_eq(accept(secinfo(REG | R | PR), data), 0);
	cr_assert_eq(epcm(data)->track_stamp, 0);
}

Test(enclu_eaccept, new_tcs_can_be_entered)
{
	struct sgx_tcs t = good_tcs();
	struct sgx_lp *other = &fx.cpu.lps[2];
	uint64_t lin = new_tcs(0, &t, true);

	/* Before EACCEPT, EENTER refuses a MODIFIED TCS. */
	cr_assert_eq(enclu_eenter(other, lin, FX_AEP),
		     SGX_FAULT_FLAG | X86_TRAP_PF);
	cr_assert_eq(accept(secinfo(ACCEPT_TCS), lin), 0);
	cr_assert_eq(enclu_eenter(other, lin, FX_AEP), 0);
	cr_assert(other->enclave_mode);
}

Test(enclu_eaccept, scenario_stale_tlb_until_aex)
{
	struct sgx_lp *late = &fx.cpu.lps[2];
	uint64_t data = fx_data(&fx, 0), v = 0xC0FFEE, got = 0;
	const uint64_t req = REG | R | PR;

	/* lp writes the page, so its TLB caches RW. */
	cr_assert_eq(sgx_lp_write(lp, data, &v, sizeof(v)), 0);
	cr_assert_eq(fx_emodpr(&fx, data, R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	/* lp was inside at the ETRACK, so nobody can accept yet. */
	cr_assert_eq(fx_eaccept(&fx, lp, data, req), SGX_NOT_TRACKED);
	fx_enter(&fx, late);
	cr_assert_eq(fx_eaccept(&fx, late, data, req), SGX_NOT_TRACKED);
	/* And lp still writes through its stale TLB entry. */
	v = 0xBADC0DE;
	cr_assert_eq(sgx_lp_write(lp, data, &v, sizeof(v)), 0);
	memcpy(&got, (void *)(uintptr_t)fx_epc_of(&fx, data), sizeof(got));
	cr_assert_eq(got, v);
	/* The IPI: lp has an AEX and resumes. */
	fx_aex(&fx, lp);
	cr_assert_eq(enclu_eresume(lp, fx_tcs_of(&fx, lp), FX_AEP), 0);
	cr_assert_eq(fx_eaccept(&fx, lp, data, req), 0);
	fx_expect_pf(lp, sgx_lp_write(lp, data, &v, sizeof(v)), data,
		     X86_PF_SGX | X86_PF_USER | X86_PF_WRITE | X86_PF_PROT);
	cr_assert_eq(lp->exc.error_code, 0x8007);
	fx_expect_pf(late, sgx_lp_write(late, data, &v, sizeof(v)), data,
		     0x8007);
	cr_assert_eq(sgx_lp_read(lp, data, &got, sizeof(got)), 0);
	cr_assert_eq(got, 0xBADC0DE);
}

Test(enclu_eaccept, scenario_one_etrack_many_emodpr)
{
	const uint64_t req = REG | R | PR;
	uint64_t etracks = fx.cpu.stats.encls[ETRACK];

	for (unsigned int i = 0; i < 8; i++)
		cr_assert_eq(fx_emodpr(&fx, fx_data(&fx, i), R), 0);
	for (unsigned int i = 0; i < 8; i++)
		cr_assert_eq(fx_eaccept(&fx, lp, fx_data(&fx, i), req),
			     SGX_NOT_TRACKED, "page %u", i);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	for (unsigned int i = 0; i < 8; i++) {
		cr_assert_eq(fx_eaccept(&fx, lp, fx_data(&fx, i), req), 0,
			     "page %u", i);
		cr_assert_eq(epcm(fx_data(&fx, i))->pr, 0);
	}
	cr_assert_eq(fx.cpu.stats.encls[ETRACK], etracks + 1);
}

Test(enclu_eaccept, scenario_eaug_accept_without_etrack)
{
	uint64_t lin = hole(0), v = 99, r = 0;
	uint64_t etracks = fx.cpu.stats.encls[ETRACK];

	fx_eaug(&fx, lin);
	fx_expect_pf(lp, sgx_lp_read(lp, lin, &r, sizeof(r)), lin, 0x8005);
	cr_assert_eq(fx_eaccept(&fx, lp, lin, ACCEPT_AUG), 0);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK], etracks, "no ETRACK ran");
	cr_assert_eq(sgx_lp_write(lp, lin, &v, sizeof(v)), 0);
	cr_assert_eq(sgx_lp_read(lp, lin, &r, sizeof(r)), 0);
	cr_assert_eq(r, v);
	/* Accepting twice is harmless: PENDING is 0 now, so it mismatches. */
	take_snap(lin);
	cr_assert_eq(fx_eaccept(&fx, lp, lin, ACCEPT_AUG),
		     SGX_PAGE_ATTRIBUTES_MISMATCH);
	fx_expect_same(&fx, &snap);
}

Test(enclu_eaccept, scenario_trim_then_read_faults)
{
	uint64_t data = fx_data(&fx, 0), epc = fx_epc_of(&fx, data), v = 0;

	/* lp reads the page, so its TLB caches it. */
	cr_assert_eq(sgx_lp_read(lp, data, &v, sizeof(v)), 0);
	cr_assert_eq(fx_emodt(&fx, data, PT_TRIM), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert_eq(fx_eaccept(&fx, lp, data, ACCEPT_TRIM), SGX_NOT_TRACKED);
	cr_assert_eq(sgx_lp_read(lp, data, &v, sizeof(v)), 0, "stale TLB");
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	cr_assert_eq(fx_eaccept(&fx, lp, data, ACCEPT_TRIM), 0);
	fx_expect_pf(lp, sgx_lp_read(lp, data, &v, sizeof(v)), data, 0x8005);
	/* The OS may now EREMOVE it with the enclave still running. */
	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
	cr_assert_eq(fx_epcm_of(&fx, data)->valid, 0);
}
