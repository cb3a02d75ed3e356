// SPDX-License-Identifier: MIT
/*
 * ENCLS[EAUG] (src/arch/encls_eaug.c): each check C1..C10 violated (exact
 * fault, nothing changed) and satisfied (the leaf gets past it), and the
 * effects E1..E3.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/internal.h"
#include "fixture.h"

#define NR_DATA 2

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, NR_DATA);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_eaug, .init = setup, .fini = teardown);

/* A page of ELRANGE that fx_build left unpopulated. */
static uint64_t hole(unsigned int i)
{
	return fx_data(&fx, NR_DATA + i);
}

static struct sgx_pageinfo pageinfo(uint64_t lin)
{
	return (struct sgx_pageinfo){ .linaddr = lin, .secs = fx.secs };
}

static uint64_t epc_index(uint64_t epc)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, epc, &idx));
	return idx;
}

static uint32_t children(void)
{
	return sgx_secs_child_count(&fx.cpu, epc_index(fx.secs));
}

/* What a faulting EAUG must leave alone: the target and the SECS count. */
static struct fx_snap before;
static uint32_t before_children;

static void take_snap(uint64_t epc)
{
	fx_snap(&fx, epc, &before);
	before_children = children();
}

static void assert_unchanged(void)
{
	fx_expect_same(&fx, &before);
	cr_assert_eq(children(), before_children);
}

/* A free EPC page filled with a pattern, snapshotted. */
static uint64_t free_page(void)
{
	uint64_t epc = fx_alloc_epc(&fx);
	uint64_t idx;

	/*
	 * Software cannot write a free EPC page; the test does, to see what
	 * EAUG changes, and so tells the model the page holds data.
	 */
	memset((void *)(uintptr_t)epc, 0xA5, PAGE_SIZE);
	cr_assert(sgx_epc_index(&fx.cpu, epc, &idx));
	epc_mark_written(&fx.cpu, idx);
	take_snap(epc);
	return epc;
}

static void expect_gp(int ret)
{
	fx_expect_gp(fx.lp, ret);
}

static void expect_pf(int ret, uint64_t addr)
{
	fx_expect_pf(fx.lp, ret, addr, FX_PF_EPCM);
}

Test(encls_eaug, c1_pageinfo_unaligned)
{
	static uint8_t buf[2 * sizeof(struct sgx_pageinfo)]
		__attribute__((aligned(32)));
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = free_page();

	memcpy(buf + 16, &pi, sizeof(pi));
	expect_gp(encls_eaug(fx.lp, (struct sgx_pageinfo *)(buf + 16), epc));
	assert_unchanged();
	memcpy(buf, &pi, sizeof(pi));
	cr_assert_eq(encls_eaug(fx.lp, (struct sgx_pageinfo *)buf, epc), 0);
}

Test(encls_eaug, c1_epc_unaligned)
{
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = free_page();

	expect_gp(encls_eaug(fx.lp, &pi, epc + 64));
	assert_unchanged();
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, c2_outside_epc)
{
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t first = sgx_epc_addr(&fx.cpu, 0);
	uint64_t end = first + fx.cpu.cfg.epc_pages * PAGE_SIZE;

	expect_pf(encls_eaug(fx.lp, &pi, end), end);
	expect_pf(encls_eaug(fx.lp, &pi, first - PAGE_SIZE),
		  first - PAGE_SIZE);
	cr_assert_eq(encls_eaug(fx.lp, &pi, free_page()), 0);
}

Test(encls_eaug, c3_secinfo_unaligned)
{
	static struct sgx_secinfo si;
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = free_page();

	/* Checked before C6: a valid target still gives #GP. */
	pi.secinfo = (uint64_t)(uintptr_t)&si + 8;
	expect_gp(encls_eaug(fx.lp, &pi, fx_epc_of(&fx, fx_data(&fx, 0))));
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	/* Aligned, it gets past C3 and stops at C6. */
	pi.secinfo = (uint64_t)(uintptr_t)&si;
	expect_pf(encls_eaug(fx.lp, &pi, fx_epc_of(&fx, fx_data(&fx, 0))),
		  fx_epc_of(&fx, fx_data(&fx, 0)));
}

Test(encls_eaug, c3_secs_unaligned)
{
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = free_page();

	pi.secs = fx.secs + 64;
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	pi.secs = fx.secs;
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, c3_linaddr_unaligned)
{
	struct sgx_pageinfo pi = pageinfo(hole(0) + 8);
	uint64_t epc = free_page();

	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	pi.linaddr = hole(0);
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, c4_srcpge_nonzero)
{
	static uint8_t src[PAGE_SIZE] __attribute__((aligned(4096)));
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = free_page();

	pi.srcpge = (uint64_t)(uintptr_t)src;
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	pi.srcpge = 0;
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, c5_secs_outside_epc)
{
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t end = sgx_epc_addr(&fx.cpu, 0) +
		       fx.cpu.cfg.epc_pages * PAGE_SIZE;
	uint64_t epc = free_page();

	pi.secs = end;
	expect_pf(encls_eaug(fx.lp, &pi, epc), end);
	assert_unchanged();
	/* Checked before C6: with a valid target the SECS still faults. */
	expect_pf(encls_eaug(fx.lp, &pi, fx_epc_of(&fx, fx_data(&fx, 0))),
		  end);
}

Test(encls_eaug, c6_target_valid)
{
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = fx_epc_of(&fx, fx_data(&fx, 0));

	memset((void *)(uintptr_t)epc, 0x5A, PAGE_SIZE);
	take_snap(epc);
	expect_pf(encls_eaug(fx.lp, &pi, epc), epc);
	assert_unchanged();
	/* The SECS itself is valid too. */
	take_snap(fx.secs);
	expect_pf(encls_eaug(fx.lp, &pi, fx.secs), fx.secs);
	assert_unchanged();
}

Test(encls_eaug, c7_secinfo_given)
{
	static struct sgx_secinfo si;
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = free_page();

	/* What a CET shadow-stack request would look like. */
	si.flags = SGX_SECINFO_TYPE(PT_SS_FIRST) | SGX_SECINFO_R |
		   SGX_SECINFO_W;
	pi.secinfo = (uint64_t)(uintptr_t)&si;
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	si.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W;
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	/* Checked before C8: a bad SECS is not reached. */
	pi.secs = fx_epc_of(&fx, fx_data(&fx, 0));
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	pi = pageinfo(hole(0));
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, c8_secs_not_a_secs)
{
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t other = fx_alloc_epc(&fx);
	uint64_t epc = free_page();

	pi.secs = fx_epc_of(&fx, fx_data(&fx, 0)); /* a REG page */
	expect_pf(encls_eaug(fx.lp, &pi, epc), pi.secs);
	assert_unchanged();
	pi.secs = other; /* a free page */
	expect_pf(encls_eaug(fx.lp, &pi, epc), other);
	assert_unchanged();
	pi.secs = fx.secs;
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, c9_not_initialized)
{
	struct sgx_pageinfo pi;
	uint64_t epc;

	fx_fini(&fx);
	fx_init(&fx, 64, 2);
	fx_build_uninit(&fx, NR_DATA);
	pi = pageinfo(hole(0));
	epc = free_page();
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	fx_einit(&fx);
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, c10_outside_elrange)
{
	struct sgx_pageinfo pi = pageinfo(fx.base - PAGE_SIZE);
	uint64_t epc = free_page();

	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	pi.linaddr = fx.base + fx.size;
	expect_gp(encls_eaug(fx.lp, &pi, epc));
	assert_unchanged();
	/* The last page of ELRANGE is inside. */
	pi.linaddr = fx.base + fx.size - PAGE_SIZE;
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
}

Test(encls_eaug, e1_page_zeroed)
{
	static const uint8_t zero[PAGE_SIZE];
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint64_t epc = free_page();

	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
	cr_assert_eq(memcmp((void *)(uintptr_t)epc, zero, PAGE_SIZE), 0);
}

/* A page that held data before (EADD, then EREMOVE) is zeroed too. */
Test(encls_eaug, e1_reused_page_zeroed)
{
	static const uint8_t zero[PAGE_SIZE];
	struct sgx_pageinfo pi = pageinfo(hole(1));
	uint64_t epc = fx_epc_of(&fx, fx_data(&fx, 0));

	memset((void *)(uintptr_t)epc, 0xA5, PAGE_SIZE);
	cr_assert_eq(encls_eremove(fx.lp, epc), 0);
	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
	cr_assert_eq(memcmp((void *)(uintptr_t)epc, zero, PAGE_SIZE), 0);
}

/* A never-used page is not written at all: a large EPC stays uncommitted. */
Test(encls_eaug, e1_fresh_page_left_uncommitted)
{
	struct sgx_pageinfo pi = pageinfo(hole(2));
	uint64_t epc = fx_alloc_epc(&fx);
	unsigned char vec = 1;

	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
	cr_assert_eq(mincore((void *)(uintptr_t)epc, PAGE_SIZE, &vec), 0);
	cr_assert_eq(vec & 1, 0, "EAUG committed a page that reads as zero");
}

Test(encls_eaug, e2_epcm_entry)
{
	struct sgx_pageinfo pi = pageinfo(hole(3));
	uint64_t epc = free_page();
	const struct epcm_entry *e = sgx_epcm(&fx.cpu, epc_index(epc));

	cr_assert_eq(encls_eaug(fx.lp, &pi, epc), 0);
	cr_assert_eq(e->valid, 1);
	cr_assert_eq(e->pt, PT_REG);
	cr_assert_eq(e->r, 1);
	cr_assert_eq(e->w, 1);
	cr_assert_eq(e->x, 0);
	cr_assert_eq(e->pending, 1);
	cr_assert_eq(e->modified, 0);
	cr_assert_eq(e->pr, 0);
	cr_assert_eq(e->blocked, 0);
	cr_assert_eq(e->enclave_address, hole(3));
	cr_assert_eq(e->enclave_secs, epc_index(fx.secs));
	cr_assert_eq(e->track_stamp, 0, "EAUG needs no tracking");
}

Test(encls_eaug, e3_child_count)
{
	struct sgx_pageinfo pi = pageinfo(hole(0));
	uint32_t n = children();

	cr_assert_eq(encls_eaug(fx.lp, &pi, free_page()), 0);
	cr_assert_eq(children(), n + 1);
	pi.linaddr = hole(1);
	cr_assert_eq(encls_eaug(fx.lp, &pi, free_page()), 0);
	cr_assert_eq(children(), n + 2);
}

Test(encls_eaug, pending_page_unusable_until_accepted)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = hole(0);
	uint8_t b = 1;

	fx_eaug(&fx, lin);
	fx_enter(&fx, lp);
	cr_assert_eq(sgx_lp_read(lp, lin, &b, 1), SGX_FAULT_FLAG | X86_TRAP_PF);
	cr_assert_eq(lp->exc.addr, lin);
	cr_assert_eq(lp->exc.error_code, 0x8005);
}
