/* SPDX-License-Identifier: MIT */
/*
 * Shared by the paging leaves (EBLOCK, EWB, ELDB/ELDU, EREMOVE) and seal.c:
 * which page types belong to an enclave, and the MAC header that binds a
 * sealed page to its enclave, address and EPCM state.
 */
#ifndef SGXEMU_ARCH_PAGING_H
#define SGXEMU_ARCH_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/sdm.h"

/*
 * The page types that have an owning SECS (a "child" page): those EBLOCK can
 * block and EWB requires to be blocked and tracked.
 * MODEL: the SDM makes SS_FIRST/SS_REST children only with CET; treating
 * them as children always is harmless, since no leaf creates them otherwise.
 */
static inline bool pt_is_child(uint8_t pt)
{
	return pt == PT_REG || pt == PT_TCS || pt == PT_TRIM ||
	       pt == PT_SS_FIRST || pt == PT_SS_REST;
}

/*
 * The SDM's 128-byte MAC_HEADER, the additional authenticated data of
 * EWB/ELDU. SECINFO and the PCMD reserved bytes are taken whole, as ELDU
 * copies them from the PCMD, so a flipped bit anywhere in them fails the
 * MAC. EID is 0 for SECS and VA pages, which have no owner to bind to.
 */
struct sgx_mac_header {
	uint64_t eid;
	uint64_t secinfo_flags;
	uint8_t secinfo_reserved[56];
	uint8_t pcmd_reserved[40];
	uint64_t linaddr;
	uint8_t reserved[8];
};
_Static_assert(sizeof(struct sgx_mac_header) == 128, "MAC header size");

/* The MAC header for a page described by pcmd, at linaddr, bound to eid. */
void sgx_mac_header_init(struct sgx_mac_header *hdr, uint64_t eid,
			 const struct sgx_pcmd *pcmd, uint64_t linaddr);

#endif
