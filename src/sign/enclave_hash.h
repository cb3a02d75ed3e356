/* SPDX-License-Identifier: MIT */
/*
 * MRENCLAVE computed in software, as a signing tool does before it signs
 * (SDM "Measurement": SHA-256 over 64-byte ECREATE, EADD and EEXTEND
 * records). The CPU computes the same value in EINIT; the two must agree.
 */
#ifndef SGXEMU_SIGN_ENCLAVE_HASH_H
#define SGXEMU_SIGN_ENCLAVE_HASH_H

#include <openssl/evp.h>
#include <stdint.h>

struct sgx_enclave_hash {
	EVP_MD_CTX *ctx;
};

/* Start with the ECREATE record. Returns 0, or -1 if OpenSSL fails. */
int sgx_enclave_hash_start(struct sgx_enclave_hash *h, uint32_t ssa_frame_size,
			   uint64_t size);
/* One EADD record: page offset from the base, SECINFO flags. */
int sgx_enclave_hash_eadd(struct sgx_enclave_hash *h, uint64_t offset,
			  uint64_t secinfo_flags);
/* One EEXTEND record and its 256 bytes of data. */
int sgx_enclave_hash_eextend(struct sgx_enclave_hash *h, uint64_t offset,
			     const void *chunk);
/* The final MRENCLAVE; also frees the context. */
int sgx_enclave_hash_finish(struct sgx_enclave_hash *h, uint8_t out[32]);

#endif
