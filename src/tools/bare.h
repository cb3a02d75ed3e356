/* SPDX-License-Identifier: MIT */
/*
 * Building an enclave on the bare emulated CPU, with no driver: the OS part
 * that the demo and the leaf benchmarks play themselves. One page table, a
 * bump allocator for EPC pages, and a signer that measures in software and
 * signs with a fresh key, as a loader would.
 */
#ifndef SGXEMU_TOOLS_BARE_H
#define SGXEMU_TOOLS_BARE_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "sign/enclave_hash.h"

struct bare {
	struct sgx_cpu cpu;
	struct sgx_pgtable pt;
	uint64_t next_epc;
	uint64_t secs, base, size;
	struct sgx_enclave_hash hash;
};

/* A CPU whose LPs all run in one page table. 0, -EINVAL or -ENOMEM. */
int bare_init(struct bare *b, const struct sgx_cpu_config *cfg);
void bare_destroy(struct bare *b);
/* The next unused EPC page, or 0 when the EPC is exhausted. */
uint64_t bare_alloc_epc(struct bare *b);
/* The EPC page mapped at base + off. */
uint64_t bare_epc(const struct bare *b, uint64_t off);

/*
 * ECREATE a 64-bit enclave (XFRM 3, one SSA page per frame). Returns the
 * leaf's result, or -1 when the host runs out of something.
 */
int bare_ecreate(struct bare *b, uint64_t base, uint64_t size);
/*
 * EADD one page at base + off (src NULL: zeros), map it RW (X if the
 * SECINFO has X), and when measure is set EEXTEND all of it, leaving the
 * first failing EEXTEND result in *eextend (0 if none). Returns EADD's.
 */
int bare_eadd(struct bare *b, uint64_t off, uint64_t secinfo_flags,
	      const void *src, bool measure, int *eextend);
/*
 * Sign the measurement with a fresh key, load MRSIGNER into every LP's
 * launch-control MSRs, and EINIT. Returns EINIT's result, or -1.
 */
int bare_einit(struct bare *b);

#endif
