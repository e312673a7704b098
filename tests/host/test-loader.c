// SPDX-License-Identifier: MIT
/*
 * /host/loader/...: opening plugin files, checking descriptors, surviving
 * broken plugins.  One test per broken fixture (tests/fixtures/plugins),
 * each asserting the exact return code, the state, the one-line reason and
 * the log line, and that the library was closed again.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <glib/gstdio.h>

#include "host-fixture.h"

#define GOOD_A		"fixture-good-a"

/*
 * Load broken/NAME.so by path and check everything a failure leaves:
 * return code, no plugin handed out, FAILED with exactly REASON, the
 * "PATH: REASON" error line, nothing registered, the file not mapped.
 * Each "%s" in REASON stands for the file's path.
 */
static struct iopgt_plugin *assert_load_fails(struct host_fixture *f,
					      const char *name, int want,
					      const char *reason_fmt)
{
	g_autofree char *path = fixture_so("broken", name);
	g_auto(GStrv) parts = g_strsplit(reason_fmt, "%s", -1);
	g_autofree char *reason = g_strjoinv(path, parts);
	g_autofree char *line = NULL;
	g_auto(GStrv) formats = NULL;
	struct iopgt_plugin *out = (void *)&out, *p;

	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, &out), ==,
			want);
	g_assert_null(out);
	p = iopgt_host_find_plugin(f->host, name);
	assert_plugin(p, IOPGT_PLUGIN_FAILED, reason);
	g_assert_cmpstr(iopgt_plugin_get_path(p), ==, path);
	g_assert_cmpint(iopgt_plugin_get_load_index(p), ==, -1);
	g_assert_cmpint(iopgt_plugin_get_refcount(p), ==, 0);
	formats = iopgt_plugin_dup_formats(p);
	g_assert_cmpuint(g_strv_length(formats), ==, 0);
	line = g_strdup_printf("err: %s: %s", path, reason);
	assert_logged(f, line);
	g_assert_false(fixture_is_mapped(path));
	return p;
}

/* ---- good ---------------------------------------------------------------- */

static void test_good_plugin_metadata(struct host_fixture *f,
				      gconstpointer data)
{
	g_autofree char *a_path = fixture_so("good", GOOD_A);
	g_autofree char *c_path = fixture_so("good", "fixture-good-c");
	g_autofree char *marker = NULL;
	g_auto(GStrv) a_formats = NULL;
	g_auto(GStrv) c_formats = NULL;
	struct iopgt_plugin *a = NULL, *c = NULL;

	(void)data;
	g_test_summary("A good plugin loads: metadata copied, formats listed, "
		       "load order counted, register hook run once");
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, a_path, &a), ==,
			0);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, c_path, &c), ==,
			0);
	assert_plugin(a, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_true(iopgt_host_find_plugin(f->host, GOOD_A) == a);
	g_assert_cmpstr(iopgt_plugin_get_name(a), ==, GOOD_A);
	g_assert_cmpstr(iopgt_plugin_get_path(a), ==, a_path);
	g_assert_cmpstr(iopgt_plugin_get_version(a), ==, "1.0.0");
	g_assert_cmpstr(iopgt_plugin_get_description(a), ==,
			"Fixture: a good plugin providing fake-a");
	g_assert_cmpstr(iopgt_plugin_get_license(a), ==, "MIT");
	g_assert_false(iopgt_plugin_is_builtin(a));
	g_assert_cmpint(iopgt_plugin_get_refcount(a), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(a), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(c), ==, 1);
	a_formats = iopgt_plugin_dup_formats(a);
	c_formats = iopgt_plugin_dup_formats(c);
	assert_strv(a_formats, (const char *const[]){ "fake-a", NULL });
	assert_strv(c_formats,
		    (const char *const[]){ "fake-c", "fake-c2", NULL });
	g_assert_true(fixture_is_mapped(a_path));

	/* loading it again changes nothing */
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, a_path, NULL), ==,
			0);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_A, NULL), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(a), ==, 0);
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==,
			"fixture-good-a register\nfixture-good-c register\n");
}

/* ---- broken, one defect each --------------------------------------------- */

static void test_not_elf(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Garbage named .so: dlopen's reason, verbatim, and "
		       "-ENOEXEC");
	assert_load_fails(f, "not-elf", -ENOEXEC, "invalid ELF header");
}

static void test_missing_desc_symbol(struct host_fixture *f,
				     gconstpointer data)
{
	(void)data;
	g_test_summary("A library without iopgt_plugin_desc is refused with "
		       "-ENOENT and closed again");
	assert_load_fails(f, "no-desc", -ENOENT,
			  "no plugin descriptor 'iopgt_plugin_desc' "
			  "(undefined symbol: iopgt_plugin_desc)");
}

static void test_desc_is_a_function(struct host_fixture *f,
				    gconstpointer data)
{
	(void)data;
	g_test_summary("A function named iopgt_plugin_desc is never read as "
		       "a descriptor: -EPROTO");
	assert_load_fails(f, "desc-is-function", -EPROTO,
			  "'iopgt_plugin_desc' is a function, not a data "
			  "object");
}

static void test_abi_major_mismatch(struct host_fixture *f,
				    gconstpointer data)
{
	(void)data;
	g_test_summary("abi_major != IOPGT_ABI_MAJOR is -EPROTO, naming the "
		       "field, before any plugin code runs");
	assert_load_fails(f, "abi-major", -EPROTO,
			  "descriptor field 'abi_major' is 2, host speaks ABI "
			  TEST_ABI);
}

static void test_abi_minor_newer(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("abi_minor newer than the host's is -EPROTO");
	assert_load_fails(f, "abi-minor-newer", -EPROTO,
			  "descriptor field 'abi_minor' is 99, newer than host "
			  "ABI " TEST_ABI);
}

static void test_bad_magic(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A wrong magic is -EPROTO, with both values in hex");
	assert_load_fails(f, "bad-magic", -EPROTO,
			  "descriptor field 'magic' is 0xdeadbeef, expected "
			  "0x696f7067");
}

static void test_struct_size_too_small(struct host_fixture *f,
				       gconstpointer data)
{
	g_autofree char *reason = g_strdup_printf(
		"descriptor field 'struct_size' is 16, smaller than %zu",
		offsetof(struct iopgt_plugin_desc, reserved));

	(void)data;
	g_test_summary("A descriptor smaller than the ABI 1.0 layout is "
		       "-EPROTO");
	assert_load_fails(f, "small-struct", -EPROTO, reason);
}

static void test_empty_name(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("An empty descriptor name is -EPROTO");
	assert_load_fails(f, "empty-name", -EPROTO,
			  "descriptor field 'name' is empty");
}

static void test_name_mismatch(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("The descriptor name must be the file name without "
		       ".so: -EPROTO naming both");
	assert_load_fails(f, "name-mismatch", -EPROTO,
			  "descriptor field 'name' is 'fixture-other-name' but "
			  "the file is named 'name-mismatch.so'");
	g_assert_null(iopgt_host_find_plugin(f->host, "fixture-other-name"));
}

static void test_no_license(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A NULL license is -EPROTO");
	assert_load_fails(f, "no-license", -EPROTO,
			  "descriptor field 'license' is NULL");
}

static void test_no_register_fn(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A NULL register_fn is -EPROTO");
	assert_load_fails(f, "no-register-fn", -EPROTO,
			  "descriptor field 'register_fn' is NULL");
}

static void test_unresolved_symbol(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("An undefined function fails at dlopen (RTLD_NOW), "
		       "not at its first call: -ENOEXEC");
	assert_load_fails(f, "unresolved-symbol", -ENOEXEC,
			  "undefined symbol: iopgt_fixture_missing_function");
}

static void test_register_fails_leaves_nothing(struct host_fixture *f,
					       gconstpointer data)
{
	g_autofree char *marker = NULL;
	struct iopgt_plugin *p;

	(void)data;
	g_test_summary("register_fn's error is returned as is; nothing stays "
		       "registered or mapped and the unregister hook never "
		       "runs");
	p = assert_load_fails(f, "register-fails", -ENODEV,
			      "register function failed: No such device");
	/* the descriptor was good: its metadata is known */
	g_assert_cmpstr(iopgt_plugin_get_version(p), ==, "1.0.0");
	g_assert_cmpstr(iopgt_plugin_get_license(p), ==, "MIT");
	iopgt_host_unload_all(f->host);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "register-fails"),
			==, -EINVAL);
	assert_logged(f, "err: register-fails is failed, not loaded");
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "register-fails register\n");
}

static void test_no_formats(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A plugin that registers no format is FAILED (-ENOENT)");
	assert_load_fails(f, "no-formats", -ENOENT,
			  "register function registered no format");
}

static void test_failure_is_repeatable(struct host_fixture *f,
				       gconstpointer data)
{
	g_autofree char *path = fixture_so("broken", "abi-major");
	g_autofree char *line = g_strdup_printf(
		"err: %s: descriptor field 'abi_major' is 2, host speaks ABI "
		TEST_ABI, path);

	(void)data;
	g_test_summary("Loading a FAILED plugin again tries again and fails "
		       "the same way, by path and by name");
	assert_load_fails(f, "abi-major", -EPROTO,
			  "descriptor field 'abi_major' is 2, host speaks ABI "
			  TEST_ABI);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, NULL), ==,
			-EPROTO);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "abi-major", NULL), ==,
			-EPROTO);
	g_assert_cmpuint(host_fixture_count_logged(f, line), ==, 3);
	g_assert_cmpuint(iopgt_plugin_get_state(iopgt_host_find_plugin(
				f->host, "abi-major")), ==,
			 IOPGT_PLUGIN_FAILED);
}

/* ---- files that are not plugins ------------------------------------------ */

static void test_not_a_regular_file(struct host_fixture *f,
				    gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	g_autofree char *sub = g_build_filename(dir, "subdir.so", NULL);
	g_autofree char *line = g_strdup_printf("err: %s: not a regular file "
						"(a directory)", sub);
	struct iopgt_plugin *p;

	(void)data;
	g_test_summary("A directory named NAME.so is found by a scan but "
		       "refused at load with -ENOEXEC");
	g_assert_cmpint(g_mkdir_with_parents(sub, 0700), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	p = iopgt_host_find_plugin(f->host, "subdir");
	assert_plugin(p, IOPGT_PLUGIN_DISCOVERED, NULL);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "subdir", NULL), ==,
			-ENOEXEC);
	assert_plugin(p, IOPGT_PLUGIN_FAILED,
		      "not a regular file (a directory)");
	assert_logged(f, line);
}

static void test_file_name_rules(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *txt = g_build_filename(f->tmpdir, "plugin.txt", NULL);
	g_autofree char *bare = g_build_filename(f->tmpdir, ".so", NULL);
	g_autofree char *hidden = g_build_filename(f->tmpdir, ".hidden.so",
						   NULL);
	g_autofree char *ghost = g_build_filename(f->tmpdir, "ghost.so", NULL);
	g_autofree char *a_path = fixture_so("good", GOOD_A);
	g_autofree char *a_copy = g_build_filename(f->tmpdir, "copy",
						   GOOD_A ".so", NULL);
	g_autofree char *copy_dir = g_build_filename(f->tmpdir, "copy", NULL);
	g_autofree char *line = NULL;

	(void)data;
	g_test_summary("load_plugin_file() wants NAME.so with a valid name, "
		       "reports a missing file verbatim, and refuses a second "
		       "file of a known name");
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, txt, NULL), ==,
			-EINVAL);
	line = g_strdup_printf("err: %s: not a plugin file name (NAME.so)",
			       txt);
	assert_logged(f, line);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, bare, NULL), ==,
			-EINVAL);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, hidden, NULL), ==,
			-EINVAL);
	g_free(line);
	line = g_strdup_printf("err: %s: '.hidden' is not a valid plugin name",
			       hidden);
	assert_logged(f, line);

	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, ghost, NULL), ==,
			-ENOENT);
	g_free(line);
	line = g_strdup("cannot open: No such file or directory");
	assert_plugin(iopgt_host_find_plugin(f->host, "ghost"),
		      IOPGT_PLUGIN_FAILED, line);

	fixture_copy_to("good", GOOD_A, copy_dir);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, a_path, NULL), ==,
			0);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, a_copy, NULL), ==,
			-EEXIST);
	g_free(line);
	line = g_strdup_printf("err: %s: a plugin named 'fixture-good-a' is "
			       "already known from %s", a_copy, a_path);
	assert_logged(f, line);
	g_assert_cmpstr(iopgt_plugin_get_path(iopgt_host_find_plugin(
				f->host, GOOD_A)), ==, a_path);
}

/* ---- a directory with broken plugins ------------------------------------- */

static void test_broken_plugin_does_not_stop_others(struct host_fixture *f,
						    gconstpointer data)
{
	static const struct {
		const char *name;
		enum iopgt_plugin_state state;
		int load_index;
	} want[] = {
		{ "abi-major", IOPGT_PLUGIN_FAILED, -1 },
		{ "fixture-good-a", IOPGT_PLUGIN_LOADED, 0 },
		{ "fixture-good-b", IOPGT_PLUGIN_LOADED, 1 },
		{ "fixture-good-c", IOPGT_PLUGIN_LOADED, 2 },
		{ "no-desc", IOPGT_PLUGIN_FAILED, -1 },
		{ "not-elf", IOPGT_PLUGIN_FAILED, -1 },
		{ "partial-then-fail", IOPGT_PLUGIN_FAILED, -1 },
		{ "register-fails", IOPGT_PLUGIN_FAILED, -1 },
		{ "unresolved-symbol", IOPGT_PLUGIN_FAILED, -1 },
	};
	static const char *const formats[] = { "fake-a", "FAKE_A", "fake-b",
					       "fake-c", "fake-c2" };
	g_autofree char *dir = fixture_dir("mixed");

	(void)data;
	g_test_summary("load_all() over a directory of good and broken "
		       "plugins loads every good one, records every broken "
		       "one as FAILED, and the formats work");
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, G_N_ELEMENTS(want));
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		struct iopgt_plugin *p = iopgt_host_find_plugin(f->host,
								want[i].name);

		g_assert_nonnull(p);
		g_assert_cmpstr(iopgt_plugin_state_to_string(
					iopgt_plugin_get_state(p)), ==,
				iopgt_plugin_state_to_string(want[i].state));
		g_assert_cmpint(iopgt_plugin_get_load_index(p), ==,
				want[i].load_index);
		g_assert_true((iopgt_plugin_get_error(p) != NULL) ==
			      (want[i].state == IOPGT_PLUGIN_FAILED));
	}
	g_assert_cmpstr(iopgt_plugin_get_error(iopgt_host_find_plugin(
				f->host, "register-fails")), ==,
			"register function failed: No such device");
	g_assert_null(iopgt_host_find_format(f->host, "fake-partial"));

	for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
		struct iopgt_pgtable *pgt;

		g_assert_cmpint(fake_table_new(f->host, formats[i], NULL, &pgt),
				==, 0);
		assert_fake_table_works(f->host, pgt);
		iopgt_pgtable_free(f->host, pgt);
	}
	/* a second load_all finds the same: loaded ones count again */
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
}

/* ---- unload hooks and resident libraries --------------------------------- */

static void test_unregister_hook_runs_once(struct host_fixture *f,
					   gconstpointer data)
{
	g_autofree char *path = fixture_so("good", GOOD_A);
	g_autofree char *marker = NULL;
	struct iopgt_plugin *p;

	(void)data;
	g_test_summary("Unload calls unregister_fn once, then dlclose; the "
		       "library is really gone");
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, &p), ==, 0);
	g_assert_true(fixture_is_mapped(path));
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
	assert_plugin(p, IOPGT_PLUGIN_UNLOADED, NULL);
	g_assert_false(fixture_is_mapped(path));
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==,
			-EINVAL);
	assert_logged(f, "err: fixture-good-a is unloaded, not loaded");
	iopgt_host_unload_all(f->host);
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "fixture-good-a register\n"
				    "fixture-good-a unregister\n");
}

static void test_nodelete_is_resident(struct host_fixture *f,
				      gconstpointer data)
{
	static const char *const why = "still mapped after dlclose (NODELETE, "
				       "unique symbol or thread-local "
				       "destructor)";
	g_autofree char *path = fixture_so("lifecycle", "nodelete");
	g_autofree char *line = g_strdup_printf("warning: %s: %s", path, why);
	g_autofree char *marker = NULL;
	struct iopgt_plugin *p;

	(void)data;
	g_test_summary("A library linked -z nodelete stays mapped after "
		       "dlclose: the host says RESIDENT, not UNLOADED, and "
		       "will not reuse its stale statics");
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, &p), ==, 0);
	g_assert_nonnull(iopgt_host_find_format(f->host, "fake-nodelete"));
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "nodelete"), ==, 0);
	assert_plugin(p, IOPGT_PLUGIN_RESIDENT, why);
	assert_logged(f, line);
	g_assert_true(fixture_is_mapped(path));
	g_assert_null(iopgt_host_find_format(f->host, "fake-nodelete"));
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "nodelete register\nnodelete unregister\n");

	g_assert_cmpint(iopgt_host_load_plugin(f->host, "nodelete", NULL), ==,
			-EALREADY);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, NULL), ==,
			-EALREADY);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "nodelete"), ==,
			-EINVAL);
	assert_plugin(p, IOPGT_PLUGIN_RESIDENT, why);
}

static void test_same_file_in_two_hosts(struct host_fixture *f,
					gconstpointer data)
{
	g_autofree char *path = fixture_so("good", GOOD_A);
	struct iopgt_host *other = iopgt_host_new();
	struct iopgt_plugin *mine, *theirs;

	(void)data;
	g_test_summary("Two hosts may load one file (glibc shares the "
		       "mapping): the first to unload has really unloaded "
		       "and can load it again");
	log_capture_attach(&f->log, other);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, &mine), ==,
			0);
	g_assert_cmpint(iopgt_host_load_plugin_file(other, path, &theirs), ==,
			0);
	g_assert_cmpint(iopgt_host_unload_plugin(other, GOOD_A), ==, 0);
	g_assert_true(fixture_is_mapped(path));	/* f->host still has it */
	assert_plugin(theirs, IOPGT_PLUGIN_UNLOADED, NULL);
	g_assert_cmpint(iopgt_host_load_plugin(other, GOOD_A, NULL), ==, 0);
	assert_plugin(theirs, IOPGT_PLUGIN_LOADED, NULL);
	assert_plugin(mine, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_null(iopgt_host_unref(other));
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
	assert_plugin(mine, IOPGT_PLUGIN_UNLOADED, NULL);
	g_assert_false(fixture_is_mapped(path));
}

/* ---- crashes ------------------------------------------------------------- */

static void test_init_segv_crashes_in_process(void)
{
	g_test_summary("With probing off (a trusted plugin), a register_fn "
		       "that segfaults takes the in-process host down with "
		       "it: run it in a subprocess and expect that process "
		       "to die (test-gallery: with probing on it survives)");
	if (g_test_subprocess()) {
		g_autofree char *path = fixture_so("crash", "init-segv");
		struct iopgt_host *host = iopgt_host_new();

		iopgt_host_set_probe(host, false);

		g_print("loading init-segv\n");
		iopgt_host_load_plugin_file(host, path, NULL);
		g_print("survived\n");
		iopgt_host_unref(host);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stdout("*loading init-segv*");
	g_test_trap_assert_stdout_unmatched("*survived*");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	host_test_add("/host/loader/good-plugin-metadata",
		      test_good_plugin_metadata);
	host_test_add("/host/loader/not-elf", test_not_elf);
	host_test_add("/host/loader/missing-desc-symbol",
		      test_missing_desc_symbol);
	host_test_add("/host/loader/desc-is-a-function",
		      test_desc_is_a_function);
	host_test_add("/host/loader/abi-major-mismatch",
		      test_abi_major_mismatch);
	host_test_add("/host/loader/abi-minor-newer", test_abi_minor_newer);
	host_test_add("/host/loader/bad-magic", test_bad_magic);
	host_test_add("/host/loader/struct-size-too-small",
		      test_struct_size_too_small);
	host_test_add("/host/loader/empty-name", test_empty_name);
	host_test_add("/host/loader/name-mismatch", test_name_mismatch);
	host_test_add("/host/loader/no-license", test_no_license);
	host_test_add("/host/loader/no-register-fn", test_no_register_fn);
	host_test_add("/host/loader/unresolved-symbol", test_unresolved_symbol);
	host_test_add("/host/loader/register-fails-leaves-nothing",
		      test_register_fails_leaves_nothing);
	host_test_add("/host/loader/no-formats", test_no_formats);
	host_test_add("/host/loader/failure-is-repeatable",
		      test_failure_is_repeatable);
	host_test_add("/host/loader/not-a-regular-file",
		      test_not_a_regular_file);
	host_test_add("/host/loader/file-name-rules", test_file_name_rules);
	host_test_add("/host/loader/broken-plugin-does-not-stop-others",
		      test_broken_plugin_does_not_stop_others);
	host_test_add("/host/loader/unregister-hook-runs-once",
		      test_unregister_hook_runs_once);
	host_test_add("/host/loader/nodelete-is-resident",
		      test_nodelete_is_resident);
	host_test_add("/host/loader/same-file-in-two-hosts",
		      test_same_file_in_two_hosts);
	g_test_add_func("/host/loader/init-segv-crashes-in-process",
			test_init_segv_crashes_in_process);

	return g_test_run();
}
