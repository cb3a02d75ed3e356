/* SPDX-License-Identifier: MIT */
/*
 * Always-on assertions for internal invariants. Unlike <assert.h> these stay
 * in every build: a broken invariant in the model is a bug we want to see at
 * once, never a silent wrong answer. They are never used for bad input from a
 * user or a program; that gets the error code the hardware or Linux returns.
 */
#ifndef SGXEMU_BASE_ASSERT_H
#define SGXEMU_BASE_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define ASSERT(cond)                                                          \
	do {                                                                  \
		if (__builtin_expect(!(cond), 0)) {                           \
			fprintf(stderr, "%s:%d: %s: assertion '%s' failed\n", \
				__FILE__, __LINE__, __func__, #cond);         \
			abort();                                              \
		}                                                             \
	} while (0)

#endif
