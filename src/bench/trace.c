// SPDX-License-Identifier: MIT
/* The EDMM trace's reader (trace.h, docs/TRACE.md). */
#include "bench/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/bits.h"

#define LINE_MAX_LEN 256
#define FIELDS_MAX 10

/* The fields after the kind: pid, enclave id, then these. */
enum shape { S_CREATE, S_RANGE, S_RET, S_PAGE, S_LP_PAGE, S_LP, S_AEX,
	     S_PID };

static const struct {
	const char *name;
	enum shape shape;
} kinds[TR_KINDS] = {
	[TR_CREATE] = { "create", S_CREATE },
	[TR_ADD] = { "add", S_RANGE },
	[TR_INIT] = { "init", S_RET },
	[TR_RESTRICT] = { "restrict", S_RANGE },
	[TR_MODT] = { "modt", S_RANGE },
	[TR_REMOVE] = { "remove", S_RANGE },
	[TR_EAUG] = { "eaug", S_PAGE },
	[TR_EENTER] = { "eenter", S_LP_PAGE },
	[TR_ERESUME] = { "eresume", S_LP_PAGE },
	[TR_EEXIT] = { "eexit", S_LP },
	[TR_AEX] = { "aex", S_AEX },
	[TR_EACCEPT] = { "eaccept", S_LP_PAGE },
	[TR_EACCEPTCOPY] = { "eacceptcopy", S_LP_PAGE },
	[TR_EMODPE] = { "emodpe", S_LP_PAGE },
	[TR_EWB] = { "ewb", S_PID },
	[TR_ELDU] = { "eldu", S_PID },
};

/* Fields after the kind, per shape. */
static const unsigned int arity[] = {
	[S_CREATE] = 3, [S_RANGE] = 9, [S_RET] = 3, [S_PAGE] = 3,
	[S_LP_PAGE] = 4, [S_LP] = 3, [S_AEX] = 4, [S_PID] = 1,
};

/* Version 2's eaug names the faulting LP. */
static enum shape shape_of(enum trace_kind k, unsigned int version)
{
	return k == TR_EAUG && version >= 2 ? S_LP_PAGE : kinds[k].shape;
}

const char *trace_kind_name(enum trace_kind k)
{
	return k < TR_KINDS ? kinds[k].name : "?";
}

struct parser {
	struct trace *t;
	unsigned int line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "line %u: ", p->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && end != s && !*end && *s != '-';
}

static bool snum(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && end != s && !*end;
}

static int find_kind(const char *name)
{
	for (int k = 0; k < TR_KINDS; k++)
		if (!strcmp(kinds[k].name, name))
			return k;
	return -1;
}

/* The enclave (pid, id), or -1. */
static long find_encl(const struct trace *t, long pid, uint64_t id)
{
	for (size_t i = 0; i < t->nr_encls; i++)
		if (t->encls[i].pid == pid && t->encls[i].id == id)
			return (long)i;
	return -1;
}

static int add_encl(struct parser *p, long pid, uint64_t id, uint64_t size)
{
	struct trace *t = p->t;
	struct trace_encl *e;

	if (find_encl(t, pid, id) >= 0)
		return fail(p, "enclave %ld/%" PRIu64 " created twice", pid,
			    id);
	if (!size || size & (size - 1) || size < 2 * PAGE_SIZE ||
	    size > (1ULL << 47))
		return fail(p, "enclave size 0x%" PRIx64 " is not a power "
			    "of two of at least two pages", size);
	e = realloc(t->encls, (t->nr_encls + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	t->encls = e;
	t->encls[t->nr_encls++] = (struct trace_encl){
		.pid = pid, .id = (unsigned int)id, .size = size,
		.fault_lp = UINT32_MAX,
	};
	return 0;
}

static bool aligned(uint64_t v)
{
	return !(v & (PAGE_SIZE - 1));
}

/*
 * Offsets and the ranges of successful calls page-aligned and inside the
 * enclave; LPs in range.
 */
static int check_event(struct parser *p, const struct trace_event *ev,
		       enum shape shape)
{
	uint64_t size = p->t->encls[ev->encl].size;

	/* A refused call's range may be anything: the replay is refused too. */
	if (shape == S_RANGE && !ev->ret) {
		if (!ev->length || !aligned(ev->offset) ||
		    !aligned(ev->length))
			return fail(p, "range 0x%" PRIx64 "+0x%" PRIx64
				    " is empty or not page-aligned",
				    ev->offset, ev->length);
		if (ev->offset >= size || ev->length > size - ev->offset)
			return fail(p, "range 0x%" PRIx64 "+0x%" PRIx64
				    " is outside the enclave's 0x%" PRIx64
				    " bytes", ev->offset, ev->length, size);
		if (ev->count > ev->length || !aligned(ev->count))
			return fail(p, "count 0x%" PRIx64 " is not a number "
				    "of pages of the range", ev->count);
	}
	if ((shape == S_PAGE || shape == S_LP_PAGE) &&
	    (!aligned(ev->offset) || ev->offset >= size))
		return fail(p, "page 0x%" PRIx64 " is not a page of the "
			    "enclave's 0x%" PRIx64 " bytes", ev->offset, size);
	if (ev->lp >= TRACE_LPS_MAX)
		return fail(p, "LP %u: at most %u LPs", ev->lp,
			    TRACE_LPS_MAX);
	return 0;
}

/* Fields f[0..] after the kind into ev. */
static int fill(struct parser *p, struct trace_event *ev, enum shape shape,
		char **f)
{
	uint64_t v[FIELDS_MAX] = { 0 };
	unsigned int n = arity[shape];
	int64_t pid;
	long e;
	int ret;

	if (!snum(f[0], &pid) || pid <= 0)
		return fail(p, "bad process id '%s'", f[0]);
	ev->pid = (long)pid;
	if (shape == S_PID) {
		ev->encl = (unsigned int)pid;
		return 0;
	}
	for (unsigned int i = 1; i < n; i++) {
		bool ok = (shape == S_RANGE && i == 6) || (shape == S_RET &&
							   i == 2) ?
				  snum(f[i], &ev->ret) :
			  shape == S_AEX && i == 3 ?
				  !strcmp(f[i], "ipi") || !strcmp(f[i], "other") :
				  num(f[i], &v[i]);

		if (!ok)
			return fail(p, "bad field %u '%s'", i + 2, f[i]);
	}
	if (shape == S_CREATE)
		return add_encl(p, (long)pid, v[1], v[2]);
	e = find_encl(p->t, (long)pid, v[1]);
	if (e < 0)
		return fail(p, "enclave %" PRId64 "/%" PRIu64 " is used before "
			    "its create line", pid, v[1]);
	ev->encl = (unsigned int)e;
	switch (shape) {
	case S_RANGE:
		ev->lp = (unsigned int)(v[2] < UINT32_MAX ? v[2] : UINT32_MAX);
		ev->offset = v[3], ev->length = v[4], ev->arg = v[5];
		ev->count = v[7], ev->result = v[8];
		break;
	case S_PAGE: /* version 1's eaug: see trace.h */
		ev->offset = v[2];
		ev->lp = p->t->encls[e].fault_lp == UINT32_MAX ?
				 0 : p->t->encls[e].fault_lp;
		break;
	case S_LP_PAGE:
		ev->lp = (unsigned int)(v[2] < UINT32_MAX ? v[2] : UINT32_MAX);
		ev->offset = v[3];
		break;
	case S_LP:
	case S_AEX:
		ev->lp = (unsigned int)(v[2] < UINT32_MAX ? v[2] : UINT32_MAX);
		ev->ipi = shape == S_AEX && !strcmp(f[3], "ipi");
		break;
	default:
		break;
	}
	ret = check_event(p, ev, shape);
	/* Version 1: the faulting LP, else the caller's (see trace.h). */
	if (!ret && ((shape == S_AEX && !ev->ipi) ||
		     (shape == S_RANGE && p->t->encls[e].fault_lp == UINT32_MAX)))
		p->t->encls[e].fault_lp = ev->lp;
	return ret;
}

static int push(struct trace *t, const struct trace_event *ev)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct trace_event *v = realloc(t->ev, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->ev = v;
		t->cap = cap;
	}
	t->ev[t->n++] = *ev;
	return 0;
}

static int parse_line(struct parser *p, char *s)
{
	char *f[FIELDS_MAX + 2], *save = NULL;
	unsigned int n = 0;
	struct trace_event ev = { .line = p->line };
	unsigned int seq_field = p->t->version >= 2;
	enum shape shape;
	int k, ret;

	for (char *tok = strtok_r(s, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (n == FIELDS_MAX + 1)
			return fail(p, "too many fields");
		f[n++] = tok;
	}
	if (!n || f[0][0] == '#')
		return 0;
	k = find_kind(f[0]);
	if (k < 0)
		return fail(p, "unknown event '%s'", f[0]);
	shape = shape_of((enum trace_kind)k, p->t->version);
	if (n - 1 != arity[shape] + seq_field)
		return fail(p, "'%s' has %u fields, wants %u", f[0], n - 1,
			    arity[shape] + seq_field);
	ev.kind = (enum trace_kind)k;
	ev.seq = p->line;
	if (seq_field) {
		if (!num(f[2], &ev.seq))
			return fail(p, "bad sequence number '%s'", f[2]);
		memmove(&f[2], &f[3], (n - 3) * sizeof(f[0]));
	}
	ret = fill(p, &ev, shape, f + 1);
	if (ret || k == TR_CREATE) {
		if (!ret)
			ev.encl = (unsigned int)(p->t->nr_encls - 1);
		return ret ? ret : push(p->t, &ev);
	}
	return push(p->t, &ev);
}

static int parse_header(struct parser *p, char *s)
{
	uint64_t v;
	char *sp = strchr(s, ' ');

	if (!sp || strncmp(s, "sgxemu-trace", (size_t)(sp - s)) ||
	    sp - s != 12)
		return fail(p, "not an sgxemu trace (it starts '%.20s', want "
			    "'sgxemu-trace %d')", s, TRACE_VERSION);
	if (!num(sp + 1, &v) || !v || v > TRACE_VERSION)
		return fail(p, "trace version '%s': this sgxemu reads versions "
			    "1 to %d", sp + 1, TRACE_VERSION);
	p->t->version = (unsigned int)v;
	return 0;
}

/* By process, then SEQ (the line breaks no tie: SEQs are unique). */
static int by_seq(const void *a, const void *b)
{
	const struct trace_event *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Each process's events in the order they happened; no SEQ twice. */
static int order(struct parser *p)
{
	struct trace *t = p->t;

	if (t->n)
		qsort(t->ev, t->n, sizeof(t->ev[0]), by_seq);
	for (size_t i = 1; i < t->n; i++) {
		if (t->ev[i].pid == t->ev[i - 1].pid &&
		    t->ev[i].seq == t->ev[i - 1].seq) {
			p->line = t->ev[i].line;
			return fail(p, "sequence number %" PRIu64 " of process "
				    "%ld is on line %u too", t->ev[i].seq,
				    t->ev[i].pid, t->ev[i - 1].line);
		}
	}
	return 0;
}

static int parse_all(FILE *f, struct trace *t, char *err, size_t errlen)
{
	struct parser p = { .t = t, .err = err, .errlen = errlen };
	char buf[LINE_MAX_LEN + 1];
	int ret = 0;

	memset(t, 0, sizeof(*t));
	while (!ret && fgets(buf, sizeof(buf), f)) {
		size_t len = strlen(buf);

		p.line++;
		if (!len || buf[len - 1] != '\n')
			return len == LINE_MAX_LEN ?
				       fail(&p, "longer than %d characters",
					    LINE_MAX_LEN - 1) :
				       fail(&p, "truncated: the file ends "
					    "inside the line");
		buf[len - 1] = '\0';
		if (memchr(buf, '\0', len - 1))
			return fail(&p, "a NUL byte");
		ret = p.line == 1 ? parse_header(&p, buf) : parse_line(&p, buf);
	}
	if (!ret && !p.line) {
		p.line = 1;
		return fail(&p, "empty file, not an sgxemu trace");
	}
	if (!ret && ferror(f))
		return fail(&p, "read error");
	return ret ? ret : order(&p);
}

int trace_parse(FILE *f, struct trace *t, char *err, size_t errlen)
{
	int ret = parse_all(f, t, err, errlen);

	if (ret)
		trace_free(t);
	return ret;
}

void trace_free(struct trace *t)
{
	free(t->ev);
	free(t->encls);
	memset(t, 0, sizeof(*t));
}
