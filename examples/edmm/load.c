// SPDX-License-Identifier: MIT
/*
 * Building the example enclave through the Linux SGX uapi, as any loader
 * does: the pages of the ELF image's PT_LOAD segments, then the TCS, its
 * SSA frames and stacks (layout.h), all added measured; MRENCLAVE computed
 * over the same pages; a SIGSTRUCT signed with the project's built-in key;
 * INIT; and the added pages and the heap mapped from the device.
 *
 * On SGX2 hardware this runs as it is; only INIT would differ: the
 * platform's launch control must accept the signer (with flexible launch
 * control the kernel sets the launch-enclave key hash to our MRSIGNER, but
 * a locked platform admits only its owner's signers).
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "host.h"
#include "layout.h"
#include "sign/enclave_hash.h"
#include "sign/sign.h"

#define MAX_REGIONS 8
#define PAGE ENCL_PAGE
#define ROUND_UP(x) (((x) + PAGE - 1) & ~(uint64_t)(PAGE - 1))

/* Pages added with one ADD_PAGES call and mapped with one mmap. */
struct region {
	uint64_t offset;  /* from the base */
	uint64_t length;  /* whole pages */
	uint64_t secinfo; /* SECINFO.FLAGS: type and permissions */
	int prot;
	uint8_t *src;     /* the contents, length bytes */
};

struct image {
	struct region r[MAX_REGIONS];
	unsigned int nr;
	uint64_t end;   /* the image's end, page-aligned */
	uint64_t entry; /* the ELF entry: the TCS's OENTRY */
};

static int fail(const char *what)
{
	perror(what);
	return -1;
}

static struct region *new_region(struct image *im, uint64_t offset,
				 uint64_t length, uint64_t secinfo, int prot)
{
	struct region *r;

	if (im->nr == MAX_REGIONS)
		return NULL;
	r = &im->r[im->nr];
	r->src = aligned_alloc(PAGE, length);
	if (!r->src)
		return NULL;
	memset(r->src, 0, length);
	r->offset = offset;
	r->length = length;
	r->secinfo = secinfo;
	r->prot = prot;
	im->nr++;
	return r;
}

/* ELF p_flags to SECINFO permissions and mmap protection. */
static uint64_t secinfo_perms(uint32_t pf)
{
	return (pf & PF_R ? SGX_SECINFO_R : 0) |
	       (pf & PF_W ? SGX_SECINFO_W : 0) |
	       (pf & PF_X ? SGX_SECINFO_X : 0);
}

static int mmap_prot(uint32_t pf)
{
	return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) |
	       (pf & PF_X ? PROT_EXEC : 0);
}

static int load_segment(struct image *im, const uint8_t *file, size_t size,
			const Elf64_Phdr *ph)
{
	struct region *r;

	if (!ph->p_memsz) /* nothing to load, e.g. an empty data segment */
		return 0;
	if (ph->p_vaddr % PAGE || ph->p_filesz > ph->p_memsz ||
	    ph->p_offset > size || ph->p_filesz > size - ph->p_offset ||
	    ph->p_flags & ~(uint32_t)(PF_R | PF_W | PF_X)) {
		fprintf(stderr, "enclave: a PT_LOAD this loader cannot load\n");
		return -1;
	}
	r = new_region(im, ph->p_vaddr, ROUND_UP(ph->p_memsz),
		       SGX_SECINFO_TYPE(PT_REG) | secinfo_perms(ph->p_flags),
		       mmap_prot(ph->p_flags));
	if (!r)
		return fail("enclave: segment");
	memcpy(r->src, file + ph->p_offset, ph->p_filesz);
	if (r->offset + r->length > im->end)
		im->end = r->offset + r->length;
	return 0;
}

static int load_elf(struct image *im, const uint8_t *file, size_t size)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_DYN ||
	    eh->e_machine != EM_X86_64 ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size) {
		fprintf(stderr, "enclave: not an x86-64 static-pie ELF\n");
		return -1;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD && load_segment(im, file, size, ph))
			return -1;
	}
	im->entry = eh->e_entry;
	return 0;
}

static int read_elf(struct image *im, const char *path)
{
	struct stat st;
	uint8_t *file;
	int fd = open(path, O_RDONLY), ret;

	if (fd < 0 || fstat(fd, &st)) {
		perror(path);
		return -1;
	}
	file = malloc((size_t)st.st_size);
	if (!file || read(fd, file, (size_t)st.st_size) != st.st_size) {
		perror(path);
		free(file);
		close(fd);
		return -1;
	}
	close(fd);
	ret = load_elf(im, file, (size_t)st.st_size);
	free(file);
	return ret;
}

/* After the image: the TCS, its SSA frames and one stack per frame. */
static int add_thread(struct image *im)
{
	uint64_t tcs = im->end, rw = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
				     SGX_SECINFO_W;
	struct region *r = new_region(im, tcs, PAGE, SGX_SECINFO_TYPE(PT_TCS),
				      PROT_READ | PROT_WRITE);
	struct sgx_tcs *t;

	if (!r)
		return fail("enclave: TCS");
	t = (struct sgx_tcs *)r->src;
	t->ssa_offset = tcs + ENCL_TCS_TO_SSA;
	t->nr_ssa_frames = ENCL_NSSA;
	t->entry_offset = im->entry;
	t->fs_limit = 0xFFFFFFFF;
	t->gs_limit = 0xFFFFFFFF;
	if (!new_region(im, tcs + ENCL_TCS_TO_SSA, ENCL_NSSA * PAGE, rw,
			PROT_READ | PROT_WRITE) ||
	    !new_region(im, tcs + ENCL_TCS_TO_STACKS,
			ENCL_NSSA * ENCL_STACK_BYTES, rw, PROT_READ | PROT_WRITE))
		return fail("enclave: SSA and stacks");
	return 0;
}

static void free_image(struct image *im)
{
	for (unsigned int i = 0; i < im->nr; i++)
		free(im->r[i].src);
}

/*
 * SECS.BASEADDR must be a multiple of SECS.SIZE: reserve twice the size,
 * keep the aligned half.
 */
static int reserve(struct encl *e)
{
	uint8_t *p = mmap(NULL, 2 * e->size, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t start = (uint64_t)(uintptr_t)p;

	if (p == MAP_FAILED)
		return fail("reserve");
	e->base = (start + e->size - 1) & ~(e->size - 1);
	if (e->base > start)
		munmap(p, e->base - start);
	munmap((void *)(uintptr_t)(e->base + e->size),
	       start + 2 * e->size - (e->base + e->size));
	return 0;
}

static int create(struct encl *e)
{
	static struct sgx_secs secs;
	struct sgx_enclave_create arg = { .src = (uint64_t)(uintptr_t)&secs };

	secs.base = e->base;
	secs.size = e->size;
	secs.ssa_frame_size = 1; /* pages */
	secs.attributes = SGX_ATTR_MODE64BIT;
	secs.xfrm = 3; /* x87 and SSE */
	return ioctl(e->fd, SGX_IOC_ENCLAVE_CREATE, &arg) ? fail("CREATE") : 0;
}

/* ADD_PAGES, measured, and the same pages into the software MRENCLAVE. */
static int add_region(struct encl *e, const struct region *r,
		      struct sgx_enclave_hash *h)
{
	struct sgx_secinfo secinfo = { .flags = r->secinfo };
	struct sgx_enclave_add_pages arg = {
		.src = (uint64_t)(uintptr_t)r->src,
		.offset = r->offset,
		.length = r->length,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
		.flags = SGX_PAGE_MEASURE,
	};

	if (ioctl(e->fd, SGX_IOC_ENCLAVE_ADD_PAGES, &arg))
		return fail("ADD_PAGES");
	if (arg.count != r->length) {
		fprintf(stderr, "ADD_PAGES added %llu of %llu bytes\n",
			(unsigned long long)arg.count,
			(unsigned long long)r->length);
		return -1;
	}
	for (uint64_t p = 0; p < r->length; p += PAGE) {
		if (sgx_enclave_hash_eadd(h, r->offset + p, r->secinfo))
			return -1;
		for (uint64_t c = 0; c < PAGE; c += 256)
			if (sgx_enclave_hash_eextend(h, r->offset + p + c,
						     r->src + p + c))
				return -1;
	}
	return 0;
}

static int add_and_init(struct encl *e, const struct image *im)
{
	static struct sgx_sigstruct sig;
	struct sgx_enclave_init arg = { .sigstruct = (uint64_t)(uintptr_t)&sig };
	struct sgx_enclave_hash h;
	uint8_t mrenclave[32];
	EVP_PKEY *key;

	if (sgx_enclave_hash_start(&h, 1, e->size))
		return -1;
	for (unsigned int i = 0; i < im->nr; i++)
		if (add_region(e, &im->r[i], &h))
			return -1;
	key = sgx_sign_tool_key();
	if (sgx_enclave_hash_finish(&h, mrenclave) || !key ||
	    sgx_sign_sigstruct(&sig, key, mrenclave, SGX_ATTR_MODE64BIT, 3)) {
		EVP_PKEY_free(key);
		fprintf(stderr, "signing failed\n");
		return -1;
	}
	EVP_PKEY_free(key);
	return ioctl(e->fd, SGX_IOC_ENCLAVE_INIT, &arg) ? fail("INIT") : 0;
}

static int map(struct encl *e, uint64_t offset, uint64_t length, int prot)
{
	void *want = (void *)(uintptr_t)(e->base + offset);

	if (mmap(want, length, prot, MAP_SHARED | MAP_FIXED, e->fd, 0) != want)
		return fail("mmap");
	return 0;
}

/*
 * The heap is a hole: no page was added there, so the driver puts no limit
 * on its mapping, and the first enclave access to each page makes the
 * kernel EAUG it.
 */
static int map_all(struct encl *e, const struct image *im)
{
	for (unsigned int i = 0; i < im->nr; i++)
		if (map(e, im->r[i].offset, im->r[i].length, im->r[i].prot))
			return -1;
	return map(e, e->heap - e->base, e->heap_pages * PAGE,
		   PROT_READ | PROT_WRITE);
}

static int build(struct encl *e, struct image *im, const char *path)
{
	uint64_t heap_end;

	if (read_elf(im, path) || add_thread(im))
		return -1;
	heap_end = im->end + ENCL_TCS_TO_HEAP + e->heap_pages * PAGE;
	for (e->size = PAGE; e->size < heap_end; e->size <<= 1)
		;
	e->fd = open("/dev/sgx_enclave", O_RDWR);
	if (e->fd < 0)
		return fail("/dev/sgx_enclave");
	if (reserve(e) || create(e))
		return -1;
	e->tcs = e->base + im->end;
	e->heap = e->tcs + ENCL_TCS_TO_HEAP;
	return add_and_init(e, im) || map_all(e, im) ? -1 : 0;
}

int encl_build(struct encl *e, const char *path, uint64_t heap_pages)
{
	struct image im = { .nr = 0 };
	int ret;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->heap_pages = heap_pages;
	ret = build(e, &im, path);
	free_image(&im);
	return ret;
}

void encl_destroy(struct encl *e)
{
	if (e->base)
		munmap((void *)(uintptr_t)e->base, e->size);
	if (e->fd >= 0)
		close(e->fd);
}
