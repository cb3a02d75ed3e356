// SPDX-License-Identifier: MIT
/*
 * /dev/sgx_enclave for the program: open, ioctl, mmap, mprotect, munmap and
 * close on the device go to the driver model; everything else goes to the
 * real system, through raw system calls so that nothing recurses.
 *
 * madvise and mremap of enclave ranges follow Linux 6.12 on SGX VMAs (the
 * mm model, src/mm/mm.c) and never reach the host's mappings of the EPC.
 *
 * An open of the device returns a real descriptor (a memfd), so that close,
 * fcntl and poll-style bookkeeping of the program keep working; the runtime
 * maps it to the driver's struct sgx_file. A copy made by dup(), dup2(),
 * dup3() or fcntl(F_DUPFD*) maps to the same file and holds a reference on
 * it, as in Linux.
 */
/* The interposers define the plain names (open, mmap), never the *64 ones
 * that large-file mode would redirect them to. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/bits.h"
#include "kernel/encl.h"
#include "run/runtime.h"

#define SGX_DEVICE RUN_SGX_DEVICE

static long ret_errno(long ret)
{
	if (ret >= 0)
		return ret;
	errno = (int)-ret;
	return -1;
}

/*
 * A device call holds the model lock with every signal blocked, as a
 * system call completes before the signals it met are delivered: a handler
 * of the program that calls the device, or enters an enclave, can then
 * never find the lock held by its own thread.
 */
static void model_enter(sigset_t *saved)
{
	struct sgx_lp *lp;
	sigset_t all;

	sigfillset(&all);
	/* A stray trapped call in model code must not find SIGSYS blocked. */
	sigdelset(&all, SIGSYS);
	run_sys_sigmask(SIG_BLOCK, &all, saved);
	/* Kernel code runs on an LP too: one first, then the lock. */
	lp = run_lp_get(run_thread_get());
	native_lock(&run.native);
	run_lp_activate(lp);
}

static void model_leave(const sigset_t *saved)
{
	native_unlock(&run.native);
	run_lp_put(run_thread_self());
	run_sys_sigmask(SIG_SETMASK, saved, NULL);
}

static struct sgx_file *sgx_fd(int fd)
{
	if (fd < 0 || fd >= RUN_FDS_MAX || !run_ready())
		return NULL;
	return run.files[fd];
}

static int dev_open(int flags)
{
	struct sgx_file *filp;
	int fd, ret = run_model_get();
	sigset_t saved;

	if (ret)
		return (int)ret_errno(ret);
	fd = memfd_create("sgx_enclave", flags & O_CLOEXEC ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	if (fd >= RUN_FDS_MAX) {
		run_syscall(SYS_close, fd);
		return (int)ret_errno(-EMFILE);
	}
	model_enter(&saved);
	ret = sgx_open(&run.drv, &filp);
	if (!ret) {
		run.files[fd] = filp;
		run_sysgate_device_fd(fd);
	}
	model_leave(&saved);
	if (ret) {
		run_syscall(SYS_close, fd);
		return (int)ret_errno(ret);
	}
	return fd;
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	if (path && !strcmp(path, SGX_DEVICE))
		return dev_open(flags);
	return (int)run_syscall(SYS_openat, dirfd, path, flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
	return flags & (O_CREAT | O_TMPFILE) ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

/* The _FORTIFY_SOURCE entry points. */
int __open_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

int ioctl(int fd, unsigned long request, ...)
{
	struct sgx_file *filp = sgx_fd(fd);
	unsigned long arg;
	sigset_t saved;
	va_list ap;
	long ret;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (!filp)
		return (int)run_syscall(SYS_ioctl, fd, request, arg);
	model_enter(&saved);
	/* What the syscall layer does with -ERESTARTSYS: restart. */
	do
		ret = sgx_ioctl(filp, (unsigned int)request, arg);
	while (ret == -ERESTARTSYS);
	model_leave(&saved);
	return (int)ret_errno(ret);
}

/*
 * The process's READ_IMPLIES_EXEC personality, which sgx_encl_may_map()
 * refuses: read at each mmap and mprotect, as Linux reads current's.
 */
static void mm_personality(void)
{
	long p = run_syscall(SYS_personality, 0xffffffffUL);

	run.mm->read_implies_exec = p != -1 && (p & READ_IMPLIES_EXEC);
}

/*
 * MODEL: the driver places no mapping itself (sgx_mmap() wants MAP_FIXED),
 * so for a mapping without MAP_FIXED the host chooses the address, as
 * Linux's get_unmapped_area() would, and the driver gets it as fixed.
 */
static void *dev_mmap(struct sgx_file *filp, void *addr, size_t len, int prot,
		      int flags)
{
	uint64_t start = (uint64_t)(uintptr_t)addr;
	bool placed = false;
	sigset_t saved;
	int ret;

	if (!(flags & MAP_FIXED) && len) {
		void *p = run_sys_mmap(addr, len, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS |
					       MAP_NORESERVE,
				       -1, 0);

		if (p == MAP_FAILED)
			return p;
		start = (uint64_t)(uintptr_t)p;
		flags |= MAP_FIXED;
		placed = true;
	}
	model_enter(&saved);
	mm_personality();
	ret = sgx_mmap(filp, run.mm, start, len, (unsigned long)prot,
		       (unsigned long)flags);
	if (!ret)
		ret = run_host_reserve(start, (len + PAGE_SIZE - 1) & PAGE_MASK);
	if (!ret) {
		run_sysgate_range(start, len);
		run_orphan_forget(start, len);
	}
	model_leave(&saved);
	if (ret) {
		if (placed)
			run_sys_munmap((void *)(uintptr_t)start, len);
		return (void *)ret_errno(ret);
	}
	return (void *)(uintptr_t)start;
}

static int model_munmap(uint64_t start, uint64_t len);

/*
 * MAP_FIXED (and mremap's MREMAP_FIXED) replaces what was there: an
 * enclave VMA under it is unmapped first, as mmap_region() does.
 * MODEL: before the host's checks of the new mapping, so one the host
 * refuses still leaves the enclave range unmapped (reserved PROT_NONE).
 */
static void fixed_over(uint64_t start, uint64_t len)
{
	if (start & ~PAGE_MASK || !len)
		return;
	model_munmap(start, len);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct sgx_file *filp = sgx_fd(fd);

	if (filp)
		return dev_mmap(filp, addr, len, prot, flags);
	if (flags & MAP_FIXED)
		fixed_over((uint64_t)(uintptr_t)addr, len);
	return run_sys_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

/* Whether [addr, addr + len) meets an enclave VMA (model lock held). */
static bool meets_enclave(uint64_t addr, uint64_t len)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &run.mm->vmas) {
		struct sgx_vma *vma = list_entry(pos, struct sgx_vma, list);

		if (vma->start < addr + len && addr < vma->end)
			return true;
	}
	return false;
}

/* The model's part of unmapping [start, start + len): 0 or -errno. */
static int model_munmap(uint64_t start, uint64_t len)
{
	sigset_t saved;
	int ret = 0;

	if (run_ready()) {
		model_enter(&saved);
		if (meets_enclave(start, len))
			ret = sgx_munmap(run.mm, start, len);
		model_leave(&saved);
	}
	if (!ret)
		run_orphan_forget(start, len);
	return ret;
}

int munmap(void *addr, size_t len)
{
	int ret = model_munmap((uint64_t)(uintptr_t)addr, len);

	if (ret)
		return (int)ret_errno(ret);
	return run_sys_munmap(addr, len);
}

/*
 * MODEL: a range that meets an enclave VMA is the driver's alone (its PTE
 * hook revokes the host pages); a range mixing enclave and other mappings
 * changes only the enclave part's model state.
 */
int mprotect(void *addr, size_t len, int prot)
{
	uint64_t start = (uint64_t)(uintptr_t)addr;
	bool enclave = false;
	sigset_t saved;
	int ret = 0;

	if (run_ready()) {
		model_enter(&saved);
		enclave = meets_enclave(start, len);
		if (enclave) {
			mm_personality();
			ret = sgx_mprotect(run.mm, start, len,
					   (unsigned long)prot);
		}
		model_leave(&saved);
	}
	if (enclave)
		return (int)ret_errno(ret);
	return run_sys_mprotect(addr, len, prot);
}

/* The host's madvise() on the parts of a range that are not enclave VMAs. */
static int host_madvise(void *ctx, uint64_t start, uint64_t end, int advice)
{
	return (int)run_sys6(SYS_madvise, (long)start, (long)(end - start),
			     advice, 0, 0, 0);
}

static bool cap_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (run_syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_SYS_ADMIN / 32].effective & (1U << (CAP_SYS_ADMIN % 32));
}

int madvise(void *addr, size_t len, int advice)
{
	uint64_t start = (uint64_t)(uintptr_t)addr;
	bool enclave = false;
	sigset_t saved;
	int ret = 0;

	if (run_ready()) {
		model_enter(&saved);
		enclave = meets_enclave(start, len);
		if (enclave) {
			run.mm->cap_sys_admin = cap_sys_admin();
			ret = sgx_madvise(run.mm, start, len, advice,
					  host_madvise, NULL);
		}
		model_leave(&saved);
	}
	if (enclave)
		return (int)ret_errno(ret);
	return (int)run_syscall(SYS_madvise, addr, len, advice);
}

/* The host follows what sgx_mremap() did (model lock held). */
static void mremap_host(const struct sgx_mremap_done *done)
{
	for (unsigned int i = 0; i < 2; i++) {
		if (done->unmap[i][1])
			run_sys_munmap((void *)(uintptr_t)done->unmap[i][0],
				       done->unmap[i][1] - done->unmap[i][0]);
	}
	if (!done->moved_len)
		return;
	run_sys_munmap((void *)(uintptr_t)done->moved_from, done->moved_len);
	if (run_host_reserve(done->moved_to, done->moved_len))
		return;
	run_sysgate_range(done->moved_to, done->moved_len);
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	uint64_t addr = (uint64_t)(uintptr_t)old, new_addr = 0;
	struct sgx_mremap_done done;
	bool enclave = false;
	sigset_t saved;
	long ret = 0;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = (uint64_t)(uintptr_t)va_arg(ap, void *);
		va_end(ap);
	}
	if (run_ready()) {
		model_enter(&saved);
		enclave = meets_enclave(addr, 1);
		if (enclave) {
			ret = sgx_mremap(run.mm, addr, old_len, new_len,
					 (unsigned long)flags, new_addr, &done);
			mremap_host(&done);
		}
		model_leave(&saved);
	}
	if (enclave)
		return ret < 0 ? (void *)ret_errno(ret) : (void *)ret;
	/* A host mapping moved over an enclave VMA replaces it (mremap_to()). */
	if ((flags & MREMAP_FIXED) && (flags & MREMAP_MAYMOVE))
		fixed_over(new_addr, new_len);
	return (void *)run_syscall(SYS_mremap, old, old_len, new_len, flags,
				   new_addr);
}

/*
 * newfd (a copy of oldfd, or an error) now names what oldfd names: the
 * file newfd named before, if any, loses that reference.
 */
static int dup_done(int oldfd, int newfd)
{
	struct sgx_file *filp = sgx_fd(oldfd), *prev;
	sigset_t saved;

	if (newfd < 0 || !run_ready())
		return newfd;
	if (newfd >= RUN_FDS_MAX) {
		if (filp) {
			run_syscall(SYS_close, newfd);
			return (int)ret_errno(-EMFILE);
		}
		return newfd;
	}
	model_enter(&saved);
	prev = run.files[newfd];
	run.files[newfd] = filp ? get_file(filp) : NULL;
	if (filp)
		run_sysgate_device_fd(newfd);
	if (prev)
		sgx_release(prev);
	model_leave(&saved);
	return newfd;
}

int dup(int fd)
{
	return dup_done(fd, (int)run_syscall(SYS_dup, fd));
}

int dup2(int fd, int newfd)
{
	int ret = (int)run_syscall(SYS_dup2, fd, newfd);

	return fd == newfd ? ret : dup_done(fd, ret);
}

int dup3(int fd, int newfd, int flags)
{
	return dup_done(fd, (int)run_syscall(SYS_dup3, fd, newfd, flags));
}

static int do_fcntl(int fd, int cmd, unsigned long arg)
{
	int ret = (int)run_syscall(SYS_fcntl, fd, cmd, arg);

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_done(fd, ret);
	return ret;
}

int fcntl(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

int close(int fd)
{
	struct sgx_file *filp = sgx_fd(fd);
	sigset_t saved;

	if (filp) {
		model_enter(&saved);
		run.files[fd] = NULL;
		sgx_release(filp);
		run_publish_stats();
		model_leave(&saved);
	}
	return (int)run_syscall(SYS_close, fd);
}

/*
 * vfs_fallocate() on the device: after its checks of the mode, a
 * character device is refused (ENODEV). Without this the call would reach
 * the descriptor's memfd; it never reaches the EPC either way.
 */
static int dev_fallocate(int mode, off_t off, off_t len)
{
	int modes = mode & ~FALLOC_FL_KEEP_SIZE;

	if (off < 0 || len <= 0)
		return -EINVAL;
	if (modes & ~(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
		      FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE |
		      FALLOC_FL_UNSHARE_RANGE))
		return -EOPNOTSUPP;
	/* The modes are exclusive; PUNCH_HOLE needs KEEP_SIZE, and
	 * COLLAPSE_RANGE and INSERT_RANGE refuse it. */
	if ((modes & (modes - 1)) ||
	    (modes == FALLOC_FL_PUNCH_HOLE && !(mode & FALLOC_FL_KEEP_SIZE)) ||
	    ((modes == FALLOC_FL_COLLAPSE_RANGE ||
	      modes == FALLOC_FL_INSERT_RANGE) &&
	     (mode & FALLOC_FL_KEEP_SIZE)))
		return -EOPNOTSUPP;
	return -ENODEV;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	if (sgx_fd(fd))
		return (int)ret_errno(dev_fallocate(mode, off, len));
	return (int)run_syscall(SYS_fallocate, fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

/*
 * stat() of the device path (the selftests' loader checks it): the answer
 * is /dev/null's, a character device.
 * MODEL: the device's major/minor numbers are /dev/null's.
 */
static const char *stat_path(const char *path)
{
	return path && !strcmp(path, SGX_DEVICE) ? "/dev/null" : path;
}

int stat(const char *path, struct stat *st)
{
	return (int)run_syscall(SYS_newfstatat, AT_FDCWD, stat_path(path), st, 0);
}

int stat64(const char *path, struct stat64 *st)
{
	return (int)run_syscall(SYS_newfstatat, AT_FDCWD, stat_path(path), st, 0);
}

int lstat(const char *path, struct stat *st)
{
	return (int)run_syscall(SYS_newfstatat, AT_FDCWD, stat_path(path), st,
			    AT_SYMLINK_NOFOLLOW);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)run_syscall(SYS_newfstatat, dirfd, stat_path(path), st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return (int)run_syscall(SYS_newfstatat, dirfd, stat_path(path), st, flags);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask,
	  struct statx *stx)
{
	return (int)run_syscall(SYS_statx, dirfd, stat_path(path), flags, mask,
			    stx);
}

int access(const char *path, int mode)
{
	return (int)run_syscall(SYS_faccessat, AT_FDCWD, stat_path(path), mode);
}
