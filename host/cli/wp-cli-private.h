/* wp-cli-private.h: what the files of the `workpool` command share.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `workpool` is one program with subcommands.  workpool.c holds main(),
 * the table of subcommands and the helpers declared here; each subcommand
 * lives in its own file, wp-cli-NAME.c, and exports one function,
 * wp_cli_NAME(), which gets the command line after `workpool` (argv[0] is
 * the subcommand's name) and returns the exit status.  To add one: write
 * wp-cli-NAME.c, declare wp_cli_NAME() below, add a row to the table in
 * workpool.c and the file to meson.build.
 *
 * Threads.  Everything runs in the main thread on the global default main
 * context, which is therefore the pool context of every pool made here.
 * A subcommand starts async operations with wp_cli_store_result() as the
 * callback and wp_cli_wait() iterates that context until the result is in.
 *
 * Output.  Results go to stdout.  Errors go to stderr, one line each:
 * for a failed operation (exit status 1), `workpool: DOMAIN:CODE: message`
 * from `list` and `call`, `workpool: message` from `thumbnail`, which
 * leaves DOMAIN:CODE to a debug message (G_MESSAGES_DEBUG=workpool; debug
 * messages go to stderr too); `workpool: message` plus a hint to use
 * --help for a usage error (2).
 */

#ifndef WP_CLI_PRIVATE_H
#define WP_CLI_PRIVATE_H

#include <workpool/workpool.h>

G_BEGIN_DECLS

typedef enum {
  WP_CLI_EXIT_OK     = 0,   /* everything succeeded */
  WP_CLI_EXIT_FAILED = 1,   /* a job, or the pool, failed */
  WP_CLI_EXIT_USAGE  = 2,   /* the command line is wrong */
} WpCliExitStatus;

/* An option entry for --plugin-dir; @location is a `char **`. */
#define WP_CLI_OPTION_PLUGIN_DIR(location)                              \
  { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, (location),              \
    "Load plugins from DIR (default: $WORKPOOL_PLUGIN_DIR, else the "   \
    "installed plugins)", "DIR" }

/* An option entry for --sandbox; @location is a `char **`, given to
 * wp_cli_pool_new(). */
#define WP_CLI_OPTION_SANDBOX(location, default_text)                   \
  { "sandbox", 0, 0, G_OPTION_ARG_STRING, (location),                   \
    "Confine the workers: none or strict (default: " default_text ")",  \
    "SANDBOX" }

/* An option entry for --launcher; @location is a `char **`, given to
 * wp_cli_pool_new(). */
#define WP_CLI_OPTION_LAUNCHER(location)                                \
  { "launcher", 0, 0, G_OPTION_ARG_STRING, (location),                  \
    "Start each worker through COMMAND, split as a shell would, such as "  \
    "'srun --unbuffered --ntasks=1 --input=0' or 'ssh -T HOST' (default: " \
    "workers on this machine)", "COMMAND" }

/* Subcommands */

int           wp_cli_list          (int              argc,
                                    char           **argv);
int           wp_cli_call          (int              argc,
                                    char           **argv);
int           wp_cli_thumbnail     (int              argc,
                                    char           **argv);

/* Messages: each prints to stderr and returns the exit status to use. */

int           wp_cli_usage_error   (const char      *format,
                                    ...) G_GNUC_PRINTF (1, 2);
int           wp_cli_fail          (const char      *what,
                                    const GError    *error);
gboolean      wp_cli_hint_worker   (void);
void          wp_cli_hint_list     (const GError    *error,
                                    const char      *plugin_dir);

/* Options: parses, or prints a usage error and returns FALSE. */

gboolean      wp_cli_parse_options (GOptionContext  *context,
                                    int             *argc,
                                    char          ***argv);

/* Pools */

WpPool       *wp_cli_pool_new      (const char      *plugin_dir,
                                    guint            n_workers,
                                    const char      *sandbox,
                                    const char      *launcher,
                                    int             *exit_status);
void          wp_cli_print_sandbox (WpPool          *pool);
gboolean      wp_cli_pool_close    (WpPool          *pool);

/* Waiting for async operations */

void          wp_cli_store_result  (GObject         *source,
                                    GAsyncResult    *result,
                                    gpointer         user_data);
GAsyncResult *wp_cli_wait          (GAsyncResult   **result);

G_END_DECLS

#endif /* WP_CLI_PRIVATE_H */
