/* SPDX-License-Identifier: MIT */
/*
 * System calls without libc, for the runner's tests: each is its own
 * `syscall` instruction in the test program, as in a runtime's loader
 * (Gramine's, say), never libc's wrapper. With HE_RAW_SYSCALLS,
 * host_encl.c builds the enclave through these.
 */
#ifndef SGXEMU_TESTS_RUN_RAW_SYS_H
#define SGXEMU_TESTS_RUN_RAW_SYS_H

#include <errno.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>

/* Not inlined: a result kept across sigsetjmp() stays in memory. */
static __attribute__((noinline, unused)) long
raw_syscall6(long nr, long a1, long a2, long a3, long a4,
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

/* libc's convention: -1 and errno. */
static inline long raw_ret(long ret)
{
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static inline int raw_open(const char *path, int flags)
{
	return (int)raw_ret(raw_syscall6(SYS_openat, -100 /* AT_FDCWD */,
					 (long)path, flags, 0, 0, 0));
}

static inline int raw_ioctl(int fd, unsigned long req, void *arg)
{
	return (int)raw_ret(raw_syscall6(SYS_ioctl, fd, (long)req, (long)arg,
					 0, 0, 0));
}

static inline void *raw_mmap(void *addr, size_t len, int prot, int flags,
			     int fd, off_t off)
{
	long ret = raw_syscall6(SYS_mmap, (long)addr, (long)len, prot, flags,
				fd, (long)off);

	return (void *)raw_ret(ret);
}

static inline int raw_munmap(void *addr, size_t len)
{
	return (int)raw_ret(raw_syscall6(SYS_munmap, (long)addr, (long)len, 0,
					 0, 0, 0));
}

static inline int raw_close(int fd)
{
	return (int)raw_ret(raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0));
}

#endif
