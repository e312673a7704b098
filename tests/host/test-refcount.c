// SPDX-License-Identifier: MIT
/*
 * /host/refcount/...: tables hold their plugin and their host.  Every step
 * asserts exact counts: plugin users, host references (read from the
 * context; the tests see iopgt-internal.h), live tables and table memory.
 */
#include <errno.h>

#include "fake-format.h"
#include "host-fixture.h"
#include "iopgt-internal.h"

#define GOOD_A		"fixture-good-a"
#define GOOD_C		"fixture-good-c"

static int host_refs(struct iopgt_host *host)
{
	return atomic_load(&host->refcount);
}

static struct iopgt_plugin *load(struct host_fixture *f, const char *name)
{
	g_autofree char *path = fixture_so("good", name);
	struct iopgt_plugin *p = NULL;

	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, &p), ==, 0);
	return p;
}

/* Plugin users, live tables and host references, all at once. */
#define assert_counts(f, p, users, tables)                                  \
	do {                                                                \
		g_assert_cmpint(iopgt_plugin_get_refcount(p), ==, (users)); \
		g_assert_cmpint(iopgt_host_get_table_count((f)->host), ==,  \
				(tables));                                  \
		g_assert_cmpint(host_refs((f)->host), ==, 1 + (tables));    \
	} while (0)

static void assert_table_bytes(struct host_fixture *f, uint64_t tables)
{
	struct iopgt_mem_stats s;

	iopgt_host_get_mem_stats(f->host, &s);
	g_assert_cmpuint(s.table_bytes, ==, tables * FAKE_TABLE_SIZE);
	g_assert_cmpuint(s.table_allocs, ==, tables);
	g_assert_cmpuint(s.state_bytes, ==,
			 tables * sizeof(struct fake_pgtable));
}

static void assert_holders(struct iopgt_plugin *p, const char *const *want)
{
	g_auto(GStrv) holders = iopgt_plugin_dup_holders(p);

	assert_strv(holders, want);
}

static void test_unload_busy(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *path = fixture_so("good", GOOD_A);
	struct iopgt_pgtable *t1, *t2;
	struct iopgt_plugin *a;

	(void)data;
	g_test_summary("Each table holds its plugin: unload is -EBUSY, naming "
		       "the holders, until the last table is freed; then the "
		       "library is really closed");
	a = load(f, GOOD_A);
	assert_counts(f, a, 0, 0);
	assert_holders(a, (const char *const[]){ NULL });

	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t1", &t1), ==, 0);
	assert_counts(f, a, 1, 1);
	assert_table_bytes(f, 1);
	g_assert_cmpint(fake_table_new(f->host, "FAKE_A", "t2", &t2), ==, 0);
	assert_counts(f, a, 2, 2);
	assert_table_bytes(f, 2);
	g_assert_cmpstr(iopgt_pgtable_get_label(f->host, t1), ==, "t1");
	g_assert_true(iopgt_pgtable_get_plugin(f->host, t2) == a);
	assert_holders(a, (const char *const[]){ "t1 (fake-a)", "t2 (fake-a)",
						 NULL });

	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, -EBUSY);
	assert_logged(f, "err: fixture-good-a is in use by 2 tables: "
		      "t1 (fake-a), t2 (fake-a)");
	assert_plugin(a, IOPGT_PLUGIN_LOADED, NULL);
	assert_counts(f, a, 2, 2);
	/* unload_all skips it too */
	iopgt_host_unload_all(f->host);
	assert_plugin(a, IOPGT_PLUGIN_LOADED, NULL);
	assert_fake_table_works(f->host, t1);

	iopgt_pgtable_free(f->host, t1);
	assert_counts(f, a, 1, 1);
	assert_table_bytes(f, 1);
	assert_holders(a, (const char *const[]){ "t2 (fake-a)", NULL });
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, -EBUSY);
	assert_logged(f, "err: fixture-good-a is in use by 1 table: "
		      "t2 (fake-a)");

	iopgt_pgtable_free(f->host, t2);
	assert_counts(f, a, 0, 0);
	assert_table_bytes(f, 0);
	g_assert_true(fixture_is_mapped(path));

	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
	assert_plugin(a, IOPGT_PLUGIN_UNLOADED, NULL);
	assert_counts(f, a, 0, 0);
	g_assert_false(fixture_is_mapped(path));
	g_assert_null(iopgt_host_find_format(f->host, "fake-a"));
	{
		g_auto(GStrv) formats = iopgt_plugin_dup_formats(a);

		g_assert_cmpuint(g_strv_length(formats), ==, 0);
	}
}

static void test_labels(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *t1, *t2;
	struct iopgt_plugin *c;

	(void)data;
	g_test_summary("A table's label defaults to #SERIAL, per host, and "
		       "holders list tables by creation, with their format");
	c = load(f, GOOD_C);
	g_assert_cmpint(fake_table_new(f->host, "fake-c2", NULL, &t1), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-c", NULL, &t2), ==, 0);
	g_assert_cmpstr(iopgt_pgtable_get_label(f->host, t1), ==, "#1");
	g_assert_cmpstr(iopgt_pgtable_get_label(f->host, t2), ==, "#2");
	assert_holders(c, (const char *const[]){ "#1 (fake-c2)", "#2 (fake-c)",
						 NULL });
	iopgt_pgtable_set_label(f->host, t2, "dma0");
	assert_holders(c, (const char *const[]){ "#1 (fake-c2)",
						 "dma0 (fake-c)", NULL });
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_C), ==, -EBUSY);
	assert_logged(f, "err: fixture-good-c is in use by 2 tables: "
		      "#1 (fake-c2), dma0 (fake-c)");
	iopgt_pgtable_free(f->host, t2);
	iopgt_pgtable_free(f->host, t1);
	assert_counts(f, c, 0, 0);
}

static void test_failed_alloc_holds_nothing(struct host_fixture *f,
					    gconstpointer data)
{
	struct iopgt_cfg cfg = { .pgsize_bitmap = FAKE_PAGE_SIZE,
				 .ias = FAKE_IAS, .oas = 40,
				 .quirks = IO_PGTABLE_QUIRK_ARM_NS };
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_plugin *a;

	(void)data;
	g_test_summary("A table whose alloc fails leaves the plugin, host and "
		       "memory counts as they were");
	a = load(f, GOOD_A);
	g_assert_cmpint(iopgt_pgtable_new(f->host, "fake-a", &cfg, NULL, &pgt),
			==, -EINVAL);
	g_assert_null(pgt);
	assert_logged(f, "debug: fake: quirks 0x1 not supported");
	assert_counts(f, a, 0, 0);
	assert_table_bytes(f, 0);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
}

static void test_no_new_tables_after_unload(struct host_fixture *f,
					    gconstpointer data)
{
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_plugin *a;

	(void)data;
	g_test_summary("After unload the format is gone: a new table is "
		       "-EAGAIN naming the plugin that is not loaded (an "
		       "unload is on purpose: no on-demand reload)");
	a = load(f, GOOD_A);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", NULL, &pgt), ==,
			-EAGAIN);
	g_assert_null(pgt);
	assert_logged(f, "err: format 'fake-a' is provided by plugin "
		      "'fixture-good-a', which is not loaded");
	g_assert_cmpint(fake_table_new(f->host, "FAKE_A", NULL, &pgt), ==,
			-EAGAIN);
	g_assert_cmpint(fake_table_new(f->host, "fake-zzz", NULL, &pgt), ==,
			-ENOENT);
	assert_logged(f, "err: no plugin provides format 'fake-zzz'");
	assert_counts(f, a, 0, 0);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "no-such"), ==,
			-ENOENT);
	assert_logged(f, "err: no plugin named 'no-such'");
}

static void test_reload_after_unload(struct host_fixture *f,
				     gconstpointer data)
{
	g_autofree char *path = fixture_so("good", GOOD_A);
	g_autofree char *marker = NULL;
	struct iopgt_pgtable *pgt;
	struct iopgt_plugin *a, *again = NULL;

	(void)data;
	g_test_summary("An unloaded plugin loads again (same record, next "
		       "load index, hooks run again) and makes tables");
	a = load(f, GOOD_A);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", NULL, &pgt), ==, 0);
	iopgt_pgtable_free(f->host, pgt);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
	g_assert_false(fixture_is_mapped(path));

	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_A, &again), ==, 0);
	g_assert_true(again == a);
	assert_plugin(a, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_cmpint(iopgt_plugin_get_load_index(a), ==, 1);
	g_assert_true(fixture_is_mapped(path));
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "again", &pgt), ==,
			0);
	assert_counts(f, a, 1, 1);
	assert_fake_table_works(f->host, pgt);
	iopgt_pgtable_free(f->host, pgt);
	assert_counts(f, a, 0, 0);
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "fixture-good-a register\n"
				    "fixture-good-a unregister\n"
				    "fixture-good-a register\n");
}

static void test_host_outlives_tables(struct host_fixture *f,
				      gconstpointer data)
{
	g_autofree char *path = fixture_so("good", GOOD_A);
	g_autofree char *unloaded = g_strdup_printf("info: %s: unloaded", path);
	struct iopgt_host *host = f->host;
	struct iopgt_pgtable *t1, *t2;
	struct iopgt_plugin *a;

	(void)data;
	g_test_summary("Tables hold the host: after the caller's unref the "
		       "tables still work, and freeing the last one frees the "
		       "host and unloads its plugins");
	a = load(f, GOOD_A);
	g_assert_cmpint(fake_table_new(host, "fake-a", "t1", &t1), ==, 0);
	g_assert_cmpint(fake_table_new(host, "fake-a", "t2", &t2), ==, 0);
	assert_counts(f, a, 2, 2);

	g_assert_true(iopgt_host_unref(host) == host);
	f->host = NULL;	/* the tables own it now */
	g_assert_cmpint(host_refs(host), ==, 2);
	assert_fake_table_works(host, t2);

	iopgt_pgtable_free(host, t2);
	g_assert_cmpint(host_refs(host), ==, 1);
	g_assert_cmpint(iopgt_plugin_get_refcount(a), ==, 1);
	g_assert_cmpint(iopgt_host_get_table_count(host), ==, 1);
	assert_fake_table_works(host, t1);
	g_assert_cmpuint(host_fixture_count_logged(f, unloaded), ==, 0);

	/* the last table: the host goes, unloading the plugin on its way */
	iopgt_pgtable_free(host, t1);
	assert_logged(f, unloaded);
	g_assert_false(fixture_is_mapped(path));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	host_test_add("/host/refcount/unload-busy", test_unload_busy);
	host_test_add("/host/refcount/labels", test_labels);
	host_test_add("/host/refcount/failed-alloc-holds-nothing",
		      test_failed_alloc_holds_nothing);
	host_test_add("/host/refcount/no-new-tables-after-unload",
		      test_no_new_tables_after_unload);
	host_test_add("/host/refcount/reload-after-unload",
		      test_reload_after_unload);
	host_test_add("/host/refcount/host-outlives-tables",
		      test_host_outlives_tables);

	return g_test_run();
}
