// SPDX-License-Identifier: MIT
/*
 * The EPC, the EPCM and the package-wide state, with the invariants that tie
 * them together.
 *
 * EPC page life cycle (one EPCM entry; leaves name the edges):
 *
 *   free --ECREATE--> SECS --EREMOVE (no children)/EWB--> free
 *   free --EPA------> VA ----EREMOVE/EWB----------------> free
 *   free --EADD-----> REG|TCS (before EINIT)
 *   free --EAUG-----> REG RW PENDING (after EINIT) --EACCEPT--> REG RW
 *   REG  --EMODPR---> REG, rights ANDed, PR --EACCEPT (tracked)--> REG
 *   REG  --EMODT----> TCS|TRIM MODIFIED --EACCEPT (tracked)--> TCS|TRIM
 *   any child --EBLOCK--> BLOCKED --EWB (tracked)--> free (sealed outside)
 *   free --ELDU/ELDB--> restored from PCMD (BLOCKED for ELDB)
 *   child --EREMOVE--> free (no LP inside, or an accepted TRIM page)
 *
 * Invariants checked by sgx_cpu_check() (run after every leaf in tests):
 *   I1 a child page's ENCLAVESECS names a valid SECS page;
 *   I2 each SECS's child count equals its valid children;
 *   I3 each SECS's active count equals the LPs inside it, and its
 *      prev_active count equals those that entered before its epoch;
 *   I4 VA slot versions are unique across all VA pages;
 *   I5 an LP outside enclave mode has an empty TLB;
 *   I6 a TLB entry grants no more than the EPCM allows for a valid REG page
 *      of the running enclave at that address, unless the page still waits
 *      for tracking (the one window stale rights are architectural);
 *   I7 a SECS has no rights and no address; PENDING, MODIFIED and PR only
 *      appear on the page types that can carry them.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/internal.h"

static void derive_secret(const struct sgx_cpu_config *cfg, const char *label,
			  uint8_t *out, size_t len)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	ASSERT(ctx);
	ASSERT(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
	ASSERT(EVP_DigestUpdate(ctx, &cfg->seed, sizeof(cfg->seed)) == 1);
	ASSERT(EVP_DigestUpdate(ctx, label, strlen(label)) == 1);
	ASSERT(EVP_DigestFinal_ex(ctx, digest, &dlen) == 1);
	EVP_MD_CTX_free(ctx);
	ASSERT(len <= dlen);
	memcpy(out, digest, len);
}

static void *map_lazy(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int map_epc(struct sgx_cpu *cpu)
{
	size_t bytes = cpu->cfg.epc_pages * PAGE_SIZE;
	void *p;

	/* A memfd, so a native runner can map single EPC pages elsewhere. */
	cpu->epc_fd = memfd_create("sgxemu-epc", MFD_CLOEXEC);
	if (cpu->epc_fd < 0)
		return -errno;
	if (ftruncate(cpu->epc_fd, (off_t)bytes) < 0)
		return -errno;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_NORESERVE, cpu->epc_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	cpu->epc = p;
	return 0;
}

static size_t written_bytes(const struct sgx_cpu_config *cfg)
{
	return (cfg->epc_pages + 63) / 64 * sizeof(uint64_t);
}

/* Every LP outside enclave mode, registers clear, TLB empty. */
static void lps_init(struct sgx_cpu *cpu)
{
	memset(cpu->lps, 0, cpu->cfg.nr_lps * sizeof(*cpu->lps));
	for (unsigned int i = 0; i < cpu->cfg.nr_lps; i++) {
		cpu->lps[i].cpu = cpu;
		cpu->lps[i].id = i;
		cpu->lps[i].tlb_gen = 1;
	}
}

int sgx_cpu_init(struct sgx_cpu *cpu, const struct sgx_cpu_config *cfg)
{
	int ret;

	memset(cpu, 0, sizeof(*cpu));
	cpu->epc_fd = -1;
	if (!cfg->epc_pages || cfg->epc_pages > SGX_EPC_PAGES_MAX ||
	    !cfg->nr_lps || cfg->nr_lps > SGX_LPS_MAX)
		return -EINVAL;
	cpu->cfg = *cfg;
	ret = map_epc(cpu);
	if (ret)
		goto err;
	ret = -ENOMEM;
	cpu->epcm = map_lazy(cfg->epc_pages * sizeof(*cpu->epcm));
	cpu->epc_written = map_lazy(written_bytes(cfg));
	cpu->lps = calloc(cfg->nr_lps, sizeof(*cpu->lps));
	if (!cpu->epcm || !cpu->epc_written || !cpu->lps)
		goto err;
	lps_init(cpu);
	cpu->next_eid = 1;
	cpu->next_version = 1;
	derive_secret(cfg, "paging", cpu->paging_key, sizeof(cpu->paging_key));
	derive_secret(cfg, "report", cpu->report_key_secret, 32);
	derive_secret(cfg, "seal", cpu->seal_key_secret, 32);
	derive_secret(cfg, "cpusvn", cpu->cpusvn, sizeof(cpu->cpusvn));
	return 0;
err:
	sgx_cpu_destroy(cpu);
	return ret;
}

/*
 * Memory stays mapped and the secrets stay, as they derive from cfg.seed
 * alone: mapping and faulting in a fresh EPC costs far more than a short
 * explorer run. Zeroing is proportional to the EPC size.
 */
void sgx_cpu_reset(struct sgx_cpu *cpu)
{
	memset(cpu->epc, 0, cpu->cfg.epc_pages * PAGE_SIZE);
	memset(cpu->epcm, 0, cpu->cfg.epc_pages * sizeof(*cpu->epcm));
	memset(cpu->epc_written, 0, written_bytes(&cpu->cfg));
	lps_init(cpu);
	cpu->next_eid = 1;
	cpu->next_version = 1;
	memset(&cpu->hooks, 0, sizeof(cpu->hooks));
	memset(&cpu->stats, 0, sizeof(cpu->stats));
}

void sgx_cpu_destroy(struct sgx_cpu *cpu)
{
	if (cpu->epc)
		munmap(cpu->epc, cpu->cfg.epc_pages * PAGE_SIZE);
	if (cpu->epc_fd >= 0)
		close(cpu->epc_fd);
	if (cpu->epcm)
		munmap(cpu->epcm, cpu->cfg.epc_pages * sizeof(*cpu->epcm));
	if (cpu->epc_written)
		munmap(cpu->epc_written, written_bytes(&cpu->cfg));
	free(cpu->lps);
	memset(cpu, 0, sizeof(*cpu));
	cpu->epc_fd = -1;
}

uint64_t sgx_epc_addr(const struct sgx_cpu *cpu, uint64_t index)
{
	ASSERT(index < cpu->cfg.epc_pages);
	return (uint64_t)(uintptr_t)cpu->epc + index * PAGE_SIZE;
}

bool sgx_epc_index(const struct sgx_cpu *cpu, uint64_t addr, uint64_t *index)
{
	return is_aligned(addr, PAGE_SIZE) && epc_lookup(cpu, addr, index);
}

const struct epcm_entry *sgx_epcm(const struct sgx_cpu *cpu, uint64_t index)
{
	return epcm_at(cpu, index);
}

uint64_t sgx_secs_epoch(const struct sgx_cpu *cpu, uint64_t secs_index)
{
	ASSERT(epcm_is_secs(epcm_at(cpu, secs_index)));
	return secs_hidden_at(cpu, secs_index)->epoch;
}

uint32_t sgx_secs_child_count(const struct sgx_cpu *cpu, uint64_t secs_index)
{
	ASSERT(epcm_is_secs(epcm_at(cpu, secs_index)));
	return secs_hidden_at(cpu, secs_index)->child_count;
}

/*
 * tracked(page), sgx-architecture.md section 3.2 rule 6: an ETRACK ran after
 * the stamp and every LP that was inside at that ETRACK has left.
 */
bool sgx_page_tracked(const struct sgx_cpu *cpu, uint64_t index)
{
	const struct epcm_entry *e = epcm_at(cpu, index);
	const struct secs_hidden *h;
	uint64_t stamp_epoch;

	if (!e->track_stamp)
		return true;
	ASSERT(epcm_is_secs(epcm_at(cpu, e->enclave_secs)));
	h = secs_hidden_at(cpu, e->enclave_secs);
	stamp_epoch = e->track_stamp - 1;
	ASSERT(h->epoch >= stamp_epoch);
	if (h->epoch >= stamp_epoch + 2)
		return true;
	return h->epoch == stamp_epoch + 1 && !secs_tracking(h);
}

int sgx_leaf_begin(struct sgx_lp *lp, enum sgx_leaf_class cls,
		   unsigned int leaf)
{
	struct sgx_cpu *cpu = lp->cpu;

	if (cls == SGX_LEAF_ENCLS)
		cpu->stats.encls[leaf]++;
	else
		cpu->stats.enclu[leaf]++;
	if (cpu->hooks.leaf)
		cpu->hooks.leaf(cpu->hooks.ctx, lp, cls, leaf);
	/* Enclaves run at CPL 3, and ENCLS at CPL > 0 is #UD. */
	if (cls == SGX_LEAF_ENCLS && lp->enclave_mode) {
		lp->exc = (struct sgx_exception){ .vector = X86_TRAP_UD };
		return SGX_FAULT_FLAG | X86_TRAP_UD;
	}
	return 0;
}

int sgx_leaf_end(struct sgx_lp *lp, enum sgx_leaf_class cls,
		 unsigned int leaf, int ret)
{
	struct sgx_cpu *cpu = lp->cpu;
	bool encls = cls == SGX_LEAF_ENCLS;

	if (sgx_faulted(ret))
		(encls ? cpu->stats.encls_fault : cpu->stats.enclu_fault)[leaf]++;
	else if (ret)
		(encls ? cpu->stats.encls_error : cpu->stats.enclu_error)[leaf]++;
	if (sgx_faulted(ret))
		lp_fault_exit(lp);
	if (cpu->hooks.leaf_end)
		cpu->hooks.leaf_end(cpu->hooks.ctx, lp, cls, leaf, ret);
	if (cpu->cfg.check_invariants) {
		const char *why = sgx_cpu_check(cpu);

		if (why) {
			fprintf(stderr, "sgxemu: invariant after %s leaf %u: %s\n",
				encls ? "ENCLS" : "ENCLU", leaf, why);
			ASSERT(!why);
		}
	}
	return ret;
}

static const char *check_secs(const struct sgx_cpu *cpu, uint64_t s)
{
	const struct secs_hidden *h = secs_hidden_at(cpu, s);
	const struct epcm_entry *se = epcm_at(cpu, s);
	uint32_t children = 0, active = 0, prev = 0;

	if (se->r || se->w || se->x || se->enclave_address || se->pending ||
	    se->modified || se->pr || se->blocked)
		return "I7: SECS EPCM entry carries page state";
	for (uint64_t i = 0; i < cpu->cfg.epc_pages; i++) {
		const struct epcm_entry *e = &cpu->epcm[i];

		if (e->valid && e->pt != PT_SECS && e->pt != PT_VA &&
		    e->enclave_secs == s)
			children++;
	}
	for (unsigned int i = 0; i < cpu->cfg.nr_lps; i++) {
		const struct sgx_lp *lp = &cpu->lps[i];

		if (lp->enclave_mode && lp->active_secs == s) {
			active++;
			prev += lp->entry_epoch < h->epoch;
		}
	}
	if (children != h->child_count)
		return "I2: SECS child count does not match its children";
	if (active != h->active_count || prev != h->prev_active)
		return "I3: SECS active/tracking counts do not match the LPs";
	return NULL;
}

static const char *check_page(const struct sgx_cpu *cpu, uint64_t i)
{
	const struct epcm_entry *e = &cpu->epcm[i];

	if (e->pt == PT_SECS || e->pt == PT_VA)
		return NULL;
	if (e->enclave_secs >= cpu->cfg.epc_pages ||
	    !epcm_is_secs(&cpu->epcm[e->enclave_secs]))
		return "I1: child page without a valid SECS";
	if (e->pending && e->pt != PT_REG && e->pt != PT_SS_FIRST &&
	    e->pt != PT_SS_REST)
		return "I7: PENDING on a page type EAUG cannot create";
	if (e->pr && e->pt != PT_REG)
		return "I7: PR on a non-REG page";
	return NULL;
}

static const char *check_va_slots(const struct sgx_cpu *cpu)
{
	size_t n = 0, cap = 0;
	uint64_t *seen = NULL;
	const char *why = NULL;

	for (uint64_t i = 0; i < cpu->cfg.epc_pages && !why; i++) {
		const uint64_t *slot = epc_page_at(cpu, i);

		if (!cpu->epcm[i].valid || cpu->epcm[i].pt != PT_VA)
			continue;
		for (unsigned int k = 0; k < PAGE_SIZE / 8 && !why; k++) {
			if (!slot[k])
				continue;
			for (size_t j = 0; j < n; j++)
				if (seen[j] == slot[k])
					why = "I4: a VA version appears twice";
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				seen = realloc(seen, cap * sizeof(*seen));
				ASSERT(seen);
			}
			seen[n++] = slot[k];
		}
	}
	free(seen);
	return why;
}

static bool tlb_entry_ok(const struct sgx_cpu *cpu, const struct sgx_lp *lp,
			 const struct sgx_tlb_entry *t)
{
	const struct epcm_entry *e;
	uint64_t idx;
	uint8_t rights;

	if (!epc_lookup(cpu, t->frame, &idx))
		return true; /* an ordinary page outside ELRANGE */
	e = &cpu->epcm[idx];
	rights = (uint8_t)(e->r * SGX_SECINFO_R | e->w * SGX_SECINFO_W |
			   e->x * SGX_SECINFO_X);
	if (e->valid && e->enclave_secs == lp->active_secs &&
	    e->enclave_address == t->vpn << PAGE_SHIFT && e->pt == PT_REG &&
	    !e->pending && !e->modified && !e->blocked &&
	    (t->rights & ~rights) == 0)
		return true;
	/* Stale rights are legal only until the change is tracked. */
	return e->valid && e->enclave_secs == lp->active_secs &&
	       !sgx_page_tracked(cpu, idx);
}

static const char *check_tlbs(const struct sgx_cpu *cpu)
{
	for (unsigned int i = 0; i < cpu->cfg.nr_lps; i++) {
		const struct sgx_lp *lp = &cpu->lps[i];

		for (unsigned int k = 0; k < SGX_TLB_ENTRIES; k++) {
			const struct sgx_tlb_entry *t = &lp->tlb[k];

			if (t->gen != lp->tlb_gen)
				continue;
			if (!lp->enclave_mode)
				return "I5: TLB entry survives an enclave exit";
			if (!tlb_entry_ok(cpu, lp, t))
				return "I6: TLB grants more than the tracked EPCM";
		}
	}
	return NULL;
}

/* Children first, so a dangling owner is named before the count it skews. */
const char *sgx_cpu_check(const struct sgx_cpu *cpu)
{
	const char *why = NULL;

	for (uint64_t i = 0; i < cpu->cfg.epc_pages && !why; i++)
		if (cpu->epcm[i].valid)
			why = check_page(cpu, i);
	for (uint64_t i = 0; i < cpu->cfg.epc_pages && !why; i++)
		if (epcm_is_secs(&cpu->epcm[i]))
			why = check_secs(cpu, i);
	if (!why)
		why = check_va_slots(cpu);
	return why ? why : check_tlbs(cpu);
}
