// SPDX-License-Identifier: MIT
/*
 * The sim platform (see sim.h). Coroutines switch with sim_switch()
 * (switch.S). Under AddressSanitizer every switch is announced with the
 * fiber API so ASan follows the stack changes.
 *
 * Direct mode: code may also call the platform outside sim_run() (no
 * current thread). It then runs on LP 0, preemption points do nothing and a
 * mutex must be free when taken. Simple driver tests use this.
 */
#include "platform/sim.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/assert.h"
#include "base/bits.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define asan_start(save, bottom, size)                                    \
	__sanitizer_start_switch_fiber(save, bottom, size)
#define asan_finish(save, bottom, size)                                   \
	__sanitizer_finish_switch_fiber(save, bottom, size)
#define asan_unpoison(addr, size) __asan_unpoison_memory_region(addr, size)
#else
#define asan_start(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define asan_finish(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define asan_unpoison(addr, size) ((void)(addr), (void)(size))
#endif

#define SIM_STACK_SIZE (256 * 1024)

void sim_switch(void **save_sp, void *load_sp);

/* The sim whose scheduler runs on this OS thread (entry needs it). */
static __thread struct sim *running;
static __thread const void *sched_stack_bottom;
static __thread size_t sched_stack_size;

/*
 * Stacks of destroyed sims, for sim_spawn() to reuse: a fresh one costs
 * three system calls and a page fault per page it touches, and the explorer
 * builds a sim for every execution.
 */
static __thread uint8_t *stack_pool[SIM_THREADS_MAX];
static __thread unsigned int stack_pool_len;

struct sim_thread *sim_current(const struct sim *s)
{
	return s->current;
}

static void switch_to_sched(struct sim *s, struct sim_thread *t, bool exiting)
{
	s->current = NULL;
	asan_start(exiting ? NULL : &t->asan_fake_stack, sched_stack_bottom,
		   sched_stack_size);
	sim_switch(&t->sp, s->sched_sp);
	asan_finish(t->asan_fake_stack, &sched_stack_bottom, &sched_stack_size);
}

static void thread_entry(void)
{
	struct sim *s = running;
	struct sim_thread *t = s->current;

	asan_finish(NULL, &sched_stack_bottom, &sched_stack_size);
	t->fn(t->arg);
	t->state = SIM_DONE;
	switch_to_sched(s, t, true);
	ASSERT(!"a finished sim thread was resumed");
}

static void run_thread(struct sim *s, struct sim_thread *t)
{
	s->current = t;
	asan_start(&s->asan_sched_fake_stack, t->stack, t->stack_size);
	sim_switch(&s->sched_sp, t->sp);
	asan_finish(s->asan_sched_fake_stack, NULL, NULL);
}

void sim_yield(struct sim *s)
{
	struct sim_thread *t = s->current;

	if (t)
		switch_to_sched(s, t, false);
}

unsigned int sim_choose_round_robin(void *ctx, const unsigned int *runnable,
				    unsigned int n, unsigned int current)
{
	(void)ctx;
	for (unsigned int i = 0; i < n; i++)
		if (current == SIM_NONE || runnable[i] > current)
			return i;
	return 0;
}

/* Lay out a fresh stack so that sim_switch() "returns" into thread_entry. */
static void prepare_stack(struct sim_thread *t)
{
	uint64_t *top = (uint64_t *)((uint8_t *)t->stack + t->stack_size);

	top[-1] = 0; /* fake return address: keeps the ABI's alignment */
	top[-2] = (uint64_t)(uintptr_t)thread_entry;
	for (int i = 3; i <= 8; i++)
		top[-i] = 0; /* rbp, rbx, r12..r15 */
	t->sp = &top[-8];
}

/* A stack with a guard page below it, which turns an overflow into a crash. */
static uint8_t *stack_alloc(void)
{
	uint8_t *mem;

	if (stack_pool_len)
		return stack_pool[--stack_pool_len];
	mem = mmap(NULL, SIM_STACK_SIZE + PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	ASSERT(mprotect(mem, PAGE_SIZE, PROT_NONE) == 0);
	return mem;
}

/*
 * A thread that never finished leaves its frames' redzones poisoned under
 * ASan; the next thread on this stack must not inherit them.
 */
static void stack_free(uint8_t *mem)
{
	if (stack_pool_len == SIM_THREADS_MAX) {
		munmap(mem, SIM_STACK_SIZE + PAGE_SIZE);
		return;
	}
	asan_unpoison(mem + PAGE_SIZE, SIM_STACK_SIZE);
	stack_pool[stack_pool_len++] = mem;
}

int sim_spawn(struct sim *s, const char *name, unsigned int lp, bool daemon,
	      void (*fn)(void *arg), void *arg)
{
	struct sim_thread *t;
	uint8_t *mem;

	if (s->nr_threads >= SIM_THREADS_MAX || lp >= s->cpu->cfg.nr_lps)
		return -EINVAL;
	mem = stack_alloc();
	if (!mem)
		return -ENOMEM;
	t = &s->threads[s->nr_threads];
	*t = (struct sim_thread){ .id = s->nr_threads,
				  .name = name,
				  .lp = &s->cpu->lps[lp],
				  .daemon = daemon,
				  .state = SIM_RUNNABLE,
				  .fn = fn,
				  .arg = arg,
				  .stack = mem + PAGE_SIZE,
				  .stack_size = SIM_STACK_SIZE };
	prepare_stack(t);
	return (int)s->nr_threads++;
}

/* Runnable ids into ids[]; *live says whether a non-daemon is unfinished. */
static unsigned int collect_runnable(const struct sim *s, unsigned int *ids,
				     bool *live)
{
	unsigned int n = 0;

	*live = false;
	for (unsigned int i = 0; i < s->nr_threads; i++) {
		const struct sim_thread *t = &s->threads[i];

		if (t->state == SIM_RUNNABLE)
			ids[n++] = i;
		if (!t->daemon && t->state != SIM_DONE)
			*live = true;
	}
	return n;
}

static bool daemon_runnable(const struct sim *s, const unsigned int *ids,
			    unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (s->threads[ids[i]].daemon)
			return true;
	return false;
}

int sim_run(struct sim *s)
{
	unsigned int ids[SIM_THREADS_MAX], last = SIM_NONE;

	ASSERT(!running);
	running = s;
	for (;;) {
		bool live;
		unsigned int n = collect_runnable(s, ids, &live), k;
		int ret = 0;

		if (!live && !daemon_runnable(s, ids, n))
			ret = 1;
		else if (!n)
			ret = -EDEADLK;
		else if (s->steps_max && s->stats.steps >= s->steps_max)
			ret = -E2BIG;
		if (ret) {
			running = NULL;
			return ret > 0 ? 0 : ret;
		}
		k = s->choose(s->choose_ctx, ids, n, last);
		ASSERT(k < n);
		s->stats.steps++;
		s->stats.switches += ids[k] != last;
		last = ids[k];
		s->last = last;
		run_thread(s, &s->threads[ids[k]]);
		if (s->hooks.step && !s->hooks.step(s->hooks.ctx)) {
			running = NULL;
			return -ECANCELED;
		}
	}
}

static struct sim *sim_of(void *ctx)
{
	return ctx;
}

static void sim_mutex_init(void *ctx, struct sgx_mutex *m)
{
	(void)ctx;
	memset(m, 0, sizeof(*m));
}

static uint64_t owner_id(const struct sim *s)
{
	return s->current ? s->current->id + 1 : SIM_THREADS_MAX + 1;
}

static uint64_t now(const struct sim *s, const struct sgx_lp *lp)
{
	return s->clock[lp->id];
}

static struct sgx_lp *sim_this_lp(void *ctx)
{
	struct sim *s = sim_of(ctx);

	return s->current ? s->current->lp : &s->cpu->lps[s->direct_lp];
}

static void charge(struct sim *s, const struct sgx_lp *lp, uint64_t cycles)
{
	s->clock[lp->id] += cycles;
}

/*
 * impl[0] the owner, impl[1] when it took the mutex, impl[2] when it was
 * last released. A waiter cannot take it before it was released: its clock
 * moves on to that time (the sim's only cross-LP wait besides IPIs). In
 * direct mode the caller orders every call itself and each LP's clock
 * counts that LP's own work (the trace replay runs a fault on the faulting
 * thread's LP, direct_lp): no wait across LPs there.
 */
static void touch(const struct sim *s, uint64_t object)
{
	if (s->hooks.touch && s->current)
		s->hooks.touch(s->hooks.ctx, object);
}

static void sim_mutex_lock(void *ctx, struct sgx_mutex *m)
{
	struct sim *s = sim_of(ctx);
	struct sim_thread *t = s->current;
	struct sgx_lp *lp = sim_this_lp(s);
	uint64_t object = SIM_OBJ(SIM_OBJ_MUTEX, (uintptr_t)m);

	touch(s, object);
	sim_yield(s);
	touch(s, object);
	while (m->impl[0]) {
		ASSERT(t); /* direct mode has no one to wait for */
		ASSERT(m->impl[0] != owner_id(s)); /* not recursive */
		t->state = SIM_BLOCKED;
		t->blocked_on = m;
		sim_yield(s);
		touch(s, object);
	}
	if (s->costs) {
		if (t && s->clock[lp->id] < m->impl[2])
			s->clock[lp->id] = m->impl[2];
		charge(s, lp, s->costs->mutex_lock);
	}
	m->impl[0] = owner_id(s);
	m->impl[1] = now(s, lp);
	m->acquisitions++;
	if (t)
		t->held++;
}

static void sim_mutex_unlock(void *ctx, struct sgx_mutex *m)
{
	struct sim *s = sim_of(ctx);
	struct sgx_lp *lp = sim_this_lp(s);
	uint64_t held;

	if (s->costs)
		charge(s, lp, s->costs->mutex_unlock);
	held = now(s, lp) - m->impl[1];
	ASSERT(m->impl[0] == owner_id(s));
	touch(s, SIM_OBJ(SIM_OBJ_MUTEX, (uintptr_t)m));
	if (s->current && !--s->current->held)
		touch(s, SIM_OBJ(SIM_OBJ_NOLOCK, 0));
	if (held > m->longest_hold)
		m->longest_hold = held;
	m->impl[0] = 0;
	m->impl[2] = now(s, lp);
	for (unsigned int i = 0; i < s->nr_threads; i++) {
		struct sim_thread *t = &s->threads[i];

		if (t->state == SIM_BLOCKED && t->blocked_on == m) {
			t->state = SIM_RUNNABLE;
			t->blocked_on = NULL;
		}
	}
	sim_yield(s);
}

static void sim_preempt(void *ctx)
{
	sim_yield(sim_of(ctx));
}

static bool sim_signal_pending(void *ctx)
{
	struct sim *s = sim_of(ctx);

	return s->current && s->current->signal_pending;
}

/*
 * What one target of an IPI round costs the target itself: delivery,
 * handler and acknowledgement, and the AEX first if it was inside.
 */
static void charge_ipi_target(struct sim *s, struct sgx_lp *lp, bool aex)
{
	if (s->costs)
		charge(s, lp, s->costs->ipi_remote + (aex ? s->costs->aex : 0));
}

/*
 * MODEL: delivery is immediate; every target has acknowledged on return.
 * The sender pays sgx_cost_ipi_round(): it waits for the slowest target.
 * The sender itself, if in the mask, runs the (empty) callback locally, as
 * on_each_cpu_mask() does, for nothing.
 */
static void sim_ipi(void *ctx, const struct sgx_cpumask *mask)
{
	struct sim *s = sim_of(ctx);
	struct sgx_lp *self = sim_this_lp(s);
	unsigned int remote = 0, inside = 0;

	s->stats.ipi_rounds++;
	for (unsigned int i = 0; i < s->cpu->cfg.nr_lps; i++) {
		struct sgx_lp *lp = &s->cpu->lps[i];
		bool aex = lp->enclave_mode;

		if (!sgx_cpumask_test(mask, i))
			continue;
		s->stats.ipis++;
		if (aex) {
			sgx_aex(lp, NULL);
			s->stats.ipi_aex++;
		}
		if (lp != self) {
			remote++;
			inside += aex;
			charge_ipi_target(s, lp, aex);
		}
		if (s->hooks.ipi)
			s->hooks.ipi(s->hooks.ctx, lp, aex);
	}
	if (s->costs) {
		uint64_t wait = sgx_cost_ipi_round(s->costs, remote, inside);

		charge(s, self, wait);
		s->stats.ipi_wait += wait;
	}
}

static void sim_charge(void *ctx, enum sgx_cost_event event)
{
	struct sim *s = sim_of(ctx);

	ASSERT(event < SGX_COST_EVENTS);
	if (s->costs)
		charge(s, sim_this_lp(s), s->costs->event[event]);
}

/* The CPU's leaf hook: the leaf's cost, on the LP that runs it. */
static void sim_leaf_charge(void *ctx, struct sgx_lp *lp,
			    enum sgx_leaf_class cls, unsigned int leaf)
{
	struct sim *s = sim_of(ctx);

	if (cls == SGX_LEAF_ENCLS) {
		ASSERT(leaf < SGX_ENCLS_NR_LEAVES);
		charge(s, lp, s->costs->encls[leaf]);
	} else {
		ASSERT(leaf < SGX_ENCLU_NR_LEAVES);
		charge(s, lp, s->costs->enclu[leaf]);
	}
}

int sim_set_costs(struct sim *s, const struct sgx_costs *costs)
{
	if (s->cpu->hooks.leaf || s->cpu->hooks.access)
		return -EBUSY;
	s->costs = costs;
	s->cpu->hooks.leaf = sim_leaf_charge;
	s->cpu->hooks.ctx = s;
	return 0;
}

static void sim_ksgxd_sleep(void *ctx)
{
	struct sim *s = sim_of(ctx);

	ASSERT(s->current);
	touch(s, SIM_OBJ(SIM_OBJ_KSGXD, 0));
	s->current->state = SIM_SLEEPING;
	sim_yield(s);
	touch(s, SIM_OBJ(SIM_OBJ_KSGXD, 0));
}

static void sim_ksgxd_wake(void *ctx)
{
	struct sim *s = sim_of(ctx);

	touch(s, SIM_OBJ(SIM_OBJ_KSGXD, 0));
	for (unsigned int i = 0; i < s->nr_threads; i++)
		if (s->threads[i].state == SIM_SLEEPING)
			s->threads[i].state = SIM_RUNNABLE;
}

int sim_init(struct sim *s, struct sgx_cpu *cpu)
{
	memset(s, 0, sizeof(*s));
	s->last = SIM_NONE;
	s->cpu = cpu;
	s->choose = sim_choose_round_robin;
	s->plat = (struct sgx_platform){
		.ctx = s,
		.mutex_init = sim_mutex_init,
		.mutex_lock = sim_mutex_lock,
		.mutex_unlock = sim_mutex_unlock,
		.this_lp = sim_this_lp,
		.preempt = sim_preempt,
		.signal_pending = sim_signal_pending,
		.ipi = sim_ipi,
		.charge = sim_charge,
		.ksgxd_sleep = sim_ksgxd_sleep,
		.ksgxd_wake = sim_ksgxd_wake,
	};
	return 0;
}

void sim_destroy(struct sim *s)
{
	ASSERT(!s->current);
	for (unsigned int i = 0; i < s->nr_threads; i++)
		stack_free((uint8_t *)s->threads[i].stack - PAGE_SIZE);
	s->nr_threads = 0;
}
