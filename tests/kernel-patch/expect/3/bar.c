// SPDX-License-Identifier: MIT
/* The second fake target: a fragment inserted before a function. */

/* The first. */
static int gadget_first(void)
{
	return 1;
}

#define GADGET_MAX 4

/* New: between the two. */
static int gadget_between(void)
{
	return GADGET_MAX;
}

static int gadget_second(void)
{
	return 2;
}
