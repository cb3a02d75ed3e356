/* SPDX-License-Identifier: MIT */
/*
 * The Linux SGX user-space ABI (arch/x86/include/uapi/asm/sgx.h, Linux
 * 6.12), written from linux-sgx-driver.md section 1: ioctl numbers, argument
 * structures and struct sgx_enclave_run, byte for byte. A program built
 * against Linux's header must see exactly these numbers and layouts.
 */
#ifndef SGXEMU_UAPI_H
#define SGXEMU_UAPI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#define SGX_MAGIC 0xA4

/* ADD_PAGES flags. */
#define SGX_PAGE_MEASURE 0x01

struct sgx_enclave_create {
	uint64_t src;
};

struct sgx_enclave_add_pages {
	uint64_t src;
	uint64_t offset;
	uint64_t length;
	uint64_t secinfo;
	uint64_t flags;
	uint64_t count;
};

struct sgx_enclave_init {
	uint64_t sigstruct;
};

struct sgx_enclave_provision {
	uint64_t fd;
};

struct sgx_enclave_restrict_permissions {
	uint64_t offset;
	uint64_t length;
	uint64_t permissions;
	uint64_t result;
	uint64_t count;
};

struct sgx_enclave_modify_types {
	uint64_t offset;
	uint64_t length;
	uint64_t page_type;
	uint64_t result;
	uint64_t count;
};

struct sgx_enclave_remove_pages {
	uint64_t offset;
	uint64_t length;
	uint64_t count;
};

#define SGX_IOC_ENCLAVE_CREATE _IOW(SGX_MAGIC, 0x00, struct sgx_enclave_create)
#define SGX_IOC_ENCLAVE_ADD_PAGES                                         \
	_IOWR(SGX_MAGIC, 0x01, struct sgx_enclave_add_pages)
#define SGX_IOC_ENCLAVE_INIT _IOW(SGX_MAGIC, 0x02, struct sgx_enclave_init)
#define SGX_IOC_ENCLAVE_PROVISION                                         \
	_IOW(SGX_MAGIC, 0x03, struct sgx_enclave_provision)
#define SGX_IOC_VEPC_REMOVE_ALL _IO(SGX_MAGIC, 0x04)
#define SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS                              \
	_IOWR(SGX_MAGIC, 0x05, struct sgx_enclave_restrict_permissions)
#define SGX_IOC_ENCLAVE_MODIFY_TYPES                                      \
	_IOWR(SGX_MAGIC, 0x06, struct sgx_enclave_modify_types)
#define SGX_IOC_ENCLAVE_REMOVE_PAGES                                      \
	_IOWR(SGX_MAGIC, 0x07, struct sgx_enclave_remove_pages)

struct sgx_enclave_run;

typedef int (*sgx_enclave_user_handler_t)(long rdi, long rsi, long rdx,
					  long rsp, long r8, long r9,
					  struct sgx_enclave_run *run);

struct sgx_enclave_run {
	uint64_t tcs;
	uint32_t function;
	uint16_t exception_vector;
	uint16_t exception_error_code;
	uint64_t exception_addr;
	uint64_t user_handler;
	uint64_t user_data;
	uint8_t reserved[216];
};

typedef int (*vdso_sgx_enter_enclave_t)(unsigned long rdi, unsigned long rsi,
					unsigned long rdx, unsigned int function,
					unsigned long r8, unsigned long r9,
					struct sgx_enclave_run *run);

/* The numeric values linux-sgx-driver.md section 1 lists for x86-64. */
_Static_assert(SGX_IOC_ENCLAVE_CREATE == 0x4008a400, "CREATE");
_Static_assert(SGX_IOC_ENCLAVE_ADD_PAGES == 0xc030a401, "ADD_PAGES");
_Static_assert(SGX_IOC_ENCLAVE_INIT == 0x4008a402, "INIT");
_Static_assert(SGX_IOC_ENCLAVE_PROVISION == 0x4008a403, "PROVISION");
_Static_assert(SGX_IOC_VEPC_REMOVE_ALL == 0xa404, "VEPC_REMOVE_ALL");
_Static_assert(SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS == 0xc028a405,
	       "RESTRICT_PERMISSIONS");
_Static_assert(SGX_IOC_ENCLAVE_MODIFY_TYPES == 0xc028a406, "MODIFY_TYPES");
_Static_assert(SGX_IOC_ENCLAVE_REMOVE_PAGES == 0xc018a407, "REMOVE_PAGES");

_Static_assert(sizeof(struct sgx_enclave_add_pages) == 48, "add_pages");
_Static_assert(offsetof(struct sgx_enclave_add_pages, count) == 40, "count");
_Static_assert(sizeof(struct sgx_enclave_restrict_permissions) == 40, "rp");
_Static_assert(offsetof(struct sgx_enclave_restrict_permissions, result) ==
		       24, "rp.result");
_Static_assert(offsetof(struct sgx_enclave_restrict_permissions, count) == 32,
	       "rp.count");
_Static_assert(sizeof(struct sgx_enclave_modify_types) == 40, "mt");
_Static_assert(offsetof(struct sgx_enclave_modify_types, count) == 32,
	       "mt.count");
_Static_assert(sizeof(struct sgx_enclave_remove_pages) == 24, "rm");
_Static_assert(sizeof(struct sgx_enclave_run) == 256, "sgx_enclave_run");
_Static_assert(offsetof(struct sgx_enclave_run, function) == 8, "function");
_Static_assert(offsetof(struct sgx_enclave_run, exception_vector) == 12,
	       "exception_vector");
_Static_assert(offsetof(struct sgx_enclave_run, exception_error_code) == 14,
	       "exception_error_code");
_Static_assert(offsetof(struct sgx_enclave_run, exception_addr) == 16,
	       "exception_addr");
_Static_assert(offsetof(struct sgx_enclave_run, user_handler) == 24,
	       "user_handler");
_Static_assert(offsetof(struct sgx_enclave_run, user_data) == 32,
	       "user_data");
_Static_assert(offsetof(struct sgx_enclave_run, reserved) == 40, "reserved");

#endif
