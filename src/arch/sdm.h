/* SPDX-License-Identifier: MIT */
/*
 * Architectural constants and structures of Intel SGX, as the SDM Vol. 3D
 * (chapters 34-38 of recent editions) defines them: leaf numbers, page types,
 * SECINFO/PAGEINFO/PCMD, SECS, TCS, the SSA GPR area, SIGSTRUCT, EINITTOKEN,
 * REPORT, TARGETINFO and KEYREQUEST. Sizes and offsets are pinned with
 * _Static_assert. See ../shared/reference/sgx-architecture.md section 1.
 */
#ifndef SGXEMU_ARCH_SDM_H
#define SGXEMU_ARCH_SDM_H

#include <stddef.h>
#include <stdint.h>

#include "base/bits.h"

/* ENCLS leaves (EAX). */
enum sgx_encls_leaf {
	ECREATE = 0x00,
	EADD = 0x01,
	EINIT = 0x02,
	EREMOVE = 0x03,
	EDBGRD = 0x04,
	EDBGWR = 0x05,
	EEXTEND = 0x06,
	ELDB = 0x07,
	ELDU = 0x08,
	EBLOCK = 0x09,
	EPA = 0x0A,
	EWB = 0x0B,
	ETRACK = 0x0C,
	EAUG = 0x0D,
	EMODPR = 0x0E,
	EMODT = 0x0F,
	SGX_ENCLS_NR_LEAVES = 0x10,
};

/* ENCLU leaves (EAX). */
enum sgx_enclu_leaf {
	EREPORT = 0x00,
	EGETKEY = 0x01,
	EENTER = 0x02,
	ERESUME = 0x03,
	EEXIT = 0x04,
	EACCEPT = 0x05,
	EMODPE = 0x06,
	EACCEPTCOPY = 0x07,
	SGX_ENCLU_NR_LEAVES = 0x08,
};

/* EPCM.PT values. */
enum sgx_page_type {
	PT_SECS = 0,
	PT_TCS = 1,
	PT_REG = 2,
	PT_VA = 3,
	PT_TRIM = 4,
	PT_SS_FIRST = 5,
	PT_SS_REST = 6,
};

/* Return codes in EAX (sgx-architecture.md section 1.4). */
enum sgx_return_code {
	SGX_SUCCESS = 0,
	SGX_INVALID_SIG_STRUCT = 1,
	SGX_INVALID_ATTRIBUTE = 2,
	SGX_BLKSTATE = 3,
	SGX_INVALID_MEASUREMENT = 4,
	SGX_NOTBLOCKABLE = 5,
	SGX_PG_INVLD = 6,
	SGX_EPC_PAGE_CONFLICT = 7,
	SGX_INVALID_SIGNATURE = 8,
	SGX_MAC_COMPARE_FAIL = 9,
	SGX_PAGE_NOT_BLOCKED = 10,
	SGX_NOT_TRACKED = 11,
	SGX_VA_SLOT_OCCUPIED = 12,
	SGX_CHILD_PRESENT = 13,
	SGX_ENCLAVE_ACT = 14,
	SGX_ENTRYEPOCH_LOCKED = 15,
	SGX_INVALID_EINITTOKEN = 16,
	SGX_PREV_TRK_INCMPL = 17,
	SGX_PG_IS_SECS = 18,
	SGX_PAGE_ATTRIBUTES_MISMATCH = 19,
	SGX_PAGE_NOT_MODIFIABLE = 20,
	SGX_PAGE_NOT_DEBUGGABLE = 21,
	SGX_INVALID_CPUSVN = 32,
	SGX_INVALID_ISVSVN = 64,
	SGX_UNMASKED_EVENT = 128,
	SGX_INVALID_KEYNAME = 256,
};

/*
 * Leaf results use the Linux ENCLS encoding: 0, a positive SGX code, or
 * SGX_FAULT_FLAG | trap number. The #PF details are left in the LP.
 */
#define SGX_FAULT_FLAG 0x40000000
#define X86_TRAP_UD 6
#define X86_TRAP_GP 13
#define X86_TRAP_PF 14

/* #PF error code bits (SDM Vol. 3A 4.7; bit 15 is SGX, Table 38-13). */
#define X86_PF_PROT 0x1
#define X86_PF_WRITE 0x2
#define X86_PF_USER 0x4
#define X86_PF_INSTR 0x10
#define X86_PF_SGX 0x8000

/* SECINFO.FLAGS. */
#define SGX_SECINFO_R 0x01ULL
#define SGX_SECINFO_W 0x02ULL
#define SGX_SECINFO_X 0x04ULL
#define SGX_SECINFO_PENDING 0x08ULL
#define SGX_SECINFO_MODIFIED 0x10ULL
#define SGX_SECINFO_PR 0x20ULL
#define SGX_SECINFO_PERMISSION_MASK 0x07ULL
#define SGX_SECINFO_STATE_MASK 0x38ULL
#define SGX_SECINFO_PAGE_TYPE_SHIFT 8
#define SGX_SECINFO_PAGE_TYPE_MASK 0xFF00ULL
#define SGX_SECINFO_FLAGS_RESERVED_MASK                                   \
	(~(SGX_SECINFO_PERMISSION_MASK | SGX_SECINFO_STATE_MASK |         \
	   SGX_SECINFO_PAGE_TYPE_MASK))
#define SGX_SECINFO_TYPE(pt) ((uint64_t)(pt) << SGX_SECINFO_PAGE_TYPE_SHIFT)

struct sgx_secinfo {
	uint64_t flags;
	uint8_t reserved[56];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct sgx_secinfo) == 64, "SECINFO is 64 bytes");

struct sgx_pageinfo {
	uint64_t linaddr;
	uint64_t srcpge;
	uint64_t secinfo; /* or PCMD for EWB/ELDx */
	uint64_t secs;
} __attribute__((aligned(32)));
_Static_assert(sizeof(struct sgx_pageinfo) == 32, "PAGEINFO is 32 bytes");

struct sgx_pcmd {
	struct sgx_secinfo secinfo;
	uint64_t enclave_id;
	uint8_t reserved[40];
	uint8_t mac[16];
} __attribute__((aligned(128)));
_Static_assert(sizeof(struct sgx_pcmd) == 128, "PCMD is 128 bytes");
_Static_assert(offsetof(struct sgx_pcmd, mac) == 112, "PCMD.MAC at 112");

/* SECS.ATTRIBUTES.FLAGS bits. */
#define SGX_ATTR_INIT BIT(0)
#define SGX_ATTR_DEBUG BIT(1)
#define SGX_ATTR_MODE64BIT BIT(2)
#define SGX_ATTR_PROVISIONKEY BIT(4)
#define SGX_ATTR_EINITTOKENKEY BIT(5)
#define SGX_ATTR_CET BIT(6)
#define SGX_ATTR_KSS BIT(7)
#define SGX_ATTR_AEXNOTIFY BIT(10)
#define SGX_ATTR_RESERVED_MASK                                            \
	(~(SGX_ATTR_INIT | SGX_ATTR_DEBUG | SGX_ATTR_MODE64BIT |          \
	   SGX_ATTR_PROVISIONKEY | SGX_ATTR_EINITTOKENKEY | SGX_ATTR_KSS |  \
	   SGX_ATTR_AEXNOTIFY))

/* MISCSELECT bit 0: EXINFO in the SSA MISC region. */
#define SGX_MISC_EXINFO 0x1U

#define SGX_SECS_RESERVED4_SIZE 3834
struct sgx_secs {
	uint64_t size;
	uint64_t base;
	uint32_t ssa_frame_size;
	uint32_t miscselect;
	uint8_t reserved1[24];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t mrenclave[32];
	uint8_t reserved2[32];
	uint8_t mrsigner[32];
	uint8_t reserved3[32];
	uint8_t config_id[64];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint16_t config_svn;
	uint8_t reserved4[SGX_SECS_RESERVED4_SIZE];
} __attribute__((packed, aligned(4096)));
_Static_assert(sizeof(struct sgx_secs) == 4096, "SECS is one page");
_Static_assert(offsetof(struct sgx_secs, attributes) == 48, "SECS layout");
_Static_assert(offsetof(struct sgx_secs, mrenclave) == 64, "SECS layout");
_Static_assert(offsetof(struct sgx_secs, mrsigner) == 128, "SECS layout");
_Static_assert(offsetof(struct sgx_secs, isv_prod_id) == 256, "SECS layout");
_Static_assert(offsetof(struct sgx_secs, reserved4) == 262, "SECS layout");

/* TCS.FLAGS bit 0 is DBGOPTIN; everything else is reserved. */
#define SGX_TCS_DBGOPTIN 0x1ULL
#define SGX_TCS_RESERVED_SIZE 4024
struct sgx_tcs {
	uint64_t state;
	uint64_t flags;
	uint64_t ssa_offset;
	uint32_t ssa_index; /* CSSA */
	uint32_t nr_ssa_frames; /* NSSA */
	uint64_t entry_offset; /* OENTRY */
	uint64_t exit_addr; /* AEP */
	uint64_t fs_offset;
	uint64_t gs_offset;
	uint32_t fs_limit;
	uint32_t gs_limit;
	uint8_t reserved[SGX_TCS_RESERVED_SIZE];
} __attribute__((packed, aligned(4096)));
_Static_assert(sizeof(struct sgx_tcs) == 4096, "TCS is one page");
_Static_assert(offsetof(struct sgx_tcs, fs_limit) == 64, "TCS layout");

/* The GPRSGX area at the end of each SSA frame (SDM Table 38-9). */
struct sgx_gprsgx {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags;
	uint64_t rip;
	uint64_t ursp;
	uint64_t urbp;
	uint32_t exitinfo;
	uint32_t reserved;
	uint64_t fsbase;
	uint64_t gsbase;
};
_Static_assert(sizeof(struct sgx_gprsgx) == 184, "GPRSGX is 184 bytes");

/*
 * The XSAVE state components the model can hold in an SSA frame: x87, SSE,
 * AVX, MPX (BNDREGS, BNDCSR), AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM) and
 * PKRU. MODEL: AMX (bits 17-18) is left out: its 8 KiB tile data would not
 * fit in a frame's first page, which the model assumes (enclu_eenter.c).
 */
#define SGX_XFRM_ARCH 0x2ffULL

/*
 * CPUID.(12H,0):EDX[15:8], MaxEnclaveSize_64: ECREATE takes SIZE below
 * 2^47, so ELRANGE may be up to 2^46 bytes (64 TiB). MODEL: with 48-bit
 * linear addresses no larger range is both canonical and naturally aligned
 * in user space; the driver model's memory follows the pages added, not
 * ELRANGE, so nothing is gained by reporting less (clients report 2^36).
 */
#define SGX_MAX_ENCLAVE_SIZE_64_LOG2 47U

/* EXITINFO: vector in 7:0, exit type in 10:8, VALID in 31. */
#define SGX_EXITINFO_VALID 0x80000000U
#define SGX_EXITINFO_TYPE_HW 3U

/* The EXINFO part of SSA.MISC, just below GPRSGX. */
struct sgx_exinfo {
	uint64_t maddr;
	uint32_t errcd;
	uint32_t reserved;
};
_Static_assert(sizeof(struct sgx_exinfo) == 16, "EXINFO is 16 bytes");

/*
 * SIGSTRUCT, 1808 bytes, in the field grouping Linux uses: a 128-byte
 * header, the modulus/exponent/signature, a 128-byte body, then Q1/Q2. The
 * signed message is header || body.
 */
struct sgx_sigstruct_header {
	uint64_t header1[2];
	uint32_t vendor;
	uint32_t date;
	uint64_t header2[2];
	uint32_t swdefined;
	uint8_t reserved1[84];
} __attribute__((packed));
_Static_assert(sizeof(struct sgx_sigstruct_header) == 128, "SIGSTRUCT hdr");

struct sgx_sigstruct_body {
	uint32_t miscselect;
	uint32_t misc_mask;
	uint8_t reserved2[20];
	uint64_t attributes;
	uint64_t xfrm;
	uint64_t attributes_mask;
	uint64_t xfrm_mask;
	uint8_t mrenclave[32];
	uint8_t reserved3[32];
	uint16_t isvprodid;
	uint16_t isvsvn;
} __attribute__((packed));
_Static_assert(sizeof(struct sgx_sigstruct_body) == 128, "SIGSTRUCT body");

#define SGX_MODULUS_SIZE 384
struct sgx_sigstruct {
	struct sgx_sigstruct_header header;
	uint8_t modulus[SGX_MODULUS_SIZE];
	uint32_t exponent;
	uint8_t signature[SGX_MODULUS_SIZE];
	struct sgx_sigstruct_body body;
	uint8_t reserved4[12];
	uint8_t q1[SGX_MODULUS_SIZE];
	uint8_t q2[SGX_MODULUS_SIZE];
} __attribute__((packed));
_Static_assert(sizeof(struct sgx_sigstruct) == 1808, "SIGSTRUCT size");
_Static_assert(offsetof(struct sgx_sigstruct, body) == 900, "SIGSTRUCT body");

#define SGX_SIGSTRUCT_HEADER1_0 0x000000E100000006ULL
#define SGX_SIGSTRUCT_HEADER1_1 0x0000000000010000ULL
#define SGX_SIGSTRUCT_HEADER2_0 0x0000006000000101ULL
#define SGX_SIGSTRUCT_HEADER2_1 0x0000000100000060ULL

/* EINITTOKEN (304 bytes); only VALID matters when launch control is open. */
struct sgx_einittoken {
	uint32_t valid;
	uint8_t reserved1[44];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t mrenclave[32];
	uint8_t reserved2[32];
	uint8_t mrsigner[32];
	uint8_t reserved3[32];
	uint8_t cpusvn_le[16];
	uint16_t isvprodid_le;
	uint16_t isvsvn_le;
	uint8_t reserved4[24];
	uint32_t masked_miscselect_le;
	uint64_t attributes_le;
	uint64_t xfrm_le;
	uint8_t keyid[32];
	uint8_t mac[16];
} __attribute__((packed, aligned(512)));

/* REPORT (432 bytes), TARGETINFO and KEYREQUEST (512 bytes each). */
struct sgx_report_body {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint8_t reserved1[12];
	uint8_t isvextprodid[16];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t mrenclave[32];
	uint8_t reserved2[32];
	uint8_t mrsigner[32];
	uint8_t reserved3[32];
	uint8_t config_id[64];
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint16_t config_svn;
	uint8_t reserved4[42];
	uint8_t isvfamilyid[16];
	uint8_t reportdata[64];
} __attribute__((packed));
_Static_assert(sizeof(struct sgx_report_body) == 384, "REPORT body");

struct sgx_report {
	struct sgx_report_body body;
	uint8_t keyid[32];
	uint8_t mac[16];
} __attribute__((packed, aligned(512)));
_Static_assert(offsetof(struct sgx_report, mac) == 416, "REPORT.MAC at 416");

struct sgx_targetinfo {
	uint8_t measurement[32];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t reserved1[2];
	uint16_t config_svn;
	uint32_t miscselect;
	uint8_t reserved2[8];
	uint8_t config_id[64];
	uint8_t reserved3[384];
} __attribute__((packed, aligned(512)));
_Static_assert(sizeof(struct sgx_targetinfo) == 512, "TARGETINFO size");

enum sgx_keyname {
	SGX_KEYNAME_EINITTOKEN = 0,
	SGX_KEYNAME_PROVISION = 1,
	SGX_KEYNAME_PROVISION_SEAL = 2,
	SGX_KEYNAME_REPORT = 3,
	SGX_KEYNAME_SEAL = 4,
};
#define SGX_KEYPOLICY_MRENCLAVE 0x1
#define SGX_KEYPOLICY_MRSIGNER 0x2

struct sgx_keyrequest {
	uint16_t keyname;
	uint16_t keypolicy;
	uint16_t isvsvn;
	uint16_t reserved1;
	uint8_t cpusvn[16];
	uint64_t attributemask[2];
	uint8_t keyid[32];
	uint32_t miscmask;
	uint16_t config_svn;
	uint8_t reserved2[434];
} __attribute__((packed, aligned(512)));
_Static_assert(sizeof(struct sgx_keyrequest) == 512, "KEYREQUEST size");

#endif
