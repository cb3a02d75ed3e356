// SPDX-License-Identifier: MIT
/*
 * Building the runner's test enclave through the uapi: the steps of the
 * Linux selftests' loader (linux-sgx-driver.md section 10.3) for the
 * layout of encl.S, signed with the project's test key.
 */
#include "host_encl.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "base/bits.h"
#include "sgxemu/uapi.h"
#include "sign/enclave_hash.h"
#include "sign/sign.h"

#ifdef HE_RAW_SYSCALLS
#include "raw_sys.h"
#define open(path, flags) raw_open(path, flags)
#define ioctl raw_ioctl
#define mmap raw_mmap
#define munmap raw_munmap
#define close raw_close
#endif

extern const uint8_t encl_code[], encl_code_end[];

struct he_page {
	uint64_t offset;
	uint64_t flags; /* SECINFO */
	int prot;
};

#define REG_RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)
#define RW (PROT_READ | PROT_WRITE)
#define TCS_PAGE(i) { HE_TCS + (i) * PAGE_SIZE, SGX_SECINFO_TYPE(PT_TCS), RW }
#define SSA_PAGE(i) { HE_SSA + (i) * PAGE_SIZE, REG_RW, RW }

static const struct he_page pages[] = {
	TCS_PAGE(0), TCS_PAGE(1), TCS_PAGE(2), TCS_PAGE(3),
	TCS_PAGE(4), TCS_PAGE(5), TCS_PAGE(6), TCS_PAGE(7),
	{ HE_CODE, SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_X,
	  PROT_READ | PROT_EXEC },
	{ HE_DATA, REG_RW, RW },
	{ HE_STACK, REG_RW, RW },
	{ HE_STRESS, REG_RW, RW },
	SSA_PAGE(0), SSA_PAGE(1), SSA_PAGE(2), SSA_PAGE(3),
	SSA_PAGE(4), SSA_PAGE(5), SSA_PAGE(6), SSA_PAGE(7),
	SSA_PAGE(8), SSA_PAGE(9), SSA_PAGE(10), SSA_PAGE(11),
	SSA_PAGE(12), SSA_PAGE(13), SSA_PAGE(14), SSA_PAGE(15),
};
#define NR_PAGES (sizeof(pages) / sizeof(pages[0]))

static uint8_t src[NR_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));

static void fill_sources(void)
{
	memset(src, 0, sizeof(src));
	for (unsigned int i = 0; i < HE_NR_TCS; i++) {
		struct sgx_tcs *tcs = (struct sgx_tcs *)src[i];

		tcs->ssa_offset = HE_SSA + 2ULL * i * PAGE_SIZE;
		tcs->nr_ssa_frames = 2;
		tcs->entry_offset = HE_CODE;
		tcs->fs_offset = HE_DATA;
		tcs->gs_offset = HE_CODE;
		tcs->fs_limit = 0xFFFFFFFF;
		tcs->gs_limit = 0xFFFFFFFF;
	}
	memcpy(src[HE_NR_TCS], encl_code,
	       (size_t)(encl_code_end - encl_code));
}

static struct host_encl *building;

static int fail(const char *what)
{
	int err = errno;

	building->failed = what;
	perror(what);
	errno = err;
	return -1;
}

/* The base: size-aligned inside a reservation of twice the size. */
static uint64_t map_area(uint64_t size)
{
	uint8_t *p = mmap(NULL, 2 * size, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t base;

	if (p == MAP_FAILED)
		return 0;
	base = ((uint64_t)(uintptr_t)p + size - 1) & ~(size - 1);
	return base;
}

static int create(struct host_encl *e, uint64_t xfrm)
{
	static struct sgx_secs secs;
	struct sgx_enclave_create arg = { .src = (uint64_t)(uintptr_t)&secs };

	memset(&secs, 0, sizeof(secs));
	secs.base = e->base;
	secs.size = e->size;
	secs.ssa_frame_size = 1;
	secs.attributes = SGX_ATTR_MODE64BIT;
	secs.xfrm = xfrm;
	return ioctl(e->fd, SGX_IOC_ENCLAVE_CREATE, &arg) ? fail("CREATE") : 0;
}

static int add_pages(struct host_encl *e)
{
	for (unsigned int i = 0; i < NR_PAGES; i++) {
		struct sgx_secinfo secinfo = { .flags = pages[i].flags };
		struct sgx_enclave_add_pages arg = {
			.src = (uint64_t)(uintptr_t)src[i],
			.offset = pages[i].offset,
			.length = PAGE_SIZE,
			.secinfo = (uint64_t)(uintptr_t)&secinfo,
			.flags = SGX_PAGE_MEASURE,
		};

		if (ioctl(e->fd, SGX_IOC_ENCLAVE_ADD_PAGES, &arg))
			return fail("ADD_PAGES");
		if (arg.count != PAGE_SIZE) {
			fprintf(stderr, "ADD_PAGES count %llu\n",
				(unsigned long long)arg.count);
			return -1;
		}
	}
	return 0;
}

static int measure(uint64_t size, uint8_t mrenclave[32])
{
	struct sgx_enclave_hash h;

	if (sgx_enclave_hash_start(&h, 1, size))
		return -1;
	for (unsigned int i = 0; i < NR_PAGES; i++) {
		if (sgx_enclave_hash_eadd(&h, pages[i].offset, pages[i].flags))
			return -1;
		for (uint64_t c = 0; c < PAGE_SIZE; c += 256)
			if (sgx_enclave_hash_eextend(&h, pages[i].offset + c,
						     src[i] + c))
				return -1;
	}
	return sgx_enclave_hash_finish(&h, mrenclave);
}

static int init(struct host_encl *e, uint64_t xfrm)
{
	static struct sgx_sigstruct sig;
	struct sgx_enclave_init arg = { .sigstruct = (uint64_t)(uintptr_t)&sig };
	EVP_PKEY *key = sgx_sign_load_key(SGXEMU_TEST_KEY);
	uint8_t mrenclave[32];
	int ret;

	if (!key || measure(e->size, mrenclave) ||
	    sgx_sign_sigstruct(&sig, key, mrenclave, SGX_ATTR_MODE64BIT,
			       xfrm)) {
		EVP_PKEY_free(key);
		fprintf(stderr, "signing failed\n");
		return -1;
	}
	EVP_PKEY_free(key);
	ret = ioctl(e->fd, SGX_IOC_ENCLAVE_INIT, &arg);
	return ret ? fail("INIT") : 0;
}

static int map_pages(struct host_encl *e)
{
	for (unsigned int i = 0; i < NR_PAGES; i++) {
		void *want = (void *)(uintptr_t)(e->base + pages[i].offset);
		void *p = mmap(want, PAGE_SIZE, pages[i].prot,
			       MAP_SHARED | MAP_FIXED, e->fd, 0);

		if (p != want)
			return fail("mmap");
	}
	return 0;
}

int host_encl_build_with(struct host_encl *e, uint64_t size,
			 uint64_t secs_xfrm, uint64_t sig_xfrm)
{
	building = e;
	e->size = size;
	e->failed = NULL;
	fill_sources();
	e->fd = open("/dev/sgx_enclave", O_RDWR);
	if (e->fd < 0)
		return fail("open /dev/sgx_enclave");
	e->base = map_area(size);
	if (!e->base)
		return fail("reserve");
	if (create(e, secs_xfrm) || add_pages(e) || init(e, sig_xfrm) ||
	    map_pages(e))
		return -1;
	return 0;
}

int host_encl_build(struct host_encl *e)
{
	return host_encl_build_with(e, HE_SIZE, 3, 3);
}

void host_encl_destroy(struct host_encl *e)
{
	munmap((void *)(uintptr_t)e->base, e->size);
	close(e->fd);
}

static uint32_t elf_hash(const char *name)
{
	uint32_t h = 0, g;

	for (; *name; name++) {
		h = (h << 4) + (unsigned char)*name;
		g = h & 0xf0000000U;
		h = (h ^ (g >> 24)) & ~g;
	}
	return h;
}

static uintptr_t dyn_ptr(uintptr_t base, const Elf64_Dyn *dyn, int64_t tag)
{
	for (; dyn->d_tag != DT_NULL; dyn++)
		if (dyn->d_tag == tag)
			return base + dyn->d_un.d_ptr;
	return 0;
}

vdso_sgx_enter_enclave_t host_vdso_enter(void)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Phdr *ph;
	const Elf64_Dyn *dyn = NULL;
	const Elf64_Sym *sym;
	const uint32_t *hash;
	const char *str;

	if (!base)
		return NULL;
	ph = (const void *)(base + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const void *)(base + ph[i].p_offset);
	if (!dyn)
		return NULL;
	sym = (const void *)dyn_ptr(base, dyn, DT_SYMTAB);
	str = (const void *)dyn_ptr(base, dyn, DT_STRTAB);
	hash = (const void *)dyn_ptr(base, dyn, DT_HASH);
	if (!sym || !str || !hash)
		return NULL;
	for (uint32_t i = hash[2 + elf_hash("__vdso_sgx_enter_enclave") %
				 hash[0]];
	     i != STN_UNDEF; i = hash[2 + hash[0] + i])
		if (!strcmp(str + sym[i].st_name, "__vdso_sgx_enter_enclave"))
			return (vdso_sgx_enter_enclave_t)(base +
							  sym[i].st_value);
	return NULL;
}
