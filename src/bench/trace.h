/* SPDX-License-Identifier: MIT */
/*
 * The EDMM trace that `sgxemu run --record` writes and `sgxemu bench
 * --replay` reads: its format is docs/TRACE.md. trace_parse() checks the
 * whole file before anything is replayed: the header and its version,
 * every line's kind and fields, that each enclave is created before it is
 * used, that ranges are page-aligned and inside the enclave, that the file
 * ends with a whole line. An error names the line.
 *
 * Version 2 numbers each line (SEQ, after the PID) in the order its event
 * happened in its process, and gives the faulting thread's LP on the eaug
 * line; the reader sorts each process's events by SEQ. Version 1 is read
 * in file order, and an eaug's LP is that of the last `aex ... other` of
 * the enclave (where the recorder of version 1 wrote the fault's AEX).
 */
#ifndef SGXEMU_BENCH_TRACE_H
#define SGXEMU_BENCH_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRACE_VERSION 2 /* written; 1 is read too */
#define TRACE_LPS_MAX 64 /* recorded LP l replays on LP l */

enum trace_kind {
	TR_CREATE, TR_ADD, TR_INIT, TR_RESTRICT, TR_MODT, TR_REMOVE,
	TR_EAUG, TR_EENTER, TR_ERESUME, TR_EEXIT, TR_AEX, TR_EACCEPT,
	TR_EACCEPTCOPY, TR_EMODPE, TR_EWB, TR_ELDU, TR_KINDS
};

struct trace_event {
	enum trace_kind kind;
	unsigned int line;
	long pid;
	uint64_t seq; /* the order in its process; version 1: the line */
	unsigned int encl; /* index into trace.encls; ewb/eldu: the process's */
	unsigned int lp; /* the thread's (eaug: the faulting one's), or the
			  * ioctl caller's */
	bool ipi; /* aex: during an EDMM ioctl of the process */
	uint64_t offset, length, arg; /* arg: flags, permissions or type */
	int64_t ret;
	uint64_t count, result;
};

struct trace_encl {
	long pid;
	unsigned int id;
	uint64_t size;
	unsigned int fault_lp; /* version 1 only: the last faulting LP */
};

struct trace {
	struct trace_event *ev;
	size_t n, cap;
	struct trace_encl *encls;
	size_t nr_encls;
	unsigned int version;
};

/*
 * trace_parse() - read a whole trace. Returns 0, -EINVAL with
 * "line N: what is wrong" in err, or -ENOMEM; on failure *t holds
 * nothing. trace_free() a trace that was read.
 */
int trace_parse(FILE *f, struct trace *t, char *err, size_t errlen);
void trace_free(struct trace *t);
const char *trace_kind_name(enum trace_kind k);

#endif
