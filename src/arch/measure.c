// SPDX-License-Identifier: MIT
/*
 * The CPU's own cryptography for the enclave build: the MRENCLAVE SHA-256
 * that ECREATE starts, EADD/EEXTEND extend and EINIT finishes (SDM Vol. 3D,
 * "ECREATE", "EADD", "EEXTEND", "EINIT" pseudocode: SHA256INITIALIZE,
 * SHA256UPDATE over 64-byte TMPUPDATEFIELD blocks, SHA256FINAL), and the
 * SIGSTRUCT RSA-3072 check EINIT performs with the embedded key, Q1 and Q2.
 *
 * MODEL: the running SHA-256 state lives in the hidden part of the SECS
 * page (struct secs_hidden), as the SDM keeps it in SECS.MRENCLAVE, so it
 * travels with the SECS. OpenSSL's plain SHA256_CTX is used because it is a
 * flat structure that can be copied into that page.
 */
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "arch/crypto.h"
#include "arch/internal.h"

_Static_assert(sizeof(SHA256_CTX) <= SECS_MEASURE_CTX_SIZE,
	       "the SHA-256 state must fit in the hidden SECS area");

#define MEASURE_BLOCK 64

/* The state is copied in and out: measure_ctx has no alignment promise. */
static void ctx_load(const struct secs_hidden *h, SHA256_CTX *ctx)
{
	memcpy(ctx, h->measure_ctx, sizeof(*ctx));
}

static void ctx_store(struct secs_hidden *h, const SHA256_CTX *ctx)
{
	memcpy(h->measure_ctx, ctx, sizeof(*ctx));
}

/* measure_start() - SHA256INITIALIZE of the enclave's MRENCLAVE. */
void measure_start(struct secs_hidden *h)
{
	SHA256_CTX ctx;

	memset(h->measure_ctx, 0, sizeof(h->measure_ctx));
	ASSERT(SHA256_Init(&ctx) == 1);
	ctx_store(h, &ctx);
}

/* measure_update() - SHA256UPDATE with one 64-byte TMPUPDATEFIELD. */
void measure_update(struct secs_hidden *h, const void *block64)
{
	SHA256_CTX ctx;

	ctx_load(h, &ctx);
	ASSERT(SHA256_Update(&ctx, block64, MEASURE_BLOCK) == 1);
	ctx_store(h, &ctx);
}

/*
 * measure_finish() - SHA256FINAL. It works on a copy and leaves the running
 * state alone, so an EINIT that fails after computing the digest changes
 * nothing in the SECS.
 */
void measure_finish(struct secs_hidden *h, uint8_t mrenclave[32])
{
	SHA256_CTX ctx;

	ctx_load(h, &ctx);
	ASSERT(SHA256_Final(mrenclave, &ctx) == 1);
}

void sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	ASSERT(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1);
	ASSERT(n == 32);
}

/* The DER DigestInfo prefix of a SHA-256 hash (PKCS #1 v2.2, 9.2 note 1). */
static const uint8_t sha256_digest_info[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

/* EMSA-PKCS1-v1_5 encoding of SHA-256(header || body), big-endian. */
static void pkcs1_encode(const struct sgx_sigstruct *sig,
			 uint8_t em[SGX_MODULUS_SIZE])
{
	size_t ps = SGX_MODULUS_SIZE - 3 - sizeof(sha256_digest_info) - 32;
	uint8_t msg[sizeof(sig->header) + sizeof(sig->body)];
	uint8_t *p = em;

	memcpy(msg, &sig->header, sizeof(sig->header));
	memcpy(msg + sizeof(sig->header), &sig->body, sizeof(sig->body));
	*p++ = 0x00;
	*p++ = 0x01;
	memset(p, 0xFF, ps);
	p += ps;
	*p++ = 0x00;
	memcpy(p, sha256_digest_info, sizeof(sha256_digest_info));
	p += sizeof(sha256_digest_info);
	sha256(msg, sizeof(msg), p);
}

static BIGNUM *bn_le(const uint8_t *p, size_t len)
{
	BIGNUM *bn = BN_lebin2bn(p, (int)len, NULL);

	ASSERT(bn);
	return bn;
}

/* s^3 mod m must be the PKCS #1 v1.5 encoding of the signed message. */
static bool rsa_ok(const struct sgx_sigstruct *sig, const BIGNUM *s,
		   const BIGNUM *m, BN_CTX *bctx)
{
	uint8_t em[SGX_MODULUS_SIZE], got[SGX_MODULUS_SIZE];
	BIGNUM *e = BN_new(), *c = BN_new();
	bool ok;

	ASSERT(e && c);
	ASSERT(BN_set_word(e, 3) == 1);
	ok = BN_mod_exp(c, s, e, m, bctx) == 1 &&
	     BN_bn2binpad(c, got, sizeof(got)) == (int)sizeof(got);
	pkcs1_encode(sig, em);
	ok = ok && !memcmp(em, got, sizeof(em));
	BN_free(e);
	BN_free(c);
	return ok;
}

/* Q1 = floor(s^2 / m), Q2 = floor(s * (s^2 mod m) / m) (SDM "EINIT"). */
static bool q1q2_ok(const struct sgx_sigstruct *sig, const BIGNUM *s,
		    const BIGNUM *m, BN_CTX *bctx)
{
	BIGNUM *q1 = bn_le(sig->q1, sizeof(sig->q1));
	BIGNUM *q2 = bn_le(sig->q2, sizeof(sig->q2));
	BIGNUM *sq = BN_new(), *q = BN_new(), *r = BN_new();
	bool ok;

	ASSERT(sq && q && r);
	ok = BN_sqr(sq, s, bctx) == 1 && BN_div(q, r, sq, m, bctx) == 1 &&
	     !BN_cmp(q, q1);
	ok = ok && BN_mul(sq, s, r, bctx) == 1 &&
	     BN_div(q, NULL, sq, m, bctx) == 1 && !BN_cmp(q, q2);
	BN_free(q1);
	BN_free(q2);
	BN_free(sq);
	BN_free(q);
	BN_free(r);
	return ok;
}

/**
 * sigstruct_verify_slow() - check the SIGSTRUCT signature with its own key.
 * @sig: the SIGSTRUCT; its exponent field is checked by EINIT as a header
 *       constant, the verification always uses 3.
 *
 * MODEL: Q1 and Q2 are checked too; hardware uses them to verify without a
 * division, so wrong values make the signature fail to verify.
 *
 * Return: true when the signature and Q1/Q2 are consistent.
 */
static bool sigstruct_verify_slow(const struct sgx_sigstruct *sig)
{
	BIGNUM *s = bn_le(sig->signature, sizeof(sig->signature));
	BIGNUM *m = bn_le(sig->modulus, sizeof(sig->modulus));
	BN_CTX *bctx = BN_CTX_new();
	bool ok;

	ASSERT(bctx);
	/* A usable RSA modulus is odd, and the signature is below it. */
	ok = BN_is_odd(m) && BN_cmp(s, m) < 0;
	ok = ok && rsa_ok(sig, s, m, bctx) && q1q2_ok(sig, s, m, bctx);
	BN_CTX_free(bctx);
	BN_free(s);
	BN_free(m);
	return ok;
}

/*
 * The verdict is a pure function of the SIGSTRUCT's bytes, so the last
 * SIGSTRUCT that verified is remembered per thread and a byte-identical
 * one is accepted without the RSA work: the explorer runs EINIT with the
 * same SIGSTRUCT in every execution. Only successes are remembered, so a
 * changed byte always goes through the full check.
 */
bool sigstruct_verify(const struct sgx_sigstruct *sig)
{
	static __thread struct sgx_sigstruct last;
	static __thread bool have_last;

	if (have_last && !memcmp(&last, sig, sizeof(last)))
		return true;
	if (!sigstruct_verify_slow(sig))
		return false;
	memcpy(&last, sig, sizeof(last));
	have_last = true;
	return true;
}
