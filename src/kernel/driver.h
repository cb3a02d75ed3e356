/* SPDX-License-Identifier: MIT */
/*
 * The kernel model's entry points: what a process can do to the driver
 * (open /dev/sgx_enclave, ioctl, close), and through mm/mm.h the core-mm
 * calls that reach it (mmap, mprotect, munmap, the user page-fault path,
 * struct sgx_mm and its VMAs).
 *
 * User memory. ioctl arguments, SECINFOs, source pages and SIGSTRUCTs are
 * read with copy_from_user(), which fails with -EFAULT on an unreadable
 * address, exactly like Linux, instead of crashing (uaccess.c).
 */
#ifndef SGXEMU_KERNEL_DRIVER_H
#define SGXEMU_KERNEL_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/sgx.h"
#include "mm/mm.h"

/*
 * Linux's kernel-internal errno for "interrupted, restart the syscall": the
 * syscall layer turns it into a restart or EINTR, never into a user errno.
 */
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif

int sgx_driver_init(struct sgx_driver *drv, struct sgx_cpu *cpu,
		    const struct sgx_platform *plat,
		    const struct sgx_driver_config *cfg);
void sgx_driver_destroy(struct sgx_driver *drv);
/* The ksgxd kernel thread's body; run it as a daemon thread. */
void ksgxd(void *drv);

int sgx_open(struct sgx_driver *drv, struct sgx_file **filp);
int sgx_release(struct sgx_file *filp);
/* Returns 0 or -errno; -ENOTTY for an unknown command. */
long sgx_ioctl(struct sgx_file *filp, unsigned int cmd, unsigned long arg);
/* Counters of one enclave, for tests and front ends. */
const struct sgx_encl_stats *sgx_file_stats(const struct sgx_file *filp);

#endif
