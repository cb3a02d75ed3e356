/* SPDX-License-Identifier: MIT */
/*
 * The enclave's one entry point (the TCS's OENTRY). EENTER arrives here
 * with RAX = CSSA, RBX = the TCS, RCX = the address after the host's
 * ENCLU (where EEXIT must return), and RSP/RBP still the untrusted ones.
 * The host's RDI, RSI and RDX are the operation and its arguments
 * (layout.h); the C dispatcher returns its two results in RAX:RDX, which go
 * back to the host in RDI and RSI.
 */
#include "layout.h"

	.text
	.globl encl_entry
	.type encl_entry, @function
encl_entry:
	/* Stack c sits ENCL_STACK_BYTES * c above stack 0; its top is
	 * ENCL_STACK_BYTES further on. */
	mov	%rsp, %r10
	imul	$ENCL_STACK_BYTES, %rax, %rax
	lea	ENCL_TCS_TO_STACKS + ENCL_STACK_BYTES(%rbx, %rax), %rsp

	/* What EEXIT needs: the untrusted RSP and RBP (the vDSO reads its
	 * `run` argument through RBP once back) and the return address. */
	push	%r10
	push	%rbp
	push	%rcx
	sub	$8, %rsp		/* 16-byte aligned at the call */
	cld				/* the C ABI wants DF clear */
	call	encl_dispatch
	add	$8, %rsp
	mov	%rax, %rdi		/* results */
	mov	%rdx, %rsi
	pop	%rbx			/* EEXIT's target */
	pop	%rbp
	pop	%rsp

	/* The C code kept RBP and R12-R15 (callee-saved, the host's values);
	 * every other register may hold enclave data: clear it. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	mov	$4, %eax		/* EEXIT */
	enclu
	ud2
	.size encl_entry, . - encl_entry

	.section .note.GNU-stack, "", @progbits
