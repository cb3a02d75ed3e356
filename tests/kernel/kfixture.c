// SPDX-License-Identifier: MIT
#include "kfixture.h"
