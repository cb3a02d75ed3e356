// SPDX-License-Identifier: MIT
/*
 * Host mappings of enclave memory. Enclave code runs natively, so the
 * host's page protections are what actually stops an access; they act as
 * the TLB of every LP at once:
 *
 * - An enclave VMA is reserved PROT_NONE. An enclave access that the host
 *   refuses traps (SIGSEGV, trap.c), and run_host_fill() walks the LP's
 *   page table and the EPCM afresh: if they allow the access, the EPC page
 *   is mapped there from the EPC memfd with prot = PTE ∩ EPCM (a TLB fill);
 *   if not, the CPU's #PF is what the enclave gets.
 * - Whenever a PTE changes (the page table's hook), the host page goes
 *   back to PROT_NONE at once, before the driver's TLB shootdown.
 * - EPCM rights drop only through EMODPR, EMODT, EREMOVE and EWB. EREMOVE
 *   and EWB follow a PTE zap. For EMODPR and EMODT, the driver runs ETRACK
 *   before anything can rely on the change (EACCEPT needs the page tracked,
 *   so a thread inside at the ETRACK must have left since). So each
 *   ETRACK makes the next EENTER or ERESUME revoke every host page of the
 *   enclaves: every mapping made before the ETRACK is gone before an
 *   entry that began after it runs enclave code, and mappings made after
 *   it read the changed EPCM.
 *
 * MODEL: revoking sooner than the hardware's TLBs would forget is allowed
 * (a TLB may drop an entry at any time); granting is only ever done from a
 * fresh walk, never from a TLB entry that tracking has yet to retire.
 * MODEL: host code outside enclave mode can read what a fill mapped (there
 * is no abort page for host code): the runner emulates SGX's semantics for
 * the program, it is not an isolation boundary.
 */
#include <errno.h>
#include <sys/mman.h>

#include "base/assert.h"
#include "base/bits.h"
#include "run/runtime.h"

static void host_revoke(uint64_t start, uint64_t len)
{
	run_sys_mprotect((void *)(uintptr_t)start, len, PROT_NONE);
}

static void pte_changed(void *ctx, uint64_t lin)
{
	host_revoke(lin, PAGE_SIZE);
}

/* Before ETRACK: the next entry revokes. Every leaf goes to --record. */
static void leaf_hook(void *ctx, struct sgx_lp *lp, enum sgx_leaf_class cls,
		      unsigned int leaf)
{
	if (cls == SGX_LEAF_ENCLS && leaf == ETRACK)
		atomic_fetch_add(&run.etrack_gen, 1);
	run_record_leaf(lp, cls, leaf);
}

/**
 * run_hostmap_install() - hook the page table and the CPU (model lock
 * held, or the model not yet shared).
 */
void run_hostmap_install(void)
{
	run.mm->pgtable.changed = pte_changed;
	run.mm->pgtable.changed_ctx = NULL;
	run.cpu.hooks.leaf = leaf_hook;
	run.cpu.hooks.ctx = NULL;
}

/**
 * run_revoke_if_tracked() - at EENTER/ERESUME: if an ETRACK ran since the
 * last whole revocation, every enclave VMA goes back to PROT_NONE.
 */
void run_revoke_if_tracked(void)
{
	uint64_t gen = atomic_load(&run.etrack_gen);
	struct list_head *pos, *tmp;

	if (gen == run.revoked_gen)
		return;
	list_for_each_safe(pos, tmp, &run.mm->vmas) {
		struct sgx_vma *vma = list_entry(pos, struct sgx_vma, list);

		host_revoke(vma->start, vma->end - vma->start);
	}
	run.revoked_gen = gen;
	run.counted.revocations++;
}

/**
 * run_host_reserve() - an enclave VMA's host range: PROT_NONE, anonymous,
 * replacing whatever was there.
 *
 * Return: 0 or -errno.
 */
int run_host_reserve(uint64_t addr, uint64_t len)
{
	void *p = run_sys_mmap((void *)(uintptr_t)addr, len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				       MAP_NORESERVE,
			       -1, 0);

	return p == MAP_FAILED ? -errno : 0;
}

static int rights_to_prot(uint8_t rights)
{
	return (rights & SGX_SECINFO_R ? PROT_READ : 0) |
	       (rights & SGX_SECINFO_W ? PROT_WRITE : 0) |
	       (rights & SGX_SECINFO_X ? PROT_EXEC : 0);
}

/**
 * run_host_fill() - an enclave access at @addr that the host refused.
 * @lp: the LP, in enclave mode, with the model lock held
 * @addr: the address, inside the LP's ELRANGE
 * @acc: what the access wanted
 *
 * The TLB is flushed first so that the walk is fresh (see above).
 *
 * Return: 0 when the page is now mapped for the access, or the CPU's
 * fault (lp->exc says which).
 */
int run_host_fill(struct sgx_lp *lp, uint64_t addr, enum sgx_access acc)
{
	const struct sgx_tlb_entry *t;
	void *host, *p;
	int ret;

	sgx_tlb_flush(lp);
	ret = sgx_lp_access(lp, addr, acc, &host);
	if (ret)
		return ret;
	t = &lp->tlb[(addr >> PAGE_SHIFT) % SGX_TLB_ENTRIES];
	p = run_sys_mmap((void *)(uintptr_t)(addr & PAGE_MASK), PAGE_SIZE,
			 rights_to_prot(t->rights), MAP_SHARED | MAP_FIXED,
			 run.cpu.epc_fd,
			 (off_t)(t->frame - (uint64_t)(uintptr_t)run.cpu.epc));
	ASSERT(p != MAP_FAILED);
	run.counted.host_fills++;
	return 0;
}
