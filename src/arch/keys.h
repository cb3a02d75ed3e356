/* SPDX-License-Identifier: MIT */
/*
 * The enclave key hierarchy of EREPORT and EGETKEY (SDM Vol. 3D, "EGETKEY",
 * table "Key Derivation"): the derivation data, the derivation itself, the
 * report key both leaves must agree on, and the enclave-memory operand check
 * both leaves start with. cmac128() is declared in crypto.h.
 *
 * MODEL: a derived key is AES-128-CMAC over struct sgx_key_deps under a
 * package root key: the first half of cpu->report_key_secret for REPORT
 * keys, of cpu->seal_key_secret for every other key. The second half of
 * seal_key_secret plays CR_SEAL_FUSES. CR_SGXOWNEREPOCH is 0, and the
 * constant PADDING field is left out, since a constant adds nothing.
 */
#ifndef SGXEMU_ARCH_KEYS_H
#define SGXEMU_ARCH_KEYS_H

#include "arch/internal.h"

/* KEYREQUEST.KEYPOLICY bits beyond MRENCLAVE/MRSIGNER (sdm.h). */
#define SGX_KEYPOLICY_NOISVPRODID 0x04
#define SGX_KEYPOLICY_CONFIGID 0x08
#define SGX_KEYPOLICY_ISVFAMILYID 0x10
#define SGX_KEYPOLICY_ISVEXTPRODID 0x20
/* The policy bits that need ATTRIBUTES.KSS. */
#define SGX_KEYPOLICY_KSS 0x3C
#define SGX_KEYPOLICY_RESERVED 0xFFC0

/* TMP_KEYDEPENDENCIES: everything a derived key depends on. */
struct sgx_key_deps {
	uint16_t keyname;
	uint16_t keypolicy;
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint16_t config_svn;
	uint8_t reserved[6];
	uint64_t attributes[2]; /* FLAGS, XFRM */
	uint64_t attributes_mask[2];
	uint32_t miscselect;
	uint32_t miscmask;
	uint8_t owner_epoch[16];
	uint8_t cpusvn[16];
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint8_t keyid[32];
	uint8_t seal_key_fuses[16];
	uint8_t isvextprodid[16];
	uint8_t isvfamilyid[16];
	uint8_t config_id[64];
} __attribute__((packed));

/* The enclave a REPORT key belongs to (TARGETINFO, or the own SECS). */
struct sgx_report_target {
	const uint8_t *mrenclave; /* 32 bytes */
	uint64_t attributes, xfrm;
	uint32_t miscselect;
	const uint8_t *config_id; /* 64 bytes */
	uint16_t config_svn;
};

/* derivekey(): the 128-bit key for these dependencies. */
void sgx_derive_key(const struct sgx_cpu *cpu,
		    const struct sgx_key_deps *deps, uint8_t key[16]);
/* CR_SEAL_FUSES, for the keys that include it. */
void sgx_seal_fuses(const struct sgx_cpu *cpu, uint8_t fuses[16]);
/* CR_REPORT_KEYID: fixed per boot. */
void sgx_report_keyid(const struct sgx_cpu *cpu, uint8_t keyid[32]);
/* The REPORT key of target under keyid; EREPORT and EGETKEY share it. */
void sgx_report_key(const struct sgx_cpu *cpu,
		    const struct sgx_report_target *target,
		    const uint8_t keyid[32], uint8_t key[16]);

/*
 * The two halves of the operand checks EREPORT and EGETKEY run on each
 * enclave-memory operand (their SDM pseudocode):
 * enclu_operand_placed() - @lin is @align aligned and inside CR_ELRANGE;
 * the leaf raises #GP when it is not.
 * enclu_operand_page() - @lin translates to an EPC page that is VALID, not
 * BLOCKED, a PT_REG page of the running enclave at that address, neither
 * PENDING nor MODIFIED, with EPCM R (or W when @write). Returns 0 and sets
 * @host to the operand's bytes, or the #PF (at @lin).
 */
bool enclu_operand_placed(const struct sgx_lp *lp, uint64_t lin,
			  uint64_t align);
int enclu_operand_page(struct sgx_lp *lp, uint64_t lin, bool write,
		       void **host);

#endif
