// SPDX-License-Identifier: MIT
/* Placeholder until the leaf is written. */
#include "arch/internal.h"

void sgx_aex(struct sgx_lp *lp, const struct sgx_exception *exc)
{
	ASSERT(lp && exc && 0);
}
