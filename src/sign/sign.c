// SPDX-License-Identifier: MIT
/*
 * Enclave signing in user space, the job of the Linux selftests'
 * sigstruct.c or Intel's sgx_sign: build a SIGSTRUCT (SDM Vol. 3D, "Enclave
 * Signature Structure (SIGSTRUCT)", in Linux's field grouping), sign
 * header || body with RSA-3072 PKCS #1 v1.5 SHA-256 and exponent 3, and add
 * the Q1/Q2 helper values EINIT needs:
 *   Q1 = floor(s^2 / m), Q2 = floor(s * (s^2 mod m) / m).
 * The modulus, signature, Q1 and Q2 are stored little-endian, as the CPU
 * reads them. OpenSSL 3 EVP/BN interfaces only.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sign/sign.h"

#define SIGN_EXPONENT 3
#define SIGN_KEY_BITS (SGX_MODULUS_SIZE * 8)
/* Any stable value will do; the Linux selftests use a fixed date too. */
#define SIGN_DATE 0x20240101U

EVP_PKEY *sgx_sign_load_key(const char *pem_path)
{
	EVP_PKEY *key;
	FILE *f = fopen(pem_path, "r");

	if (!f)
		return NULL;
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return key;
}

EVP_PKEY *sgx_sign_generate_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *e = BN_new();
	EVP_PKEY *key = NULL;

	if (!ctx || !e || BN_set_word(e, SIGN_EXPONENT) != 1 ||
	    EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, SIGN_KEY_BITS) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) != 1 ||
	    EVP_PKEY_generate(ctx, &key) != 1) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	BN_free(e);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* The key's modulus, checked to be 3072 bits with exponent 3. */
static BIGNUM *key_modulus(EVP_PKEY *key)
{
	BIGNUM *n = NULL, *e = NULL;
	bool ok;

	ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	     EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	     BN_num_bits(n) == SIGN_KEY_BITS && BN_is_word(e, SIGN_EXPONENT);
	BN_free(e);
	if (!ok) {
		BN_free(n);
		return NULL;
	}
	return n;
}

/* PKCS #1 v1.5 SHA-256 signature of header || body, big-endian. */
static int rsa_sign(const struct sgx_sigstruct *sig, EVP_PKEY *key,
		    uint8_t out[SGX_MODULUS_SIZE])
{
	uint8_t msg[sizeof(sig->header) + sizeof(sig->body)];
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	size_t len = SGX_MODULUS_SIZE;
	int ret = -1;

	memcpy(msg, &sig->header, sizeof(sig->header));
	memcpy(msg + sizeof(sig->header), &sig->body, sizeof(sig->body));
	if (mctx &&
	    EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(mctx, out, &len, msg, sizeof(msg)) == 1 &&
	    len == SGX_MODULUS_SIZE)
		ret = 0;
	EVP_MD_CTX_free(mctx);
	return ret;
}

/* Q1 and Q2 from the signature s and modulus m, little-endian. */
static int q1q2(struct sgx_sigstruct *sig, const BIGNUM *s, const BIGNUM *m)
{
	BN_CTX *bctx = BN_CTX_new();
	BIGNUM *sq = BN_new(), *q1 = BN_new(), *r = BN_new(), *q2 = BN_new();
	int ret = -1;

	if (bctx && sq && q1 && r && q2 && BN_sqr(sq, s, bctx) == 1 &&
	    BN_div(q1, r, sq, m, bctx) == 1 && BN_mul(sq, s, r, bctx) == 1 &&
	    BN_div(q2, NULL, sq, m, bctx) == 1 &&
	    BN_bn2lebinpad(q1, sig->q1, SGX_MODULUS_SIZE) == SGX_MODULUS_SIZE &&
	    BN_bn2lebinpad(q2, sig->q2, SGX_MODULUS_SIZE) == SGX_MODULUS_SIZE)
		ret = 0;
	BN_free(sq);
	BN_free(q1);
	BN_free(r);
	BN_free(q2);
	BN_CTX_free(bctx);
	return ret;
}

int sgx_sign_finish(struct sgx_sigstruct *sig, EVP_PKEY *key)
{
	uint8_t be[SGX_MODULUS_SIZE];
	BIGNUM *m = key_modulus(key), *s = NULL;
	int ret = -1;

	if (!m || rsa_sign(sig, key, be))
		goto out;
	s = BN_bin2bn(be, sizeof(be), NULL);
	if (!s ||
	    BN_bn2lebinpad(s, sig->signature, SGX_MODULUS_SIZE) < 0 ||
	    BN_bn2lebinpad(m, sig->modulus, SGX_MODULUS_SIZE) < 0)
		goto out;
	sig->exponent = SIGN_EXPONENT;
	ret = q1q2(sig, s, m);
out:
	BN_free(s);
	BN_free(m);
	return ret;
}

int sgx_sign_sigstruct(struct sgx_sigstruct *sig, EVP_PKEY *key,
		       const uint8_t mrenclave[32], uint64_t attributes,
		       uint64_t xfrm)
{
	memset(sig, 0, sizeof(*sig));
	sig->header.header1[0] = SGX_SIGSTRUCT_HEADER1_0;
	sig->header.header1[1] = SGX_SIGSTRUCT_HEADER1_1;
	sig->header.header2[0] = SGX_SIGSTRUCT_HEADER2_0;
	sig->header.header2[1] = SGX_SIGSTRUCT_HEADER2_1;
	sig->header.date = SIGN_DATE;
	sig->body.attributes = attributes;
	sig->body.attributes_mask = ~0ULL;
	sig->body.xfrm = xfrm;
	sig->body.xfrm_mask = ~0ULL;
	memcpy(sig->body.mrenclave, mrenclave, 32);
	return sgx_sign_finish(sig, key);
}

void sgx_sign_mrsigner(const struct sgx_sigstruct *sig, uint8_t out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(sig->modulus, sizeof(sig->modulus), out, &n,
		       EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

int sgx_sign_key_mrsigner(EVP_PKEY *key, uint8_t out[32])
{
	uint8_t le[SGX_MODULUS_SIZE];
	BIGNUM *m = key_modulus(key);
	unsigned int n = 0;
	int ret = -1;

	if (m && BN_bn2lebinpad(m, le, sizeof(le)) == (int)sizeof(le) &&
	    EVP_Digest(le, sizeof(le), out, &n, EVP_sha256(), NULL) == 1)
		ret = 0;
	BN_free(m);
	return ret;
}
