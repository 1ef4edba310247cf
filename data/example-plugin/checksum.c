/* checksum.c: an example workpool plugin, built out of tree.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin guide (data/docs/plugin-guide.md) walks through this file.
 * Two functions:
 *
 *   digest      (ss) -> (s)   ALGORITHM, PATH: the hex digest of the file
 *   algorithms  ()   -> (as)  the algorithm names digest() takes
 *
 *   $ workpool call checksum digest "('sha256', '/etc/hostname')"
 *   ('0f3a…',)
 *   $ workpool call checksum digest "('crc32', '/etc/hostname')"
 *   workpool: checksum-error-quark:0: Unknown algorithm “crc32” (known: md5, sha1, sha256, sha384, sha512)
 *
 * It shows what every plugin needs: a function table with GVariant
 * types, errors as GError (its own domain for its own errors, GIO's
 * errors passed on as they are), a long job that honours its
 * GCancellable, and no state kept from one job to the next.  It includes
 * only <workpool/wp-plugin.h> and links nothing: see Makefile and
 * meson.build beside it.
 */

#include <workpool/wp-plugin.h>

/* The plugin's own error domain: callers see "checksum-error-quark" and
 * these codes.  Errors that are not the plugin's own (a missing file)
 * keep GIO's domain. */
#define CHECKSUM_ERROR (checksum_error_quark ())

typedef enum {
  CHECKSUM_ERROR_UNKNOWN_ALGORITHM,
} ChecksumError;

static G_DEFINE_QUARK (checksum-error-quark, checksum_error)

#define CHUNK_SIZE (64 * 1024)

static const struct {
  const char    *name;
  GChecksumType  type;
} algorithms[] = {
  { "md5",    G_CHECKSUM_MD5 },
  { "sha1",   G_CHECKSUM_SHA1 },
  { "sha256", G_CHECKSUM_SHA256 },
  { "sha384", G_CHECKSUM_SHA384 },
  { "sha512", G_CHECKSUM_SHA512 },
};

static char *
list_algorithms (void)
{
  GString *names = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (algorithms); i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", algorithms[i].name);
  return g_string_free (names, FALSE);
}

static gboolean
lookup_algorithm (const char     *name,
                  GChecksumType  *type,
                  GError        **error)
{
  g_autofree char *known = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (algorithms); i++)
    if (g_strcmp0 (algorithms[i].name, name) == 0)
      {
        *type = algorithms[i].type;
        return TRUE;
      }

  known = list_algorithms ();
  g_set_error (error, CHECKSUM_ERROR, CHECKSUM_ERROR_UNKNOWN_ALGORITHM,
               "Unknown algorithm “%s” (known: %s)", name, known);
  return FALSE;
}

/* Reads @path a chunk at a time into @checksum.  The cancellable is
 * passed to every GIO call, which then fails with G_IO_ERROR_CANCELLED
 * once the job is cancelled or times out: a large file stops within one
 * chunk, and the worker stays alive for the next job. */
static gboolean
checksum_file (GChecksum     *checksum,
               const char    *path,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = g_file_read (file, cancellable, error);
  g_autofree guchar *buffer = NULL;
  gssize n;

  if (stream == NULL)
    return FALSE;

  buffer = g_malloc (CHUNK_SIZE);
  while ((n = g_input_stream_read (G_INPUT_STREAM (stream), buffer, CHUNK_SIZE,
                                   cancellable, error)) > 0)
    g_checksum_update (checksum, buffer, n);
  return n == 0;
}

static GVariant *
checksum_digest (GVariant      *args,
                 GCancellable  *cancellable,
                 GError       **error)
{
  const char *algorithm, *path;
  g_autoptr(GChecksum) checksum = NULL;
  GChecksumType type;

  /* The worker has checked that args is of type (ss). */
  g_variant_get (args, "(&s&s)", &algorithm, &path);
  if (!lookup_algorithm (algorithm, &type, error))
    return NULL;

  checksum = g_checksum_new (type);
  if (!checksum_file (checksum, path, cancellable, error))
    return NULL;

  /* Of the declared result type, (s): the worker checks. */
  return g_variant_new ("(s)", g_checksum_get_string (checksum));
}

static GVariant *
checksum_algorithms (GVariant      *args,
                     GCancellable  *cancellable,
                     GError       **error)
{
  GVariantBuilder names;

  g_variant_builder_init (&names, G_VARIANT_TYPE ("as"));
  for (gsize i = 0; i < G_N_ELEMENTS (algorithms); i++)
    g_variant_builder_add (&names, "s", algorithms[i].name);
  return g_variant_new ("(as)", &names);
}

static const WpFunction checksum_functions[] = {
  { "digest",     "(ss)", "(s)",  checksum_digest,
    "Hex digest of the file at PATH with ALGORITHM (md5, sha1, sha256, …)" },
  { "algorithms", "()",   "(as)", checksum_algorithms,
    "The algorithms digest takes" },
  { NULL }
};

static const WpPlugin checksum_plugin = {
  .abi_version = WP_PLUGIN_ABI_VERSION,
  .struct_size = sizeof (WpPlugin),
  .name        = "checksum",
  .version     = "1.0",
  .summary     = "File checksums (an example plugin built out of tree)",
  .functions   = checksum_functions,
};

WP_PLUGIN_DEFINE (checksum_plugin)
