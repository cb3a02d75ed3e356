// SPDX-License-Identifier: MIT
/* A fake driver file, the splicer's target in its self-test. */

static int widget_count;

/**
 * widget_get() - one widget
 * @w:	the widget
 *
 * Return: 0
 */
static int widget_get(struct widget *w)
{
	return 0;
}

/* Not replaced: stays as it is. */
static void widget_keep(void)
{
	widget_count++;
}

static long
widget_put(struct widget *w,
	   int flags)
{
	if (flags)
		return -1;
	return 1;
}

/* The last function. */
int widget_last(void)
{
	return widget_count;
}
