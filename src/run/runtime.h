/* SPDX-License-Identifier: MIT */
/*
 * The runner's LD_PRELOAD runtime (docs/RUNNER.md): one model per process
 * (CPU, native platform, driver, the process's mm), device interposition,
 * the host mappings that shadow the page table, and the traps that run
 * enclave code natively.
 */
#ifndef SGXEMU_RUN_RUNTIME_H
#define SGXEMU_RUN_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <ucontext.h>
#include <unistd.h>

#include "arch/cpu.h"
#include "kernel/driver.h"
#include "platform/native.h"
#include "run/stats.h"
#include "run/vdso.h"

#define RUN_FDS_MAX 4096

/* Read from the environment the command sets (src/cli/run.c). */
struct run_config {
	uint64_t epc_pages;
	unsigned int cpus; /* LPs for program threads; ksgxd gets one more */
	unsigned int etrack_batch;
	bool no_loop_checks; /* --loop-checks off */
	int stats_fd; /* -1: no --stats */
};

#define RUN_CPUS_ENV "SGXEMU_CPUS"
#define RUN_ETRACK_BATCH_ENV "SGXEMU_ETRACK_BATCH"
#define RUN_LOOP_CHECKS_ENV "SGXEMU_LOOP_CHECKS"
#define RUN_DEFAULT_EPC_SIZE (64ULL << 20)
#define RUN_DEFAULT_CPUS 8

struct run_state {
	struct run_config cfg;
	pid_t pid; /* the process the model belongs to; 0: none yet */
	struct sgx_cpu cpu;
	struct native native;
	struct sgx_driver drv;
	struct sgx_mm *mm;
	struct sgx_file *files[RUN_FDS_MAX];
	const struct run_vdso *vdso; /* NULL: no image */
	int ipi_signo;
	/* ETRACKs so far, and the count at the last whole revocation. */
	atomic_uint_fast64_t etrack_gen;
	uint64_t revoked_gen;
	struct run_stats counted; /* this process's non-arch counters */
	struct run_stats published; /* what it has added to *shared */
	struct run_stats *shared; /* NULL without --stats */
};

extern struct run_state run;

/* The model exists in this process (it is made at the first open). */
static inline bool run_ready(void)
{
	return run.pid != 0 && run.pid == getpid();
}

/* runtime.c */
int run_model_get(void);
void run_publish_stats(void);

/* hostmap.c: host mappings, PROT_NONE until an enclave access fills them */
void run_hostmap_install(void);
int run_host_fill(struct sgx_lp *lp, uint64_t addr, enum sgx_access acc);
void run_revoke_if_tracked(void);
int run_host_reserve(uint64_t addr, uint64_t len);

/* fsgs.c: the alternate stacks, and FS/GS across the enclave boundary */
int run_altstack(void);
void run_altstack_get(stack_t *ss);
void run_fs_enter(void);
void run_fs_leave(void);

/* trap.c */
int run_traps_install(void);
void run_regs_from_uc(struct sgx_lp *lp, const ucontext_t *uc);
void run_regs_to_uc(const struct sgx_lp *lp, ucontext_t *uc);

/* Raw system calls: the runtime never goes through its own interposers. */
void *run_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off);
int run_sys_munmap(void *addr, size_t len);
int run_sys_mprotect(void *addr, size_t len, int prot);

#endif
