/* sgxemu-fragment: arch/x86/kernel/cpu/sgx/encl.c
 *
 * Patch 1: SECS can be loaded outside sgx_encl_load_page(), so that the
 * ETRACK flow of an EDMM ioctl can make sure of it (ioctl.c). The model
 * compiles this file unchanged (src/kernel/encl.c, through
 * src/kernel/compat/fragment.h).
 *
 * header: encl.h after "void sgx_encl_shrink(struct sgx_encl *encl, struct sgx_va_page *va_page);": struct sgx_epc_page *sgx_encl_load_secs(struct sgx_encl *encl);
 */

/**
 * sgx_encl_load_secs() - Make sure the SECS page is resident
 * @encl:	an enclave pointer
 *
 * The reclaimer writes SECS back after the last of its children. Whoever
 * runs an ENCLS that needs SECS (ELDU of a child, ETRACK) loads it first,
 * holding encl->lock from then on so that it cannot be written back again
 * while it is used.
 *
 * Return: the SECS's EPC page, or an ERR_PTR() from sgx_encl_eldu().
 */
struct sgx_epc_page *sgx_encl_load_secs(struct sgx_encl *encl)
{
	if (encl->secs.epc_page)
		return encl->secs.epc_page;

	return sgx_encl_eldu(&encl->secs, NULL);
}
