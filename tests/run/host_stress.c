// SPDX-License-Identifier: MIT
/*
 * The runner with several enclave threads, run under `sgxemu run`: four
 * worker threads, each on its own TCS, write and read back their own slot
 * of one enclave page without pause, while the main thread, round after
 * round, restricts the page to R (the ioctl's ETRACK sends IPIs that force
 * the workers out, and they ERESUME), EACCEPTs the restriction from its own
 * TCS, checks that no worker's write lands from then on (their writes take
 * EPCM faults), and gives W back with EMODPE, after which the faulted
 * workers ERESUME and their writes complete. Every value a worker reads
 * back must be the one it wrote.
 *
 * Each round then trims a second page that the workers keep reading:
 * MODIFY_TYPES to TRIM, EACCEPT of the trim, REMOVE_PAGES, and EACCEPT of
 * the page that the next access EAUGs. No worker's read may succeed
 * wholly between the EACCEPT of the trim and the start of the EACCEPT of
 * the new page.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/sdm.h"
#include "host_encl.h"
#include "sgxemu/uapi.h"

#define WORKERS 4
#define ROUNDS 40

static struct host_encl e;
static atomic_uint failures, faults, writes;
static atomic_uint restored; /* bumped when every page is usable again */
static atomic_uint trimmed; /* odd while the trim page is EACCEPTed TRIM */
static atomic_bool stop;
static atomic_uint final_restored; /* restored's value once stop is set */
static __thread sigjmp_buf segv_jmp;
static __thread uint64_t segv_addr;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			atomic_fetch_add(&failures, 1);                   \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
		}                                                         \
	} while (0)

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	segv_addr = (uint64_t)(uintptr_t)si->si_addr;
	siglongjmp(segv_jmp, 1);
}

static uint64_t slot(unsigned int w)
{
	return e.base + HE_STRESS + 8ULL * w;
}

static uint64_t tcs_of(unsigned int i)
{
	return e.base + HE_TCS + (uint64_t)i * 4096;
}

static uint64_t trim_page(void)
{
	return e.base + HE_HOLE;
}

/* A read of the trim page; none may fit inside a trimmed window. */
static void read_trim_page(unsigned int w, uint64_t tcs)
{
	unsigned int before = atomic_load(&trimmed);

	host_enter(tcs, HE_READ, trim_page(), 0);
	CHECK(!(before & 1) || atomic_load(&trimmed) != before,
	      "worker %u read a page EACCEPTed as TRIM", w);
}

/* Whether restored holds its last value (set once stop is). */
static bool final_seen(unsigned int seen)
{
	return seen == atomic_load(&restored) && seen == final_restored;
}

/* Waits sleep: spinning threads would starve the ones doing the work. */
static void pause_briefly(void)
{
	struct timespec ts = { .tv_nsec = 50000 };

	nanosleep(&ts, NULL);
}

/*
 * An access that faulted waits until the main thread made every page
 * usable again, then ERESUMEs, and so completes the access.
 */
static void *worker(void *p)
{
	unsigned int w = (unsigned int)(uintptr_t)p;
	uint64_t tcs = tcs_of(w + 1);
	volatile uint64_t value = (uint64_t)w << 32;
	volatile unsigned int seen;

	while (!atomic_load(&stop)) {
		value++;
		seen = atomic_load(&restored);
		if (sigsetjmp(segv_jmp, 1)) {
			CHECK(segv_addr == e.base + HE_STRESS ||
				      segv_addr == trim_page(),
			      "worker %u fault at %#llx", w,
			      (unsigned long long)segv_addr);
			atomic_fetch_add(&faults, 1);
			while (atomic_load(&restored) == seen) {
				if (atomic_load(&stop) && final_seen(seen)) {
					CHECK(0, "worker %u faulted at %#llx "
					      "after the last round", w,
					      (unsigned long long)segv_addr);
					return NULL;
				}
				pause_briefly();
			}
			seen = atomic_load(&restored);
			host_resume(tcs);
			continue;
		}
		host_enter(tcs, HE_WRITE, slot(w), value);
		atomic_fetch_add(&writes, 1);
		CHECK(host_enter(tcs, HE_READ, slot(w), 0) == value,
		      "worker %u reads back its value", w);
		read_trim_page(w, tcs);
	}
	return NULL;
}

static uint64_t secinfo_reg(uint64_t flags)
{
	return SGX_SECINFO_TYPE(PT_REG) | flags;
}

static void read_slots(uint64_t out[WORKERS])
{
	for (unsigned int w = 0; w < WORKERS; w++)
		out[w] = host_enter(tcs_of(0), HE_READ, slot(w), 0);
}

static void round_once(unsigned int r)
{
	struct sgx_enclave_restrict_permissions arg = {
		.offset = HE_STRESS, .length = 4096,
		.permissions = SGX_SECINFO_R,
	};
	uint64_t before[WORKERS], after[WORKERS], ret;

	CHECK(ioctl(e.fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &arg) == 0 &&
		      arg.count == 4096,
	      "round %u: RESTRICT", r);
	ret = host_enter(tcs_of(0), HE_EACCEPT, e.base + HE_STRESS,
			 secinfo_reg(SGX_SECINFO_R | SGX_SECINFO_PR));
	CHECK(ret == 0, "round %u: EACCEPT gave %llu", r,
	      (unsigned long long)ret);
	read_slots(before);
	for (int i = 0; i < 20; i++)
		pause_briefly();
	read_slots(after);
	for (unsigned int w = 0; w < WORKERS; w++)
		CHECK(before[w] == after[w],
		      "round %u: worker %u wrote a page EACCEPTed read-only", r,
		      w);
	ret = host_enter(tcs_of(0), HE_EMODPE, e.base + HE_STRESS,
			 secinfo_reg(SGX_SECINFO_R | SGX_SECINFO_W));
	CHECK(ret == 0, "round %u: EMODPE", r);
	atomic_fetch_add(&restored, 1);
	for (int i = 0; i < 20; i++)
		pause_briefly();
}

/* EACCEPT of the trim page as a fresh REG page (its access EAUGs it). */
static void accept_trim_page(unsigned int r)
{
	uint64_t ret = host_enter(tcs_of(0), HE_EACCEPT, trim_page(),
				  secinfo_reg(SGX_SECINFO_R | SGX_SECINFO_W |
					      SGX_SECINFO_PENDING));

	CHECK(ret == 0, "round %u: EACCEPT of the EAUGed page: %llu", r,
	      (unsigned long long)ret);
}

static void trim_round(unsigned int r)
{
	struct sgx_enclave_modify_types mod = {
		.offset = HE_HOLE, .length = 4096, .page_type = PT_TRIM,
	};
	struct sgx_enclave_remove_pages rm = {
		.offset = HE_HOLE, .length = 4096,
	};
	uint64_t ret;

	CHECK(ioctl(e.fd, SGX_IOC_ENCLAVE_MODIFY_TYPES, &mod) == 0 &&
		      mod.count == 4096,
	      "round %u: MODIFY_TYPES", r);
	ret = host_enter(tcs_of(0), HE_EACCEPT, trim_page(),
			 SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED);
	CHECK(ret == 0, "round %u: EACCEPT of the trim: %llu", r,
	      (unsigned long long)ret);
	atomic_fetch_add(&trimmed, 1);
	for (int i = 0; i < 20; i++)
		pause_briefly();
	CHECK(ioctl(e.fd, SGX_IOC_ENCLAVE_REMOVE_PAGES, &rm) == 0 &&
		      rm.count == 4096,
	      "round %u: REMOVE_PAGES", r);
	/* The window closes before the page can be accepted again. */
	atomic_fetch_add(&trimmed, 1);
	accept_trim_page(r);
	atomic_fetch_add(&restored, 1);
	for (int i = 0; i < 20; i++)
		pause_briefly();
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv,
				.sa_flags = SA_SIGINFO };
	pthread_t t[WORKERS];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	if (host_encl_build(&e) ||
	    mmap((void *)(uintptr_t)trim_page(), 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, e.fd, 0) == MAP_FAILED)
		return 1;
	accept_trim_page(0);
	for (unsigned int w = 0; w < WORKERS; w++)
		pthread_create(&t[w], NULL, worker, (void *)(uintptr_t)w);
	for (unsigned int r = 0; r < ROUNDS; r++) {
		round_once(r);
		trim_round(r);
	}
	atomic_store(&final_restored, atomic_load(&restored) + 1);
	atomic_store(&stop, true);
	atomic_fetch_add(&restored, 1);
	for (unsigned int w = 0; w < WORKERS; w++)
		pthread_join(t[w], NULL);
	host_encl_destroy(&e);
	printf("host_stress: %u rounds, %u writes, %u EPCM faults, %u failed\n",
	       ROUNDS, atomic_load(&writes), atomic_load(&faults),
	       atomic_load(&failures));
	CHECK(atomic_load(&faults) > 0, "no worker ever hit the restriction");
	return atomic_load(&failures) ? 1 : 0;
}
