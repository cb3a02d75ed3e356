// SPDX-License-Identifier: MIT
/*
 * The program's signal handlers and enclaves (issue 12 item 9):
 *
 * - the handler of an enclave fault (SIGSEGV at the AEP) enters the
 *   enclave on another TCS, once on the host's stack and once with the
 *   enclave on its own stack, and leaves with siglongjmp();
 * - a thread whose first ENCLU comes in a handler on the program's own
 *   alternate stack;
 * - a handler with SA_ONSTACK runs on the alternate stack the program
 *   asked for, after the thread has entered already, and enters the
 *   enclave from there;
 * - a signal that interrupts enclave code (an AEX first) whose handler,
 *   on the runtime's stack, enters the enclave with its own stack.
 *
 * Each entry is checked by its result; the enclave's own stack (op
 * HE_OWN_STACK) makes sure that a trap of enclave code is never delivered
 * over a frame still in use.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "host_encl.h"

#define STACK_SIZE (64 * 1024)
#define VALUE 0x5157ULL

static struct host_encl e;
static sigjmp_buf jmp;
static volatile uint64_t got_get, got_own, on_own_stack;
static char own_stack[STACK_SIZE] __attribute__((aligned(16)));

static uint64_t tcs_of(unsigned int i)
{
	return e.base + HE_TCS + i * 4096ULL;
}

static bool on(const char *stack, const void *p)
{
	return (const char *)p >= stack && (const char *)p < stack + STACK_SIZE;
}

/* Both kinds of entry on TCS @i, from wherever the caller runs. */
static void enter_both(unsigned int i)
{
	got_get = host_enter(tcs_of(i), HE_GET, 0, 0);
	got_own = host_enter(tcs_of(i), HE_OWN_STACK, 0, 0);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	enter_both(1);
	siglongjmp(jmp, 1);
}

static void test_enter_from_fault_handler(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv,
				.sa_flags = SA_SIGINFO };
	int left = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	got_get = got_own = 0;
	/* A write to the code page (R X): the program's SIGSEGV at the AEP. */
	if (!sigsetjmp(jmp, 1))
		host_enter(tcs_of(0), HE_WRITE, e.base + HE_CODE, 1);
	else
		left = 1;
	CHECK(left, "the handler of the enclave fault ran");
	CHECK(got_get == VALUE, "entered from the fault's handler: %#llx",
	      (unsigned long long)got_get);
	CHECK(got_own == VALUE, "and on the enclave's own stack: %#llx",
	      (unsigned long long)got_own);
	CHECK(host_enter(tcs_of(2), HE_GET, 0, 0) == VALUE, "entered after");
	signal(SIGSEGV, SIG_DFL);
}

static void on_usr(int sig)
{
	char here;

	on_own_stack = on(own_stack, &here);
	enter_both(sig == SIGUSR1 ? 3 : 4);
	on_own_stack = on_own_stack && on(own_stack, &here);
}

static void use_own_stack(void)
{
	stack_t ss = { .ss_sp = own_stack, .ss_size = STACK_SIZE };

	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
}

static void handle_on_stack(int sig)
{
	struct sigaction sa = { .sa_handler = on_usr, .sa_flags = SA_ONSTACK };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* This thread's first ENCLU comes in a handler on its own stack. */
static void *first_enclu_on_altstack(void *p)
{
	use_own_stack();
	raise(SIGUSR1);
	return NULL;
}

static void test_first_enclu_on_program_altstack(void)
{
	pthread_t t;

	handle_on_stack(SIGUSR1);
	got_get = got_own = on_own_stack = 0;
	pthread_create(&t, NULL, first_enclu_on_altstack, NULL);
	pthread_join(t, NULL);
	CHECK(on_own_stack, "the handler ran on the program's stack");
	CHECK(got_get == VALUE && got_own == VALUE,
	      "first entries from the handler: %#llx %#llx",
	      (unsigned long long)got_get, (unsigned long long)got_own);
}

/* The main thread, which has entered before, takes SIGUSR2 there. */
static void test_handler_on_program_altstack(void)
{
	handle_on_stack(SIGUSR2);
	use_own_stack();
	got_get = got_own = on_own_stack = 0;
	raise(SIGUSR2);
	CHECK(on_own_stack, "SA_ONSTACK: the program's alternate stack");
	CHECK(got_get == VALUE && got_own == VALUE,
	      "entries from the handler: %#llx %#llx",
	      (unsigned long long)got_get, (unsigned long long)got_own);
	CHECK(host_enter(tcs_of(5), HE_OWN_STACK, 0, 0) == VALUE,
	      "entered after");
}

static volatile uint64_t spun;
static atomic_bool spinning;

static void on_interrupt(int sig)
{
	got_own = host_enter(tcs_of(6), HE_OWN_STACK, 0, 0);
}

static void *spinner(void *p)
{
	atomic_store(&spinning, true);
	spun = host_enter(tcs_of(5), HE_SPIN, 0, 200000000);
	return NULL;
}

static void test_enter_from_interrupt_handler(void)
{
	pthread_t t;

	signal(SIGURG, on_interrupt);
	got_own = 0;
	spun = 1;
	pthread_create(&t, NULL, spinner, NULL);
	while (!atomic_load(&spinning))
		sched_yield();
	usleep(20000); /* most likely inside by now; either way it must work */
	pthread_kill(t, SIGURG);
	pthread_join(t, NULL);
	CHECK(got_own == VALUE, "entered from the interrupt's handler: %#llx",
	      (unsigned long long)got_own);
	CHECK(spun == 0, "the interrupted call went on to its end");
}

int main(void)
{
	if (host_encl_build(&e))
		return 1;
	host_enter(tcs_of(7), HE_PUT, VALUE, 0);
	test_enter_from_fault_handler();
	test_handler_on_program_altstack();
	memset(own_stack, 0, sizeof(own_stack));
	test_first_enclu_on_program_altstack();
	test_enter_from_interrupt_handler();
	host_encl_destroy(&e);
	printf("%u checks, %u failed\n", checks, failures);
	return failures != 0;
}
