// SPDX-License-Identifier: MIT
/*
 * The cost table (see cost.h). Each row is { low, typical, high } in
 * cycles; docs/COSTS.md gives the public source of every row, or says that
 * none exists and the row is a swept parameter.
 */
#include "platform/cost.h"

#include <string.h>


struct cost_row {
	uint64_t at[SGX_COST_POINTS];
};

/* ENCLS leaves; rows left zero are never on a measured path. */
static const struct cost_row encls_rows[SGX_ENCLS_NR_LEAVES] = {
	[ECREATE] = { { 10000, 20000, 40000 } },
	[EADD] = { { 5000, 10000, 20000 } },
	[EINIT] = { { 50000, 100000, 200000 } },
	[EREMOVE] = { { 1000, 3000, 10000 } },
	[EEXTEND] = { { 1000, 2000, 4000 } },
	[ELDU] = { { 10000, 20000, 40000 } },
	[ELDB] = { { 10000, 20000, 40000 } },
	[EBLOCK] = { { 500, 2000, 10000 } },
	[EPA] = { { 1000, 3000, 10000 } },
	[EWB] = { { 10000, 20000, 40000 } },
	[ETRACK] = { { 500, 2000, 10000 } },
	[EAUG] = { { 1000, 3000, 10000 } },
	[EMODPR] = { { 500, 2000, 10000 } },
	[EMODT] = { { 500, 2000, 10000 } },
};

static const struct cost_row enclu_rows[SGX_ENCLU_NR_LEAVES] = {
	[EREPORT] = { { 10000, 20000, 40000 } },
	[EGETKEY] = { { 10000, 20000, 40000 } },
	[EENTER] = { { 4100, 5000, 8500 } },
	[ERESUME] = { { 4100, 5000, 8500 } },
	[EEXIT] = { { 4100, 5000, 8500 } },
	[EACCEPT] = { { 500, 2000, 10000 } },
	[EMODPE] = { { 500, 2000, 10000 } },
	[EACCEPTCOPY] = { { 1000, 3000, 10000 } },
};

static const struct cost_row event_rows[SGX_COST_EVENTS] = {
	[SGX_COST_SYSCALL] = { { 100, 250, 1000 } },
	[SGX_COST_PAGE_LOOKUP] = { { 50, 100, 500 } },
	[SGX_COST_LOOP_CHECKS] = { { 5, 10, 100 } },
};

static const struct cost_row mutex_lock_row = { { 20, 25, 50 } };
static const struct cost_row mutex_unlock_row = { { 20, 25, 50 } };
static const struct cost_row ipi_send_row = { { 100, 200, 500 } };
static const struct cost_row ipi_remote_row = { { 1500, 1950, 3000 } };
static const struct cost_row aex_row = { { 4100, 5000, 8500 } };

static const char *const point_names[SGX_COST_POINTS] = {
	[SGX_COST_LOW] = "low",
	[SGX_COST_TYPICAL] = "typical",
	[SGX_COST_HIGH] = "high",
};

void sgx_costs_at(struct sgx_costs *c, enum sgx_cost_point point)
{
	memset(c, 0, sizeof(*c));
	for (unsigned int i = 0; i < SGX_ENCLS_NR_LEAVES; i++)
		c->encls[i] = encls_rows[i].at[point];
	for (unsigned int i = 0; i < SGX_ENCLU_NR_LEAVES; i++)
		c->enclu[i] = enclu_rows[i].at[point];
	for (unsigned int i = 0; i < SGX_COST_EVENTS; i++)
		c->event[i] = event_rows[i].at[point];
	c->mutex_lock = mutex_lock_row.at[point];
	c->mutex_unlock = mutex_unlock_row.at[point];
	c->ipi_send = ipi_send_row.at[point];
	c->ipi_remote = ipi_remote_row.at[point];
	c->aex = aex_row.at[point];
}

const char *sgx_cost_point_name(enum sgx_cost_point point)
{
	return point < SGX_COST_POINTS ? point_names[point] : NULL;
}

int sgx_cost_point_parse(const char *name)
{
	for (unsigned int i = 0; i < SGX_COST_POINTS; i++)
		if (!strcmp(name, point_names[i]))
			return (int)i;
	return -1;
}

uint64_t sgx_cost_ipi_round(const struct sgx_costs *c, unsigned int remote,
			    unsigned int inside)
{
	if (!remote)
		return 0;
	return remote * c->ipi_send + c->ipi_remote + (inside ? c->aex : 0);
}
