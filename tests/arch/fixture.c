// SPDX-License-Identifier: MIT
/*
 * The arch test fixture (API and enclave layout in fixture.h). It plays the
 * loader and the driver the way Linux's selftests and SGX driver do:
 * ECREATE, EADD + EEXTEND of every page, EINIT with a SIGSTRUCT signed by
 * tests/data/sign_key.pem and the LE hash MSRs set to its MRSIGNER
 * (sgx_update_lepubkeyhash), and PTEs for every page it adds.
 *
 * It keeps its own MRENCLAVE, computed from the SDM record formats with
 * OpenSSL's SHA-256, so every enclave a test builds also cross-checks the
 * CPU's measurement.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "sign/sign.h"

#define FX_SEED 0x5eed5eedULL
#define FX_MIN_SIZE (1ULL << 20)
#define FX_CHUNK 256

static EVP_PKEY *fx_key;

static EVP_PKEY *test_key(void)
{
	if (!fx_key)
		fx_key = sgx_sign_load_key(SGXEMU_TEST_KEY);
	cr_assert_not_null(fx_key, "cannot load %s", SGXEMU_TEST_KEY);
	return fx_key;
}

/* Like Linux's sgx_update_lepubkeyhash(): the MSRs hold MRSIGNER. */
static void set_lepubkeyhash(struct fx *fx)
{
	uint8_t mrsigner[32];

	cr_assert_eq(sgx_sign_key_mrsigner(test_key(), mrsigner), 0);
	for (unsigned int i = 0; i < fx->cpu.cfg.nr_lps; i++)
		memcpy(fx->cpu.lps[i].lepubkeyhash, mrsigner, 32);
}

/* fault_aex as fx_resume_faulted() last saw it, reset with the CPU. */
static uint64_t fault_aex_seen;

void fx_init(struct fx *fx, uint64_t epc_pages, unsigned int nr_lps)
{
	struct sgx_cpu_config cfg = {
		.epc_pages = epc_pages,
		.nr_lps = nr_lps,
		.seed = FX_SEED,
		.check_invariants = true,
	};

	memset(fx, 0, sizeof(*fx));
	fault_aex_seen = 0;
	cr_assert_eq(sgx_cpu_init(&fx->cpu, &cfg), 0);
	cr_assert_eq(sgx_pgtable_init(&fx->pt), 0);
	for (unsigned int i = 0; i < nr_lps; i++)
		fx->cpu.lps[i].pgtable = &fx->pt;
	fx->lp = &fx->cpu.lps[0];
	fx->epc_used = calloc(epc_pages, 1);
	cr_assert_not_null(fx->epc_used);
	fx->mr = EVP_MD_CTX_new();
	cr_assert_not_null(fx->mr);
	set_lepubkeyhash(fx);
}

void fx_fini(struct fx *fx)
{
	EVP_MD_CTX_free(fx->mr);
	free(fx->epc_used);
	sgx_pgtable_destroy(&fx->pt);
	sgx_cpu_destroy(&fx->cpu);
	EVP_PKEY_free(fx_key);
	fx_key = NULL;
	memset(fx, 0, sizeof(*fx));
}

uint64_t fx_alloc_epc(struct fx *fx)
{
	for (uint64_t i = 0; i < fx->cpu.cfg.epc_pages; i++) {
		if (!fx->epc_used[i]) {
			fx->epc_used[i] = 1;
			return sgx_epc_addr(&fx->cpu, i);
		}
	}
	cr_assert_fail("fixture EPC exhausted");
	return 0;
}

void fx_free_epc(struct fx *fx, uint64_t epc)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx->cpu, epc, &idx));
	cr_assert(fx->epc_used[idx], "double free of EPC page %#lx",
		  (unsigned long)epc);
	fx->epc_used[idx] = 0;
}

/* One 64-byte record of the fixture's own measurement. */
static void mr_record(struct fx *fx, uint64_t tag, uint64_t offset,
		      const void *tail, size_t tail_len)
{
	uint8_t rec[64] = { 0 };

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &offset, 8);
	if (tail_len)
		memcpy(rec + 16, tail, tail_len);
	cr_assert_eq(EVP_DigestUpdate(fx->mr, rec, sizeof(rec)), 1);
}

static void mr_ecreate(struct fx *fx, const struct sgx_secs *secs)
{
	uint8_t rec[64] = { 0 };
	uint64_t tag = 0x0045544145524345ULL; /* "ECREATE" */

	memcpy(rec, &tag, 8);
	memcpy(rec + 8, &secs->ssa_frame_size, 4);
	memcpy(rec + 12, &secs->size, 8);
	cr_assert_eq(EVP_DigestInit_ex(fx->mr, EVP_sha256(), NULL), 1);
	cr_assert_eq(EVP_DigestUpdate(fx->mr, rec, sizeof(rec)), 1);
}

uint64_t fx_ecreate(struct fx *fx, uint64_t base, uint64_t size)
{
	static struct sgx_secs secs;
	struct sgx_secinfo secinfo = { .flags = SGX_SECINFO_TYPE(PT_SECS) };
	struct sgx_pageinfo pi = {
		.srcpge = (uint64_t)(uintptr_t)&secs,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
	};
	uint64_t epc = fx_alloc_epc(fx);
	int ret;

	memset(&secs, 0, sizeof(secs));
	secs.base = base;
	secs.size = size;
	secs.ssa_frame_size = 1;
	secs.miscselect = fx->miscselect;
	secs.attributes = SGX_ATTR_MODE64BIT;
	secs.xfrm = 3;
	ret = encls_ecreate(fx->lp, &pi, epc);
	cr_assert_eq(ret, 0, "ECREATE: %#x", ret);
	fx->secs = epc;
	fx->base = base;
	fx->size = size;
	fx->attributes = secs.attributes;
	fx->xfrm = secs.xfrm;
	mr_ecreate(fx, &secs);
	return epc;
}

static uint32_t pte_flags(uint64_t secinfo_flags)
{
	uint64_t pt = secinfo_flags & SGX_SECINFO_PAGE_TYPE_MASK;
	uint32_t f = SGX_PTE_PRESENT;

	/* Linux maps a TCS RW: EENTER must be able to read it. */
	if (pt == SGX_SECINFO_TYPE(PT_TCS))
		return f | SGX_PTE_WRITE | SGX_PTE_NX;
	if (secinfo_flags & SGX_SECINFO_W)
		f |= SGX_PTE_WRITE;
	if (!(secinfo_flags & SGX_SECINFO_X))
		f |= SGX_PTE_NX;
	return f;
}

/* EEXTEND every chunk of the page, and the fixture's records for them. */
static void measure_page(struct fx *fx, uint64_t lin, uint64_t epc,
			 const uint8_t *src)
{
	uint64_t tag = 0x00444E4554584545ULL; /* "EEXTEND" */

	for (uint64_t off = 0; off < PAGE_SIZE; off += FX_CHUNK) {
		int ret = encls_eextend(fx->lp, fx->secs, epc + off);

		cr_assert_eq(ret, 0, "EEXTEND: %#x", ret);
		mr_record(fx, tag, lin - fx->base + off, NULL, 0);
		cr_assert_eq(EVP_DigestUpdate(fx->mr, src + off, FX_CHUNK), 1);
	}
}

uint64_t fx_eadd(struct fx *fx, uint64_t lin, uint64_t secinfo_flags,
		 const void *src, bool measure)
{
	static uint8_t page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	struct sgx_secinfo secinfo = { .flags = secinfo_flags };
	struct sgx_pageinfo pi = {
		.linaddr = lin,
		.srcpge = (uint64_t)(uintptr_t)page,
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
		.secs = fx->secs,
	};
	uint64_t epc = fx_alloc_epc(fx);
	uint64_t tag = 0x0000000044444145ULL; /* "EADD" */
	int ret;

	if (src)
		memcpy(page, src, PAGE_SIZE);
	else
		memset(page, 0, PAGE_SIZE);
	ret = encls_eadd(fx->lp, &pi, epc);
	cr_assert_eq(ret, 0, "EADD at %#lx: %#x", (unsigned long)lin, ret);
	/* The SDM measures a TCS's SECINFO with its rights forced to 0. */
	if ((secinfo_flags & SGX_SECINFO_PAGE_TYPE_MASK) ==
	    SGX_SECINFO_TYPE(PT_TCS))
		secinfo.flags &= ~SGX_SECINFO_PERMISSION_MASK;
	mr_record(fx, tag, lin - fx->base, &secinfo, 48);
	if (measure)
		measure_page(fx, lin, epc, page);
	cr_assert_eq(sgx_pgtable_map(&fx->pt, lin, epc,
				     pte_flags(secinfo_flags)), 0);
	return epc;
}

void fx_expected_mrenclave(const struct fx *fx, uint8_t out[32])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned int len = 0;

	cr_assert_not_null(copy);
	cr_assert_eq(EVP_MD_CTX_copy_ex(copy, fx->mr), 1);
	cr_assert_eq(EVP_DigestFinal_ex(copy, out, &len), 1);
	cr_assert_eq(len, 32);
	EVP_MD_CTX_free(copy);
}

void fx_sign(struct sgx_sigstruct *sig, const uint8_t mrenclave[32],
	     uint64_t attributes, uint64_t xfrm)
{
	cr_assert_eq(sgx_sign_sigstruct(sig, test_key(), mrenclave,
					attributes, xfrm), 0);
}

void fx_resign(struct sgx_sigstruct *sig)
{
	cr_assert_eq(sgx_sign_finish(sig, test_key()), 0);
}

void fx_einit(struct fx *fx)
{
	static struct sgx_sigstruct sig __attribute__((aligned(PAGE_SIZE)));
	static const struct sgx_einittoken token;
	uint8_t mrenclave[32];
	int ret;

	fx_expected_mrenclave(fx, mrenclave);
	fx_sign(&sig, mrenclave, fx->attributes, fx->xfrm);
	ret = encls_einit(fx->lp, &sig, fx->secs, &token);
	cr_assert_eq(ret, 0, "EINIT: %#x", ret);
}

static uint64_t round_pow2(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* A TCS for one thread: OSSA at the next page, NSSA frames, OENTRY. */
static void add_thread(struct fx *fx, uint64_t tcs_off)
{
	static struct sgx_tcs tcs;
	const uint64_t rw = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
			    SGX_SECINFO_W;

	memset(&tcs, 0, sizeof(tcs));
	tcs.ssa_offset = tcs_off + PAGE_SIZE;
	tcs.nr_ssa_frames = FX_NSSA;
	tcs.entry_offset = FX_DATA_OFF;
	tcs.fs_limit = 0xFFFFFFFF;
	tcs.gs_limit = 0xFFFFFFFF;
	fx_eadd(fx, fx->base + tcs_off, SGX_SECINFO_TYPE(PT_TCS), &tcs, true);
	for (unsigned int i = 0; i < FX_NSSA; i++)
		fx_eadd(fx, fx->base + tcs.ssa_offset + i * PAGE_SIZE, rw,
			NULL, true);
}

void fx_build_uninit(struct fx *fx, unsigned int nr_data_pages)
{
	const uint64_t rw = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
			    SGX_SECINFO_W;
	unsigned int nr_lps = fx->cpu.cfg.nr_lps;
	uint64_t need = FX_DATA_OFF + (uint64_t)nr_data_pages * PAGE_SIZE +
			(nr_lps - 1) * FX_THREAD_SPAN;
	uint64_t size = round_pow2(2 * need);

	if (size < FX_MIN_SIZE)
		size = FX_MIN_SIZE;
	fx_ecreate(fx, FX_BASE, size);
	add_thread(fx, FX_TCS_OFF);
	fx_eadd(fx, fx->base + FX_SCRATCH_OFF, rw, NULL, true);
	for (unsigned int i = 0; i < nr_data_pages; i++)
		fx_eadd(fx, fx_data(fx, i), rw, NULL, true);
	for (unsigned int i = 1; i < nr_lps; i++)
		add_thread(fx, fx->size - i * FX_THREAD_SPAN);
}

void fx_build(struct fx *fx, unsigned int nr_data_pages)
{
	fx_build_uninit(fx, nr_data_pages);
	fx_einit(fx);
}

uint64_t fx_epc_of(const struct fx *fx, uint64_t lin)
{
	struct sgx_pte *pte = sgx_pgtable_lookup(&fx->pt, lin);

	cr_assert_not_null(pte, "no PTE for %#lx", (unsigned long)lin);
	return pte->frame;
}

const struct epcm_entry *fx_epcm_of(const struct fx *fx, uint64_t lin)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx->cpu, fx_epc_of(fx, lin), &idx));
	return sgx_epcm(&fx->cpu, idx);
}

void fx_enter(struct fx *fx, struct sgx_lp *lp)
{
	int ret = enclu_eenter(lp, fx_tcs_of(fx, lp), FX_AEP);

	cr_assert_eq(ret, 0, "EENTER on LP %u: %#x", lp->id, ret);
	cr_assert(lp->enclave_mode);
}

void fx_exit(struct fx *fx, struct sgx_lp *lp)
{
	int ret = enclu_eexit(lp, FX_AEP);

	cr_assert_eq(ret, 0, "EEXIT on LP %u: %#x", lp->id, ret);
	cr_assert(!lp->enclave_mode);
}

void fx_aex(struct fx *fx, struct sgx_lp *lp)
{
	cr_assert(lp->enclave_mode, "AEX of LP %u outside the enclave",
		  lp->id);
	sgx_aex(lp, NULL);
	cr_assert(!lp->enclave_mode);
}

uint64_t fx_eaug(struct fx *fx, uint64_t lin)
{
	struct sgx_pageinfo pi = { .linaddr = lin, .secs = fx->secs };
	uint64_t epc = fx_alloc_epc(fx);
	int ret = encls_eaug(fx->lp, &pi, epc);

	cr_assert_eq(ret, 0, "EAUG at %#lx: %#x", (unsigned long)lin, ret);
	cr_assert_eq(sgx_pgtable_map(&fx->pt, lin, epc,
				     SGX_PTE_PRESENT | SGX_PTE_WRITE |
					     SGX_PTE_NX), 0);
	return epc;
}

int fx_emodpr(struct fx *fx, uint64_t lin, uint64_t rights)
{
	struct sgx_secinfo secinfo = { .flags = rights };

	return encls_emodpr(fx->lp, &secinfo, fx_epc_of(fx, lin));
}

int fx_emodt(struct fx *fx, uint64_t lin, enum sgx_page_type type)
{
	struct sgx_secinfo secinfo = { .flags = SGX_SECINFO_TYPE(type) };

	return encls_emodt(fx->lp, &secinfo, fx_epc_of(fx, lin));
}

int fx_etrack(struct fx *fx)
{
	return encls_etrack(fx->lp, fx->secs);
}

/* Put a SECINFO on the scratch page, written from inside the enclave. */
static uint64_t scratch_secinfo(struct fx *fx, struct sgx_lp *lp,
				uint64_t flags)
{
	struct sgx_secinfo secinfo = { .flags = flags };
	uint64_t lin = fx->base + FX_SCRATCH_OFF;

	cr_assert(lp->enclave_mode, "LP %u is not inside the enclave",
		  lp->id);
	cr_assert_eq(sgx_lp_write(lp, lin, &secinfo, sizeof(secinfo)), 0);
	return lin;
}

int fx_eaccept(struct fx *fx, struct sgx_lp *lp, uint64_t lin, uint64_t flags)
{
	return enclu_eaccept(lp, scratch_secinfo(fx, lp, flags), lin);
}

int fx_emodpe(struct fx *fx, struct sgx_lp *lp, uint64_t lin, uint64_t flags)
{
	return enclu_emodpe(lp, scratch_secinfo(fx, lp, flags), lin);
}

/* If the fault just checked AEXed lp, ERESUME it (see fixture.h). */
static void fx_resume_faulted(struct sgx_lp *lp)
{
	int ret;

	if (lp->cpu->stats.fault_aex == fault_aex_seen)
		return;
	fault_aex_seen = lp->cpu->stats.fault_aex;
	cr_assert(!lp->enclave_mode, "a fault inside is an AEX");
	cr_assert_eq(lp->regs.rax, ERESUME);
	/* The synthetic state names the TCS (RBX) and the AEP (RCX). */
	ret = enclu_eresume(lp, lp->regs.rbx, lp->regs.rcx);
	cr_assert_eq(ret, 0, "ERESUME after the fault's AEX: %#x", ret);
}

void fx_expect_gp(struct sgx_lp *lp, int ret)
{
	cr_assert_eq(ret, SGX_FAULT_FLAG | X86_TRAP_GP, "got %#x, want #GP",
		     ret);
	cr_assert_eq(lp->exc.vector, X86_TRAP_GP);
	fx_resume_faulted(lp);
}

void fx_expect_pf(struct sgx_lp *lp, int ret, uint64_t addr,
		  uint32_t error_code)
{
	cr_assert_eq(ret, SGX_FAULT_FLAG | X86_TRAP_PF, "got %#x, want #PF",
		     ret);
	cr_assert_eq(lp->exc.vector, X86_TRAP_PF);
	/* After an AEX the OS sees the address with bits 11:0 cleared. */
	if (lp->cpu->stats.fault_aex != fault_aex_seen)
		addr &= PAGE_MASK;
	cr_assert_eq(lp->exc.addr, addr, "#PF at %#lx, want %#lx",
		     (unsigned long)lp->exc.addr, (unsigned long)addr);
	cr_assert_eq(lp->exc.error_code, error_code,
		     "#PF error code %#x, want %#x", lp->exc.error_code,
		     error_code);
	fx_resume_faulted(lp);
}

void fx_snap(const struct fx *fx, uint64_t epc, struct fx_snap *s)
{
	uint64_t idx;

	cr_assert(sgx_epc_index(&fx->cpu, epc, &idx));
	s->epc = epc;
	s->epcm = *sgx_epcm(&fx->cpu, idx);
	memcpy(s->page, (const void *)(uintptr_t)epc, PAGE_SIZE);
}

void fx_expect_same(const struct fx *fx, const struct fx_snap *s)
{
	struct fx_snap now;

	fx_snap(fx, s->epc, &now);
	cr_assert_eq(memcmp(&now.epcm, &s->epcm, sizeof(now.epcm)), 0,
		     "EPCM entry of %#lx changed", (unsigned long)s->epc);
	cr_assert_eq(memcmp(now.page, s->page, PAGE_SIZE), 0,
		     "EPC page %#lx changed", (unsigned long)s->epc);
}
