// SPDX-License-Identifier: MIT
/*
 * The runner under load, run under `sgxemu run` with an --epc-size smaller
 * than the two enclaves' pages, and the main thread sweeping the second
 * one, so that ksgxd writes pages back all the time: four worker threads, each on
 * its own TCS, write their own slot of every page of a 9-page range (the
 * SSA pages of TCSs 5 to 7, which nothing else uses, and three EAUGed
 * pages) and read it back, and read a tenth page that the host trims.
 * Round after round the main thread:
 *   1. restricts the range to R (one call: the ETRACK flows' IPIs force the
 *      workers out between its pages, and they ERESUME), EACCEPTs every
 *      page of it from its own TCS, and checks the security property
 *      itself: no worker's write that starts after those EACCEPTs
 *      completes before W is given back (EMODPE); the slots do not change
 *      meanwhile either;
 *   2. trims the tenth page: MODIFY_TYPES to TRIM, EACCEPT, REMOVE_PAGES,
 *      and EACCEPT of the page the next access EAUGs; no worker's read of
 *      it completes wholly between the EACCEPT of the trim and the start
 *      of the new page's EACCEPT.
 * Every value a worker reads back must be the one it wrote last, and at
 * the end every slot must hold its worker's last value: page contents
 * survive EWB and ELDU. The rounds are counted (argv[1], default 12).
 *
 * The host retries a call the reclaimer got in the way of (-EAGAIN, and
 * REMOVE_PAGES' -EBUSY), as a runtime must. Linux 6.12 answers two faults
 * that race to EAUG the same page with
 * SIGBUS for the loser (sgx_encl_eaug_page(): xa_insert() -EBUSY goes to
 * VM_FAULT_SIGBUS); a worker that gets it on the trimmed page ERESUMEs,
 * and the retried fault finds the page.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "host_encl.h"
#include "sgxemu/uapi.h"

#define WORKERS 4
#define RANGE (HE_SSA + 10 * 0x1000ULL) /* the SSA pages of TCS 5 to 7 */
#define RANGE_PAGES 9 /* up to the trim page */
#define TRIM (HE_HOLE + 3 * 0x1000ULL)

static struct host_encl e;
/* A second enclave that the main thread sweeps: the EPC cannot hold both. */
static struct host_encl other;
static atomic_uint failures, faults, eaug_races, writes, reclaimer_busy;
static atomic_uint restored; /* bumped when every page is usable again */
static atomic_uint restricted; /* odd while the range is EACCEPTed R */
static atomic_uint trimmed; /* odd while the trim page is EACCEPTed TRIM */
static atomic_bool stop;
static atomic_uint final_restored; /* restored's value once stop is set */
static uint64_t last[WORKERS][RANGE_PAGES]; /* each worker's last value */
static __thread sigjmp_buf segv_jmp;
static __thread uint64_t segv_addr;
static __thread int segv_sig;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			atomic_fetch_add(&failures, 1);                   \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
		}                                                         \
	} while (0)

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	segv_sig = sig;
	segv_addr = (uint64_t)(uintptr_t)si->si_addr;
	siglongjmp(segv_jmp, 1);
}

static uint64_t slot(unsigned int w, unsigned int p)
{
	return e.base + RANGE + p * 0x1000ULL + 8ULL * w;
}

static uint64_t tcs_of(unsigned int i)
{
	return e.base + HE_TCS + (uint64_t)i * 4096;
}

static uint64_t trim_page(void)
{
	return e.base + TRIM;
}

/* Waits sleep: spinning threads would starve the ones doing the work. */
static void pause_briefly(void)
{
	struct timespec ts = { .tv_nsec = 50000 };

	nanosleep(&ts, NULL);
}

static void pause_rounds(int n)
{
	for (int i = 0; i < n; i++)
		pause_briefly();
}

/* Whether restored holds its last value (set once stop is). */
static bool final_seen(unsigned int seen)
{
	return seen == atomic_load(&restored) && seen == final_restored;
}

/*
 * A worker's step: write its slot of page p, read it back, read the trim
 * page. None may complete inside a window the main thread closed.
 */
static void step(unsigned int w, uint64_t tcs, unsigned int p)
{
	unsigned int r = atomic_load(&restricted), t;
	uint64_t value = last[w][p] + 1;

	last[w][p] = value; /* a write that faults completes at ERESUME */
	host_enter(tcs, HE_WRITE, slot(w, p), value);
	CHECK(!(r & 1) || atomic_load(&restricted) != r,
	      "worker %u wrote page %u after its restriction was EACCEPTed",
	      w, p);
	atomic_fetch_add(&writes, 1);
	CHECK(host_enter(tcs, HE_READ, slot(w, p), 0) == value,
	      "worker %u reads back its value in page %u", w, p);
	t = atomic_load(&trimmed);
	host_enter(tcs, HE_READ, trim_page(), 0);
	CHECK(!(t & 1) || atomic_load(&trimmed) != t,
	      "worker %u read a page EACCEPTed as TRIM", w);
}

/*
 * A fault at the AEP: an EPCM fault waits until the main thread made every
 * page usable again, Linux's EAUG race (SIGBUS) not; then ERESUME, which
 * completes the access.
 */
static bool recover(unsigned int w, uint64_t tcs, unsigned int seen)
{
	bool range = segv_addr >= e.base + RANGE &&
		     segv_addr < e.base + RANGE + RANGE_PAGES * 0x1000ULL;

	if (segv_sig == SIGBUS) {
		CHECK(segv_addr == trim_page(), "worker %u SIGBUS at %#llx",
		      w, (unsigned long long)segv_addr);
		atomic_fetch_add(&eaug_races, 1);
		host_resume(tcs);
		return true;
	}
	CHECK(range || segv_addr == trim_page(), "worker %u fault at %#llx",
	      w, (unsigned long long)segv_addr);
	atomic_fetch_add(&faults, 1);
	while (atomic_load(&restored) == seen) {
		if (atomic_load(&stop) && final_seen(seen)) {
			CHECK(0, "worker %u faulted at %#llx after the last round",
			      w, (unsigned long long)segv_addr);
			return false;
		}
		pause_briefly();
	}
	host_resume(tcs);
	return true;
}

static void *worker(void *p)
{
	unsigned int w = (unsigned int)(uintptr_t)p;
	volatile unsigned int page = 0;
	uint64_t tcs = tcs_of(w + 1);
	volatile unsigned int seen;

	while (!atomic_load(&stop)) {
		seen = atomic_load(&restored);
		if (sigsetjmp(segv_jmp, 1)) {
			if (!recover(w, tcs, seen))
				return NULL;
		} else {
			step(w, tcs, page);
		}
		page = (page + 1) % RANGE_PAGES;
	}
	return NULL;
}

static uint64_t secinfo_reg(uint64_t flags)
{
	return SGX_SECINFO_TYPE(PT_REG) | flags;
}

static void read_slots(uint64_t out[WORKERS][RANGE_PAGES])
{
	for (unsigned int w = 0; w < WORKERS; w++)
		for (unsigned int p = 0; p < RANGE_PAGES; p++)
			out[w][p] = host_enter(tcs_of(0), HE_READ, slot(w, p),
					       0);
}

/* EACCEPT (or EMODPE) every page of the range with flags. */
static void each_page(unsigned int r, uint64_t op, uint64_t flags)
{
	for (unsigned int p = 0; p < RANGE_PAGES; p++) {
		uint64_t ret = host_enter(tcs_of(0), op,
					  e.base + RANGE + p * 0x1000ULL,
					  secinfo_reg(flags));

		CHECK(ret == 0, "round %u: page %u: %s gave %llu", r, p,
		      op == HE_EACCEPT ? "EACCEPT" : "EMODPE",
		      (unsigned long long)ret);
	}
}

static void restrict_round(unsigned int r)
{
	struct sgx_enclave_restrict_permissions arg = {
		.offset = RANGE, .length = RANGE_PAGES * 0x1000ULL,
		.permissions = SGX_SECINFO_R,
	};
	static uint64_t before[WORKERS][RANGE_PAGES], after[WORKERS][RANGE_PAGES];
	long ret;

	/* The reclaimer may hold a page: -EAGAIN, go on where it stopped. */
	do {
		ret = ioctl(e.fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &arg);
		arg.offset += arg.count;
		arg.length -= arg.count;
		arg.count = 0;
		if (ret && errno == EAGAIN)
			atomic_fetch_add(&reclaimer_busy, 1);
	} while (ret && errno == EAGAIN);
	CHECK(ret == 0 && arg.length == 0, "round %u: RESTRICT", r);
	each_page(r, HE_EACCEPT, SGX_SECINFO_R | SGX_SECINFO_PR);
	atomic_fetch_add(&restricted, 1);
	read_slots(before);
	pause_rounds(20);
	read_slots(after);
	for (unsigned int w = 0; w < WORKERS; w++)
		for (unsigned int p = 0; p < RANGE_PAGES; p++)
			CHECK(before[w][p] == after[w][p],
			      "round %u: worker %u wrote page %u EACCEPTed R",
			      r, w, p);
	atomic_fetch_add(&restricted, 1);
	each_page(r, HE_EMODPE, SGX_SECINFO_R | SGX_SECINFO_W);
	atomic_fetch_add(&restored, 1);
	pause_rounds(20);
}

/* EACCEPT of a page as a fresh REG page (its access EAUGs it). */
static void accept_new_page(unsigned int r, uint64_t addr)
{
	uint64_t ret = host_enter(tcs_of(0), HE_EACCEPT, addr,
				  secinfo_reg(SGX_SECINFO_R | SGX_SECINFO_W |
					      SGX_SECINFO_PENDING));

	CHECK(ret == 0, "round %u: EACCEPT of the EAUGed page %#llx: %llu", r,
	      (unsigned long long)addr, (unsigned long long)ret);
}

/*
 * An ioctl on one page, retried while the reclaimer holds it: -EAGAIN, or
 * REMOVE_PAGES' -EBUSY when sgx_unmark_page_reclaimable() finds the page
 * isolated by ksgxd (Linux 6.12). Returns 0 or the errno.
 */
static int one_page_ioctl(unsigned long cmd, void *arg, uint64_t *count)
{
	long ret;

	for (;;) {
		*count = 0;
		ret = ioctl(e.fd, cmd, arg);
		if (!ret || (errno != EAGAIN && errno != EBUSY))
			break;
		atomic_fetch_add(&reclaimer_busy, 1);
		pause_briefly();
	}
	return ret ? errno : *count == 4096 ? 0 : -1;
}

static void trim_round(unsigned int r)
{
	struct sgx_enclave_modify_types mod = {
		.offset = TRIM, .length = 4096, .page_type = PT_TRIM,
	};
	struct sgx_enclave_remove_pages rm = {
		.offset = TRIM, .length = 4096,
	};
	uint64_t ret;
	int err = one_page_ioctl(SGX_IOC_ENCLAVE_MODIFY_TYPES, &mod,
				 &mod.count);

	CHECK(err == 0, "round %u: MODIFY_TYPES: %d", r, err);
	ret = host_enter(tcs_of(0), HE_EACCEPT, trim_page(),
			 SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED);
	CHECK(ret == 0, "round %u: EACCEPT of the trim: %llu", r,
	      (unsigned long long)ret);
	atomic_fetch_add(&trimmed, 1);
	pause_rounds(20);
	err = one_page_ioctl(SGX_IOC_ENCLAVE_REMOVE_PAGES, &rm, &rm.count);
	CHECK(err == 0, "round %u: REMOVE_PAGES: %d", r, err);
	/* The window closes before the page can be accepted again. */
	atomic_fetch_add(&trimmed, 1);
	accept_new_page(r, trim_page());
	atomic_fetch_add(&restored, 1);
	pause_rounds(20);
}

/* Read a word of every regular page of the other enclave. */
static void sweep_other(void)
{
	static const uint64_t pages[] = { HE_DATA, HE_STACK, HE_STRESS };

	for (unsigned int i = 0; i < 3; i++)
		host_enter(other.base + HE_TCS, HE_READ, other.base + pages[i],
			   0);
	for (unsigned int i = 0; i < 2 * HE_NR_TCS; i++)
		host_enter(other.base + HE_TCS, HE_READ,
			   other.base + HE_SSA + i * 0x1000ULL, 0);
}

/* The three holes of the range and the trim page, EAUGed and accepted. */
static int setup(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	if (host_encl_build(&e) || host_encl_build(&other) ||
	    mmap((void *)(uintptr_t)(e.base + HE_HOLE), 4 * 4096,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, e.fd,
		 0) == MAP_FAILED)
		return -1;
	for (unsigned int i = 0; i < 4; i++)
		accept_new_page(0, e.base + HE_HOLE + i * 0x1000ULL);
	return 0;
}

/* Every slot holds its worker's last value. */
static void check_contents(void)
{
	static uint64_t now[WORKERS][RANGE_PAGES];

	read_slots(now);
	for (unsigned int w = 0; w < WORKERS; w++)
		for (unsigned int p = 0; p < RANGE_PAGES; p++)
			CHECK(now[w][p] == last[w][p],
			      "worker %u's slot of page %u: %llu, not %llu", w,
			      p, (unsigned long long)now[w][p],
			      (unsigned long long)last[w][p]);
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 12;
	pthread_t t[WORKERS];

	if (setup())
		return 1;
	for (unsigned int w = 0; w < WORKERS; w++)
		pthread_create(&t[w], NULL, worker, (void *)(uintptr_t)w);
	for (unsigned int r = 0; r < rounds; r++) {
		sweep_other();
		restrict_round(r);
		sweep_other();
		trim_round(r);
	}
	atomic_store(&final_restored, atomic_load(&restored) + 1);
	atomic_store(&stop, true);
	atomic_fetch_add(&restored, 1);
	for (unsigned int w = 0; w < WORKERS; w++)
		pthread_join(t[w], NULL);
	check_contents();
	host_encl_destroy(&e);
	host_encl_destroy(&other);
	printf("host_stress: %u rounds, %u writes, %u EPCM faults, "
	       "%u EAUG races, %u calls retried for the reclaimer, %u failed\n",
	       rounds, atomic_load(&writes), atomic_load(&faults),
	       atomic_load(&eaug_races), atomic_load(&reclaimer_busy),
	       atomic_load(&failures));
	CHECK(atomic_load(&faults) > 0, "no worker ever hit the restriction");
	return atomic_load(&failures) ? 1 : 0;
}
