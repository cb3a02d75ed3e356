/* SPDX-License-Identifier: MIT */
/*
 * The kernel test fixture: an emulated SGX2 CPU (invariants checked after
 * every leaf), the sim platform, the driver on it, one process (an mm) with
 * /dev/sgx_enclave open, and helpers that build the Linux selftest enclave
 * through the ioctls exactly as the selftest's loader does
 * (linux-sgx-driver.md sections 10.1 and 10.3), then mmap it.
 *
 * The enclave (kfx_build), at KFX_BASE, size the smallest power of two that
 * holds the segments:
 *   TCS  0x0000-0x2000  two TCS pages, measured, mapped RW
 *   text 0x2000-0x4000  REG RX, measured
 *   data 0x4000-0xB000  REG RW, measured: encl_buffer 0x4000-0x6000 (the
 *                       selftests' data_start is 0x5000), the op page at
 *                       0x6000, SSA1 0x7000, SSA2 0x8000, the stack of
 *                       TCS1 at 0x9000 and of TCS2 at 0xA000
 *   heap 0xB000-...     REG RW, not measured, heap_size bytes (4 KiB)
 * so the default enclave is 0xC000 bytes in a 64 KiB ELRANGE. TCS1 uses
 * SSA1, TCS2 SSA2; both have NSSA 1 and OENTRY at the start of text.
 *
 * Calls run in sim's direct mode (LP 0, no threads) unless a test spawns
 * threads; enclave threads are modelled by the kfx_enter()/kfx_op() family,
 * which handle #PFs the way the CPU, Linux and the vDSO do.
 *
 * Helpers that cannot fail in a correct run assert through Criterion.
 */
#ifndef SGXEMU_TESTS_KFIXTURE_H
#define SGXEMU_TESTS_KFIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "kernel/driver.h"
#include "platform/sim.h"
#include "sgxemu/uapi.h"

#define KFX_BASE 0x100000000ULL /* naturally aligned up to 4 GiB */
#define KFX_AEP 0x7000DEAD000ULL /* outside ELRANGE: where an AEX lands */

#define KFX_TCS1 0x0000ULL
#define KFX_TCS2 0x1000ULL
#define KFX_TEXT 0x2000ULL
#define KFX_DATA 0x4000ULL /* encl_buffer */
#define KFX_DATA_START 0x5000ULL /* the selftests' data_start */
#define KFX_OP 0x6000ULL /* encl_op_array: the enclave's SECINFOs */
#define KFX_SSA1 0x7000ULL
#define KFX_SSA2 0x8000ULL
#define KFX_STACK1 0x9000ULL
#define KFX_STACK2 0xA000ULL
#define KFX_HEAP 0xB000ULL

#define KFX_EPC_PAGES 256
#define KFX_NR_LPS 4

enum kfx_seg { KFX_SEG_TCS, KFX_SEG_TEXT, KFX_SEG_DATA, KFX_SEG_HEAP,
	       KFX_NR_SEGS };

struct kfx_segment {
	uint64_t offset, size;
	uint64_t secinfo_flags; /* for every page of the segment */
	unsigned long prot; /* SGX_PROT_* of its mmap */
	bool measure;
	uint8_t *src; /* page-aligned contents, size bytes */
};

struct kfx_config {
	uint64_t epc_pages; /* 0: KFX_EPC_PAGES */
	unsigned int nr_lps; /* 0: KFX_NR_LPS */
	bool no_sgx2; /* a CPU without SGX2: the driver's cfg.sgx2 = false */
	uint64_t heap_size; /* 0: one page */
	/*
	 * The driver's etrack_batch (1: Linux 6.12, N: every N pages, 0: once
	 * per call) when pin_batch is set; otherwise the environment's
	 * SGXEMU_ETRACK_BATCH if set, else the driver's default. The meson
	 * suites run the kernel tests under several values.
	 */
	bool pin_batch;
	unsigned int etrack_batch;
	/* The driver's no_loop_checks: no per-page signal/resched checks. */
	bool no_loop_checks;
	/*
	 * The platform the driver runs on; NULL: fx->sim. With another one
	 * (the native platform's tests) the caller does what that platform
	 * asks around each call (native: hold its model lock).
	 */
	const struct sgx_platform *plat;
	/*
	 * The CPU's XFRM (cfg.xfrm_supported, CPUID 12H.1) and the enclave's,
	 * in SECS and SIGSTRUCT; 0: x87|SSE (3) on the CPU's default.
	 */
	uint64_t xfrm;
};

struct kfx {
	struct sgx_cpu cpu;
	struct sim sim;
	struct sgx_driver drv;
	struct sgx_mm *mm;
	struct sgx_file *file; /* NULL once kfx_close() ran */
	struct sgx_encl *encl; /* file->encl */
	uint64_t base, size; /* the enclave's ELRANGE */
	uint64_t total_size; /* sum of the segment sizes (selftest name) */
	uint64_t xfrm; /* SECS.XFRM and the SIGSTRUCT's */
	struct kfx_segment seg[KFX_NR_SEGS];
	struct sgx_sigstruct sigstruct; /* what kfx_einit() signed */
	uint64_t tcs[SGX_LPS_MAX]; /* the TCS each LP entered through */
};

/* Everything but the enclave: CPU, sim, driver, mm, open file, layout. */
void kfx_init(struct kfx *fx, const struct kfx_config *cfg);
/* Tear it all down (exit the mm, close the file if open, free the rest). */
void kfx_fini(struct kfx *fx);
/* close() of the enclave file. */
void kfx_close(struct kfx *fx);
/* mmap(MAP_SHARED | MAP_FIXED) of [base + off, + len) of fx's enclave in mm. */
int kfx_map(struct kfx *fx, struct sgx_mm *mm, uint64_t off, uint64_t len,
	    unsigned long prot);
/* The PTE of the page at base + off in mm, or NULL. */
const struct sgx_pte *kfx_pte_of(const struct kfx *fx, struct sgx_mm *mm,
				 uint64_t off);

/* sgx_ioctl() on the fixture's file with a pointer argument. */
long kfx_ioctl(struct kfx *fx, unsigned int cmd, void *arg);

/* The selftest loader's steps; each returns the ioctl's result. */
long kfx_create(struct kfx *fx);
long kfx_add_segment(struct kfx *fx, enum kfx_seg seg);
long kfx_einit(struct kfx *fx);
/* Sign fx->seg[] as encl_measure() does, into fx->sigstruct. */
void kfx_sign(struct kfx *fx);
/* Sign fx->sigstruct again after a test edited its header or body. */
void kfx_resign(struct kfx *fx);
/* mmap each segment MAP_SHARED | MAP_FIXED with its prot; asserts 0. */
void kfx_mmap_all(struct kfx *fx);

/* CREATE and ADD_PAGES of every segment, asserting success. */
void kfx_build_uninit(struct kfx *fx);
/* The whole selftest setup: kfx_build_uninit, INIT, kfx_mmap_all. */
void kfx_build(struct kfx *fx);

/* EDMM ioctls with fresh arguments; count/result may be NULL. */
long kfx_restrict(struct kfx *fx, uint64_t offset, uint64_t length,
		  uint64_t perm, uint64_t *count, uint64_t *result);
long kfx_modify_types(struct kfx *fx, uint64_t offset, uint64_t length,
		      uint64_t type, uint64_t *count, uint64_t *result);
long kfx_remove(struct kfx *fx, uint64_t offset, uint64_t length,
		uint64_t *count);

/* The enclave's etrack_batch (the fixture's choice, see kfx_config). */
unsigned int kfx_batch(const struct kfx *fx);
/*
 * The ETRACK flows of an EDMM call that modified @pages pages and then
 * either completed or stopped at a page it could not modify: one per
 * batch, the last one possibly short.
 */
uint64_t kfx_flows(const struct kfx *fx, uint64_t pages);

/* The driver's page at base + offset, or NULL. */
struct sgx_encl_page *kfx_page(const struct kfx *fx, uint64_t offset);
/* The EPCM entry of the resident page at base + offset (asserted). */
const struct epcm_entry *kfx_epcm(const struct kfx *fx, uint64_t offset);
/* EPC index of the resident page at base + offset (asserted). */
uint64_t kfx_epc_index(const struct kfx *fx, uint64_t offset);

/* No ENCLS warning and every arch invariant holds. */
void kfx_assert_clean(const struct kfx *fx);

/*
 * What an enclave thread's operation ended with. A #PF the kernel fixed
 * (sgx_user_fault() == SGX_FAULT_FIXED) is retried transparently, as the
 * vDSO's ENCLU/AEP loop does; any other fault is reported here, like the
 * exception fields of struct sgx_enclave_run, and the LP is left outside
 * the enclave after its AEX (kfx_eresume() goes back in).
 */
struct kfx_fault {
	bool raised; /* false: the operation completed */
	uint8_t vector;
	uint32_t error_code;
	uint64_t addr;
	enum sgx_fault_result result; /* the kernel's decision on a #PF */
	unsigned int fixed; /* #PFs the kernel fixed on the way */
};

/*
 * Put the fixture's mm on lp (sgx_mm_activate) and EENTER it through the
 * TCS at base + tcs_offset. Returns EENTER's result after fixed faults.
 */
int kfx_enter(struct kfx *fx, unsigned int lp, uint64_t tcs_offset,
	      struct kfx_fault *f);
/* ERESUME lp through the TCS it entered by; same conventions. */
int kfx_eresume(struct kfx *fx, unsigned int lp, struct kfx_fault *f);
/* EEXIT lp; asserts success. */
void kfx_exit(struct kfx *fx, unsigned int lp);

/* From inside the enclave on lp: read or write len bytes at base + off. */
int kfx_read(struct kfx *fx, unsigned int lp, uint64_t offset, void *buf,
	     size_t len, struct kfx_fault *f);
int kfx_write(struct kfx *fx, unsigned int lp, uint64_t offset,
	      const void *buf, size_t len, struct kfx_fault *f);
/*
 * From inside the enclave on lp: put a SECINFO with flags on the op page
 * (KFX_OP + 64 * lp) and EACCEPT / EMODPE the page at base + offset.
 * Returns the leaf's result (0 or an SGX code) once no fault is left, or
 * the fault when the kernel would not fix it.
 */
int kfx_eaccept(struct kfx *fx, unsigned int lp, uint64_t offset,
		uint64_t flags, struct kfx_fault *f);
int kfx_emodpe(struct kfx *fx, unsigned int lp, uint64_t offset,
	       uint64_t flags, struct kfx_fault *f);

#endif
