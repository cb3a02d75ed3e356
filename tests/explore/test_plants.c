// SPDX-License-Identifier: MIT
/*
 * The explorer finds each planted bug (SGX_PLANT_*, compiled into the
 * *_planted libraries this test links, never into sgxemu) within a stated
 * bound of executions, and the violation it reports replays to the same
 * message. Seeds are fixed, so the executions are the same on every run;
 * the bounds leave room for changes in the driver's preemption points.
 *
 *   bug                    scenario                  strategy   found at
 *   NO_IPI                 restrict_vs_reclaim       random     <= 100
 *   ETRACK_BEFORE_EMODPR   restrict_vs_reclaim       random     1
 *   EACCEPT_UNTRACKED      adversarial_driver        random     <= 50
 *                          restrict_vs_ethreads      PCT d=3    <= 3000
 *   BATCH_SECS_EVICTED     restrict_hole_vs_reclaim  PCT d=3    <= 1000
 *   BATCH_NO_EARLY_TRACK   restrict_hole_vs_reclaim  random     1
 *   COUNT_BEFORE_TRACKING  restrict_vs_etrack_fault  random     <= 10
 *                          trim_vs_etrack_fault      random     <= 10
 *   SIGNAL_NO_TRACK        restrict_vs_signal        random     <= 100
 *                          trim_vs_signal            random     <= 100
 *   IPI_FIRST_MM_ONLY      restrict_vs_fork_exit     PCT d=3    <= 10
 *   IPI_DROP_LP (batch 0)  restrict_vs_two_lps       random     <= 10
 *   TYPE_BEFORE_TRACKING   trim_vs_etrack_fault      random     <= 10
 *   NO_IPI                 restrict_vs_mprotect      random     <= 100
 *   NO_IPI (batch 2)       ethreads_migrate_vs_reclaim random   <= 100
 *   BATCH_NO_EARLY_TRACK   restrict_vs_eaug_in_range random     <= 10
 *                          hole_vs_full_epc          random     <= 10
 *   NO_IPI                 two_enclaves_vs_reclaim   random     <= 100
 *
 * The batch plants need the batched driver (etrack_batch 0); the others
 * are run with Linux's (1). SIGNAL_NO_TRACK returns from a walk a signal
 * stopped without its last flow: only the invariant checked on every EDMM
 * return (pages after count are untracked only if tracking failed) sees it. COUNT_BEFORE_TRACKING changes nothing unless
 * an ETRACK flow fails, which only fault injection makes happen: the
 * scenario restrict_vs_etrack_fault injects one failed flow. With batch 0
 * that flow is the call's last, so nothing else tracks the pages it
 * counted; with smaller batches a later flow of the same call tracks them
 * anyway, and the plant does no harm there.
 *
 * A last test shows the security property on its own, with the leaves run
 * by hand: an LP keeps a writable translation across an EMODPR that was
 * tracked by ETRACK but no IPI; the honest EACCEPT refuses, the planted one
 * accepts and the step check reports the stale translation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/world.h"

#define SEED 1
#define PCT_DEPTH 3

static void expect_found(const char *name, enum xp_strategy strategy,
			 unsigned int plant, unsigned int etrack_batch,
			 uint64_t bound, const char *what)
{
	struct xp_options opt = {
		.scenario = xp_scenario_find(name),
		.strategy = strategy,
		.executions = bound,
		.seed = SEED,
		.depth = PCT_DEPTH,
		.etrack_batch = etrack_batch,
		.plants = plant,
		.stop_on_violation = true,
	};
	struct xp_result res, again;
	uint64_t hash;

	cr_assert_not_null(opt.scenario, "%s", name);
	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_assert_eq(res.violations, 1, "%s: plant %#x not found in %llu",
		     name, plant, (unsigned long long)bound);
	cr_expect_leq(res.first_violation, bound);
	cr_expect(strstr(res.message, what), "%s: %s", name, res.message);
	cr_assert_eq(xp_replay(res.schedule, NULL, &again, &hash), 0);
	cr_expect_eq(again.violations, 1, "%s", res.schedule);
	cr_expect_str_eq(again.message, res.message);
	/* Without the plant, the same executions are clean. */
	opt.plants = 0;
	opt.executions = res.first_violation;
	cr_assert_eq(xp_explore(&opt, &res), 0);
	cr_expect_eq(res.violations, 0, "%s: %s", name, res.message);
}

Test(plants, no_ipi_after_etrack)
{
	expect_found("restrict_vs_reclaim", XP_RANDOM, SGX_PLANT_NO_IPI, 1,
		     100, "not tracked");
}

Test(plants, etrack_before_emodpr)
{
	expect_found("restrict_vs_reclaim", XP_RANDOM,
		     SGX_PLANT_ETRACK_BEFORE_EMODPR, 1, 1, "not tracked");
}

Test(plants, eaccept_tracking_check_disabled)
{
	expect_found("adversarial_driver", XP_RANDOM,
		     SGX_PLANT_EACCEPT_UNTRACKED, 1, 50,
		     "succeeded before its EMODPR/EMODT was tracked");
	expect_found("restrict_vs_ethreads", XP_PCT,
		     SGX_PLANT_EACCEPT_UNTRACKED, 1, 3000,
		     "succeeded before its EMODPR/EMODT was tracked");
}

Test(plants, batched_etrack_without_loading_an_evicted_secs)
{
	expect_found("restrict_hole_vs_reclaim", XP_PCT,
		     SGX_PLANT_BATCH_SECS_EVICTED, 0, 1000,
		     "RESTRICT_PERMISSIONS failed");
}

Test(plants, batch_without_tracking_on_an_early_exit)
{
	expect_found("restrict_hole_vs_reclaim", XP_RANDOM,
		     SGX_PLANT_BATCH_NO_EARLY_TRACK, 0, 1,
		     "RESTRICT_PERMISSIONS failed");
}

Test(plants, count_before_tracking)
{
	expect_found("restrict_vs_etrack_fault", XP_RANDOM,
		     SGX_PLANT_COUNT_BEFORE_TRACKING, 0, 10,
		     "whose EMODPR is not tracked");
}

Test(plants, count_before_tracking_of_a_trim)
{
	expect_found("trim_vs_etrack_fault", XP_RANDOM,
		     SGX_PLANT_COUNT_BEFORE_TRACKING, 0, 10,
		     "MODIFY_TYPES counted page");
}

Test(plants, signal_exit_without_tracking)
{
	expect_found("restrict_vs_signal", XP_RANDOM,
		     SGX_PLANT_SIGNAL_NO_TRACK, 0, 100,
		     "after count not tracked");
	expect_found("trim_vs_signal", XP_RANDOM, SGX_PLANT_SIGNAL_NO_TRACK,
		     0, 100, "after count not tracked");
}

Test(plants, ipi_mask_drops_the_second_mm)
{
	expect_found("restrict_vs_fork_exit", XP_PCT,
		     SGX_PLANT_IPI_FIRST_MM_ONLY, 1, 10, "not tracked");
}

Test(plants, ipi_mask_misses_a_cpu_at_batch_0)
{
	expect_found("restrict_vs_two_lps", XP_RANDOM, SGX_PLANT_IPI_DROP_LP,
		     0, 10, "not tracked");
}

Test(plants, type_recorded_before_tracking)
{
	expect_found("trim_vs_etrack_fault", XP_RANDOM,
		     SGX_PLANT_TYPE_BEFORE_TRACKING, 0, 10,
		     "before its EMODT was tracked");
}

Test(plants, no_ipi_with_the_new_scenarios)
{
	expect_found("restrict_vs_mprotect", XP_RANDOM, SGX_PLANT_NO_IPI, 1,
		     100, "not tracked");
	expect_found("ethreads_migrate_vs_reclaim", XP_RANDOM,
		     SGX_PLANT_NO_IPI, 2, 100, "not tracked");
}

Test(plants, early_exit_without_tracking_at_an_eaug_in_the_range)
{
	expect_found("restrict_vs_eaug_in_range", XP_RANDOM,
		     SGX_PLANT_BATCH_NO_EARLY_TRACK, 0, 10,
		     "RESTRICT_PERMISSIONS failed");
}

Test(plants, early_exit_without_tracking_on_a_full_epc)
{
	expect_found("hole_vs_full_epc", XP_RANDOM,
		     SGX_PLANT_BATCH_NO_EARLY_TRACK, 0, 10,
		     "RESTRICT_PERMISSIONS failed");
}

Test(plants, two_enclaves_sharing_the_epc)
{
	expect_found("two_enclaves_vs_reclaim", XP_RANDOM, SGX_PLANT_NO_IPI, 1,
		     100, "not tracked");
}

/* ---- The security property, leaf by leaf ------------------------------- */

#define ACCEPT_R                                                          \
	(SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_PR)

static struct xp_world world;

/*
 * LP 1 enters and writes the page (a RW translation in its TLB); LP 0
 * restricts it to R and runs ETRACK, but sends no IPI, so LP 1 never
 * leaves. Returns EACCEPT's result; *index, *lin: the page.
 */
static int accept_under_a_stale_tlb(unsigned int plants, struct xp_env **env,
				    uint64_t *index, uint64_t *lin)
{
	const struct xp_layout layout = {
		.epc_pages = 16, .nr_lps = 2, .nr_tcs = 1, .data_pages = 1,
		.bare = true,
	};
	struct sgx_secinfo secinfo = { .flags = SGX_SECINFO_R };
	struct sgx_lp *os, *lp;
	uint64_t value = 7, epc;

	memset(&world, 0, sizeof(world));
	world.plants = plants;
	cr_assert_eq(xp_env_build(&world, &layout, env), 0);
	os = &world.cpu.lps[0];
	lp = &world.cpu.lps[1];
	*lin = xp_page_lin(*env, 0);
	epc = sgx_pgtable_lookup(&(*env)->pgtable, *lin)->frame;
	cr_assert(sgx_epc_index(&world.cpu, epc, index));
	cr_assert_eq(enclu_eenter(lp, xp_tcs_lin(*env, 0), XP_AEP), 0);
	cr_assert_eq(sgx_lp_write(lp, *lin, &value, sizeof(value)), 0);
	cr_assert_eq(encls_emodpr(os, &secinfo, epc), 0);
	cr_assert_eq(encls_etrack(os, (*env)->bare_secs), 0);
	cr_assert_null(xp_check_step(*env), "the window is architectural");
	secinfo.flags = ACCEPT_R;
	cr_assert_eq(sgx_lp_write(lp, xp_op_lin(*env), &secinfo,
				  sizeof(secinfo)),
		     0);
	return enclu_eaccept(lp, xp_op_lin(*env), *lin);
}

Test(security, a_stale_translation_after_an_accepted_restriction)
{
	uint64_t index, lin;
	struct xp_env *env;
	const char *why;

	cr_expect_eq(accept_under_a_stale_tlb(0, &env, &index, &lin),
		     SGX_NOT_TRACKED);
	xp_env_destroy(&world);
	cr_assert_eq(accept_under_a_stale_tlb(SGX_PLANT_EACCEPT_UNTRACKED,
					      &env, &index, &lin),
		     0);
	xp_record_accept(env, index, lin);
	why = xp_check_step(env);
	cr_assert_not_null(why);
	cr_expect(!strncmp(why, "security: LP 1", 14), "%s", why);
	xp_env_destroy(&world);
}
