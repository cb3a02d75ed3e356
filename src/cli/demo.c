// SPDX-License-Identifier: MIT
/*
 * sgxemu demo: one enclave through its whole life on the bare emulated CPU,
 * playing both the OS (LP 0) and one enclave thread (LP 1). After each step
 * it prints the leaf, its result and the EPCM entry it touched, and checks
 * the result is the one the SDM prescribes: a surprise exits with status 1.
 *
 * The story: build and sign the enclave, enter it, grow it with EAUG and
 * EACCEPT, restrict a page with EMODPR while the thread is still inside
 * (its EACCEPT is refused, and it can still write through its stale TLB
 * entry), send the AEX an IPI would cause, then accept, trim and remove.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tools/bare.h"

#define DEMO_BASE 0x40000000ULL
#define DEMO_SIZE 0x10000ULL
#define DEMO_AEP 0x7000DEAD000ULL
#define TCS_OFF 0x0000
#define SSA_OFF 0x1000
#define SCRATCH_OFF 0x2000
#define DATA_OFF 0x3000
#define AUG_OFF 0x5000
#define RW (SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_W)

struct demo {
	struct bare b;
	struct sgx_lp *os, *thread;
	unsigned int step, surprises;
	bool json;
};

static const struct epcm_entry *epcm_of(struct demo *d, uint64_t epc)
{
	uint64_t idx;

	if (!sgx_epc_index(&d->b.cpu, epc, &idx))
		return NULL;
	return sgx_epcm(&d->b.cpu, idx);
}

static uint64_t epc_at(struct demo *d, uint64_t off)
{
	return bare_epc(&d->b, off);
}

/* Print one step; count it as a surprise unless ret is what we expect. */
static int step(struct demo *d, const char *leaf, const char *what, int ret,
		int expect, uint64_t epc)
{
	const struct epcm_entry *e = epc ? epcm_of(d, epc) : NULL;

	d->step++;
	if (ret != expect)
		d->surprises++;
	if (d->json) {
		printf("%s{\"step\":%u,\"leaf\":\"%s\",\"what\":\"%s\","
		       "\"result\":\"%s\",\"expected\":\"%s\"",
		       d->step > 1 ? ",\n " : "[", d->step, leaf, what,
		       cli_result_name(ret), cli_result_name(expect));
		if (sgx_faulted(ret) && sgx_trapnr(ret) == X86_TRAP_PF)
			printf(",\"error_code\":\"%#x\"",
			       d->thread->exc.error_code);
		if (e) {
			printf(",\"epcm\":");
			cli_print_epcm(stdout, e, true);
		}
		printf("}");
		return ret;
	}
	printf("%2u  %-11s %-38s %-24s", d->step, leaf, what,
	       cli_result_name(ret));
	if (e)
		cli_print_epcm(stdout, e, false);
	if (sgx_faulted(ret) && sgx_trapnr(ret) == X86_TRAP_PF)
		printf(" error code %#x", d->thread->exc.error_code);
	printf("%s\n", ret == expect ? "" : "   <-- unexpected");
	return ret;
}

static void add_page(struct demo *d, uint64_t off, uint64_t flags,
		     const void *src, const char *what)
{
	int eextend, ret = bare_eadd(&d->b, off, flags, src, true, &eextend);
	uint64_t epc = epc_at(d, off);

	step(d, "EADD", what, ret, 0, epc);
	step(d, "EEXTEND x16", "measure all 4 KiB", eextend, 0, epc);
}

static void build(struct demo *d)
{
	static struct sgx_tcs tcs;

	step(d, "ECREATE", "SECS, 64 KiB at 0x40000000",
	     bare_ecreate(&d->b, DEMO_BASE, DEMO_SIZE), 0, d->b.secs);
	tcs = (struct sgx_tcs){ .ssa_offset = SSA_OFF, .nr_ssa_frames = 1,
				.entry_offset = DATA_OFF,
				.fs_limit = 0xFFFFFFFF,
				.gs_limit = 0xFFFFFFFF };
	add_page(d, TCS_OFF, SGX_SECINFO_TYPE(PT_TCS), &tcs, "TCS at +0x0000");
	add_page(d, SSA_OFF, RW, NULL, "SSA frame at +0x1000");
	add_page(d, SCRATCH_OFF, RW, NULL, "scratch page at +0x2000");
	add_page(d, DATA_OFF, RW, NULL, "data page at +0x3000");
	step(d, "EINIT", "signed SIGSTRUCT, open launch control",
	     bare_einit(&d->b), 0, d->b.secs);
}

static int eaccept(struct demo *d, uint64_t off, uint64_t flags)
{
	struct sgx_secinfo secinfo = { .flags = flags };
	uint64_t at = DEMO_BASE + SCRATCH_OFF;
	int ret = sgx_lp_write(d->thread, at, &secinfo, sizeof(secinfo));

	return ret ? ret : enclu_eaccept(d->thread, at, DEMO_BASE + off);
}

static int write_data(struct demo *d)
{
	uint64_t v = 0xC0FFEE;

	return sgx_lp_write(d->thread, DEMO_BASE + DATA_OFF, &v, sizeof(v));
}

/* The AEX an IPI causes, if the thread is inside (it is, unless a step
 * before went wrong). */
static void interrupt(struct demo *d, uint64_t epc)
{
	bool inside = d->thread->enclave_mode;

	if (inside)
		sgx_aex(d->thread, NULL);
	step(d, "AEX", "the IPI forces the thread out", inside ? 0 : -1, 0,
	     epc);
}

static void grow(struct demo *d)
{
	struct sgx_pageinfo pi = { .linaddr = DEMO_BASE + AUG_OFF,
				   .secs = d->b.secs };
	uint64_t epc = bare_alloc_epc(&d->b);

	step(d, "EENTER", "thread enters on LP 1",
	     enclu_eenter(d->thread, DEMO_BASE + TCS_OFF, DEMO_AEP), 0,
	     epc_at(d, TCS_OFF));
	step(d, "EAUG", "OS adds a page at +0x5000",
	     encls_eaug(d->os, &pi, epc), 0, epc);
	if (sgx_pgtable_map(&d->b.pt, DEMO_BASE + AUG_OFF, epc,
			    SGX_PTE_PRESENT | SGX_PTE_WRITE | SGX_PTE_NX))
		d->surprises++;
	step(d, "EACCEPT", "thread accepts R|W|REG|PENDING",
	     eaccept(d, AUG_OFF, RW | SGX_SECINFO_PENDING), 0, epc);
	step(d, "(write)", "thread writes data page: TLB gets RW",
	     write_data(d), 0, epc_at(d, DATA_OFF));
}

static void restrict_page(struct demo *d)
{
	struct sgx_secinfo r = { .flags = SGX_SECINFO_R };
	uint64_t epc = epc_at(d, DATA_OFF);
	uint64_t pr = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R | SGX_SECINFO_PR;

	step(d, "EMODPR", "OS restricts data page to R",
	     encls_emodpr(d->os, &r, epc), 0, epc);
	step(d, "ETRACK", "OS starts a tracking cycle",
	     encls_etrack(d->os, d->b.secs), 0, epc);
	step(d, "EACCEPT", "thread accepts R|REG|PR: still inside",
	     eaccept(d, DATA_OFF, pr), SGX_NOT_TRACKED, epc);
	step(d, "(write)", "stale TLB entry still allows a write",
	     write_data(d), 0, epc);
	interrupt(d, epc);
	step(d, "ERESUME", "thread resumes, TLB flushed",
	     enclu_eresume(d->thread, DEMO_BASE + TCS_OFF, DEMO_AEP), 0, epc);
	step(d, "EACCEPT", "thread accepts R|REG|PR: tracked now",
	     eaccept(d, DATA_OFF, pr), 0, epc);
	step(d, "(write)", "write to the R page faults: AEX", write_data(d),
	     SGX_FAULT_FLAG | X86_TRAP_PF, epc);
	step(d, "ERESUME", "its handler returns: thread resumes",
	     enclu_eresume(d->thread, DEMO_BASE + TCS_OFF, DEMO_AEP), 0, epc);
}

static void trim(struct demo *d)
{
	struct sgx_secinfo t = { .flags = SGX_SECINFO_TYPE(PT_TRIM) };
	uint64_t epc = epc_at(d, AUG_OFF);

	step(d, "EMODT", "OS trims the +0x5000 page",
	     encls_emodt(d->os, &t, epc), 0, epc);
	step(d, "ETRACK", "OS starts a tracking cycle",
	     encls_etrack(d->os, d->b.secs), 0, epc);
	interrupt(d, epc);
	step(d, "ERESUME", "thread resumes",
	     enclu_eresume(d->thread, DEMO_BASE + TCS_OFF, DEMO_AEP), 0, epc);
	step(d, "EACCEPT", "thread accepts TRIM|MODIFIED",
	     eaccept(d, AUG_OFF, SGX_SECINFO_TYPE(PT_TRIM) |
					 SGX_SECINFO_MODIFIED), 0, epc);
	step(d, "EEXIT", "thread leaves the enclave",
	     enclu_eexit(d->thread, DEMO_AEP), 0, epc_at(d, TCS_OFF));
	step(d, "EREMOVE", "OS frees the trimmed page",
	     encls_eremove(d->os, epc), 0, epc);
	sgx_pgtable_unmap(&d->b.pt, DEMO_BASE + AUG_OFF);
}

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: sgxemu demo [--json] [--help]\n\n"
		     "Walks one enclave through ECREATE, EADD, EEXTEND, EINIT, "
		     "EENTER, EAUG,\nEACCEPT, EMODPR, ETRACK, AEX, EACCEPT with "
		     "PR, EMODT, EACCEPT with TRIM\nand EREMOVE, printing each "
		     "leaf's result and the EPCM entry it touched.\n\n"
		     "  --json   one JSON array of steps on stdout\n"
		     "exit status: 0 every result as the SDM prescribes, 1 a "
		     "surprise, 2 usage\n");
	return status;
}

static int parse(int argc, char **argv, struct demo *d)
{
	static const struct option opts[] = { { "json", no_argument, 0, 'j' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			d->json = true;
		else
			return usage(c == 'h' ? stdout : stderr,
				     c == 'h' ? CLI_OK : CLI_USAGE);
	}
	if (optind != argc)
		return usage(stderr, CLI_USAGE);
	return -1;
}

int cmd_demo(int argc, char **argv)
{
	static struct demo d;
	struct sgx_cpu_config cfg = { .epc_pages = 64, .nr_lps = 2,
				      .seed = 1, .check_invariants = true };
	int ret = parse(argc, argv, &d);

	if (ret >= 0)
		return ret;
	if (bare_init(&d.b, &cfg)) {
		fprintf(stderr, "sgxemu demo: out of memory\n");
		return CLI_FAIL;
	}
	d.os = &d.b.cpu.lps[0];
	d.thread = &d.b.cpu.lps[1];
	build(&d);
	grow(&d);
	restrict_page(&d);
	trim(&d);
	if (d.json)
		printf("]\n");
	fprintf(stderr, "demo: %u steps, %u unexpected\n", d.step,
		d.surprises);
	bare_destroy(&d.b);
	return d.surprises ? CLI_FAIL : CLI_OK;
}
