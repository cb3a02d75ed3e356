// SPDX-License-Identifier: MIT
/*
 * Linux's SGX selftests (tools/testing/selftests/sgx/main.c, 6.12), rebuilt
 * at driver level from linux-sgx-driver.md sections 10.5-10.7: the same
 * enclave (kfixture), the same operations in the same order, and the same
 * expectations on ioctl results, errno, count, result and the exception
 * fields of struct sgx_enclave_run.
 *
 * The selftest's one thread is modelled on LP 0. ENCL_CALL() becomes
 * encl_call(): EENTER through run.tcs, the operation of test_encl.c done
 * by the enclave thread helpers, then EEXIT; or, when the kernel does not
 * fix a fault, the exception fields the vDSO reports, with function =
 * ERESUME (the AEX left the thread outside with CSSA raised). A direct
 * vDSO call with ERESUME becomes encl_resume(): ERESUME through run.tcs,
 * then the interrupted operation runs again, as the CPU re-executes the
 * faulting instruction. An ioctl's "-1 with errno E" is sgx_ioctl()'s -E.
 *
 * The oversubscribed tests run the test body as a sim thread beside ksgxd
 * (a daemon sim thread), so the reclaimer really runs while the body
 * builds, enters and changes the enclave.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel/encl.h"
#include "kfixture.h"

#define LP 0 /* the selftest's only thread */
#define KSGXD_LP 1
#define MAGIC 0x1122334455667788ULL
#define MAGIC2 0x8877665544332211ULL

#define SECINFO_REG SGX_SECINFO_TYPE(PT_REG)
#define SECINFO_TCS SGX_SECINFO_TYPE(PT_TCS)
#define SECINFO_TRIM SGX_SECINFO_TYPE(PT_TRIM)
#define ACCEPT_AUG                                                        \
	(SGX_SECINFO_R | SGX_SECINFO_W | SECINFO_REG | SGX_SECINFO_PENDING)
#define ACCEPT_TRIM (SECINFO_TRIM | SGX_SECINFO_MODIFIED)

static struct kfx fx;
static struct sgx_enclave_run run;

/* defines.h: enum encl_op_type. */
enum encl_op_type {
	ENCL_OP_PUT_TO_BUFFER,
	ENCL_OP_GET_FROM_BUFFER,
	ENCL_OP_PUT_TO_ADDRESS,
	ENCL_OP_GET_FROM_ADDRESS,
	ENCL_OP_NOP,
	ENCL_OP_EACCEPT,
	ENCL_OP_EMODPE,
	ENCL_OP_INIT_TCS_PAGE,
};

/* The selftest's op structures, folded into one. */
struct encl_op {
	enum encl_op_type type;
	uint64_t value; /* put/get */
	uint64_t addr; /* put/get address, epc_addr, tcs_page */
	uint64_t flags; /* EACCEPT, EMODPE */
	uint64_t ret; /* EACCEPT */
	uint64_t ssa, entry; /* INIT_TCS_PAGE */
};

static uint64_t off(uint64_t addr)
{
	return addr - fx.base;
}

/* test_encl.c encl_init_tcs_page(): a TCS written by the enclave. */
static int init_tcs_page(struct encl_op *op, struct kfx_fault *f)
{
	struct sgx_tcs tcs;

	memset(&tcs, 0, sizeof(tcs));
	tcs.ssa_offset = op->ssa;
	tcs.nr_ssa_frames = 1;
	tcs.entry_offset = op->entry;
	tcs.fs_limit = 0xFFFFFFFF;
	tcs.gs_limit = 0xFFFFFFFF;
	return kfx_write(&fx, LP, off(op->addr), &tcs, sizeof(tcs), f);
}

/* test_encl.c encl_body(): one operation, from inside the enclave. */
static void encl_body(struct encl_op *op, struct kfx_fault *f)
{
	int ret = 0;

	memset(f, 0, sizeof(*f));
	switch (op->type) {
	case ENCL_OP_PUT_TO_BUFFER:
		ret = kfx_write(&fx, LP, KFX_DATA, &op->value, 8, f);
		break;
	case ENCL_OP_GET_FROM_BUFFER:
		ret = kfx_read(&fx, LP, KFX_DATA, &op->value, 8, f);
		break;
	case ENCL_OP_PUT_TO_ADDRESS:
		ret = kfx_write(&fx, LP, off(op->addr), &op->value, 8, f);
		break;
	case ENCL_OP_GET_FROM_ADDRESS:
		ret = kfx_read(&fx, LP, off(op->addr), &op->value, 8, f);
		break;
	case ENCL_OP_NOP:
		break;
	case ENCL_OP_EACCEPT:
		ret = kfx_eaccept(&fx, LP, off(op->addr), op->flags, f);
		if (!f->raised)
			op->ret = (uint64_t)ret;
		break;
	case ENCL_OP_EMODPE:
		ret = kfx_emodpe(&fx, LP, off(op->addr), op->flags, f);
		break;
	case ENCL_OP_INIT_TCS_PAGE:
		ret = init_tcs_page(op, f);
		break;
	}
	cr_assert(f->raised || !sgx_faulted(ret), "op %d: %#x", op->type, ret);
}

/* The vDSO's exit: EEXIT, or the exception fields after an AEX. */
static void encl_finish(struct encl_op *op)
{
	struct kfx_fault f;

	encl_body(op, &f);
	if (f.raised) {
		cr_assert_not(fx.cpu.lps[LP].enclave_mode);
		run.function = ERESUME;
		run.exception_vector = f.vector;
		run.exception_error_code = (uint16_t)f.error_code;
		run.exception_addr = f.addr;
		return;
	}
	kfx_exit(&fx, LP);
	run.function = EEXIT;
}

/* ENCL_CALL(op, &run, clobbered): the vDSO with EENTER. */
static void encl_call(struct encl_op *op)
{
	int ret = kfx_enter(&fx, LP, off(run.tcs), NULL);

	cr_assert_eq(ret, 0, "EENTER: %#x", ret);
	encl_finish(op);
}

/* vdso_sgx_enter_enclave(op, ..., ERESUME, ..., &run). */
static void encl_resume(struct encl_op *op)
{
	int ret;

	fx.tcs[LP] = run.tcs;
	ret = kfx_eresume(&fx, LP, NULL);
	cr_assert_eq(ret, 0, "ERESUME: %#x", ret);
	encl_finish(op);
}

static void clear_exception(void)
{
	run.exception_vector = 0;
	run.exception_error_code = 0;
	run.exception_addr = 0;
}

/* EXPECT_EEXIT plus the three zero exception fields the tests check. */
static void expect_eexit(void)
{
	cr_expect_eq(run.function, EEXIT);
	cr_expect_eq(run.exception_vector, 0);
	cr_expect_eq(run.exception_error_code, 0);
	cr_expect_eq(run.exception_addr, 0);
}

static void expect_aex(uint16_t vector, uint16_t error_code, uint64_t addr)
{
	cr_expect_eq(run.function, ERESUME);
	cr_expect_eq(run.exception_vector, vector);
	cr_expect_eq(run.exception_error_code, error_code, "error code %#x",
		     run.exception_error_code);
	cr_expect_eq(run.exception_addr, addr);
}

static void put_addr(uint64_t addr, uint64_t value)
{
	struct encl_op op = { .type = ENCL_OP_PUT_TO_ADDRESS,
			      .value = value, .addr = addr };

	encl_call(&op);
	expect_eexit();
}

static uint64_t get_addr(uint64_t addr)
{
	struct encl_op op = { .type = ENCL_OP_GET_FROM_ADDRESS, .addr = addr };

	encl_call(&op);
	expect_eexit();
	return op.value;
}

/* An EACCEPT op that must reach EEXIT; returns eaccept_op.ret. */
static uint64_t eaccept(uint64_t addr, uint64_t flags)
{
	struct encl_op op = { .type = ENCL_OP_EACCEPT, .addr = addr,
			      .flags = flags };

	encl_call(&op);
	expect_eexit();
	return op.ret;
}

/* The PUT_TO_BUFFER / GET_FROM_BUFFER round trip of unclobbered_vdso. */
static void buffer_round_trip(uint64_t value)
{
	struct encl_op put = { .type = ENCL_OP_PUT_TO_BUFFER, .value = value };
	struct encl_op get = { .type = ENCL_OP_GET_FROM_BUFFER };

	encl_call(&put);
	expect_eexit();
	encl_call(&get);
	cr_expect_eq(get.value, value);
	expect_eexit();
}

/* setup_test_encl(heap_size) with the fixture's EPC, run.tcs = TCS #1. */
static void setup_test_encl(uint64_t epc_pages, uint64_t heap_size)
{
	struct kfx_config cfg = { .epc_pages = epc_pages,
				  .heap_size = heap_size };

	kfx_init(&fx, &cfg);
	memset(&run, 0, sizeof(run));
}

static void build(void)
{
	kfx_build(&fx);
	run.tcs = fx.base;
}

/* The selftests' data_start: the second page of encl_buffer. */
static uint64_t data_start(void)
{
	return fx.base + KFX_DATA_START;
}

/*
 * The selftests' feature probe: an all-zero argument is rejected with
 * EINVAL (length 0) on a kernel and CPU with SGX2, where they go on.
 */
static void probe(unsigned int cmd)
{
	uint8_t zero[40] = { 0 };

	cr_assert_eq(kfx_ioctl(&fx, cmd, zero), -EINVAL);
}

/*
 * The fixture's end: no warning, no broken invariant; the process exits,
 * the file is closed, and every EPC page is free again.
 */
static void teardown(void)
{
	uint64_t epc_pages = fx.cpu.cfg.epc_pages;

	kfx_assert_clean(&fx);
	sgx_mm_destroy(fx.mm);
	fx.mm = NULL;
	kfx_close(&fx);
	cr_assert_eq(fx.drv.nr_free_pages, epc_pages);
	cr_assert_eq(fx.drv.stats.encls_warnings, 0);
	kfx_fini(&fx);
}

/*
 * Rebuilds tcs_entry: a NOP through TCS #1 at the enclave base, then
 * through TCS #2 one page above; both end in EEXIT with every exception
 * field zero.
 */
Test(selftests, tcs_entry)
{
	struct encl_op op = { .type = ENCL_OP_NOP };

	setup_test_encl(0, 0);
	build();
	encl_call(&op);
	expect_eexit();
	run.tcs = fx.base + KFX_TCS2;
	encl_call(&op);
	expect_eexit();
	teardown();
}

/*
 * Rebuilds pte_permissions: MAGIC is written and read at data_start; after
 * mprotect(PROT_READ) the enclave's write takes a plain PTE fault (vector
 * 14, error code 0x7 = USER|WRITE|PROT, no SGX bit) that the kernel does
 * not fix; after mprotect back to RW, ERESUME completes the write, and
 * MAGIC2 reads back.
 */
Test(selftests, pte_permissions)
{
	struct encl_op put = { .type = ENCL_OP_PUT_TO_ADDRESS,
			       .value = MAGIC2 };

	setup_test_encl(0, 0);
	build();
	put.addr = data_start();
	put_addr(data_start(), MAGIC);
	cr_expect_eq(get_addr(data_start()), MAGIC);

	cr_assert_eq(sgx_mprotect(fx.mm, data_start(), PAGE_SIZE,
				  SGX_PROT_READ), 0);
	encl_call(&put);
	cr_expect_eq(run.exception_vector, 14);
	cr_expect_eq(run.exception_error_code, 0x7);
	cr_expect_eq(run.exception_addr, data_start());
	clear_exception();

	cr_assert_eq(sgx_mprotect(fx.mm, data_start(), PAGE_SIZE,
				  SGX_PROT_READ | SGX_PROT_WRITE), 0);
	encl_resume(&put);
	expect_eexit();
	cr_expect_eq(get_addr(data_start()), MAGIC2);
	teardown();
}

/*
 * Rebuilds tcs_permissions: after the RESTRICT_PERMISSIONS probe, an
 * attempt to make the TCS page read-only fails with EINVAL before any
 * EMODPR (the page is not REG): result and count stay 0.
 */
Test(selftests, tcs_permissions)
{
	uint64_t count = 1, result = 1;

	setup_test_encl(0, 0);
	build();
	probe(SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS);
	cr_expect_eq(kfx_restrict(&fx, KFX_TCS1, PAGE_SIZE, SGX_SECINFO_R,
				  &count, &result), -EINVAL);
	cr_expect_eq(result, 0);
	cr_expect_eq(count, 0);
	cr_expect_eq(fx.encl->stats.emodpr, 0);
	teardown();
}

/*
 * Rebuilds epcm_permissions: data_start is restricted to R by the kernel
 * (count 4096) and the restriction EACCEPTed with R|REG|PR; a write then
 * takes an EPCM fault (ERESUME, 14, 0x8007). Through TCS #2 the enclave
 * extends the page back to RW with EMODPE, then TCS #1 resumes and the
 * faulting write completes: MAGIC2 reads back.
 */
Test(selftests, epcm_permissions)
{
	struct encl_op put = { .type = ENCL_OP_PUT_TO_ADDRESS,
			       .value = MAGIC2 };
	struct encl_op emodpe = { .type = ENCL_OP_EMODPE,
				  .flags = SGX_SECINFO_R | SGX_SECINFO_W };
	uint64_t count, result;
	const struct epcm_entry *e;

	setup_test_encl(0, 0);
	build();
	probe(SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS);
	put.addr = emodpe.addr = data_start();
	put_addr(data_start(), MAGIC);
	cr_expect_eq(get_addr(data_start()), MAGIC);

	cr_expect_eq(kfx_restrict(&fx, KFX_DATA_START, PAGE_SIZE,
				  SGX_SECINFO_R, &count, &result), 0);
	cr_expect_eq(result, 0);
	cr_expect_eq(count, 4096);
	e = kfx_epcm(&fx, KFX_DATA_START);
	cr_expect(e->r && !e->w && e->pr);
	cr_expect_eq(eaccept(data_start(),
			     SGX_SECINFO_R | SECINFO_REG | SGX_SECINFO_PR), 0);

	encl_call(&put);
	expect_aex(14, 0x8007, data_start());
	clear_exception();

	run.tcs = fx.base + KFX_TCS2;
	encl_call(&emodpe);
	expect_eexit();

	run.tcs = fx.base + KFX_TCS1;
	encl_resume(&put);
	expect_eexit();
	cr_expect_eq(get_addr(data_start()), MAGIC2);
	teardown();
}

/* mmap len bytes of the hole at base + total_size with prot. */
static uint64_t map_hole(uint64_t len, unsigned long prot)
{
	uint64_t addr = fx.base + fx.total_size;

	cr_expect_lt(fx.total_size + len, fx.size);
	cr_assert_eq(sgx_mmap(fx.file, fx.mm, addr, len, prot,
			      SGX_MAP_SHARED | SGX_MAP_FIXED), 0);
	return addr;
}

/*
 * Rebuilds augment: a page of the hole after the segments is mapped RWX
 * (holes impose no limit). The enclave's write first faults on the
 * missing PTE, which the kernel fixes with EAUG; the retried write hits
 * the PENDING page: ERESUME, 14, 0x8007 at the page. TCS #2 EACCEPTs it
 * (R|W|REG|PENDING), TCS #1 resumes the write, and MAGIC reads back.
 */
Test(selftests, augment)
{
	struct encl_op put = { .type = ENCL_OP_PUT_TO_ADDRESS,
			       .value = MAGIC };
	uint64_t addr;

	setup_test_encl(0, 0);
	build();
	addr = map_hole(PAGE_SIZE,
			SGX_PROT_READ | SGX_PROT_WRITE | SGX_PROT_EXEC);
	put.addr = addr;
	encl_call(&put);
	expect_aex(14, 0x8007, addr);
	cr_expect_eq(fx.encl->stats.eaug, 1);
	cr_expect(kfx_epcm(&fx, off(addr))->pending);
	clear_exception();

	run.tcs = fx.base + KFX_TCS2;
	cr_expect_eq(eaccept(addr, ACCEPT_AUG), 0);

	run.tcs = fx.base + KFX_TCS1;
	encl_resume(&put);
	expect_eexit();
	cr_expect_eq(get_addr(addr), MAGIC);
	cr_assert_eq(sgx_munmap(fx.mm, addr, PAGE_SIZE), 0);
	teardown();
}

/*
 * Rebuilds augment_via_eaccept: the first access to the new RWX page is
 * EACCEPT itself; its #PF is fixed by EAUG and EACCEPT then succeeds
 * without user space seeing anything (EEXIT, ret 0). MAGIC is then
 * written and read back.
 */
Test(selftests, augment_via_eaccept)
{
	uint64_t addr;

	setup_test_encl(0, 0);
	build();
	addr = map_hole(PAGE_SIZE,
			SGX_PROT_READ | SGX_PROT_WRITE | SGX_PROT_EXEC);
	cr_expect_eq(eaccept(addr, ACCEPT_AUG), 0);
	cr_expect_eq(fx.encl->stats.eaug, 1);
	put_addr(addr, MAGIC);
	cr_expect_eq(get_addr(addr), MAGIC);
	cr_assert_eq(sgx_munmap(fx.mm, addr, PAGE_SIZE), 0);
	teardown();
}

/* Phase 1 of tcs_create: three EAUG'd pages, the middle one a new TCS. */
static void tcs_create_phase1(uint64_t stack_end, uint64_t tcs, uint64_t ssa)
{
	struct encl_op init = { .type = ENCL_OP_INIT_TCS_PAGE, .addr = tcs,
				.ssa = fx.total_size + 2 * PAGE_SIZE,
				.entry = KFX_TEXT };
	uint64_t count, result;

	cr_expect_eq(eaccept(stack_end, ACCEPT_AUG), 0);
	cr_expect_eq(eaccept(ssa, ACCEPT_AUG), 0);
	cr_expect_eq(eaccept(tcs, ACCEPT_AUG), 0);
	cr_expect_eq(fx.encl->stats.eaug, 3);

	encl_call(&init);
	expect_eexit();
	cr_expect_eq(kfx_modify_types(&fx, off(tcs), PAGE_SIZE, PT_TCS,
				      &count, &result), 0);
	cr_expect_eq(result, 0);
	cr_expect_eq(count, 4096);
	cr_expect_eq(sgx_encl_page_type_now(kfx_page(&fx, off(tcs))), PT_TCS);
	cr_expect_eq(kfx_page(&fx, off(tcs))->vm_max_prot_bits,
		     VM_READ | VM_WRITE);
	cr_expect_eq(eaccept(tcs, SECINFO_TCS | SGX_SECINFO_MODIFIED), 0);

	run.tcs = tcs;
	buffer_round_trip(MAGIC);
}

/* Phase 2: TRIM the three pages, accept, remove, EAUG at the old TCS. */
static void tcs_create_phase2(uint64_t stack_end, uint64_t tcs, uint64_t ssa)
{
	uint64_t count, result;

	cr_expect_eq(kfx_modify_types(&fx, fx.total_size, 3 * PAGE_SIZE,
				      PT_TRIM, &count, &result), 0);
	cr_expect_eq(result, 0);
	cr_expect_eq(count, 3 * PAGE_SIZE);

	run.tcs = fx.base + KFX_TCS1;
	cr_expect_eq(eaccept(stack_end, ACCEPT_TRIM), 0);
	cr_expect_eq(eaccept(tcs, ACCEPT_TRIM), 0);
	cr_expect_eq(eaccept(ssa, ACCEPT_TRIM), 0);

	cr_expect_eq(kfx_remove(&fx, fx.total_size, 3 * PAGE_SIZE, &count),
		     0);
	cr_expect_eq(count, 3 * PAGE_SIZE);
	cr_expect_null(kfx_page(&fx, off(tcs)));

	cr_expect_eq(eaccept(tcs, ACCEPT_AUG), 0);
	cr_expect_eq(fx.encl->stats.eaug, 4);
	put_addr(tcs, MAGIC);
	cr_expect_eq(get_addr(tcs), MAGIC);
}

/*
 * Rebuilds tcs_create. Phase 1: three pages after the segments (stack,
 * TCS, SSA) are mapped RW and EAUG'd through EACCEPT; the enclave writes
 * a TCS into the middle one (INIT_TCS_PAGE, entry at the start of text,
 * SSA the third page); MODIFY_TYPES turns it into a TCS (count 4096), the
 * enclave EACCEPTs TCS|MODIFIED, and a PUT/GET of the buffer works through
 * the new TCS. Phase 2: the three pages go to TRIM in one call (REG->TRIM
 * and TCS->TRIM, count 12288), are EACCEPTed TRIM|MODIFIED through TCS #1
 * and removed (count 12288); the old TCS address is a hole again, so
 * EACCEPT there EAUGs a fresh regular page that holds MAGIC.
 */
Test(selftests, tcs_create)
{
	uint64_t addr;

	setup_test_encl(0, 0);
	build();
	probe(SGX_IOC_ENCLAVE_MODIFY_TYPES);
	addr = map_hole(3 * PAGE_SIZE, SGX_PROT_READ | SGX_PROT_WRITE);
	tcs_create_phase1(addr, addr + PAGE_SIZE, addr + 2 * PAGE_SIZE);
	tcs_create_phase2(addr, addr + PAGE_SIZE, addr + 2 * PAGE_SIZE);
	cr_assert_eq(sgx_munmap(fx.mm, addr, 3 * PAGE_SIZE), 0);
	teardown();
}

/* The start of the remove_* tests: MAGIC at data_start, then TRIM it. */
static void trim_data_start(bool touch)
{
	uint64_t count, result;

	setup_test_encl(0, 0);
	build();
	probe(SGX_IOC_ENCLAVE_MODIFY_TYPES);
	if (touch) {
		put_addr(data_start(), MAGIC);
		cr_expect_eq(get_addr(data_start()), MAGIC);
	}
	cr_expect_eq(kfx_modify_types(&fx, KFX_DATA_START, PAGE_SIZE,
				      PT_TRIM, &count, &result), 0);
	cr_expect_eq(result, 0);
	cr_expect_eq(count, 4096);
	cr_expect_eq(sgx_encl_page_type_now(kfx_page(&fx, KFX_DATA_START)), PT_TRIM);
}

/*
 * Rebuilds remove_added_page_no_eaccept: data_start is trimmed but the
 * enclave never EACCEPTs, so REMOVE_PAGES' EMODPR probe gets
 * SGX_PAGE_NOT_MODIFIABLE and the call fails with EPERM, count 0; the
 * page stays in the enclave.
 */
Test(selftests, remove_added_page_no_eaccept)
{
	uint64_t count = 1;

	trim_data_start(true);
	cr_expect_eq(kfx_remove(&fx, KFX_DATA_START, PAGE_SIZE, &count),
		     -EPERM);
	cr_expect_eq(count, 0);
	cr_expect_not_null(kfx_page(&fx, KFX_DATA_START));
	teardown();
}

/*
 * Rebuilds remove_added_page_invalid_access: after the TRIM, a read of
 * data_start from the enclave takes an EPCM fault (ERESUME, 14, 0x8005):
 * the PTE is still there, the EPCM blocks the trimmed page.
 */
Test(selftests, remove_added_page_invalid_access)
{
	struct encl_op get = { .type = ENCL_OP_GET_FROM_ADDRESS };

	trim_data_start(true);
	get.addr = data_start();
	encl_call(&get);
	expect_aex(14, 0x8005, data_start());
	teardown();
}

/*
 * Rebuilds remove_added_page_invalid_access_after_eaccept: the TRIM is
 * EACCEPTed (TRIM|MODIFIED, ret 0) but the page is not removed; a read
 * still takes the same EPCM fault (ERESUME, 14, 0x8005).
 */
Test(selftests, remove_added_page_invalid_access_after_eaccept)
{
	struct encl_op get = { .type = ENCL_OP_GET_FROM_ADDRESS };

	trim_data_start(true);
	cr_expect_eq(eaccept(data_start(), ACCEPT_TRIM), 0);
	get.addr = data_start();
	encl_call(&get);
	expect_aex(14, 0x8005, data_start());
	teardown();
}

/*
 * Rebuilds remove_untouched_page: data_start is trimmed without being
 * touched first, the TRIM EACCEPTed, and REMOVE_PAGES succeeds with count
 * 4096; the page leaves the enclave.
 */
Test(selftests, remove_untouched_page)
{
	uint64_t count;

	trim_data_start(false);
	cr_expect_eq(eaccept(data_start(), ACCEPT_TRIM), 0);
	cr_expect_eq(kfx_remove(&fx, KFX_DATA_START, PAGE_SIZE, &count), 0);
	cr_expect_eq(count, 4096);
	cr_expect_null(kfx_page(&fx, KFX_DATA_START));
	cr_expect_eq(fx.encl->stats.eremove, 1);
	teardown();
}

/*
 * The scheduler of the oversubscribed tests. ksgxd has an LP of its own,
 * so while the test thread spins on a fault that waits for free EPC (the
 * EAUG and ELDU allocations never reclaim), ksgxd keeps working: it gets
 * KSGXD_SHARE of every KSGXD_SHARE + 1 decisions when both can run.
 * A batch of 16 pages takes some 400 steps; with round robin the test
 * thread would use up the EPC and the fault helpers' bounded retries
 * (a real thread just keeps faulting) long before the batch ends.
 */
#define KSGXD_SHARE 16

struct ksgxd_sched {
	unsigned int ksgxd; /* its sim thread id */
	unsigned int turn;
};

static unsigned int choose_ksgxd(void *ctx, const unsigned int *runnable,
				 unsigned int n, unsigned int current)
{
	struct ksgxd_sched *k = ctx;
	unsigned int ksgxd = n, other = n;

	for (unsigned int i = 0; i < n; i++) {
		if (runnable[i] == k->ksgxd)
			ksgxd = i;
		else if (other == n)
			other = i;
	}
	if (ksgxd == n || other == n)
		return ksgxd == n ? other : ksgxd;
	return k->turn++ % (KSGXD_SHARE + 1) ? ksgxd : other;
}

/*
 * Run body as the selftest's thread on LP 0 beside ksgxd on its own LP,
 * then stop ksgxd. The EPC is small so the heap (the whole EPC) makes the
 * enclave several times bigger than what is left after SECS and VA pages.
 */
#define OVERSUB_EPC_PAGES 128

static void run_with_ksgxd(void (*body)(void *arg))
{
	struct ksgxd_sched sched = { 0 };
	int kid, bid;

	setup_test_encl(OVERSUB_EPC_PAGES, OVERSUB_EPC_PAGES * PAGE_SIZE);
	kid = sim_spawn(&fx.sim, "ksgxd", KSGXD_LP, true, ksgxd, &fx.drv);
	cr_assert_geq(kid, 0);
	bid = sim_spawn(&fx.sim, "test_sgx", LP, false, body, NULL);
	cr_assert_geq(bid, 0);
	sched.ksgxd = (unsigned int)kid;
	fx.sim.choose = choose_ksgxd;
	fx.sim.choose_ctx = &sched;
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_eq(fx.sim.threads[bid].state, SIM_DONE);
	fx.drv.ksgxd_stop = true;
	fx.drv.plat->ksgxd_wake(fx.drv.plat->ctx);
	cr_assert_eq(sim_run(&fx.sim), 0);
	cr_assert_eq(fx.sim.threads[kid].state, SIM_DONE);
	cr_expect_gt(fx.drv.stats.ksgxd_wakeups, 0);
	cr_expect_gt(fx.drv.stats.reclaimed_pages, 0);
	teardown();
}

static void oversubscribed_body(void *arg)
{
	build();
	cr_expect_gt(fx.total_size, fx.cpu.cfg.epc_pages * PAGE_SIZE);
	buffer_round_trip(MAGIC);
}

/*
 * Rebuilds unclobbered_vdso_oversubscribed: the heap is as big as the
 * whole EPC, so the enclave cannot be resident at once and the reclaimer
 * runs while it is built and entered; the PUT/GET of the buffer still
 * works.
 */
Test(selftests, unclobbered_vdso_oversubscribed)
{
	run_with_ksgxd(oversubscribed_body);
}

static void oversubscribed_remove_body(void *arg)
{
	const struct kfx_segment *heap = &fx.seg[KFX_SEG_HEAP];
	uint64_t count, result;

	build();
	probe(SGX_IOC_ENCLAVE_MODIFY_TYPES);
	buffer_round_trip(MAGIC);

	cr_expect_eq(kfx_modify_types(&fx, heap->offset, heap->size, PT_TRIM,
				      &count, &result), 0);
	cr_expect_eq(result, 0);
	cr_expect_eq(count, heap->size);

	for (uint64_t i = 0; i < heap->size; i += PAGE_SIZE) {
		struct encl_op op = { .type = ENCL_OP_EACCEPT,
				      .addr = fx.base + heap->offset + i,
				      .flags = ACCEPT_TRIM };

		encl_call(&op);
		cr_expect_eq(run.exception_vector, 0);
		cr_expect_eq(run.exception_error_code, 0);
		cr_expect_eq(run.exception_addr, 0);
		cr_assert_eq(op.ret, 0, "heap page %lu", i / PAGE_SIZE);
		cr_assert_eq(run.function, EEXIT);
	}

	cr_expect_eq(kfx_remove(&fx, heap->offset, heap->size, &count), 0);
	cr_expect_eq(count, heap->size);
	for (uint64_t i = 0; i < heap->size; i += PAGE_SIZE)
		cr_expect_null(kfx_page(&fx, heap->offset + i));
}

/*
 * Rebuilds unclobbered_vdso_oversubscribed_remove: on the oversubscribed
 * enclave the whole heap is trimmed in one MODIFY_TYPES (count = heap
 * size), each heap page EACCEPTed TRIM|MODIFIED in its own enclave call
 * (EEXIT, no exception, ret 0), and the heap removed in one REMOVE_PAGES
 * (count = heap size). Evicted pages are loaded back (ELDU) before EMODT,
 * before EACCEPT and before the EMODPR probe, with direct reclaim.
 */
Test(selftests, unclobbered_vdso_oversubscribed_remove)
{
	run_with_ksgxd(oversubscribed_remove_body);
}
