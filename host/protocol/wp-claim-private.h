/* wp-claim-private.h: the page a worker shares with its pool, and the
 * claim on a prefetched job that either side may win.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each worker process maps one WpClaimPage (MAP_SHARED, descriptor 4 of
 * the worker, see wp-worker-main.c) that both sides read and write with
 * atomic operations:
 *
 *  - `started` is the id of the last job the worker took.  The worker
 *    stores it before it loads or runs anything, so the pool can tell a
 *    job that crashed its worker from one it never took.
 *  - `offers` are the ids of the jobs the pool handed the worker ahead of
 *    time, while the worker runs another (prefetched jobs), one per slot,
 *    or 0 for a free slot.
 *
 * A prefetched job must run exactly once, or not at all if the pool takes
 * it back (to cancel it, or to run it on a worker that went idle).  Both
 * sides race for it with one compare-and-swap on its slot:
 *
 *   pool:   puts ID in a free slot, then writes the job's frame
 *   worker: on reading the frame of job ID, finds ID in a slot and CASes
 *           it ID → 0: it took the job and runs it; if the slot holds
 *           ID|REVOKED instead, it stores 0 and skips the frame without a
 *           word
 *   pool:   to take the job back, CAS slot ID → ID|REVOKED; it failed if
 *           the worker took the job first
 *
 * Once the jobs ahead of it have replied, the pool counts the prefetched
 * job as running and never revokes it again; the slot stays the job's
 * until the worker takes it.  So the worker's CAS fails only for a
 * revoked job.
 * A frame whose id is in no slot, plain or revoked, was sent directly and
 * is run.  A revoked offer keeps its slot until the worker has skipped
 * its frame (or, if the frame never left the pool, until the pool
 * withdraws it), so a job sent again later, even to the same worker, is
 * not mistaken for the revoked one.  So every frame the worker has not
 * read yet is the running job's or holds a slot.  Job ids are below 2^63.
 *
 * The page is untrusted: a worker can write anything there.  The pool
 * only ever compares what it reads with ids it knows, so a lying worker
 * can make its own jobs fail or be queued again, nothing else.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WP_CLAIM_REVOKED (G_GUINT64_CONSTANT (1) << 63)
#define WP_CLAIM_SLOTS   4

typedef struct {
  guint64 started;
  guint64 offers[WP_CLAIM_SLOTS];
} WpClaimPage;

static inline gboolean
wp_claim_cas (guint64 *slot,
              guint64  from,
              guint64  to)
{
  return __atomic_compare_exchange_n (slot, &from, to, FALSE, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Pool: offers job @id; returns its slot, or -1 if none is free. */
static inline int
wp_claim_offer (WpClaimPage *page,
                guint64      id)
{
  for (int i = 0; i < WP_CLAIM_SLOTS; i++)
    if (wp_claim_cas (&page->offers[i], 0, id))
      return i;

  return -1;
}

/* Pool: whether wp_claim_offer() would find a free slot now. */
static inline gboolean
wp_claim_has_free_slot (WpClaimPage *page)
{
  for (int i = 0; i < WP_CLAIM_SLOTS; i++)
    if (__atomic_load_n (&page->offers[i], __ATOMIC_ACQUIRE) == 0)
      return TRUE;

  return FALSE;
}

/* Pool: takes job @id back; FALSE if the worker took it first. */
static inline gboolean
wp_claim_revoke (WpClaimPage *page,
                 int          slot,
                 guint64      id)
{
  return wp_claim_cas (&page->offers[slot], id, id | WP_CLAIM_REVOKED);
}

/* Pool: frees the slot of a revoked job whose frame never reached the
 * worker (which will not free it). */
static inline void
wp_claim_withdraw (WpClaimPage *page,
                   int          slot,
                   guint64      id)
{
  wp_claim_cas (&page->offers[slot], id | WP_CLAIM_REVOKED, 0);
}

/* Worker: frees the slot of @id if it holds @id revoked. */
static inline gboolean
wp_claim_skip_revoked (WpClaimPage *page,
                       guint64      id)
{
  for (int i = 0; i < WP_CLAIM_SLOTS; i++)
    if (__atomic_load_n (&page->offers[i], __ATOMIC_ACQUIRE) == (id | WP_CLAIM_REVOKED))
      {
        __atomic_store_n (&page->offers[i], 0, __ATOMIC_RELEASE);
        return TRUE;
      }

  return FALSE;
}

/* Worker, the second look of wp_claim_take(): takes the live offer of
 * @id, if there is one; FALSE if the frame is to be skipped. */
static inline gboolean
wp_claim_take_live (WpClaimPage *page,
                    guint64      id)
{
  for (int i = 0; i < WP_CLAIM_SLOTS; i++)
    {
      guint64 *slot = &page->offers[i];
      guint64 value = __atomic_load_n (slot, __ATOMIC_ACQUIRE);

      /* Revoked since the first look: the frame is that offer's (a job
       * has one live offer at most), and is skipped like any revoked
       * one.  Taking it for a frame sent directly would run it. */
      if (value == (id | WP_CLAIM_REVOKED))
        {
          __atomic_store_n (slot, 0, __ATOMIC_RELEASE);
          return FALSE;
        }
      if (value != id)
        continue;

      /* A CAS that fails sees the pool's revocation. */
      if (wp_claim_cas (slot, id, 0))
        break;
      __atomic_store_n (slot, 0, __ATOMIC_RELEASE);
      return FALSE;
    }

  __atomic_store_n (&page->started, id, __ATOMIC_RELEASE);
  return TRUE;
}

/* Worker: whether to run the job @id it has just read; if so, marks it
 * started.  A revoked offer of @id is looked for first: the pool may have
 * sent the job again, after its revoked frame. */
static inline gboolean
wp_claim_take (WpClaimPage *page,
               guint64      id)
{
  return !wp_claim_skip_revoked (page, id) && wp_claim_take_live (page, id);
}

/* Pool: whether the worker took job @id last. */
static inline gboolean
wp_claim_was_started (const WpClaimPage *page,
                      guint64            id)
{
  return __atomic_load_n (&page->started, __ATOMIC_ACQUIRE) == id;
}

G_END_DECLS
