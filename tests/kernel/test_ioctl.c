// SPDX-License-Identifier: MIT
/*
 * The ioctls' successful paths, their partial-progress count semantics,
 * and the exact cost of the flow: restricting or retyping N pages is N
 * EMODPR/EMODT, each under its own hold of encl->lock, and one ETRACK flow
 * and IPI round per batch of etrack_batch pages (kfx_flows(): N with the
 * Linux 6.12 batch of 1). The Linux SGX selftests that exercise the ioctls
 * (linux-sgx-driver.md section 10.7) are replayed here step by step.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel/encl.h"
#include "kfixture.h"
#include "sign/sign.h"

#define MAGIC 0x1122334455667788ULL
#define MAGIC2 0x8877665544332211ULL
#define REG SGX_SECINFO_TYPE(PT_REG)
#define R SGX_SECINFO_R
#define W SGX_SECINFO_W
#define X SGX_SECINFO_X
#define ACCEPT_AUG (R | W | REG | SGX_SECINFO_PENDING)
#define ACCEPT_TRIM (SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED)
#define ACCEPT_TCS (SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_MODIFIED)

static struct kfx fx;

static void setup(void)
{
	kfx_init(&fx, NULL);
	kfx_build(&fx);
}

static void teardown(void)
{
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

TestSuite(ioctl, .init = setup, .fini = teardown);

static const struct sgx_secs *secs_of(const struct kfx *f)
{
	return (const struct sgx_secs *)(uintptr_t)sgx_epc_addr(
		&f->cpu, f->encl->secs.epc_page->index);
}

static void expect_page(uint64_t offset, enum sgx_page_type type,
			uint64_t rights, unsigned long max_prot)
{
	const struct sgx_encl_page *page = kfx_page(&fx, offset);
	const struct epcm_entry *e = kfx_epcm(&fx, offset);

	cr_assert_not_null(page);
	cr_assert_eq(sgx_encl_page_type_now(page), type, "page %#lx", (unsigned long)offset);
	cr_assert_eq(page->vm_max_prot_bits, max_prot, "page %#lx",
		     (unsigned long)offset);
	cr_assert_eq(e->pt, type);
	cr_assert_eq(e->r * R | e->w * W | e->x * X, rights);
	cr_assert_eq(e->enclave_address, fx.base + offset);
	cr_assert(!e->pending && !e->modified && !e->pr);
}

/* The selftest loader's enclave, as the driver and the CPU now see it. */
Test(ioctl, build)
{
	const struct sgx_secs *secs = secs_of(&fx);
	uint8_t mrsigner[32];

	cr_assert_eq(fx.encl->flags, SGX_ENCL_CREATED | SGX_ENCL_INITIALIZED);
	cr_assert_eq(fx.encl->base, KFX_BASE);
	cr_assert_eq(fx.encl->size, 0x10000);
	cr_assert_eq(fx.encl->attributes, SGX_ATTR_MODE64BIT);
	cr_assert_eq(fx.encl->secs_child_cnt, 12);
	cr_assert_eq(fx.encl->page_cnt, 13); /* SECS counts too */
	for (uint64_t off = KFX_TCS1; off < KFX_TEXT; off += PAGE_SIZE)
		expect_page(off, PT_TCS, 0, VM_READ | VM_WRITE);
	for (uint64_t off = KFX_TEXT; off < KFX_DATA; off += PAGE_SIZE)
		expect_page(off, PT_REG, R | X, VM_READ | VM_EXEC);
	for (uint64_t off = KFX_DATA; off < KFX_HEAP + PAGE_SIZE;
	     off += PAGE_SIZE)
		expect_page(off, PT_REG, R | W, VM_READ | VM_WRITE);
	cr_assert_null(kfx_page(&fx, KFX_HEAP + PAGE_SIZE));
	/* Only the measured segments were EEXTENDed, 16 chunks a page. */
	cr_assert_eq(fx.cpu.stats.encls[ECREATE], 1);
	cr_assert_eq(fx.cpu.stats.encls[EADD], 12);
	cr_assert_eq(fx.cpu.stats.encls[EEXTEND], 11 * 16);
	cr_assert_eq(fx.cpu.stats.encls[EINIT], 1);
	cr_assert_eq(fx.cpu.stats.encls[EPA], 1);
	/* EINIT took the signed measurement and the modulus hash. */
	sgx_sign_mrsigner(&fx.sigstruct, mrsigner);
	cr_assert_arr_eq(secs->mrenclave, fx.sigstruct.body.mrenclave, 32);
	cr_assert_arr_eq(secs->mrsigner, mrsigner, 32);
	cr_assert_arr_eq(fx.cpu.lps[0].lepubkeyhash, mrsigner, 32);
	cr_assert_eq(fx.encl->stats.etrack_flows, 0);
}

/* unclobbered_vdso and tcs_entry: both TCSs work, data round-trips. */
Test(ioctl, tcs_entry_and_buffer)
{
	uint64_t v = MAGIC, got = 0;

	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_write(&fx, 0, KFX_DATA, &v, sizeof(v), NULL), 0);
	cr_assert_eq(kfx_read(&fx, 0, KFX_DATA, &got, sizeof(got), NULL), 0);
	cr_assert_eq(got, MAGIC);
	kfx_exit(&fx, 0);
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	kfx_exit(&fx, 1);
}

/* Restrict n data pages; everything the flow does, counted. */
static void restrict_and_count(unsigned int n)
{
	struct sgx_encl_stats before = fx.encl->stats;
	uint64_t etrack = fx.cpu.stats.encls[ETRACK];
	uint64_t emodpr = fx.cpu.stats.encls[EMODPR];
	uint64_t locks = fx.encl->lock.acquisitions;
	uint64_t count, result;

	cr_assert_eq(kfx_restrict(&fx, KFX_DATA, n * PAGE_SIZE, R, &count,
				  &result), 0);
	cr_assert_eq(count, n * PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(fx.encl->stats.etrack_flows - before.etrack_flows,
		     kfx_flows(&fx, n));
	cr_assert_eq(fx.encl->stats.ipi_rounds - before.ipi_rounds,
		     kfx_flows(&fx, n));
	cr_assert_eq(fx.encl->stats.emodpr - before.emodpr, n);
	cr_assert_eq(fx.encl->stats.etrack_failures, 0);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK] - etrack, kfx_flows(&fx, n));
	cr_assert_eq(fx.cpu.stats.encls[EMODPR] - emodpr, n);
	/* One hold of the mutex per page, no reclaim in between. */
	cr_assert_eq(fx.encl->lock.acquisitions - locks, n);
	cr_assert_eq(fx.drv.stats.reclaim_batches, 0);
	for (unsigned int i = 0; i < n; i++) {
		const struct epcm_entry *e =
			kfx_epcm(&fx, KFX_DATA + i * PAGE_SIZE);

		cr_assert(e->pr && e->r && !e->w && !e->x);
		/* Only the EPCM changes: the kernel's ceiling stays RW. */
		cr_assert_eq(kfx_page(&fx, KFX_DATA + i * PAGE_SIZE)
				     ->vm_max_prot_bits, VM_READ | VM_WRITE);
	}
	cr_assert(!kfx_epcm(&fx, KFX_DATA + n * PAGE_SIZE)->pr);
}

Test(ioctl, restrict_one_page_baseline)
{
	restrict_and_count(1);
}

Test(ioctl, restrict_n_pages_baseline)
{
	restrict_and_count(7);
}

/* With an LP inside, each round targets it; only the first finds it in. */
Test(ioctl, restrict_ipis_reach_the_enclave)
{
	uint64_t aex = fx.cpu.stats.aex;

	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	restrict_and_count(4);
	cr_assert_eq(fx.encl->stats.ipis, kfx_flows(&fx, 4));
	cr_assert_eq(fx.encl->stats.ipi_aex, 1);
	cr_assert_eq(fx.cpu.stats.aex - aex, 1);
	cr_assert(!fx.cpu.lps[1].enclave_mode);
	cr_assert_eq(kfx_eresume(&fx, 1, NULL), 0);
	kfx_exit(&fx, 1);
}

/*
 * The selftest epcm_permissions, step by step. Its main thread runs on
 * LP 2: the ioctls run on LP 0, and an LP in enclave mode cannot do ENCLS.
 */
Test(ioctl, epcm_permissions)
{
	uint64_t v = MAGIC, count, result;
	struct kfx_fault f;

	cr_assert_eq(kfx_enter(&fx, 2, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_write(&fx, 2, KFX_DATA_START, &v, 8, NULL), 0);
	cr_assert_eq(kfx_restrict(&fx, KFX_DATA_START, PAGE_SIZE, R, &count,
				  &result), 0);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_eq(result, 0);
	/* The IPI took LP 2 out; the vDSO's AEP resumes it. */
	cr_assert_eq(kfx_eresume(&fx, 2, NULL), 0);
	cr_assert_eq(kfx_eaccept(&fx, 2, KFX_DATA_START, R | REG |
				 SGX_SECINFO_PR, NULL), 0);
	v = MAGIC2;
	kfx_write(&fx, 2, KFX_DATA_START, &v, 8, &f);
	cr_assert(f.raised);
	cr_assert_eq(f.vector, X86_TRAP_PF);
	cr_assert_eq(f.error_code, 0x8007);
	cr_assert_eq(f.addr, fx.base + KFX_DATA_START);
	/* TCS #2 gives W back with EMODPE; then the write completes. */
	cr_assert_eq(kfx_enter(&fx, 1, KFX_TCS2, NULL), 0);
	cr_assert_eq(kfx_emodpe(&fx, 1, KFX_DATA_START, R | W, NULL), 0);
	kfx_exit(&fx, 1);
	cr_assert_eq(kfx_eresume(&fx, 2, NULL), 0);
	cr_assert_eq(kfx_write(&fx, 2, KFX_DATA_START, &v, 8, NULL), 0);
	v = 0;
	cr_assert_eq(kfx_read(&fx, 2, KFX_DATA_START, &v, 8, NULL), 0);
	cr_assert_eq(v, MAGIC2);
	kfx_exit(&fx, 2);
}

/* count covers what was restricted and tracked; the rest is untouched. */
Test(ioctl, restrict_partial)
{
	uint64_t count, result;

	/* Stack 1, stack 2, the heap, then the hole. */
	cr_assert_eq(kfx_restrict(&fx, KFX_STACK1, 4 * PAGE_SIZE, R, &count,
				  &result), -EFAULT);
	cr_assert_eq(count, 3 * PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(fx.encl->stats.etrack_flows, kfx_flows(&fx, 3));
	cr_assert(kfx_epcm(&fx, KFX_STACK1)->pr);
	cr_assert(kfx_epcm(&fx, KFX_STACK2)->pr);
	cr_assert(kfx_epcm(&fx, KFX_HEAP)->pr);
	/* Retrying from offset + count fails at once. */
	cr_assert_eq(kfx_restrict(&fx, KFX_STACK1 + count, PAGE_SIZE, R,
				  &count, &result), -EFAULT);
	cr_assert_eq(count, 0);
	/* A range that meets a TCS stops there. */
	cr_assert_eq(kfx_restrict(&fx, KFX_SSA1, 2 * PAGE_SIZE, R, &count,
				  &result), 0);
	cr_assert_eq(kfx_restrict(&fx, KFX_TCS2, 2 * PAGE_SIZE, R, &count,
				  &result), -EINVAL);
	cr_assert_eq(count, 0);
}

/* EMODPR cannot add rights: RWX on an R page leaves it R, with PR. */
Test(ioctl, restrict_cannot_grant)
{
	uint64_t count;

	cr_assert_eq(kfx_restrict(&fx, KFX_TEXT, PAGE_SIZE, R | W | X, &count,
				  NULL), 0);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert(kfx_epcm(&fx, KFX_TEXT)->r && kfx_epcm(&fx, KFX_TEXT)->x);
	cr_assert(!kfx_epcm(&fx, KFX_TEXT)->w);
	cr_assert(kfx_epcm(&fx, KFX_TEXT)->pr);
}

/* MODIFY_TYPES to TRIM: N pages, a flow per batch, types recorded after. */
Test(ioctl, trim_n_pages_baseline)
{
	uint64_t etrack = fx.cpu.stats.encls[ETRACK], count, result;
	const unsigned int n = 5;

	cr_assert_eq(kfx_modify_types(&fx, KFX_DATA, n * PAGE_SIZE, PT_TRIM,
				      &count, &result), 0);
	cr_assert_eq(count, n * PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(fx.encl->stats.etrack_flows, kfx_flows(&fx, n));
	cr_assert_eq(fx.encl->stats.ipi_rounds, kfx_flows(&fx, n));
	cr_assert_eq(fx.encl->stats.emodt, n);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK] - etrack, kfx_flows(&fx, n));
	cr_assert_eq(fx.cpu.stats.encls[EMODT], n);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t off = KFX_DATA + i * PAGE_SIZE;

		cr_assert_eq(sgx_encl_page_type_now(kfx_page(&fx, off)), PT_TRIM);
		cr_assert_eq(kfx_epcm(&fx, off)->pt, PT_TRIM);
		cr_assert(kfx_epcm(&fx, off)->modified);
		/* No zap and no new ceiling for a trim. */
		cr_assert_eq(kfx_page(&fx, off)->vm_max_prot_bits,
			     VM_READ | VM_WRITE);
	}
}

Test(ioctl, trim_partial)
{
	uint64_t count, result;

	cr_assert_eq(kfx_modify_types(&fx, KFX_STACK2, 3 * PAGE_SIZE,
				      PT_TRIM, &count, &result), -EFAULT);
	cr_assert_eq(count, 2 * PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(&fx, KFX_STACK2)), PT_TRIM);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(&fx, KFX_HEAP)), PT_TRIM);
	cr_assert_eq(fx.encl->stats.etrack_flows, kfx_flows(&fx, 2));
}

/* TCS -> TRIM is allowed, TCS -> TCS is not. */
Test(ioctl, trim_a_tcs)
{
	uint64_t count;

	cr_assert_eq(kfx_modify_types(&fx, KFX_TCS1, 2 * PAGE_SIZE, PT_TRIM,
				      &count, NULL), 0);
	cr_assert_eq(count, 2 * PAGE_SIZE);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(&fx, KFX_TCS2)), PT_TRIM);
	cr_assert_eq(kfx_epcm(&fx, KFX_TCS2)->pt, PT_TRIM);
}

/*
 * REG -> TCS zaps every PTE of the page and lowers the ceiling to RW, so a
 * mapping with more rights must fault again and be checked again.
 */
Test(ioctl, to_tcs_zaps_and_lowers_ceiling)
{
	uint64_t v = MAGIC, count, result;
	uint64_t lin = fx.base + KFX_STACK2;

	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_write(&fx, 0, KFX_STACK2, &v, 8, NULL), 0);
	kfx_exit(&fx, 0);
	cr_assert_not_null(sgx_pgtable_lookup(&fx.mm->pgtable, lin));
	cr_assert_eq(kfx_modify_types(&fx, KFX_STACK2, PAGE_SIZE, PT_TCS,
				      &count, &result), 0);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_null(sgx_pgtable_lookup(&fx.mm->pgtable, lin));
	cr_assert_eq(kfx_page(&fx, KFX_STACK2)->vm_max_prot_bits,
		     VM_READ | VM_WRITE);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(&fx, KFX_STACK2)), PT_TCS);
	cr_assert_eq(kfx_epcm(&fx, KFX_STACK2)->pt, PT_TCS);
	cr_assert(kfx_epcm(&fx, KFX_STACK2)->modified);
}

/* remove_untouched_page: trim, accept, remove; the address is a hole. */
Test(ioctl, remove_untouched_page)
{
	uint64_t count, free_pages = fx.drv.nr_free_pages;
	unsigned int children = fx.encl->secs_child_cnt;
	unsigned int page_cnt = fx.encl->page_cnt;

	cr_assert_eq(kfx_modify_types(&fx, KFX_DATA_START, PAGE_SIZE, PT_TRIM,
				      &count, NULL), 0);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_eaccept(&fx, 0, KFX_DATA_START, ACCEPT_TRIM, NULL),
		     0);
	kfx_exit(&fx, 0);
	cr_assert_eq(kfx_remove(&fx, KFX_DATA_START, PAGE_SIZE, &count), 0);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_null(kfx_page(&fx, KFX_DATA_START));
	cr_assert_null(sgx_pgtable_lookup(&fx.mm->pgtable,
					  fx.base + KFX_DATA_START));
	cr_assert_eq(fx.encl->secs_child_cnt, children - 1);
	cr_assert_eq(fx.encl->page_cnt, page_cnt - 1);
	cr_assert_eq(fx.drv.nr_free_pages, free_pages + 1);
	/* The EMODPR probe, then EREMOVE; no ETRACK for a removal. */
	cr_assert_eq(fx.cpu.stats.encls[EMODPR], 1);
	cr_assert_eq(fx.cpu.stats.encls[EREMOVE], 1);
	cr_assert_eq(fx.encl->stats.etrack_flows, 1);
}

/* A removal stops at the first page that is not a trimmed, accepted one. */
Test(ioctl, remove_partial)
{
	uint64_t count;

	cr_assert_eq(kfx_modify_types(&fx, KFX_STACK1, 2 * PAGE_SIZE, PT_TRIM,
				      &count, NULL), 0);
	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_eaccept(&fx, 0, KFX_STACK1, ACCEPT_TRIM, NULL), 0);
	kfx_exit(&fx, 0);
	/* STACK2 was trimmed but not accepted: the probe says so. */
	cr_assert_eq(kfx_remove(&fx, KFX_STACK1, 3 * PAGE_SIZE, &count),
		     -EPERM);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_null(kfx_page(&fx, KFX_STACK1));
	cr_assert_not_null(kfx_page(&fx, KFX_STACK2));
}

/*
 * remove_added_page_invalid_access and ..._after_eaccept: a trimmed page
 * is still mapped, but the EPCM refuses the enclave (0x8005).
 */
static void expect_trimmed_read_faults(void)
{
	struct kfx_fault f;
	uint64_t v;

	kfx_read(&fx, 0, KFX_DATA_START, &v, sizeof(v), &f);
	cr_assert(f.raised);
	cr_assert_eq(f.vector, X86_TRAP_PF);
	cr_assert_eq(f.error_code, 0x8005);
	cr_assert_eq(f.addr, fx.base + KFX_DATA_START);
	cr_assert_eq(f.result, SGX_FAULT_SIGSEGV);
}

Test(ioctl, trimmed_page_invalid_access)
{
	uint64_t v = MAGIC, count;

	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_write(&fx, 0, KFX_DATA_START, &v, 8, NULL), 0);
	kfx_exit(&fx, 0);
	cr_assert_eq(kfx_modify_types(&fx, KFX_DATA_START, PAGE_SIZE, PT_TRIM,
				      &count, NULL), 0);
	cr_assert_eq(kfx_enter(&fx, 0, KFX_TCS1, NULL), 0);
	expect_trimmed_read_faults();
	cr_assert_eq(kfx_eresume(&fx, 0, NULL), 0);
	cr_assert_eq(kfx_eaccept(&fx, 0, KFX_DATA_START, ACCEPT_TRIM, NULL),
		     0);
	expect_trimmed_read_faults();
}

/* EACCEPT a fresh page through the EAUG fault path (augment_via_eaccept). */
static void augment(unsigned int lp, uint64_t offset)
{
	uint64_t eaug = fx.encl->stats.eaug;
	struct kfx_fault f;

	cr_assert_null(kfx_page(&fx, offset));
	cr_assert_eq(kfx_eaccept(&fx, lp, offset, ACCEPT_AUG, &f), 0);
	cr_assert_geq(f.fixed, 1);
	cr_assert_eq(fx.encl->stats.eaug - eaug, 1);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(&fx, offset)), PT_REG);
}

static void init_tcs_page(unsigned int lp, uint64_t tcs, uint64_t ssa)
{
	struct sgx_tcs t = {
		.ssa_offset = ssa,
		.nr_ssa_frames = 1,
		.entry_offset = KFX_TEXT,
		.fs_limit = 0xFFFFFFFF,
		.gs_limit = 0xFFFFFFFF,
	};

	cr_assert_eq(kfx_write(&fx, lp, tcs, &t, sizeof(t), NULL), 0);
}

/* The selftest tcs_create, both phases; its main thread on LP 3. */
Test(ioctl, tcs_create)
{
	const uint64_t stack = fx.total_size, tcs = stack + PAGE_SIZE;
	const uint64_t ssa = tcs + PAGE_SIZE;
	uint64_t count, result, v = MAGIC;

	cr_assert_lt(fx.total_size + 3 * PAGE_SIZE, fx.size);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, fx.base + stack, 3 * PAGE_SIZE,
			      SGX_PROT_READ | SGX_PROT_WRITE,
			      SGX_MAP_SHARED | SGX_MAP_FIXED), 0);
	cr_assert_eq(kfx_enter(&fx, 3, KFX_TCS1, NULL), 0);
	for (uint64_t off = stack; off <= ssa; off += PAGE_SIZE)
		augment(3, off);
	init_tcs_page(3, tcs, ssa);
	cr_assert_eq(kfx_modify_types(&fx, tcs, PAGE_SIZE, PT_TCS, &count,
				      &result), 0);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(kfx_eresume(&fx, 3, NULL), 0); /* after the IPI */
	cr_assert_eq(kfx_eaccept(&fx, 3, tcs, ACCEPT_TCS, NULL), 0);
	/* The new TCS is a way in. */
	cr_assert_eq(kfx_enter(&fx, 2, tcs, NULL), 0);
	cr_assert_eq(kfx_write(&fx, 2, KFX_DATA, &v, 8, NULL), 0);
	kfx_exit(&fx, 2);

	/* Phase 2: REG->TRIM and TCS->TRIM, accept, remove, augment again. */
	cr_assert_eq(kfx_modify_types(&fx, stack, 3 * PAGE_SIZE, PT_TRIM,
				      &count, &result), 0);
	cr_assert_eq(count, 3 * PAGE_SIZE);
	cr_assert_eq(kfx_eresume(&fx, 3, NULL), 0);
	for (uint64_t off = stack; off <= ssa; off += PAGE_SIZE)
		cr_assert_eq(kfx_eaccept(&fx, 3, off, ACCEPT_TRIM, NULL), 0);
	kfx_exit(&fx, 3);
	cr_assert_eq(kfx_remove(&fx, stack, 3 * PAGE_SIZE, &count), 0);
	cr_assert_eq(count, 3 * PAGE_SIZE);
	for (uint64_t off = stack; off <= ssa; off += PAGE_SIZE)
		cr_assert_null(kfx_page(&fx, off));
	cr_assert_eq(kfx_enter(&fx, 3, KFX_TCS1, NULL), 0);
	augment(3, tcs);
	cr_assert_eq(kfx_write(&fx, 3, tcs, &v, 8, NULL), 0);
	v = 0;
	cr_assert_eq(kfx_read(&fx, 3, tcs, &v, 8, NULL), 0);
	cr_assert_eq(v, MAGIC);
	kfx_exit(&fx, 3);
}

/*
 * unclobbered_vdso_oversubscribed_remove: a heap larger than the EPC is
 * trimmed, accepted page by page and removed. The ioctls ELDU evicted
 * pages before EMODT and before the EMODPR probe, with
 * sgx_reclaim_direct() making room; the enclave's EACCEPTs reload pages
 * through the fault path while ksgxd reclaims.
 */
#define OVERSUB_EPC 64
#define OVERSUB_HEAP (96 * PAGE_SIZE)

static void oversub_accept(void *arg)
{
	struct kfx *f = arg;

	cr_assert_eq(kfx_enter(f, 1, KFX_TCS2, NULL), 0);
	for (uint64_t off = 0; off < OVERSUB_HEAP; off += PAGE_SIZE)
		cr_assert_eq(kfx_eaccept(f, 1, KFX_HEAP + off, ACCEPT_TRIM,
					 NULL), 0, "heap page %#lx",
			     (unsigned long)off);
	kfx_exit(f, 1);
}

Test(ioctl_oversubscribed, trim_accept_remove)
{
	struct kfx_config cfg = { .epc_pages = OVERSUB_EPC,
				  .heap_size = OVERSUB_HEAP };
	uint64_t count, result, reclaimed;

	kfx_init(&fx, &cfg);
	kfx_build(&fx);
	cr_assert_gt(fx.drv.stats.reclaimed_pages, 0);
	cr_assert_eq(kfx_modify_types(&fx, KFX_HEAP, OVERSUB_HEAP, PT_TRIM,
				      &count, &result), 0);
	cr_assert_eq(count, OVERSUB_HEAP);
	cr_assert_eq(result, 0);
	cr_assert_eq(fx.encl->stats.etrack_flows,
		     kfx_flows(&fx, OVERSUB_HEAP / PAGE_SIZE));
	cr_assert_gt(fx.encl->stats.eldu, 0);

	reclaimed = fx.drv.stats.reclaimed_pages;
	cr_assert_geq(sim_spawn(&fx.sim, "ksgxd", 2, true, ksgxd, &fx.drv),
		      0);
	cr_assert_geq(sim_spawn(&fx.sim, "enclave", 1, false, oversub_accept,
				&fx), 0);
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_gt(fx.drv.stats.reclaimed_pages, reclaimed);

	cr_assert_eq(kfx_remove(&fx, KFX_HEAP, OVERSUB_HEAP, &count), 0);
	cr_assert_eq(count, OVERSUB_HEAP);
	for (uint64_t off = 0; off < OVERSUB_HEAP; off += PAGE_SIZE)
		cr_assert_null(kfx_page(&fx, KFX_HEAP + off));
	cr_assert_eq(fx.encl->secs_child_cnt + fx.drv.nr_free_pages +
			     1 /* SECS */ + 1 /* VA */,
		     OVERSUB_EPC);
	kfx_assert_clean(&fx);
	kfx_fini(&fx);
}

/*
 * XFRM at EINIT follows the CPU's CPUID 12H.1 (Linux's sgx_drv_init()):
 * on a CPU that reports AVX-512 state an enclave signed for it passes,
 * and a bit the CPU does not report (PKRU here, AMX always) in the
 * SIGSTRUCT's enforced XFRM is -EINVAL before EINIT runs.
 */
#define XFRM_AVX512_CPU 0xe7ULL

static void setup_avx512(struct kfx *f)
{
	struct kfx_config cfg = { .xfrm = XFRM_AVX512_CPU };

	kfx_init(f, &cfg);
	cr_assert_eq(f->drv.xfrm_reserved_mask, ~XFRM_AVX512_CPU);
	kfx_build_uninit(f);
}

Test(xfrm, avx512_passes_einit_where_the_cpu_reports_it)
{
	struct kfx f;

	setup_avx512(&f);
	cr_assert_eq(kfx_einit(&f), 0);
	cr_assert_eq(secs_of(&f)->xfrm, XFRM_AVX512_CPU);
	kfx_assert_clean(&f);
	kfx_fini(&f);
}

static long einit_with_xfrm_bit(struct kfx *f, uint64_t bit)
{
	struct sgx_enclave_init arg = {
		.sigstruct = (uint64_t)(uintptr_t)&f->sigstruct,
	};

	kfx_sign(f);
	f->sigstruct.body.xfrm |= bit;
	kfx_resign(f);
	return kfx_ioctl(f, SGX_IOC_ENCLAVE_INIT, &arg);
}

Test(xfrm, unreported_bits_are_einval)
{
	static const uint64_t bits[] = { 1ULL << 9, 1ULL << 17, 1ULL << 18 };
	struct kfx f;

	for (unsigned int i = 0; i < 3; i++) {
		setup_avx512(&f);
		cr_assert_eq(einit_with_xfrm_bit(&f, bits[i]), -EINVAL,
			     "XFRM bit %#llx", (unsigned long long)bits[i]);
		cr_assert_eq(f.cpu.stats.encls[EINIT], 0);
		kfx_fini(&f);
	}
}

/* The default CPU reports x87|SSE|AVX: AVX-512 is reserved there. */
Test(xfrm, avx512_is_einval_where_the_cpu_does_not_report_it)
{
	struct kfx f;

	kfx_init(&f, NULL);
	cr_assert_eq(f.drv.xfrm_reserved_mask, ~0x7ULL);
	kfx_build_uninit(&f);
	cr_assert_eq(einit_with_xfrm_bit(&f, 0xe0), -EINVAL);
	kfx_fini(&f);
}
