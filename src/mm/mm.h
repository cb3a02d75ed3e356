/* SPDX-License-Identifier: MIT */
/*
 * The model of Linux's core mm that the SGX driver model sits on (mm.c):
 * address spaces (struct sgx_mm), VMAs, the enclave file's reference
 * count, mmap/mprotect/munmap, the user page-fault entry and uaccess.
 * The driver's hooks it calls (Linux's f_op->mmap, vm_ops, the mmu
 * notifier, f_op->release) are declared in kernel/encl.h.
 */
#ifndef SGXEMU_MM_MM_H
#define SGXEMU_MM_MM_H

#include <stddef.h>
#include <stdint.h>

#include "arch/pgtable.h"
#include "base/list.h"
#include "sgxemu/platform.h"

struct sgx_driver;
struct sgx_encl;
struct sgx_encl_page;

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
	bool cap_sys_admin; /* capable(CAP_SYS_ADMIN), for madvise */
	unsigned int mm_count; /* mmgrab/mmdrop: freed when it reaches 0 */
	struct list_head notifiers; /* its sgx_encl_mm entries, mmap_lock */
};

/* An open /dev/sgx_enclave file. */
struct sgx_file {
	struct sgx_encl *encl;
	unsigned int f_count; /* the descriptor and every VMA hold one */
};

int sgx_mm_create(struct sgx_driver *drv, struct sgx_mm **out);
/* exit_mmap: unmap everything, then release the mm from its enclaves. */
void sgx_mm_destroy(struct sgx_mm *mm);
/* The scheduler put a thread of mm on lp, or took it off. */
void sgx_mm_activate(struct sgx_mm *mm, struct sgx_lp *lp);
void sgx_mm_deactivate(struct sgx_mm *mm, struct sgx_lp *lp);

int sgx_mmap(struct sgx_file *filp, struct sgx_mm *mm, uint64_t addr,
	     uint64_t len, unsigned long prot, unsigned long flags);
int sgx_mprotect(struct sgx_mm *mm, uint64_t addr, uint64_t len,
		 unsigned long prot);
int sgx_munmap(struct sgx_mm *mm, uint64_t addr, uint64_t len);

/* Linux's VM_DONTCOPY (MADV_DONTFORK): fork() leaves the VMA out. */
#define VM_DONTCOPY 0x00020000UL

/* madvise advice, Linux 6.12's values (the ones it accepts). */
#define SGX_MADV_NORMAL 0
#define SGX_MADV_RANDOM 1
#define SGX_MADV_SEQUENTIAL 2
#define SGX_MADV_WILLNEED 3
#define SGX_MADV_DONTNEED 4
#define SGX_MADV_FREE 8
#define SGX_MADV_REMOVE 9
#define SGX_MADV_DONTFORK 10
#define SGX_MADV_DOFORK 11
#define SGX_MADV_MERGEABLE 12
#define SGX_MADV_UNMERGEABLE 13
#define SGX_MADV_HUGEPAGE 14
#define SGX_MADV_NOHUGEPAGE 15
#define SGX_MADV_DONTDUMP 16
#define SGX_MADV_DODUMP 17
#define SGX_MADV_WIPEONFORK 18
#define SGX_MADV_KEEPONFORK 19
#define SGX_MADV_COLD 20
#define SGX_MADV_PAGEOUT 21
#define SGX_MADV_POPULATE_READ 22
#define SGX_MADV_POPULATE_WRITE 23
#define SGX_MADV_DONTNEED_LOCKED 24
#define SGX_MADV_COLLAPSE 25
#define SGX_MADV_HWPOISON 100
#define SGX_MADV_SOFT_OFFLINE 101

/*
 * The parts of a madvise() range where mm has no VMA: the host's
 * mappings, or holes (-ENOMEM). Return: 0 or -errno.
 */
typedef int (*sgx_madvise_other_fn)(void *ctx, uint64_t start, uint64_t end,
				    int behavior);
int sgx_madvise(struct sgx_mm *mm, uint64_t start, uint64_t len_in,
		int behavior, sgx_madvise_other_fn other, void *ctx);

#define SGX_MREMAP_MAYMOVE 1
#define SGX_MREMAP_FIXED 2
#define SGX_MREMAP_DONTUNMAP 4

/* What sgx_mremap() did to the address space, for the host's mappings. */
struct sgx_mremap_done {
	uint64_t unmap[2][2]; /* ranges to unmap: [start, end), or {0, 0} */
	uint64_t moved_from, moved_to, moved_len; /* moved_len 0: no move */
};
long sgx_mremap(struct sgx_mm *mm, uint64_t addr, uint64_t old_len,
		uint64_t new_len, unsigned long flags, uint64_t new_addr,
		struct sgx_mremap_done *done);

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

/* The VMA of mm covering addr, or NULL; mm->mmap_lock held. */
struct sgx_vma *vma_lookup(struct sgx_mm *mm, uint64_t addr);
/* The PTE bits of a mapping in a VMA with vm_flags (vm_page_prot). */
uint32_t vm_get_page_prot(unsigned long vm_flags);
/* Unmap [start, end) in mm and shoot down the TLBs; mmap_lock held. */
void zap_page_range(struct sgx_mm *mm, uint64_t start, uint64_t end);
/* Drop a reference on the mm struct; the last one frees it. */
void mmdrop(struct sgx_mm *mm);
/* Map addr to the EPC page at epc with the VMA's protection. */
struct sgx_epc_page;
enum sgx_fault_result vmf_insert_pfn(struct sgx_mm *mm, struct sgx_vma *vma,
				     uint64_t addr,
				     struct sgx_epc_page *epc_page);
/*
 * The file's reference count. A syscall on the file holds one for its
 * duration, as fdget() does, so a racing close() cannot release the enclave
 * under it; the last fput() runs what Linux's sgx_release() does.
 */
struct sgx_file *get_file(struct sgx_file *filp);
void fput(struct sgx_file *filp);

/* uaccess.c: copy_from_user/copy_to_user; 0 or -EFAULT. */
int copy_from_user(void *dst, uint64_t user_src, size_t len);
int copy_to_user(uint64_t user_dst, const void *src, size_t len);
/* A fork that ran no atfork handlers: the child forgets the parent's pid. */
void uaccess_fork_child(void);

#endif
