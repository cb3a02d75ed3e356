// SPDX-License-Identifier: MIT
/*
 * Logical processors: the TLB, the enclave-mode access path, and the
 * tracking bookkeeping done at enclave entry and exit.
 *
 * The TLB is what makes ETRACK necessary, so it is modelled for real
 * (sgx-architecture.md section 5): EPCM checks happen only when a
 * translation is filled; a filled entry keeps its rights until the LP
 * flushes, which happens only at EENTER, ERESUME, EEXIT and AEX. EMODPR,
 * EMODT and EBLOCK never touch another LP's TLB.
 *
 * A hit whose rights are too small faults at once, with the paging #PF
 * error code (no SGX bit: nothing the EPCM says is checked), and drops the
 * entry. MODEL: this is the spurious #PF the SDM describes after EMODPE
 * (an entry filled before EMODPE extended the rights): the AEX that
 * delivers it flushes the TLB, the kernel finds the PTE allowing the
 * access and returns, and ERESUME's retry fills the entry afresh. The
 * alternative the SDM also allows, a re-walk before faulting, would hide
 * that fault; counted in stats.tlb_stale_fault.
 *
 * Every fault an access raises in enclave mode is delivered through an
 * AEX here (lp_fault_exit()), before the caller sees it, as on hardware.
 *
 * MODEL: the TLB is direct-mapped with SGX_TLB_ENTRIES sets. Capacity
 * evictions only ever remove stale rights early, which is the safe
 * direction; the hazard ETRACK guards against is kept intact.
 */
#include "arch/internal.h"

void sgx_tlb_flush(struct sgx_lp *lp)
{
	lp->tlb_gen++;
	lp->cpu->stats.tlb_flush++;
}

static uint32_t pf_code(enum sgx_access acc, bool present)
{
	uint32_t ec = X86_PF_USER;

	if (present)
		ec |= X86_PF_PROT;
	if (acc & SGX_ACCESS_WRITE)
		ec |= X86_PF_WRITE;
	if (acc & SGX_ACCESS_EXEC)
		ec |= X86_PF_INSTR;
	return ec;
}

static uint8_t pte_rights(const struct sgx_pte *pte)
{
	uint8_t r = SGX_SECINFO_R;

	if (pte->flags & SGX_PTE_WRITE)
		r |= SGX_SECINFO_W;
	if (!(pte->flags & SGX_PTE_NX))
		r |= SGX_SECINFO_X;
	return r;
}

static uint8_t epcm_rights(const struct epcm_entry *e)
{
	return (uint8_t)(e->r * SGX_SECINFO_R | e->w * SGX_SECINFO_W |
			 e->x * SGX_SECINFO_X);
}

static int access_fault(struct sgx_lp *lp, uint64_t lin, uint32_t ec)
{
	lp->cpu->stats.enclave_fault++;
	return sgx_pf(lp, lin, ec);
}

/* Walk the page table; the PTE must be present and allow acc. */
static int walk(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
		struct sgx_pte **out)
{
	struct sgx_pte *pte = lp->pgtable ? sgx_pgtable_lookup(lp->pgtable, lin)
					  : NULL;

	if (!pte || !(pte->flags & SGX_PTE_PRESENT))
		return access_fault(lp, lin, pf_code(acc, false));
	if (acc & ~pte_rights(pte))
		return access_fault(lp, lin, pf_code(acc, true));
	pte->flags |= SGX_PTE_ACCESSED;
	if (acc & SGX_ACCESS_WRITE)
		pte->flags |= SGX_PTE_DIRTY;
	*out = pte;
	return 0;
}

/* The EPCM checks of an enclave access, done at TLB fill. */
static bool epcm_allows(const struct sgx_lp *lp, const struct epcm_entry *e,
			uint64_t lin, enum sgx_access acc)
{
	return epcm_page_usable(lp, e, lin) && !(acc & ~epcm_rights(e));
}

static int fill(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
		void **host)
{
	struct sgx_cpu *cpu = lp->cpu;
	struct sgx_tlb_entry *t;
	struct sgx_pte *pte;
	uint64_t idx;
	int ret = walk(lp, lin, acc, &pte);

	if (ret)
		return ret;
	/* MODEL: an ELRANGE page backed by non-EPC memory is an EPCM fault. */
	if (!epc_lookup(cpu, pte->frame, &idx) ||
	    !epcm_allows(lp, epcm_at(cpu, idx), lin, acc))
		return access_fault(lp, lin, pf_code(acc, true) | X86_PF_SGX);
	t = &lp->tlb[(lin >> PAGE_SHIFT) % SGX_TLB_ENTRIES];
	t->vpn = lin >> PAGE_SHIFT;
	t->gen = lp->tlb_gen;
	t->frame = pte->frame;
	t->rights = pte_rights(pte) & epcm_rights(epcm_at(cpu, idx));
	cpu->stats.tlb_fill++;
	*host = (void *)(uintptr_t)(pte->frame + (lin & ~PAGE_MASK));
	return 0;
}

/*
 * Outside enclave mode, or outside ELRANGE: an ordinary access. EPC frames
 * get abort-page semantics (reads all ones, writes dropped), SDM 38.3.
 */
static int plain_access(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
			void **host)
{
	static uint8_t abort_page[PAGE_SIZE];
	struct sgx_pte *pte;
	uint64_t idx;
	int ret = walk(lp, lin, acc, &pte);

	if (ret)
		return ret;
	if (epc_lookup(lp->cpu, pte->frame, &idx)) {
		memset(abort_page, 0xFF, sizeof(abort_page));
		*host = abort_page + (lin & ~PAGE_MASK);
		return 0;
	}
	*host = (void *)(uintptr_t)(pte->frame + (lin & ~PAGE_MASK));
	return 0;
}

static int lp_access(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
		     void **host)
{
	struct sgx_cpu *cpu = lp->cpu;
	uint64_t vpn = lin >> PAGE_SHIFT;
	struct sgx_tlb_entry *t;

	cpu->stats.enclave_access++;
	if (cpu->hooks.access)
		cpu->hooks.access(cpu->hooks.ctx, lp, lin);
	if (!lp->enclave_mode || !in_elrange(lp, lin))
		return plain_access(lp, lin, acc, host);
	t = &lp->tlb[vpn % SGX_TLB_ENTRIES];
	if (t->gen == lp->tlb_gen && t->vpn == vpn) {
		if (!(acc & ~t->rights)) {
			epc_touch(cpu, (t->frame - (uint64_t)(uintptr_t)cpu->epc) >>
					       PAGE_SHIFT);
			*host = (void *)(uintptr_t)(t->frame + (lin & ~PAGE_MASK));
			return 0;
		}
		t->gen = 0; /* rights miss: drop the entry, and fault */
		cpu->stats.tlb_stale_fault++;
		return access_fault(lp, lin, pf_code(acc, true));
	}
	return fill(lp, lin, acc, host);
}

/**
 * sgx_lp_access() - one data access or instruction fetch by @lp.
 * @host: on success, the host address that backs @lin.
 *
 * Return: 0, or SGX_FAULT_FLAG | X86_TRAP_PF with lp->exc filled: error
 * code 0x8005/0x8007 for EPCM denials, a plain code for PTE denials and
 * stale TLB rights. A fault in enclave mode has been delivered by an AEX:
 * the LP is outside and lp->exc holds the page-aligned address.
 */
int sgx_lp_access(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
		  void **host)
{
	int ret = lp_access(lp, lin, acc, host);

	if (ret)
		lp_fault_exit(lp);
	return ret;
}

static int copy(struct sgx_lp *lp, uint64_t lin, void *buf, size_t len,
		bool write)
{
	uint8_t *p = buf;

	while (len) {
		size_t chunk = PAGE_SIZE - (lin & ~PAGE_MASK);
		void *host;
		int ret;

		if (chunk > len)
			chunk = len;
		ret = sgx_lp_access(lp, lin,
				    write ? SGX_ACCESS_WRITE : SGX_ACCESS_READ,
				    &host);
		if (ret)
			return ret;
		if (write)
			memcpy(host, p, chunk);
		else
			memcpy(p, host, chunk);
		p += chunk;
		lin += chunk;
		len -= chunk;
	}
	return 0;
}

int sgx_lp_read(struct sgx_lp *lp, uint64_t lin, void *buf, size_t len)
{
	return copy(lp, lin, buf, len, false);
}

int sgx_lp_write(struct sgx_lp *lp, uint64_t lin, const void *buf, size_t len)
{
	return copy(lp, lin, (void *)buf, len, true);
}

/*
 * Translate an ENCLU operand. The leaf does its own EPCM checks, so only
 * paging is checked here: a missing or too-weak PTE is an ordinary #PF, a
 * frame outside the EPC an EPCM-induced one.
 */
int lp_operand(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
	       uint64_t *idx)
{
	struct sgx_pte *pte;
	int ret = walk(lp, lin, acc, &pte);

	if (ret)
		return ret;
	if (!epc_lookup(lp->cpu, pte->frame, idx))
		return sgx_pf(lp, lin, pf_code(acc, true) | X86_PF_SGX);
	return 0;
}

/* EENTER/ERESUME: join the enclave's tracking set at the current epoch. */
void lp_enter_tracking(struct sgx_lp *lp, uint64_t secs_idx)
{
	struct secs_hidden *h = secs_hidden_at(lp->cpu, secs_idx);

	lp->entry_epoch = h->epoch;
	h->active_count++;
}

/* EEXIT/AEX: leave it; an LP from before the last ETRACK drains TRACKING. */
void lp_leave_tracking(struct sgx_lp *lp)
{
	struct secs_hidden *h = secs_hidden_at(lp->cpu, lp->active_secs);

	ASSERT(h->active_count > 0);
	if (lp->entry_epoch < h->epoch) {
		ASSERT(h->prev_active > 0);
		h->prev_active--;
	}
	h->active_count--;
}

uint64_t lp_ssa_frame(const struct sgx_lp *lp, const struct sgx_tcs *tcs,
		      uint32_t cssa)
{
	const struct sgx_secs *secs = secs_at(lp->cpu, lp->active_secs);

	return secs->base + tcs->ssa_offset +
	       (uint64_t)cssa * secs->ssa_frame_size * PAGE_SIZE;
}
