/* SPDX-License-Identifier: MIT */
/*
 * CPUID patching on this test program itself: the CPUIDs its functions hold
 * (written below in assembly, at known labels) are found and rewritten, the
 * bytes 0F A2 inside another instruction are not, and the patched code sees
 * SGX1, SGX2 and one EPC section while every other leaf is the real CPU's.
 * Each Criterion test runs in its own process, so each patches afresh.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "run/cpuid.h"

void cpuid_fn(uint32_t leaf, uint32_t sub, uint32_t regs[4]);
void cpuid_prefixed_fn(uint32_t leaf, uint32_t sub, uint32_t regs[4]);
void real_cpuid_fn(uint32_t leaf, uint32_t sub, uint32_t regs[4]);
extern const uint8_t cpuid_site_plain[], cpuid_site_prefixed[],
	cpuid_site_sizeless[], decoy_imm[];
/* In libsgxemu_cpuid_probe.so (cpuid_probe.S), loaded at startup. */
void lib_cpuid_fn(uint32_t leaf, uint32_t sub, uint32_t regs[4]);
const uint8_t *lib_cpuid_site(void);

/* cpuid_fn(leaf, sub, regs): RDI, RSI, RDX. */
#define CPUID_BODY(site, insn)                                        \
	"	push %rbx\n"                                          \
	"	mov %rdx, %r8\n"                                      \
	"	mov %edi, %eax\n"                                     \
	"	mov %esi, %ecx\n"                                     \
	"	.globl " site "\n"                                    \
	site ":\n"                                                    \
	insn "\n"                                                     \
	"	mov %eax, (%r8)\n"                                    \
	"	mov %ebx, 4(%r8)\n"                                   \
	"	mov %ecx, 8(%r8)\n"                                   \
	"	mov %edx, 12(%r8)\n"                                  \
	"	pop %rbx\n"                                           \
	"	ret\n"

__asm__(
	"	.text\n"
	"	.globl cpuid_fn\n"
	"	.type cpuid_fn, @function\n"
	"cpuid_fn:\n"
	CPUID_BODY("cpuid_site_plain", "	cpuid")
	"	.size cpuid_fn, . - cpuid_fn\n"
	/* A DS prefix: the instruction is three bytes long. */
	"	.globl cpuid_prefixed_fn\n"
	"	.type cpuid_prefixed_fn, @function\n"
	"cpuid_prefixed_fn:\n"
	CPUID_BODY("cpuid_site_prefixed", "	.byte 0x3e, 0x0f, 0xa2")
	"	.size cpuid_prefixed_fn, . - cpuid_prefixed_fn\n"
	/* mov $0xa20f, %eax: a byte scan would see 0F A2 here. */
	"	.globl decoy_fn\n"
	"	.type decoy_fn, @function\n"
	"decoy_fn:\n"
	"	.byte 0xb8\n"
	"	.globl decoy_imm\n"
	"decoy_imm:\n"
	"	.long 0xa20f\n"
	"	ret\n"
	"	.size decoy_fn, . - decoy_fn\n"
	/* No .size: its end is unknown, so it is not decoded and keeps the
	 * real CPUID, which the tests compare with. */
	"	.globl real_cpuid_fn\n"
	"	.type real_cpuid_fn, @function\n"
	"real_cpuid_fn:\n"
	CPUID_BODY("cpuid_site_sizeless", "	cpuid"));

static struct dl_phdr_info main_program;

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	main_program = *info;
	return 1;
}

static struct run_cpuid_report patch_self(void)
{
	struct run_cpuid_report rep;

	dl_iterate_phdr(first_object, NULL);
	cr_assert_eq(run_cpuid_patch_object("/proc/self/exe", &main_program,
					    &rep), 0);
	return rep;
}

static void on_sigill(int sig, siginfo_t *si, void *ctx)
{
	if (!run_cpuid_trap(ctx))
		abort();
}

static void setup(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigill,
				.sa_flags = SA_SIGINFO };

	cr_assert_eq(sigaction(SIGILL, &sa, NULL), 0);
	run_cpuid_set_epc_size(64 << 20);
}

TestSuite(cpuid, .init = setup);

Test(cpuid, exactly_the_cpuid_instructions_are_patched)
{
	struct run_cpuid_report rep = patch_self();
	uintptr_t sites[8];

	cr_assert_eq(rep.patched, 2);
	cr_assert_eq(run_cpuid_sites(sites, 8), 2);
	uintptr_t a = (uintptr_t)cpuid_site_plain;
	uintptr_t b = (uintptr_t)cpuid_site_prefixed;
	cr_assert_eq(sites[0], a < b ? a : b);
	cr_assert_eq(sites[1], a < b ? b : a);
	cr_assert_not(rep.used_dynsym, "the test program has a .symtab");
	cr_assert_geq(rep.sizeless, 1);
	cr_assert_gt(rep.instructions, 20);
	cr_assert_eq(memcmp(cpuid_site_plain, "\x0f\x0b", 2), 0);
	cr_assert_eq(memcmp(cpuid_site_prefixed, "\x3e\x0f\x0b", 3), 0);
	cr_assert_eq(memcmp(decoy_imm, "\x0f\xa2", 2), 0,
		     "0F A2 inside an immediate is left alone");
	cr_assert_eq(memcmp(cpuid_site_sizeless, "\x0f\xa2", 2), 0);
}

Test(cpuid, a_file_that_is_not_the_loaded_object_is_refused)
{
	struct run_cpuid_report rep;

	dl_iterate_phdr(first_object, NULL);
	cr_assert_eq(run_cpuid_patch_object("/bin/sh", &main_program, &rep),
		     -ENOEXEC);
	cr_assert_eq(run_cpuid_sites(NULL, 0), 0);
	cr_assert_eq(memcmp(cpuid_site_plain, "\x0f\xa2", 2), 0);
}

Test(cpuid, patching_again_finds_nothing_new)
{
	struct run_cpuid_report rep;

	patch_self();
	rep = patch_self();
	cr_assert_eq(rep.patched, 0);
	cr_assert_eq(run_cpuid_sites(NULL, 0), 2);
}

static void expect_real(void (*fn)(uint32_t, uint32_t, uint32_t *),
			uint32_t leaf, uint32_t sub)
{
	uint32_t real[4], seen[4];

	real_cpuid_fn(leaf, sub, real);
	fn(leaf, sub, seen);
	cr_assert_arr_eq(seen, real, sizeof(real), "leaf %#x.%u", leaf, sub);
}

Test(cpuid, leaf_7_reports_sgx_and_launch_control)
{
	uint32_t real[4], seen[4];

	patch_self();
	real_cpuid_fn(7, 0, real);
	cpuid_fn(7, 0, seen);
	cr_assert(seen[1] & (1U << 2), "EBX bit 2: SGX");
	cr_assert(seen[2] & (1U << 30), "ECX bit 30: SGX_LC");
	cr_assert_eq(seen[0], real[0]);
	cr_assert_eq(seen[1] & ~(1U << 2), real[1] & ~(1U << 2));
	cr_assert_eq(seen[2] & ~(1U << 30), real[2] & ~(1U << 30));
	cr_assert_eq(seen[3], real[3]);
}

Test(cpuid, leaf_12_reports_sgx1_sgx2_and_the_epc)
{
	uint32_t r[4];

	patch_self();
	cpuid_fn(0, 0, r);
	cr_assert_geq(r[0], 0x12, "the maximum basic leaf reaches 12H");
	cpuid_fn(0x12, 0, r);
	cr_assert_eq(r[0] & 3, 3, "SGX1 and SGX2");
	cr_assert_eq(r[1], 1, "MISCSELECT: EXINFO");
	cr_assert_eq(r[3], 0x2f1f, "max enclave size 2^31 / 2^47");
	cpuid_fn(0x12, 1, r);
	cr_assert(r[0] & (1U << 2), "MODE64BIT settable");
	cr_assert(r[0] & (1U << 1), "DEBUG settable");
	cr_assert_not(r[0] & 1, "INIT is not settable");
	cr_assert_eq(r[2] | (uint64_t)r[3] << 32, run_cpuid_xfrm(),
		     "XFRM: the host's XCR0");
	cr_assert_eq(r[2] & 3, 3, "XFRM: x87 and SSE");
	/* The sum the selftests compute (get_total_epc_mem). */
	cpuid_fn(0x12, 2, r);
	cr_assert_eq(r[0] & 0xf, 1, "an EPC section");
	cr_assert_eq(r[2] & 0xf, 1, "confidentiality and integrity");
	uint64_t size = (r[2] & 0xfffff000U) + ((uint64_t)(r[3] & 0xfffff) << 32);
	cr_assert_eq(size, 64 << 20);
	cpuid_fn(0x12, 3, r);
	cr_assert_eq(r[0] & 0xf, 0, "then an invalid entry");
}

Test(cpuid, a_large_epc_splits_into_ecx_and_edx)
{
	uint32_t r[4];

	run_cpuid_set_epc_size((5ULL << 32) + (3 << 12) + 123);
	patch_self();
	cpuid_fn(0x12, 2, r);
	cr_assert_eq(r[2], (3U << 12) | 1);
	cr_assert_eq(r[3], 5);
}

Test(cpuid, no_epc_size_means_no_epc_section)
{
	uint32_t r[4];

	run_cpuid_set_epc_size(0);
	patch_self();
	cpuid_fn(0x12, 2, r);
	cr_assert_eq(r[0] & 0xf, 0);
}

Test(cpuid, other_leaves_are_the_real_cpus)
{
	const uint32_t leaves[][2] = {
		{ 1, 0 }, { 7, 1 }, { 0xd, 0 }, { 0xd, 1 },
		{ 0x80000000U, 0 }, { 0x80000001U, 0 }, { 0x80000008U, 0 },
	};

	patch_self();
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		expect_real(cpuid_fn, leaves[i][0], leaves[i][1]);
		expect_real(cpuid_prefixed_fn, leaves[i][0], leaves[i][1]);
	}
	/* Leaf 0: the vendor string is the real one. */
	uint32_t real[4], seen[4];
	real_cpuid_fn(0, 0, real);
	cpuid_fn(0, 0, seen);
	cr_assert(seen[1] == real[1] && seen[2] == real[2] &&
		  seen[3] == real[3]);
}

Test(cpuid, the_trap_ignores_other_addresses)
{
	ucontext_t uc;

	patch_self();
	memset(&uc, 0, sizeof(uc));
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)cpuid_site_plain + 1;
	uc.uc_mcontext.gregs[REG_RAX] = 7;
	cr_assert_not(run_cpuid_trap(&uc));
	cr_assert_eq(uc.uc_mcontext.gregs[REG_RAX], 7);
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)cpuid_site_plain;
	cr_assert(run_cpuid_trap(&uc));
	cr_assert_eq(uc.uc_mcontext.gregs[REG_RIP],
		     (greg_t)cpuid_site_plain + 2);
}

Test(cpuid, setup_rejects_a_malformed_epc_size)
{
	setenv(RUN_EPC_SIZE_ENV, "64M", 1);
	cr_assert_eq(run_cpuid_setup(), -EINVAL);
	cr_assert_eq(run_cpuid_sites(NULL, 0), 0, "nothing patched");
}

Test(cpuid, setup_patches_the_main_program)
{
	uint32_t r[4];

	setenv(RUN_EPC_SIZE_ENV, "0x200000", 1);
	unsetenv(RUN_CPUID_OBJECTS_ENV);
	cr_assert_eq(run_cpuid_setup(), 0);
	cr_assert_eq(run_cpuid_sites(NULL, 0), 2, "the main program only");
	cpuid_fn(0x12, 2, r);
	cr_assert_eq(r[2], 0x200000 | 1);
	cr_assert_eq(memcmp(lib_cpuid_site(), "\x0f\xa2", 2), 0,
		     "libraries keep the real CPUID");
}

Test(cpuid, setup_patches_the_listed_libraries)
{
	uint32_t r[4];
	uintptr_t sites[4];

	setenv(RUN_EPC_SIZE_ENV, "4096", 1);
	setenv(RUN_CPUID_OBJECTS_ENV, "libnone.so:libsgxemu_cpuid_probe.so",
	       1);
	cr_assert_eq(run_cpuid_setup(), 0);
	cr_assert_eq(run_cpuid_sites(sites, 4), 3);
	cr_assert(sites[0] == (uintptr_t)lib_cpuid_site() ||
		  sites[2] == (uintptr_t)lib_cpuid_site());
	cr_assert_eq(memcmp(lib_cpuid_site(), "\x0f\x0b", 2), 0);
	lib_cpuid_fn(0x12, 0, r);
	cr_assert_eq(r[0] & 3, 3, "SGX1 and SGX2 seen from the library");
}
