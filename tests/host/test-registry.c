// SPDX-License-Identifier: MIT
/*
 * /host/registry/...: the format registry (duplicates, aliases, rollback,
 * built-ins) and discovery and load order (scan, shadowing, manifest
 * softdeps, blacklist, cycles, names that are not paths).
 *
 * Load order is asserted as one string of "name:index" pairs, so a
 * failure shows the whole order.
 */
#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "host-fixture.h"

#define GOOD_A		"fixture-good-a"
#define GOOD_B		"fixture-good-b"
#define GOOD_C		"fixture-good-c"

/* tests/fixtures/plugins/fixture-good.c, linked in as "fixture-builtin" */
extern const struct iopgt_plugin_desc iopgt_plugin_desc;

static void load_file(struct host_fixture *f, const char *sub,
		      const char *name, int want)
{
	g_autofree char *path = fixture_so(sub, name);

	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, NULL), ==,
			want);
}

/* "name:index" for each plugin in foreach order, e.g. "a:0 b:1 c:-1". */
static void collect_order(struct iopgt_plugin *p, void *data)
{
	GString *s = data;

	g_string_append_printf(s, "%s%s:%d", s->len ? " " : "",
			       iopgt_plugin_get_name(p),
			       iopgt_plugin_get_load_index(p));
}

static char *load_order(struct host_fixture *f)
{
	GString *s = g_string_new(NULL);

	iopgt_host_foreach_plugin(f->host, collect_order, s);
	return g_string_free(s, FALSE);
}

#define assert_order(f, want)                                              \
	do {                                                               \
		g_autofree char *got_ = load_order(f);                     \
		g_assert_cmpstr(got_, ==, (want));                         \
	} while (0)

/* Write a manifest into tmpdir and load it; returns its path. */
static char *use_manifest(struct host_fixture *f, const char *name,
			  const char *text)
{
	g_autoptr(GError) error = NULL;
	char *path = host_fixture_write(f, name, text);

	g_assert_true(iopgt_host_load_manifest(f->host, path, &error));
	g_assert_no_error(error);
	return path;
}

static void add_dir(struct host_fixture *f, const char *dir)
{
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
}

/* tmpdir/d1 with good-b, tmpdir/d2 with good-a and good-c (copies). */
static void make_split_dirs(struct host_fixture *f, char **d1, char **d2)
{
	*d1 = g_build_filename(f->tmpdir, "d1", NULL);
	*d2 = g_build_filename(f->tmpdir, "d2", NULL);
	fixture_copy_to("good", GOOD_B, *d1);
	fixture_copy_to("good", GOOD_A, *d2);
	fixture_copy_to("good", GOOD_C, *d2);
}

/* ---- the format registry ------------------------------------------------- */

static void test_duplicate_format(struct host_fixture *f, gconstpointer data)
{
	static const char *const owner_says =
		"format 'fake-a' is already registered by plugin "
		"'fixture-good-a'";
	g_autofree char *dup = fixture_so("broken", "dup-format");
	g_autofree char *line = g_strdup_printf("err: %s: %s", dup, owner_says);
	g_autofree char *reason = g_strdup_printf(
		"register function failed: File exists (%s)", owner_says);
	struct iopgt_plugin *a, *p;
	struct iopgt_pgtable *pgt;

	(void)data;
	g_test_summary("A second plugin registering a taken format name fails "
		       "with -EEXIST and a reason naming the owner; the first "
		       "stays");
	load_file(f, "good", GOOD_A, 0);
	a = iopgt_host_find_plugin(f->host, GOOD_A);
	load_file(f, "broken", "dup-format", -EEXIST);
	p = iopgt_host_find_plugin(f->host, "dup-format");
	assert_plugin(p, IOPGT_PLUGIN_FAILED, reason);
	assert_logged(f, line);
	g_assert_true(iopgt_host_find_format(f->host, "fake-a") == a);
	g_assert_true(iopgt_host_find_format(f->host, "FAKE_A") == a);
	assert_plugin(a, IOPGT_PLUGIN_LOADED, NULL);

	g_assert_cmpint(fake_table_new(f->host, "fake-a", NULL, &pgt), ==, 0);
	g_assert_true(iopgt_pgtable_get_plugin(f->host, pgt) == a);
	assert_fake_table_works(f->host, pgt);
	iopgt_pgtable_free(f->host, pgt);

	/* once the owner is gone, the name is free */
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
	load_file(f, "broken", "dup-format", 0);
	g_assert_true(iopgt_host_find_format(f->host, "fake-a") == p);
	g_assert_null(iopgt_host_find_format(f->host, "FAKE_A"));
	load_file(f, "good", GOOD_A, -EEXIST);
}

static void test_duplicate_alias(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *reason = g_strdup(
		"register function failed: File exists (format 'FAKE_A' is "
		"already registered by plugin 'fixture-good-a')");

	(void)data;
	g_test_summary("A format whose alias is taken is refused whole: its "
		       "name, registered just before, goes too");
	load_file(f, "good", GOOD_A, 0);
	load_file(f, "broken", "dup-alias", -EEXIST);
	assert_plugin(iopgt_host_find_plugin(f->host, "dup-alias"),
		      IOPGT_PLUGIN_FAILED, reason);
	g_assert_null(iopgt_host_find_format(f->host, "fake-dup-alias"));
	g_assert_true(iopgt_host_find_format(f->host, "FAKE_A") ==
		      iopgt_host_find_plugin(f->host, GOOD_A));
}

static void test_duplicate_self(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A plugin registering one format twice gets -EEXIST "
		       "naming itself, and keeps nothing");
	load_file(f, "broken", "dup-self", -EEXIST);
	assert_plugin(iopgt_host_find_plugin(f->host, "dup-self"),
		      IOPGT_PLUGIN_FAILED,
		      "register function failed: File exists (format "
		      "'fake-dup-self' is already registered by plugin "
		      "'dup-self')");
	g_assert_null(iopgt_host_find_format(f->host, "fake-dup-self"));
}

static void test_refusal_ignored(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A plugin that ignores a refusal and registers nothing "
		       "fails with -ENOENT, and the reason still names the "
		       "owner");
	load_file(f, "good", GOOD_A, 0);
	load_file(f, "broken", "dup-ignored", -ENOENT);
	assert_plugin(iopgt_host_find_plugin(f->host, "dup-ignored"),
		      IOPGT_PLUGIN_FAILED,
		      "register function registered no format (format "
		      "'fake-a' is already registered by plugin "
		      "'fixture-good-a')");
	g_assert_true(iopgt_host_find_format(f->host, "fake-a") ==
		      iopgt_host_find_plugin(f->host, GOOD_A));
}

static void test_alias_lookup(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *by_alias;
	struct iopgt_plugin *a;
	struct iopgt_cfg cfg = { 0 };

	(void)data;
	g_test_summary("A format is found by name and by its Linux alias, "
		       "exactly as spelt; a table made by alias is the "
		       "format's");
	load_file(f, "good", GOOD_A, 0);
	load_file(f, "good", GOOD_B, 0);
	a = iopgt_host_find_plugin(f->host, GOOD_A);
	g_assert_true(iopgt_host_find_format(f->host, "fake-a") == a);
	g_assert_true(iopgt_host_find_format(f->host, "FAKE_A") == a);
	g_assert_true(iopgt_host_find_format(f->host, "fake-b") ==
		      iopgt_host_find_plugin(f->host, GOOD_B));
	g_assert_null(iopgt_host_find_format(f->host, "fake_a"));
	g_assert_null(iopgt_host_find_format(f->host, "FAKE-A"));
	g_assert_null(iopgt_host_find_format(f->host, "Fake_A"));
	g_assert_null(iopgt_host_find_format(f->host, "FAKE_B"));

	g_assert_cmpint(iopgt_host_get_format_defaults(f->host, "FAKE_A",
						       &cfg), ==, 0);
	g_assert_cmpuint(cfg.ias, ==, 21);
	g_assert_cmpuint(cfg.oas, ==, 48);
	g_assert_cmphex(cfg.pgsize_bitmap, ==, 0x1000);
	g_assert_cmpint(iopgt_host_get_format_defaults(f->host, "fake_a",
						       &cfg), ==, -ENOENT);

	g_assert_cmpint(fake_table_new(f->host, "FAKE_A", "t", &by_alias), ==,
			0);
	g_assert_cmpstr(by_alias->fmt->name, ==, "fake-a");
	g_assert_cmpstr(by_alias->fmt->alias, ==, "FAKE_A");
	{
		g_auto(GStrv) holders = iopgt_plugin_dup_holders(a);

		assert_strv(holders, (const char *const[]){ "t (fake-a)",
							    NULL });
	}
	iopgt_pgtable_free(f->host, by_alias);
}

static void test_partial_registration_rolled_back(struct host_fixture *f,
						  gconstpointer data)
{
	(void)data;
	g_test_summary("register_fn that registers a format and then fails "
		       "leaves no format behind, under name or alias");
	load_file(f, "broken", "partial-then-fail", -EIO);
	assert_plugin(iopgt_host_find_plugin(f->host, "partial-then-fail"),
		      IOPGT_PLUGIN_FAILED,
		      "register function failed: Input/output error");
	g_assert_null(iopgt_host_find_format(f->host, "fake-partial"));
	g_assert_null(iopgt_host_find_format(f->host, "FAKE_PARTIAL"));
	assert_logged(f, "debug: partial-then-fail: registered format "
		      "'fake-partial'");
}

static void test_builtin_and_module_coexist(struct host_fixture *f,
					    gconstpointer data)
{
	g_autofree char *good = fixture_dir("good");
	g_autofree char *marker = NULL;
	struct iopgt_plugin *b = NULL, *again = NULL;
	struct iopgt_pgtable *t_builtin, *t_module;

	(void)data;
	g_test_summary("A built-in plugin (linked in, no dlopen) and modules "
		       "from disk share one registry; a built-in unloads and "
		       "registers again");
	g_assert_cmpint(iopgt_host_register_builtin(f->host,
						    &iopgt_plugin_desc, &b),
			==, 0);
	assert_plugin(b, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_true(iopgt_plugin_is_builtin(b));
	g_assert_null(iopgt_plugin_get_path(b));
	g_assert_cmpstr(iopgt_plugin_get_name(b), ==, "fixture-builtin");
	g_assert_cmpint(iopgt_plugin_get_load_index(b), ==, 0);

	add_dir(f, good);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	/* the built-in counts as loaded */
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 4);
	assert_order(f, "fixture-builtin:0 fixture-good-a:1 fixture-good-b:2 "
		     "fixture-good-c:3");

	g_assert_cmpint(fake_table_new(f->host, "FAKE_BUILTIN", "b",
				       &t_builtin), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "a", &t_module), ==,
			0);
	g_assert_true(iopgt_pgtable_get_plugin(f->host, t_builtin) == b);
	assert_fake_table_works(f->host, t_builtin);
	assert_fake_table_works(f->host, t_module);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "fixture-builtin"),
			==, -EBUSY);
	iopgt_pgtable_free(f->host, t_builtin);
	iopgt_pgtable_free(f->host, t_module);

	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "fixture-builtin"),
			==, 0);
	assert_plugin(b, IOPGT_PLUGIN_UNLOADED, NULL);
	g_assert_null(iopgt_host_find_format(f->host, "fake-builtin"));
	g_assert_cmpint(iopgt_host_register_builtin(f->host,
						    &iopgt_plugin_desc,
						    &again), ==, 0);
	g_assert_true(again == b);
	assert_plugin(b, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_cmpint(iopgt_plugin_get_load_index(b), ==, 4);
	g_assert_true(iopgt_host_find_format(f->host, "fake-builtin") == b);
	/* registering the same descriptor while loaded is a no-op */
	g_assert_cmpint(iopgt_host_register_builtin(f->host,
						    &iopgt_plugin_desc, NULL),
			==, 0);
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==,
			"fixture-builtin register\n"
			"fixture-good-a register\n"
			"fixture-good-b register\n"
			"fixture-good-c register\n"
			"fixture-builtin unregister\n"
			"fixture-builtin register\n");
}

static void test_builtin_name_taken(struct host_fixture *f,
				    gconstpointer data)
{
	struct iopgt_plugin_desc bad = iopgt_plugin_desc;
	struct iopgt_plugin_desc clash = iopgt_plugin_desc;

	(void)data;
	g_test_summary("A built-in is checked like a file (-EPROTO) and may "
		       "not take a known plugin's name (-EEXIST)");
	bad.abi_major++;
	g_assert_cmpint(iopgt_host_register_builtin(f->host, &bad, NULL), ==,
			-EPROTO);
	assert_logged(f, "err: built-in plugin: descriptor field 'abi_major' "
		      "is 2, host speaks ABI " TEST_ABI);
	g_assert_null(iopgt_host_find_plugin(f->host, "fixture-builtin"));

	load_file(f, "good", GOOD_A, 0);
	clash.name = GOOD_A;
	g_assert_cmpint(iopgt_host_register_builtin(f->host, &clash, NULL), ==,
			-EEXIST);
	assert_logged(f, "err: built-in plugin 'fixture-good-a': the name is "
		      "already taken");
	g_assert_false(iopgt_plugin_is_builtin(iopgt_host_find_plugin(
				f->host, GOOD_A)));
}

/* ---- discovery ----------------------------------------------------------- */

static void test_scan_sorted_and_shadowed(struct host_fixture *f,
					  gconstpointer data)
{
	g_autofree char *d1 = g_build_filename(f->tmpdir, "first", NULL);
	g_autofree char *d2 = g_build_filename(f->tmpdir, "second", NULL);
	g_autofree char *a1 = g_build_filename(d1, GOOD_A ".so", NULL);
	g_autofree char *a2 = g_build_filename(d2, GOOD_A ".so", NULL);
	g_autofree char *shadow = g_strdup_printf("info: %s: shadowed by %s",
						  a2, a1);
	g_autofree char *hidden = NULL;
	g_autofree char *junk = NULL;
	g_autofree char *missing = g_build_filename(f->tmpdir, "missing",
						    NULL);
	g_autofree char *no_dir = NULL;

	(void)data;
	g_test_summary("A scan finds NAME.so files without opening them, "
		       "sorted; the first directory with a name wins; "
		       "non-plugin names are skipped");
	fixture_copy_to("good", GOOD_C, d1);
	fixture_copy_to("good", GOOD_A, d1);
	fixture_copy_to("good", GOOD_B, d2);
	fixture_copy_to("good", GOOD_A, d2);
	g_free(host_fixture_write(f, "first/README", "not a plugin\n"));
	g_free(host_fixture_write(f, "first/.hidden.so", "x"));
	g_free(host_fixture_write(f, "first/.so", "x"));
	hidden = g_strdup_printf("warning: %s/.hidden.so: ignored: '.hidden' "
				 "is not a valid plugin name", d1);
	add_dir(f, d1);
	/* a directory that does not exist is refused at once ... */
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, missing), ==,
			-ENOENT);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, a1), ==, -ENOTDIR);
	/* ... and one that goes away after it was added is a scan warning */
	g_assert_cmpint(g_mkdir(missing, 0755), ==, 0);
	add_dir(f, missing);
	g_assert_cmpint(g_rmdir(missing), ==, 0);
	add_dir(f, d2);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, ""), ==, -EINVAL);

	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	assert_logged(f, shadow);
	assert_logged(f, hidden);
	no_dir = g_strdup_printf("warning: %s: cannot scan plugin "
				 "directory: Error opening directory “%s”: "
				 "No such file or directory", missing,
				 missing);
	assert_logged(f, no_dir);
	g_assert_cmpstr(iopgt_plugin_get_path(iopgt_host_find_plugin(
				f->host, GOOD_A)), ==, a1);
	g_assert_null(iopgt_host_find_plugin(f->host, "README"));
	assert_order(f, "fixture-good-a:-1 fixture-good-b:-1 "
		     "fixture-good-c:-1");
	/* nothing was opened */
	g_assert_false(fixture_is_mapped(a1));
	assert_plugin(iopgt_host_find_plugin(f->host, GOOD_B),
		      IOPGT_PLUGIN_DISCOVERED, NULL);
	g_assert_null(iopgt_plugin_get_version(iopgt_host_find_plugin(
				f->host, GOOD_B)));

	/* a second scan adds nothing */
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 0);

	/* without a manifest, load order is name order */
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
	assert_order(f, "fixture-good-a:0 fixture-good-b:1 fixture-good-c:2");
	g_assert_true(fixture_is_mapped(a1));
	g_assert_false(fixture_is_mapped(a2));
	junk = host_fixture_read_marker(f);
	g_assert_cmpstr(junk, ==, "fixture-good-a register\n"
				  "fixture-good-b register\n"
				  "fixture-good-c register\n");
}

static void test_plugin_path_env_searched_last(struct host_fixture *f,
					       gconstpointer data)
{
	g_autofree char *d1 = g_build_filename(f->tmpdir, "added", NULL);
	g_autofree char *d2 = g_build_filename(f->tmpdir, "env", NULL);
	g_autofree char *env = NULL;
	g_autofree char *b_path = g_build_filename(d2, GOOD_B ".so", NULL);

	(void)data;
	g_test_summary("IOPGT_PLUGIN_PATH directories come after the added "
		       "ones, so an added directory shadows them");
	fixture_copy_to("good", GOOD_A, d1);
	fixture_copy_to("good", GOOD_A, d2);
	fixture_copy_to("good", GOOD_B, d2);
	env = g_strdup_printf(":%s:", d2);
	g_setenv("IOPGT_PLUGIN_PATH", env, TRUE);
	add_dir(f, d1);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 2);
	g_unsetenv("IOPGT_PLUGIN_PATH");
	g_assert_true(g_str_has_prefix(iopgt_plugin_get_path(
				iopgt_host_find_plugin(f->host, GOOD_A)), d1));
	g_assert_cmpstr(iopgt_plugin_get_path(iopgt_host_find_plugin(
				f->host, GOOD_B)), ==, b_path);
}

/* ---- order from the manifest --------------------------------------------- */

static void test_order_from_manifest_only(struct host_fixture *f,
					  gconstpointer data)
{
	static const char *const manifest =
		"# c before a, a before b: not name order, not dir order\n"
		"softdep fixture-good-a pre: fixture-good-c\n"
		"softdep fixture_good_a post: fixture-good-b\n";
	static const char *const want =
		"fixture-good-c:0 fixture-good-a:1 fixture-good-b:2";
	g_autofree char *d1 = NULL, *d2 = NULL;
	g_autofree char *conf = NULL;

	(void)data;
	g_test_summary("Load order comes from the manifest's softdeps over "
		       "sorted names, never from directory order");
	make_split_dirs(f, &d1, &d2);
	conf = use_manifest(f, "order.conf", manifest);
	add_dir(f, d1);
	add_dir(f, d2);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
	assert_order(f, want);
	iopgt_host_unload_all(f->host);

	/* the same on a fresh host that scans the directories reversed */
	g_assert_null(iopgt_host_unref(f->host));
	f->host = iopgt_host_new();
	log_capture_attach(&f->log, f->host);
	g_assert_true(iopgt_host_load_manifest(f->host, conf, NULL));
	add_dir(f, d2);
	add_dir(f, d1);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
	assert_order(f, want);
}

static void test_unload_all_reverse_order(struct host_fixture *f,
					  gconstpointer data)
{
	g_autofree char *good = fixture_dir("good");
	g_autofree char *marker = NULL;

	(void)data;
	g_test_summary("unload_all() unloads in reverse load order "
		       "(modprobe -r: post deps first)");
	g_free(use_manifest(f, "order.conf",
			    "softdep fixture-good-b pre: fixture-good-c\n"));
	add_dir(f, good);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
	assert_order(f, "fixture-good-a:0 fixture-good-c:1 fixture-good-b:2");
	iopgt_host_unload_all(f->host);
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==,
			"fixture-good-a register\n"
			"fixture-good-c register\n"
			"fixture-good-b register\n"
			"fixture-good-b unregister\n"
			"fixture-good-c unregister\n"
			"fixture-good-a unregister\n");
	for (const char *const *n = (const char *const[]){ GOOD_A, GOOD_B,
							   GOOD_C, NULL };
	     *n; n++)
		assert_plugin(iopgt_host_find_plugin(f->host, *n),
			      IOPGT_PLUGIN_UNLOADED, NULL);
}

static void test_blacklist(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *good = fixture_dir("good");
	g_autofree char *conf = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *line = NULL;
	struct iopgt_plugin *b;

	(void)data;
	g_test_summary("A blacklisted plugin is never opened, says where it "
		       "was blacklisted, and load_plugin() gives -EPERM");
	conf = use_manifest(f, "bl.conf", "# no b\nblacklist fixture_good_b\n");
	reason = g_strdup_printf("blacklisted at %s:2", conf);
	add_dir(f, good);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 2);
	b = iopgt_host_find_plugin(f->host, GOOD_B);
	assert_plugin(b, IOPGT_PLUGIN_BLACKLISTED, reason);
	assert_order(f, "fixture-good-a:0 fixture-good-c:1 "
		     "fixture-good-b:-1");
	g_assert_null(iopgt_host_find_format(f->host, "fake-b"));

	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_B, NULL), ==,
			-EPERM);
	line = g_strdup_printf("info: %s: not loaded: %s",
			       iopgt_plugin_get_path(b), reason);
	assert_logged(f, line);
	assert_plugin(b, IOPGT_PLUGIN_BLACKLISTED, reason);
	g_assert_false(fixture_is_mapped(iopgt_plugin_get_path(b)));
}

static void test_cycle_not_loaded(struct host_fixture *f, gconstpointer data)
{
	static const char *const cycle =
		"fixture-good-a -> fixture-good-b -> fixture-good-a";
	g_autofree char *good = fixture_dir("good");
	g_autofree char *reason = g_strdup_printf("on softdep cycle %s", cycle);
	g_autofree char *line = g_strdup_printf("err: softdep cycle: %s",
						cycle);

	(void)data;
	g_test_summary("Plugins on a softdep cycle are FAILED with the cycle "
		       "in the reason; everything else loads");
	g_free(use_manifest(f, "cycle.conf",
			    "softdep fixture-good-a pre: fixture-good-b\n"
			    "softdep fixture-good-b pre: fixture-good-a\n"
			    "softdep fixture-good-c pre: fixture-good-a\n"));
	add_dir(f, good);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 1);
	assert_logged(f, line);
	assert_plugin(iopgt_host_find_plugin(f->host, GOOD_A),
		      IOPGT_PLUGIN_FAILED, reason);
	assert_plugin(iopgt_host_find_plugin(f->host, GOOD_B),
		      IOPGT_PLUGIN_FAILED, reason);
	assert_plugin(iopgt_host_find_plugin(f->host, GOOD_C),
		      IOPGT_PLUGIN_LOADED, NULL);
	assert_order(f, "fixture-good-c:0 fixture-good-a:-1 "
		     "fixture-good-b:-1");

	/* by name too: -ELOOP, same reason */
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_B, NULL), ==,
			-ELOOP);
	assert_plugin(iopgt_host_find_plugin(f->host, GOOD_B),
		      IOPGT_PLUGIN_FAILED, reason);
}

static void test_load_by_name_pulls_pre_and_post(struct host_fixture *f,
						 gconstpointer data)
{
	g_autofree char *good = fixture_dir("good");
	g_autofree char *conf = NULL;
	g_autofree char *mixed = g_build_filename(f->tmpdir, "mixed", NULL);
	struct iopgt_plugin *p = NULL;

	(void)data;
	g_test_summary("load_plugin(B) loads B's pre: softdeps first and its "
		       "post: ones after; a missing softdep is only a warning");
	conf = use_manifest(f, "deps.conf",
			    "softdep fixture-good-b pre: fixture-good-c "
			    "no-such-plugin post: fixture-good-a\n");
	add_dir(f, good);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_B, &p), ==, 0);
	g_assert_true(p == iopgt_host_find_plugin(f->host, GOOD_B));
	assert_order(f, "fixture-good-c:0 fixture-good-b:1 fixture-good-a:2");
	{
		g_autofree char *line = g_strdup_printf(
			"warning: %s:1: softdep fixture-good-b pre: "
			"no-such-plugin: no plugin named 'no-such-plugin', "
			"ignored", conf);

		/* the warning names the manifest line that asked */
		assert_logged(f, line);
	}

	/* a pre: dep that fails does not stop its user */
	iopgt_host_unload_all(f->host);
	g_assert_null(iopgt_host_unref(f->host));
	f->host = iopgt_host_new();
	log_capture_attach(&f->log, f->host);
	g_assert_true(iopgt_host_load_manifest(f->host, conf, NULL));
	fixture_copy_to("broken", "abi-major", mixed);
	fixture_copy_to("good", GOOD_C, mixed);
	add_dir(f, mixed);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 2);
	g_free(conf);
	conf = use_manifest(f, "more.conf",
			    "softdep fixture-good-c pre: abi-major\n");
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_C, NULL), ==, 0);
	assert_plugin(iopgt_host_find_plugin(f->host, "abi-major"),
		      IOPGT_PLUGIN_FAILED,
		      "descriptor field 'abi_major' is 2, host speaks ABI " TEST_ABI);
	assert_logged(f, "warning: softdep fixture-good-c pre: abi-major: "
		      "Protocol error, continuing");
	g_assert_cmpint(iopgt_plugin_get_load_index(iopgt_host_find_plugin(
				f->host, GOOD_C)), ==, 0);
}

static void test_name_is_not_a_path(struct host_fixture *f,
				    gconstpointer data)
{
	static const char *const bad[] = {
		"../x", "..", ".", "/usr/lib/x.so", "good/fixture-good-a",
		".hidden", "", "a b", "fixture-good-a/",
	};
	g_autofree char *good = fixture_dir("good");
	struct iopgt_plugin *out = (void *)&out;

	(void)data;
	g_test_summary("load_plugin() takes a plugin name, never a path: "
		       "-EINVAL, nothing opened");
	add_dir(f, good);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *line = g_strdup_printf(
			"err: '%s' is not a plugin name (names, not paths)",
			bad[i]);

		g_assert_cmpint(iopgt_host_load_plugin(f->host, bad[i], &out),
				==, -EINVAL);
		assert_logged(f, line);
	}
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "no-such", &out), ==,
			-ENOENT);
	g_assert_null(out);
	assert_order(f, "fixture-good-a:-1 fixture-good-b:-1 "
		     "fixture-good-c:-1");
	/* '_' and '-' are the same name */
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "fixture_good_a", &out),
			==, 0);
	g_assert_true(out == iopgt_host_find_plugin(f->host, GOOD_A));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	host_test_add("/host/registry/duplicate-format", test_duplicate_format);
	host_test_add("/host/registry/duplicate-alias", test_duplicate_alias);
	host_test_add("/host/registry/duplicate-self", test_duplicate_self);
	host_test_add("/host/registry/refusal-ignored", test_refusal_ignored);
	host_test_add("/host/registry/alias-lookup", test_alias_lookup);
	host_test_add("/host/registry/partial-registration-rolled-back",
		      test_partial_registration_rolled_back);
	host_test_add("/host/registry/builtin-and-module-coexist",
		      test_builtin_and_module_coexist);
	host_test_add("/host/registry/builtin-name-taken",
		      test_builtin_name_taken);
	host_test_add("/host/registry/scan-sorted-and-shadowed",
		      test_scan_sorted_and_shadowed);
	host_test_add("/host/registry/plugin-path-env-searched-last",
		      test_plugin_path_env_searched_last);
	host_test_add("/host/registry/order-from-manifest-only",
		      test_order_from_manifest_only);
	host_test_add("/host/registry/unload-all-reverse-order",
		      test_unload_all_reverse_order);
	host_test_add("/host/registry/blacklist", test_blacklist);
	host_test_add("/host/registry/cycle-not-loaded", test_cycle_not_loaded);
	host_test_add("/host/registry/load-by-name-pulls-pre-and-post",
		      test_load_by_name_pulls_pre_and_post);
	host_test_add("/host/registry/name-is-not-a-path",
		      test_name_is_not_a_path);

	return g_test_run();
}
