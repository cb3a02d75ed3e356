/* SPDX-License-Identifier: MIT */
/*
 * The emulated SGX2 CPU package: the EPC and its EPCM, the logical
 * processors (LPs) with their TLBs and enclave-mode control registers, the
 * platform secrets, and one function per ENCLS/ENCLU leaf.
 *
 * Operand conventions, so that a reader can hold a leaf next to the SDM:
 * - An EPC operand is an "EPC address": the host address of the page in the
 *   EPC view (cpu->epc), like Linux's sgx_get_epc_virt_addr(). Leaves check
 *   it for alignment (#GP) and EPC membership (#PF).
 * - A non-EPC ENCLS operand (PAGEINFO, SECINFO, SIGSTRUCT, source page,
 *   PCMD) is an ordinary host pointer supplied by the driver model.
 *   MODEL: the CPU checks its alignment but trusts that it is mapped; ring 0
 *   memory is the driver's responsibility.
 * - An ENCLU operand is an enclave linear address. It is translated through
 *   the LP's TLB and page table and checked against the EPCM, so enclave
 *   input can never reach arbitrary host memory.
 *
 * Each leaf returns what the hardware returns, in Linux's ENCLS encoding:
 * 0, a positive SGX error code, or SGX_FAULT_FLAG | trap number with the #PF
 * details in lp->exc.
 */
#ifndef SGXEMU_ARCH_CPU_H
#define SGXEMU_ARCH_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/pgtable.h"
#include "arch/sdm.h"
#include "sgxemu/stats.h"

/* EPCM entry (SDM Table 38-28 "EPCM Entry"), plus the model's hidden stamp. */
struct epcm_entry {
	uint8_t valid : 1;
	uint8_t r : 1;
	uint8_t w : 1;
	uint8_t x : 1;
	uint8_t pending : 1;
	uint8_t modified : 1;
	uint8_t pr : 1;
	uint8_t blocked : 1;
	uint8_t pt;
	uint32_t enclave_secs; /* EPC index of the owning SECS */
	uint64_t enclave_address;
	/*
	 * MODEL: the tracking stamp of sgx-architecture.md section 3.2. It
	 * holds the SECS epoch + 1 at EBLOCK/EMODPR/EMODT, and 0 for NONE.
	 */
	uint64_t track_stamp;
};

#define SGX_TLB_ENTRIES 64

/* A cached translation: linear page -> EPC page, with PTE & EPCM rights. */
struct sgx_tlb_entry {
	uint64_t vpn;
	uint64_t gen; /* valid only while equal to the LP's tlb_gen */
	uint64_t frame; /* host address of the frame */
	uint8_t rights; /* SGX_SECINFO_R/W/X */
};

struct sgx_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags, fsbase, gsbase;
};

/* The last fault a leaf or an access raised on this LP. */
struct sgx_exception {
	uint8_t vector;
	uint32_t error_code;
	uint64_t addr;
};

struct sgx_cpu;

/* A logical processor: its enclave-mode CREGs, registers and TLB. */
struct sgx_lp {
	struct sgx_cpu *cpu;
	unsigned int id;
	bool enclave_mode; /* CR_ENCLAVE_MODE */
	uint32_t active_secs; /* CR_ACTIVE_SECS, an EPC index */
	uint32_t tcs; /* CR_TCS_PA, an EPC index */
	uint64_t tcs_lin; /* CR_TCS_LA */
	uint64_t elrange_base; /* CR_ELRANGE */
	uint64_t elrange_size;
	uint64_t save_rsp; /* CR_SAVE_XSP: outside stack, restored by AEX */
	uint64_t save_rbp;
	uint64_t entry_epoch; /* MODEL: epoch at EENTER/ERESUME */
	struct sgx_pgtable *pgtable; /* CR3 of the running address space */
	struct sgx_regs regs;
	struct sgx_exception exc;
	uint64_t lepubkeyhash[4]; /* IA32_SGXLEPUBKEYHASH0..3 */
	uint64_t tlb_gen;
	struct sgx_tlb_entry tlb[SGX_TLB_ENTRIES];
};

enum sgx_leaf_class { SGX_LEAF_ENCLS, SGX_LEAF_ENCLU };

/*
 * Calls into the platform: the leaf hook runs before every leaf (a
 * preemption point and a place to charge cost), the leaf_end hook after it
 * with its result (a recorder sees which entries happened), the access hook before every
 * enclave memory access, the AEX hook at every AEX while the LP is still in
 * enclave mode (a recorder sees which thread left). All may be NULL.
 */
struct sgx_cpu_hooks {
	void *ctx;
	void (*leaf)(void *ctx, struct sgx_lp *lp, enum sgx_leaf_class cls,
		     unsigned int leaf);
	void (*leaf_end)(void *ctx, struct sgx_lp *lp, enum sgx_leaf_class cls,
			 unsigned int leaf, int ret);
	void (*access)(void *ctx, struct sgx_lp *lp, uint64_t lin);
	void (*aex)(void *ctx, struct sgx_lp *lp);
	/*
	 * Every EPC page (its EPCM entry or its contents, a SECS's hidden
	 * state included) a leaf, an access or an AEX touches, by index: the
	 * explorer's dependency relation (DPOR). May be NULL.
	 */
	void (*touch)(void *ctx, uint64_t index);
};

struct sgx_cpu_config {
	uint64_t epc_pages; /* up to SGX_EPC_PAGES_MAX */
	unsigned int nr_lps; /* up to SGX_LPS_MAX */
	uint64_t seed; /* derives the platform secrets, for repeatable runs */
	/* XFRM bits ECREATE accepts, within SGX_XFRM_ARCH (the runner: the
	 * host's XCR0); 0: x87, SSE and AVX. Before the bool: the planted
	 * variant's field must stay in its padding (sim.c is built without). */
	uint64_t xfrm_supported;
	bool check_invariants; /* run sgx_cpu_check() after every leaf */
#ifdef SGXEMU_PLANTS
	/*
	 * Planted bugs, SGX_PLANT_* bits: only in the *_planted libraries,
	 * which the explorer's self-tests link, to show each bug is found.
	 */
	unsigned int plants;
#endif
};

#ifdef SGXEMU_PLANTS
/* EACCEPT skips C13, its tracking check. The kernel's bits: kernel/sgx.h. */
#define SGX_PLANT_EACCEPT_UNTRACKED (1U << 2)
#endif

#define SGX_EPC_PAGES_MAX (1ULL << 22) /* 16 GiB */
#define SGX_LPS_MAX 256

struct sgx_cpu {
	struct sgx_cpu_config cfg;
	uint8_t *epc; /* EPC view: epc_pages pages, committed on touch */
	int epc_fd; /* memfd behind the view, so a runner can map pages */
	struct epcm_entry *epcm; /* one per EPC page, committed on touch */
	uint64_t *epc_written; /* bitmap: pages ever made valid (epc_zero()) */
	struct sgx_lp *lps;
	uint64_t next_eid; /* CR_NEXT_EID */
	uint64_t next_version; /* source of EWB version numbers */
	uint8_t paging_key[16]; /* MODEL: per-boot secrets from cfg.seed */
	uint8_t report_key_secret[32];
	uint8_t seal_key_secret[32];
	uint8_t cpusvn[16];
	struct sgx_cpu_hooks hooks;
	struct sgx_arch_stats stats;
};

/*
 * sgx_cpu_init() - create the package. Returns 0, -EINVAL for a bad config,
 * or -ENOMEM.
 */
int sgx_cpu_init(struct sgx_cpu *cpu, const struct sgx_cpu_config *cfg);
/*
 * sgx_cpu_reset() - back to the state sgx_cpu_init() gave, with the same
 * configuration, reusing the memory: for machines built many times over.
 */
void sgx_cpu_reset(struct sgx_cpu *cpu);
void sgx_cpu_destroy(struct sgx_cpu *cpu);

/* EPC addressing helpers (the driver uses them like Linux's epc helpers). */
uint64_t sgx_epc_addr(const struct sgx_cpu *cpu, uint64_t index);
bool sgx_epc_index(const struct sgx_cpu *cpu, uint64_t addr, uint64_t *index);
const struct epcm_entry *sgx_epcm(const struct sgx_cpu *cpu, uint64_t index);

/*
 * sgx_cpu_check() - run every EPC/EPCM/TLB invariant. Returns NULL when all
 * hold, else a static description of the first that fails.
 */
const char *sgx_cpu_check(const struct sgx_cpu *cpu);

/*
 * sgx_cpu_xfrm_supported() - CPUID.(12H,1):ECX..EDX of this CPU: the XFRM
 * bits ECREATE accepts (cfg.xfrm_supported within SGX_XFRM_ARCH). The
 * driver's sgx_xfrm_reserved_mask is its complement, as Linux reads it.
 */
uint64_t sgx_cpu_xfrm_supported(const struct sgx_cpu *cpu);

/* Tracking state of a SECS, for invariants and tests. */
bool sgx_page_tracked(const struct sgx_cpu *cpu, uint64_t index);
uint64_t sgx_secs_epoch(const struct sgx_cpu *cpu, uint64_t secs_index);
uint32_t sgx_secs_child_count(const struct sgx_cpu *cpu, uint64_t secs_index);

/* TLB and enclave-mode memory accesses (arch/lp.c). */
enum sgx_access { SGX_ACCESS_READ = 1, SGX_ACCESS_WRITE = 2, SGX_ACCESS_EXEC = 4 };
void sgx_tlb_flush(struct sgx_lp *lp);
int sgx_lp_access(struct sgx_lp *lp, uint64_t lin, enum sgx_access acc,
		  void **host);
int sgx_lp_read(struct sgx_lp *lp, uint64_t lin, void *buf, size_t len);
int sgx_lp_write(struct sgx_lp *lp, uint64_t lin, const void *buf, size_t len);

/* ENCLS leaves (ring 0). */
int encls_ecreate(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
		  uint64_t epc);
int encls_eadd(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc);
int encls_eextend(struct sgx_lp *lp, uint64_t secs, uint64_t chunk);
int encls_einit(struct sgx_lp *lp, const struct sgx_sigstruct *sigstruct,
		uint64_t secs, const struct sgx_einittoken *token);
int encls_eremove(struct sgx_lp *lp, uint64_t epc);
int encls_epa(struct sgx_lp *lp, uint64_t page_type, uint64_t epc);
int encls_eblock(struct sgx_lp *lp, uint64_t epc);
int encls_etrack(struct sgx_lp *lp, uint64_t secs);
int encls_ewb(struct sgx_lp *lp, struct sgx_pageinfo *pageinfo, uint64_t epc,
	      uint64_t va_slot);
int encls_eldu(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc, uint64_t va_slot);
int encls_eldb(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc, uint64_t va_slot);
int encls_eaug(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo,
	       uint64_t epc);
int encls_emodpr(struct sgx_lp *lp, const struct sgx_secinfo *secinfo,
		 uint64_t epc);
int encls_emodt(struct sgx_lp *lp, const struct sgx_secinfo *secinfo,
		uint64_t epc);

/* ENCLU leaves (ring 3); operands are linear addresses. */
int enclu_eenter(struct sgx_lp *lp, uint64_t tcs, uint64_t aep);
int enclu_eresume(struct sgx_lp *lp, uint64_t tcs, uint64_t aep);
int enclu_eexit(struct sgx_lp *lp, uint64_t target);
int enclu_eaccept(struct sgx_lp *lp, uint64_t secinfo, uint64_t target);
int enclu_eacceptcopy(struct sgx_lp *lp, uint64_t secinfo, uint64_t dest,
		      uint64_t src);
int enclu_emodpe(struct sgx_lp *lp, uint64_t secinfo, uint64_t target);
int enclu_ereport(struct sgx_lp *lp, uint64_t targetinfo, uint64_t reportdata,
		  uint64_t report);
int enclu_egetkey(struct sgx_lp *lp, uint64_t keyrequest, uint64_t key);

/*
 * sgx_aex() - the asynchronous enclave exit event: an interrupt such as an
 * IPI (exc == NULL) or an exception inside the enclave (exc != NULL). Saves
 * state to the current SSA frame, CSSA++, leaves enclave mode and flushes
 * the TLB. The LP must be in enclave mode. Faults the model raises itself
 * (a leaf's, sgx_lp_access()'s) take their AEX inside arch before they are
 * returned; callers use this for interrupts and for exceptions they detect
 * themselves (the runner's native code, an enclave's UD2).
 */
void sgx_aex(struct sgx_lp *lp, const struct sgx_exception *exc);
/*
 * sgx_ssa_xsave() - the XSAVE area (first page) of the SSA frame in use,
 * while @lp is in enclave mode; NULL otherwise (aex.c).
 */
void *sgx_ssa_xsave(const struct sgx_lp *lp);

static inline bool sgx_faulted(int ret)
{
	return ret & SGX_FAULT_FLAG;
}

static inline int sgx_trapnr(int ret)
{
	return ret & ~SGX_FAULT_FLAG;
}

#endif
