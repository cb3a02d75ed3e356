// SPDX-License-Identifier: MIT
int cmd_demo(int argc, char **argv);
int cmd_demo(int argc, char **argv)
{
	return argc && argv ? 0 : 1;
}
