/* SPDX-License-Identifier: MIT */
/*
 * The cost model: what each leaf and event costs, in CPU cycles, at three
 * points of its plausible range. Every number and its public source is in
 * docs/COSTS.md. The sim platform charges these costs to per-LP virtual
 * clocks (sim_set_costs()); the benchmark reads the clocks.
 *
 * Counted events are exact; the prices are estimates. So results are
 * reported across the whole range, never at one point only.
 */
#ifndef SGXEMU_PLATFORM_COST_H
#define SGXEMU_PLATFORM_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/sdm.h"
#include "sgxemu/platform.h"

/* The points of each parameter's range. */
enum sgx_cost_point {
	SGX_COST_LOW,
	SGX_COST_TYPICAL,
	SGX_COST_HIGH,
	SGX_COST_POINTS,
};

struct sgx_costs {
	uint64_t encls[SGX_ENCLS_NR_LEAVES];
	uint64_t enclu[SGX_ENCLU_NR_LEAVES];
	/* The kernel's own work (enum sgx_cost_event). */
	uint64_t event[SGX_COST_EVENTS];
	uint64_t mutex_lock; /* uncontended mutex_lock() */
	uint64_t mutex_unlock;
	uint64_t ipi_send; /* the sender, per remote target */
	/* A target outside enclave mode: delivery, handler, acknowledgement. */
	uint64_t ipi_remote;
	uint64_t aex; /* added on a target inside an enclave */
};

/* The table at one point of every range. */
void sgx_costs_at(struct sgx_costs *c, enum sgx_cost_point point);
const char *sgx_cost_point_name(enum sgx_cost_point point);
/* "low", "typical" or "high": the point, or -1. */
int sgx_cost_point_parse(const char *name);

/*
 * What a sender waits for in one IPI round: a send per remote target, then
 * the slowest target's delivery, AEX if it is inside an enclave, and
 * acknowledgement. remote: targets other than the sender; inside: how many
 * of them are in enclave mode.
 */
uint64_t sgx_cost_ipi_round(const struct sgx_costs *c, unsigned int remote,
			    unsigned int inside);

#endif
