// SPDX-License-Identifier: MIT
/*
 * ENCLU[EGETKEY] (src/arch/enclu_egetkey.c) and the AES-CMAC it rests on
 * (src/arch/keys.c): each check C1..C11 violated (exact fault or code,
 * nothing written) and satisfied, and the effects: keys are stable, follow
 * the derivation table (what each key does and does not depend on), and
 * tell enclaves apart by MRENCLAVE but not by MRSIGNER.
 *
 * Enclave A is the fixture's, run by LP 1; enclave B (key_util.h, same
 * signer) is run by LP 2.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/crypto.h"
#include "arch/keys.h"
#include "key_util.h"

#define PF_ENCLU (X86_PF_SGX | X86_PF_USER | X86_PF_PROT)
#define PF_ENCLU_W (PF_ENCLU | X86_PF_WRITE)
#define HOLE 0x80000ULL /* an unmapped page inside ELRANGE */

static struct fx fx;
static struct sgx_lp *lp;
static uint64_t kr, out;

static struct sgx_keyrequest *req(void)
{
	return host_of(&fx, kr);
}

static struct sgx_secs *secs(void)
{
	return secs_of(fx.secs);
}

static void setup(void)
{
	fx_init(&fx, 64, 3);
	fx_build(&fx, 2);
	lp = &fx.cpu.lps[1];
	kr = scratch_of(fx.base) + OP_KEYREQUEST;
	out = scratch_of(fx.base) + OP_KEY;
	memset(req(), 0, sizeof(*req()));
	req()->keyname = SGX_KEYNAME_SEAL;
	req()->keypolicy = SGX_KEYPOLICY_MRENCLAVE;
	memcpy(req()->cpusvn, fx.cpu.cpusvn, 16);
	fx_enter(&fx, lp);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(enclu_egetkey, .init = setup, .fini = teardown);

static int getkey(uint64_t k, uint64_t o)
{
	return enclu_egetkey(lp, k, o);
}

/* Run the default operands and return the key. */
static void key_now(uint8_t key[16])
{
	cr_assert_eq(getkey(kr, out), 0);
	memcpy(key, host_of(&fx, out), 16);
}

static bool same_key(const uint8_t a[16], const uint8_t b[16])
{
	return !memcmp(a, b, 16);
}

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

static void expect_gp_same_at(uint64_t k, uint64_t o)
{
	take();
	fx_expect_gp(lp, getkey(k, o));
	expect_same();
}

static void expect_gp_same(void)
{
	expect_gp_same_at(kr, out);
}

static void expect_pf_same(uint64_t k, uint64_t o, uint64_t at, uint32_t ec)
{
	take();
	fx_expect_pf(lp, getkey(k, o), at, ec);
	expect_same();
}

static void expect_code_same(int code)
{
	take();
	cr_assert_eq(getkey(kr, out), code);
	expect_same();
}

static void hex(const char *s, uint8_t *outb, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		outb[i] = (uint8_t)v;
	}
}

/* RFC 4493 section 4, examples 1-4. */
Test(enclu_egetkey, cmac128_rfc4493_vectors)
{
	static const char *const msg =
		"6bc1bee22e409f96e93d7e117393172a"
		"ae2d8a571e03ac9c9eb76fac45af8e51"
		"30c81c46a35ce411e5fbc1191a0a52ef"
		"f69f2445df4f9b17ad2b417be66c3710";
	static const struct {
		size_t len;
		const char *mac;
	} v[] = {
		{ 0, "bb1d6929e95937287fa37d129b756746" },
		{ 16, "070a16b46b4d4144f79bdd9dd04a287c" },
		{ 40, "dfa66747de9ae63030ca32611497c827" },
		{ 64, "51f0bebf7e3b9d92fc49741779363cfe" },
	};
	uint8_t key[16], m[64], want[16], got[16];

	hex("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
	hex(msg, m, 64);
	for (unsigned int i = 0; i < 4; i++) {
		hex(v[i].mac, want, 16);
		cmac128(key, m, v[i].len, got);
		cr_assert(same_key(got, want), "example %u", i + 1);
	}
}

Test(enclu_egetkey, c1_outside_enclave)
{
	fx_exit(&fx, lp);
	expect_gp_same();
	fx_enter(&fx, lp);
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, c2_keyrequest_unaligned)
{
	expect_gp_same_at(kr + 0x100, out);
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, c2_keyrequest_outside_elrange)
{
	expect_gp_same_at(FX_AEP, out);
	expect_gp_same_at(fx.base + fx.size, out);
}

Test(enclu_egetkey, c3_keyrequest_unmapped)
{
	expect_pf_same(fx.base + HOLE, out, fx.base + HOLE, X86_PF_USER);
}

Test(enclu_egetkey, c3_keyrequest_not_readable)
{
	uint64_t k = fx_data(&fx, 0);

	memcpy(host_of(&fx, k), req(), sizeof(*req()));
	cr_assert_eq(getkey(k, out), 0);
	cr_assert_eq(fx_emodpr(&fx, k, 0), 0);
	expect_pf_same(k, out, k, PF_ENCLU);
}

Test(enclu_egetkey, c3_keyrequest_in_tcs)
{
	uint64_t t = fx_tcs_of(&fx, lp);

	expect_pf_same(t, out, t, PF_ENCLU);
}

Test(enclu_egetkey, c4_key_unaligned)
{
	expect_gp_same_at(kr, out + 8);
	cr_assert_eq(getkey(kr, out + 16), 0);
}

Test(enclu_egetkey, c4_key_outside_elrange)
{
	expect_gp_same_at(kr, FX_AEP);
}

Test(enclu_egetkey, c5_key_unmapped)
{
	expect_pf_same(kr, fx.base + HOLE, fx.base + HOLE,
		       X86_PF_USER | X86_PF_WRITE);
}

Test(enclu_egetkey, c5_key_epcm_read_only)
{
	uint64_t o = fx_data(&fx, 1);

	cr_assert_eq(getkey(kr, o), 0);
	cr_assert_eq(fx_emodpr(&fx, o, SGX_SECINFO_R), 0);
	expect_pf_same(kr, o, o, PF_ENCLU_W);
}

Test(enclu_egetkey, c6_reserved_fields)
{
	req()->reserved1 = 1;
	expect_gp_same();
	req()->reserved1 = 0;
	req()->reserved2[sizeof(req()->reserved2) - 1] = 1;
	expect_gp_same();
	req()->reserved2[sizeof(req()->reserved2) - 1] = 0;
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, c6_reserved_policy_bits)
{
	req()->keypolicy |= 0x40;
	expect_gp_same();
	req()->keypolicy = SGX_KEYPOLICY_MRENCLAVE | 0x8000;
	expect_gp_same();
	req()->keypolicy = SGX_KEYPOLICY_MRENCLAVE | SGX_KEYPOLICY_MRSIGNER;
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, c7_kss_policy_needs_kss)
{
	static const uint16_t kss[] = {
		SGX_KEYPOLICY_NOISVPRODID, SGX_KEYPOLICY_CONFIGID,
		SGX_KEYPOLICY_ISVFAMILYID, SGX_KEYPOLICY_ISVEXTPRODID,
	};

	for (unsigned int i = 0; i < 4; i++) {
		req()->keypolicy = SGX_KEYPOLICY_MRENCLAVE | kss[i];
		expect_gp_same();
	}
	secs()->attributes |= SGX_ATTR_KSS;
	for (unsigned int i = 0; i < 4; i++) {
		req()->keypolicy = SGX_KEYPOLICY_MRENCLAVE | kss[i];
		cr_assert_eq(getkey(kr, out), 0, "policy %#x", kss[i]);
	}
}

Test(enclu_egetkey, c7_configsvn_needs_kss)
{
	req()->config_svn = 1;
	expect_gp_same();
	secs()->attributes |= SGX_ATTR_KSS;
	secs()->config_svn = 1;
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, c8_unknown_keyname)
{
	req()->keyname = SGX_KEYNAME_SEAL + 1;
	expect_code_same(SGX_INVALID_KEYNAME);
	req()->keyname = 0xFFFF;
	expect_code_same(SGX_INVALID_KEYNAME);
	req()->keyname = SGX_KEYNAME_REPORT;
	cr_assert_eq(getkey(kr, out), 0);
}

/* Each access-controlled key: refused without its attribute, then given. */
static void expect_needs_attribute(uint16_t name, uint64_t attr)
{
	req()->keyname = name;
	expect_code_same(SGX_INVALID_ATTRIBUTE);
	secs()->attributes |= attr;
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, c9_einittoken_needs_attribute)
{
	expect_needs_attribute(SGX_KEYNAME_EINITTOKEN, SGX_ATTR_EINITTOKENKEY);
}

Test(enclu_egetkey, c9_provision_needs_attribute)
{
	expect_needs_attribute(SGX_KEYNAME_PROVISION, SGX_ATTR_PROVISIONKEY);
}

Test(enclu_egetkey, c9_provision_seal_needs_attribute)
{
	expect_needs_attribute(SGX_KEYNAME_PROVISION_SEAL,
			       SGX_ATTR_PROVISIONKEY);
}

/* A byte of CR_CPUSVN that a request can exceed. */
static unsigned int raisable_cpusvn_byte(void)
{
	for (unsigned int i = 0; i < 16; i++)
		if (fx.cpu.cpusvn[i] < 0xFF)
			return i;
	cr_assert_fail("CPUSVN is all 0xFF");
	return 0;
}

/* A byte of CR_CPUSVN that a request can go below. */
static unsigned int lowerable_cpusvn_byte(void)
{
	for (unsigned int i = 0; i < 16; i++)
		if (fx.cpu.cpusvn[i] > 0)
			return i;
	cr_assert_fail("CPUSVN is all zero");
	return 0;
}

Test(enclu_egetkey, c10_cpusvn_beyond_platform)
{
	static const uint16_t names[] = {
		SGX_KEYNAME_SEAL, SGX_KEYNAME_EINITTOKEN,
		SGX_KEYNAME_PROVISION, SGX_KEYNAME_PROVISION_SEAL,
	};
	unsigned int i = raisable_cpusvn_byte();

	secs()->attributes |= SGX_ATTR_EINITTOKENKEY | SGX_ATTR_PROVISIONKEY;
	for (unsigned int n = 0; n < 4; n++) {
		req()->keyname = names[n];
		req()->cpusvn[i] = fx.cpu.cpusvn[i] + 1;
		expect_code_same(SGX_INVALID_CPUSVN);
		req()->cpusvn[i] = fx.cpu.cpusvn[i];
		cr_assert_eq(getkey(kr, out), 0, "key %u", names[n]);
		memset(req()->cpusvn, 0, 16);
		cr_assert_eq(getkey(kr, out), 0, "key %u", names[n]);
		memcpy(req()->cpusvn, fx.cpu.cpusvn, 16);
	}
}

Test(enclu_egetkey, c11_isvsvn_above_enclave)
{
	static const uint16_t names[] = {
		SGX_KEYNAME_SEAL, SGX_KEYNAME_EINITTOKEN,
		SGX_KEYNAME_PROVISION, SGX_KEYNAME_PROVISION_SEAL,
	};

	secs()->attributes |= SGX_ATTR_EINITTOKENKEY | SGX_ATTR_PROVISIONKEY;
	secs()->isv_svn = 3;
	for (unsigned int n = 0; n < 4; n++) {
		req()->keyname = names[n];
		req()->isvsvn = 4;
		expect_code_same(SGX_INVALID_ISVSVN);
		req()->isvsvn = 3;
		cr_assert_eq(getkey(kr, out), 0, "key %u", names[n]);
	}
}

Test(enclu_egetkey, c11_configsvn_above_enclave_for_seal)
{
	secs()->attributes |= SGX_ATTR_KSS | SGX_ATTR_PROVISIONKEY;
	secs()->config_svn = 2;
	req()->config_svn = 3;
	expect_code_same(SGX_INVALID_ISVSVN);
	req()->config_svn = 2;
	cr_assert_eq(getkey(kr, out), 0);
	/* PROVISION_SEAL takes CONFIGSVN but the SDM does not check it. */
	req()->keyname = SGX_KEYNAME_PROVISION_SEAL;
	req()->config_svn = 3;
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, c10_c11_not_for_report_key)
{
	req()->keyname = SGX_KEYNAME_REPORT;
	req()->cpusvn[raisable_cpusvn_byte()]++;
	req()->isvsvn = 0xFFFF;
	cr_assert_eq(getkey(kr, out), 0);
}

Test(enclu_egetkey, e1_key_is_stable)
{
	uint8_t a[16], b2[16];
	static const uint8_t zero[16];

	key_now(a);
	key_now(b2);
	cr_assert(same_key(a, b2));
	cr_assert_not(same_key(a, zero));
}

Test(enclu_egetkey, e1_key_names_give_different_keys)
{
	static const uint16_t names[] = {
		SGX_KEYNAME_EINITTOKEN, SGX_KEYNAME_PROVISION,
		SGX_KEYNAME_PROVISION_SEAL, SGX_KEYNAME_REPORT,
		SGX_KEYNAME_SEAL,
	};
	uint8_t k[5][16];

	secs()->attributes |= SGX_ATTR_EINITTOKENKEY | SGX_ATTR_PROVISIONKEY;
	for (unsigned int n = 0; n < 5; n++) {
		req()->keyname = names[n];
		key_now(k[n]);
		for (unsigned int m = 0; m < n; m++)
			cr_assert_not(same_key(k[n], k[m]), "%u vs %u", n, m);
	}
}

Test(enclu_egetkey, e1_seal_key_follows_request)
{
	uint8_t base_key[16], k[16];

	secs()->isv_svn = 2;
	req()->isvsvn = 2;
	key_now(base_key);
	req()->isvsvn = 1; /* an older version's key */
	key_now(k);
	cr_assert_not(same_key(k, base_key));
	req()->isvsvn = 2;
	req()->keyid[0] = 1;
	key_now(k);
	cr_assert_not(same_key(k, base_key));
	req()->keyid[0] = 0;
	req()->cpusvn[lowerable_cpusvn_byte()]--; /* an older TCB's key */
	key_now(k);
	cr_assert_not(same_key(k, base_key));
	memcpy(req()->cpusvn, fx.cpu.cpusvn, 16);
	req()->attributemask[0] = SGX_ATTR_MODE64BIT;
	key_now(k);
	cr_assert_not(same_key(k, base_key));
	req()->attributemask[0] = 0;
	key_now(k);
	cr_assert(same_key(k, base_key));
}

Test(enclu_egetkey, e1_policy_selects_identity)
{
	uint8_t enclave[16], both[16], signer[16];

	key_now(enclave);
	req()->keypolicy = SGX_KEYPOLICY_MRENCLAVE | SGX_KEYPOLICY_MRSIGNER;
	key_now(both);
	req()->keypolicy = SGX_KEYPOLICY_MRSIGNER;
	key_now(signer);
	cr_assert_not(same_key(enclave, both));
	cr_assert_not(same_key(signer, both));
	cr_assert_not(same_key(signer, enclave));
}

Test(enclu_egetkey, e1_policy_leaves_out_the_other_identity)
{
	uint8_t a[16], k[16];

	/* MRENCLAVE policy: the signer does not enter the key. */
	key_now(a);
	secs()->mrsigner[0] ^= 1;
	key_now(k);
	cr_assert(same_key(k, a));
	/* MRSIGNER policy: the signer does, the measurement does not. */
	req()->keypolicy = SGX_KEYPOLICY_MRSIGNER;
	key_now(a);
	secs()->mrenclave[0] ^= 1;
	key_now(k);
	cr_assert(same_key(k, a));
	secs()->mrsigner[0] ^= 1;
	key_now(k);
	cr_assert_not(same_key(k, a));
}

Test(enclu_egetkey, e1_report_key_ignores_request_svns)
{
	uint8_t a[16], k[16];

	req()->keyname = SGX_KEYNAME_REPORT;
	key_now(a);
	req()->isvsvn = 9;
	req()->keypolicy = SGX_KEYPOLICY_MRSIGNER;
	memset(req()->cpusvn, 0, 16);
	req()->attributemask[0] = SGX_ATTR_MODE64BIT;
	key_now(k);
	cr_assert(same_key(k, a));
	req()->keyid[31] = 1; /* but KEYID is the report's, and counts */
	key_now(k);
	cr_assert_not(same_key(k, a));
}

Test(enclu_egetkey, e1_provision_key_ignores_keyid)
{
	uint8_t a[16], k[16];

	secs()->attributes |= SGX_ATTR_PROVISIONKEY;
	req()->keyname = SGX_KEYNAME_PROVISION;
	key_now(a);
	req()->keyid[0] = 0x77;
	key_now(k);
	cr_assert(same_key(k, a));
}

Test(enclu_egetkey, e1_noisvprodid_policy)
{
	uint8_t a[16], k[16];

	secs()->attributes |= SGX_ATTR_KSS;
	secs()->isv_prod_id = 5;
	key_now(a);
	req()->keypolicy |= SGX_KEYPOLICY_NOISVPRODID;
	key_now(k);
	cr_assert_not(same_key(k, a));
}

/* The SEAL key each enclave gets under this policy. */
static void seal_keys_of_a_and_b(uint16_t policy, uint8_t ka[16],
				 uint8_t kb[16])
{
	struct sgx_lp *lb = &fx.cpu.lps[2];
	struct enclave2 b;
	uint64_t kr_b, out_b;

	build_enclave2(&fx, &b, 0xB2);
	kr_b = scratch_of(b.base) + OP_KEYREQUEST;
	out_b = scratch_of(b.base) + OP_KEY;
	req()->keypolicy = policy;
	memcpy(host_of(&fx, kr_b), req(), sizeof(*req()));
	key_now(ka);
	cr_assert_eq(enclu_eenter(lb, b.tcs, FX_AEP), 0);
	cr_assert_eq(enclu_egetkey(lb, kr_b, out_b), 0);
	memcpy(kb, host_of(&fx, out_b), 16);
}

Test(enclu_egetkey, e1_mrenclave_policy_separates_enclaves)
{
	uint8_t ka[16], kb[16];

	seal_keys_of_a_and_b(SGX_KEYPOLICY_MRENCLAVE, ka, kb);
	cr_assert_not(same_key(ka, kb));
}

Test(enclu_egetkey, e1_mrsigner_policy_shares_between_enclaves)
{
	uint8_t ka[16], kb[16];

	seal_keys_of_a_and_b(SGX_KEYPOLICY_MRSIGNER, ka, kb);
	cr_assert(same_key(ka, kb));
}
