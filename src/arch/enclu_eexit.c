// SPDX-License-Identifier: MIT
/* Placeholder until the leaf is written. */
#include "arch/internal.h"

int enclu_eexit(struct sgx_lp *lp, uint64_t target, uint64_t aep)
{
	return sgx_gp(lp);
}
