// SPDX-License-Identifier: MIT
/* The third fake target: replaced functions keep their places. */

/* Replaced. */
static int part_alpha(void)
{
	return 1;
}

static int part_keep(void)
{
	return part_alpha();
}

/* Replaced too. */
static int part_beta(void)
{
	return 2;
}

static int part_last(void)
{
	return part_beta();
}
