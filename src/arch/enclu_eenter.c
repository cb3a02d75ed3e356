// SPDX-License-Identifier: MIT
/* Placeholder until the leaf is written. */
#include "arch/internal.h"

int enclu_eenter(struct sgx_lp *lp, uint64_t tcs, uint64_t aep)
{
	return sgx_gp(lp);
}

int enclu_eresume(struct sgx_lp *lp, uint64_t tcs, uint64_t aep)
{
	return sgx_gp(lp);
}
