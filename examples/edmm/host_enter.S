/* SPDX-License-Identifier: MIT */
/*
 * int enter_enclave(rdi, rsi, rdx, function, r8, r9, run) (host.h): call
 * vdso_sgx_enter_enclave with the same arguments, keeping RBX, RBP and
 * R12-R15 for the C caller.
 */
	.text
	.globl enter_enclave
	.type enter_enclave, @function
enter_enclave:
	push	%rbp
	mov	%rsp, %rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	pushq	16(%rbp)		/* run: the vDSO reads it at 16(%rbp) */
	call	*vdso_sgx_enter_enclave(%rip)
	add	$8, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret
	.size enter_enclave, . - enter_enclave

	.section .note.GNU-stack, "", @progbits
