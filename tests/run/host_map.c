// SPDX-License-Identifier: MIT
/*
 * Host mappings of enclave pages under `sgxemu run --epc-size 160K`
 * (docs/RUNNER.md, "Host mappings"; issue 12 item 10):
 *
 * - two enclaves take turns on an EPC too small for both, so their pages
 *   are written back and their frames reused; /proc/self/mem over either
 *   enclave's range never shows the other's secret (a revoked mapping
 *   must not keep naming its old frame);
 * - madvise() of every advice Linux 6.12 knows on an enclave page, through
 *   libc and through a raw system call, returns what 6.12 returns for an
 *   SGX VMA and changes no enclave page, also for the other enclave, and
 *   fallocate() on the device fails as on a character device;
 * - mremap() that grows, keeps, shrinks or moves an enclave mapping
 *   returns what 6.12 returns, and the enclave's pages keep their contents;
 * - an anonymous MAP_FIXED mapping, or a host page moved by mremap, over
 *   an enclave page replaces the enclave's VMA: mprotect then changes the
 *   new mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "host_encl.h"

#define PAGE 4096UL
#define SECRET_A 0x4141414173656372ULL
#define SECRET_B 0x4242424273656372ULL
#define ROUNDS 16

static uint64_t tcs(const struct host_encl *e, unsigned int i)
{
	return e->base + HE_TCS + i * PAGE;
}

/* Each TCS of e writes the secret to DATA and STRESS and reads it back. */
static void touch(const struct host_encl *e, uint64_t secret)
{
	for (unsigned int i = 0; i < HE_NR_TCS; i++) {
		host_enter(tcs(e, i), HE_WRITE, e->base + HE_DATA, secret);
		host_enter(tcs(e, i), HE_WRITE, e->base + HE_STRESS, secret);
	}
}

static uint64_t get(const struct host_encl *e, uint64_t off)
{
	return host_enter(tcs(e, 0), HE_READ, e->base + off, 0);
}

/* Whether /proc/self/mem shows @secret anywhere in e's range. */
static bool mem_shows(int mem, const struct host_encl *e, uint64_t secret)
{
	static uint64_t page[PAGE / 8];

	for (uint64_t off = 0; off < HE_SIZE; off += PAGE) {
		if (pread(mem, page, PAGE, (off_t)(e->base + off)) != PAGE)
			continue;
		for (unsigned int i = 0; i < PAGE / 8; i++)
			if (page[i] == secret)
				return true;
	}
	return false;
}

static void test_no_stale_mappings(const struct host_encl *a,
				   const struct host_encl *b)
{
	int mem = open("/proc/self/mem", O_RDONLY);

	CHECK(mem >= 0, "open /proc/self/mem: %s", strerror(errno));
	for (unsigned int r = 0; r < ROUNDS; r++) {
		touch(a, SECRET_A);
		touch(b, SECRET_B);
		CHECK(!mem_shows(mem, a, SECRET_B),
		      "round %u: A's range shows B's secret", r);
		CHECK(!mem_shows(mem, b, SECRET_A),
		      "round %u: B's range shows A's secret", r);
	}
	close(mem);
	CHECK(get(a, HE_DATA) == SECRET_A, "A's DATA lost its secret");
	CHECK(get(b, HE_DATA) == SECRET_B, "B's DATA lost its secret");
}

/* Linux 6.12's madvise() on an SGX VMA: 0 or the errno. */
static const struct {
	int advice, err;
} advices[] = {
	{ MADV_NORMAL, 0 },		{ MADV_RANDOM, 0 },
	{ MADV_SEQUENTIAL, 0 },		{ MADV_WILLNEED, 0 },
	{ MADV_DONTNEED, EINVAL },	{ 5, EINVAL },
	{ MADV_FREE, EINVAL },		{ MADV_REMOVE, ENODEV },
	{ MADV_DONTFORK, 0 },		{ MADV_DOFORK, EINVAL },
	{ MADV_MERGEABLE, 0 },		{ MADV_UNMERGEABLE, 0 },
	{ MADV_HUGEPAGE, 0 },		{ MADV_NOHUGEPAGE, 0 },
	{ MADV_DONTDUMP, 0 },		{ MADV_DODUMP, EINVAL },
	{ MADV_WIPEONFORK, EINVAL },	{ MADV_KEEPONFORK, 0 },
	{ MADV_COLD, EINVAL },		{ MADV_PAGEOUT, EINVAL },
	{ MADV_POPULATE_READ, EFAULT }, { MADV_POPULATE_WRITE, EFAULT },
	{ 24 /* DONTNEED_LOCKED */, EINVAL },
	{ 25 /* COLLAPSE */, EINVAL },	{ 102 /* after 6.12 */, EINVAL },
};

static int err_of(long ret)
{
	return ret == -1 ? errno : 0;
}

static void test_madvise(const struct host_encl *a, const struct host_encl *b)
{
	void *data = (void *)(uintptr_t)(a->base + HE_DATA);
	void *below = (void *)(uintptr_t)(a->base - PAGE);

	for (unsigned int i = 0; i < sizeof(advices) / sizeof(advices[0]);
	     i++) {
		int adv = advices[i].advice, want = advices[i].err;
		int got = err_of(madvise(data, PAGE, adv));

		CHECK(got == want, "madvise(%d): errno %d, want %d", adv, got,
		      want);
		got = err_of(syscall(SYS_madvise, data, PAGE, adv));
		CHECK(got == want, "raw madvise(%d): errno %d, want %d", adv,
		      got, want);
		CHECK(get(a, HE_DATA) == SECRET_A,
		      "madvise(%d) changed A's DATA", adv);
		CHECK(get(b, HE_DATA) == SECRET_B,
		      "madvise(%d) changed B's DATA", adv);
	}
	/* The host's part first (0), then the SGX VMA refuses. */
	CHECK(err_of(madvise(below, 2 * PAGE, MADV_DONTNEED)) == EINVAL,
	      "madvise(DONTNEED) from below the enclave");
	CHECK(err_of(madvise(data, 3, 5)) == EINVAL, "invalid advice");
	CHECK(err_of(madvise((char *)data + 1, PAGE, MADV_NORMAL)) == EINVAL,
	      "unaligned madvise");
	CHECK(madvise(data, 0, MADV_REMOVE) == 0, "empty madvise");
	/* fallocate on the device: vfs_fallocate()'s checks, then ENODEV */
	CHECK(err_of(fallocate(a->fd, FALLOC_FL_PUNCH_HOLE |
					      FALLOC_FL_KEEP_SIZE,
			       0, PAGE)) == ENODEV,
	      "fallocate(PUNCH_HOLE): errno %d", errno);
	CHECK(err_of(syscall(SYS_fallocate, a->fd, 0, 0, PAGE)) == ENODEV,
	      "raw fallocate: errno %d", errno);
	CHECK(err_of(fallocate(a->fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE)) ==
		      EOPNOTSUPP,
	      "fallocate(PUNCH_HOLE) without KEEP_SIZE: errno %d", errno);
	CHECK(err_of(fallocate(a->fd, 0, -1, PAGE)) == EINVAL,
	      "fallocate at -1: errno %d", errno);
	touch(a, SECRET_A);
	touch(b, SECRET_B);
	CHECK(get(a, HE_STRESS) == SECRET_A && get(b, HE_STRESS) == SECRET_B,
	      "the enclaves after madvise");
}

/* Map @len of the enclave at @off again, read-write. */
static bool remap(const struct host_encl *e, uint64_t off, uint64_t len)
{
	void *want = (void *)(uintptr_t)(e->base + off);

	return mmap(want, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    e->fd, 0) == want;
}

static void test_mremap(const struct host_encl *a)
{
	uint64_t ssa = a->base + HE_SSA + 8 * PAGE, stress = a->base + HE_STRESS;
	void *p = (void *)(uintptr_t)stress, *q;
	void *scratch = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	errno = 0;
	CHECK(mremap(p, PAGE, 2 * PAGE, 0) == MAP_FAILED && errno == EFAULT,
	      "grow: errno %d, want EFAULT", errno);
	errno = 0;
	CHECK(mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED &&
		      errno == EFAULT,
	      "grow, may move: errno %d, want EFAULT", errno);
	errno = 0;
	CHECK(syscall(SYS_mremap, p, PAGE, 3 * PAGE, 0, 0) == -1 &&
		      errno == EFAULT,
	      "raw grow: errno %d, want EFAULT", errno);
	errno = 0;
	CHECK(mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP) ==
			      MAP_FAILED && errno == EINVAL,
	      "DONTUNMAP: errno %d, want EINVAL", errno);
	CHECK(mremap(p, PAGE, PAGE, 0) == p, "same size");
	/* Shrink one 8-page mapping of SSA pages to 4. */
	CHECK(remap(a, HE_SSA + 8 * PAGE, 8 * PAGE), "map 8 SSA pages");
	host_enter(tcs(a, 0), HE_WRITE, ssa + 6 * PAGE, SECRET_A);
	q = mremap((void *)(uintptr_t)ssa, 8 * PAGE, 4 * PAGE, 0);
	CHECK(q == (void *)(uintptr_t)ssa, "shrink: %p, errno %d", q, errno);
	CHECK(remap(a, HE_SSA + 12 * PAGE, 4 * PAGE), "map the tail again");
	CHECK(get(a, HE_SSA + 14 * PAGE) == SECRET_A,
	      "the shrunk-off page lost its contents");
	/* Move STRESS's mapping away; map it back: the page is as it was. */
	q = mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, scratch);
	CHECK(q == scratch, "move: %p, errno %d (want %p)", q, errno, scratch);
	CHECK(remap(a, HE_STRESS, PAGE), "map STRESS back");
	CHECK(get(a, HE_STRESS) == SECRET_A, "the moved page lost its contents");
	munmap(scratch, PAGE);
}

static sigjmp_buf jmp;

static void on_segv(int sig)
{
	siglongjmp(jmp, 1);
}

/* @p is the program's own page now: mprotect makes it read-only. */
static void check_own(volatile uint64_t *p, const char *how)
{
	bool faulted = false;

	*p = 1;
	CHECK(mprotect((void *)p, PAGE, PROT_READ) == 0, "%s: mprotect: %s",
	      how, strerror(errno));
	signal(SIGSEGV, on_segv);
	if (!sigsetjmp(jmp, 1))
		*p = 2;
	else
		faulted = true;
	signal(SIGSEGV, SIG_DFL);
	CHECK(faulted && *p == 1, "%s: the read-only page took a write", how);
}

static void test_fixed_over(const struct host_encl *a)
{
	uint64_t *tcs7 = (uint64_t *)(uintptr_t)(a->base + HE_TCS + 7 * PAGE);
	uint64_t *tcs6 = (uint64_t *)(uintptr_t)(a->base + HE_TCS + 6 * PAGE);
	int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	void *scratch = mmap(NULL, PAGE, rw, anon, -1, 0);

	CHECK(mmap(tcs7, PAGE, rw, anon | MAP_FIXED, -1, 0) == tcs7,
	      "anonymous MAP_FIXED over a TCS page");
	check_own(tcs7, "MAP_FIXED");
	CHECK(mremap(scratch, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
		     tcs6) == tcs6,
	      "mremap of a host page over a TCS page");
	check_own(tcs6, "mremap");
}

int main(void)
{
	struct host_encl a, b;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (host_encl_build(&a) || host_encl_build(&b))
		return 1;
	test_no_stale_mappings(&a, &b);
	test_madvise(&a, &b);
	test_mremap(&a);
	test_fixed_over(&a);
	printf("%u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}
