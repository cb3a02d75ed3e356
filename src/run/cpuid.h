/* SPDX-License-Identifier: MIT */
/*
 * CPUID that reports SGX (docs/CPUID.md). The host CPU (AMD) has no SGX and
 * cannot make CPUID fault, so each CPUID instruction in the patched objects
 * is rewritten into UD2 (0F 0B: same length, raises #UD, i.e. SIGILL) and
 * emulated when it traps. Instructions are found with Capstone, decoding each
 * function the object's symbol table names (.symtab, else .dynsym), never by
 * scanning bytes.
 *
 * Contract with the runtime (R1):
 *  - Call run_cpuid_setup() once from the library constructor, while the
 *    process has one thread, before main: it reads SGXEMU_EPC_SIZE and
 *    patches the main executable plus the objects SGXEMU_CPUID_OBJECTS names.
 *  - From the SIGILL handler, call run_cpuid_trap(uc) first: it returns true
 *    if RIP is a patched CPUID, having written EAX..EDX and advanced RIP past
 *    the instruction; the handler then returns. It is async-signal-safe (no
 *    allocation, no locks) and may run on any thread.
 *  - Patching happens before any trap can occur; nothing is patched later
 *    (objects loaded by dlopen keep the real CPUID).
 */
#ifndef SGXEMU_RUN_CPUID_H
#define SGXEMU_RUN_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

/* The EPC size in bytes that CPUID.(12H,2) reports; the runner sets it from
 * --epc-size. Unset: no EPC section is reported. */
#define RUN_EPC_SIZE_ENV "SGXEMU_EPC_SIZE"
/* Colon-separated file names (basenames) of shared objects loaded at
 * startup whose CPUIDs are patched too; the main executable always is. */
#define RUN_CPUID_OBJECTS_ENV "SGXEMU_CPUID_OBJECTS"

/* What patching one object found. */
struct run_cpuid_report {
	bool used_dynsym;     /* no .symtab: only exported functions decoded */
	size_t functions;     /* function symbols decoded */
	size_t sizeless;      /* function symbols of size 0: not decoded */
	size_t instructions;  /* instructions Capstone decoded */
	size_t skipped_bytes; /* bytes Capstone could not decode (skipped) */
	size_t patched;       /* CPUID instructions rewritten to UD2 */
};

/* Reads the environment and patches the objects above; 0 or -errno. */
int run_cpuid_setup(void);

/* The EPC size CPUID reports (bytes, rounded down to 4 KiB; 0: none). */
void run_cpuid_set_epc_size(uint64_t bytes);

/*
 * Patches every CPUID inside a function of the loaded object `obj` (as
 * dl_iterate_phdr describes it), whose file is `path`. Returns 0 or -errno
 * (-ENOEXEC: not an ELF64 x86-64 file, or not the file of `obj` (its
 * program headers differ); -ENOSPC: more patch sites than the
 * table holds); *rep says what was found. On an error, the sites already
 * rewritten stay in the table (they trap and are emulated).
 */
struct dl_phdr_info;
int run_cpuid_patch_object(const char *path, const struct dl_phdr_info *obj,
			   struct run_cpuid_report *rep);

/* Copies up to max patched addresses, ascending; returns how many exist. */
size_t run_cpuid_sites(uintptr_t *addrs, size_t max);

/* If RIP is a patched CPUID: emulate it, advance RIP, return true. */
bool run_cpuid_trap(ucontext_t *uc);

/* The XFRM set CPUID.(12H,1) reports and ECREATE accepts: XCR0's. */
uint64_t run_cpuid_xfrm(void);

/* The CPUID the patched code sees for leaf/subleaf: regs = EAX..EDX. */
void run_cpuid_emulate(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

#endif
