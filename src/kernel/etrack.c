// SPDX-License-Identifier: MIT
#include "kernel/encl.h"
