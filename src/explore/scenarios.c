// SPDX-License-Identifier: MIT
/*
 * The scenarios (architecture.md section 5.6: "the windows between pages are
 * real, and the explorer must cover them"). Each is small and sharp: one
 * EDMM ioctl by a user thread against one adversary, with enclave threads
 * that are inside while it runs and accept its pages afterwards.
 *
 *   restrict_vs_reclaim   RESTRICT_PERMISSIONS of 2 pages against two
 *                         reclaimer batches, on an EPC so small that each
 *                         batch evicts every page, SECS included
 *   restrict_hole_vs_reclaim  the same over 2 pages and a hole, so the
 *                         call exits early, maybe with SECS evicted
 *   restrict_vs_reclaim4  the same with 4 pages (the speed benchmark)
 *   restrict_vs_etrack_fault  the same, with the call's first ETRACK flow
 *                         failing (injected): -EFAULT, retried from
 *                         offset + count until the whole range is done
 *   modify_vs_reclaim     MODIFY_TYPES of 2 pages to TCS, same adversary
 *   remove_vs_reclaim     MODIFY_TYPES to TRIM, EACCEPT, REMOVE_PAGES
 *   restrict_vs_eaug      RESTRICT_PERMISSIONS while an enclave thread adds
 *                         pages through EAUG faults (EACCEPT, EACCEPTCOPY)
 *   restrict_vs_ethreads  enclave threads entering, exiting, accessing and
 *                         EACCEPTing early: before tracking only
 *                         SGX_NOT_TRACKED or a mismatch, never success
 *   restrict_vs_close     a thread unmaps and closes the enclave while the
 *                         ioctl holds its file and the reclaimer runs
 *   restrict_vs_fork_exit a fork's child is inside with a RW translation
 *                         and its process exits at any step
 *   restrict_vs_eaug_in_range  an EAUG fills a hole inside the range
 *                         while the walk runs
 *   restrict_vs_mprotect  mprotect() of the range, to R and back
 *   ethreads_migrate_vs_reclaim  4 pages, two reclaimer batches, enclave
 *                         threads re-entering and migrating between LPs
 *   restrict_vs_two_lps   enclave threads inside on two LPs throughout
 *   two_enclaves_vs_reclaim  a second enclave's thread shares the EPC
 *   hole_vs_full_epc      restrict_hole_vs_reclaim with the EPC full for
 *                         one step, at any step (SECS reload fails)
 *   adversarial_driver    no driver: a thread issues random well-formed
 *                         ENCLS sequences (and IPIs only when it chooses);
 *                         the CPU alone must uphold the security property
 *
 * LPs: 0 the user thread, 1 the reclaimer or the adversary, 2 and 3 the
 * enclave threads (and 4 and 5 when they migrate), 4 the closer or the
 * mprotector. The signaller and the EPC hog use no LP state: they run on
 * LP 0. Flags: 0 "the ioctl returned", 1 "the pages are accepted",
 * 2 and 3 "enclave thread a (b) is inside", which the user thread may
 * wait for before its call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "explore/world.h"
#include "kernel/encl.h"
#include "sgxemu/uapi.h"

#define XP_OPS_MAX 40
/* EDMM calls retried from offset + count before it counts as no progress. */
#define XP_RETRIES_MAX 8
#define XP_ADVERSARY_STEPS 24
#define XP_HOG_MAX 64 /* EPC pages the EPC hog can hold */

#define LP_USER 0
#define LP_KERNEL 1
#define LP_ETHREAD_A 2
#define LP_ETHREAD_B 3
#define LP_CLOSER 4

#define FLAG_RETURNED 0
#define FLAG_ACCEPTED 1
#define FLAG_INSIDE_A 2
#define FLAG_INSIDE_B 3

#define REG SGX_SECINFO_TYPE(PT_REG)
#define R SGX_SECINFO_R
#define W SGX_SECINFO_W
#define ACCEPT_R (REG | R | SGX_SECINFO_PR)
#define ACCEPT_AUG (REG | R | W | SGX_SECINFO_PENDING)
#define ACCEPT_TCS (SGX_SECINFO_TYPE(PT_TCS) | SGX_SECINFO_MODIFIED)
#define ACCEPT_TRIM (SGX_SECINFO_TYPE(PT_TRIM) | SGX_SECINFO_MODIFIED)

/* What the adversary knows of one enclave page (adversarial_driver). */
struct xp_adv_page {
	uint64_t lin;
	bool resident, evicted;
	uint64_t index; /* EPC page, when resident */
	unsigned int va_slot; /* when evicted */
	struct sgx_backing_page *backing;
};

#define XP_ADV_PAGES (2 * XP_TCS_MAX + 1 + XP_PAGES_MAX)

struct xp_adversary {
	uint64_t rng;
	struct xp_adv_page pages[XP_ADV_PAGES];
	unsigned int nr_pages;
	bool va_used[SGX_VA_SLOT_COUNT];
};

/* A scenario's own state (env->scenario). */
struct xp_script {
	unsigned int cmd; /* the EDMM ioctl of the user thread */
	unsigned int first, pages; /* its range, in scenario pages */
	unsigned int holes; /* and then holes: the call ends in -EFAULT */
	uint64_t arg; /* permissions or page type */
	bool remove; /* then REMOVE_PAGES once the pages are accepted */
	bool hold_file; /* the ioctl holds the file (fdget): a closer runs */
	unsigned int batches; /* of the reclaimer; 0: none */
	bool etrack_faults; /* injected: -EFAULT is worth a retry */
	bool signal; /* a signaller interrupts the user thread once */
	/* An enclave thread EAUGs the hole: the call may find it pending. */
	bool aug_hole;
	/* The user thread waits for these flags before its call (bits). */
	unsigned int wait_flags;
	/* Enclave threads (bits) that run in the second enclave. */
	unsigned int in_second;
	bool hog; /* an EPC hog fills the EPC for a step: -EFAULT waits */
	unsigned int user_id; /* the user thread's sim id */
	struct xp_eop prog[XP_ETHREADS_MAX][XP_OPS_MAX];
	unsigned int len[XP_ETHREADS_MAX];
	struct xp_adversary adv;
};

static struct xp_env *xp_env_of(struct xp_world *w)
{
	return w->priv;
}

static struct xp_script *xp_script_of(struct xp_env *env)
{
	return env->scenario;
}

/* ---- Programs ---------------------------------------------------------- */

static void op(struct xp_script *sc, unsigned int t, uint8_t kind,
	       unsigned int page, uint64_t arg, uint16_t allow, uint8_t tries)
{
	ASSERT(sc->len[t] + 1 < XP_OPS_MAX); /* room for XP_EOP_END */
	sc->prog[t][sc->len[t]++] = (struct xp_eop){
		.kind = kind, .page = (uint8_t)page, .arg = arg,
		.allow = allow, .tries = tries,
	};
}

/* EACCEPT every page of the ioctl's range with flags, after it returned. */
static void op_accept_range(struct xp_script *sc, unsigned int t,
			    uint64_t flags)
{
	op(sc, t, XP_EOP_WAIT, 0, FLAG_RETURNED, 0, 0);
	for (unsigned int i = 0; i < sc->pages; i++)
		op(sc, t, XP_EOP_EACCEPT, sc->first + i, flags, 0, 0);
}

/* ---- The user thread: the EDMM ioctl and what must hold after it ------- */

static const char *xp_cmd_name(unsigned int cmd)
{
	if (cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS)
		return "RESTRICT_PERMISSIONS";
	if (cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES)
		return "MODIFY_TYPES";
	return "REMOVE_PAGES";
}

/* The pages of [offset, offset + count) are gone from the enclave. */
static void xp_check_removed(struct xp_env *env, struct sgx_encl *encl,
			     uint64_t offset, uint64_t count)
{
	for (uint64_t off = offset; off < offset + count; off += PAGE_SIZE)
		if (sgx_encl_lookup(encl, env->base + off))
			xp_violation(env, "driver: REMOVE_PAGES counted page "
				     "%#llx, still there",
				     (unsigned long long)off);
}

/*
 * One EDMM ioctl, and the driver invariant for what it counted, checked
 * before anything else runs. Returns the ioctl's result; *count the bytes.
 */
static long xp_edmm_once(struct xp_env *env, struct sgx_file *file,
			 unsigned int cmd, uint64_t offset, uint64_t length,
			 uint64_t arg, uint64_t *count)
{
	union {
		struct sgx_enclave_restrict_permissions rp;
		struct sgx_enclave_modify_types mt;
		struct sgx_enclave_remove_pages rm;
	} u;
	const struct xp_script *sc = xp_script_of(env);
	uint64_t result = 0;
	long ret;

	/* The three share offset and length, then differ. */
	memset(&u, 0, sizeof(u));
	u.rm.offset = offset;
	u.rm.length = length;
	if (cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS)
		u.rp.permissions = arg;
	else if (cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES)
		u.mt.page_type = arg;
	xp_trace_span(env->w, xp_cmd_name(cmd), true);
	ret = sgx_ioctl(file, cmd, (unsigned long)(uintptr_t)&u);
	xp_trace_span(env->w, xp_cmd_name(cmd), false);
	if (cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS) {
		*count = u.rp.count;
		result = u.rp.result;
		xp_check_restricted(env, file->encl, offset, *count, arg);
	} else if (cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES) {
		*count = u.mt.count;
		result = u.mt.result;
		xp_check_modified(env, file->encl, offset, *count,
				  (enum sgx_page_type)arg);
	} else {
		*count = u.rm.count;
		xp_check_removed(env, file->encl, offset, *count);
	}
	if (cmd != SGX_IOC_ENCLAVE_REMOVE_PAGES)
		xp_check_after_count(env, file->encl, offset, length, *count,
				     ret, result);
	if (result == SGX_PAGE_NOT_MODIFIABLE && sc->aug_hole)
		result = 0;
	if (result || *count > length || *count % PAGE_SIZE)
		xp_violation(env, "driver: %s returned count %#llx, result "
			     "%#llx", xp_cmd_name(cmd),
			     (unsigned long long)*count,
			     (unsigned long long)result);
	return ret;
}

/*
 * A pending signal ended the call (-ERESTARTSYS, or 0 with a partial
 * count): the handler runs, and the call is repeated from offset + count.
 */
static bool xp_signal_delivered(struct xp_env *env, long ret)
{
	struct sim_thread *self = sim_current(&env->w->sim);

	if ((ret && ret != -ERESTARTSYS) || !self->signal_pending)
		return false;
	self->signal_pending = false;
	return true;
}

/*
 * The ioctl over the script's range, repeated from offset + count while it
 * answers -EAGAIN or -EBUSY (the reclaimer holds a page), as user space
 * does. MODEL: a repeat first waits for the reclaimer to finish a batch,
 * the only thing that can change the answer, where real user space would
 * spin. A range that ends in holes must end in Linux's -EFAULT for the
 * first one, with every page before it counted. Where ETRACK failures are
 * injected, -EFAULT is retried at once: the failures run out, and the
 * retry must then complete the range (issue 5's convergence rule). Where
 * the EPC is full for a step (the EPC hog), -EFAULT is retried once it has
 * room again, which Linux's user space would have to learn otherwise.
 */
static void xp_edmm(struct xp_env *env, struct sgx_file *file,
		    unsigned int cmd, uint64_t arg)
{
	const struct xp_script *sc = xp_script_of(env);
	uint64_t offset = xp_page_offset(env, sc->first);
	uint64_t pages = (uint64_t)sc->pages * PAGE_SIZE;
	uint64_t length = pages + (uint64_t)sc->holes * PAGE_SIZE;
	uint64_t done = 0, count;

	for (unsigned int tries = 0;; tries++) {
		uint64_t seen = env->reclaims;
		long ret = xp_edmm_once(env, file, cmd, offset + done,
					length - done, arg, &count);

		done += count;
		if (!ret && done == length)
			return;
		if (xp_signal_delivered(env, ret))
			continue;
		if (ret == -EFAULT && sc->holes && done == pages)
			return;
		if (ret == -EFAULT && sc->etrack_faults &&
		    tries < XP_RETRIES_MAX) {
			if (sc->hog)
				xp_env_wait_epc(env, seen);
			continue;
		}
		if ((ret != -EAGAIN && ret != -EBUSY) ||
		    tries == XP_RETRIES_MAX) {
			xp_violation(env, "driver: %s failed: %ld after %#llx "
				     "bytes", xp_cmd_name(cmd), ret,
				     (unsigned long long)done);
			return;
		}
		xp_env_wait_epc(env, seen);
	}
}

/* fdget(): a syscall holds the file, if it is still open. */
static struct sgx_file *xp_fdget(struct xp_env *env)
{
	struct xp_world *w = env->w;

	if (!w->file)
		return NULL;
	return xp_script_of(env)->hold_file ? get_file(w->file) : w->file;
}

static void xp_fdput(struct xp_env *env, struct sgx_file *file)
{
	if (xp_script_of(env)->hold_file)
		fput(file);
}

static void xp_user_main(void *arg)
{
	struct xp_env *env = arg;
	struct xp_script *sc = xp_script_of(env);
	struct sgx_lp *lp = &env->w->cpu.lps[LP_USER];
	struct sgx_file *file = xp_fdget(env);

	sgx_mm_activate(env->w->mm, lp);
	for (unsigned int f = 0; f < XP_FLAGS_MAX; f++)
		if (sc->wait_flags & 1U << f)
			xp_env_wait(env, &env->flags[f], NULL, 0);
	if (file) {
		xp_edmm(env, file, sc->cmd, sc->arg);
		xp_fdput(env, file);
	}
	env->flags[FLAG_RETURNED] = true;
	xp_env_wake(env);
	if (sc->remove) {
		xp_env_wait(env, &env->flags[FLAG_ACCEPTED], NULL, 0);
		file = xp_fdget(env);
		if (file) {
			xp_edmm(env, file, SGX_IOC_ENCLAVE_REMOVE_PAGES, 0);
			xp_fdput(env, file);
		}
	}
	sgx_mm_deactivate(env->w->mm, lp);
}

/* ---- The reclaimer and the closer -------------------------------------- */

/*
 * A signal for the user thread, at whatever step the schedule puts this.
 * It runs on the user thread's LP (it uses none of the LP's state).
 */
static void xp_signaller_main(void *arg)
{
	struct xp_env *env = arg;

	env->w->sim.threads[xp_script_of(env)->user_id].signal_pending = true;
}

/* Batches of the reclaimer, as ksgxd would run them under EPC pressure. */
static void xp_reclaimer_main(void *arg)
{
	struct xp_env *env = arg;
	const struct xp_script *sc = xp_script_of(env);

	struct xp_env *two = env->second;

	for (unsigned int i = 0; i < sc->batches; i++) {
		sgx_reclaim_pages(&env->w->drv);
		env->reclaims++;
		if (two)
			two->reclaims++;
		xp_env_wake(env);
	}
	env->reclaimer_done = true;
	if (two)
		two->reclaimer_done = true;
	xp_env_wake(env);
}

/*
 * munmap() of the whole enclave, then close(). The enclave may be released
 * from here on, by whoever drops the last reference, so the step checks
 * stop looking at its lock.
 */
static void xp_closer_main(void *arg)
{
	struct xp_env *env = arg;
	struct xp_world *w = env->w;
	struct sgx_file *file = w->file;

	sgx_mm_activate(w->mm, &w->cpu.lps[LP_CLOSER]);
	env->encl = NULL;
	if (sgx_munmap(w->mm, env->base, env->size))
		xp_violation(env, "driver: munmap of the enclave failed");
	w->file = NULL;
	sgx_release(file);
	sgx_mm_deactivate(w->mm, &w->cpu.lps[LP_CLOSER]);
}

/* ---- Building the driver scenarios ------------------------------------- */

static int xp_script_new(struct xp_world *w, const struct xp_layout *layout,
			 struct xp_env **env, struct xp_script **sc)
{
	int ret = xp_env_build(w, layout, env);

	if (ret)
		return ret;
	*sc = calloc(1, sizeof(**sc));
	if (!*sc)
		return -ENOMEM;
	(*env)->scenario = *sc;
	return 0;
}

/* Spawn the user thread, the reclaimer (if any) and the programs. */
static int xp_script_spawn(struct xp_env *env, struct xp_script *sc)
{
	static const char *const names[] = { "ethread-a", "ethread-b",
					     "ethread-c" };
	int ret;

	sc->user_id = env->w->sim.nr_threads;
	ret = xp_env_spawn(env, "user", LP_USER, xp_user_main, env);
	env->reclaimer_done = !sc->batches;
	if (env->second)
		env->second->reclaimer_done = !sc->batches;
	if (!ret && sc->signal)
		ret = xp_env_spawn(env, "signaller", LP_USER,
				   xp_signaller_main, env);
	if (!ret && sc->batches)
		ret = xp_env_spawn(env, "reclaimer", LP_KERNEL,
				   xp_reclaimer_main, env);
	for (unsigned int t = 0; !ret && t < XP_ETHREADS_MAX; t++)
		if (sc->len[t])
			ret = xp_ethread_spawn(sc->in_second & 1U << t ?
					       env->second : env,
					       names[t], LP_ETHREAD_A + t,
					       sc->prog[t]);
	return ret;
}

/*
 * An EPC of the enclave's pages, its SECS and VA page, and three spare:
 * one reclaimer batch takes every child that is not young, and then SECS.
 */
static uint64_t xp_tight_epc(unsigned int nr_tcs, unsigned int pages)
{
	return 2ULL * nr_tcs + 1 + pages + 2 + 3;
}

static int xp_restrict_vs_reclaim(struct xp_world *w, unsigned int pages)
{
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, pages),
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = pages,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = pages;
	sc->arg = R;
	sc->batches = 1;
	/* Inside during the ioctl, using a page through its TLB. */
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 0, 0, XP_OUT_OK | XP_OUT_EPCM, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

static int restrict_vs_reclaim_build(struct xp_world *w)
{
	return xp_restrict_vs_reclaim(w, 2);
}

/*
 * The range ends in a hole, so the call always exits early there, with
 * pages that a batch may not have tracked yet, and SECS possibly evicted
 * in the window before: the early exit must track them, SECS loaded first.
 */
static int restrict_hole_vs_reclaim_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, 2),
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = 2,
		.holes = 1,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->holes = 1;
	sc->arg = R;
	sc->batches = 1;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

static int restrict_vs_reclaim4_build(struct xp_world *w)
{
	return xp_restrict_vs_reclaim(w, 4);
}

/*
 * Both ETRACKs of the call's first flow fail (its retry included), so the
 * flow fails: the call must return -EFAULT with a count that leaves out
 * every page the flow did not track, and a retry from offset + count must
 * finish the range. Against the reclaimer, as above.
 */
static int restrict_vs_etrack_fault_build(struct xp_world *w)
{
	int ret = xp_restrict_vs_reclaim(w, 4);

	if (ret)
		return ret;
	xp_script_of(xp_env_of(w))->etrack_faults = true;
	w->drv.inject.etrack_fail = 2;
	return 0;
}

/*
 * A signal at any step of RESTRICT_PERMISSIONS of 2 pages, against the
 * reclaimer: the call stops between pages (-ERESTARTSYS before the first,
 * else 0 with a partial count), every page it modified tracked first, and
 * is repeated from offset + count.
 */
static int restrict_vs_signal_build(struct xp_world *w)
{
	int ret = xp_restrict_vs_reclaim(w, 2);

	if (ret)
		return ret;
	xp_script_of(xp_env_of(w))->signal = true;
	return xp_env_spawn(xp_env_of(w), "signaller", LP_USER,
			    xp_signaller_main, xp_env_of(w));
}

/* MODIFY_TYPES of 2 pages to TRIM, accepted, against the reclaimer. */
static int xp_trim_vs_reclaim(struct xp_world *w, unsigned int pages)
{
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, pages),
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = pages,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_MODIFY_TYPES;
	sc->pages = pages;
	sc->arg = PT_TRIM;
	sc->batches = 1;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op_accept_range(sc, 0, ACCEPT_TRIM);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	return 0;
}

/* The same with a signal at any step, as restrict_vs_signal. */
static int trim_vs_signal_build(struct xp_world *w)
{
	int ret = xp_trim_vs_reclaim(w, 2);
	struct xp_script *sc;

	if (ret)
		return ret;
	sc = xp_script_of(xp_env_of(w));
	sc->signal = true;
	return xp_script_spawn(xp_env_of(w), sc);
}

/*
 * MODIFY_TYPES to TRIM whose first ETRACK flow fails (injected), under
 * concurrency: -EFAULT, retried with the same type from offset + count.
 */
static int trim_vs_etrack_fault_build(struct xp_world *w)
{
	int ret = xp_trim_vs_reclaim(w, 2);
	struct xp_script *sc;

	if (ret)
		return ret;
	sc = xp_script_of(xp_env_of(w));
	sc->etrack_faults = true;
	w->drv.inject.etrack_fail = 2;
	return xp_script_spawn(xp_env_of(w), sc);
}

static int modify_vs_reclaim_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, 2),
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = 2,
		.tcs_image = true,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_MODIFY_TYPES;
	sc->pages = 2;
	sc->arg = PT_TCS;
	sc->batches = 2;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op_accept_range(sc, 0, ACCEPT_TCS);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

static int remove_vs_reclaim_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, 2),
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = 2,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_MODIFY_TYPES;
	sc->pages = 2;
	sc->arg = PT_TRIM;
	sc->remove = true;
	sc->batches = 2;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_READ, 1, 2, XP_OUT_OK | XP_OUT_EPCM, 0);
	op_accept_range(sc, 0, ACCEPT_TRIM);
	op(sc, 0, XP_EOP_SIGNAL, 0, FLAG_ACCEPTED, 0, 0);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

/*
 * Holes 2 and 3 come through EAUG faults while pages 0 and 1 are being
 * restricted: EACCEPT first, then a write; EACCEPTCOPY, then a read of
 * what it copied.
 */
static int restrict_vs_eaug_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, 5) + 2,
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = 2,
		.holes = 2,
		.copy_page = true,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->arg = R;
	sc->batches = 1;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_EACCEPT, 2, ACCEPT_AUG, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 2, 0, 0, 0);
	op(sc, 0, XP_EOP_EACCEPTCOPY, 3, REG | R | W, 0, 0);
	op(sc, 0, XP_EOP_READ, 3, 1, 0, 0);
	op(sc, 0, XP_EOP_READ, 2, 0, 0, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

/*
 * Thread a enters, uses both pages, leaves and comes back while the ioctl
 * runs, then accepts, and extends page 0 again (EMODPE) to write it.
 * Thread b EACCEPTs each page three times at once:
 * before EMODPR that is a mismatch, before tracking SGX_NOT_TRACKED, and
 * success only once the change is tracked (the step checks say so).
 */
static int restrict_vs_ethreads_build(struct xp_world *w)
{
	const uint16_t early = XP_OUT_OK | XP_OUT_NOT_TRACKED |
			       XP_OUT_MISMATCH;
	const struct xp_layout layout = {
		.epc_pages = 16,
		.nr_lps = 4,
		.nr_tcs = 2,
		.data_pages = 2,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->arg = R;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 0, 0, XP_OUT_OK | XP_OUT_EPCM, 0);
	op(sc, 0, XP_EOP_READ, 1, 0, 0, 0);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 1, 1, XP_OUT_OK | XP_OUT_EPCM, 0);
	op(sc, 0, XP_EOP_READ, 0, 0, 0, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	/* Then it extends page 0 back to RW, and writes it again. */
	op(sc, 0, XP_EOP_EMODPE, 0, R | W, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 0, 2, 0, 0);
	op(sc, 0, XP_EOP_READ, 0, 2, 0, 0);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	op(sc, 1, XP_EOP_ENTER, 0, 1, 0, 0);
	op(sc, 1, XP_EOP_EACCEPT, 0, ACCEPT_R, early, 3);
	op(sc, 1, XP_EOP_EACCEPT, 1, ACCEPT_R, early, 3);
	op(sc, 1, XP_EOP_READ, 1, 1, 0, 0);
	op(sc, 1, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

/*
 * The closer unmaps and closes while the ioctl runs: the enclave thread
 * may be shut out at any point (a SIGSEGV, then nothing), and the enclave
 * is released by whoever drops the last reference.
 */
static int restrict_vs_close_build(struct xp_world *w)
{
	const uint16_t any = XP_OUT_OK | XP_OUT_EPCM | XP_OUT_SEGV |
			     XP_OUT_OUTSIDE;
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, 2),
		.nr_lps = 5,
		.nr_tcs = 1,
		.data_pages = 2,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->arg = R;
	sc->hold_file = true;
	sc->batches = 1;
	op(sc, 0, XP_EOP_ENTER, 0, 0, XP_OUT_OK | XP_OUT_SEGV, 0);
	op(sc, 0, XP_EOP_WRITE, 0, 0, any, 0);
	op(sc, 0, XP_EOP_READ, 1, 0, any, 0);
	op(sc, 0, XP_EOP_EACCEPT, 0, ACCEPT_R,
	   any | XP_OUT_NOT_TRACKED | XP_OUT_MISMATCH, 2);
	op(sc, 0, XP_EOP_EXIT, 0, 0, any, 0);
	ret = xp_script_spawn(env, sc);
	if (!ret)
		ret = xp_env_spawn(env, "closer", LP_CLOSER, xp_closer_main,
				   env);
	return ret;
}

/*
 * A fork's child maps the enclave too: its thread enters through TCS 1 on
 * LP 3 and writes page 0 (a RW translation) before the call, and its
 * process exits at any step of the call, or after it. The call's IPIs must reach the child's LP as long
 * as its mm is on the enclave's mm_list; thread a accepts on LP 2.
 */
static int restrict_vs_fork_exit_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = 16,
		.nr_lps = 4,
		.nr_tcs = 2,
		.data_pages = 2,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (!ret)
		ret = xp_env_fork(env);
	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->arg = R;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	sc->wait_flags = 1U << FLAG_INSIDE_B;
	op(sc, 1, XP_EOP_ENTER, 0, 1, 0, 0);
	op(sc, 1, XP_EOP_WRITE, 0, 0, XP_OUT_OK | XP_OUT_EPCM, 0);
	op(sc, 1, XP_EOP_SIGNAL, 0, FLAG_INSIDE_B, 0, 0);
	op(sc, 1, XP_EOP_MM_EXIT, 0, 0, 0, 0);
	ret = xp_script_spawn(env, sc);
	if (!ret)
		env->ethreads[1].mm = env->fork_mm;
	return ret;
}

/*
 * The hole after the two pages is inside the range, and an enclave thread
 * EAUGs it (an EACCEPT's fault) while the walk runs: the walk meets a hole
 * (-EFAULT), a pending page (SGX_PAGE_NOT_MODIFIABLE) or a regular page it
 * restricts; the pages before are tracked and counted in every case.
 */
static int restrict_vs_eaug_in_range_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, 3),
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = 2,
		.holes = 1,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->holes = 1;
	sc->aug_hole = true;
	sc->arg = R;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_EACCEPT, 2, ACCEPT_AUG, 0, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	/* Restricted only if the walk came after the EACCEPT. */
	op(sc, 0, XP_EOP_EACCEPT, 2, ACCEPT_R, XP_OUT_OK | XP_OUT_MISMATCH,
	   0);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

/* mprotect() of the call's pages to R and back to RW, at any step. */
static void xp_mprotector_main(void *arg)
{
	struct xp_env *env = arg;
	struct xp_world *w = env->w;
	uint64_t lin = xp_page_lin(env, 0);
	uint64_t len = (uint64_t)xp_script_of(env)->pages * PAGE_SIZE;

	sgx_mm_activate(w->mm, &w->cpu.lps[LP_CLOSER]);
	if (sgx_mprotect(w->mm, lin, len, SGX_PROT_READ) ||
	    sgx_mprotect(w->mm, lin, len, SGX_PROT_READ | SGX_PROT_WRITE))
		xp_violation(env, "driver: mprotect of the range failed");
	sgx_mm_deactivate(w->mm, &w->cpu.lps[LP_CLOSER]);
}

/*
 * mprotect() splits the enclave's VMA around the pages and changes their
 * PTEs while the walk runs: the thread's writes may fault (SIGSEGV while
 * they are read-only), the restriction still reaches every LP.
 */
static int restrict_vs_mprotect_build(struct xp_world *w)
{
	const uint16_t write = XP_OUT_OK | XP_OUT_EPCM | XP_OUT_SEGV;
	const struct xp_layout layout = {
		.epc_pages = 16,
		.nr_lps = 5,
		.nr_tcs = 1,
		.data_pages = 2,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->arg = R;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 0, 0, write, 0);
	op(sc, 0, XP_EOP_WRITE, 1, 0, write, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	ret = xp_script_spawn(env, sc);
	if (!ret)
		ret = xp_env_spawn(env, "mprotector", LP_CLOSER,
				   xp_mprotector_main, env);
	return ret;
}

/*
 * Four pages (two batches at batch 2) against two reclaimer batches, with
 * two enclave threads that leave and re-enter between pages and migrate
 * between LPs 2 to 5, inside (an interrupt's AEX, then ERESUME on the new
 * LP) or outside. Thread a accepts the range on the LP it ends on.
 */
static int ethreads_migrate_vs_reclaim_build(struct xp_world *w)
{
	const uint16_t use = XP_OUT_OK | XP_OUT_EPCM;
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(2, 4),
		.nr_lps = 6,
		.nr_tcs = 2,
		.data_pages = 4,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 4;
	sc->arg = R;
	sc->batches = 2;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 0, 0, use, 0);
	op(sc, 0, XP_EOP_MIGRATE, 0, 4, 0, 0);
	op(sc, 0, XP_EOP_READ, 2, 0, 0, 0);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_MIGRATE, 0, 2, 0, 0);
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	op(sc, 1, XP_EOP_ENTER, 0, 1, 0, 0);
	op(sc, 1, XP_EOP_WRITE, 3, 1, use, 0);
	op(sc, 1, XP_EOP_EXIT, 0, 0, 0, 0);
	op(sc, 1, XP_EOP_MIGRATE, 0, 5, 0, 0);
	op(sc, 1, XP_EOP_ENTER, 0, 1, 0, 0);
	op(sc, 1, XP_EOP_READ, 1, 1, 0, 0);
	op(sc, 1, XP_EOP_MIGRATE, 0, 3, 0, 0);
	op(sc, 1, XP_EOP_READ, 0, 1, 0, 0);
	op(sc, 1, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

/*
 * Two enclave threads inside on LPs 2 and 3 from before the call until the
 * restriction is accepted, each with translations of both pages: the IPI round of every flow must reach
 * both (at batch 0, the call's one flow).
 */
static int restrict_vs_two_lps_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = 16,
		.nr_lps = 4,
		.nr_tcs = 2,
		.data_pages = 2,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->arg = R;
	sc->wait_flags = 1U << FLAG_INSIDE_A | 1U << FLAG_INSIDE_B;
	for (unsigned int t = 0; t < 2; t++) {
		op(sc, t, XP_EOP_ENTER, 0, t, 0, 0);
		op(sc, t, XP_EOP_WRITE, t, t, XP_OUT_OK | XP_OUT_EPCM, 0);
		op(sc, t, XP_EOP_READ, 1 - t, 0, 0, 0);
		op(sc, t, XP_EOP_SIGNAL, 0, FLAG_INSIDE_A + t, 0, 0);
	}
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 1, XP_EOP_WAIT, 0, FLAG_ACCEPTED, 0, 0);
	op(sc, 0, XP_EOP_SIGNAL, 0, FLAG_ACCEPTED, 0, 0);
	for (unsigned int t = 0; t < 2; t++)
		op(sc, t, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

/*
 * Two enclaves of the same layout share an EPC that holds both with three
 * pages to spare, and the reclaimer's two batches take pages of both: the
 * user thread restricts enclave 1's pages while enclave 2's thread (b, on
 * LP 3) brings its own back with every access.
 */
static int two_enclaves_vs_reclaim_build(struct xp_world *w)
{
	const uint16_t use = XP_OUT_OK | XP_OUT_EPCM;
	const struct xp_layout layout = {
		.epc_pages = 2 * (xp_tight_epc(1, 2) - 3) + 3,
		.nr_lps = 4,
		.nr_tcs = 1,
		.data_pages = 2,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (!ret)
		ret = xp_env_second(env);
	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->arg = R;
	sc->batches = 2;
	sc->in_second = 1U << 1;
	op(sc, 0, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 0, XP_EOP_WRITE, 0, 0, use, 0);
	op_accept_range(sc, 0, ACCEPT_R);
	op(sc, 0, XP_EOP_EXIT, 0, 0, 0, 0);
	op(sc, 1, XP_EOP_ENTER, 0, 0, 0, 0);
	op(sc, 1, XP_EOP_WRITE, 0, 0, 0, 0);
	op(sc, 1, XP_EOP_READ, 1, 0, 0, 0);
	op(sc, 1, XP_EOP_WRITE, 1, 1, 0, 0);
	op(sc, 1, XP_EOP_READ, 0, 0, 0, 0);
	op(sc, 1, XP_EOP_EXIT, 0, 0, 0, 0);
	return xp_script_spawn(env, sc);
}

/*
 * Another allocation takes every free EPC page, at any step, and gives
 * them back at its next. MODEL: for one step of the hog the EPC is full of
 * pages that are allocated but not reclaimable, as another enclave's are
 * while it is being built; nothing else of that enclave is modelled.
 */
static void xp_epc_hog_main(void *arg)
{
	struct xp_env *env = arg;
	struct sgx_driver *drv = &env->w->drv;
	struct sgx_epc_page *taken[XP_HOG_MAX];
	unsigned int n = 0;
	int err;

	env->epc_hogged = true;
	while (n < XP_HOG_MAX &&
	       (taken[n] = sgx_alloc_epc_page(drv, NULL, false, &err)))
		n++;
	sim_yield(&env->w->sim);
	while (n)
		sgx_free_epc_page(drv, taken[--n]);
	env->epc_hogged = false;
	env->reclaims++;
	xp_env_wake(env);
}

/*
 * The range ends in a hole (an early exit) and the reclaimer may evict
 * SECS before it, while the EPC may be full for a step: the early exit's
 * SECS reload may find no free page. The call must then fail with its
 * pages untracked (-EAGAIN while a page is reclaimable, else -EFAULT), not
 * count them, and its repeat converge. A fault of the enclave thread in
 * that step may find no page either: a SIGBUS (Linux's answer too, when
 * nothing is reclaimable), after which it goes on.
 */
static int hole_vs_full_epc_build(struct xp_world *w)
{
	const uint16_t any = XP_OUT_OK | XP_OUT_SEGV | XP_OUT_OUTSIDE;
	const struct xp_layout layout = {
		.epc_pages = xp_tight_epc(1, 2),
		.nr_lps = 3,
		.nr_tcs = 1,
		.data_pages = 2,
		.holes = 1,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->cmd = SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS;
	sc->pages = 2;
	sc->holes = 1;
	sc->arg = R;
	sc->batches = 1;
	sc->etrack_faults = true;
	sc->hog = true;
	op(sc, 0, XP_EOP_ENTER, 0, 0, XP_OUT_OK | XP_OUT_SEGV, 0);
	op(sc, 0, XP_EOP_WAIT, 0, FLAG_RETURNED, 0, 0);
	for (unsigned int i = 0; i < sc->pages; i++)
		op(sc, 0, XP_EOP_EACCEPT, i, ACCEPT_R, any, 0);
	op(sc, 0, XP_EOP_EXIT, 0, 0, any, 0);
	ret = xp_script_spawn(env, sc);
	if (!ret)
		ret = xp_env_spawn(env, "epc-hog", LP_USER, xp_epc_hog_main,
				   env);
	return ret;
}

/* ---- adversarial_driver ------------------------------------------------ */

static uint64_t xp_adv_random(struct xp_adversary *adv)
{
	uint64_t z = adv->rng += 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int xp_adv_below(struct xp_adversary *adv, unsigned int n)
{
	return (unsigned int)(xp_adv_random(adv) % n);
}

/* A free EPC page: one that no enclave page of the adversary occupies. */
static bool xp_adv_free_page(struct xp_env *env, uint64_t *index)
{
	const struct sgx_cpu *cpu = &env->w->cpu;
	unsigned int start = xp_adv_below(&xp_script_of(env)->adv,
					  (unsigned int)cpu->cfg.epc_pages);

	for (uint64_t k = 0; k < cpu->cfg.epc_pages; k++) {
		uint64_t i = (start + k) % cpu->cfg.epc_pages;

		if (!sgx_epcm(cpu, i)->valid) {
			*index = i;
			return true;
		}
	}
	return false;
}

static struct sgx_lp *xp_adv_lp(struct xp_env *env)
{
	return &env->w->cpu.lps[LP_KERNEL];
}

/* The preemption point before each of the adversary's leaves. */
static void xp_adv_yield(struct xp_env *env)
{
	sim_yield(&env->w->sim);
}

static void xp_adv_map(struct xp_env *env, struct xp_adv_page *p)
{
	uint32_t flags = SGX_PTE_PRESENT | SGX_PTE_NX;

	if (xp_adv_below(&xp_script_of(env)->adv, 4))
		flags |= SGX_PTE_WRITE;
	sgx_pgtable_map(&env->pgtable, p->lin,
			sgx_epc_addr(&env->w->cpu, p->index), flags);
}

static void xp_adv_secinfo_leaf(struct xp_env *env, struct xp_adv_page *p,
				bool emodt)
{
	static const uint64_t rights[] = { 0, R, R | W, SGX_SECINFO_X,
					   R | SGX_SECINFO_X };
	static const uint64_t types[] = { PT_TRIM, PT_TCS };
	struct xp_adversary *adv = &xp_script_of(env)->adv;
	struct sgx_secinfo secinfo;
	uint64_t epc = sgx_epc_addr(&env->w->cpu, p->index);

	memset(&secinfo, 0, sizeof(secinfo));
	if (emodt)
		secinfo.flags = SGX_SECINFO_TYPE(types[xp_adv_below(adv, 2)]);
	else
		secinfo.flags = rights[xp_adv_below(adv, ARRAY_SIZE(rights))];
	xp_adv_yield(env);
	if (emodt)
		encls_emodt(xp_adv_lp(env), &secinfo, epc);
	else
		encls_emodpr(xp_adv_lp(env), &secinfo, epc);
}

static unsigned int xp_adv_va_slot(struct xp_adversary *adv)
{
	unsigned int start = xp_adv_below(adv, SGX_VA_SLOT_COUNT);

	for (unsigned int k = 0; k < SGX_VA_SLOT_COUNT; k++) {
		unsigned int s = (start + k) % SGX_VA_SLOT_COUNT;

		if (!adv->va_used[s])
			return s;
	}
	return SGX_VA_SLOT_COUNT;
}

static void xp_adv_ewb(struct xp_env *env, struct xp_adv_page *p)
{
	struct xp_adversary *adv = &xp_script_of(env)->adv;
	unsigned int slot = xp_adv_va_slot(adv);
	struct sgx_pageinfo pi;
	int ret;

	if (slot == SGX_VA_SLOT_COUNT)
		return;
	/* EWB wants the contents page aligned; the PCMD follows them. */
	if (!p->backing &&
	    posix_memalign((void **)&p->backing, PAGE_SIZE,
			   sizeof(*p->backing)))
		return;
	memset(&pi, 0, sizeof(pi));
	pi.srcpge = (uint64_t)(uintptr_t)p->backing->contents;
	pi.secinfo = (uint64_t)(uintptr_t)&p->backing->pcmd;
	xp_adv_yield(env);
	ret = encls_ewb(xp_adv_lp(env), &pi,
			sgx_epc_addr(&env->w->cpu, p->index),
			env->bare_va + 8ULL * slot);
	if (ret)
		return;
	adv->va_used[slot] = true;
	p->va_slot = slot;
	p->resident = false;
	p->evicted = true;
}

static void xp_adv_eldu(struct xp_env *env, struct xp_adv_page *p)
{
	struct xp_adversary *adv = &xp_script_of(env)->adv;
	struct sgx_pageinfo pi;
	uint64_t index;

	if (!xp_adv_free_page(env, &index))
		return;
	memset(&pi, 0, sizeof(pi));
	pi.linaddr = p->lin;
	pi.srcpge = (uint64_t)(uintptr_t)p->backing->contents;
	pi.secinfo = (uint64_t)(uintptr_t)&p->backing->pcmd;
	pi.secs = env->bare_secs;
	xp_adv_yield(env);
	if (encls_eldu(xp_adv_lp(env), &pi, sgx_epc_addr(&env->w->cpu, index),
		       env->bare_va + 8ULL * p->va_slot))
		return;
	adv->va_used[p->va_slot] = false;
	p->evicted = false;
	p->resident = true;
	p->index = index;
	xp_adv_map(env, p);
}

static void xp_adv_eaug(struct xp_env *env, struct xp_adv_page *p)
{
	struct sgx_pageinfo pi;
	uint64_t index;

	if (!xp_adv_free_page(env, &index))
		return;
	memset(&pi, 0, sizeof(pi));
	pi.linaddr = p->lin;
	pi.secs = env->bare_secs;
	xp_adv_yield(env);
	if (encls_eaug(xp_adv_lp(env), &pi, sgx_epc_addr(&env->w->cpu, index)))
		return;
	p->evicted = false;
	p->resident = true;
	p->index = index;
	xp_adv_map(env, p);
}

static void xp_adv_resident_leaf(struct xp_env *env, struct xp_adv_page *p,
				 unsigned int leaf)
{
	uint64_t epc = sgx_epc_addr(&env->w->cpu, p->index);

	switch (leaf) {
	case 0:
		xp_adv_secinfo_leaf(env, p, false);
		break;
	case 1:
		xp_adv_secinfo_leaf(env, p, true);
		break;
	case 2:
		xp_adv_yield(env);
		encls_eblock(xp_adv_lp(env), epc);
		break;
	case 3:
		xp_adv_ewb(env, p);
		break;
	case 4:
		xp_adv_yield(env);
		if (!encls_eremove(xp_adv_lp(env), epc))
			p->resident = false;
		break;
	default:
		xp_adv_map(env, p);
		break;
	}
}

/* IPI every enclave thread's LP: their AEX completes a tracking cycle. */
static void xp_adv_ipi(struct xp_env *env)
{
	const struct sgx_platform *plat = &env->w->sim.plat;
	struct sgx_cpumask mask;

	memset(&mask, 0, sizeof(mask));
	sgx_cpumask_set(&mask, LP_ETHREAD_A);
	sgx_cpumask_set(&mask, LP_ETHREAD_B);
	xp_adv_yield(env);
	plat->ipi(plat->ctx, &mask);
}

/* One random action on a random page, or an ETRACK or an IPI round. */
static void xp_adv_step(struct xp_env *env)
{
	struct xp_adversary *adv = &xp_script_of(env)->adv;
	struct xp_adv_page *p = &adv->pages[xp_adv_below(adv, adv->nr_pages)];
	unsigned int what = xp_adv_below(adv, 10);

	if (what == 8) {
		xp_adv_yield(env);
		encls_etrack(xp_adv_lp(env), env->bare_secs);
	} else if (what == 9) {
		xp_adv_ipi(env);
	} else if (p->resident) {
		xp_adv_resident_leaf(env, p, what % 6);
	} else if (p->evicted) {
		xp_adv_eldu(env, p);
	} else {
		xp_adv_eaug(env, p);
	}
}

static void xp_adversary_main(void *arg)
{
	struct xp_env *env = arg;

	for (unsigned int i = 0; i < XP_ADVERSARY_STEPS; i++)
		xp_adv_step(env);
}

/* Every page the bare build made, with the EPC page it sits in. */
static void xp_adv_pages(struct xp_env *env, struct xp_adversary *adv)
{
	unsigned int added = 2 * env->layout.nr_tcs + 1 +
			     env->layout.data_pages;
	unsigned int all = added + env->layout.holes;

	ASSERT(!env->layout.copy_page && all <= XP_ADV_PAGES);
	for (unsigned int i = 0; i < all; i++) {
		struct xp_adv_page *p = &adv->pages[adv->nr_pages++];

		/* With no COPY page, pages and holes follow each other. */
		p->lin = env->base + (uint64_t)i * PAGE_SIZE;
		p->resident = i < added;
		/* The bare build took SECS, VA, then the pages in order. */
		p->index = 2 + i;
	}
}

static int adversarial_driver_build(struct xp_world *w)
{
	const struct xp_layout layout = {
		.epc_pages = 16,
		.nr_lps = 4,
		.nr_tcs = 2,
		.data_pages = 2,
		.holes = 2,
		.bare = true,
	};
	struct xp_script *sc;
	struct xp_env *env;
	int ret = xp_script_new(w, &layout, &env, &sc);

	if (ret)
		return ret;
	sc->adv.rng = w->seed;
	xp_adv_pages(env, &sc->adv);
	env->reclaimer_done = true;
	for (unsigned int t = 0; t < 2; t++) {
		op(sc, t, XP_EOP_ENTER, 0, t, XP_OUT_ANY, 0);
		for (unsigned int k = 0; k < 4; k++) {
			unsigned int page = (t + k) % 4;

			op(sc, t, XP_EOP_WRITE, page, t, XP_OUT_ANY, 0);
			op(sc, t, XP_EOP_EACCEPT_AUTO, page, 0, XP_OUT_ANY, 0);
			op(sc, t, XP_EOP_READ, page, 1, XP_OUT_ANY, 0);
		}
		op(sc, t, XP_EOP_EXIT, 0, 0, XP_OUT_ANY, 0);
	}
	ret = xp_env_spawn(env, "adversary", LP_KERNEL, xp_adversary_main,
			   env);
	if (!ret)
		ret = xp_ethread_spawn(env, "ethread-a", LP_ETHREAD_A,
				       sc->prog[0]);
	if (!ret)
		ret = xp_ethread_spawn(env, "ethread-b", LP_ETHREAD_B,
				       sc->prog[1]);
	return ret;
}

/* ---- The registry ------------------------------------------------------ */

static const char *xp_scenario_check_step(struct xp_world *w)
{
	struct xp_env *env = xp_env_of(w);
	const char *why = xp_check_step(env);

	return why || !env->second ? why : xp_check_step(env->second);
}

static const char *xp_scenario_check_end(struct xp_world *w, int run_result)
{
	return xp_check_end(xp_env_of(w), run_result);
}

static void xp_scenario_destroy(struct xp_world *w)
{
	struct xp_env *env = w->priv;
	struct xp_script *sc = env ? env->scenario : NULL;

	for (unsigned int i = 0; sc && i < sc->adv.nr_pages; i++)
		free(sc->adv.pages[i].backing);
	xp_env_destroy(w);
}

#define XP_SCENARIO(id, text)                                             \
	{                                                                 \
		.name = #id, .summary = text, .build = id##_build,        \
		.check_step = xp_scenario_check_step,                     \
		.check_end = xp_scenario_check_end,                       \
		.destroy = xp_scenario_destroy,                           \
	}

static const struct xp_scenario xp_scenarios[] = {
	XP_SCENARIO(restrict_vs_reclaim,
		    "RESTRICT_PERMISSIONS of 2 pages vs the reclaimer, "
		    "SECS evicted too"),
	XP_SCENARIO(restrict_hole_vs_reclaim,
		    "RESTRICT_PERMISSIONS of 2 pages and a hole (an early "
		    "exit) vs the reclaimer"),
	XP_SCENARIO(restrict_vs_reclaim4,
		    "RESTRICT_PERMISSIONS of 4 pages vs the reclaimer"),
	XP_SCENARIO(restrict_vs_etrack_fault,
		    "RESTRICT_PERMISSIONS of 4 pages whose first ETRACK flow "
		    "fails, retried, vs the reclaimer"),
	XP_SCENARIO(modify_vs_reclaim,
		    "MODIFY_TYPES to TCS of 2 pages vs the reclaimer"),
	XP_SCENARIO(restrict_vs_signal,
		    "RESTRICT_PERMISSIONS of 2 pages vs the reclaimer and a "
		    "signal at any step"),
	XP_SCENARIO(trim_vs_signal,
		    "MODIFY_TYPES to TRIM of 2 pages vs the reclaimer and a "
		    "signal at any step"),
	XP_SCENARIO(trim_vs_etrack_fault,
		    "MODIFY_TYPES to TRIM of 2 pages whose first ETRACK flow "
		    "fails, retried, vs the reclaimer"),
	XP_SCENARIO(remove_vs_reclaim,
		    "trim, EACCEPT and REMOVE_PAGES vs the reclaimer"),
	XP_SCENARIO(restrict_vs_eaug,
		    "RESTRICT_PERMISSIONS vs EAUG faults, EACCEPT(COPY)"),
	XP_SCENARIO(restrict_vs_ethreads,
		    "RESTRICT_PERMISSIONS vs enclave threads entering, "
		    "exiting, accessing and EACCEPTing early"),
	XP_SCENARIO(restrict_vs_close,
		    "RESTRICT_PERMISSIONS vs munmap and close"),
	XP_SCENARIO(restrict_vs_fork_exit,
		    "RESTRICT_PERMISSIONS vs a fork's child inside the "
		    "enclave, whose process exits at any step"),
	XP_SCENARIO(restrict_vs_eaug_in_range,
		    "RESTRICT_PERMISSIONS of 2 pages and a hole that an "
		    "EAUG fills while the walk runs"),
	XP_SCENARIO(restrict_vs_mprotect,
		    "RESTRICT_PERMISSIONS vs mprotect of its pages"),
	XP_SCENARIO(ethreads_migrate_vs_reclaim,
		    "RESTRICT_PERMISSIONS of 4 pages vs the reclaimer and "
		    "enclave threads re-entering and migrating between LPs"),
	XP_SCENARIO(restrict_vs_two_lps,
		    "RESTRICT_PERMISSIONS vs enclave threads inside on two "
		    "LPs through the call"),
	XP_SCENARIO(two_enclaves_vs_reclaim,
		    "RESTRICT_PERMISSIONS vs the reclaimer, with a second "
		    "enclave's thread sharing the small EPC"),
	XP_SCENARIO(hole_vs_full_epc,
		    "RESTRICT_PERMISSIONS of 2 pages and a hole vs the "
		    "reclaimer, the EPC full for a step (SECS reload fails)"),
	XP_SCENARIO(adversarial_driver,
		    "random ENCLS sequences vs enclave threads: the CPU "
		    "alone upholds the security property"),
};

const struct xp_scenario *xp_scenario_at(size_t i)
{
	return i < ARRAY_SIZE(xp_scenarios) ? &xp_scenarios[i] : NULL;
}

const struct xp_scenario *xp_scenario_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(xp_scenarios); i++)
		if (!strcmp(xp_scenarios[i].name, name))
			return &xp_scenarios[i];
	return NULL;
}
