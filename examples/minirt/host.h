/* SPDX-License-Identifier: MIT */
/*
 * minirt's host: the loader (load.c) and the untrusted runtime (urts.c).
 */
#ifndef MINIRT_HOST_H
#define MINIRT_HOST_H

#include <stdint.h>

#include "minirt.h"
#include "sgxemu/uapi.h"

struct mrt_enclave {
	int fd;
	uint64_t base, size; /* ELRANGE */
	uint64_t tcs[MRT_THREADS];
	uint64_t heap_off;
	uint64_t xfrm;
};

/*
 * Build the enclave of the ELF file at path with an ELRANGE of size bytes
 * (a power of two): raw open, mmap, CREATE, ADD_PAGES, INIT. 0, or -1
 * with a message printed.
 */
int mrt_load(struct mrt_enclave *e, const char *path, uint64_t size);

/* The host's per-thread control block, at %gs:0 (HT_* in minirt.h). */
struct mrt_thread {
	struct mrt_thread *self;
	uint64_t host_rsp;
	uint64_t tcs;
	uint64_t aep;
	struct mrt_enclave *encl;
	int vdso;            /* enter through __vdso_sgx_enter_enclave */
	uint64_t aexs;       /* exceptions handled by the enclave */
	uint64_t signals;    /* of which came as a signal at the AEP */
	uint64_t ocall_ns[2]; /* the benchmark's last two OCALL times */
	uint64_t *bench_ns;  /* each OCALL's interval, if benchmarking */
	uint64_t bench_n;
};

/* Make t this thread's host TCB: arch_prctl(ARCH_SET_GS), raw. */
int mrt_thread_init(struct mrt_thread *t, struct mrt_enclave *e,
		    uint64_t tcs, int vdso);
/* An ECALL on the thread's TCS, serving its OCALLs: the result. */
uint64_t mrt_ecall(struct mrt_thread *t, uint64_t cmd, uint64_t arg);
/*
 * The signal handlers of the exception path; with in_handler, they enter
 * the enclave themselves, on an alternate stack of the main thread's.
 * 0 or -1.
 */
int mrt_install_handlers(int in_handler);
/* The vDSO's enter function, or -1 if there is none. */
int mrt_find_vdso(void);

#endif
