/* SPDX-License-Identifier: MIT */
/*
 * minirt's host makes its SGX system calls with its own `syscall`
 * instruction, as Gramine's loader does: no libc wrapper. Each returns
 * the kernel's value (-errno on failure).
 */
#ifndef MINIRT_SYS_H
#define MINIRT_SYS_H

#include <stddef.h>
#include <sys/syscall.h>

static inline long sys6(long nr, long a1, long a2, long a3, long a4,
			long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline void *sys_mmap(void *addr, size_t len, int prot, int flags,
			     int fd, long off)
{
	return (void *)sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd,
			    off);
}

static inline int sys_failed(const void *p)
{
	return (unsigned long)p > -4096UL;
}

#endif
