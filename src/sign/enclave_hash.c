// SPDX-License-Identifier: MIT
#include "sign/enclave_hash.h"

#include <string.h>

#define TAG_ECREATE 0x0045544145524345ULL /* "ECREATE" */
#define TAG_EADD 0x0000000044444145ULL /* "EADD" */
#define TAG_EEXTEND 0x00444E4554584545ULL /* "EEXTEND" */

static int update(struct sgx_enclave_hash *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -1;
}

int sgx_enclave_hash_start(struct sgx_enclave_hash *h, uint32_t ssa_frame_size,
			   uint64_t size)
{
	uint8_t rec[64] = { 0 };
	uint64_t tag = TAG_ECREATE;

	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		return -1;
	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &ssa_frame_size, 4);
	memcpy(rec + 12, &size, 8);
	return update(h, rec, sizeof(rec));
}

int sgx_enclave_hash_eadd(struct sgx_enclave_hash *h, uint64_t offset,
			  uint64_t secinfo_flags)
{
	uint8_t rec[64] = { 0 };
	uint64_t tag = TAG_EADD;

	/* The record carries the first 48 bytes of SECINFO: flags, zeros. */
	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &offset, 8);
	memcpy(rec + 16, &secinfo_flags, 8);
	return update(h, rec, sizeof(rec));
}

int sgx_enclave_hash_eextend(struct sgx_enclave_hash *h, uint64_t offset,
			     const void *chunk)
{
	uint8_t rec[64] = { 0 };
	uint64_t tag = TAG_EEXTEND;

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &offset, 8);
	if (update(h, rec, sizeof(rec)))
		return -1;
	return update(h, chunk, 256);
}

int sgx_enclave_hash_finish(struct sgx_enclave_hash *h, uint8_t out[32])
{
	unsigned int len = 0;
	int ret = EVP_DigestFinal_ex(h->ctx, out, &len) == 1 && len == 32
			  ? 0 : -1;

	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	return ret;
}
