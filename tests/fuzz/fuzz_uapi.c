// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over the whole user-space interface of the driver
 * model: every /dev/sgx_enclave ioctl with fuzzed argument structures
 * (bad and read-only pointers, structures that straddle an unmapped page,
 * reserved bits, overlapping and huge ranges), mmap/mprotect/munmap, user
 * page faults at fuzzed addresses with fuzzed error codes, and an enclave
 * thread that enters, reads, writes, EACCEPTs, EMODPEs and EACCEPTCOPYs
 * at fuzzed addresses, handled the way the CPU, Linux and the vDSO do.
 *
 * Each input runs on a fresh small machine in sim's direct mode: a CPU
 * with 32 EPC pages and two LPs (LP 0 runs the kernel, LP 1 the enclave
 * thread), the driver (its default etrack_batch, which an operation can
 * change per enclave), one process, and three files: file 0 holds a
 * minimal initialized enclave, built per input through the ioctls and
 * signed once per process, files 1 and 2 are fresh. ksgxd's work is done
 * in place whenever free EPC is low.
 *
 * Input: a sequence of operations, each an opcode byte and its operands
 * (see the op_* functions); bytes past the end read as zero.
 *
 * Oracles, any violation abort()s so that libFuzzer reports it: the model
 * must not crash or trip a sanitizer; every ioctl returns one of Linux's
 * errnos, and count/result keep their uapi meaning (count page-aligned,
 * within the range, the whole range on success; every page in
 * [offset, offset + count) restricted, retyped or removed, and tracked);
 * a fault the kernel fixes must make progress; and at the end, after the
 * process exits and the files are closed, sgx_cpu_check() passes, no ENCLS
 * warning was counted and every EPC page is free again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernel/encl.h"
#include "platform/sim.h"
#include "sgxemu/uapi.h"
#include "sign/enclave_hash.h"
#include "sign/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EPC_PAGES 32
#define NR_LPS 2
#define ELP 1 /* the enclave thread's LP; the kernel runs on LP 0 */
#define NR_FILES 3
#define OPS_MAX 64
#define FIXED_FAULTS_MAX 64
#define AEP 0x7000DEAD000ULL

/* The minimal enclave of file 0. */
#define A_BASE 0x100000000ULL
#define A_SIZE 0x10000ULL
#define A_TCS1 0x0000ULL
#define A_TCS2 0x1000ULL
#define A_SSA1 0x2000ULL
#define A_SSA2 0x3000ULL
#define A_TEXT 0x4000ULL
#define A_DATA 0x5000ULL /* two pages; SECINFO slots at its start */
#define A_END 0x7000ULL /* holes from here to A_SIZE, mapped RW */
#define B_BASE 0x200000000ULL /* where fuzzed CREATEs go by default */

#define SECINFO_REG SGX_SECINFO_TYPE(PT_REG)

/* User memory: USER_PAGES pages, then an unmapped guard page. */
#define USER_PAGES 8
#define U_ARG 0 /* ioctl argument structures */
#define U_SECINFO 1
#define U_SECS 2
#define U_SIGSTRUCT 3 /* two pages */
#define U_SRC 5 /* ADD_PAGES sources, two pages */
#define U_BLOB 7 /* unknown ioctls */

struct input {
	const uint8_t *p;
	size_t n;
};

struct user_mem {
	uint8_t *rw; /* USER_PAGES pages */
	uint8_t *ro; /* the same pages, mapped read-only */
	uint8_t *none; /* the guard page after rw */
};

struct machine {
	struct sgx_cpu cpu;
	struct sim sim;
	struct sgx_driver drv;
	struct sgx_mm *mm;
	struct sgx_file *files[NR_FILES];
	uint64_t tcs; /* the TCS the enclave thread last entered by */
};

/* What a run needs that does not change: signed once per process. */
static struct {
	struct user_mem u;
	struct sgx_sigstruct sig; /* for the minimal enclave's layout */
	uint8_t *tcs_src; /* two TCS pages, then a zero page */
} once;

static struct machine m;

static void violation(const char *what, long a, long b)
{
	fprintf(stderr, "fuzz_uapi: %s (%ld, %#lx)\n", what, a, b);
	abort();
}

/* ---- input --------------------------------------------------------- */

static uint64_t take(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++) {
		uint64_t b = in->n ? *in->p : 0;

		if (in->n) {
			in->p++;
			in->n--;
		}
		v |= b << (8 * i);
	}
	return v;
}

static unsigned int take8(struct input *in)
{
	return (unsigned int)take(in, 1);
}

/* A page offset into an ELRANGE of up to 24 pages, or a raw value. */
static uint64_t take_offset(struct input *in)
{
	unsigned int b = take8(in);

	return b == 0xFF ? take(in, 8) : (uint64_t)(b % 24) * PAGE_SIZE;
}

/* 0, 1..16 pages, a few unaligned bytes, or a raw value. */
static uint64_t take_length(struct input *in)
{
	unsigned int b = take8(in);

	if (b == 0xFF)
		return take(in, 8);
	if (b >= 0xF0)
		return b - 0xEF;
	return b ? (uint64_t)((b - 1) % 16 + 1) * PAGE_SIZE : 0;
}

/* Mostly inside (or just past) the minimal enclave; else B or raw. */
static uint64_t take_addr(struct input *in)
{
	unsigned int b = take8(in);

	if (b < 0xC0)
		return A_BASE + (uint64_t)(b % 20) * PAGE_SIZE + take8(in) * 16;
	if (b < 0xE0)
		return B_BASE + (uint64_t)(b % 32) * PAGE_SIZE;
	return take(in, 8);
}

/* SECINFO flags: the common ones, or raw bits. */
static uint64_t take_flags(struct input *in)
{
	static const uint64_t common[] = {
		SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W,
		SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X,
		SECINFO_REG | SGX_SECINFO_R,
		SGX_SECINFO_TYPE(PT_TCS),
		SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W |
			SGX_SECINFO_PENDING,
		SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_PR,
		SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED,
		SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_MODIFIED,
		SECINFO_REG | SGX_SECINFO_W,
		0,
	};
	unsigned int b = take8(in);

	return b < ARRAY_SIZE(common) ? common[b] : take(in, 8);
}

/* ---- user pointers ------------------------------------------------- */

enum ptr_kind {
	PTR_GOOD, /* three chances in ten */
	PTR_NULL = 3,
	PTR_UNMAPPED,
	PTR_READ_ONLY,
	PTR_STRADDLE, /* ends in the unmapped guard page */
	PTR_KERNEL,
	PTR_MISALIGNED,
	NR_PTR_KINDS,
};

/*
 * Put size bytes of obj into user memory at page slot and return the
 * pointer the fuzzer chose: *good tells the caller whether the kernel can
 * read and write all of it. Only pointers into our own mappings or into
 * ranges that are never mapped are ever made, so a copy_to_user() cannot
 * land on the harness's own memory.
 */
static uint64_t place(struct input *in, unsigned int slot, const void *obj,
		      size_t size, bool *good)
{
	uint8_t *rw = once.u.rw + (size_t)slot * PAGE_SIZE;
	unsigned int kind = take8(in) % NR_PTR_KINDS;
	uint8_t *end = once.u.rw + USER_PAGES * PAGE_SIZE;

	*good = kind < PTR_NULL;
	switch (kind) {
	case PTR_NULL:
		return 0;
	case PTR_UNMAPPED:
		return (uint64_t)(uintptr_t)once.u.none;
	case PTR_READ_ONLY:
		memcpy(rw, obj, size);
		return (uint64_t)(uintptr_t)(once.u.ro + (size_t)slot * PAGE_SIZE);
	case PTR_STRADDLE:
		rw = end - 1 - take8(in) % (size < 2 ? 1 : size - 1);
		memcpy(rw, obj, (size_t)(end - rw));
		return (uint64_t)(uintptr_t)rw;
	case PTR_KERNEL:
		return 0xffff888000000000ULL + take8(in) * 8;
	case PTR_MISALIGNED:
		rw += 1 + take8(in) % 63;
		break;
	}
	memcpy(rw, obj, size);
	return (uint64_t)(uintptr_t)rw;
}

static void user_mem_init(struct user_mem *u)
{
	size_t len = USER_PAGES * PAGE_SIZE;
	int fd = memfd_create("fuzz_uapi", 0);

	if (fd < 0 || ftruncate(fd, (off_t)len))
		violation("memfd", errno, 0);
	u->rw = mmap(NULL, len + PAGE_SIZE, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->rw == MAP_FAILED ||
	    mmap(u->rw, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED)
		violation("mmap of user memory", errno, 0);
	u->ro = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (u->ro == MAP_FAILED)
		violation("mmap of the read-only view", errno, 0);
	u->none = u->rw + len;
	close(fd);
}

/* ---- the minimal enclave ------------------------------------------- */

struct a_segment {
	uint64_t offset, pages, flags;
	unsigned long prot;
};

static const struct a_segment a_segments[] = {
	{ A_TCS1, 2, SGX_SECINFO_TYPE(PT_TCS), 0 },
	{ A_SSA1, 2, SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W, 0 },
	{ A_TEXT, 1, SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X, 0 },
	{ A_DATA, 2, SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W, 0 },
};

static void fill_tcs(struct sgx_tcs *tcs, uint64_t ssa)
{
	memset(tcs, 0, sizeof(*tcs));
	tcs->ssa_offset = ssa;
	tcs->nr_ssa_frames = 1;
	tcs->entry_offset = A_TEXT;
	tcs->fs_limit = 0xFFFFFFFF;
	tcs->gs_limit = 0xFFFFFFFF;
}

/* MRENCLAVE of the minimal enclave (no page measured), and its SIGSTRUCT. */
static void sign_minimal_enclave(void)
{
	struct sgx_enclave_hash h;
	uint8_t mrenclave[32];
	EVP_PKEY *key = sgx_sign_generate_key();
	int ret = key ? sgx_enclave_hash_start(&h, 1, A_SIZE) : -1;

	for (size_t s = 0; !ret && s < ARRAY_SIZE(a_segments); s++)
		for (uint64_t p = 0; !ret && p < a_segments[s].pages; p++)
			ret = sgx_enclave_hash_eadd(&h, a_segments[s].offset +
							p * PAGE_SIZE,
						    a_segments[s].flags);
	if (ret || sgx_enclave_hash_finish(&h, mrenclave) ||
	    sgx_sign_sigstruct(&once.sig, key, mrenclave, SGX_ATTR_MODE64BIT,
			       3))
		violation("cannot sign the minimal enclave", ret, 0);
	EVP_PKEY_free(key);
}

static void init_once(void)
{
	user_mem_init(&once.u);
	once.tcs_src = aligned_alloc(PAGE_SIZE, 3 * PAGE_SIZE);
	if (!once.tcs_src)
		violation("out of memory", 0, 0);
	memset(once.tcs_src, 0, 3 * PAGE_SIZE);
	fill_tcs((struct sgx_tcs *)once.tcs_src, A_SSA1);
	fill_tcs((struct sgx_tcs *)(once.tcs_src + PAGE_SIZE), A_SSA2);
	sign_minimal_enclave();
}

static long ioctl_ptr(struct sgx_file *f, unsigned int cmd, const void *arg)
{
	return sgx_ioctl(f, cmd, (unsigned long)(uintptr_t)arg);
}

static void must(long ret, const char *what)
{
	if (ret)
		violation(what, ret, 0);
}

/* CREATE, ADD_PAGES, INIT and mmap of file 0, as a loader does. */
static void build_minimal_enclave(struct sgx_file *f)
{
	static struct sgx_secs secs;
	struct sgx_enclave_create create = { (uint64_t)(uintptr_t)&secs };
	struct sgx_enclave_init init = { (uint64_t)(uintptr_t)&once.sig };

	memset(&secs, 0, sizeof(secs));
	secs.base = A_BASE;
	secs.size = A_SIZE;
	secs.ssa_frame_size = 1;
	secs.attributes = SGX_ATTR_MODE64BIT;
	secs.xfrm = 3;
	must(ioctl_ptr(f, SGX_IOC_ENCLAVE_CREATE, &create), "CREATE");
	for (size_t s = 0; s < ARRAY_SIZE(a_segments); s++) {
		struct sgx_secinfo si = { .flags = a_segments[s].flags };

		for (uint64_t p = 0; p < a_segments[s].pages; p++) {
			/* The two TCSs, then zero pages. */
			const uint8_t *src = once.tcs_src +
					     (s ? 2 : p) * PAGE_SIZE;
			struct sgx_enclave_add_pages add = {
				.src = (uint64_t)(uintptr_t)src,
				.offset = a_segments[s].offset + p * PAGE_SIZE,
				.length = PAGE_SIZE,
				.secinfo = (uint64_t)(uintptr_t)&si,
			};

			must(ioctl_ptr(f, SGX_IOC_ENCLAVE_ADD_PAGES, &add),
			     "ADD_PAGES");
		}
	}
	must(ioctl_ptr(f, SGX_IOC_ENCLAVE_INIT, &init), "INIT");
	must(sgx_mmap(f, m.mm, A_BASE, A_TEXT, SGX_PROT_READ | SGX_PROT_WRITE,
		      SGX_MAP_SHARED | SGX_MAP_FIXED), "mmap");
	must(sgx_mmap(f, m.mm, A_BASE + A_TEXT, PAGE_SIZE,
		      SGX_PROT_READ | SGX_PROT_EXEC,
		      SGX_MAP_SHARED | SGX_MAP_FIXED), "mmap");
	must(sgx_mmap(f, m.mm, A_BASE + A_DATA, A_SIZE - A_DATA,
		      SGX_PROT_READ | SGX_PROT_WRITE,
		      SGX_MAP_SHARED | SGX_MAP_FIXED), "mmap");
}

static void machine_init(void)
{
	struct sgx_cpu_config cpu_cfg = {
		.epc_pages = EPC_PAGES,
		.nr_lps = NR_LPS,
		.seed = 0x66757a7aULL,
		.check_invariants = true,
	};
	struct sgx_driver_config drv_cfg = { .sgx2 = true };

	memset(&m, 0, sizeof(m));
	if (sgx_cpu_init(&m.cpu, &cpu_cfg) || sim_init(&m.sim, &m.cpu) ||
	    sgx_driver_init(&m.drv, &m.cpu, &m.sim.plat, &drv_cfg) ||
	    sgx_mm_create(&m.drv, &m.mm))
		violation("cannot set up the machine", 0, 0);
	/* The enclave thread is a thread of the process: its page tables. */
	sgx_mm_activate(m.mm, &m.cpu.lps[ELP]);
	for (unsigned int i = 0; i < NR_FILES; i++)
		must(sgx_open(&m.drv, &m.files[i]), "open");
	build_minimal_enclave(m.files[0]);
}

/* ---- ioctls -------------------------------------------------------- */

static void check_errno(long ret)
{
	switch (ret) {
	case 0:
	case -EINVAL:
	case -EFAULT:
	case -ENOMEM:
	case -EIO:
	case -EBUSY:
	case -EACCES:
	case -EPERM:
	case -EAGAIN:
	case -ENOTTY:
		return;
	default:
		violation("an errno Linux does not give", ret, 0);
	}
}

static struct sgx_file *take_file(struct input *in)
{
	return m.files[take8(in) % NR_FILES];
}

static void op_create(struct input *in, struct sgx_file *f)
{
	static struct sgx_secs secs;
	struct sgx_enclave_create arg;
	unsigned int sel = take8(in), k;
	bool good;

	memset(&secs, 0, sizeof(secs));
	secs.size = (sel & 0xF) < 12 ? PAGE_SIZE << (sel & 0xF) : take(in, 8);
	secs.base = sel & 0x10 ? take(in, 8) : B_BASE;
	secs.ssa_frame_size = sel & 0x20 ? take8(in) : 1;
	secs.attributes = sel & 0x40 ? take(in, 8) : SGX_ATTR_MODE64BIT;
	secs.xfrm = sel & 0x80 ? take(in, 8) : 3;
	k = (unsigned int)take(in, 2);
	if (k < sizeof(secs))
		((uint8_t *)&secs)[k] ^= (uint8_t)take8(in);
	arg.src = place(in, U_SECS, &secs, sizeof(secs), &good);
	check_errno(sgx_ioctl(f, SGX_IOC_ENCLAVE_CREATE,
			      place(in, U_ARG, &arg, sizeof(arg), &good)));
}

/* An ADD_PAGES source: the TCS template, zeros, or fuzzed bytes. */
static uint64_t take_src(struct input *in)
{
	uint8_t *src = once.u.rw + U_SRC * PAGE_SIZE;
	unsigned int sel = take8(in);

	if (sel % 4 == 3)
		return (uint64_t)(uintptr_t)(once.u.none - take8(in) % 2 *
							    PAGE_SIZE);
	if (sel % 4 == 2)
		return take(in, 8);
	if (sel % 4)
		memset(src, 0, 2 * PAGE_SIZE);
	else
		memcpy(src, once.tcs_src, 2 * PAGE_SIZE);
	for (unsigned int n = take8(in) % 8; n; n--)
		src[take(in, 2) % (2 * PAGE_SIZE)] = (uint8_t)take8(in);
	return (uint64_t)(uintptr_t)src;
}

static void op_add_pages(struct input *in, struct sgx_file *f)
{
	struct sgx_secinfo si = { .flags = take_flags(in) };
	struct sgx_enclave_add_pages arg;
	unsigned int sel = take8(in);
	bool good;

	if (sel & 1)
		si.reserved[take8(in) % sizeof(si.reserved)] = 1;
	arg.src = take_src(in);
	arg.offset = take_offset(in);
	arg.length = take_length(in);
	arg.secinfo = place(in, U_SECINFO, &si, sizeof(si), &good);
	arg.flags = sel & 2 ? SGX_PAGE_MEASURE : sel & 4 ? take(in, 8) : 0;
	arg.count = sel & 8 ? take8(in) : 0;
	check_errno(sgx_ioctl(f, SGX_IOC_ENCLAVE_ADD_PAGES,
			      place(in, U_ARG, &arg, sizeof(arg), &good)));
}

/* INIT with the minimal enclave's SIGSTRUCT, maybe with one byte changed. */
static void op_init(struct input *in, struct sgx_file *f)
{
	static struct sgx_sigstruct sig;
	struct sgx_enclave_init arg;
	unsigned int k = (unsigned int)take(in, 2);
	bool good;

	sig = once.sig;
	if (k < sizeof(sig))
		((uint8_t *)&sig)[k] ^= (uint8_t)take8(in);
	arg.sigstruct = place(in, U_SIGSTRUCT, &sig, sizeof(sig), &good);
	check_errno(sgx_ioctl(f, SGX_IOC_ENCLAVE_INIT,
			      place(in, U_ARG, &arg, sizeof(arg), &good)));
}

static void op_provision(struct input *in, struct sgx_file *f)
{
	struct sgx_enclave_provision arg = { .fd = take(in, 8) };
	bool good;

	check_errno(sgx_ioctl(f, SGX_IOC_ENCLAVE_PROVISION,
			      place(in, U_ARG, &arg, sizeof(arg), &good)));
}

/* The user-visible copy of an argument the kernel wrote back, if any. */
static const void *arg_back(uint64_t uptr, bool good)
{
	return good ? (const void *)(uintptr_t)uptr : NULL;
}

/* count: page-aligned, within the range, the whole range on success. */
static void check_count(long ret, uint64_t length, uint64_t count)
{
	check_errno(ret);
	if (count % PAGE_SIZE || count > length || (!ret && count != length))
		violation("count breaks the uapi", ret, (long)count);
}

/* The resident EPCM entry of the page at addr of f's enclave, or NULL. */
static const struct epcm_entry *resident(struct sgx_encl *encl,
					 uint64_t addr, uint64_t *idx)
{
	const struct sgx_encl_page *page = sgx_encl_lookup(encl, addr);

	if (!page || !page->epc_page)
		return NULL;
	*idx = page->epc_page->index;
	return sgx_epcm(&m.cpu, *idx);
}

/* Every page of [offset, offset + count) is restricted and tracked. */
static void check_restricted(struct sgx_encl *encl, uint64_t offset,
			     uint64_t count, uint64_t perm)
{
	for (uint64_t c = 0; c < count; c += PAGE_SIZE) {
		uint64_t addr = encl->base + offset + c, idx;
		const struct sgx_encl_page *page = sgx_encl_lookup(encl, addr);
		const struct epcm_entry *e = resident(encl, addr, &idx);

		if (!page || sgx_encl_page_type_now(page) != PT_REG)
			violation("RESTRICT counted a non-REG page", 0,
				  (long)addr);
		if (e && (!e->pr || (e->r && !(perm & SGX_SECINFO_R)) ||
			  (e->w && !(perm & SGX_SECINFO_W)) ||
			  (e->x && !(perm & SGX_SECINFO_X))))
			violation("RESTRICT counted an unrestricted page", 0,
				  (long)addr);
		if (e && !sgx_page_tracked(&m.cpu, idx))
			violation("RESTRICT counted an untracked page", 0,
				  (long)addr);
	}
}

static uint64_t take_perm(struct input *in)
{
	static const uint64_t perms[] = {
		0, SGX_SECINFO_R, SGX_SECINFO_X, SGX_SECINFO_R | SGX_SECINFO_W,
		SGX_SECINFO_R | SGX_SECINFO_X,
		SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X, SGX_SECINFO_W,
	};
	unsigned int b = take8(in);

	return b < ARRAY_SIZE(perms) ? perms[b] : take(in, 8);
}

static void op_restrict(struct input *in, struct sgx_file *f)
{
	struct sgx_enclave_restrict_permissions arg, *back;
	unsigned int sel;
	uint64_t uptr;
	bool good;
	long ret;

	arg.offset = take_offset(in);
	arg.length = take_length(in);
	arg.permissions = take_perm(in);
	sel = take8(in);
	arg.result = sel & 1 ? take8(in) : 0;
	arg.count = sel & 2 ? take8(in) : 0;
	uptr = place(in, U_ARG, &arg, sizeof(arg), &good);
	back = (void *)arg_back(uptr, good && !arg.result && !arg.count);
	ret = sgx_ioctl(f, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, uptr);

	if (!back) {
		check_errno(ret);
		return;
	}
	check_count(ret, arg.length, back->count);
	if (back->result >= 256)
		violation("RESTRICT result is no SGX code", ret,
			  (long)back->result);
	check_restricted(f->encl, arg.offset, back->count, arg.permissions);
}

/* Every page of [offset, offset + count) has the new type and is tracked. */
static void check_retyped(struct sgx_encl *encl, uint64_t offset,
			  uint64_t count, uint64_t type)
{
	for (uint64_t c = 0; c < count; c += PAGE_SIZE) {
		uint64_t addr = encl->base + offset + c, idx;
		const struct sgx_encl_page *page = sgx_encl_lookup(encl, addr);
		const struct epcm_entry *e = resident(encl, addr, &idx);

		if (!page || sgx_encl_page_type_now(page) != type)
			violation("MODIFY_TYPES counted an unchanged page", 0,
				  (long)addr);
		if (e && (e->pt != type || !e->modified))
			violation("MODIFY_TYPES counted a page the EPCM has "
				  "not retyped", 0, (long)addr);
		if (e && !sgx_page_tracked(&m.cpu, idx))
			violation("MODIFY_TYPES counted an untracked page", 0,
				  (long)addr);
	}
}

static void op_modify_types(struct input *in, struct sgx_file *f)
{
	static const uint64_t types[] = { PT_TRIM, PT_TCS, PT_REG, PT_SECS };
	struct sgx_enclave_modify_types arg, *back;
	unsigned int sel;
	uint64_t uptr;
	bool good;
	long ret;

	arg.offset = take_offset(in);
	arg.length = take_length(in);
	sel = take8(in);
	arg.page_type = sel % 8 < 4 ? types[sel % 4] : take(in, 8);
	arg.result = sel & 0x10 ? take8(in) : 0;
	arg.count = sel & 0x20 ? take8(in) : 0;
	uptr = place(in, U_ARG, &arg, sizeof(arg), &good);
	back = (void *)arg_back(uptr, good && !arg.result && !arg.count);
	ret = sgx_ioctl(f, SGX_IOC_ENCLAVE_MODIFY_TYPES, uptr);

	if (!back) {
		check_errno(ret);
		return;
	}
	check_count(ret, arg.length, back->count);
	if (back->result >= 256)
		violation("MODIFY_TYPES result is no SGX code", ret,
			  (long)back->result);
	check_retyped(f->encl, arg.offset, back->count, arg.page_type & 0xFF);
}

static void op_remove_pages(struct input *in, struct sgx_file *f)
{
	struct sgx_enclave_remove_pages arg, *back;
	uint64_t uptr;
	bool good;
	long ret;

	arg.offset = take_offset(in);
	arg.length = take_length(in);
	arg.count = take8(in) % 8 ? 0 : take8(in);
	uptr = place(in, U_ARG, &arg, sizeof(arg), &good);
	back = (void *)arg_back(uptr, good && !arg.count);
	ret = sgx_ioctl(f, SGX_IOC_ENCLAVE_REMOVE_PAGES, uptr);

	if (!back) {
		check_errno(ret);
		return;
	}
	check_count(ret, arg.length, back->count);
	for (uint64_t c = 0; c < back->count; c += PAGE_SIZE)
		if (sgx_encl_lookup(f->encl, f->encl->base + arg.offset + c))
			violation("REMOVE_PAGES counted a page still there",
				  ret, (long)(arg.offset + c));
}

/* Any command: an SGX number with fuzzed direction and size, or raw. */
static void op_raw_ioctl(struct input *in, struct sgx_file *f)
{
	unsigned int sel = take8(in), dir = take8(in) % 4, nr = take8(in) % 10;
	unsigned int cmd = _IOC(dir, SGX_MAGIC, nr, take8(in) % 64);
	uint8_t blob[64];
	bool good;

	if (sel & 1)
		cmd = (unsigned int)take(in, 4);
	for (unsigned int i = 0; i < sizeof(blob); i++)
		blob[i] = sel & 2 ? (uint8_t)take8(in) : 0;
	check_errno(sgx_ioctl(f, cmd, place(in, U_BLOB, blob, sizeof(blob),
					    &good)));
}

/* ---- memory management --------------------------------------------- */

static unsigned long take_prot(struct input *in)
{
	unsigned int b = take8(in);

	return b < 0xF0 ? b % 8 : take(in, 8);
}

static void op_mmap(struct input *in, struct sgx_file *f)
{
	static const unsigned long flags[] = {
		SGX_MAP_SHARED | SGX_MAP_FIXED, SGX_MAP_PRIVATE | SGX_MAP_FIXED,
		SGX_MAP_SHARED, SGX_MAP_SHARED | SGX_MAP_PRIVATE | SGX_MAP_FIXED,
	};
	uint64_t addr = take_addr(in) & PAGE_MASK, len = take_length(in);
	unsigned long prot = take_prot(in);
	unsigned int b = take8(in);
	unsigned long fl = b < ARRAY_SIZE(flags) * 60 ? flags[b % 4]
						       : take(in, 8);
	int ret = sgx_mmap(f, m.mm, addr, len, prot, fl);

	if (ret && ret != -EINVAL && ret != -ENOMEM && ret != -EACCES)
		violation("mmap errno", ret, 0);
}

static void op_mprotect(struct input *in)
{
	uint64_t addr = take_addr(in), len = take_length(in);
	int ret;

	if (take8(in) % 4)
		addr &= PAGE_MASK;
	ret = sgx_mprotect(m.mm, addr, len, take_prot(in));
	if (ret && ret != -EINVAL && ret != -ENOMEM && ret != -EACCES)
		violation("mprotect errno", ret, 0);
}

static void op_munmap(struct input *in)
{
	uint64_t addr = take_addr(in), len = take_length(in);
	int ret;

	if (take8(in) % 4)
		addr &= PAGE_MASK;
	ret = sgx_munmap(m.mm, addr, len);
	if (ret && ret != -EINVAL && ret != -ENOMEM)
		violation("munmap errno", ret, 0);
}

/* A host thread of the process faults at a fuzzed address. */
static void op_user_fault(struct input *in)
{
	uint64_t addr = take_addr(in);

	sgx_user_fault(m.mm, addr, (uint32_t)take(in, 2));
}

/* ---- the enclave thread -------------------------------------------- */

struct eop {
	uint64_t a, b, c; /* target / TCS, source, SECINFO address */
	uint64_t flags;
	uint8_t buf[PAGE_SIZE];
	size_t len;
};

typedef int (*enclu_fn)(struct sgx_lp *lp, struct eop *o);

/* ksgxd, woken when an allocation left free EPC below the low mark. */
static void play_ksgxd(void)
{
	if (sgx_should_reclaim(&m.drv, m.drv.nr_low_pages))
		sgx_reclaim_pages(&m.drv);
}

/* Linux's fault path for a #PF (the CPU's AEX came first, in arch). */
static bool fault_fixed(struct sgx_lp *lp)
{
	struct sgx_exception exc = lp->exc;

	if (lp->enclave_mode) /* the fault's AEX happens in arch */
		abort();
	if (exc.vector != X86_TRAP_PF)
		return false;
	return sgx_user_fault(m.mm, exc.addr, exc.error_code) ==
	       SGX_FAULT_FIXED;
}

/*
 * Run fn on the enclave LP the way the vDSO's ENCLU/AEP loop does: a
 * fault the kernel fixed resumes the enclave (if the LP was inside) and
 * the operation runs again; any other fault is left for the next ops.
 */
static void enclave_run(enclu_fn fn, struct eop *o)
{
	struct sgx_lp *lp = &m.cpu.lps[ELP];
	bool resume = false;

	for (unsigned int i = 0; i < FIXED_FAULTS_MAX; i++) {
		bool inside = lp->enclave_mode;
		int ret = resume ? enclu_eresume(lp, m.tcs, AEP) : fn(lp, o);

		if (!sgx_faulted(ret)) {
			if (!resume)
				return;
			resume = false;
			continue;
		}
		if (!fault_fixed(lp))
			return;
		resume = resume || inside;
		play_ksgxd();
	}
	violation("faults fixed without progress", FIXED_FAULTS_MAX, 0);
}

static int do_eenter(struct sgx_lp *lp, struct eop *o)
{
	m.tcs = o->a;
	return enclu_eenter(lp, o->a, AEP);
}

static int do_eresume(struct sgx_lp *lp, struct eop *o)
{
	m.tcs = o->a;
	return enclu_eresume(lp, o->a, AEP);
}

static int do_eexit(struct sgx_lp *lp, struct eop *o)
{
	return enclu_eexit(lp, AEP);
}

static int do_read(struct sgx_lp *lp, struct eop *o)
{
	return sgx_lp_read(lp, o->a, o->buf, o->len);
}

static int do_write(struct sgx_lp *lp, struct eop *o)
{
	return sgx_lp_write(lp, o->a, o->buf, o->len);
}

/* The enclave writes the SECINFO, then runs the leaf (test_encl.c). */
static int put_secinfo(struct sgx_lp *lp, struct eop *o)
{
	struct sgx_secinfo si = { .flags = o->flags };

	return sgx_lp_write(lp, o->c, &si, sizeof(si));
}

static int do_eaccept(struct sgx_lp *lp, struct eop *o)
{
	int ret = put_secinfo(lp, o);

	return ret ? ret : enclu_eaccept(lp, o->c, o->a);
}

static int do_emodpe(struct sgx_lp *lp, struct eop *o)
{
	int ret = put_secinfo(lp, o);

	return ret ? ret : enclu_emodpe(lp, o->c, o->a);
}

static int do_eacceptcopy(struct sgx_lp *lp, struct eop *o)
{
	int ret = put_secinfo(lp, o);

	return ret ? ret : enclu_eacceptcopy(lp, o->c, o->a, o->b);
}

static uint64_t take_tcs(struct input *in)
{
	unsigned int b = take8(in);

	if (b < 0x80)
		return A_BASE + A_TCS1;
	return b < 0xC0 ? A_BASE + A_TCS2 : take_addr(in);
}

/* The SECINFO slot: one of the data page's, or anywhere. */
static uint64_t take_secinfo_addr(struct input *in)
{
	unsigned int b = take8(in);

	return b < 0xE0 ? A_BASE + A_DATA + 64 * (b % 8) : take_addr(in);
}

static void op_enclave(struct input *in, unsigned int kind)
{
	static const enclu_fn fns[] = {
		do_eenter, do_eresume, do_eexit, do_read,
		do_write, do_eaccept, do_emodpe, do_eacceptcopy,
	};
	static struct eop o;

	memset(&o, 0, offsetof(struct eop, buf));
	o.a = kind < 2 ? take_tcs(in) : take_addr(in);
	o.len = take8(in);
	o.len = o.len < 0xF0 ? o.len % 9 * 8 : (o.len - 0xEF) * 256;
	for (size_t i = 0; kind == 4 && i < o.len; i++)
		o.buf[i] = (uint8_t)(i * 7 + o.a);
	if (kind >= 5) {
		o.flags = take_flags(in);
		o.c = take_secinfo_addr(in);
		o.b = take_addr(in) & PAGE_MASK;
	}
	enclave_run(fns[kind], &o);
}

/* An interrupt (any IPI) on the enclave LP: an AEX if it is inside. */
static void op_interrupt(void)
{
	struct sgx_cpumask mask = { { 0 } };

	sgx_cpumask_set(&mask, ELP);
	m.drv.plat->ipi(m.drv.plat->ctx, &mask);
}

static void op_close_open(struct input *in)
{
	unsigned int i = take8(in) % NR_FILES;

	if (m.files[i]) {
		sgx_release(m.files[i]);
		m.files[i] = NULL;
		return;
	}
	must(sgx_open(&m.drv, &m.files[i]), "open");
}

/*
 * The driver setting of batched ETRACK (architecture.md section 5) for
 * one enclave, which may change at any time: 1 is Linux, 0 the whole
 * range. Every oracle must hold for every value.
 */
static void op_etrack_batch(struct input *in)
{
	struct sgx_file *f = take_file(in);
	unsigned int batch = take8(in) % 4;

	if (f)
		f->encl->etrack_batch = batch;
}

/* ---- the run ------------------------------------------------------- */

enum opcode {
	OP_CREATE,
	OP_ADD_PAGES,
	OP_INIT,
	OP_PROVISION,
	OP_RESTRICT,
	OP_MODIFY_TYPES,
	OP_REMOVE_PAGES,
	OP_RAW_IOCTL,
	OP_MMAP,
	OP_MPROTECT,
	OP_MUNMAP,
	OP_USER_FAULT,
	OP_ENCLAVE, /* eight kinds: EENTER ... EACCEPTCOPY */
	OP_KSGXD = OP_ENCLAVE + 8,
	OP_INTERRUPT,
	OP_CLOSE_OPEN,
	OP_ETRACK_BATCH,
	NR_OPCODES,
};

typedef void (*file_op_fn)(struct input *in, struct sgx_file *f);

static const file_op_fn file_ops[] = {
	[OP_CREATE] = op_create,
	[OP_ADD_PAGES] = op_add_pages,
	[OP_INIT] = op_init,
	[OP_PROVISION] = op_provision,
	[OP_RESTRICT] = op_restrict,
	[OP_MODIFY_TYPES] = op_modify_types,
	[OP_REMOVE_PAGES] = op_remove_pages,
	[OP_RAW_IOCTL] = op_raw_ioctl,
	[OP_MMAP] = op_mmap,
};

static void run_op(struct input *in, unsigned int op)
{
	struct sgx_file *f;

	if (op < ARRAY_SIZE(file_ops)) {
		f = take_file(in);
		if (f)
			file_ops[op](in, f);
	} else if (op == OP_MPROTECT) {
		op_mprotect(in);
	} else if (op == OP_MUNMAP) {
		op_munmap(in);
	} else if (op == OP_USER_FAULT) {
		op_user_fault(in);
	} else if (op < OP_KSGXD) {
		op_enclave(in, op - OP_ENCLAVE);
	} else if (op == OP_KSGXD) {
		sgx_reclaim_pages(&m.drv);
	} else if (op == OP_INTERRUPT) {
		op_interrupt();
	} else if (op == OP_CLOSE_OPEN) {
		op_close_open(in);
	} else {
		op_etrack_batch(in);
	}
}

/* The process exits, the files close: everything must come back. */
static void machine_fini(void)
{
	struct sgx_lp *lp = &m.cpu.lps[ELP];
	const char *broken;

	if (lp->enclave_mode)
		sgx_aex(lp, NULL);
	sgx_mm_destroy(m.mm);
	for (unsigned int i = 0; i < NR_FILES; i++)
		if (m.files[i])
			sgx_release(m.files[i]);
	broken = sgx_cpu_check(&m.cpu);
	if (broken)
		violation(broken, 0, 0);
	if (m.drv.stats.encls_warnings)
		violation("ENCLS warnings", (long)m.drv.stats.encls_warnings,
			  0);
	if (m.drv.nr_free_pages != EPC_PAGES ||
	    !list_empty(&m.drv.active_page_list))
		violation("EPC pages not freed", (long)m.drv.nr_free_pages, 0);
	sgx_driver_destroy(&m.drv);
	sim_destroy(&m.sim);
	sgx_cpu_destroy(&m.cpu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	if (!once.tcs_src)
		init_once();
	machine_init();
	for (unsigned int i = 0; i < OPS_MAX && in.n; i++)
		run_op(&in, take8(&in) % NR_OPCODES);
	machine_fini();
	return 0;
}
