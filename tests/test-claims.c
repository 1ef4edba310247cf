/* test-claims.c: the page of claims, on which a prefetched job runs once
 * or never.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rules of wp-claim-private.h, each played out on one page by the
 * two sides' functions in the order a race can put them: the pool offers,
 * revokes and withdraws; the worker takes or skips each frame it reads.
 * The interleavings between the worker's two looks at the page are
 * played by calling the second look (wp_claim_take_live()) after the
 * pool's move, as a race would.
 */

#include "config.h"

#include <glib.h>

#include "wp-claim-private.h"

static void
test_direct (void)
{
  WpClaimPage page = { 0, };

  g_test_summary ("A frame whose id is in no slot was sent directly: the worker runs it and "
                  "marks it started");

  g_assert_true (wp_claim_take (&page, 7));
  g_assert_true (wp_claim_was_started (&page, 7));
}

static void
test_offer_taken (void)
{
  WpClaimPage page = { 0, };
  int slot = wp_claim_offer (&page, 7);

  g_test_summary ("An offer the worker takes runs, frees its slot, and cannot be revoked "
                  "after");

  g_assert_cmpint (slot, >=, 0);
  g_assert_true (wp_claim_take (&page, 7));
  g_assert_true (wp_claim_was_started (&page, 7));
  g_assert_cmpuint (page.offers[slot], ==, 0);
  g_assert_false (wp_claim_revoke (&page, slot, 7));
}

static void
test_offer_revoked (void)
{
  WpClaimPage page = { 0, };
  int slot = wp_claim_offer (&page, 7);

  g_test_summary ("An offer the pool revokes first is skipped by the worker, which frees its "
                  "slot");

  g_assert_true (wp_claim_revoke (&page, slot, 7));
  g_assert_false (wp_claim_take (&page, 7));
  g_assert_false (wp_claim_was_started (&page, 7));
  g_assert_cmpuint (page.offers[slot], ==, 0);
}

static void
test_revoked_between_looks (void)
{
  WpClaimPage page = { 0, };
  int slot = wp_claim_offer (&page, 7);

  g_test_summary ("An offer revoked after the worker's first look (no revoked offer of the id) "
                  "and before its second is skipped, not taken for a frame sent directly");

  g_assert_false (wp_claim_skip_revoked (&page, 7));
  g_assert_true (wp_claim_revoke (&page, slot, 7));
  g_assert_false (wp_claim_take_live (&page, 7));
  g_assert_false (wp_claim_was_started (&page, 7));
  g_assert_cmpuint (page.offers[slot], ==, 0);
}

static void
test_sent_again (void)
{
  WpClaimPage page = { 0, };
  int first = wp_claim_offer (&page, 7);
  int second;

  g_test_summary ("A job revoked while its frame is in the pipe and offered again: the first "
                  "frame is skipped, the second runs, and both slots end free");

  g_assert_true (wp_claim_revoke (&page, first, 7));
  second = wp_claim_offer (&page, 7);
  g_assert_cmpint (second, >=, 0);
  g_assert_cmpint (second, !=, first);

  g_assert_false (wp_claim_take (&page, 7));
  g_assert_true (wp_claim_take (&page, 7));
  g_assert_true (wp_claim_was_started (&page, 7));
  g_assert_cmpuint (page.offers[first], ==, 0);
  g_assert_cmpuint (page.offers[second], ==, 0);
}

static void
test_withdrawn (void)
{
  WpClaimPage page = { 0, };
  int slot = wp_claim_offer (&page, 7);

  g_test_summary ("A revoked offer whose frame never left the pool is withdrawn: its slot is "
                  "free again, and a frame of the id sent directly later runs");

  g_assert_true (wp_claim_revoke (&page, slot, 7));
  wp_claim_withdraw (&page, slot, 7);
  g_assert_cmpuint (page.offers[slot], ==, 0);
  g_assert_true (wp_claim_has_free_slot (&page));
  g_assert_true (wp_claim_take (&page, 7));
}

static void
test_full (void)
{
  WpClaimPage page = { 0, };

  g_test_summary ("No more than WP_CLAIM_SLOTS offers at once");

  for (guint64 id = 1; id <= WP_CLAIM_SLOTS; id++)
    g_assert_cmpint (wp_claim_offer (&page, id), >=, 0);
  g_assert_false (wp_claim_has_free_slot (&page));
  g_assert_cmpint (wp_claim_offer (&page, WP_CLAIM_SLOTS + 1), ==, -1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/claims/direct", test_direct);
  g_test_add_func ("/claims/offer/taken", test_offer_taken);
  g_test_add_func ("/claims/offer/revoked", test_offer_revoked);
  g_test_add_func ("/claims/offer/revoked-between-looks", test_revoked_between_looks);
  g_test_add_func ("/claims/offer/sent-again", test_sent_again);
  g_test_add_func ("/claims/offer/withdrawn", test_withdrawn);
  g_test_add_func ("/claims/full", test_full);

  return g_test_run ();
}
