// SPDX-License-Identifier: MIT
/*
 * EINIT (SDM Vol. 3D, "EINIT"): every check C1..C14 of encls_einit.c in
 * both directions (the fault or error code, with the SECS unchanged; and
 * the case that gets past the check), some of the SDM's ordering between
 * checks, and the effects E1..E4.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <string.h>

#include "fixture.h"
#include "sign/sign.h"

static struct fx fx;
static struct sgx_sigstruct sig __attribute__((aligned(PAGE_SIZE)));
static struct sgx_einittoken token;
static struct fx_snap secs_before;

static void sign_for(const uint8_t mrenclave[32], uint64_t attributes)
{
	fx_sign(&sig, mrenclave, attributes, fx.xfrm);
	fx_snap(&fx, fx.secs, &secs_before);
}

static void setup(void)
{
	uint8_t mr[32];

	fx_init(&fx, 16, 2);
	fx_build_uninit(&fx, 1);
	memset(&token, 0, sizeof(token));
	fx_expected_mrenclave(&fx, mr);
	sign_for(mr, fx.attributes);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_einit, .init = setup, .fini = teardown);

static const struct sgx_secs *secs(void)
{
	return (const struct sgx_secs *)(uintptr_t)fx.secs;
}

static int einit(void)
{
	return encls_einit(fx.lp, &sig, fx.secs, &token);
}

static void expect_initialized(int ret)
{
	cr_assert_eq(ret, 0, "EINIT: %#x", ret);
	cr_assert(secs()->attributes & SGX_ATTR_INIT);
}

/* An error code or fault, and the SECS (INIT, MRENCLAVE...) untouched. */
static void expect_error(int ret, int code)
{
	cr_assert_eq(ret, code, "EINIT: %#x, want %#x", ret, code);
	fx_expect_same(&fx, &secs_before);
}

static void expect_gp(int ret)
{
	fx_expect_gp(fx.lp, ret);
	fx_expect_same(&fx, &secs_before);
}

static void expect_pf(int ret, uint64_t addr)
{
	fx_expect_pf(fx.lp, ret, addr, FX_PF_EPCM);
	fx_expect_same(&fx, &secs_before);
}

Test(encls_einit, c1_sigstruct_misaligned)
{
	static uint8_t buf[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	struct sgx_sigstruct *moved = (struct sgx_sigstruct *)(buf + 512);

	memcpy(moved, &sig, sizeof(sig));
	expect_gp(encls_einit(fx.lp, moved, fx.secs, &token));
}

Test(encls_einit, c1_secs_misaligned)
{
	expect_gp(encls_einit(fx.lp, &sig, fx.secs + 0x40, &token));
}

Test(encls_einit, c1_both_page_aligned)
{
	expect_initialized(einit());
}

Test(encls_einit, c2_token_misaligned)
{
	static uint8_t buf[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	const struct sgx_einittoken *moved = (const void *)(buf + 256);

	expect_gp(encls_einit(fx.lp, &sig, fx.secs, moved));
}

Test(encls_einit, c2_token_512_aligned_is_enough)
{
	static uint8_t buf[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	const struct sgx_einittoken *moved = (const void *)(buf + 512);

	expect_initialized(encls_einit(fx.lp, &sig, fx.secs, moved));
}

Test(encls_einit, c3_secs_outside_epc)
{
	static uint8_t host[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	uint64_t addr = (uint64_t)(uintptr_t)host;

	expect_pf(encls_einit(fx.lp, &sig, addr, &token), addr);
}

Test(encls_einit, c3_comes_before_c4)
{
	static uint8_t host[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	uint64_t addr = (uint64_t)(uintptr_t)host;

	sig.header.header1[0] = 0;
	expect_pf(encls_einit(fx.lp, &sig, addr, &token), addr);
}

Test(encls_einit, c3_secs_in_epc)
{
	expect_initialized(einit());
}

Test(encls_einit, c4_header1_low)
{
	sig.header.header1[0] ^= 1;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_header1_high)
{
	sig.header.header1[1] ^= BIT(40);
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_header2_low)
{
	sig.header.header2[0] = 0;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_header2_high)
{
	sig.header.header2[1] ^= 0x60;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_unknown_vendor)
{
	sig.header.vendor = 0x1234;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_intel_vendor)
{
	sig.header.vendor = 0x8086;
	fx_resign(&sig);
	expect_initialized(einit());
}

Test(encls_einit, c4_exponent_not_3)
{
	sig.exponent = 65537;
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_header_reserved)
{
	sig.header.reserved1[83] = 1;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_body_reserved2)
{
	sig.body.reserved2[0] = 1;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_body_reserved3)
{
	sig.body.reserved3[31] = 1;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_reserved4)
{
	sig.reserved4[11] = 1;
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c4_free_fields)
{
	/* DATE and SWDEFINED are the signer's; nothing checks them. */
	sig.header.date = 0x19991231;
	sig.header.swdefined = 0xFFFFFFFF;
	fx_resign(&sig);
	expect_initialized(einit());
}

Test(encls_einit, c4_comes_before_c5)
{
	sig.header.vendor = 1;
	sig.signature[0] ^= 1;
	expect_error(einit(), SGX_INVALID_SIG_STRUCT);
}

Test(encls_einit, c5_signature_corrupted)
{
	sig.signature[100] ^= 0x10;
	expect_error(einit(), SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c5_modulus_corrupted)
{
	sig.modulus[0] ^= 0x2;
	expect_error(einit(), SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c5_signed_body_changed)
{
	sig.body.isvsvn++;
	expect_error(einit(), SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c5_signed_header_changed)
{
	sig.header.date++;
	expect_error(einit(), SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c5_q1_wrong)
{
	sig.q1[0] ^= 1;
	expect_error(einit(), SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c5_q2_wrong)
{
	sig.q2[SGX_MODULUS_SIZE - 1] ^= 1;
	expect_error(einit(), SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c5_signature_not_below_modulus)
{
	memcpy(sig.signature, sig.modulus, SGX_MODULUS_SIZE);
	expect_error(einit(), SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c5_good_signature)
{
	expect_initialized(einit());
}

Test(encls_einit, c5_comes_before_c6)
{
	uint64_t free_page = fx_alloc_epc(&fx);

	sig.signature[7] ^= 1;
	cr_assert_eq(encls_einit(fx.lp, &sig, free_page, &token),
		     SGX_INVALID_SIGNATURE);
}

Test(encls_einit, c6_secs_page_free)
{
	uint64_t free_page = fx_alloc_epc(&fx);
	struct fx_snap free_before;

	fx_snap(&fx, free_page, &free_before);
	expect_pf(encls_einit(fx.lp, &sig, free_page, &token), free_page);
	fx_expect_same(&fx, &free_before);
}

Test(encls_einit, c6_secs_is_a_reg_page)
{
	uint64_t reg = fx_epc_of(&fx, fx_data(&fx, 0));
	struct fx_snap reg_before;

	fx_snap(&fx, reg, &reg_before);
	expect_pf(encls_einit(fx.lp, &sig, reg, &token), reg);
	fx_expect_same(&fx, &reg_before);
}

Test(encls_einit, c6_secs_valid)
{
	expect_initialized(einit());
}

Test(encls_einit, c7_already_initialized)
{
	expect_initialized(einit());
	fx_snap(&fx, fx.secs, &secs_before);
	expect_gp(einit());
}

Test(encls_einit, c7_first_einit)
{
	cr_assert_eq(secs()->attributes & SGX_ATTR_INIT, 0);
	expect_initialized(einit());
}

Test(encls_einit, c8_wrong_mrenclave)
{
	sig.body.mrenclave[31] ^= 1;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_MEASUREMENT);
}

Test(encls_einit, c8_page_added_after_signing)
{
	fx_eadd(&fx, fx_data(&fx, 1), SGX_SECINFO_TYPE(PT_REG) |
		SGX_SECINFO_R, NULL, true);
	fx_snap(&fx, fx.secs, &secs_before);
	expect_error(einit(), SGX_INVALID_MEASUREMENT);
}

Test(encls_einit, c8_matching_mrenclave)
{
	expect_initialized(einit());
}

Test(encls_einit, c8_comes_before_c10)
{
	sig.body.mrenclave[0] ^= 1;
	sig.body.attributes |= SGX_ATTR_DEBUG;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_MEASUREMENT);
}

Test(encls_einit, c8_failure_keeps_the_measurement)
{
	uint8_t mr[32];

	sig.body.mrenclave[5] ^= 1;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_MEASUREMENT);
	fx_expected_mrenclave(&fx, mr);
	sign_for(mr, fx.attributes);
	expect_initialized(einit());
}

/*
 * A separate enclave with no pages and chosen attributes, ECREATEd by
 * hand; the fixture then EINITs it. Its MRENCLAVE is the SHA-256 of the
 * ECREATE record alone.
 */
static void bare_enclave(uint64_t attributes)
{
	static struct sgx_secs tmpl;
	struct sgx_secinfo secinfo = { .flags = SGX_SECINFO_TYPE(PT_SECS) };
	struct sgx_pageinfo pi = {
		.srcpge = (uint64_t)(uintptr_t)&tmpl,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
	};
	uint8_t rec[64] = { 'E', 'C', 'R', 'E', 'A', 'T', 'E', 0 };
	uint8_t mr[32];
	unsigned int len = 0;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.base = 0x80000000ULL;
	tmpl.size = 0x2000;
	tmpl.ssa_frame_size = 1;
	tmpl.attributes = attributes;
	tmpl.xfrm = 3;
	fx.secs = fx_alloc_epc(&fx);
	cr_assert_eq(encls_ecreate(fx.lp, &pi, fx.secs), 0);
	memcpy(rec + 8, &tmpl.ssa_frame_size, 4);
	memcpy(rec + 12, &tmpl.size, 8);
	cr_assert_eq(EVP_Digest(rec, sizeof(rec), mr, &len, EVP_sha256(),
				NULL), 1);
	sign_for(mr, attributes);
}

Test(encls_einit, c9_einittokenkey_needs_the_launch_signer)
{
	bare_enclave(SGX_ATTR_MODE64BIT | SGX_ATTR_EINITTOKENKEY);
	fx.lp->lepubkeyhash[2] ^= 1;
	expect_error(einit(), SGX_INVALID_ATTRIBUTE);
}

Test(encls_einit, c9_einittokenkey_with_the_launch_signer)
{
	bare_enclave(SGX_ATTR_MODE64BIT | SGX_ATTR_EINITTOKENKEY);
	expect_initialized(einit());
}

Test(encls_einit, c9_other_attributes_are_not_controlled)
{
	/* Gets past C9 and fails only at C13. */
	bare_enclave(SGX_ATTR_MODE64BIT | SGX_ATTR_DEBUG |
		     SGX_ATTR_PROVISIONKEY);
	fx.lp->lepubkeyhash[2] ^= 1;
	expect_error(einit(), SGX_INVALID_EINITTOKEN);
}

Test(encls_einit, c10_attribute_mismatch)
{
	sig.body.attributes |= SGX_ATTR_DEBUG;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_ATTRIBUTE);
}

Test(encls_einit, c10_secs_has_unsigned_attribute)
{
	bare_enclave(SGX_ATTR_MODE64BIT | SGX_ATTR_DEBUG);
	sig.body.attributes = SGX_ATTR_MODE64BIT;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_ATTRIBUTE);
}

Test(encls_einit, c10_mismatch_outside_the_mask)
{
	sig.body.attributes |= SGX_ATTR_DEBUG;
	sig.body.attributes_mask = ~SGX_ATTR_DEBUG;
	fx_resign(&sig);
	expect_initialized(einit());
}

Test(encls_einit, c10_comes_before_c13)
{
	sig.body.attributes |= SGX_ATTR_DEBUG;
	fx_resign(&sig);
	fx.lp->lepubkeyhash[0] ^= 1;
	expect_error(einit(), SGX_INVALID_ATTRIBUTE);
}

Test(encls_einit, c11_xfrm_mismatch)
{
	sig.body.xfrm = 0x7;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_ATTRIBUTE);
}

Test(encls_einit, c11_xfrm_mismatch_outside_the_mask)
{
	sig.body.xfrm = 0x7;
	sig.body.xfrm_mask = 0x3;
	fx_resign(&sig);
	expect_initialized(einit());
}

Test(encls_einit, c12_miscselect_mismatch)
{
	sig.body.miscselect = SGX_MISC_EXINFO;
	sig.body.misc_mask = SGX_MISC_EXINFO;
	fx_resign(&sig);
	expect_error(einit(), SGX_INVALID_ATTRIBUTE);
}

Test(encls_einit, c12_miscselect_pinned_and_equal)
{
	sig.body.miscselect = 0;
	sig.body.misc_mask = ~0U;
	fx_resign(&sig);
	expect_initialized(einit());
}

Test(encls_einit, c12_miscselect_outside_the_mask)
{
	sig.body.miscselect = SGX_MISC_EXINFO;
	fx_resign(&sig);
	expect_initialized(einit());
}

Test(encls_einit, c13_le_hash_mismatch)
{
	fx.lp->lepubkeyhash[3] ^= BIT(63);
	expect_error(einit(), SGX_INVALID_EINITTOKEN);
}

Test(encls_einit, c13_other_signer)
{
	EVP_PKEY *other = sgx_sign_generate_key();
	uint8_t mr[32];

	cr_assert_not_null(other);
	fx_expected_mrenclave(&fx, mr);
	cr_assert_eq(sgx_sign_sigstruct(&sig, other, mr, fx.attributes,
					fx.xfrm), 0);
	EVP_PKEY_free(other);
	expect_error(einit(), SGX_INVALID_EINITTOKEN);
}

Test(encls_einit, c13_only_the_executing_lp_counts)
{
	fx.cpu.lps[1].lepubkeyhash[0] ^= 1;
	cr_assert_eq(encls_einit(&fx.cpu.lps[1], &sig, fx.secs, &token),
		     SGX_INVALID_EINITTOKEN);
	fx_expect_same(&fx, &secs_before);
	expect_initialized(einit());
}

Test(encls_einit, c14_token_valid)
{
	token.valid = 1;
	expect_error(einit(), SGX_INVALID_EINITTOKEN);
}

Test(encls_einit, c14_only_valid_bit_0_counts)
{
	token.valid = 2;
	expect_initialized(einit());
}

Test(encls_einit, e1_mrenclave)
{
	uint8_t want[32];

	fx_expected_mrenclave(&fx, want);
	for (unsigned int i = 0; i < 32; i++)
		cr_assert_eq(secs()->mrenclave[i], 0);
	expect_initialized(einit());
	cr_assert_eq(memcmp(secs()->mrenclave, want, 32), 0);
}

Test(encls_einit, e2_mrsigner)
{
	uint8_t want[32];

	sgx_sign_mrsigner(&sig, want);
	expect_initialized(einit());
	cr_assert_eq(memcmp(secs()->mrsigner, want, 32), 0);
	cr_assert_eq(memcmp(secs()->mrsigner, fx.lp->lepubkeyhash, 32), 0);
}

Test(encls_einit, e3_isv_identity)
{
	sig.body.isvprodid = 0x1234;
	sig.body.isvsvn = 7;
	fx_resign(&sig);
	expect_initialized(einit());
	cr_assert_eq(secs()->isv_prod_id, 0x1234);
	cr_assert_eq(secs()->isv_svn, 7);
}

Test(encls_einit, e4_init_and_nothing_else)
{
	uint64_t attributes = secs()->attributes;

	expect_initialized(einit());
	cr_assert_eq(secs()->attributes, attributes | SGX_ATTR_INIT);
	cr_assert_eq(secs()->xfrm, fx.xfrm);
	cr_assert_eq(secs()->base, fx.base);
	cr_assert_eq(secs()->size, fx.size);
}

Test(encls_einit, fixture_builds_and_initializes)
{
	struct fx big;
	uint8_t want[32];

	fx_init(&big, 64, 4);
	fx_build(&big, 8);
	fx_expected_mrenclave(&big, want);
	cr_assert(((const struct sgx_secs *)(uintptr_t)big.secs)->attributes &
		  SGX_ATTR_INIT);
	cr_assert_eq(memcmp(((const struct sgx_secs *)(uintptr_t)big.secs)
				    ->mrenclave,
			    want, 32),
		     0);
	fx_fini(&big);
}
