/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the leaf files: EPC/EPCM lookups, the hidden SECS
 * state, tracking, fault results and the leaf prologue/epilogue. Only files
 * under src/arch include this.
 */
#ifndef SGXEMU_ARCH_INTERNAL_H
#define SGXEMU_ARCH_INTERNAL_H

#include <string.h>

#include "arch/cpu.h"
#include "base/assert.h"
#include "base/bits.h"

/*
 * Hidden SECS state (SDM: "EID", "PADDING" and the tracking machinery are in
 * the SECS but not software visible).
 * MODEL: it lives inside the SECS page, in reserved4, so it travels with the
 * page through EWB/ELDU exactly as the real hidden fields do. ECREATE
 * requires reserved4 to be zero in the template, so software cannot forge it.
 */
#define SECS_HIDDEN_OFFSET 2048
#define SECS_MEASURE_CTX_SIZE 128

struct secs_hidden {
	uint64_t eid;
	uint64_t epoch; /* MODEL: advanced by each successful ETRACK */
	uint32_t child_count; /* VALID pages owned by this SECS */
	uint32_t active_count; /* LPs in enclave mode in this enclave */
	/*
	 * MODEL: LPs still inside that entered before the last ETRACK (the
	 * patent's "threads inside at tracking"). TRACKING(secs) is this != 0.
	 */
	uint32_t prev_active;
	uint32_t reserved;
	uint8_t measure_ctx[SECS_MEASURE_CTX_SIZE]; /* SHA-256 state (measure.c) */
};
_Static_assert(SECS_HIDDEN_OFFSET >= 262 + 0 &&
		       SECS_HIDDEN_OFFSET + sizeof(struct secs_hidden) <= 4096,
	       "hidden SECS state must sit inside reserved4");

/* The touch hook (cpu.h): every EPCM entry and EPC page goes through here. */
static inline void epc_touch(const struct sgx_cpu *cpu, uint64_t idx)
{
	if (cpu->hooks.touch)
		cpu->hooks.touch(cpu->hooks.ctx, idx);
}

static inline struct epcm_entry *epcm_at(const struct sgx_cpu *cpu,
					 uint64_t idx)
{
	ASSERT(idx < cpu->cfg.epc_pages);
	epc_touch(cpu, idx);
	return &cpu->epcm[idx];
}

static inline void *epc_page_at(const struct sgx_cpu *cpu, uint64_t idx)
{
	ASSERT(idx < cpu->cfg.epc_pages);
	epc_touch(cpu, idx);
	return cpu->epc + idx * PAGE_SIZE;
}

/*
 * A page becomes valid: from now on its memory may hold data. Every leaf
 * that sets EPCM.VALID calls this (ECREATE, EADD, EPA, ELDU/ELDB, EAUG).
 */
static inline void epc_mark_written(struct sgx_cpu *cpu, uint64_t idx)
{
	ASSERT(idx < cpu->cfg.epc_pages);
	cpu->epc_written[idx / 64] |= 1ULL << (idx % 64);
}

/*
 * Zero an EPC page for EAUG. MODEL: a page that was never valid still
 * reads as zero (the EPC memfd starts zero-filled), so it is left alone:
 * a large EPC then stays uncommitted until the enclave writes to it. The
 * enclave cannot tell the difference.
 */
static inline void epc_zero(struct sgx_cpu *cpu, uint64_t idx)
{
	if (cpu->epc_written[idx / 64] >> (idx % 64) & 1)
		memset(epc_page_at(cpu, idx), 0, PAGE_SIZE);
	epc_mark_written(cpu, idx);
}

/* True when addr lies in the EPC; alignment is the caller's check. */
static inline bool epc_lookup(const struct sgx_cpu *cpu, uint64_t addr,
			      uint64_t *idx)
{
	uint64_t off = addr - (uint64_t)(uintptr_t)cpu->epc;

	if (off >= cpu->cfg.epc_pages * PAGE_SIZE)
		return false;
	*idx = off >> PAGE_SHIFT;
	return true;
}

static inline struct sgx_secs *secs_at(const struct sgx_cpu *cpu,
				       uint64_t idx)
{
	return epc_page_at(cpu, idx);
}

static inline struct secs_hidden *secs_hidden_at(const struct sgx_cpu *cpu,
						 uint64_t idx)
{
	return (struct secs_hidden *)((uint8_t *)epc_page_at(cpu, idx) +
				      SECS_HIDDEN_OFFSET);
}

static inline bool epcm_is_secs(const struct epcm_entry *e)
{
	return e->valid && e->pt == PT_SECS;
}

/* TRACKING(secs): an LP that entered before the last ETRACK is inside. */
static inline bool secs_tracking(const struct secs_hidden *h)
{
	return h->prev_active != 0;
}

/* MODEL: EBLOCK, EMODPR and EMODT stamp the page with the SECS epoch. */
static inline void epcm_stamp(struct epcm_entry *e, const struct secs_hidden *h)
{
	e->track_stamp = h->epoch + 1;
}

static inline bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* SECINFO has none of mask set in FLAGS and all-zero reserved bytes. */
static inline bool secinfo_reserved_clear(const struct sgx_secinfo *s,
					  uint64_t mask)
{
	return !(s->flags & mask) && all_zero(s->reserved, sizeof(s->reserved));
}

/*
 * The EPCM conditions for the enclave to use the page at lin as ordinary
 * memory (sgx-architecture.md section 5), rights aside: valid, a REG page
 * of the running enclave at that address, not BLOCKED, PENDING or MODIFIED.
 * Data accesses check them at TLB fill; ENCLU leaves on their operands.
 */
static inline bool epcm_page_usable(const struct sgx_lp *lp,
				    const struct epcm_entry *e, uint64_t lin)
{
	return e->valid && e->pt == PT_REG &&
	       e->enclave_secs == lp->active_secs &&
	       e->enclave_address == (lin & PAGE_MASK) && !e->blocked &&
	       !e->pending && !e->modified;
}

/* Fault results. They fill lp->exc and return the Linux encoding. */
static inline int sgx_gp(struct sgx_lp *lp)
{
	lp->exc = (struct sgx_exception){ .vector = X86_TRAP_GP };
	return SGX_FAULT_FLAG | X86_TRAP_GP;
}

static inline int sgx_pf(struct sgx_lp *lp, uint64_t addr, uint32_t ec)
{
	lp->exc = (struct sgx_exception){ .vector = X86_TRAP_PF,
					  .error_code = ec,
					  .addr = addr };
	return SGX_FAULT_FLAG | X86_TRAP_PF;
}

/*
 * The #PF an ENCLS leaf raises on an EPC operand that is outside the EPC or
 * in the wrong EPCM state. MODEL: ENCLS runs in ring 0, so no USER bit; the
 * SGX bit marks an EPCM-induced fault.
 */
static inline int sgx_pf_epcm(struct sgx_lp *lp, uint64_t addr)
{
	return sgx_pf(lp, addr, X86_PF_SGX | X86_PF_PROT);
}

/* An ENCLU operand the leaf reads (a SECINFO, EACCEPTCOPY's source). */
static inline bool readable_operand(const struct sgx_lp *lp,
				    const struct epcm_entry *e, uint64_t lin)
{
	return epcm_page_usable(lp, e, lin) && e->r;
}

/*
 * MODEL: an ENCLU operand failing its EPCM check raises the #PF an
 * EPCM-denied enclave access gets (SGX|USER|PROT, plus W for a write); the
 * SDM only says #PF(operand).
 */
static inline int enclu_pf(struct sgx_lp *lp, uint64_t lin, bool write)
{
	return sgx_pf(lp, lin, X86_PF_SGX | X86_PF_USER | X86_PF_PROT |
				       (write ? X86_PF_WRITE : 0));
}

/* Translate an ENCLU operand's linear address to an EPC index (epc.c). */
int lp_operand(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
	       uint64_t *idx);
/* True when lin is inside the LP's ELRANGE. */
static inline bool in_elrange(const struct sgx_lp *lp, uint64_t lin)
{
	return lin - lp->elrange_base < lp->elrange_size;
}

/*
 * Leaf prologue/epilogue: counters, the platform hook, invariant checks.
 * The prologue returns the #UD of an ENCLS in enclave mode, else 0; the
 * epilogue turns a fault in enclave mode into an AEX (lp_fault_exit()).
 */
int sgx_leaf_begin(struct sgx_lp *lp, enum sgx_leaf_class cls,
		   unsigned int leaf);
int sgx_leaf_end(struct sgx_lp *lp, enum sgx_leaf_class cls,
		 unsigned int leaf, int ret);

/*
 * A fault (lp->exc) raised in enclave mode is delivered through an AEX, as
 * every exception in enclave mode is: nothing if the LP is outside (aex.c).
 */
void lp_fault_exit(struct sgx_lp *lp);

/* Tracking transitions for entry and exit (lp.c). */
void lp_enter_tracking(struct sgx_lp *lp, uint64_t secs_idx);
void lp_leave_tracking(struct sgx_lp *lp);

/* The running enclave's SSA frame at index cssa (lp.c). */
uint64_t lp_ssa_frame(const struct sgx_lp *lp, const struct sgx_tcs *tcs,
		      uint32_t cssa);

#endif
