// SPDX-License-Identifier: MIT
/*
 * Traces of one execution. Every execution feeds its events to a 64-bit
 * trace hash: each scheduling step (the thread picked), each ENCLS/ENCLU
 * leaf (thread, LP, class, leaf), each enclave access (thread, LP, linear
 * address) and each IPI delivery (LP, whether it forced an AEX). Equal
 * hashes mean equal runs as far as the explorer can see; the explorer
 * counts distinct schedules by it, and a replay must reproduce it.
 *
 * A replay may also record the events and write them as Chrome trace-event
 * JSON ({"traceEvents":[...]}), which Perfetto (ui.perfetto.dev) and
 * chrome://tracing open. Process 1 has one track per sim thread: a slice
 * per step, and instants for leaves, accesses and IPIs. Process 2 has one
 * track per LP: a span for every stay in enclave mode, ending in EEXIT or
 * an AEX instant. Process 3 has one track per sim thread for the spans the
 * scenario marks (ioctls), which begin and end inside steps and so cannot
 * nest with them on one track. Time is logical: each event advances the
 * clock by one unit, so ts orders events and nothing else.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "explore/engine.h"

enum trace_kind {
	EV_STEP = 1,
	EV_LEAF,
	EV_ACCESS,
	EV_IPI,
	EV_SPAN_BEGIN,
	EV_SPAN_END,
	EV_ENTER, /* the LP went into enclave mode */
	EV_EEXIT, /* ... and left it by EEXIT */
	EV_AEX, /* ... or by an AEX */
};

struct xp_trace_event {
	uint8_t kind;
	uint8_t cls; /* enum sgx_leaf_class, for EV_LEAF */
	uint8_t leaf;
	bool aex; /* EV_IPI */
	unsigned int thread; /* sim thread id, or SIM_NONE */
	unsigned int lp;
	uint64_t lin; /* EV_ACCESS */
	const char *name; /* EV_SPAN_BEGIN / EV_SPAN_END */
};

static const char *const encls_names[SGX_ENCLS_NR_LEAVES] = {
	"ECREATE", "EADD", "EINIT", "EREMOVE", "EDBGRD", "EDBGWR",
	"EEXTEND", "ELDB", "ELDU", "EBLOCK", "EPA", "EWB",
	"ETRACK", "EAUG", "EMODPR", "EMODT",
};

static const char *const enclu_names[SGX_ENCLU_NR_LEAVES] = {
	"EREPORT", "EGETKEY", "EENTER", "ERESUME",
	"EEXIT", "EACCEPT", "EMODPE", "EACCEPTCOPY",
};

void xp_trace_reset(struct xp_trace *t, const struct sim *sim, bool record)
{
	t->hash = 0;
	t->sim = sim;
	t->record = record;
	t->error = 0;
	t->len = 0;
	memset(t->inside, 0, sizeof(t->inside));
	memset(t->last_enclu, 0, sizeof(t->last_enclu));
}

void xp_trace_free(struct xp_trace *t)
{
	free(t->event);
	memset(t, 0, sizeof(*t));
}

/* One 64-bit word into the hash: a multiply-rotate round, as xxHash's. */
static void hash_word(struct xp_trace *t, uint64_t word)
{
	uint64_t h = t->hash ^ (word * 0x9e3779b97f4a7c15ULL);

	t->hash = ((h << 31) | (h >> 33)) * 0xc2b2ae3d27d4eb4fULL;
}

static unsigned int running_thread(const struct xp_trace *t)
{
	const struct sim_thread *cur = sim_current(t->sim);

	return cur ? cur->id : SIM_NONE;
}

static void record(struct xp_trace *t, struct xp_trace_event ev)
{
	if (t->len == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		struct xp_trace_event *grown;

		grown = realloc(t->event, cap * sizeof(*grown));
		if (!grown) {
			t->error = -ENOMEM;
			t->record = false;
			return;
		}
		t->event = grown;
		t->cap = cap;
	}
	t->event[t->len++] = ev;
}

/* Enclave-mode changes of the LPs since the last event, for their tracks. */
static void scan_lps(struct xp_trace *t)
{
	const struct sgx_cpu *cpu = t->sim->cpu;

	for (unsigned int i = 0; i < cpu->cfg.nr_lps && t->record; i++) {
		bool inside = cpu->lps[i].enclave_mode;
		uint8_t kind = EV_ENTER;

		if (inside == t->inside[i])
			continue;
		if (!inside)
			kind = t->last_enclu[i] == EEXIT ? EV_EEXIT : EV_AEX;
		t->inside[i] = inside;
		record(t, (struct xp_trace_event){ .kind = kind, .lp = i,
						    .thread = SIM_NONE });
	}
}

static void add(struct xp_trace *t, struct xp_trace_event ev)
{
	if (!t->record)
		return;
	scan_lps(t);
	record(t, ev);
}

void xp_trace_step(struct xp_trace *t, unsigned int thread)
{
	hash_word(t, (uint64_t)EV_STEP << 56 | thread);
	add(t, (struct xp_trace_event){ .kind = EV_STEP, .thread = thread });
}

void xp_trace_leaf(struct xp_trace *t, const struct sgx_lp *lp,
		   enum sgx_leaf_class cls, unsigned int leaf)
{
	unsigned int thread = running_thread(t);

	hash_word(t, (uint64_t)EV_LEAF << 56 | (uint64_t)thread << 24 |
			     (uint64_t)lp->id << 16 | (uint64_t)cls << 8 |
			     leaf);
	if (cls == SGX_LEAF_ENCLU)
		t->last_enclu[lp->id] = leaf;
	add(t, (struct xp_trace_event){ .kind = EV_LEAF, .cls = (uint8_t)cls,
					.leaf = (uint8_t)leaf, .thread = thread,
					.lp = lp->id });
}

void xp_trace_access(struct xp_trace *t, const struct sgx_lp *lp,
		     uint64_t lin)
{
	unsigned int thread = running_thread(t);

	hash_word(t, (uint64_t)EV_ACCESS << 56 | (uint64_t)thread << 24 |
			     lp->id);
	hash_word(t, lin);
	add(t, (struct xp_trace_event){ .kind = EV_ACCESS, .thread = thread,
					.lp = lp->id, .lin = lin });
}

void xp_trace_ipi(struct xp_trace *t, const struct sgx_lp *lp, bool aex)
{
	unsigned int thread = running_thread(t);

	hash_word(t, (uint64_t)EV_IPI << 56 | (uint64_t)lp->id << 8 | aex);
	add(t, (struct xp_trace_event){ .kind = EV_IPI, .thread = thread,
					.lp = lp->id, .aex = aex });
}

void xp_trace_span(struct xp_world *w, const char *name, bool begin)
{
	struct xp_trace *t = w->trace;

	if (!t || !t->record)
		return;
	add(t, (struct xp_trace_event){
		       .kind = begin ? EV_SPAN_BEGIN : EV_SPAN_END,
		       .thread = running_thread(t), .name = name });
}

uint64_t xp_trace_finish(struct xp_trace *t)
{
	if (t->record)
		scan_lps(t);
	return xp_mix64(t->hash ^ 0x7472616365ULL);
}

/* A JSON string literal; names come from scenarios and may hold anything. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_metadata(FILE *f, unsigned int pid, unsigned int tid,
			  const char *what, const char *name, bool *first)
{
	fprintf(f, "%s\n{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"%s\","
		   "\"args\":{\"name\":",
		*first ? "" : ",", pid, tid, what);
	json_string(f, name);
	fputs("}}", f);
	*first = false;
}

static void json_tracks(FILE *f, const struct sim *sim, const char *scenario)
{
	bool first = true;
	char name[96];

	json_metadata(f, 1, 0, "process_name", scenario, &first);
	json_metadata(f, 2, 0, "process_name", "logical processors", &first);
	json_metadata(f, 3, 0, "process_name", "calls", &first);
	for (unsigned int i = 0; i < sim->nr_threads; i++) {
		const struct sim_thread *th = &sim->threads[i];

		snprintf(name, sizeof(name), "%s (LP %u)",
			 th->name ? th->name : "thread", th->lp->id);
		json_metadata(f, 1, i, "thread_name", name, &first);
		json_metadata(f, 3, i, "thread_name", name, &first);
	}
	json_metadata(f, 1, SIM_THREADS_MAX, "thread_name", "outside threads",
		      &first);
	json_metadata(f, 3, SIM_THREADS_MAX, "thread_name", "outside threads",
		      &first);
	for (unsigned int i = 0; i < sim->cpu->cfg.nr_lps; i++) {
		snprintf(name, sizeof(name), "LP %u", i);
		json_metadata(f, 2, i, "thread_name", name, &first);
	}
}

static unsigned int track_of(unsigned int thread)
{
	return thread == SIM_NONE ? SIM_THREADS_MAX : thread;
}

/* The end of the step slice starting at event i: the next step, or the end. */
static size_t step_end(const struct xp_trace *t, size_t i)
{
	size_t j = i + 1;

	while (j < t->len && t->event[j].kind != EV_STEP)
		j++;
	return j;
}

static void json_thread_event(FILE *f, const struct xp_trace *t, size_t i)
{
	const struct xp_trace_event *e = &t->event[i];
	unsigned int tid = track_of(e->thread);

	switch (e->kind) {
	case EV_STEP:
		fprintf(f, "{\"ph\":\"X\",\"name\":\"step\",\"ts\":%zu,"
			   "\"dur\":%zu,\"pid\":1,\"tid\":%u}",
			i, step_end(t, i) - i, tid);
		return;
	case EV_LEAF:
		fprintf(f, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"%s\","
			   "\"cat\":\"%s\",\"ts\":%zu,\"pid\":1,\"tid\":%u,"
			   "\"args\":{\"lp\":%u}}",
			e->cls == SGX_LEAF_ENCLS ? encls_names[e->leaf] :
						   enclu_names[e->leaf],
			e->cls == SGX_LEAF_ENCLS ? "ENCLS" : "ENCLU", i, tid,
			e->lp);
		return;
	case EV_ACCESS:
		fprintf(f, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"access\","
			   "\"cat\":\"access\",\"ts\":%zu,\"pid\":1,\"tid\":%u,"
			   "\"args\":{\"lp\":%u,\"lin\":\"%#" PRIx64 "\"}}",
			i, tid, e->lp, e->lin);
		return;
	case EV_IPI:
		fprintf(f, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"IPI\","
			   "\"cat\":\"ipi\",\"ts\":%zu,\"pid\":1,\"tid\":%u,"
			   "\"args\":{\"target_lp\":%u,\"aex\":%s}}",
			i, tid, e->lp, e->aex ? "true" : "false");
		return;
	}
	fprintf(f, "{\"ph\":\"%s\",\"name\":",
		e->kind == EV_SPAN_BEGIN ? "B" : "E");
	json_string(f, e->name ? e->name : "span");
	fprintf(f, ",\"cat\":\"span\",\"ts\":%zu,\"pid\":3,\"tid\":%u}", i,
		tid);
}

static void json_lp_event(FILE *f, const struct xp_trace_event *e, size_t i)
{
	if (e->kind == EV_ENTER) {
		fprintf(f, "{\"ph\":\"B\",\"name\":\"enclave\",\"cat\":\"lp\","
			   "\"ts\":%zu,\"pid\":2,\"tid\":%u}",
			i, e->lp);
		return;
	}
	if (e->kind == EV_AEX)
		fprintf(f, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"AEX\","
			   "\"cat\":\"lp\",\"ts\":%zu,\"pid\":2,\"tid\":%u},\n",
			i, e->lp);
	fprintf(f, "{\"ph\":\"E\",\"name\":\"enclave\",\"cat\":\"lp\","
		   "\"ts\":%zu,\"pid\":2,\"tid\":%u}",
		i, e->lp);
}

static void json_events(FILE *f, const struct xp_trace *t)
{
	for (size_t i = 0; i < t->len; i++) {
		const struct xp_trace_event *e = &t->event[i];

		fputs(",\n", f);
		if (e->kind >= EV_ENTER)
			json_lp_event(f, e, i);
		else
			json_thread_event(f, t, i);
	}
	/* Close the stays in enclave mode that outlived the run. */
	for (unsigned int lp = 0; lp < t->sim->cpu->cfg.nr_lps; lp++)
		if (t->inside[lp])
			fprintf(f, ",\n{\"ph\":\"E\",\"name\":\"enclave\","
				   "\"cat\":\"lp\",\"ts\":%zu,\"pid\":2,"
				   "\"tid\":%u}",
				t->len, lp);
}

int xp_trace_write_json(const struct xp_trace *t, const struct sim *sim,
			const char *scenario, const char *path)
{
	FILE *f;
	int ret = 0;

	ASSERT(sim == t->sim);
	if (t->error)
		return t->error;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"scenario\":", f);
	json_string(f, scenario);
	fputs("},\n\"traceEvents\":[", f);
	json_tracks(f, sim, scenario);
	json_events(f, t);
	fputs("\n]}\n", f);
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
