// SPDX-License-Identifier: MIT
/*
 * Schedule strings: everything a replay needs, in one shell-safe word.
 *
 *   s1:SCENARIO:bBATCH,mSTEPS,sSEED[,pPLANTS][,l0]:CHOICES
 *
 * s1 is the format's version. BATCH is the driver's etrack_batch, STEPS the
 * step bound that makes a livelock a violation, SEED the scenario's data
 * seed (xp_world.seed), PLANTS the planted bugs switched on (planted builds
 * only; absent means none), l0 the driver's per-page signal and resched
 * checks off (no_loop_checks; absent means on). CHOICES lists the
 * thread picked at every step where more than one could run, in order,
 * whichever strategy picked it: thread ids 0..31 are the letters a..z A..F,
 * and a letter followed by a decimal count N >= 2 stands for N picks of that
 * thread in a row. "s1:restrict:b1,m200000,s7:a3bca12" picks thread 0
 * three times, then 1, 2, and 0 twelve times.
 *
 * Only the canonical form parses (no count of 0 or 1, no leading zeros, no
 * two runs of one thread in a row, each setting once), so that encoding a
 * parsed schedule gives back the same string; anything else is -EINVAL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "explore/engine.h"

#define SCHEDULE_PREFIX "s1:"

static const char setting_keys[] = "bmspl";

int xp_choices_push(struct xp_choices *c, unsigned int id)
{
	ASSERT(id < SIM_THREADS_MAX);
	if (c->len == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		uint8_t *grown;

		if (cap > XP_CHOICES_MAX)
			return -ENOMEM;
		grown = realloc(c->id, cap);
		if (!grown)
			return -ENOMEM;
		c->id = grown;
		c->cap = cap;
	}
	c->id[c->len++] = (uint8_t)id;
	return 0;
}

void xp_choices_free(struct xp_choices *c)
{
	free(c->id);
	memset(c, 0, sizeof(*c));
}

bool xp_scenario_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= XP_NAME_MAX)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

static char thread_letter(unsigned int id)
{
	return id < 26 ? (char)('a' + id) : (char)('A' + id - 26);
}

/* The thread id of a choice letter, or -1. */
static int letter_thread(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c < 'A' + SIM_THREADS_MAX - 26)
		return c - 'A' + 26;
	return -1;
}

/* Append text to buf at *pos; false when it does not fit. */
static bool put(char *buf, size_t size, size_t *pos, const char *text)
{
	size_t len = strlen(text);

	if (*pos + len >= size)
		return false;
	memcpy(buf + *pos, text, len + 1);
	*pos += len;
	return true;
}

static bool put_run(char *buf, size_t size, size_t *pos, unsigned int id,
		    size_t count)
{
	char run[32];

	if (count == 1)
		snprintf(run, sizeof(run), "%c", thread_letter(id));
	else
		snprintf(run, sizeof(run), "%c%zu", thread_letter(id), count);
	return put(buf, size, pos, run);
}

int xp_schedule_encode(const struct xp_schedule *s, char *buf, size_t size)
{
	const struct xp_choices *c = &s->choices;
	char head[160];
	size_t pos = 0;

	if (!xp_scenario_name_valid(s->scenario))
		return -EINVAL;
	snprintf(head, sizeof(head), SCHEDULE_PREFIX "%s:b%u,m%llu,s%llu",
		 s->scenario, s->etrack_batch, (unsigned long long)s->steps_max,
		 (unsigned long long)s->seed);
	if (!size || !put(buf, size, &pos, head))
		return -ENOSPC;
	if (s->plants) {
		snprintf(head, sizeof(head), ",p%u", s->plants);
		if (!put(buf, size, &pos, head))
			return -ENOSPC;
	}
	if (s->no_loop_checks && !put(buf, size, &pos, ",l0"))
		return -ENOSPC;
	if (!put(buf, size, &pos, ":"))
		return -ENOSPC;
	for (size_t i = 0, run = 1; i < c->len; i += run, run = 1) {
		while (i + run < c->len && c->id[i + run] == c->id[i])
			run++;
		if (!put_run(buf, size, &pos, c->id[i], run))
			return -ENOSPC;
	}
	return (int)pos;
}

/* A canonical decimal at *p, at most max: no sign, no leading zero. */
static int parse_number(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int digit = (unsigned int)(*s - '0');

		if (v > (max - digit) / 10)
			return -EINVAL;
		v = v * 10 + digit;
	}
	*p = s;
	*out = v;
	return 0;
}

static int parse_name(const char **p, struct xp_schedule *s)
{
	const char *end = strchr(*p, ':');
	size_t len = end ? (size_t)(end - *p) : 0;

	if (!len || len >= XP_NAME_MAX)
		return -EINVAL;
	memcpy(s->scenario, *p, len);
	s->scenario[len] = '\0';
	if (!xp_scenario_name_valid(s->scenario))
		return -EINVAL;
	*p = end + 1;
	return 0;
}

/* "bN,mN,sN[,pN][,l0]:" in any order, each once; b, m, s are required. */
static int parse_settings(const char **p, struct xp_schedule *s)
{
	const char *q = *p;
	unsigned int seen = 0;

	for (;;) {
		const char *key = strchr(setting_keys, *q);
		unsigned int bit;
		uint64_t v;

		if (!*q || !key)
			return -EINVAL;
		bit = 1U << (key - setting_keys);
		q++;
		if (seen & bit ||
		    parse_number(&q, *key == 'b' || *key == 'p' ? UINT32_MAX :
								   UINT64_MAX,
				 &v) ||
		    (*key == 'l' && v))
			return -EINVAL;
		seen |= bit;
		if (*key == 'b')
			s->etrack_batch = (unsigned int)v;
		else if (*key == 'm')
			s->steps_max = v;
		else if (*key == 's')
			s->seed = v;
		else if (*key == 'p')
			s->plants = (unsigned int)v;
		else
			s->no_loop_checks = true;
		if (*q == ':')
			break;
		if (*q++ != ',')
			return -EINVAL;
	}
	/* b, m and s are required; p0 is spelled by leaving p out. */
	if ((seen & 7) != 7 || !s->steps_max || (seen & 8 && !s->plants))
		return -EINVAL;
	*p = q + 1;
	return 0;
}

static int parse_choices(const char *p, struct xp_choices *c)
{
	int last = -1;

	c->len = 0;
	while (*p) {
		int id = letter_thread(*p++);
		uint64_t count = 1;

		if (id < 0 || id == last)
			return -EINVAL;
		if (*p >= '0' && *p <= '9' &&
		    (parse_number(&p, XP_CHOICES_MAX, &count) || count < 2))
			return -EINVAL;
		if (c->len + count > XP_CHOICES_MAX)
			return -EINVAL;
		for (uint64_t i = 0; i < count; i++)
			if (xp_choices_push(c, (unsigned int)id))
				return -ENOMEM;
		last = id;
	}
	return 0;
}

int xp_schedule_parse(const char *text, struct xp_schedule *s)
{
	const char *p = text;
	int ret;

	s->scenario[0] = '\0';
	s->etrack_batch = 0;
	s->no_loop_checks = false;
	s->plants = 0;
	s->steps_max = 0;
	s->seed = 0;
	s->choices.len = 0;
	if (strncmp(p, SCHEDULE_PREFIX, strlen(SCHEDULE_PREFIX)))
		return -EINVAL;
	p += strlen(SCHEDULE_PREFIX);
	ret = parse_name(&p, s);
	if (!ret)
		ret = parse_settings(&p, s);
	if (!ret)
		ret = parse_choices(p, &s->choices);
	return ret;
}
