// SPDX-License-Identifier: MIT
/* Placeholder until the leaf is written. */
#include "arch/internal.h"

int encls_eremove(struct sgx_lp *lp, uint64_t epc)
{
	return sgx_gp(lp);
}
