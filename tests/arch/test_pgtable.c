// SPDX-License-Identifier: MIT
/*
 * Page tables: map, replace, unmap and lookup, checked against a plain
 * array model over many random operations so that growth and the
 * backward-shift deletion are exercised on colliding probe runs.
 */
#include <criterion/criterion.h>
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

Test(pgtable, random_operations_match_array_model)
{
	static uint64_t model[MODEL_PAGES]; /* frame + 1, 0 = unmapped */
	struct sgx_pgtable pt;
	unsigned int seed = 12345;

	cr_assert_eq(sgx_pgtable_init(&pt), 0);
	for (int op = 0; op < 200000; op++) {
		uint64_t page = (uint64_t)rand_r(&seed) % MODEL_PAGES;
		uint64_t lin = page << PAGE_SHIFT;

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
		struct sgx_pte *pte = sgx_pgtable_lookup(&pt, p << PAGE_SHIFT);

		used += model[p] != 0;
		if (!model[p]) {
			cr_assert_null(pte, "page %lu", (unsigned long)p);
			continue;
		}
		cr_assert_not_null(pte, "page %lu", (unsigned long)p);
		cr_assert_eq(pte->frame, model[p] - 1);
	}
	cr_assert_eq(pt.nr_used, used);
	sgx_pgtable_destroy(&pt);
}
