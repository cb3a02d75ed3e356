// SPDX-License-Identifier: MIT
/*
 * minirt's loader. Every call to the kernel is its own `syscall` (sys.h):
 * open the device, reserve ELRANGE, CREATE, ADD_PAGES of the image and of
 * the thread blocks (minirt.h), INIT with a SIGSTRUCT signed by the
 * project's built-in key, then mmap. Only the ELF file's bytes and the
 * signature go through libc and OpenSSL.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/sdm.h"
#include "host.h"
#include "sign/enclave_hash.h"
#include "sign/sign.h"
#include "sys.h"

#define PAGE MRT_PAGE

struct loader {
	struct mrt_enclave *e;
	struct sgx_enclave_hash hash;
	uint64_t end; /* of what was added so far */
	struct { uint64_t offset, length; int prot; } seg[4]; /* the image's */
	unsigned int nr_seg;
	uint8_t page[PAGE] __attribute__((aligned(PAGE)));
};

static int fail(const char *what, long ret)
{
	fprintf(stderr, "minirt: %s: %s\n", what, strerror((int)-ret));
	return -1;
}

/* One page, measured, into the enclave and into the software MRENCLAVE. */
static int add_page(struct loader *l, uint64_t offset, const void *src,
		    uint64_t flags)
{
	struct sgx_secinfo secinfo __attribute__((aligned(64))) = {
		.flags = flags
	};
	struct sgx_enclave_add_pages arg = {
		.src = (uint64_t)(uintptr_t)src, .offset = offset,
		.length = PAGE, .secinfo = (uint64_t)(uintptr_t)&secinfo,
		.flags = SGX_PAGE_MEASURE,
	};
	long ret = sys3(SYS_ioctl, l->e->fd, SGX_IOC_ENCLAVE_ADD_PAGES, &arg);

	if (ret)
		return fail("ADD_PAGES", ret);
	if (sgx_enclave_hash_eadd(&l->hash, offset, flags))
		return -1;
	for (uint64_t c = 0; c < PAGE; c += 256)
		if (sgx_enclave_hash_eextend(&l->hash, offset + c,
					     (const uint8_t *)src + c))
			return -1;
	if (offset + PAGE > l->end)
		l->end = offset + PAGE;
	return 0;
}

static int add_segment(struct loader *l, const uint8_t *file, size_t size,
		       const Elf64_Phdr *ph)
{
	uint64_t flags = SGX_SECINFO_TYPE(PT_REG) |
			 (ph->p_flags & PF_R ? SGX_SECINFO_R : 0) |
			 (ph->p_flags & PF_W ? SGX_SECINFO_W : 0) |
			 (ph->p_flags & PF_X ? SGX_SECINFO_X : 0);

	if (ph->p_vaddr % PAGE || ph->p_filesz > ph->p_memsz ||
	    ph->p_offset > size || ph->p_filesz > size - ph->p_offset) {
		fprintf(stderr, "minirt: a PT_LOAD it cannot load\n");
		return -1;
	}
	if (l->nr_seg == 4) {
		fprintf(stderr, "minirt: too many PT_LOADs\n");
		return -1;
	}
	l->seg[l->nr_seg].offset = ph->p_vaddr;
	l->seg[l->nr_seg].length = (ph->p_memsz + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	l->seg[l->nr_seg++].prot = (ph->p_flags & PF_R ? PROT_READ : 0) |
				    (ph->p_flags & PF_W ? PROT_WRITE : 0) |
				    (ph->p_flags & PF_X ? PROT_EXEC : 0);
	for (uint64_t p = 0; p < ph->p_memsz; p += PAGE) {
		uint64_t n = p < ph->p_filesz ? ph->p_filesz - p : 0;

		memset(l->page, 0, PAGE);
		memcpy(l->page, file + ph->p_offset + p, n < PAGE ? n : PAGE);
		if (add_page(l, ph->p_vaddr + p, l->page, flags))
			return -1;
	}
	return 0;
}

/* The image's PT_LOADs; the entry point's offset in *entry. */
static int add_image(struct loader *l, const uint8_t *file, size_t size,
		     uint64_t *entry)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size) {
		fprintf(stderr, "minirt: not an ELF file\n");
		return -1;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD && add_segment(l, file, size, ph))
			return -1;
	}
	*entry = eh->e_entry;
	return 0;
}

/* A thread block: TCS, SSA frames, TCB, stacks (minirt.h). */
static int add_thread(struct loader *l, unsigned int i, uint64_t entry,
		      uint64_t heap_off)
{
	uint64_t off = l->end, rw = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
				    SGX_SECINFO_W;
	struct sgx_tcs *tcs = (struct sgx_tcs *)l->page;
	uint64_t *tcb = (uint64_t *)l->page;

	memset(l->page, 0, PAGE);
	tcs->ssa_offset = off + MRT_BLOCK_SSA;
	tcs->nr_ssa_frames = MRT_NSSA;
	tcs->entry_offset = entry;
	tcs->fs_offset = tcs->gs_offset = off + MRT_BLOCK_TCB;
	tcs->fs_limit = tcs->gs_limit = 0xFFFFFFFF;
	if (add_page(l, off, l->page, SGX_SECINFO_TYPE(PT_TCS)))
		return -1;
	l->e->tcs[i] = l->e->base + off;
	memset(l->page, 0, PAGE);
	for (uint64_t p = PAGE; p < MRT_BLOCK_PAGES * PAGE; p += PAGE) {
		memset(l->page, 0, PAGE);
		if (p == MRT_BLOCK_TCB) {
			tcb[TCB_TCS_OFF / 8] = off;
			tcb[TCB_SELF_OFF / 8] = off + MRT_BLOCK_TCB;
			tcb[TCB_SSA_OFF / 8] = off + MRT_BLOCK_SSA;
			for (unsigned int c = 0; c < MRT_NSSA; c++)
				tcb[TCB_STACK_OFF / 8 + c] =
					off + MRT_BLOCK_STACKS +
					(c + 1) * MRT_STACK_BYTES;
			tcb[TCB_HEAP_OFF / 8] = heap_off;
			tcb[TCB_HEAP_END / 8] = l->e->size;
		}
		if (add_page(l, off + p, l->page, rw))
			return -1;
	}
	return 0;
}

/* SECS.BASEADDR is a multiple of SECS.SIZE: reserve twice, keep half. */
static int reserve(struct mrt_enclave *e)
{
	uint8_t *p = sys_mmap(NULL, 2 * e->size, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			      -1, 0);
	uint64_t start = (uint64_t)(uintptr_t)p;

	if (sys_failed(p))
		return fail("reserve ELRANGE", (long)p);
	e->base = (start + e->size - 1) & ~(e->size - 1);
	if (e->base > start)
		sys3(SYS_munmap, start, e->base - start, 0);
	sys3(SYS_munmap, e->base + e->size, start + e->size - e->base, 0);
	return 0;
}

/* x87, SSE and, where XCR0 has it, AVX: the SSA saves what XFRM names. */
static uint64_t choose_xfrm(void)
{
	uint32_t lo, hi;

	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo & 0x4 ? 0x7 : 0x3;
}

static int create(struct mrt_enclave *e)
{
	static struct sgx_secs secs;
	struct sgx_enclave_create arg = { .src = (uint64_t)(uintptr_t)&secs };
	long ret;

	secs.base = e->base;
	secs.size = e->size;
	secs.ssa_frame_size = 1;
	secs.miscselect = SGX_MISC_EXINFO; /* #PF address in the SSA */
	secs.attributes = SGX_ATTR_MODE64BIT;
	secs.xfrm = e->xfrm = choose_xfrm();
	ret = sys3(SYS_ioctl, e->fd, SGX_IOC_ENCLAVE_CREATE, &arg);
	return ret ? fail("CREATE", ret) : 0;
}

static int init(struct loader *l)
{
	static struct sgx_sigstruct sig;
	struct sgx_enclave_init arg = { .sigstruct = (uint64_t)(uintptr_t)&sig };
	EVP_PKEY *key = sgx_sign_tool_key();
	uint8_t mrenclave[32];
	long ret;

	if (!key || sgx_enclave_hash_finish(&l->hash, mrenclave) ||
	    sgx_sign_sigstruct(&sig, key, mrenclave, SGX_ATTR_MODE64BIT,
			       l->e->xfrm)) {
		EVP_PKEY_free(key);
		fprintf(stderr, "minirt: signing failed\n");
		return -1;
	}
	EVP_PKEY_free(key);
	ret = sys3(SYS_ioctl, l->e->fd, SGX_IOC_ENCLAVE_INIT, &arg);
	return ret ? fail("INIT", ret) : 0;
}

static int map_range(struct mrt_enclave *e, uint64_t offset,
		     uint64_t length, int prot)
{
	void *want = (void *)(uintptr_t)(e->base + offset);
	void *p = sys_mmap(want, length, prot, MAP_SHARED | MAP_FIXED, e->fd, 0);

	return p == want ? 0 : fail("mmap", (long)p);
}

/*
 * The image as its segments say; the thread blocks and the heap R W (the
 * JIT page gets X later with mprotect: the kernel allows anything on the
 * pages the enclave EAUGs). The EPCM is what protects each page.
 */
static int map(struct loader *l)
{
	struct mrt_enclave *e = l->e;
	uint64_t image_end = 0;

	for (unsigned int i = 0; i < l->nr_seg; i++) {
		if (map_range(e, l->seg[i].offset, l->seg[i].length,
			      l->seg[i].prot))
			return -1;
		if (l->seg[i].offset + l->seg[i].length > image_end)
			image_end = l->seg[i].offset + l->seg[i].length;
	}
	return map_range(e, image_end, e->size - image_end,
			 PROT_READ | PROT_WRITE);
}

static uint8_t *read_file(const char *path, size_t *size)
{
	int fd = (int)sys6(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0, 0, 0);
	long n, got = 0, cap = 1 << 16;
	uint8_t *buf = malloc((size_t)cap);

	if (fd < 0 || !buf) {
		fprintf(stderr, "minirt: cannot read %s\n", path);
		free(buf);
		return NULL;
	}
	while ((n = sys3(SYS_read, fd, buf + got, cap - got)) > 0) {
		got += n;
		if (got == cap) {
			uint8_t *more = realloc(buf, (size_t)(cap *= 2));

			if (!more)
				break;
			buf = more;
		}
	}
	sys3(SYS_close, fd, 0, 0);
	*size = (size_t)got;
	return buf;
}

static int build(struct loader *l, const uint8_t *file, size_t size)
{
	struct mrt_enclave *e = l->e;
	uint64_t entry, heap_off;
	long fd = sys6(SYS_openat, AT_FDCWD, (long)"/dev/sgx_enclave", O_RDWR,
		       0, 0, 0);

	if (fd < 0)
		return fail("/dev/sgx_enclave", fd);
	e->fd = (int)fd;
	if (reserve(e) || create(e) ||
	    sgx_enclave_hash_start(&l->hash, 1, e->size) ||
	    add_image(l, file, size, &entry))
		return -1;
	heap_off = l->end + MRT_THREADS * MRT_BLOCK_PAGES * (uint64_t)PAGE;
	for (unsigned int i = 0; i < MRT_THREADS; i++)
		if (add_thread(l, i, entry, heap_off))
			return -1;
	e->heap_off = heap_off;
	return init(l) || map(l);
}

int mrt_load(struct mrt_enclave *e, const char *path, uint64_t size)
{
	static struct loader l;
	size_t n;
	uint8_t *file = read_file(path, &n);
	int ret;

	if (!file)
		return -1;
	memset(e, 0, sizeof(*e));
	e->size = size;
	memset(&l, 0, sizeof(l));
	l.e = e;
	ret = build(&l, file, n);
	free(file);
	return ret;
}
