// SPDX-License-Identifier: MIT
/*
 * The driver model on the native platform, with real threads: what Linux
 * lets happen between the pages of one EDMM call happens here too.
 * ksgxd writes pages back while a RESTRICT_PERMISSIONS call is between its
 * pages, and a second ioctl on the same enclave during the call gets
 * -EBUSY (SGX_ENCL_IOCTL). The enclave is kfixture's, built on the native
 * platform; every driver call holds the model lock, as the runner's
 * device calls do.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/encl.h"
#include "platform/native.h"
#include "../kernel/kfixture.h"
#include "native_kfx.h"

#define IPI_SIGNAL (SIGRTMAX - 3)
#define EPC_PAGES 64
#define HEAP_PAGES 96 /* with the rest, about twice the EPC */

static struct native nat;
static struct kfx fx;
static struct sgx_lp *main_lp; /* the test thread's, for the whole test */

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void setup(void)
{
	struct kfx_config cfg = {
		.epc_pages = EPC_PAGES,
		.heap_size = HEAP_PAGES * PAGE_SIZE,
		.pin_batch = true,
		.etrack_batch = 1,
		.plat = &nat.plat,
	};

	/* native_init() only keeps the CPU's address; kfx_init() fills it. */
	cr_assert_eq(native_init(&nat, &fx.cpu, IPI_SIGNAL), 0);
	native_lock(&nat);
	kfx_init(&fx, &cfg);
	native_unlock(&nat);
	/* Model code runs on an LP its thread holds (native.h). */
	main_lp = native_lp_claim(&nat, tid());
	native_lock(&nat);
	kfx_build(&fx);
	native_unlock(&nat);
	cr_assert_eq(native_start_ksgxd(&nat, ksgxd, &fx.drv), 0);
}

static void teardown(void)
{
	native_kfx_stop_ksgxd(&nat, &fx);
	native_lock(&nat);
	kfx_fini(&fx);
	native_unlock(&nat);
	/* main_lp went with the CPU: kfx_fini() needed it until the end. */
}

TestSuite(native_driver, .init = setup, .fini = teardown);

static long restrict_heap(void)
{
	uint64_t count = 0;
	long ret;

	native_lock(&nat);
	ret = kfx_restrict(&fx, KFX_HEAP, HEAP_PAGES * PAGE_SIZE,
			   SGX_SECINFO_R, &count, NULL);
	native_unlock(&nat);
	return ret ? ret : (long)count;
}

/* EWBs that ran on another LP than the caller's while it was in its call. */
struct ewb_count {
	const struct sgx_lp *caller;
	bool in_call;
	uint64_t others;
};

static void count_leaf(void *ctx, struct sgx_lp *lp, enum sgx_leaf_class cls,
		       unsigned int leaf)
{
	struct ewb_count *c = ctx;

	if (c->in_call && lp != c->caller && cls == SGX_LEAF_ENCLS &&
	    leaf == EWB)
		c->others++;
}

/* The window between two pages: the call is under way. */
static void note_window(struct sgx_encl *encl, uint64_t index, void *arg)
{
	struct ewb_count *c = arg;

	c->in_call = true;
}

Test(native_driver, ksgxd_writes_back_pages_between_the_pages_of_one_call)
{
	struct ewb_count c = { 0 };
	long ret;

	native_lock(&nat);
	c.caller = main_lp;
	fx.cpu.hooks.ctx = &c;
	fx.cpu.hooks.leaf = count_leaf;
	fx.drv.inject.edmm_page = note_window;
	fx.drv.inject.edmm_page_arg = &c;
	native_unlock(&nat);
	ret = restrict_heap();
	native_lock(&nat);
	c.in_call = false;
	fx.cpu.hooks.leaf = NULL;
	fx.drv.inject.edmm_page = NULL;
	native_unlock(&nat);
	cr_assert_eq(ret, HEAP_PAGES * PAGE_SIZE, "the call completes: %ld",
		     ret);
	cr_assert_gt(c.others, 0, "ksgxd wrote no page back during the call");
}

/* The second caller: one ioctl once the first call is under way. */
struct second {
	atomic_bool inside, calling;
	long ret;
};

static void *second_caller(void *p)
{
	struct second *s = p;
	struct sgx_enclave_restrict_permissions arg = { 0 };
	struct sgx_lp *mine = NULL;

	while (!atomic_load(&s->inside))
		usleep(100);
	atomic_store(&s->calling, true);
	/* The last part of the test runs this on the test thread. */
	if (!native_lp_of(&nat, tid()))
		mine = native_lp_claim(&nat, tid());
	native_lock(&nat);
	/* Zero length: -EINVAL, unless the enclave is busy first. */
	s->ret = kfx_ioctl(&fx, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &arg);
	native_unlock(&nat);
	if (mine)
		native_lp_free(&nat, mine);
	return NULL;
}

/* At the third page: let the second caller start and wait for the lock. */
static void let_second_in(struct sgx_encl *encl, uint64_t index, void *arg)
{
	struct second *s = arg;

	if (index != (KFX_HEAP >> PAGE_SHIFT) + 2)
		return;
	atomic_store(&s->inside, true);
	while (!atomic_load(&s->calling))
		usleep(100);
	usleep(2000); /* it blocks on the model lock meanwhile */
}

Test(native_driver, a_concurrent_ioctl_on_the_enclave_gets_ebusy)
{
	struct second s = { .ret = 1 };
	pthread_t t;

	pthread_create(&t, NULL, second_caller, &s);
	native_lock(&nat);
	fx.drv.inject.edmm_page = let_second_in;
	fx.drv.inject.edmm_page_arg = &s;
	native_unlock(&nat);
	cr_assert_eq(restrict_heap(), HEAP_PAGES * PAGE_SIZE);
	pthread_join(t, NULL);
	cr_assert_eq(s.ret, -EBUSY, "the second ioctl gave %ld", s.ret);
	/* Once the call is over the enclave takes ioctls again. */
	atomic_store(&s.inside, true);
	atomic_store(&s.calling, false);
	second_caller(&s);
	cr_assert_eq(s.ret, -EINVAL);
}
