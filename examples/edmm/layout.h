/* SPDX-License-Identifier: MIT */
/*
 * What the example's host and enclave agree on: the enclave's operations
 * and where, relative to its TCS, the host puts the SSA frames and stacks.
 * Included by C and by the enclave's assembly, so only macros.
 *
 * The enclave's address range, from its base:
 *
 *   0                the ELF image (encl.lds: text R X, then data R W)
 *   image end        the TCS
 *   TCS + 1 page     ENCL_NSSA SSA frames of one page each
 *   then             one stack of ENCL_STACK_PAGES per SSA frame: an entry
 *                    made while frame c is the current one (CSSA = c, in
 *                    RAX after EENTER) runs on stack c, so entering again
 *                    after an AEX does not overwrite the interrupted stack
 *   then             the heap: unbacked until the enclave EACCEPTs it
 */
#ifndef EDMM_LAYOUT_H
#define EDMM_LAYOUT_H

#define ENCL_PAGE 4096
#define ENCL_NSSA 2
#define ENCL_STACK_PAGES 4
#define ENCL_TCS_TO_SSA ENCL_PAGE
#define ENCL_TCS_TO_STACKS (ENCL_TCS_TO_SSA + ENCL_NSSA * ENCL_PAGE)
#define ENCL_STACK_BYTES (ENCL_STACK_PAGES * ENCL_PAGE)
#define ENCL_TCS_TO_HEAP (ENCL_TCS_TO_STACKS + ENCL_NSSA * ENCL_STACK_BYTES)

/*
 * Operations: RDI = the operation, RSI = the first page's address, RDX = a
 * number of pages. At EEXIT, RDI = the number of pages the operation
 * succeeded on and RSI = the first ENCLU error code met (0 if none).
 */
#define OP_ACCEPT_PENDING 1 /* EACCEPT as R W REG PENDING: EAUG'd pages */
#define OP_ACCEPT_RESTRICTED 2 /* EACCEPT as R REG PR: after EMODPR to R */
#define OP_ACCEPT_TRIM 3 /* EACCEPT as TRIM MODIFIED: after EMODT */
#define OP_EXTEND_RW 4 /* EMODPE to R W */
#define OP_WRITE 5 /* write each page's pattern */
#define OP_CHECK 6 /* count pages that hold their pattern */

#endif
