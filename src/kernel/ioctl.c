// SPDX-License-Identifier: MIT
/*
 * The /dev/sgx_enclave ioctls (arch/x86/kernel/cpu/sgx/ioctl.c), from
 * linux-sgx-driver.md sections 5.0-5.3 and 5.5: CREATE, ADD_PAGES, INIT and
 * PROVISION build an enclave; RESTRICT_PERMISSIONS, MODIFY_TYPES and
 * REMOVE_PAGES are the SGX2 (EDMM) operations on an initialized one.
 *
 * Argument checks run in Linux's order and give Linux's errno, and every
 * EDMM handler copies its structure back whatever the worker returned, so
 * that user space sees count and result exactly as on Linux.
 *
 * RESTRICT_PERMISSIONS and MODIFY_TYPES share one per-page walk that runs
 * the ETRACK flow once per batch of encl->etrack_batch pages. It, its
 * helpers, sgx_enclave_etrack() and REMOVE_PAGES are written once, in
 * kernel C, in upstream/ioctl.c, which this file includes where Linux has
 * those functions, through the kernel-API compatibility layer (compat/);
 * scripts/kernel-patch.sh splices the same file into Linux's ioctl.c
 * (docs/BATCHED-ETRACK.md). Batch 1 with the per-page signal and resched
 * checks off (cfg.no_loop_checks) is Linux 6.12's walk exactly; the checks,
 * on by default, are patch 3 of the series.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "kernel/encl.h"
#include "kernel/encls.h"
#include "sgxemu/uapi.h"

/* asm/sgx.h: what an enclave may have without a provisioning fd. */
#define SGX_ATTR_UNPRIV_MASK                                              \
	(SGX_ATTR_DEBUG | SGX_ATTR_MODE64BIT | SGX_ATTR_KSS |             \
	 SGX_ATTR_AEXNOTIFY)

/* asm/sgx.h: the kernel treats the SECINFO state bits 3-5 as reserved. */
#define SGX_SECINFO_RESERVED_MASK                                         \
	(~(SGX_SECINFO_PERMISSION_MASK | SGX_SECINFO_PAGE_TYPE_MASK))
#define SGX_SECINFO_TCS SGX_SECINFO_TYPE(PT_TCS)
#define SGX_SECINFO_REG SGX_SECINFO_TYPE(PT_REG)
#define SGX_PAGE_TYPE_MASK 0xFFULL

/*
 * MODEL: the attribute and MISCSELECT masks Linux reads from CPUID 0x12 at
 * boot are constants of the emulated CPU: the attributes ECREATE
 * supports and MISCSELECT.EXINFO only. The XFRM mask depends on the CPU's
 * configuration, so the driver reads it at init (drv->xfrm_reserved_mask).
 */
#define sgx_attributes_reserved_mask SGX_ATTR_RESERVED_MASK
#define sgx_misc_reserved_mask (~(uint64_t)SGX_MISC_EXINFO)

#define SGX_EINIT_SPIN_COUNT 20
#define SGX_EINIT_SLEEP_COUNT 50

static bool signal_pending(struct sgx_driver *drv)
{
	return drv->plat->signal_pending(drv->plat->ctx);
}

/* cond_resched(): the sim platform decides whether someone else runs. */
static void cond_resched(struct sgx_driver *drv)
{
	drv->plat->preempt(drv->plat->ctx);
}

/* set_bit() and test_and_set_bit() on encl->flags, atomic as in Linux. */
static void sgx_encl_set_flag(struct sgx_encl *encl, unsigned long flag)
{
	__atomic_fetch_or(&encl->flags, flag, __ATOMIC_RELEASE);
}

static bool sgx_encl_test_and_set_flag(struct sgx_encl *encl,
				       unsigned long flag)
{
	return __atomic_fetch_or(&encl->flags, flag, __ATOMIC_ACQUIRE) & flag;
}

static void sgx_encl_clear_flag(struct sgx_encl *encl, unsigned long flag)
{
	__atomic_fetch_and(&encl->flags, ~flag, __ATOMIC_RELEASE);
}

static int sgx_validate_offset_length(struct sgx_encl *encl, uint64_t offset,
				      uint64_t length)
{
	if (!is_aligned(offset, PAGE_SIZE))
		return -EINVAL;
	if (!length || !is_aligned(length, PAGE_SIZE))
		return -EINVAL;
	if (offset + length < offset)
		return -EINVAL;
	if (offset + length - PAGE_SIZE >= encl->size)
		return -EINVAL;
	return 0;
}

static int sgx_encl_create(struct sgx_encl *encl, struct sgx_secs *secs)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_secinfo secinfo = { 0 };
	struct sgx_pageinfo pginfo = {
		.srcpge = (uint64_t)(uintptr_t)secs,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
	};
	struct sgx_epc_page *secs_epc;
	struct sgx_va_page *va_page;
	int ret;

	/* ECREATE checks it too; Linux does it first for its size math. */
	if (!is_pow2(secs->size))
		return -EINVAL;
	va_page = sgx_encl_grow(encl, true, &ret);
	if (ret)
		return ret;
	if (va_page)
		list_add(&va_page->list, &encl->va_pages);
	secs_epc = sgx_alloc_epc_page(drv, &encl->secs, true, &ret);
	if (!secs_epc)
		goto err_out_shrink;
	if (__ecreate(drv, &pginfo, sgx_get_epc_virt_addr(drv, secs_epc))) {
		ret = -EIO;
		sgx_encl_free_epc_page(encl, secs_epc);
		goto err_out_shrink;
	}
	encl->secs.epc_page = secs_epc;
	if (secs->attributes & SGX_ATTR_DEBUG)
		sgx_encl_set_flag(encl, SGX_ENCL_DEBUG);
	encl->secs.encl = encl;
	encl->secs.type = PT_SECS;
	encl->base = secs->base;
	encl->size = secs->size;
	encl->attributes = secs->attributes;
	encl->attributes_mask = SGX_ATTR_UNPRIV_MASK;
	encl->etrack_batch = drv->cfg.etrack_batch;
	encl->loop_checks = !drv->cfg.no_loop_checks;
	/* Last, as encl->lock is not held. */
	sgx_encl_set_flag(encl, SGX_ENCL_CREATED);
	return 0;

err_out_shrink:
	sgx_encl_shrink(encl, va_page);
	return ret;
}

/**
 * sgx_ioc_enclave_create() - handler for %SGX_IOC_ENCLAVE_CREATE
 * @encl:	an enclave pointer
 * @arg:	userspace pointer to a struct sgx_enclave_create instance
 *
 * Allocate the SECS and VA page and run ECREATE on a copy of the SECS that
 * @arg->src points to.
 *
 * Return: 0 on success; -EINVAL if already created or the size is not a
 * power of two; -EFAULT for a bad pointer; -EIO if ECREATE fails; -ENOMEM
 * or -ERESTARTSYS from the EPC allocator.
 */
static long sgx_ioc_enclave_create(struct sgx_encl *encl, uint64_t arg)
{
	struct sgx_enclave_create create_arg;
	struct sgx_secs *secs;
	long ret;

	if (encl->flags & SGX_ENCL_CREATED)
		return -EINVAL;
	if (copy_from_user(&create_arg, arg, sizeof(create_arg)))
		return -EFAULT;
	secs = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!secs)
		return -ENOMEM;
	if (copy_from_user(secs, create_arg.src, PAGE_SIZE))
		ret = -EFAULT;
	else
		ret = sgx_encl_create(encl, secs);
	free(secs);
	return ret;
}

static int sgx_validate_secinfo(const struct sgx_secinfo *secinfo)
{
	uint64_t perm = secinfo->flags & SGX_SECINFO_PERMISSION_MASK;
	uint64_t pt = secinfo->flags & SGX_SECINFO_PAGE_TYPE_MASK;

	if (pt != SGX_SECINFO_REG && pt != SGX_SECINFO_TCS)
		return -EINVAL;
	if ((perm & SGX_SECINFO_W) && !(perm & SGX_SECINFO_R))
		return -EINVAL;
	/* EADD would silently zero a TCS's permissions: refuse them here. */
	if (pt == SGX_SECINFO_TCS && perm)
		return -EINVAL;
	if (secinfo->flags & SGX_SECINFO_RESERVED_MASK)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(secinfo->reserved); i++)
		if (secinfo->reserved[i])
			return -EINVAL;
	return 0;
}

/*
 * EADD the page at user address src. MODEL: the VM_MAYEXEC test of the
 * source VMA (noexec mounts, -EACCES) has nothing to test in the model;
 * get_user_pages() is a copy_from_user() of the page, so the caller takes
 * no mmap_read_lock() either.
 */
static int __sgx_encl_add_page(struct sgx_encl *encl,
			       struct sgx_encl_page *encl_page,
			       struct sgx_epc_page *epc_page,
			       struct sgx_secinfo *secinfo, uint64_t src)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_pageinfo pginfo;
	void *contents = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	int ret;

	if (!contents)
		return -ENOMEM;
	if (copy_from_user(contents, src, PAGE_SIZE)) {
		free(contents);
		return -EFAULT;
	}
	pginfo = (struct sgx_pageinfo){
		.secs = sgx_get_epc_virt_addr(drv, encl->secs.epc_page),
		.linaddr = sgx_encl_page_addr(encl_page),
		.secinfo = (uint64_t)(uintptr_t)secinfo,
		.srcpge = (uint64_t)(uintptr_t)contents,
	};
	ret = __eadd(drv, &pginfo, sgx_get_epc_virt_addr(drv, epc_page));
	free(contents);
	return ret ? -EIO : 0;
}

/* Measure the page in 256-byte chunks, as EEXTEND works. */
static int __sgx_encl_extend(struct sgx_encl *encl,
			     struct sgx_epc_page *epc_page)
{
	struct sgx_driver *drv = encl->drv;
	uint64_t secs = sgx_get_epc_virt_addr(drv, encl->secs.epc_page);
	uint64_t epc = sgx_get_epc_virt_addr(drv, epc_page);

	for (uint64_t offset = 0; offset < PAGE_SIZE; offset += 256) {
		int ret = __eextend(drv, secs, epc + offset);

		if (ret) {
			if (encls_failed(ret))
				ENCLS_WARN(drv, ret, "EEXTEND");
			return -EIO;
		}
	}
	return 0;
}

/*
 * The locked part of sgx_encl_add_page(): insert, EADD, EEXTEND. On
 * failure the page is out of the array again and the caller frees it.
 */
static int sgx_encl_add_page_locked(struct sgx_encl *encl,
				    struct sgx_encl_page *encl_page,
				    struct sgx_epc_page *epc_page,
				    struct sgx_secinfo *secinfo, uint64_t src,
				    uint64_t flags)
{
	int ret;

	/* Insert before EADD: EADD extends MRENCLAVE and cannot be undone. */
	ret = sgx_encl_insert(encl, encl_page);
	if (ret)
		return ret;
	ret = __sgx_encl_add_page(encl, encl_page, epc_page, secinfo, src);
	if (ret)
		goto err_out;
	encl_page->encl = encl;
	encl_page->epc_page = epc_page;
	encl_page->type = (secinfo->flags & SGX_SECINFO_PAGE_TYPE_MASK) >>
			  SGX_SECINFO_PAGE_TYPE_SHIFT;
	encl->secs_child_cnt++;
	if (flags & SGX_PAGE_MEASURE) {
		ret = __sgx_encl_extend(encl, epc_page);
		if (ret)
			goto err_out;
	}
	sgx_mark_page_reclaimable(encl->drv, epc_page);
	return 0;

err_out:
	xa_erase(&encl->page_array, PFN_DOWN(encl_page->desc));
	return ret;
}

static int sgx_encl_add_page(struct sgx_encl *encl, uint64_t src,
			     uint64_t offset, struct sgx_secinfo *secinfo,
			     uint64_t flags)
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_encl_page *encl_page;
	struct sgx_epc_page *epc_page;
	struct sgx_va_page *va_page;
	int ret;

	encl_page = sgx_encl_page_alloc(encl, offset, secinfo->flags);
	if (!encl_page)
		return -ENOMEM;
	epc_page = sgx_alloc_epc_page(drv, encl_page, true, &ret);
	if (!epc_page) {
		free(encl_page);
		return ret;
	}
	va_page = sgx_encl_grow(encl, true, &ret);
	if (ret)
		goto err_out_free;
	mutex_lock(drv, &encl->lock);
	/* encl->va_pages changes only under encl->lock. */
	if (va_page)
		list_add(&va_page->list, &encl->va_pages);
	ret = sgx_encl_add_page_locked(encl, encl_page, epc_page, secinfo,
				       src, flags);
	if (!ret) {
		mutex_unlock(drv, &encl->lock);
		return 0;
	}
	sgx_encl_shrink(encl, va_page);
	mutex_unlock(drv, &encl->lock);
err_out_free:
	sgx_encl_free_epc_page(encl, epc_page);
	free(encl_page);
	return ret;
}

/**
 * sgx_ioc_enclave_add_pages() - handler for %SGX_IOC_ENCLAVE_ADD_PAGES
 * @encl:	an enclave pointer
 * @arg:	a user pointer to a struct sgx_enclave_add_pages instance
 *
 * EADD (and with %SGX_PAGE_MEASURE, EEXTEND) each page of the range from
 * the source at @arg->src, with the SECINFO at @arg->secinfo. A pending
 * signal stops the loop between pages. @arg->count is set to the number
 * of bytes added.
 *
 * Return: 0; -EINVAL for a bad state, alignment, range or SECINFO;
 * -EFAULT for a bad pointer; -ERESTARTSYS if a signal came before the
 * first page; -EBUSY if a page exists; -EIO if EADD or EEXTEND failed;
 * -ENOMEM.
 */
static long sgx_ioc_enclave_add_pages(struct sgx_encl *encl, uint64_t arg)
{
	struct sgx_enclave_add_pages add_arg;
	struct sgx_secinfo secinfo;
	struct sgx_driver *drv = encl->drv;
	uint64_t c;
	int ret = 0;

	if (!(encl->flags & SGX_ENCL_CREATED) ||
	    (encl->flags & SGX_ENCL_INITIALIZED))
		return -EINVAL;
	if (copy_from_user(&add_arg, arg, sizeof(add_arg)))
		return -EFAULT;
	if (!is_aligned(add_arg.src, PAGE_SIZE))
		return -EINVAL;
	if (sgx_validate_offset_length(encl, add_arg.offset, add_arg.length))
		return -EINVAL;
	if (copy_from_user(&secinfo, add_arg.secinfo, sizeof(secinfo)))
		return -EFAULT;
	if (sgx_validate_secinfo(&secinfo))
		return -EINVAL;

	for (c = 0; c < add_arg.length; c += PAGE_SIZE) {
		if (signal_pending(drv)) {
			if (!c)
				ret = -ERESTARTSYS;
			break;
		}
		cond_resched(drv);
		ret = sgx_encl_add_page(encl, add_arg.src + c,
					add_arg.offset + c, &secinfo,
					add_arg.flags);
		if (ret)
			break;
	}
	add_arg.count = c;
	if (copy_to_user(arg, &add_arg, sizeof(add_arg)))
		return -EFAULT;
	return ret;
}

/* sgx_get_key_hash(): MRSIGNER is the SHA-256 of the modulus. */
static void sgx_get_key_hash(const uint8_t *modulus, uint64_t hash[4])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	SHA256(modulus, SGX_MODULUS_SIZE, digest);
	memcpy(hash, digest, sizeof(digest));
}

/* IA32_SGXLEPUBKEYHASH0..3 of the LP that is about to run EINIT. */
static void sgx_update_lepubkeyhash(struct sgx_lp *lp, const uint64_t hash[4])
{
	memcpy(lp->lepubkeyhash, hash, sizeof(lp->lepubkeyhash));
}

/*
 * MODEL: Linux writes the MSRs and runs EINIT with preemption disabled.
 * The model takes its preemption point first (encls_lp()) and then runs
 * both on that LP with nothing in between, which is the same thing.
 */
static int sgx_einit_on_this_cpu(struct sgx_encl *encl,
				 struct sgx_sigstruct *sigstruct,
				 struct sgx_einittoken *token,
				 const uint64_t mrsigner[4])
{
	struct sgx_driver *drv = encl->drv;
	struct sgx_lp *lp = encls_lp(drv);

	sgx_update_lepubkeyhash(lp, mrsigner);
	return encls_einit(lp, sigstruct,
			   sgx_get_epc_virt_addr(drv, encl->secs.epc_page),
			   token);
}

/* EINIT, spinning on SGX_UNMASKED_EVENT, then sleeping between rounds. */
static int sgx_encl_einit_retry(struct sgx_encl *encl,
				struct sgx_sigstruct *sigstruct,
				struct sgx_einittoken *token,
				const uint64_t mrsigner[4])
{
	struct sgx_driver *drv = encl->drv;
	int ret = SGX_UNMASKED_EVENT;

	for (int i = 0; i < SGX_EINIT_SLEEP_COUNT; i++) {
		for (int j = 0; j < SGX_EINIT_SPIN_COUNT; j++) {
			ret = sgx_einit_on_this_cpu(encl, sigstruct, token,
						    mrsigner);
			if (ret != SGX_UNMASKED_EVENT)
				return ret;
		}
		/* msleep_interruptible(): let others run, then look. */
		cond_resched(drv);
		if (signal_pending(drv))
			return -ERESTARTSYS;
	}
	return ret;
}

/* EINIT's result as errno: a fault is -EIO, an SGX error code -EPERM. */
static int sgx_einit_result(struct sgx_encl *encl, int ret)
{
	if (encls_faulted(ret)) {
		if (encls_failed(ret))
			ENCLS_WARN(encl->drv, ret, "EINIT");
		return -EIO;
	}
	if (ret)
		return -EPERM;
	sgx_encl_set_flag(encl, SGX_ENCL_INITIALIZED);
	return 0;
}

static int sgx_encl_init(struct sgx_encl *encl, struct sgx_sigstruct *sigstruct,
			 struct sgx_einittoken *token)
{
	const struct sgx_sigstruct_body *body = &sigstruct->body;
	struct sgx_driver *drv = encl->drv;
	uint64_t mrsigner[4];
	int ret;

	/* Attributes (provisioning) that were not explicitly allowed. */
	if (encl->attributes & ~encl->attributes_mask)
		return -EACCES;
	/* What the signer enforces must exist on this platform. */
	if (body->attributes & body->attributes_mask &
	    sgx_attributes_reserved_mask)
		return -EINVAL;
	if ((uint64_t)(body->miscselect & body->misc_mask) &
	    sgx_misc_reserved_mask)
		return -EINVAL;
	if (body->xfrm & body->xfrm_mask & drv->xfrm_reserved_mask)
		return -EINVAL;
	sgx_get_key_hash(sigstruct->modulus, mrsigner);

	mutex_lock(drv, &encl->lock);
	ret = sgx_encl_einit_retry(encl, sigstruct, token, mrsigner);
	if (ret != -ERESTARTSYS)
		ret = sgx_einit_result(encl, ret);
	mutex_unlock(drv, &encl->lock);
	return ret;
}

/* The page Linux allocates: SIGSTRUCT first, the token at its middle. */
struct sgx_init_page {
	struct sgx_sigstruct sigstruct;
	uint8_t pad[PAGE_SIZE / 2 - sizeof(struct sgx_sigstruct)];
	struct sgx_einittoken token;
} __attribute__((aligned(4096)));

/**
 * sgx_ioc_enclave_init() - handler for %SGX_IOC_ENCLAVE_INIT
 * @encl:	an enclave pointer
 * @arg:	userspace pointer to a struct sgx_enclave_init instance
 *
 * Copy the SIGSTRUCT, check its attributes against what the enclave may
 * have and the platform supports, point the launch-control MSRs at its
 * signer and run EINIT with a zeroed token.
 *
 * Return: 0 on success; -EINVAL for a bad state, vendor or reserved
 * attribute; -EACCES for an attribute not allowed; -EFAULT for a bad
 * pointer; -EPERM if EINIT returned an SGX error code; -EIO if it
 * faulted; -ERESTARTSYS; -ENOMEM.
 */
static long sgx_ioc_enclave_init(struct sgx_encl *encl, uint64_t arg)
{
	struct sgx_enclave_init init_arg;
	struct sgx_init_page *page;
	long ret;

	if (!(encl->flags & SGX_ENCL_CREATED) ||
	    (encl->flags & SGX_ENCL_INITIALIZED))
		return -EINVAL;
	if (copy_from_user(&init_arg, arg, sizeof(init_arg)))
		return -EFAULT;
	page = aligned_alloc(PAGE_SIZE, sizeof(*page));
	if (!page)
		return -ENOMEM;
	memset(&page->token, 0, sizeof(page->token));
	if (copy_from_user(&page->sigstruct, init_arg.sigstruct,
			   sizeof(page->sigstruct))) {
		ret = -EFAULT;
		goto out;
	}
	/* A legacy field: the CPU accepts only these two values. */
	if (page->sigstruct.header.vendor != 0x0000 &&
	    page->sigstruct.header.vendor != 0x8086) {
		ret = -EINVAL;
		goto out;
	}
	ret = sgx_encl_init(encl, &page->sigstruct, &page->token);
out:
	free(page);
	return ret;
}

/**
 * sgx_ioc_enclave_provision() - handler for %SGX_IOC_ENCLAVE_PROVISION
 * @encl:	an enclave pointer
 * @arg:	userspace pointer to a struct sgx_enclave_provision instance
 *
 * MODEL: the model has no /dev/sgx_provision, so no fd can be one; every
 * fd gets the -EINVAL Linux gives for an fd that is not /dev/sgx_provision,
 * and PROVISIONKEY can never be allowed.
 *
 * Return: -EFAULT for a bad pointer, else -EINVAL.
 */
static long sgx_ioc_enclave_provision(struct sgx_encl *encl, uint64_t arg)
{
	struct sgx_enclave_provision params;

	if (copy_from_user(&params, arg, sizeof(params)))
		return -EFAULT;
	return -EINVAL;
}

/* SGX2 on the CPU and an initialized enclave: what every EDMM ioctl needs. */
static int sgx_ioc_sgx2_ready(struct sgx_encl *encl)
{
	if (!encl->drv->cfg.sgx2)
		return -ENODEV;
	if (!(encl->flags & SGX_ENCL_INITIALIZED))
		return -EINVAL;
	return 0;
}


/*
 * The ETRACK flow, the batched walk of RESTRICT_PERMISSIONS and
 * MODIFY_TYPES with their per-page steps, and REMOVE_PAGES: single source
 * with the Linux patch (patches 2 and 3, scripts/kernel-patch.sh).
 */
#include "kernel/compat/fragment.h"
#include "kernel/upstream/ioctl.c"
#include "kernel/compat/fragment_end.h"

/**
 * sgx_encl_page_type_now() - the type of @entry as the driver relies on it:
 * a MODIFY_TYPES change once it is tracked (sgx_encl_page_type()). For
 * tests and the explorer's invariants; call with encl->lock held or with
 * the enclave quiet.
 * @entry: an enclave page
 *
 * Return: the page type.
 */
enum sgx_page_type sgx_encl_page_type_now(const struct sgx_encl_page *entry)
{
	/* Settling a tracked change writes the entry, which is not const. */
	return sgx_encl_page_type((struct sgx_encl_page *)entry);
}

/**
 * sgx_ioc_enclave_restrict_permissions() - handler for
 *	%SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS
 * @encl:	an enclave pointer
 * @arg:	userspace pointer to a struct sgx_enclave_restrict_permissions
 *
 * The enclave must then EACCEPT each page with the new permissions.
 * @arg->count and @arg->result are written back on every path after the
 * arguments were accepted.
 *
 * Return: 0 on success; -ENODEV without SGX2; -EINVAL for an uninitialized
 * enclave, bad arguments or a page that is not regular; -EFAULT for a bad
 * pointer, a page never added, an EMODPR failure (its code in result) or
 * an ETRACK failure; -EAGAIN if the reclaimer held the page; -ERESTARTSYS
 * if a signal came before the first page (after it: 0 and the partial
 * count).
 */
static long sgx_ioc_enclave_restrict_permissions(struct sgx_encl *encl,
						 uint64_t arg)
{
	struct sgx_enclave_restrict_permissions params;
	long ret;

	ret = sgx_ioc_sgx2_ready(encl);
	if (ret)
		return ret;
	if (copy_from_user(&params, arg, sizeof(params)))
		return -EFAULT;
	if (sgx_validate_offset_length(encl, params.offset, params.length))
		return -EINVAL;
	if (params.permissions & ~SGX_SECINFO_PERMISSION_MASK)
		return -EINVAL;
	/* Fail early: EMODPR would #GP on W without R. */
	if ((params.permissions & SGX_SECINFO_W) &&
	    !(params.permissions & SGX_SECINFO_R))
		return -EINVAL;
	if (params.result || params.count)
		return -EINVAL;
	ret = sgx_enclave_restrict_permissions(encl, &params);
	if (copy_to_user(arg, &params, sizeof(params)))
		return -EFAULT;
	return ret;
}

/**
 * sgx_ioc_enclave_modify_types() - handler for %SGX_IOC_ENCLAVE_MODIFY_TYPES
 * @encl:	an enclave pointer
 * @arg:	userspace pointer to a struct sgx_enclave_modify_types instance
 *
 * REG pages may become TCS or TRIM, TCS pages TRIM. The enclave must then
 * EACCEPT each page. @arg->count and @arg->result are written back on
 * every path after the arguments were accepted.
 *
 * Return: 0 on success; -ENODEV without SGX2; -EINVAL for an
 * uninitialized enclave, bad arguments or a forbidden transition; -EPERM
 * if a REG page's vetted permissions do not cover a TCS; -EFAULT for a bad
 * pointer, a page never added, an EMODT or ETRACK failure; -EAGAIN if the
 * reclaimer held the page; -ERESTARTSYS if a signal came before the first
 * page (after it: 0 and the partial count).
 */
static long sgx_ioc_enclave_modify_types(struct sgx_encl *encl, uint64_t arg)
{
	struct sgx_enclave_modify_types params;
	long ret;

	ret = sgx_ioc_sgx2_ready(encl);
	if (ret)
		return ret;
	if (copy_from_user(&params, arg, sizeof(params)))
		return -EFAULT;
	if (sgx_validate_offset_length(encl, params.offset, params.length))
		return -EINVAL;
	if (params.page_type & ~SGX_PAGE_TYPE_MASK)
		return -EINVAL;
	if (params.result || params.count)
		return -EINVAL;
	ret = sgx_enclave_modify_types(encl, &params);
	if (copy_to_user(arg, &params, sizeof(params)))
		return -EFAULT;
	return ret;
}

/**
 * sgx_ioc_enclave_remove_pages() - handler for %SGX_IOC_ENCLAVE_REMOVE_PAGES
 * @encl:	an enclave pointer
 * @arg:	userspace pointer to a struct sgx_enclave_remove_pages instance
 *
 * The last step of removal: MODIFY_TYPES to TRIM, EACCEPT inside the
 * enclave, then this. @arg->count is written back on every path after the
 * arguments were accepted.
 *
 * Return: 0 on success; -ENODEV without SGX2; -EINVAL for an uninitialized
 * enclave or bad arguments; -EFAULT for a bad pointer or a page never
 * added; -EPERM for a page not trimmed or not accepted; -EAGAIN/-EBUSY if
 * the reclaimer held the page.
 */
static long sgx_ioc_enclave_remove_pages(struct sgx_encl *encl, uint64_t arg)
{
	struct sgx_enclave_remove_pages params;
	long ret;

	ret = sgx_ioc_sgx2_ready(encl);
	if (ret)
		return ret;
	if (copy_from_user(&params, arg, sizeof(params)))
		return -EFAULT;
	if (sgx_validate_offset_length(encl, params.offset, params.length))
		return -EINVAL;
	if (params.count)
		return -EINVAL;
	ret = sgx_encl_remove_pages(encl, &params);
	if (copy_to_user(arg, &params, sizeof(params)))
		return -EFAULT;
	return ret;
}

/**
 * sgx_ioctl() - the ioctl entry point of /dev/sgx_enclave
 * @filp:	the open file
 * @cmd:	the command
 * @arg:	the user-space argument pointer
 *
 * Ioctls on one enclave never run at the same time: a second caller gets
 * -EBUSY while SGX_ENCL_IOCTL is set.
 *
 * KERNEL: an unknown command returns -ENOTTY, which is what user space
 * sees; Linux returns -ENOIOCTLCMD and the VFS, absent here, converts it.
 *
 * Return: the handler's result, -EBUSY or -ENOTTY.
 */
long sgx_ioctl(struct sgx_file *filp, unsigned int cmd, unsigned long arg)
{
	struct sgx_encl *encl = filp->encl;
	long ret;

	sgx_charge(encl->drv, SGX_COST_SYSCALL);
	if (sgx_encl_test_and_set_flag(encl, SGX_ENCL_IOCTL))
		return -EBUSY;
	if (encl->drv->trace.ioctl)
		encl->drv->trace.ioctl(encl->drv->trace.ctx, encl, cmd, arg,
				       NULL);

	switch (cmd) {
	case SGX_IOC_ENCLAVE_CREATE:
		ret = sgx_ioc_enclave_create(encl, arg);
		break;
	case SGX_IOC_ENCLAVE_ADD_PAGES:
		ret = sgx_ioc_enclave_add_pages(encl, arg);
		break;
	case SGX_IOC_ENCLAVE_INIT:
		ret = sgx_ioc_enclave_init(encl, arg);
		break;
	case SGX_IOC_ENCLAVE_PROVISION:
		ret = sgx_ioc_enclave_provision(encl, arg);
		break;
	case SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS:
		ret = sgx_ioc_enclave_restrict_permissions(encl, arg);
		break;
	case SGX_IOC_ENCLAVE_MODIFY_TYPES:
		ret = sgx_ioc_enclave_modify_types(encl, arg);
		break;
	case SGX_IOC_ENCLAVE_REMOVE_PAGES:
		ret = sgx_ioc_enclave_remove_pages(encl, arg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}

	if (encl->drv->trace.ioctl)
		encl->drv->trace.ioctl(encl->drv->trace.ctx, encl, cmd, arg,
				       &ret);
	sgx_encl_clear_flag(encl, SGX_ENCL_IOCTL);
	return ret;
}
