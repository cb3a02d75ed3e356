/* SPDX-License-Identifier: MIT */
/*
 * The SGX capabilities the emulated CPUID reports (leaf 12H) agree with what
 * our ECREATE accepts: a SECS built from CPUID is created, and each
 * attribute, MISCSELECT and XFRM bit is accepted exactly when CPUID reports
 * it; the size limit is the one CPUID states.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/sdm.h"
#include "run/cpuid.h"

#define EPC_PAGES 64

static struct sgx_cpu cpu;
static uint64_t next_page;
static uint32_t leaf0[4], leaf1[4];

static void setup(void)
{
	struct sgx_cpu_config cfg = { .epc_pages = EPC_PAGES, .nr_lps = 1,
				      .xfrm_supported = run_cpuid_xfrm() };

	cr_assert_eq(sgx_cpu_init(&cpu, &cfg), 0);
	next_page = 0;
	run_cpuid_emulate(0x12, 0, leaf0);
	run_cpuid_emulate(0x12, 1, leaf1);
}

static void teardown(void)
{
	sgx_cpu_destroy(&cpu);
}

TestSuite(cpuid_ecreate, .init = setup, .fini = teardown);

static uint64_t reported_attributes(void)
{
	return (uint64_t)leaf1[1] << 32 | leaf1[0];
}

static uint64_t reported_xfrm(void)
{
	return (uint64_t)leaf1[3] << 32 | leaf1[2];
}

static unsigned int max_size_64_log2(void)
{
	return (leaf0[3] >> 8) & 0xff;
}

/* ECREATE of a 64-bit enclave with these fields; 0 or the leaf's result.
 * The base is the size, or 0 where that would not be canonical. A
 * successful ECREATE uses up an EPC page. */
static int try_ecreate(uint64_t attributes, uint32_t miscselect,
		       uint64_t xfrm, uint64_t size)
{
	static struct sgx_secs secs;
	static struct sgx_secinfo secinfo;
	struct sgx_pageinfo pi = {
		.srcpge = (uintptr_t)&secs,
		.secinfo = (uintptr_t)&secinfo,
	};

	memset(&secs, 0, sizeof(secs));
	secs.base = size >> 47 ? 0 : size;
	secs.size = size;
	secs.ssa_frame_size = 2;
	secs.attributes = attributes | SGX_ATTR_MODE64BIT;
	secs.miscselect = miscselect;
	secs.xfrm = xfrm;
	secinfo = (struct sgx_secinfo){ .flags = SGX_SECINFO_TYPE(PT_SECS) };
	cr_assert_lt(next_page, EPC_PAGES);
	int ret = encls_ecreate(&cpu.lps[0], &pi,
				sgx_epc_addr(&cpu, next_page));
	if (ret == 0)
		next_page++;
	return ret;
}

Test(cpuid_ecreate, a_secs_built_from_cpuid_is_created)
{
	uint64_t largest = 1ULL << (max_size_64_log2() - 1);

	cr_assert_eq(try_ecreate(reported_attributes(), leaf0[1],
				 reported_xfrm(), largest), 0);
	cr_assert_neq(try_ecreate(0, 0, 3, largest << 1), 0,
		      "SIZE reaches 2^MaxEnclaveSize_64");
}

Test(cpuid_ecreate, each_attribute_is_accepted_iff_reported)
{
	for (unsigned int bit = 1; bit < 64; bit++) {
		uint64_t a = 1ULL << bit;
		bool reported = reported_attributes() & a;
		int ret = try_ecreate(a, 0, 3, 0x10000);
		cr_assert_eq(ret == 0, reported, "attribute bit %u: %#x",
			     bit, ret);
	}
	cr_assert_not(reported_attributes() & SGX_ATTR_INIT);
}

Test(cpuid_ecreate, each_miscselect_bit_is_accepted_iff_reported)
{
	for (unsigned int bit = 0; bit < 32; bit++) {
		uint32_t m = 1U << bit;
		int ret = try_ecreate(0, m, 3, 0x10000);
		cr_assert_eq(ret == 0, (leaf0[1] & m) != 0,
			     "MISCSELECT bit %u: %#x", bit, ret);
	}
}

/* The reported set is XCR0's (as far as the model holds state). */
Test(cpuid_ecreate, xfrm_is_the_hosts_xcr0)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	cr_assert_eq(reported_xfrm(), ((uint64_t)hi << 32 | lo) & SGX_XFRM_ARCH);
}

/* The reported set is accepted; adding any bit it lacks is refused. */
Test(cpuid_ecreate, each_xfrm_bit_is_accepted_iff_reported)
{
	cr_assert_eq(try_ecreate(0, 0, reported_xfrm(), 0x10000), 0);
	for (unsigned int bit = 2; bit < 64; bit++) {
		uint64_t x = reported_xfrm() | 1ULL << bit;
		int ret = try_ecreate(0, 0, x, 0x10000);
		cr_assert_eq(ret == 0, x == reported_xfrm(),
			     "XFRM bit %u: %#x", bit, ret);
	}
}
