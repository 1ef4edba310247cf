/* wp-test-cli.h: running the built `workpool` command from a test.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by tests/cli and tests/cli-thumbnail.  The command is
 * $WORKPOOL_CLI, which their meson.build files set.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int   status;   /* exit status */
  char *out;      /* stdout */
  char *err;      /* stderr */
} WpCliRun;

void       wp_cli_run_free         (WpCliRun           *run);
GPtrArray *wp_cli_command_line_new (const char         *subcommand,
                                    const char * const *args);
WpCliRun  *wp_cli_run_argv         (const char         *subcommand,
                                    const char * const *args);
/* The --launcher to test: $WORKPOOL_TEST_LAUNCHER (srun or ssh, from
 * tests/remote/with-engine.sh), else `env`. */
const char *wp_cli_test_launcher   (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpCliRun, wp_cli_run_free)

G_END_DECLS
