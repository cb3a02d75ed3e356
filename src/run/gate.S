/* SPDX-License-Identifier: MIT */
/*
 * The runtime's system-call site (sysgate.c). run_gate_code is copied to a
 * page at a fixed address; the seccomp filters let through only the
 * `syscall` of that copy, so the runtime's own calls never trap. It is
 * called as long fn(nr, a1, a2, a3, a4, a5, a6) and returns the kernel's
 * value (-errno on failure). The same code runs from here until the page
 * is mapped.
 *
 * run_gate_sigreturn, copied with it, is the restorer of every handler
 * the runtime installs (SA_RESTORER): a handler that returns into enclave
 * code does so with Syscall User Dispatch blocking every system call
 * outside the gate's page (fsgs.c).
 */
	.text
	.globl run_gate_code, run_gate_after_syscall, run_gate_sigreturn
	.globl run_gate_code_end
	.hidden run_gate_code, run_gate_after_syscall, run_gate_sigreturn
	.hidden run_gate_code_end
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
run_gate_sigreturn:
	mov $15, %eax		/* rt_sigreturn */
	syscall
run_gate_code_end:
	.size run_gate_code, . - run_gate_code

	.section .note.GNU-stack, "", @progbits
