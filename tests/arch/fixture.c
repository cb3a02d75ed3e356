// SPDX-License-Identifier: MIT
#include "fixture.h"
