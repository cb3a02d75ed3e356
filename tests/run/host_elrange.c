// SPDX-License-Identifier: MIT
/*
 * Large ELRANGE (issue 12, item 7), under `sgxemu run`: an enclave of
 * 1 TiB built through the real uapi, the whole range past the built pages
 * mapped at once, and pages at both ends and in the middle EAUGed by the
 * enclave touching them (the write faults, EACCEPT, ERESUME), each then
 * holding what was written and zeros elsewhere. Prints each failed check
 * and exits 1 if there was one.
 *
 * The process's private writable memory (RLIMIT_DATA: the model's heap
 * counts, the PROT_NONE reservations and the shared EPC do not) is capped
 * well below what a flat per-page array of a TiB would take (2 GiB for
 * the page pointers alone), so the driver model must be sparse.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "arch/sdm.h"
#include "check.h"
#include "host_encl.h"

#define TIB (1ULL << 40)
#define DATA_LIMIT (256ULL << 20)
#define EAUG_ACCEPT                                                       \
	(SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W |      \
	 SGX_SECINFO_PENDING)

static sigjmp_buf segv_jmp;
static volatile uint64_t segv_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	segv_addr = (uint64_t)(uintptr_t)si->si_addr;
	siglongjmp(segv_jmp, 1);
}

/* The enclave writes @value at @addr; true if that faulted first. */
static bool write_faults(uint64_t tcs, uint64_t addr, uint64_t value)
{
	if (sigsetjmp(segv_jmp, 1))
		return true;
	host_enter(tcs, HE_WRITE, addr, value);
	return false;
}

/* Touch a hole: EAUG on the write, EACCEPT, the write lands on resume. */
static void touch(const struct host_encl *e, uint64_t off, uint64_t value)
{
	uint64_t tcs = e->base + HE_TCS, addr = e->base + off, out;

	CHECK(write_faults(tcs, addr, value),
	      "the write at +%#llx faults on the PENDING page",
	      (unsigned long long)off);
	CHECK(segv_addr == addr, "fault address %#llx, want %#llx",
	      (unsigned long long)segv_addr, (unsigned long long)addr);
	out = host_enter(tcs, HE_EACCEPT, addr, EAUG_ACCEPT);
	CHECK(out == 0, "EACCEPT at +%#llx: %llu", (unsigned long long)off,
	      (unsigned long long)out);
	host_resume(tcs);
}

int main(void)
{
	static const uint64_t offs[] = {
		HE_SIZE, HE_SIZE + PAGE_SIZE, TIB / 2, TIB - 2 * PAGE_SIZE,
		TIB - PAGE_SIZE,
	};
	struct sigaction sa = { .sa_sigaction = on_segv,
				.sa_flags = SA_SIGINFO };
	struct rlimit data = { DATA_LIMIT, DATA_LIMIT };
	struct host_encl e;
	void *rest;

	CHECK(setrlimit(RLIMIT_DATA, &data) == 0, "RLIMIT_DATA");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	if (host_encl_build_with(&e, TIB, 3, 3))
		return 1;
	rest = (void *)(uintptr_t)(e.base + HE_SIZE);
	CHECK(mmap(rest, TIB - HE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, e.fd, 0) == rest,
	      "mmap of the rest of the TiB");
	for (unsigned int i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		touch(&e, offs[i], 0x1000 + i);
	for (unsigned int i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint64_t addr = e.base + offs[i], tcs = e.base + HE_TCS;

		CHECK(host_enter(tcs, HE_READ, addr, 0) == 0x1000 + i,
		      "page %u holds its value", i);
		CHECK(host_enter(tcs, HE_READ, addr + 8, 0) == 0,
		      "page %u is zero elsewhere", i);
	}
	host_encl_destroy(&e);
	printf("host_elrange: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
