// SPDX-License-Identifier: MIT
/*
 * The execution loop (architecture.md sections 2-3). One execution: the
 * scenario builds its machine; the engine takes over the scheduler's
 * choices (sim.choose), the step hook (invariants after every step) and
 * the CPU's leaf and access hooks (the trace hash); sim_run() runs it; the
 * scenario's end checks judge it; the scenario tears it down. Between
 * executions only the strategy's state carries over.
 *
 * A violation ends its execution at once (the step hook stops sim_run), so
 * the recorded choices end exactly where it showed, and a replay of them
 * stops at the same step with the same message. Executions whose trace
 * hashes are equal count once among the distinct schedules.
 *
 * Execution i depends on the seed and i alone (random, PCT) or on the DFS
 * path, so random and PCT executions can be shared out among worker
 * processes (xp_options.jobs): worker j runs j, j + jobs, ... and sends
 * its progress, its result and its trace hashes to the parent through a
 * pipe; the parent merges them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/assert.h"
#include "explore/engine.h"

#define PROGRESS_EVERY 4096

#ifdef SGXEMU_PLANTS
#define PLANTS_BUILT true
#else
#define PLANTS_BUILT false
#endif

/* The trace hashes seen so far: open addressing, 0 marks a free slot. */
struct hash_set {
	uint64_t *slot;
	size_t cap, len;
};

struct engine {
	const struct xp_options *opt;
	const struct xp_scenario *sc;
	struct xp_world *world;
	struct xp_chooser chooser;
	struct xp_trace trace;
	struct xp_schedule schedule; /* settings, and this run's choices */
	struct hash_set seen;
	char *text; /* the schedule string of this run, when needed */
	size_t text_size;
	int error;
	/* The current execution: its number, and its outcome. */
	uint64_t execution;
	int run; /* sim_run()'s result */
	uint64_t hash;
	char violation[256];
	bool dpor; /* collect what each step touches */
	struct xp_event ev; /* the running step's */
};

static int hash_set_grow(struct hash_set *h)
{
	size_t cap = h->cap ? 2 * h->cap : 1 << 12;
	uint64_t *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		size_t j = h->slot[i] & (cap - 1);

		if (!h->slot[i])
			continue;
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = h->slot[i];
	}
	free(h->slot);
	h->slot = slot;
	h->cap = cap;
	return 0;
}

/* 1 if key is new, 0 if seen before, or -ENOMEM. */
static int hash_set_add(struct hash_set *h, uint64_t key)
{
	size_t i;

	key = key ? key : 1;
	if (2 * (h->len + 1) > h->cap && hash_set_grow(h))
		return -ENOMEM;
	for (i = key & (h->cap - 1); h->slot[i]; i = (i + 1) & (h->cap - 1))
		if (h->slot[i] == key)
			return 0;
	h->slot[i] = key;
	h->len++;
	return 1;
}

static bool violate(struct engine *e, const char *why)
{
	snprintf(e->violation, sizeof(e->violation), "%s", why);
	return false;
}

static void engine_touch(void *ctx, uint64_t object)
{
	struct engine *e = ctx;

	if (e->dpor && e->world->sim.current)
		xp_event_touch(&e->ev, object);
}

void xp_touch(struct xp_world *w, uint64_t object)
{
	if (w->engine)
		engine_touch(w->engine, object);
}

/*
 * A step begins (dpor.c): an enclave thread's touches the scenario's
 * state; another thread's that holds no mutex runs kernel code unlocked.
 */
static void engine_step_begin(struct engine *e, unsigned int id)
{
	const struct xp_world *w = e->world;

	e->ev.thread = (uint8_t)id;
	e->ev.n = 0;
	if (w->declared_threads >> id & 1)
		return;
	if (w->user_threads >> id & 1)
		xp_event_touch(&e->ev, SIM_OBJ(SIM_OBJ_ENV, 0));
	else if (!w->sim.threads[id].held)
		xp_event_touch(&e->ev, SIM_OBJ(SIM_OBJ_NOLOCK, 0));
}

static void engine_epc_touch(void *ctx, uint64_t index)
{
	engine_touch(ctx, SIM_OBJ(SIM_OBJ_EPC, index));
}

static void engine_pgtable_touch(void *ctx)
{
	engine_touch(ctx, SIM_OBJ(SIM_OBJ_PGTABLE, 0));
}

/* The step hook's DPOR part: false ends the execution here. */
static bool engine_dpor_step(struct engine *e)
{
	struct xp_dpor *d = &e->chooser.dpor;
	int ret = xp_dpor_step(d, &e->ev);

	if (ret)
		e->error = ret;
	return !ret && d->stop == XP_DPOR_GO;
}

static unsigned int engine_choose(void *ctx, const unsigned int *runnable,
				  unsigned int n, unsigned int current)
{
	struct engine *e = ctx;
	unsigned int k = xp_chooser_pick(&e->chooser, runnable, n, current);

	ASSERT(k < n);
	if (n > 1 && xp_choices_push(&e->schedule.choices, runnable[k]))
		e->error = -ENOMEM;
	xp_trace_step(&e->trace, runnable[k]);
	if (e->dpor)
		engine_step_begin(e, runnable[k]);
	return k;
}

/* After every step: the scenario's invariants; false stops the run. */
static bool engine_step(void *ctx)
{
	struct engine *e = ctx;
	const char *why;

	if (e->error || e->chooser.error || e->chooser.diverged)
		return false;
	if (e->world->violation[0])
		return violate(e, e->world->violation);
	why = e->sc->check_step ? e->sc->check_step(e->world) : NULL;
	if (why)
		return violate(e, why);
	if (e->dpor)
		return engine_dpor_step(e);
	return !e->chooser.pruned;
}

static void engine_ipi(void *ctx, const struct sgx_lp *lp, bool aex)
{
	struct engine *e = ctx;

	xp_trace_ipi(&e->trace, lp, aex);
	engine_touch(e, SIM_OBJ(SIM_OBJ_LP, lp->id));
}

static void engine_leaf(void *ctx, struct sgx_lp *lp, enum sgx_leaf_class cls,
			unsigned int leaf)
{
	struct engine *e = ctx;

	xp_trace_leaf(&e->trace, lp, cls, leaf);
	engine_touch(e, SIM_OBJ(SIM_OBJ_LP, lp->id));
}

static void engine_access(void *ctx, struct sgx_lp *lp, uint64_t lin)
{
	struct engine *e = ctx;

	xp_trace_access(&e->trace, lp, lin);
	engine_touch(e, SIM_OBJ(SIM_OBJ_LP, lp->id));
}

/*
 * The leaf and access hooks go to the CPU the LPs belong to, which is the
 * one the arch consults: a world that copied a kept CPU struct into w->cpu
 * without sgx_cpu_reset() leaves its LPs pointing at the original. They
 * are taken off after the run, as that CPU may outlive this engine.
 */
static void engine_hook_cpu(struct engine *e, bool on)
{
	struct sgx_cpu *cpu = &e->world->cpu;
	struct sgx_cpu_hooks hooks = { 0 };

	if (on)
		hooks = (struct sgx_cpu_hooks){
			.ctx = e, .leaf = engine_leaf, .access = engine_access,
			.touch = e->dpor ? engine_epc_touch : NULL,
		};
	cpu->hooks = hooks;
	if (cpu->lps && cpu->lps[0].cpu != cpu)
		cpu->lps[0].cpu->hooks = hooks;
}

static void engine_hook_pgtable(struct engine *e, struct sgx_pgtable *pt)
{
	pt->touch = engine_pgtable_touch;
	pt->touch_ctx = e;
}

static void engine_take_over(struct engine *e)
{
	struct xp_world *w = e->world;

	w->sim.choose = engine_choose;
	w->sim.choose_ctx = e;
	w->sim.steps_max = e->schedule.steps_max;
	w->sim.hooks = (struct sim_hooks){
		.ctx = e, .step = engine_step, .ipi = engine_ipi,
		.touch = e->dpor ? engine_touch : NULL,
	};
	engine_hook_cpu(e, true);
	w->trace = &e->trace;
	w->engine = e;
	if (!e->dpor)
		return;
	if (w->mm)
		engine_hook_pgtable(e, &w->mm->pgtable);
	for (unsigned int i = 0; i < w->cpu.cfg.nr_lps; i++)
		if (w->cpu.lps[i].pgtable)
			engine_hook_pgtable(e, w->cpu.lps[i].pgtable);
}

/* What the end of the run says, unless a step check spoke already. */
static void engine_verdict(struct engine *e)
{
	const struct xp_scenario *sc = e->sc;
	const char *why = NULL;

	if (e->violation[0] || e->run == -ECANCELED)
		return;
	if (sc->check_end)
		why = sc->check_end(e->world, e->run);
	if (!why && e->world->violation[0])
		why = e->world->violation;
	if (!why && e->run == -EDEADLK)
		why = "deadlock: no sim thread can run, some are not done";
	if (!why && e->run == -E2BIG)
		why = "livelock: steps_max steps and not done";
	if (why)
		violate(e, why);
}

/*
 * Build and run one execution, leaving the world built (the caller reads
 * it, then destroys it). Returns 0, or build's error.
 */
static int engine_execute(struct engine *e, bool record)
{
	struct xp_world *w = e->world;
	int ret;

	memset(w, 0, sizeof(*w));
	w->etrack_batch = e->schedule.etrack_batch;
	w->no_loop_checks = e->schedule.no_loop_checks;
	w->plants = e->schedule.plants;
	w->seed = e->schedule.seed;
	ret = e->sc->build(w);
	if (ret)
		return ret;
	e->schedule.choices.len = 0;
	e->violation[0] = '\0';
	xp_trace_reset(&e->trace, &w->sim, record);
	engine_take_over(e);
	xp_chooser_begin(&e->chooser, w->sim.nr_threads, e->execution);
	e->run = sim_run(&w->sim);
	engine_hook_cpu(e, false);
	e->hash = xp_trace_finish(&e->trace);
	engine_verdict(e);
	return 0;
}

/* This run's schedule string, in e->text. */
static int engine_encode(struct engine *e)
{
	size_t need = 160 + 10 * e->schedule.choices.len;
	int len;

	if (need > e->text_size) {
		char *grown = realloc(e->text, need);

		if (!grown)
			return -ENOMEM;
		e->text = grown;
		e->text_size = need;
	}
	len = xp_schedule_encode(&e->schedule, e->text, e->text_size);
	return len < 0 ? len : 0;
}

static int engine_violation(struct engine *e, struct xp_result *res)
{
	int ret;

	res->violations++;
	if (res->first_violation)
		return 0;
	res->first_violation = e->execution + 1;
	snprintf(res->message, sizeof(res->message), "%s", e->violation);
	ret = engine_encode(e);
	if (ret)
		return ret;
	if (strlen(e->text) >= sizeof(res->schedule))
		return -ENOSPC;
	strcpy(res->schedule, e->text);
	return 0;
}

/* Count the execution just run into res. */
static int engine_account(struct engine *e, struct xp_result *res)
{
	const struct sim *sim = &e->world->sim;
	int ret;

	res->executions++;
	res->steps += sim->stats.steps;
	if (sim->stats.steps > res->steps_max_seen)
		res->steps_max_seen = sim->stats.steps;
	ret = hash_set_add(&e->seen, e->hash);
	if (ret < 0)
		return ret;
	res->distinct += (uint64_t)ret;
	if (e->violation[0]) {
		ret = engine_violation(e, res);
		if (ret)
			return ret;
	}
	if (!e->opt->on_execution)
		return 0;
	ret = engine_encode(e);
	if (ret)
		return ret;
	e->opt->on_execution(e->opt->on_execution_ctx, e->text, e->hash,
			     e->violation[0] ? e->violation : NULL);
	return 0;
}

static int engine_init(struct engine *e, const struct xp_options *opt,
		       const struct xp_choices *replay)
{
	const struct xp_scenario *sc = opt->scenario;
	int ret;

	memset(e, 0, sizeof(*e));
	if (!sc || !sc->build || !sc->destroy || !sc->name ||
	    !xp_scenario_name_valid(sc->name))
		return -EINVAL;
	if (opt->plants && !PLANTS_BUILT)
		return -EINVAL;
	if (opt->jobs > XP_JOBS_MAX ||
	    (opt->jobs > 1 && (opt->strategy == XP_DFS ||
			       opt->strategy == XP_DPOR || opt->on_execution)))
		return -EINVAL;
	e->opt = opt;
	e->dpor = opt->strategy == XP_DPOR;
	e->sc = sc;
	strcpy(e->schedule.scenario, sc->name);
	e->schedule.etrack_batch = opt->etrack_batch;
	e->schedule.no_loop_checks = opt->no_loop_checks;
	e->schedule.plants = opt->plants;
	e->schedule.steps_max = opt->steps_max ? opt->steps_max :
						 XP_STEPS_MAX_DEFAULT;
	ret = xp_chooser_init(&e->chooser, opt, replay);
	if (ret)
		return ret;
	e->world = calloc(1, sizeof(*e->world));
	return e->world ? 0 : -ENOMEM;
}

static void engine_fini(struct engine *e)
{
	xp_chooser_destroy(&e->chooser);
	xp_trace_free(&e->trace);
	xp_choices_free(&e->schedule.choices);
	free(e->seen.slot);
	free(e->text);
	free(e->world);
}

/* The failure that must end an exploration after this execution, or 0. */
static int engine_failure(const struct engine *e)
{
	if (e->error)
		return e->error;
	if (e->chooser.error)
		return e->chooser.error;
	return e->trace.error;
}

/*
 * The scenario's data seed for execution i: fixed under DFS, whose
 * enumeration assumes the same program every time; else fresh for each.
 */
static uint64_t data_seed(const struct xp_options *opt, uint64_t i)
{
	if (opt->strategy == XP_DFS || opt->strategy == XP_DPOR)
		return opt->seed;
	return xp_mix64(opt->seed ^ xp_mix64(i ^ 0x64617461ULL));
}

/*
 * The executions this process runs: first, first + stride, ... below
 * xp_options.executions. Workers share a stop flag and report through fd.
 */
struct share {
	uint64_t first, stride;
	int *stop; /* in memory shared by the workers, or NULL */
	int fd; /* a worker's pipe to the parent, or -1 */
};

/* What a worker sends its parent: a header, then the payload. */
enum { MSG_PROGRESS = 1, MSG_RESULT, MSG_HASHES };

struct msg {
	uint32_t kind;
	int32_t error; /* MSG_RESULT: explore_loop()'s return */
	uint64_t count; /* MSG_HASHES: how many follow */
	uint64_t done, violations; /* MSG_PROGRESS */
};

#define HASHES_PER_MSG 1024

static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void report_progress(const struct engine *e, const struct share *sh,
			    const struct xp_result *res)
{
	const struct xp_options *opt = e->opt;
	struct msg m = { .kind = MSG_PROGRESS, .done = res->executions,
			 .violations = res->violations };

	if (sh->fd >= 0)
		write_all(sh->fd, &m, sizeof(m));
	else if (opt->progress)
		opt->progress(opt->progress_ctx, res->executions,
			      res->violations);
}

static bool stopped(const struct share *sh)
{
	return sh->stop && __atomic_load_n(sh->stop, __ATOMIC_RELAXED);
}

static int explore_loop(struct engine *e, struct xp_result *res,
			const struct share *sh)
{
	const struct xp_options *opt = e->opt;

	for (uint64_t i = sh->first; i < opt->executions && !stopped(sh);
	     i += sh->stride) {
		int ret;
		bool more;

		e->execution = i;
		e->schedule.seed = data_seed(opt, i);
		ret = engine_execute(e, false);
		if (ret)
			return ret;
		ret = 0;
		if (xp_chooser_ours(&e->chooser)) {
			ret = engine_account(e, res);
			res->sleep_blocked += e->dpor &&
				e->chooser.dpor.stop == XP_DPOR_SLEEPING;
		}
		e->sc->destroy(e->world);
		more = xp_chooser_end(&e->chooser, res->steps_max_seen);
		if (!ret)
			ret = engine_failure(e);
		if (ret)
			return ret;
		if (res->executions % PROGRESS_EVERY == 0)
			report_progress(e, sh, res);
		res->complete = !more;
		if (!more)
			break;
		if (res->violations && opt->stop_on_violation) {
			if (sh->stop)
				__atomic_store_n(sh->stop, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	return 0;
}

static void send_hashes(int fd, const uint64_t *hashes, size_t n)
{
	struct msg m = { .kind = MSG_HASHES, .count = n };

	if (!write_all(fd, &m, sizeof(m)) ||
	    !write_all(fd, hashes, n * sizeof(*hashes)))
		_exit(1);
}

/* A worker: run its share, send the result and every trace hash, exit. */
static void worker_main(struct engine *e, const struct share *sh)
{
	struct xp_result res = { 0 };
	struct msg m = { .kind = MSG_RESULT };
	uint64_t hashes[HASHES_PER_MSG];
	size_t n = 0;

	m.error = explore_loop(e, &res, sh);
	if (!write_all(sh->fd, &m, sizeof(m)) ||
	    !write_all(sh->fd, &res, sizeof(res)))
		_exit(1);
	for (size_t i = 0; i < e->seen.cap; i++) {
		if (!e->seen.slot[i])
			continue;
		hashes[n++] = e->seen.slot[i];
		if (n == HASHES_PER_MSG) {
			send_hashes(sh->fd, hashes, n);
			n = 0;
		}
	}
	if (n)
		send_hashes(sh->fd, hashes, n);
	_exit(0);
}

/* The parent's view of one worker. */
struct worker {
	pid_t pid;
	int fd;
	uint8_t *buf; /* bytes received and not yet handled */
	size_t len, cap;
	bool result_seen;
	int error;
	uint64_t done, violations;
	struct xp_result res;
};

static size_t msg_size(const struct msg *m)
{
	if (m->kind == MSG_RESULT)
		return sizeof(*m) + sizeof(struct xp_result);
	if (m->kind == MSG_HASHES)
		return sizeof(*m) + m->count * sizeof(uint64_t);
	return sizeof(*m);
}

/* Handle one whole message of worker w; -errno on a bad one. */
static int worker_msg(struct engine *e, struct worker *w, const struct msg *m,
		      const uint8_t *payload)
{
	if (m->kind == MSG_PROGRESS) {
		w->done = m->done;
		w->violations = m->violations;
		return 0;
	}
	if (m->kind == MSG_RESULT) {
		w->result_seen = true;
		w->error = m->error;
		memcpy(&w->res, payload, sizeof(w->res));
		return 0;
	}
	if (m->kind != MSG_HASHES || m->count > HASHES_PER_MSG)
		return -EPROTO;
	for (uint64_t i = 0; i < m->count; i++) {
		uint64_t h;

		memcpy(&h, payload + i * sizeof(h), sizeof(h));
		if (hash_set_add(&e->seen, h) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Read what worker w sent; 1 at its end, 0 for more to come, or -errno. */
static int worker_read(struct engine *e, struct worker *w)
{
	size_t used = 0;
	ssize_t n;
	struct msg m;

	if (w->cap - w->len < 65536) {
		uint8_t *grown = realloc(w->buf, w->cap + 65536);

		if (!grown)
			return -ENOMEM;
		w->buf = grown;
		w->cap += 65536;
	}
	n = read(w->fd, w->buf + w->len, w->cap - w->len);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (!n)
		return 1;
	w->len += (size_t)n;
	while (w->len - used >= sizeof(m)) {
		int ret;

		memcpy(&m, w->buf + used, sizeof(m));
		if (m.kind == MSG_HASHES && m.count > HASHES_PER_MSG)
			return -EPROTO;
		if (w->len - used < msg_size(&m))
			break;
		ret = worker_msg(e, w, &m, w->buf + used + sizeof(m));
		if (ret)
			return ret;
		used += msg_size(&m);
	}
	memmove(w->buf, w->buf + used, w->len - used);
	w->len -= used;
	return 0;
}

static void parent_progress(const struct engine *e, const struct worker *w,
			    unsigned int jobs)
{
	uint64_t done = 0, violations = 0;

	for (unsigned int j = 0; j < jobs; j++) {
		done += w[j].done;
		violations += w[j].violations;
	}
	if (e->opt->progress)
		e->opt->progress(e->opt->progress_ctx, done, violations);
}

/* Read every worker to its end. */
static int workers_collect(struct engine *e, struct worker *w,
			   unsigned int jobs)
{
	struct pollfd pfd[XP_JOBS_MAX];
	unsigned int open = jobs;
	int ret = 0;

	for (unsigned int j = 0; j < jobs; j++)
		pfd[j] = (struct pollfd){ .fd = w[j].fd, .events = POLLIN };
	while (open && !ret) {
		if (poll(pfd, jobs, -1) < 0) {
			ret = errno == EINTR ? 0 : -errno;
			continue;
		}
		for (unsigned int j = 0; j < jobs && !ret; j++) {
			if (pfd[j].fd < 0 || !pfd[j].revents)
				continue;
			ret = worker_read(e, &w[j]);
			if (ret == 1) {
				pfd[j].fd = -1;
				open--;
				ret = 0;
			}
		}
		parent_progress(e, w, jobs);
	}
	return ret;
}

/* The workers' results as one; the first violation is the earliest. */
static int workers_merge(const struct engine *e, const struct worker *w,
			 unsigned int jobs, struct xp_result *res)
{
	const struct xp_result *first = NULL;

	for (unsigned int j = 0; j < jobs; j++) {
		const struct xp_result *r = &w[j].res;

		if (!w[j].result_seen)
			return -ECHILD;
		if (w[j].error)
			return w[j].error;
		res->executions += r->executions;
		res->violations += r->violations;
		res->steps += r->steps;
		if (r->steps_max_seen > res->steps_max_seen)
			res->steps_max_seen = r->steps_max_seen;
		if (r->first_violation &&
		    (!first || r->first_violation < first->first_violation))
			first = r;
	}
	res->distinct = e->seen.len;
	if (first) {
		res->first_violation = first->first_violation;
		memcpy(res->message, first->message, sizeof(res->message));
		memcpy(res->schedule, first->schedule, sizeof(res->schedule));
	}
	return 0;
}

static int workers_start(struct engine *e, struct worker *w, unsigned int jobs,
			 int *stop)
{
	for (unsigned int j = 0; j < jobs; j++) {
		int fd[2];

		if (pipe(fd))
			return -errno;
		w[j].pid = fork();
		if (w[j].pid < 0) {
			close(fd[0]);
			close(fd[1]);
			return -errno;
		}
		if (!w[j].pid) {
			struct share sh = { j, jobs, stop, fd[1] };

			close(fd[0]);
			for (unsigned int k = 0; k < j; k++)
				close(w[k].fd);
			worker_main(e, &sh);
		}
		close(fd[1]);
		w[j].fd = fd[0];
	}
	return 0;
}

static int explore_workers(struct engine *e, struct xp_result *res)
{
	unsigned int jobs = e->opt->jobs;
	struct worker w[XP_JOBS_MAX];
	int *stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ret;

	if (stop == MAP_FAILED)
		return -ENOMEM;
	*stop = 0;
	memset(w, 0, sizeof(w));
	for (unsigned int j = 0; j < jobs; j++)
		w[j].fd = -1;
	fflush(NULL);
	ret = workers_start(e, w, jobs, stop);
	if (ret)
		__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	if (!ret)
		ret = workers_collect(e, w, jobs);
	for (unsigned int j = 0; j < jobs; j++) {
		if (w[j].fd >= 0)
			close(w[j].fd);
		if (w[j].pid > 0)
			waitpid(w[j].pid, NULL, 0);
		free(w[j].buf);
	}
	if (!ret)
		ret = workers_merge(e, w, jobs, res);
	munmap(stop, sizeof(*stop));
	return ret;
}

int xp_explore(const struct xp_options *opt, struct xp_result *res)
{
	struct share alone = { .first = 0, .stride = 1, .fd = -1 };
	struct engine e;
	int ret;

	memset(res, 0, sizeof(*res));
	if (opt->strategy == XP_REPLAY)
		return -EINVAL;
	ret = engine_init(&e, opt, NULL);
	if (!ret && opt->jobs > 1)
		ret = explore_workers(&e, res);
	else if (!ret)
		ret = explore_loop(&e, res, &alone);
	if (!ret && opt->progress)
		opt->progress(opt->progress_ctx, res->executions,
			      res->violations);
	engine_fini(&e);
	return ret;
}

/* The replay proper: run, check it kept to the schedule, write the trace. */
static int replay_run(struct engine *e, const struct xp_choices *choices,
		      const char *trace_json, struct xp_result *res)
{
	int ret = engine_execute(e, trace_json != NULL);

	if (ret)
		return ret;
	ret = engine_account(e, res);
	if (!ret)
		ret = engine_failure(e);
	/* Not a run of this scenario: a thread that cannot run, or too long. */
	if (!ret && e->chooser.diverged)
		ret = -EINVAL;
	if (!ret && e->chooser.replay_pos < choices->len)
		ret = -EINVAL;
	if (!ret && trace_json)
		ret = xp_trace_write_json(&e->trace, &e->world->sim,
					  e->sc->name, trace_json);
	e->sc->destroy(e->world);
	return ret;
}

int xp_replay_scenario(const struct xp_scenario *sc, const char *schedule,
		       const char *trace_json, struct xp_result *res,
		       uint64_t *trace_hash)
{
	struct xp_schedule parsed = { 0 };
	struct xp_options opt = { .scenario = sc, .strategy = XP_REPLAY,
				  .executions = 1 };
	struct engine e;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = xp_schedule_parse(schedule, &parsed);
	if (!ret && (!sc || !sc->name || strcmp(parsed.scenario, sc->name)))
		ret = -EINVAL;
	opt.etrack_batch = parsed.etrack_batch;
	opt.no_loop_checks = parsed.no_loop_checks;
	opt.plants = parsed.plants;
	opt.steps_max = parsed.steps_max;
	if (!ret)
		ret = engine_init(&e, &opt, &parsed.choices);
	if (!ret) {
		e.schedule.seed = parsed.seed;
		ret = replay_run(&e, &parsed.choices, trace_json, res);
		if (trace_hash)
			*trace_hash = e.hash;
		engine_fini(&e);
	}
	xp_choices_free(&parsed.choices);
	return ret;
}

int xp_replay(const char *schedule, const char *trace_json,
	      struct xp_result *res, uint64_t *trace_hash)
{
	struct xp_schedule parsed = { 0 };
	int ret = xp_schedule_parse(schedule, &parsed);

	xp_choices_free(&parsed.choices);
	if (ret) {
		memset(res, 0, sizeof(*res));
		return ret;
	}
	return xp_replay_scenario(xp_scenario_find(parsed.scenario), schedule,
				  trace_json, res, trace_hash);
}
