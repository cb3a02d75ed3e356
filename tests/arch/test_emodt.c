// SPDX-License-Identifier: MIT
/*
 * ENCLS[EMODT] (src/arch/encls_emodt.c): each check C1..C8 violated (exact
 * fault or code, nothing changed) and satisfied (the leaf gets past it),
 * and the effects E1..E2, including the stale-TLB window they open.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define NR_DATA 4
#define TRIM_MODIFIED (SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED)

static struct fx fx;
static struct sgx_secinfo si;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, NR_DATA);
	memset(&si, 0, sizeof(si));
	si.flags = SGX_SECINFO_TYPE(PT_TRIM);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_emodt, .init = setup, .fini = teardown);

static uint64_t data_epc(unsigned int i)
{
	return fx_epc_of(&fx, fx_data(&fx, i));
}

static uint64_t tcs_epc(void)
{
	return fx_epc_of(&fx, fx.base + FX_TCS_OFF);
}

static const struct epcm_entry *epcm(uint64_t epc)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, epc, &idx));
	return sgx_epcm(&fx.cpu, idx);
}

static int emodt_to(uint64_t epc, enum sgx_page_type pt)
{
	si.flags = SGX_SECINFO_TYPE(pt);
	return encls_emodt(fx.lp, &si, epc);
}

/* Run EMODT with the current si on epc: #GP and no change. */
static void expect_gp_same(uint64_t epc)
{
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_gp(fx.lp, encls_emodt(fx.lp, &si, epc));
	fx_expect_same(&fx, &s);
}

static void expect_pf_same(uint64_t epc, enum sgx_page_type pt)
{
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_pf(fx.lp, emodt_to(epc, pt), epc, FX_PF_EPCM);
	fx_expect_same(&fx, &s);
}

static void expect_code_same(uint64_t epc, enum sgx_page_type pt, int code)
{
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	cr_assert_eq(emodt_to(epc, pt), code);
	fx_expect_same(&fx, &s);
}

Test(encls_emodt, c1_secinfo_unaligned)
{
	static uint8_t buf[2 * sizeof(struct sgx_secinfo)]
		__attribute__((aligned(64)));
	struct fx_snap s;

	memcpy(buf + 16, &si, sizeof(si));
	fx_snap(&fx, data_epc(0), &s);
	fx_expect_gp(fx.lp, encls_emodt(fx.lp, (struct sgx_secinfo *)(buf + 16),
					data_epc(0)));
	fx_expect_same(&fx, &s);
	memcpy(buf, &si, sizeof(si));
	cr_assert_eq(encls_emodt(fx.lp, (struct sgx_secinfo *)buf,
				 data_epc(0)), 0);
}

Test(encls_emodt, c1_epc_unaligned)
{
	struct fx_snap s;

	fx_snap(&fx, data_epc(0), &s);
	fx_expect_gp(fx.lp, encls_emodt(fx.lp, &si, data_epc(0) + 0x800));
	fx_expect_same(&fx, &s);
	cr_assert_eq(encls_emodt(fx.lp, &si, data_epc(0)), 0);
}

Test(encls_emodt, c2_outside_epc)
{
	uint64_t first = sgx_epc_addr(&fx.cpu, 0);
	uint64_t end = first + fx.cpu.cfg.epc_pages * PAGE_SIZE;

	fx_expect_pf(fx.lp, emodt_to(end, PT_TRIM), end, FX_PF_EPCM);
	fx_expect_pf(fx.lp, emodt_to(first - PAGE_SIZE, PT_TRIM),
		     first - PAGE_SIZE, FX_PF_EPCM);
	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
}

Test(encls_emodt, c3_reserved_bits)
{
	static const uint64_t bad[] = { 1ULL << 6, 1ULL << 7, 1ULL << 16,
					1ULL << 63, SGX_SECINFO_PENDING,
					SGX_SECINFO_MODIFIED, SGX_SECINFO_PR };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		si.flags = SGX_SECINFO_TYPE(PT_TRIM) | bad[i];
		expect_gp_same(data_epc(0));
	}
	si.flags = SGX_SECINFO_TYPE(PT_TRIM);
	si.reserved[7] = 1;
	expect_gp_same(data_epc(0));
	si.reserved[7] = 0;
	/* Checked before C5: an invalid page still gives #GP. */
	si.flags = SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_PR;
	fx_expect_gp(fx.lp, encls_emodt(fx.lp, &si, fx_alloc_epc(&fx)));
	/* R/W/X are not reserved; EMODT clears the rights anyway. */
	si.flags = SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_R | SGX_SECINFO_W |
		   SGX_SECINFO_X;
	cr_assert_eq(encls_emodt(fx.lp, &si, data_epc(0)), 0);
	cr_assert(!epcm(data_epc(0))->r && !epcm(data_epc(0))->x);
}

Test(encls_emodt, c4_type_not_tcs_or_trim)
{
	static const unsigned int bad[] = { PT_SECS, PT_REG, PT_VA,
					    PT_SS_FIRST, PT_SS_REST, 7, 0xFF };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		si.flags = SGX_SECINFO_TYPE(bad[i]);
		expect_gp_same(data_epc(0));
	}
	/* Checked before C5: an invalid page still gives #GP. */
	si.flags = SGX_SECINFO_TYPE(PT_REG);
	fx_expect_gp(fx.lp, encls_emodt(fx.lp, &si, fx_alloc_epc(&fx)));
	cr_assert_eq(emodt_to(data_epc(0), PT_TCS), 0);
	cr_assert_eq(emodt_to(data_epc(1), PT_TRIM), 0);
}

Test(encls_emodt, c5_not_valid)
{
	uint64_t epc = fx_alloc_epc(&fx);

	memset((void *)(uintptr_t)epc, 0x77, PAGE_SIZE);
	expect_pf_same(epc, PT_TRIM);
	expect_pf_same(epc, PT_TCS);
	/* An EREMOVEd page keeps its old REG entry, but is not VALID. */
	cr_assert_eq(encls_eremove(fx.lp, data_epc(3)), 0);
	expect_pf_same(data_epc(3), PT_TRIM);
	expect_pf_same(data_epc(3), PT_TCS);
	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
}

Test(encls_emodt, c6_illegal_transitions)
{
	uint64_t va = fx_alloc_epc(&fx);

	cr_assert_eq(encls_epa(fx.lp, PT_VA, va), 0);
	expect_pf_same(tcs_epc(), PT_TCS);
	expect_pf_same(fx.secs, PT_TRIM);
	expect_pf_same(fx.secs, PT_TCS);
	expect_pf_same(va, PT_TRIM);
	/* An unaccepted TRIM page: C6 comes before C7's MODIFIED check. */
	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
	expect_pf_same(data_epc(0), PT_TCS);
	expect_pf_same(data_epc(0), PT_TRIM);
}

Test(encls_emodt, c6_accepted_trim_stays_trim)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];

	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(fx_eaccept(&fx, lp, fx_data(&fx, 0), TRIM_MODIFIED), 0);
	expect_pf_same(data_epc(0), PT_TRIM);
	expect_pf_same(data_epc(0), PT_TCS);
}

Test(encls_emodt, c6_legal_transitions)
{
	cr_assert_eq(emodt_to(data_epc(0), PT_TCS), 0);
	cr_assert_eq(epcm(data_epc(0))->pt, PT_TCS);
	cr_assert_eq(emodt_to(data_epc(1), PT_TRIM), 0);
	cr_assert_eq(epcm(data_epc(1))->pt, PT_TRIM);
	/* TCS -> TRIM, on the fixture's (EADDed) TCS. */
	cr_assert_eq(emodt_to(tcs_epc(), PT_TRIM), 0);
	cr_assert_eq(epcm(tcs_epc())->pt, PT_TRIM);
}

Test(encls_emodt, c7_pending_not_modifiable)
{
	uint64_t epc = fx_eaug(&fx, fx_data(&fx, NR_DATA));

	expect_code_same(epc, PT_TRIM, SGX_PAGE_NOT_MODIFIABLE);
	expect_code_same(epc, PT_TCS, SGX_PAGE_NOT_MODIFIABLE);
}

Test(encls_emodt, c7_modified_not_modifiable)
{
	/* REG -> TCS leaves MODIFIED; TCS -> TRIM is legal but must wait. */
	cr_assert_eq(emodt_to(data_epc(0), PT_TCS), 0);
	expect_code_same(data_epc(0), PT_TRIM, SGX_PAGE_NOT_MODIFIABLE);
}

Test(encls_emodt, c8_not_initialized)
{
	fx_fini(&fx);
	fx_init(&fx, 64, 2);
	fx_build_uninit(&fx, NR_DATA);
	si.flags = SGX_SECINFO_TYPE(PT_TRIM);
	expect_gp_same(data_epc(0));
	si.flags = SGX_SECINFO_TYPE(PT_TCS);
	expect_gp_same(data_epc(0));
	fx_einit(&fx);
	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
}

Test(encls_emodt, e1_epcm_update)
{
	const struct epcm_entry *e = epcm(data_epc(0));
	struct sgx_lp *lp = &fx.cpu.lps[1];

	/* A restricted page waiting for EACCEPT: EMODT clears its PR. */
	cr_assert_eq(fx_emodpr(&fx, fx_data(&fx, 0), SGX_SECINFO_R), 0);
	cr_assert_eq(e->pr, 1);
	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
	cr_assert_eq(e->pr, 0);
	cr_assert_eq(e->modified, 1);
	cr_assert(!e->r && !e->w && !e->x);
	cr_assert_eq(e->pt, PT_TRIM);
	cr_assert_eq(e->pending, 0);
	cr_assert_eq(e->valid, 1);
	cr_assert_eq(e->enclave_address, fx_data(&fx, 0));
	/* An RWX page (X added by the enclave) loses every right. */
	fx_enter(&fx, lp);
	cr_assert_eq(fx_emodpe(&fx, lp, fx_data(&fx, 1), SGX_SECINFO_X), 0);
	fx_exit(&fx, lp);
	cr_assert(epcm(data_epc(1))->x);
	cr_assert_eq(emodt_to(data_epc(1), PT_TCS), 0);
	cr_assert_eq(epcm(data_epc(1))->pt, PT_TCS);
	cr_assert_eq(epcm(data_epc(1))->modified, 1);
	cr_assert(!epcm(data_epc(1))->r && !epcm(data_epc(1))->w &&
		  !epcm(data_epc(1))->x);
}

Test(encls_emodt, e2_tracking_stamp)
{
	const struct epcm_entry *e = epcm(data_epc(0));
	uint64_t idx, sidx;

	cr_assert(sgx_epc_index(&fx.cpu, data_epc(0), &idx));
	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &sidx));
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
	cr_assert_eq(e->track_stamp, sgx_secs_epoch(&fx.cpu, sidx) + 1);
	cr_assert_not(sgx_page_tracked(&fx.cpu, idx));
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert(sgx_page_tracked(&fx.cpu, idx));
}

Test(encls_emodt, stale_tlb_until_exit)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0), v = 7;

	fx_enter(&fx, lp);
	cr_assert_eq(sgx_lp_write(lp, lin, &v, sizeof(v)), 0);
	cr_assert_eq(emodt_to(data_epc(0), PT_TRIM), 0);
	/* EMODT reached into no TLB: the cached RW translation still works. */
	cr_assert_eq(sgx_lp_write(lp, lin, &v, sizeof(v)), 0);
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	fx_expect_pf(lp, sgx_lp_read(lp, lin, &v, sizeof(v)), lin, 0x8005);
}
