/* SPDX-License-Identifier: MIT */
/*
 * The kernel-API compatibility layer, part 1: Linux names that mean the same
 * thing everywhere in the model (fixed-size types, error pointers, page
 * numbers, Linux's names of the page types). Every file of the driver model
 * has them through encl.h. Part 2 (fragment.h) maps the rest of the kernel
 * API the single-source functions of src/kernel/upstream/ use.
 */
#ifndef SGXEMU_KERNEL_COMPAT_KERNEL_H
#define SGXEMU_KERNEL_COMPAT_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/sdm.h"

typedef uint64_t u64;

/* include/linux/err.h: the top 4095 addresses carry an errno. */
#define MAX_ERRNO 4095

static inline void *ERR_PTR(long error)
{
	return (void *)(intptr_t)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)(intptr_t)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (uintptr_t)ptr >= (uintptr_t)-MAX_ERRNO;
}

static inline void *ERR_CAST(const void *ptr)
{
	return (void *)(uintptr_t)ptr;
}

#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)

/* arch/x86/include/asm/sgx.h names the SDM's page types so. */
#define SGX_PAGE_TYPE_SECS PT_SECS
#define SGX_PAGE_TYPE_TCS PT_TCS
#define SGX_PAGE_TYPE_REG PT_REG
#define SGX_PAGE_TYPE_VA PT_VA
#define SGX_PAGE_TYPE_TRIM PT_TRIM

/*
 * SGX_MODEL_PLANT(encl, BUG, stmt): a planted bug of the driver model
 * (SGX_PLANT_* in sgx.h, with encl->drv's cfg.plants). Only the *_planted
 * libraries, built with -DSGXEMU_PLANTS, compile stmt; elsewhere the hook
 * is an empty statement. Usable anywhere in the driver model, and the only
 * way a plant reaches a single-source fragment (compat/fragment.h). A new
 * plant is a bit in sgx.h plus one such line where the bug happens.
 */
#ifdef SGXEMU_PLANTS
#define SGX_MODEL_PLANT(encl, bug, stmt)             \
	do {                                         \
		if (sgx_planted((encl)->drv, bug)) { \
			stmt;                        \
		}                                    \
	} while (0)
#else
#define SGX_MODEL_PLANT(encl, bug, stmt) \
	do {                             \
	} while (0)
#endif

#endif
