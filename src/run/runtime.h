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
#define RUN_RECORD_FD_ENV "SGXEMU_RECORD_FD" /* --record (record.c) */
#define RUN_DEFAULT_EPC_SIZE (64ULL << 20)
#define RUN_DEFAULT_CPUS 8

struct run_state {
	struct run_config cfg;
	pid_t pid; /* the process the model belongs to; 0: none yet */
	pid_t self; /* this process: set at start and in a fork's child */
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
	/*
	 * Host mappings replaced so far (model lock held), and the count when
	 * each LP last entered enclave mode: while they agree, every page an
	 * LP's enclave code was fetched from is still mapped (trap.c).
	 */
	uint64_t host_revokes;
	uint64_t lp_entry_revokes[SGX_LPS_MAX];
	struct run_stats counted; /* this process's non-arch counters */
	struct run_stats published; /* what it has added to *shared */
	struct run_stats *shared; /* NULL without --stats */
};

extern struct run_state run;

/* The model exists in this process (it is made at the first open). */
static inline bool run_ready(void)
{
	return run.pid != 0 && run.pid == run.self;
}

/* runtime.c */
int run_model_get(void);
void run_publish_stats(void);

/* hostmap.c: host mappings, PROT_NONE until an enclave access fills them */
void run_hostmap_install(void);
int run_host_fill(struct sgx_lp *lp, uint64_t addr, enum sgx_access acc);
void run_revoke_if_tracked(void);
int run_host_reserve(uint64_t addr, uint64_t len);
/* fork: the child keeps the parent's enclave ranges, without the enclaves */
void run_fork_prepare(void);
void run_fork_parent(void);
void run_fork_child(void);
void run_atfork_prepare(void);
void run_atfork_child(void);
bool run_orphan_fault(uint64_t addr, uint32_t error_code,
		      struct sgx_exception *exc);
void run_orphan_forget(uint64_t start, uint64_t len);

/*
 * thread.c: the runner's state of one program thread. It lives at the
 * bottom of the thread's alternate signal stack (the runtime's, aligned to
 * RUN_ALTSTACK_SIZE), so a handler finds it from its stack pointer, and is
 * found elsewhere by the kernel tid: never through glibc's TLS, which
 * threads made by a raw clone() share or do not have.
 */
#define RUN_ALTSTACK_SIZE (256 * 1024UL) /* a power of two */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* linux/signal.h */
#endif

enum run_thread_state { RUN_THREAD_FREE, RUN_THREAD_LIVE, RUN_THREAD_EXITED };

struct run_thread {
	/* fsgs.c */
	uint64_t host_fs;
	uint64_t host_gs;
	uint64_t gs; /* what GS holds (arch_prctl only) */
	uint64_t loaded; /* the enclave's bases are in FS and GS */
	uint64_t sud_gen; /* dispatch is on for this process's model */
	char selector; /* Syscall User Dispatch: BLOCK in enclave mode */
	atomic_int state; /* enum run_thread_state */
	pid_t tid;
	bool armed; /* the kernel has this stack as the thread's altstack */
	stack_t program_stack; /* what the program asked sigaltstack() for */
	uint64_t program_blocked; /* the runtime's signals it blocked */
	/* The LP it holds (in enclave mode, or in model code), or NULL. */
	struct sgx_lp *lp;
	uint64_t lp_gen; /* the model instance lp belongs to */
	/* trap.c */
	ucontext_t *aex_uc; /* whose extended state an AEX saves */
	bool must_yield; /* let others have the model lock */
	struct {
		int sig;
		int code; /* si_code */
		struct sgx_exception exc; /* trapno, err and address */
	} pending; /* a signal for the program, decided under the lock */
	/* Lowest address of the stack's frames in use (deliver()), or 0. */
	uintptr_t in_use;
	/* record.c: the sequence number of its ioctl, taken at the entry. */
	uint64_t ioctl_seq;
};

struct run_thread *run_thread_here(void);
struct run_thread *run_thread_self(void);
struct run_thread *run_thread_get(void);
uintptr_t run_thread_stack(const struct run_thread *t);
stack_t run_thread_altstack(const struct run_thread *t, uintptr_t top);
struct sgx_lp *run_thread_lp(struct run_thread *t);
struct sgx_lp *run_lp_get(struct run_thread *t);
void run_lp_put(struct run_thread *t);
void run_lp_activate(struct sgx_lp *lp);
int run_arm_altstack(struct run_thread *t, ucontext_t *uc, uint64_t host_rsp);
void run_thread_forked(struct run_thread *me);
pid_t run_gettid(void);
bool run_on_stack(const stack_t *ss, uint64_t sp);
void run_call_on_stack(void (*fn)(void *), void *arg, uintptr_t top);

/* fsgs.c: FS/GS across the enclave boundary */
void run_fs_enter(void);
void run_fs_leave(void);
void run_fs_load(struct run_thread *h, const struct sgx_lp *lp);
void run_fs_setup(void);
void run_sud_on(struct run_thread *h, uint64_t gen);
long run_fs_arch_prctl(int code, uint64_t arg);

/* xstate.c: the extended state across AEX and ERESUME */
void run_xstate_setup(void);
void run_xstate_aex(const struct sgx_lp *lp, ucontext_t *uc);
void run_xstate_resume(const struct sgx_lp *lp, ucontext_t *uc);

/* record.c: `sgxemu run --record` (docs/TRACE.md) */
void run_record_install(void);
void run_record_aex(struct sgx_lp *lp);
/* trap.c: the CPU's AEX hook (extended state, then the recorder) */
void run_aex_hook(void *ctx, struct sgx_lp *lp);
void run_record_leaf(struct sgx_lp *lp, enum sgx_leaf_class cls,
		     unsigned int leaf);

/* trap.c */
int run_traps_install(void);
int run_enclu_entry(struct sgx_lp *lp, ucontext_t *uc);

/* direct.c: EENTER and ERESUME of the vDSO image without a trap */
void run_direct_setup(void);
void run_direct_learn(const ucontext_t *uc);
void run_regs_from_uc(struct sgx_lp *lp, const ucontext_t *uc);
void run_regs_to_uc(const struct sgx_lp *lp, ucontext_t *uc);

/*
 * sysgate.c: the runtime's own system calls, through its gate (the one
 * site the seccomp filters let through), and the emulation of the calls
 * the filters trap.
 */
#define RUN_SGX_DEVICE "/dev/sgx_enclave"
#define RUN_GATE_TAG 0x5e5 /* si_errno of the runtime's SIGSYS */
long run_sys6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
long run_sys_ret(long ret);
#define RUN_SYS7(nr, a, b, c, d, e, f, ...)                                \
	run_sys_ret(run_sys6((long)(nr), (long)(a), (long)(b), (long)(c), \
			     (long)(d), (long)(e), (long)(f)))
/* syscall(2) through the gate: -1 and errno on failure. */
#define run_syscall(...) RUN_SYS7(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
int run_sysgate_map(void);
uint64_t run_sysgate_page(void);
int run_sysgate_setup(void);
void run_sysgate_device_fd(int fd);
void run_sysgate_range(uint64_t start, uint64_t len);
long run_sysgate_emulate(long nr, const long a[6], ucontext_t *uc);
int run_sys_sigaction(int sig, const struct sigaction *act,
		      struct sigaction *old);
int run_sys_sigmask(int how, const sigset_t *set, sigset_t *old);

/* runtime.c: what the process's exit and a thread's exit do. */
void run_at_exit(void);
void run_thread_exit(void);

/* Raw system calls: the runtime never goes through its own interposers. */
void *run_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off);
int run_sys_munmap(void *addr, size_t len);
int run_sys_mprotect(void *addr, size_t len, int prot);

#endif
