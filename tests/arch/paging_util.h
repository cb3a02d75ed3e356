/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for the paging leaves (EPA, EBLOCK, EWB, ELDB/ELDU, EREMOVE,
 * ETRACK): EPCM lookups by EPC address, the pages of the standard enclave,
 * VA pages, and the host-side backing store of an evicted page, kept the way
 * Linux's reclaimer keeps it (sealed contents, PCMD, the VA slot, and the
 * linear address EWB returned).
 */
#ifndef SGXEMU_TESTS_PAGING_UTIL_H
#define SGXEMU_TESTS_PAGING_UTIL_H

#include <criterion/criterion.h>
#include <string.h>

#include "arch/internal.h"
#include "fixture.h"

static inline uint64_t epc_idx(const struct fx *fx, uint64_t epc)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx->cpu, epc, &idx), "%#lx not in the EPC",
		  (unsigned long)epc);
	return idx;
}

static inline const struct epcm_entry *epcm_of(const struct fx *fx,
					       uint64_t epc)
{
	return sgx_epcm(&fx->cpu, epc_idx(fx, epc));
}

static inline uint64_t secs_idx(const struct fx *fx)
{
	return epc_idx(fx, fx->secs);
}

static inline uint32_t child_count(const struct fx *fx)
{
	return sgx_secs_child_count(&fx->cpu, secs_idx(fx));
}

/*
 * The linear addresses of every page fx_build(fx, nr_data) added (layout in
 * fixture.h): LP 0's TCS and SSA frames, the scratch page, the data pages,
 * and the thread of each other LP. Returns how many it wrote to lins.
 */
#define MAX_CHILDREN 64
static inline unsigned int enclave_children(const struct fx *fx,
					    unsigned int nr_data,
					    uint64_t lins[MAX_CHILDREN])
{
	unsigned int n = 0;

	cr_assert_leq(fx->cpu.cfg.nr_lps * (1 + FX_NSSA) + 1 + nr_data,
		      MAX_CHILDREN);
	for (unsigned int lp = 0; lp < fx->cpu.cfg.nr_lps; lp++) {
		uint64_t tcs = fx_tcs_of(fx, &fx->cpu.lps[lp]);

		for (unsigned int i = 0; i <= FX_NSSA; i++)
			lins[n++] = tcs + i * PAGE_SIZE;
	}
	lins[n++] = fx->base + FX_SCRATCH_OFF;
	for (unsigned int i = 0; i < nr_data; i++)
		lins[n++] = fx_data(fx, i);
	return n;
}

/* A fresh VA page; returns its EPC address. */
static inline uint64_t va_page(struct fx *fx)
{
	uint64_t va = fx_alloc_epc(fx);

	cr_assert_eq(encls_epa(fx->lp, PT_VA, va), 0);
	return va;
}

static inline uint64_t va_slot_value(uint64_t slot)
{
	return *(const uint64_t *)(uintptr_t)slot;
}

/* The backing store of one evicted page. */
struct backing {
	uint8_t contents[4096] __attribute__((aligned(4096)));
	struct sgx_pcmd pcmd;
	uint64_t slot;	  /* EPC address of the VA slot holding its version */
	uint64_t linaddr; /* PAGEINFO.LINADDR as EWB returned it */
};

/* EWB epc into b, its version into slot. Returns the leaf's result. */
static inline int backing_ewb(struct fx *fx, uint64_t epc, uint64_t slot,
			      struct backing *b)
{
	struct sgx_pageinfo pi = {
	    .srcpge = (uint64_t)(uintptr_t)b->contents,
	    .secinfo = (uint64_t)(uintptr_t)&b->pcmd,
	};
	int ret = encls_ewb(fx->lp, &pi, epc, slot);

	b->slot = slot;
	b->linaddr = pi.linaddr;
	return ret;
}

/* The PAGEINFO ELDB/ELDU take to load b back, owned by secs. */
static inline struct sgx_pageinfo backing_pageinfo(struct backing *b,
						   uint64_t secs)
{
	return (struct sgx_pageinfo){
	    .linaddr = b->linaddr,
	    .srcpge = (uint64_t)(uintptr_t)b->contents,
	    .secinfo = (uint64_t)(uintptr_t)&b->pcmd,
	    .secs = secs,
	};
}

static inline int backing_eldu(struct fx *fx, struct backing *b, uint64_t secs,
			       uint64_t epc)
{
	struct sgx_pageinfo pi = backing_pageinfo(b, secs);

	return encls_eldu(fx->lp, &pi, epc, b->slot);
}

static inline int backing_eldb(struct fx *fx, struct backing *b, uint64_t secs,
			       uint64_t epc)
{
	struct sgx_pageinfo pi = backing_pageinfo(b, secs);

	return encls_eldb(fx->lp, &pi, epc, b->slot);
}

/*
 * The reclaimer's sequence for the enclave page at lin: EBLOCK, ETRACK,
 * EWB; asserts success. Returns the EPC page it freed.
 */
static inline uint64_t evict(struct fx *fx, uint64_t lin, uint64_t slot,
			     struct backing *b)
{
	uint64_t epc = fx_epc_of(fx, lin);

	cr_assert_eq(encls_eblock(fx->lp, epc), 0);
	cr_assert_eq(fx_etrack(fx), 0);
	cr_assert_eq(backing_ewb(fx, epc, slot, b), 0);
	return epc;
}

#endif
