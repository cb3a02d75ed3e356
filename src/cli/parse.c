// SPDX-License-Identifier: MIT
/* Option arguments shared by the subcommands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool cli_parse_on_off(const char *s, bool *on)
{
	if (strcmp(s, "on") && strcmp(s, "off"))
		return false;
	*on = !strcmp(s, "on");
	return true;
}
