// SPDX-License-Identifier: MIT
#include "tools/bare.h"

#include <errno.h>
#include <string.h>

#include "sign/sign.h"

int bare_init(struct bare *b, const struct sgx_cpu_config *cfg)
{
	int ret;

	memset(b, 0, sizeof(*b));
	ret = sgx_cpu_init(&b->cpu, cfg);
	if (ret)
		return ret;
	if (sgx_pgtable_init(&b->pt)) {
		sgx_cpu_destroy(&b->cpu);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < cfg->nr_lps; i++)
		b->cpu.lps[i].pgtable = &b->pt;
	return 0;
}

void bare_destroy(struct bare *b)
{
	if (b->hash.ctx)
		EVP_MD_CTX_free(b->hash.ctx);
	sgx_pgtable_destroy(&b->pt);
	sgx_cpu_destroy(&b->cpu);
}

uint64_t bare_alloc_epc(struct bare *b)
{
	if (b->next_epc >= b->cpu.cfg.epc_pages)
		return 0;
	return sgx_epc_addr(&b->cpu, b->next_epc++);
}

uint64_t bare_epc(const struct bare *b, uint64_t off)
{
	const struct sgx_pte *pte = sgx_pgtable_lookup(&b->pt, b->base + off);

	return pte ? pte->frame : 0;
}

int bare_ecreate(struct bare *b, uint64_t base, uint64_t size)
{
	static struct sgx_secs secs;
	struct sgx_secinfo secinfo = { .flags = SGX_SECINFO_TYPE(PT_SECS) };
	struct sgx_pageinfo pi = { .srcpge = (uint64_t)(uintptr_t)&secs,
				   .secinfo = (uint64_t)(uintptr_t)&secinfo };

	secs = (struct sgx_secs){ .size = size, .base = base,
				  .ssa_frame_size = 1,
				  .attributes = SGX_ATTR_MODE64BIT, .xfrm = 3 };
	b->base = base;
	b->size = size;
	b->secs = bare_alloc_epc(b);
	if (!b->secs || sgx_enclave_hash_start(&b->hash, 1, size))
		return -1;
	return encls_ecreate(&b->cpu.lps[0], &pi, b->secs);
}

static int eextend_page(struct bare *b, uint64_t off, uint64_t epc,
			const uint8_t *bytes)
{
	for (unsigned int c = 0; c < PAGE_SIZE; c += 256) {
		int ret = encls_eextend(&b->cpu.lps[0], b->secs, epc + c);

		if (ret)
			return ret;
		if (sgx_enclave_hash_eextend(&b->hash, off + c, bytes + c))
			return -1;
	}
	return 0;
}

int bare_eadd(struct bare *b, uint64_t off, uint64_t secinfo_flags,
	      const void *src, bool measure, int *eextend)
{
	static const uint8_t zero[PAGE_SIZE] __attribute__((aligned(4096)));
	struct sgx_secinfo secinfo = { .flags = secinfo_flags };
	struct sgx_pageinfo pi = {
		.linaddr = b->base + off,
		.srcpge = (uint64_t)(uintptr_t)(src ? src : zero),
		.secinfo = (uint64_t)(uintptr_t)&secinfo,
		.secs = b->secs,
	};
	uint64_t epc = bare_alloc_epc(b);
	uint32_t pte = SGX_PTE_PRESENT | SGX_PTE_WRITE;
	int ret;

	*eextend = 0;
	if (!epc)
		return -1;
	ret = encls_eadd(&b->cpu.lps[0], &pi, epc);
	if (ret)
		return ret;
	if (sgx_enclave_hash_eadd(&b->hash, off, secinfo_flags))
		return -1;
	if (measure)
		*eextend = eextend_page(b, off, epc, (const uint8_t *)pi.srcpge);
	if (!(secinfo_flags & SGX_SECINFO_X))
		pte |= SGX_PTE_NX;
	return sgx_pgtable_map(&b->pt, b->base + off, epc, pte) ? -1 : 0;
}

int bare_einit(struct bare *b)
{
	/* EINIT wants the SIGSTRUCT page aligned, the token 512-aligned. */
	static struct sgx_sigstruct sig __attribute__((aligned(4096)));
	static struct sgx_einittoken token;
	uint8_t mrenclave[32], mrsigner[32];
	EVP_PKEY *key = sgx_sign_generate_key();
	int ret = -1;

	if (!key)
		return -1;
	if (sgx_sign_key_mrsigner(key, mrsigner) ||
	    sgx_enclave_hash_finish(&b->hash, mrenclave) ||
	    sgx_sign_sigstruct(&sig, key, mrenclave, SGX_ATTR_MODE64BIT, 3))
		goto out;
	/* What Linux's sgx_update_lepubkeyhash() does before EINIT. */
	for (unsigned int i = 0; i < b->cpu.cfg.nr_lps; i++)
		memcpy(b->cpu.lps[i].lepubkeyhash, mrsigner, sizeof(mrsigner));
	ret = encls_einit(&b->cpu.lps[0], &sig, b->secs, &token);
out:
	EVP_PKEY_free(key);
	return ret;
}
