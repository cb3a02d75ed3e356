/* SPDX-License-Identifier: MIT */
/*
 * __vdso_sgx_enter_enclave, written from the ABI in linux-sgx-driver.md
 * section 9 (Linux's arch/x86/entry/vdso/vsgx.S behaviour):
 *
 *   int __vdso_sgx_enter_enclave(rdi, rsi, rdx, unsigned int function,
 *                                r8, r9, struct sgx_enclave_run *run);
 *
 * `run` is the seventh argument, on the stack at 16(%rbp). RDI, RSI, RDX,
 * R8, R9 and every GPR but RAX, RBX and RCX reach the enclave unchanged, so
 * the checks below use only those three.
 */

#define EENTER 2
#define ERESUME 3
#define EEXIT 4
#define EINVAL 22

/* struct sgx_enclave_run (include/sgxemu/uapi.h). */
#define RUN_TCS 0
#define RUN_FUNCTION 8
#define RUN_EXCEPTION_VECTOR 12
#define RUN_EXCEPTION_ERROR_CODE 14
#define RUN_EXCEPTION_ADDR 16
#define RUN_USER_HANDLER 24
#define RUN_RESERVED 40
#define RUN_SIZE 256

#define RUN_PTR 16(%rbp)

	.text
	.globl __vdso_sgx_enter_enclave
	.type __vdso_sgx_enter_enclave, @function
	/* Private names: the runtime finds them in .symtab, not .dynsym. */
	.globl sgxemu_vdso_enclu
	.hidden sgxemu_vdso_enclu
	.globl sgxemu_vdso_fixup
	.hidden sgxemu_vdso_fixup
	.globl sgxemu_vdso_aep
	.hidden sgxemu_vdso_aep
	.globl sgxemu_vdso_direct
	.hidden sgxemu_vdso_direct
__vdso_sgx_enter_enclave:
	push %rbp
	mov %rsp, %rbp
	/* RBX carries the TCS into the enclave; it is callee-saved. */
	push %rbx

.Lenter:
	/* Only EENTER and ERESUME. */
	cmp $EENTER, %ecx
	jb .Linvalid
	cmp $ERESUME, %ecx
	ja .Linvalid
	mov %ecx, %eax

	/* run->reserved must be zero, 8 bytes at a time. */
	mov RUN_PTR, %rbx
	mov $RUN_RESERVED, %ecx
.Lcheck_reserved:
	cmpq $0, (%rbx, %rcx)
	jne .Linvalid
	add $8, %ecx
	cmp $RUN_SIZE, %ecx
	jb .Lcheck_reserved

	mov RUN_TCS(%rbx), %rbx
	/*
	 * The AEP is this same entry: after an AEX it runs again as ERESUME.
	 * The runtime's entry (sgxemu_vdso_direct, written when the image is
	 * mapped) emulates the ENCLU below without a trap, or goes to it.
	 */
	lea sgxemu_vdso_aep(%rip), %rcx
sgxemu_vdso_aep:
	jmp *sgxemu_vdso_direct(%rip)
sgxemu_vdso_enclu:
	enclu

	/* EEXIT lands here. */
	mov RUN_PTR, %rbx
	movl $EEXIT, RUN_FUNCTION(%rbx)

.Lhandle_exit:
	cmpq $0, RUN_USER_HANDLER(%rbx)
	jne .Linvoke_user_handler
	xor %eax, %eax

.Lout:
	mov -8(%rbp), %rbx
	leave
	ret

.Linvalid:
	mov $-EINVAL, %eax
	jmp .Lout

	/* An exception at ENCLU: EAX = leaf, RDI = trap number, RSI = error
	 * code, RDX = address. */
sgxemu_vdso_fixup:
	mov RUN_PTR, %rbx
	mov %eax, RUN_FUNCTION(%rbx)
	mov %di, RUN_EXCEPTION_VECTOR(%rbx)
	mov %si, RUN_EXCEPTION_ERROR_CODE(%rbx)
	mov %rdx, RUN_EXCEPTION_ADDR(%rbx)
	jmp .Lhandle_exit

	/*
	 * handler(rdi, rsi, rdx, rsp, r8, r9, run): RDI..R9 as the enclave (or
	 * the fixup) left them, the untrusted RSP in RCX, `run` on a 16-byte
	 * aligned stack. A result > 0 is the next ENCLU leaf.
	 */
.Linvoke_user_handler:
	mov %rsp, %rcx
	/* RBX (callee-saved in the handler) keeps the misalignment. */
	mov %rsp, %rbx
	and $0xf, %rbx
	sub %rbx, %rsp
	sub $8, %rsp
	pushq RUN_PTR
	mov RUN_PTR, %rax
	mov RUN_USER_HANDLER(%rax), %rax
	cld
	/* No speculation into the handler on stale values (LVI). */
	lfence
	call *%rax
	add $16, %rsp
	add %rbx, %rsp
	cmp $0, %eax
	jle .Lout
	mov %eax, %ecx
	jmp .Lenter
	.size __vdso_sgx_enter_enclave, . - __vdso_sgx_enter_enclave

	.balign 8
sgxemu_vdso_direct:
	.quad 0

	.section .note.GNU-stack, "", @progbits
