// SPDX-License-Identifier: MIT
/*
 * The machine of one execution (layout in world.h): a CPU with a small EPC
 * and one LP per sim thread, the sim platform, the Linux driver model on
 * it, one process (an mm) with /dev/sgx_enclave open, and a small enclave
 * built the way the Linux selftests' loader builds one: CREATE, ADD_PAGES
 * per segment, INIT with a SIGSTRUCT, then one MAP_SHARED | MAP_FIXED mmap
 * per segment. A bare layout skips the driver and builds the same enclave
 * with the leaves directly, for a scenario that plays the OS itself.
 *
 * Executions are many and short, so what is the same in all of them is
 * made once per process: the signing key, and per layout the source pages
 * and the SIGSTRUCT (MRENCLAVE depends on the layout alone, since nothing
 * is measured). Everything else is fresh for every execution, so no state
 * leaks from one run into the next.
 */
#include "explore/world.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "kernel/encl.h"
#include "sgxemu/uapi.h"
#include "sign/enclave_hash.h"
#include "sign/sign.h"

#define XP_CPU_SEED 0x78706c6f7265ULL
#define XP_MADE_MAX 16
/* After a run ended early, its threads get this many steps to finish. */
#define XP_FINISH_STEPS 1000000
#define XP_SECINFO_TCS SGX_SECINFO_TYPE(PT_TCS)
#define XP_SECINFO_REG_RW                                                 \
	(SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)

/* What the enclave's pages and so its MRENCLAVE depend on. */
struct xp_shape {
	uint64_t size;
	uint32_t nr_tcs, data_pages, copy_page, tcs_image;
};

/*
 * A layout made once per process: its source pages, as ADD_PAGES takes
 * them (the TCS segment, then every REG page in order), and its SIGSTRUCT,
 * which EINIT wants page aligned.
 */
struct xp_made {
	struct sgx_sigstruct sigstruct __attribute__((aligned(PAGE_SIZE)));
	struct xp_shape shape;
	uint8_t mrsigner[32];
	uint8_t *tcs_src;
	uint8_t *reg_src;
};

static EVP_PKEY *xp_key;
static struct xp_made *xp_made[XP_MADE_MAX];
static unsigned int xp_nr_made;

static unsigned int xp_first_page(const struct xp_layout *l)
{
	return 2 * l->nr_tcs + 1 + l->copy_page;
}

/* SSA frames, the OP page, the COPY page and the data pages. */
static unsigned int xp_reg_pages(const struct xp_shape *shape)
{
	return shape->nr_tcs + 1 + shape->copy_page + shape->data_pages;
}

uint64_t xp_page_offset(const struct xp_env *env, unsigned int page)
{
	return (uint64_t)(xp_first_page(&env->layout) + page) * PAGE_SIZE;
}

uint64_t xp_page_lin(const struct xp_env *env, unsigned int page)
{
	return env->base + xp_page_offset(env, page);
}

uint64_t xp_tcs_lin(const struct xp_env *env, unsigned int tcs)
{
	return env->base + (uint64_t)tcs * PAGE_SIZE;
}

uint64_t xp_op_lin(const struct xp_env *env)
{
	return env->base + 2ULL * env->layout.nr_tcs * PAGE_SIZE;
}

uint64_t xp_copy_lin(const struct xp_env *env)
{
	return xp_op_lin(env) + PAGE_SIZE;
}

/* Distinct for every page and slot, never 0, so a lost write shows. */
uint64_t xp_slot_pattern(unsigned int page, unsigned int slot)
{
	return 0x5a5a000000000000ULL | (uint64_t)(page + 1) << 16 | slot;
}

void xp_violation(struct xp_env *env, const char *fmt, ...)
{
	va_list ap;

	if (env->w->violation[0])
		return;
	va_start(ap, fmt);
	vsnprintf(env->w->violation, sizeof(env->w->violation), fmt, ap);
	va_end(ap);
}

static void xp_fill_tcs(uint8_t *page, uint64_t ssa_offset,
			uint64_t entry_offset)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)page;

	memset(tcs, 0, sizeof(*tcs));
	tcs->ssa_offset = ssa_offset;
	tcs->nr_ssa_frames = 1;
	tcs->entry_offset = entry_offset;
	tcs->fs_limit = 0xFFFFFFFF;
	tcs->gs_limit = 0xFFFFFFFF;
}

static void xp_fill_slots(uint8_t *page, unsigned int pattern)
{
	for (unsigned int s = 0; s < XP_SLOTS; s++)
		memcpy(page + s * XP_SLOT_STRIDE,
		       &(uint64_t){ xp_slot_pattern(pattern, s) }, 8);
}

/*
 * TCS i uses SSA page nr_tcs + i and enters at the OP page. The REG pages:
 * SSA frames and the OP page zeroed, the COPY page with the pattern of
 * page XP_PAGES_MAX, data page i with the pattern of page i, or else a TCS
 * image (its SSA frame is frame 0: it is accepted, never entered).
 */
static int xp_make_sources(struct xp_made *m)
{
	const struct xp_shape *sh = &m->shape;
	size_t reg = xp_reg_pages(sh), first = sh->nr_tcs + 1;

	m->tcs_src = aligned_alloc(PAGE_SIZE, sh->nr_tcs * PAGE_SIZE);
	m->reg_src = aligned_alloc(PAGE_SIZE, reg * PAGE_SIZE);
	if (!m->tcs_src || !m->reg_src)
		return -ENOMEM;
	memset(m->reg_src, 0, reg * PAGE_SIZE);
	for (unsigned int i = 0; i < sh->nr_tcs; i++)
		xp_fill_tcs(m->tcs_src + i * PAGE_SIZE,
			    (uint64_t)(sh->nr_tcs + i) * PAGE_SIZE,
			    2ULL * sh->nr_tcs * PAGE_SIZE);
	if (sh->copy_page)
		xp_fill_slots(m->reg_src + first++ * PAGE_SIZE, XP_PAGES_MAX);
	for (unsigned int i = 0; i < sh->data_pages; i++) {
		uint8_t *page = m->reg_src + (first + i) * PAGE_SIZE;

		if (sh->tcs_image)
			xp_fill_tcs(page, (uint64_t)sh->nr_tcs * PAGE_SIZE, 0);
		else
			xp_fill_slots(page, i);
	}
	return 0;
}

/* The ECREATE and EADD records, in the order the pages are added. */
static int xp_measure(const struct xp_shape *sh, uint8_t mrenclave[32])
{
	struct sgx_enclave_hash h;
	uint64_t offset = 0;
	unsigned int reg = xp_reg_pages(sh);

	if (sgx_enclave_hash_start(&h, 1, sh->size))
		return -EIO;
	for (unsigned int i = 0; i < sh->nr_tcs + reg; i++) {
		uint64_t flags = i < sh->nr_tcs ? XP_SECINFO_TCS :
						  XP_SECINFO_REG_RW;

		if (sgx_enclave_hash_eadd(&h, offset, flags)) {
			sgx_enclave_hash_finish(&h, mrenclave);
			return -EIO;
		}
		offset += PAGE_SIZE;
	}
	return sgx_enclave_hash_finish(&h, mrenclave) ? -EIO : 0;
}

static int xp_make(struct xp_made *m)
{
	uint8_t mrenclave[32];

	if (!xp_key)
		xp_key = sgx_sign_generate_key();
	if (!xp_key || xp_make_sources(m) || xp_measure(&m->shape, mrenclave))
		return -ENOMEM;
	if (sgx_sign_sigstruct(&m->sigstruct, xp_key, mrenclave,
			       SGX_ATTR_MODE64BIT, 3) ||
	    sgx_sign_key_mrsigner(xp_key, m->mrsigner))
		return -EIO;
	return 0;
}

/* The layout's sources and SIGSTRUCT: made at the first use, then kept. */
static const struct xp_made *xp_layout_made(const struct xp_layout *l,
					    uint64_t size)
{
	struct xp_shape shape;
	struct xp_made *m;

	memset(&shape, 0, sizeof(shape));
	shape.size = size;
	shape.nr_tcs = l->nr_tcs;
	shape.data_pages = l->data_pages;
	shape.copy_page = l->copy_page;
	shape.tcs_image = l->tcs_image;
	for (unsigned int i = 0; i < xp_nr_made; i++)
		if (!memcmp(&xp_made[i]->shape, &shape, sizeof(shape)))
			return xp_made[i];
	if (xp_nr_made == XP_MADE_MAX)
		return NULL;
	m = aligned_alloc(PAGE_SIZE, sizeof(*m));
	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->shape = shape;
	if (xp_make(m)) {
		free(m->tcs_src);
		free(m->reg_src);
		free(m);
		return NULL;
	}
	xp_made[xp_nr_made++] = m;
	return m;
}

static uint64_t xp_elrange_size(const struct xp_layout *l)
{
	uint64_t total = (uint64_t)(xp_first_page(l) + l->data_pages +
				    l->holes) * PAGE_SIZE;
	uint64_t size = 2 * PAGE_SIZE;

	while (size < total)
		size <<= 1;
	return size;
}

static bool xp_layout_valid(const struct xp_layout *l)
{
	return l->nr_tcs >= 1 && l->nr_tcs <= XP_TCS_MAX &&
	       l->data_pages + l->holes <= XP_PAGES_MAX && l->nr_lps &&
	       l->nr_lps <= XP_THREADS_MAX && l->epc_pages &&
	       (!l->tcs_image || !l->bare);
}

/* ---- The enclave through the driver ------------------------------------ */

static long xp_ioctl(struct sgx_file *file, unsigned int cmd, void *arg)
{
	return sgx_ioctl(file, cmd, (unsigned long)(uintptr_t)arg);
}

/* What CREATE is given (and the bare build's ECREATE): one per process. */
static struct sgx_secs *xp_secs(const struct xp_env *env)
{
	static struct sgx_secs secs;

	memset(&secs, 0, sizeof(secs));
	secs.base = env->base;
	secs.size = env->size;
	secs.ssa_frame_size = 1;
	secs.attributes = SGX_ATTR_MODE64BIT;
	secs.xfrm = 3;
	return &secs;
}

static long xp_create(struct xp_env *env, struct sgx_file *file)
{
	struct sgx_enclave_create arg = {
		.src = (uint64_t)(uintptr_t)xp_secs(env),
	};

	return xp_ioctl(file, SGX_IOC_ENCLAVE_CREATE, &arg);
}

static long xp_add_pages(struct sgx_file *file, const uint8_t *src,
			 uint64_t offset, unsigned int pages, uint64_t flags)
{
	struct sgx_secinfo secinfo = { .flags = flags };
	struct sgx_enclave_add_pages arg = {
		.src = (uint64_t)(uintptr_t)src,
		.offset = offset,
		.length = (uint64_t)pages * PAGE_SIZE,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
	};

	return xp_ioctl(file, SGX_IOC_ENCLAVE_ADD_PAGES, &arg);
}

/* The two segments in mm: the TCS pages, then every REG page, both RW. */
static int xp_map(struct xp_env *env, struct sgx_file *file,
		  struct sgx_mm *mm)
{
	const unsigned long rw = SGX_PROT_READ | SGX_PROT_WRITE;
	const unsigned long fixed = SGX_MAP_SHARED | SGX_MAP_FIXED;
	uint64_t tcs_len = (uint64_t)env->layout.nr_tcs * PAGE_SIZE;
	int ret;

	ret = sgx_mmap(file, mm, env->base, tcs_len, rw, fixed);
	if (!ret)
		ret = sgx_mmap(file, mm, env->base + tcs_len,
			       env->size - tcs_len, rw, fixed);
	return ret;
}

/* Two segments: the TCS pages, RW to user space, then every REG page. */
static long xp_build_driver(struct xp_env *env, const struct xp_made *m,
			    struct sgx_file *file)
{
	uint64_t tcs_len = (uint64_t)env->layout.nr_tcs * PAGE_SIZE;
	struct sgx_enclave_init init = {
		.sigstruct = (uint64_t)(uintptr_t)&m->sigstruct,
	};
	long ret;

	ret = xp_create(env, file);
	if (!ret)
		ret = xp_add_pages(file, m->tcs_src, 0, env->layout.nr_tcs,
				   XP_SECINFO_TCS);
	if (!ret)
		ret = xp_add_pages(file, m->reg_src, tcs_len,
				   xp_reg_pages(&m->shape), XP_SECINFO_REG_RW);
	if (!ret)
		ret = xp_ioctl(file, SGX_IOC_ENCLAVE_INIT, &init);
	if (!ret)
		ret = xp_map(env, file, env->w->mm);
	return ret;
}

static int xp_driver_init(struct xp_env *env, const struct xp_made *m)
{
	struct xp_world *w = env->w;
	struct sgx_driver_config cfg = {
		.sgx2 = true,
		.etrack_batch = w->etrack_batch,
		.no_loop_checks = w->no_loop_checks,
#ifdef SGXEMU_PLANTS
		.plants = w->plants,
#endif
	};
	int ret;

	ret = sgx_driver_init(&w->drv, &w->cpu, &w->sim.plat, &cfg);
	if (ret)
		return ret;
	env->driver = true;
	ret = sgx_mm_create(&w->drv, &w->mm);
	if (!ret)
		ret = sgx_open(&w->drv, &w->file);
	if (ret)
		return ret;
	env->encl = w->file->encl;
	return (int)xp_build_driver(env, m, w->file);
}

/* ---- The enclave with bare leaves (the adversary's world) -------------- */

static uint64_t xp_bare_alloc(struct xp_env *env)
{
	ASSERT(env->bare_next < env->w->cpu.cfg.epc_pages);
	return sgx_epc_addr(&env->w->cpu, env->bare_next++);
}

static int xp_bare_eadd(struct xp_env *env, uint64_t offset,
			const uint8_t *src, uint64_t flags)
{
	struct sgx_secinfo secinfo = { .flags = flags };
	struct sgx_pageinfo pi = {
		.linaddr = env->base + offset,
		.srcpge = (uint64_t)(uintptr_t)src,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
		.secs = env->bare_secs,
	};
	uint64_t epc = xp_bare_alloc(env);
	int ret = encls_eadd(&env->w->cpu.lps[0], &pi, epc);

	if (ret)
		return -EIO;
	return sgx_pgtable_map(&env->pgtable, pi.linaddr, epc,
			       SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX);
}

static int xp_bare_ecreate(struct xp_env *env)
{
	struct sgx_secinfo secinfo = { 0 };
	struct sgx_pageinfo pi = {
		.srcpge = (uint64_t)(uintptr_t)xp_secs(env),
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
	};

	env->bare_secs = xp_bare_alloc(env);
	if (encls_ecreate(&env->w->cpu.lps[0], &pi, env->bare_secs))
		return -EIO;
	env->bare_va = xp_bare_alloc(env);
	return encls_epa(&env->w->cpu.lps[0], PT_VA, env->bare_va) ? -EIO : 0;
}

/* ECREATE, EPA, EADD of every page in the driver's order, then EINIT. */
static int xp_bare_init(struct xp_env *env, const struct xp_made *m)
{
	static struct sgx_einittoken token;
	struct sgx_cpu *cpu = &env->w->cpu;
	unsigned int nr_tcs = env->layout.nr_tcs;
	int ret;

	if (sgx_pgtable_init(&env->pgtable))
		return -ENOMEM;
	env->bare = true;
	ret = xp_bare_ecreate(env);
	for (unsigned int i = 0; !ret && i < nr_tcs; i++)
		ret = xp_bare_eadd(env, (uint64_t)i * PAGE_SIZE,
				   m->tcs_src + i * PAGE_SIZE, XP_SECINFO_TCS);
	for (unsigned int i = 0; !ret && i < xp_reg_pages(&m->shape); i++)
		ret = xp_bare_eadd(env, (uint64_t)(nr_tcs + i) * PAGE_SIZE,
				   m->reg_src + i * PAGE_SIZE,
				   XP_SECINFO_REG_RW);
	if (ret)
		return ret;
	/* What Linux's sgx_update_lepubkeyhash() does before EINIT. */
	memcpy(cpu->lps[0].lepubkeyhash, m->mrsigner, sizeof(m->mrsigner));
	if (encls_einit(&cpu->lps[0], &m->sigstruct, env->bare_secs, &token))
		return -EIO;
	for (unsigned int i = 0; i < cpu->cfg.nr_lps; i++)
		cpu->lps[i].pgtable = &env->pgtable;
	return 0;
}

/* ---- CPUs, reused ------------------------------------------------------ */

/*
 * Making a CPU maps its EPC and EPCM, and unmapping them flushes TLBs, which
 * costs more than a whole short run; so the CPUs of finished executions are
 * kept and handed out again, through sgx_cpu_reset(): exactly what
 * sgx_cpu_init() makes, without mapping anything. A kept CPU serves any
 * configuration with its EPC size and LP count (the secrets come from the
 * seed, which is always XP_CPU_SEED).
 */
#define XP_CPUS_MAX 16

struct xp_spare_cpu {
	struct sgx_cpu cpu;
	bool in_use;
};

static struct xp_spare_cpu xp_cpus[XP_CPUS_MAX];
static bool xp_cpus_forget_on_fork;

/*
 * A kept CPU's EPC is a shared mapping (a memfd), so a process forked
 * from this one (the explorer's workers) would share it with its parent
 * and its siblings: the child forgets the kept CPUs and makes its own.
 */
static void xp_cpus_forget(void)
{
	memset(xp_cpus, 0, sizeof(xp_cpus));
}

static struct xp_spare_cpu *xp_spare(const struct sgx_cpu_config *cfg)
{
	struct xp_spare_cpu *empty = NULL;

	if (!xp_cpus_forget_on_fork &&
	    !pthread_atfork(NULL, NULL, xp_cpus_forget))
		xp_cpus_forget_on_fork = true;
	if (!xp_cpus_forget_on_fork)
		return NULL;

	for (unsigned int i = 0; i < XP_CPUS_MAX; i++) {
		struct xp_spare_cpu *c = &xp_cpus[i];

		if (!c->cpu.lps) {
			empty = empty ? empty : c;
			continue;
		}
		if (!c->in_use && c->cpu.cfg.epc_pages == cfg->epc_pages &&
		    c->cpu.cfg.nr_lps == cfg->nr_lps)
			return c;
	}
	if (empty && sgx_cpu_init(&empty->cpu, cfg))
		return NULL;
	return empty;
}

/* w->cpu as sgx_cpu_init(cfg) would make it; false if none can be had. */
static bool xp_cpu_get(struct xp_world *w, const struct sgx_cpu_config *cfg)
{
	struct xp_spare_cpu *c = xp_spare(cfg);

	if (!c)
		return false;
	c->in_use = true;
	memcpy(&w->cpu, &c->cpu, sizeof(w->cpu));
	w->cpu.cfg = *cfg;
	sgx_cpu_reset(&w->cpu);
	return true;
}

static void xp_cpu_put(struct xp_world *w)
{
	for (unsigned int i = 0; i < XP_CPUS_MAX; i++)
		if (xp_cpus[i].in_use && xp_cpus[i].cpu.lps == w->cpu.lps)
			xp_cpus[i].in_use = false;
	memset(&w->cpu, 0, sizeof(w->cpu));
}

/* ---- One execution's world --------------------------------------------- */

static int xp_cpu_init(struct xp_world *w, const struct xp_layout *l)
{
	struct sgx_cpu_config cfg = {
		.epc_pages = l->epc_pages,
		.nr_lps = l->nr_lps,
		.seed = XP_CPU_SEED,
		/* The explorer checks and reports; it must not abort. */
		.check_invariants = false,
#ifdef SGXEMU_PLANTS
		.plants = w->plants,
#endif
	};

	if (!xp_cpu_get(w, &cfg))
		return -ENOMEM;
	return sim_init(&w->sim, &w->cpu);
}

/* What the data pages hold after the build. */
static void xp_env_shadow_init(struct xp_env *env)
{
	for (unsigned int i = 0; i < env->layout.data_pages; i++) {
		env->known[i] = !env->layout.tcs_image;
		for (unsigned int s = 0; s < XP_SLOTS; s++)
			env->shadow[i][s] = xp_slot_pattern(i, s);
	}
}

/**
 * xp_env_build() - build the machine of one execution in @w and its
 * enclave, in sim's direct mode (no thread runs yet).
 * @w: the world, with etrack_batch, plants and seed set by the explorer
 * @layout: what to build
 * @out: receives the scenario state, also stored in w->priv
 *
 * Return: 0, -EINVAL for a bad layout, -ENOMEM, or the error of the step
 * that failed; xp_env_destroy() cleans up in every case.
 */
int xp_env_build(struct xp_world *w, const struct xp_layout *layout,
		 struct xp_env **out)
{
	struct xp_env *env;
	const struct xp_made *m;
	int ret;

	if (!xp_layout_valid(layout))
		return -EINVAL;
	env = calloc(1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	env->w = w;
	env->layout = *layout;
	env->base = XP_BASE;
	env->size = xp_elrange_size(layout);
	w->priv = env;
	*out = env;
	m = xp_layout_made(layout, env->size);
	if (!m)
		return -ENOMEM;
	ret = xp_cpu_init(w, layout);
	if (ret)
		return ret;
	env->cpu_ready = true;
	xp_env_shadow_init(env);
	if (layout->bare)
		return xp_bare_init(env, m);
	return xp_driver_init(env, m);
}

int xp_env_spawn(struct xp_env *env, const char *name, unsigned int lp,
		 void (*fn)(void *arg), void *arg)
{
	int ret = sim_spawn(&env->w->sim, name, lp, false, fn, arg);

	return ret < 0 ? ret : 0;
}

/*
 * Sleep until the flag is raised or the counter moves past seen, whichever
 * the caller gave. The sleep is the platform's ksgxd wait queue, which no
 * scenario runs ksgxd on; a waker wakes every sleeper, and each looks again.
 */
void xp_env_wait(struct xp_env *env, const bool *flag,
		 const uint64_t *counter, uint64_t seen)
{
	const struct sgx_platform *plat = &env->w->sim.plat;

	while (!(flag && *flag) && !(counter && *counter != seen))
		plat->ksgxd_sleep(plat->ctx);
}

/* Whether a reclaim batch (ksgxd's or a direct one) holds a page of env. */
static bool xp_reclaim_running(const struct xp_env *env)
{
	const struct sgx_encl *encl = env->encl;

	if (!encl)
		return false;
	for (uint64_t off = 0; off < env->size; off += PAGE_SIZE) {
		const struct sgx_encl_page *p =
			sgx_encl_lookup(encl, env->base + off);

		/* Evicted, the bit belongs to the VA offset. */
		if (p && p->epc_page &&
		    (p->desc & SGX_ENCL_PAGE_BEING_RECLAIMED))
			return true;
	}
	return false;
}

/*
 * Until EPC pages may have been freed: the reclaimer finishes a batch or
 * an EPC hog lets its pages go. No wait once neither will happen, unless a
 * direct reclaim still holds a page (it ends with its caller's next wake).
 */
void xp_env_wait_epc(struct xp_env *env, uint64_t seen)
{
	const struct sgx_platform *plat = &env->w->sim.plat;

	while (env->reclaims == seen &&
	       (env->epc_hogged || !env->reclaimer_done ||
		xp_reclaim_running(env)))
		plat->ksgxd_sleep(plat->ctx);
}

void xp_env_wake(struct xp_env *env)
{
	const struct sgx_platform *plat = &env->w->sim.plat;

	plat->ksgxd_wake(plat->ctx);
}

/**
 * xp_env_fork() - a second process with the enclave mapped as its parent
 * maps it, as fork() copies the VMAs (whose open joins the mm to the
 * enclave's mm_list): env->fork_mm, which teardown ends if its thread did
 * not. In direct mode, after the build. MODEL: the child's VMAs are made
 * by mmap() of the same ranges, which joins the mm to mm_list through the
 * driver's mmap as fork's vm_open would; no other state is copied (the
 * enclave keeps none per mm beyond the list entry).
 * @env: the scenario state, of a driver layout
 *
 * Return: 0, -ENOMEM, or the error of the mapping.
 */
int xp_env_fork(struct xp_env *env)
{
	int ret = sgx_mm_create(&env->w->drv, &env->fork_mm);

	return ret ? ret : xp_map(env, env->w->file, env->fork_mm);
}

/**
 * xp_env_second() - a second enclave of the same layout, through its own
 * /dev/sgx_enclave file, mapped in the same process at XP_BASE2: its state
 * is env->second, which shares env's world (the CPU, the driver, the mm).
 * In direct mode, after the build of env.
 * @env: the scenario state, of a driver layout
 *
 * Return: 0, -ENOMEM, or the error of the step that failed; destroying
 * env cleans up in every case.
 */
int xp_env_second(struct xp_env *env)
{
	const struct xp_made *m = xp_layout_made(&env->layout, env->size);
	struct xp_env *two = calloc(1, sizeof(*two));
	int ret;

	if (!two || !m) {
		free(two);
		return -ENOMEM;
	}
	two->w = env->w;
	two->layout = env->layout;
	two->base = XP_BASE2;
	two->size = env->size;
	two->cpu_ready = true;
	two->driver = true;
	xp_env_shadow_init(two);
	env->second = two;
	ret = sgx_open(&env->w->drv, &two->file);
	if (ret)
		return ret;
	two->encl = two->file->encl;
	return (int)xp_build_driver(two, m, two->file);
}

/**
 * xp_env_teardown() - the process closes the enclave file and exits, in
 * direct mode after a run that finished. Every EPC page should be free
 * afterwards.
 * @env: the scenario state
 */
void xp_env_teardown(struct xp_env *env)
{
	struct xp_world *w = env->w;

	if (env->torn_down)
		return;
	env->torn_down = true;
	if (!env->driver)
		return;
	if (w->file) {
		sgx_release(w->file);
		w->file = NULL;
	}
	if (env->second && env->second->file) {
		sgx_release(env->second->file);
		env->second->file = NULL;
		env->second->encl = NULL;
	}
	if (w->mm) {
		sgx_mm_destroy(w->mm);
		w->mm = NULL;
	}
	if (env->fork_mm) {
		sgx_mm_destroy(env->fork_mm);
		env->fork_mm = NULL;
	}
	env->encl = NULL;
}

static bool xp_all_done(const struct sim *s)
{
	for (unsigned int i = 0; i < s->nr_threads; i++)
		if (s->threads[i].state != SIM_DONE)
			return false;
	return true;
}

/*
 * A run the explorer ended early leaves threads suspended, with locks and
 * references held. Let them finish, unobserved, so that teardown can free
 * everything; if they cannot (a deadlock, a livelock), the enclave's memory
 * is left behind rather than freed under a thread that still uses it.
 */
static bool xp_finish_threads(struct xp_world *w)
{
	struct sim *s = &w->sim;

	if (xp_all_done(s))
		return true;
	memset(&s->hooks, 0, sizeof(s->hooks));
	s->choose = sim_choose_round_robin;
	s->steps_max = s->stats.steps + XP_FINISH_STEPS;
	return sim_run(s) == 0 && xp_all_done(s);
}

/**
 * xp_env_destroy() - free the world of one execution, whatever state its
 * run ended in (also after a failed build).
 * @w: the world; w->priv is the scenario state, or NULL
 */
void xp_env_destroy(struct xp_world *w)
{
	struct xp_env *env = w->priv;

	if (!env)
		return;
	if (env->cpu_ready) {
		if (xp_finish_threads(w)) {
			xp_env_teardown(env);
			if (env->driver)
				sgx_driver_destroy(&w->drv);
		}
		sim_destroy(&w->sim);
		xp_cpu_put(w);
	}
	if (env->bare)
		sgx_pgtable_destroy(&env->pgtable);
	free(env->scenario);
	free(env->second);
	free(env);
	w->priv = NULL;
}
