/* SPDX-License-Identifier: MIT */
/*
 * run_direct_entry: where the vDSO image's slot points (direct.c). It is
 * jumped to with the state of the image's ENCLU: EAX the leaf, RBX the
 * TCS, RCX the AEP, every other register the program's. It keeps the
 * extended state (XSAVE, before any C code can change it) and the GPRs
 * and RFLAGS in a frame below the stack, and calls
 * run_direct_enclu(regs, area), which never returns: it leaves through
 * rt_sigreturn, into the enclave or back to the image's ENCLU.
 */
#define AREA 8192 /* the frame, then the XSAVE area at 4096 (direct.c) */

	.text
	.globl run_direct_entry
	.hidden run_direct_entry
	.type run_direct_entry, @function
run_direct_entry:
	lea -128(%rsp), %rsp		/* clear of any red zone */
	pushfq
	cld
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rbx			/* struct direct_regs */
	sub $AREA, %rsp
	and $-64, %rsp
	mov %rsp, %r12			/* the area, 64-byte aligned */
	/* XSAVE writes only XSTATE_BV of the header; XRSTOR wants the rest 0. */
	xor %eax, %eax
	mov $8, %ecx
	lea 4096+512(%r12), %rdi
	rep stosq
	mov run_direct_xfeatures(%rip), %eax
	mov run_direct_xfeatures+4(%rip), %edx
	xsave64 4096(%r12)
	mov %rbx, %rdi
	mov %r12, %rsi
	call run_direct_enclu
	ud2
	.size run_direct_entry, . - run_direct_entry

	.section .note.GNU-stack, "", @progbits
