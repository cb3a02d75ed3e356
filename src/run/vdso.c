/* SPDX-License-Identifier: MIT */
/*
 * Maps the vDSO image (vdso/vsgx.S, embedded at build time by vdso/embed.sh)
 * as one flat copy of its file and finds its symbols: the entry point the
 * way a program does (DT_HASH lookup in .dynsym), the private ENCLU and
 * fixup labels in .symtab.
 */
#include "run/vdso.h"

#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern const unsigned char sgxemu_vdso_image[], sgxemu_vdso_image_end[];

/* The SysV ELF hash (System V ABI, "Hash Table"). */
static uint32_t elf_hash(const char *name)
{
	uint32_t h = 0;

	for (; *name; name++) {
		h = (h << 4) + (unsigned char)*name;
		uint32_t high = h & 0xf0000000U;
		if (high)
			h ^= high >> 24;
		h &= ~high;
	}
	return h;
}

static const Elf64_Dyn *find_dynamic(uintptr_t base)
{
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);

	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			return (const void *)(base + ph[i].p_offset);
	return NULL;
}

static uintptr_t dyn_ptr(uintptr_t base, const Elf64_Dyn *dyn, int64_t tag)
{
	for (; dyn->d_tag != DT_NULL; dyn++)
		if (dyn->d_tag == tag)
			return base + dyn->d_un.d_ptr;
	return 0;
}

/* The exported symbol `name`, looked up through DT_HASH; 0 if absent. */
static uintptr_t dynsym_lookup(uintptr_t base, const char *name)
{
	const Elf64_Dyn *dyn = find_dynamic(base);
	if (!dyn)
		return 0;
	const uint32_t *hash = (const void *)dyn_ptr(base, dyn, DT_HASH);
	const Elf64_Sym *sym = (const void *)dyn_ptr(base, dyn, DT_SYMTAB);
	const char *str = (const void *)dyn_ptr(base, dyn, DT_STRTAB);
	if (!hash || !sym || !str)
		return 0;
	uint32_t nbucket = hash[0];
	const uint32_t *bucket = hash + 2, *chain = bucket + nbucket;
	for (uint32_t i = bucket[elf_hash(name) % nbucket]; i != STN_UNDEF;
	     i = chain[i])
		if (!strcmp(str + sym[i].st_name, name))
			return base + sym[i].st_value;
	return 0;
}

/* A symbol of the full .symtab (section headers are part of the copy). */
static uintptr_t symtab_lookup(uintptr_t base, const char *name)
{
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Shdr *sh = (const void *)(base + eh->e_shoff);

	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		const Elf64_Sym *sym = (const void *)(base + sh[i].sh_offset);
		const char *str = (const void *)(base +
						 sh[sh[i].sh_link].sh_offset);
		size_t n = sh[i].sh_size / sizeof(*sym);
		for (size_t j = 1; j < n; j++)
			if (!strcmp(str + sym[j].st_name, name))
				return base + sym[j].st_value;
	}
	return 0;
}

int run_vdso_map(struct run_vdso *v)
{
	size_t len = (size_t)(sgxemu_vdso_image_end - sgxemu_vdso_image);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = (len + page - 1) & ~(page - 1);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -ENOMEM;
	memcpy(p, sgxemu_vdso_image, len);
	if (mprotect(p, size, PROT_READ | PROT_EXEC)) {
		munmap(p, size);
		return -ENOMEM;
	}
	v->base = (uintptr_t)p;
	v->size = size;
	v->enter = dynsym_lookup(v->base, "__vdso_sgx_enter_enclave");
	v->enclu = symtab_lookup(v->base, "sgxemu_vdso_enclu");
	v->fixup = symtab_lookup(v->base, "sgxemu_vdso_fixup");
	v->aep = symtab_lookup(v->base, "sgxemu_vdso_aep");
	v->direct = symtab_lookup(v->base, "sgxemu_vdso_direct");
	if (!v->enter || !v->enclu || !v->fixup || !v->aep || !v->direct) {
		munmap(p, size);
		return -ENOEXEC;
	}
	return run_vdso_set_direct(v, v->enclu);
}

int run_vdso_set_direct(const struct run_vdso *v, uintptr_t entry)
{
	uintptr_t page = v->direct & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
	size_t len = v->direct + sizeof(entry) - page;

	/* Other threads may be running the image meanwhile: it stays X. */
	if (mprotect((void *)page, len, PROT_READ | PROT_WRITE | PROT_EXEC))
		return -ENOMEM;
	__atomic_store_n((uintptr_t *)v->direct, entry, __ATOMIC_RELEASE);
	return mprotect((void *)page, len, PROT_READ | PROT_EXEC) ? -ENOMEM : 0;
}

static struct run_vdso the_vdso;
static bool the_vdso_ok;
static pthread_once_t the_vdso_once = PTHREAD_ONCE_INIT;

static void map_once(void)
{
	the_vdso_ok = run_vdso_map(&the_vdso) == 0;
}

const struct run_vdso *run_vdso_get(void)
{
	pthread_once(&the_vdso_once, map_once);
	return the_vdso_ok ? &the_vdso : NULL;
}
