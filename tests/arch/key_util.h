/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for EREPORT and EGETKEY: a second enclave next to the
 * fixture's (same signer, other contents, so another MRENCLAVE), host views
 * of enclave memory, and TARGETINFO built from a SECS.
 *
 * Layout of the second enclave, at FX_BASE2 (1 MiB):
 *   +0x0000 TCS (OSSA = 0x1000, NSSA = 2, OENTRY = 0x4000)
 *   +0x1000, +0x2000 SSA frames; +0x3000 scratch; +0x4000 one code page.
 */
#ifndef SGXEMU_TESTS_KEY_UTIL_H
#define SGXEMU_TESTS_KEY_UTIL_H

#include <criterion/criterion.h>
#include <string.h>

#include "arch/internal.h"
#include "fixture.h"

#define FX_BASE2 0x80000000ULL
#define FX_SIZE2 0x100000ULL

/* Where the tests put their ENCLU operands, on the scratch page. */
#define OP_TARGETINFO 0x000
#define OP_REPORTDATA 0x200
#define OP_REPORT 0x400
#define OP_KEYREQUEST 0x800
#define OP_KEY 0xA00

struct enclave2 {
	uint64_t base, secs, tcs;
};

static inline uint64_t scratch_of(uint64_t base)
{
	return base + FX_SCRATCH_OFF;
}

/* The host bytes behind an enclave linear address. */
static inline void *host_of(const struct fx *fx, uint64_t lin)
{
	return (void *)(uintptr_t)(fx_epc_of(fx, lin) + (lin & 0xFFF));
}

static inline struct sgx_secs *secs_of(uint64_t secs_epc)
{
	return (struct sgx_secs *)(uintptr_t)secs_epc;
}

/*
 * Build and EINIT the second enclave; fill marks its code page, so the
 * MRENCLAVE differs from the fixture's. The fixture then points back at
 * its own enclave.
 */
static inline void build_enclave2(struct fx *fx, struct enclave2 *b,
				  uint8_t fill)
{
	static struct sgx_tcs t;
	static uint8_t code[4096];
	const uint64_t rw = SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_R |
			    SGX_SECINFO_W;
	uint64_t base = fx->base, size = fx->size, secs = fx->secs;

	memset(&t, 0, sizeof(t));
	t.ssa_offset = FX_SSA_OFF;
	t.nr_ssa_frames = FX_NSSA;
	t.entry_offset = FX_DATA_OFF;
	memset(code, fill, sizeof(code));
	b->secs = fx_ecreate(fx, FX_BASE2, FX_SIZE2);
	b->base = FX_BASE2;
	b->tcs = FX_BASE2 + FX_TCS_OFF;
	fx_eadd(fx, b->tcs, SGX_SECINFO_TYPE(PT_TCS), &t, true);
	for (unsigned int i = 0; i < FX_NSSA; i++)
		fx_eadd(fx, FX_BASE2 + FX_SSA_OFF + i * PAGE_SIZE, rw, NULL,
			true);
	fx_eadd(fx, scratch_of(FX_BASE2), rw, NULL, true);
	fx_eadd(fx, FX_BASE2 + FX_DATA_OFF, rw, code, true);
	fx_einit(fx);
	fx->base = base;
	fx->size = size;
	fx->secs = secs;
}

/* The TARGETINFO naming the enclave of this SECS. */
static inline void targetinfo_of(const struct sgx_secs *s,
				 struct sgx_targetinfo *ti)
{
	memset(ti, 0, sizeof(*ti));
	memcpy(ti->measurement, s->mrenclave, sizeof(ti->measurement));
	ti->attributes = s->attributes;
	ti->xfrm = s->xfrm;
	ti->miscselect = s->miscselect;
	ti->config_svn = s->config_svn;
	memcpy(ti->config_id, s->config_id, sizeof(ti->config_id));
}

#endif
