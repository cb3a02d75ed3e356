/* SPDX-License-Identifier: MIT */
/*
 * kfixture's driver on the native platform, for the tests that run it on
 * real threads (test_native_driver.c, tsan_native.c).
 */
#ifndef SGXEMU_TESTS_RUN_NATIVE_KFX_H
#define SGXEMU_TESTS_RUN_NATIVE_KFX_H

#include <stdbool.h>
#include <unistd.h>

#include "../kernel/kfixture.h"
#include "platform/native.h"

/* Stop ksgxd and wait until it has given its LP (the last one) back. */
static inline void native_kfx_stop_ksgxd(struct native *nat, struct kfx *fx)
{
	bool running = true;

	native_lock(nat);
	__atomic_store_n(&fx->drv.ksgxd_stop, true, __ATOMIC_RELEASE);
	nat->plat.ksgxd_wake(nat->plat.ctx);
	native_unlock(nat);
	while (running) {
		usleep(1000);
		native_lock(nat);
		running = nat->lps[fx->cpu.cfg.nr_lps - 1].tid != 0;
		native_unlock(nat);
	}
}

#endif
