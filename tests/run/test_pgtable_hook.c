// SPDX-License-Identifier: MIT
/*
 * The page table's change hook, which the runner uses to keep its host
 * mappings no wider than the PTEs: every install, replacement, protection
 * change and removal is told once, with the page's address; lookups and
 * growth of the table are not.
 */
#include <criterion/criterion.h>

#include "arch/pgtable.h"
#include "base/bits.h"

#define LOG_MAX 4096

struct log {
	unsigned int n;
	uint64_t lin[LOG_MAX];
};

static void record(void *ctx, uint64_t lin)
{
	struct log *log = ctx;

	cr_assert_lt(log->n, LOG_MAX);
	log->lin[log->n++] = lin;
}

Test(pgtable_hook, every_change_is_told_once)
{
	static struct log log;
	struct sgx_pgtable pt;

	cr_assert_eq(sgx_pgtable_init(&pt), 0);
	cr_assert_null(pt.changed);
	pt.changed = record;
	pt.changed_ctx = &log;
	cr_assert_eq(sgx_pgtable_map(&pt, 0x5123, 0x9000, SGX_PTE_PRESENT), 0);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.lin[0], 0x5000, "the page, not the byte");
	sgx_pgtable_protect(&pt, sgx_pgtable_lookup(&pt, 0x5000),
			    SGX_PTE_PRESENT | SGX_PTE_WRITE);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.lin[1], 0x5000);
	cr_assert_eq(sgx_pgtable_lookup(&pt, 0x5000)->flags,
		     SGX_PTE_PRESENT | SGX_PTE_WRITE);
	cr_assert_not_null(sgx_pgtable_lookup(&pt, 0x5000));
	cr_assert_eq(log.n, 2, "a lookup changes nothing");
	cr_assert(sgx_pgtable_unmap(&pt, 0x5fff));
	cr_assert_eq(log.n, 3);
	cr_assert_eq(log.lin[2], 0x5000);
	cr_assert_not(sgx_pgtable_unmap(&pt, 0x5000));
	cr_assert_eq(log.n, 3, "removing nothing tells nothing");
	sgx_pgtable_destroy(&pt);
}

Test(pgtable_hook, new_tables_keep_the_hook_and_tell_nothing)
{
	static struct log log;
	struct sgx_pgtable pt;

	cr_assert_eq(sgx_pgtable_init(&pt), 0);
	pt.changed = record;
	pt.changed_ctx = &log;
	/* Enough pages, far enough apart, to need several new tables. */
	for (uint64_t i = 0; i < 1000; i++)
		cr_assert_eq(sgx_pgtable_map(&pt, i << (PAGE_SHIFT + 9),
					     0x1000, 1),
			     0);
	cr_assert_eq(log.n, 1000, "one per install, none for new tables");
	cr_assert_eq(pt.changed, record);
	cr_assert_eq(pt.changed_ctx, &log);
	for (uint64_t i = 0; i < 1000; i++)
		cr_assert_eq(log.lin[i], i << (PAGE_SHIFT + 9));
	sgx_pgtable_destroy(&pt);
}
