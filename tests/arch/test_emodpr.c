// SPDX-License-Identifier: MIT
/*
 * ENCLS[EMODPR] (src/arch/encls_emodpr.c): each check C1..C8 violated
 * (exact fault or code, nothing changed) and satisfied (the leaf gets past
 * it), and the effects E1..E3.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define NR_DATA 4
#define REG_RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)

static struct fx fx;
static struct sgx_secinfo si;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, NR_DATA);
	memset(&si, 0, sizeof(si));
	si.flags = SGX_SECINFO_R;
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_emodpr, .init = setup, .fini = teardown);

static uint64_t data_epc(unsigned int i)
{
	return fx_epc_of(&fx, fx_data(&fx, i));
}

static const struct epcm_entry *epcm(uint64_t epc)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, epc, &idx));
	return sgx_epcm(&fx.cpu, idx);
}

static int emodpr(uint64_t epc)
{
	return encls_emodpr(fx.lp, &si, epc);
}

/* Run EMODPR on epc, expecting a #GP and no change. */
static void expect_gp_same(uint64_t epc)
{
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_gp(fx.lp, emodpr(epc));
	fx_expect_same(&fx, &s);
}

/* Run EMODPR on epc, expecting a #PF on it and no change. */
static void expect_pf_same(uint64_t epc)
{
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	fx_expect_pf(fx.lp, emodpr(epc), epc, FX_PF_EPCM);
	fx_expect_same(&fx, &s);
}

static void expect_code_same(uint64_t epc, int code)
{
	struct fx_snap s;

	fx_snap(&fx, epc, &s);
	cr_assert_eq(emodpr(epc), code);
	fx_expect_same(&fx, &s);
}

/* Restart with data page NR_DATA added as REG|RWX before EINIT. */
static uint64_t build_with_rwx_page(void)
{
	fx_fini(&fx);
	fx_init(&fx, 64, 2);
	fx_build_uninit(&fx, NR_DATA);
	fx_eadd(&fx, fx_data(&fx, NR_DATA), REG_RW | SGX_SECINFO_X, NULL,
		true);
	fx_einit(&fx);
	return data_epc(NR_DATA);
}

/* EMODT lin to TRIM, track it, and EACCEPT it from LP 1. */
static void trim_and_accept(uint64_t lin)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];

	cr_assert_eq(fx_emodt(&fx, lin, PT_TRIM), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(fx_eaccept(&fx, lp, lin, SGX_SECINFO_TYPE(PT_TRIM) |
						  SGX_SECINFO_MODIFIED), 0);
}

Test(encls_emodpr, c1_secinfo_unaligned)
{
	static uint8_t buf[2 * sizeof(struct sgx_secinfo)]
		__attribute__((aligned(64)));
	struct fx_snap s;

	memcpy(buf + 32, &si, sizeof(si));
	fx_snap(&fx, data_epc(0), &s);
	fx_expect_gp(fx.lp, encls_emodpr(fx.lp,
					 (struct sgx_secinfo *)(buf + 32),
					 data_epc(0)));
	fx_expect_same(&fx, &s);
	memcpy(buf, &si, sizeof(si));
	cr_assert_eq(encls_emodpr(fx.lp, (struct sgx_secinfo *)buf,
				  data_epc(0)), 0);
}

Test(encls_emodpr, c1_epc_unaligned)
{
	struct fx_snap s;

	fx_snap(&fx, data_epc(0), &s);
	fx_expect_gp(fx.lp, emodpr(data_epc(0) + 8));
	fx_expect_same(&fx, &s);
	cr_assert_eq(emodpr(data_epc(0)), 0);
}

Test(encls_emodpr, c2_outside_epc)
{
	uint64_t first = sgx_epc_addr(&fx.cpu, 0);
	uint64_t end = first + fx.cpu.cfg.epc_pages * PAGE_SIZE;

	fx_expect_pf(fx.lp, emodpr(end), end, FX_PF_EPCM);
	fx_expect_pf(fx.lp, emodpr(first - PAGE_SIZE), first - PAGE_SIZE,
		     FX_PF_EPCM);
	/* The last EPC page is inside: it gets to C5 (not valid). */
	fx_expect_pf(fx.lp, emodpr(end - PAGE_SIZE), end - PAGE_SIZE,
		     FX_PF_EPCM);
	cr_assert_eq(epcm(end - PAGE_SIZE)->valid, 0);
}

Test(encls_emodpr, c3_reserved_bits)
{
	static const uint64_t bad[] = { 1ULL << 6, 1ULL << 7, 1ULL << 16,
					1ULL << 63, SGX_SECINFO_PENDING,
					SGX_SECINFO_MODIFIED, SGX_SECINFO_PR };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		si.flags = SGX_SECINFO_R | bad[i];
		expect_gp_same(data_epc(0));
	}
	si.flags = SGX_SECINFO_R;
	si.reserved[0] = 1;
	expect_gp_same(data_epc(0));
	si.reserved[0] = 0;
	si.reserved[55] = 0x80;
	expect_gp_same(data_epc(0));
	si.reserved[55] = 0;
	/* PAGE_TYPE is not checked (Linux passes 0). */
	si.flags = SGX_SECINFO_R | SGX_SECINFO_TYPE(PT_TCS);
	cr_assert_eq(emodpr(data_epc(0)), 0);
}

Test(encls_emodpr, c4_w_without_r)
{
	si.flags = SGX_SECINFO_W;
	expect_gp_same(data_epc(0));
	si.flags = SGX_SECINFO_W | SGX_SECINFO_X;
	expect_gp_same(data_epc(0));
	/* Checked before C5: an invalid page still gives #GP. */
	fx_expect_gp(fx.lp, emodpr(fx_alloc_epc(&fx)));
	si.flags = SGX_SECINFO_R | SGX_SECINFO_W;
	cr_assert_eq(emodpr(data_epc(0)), 0);
	si.flags = 0;
	cr_assert_eq(emodpr(data_epc(1)), 0);
}

Test(encls_emodpr, c5_not_valid)
{
	uint64_t epc = fx_alloc_epc(&fx);

	memset((void *)(uintptr_t)epc, 0x3C, PAGE_SIZE);
	expect_pf_same(epc);
	/* An EREMOVEd page keeps its old REG entry, but is not VALID. */
	cr_assert_eq(encls_eremove(fx.lp, data_epc(3)), 0);
	expect_pf_same(data_epc(3));
	cr_assert_eq(emodpr(data_epc(0)), 0);
}

Test(encls_emodpr, c6_pending_not_modifiable)
{
	uint64_t lin = fx_data(&fx, NR_DATA);
	uint64_t epc = fx_eaug(&fx, lin);

	expect_code_same(epc, SGX_PAGE_NOT_MODIFIABLE);
}

Test(encls_emodpr, c6_modified_not_modifiable)
{
	uint64_t lin = fx_data(&fx, 0);

	cr_assert_eq(fx_emodt(&fx, lin, PT_TRIM), 0);
	/* A TRIM page, but C6 comes before the type check of C7. */
	expect_code_same(data_epc(0), SGX_PAGE_NOT_MODIFIABLE);
	cr_assert_eq(fx_emodt(&fx, fx_data(&fx, 1), PT_TCS), 0);
	expect_code_same(data_epc(1), SGX_PAGE_NOT_MODIFIABLE);
}

Test(encls_emodpr, c7_not_reg)
{
	expect_pf_same(fx_epc_of(&fx, fx.base + FX_TCS_OFF));
	expect_pf_same(fx.secs);
}

Test(encls_emodpr, c7_accepted_trim_is_pf)
{
	/* Linux's probe before EREMOVE: an accepted TRIM page faults. */
	trim_and_accept(fx_data(&fx, 2));
	expect_pf_same(data_epc(2));
}

Test(encls_emodpr, c8_not_initialized)
{
	fx_fini(&fx);
	fx_init(&fx, 64, 2);
	fx_build_uninit(&fx, NR_DATA);
	expect_gp_same(data_epc(0));
	fx_einit(&fx);
	cr_assert_eq(emodpr(data_epc(0)), 0);
}

Test(encls_emodpr, e1_pr_set)
{
	cr_assert_eq(epcm(data_epc(0))->pr, 0);
	cr_assert_eq(emodpr(data_epc(0)), 0);
	cr_assert_eq(epcm(data_epc(0))->pr, 1);
	/* PR already set is allowed, and stays set. */
	cr_assert_eq(emodpr(data_epc(0)), 0);
	cr_assert_eq(epcm(data_epc(0))->pr, 1);
}

Test(encls_emodpr, e2_rights_anded)
{
	uint64_t epc = build_with_rwx_page();
	const struct epcm_entry *e = epcm(epc);

	si.flags = SGX_SECINFO_R | SGX_SECINFO_X;
	cr_assert_eq(emodpr(epc), 0);
	cr_assert(e->r && !e->w && e->x);
	/* A mask, not a grant: asking for W again changes nothing. */
	si.flags = SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X;
	cr_assert_eq(emodpr(epc), 0);
	cr_assert(e->r && !e->w && e->x);
	si.flags = SGX_SECINFO_R;
	cr_assert_eq(emodpr(epc), 0);
	cr_assert(e->r && !e->w && !e->x);
	si.flags = 0;
	cr_assert_eq(emodpr(epc), 0);
	cr_assert(!e->r && !e->w && !e->x);
	si.flags = SGX_SECINFO_R | SGX_SECINFO_X;
	cr_assert_eq(emodpr(epc), 0);
	cr_assert(!e->r && !e->w && !e->x, "EMODPR never grants");
	cr_assert_eq(e->pt, PT_REG);
	cr_assert_eq(e->enclave_address, fx_data(&fx, NR_DATA));
}

Test(encls_emodpr, e3_tracking_stamp)
{
	const struct epcm_entry *e = epcm(data_epc(0));
	uint64_t idx, sidx;

	cr_assert(sgx_epc_index(&fx.cpu, data_epc(0), &idx));
	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &sidx));
	cr_assert_eq(e->track_stamp, 0);
	cr_assert(sgx_page_tracked(&fx.cpu, idx));
	cr_assert_eq(emodpr(data_epc(0)), 0);
	cr_assert_eq(e->track_stamp, sgx_secs_epoch(&fx.cpu, sidx) + 1);
	cr_assert_not(sgx_page_tracked(&fx.cpu, idx));
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert(sgx_page_tracked(&fx.cpu, idx));
}

Test(encls_emodpr, no_tlb_flush)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0), v = 42;

	fx_enter(&fx, lp);
	cr_assert_eq(sgx_lp_write(lp, lin, &v, sizeof(v)), 0);
	cr_assert_eq(emodpr(data_epc(0)), 0);
	/* The LP's TLB still holds RW: EMODPR reached into no TLB. */
	cr_assert_eq(sgx_lp_write(lp, lin, &v, sizeof(v)), 0);
	fx_aex(&fx, lp);
	fx_enter(&fx, lp);
	fx_expect_pf(lp, sgx_lp_write(lp, lin, &v, sizeof(v)), lin, 0x8007);
}
