/* SPDX-License-Identifier: MIT */
/*
 * The end of a single-source fragment (fragment.h): the model's own names
 * are back. The ENCLS wrappers a fragment uses stay Linux's only inside it.
 */
#undef mutex_lock
#undef mutex_unlock
#undef current
#undef signal_pending
#undef cond_resched
#undef pr_err_once
#undef PROT_READ
#undef PROT_WRITE
#undef calc_vm_prot_bits
#undef kfree
#undef on_each_cpu_mask
#undef sgx_get_epc_virt_addr
#undef sgx_reclaim_direct
#undef sgx_mark_page_reclaimable
#undef sgx_unmark_page_reclaimable
#undef sgx_encl_free_epc_page
#undef __etrack
#undef __emodpr
#undef __emodt
#undef SGX_EDMM_ETRACK_BATCH
#undef SGX_MODEL_STAT
#undef SGX_MODEL_WINDOW
#undef SGX_MODEL_LOOP_CHECKS
