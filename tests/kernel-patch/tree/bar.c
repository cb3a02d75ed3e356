// SPDX-License-Identifier: MIT
/* The second fake target: a fragment inserted before a function. */

/* The first. */
static int gadget_first(void)
{
	return 1;
}

static int gadget_second(void)
{
	return 2;
}
