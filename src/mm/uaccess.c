// SPDX-License-Identifier: MIT
/*
 * copy_from_user() and copy_to_user(): the driver model reads and writes
 * "user" memory, which is this process's own memory, through
 * process_vm_readv/process_vm_writev on our own pid. The kernel checks the
 * addresses, so an unmapped or read-only user pointer makes the copy fail
 * with EFAULT instead of crashing the process, as it does in Linux.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kernel/encl.h"

/*
 * Our own pid, asked once per process: glibc no longer caches getpid(), and
 * the explorer copies dozens of times per execution. A fork (the explorer's
 * workers) must ask again, so the child forgets the cached value; a fork
 * that bypasses libc's atfork handlers calls uaccess_fork_child() itself.
 */
static pid_t self_pid;

void uaccess_fork_child(void)
{
	self_pid = 0;
}

static void register_forget(void)
{
	pthread_atfork(NULL, NULL, uaccess_fork_child);
}

static pid_t self(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (!self_pid) {
		pthread_once(&once, register_forget);
		self_pid = getpid();
	}
	return self_pid;
}

/*
 * The number of bytes copied from the start of the range. process_vm_*
 * stops at the first page it cannot access, or fails outright with -1.
 */
static size_t user_copy(void *local, uint64_t remote, size_t len, bool write)
{
	struct iovec liov = { .iov_base = local, .iov_len = len };
	struct iovec riov = { .iov_base = (void *)(uintptr_t)remote,
			      .iov_len = len };
	ssize_t done;

	if (write)
		done = process_vm_writev(self(), &liov, 1, &riov, 1, 0);
	else
		done = process_vm_readv(self(), &liov, 1, &riov, 1, 0);
	return done < 0 ? 0 : (size_t)done;
}

/*
 * MODEL: Linux returns the number of bytes left uncopied and every SGX
 * caller turns a non-zero count into -EFAULT; the model returns that errno
 * directly.
 */

/**
 * copy_from_user() - read len bytes of user memory at user_src into dst.
 *
 * As in Linux, the part of dst that could not be read is zeroed, so no
 * stale kernel data survives in a buffer the caller might still look at.
 *
 * Return: 0 (always for len 0), or -EFAULT when the whole range cannot be
 * read.
 */
int copy_from_user(void *dst, uint64_t user_src, size_t len)
{
	size_t done;

	if (!len)
		return 0;
	done = user_copy(dst, user_src, len, false);
	if (done == len)
		return 0;
	memset((uint8_t *)dst + done, 0, len - done);
	return -EFAULT;
}

/**
 * copy_to_user() - write len bytes from src to user memory at user_dst.
 *
 * Return: 0 (always for len 0), or -EFAULT when the whole range cannot be
 * written.
 */
int copy_to_user(uint64_t user_dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	return user_copy((void *)src, user_dst, len, true) == len ? 0 : -EFAULT;
}
