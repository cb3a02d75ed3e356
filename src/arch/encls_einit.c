// SPDX-License-Identifier: MIT
/*
 * EINIT - Initialize an Enclave for Execution. SDM Vol. 3D, "EINIT",
 * ENCLS leaf 0x02 (SGX1, with flexible launch control).
 *
 * Operands: RBX = SIGSTRUCT, RCX = EPC address of the SECS, RDX =
 * EINITTOKEN.
 *
 * Checks, in SDM pseudocode order:
 *   C1  SIGSTRUCT and SECS are 4 KiB aligned, else #GP.
 *   C2  EINITTOKEN is 512-byte aligned, else #GP.
 *   C3  the SECS is in the EPC, else #PF(RCX).
 *   C4  SIGSTRUCT HEADER/HEADER2 are the SDM constants, VENDOR is 0 or
 *       0x8086, EXPONENT is 3 and every reserved byte is 0, else
 *       SGX_INVALID_SIG_STRUCT.
 *   C5  the signature verifies with the embedded modulus, Q1 and Q2,
 *       else SGX_INVALID_SIGNATURE.
 *   C6  RCX is a VALID PT_SECS page, else #PF(RCX).
 *   C7  the enclave is not initialized yet, else #GP.
 *   C8  the finished MRENCLAVE equals SIGSTRUCT.ENCLAVEHASH, else
 *       SGX_INVALID_MEASUREMENT.
 *   C9  the controlled attribute EINITTOKENKEY is set only for an enclave
 *       signed with the launch key (MRSIGNER = IA32_SGXLEPUBKEYHASH), else
 *       SGX_INVALID_ATTRIBUTE.
 *   C10 SECS.ATTRIBUTES & ATTRIBUTEMASK = SIGSTRUCT.ATTRIBUTES &
 *       ATTRIBUTEMASK, else SGX_INVALID_ATTRIBUTE.
 *   C11 the same for XFRM (the upper half of the SDM's 128-bit ATTRIBUTES),
 *       else SGX_INVALID_ATTRIBUTE.
 *   C12 the same for MISCSELECT and MISCMASK, else SGX_INVALID_ATTRIBUTE.
 *   C13 with EINITTOKEN.VALID = 0, MRSIGNER equals IA32_SGXLEPUBKEYHASH,
 *       else SGX_INVALID_EINITTOKEN.
 *   C14 EINITTOKEN.VALID = 0, else SGX_INVALID_EINITTOKEN (MODEL below).
 *
 * Effects:
 *   E1 SECS.MRENCLAVE := the finished measurement.
 *   E2 SECS.MRSIGNER := SHA-256 of SIGSTRUCT.MODULUS.
 *   E3 SECS.ISVPRODID and ISVSVN := the SIGSTRUCT's.
 *   E4 SECS.ATTRIBUTES.INIT := 1.
 *
 * UNCERTAIN: the SDM lists "enclave already initialized" (C7) only among
 * the exceptions; we place it next to the other SECS state check (C6).
 * MODEL: launch tokens are not modelled: the platform runs with flexible
 * launch control, the way Linux drives it (a zeroed token, the LE hash MSRs
 * set to the signer's MRSIGNER). A token with VALID = 1 would need the
 * launch key and a MAC check; it is refused with SGX_INVALID_EINITTOKEN.
 * MODEL: no KSS identity fields: the SIGSTRUCT's ISVFAMILYID and
 * ISVEXTPRODID fall in reserved bytes, which C4 requires to be 0.
 * MODEL: SGX_UNMASKED_EVENT never happens: leaves are atomic, so no
 * interrupt can be pending inside one. For the same reason the SDM's
 * concurrency #GPs never fire.
 */
#include "arch/crypto.h"
#include "arch/internal.h"

#define SGX_VENDOR_INTEL 0x8086
#define SGX_SIGSTRUCT_EXPONENT 3
/* SDM EINIT: CONTROLLED_ATTRIBUTES. */
#define EINIT_CONTROLLED_ATTRIBUTES SGX_ATTR_EINITTOKENKEY

static bool sigstruct_fields_ok(const struct sgx_sigstruct *sig)
{
	const struct sgx_sigstruct_header *hd = &sig->header;

	return hd->header1[0] == SGX_SIGSTRUCT_HEADER1_0 &&
	       hd->header1[1] == SGX_SIGSTRUCT_HEADER1_1 &&
	       (hd->vendor == 0 || hd->vendor == SGX_VENDOR_INTEL) &&
	       hd->header2[0] == SGX_SIGSTRUCT_HEADER2_0 &&
	       hd->header2[1] == SGX_SIGSTRUCT_HEADER2_1 &&
	       sig->exponent == SGX_SIGSTRUCT_EXPONENT &&
	       all_zero(hd->reserved1, sizeof(hd->reserved1)) &&
	       all_zero(sig->body.reserved2, sizeof(sig->body.reserved2)) &&
	       all_zero(sig->body.reserved3, sizeof(sig->body.reserved3)) &&
	       all_zero(sig->reserved4, sizeof(sig->reserved4));
}

/* IA32_SGXLEPUBKEYHASH0..3 hold the hash as little-endian 64-bit words. */
static bool signer_is_le_key(const struct sgx_lp *lp,
			     const uint8_t mrsigner[32])
{
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t w;

		memcpy(&w, mrsigner + 8 * i, 8);
		if (w != lp->lepubkeyhash[i])
			return false;
	}
	return true;
}

/* C8..C14, on a valid, uninitialized SECS and a well-signed SIGSTRUCT. */
static int einit_verify(struct sgx_lp *lp, const struct sgx_sigstruct *sig,
			const struct sgx_secs *secs,
			const struct sgx_einittoken *token,
			const uint8_t mrenclave[32], const uint8_t mrsigner[32])
{
	const struct sgx_sigstruct_body *b = &sig->body;

	/* C8: the enclave is what was signed. */
	if (memcmp(mrenclave, b->mrenclave, 32))
		return SGX_INVALID_MEASUREMENT;
	/* C9: controlled attributes need the launch key's signature. */
	if ((secs->attributes & EINIT_CONTROLLED_ATTRIBUTES) &&
	    !signer_is_le_key(lp, mrsigner))
		return SGX_INVALID_ATTRIBUTE;
	/* C10: the attributes the signer pinned. */
	if ((secs->attributes & b->attributes_mask) !=
	    (b->attributes & b->attributes_mask))
		return SGX_INVALID_ATTRIBUTE;
	/* C11: the XSAVE features the signer pinned. */
	if ((secs->xfrm & b->xfrm_mask) != (b->xfrm & b->xfrm_mask))
		return SGX_INVALID_ATTRIBUTE;
	/* C12: the MISCSELECT bits the signer pinned. */
	if ((secs->miscselect & b->misc_mask) != (b->miscselect & b->misc_mask))
		return SGX_INVALID_ATTRIBUTE;
	/* C13: without a token, only the launch key's signer may launch. */
	if (!(token->valid & 1) && !signer_is_le_key(lp, mrsigner))
		return SGX_INVALID_EINITTOKEN;
	/* C14: MODEL: tokens themselves are not supported. */
	if (token->valid & 1)
		return SGX_INVALID_EINITTOKEN;
	return 0;
}

static void einit_commit(struct sgx_secs *secs,
			 const struct sgx_sigstruct *sig,
			 const uint8_t mrenclave[32],
			 const uint8_t mrsigner[32])
{
	memcpy(secs->mrenclave, mrenclave, 32); /* E1 */
	memcpy(secs->mrsigner, mrsigner, 32); /* E2 */
	secs->isv_prod_id = sig->body.isvprodid; /* E3 */
	secs->isv_svn = sig->body.isvsvn;
	secs->attributes |= SGX_ATTR_INIT; /* E4 */
}

static int einit(struct sgx_lp *lp, const struct sgx_sigstruct *sig,
		 uint64_t secs, const struct sgx_einittoken *token)
{
	struct sgx_cpu *cpu = lp->cpu;
	uint8_t mrenclave[32], mrsigner[32];
	uint64_t idx;
	int ret;

	/* C1: SIGSTRUCT and SECS alignment. */
	if (!is_aligned((uintptr_t)sig, PAGE_SIZE) ||
	    !is_aligned(secs, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: EINITTOKEN alignment. */
	if (!is_aligned((uintptr_t)token, 512))
		return sgx_gp(lp);
	/* C3: the SECS is in the EPC. */
	if (!epc_lookup(cpu, secs, &idx))
		return sgx_pf_epcm(lp, secs);
	/* C4: the fixed SIGSTRUCT fields. */
	if (!sigstruct_fields_ok(sig))
		return SGX_INVALID_SIG_STRUCT;
	/* C5: the signature. */
	if (!sigstruct_verify(sig))
		return SGX_INVALID_SIGNATURE;
	/* C6: RCX is a SECS. */
	if (!epcm_is_secs(epcm_at(cpu, idx)))
		return sgx_pf_epcm(lp, secs);
	/* C7: EINIT runs once per enclave. */
	if (secs_at(cpu, idx)->attributes & SGX_ATTR_INIT)
		return sgx_gp(lp);
	measure_finish(secs_hidden_at(cpu, idx), mrenclave);
	sha256(sig->modulus, sizeof(sig->modulus), mrsigner);
	ret = einit_verify(lp, sig, secs_at(cpu, idx), token, mrenclave,
			   mrsigner);
	if (ret)
		return ret;

	einit_commit(secs_at(cpu, idx), sig, mrenclave, mrsigner);
	return 0;
}

/**
 * encls_einit() - ENCLS[EINIT]: check @sigstruct against the enclave whose
 * SECS is @secs and, if it matches, mark the enclave initialized.
 * @token: the EINITTOKEN; only VALID = 0 (no token) is supported.
 *
 * Return: 0, SGX_INVALID_SIG_STRUCT, SGX_INVALID_SIGNATURE,
 * SGX_INVALID_MEASUREMENT, SGX_INVALID_ATTRIBUTE, SGX_INVALID_EINITTOKEN,
 * or a #GP/#PF fault.
 */
int encls_einit(struct sgx_lp *lp, const struct sgx_sigstruct *sigstruct,
		uint64_t secs, const struct sgx_einittoken *token)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EINIT);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EINIT,
			    ret ? ret : einit(lp, sigstruct, secs, token));
}
