// SPDX-License-Identifier: MIT
/*
 * Plugin life beyond load and unload: metadata read from the file without
 * running it, on-demand loading and the errors that tell "not loaded yet"
 * from "never available", deferred unload (unload --wait), and hot reload
 * with two versions of one plugin serving tables side by side.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake-format.h"
#include "host-fixture.h"
#include "iopgt-internal.h"

#define GOOD_A	"fixture-good-a"
#define GOOD_B	"fixture-good-b"
#define GOOD_C	"fixture-good-c"
#define MARK(v)	((uint64_t)(v) << 40)

static char *good_dir(struct host_fixture *f)
{
	char *dir = g_build_filename(f->tmpdir, "plugins", NULL);

	fixture_copy_to("good", GOOD_A, dir);
	fixture_copy_to("good", GOOD_B, dir);
	fixture_copy_to("good", GOOD_C, dir);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	return dir;
}

static struct iopgt_plugin *find(struct host_fixture *f, const char *name)
{
	struct iopgt_plugin *p = iopgt_host_find_plugin(f->host, name);

	g_assert_nonnull(p);
	return p;
}

static void assert_state(struct host_fixture *f, const char *name,
			 enum iopgt_plugin_state state)
{
	g_assert_cmpstr(iopgt_plugin_state_to_string(
				iopgt_plugin_get_state(find(f, name))), ==,
			iopgt_plugin_state_to_string(state));
}

/* ---- metadata without running code ---------------------------------------- */

static void test_metadata_without_loading(struct host_fixture *f,
					  gconstpointer data)
{
	g_autofree char *marker = NULL;
	g_auto(GStrv) provides = NULL;
	g_auto(GStrv) softdeps = NULL;
	struct iopgt_plugin *a;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("A scan reads name, version, ABI and provided formats "
		       "from the file's .iopgt_info section; no plugin code "
		       "runs");
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	a = find(f, GOOD_A);
	assert_plugin(a, IOPGT_PLUGIN_DISCOVERED, NULL);
	g_assert_cmpstr(iopgt_plugin_get_file_info(a, "name"), ==, GOOD_A);
	g_assert_cmpstr(iopgt_plugin_get_file_info(a, "version"), ==, "1.0.0");
	g_assert_cmpstr(iopgt_plugin_get_file_info(a, "abi"), ==, TEST_ABI);
	g_assert_cmpstr(iopgt_plugin_get_file_info(a, "license"), ==, "MIT");
	g_assert_cmpstr(iopgt_plugin_get_file_info(a, "description"), ==,
			"Fixture: a good plugin providing fake-a");
	g_assert_null(iopgt_plugin_get_file_info(a, "no-such-key"));
	g_assert_null(iopgt_plugin_get_info_error(a));
	provides = iopgt_plugin_dup_provides(a);
	assert_strv(provides, (const char *const[]){ "FAKE_A", "fake-a",
						      NULL });
	softdeps = iopgt_plugin_dup_softdeps(a);
	assert_strv(softdeps, (const char *const[]){ NULL });
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "");
	/* never loaded: no runtime version yet */
	g_assert_null(iopgt_plugin_get_version(a));
}

static void test_metadata_of_bundled_plugins(struct host_fixture *f,
					     gconstpointer data)
{
	g_auto(GStrv) provides = NULL;
	g_auto(GStrv) softdeps = NULL;
	struct iopgt_plugin *v7s;

	(void)data;
	g_test_summary("The bundled v7s plugin declares its formats and no "
		       "softdep (issue 12 item 7: it does not depend on "
		       "io-pgtable-arm), so loading it loads nothing else");
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, test_plugin_dir()),
			==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 2);
	v7s = find(f, "io-pgtable-arm-v7s");
	provides = iopgt_plugin_dup_provides(v7s);
	assert_strv(provides, (const char *const[]){ "ARM_V7S", "arm-v7s",
						      NULL });
	softdeps = iopgt_plugin_dup_softdeps(v7s);
	assert_strv(softdeps, (const char *const[]){ NULL });
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "io-pgtable-arm-v7s",
					       NULL), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(v7s), ==, 0);
	assert_plugin(find(f, "io-pgtable-arm"), IOPGT_PLUGIN_DISCOVERED, NULL);
}

static void test_metadata_error(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);

	(void)data;
	g_test_summary("A file without metadata says why, and is still "
		       "loadable by name");
	fixture_copy_to("broken", "abi-major", dir);
	fixture_copy_to("broken", "not-elf", dir);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 2);
	g_assert_cmpstr(iopgt_plugin_get_info_error(find(f, "abi-major")), ==,
			"no .iopgt_info section (built without "
			"IOPGT_PLUGIN_DEFINE's metadata)");
	g_assert_cmpstr(iopgt_plugin_get_info_error(find(f, "not-elf")), ==,
			"not an ELF file");
}

static void test_metadata_cache(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = good_dir(f);
	g_autofree char *cache = g_build_filename(f->tmpdir, "cache", NULL);
	g_autofree char *path = g_build_filename(dir, GOOD_B ".so", NULL);
	g_autofree char *bytes = NULL;
	g_auto(GStrv) provides = NULL;
	struct iopgt_host *h;
	struct stat st;
	gsize len;
	FILE *fp;

	(void)data;
	g_test_summary("Metadata is cached by file identity: a second host "
		       "does not open the files, and believes the cache only "
		       "while path, inode, size and mtime match");
	g_assert_cmpint(iopgt_host_set_cache_file(f->host, cache), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);

	/* same inode, same size, same mtime, different bytes: only a cache
	 * can still know what the file provides */
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
	memset(bytes, 'x', len);
	fp = fopen(path, "r+");
	g_assert_nonnull(fp);
	g_assert_cmpuint(fwrite(bytes, 1, len, fp), ==, len);
	fclose(fp);
	{
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		g_assert_cmpint(utimensat(AT_FDCWD, path, ts, 0), ==, 0);
	}
	h = iopgt_host_new();
	g_assert_cmpint(iopgt_host_set_cache_file(h, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(h, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(h), ==, 3);
	provides = iopgt_plugin_dup_provides(iopgt_host_find_plugin(h, GOOD_B));
	assert_strv(provides, (const char *const[]){ "fake-b", NULL });
	g_assert_null(iopgt_host_unref(h));

	/* a changed mtime voids the entry: the garbage is read now */
	g_assert_cmpint(utimensat(AT_FDCWD, path, NULL, 0), ==, 0);
	h = iopgt_host_new();
	g_assert_cmpint(iopgt_host_set_cache_file(h, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(h, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(h), ==, 3);
	g_assert_cmpstr(iopgt_plugin_get_info_error(
				iopgt_host_find_plugin(h, GOOD_B)), ==,
			"not an ELF file");
	g_assert_null(iopgt_host_unref(h));
}

/* ---- on-demand loading and its errors -------------------------------------- */

static void test_ondemand_loads_provider(struct host_fixture *f,
					 gconstpointer data)
{
	g_autofree char *manifest = host_fixture_write(f, "m.conf",
		"softdep " GOOD_B " pre: " GOOD_C "\n");
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("A table of a format no loaded plugin registered loads "
		       "the plugin that provides it, after its pre: softdeps, "
		       "like request_module");
	g_assert_true(iopgt_host_load_manifest(f->host, manifest, NULL));
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(fake_table_new(f->host, "fake-b", "t", &pgt), ==, 0);
	assert_logged(f, "info: format 'fake-b': loading plugin "
		      "'fixture-good-b' on demand");
	assert_state(f, GOOD_A, IOPGT_PLUGIN_DISCOVERED);
	g_assert_cmpint(iopgt_plugin_get_load_index(find(f, GOOD_C)), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(find(f, GOOD_B)), ==, 1);
	assert_fake_table_works(f->host, pgt);
	iopgt_pgtable_free(f->host, pgt);
	/* by alias too */
	g_assert_cmpint(fake_table_new(f->host, "FAKE_A", "u", &pgt), ==, 0);
	assert_state(f, GOOD_A, IOPGT_PLUGIN_LOADED);
	iopgt_pgtable_free(f->host, pgt);
}

static void test_ondemand_off(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("With on-demand loading off, a format whose plugin is "
		       "not loaded yet is -EAGAIN naming the plugin (the "
		       "EPROBE_DEFER case), not -ENOENT");
	iopgt_host_set_autoload(f->host, false);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(fake_table_new(f->host, "fake-b", "t", &pgt), ==,
			-EAGAIN);
	assert_logged(f, "err: format 'fake-b' is provided by plugin "
		      "'fixture-good-b', which is not loaded");
	assert_state(f, GOOD_B, IOPGT_PLUGIN_DISCOVERED);
	g_assert_null(pgt);
	/* load it, and the same call works: defer, then retry */
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_B, NULL), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-b", "t", &pgt), ==, 0);
	iopgt_pgtable_free(f->host, pgt);
}

static void test_ondemand_failed(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = good_dir(f);
	g_autofree char *path = g_build_filename(dir, GOOD_C ".so", NULL);
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_test_summary("A format whose plugin failed is -ENOEXEC with the "
		       "plugin's reason; the metadata of a file the trust "
		       "checks refuse is never believed (F9)");
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	/* refused after the scan read its metadata: it failed */
	g_assert_cmpint(chmod(path, 0666), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-c2", "t", &pgt), ==,
			-ENOEXEC);
	assert_logged(f, "err: format 'fake-c2' is provided by plugin "
		      "'fixture-good-c', which failed: refused: the file is "
		      "writable by group or others (mode 0666)");
	g_assert_null(pgt);
}

static void test_lying_provider(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_test_summary("F9: a plugin whose metadata claims a format it does "
		       "not register is named, and the next provider is "
		       "loaded instead");
	fixture_copy_to("liar", "aaa-liar", dir);
	fixture_copy_to("good", GOOD_A, dir);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 2);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t", &pgt), ==, 0);
	assert_logged(f, "warning: format 'fake-a': plugin 'aaa-liar' says "
		      "it provides it but did not register it");
	assert_state(f, "aaa-liar", IOPGT_PLUGIN_LOADED);
	g_assert_true(iopgt_pgtable_get_plugin(f->host, pgt) ==
		      find(f, GOOD_A));
	iopgt_pgtable_free(f->host, pgt);
}

static void test_untrusted_metadata(struct host_fixture *f,
				    gconstpointer data)
{
	g_autofree char *dir = good_dir(f);
	g_autofree char *path = g_build_filename(dir, GOOD_C ".so", NULL);
	g_autofree char *line = NULL;
	struct iopgt_pgtable *pgt = NULL;
	g_auto(GStrv) provides = NULL;

	(void)data;
	g_test_summary("F9: a file the trust checks refuse at scan time is "
		       "not read: it claims no format, declares no softdep, "
		       "and the error says it was not read");
	g_assert_cmpint(chmod(path, 0666), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	provides = iopgt_plugin_dup_provides(find(f, GOOD_C));
	assert_strv(provides, (const char *const[]){ NULL });
	g_assert_cmpstr(iopgt_plugin_get_info_error(find(f, GOOD_C)), ==,
			"not read: refused: the file is writable by group or "
			"others (mode 0666)");
	g_assert_cmpint(fake_table_new(f->host, "fake-c2", "t", &pgt), ==,
			-ENOENT);
	line = g_strdup_printf("err: no plugin provides format 'fake-c2' "
			       "(not read: %s: refused: the file is writable "
			       "by group or others (mode 0666))", path);
	assert_logged(f, line);
}

static void test_ondemand_blacklisted(struct host_fixture *f,
				      gconstpointer data)
{
	g_autofree char *manifest = host_fixture_write(f, "m.conf",
		"blacklist " GOOD_B "\n");
	g_autofree char *line = g_strdup_printf(
		"err: format 'fake-b' is provided by plugin 'fixture-good-b', "
		"which is blacklisted: blacklisted at %s:1", manifest);
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("A format whose plugin is blacklisted is -EPERM with "
		       "where it was blacklisted");
	g_assert_true(iopgt_host_load_manifest(f->host, manifest, NULL));
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(fake_table_new(f->host, "fake-b", "t", &pgt), ==,
			-EPERM);
	assert_logged(f, line);
}

static void test_ondemand_nobody(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("A format no plugin file provides is -ENOENT, and no "
		       "plugin is loaded trying");
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(fake_table_new(f->host, "fake-nope", "t", &pgt), ==,
			-ENOENT);
	assert_logged(f, "err: no plugin provides format 'fake-nope'");
	assert_state(f, GOOD_A, IOPGT_PLUGIN_DISCOVERED);
	assert_state(f, GOOD_B, IOPGT_PLUGIN_DISCOVERED);
	assert_state(f, GOOD_C, IOPGT_PLUGIN_DISCOVERED);
}

/* ---- deferred unload -------------------------------------------------------- */

static void test_unload_deferred(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *marker = NULL;
	struct iopgt_pgtable *t1, *t2, *t3 = NULL;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("unload --wait: the plugin goes GOING (no new tables) "
		       "and unloads when its last table is freed");
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t1", &t1), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t2", &t2), ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin_deferred(f->host, GOOD_A, 0),
			==, -EINPROGRESS);
	assert_logged(f, "info: fixture-good-a: unloading when its 2 tables "
		      "go");
	assert_state(f, GOOD_A, IOPGT_PLUGIN_GOING);
	g_assert_cmpint(iopgt_host_unload_plugin_deferred(f->host, GOOD_A, 0),
			==, -EINPROGRESS);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t3", &t3), ==,
			-ESHUTDOWN);
	assert_logged(f, "err: format 'fake-a': plugin 'fixture-good-a' is "
		      "unloading");
	/* the tables it has keep working */
	assert_fake_table_works(f->host, t1);
	iopgt_pgtable_free(f->host, t1);
	assert_state(f, GOOD_A, IOPGT_PLUGIN_GOING);
	iopgt_pgtable_free(f->host, t2);
	assert_state(f, GOOD_A, IOPGT_PLUGIN_UNLOADED);
	assert_logged(f, "info: fixture-good-a: last table gone, unloading");
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, GOOD_A " register\n" GOOD_A
			" unregister\n");
	/* nothing to wait for: unloads at once */
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_B, NULL), ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin_deferred(f->host, GOOD_B, 0),
			==, 0);
	assert_state(f, GOOD_B, IOPGT_PLUGIN_UNLOADED);
}

static void test_unload_deferred_times_out(struct host_fixture *f,
					   gconstpointer data)
{
	struct iopgt_pgtable *t1, *t2;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("A deferred unload still waiting when its timeout "
		       "passes is cancelled: the plugin is LOADED again");
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t1", &t1), ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin_deferred(f->host, GOOD_A, 1),
			==, -EINPROGRESS);
	g_usleep(5000);
	/* the next look at the plugin notices */
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t2", &t2), ==, 0);
	assert_logged(f, "warning: fixture-good-a: unload cancelled: timed "
		      "out with tables still alive");
	assert_state(f, GOOD_A, IOPGT_PLUGIN_LOADED);
	iopgt_pgtable_free(f->host, t1);
	iopgt_pgtable_free(f->host, t2);
	assert_state(f, GOOD_A, IOPGT_PLUGIN_LOADED);
}

struct freer {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
};

static gpointer free_later(gpointer data)
{
	struct freer *fr = data;

	g_usleep(20000);
	iopgt_pgtable_free(fr->host, fr->pgt);
	return NULL;
}

static void test_unload_wait(struct host_fixture *f, gconstpointer data)
{
	struct freer fr = { .host = f->host };
	struct iopgt_pgtable *pgt;
	GThread *thread;

	(void)data;
	g_free(good_dir(f));
	g_test_summary("unload_wait blocks until another thread frees the "
		       "last table, or times out and cancels");
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t1", &pgt), ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin_wait(f->host, GOOD_A, 10), ==,
			-ETIMEDOUT);
	assert_state(f, GOOD_A, IOPGT_PLUGIN_LOADED);
	fr.pgt = pgt;
	thread = g_thread_new("freer", free_later, &fr);
	g_assert_cmpint(iopgt_host_unload_plugin_wait(f->host, GOOD_A, 10000),
			==, 0);
	g_thread_join(thread);
	assert_state(f, GOOD_A, IOPGT_PLUGIN_UNLOADED);
}

/* ---- hot reload -------------------------------------------------------------- */

/* Put version v of reloadable.so at dir/reloadable.so as a new file. */
static void install_version(struct host_fixture *f, const char *dir, int v)
{
	g_autofree char *sub = g_strdup_printf("reload/v%d", v);

	fixture_install_new(f, sub, "reloadable", dir);
}

static struct iopgt_pgtable *mapped_table(struct host_fixture *f,
					  const char *label)
{
	struct iopgt_pgtable *pgt = NULL;

	g_assert_cmpint(fake_table_new(f->host, "fake-reload", label, &pgt),
			==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, pgt, 0x3000, 0x7000,
					  FAKE_PAGE_SIZE, IOMMU_READ), ==, 0);
	return pgt;
}

static void count_plugin(struct iopgt_plugin *p, void *data)
{
	GString *s = data;
	g_auto(GStrv) holders = iopgt_plugin_dup_holders(p);
	g_autofree char *h = g_strjoinv(",", holders);

	g_string_append_printf(s, "%s %s %s [%s]\n", iopgt_plugin_get_name(p),
			       iopgt_plugin_get_version(p),
			       iopgt_plugin_state_to_string(
				       iopgt_plugin_get_state(p)), h);
}

static char *list_text(struct host_fixture *f)
{
	GString *s = g_string_new(NULL);

	iopgt_host_foreach_plugin(f->host, count_plugin, s);
	return g_string_free(s, FALSE);
}

static void test_reload_in_use(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	g_autofree char *list1 = NULL;
	g_autofree char *list2 = NULL;
	g_autofree char *marker = NULL;
	struct iopgt_plugin *np = NULL;
	struct iopgt_pgtable *old, *new;

	(void)data;
	g_test_summary("reload: new tables get the new code, old tables keep "
		       "the old code until freed, then the old copy goes");
	install_version(f, dir, 1);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	old = mapped_table(f, "old");
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, old, 0x3000), ==,
			0x7000 + MARK(1));

	install_version(f, dir, 2);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "reloadable", &np),
			==, 0);
	g_assert_nonnull(np);
	g_assert_cmpstr(iopgt_plugin_get_version(np), ==, "2.0");
	new = mapped_table(f, "new");
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, new, 0x3000), ==,
			0x7000 + MARK(2));
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, old, 0x3000), ==,
			0x7000 + MARK(1));
	list1 = list_text(f);
	g_assert_cmpstr(list1, ==,
			"reloadable 1.0 going [old (fake-reload)]\n"
			"reloadable 2.0 loaded [new (fake-reload)]\n");

	iopgt_pgtable_free(f->host, old);
	list2 = list_text(f);
	g_assert_cmpstr(list2, ==,
			"reloadable 2.0 loaded [new (fake-reload)]\n");
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "reloadable 1 register\n"
			"reloadable 2 register\nreloadable 1 unregister\n");
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, new, 0x3000), ==,
			0x7000 + MARK(2));
	iopgt_pgtable_free(f->host, new);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "reloadable"), ==, 0);
}

static void test_reload_refusals(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	g_autofree char *path = g_build_filename(dir, "reloadable.so", NULL);
	g_autofree char *bad = fixture_so("broken", "not-elf");
	g_autofree char *stage = g_build_filename(f->tmpdir, "reloadable.so",
						  NULL);
	g_autofree char *line = NULL;
	g_autofree char *bytes = NULL;
	struct iopgt_pgtable *pgt, *pgt2;
	gsize len;

	(void)data;
	g_test_summary("reload refuses an unchanged file and one rewritten in "
		       "place (same inode); a broken new version leaves the "
		       "old one in charge");
	install_version(f, dir, 1);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	pgt = mapped_table(f, "t");
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "reloadable", NULL),
			==, -EALREADY);
	line = g_strdup_printf("err: %s: unchanged since it was loaded", path);
	assert_logged(f, line);
	g_assert_cmpint(utimensat(AT_FDCWD, path, NULL, 0), ==, 0);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "reloadable", NULL),
			==, -EALREADY);
	g_free(line);
	line = g_strdup_printf("err: %s: rewritten in place (same inode): "
			       "glibc would return the old mapping; install "
			       "the new version as a new file and rename it "
			       "over the old one", path);
	assert_logged(f, line);

	/* a broken "new version" */
	g_assert_true(g_file_get_contents(bad, &bytes, &len, NULL));
	g_assert_true(g_file_set_contents(stage, bytes, len, NULL));
	g_assert_cmpint(chmod(stage, 0755), ==, 0);
	g_assert_cmpint(rename(stage, path), ==, 0);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "reloadable", NULL),
			==, -ENOEXEC);
	assert_state(f, "reloadable", IOPGT_PLUGIN_LOADED);
	pgt2 = mapped_table(f, "t2");
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, pgt2, 0x3000), ==,
			0x7000 + MARK(1));
	iopgt_pgtable_free(f->host, pgt2);
	iopgt_pgtable_free(f->host, pgt);

	/* without tables a reload is unload + load */
	install_version(f, dir, 2);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "reloadable", NULL),
			==, 0);
	g_assert_cmpstr(iopgt_plugin_get_version(find(f, "reloadable")), ==,
			"2.0");
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "nope", NULL), ==,
			-ENOENT);
}

static void test_cli_info_no_load(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	g_autofree char *path = g_build_filename(dir, GOOD_C ".so", NULL);
	g_autofree char *out = NULL;
	g_autofree char *want = NULL;
	g_autofree char *marker = NULL;
	g_autoptr(GError) error = NULL;
	int status;
	const char *argv[] = { g_getenv("IOPGT_TEST_CLI"), "--no-manifest",
			       "--no-cache", "--no-load", "info", path, NULL };

	(void)data;
	g_test_summary("iopgt-host --no-load info FILE shows what the file "
		       "says, like modinfo, and runs none of it");
	fixture_copy_to("good", GOOD_C, dir);
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
				   G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
				   &out, NULL, &status, &error));
	g_assert_no_error(error);
	g_assert_cmpint(status, ==, 0);
	want = g_strdup_printf(
		"name:        fixture-good-c\n"
		"filename:    %s\n"
		"version:     1.0.0\n"
		"description: Fixture: a good plugin providing fake-c\n"
		"license:     MIT\n"
		"state:       discovered\n"
		"refcount:    0\n"
		"load index:  -1\n"
		"file abi:    " TEST_ABI "\n"
		"provides:    fake-c fake-c2\n", path);
	g_assert_cmpstr(out, ==, want);
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "");
}

/* ---- format defaults from the file (issue 12 item 16) ---------------------- */

#define LPAE_PGSIZES	0x40201000u	/* SZ_4K | SZ_2M | SZ_1G */

/* The five formats of plugins/lpae/io-pgtable-arm.c, as its source says. */
static const struct {
	const char *name, *alias;
	unsigned int ias, oas;
} lpae_defaults[] = {
	{ "arm-64-lpae-s1", "ARM_64_LPAE_S1", 48, 48 },
	{ "arm-64-lpae-s2", "ARM_64_LPAE_S2", 48, 48 },
	{ "arm-32-lpae-s1", "ARM_32_LPAE_S1", 32, 40 },
	{ "arm-32-lpae-s2", "ARM_32_LPAE_S2", 40, 40 },
	{ "arm-mali-lpae", "ARM_MALI_LPAE", 48, 40 },
};

static const char *const lpae_defaults_strv[] = {
	"ARM_32_LPAE_S1 32 40 0x40201000 foreign",
	"ARM_32_LPAE_S2 40 40 0x40201000 foreign",
	"ARM_64_LPAE_S1 48 48 0x40201000 foreign",
	"ARM_64_LPAE_S2 48 48 0x40201000 foreign",
	"ARM_MALI_LPAE 48 40 0x40201000 foreign",
	"arm-32-lpae-s1 32 40 0x40201000 foreign",
	"arm-32-lpae-s2 40 40 0x40201000 foreign",
	"arm-64-lpae-s1 48 48 0x40201000 foreign",
	"arm-64-lpae-s2 48 48 0x40201000 foreign",
	"arm-mali-lpae 48 40 0x40201000 foreign",
	NULL
};

static void assert_lpae_defaults(struct iopgt_host *h)
{
	for (size_t i = 0; i < G_N_ELEMENTS(lpae_defaults); i++) {
		const char *names[] = { lpae_defaults[i].name,
					lpae_defaults[i].alias };

		for (size_t n = 0; n < G_N_ELEMENTS(names); n++) {
			struct iopgt_cfg cfg = { 0 };

			g_assert_cmpint(iopgt_host_get_format_defaults(
						h, names[n], &cfg), ==, 0);
			g_assert_cmpuint(cfg.ias, ==, lpae_defaults[i].ias);
			g_assert_cmpuint(cfg.oas, ==, lpae_defaults[i].oas);
			g_assert_cmphex(cfg.pgsize_bitmap, ==, LPAE_PGSIZES);
		}
	}
}

static void test_format_defaults_from_file(struct host_fixture *f,
					   gconstpointer data)
{
	g_autofree char *path = g_build_filename(test_plugin_dir(),
						 "io-pgtable-arm.so", NULL);
	g_autofree char *why = NULL;
	struct iopgt_plugin_info *info = NULL;
	struct iopgt_cfg cfg = { .ias = 36 };
	struct iopgt_plugin *arm;

	(void)data;
	g_test_summary("Issue 12 item 16: the built io-pgtable-arm.so gives "
		       "the defaults of its five formats, by name and by "
		       "alias, from its .iopgt_fmt section without being "
		       "loaded; the registered formats then agree");
	g_assert_cmpint(iopgt_plugin_info_read(path, &info, &why), ==, 0);
	g_assert_null(why);
	assert_strv(info->format_defaults, lpae_defaults_strv);
	g_assert_null(info->format_defaults_error);
	iopgt_plugin_info_free(info);

	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, test_plugin_dir()),
			==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 2);
	assert_lpae_defaults(f->host);
	/* only the zero fields are filled */
	g_assert_cmpint(iopgt_host_get_format_defaults(f->host,
						       "ARM_MALI_LPAE", &cfg),
			==, 0);
	g_assert_cmpuint(cfg.ias, ==, 36);
	g_assert_cmpuint(cfg.oas, ==, 40);
	g_assert_cmpint(iopgt_host_get_format_defaults(f->host,
						       "arm_64_lpae_s1", &cfg),
			==, -ENOENT);
	arm = find(f, "io-pgtable-arm");
	assert_plugin(arm, IOPGT_PLUGIN_DISCOVERED, NULL);
	g_assert_false(fixture_is_mapped(path));

	/* the same values from the registered formats */
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "io-pgtable-arm",
					       NULL), ==, 0);
	assert_plugin(arm, IOPGT_PLUGIN_LOADED, NULL);
	assert_lpae_defaults(f->host);
}

/* The section header of name in an ELF image held in memory. */
static ElfW(Shdr) *image_section(char *image, gsize len, const char *name)
{
	ElfW(Ehdr) *eh = (ElfW(Ehdr) *)(void *)image;
	ElfW(Shdr) *sh;
	const char *names;

	g_assert_cmpuint(len, >=, sizeof(*eh));
	g_assert_cmpuint(eh->e_shoff + eh->e_shnum * sizeof(*sh), <=, len);
	sh = (ElfW(Shdr) *)(void *)(image + eh->e_shoff);
	names = image + sh[eh->e_shstrndx].sh_offset;
	for (unsigned int i = 0; i < eh->e_shnum; i++)
		if (!strcmp(names + sh[i].sh_name, name))
			return &sh[i];
	g_assert_not_reached();
}

enum fmt_damage {
	DAMAGE_SIZE,		/* size not a multiple of the record */
	DAMAGE_COUNT,		/* far too many records */
	DAMAGE_NAME_UNTERMINATED,
	DAMAGE_NAME_CHARS,
	DAMAGE_DUPLICATE,
	DAMAGE_MAGIC,
};

/* A copy of io-pgtable-arm.so in DIR with its .iopgt_fmt damaged. */
static char *damaged_copy(struct host_fixture *f, enum fmt_damage d)
{
	g_autofree char *src = g_build_filename(test_plugin_dir(),
						"io-pgtable-arm.so", NULL);
	char *dst = g_strdup_printf("%s/damaged-%d.so", f->tmpdir, d);
	g_autofree char *image = NULL;
	struct iopgt_format_info *rec;
	ElfW(Shdr) *sh;
	gsize len;

	g_assert_true(g_file_get_contents(src, &image, &len, NULL));
	sh = image_section(image, len, IOPGT_FORMAT_INFO_SECTION);
	g_assert_cmpuint(sh->sh_size, ==, 5 * sizeof(*rec));
	rec = (struct iopgt_format_info *)(void *)(image + sh->sh_offset);
	switch (d) {
	case DAMAGE_SIZE:
		sh->sh_size -= 1;
		break;
	case DAMAGE_COUNT:
		sh->sh_size = sizeof(*rec) * 100000;
		break;
	case DAMAGE_NAME_UNTERMINATED:
		memset(rec[2].name, 'a', sizeof(rec[2].name));
		break;
	case DAMAGE_NAME_CHARS:
		memcpy(rec[1].alias, "ARM\033[2J", sizeof("ARM\033[2J"));
		break;
	case DAMAGE_DUPLICATE:
		memcpy(rec[4].alias, rec[0].name, sizeof(rec[0].name));
		break;
	case DAMAGE_MAGIC:
		rec[0].magic = 0;
		break;
	}
	g_assert_true(g_file_set_contents(dst, image, (gssize)len, NULL));
	return dst;
}

static void test_format_defaults_hostile(struct host_fixture *f,
					 gconstpointer data)
{
	static const char *const want[] = {
		[DAMAGE_SIZE] = "size 799 is not a multiple of 160",
		[DAMAGE_COUNT] = "100000 records, more than 256",
		[DAMAGE_NAME_UNTERMINATED] = "record 2: name or alias not "
					     "NUL-terminated",
		[DAMAGE_NAME_CHARS] = "record 1: alias is not a format name",
		[DAMAGE_DUPLICATE] = "record 4: a name or alias given twice",
		[DAMAGE_MAGIC] = "record 0: magic 0x00000000, expected "
				 "0x69666d74",
	};

	(void)data;
	g_test_summary("A damaged .iopgt_fmt section (size, count, names, "
		       "magic) is ignored whole with a reason; the rest of "
		       "the file's metadata still reads, and no defaults "
		       "come from it");
	for (size_t d = 0; d < G_N_ELEMENTS(want); d++) {
		g_autofree char *path = damaged_copy(f, (enum fmt_damage)d);
		g_autofree char *reason = g_strconcat(
			"bad .iopgt_fmt section: ", want[d], NULL);
		g_autofree char *why = NULL;
		struct iopgt_plugin_info *info = NULL;

		g_assert_cmpint(iopgt_plugin_info_read(path, &info, &why), ==,
				0);
		g_assert_null(why);
		g_assert_cmpstr(info->name, ==, "io-pgtable-arm");
		g_assert_cmpuint(g_strv_length(info->provides), ==, 10);
		assert_strv(info->format_defaults,
			    (const char *const[]){ NULL });
		g_assert_cmpstr(info->format_defaults_error, ==, reason);
		iopgt_plugin_info_free(info);
	}
}

static void test_format_defaults_hostile_host(struct host_fixture *f,
					      gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	g_autofree char *bad = damaged_copy(f, DAMAGE_NAME_UNTERMINATED);
	g_autofree char *path = g_build_filename(dir, "io-pgtable-arm.so",
						 NULL);
	struct iopgt_cfg cfg = { 0 };

	(void)data;
	g_test_summary("Through the host, a plugin with a damaged .iopgt_fmt "
		       "still provides its formats but gives no defaults "
		       "until it is loaded");
	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	g_assert_cmpint(g_rename(bad, path), ==, 0);
	g_assert_cmpint(chmod(path, 0755), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	assert_plugin(find(f, "io-pgtable-arm"), IOPGT_PLUGIN_DISCOVERED, NULL);
	g_assert_null(iopgt_plugin_get_info_error(find(f, "io-pgtable-arm")));
	g_assert_cmpint(iopgt_host_get_format_defaults(f->host,
						       "arm-64-lpae-s1", &cfg),
			==, -ENOENT);
	g_assert_cmpuint(cfg.ias, ==, 0);
	g_assert_false(fixture_is_mapped(path));
}

static void test_format_defaults_cache(struct host_fixture *f,
				       gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	g_autofree char *cache = g_build_filename(f->tmpdir, "cache", NULL);
	g_autofree char *src = g_build_filename(test_plugin_dir(),
						"io-pgtable-arm.so", NULL);
	g_autofree char *path = g_build_filename(dir, "io-pgtable-arm.so",
						 NULL);
	g_autofree char *bytes = NULL;
	struct iopgt_host *h;
	struct stat st;
	gsize len;
	FILE *fp;

	(void)data;
	g_test_summary("Format defaults are kept in the metadata cache: a "
		       "second host gets them without reading the file");
	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
	g_assert_true(g_file_set_contents(path, bytes, (gssize)len, NULL));
	g_assert_cmpint(chmod(path, 0755), ==, 0);
	g_assert_cmpint(iopgt_host_set_cache_file(f->host, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	assert_lpae_defaults(f->host);

	/* same identity, garbage bytes: only the cache knows the defaults */
	g_assert_cmpint(stat(path, &st), ==, 0);
	memset(bytes, 'x', len);
	fp = fopen(path, "r+");
	g_assert_nonnull(fp);
	g_assert_cmpuint(fwrite(bytes, 1, len, fp), ==, len);
	fclose(fp);
	{
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		g_assert_cmpint(utimensat(AT_FDCWD, path, ts, 0), ==, 0);
	}
	h = iopgt_host_new();
	g_assert_cmpint(iopgt_host_set_cache_file(h, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(h, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(h), ==, 1);
	assert_lpae_defaults(h);
	g_assert_null(iopgt_host_unref(h));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	host_test_add("/metadata/without-loading",
		      test_metadata_without_loading);
	host_test_add("/metadata/bundled-plugins",
		      test_metadata_of_bundled_plugins);
	host_test_add("/metadata/error", test_metadata_error);
	host_test_add("/metadata/cache", test_metadata_cache);
	host_test_add("/ondemand/loads-provider", test_ondemand_loads_provider);
	host_test_add("/ondemand/off-not-loaded", test_ondemand_off);
	host_test_add("/ondemand/failed", test_ondemand_failed);
	host_test_add("/ondemand/blacklisted", test_ondemand_blacklisted);
	host_test_add("/ondemand/nobody", test_ondemand_nobody);
	host_test_add("/unload/deferred", test_unload_deferred);
	host_test_add("/unload/deferred-times-out",
		      test_unload_deferred_times_out);
	host_test_add("/unload/wait", test_unload_wait);
	host_test_add("/ondemand/untrusted-metadata", test_untrusted_metadata);
	host_test_add("/ondemand/lying-provider", test_lying_provider);
	host_test_add("/reload/in-use", test_reload_in_use);
	host_test_add("/reload/refusals", test_reload_refusals);
	host_test_add("/cli/info-no-load", test_cli_info_no_load);
	host_test_add("/metadata/format-defaults",
		      test_format_defaults_from_file);
	host_test_add("/metadata/format-defaults-hostile",
		      test_format_defaults_hostile);
	host_test_add("/metadata/format-defaults-hostile-host",
		      test_format_defaults_hostile_host);
	host_test_add("/metadata/format-defaults-cache",
		      test_format_defaults_cache);
	return g_test_run();
}
