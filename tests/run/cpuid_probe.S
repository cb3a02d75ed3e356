/* SPDX-License-Identifier: MIT */
/*
 * A shared object with one CPUID, for test_cpuid's SGXEMU_CPUID_OBJECTS
 * test: lib_cpuid_fn(leaf, sub, regs[4]), and lib_cpuid_site() giving the
 * CPUID's address (a function, so that the program sees the library's
 * address, not a copy relocation of a data symbol).
 */
	.text
	.globl lib_cpuid_fn
	.type lib_cpuid_fn, @function
lib_cpuid_fn:
	push %rbx
	mov %rdx, %r8
	mov %edi, %eax
	mov %esi, %ecx
.Lsite:
	cpuid
	mov %eax, (%r8)
	mov %ebx, 4(%r8)
	mov %ecx, 8(%r8)
	mov %edx, 12(%r8)
	pop %rbx
	ret
	.size lib_cpuid_fn, . - lib_cpuid_fn

	.globl lib_cpuid_site
	.type lib_cpuid_site, @function
lib_cpuid_site:
	lea .Lsite(%rip), %rax
	ret
	.size lib_cpuid_site, . - lib_cpuid_site

	.section .note.GNU-stack, "", @progbits
