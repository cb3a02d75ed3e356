/* SPDX-License-Identifier: MIT */
/*
 * The counters `sgxemu run --stats` prints. The command creates a shared
 * memory file of this layout and passes its descriptor in SGXEMU_STATS_FD;
 * every process of the program (the selftests fork one per test) adds what
 * its model counted when it closes an enclave file and when it exits.
 */
#ifndef SGXEMU_RUN_STATS_H
#define SGXEMU_RUN_STATS_H

#include <stdint.h>

#define RUN_STATS_FD_ENV "SGXEMU_STATS_FD"

struct run_stats {
	uint64_t processes; /* processes that used the device */
	uint64_t etracks; /* ETRACK leaves, failed ones included */
	uint64_t ipi_rounds;
	uint64_t ipis; /* signals: targets that were in enclave mode */
	uint64_t aexs; /* every AEX: IPIs, faults, exceptions */
	uint64_t eaugs;
	uint64_t ewbs;
	uint64_t eldus;
	uint64_t eenters;
	uint64_t eresumes;
	uint64_t eexits;
	uint64_t host_fills; /* host pages mapped on an enclave access */
	uint64_t revocations; /* whole-enclave host revocations */
};

#define RUN_STATS_FIELDS 13
_Static_assert(sizeof(struct run_stats) == RUN_STATS_FIELDS * 8,
	       "run_stats is an array of counters");

#endif
