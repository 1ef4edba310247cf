/* wp-sanitizer-private.h: whether this is an AddressSanitizer build.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AddressSanitizer reserves terabytes of address space when a process
 * starts (its shadow memory), so an RLIMIT_AS limit cannot work under
 * it: the worker does not apply its memory limit in such a build, the
 * pool does not claim the limit in its crash reports, and the tests that
 * need a real limit skip.  All three decide with WP_ASAN_BUILD.
 */

#pragma once

#if defined(__SANITIZE_ADDRESS__)
# define WP_ASAN_BUILD 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define WP_ASAN_BUILD 1
# endif
#endif

#ifndef WP_ASAN_BUILD
# define WP_ASAN_BUILD 0
#endif
