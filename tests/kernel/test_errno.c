// SPDX-License-Identifier: MIT
/*
 * Every check of every /dev/sgx_enclave ioctl, table-driven: the errno
 * Linux 6.12 gives, whether the argument structure was copied back (and
 * then count and result), and that nothing else changed. The cases follow
 * linux-sgx-driver.md sections 5.0-5.3 and 5.5 check by check, and include
 * the order of checks where two fail at once.
 *
 * The cases that need a second thread, the reclaimer or an OS bug
 * (-EBUSY, signals, the reclaim windows, ETRACK failure, a read-only
 * argument) follow the table as separate tests.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernel/encl.h"
#include "kfixture.h"

/* Where each case starts. */
enum kst {
	ST_OPEN, /* the file is open, nothing created */
	ST_CREATED, /* CREATE, then every segment but the heap */
	ST_LOADED, /* every segment added, not initialized */
	ST_INIT, /* kfx_build(): initialized and mapped */
};

enum argk { ARG_OK, ARG_NULL, ARG_BAD };

union kargs {
	struct sgx_enclave_create create;
	struct sgx_enclave_add_pages add;
	struct sgx_enclave_init init;
	struct sgx_enclave_provision prov;
	struct sgx_enclave_restrict_permissions rp;
	struct sgx_enclave_modify_types mt;
	struct sgx_enclave_remove_pages rm;
	uint64_t raw;
};

struct ectx {
	struct kfx fx;
	struct sgx_secs secs __attribute__((aligned(4096)));
	struct sgx_secinfo secinfo;
	uint8_t *src; /* one page, the ADD_PAGES source */
	uint8_t *bad; /* a PROT_NONE page: every copy from it fails */
	union kargs a;
};

struct ecase {
	const char *name;
	enum kst state;
	bool no_sgx2;
	unsigned int cmd;
	enum argk argk;
	void (*prep)(struct ectx *c);
	long ret;
	bool written; /* the structure was copied back */
	uint64_t count, result;
	bool encls; /* ENCLS may run; otherwise none may */
};

static struct ectx ctx;

#define HOLE 0xC000ULL /* the first page after the default segments */
#define UNKNOWN_CMD _IOW(SGX_MAGIC, 0xff, uint64_t)
#define CREATE_U32 _IOW(SGX_MAGIC, 0x00, uint32_t)

static uint64_t uptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void enter_state(struct ectx *c, enum kst st, bool no_sgx2)
{
	struct kfx_config cfg = { .no_sgx2 = no_sgx2 };
	struct kfx *fx = &c->fx;

	kfx_init(fx, &cfg);
	if (st == ST_CREATED) {
		cr_assert_eq(kfx_create(fx), 0);
		for (unsigned int s = 0; s < KFX_SEG_HEAP; s++)
			cr_assert_eq(kfx_add_segment(fx, s), 0);
	} else if (st == ST_LOADED) {
		kfx_build_uninit(fx);
	} else if (st == ST_INIT) {
		kfx_build(fx);
	}
}

/* A valid argument for cmd in the case's state; preps then break it. */
static void default_args(struct ectx *c, unsigned int cmd)
{
	struct kfx *fx = &c->fx;
	union kargs *a = &c->a;

	memset(a, 0, sizeof(*a));
	switch (cmd) {
	case SGX_IOC_ENCLAVE_CREATE:
		c->secs = (struct sgx_secs){ .base = fx->base, .size = fx->size,
					     .ssa_frame_size = 1,
					     .attributes = SGX_ATTR_MODE64BIT,
					     .xfrm = 3 };
		a->create.src = uptr(&c->secs);
		break;
	case SGX_IOC_ENCLAVE_ADD_PAGES:
		c->secinfo = (struct sgx_secinfo){
			.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
				 SGX_SECINFO_W };
		a->add = (struct sgx_enclave_add_pages){
			.src = uptr(c->src), .offset = KFX_HEAP,
			.length = PAGE_SIZE, .secinfo = uptr(&c->secinfo) };
		break;
	case SGX_IOC_ENCLAVE_INIT:
		kfx_sign(fx);
		a->init.sigstruct = uptr(&fx->sigstruct);
		break;
	case SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS:
		a->rp = (struct sgx_enclave_restrict_permissions){
			.offset = KFX_DATA_START, .length = PAGE_SIZE,
			.permissions = SGX_SECINFO_R };
		break;
	case SGX_IOC_ENCLAVE_MODIFY_TYPES:
		a->mt = (struct sgx_enclave_modify_types){
			.offset = KFX_DATA_START, .length = PAGE_SIZE,
			.page_type = PT_TRIM };
		break;
	case SGX_IOC_ENCLAVE_REMOVE_PAGES:
		a->rm = (struct sgx_enclave_remove_pages){
			.offset = KFX_DATA_START, .length = PAGE_SIZE };
		break;
	default:
		break;
	}
}

static uint64_t count_of(unsigned int cmd, const union kargs *a)
{
	switch (cmd) {
	case SGX_IOC_ENCLAVE_ADD_PAGES:
		return a->add.count;
	case SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS:
		return a->rp.count;
	case SGX_IOC_ENCLAVE_MODIFY_TYPES:
		return a->mt.count;
	case SGX_IOC_ENCLAVE_REMOVE_PAGES:
		return a->rm.count;
	default:
		return 0;
	}
}

static uint64_t result_of(unsigned int cmd, const union kargs *a)
{
	if (cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS)
		return a->rp.result;
	if (cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES)
		return a->mt.result;
	return 0;
}

/* Clear the outputs, so a copied-back structure can be compared. */
static void clear_outputs(unsigned int cmd, union kargs *a)
{
	if (cmd == SGX_IOC_ENCLAVE_ADD_PAGES)
		a->add.count = 0;
	if (cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS)
		a->rp.count = a->rp.result = 0;
	if (cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES)
		a->mt.count = a->mt.result = 0;
	if (cmd == SGX_IOC_ENCLAVE_REMOVE_PAGES)
		a->rm.count = 0;
}

/* --- preps: each breaks one thing of the default argument ------------ */

static void p_size_3_pages(struct ectx *c) { c->secs.size = 3 * PAGE_SIZE; }
static void p_size_0(struct ectx *c) { c->secs.size = 0; }
static void p_base_unaligned(struct ectx *c) { c->secs.base += PAGE_SIZE; }
static void p_not_64bit(struct ectx *c) { c->secs.attributes = 0; }
static void p_src_null(struct ectx *c) { c->a.create.src = 0; }
static void p_src_bad(struct ectx *c) { c->a.create.src = uptr(c->bad); }

static void p_add_src_unaligned(struct ectx *c) { c->a.add.src += 64; }
static void p_add_src_bad(struct ectx *c) { c->a.add.src = uptr(c->bad); }
static void p_add_off_unaligned(struct ectx *c) { c->a.add.offset += 8; }
static void p_add_len0(struct ectx *c) { c->a.add.length = 0; }
static void p_add_len_unaligned(struct ectx *c) { c->a.add.length = 100; }
static void p_add_overflow(struct ectx *c)
{
	c->a.add.offset = -PAGE_SIZE;
	c->a.add.length = 2 * PAGE_SIZE;
}
static void p_add_beyond(struct ectx *c) { c->a.add.offset = c->fx.size; }
static void p_add_last_beyond(struct ectx *c)
{
	c->a.add.offset = c->fx.size - PAGE_SIZE;
	c->a.add.length = 2 * PAGE_SIZE;
}
static void p_secinfo_null(struct ectx *c) { c->a.add.secinfo = 0; }
static void p_secinfo_bad(struct ectx *c) { c->a.add.secinfo = uptr(c->bad); }
static void p_type(struct ectx *c, enum sgx_page_type t)
{
	c->secinfo.flags = SGX_SECINFO_TYPE(t) | SGX_SECINFO_R;
}
static void p_type_secs(struct ectx *c) { p_type(c, PT_SECS); }
static void p_type_va(struct ectx *c) { p_type(c, PT_VA); }
static void p_type_trim(struct ectx *c) { p_type(c, PT_TRIM); }
static void p_w_only(struct ectx *c)
{
	c->secinfo.flags = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_W;
}
static void p_tcs_perm(struct ectx *c)
{
	c->secinfo.flags = SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_R;
}
static void p_pending_bit(struct ectx *c)
{
	c->secinfo.flags |= SGX_SECINFO_PENDING;
}
static void p_pr_bit(struct ectx *c) { c->secinfo.flags |= SGX_SECINFO_PR; }
static void p_bit16(struct ectx *c) { c->secinfo.flags |= BIT(16); }
static void p_reserved_byte(struct ectx *c) { c->secinfo.reserved[55] = 1; }
static void p_add_existing(struct ectx *c) { c->a.add.offset = KFX_DATA; }

/* HOLE exists first: the heap page goes in, then HOLE is busy. */
static void p_add_partial(struct ectx *c)
{
	struct sgx_enclave_add_pages first = c->a.add;

	first.offset = HOLE;
	cr_assert_eq(kfx_ioctl(&c->fx, SGX_IOC_ENCLAVE_ADD_PAGES, &first), 0);
	c->a.add.length = 2 * PAGE_SIZE;
}

/* A TCS whose reserved bytes are set: EADD #GPs. */
static void p_add_bad_tcs(struct ectx *c)
{
	c->secinfo.flags = SGX_SECINFO_TYPE(PT_TCS);
	memset(c->src, 0xFF, PAGE_SIZE);
}
static void p_add_flags(struct ectx *c) { c->a.add.flags = ~0ULL; }
static void p_add_count(struct ectx *c) { c->a.add.count = 12345; }

static void p_sig_null(struct ectx *c) { c->a.init.sigstruct = 0; }
static void p_sig_bad(struct ectx *c) { c->a.init.sigstruct = uptr(c->bad); }
static void p_vendor(struct ectx *c) { c->fx.sigstruct.header.vendor = 1; }
static void p_vendor_intel(struct ectx *c)
{
	c->fx.sigstruct.header.vendor = 0x8086;
}
static void p_vendor_intel_signed(struct ectx *c)
{
	p_vendor_intel(c);
	kfx_resign(&c->fx);
}
static void p_attr_reserved(struct ectx *c)
{
	c->fx.sigstruct.body.attributes |= BIT(3);
}
static void p_misc_reserved(struct ectx *c)
{
	c->fx.sigstruct.body.miscselect |= 2;
	c->fx.sigstruct.body.misc_mask |= 2;
}
static void p_misc_unmasked(struct ectx *c)
{
	c->fx.sigstruct.body.miscselect |= 2;
	kfx_resign(&c->fx);
}
static void p_xfrm_reserved(struct ectx *c)
{
	c->fx.sigstruct.body.xfrm |= 8;
}
static void p_bad_mrenclave(struct ectx *c)
{
	c->fx.sigstruct.body.mrenclave[0] ^= 1;
}
static void p_bad_signature(struct ectx *c)
{
	c->fx.sigstruct.signature[7] ^= 1;
}

static void p_prov_fd(struct ectx *c)
{
	int fd = open("/dev/null", O_RDONLY);

	cr_assert_geq(fd, 0);
	c->a.prov.fd = (uint64_t)fd;
}

/* Offsets and lengths, the same for the three EDMM structures. */
static uint64_t *edmm_offset(union kargs *a, unsigned int cmd)
{
	if (cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS)
		return &a->rp.offset;
	if (cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES)
		return &a->mt.offset;
	return &a->rm.offset;
}

static unsigned int cur_cmd;

static void p_off_unaligned(struct ectx *c)
{
	*edmm_offset(&c->a, cur_cmd) += 16;
}
static void p_len0(struct ectx *c) { edmm_offset(&c->a, cur_cmd)[1] = 0; }
static void p_len_unaligned(struct ectx *c)
{
	edmm_offset(&c->a, cur_cmd)[1] = PAGE_SIZE + 1;
}
static void p_overflow(struct ectx *c)
{
	edmm_offset(&c->a, cur_cmd)[0] = -PAGE_SIZE;
	edmm_offset(&c->a, cur_cmd)[1] = 2 * PAGE_SIZE;
}
static void p_beyond(struct ectx *c)
{
	edmm_offset(&c->a, cur_cmd)[0] = c->fx.size;
}
static void p_last_beyond(struct ectx *c)
{
	edmm_offset(&c->a, cur_cmd)[0] = c->fx.size - PAGE_SIZE;
	edmm_offset(&c->a, cur_cmd)[1] = 2 * PAGE_SIZE;
}
static void p_at(struct ectx *c, uint64_t offset, uint64_t length)
{
	edmm_offset(&c->a, cur_cmd)[0] = offset;
	edmm_offset(&c->a, cur_cmd)[1] = length;
}
static void p_at_hole(struct ectx *c) { p_at(c, HOLE, PAGE_SIZE); }
/* The last page of ELRANGE passes the range check: it is a hole. */
static void p_last_page(struct ectx *c)
{
	p_at(c, c->fx.size - PAGE_SIZE, PAGE_SIZE);
}
static void p_at_tcs(struct ectx *c) { p_at(c, KFX_TCS2, PAGE_SIZE); }
static void p_at_text(struct ectx *c) { p_at(c, KFX_TEXT, PAGE_SIZE); }
static void p_heap_then_hole(struct ectx *c)
{
	p_at(c, KFX_HEAP, 2 * PAGE_SIZE);
}

static void p_perm(struct ectx *c, uint64_t perm)
{
	c->a.rp.permissions = perm;
}
static void p_perm_bit3(struct ectx *c) { p_perm(c, 8); }
static void p_perm_w(struct ectx *c) { p_perm(c, SGX_SECINFO_W); }
static void p_perm_wx(struct ectx *c)
{
	p_perm(c, SGX_SECINFO_W | SGX_SECINFO_X);
}
static void p_perm_0(struct ectx *c) { p_perm(c, 0); }
static void p_perm_x(struct ectx *c) { p_perm(c, SGX_SECINFO_X); }
static void p_perm_rwx(struct ectx *c) { p_perm(c, 7); }
static void p_rp_result(struct ectx *c) { c->a.rp.result = 1; }
static void p_rp_count(struct ectx *c) { c->a.rp.count = PAGE_SIZE; }

static void p_type_of(struct ectx *c, uint64_t t) { c->a.mt.page_type = t; }
static void p_mt_0x100(struct ectx *c) { p_type_of(c, 0x100); }
static void p_mt_0x104(struct ectx *c) { p_type_of(c, 0x104); }
static void p_mt_reg(struct ectx *c) { p_type_of(c, PT_REG); }
static void p_mt_secs(struct ectx *c) { p_type_of(c, PT_SECS); }
static void p_mt_va(struct ectx *c) { p_type_of(c, PT_VA); }
static void p_mt_result(struct ectx *c) { c->a.mt.result = 20; }
static void p_mt_count(struct ectx *c) { c->a.mt.count = 1; }
static void p_rm_count(struct ectx *c) { c->a.rm.count = 1; }

static void trim(struct ectx *c, uint64_t offset)
{
	uint64_t count;

	cr_assert_eq(kfx_modify_types(&c->fx, offset, PAGE_SIZE, PT_TRIM,
				      &count, NULL), 0);
	cr_assert_eq(count, PAGE_SIZE);
}

static void p_trimmed(struct ectx *c) { trim(c, KFX_DATA_START); }
static void p_tcs_to_tcs(struct ectx *c)
{
	p_at_tcs(c);
	p_type_of(c, PT_TCS);
}
static void p_trim_to_tcs(struct ectx *c)
{
	trim(c, KFX_DATA_START);
	p_type_of(c, PT_TCS);
}
static void p_text_to_tcs(struct ectx *c)
{
	p_at_text(c);
	p_type_of(c, PT_TCS);
}

/* Trim data_start and let the enclave EACCEPT it (TCS1 on LP 0). */
static void p_trimmed_accepted(struct ectx *c)
{
	struct kfx *fx = &c->fx;

	trim(c, KFX_DATA_START);
	cr_assert_eq(kfx_enter(fx, 0, KFX_TCS1, NULL), 0);
	cr_assert_eq(kfx_eaccept(fx, 0, KFX_DATA_START,
				 SGX_SECINFO_TYPE(PT_TRIM) |
					 SGX_SECINFO_MODIFIED, NULL), 0);
	kfx_exit(fx, 0);
}

/*
 * The augment selftest: map the hole RWX and write to it from the enclave.
 * The kernel EAUGs the page; the write then takes an EPCM fault on the
 * PENDING page, which the kernel does not fix.
 */
static void p_pending(struct ectx *c)
{
	struct kfx *fx = &c->fx;
	struct kfx_fault f;
	uint64_t v = 1;

	cr_assert_eq(sgx_mmap(fx->file, fx->mm, fx->base + HOLE, PAGE_SIZE,
			      SGX_PROT_READ | SGX_PROT_WRITE | SGX_PROT_EXEC,
			      SGX_MAP_SHARED | SGX_MAP_FIXED), 0);
	cr_assert_eq(kfx_enter(fx, 0, KFX_TCS1, NULL), 0);
	kfx_write(fx, 0, HOLE, &v, sizeof(v), &f);
	cr_assert(f.raised);
	cr_assert_eq(f.error_code, X86_PF_SGX | X86_PF_USER | X86_PF_WRITE |
				   X86_PF_PROT);
	cr_assert(kfx_epcm(fx, HOLE)->pending);
	p_at_hole(c);
}
static void p_pending_tcs(struct ectx *c)
{
	p_pending(c);
	p_type_of(c, PT_TCS);
}

/* A check that fails before any ENCLS and before the copy back. */
#define V(n, st, ns, c, ak, pr, r)                                        \
	{ .name = n, .state = st, .no_sgx2 = ns, .cmd = c, .argk = ak,    \
	  .prep = pr, .ret = r }
/* Fails before any ENCLS, but after the copy back (count 0). */
#define VW(n, st, ns, c, ak, pr, r)                                       \
	{ .name = n, .state = st, .no_sgx2 = ns, .cmd = c, .argk = ak,    \
	  .prep = pr, .ret = r, .written = true }
/* Everything given. */
#define F(n, st, ns, c, ak, pr, r, w, cnt, res, en)                       \
	{ .name = n, .state = st, .no_sgx2 = ns, .cmd = c, .argk = ak,    \
	  .prep = pr, .ret = r, .written = w, .count = cnt, .result = res, \
	  .encls = en }
#define RP SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS
#define MT SGX_IOC_ENCLAVE_MODIFY_TYPES
#define RM SGX_IOC_ENCLAVE_REMOVE_PAGES
#define CR SGX_IOC_ENCLAVE_CREATE
#define AP SGX_IOC_ENCLAVE_ADD_PAGES
#define IN SGX_IOC_ENCLAVE_INIT
#define PV SGX_IOC_ENCLAVE_PROVISION

/* The checks shared by the three EDMM ioctls, in Linux's order. */
#define EDMM_COMMON(cmd, n)                                                  \
	V(n "_no_sgx2", ST_INIT, true, cmd, ARG_OK, NULL, -ENODEV),          \
	V(n "_no_sgx2_first", ST_OPEN, true, cmd, ARG_NULL, NULL, -ENODEV), \
	V(n "_not_init", ST_LOADED, false, cmd, ARG_OK, NULL, -EINVAL),     \
	V(n "_not_init_first", ST_OPEN, false, cmd, ARG_NULL, NULL,         \
	  -EINVAL),                                                          \
	V(n "_null", ST_INIT, false, cmd, ARG_NULL, NULL, -EFAULT),         \
	V(n "_bad", ST_INIT, false, cmd, ARG_BAD, NULL, -EFAULT),           \
	V(n "_off_unaligned", ST_INIT, false, cmd, ARG_OK, p_off_unaligned, \
	  -EINVAL),                                                          \
	V(n "_len0", ST_INIT, false, cmd, ARG_OK, p_len0, -EINVAL),         \
	V(n "_len_unaligned", ST_INIT, false, cmd, ARG_OK, p_len_unaligned, \
	  -EINVAL),                                                          \
	V(n "_overflow", ST_INIT, false, cmd, ARG_OK, p_overflow, -EINVAL), \
	V(n "_beyond", ST_INIT, false, cmd, ARG_OK, p_beyond, -EINVAL),     \
	V(n "_last_beyond", ST_INIT, false, cmd, ARG_OK, p_last_beyond,     \
	  -EINVAL),                                                          \
	F(n "_hole", ST_INIT, false, cmd, ARG_OK, p_at_hole, -EFAULT, true, \
	  0, 0, true),                                                       \
	F(n "_last_page", ST_INIT, false, cmd, ARG_OK, p_last_page, -EFAULT, \
	  true, 0, 0, true),                                                 \
	F(n "_partial_hole", ST_INIT, false, cmd, ARG_OK, p_heap_then_hole, \
	  cmd == RM ? -EPERM : -EFAULT, true, cmd == RM ? 0 : PAGE_SIZE, 0,  \
	  true)

static const struct ecase cases[] = {
	/* sgx_ioctl(): exact command numbers only. */
	V("unknown_cmd", ST_INIT, false, UNKNOWN_CMD, ARG_OK, NULL, -ENOTTY),
	V("unknown_cmd_open", ST_OPEN, false, UNKNOWN_CMD, ARG_NULL, NULL,
	  -ENOTTY),
	V("vepc_remove_all", ST_INIT, false, SGX_IOC_VEPC_REMOVE_ALL, ARG_OK,
	  NULL, -ENOTTY),
	V("create_wrong_size", ST_OPEN, false, CREATE_U32, ARG_OK, NULL,
	  -ENOTTY),

	/* CREATE */
	F("create_ok", ST_OPEN, false, CR, ARG_OK, NULL, 0, false, 0, 0,
	  true),
	V("create_null", ST_OPEN, false, CR, ARG_NULL, NULL, -EFAULT),
	V("create_bad", ST_OPEN, false, CR, ARG_BAD, NULL, -EFAULT),
	V("create_src_null", ST_OPEN, false, CR, ARG_OK, p_src_null, -EFAULT),
	V("create_src_bad", ST_OPEN, false, CR, ARG_OK, p_src_bad, -EFAULT),
	V("create_not_pow2", ST_OPEN, false, CR, ARG_OK, p_size_3_pages,
	  -EINVAL),
	V("create_size_0", ST_OPEN, false, CR, ARG_OK, p_size_0, -EINVAL),
	F("create_ecreate_base", ST_OPEN, false, CR, ARG_OK, p_base_unaligned,
	  -EIO, false, 0, 0, true),
	F("create_ecreate_32bit", ST_OPEN, false, CR, ARG_OK, p_not_64bit,
	  -EIO, false, 0, 0, true),
	V("create_twice", ST_CREATED, false, CR, ARG_OK, NULL, -EINVAL),
	V("create_twice_first", ST_CREATED, false, CR, ARG_NULL, NULL,
	  -EINVAL),
	V("create_after_init", ST_INIT, false, CR, ARG_OK, NULL, -EINVAL),

	/* ADD_PAGES */
	F("add_ok", ST_CREATED, false, AP, ARG_OK, NULL, 0, true, PAGE_SIZE,
	  0, true),
	V("add_not_created", ST_OPEN, false, AP, ARG_OK, NULL, -EINVAL),
	V("add_not_created_first", ST_OPEN, false, AP, ARG_NULL, NULL,
	  -EINVAL),
	V("add_initialized", ST_INIT, false, AP, ARG_OK, NULL, -EINVAL),
	V("add_null", ST_CREATED, false, AP, ARG_NULL, NULL, -EFAULT),
	V("add_bad", ST_CREATED, false, AP, ARG_BAD, NULL, -EFAULT),
	V("add_src_unaligned", ST_CREATED, false, AP, ARG_OK,
	  p_add_src_unaligned, -EINVAL),
	V("add_off_unaligned", ST_CREATED, false, AP, ARG_OK,
	  p_add_off_unaligned, -EINVAL),
	V("add_len0", ST_CREATED, false, AP, ARG_OK, p_add_len0, -EINVAL),
	V("add_len_unaligned", ST_CREATED, false, AP, ARG_OK,
	  p_add_len_unaligned, -EINVAL),
	V("add_overflow", ST_CREATED, false, AP, ARG_OK, p_add_overflow,
	  -EINVAL),
	V("add_beyond", ST_CREATED, false, AP, ARG_OK, p_add_beyond, -EINVAL),
	V("add_last_beyond", ST_CREATED, false, AP, ARG_OK,
	  p_add_last_beyond, -EINVAL),
	V("add_secinfo_null", ST_CREATED, false, AP, ARG_OK, p_secinfo_null,
	  -EFAULT),
	V("add_secinfo_bad", ST_CREATED, false, AP, ARG_OK, p_secinfo_bad,
	  -EFAULT),
	V("add_type_secs", ST_CREATED, false, AP, ARG_OK, p_type_secs,
	  -EINVAL),
	V("add_type_va", ST_CREATED, false, AP, ARG_OK, p_type_va, -EINVAL),
	V("add_type_trim", ST_CREATED, false, AP, ARG_OK, p_type_trim,
	  -EINVAL),
	V("add_w_without_r", ST_CREATED, false, AP, ARG_OK, p_w_only,
	  -EINVAL),
	V("add_tcs_with_perm", ST_CREATED, false, AP, ARG_OK, p_tcs_perm,
	  -EINVAL),
	V("add_pending_bit", ST_CREATED, false, AP, ARG_OK, p_pending_bit,
	  -EINVAL),
	V("add_pr_bit", ST_CREATED, false, AP, ARG_OK, p_pr_bit, -EINVAL),
	V("add_bit16", ST_CREATED, false, AP, ARG_OK, p_bit16, -EINVAL),
	V("add_reserved_byte", ST_CREATED, false, AP, ARG_OK, p_reserved_byte,
	  -EINVAL),
	F("add_src_unreadable", ST_CREATED, false, AP, ARG_OK, p_add_src_bad,
	  -EFAULT, true, 0, 0, true),
	F("add_existing", ST_CREATED, false, AP, ARG_OK, p_add_existing,
	  -EBUSY, true, 0, 0, true),
	F("add_partial", ST_CREATED, false, AP, ARG_OK, p_add_partial, -EBUSY,
	  true, PAGE_SIZE, 0, true),
	F("add_eadd_fails", ST_CREATED, false, AP, ARG_OK, p_add_bad_tcs,
	  -EIO, true, 0, 0, true),
	F("add_flags_unchecked", ST_CREATED, false, AP, ARG_OK, p_add_flags, 0,
	  true, PAGE_SIZE, 0, true),
	F("add_count_ignored", ST_CREATED, false, AP, ARG_OK, p_add_count, 0,
	  true, PAGE_SIZE, 0, true),

	/* INIT */
	F("init_ok", ST_LOADED, false, IN, ARG_OK, NULL, 0, false, 0, 0,
	  true),
	V("init_not_created", ST_OPEN, false, IN, ARG_OK, NULL, -EINVAL),
	V("init_twice", ST_INIT, false, IN, ARG_OK, NULL, -EINVAL),
	V("init_twice_first", ST_INIT, false, IN, ARG_NULL, NULL, -EINVAL),
	V("init_null", ST_LOADED, false, IN, ARG_NULL, NULL, -EFAULT),
	V("init_bad", ST_LOADED, false, IN, ARG_BAD, NULL, -EFAULT),
	V("init_sig_null", ST_LOADED, false, IN, ARG_OK, p_sig_null, -EFAULT),
	V("init_sig_bad", ST_LOADED, false, IN, ARG_OK, p_sig_bad, -EFAULT),
	V("init_vendor", ST_LOADED, false, IN, ARG_OK, p_vendor, -EINVAL),
	F("init_vendor_intel_unsigned", ST_LOADED, false, IN, ARG_OK,
	  p_vendor_intel, -EPERM, false, 0, 0, true),
	V("init_attr_reserved", ST_LOADED, false, IN, ARG_OK, p_attr_reserved,
	  -EINVAL),
	V("init_misc_reserved", ST_LOADED, false, IN, ARG_OK, p_misc_reserved,
	  -EINVAL),
	F("init_vendor_intel", ST_LOADED, false, IN, ARG_OK,
	  p_vendor_intel_signed, 0, false, 0, 0, true),
	F("init_misc_unmasked", ST_LOADED, false, IN, ARG_OK,
	  p_misc_unmasked, 0, false, 0, 0, true),
	V("init_xfrm_reserved", ST_LOADED, false, IN, ARG_OK, p_xfrm_reserved,
	  -EINVAL),
	F("init_bad_mrenclave", ST_LOADED, false, IN, ARG_OK, p_bad_mrenclave,
	  -EPERM, false, 0, 0, true),
	F("init_bad_signature", ST_LOADED, false, IN, ARG_OK, p_bad_signature,
	  -EPERM, false, 0, 0, true),

	/* PROVISION */
	V("provision_null", ST_INIT, false, PV, ARG_NULL, NULL, -EFAULT),
	V("provision_bad", ST_INIT, false, PV, ARG_BAD, NULL, -EFAULT),
	V("provision_fd0", ST_LOADED, false, PV, ARG_OK, NULL, -EINVAL),
	V("provision_fd", ST_OPEN, false, PV, ARG_OK, p_prov_fd, -EINVAL),

	/* RESTRICT_PERMISSIONS */
	EDMM_COMMON(RP, "rp"),
	F("rp_ok", ST_INIT, false, RP, ARG_OK, NULL, 0, true, PAGE_SIZE, 0,
	  true),
	V("rp_perm_bit3", ST_INIT, false, RP, ARG_OK, p_perm_bit3, -EINVAL),
	V("rp_perm_w", ST_INIT, false, RP, ARG_OK, p_perm_w, -EINVAL),
	V("rp_perm_wx", ST_INIT, false, RP, ARG_OK, p_perm_wx, -EINVAL),
	V("rp_result_set", ST_INIT, false, RP, ARG_OK, p_rp_result, -EINVAL),
	V("rp_count_set", ST_INIT, false, RP, ARG_OK, p_rp_count, -EINVAL),
	F("rp_perm_0", ST_INIT, false, RP, ARG_OK, p_perm_0, 0, true,
	  PAGE_SIZE, 0, true),
	F("rp_perm_x", ST_INIT, false, RP, ARG_OK, p_perm_x, 0, true,
	  PAGE_SIZE, 0, true),
	F("rp_perm_rwx", ST_INIT, false, RP, ARG_OK, p_perm_rwx, 0, true,
	  PAGE_SIZE, 0, true),
	F("rp_tcs", ST_INIT, false, RP, ARG_OK, p_at_tcs, -EINVAL, true, 0, 0,
	  true),
	F("rp_trim", ST_INIT, false, RP, ARG_OK, p_trimmed, -EINVAL, true, 0,
	  0, true),
	F("rp_pending", ST_INIT, false, RP, ARG_OK, p_pending, -EFAULT, true,
	  0, SGX_PAGE_NOT_MODIFIABLE, true),

	/* MODIFY_TYPES */
	EDMM_COMMON(MT, "mt"),
	F("mt_ok", ST_INIT, false, MT, ARG_OK, NULL, 0, true, PAGE_SIZE, 0,
	  true),
	V("mt_type_0x100", ST_INIT, false, MT, ARG_OK, p_mt_0x100, -EINVAL),
	V("mt_type_0x104", ST_INIT, false, MT, ARG_OK, p_mt_0x104, -EINVAL),
	V("mt_result_set", ST_INIT, false, MT, ARG_OK, p_mt_result, -EINVAL),
	V("mt_count_set", ST_INIT, false, MT, ARG_OK, p_mt_count, -EINVAL),
	VW("mt_type_reg", ST_INIT, false, MT, ARG_OK, p_mt_reg, -EINVAL),
	VW("mt_type_secs", ST_INIT, false, MT, ARG_OK, p_mt_secs, -EINVAL),
	VW("mt_type_va", ST_INIT, false, MT, ARG_OK, p_mt_va, -EINVAL),
	F("mt_trim_to_trim", ST_INIT, false, MT, ARG_OK, p_trimmed, -EINVAL,
	  true, 0, 0, true),
	F("mt_trim_to_tcs", ST_INIT, false, MT, ARG_OK, p_trim_to_tcs,
	  -EINVAL, true, 0, 0, true),
	F("mt_tcs_to_tcs", ST_INIT, false, MT, ARG_OK, p_tcs_to_tcs, -EINVAL,
	  true, 0, 0, true),
	F("mt_tcs_to_trim", ST_INIT, false, MT, ARG_OK, p_at_tcs, 0, true,
	  PAGE_SIZE, 0, true),
	F("mt_rx_to_tcs", ST_INIT, false, MT, ARG_OK, p_text_to_tcs, -EPERM,
	  true, 0, 0, true),
	F("mt_pending_trim", ST_INIT, false, MT, ARG_OK, p_pending, -EFAULT,
	  true, 0, SGX_PAGE_NOT_MODIFIABLE, true),
	F("mt_pending_tcs", ST_INIT, false, MT, ARG_OK, p_pending_tcs, -EFAULT,
	  true, 0, SGX_PAGE_NOT_MODIFIABLE, true),

	/* REMOVE_PAGES */
	EDMM_COMMON(RM, "rm"),
	V("rm_count_set", ST_INIT, false, RM, ARG_OK, p_rm_count, -EINVAL),
	F("rm_reg", ST_INIT, false, RM, ARG_OK, NULL, -EPERM, true, 0, 0,
	  true),
	F("rm_tcs", ST_INIT, false, RM, ARG_OK, p_at_tcs, -EPERM, true, 0, 0,
	  true),
	F("rm_not_accepted", ST_INIT, false, RM, ARG_OK, p_trimmed, -EPERM,
	  true, 0, 0, true),
	F("rm_pending", ST_INIT, false, RM, ARG_OK, p_pending, -EPERM, true, 0,
	  0, true),
	F("rm_ok", ST_INIT, false, RM, ARG_OK, p_trimmed_accepted, 0, true,
	  PAGE_SIZE, 0, true),
};

/*
 * Criterion may run each parameter in a freshly executed process, where
 * the pointers in the table would be stale: pass the index instead.
 */
ParameterizedTestParameters(ioctl_errno, table)
{
	static size_t index[ARRAY_SIZE(cases)];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		index[i] = i;
	return cr_make_param_array(size_t, index, ARRAY_SIZE(index));
}

static void *arg_of(const struct ecase *e, struct ectx *c)
{
	if (e->argk == ARG_NULL)
		return NULL;
	if (e->argk == ARG_BAD)
		return c->bad;
	return &c->a;
}

/* The state the ioctl may not touch when it fails before any ENCLS. */
struct snapshot {
	uint64_t encls[SGX_STATS_ENCLS_LEAVES];
	struct sgx_encl_stats stats;
	unsigned long flags;
	unsigned int page_cnt, secs_child_cnt;
	uint64_t nr_free_pages;
};

static void snap(const struct kfx *fx, struct snapshot *s)
{
	memcpy(s->encls, fx->cpu.stats.encls, sizeof(s->encls));
	s->stats = fx->encl->stats;
	s->flags = fx->encl->flags;
	s->page_cnt = fx->encl->page_cnt;
	s->secs_child_cnt = fx->encl->secs_child_cnt;
	s->nr_free_pages = fx->drv.nr_free_pages;
}

static void expect_unchanged(const struct ecase *e, const struct kfx *fx,
			     const struct snapshot *s)
{
	struct snapshot now;

	snap(fx, &now);
	cr_assert_arr_eq(now.encls, s->encls, sizeof(s->encls),
			 "%s: ENCLS ran", e->name);
	cr_assert_arr_eq(&now.stats, &s->stats, sizeof(s->stats),
			 "%s: enclave counters moved", e->name);
	cr_assert_eq(now.flags, s->flags, "%s: flags", e->name);
	cr_assert_eq(now.page_cnt, s->page_cnt, "%s", e->name);
	cr_assert_eq(now.secs_child_cnt, s->secs_child_cnt, "%s", e->name);
	cr_assert_eq(now.nr_free_pages, s->nr_free_pages, "%s", e->name);
}

static void expect_copy(const struct ecase *e, const union kargs *before,
			const union kargs *after)
{
	union kargs in = *before, out = *after;

	if (!e->written || e->argk != ARG_OK) {
		cr_assert_arr_eq(after, before, sizeof(*after),
				 "%s: the argument was written", e->name);
		return;
	}
	cr_assert_eq(count_of(e->cmd, after), e->count, "%s: count %lu",
		     e->name, (unsigned long)count_of(e->cmd, after));
	cr_assert_eq(result_of(e->cmd, after), e->result, "%s: result %lu",
		     e->name, (unsigned long)result_of(e->cmd, after));
	clear_outputs(e->cmd, &in);
	clear_outputs(e->cmd, &out);
	cr_assert_arr_eq(&out, &in, sizeof(in), "%s: inputs changed",
			 e->name);
}

ParameterizedTest(size_t *index, ioctl_errno, table)
{
	const struct ecase *e = &cases[*index];
	struct ectx *c = &ctx;
	struct snapshot s;
	union kargs before;
	long ret;

	enter_state(c, e->state, e->no_sgx2);
	c->src = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	memset(c->src, 0, PAGE_SIZE);
	c->bad = mmap(NULL, PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	cr_assert_neq(c->bad, MAP_FAILED);
	cur_cmd = e->cmd;
	default_args(c, e->cmd);
	if (e->prep)
		e->prep(c);
	before = c->a;
	snap(&c->fx, &s);
	ret = kfx_ioctl(&c->fx, e->cmd, arg_of(e, c));
	cr_assert_eq(ret, e->ret, "%s: returned %ld, expected %ld", e->name,
		     ret, e->ret);
	expect_copy(e, &before, &c->a);
	if (!e->encls)
		expect_unchanged(e, &c->fx, &s);
	cr_assert_eq(c->fx.encl->flags & SGX_ENCL_IOCTL, 0);
	kfx_assert_clean(&c->fx);
	kfx_fini(&c->fx);
	free(c->src);
	munmap(c->bad, PAGE_SIZE);
}

/* --- -EBUSY: a second ioctl while one is running ---------------------- */

struct busy {
	struct kfx *fx;
	long ret;
	uint64_t count;
	long other[3];
	struct sgx_enclave_restrict_permissions rp;
};

static void busy_first(void *arg)
{
	struct busy *b = arg;

	b->ret = kfx_restrict(b->fx, KFX_DATA, 3 * PAGE_SIZE, SGX_SECINFO_R,
			      &b->count, NULL);
}

static void busy_second(void *arg)
{
	struct busy *b = arg;
	struct kfx *fx = b->fx;

	while (!(fx->encl->flags & SGX_ENCL_IOCTL))
		sim_yield(&fx->sim);
	b->rp = (struct sgx_enclave_restrict_permissions){
		.offset = KFX_HEAP, .length = PAGE_SIZE,
		.permissions = SGX_SECINFO_R };
	b->other[0] = kfx_ioctl(fx, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS,
				&b->rp);
	b->other[1] = kfx_ioctl(fx, UNKNOWN_CMD, NULL);
	b->other[2] = kfx_ioctl(fx, SGX_IOC_ENCLAVE_CREATE, NULL);
}

Test(ioctl_errno, busy)
{
	struct kfx *fx = &ctx.fx;
	struct busy b = { .fx = fx };

	kfx_init(fx, NULL);
	kfx_build(fx);
	cr_assert_geq(sim_spawn(&fx->sim, "first", 0, false, busy_first, &b),
		      0);
	cr_assert_geq(sim_spawn(&fx->sim, "second", 1, false, busy_second,
				&b), 0);
	cr_assert_eq(sim_run(&fx->sim), 0);
	/* The flag is tested before the command: all three are -EBUSY. */
	for (unsigned int i = 0; i < 3; i++)
		cr_assert_eq(b.other[i], -EBUSY, "call %u: %ld", i, b.other[i]);
	cr_assert_eq(b.rp.count, 0);
	cr_assert_eq(b.rp.result, 0);
	cr_assert_eq(b.ret, 0);
	cr_assert_eq(b.count, 3 * PAGE_SIZE);
	cr_assert_eq(kfx_epcm(fx, KFX_HEAP)->pr, 0);
	cr_assert_eq(fx->encl->stats.etrack_flows, kfx_flows(fx, 3));
	cr_assert_eq(fx->encl->flags & SGX_ENCL_IOCTL, 0);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

/*
 * --- signals: ADD_PAGES checks per page, and so do RESTRICT_PERMISSIONS
 * and MODIFY_TYPES (a KERNEL departure from Linux 6.12, which has no
 * check there); REMOVE_PAGES does not.
 */

struct sig {
	struct kfx *fx;
	unsigned int thread;
	unsigned int pages_before_signal;
	long ret;
	struct sgx_enclave_add_pages add;
	struct sgx_secinfo secinfo;
	uint64_t count;
};

static void sig_add_heap(void *arg)
{
	struct sig *s = arg;
	struct kfx_segment *heap = &s->fx->seg[KFX_SEG_HEAP];

	s->secinfo.flags = heap->secinfo_flags;
	s->add = (struct sgx_enclave_add_pages){
		.src = uptr(heap->src), .offset = heap->offset,
		.length = heap->size, .secinfo = uptr(&s->secinfo) };
	s->ret = kfx_ioctl(s->fx, SGX_IOC_ENCLAVE_ADD_PAGES, &s->add);
}

/* Raise the signal once the adder has added some pages. */
static void sig_raise(void *arg)
{
	struct sig *s = arg;
	unsigned int base = s->fx->encl->secs_child_cnt;

	while (s->fx->encl->secs_child_cnt < base + s->pages_before_signal)
		sim_yield(&s->fx->sim);
	s->fx->sim.threads[s->thread].signal_pending = true;
}

static void sig_setup(struct kfx *fx, uint64_t heap_pages)
{
	struct kfx_config cfg = { .heap_size = heap_pages * PAGE_SIZE };

	kfx_init(fx, &cfg);
	cr_assert_eq(kfx_create(fx), 0);
	for (unsigned int s = 0; s < KFX_SEG_HEAP; s++)
		cr_assert_eq(kfx_add_segment(fx, s), 0);
}

Test(ioctl_errno, add_pages_signal_first)
{
	struct kfx *fx = &ctx.fx;
	struct sig s = { .fx = fx };
	unsigned int children;

	sig_setup(fx, 4);
	children = fx->encl->secs_child_cnt;
	s.thread = (unsigned int)sim_spawn(&fx->sim, "add", 0, false,
					   sig_add_heap, &s);
	fx->sim.threads[s.thread].signal_pending = true;
	cr_assert_eq(sim_run(&fx->sim), 0);
	cr_assert_eq(s.ret, -ERESTARTSYS);
	cr_assert_eq(s.add.count, 0);
	cr_assert_eq(fx->encl->secs_child_cnt, children);
	cr_assert_null(kfx_page(fx, KFX_HEAP));
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

Test(ioctl_errno, add_pages_signal_partial)
{
	struct kfx *fx = &ctx.fx;
	struct sig s = { .fx = fx, .pages_before_signal = 2 };
	uint64_t added;

	sig_setup(fx, 8);
	s.thread = (unsigned int)sim_spawn(&fx->sim, "add", 0, false,
					   sig_add_heap, &s);
	cr_assert_geq(sim_spawn(&fx->sim, "raise", 1, false, sig_raise, &s),
		      0);
	cr_assert_eq(sim_run(&fx->sim), 0);
	/* After progress the call succeeds, count says how far it got. */
	cr_assert_eq(s.ret, 0);
	added = s.add.count / PAGE_SIZE;
	cr_assert_geq(added, 2);
	cr_assert_lt(added, 8);
	cr_assert_eq(s.add.count % PAGE_SIZE, 0);
	for (uint64_t i = 0; i < 8; i++)
		cr_assert_eq(kfx_page(fx, KFX_HEAP + i * PAGE_SIZE) != NULL,
			     i < added, "heap page %lu", (unsigned long)i);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

static void sig_restrict(void *arg)
{
	struct sig *s = arg;

	s->ret = kfx_restrict(s->fx, KFX_DATA, 3 * PAGE_SIZE, SGX_SECINFO_R,
			      &s->count, NULL);
}

/* A signal before the first page: -ERESTARTSYS and nothing done. */
Test(ioctl_errno, edmm_signal_first)
{
	struct kfx *fx = &ctx.fx;
	struct sig s = { .fx = fx };

	kfx_init(fx, NULL);
	kfx_build(fx);
	s.thread = (unsigned int)sim_spawn(&fx->sim, "restrict", 0, false,
					   sig_restrict, &s);
	fx->sim.threads[s.thread].signal_pending = true;
	cr_assert_eq(sim_run(&fx->sim), 0);
	cr_assert_eq(s.ret, -ERESTARTSYS);
	cr_assert_eq(s.count, 0);
	cr_assert_eq(fx->encl->stats.emodpr, 0);
	cr_assert_eq(fx->encl->stats.etrack_flows, 0);
	cr_assert(!kfx_epcm(fx, KFX_DATA)->pr);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

/*
 * --- the reclaimer's windows ---------------------------------------------
 * A reclaimer thread runs one sgx_reclaim_pages() batch; the chooser lets
 * it run until the watched page is in the window, then runs the ioctl
 * caller to completion. Two windows: isolated (off the active list, so
 * sgx_unmark_page_reclaimable() says -EBUSY) and, later, BEING_RECLAIMED
 * (so sgx_encl_load_page() says -EBUSY).
 */

enum window_kind { W_ISOLATED, W_BEING_RECLAIMED };

struct window {
	struct kfx *fx;
	uint64_t offset;
	enum window_kind kind;
	unsigned int reclaimer, caller;
	bool open;
	long (*call)(struct window *w);
	long ret;
	uint64_t count, result;
};

static bool window_open(const struct window *w)
{
	const struct sgx_encl_page *page = kfx_page(w->fx, w->offset);
	const struct sgx_epc_page *epc = page ? page->epc_page : NULL;
	bool marked;

	if (!epc)
		return false;
	marked = page->desc & SGX_ENCL_PAGE_BEING_RECLAIMED;
	if (w->kind == W_BEING_RECLAIMED)
		return marked;
	return !marked && (epc->flags & SGX_EPC_PAGE_RECLAIMER_TRACKED) &&
	       list_empty(&epc->list);
}

static unsigned int choose_window(void *ctx_, const unsigned int *runnable,
				  unsigned int n, unsigned int current)
{
	struct window *w = ctx_;
	unsigned int want;

	if (!w->open && window_open(w))
		w->open = true;
	want = w->open ? w->caller : w->reclaimer;
	for (unsigned int i = 0; i < n; i++)
		if (runnable[i] == want)
			return i;
	return 0;
}

static void window_reclaimer(void *arg)
{
	struct window *w = arg;

	sgx_reclaim_pages(&w->fx->drv);
}

static void window_caller(void *arg)
{
	struct window *w = arg;

	w->ret = w->call(w);
}

static void run_window(struct window *w)
{
	struct kfx *fx = w->fx;
	struct sgx_encl_page *page = kfx_page(fx, w->offset);

	/* A young page would stay on the list: make it old. */
	sgx_encl_test_and_clear_young(fx->encl, page);
	fx->sim.choose = choose_window;
	fx->sim.choose_ctx = w;
	w->reclaimer = (unsigned int)sim_spawn(&fx->sim, "reclaimer", 1,
					       false, window_reclaimer, w);
	w->caller = (unsigned int)sim_spawn(&fx->sim, "caller", 0, false,
					    window_caller, w);
	cr_assert_eq(sim_run(&fx->sim), 0);
	cr_assert(w->open, "the window never opened");
	kfx_assert_clean(fx);
}

static long w_restrict(struct window *w)
{
	return kfx_restrict(w->fx, w->offset, PAGE_SIZE, SGX_SECINFO_R,
			    &w->count, &w->result);
}

static long w_trim(struct window *w)
{
	return kfx_modify_types(w->fx, w->offset, PAGE_SIZE, PT_TRIM,
				&w->count, &w->result);
}

static long w_to_tcs(struct window *w)
{
	return kfx_modify_types(w->fx, w->offset, PAGE_SIZE, PT_TCS,
				&w->count, &w->result);
}

static long w_remove(struct window *w)
{
	return kfx_remove(w->fx, w->offset, PAGE_SIZE, &w->count);
}

static void window_setup(struct window *w, enum window_kind kind,
			 long (*call)(struct window *), bool trimmed)
{
	*w = (struct window){ .fx = &ctx.fx, .offset = KFX_DATA_START,
			      .kind = kind, .call = call };
	kfx_init(w->fx, NULL);
	kfx_build(w->fx);
	if (trimmed)
		p_trimmed_accepted(&ctx);
}

Test(ioctl_errno, restrict_being_reclaimed)
{
	struct window w;

	window_setup(&w, W_BEING_RECLAIMED, w_restrict, false);
	run_window(&w);
	cr_assert_eq(w.ret, -EAGAIN);
	cr_assert_eq(w.count, 0);
	cr_assert_eq(w.result, 0);
	cr_assert_eq(w.fx->encl->stats.emodpr, 0);
	kfx_fini(w.fx);
}

Test(ioctl_errno, restrict_isolated_is_fine)
{
	struct window w;

	window_setup(&w, W_ISOLATED, w_restrict, false);
	run_window(&w);
	cr_assert_eq(w.ret, 0);
	cr_assert_eq(w.count, PAGE_SIZE);
	kfx_fini(w.fx);
}

Test(ioctl_errno, trim_being_reclaimed)
{
	struct window w;

	window_setup(&w, W_BEING_RECLAIMED, w_trim, false);
	run_window(&w);
	cr_assert_eq(w.ret, -EAGAIN);
	cr_assert_eq(w.count, 0);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(w.fx, w.offset)), PT_REG);
	cr_assert_eq(w.fx->encl->stats.emodt, 0);
	kfx_fini(w.fx);
}

Test(ioctl_errno, to_tcs_isolated)
{
	struct window w;

	window_setup(&w, W_ISOLATED, w_to_tcs, false);
	run_window(&w);
	/* sgx_unmark_page_reclaimable() failed: bits restored, -EAGAIN. */
	cr_assert_eq(w.ret, -EAGAIN);
	cr_assert_eq(w.count, 0);
	cr_assert_eq(kfx_page(w.fx, w.offset)->vm_max_prot_bits,
		     VM_READ | VM_WRITE);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(w.fx, w.offset)), PT_REG);
	cr_assert_eq(w.fx->encl->stats.emodt, 0);
	kfx_fini(w.fx);
}

Test(ioctl_errno, remove_isolated)
{
	struct window w;

	window_setup(&w, W_ISOLATED, w_remove, true);
	run_window(&w);
	/* Here REMOVE_PAGES says -EBUSY, not -EAGAIN. */
	cr_assert_eq(w.ret, -EBUSY);
	cr_assert_eq(w.count, 0);
	cr_assert_not_null(kfx_page(w.fx, w.offset));
	kfx_fini(w.fx);
}

Test(ioctl_errno, remove_being_reclaimed)
{
	struct window w;

	window_setup(&w, W_BEING_RECLAIMED, w_remove, true);
	run_window(&w);
	cr_assert_eq(w.ret, -EAGAIN);
	cr_assert_eq(w.count, 0);
	cr_assert_not_null(kfx_page(w.fx, w.offset));
	kfx_fini(w.fx);
}

/*
 * --- ETRACK failure ------------------------------------------------------
 * An OS bug: LP 1 runs inside the enclave but is missing from the mm's
 * cpumask, so no IPI reaches it. The first ETRACK succeeds; the next finds
 * LP 1 still inside from before it (SGX_PREV_TRK_INCMPL), and so does the
 * retry after the IPI round: -EFAULT for the second page.
 */
static void lost_cpu_setup(struct kfx *fx)
{
	/* Linux's flow: a second ETRACK comes with the second page. */
	struct kfx_config cfg = { .pin_batch = true, .etrack_batch = 1 };

	kfx_init(fx, &cfg);
	kfx_build(fx);
	cr_assert_eq(kfx_enter(fx, 1, KFX_TCS2, NULL), 0);
	sgx_cpumask_clear(&fx->mm->cpumask, 1);
}

static void lost_cpu_teardown(struct kfx *fx)
{
	sgx_cpumask_set(&fx->mm->cpumask, 1);
	kfx_exit(fx, 1);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

Test(ioctl_errno, restrict_etrack_fails)
{
	struct kfx *fx = &ctx.fx;
	uint64_t count, result, etracks;

	lost_cpu_setup(fx);
	etracks = fx->cpu.stats.encls[ETRACK];
	cr_assert_eq(kfx_restrict(fx, KFX_DATA, 2 * PAGE_SIZE, SGX_SECINFO_R,
				  &count, &result), -EFAULT);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(fx->encl->stats.etrack_flows, 2);
	cr_assert_eq(fx->encl->stats.etrack_failures, 2);
	cr_assert_eq(fx->cpu.stats.encls[ETRACK] - etracks, 3);
	/* One round after page 1, one before the retry of page 2. */
	cr_assert_eq(fx->encl->stats.ipi_rounds, 2);
	cr_assert_eq(fx->encl->stats.ipi_aex, 0);
	/* EMODPR cannot be undone: page 2 is restricted, not tracked. */
	cr_assert(kfx_epcm(fx, KFX_DATA)->pr);
	cr_assert(kfx_epcm(fx, KFX_DATA + PAGE_SIZE)->pr);
	cr_assert(!kfx_epcm(fx, KFX_DATA + PAGE_SIZE)->w);
	lost_cpu_teardown(fx);
}

Test(ioctl_errno, modify_types_etrack_fails)
{
	struct kfx *fx = &ctx.fx;
	uint64_t count, result;

	lost_cpu_setup(fx);
	cr_assert_eq(kfx_modify_types(fx, KFX_DATA, 2 * PAGE_SIZE, PT_TRIM,
				      &count, &result), -EFAULT);
	cr_assert_eq(count, PAGE_SIZE);
	cr_assert_eq(result, 0);
	cr_assert_eq(fx->encl->stats.etrack_failures, 2);
	/* The driver records the type only once the page is tracked. */
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(fx, KFX_DATA)), PT_TRIM);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(fx, KFX_DATA + PAGE_SIZE)), PT_REG);
	cr_assert_eq(kfx_epcm(fx, KFX_DATA + PAGE_SIZE)->pt, PT_TRIM);
	cr_assert(kfx_epcm(fx, KFX_DATA + PAGE_SIZE)->modified);
	lost_cpu_teardown(fx);
}

/*
 * --- the copy back fails -------------------------------------------------
 * The argument is readable but not writable: the work is done, and the
 * caller gets -EFAULT instead of count and result.
 */
static void *readonly_copy(const void *arg, size_t len)
{
	void *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	memcpy(p, arg, len);
	cr_assert_eq(mprotect(p, PAGE_SIZE, PROT_READ), 0);
	return p;
}

static long readonly_ioctl(struct kfx *fx, unsigned int cmd, const void *arg,
			   size_t len)
{
	void *ro = readonly_copy(arg, len);
	long ret = kfx_ioctl(fx, cmd, ro);

	cr_assert_arr_eq(ro, arg, len);
	munmap(ro, PAGE_SIZE);
	return ret;
}

Test(ioctl_errno, copy_back_fails)
{
	struct kfx *fx = &ctx.fx;
	struct sgx_enclave_restrict_permissions rp = {
		.offset = KFX_DATA, .length = PAGE_SIZE,
		.permissions = SGX_SECINFO_R };
	struct sgx_enclave_modify_types mt = {
		.offset = KFX_HEAP, .length = PAGE_SIZE, .page_type = PT_TRIM };
	struct sgx_enclave_remove_pages rm = {
		.offset = KFX_DATA_START, .length = PAGE_SIZE };

	kfx_init(fx, NULL);
	kfx_build(fx);
	cr_assert_eq(readonly_ioctl(fx, RP, &rp, sizeof(rp)), -EFAULT);
	cr_assert(kfx_epcm(fx, KFX_DATA)->pr);
	cr_assert_eq(fx->encl->stats.etrack_flows, 1);
	cr_assert_eq(readonly_ioctl(fx, MT, &mt, sizeof(mt)), -EFAULT);
	cr_assert_eq(sgx_encl_page_type_now(kfx_page(fx, KFX_HEAP)), PT_TRIM);
	p_trimmed_accepted(&ctx);
	cr_assert_eq(readonly_ioctl(fx, RM, &rm, sizeof(rm)), -EFAULT);
	cr_assert_null(kfx_page(fx, KFX_DATA_START));
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

Test(ioctl_errno, add_pages_copy_back_fails)
{
	struct kfx *fx = &ctx.fx;
	struct kfx_segment *heap;
	struct sgx_secinfo secinfo;
	struct sgx_enclave_add_pages add;

	sig_setup(fx, 1);
	heap = &fx->seg[KFX_SEG_HEAP];
	secinfo = (struct sgx_secinfo){ .flags = heap->secinfo_flags };
	add = (struct sgx_enclave_add_pages){
		.src = uptr(heap->src), .offset = heap->offset,
		.length = heap->size, .secinfo = uptr(&secinfo) };
	cr_assert_eq(readonly_ioctl(fx, AP, &add, sizeof(add)), -EFAULT);
	cr_assert_not_null(kfx_page(fx, KFX_HEAP));
	/* The enclave is complete: it initializes. */
	cr_assert_eq(kfx_einit(fx), 0);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

/* --- CREATE and INIT failures leave a usable enclave behind ----------- */

Test(ioctl_errno, create_eio_then_ok)
{
	struct kfx *fx = &ctx.fx;
	uint64_t free_pages;

	kfx_init(fx, NULL);
	free_pages = fx->drv.nr_free_pages;
	default_args(&ctx, CR);
	p_base_unaligned(&ctx);
	cr_assert_eq(kfx_ioctl(fx, CR, &ctx.a), -EIO);
	/* The SECS and VA pages went back; nothing is created. */
	cr_assert_eq(fx->drv.nr_free_pages, free_pages);
	cr_assert_eq(fx->encl->flags, 0);
	cr_assert_eq(fx->encl->page_cnt, 0);
	cr_assert(list_empty(&fx->encl->va_pages));
	cr_assert_eq(kfx_create(fx), 0);
	cr_assert_eq(fx->encl->flags, SGX_ENCL_CREATED);
	cr_assert_eq(fx->encl->base, KFX_BASE);
	cr_assert_eq(fx->encl->size, fx->size);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

Test(ioctl_errno, init_eperm_then_ok)
{
	struct kfx *fx = &ctx.fx;
	struct sgx_enclave_init arg = { .sigstruct = uptr(&fx->sigstruct) };

	kfx_init(fx, NULL);
	kfx_build_uninit(fx);
	kfx_sign(fx);
	fx->sigstruct.body.mrenclave[31] ^= 0x80;
	kfx_resign(fx);
	/* A valid signature over the wrong enclave: SGX_INVALID_MEASUREMENT. */
	cr_assert_eq(kfx_ioctl(fx, IN, &arg), -EPERM);
	cr_assert_eq(fx->encl->flags & SGX_ENCL_INITIALIZED, 0);
	cr_assert_eq(kfx_einit(fx), 0);
	cr_assert_eq(fx->encl->flags & SGX_ENCL_INITIALIZED,
		     SGX_ENCL_INITIALIZED);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

/* PROVISIONKEY without a provisioning fd, and what is checked before it. */
Test(ioctl_errno, init_eacces)
{
	struct kfx *fx = &ctx.fx;
	struct sgx_enclave_init arg = { .sigstruct = uptr(&fx->sigstruct) };
	struct sgx_enclave_provision prov = { .fd = 0 };

	kfx_init(fx, NULL);
	default_args(&ctx, CR);
	ctx.secs.attributes |= SGX_ATTR_PROVISIONKEY;
	cr_assert_eq(kfx_ioctl(fx, CR, &ctx.a), 0);
	for (unsigned int s = 0; s < KFX_NR_SEGS; s++)
		cr_assert_eq(kfx_add_segment(fx, s), 0);
	/* No fd can allow it in the model. */
	cr_assert_eq(kfx_ioctl(fx, PV, &prov), -EINVAL);
	cr_assert_eq(fx->encl->attributes_mask & SGX_ATTR_PROVISIONKEY, 0);
	kfx_sign(fx);
	cr_assert_eq(kfx_ioctl(fx, IN, &arg), -EACCES);
	/* -EACCES comes before the reserved-bit checks... */
	fx->sigstruct.body.attributes |= BIT(3);
	cr_assert_eq(kfx_ioctl(fx, IN, &arg), -EACCES);
	/* ...and after the vendor check. */
	fx->sigstruct.header.vendor = 2;
	cr_assert_eq(kfx_ioctl(fx, IN, &arg), -EINVAL);
	cr_assert_eq(fx->cpu.stats.encls[EINIT], 0);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

/*
 * --- the EPC allocator's -ENOMEM -------------------------------------------
 * Four EPC pages, taken by the SECS and VA pages of other enclaves: none
 * is free and none can be reclaimed.
 */
static struct sgx_file *create_other(struct kfx *fx)
{
	struct sgx_file *other;

	cr_assert_eq(sgx_open(&fx->drv, &other), 0);
	default_args(&ctx, CR);
	cr_assert_eq(sgx_ioctl(other, CR, (unsigned long)uptr(&ctx.a)), 0);
	return other;
}

Test(ioctl_errno, create_enomem)
{
	struct kfx_config cfg = { .epc_pages = 4 };
	struct kfx *fx = &ctx.fx;
	struct sgx_file *a, *b;

	kfx_init(fx, &cfg);
	a = create_other(fx);
	b = create_other(fx);
	cr_assert_eq(fx->drv.nr_free_pages, 0);
	cr_assert_eq(kfx_create(fx), -ENOMEM);
	cr_assert_eq(fx->encl->flags, 0);
	cr_assert_eq(fx->encl->page_cnt, 0);
	cr_assert_eq(sgx_release(b), 0);
	cr_assert_eq(kfx_create(fx), 0);
	cr_assert_eq(sgx_release(a), 0);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}

Test(ioctl_errno, add_pages_enomem)
{
	struct kfx_config cfg = { .epc_pages = 4 };
	struct kfx *fx = &ctx.fx;
	struct sgx_file *other;
	struct sgx_enclave_add_pages add;

	kfx_init(fx, &cfg);
	other = create_other(fx);
	cr_assert_eq(kfx_create(fx), 0);
	cr_assert_eq(fx->drv.nr_free_pages, 0);
	default_args(&ctx, AP);
	add = ctx.a.add;
	cr_assert_eq(kfx_ioctl(fx, AP, &add), -ENOMEM);
	cr_assert_eq(add.count, 0);
	cr_assert_null(kfx_page(fx, KFX_HEAP));
	cr_assert_eq(fx->encl->page_cnt, 1);
	cr_assert_eq(sgx_release(other), 0);
	kfx_assert_clean(fx);
	kfx_fini(fx);
}
