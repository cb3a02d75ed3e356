/* SPDX-License-Identifier: MIT */
/*
 * State shared by enclave entry (EENTER/ERESUME), EEXIT and AEX: the TCS
 * fields the hardware keeps hidden while a thread is inside, the exit path
 * common to EEXIT and AEX, and small helpers those leaves and EREPORT and
 * EGETKEY use (RFLAGS bits, canonical addresses, the ENCLU #PF).
 */
#ifndef SGXEMU_ARCH_ENTRY_H
#define SGXEMU_ARCH_ENTRY_H

#include "arch/internal.h"

/* TCS.STATE values. MODEL: the state lives in the TCS page's STATE field. */
#define TCS_STATE_INACTIVE 0
#define TCS_STATE_ACTIVE 1

/*
 * CREGs the SDM keeps per LP while it is inside (CR_GPR_PA, CR_SAVE_FS,
 * CR_SAVE_GS) but struct sgx_lp has no room for.
 * MODEL: they live in the TCS page's reserved area, like the hidden SECS
 * state in internal.h. A TCS is bound to exactly one LP while ACTIVE, and
 * the area is cleared again at exit, so EADD/EACCEPT still see zeros.
 */
#define TCS_HIDDEN_OFFSET 2048

struct tcs_hidden {
	uint64_t gpr_epc; /* CR_GPR_PA: EPC index of the GPRSGX page + 1 */
	uint64_t xsave_epc; /* the frame's first page (its XSAVE area) + 1 */
	uint64_t save_fsbase; /* CR_SAVE_FS: outside FS base */
	uint64_t save_gsbase; /* CR_SAVE_GS: outside GS base */
};
_Static_assert(TCS_HIDDEN_OFFSET >= offsetof(struct sgx_tcs, reserved) &&
		       TCS_HIDDEN_OFFSET + sizeof(struct tcs_hidden) <= 4096,
	       "hidden TCS state must sit inside the TCS reserved area");

static inline struct sgx_tcs *tcs_at(const struct sgx_cpu *cpu, uint64_t idx)
{
	return epc_page_at(cpu, idx);
}

static inline struct tcs_hidden *tcs_hidden_at(const struct sgx_cpu *cpu,
					       uint64_t idx)
{
	return (struct tcs_hidden *)((uint8_t *)epc_page_at(cpu, idx) +
				     TCS_HIDDEN_OFFSET);
}

/* RFLAGS bits (SDM Vol. 1 3.4.3). */
#define X86_EFLAGS_CF 0x000001ULL
#define X86_EFLAGS_PF 0x000004ULL
#define X86_EFLAGS_AF 0x000010ULL
#define X86_EFLAGS_ZF 0x000040ULL
#define X86_EFLAGS_SF 0x000080ULL
#define X86_EFLAGS_TF 0x000100ULL
#define X86_EFLAGS_DF 0x000400ULL
#define X86_EFLAGS_OF 0x000800ULL
#define X86_EFLAGS_NT 0x004000ULL
#define X86_EFLAGS_RF 0x010000ULL
#define X86_EFLAGS_VM 0x020000ULL
#define X86_EFLAGS_AC 0x040000ULL
#define X86_EFLAGS_ID 0x200000ULL

/* 48-bit canonical: bits 63:47 are copies of bit 47. */
static inline bool is_canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* Linear address of the GPRSGX area: the last 184 bytes of the frame. */
static inline uint64_t ssa_gpr_lin(const struct sgx_secs *secs, uint64_t frame)
{
	return frame + (uint64_t)secs->ssa_frame_size * PAGE_SIZE -
	       sizeof(struct sgx_gprsgx);
}

/*
 * True while the LP's TCS page still belongs to the running enclave at the
 * address it was entered through: always, for an LP in enclave mode, since
 * the TCS cannot be removed or evicted before that LP exits.
 */
static inline bool tcs_bound(const struct sgx_lp *lp)
{
	const struct epcm_entry *e = epcm_at(lp->cpu, lp->tcs);

	return e->valid && e->enclave_secs == lp->active_secs &&
	       e->enclave_address == lp->tcs_lin;
}

/*
 * lp_exit_enclave() - the exit steps EEXIT and AEX share: restore the
 * outside FS/GS bases, mark the TCS INACTIVE, leave the
 * tracking set and enclave mode, and flush the TLB (enclu_eexit.c).
 */
void lp_exit_enclave(struct sgx_lp *lp);

#endif
