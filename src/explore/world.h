/* SPDX-License-Identifier: MIT */
/*
 * The building blocks of the explorer's scenarios, private to src/explore/:
 * the machine of one execution with its small enclave (world.c), scripted
 * enclave threads (ethread.c), and the invariants checked after every step
 * and at the end of a run (invariants.c). scenarios.c combines them.
 *
 * The enclave, page numbers from its base (all REG pages RW unless said):
 *   0 .. t-1          t TCS pages (NSSA 1, OENTRY at the OP page)
 *   t .. 2t-1         their SSA frames, TCS i using SSA page t + i
 *   2t                the OP page: each LP's SECINFO slot for EACCEPT and
 *                     EMODPE, 64 bytes apart
 *   2t + 1            the COPY page (if wanted): EACCEPTCOPY's source, never
 *                     written
 *   then              the scenario's pages: data pages added before INIT,
 *                     then holes, mapped RW but never added (EAUG on use)
 * Nothing is measured (no EEXTEND), so MRENCLAVE depends on the layout
 * alone; world.c signs each layout once per process.
 *
 * The scenario's pages are named by index (0 .. data + holes - 1). Their
 * contents are followed in slots: 8-byte words every XP_SLOT_STRIDE bytes,
 * which is what enclave threads read and write.
 */
#ifndef SGXEMU_EXPLORE_WORLD_H
#define SGXEMU_EXPLORE_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "explore/explore.h"

#define XP_BASE 0x100000000ULL /* naturally aligned for any ELRANGE used */
#define XP_BASE2 0x200000000ULL /* a second enclave's (xp_env_second()) */
#define XP_AEP 0x7000DEAD000ULL /* outside ELRANGE: where an AEX lands */
#define XP_TCS_MAX 3
#define XP_PAGES_MAX 8 /* data pages + holes */
#define XP_SLOTS 4
#define XP_SLOT_STRIDE (PAGE_SIZE / XP_SLOTS)
#define XP_ETHREADS_MAX 3
#define XP_THREADS_MAX 6 /* all sim threads of a scenario */
#define XP_FLAGS_MAX 4
#define XP_RECORDS_MAX 16

/* What a scenario's machine looks like. */
struct xp_layout {
	uint64_t epc_pages;
	unsigned int nr_lps;
	unsigned int nr_tcs; /* 1 .. XP_TCS_MAX */
	unsigned int data_pages;
	unsigned int holes; /* data_pages + holes <= XP_PAGES_MAX */
	bool copy_page;
	/* Data pages hold a TCS image (for MODIFY_TYPES to TCS). */
	bool tcs_image;
	/*
	 * No driver: the enclave is built with the leaves directly and its
	 * page table is env->pgtable; the adversarial scenario plays the OS.
	 */
	bool bare;
};

/* How an enclave thread's operation ended (bits, for allowed sets). */
enum xp_outcome {
	XP_OUT_OK = 1 << 0,
	XP_OUT_NOT_TRACKED = 1 << 1, /* SGX_NOT_TRACKED */
	XP_OUT_MISMATCH = 1 << 2, /* SGX_PAGE_ATTRIBUTES_MISMATCH */
	XP_OUT_SGX = 1 << 3, /* another SGX error code */
	XP_OUT_EPCM = 1 << 4, /* a #PF the EPCM raised: never fixed */
	XP_OUT_SEGV = 1 << 5, /* another #PF the kernel did not fix */
	XP_OUT_GP = 1 << 6, /* #GP or another exception */
	XP_OUT_OUTSIDE = 1 << 7, /* could not get back into the enclave */
	XP_OUT_ANY = (1 << 8) - 1,
};

enum xp_eop_kind {
	XP_EOP_END,
	XP_EOP_ENTER, /* EENTER through TCS arg */
	XP_EOP_EXIT, /* EEXIT */
	XP_EOP_READ, /* read slot arg of page; it must hold what was written */
	XP_EOP_WRITE, /* write a fresh value to slot arg of page */
	XP_EOP_EACCEPT, /* EACCEPT page with SECINFO flags arg */
	XP_EOP_EACCEPT_AUTO, /* EACCEPT page with flags read from its EPCM */
	XP_EOP_EACCEPTCOPY, /* EACCEPTCOPY page from the COPY page, flags arg */
	XP_EOP_EMODPE, /* EMODPE page with SECINFO flags arg */
	XP_EOP_WAIT, /* sleep until flag arg is raised */
	XP_EOP_SIGNAL, /* raise flag arg */
	/*
	 * The scheduler moves the thread to LP arg (an interrupt's AEX first
	 * if it is inside; the next operation ERESUMEs there).
	 */
	XP_EOP_MIGRATE,
	/*
	 * The thread's process exits, whatever the thread was doing (an
	 * interrupt's AEX if inside): its mm is torn down. Ends the program.
	 */
	XP_EOP_MM_EXIT,
};

/*
 * One operation of a scripted enclave thread. An operation is tried up to
 * tries times (0 means once) until it ends XP_OUT_OK; each try must end in
 * one of allow (0 means XP_OUT_OK only), or the run has a violation.
 */
struct xp_eop {
	uint8_t kind;
	uint8_t page;
	uint8_t tries;
	uint16_t allow;
	uint64_t arg;
};

struct xp_env;

/* A scripted enclave thread; its LP runs nothing else. */
struct xp_ethread {
	struct xp_env *env;
	const char *name;
	unsigned int lp;
	struct sgx_mm *mm; /* its process: w->mm, or env->fork_mm */
	const struct xp_eop *ops;
	uint64_t tcs; /* linear address of the TCS it entered by */
	bool inside; /* between a successful EENTER and its EEXIT */
	bool dead; /* it could not get back in: the rest is skipped */
	unsigned int op; /* the operation running */
};

/* One EACCEPT of a restriction that succeeded (the security property). */
struct xp_record {
	uint64_t index; /* EPC page */
	uint64_t lin;
	uint32_t secs; /* EPC index of the SECS it belonged to */
};

/* The state the invariants keep between steps (invariants.c). */
struct xp_checker {
	uint64_t arch_events; /* arch event count at the last full check */
	struct xp_record records[XP_RECORDS_MAX];
	unsigned int nr_records;
	uint64_t hold_acquisitions; /* the hold of encl->lock being watched */
	uint64_t hold_encls; /* ENCLS run by its holder since first seen */
	uint64_t encls_seen; /* ENCLS count at the last step */
};

/* The state of one execution that the scenario's threads share. */
struct xp_env {
	struct xp_world *w;
	struct xp_layout layout;
	uint64_t base, size;
	bool cpu_ready; /* w->cpu and w->sim are initialized */
	bool driver; /* w->drv is initialized */
	bool torn_down; /* the file closed and the process gone */
	struct sgx_encl *encl; /* NULL once torn down */
	/* A second process mapping the enclave (xp_env_fork()), or NULL. */
	struct sgx_mm *fork_mm;
	/*
	 * A second enclave in the same process (xp_env_second()), or NULL;
	 * and the file of the enclave that is a second one (w->file else).
	 */
	struct xp_env *second;
	struct sgx_file *file;
	/* Bare layouts: the page table, SECS, VA page and next free page. */
	bool bare;
	struct sgx_pgtable pgtable;
	uint64_t bare_secs, bare_va, bare_next;
	struct xp_ethread ethreads[XP_ETHREADS_MAX];
	unsigned int nr_ethreads;
	bool flags[XP_FLAGS_MAX];
	/*
	 * Reclaimer progress: batches done, and whether it has finished; an
	 * EPC hog holding every free page counts a batch when it lets go.
	 */
	uint64_t reclaims;
	bool reclaimer_done;
	bool epc_hogged;
	/* What the scenario's pages hold, slot by slot; known[] if present. */
	uint64_t shadow[XP_PAGES_MAX][XP_SLOTS];
	bool known[XP_PAGES_MAX];
	bool accepted[XP_PAGES_MAX]; /* an EACCEPT of the page succeeded */
	bool extended[XP_PAGES_MAX]; /* an EMODPE of the page succeeded */
	/* Left untracked after count by a call whose tracking failed. */
	bool untracked[XP_PAGES_MAX];
	struct xp_checker chk;
	void *scenario; /* the scenario's own state */
};

/* world.c */
int xp_env_build(struct xp_world *w, const struct xp_layout *layout,
		 struct xp_env **out);
/* Spawn fn as a sim thread on lp; -errno or 0. */
int xp_env_spawn(struct xp_env *env, const char *name, unsigned int lp,
		 void (*fn)(void *arg), void *arg);
/* A second process that maps the whole enclave, as after fork(). */
int xp_env_fork(struct xp_env *env);
/* A second enclave of the same layout in the same process. */
int xp_env_second(struct xp_env *env);
/* Close the enclave file and end the process (direct mode). */
void xp_env_teardown(struct xp_env *env);
/* Free everything, whatever state the run ended in. */
void xp_env_destroy(struct xp_world *w);
uint64_t xp_page_offset(const struct xp_env *env, unsigned int page);
uint64_t xp_page_lin(const struct xp_env *env, unsigned int page);
uint64_t xp_tcs_lin(const struct xp_env *env, unsigned int tcs);
uint64_t xp_op_lin(const struct xp_env *env);
uint64_t xp_copy_lin(const struct xp_env *env);
/* The initial contents of a slot of the COPY page or a data page. */
uint64_t xp_slot_pattern(unsigned int page, unsigned int slot);
/* Sleep until *flag or a change of *counter; wake every sleeper. */
void xp_env_wait(struct xp_env *env, const bool *flag,
		 const uint64_t *counter, uint64_t seen);
void xp_env_wake(struct xp_env *env);
/* Sleep until EPC pages may have been freed since seen (env->reclaims). */
void xp_env_wait_epc(struct xp_env *env, uint64_t seen);
/* Record the first violation (printf-style); later ones are dropped. */
void xp_violation(struct xp_env *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ethread.c */
int xp_ethread_spawn(struct xp_env *env, const char *name, unsigned int lp,
		     const struct xp_eop *ops);

/* invariants.c */
const char *xp_check_step(struct xp_env *env);
/* The end checks of a run that finished: teardown, then no EPC leaked. */
const char *xp_check_end(struct xp_env *env, int run_result);
void xp_record_accept(struct xp_env *env, uint64_t index, uint64_t lin);
/* After RESTRICT_PERMISSIONS / MODIFY_TYPES returned count bytes. */
void xp_check_restricted(struct xp_env *env, struct sgx_encl *encl,
			 uint64_t offset, uint64_t count, uint64_t perm);
void xp_check_modified(struct xp_env *env, struct sgx_encl *encl,
		       uint64_t offset, uint64_t count,
		       enum sgx_page_type type);
/*
 * After RESTRICT_PERMISSIONS / MODIFY_TYPES over [offset, offset + length)
 * returned ret with count bytes: a page after count still waiting for
 * tracking is allowed only when the tracking failed (-EFAULT, result 0, at
 * a page that exists).
 */
void xp_check_after_count(struct xp_env *env, struct sgx_encl *encl,
			  uint64_t offset, uint64_t length, uint64_t count,
			  long ret, uint64_t result);

#endif
