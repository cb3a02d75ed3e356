// SPDX-License-Identifier: MIT
/*
 * `sgxemu run --record`: every event that matters to the cost of EDMM, one
 * line each, in the trace format of docs/TRACE.md. The command opens the
 * file with O_APPEND, writes the header and passes the descriptor in
 * SGXEMU_RECORD_FD; every process of the program (the selftests fork)
 * inherits it and writes each line with one write(2), so lines of
 * different processes never mix, and every line names its process.
 *
 * The recorder only observes: it reads the ioctl's argument after the
 * driver wrote it back and the LP's registers before a leaf, and writes
 * to its own descriptor. What the program sees is unchanged but for that
 * descriptor, which it inherits as it inherits the --stats one.
 *
 * Order: every line carries a sequence number (SEQ) taken at the event,
 * inside the leaf, the AEX or the fault's EAUG, where the model lock
 * serializes it with every other event of the process; the reader sorts a
 * process's lines by it, so a line written a little later than another
 * thread's (an ioctl's, written at its exit) still replays in the order
 * the events happened.
 *
 * MODEL: an ioctl takes its number at its entry, so the replay runs a call
 * whole at that point, before what other threads did while it ran (a page
 * it removed and they faulted in again, say); a page they faulted in
 * before the live call reached it is a divergence of the replay.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mm/mm.h"
#include "run/runtime.h"
#include "sgxemu/uapi.h"

#define RECORD_ENCLS_MAX 256

static struct {
	int fd; /* -1: not recording */
	pid_t pid;
	/*
	 * The index is the id. A copy of ELRANGE: an enclave's memory is
	 * freed at its release, and a later one may get its address.
	 */
	struct {
		const struct sgx_encl *encl;
		uint64_t base, size;
	} encls[RECORD_ENCLS_MAX];
	unsigned int nr_encls;
	atomic_uint_fast64_t seq; /* the next event's */
	uint64_t entry_tcs[SGX_LPS_MAX]; /* RBX of the LP's EENTER/ERESUME */
} rec = { .fd = -1 };

static uint64_t next_seq(void)
{
	return atomic_fetch_add(&rec.seq, 1);
}

/* One line: "KIND PID SEQ" and the rest, with one write(2). */
static void emit(const char *kind, uint64_t seq, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n = snprintf(line, sizeof(line), "%s %d %llu", kind, rec.pid,
			 (unsigned long long)seq);
	int m;

	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m > 0 && (size_t)(n + m) < sizeof(line))
		(void)!write(rec.fd, line, (size_t)(n + m));
}

/* The calling thread's LP, 0 if it has none: looking never claims one. */
static unsigned int this_lp(void)
{
	const struct sgx_lp *lp = native_current_lp(&run.native);

	return lp ? lp->id : 0;
}

static int id_of(const struct sgx_encl *encl)
{
	for (int i = (int)rec.nr_encls - 1; i >= 0; i--)
		if (rec.encls[i].encl == encl)
			return i;
	return -1;
}

/* The enclave whose ELRANGE holds lin: an LP's, or a TCS's before EENTER. */
static int id_at(uint64_t lin, uint64_t *offset)
{
	for (int i = (int)rec.nr_encls - 1; i >= 0; i--) {
		if (lin - rec.encls[i].base < rec.encls[i].size) {
			*offset = lin - rec.encls[i].base;
			return i;
		}
	}
	return -1;
}

static bool is_edmm(unsigned int cmd)
{
	return cmd == SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS ||
	       cmd == SGX_IOC_ENCLAVE_MODIFY_TYPES ||
	       cmd == SGX_IOC_ENCLAVE_REMOVE_PAGES;
}

/* The lines of the EDMM ioctls and of ADD_PAGES, from the written-back arg. */
static void emit_range(int id, uint64_t seq, unsigned int cmd,
		       unsigned long arg, long ret)
{
	union {
		struct sgx_enclave_add_pages add;
		struct sgx_enclave_restrict_permissions rp;
		struct sgx_enclave_modify_types mt;
		struct sgx_enclave_remove_pages rm;
	} a;
	struct sgx_secinfo si = { 0 };
	const char *fmt = " %d %u 0x%llx 0x%llx 0x%llx %ld 0x%llx %lld\n";
	unsigned int lp = this_lp();

	switch (cmd) {
	case SGX_IOC_ENCLAVE_ADD_PAGES:
		if (copy_from_user(&a.add, arg, sizeof(a.add)))
			return;
		(void)copy_from_user(&si, a.add.secinfo, sizeof(si));
		emit("add", seq, fmt, id, lp, (unsigned long long)a.add.offset,
		     (unsigned long long)a.add.length,
		     (unsigned long long)si.flags, ret,
		     (unsigned long long)a.add.count, 0LL);
		return;
	case SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS:
		if (copy_from_user(&a.rp, arg, sizeof(a.rp)))
			return;
		emit("restrict", seq, fmt, id, lp,
		     (unsigned long long)a.rp.offset,
		     (unsigned long long)a.rp.length,
		     (unsigned long long)a.rp.permissions, ret,
		     (unsigned long long)a.rp.count, (long long)a.rp.result);
		return;
	case SGX_IOC_ENCLAVE_MODIFY_TYPES:
		if (copy_from_user(&a.mt, arg, sizeof(a.mt)))
			return;
		emit("modt", seq, fmt, id, lp, (unsigned long long)a.mt.offset,
		     (unsigned long long)a.mt.length,
		     (unsigned long long)a.mt.page_type, ret,
		     (unsigned long long)a.mt.count, (long long)a.mt.result);
		return;
	default:
		if (copy_from_user(&a.rm, arg, sizeof(a.rm)))
			return;
		emit("remove", seq, fmt, id, lp, (unsigned long long)a.rm.offset,
		     (unsigned long long)a.rm.length, 0ULL, ret,
		     (unsigned long long)a.rm.count, 0LL);
	}
}

static void record_ioctl(void *ctx, struct sgx_encl *encl, unsigned int cmd,
			 unsigned long arg, const long *ret)
{
	/*
	 * The sequence number lives in the thread's record, not in TLS: a raw
	 * clone's thread may have no TLS of its own (thread.c).
	 */
	struct run_thread *t = run_thread_self();
	int id;

	(void)ctx;
	if (!ret) {
		t->ioctl_seq = next_seq();
		return;
	}
	if (cmd == SGX_IOC_ENCLAVE_CREATE && !*ret &&
	    rec.nr_encls < RECORD_ENCLS_MAX) {
		rec.encls[rec.nr_encls].encl = encl;
		rec.encls[rec.nr_encls].base = encl->base;
		rec.encls[rec.nr_encls].size = encl->size;
		emit("create", t->ioctl_seq, " %u 0x%llx\n", rec.nr_encls++,
		     (unsigned long long)encl->size);
		return;
	}
	id = id_of(encl);
	if (id < 0)
		return;
	if (cmd == SGX_IOC_ENCLAVE_INIT)
		emit("init", t->ioctl_seq, " %d %ld\n", id, *ret);
	else if (cmd == SGX_IOC_ENCLAVE_ADD_PAGES || is_edmm(cmd))
		emit_range(id, t->ioctl_seq, cmd, arg, *ret);
}

/* Under encl->lock, on the faulting thread: its LP. */
static void record_eaug(void *ctx, struct sgx_encl *encl, uint64_t offset)
{
	int id = id_of(encl);

	(void)ctx;
	if (id >= 0)
		emit("eaug", next_seq(), " %d %u 0x%llx\n", id, this_lp(),
		     (unsigned long long)offset);
}

/* run_record_aex() - an AEX of @lp (trap.c's AEX hook), if recording. */
void run_record_aex(struct sgx_lp *lp)
{
	uint64_t off;
	int id;

	if (rec.fd < 0)
		return;
	id = id_at(lp->elrange_base, &off);
	/* An IPI's target takes its AEX before it acknowledges. */
	if (id >= 0)
		emit("aex", next_seq(), " %d %u %s\n", id, lp->id,
		     native_ipi_pending(&run.native, lp) ? "ipi" : "other");
}

static const char *const enclu_names[] = {
	[EENTER] = "eenter", [ERESUME] = "eresume", [EEXIT] = "eexit",
	[EACCEPT] = "eaccept", [EACCEPTCOPY] = "eacceptcopy",
	[EMODPE] = "emodpe",
};

/*
 * ENCLU: the thread's exits and the pages it accepts, as the leaf is
 * issued; its entries once they succeeded (record_leaf_end()): a thread
 * whose EENTER faults gives its LP up and may retry on another.
 */
static void record_enclu(struct sgx_lp *lp, unsigned int leaf, uint64_t lin)
{
	const char *name = leaf < sizeof(enclu_names) / sizeof(enclu_names[0]) ?
				   enclu_names[leaf] : NULL;
	uint64_t off;
	int id;

	if (!name || (leaf != EENTER && leaf != ERESUME && !lp->enclave_mode))
		return;
	id = id_at(lin, &off);
	if (id < 0)
		return;
	if (leaf == EEXIT)
		emit(name, next_seq(), " %d %u\n", id, lp->id);
	else
		emit(name, next_seq(), " %d %u 0x%llx\n", id, lp->id,
		     (unsigned long long)off);
}

/**
 * run_record_leaf() - the CPU's leaf hook, before the leaf runs.
 */
void run_record_leaf(struct sgx_lp *lp, enum sgx_leaf_class cls,
		     unsigned int leaf)
{
	if (rec.fd < 0)
		return;
	if (cls == SGX_LEAF_ENCLU && (leaf == EENTER || leaf == ERESUME))
		rec.entry_tcs[lp->id] = lp->regs.rbx;
	else if (cls == SGX_LEAF_ENCLU)
		record_enclu(lp, leaf, leaf == EEXIT ? lp->elrange_base :
						       lp->regs.rcx);
	else if (leaf == EWB || leaf == ELDU)
		emit(leaf == EWB ? "ewb" : "eldu", next_seq(), "\n");
}

/* The CPU's leaf_end hook: an EENTER or ERESUME that entered. */
static void record_leaf_end(void *ctx, struct sgx_lp *lp,
			    enum sgx_leaf_class cls, unsigned int leaf, int ret)
{
	(void)ctx;
	if (cls == SGX_LEAF_ENCLU && (leaf == EENTER || leaf == ERESUME) &&
	    !ret)
		record_enclu(lp, leaf, rec.entry_tcs[lp->id]);
}

/**
 * run_record_install() - at model creation: hook the driver and the CPU if
 * the command asked to record (SGXEMU_RECORD_FD).
 */
void run_record_install(void)
{
	const char *s = getenv(RUN_RECORD_FD_ENV);
	char *end;
	long fd;

	rec.fd = -1;
	rec.nr_encls = 0;
	atomic_store(&rec.seq, 0);
	if (!s || !*s)
		return;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || *end || fd < 0 || fd > INT32_MAX)
		return;
	rec.fd = (int)fd;
	rec.pid = getpid();
	run.drv.trace = (struct sgx_trace_hooks){
		.ioctl = record_ioctl, .eaug = record_eaug,
	};
	run.cpu.hooks.leaf_end = record_leaf_end;
}
