/* SPDX-License-Identifier: MIT */
/*
 * CPUID that reports SGX (docs/CPUID.md): find every CPUID in the functions
 * of the patched objects with Capstone, rewrite it to UD2, and emulate it on
 * the SIGILL that follows. The SGX values follow the SDM's CPUID leaf 12H
 * layout and what our ECREATE (src/arch/encls_ecreate.c) accepts.
 */
#include "run/cpuid.h"

#include <capstone/capstone.h>
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "base/assert.h"

#define CPUID_LEAF_FEATURES 0x7
#define CPUID_LEAF_SGX 0x12
#define CPUID_7_EBX_SGX (1U << 2)
#define CPUID_7_ECX_SGX_LC (1U << 30)
#define CPUID_12_0_EAX_SGX1 (1U << 0)
#define CPUID_12_0_EAX_SGX2 (1U << 1)
#define CPUID_12_EPC_SECTION 0x1U
/* ECX[3:0] of an EPC section: confidentiality and integrity protected. */
#define CPUID_12_EPC_PROTECTED 0x1U
#define CPUID_12_LOW_MASK 0xfffff000U
#define CPUID_12_HIGH_MASK 0x000fffffU

/* MODEL: 2^31 outside 64-bit mode, which the model rejects anyway; in
 * it, what ECREATE accepts (arch/sdm.h). */
#define MAX_ENCLAVE_SIZE_NOT64_LOG2 31U
/* MODEL: the attributes ECREATE lets software set: every non-reserved bit
 * but INIT, which only EINIT sets. */
#define SGX_ATTR_SETTABLE (~SGX_ATTR_RESERVED_MASK & ~(uint64_t)SGX_ATTR_INIT)
/* MODEL: the physical base CPUID reports for the one EPC section; nothing
 * in the model has physical addresses, so any page-aligned value works. */
#define EPC_SECTION_PHYS_BASE 0x80000000ULL

/* MODEL: room for this many CPUID sites; patching more fails (-ENOSPC). */
#define MAX_SITES 4096

/* A patched CPUID: its address (where #UD reports RIP) and length. */
struct site {
	uintptr_t addr;
	uint8_t len;
};

static uint64_t epc_size;
static struct site sites[MAX_SITES]; /* sorted by address */
static size_t nr_sites;

void run_cpuid_set_epc_size(uint64_t bytes)
{
	epc_size = bytes & ~(uint64_t)0xfff;
}

static void real_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static void split(uint64_t v, uint32_t low_flags, uint32_t *low,
		  uint32_t *high)
{
	*low = ((uint32_t)v & CPUID_12_LOW_MASK) | low_flags;
	*high = (uint32_t)(v >> 32) & CPUID_12_HIGH_MASK;
}

/**
 * run_cpuid_xfrm() - the XFRM bits the runner's ECREATE accepts, which
 * CPUID.(12H,1):ECX..EDX reports: the state the host's XCR0 enables, as
 * far as the model can hold it (SGX_XFRM_ARCH), so that leaf 7's features
 * (AVX-512, say) can be used in enclaves.
 *
 * Return: the XFRM mask, at least x87 | SSE.
 */
uint64_t run_cpuid_xfrm(void)
{
	unsigned int a, b, c, d;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0x3;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32 | lo) & SGX_XFRM_ARCH;
}

/* CPUID.(12H, sub): SDM "CPUID Leaf 12H" (Intel SGX capability). */
static void sgx_leaf(uint32_t sub, uint32_t r[4])
{
	memset(r, 0, 4 * sizeof(*r));
	if (sub == 0) {
		r[0] = CPUID_12_0_EAX_SGX1 | CPUID_12_0_EAX_SGX2;
		r[1] = SGX_MISC_EXINFO; /* MISCSELECT bits ECREATE accepts */
		r[3] = SGX_MAX_ENCLAVE_SIZE_64_LOG2 << 8 |
		       MAX_ENCLAVE_SIZE_NOT64_LOG2;
	} else if (sub == 1) {
		r[0] = (uint32_t)SGX_ATTR_SETTABLE;
		r[1] = (uint32_t)(SGX_ATTR_SETTABLE >> 32);
		r[2] = (uint32_t)run_cpuid_xfrm();
		r[3] = (uint32_t)(run_cpuid_xfrm() >> 32);
	} else if (sub == 2 && epc_size) {
		/* MODEL: one EPC section, --epc-size bytes; sub-leaf 3 and
		 * up are invalid (type 0), which ends the enumeration. */
		split(EPC_SECTION_PHYS_BASE, CPUID_12_EPC_SECTION, &r[0],
		      &r[1]);
		split(epc_size, CPUID_12_EPC_PROTECTED, &r[2], &r[3]);
	}
}

void run_cpuid_emulate(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	uint32_t max[4];

	real_cpuid(0, 0, max);
	if (leaf == CPUID_LEAF_SGX) {
		sgx_leaf(sub, r);
		return;
	}
	/* MODEL: leaves between the CPU's last basic leaf and 12H read as
	 * zero, as AMD's out-of-range basic leaves do. */
	if (leaf > max[0] && leaf < CPUID_LEAF_SGX) {
		memset(r, 0, 4 * sizeof(*r));
		return;
	}
	real_cpuid(leaf, sub, r);
	if (leaf == 0 && r[0] < CPUID_LEAF_SGX)
		r[0] = CPUID_LEAF_SGX;
	if (leaf == CPUID_LEAF_FEATURES && sub == 0) {
		r[1] |= CPUID_7_EBX_SGX;
		r[2] |= CPUID_7_ECX_SGX_LC;
	}
}

static const struct site *find_site(uintptr_t rip)
{
	size_t lo = 0, hi = nr_sites;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sites[mid].addr == rip)
			return &sites[mid];
		if (sites[mid].addr < rip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool run_cpuid_trap(ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	const struct site *site = find_site((uintptr_t)g[REG_RIP]);
	uint32_t r[4];

	if (!site)
		return false;
	run_cpuid_emulate((uint32_t)g[REG_RAX], (uint32_t)g[REG_RCX], r);
	/* CPUID zero-extends into the 64-bit registers. */
	g[REG_RAX] = r[0];
	g[REG_RBX] = r[1];
	g[REG_RCX] = r[2];
	g[REG_RDX] = r[3];
	g[REG_RIP] += site->len;
	return true;
}

size_t run_cpuid_sites(uintptr_t *addrs, size_t max)
{
	for (size_t i = 0; i < nr_sites && i < max; i++)
		addrs[i] = sites[i].addr;
	return nr_sites;
}

/* The object's file, mapped read-only, and its chosen symbol table. */
struct elf_file {
	const uint8_t *data;
	size_t size;
	const Elf64_Sym *syms;
	size_t nsyms;
	bool dynsym;
};

static bool in_file(const struct elf_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

static const Elf64_Shdr *find_section(const struct elf_file *f,
				      uint32_t type)
{
	const Elf64_Ehdr *eh = (const void *)f->data;
	const Elf64_Shdr *sh = (const void *)(f->data + eh->e_shoff);

	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == type &&
		    in_file(f, sh[i].sh_offset, sh[i].sh_size))
			return &sh[i];
	return NULL;
}

static int elf_open(const char *path, struct elf_file *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -ENOEXEC;
	}
	f->size = (size_t)st.st_size;
	f->data = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f->data == MAP_FAILED)
		return -ENOMEM;
	const Elf64_Ehdr *eh = (const void *)f->data;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    !in_file(f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return -ENOEXEC;
	const Elf64_Shdr *sh = find_section(f, SHT_SYMTAB);
	f->dynsym = !sh;
	if (!sh)
		sh = find_section(f, SHT_DYNSYM);
	f->syms = sh ? (const void *)(f->data + sh->sh_offset) : NULL;
	f->nsyms = sh ? sh->sh_size / sizeof(Elf64_Sym) : 0;
	return 0;
}

/* The loaded executable segment holding [addr, addr+len), or NULL. */
static const Elf64_Phdr *exec_segment(const struct dl_phdr_info *obj,
				      uintptr_t addr, uint64_t len)
{
	for (unsigned i = 0; i < obj->dlpi_phnum; i++) {
		const Elf64_Phdr *p = &obj->dlpi_phdr[i];
		uintptr_t start = obj->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) &&
		    addr >= start && addr - start <= p->p_filesz &&
		    len <= p->p_filesz - (addr - start))
			return p;
	}
	return NULL;
}

static int add_site(uintptr_t addr, uint8_t len)
{
	if (nr_sites == MAX_SITES)
		return -ENOSPC;
	sites[nr_sites].addr = addr;
	sites[nr_sites++].len = len;
	return 0;
}

/* Decodes one function in place, recording its CPUIDs. */
static int decode_function(csh cs, cs_insn *insn, uintptr_t addr,
			   size_t size, struct run_cpuid_report *rep)
{
	const uint8_t *code = (const uint8_t *)addr;
	uint64_t pc = addr;
	int err = 0;

	while (!err && cs_disasm_iter(cs, &code, &size, &pc, insn)) {
		if (insn->id == 0) { /* SKIPDATA: a byte it cannot decode */
			rep->skipped_bytes += insn->size;
			continue;
		}
		rep->instructions++;
		if (insn->id == X86_INS_CPUID)
			err = add_site(insn->address, (uint8_t)insn->size);
	}
	return err;
}

static int decode_object(const struct elf_file *f,
			 const struct dl_phdr_info *obj,
			 struct run_cpuid_report *rep)
{
	csh cs;
	int err = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(cs, CS_OPT_SKIPDATA, CS_OPT_ON);
	cs_insn *insn = cs_malloc(cs);
	for (size_t i = 0; insn && !err && i < f->nsyms; i++) {
		const Elf64_Sym *s = &f->syms[i];
		uintptr_t addr = obj->dlpi_addr + s->st_value;
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
		    s->st_shndx == SHN_UNDEF)
			continue;
		/* Functions without a size (some hand-written assembly)
		 * have no known end: not decoded (docs/CPUID.md). */
		if (s->st_size == 0) {
			rep->sizeless++;
			continue;
		}
		if (!exec_segment(obj, addr, s->st_size))
			continue;
		rep->functions++;
		err = decode_function(cs, insn, addr, s->st_size, rep);
	}
	if (!insn)
		err = -ENOMEM;
	cs_free(insn, 1);
	cs_close(&cs);
	return err;
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Aliases (two symbols, one function) decode the same CPUID twice. */
static void sort_sites(void)
{
	size_t n = 0;

	qsort(sites, nr_sites, sizeof(*sites), cmp_site);
	for (size_t i = 0; i < nr_sites; i++)
		if (!n || sites[n - 1].addr != sites[i].addr)
			sites[n++] = sites[i];
	nr_sites = n;
}

static int prot_of(const Elf64_Phdr *p)
{
	return (p->p_flags & PF_R ? PROT_READ : 0) |
	       (p->p_flags & PF_W ? PROT_WRITE : 0) |
	       (p->p_flags & PF_X ? PROT_EXEC : 0);
}

/*
 * CPUID (0F A2, after any prefixes) becomes UD2 (0F 0B): same length, and
 * the prefixes Capstone accepted on CPUID do not change what UD2 does, so
 * #UD is raised with RIP at the instruction's first byte.
 */
static int patch_site(const struct dl_phdr_info *obj, const struct site *s)
{
	static const uint8_t ud2[2] = { 0x0f, 0x0b };
	uint8_t *op = (uint8_t *)s->addr + s->len - 2;
	const Elf64_Phdr *seg = exec_segment(obj, s->addr, s->len);
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)op & ~(page - 1);
	size_t len = ((uintptr_t)op + 2 - start + page - 1) & ~(page - 1);

	ASSERT(seg && op[0] == 0x0f && (op[1] == 0xa2 || op[1] == 0x0b));
	/* Execute stays on: only one thread exists, but the page may hold
	 * the code running this very function. */
	if (mprotect((void *)start, len, PROT_READ | PROT_WRITE | PROT_EXEC))
		return -errno;
	memcpy(op, ud2, sizeof(ud2));
	if (mprotect((void *)start, len, prot_of(seg)))
		return -errno;
	return 0;
}

/*
 * Is the file the object that is loaded? Its symbols are only right for
 * these bytes if its program headers are the loaded ones (a program started
 * as "ld.so PROGRAM" has ld.so behind /proc/self/exe, for one).
 */
static bool is_loaded_object(const struct elf_file *f,
			     const struct dl_phdr_info *obj)
{
	const Elf64_Ehdr *eh = (const void *)f->data;
	size_t len = (size_t)obj->dlpi_phnum * sizeof(Elf64_Phdr);

	return eh->e_phnum == obj->dlpi_phnum &&
	       eh->e_phentsize == sizeof(Elf64_Phdr) &&
	       in_file(f, eh->e_phoff, len) &&
	       !memcmp(f->data + eh->e_phoff, obj->dlpi_phdr, len);
}

int run_cpuid_patch_object(const char *path, const struct dl_phdr_info *obj,
			   struct run_cpuid_report *rep)
{
	struct elf_file f = { .data = MAP_FAILED };
	size_t first = nr_sites, i = first;

	memset(rep, 0, sizeof(*rep));
	int err = elf_open(path, &f);
	if (!err && !is_loaded_object(&f, obj))
		err = -ENOEXEC;
	if (!err) {
		rep->used_dynsym = f.dynsym;
		err = decode_object(&f, obj, rep);
	}
	if (err)
		i = nr_sites = first;
	for (; !err && i < nr_sites; i++)
		err = patch_site(obj, &sites[i]);
	/* Keep exactly the sites that were rewritten: each must trap. */
	nr_sites = i;
	sort_sites();
	rep->patched = nr_sites - first;
	if (f.data != MAP_FAILED)
		munmap((void *)f.data, f.size);
	return err;
}

/* Is the object's file name one of the colon-separated names in `list`? */
static bool listed(const char *list, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	for (const char *p = list; len && p && *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && !memcmp(p, base, n))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static void warn_dynsym(const char *path, const struct run_cpuid_report *r)
{
	fprintf(stderr, "sgxemu: %s has no .symtab (stripped): CPUID searched "
		"in its %zu exported functions only\n", path, r->functions);
}

struct setup {
	const char *list;
	bool seen_main;
	int err;
};

static int patch_each(struct dl_phdr_info *obj, size_t size, void *data)
{
	struct setup *st = data;
	/* dl_iterate_phdr visits the main program first. */
	bool main_program = !st->seen_main;
	struct run_cpuid_report rep;

	st->seen_main = true;
	if (!main_program && !listed(st->list, obj->dlpi_name))
		return 0;
	const char *path = main_program ? "/proc/self/exe" : obj->dlpi_name;
	st->err = run_cpuid_patch_object(path, obj, &rep);
	if (!st->err && rep.used_dynsym)
		warn_dynsym(main_program ? "the program" : path, &rep);
	return st->err;
}

int run_cpuid_setup(void)
{
	const char *epc = getenv(RUN_EPC_SIZE_ENV);
	const char *list = getenv(RUN_CPUID_OBJECTS_ENV);
	struct setup st = { .list = list ? list : "" };

	if (epc) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(epc, &end, 0);
		if (errno || end == epc || *end)
			return -EINVAL;
		run_cpuid_set_epc_size(v);
	}
	dl_iterate_phdr(patch_each, &st);
	return st.err;
}
