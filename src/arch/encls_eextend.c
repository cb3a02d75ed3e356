// SPDX-License-Identifier: MIT
/*
 * EEXTEND - Extend Uninitialized Enclave Measurement by 256 Bytes. SDM
 * Vol. 3D, "EEXTEND", ENCLS leaf 0x06 (SGX1).
 *
 * Operands: RBX = EPC address of the enclave's SECS, RCX = EPC address of
 * a 256-byte chunk inside one of its pages.
 *
 * Checks, in SDM order:
 *   C1 RBX is 4 KiB aligned, else #GP.
 *   C2 RBX is in the EPC, else #PF(RBX).
 *   C3 RCX is 256-byte aligned, else #GP.
 *   C4 RCX is in the EPC, else #PF(RCX).
 *   C5 the chunk's page is VALID, else #PF(RCX).
 *   C6 the chunk's page is a PT_REG or PT_TCS page, else #PF(RCX).
 *   C7 RBX is the SECS that owns the page, else #GP.
 *   C8 the enclave is not initialized, else #GP.
 *
 * Effects:
 *   E1 MRENCLAVE is extended with {"EEXTEND", offset of the chunk from
 *      BASEADDR}, then with the 256 bytes in four 64-byte blocks.
 *
 * UNCERTAIN: the SDM lists "enclave already initialized" only among the
 * exceptions; we place it with the pseudocode's check of the initialized
 * state, after the SECS match.
 * MODEL: leaves are atomic, so the SDM's concurrency checks (#GP while
 * another leaf uses the EPCM, MRENCLAVE or the SECS) never fire.
 */
#include "arch/crypto.h"
#include "arch/internal.h"

#define EEXTEND_CHUNK 256

static void eextend_commit(struct sgx_cpu *cpu, uint64_t secs_idx,
			   const struct epcm_entry *e, uint64_t chunk)
{
	struct secs_hidden *h = secs_hidden_at(cpu, secs_idx);
	const uint8_t *data = (const uint8_t *)(uintptr_t)chunk;
	uint64_t offset = e->enclave_address - secs_at(cpu, secs_idx)->base +
			  (chunk & ~PAGE_MASK);
	uint64_t tag = 0x00444E4554584545ULL; /* "EEXTEND" */
	uint8_t rec[64] = { 0 };

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &offset, 8);
	measure_update(h, rec);
	for (unsigned int i = 0; i < EEXTEND_CHUNK; i += 64)
		measure_update(h, data + i);
}

static int eextend(struct sgx_lp *lp, uint64_t secs, uint64_t chunk)
{
	struct sgx_cpu *cpu = lp->cpu;
	const struct epcm_entry *e;
	uint64_t secs_idx, idx;

	/* C1: the SECS operand is a page. */
	if (!is_aligned(secs, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: in the EPC. */
	if (!epc_lookup(cpu, secs, &secs_idx))
		return sgx_pf_epcm(lp, secs);
	/* C3: chunks are 256-byte aligned. */
	if (!is_aligned(chunk, EEXTEND_CHUNK))
		return sgx_gp(lp);
	/* C4: the chunk is in the EPC. */
	if (!epc_lookup(cpu, chunk, &idx))
		return sgx_pf_epcm(lp, chunk);
	e = epcm_at(cpu, idx);
	/* C5: its page is valid. */
	if (!e->valid)
		return sgx_pf_epcm(lp, chunk);
	/* C6: only regular and TCS pages are measured. */
	if (e->pt != PT_REG && e->pt != PT_TCS)
		return sgx_pf_epcm(lp, chunk);
	/* C7: RBX must be the page's own SECS. */
	if (e->enclave_secs != secs_idx)
		return sgx_gp(lp);
	/* C8: the measurement is closed once the enclave is initialized. */
	if (secs_at(cpu, secs_idx)->attributes & SGX_ATTR_INIT)
		return sgx_gp(lp);

	eextend_commit(cpu, secs_idx, e, chunk); /* E1 */
	return 0;
}

/**
 * encls_eextend() - ENCLS[EEXTEND]: measure 256 bytes at @chunk into the
 * MRENCLAVE of the enclave whose SECS is @secs.
 *
 * Return: 0, or a #GP/#PF fault.
 */
int encls_eextend(struct sgx_lp *lp, uint64_t secs, uint64_t chunk)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EEXTEND);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EEXTEND,
			    ret ? ret : eextend(lp, secs, chunk));
}
