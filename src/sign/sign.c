// SPDX-License-Identifier: MIT
#include "sign/sign.h"
