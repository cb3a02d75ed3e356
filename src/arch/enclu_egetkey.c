// SPDX-License-Identifier: MIT
/*
 * EGETKEY - Retrieves a Cryptographic Key. SDM Vol. 3D, "EGETKEY", ENCLU
 * leaf 0x01.
 *
 * Operands (enclave linear addresses): RBX = KEYREQUEST (512-byte aligned),
 * RCX = the 16-byte key output (16-byte aligned).
 *
 * Checks, in SDM order:
 *   C1  the LP is in enclave mode, else #GP.
 *   C2  KEYREQUEST is aligned and inside ELRANGE, else #GP.
 *   C3  KEYREQUEST is in a readable REG page of this enclave (keys.h,
 *       enclu_operand_page()), else #PF(RBX).
 *   C4  the output is aligned and inside ELRANGE, else #GP.
 *   C5  the output is in a writable REG page of this enclave, else #PF(RCX).
 *   C6  KEYREQUEST's reserved fields and reserved KEYPOLICY bits are zero,
 *       else #GP.
 *   C7  without ATTRIBUTES.KSS, no KSS policy bit is set and CONFIGSVN is
 *       0, else #GP.
 *   C8  KEYNAME is one of EINITTOKEN, PROVISION, PROVISION_SEAL, REPORT and
 *       SEAL, else SGX_INVALID_KEYNAME.
 *   C9  EINITTOKEN needs ATTRIBUTES.EINITTOKENKEY, PROVISION and
 *       PROVISION_SEAL need ATTRIBUTES.PROVISIONKEY, else
 *       SGX_INVALID_ATTRIBUTE.
 *   C10 (all but REPORT) KEYREQUEST.CPUSVN is not beyond CR_CPUSVN, else
 *       SGX_INVALID_CPUSVN.
 *   C11 (all but REPORT) KEYREQUEST.ISVSVN <= SECS.ISVSVN and, for SEAL,
 *       KEYREQUEST.CONFIGSVN <= SECS.CONFIGSVN, else SGX_INVALID_ISVSVN.
 *
 * Effects:
 *   E1 the derivation data is assembled per the SDM's key derivation
 *      table for KEYNAME (and KEYPOLICY for the seal keys).
 *   E2 the derived 128-bit key is written at RCX.
 * An error code leaves the output untouched.
 *
 * The SDM allows C8-C11 in any order; this is the order of its pseudocode.
 * MODEL: "CPUSVN beyond the current CPU configuration" is read byte-wise:
 * some byte of KEYREQUEST.CPUSVN exceeds the same byte of CR_CPUSVN.
 * MODEL: ISVEXTPRODID and ISVFAMILYID are not in this model's SECS and
 * count as zero when a policy selects them. CET is not modelled, so its
 * KEYREQUEST mask byte is reserved.
 * MODEL: leaves are atomic; EGETKEY has no concurrency check that can fail.
 */
#include <openssl/crypto.h>

#include "arch/entry.h"
#include "arch/keys.h"

#define KEYREQUEST_ALIGN 512
#define KEY_ALIGN 16
/* Sealing keys always include INIT and DEBUG (REQUIRED_SEALING_MASK). */
#define REQUIRED_SEALING_MASK (SGX_ATTR_INIT | SGX_ATTR_DEBUG)

static int check_operands(struct sgx_lp *lp, uint64_t keyrequest,
			  uint64_t key, void **req, void **out)
{
	int ret;

	/* C1: only an enclave has keys. */
	if (!lp->enclave_mode)
		return sgx_gp(lp);
	/* C2: KEYREQUEST placement. */
	if (!enclu_operand_placed(lp, keyrequest, KEYREQUEST_ALIGN))
		return sgx_gp(lp);
	/* C3: KEYREQUEST is readable enclave memory. */
	ret = enclu_operand_page(lp, keyrequest, false, req);
	if (ret)
		return ret;
	/* C4: output placement. */
	if (!enclu_operand_placed(lp, key, KEY_ALIGN))
		return sgx_gp(lp);
	/* C5: the output is writable enclave memory. */
	return enclu_operand_page(lp, key, true, out);
}

/* C6-C7: a well-formed request (#GP). */
static int check_format(struct sgx_lp *lp, const struct sgx_secs *secs,
			const struct sgx_keyrequest *req)
{
	/* C6: reserved fields and policy bits. */
	if (req->reserved1 ||
	    !all_zero(req->reserved2, sizeof(req->reserved2)) ||
	    (req->keypolicy & SGX_KEYPOLICY_RESERVED))
		return sgx_gp(lp);
	/* C7: key separation extensions only with KSS. */
	if (!(secs->attributes & SGX_ATTR_KSS) &&
	    ((req->keypolicy & SGX_KEYPOLICY_KSS) || req->config_svn))
		return sgx_gp(lp);
	return 0;
}

static bool cpusvn_beyond(const uint8_t req[16], const uint8_t cpu[16])
{
	for (unsigned int i = 0; i < 16; i++)
		if (req[i] > cpu[i])
			return true;
	return false;
}

/* C8-C11: may this enclave have this key (error codes). */
static int check_access(const struct sgx_lp *lp, const struct sgx_secs *secs,
			const struct sgx_keyrequest *req)
{
	uint16_t name = req->keyname;

	/* C8: a key the hardware knows. */
	if (name > SGX_KEYNAME_SEAL)
		return SGX_INVALID_KEYNAME;
	/* C9: access-controlled keys. */
	if ((name == SGX_KEYNAME_EINITTOKEN &&
	     !(secs->attributes & SGX_ATTR_EINITTOKENKEY)) ||
	    ((name == SGX_KEYNAME_PROVISION ||
	      name == SGX_KEYNAME_PROVISION_SEAL) &&
	     !(secs->attributes & SGX_ATTR_PROVISIONKEY)))
		return SGX_INVALID_ATTRIBUTE;
	if (name == SGX_KEYNAME_REPORT)
		return 0;
	/* C10: no key for a CPU SVN the platform does not have yet. */
	if (cpusvn_beyond(req->cpusvn, lp->cpu->cpusvn))
		return SGX_INVALID_CPUSVN;
	/* C11: nor for a software SVN above the enclave's. */
	if (req->isvsvn > secs->isv_svn ||
	    (name == SGX_KEYNAME_SEAL && req->config_svn > secs->config_svn))
		return SGX_INVALID_ISVSVN;
	return 0;
}

/* Dependencies every non-REPORT key has, from the request and the SECS. */
static void deps_common(const struct sgx_secs *secs,
			const struct sgx_keyrequest *req,
			struct sgx_key_deps *d)
{
	d->keyname = req->keyname;
	d->isvsvn = req->isvsvn;
	memcpy(d->cpusvn, req->cpusvn, sizeof(d->cpusvn));
	d->attributes[0] = (req->attributemask[0] | REQUIRED_SEALING_MASK) &
			   secs->attributes;
	d->attributes[1] = req->attributemask[1] & secs->xfrm;
	d->miscselect = req->miscmask & secs->miscselect;
}

/* The KEYPOLICY-selected identity of SEAL and PROVISION_SEAL keys. */
static void deps_policy(const struct sgx_secs *secs,
			const struct sgx_keyrequest *req,
			struct sgx_key_deps *d)
{
	d->keypolicy = req->keypolicy;
	d->attributes_mask[0] = req->attributemask[0];
	d->attributes_mask[1] = req->attributemask[1];
	d->miscmask = ~req->miscmask;
	if (!(req->keypolicy & SGX_KEYPOLICY_NOISVPRODID))
		d->isvprodid = secs->isv_prod_id;
	if (req->keypolicy & SGX_KEYPOLICY_CONFIGID) {
		memcpy(d->config_id, secs->config_id, sizeof(d->config_id));
		d->config_svn = req->config_svn;
	}
}

/* E1 for every key but REPORT: the derivation table, column by column. */
static void build_deps(const struct sgx_cpu *cpu, const struct sgx_secs *secs,
		       const struct sgx_keyrequest *req,
		       struct sgx_key_deps *d)
{
	deps_common(secs, req, d);
	memcpy(d->mrsigner, secs->mrsigner, sizeof(d->mrsigner));
	switch (req->keyname) {
	case SGX_KEYNAME_SEAL:
		deps_policy(secs, req, d);
		if (req->keypolicy & SGX_KEYPOLICY_MRENCLAVE)
			memcpy(d->mrenclave, secs->mrenclave,
			       sizeof(d->mrenclave));
		if (!(req->keypolicy & SGX_KEYPOLICY_MRSIGNER))
			memset(d->mrsigner, 0, sizeof(d->mrsigner));
		memcpy(d->keyid, req->keyid, sizeof(d->keyid));
		sgx_seal_fuses(cpu, d->seal_key_fuses);
		break;
	case SGX_KEYNAME_PROVISION_SEAL:
		deps_policy(secs, req, d);
		sgx_seal_fuses(cpu, d->seal_key_fuses);
		break;
	case SGX_KEYNAME_PROVISION:
		d->isvprodid = secs->isv_prod_id;
		d->attributes_mask[0] = req->attributemask[0];
		d->attributes_mask[1] = req->attributemask[1];
		d->miscmask = ~req->miscmask;
		break;
	default: /* SGX_KEYNAME_EINITTOKEN */
		d->isvprodid = secs->isv_prod_id;
		memcpy(d->keyid, req->keyid, sizeof(d->keyid));
		sgx_seal_fuses(cpu, d->seal_key_fuses);
		break;
	}
}

static void derive(const struct sgx_cpu *cpu, const struct sgx_secs *secs,
		   const struct sgx_keyrequest *req, uint8_t key[16])
{
	struct sgx_key_deps deps;
	struct sgx_report_target self = {
		.mrenclave = secs->mrenclave,
		.attributes = secs->attributes,
		.xfrm = secs->xfrm,
		.miscselect = secs->miscselect,
		.config_id = secs->config_id,
		.config_svn = secs->config_svn,
	};

	if (req->keyname == SGX_KEYNAME_REPORT) {
		sgx_report_key(cpu, &self, req->keyid, key);
		return;
	}
	memset(&deps, 0, sizeof(deps));
	build_deps(cpu, secs, req, &deps);
	sgx_derive_key(cpu, &deps, key);
	OPENSSL_cleanse(&deps, sizeof(deps));
}

static int egetkey(struct sgx_lp *lp, uint64_t keyrequest, uint64_t key)
{
	const struct sgx_secs *secs;
	struct sgx_keyrequest req;
	void *req_host, *out;
	uint8_t k[16];
	int ret = check_operands(lp, keyrequest, key, &req_host, &out);

	if (ret)
		return ret;
	memcpy(&req, req_host, sizeof(req));
	secs = secs_at(lp->cpu, lp->active_secs);
	ret = check_format(lp, secs, &req);
	if (!ret)
		ret = check_access(lp, secs, &req);
	if (ret)
		return ret;

	derive(lp->cpu, secs, &req, k); /* E1 */
	memcpy(out, k, sizeof(k)); /* E2 */
	OPENSSL_cleanse(k, sizeof(k));
	return 0;
}

/**
 * enclu_egetkey() - ENCLU[EGETKEY]: derive the key @keyrequest asks for
 * and write it to @key.
 *
 * Return: 0, SGX_INVALID_KEYNAME, SGX_INVALID_ATTRIBUTE, SGX_INVALID_CPUSVN,
 * SGX_INVALID_ISVSVN, or a #GP/#PF fault.
 */
int enclu_egetkey(struct sgx_lp *lp, uint64_t keyrequest, uint64_t key)
{
	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, EGETKEY);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, EGETKEY,
			    egetkey(lp, keyrequest, key));
}
