// SPDX-License-Identifier: MIT
/*
 * The runtime's life: the library constructor reads the configuration the
 * command put in the environment and installs the traps; the model (CPU,
 * native platform, driver, mm, ksgxd) is made at a process's first open of
 * /dev/sgx_enclave, so a forked child that opens the device gets its own.
 * Counters go to the command's shared stats file.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "run/cpuid.h"
#include "run/runtime.h"

struct run_state run;

static pthread_mutex_t model_init_lock = PTHREAD_MUTEX_INITIALIZER;
/* The thread that forks (pthread_atfork's prepare), for the child. */
static struct run_thread *forking;

void *run_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off)
{
	return (void *)run_syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int run_sys_munmap(void *addr, size_t len)
{
	return (int)run_syscall(SYS_munmap, addr, len);
}

int run_sys_mprotect(void *addr, size_t len, int prot)
{
	return (int)run_syscall(SYS_mprotect, addr, len, prot);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 0);
	return errno || *end ? dflt : v;
}

static void read_config(struct run_config *cfg)
{
	uint64_t epc = env_u64(RUN_EPC_SIZE_ENV, RUN_DEFAULT_EPC_SIZE);
	uint64_t cpus = env_u64(RUN_CPUS_ENV, RUN_DEFAULT_CPUS);

	cfg->epc_pages = epc / PAGE_SIZE;
	if (!cfg->epc_pages || cfg->epc_pages > SGX_EPC_PAGES_MAX)
		cfg->epc_pages = RUN_DEFAULT_EPC_SIZE / PAGE_SIZE;
	cfg->cpus = cpus && cpus < SGX_LPS_MAX ? (unsigned int)cpus :
						 RUN_DEFAULT_CPUS;
	cfg->etrack_batch = (unsigned int)env_u64(RUN_ETRACK_BATCH_ENV,
						  SGX_ETRACK_BATCH_DEFAULT);
	cfg->no_loop_checks = !env_u64(RUN_LOOP_CHECKS_ENV, 1);
	cfg->stats_fd = (int)env_u64(RUN_STATS_FD_ENV, (uint64_t)-1);
}

static void map_shared_stats(int fd)
{
	void *p;

	if (fd < 0)
		return;
	p = run_sys_mmap(NULL, sizeof(struct run_stats),
			 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED)
		run.shared = p;
}

static int model_init(void)
{
	struct sgx_cpu_config cc = {
		.epc_pages = run.cfg.epc_pages,
		.nr_lps = run.cfg.cpus + 1,
		.seed = 1,
		.xfrm_supported = run_cpuid_xfrm(),
	};
	struct sgx_driver_config dc = {
		.sgx2 = true,
		.etrack_batch = run.cfg.etrack_batch,
		.no_loop_checks = run.cfg.no_loop_checks,
	};
	int ret;

	memset(&run.counted, 0, sizeof(run.counted));
	memset(&run.published, 0, sizeof(run.published));
	memset(run.files, 0, sizeof(run.files));
	run.counted.processes = 1;
	ret = sgx_cpu_init(&run.cpu, &cc);
	if (!ret)
		ret = native_init(&run.native, &run.cpu, run.ipi_signo);
	if (ret)
		return ret;
	ret = sgx_driver_init(&run.drv, &run.cpu, &run.native.plat, &dc);
	if (!ret)
		ret = sgx_mm_create(&run.drv, &run.mm);
	if (ret)
		return ret;
	run.etrack_gen = 0;
	run.revoked_gen = 0;
	run_hostmap_install();
	run.cpu.hooks.aex = run_aex_hook;
	run_record_install();
	run.pid = run.self;
	return native_start_ksgxd(&run.native, ksgxd, &run.drv);
}

/**
 * run_model_get() - make this process's model if it has none yet.
 *
 * Return: 0, or -errno if it cannot be made.
 */
int run_model_get(void)
{
	int ret = 0;

	pthread_mutex_lock(&model_init_lock);
	if (!run_ready()) {
		ret = model_init();
		if (ret)
			run.pid = 0;
	}
	pthread_mutex_unlock(&model_init_lock);
	return ret;
}

static void count_arch(struct run_stats *s)
{
	const struct sgx_arch_stats *a = &run.cpu.stats;

	s->etracks = a->encls[ETRACK];
	s->aexs = a->aex;
	s->eaugs = a->encls[EAUG];
	s->ewbs = a->encls[EWB];
	s->eldus = a->encls[ELDU];
	s->eenters = a->enclu[EENTER];
	s->eresumes = a->enclu[ERESUME];
	s->eexits = a->enclu[EEXIT];
	s->ipi_rounds = run.native.stats.ipi_rounds;
	s->ipis = run.native.stats.ipis;
}

/**
 * run_publish_stats() - add what this process counted since its last
 * publication to the command's shared counters. Call with the model lock
 * held, or once the process is single-threaded at exit.
 */
void run_publish_stats(void)
{
	struct run_stats now = run.counted;
	uint64_t *cur = (uint64_t *)&now, *pub = (uint64_t *)&run.published;
	uint64_t *shared = (uint64_t *)run.shared;

	if (!run.shared || !run_ready())
		return;
	count_arch(&now);
	for (unsigned int i = 0; i < RUN_STATS_FIELDS; i++) {
		__atomic_fetch_add(&shared[i], cur[i] - pub[i],
				   __ATOMIC_RELAXED);
		pub[i] = cur[i];
	}
}

/*
 * fork, from libc's atfork handlers or a raw fork that sysgate.c traps:
 * the forking thread's record is the one the child keeps (thread.c), and
 * the child drops its parent's enclaves (hostmap.c). getpid() would be a
 * system call on every trap, so the pid is kept and the child learns its
 * own in run_fork_child().
 */
void run_atfork_prepare(void)
{
	forking = run_thread_self();
	run_fork_prepare();
}

void run_atfork_child(void)
{
	run_thread_forked(forking);
	run_fork_child();
}

__attribute__((constructor)) static void run_init(void)
{
	run.self = getpid();
	pthread_atfork(run_atfork_prepare, run_fork_parent, run_atfork_child);
	run_sysgate_map();
	run_fs_setup();
	run_xstate_setup();
	read_config(&run.cfg);
	map_shared_stats(run.cfg.stats_fd);
	/* MODEL: a real-time signal near the top stands for the IPI vector. */
	run.ipi_signo = SIGRTMAX - 3;
	run.vdso = run_vdso_get();
	run_direct_setup();
	run_cpuid_set_epc_size(run.cfg.epc_pages * PAGE_SIZE);
	if (run_cpuid_setup())
		fprintf(stderr, "sgxemu: CPUID patching failed\n");
	if (run_traps_install() || !run_thread_get()) {
		fprintf(stderr, "sgxemu: cannot install the runtime's traps\n");
		abort();
	}
	/* After the traps: SIGSYS must have its handler first. */
	run_sysgate_setup();
}

/**
 * run_at_exit() - the process exits: its counters go to --stats.
 */
void run_at_exit(void)
{
	if (!run_ready())
		return;
	native_lock(&run.native);
	run_publish_stats();
	native_unlock(&run.native);
}

__attribute__((destructor)) static void run_fini(void)
{
	run_at_exit();
}
