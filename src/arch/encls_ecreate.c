// SPDX-License-Identifier: MIT
/*
 * ECREATE - Create an SECS page in the Enclave Page Cache. SDM Vol. 3D,
 * "ECREATE", ENCLS leaf 0x00 (SGX1; recent SDM with CET/KSS fields).
 *
 * Operands: RBX = PAGEINFO {LINADDR = 0, SRCPGE = SECS template, SECINFO,
 * SECS = 0}, RCX = EPC address of the free page that becomes the SECS.
 *
 * Checks, in SDM order:
 *   C1  PAGEINFO is 32-byte aligned, else #GP.
 *   C2  RCX is 4 KiB aligned, else #GP.
 *   C3  RCX is in the EPC, else #PF.
 *   C4  SRCPGE is 4 KiB aligned and SECINFO 64-byte aligned, else #GP.
 *   C5  PAGEINFO.LINADDR and PAGEINFO.SECS are 0, else #GP.
 *   C6  SECINFO has no reserved bit set and PT = PT_SECS, else #GP.
 *   C7  the target page is not VALID, else #PF.
 *   C8  XFRM[1:0] (x87, SSE) are both set, else #GP.
 *   C9  XFRM asks for no feature the CPU lacks (cfg.xfrm_supported), and
 *       is a value XSETBV would accept for XCR0, else #GP.
 *   C10 MISCSELECT asks for nothing but EXINFO, else #GP.
 *   C11 SSAFRAMESIZE pages hold GPRSGX + MISC + the XSAVE area, else #GP.
 *   C12 the enclave is 64-bit (MODE64BIT), else #GP.
 *   C13 BASEADDR is canonical, else #GP.
 *   C14 SIZE is below the CPU's maximum enclave size, else #GP.
 *   C15 SIZE is a power of two and at least 8 KiB, else #GP.
 *   C16 BASEADDR is naturally aligned to SIZE, else #GP.
 *   C17 ATTRIBUTES has no unsupported bit and INIT clear, else #GP.
 *   C18 the template's reserved fields are all 0, else #GP.
 *   C19 CONFIGID/CONFIGSVN are 0 unless ATTRIBUTES.KSS, else #GP.
 *
 * Effects:
 *   E1 the template is copied into the EPC page; MRENCLAVE, MRSIGNER,
 *      ISVPRODID and ISVSVN read 0 until EINIT.
 *   E2 the hidden state is zeroed (epoch 0, no children, nobody inside).
 *   E3 EID := CR_NEXT_EID++.
 *   E4 the measurement starts with the ECREATE record {"ECREATE",
 *      SSAFRAMESIZE, SIZE}.
 *   E5 EPCM: VALID, PT_SECS, no rights, ENCLAVEADDRESS 0, BLOCKED, PENDING,
 *      MODIFIED and PR 0, ENCLAVESECS = the page itself; INIT stays 0.
 *
 * MODEL: leaves are atomic, so the SDM's "EPC entry in use" #GP never fires.
 * MODEL: no CET, so the CET fields are reserved (C18) and the CET checks
 * reduce to that.
 * MODEL: the SDM keeps the running hash in SECS.MRENCLAVE; here it is hidden
 * (measure.c), so MRENCLAVE and MRSIGNER read 0 until EINIT writes them.
 * MODEL: 32-bit enclaves are not supported (C12 replaces the SDM's 32-bit
 * BASEADDR and SIZE checks); every enclave Linux builds is 64-bit.
 */
#include "arch/crypto.h"
#include "arch/internal.h"

/* MODEL: without cfg.xfrm_supported, x87, SSE and AVX state. */
#define ECREATE_XFRM_DEFAULT 0x7ULL
#define ECREATE_XFRM_LEGACY 0x3ULL
#define XFRM_AVX 0x4ULL
#define XFRM_MPX 0x18ULL
#define XFRM_AVX512 0xe0ULL
/* CPUID.(12H,0):EDX[15:8]: SIZE must be below 2^MaxEnclaveSize_64 (SDM). */
#define ECREATE_MAX_SIZE_64 (1ULL << SGX_MAX_ENCLAVE_SIZE_64_LOG2)
#define ECREATE_MIN_SIZE 8192ULL
/* MODEL: CPUID.(12H,0):EBX, the supported MISCSELECT bits: EXINFO only. */
#define ECREATE_MISC_SUPPORTED SGX_MISC_EXINFO

/* Sizes for the SSA frame (SDM 38.7 "State Save Area Frame"). */
#define GPRSGX_SIZE 184U
#define MISC_EXINFO_SIZE 16U
#define XSAVE_LEGACY_HEADER_SIZE (512U + 64U)

/*
 * The end of each component in the standard XSAVE format, as Intel CPUs
 * enumerate it in CPUID.(0DH, i).EBX + EAX. MODEL: the frame is sized by
 * these offsets on every host (AMD packs the AVX-512 state lower, so it
 * needs less).
 */
static const uint16_t xsave_end[10] = {
	[2] = 576 + 256,   [3] = 960 + 64,    [4] = 1024 + 64,
	[5] = 1088 + 64,   [6] = 1152 + 512,  [7] = 1664 + 1024,
	[9] = 2688 + 8,
};

static bool ssa_frame_fits(const struct sgx_secs *t)
{
	uint64_t xsave = XSAVE_LEGACY_HEADER_SIZE;
	uint64_t need = GPRSGX_SIZE;

	for (unsigned int i = 2; i < 10; i++)
		if (t->xfrm & (1ULL << i) && xsave_end[i] > xsave)
			xsave = xsave_end[i];
	if (t->miscselect & SGX_MISC_EXINFO)
		need += MISC_EXINFO_SIZE;
	return (uint64_t)t->ssa_frame_size * PAGE_SIZE >= need + xsave;
}

/* XSETBV's rules for XCR0 (SDM Vol. 1 13.3), beyond x87 and SSE. */
static bool xcr0_legal(uint64_t x)
{
	if ((x & XFRM_MPX) && (x & XFRM_MPX) != XFRM_MPX)
		return false;
	if (!(x & XFRM_AVX512))
		return true;
	return (x & XFRM_AVX512) == XFRM_AVX512 && (x & XFRM_AVX);
}

uint64_t sgx_cpu_xfrm_supported(const struct sgx_cpu *cpu)
{
	uint64_t x = cpu->cfg.xfrm_supported ? cpu->cfg.xfrm_supported :
					       ECREATE_XFRM_DEFAULT;

	return x & SGX_XFRM_ARCH;
}

/* 48-bit linear addresses: bits 63:47 are all equal. */
static bool canonical(uint64_t a)
{
	uint64_t top = a >> 47;

	return top == 0 || top == 0x1FFFF;
}

static bool template_reserved_clear(const struct sgx_secs *t)
{
	return all_zero(t->reserved1, sizeof(t->reserved1)) &&
	       all_zero(t->reserved2, sizeof(t->reserved2)) &&
	       all_zero(t->reserved3, sizeof(t->reserved3)) &&
	       all_zero(t->reserved4, sizeof(t->reserved4));
}

/* C8..C19: the SECS template itself. */
static int check_template(struct sgx_lp *lp, const struct sgx_secs *t)
{
	/* C8: x87 and SSE state are always saved. */
	if ((t->xfrm & ECREATE_XFRM_LEGACY) != ECREATE_XFRM_LEGACY)
		return sgx_gp(lp);
	/* C9: no XSAVE feature beyond what the CPU supports, as XCR0 could. */
	if (t->xfrm & ~sgx_cpu_xfrm_supported(lp->cpu) || !xcr0_legal(t->xfrm))
		return sgx_gp(lp);
	/* C10: no MISCSELECT feature beyond what the CPU supports. */
	if (t->miscselect & ~ECREATE_MISC_SUPPORTED)
		return sgx_gp(lp);
	/* C11: an SSA frame must hold the state an AEX saves. */
	if (!ssa_frame_fits(t))
		return sgx_gp(lp);
	/* C12: only 64-bit enclaves. */
	if (!(t->attributes & SGX_ATTR_MODE64BIT))
		return sgx_gp(lp);
	/* C13: the base must be a canonical address. */
	if (!canonical(t->base))
		return sgx_gp(lp);
	/* C14: below the CPU's maximum enclave size. */
	if (t->size >= ECREATE_MAX_SIZE_64)
		return sgx_gp(lp);
	/*
	 * C15: a power of two of at least two pages. UNCERTAIN: the SDM says
	 * 8 KiB; Linux's selftest loader would round a one-page enclave to
	 * 4 KiB, which hardware then rejects. We follow the SDM.
	 */
	if (t->size < ECREATE_MIN_SIZE || !is_pow2(t->size))
		return sgx_gp(lp);
	/* C16: ELRANGE is naturally aligned. */
	if (!is_aligned(t->base, t->size))
		return sgx_gp(lp);
	/*
	 * C17: only supported attributes. UNCERTAIN: the SDM clears INIT
	 * ("Clear DS:TMP_SECS to Uninitialized"); we treat INIT as a bit
	 * software may not set, so a template claiming INIT is refused.
	 */
	if ((t->attributes & SGX_ATTR_RESERVED_MASK) ||
	    (t->attributes & SGX_ATTR_INIT))
		return sgx_gp(lp);
	/* C18: reserved fields, which also hide the CPU's private state. */
	if (!template_reserved_clear(t))
		return sgx_gp(lp);
	/* C19: CONFIGID and CONFIGSVN belong to KSS enclaves. */
	if (!(t->attributes & SGX_ATTR_KSS) &&
	    (!all_zero(t->config_id, sizeof(t->config_id)) || t->config_svn))
		return sgx_gp(lp);
	return 0;
}

/* E4: the first MRENCLAVE record. */
static void measure_ecreate(struct secs_hidden *h, const struct sgx_secs *s)
{
	uint8_t rec[64] = { 0 };
	uint64_t tag = 0x0045544145524345ULL; /* "ECREATE" */

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &s->ssa_frame_size, 4);
	memcpy(rec + 12, &s->size, 8);
	measure_start(h);
	measure_update(h, rec);
}

static void ecreate_commit(struct sgx_cpu *cpu, const struct sgx_secs *t,
			   uint64_t idx)
{
	struct sgx_secs *secs = secs_at(cpu, idx);
	struct secs_hidden *h = secs_hidden_at(cpu, idx);

	memcpy(secs, t, sizeof(*secs)); /* E1 */
	memset(secs->mrenclave, 0, sizeof(secs->mrenclave));
	memset(secs->mrsigner, 0, sizeof(secs->mrsigner));
	secs->isv_prod_id = 0;
	secs->isv_svn = 0;
	memset(h, 0, sizeof(*h)); /* E2 */
	h->eid = cpu->next_eid++; /* E3 */
	measure_ecreate(h, secs); /* E4 */
	*epcm_at(cpu, idx) = (struct epcm_entry){ /* E5 */
		.valid = 1,
		.pt = PT_SECS,
		.enclave_secs = (uint32_t)idx,
	};
	epc_mark_written(cpu, idx);
}

static int ecreate(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
		   uint64_t epc)
{
	struct sgx_cpu *cpu = lp->cpu;
	const struct sgx_secinfo *secinfo;
	const struct sgx_secs *tmpl;
	uint64_t idx;
	int ret;

	/* C1: PAGEINFO alignment. */
	if (!is_aligned((uintptr_t)pageinfo, 32))
		return sgx_gp(lp);
	/* C2: the target is a page. */
	if (!is_aligned(epc, PAGE_SIZE))
		return sgx_gp(lp);
	/* C3: in the EPC. */
	if (!epc_lookup(cpu, epc, &idx))
		return sgx_pf_epcm(lp, epc);
	tmpl = (const struct sgx_secs *)(uintptr_t)pageinfo->srcpge;
	secinfo = (const struct sgx_secinfo *)(uintptr_t)pageinfo->secinfo;
	/* C4: source page and SECINFO alignment. */
	if (!is_aligned(pageinfo->srcpge, PAGE_SIZE) ||
	    !is_aligned(pageinfo->secinfo, 64))
		return sgx_gp(lp);
	/* C5: the PAGEINFO fields ECREATE does not use must be 0. */
	if (pageinfo->linaddr || pageinfo->secs)
		return sgx_gp(lp);
	/* C6: SECINFO describes a SECS and nothing else. */
	if (!secinfo_reserved_clear(secinfo, ~SGX_SECINFO_PAGE_TYPE_MASK) ||
	    (secinfo->flags & SGX_SECINFO_PAGE_TYPE_MASK) !=
		    SGX_SECINFO_TYPE(PT_SECS))
		return sgx_gp(lp);
	/* C7: the target page must be free. */
	if (epcm_at(cpu, idx)->valid)
		return sgx_pf_epcm(lp, epc);
	ret = check_template(lp, tmpl);
	if (ret)
		return ret;

	ecreate_commit(cpu, tmpl, idx);
	return 0;
}

/**
 * encls_ecreate() - ENCLS[ECREATE]: make @epc the SECS of a new enclave.
 * @pageinfo: LINADDR and SECS 0, SRCPGE the SECS template, SECINFO PT_SECS.
 *
 * Return: 0, or a #GP/#PF fault.
 */
int encls_ecreate(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
		  uint64_t epc)
{
	int ret = sgx_leaf_begin(lp, SGX_LEAF_ENCLS, ECREATE);

	return sgx_leaf_end(lp, SGX_LEAF_ENCLS, ECREATE,
			    ret ? ret : ecreate(lp, pageinfo, epc));
}
