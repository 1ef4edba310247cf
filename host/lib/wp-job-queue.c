/* wp-job-queue.c: the queue of jobs waiting for a worker, in the order
 * they are to run.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The order is wp_job_is_before(): priority, then submission.  Jobs of
 * one priority form a band, a GQueue through each job's `link`; the
 * bands are kept in an array sorted by priority, and an empty band is
 * removed, so there are only as many as distinct priorities wait now (a
 * handful: GLib's priorities are few).  A job submitted now has the
 * largest id, so it goes to the tail of its band in O(1); a job put back
 * (taken back from a worker, or whose worker died before taking it) finds
 * its place from the head of its band, where it belongs, having waited
 * longest.  No memory per job beyond the job's own link.
 */

#include "config.h"

#include "wp-job-queue-private.h"

typedef struct {
  int    priority;
  GQueue jobs;
} WpJobBand;

void
wp_job_queue_init (WpJobQueue *queue)
{
  queue->bands = g_array_new (FALSE, FALSE, sizeof (WpJobBand));
  queue->length = 0;
}

void
wp_job_queue_clear (WpJobQueue *queue)
{
  g_assert (queue->length == 0);

  g_clear_pointer (&queue->bands, g_array_unref);
}

/* The index of @priority's band, or where to insert it. */
static guint
find_band (WpJobQueue *queue,
           int         priority,
           gboolean   *found)
{
  guint low = 0, high = queue->bands->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      int here = g_array_index (queue->bands, WpJobBand, middle).priority;

      if (here == priority)
        {
          *found = TRUE;
          return middle;
        }
      if (here < priority)
        low = middle + 1;
      else
        high = middle;
    }

  *found = FALSE;
  return low;
}

void
wp_job_queue_push (WpJobQueue *queue,
                   WpJob      *job)
{
  gboolean found;
  guint index = find_band (queue, job->priority, &found);
  WpJobBand *band;
  GList *after;

  if (!found)
    {
      WpJobBand empty = { job->priority, G_QUEUE_INIT };

      g_array_insert_val (queue->bands, index, empty);
    }
  band = &g_array_index (queue->bands, WpJobBand, index);

  /* The newest job goes last; an older one, from the head. */
  after = band->jobs.tail;
  if (after != NULL && ((WpJob *) after->data)->id > job->id)
    {
      after = NULL;
      for (GList *l = band->jobs.head; l != NULL && ((WpJob *) l->data)->id < job->id; l = l->next)
        after = l;
    }

  if (after == NULL)
    g_queue_push_head_link (&band->jobs, &job->link);
  else if (after == band->jobs.tail)
    g_queue_push_tail_link (&band->jobs, &job->link);
  else
    {
      job->link.prev = after;
      job->link.next = after->next;
      after->next->prev = &job->link;
      after->next = &job->link;
      band->jobs.length++;
    }
  queue->length++;
}

void
wp_job_queue_remove (WpJobQueue *queue,
                     WpJob      *job)
{
  gboolean found;
  guint index = find_band (queue, job->priority, &found);
  WpJobBand *band;

  g_assert (found);
  band = &g_array_index (queue->bands, WpJobBand, index);
  g_queue_unlink (&band->jobs, &job->link);
  queue->length--;
  if (g_queue_is_empty (&band->jobs))
    g_array_remove_index (queue->bands, index);
}

/* The job to run next, or NULL. */
WpJob *
wp_job_queue_peek (WpJobQueue *queue)
{
  if (queue->bands->len == 0)
    return NULL;

  return g_queue_peek_head (&g_array_index (queue->bands, WpJobBand, 0).jobs);
}

/* The job to run last, or NULL. */
WpJob *
wp_job_queue_peek_last (WpJobQueue *queue)
{
  if (queue->bands->len == 0)
    return NULL;

  return g_queue_peek_tail (&g_array_index (queue->bands, WpJobBand, queue->bands->len - 1).jobs);
}

/* A snapshot of the queue, in order, for a pass that may remove jobs. */
GPtrArray *
wp_job_queue_dup_jobs (WpJobQueue *queue)
{
  GPtrArray *jobs = g_ptr_array_sized_new (queue->length);

  for (guint i = 0; i < queue->bands->len; i++)
    for (GList *l = g_array_index (queue->bands, WpJobBand, i).jobs.head; l != NULL; l = l->next)
      g_ptr_array_add (jobs, l->data);

  return jobs;
}
