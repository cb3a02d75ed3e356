// SPDX-License-Identifier: MIT
/*
 * An EDMM host: it grows an enclave's heap page by page, restricts it to
 * read-only, and trims it away again, each through the Linux SGX2 uapi and
 * the vDSO only.
 *
 *   1. Grow: the enclave EACCEPTs each page of its heap, which nothing
 *      backs yet. The EACCEPT faults, the kernel EAUGs a pending page there
 *      (its #PF handler), the vDSO's AEP ERESUMEs, and the EACCEPT succeeds.
 *   2. The enclave writes a pattern over the heap and reads it back.
 *   3. Restrict: SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS to R over the whole
 *      heap in one call (EMODPR per page, then the ETRACK flow), and the
 *      enclave EACCEPTs every page as R|PR. Reads still work; a write now
 *      takes an EPCM fault, which the vDSO reports (ERESUME, vector 14,
 *      error code with the SGX bit 15). The enclave, entered again on its
 *      second SSA frame, EMODPEs that page back to R|W, and ERESUME
 *      completes the write.
 *   4. Trim: SGX_IOC_ENCLAVE_MODIFY_TYPES to TRIM in one call (EMODT per
 *      page and the ETRACK flow), the enclave EACCEPTs every page as
 *      TRIM|MODIFIED, and SGX_IOC_ENCLAVE_REMOVE_PAGES removes them.
 *
 * Under `sgxemu run --stats` the ETRACK flows of steps 3 and 4 are counted:
 * one per ioctl with --etrack-batch 0, one per page with 1 (as Linux does).
 * The program would run the same on SGX2 hardware with a Linux 6.0+ kernel,
 * given a launch policy that admits its signer (load.c).
 *
 * usage: edmm_host [--pages N] [--enclave PATH]; exits 0 only if every
 * step behaved as the SDM and Linux say.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "host.h"
#include "layout.h"

vdso_sgx_enter_enclave_t vdso_sgx_enter_enclave;

struct host {
	struct encl e;
	struct sgx_enclave_run run;
	uint64_t pages; /* the enclave's RDI at its last EEXIT */
	uint64_t error; /* and its RSI */
};

/* The vDSO calls this after every EEXIT and reported exception. */
static int after_enclave(long rdi, long rsi, long rdx, long rsp, long r8,
			 long r9, struct sgx_enclave_run *run)
{
	struct host *h = (struct host *)(uintptr_t)run->user_data;

	if (run->function == EEXIT) {
		h->pages = (uint64_t)rdi;
		h->error = (uint64_t)rsi;
	}
	return 0;
}

/* EENTER (or ERESUME) and run the enclave to its EEXIT or an exception. */
static bool enter(struct host *h, unsigned int function, uint64_t op,
		  uint64_t addr, uint64_t pages)
{
	int ret;

	h->run.exception_vector = 0;
	h->run.exception_error_code = 0;
	h->run.exception_addr = 0;
	h->pages = h->error = 0;
	ret = enter_enclave(op, addr, pages, function, 0, 0, &h->run);
	if (ret) {
		fprintf(stderr, "vDSO: %s\n", strerror(-ret));
		return false;
	}
	return true;
}

/* An operation on pages that must EEXIT having done all of them. */
static bool ecall(struct host *h, uint64_t op, uint64_t addr, uint64_t pages,
		  const char *what)
{
	if (!enter(h, EENTER, op, addr, pages))
		return false;
	if (h->run.function != EEXIT) {
		fprintf(stderr, "%s: exception %u, error code 0x%x at 0x%llx\n",
			what, h->run.exception_vector,
			h->run.exception_error_code,
			(unsigned long long)h->run.exception_addr);
		return false;
	}
	if (h->pages != pages) {
		fprintf(stderr, "%s: %llu of %llu pages (ENCLU error %llu)\n",
			what, (unsigned long long)h->pages,
			(unsigned long long)pages,
			(unsigned long long)h->error);
		return false;
	}
	return true;
}

static uint64_t heap_bytes(const struct host *h)
{
	return h->e.heap_pages * ENCL_PAGE;
}

static bool grow(struct host *h)
{
	if (!ecall(h, OP_ACCEPT_PENDING, h->e.heap, h->e.heap_pages,
		   "EACCEPT of the new heap") ||
	    !ecall(h, OP_WRITE, h->e.heap, h->e.heap_pages, "heap write") ||
	    !ecall(h, OP_CHECK, h->e.heap, h->e.heap_pages, "heap read"))
		return false;
	printf("grow: the enclave EACCEPTed %llu pages the kernel EAUGed on "
	       "its faults,\n      wrote a pattern over them and read it back\n",
	       (unsigned long long)h->e.heap_pages);
	return true;
}

/* The outputs of RESTRICT_PERMISSIONS and MODIFY_TYPES on the heap. */
static bool whole_heap(const struct host *h, int ret, uint64_t result,
		       uint64_t count, const char *what)
{
	if (ret || result || count != heap_bytes(h)) {
		fprintf(stderr, "%s: %s, result %llu, count %llu\n", what,
			ret ? strerror(errno) : "0",
			(unsigned long long)result,
			(unsigned long long)count);
		return false;
	}
	return true;
}

static bool restrict_heap(struct host *h)
{
	struct sgx_enclave_restrict_permissions rp = {
		.offset = h->e.heap - h->e.base,
		.length = heap_bytes(h),
		.permissions = SGX_SECINFO_R,
	};
	int ret = ioctl(h->e.fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &rp);

	if (!whole_heap(h, ret, rp.result, rp.count, "RESTRICT_PERMISSIONS") ||
	    !ecall(h, OP_ACCEPT_RESTRICTED, h->e.heap, h->e.heap_pages,
		   "EACCEPT of the restricted heap") ||
	    !ecall(h, OP_CHECK, h->e.heap, h->e.heap_pages,
		   "read of the restricted heap"))
		return false;
	printf("restrict: RESTRICT_PERMISSIONS to R in one call, the enclave "
	       "EACCEPTed\n      every page and still reads its pattern\n");
	return true;
}

/* A write to the restricted heap: the EPCM refuses it, the PTE allows it. */
static bool write_faults(struct host *h)
{
	const struct sgx_enclave_run *run = &h->run;

	if (!enter(h, EENTER, OP_WRITE, h->e.heap, 1))
		return false;
	if (run->function != ERESUME || run->exception_vector != 14 ||
	    !(run->exception_error_code & X86_PF_SGX) ||
	    !(run->exception_error_code & X86_PF_WRITE) ||
	    run->exception_addr != h->e.heap) {
		fprintf(stderr, "write to R: function %u, vector %u, error "
			"code 0x%x at 0x%llx; wanted an EPCM write fault\n",
			run->function, run->exception_vector,
			run->exception_error_code,
			(unsigned long long)run->exception_addr);
		return false;
	}
	printf("fault: a write to the restricted heap is an EPCM fault: "
	       "vector 14, error code 0x%x\n", run->exception_error_code);
	return true;
}

/* EMODPE on the second SSA frame, then ERESUME the faulted write. */
static bool extend_and_resume(struct host *h)
{
	if (!ecall(h, OP_EXTEND_RW, h->e.heap, 1, "EMODPE") ||
	    !enter(h, ERESUME, 0, 0, 0))
		return false;
	if (h->run.function != EEXIT || h->pages != 1) {
		fprintf(stderr, "ERESUME: the write did not complete\n");
		return false;
	}
	printf("emodpe: the enclave extended that page to R|W and the "
	       "resumed write landed\n");
	return true;
}

static bool trim_heap(struct host *h)
{
	uint64_t offset = h->e.heap - h->e.base;
	struct sgx_enclave_modify_types mt = {
		.offset = offset,
		.length = heap_bytes(h),
		.page_type = PT_TRIM,
	};
	struct sgx_enclave_remove_pages rm = {
		.offset = offset,
		.length = heap_bytes(h),
	};
	int ret = ioctl(h->e.fd, SGX_IOC_ENCLAVE_MODIFY_TYPES, &mt);

	if (!whole_heap(h, ret, mt.result, mt.count, "MODIFY_TYPES") ||
	    !ecall(h, OP_ACCEPT_TRIM, h->e.heap, h->e.heap_pages,
		   "EACCEPT of the trimmed heap"))
		return false;
	ret = ioctl(h->e.fd, SGX_IOC_ENCLAVE_REMOVE_PAGES, &rm);
	if (!whole_heap(h, ret, 0, rm.count, "REMOVE_PAGES"))
		return false;
	printf("trim: MODIFY_TYPES to TRIM in one call, the enclave EACCEPTed "
	       "every page,\n      REMOVE_PAGES removed them\n");
	return true;
}

/* The enclave ELF beside this program, as the build puts it. */
static const char *default_enclave(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);

	if (n <= 0)
		return "edmm_enclave.elf";
	path[n] = 0;
	strcat(dirname(path), "/edmm_enclave.elf");
	return path;
}

static int usage(void)
{
	fprintf(stderr, "usage: edmm_host [--pages N] [--enclave PATH]\n");
	return 2;
}

static int parse(int argc, char **argv, uint64_t *pages, const char **elf)
{
	for (int i = 1; i < argc; i++) {
		char *end;

		if (i + 1 == argc)
			return -1;
		if (!strcmp(argv[i], "--pages")) {
			*pages = strtoull(argv[++i], &end, 0);
			if (*end || !*pages || *pages > (1ULL << 24))
				return -1;
		} else if (!strcmp(argv[i], "--enclave")) {
			*elf = argv[++i];
		} else {
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct host h;
	uint64_t pages = 64;
	const char *elf = NULL;
	bool ok;

	if (parse(argc, argv, &pages, &elf))
		return usage();
	vdso_sgx_enter_enclave = vdso_find_enter(NULL);
	if (!vdso_sgx_enter_enclave) {
		fprintf(stderr, "no __vdso_sgx_enter_enclave in the vDSO: "
			"this kernel has no SGX support\n");
		return 1;
	}
	if (encl_build(&h.e, elf ? elf : default_enclave(), pages))
		return 1;
	printf("enclave: %llu KiB at 0x%llx, heap of %llu pages at +0x%llx\n",
	       (unsigned long long)(h.e.size >> 10),
	       (unsigned long long)h.e.base, (unsigned long long)pages,
	       (unsigned long long)(h.e.heap - h.e.base));
	h.run.tcs = h.e.tcs;
	h.run.user_handler = (uint64_t)(uintptr_t)after_enclave;
	h.run.user_data = (uint64_t)(uintptr_t)&h;
	ok = grow(&h) && restrict_heap(&h) && write_faults(&h) &&
	     extend_and_resume(&h) && trim_heap(&h);
	encl_destroy(&h.e);
	printf("%s\n", ok ? "every step behaved" : "FAILED");
	return ok ? 0 : 1;
}
