// SPDX-License-Identifier: MIT
/* Placeholder until the leaf is written. */
#include "arch/internal.h"

int encls_eldu(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo, uint64_t epc, uint64_t va_slot)
{
	return sgx_gp(lp);
}

int encls_eldb(struct sgx_lp *lp, const struct sgx_pageinfo *pageinfo, uint64_t epc, uint64_t va_slot)
{
	return sgx_gp(lp);
}
