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
 * A revoked page is replaced by a fresh anonymous PROT_NONE page, not
 * merely protected: a mapping that only lost its rights would still name
 * the EPC frame, which EWB, EREMOVE or ksgxd may give to another enclave
 * (/proc/self/mem and ptrace read through PROT_NONE). No host mapping
 * refers to a frame after its PTE is gone.
 *
 * MODEL: revoking sooner than the hardware's TLBs would forget is allowed
 * (a TLB may drop an entry at any time); granting is only ever done from a
 * fresh walk, never from a TLB entry that tracking has yet to retire.
 * MODEL: host code outside enclave mode can read what a fill mapped (there
 * is no abort page for host code): the runner emulates SGX's semantics for
 * the program, it is not an isolation boundary.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "base/assert.h"
#include "base/bits.h"
#include "run/runtime.h"

static void host_revoke(uint64_t start, uint64_t len)
{
	int ret = run_host_reserve(start, len);

	ASSERT(!ret);
}

static void pte_changed(void *ctx, uint64_t lin)
{
	host_revoke(lin, PAGE_SIZE);
}

/*
 * Before ETRACK: the next entry revokes. At an entry: what the host had
 * revoked so far (a revocation at the entry itself makes the count stale,
 * which only costs trap.c a slower read). Every leaf goes to --record.
 */
static void leaf_hook(void *ctx, struct sgx_lp *lp, enum sgx_leaf_class cls,
		      unsigned int leaf)
{
	if (cls == SGX_LEAF_ENCLS && leaf == ETRACK)
		atomic_fetch_add(&run.etrack_gen, 1);
	if (cls == SGX_LEAF_ENCLU && (leaf == EENTER || leaf == ERESUME))
		run.lp_entry_revokes[lp->id] = run.host_revokes;
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

	run.host_revokes++;
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

/* ---- fork --------------------------------------------------------------- */

/*
 * MODEL: a forked child does not share its parent's enclaves. In Linux
 * 6.12 the SGX VMAs are copied (sgx_mmap() sets no VM_DONTCOPY), the child
 * joins the enclave's mm_list in sgx_vma_open(), and both processes use
 * one enclave; the model lives in each process's memory, so sharing it
 * would need one model for both. The child gets what Linux gives a child
 * whose sgx_vma_open() could not join (vm_private_data NULL): the VMAs stay,
 * reserved, and every access to them is SIGBUS (sgx_vma_fault()'s
 * VM_FAULT_SIGBUS), or the vDSO's fixup with the #PF at its ENCLU. A VMA
 * with MADV_DONTFORK (VM_DONTCOPY) is not copied: the child has nothing
 * there, and an access is SIGSEGV (SEGV_MAPERR), as in Linux. The child's
 * own first open of the device makes it a model of its own.
 */
#define ORPHANS_MAX 64
/* Written by the child's one thread at fork, then only by its own
 * mmap/munmap of them. */
static struct {
	uint64_t start, end;
} orphans[ORPHANS_MAX];
static unsigned int nr_orphans;
static sigset_t fork_saved_mask;
static bool fork_locked; /* prepare took the model lock */

/**
 * run_fork_prepare() - before fork: the model is quiet while the address
 * space is copied (Linux's dup_mmap() holds the parent's mmap_lock).
 */
void run_fork_prepare(void)
{
	sigset_t all, saved;

	if (!run_ready())
		return;
	sigfillset(&all);
	sigdelset(&all, SIGSYS); /* libc's clone traps (sysgate.c) */
	run_sys_sigmask(SIG_BLOCK, &all, &saved);
	native_lock(&run.native);
	fork_saved_mask = saved;
	fork_locked = true;
}

/*
 * The lock's holder is a thread id, and the child's forking thread has a
 * new one: whether prepare took the lock is remembered instead.
 */
static void fork_unlock(void)
{
	if (!fork_locked)
		return;
	fork_locked = false;
	native_unlock(&run.native);
	run_sys_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}

/** run_fork_parent() - after fork, in the parent. */
void run_fork_parent(void)
{
	fork_unlock();
}

/* The child's host view of one of the parent's VMAs (see above). */
static void orphan_vma(const struct sgx_vma *vma)
{
	void *start = (void *)(uintptr_t)vma->start;
	uint64_t len = vma->end - vma->start;

	if (vma->vm_flags & VM_DONTCOPY) {
		run_sys_munmap(start, len);
		return;
	}
	/* No mapping of the parent's EPC memfd survives in the child. */
	host_revoke(vma->start, len);
	/* VMAs come in address order: one next to the last range extends it. */
	if (nr_orphans && orphans[nr_orphans - 1].end == vma->start) {
		orphans[nr_orphans - 1].end = vma->end;
	} else if (nr_orphans < ORPHANS_MAX) {
		orphans[nr_orphans].start = vma->start;
		orphans[nr_orphans].end = vma->end;
		nr_orphans++;
	}
}

/**
 * run_fork_child() - after fork, in the child (libc's atfork handler, or
 * a raw fork that sysgate.c trapped; the second call does nothing). The
 * parent's model stays behind, unused.
 */
void run_fork_child(void)
{
	static pid_t done; /* the process this already ran in */
	pid_t self = (pid_t)run_syscall(SYS_getpid);
	/* Whose model this is does not depend on who set run.self first. */
	bool had_model = run.pid && run.pid == run_syscall(SYS_getppid);
	struct list_head *pos, *tmp;

	if (self == done)
		return;
	done = self;
	run.self = self;
	uaccess_fork_child();
	if (had_model)
		list_for_each_safe(pos, tmp, &run.mm->vmas)
			orphan_vma(list_entry(pos, struct sgx_vma, list));
	fork_unlock();
}

/**
 * run_orphan_forget() - [@start, @start + @len) was unmapped or mapped
 * anew: it is no longer the parent's enclave.
 */
void run_orphan_forget(uint64_t start, uint64_t len)
{
	uint64_t end = start + len;

	for (unsigned int i = 0; i < nr_orphans; i++) {
		uint64_t s = orphans[i].start, e = orphans[i].end;

		if (end <= s || start >= e)
			continue;
		if (start > s && end < e && nr_orphans < ORPHANS_MAX) {
			orphans[nr_orphans].start = end;
			orphans[nr_orphans++].end = e;
		}
		/* What is left below the range, or above it if nothing is. */
		orphans[i].end = start > s ? start : s;
		if (start <= s) {
			orphans[i].start = end < e ? end : e;
			orphans[i].end = e;
		}
	}
}

static void say_orphan(uint64_t addr)
{
	static bool said;
	char msg[200];
	int n;

	if (said)
		return;
	said = true;
	n = snprintf(msg, sizeof(msg),
		     "sgxemu: process %d touched %#llx, an enclave of its "
		     "parent: a forked child does not share the parent's "
		     "enclaves (SIGBUS; docs/RUNNER.md)\n",
		     (int)run.self, (unsigned long long)addr);
	if (n > 0)
		run_syscall(SYS_write, 2, msg, (size_t)n);
}

/**
 * run_orphan_fault() - a fault of host code at @addr, or an EENTER with
 * its TCS there: is it the parent's enclave (see above)?
 * @addr: the faulting address
 * @error_code: the #PF error code
 * @exc: receives the #PF that Linux's fault handler answers with SIGBUS
 *
 * Return: true if @addr lies in an enclave VMA of the parent.
 */
bool run_orphan_fault(uint64_t addr, uint32_t error_code,
		      struct sgx_exception *exc)
{
	for (unsigned int i = 0; i < nr_orphans; i++) {
		if (addr < orphans[i].start || addr >= orphans[i].end)
			continue;
		say_orphan(addr);
		*exc = (struct sgx_exception){
			.vector = X86_TRAP_PF,
			.error_code = error_code | X86_PF_USER,
			.addr = addr,
		};
		return true;
	}
	return false;
}
