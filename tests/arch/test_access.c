// SPDX-License-Identifier: MIT
/*
 * The enclave-mode access path (sgx-architecture.md section 5): PTE faults
 * without the SGX bit, EPCM faults with it, TLB fills and hits, stale rights
 * honoured until a flush, the re-walk on a rights miss, and abort-page
 * semantics outside enclave mode.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, 4);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(access, .init = setup, .fini = teardown);

static int access(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc)
{
	void *host;

	return sgx_lp_access(lp, lin, acc, &host);
}

static void expect_pf(struct sgx_lp *lp, int ret, uint64_t addr, uint32_t ec)
{
	cr_assert_eq(ret, SGX_FAULT_FLAG | X86_TRAP_PF);
	cr_assert_eq(lp->exc.vector, X86_TRAP_PF);
	cr_assert_eq(lp->exc.addr, addr);
	cr_assert_eq(lp->exc.error_code, ec, "error code %#x, want %#x",
		     lp->exc.error_code, ec);
}

Test(access, fill_then_hit)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t v = 0x1122334455667788ULL, r = 0;

	fx_enter(&fx, lp);
	uint64_t fills = fx.cpu.stats.tlb_fill;

	cr_assert_eq(sgx_lp_write(lp, fx_data(&fx, 0) + 8, &v, 8), 0);
	cr_assert_eq(fx.cpu.stats.tlb_fill, fills + 1);
	cr_assert_eq(sgx_lp_read(lp, fx_data(&fx, 0) + 8, &r, 8), 0);
	cr_assert_eq(fx.cpu.stats.tlb_fill, fills + 1, "second access hits");
	cr_assert_eq(r, v);
	/* The bytes really are in the EPC page behind the address. */
	cr_assert_eq(memcmp((void *)(fx_epc_of(&fx, fx_data(&fx, 0)) + 8), &v, 8),
		     0);
	uint32_t f = sgx_pgtable_lookup(&fx.pt, fx_data(&fx, 0))->flags;

	cr_assert(f & SGX_PTE_ACCESSED);
	cr_assert(f & SGX_PTE_DIRTY);
}

Test(access, pte_not_present_is_plain_pf)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 1);

	cr_assert(sgx_pgtable_unmap(&fx.pt, lin));
	fx_enter(&fx, lp);
	expect_pf(lp, access(lp, lin + 5, SGX_ACCESS_READ), lin + 5, 0x4);
	expect_pf(lp, access(lp, lin, SGX_ACCESS_WRITE), lin, 0x6);
}

Test(access, pte_read_only_write_is_plain_pf)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 1);

	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, fx_epc_of(&fx, lin),
				     SGX_PTE_PRESENT | SGX_PTE_NX), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(access(lp, lin, SGX_ACCESS_READ), 0);
	expect_pf(lp, access(lp, lin, SGX_ACCESS_WRITE), lin, 0x7);
	expect_pf(lp, access(lp, lin, SGX_ACCESS_EXEC), lin, 0x15);
}

Test(access, epcm_denial_has_sgx_bit)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t tcs = fx.base + FX_TCS_OFF;
	uint64_t data = fx_data(&fx, 2);

	/* PTE allows everything; the EPCM page is RW only. */
	cr_assert_eq(sgx_pgtable_map(&fx.pt, data, fx_epc_of(&fx, data),
				     SGX_PTE_PRESENT | SGX_PTE_WRITE), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(access(lp, data, SGX_ACCESS_WRITE), 0);
	expect_pf(lp, access(lp, data, SGX_ACCESS_EXEC), data, 0x8015);
	/* A TCS is not a REG page: no data access at all. */
	expect_pf(lp, access(lp, tcs, SGX_ACCESS_READ), tcs, 0x8005);
	expect_pf(lp, access(lp, tcs, SGX_ACCESS_WRITE), tcs, 0x8007);
}

Test(access, stale_rights_until_flush)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0);

	fx_enter(&fx, lp);
	cr_assert_eq(access(lp, lin, SGX_ACCESS_WRITE), 0);
	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	/* EMODPR does not reach into this LP's TLB. */
	cr_assert_eq(access(lp, lin, SGX_ACCESS_WRITE), 0);
	sgx_tlb_flush(lp);
	expect_pf(lp, access(lp, lin, SGX_ACCESS_WRITE), lin, 0x8007);
	cr_assert_eq(access(lp, lin, SGX_ACCESS_READ), 0);
}

Test(access, rights_miss_rewalks_once)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 3);
	uint64_t epc = fx_epc_of(&fx, lin);

	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, epc,
				     SGX_PTE_PRESENT | SGX_PTE_NX), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(access(lp, lin, SGX_ACCESS_READ), 0);
	/* The OS widens the PTE (mprotect); the cached R-only entry is
	 * dropped on the rights miss and the re-walk sees W. */
	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, epc,
				     SGX_PTE_PRESENT | SGX_PTE_WRITE |
					     SGX_PTE_NX), 0);
	cr_assert_eq(access(lp, lin, SGX_ACCESS_WRITE), 0);
}

Test(access, outside_enclave_mode_is_abort_page)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0);
	uint8_t *page = (uint8_t *)fx_epc_of(&fx, lin);
	uint64_t v = 0, ones = ~0ULL;

	page[0] = 0x5A;
	cr_assert_eq(sgx_lp_read(lp, lin, &v, 8), 0);
	cr_assert_eq(v, ones);
	cr_assert_eq(sgx_lp_write(lp, lin, &v, 8), 0);
	cr_assert_eq(page[0], 0x5A, "abort-page writes are dropped");
}

Test(access, outside_elrange_reaches_host_memory)
{
	static uint8_t host_page[4096] __attribute__((aligned(4096)));
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = 0x7f0000000000ULL;
	uint32_t v = 0xabcd;

	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, (uint64_t)host_page,
				     SGX_PTE_PRESENT | SGX_PTE_WRITE), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(sgx_lp_write(lp, lin + 16, &v, 4), 0);
	cr_assert_eq(memcmp(host_page + 16, &v, 4), 0);
}
