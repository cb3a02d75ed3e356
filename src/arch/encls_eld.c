// SPDX-License-Identifier: MIT
/*
 * ELDB/ELDU - Load an EPC Page and Mark its State. SDM Vol. 3D,
 * "ELDB/ELDU/ELDBC/ELDUC", ENCLS leaves 0x07 (ELDB) and 0x08 (ELDU). Both
 * share one checked body; they differ only in the BLOCKED bit they leave.
 *
 * Operands: RBX = PAGEINFO (LINADDR, SRCPGE = the sealed page, the SECINFO
 * field holds the PCMD pointer, SECS), RCX = EPC address of a free page,
 * RDX = EPC address of the VA slot holding the page's version.
 *
 * Checks, in SDM order:
 *   C1 RBX is 32-byte aligned and RCX 4 KiB aligned, else #GP.
 *   C2 RCX is in the EPC, else #PF(RCX).
 *   C3 RDX is 8-byte aligned, else #GP.
 *   C4 RDX is in the EPC, else #PF(RDX).
 *   C5 PCMD is 128-byte aligned and SRCPGE 4 KiB aligned, else #GP.
 *   C6 the target page is free (VALID = 0), else #PF(RCX).
 *   C7 RDX lies in a VALID PT_VA page, else #PF(RDX).
 *   For a child page (PCMD.SECINFO.PT is REG, TCS, TRIM or SS):
 *   C8 PAGEINFO.SECS is 4 KiB aligned, else #GP.
 *   C9 PAGEINFO.SECS is in the EPC, else #PF(SECS).
 *   C10 PAGEINFO.SECS is a VALID PT_SECS page, else #PF(SECS).
 *   For a SECS or VA page:
 *   C11 PAGEINFO.SECS is 0, else #GP.
 *   C12 the page decrypts and its MAC verifies under the slot's version,
 *       with the MAC header built from PCMD.SECINFO, PCMD's reserved bytes,
 *       PAGEINFO.LINADDR and the EID of PAGEINFO.SECS (0 for SECS and VA
 *       pages), else SGX_MAC_COMPARE_FAIL: the slot stays as it was and the
 *       page stays free.
 *
 * Effects:
 *   E1 the target page := the decrypted contents.
 *   E2 the VA slot := 0, so the same sealed copy cannot be loaded twice.
 *   E3 EPCM.PT, R, W, X, PENDING, MODIFIED, PR := PCMD.SECINFO;
 *      ENCLAVEADDRESS := LINADDR; ENCLAVESECS := PAGEINFO.SECS (a SECS or
 *      VA page names itself).
 *   E4 EPCM.BLOCKED := 1 for ELDB on a child page, else 0.
 *   E5 MODEL: no tracking stamp (sgx-architecture.md section 3.2 rule 9):
 *      the eviction needed a full tracking cycle, and no TLB entry can
 *      survive the time the page was free.
 *   E6 EPCM.VALID := 1, and the owner's child count rises.
 *
 * MODEL: the SDM's check that PAGEINFO.SECS is a SECS (C10) is implied by
 * its reading SECS.EID; SDM-2016 p.1773 states the ENCLAVESECS binding.
 * MODEL: leaves are atomic, so the SDM's concurrency #GPs (pages in use,
 * VA slot or SECS being modified) never fire.
 */
#include "arch/crypto.h"
#include "arch/internal.h"
#include "arch/paging.h"

static uint8_t secinfo_pt(uint64_t flags)
{
	return (uint8_t)((flags & SGX_SECINFO_PAGE_TYPE_MASK) >>
			 SGX_SECINFO_PAGE_TYPE_SHIFT);
}

/* C8-C11: the owner named by PAGEINFO.SECS; its EID is bound in the MAC. */
static int eld_owner(struct sgx_lp *lp, const struct sgx_pcmd *pcmd,
		     uint64_t secs, uint64_t *secs_idx, uint64_t *eid)
{
	struct sgx_cpu *cpu = lp->cpu;

	if (pt_is_child(secinfo_pt(pcmd->secinfo.flags))) {
		/* C8: SECS alignment. */
		if (!is_aligned(secs, PAGE_SIZE))
			return sgx_gp(lp);
		/* C9: the SECS must be in the EPC. */
		if (!epc_lookup(cpu, secs, secs_idx))
			return sgx_pf_epcm(lp, secs);
		/* C10: and be a valid SECS. */
		if (!epcm_is_secs(epcm_at(cpu, *secs_idx)))
			return sgx_pf_epcm(lp, secs);
		*eid = secs_hidden_at(cpu, *secs_idx)->eid;
		return 0;
	}
	/* C11: SECS and VA pages have no owner. */
	if (secs)
		return sgx_gp(lp);
	*eid = 0;
	return 0;
}

static void eld_commit(struct sgx_cpu *cpu, const struct sgx_pcmd *pcmd,
		       uint64_t linaddr, uint64_t idx, uint64_t secs_idx,
		       bool blocked)
{
	uint64_t flags = pcmd->secinfo.flags;
	struct epcm_entry *e = epcm_at(cpu, idx);
	uint8_t pt = secinfo_pt(flags);
	bool child = pt_is_child(pt);

	*e = (struct epcm_entry){ /* E3 */
		.pt = pt,
		.r = !!(flags & SGX_SECINFO_R),
		.w = !!(flags & SGX_SECINFO_W),
		.x = !!(flags & SGX_SECINFO_X),
		.pending = !!(flags & SGX_SECINFO_PENDING),
		.modified = !!(flags & SGX_SECINFO_MODIFIED),
		.pr = !!(flags & SGX_SECINFO_PR),
		.enclave_address = linaddr,
		.enclave_secs = (uint32_t)(child ? secs_idx : idx),
		.blocked = blocked && child, /* E4 */
		.track_stamp = 0, /* E5 */
		.valid = 1, /* E6 */
	};
	epc_mark_written(cpu, idx);
	if (child)
		secs_hidden_at(cpu, secs_idx)->child_count++;
}

static int eld(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc, uint64_t va_slot, bool blocked)
{
	struct sgx_cpu *cpu = lp->cpu;
	uint64_t idx, va_idx, secs_idx = 0, eid, *slot;
	const struct epcm_entry *va;
	struct sgx_mac_header hdr;
	struct sgx_pcmd pcmd;
	int ret;

	/* C1: PAGEINFO and page alignment. */
	if (!is_aligned((uintptr_t)pageinfo, 32) || !is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C2: the target must be in the EPC. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	/* C3: VA slot alignment. */
	if (!is_aligned(va_slot, 8))
		return sgx_gp(lp);
	/* C4: the slot must be in the EPC. */
	if (!epc_lookup(cpu, va_slot, &va_idx))
		return sgx_pf_epcm(lp, va_slot);
	/* C5: PCMD and SRCPGE alignment. */
	if (!is_aligned(pageinfo->secinfo, sizeof(struct sgx_pcmd)) ||
	    !is_aligned(pageinfo->srcpge, PAGE_SIZE))
		return sgx_gp(lp);
	/* C6: the target must be free. */
	if (epcm_at(cpu, idx)->valid)
		return sgx_pf_epcm(lp, epc);
	va = epcm_at(cpu, va_idx);
	/* C7: the slot must be in a version array. */
	if (!va->valid || va->pt != PT_VA)
		return sgx_pf_epcm(lp, va_slot);
	/* The SDM's SCRATCH_PCMD: read the PCMD once. */
	pcmd = *(const struct sgx_pcmd *)(uintptr_t)pageinfo->secinfo;
	ret = eld_owner(lp, &pcmd, pageinfo->secs, &secs_idx, &eid);
	if (ret)
		return ret;
	sgx_mac_header_init(&hdr, eid, &pcmd, pageinfo->linaddr);
	slot = (uint64_t *)(uintptr_t)va_slot;
	/* C12: the MAC binds contents, state, address, owner and version. */
	if (!unseal_page(cpu->paging_key, *slot, &hdr, sizeof(hdr),
			 (const void *)(uintptr_t)pageinfo->srcpge,
			 epc_page_at(cpu, idx), pcmd.mac))
		return SGX_MAC_COMPARE_FAIL;

	/* E1 was done by unseal_page(), only once the MAC matched. */
	*slot = 0; /* E2 */
	eld_commit(cpu, &pcmd, pageinfo->linaddr, idx, secs_idx, blocked);
	return 0;
}

/**
 * encls_eldu() - ENCLS[ELDU]: load a sealed page into the free EPC page
 * @epc, unblocked.
 *
 * Return: 0, SGX_MAC_COMPARE_FAIL, or a #GP/#PF fault.
 */
int encls_eldu(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc, uint64_t va_slot)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, ELDU);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, ELDU,
			    ret ? ret : eld(lp, pageinfo, epc, va_slot, false));
}

/**
 * encls_eldb() - ENCLS[ELDB]: as ELDU, but a child page comes back BLOCKED
 * (for a page that was blocked when it was evicted).
 *
 * Return: 0, SGX_MAC_COMPARE_FAIL, or a #GP/#PF fault.
 */
int encls_eldb(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc, uint64_t va_slot)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, ELDB);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, ELDB,
			    ret ? ret : eld(lp, pageinfo, epc, va_slot, true));
}
