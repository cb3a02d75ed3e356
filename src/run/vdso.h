/* SPDX-License-Identifier: MIT */
/*
 * The runner's vDSO image: a small ELF shared object, built from
 * vdso/vsgx.S, that exports __vdso_sgx_enter_enclave with the ABI of
 * linux-sgx-driver.md section 9. The program finds it the way the Linux
 * selftests do: getauxval(AT_SYSINFO_EHDR) (interposed in auxv.c) gives the
 * image's base, and its PT_DYNAMIC lists DT_HASH, DT_SYMTAB and DT_STRTAB.
 * The kernel's real vDSO stays mapped and glibc keeps using it (glibc finds
 * it through its own copy of the auxiliary vector, not through getauxval).
 *
 * Contract with the runtime's signal handlers (R1):
 *  - The enter function jumps through the slot at `direct` with EAX =
 *    EENTER or ERESUME, RBX = TCS and RCX = `aep`, the jump itself (the AEP
 *    is that same entry, as in Linux). The slot holds `enclu` (the ENCLU
 *    right after the jump, which raises SIGILL on a CPU without SGX; the
 *    runtime emulates it) or the runtime's entry, which emulates the leaf
 *    without a trap (run_vdso_set_direct(), direct.c).
 *  - EEXIT returns to `enclu` + 3, the instruction after ENCLU, which reads
 *    `run` from 16(%rbp): the enclave must hand back the untrusted RBP and RSP
 *    (EEXIT keeps them; an AEX restores them from the SSA).
 *  - An exception that Linux would not fix (see section 9, "Exceptions") is
 *    delivered like Linux's fixup_vdso_exception: RIP = `fixup`, RDI = trap
 *    number, RSI = error code, RDX = fault address, with the register state
 *    of the AEX (EAX = ERESUME, untrusted RSP and RBP). The image stores EAX
 *    in run->function and the other three in the exception fields. Only an
 *    exception whose RIP is `enclu` (the ENCLU itself) or `aep` (after an
 *    AEX) may be sent there.
 */
#ifndef SGXEMU_RUN_VDSO_H
#define SGXEMU_RUN_VDSO_H

#include <stddef.h>
#include <stdint.h>

struct run_vdso {
	uintptr_t base;  /* the ELF header; what AT_SYSINFO_EHDR reports */
	uintptr_t enter; /* __vdso_sgx_enter_enclave */
	uintptr_t enclu; /* the ENCLU instruction: EENTER, ERESUME and AEP */
	uintptr_t fixup; /* where an exception at `enclu` is delivered */
	uintptr_t aep;   /* the AEP: an indirect jump through `direct` */
	uintptr_t direct; /* the slot: `enclu`, or the runtime's entry */
	size_t size;     /* bytes mapped at base */
};

/*
 * Maps a fresh copy of the image (read and execute) and fills *v.
 * Returns 0, -ENOMEM if the mapping fails, or -ENOEXEC if the embedded image
 * lacks a symbol (a build error).
 */
int run_vdso_map(struct run_vdso *v);

/*
 * The process's one image, mapped on first use (thread-safe). NULL if it
 * could not be mapped. getauxval(AT_SYSINFO_EHDR) reports its base, and the
 * runtime uses its enclu and fixup.
 */
const struct run_vdso *run_vdso_get(void);

/* Points the image's slot at @entry. Returns 0 or -ENOMEM. */
int run_vdso_set_direct(const struct run_vdso *v, uintptr_t entry);

#endif
