// SPDX-License-Identifier: MIT
/*
 * minirt's enclave: a LibOS-style runtime in miniature. One entry point
 * (encl_entry.S) dispatches ECALLs and runs the exception handler; OCALLs
 * leave through an exit frame built below the host's RSP.
 *
 * The exception handler is the SDK's and Gramine's: an AEX leaves the
 * interrupted state in SSA frame 0, the host gets a signal at the AEP and
 * EENTERs again (CSSA = 1) with ECMD_EXCEPT; the handler reads EXITINFO
 * and EXINFO (MISCSELECT bit 0) from the frame, fixes the state there and
 * EEXITs, and the host ERESUMEs. It
 *  - commits heap pages on demand: the kernel EAUGed the page at the first
 *    fault, the second one (the EPCM's: the page is PENDING) lands here,
 *    and EACCEPT commits it;
 *  - emulates SYSCALL, which is #UD in enclave mode, with an OCALL, and
 *    CPUID the same way where it faults (not on every machine: README.md);
 *  - moves a probe that faulted (#PF, #DE) to its fixup, and steps over
 *    INT3 (#BP, a trap: RIP is already past it).
 *
 * No libc: built -ffreestanding -nostdlib -fPIE -static-pie with
 * ../edmm/encl.lds, never relocated, so no absolute address is stored
 * anywhere (no GOT, no pointer tables). Every address the host gives is
 * trusted: a real runtime checks that each lies outside (or inside) its
 * enclave as the case needs.
 */
#pragma GCC visibility push(hidden)

#include <stddef.h>
#include <stdint.h>

#include "arch/sdm.h"
#include "minirt.h"

struct tcb {
	uint64_t self, base;
	uint64_t tcs_off, self_off, ssa_off, stack_off[MRT_NSSA];
	uint64_t heap_off, heap_end;
	uint64_t cssa, ursp[MRT_NSSA], urbp[MRT_NSSA], exit[MRT_NSSA];
	uint64_t ocall_rsp[MRT_NSSA];
	struct mrt_counters n;
};
_Static_assert(offsetof(struct tcb, base) == TCB_BASE, "TCB");
_Static_assert(offsetof(struct tcb, tcs_off) == TCB_TCS_OFF, "TCB");
_Static_assert(offsetof(struct tcb, self_off) == TCB_SELF_OFF, "TCB");
_Static_assert(offsetof(struct tcb, stack_off) == TCB_STACK_OFF, "TCB");
_Static_assert(offsetof(struct tcb, heap_off) == TCB_HEAP_OFF, "TCB");
_Static_assert(offsetof(struct tcb, cssa) == TCB_CSSA, "TCB");
_Static_assert(offsetof(struct tcb, ursp) == TCB_URSP, "TCB");
_Static_assert(offsetof(struct tcb, urbp) == TCB_URBP, "TCB");
_Static_assert(offsetof(struct tcb, exit) == TCB_EXIT, "TCB");
_Static_assert(offsetof(struct tcb, ocall_rsp) == TCB_OCALL_RSP, "TCB");

struct pair {
	uint64_t a, b;
};

struct pair encl_switch_out(struct mrt_frame *frame, uint64_t exit,
			    uint64_t urbp, uint64_t *slot);
extern const char encl_entry[];
long probe_write(volatile void *p);
long probe_div(long a, long b);
int avx_survives(uint64_t pattern, volatile void *fresh, long zero);
extern const char probe_write_insn[], probe_write_fixup[];
extern const char probe_div_insn[], probe_div_fixup[];
_Noreturn void encl_main(uint64_t cmd, uint64_t a1, uint64_t a2,
			 uint64_t cssa);

/* The next free heap offset, shared by all threads. */
static uint64_t heap_next;

static struct tcb *tcb(void)
{
	struct tcb *t;

	__asm__("mov %%gs:0, %0" : "=r"(t));
	return t;
}

static void *at(uint64_t offset)
{
	return (void *)(uintptr_t)(tcb()->base + offset);
}

/*
 * EEXIT with a frame below the host's RSP (past its red zone). The host
 * ERESUMEs at the RSP and RBP of the EENTER it interrupted, so the values
 * saved at each entry stay right for its CSSA.
 */
static struct pair leave(uint64_t reason, uint64_t nr, const uint64_t a[7],
			 uint64_t ret)
{
	struct tcb *t = tcb();
	uint64_t c = t->cssa;
	uint64_t sp = t->ursp[c] - MRT_RED_ZONE - sizeof(struct mrt_frame);
	struct mrt_frame *f = (struct mrt_frame *)(uintptr_t)(sp & ~15ULL);

	f->reason = reason;
	f->nr = nr;
	for (int i = 0; i < 7; i++)
		f->a[i] = a ? a[i] : 0;
	f->ret = ret;
	if (reason == EXIT_OCALL)
		return encl_switch_out(f, t->exit[c], t->urbp[c],
				       &t->ocall_rsp[c]);
	/* Done at CSSA c: the code the host resumes runs at c - 1. */
	if (c)
		t->cssa = c - 1;
	return encl_switch_out(f, t->exit[c], t->urbp[c], NULL);
}

static struct pair ocall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
			 uint64_t a3)
{
	const uint64_t a[7] = { a0, a1, a2, a3, 0, 0, 0 };

	tcb()->n.ocalls++;
	return leave(EXIT_OCALL, nr, a, 0);
}

/* EACCEPT or EMODPE of one page; EMODPE has no code (it faults or not). */
static uint64_t enclu_page(uint64_t leaf, uint64_t flags, void *page)
{
	struct sgx_secinfo secinfo __attribute__((aligned(64))) = {
		.flags = flags
	};
	uint64_t rax = leaf;

	__asm__ volatile("enclu"
			 : "+a"(rax)
			 : "b"(&secinfo), "c"(page)
			 : "memory", "cc");
	return leaf == MRT_EMODPE ? 0 : rax;
}

static uint64_t accept(uint64_t flags, void *page)
{
	return enclu_page(MRT_EACCEPT, flags, page);
}

/* Heap pages: address space only, committed when first touched. */
static uint8_t *heap_alloc(uint64_t pages)
{
	struct tcb *t = tcb();
	uint64_t expect = 0, off;

	__atomic_compare_exchange_n(&heap_next, &expect, t->heap_off, 0,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	off = __atomic_fetch_add(&heap_next, pages * MRT_PAGE,
				 __ATOMIC_SEQ_CST);
	return off + pages * MRT_PAGE <= t->heap_end ? at(off) : NULL;
}

static uint64_t offset_of(const void *p)
{
	return (uint64_t)(uintptr_t)p - tcb()->base;
}

/* ---- The exception handler (CSSA = 1, SSA frame 0) ---- */

#define REG_RW_PENDING (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | \
			SGX_SECINFO_W | SGX_SECINFO_PENDING)

static struct sgx_gprsgx *ssa_gpr(struct tcb *t, uint64_t frame)
{
	uint8_t *ssa = at(t->ssa_off + frame * MRT_PAGE);

	return (struct sgx_gprsgx *)(ssa + MRT_PAGE -
				     sizeof(struct sgx_gprsgx));
}

static int fixup(struct sgx_gprsgx *g, const char *insn, const char *to)
{
	if (g->rip != (uint64_t)(uintptr_t)insn)
		return 0;
	g->rip = (uint64_t)(uintptr_t)to;
	tcb()->n.fixups++;
	return 1;
}

/* A heap page the kernel has EAUGed: commit it. */
static int on_page_fault(struct tcb *t, struct sgx_gprsgx *g)
{
	const struct sgx_exinfo *x = (const struct sgx_exinfo *)g - 1;
	uint64_t off = x->maddr - t->base;

	if (off >= t->heap_off && off < t->heap_end &&
	    !accept(REG_RW_PENDING, (void *)(uintptr_t)(x->maddr & ~4095ULL))) {
		t->n.commits++;
		return 1;
	}
	return fixup(g, probe_write_insn, probe_write_fixup);
}

/* SYSCALL and CPUID, #UD in enclave mode, done by the host. */
static int on_invalid_opcode(struct tcb *t, struct sgx_gprsgx *g)
{
	const uint8_t *insn = (const uint8_t *)(uintptr_t)g->rip;
	struct pair r;

	if (insn[0] == 0x0f && insn[1] == 0x05) { /* SYSCALL */
		const uint64_t a[7] = { g->rax, g->rdi, g->rsi, g->rdx,
					g->r10, g->r8, g->r9 };

		t->n.syscalls++;
		t->n.ocalls++;
		r = leave(EXIT_OCALL, OCALL_SYSCALL, a, 0);
		g->rax = r.a;
		g->rcx = g->rip + 2; /* what SYSCALL leaves */
		g->r11 = g->rflags;
	} else if (insn[0] == 0x0f && insn[1] == 0xa2) { /* CPUID */
		t->n.cpuids++;
		r = ocall(OCALL_CPUID, (uint32_t)g->rax, (uint32_t)g->rcx, 0, 0);
		g->rax = (uint32_t)r.a;
		g->rbx = r.a >> 32;
		g->rcx = (uint32_t)r.b;
		g->rdx = r.b >> 32;
	} else {
		return 0;
	}
	g->rip += 2;
	return 1;
}

static int handle_exception(struct tcb *t)
{
	struct sgx_gprsgx *g = ssa_gpr(t, 0);
	uint32_t info = g->exitinfo;

	if (!(info & SGX_EXITINFO_VALID)) {
		t->n.no_exception++; /* an interrupt: nothing to do */
		return 1;
	}
	switch (info & 0xff) {
	case 0: /* #DE */
		return fixup(g, probe_div_insn, probe_div_fixup);
	case 3: /* #BP, a trap: RIP is past the INT3 */
		t->n.breakpoints++;
		return 1;
	case 6:
		return on_invalid_opcode(t, g);
	case 14:
		return on_page_fault(t, g);
	default:
		return 0;
	}
}

/* ---- ECALLs ---- */

static uint64_t pattern(const volatile uint64_t *p)
{
	return ~(uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;
}

/* Write and check each word of n pages: n if every one held. */
static uint64_t fill_and_check(uint8_t *p, uint64_t pages)
{
	volatile uint64_t *w = (volatile uint64_t *)p;
	uint64_t words = pages * MRT_PAGE / 8, good = 0;

	for (uint64_t i = 0; i < words; i++)
		w[i] = pattern(&w[i]);
	for (uint64_t i = 0; i < words; i++)
		good += w[i] == pattern(&w[i]);
	return good == words ? pages : 0;
}

/* New pages, then the last page of ELRANGE: lazy EAUG at both ends. */
static uint64_t ecall_heap(uint64_t pages)
{
	struct tcb *t = tcb();
	uint8_t *p = heap_alloc(pages);
	volatile uint64_t *last = at(t->heap_end - 8);

	if (!p || fill_and_check(p, pages) != pages)
		return 0;
	*last = 0x1234;
	return *last == 0x1234 ? pages : 0;
}

/* The kernel's RESTRICT_PERMISSIONS, then the enclave's EACCEPTs: 1 if
 * each succeeded. */
static int restrict_pages(uint8_t *p, uint64_t pages, uint64_t perms)
{
	int ok = 1;

	if (ocall(OCALL_RESTRICT, offset_of(p), pages * MRT_PAGE, perms, 0).a)
		return 0;
	for (uint64_t i = 0; i < pages; i++)
		if (accept(SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_PR | perms,
			   p + i * MRT_PAGE))
			ok = 0;
	return ok;
}

/* mprotect(PROT_READ) of RW pages, the EDMM way. */
static uint64_t ecall_mprotect(uint64_t pages)
{
	uint8_t *p = heap_alloc(pages);
	uint64_t ok;

	if (!p || fill_and_check(p, pages) != pages)
		return 0;
	ok = restrict_pages(p, pages, SGX_SECINFO_R) ? MRT_OK_ACCEPT : 0;
	if (ocall(OCALL_MPROTECT, offset_of(p), pages * MRT_PAGE, 1, 0).a)
		ok = 0;
	ok |= MRT_OK_READ | MRT_OK_NO_WRITE;
	for (uint64_t i = 0; i < pages; i++) {
		volatile uint64_t *w = (volatile uint64_t *)(p + i * MRT_PAGE);

		if (*w != pattern(w))
			ok &= ~(uint64_t)MRT_OK_READ;
		if (probe_write(w) != -14)
			ok &= ~(uint64_t)MRT_OK_NO_WRITE;
	}
	return ok | MRT_OK_RUN | MRT_OK_RUN_RX;
}

/* munmap: TRIM, EACCEPT, REMOVE_PAGES; then the same range is new. */
static uint64_t ecall_munmap(uint64_t pages)
{
	uint8_t *p = heap_alloc(pages);
	volatile uint64_t *w = (volatile uint64_t *)p;

	if (!p || fill_and_check(p, pages) != pages ||
	    ocall(OCALL_TRIM, offset_of(p), pages * MRT_PAGE, 0, 0).a)
		return 0;
	for (uint64_t i = 0; i < pages; i++)
		if (accept(SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED,
			   p + i * MRT_PAGE))
			return 0;
	if (ocall(OCALL_REMOVE, offset_of(p), pages * MRT_PAGE, 0, 0).a)
		return 0;
	/* Committed again on demand, and zero-filled by EAUG. */
	for (uint64_t i = 0; i < pages * MRT_PAGE / 8; i++)
		if (w[i])
			return 0;
	return fill_and_check(p, pages);
}

/*
 * A JIT page, W^X: written while R W, made R W X (the host's mapping,
 * then EMODPE), run; then W removed (RESTRICT_PERMISSIONS to R X and
 * EACCEPT), run again, and a write must fault.
 */
static uint64_t ecall_jit(void)
{
	static const uint8_t code[] = { 0xb8, 42, 0, 0, 0, 0xc3 }; /* mov $42, %eax; ret */
	uint8_t *p = heap_alloc(1);
	uint64_t ok = MRT_OK_ACCEPT;
	int (*fn)(void) = (int (*)(void))(uintptr_t)p;

	if (!p)
		return 0;
	for (unsigned int i = 0; i < sizeof(code); i++)
		p[i] = code[i];
	if (ocall(OCALL_MPROTECT, offset_of(p), MRT_PAGE, 7, 0).a)
		return 0;
	enclu_page(MRT_EMODPE, SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X, p);
	if (fn() == 42)
		ok |= MRT_OK_RUN;
	if (!restrict_pages(p, 1, SGX_SECINFO_R | SGX_SECINFO_X))
		ok &= ~(uint64_t)MRT_OK_ACCEPT;
	if (ocall(OCALL_MPROTECT, offset_of(p), MRT_PAGE, 5, 0).a)
		return 0;
	if (fn() == 42)
		ok |= MRT_OK_RUN_RX;
	if (probe_write(p) == -14)
		ok |= MRT_OK_NO_WRITE;
	return ok | MRT_OK_READ;
}

/*
 * A thread made at run time: a whole thread block from the heap (its
 * pages committed by touching them), a TCS written into its first page,
 * which the kernel then turns into a TCS (MODIFY_TYPES) and the enclave
 * EACCEPTs. Returns the TCS's address.
 */
static uint64_t ecall_new_tcs(void)
{
	struct tcb *t = tcb(), *nt;
	uint8_t *b = heap_alloc(MRT_BLOCK_PAGES);
	struct sgx_tcs *tcs = (struct sgx_tcs *)b;
	uint64_t off;

	if (!b)
		return 0;
	off = offset_of(b);
	for (unsigned int i = 0; i < MRT_BLOCK_PAGES; i++)
		b[i * MRT_PAGE] = 0;
	tcs->ssa_offset = off + MRT_BLOCK_SSA;
	tcs->nr_ssa_frames = MRT_NSSA;
	tcs->entry_offset = offset_of(encl_entry);
	tcs->fs_offset = off + MRT_BLOCK_TCB;
	tcs->gs_offset = off + MRT_BLOCK_TCB;
	tcs->fs_limit = 0xFFFFFFFF;
	tcs->gs_limit = 0xFFFFFFFF;
	nt = (struct tcb *)(b + MRT_BLOCK_TCB);
	nt->tcs_off = off;
	nt->self_off = off + MRT_BLOCK_TCB;
	nt->ssa_off = off + MRT_BLOCK_SSA;
	for (unsigned int c = 0; c < MRT_NSSA; c++)
		nt->stack_off[c] = off + MRT_BLOCK_STACKS +
				   (c + 1) * MRT_STACK_BYTES;
	nt->heap_off = t->heap_off;
	nt->heap_end = t->heap_end;
	if (ocall(OCALL_MAKE_TCS, off, MRT_PAGE, 0, 0).a ||
	    accept(SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_MODIFIED, b))
		return 0;
	return t->base + off;
}

/* A worker's loop: heap pages of its own and OCALLs, rounds times. */
static uint64_t ecall_work(uint64_t rounds)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < rounds; i++) {
		uint8_t *p = heap_alloc(1);

		if (!p || fill_and_check(p, 1) != 1)
			return 0;
		sum += ocall(OCALL_ECHO, i, 1, 0, 0).a;
	}
	return sum;
}

static uint64_t ecall(uint64_t cmd, uint64_t a1)
{
	long r;

	switch (cmd) {
	case ECALL_PING:
		return a1 + 1;
	case ECALL_OCALLS:
		r = 0;
		for (uint64_t i = 0; i < a1; i++)
			r += (long)ocall(OCALL_ECHO, i, 2 * i, 0, 0).a;
		return (uint64_t)r;
	case ECALL_HEAP:
		return ecall_heap(a1);
	case ECALL_SYSCALL:
		__asm__ volatile("syscall" : "=a"(r) : "0"(39L) /* getpid */
				 : "rcx", "r11", "memory");
		return (uint64_t)r;
	case ECALL_WRITE: {
		static const char msg[] = "minirt: a SYSCALL in the enclave\n";

		__asm__ volatile("syscall" : "=a"(r)
				 : "0"(1L), "D"(a1), "S"(msg),
				   "d"(sizeof(msg) - 1)
				 : "rcx", "r11", "memory");
		return (uint64_t)r;
	}
	case ECALL_CPUID: {
		uint32_t eax = (uint32_t)a1, ebx, ecx = 0, edx;

		__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx),
				 "=d"(edx));
		return ebx;
	}
	case ECALL_DIV0:
		return (uint64_t)probe_div((long)a1, 0);
	case ECALL_INT3:
		__asm__ volatile("int3");
		return a1 + 7;
	case ECALL_AVX:
		return (uint64_t)avx_survives(a1, heap_alloc(1), 0);
	case ECALL_MPROTECT:
		return ecall_mprotect(a1);
	case ECALL_MUNMAP:
		return ecall_munmap(a1);
	case ECALL_JIT:
		return ecall_jit();
	case ECALL_NEW_TCS:
		return ecall_new_tcs();
	case ECALL_WORK:
		return ecall_work(a1);
	case ECALL_COUNTERS:
		*(struct mrt_counters *)(uintptr_t)a1 = tcb()->n;
		return 0;
	default:
		return (uint64_t)-1;
	}
}

void encl_main(uint64_t cmd, uint64_t a1, uint64_t a2, uint64_t cssa)
{
	struct tcb *t = tcb();
	uint64_t ret;

	(void)a2;
	if (cmd == ECMD_EXCEPT)
		ret = cssa == 1 && handle_exception(t);
	else
		ret = cssa == 0 ? ecall(cmd, a1) : (uint64_t)-1;
	leave(EXIT_RETURN, 0, NULL, ret);
	__builtin_unreachable();
}
