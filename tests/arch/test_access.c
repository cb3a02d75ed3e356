// SPDX-License-Identifier: MIT
/*
 * The enclave-mode access path (sgx-architecture.md section 5): PTE faults
 * without the SGX bit, EPCM faults with it, TLB fills and hits, stale rights
 * honoured until a flush, the one spurious #PF of a rights miss (no re-walk),
 * every fault in enclave mode delivered by an AEX, and abort-page semantics
 * outside enclave mode.
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

/* The fault in enclave mode, its AEX, then ERESUME by fx_expect_pf(). */
static void expect_pf(struct sgx_lp *lp, int ret, uint64_t addr, uint32_t ec)
{
	cr_assert(!lp->enclave_mode, "the fault was delivered by an AEX");
	fx_expect_pf(lp, ret, addr, ec);
	cr_assert(lp->enclave_mode, "back inside after ERESUME");
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
	/* The entry the write filled says RW: a stale-rights #PF first. */
	expect_pf(lp, access(lp, data, SGX_ACCESS_EXEC), data, 0x15);
	/* Its AEX flushed the TLB: now the EPCM denies, with the SGX bit. */
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

Test(access, rights_miss_faults_once_then_resumes)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 3);
	uint64_t epc = fx_epc_of(&fx, lin);
	uint64_t stale = fx.cpu.stats.tlb_stale_fault;

	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, epc,
				     SGX_PTE_PRESENT | SGX_PTE_NX), 0);
	fx_enter(&fx, lp);
	cr_assert_eq(access(lp, lin, SGX_ACCESS_READ), 0);
	/*
	 * The OS widens the PTE (mprotect); the cached R-only entry faults
	 * once, a plain protection #PF, with no re-walk. The AEX flushes the
	 * TLB, so after ERESUME the access fills afresh and succeeds.
	 */
	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, epc,
				     SGX_PTE_PRESENT | SGX_PTE_WRITE |
					     SGX_PTE_NX), 0);
	expect_pf(lp, access(lp, lin, SGX_ACCESS_WRITE), lin, 0x7);
	cr_assert_eq(fx.cpu.stats.tlb_stale_fault, stale + 1);
	cr_assert_eq(access(lp, lin, SGX_ACCESS_WRITE), 0);
	cr_assert_eq(fx.cpu.stats.tlb_stale_fault, stale + 1);
}

Test(access, encls_in_enclave_mode_is_ud_and_aex)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t aex = fx.cpu.stats.aex, secs;
	int ret;

	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &secs));
	fx_enter(&fx, lp);
	ret = encls_etrack(lp, fx.secs);
	cr_assert_eq(ret, SGX_FAULT_FLAG | X86_TRAP_UD);
	cr_assert_eq(lp->exc.vector, X86_TRAP_UD);
	cr_assert(!lp->enclave_mode, "the #UD was delivered by an AEX");
	cr_assert_eq(fx.cpu.stats.aex, aex + 1);
	cr_assert_eq(sgx_secs_epoch(&fx.cpu, secs), 0, "ETRACK had no effect");
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
