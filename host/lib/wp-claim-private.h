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
 *  - `offer` is the id of the job the pool handed the worker ahead of
 *    time, while the worker runs another (a prefetched job), or 0.
 *
 * A prefetched job must run exactly once, or not at all if the pool takes
 * it back (to cancel it, or to run it on a worker that went idle).  Both
 * sides race for it with one compare-and-swap on `offer`:
 *
 *   pool:   offer = ID, then writes the job's frame (only when offer is 0)
 *   worker: on reading the frame of job ID, CAS offer ID → 0: it took the
 *           job and runs it; if offer is ID|REVOKED instead, it stores 0
 *           and skips the frame without a word
 *   pool:   to take the job back, CAS offer ID → ID|REVOKED; it failed
 *           if the worker took the job first
 *   pool:   when the job ahead of it replies, the prefetched job becomes
 *           the worker's running job: CAS offer ID → 0, so the worker
 *           runs it like any job sent to it directly
 *
 * A frame whose id is neither `offer` nor `offer` & ~REVOKED was sent
 * directly and is run.  So the pool makes a new offer only once `offer`
 * is 0: a revoked offer stays there until the worker has skipped its
 * frame, and a job sent again later, even to the same worker, is not
 * mistaken for the revoked one.  Job ids are below 2^63.
 *
 * The page is untrusted: a worker can write anything there.  The pool
 * only ever compares what it reads with ids it knows, so a lying worker
 * can make its own jobs fail or be queued again, nothing else.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WP_CLAIM_REVOKED (G_GUINT64_CONSTANT (1) << 63)

typedef struct {
  guint64 started;
  guint64 offer;
} WpClaimPage;

/* Pool: offers job @id; FALSE if the last offer is not settled yet. */
static inline gboolean
wp_claim_offer (WpClaimPage *page,
                guint64      id)
{
  guint64 expected = 0;

  return __atomic_compare_exchange_n (&page->offer, &expected, id, FALSE,
                                      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Pool: takes job @id back; FALSE if the worker took it first. */
static inline gboolean
wp_claim_revoke (WpClaimPage *page,
                 guint64      id)
{
  guint64 expected = id;

  return __atomic_compare_exchange_n (&page->offer, &expected, id | WP_CLAIM_REVOKED, FALSE,
                                      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Pool: job @id now runs on the worker whatever happens; the worker
 * may have taken it already. */
static inline void
wp_claim_settle (WpClaimPage *page,
                 guint64      id)
{
  guint64 expected = id;

  __atomic_compare_exchange_n (&page->offer, &expected, 0, FALSE,
                               __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Pool: the offer of a revoked job whose frame never reached the worker
 * (so it will not clear it). */
static inline void
wp_claim_withdraw (WpClaimPage *page,
                   guint64      id)
{
  guint64 expected = id | WP_CLAIM_REVOKED;

  __atomic_compare_exchange_n (&page->offer, &expected, 0, FALSE,
                               __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Worker: whether to run the job @id it has just read, and if so, marks
 * it started. */
static inline gboolean
wp_claim_take (WpClaimPage *page,
               guint64      id)
{
  guint64 expected = id;

  if (!__atomic_compare_exchange_n (&page->offer, &expected, 0, FALSE,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
      && expected == (id | WP_CLAIM_REVOKED))
    {
      __atomic_store_n (&page->offer, 0, __ATOMIC_RELEASE);
      return FALSE;
    }

  __atomic_store_n (&page->started, id, __ATOMIC_RELEASE);
  return TRUE;
}

/* Pool: whether the worker took job @id last. */
static inline gboolean
wp_claim_was_started (const WpClaimPage *page,
                      guint64            id)
{
  return __atomic_load_n (&page->started, __ATOMIC_ACQUIRE) == id;
}

G_END_DECLS
