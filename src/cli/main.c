// SPDX-License-Identifier: MIT
/*
 * The sgxemu command: one subcommand per job. Exit status: 0 success,
 * 1 the job ran and found a failure, 2 a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "bench", cmd_bench, "price Linux's per-page ETRACK against batched "
			      "ETRACK" },
	{ "demo", cmd_demo, "walk one enclave through its life, leaf by leaf" },
	{ "explore", cmd_explore, "run scenarios under many schedules, check "
				  "invariants" },
	{ "replay", cmd_replay, "rerun one schedule exactly, write its trace" },
	{ "run", cmd_run, "run an unmodified SGX program, enclaves native" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: sgxemu [--help] [--version] COMMAND [ARGS]\n\n"
		     "Linux SGX2 enclave memory management, without SGX "
		     "hardware.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'sgxemu COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("sgxemu %s\n", SGXEMU_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sgxemu: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
