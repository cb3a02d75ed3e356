// SPDX-License-Identifier: MIT
#include <stdio.h>
int cmd_demo(int argc, char **argv);
int main(int argc, char **argv)
{
	return cmd_demo(argc, argv);
}
