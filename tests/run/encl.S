/* SPDX-License-Identifier: MIT */
/*
 * The runner's test enclave and the host's way in, without the vDSO: the
 * host executes ENCLU itself (a program may), and that same ENCLU is the
 * AEP, as in Linux's vDSO.
 *
 * Enclave layout (offsets from the base, 128 KiB ELRANGE), host_encl.h:
 *   0x0000 eight TCSs: OENTRY 0x8000, OSSA 0xC000 + 0x2000 * i, NSSA 2,
 *          OFSBASE 0x9000, OGSBASE 0x8000
 *   0x8000 code (R X): encl_code below
 *   0x9000 data (R W): the value of PUT/GET at 0x9000
 *   0xA000 stack (R W): TCS i's SECINFO at 0xA040 + 0x40 * i
 *   0xB000 a R W page for the stress test
 *   0xC000 two SSA frames per TCS (R W)
 *   0x1C000-0x20000 holes, for EAUG
 * Operation in RDI, operands in RSI and RDX, result in RDX:
 *   1 PUT: data = RSI          2 GET: RDX = data
 *   3 READ: RDX = *RSI         4 WRITE: *RSI = RDX
 *   5 EACCEPT: SECINFO.FLAGS = RDX, EACCEPT(RSI), RDX = its code
 *   6 EMODPE: the same with EMODPE, RDX = 0 once it returns (it has no
 *     code: it faults or succeeds)
 *   7 SPIN: count RDX down to zero (interrupts land in the middle)
 *   8 FS: RDX = %fs:0      9 GS: RDX = %gs:0x1000    10 UD2
 *     (OFSBASE is the data page, OGSBASE the code page: both read data)
 *  11 EMODPE as 6 with CF set before; RDX = RAX << 8 | CF after
 *  12 EREPORT (TARGETINFO 0xB000, REPORTDATA 0xB200, REPORT 0xB400) with
 *     CF set before; RDX = RAX << 8 | CF after
 *  13 EEXIT with RSP 64 bytes lower and RBP = 0x7777 (host_enter_stack)
 *  14 SYSCALL getpid: RDX = RAX    15 OUT to port 0x80    16 INT 80h getpid
 *  17 DIV by zero (#DE)            18 INT3 (#BP)
 *  19 XMM0 = RDX, *RSI = RDX, RDX = XMM0 (a fault in between: XMM0 must
 *     survive the host's handling)
 *  20 GET on the enclave's own stack (RSP = 0xA800 at EEXIT), as real
 *     enclaves run: a signal of enclave code must not land on it
 *  21 WAIT: spin until data == RSI (another thread's PUT)
 *  22 HOLD: *RDX = 1, then stay inside until *RSI is nonzero; RDX = 0
 */
	.section .rodata
	.balign 4096
	.globl encl_code
encl_code:
	mov %rcx, %r11			/* where EEXIT returns */
	mov %rbx, %r10			/* the TCS */
	cmp $1, %rdi
	je 1f
	cmp $2, %rdi
	je 2f
	cmp $3, %rdi
	je 3f
	cmp $4, %rdi
	je 4f
	cmp $5, %rdi
	je 5f
	cmp $6, %rdi
	je 6f
	cmp $7, %rdi
	je 7f
	cmp $8, %rdi
	je 10f
	cmp $9, %rdi
	je 11f
	cmp $10, %rdi
	je 12f
	cmp $11, %rdi
	je 13f
	cmp $12, %rdi
	je 14f
	cmp $13, %rdi
	je 15f
	cmp $14, %rdi
	je 17f
	cmp $15, %rdi
	je 18f
	cmp $16, %rdi
	je 19f
	cmp $17, %rdi
	je 20f
	cmp $18, %rdi
	je 21f
	cmp $19, %rdi
	je 22f
	cmp $20, %rdi
	je 23f
	cmp $21, %rdi
	je 24f
	cmp $22, %rdi
	je 25f
	jmp 9f
25:	movq $1, (%rdx)			/* ready */
26:	pause
	cmpq $0, (%rsi)
	je 26b
	xor %edx, %edx
	jmp 9f
24:	pause				/* until data == RSI */
	cmp encl_code + 0x1000(%rip), %rsi
	jne 24b
	jmp 9f
23:	lea encl_code + 0x2800(%rip), %rsp	/* the enclave's own stack */
	mov encl_code + 0x1000(%rip), %rdx
	jmp 9f
22:	movq %rdx, %xmm0
	mov %rdx, (%rsi)
	movq %xmm0, %rdx
	jmp 9f
20:	xor %ecx, %ecx
	div %ecx
	jmp 9f
21:	int3
	jmp 9f
17:	mov $39, %eax			/* getpid */
	syscall
	mov %rax, %rdx
	jmp 9f
18:	out %al, $0x80
	jmp 9f
19:	mov $20, %eax			/* getpid, i386 */
	int $0x80
	mov %rax, %rdx
	jmp 9f
13:	mov %r10, %rbx			/* this TCS's SECINFO, as in 6 */
	and $0x7000, %rbx
	shr $6, %rbx
	lea encl_code + 0x2040(%rip), %r9
	add %r9, %rbx
	mov %rdx, (%rbx)
	mov %rsi, %rcx
	mov $6, %eax			/* EMODPE */
	jmp 16f
14:	lea encl_code + 0x3000(%rip), %rbx	/* TARGETINFO */
	lea encl_code + 0x3200(%rip), %rcx	/* REPORTDATA */
	lea encl_code + 0x3400(%rip), %rdx	/* REPORT */
	xor %eax, %eax			/* EREPORT */
16:	stc
	.byte 0x0f, 0x01, 0xd7		/* ENCLU */
	setc %dl
	movzbl %dl, %edx
	shl $8, %rax
	or %rax, %rdx
	jmp 9f
15:	sub $64, %rsp
	mov $0x7777, %rbp
	jmp 9f
12:	ud2
10:	mov %fs:0, %rdx
	jmp 9f
11:	mov %gs:0x1000, %rdx
	jmp 9f
1:	mov %rsi, encl_code + 0x1000(%rip)
	jmp 9f
2:	mov encl_code + 0x1000(%rip), %rdx
	jmp 9f
3:	mov (%rsi), %rdx
	jmp 9f
4:	mov %rdx, (%rsi)
	jmp 9f
5:	mov $5, %eax			/* EACCEPT */
	xor %r8d, %r8d
	jmp 8f
6:	mov $6, %eax			/* EMODPE: no code, RDX = 0 */
	mov $1, %r8d
8:	mov %r10, %rbx			/* this TCS's SECINFO */
	and $0x7000, %rbx
	shr $6, %rbx
	lea encl_code + 0x2040(%rip), %r9
	add %r9, %rbx
	mov %rdx, (%rbx)
	mov %rsi, %rcx
	.byte 0x0f, 0x01, 0xd7		/* ENCLU */
	mov %rax, %rdx
	test %r8, %r8
	jz 9f
	xor %edx, %edx
	jmp 9f
7:	dec %rdx
	jnz 7b
9:	mov %r11, %rbx
	mov $4, %eax			/* EEXIT */
	.byte 0x0f, 0x01, 0xd7
	ud2
	.balign 4096
	.globl encl_code_end
encl_code_end:

/*
 * uint64_t host_enter(uint64_t tcs, uint64_t op, uint64_t rsi,
 *		       uint64_t rdx): EENTER with RDI = op, RSI and RDX, and
 * return the enclave's RDX. The enclave clobbers every register.
 *
 * EEXIT leaves RSP as the enclave had it, and after an AEX that the
 * program left with longjmp, host_resume's ERESUME finishes a call whose
 * RSP was host_enter's. So the AEP's code takes its stack from
 * host_rsp (thread-local, saved and restored around each call: a
 * signal handler may enter while an AEX'd call waits).
 */
	.section .tbss, "awT", @nobits
	.balign 8
host_rsp:	.zero 8
	.text
	.globl host_enter
	.type host_enter, @function
host_enter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %fs:host_rsp@tpoff
	mov %rsp, %fs:host_rsp@tpoff
	mov %rdi, %rbx			/* TCS */
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	lea host_aep(%rip), %rcx	/* the AEP */
	mov $2, %eax			/* EENTER */
	.globl host_aep
host_aep:
	.byte 0x0f, 0x01, 0xd7		/* EENTER, and ERESUME after an AEX */
	mov %fs:host_rsp@tpoff, %rsp
	pop %fs:host_rsp@tpoff
	mov %rdx, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size host_enter, . - host_enter

/*
 * uint64_t host_enter_notls(uint64_t tcs, uint64_t op, uint64_t rsi,
 *			     uint64_t rdx): host_enter for threads without
 * TLS of their own (raw clone()), for operations that keep RSP: EEXIT
 * and AEX (URSP) both come back with RSP as it was at the EENTER.
 */
	.globl host_enter_notls
	.type host_enter_notls, @function
host_enter_notls:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rdi, %rbx			/* TCS */
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	lea 1f(%rip), %rcx		/* the AEP */
	mov $2, %eax			/* EENTER */
1:	.byte 0x0f, 0x01, 0xd7		/* EENTER, and ERESUME after an AEX */
	mov %rdx, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size host_enter_notls, . - host_enter_notls

/*
 * void host_enter_stack(uint64_t tcs, uint64_t out[3]): EENTER op 13 and
 * record RSP before the ENCLU, then RSP and RBP right after the EEXIT.
 */
	.globl host_enter_stack
	.type host_enter_stack, @function
host_enter_stack:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsi, stack_out(%rip)
	mov %rsp, (%rsi)
	mov %rsp, stack_saved(%rip)
	mov %rdi, %rbx
	mov $13, %edi
	lea 1f(%rip), %rcx
	mov $2, %eax
1:	.byte 0x0f, 0x01, 0xd7		/* EENTER */
	mov stack_out(%rip), %rax
	mov %rsp, 8(%rax)
	mov %rbp, 16(%rax)
	mov stack_saved(%rip), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size host_enter_stack, . - host_enter_stack

	.bss
	.balign 8
stack_out:	.quad 0
stack_saved:	.quad 0
	.text

/*
 * uint64_t host_resume(uint64_t tcs): ERESUME what an AEX left in the TCS's
 * SSA; the enclave's EEXIT then returns through host_enter's epilogue,
 * which matches this prologue.
 */
	.globl host_resume
	.type host_resume, @function
host_resume:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %fs:host_rsp@tpoff
	mov %rsp, %fs:host_rsp@tpoff
	mov %rdi, %rbx
	lea host_aep(%rip), %rcx
	mov $3, %eax			/* ERESUME */
	jmp host_aep
	.size host_resume, . - host_resume

	.section .note.GNU-stack, "", @progbits
