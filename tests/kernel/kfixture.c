// SPDX-License-Identifier: MIT
/*
 * The kernel test fixture (API and enclave layout in kfixture.h). It plays
 * the Linux selftests' loader (load.c, sigstruct.c, main.c
 * setup_test_encl): segments added with ADD_PAGES, MRENCLAVE computed in
 * software from the same records, a SIGSTRUCT signed with
 * tests/data/sign_key.pem, INIT, then one MAP_SHARED|MAP_FIXED mmap per
 * segment. Enclave threads are played the way the CPU, Linux's fault path
 * and the vDSO's ENCLU/AEP loop treat them.
 */
#include "kfixture.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/encl.h"
#include "sign/enclave_hash.h"
#include "sign/sign.h"

#define KFX_SEED 0x6b667873ULL
#define KFX_CHUNK 256
/*
 * A fault the kernel "fixes" without progress (VM_FAULT_NOPAGE while EPC
 * is short) is retried like on Linux; the bound only catches a livelock,
 * and leaves ksgxd room for whole batches in between.
 */
#define KFX_FAULT_RETRIES 100000

static EVP_PKEY *kfx_key;

static EVP_PKEY *test_key(void)
{
	if (!kfx_key)
		kfx_key = sgx_sign_load_key(SGXEMU_TEST_KEY);
	cr_assert_not_null(kfx_key, "cannot load %s", SGXEMU_TEST_KEY);
	return kfx_key;
}

static uint8_t *page_buffer(uint64_t size)
{
	uint8_t *p = aligned_alloc(PAGE_SIZE, size);

	cr_assert_not_null(p);
	memset(p, 0, size);
	return p;
}

/* test_encl_bootstrap.S: two static TCSs, one SSA frame each. */
static void fill_tcs(struct sgx_tcs *tcs, uint64_t ssa)
{
	memset(tcs, 0, sizeof(*tcs));
	tcs->ssa_offset = ssa;
	tcs->nr_ssa_frames = 1;
	tcs->entry_offset = KFX_TEXT;
	tcs->fs_limit = 0xFFFFFFFF;
	tcs->gs_limit = 0xFFFFFFFF;
}

static void set_segment(struct kfx *fx, enum kfx_seg s, uint64_t offset,
			uint64_t size, uint64_t secinfo_flags,
			unsigned long prot, bool measure)
{
	fx->seg[s] = (struct kfx_segment){
		.offset = offset,
		.size = size,
		.secinfo_flags = secinfo_flags,
		.prot = prot,
		.measure = measure,
		.src = page_buffer(size),
	};
}

/* The selftest enclave's segments, and the ELRANGE that holds them. */
static void kfx_layout(struct kfx *fx, uint64_t heap_size)
{
	const uint64_t reg = SGX_SECINFO_TYPE(PT_REG);
	const unsigned long rw = SGX_PROT_READ | SGX_PROT_WRITE;
	struct kfx_segment *text;

	set_segment(fx, KFX_SEG_TCS, KFX_TCS1, 2 * PAGE_SIZE,
		    SGX_SECINFO_TYPE(PT_TCS), rw, true);
	fill_tcs((struct sgx_tcs *)fx->seg[KFX_SEG_TCS].src, KFX_SSA1);
	fill_tcs((struct sgx_tcs *)(fx->seg[KFX_SEG_TCS].src + PAGE_SIZE),
		 KFX_SSA2);
	set_segment(fx, KFX_SEG_TEXT, KFX_TEXT, KFX_DATA - KFX_TEXT,
		    reg | SGX_SECINFO_R | SGX_SECINFO_X,
		    SGX_PROT_READ | SGX_PROT_EXEC, true);
	/* test_encl.lds pads text with 0xDEADBEEF. */
	text = &fx->seg[KFX_SEG_TEXT];
	for (uint64_t i = 0; i < text->size; i += 4)
		memcpy(text->src + i, &(uint32_t){ 0xDEADBEEF }, 4);
	set_segment(fx, KFX_SEG_DATA, KFX_DATA, KFX_HEAP - KFX_DATA,
		    reg | SGX_SECINFO_R | SGX_SECINFO_W, rw, true);
	set_segment(fx, KFX_SEG_HEAP, KFX_HEAP, heap_size,
		    reg | SGX_SECINFO_R | SGX_SECINFO_W, rw, false);
	fx->total_size = KFX_HEAP + heap_size;
	fx->base = KFX_BASE;
	fx->size = 2 * PAGE_SIZE;
	while (fx->size < fx->total_size)
		fx->size <<= 1;
}

/* SGXEMU_ETRACK_BATCH, else the driver's default. */
static unsigned int kfx_env_batch(void)
{
	const char *env = getenv("SGXEMU_ETRACK_BATCH");
	unsigned long batch;
	char *end;

	if (!env || !*env)
		return SGX_ETRACK_BATCH_DEFAULT;
	batch = strtoul(env, &end, 10);
	cr_assert(!*end && batch <= UINT_MAX, "SGXEMU_ETRACK_BATCH=%s", env);
	return (unsigned int)batch;
}

void kfx_init(struct kfx *fx, const struct kfx_config *cfg)
{
	struct kfx_config c = cfg ? *cfg : (struct kfx_config){ 0 };
	struct sgx_cpu_config cpu_cfg = {
		.epc_pages = c.epc_pages ? c.epc_pages : KFX_EPC_PAGES,
		.nr_lps = c.nr_lps ? c.nr_lps : KFX_NR_LPS,
		.seed = KFX_SEED,
		.xfrm_supported = c.xfrm,
		.check_invariants = true,
	};
	struct sgx_driver_config drv_cfg = {
		.sgx2 = !c.no_sgx2,
		.etrack_batch = c.pin_batch ? c.etrack_batch : kfx_env_batch(),
		.no_loop_checks = c.no_loop_checks,
	};

	memset(fx, 0, sizeof(*fx));
	cr_assert_eq(sgx_cpu_init(&fx->cpu, &cpu_cfg), 0);
	cr_assert_eq(sim_init(&fx->sim, &fx->cpu), 0);
	cr_assert_eq(sgx_driver_init(&fx->drv, &fx->cpu,
				     c.plat ? c.plat : &fx->sim.plat, &drv_cfg),
		     0);
	cr_assert_eq(sgx_mm_create(&fx->drv, &fx->mm), 0);
	cr_assert_eq(sgx_open(&fx->drv, &fx->file), 0);
	fx->encl = fx->file->encl;
	fx->xfrm = c.xfrm ? c.xfrm : 3;
	kfx_layout(fx, c.heap_size ? c.heap_size : PAGE_SIZE);
}

void kfx_close(struct kfx *fx)
{
	cr_assert_not_null(fx->file);
	cr_assert_eq(sgx_release(fx->file), 0);
	fx->file = NULL;
	fx->encl = NULL;
}

void kfx_fini(struct kfx *fx)
{
	if (fx->mm)
		sgx_mm_destroy(fx->mm);
	if (fx->file)
		kfx_close(fx);
	sgx_driver_destroy(&fx->drv);
	sim_destroy(&fx->sim);
	sgx_cpu_destroy(&fx->cpu);
	for (unsigned int s = 0; s < KFX_NR_SEGS; s++)
		free(fx->seg[s].src);
	EVP_PKEY_free(kfx_key);
	kfx_key = NULL;
	memset(fx, 0, sizeof(*fx));
}

long kfx_ioctl(struct kfx *fx, unsigned int cmd, void *arg)
{
	return sgx_ioctl(fx->file, cmd, (unsigned long)(uintptr_t)arg);
}

long kfx_create(struct kfx *fx)
{
	struct sgx_secs *secs = (struct sgx_secs *)page_buffer(PAGE_SIZE);
	struct sgx_enclave_create arg = { .src = (uint64_t)(uintptr_t)secs };
	long ret;

	/* encl_build(): what the selftest gives ECREATE. */
	secs->base = fx->base;
	secs->size = fx->size;
	secs->ssa_frame_size = 1;
	secs->attributes = SGX_ATTR_MODE64BIT;
	secs->xfrm = fx->xfrm;
	ret = kfx_ioctl(fx, SGX_IOC_ENCLAVE_CREATE, &arg);
	free(secs);
	return ret;
}

long kfx_add_segment(struct kfx *fx, enum kfx_seg s)
{
	const struct kfx_segment *seg = &fx->seg[s];
	struct sgx_secinfo secinfo = { .flags = seg->secinfo_flags };
	struct sgx_enclave_add_pages arg = {
		.src = (uint64_t)(uintptr_t)seg->src,
		.offset = seg->offset,
		.length = seg->size,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
		.flags = seg->measure ? SGX_PAGE_MEASURE : 0,
	};
	long ret = kfx_ioctl(fx, SGX_IOC_ENCLAVE_ADD_PAGES, &arg);

	if (!ret)
		cr_assert_eq(arg.count, seg->size);
	return ret;
}

/* encl_measure(): the ECREATE, EADD and EEXTEND records, in add order. */
static void kfx_measure(const struct kfx *fx, uint8_t mrenclave[32])
{
	struct sgx_enclave_hash h;

	cr_assert_eq(sgx_enclave_hash_start(&h, 1, fx->size), 0);
	for (unsigned int s = 0; s < KFX_NR_SEGS; s++) {
		const struct kfx_segment *seg = &fx->seg[s];

		for (uint64_t p = 0; p < seg->size; p += PAGE_SIZE) {
			cr_assert_eq(sgx_enclave_hash_eadd(&h, seg->offset + p,
							   seg->secinfo_flags),
				     0);
			if (!seg->measure)
				continue;
			for (uint64_t c = p; c < p + PAGE_SIZE; c += KFX_CHUNK)
				cr_assert_eq(sgx_enclave_hash_eextend(
						     &h, seg->offset + c,
						     seg->src + c),
					     0);
		}
	}
	cr_assert_eq(sgx_enclave_hash_finish(&h, mrenclave), 0);
}

void kfx_sign(struct kfx *fx)
{
	uint8_t mrenclave[32];

	kfx_measure(fx, mrenclave);
	cr_assert_eq(sgx_sign_sigstruct(&fx->sigstruct, test_key(), mrenclave,
					SGX_ATTR_MODE64BIT, fx->xfrm),
		     0);
}

void kfx_resign(struct kfx *fx)
{
	cr_assert_eq(sgx_sign_finish(&fx->sigstruct, test_key()), 0);
}

long kfx_einit(struct kfx *fx)
{
	struct sgx_enclave_init arg = {
		.sigstruct = (uint64_t)(uintptr_t)&fx->sigstruct,
	};

	kfx_sign(fx);
	return kfx_ioctl(fx, SGX_IOC_ENCLAVE_INIT, &arg);
}

void kfx_mmap_all(struct kfx *fx)
{
	for (unsigned int s = 0; s < KFX_NR_SEGS; s++) {
		const struct kfx_segment *seg = &fx->seg[s];
		int ret = sgx_mmap(fx->file, fx->mm, fx->base + seg->offset,
				   seg->size, seg->prot,
				   SGX_MAP_SHARED | SGX_MAP_FIXED);

		cr_assert_eq(ret, 0, "mmap of segment %u: %d", s, ret);
	}
}

void kfx_build_uninit(struct kfx *fx)
{
	long ret = kfx_create(fx);

	cr_assert_eq(ret, 0, "CREATE: %ld", ret);
	for (unsigned int s = 0; s < KFX_NR_SEGS; s++) {
		ret = kfx_add_segment(fx, s);
		cr_assert_eq(ret, 0, "ADD_PAGES of segment %u: %ld", s, ret);
	}
}

void kfx_build(struct kfx *fx)
{
	long ret;

	kfx_build_uninit(fx);
	ret = kfx_einit(fx);
	cr_assert_eq(ret, 0, "INIT: %ld", ret);
	kfx_mmap_all(fx);
}

long kfx_restrict(struct kfx *fx, uint64_t offset, uint64_t length,
		  uint64_t perm, uint64_t *count, uint64_t *result)
{
	struct sgx_enclave_restrict_permissions arg = {
		.offset = offset, .length = length, .permissions = perm,
	};
	long ret = kfx_ioctl(fx, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &arg);

	if (count)
		*count = arg.count;
	if (result)
		*result = arg.result;
	return ret;
}

long kfx_modify_types(struct kfx *fx, uint64_t offset, uint64_t length,
		      uint64_t type, uint64_t *count, uint64_t *result)
{
	struct sgx_enclave_modify_types arg = {
		.offset = offset, .length = length, .page_type = type,
	};
	long ret = kfx_ioctl(fx, SGX_IOC_ENCLAVE_MODIFY_TYPES, &arg);

	if (count)
		*count = arg.count;
	if (result)
		*result = arg.result;
	return ret;
}

long kfx_remove(struct kfx *fx, uint64_t offset, uint64_t length,
		uint64_t *count)
{
	struct sgx_enclave_remove_pages arg = {
		.offset = offset, .length = length,
	};
	long ret = kfx_ioctl(fx, SGX_IOC_ENCLAVE_REMOVE_PAGES, &arg);

	if (count)
		*count = arg.count;
	return ret;
}

unsigned int kfx_batch(const struct kfx *fx)
{
	return fx->encl->etrack_batch;
}

uint64_t kfx_flows(const struct kfx *fx, uint64_t pages)
{
	unsigned int batch = kfx_batch(fx);

	if (!pages)
		return 0;
	return batch ? (pages + batch - 1) / batch : 1;
}

struct sgx_encl_page *kfx_page(const struct kfx *fx, uint64_t offset)
{
	return sgx_encl_lookup(fx->encl, fx->base + offset);
}

uint64_t kfx_epc_index(const struct kfx *fx, uint64_t offset)
{
	const struct sgx_encl_page *page = kfx_page(fx, offset);

	cr_assert_not_null(page, "no page at %#llx",
			   (unsigned long long)offset);
	cr_assert_not_null(page->epc_page, "page %#llx is not resident",
			   (unsigned long long)offset);
	return page->epc_page->index;
}

const struct epcm_entry *kfx_epcm(const struct kfx *fx, uint64_t offset)
{
	return sgx_epcm(&fx->cpu, kfx_epc_index(fx, offset));
}

void kfx_assert_clean(const struct kfx *fx)
{
	const char *broken = sgx_cpu_check(&fx->cpu);

	cr_assert_eq(fx->drv.stats.encls_warnings, 0);
	cr_assert_null(broken, "arch invariant: %s", broken);
}

/*
 * A fault on lp: an AEX first if it happened inside the enclave, then
 * Linux's user fault path for a #PF. Returns true when the kernel fixed
 * it and the operation should be retried.
 */
static bool kfx_fault(struct kfx *fx, struct sgx_lp *lp, struct kfx_fault *f)
{
	struct sgx_exception exc = lp->exc;

	cr_assert(!lp->enclave_mode, "a fault in enclave mode is an AEX");
	f->vector = exc.vector;
	f->error_code = exc.error_code;
	f->addr = exc.addr;
	if (exc.vector != X86_TRAP_PF) {
		f->raised = true;
		f->result = SGX_FAULT_SIGSEGV;
		return false;
	}
	f->result = sgx_user_fault(fx->mm, exc.addr, exc.error_code);
	if (f->result != SGX_FAULT_FIXED) {
		f->raised = true;
		return false;
	}
	f->fixed++;
	return true;
}

typedef int (*kfx_op_fn)(struct kfx *fx, struct sgx_lp *lp, const void *arg);

/*
 * Run op on LP lpid until it completes without a fault, the way the vDSO
 * loops: a fixed fault inside the enclave resumes it with ERESUME (itself
 * retried on fixed faults) and then the operation runs again.
 */
static int kfx_run(struct kfx *fx, unsigned int lpid, kfx_op_fn op,
		   const void *arg, struct kfx_fault *f)
{
	struct sgx_lp *lp = &fx->cpu.lps[lpid];
	struct kfx_fault local;
	bool resume = false;

	f = f ? f : &local;
	memset(f, 0, sizeof(*f));
	for (unsigned int i = 0; i < KFX_FAULT_RETRIES; i++) {
		bool inside = lp->enclave_mode;
		int ret = resume ? enclu_eresume(lp, fx->tcs[lpid], KFX_AEP)
				 : op(fx, lp, arg);

		if (!sgx_faulted(ret)) {
			if (!resume)
				return ret;
			cr_assert_eq(ret, 0, "ERESUME: %#x", ret);
			resume = false;
			continue;
		}
		if (!kfx_fault(fx, lp, f))
			return ret;
		resume = resume || inside;
	}
	cr_assert_fail("LP %u: more than %u faults fixed in a row", lpid,
		       KFX_FAULT_RETRIES);
	return -1;
}

static int op_eenter(struct kfx *fx, struct sgx_lp *lp, const void *arg)
{
	return enclu_eenter(lp, fx->tcs[lp->id], KFX_AEP);
}

static int op_eresume(struct kfx *fx, struct sgx_lp *lp, const void *arg)
{
	return enclu_eresume(lp, fx->tcs[lp->id], KFX_AEP);
}

int kfx_enter(struct kfx *fx, unsigned int lp, uint64_t tcs_offset,
	      struct kfx_fault *f)
{
	sgx_mm_activate(fx->mm, &fx->cpu.lps[lp]);
	fx->tcs[lp] = fx->base + tcs_offset;
	return kfx_run(fx, lp, op_eenter, NULL, f);
}

int kfx_eresume(struct kfx *fx, unsigned int lp, struct kfx_fault *f)
{
	return kfx_run(fx, lp, op_eresume, NULL, f);
}

void kfx_exit(struct kfx *fx, unsigned int lp)
{
	int ret = enclu_eexit(&fx->cpu.lps[lp], KFX_AEP);

	cr_assert_eq(ret, 0, "EEXIT: %#x", ret);
}

struct kfx_copy {
	uint64_t lin;
	void *buf;
	size_t len;
};

static int op_read(struct kfx *fx, struct sgx_lp *lp, const void *arg)
{
	const struct kfx_copy *c = arg;

	return sgx_lp_read(lp, c->lin, c->buf, c->len);
}

static int op_write(struct kfx *fx, struct sgx_lp *lp, const void *arg)
{
	const struct kfx_copy *c = arg;

	return sgx_lp_write(lp, c->lin, c->buf, c->len);
}

static void assert_inside(const struct kfx *fx, unsigned int lp)
{
	cr_assert(fx->cpu.lps[lp].enclave_mode,
		  "LP %u is outside the enclave (AEXed by an IPI? "
		  "kfx_eresume() first)", lp);
}

int kfx_read(struct kfx *fx, unsigned int lp, uint64_t offset, void *buf,
	     size_t len, struct kfx_fault *f)
{
	struct kfx_copy c = { fx->base + offset, buf, len };

	assert_inside(fx, lp);
	return kfx_run(fx, lp, op_read, &c, f);
}

int kfx_write(struct kfx *fx, unsigned int lp, uint64_t offset,
	      const void *buf, size_t len, struct kfx_fault *f)
{
	struct kfx_copy c = { fx->base + offset, (void *)buf, len };

	assert_inside(fx, lp);
	return kfx_run(fx, lp, op_write, &c, f);
}

struct kfx_secinfo_op {
	uint64_t target;
	uint64_t flags;
	int (*leaf)(struct sgx_lp *lp, uint64_t secinfo, uint64_t target);
};

/* Write the SECINFO on this LP's slot of the op page, then run the leaf. */
static int op_secinfo_leaf(struct kfx *fx, struct sgx_lp *lp, const void *arg)
{
	const struct kfx_secinfo_op *o = arg;
	struct sgx_secinfo secinfo = { .flags = o->flags };
	uint64_t slot = fx->base + KFX_OP + sizeof(secinfo) * lp->id;
	int ret = sgx_lp_write(lp, slot, &secinfo, sizeof(secinfo));

	if (ret)
		return ret;
	return o->leaf(lp, slot, o->target);
}

int kfx_eaccept(struct kfx *fx, unsigned int lp, uint64_t offset,
		uint64_t flags, struct kfx_fault *f)
{
	struct kfx_secinfo_op o = { fx->base + offset, flags, enclu_eaccept };

	assert_inside(fx, lp);
	return kfx_run(fx, lp, op_secinfo_leaf, &o, f);
}

int kfx_emodpe(struct kfx *fx, unsigned int lp, uint64_t offset,
	       uint64_t flags, struct kfx_fault *f)
{
	struct kfx_secinfo_op o = { fx->base + offset, flags, enclu_emodpe };

	assert_inside(fx, lp);
	return kfx_run(fx, lp, op_secinfo_leaf, &o, f);
}

int kfx_map(struct kfx *fx, struct sgx_mm *mm, uint64_t off, uint64_t len,
	    unsigned long prot)
{
	return sgx_mmap(fx->file, mm, fx->base + off, len, prot,
			SGX_MAP_SHARED | SGX_MAP_FIXED);
}

const struct sgx_pte *kfx_pte_of(const struct kfx *fx, struct sgx_mm *mm,
				 uint64_t off)
{
	return sgx_pgtable_lookup(&mm->pgtable, fx->base + off);
}
