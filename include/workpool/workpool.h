/* workpool.h: the one header applications include.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef WORKPOOL_H
#define WORKPOOL_H

#define __WORKPOOL_H_INSIDE__

#include <workpool/wp-version.h>
#include <workpool/wp-error.h>
#include <workpool/wp-enum-types.h>
#include <workpool/wp-plugin.h>
#include <workpool/wp-pool.h>

#undef __WORKPOOL_H_INSIDE__

#endif /* WORKPOOL_H */
