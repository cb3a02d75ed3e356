// SPDX-License-Identifier: MIT
/*
 * The ETRACK flow of the EDMM ioctls (ioctl.c sgx_enclave_etrack() in
 * Linux 6.12, linux-sgx-driver.md section 5.4): ETRACK on the SECS, then an
 * IPI round to every CPU that may run inside the enclave, so each takes an
 * AEX and the tracking epoch completes.
 */
#include <errno.h>

#include "kernel/encl.h"
#include "kernel/encls.h"

/**
 * sgx_enclave_etrack() - ETRACK the enclave and IPI its CPUs
 * @encl:	an enclave pointer, with encl->lock held since the EMODPR or
 *		EMODT this flow tracks
 *
 * SECS is resident: the page just modified is a resident child, and
 * encl->lock keeps the reclaimer from evicting either. ETRACK fails only
 * through an OS bug, such as two ETRACKs without a completed IPI round in
 * between; the flow then sends the IPI round and retries once.
 *
 * The mask is computed after ETRACK, so an mm added later enters with
 * fresh mappings; encl->lock makes sure no new ETRACK starts before the
 * IPIs of this one are done.
 *
 * MODEL: Linux's pr_err_once() of a failed ETRACK is the counter
 * encl->stats.etrack_failures, one per ETRACK that returned non-zero.
 *
 * Return: 0, or -EFAULT if the retry failed too.
 */
int sgx_enclave_etrack(struct sgx_encl *encl)
{
	struct sgx_driver *drv = encl->drv;
	uint64_t secs = sgx_get_epc_virt_addr(drv, encl->secs.epc_page);
	int ret;

	encl->stats.etrack_flows++;
	ret = __etrack(drv, secs);
	if (ret) {
		encl->stats.etrack_failures++;
		/* Kick the CPUs out of the enclave, then try again. */
		sgx_ipi_mask(encl, sgx_encl_cpumask(encl));
		ret = __etrack(drv, secs);
		if (ret) {
			encl->stats.etrack_failures++;
			return -EFAULT;
		}
	}
#ifdef SGXEMU_PLANTS
	if (sgx_planted(drv, NO_IPI))
		return 0;
#endif
	sgx_ipi_mask(encl, sgx_encl_cpumask(encl));
	return 0;
}
