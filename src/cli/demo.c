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
#include "sign/enclave_hash.h"
#include "sign/sign.h"

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
	struct sgx_cpu cpu;
	struct sgx_pgtable pt;
	struct sgx_lp *os, *thread;
	uint64_t next_epc, secs;
	struct sgx_enclave_hash hash; /* what the signer measures */
	unsigned int step, surprises;
	bool json;
};

static const struct epcm_entry *epcm_of(struct demo *d, uint64_t epc)
{
	uint64_t idx;

	if (!sgx_epc_index(&d->cpu, epc, &idx))
		return NULL;
	return sgx_epcm(&d->cpu, idx);
}

static uint64_t epc_at(struct demo *d, uint64_t off)
{
	return sgx_pgtable_lookup(&d->pt, DEMO_BASE + off)->frame;
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

static void map(struct demo *d, uint64_t off, uint64_t epc, bool exec)
{
	uint32_t flags = SGX_PTE_PRESENT | SGX_PTE_WRITE;

	if (!exec)
		flags |= SGX_PTE_NX;
	if (sgx_pgtable_map(&d->pt, DEMO_BASE + off, epc, flags))
		d->surprises++;
}

static void add_page(struct demo *d, uint64_t off, uint64_t flags,
		     const void *src, const char *what)
{
	static uint8_t zero[4096] __attribute__((aligned(4096)));
	struct sgx_secinfo secinfo = { .flags = flags };
	struct sgx_pageinfo pi = {
		.linaddr = DEMO_BASE + off,
		.srcpge = (uint64_t)(uintptr_t)(src ? src : zero),
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
		.secs = d->secs,
	};
	uint64_t epc = sgx_epc_addr(&d->cpu, d->next_epc++);
	int ret = 0;

	const uint8_t *bytes = (const uint8_t *)(uintptr_t)pi.srcpge;

	step(d, "EADD", what, encls_eadd(d->os, &pi, epc), 0, epc);
	if (sgx_enclave_hash_eadd(&d->hash, off, flags))
		d->surprises++;
	for (unsigned int c = 0; c < 4096 && !ret; c += 256) {
		ret = encls_eextend(d->os, d->secs, epc + c);
		if (sgx_enclave_hash_eextend(&d->hash, off + c, bytes + c))
			d->surprises++;
	}
	step(d, "EEXTEND x16", "measure all 4 KiB", ret, 0, epc);
	map(d, off, epc, false);
}

static void build(struct demo *d)
{
	static struct sgx_secs secs;
	static struct sgx_tcs tcs;
	struct sgx_secinfo secinfo = { .flags = SGX_SECINFO_TYPE(PT_SECS) };
	struct sgx_pageinfo pi = { .srcpge = (uint64_t)(uintptr_t)&secs,
				   .secinfo = (uint64_t)(uintptr_t)&secinfo };

	secs = (struct sgx_secs){ .size = DEMO_SIZE, .base = DEMO_BASE,
				  .ssa_frame_size = 1,
				  .attributes = SGX_ATTR_MODE64BIT,
				  .xfrm = 3 };
	d->secs = sgx_epc_addr(&d->cpu, d->next_epc++);
	if (sgx_enclave_hash_start(&d->hash, secs.ssa_frame_size, secs.size))
		d->surprises++;
	step(d, "ECREATE", "SECS, 64 KiB at 0x40000000",
	     encls_ecreate(d->os, &pi, d->secs), 0, d->secs);
	tcs = (struct sgx_tcs){ .ssa_offset = SSA_OFF, .nr_ssa_frames = 1,
				.entry_offset = DATA_OFF,
				.fs_limit = 0xFFFFFFFF,
				.gs_limit = 0xFFFFFFFF };
	add_page(d, TCS_OFF, SGX_SECINFO_TYPE(PT_TCS), &tcs, "TCS at +0x0000");
	add_page(d, SSA_OFF, RW, NULL, "SSA frame at +0x1000");
	add_page(d, SCRATCH_OFF, RW, NULL, "scratch page at +0x2000");
	add_page(d, DATA_OFF, RW, NULL, "data page at +0x3000");
}

static int init(struct demo *d)
{
	/* EINIT wants the SIGSTRUCT page aligned, the token 512-aligned. */
	static struct sgx_sigstruct sig __attribute__((aligned(4096)));
	static struct sgx_einittoken token;
	EVP_PKEY *key = sgx_sign_generate_key();
	uint8_t mrenclave[32], mrsigner[32];

	if (!key || sgx_sign_key_mrsigner(key, mrsigner))
		return -1;
	/* What Linux's sgx_update_lepubkeyhash() does before EINIT. */
	memcpy(d->os->lepubkeyhash, mrsigner, sizeof(mrsigner));
	if (sgx_enclave_hash_finish(&d->hash, mrenclave) ||
	    sgx_sign_sigstruct(&sig, key, mrenclave, SGX_ATTR_MODE64BIT, 3)) {
		EVP_PKEY_free(key);
		return -1;
	}
	EVP_PKEY_free(key);
	step(d, "EINIT", "signed SIGSTRUCT, open launch control",
	     encls_einit(d->os, &sig, d->secs, &token), 0, d->secs);
	return 0;
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
				   .secs = d->secs };
	uint64_t epc = sgx_epc_addr(&d->cpu, d->next_epc++);

	step(d, "EENTER", "thread enters on LP 1",
	     enclu_eenter(d->thread, DEMO_BASE + TCS_OFF, DEMO_AEP), 0,
	     epc_at(d, TCS_OFF));
	step(d, "EAUG", "OS adds a page at +0x5000",
	     encls_eaug(d->os, &pi, epc), 0, epc);
	map(d, AUG_OFF, epc, false);
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
	     encls_etrack(d->os, d->secs), 0, epc);
	step(d, "EACCEPT", "thread accepts R|REG|PR: still inside",
	     eaccept(d, DATA_OFF, pr), SGX_NOT_TRACKED, epc);
	step(d, "(write)", "stale TLB entry still allows a write",
	     write_data(d), 0, epc);
	interrupt(d, epc);
	step(d, "ERESUME", "thread resumes, TLB flushed",
	     enclu_eresume(d->thread, DEMO_BASE + TCS_OFF, DEMO_AEP), 0, epc);
	step(d, "EACCEPT", "thread accepts R|REG|PR: tracked now",
	     eaccept(d, DATA_OFF, pr), 0, epc);
	step(d, "(write)", "write to the R page faults", write_data(d),
	     SGX_FAULT_FLAG | X86_TRAP_PF, epc);
}

static void trim(struct demo *d)
{
	struct sgx_secinfo t = { .flags = SGX_SECINFO_TYPE(PT_TRIM) };
	uint64_t epc = epc_at(d, AUG_OFF);

	step(d, "EMODT", "OS trims the +0x5000 page",
	     encls_emodt(d->os, &t, epc), 0, epc);
	step(d, "ETRACK", "OS starts a tracking cycle",
	     encls_etrack(d->os, d->secs), 0, epc);
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
	sgx_pgtable_unmap(&d->pt, DEMO_BASE + AUG_OFF);
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
	if (sgx_cpu_init(&d.cpu, &cfg) || sgx_pgtable_init(&d.pt)) {
		fprintf(stderr, "sgxemu demo: out of memory\n");
		return CLI_FAIL;
	}
	d.os = &d.cpu.lps[0];
	d.thread = &d.cpu.lps[1];
	d.os->pgtable = d.thread->pgtable = &d.pt;
	build(&d);
	if (init(&d)) {
		fprintf(stderr, "sgxemu demo: OpenSSL could not sign\n");
		d.surprises++;
	} else {
		grow(&d);
		restrict_page(&d);
		trim(&d);
	}
	if (d.json)
		printf("]\n");
	fprintf(stderr, "demo: %u steps, %u unexpected\n", d.step,
		d.surprises);
	sgx_pgtable_destroy(&d.pt);
	sgx_cpu_destroy(&d.cpu);
	return d.surprises ? CLI_FAIL : CLI_OK;
}
