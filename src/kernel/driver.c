// SPDX-License-Identifier: MIT
/*
 * The enclave file, after Linux 6.12 arch/x86/kernel/cpu/sgx/driver.c
 * (linux-sgx-driver.md section 6): open, the release of the last
 * reference, and the counters front ends read. The mmap, mprotect and
 * fault paths these hook into are core mm's, in src/mm/.
 */
#include <errno.h>
#include <stdlib.h>

#include "base/assert.h"
#include "kernel/encl.h"

/* Take the first entry off encl->mm_list, or return NULL if it is empty. */
static struct sgx_encl_mm *sgx_encl_mm_pop(struct sgx_encl *encl)
{
	struct sgx_encl_mm *encl_mm = NULL;

	mutex_lock(encl->drv, &encl->mm_lock);
	if (!list_empty(&encl->mm_list)) {
		encl_mm = list_first_entry(&encl->mm_list, struct sgx_encl_mm,
					   list);
		list_del_init(&encl_mm->list);
		encl->mm_list_version++;
	}
	mutex_unlock(encl->drv, &encl->mm_lock);
	return encl_mm;
}

/*
 * What Linux's sgx_release() does once the file's last reference is gone:
 * drain the mm_list entries of processes that unmapped the enclave but
 * have not exited (mmu_notifier_unregister, free, put the enclave), then
 * put the file's own enclave reference.
 */
void sgx_file_release(struct sgx_file *filp)
{
	struct sgx_encl *encl = filp->encl;
	struct sgx_driver *drv = encl->drv;
	struct sgx_encl_mm *encl_mm;

	while ((encl_mm = sgx_encl_mm_pop(encl))) {
		struct sgx_mm *mm = encl_mm->mm;

		mutex_lock(drv, &mm->mmap_lock);
		list_del_init(&encl_mm->mm_node);
		mutex_unlock(drv, &mm->mmap_lock);
		mmdrop(mm);
		free(encl_mm);
		sgx_encl_put(encl);
	}
	sgx_encl_put(encl);
	free(filp);
}

/**
 * sgx_open() - open /dev/sgx_enclave: a new, empty enclave.
 * @drv: the driver
 * @filp: receives the file
 *
 * Return: 0 or -ENOMEM.
 */
int sgx_open(struct sgx_driver *drv, struct sgx_file **filp)
{
	struct sgx_encl *encl = calloc(1, sizeof(*encl));
	struct sgx_file *file = calloc(1, sizeof(*file));

	if (!encl || !file) {
		free(encl);
		free(file);
		return -ENOMEM;
	}
	encl->refcount = 1;
	encl->drv = drv;
	drv->plat->mutex_init(drv->plat->ctx, &encl->lock);
	drv->plat->mutex_init(drv->plat->ctx, &encl->mm_lock);
	INIT_LIST_HEAD(&encl->va_pages);
	INIT_LIST_HEAD(&encl->mm_list);
	xa_init(&encl->page_array);
	xa_init(&encl->backing);
	file->encl = encl;
	file->f_count = 1;
	*filp = file;
	return 0;
}

/**
 * sgx_release() - close() of the enclave file descriptor.
 * @filp: the file
 *
 * Drops the descriptor's reference. Linux calls sgx_release() when the
 * file's last reference goes, and every VMA holds one, so the enclave is
 * released (sgx_file_release()) here only if nothing maps it any more, else
 * at the last munmap or at mm exit.
 *
 * Return: 0.
 */
int sgx_release(struct sgx_file *filp)
{
	fput(filp);
	return 0;
}

/**
 * sgx_file_stats() - the counters of the file's enclave.
 * @filp: the file
 *
 * Return: the enclave's statistics.
 */
const struct sgx_encl_stats *sgx_file_stats(const struct sgx_file *filp)
{
	return &filp->encl->stats;
}
