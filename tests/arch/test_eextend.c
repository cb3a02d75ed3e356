// SPDX-License-Identifier: MIT
/*
 * EEXTEND (SDM Vol. 3D, "EEXTEND"): every check C1..C8 of encls_eextend.c
 * in both directions (the fault, with the measurement untouched; and the
 * case that gets past the check), and the effect E1.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <string.h>

#include "arch/crypto.h"
#include "arch/internal.h"
#include "fixture.h"

#define SIZE 0x10000ULL
#define LIN (FX_BASE + 0x3000)
#define RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)

static struct fx fx;
static uint8_t src[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint64_t page, secs;
static struct fx_snap secs_before;

static void setup(void)
{
	fx_init(&fx, 16, 1);
	fx_ecreate(&fx, FX_BASE, SIZE);
	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		src[i] = (uint8_t)(i * 13 + 5);
	page = fx_eadd(&fx, LIN, RW, src, false);
	secs = fx.secs;
	fx_snap(&fx, secs, &secs_before);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_eextend, .init = setup, .fini = teardown);

/* The SECS, and with it the running measurement, did not move. */
static void expect_gp_unmeasured(int ret)
{
	fx_expect_gp(fx.lp, ret);
	fx_expect_same(&fx, &secs_before);
}

static void expect_pf_unmeasured(int ret, uint64_t addr)
{
	fx_expect_pf(fx.lp, ret, addr, FX_PF_EPCM);
	fx_expect_same(&fx, &secs_before);
}

static void expect_ok(int ret)
{
	struct fx_snap now;

	cr_assert_eq(ret, 0, "EEXTEND: %#x", ret);
	fx_snap(&fx, secs, &now);
	cr_assert_neq(memcmp(now.page, secs_before.page, PAGE_SIZE), 0,
		      "the measurement must have moved");
}

static uint64_t secs_index(void)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, secs, &idx));
	return idx;
}

Test(encls_eextend, c1_secs_misaligned)
{
	expect_gp_unmeasured(encls_eextend(fx.lp, secs + 0x100, page));
}

Test(encls_eextend, c1_secs_page_aligned)
{
	expect_ok(encls_eextend(fx.lp, secs, page));
}

Test(encls_eextend, c2_secs_outside_epc)
{
	static uint8_t host[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	uint64_t addr = (uint64_t)(uintptr_t)host;

	expect_pf_unmeasured(encls_eextend(fx.lp, addr, page), addr);
}

Test(encls_eextend, c2_secs_in_epc)
{
	expect_ok(encls_eextend(fx.lp, secs, page + 0x100));
}

Test(encls_eextend, c3_chunk_misaligned)
{
	expect_gp_unmeasured(encls_eextend(fx.lp, secs, page + 0x80));
}

Test(encls_eextend, c3_chunk_last_256)
{
	expect_ok(encls_eextend(fx.lp, secs, page + PAGE_SIZE - 256));
}

Test(encls_eextend, c4_chunk_outside_epc)
{
	static uint8_t host[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	uint64_t addr = (uint64_t)(uintptr_t)host + 0x200;

	expect_pf_unmeasured(encls_eextend(fx.lp, secs, addr), addr);
}

Test(encls_eextend, c4_chunk_in_epc)
{
	expect_ok(encls_eextend(fx.lp, secs, page + 0x200));
}

Test(encls_eextend, c5_page_not_valid)
{
	uint64_t free_page = fx_alloc_epc(&fx);

	expect_pf_unmeasured(encls_eextend(fx.lp, secs, free_page + 0x300),
			     free_page + 0x300);
}

Test(encls_eextend, c5_invalid_page_with_stale_type)
{
	/* What a removed REG page leaves behind: the type, but not VALID. */
	uint64_t free_page = fx_alloc_epc(&fx), idx;

	cr_assert(sgx_epc_index(&fx.cpu, free_page, &idx));
	fx.cpu.epcm[idx].pt = PT_REG;
	fx.cpu.epcm[idx].enclave_secs = (uint32_t)secs_index();
	expect_pf_unmeasured(encls_eextend(fx.lp, secs, free_page),
			     free_page);
}

Test(encls_eextend, c5_page_valid)
{
	expect_ok(encls_eextend(fx.lp, secs, page + 0x300));
}

Test(encls_eextend, c6_page_is_the_secs)
{
	expect_pf_unmeasured(encls_eextend(fx.lp, secs, secs + 0x100),
			     secs + 0x100);
}

Test(encls_eextend, c6_page_is_a_tcs)
{
	uint64_t tcs = fx_eadd(&fx, FX_BASE, SGX_SECINFO_TYPE(PT_TCS), NULL,
			       false);

	fx_snap(&fx, secs, &secs_before);
	expect_ok(encls_eextend(fx.lp, secs, tcs));
}

Test(encls_eextend, c7_other_enclaves_secs)
{
	uint64_t other = fx_ecreate(&fx, FX_BASE + SIZE, SIZE);
	struct fx_snap other_before;

	fx_snap(&fx, other, &other_before);
	expect_gp_unmeasured(encls_eextend(fx.lp, other, page));
	fx_expect_same(&fx, &other_before);
}

Test(encls_eextend, c7_rbx_not_a_secs)
{
	expect_gp_unmeasured(encls_eextend(fx.lp, page, page));
}

Test(encls_eextend, c7_own_secs)
{
	fx_ecreate(&fx, FX_BASE + SIZE, SIZE);
	expect_ok(encls_eextend(fx.lp, secs, page));
}

Test(encls_eextend, c8_enclave_initialized)
{
	fx_einit(&fx);
	fx_snap(&fx, secs, &secs_before);
	expect_gp_unmeasured(encls_eextend(fx.lp, secs, page));
}

Test(encls_eextend, c8_enclave_uninitialized)
{
	cr_assert_eq(((struct sgx_secs *)(uintptr_t)secs)->attributes &
			     SGX_ATTR_INIT, 0);
	expect_ok(encls_eextend(fx.lp, secs, page));
}

/*
 * SHA-256 over the records, from the SDM text: ECREATE, EADD of the page
 * at LIN, and EEXTEND of the chunk at chunk_off with its 256 data bytes.
 */
static void expected_digest(uint64_t chunk_off, const uint8_t *data,
			    uint8_t out[32])
{
	uint8_t recs[64 * 3 + 256] = { 'E', 'C', 'R', 'E', 'A', 'T', 'E', 0 };
	const uint32_t ssa = 1;
	const uint64_t size = SIZE, page_off = LIN - FX_BASE, flags = RW;
	unsigned int len = 0;

	memcpy(recs + 8, &ssa, 4);
	memcpy(recs + 12, &size, 8);
	memcpy(recs + 64, "EADD", 4);
	memcpy(recs + 72, &page_off, 8);
	memcpy(recs + 80, &flags, 8);
	memcpy(recs + 128, "EEXTEND", 7);
	memcpy(recs + 136, &chunk_off, 8);
	memcpy(recs + 192, data, 256);
	cr_assert_eq(EVP_Digest(recs, sizeof(recs), out, &len, EVP_sha256(),
				NULL), 1);
}

static void expect_measured(uint64_t chunk_off, const uint8_t *data)
{
	uint8_t want[32], got[32];

	measure_finish(secs_hidden_at(&fx.cpu, secs_index()), got);
	expected_digest(chunk_off, data, want);
	cr_assert_eq(memcmp(got, want, 32), 0, "MRENCLAVE differs");
}

Test(encls_eextend, e1_measures_offset_and_data)
{
	expect_ok(encls_eextend(fx.lp, secs, page + 0xE00));
	expect_measured(LIN - FX_BASE + 0xE00, src + 0xE00);
}

Test(encls_eextend, e1_measures_the_epc_page_not_the_source)
{
	uint8_t *epc = (uint8_t *)(uintptr_t)page;

	memset(epc + 0x400, 0x3C, 256);
	expect_ok(encls_eextend(fx.lp, secs, page + 0x400));
	expect_measured(LIN - FX_BASE + 0x400, epc + 0x400);
}

Test(encls_eextend, e1_changes_nothing_else)
{
	struct fx_snap page_before;

	fx_snap(&fx, page, &page_before);
	expect_ok(encls_eextend(fx.lp, secs, page));
	fx_expect_same(&fx, &page_before);
	cr_assert_eq(sgx_secs_child_count(&fx.cpu, secs_index()), 1);
}
