// SPDX-License-Identifier: MIT
/*
 * Finding __vdso_sgx_enter_enclave: the kernel maps the vDSO, an ELF
 * shared object, into every process and reports its ELF header in the
 * auxiliary vector (AT_SYSINFO_EHDR). Its dynamic section names a SysV
 * hash table (DT_HASH, whose second word is the number of symbols), the
 * symbol table and the string table; a linear scan of the symbols is
 * enough for the one name.
 */
#include <elf.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>

#include "host.h"

struct vdso {
	uintptr_t bias; /* load address minus link address */
	const Elf64_Dyn *dynamic;
};

/* The first PT_LOAD maps the file from the ELF header on: it gives the bias. */
static int vdso_segments(uintptr_t base, struct vdso *v)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	const Elf64_Phdr *load = NULL, *dynamic = NULL;

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64)
		return -1;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !load)
			load = &ph[i];
		if (ph[i].p_type == PT_DYNAMIC)
			dynamic = &ph[i];
	}
	if (!load || !dynamic)
		return -1;
	v->bias = base - (load->p_vaddr - load->p_offset);
	v->dynamic = (const Elf64_Dyn *)(v->bias + dynamic->p_vaddr);
	return 0;
}

/* The address of a dynamic entry's pointer, or 0 if there is none. */
static uintptr_t vdso_dyn_ptr(const struct vdso *v, Elf64_Sxword tag)
{
	for (const Elf64_Dyn *d = v->dynamic; d->d_tag != DT_NULL; d++)
		if (d->d_tag == tag)
			return v->bias + d->d_un.d_ptr;
	return 0;
}

static uintptr_t vdso_lookup(const struct vdso *v, const char *name,
			     size_t *size)
{
	const Elf32_Word *hash = (const Elf32_Word *)vdso_dyn_ptr(v, DT_HASH);
	const Elf64_Sym *sym = (const Elf64_Sym *)vdso_dyn_ptr(v, DT_SYMTAB);
	const char *str = (const char *)vdso_dyn_ptr(v, DT_STRTAB);

	if (!hash || !sym || !str)
		return 0;
	for (Elf32_Word i = 0; i < hash[1]; i++)
		if (sym[i].st_shndx != SHN_UNDEF &&
		    ELF64_ST_TYPE(sym[i].st_info) == STT_FUNC &&
		    !strcmp(str + sym[i].st_name, name)) {
			if (size)
				*size = sym[i].st_size;
			return v->bias + sym[i].st_value;
		}
	return 0;
}

vdso_sgx_enter_enclave_t vdso_find_enter(size_t *size)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	struct vdso v;

	if (!base || vdso_segments(base, &v))
		return NULL;
	return (vdso_sgx_enter_enclave_t)vdso_lookup(&v,
						      "__vdso_sgx_enter_enclave",
						      size);
}
