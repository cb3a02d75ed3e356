// SPDX-License-Identifier: MIT
/*
 * The benchmark's workload (see workload.h). The enclave, by page number
 * from its base:
 *   0 .. t-1      TCS pages, TCS i with its SSA frame at page t + i
 *   t .. 2t-1     SSA frames
 *   2t            the OP page: entry point and the SECINFO for EACCEPT
 *   2t + 1 ...    the heap: N pages, added after EINIT by EAUG faults
 * where t = max(1, threads). Nothing is measured, so MRENCLAVE depends on t
 * and the ELRANGE size alone; the key is made once per process.
 */
#include "bench/workload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "kernel/driver.h"
#include "platform/sim.h"
#include "sgxemu/uapi.h"
#include "sign/enclave_hash.h"
#include "sign/sign.h"

/* The lowest base; ELRANGE is naturally aligned, so larger ones go higher. */
#define BENCH_BASE 0x100000000ULL
#define BENCH_AEP 0x7000AE9000ULL /* outside ELRANGE: where an AEX lands */
#define BENCH_PAGES_MAX (4ULL << 20)
/*
 * The EPC beyond the enclave's pages and its VA pages (one per
 * SGX_VA_SLOT_COUNT pages, as sgx_encl_grow() adds them): SECS and room
 * above the watermarks, so that nothing is ever reclaimed.
 */
#define BENCH_EPC_SLACK 256

#define SECINFO_TCS SGX_SECINFO_TYPE(PT_TCS)
#define SECINFO_RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)
#define SECINFO_AUG (SECINFO_RW | SGX_SECINFO_PENDING)

struct bench_machine {
	const struct bench_point *p;
	unsigned int nr_tcs;
	uint64_t base, size; /* ELRANGE */
	struct sgx_cpu cpu;
	struct sim sim;
	struct sgx_driver drv;
	struct sgx_mm *mm;
	struct sgx_file *file;
	bool cpu_up, sim_up, drv_up;
	unsigned int threads_in; /* LPs 1..threads_in are inside */
};

_Static_assert(sizeof(struct sgx_sigstruct) <= PAGE_SIZE, "one page");

static EVP_PKEY *bench_key;

const char *bench_op_name(enum bench_op op)
{
	return op == BENCH_TRIM ? "trim" : "restrict";
}

static uint64_t heap_first(const struct bench_machine *m)
{
	return 2ULL * m->nr_tcs + 1;
}

static uint64_t page_lin(const struct bench_machine *m, uint64_t page)
{
	return m->base + page * PAGE_SIZE;
}

static bool point_valid(const struct bench_point *p)
{
	return p->pages && p->pages <= BENCH_PAGES_MAX && p->cpus &&
	       p->cpus <= BENCH_CPUS_MAX && p->threads < p->cpus &&
	       (p->op == BENCH_RESTRICT || p->op == BENCH_TRIM);
}

/* ---- Building the enclave ---------------------------------------------- */

static long ioctl_of(struct bench_machine *m, unsigned int cmd, void *arg)
{
	return sgx_ioctl(m->file, cmd, (unsigned long)(uintptr_t)arg);
}

static long add_pages(struct bench_machine *m, const void *src,
		      uint64_t first, uint64_t pages, uint64_t flags)
{
	struct sgx_secinfo secinfo = { .flags = flags };
	struct sgx_enclave_add_pages arg = {
		.src = (uint64_t)(uintptr_t)src,
		.offset = first * PAGE_SIZE,
		.length = pages * PAGE_SIZE,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
	};

	return ioctl_of(m, SGX_IOC_ENCLAVE_ADD_PAGES, &arg);
}

/* The TCS pages, then the SSA frames and the OP page, all zero but TCSs. */
static long add_all(struct bench_machine *m)
{
	size_t t = m->nr_tcs;
	uint8_t *src = aligned_alloc(PAGE_SIZE, (t + 1) * PAGE_SIZE);
	long ret;

	if (!src)
		return -ENOMEM;
	memset(src, 0, (t + 1) * PAGE_SIZE);
	for (size_t i = 0; i < t; i++) {
		struct sgx_tcs *tcs = (struct sgx_tcs *)(src + i * PAGE_SIZE);

		tcs->ssa_offset = (t + i) * PAGE_SIZE;
		tcs->nr_ssa_frames = 1;
		tcs->entry_offset = 2 * t * PAGE_SIZE;
		tcs->fs_limit = 0xFFFFFFFF;
		tcs->gs_limit = 0xFFFFFFFF;
	}
	ret = add_pages(m, src, 0, t, SECINFO_TCS);
	memset(src, 0, (t + 1) * PAGE_SIZE);
	if (!ret)
		ret = add_pages(m, src, t, t, SECINFO_RW);
	if (!ret)
		ret = add_pages(m, src, 2 * t, 1, SECINFO_RW);
	free(src);
	return ret;
}

static int sign(struct bench_machine *m, struct sgx_sigstruct *sig)
{
	struct sgx_enclave_hash h;
	uint8_t mrenclave[32];
	bool bad = false;

	if (!bench_key)
		bench_key = sgx_sign_tool_key();
	if (!bench_key || sgx_enclave_hash_start(&h, 1, m->size))
		return -ENOMEM;
	for (uint64_t i = 0; i < heap_first(m); i++)
		bad |= sgx_enclave_hash_eadd(&h, i * PAGE_SIZE,
					     i < m->nr_tcs ? SECINFO_TCS :
							     SECINFO_RW) != 0;
	bad |= sgx_enclave_hash_finish(&h, mrenclave) != 0;
	if (bad || sgx_sign_sigstruct(sig, bench_key, mrenclave,
				      SGX_ATTR_MODE64BIT, 3))
		return -EIO;
	return 0;
}

static int build_enclave(struct bench_machine *m)
{
	struct sgx_secs secs = {
		.base = m->base,
		.size = m->size,
		.ssa_frame_size = 1,
		.attributes = SGX_ATTR_MODE64BIT,
		.xfrm = 3,
	};
	struct sgx_enclave_create create = { .src = (uintptr_t)&secs };
	/* A whole page: aligned_alloc() wants a multiple of the alignment. */
	struct sgx_sigstruct *sig = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	struct sgx_enclave_init init = { .sigstruct = (uintptr_t)sig };
	long ret = sig ? sign(m, sig) : -ENOMEM;

	if (!ret)
		ret = ioctl_of(m, SGX_IOC_ENCLAVE_CREATE, &create);
	if (!ret)
		ret = add_all(m);
	if (!ret)
		ret = ioctl_of(m, SGX_IOC_ENCLAVE_INIT, &init);
	if (!ret)
		ret = sgx_mmap(m->file, m->mm, m->base, m->size,
			       SGX_PROT_READ | SGX_PROT_WRITE,
			       SGX_MAP_SHARED | SGX_MAP_FIXED);
	free(sig);
	return ret ? -EIO : 0;
}

/*
 * Every page mapped, as the enclave's first touches would map them: the
 * pages added before EINIT are loaded, the heap's get EAUG. Then the heap
 * is EACCEPTed from inside.
 */
static int grow_heap(struct bench_machine *m)
{
	struct sgx_lp *lp = &m->cpu.lps[0];
	const struct sgx_secinfo secinfo = { .flags = SECINFO_AUG };
	uint64_t op = page_lin(m, 2ULL * m->nr_tcs);
	const uint32_t write = X86_PF_USER | X86_PF_WRITE;

	for (uint64_t i = 0; i < heap_first(m) + m->p->pages; i++)
		if (sgx_user_fault(m->mm, page_lin(m, i), write) !=
		    SGX_FAULT_FIXED)
			return -EIO;
	if (enclu_eenter(lp, page_lin(m, 0), BENCH_AEP) ||
	    sgx_lp_write(lp, op, &secinfo, sizeof(secinfo)))
		return -EIO;
	for (uint64_t i = 0; i < m->p->pages; i++)
		if (enclu_eaccept(lp, op, page_lin(m, heap_first(m) + i)))
			return -EIO;
	return enclu_eexit(lp, BENCH_AEP) ? -EIO : 0;
}

/* ---- The machine -------------------------------------------------------- */

static uint64_t elrange_size(uint64_t pages)
{
	uint64_t size = 2 * PAGE_SIZE;

	while (size < pages * PAGE_SIZE)
		size <<= 1;
	return size;
}

static uint64_t epc_pages(uint64_t encl_pages)
{
	return encl_pages + encl_pages / SGX_VA_SLOT_COUNT + 1 +
	       BENCH_EPC_SLACK;
}

static int machine_up(struct bench_machine *m)
{
	const struct sgx_cpu_config cpu_cfg = {
		.epc_pages = epc_pages(heap_first(m) + m->p->pages),
		.nr_lps = m->p->cpus,
		.seed = 0x62656e6368ULL,
	};
	const struct sgx_driver_config drv_cfg = {
		.sgx2 = true,
		.etrack_batch = m->p->etrack_batch,
		.no_loop_checks = m->p->no_loop_checks,
	};
	int ret = sgx_cpu_init(&m->cpu, &cpu_cfg);

	if (ret)
		return ret;
	m->cpu_up = true;
	ret = sim_init(&m->sim, &m->cpu);
	if (ret)
		return ret;
	m->sim_up = true;
	ret = sgx_driver_init(&m->drv, &m->cpu, &m->sim.plat, &drv_cfg);
	if (ret)
		return ret;
	m->drv_up = true;
	ret = sgx_mm_create(&m->drv, &m->mm);
	if (!ret)
		ret = sgx_open(&m->drv, &m->file);
	if (ret)
		return ret;
	sgx_mm_activate(m->mm, &m->cpu.lps[0]);
	ret = build_enclave(m);
	return ret ? ret : grow_heap(m);
}

static void machine_down(struct bench_machine *m)
{
	for (unsigned int i = 1; i <= m->threads_in; i++)
		ASSERT(!enclu_eexit(&m->cpu.lps[i], BENCH_AEP));
	if (m->file)
		sgx_release(m->file);
	if (m->mm)
		sgx_mm_destroy(m->mm);
	if (m->drv_up)
		sgx_driver_destroy(&m->drv);
	if (m->sim_up)
		sim_destroy(&m->sim);
	if (m->cpu_up)
		sgx_cpu_destroy(&m->cpu);
}

/*
 * The enclave threads' AEP handler: straight back in. Only the bench's
 * threads are ever inside when an IPI comes, so every AEX is one of them.
 */
static void resume_thread(void *ctx, const struct sgx_lp *lp, bool aex)
{
	struct bench_machine *m = ctx;
	struct sgx_lp *t = &m->cpu.lps[lp->id];

	if (aex)
		ASSERT(!enclu_eresume(t, page_lin(m, lp->id - 1), BENCH_AEP));
}

/* Threads on LPs 1..T, each inside on TCS id - 1, in mm_cpumask. */
static int start_threads(struct bench_machine *m)
{
	for (unsigned int i = 1; i <= m->p->threads; i++) {
		struct sgx_lp *lp = &m->cpu.lps[i];

		sgx_mm_activate(m->mm, lp);
		if (enclu_eenter(lp, page_lin(m, i - 1), BENCH_AEP))
			return -EIO;
		m->threads_in = i;
	}
	m->sim.hooks = (struct sim_hooks){ .ctx = m, .ipi = resume_thread };
	return 0;
}

/* ---- The measured call ------------------------------------------------- */

static long edmm_call(struct bench_machine *m, uint64_t *count)
{
	uint64_t offset = heap_first(m) * PAGE_SIZE;
	uint64_t length = m->p->pages * PAGE_SIZE;
	long ret;

	if (m->p->op == BENCH_TRIM) {
		struct sgx_enclave_modify_types mt = {
			.offset = offset, .length = length,
			.page_type = PT_TRIM,
		};

		ret = ioctl_of(m, SGX_IOC_ENCLAVE_MODIFY_TYPES, &mt);
		*count = mt.count;
	} else {
		struct sgx_enclave_restrict_permissions rp = {
			.offset = offset, .length = length,
			.permissions = SGX_SECINFO_R,
		};

		ret = ioctl_of(m, SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS, &rp);
		*count = rp.count;
	}
	return ret;
}

/*
 * What the enclave does after the call returns: EACCEPT every page of the
 * range with the SECINFO the change asks for, as a runtime must before it
 * relies on the change. On the first enclave thread (already inside), or
 * with none on the caller's LP, entering on TCS 0. Every EACCEPT must
 * succeed: one that finds its page untracked (SGX_NOT_TRACKED) means the
 * call counted a page it had not tracked. Returns the accepting LP's
 * cycles, or 0 if an EACCEPT failed.
 */
static uint64_t accept_all(struct bench_machine *m)
{
	unsigned int id = m->p->threads ? 1 : 0;
	struct sgx_lp *lp = &m->cpu.lps[id];
	const struct sgx_secinfo secinfo = {
		.flags = m->p->op == BENCH_TRIM ?
				 SGX_SECINFO_TYPE(PT_TRIM) |
					 SGX_SECINFO_MODIFIED :
				 SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
					 SGX_SECINFO_PR,
	};
	uint64_t op = page_lin(m, 2ULL * m->nr_tcs), start;
	bool ok = true;

	if (!id && enclu_eenter(lp, page_lin(m, 0), BENCH_AEP))
		return 0;
	start = m->sim.clock[id];
	ok = !sgx_lp_write(lp, op, &secinfo, sizeof(secinfo));
	for (uint64_t i = 0; ok && i < m->p->pages; i++)
		ok = !enclu_eaccept(lp, op, page_lin(m, heap_first(m) + i));
	start = m->sim.clock[id] - start;
	if (!id && enclu_eexit(lp, BENCH_AEP))
		return 0;
	return ok ? start : 0;
}

static void measure(struct bench_machine *m, const struct sgx_encl_stats *s0,
		    struct bench_result *r)
{
	const struct sgx_encl_stats *s = sgx_file_stats(m->file);

	r->latency_cycles = m->sim.clock[0];
	r->limit_cycles = bench_limit(m->p);
	r->etrack_flows = s->etrack_flows - s0->etrack_flows;
	r->ipi_rounds = s->ipi_rounds - s0->ipi_rounds;
	r->ipis = s->ipis - s0->ipis;
	r->aex_inflicted = s->ipi_aex - s0->ipi_aex;
	r->lost_cycles = 0;
	for (unsigned int i = 1; i <= m->p->threads; i++)
		r->lost_cycles += m->sim.clock[i];
	r->encl_lock_longest = m->file->encl->lock.longest_hold;
}

int bench_run(const struct bench_point *p, struct bench_result *r)
{
	struct bench_machine *m;
	struct sgx_encl_stats s0;
	uint64_t count = 0;
	int ret;

	if (!point_valid(p))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->p = p;
	m->nr_tcs = p->threads ? p->threads : 1;
	m->size = elrange_size(heap_first(m) + p->pages);
	m->base = m->size > BENCH_BASE ? m->size : BENCH_BASE;
	ret = machine_up(m);
	if (!ret)
		ret = start_threads(m);
	if (!ret) {
		s0 = *sgx_file_stats(m->file);
		m->file->encl->lock.longest_hold = 0;
		ASSERT(!sim_set_costs(&m->sim, &p->costs));
		if (edmm_call(m, &count) || count != p->pages * PAGE_SIZE)
			ret = -EIO;
		measure(m, &s0, r);
		r->accept_cycles = ret ? 0 : accept_all(m);
		if (!r->accept_cycles)
			ret = -EIO;
	}
	machine_down(m);
	free(m);
	return ret;
}

uint64_t bench_limit(const struct bench_point *p)
{
	const struct sgx_costs *c = &p->costs;
	uint64_t leaf = c->encls[p->op == BENCH_TRIM ? EMODT : EMODPR];
	uint64_t page = c->event[SGX_COST_PAGE_LOOKUP] + leaf +
			c->mutex_lock + c->mutex_unlock;

	return c->event[SGX_COST_SYSCALL] + p->pages * page +
	       bench_etrack_round(p);
}

uint64_t bench_etrack_round(const struct bench_point *p)
{
	const struct sgx_costs *c = &p->costs;

	return c->encls[ETRACK] + c->mutex_lock + c->mutex_unlock +
	       sgx_cost_ipi_round(c, p->threads, p->threads);
}
