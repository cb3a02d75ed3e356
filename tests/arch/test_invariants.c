// SPDX-License-Identifier: MIT
/*
 * The invariant checker must catch each kind of corruption it claims to
 * (epc.c I1..I7), and stay quiet on a healthy machine. Each test breaks
 * one thing by hand, outside any leaf, and asks sgx_cpu_check().
 */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/internal.h"
#include "fixture.h"

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 2);
	fx_build(&fx, 2);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(invariants, .init = setup, .fini = teardown);

static void expect_violation(const char *tag)
{
	const char *why = sgx_cpu_check(&fx.cpu);

	cr_assert_not_null(why, "corruption went unnoticed");
	cr_assert_eq(strncmp(why, tag, strlen(tag)), 0, "got '%s'", why);
}

static uint64_t idx_of(uint64_t lin)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx_epc_of(&fx, lin), &idx));
	return idx;
}

static uint64_t secs_idx(void)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx.secs, &idx));
	return idx;
}

Test(invariants, healthy_machine_passes)
{
	cr_assert_null(sgx_cpu_check(&fx.cpu));
}

Test(invariants, i1_child_without_secs)
{
	fx.cpu.epcm[idx_of(fx_data(&fx, 0))].enclave_secs =
		(uint32_t)idx_of(fx_data(&fx, 1));
	expect_violation("I1");
}

Test(invariants, i2_child_count)
{
	secs_hidden_at(&fx.cpu, secs_idx())->child_count++;
	expect_violation("I2");
}

Test(invariants, i3_active_count)
{
	secs_hidden_at(&fx.cpu, secs_idx())->active_count++;
	expect_violation("I3");
}

Test(invariants, i3_tracked_set_count)
{
	fx_enter(&fx, &fx.cpu.lps[1]);
	secs_hidden_at(&fx.cpu, secs_idx())->prev_active++;
	expect_violation("I3");
}

Test(invariants, i4_duplicate_va_version)
{
	uint64_t va = fx_alloc_epc(&fx);

	cr_assert_eq(encls_epa(fx.lp, PT_VA, va), 0);
	((uint64_t *)va)[3] = 42;
	cr_assert_null(sgx_cpu_check(&fx.cpu));
	((uint64_t *)va)[9] = 42;
	expect_violation("I4");
}

Test(invariants, i5_tlb_survives_exit)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];

	lp->tlb[0].gen = lp->tlb_gen;
	expect_violation("I5");
}

Test(invariants, i6_tlb_exceeds_tracked_epcm)
{
	struct sgx_lp *lp = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0), v = 1;

	fx_enter(&fx, lp);
	cr_assert_eq(sgx_lp_write(lp, lin, &v, sizeof(v)), 0);
	/* A restriction that is still being tracked may leave stale W. */
	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_null(sgx_cpu_check(&fx.cpu));
	/* Without a pending stamp the stale W is a breach. */
	fx.cpu.epcm[idx_of(lin)].track_stamp = 0;
	expect_violation("I6");
}

Test(invariants, i7_pr_on_tcs)
{
	fx.cpu.epcm[idx_of(fx.base + FX_TCS_OFF)].pr = 1;
	expect_violation("I7");
}
