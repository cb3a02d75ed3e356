// SPDX-License-Identifier: MIT
/* Placeholder until the leaf is written. */
#include "arch/internal.h"

int encls_ewb(struct sgx_lp *lp, struct sgx_pageinfo *pageinfo, uint64_t epc, uint64_t va_slot)
{
	return sgx_gp(lp);
}
