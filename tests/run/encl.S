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
 *   6 EMODPE: the same with EMODPE
 *   7 SPIN: count RDX down to zero (interrupts land in the middle)
 *   8 FS: RDX = %fs:0      9 GS: RDX = %gs:0x1000    10 UD2
 *     (OFSBASE is the data page, OGSBASE the code page: both read data)
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
	jmp 8f
6:	mov $6, %eax			/* EMODPE */
8:	mov %r10, %rbx			/* this TCS's SECINFO */
	and $0x7000, %rbx
	shr $6, %rbx
	lea encl_code + 0x2040(%rip), %r9
	add %r9, %rbx
	mov %rdx, (%rbx)
	mov %rsi, %rcx
	.byte 0x0f, 0x01, 0xd7		/* ENCLU */
	mov %rax, %rdx
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
 */
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
	mov %rdi, %rbx			/* TCS */
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	lea host_aep(%rip), %rcx	/* the AEP */
	mov $2, %eax			/* EENTER */
	.globl host_aep
host_aep:
	.byte 0x0f, 0x01, 0xd7		/* EENTER, and ERESUME after an AEX */
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
	mov %rdi, %rbx
	lea host_aep(%rip), %rcx
	mov $3, %eax			/* ERESUME */
	jmp host_aep
	.size host_resume, . - host_resume

	.section .note.GNU-stack, "", @progbits
