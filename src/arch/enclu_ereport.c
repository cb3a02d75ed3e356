// SPDX-License-Identifier: MIT
/*
 * EREPORT - Create a Cryptographic Report of the Enclave. SDM Vol. 3D,
 * "EREPORT", ENCLU leaf 0x00.
 *
 * Operands (enclave linear addresses): RBX = TARGETINFO (512-byte aligned),
 * RCX = REPORTDATA (64 bytes, 128-byte aligned), RDX = the REPORT output
 * (512-byte aligned).
 *
 * Checks, in SDM order:
 *   C1 the LP is in enclave mode, else #GP.
 *   C2 TARGETINFO is aligned and inside ELRANGE, else #GP.
 *   C3 TARGETINFO is in a readable REG page of this enclave (keys.h,
 *      enclu_operand_page()), else #PF(RBX).
 *   C4 REPORTDATA is aligned and inside ELRANGE, else #GP.
 *   C5 REPORTDATA is in a readable REG page of this enclave, else #PF(RCX).
 *   C6 the output is aligned and inside ELRANGE, else #GP.
 *   C7 the output is in a writable REG page of this enclave, else #PF(RDX).
 *
 * Effects:
 *   E1 the REPORT body is the running enclave's identity from its SECS
 *      (MISCSELECT, ATTRIBUTES and XFRM, MRENCLAVE, MRSIGNER, CONFIGID,
 *      ISVPRODID, ISVSVN, CONFIGSVN), CR_CPUSVN, and the REPORTDATA.
 *   E2 KEYID := CR_REPORT_KEYID.
 *   E3 MAC := CMAC over the body under the REPORT key of the target
 *      enclave named by TARGETINFO (MEASUREMENT, ATTRIBUTES, MISCSELECT,
 *      CONFIGID, CONFIGSVN), which that enclave gets from EGETKEY.
 *   E4 the 432-byte REPORT (body, KEYID, MAC) is written at RDX.
 *
 * MODEL: ISVEXTPRODID and ISVFAMILYID are not in this model's SECS (sdm.h)
 * and are reported as zero; so are every reserved field.
 * MODEL: the inputs are read in full before the output is written, so
 * overlapping operands behave as if the REPORT were built in a buffer, as
 * the SDM's TMP_REPORT is.
 * MODEL: leaves are atomic; EREPORT has no concurrency check that can fail.
 */
#include <openssl/crypto.h>

#include "arch/crypto.h"
#include "arch/entry.h"
#include "arch/keys.h"

#define TARGETINFO_ALIGN 512
#define REPORTDATA_ALIGN 128
#define REPORT_ALIGN 512
/* What EREPORT writes: DS:RDX[3455:0]. */
#define REPORT_SIZE (offsetof(struct sgx_report, mac) + 16)

struct ereport_ops {
	const struct sgx_targetinfo *ti;
	const uint8_t *reportdata;
	struct sgx_report *out;
};

static int check_operands(struct sgx_lp *lp, uint64_t targetinfo,
			  uint64_t reportdata, uint64_t report,
			  struct ereport_ops *ops)
{
	void *host;
	int ret;

	/* C1: only an enclave can report on itself. */
	if (!lp->enclave_mode)
		return sgx_gp(lp);
	/* C2: TARGETINFO placement. */
	if (!enclu_operand_placed(lp, targetinfo, TARGETINFO_ALIGN))
		return sgx_gp(lp);
	/* C3: TARGETINFO is readable enclave memory. */
	ret = enclu_operand_page(lp, targetinfo, false, &host);
	if (ret)
		return ret;
	ops->ti = host;
	/* C4: REPORTDATA placement. */
	if (!enclu_operand_placed(lp, reportdata, REPORTDATA_ALIGN))
		return sgx_gp(lp);
	/* C5: REPORTDATA is readable enclave memory. */
	ret = enclu_operand_page(lp, reportdata, false, &host);
	if (ret)
		return ret;
	ops->reportdata = host;
	/* C6: output placement. */
	if (!enclu_operand_placed(lp, report, REPORT_ALIGN))
		return sgx_gp(lp);
	/* C7: the output is writable enclave memory. */
	ret = enclu_operand_page(lp, report, true, &host);
	if (ret)
		return ret;
	ops->out = host;
	return 0;
}

/* E1: the body, from data enclave software cannot change. */
static void fill_body(const struct sgx_lp *lp, const uint8_t *reportdata,
		      struct sgx_report_body *b)
{
	const struct sgx_secs *secs = secs_at(lp->cpu, lp->active_secs);

	memcpy(b->cpusvn, lp->cpu->cpusvn, sizeof(b->cpusvn));
	b->miscselect = secs->miscselect;
	b->attributes = secs->attributes;
	b->xfrm = secs->xfrm;
	memcpy(b->mrenclave, secs->mrenclave, sizeof(b->mrenclave));
	memcpy(b->mrsigner, secs->mrsigner, sizeof(b->mrsigner));
	memcpy(b->config_id, secs->config_id, sizeof(b->config_id));
	b->isvprodid = secs->isv_prod_id;
	b->isvsvn = secs->isv_svn;
	b->config_svn = secs->config_svn;
	memcpy(b->reportdata, reportdata, sizeof(b->reportdata));
}

static int ereport(struct sgx_lp *lp, uint64_t targetinfo,
		   uint64_t reportdata, uint64_t report)
{
	struct ereport_ops ops;
	struct sgx_report rep;
	struct sgx_report_target target;
	uint8_t key[16];
	int ret = check_operands(lp, targetinfo, reportdata, report, &ops);

	if (ret)
		return ret;

	memset(&rep, 0, sizeof(rep));
	fill_body(lp, ops.reportdata, &rep.body); /* E1 */
	sgx_report_keyid(lp->cpu, rep.keyid); /* E2 */
	target = (struct sgx_report_target){
		.mrenclave = ops.ti->measurement,
		.attributes = ops.ti->attributes,
		.xfrm = ops.ti->xfrm,
		.miscselect = ops.ti->miscselect,
		.config_id = ops.ti->config_id,
		.config_svn = ops.ti->config_svn,
	};
	sgx_report_key(lp->cpu, &target, rep.keyid, key); /* E3 */
	cmac128(key, &rep.body, sizeof(rep.body), rep.mac);
	OPENSSL_cleanse(key, sizeof(key));
	memcpy(ops.out, &rep, REPORT_SIZE); /* E4 */
	return 0;
}

/**
 * enclu_ereport() - ENCLU[EREPORT]: write a REPORT of the running enclave
 * for the enclave described by @targetinfo, binding @reportdata.
 *
 * Return: 0, or a #GP/#PF fault.
 */
int enclu_ereport(struct sgx_lp *lp, uint64_t targetinfo, uint64_t reportdata,
		  uint64_t report)
{
	sgx_leaf_begin(lp, SGX_LEAF_ENCLU, EREPORT);
	return sgx_leaf_end(lp, SGX_LEAF_ENCLU, EREPORT,
			    ereport(lp, targetinfo, reportdata, report));
}
