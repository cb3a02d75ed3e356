/* sgxemu-fragment: arch/x86/kernel/cpu/sgx/ioctl.c
 *
 * Patch 2: one ETRACK flow per batch of pages in RESTRICT_PERMISSIONS and
 * MODIFY_TYPES; patch 3: the per-page signal and resched checks, between
 * the series markers. The model compiles this file unchanged
 * (src/kernel/ioctl.c, through src/kernel/compat/fragment.h).
 *
 * header: encl.h after "#define SGX_ENCL_PAGE_BEING_RECLAIMED	BIT(3)": #define SGX_EDMM_ETRACK_BATCH	512
 * header: encl.h after "	enum sgx_page_type type:16;": 	enum sgx_page_type modt_type:16;
 * header: encl.h after "	struct sgx_va_page *va_page;": 	unsigned long modt_gen;
 * header: encl.h after "	struct srcu_struct srcu;": 	unsigned long etrack_gen;
 * header: encl.h after "	struct srcu_struct srcu;": 	unsigned long edmm_untracked_start;
 * header: encl.h after "	struct srcu_struct srcu;": 	unsigned long edmm_untracked_end;
 */

/*
 * The type of an enclave page as the driver may rely on it. MODIFY_TYPES
 * records a new type in @entry->modt_type when EMODT succeeds; it becomes
 * the page's type once an ETRACK flow has completed after the EMODT, which
 * sgx_enclave_etrack() marks by advancing encl->etrack_gen. A flow so
 * makes the types of its whole batch effective in O(1), instead of a walk
 * over the batch under encl->lock. Must be called with encl->lock held.
 */
static enum sgx_page_type sgx_encl_page_type(struct sgx_encl_page *entry)
{
	if (entry->modt_type != SGX_PAGE_TYPE_SECS &&
	    entry->modt_gen != entry->encl->etrack_gen) {
		entry->type = entry->modt_type;
		entry->modt_type = SGX_PAGE_TYPE_SECS;
	}

	return entry->type;
}

/*
 * Some SGX functions require that no cached linear-to-physical address
 * mappings are present before they can succeed: ETRACK starts a new
 * tracking epoch and the IPIs force every CPU that may run inside the
 * enclave out of it (see sgx_encl_cpumask()), which ends the epoch.
 *
 * Must be called with encl->lock held, from the first EMODPR or EMODT the
 * flow tracks until it is complete, and with SECS resident.
 */
static int sgx_enclave_etrack(struct sgx_encl *encl)
{
	void *epc_virt;
	int ret;

	SGX_MODEL_STAT(encl, etrack_flows);
	epc_virt = sgx_get_epc_virt_addr(encl->secs.epc_page);
	ret = __etrack(epc_virt);
	if (ret) {
		/*
		 * ETRACK fails only through an OS bug, such as two ETRACKs
		 * without a completed IPI round in between. Kick the CPUs
		 * out of the enclave and try once more.
		 */
		pr_err_once("ETRACK returned %d (0x%x)\n", ret, ret);
		SGX_MODEL_STAT(encl, etrack_failures);
		on_each_cpu_mask(sgx_encl_cpumask(encl), sgx_ipi_cb, NULL,
				 true);
		ret = __etrack(epc_virt);
		if (ret) {
			pr_err_once("ETRACK repeat returned %d (0x%x)\n",
				    ret, ret);
			SGX_MODEL_STAT(encl, etrack_failures);
			return -EFAULT;
		}
	}
	/* The IPIs below complete the flow before encl->lock is dropped. */
	encl->etrack_gen++;
	SGX_MODEL_PLANT(encl, NO_IPI, return 0);
	on_each_cpu_mask(sgx_encl_cpumask(encl), sgx_ipi_cb, NULL, true);

	return 0;
}

/*
 * Track the pages modified since the last flow, bytes [*@count, @done) of
 * the range that starts at @start, and move *@count to @done. The page that
 * ends a batch is resident, and so is SECS then, but an early exit may come
 * after the reclaimer wrote back every child and then SECS: load it first.
 *
 * If the flow fails, those pages stay changed but uncounted: they are
 * remembered in encl->edmm_untracked_start/end, so that a repeat of the
 * call from offset + count counts them without a second EMODT even if
 * another flow has tracked them meanwhile (sgx_enclave_modify_repeat()).
 *
 * Must be called with encl->lock held.
 */
static int sgx_edmm_track(struct sgx_encl *encl, unsigned long start,
			  unsigned long done, u64 *count)
{
	struct sgx_epc_page *secs;
	int ret;

	if (*count == done)
		return 0;

	SGX_MODEL_PLANT(encl, ETRACK_BEFORE_EMODPR, if (encl->plant_etrack_first) return sgx_plant_tracked(done, count));
	SGX_MODEL_PLANT(encl, BATCH_SECS_EVICTED, if (!encl->secs.epc_page) return sgx_plant_etrack_stale(encl, done, count));
	secs = sgx_encl_load_secs(encl);
	if (IS_ERR(secs))
		return PTR_ERR(secs) == -EBUSY ? -EAGAIN : -EFAULT;

	ret = sgx_enclave_etrack(encl);
	SGX_MODEL_PLANT(encl, COUNT_BEFORE_TRACKING, ret = 0);
	if (ret) {
		encl->edmm_untracked_start = start + *count;
		encl->edmm_untracked_end = start + done;
		return ret;
	}

	/* A repeat counts what a failed flow left: the record shrinks. */
	if (encl->edmm_untracked_start == start + *count)
		encl->edmm_untracked_start = start + done;
	if (encl->edmm_untracked_start >= encl->edmm_untracked_end)
		encl->edmm_untracked_start = encl->edmm_untracked_end;

	*count = done;
	return 0;
}

/*
 * The page at byte @done of the range failed with @err: track the pages
 * modified before it, so that *@count still covers exactly the pages that
 * were modified and then tracked. If that tracking fails too, its error is
 * returned and *@result, which described the failed page, is cleared.
 *
 * Must be called with encl->lock held.
 */
static int sgx_edmm_early_exit(struct sgx_encl *encl, unsigned long start,
			       unsigned long done, u64 *result, u64 *count,
			       int err)
{
	int ret;

	SGX_MODEL_PLANT(encl, BATCH_NO_EARLY_TRACK, return err);
	ret = sgx_edmm_track(encl, start, done, count);
	if (!ret)
		return err;

	*result = 0;
	return ret;
}

/**
 * sgx_edmm_walk() - Change a range of pages, one ETRACK flow per batch
 * @encl:	Enclave to which the pages belong
 * @offset:	Offset of the range from the enclave's base
 * @length:	Length of the range, page aligned and not zero
 * @result:	The ioctl's result, set by @modify on an SGX error
 * @count:	The ioctl's count: the bytes that were modified, then tracked
 * @modify:	Change of one page, called with encl->lock held
 * @arg:	The ioctl's parameters, for @modify
 *
 * Per page, in address order: direct reclaim without encl->lock, then with
 * it @modify, and if the page ends a batch of %SGX_EDMM_ETRACK_BATCH pages
 * or the range, the ETRACK flow while the page is still resident. The lock
 * is so held for one page's work plus at most one flow, and the flows of a
 * range are its pages divided by the batch instead of one per page. An
 * error of @modify ends the walk after the pages modified before it are
 * tracked.
 *
 * Return:
 * - 0:		Success.
 * - -errno:	The error of the page at @offset + *@count, or of the
 *		tracking of the pages before it.
 */
static long sgx_edmm_walk(struct sgx_encl *encl, unsigned long offset,
			  unsigned long length, u64 *result, u64 *count,
			  int (*modify)(struct sgx_encl *encl,
					unsigned long addr, void *arg),
			  void *arg)
{
	unsigned long start = encl->base + offset;
	unsigned long done = 0;
	int ret;

	while (done < length) {
		SGX_MODEL_WINDOW(encl, done);
		/* sgxemu-series: patch 3 begin */
		SGX_MODEL_LOOP_CHECKS(encl);
		if (signal_pending(current))
			break;

		cond_resched();

		/* sgxemu-series: patch 3 end */
		sgx_reclaim_direct();

		mutex_lock(&encl->lock);
		ret = modify(encl, start + done, arg);
		if (ret) {
			ret = sgx_edmm_early_exit(encl, start, done, result,
						  count, ret);
		} else {
			SGX_MODEL_PLANT(encl, BATCH_SECS_EVICTED, if (*count == done) sgx_plant_batch_start(encl));
			done += PAGE_SIZE;
			if (done == length ||
			    done - *count >= SGX_EDMM_ETRACK_BATCH * PAGE_SIZE)
				ret = sgx_edmm_track(encl, start, done,
						     count);
		}
		mutex_unlock(&encl->lock);
		if (ret)
			return ret;
	}

	/* sgxemu-series: patch 3 begin */
	/*
	 * A pending signal ended the walk: -ERESTARTSYS if no page was
	 * changed, else the pages changed so far are tracked and counted.
	 */
	if (!done)
		return -ERESTARTSYS;

	if (*count != done) {
		SGX_MODEL_PLANT(encl, SIGNAL_NO_TRACK, return 0);
		SGX_MODEL_PLANT(encl, BATCH_NO_EARLY_TRACK, return 0);
		sgx_reclaim_direct();
		mutex_lock(&encl->lock);
		ret = sgx_edmm_track(encl, start, done, count);
		mutex_unlock(&encl->lock);
		return ret;
	}

	/* sgxemu-series: patch 3 end */
	return 0;
}

/*
 * One page of sgx_enclave_restrict_permissions(), with encl->lock held.
 * A page restricted by an earlier call whose tracking failed is simply
 * restricted again: EMODPR allows a page that has PR set, and the rights
 * are the same.
 */
static int sgx_enclave_restrict_page(struct sgx_encl *encl,
				     unsigned long addr, void *arg)
{
	struct sgx_enclave_restrict_permissions *modp = arg;
	struct sgx_encl_page *entry;
	struct sgx_secinfo secinfo;
	int ret;

	entry = sgx_encl_load_page(encl, addr);
	if (IS_ERR(entry))
		return PTR_ERR(entry) == -EBUSY ? -EAGAIN : -EFAULT;

	/* EMODPR works on regular pages only; it faults on any other. */
	if (sgx_encl_page_type(entry) != SGX_PAGE_TYPE_REG)
		return -EINVAL;

	/*
	 * Beyond W without R, refused by the handler, the requested bits are
	 * not checked: EMODPR can only take rights away and ignores an
	 * attempt to add any.
	 */
	memset(&secinfo, 0, sizeof(secinfo));
	secinfo.flags = modp->permissions & SGX_SECINFO_PERMISSION_MASK;

	SGX_MODEL_STAT(encl, emodpr);
	SGX_MODEL_PLANT(encl, ETRACK_BEFORE_EMODPR, if (sgx_enclave_etrack(encl)) return -EFAULT);
	ret = __emodpr(&secinfo, sgx_get_epc_virt_addr(entry->epc_page));
	if (encls_faulted(ret)) {
		/*
		 * Impossible: the arguments were checked, the page is
		 * regular, and encl->lock keeps other ENCLS off it.
		 */
		pr_err_once("EMODPR encountered exception %d\n",
			    ENCLS_TRAPNR(ret));
		return -EFAULT;
	}
	if (encls_failed(ret)) {
		modp->result = ret;
		return -EFAULT;
	}

	return 0;
}

/**
 * sgx_enclave_restrict_permissions() - Restrict EPCM permissions
 * @encl:	Enclave to which the pages belong.
 * @modp:	Checked parameters from user on which pages need modifying and
 *              their new permissions.
 *
 * Every page is EMODPRed under encl->lock, and the ETRACK flow that makes
 * the restriction visible runs once per batch of pages (sgx_edmm_walk()).
 * @modp->count covers exactly the pages whose restriction was tracked.
 *
 * Return:
 * - 0:		Success.
 * - -errno:	Otherwise.
 */
static long
sgx_enclave_restrict_permissions(struct sgx_encl *encl,
				 struct sgx_enclave_restrict_permissions *modp)
{
	SGX_MODEL_PLANT(encl, ETRACK_BEFORE_EMODPR, encl->plant_etrack_first = true);
	return sgx_edmm_walk(encl, modp->offset, modp->length, &modp->result,
			     &modp->count, sgx_enclave_restrict_page, modp);
}

/*
 * A regular page becomes a TCS page for good: its maximum protection
 * becomes RW, as a TCS is to the kernel, if the originally vetted
 * permissions allow that. The page's PTEs are zapped without encl->lock,
 * which sgx_zap_enclave_ptes() cannot nest in (mmap_lock), and the page is
 * kept off the reclaimer meanwhile.
 *
 * Must be called with encl->lock held; returns with it held.
 */
static int sgx_encl_page_to_tcs(struct sgx_encl *encl,
				struct sgx_encl_page *entry, unsigned long addr)
{
	if (~entry->vm_max_prot_bits & (VM_READ | VM_WRITE))
		return -EPERM;

	entry->vm_max_prot_bits = calc_vm_prot_bits(PROT_READ | PROT_WRITE, 0);
	if (sgx_unmark_page_reclaimable(entry->epc_page))
		return -EAGAIN;

	mutex_unlock(&encl->lock);
	sgx_zap_enclave_ptes(encl, addr);
	mutex_lock(&encl->lock);

	sgx_mark_page_reclaimable(entry->epc_page);
	return 0;
}

/*
 * Whether a MODIFY_TYPES call whose tracking failed already changed the
 * page at @addr to @page_type without counting it: its EMODT is either
 * still untracked (@entry->modt_type) or was tracked by a later flow,
 * inside the range that call left (encl->edmm_untracked_start/end). The
 * page is MODIFIED, where a second EMODT would fail: a repeat of the call
 * only tracks and counts it. Must be called with encl->lock held, after
 * sgx_encl_page_type().
 */
static bool sgx_enclave_modify_repeat(struct sgx_encl *encl,
				      struct sgx_encl_page *entry,
				      unsigned long addr,
				      enum sgx_page_type page_type)
{
	if (entry->modt_type == page_type)
		return true;

	return addr >= encl->edmm_untracked_start &&
	       addr < encl->edmm_untracked_end && entry->type == page_type;
}

/*
 * One page of sgx_enclave_modify_types(), with encl->lock held. The new
 * type takes effect for the driver once a flow has tracked the EMODT
 * (sgx_encl_page_type()). A page EMODTed by an earlier call whose tracking
 * failed is of the new type and MODIFIED already, where EMODT would fail:
 * it is only tracked again.
 */
static int sgx_enclave_modify_page(struct sgx_encl *encl, unsigned long addr,
				   void *arg)
{
	struct sgx_enclave_modify_types *modt = arg;
	unsigned long max_prot_restore;
	enum sgx_page_type page_type;
	struct sgx_encl_page *entry;
	struct sgx_secinfo secinfo;
	enum sgx_page_type type;
	int ret;

	entry = sgx_encl_load_page(encl, addr);
	if (IS_ERR(entry))
		return PTR_ERR(entry) == -EBUSY ? -EAGAIN : -EFAULT;

	/*
	 * As the SDM allows: regular pages may become TCS or trimmed pages,
	 * TCS pages only trimmed ones. CET pages are not supported yet.
	 */
	page_type = modt->page_type & SGX_PAGE_TYPE_MASK;
	type = sgx_encl_page_type(entry);
	if (sgx_enclave_modify_repeat(encl, entry, addr, page_type))
		return 0;

	if (!(type == SGX_PAGE_TYPE_REG ||
	      (type == SGX_PAGE_TYPE_TCS && page_type == SGX_PAGE_TYPE_TRIM)))
		return -EINVAL;

	max_prot_restore = entry->vm_max_prot_bits;
	if (type == SGX_PAGE_TYPE_REG && page_type == SGX_PAGE_TYPE_TCS) {
		ret = sgx_encl_page_to_tcs(encl, entry, addr);
		if (ret)
			goto out_entry_changed;
	}

	memset(&secinfo, 0, sizeof(secinfo));
	secinfo.flags = page_type << 8;

	SGX_MODEL_STAT(encl, emodt);
	ret = __emodt(&secinfo, sgx_get_epc_virt_addr(entry->epc_page));
	if (encls_faulted(ret)) {
		/* Impossible, as for EMODPR. */
		pr_err_once("EMODT encountered exception %d\n",
			    ENCLS_TRAPNR(ret));
		ret = -EFAULT;
		goto out_entry_changed;
	}
	if (encls_failed(ret)) {
		modt->result = ret;
		ret = -EFAULT;
		goto out_entry_changed;
	}

	entry->modt_type = page_type;
	entry->modt_gen = encl->etrack_gen;
	SGX_MODEL_PLANT(encl, TYPE_BEFORE_TRACKING, entry->type = page_type);
	return 0;

out_entry_changed:
	entry->vm_max_prot_bits = max_prot_restore;
	return ret;
}

/**
 * sgx_enclave_modify_types() - Modify type of SGX enclave pages
 * @encl:	Enclave to which the pages belong.
 * @modt:	Checked parameters from user about which pages need modifying
 *              and their new page type.
 *
 * Every page is EMODTed under encl->lock, and the ETRACK flow runs once per
 * batch of pages (sgx_edmm_walk()). @modt->count covers exactly the pages
 * whose change was tracked.
 *
 * Return:
 * - 0:		Success
 * - -errno:	Otherwise
 */
static long sgx_enclave_modify_types(struct sgx_encl *encl,
				     struct sgx_enclave_modify_types *modt)
{
	enum sgx_page_type page_type = modt->page_type & SGX_PAGE_TYPE_MASK;

	/* The only new page types the hardware allows. */
	if (page_type != SGX_PAGE_TYPE_TCS && page_type != SGX_PAGE_TYPE_TRIM)
		return -EINVAL;

	SGX_MODEL_PLANT(encl, ETRACK_BEFORE_EMODPR, encl->plant_etrack_first = false);
	return sgx_edmm_walk(encl, modt->offset, modt->length, &modt->result,
			     &modt->count, sgx_enclave_modify_page, modt);
}

/*
 * One page of sgx_encl_remove_pages(), with encl->lock held: a trimmed page
 * the enclave has accepted is removed. EMODPR with RWX probes for the
 * EACCEPT: a trimmed page not yet accepted is still MODIFIED, and EMODPR
 * says %SGX_PAGE_NOT_MODIFIABLE; an accepted one faults.
 */
static int sgx_encl_remove_page(struct sgx_encl *encl, unsigned long addr)
{
	struct sgx_encl_page *entry;
	struct sgx_secinfo secinfo;
	int ret;

	entry = sgx_encl_load_page(encl, addr);
	if (IS_ERR(entry))
		return PTR_ERR(entry) == -EBUSY ? -EAGAIN : -EFAULT;

	if (sgx_encl_page_type(entry) != SGX_PAGE_TYPE_TRIM)
		return -EPERM;

	memset(&secinfo, 0, sizeof(secinfo));
	secinfo.flags = SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X;

	SGX_MODEL_STAT(encl, emodpr);
	ret = __emodpr(&secinfo, sgx_get_epc_virt_addr(entry->epc_page));
	if (!encls_faulted(ret) || ENCLS_TRAPNR(ret) != X86_TRAP_PF)
		return -EPERM;

	if (sgx_unmark_page_reclaimable(entry->epc_page))
		return -EBUSY;

	/* sgx_zap_enclave_ptes() takes mmap_lock, which nests outside. */
	mutex_unlock(&encl->lock);
	sgx_zap_enclave_ptes(encl, addr);
	mutex_lock(&encl->lock);

	sgx_encl_free_epc_page(entry->epc_page);
	encl->secs_child_cnt--;
	entry->epc_page = NULL;
	xa_erase(&encl->page_array, PFN_DOWN(entry->desc));
	sgx_encl_shrink(encl, NULL);
	kfree(entry);

	return 0;
}

/**
 * sgx_encl_remove_pages() - Remove trimmed pages from SGX enclave
 * @encl:	Enclave to which the pages belong
 * @params:	Checked parameters from user: the pages to remove
 *
 * Return:
 * - 0:		Success.
 * - -errno:	Otherwise.
 */
static long sgx_encl_remove_pages(struct sgx_encl *encl,
				  struct sgx_enclave_remove_pages *params)
{
	unsigned long addr;
	unsigned long c;
	int ret = 0;

	for (c = 0; c < params->length; c += PAGE_SIZE) {
		addr = encl->base + params->offset + c;

		sgx_reclaim_direct();

		mutex_lock(&encl->lock);
		ret = sgx_encl_remove_page(encl, addr);
		mutex_unlock(&encl->lock);
		if (ret)
			break;
	}

	params->count = c;

	return ret;
}
