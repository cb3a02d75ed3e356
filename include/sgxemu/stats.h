/* SPDX-License-Identifier: MIT */
/*
 * Event counters. Every countable architectural event is counted so that
 * tests can assert exact numbers (ETRACKs, AEXs, ...) and the cost model can
 * price them. See ../shared/design/architecture.md section 6.
 */
#ifndef SGXEMU_STATS_H
#define SGXEMU_STATS_H

#include <stdint.h>

#define SGX_STATS_ENCLS_LEAVES 16
#define SGX_STATS_ENCLU_LEAVES 8

struct sgx_arch_stats {
	uint64_t encls[SGX_STATS_ENCLS_LEAVES]; /* calls, by leaf number */
	uint64_t encls_error[SGX_STATS_ENCLS_LEAVES]; /* non-zero SGX code */
	uint64_t encls_fault[SGX_STATS_ENCLS_LEAVES]; /* #GP or #PF */
	uint64_t enclu[SGX_STATS_ENCLU_LEAVES];
	uint64_t enclu_error[SGX_STATS_ENCLU_LEAVES];
	uint64_t enclu_fault[SGX_STATS_ENCLU_LEAVES];
	uint64_t aex; /* asynchronous exits, whatever the cause */
	uint64_t fault_aex; /* of them, for a fault raised in enclave mode */
	uint64_t tlb_flush;
	uint64_t tlb_fill;
	uint64_t enclave_access;
	uint64_t enclave_fault; /* #PF/#GP raised by an enclave access */
	uint64_t tlb_stale_fault; /* of them, by a TLB entry's old rights */
};

#endif
