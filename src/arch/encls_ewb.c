// SPDX-License-Identifier: MIT
/*
 * EWB - Invalidate an EPC Page and Write out to Main Memory. SDM Vol. 3D,
 * "EWB", ENCLS leaf 0x0B.
 *
 * Operands: RBX = PAGEINFO (SRCPGE receives the sealed page; the SECINFO
 * field holds the PCMD pointer; LINADDR is an output and SECS unused),
 * RCX = EPC address of the page, RDX = EPC address of the VA slot.
 *
 * Checks, in SDM order:
 *   C1 RBX is 32-byte aligned and RCX 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF(RCX).
 *   C3 RDX is 8-byte aligned, else #GP.
 *   C4 RDX is in the EPC, else #PF(RDX).
 *   C5 RCX and RDX are not in the same EPC page, else #GP.
 *   C6 PAGEINFO.LINADDR and PAGEINFO.SECS are 0, else #GP.
 *   C7 PCMD is 128-byte aligned and SRCPGE 4 KiB aligned, else #GP.
 *   C8 the page is VALID, else #PF(RCX).
 *   C9 RDX lies in a VALID PT_VA page, else #PF(RDX).
 *   C10 a child page (REG, TCS, TRIM, SS) is BLOCKED, else
 *       SGX_PAGE_NOT_BLOCKED.
 *   C11 a child page is tracked (sgx-architecture.md section 3.2 rule 6),
 *       else SGX_NOT_TRACKED.
 *   C12 a SECS has no child pages, else SGX_CHILD_PRESENT.
 *   VA pages need neither blocking nor tracking: no TLB maps them.
 *
 * Effects:
 *   E1 the page is sealed under a fresh version (seal.c) into SRCPGE, bound
 *      by the MAC header to its EPCM state, address and enclave ID (0 for
 *      SECS and VA pages).
 *   E2 PCMD := { SECINFO with PT, RWX, PENDING, MODIFIED and PR, reserved
 *      bytes 0, ENCLAVEID (the owner's EID; a SECS's own EID; 0 for VA),
 *      MAC }, and PAGEINFO.LINADDR := ENCLAVEADDRESS.
 *   E3 if the VA slot held a version, the result is SGX_VA_SLOT_OCCUPIED;
 *      the eviction goes on regardless (the SDM does not abort it).
 *   E4 the VA slot := the version.
 *   E5 EPCM.VALID := 0, and the owner's child count drops.
 *
 * A SECS page is sealed whole, hidden state (EID, epoch, counts) included:
 * MODEL: that state lives inside the page, so it travels with it.
 *
 * MODEL: the SDM reports SGX_VA_SLOT_OCCUPIED with CF and the other codes
 * with ZF; the model returns every code in the int alone, as Linux sees it.
 * MODEL: leaves are atomic, so the SDM's concurrency #GPs (another SGX
 * instruction using the page, the VA page being modified, the tracking
 * resource in use) never fire.
 * UNCERTAIN: the SDM's "EBLOCK is not correct" #GP is unspecified; the
 * model keeps BLOCKED consistent by construction and has no such check.
 * MODEL: the version comes from cpu->next_version, which only grows, so a
 * sealed copy can never be replayed into a newer slot.
 */
#include "arch/crypto.h"
#include "arch/internal.h"
#include "arch/paging.h"

static uint64_t epcm_secinfo_flags(const struct epcm_entry *e)
{
	return SGX_SECINFO_TYPE(e->pt) | e->r * SGX_SECINFO_R |
	       e->w * SGX_SECINFO_W | e->x * SGX_SECINFO_X |
	       e->pending * SGX_SECINFO_PENDING |
	       e->modified * SGX_SECINFO_MODIFIED | e->pr * SGX_SECINFO_PR;
}

/* PCMD.ENCLAVEID: a handle for software, not part of the MAC for a SECS. */
static uint64_t pcmd_enclave_id(const struct sgx_cpu *cpu, uint64_t idx)
{
	const struct epcm_entry *e = epcm_at(cpu, idx);

	if (pt_is_child(e->pt))
		return secs_hidden_at(cpu, e->enclave_secs)->eid;
	if (e->pt == PT_SECS)
		return secs_hidden_at(cpu, idx)->eid;
	return 0;
}

static int ewb_write_out(struct sgx_cpu *cpu, struct sgx_pageinfo *pageinfo,
			 uint64_t idx, uint64_t va_slot)
{
	struct epcm_entry *e = epcm_at(cpu, idx);
	uint64_t *slot = (uint64_t *)(uintptr_t)va_slot;
	uint64_t version = cpu->next_version++;
	struct sgx_mac_header hdr;
	struct sgx_pcmd pcmd;
	int ret = 0;

	ASSERT(version != 0);
	memset(&pcmd, 0, sizeof(pcmd));
	pcmd.secinfo.flags = epcm_secinfo_flags(e);
	pcmd.enclave_id = pcmd_enclave_id(cpu, idx);
	sgx_mac_header_init(&hdr, pt_is_child(e->pt) ? pcmd.enclave_id : 0,
			    &pcmd, e->enclave_address);
	seal_page(cpu->paging_key, version, &hdr, sizeof(hdr),
		  epc_page_at(cpu, idx), (void *)(uintptr_t)pageinfo->srcpge,
		  pcmd.mac); /* E1 */
	*(struct sgx_pcmd *)(uintptr_t)pageinfo->secinfo = pcmd; /* E2 */
	pageinfo->linaddr = e->enclave_address;
	if (*slot) /* E3 */
		ret = SGX_VA_SLOT_OCCUPIED;
	*slot = version; /* E4 */
	e->valid = 0; /* E5 */
	if (pt_is_child(e->pt))
		secs_hidden_at(cpu, e->enclave_secs)->child_count--;
	return ret;
}

static int ewb(struct sgx_lp *lp, struct sgx_pageinfo *pageinfo, uint64_t epc,
	       uint64_t va_slot)
{
	struct sgx_cpu *cpu = lp->cpu;
	const struct epcm_entry *e, *va;
	uint64_t idx, va_idx;

	/* C1: PAGEINFO and page alignment. */
	if (!is_aligned((uintptr_t)pageinfo, 32) || !is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: the page must be in the EPC. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	/* C3: VA slot alignment. */
	if (!is_aligned(va_slot, 8))
		return sgx_gp(lp);
	/* C4: the slot must be in the EPC. */
	if (!epc_lookup(cpu, va_slot, &va_idx))
		return sgx_pf_epcm(lp, va_slot);
	/* C5: a VA page cannot hold its own version. */
	if (idx == va_idx)
		return sgx_gp(lp);
	/* C6: LINADDR is an output and SECS unused. */
	if (pageinfo->linaddr || pageinfo->secs)
		return sgx_gp(lp);
	/* C7: PCMD and SRCPGE alignment. */
	if (!is_aligned(pageinfo->secinfo, sizeof(struct sgx_pcmd)) ||
	    !is_aligned(pageinfo->srcpge, PAGE_SIZE))
		return sgx_gp(lp);
	e = epcm_at(cpu, idx);
	/* C8: only a valid page can be evicted. */
	if (!e->valid)
		return sgx_pf_epcm(lp, epc);
	va = epcm_at(cpu, va_idx);
	/* C9: the slot must be in a version array. */
	if (!va->valid || va->pt != PT_VA)
		return sgx_pf_epcm(lp, va_slot);
	/* C10: no LP may fill a TLB entry for a page being evicted. */
	if (pt_is_child(e->pt) && !e->blocked)
		return SGX_PAGE_NOT_BLOCKED;
	/* C11: and the entries filled before EBLOCK must be flushed. */
	if (pt_is_child(e->pt) && !sgx_page_tracked(cpu, idx))
		return SGX_NOT_TRACKED;
	/* C12: a SECS goes last, after every page it owns. */
	if (e->pt == PT_SECS && secs_hidden_at(cpu, idx)->child_count)
		return SGX_CHILD_PRESENT;

	return ewb_write_out(cpu, pageinfo, idx, va_slot);
}

/**
 * encls_ewb() - ENCLS[EWB]: seal @epc out to PAGEINFO.SRCPGE and its PCMD,
 * recording its version in the VA slot @va_slot.
 *
 * Return: 0, SGX_VA_SLOT_OCCUPIED (evicted all the same),
 * SGX_PAGE_NOT_BLOCKED, SGX_NOT_TRACKED, SGX_CHILD_PRESENT, or a #GP/#PF
 * fault.
 */
int encls_ewb(struct sgx_lp *lp, struct sgx_pageinfo *pageinfo, uint64_t epc,
	      uint64_t va_slot)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, EWB);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, EWB,
			    ret ? ret : ewb(lp, pageinfo, epc, va_slot));
}
