// SPDX-License-Identifier: MIT
/*
 * AES-128-CMAC and the key derivation behind EREPORT and EGETKEY (see
 * keys.h for the model), plus the operand checks both leaves share.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "arch/crypto.h"
#include "arch/entry.h"
#include "arch/keys.h"

/* AES-128-CMAC (NIST SP 800-38B), as the hardware MACs REPORTs. */
void cmac128(const uint8_t key[16], const void *data, size_t len,
	     uint8_t mac[16])
{
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
						 cipher, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx;
	size_t out = 0;

	ASSERT(alg);
	ctx = EVP_MAC_CTX_new(alg);
	ASSERT(ctx);
	ASSERT(EVP_MAC_init(ctx, key, 16, params) == 1);
	ASSERT(EVP_MAC_update(ctx, data, len) == 1);
	ASSERT(EVP_MAC_final(ctx, mac, &out, 16) == 1 && out == 16);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
}

void sgx_derive_key(const struct sgx_cpu *cpu,
		    const struct sgx_key_deps *deps, uint8_t key[16])
{
	const uint8_t *root = deps->keyname == SGX_KEYNAME_REPORT ?
				      cpu->report_key_secret :
				      cpu->seal_key_secret;

	cmac128(root, deps, sizeof(*deps), key);
}

void sgx_seal_fuses(const struct sgx_cpu *cpu, uint8_t fuses[16])
{
	memcpy(fuses, cpu->seal_key_secret + 16, 16);
}

/*
 * MODEL: CR_REPORT_KEYID is "a statistically unique value on boot"; here
 * it is derived from the report secret, so it is fixed for a seed.
 */
void sgx_report_keyid(const struct sgx_cpu *cpu, uint8_t keyid[32])
{
	static const char label[2][16] = { "REPORT_KEYID_LO",
					   "REPORT_KEYID_HI" };

	cmac128(cpu->report_key_secret + 16, label[0], sizeof(label[0]), keyid);
	cmac128(cpu->report_key_secret + 16, label[1], sizeof(label[1]),
		keyid + 16);
}

/*
 * The REPORT_KEY column of the derivation table: the target's identity,
 * the platform's CPUSVN and fuses, and the requested KEYID; no SVNs, no
 * signer, no masks.
 */
void sgx_report_key(const struct sgx_cpu *cpu,
		    const struct sgx_report_target *target,
		    const uint8_t keyid[32], uint8_t key[16])
{
	struct sgx_key_deps deps = { .keyname = SGX_KEYNAME_REPORT };

	deps.attributes[0] = target->attributes;
	deps.attributes[1] = target->xfrm;
	deps.miscselect = target->miscselect;
	deps.config_svn = target->config_svn;
	memcpy(deps.mrenclave, target->mrenclave, sizeof(deps.mrenclave));
	memcpy(deps.config_id, target->config_id, sizeof(deps.config_id));
	memcpy(deps.keyid, keyid, sizeof(deps.keyid));
	memcpy(deps.cpusvn, cpu->cpusvn, sizeof(deps.cpusvn));
	sgx_seal_fuses(cpu, deps.seal_key_fuses);
	sgx_derive_key(cpu, &deps, key);
	OPENSSL_cleanse(&deps, sizeof(deps));
}

bool enclu_operand_placed(const struct sgx_lp *lp, uint64_t lin,
			  uint64_t align)
{
	return is_aligned(lin, align) && in_elrange(lp, lin);
}

int enclu_operand_page(struct sgx_lp *lp, uint64_t lin, bool write,
		       void **host)
{
	const struct epcm_entry *e;
	uint64_t idx;
	int ret = lp_operand(lp, lin,
			     write ? SGX_ACCESS_WRITE : SGX_ACCESS_READ, &idx);

	if (ret)
		return ret;
	e = epcm_at(lp->cpu, idx);
	if (!epcm_page_usable(lp, e, lin) || !(write ? e->w : e->r))
		return enclu_pf(lp, lin, write);
	*host = (uint8_t *)epc_page_at(lp->cpu, idx) + (lin & ~PAGE_MASK);
	return 0;
}
