// SPDX-License-Identifier: MIT
/*
 * One IPI-induced AEX per enclave thread per ETRACK flow, as Linux causes:
 * three worker threads stay inside the enclave (each on its own TCS, in
 * encl.S's WAIT loop), and the main thread restricts eight pages that none
 * of them touches. Each flow's IPI round forces every worker out; each
 * ERESUMEs before the call goes on to its next page, so the next round
 * finds it inside again. Run under `sgxemu run --stats` (check_stats.sh):
 * ipis (signals to LPs in enclave mode, each an AEX) are exactly 3 per
 * flow: 8 flows at batch 1, 2 at batch 7, 1 at batch 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "arch/sdm.h"
#include "check.h"
#include "host_encl.h"
#include "sgxemu/uapi.h"

#define WORKERS 3
#define PAGES 8
#define STOP (HE_DATA + 0x100)
#define READY (HE_DATA + 0x200) /* one word per worker */
/* The SSA frames of TCS 4 to 7, which nothing uses. */
#define RESTRICTED (HE_SSA + 4 * 0x2000ULL)

static struct host_encl e;

static uint64_t tcs_of(unsigned int i)
{
	return e.base + HE_TCS + (uint64_t)i * 4096;
}

static void *worker(void *p)
{
	unsigned int w = (unsigned int)(uintptr_t)p;

	host_enter(tcs_of(w + 1), HE_HOLD, e.base + STOP,
		   e.base + READY + 8ULL * w);
	return NULL;
}

/* Every worker has set its ready word: it is inside, in its loop. */
static void wait_until_inside(void)
{
	unsigned int inside = 0;

	while (inside < WORKERS) {
		inside = 0;
		for (unsigned int w = 0; w < WORKERS; w++)
			inside += host_enter(tcs_of(0), HE_READ,
					     e.base + READY + 8ULL * w, 0) == 1;
	}
}

int main(void)
{
	struct sgx_enclave_restrict_permissions arg = {
		.offset = RESTRICTED, .length = PAGES * 4096ULL,
		.permissions = SGX_SECINFO_R,
	};
	pthread_t t[WORKERS];

	if (host_encl_build(&e))
		return 1;
	/* The data page's PTE first: no worker takes a fault's AEX. */
	host_enter(tcs_of(0), HE_WRITE, e.base + STOP, 0);
	for (unsigned int w = 0; w < WORKERS; w++)
		pthread_create(&t[w], NULL, worker, (void *)(uintptr_t)w);
	wait_until_inside();
	CHECK(ioctl(e.fd, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &arg) == 0 &&
		      arg.count == arg.length,
	      "RESTRICT of %u pages", PAGES);
	host_enter(tcs_of(0), HE_WRITE, e.base + STOP, 1);
	for (unsigned int w = 0; w < WORKERS; w++)
		pthread_join(t[w], NULL);
	host_encl_destroy(&e);
	printf("host_ipi: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
