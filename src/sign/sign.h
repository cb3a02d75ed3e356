/* SPDX-License-Identifier: MIT */
/*
 * Enclave signing, as a loader or signing tool does it in user space (the
 * Linux selftests' sigstruct.c plays this role there): an RSA-3072 key with
 * exponent 3, and a SIGSTRUCT over a given MRENCLAVE.
 */
#ifndef SGXEMU_SIGN_H
#define SGXEMU_SIGN_H

#include <openssl/evp.h>
#include <stdint.h>

#include "arch/sdm.h"

/* Load a PEM private key; NULL on error. */
EVP_PKEY *sgx_sign_load_key(const char *pem_path);
/* Generate a fresh RSA-3072 key with public exponent 3; NULL on error. */
EVP_PKEY *sgx_sign_generate_key(void);
/* A fixed, built-in RSA-3072 key with exponent 3 (tool_key.c); NULL on error. */
EVP_PKEY *sgx_sign_tool_key(void);

/*
 * sgx_sign_sigstruct() - fill sig from scratch and sign it: the SDM header
 * constants, vendor 0, a body with mrenclave, attributes and xfrm, masks
 * that pin ATTRIBUTES and XFRM exactly (all ones) and leave MISCSELECT free
 * (misc_mask 0), ISVPRODID and ISVSVN 0; then sgx_sign_finish().
 * Returns 0, or -1 if OpenSSL fails.
 */
int sgx_sign_sigstruct(struct sgx_sigstruct *sig, EVP_PKEY *key,
		       const uint8_t mrenclave[32], uint64_t attributes,
		       uint64_t xfrm);

/*
 * sgx_sign_finish() - sign header || body of sig as they stand, and store
 * the exponent (3), modulus, signature, Q1 and Q2 little-endian. Lets a
 * caller edit the header or body first. Returns 0, or -1 if OpenSSL fails
 * or the key is not a 3072-bit RSA key.
 */
int sgx_sign_finish(struct sgx_sigstruct *sig, EVP_PKEY *key);

/* MRSIGNER: SHA-256 of the little-endian modulus. */
void sgx_sign_mrsigner(const struct sgx_sigstruct *sig, uint8_t out[32]);
/* The MRSIGNER a key signs with. Returns 0, or -1 if OpenSSL fails. */
int sgx_sign_key_mrsigner(EVP_PKEY *key, uint8_t out[32]);

#endif
