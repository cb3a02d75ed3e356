/* SPDX-License-Identifier: MIT */
struct widget {
	unsigned long desc;
	unsigned long gen;
	unsigned long tracked;
	int refs;
	/* inserted by the doc text */
};

int widget_last(void);
#define WIDGET_BATCH 64
