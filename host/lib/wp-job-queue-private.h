/* wp-job-queue-private.h: the queue of jobs waiting for a worker.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "wp-job-private.h"

G_BEGIN_DECLS

typedef struct {
  GArray *bands;   /* WpJobBand, by priority, most urgent first; none empty */
  guint   length;
} WpJobQueue;

void      wp_job_queue_init     (WpJobQueue *queue);
void      wp_job_queue_clear    (WpJobQueue *queue);
void      wp_job_queue_push     (WpJobQueue *queue,
                                 WpJob      *job);
void      wp_job_queue_remove   (WpJobQueue *queue,
                                 WpJob      *job);
WpJob    *wp_job_queue_peek     (WpJobQueue *queue);
WpJob    *wp_job_queue_peek_last (WpJobQueue *queue);
GPtrArray *wp_job_queue_dup_jobs (WpJobQueue *queue);

static inline gboolean
wp_job_queue_is_empty (WpJobQueue *queue)
{
  return queue->length == 0;
}

G_END_DECLS
