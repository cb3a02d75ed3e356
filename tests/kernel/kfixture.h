/* SPDX-License-Identifier: MIT */
#ifndef SGXEMU_TESTS_KFIXTURE_H
#define SGXEMU_TESTS_KFIXTURE_H
#endif
