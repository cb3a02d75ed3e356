// SPDX-License-Identifier: MIT
/*
 * Sealing of evicted pages: AES-128-GCM under the package paging key (the
 * SDM's CR_BASE_PK), as EWB and ELDB/ELDU use it. The plaintext is the 4 KiB
 * page, the additional authenticated data the MAC header (paging.h), and the
 * 16-byte tag goes to PCMD.MAC.
 *
 * MODEL: the SDM feeds "version << 32" to GCM as its counter. The model
 * uses the standard 96-bit IV instead: the 64-bit version in bytes 0-7,
 * little-endian, and zeros in bytes 8-11. Versions are never reused under one
 * paging key (cpu->next_version only grows), so no IV repeats.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "arch/crypto.h"
#include "arch/paging.h"
#include "base/assert.h"
#include "base/bits.h"

#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16

void sgx_mac_header_init(struct sgx_mac_header *hdr, uint64_t eid,
			 const struct sgx_pcmd *pcmd, uint64_t linaddr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->eid = eid;
	hdr->secinfo_flags = pcmd->secinfo.flags;
	memcpy(hdr->secinfo_reserved, pcmd->secinfo.reserved,
	       sizeof(hdr->secinfo_reserved));
	memcpy(hdr->pcmd_reserved, pcmd->reserved, sizeof(hdr->pcmd_reserved));
	hdr->linaddr = linaddr;
}

/* A GCM context keyed and IV'd for version, with the AAD already fed in. */
static EVP_CIPHER_CTX *gcm_begin(const uint8_t key[16], uint64_t version,
				 const void *aad, size_t aad_len, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t iv[GCM_IV_LEN] = { 0 };
	int len;

	for (unsigned int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(version >> (8 * i));
	ASSERT(ctx);
	ASSERT(aad_len <= INT_MAX);
	ASSERT(EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, iv, enc) ==
	       1);
	ASSERT(EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1);
	return ctx;
}

void seal_page(const uint8_t key[16], uint64_t version, const void *aad,
	       size_t aad_len, const void *in, void *out, uint8_t mac[16])
{
	EVP_CIPHER_CTX *ctx = gcm_begin(key, version, aad, aad_len, 1);
	int len;

	ASSERT(EVP_EncryptUpdate(ctx, out, &len, in, PAGE_SIZE) == 1);
	ASSERT(len == PAGE_SIZE);
	ASSERT(EVP_EncryptFinal_ex(ctx, (uint8_t *)out + len, &len) == 1);
	ASSERT(len == 0);
	ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
				   mac) == 1);
	EVP_CIPHER_CTX_free(ctx);
}

/*
 * GCM produces the plaintext before it can check the tag, so decrypt into a
 * scratch page and copy out only once the tag matched: a failed ELDU must
 * leave the EPC page untouched.
 */
bool unseal_page(const uint8_t key[16], uint64_t version, const void *aad,
		 size_t aad_len, const void *in, void *out,
		 const uint8_t mac[16])
{
	EVP_CIPHER_CTX *ctx = gcm_begin(key, version, aad, aad_len, 0);
	uint8_t plain[PAGE_SIZE], tag[GCM_TAG_LEN], tail[GCM_TAG_LEN];
	int len;
	bool ok;

	memcpy(tag, mac, sizeof(tag));
	ASSERT(EVP_DecryptUpdate(ctx, plain, &len, in, PAGE_SIZE) == 1);
	ASSERT(len == PAGE_SIZE);
	ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN,
				   tag) == 1);
	ok = EVP_DecryptFinal_ex(ctx, tail, &len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (ok)
		memcpy(out, plain, sizeof(plain));
	OPENSSL_cleanse(plain, sizeof(plain));
	return ok;
}
