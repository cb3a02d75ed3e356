/* SPDX-License-Identifier: MIT */
/*
 * What minirt's host and enclave agree on: the layout of the enclave, the
 * commands of an entry, the OCALLs, the exit frame and the two per-thread
 * control blocks (the host's in the host's GS, the enclave's in the
 * enclave's GS). Included by C and by assembly, so mostly macros.
 *
 * The enclave, from its base (SECS.BASEADDR):
 *
 *   0             the ELF image: text R X, then data R W (encl.lds)
 *   image end     MRT_THREADS thread blocks of MRT_BLOCK_PAGES pages:
 *                   +0      the TCS (OGSBASGX = its TCB page)
 *                   +1      MRT_NSSA SSA frames of one page
 *                   +3      the enclave's TCB for this thread (GS)
 *                   +4      one stack per SSA frame: an entry made with
 *                           CSSA = c runs on stack c, so the exception
 *                           handler (CSSA 1) never overwrites the stack
 *                           of the code it interrupted (CSSA 0)
 *   then          the heap, up to the end of ELRANGE: nothing is added
 *                 there. Each page is EAUGed by the kernel on the first
 *                 access and EACCEPTed by the enclave's #PF handler.
 */
#ifndef MINIRT_H
#define MINIRT_H

#define MRT_PAGE 4096
#define MRT_THREADS 3 /* built in; one more is made at run time */
#define MRT_NSSA 2
#define MRT_STACK_PAGES 4
#define MRT_BLOCK_PAGES (1 + MRT_NSSA + 1 + MRT_NSSA * MRT_STACK_PAGES)
#define MRT_BLOCK_SSA (1 * MRT_PAGE)
#define MRT_BLOCK_TCB ((1 + MRT_NSSA) * MRT_PAGE)
#define MRT_BLOCK_STACKS ((2 + MRT_NSSA) * MRT_PAGE)
#define MRT_STACK_BYTES (MRT_STACK_PAGES * MRT_PAGE)

/* ENCLU leaves. */
#define MRT_EENTER 2
#define MRT_ERESUME 3
#define MRT_EEXIT 4
#define MRT_EACCEPT 5
#define MRT_EMODPE 6

/*
 * An entry: RDI = the command, RSI and RDX its arguments. Commands below
 * ECALL_FIRST are the runtime's own.
 */
#define ECMD_EXCEPT 1 /* handle the exception in SSA frame CSSA - 1 */
#define ECMD_ORET 2   /* an OCALL returns: RSI:RDX are its results */
#define ECALL_FIRST 16
#define ECALL_PING (ECALL_FIRST + 0)     /* returns RSI + 1 */
#define ECALL_OCALLS (ECALL_FIRST + 1)   /* RSI echo OCALLs: sum of results */
#define ECALL_HEAP (ECALL_FIRST + 2)     /* touch RSI new heap pages */
#define ECALL_SYSCALL (ECALL_FIRST + 3)  /* getpid with SYSCALL */
#define ECALL_WRITE (ECALL_FIRST + 4)    /* write(RSI, "...") with SYSCALL */
#define ECALL_CPUID (ECALL_FIRST + 5)    /* CPUID leaf RSI: EBX */
#define ECALL_DIV0 (ECALL_FIRST + 6)     /* RSI / 0 (#DE) */
#define ECALL_INT3 (ECALL_FIRST + 7)     /* INT3 (#BP), then RSI + 7 */
#define ECALL_AVX (ECALL_FIRST + 8)      /* YMM0 across a #PF and a #DE */
#define ECALL_MPROTECT (ECALL_FIRST + 9) /* RSI pages: RW, then R */
#define ECALL_MUNMAP (ECALL_FIRST + 10)  /* RSI pages: trim, touch again */
#define ECALL_JIT (ECALL_FIRST + 11)     /* a W^X code page */
#define ECALL_NEW_TCS (ECALL_FIRST + 12) /* a TCS made from a heap page */
#define ECALL_WORK (ECALL_FIRST + 13)    /* a thread's loop: RSI rounds */
#define ECALL_COUNTERS (ECALL_FIRST + 14) /* copy counters to host RSI */

/* Result bits of ECALL_MPROTECT and ECALL_JIT: all set is success. */
#define MRT_OK_READ 0x1     /* reading still works */
#define MRT_OK_NO_WRITE 0x2 /* a write faults and is fixed up */
#define MRT_OK_ACCEPT 0x4   /* every EACCEPT returned 0 */
#define MRT_OK_RUN 0x8      /* the JIT code ran before W was removed */
#define MRT_OK_RUN_RX 0x10  /* and after */
#define MRT_OK_ALL 0x1f

/* OCALLs: the host's services. */
#define OCALL_ECHO 1     /* returns a0 + a1 */
#define OCALL_SYSCALL 2  /* a0 = number, a1.. = arguments */
#define OCALL_CPUID 3    /* a0 = leaf, a1 = subleaf: EAX|EBX<<32, ECX|EDX<<32 */
#define OCALL_RESTRICT 4 /* a0 = offset, a1 = length, a2 = SECINFO perms */
#define OCALL_TRIM 5     /* MODIFY_TYPES to PT_TRIM */
#define OCALL_REMOVE 6   /* REMOVE_PAGES */
#define OCALL_MPROTECT 7 /* a2 = PROT_* of the host mapping */
#define OCALL_MAKE_TCS 8 /* MODIFY_TYPES to PT_TCS */

/*
 * The exit frame, built by the enclave below the host's RSP before every
 * EEXIT (the SDM leaves RSP as the enclave set it): the host finds it at
 * RSP. An OCALL returns with EENTER(ECMD_ORET).
 */
#define EXIT_RETURN 1
#define EXIT_OCALL 2
#define MRT_FRAME_QWORDS 10
#define MRT_RED_ZONE 128 /* the host's, left alone */

/* The enclave's TCB (%gs: inside), offsets used by encl_entry.S. */
#define TCB_SELF 0       /* its own address, for C */
#define TCB_BASE 8       /* the enclave's base, from RBX at entry */
#define TCB_TCS_OFF 16   /* offsets from the base, set by the loader */
#define TCB_SELF_OFF 24
#define TCB_SSA_OFF 32
#define TCB_STACK_OFF 40 /* [MRT_NSSA]: the top of stack c */
#define TCB_HEAP_OFF 56
#define TCB_HEAP_END 64
#define TCB_CSSA 72      /* of the current entry */
#define TCB_URSP 80      /* [MRT_NSSA]: the host's RSP at each entry */
#define TCB_URBP 96      /* [MRT_NSSA]: the host's RBP at each entry */
#define TCB_EXIT 112     /* [MRT_NSSA]: where each entry's EEXIT goes */
#define TCB_OCALL_RSP 128 /* [MRT_NSSA]: enclave RSP of a pending OCALL */

/* The host's TCB (%gs: outside), offsets used by host_entry.S. */
#define HT_SELF 0
#define HT_HOST_RSP 8 /* RSP at the innermost EENTER */
#define HT_TCS 16
#define HT_AEP 24     /* the ENCLU the last AEX came back to */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct mrt_frame {
	uint64_t reason; /* EXIT_RETURN or EXIT_OCALL */
	uint64_t nr;     /* the OCALL */
	uint64_t a[7];   /* its arguments */
	uint64_t ret;    /* EXIT_RETURN: the ECALL's result */
};
_Static_assert(sizeof(struct mrt_frame) == 8 * MRT_FRAME_QWORDS, "frame");

/* What the enclave's exception handler did, per thread. */
struct mrt_counters {
	uint64_t commits;   /* #PF: EACCEPT of an EAUGed heap page */
	uint64_t fixups;    /* #PF, #DE: a probe's fault, fixed up */
	uint64_t syscalls;  /* #UD of SYSCALL, emulated with an OCALL */
	uint64_t cpuids;    /* #UD of CPUID, emulated with an OCALL */
	uint64_t breakpoints; /* #BP */
	uint64_t ocalls;
	uint64_t no_exception; /* ECMD_EXCEPT with EXITINFO not valid */
};
#endif

#endif
