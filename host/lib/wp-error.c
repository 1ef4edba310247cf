/* wp-error.c: the WP_POOL_ERROR domain.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <workpool/wp-error.h>

G_DEFINE_QUARK (wp-pool-error-quark, wp_pool_error)
