/* SPDX-License-Identifier: MIT */
/*
 * The cryptography the CPU performs, on OpenSSL libcrypto: the MRENCLAVE
 * SHA-256 (measure.c), SIGSTRUCT RSA-3072 verification (measure.c), EWB/ELDU
 * sealing with AES-GCM (seal.c), and EREPORT/EGETKEY key derivation and
 * AES-CMAC (keys.c).
 */
#ifndef SGXEMU_ARCH_CRYPTO_H
#define SGXEMU_ARCH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/sdm.h"

struct secs_hidden;

/* MRENCLAVE: SHA-256 over 64-byte records, its state kept in the SECS. */
void measure_start(struct secs_hidden *h);
void measure_update(struct secs_hidden *h, const void *block64);
void measure_finish(struct secs_hidden *h, uint8_t mrenclave[32]);

void sha256(const void *data, size_t len, uint8_t out[32]);

/*
 * sigstruct_verify() - RSA-3072 PKCS#1 v1.5 SHA-256 over header || body,
 * with the little-endian modulus, signature, Q1 and Q2 of the SIGSTRUCT.
 * Returns true when the signature and Q1/Q2 are all consistent.
 */
bool sigstruct_verify(const struct sgx_sigstruct *sig);

/*
 * seal_page() / unseal_page() - AES-GCM under the paging key. The IV is
 * derived from the VA version; aad is the PCMD header EWB builds. unseal
 * returns false on a MAC mismatch and then writes nothing.
 */
void seal_page(const uint8_t key[16], uint64_t version, const void *aad,
	       size_t aad_len, const void *in, void *out, uint8_t mac[16]);
bool unseal_page(const uint8_t key[16], uint64_t version, const void *aad,
		 size_t aad_len, const void *in, void *out,
		 const uint8_t mac[16]);

/* AES-128-CMAC, as the hardware uses for REPORT MACs and key derivation. */
void cmac128(const uint8_t key[16], const void *data, size_t len,
	     uint8_t mac[16]);

#endif
