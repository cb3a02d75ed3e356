/* sgxemu-fragment: the in-place case: Linux's order, so no moved code */

#define PART_BASE 10

static int part_helper(void)
{
	return PART_BASE;
}

/* The new alpha. */
static int part_alpha(void)
{
	return part_helper();
}

/* Before beta, so it goes with beta. */
static int part_other(void)
{
	return 3;
}

static int part_beta(void)
{
	return part_other();
}

/* After the last replaced function: stays with it. */
static int part_tail(void)
{
	return 4;
}
