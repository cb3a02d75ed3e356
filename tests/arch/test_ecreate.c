// SPDX-License-Identifier: MIT
/*
 * ECREATE (SDM Vol. 3D, "ECREATE"): every check C1..C19 of encls_ecreate.c
 * in both directions (the fault, with nothing changed; and the boundary
 * case that gets past the check), and the effects E1..E5.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <string.h>

#include "arch/crypto.h"
#include "arch/internal.h"
#include "fixture.h"

#define BASE 0x40000000ULL
#define SIZE 0x10000ULL

static struct fx fx;
static struct sgx_secs tmpl;
static struct sgx_secinfo secinfo;
static struct sgx_pageinfo pi;
static uint64_t target;
static struct fx_snap before;
static uint64_t next_eid;

static void setup(void)
{
	fx_init(&fx, 16, 1);
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.base = BASE;
	tmpl.size = SIZE;
	tmpl.ssa_frame_size = 1;
	tmpl.attributes = SGX_ATTR_MODE64BIT;
	tmpl.xfrm = 3;
	secinfo = (struct sgx_secinfo){ .flags = SGX_SECINFO_TYPE(PT_SECS) };
	pi = (struct sgx_pageinfo){
		.srcpge = (uint64_t)(uintptr_t)&tmpl,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
	};
	target = fx_alloc_epc(&fx);
	memset((void *)(uintptr_t)target, 0xA5, PAGE_SIZE);
	fx_snap(&fx, target, &before);
	next_eid = fx.cpu.next_eid;
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_ecreate, .init = setup, .fini = teardown);

static int ecreate(void)
{
	return encls_ecreate(fx.lp, &pi, target);
}

/* A failed ECREATE leaves the target page, its EPCM entry and EIDs. */
static void expect_gp_nothing_changed(int ret)
{
	fx_expect_gp(fx.lp, ret);
	fx_expect_same(&fx, &before);
	cr_assert_eq(fx.cpu.next_eid, next_eid);
}

/* ECREATE succeeded and the target is now a SECS. */
static void expect_created(int ret)
{
	uint64_t idx;

	cr_assert_eq(ret, 0, "ECREATE: %#x", ret);
	cr_assert(sgx_epc_index(&fx.cpu, target, &idx));
	cr_assert(sgx_epcm(&fx.cpu, idx)->valid);
	cr_assert_eq(sgx_epcm(&fx.cpu, idx)->pt, PT_SECS);
}

static const struct sgx_secs *created(void)
{
	return (const struct sgx_secs *)(uintptr_t)target;
}

Test(encls_ecreate, c1_pageinfo_misaligned)
{
	static uint8_t buf[128] __attribute__((aligned(64)));
	struct sgx_pageinfo *moved = (struct sgx_pageinfo *)(buf + 16);

	memcpy(moved, &pi, sizeof(pi));
	expect_gp_nothing_changed(encls_ecreate(fx.lp, moved, target));
}

Test(encls_ecreate, c1_pageinfo_32_aligned_is_enough)
{
	static uint8_t buf[128] __attribute__((aligned(64)));
	struct sgx_pageinfo *moved = (struct sgx_pageinfo *)(buf + 32);

	memcpy(moved, &pi, sizeof(pi));
	expect_created(encls_ecreate(fx.lp, moved, target));
}

Test(encls_ecreate, c2_target_misaligned)
{
	expect_gp_nothing_changed(encls_ecreate(fx.lp, &pi, target + 0x800));
}

Test(encls_ecreate, c2_target_page_aligned)
{
	expect_created(ecreate());
}

Test(encls_ecreate, c3_target_outside_epc)
{
	static uint8_t host[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	uint64_t addr = (uint64_t)(uintptr_t)host;
	int ret = encls_ecreate(fx.lp, &pi, addr);

	fx_expect_pf(fx.lp, ret, addr, FX_PF_EPCM);
	fx_expect_same(&fx, &before);
	cr_assert_eq(fx.cpu.next_eid, next_eid);
}

Test(encls_ecreate, c3_last_epc_page)
{
	target = sgx_epc_addr(&fx.cpu, fx.cpu.cfg.epc_pages - 1);
	expect_created(ecreate());
}

Test(encls_ecreate, c4_srcpge_misaligned)
{
	pi.srcpge += 64;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c4_secinfo_misaligned)
{
	static uint8_t buf[256] __attribute__((aligned(128)));

	memcpy(buf + 32, &secinfo, sizeof(secinfo));
	pi.secinfo = (uint64_t)(uintptr_t)(buf + 32);
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c4_secinfo_64_aligned_is_enough)
{
	static uint8_t buf[256] __attribute__((aligned(128)));

	memcpy(buf + 64, &secinfo, sizeof(secinfo));
	pi.secinfo = (uint64_t)(uintptr_t)(buf + 64);
	expect_created(ecreate());
}

Test(encls_ecreate, c5_linaddr_nonzero)
{
	pi.linaddr = BASE;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c5_secs_nonzero)
{
	pi.secs = sgx_epc_addr(&fx.cpu, 3);
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c5_both_zero)
{
	expect_created(ecreate());
}

Test(encls_ecreate, c6_secinfo_rights)
{
	secinfo.flags |= SGX_SECINFO_R;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c6_secinfo_reserved_byte)
{
	secinfo.reserved[55] = 1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c6_secinfo_not_secs)
{
	secinfo.flags = SGX_SECINFO_TYPE(PT_REG);
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c6_secinfo_pt_secs)
{
	expect_created(ecreate());
}

Test(encls_ecreate, c7_target_valid)
{
	expect_created(ecreate());
	fx_snap(&fx, target, &before);
	next_eid = fx.cpu.next_eid;
	fx_expect_pf(fx.lp, ecreate(), target, FX_PF_EPCM);
	fx_expect_same(&fx, &before);
	cr_assert_eq(fx.cpu.next_eid, next_eid);
}

Test(encls_ecreate, c7_target_free)
{
	expect_created(ecreate());
	target = fx_alloc_epc(&fx);
	expect_created(ecreate());
}

Test(encls_ecreate, c8_xfrm_without_sse)
{
	tmpl.xfrm = 0x1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c8_xfrm_without_x87)
{
	tmpl.xfrm = 0x2;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c8_xfrm_x87_sse)
{
	tmpl.xfrm = 0x3;
	expect_created(ecreate());
}

Test(encls_ecreate, c9_xfrm_unsupported_feature)
{
	tmpl.xfrm = 0x3 | BIT(3);
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c9_xfrm_high_feature)
{
	tmpl.xfrm = 0x7 | BIT(9);
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c9_xfrm_avx_supported)
{
	tmpl.xfrm = 0x7;
	expect_created(ecreate());
}

Test(encls_ecreate, c10_miscselect_unsupported)
{
	tmpl.miscselect = 0x2;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c10_miscselect_exinfo)
{
	tmpl.miscselect = SGX_MISC_EXINFO;
	expect_created(ecreate());
}

Test(encls_ecreate, c11_ssaframesize_zero)
{
	tmpl.ssa_frame_size = 0;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c11_one_page_holds_the_largest_frame)
{
	tmpl.xfrm = 0x7;
	tmpl.miscselect = SGX_MISC_EXINFO;
	expect_created(ecreate());
}

Test(encls_ecreate, c12_32bit_enclave)
{
	tmpl.attributes &= ~SGX_ATTR_MODE64BIT;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c12_64bit_enclave)
{
	expect_created(ecreate());
}

Test(encls_ecreate, c13_base_noncanonical)
{
	tmpl.base = 0x0000800000000000ULL;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c13_base_canonical_high)
{
	tmpl.base = 0xFFFF800000000000ULL;
	expect_created(ecreate());
}

Test(encls_ecreate, c13_base_canonical_low_top)
{
	tmpl.base = 0x00007FFFFFFF0000ULL;
	expect_created(ecreate());
}

Test(encls_ecreate, c14_size_at_maximum)
{
	tmpl.base = 0;
	tmpl.size = 1ULL << SGX_MAX_ENCLAVE_SIZE_64_LOG2;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c14_size_below_maximum)
{
	tmpl.base = 0;
	tmpl.size = 1ULL << (SGX_MAX_ENCLAVE_SIZE_64_LOG2 - 1);
	expect_created(ecreate());
}

Test(encls_ecreate, c15_size_one_page)
{
	tmpl.size = 0x1000;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c15_size_not_power_of_two)
{
	tmpl.size = 0x3000;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c15_size_zero)
{
	tmpl.size = 0;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c15_size_two_pages)
{
	tmpl.size = 0x2000;
	expect_created(ecreate());
}

Test(encls_ecreate, c16_base_not_size_aligned)
{
	tmpl.base = BASE + SIZE / 2;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c16_base_size_aligned)
{
	tmpl.base = BASE + SIZE;
	expect_created(ecreate());
}

Test(encls_ecreate, c17_reserved_attribute)
{
	tmpl.attributes |= BIT(3);
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c17_high_reserved_attribute)
{
	tmpl.attributes |= BIT(63);
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c17_init_claimed)
{
	tmpl.attributes |= SGX_ATTR_INIT;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c17_supported_attributes)
{
	tmpl.attributes |= SGX_ATTR_DEBUG | SGX_ATTR_PROVISIONKEY |
			   SGX_ATTR_EINITTOKENKEY | SGX_ATTR_KSS |
			   SGX_ATTR_AEXNOTIFY;
	expect_created(ecreate());
	cr_assert_eq(created()->attributes, tmpl.attributes);
}

Test(encls_ecreate, c18_reserved1)
{
	tmpl.reserved1[23] = 1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c18_reserved2)
{
	tmpl.reserved2[0] = 1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c18_reserved3)
{
	tmpl.reserved3[31] = 1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c18_reserved4)
{
	tmpl.reserved4[0] = 1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c18_forged_hidden_state)
{
	size_t off = SECS_HIDDEN_OFFSET - offsetof(struct sgx_secs, reserved4);

	tmpl.reserved4[off + offsetof(struct secs_hidden, epoch)] = 9;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c18_identity_fields_are_not_reserved)
{
	memset(tmpl.mrenclave, 0x11, sizeof(tmpl.mrenclave));
	memset(tmpl.mrsigner, 0x22, sizeof(tmpl.mrsigner));
	expect_created(ecreate());
}

Test(encls_ecreate, c19_configid_without_kss)
{
	tmpl.config_id[63] = 1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c19_configsvn_without_kss)
{
	tmpl.config_svn = 1;
	expect_gp_nothing_changed(ecreate());
}

Test(encls_ecreate, c19_config_with_kss)
{
	tmpl.attributes |= SGX_ATTR_KSS;
	tmpl.config_id[0] = 0x42;
	tmpl.config_svn = 3;
	expect_created(ecreate());
	cr_assert_eq(created()->config_id[0], 0x42);
	cr_assert_eq(created()->config_svn, 3);
}

Test(encls_ecreate, e1_copies_the_template)
{
	const struct sgx_secs *s;

	tmpl.miscselect = SGX_MISC_EXINFO;
	tmpl.attributes |= SGX_ATTR_DEBUG;
	tmpl.xfrm = 0x7;
	tmpl.ssa_frame_size = 2;
	memset(tmpl.mrenclave, 0x11, sizeof(tmpl.mrenclave));
	memset(tmpl.mrsigner, 0x22, sizeof(tmpl.mrsigner));
	tmpl.isv_prod_id = 7;
	tmpl.isv_svn = 8;
	expect_created(ecreate());
	s = created();
	cr_assert_eq(s->base, BASE);
	cr_assert_eq(s->size, SIZE);
	cr_assert_eq(s->ssa_frame_size, 2);
	cr_assert_eq(s->miscselect, SGX_MISC_EXINFO);
	cr_assert_eq(s->attributes, SGX_ATTR_MODE64BIT | SGX_ATTR_DEBUG);
	cr_assert_eq(s->xfrm, 0x7);
	for (unsigned int i = 0; i < 32; i++) {
		cr_assert_eq(s->mrenclave[i], 0, "MRENCLAVE is 0 until EINIT");
		cr_assert_eq(s->mrsigner[i], 0, "MRSIGNER is 0 until EINIT");
	}
	cr_assert_eq(s->isv_prod_id, 0);
	cr_assert_eq(s->isv_svn, 0);
}

Test(encls_ecreate, e2_hidden_state_zeroed)
{
	uint64_t idx;
	const struct secs_hidden *h;

	expect_created(ecreate());
	cr_assert(sgx_epc_index(&fx.cpu, target, &idx));
	h = secs_hidden_at(&fx.cpu, idx);
	/* The page was full of 0xA5 before. */
	cr_assert_eq(h->epoch, 0);
	cr_assert_eq(h->child_count, 0);
	cr_assert_eq(h->active_count, 0);
	cr_assert_eq(h->prev_active, 0);
	cr_assert_eq(h->reserved, 0);
	cr_assert_eq(sgx_secs_epoch(&fx.cpu, idx), 0);
	cr_assert_eq(sgx_secs_child_count(&fx.cpu, idx), 0);
}

Test(encls_ecreate, e3_eid_from_counter)
{
	uint64_t idx, first = target;

	expect_created(ecreate());
	cr_assert_eq(fx.cpu.next_eid, next_eid + 1);
	target = fx_alloc_epc(&fx);
	expect_created(ecreate());
	cr_assert_eq(fx.cpu.next_eid, next_eid + 2);
	cr_assert(sgx_epc_index(&fx.cpu, first, &idx));
	cr_assert_eq(secs_hidden_at(&fx.cpu, idx)->eid, next_eid);
	cr_assert(sgx_epc_index(&fx.cpu, target, &idx));
	cr_assert_eq(secs_hidden_at(&fx.cpu, idx)->eid, next_eid + 1);
}

/* The ECREATE record, built here from the SDM text, not by the CPU. */
static void expected_ecreate_digest(uint8_t out[32])
{
	uint8_t rec[64] = { 'E', 'C', 'R', 'E', 'A', 'T', 'E', 0 };
	unsigned int len = 0;

	memcpy(rec + 8, &tmpl.ssa_frame_size, 4);
	memcpy(rec + 12, &tmpl.size, 8);
	cr_assert_eq(EVP_Digest(rec, sizeof(rec), out, &len, EVP_sha256(),
				NULL), 1);
}

Test(encls_ecreate, e4_measurement_started)
{
	uint8_t want[32], got[32];
	uint64_t idx;

	tmpl.ssa_frame_size = 3;
	tmpl.size = 0x200000;
	tmpl.base = 0x200000;
	expect_created(ecreate());
	cr_assert(sgx_epc_index(&fx.cpu, target, &idx));
	measure_finish(secs_hidden_at(&fx.cpu, idx), got);
	expected_ecreate_digest(want);
	cr_assert_eq(memcmp(got, want, 32), 0);
}

Test(encls_ecreate, e5_epcm_entry)
{
	const struct epcm_entry *e;
	uint64_t idx;

	expect_created(ecreate());
	cr_assert(sgx_epc_index(&fx.cpu, target, &idx));
	e = sgx_epcm(&fx.cpu, idx);
	cr_assert_eq(e->valid, 1);
	cr_assert_eq(e->pt, PT_SECS);
	cr_assert_eq(e->r + e->w + e->x, 0);
	cr_assert_eq(e->enclave_address, 0);
	cr_assert_eq(e->blocked + e->pending + e->modified + e->pr, 0);
	cr_assert_eq(e->enclave_secs, idx);
	cr_assert_eq(e->track_stamp, 0);
	cr_assert_eq(created()->attributes & SGX_ATTR_INIT, 0);
}
