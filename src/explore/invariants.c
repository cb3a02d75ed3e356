// SPDX-License-Identifier: MIT
/*
 * The invariants of the issue, checked after every step and at the end of
 * a run (world.h). After every step:
 * - the arch invariants, sgx_cpu_check();
 * - the security property: once an EACCEPT of a restriction succeeded, no
 *   LP holds a translation of that page with more rights than its EPCM
 *   entry, for as long as the entry was not changed again (a new EMODPR,
 *   EMODT or EBLOCK stamps it, EREMOVE or EWB invalidates it);
 * - no unexpected ENCLS result: drv.stats.encls_warnings stays 0;
 * - a bounded hold of encl->lock, counted in the ENCLS leaves one hold runs
 *   (one page's work plus one ETRACK round, with its EWB retries, is far
 *   below the bound);
 * - whatever a thread found wrong on the way (w->violation).
 * When RESTRICT_PERMISSIONS or MODIFY_TYPES returns, every page in
 * [offset, offset + count) must be modified and tracked (the callers in
 * scenarios.c check it at once, before anything else can run). At the
 * end of a run that finished: the process closes the enclave and exits,
 * and every EPC page must be free again with no warning.
 *
 * The arch state only changes through leaves, TLB fills and flushes and
 * AEXs, all counted in cpu->stats, so a step that moved none of those
 * counters cannot have broken an arch invariant or the security property:
 * those checks are skipped then, which keeps steps cheap.
 */
#include "explore/world.h"

#include <errno.h>
#include <stdio.h>

#include "kernel/encl.h"

/* ENCLS leaves within one hold of encl->lock, at most. */
#define XP_HOLD_ENCLS_MAX 16

static uint64_t xp_encls_count(const struct sgx_cpu *cpu)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < SGX_STATS_ENCLS_LEAVES; i++)
		n += cpu->stats.encls[i];
	return n;
}

/*
 * Everything that can change what the step checks look at: leaves, TLB
 * fills and flushes, AEXs. An access that hits the TLB changes nothing
 * they look at, nor does one that faults (its AEX is counted).
 */
static uint64_t xp_arch_events(const struct sgx_cpu *cpu)
{
	const struct sgx_arch_stats *st = &cpu->stats;
	uint64_t n = xp_encls_count(cpu) + st->aex + st->tlb_flush +
		     st->tlb_fill;

	for (unsigned int i = 0; i < SGX_STATS_ENCLU_LEAVES; i++)
		n += st->enclu[i];
	return n;
}

static uint8_t xp_epcm_rights(const struct epcm_entry *e)
{
	return (uint8_t)(e->r * SGX_SECINFO_R | e->w * SGX_SECINFO_W |
			 e->x * SGX_SECINFO_X);
}

/**
 * xp_record_accept() - an EACCEPT of a restriction of the page at @lin,
 * EPC page @index, just succeeded: from now on the security property
 * holds for it.
 * @env: the execution
 * @index: the EPC page
 * @lin: its enclave address
 */
void xp_record_accept(struct xp_env *env, uint64_t index, uint64_t lin)
{
	struct xp_checker *chk = &env->chk;
	const struct epcm_entry *e = sgx_epcm(&env->w->cpu, index);
	struct xp_record r = { index, lin, e->enclave_secs };

	for (unsigned int i = 0; i < chk->nr_records; i++) {
		if (chk->records[i].index == index) {
			chk->records[i] = r;
			return;
		}
	}
	if (chk->nr_records == XP_RECORDS_MAX) {
		xp_violation(env, "explorer: more than %d accepted "
			     "restrictions to follow", XP_RECORDS_MAX);
		return;
	}
	chk->records[chk->nr_records++] = r;
}

/* Whether the page is still the one accepted, with no change since. */
static bool xp_record_live(const struct sgx_cpu *cpu,
			   const struct xp_record *r)
{
	const struct epcm_entry *e = sgx_epcm(cpu, r->index);

	return e->valid && e->enclave_address == r->lin &&
	       e->enclave_secs == r->secs && !e->track_stamp;
}

/* A translation of the page on lp with rights the EPCM does not grant. */
static bool xp_tlb_exceeds(const struct sgx_lp *lp, const struct xp_record *r,
			   uint64_t frame, uint8_t rights)
{
	const struct sgx_tlb_entry *t =
		&lp->tlb[(r->lin >> PAGE_SHIFT) % SGX_TLB_ENTRIES];

	return t->gen == lp->tlb_gen && t->vpn == r->lin >> PAGE_SHIFT &&
	       t->frame == frame && (t->rights & ~rights);
}

static const char *xp_check_records(struct xp_env *env)
{
	static char why[160];
	const struct sgx_cpu *cpu = &env->w->cpu;
	struct xp_checker *chk = &env->chk;

	for (unsigned int i = 0; i < chk->nr_records;) {
		const struct xp_record *r = &chk->records[i];
		uint64_t frame = sgx_epc_addr(cpu, r->index);
		uint8_t rights;

		if (!xp_record_live(cpu, r)) {
			chk->records[i] = chk->records[--chk->nr_records];
			continue;
		}
		rights = xp_epcm_rights(sgx_epcm(cpu, r->index));
		for (unsigned int k = 0; k < cpu->cfg.nr_lps; k++) {
			if (!xp_tlb_exceeds(&cpu->lps[k], r, frame, rights))
				continue;
			snprintf(why, sizeof(why),
				 "security: LP %u can use page %#llx with more "
				 "rights than its EPCM after EACCEPT of its "
				 "restriction", k, (unsigned long long)r->lin);
			return why;
		}
		i++;
	}
	return NULL;
}

/*
 * The ENCLS leaves its holder ran within the current hold of encl->lock;
 * a second enclave's leaves, run meanwhile under its own lock by another
 * thread, are not this hold's.
 */
static const char *xp_check_hold(struct xp_env *env)
{
	const struct sgx_mutex *m = &env->encl->lock;
	struct xp_checker *chk = &env->chk;
	uint64_t encls = xp_encls_count(&env->w->cpu);
	uint64_t step = encls - chk->encls_seen;

	chk->encls_seen = encls;
	/* impl[0] is the sim's owner field: 0 while free, else the id + 1. */
	if (!m->impl[0])
		return NULL;
	if (m->acquisitions != chk->hold_acquisitions) {
		chk->hold_acquisitions = m->acquisitions;
		chk->hold_encls = 0;
		return NULL;
	}
	if (m->impl[0] == (uint64_t)env->w->sim.last + 1)
		chk->hold_encls += step;
	if (chk->hold_encls > XP_HOLD_ENCLS_MAX)
		return "mutex: encl->lock held for more than 16 ENCLS leaves";
	return NULL;
}

/**
 * xp_check_step() - the invariants after one step.
 * @env: the execution
 *
 * Return: NULL, or what was violated (a static string).
 */
const char *xp_check_step(struct xp_env *env)
{
	static char why[200];
	struct xp_world *w = env->w;
	const char *broken;
	uint64_t events;

	if (w->violation[0])
		return w->violation;
	if (env->driver && w->drv.stats.encls_warnings)
		return "driver: an unexpected ENCLS result (encls_warnings)";
	if (env->encl) {
		broken = xp_check_hold(env);
		if (broken)
			return broken;
	}
	events = xp_arch_events(&w->cpu);
	if (events == env->chk.arch_events)
		return NULL;
	env->chk.arch_events = events;
	/* First the property itself, then the invariants that imply it. */
	broken = xp_check_records(env);
	if (broken)
		return broken;
	broken = sgx_cpu_check(&w->cpu);
	if (broken) {
		snprintf(why, sizeof(why), "arch: %s", broken);
		return why;
	}
	return NULL;
}

/* The EPCM entry of a resident, unblocked page of the range, or NULL. */
static const struct epcm_entry *xp_settled(struct xp_env *env,
					   struct sgx_encl *encl, uint64_t off,
					   uint64_t *index,
					   struct sgx_encl_page **entry)
{
	const struct epcm_entry *e;

	*entry = sgx_encl_lookup(encl, env->base + off);
	if (!*entry) {
		xp_violation(env, "driver: page %#llx of the range is gone",
			     (unsigned long long)off);
		return NULL;
	}
	/* An evicted page was tracked for EWB; a blocked one will be. */
	if (!(*entry)->epc_page)
		return NULL;
	*index = (*entry)->epc_page->index;
	e = sgx_epcm(&env->w->cpu, *index);
	return e->blocked ? NULL : e;
}

/* The scenario page at offset off. */
static unsigned int xp_page_at(const struct xp_env *env, uint64_t off)
{
	return (unsigned int)((off - xp_page_offset(env, 0)) / PAGE_SIZE);
}

/**
 * xp_check_restricted() - RESTRICT_PERMISSIONS just returned with @count:
 * every page of [@offset, @offset + @count) has EPCM.PR and rights within
 * @perm, and is tracked, unless the enclave accepted it already.
 * @env: the execution
 * @encl: the enclave, alive while the caller holds its file
 * @offset: the ioctl's offset
 * @count: the count it returned
 * @perm: the permissions it asked for
 */
void xp_check_restricted(struct xp_env *env, struct sgx_encl *encl,
			 uint64_t offset, uint64_t count, uint64_t perm)
{
	for (uint64_t off = offset; off < offset + count; off += PAGE_SIZE) {
		unsigned int page = xp_page_at(env, off);
		struct sgx_encl_page *entry;
		const struct epcm_entry *e;
		uint64_t index;

		e = xp_settled(env, encl, off, &index, &entry);
		if (!e)
			continue;
		if (e->pr && !sgx_page_tracked(&env->w->cpu, index))
			xp_violation(env, "driver: RESTRICT_PERMISSIONS "
				     "counted page %u, whose EMODPR is not "
				     "tracked", page);
		if (!e->pr && !env->accepted[page])
			xp_violation(env, "driver: RESTRICT_PERMISSIONS "
				     "counted page %u, not restricted", page);
		if ((xp_epcm_rights(e) & ~perm) && !env->extended[page])
			xp_violation(env, "driver: page %u has rights beyond "
				     "the restriction", page);
	}
}

/**
 * xp_check_modified() - MODIFY_TYPES just returned with @count: every page
 * of [@offset, @offset + @count) is MODIFIED to @type and tracked, unless
 * the enclave accepted it already, and the driver records @type.
 * @env: the execution
 * @encl: the enclave, alive while the caller holds its file
 * @offset: the ioctl's offset
 * @count: the count it returned
 * @type: the type it asked for
 */
void xp_check_modified(struct xp_env *env, struct sgx_encl *encl,
		       uint64_t offset, uint64_t count,
		       enum sgx_page_type type)
{
	for (uint64_t off = offset; off < offset + count; off += PAGE_SIZE) {
		unsigned int page = xp_page_at(env, off);
		struct sgx_encl_page *entry;
		const struct epcm_entry *e;
		uint64_t index;

		e = xp_settled(env, encl, off, &index, &entry);
		if (entry && sgx_encl_page_type_now(entry) != type)
			xp_violation(env, "driver: MODIFY_TYPES counted page "
				     "%u, recorded as type %u", page,
				     sgx_encl_page_type_now(entry));
		if (!e)
			continue;
		if (e->pt != type || (!e->modified && !env->accepted[page]))
			xp_violation(env, "driver: MODIFY_TYPES counted page "
				     "%u, not modified", page);
		else if (e->modified && !sgx_page_tracked(&env->w->cpu, index))
			xp_violation(env, "driver: MODIFY_TYPES counted page "
				     "%u, whose EMODT is not tracked", page);
	}
}

/**
 * xp_check_end() - the checks at the end of a run: if it finished, the
 * process closes the enclave and exits, and every EPC page must be free,
 * with no ENCLS warning on the way.
 * @env: the execution
 * @run_result: what sim_run() returned
 *
 * Return: NULL, or what was violated (a static string). A run that did not
 * finish is left to the explorer, which reports deadlocks and livelocks.
 */
const char *xp_check_end(struct xp_env *env, int run_result)
{
	static char why[160];
	struct xp_world *w = env->w;

	if (w->violation[0])
		return w->violation;
	if (run_result)
		return NULL;
	xp_env_teardown(env);
	if (!env->driver)
		return NULL;
	if (w->drv.stats.encls_warnings)
		return "driver: an unexpected ENCLS result (encls_warnings)";
	if (w->drv.nr_free_pages != w->cpu.cfg.epc_pages) {
		snprintf(why, sizeof(why), "driver: %llu EPC pages leaked "
			 "after close and exit",
			 (unsigned long long)(w->cpu.cfg.epc_pages -
					      w->drv.nr_free_pages));
		return why;
	}
	return NULL;
}

/*
 * The tracking of the call may have failed: -EFAULT with result 0 not at a
 * hole (the ETRACK flow failed), or -EAGAIN (SECS could not be loaded for
 * it; a busy page gives -EAGAIN too, after tracking, which this accepts).
 */
static bool xp_tracking_failed(struct xp_env *env, struct sgx_encl *encl,
			       uint64_t at, long ret, uint64_t result)
{
	if (ret == -EAGAIN)
		return true;
	return ret == -EFAULT && !result &&
	       sgx_encl_lookup(encl, env->base + at);
}

/**
 * xp_check_after_count() - an EDMM call returned @ret with @count: every
 * page of its range after @count is tracked (or waits for the reclaimer's
 * EBLOCK, or is not resident), unless the call's tracking failed, or an
 * earlier call's did and left it so (env->untracked, until a call counts
 * it). Every other exit of the walk tracks what it modified first. And
 * the driver records no new type of an untracked page (MODIFY_TYPES).
 * @env: the execution
 * @encl: the enclave, alive while the caller holds its file
 * @offset: the ioctl's offset
 * @length: its length
 * @count: the count it returned
 * @ret: its return value
 * @result: its result field
 */
void xp_check_after_count(struct xp_env *env, struct sgx_encl *encl,
			  uint64_t offset, uint64_t length, uint64_t count,
			  long ret, uint64_t result)
{
	bool failed = xp_tracking_failed(env, encl, offset + count, ret,
					 result);

	for (uint64_t off = offset; off < offset + count; off += PAGE_SIZE)
		env->untracked[xp_page_at(env, off)] = false;
	for (uint64_t off = offset + count; off < offset + length;
	     off += PAGE_SIZE) {
		struct sgx_encl_page *entry = sgx_encl_lookup(encl,
							      env->base + off);
		unsigned int page = xp_page_at(env, off);
		const struct epcm_entry *e;

		if (!entry || !entry->epc_page)
			continue;
		e = sgx_epcm(&env->w->cpu, entry->epc_page->index);
		if (e->blocked ||
		    sgx_page_tracked(&env->w->cpu, entry->epc_page->index))
			continue;
		if (e->modified && sgx_encl_page_type_now(entry) == e->pt)
			xp_violation(env, "driver: page %u after count "
				     "recorded as type %u before its EMODT "
				     "was tracked", page, e->pt);
		if (failed)
			env->untracked[page] = true;
		else if (!env->untracked[page])
			xp_violation(env, "driver: the call returned %ld with "
				     "page %u after count not tracked",
				     ret, page);
	}
}
