/* sgxemu-fragment: the splicer's self-test fragment for foo.c
 * header: foo.h after "	unsigned long desc;": 	unsigned long gen;
 * header: foo.h after "	unsigned long desc;": 	unsigned long tracked;
 * header: foo.h after "int widget_last(void);": #define WIDGET_BATCH 64
 */

/**
 * widget_put() - the new put, first in the fragment
 * @w:	the widget
 *
 * Return: 1
 */
static long widget_put(struct widget *w)
{
	SGX_MODEL_CHARGE(w, PUT);
	return 1;
}

/* A new helper, with no Linux twin. */
static int widget_step(struct widget *w)
{
	SGX_MODEL_PLANT(w, STEP, return 0);
	/* sgxemu-series: patch 3 begin */
	if (w->refs > 1)
		return -4;
	/* sgxemu-series: patch 3 end */
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
	SGX_MODEL_WINDOW(w, 0);
	return widget_step(w);
}
