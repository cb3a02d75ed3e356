/* SPDX-License-Identifier: MIT */
/*
 * getauxval() as the program sees it: AT_SYSINFO_EHDR is the base of our vDSO
 * image (vdso.c), which is where SGX programs look for
 * __vdso_sgx_enter_enclave; every other type is the real one. glibc itself
 * keeps using the kernel's vDSO (it reads its own copy of the auxiliary
 * vector), so clock_gettime and friends are unaffected.
 */
#include <dlfcn.h>
#include <errno.h>
#include <sys/auxv.h>

#include "run/vdso.h"

typedef unsigned long (*getauxval_fn)(unsigned long type);

unsigned long getauxval(unsigned long type)
{
	if (type == AT_SYSINFO_EHDR) {
		const struct run_vdso *v = run_vdso_get();
		if (v)
			return v->base;
		/* No image: the program sees the kernel's vDSO, which has
		 * no SGX entry, as on a machine without SGX. */
	}
	getauxval_fn real = (getauxval_fn)dlsym(RTLD_NEXT, "getauxval");
	if (!real) {
		errno = ENOENT;
		return 0;
	}
	return real(type);
}
