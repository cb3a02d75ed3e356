// SPDX-License-Identifier: MIT
/*
 * Sealing of evicted pages (seal.c, EWB and ELDU together), the acceptance
 * tests of the paging area:
 * - an EWB/ELDU round trip keeps the contents and the whole EPCM state;
 * - any change to what EWB wrote out (contents, PCMD.SECINFO, its reserved
 *   bytes, the MAC, the linear address, the owner, or the version through a
 *   replay of an older copy) fails with SGX_MAC_COMPARE_FAIL and changes
 *   nothing;
 * - a page evicted between EMODPR and EACCEPT can still be accepted;
 * - the SECS itself can be evicted and reloaded elsewhere, and the enclave
 *   still runs.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "paging_util.h"

#define NR_DATA 4

static struct fx fx;
static struct backing b;
static uint64_t va, target;

static void setup(void)
{
	fx_init(&fx, 96, 2);
	fx_build(&fx, NR_DATA);
	va = va_page(&fx);
	target = fx_alloc_epc(&fx);
	memset(&b, 0, sizeof(b));
}

static void teardown(void)
{
	fx_fini(&fx);
}

TestSuite(sealing, .init = setup, .fini = teardown);

static void fill(uint64_t epc, uint8_t seed)
{
	uint8_t *p = (uint8_t *)(uintptr_t)epc;

	for (unsigned int i = 0; i < 4096; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

/* ELDU b into epc for the enclave, and point lin's PTE at it. */
static void reload(uint64_t lin, struct backing *bk, uint64_t epc)
{
	struct sgx_pte *pte = sgx_pgtable_lookup(&fx.pt, lin);
	uint32_t flags;

	cr_assert_not_null(pte);
	flags = pte->flags;
	cr_assert_eq(backing_eldu(&fx, bk, fx.secs, epc), 0);
	cr_assert_eq(sgx_pgtable_map(&fx.pt, lin, epc, flags), 0);
}

/* The EPCM state EWB must carry through, as one comparable value. */
static uint64_t state_of(const struct epcm_entry *e)
{
	return SGX_SECINFO_TYPE(e->pt) | e->r * SGX_SECINFO_R |
	       e->w * SGX_SECINFO_W | e->x * SGX_SECINFO_X |
	       e->pending * SGX_SECINFO_PENDING |
	       e->modified * SGX_SECINFO_MODIFIED | e->pr * SGX_SECINFO_PR;
}

/* Pages in every state EWB must preserve, one per kind. */
static unsigned int varied_pages(uint64_t lins[8])
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	unsigned int n = 0;

	lins[n++] = fx_data(&fx, 0);	     /* REG RWX, after EMODPE */
	lins[n++] = fx_data(&fx, 1);	     /* REG R, PR */
	lins[n++] = fx_data(&fx, 2);	     /* TRIM, MODIFIED */
	lins[n++] = fx_data(&fx, 3);	     /* TCS, MODIFIED */
	lins[n++] = fx_tcs_of(&fx, fx.lp);   /* TCS */
	lins[n] = fx_data(&fx, NR_DATA + 2); /* REG RW, PENDING */
	fx_eaug(&fx, lins[n++]);
	fx_enter(&fx, a);
	cr_assert_eq(fx_emodpe(&fx, a, lins[0], SGX_SECINFO_X), 0);
	fx_exit(&fx, a);
	cr_assert_eq(fx_emodpr(&fx, lins[1], SGX_SECINFO_R), 0);
	cr_assert_eq(fx_emodt(&fx, lins[2], PT_TRIM), 0);
	cr_assert_eq(fx_emodt(&fx, lins[3], PT_TCS), 0);
	return n;
}

Test(sealing, round_trip_preserves_contents_and_state)
{
	static struct backing bk[8];
	static uint8_t contents[8][4096];
	uint64_t lins[8], state[8];
	unsigned int n = varied_pages(lins);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t epc = fx_epc_of(&fx, lins[i]);

		fill(epc, (uint8_t)i);
		memcpy(contents[i], (void *)(uintptr_t)epc, 4096);
		state[i] = state_of(epcm_of(&fx, epc));
		cr_assert_eq(encls_eblock(fx.lp, epc), 0);
	}
	cr_assert_eq(fx_etrack(&fx), 0);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(backing_ewb(&fx, fx_epc_of(&fx, lins[i]),
					 va + 8 * i, &bk[i]),
			     0, "EWB of page %u", i);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t epc = fx_alloc_epc(&fx);
		const struct epcm_entry *e = epcm_of(&fx, epc);

		reload(lins[i], &bk[i], epc);
		cr_assert_eq(state_of(e), state[i], "page %u: %#lx, not %#lx",
			     i, (unsigned long)state_of(e),
			     (unsigned long)state[i]);
		cr_assert_eq(e->enclave_address, lins[i]);
		cr_assert_eq(e->enclave_secs, secs_idx(&fx));
		cr_assert_eq(memcmp((void *)(uintptr_t)epc, contents[i], 4096),
			     0, "contents of page %u", i);
	}
}

/* Data page 0, evicted into b from slot 5 of the VA page. */
static void evict_data0(void)
{
	fill(fx_epc_of(&fx, fx_data(&fx, 0)), 0x40);
	evict(&fx, fx_data(&fx, 0), va + 40, &b);
}

/* A load that must fail the MAC, and change nothing. */
static void expect_mac_fail(struct backing *bk, uint64_t secs)
{
	uint64_t slot_value = va_slot_value(bk->slot);
	uint32_t children = child_count(&fx);
	struct fx_snap s;

	fx_snap(&fx, target, &s);
	cr_assert_eq(backing_eldu(&fx, bk, secs, target), SGX_MAC_COMPARE_FAIL);
	fx_expect_same(&fx, &s);
	cr_assert_eq(va_slot_value(bk->slot), slot_value);
	cr_assert_eq(child_count(&fx), children);
}

static void expect_loads(void)
{
	cr_assert_eq(backing_eldu(&fx, &b, fx.secs, target), 0);
	cr_assert(epcm_of(&fx, target)->valid);
}

Test(sealing, flipped_contents_bit_is_detected)
{
	evict_data0();
	b.contents[1234] ^= 0x10;
	expect_mac_fail(&b, fx.secs);
	b.contents[1234] ^= 0x10;
	expect_loads();
}

Test(sealing, flipped_secinfo_flags_are_detected)
{
	static const uint64_t bits[] = {
	    SGX_SECINFO_W,
	    SGX_SECINFO_X,
	    SGX_SECINFO_PENDING,
	    SGX_SECINFO_MODIFIED,
	    SGX_SECINFO_PR,
	    SGX_SECINFO_TYPE(PT_REG ^ PT_TCS),
	    BIT(40),
	};

	evict_data0();
	for (unsigned int i = 0; i < ARRAY_SIZE(bits); i++) {
		b.pcmd.secinfo.flags ^= bits[i];
		expect_mac_fail(&b, fx.secs);
		b.pcmd.secinfo.flags ^= bits[i];
	}
	expect_loads();
}

Test(sealing, flipped_pcmd_reserved_bytes_are_detected)
{
	evict_data0();
	b.pcmd.secinfo.reserved[17] ^= 0x01;
	expect_mac_fail(&b, fx.secs);
	b.pcmd.secinfo.reserved[17] ^= 0x01;
	b.pcmd.reserved[39] ^= 0x80;
	expect_mac_fail(&b, fx.secs);
	b.pcmd.reserved[39] ^= 0x80;
	expect_loads();
}

Test(sealing, flipped_mac_bit_is_detected)
{
	evict_data0();
	b.pcmd.mac[0] ^= 0x01;
	expect_mac_fail(&b, fx.secs);
	b.pcmd.mac[0] ^= 0x01;
	b.pcmd.mac[15] ^= 0x80;
	expect_mac_fail(&b, fx.secs);
	b.pcmd.mac[15] ^= 0x80;
	expect_loads();
}

Test(sealing, other_linear_address_is_detected)
{
	evict_data0();
	b.linaddr ^= 0x1000;
	expect_mac_fail(&b, fx.secs);
	b.linaddr ^= 0x1000;
	expect_loads();
}

/* PCMD.ENCLAVEID is a handle for software; the MAC binds the SECS's EID. */
Test(sealing, pcmd_enclave_id_is_not_trusted)
{
	evict_data0();
	b.pcmd.enclave_id ^= 0xFF;
	expect_loads();
}

Test(sealing, other_enclave_is_detected)
{
	uint64_t mine = fx.secs, other;

	evict_data0();
	other = fx_ecreate(&fx, FX_BASE, fx.size);
	fx.secs = mine;
	expect_mac_fail(&b, other);
	expect_loads();
}

/* The slot's version binds the newest copy; an older one is a replay. */
Test(sealing, replay_of_older_copy_is_detected)
{
	static struct backing old;
	uint64_t lin = fx_data(&fx, 0);
	uint64_t epc = fx_epc_of(&fx, lin);

	evict(&fx, lin, va + 40, &old);
	reload(lin, &old, epc);
	fill(epc, 0x77);
	evict(&fx, lin, va + 40, &b);
	cr_assert_neq(va_slot_value(va + 40), 0);
	expect_mac_fail(&old, fx.secs);
	expect_loads();
	cr_assert_eq(((uint8_t *)(uintptr_t)target)[1], (uint8_t)(31 + 0x77));
}

/*
 * The reclaimer may evict a page the OS restricted before the enclave
 * accepted it: EMODPR, ETRACK (the ioctl's), then EBLOCK, ETRACK and EWB
 * (the reclaimer's; EBLOCK stamps a new epoch), ELDU elsewhere, and the
 * enclave's EACCEPT still succeeds, with PR and the rights intact.
 */
Test(sealing, evicted_between_emodpr_and_eaccept)
{
	struct sgx_lp *a = &fx.cpu.lps[1];
	uint64_t lin = fx_data(&fx, 0), epc = fx_alloc_epc(&fx);
	const struct epcm_entry *e = epcm_of(&fx, epc);
	uint8_t buf[4];

	cr_assert_eq(fx_emodpr(&fx, lin, SGX_SECINFO_R), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	evict(&fx, lin, va, &b);
	reload(lin, &b, epc);
	cr_assert(e->pr && e->r && !e->w && !e->x);
	fx_enter(&fx, a);
	cr_assert_eq(fx_eaccept(&fx, a, lin,
				SGX_SECINFO_TYPE(PT_REG) | SGX_SECINFO_PR |
				    SGX_SECINFO_R),
		     0);
	cr_assert_not(e->pr);
	cr_assert_eq(sgx_lp_read(a, lin, buf, sizeof(buf)), 0);
	fx_expect_pf(a, sgx_lp_write(a, lin, buf, sizeof(buf)), lin,
		     0x7); /* the stale R entry; then the EPCM's own: */
	fx_expect_pf(a, sgx_lp_write(a, lin, buf, sizeof(buf)), lin,
		     X86_PF_SGX | X86_PF_USER | X86_PF_PROT | X86_PF_WRITE);
	fx_exit(&fx, a);
}

/* Evict every child (EBLOCK all, one ETRACK, EWB each) into bk. */
static unsigned int evict_all_children(struct backing *bk, uint64_t *lins)
{
	unsigned int n = enclave_children(&fx, NR_DATA, lins);

	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(encls_eblock(fx.lp, fx_epc_of(&fx, lins[i])), 0);
	cr_assert_eq(fx_etrack(&fx), 0);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(backing_ewb(&fx, fx_epc_of(&fx, lins[i]),
					 va + 8 * i, &bk[i]),
			     0, "EWB of child %u", i);
	cr_assert_eq(child_count(&fx), 0);
	return n;
}

/*
 * The SECS goes last and comes back first, to another EPC page, with its
 * hidden state (EID, epoch) inside; the children then name the new SECS,
 * and the enclave runs as before.
 */
Test(sealing, secs_evicted_and_reloaded_elsewhere)
{
	static struct backing bk[MAX_CHILDREN], sb;
	struct sgx_lp *a = &fx.cpu.lps[1];
	const struct secs_hidden *h = secs_hidden_at(&fx.cpu, secs_idx(&fx));
	uint64_t eid = h->eid, old = fx.secs, lins[MAX_CHILDREN];
	uint64_t new_secs = fx_alloc_epc(&fx);
	uint64_t value = 0x5EC5, got = 0, epoch;
	unsigned int n;

	fill(fx_epc_of(&fx, fx_data(&fx, 1)), 0x99);
	n = evict_all_children(bk, lins);
	epoch = h->epoch;
	cr_assert_eq(backing_ewb(&fx, old, va + 8 * n, &sb), 0);
	cr_assert_eq(sb.pcmd.enclave_id, eid);
	cr_assert_eq(backing_eldu(&fx, &sb, 0, new_secs), 0);
	fx.secs = new_secs;
	h = secs_hidden_at(&fx.cpu, secs_idx(&fx));
	cr_assert_eq(h->eid, eid);
	cr_assert_eq(h->epoch, epoch);
	/* The old SECS page is free: a child cannot be loaded against it. */
	fx_expect_pf(fx.lp, backing_eldu(&fx, &bk[0], old, fx_alloc_epc(&fx)),
		     old, FX_PF_EPCM);
	for (unsigned int i = 0; i < n; i++)
		reload(lins[i], &bk[i], fx_alloc_epc(&fx));
	cr_assert_eq(child_count(&fx), n);
	fx_enter(&fx, a);
	cr_assert_eq(sgx_lp_read(a, fx_data(&fx, 1) + 2, &got, 1), 0);
	cr_assert_eq(got, (uint8_t)(2 * 31 + 0x99));
	cr_assert_eq(sgx_lp_write(a, fx_data(&fx, 0), &value, 8), 0);
	cr_assert_eq(sgx_lp_read(a, fx_data(&fx, 0), &got, 8), 0);
	cr_assert_eq(got, value);
	fx_exit(&fx, a);
	cr_assert_eq(fx_etrack(&fx), 0);
}
