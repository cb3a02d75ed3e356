// SPDX-License-Identifier: MIT
/* A fake driver file, the splicer's target in its self-test. */

static int widget_count;

/**
 * widget_put() - the new put, first in the fragment
 * @w:	the widget
 *
 * Return: 1
 */
static long widget_put(struct widget *w)
{
	return 1;
}

/* A new helper, with no Linux twin. */
static int widget_step(struct widget *w)
{
	if (w->refs > 1)
		return -4;
	return w->refs;
}

/**
 * widget_get() - the new get
 * @w:	the widget
 *
 * Return: what widget_step() says
 */
static int widget_get(struct widget *w)
{
	return widget_step(w);
}

/* Not replaced: stays as it is. */
static void widget_keep(void)
{
	widget_count++;
}

/* The last function. */
int widget_last(void)
{
	return widget_count;
}
