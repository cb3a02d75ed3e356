// SPDX-License-Identifier: MIT
/*
 * ENCLU[EREPORT] (src/arch/enclu_ereport.c): each check C1..C7 violated
 * (exact fault, nothing written) and satisfied, and the effects E1..E4:
 * the body mirrors the SECS, and the MAC verifies with the REPORT key the
 * target enclave gets from EGETKEY, and with no other.
 *
 * Enclave A is the fixture's, run by LP 1; enclave B (key_util.h) is run
 * by LP 2.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/crypto.h"
#include "key_util.h"

#define PF_ENCLU (X86_PF_SGX | X86_PF_USER | X86_PF_PROT)
#define PF_ENCLU_W (PF_ENCLU | X86_PF_WRITE)
#define REPORT_SIZE 432
#define HOLE 0x80000ULL /* an unmapped page inside ELRANGE */

static struct fx fx;
static struct sgx_lp *lp;
static struct enclave2 b;
static uint64_t ti, rd, rep;

static void setup(void)
{
	fx_init(&fx, 64, 3);
	fx_build(&fx, 2);
	lp = &fx.cpu.lps[1];
	ti = scratch_of(fx.base) + OP_TARGETINFO;
	rd = scratch_of(fx.base) + OP_REPORTDATA;
	rep = scratch_of(fx.base) + OP_REPORT;
	/* By default A reports to itself, with recognisable REPORTDATA. */
	targetinfo_of(secs_of(fx.secs), host_of(&fx, ti));
	memset(host_of(&fx, rd), 0x5A, 64);
	fx_enter(&fx, lp);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(enclu_ereport, .init = setup, .fini = teardown);

static int ereport(uint64_t t, uint64_t d, uint64_t r)
{
	return enclu_ereport(lp, t, d, r);
}

static const struct sgx_report *report_at(uint64_t lin)
{
	return host_of(&fx, lin);
}

/* Snapshot of the pages a failing EREPORT could have written. */
static struct fx_snap snap_scratch, snap_data;

static void take(void)
{
	fx_snap(&fx, fx_epc_of(&fx, scratch_of(fx.base)), &snap_scratch);
	fx_snap(&fx, fx_epc_of(&fx, fx_data(&fx, 1)), &snap_data);
}

static void expect_same(void)
{
	fx_expect_same(&fx, &snap_scratch);
	fx_expect_same(&fx, &snap_data);
}

static void expect_gp_same(uint64_t t, uint64_t d, uint64_t r)
{
	take();
	fx_expect_gp(lp, ereport(t, d, r));
	expect_same();
}

static void expect_pf_same(uint64_t t, uint64_t d, uint64_t r, uint64_t at,
			   uint32_t ec)
{
	take();
	fx_expect_pf(lp, ereport(t, d, r), at, ec);
	expect_same();
}

/* The REPORT key the enclave running on l gets from EGETKEY. */
static void report_key(struct sgx_lp *l, uint64_t base,
		       const uint8_t keyid[32], uint8_t key[16])
{
	struct sgx_keyrequest *req =
		host_of(&fx, scratch_of(base) + OP_KEYREQUEST);

	memset(req, 0, sizeof(*req));
	req->keyname = SGX_KEYNAME_REPORT;
	memcpy(req->keyid, keyid, 32);
	cr_assert_eq(enclu_egetkey(l, scratch_of(base) + OP_KEYREQUEST,
				   scratch_of(base) + OP_KEY), 0);
	memcpy(key, host_of(&fx, scratch_of(base) + OP_KEY), 16);
}

static bool mac_ok(const struct sgx_report *r, const uint8_t key[16])
{
	uint8_t mac[16];

	cmac128(key, &r->body, sizeof(r->body), mac);
	return !memcmp(mac, r->mac, sizeof(mac));
}

Test(enclu_ereport, c1_outside_enclave)
{
	fx_exit(&fx, lp);
	expect_gp_same(ti, rd, rep);
	fx_enter(&fx, lp);
	cr_assert_eq(ereport(ti, rd, rep), 0);
}

Test(enclu_ereport, c2_targetinfo_unaligned)
{
	expect_gp_same(ti + 0x40, rd, rep);
	cr_assert_eq(ereport(ti, rd, rep), 0);
}

Test(enclu_ereport, c2_targetinfo_outside_elrange)
{
	expect_gp_same(FX_AEP, rd, rep);
	expect_gp_same(fx.base - PAGE_SIZE, rd, rep);
	cr_assert_eq(ereport(fx.base + fx.size - PAGE_SIZE * 3, rd, rep), 0);
}

Test(enclu_ereport, c3_targetinfo_unmapped)
{
	expect_pf_same(fx.base + HOLE, rd, rep, fx.base + HOLE, X86_PF_USER);
}

Test(enclu_ereport, c3_targetinfo_not_readable)
{
	uint64_t t = fx_data(&fx, 0);

	memcpy(host_of(&fx, t), host_of(&fx, ti), 512);
	cr_assert_eq(ereport(t, rd, rep), 0);
	cr_assert_eq(fx_emodpr(&fx, t, 0), 0);
	expect_pf_same(t, rd, rep, t, PF_ENCLU);
}

Test(enclu_ereport, c3_targetinfo_not_a_reg_page)
{
	uint64_t t = fx_tcs_of(&fx, lp), idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx_epc_of(&fx, t), &idx));
	/* EPCM R forced on, so only the TCS's type is wrong. */
	fx.cpu.epcm[idx].r = 1;
	expect_pf_same(t, rd, rep, t, PF_ENCLU);
}

Test(enclu_ereport, c3_targetinfo_invalid)
{
	uint64_t t = fx_data(&fx, 0);

	memcpy(host_of(&fx, t), host_of(&fx, ti), 512);
	cr_assert_eq(ereport(t, rd, rep), 0);
	fx_exit(&fx, lp);
	cr_assert_eq(encls_eremove(fx.lp, fx_epc_of(&fx, t)), 0);
	fx_enter(&fx, lp);
	expect_pf_same(t, rd, rep, t, PF_ENCLU);
}

Test(enclu_ereport, c3_targetinfo_blocked)
{
	uint64_t t = fx_data(&fx, 0);

	cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, t)), 0);
	expect_pf_same(t, rd, rep, t, PF_ENCLU);
}

Test(enclu_ereport, c4_reportdata_unaligned)
{
	expect_gp_same(ti, rd + 0x40, rep);
	cr_assert_eq(ereport(ti, rd + 0x80, rep), 0);
}

Test(enclu_ereport, c4_reportdata_outside_elrange)
{
	expect_gp_same(ti, fx.base + fx.size, rep);
}

Test(enclu_ereport, c5_reportdata_unmapped)
{
	expect_pf_same(ti, fx.base + HOLE, rep, fx.base + HOLE, X86_PF_USER);
}

Test(enclu_ereport, c5_reportdata_not_readable)
{
	uint64_t d = fx_data(&fx, 0);

	cr_assert_eq(ereport(ti, d, rep), 0);
	cr_assert_eq(fx_emodpr(&fx, d, 0), 0);
	expect_pf_same(ti, d, rep, d, PF_ENCLU);
}

Test(enclu_ereport, c5_reportdata_pending)
{
	uint64_t d = fx.base + HOLE;

	fx_eaug(&fx, d);
	expect_pf_same(ti, d, rep, d, PF_ENCLU);
}

Test(enclu_ereport, c5_reportdata_modified)
{
	uint64_t d = fx_data(&fx, 0);

	cr_assert_eq(ereport(ti, d, rep), 0);
	cr_assert_eq(fx_emodt(&fx, d, PT_TRIM), 0);
	expect_pf_same(ti, d, rep, d, PF_ENCLU);
}

Test(enclu_ereport, c5_reportdata_modified_reg_page)
{
	uint64_t d = fx_data(&fx, 0), idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx_epc_of(&fx, d), &idx));
	/* No leaf leaves a REG page MODIFIED; forced, to isolate the check. */
	fx.cpu.epcm[idx].modified = 1;
	expect_pf_same(ti, d, rep, d, PF_ENCLU);
}

Test(enclu_ereport, c5_reportdata_address_mismatch)
{
	uint64_t d = fx.base + HOLE;

	cr_assert_eq(sgx_pgtable_map(&fx.pt, d,
				     fx_epc_of(&fx, fx_data(&fx, 0)),
				     SGX_PTE_PRESENT | SGX_PTE_NX), 0);
	expect_pf_same(ti, d, rep, d, PF_ENCLU);
}

Test(enclu_ereport, c6_report_unaligned)
{
	expect_gp_same(ti, rd, rep + 0x100);
	cr_assert_eq(ereport(ti, rd, rep + 0x200), 0);
}

Test(enclu_ereport, c6_report_outside_elrange)
{
	expect_gp_same(ti, rd, FX_AEP);
}

Test(enclu_ereport, c7_report_unmapped)
{
	expect_pf_same(ti, rd, fx.base + HOLE, fx.base + HOLE,
		       X86_PF_USER | X86_PF_WRITE);
}

Test(enclu_ereport, c7_report_pte_read_only)
{
	uint64_t r = fx_data(&fx, 1);

	cr_assert_eq(ereport(ti, rd, r), 0);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, r, fx_epc_of(&fx, r),
				     SGX_PTE_PRESENT | SGX_PTE_NX), 0);
	expect_pf_same(ti, rd, r, r, X86_PF_USER | X86_PF_PROT | X86_PF_WRITE);
}

Test(enclu_ereport, c7_report_epcm_read_only)
{
	uint64_t r = fx_data(&fx, 1);

	cr_assert_eq(ereport(ti, rd, r), 0);
	cr_assert_eq(fx_emodpr(&fx, r, SGX_SECINFO_R), 0);
	expect_pf_same(ti, rd, r, r, PF_ENCLU_W);
}

Test(enclu_ereport, c7_report_other_enclave)
{
	uint64_t r = fx.base + HOLE, page, idx;

	build_enclave2(&fx, &b, 0xB2);
	page = fx_epc_of(&fx, scratch_of(b.base));
	cr_assert(sgx_epc_index(&fx.cpu, page, &idx));
	/* B's page, claiming an A address: only the owner is wrong. */
	fx.cpu.epcm[idx].enclave_address = r;
	cr_assert_eq(sgx_pgtable_map(&fx.pt, r, page,
				     SGX_PTE_PRESENT | SGX_PTE_WRITE |
					     SGX_PTE_NX), 0);
	expect_pf_same(ti, rd, r, r, PF_ENCLU_W);
}

Test(enclu_ereport, e1_body_is_the_enclave_identity)
{
	const struct sgx_secs *s = secs_of(fx.secs);
	const struct sgx_report_body *body = &report_at(rep)->body;
	static const uint8_t zero[64];

	secs_of(fx.secs)->isv_prod_id = 0x1234;
	secs_of(fx.secs)->isv_svn = 7;
	cr_assert_eq(ereport(ti, rd, rep), 0);
	cr_assert_eq(memcmp(body->cpusvn, fx.cpu.cpusvn, 16), 0);
	cr_assert_eq(body->miscselect, s->miscselect);
	cr_assert_eq(body->attributes, s->attributes);
	cr_assert(body->attributes & SGX_ATTR_INIT);
	cr_assert_eq(body->xfrm, s->xfrm);
	cr_assert_eq(memcmp(body->mrenclave, s->mrenclave, 32), 0);
	cr_assert_eq(memcmp(body->mrsigner, s->mrsigner, 32), 0);
	cr_assert_eq(memcmp(body->config_id, s->config_id, 64), 0);
	cr_assert_eq(body->isvprodid, 0x1234);
	cr_assert_eq(body->isvsvn, 7);
	cr_assert_eq(body->config_svn, s->config_svn);
	cr_assert_eq(memcmp(body->reserved1, zero, sizeof(body->reserved1)),
		     0);
	cr_assert_eq(memcmp(body->isvfamilyid, zero, 16), 0);
	for (unsigned int i = 0; i < 64; i++)
		cr_assert_eq(body->reportdata[i], 0x5A);
}

Test(enclu_ereport, e2_keyid_is_fixed_per_boot)
{
	static const uint8_t zero[32];
	uint8_t first[32];

	cr_assert_eq(ereport(ti, rd, rep), 0);
	memcpy(first, report_at(rep)->keyid, 32);
	cr_assert_neq(memcmp(first, zero, 32), 0);
	memset(host_of(&fx, rd), 0x11, 64);
	cr_assert_eq(ereport(ti, rd, rep), 0);
	cr_assert_eq(memcmp(report_at(rep)->keyid, first, 32), 0);
}

Test(enclu_ereport, e3_mac_verifies_for_self)
{
	uint8_t key[16];

	cr_assert_eq(ereport(ti, rd, rep), 0);
	report_key(lp, fx.base, report_at(rep)->keyid, key);
	cr_assert(mac_ok(report_at(rep), key));
}

Test(enclu_ereport, e3_mac_verifies_only_for_the_target)
{
	struct sgx_lp *lb = &fx.cpu.lps[2];
	uint8_t key_b[16], key_a[16];

	build_enclave2(&fx, &b, 0xB2);
	cr_assert_neq(memcmp(secs_of(b.secs)->mrenclave,
			     secs_of(fx.secs)->mrenclave, 32), 0);
	targetinfo_of(secs_of(b.secs), host_of(&fx, ti));
	cr_assert_eq(ereport(ti, rd, rep), 0);
	cr_assert_eq(enclu_eenter(lb, b.tcs, FX_AEP), 0);
	report_key(lb, b.base, report_at(rep)->keyid, key_b);
	cr_assert(mac_ok(report_at(rep), key_b));
	report_key(lp, fx.base, report_at(rep)->keyid, key_a);
	cr_assert_not(mac_ok(report_at(rep), key_a));
}

Test(enclu_ereport, e3_mac_binds_targetinfo_and_body)
{
	struct sgx_targetinfo *t = host_of(&fx, ti);
	struct sgx_report copy;
	uint8_t key[16];

	cr_assert_eq(ereport(ti, rd, rep), 0);
	memcpy(&copy, report_at(rep), REPORT_SIZE);
	report_key(lp, fx.base, copy.keyid, key);
	/* Another REPORTDATA gives another MAC, which verifies too. */
	memset(host_of(&fx, rd), 0x11, 64);
	cr_assert_eq(ereport(ti, rd, rep), 0);
	cr_assert_neq(memcmp(report_at(rep)->mac, copy.mac, 16), 0);
	cr_assert(mac_ok(report_at(rep), key));
	/* A TARGETINFO naming other attributes: not our key any more. */
	t->attributes ^= SGX_ATTR_DEBUG;
	cr_assert_eq(ereport(ti, rd, rep), 0);
	cr_assert_not(mac_ok(report_at(rep), key));
	t->attributes ^= SGX_ATTR_DEBUG;
	t->miscselect ^= 1;
	cr_assert_eq(ereport(ti, rd, rep), 0);
	cr_assert_not(mac_ok(report_at(rep), key));
}

Test(enclu_ereport, e4_writes_exactly_the_report)
{
	uint8_t *out = host_of(&fx, rep);

	memset(out, 0xCC, 512);
	cr_assert_eq(ereport(ti, rd, rep), 0);
	for (unsigned int i = REPORT_SIZE; i < 512; i++)
		cr_assert_eq(out[i], 0xCC, "byte %u written", i);
	cr_assert_neq(out[REPORT_SIZE - 1], 0xCC);
}

Test(enclu_ereport, e4_inputs_read_before_output_written)
{
	uint8_t key[16];

	/* TARGETINFO and REPORT at the same address. */
	memcpy(host_of(&fx, rep), host_of(&fx, ti), 512);
	cr_assert_eq(ereport(rep, rd, rep), 0);
	report_key(lp, fx.base, report_at(rep)->keyid, key);
	cr_assert(mac_ok(report_at(rep), key));
}
