/* test-properties.c: WpPool as a GObject: properties, GInitable, and
 * initialisation on first use.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Construct-only "plugin-dir" (NULL: $WORKPOOL_PLUGIN_DIR or the installed
 * one; reads back resolved and absolute) and "n-workers" (0: one per
 * processor; reads back resolved).  Read/write "job-timeout",
 * "max-jobs-per-worker", "cancel-grace", "worker-memory-limit",
 * "max-frame-size" and "prefetch", each with a getter and a setter, and
 * "notify" only when the value changes.  wp_pool_new() is
 * g_initable_new(); a pool made with g_object_new() and never initialised
 * works, initialising on first use, and if that fails each job fails with
 * the error wp_pool_new() would have given.
 *
 *   /pool/properties/pspecs          types, flags, defaults and ranges
 *   /pool/properties/defaults        what a new pool reads back
 *   /pool/properties/resolved        plugin-dir and n-workers resolved
 *   /pool/properties/notify          notify once per change, never for none
 *   /pool/properties/background      workers at idle CPU and I/O priority
 *   /pool/properties/worker-tunables workers' GLIBC_TUNABLES ask for huge pages
 *   /pool/properties/construct       read/write properties set at construction
 *   /pool/properties/initable        GInitable, and its error
 *   /pool/properties/lazy-init       g_object_new() without init runs jobs
 *   /pool/properties/lazy-init-failure/… every job fails with the init error
 *   /pool/properties/apply/…         a property set through GObject acts
 *
 * The test plugin directory comes from wp-test-util.c; `meson test` sets
 * $WORKPOOL_PLUGIN_DIR to it as well.
 */

#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-test-util.h"

#define MiB (G_GUINT64_CONSTANT (1) << 20)

/* ---- Helpers ---- */

static char *
canonical (const char *path)
{
  return g_canonicalize_filename (path, NULL);
}

static char *
get_string (WpPool     *pool,
            const char *name)
{
  char *value = NULL;

  g_object_get (pool, name, &value, NULL);
  return value;
}

static guint
get_uint (WpPool     *pool,
          const char *name)
{
  guint value = 0;

  g_object_get (pool, name, &value, NULL);
  return value;
}

static guint64
get_uint64 (WpPool     *pool,
            const char *name)
{
  guint64 value = 0;

  g_object_get (pool, name, &value, NULL);
  return value;
}

/* Runs echo.getpid on @pool; returns the pid, or fails the test. */
static gint32
run_getpid (WpPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = wp_test_call (pool, "echo", "getpid", NULL, &error);
  gint32 pid;

  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid);
  g_assert_cmpint (pid, >, 0);
  return pid;
}

/* Closes and drops a pool made by the test itself. */
static void
close_pool (WpPool *pool)
{
  wp_test_close (pool);
  g_object_unref (pool);
}

/* ---- The properties, for the table-driven tests ---- */

typedef struct {
  const char *name;
  GType       type;          /* G_TYPE_UINT or G_TYPE_UINT64 */
  guint64     default_value;
  guint64     new_value;     /* different from the default */
  guint64   (*get)    (WpPool *pool);
  void      (*set)    (WpPool *pool, guint64 value);
} RwProperty;

#define ACCESSORS(name, type) \
  static guint64 get_##name (WpPool *pool) { return wp_pool_get_##name (pool); } \
  static void set_##name (WpPool *pool, guint64 value) { wp_pool_set_##name (pool, (type) value); }

ACCESSORS (job_timeout, guint)
ACCESSORS (max_jobs_per_worker, guint)
ACCESSORS (cancel_grace, guint)
ACCESSORS (worker_memory_limit, guint64)
ACCESSORS (max_frame_size, gsize)
ACCESSORS (prefetch, guint)

#undef ACCESSORS

/* Not const: main() sets the default of prefetch from the environment. */
static RwProperty rw_properties[] = {
  { "job-timeout", G_TYPE_UINT, 0, 1500, get_job_timeout, set_job_timeout },
  { "max-jobs-per-worker", G_TYPE_UINT, 0, 7, get_max_jobs_per_worker,
    set_max_jobs_per_worker },
  { "cancel-grace", G_TYPE_UINT, 200, 50, get_cancel_grace, set_cancel_grace },
  { "worker-memory-limit", G_TYPE_UINT64, 0, 3 * 1024 * MiB, get_worker_memory_limit,
    set_worker_memory_limit },
  { "max-frame-size", G_TYPE_UINT64, 256 * MiB, 4096, get_max_frame_size,
    set_max_frame_size },
  /* Last: test_construct() counts on it. */
  { "prefetch", G_TYPE_UINT, 4, 0, get_prefetch, set_prefetch },
};

/* A new pool's prefetch: 4, unless $WORKPOOL_PREFETCH (0 to 4) says
 * otherwise, as in the noprefetch test setup.  The property's own default
 * stays 4. */
static guint
default_prefetch (void)
{
  const char *value = g_getenv ("WORKPOOL_PREFETCH");
  guint64 n;

  if (value != NULL && g_ascii_string_to_unsigned (value, 10, 0, 4, &n, NULL))
    return (guint) n;
  return 4;
}

static guint64
get_property_value (WpPool           *pool,
                    const RwProperty *property)
{
  return property->type == G_TYPE_UINT ? get_uint (pool, property->name)
                                       : get_uint64 (pool, property->name);
}

static void
set_property_value (WpPool           *pool,
                    const RwProperty *property,
                    guint64           value)
{
  if (property->type == G_TYPE_UINT)
    g_object_set (pool, property->name, (guint) value, NULL);
  else
    g_object_set (pool, property->name, value, NULL);
}

/* ---- Tests ---- */

static void
assert_flags (GParamSpec  *pspec,
              GParamFlags  wanted,
              GParamFlags  unwanted)
{
  g_assert_cmpint (pspec->flags & wanted, ==, wanted);
  g_assert_cmpint (pspec->flags & unwanted, ==, 0);
}

static void
test_pspecs (void)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref (WP_TYPE_POOL);
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamSpec *pspec;

  g_test_summary ("WpPool is a GObject implementing GInitable with the properties of the "
                  "contract: types, flags (construct-only for plugin-dir and n-workers), "
                  "defaults, the 4096-byte minimum of max-frame-size and the maximum of 4 "
                  "for prefetch");

  g_assert_true (g_type_is_a (WP_TYPE_POOL, G_TYPE_OBJECT));
  g_assert_true (g_type_is_a (WP_TYPE_POOL, G_TYPE_INITABLE));

  pspec = g_object_class_find_property (object_class, "plugin-dir");
  g_assert_nonnull (pspec);
  g_assert_true (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_STRING);
  assert_flags (pspec, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY, 0);
  g_assert_null (((GParamSpecString *) pspec)->default_value);

  pspec = g_object_class_find_property (object_class, "n-workers");
  g_assert_nonnull (pspec);
  g_assert_true (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_UINT);
  assert_flags (pspec, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY, 0);
  g_assert_cmpuint (G_PARAM_SPEC_UINT (pspec)->default_value, ==, 0);
  g_assert_cmpuint (G_PARAM_SPEC_UINT (pspec)->minimum, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (rw_properties); i++)
    {
      const RwProperty *property = &rw_properties[i];

      g_test_message ("property %s", property->name);
      pspec = g_object_class_find_property (object_class, property->name);
      g_assert_nonnull (pspec);
      g_assert_true (G_PARAM_SPEC_VALUE_TYPE (pspec) == property->type);
      assert_flags (pspec, G_PARAM_READWRITE, G_PARAM_CONSTRUCT_ONLY);
      if (strcmp (property->name, "prefetch") == 0)
        g_assert_cmpuint (G_PARAM_SPEC_UINT (pspec)->default_value, ==, 4);
      else if (property->type == G_TYPE_UINT)
        g_assert_cmpuint (G_PARAM_SPEC_UINT (pspec)->default_value, ==, property->default_value);
      else
        g_assert_cmpuint (G_PARAM_SPEC_UINT64 (pspec)->default_value, ==,
                          property->default_value);
    }

  pspec = g_object_class_find_property (object_class, "max-frame-size");
  g_assert_cmpuint (G_PARAM_SPEC_UINT64 (pspec)->minimum, ==, 4096);
  pspec = g_object_class_find_property (object_class, "prefetch");
  g_assert_cmpuint (G_PARAM_SPEC_UINT (pspec)->minimum, ==, 0);
  g_assert_cmpuint (G_PARAM_SPEC_UINT (pspec)->maximum, ==, 4);
}

/* The I/O class of process @pid (<linux/ioprio.h>: IOPRIO_WHO_PROCESS 1,
 * the class in the bits from 13 on). */
static int
io_class (gint32 pid)
{
  long value = syscall (SYS_ioprio_get, 1, (int) pid);

  g_assert_cmpint (value, >=, 0);
  return (int) (value >> 13);
}

static void
count_notify (guint *count)
{
  (*count)++;
}

static void
test_background (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  GParamSpec *pspec;
  gint32 pid, idle_pid, normal_pid;
  guint notified = 0;
  gboolean value;

  g_test_summary ("background: workers under SCHED_IDLE in the idle I/O class when set, "
                  "normal ones again when unset, the old ones retired; notify once per "
                  "change; off by default");

  g_assert_no_error (error);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (pool), "background");
  g_assert_nonnull (pspec);
  g_assert_true (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_BOOLEAN);
  g_assert_false (G_PARAM_SPEC_BOOLEAN (pspec)->default_value);
  g_assert_false (wp_pool_get_background (pool));
  g_signal_connect_swapped (pool, "notify::background", G_CALLBACK (count_notify),
                            &notified);

  pid = run_getpid (pool);
  g_assert_cmpint (sched_getscheduler (pid), ==, SCHED_OTHER);
  g_assert_cmpint (io_class (pid), !=, 3);

  wp_pool_set_background (pool, TRUE);
  wp_pool_set_background (pool, TRUE);
  g_assert_cmpuint (notified, ==, 1);
  g_object_get (pool, "background", &value, NULL);
  g_assert_true (value);
  idle_pid = run_getpid (pool);
  g_assert_cmpint (idle_pid, !=, pid);
  g_assert_cmpint (sched_getscheduler (idle_pid), ==, SCHED_IDLE);
  g_assert_cmpint (io_class (idle_pid), ==, 3);

  g_object_set (pool, "background", FALSE, NULL);
  g_assert_cmpuint (notified, ==, 2);
  normal_pid = run_getpid (pool);
  g_assert_cmpint (normal_pid, !=, idle_pid);
  g_assert_cmpint (sched_getscheduler (normal_pid), ==, SCHED_OTHER);
  close_pool (g_steal_pointer (&pool));
}

/* Whether a mapping of process @pid is marked MADV_HUGEPAGE (VmFlags "hg"
 * in /proc/PID/smaps). */
static gboolean
has_hugepage_mapping (gint32 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/smaps", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "VmFlags:") && strstr (lines[i], " hg") != NULL)
      return TRUE;
  return FALSE;
}

/* A worker of @pool after it handled 8 MiB frames: its pid. */
static gint32
run_big_frames (WpPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = g_malloc0 (8 << 20);
  g_autoptr(GVariant) result = NULL;

  result = wp_test_call (pool, "echo", "echo_bytes",
                         g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                           data, 8 << 20, 1)),
                         &error);
  g_assert_no_error (error);
  return run_getpid (pool);
}

static void
test_worker_tunables (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("GLIBC_TUNABLES"));
  g_autofree char *mode = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = NULL;

  g_test_summary ("workers ask malloc for transparent huge pages (GLIBC_TUNABLES "
                  "glibc.malloc.hugetlb=1: their heap is marked MADV_HUGEPAGE), unless "
                  "the program's GLIBC_TUNABLES chose otherwise");

#ifdef __SANITIZE_ADDRESS__
  /* The workers' memory then comes from AddressSanitizer's allocator. */
  g_test_skip ("glibc's malloc is not the workers' allocator in an AddressSanitizer build");
  return;
#endif
  if (!g_file_get_contents ("/sys/kernel/mm/transparent_hugepage/enabled", &mode, NULL, NULL)
      || strstr (mode, "[never]") != NULL)
    {
      g_test_skip ("the kernel offers no transparent huge pages");
      return;
    }

  g_setenv ("GLIBC_TUNABLES", "glibc.malloc.tcache_count=7", TRUE);
  pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  g_assert_no_error (error);
  g_assert_true (has_hugepage_mapping (run_big_frames (pool)));
  close_pool (g_steal_pointer (&pool));

  g_setenv ("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", TRUE);
  pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  g_assert_no_error (error);
  g_assert_false (has_hugepage_mapping (run_big_frames (pool)));
  close_pool (g_steal_pointer (&pool));

  if (saved != NULL)
    g_setenv ("GLIBC_TUNABLES", saved, TRUE);
  else
    g_unsetenv ("GLIBC_TUNABLES");
}

static void
test_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 2, &error);
  g_autofree char *dir = canonical (wp_test_plugin_dir ());
  g_autofree char *plugin_dir = NULL;

  g_test_summary ("A pool from wp_pool_new() reads back its plugin-dir and n-workers, and "
                  "the defaults of every setting, the same through g_object_get() and the "
                  "getters");

  g_assert_no_error (error);
  plugin_dir = get_string (pool, "plugin-dir");
  g_assert_cmpstr (plugin_dir, ==, dir);
  g_assert_cmpstr (wp_pool_get_plugin_dir (pool), ==, dir);
  g_assert_cmpuint (get_uint (pool, "n-workers"), ==, 2);
  g_assert_cmpuint (wp_pool_get_n_workers (pool), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (rw_properties); i++)
    {
      const RwProperty *property = &rw_properties[i];

      g_test_message ("property %s", property->name);
      g_assert_cmpuint (get_property_value (pool, property), ==, property->default_value);
      g_assert_cmpuint (property->get (pool), ==, property->default_value);
    }

  close_pool (g_steal_pointer (&pool));
  wp_test_calls_check ();
  wp_test_assert_no_children ();
}

static void
test_resolved (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = wp_test_make_tmp_dir ();
  g_autofree char *sub = g_build_filename (tmp, "sub", NULL);
  g_autofree char *dotted = g_build_filename (tmp, "sub", "..", ".", "sub", "..", NULL);
  g_autofree char *expected_tmp = canonical (tmp);
  g_autofree char *expected_env = canonical (g_getenv ("WORKPOOL_PLUGIN_DIR"));
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *parent = g_path_get_dirname (tmp);
  g_autofree char *base = g_path_get_basename (tmp);
  WpPool *pool;

  g_test_summary ("plugin-dir reads back as an absolute path without '.' or '..', also when "
                  "given relative, and as $WORKPOOL_PLUGIN_DIR when NULL; n-workers 0 reads "
                  "back as the number of processors");

  g_assert_nonnull (g_getenv ("WORKPOOL_PLUGIN_DIR"));
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);

  /* '.' and '..' */
  pool = wp_pool_new (dotted, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wp_pool_get_plugin_dir (pool), ==, expected_tmp);
  g_object_unref (pool);

  /* Relative: from the folder above. */
  g_assert_cmpint (g_chdir (parent), ==, 0);
  pool = wp_pool_new (base, 1, &error);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_assert_no_error (error);
  g_assert_true (g_path_is_absolute (wp_pool_get_plugin_dir (pool)));
  g_assert_cmpstr (wp_pool_get_plugin_dir (pool), ==, expected_tmp);
  g_object_unref (pool);

  /* NULL, both ways, and n-workers 0. */
  pool = wp_pool_new (NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wp_pool_get_plugin_dir (pool), ==, expected_env);
  g_assert_cmpuint (wp_pool_get_n_workers (pool), ==, g_get_num_processors ());
  g_assert_cmpuint (get_uint (pool, "n-workers"), ==, g_get_num_processors ());
  g_object_unref (pool);

  pool = g_initable_new (WP_TYPE_POOL, NULL, &error, "plugin-dir", NULL, "n-workers", 0, NULL);
  g_assert_no_error (error);
  {
    g_autofree char *plugin_dir = get_string (pool, "plugin-dir");

    g_assert_cmpstr (plugin_dir, ==, expected_env);
  }
  g_assert_cmpuint (get_uint (pool, "n-workers"), ==, g_get_num_processors ());
  g_object_unref (pool);

  wp_test_remove_tree (tmp);
  wp_test_assert_no_children ();
}

typedef struct {
  GPtrArray *names;   /* of the notified properties, in order */
} NotifyLog;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  NotifyLog *log = user_data;

  g_ptr_array_add (log->names, g_strdup (pspec->name));
}

static void
assert_notified (NotifyLog  *log,
                 const char *name)
{
  if (name == NULL)
    {
      if (log->names->len != 0)
        g_error ("unexpected notify::%s", (char *) g_ptr_array_index (log->names, 0));
    }
  else
    {
      g_assert_cmpuint (log->names->len, ==, 1);
      g_assert_cmpstr (g_ptr_array_index (log->names, 0), ==, name);
    }
  g_ptr_array_set_size (log->names, 0);
}

static void
test_notify (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  NotifyLog log = { g_ptr_array_new_with_free_func (g_free) };
  gulong handler;

  g_test_summary ("Each read/write property notifies exactly once when its setter or "
                  "g_object_set() changes it, never when the value stays the same, and "
                  "never for another property; the getter and g_object_get() read the "
                  "new value");

  g_assert_no_error (error);
  handler = g_signal_connect (pool, "notify", G_CALLBACK (on_notify), &log);

  for (guint i = 0; i < G_N_ELEMENTS (rw_properties); i++)
    {
      const RwProperty *property = &rw_properties[i];

      g_test_message ("property %s", property->name);

      /* The setter: same value, new value, same again. */
      property->set (pool, property->default_value);
      assert_notified (&log, NULL);
      property->set (pool, property->new_value);
      assert_notified (&log, property->name);
      g_assert_cmpuint (property->get (pool), ==, property->new_value);
      g_assert_cmpuint (get_property_value (pool, property), ==, property->new_value);
      property->set (pool, property->new_value);
      assert_notified (&log, NULL);

      /* g_object_set(): same value, back to the default, same again. */
      set_property_value (pool, property, property->new_value);
      assert_notified (&log, NULL);
      set_property_value (pool, property, property->default_value);
      assert_notified (&log, property->name);
      g_assert_cmpuint (property->get (pool), ==, property->default_value);
      g_assert_cmpuint (get_property_value (pool, property), ==, property->default_value);
      set_property_value (pool, property, property->default_value);
      assert_notified (&log, NULL);
    }

  /* Frozen notifications still come once per property that changed. */
  g_object_freeze_notify (G_OBJECT (pool));
  wp_pool_set_job_timeout (pool, 10);
  wp_pool_set_job_timeout (pool, 20);
  assert_notified (&log, NULL);
  g_object_thaw_notify (G_OBJECT (pool));
  assert_notified (&log, "job-timeout");

  g_signal_handler_disconnect (pool, handler);
  g_ptr_array_unref (log.names);
  close_pool (g_steal_pointer (&pool));
  wp_test_calls_check ();
  wp_test_assert_no_children ();
}

static void
test_construct (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = canonical (wp_test_plugin_dir ());
  WpPool *pool;

  g_test_summary ("Every read/write property can be given at construction, by "
                  "g_initable_new() and by g_object_new(), and reads back as given");

  pool = g_initable_new (WP_TYPE_POOL, NULL, &error,
                         "plugin-dir", wp_test_plugin_dir (),
                         "n-workers", 3,
                         "job-timeout", 1500,
                         "max-jobs-per-worker", 7,
                         "cancel-grace", 50,
                         "worker-memory-limit", (guint64) (3 * 1024 * MiB),
                         "max-frame-size", (guint64) 4096,
                         "prefetch", (guint) rw_properties[G_N_ELEMENTS (rw_properties) - 1].new_value,
                         NULL);
  g_assert_no_error (error);
  g_assert_true (WP_IS_POOL (pool));
  g_assert_cmpstr (wp_pool_get_plugin_dir (pool), ==, dir);
  g_assert_cmpuint (wp_pool_get_n_workers (pool), ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (rw_properties); i++)
    {
      g_test_message ("property %s", rw_properties[i].name);
      g_assert_cmpuint (rw_properties[i].get (pool), ==, rw_properties[i].new_value);
    }
  g_object_unref (pool);

  pool = g_object_new (WP_TYPE_POOL,
                       "plugin-dir", wp_test_plugin_dir (),
                       "n-workers", 1,
                       "cancel-grace", 50,
                       "prefetch", 2,
                       NULL);
  g_assert_cmpuint (wp_pool_get_cancel_grace (pool), ==, 50);
  g_assert_cmpuint (wp_pool_get_prefetch (pool), ==, 2);
  g_assert_cmpuint (wp_pool_get_job_timeout (pool), ==, 0);
  g_object_unref (pool);
  wp_test_assert_no_children ();
}

static void
test_initable (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) initable_error = NULL;
  g_autofree char *tmp = wp_test_make_tmp_dir ();
  g_autofree char *missing = g_build_filename (tmp, "missing", NULL);
  WpPool *pool;

  g_test_summary ("wp_pool_new() and g_initable_new() agree: a pool that runs jobs for a "
                  "plugin directory, and G_IO_ERROR_NOT_FOUND naming a directory that does "
                  "not exist");

  pool = g_initable_new (WP_TYPE_POOL, NULL, &error, "plugin-dir", wp_test_plugin_dir (),
                         "n-workers", 1, NULL);
  g_assert_no_error (error);
  g_assert_true (G_IS_INITABLE (pool));
  run_getpid (pool);
  close_pool (pool);

  pool = wp_pool_new (missing, 1, &error);
  g_assert_null (pool);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));

  pool = g_initable_new (WP_TYPE_POOL, NULL, &initable_error, "plugin-dir", missing,
                         "n-workers", 1, NULL);
  g_assert_null (pool);
  g_assert_error (initable_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (initable_error->message, ==, error->message);

  wp_test_remove_tree (tmp);
  wp_test_calls_check ();
  wp_test_assert_no_children ();
}

static void
test_lazy_init (void)
{
  g_autofree char *dir = canonical (wp_test_plugin_dir ());
  g_autofree char *env_dir = canonical (g_getenv ("WORKPOOL_PLUGIN_DIR"));
  g_autofree char *plugin_dir = NULL;
  WpTestCall *calls[4];
  WpPool *pool;
  gint32 pid;

  g_test_summary ("A pool made by g_object_new(), with properties or none, and never given "
                  "to g_initable_init(), initialises on first use: its jobs run, its "
                  "properties read back resolved");

  /* With properties: 1 worker, so both jobs run in the same process. */
  pool = g_object_new (WP_TYPE_POOL, "plugin-dir", wp_test_plugin_dir (), "n-workers", 1,
                       NULL);
  calls[0] = wp_test_call_start (pool, "echo", "getpid", NULL, NULL);
  calls[1] = wp_test_call_start (pool, "arith", "add", g_variant_new ("(ii)", 2, 3), NULL);
  wp_test_calls_wait (calls, 2);
  g_assert_no_error (calls[0]->error);
  g_assert_no_error (calls[1]->error);
  wp_test_assert_variant (calls[1]->result, g_variant_new ("(i)", 5));
  g_variant_get (calls[0]->result, "(i)", &pid);
  g_assert_cmpint (run_getpid (pool), ==, pid);
  g_assert_cmpstr (wp_pool_get_plugin_dir (pool), ==, dir);
  g_assert_cmpuint (wp_pool_get_n_workers (pool), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "completed"), ==, 3);
  close_pool (pool);

  /* None: $WORKPOOL_PLUGIN_DIR, one worker per processor. */
  pool = g_object_new (WP_TYPE_POOL, NULL);
  calls[2] = wp_test_call_start (pool, "arith", "add", g_variant_new ("(ii)", 40, 2), NULL);
  wp_test_call_wait (calls[2]);
  g_assert_no_error (calls[2]->error);
  wp_test_assert_variant (calls[2]->result, g_variant_new ("(i)", 42));
  plugin_dir = get_string (pool, "plugin-dir");
  g_assert_cmpstr (plugin_dir, ==, env_dir);
  g_assert_cmpuint (get_uint (pool, "n-workers"), ==, g_get_num_processors ());
  close_pool (pool);

  /* Dropped without any use, or after a use without close: no child left. */
  pool = g_object_new (WP_TYPE_POOL, NULL);
  g_object_unref (pool);
  pool = g_object_new (WP_TYPE_POOL, "n-workers", 1, NULL);
  calls[3] = wp_test_call_start (pool, "echo", "noop", NULL, NULL);
  wp_test_call_wait (calls[3]);
  g_assert_no_error (calls[3]->error);
  g_object_unref (pool);
  wp_test_wait_no_children ();
  wp_test_calls_check ();
}

typedef enum {
  BAD_MISSING,
  BAD_FILE,
} BadDir;

#define N_FAILING 3

static void
test_lazy_init_failure (gconstpointer data)
{
  BadDir kind = GPOINTER_TO_INT (data);
  g_autoptr(GError) new_error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *tmp = wp_test_make_tmp_dir ();
  g_autofree char *bad = NULL;
  WpTestCall *calls[N_FAILING];
  WpPool *pool;

  g_test_summary ("A pool made by g_object_new() on a plugin-dir that is not a directory "
                  "(missing, or a regular file), never initialised, fails each job with the "
                  "error wp_pool_new() gives for it (G_IO_ERROR_NOT_FOUND naming the "
                  "directory), each callback once, in a later main-loop iteration: no hang, "
                  "no worker started");

  if (kind == BAD_MISSING)
    {
      bad = g_build_filename (tmp, "missing", NULL);
    }
  else
    {
      wp_test_write_file (tmp, "file", "not a directory\n");
      bad = g_build_filename (tmp, "file", NULL);
    }

  g_assert_null (wp_pool_new (bad, 1, &new_error));
  g_assert_error (new_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (new_error->message, bad));

  pool = g_object_new (WP_TYPE_POOL, "plugin-dir", bad, "n-workers", 1, NULL);
  g_assert_true (WP_IS_POOL (pool));
  calls[0] = wp_test_call_start (pool, "echo", "noop", NULL, NULL);
  calls[1] = wp_test_call_start (pool, "arith", "add", g_variant_new ("(ii)", 1, 2),
                                 cancellable);
  /* wp_test_call_start() fails the test if a callback runs before
   * wp_pool_call_async() has returned. */
  g_assert_cmpuint (calls[0]->n_callbacks + calls[1]->n_callbacks, ==, 0);
  wp_test_calls_wait (calls, 2);

  /* And again once the first failure is known. */
  calls[2] = wp_test_call_start (pool, "echo", "noop", NULL, NULL);
  g_assert_cmpuint (calls[2]->n_callbacks, ==, 0);
  wp_test_call_wait (calls[2]);

  for (guint i = 0; i < N_FAILING; i++)
    {
      g_assert_null (calls[i]->result);
      g_assert_error (calls[i]->error, new_error->domain, new_error->code);
      g_assert_cmpstr (calls[i]->error->message, ==, new_error->message);
    }

  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 0);
  g_assert_cmpuint (wp_test_count_children (), ==, 0);
  g_object_unref (pool);
  wp_test_calls_check ();
  wp_test_remove_tree (tmp);
  wp_test_assert_no_children ();
}

#define LONG_MS 600000

static void
test_apply_job_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  WpTestCall *call;

  g_test_summary ("job-timeout set through g_object_set() stops a job that runs past it, "
                  "with WP_POOL_ERROR_TIMED_OUT");

  g_assert_no_error (error);
  g_object_set (pool, "job-timeout", 100u, NULL);
  call = wp_test_call_start (pool, "sleep", "sleep", g_variant_new ("(u)", LONG_MS), NULL);
  wp_test_call_wait (call);
  g_assert_error (call->error, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT);
  close_pool (g_steal_pointer (&pool));
  wp_test_calls_check ();
  wp_test_assert_no_children ();
}

static void
test_apply_max_jobs_per_worker (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  gint32 first, second;

  g_test_summary ("max-jobs-per-worker set through g_object_set() recycles the worker: with "
                  "1, two jobs one after the other run in two processes");

  g_assert_no_error (error);
  g_object_set (pool, "max-jobs-per-worker", 1u, NULL);
  first = run_getpid (pool);
  second = run_getpid (pool);
  g_assert_cmpint (first, !=, second);
  close_pool (g_steal_pointer (&pool));
  wp_test_calls_check ();
  wp_test_assert_no_children ();
}

static void
test_apply_max_frame_size (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  g_autofree guint8 *bytes = g_malloc0 (8192);
  WpTestCall *call;

  g_test_summary ("max-frame-size set through g_object_set() refuses a larger job with "
                  "WP_POOL_ERROR_INVALID_ARGS naming the limit");

  g_assert_no_error (error);
  g_object_set (pool, "max-frame-size", (guint64) 4096, NULL);
  g_assert_cmpuint (wp_pool_get_max_frame_size (pool), ==, 4096);
  call = wp_test_call_start (pool, "echo", "echo_bytes",
                             g_variant_new ("(@ay)",
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                       bytes, 8192, 1)),
                             NULL);
  wp_test_call_wait (call);
  g_assert_error (call->error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (call->error->message, "4096"));
  close_pool (g_steal_pointer (&pool));
  wp_test_calls_check ();
  wp_test_assert_no_children ();
}

static void
test_apply_prefetch (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpTestCall *busy, *queued[6];
  WpPool *pool;

  g_test_summary ("prefetch given at construction or set through g_object_set() is how many "
                  "jobs are handed ahead to the busy worker: none with 0, 2 with 2, 4 with 4 "
                  "(the 'prefetched' stat)");

  for (guint prefetch = 0; prefetch <= 4; prefetch += 2)
    {
      g_test_message ("prefetch %u", prefetch);
      if (prefetch == 0)
        {
          pool = g_initable_new (WP_TYPE_POOL, NULL, &error, "plugin-dir", wp_test_plugin_dir (),
                                 "n-workers", 1, "prefetch", 0u, NULL);
          g_assert_no_error (error);
        }
      else
        {
          pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
          g_assert_no_error (error);
          g_object_set (pool, "prefetch", prefetch, NULL);
        }

      /* A ready worker, then a long job on it, and jobs behind. */
      run_getpid (pool);
      g_cancellable_reset (cancellable);
      busy = wp_test_call_start (pool, "sleep", "sleep", g_variant_new ("(u)", LONG_MS),
                                 cancellable);
      for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
        queued[i] = wp_test_call_start (pool, "echo", "noop", NULL, NULL);
      if (prefetch > 0)
        wp_test_wait_stat (pool, "prefetched", prefetch);
      for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
        ;
      g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, prefetch);
      g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, G_N_ELEMENTS (queued));

      g_cancellable_cancel (cancellable);
      wp_test_call_wait (busy);
      g_assert_error (busy->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      wp_test_calls_wait (queued, G_N_ELEMENTS (queued));
      for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
        g_assert_no_error (queued[i]->error);
      close_pool (pool);
    }

  wp_test_calls_check ();
  wp_test_assert_no_children ();
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (rw_properties); i++)
    if (strcmp (rw_properties[i].name, "prefetch") == 0)
      {
        rw_properties[i].default_value = default_prefetch ();
        rw_properties[i].new_value = rw_properties[i].default_value == 0 ? 3 : 0;
      }

  g_test_add_func ("/pool/properties/pspecs", test_pspecs);
  g_test_add_func ("/pool/properties/defaults", test_defaults);
  g_test_add_func ("/pool/properties/resolved", test_resolved);
  g_test_add_func ("/pool/properties/notify", test_notify);
  g_test_add_func ("/pool/properties/construct", test_construct);
  g_test_add_func ("/pool/properties/initable", test_initable);
  g_test_add_func ("/pool/properties/lazy-init", test_lazy_init);
  g_test_add_func ("/pool/properties/background", test_background);
  g_test_add_func ("/pool/properties/worker-tunables", test_worker_tunables);
  g_test_add_data_func ("/pool/properties/lazy-init-failure/missing",
                        GINT_TO_POINTER (BAD_MISSING), test_lazy_init_failure);
  g_test_add_data_func ("/pool/properties/lazy-init-failure/file",
                        GINT_TO_POINTER (BAD_FILE), test_lazy_init_failure);
  g_test_add_func ("/pool/properties/apply/job-timeout", test_apply_job_timeout);
  g_test_add_func ("/pool/properties/apply/max-jobs-per-worker",
                   test_apply_max_jobs_per_worker);
  g_test_add_func ("/pool/properties/apply/max-frame-size", test_apply_max_frame_size);
  g_test_add_func ("/pool/properties/apply/prefetch", test_apply_prefetch);

  return g_test_run ();
}
