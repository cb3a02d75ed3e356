// SPDX-License-Identifier: MIT
/*
 * Page tables: map, replace, unmap, lookup and the range walk, checked
 * against a plain array model over many random operations, on pages spread
 * so that every level of the tree gets several tables.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "arch/pgtable.h"
#include "base/bits.h"

Test(pgtable, map_lookup_unmap)
{
	struct sgx_pgtable pt;

	cr_assert_eq(sgx_pgtable_init(&pt), 0);
	cr_assert_null(sgx_pgtable_lookup(&pt, 0x1000));
	cr_assert_eq(sgx_pgtable_map(&pt, 0x1234, 0x9000, SGX_PTE_PRESENT), 0);
	struct sgx_pte *pte = sgx_pgtable_lookup(&pt, 0x1fff);

	cr_assert_not_null(pte);
	cr_assert_eq(pte->frame, 0x9000);
	cr_assert_eq(pte->flags, SGX_PTE_PRESENT);
	cr_assert_null(sgx_pgtable_lookup(&pt, 0x2000));
	/* Mapping again replaces; it does not add a second entry. */
	cr_assert_eq(sgx_pgtable_map(&pt, 0x1000, 0xa000, SGX_PTE_WRITE), 0);
	cr_assert_eq(pt.nr_used, 1);
	cr_assert_eq(sgx_pgtable_lookup(&pt, 0x1000)->frame, 0xa000);
	cr_assert(sgx_pgtable_unmap(&pt, 0x1000));
	cr_assert_not(sgx_pgtable_unmap(&pt, 0x1000));
	cr_assert_null(sgx_pgtable_lookup(&pt, 0x1000));
	cr_assert_eq(pt.nr_used, 0);
	sgx_pgtable_destroy(&pt);
}

#define MODEL_PAGES 4096

/* Model page p: clusters of 8 pages, 2^k apart, so tables at every level. */
static uint64_t model_lin(uint64_t p)
{
	return ((p & 7) | (p >> 3) << 15) << PAGE_SHIFT;
}

Test(pgtable, random_operations_match_array_model)
{
	static uint64_t model[MODEL_PAGES]; /* frame + 1, 0 = unmapped */
	struct sgx_pgtable pt;
	unsigned int seed = 12345;

	cr_assert_eq(sgx_pgtable_init(&pt), 0);
	for (int op = 0; op < 200000; op++) {
		uint64_t page = (uint64_t)rand_r(&seed) % MODEL_PAGES;
		uint64_t lin = model_lin(page);

		if (rand_r(&seed) % 3) {
			uint64_t frame = (uint64_t)(op + 1) << PAGE_SHIFT;

			cr_assert_eq(sgx_pgtable_map(&pt, lin, frame, 1), 0);
			model[page] = frame + 1;
		} else {
			cr_assert_eq(sgx_pgtable_unmap(&pt, lin),
				     model[page] != 0);
			model[page] = 0;
		}
	}
	uint64_t used = 0;

	for (uint64_t p = 0; p < MODEL_PAGES; p++) {
		struct sgx_pte *pte = sgx_pgtable_lookup(&pt, model_lin(p));

		used += model[p] != 0;
		if (!model[p]) {
			cr_assert_null(pte, "page %lu", (unsigned long)p);
			continue;
		}
		cr_assert_not_null(pte, "page %lu", (unsigned long)p);
		cr_assert_eq(pte->frame, model[p] - 1);
	}
	cr_assert_eq(pt.nr_used, used);
	/* The walk visits exactly the mapped pages, in order. */
	uint64_t seen = 0, lin = 0, end = model_lin(MODEL_PAGES);

	for (struct sgx_pte *e; (e = sgx_pgtable_next(&pt, lin, end));) {
		uint64_t p = (e->vpn & 7) | (e->vpn >> 15) << 3;
		cr_assert(model[p], "page %lu", (unsigned long)p);
		cr_assert_geq(e->vpn << PAGE_SHIFT, lin);
		lin = (e->vpn + 1) << PAGE_SHIFT;
		seen++;
	}
	cr_assert_eq(seen, used);
	sgx_pgtable_destroy(&pt);
}

Test(pgtable, next_walks_a_range_and_skips_empty_tables)
{
	struct sgx_pgtable pt;
	const uint64_t far = 1ULL << 46; /* another top-level table */

	cr_assert_eq(sgx_pgtable_init(&pt), 0);
	cr_assert_null(sgx_pgtable_next(&pt, 0, far * 2));
	cr_assert_eq(sgx_pgtable_map(&pt, 0x5000, 0x1000, 1), 0);
	cr_assert_eq(sgx_pgtable_map(&pt, far, 0x2000, 1), 0);
	cr_assert_eq(sgx_pgtable_next(&pt, 0, far * 2)->frame, 0x1000);
	cr_assert_eq(sgx_pgtable_next(&pt, 0x6000, far * 2)->frame, 0x2000);
	cr_assert_null(sgx_pgtable_next(&pt, 0x6000, far), "end excluded");
	cr_assert_eq(sgx_pgtable_next(&pt, 0x5fff, 0x5001)->frame, 0x1000,
		     "partial pages at both ends count");
	cr_assert_null(sgx_pgtable_next(&pt, 0, 0x5000));
	cr_assert(sgx_pgtable_unmap(&pt, 0x5000));
	cr_assert_eq(sgx_pgtable_next(&pt, 0, far * 2)->frame, 0x2000);
	sgx_pgtable_destroy(&pt);
}

Test(pgtable, addresses_beyond_48_bits_are_refused)
{
	struct sgx_pgtable pt;

	cr_assert_eq(sgx_pgtable_init(&pt), 0);
	cr_assert_eq(sgx_pgtable_map(&pt, 1ULL << 48, 0x1000, 1), -EINVAL);
	cr_assert_null(sgx_pgtable_lookup(&pt, 1ULL << 48));
	cr_assert_null(sgx_pgtable_lookup(&pt, 0xffff800000000000ULL));
	cr_assert_not(sgx_pgtable_unmap(&pt, 1ULL << 48));
	cr_assert_eq(pt.nr_used, 0);
	sgx_pgtable_destroy(&pt);
}
