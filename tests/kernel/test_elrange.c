// SPDX-License-Identifier: MIT
/*
 * Large ELRANGE (issue 12, item 7): a 1 TiB enclave, as EDMM runtimes
 * reserve, costs the driver model memory for the pages it commits, never
 * for ELRANGE. The page array and the backing store are sparse xarrays
 * (compat/xarray.h); sgx_encl_mem_bytes() counts what they hold.
 *
 * Also the xarray itself: Linux's semantics of xa_insert, xa_load,
 * xa_erase and xa_for_each_range over indices far apart.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel/encl.h"
#include "kfixture.h"

#define TIB (1ULL << 40)
#define RW (SGX_PROT_READ | SGX_PROT_WRITE)
#define WRITE_FAULT (X86_PF_USER | X86_PF_WRITE)
#define EAUG_ACCEPT                                                        \
	(SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_TYPE(PT_REG) |       \
	 SGX_SECINFO_PENDING)
#define ACCEPT_TRIM (SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED)
#define LOOPS_MAX 1000
/* Nodes on the path to one page: indices below 2^36 need at most 6. */
#define PATH_NODES 6
#define PER_PAGE (sizeof(struct sgx_encl_page) + \
		  PATH_NODES * sizeof(struct xa_node))
#define PER_BACKING (sizeof(struct sgx_backing_page) + \
		     PATH_NODES * sizeof(struct xa_node))

static struct kfx fx;

/* Pages spread over the whole TiB, both ends included. */
static const uint64_t offs[] = {
	0x10000, 1ULL << 30, 0x3456789000ULL, 1ULL << 39, TIB - PAGE_SIZE,
};
#define NR_OFFS (sizeof(offs) / sizeof(offs[0]))

static void evict_all(void)
{
	unsigned int loops = 0;

	while (!list_empty(&fx.drv.active_page_list)) {
		cr_assert_lt(loops++, LOOPS_MAX);
		sgx_reclaim_pages(&fx.drv);
	}
}

static uint8_t *epc_bytes(uint64_t off)
{
	return (uint8_t *)(uintptr_t)sgx_epc_addr(&fx.cpu,
						  kfx_epc_index(&fx, off));
}

static uint64_t backing_index(uint64_t off)
{
	return off >> PAGE_SHIFT;
}

/* The selftest enclave in a 1 TiB ELRANGE, the rest of it mapped RW. */
static uint64_t build_tib(void)
{
	kfx_init(&fx, NULL);
	fx.base = TIB;
	fx.size = TIB;
	kfx_build(&fx);
	cr_assert_eq(kfx_map(&fx, fx.mm, offs[0], TIB - offs[0], RW), 0);
	return fx.encl->page_array.nr_entries;
}

/* EAUG each page by a write fault and fill its EPC page with a pattern. */
static void eaug_all(void)
{
	for (unsigned int i = 0; i < NR_OFFS; i++) {
		cr_assert_eq(sgx_user_fault(fx.mm, fx.base + offs[i],
					    WRITE_FAULT),
			     SGX_FAULT_FIXED, "EAUG at %#llx",
			     (unsigned long long)offs[i]);
		memset(epc_bytes(offs[i]), 0xA0 + i, PAGE_SIZE);
	}
}

/* Back in by the enclave's own EACCEPTs (#PF, ELDU), contents intact. */
static void accept_and_check_all(void)
{
	struct kfx_fault f;

	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	for (unsigned int i = 0; i < NR_OFFS; i++) {
		uint8_t buf[64], want[64];

		cr_assert_eq(kfx_eaccept(&fx, 0, offs[i], EAUG_ACCEPT, &f), 0);
		cr_assert_not(f.raised);
		cr_assert_eq(kfx_read(&fx, 0, offs[i] + 0x100, buf, sizeof(buf),
				     &f), 0);
		memset(want, 0xA0 + i, sizeof(want));
		cr_assert_arr_eq(buf, want, sizeof(buf), "page %u's contents",
				 i);
		cr_assert_null(xa_load(&fx.encl->backing,
				       backing_index(offs[i])),
			       "page %u's backing kept after ELDU", i);
	}
	kfx_exit(&fx, 0);
}

/* Trim, accept and remove each page, as an EDMM runtime's munmap does. */
static void remove_all(void)
{
	uint64_t count;

	for (unsigned int i = 0; i < NR_OFFS; i++)
		cr_assert_eq(kfx_modify_types(&fx, offs[i], PAGE_SIZE, PT_TRIM,
					      &count, NULL), 0);
	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	for (unsigned int i = 0; i < NR_OFFS; i++)
		cr_assert_eq(kfx_eaccept(&fx, 0, offs[i], ACCEPT_TRIM, NULL),
			     0);
	kfx_exit(&fx, 0);
	for (unsigned int i = 0; i < NR_OFFS; i++) {
		cr_assert_eq(kfx_remove(&fx, offs[i], PAGE_SIZE, &count), 0);
		cr_assert_eq(count, PAGE_SIZE);
		cr_assert_null(kfx_page(&fx, offs[i]));
	}
}

Test(elrange, a_tib_enclave_costs_what_it_commits)
{
	uint64_t built = build_tib();
	uint64_t nodes0 = fx.encl->page_array.nr_nodes;
	uint64_t bytes0 = sgx_encl_mem_bytes(fx.encl), bytes1, bytes2;

	/* The built pages only: a flat array would be 2 GiB here. */
	cr_assert_leq(bytes0, built * PER_PAGE);
	cr_assert_eq(fx.encl->backing.nr_entries, 0);

	eaug_all();
	cr_assert_eq(fx.encl->stats.eaug, NR_OFFS);
	cr_assert_eq(fx.encl->page_array.nr_entries, built + NR_OFFS);
	bytes1 = sgx_encl_mem_bytes(fx.encl);
	cr_assert_leq(bytes1 - bytes0, NR_OFFS * PER_PAGE);

	/* Everything out, SECS last: one backing page each, no more. */
	evict_all();
	for (unsigned int i = 0; i < NR_OFFS; i++)
		cr_assert_null(kfx_page(&fx, offs[i])->epc_page);
	cr_assert_null(fx.encl->secs.epc_page);
	cr_assert_eq(fx.encl->backing.nr_entries, built + NR_OFFS + 1);
	bytes2 = sgx_encl_mem_bytes(fx.encl);
	cr_assert_geq(bytes2 - bytes1,
		      (built + NR_OFFS + 1) * sizeof(struct sgx_backing_page));
	cr_assert_leq(bytes2 - bytes1, (built + NR_OFFS + 1) * PER_BACKING);

	accept_and_check_all();
	cr_assert_lt(sgx_encl_mem_bytes(fx.encl), bytes2);

	remove_all();
	cr_assert_eq(fx.encl->page_array.nr_entries, built);
	cr_assert_eq(fx.encl->page_array.nr_nodes, nodes0,
		     "the removed pages' nodes are freed");
	for (unsigned int i = 0; i < NR_OFFS; i++)
		cr_assert_null(xa_load(&fx.encl->backing,
				       backing_index(offs[i])));
	cr_assert_leq(sgx_encl_mem_bytes(fx.encl),
		      bytes0 + (built + 1) * PER_BACKING);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/* An ELRANGE at the CPU's limit is refused, as ECREATE refuses it. */
Test(elrange, create_refuses_max_enclave_size)
{
	kfx_init(&fx, NULL);
	fx.base = 0;
	fx.size = 1ULL << SGX_MAX_ENCLAVE_SIZE_64_LOG2;
	cr_assert_eq(kfx_create(&fx), -EIO);
	fx.base = fx.size >> 1;
	fx.size >>= 1;
	cr_assert_eq(kfx_create(&fx), 0);
	cr_assert_eq(sgx_encl_mem_bytes(fx.encl), 0);
	kfx_fini(&fx);
}

/* Linux's xarray semantics, over indices from 0 to ULONG_MAX. */
Test(xarray, insert_load_erase_find_across_the_index_space)
{
	static const unsigned long idx[] = {
		0, 1, 63, 64, 4095, 1UL << 28, (1UL << 40) + 5,
		ULONG_MAX - 1, ULONG_MAX,
	};
	int entries[sizeof(idx) / sizeof(idx[0])];
	const size_t n = sizeof(idx) / sizeof(idx[0]);
	struct xarray xa;
	unsigned long index;
	size_t seen = 0;
	void *entry;

	xa_init(&xa);
	cr_assert(xa_empty(&xa));
	for (size_t i = n; i--;)
		cr_assert_eq(xa_insert(&xa, idx[i], &entries[i], GFP_KERNEL),
			     0);
	cr_assert_eq(xa_insert(&xa, 64, &entries[0], GFP_KERNEL), -EBUSY);
	cr_assert_eq(xa.nr_entries, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(xa_load(&xa, idx[i]), &entries[i]);
	cr_assert_null(xa_load(&xa, 2));
	cr_assert_null(xa_load(&xa, 1UL << 40));
	xa_for_each(&xa, index, entry) {
		cr_assert_eq(index, idx[seen]);
		cr_assert_eq(entry, &entries[seen]);
		seen++;
	}
	cr_assert_eq(seen, n);
	seen = 0;
	xa_for_each_range(&xa, index, entry, 64, 1UL << 28)
		seen++;
	cr_assert_eq(seen, 3, "64, 4095 and 2^28");
	cr_assert_null(xa_erase(&xa, 2));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(xa_erase(&xa, idx[i]), &entries[i]);
	cr_assert(xa_empty(&xa));
	cr_assert_eq(xa.nr_nodes, 0, "every node freed with its entries");
	cr_assert_eq(xa.nr_entries, 0);
}

/* Erasing the high entries shrinks the tree back to what the rest needs. */
Test(xarray, erase_frees_the_path)
{
	struct xarray xa;
	int a, b;

	xa_init(&xa);
	cr_assert_eq(xa_insert(&xa, 7, &a, GFP_KERNEL), 0);
	cr_assert_eq(xa.nr_nodes, 1);
	cr_assert_eq(xa_insert(&xa, 1UL << 35, &b, GFP_KERNEL), 0);
	cr_assert_eq(xa.nr_nodes, 11, "two paths of six levels share a head");
	cr_assert_eq(xa_erase(&xa, 1UL << 35), &b);
	cr_assert_eq(xa.nr_nodes, 1);
	cr_assert_eq(xa_load(&xa, 7), &a);
	xa_destroy(&xa);
	cr_assert_eq(xa.nr_nodes, 0);
}
