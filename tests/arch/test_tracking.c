// SPDX-License-Identifier: MIT
/*
 * The tracking model (sgx-architecture.md section 3.2) at the level of the
 * tracked() predicate: which ETRACKs and which exits make a stamped page
 * tracked. EACCEPT and EWB tests build on this; here it is checked alone.
 */
#include <criterion/criterion.h>

#include "fixture.h"

static struct fx fx;

static void setup(void)
{
	fx_init(&fx, 64, 4);
	fx_build(&fx, 8);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(tracking, .init = setup, .fini = teardown);

static bool tracked(uint64_t lin)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx.cpu, fx_epc_of(&fx, lin), &idx));
	return sgx_page_tracked(&fx.cpu, idx);
}

Test(tracking, fresh_pages_need_no_tracking)
{
	cr_assert(tracked(fx_data(&fx, 0)));
}

Test(tracking, stamp_needs_an_etrack_even_with_nobody_inside)
{
	uint64_t lin = fx_data(&fx, 0);

	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_not(tracked(lin));
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert(tracked(lin));
}

Test(tracking, lp_inside_at_etrack_must_exit)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0);

	fx_enter(&fx, a);
	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert_not(tracked(lin));
	fx_aex(&fx, a);
	cr_assert(tracked(lin));
}

Test(tracking, lp_entering_after_etrack_does_not_block)
{
	struct sgx_lp *late = &fx.cpu.lps[2];
	uint64_t lin = fx_data(&fx, 0);

	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_enter(&fx, late);
	cr_assert(tracked(lin));
}

Test(tracking, every_lp_inside_must_exit)
{
	struct sgx_lp *a = &fx.cpu.lps[1], *b = &fx.cpu.lps[2];
	uint64_t lin = fx_data(&fx, 0);

	fx_enter(&fx, a);
	fx_enter(&fx, b);
	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_exit(&fx, a);
	cr_assert_not(tracked(lin));
	/* Re-entering does not help; only b leaving does. */
	fx_enter(&fx, a);
	cr_assert_not(tracked(lin));
	fx_exit(&fx, b);
	cr_assert(tracked(lin));
}

Test(tracking, stamp_after_etrack_is_not_covered)
{
	uint64_t lin0 = fx_data(&fx, 0), lin1 = fx_data(&fx, 1);

	cr_assert_eq(fx_emodpr(&fx, lin0, SGX_SECINFO_R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert_eq(fx_emodpr(&fx, lin1, SGX_SECINFO_R), 0);
	cr_assert(tracked(lin0));
	cr_assert_not(tracked(lin1));
}

Test(tracking, one_etrack_covers_many_stamps)
{
	struct sgx_lp *a = &fx.cpu.lps[1];

	fx_enter(&fx, a);
	for (unsigned int i = 0; i < 8; i++)
		cr_assert_eq(fx_emodpr(&fx, fx_data(&fx, i), SGX_SECINFO_R), 0);
	uint64_t before = fx.cpu.stats.encls[ETRACK];

	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert_eq(fx.cpu.stats.encls[ETRACK], before + 1);
	fx_aex(&fx, a);
	for (unsigned int i = 0; i < 8; i++)
		cr_assert(tracked(fx_data(&fx, i)), "page %u", i);
}

Test(tracking, second_cycle_keeps_old_stamps_tracked)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0);

	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	fx_enter(&fx, a);
	/* A later cycle, with a itself inside, does not un-track the page. */
	cr_assert_eq(fx_etrack(&fx), 0);
	cr_assert(tracked(lin));
	cr_assert_eq(fx_etrack(&fx), SGX_PREV_TRK_INCMPL);
	cr_assert(tracked(lin));
}
