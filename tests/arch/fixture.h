/* SPDX-License-Identifier: MIT */
/*
 * Test fixture for the arch layer: a small CPU with invariant checks after
 * every leaf, one address space, a trivial EPC allocator, and helpers that
 * build an enclave the way a loader would (ECREATE, EADD, EEXTEND, EINIT
 * with a SIGSTRUCT signed by tests/data/sign_key.pem) and map it.
 *
 * The helpers assert through Criterion, so a test can stay focused on the
 * one check it is about.
 *
 * Standard enclave (fx_build): ELRANGE [FX_BASE, FX_BASE + size)
 *   +0x0000 TCS      (OSSA = 0x1000, NSSA = 2, OENTRY = 0x4000)
 *   +0x1000 SSA[0], +0x2000 SSA[1]   REG RW
 *   +0x3000 scratch  REG RW (SECINFOs and other ENCLU operands)
 *   +0x4000 data page 0 .. data page n-1   REG RW (or as requested)
 *   then holes, for EAUG;
 *   and for each LP i >= 1, at the top of ELRANGE, its own thread:
 *   size - i * 0x4000: TCS, then its two SSA frames (fx_tcs_of()).
 * Every page is measured. The child count of the SECS is therefore
 * 4 + nr_data_pages + 3 * (nr_lps - 1).
 * ELRANGE is at least 1 MiB, and twice what the pages above need.
 */
#ifndef SGXEMU_TESTS_FIXTURE_H
#define SGXEMU_TESTS_FIXTURE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"

#define FX_BASE 0x40000000ULL
#define FX_TCS_OFF 0x0000ULL
#define FX_SSA_OFF 0x1000ULL
#define FX_SCRATCH_OFF 0x3000ULL
#define FX_DATA_OFF 0x4000ULL
#define FX_NSSA 2
#define FX_AEP 0x7000DEAD000ULL /* an outside address: where AEX lands */
#define FX_THREAD_SPAN 0x4000ULL /* per-LP TCS + SSA block, from the top */

struct fx {
	struct sgx_cpu cpu;
	struct sgx_lp *lp; /* LP 0, used for ENCLS */
	struct sgx_pgtable pt; /* the address space every LP runs in */
	uint8_t *epc_used; /* EPC allocator: 1 = handed out */
	uint64_t base, size; /* ELRANGE of the enclave built */
	uint64_t secs; /* EPC address of its SECS */
	uint64_t attributes, xfrm; /* what ECREATE was given */
	uint32_t miscselect; /* set before fx_ecreate/fx_build; 0 by default */
	EVP_MD_CTX *mr; /* the fixture's own MRENCLAVE computation */
};

/* A CPU of epc_pages pages and nr_lps LPs, invariants checked per leaf. */
void fx_init(struct fx *fx, uint64_t epc_pages, unsigned int nr_lps);
void fx_fini(struct fx *fx);

/* Hand out / take back an EPC page (its EPC address). */
uint64_t fx_alloc_epc(struct fx *fx);
void fx_free_epc(struct fx *fx, uint64_t epc);

/*
 * ECREATE with MODE64BIT, XFRM 3, SSAFRAMESIZE 1 and fx->miscselect;
 * asserts success. The fixture then works on this enclave (fx->secs, base,
 * size) and restarts its own measurement.
 */
uint64_t fx_ecreate(struct fx *fx, uint64_t base, uint64_t size);
/*
 * EADD one page at lin (src may be NULL for zeros), EEXTEND all of it when
 * measure is set, and map it with PTE rights taken from the SECINFO (TCS
 * pages are mapped RW, as Linux does). Returns the EPC address.
 */
uint64_t fx_eadd(struct fx *fx, uint64_t lin, uint64_t secinfo_flags,
		 const void *src, bool measure);
/* The MRENCLAVE the enclave has so far, computed independently in software
 * from the records the fixture fed to the CPU. */
void fx_expected_mrenclave(const struct fx *fx, uint8_t out[32]);
/*
 * Sign a SIGSTRUCT for mrenclave with the test key (sgx_sign_sigstruct():
 * ATTRIBUTES and XFRM pinned exactly, MISCSELECT free). sig must be 4 KiB
 * aligned for EINIT to accept it.
 */
void fx_sign(struct sgx_sigstruct *sig, const uint8_t mrenclave[32],
	     uint64_t attributes, uint64_t xfrm);
/* Re-sign sig with the test key after a test edited its header or body. */
void fx_resign(struct sgx_sigstruct *sig);
/*
 * Sign for the measurement the fixture computed itself (so the CPU's must
 * agree) and EINIT with a zeroed EINITTOKEN; asserts success.
 */
void fx_einit(struct fx *fx);

/* The standard enclave above with n data pages REG|RW, initialized. */
void fx_build(struct fx *fx, unsigned int nr_data_pages);
/* Same, but stops before EINIT (for SGX1 leaf tests). */
void fx_build_uninit(struct fx *fx, unsigned int nr_data_pages);

static inline uint64_t fx_data(const struct fx *fx, unsigned int i)
{
	return fx->base + FX_DATA_OFF + (uint64_t)i * 4096;
}

/* The linear address of the TCS that fx_enter() uses for lp. */
static inline uint64_t fx_tcs_of(const struct fx *fx, const struct sgx_lp *lp)
{
	if (lp->id == 0)
		return fx->base + FX_TCS_OFF;
	return fx->base + fx->size - lp->id * FX_THREAD_SPAN;
}

/* EPC address behind an enclave linear address (from the page table). */
uint64_t fx_epc_of(const struct fx *fx, uint64_t lin);
/* The EPCM entry behind an enclave linear address. */
const struct epcm_entry *fx_epcm_of(const struct fx *fx, uint64_t lin);

/* EENTER/EEXIT lp through its own TCS (fx_tcs_of); assert success. */
void fx_enter(struct fx *fx, struct sgx_lp *lp);
void fx_exit(struct fx *fx, struct sgx_lp *lp);
/* An interrupt-induced AEX of lp (as an IPI would cause). */
void fx_aex(struct fx *fx, struct sgx_lp *lp);

/* EAUG a page at lin and map it RW; asserts success. Returns its EPC addr. */
uint64_t fx_eaug(struct fx *fx, uint64_t lin);
/* EMODPR / EMODT / ETRACK by the OS on lp 0; return the leaf's result. */
int fx_emodpr(struct fx *fx, uint64_t lin, uint64_t rights);
int fx_emodt(struct fx *fx, uint64_t lin, enum sgx_page_type type);
int fx_etrack(struct fx *fx);

/* The #PF error code of an ENCLS leaf's EPC operand fault (sgx_pf_epcm). */
#define FX_PF_EPCM (X86_PF_SGX | X86_PF_PROT)

/*
 * Assert that ret is a #GP, or a #PF at addr with this error code. A fault
 * raised in enclave mode has been delivered by an AEX (the CPU does that);
 * these then ERESUME the LP at once, as the AEP's handler would after
 * skipping the faulting ENCLU, so that the test goes on inside.
 */
void fx_expect_gp(struct sgx_lp *lp, int ret);
void fx_expect_pf(struct sgx_lp *lp, int ret, uint64_t addr,
		  uint32_t error_code);

/*
 * A copy of one EPC page and its EPCM entry, to prove that a failing leaf
 * changed nothing: fx_snap() before, fx_expect_same() after.
 */
struct fx_snap {
	uint64_t epc;
	struct epcm_entry epcm;
	uint8_t page[4096];
};
void fx_snap(const struct fx *fx, uint64_t epc, struct fx_snap *s);
void fx_expect_same(const struct fx *fx, const struct fx_snap *s);

/*
 * From inside the enclave on lp (which must be entered): write a SECINFO
 * with these flags to the scratch page, then EACCEPT/EMODPE lin.
 */
int fx_eaccept(struct fx *fx, struct sgx_lp *lp, uint64_t lin, uint64_t flags);
int fx_emodpe(struct fx *fx, struct sgx_lp *lp, uint64_t lin, uint64_t flags);

#endif
