/* wp-cli-progress.c: a one-line progress bar on stderr, for `workpool thumbnail`.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   120/3400+ images  35.2/s
 *   1200/3400 images [########................]  35.2/s  1:02 left
 *
 * The bar is one line on stderr, rewritten in place with "\r" and an
 * erase-to-end-of-line.  It shows the items done out of those found so
 * far ("+" while the search goes on), the rate of the items that took
 * work (skipped ones are excluded, they are nearly free), and, once every
 * item has been found, a bar and the time left at that rate.
 *
 * Invariants:
 *  - At most one redraw per MIN_REDRAW_US (10 a second), however often
 *    wp_cli_progress_draw() is called: callers call it on every event.
 *  - The line never wraps: it is cut to the terminal's width.
 *  - After wp_cli_progress_clear() the cursor is at the start of an empty
 *    line, so another message (an error, the summary) can be printed; the
 *    next draw puts the bar back.
 *
 * Whether to show a bar at all (stderr a terminal, --progress) is the
 * caller's decision.  Main thread only.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "wp-cli-progress.h"

#define MIN_REDRAW_US   (G_USEC_PER_SEC / 10)
#define BAR_WIDTH       24
#define DEFAULT_COLUMNS 80
#define ERASE_LINE      "\r\033[K"

struct _WpCliProgress {
  gint64   last_draw;  /* monotonic time of the last redraw, 0: never */
  gboolean shown;      /* a bar is on screen */
};

WpCliProgress *
wp_cli_progress_new (void)
{
  return g_new0 (WpCliProgress, 1);
}

void
wp_cli_progress_free (WpCliProgress *progress)
{
  wp_cli_progress_clear (progress);
  g_free (progress);
}

static guint
terminal_columns (void)
{
  struct winsize size;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return DEFAULT_COLUMNS;
}

/* " [####....]", once the total is known. */
static void
append_bar (GString                  *line,
            const WpCliProgressState *state)
{
  guint filled = 0;

  if (!state->total_known)
    return;
  if (state->total > 0)
    filled = (guint) (BAR_WIDTH * MIN (state->done, state->total) / state->total);

  g_string_append (line, " [");
  for (guint i = 0; i < BAR_WIDTH; i++)
    g_string_append_c (line, i < filled ? '#' : '.');
  g_string_append_c (line, ']');
}

/* "  35.2/s  1:36 left": the rate, and the time left once it is known. */
static void
append_rate (GString                  *line,
             const WpCliProgressState *state)
{
  double seconds = (double) state->elapsed_us / G_USEC_PER_SEC;
  double rate = seconds > 0 ? state->worked / seconds : 0;
  guint64 left;

  g_string_append_printf (line, "  %.1f/s", rate);
  if (!state->total_known || rate <= 0 || state->done >= state->total)
    return;

  left = (guint64) ((state->total - state->done) / rate + 0.5);
  if (left >= 3600)
    g_string_append_printf (line, "  %" G_GUINT64_FORMAT ":%02u:%02u left",
                            left / 3600, (guint) (left / 60 % 60), (guint) (left % 60));
  else
    g_string_append_printf (line, "  %u:%02u left",
                            (guint) (left / 60), (guint) (left % 60));
}

static char *
format_line (const WpCliProgressState *state)
{
  GString *line = g_string_new (NULL);

  g_string_append_printf (line, "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "%s images",
                          state->done, state->total, state->total_known ? "" : "+");
  append_bar (line, state);
  append_rate (line, state);
  return g_string_free (line, FALSE);
}

/* Redraws the bar, unless it was redrawn less than 0.1 s ago. */
void
wp_cli_progress_draw (WpCliProgress            *progress,
                      const WpCliProgressState *state)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree char *line = NULL;
  guint columns;

  if (progress->last_draw != 0 && now - progress->last_draw < MIN_REDRAW_US)
    return;
  progress->last_draw = now;

  line = format_line (state);
  columns = terminal_columns ();
  if (strlen (line) >= columns)
    line[columns - 1] = '\0';

  fprintf (stderr, ERASE_LINE "%s", line);
  fflush (stderr);
  progress->shown = TRUE;
}

/* Erases the bar, if one is shown. */
void
wp_cli_progress_clear (WpCliProgress *progress)
{
  if (!progress->shown)
    return;
  fputs (ERASE_LINE, stderr);
  fflush (stderr);
  progress->shown = FALSE;
  progress->last_draw = 0;
}
