// SPDX-License-Identifier: MIT
/*
 * The example enclave's operations (layout.h), called by encl_entry.S.
 * No libc: built -ffreestanding -nostdlib, linked -static-pie with
 * encl.lds, and never relocated by anyone, so the code holds no absolute
 * addresses (no GOT, no pointer tables).
 *
 * Every address comes from the untrusted host. A real enclave would check
 * that each page lies in its own heap before touching it; this one trusts
 * the host, whose program it is.
 */
#include <stdint.h>

#include "arch/sdm.h"
#include "layout.h"

#define ENCLU_EACCEPT 5
#define ENCLU_EMODPE 6

struct result {
	uint64_t pages; /* RDI at EEXIT */
	uint64_t error; /* RSI at EEXIT */
};

/* EACCEPT or EMODPE of the page at addr with SECINFO.FLAGS = flags. */
static uint64_t enclu_page(uint64_t leaf, uint64_t flags, uint64_t addr)
{
	struct sgx_secinfo secinfo = { .flags = flags };
	uint64_t rax = leaf;

	__asm__ __volatile__("enclu"
		     : "+a"(rax)
		     : "b"(&secinfo), "c"(addr)
		     : "memory");
	return rax;
}

/* The leaf on each page; EMODPE reports no error code (it faults). */
static struct result each_page(uint64_t leaf, uint64_t flags, uint64_t addr,
			       uint64_t pages)
{
	struct result r = { 0, 0 };

	for (uint64_t i = 0; i < pages; i++) {
		uint64_t ret = enclu_page(leaf, flags, addr + i * ENCL_PAGE);

		/* EMODPE leaves EAX as it was: returning is success. */
		if (leaf == ENCLU_EMODPE || !ret)
			r.pages++;
		else if (!r.error)
			r.error = ret;
	}
	return r;
}

/* Each 8 bytes of a page hold their own address, inverted. */
static uint64_t pattern(const volatile uint64_t *p)
{
	return ~(uint64_t)(uintptr_t)p;
}

static struct result write_pages(uint64_t addr, uint64_t pages)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
	uint64_t words = pages * ENCL_PAGE / sizeof(*p);

	for (uint64_t i = 0; i < words; i++)
		p[i] = pattern(&p[i]);
	return (struct result){ pages, 0 };
}

static struct result check_pages(uint64_t addr, uint64_t pages)
{
	struct result r = { 0, 0 };

	for (uint64_t i = 0; i < pages; i++) {
		const volatile uint64_t *p = (const volatile uint64_t *)(
			uintptr_t)(addr + i * ENCL_PAGE);
		uint64_t bad = 0;

		for (uint64_t j = 0; j < ENCL_PAGE / sizeof(*p); j++)
			bad |= p[j] ^ pattern(&p[j]);
		r.pages += !bad;
	}
	return r;
}

#define REG SGX_SECINFO_TYPE(PT_REG)

struct result encl_dispatch(uint64_t op, uint64_t addr, uint64_t pages);

struct result encl_dispatch(uint64_t op, uint64_t addr, uint64_t pages)
{
	switch (op) {
	case OP_ACCEPT_PENDING:
		return each_page(ENCLU_EACCEPT, REG | SGX_SECINFO_R |
				 SGX_SECINFO_W | SGX_SECINFO_PENDING,
				 addr, pages);
	case OP_ACCEPT_RESTRICTED:
		return each_page(ENCLU_EACCEPT,
				 REG | SGX_SECINFO_R | SGX_SECINFO_PR, addr,
				 pages);
	case OP_ACCEPT_TRIM:
		return each_page(ENCLU_EACCEPT, SGX_SECINFO_TYPE(PT_TRIM) |
				 SGX_SECINFO_MODIFIED, addr, pages);
	case OP_EXTEND_RW:
		return each_page(ENCLU_EMODPE, SGX_SECINFO_R | SGX_SECINFO_W,
				 addr, pages);
	case OP_WRITE:
		return write_pages(addr, pages);
	case OP_CHECK:
		return check_pages(addr, pages);
	}
	return (struct result){ 0, 0 };
}
