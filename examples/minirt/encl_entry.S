/* SPDX-License-Identifier: MIT */
/*
 * minirt's enclave entry and exit (the TCS's OENTRY), and the code whose
 * faults the exception handler fixes up.
 *
 * EENTER arrives with RAX = CSSA, RBX = the TCS, RCX = the address after
 * the host's ENCLU, RDI = the command, RSI and RDX its arguments, RSP and
 * RBP the host's, and GS based at this thread's TCB (OGSBASGX).
 */
#include "minirt.h"

	.text
	.globl encl_entry
	.type encl_entry, @function
encl_entry:
	mov	%rbx, %r11
	sub	%gs:TCB_TCS_OFF, %r11		/* the enclave's base */
	mov	%r11, %gs:TCB_BASE
	mov	%r11, %r10
	add	%gs:TCB_SELF_OFF, %r10
	mov	%r10, %gs:TCB_SELF
	mov	%rax, %gs:TCB_CSSA
	mov	%rsp, %gs:TCB_URSP(, %rax, 8)
	mov	%rbp, %gs:TCB_URBP(, %rax, 8)
	mov	%rcx, %gs:TCB_EXIT(, %rax, 8)
	cld					/* the C ABI wants DF clear */
	cmp	$ECMD_ORET, %rdi
	je	.Loret
	mov	%gs:TCB_STACK_OFF(, %rax, 8), %rsp
	add	%r11, %rsp
	mov	%rax, %rcx			/* encl_main(cmd, a1, a2, cssa) */
	call	encl_main			/* does not return */
	ud2

	/* Back from an OCALL: the stack encl_switch_out() left. */
.Loret:
	mov	%gs:TCB_OCALL_RSP(, %rax, 8), %rsp
	test	%rsp, %rsp
	jz	.Lno_ocall
	movq	$0, %gs:TCB_OCALL_RSP(, %rax, 8)
	mov	%rsi, %rax			/* the results, RAX:RDX */
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
.Lno_ocall:
	ud2					/* a host bug: no OCALL pending */
	.size encl_entry, . - encl_entry

/*
 * struct pair encl_switch_out(struct mrt_frame *frame, uint64_t exit,
 *			       uint64_t urbp, uint64_t *slot): EEXIT to exit
 * with RSP = frame (below the host's RSP) and the host's RBP. With a slot
 * (an OCALL), the enclave's callee-saved registers stay on its stack and
 * RSP in *slot: ECMD_ORET returns here with the OCALL's results.
 */
	.globl encl_switch_out
	.type encl_switch_out, @function
encl_switch_out:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	test	%rcx, %rcx
	jz	1f
	mov	%rsp, (%rcx)
1:	mov	%rsi, %rbx
	mov	%rdx, %rbp
	mov	%rdi, %rsp
	/* Leave no enclave value in a register. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d
	mov	$MRT_EEXIT, %eax
	enclu
	.size encl_switch_out, . - encl_switch_out

/*
 * Probes: instructions that may fault, each with a fixup the handler
 * moves RIP to (the kernel's exception tables work the same way).
 * long probe_write(void *p): 0, or -14 (EFAULT) if the write faulted.
 */
	.globl probe_write, probe_write_insn, probe_write_fixup
probe_write:
	xor	%eax, %eax
probe_write_insn:
	movb	$0x5a, (%rdi)
	ret
probe_write_fixup:
	mov	$-14, %rax
	ret

/* long probe_div(long a, long b): a / b, or -1 if it raised #DE. */
	.globl probe_div, probe_div_insn, probe_div_fixup
probe_div:
	mov	%rdi, %rax
	cqo
probe_div_insn:
	idiv	%rsi
	ret
probe_div_fixup:
	mov	$-1, %rax
	ret

/*
 * int avx_survives(uint64_t p, void *fresh, long zero): YMM0 = { p, p,
 * ~p, ~p }, then a write to a fresh heap page (#PF, handled on the host
 * and by the enclave's handler) and a division by zero (#DE); 1 if YMM0
 * still holds its value, 0 if not. Clears YMM0 and YMM1 before it returns.
 */
	.globl avx_survives
avx_survives:
	push	%rbp
	mov	%rsp, %rbp
	sub	$64, %rsp
	and	$-32, %rsp
	vmovq	%rdi, %xmm0
	vpunpcklqdq %xmm0, %xmm0, %xmm0
	vpcmpeqd %xmm1, %xmm1, %xmm1
	vpxor	%xmm0, %xmm1, %xmm1
	vinsertf128 $1, %xmm1, %ymm0, %ymm0
	vmovdqu	%ymm0, (%rsp)
	movb	$1, (%rsi)			/* #PF */
	mov	$1, %rdi
	push	%rsi
	push	%rdx
	mov	%rdx, %rsi
	call	probe_div			/* #DE */
	pop	%rdx
	pop	%rsi
	vmovdqu	%ymm0, 32(%rsp)
	vzeroall
	mov	(%rsp), %rax
	xor	32(%rsp), %rax
	mov	8(%rsp), %rcx
	xor	40(%rsp), %rcx
	or	%rcx, %rax
	mov	16(%rsp), %rcx
	xor	48(%rsp), %rcx
	or	%rcx, %rax
	mov	24(%rsp), %rcx
	xor	56(%rsp), %rcx
	or	%rcx, %rax
	sete	%al
	movzbl	%al, %eax
	leave
	ret

	.section .note.GNU-stack, "", @progbits
