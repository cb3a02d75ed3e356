/* SPDX-License-Identifier: MIT */
/*
 * The vDSO image: found the way the Linux selftests find it
 * (linux-sgx-driver.md section 10.4), its argument checks, and its exit,
 * exception and user-handler paths. The runtime's part (ENCLU emulation) is
 * played here by a SIGILL handler that does what R1's runtime does at the
 * image's ENCLU: an EEXIT to the instruction after it, or an exception
 * delivered to the fixup.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <ucontext.h>

#include "run/vdso.h"
#include "sgxemu/uapi.h"

#define EENTER 2
#define ERESUME 3
#define EEXIT 4

/* --- a parser written like the selftests' (not the library's) --------- */

static unsigned long sysv_hash(const char *name)
{
	unsigned long h = 0;

	while (*name) {
		h = (h << 4) + (unsigned char)*name++;
		unsigned long high = h & 0xf0000000UL;
		h ^= high >> 24;
		h &= ~high;
	}
	return h;
}

static void *dyn_entry(char *base, Elf64_Dyn *dyn, Elf64_Sxword tag)
{
	for (; dyn->d_tag != DT_NULL; dyn++)
		if (dyn->d_tag == tag)
			return base + dyn->d_un.d_ptr;
	return NULL;
}

static void *find_vdso_symbol(char *base, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
	Elf64_Phdr *ph = (Elf64_Phdr *)(base + eh->e_phoff);
	Elf64_Dyn *dyn = NULL;

	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (Elf64_Dyn *)(base + ph[i].p_offset);
	cr_assert_not_null(dyn, "no PT_DYNAMIC");
	Elf64_Sym *sym = dyn_entry(base, dyn, DT_SYMTAB);
	char *str = dyn_entry(base, dyn, DT_STRTAB);
	Elf64_Word *hash = dyn_entry(base, dyn, DT_HASH);
	cr_assert(sym && str && hash, "DT_SYMTAB, DT_STRTAB and DT_HASH");
	Elf64_Word *chain = &hash[2 + hash[0]];
	for (Elf64_Word i = hash[2 + sysv_hash(name) % hash[0]];
	     i != STN_UNDEF; i = chain[i])
		if (!strcmp(str + sym[i].st_name, name))
			return base + sym[i].st_value;
	return NULL;
}

/* --- the runtime's part, played by a SIGILL handler --------------------- */

enum action { EXIT_NORMALLY, RAISE_EXCEPTION };

static struct run_vdso vd;
static volatile sig_atomic_t traps;
static enum action next_action;
static greg_t seen[NGREG];

static void on_sigill(int sig, siginfo_t *si, void *ctx)
{
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;

	traps++;
	memcpy(seen, g, sizeof(seen));
	if ((uintptr_t)g[REG_RIP] != vd.enclu)
		abort();
	if (next_action == EXIT_NORMALLY) {
		/* The enclave EEXITs to the address EENTER left in RCX. */
		g[REG_RIP] = (greg_t)(vd.enclu + 3);
		return;
	}
	/* As Linux's fixup after an AEX: trap number, error code, address. */
	g[REG_RIP] = (greg_t)vd.fixup;
	g[REG_RAX] = ERESUME;
	g[REG_RDI] = 14;
	g[REG_RSI] = 0x8007;
	g[REG_RDX] = 0x5000;
}

static void setup(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigill,
				.sa_flags = SA_SIGINFO };

	cr_assert_eq(run_vdso_map(&vd), 0);
	cr_assert_eq(sigaction(SIGILL, &sa, NULL), 0);
	traps = 0;
}

static vdso_sgx_enter_enclave_t enter_fn(void)
{
	return (vdso_sgx_enter_enclave_t)vd.enter;
}

TestSuite(vdso, .init = setup);

Test(vdso, the_selftests_parser_finds_the_entry)
{
	void *sym = find_vdso_symbol((char *)vd.base,
				     "__vdso_sgx_enter_enclave");

	cr_assert_eq((uintptr_t)sym, vd.enter);
	cr_assert(vd.enclu > vd.enter && vd.fixup > vd.enclu);
	cr_assert_null(find_vdso_symbol((char *)vd.base, "sgxemu_vdso_enclu"),
		       "the private labels are not exported");
	/* The ENCLU bytes (0F 01 D7) sit at `enclu`. */
	cr_assert_eq(memcmp((void *)vd.enclu, "\x0f\x01\xd7", 3), 0);
}

/* AT_SYSINFO_EHDR as the kernel gave it, from /proc/self/auxv. */
static uintptr_t real_vdso_base(void)
{
	FILE *f = fopen("/proc/self/auxv", "r");
	Elf64_auxv_t a;
	uintptr_t base = 0;

	cr_assert_not_null(f);
	while (fread(&a, sizeof(a), 1, f) == 1 && a.a_type != AT_NULL)
		if (a.a_type == AT_SYSINFO_EHDR)
			base = a.a_un.a_val;
	fclose(f);
	return base;
}

Test(vdso, getauxval_reports_the_image)
{
	const struct run_vdso *v = run_vdso_get();

	cr_assert_not_null(v);
	cr_assert_eq(getauxval(AT_SYSINFO_EHDR), v->base);
	cr_assert_not_null(find_vdso_symbol((char *)getauxval(AT_SYSINFO_EHDR),
					    "__vdso_sgx_enter_enclave"));
	/* The kernel's vDSO is still there and still exports its own
	 * functions; only the program's view of AT_SYSINFO_EHDR changed. */
	uintptr_t real = real_vdso_base();
	cr_assert(real && real != v->base);
	cr_assert_not_null(find_vdso_symbol((char *)real,
					    "__vdso_clock_gettime"));
	/* Every other type is the real one. */
	cr_assert_eq(getauxval(AT_PAGESZ), (unsigned long)sysconf(_SC_PAGESIZE));
	cr_assert_eq(getauxval(AT_UID), (unsigned long)getuid());
}

Test(vdso, a_leaf_other_than_eenter_or_eresume_is_einval)
{
	struct sgx_enclave_run run = { .tcs = 0x1000 };
	const unsigned int bad[] = { 0, 1, EEXIT, 5, 0x80000002U };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(enter_fn()(0, 0, 0, bad[i], 0, 0, &run), -EINVAL,
			     "leaf %u", bad[i]);
	cr_assert_eq(traps, 0, "no ENCLU was executed");
	cr_assert_eq(run.function, 0);
}

Test(vdso, nonzero_reserved_bytes_are_einval)
{
	const size_t at[] = { 0, 1, 100, 215 };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct sgx_enclave_run run = { .tcs = 0x1000 };
		run.reserved[at[i]] = 1;
		cr_assert_eq(enter_fn()(0, 0, 0, EENTER, 0, 0, &run), -EINVAL,
			     "reserved[%zu]", at[i]);
	}
	cr_assert_eq(traps, 0, "no ENCLU was executed");
}

Test(vdso, eenter_passes_registers_and_eexit_returns_zero)
{
	struct sgx_enclave_run run = { .tcs = 0x7000 };

	next_action = EXIT_NORMALLY;
	cr_assert_eq(enter_fn()(11, 22, 33, EENTER, 44, 55, &run), 0);
	cr_assert_eq(traps, 1);
	cr_assert_eq(seen[REG_RAX], EENTER);
	cr_assert_eq(seen[REG_RBX], 0x7000, "RBX = run->tcs");
	cr_assert_eq((uintptr_t)seen[REG_RCX], vd.aep,
		     "AEP = the jump to the ENCLU (or the runtime)");
	cr_assert_eq(*(const uintptr_t *)vd.direct, vd.enclu,
		     "the slot holds the ENCLU until the runtime sets it");
	cr_assert(seen[REG_RDI] == 11 && seen[REG_RSI] == 22 &&
		  seen[REG_RDX] == 33 && seen[REG_R8] == 44 &&
		  seen[REG_R9] == 55, "arguments pass through");
	cr_assert_eq(run.function, EEXIT);
	cr_assert_eq(run.exception_vector, 0);
}

Test(vdso, eresume_is_accepted)
{
	struct sgx_enclave_run run = { .tcs = 0x7000 };

	next_action = EXIT_NORMALLY;
	cr_assert_eq(enter_fn()(0, 0, 0, ERESUME, 0, 0, &run), 0);
	cr_assert_eq(seen[REG_RAX], ERESUME);
	cr_assert_eq(run.function, EEXIT);
}

Test(vdso, an_exception_is_reported_in_run)
{
	struct sgx_enclave_run run = { .tcs = 0x7000 };

	next_action = RAISE_EXCEPTION;
	cr_assert_eq(enter_fn()(0, 0, 0, EENTER, 0, 0, &run), 0,
		     "Linux returns 0, not -EFAULT");
	cr_assert_eq(run.function, ERESUME);
	cr_assert_eq(run.exception_vector, 14);
	cr_assert_eq(run.exception_error_code, 0x8007);
	cr_assert_eq(run.exception_addr, 0x5000);
}

/* --- the user handler --------------------------------------------------- */

static int handler_calls;
static int handler_results[2];
static long handler_args[6];
static struct sgx_enclave_run *handler_run;
static uintptr_t handler_frame;

static int user_handler(long rdi, long rsi, long rdx, long rsp, long r8,
			long r9, struct sgx_enclave_run *run)
{
	long args[6] = { rdi, rsi, rdx, rsp, r8, r9 };

	/* The saved RBP sits at a 16-byte boundary iff the call was made
	 * on an aligned stack. */
	handler_frame = (uintptr_t)__builtin_frame_address(0);
	memcpy(handler_args, args, sizeof(args));
	handler_run = run;
	run->user_data++;
	return handler_results[handler_calls++];
}

Test(vdso, the_user_handler_gets_the_exit_state_and_its_result)
{
	struct sgx_enclave_run run = {
		.tcs = 0x7000,
		.user_handler = (uintptr_t)user_handler,
	};

	next_action = EXIT_NORMALLY;
	handler_calls = 0;
	handler_results[0] = -7;
	cr_assert_eq(enter_fn()(1, 2, 3, EENTER, 4, 5, &run), -7);
	cr_assert_eq(handler_calls, 1);
	cr_assert_eq(handler_run, &run);
	cr_assert(handler_args[0] == 1 && handler_args[1] == 2 &&
		  handler_args[2] == 3 && handler_args[4] == 4 &&
		  handler_args[5] == 5);
	cr_assert_eq(handler_args[3], seen[REG_RSP],
		     "RSP argument = the untrusted RSP at exit");
	cr_assert_eq(run.function, EEXIT);
}

Test(vdso, a_positive_handler_result_is_the_next_leaf)
{
	struct sgx_enclave_run run = {
		.tcs = 0x7000,
		.user_handler = (uintptr_t)user_handler,
	};

	next_action = RAISE_EXCEPTION;
	handler_calls = 0;
	handler_results[0] = ERESUME;
	handler_results[1] = 0;
	cr_assert_eq(enter_fn()(0, 0, 0, EENTER, 0, 0, &run), 0);
	cr_assert_eq(traps, 2, "ENCLU ran again, as ERESUME");
	cr_assert_eq(seen[REG_RAX], ERESUME);
	cr_assert_eq(handler_calls, 2);
	cr_assert_eq(handler_args[0], 14, "RDI = trap number from the fixup");
	cr_assert_eq(run.user_data, 2);
}

Test(vdso, a_bad_leaf_from_the_handler_is_einval)
{
	struct sgx_enclave_run run = {
		.tcs = 0x7000,
		.user_handler = (uintptr_t)user_handler,
	};

	next_action = EXIT_NORMALLY;
	handler_calls = 0;
	handler_results[0] = EEXIT;
	cr_assert_eq(enter_fn()(0, 0, 0, EENTER, 0, 0, &run), -EINVAL);
	cr_assert_eq(traps, 1);
}

/*
 * Calls the vDSO with RSP misaligned by 8 at the call (the ABI wants it
 * aligned), or aligned: the handler must get an aligned stack either way.
 */
uintptr_t vdso_enter_ptr;
int call_vdso_misaligned(long rdi, long rsi, long rdx, unsigned int fn,
			 long r8, long r9, struct sgx_enclave_run *run);
int call_vdso_aligned(long rdi, long rsi, long rdx, unsigned int fn,
		      long r8, long r9, struct sgx_enclave_run *run);
__asm__(
	"	.text\n"
	"	.globl call_vdso_misaligned\n"
	"call_vdso_misaligned:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	push 16(%rbp)\n"
	"	call *vdso_enter_ptr(%rip)\n"
	"	leave\n"
	"	ret\n"
	"	.globl call_vdso_aligned\n"
	"call_vdso_aligned:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	sub $8, %rsp\n"
	"	push 16(%rbp)\n"
	"	call *vdso_enter_ptr(%rip)\n"
	"	leave\n"
	"	ret\n");

Test(vdso, the_user_handler_gets_an_aligned_stack)
{
	struct sgx_enclave_run run = {
		.tcs = 0x7000,
		.user_handler = (uintptr_t)user_handler,
	};

	vdso_enter_ptr = vd.enter;
	next_action = EXIT_NORMALLY;
	handler_calls = 0;
	handler_results[0] = -3;
	handler_results[1] = -4;
	cr_assert_eq(call_vdso_misaligned(0, 0, 0, EENTER, 0, 0, &run), -3);
	cr_assert_eq(handler_frame % 16, 0, "misaligned caller");
	cr_assert_eq(call_vdso_aligned(0, 0, 0, EENTER, 0, 0, &run), -4);
	cr_assert_eq(handler_frame % 16, 0, "aligned caller");
	cr_assert_eq(handler_run, &run);
}
