/* SPDX-License-Identifier: MIT */
/*
 * The example host's pieces: building the enclave (load.c), finding the
 * vDSO's enter function (vdso.c) and calling it (host_enter.S).
 */
#ifndef EDMM_HOST_H
#define EDMM_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "sgxemu/uapi.h"

struct encl {
	int fd;          /* /dev/sgx_enclave */
	uint64_t base;   /* SECS.BASEADDR */
	uint64_t size;   /* SECS.SIZE, a power of two */
	uint64_t tcs;    /* the one TCS's address */
	uint64_t heap;   /* the heap's first page: base + heap offset */
	uint64_t heap_pages;
};

/*
 * Build the enclave of the ELF file at path, with room after it for a heap
 * of heap_pages pages that stays unbacked (no page is added there): open
 * the device, CREATE, ADD_PAGES, INIT, and mmap the added pages and the
 * heap. Returns 0, or -1 with a message printed.
 */
int encl_build(struct encl *e, const char *path, uint64_t heap_pages);
void encl_destroy(struct encl *e);

/*
 * __vdso_sgx_enter_enclave from getauxval(AT_SYSINFO_EHDR); NULL if absent.
 * With size, its size in bytes there too (its AEP lies inside it).
 */
vdso_sgx_enter_enclave_t vdso_find_enter(size_t *size);

/* The function enter_enclave() calls. */
extern vdso_sgx_enter_enclave_t vdso_sgx_enter_enclave;

/*
 * The vDSO function with the C caller's callee-saved registers kept: after
 * an exception the vDSO returns with the registers an AEX left (synthetic
 * values, SDM "Asynchronous Enclave Exit"), not the caller's.
 */
int enter_enclave(unsigned long rdi, unsigned long rsi, unsigned long rdx,
		  unsigned int function, unsigned long r8, unsigned long r9,
		  struct sgx_enclave_run *run);

#endif
