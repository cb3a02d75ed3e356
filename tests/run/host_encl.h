/* SPDX-License-Identifier: MIT */
/*
 * The runner tests' host side: build the test enclave (encl.S) through the
 * real /dev/sgx_enclave ioctls, as an unmodified loader does, and call it.
 */
#ifndef SGXEMU_TESTS_RUN_HOST_ENCL_H
#define SGXEMU_TESTS_RUN_HOST_ENCL_H

#include <stdint.h>

#include "sgxemu/uapi.h"

#define HE_SIZE 0x20000ULL
#define HE_NR_TCS 8
#define HE_TCS 0x0000ULL /* TCS i at HE_TCS + i pages */
#define HE_CODE 0x8000ULL
#define HE_DATA 0x9000ULL
#define HE_STACK 0xA000ULL
#define HE_STRESS 0xB000ULL
#define HE_SSA 0xC000ULL /* two frames per TCS */
#define HE_HOLE 0x1C000ULL

enum he_op {
	HE_PUT = 1, HE_GET, HE_READ, HE_WRITE, HE_EACCEPT, HE_EMODPE, HE_SPIN,
	HE_FS, HE_GS, HE_UD2, HE_EMODPE_REGS, HE_EREPORT_REGS, HE_EEXIT_STACK,
	HE_SYSCALL, HE_OUT, HE_INT80, HE_DIV0, HE_INT3,
	HE_XMM, HE_OWN_STACK, HE_WAIT, HE_HOLD,
};

struct host_encl {
	int fd;
	uint64_t base;
	uint64_t size; /* ELRANGE */
	const char *failed; /* the step that failed, its errno in errno */
};

/* Open, CREATE, ADD_PAGES, INIT, mmap; 0, or -1 with a message printed. */
int host_encl_build(struct host_encl *e);
/*
 * The same with an ELRANGE of @size (a power of two, at least HE_SIZE),
 * SECS.XFRM @secs_xfrm and the SIGSTRUCT's XFRM @sig_xfrm (its mask all
 * ones). On failure e->failed names the step and errno is its errno.
 */
int host_encl_build_with(struct host_encl *e, uint64_t size,
			 uint64_t secs_xfrm, uint64_t sig_xfrm);
void host_encl_destroy(struct host_encl *e);

/* encl.S: EENTER the TCS at tcs; the enclave's RDX comes back. */
uint64_t host_enter(uint64_t tcs, uint64_t op, uint64_t rsi, uint64_t rdx);
/* host_enter without TLS (raw clone() threads); ops that keep RSP. */
uint64_t host_enter_notls(uint64_t tcs, uint64_t op, uint64_t rsi,
			  uint64_t rdx);
/* The vDSO's __vdso_sgx_enter_enclave (getauxval), or NULL. */
vdso_sgx_enter_enclave_t host_vdso_enter(void);
/* ERESUME the TCS after an AEX; the enclave's RDX comes back. */
uint64_t host_resume(uint64_t tcs);
extern const char host_aep[];
/* EENTER HE_EEXIT_STACK: out = { RSP before, RSP after, RBP after }. */
void host_enter_stack(uint64_t tcs, uint64_t out[3]);

#endif
