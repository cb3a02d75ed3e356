/* SPDX-License-Identifier: MIT */
/* Small bit and alignment helpers shared by every layer. */
#ifndef SGXEMU_BASE_BITS_H
#define SGXEMU_BASE_BITS_H

#include <stdbool.h>
#include <stdint.h>

#define BIT(n) (1ULL << (n))
#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ULL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline bool is_aligned(uint64_t v, uint64_t align)
{
	return (v & (align - 1)) == 0;
}

static inline bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

#endif
