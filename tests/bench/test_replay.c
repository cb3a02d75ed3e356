// SPDX-License-Identifier: MIT
/*
 * The EDMM trace: the reader's refusals, each naming its line, and the
 * replay of a small hand-written trace with a thread inside the enclave
 * during a RESTRICT_PERMISSIONS, counted under two ETRACK policies (a
 * trace of version 1, which is still read); then version 2's order and
 * the faulting thread's LP.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/replay.h"

static int parse(const char *text, struct trace *t, char *err, size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	cr_assert(f);
	ret = trace_parse(f, t, err, len);
	fclose(f);
	return ret;
}

/* The trace in text replayed at the typical cost point. */
static struct replay_result replay_text(const char *text, unsigned int batch)
{
	struct replay_config cfg = { .etrack_batch = batch };
	struct replay_result r;
	struct trace t;
	char err[256] = "";

	cr_assert_eq(parse(text, &t, err, sizeof(err)), 0, "%s", err);
	sgx_costs_at(&cfg.costs, SGX_COST_TYPICAL);
	cr_assert_eq(replay_run(&t, &cfg, &r), 0);
	trace_free(&t);
	return r;
}

#define HEAD "sgxemu-trace 1\ncreate 7 0 0x10000\n"
#define HEAD2 "sgxemu-trace 2\ncreate 7 0 0 0x10000\n"

static const struct {
	const char *text, *want;
} bad[] = {
	{ "", "line 1: empty file" },
	{ "sgxemu-trace 3\n", "line 1: trace version '3'" },
	{ "sgxemu-trace 0\n", "line 1: trace version '0'" },
	{ "hello world\n", "line 1: not an sgxemu trace" },
	{ HEAD "add 7 0 1 0x0 0x10", "line 3: truncated" },
	{ HEAD "restrict 7 0 1 0xf000 0x2000 0x1 0 0x0 0\n",
	  "line 3: range 0xf000+0x2000 is outside" },
	{ HEAD "restrict 7 0 1 0x800 0x1000 0x1 0 0x0 0\n",
	  "line 3: range 0x800+0x1000 is empty or not page-aligned" },
	{ HEAD "modt 7 0 1 0x0 0x0 0x4 0 0x0 0\n", "line 3: range 0x0+0x0" },
	{ HEAD "remove 7 0 1 0x0 0x1000 0 0 0x2000 0\n", "line 3: count" },
	{ "sgxemu-trace 1\neaug 7 0 0x1000\n",
	  "line 2: enclave 7/0 is used before its create line" },
	{ HEAD "eaug 7 0 0x10000\n", "line 3: page 0x10000 is not a page" },
	{ HEAD "create 7 0 0x10000\n", "line 3: enclave 7/0 created twice" },
	{ "sgxemu-trace 1\ncreate 7 0 0x3000\n", "line 2: enclave size" },
	{ HEAD "eexit 7 0\n", "line 3: 'eexit' has 2 fields, wants 3" },
	{ HEAD "jump 7 0\n", "line 3: unknown event 'jump'" },
	{ HEAD "eaug 7 0 0xzz\n", "line 3: bad field 4 '0xzz'" },
	{ HEAD "eexit 7 0 99\n", "line 3: LP 99" },
	{ HEAD "aex 7 0 1 maybe\n", "line 3: bad field 5 'maybe'" },
	{ HEAD "init 7 0 x\n", "line 3: bad field 4 'x'" },
	{ HEAD "ewb -3\n", "line 3: bad process id" },
	/* Version 2: SEQ after the PID, unique in its process. */
	{ HEAD2 "eaug 7 1 0 0x1000\n", "line 3: 'eaug' has 4 fields, wants 5" },
	{ HEAD2 "eexit 7 x 0 1\n", "line 3: bad sequence number 'x'" },
	{ HEAD2 "eexit 7 5 0 1\neenter 7 5 0 1 0x0\n",
	  "line 4: sequence number 5 of process 7 is on line 3 too" },
};

Test(trace, bad_traces_name_their_line)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trace t;
		char err[256] = "";

		cr_expect_eq(parse(bad[i].text, &t, err, sizeof(err)), -EINVAL,
			     "case %zu", i);
		cr_expect(!strncmp(err, bad[i].want, strlen(bad[i].want)),
			  "case %zu: got '%s', want '%s...'", i, err,
			  bad[i].want);
		trace_free(&t);
	}
}

Test(trace, long_line_refused)
{
	char text[600] = HEAD "# ";
	struct trace t;
	char err[256];

	memset(text + strlen(text), 'x', 300);
	strcat(text, "\n");
	cr_assert_eq(parse(text, &t, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "line 3: longer than"), "%s", err);
	trace_free(&t);
}

/*
 * One enclave of 16 pages: two TCSs and two regular pages added; the
 * caller (LP 1) EAUGs and accepts 8 heap pages (each fault as recorded: the
 * AEX, the kernel's EAUG, ERESUME, then the EACCEPT); a thread enters on LP 3
 * and stays inside across a RESTRICT_PERMISSIONS of the 8 pages, after a
 * MODIFY_TYPES of an empty range that the driver refused (-EINVAL), as the
 * Linux selftests probe.
 */
static const char good[] =
	"sgxemu-trace 1\n"
	"# a comment, and a blank line\n\n"
	"create 7 0 0x10000\n"
	"add 7 0 1 0x0 0x2000 0x100 0 0x2000 0\n"
	"add 7 0 1 0x2000 0x2000 0x203 0 0x2000 0\n"
	"init 7 0 0\n"
	"eenter 7 0 1 0x0\n"
	"aex 7 0 1 other\neaug 7 0 0x8000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0x8000\n"
	"aex 7 0 1 other\neaug 7 0 0x9000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0x9000\n"
	"aex 7 0 1 other\neaug 7 0 0xa000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0xa000\n"
	"aex 7 0 1 other\neaug 7 0 0xb000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0xb000\n"
	"aex 7 0 1 other\neaug 7 0 0xc000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0xc000\n"
	"aex 7 0 1 other\neaug 7 0 0xd000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0xd000\n"
	"aex 7 0 1 other\neaug 7 0 0xe000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0xe000\n"
	"aex 7 0 1 other\neaug 7 0 0xf000\n"
	"eresume 7 0 1 0x0\neaccept 7 0 1 0xf000\n"
	"eexit 7 0 1\n"
	"eenter 7 0 3 0x1000\n"
	"modt 7 0 1 0x0 0x0 0x0 -22 0x0 0\n"
	"restrict 7 0 1 0x8000 0x8000 0x1 0 0x8000 0\n"
	"eexit 7 0 3\n"
	"ewb 7\n";

static struct replay_result replay(unsigned int batch, unsigned int cpus)
{
	struct replay_config cfg = { .etrack_batch = batch, .cpus = cpus };
	struct replay_result r;
	struct trace t;
	char err[256] = "";

	cr_assert_eq(parse(good, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.n, 43, "every line but the header, comment, blank");
	sgx_costs_at(&cfg.costs, SGX_COST_TYPICAL);
	cr_assert_eq(replay_run(&t, &cfg, &r), 0);
	trace_free(&t);
	return r;
}

Test(replay, thread_inside_as_recorded)
{
	struct replay_result r1 = replay(1, 0), r0 = replay(0, 0);

	cr_expect_eq(r1.cpus, 3, "LP 0, and one per TCS entered (2)");
	cr_expect_eq(r1.divergences, 0, "first at line %u",
		     r1.first_divergence);
	cr_expect_eq(r1.eaugs, 8);
	cr_expect_eq(r1.eaccepts, 8);
	cr_expect_eq(r1.ewbs, 1);
	cr_expect_eq(r1.calls[RC_RESTRICT], 1);
	cr_expect_eq(r1.calls[RC_MODT], 1, "refused as recorded: no divergence");
	cr_expect_eq(r1.size_hist[1], 1, "8 pages: the 2-15 bucket");
	/* Linux: a flow and an IPI round per page, each forcing TCS 1 out. */
	cr_expect_eq(r1.etrack_flows, 8);
	cr_expect_eq(r1.ipi_rounds, 8);
	cr_expect_eq(r1.aex_inflicted, 8);
	/* Batch 0: one of each. */
	cr_expect_eq(r0.etrack_flows, 1);
	cr_expect_eq(r0.ipi_rounds, 1);
	cr_expect_eq(r0.aex_inflicted, 1);
	cr_expect_eq(r0.divergences, 0);
	cr_expect_lt(r0.latency[RC_RESTRICT], r1.latency[RC_RESTRICT]);
	cr_expect_geq(r1.tracked_latency, r1.tracked_limit);
}

Test(replay, too_few_cpus)
{
	struct replay_config cfg = { .etrack_batch = 1, .cpus = 2 };
	struct replay_result r;
	struct trace t;
	char err[256];

	cr_assert_eq(parse(good, &t, err, sizeof(err)), 0);
	cr_expect_eq(replay_run(&t, &cfg, &r), -EINVAL);
	trace_free(&t);
}

/*
 * Version 2, written as the recorder does (ioctl lines at the call's exit,
 * numbered at its entry): the caller (LP 1) is inside on TCS 0 when the
 * thread on LP 3 faults on a heap page; the kernel EAUGs it on LP 3 and the
 * caller EACCEPTs it from inside. The caller leaves and calls
 * RESTRICT_PERMISSIONS while LP 3 is inside: its line comes after LP 3's
 * eexit in the file, but its SEQ is before it.
 */
static const char good2[] =
	"sgxemu-trace 2\n"
	"create 7 0 0 0x10000\n"
	"add 7 1 0 1 0x0 0x2000 0x100 0 0x2000 0\n"
	"add 7 2 0 1 0x2000 0x2000 0x203 0 0x2000 0\n"
	"init 7 3 0 0\n"
	"eenter 7 4 0 1 0x0\n"
	"eenter 7 5 0 3 0x1000\n"
	"aex 7 6 0 3 other\n"
	"eaug 7 7 0 3 0x8000\n"
	"eresume 7 8 0 3 0x1000\n"
	"eaccept 7 9 0 1 0x8000\n"
	"eexit 7 10 0 1\n"
	"eexit 7 12 0 3\n"
	"restrict 7 11 0 1 0x8000 0x1000 0x1 0 0x1000 0\n";

static struct replay_result replay2(unsigned int batch)
{
	struct replay_config cfg = { .etrack_batch = batch };
	struct replay_result r;
	struct trace t;
	char err[256] = "";

	cr_assert_eq(parse(good2, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.version, 2);
	cr_expect_eq(t.ev[11].kind, TR_RESTRICT, "sorted by SEQ");
	cr_expect_eq(t.ev[7].lp, 3, "the faulting LP");
	sgx_costs_at(&cfg.costs, SGX_COST_TYPICAL);
	cr_assert_eq(replay_run(&t, &cfg, &r), 0);
	trace_free(&t);
	return r;
}

Test(replay, fault_on_its_thread_lp_in_seq_order)
{
	struct replay_result r = replay2(1);

	/* On LP 0 the fault would have forced the caller out: no EACCEPT. */
	cr_expect_eq(r.divergences, 0, "first at line %u", r.first_divergence);
	cr_expect_eq(r.eaugs, 1);
	cr_expect_eq(r.eaccepts, 1);
	/* In file order LP 3 would be outside during the call: no IPI. */
	cr_expect_eq(r.etrack_flows, 1);
	cr_expect_eq(r.aex_inflicted, 1);
}

/* Version 1: an eaug's LP is the last faulting one's, else the caller's. */
Test(trace, v1_eaug_lp_inferred)
{
	struct trace t;
	char err[256] = "";

	cr_assert_eq(parse(good, &t, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(t.version, 1);
	for (size_t i = 0; i < t.n; i++)
		if (t.ev[i].kind == TR_EAUG)
			cr_expect_eq(t.ev[i].lp, 1, "line %u", t.ev[i].line);
	trace_free(&t);
}

/*
 * The recorded reclaim, priced: 17 EWBs in a row are two batches of the
 * reclaimer (16 pages at most), an ELDU ends the second, two more EWBs
 * are a third; each batch pays one ETRACK.
 */
Test(replay, reclaim_priced)
{
	char text[1024] = "sgxemu-trace 2\n";
	struct sgx_costs costs, *c = &costs;
	struct replay_result r;

	for (unsigned int i = 0; i < 20; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "%s 7 %u\n", i == 17 ? "eldu" : "ewb", i);
	r = replay_text(text, 1);
	sgx_costs_at(c, SGX_COST_TYPICAL);
	cr_expect_eq(r.ewbs, 19);
	cr_expect_eq(r.eldus, 1);
	cr_expect_eq(r.reclaim_etracks, 3);
	cr_expect_eq(r.reclaim_cycles,
		     19 * (c->encls[EBLOCK] + c->encls[EWB]) + c->encls[ELDU] +
			     3 * c->encls[ETRACK]);
}

/*
 * A thread that worked long (N entries and exits) faults a page in, then
 * the caller restricts it: the call costs the same whatever N is, since
 * each LP's clock counts its own work only (sim.c, direct mode).
 */
static uint64_t restrict_after_busy_fault(unsigned int n)
{
	char text[4096] = "sgxemu-trace 1\ncreate 7 0 0x10000\n"
			  "add 7 0 1 0x0 0x2000 0x100 0 0x2000 0\n"
			  "add 7 0 1 0x2000 0x2000 0x203 0 0x2000 0\n"
			  "init 7 0 0\neenter 7 0 3 0x1000\n";
	struct replay_result r;

	for (unsigned int i = 0; i < n; i++)
		strcat(text, "eexit 7 0 3\neenter 7 0 3 0x1000\n");
	strcat(text, "aex 7 0 3 other\neaug 7 0 0x8000\n"
		     "eresume 7 0 3 0x1000\neexit 7 0 3\n"
		     "eenter 7 0 1 0x0\neaccept 7 0 1 0x8000\neexit 7 0 1\n"
		     "restrict 7 0 1 0x8000 0x1000 0x1 0 0x1000 0\n");
	r = replay_text(text, 1);
	cr_expect_eq(r.divergences, 0, "first at line %u", r.first_divergence);
	cr_expect_eq(r.eaugs, 1);
	return r.latency[RC_RESTRICT];
}

Test(replay, a_fault_on_another_lp_does_not_delay_the_caller)
{
	uint64_t idle = restrict_after_busy_fault(0);

	cr_expect_gt(idle, 0);
	cr_expect_eq(restrict_after_busy_fault(30), idle);
}

/*
 * A runtime's exception handler, entered on the thread's second SSA frame
 * after each fault, EACCEPTs a page that has nothing pending (it checks
 * that a write to an R page faults), five times: the leaf must not fault
 * in the replay either (each fault would take an AEX and use up an SSA
 * frame of the TCS's four), and the later calls still reproduce.
 */
Test(replay, handler_accepts_with_nothing_pending)
{
	char text[4096] = "sgxemu-trace 1\ncreate 7 0 0x10000\n"
			  "add 7 0 1 0x0 0x1000 0x100 0 0x1000 0\n"
			  "add 7 0 1 0x1000 0x2000 0x203 0 0x2000 0\n"
			  "init 7 0 0\neenter 7 0 1 0x0\n"
			  "aex 7 0 1 other\neaug 7 0 0x8000\n"
			  "eresume 7 0 1 0x0\neaccept 7 0 1 0x8000\n"
			  "eexit 7 0 1\n"
			  "restrict 7 0 1 0x8000 0x1000 0x1 0 0x1000 0\n"
			  "eenter 7 0 1 0x0\neaccept 7 0 1 0x8000\n";
	struct replay_result r;

	for (int i = 0; i < 5; i++)
		strcat(text, "aex 7 0 1 other\neenter 7 0 1 0x0\n"
			     "eaccept 7 0 1 0x8000\neexit 7 0 1\n"
			     "eresume 7 0 1 0x0\n");
	strcat(text, "eexit 7 0 1\n"
		     "modt 7 0 1 0x8000 0x1000 0x4 0 0x1000 0\n"
		     "eenter 7 0 1 0x0\neaccept 7 0 1 0x8000\neexit 7 0 1\n"
		     "remove 7 0 1 0x8000 0x1000 0x0 0 0x1000 0\n");
	r = replay_text(text, 1);
	cr_expect_eq(r.divergences, 0, "first at line %u", r.first_divergence);
	cr_expect_eq(r.calls[RC_REMOVE], 1);
}
