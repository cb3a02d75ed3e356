// SPDX-License-Identifier: MIT
/*
 * The enclave measurement and SIGSTRUCT verification (arch/measure.c):
 * SHA-256 known answers, the running state kept in the SECS, MRENCLAVE
 * against records built here from the SDM text (ECREATE, EADD, EEXTEND
 * pseudocode), and sigstruct_verify() with the SDM's Q1/Q2 formulas.
 */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <string.h>

#include "arch/crypto.h"
#include "arch/internal.h"
#include "fixture.h"
#include "sign/sign.h"

#define SIZE 0x20000ULL
#define RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)
#define RX (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_X)

static struct fx fx;
static EVP_MD_CTX *want_ctx;

static void setup(void)
{
	fx_init(&fx, 32, 1);
	want_ctx = EVP_MD_CTX_new();
	cr_assert_not_null(want_ctx);
	cr_assert_eq(EVP_DigestInit_ex(want_ctx, EVP_sha256(), NULL), 1);
}

static void teardown(void)
{
	EVP_MD_CTX_free(want_ctx);
	fx_fini(&fx);
}

TestSuite(measure, .init = setup, .fini = teardown);

static void hex32(const char *hex, uint8_t out[32])
{
	for (unsigned int i = 0; i < 32; i++) {
		unsigned int b;

		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

static void evp_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	cr_assert_eq(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
}

Test(measure, sha256_known_answer)
{
	uint8_t got[32], want[32];

	hex32("ba7816bf8f01cfea414140de5dae2223"
	      "b00361a396177a9cb410ff61f20015ad", want);
	sha256("abc", 3, got);
	cr_assert_eq(memcmp(got, want, 32), 0);
}

Test(measure, empty_measurement_is_sha256_of_nothing)
{
	struct secs_hidden h;
	uint8_t got[32], want[32];

	memset(&h, 0xEE, sizeof(h));
	measure_start(&h);
	measure_finish(&h, got);
	hex32("e3b0c44298fc1c149afbf4c8996fb924"
	      "27ae41e4649b934ca495991b7852b855", want);
	cr_assert_eq(memcmp(got, want, 32), 0);
}

Test(measure, updates_hash_64_byte_blocks)
{
	struct secs_hidden h;
	uint8_t blocks[3 * 64], got[32], want[32];

	for (unsigned int i = 0; i < sizeof(blocks); i++)
		blocks[i] = (uint8_t)(i ^ 0x5A);
	measure_start(&h);
	for (unsigned int i = 0; i < 3; i++)
		measure_update(&h, blocks + 64 * i);
	measure_finish(&h, got);
	evp_sha256(blocks, sizeof(blocks), want);
	cr_assert_eq(memcmp(got, want, 32), 0);
}

Test(measure, finish_leaves_the_running_state)
{
	struct secs_hidden h;
	uint8_t blocks[2 * 64] = { 1, 2, 3 }, a[32], b[32], want[32];

	measure_start(&h);
	measure_update(&h, blocks);
	measure_finish(&h, a);
	measure_finish(&h, b);
	cr_assert_eq(memcmp(a, b, 32), 0);
	measure_update(&h, blocks + 64);
	measure_finish(&h, a);
	evp_sha256(blocks, sizeof(blocks), want);
	cr_assert_eq(memcmp(a, want, 32), 0);
}

Test(measure, state_moves_with_the_secs_page)
{
	/* MODEL: the state is plain bytes in the SECS, so EWB/ELDU of a
	 * SECS (a byte copy) keeps the measurement going. */
	static struct secs_hidden h, moved;
	uint8_t blocks[2 * 64] = { 9, 8, 7 }, got[32], want[32];

	measure_start(&h);
	measure_update(&h, blocks);
	memcpy(&moved, &h, sizeof(h));
	memset(&h, 0, sizeof(h));
	measure_update(&moved, blocks + 64);
	measure_finish(&moved, got);
	evp_sha256(blocks, sizeof(blocks), want);
	cr_assert_eq(memcmp(got, want, 32), 0);
}

/* The SDM's MRENCLAVE records, built independently of the CPU model. */
static void want_record(const void *rec)
{
	cr_assert_eq(EVP_DigestUpdate(want_ctx, rec, 64), 1);
}

static void want_ecreate(uint32_t ssa_frame_size, uint64_t size)
{
	uint8_t rec[64] = { 0 };
	const uint64_t tag = 0x0045544145524345ULL;

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &ssa_frame_size, 4);
	memcpy(rec + 12, &size, 8);
	want_record(rec);
}

static void want_eadd(uint64_t offset, uint64_t secinfo_flags)
{
	uint8_t rec[64] = { 0 };
	const uint64_t tag = 0x0000000044444145ULL;

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &offset, 8);
	memcpy(rec + 16, &secinfo_flags, 8);
	want_record(rec);
}

static void want_eextend(uint64_t offset, const uint8_t *data)
{
	uint8_t rec[64] = { 0 };
	const uint64_t tag = 0x00444E4554584545ULL;

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &offset, 8);
	want_record(rec);
	for (unsigned int i = 0; i < 256; i += 64)
		want_record(data + i);
}

static void want_final(uint8_t out[32])
{
	unsigned int n = 0;

	cr_assert_eq(EVP_DigestFinal_ex(want_ctx, out, &n), 1);
}

static void cpu_mrenclave(uint8_t out[32])
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &idx));
	measure_finish(secs_hidden_at(&fx.cpu, idx), out);
}

static void fill(uint8_t *page, uint8_t seed)
{
	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		page[i] = (uint8_t)(seed + i * 31);
}

/*
 * A small enclave in the shape of the Linux selftest one: a TCS (SECINFO
 * given with R, which EADD drops), a measured RX page, an unmeasured RW
 * heap page and a page of which only two chunks are measured.
 */
static void build_mixed(uint64_t base)
{
	static uint8_t code[PAGE_SIZE], part[PAGE_SIZE];
	static struct sgx_tcs tcs;
	uint64_t epc;

	fill(code, 1);
	fill(part, 2);
	memset(&tcs, 0, sizeof(tcs));
	tcs.ssa_offset = 0x4000;
	tcs.nr_ssa_frames = 1;
	fx_ecreate(&fx, base, SIZE);
	want_ecreate(1, SIZE);
	fx_eadd(&fx, base, SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_R, &tcs,
		true);
	want_eadd(0, SGX_SECINFO_TYPE(PT_TCS));
	for (uint64_t off = 0; off < PAGE_SIZE; off += 256)
		want_eextend(off, (const uint8_t *)&tcs + off);
	fx_eadd(&fx, base + 0x1000, RX, code, true);
	want_eadd(0x1000, RX);
	for (uint64_t off = 0; off < PAGE_SIZE; off += 256)
		want_eextend(0x1000 + off, code + off);
	fx_eadd(&fx, base + 0x9000, RW, NULL, false);
	want_eadd(0x9000, RW);
	epc = fx_eadd(&fx, base + 0x1F000, RW, part, false);
	want_eadd(0x1F000, RW);
	cr_assert_eq(encls_eextend(fx.lp, fx.secs, epc + 0xF00), 0);
	want_eextend(0x1FF00, part + 0xF00);
	cr_assert_eq(encls_eextend(fx.lp, fx.secs, epc + 0x100), 0);
	want_eextend(0x1F100, part + 0x100);
}

Test(measure, mrenclave_matches_sdm_records)
{
	uint8_t want[32], got[32];

	build_mixed(0x7F0000000000ULL);
	want_final(want);
	cpu_mrenclave(got);
	cr_assert_eq(memcmp(got, want, 32), 0);
}

Test(measure, einit_commits_the_sdm_mrenclave)
{
	static struct sgx_sigstruct sig __attribute__((aligned(PAGE_SIZE)));
	static const struct sgx_einittoken token;
	const struct sgx_secs *secs;
	uint8_t want[32];

	build_mixed(FX_BASE);
	want_final(want);
	fx_sign(&sig, want, fx.attributes, fx.xfrm);
	cr_assert_eq(encls_einit(fx.lp, &sig, fx.secs, &token), 0);
	secs = (const struct sgx_secs *)(uintptr_t)fx.secs;
	cr_assert_eq(memcmp(secs->mrenclave, want, 32), 0);
}

/* MRENCLAVE of a one-page enclave at base, page at off with flags. */
static void one_page(uint64_t base, uint64_t off, uint64_t flags,
		     uint8_t out[32])
{
	static uint8_t page[PAGE_SIZE];

	fill(page, 3);
	fx_ecreate(&fx, base, SIZE);
	fx_eadd(&fx, base + off, flags, page, true);
	cpu_mrenclave(out);
}

Test(measure, offset_not_address_is_measured)
{
	uint8_t a[32], b[32];

	one_page(FX_BASE, 0x2000, RW, a);
	one_page(FX_BASE + SIZE, 0x2000, RW, b);
	cr_assert_eq(memcmp(a, b, 32), 0, "same layout, same MRENCLAVE");
	one_page(FX_BASE + 2 * SIZE, 0x3000, RW, b);
	cr_assert_neq(memcmp(a, b, 32), 0, "the offset is measured");
}

Test(measure, rights_are_measured)
{
	uint8_t a[32], b[32];

	one_page(FX_BASE, 0x2000, RW, a);
	one_page(FX_BASE + SIZE, 0x2000, RX, b);
	cr_assert_neq(memcmp(a, b, 32), 0);
}

Test(measure, order_is_measured)
{
	uint8_t a[32], b[32];

	fx_ecreate(&fx, FX_BASE, SIZE);
	fx_eadd(&fx, FX_BASE + 0x1000, RW, NULL, false);
	fx_eadd(&fx, FX_BASE + 0x2000, RW, NULL, false);
	cpu_mrenclave(a);
	fx_ecreate(&fx, FX_BASE + SIZE, SIZE);
	fx_eadd(&fx, FX_BASE + SIZE + 0x2000, RW, NULL, false);
	fx_eadd(&fx, FX_BASE + SIZE + 0x1000, RW, NULL, false);
	cpu_mrenclave(b);
	cr_assert_neq(memcmp(a, b, 32), 0);
}

/* A correctly signed SIGSTRUCT for an arbitrary MRENCLAVE. */
static void signed_sigstruct(struct sgx_sigstruct *sig)
{
	uint8_t mr[32];

	memset(mr, 0x77, sizeof(mr));
	fx_sign(sig, mr, SGX_ATTR_MODE64BIT, 3);
}

Test(measure, verify_accepts_a_good_signature)
{
	static struct sgx_sigstruct sig;

	signed_sigstruct(&sig);
	cr_assert(sigstruct_verify(&sig));
}

Test(measure, verify_rejects_each_corruption)
{
	static struct sgx_sigstruct sig, bad;
	uint8_t *fields[] = { bad.signature, bad.modulus, bad.q1, bad.q2,
			      bad.body.mrenclave, (uint8_t *)&bad.header };

	signed_sigstruct(&sig);
	for (unsigned int i = 0; i < ARRAY_SIZE(fields); i++) {
		bad = sig;
		fields[i][1] ^= 0x40;
		cr_assert_not(sigstruct_verify(&bad), "field %u", i);
	}
}

Test(measure, verify_rejects_degenerate_keys)
{
	static struct sgx_sigstruct sig;

	/* All zero: even modulus, no signature; must fail, not crash. */
	memset(&sig, 0, sizeof(sig));
	cr_assert_not(sigstruct_verify(&sig));
	signed_sigstruct(&sig);
	sig.modulus[0] &= 0xFE;
	cr_assert_not(sigstruct_verify(&sig));
	signed_sigstruct(&sig);
	memset(sig.signature, 0, sizeof(sig.signature));
	cr_assert_not(sigstruct_verify(&sig));
}

/* Q1 = floor(s^2 / m), Q2 = floor((s^3 - Q1 * s * m) / m), SDM "EINIT". */
Test(measure, signer_q1_q2_follow_the_sdm_formulas)
{
	static struct sgx_sigstruct sig;
	BN_CTX *bctx = BN_CTX_new();
	BIGNUM *s, *m, *q1, *q2, *t = BN_new(), *u = BN_new();

	signed_sigstruct(&sig);
	s = BN_lebin2bn(sig.signature, SGX_MODULUS_SIZE, NULL);
	m = BN_lebin2bn(sig.modulus, SGX_MODULUS_SIZE, NULL);
	q1 = BN_lebin2bn(sig.q1, SGX_MODULUS_SIZE, NULL);
	q2 = BN_lebin2bn(sig.q2, SGX_MODULUS_SIZE, NULL);
	cr_assert(bctx && s && m && q1 && q2 && t && u);
	cr_assert(BN_sqr(t, s, bctx));
	cr_assert(BN_div(u, NULL, t, m, bctx));
	cr_assert_eq(BN_cmp(u, q1), 0, "Q1");
	cr_assert(BN_mul(t, t, s, bctx)); /* s^3 */
	cr_assert(BN_mul(u, q1, s, bctx));
	cr_assert(BN_mul(u, u, m, bctx)); /* Q1 * s * m */
	cr_assert(BN_sub(t, t, u));
	cr_assert(BN_div(u, NULL, t, m, bctx));
	cr_assert_eq(BN_cmp(u, q2), 0, "Q2");
	cr_assert_eq(sig.exponent, 3);
	BN_free(s);
	BN_free(m);
	BN_free(q1);
	BN_free(q2);
	BN_free(t);
	BN_free(u);
	BN_CTX_free(bctx);
}

Test(measure, mrsigner_is_sha256_of_the_modulus)
{
	static struct sgx_sigstruct sig;
	uint8_t got[32], want[32];

	signed_sigstruct(&sig);
	sgx_sign_mrsigner(&sig, got);
	evp_sha256(sig.modulus, sizeof(sig.modulus), want);
	cr_assert_eq(memcmp(got, want, 32), 0);
}
