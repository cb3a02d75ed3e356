/* SPDX-License-Identifier: MIT */
/* Shared pieces of the sgxemu command's subcommands. */
#ifndef SGXEMU_CLI_H
#define SGXEMU_CLI_H

#include <stdio.h>

#include "arch/cpu.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_explore(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* A whole decimal number in [min, max]; false for anything else. */
bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "on" or "off", as --loop-checks takes it; false if neither. */
bool cli_parse_on_off(const char *s, bool *on);

/* "SGX_NOT_TRACKED", "#PF", "SUCCESS", ... for a leaf result. */
const char *cli_result_name(int ret);
/* An EPCM entry as one line of text, or as a JSON object. */
void cli_print_epcm(FILE *out, const struct epcm_entry *e, bool json);

#endif
