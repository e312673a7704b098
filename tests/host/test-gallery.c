// SPDX-License-Identifier: MIT
/*
 * The broken-plugin gallery, with crash isolation and file trust on: each
 * case puts the three good fixture plugins and ONE bad thing in a fresh
 * plugin directory, loads the directory, and checks that
 *   - the bad thing is refused with exactly one "err: PATH: reason" line
 *     and the documented state and reason,
 *   - the three good plugins loaded and a table of theirs works,
 *   - and (teardown) nothing leaked.
 * Then the probe's own rules: the blacklist is remembered per file until
 * the file changes, trusted dirs and --no-probe skip it, and the CLI lists
 * blacklisted plugins with their reason.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-fixture.h"

#define GOOD_A	"fixture-good-a"
#define GOOD_B	"fixture-good-b"
#define GOOD_C	"fixture-good-c"
/* short, so the hang case costs little; generous against a loaded CI box */
#define TIMEOUT_MS	1500

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* A per-test plugin directory holding the good three. */
static char *gallery_dir(struct host_fixture *f)
{
	char *dir = g_build_filename(f->tmpdir, "plugins", NULL);

	fixture_copy_to("good", GOOD_A, dir);
	fixture_copy_to("good", GOOD_B, dir);
	fixture_copy_to("good", GOOD_C, dir);
	return dir;
}

static void host_probing(struct host_fixture *f, const char *dir)
{
	g_autofree char *cache = g_build_filename(f->tmpdir, "cache", NULL);

	iopgt_host_set_probe(f->host, true);
	iopgt_host_set_probe_timeout(f->host, TIMEOUT_MS);
	g_assert_cmpint(iopgt_host_set_cache_file(f->host, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
}

/* Scan, load the good ones first (so "a format another plugin owns" has
 * an owner), then the whole directory.  Returns: load_all's count. */
static int load_gallery(struct host_fixture *f, int expect_found)
{
	g_assert_cmpint(iopgt_host_scan(f->host), ==, expect_found);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_A, NULL), ==, 0);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_B, NULL), ==, 0);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_C, NULL), ==, 0);
	return iopgt_host_load_all(f->host);
}

static void assert_good_ones_work(struct host_fixture *f)
{
	static const char *const formats[] = { "fake-a", "fake-b", "fake-c" };

	for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
		struct iopgt_pgtable *pgt;

		g_assert_cmpint(fake_table_new(f->host, formats[i], "t", &pgt),
				==, 0);
		assert_fake_table_works(f->host, pgt);
		iopgt_pgtable_free(f->host, pgt);
	}
}

/* The bad plugin's state and reason, and its one log line. */
static void assert_refused(struct host_fixture *f, const char *name,
			   const char *path, enum iopgt_plugin_state state,
			   const char *reason)
{
	g_autofree char *line = g_strdup_printf("err: %s: %s", path, reason);

	assert_plugin(iopgt_host_find_plugin(f->host, name), state, reason);
	g_assert_cmpuint(host_fixture_count_logged(f, line), ==, 1);
}

/* What a crash looks like in this build: ASan keeps its SIGSEGV handler
 * (the child's SIG_DFL is ignored) and turns the fault into a report and
 * exit(1); SIGBUS it leaves alone. */
static char *expected_crash(const char *reason)
{
#ifdef UNDER_ASAN
	if (g_str_has_prefix(reason, "probe: killed by signal 11"))
		return g_strdup_printf("probe: exited with status 1 %s",
				       strstr(reason, ") in ") + 2);
#endif
	return g_strdup(reason);
}

/* ---- one case per gallery item -------------------------------------------- */

struct gallery_case {
	const char *path;	/* test path */
	const char *sub;	/* fixture subdir, or NULL: made by the test */
	const char *name;	/* plugin (file) name */
	enum iopgt_plugin_state state;
	const char *reason;
	int load_ret;		/* what load_plugin says on a second try */
};

static const struct gallery_case cases[] = {
	{ "not-elf", "broken", "not-elf", IOPGT_PLUGIN_FAILED,
	  "invalid ELF header", -ENOEXEC },
	{ "no-register-symbol", "broken", "no-desc", IOPGT_PLUGIN_FAILED,
	  "no plugin descriptor 'iopgt_plugin_desc' (undefined symbol: "
	  "iopgt_plugin_desc)", -ENOENT },
	{ "symbol-is-a-function", "broken", "desc-is-function",
	  IOPGT_PLUGIN_FAILED,
	  "'iopgt_plugin_desc' is a function, not a data object", -EPROTO },
	{ "register-fn-is-data", "broken", "register-fn-is-data",
	  IOPGT_PLUGIN_FAILED,
	  "descriptor field 'register_fn' does not point to code in the "
	  "plugin", -EPROTO },
	{ "abi-major", "broken", "abi-major", IOPGT_PLUGIN_FAILED,
	  "descriptor field 'abi_major' is 2, host speaks ABI " TEST_ABI, -EPROTO },
	{ "abi-minor-newer", "broken", "abi-minor-newer", IOPGT_PLUGIN_FAILED,
	  "descriptor field 'abi_minor' is 99, newer than host ABI "
	  TEST_ABI,
	  -EPROTO },
	{ "name-empty", "broken", "empty-name", IOPGT_PLUGIN_FAILED,
	  "descriptor field 'name' is empty", -EPROTO },
	{ "name-too-long", "broken", "name-too-long", IOPGT_PLUGIN_FAILED,
	  "descriptor field 'name' is too long", -EPROTO },
	{ "name-non-printable", "broken", "name-nonprint", IOPGT_PLUGIN_FAILED,
	  "descriptor field 'name' has a non-printable byte", -EPROTO },
	{ "register-fails", "broken", "register-fails", IOPGT_PLUGIN_FAILED,
	  "register function failed: No such device", -ENODEV },
	{ "registers-twice", "broken", "dup-self", IOPGT_PLUGIN_FAILED,
	  "register function failed: File exists (format 'fake-dup-self' is "
	  "already registered by plugin 'dup-self')", -EEXIST },
	{ "format-owned-by-another", "broken", "dup-format",
	  IOPGT_PLUGIN_FAILED,
	  "register function failed: File exists (format 'fake-a' is already "
	  "registered by plugin 'fixture-good-a')", -EEXIST },
	{ "partial-then-fail", "broken", "partial-then-fail",
	  IOPGT_PLUGIN_FAILED,
	  "register function failed: Input/output error", -EIO },
	{ "unresolved-symbol", "broken", "unresolved-symbol",
	  IOPGT_PLUGIN_FAILED,
	  "undefined symbol: iopgt_fixture_missing_function", -ENOEXEC },
	{ "constructor-crashes", "crash", "ctor-segv", IOPGT_PLUGIN_BLACKLISTED,
	  "probe: killed by signal 11 (Segmentation fault) in dlopen",
	  -EPERM },
	{ "register-crashes", "crash", "init-segv", IOPGT_PLUGIN_BLACKLISTED,
	  "probe: killed by signal 11 (Segmentation fault) in register_fn",
	  -EPERM },
	{ "register-hangs", "crash", "register-hang", IOPGT_PLUGIN_BLACKLISTED,
	  "probe: no answer within 1500 ms in register_fn (killed)", -EPERM },
	{ "register-exits", "crash", "register-exit", IOPGT_PLUGIN_BLACKLISTED,
	  "probe: exited with status 3 in register_fn", -EPERM },
};

static void test_gallery_case(struct host_fixture *f, gconstpointer data)
{
	const struct gallery_case *c = data;
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = NULL;
	g_autofree char *reason = NULL;

	g_test_summary("One broken plugin among good ones: one 'PATH: "
		       "reason' line, the rest load and work");
	fixture_copy_to(c->sub, c->name, dir);
	path = g_strdup_printf("%s/%s.so", dir, c->name);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 4), ==, 3);
	reason = expected_crash(c->reason);
	assert_refused(f, c->name, path, c->state, reason);
	/* asking again changes nothing and says the same */
	g_assert_cmpint(iopgt_host_load_plugin(f->host, c->name, NULL), ==,
			c->load_ret);
	assert_plugin(iopgt_host_find_plugin(f->host, c->name), c->state,
		      reason);
	assert_good_ones_work(f);
}

/* ---- gallery items made on the spot --------------------------------------- */

static void write_truncated(const char *src, const char *dst, gsize keep)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) error = NULL;
	gsize len;

	g_file_get_contents(src, &data, &len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(len, >, keep);
	g_file_set_contents(dst, data, keep, &error);
	g_assert_no_error(error);
}

static void test_truncated_elf(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *src = fixture_so("good", GOOD_A);
	g_autofree char *head = g_build_filename(dir, "head.so", NULL);
	g_autofree char *body = g_build_filename(dir, "body.so", NULL);
	g_autofree char *crash = NULL;

	(void)data;
	g_test_summary("A plugin cut short: inside its headers dlopen says "
		       "so; after them glibc maps pages past the end of the "
		       "file and the first touch is SIGBUS, which only the "
		       "probe survives");
	write_truncated(src, head, 40);
	write_truncated(src, body, 1000);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 5), ==, 3);
	assert_refused(f, "head", head, IOPGT_PLUGIN_FAILED, "file too short");
	crash = expected_crash("probe: killed by signal 7 (Bus error) in "
			       "dlopen");
	assert_refused(f, "body", body, IOPGT_PLUGIN_BLACKLISTED, crash);
	assert_good_ones_work(f);
}

static void test_directory_named_so(struct host_fixture *f,
				    gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = g_build_filename(dir, "x.so", NULL);

	(void)data;
	g_test_summary("A directory named x.so is refused, not opened");
	g_assert_cmpint(mkdir(path, 0700), ==, 0);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 4), ==, 3);
	assert_refused(f, "x", path, IOPGT_PLUGIN_FAILED,
		       "not a regular file (a directory)");
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "x", NULL), ==,
			-ENOEXEC);
	assert_good_ones_work(f);
}

static void test_dangling_symlink(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = g_build_filename(dir, "dangling.so", NULL);

	(void)data;
	g_test_summary("A dangling symlink is refused naming its target");
	g_assert_cmpint(symlink("gone.so", path), ==, 0);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 4), ==, 3);
	assert_refused(f, "dangling", path, IOPGT_PLUGIN_FAILED,
		       "dangling symlink to 'gone.so'");
	assert_good_ones_work(f);
}

static void test_symlink_outside(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *elsewhere = g_build_filename(f->tmpdir, "elsewhere",
						      NULL);
	g_autofree char *target = g_build_filename(elsewhere, GOOD_A ".so",
						   NULL);
	g_autofree char *path = g_build_filename(dir, "outside.so", NULL);
	g_autofree char *reason = g_strdup_printf(
		"symlink to '%s' leads outside the plugin directory", target);

	(void)data;
	g_test_summary("A symlink to a file outside the plugin dir is "
		       "refused with -EACCES; one inside is followed");
	fixture_copy_to("good", GOOD_A, elsewhere);
	g_assert_cmpint(symlink(target, path), ==, 0);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 4), ==, 3);
	assert_refused(f, "outside", path, IOPGT_PLUGIN_FAILED, reason);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "outside", NULL), ==,
			-EACCES);
	assert_good_ones_work(f);
}

static void test_symlink_inside(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *sub = g_build_filename(dir, "versions", NULL);
	g_autofree char *path = g_build_filename(dir, "nodelete.so", NULL);

	(void)data;
	g_test_summary("A symlink that stays inside the plugin dir is "
		       "followed: the usual libfoo.so -> libfoo.so.1 layout");
	fixture_copy_to("lifecycle", "nodelete", sub);
	g_assert_cmpint(symlink("versions/nodelete.so", path), ==, 0);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 4), ==, 4);
	assert_plugin(iopgt_host_find_plugin(f->host, "nodelete"),
		      IOPGT_PLUGIN_LOADED, NULL);
}

/* NODELETE and a pending thread-local destructor: dlclose keeps them. */
static void test_stays_resident(struct host_fixture *f, gconstpointer data)
{
	const char *name = data;
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = NULL;

	g_test_summary("A plugin glibc cannot unmap is reported resident, "
		       "not unloaded, and is not opened again");
	fixture_copy_to("lifecycle", name, dir);
	path = g_strdup_printf("%s/%s.so", dir, name);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 4), ==, 4);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, name), ==, 0);
	assert_plugin(iopgt_host_find_plugin(f->host, name),
		      IOPGT_PLUGIN_RESIDENT,
		      "still mapped after dlclose (NODELETE, unique symbol or "
		      "thread-local destructor)");
	g_assert_true(fixture_is_mapped(path));
	g_assert_cmpint(iopgt_host_load_plugin(f->host, name, NULL), ==,
			-EALREADY);
	assert_good_ones_work(f);
}

/* ---- file trust ------------------------------------------------------------ */

static void test_insecure_file_mode(struct host_fixture *f,
				    gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = g_build_filename(dir, GOOD_C ".so", NULL);

	(void)data;
	g_test_summary("A plugin file writable by group or others is refused "
		       "with -EACCES unless insecure files are allowed");
	g_assert_cmpint(chmod(path, 0666), ==, 0);
	host_probing(f, dir);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_C, NULL), ==,
			-EACCES);
	assert_refused(f, GOOD_C, path, IOPGT_PLUGIN_FAILED,
		       "refused: the file is writable by group or others "
		       "(mode 0666)");
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 2);
	iopgt_host_set_allow_insecure(f->host, true);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_C, NULL), ==, 0);
	assert_good_ones_work(f);
}

static void test_insecure_dir_mode(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = g_build_filename(dir, GOOD_A ".so", NULL);

	(void)data;
	g_test_summary("Plugins in a directory writable by group or others "
		       "are refused: anyone could swap them");
	g_assert_cmpint(chmod(dir, 0777), ==, 0);
	host_probing(f, dir);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 0);
	assert_refused(f, GOOD_A, path, IOPGT_PLUGIN_FAILED,
		       "refused: the plugin directory is writable by group or "
		       "others (mode 0777)");
	iopgt_host_set_allow_insecure(f->host, true);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
	assert_good_ones_work(f);
	g_assert_cmpint(chmod(dir, 0700), ==, 0);
}

static void test_foreign_owner(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = g_build_filename(dir, GOOD_B ".so", NULL);
	g_autofree char *reason = NULL;
	const uid_t nobody = 65534;

	(void)data;
	g_test_summary("A plugin owned by a user other than root and the "
		       "caller is refused");
	if (geteuid() != 0) {
		/* only root can give a file away */
		g_test_skip("needs root to chown a file to another user");
		return;
	}
	g_assert_cmpint(chown(path, nobody, (gid_t)-1), ==, 0);
	reason = g_strdup_printf("refused: the file is owned by uid %u, neither "
				 "root nor the caller (uid %u)", nobody,
				 (unsigned int)geteuid());
	host_probing(f, dir);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 2);
	assert_refused(f, GOOD_B, path, IOPGT_PLUGIN_FAILED, reason);
	iopgt_host_set_allow_insecure(f->host, true);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_B, NULL), ==, 0);
	assert_good_ones_work(f);
}

/* ---- the probe's memory ---------------------------------------------------- */

static struct iopgt_host *second_host(struct host_fixture *f, const char *dir)
{
	g_autofree char *cache = g_build_filename(f->tmpdir, "cache", NULL);
	struct iopgt_host *h = iopgt_host_new();

	iopgt_host_set_log_priority(h, 0);
	iopgt_host_set_probe_timeout(h, TIMEOUT_MS);
	g_assert_cmpint(iopgt_host_set_cache_file(h, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(h, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(h), ==, 4);
	return h;
}

static void test_blacklist_remembered(struct host_fixture *f,
				      gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *path = g_build_filename(dir, "register-exit.so", NULL);
	struct iopgt_probe_stats st;
	struct iopgt_host *h;
	const char *reason = "probe: exited with status 3 in register_fn";

	(void)data;
	g_test_summary("A probe's verdict is kept in the cache file, keyed by "
		       "the file's identity: the next host does not run the "
		       "plugin again until the file changes");
	fixture_copy_to("crash", "register-exit", dir);
	host_probing(f, dir);
	g_assert_cmpint(load_gallery(f, 4), ==, 3);
	iopgt_host_get_probe_stats(f->host, &st);
	g_assert_cmpuint(st.probes, ==, 4);
	g_assert_cmpuint(st.cache_hits, ==, 0);
	g_assert_cmpuint(st.blacklisted, ==, 1);

	/* a new host reads the file: no child at all */
	h = second_host(f, dir);
	g_assert_cmpint(iopgt_host_load_all(h), ==, 3);
	iopgt_host_get_probe_stats(h, &st);
	g_assert_cmpuint(st.probes, ==, 0);
	g_assert_cmpuint(st.cache_hits, ==, 4);
	g_assert_cmpuint(st.blacklisted, ==, 1);
	assert_plugin(iopgt_host_find_plugin(h, "register-exit"),
		      IOPGT_PLUGIN_BLACKLISTED, reason);
	g_assert_null(iopgt_host_unref(h));

	/* the file changes (a fixed build, say): it is probed again */
	write_truncated(path, path, 40);
	h = second_host(f, dir);
	g_assert_cmpint(iopgt_host_load_all(h), ==, 3);
	iopgt_host_get_probe_stats(h, &st);
	g_assert_cmpuint(st.probes, ==, 1);
	g_assert_cmpuint(st.cache_hits, ==, 3);
	g_assert_cmpuint(st.blacklisted, ==, 0);
	assert_plugin(iopgt_host_find_plugin(h, "register-exit"),
		      IOPGT_PLUGIN_FAILED, "file too short");
	g_assert_null(iopgt_host_unref(h));
}

static void test_trusted_dir_not_probed(struct host_fixture *f,
					gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	struct iopgt_probe_stats st;

	(void)data;
	g_test_summary("Plugins of an IOPGT_DIR_TRUSTED directory, or of a "
		       "host with probing off, are loaded without a child");
	iopgt_host_set_probe(f->host, true);
	g_assert_cmpint(iopgt_host_add_plugin_dir_full(f->host, dir,
						       IOPGT_DIR_TRUSTED), ==,
			0);
	g_assert_cmpint(iopgt_host_add_plugin_dir_full(f->host, dir, 0x80), ==,
			-EINVAL);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, 3);
	iopgt_host_get_probe_stats(f->host, &st);
	g_assert_cmpuint(st.probes, ==, 0);
	g_assert_cmpuint(st.cache_hits, ==, 0);
	assert_good_ones_work(f);
}

static void test_probe_sees_metadata(struct host_fixture *f,
				     gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *cache = g_build_filename(f->tmpdir, "cache", NULL);
	g_autofree char *text = NULL;
	g_autofree char *marker = NULL;
	struct iopgt_probe_stats st;

	(void)data;
	g_test_summary("The probe child runs register and unregister once per "
		       "file and records what the plugin provides");
	host_probing(f, dir);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_C, NULL), ==, 0);
	marker = host_fixture_read_marker(f);
	/* child: register, unregister; then the host: register */
	g_assert_cmpstr(marker, ==, GOOD_C " register\n" GOOD_C
			" unregister\n" GOOD_C " register\n");
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_C), ==, 0);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_C, NULL), ==, 0);
	iopgt_host_get_probe_stats(f->host, &st);
	g_assert_cmpuint(st.probes, ==, 1);
	g_assert_cmpuint(st.cache_hits, ==, 1);
	g_assert_cmpuint(st.probe_ns, >, 0);
	g_file_get_contents(cache, &text, NULL, NULL);
	g_assert_nonnull(strstr(text, "provides=fake-c;fake-c2;\n"));
	g_assert_nonnull(strstr(text, "result=ok\n"));
}

static void test_untrusted_cache_ignored(struct host_fixture *f,
					 gconstpointer data)
{
	g_autofree char *cache = g_build_filename(f->tmpdir, "cache", NULL);
	g_autofree char *line = g_strdup_printf(
		"warning: plugin cache: %s: ignored: not a regular file owned "
		"by the caller and writable only by it", cache);

	(void)data;
	g_test_summary("A cache file others can write is not believed: it "
		       "could whitelist a crashing plugin");
	g_assert_true(g_file_set_contents(cache, "[plugin 0]\n", -1, NULL));
	g_assert_cmpint(chmod(cache, 0666), ==, 0);
	g_assert_cmpint(iopgt_host_set_cache_file(f->host, cache), ==,
			-EACCES);
	assert_logged(f, line);
	g_assert_cmpint(chmod(cache, 0600), ==, 0);
	g_assert_true(g_file_set_contents(cache, "not a key file", -1, NULL));
	g_assert_cmpint(iopgt_host_set_cache_file(f->host, cache), ==,
			-EBADMSG);
}

/* ---- the CLI shows it ------------------------------------------------------ */

static void test_cli_lists_blacklisted(struct host_fixture *f,
				       gconstpointer data)
{
	g_autofree char *dir = gallery_dir(f);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GError) error = NULL;
	int status;
	const char *argv[] = { g_getenv("IOPGT_TEST_CLI"), "--plugin-dir", dir,
			       "--no-manifest", "--no-cache", "list", NULL };

	(void)data;
	g_test_summary("iopgt-host list shows a plugin a probe blacklisted, "
		       "with the reason, and exits 0");
	fixture_copy_to("crash", "register-exit", dir);
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
				   G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
				   &status, &error));
	g_assert_no_error(error);
	g_assert_cmpint(status, ==, 0);
	g_assert_cmpstr(out, ==,
		"Plugin                   State       Used  Formats\n"
		"fixture-good-a           loaded         0  fake-a\n"
		"fixture-good-b           loaded         0  fake-b\n"
		"fixture-good-c           loaded         0  fake-c,fake-c2\n"
		"register-exit            blacklisted    0  probe: exited with "
		"status 3 in register_fn\n");
	g_assert_nonnull(strstr(err, "register-exit.so: probe: exited with "
				"status 3 in register_fn\n"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_strdup_printf("/gallery/%s",
							cases[i].path);

		g_test_add(path, struct host_fixture, &cases[i],
			   host_fixture_setup, test_gallery_case,
			   host_fixture_teardown);
	}
	host_test_add("/gallery/truncated-elf", test_truncated_elf);
	host_test_add("/gallery/directory-named-so", test_directory_named_so);
	host_test_add("/gallery/dangling-symlink", test_dangling_symlink);
	host_test_add("/gallery/symlink-outside-dir", test_symlink_outside);
	host_test_add("/gallery/symlink-inside-dir", test_symlink_inside);
	g_test_add("/gallery/nodelete-resident", struct host_fixture,
		   "nodelete", host_fixture_setup, test_stays_resident,
		   host_fixture_teardown);
	g_test_add("/gallery/tls-destructor-resident", struct host_fixture,
		   "tls-dtor", host_fixture_setup, test_stays_resident,
		   host_fixture_teardown);
	host_test_add("/trust/file-mode", test_insecure_file_mode);
	host_test_add("/trust/dir-mode", test_insecure_dir_mode);
	host_test_add("/trust/foreign-owner", test_foreign_owner);
	host_test_add("/probe/blacklist-remembered", test_blacklist_remembered);
	host_test_add("/probe/trusted-dir", test_trusted_dir_not_probed);
	host_test_add("/probe/metadata", test_probe_sees_metadata);
	host_test_add("/probe/untrusted-cache", test_untrusted_cache_ignored);
	host_test_add("/probe/cli-list", test_cli_lists_blacklisted);
	return g_test_run();
}
