// SPDX-License-Identifier: MIT
#include "arch/crypto.h"
