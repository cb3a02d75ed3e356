// SPDX-License-Identifier: MIT
/* Human-readable names for leaf results and EPCM entries. */
#include "cli/cli.h"

static const char *const code_names[] = {
	[SGX_SUCCESS] = "SUCCESS",
	[SGX_INVALID_SIG_STRUCT] = "SGX_INVALID_SIG_STRUCT",
	[SGX_INVALID_ATTRIBUTE] = "SGX_INVALID_ATTRIBUTE",
	[SGX_BLKSTATE] = "SGX_BLKSTATE",
	[SGX_INVALID_MEASUREMENT] = "SGX_INVALID_MEASUREMENT",
	[SGX_NOTBLOCKABLE] = "SGX_NOTBLOCKABLE",
	[SGX_PG_INVLD] = "SGX_PG_INVLD",
	[SGX_EPC_PAGE_CONFLICT] = "SGX_EPC_PAGE_CONFLICT",
	[SGX_INVALID_SIGNATURE] = "SGX_INVALID_SIGNATURE",
	[SGX_MAC_COMPARE_FAIL] = "SGX_MAC_COMPARE_FAIL",
	[SGX_PAGE_NOT_BLOCKED] = "SGX_PAGE_NOT_BLOCKED",
	[SGX_NOT_TRACKED] = "SGX_NOT_TRACKED",
	[SGX_VA_SLOT_OCCUPIED] = "SGX_VA_SLOT_OCCUPIED",
	[SGX_CHILD_PRESENT] = "SGX_CHILD_PRESENT",
	[SGX_ENCLAVE_ACT] = "SGX_ENCLAVE_ACT",
	[SGX_ENTRYEPOCH_LOCKED] = "SGX_ENTRYEPOCH_LOCKED",
	[SGX_INVALID_EINITTOKEN] = "SGX_INVALID_EINITTOKEN",
	[SGX_PREV_TRK_INCMPL] = "SGX_PREV_TRK_INCMPL",
	[SGX_PG_IS_SECS] = "SGX_PG_IS_SECS",
	[SGX_PAGE_ATTRIBUTES_MISMATCH] = "SGX_PAGE_ATTRIBUTES_MISMATCH",
	[SGX_PAGE_NOT_MODIFIABLE] = "SGX_PAGE_NOT_MODIFIABLE",
	[SGX_PAGE_NOT_DEBUGGABLE] = "SGX_PAGE_NOT_DEBUGGABLE",
	[SGX_INVALID_CPUSVN] = "SGX_INVALID_CPUSVN",
	[SGX_INVALID_ISVSVN] = "SGX_INVALID_ISVSVN",
	[SGX_UNMASKED_EVENT] = "SGX_UNMASKED_EVENT",
	[SGX_INVALID_KEYNAME] = "SGX_INVALID_KEYNAME",
};

const char *cli_result_name(int ret)
{
	if (sgx_faulted(ret))
		return sgx_trapnr(ret) == X86_TRAP_PF ? "#PF" : "#GP";
	if (ret >= 0 && (size_t)ret < sizeof(code_names) / sizeof(*code_names) &&
	    code_names[ret])
		return code_names[ret];
	return "UNKNOWN";
}

static const char *const type_names[] = { "SECS", "TCS", "REG", "VA",
					  "TRIM", "SS_FIRST", "SS_REST" };

void cli_print_epcm(FILE *out, const struct epcm_entry *e, bool json)
{
	const char *type = e->pt < 7 ? type_names[e->pt] : "?";

	if (json) {
		fprintf(out,
			"{\"valid\":%d,\"r\":%d,\"w\":%d,\"x\":%d,\"pt\":\"%s\","
			"\"enclave_address\":\"%#llx\",\"pending\":%d,"
			"\"modified\":%d,\"pr\":%d,\"blocked\":%d,"
			"\"track_stamp\":%llu}",
			e->valid, e->r, e->w, e->x, type,
			(unsigned long long)e->enclave_address, e->pending,
			e->modified, e->pr, e->blocked,
			(unsigned long long)e->track_stamp);
		return;
	}
	if (!e->valid) {
		fprintf(out, "EPCM: invalid");
		return;
	}
	fprintf(out, "EPCM: %-4s %c%c%c addr=%#llx%s%s%s%s", type,
		e->r ? 'R' : '-', e->w ? 'W' : '-', e->x ? 'X' : '-',
		(unsigned long long)e->enclave_address,
		e->pending ? " PENDING" : "", e->modified ? " MODIFIED" : "",
		e->pr ? " PR" : "", e->blocked ? " BLOCKED" : "");
	if (e->track_stamp)
		fprintf(out, " stamp@epoch%llu",
			(unsigned long long)e->track_stamp - 1);
}
