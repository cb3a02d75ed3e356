/* SPDX-License-Identifier: MIT */
/*
 * The runner's host test programs count their checks and report each
 * failure with its line, then exit non-zero if any failed.
 */
#ifndef SGXEMU_TESTS_RUN_CHECK_H
#define SGXEMU_TESTS_RUN_CHECK_H

#include <stdio.h>

static unsigned int checks, failures;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		checks++;                                                 \
		if (!(cond)) {                                            \
			failures++;                                       \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
		}                                                         \
	} while (0)

#endif
