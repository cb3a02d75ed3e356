/* SPDX-License-Identifier: MIT */
/*
 * minirt's host side of the boundary: its own ENCLU (EENTER, and the AEP
 * that ERESUMEs), the way back into the enclave after an exception, and
 * threads from a raw clone. The host's TCB is at %gs:0 (host.h).
 */
#include <asm/unistd.h>

#include "minirt.h"

	.text
/*
 * void mrt_enclu(uint64_t tcs, uint64_t cmd, uint64_t a1, uint64_t a2,
 *		  struct mrt_frame *out): EENTER; at the EEXIT, copy the
 * frame the enclave left at RSP to out.
 */
	.globl mrt_enclu, mrt_aep
	.type mrt_enclu, @function
mrt_enclu:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%r8				/* out */
	push	%gs:HT_HOST_RSP			/* an outer entry's */
	mov	%rsp, %gs:HT_HOST_RSP
	mov	%rdi, %rbx
	mov	%rsi, %rdi
	mov	%rdx, %rsi
	mov	%rcx, %rdx
	lea	mrt_aep(%rip), %rcx
	mov	$MRT_EENTER, %eax
mrt_aep:
	enclu					/* EENTER; ERESUME after an AEX */
	/* EEXIT: RSP is the enclave's exit frame, below our own stack. */
	mov	%rsp, %rsi
	mov	%gs:HT_HOST_RSP, %rsp
	pop	%gs:HT_HOST_RSP
	pop	%rdi
	mov	$MRT_FRAME_QWORDS, %ecx
	cld
	rep movsq
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
	.size mrt_enclu, . - mrt_enclu

/*
 * The host's signal handler points the interrupted context here (RSP and
 * RBP are what the AEX restored: those of the ENCLU at the AEP). Run the
 * enclave's handler, then ERESUME at that same AEP, with the same RSP and
 * RBP.
 */
	.globl mrt_exception_stub
	.type mrt_exception_stub, @function
mrt_exception_stub:
	mov	%rsp, %r12
	and	$-16, %rsp
	call	mrt_on_exception
	mov	%r12, %rsp
	mov	%gs:HT_TCS, %rbx
	mov	%gs:HT_AEP, %rcx
	mov	$MRT_ERESUME, %eax
	jmp	*%rcx
	.size mrt_exception_stub, . - mrt_exception_stub

/*
 * long mrt_clone(unsigned long flags, void *stack, int *ctid,
 *		  void (*fn)(void *), void *arg): a raw clone; the child
 * runs fn(arg) on stack, then exits (the kernel clears *ctid and wakes its
 * futex). No CLONE_SETTLS: the child has no TLS of its own, only GS.
 */
	.globl mrt_clone
	.type mrt_clone, @function
mrt_clone:
	and	$-16, %rsi
	sub	$16, %rsi
	mov	%rcx, (%rsi)			/* fn and arg, on the new stack */
	mov	%r8, 8(%rsi)
	mov	%rdx, %r10			/* child_tid */
	xor	%edx, %edx			/* parent_tid */
	xor	%r8d, %r8d			/* tls */
	mov	$__NR_clone, %eax
	syscall
	test	%rax, %rax
	jz	1f
	ret
1:	pop	%rax				/* the child: fn */
	pop	%rdi				/* arg */
	xor	%ebp, %ebp
	call	*%rax
	xor	%edi, %edi
	mov	$__NR_exit, %eax
	syscall
	ud2
	.size mrt_clone, . - mrt_clone

/* The return of a handler installed with a raw rt_sigaction (--bench). */
	.globl mrt_restorer
	.type mrt_restorer, @function
mrt_restorer:
	mov	$__NR_rt_sigreturn, %eax
	syscall
	.size mrt_restorer, . - mrt_restorer

	.section .note.GNU-stack, "", @progbits
