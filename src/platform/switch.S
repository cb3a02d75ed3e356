/* SPDX-License-Identifier: MIT */
/*
 * sim_switch(void **save_sp, void *load_sp): save the callee-saved
 * registers of the System V x86-64 ABI on the current stack, store the
 * stack pointer in *save_sp, load load_sp and restore the registers saved
 * there. A coroutine switch in a dozen instructions, with no system call:
 * ucontext's swapcontext also saves the signal mask, a system call per
 * switch, which the explorer cannot afford at millions of switches.
 */
	.text
	.globl	sim_switch
	.type	sim_switch, @function
sim_switch:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	sim_switch, .-sim_switch
	.section .note.GNU-stack, "", @progbits
