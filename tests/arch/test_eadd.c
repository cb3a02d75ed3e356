// SPDX-License-Identifier: MIT
/*
 * EADD (SDM Vol. 3D, "EADD"): every check C1..C12 of encls_eadd.c in both
 * directions (the fault, with neither the target nor the SECS changed; and
 * the case that gets past the check), and the effects E1..E5.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <string.h>

#include "arch/crypto.h"
#include "arch/internal.h"
#include "fixture.h"

#define SIZE 0x10000ULL
#define LIN (FX_BASE + 0x1000)
#define RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)

static struct fx fx;
static uint8_t src[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct sgx_secinfo secinfo;
static struct sgx_pageinfo pi;
static uint64_t target;
static struct fx_snap target_before, secs_before;

static void setup(void)
{
	fx_init(&fx, 16, 1);
	fx_ecreate(&fx, FX_BASE, SIZE);
	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	secinfo = (struct sgx_secinfo){ .flags = RW };
	pi = (struct sgx_pageinfo){
		.linaddr = LIN,
		.srcpge = (uint64_t)(uintptr_t)src,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
		.secs = fx.secs,
	};
	target = fx_alloc_epc(&fx);
	memset((void *)(uintptr_t)target, 0xA5, PAGE_SIZE);
	fx_snap(&fx, target, &target_before);
	fx_snap(&fx, fx.secs, &secs_before);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_eadd, .init = setup, .fini = teardown);

static int eadd(void)
{
	return encls_eadd(fx.lp, &pi, target);
}

/* Neither the target page nor the SECS (measurement, child count) moved. */
static void expect_nothing_changed(void)
{
	fx_expect_same(&fx, &target_before);
	fx_expect_same(&fx, &secs_before);
}

static void expect_gp_nothing_changed(int ret)
{
	fx_expect_gp(fx.lp, ret);
	expect_nothing_changed();
}

static void expect_pf_nothing_changed(int ret, uint64_t addr)
{
	fx_expect_pf(fx.lp, ret, addr, FX_PF_EPCM);
	expect_nothing_changed();
}

static const struct epcm_entry *target_epcm(void)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, target, &idx));
	return sgx_epcm(&fx.cpu, idx);
}

static void expect_added(int ret)
{
	cr_assert_eq(ret, 0, "EADD: %#x", ret);
	cr_assert(target_epcm()->valid);
}

static uint64_t secs_index(void)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &idx));
	return idx;
}

Test(encls_eadd, c1_pageinfo_misaligned)
{
	static uint8_t buf[128] __attribute__((aligned(64)));
	struct sgx_pageinfo *moved = (struct sgx_pageinfo *)(buf + 8);

	memcpy(moved, &pi, sizeof(pi));
	expect_gp_nothing_changed(encls_eadd(fx.lp, moved, target));
}

Test(encls_eadd, c1_pageinfo_32_aligned_is_enough)
{
	static uint8_t buf[128] __attribute__((aligned(64)));
	struct sgx_pageinfo *moved = (struct sgx_pageinfo *)(buf + 32);

	memcpy(moved, &pi, sizeof(pi));
	expect_added(encls_eadd(fx.lp, moved, target));
}

Test(encls_eadd, c2_target_misaligned)
{
	expect_gp_nothing_changed(encls_eadd(fx.lp, &pi, target + 64));
}

Test(encls_eadd, c2_target_page_aligned)
{
	expect_added(eadd());
}

Test(encls_eadd, c3_target_outside_epc)
{
	static uint8_t host[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	uint64_t addr = (uint64_t)(uintptr_t)host;

	expect_pf_nothing_changed(encls_eadd(fx.lp, &pi, addr), addr);
}

Test(encls_eadd, c3_last_epc_page)
{
	target = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1);
	expect_added(eadd());
}

Test(encls_eadd, c4_srcpge_misaligned)
{
	pi.srcpge += 0x10;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c4_secs_misaligned)
{
	pi.secs += 0x100;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c4_secinfo_misaligned)
{
	static uint8_t buf[256] __attribute__((aligned(128)));

	memcpy(buf + 32, &secinfo, sizeof(secinfo));
	pi.secinfo = (uint64_t)(uintptr_t)(buf + 32);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c4_linaddr_misaligned)
{
	pi.linaddr += 0x80;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c4_secinfo_64_aligned_is_enough)
{
	static uint8_t buf[256] __attribute__((aligned(128)));

	memcpy(buf + 64, &secinfo, sizeof(secinfo));
	pi.secinfo = (uint64_t)(uintptr_t)(buf + 64);
	expect_added(eadd());
}

Test(encls_eadd, c5_secs_outside_epc)
{
	static uint8_t host[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

	pi.secs = (uint64_t)(uintptr_t)host;
	expect_pf_nothing_changed(eadd(), pi.secs);
}

Test(encls_eadd, c5_secs_in_epc)
{
	expect_added(eadd());
}

Test(encls_eadd, c6_secinfo_reserved_flag)
{
	secinfo.flags |= BIT(16);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_secinfo_reserved_byte)
{
	secinfo.reserved[0] = 1;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_secinfo_pending)
{
	secinfo.flags |= SGX_SECINFO_PENDING;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_secinfo_modified)
{
	secinfo.flags |= SGX_SECINFO_MODIFIED;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_secinfo_pr)
{
	secinfo.flags |= SGX_SECINFO_PR;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_pt_secs)
{
	secinfo.flags = SGX_SECINFO_TYPE(PT_SECS);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_pt_va)
{
	secinfo.flags = SGX_SECINFO_TYPE(PT_VA);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_pt_trim)
{
	secinfo.flags = SGX_SECINFO_TYPE(PT_TRIM);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c6_pt_reg)
{
	expect_added(eadd());
	cr_assert_eq(target_epcm()->pt, PT_REG);
}

Test(encls_eadd, c6_pt_tcs)
{
	memset(src, 0, sizeof(src));
	secinfo.flags = SGX_SECINFO_TYPE(PT_TCS);
	expect_added(eadd());
	cr_assert_eq(target_epcm()->pt, PT_TCS);
}

Test(encls_eadd, c7_target_valid)
{
	expect_added(eadd());
	fx_snap(&fx, target, &target_before);
	fx_snap(&fx, fx.secs, &secs_before);
	pi.linaddr = LIN + 0x1000;
	expect_pf_nothing_changed(eadd(), target);
}

Test(encls_eadd, c7_target_free)
{
	expect_added(eadd());
	target = fx_alloc_epc(&fx);
	pi.linaddr = LIN + 0x1000;
	expect_added(eadd());
}

Test(encls_eadd, c7_comes_before_c8)
{
	expect_added(eadd());
	fx_snap(&fx, target, &target_before);
	pi.secs = fx_alloc_epc(&fx);
	fx_expect_pf(fx.lp, eadd(), target, FX_PF_EPCM);
	fx_expect_same(&fx, &target_before);
}

Test(encls_eadd, c8_secs_page_free)
{
	pi.secs = fx_alloc_epc(&fx);
	expect_pf_nothing_changed(eadd(), pi.secs);
}

Test(encls_eadd, c8_secs_is_a_reg_page)
{
	uint64_t reg = fx_eadd(&fx, LIN + 0x2000, RW, NULL, false);

	fx_snap(&fx, fx.secs, &secs_before);
	pi.secs = reg;
	expect_pf_nothing_changed(eadd(), reg);
}

Test(encls_eadd, c8_secs_valid)
{
	expect_added(eadd());
	cr_assert_eq(target_epcm()->enclave_secs, secs_index());
}

Test(encls_eadd, c9_tcs_reserved_byte)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)src;

	memset(src, 0, sizeof(src));
	tcs->reserved[SGX_TCS_RESERVED_SIZE - 1] = 1;
	secinfo.flags = SGX_SECINFO_TYPE(PT_TCS);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c9_tcs_reserved_flag)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)src;

	memset(src, 0, sizeof(src));
	tcs->flags = BIT(1);
	secinfo.flags = SGX_SECINFO_TYPE(PT_TCS);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c9_tcs_fields_in_use)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)src;

	memset(src, 0, sizeof(src));
	tcs->flags = SGX_TCS_DBGOPTIN;
	tcs->ssa_offset = 0x2000;
	tcs->nr_ssa_frames = 1;
	tcs->fs_limit = 0xFFF;
	secinfo.flags = SGX_SECINFO_TYPE(PT_TCS);
	expect_added(eadd());
}

Test(encls_eadd, c9_reg_page_has_no_tcs_rules)
{
	/* src is a non-zero pattern everywhere, "reserved" bytes included. */
	expect_added(eadd());
}

Test(encls_eadd, c10_reg_w_without_r)
{
	secinfo.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_W;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c10_reg_wx_without_r)
{
	secinfo.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_W |
			SGX_SECINFO_X;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c10_reg_x_only)
{
	secinfo.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_X;
	expect_added(eadd());
	cr_assert_eq(target_epcm()->x, 1);
	cr_assert_eq(target_epcm()->r + target_epcm()->w, 0);
}

Test(encls_eadd, c10_tcs_w_without_r)
{
	/* The W-without-R rule is for REG pages; a TCS gets no rights. */
	memset(src, 0, sizeof(src));
	secinfo.flags = SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_W;
	expect_added(eadd());
	cr_assert_eq(target_epcm()->w, 0);
}

Test(encls_eadd, c11_linaddr_below_base)
{
	pi.linaddr = FX_BASE - PAGE_SIZE;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c11_linaddr_at_end)
{
	pi.linaddr = FX_BASE + SIZE;
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c11_linaddr_first_page)
{
	pi.linaddr = FX_BASE;
	expect_added(eadd());
}

Test(encls_eadd, c11_linaddr_last_page)
{
	pi.linaddr = FX_BASE + SIZE - PAGE_SIZE;
	expect_added(eadd());
}

Test(encls_eadd, c12_enclave_initialized)
{
	fx_einit(&fx);
	fx_snap(&fx, fx.secs, &secs_before);
	expect_gp_nothing_changed(eadd());
}

Test(encls_eadd, c12_enclave_uninitialized)
{
	cr_assert_eq(((struct sgx_secs *)(uintptr_t)fx.secs)->attributes &
			     SGX_ATTR_INIT, 0);
	expect_added(eadd());
}

Test(encls_eadd, e1_copies_the_source)
{
	expect_added(eadd());
	cr_assert_eq(memcmp((void *)(uintptr_t)target, src, PAGE_SIZE), 0);
}

Test(encls_eadd, e2_tcs_sanitized)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)src;
	const struct sgx_tcs *added;

	memset(src, 0, sizeof(src));
	tcs->state = 1;
	tcs->flags = SGX_TCS_DBGOPTIN;
	tcs->ssa_offset = 0x2000;
	tcs->ssa_index = 1;
	tcs->nr_ssa_frames = 2;
	tcs->entry_offset = 0x3000;
	tcs->exit_addr = 0x1234000;
	tcs->fs_offset = 0x5000;
	tcs->gs_limit = 0xFFFFFFFF;
	secinfo.flags = SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_R |
			SGX_SECINFO_W | SGX_SECINFO_X;
	expect_added(eadd());
	added = (const struct sgx_tcs *)(uintptr_t)target;
	cr_assert_eq(added->state, 0);
	cr_assert_eq(added->flags, 0);
	cr_assert_eq(added->ssa_index, 0);
	cr_assert_eq(added->exit_addr, 0);
	cr_assert_eq(added->ssa_offset, 0x2000);
	cr_assert_eq(added->nr_ssa_frames, 2);
	cr_assert_eq(added->entry_offset, 0x3000);
	cr_assert_eq(added->fs_offset, 0x5000);
	cr_assert_eq(added->gs_limit, 0xFFFFFFFF);
	cr_assert_eq(target_epcm()->r + target_epcm()->w + target_epcm()->x,
		     0);
}

/* SHA-256 over the ECREATE record and one EADD record, from the SDM. */
static void expected_digest(uint64_t offset, uint64_t flags, uint8_t out[32])
{
	uint8_t recs[128] = { 'E', 'C', 'R', 'E', 'A', 'T', 'E', 0 };
	const uint32_t ssa = 1;
	const uint64_t size = SIZE;
	unsigned int len = 0;

	memcpy(recs + 8, &ssa, 4);
	memcpy(recs + 12, &size, 8);
	memcpy(recs + 64, "EADD", 4);
	memcpy(recs + 72, &offset, 8);
	memcpy(recs + 80, &flags, 8);
	cr_assert_eq(EVP_Digest(recs, sizeof(recs), out, &len, EVP_sha256(),
				NULL), 1);
}

static void expect_measured(uint64_t offset, uint64_t flags)
{
	uint8_t want[32], got[32];

	measure_finish(secs_hidden_at(&fx.cpu, secs_index()), got);
	expected_digest(offset, flags, want);
	cr_assert_eq(memcmp(got, want, 32), 0, "MRENCLAVE differs");
}

Test(encls_eadd, e3_measures_offset_and_secinfo)
{
	secinfo.flags = RW | SGX_SECINFO_X;
	pi.linaddr = FX_BASE + 0x7000;
	expect_added(eadd());
	expect_measured(0x7000, RW | SGX_SECINFO_X);
}

Test(encls_eadd, e3_tcs_measured_without_rights)
{
	memset(src, 0, sizeof(src));
	secinfo.flags = SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_R;
	expect_added(eadd());
	expect_measured(LIN - FX_BASE, SGX_SECINFO_TYPE(PT_TCS));
}

Test(encls_eadd, e4_epcm_entry)
{
	const struct epcm_entry *e;

	secinfo.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
			SGX_SECINFO_X;
	expect_added(eadd());
	e = target_epcm();
	cr_assert_eq(e->valid, 1);
	cr_assert_eq(e->pt, PT_REG);
	cr_assert_eq(e->r, 1);
	cr_assert_eq(e->w, 0);
	cr_assert_eq(e->x, 1);
	cr_assert_eq(e->enclave_address, LIN);
	cr_assert_eq(e->enclave_secs, secs_index());
	cr_assert_eq(e->blocked + e->pending + e->modified + e->pr, 0);
	cr_assert_eq(e->track_stamp, 0);
}

Test(encls_eadd, e5_child_count)
{
	cr_assert_eq(sgx_secs_child_count(&fx.cpu, secs_index()), 0);
	expect_added(eadd());
	cr_assert_eq(sgx_secs_child_count(&fx.cpu, secs_index()), 1);
	target = fx_alloc_epc(&fx);
	pi.linaddr += PAGE_SIZE;
	expect_added(eadd());
	cr_assert_eq(sgx_secs_child_count(&fx.cpu, secs_index()), 2);
}
