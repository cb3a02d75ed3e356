/* SPDX-License-Identifier: MIT */
struct widget {
	unsigned long desc;
	int refs;
};

int widget_last(void);
