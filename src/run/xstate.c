// SPDX-License-Identifier: MIT
/*
 * Extended state across AEX and ERESUME (docs/RUNNER.md, "Extended
 * state"). Enclave code runs on the real CPU, so its x87, SSE, AVX and
 * AVX-512 registers are the thread's. When a trap interrupts it, the
 * kernel has saved them in the signal frame (uc_mcontext.fpregs, an XSAVE
 * image in the standard format), and it loads that image again at
 * rt_sigreturn. So:
 *
 * - AEX: the components SECS.ATTRIBUTES.XFRM selects go from the frame
 *   into the XSAVE area of the SSA frame (its first page, sgx_ssa_xsave()),
 *   and the frame gets the synthetic state: those components in their
 *   initial configuration (XSTATE_BV clear; FCW 0x037F and MXCSR 0x1F80 in
 *   the legacy area). Host code at the AEP, and the program's handlers,
 *   may use SSE and AVX freely.
 * - ERESUME: the SSA's components go back into the frame, and the enclave
 *   continues with its own registers. Components outside XFRM keep the
 *   host's values.
 * - EENTER and EEXIT touch no extended state (SDM): the enclave's runtime
 *   initialises and scrubs it.
 *
 * The offsets of the components are the host CPU's (CPUID.(0DH, i)), as an
 * AEX on this CPU would write them.
 */
#include <string.h>

#include "run/runtime.h"

#define FP_XSTATE_MAGIC1 0x46505853U
#define XSAVE_SW_OFFSET 464 /* fx_sw_bytes, in the legacy area's spare */
#define XSAVE_LEGACY_REGS 416 /* FCW .. XMM15 */
#define XSAVE_HEADER_OFFSET 512
#define XSAVE_HEADER_SIZE 64
#define FCW_OFFSET 0
#define MXCSR_OFFSET 24
#define MXCSR_MASK_OFFSET 28
#define FCW_INIT 0x037F
#define MXCSR_INIT 0x1F80
#define XCOMPONENTS 19

static struct {
	uint32_t off, size;
} comp[XCOMPONENTS];

static void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "0"(leaf), "2"(sub));
}

/**
 * run_xstate_setup() - the host's standard XSAVE layout (constructor).
 * Components that would not fit in a frame's first page are left out;
 * ECREATE never accepts them (SGX_XFRM_ARCH).
 */
void run_xstate_setup(void)
{
	uint32_t r[4];

	for (uint32_t i = 2; i < XCOMPONENTS; i++) {
		cpuid_count(0xd, i, r);
		if (r[0] && r[1] && (uint64_t)r[1] + r[0] <= PAGE_SIZE) {
			comp[i].off = r[1];
			comp[i].size = r[0];
		}
	}
}

/* The kernel put a full XSAVE image (header and all) in this frame. */
static bool frame_has_xsave(const uint8_t *fp)
{
	uint32_t magic;

	memcpy(&magic, fp + XSAVE_SW_OFFSET, sizeof(magic));
	return magic == FP_XSTATE_MAGIC1;
}

static uint64_t get_bv(const uint8_t *area)
{
	uint64_t bv;

	memcpy(&bv, area + XSAVE_HEADER_OFFSET, sizeof(bv));
	return bv;
}

static void set_bv(uint8_t *area, uint64_t bv)
{
	memcpy(area + XSAVE_HEADER_OFFSET, &bv, sizeof(bv));
}

static void copy_extended(uint8_t *dst, const uint8_t *src, uint64_t xfrm)
{
	for (unsigned int i = 2; i < XCOMPONENTS; i++)
		if (xfrm & (1ULL << i) && comp[i].size)
			memcpy(dst + comp[i].off, src + comp[i].off,
			       comp[i].size);
}

static uint64_t enclave_xfrm(const struct sgx_lp *lp)
{
	const struct sgx_secs *secs =
		(const struct sgx_secs *)(run.cpu.epc +
					  (uint64_t)lp->active_secs * PAGE_SIZE);

	return secs->xfrm;
}

/**
 * run_xstate_aex() - before the AEX of @lp (in enclave mode): the
 * enclave's extended state from @uc into the SSA, and the synthetic state
 * into @uc.
 */
void run_xstate_aex(const struct sgx_lp *lp, ucontext_t *uc)
{
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	uint8_t *ssa = sgx_ssa_xsave(lp);
	uint64_t xfrm = enclave_xfrm(lp);
	uint16_t fcw = FCW_INIT;
	uint32_t mxcsr = MXCSR_INIT;

	if (!fp || !ssa)
		return;
	memcpy(ssa, fp, XSAVE_LEGACY_REGS);
	memset(ssa + XSAVE_HEADER_OFFSET, 0, XSAVE_HEADER_SIZE);
	if (frame_has_xsave(fp)) {
		set_bv(ssa, get_bv(fp) & xfrm);
		copy_extended(ssa, fp, xfrm);
		set_bv(fp, get_bv(fp) & ~xfrm);
	} else {
		set_bv(ssa, xfrm & 0x3);
	}
	/* The synthetic x87 and SSE state, whatever XSTATE_BV says. */
	memset(fp, 0, XSAVE_LEGACY_REGS);
	memcpy(fp + FCW_OFFSET, &fcw, sizeof(fcw));
	memcpy(fp + MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
	memcpy(fp + MXCSR_MASK_OFFSET, ssa + MXCSR_MASK_OFFSET, 4);
}

/**
 * run_xstate_resume() - after ERESUME of @lp: the SSA's extended state
 * into @uc, which sigreturn loads into the registers.
 */
void run_xstate_resume(const struct sgx_lp *lp, ucontext_t *uc)
{
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	const uint8_t *ssa = sgx_ssa_xsave(lp);
	uint64_t xfrm = enclave_xfrm(lp);

	if (!fp || !ssa)
		return;
	/* MXCSR_MASK is the CPU's, not the enclave's. */
	memcpy(fp, ssa, MXCSR_MASK_OFFSET);
	memcpy(fp + MXCSR_MASK_OFFSET + 4, ssa + MXCSR_MASK_OFFSET + 4,
	       XSAVE_LEGACY_REGS - MXCSR_MASK_OFFSET - 4);
	if (!frame_has_xsave(fp))
		return;
	set_bv(fp, (get_bv(fp) & ~xfrm) | (get_bv(ssa) & xfrm));
	copy_extended(fp, ssa, xfrm);
}
