/* SPDX-License-Identifier: MIT */
/*
 * The kernel model's entry points: what a process can do to the driver
 * (open /dev/sgx_enclave, ioctl, mmap, mprotect, munmap, close), the user
 * page-fault path, and the memory-management pieces (struct sgx_mm, VMAs)
 * that Linux's core mm would supply.
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

/*
 * Linux's kernel-internal errno for "interrupted, restart the syscall": the
 * syscall layer turns it into a restart or EINTR, never into a user errno.
 */
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif

/* mmap prot and flags, Linux's values. */
#define SGX_PROT_READ 0x1
#define SGX_PROT_WRITE 0x2
#define SGX_PROT_EXEC 0x4
#define SGX_MAP_SHARED 0x01
#define SGX_MAP_PRIVATE 0x02
#define SGX_MAP_FIXED 0x10

struct sgx_file;

struct sgx_vma {
	uint64_t start, end;
	unsigned long vm_flags; /* VM_READ | VM_WRITE | VM_EXEC | VM_SHARED */
	struct sgx_encl *encl; /* vm_private_data; NULL after a failed fork */
	struct list_head list;
	struct sgx_file *vm_file; /* holds a reference on the file */
};

/* A process address space (mm_struct), as much of it as SGX needs. */
struct sgx_mm {
	struct sgx_driver *drv;
	struct sgx_pgtable pgtable;
	struct list_head vmas;
	struct sgx_cpumask cpumask; /* mm_cpumask: LPs running this mm */
	struct sgx_mutex mmap_lock;
	bool read_implies_exec; /* the READ_IMPLIES_EXEC personality */
	unsigned int mm_count; /* mmgrab/mmdrop: freed when it reaches 0 */
	struct list_head notifiers; /* its sgx_encl_mm entries, mmap_lock */
};

/* An open /dev/sgx_enclave file. */
struct sgx_file {
	struct sgx_encl *encl;
	unsigned int f_count; /* the descriptor and every VMA hold one */
};

int sgx_driver_init(struct sgx_driver *drv, struct sgx_cpu *cpu,
		    const struct sgx_platform *plat,
		    const struct sgx_driver_config *cfg);
void sgx_driver_destroy(struct sgx_driver *drv);
/* The ksgxd kernel thread's body; run it as a daemon thread. */
void ksgxd(void *drv);

int sgx_mm_create(struct sgx_driver *drv, struct sgx_mm **out);
/* exit_mmap: unmap everything, then release the mm from its enclaves. */
void sgx_mm_destroy(struct sgx_mm *mm);
/* The scheduler put a thread of mm on lp, or took it off. */
void sgx_mm_activate(struct sgx_mm *mm, struct sgx_lp *lp);
void sgx_mm_deactivate(struct sgx_mm *mm, struct sgx_lp *lp);

int sgx_open(struct sgx_driver *drv, struct sgx_file **filp);
int sgx_release(struct sgx_file *filp);
/* Returns 0 or -errno; -ENOTTY for an unknown command. */
long sgx_ioctl(struct sgx_file *filp, unsigned int cmd, unsigned long arg);
int sgx_mmap(struct sgx_file *filp, struct sgx_mm *mm, uint64_t addr,
	     uint64_t len, unsigned long prot, unsigned long flags);
int sgx_mprotect(struct sgx_mm *mm, uint64_t addr, uint64_t len,
		 unsigned long prot);
int sgx_munmap(struct sgx_mm *mm, uint64_t addr, uint64_t len);

/* What the user page-fault path decided (do_user_addr_fault). */
enum sgx_fault_result {
	SGX_FAULT_FIXED, /* retry the access: ERESUME at the AEP */
	SGX_FAULT_SIGSEGV,
	SGX_FAULT_SIGBUS,
	SGX_FAULT_OOM,
};

/*
 * sgx_user_fault() - a #PF from user mode (the enclave, after its AEX) at
 * addr with the hardware error code. EPCM faults (X86_PF_SGX) are never
 * fixed; faults on enclave VMAs go to sgx_vma_fault().
 */
enum sgx_fault_result sgx_user_fault(struct sgx_mm *mm, uint64_t addr,
				     uint32_t error_code);

/* Counters of one enclave, for tests and front ends. */
const struct sgx_encl_stats *sgx_file_stats(const struct sgx_file *filp);

#endif
