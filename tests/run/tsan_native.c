// SPDX-License-Identifier: MIT
/*
 * The native platform under ThreadSanitizer (scripts/test.sh, build-tsan).
 * Criterion cannot start under TSan (its inheritable arena fails), so this
 * is a plain program: the driver on the native platform (kfixture's
 * enclave, EPC twice oversubscribed) with every kind of thread at once:
 * ksgxd reclaiming, a caller restricting the heap page by page, a second
 * caller whose ioctls meet SGX_ENCL_IOCTL (-EBUSY), and two "enclave
 * threads" that the flows' IPIs force out and that come back at once
 * (owed resumes). Exits 0 when every call gave what it should and the
 * threads ran concurrently as asserted; TSan reports any data race.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kernel/kfixture.h"
#include "native_kfx.h"
#include "kernel/encl.h"
#include "mm/mm.h"
#include "platform/native.h"

#define IPI_SIGNAL (SIGRTMAX - 3)
#define EPC_PAGES 64
#define HEAP_PAGES 96
#define CALLS 4
#define INSIDE 2

static struct native nat;
static struct kfx fx;
static atomic_bool done;
static atomic_uint busy, ipis;

/* Model code runs on an LP its thread holds (native.h). */
static struct sgx_lp *claim(void)
{
	return native_lp_claim(&nat, (pid_t)syscall(SYS_gettid));
}

#define EXPECT(cond, ...)                                 \
	do {                                              \
		if (!(cond)) {                            \
			fprintf(stderr, "FAIL: " __VA_ARGS__); \
			fputc('\n', stderr);              \
			return 1;                         \
		}                                         \
	} while (0)

/* The AEX an IPI causes, without the CPU: leave enclave mode, acknowledge. */
static void on_ipi(int sig, siginfo_t *si, void *uc)
{
	struct sgx_lp *lp = native_current_lp(&nat);

	if (lp && native_ipi_pending(&nat, lp)) {
		__atomic_store_n(&lp->enclave_mode, false, __ATOMIC_RELEASE);
		atomic_fetch_add(&ipis, 1);
		native_ipi_ack(&nat, lp);
	}
}

/* An enclave thread: inside until an IPI, then "ERESUME" at once. */
static void *inside(void *arg)
{
	struct sgx_lp *lp;

	lp = claim();
	native_lock(&nat);
	sgx_mm_activate(fx.mm, lp);
	lp->enclave_mode = true;
	native_unlock(&nat);
	while (!atomic_load(&done)) {
		if (__atomic_load_n(&lp->enclave_mode, __ATOMIC_ACQUIRE)) {
			usleep(50);
			continue;
		}
		if (native_lock_or_ipi(&nat, lp))
			continue;
		lp->enclave_mode = true;
		native_unlock(&nat);
	}
	native_lock(&nat);
	lp->enclave_mode = false;
	sgx_mm_deactivate(fx.mm, lp);
	native_unlock(&nat);
	native_lp_free(&nat, lp);
	return NULL;
}

/* The second caller: ioctls on the enclave while the first one runs. */
static void *second(void *arg)
{
	struct sgx_lp *lp = claim();

	while (!atomic_load(&done)) {
		struct sgx_enclave_restrict_permissions none = { 0 };
		long ret;

		native_lock(&nat);
		ret = kfx_ioctl(&fx, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS,
				&none);
		native_unlock(&nat);
		if (ret == -EBUSY)
			atomic_fetch_add(&busy, 1);
		else if (ret != -EINVAL)
			fprintf(stderr, "second caller: %ld\n", ret);
		usleep(100);
	}
	native_lp_free(&nat, lp);
	return NULL;
}

int main(void)
{
	struct kfx_config cfg = {
		.epc_pages = EPC_PAGES, .heap_size = HEAP_PAGES * PAGE_SIZE,
		.pin_batch = true, .etrack_batch = 1, .plat = &nat.plat,
		.nr_lps = INSIDE + 3, /* the callers', the enclave threads', ksgxd's */
	};
	struct sigaction sa = { .sa_sigaction = on_ipi, .sa_flags = SA_SIGINFO };
	pthread_t t[INSIDE + 1];
	uint64_t ewb0;

	sigemptyset(&sa.sa_mask);
	sigaction(IPI_SIGNAL, &sa, NULL);
	EXPECT(native_init(&nat, &fx.cpu, IPI_SIGNAL) == 0, "native_init");
	native_lock(&nat);
	kfx_init(&fx, &cfg);
	native_unlock(&nat);
	claim(); /* for good: see the end */
	native_lock(&nat);
	kfx_build(&fx);
	ewb0 = fx.cpu.stats.encls[EWB];
	native_unlock(&nat);
	EXPECT(native_start_ksgxd(&nat, ksgxd, &fx.drv) == 0, "ksgxd");
	for (unsigned int i = 0; i < INSIDE; i++)
		pthread_create(&t[i], NULL, inside, NULL);
	pthread_create(&t[INSIDE], NULL, second, NULL);
	for (unsigned int c = 0; c < CALLS; c++) {
		uint64_t count = 0;
		long ret;

		native_lock(&nat);
		ret = kfx_restrict(&fx, KFX_HEAP, HEAP_PAGES * PAGE_SIZE,
				   SGX_SECINFO_R, &count, NULL);
		native_unlock(&nat);
		EXPECT(ret == 0 || ret == -EAGAIN, "restrict: %ld", ret);
	}
	atomic_store(&done, true);
	for (unsigned int i = 0; i <= INSIDE; i++)
		pthread_join(t[i], NULL);
	native_kfx_stop_ksgxd(&nat, &fx);
	native_lock(&nat);
	EXPECT(fx.cpu.stats.encls[EWB] > ewb0, "no EWB while running");
	kfx_fini(&fx);
	native_unlock(&nat);
	/* The LP went with the CPU: kfx_fini() needed it until the end. */
	printf("tsan_native: %u calls, %u IPIs taken, %u -EBUSY, %u owed "
	       "resumes timed out\n", CALLS, atomic_load(&ipis),
	       atomic_load(&busy), (unsigned int)nat.stats.resume_timeouts);
	EXPECT(atomic_load(&ipis) > 0, "no IPI reached a thread inside");
	return 0;
}
