/* SPDX-License-Identifier: MIT */
/*
 * The runtime's system-call site (sysgate.c). run_gate_code is copied to a
 * page at a fixed address; the seccomp filters let through only the
 * `syscall` of that copy, so the runtime's own calls never trap. It is
 * called as long fn(nr, a1, a2, a3, a4, a5, a6) and returns the kernel's
 * value (-errno on failure). The same code runs from here until the page
 * is mapped.
 *
 * run_sigreturn is the restorer of every handler the runtime installs
 * with rt_sigaction(2) itself (SA_RESTORER).
 */
	.text
	.globl run_gate_code, run_gate_after_syscall, run_gate_code_end
	.hidden run_gate_code, run_gate_after_syscall, run_gate_code_end
	.type run_gate_code, @function
run_gate_code:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
	mov %r9, %r8
	mov 8(%rsp), %r9
	syscall
run_gate_after_syscall:
	ret
run_gate_code_end:
	.size run_gate_code, . - run_gate_code

	.globl run_sigreturn
	.hidden run_sigreturn
	.type run_sigreturn, @function
run_sigreturn:
	mov $15, %eax		/* rt_sigreturn */
	syscall
	.size run_sigreturn, . - run_sigreturn

	.section .note.GNU-stack, "", @progbits
