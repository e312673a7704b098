// SPDX-License-Identifier: MIT
/*
 * Table work never waits for plugin lifecycle work, and plugin records
 * have a real lifetime:
 *   - while one thread loads a slow plugin (its register_fn, or its probe
 *     child, takes seconds), another thread's tables of another plugin,
 *     lookups and getters go on: they finish before that load does;
 *   - two loads of one plugin run its register_fn once;
 *   - a label read while another thread replaces it stays valid;
 *   - unload_plugin_wait(.., 0) waits for ever, and a deferred unload's
 *     deadline is seen by every caller alike;
 *   - a reload's replaced record goes when its last table does, so
 *     reloads in a loop do not grow the host; a failed reload of an
 *     unused plugin keeps the old version.
 * None of these assert a wall time: "did not wait" is proved by order
 * (the other load had not finished yet).  The worst latency seen is
 * printed for the record (g_test_message).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake-format.h"
#include "host-fixture.h"
#include "iopgt-internal.h"

#define GOOD_A	"fixture-good-a"
#define SLOW	"register-slow"

static void add_dirs(struct host_fixture *f)
{
	g_autofree char *good = fixture_dir("good");
	g_autofree char *slow = fixture_dir("slow");

	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, good), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, slow), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), >=, 4);
}

struct loader {
	struct iopgt_host *host;
	const char *name;
	int ret;
	_Atomic bool done;
};

static gpointer load_thread(gpointer data)
{
	struct loader *l = data;

	l->ret = iopgt_host_load_plugin(l->host, l->name, NULL);
	atomic_store(&l->done, true);
	return NULL;
}

/* Has a thread started loading the record (its loading flag is set)? */
static bool is_loading(struct iopgt_host *host, const char *name)
{
	struct iopgt_plugin *p;
	bool loading;

	iopgt_host_lock(host);
	p = iopgt_plugin_lookup(host, name);
	loading = p && p->loading;
	iopgt_host_unlock(host);
	return loading;
}

static void nop_plugin(struct iopgt_plugin *p, void *data)
{
	(*(int *)data)++;
	(void)iopgt_plugin_get_state(p);
}

/* One round of table work on fake-a plus lookups; returns its latency. */
static gint64 table_round(struct iopgt_host *host)
{
	gint64 t0 = g_get_monotonic_time();
	struct iopgt_pgtable *pgt = NULL;
	int n = 0;

	g_assert_cmpint(fake_table_new(host, "fake-a", "round", &pgt), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(host, pgt, 0x1000, 0x5000,
					  FAKE_PAGE_SIZE, IOMMU_READ), ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(host, pgt, 0x1000), ==,
			0x5000);
	g_assert_cmpuint(iopgt_pgtable_unmap(host, pgt, 0x1000, FAKE_PAGE_SIZE,
					     NULL), ==, FAKE_PAGE_SIZE);
	iopgt_pgtable_free(host, pgt);
	g_assert_nonnull(iopgt_host_find_format(host, "fake-a"));
	iopgt_host_foreach_plugin(host, nop_plugin, &n);
	g_assert_cmpint(n, >=, 4);
	(void)iopgt_plugin_get_state(iopgt_host_find_plugin(host, SLOW));
	return g_get_monotonic_time() - t0;
}

static void table_work_while_loading(struct host_fixture *f, bool probe)
{
	struct loader l = { .host = f->host, .name = SLOW };
	gint64 worst = 0;
	GThread *t;

	add_dirs(f);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_A, NULL), ==, 0);
	iopgt_host_set_probe(f->host, probe);
	/* a probe child that would sleep a minute is killed at 5 s; an
	 * in-process register_fn sleeps 3 s */
	setenv("IOPGT_FIXTURE_SLOW_MS", probe ? "60000" : "3000", 1);
	iopgt_host_set_probe_timeout(f->host, 5000);
	t = g_thread_new("slow-load", load_thread, &l);
	while (!is_loading(f->host, SLOW))
		g_usleep(1000);
	for (int i = 0; i < 20; i++)
		worst = MAX(worst, table_round(f->host));
	/* everything above finished while the slow load was still going */
	g_assert_false(atomic_load(&l.done));
	g_test_message("worst round while %s: %.3f ms",
		       probe ? "probing" : "in register_fn",
		       (double)worst / 1000.0);
	if (g_test_verbose())
		printf("# worst table round while %s: %.3f ms\n",
		       probe ? "probing" : "in register_fn",
		       (double)worst / 1000.0);
	g_thread_join(t);
	unsetenv("IOPGT_FIXTURE_SLOW_MS");
	if (probe) {
		g_assert_cmpint(l.ret, ==, -EPERM);
		assert_plugin(iopgt_host_find_plugin(f->host, SLOW),
			      IOPGT_PLUGIN_BLACKLISTED,
			      "probe: no answer within 5000 ms in register_fn "
			      "(killed)");
	} else {
		g_assert_cmpint(l.ret, ==, 0);
	}
}

static void test_tables_while_registering(struct host_fixture *f,
					  gconstpointer data)
{
	(void)data;
	g_test_summary("While one thread's plugin sits 3 s in register_fn, "
		       "another thread allocates, maps, unmaps and frees "
		       "tables of another plugin, finds formats and lists "
		       "plugins, all before that load ends");
	table_work_while_loading(f, false);
}

static void test_tables_while_probing(struct host_fixture *f,
				      gconstpointer data)
{
	(void)data;
	g_test_summary("While a probe child hangs until the 5 s timeout, "
		       "table work and lookups of other plugins finish "
		       "before the probe is judged");
	table_work_while_loading(f, true);
}

static void test_two_loads_one_plugin(struct host_fixture *f,
				      gconstpointer data)
{
	struct loader a = { .host = f->host, .name = SLOW };
	struct loader b = { .host = f->host, .name = SLOW };
	g_autofree char *marker = NULL;
	GThread *ta, *tb;

	(void)data;
	g_test_summary("Two threads loading one plugin wait for one load: "
		       "register_fn runs once and both get 0");
	add_dirs(f);
	iopgt_host_set_probe(f->host, false);
	setenv("IOPGT_FIXTURE_SLOW_MS", "300", 1);
	ta = g_thread_new("load-a", load_thread, &a);
	tb = g_thread_new("load-b", load_thread, &b);
	g_thread_join(ta);
	g_thread_join(tb);
	unsetenv("IOPGT_FIXTURE_SLOW_MS");
	g_assert_cmpint(a.ret, ==, 0);
	g_assert_cmpint(b.ret, ==, 0);
	marker = host_fixture_read_marker(f);
	g_assert_cmpstr(marker, ==, "register-slow register\n");
	assert_plugin(iopgt_host_find_plugin(f->host, SLOW),
		      IOPGT_PLUGIN_LOADED, NULL);
}

/* ---- labels ----------------------------------------------------------------- */

struct labeller {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	_Atomic bool stop;
};

static gpointer relabel_thread(gpointer data)
{
	struct labeller *l = data;

	for (int i = 0; i < 2000; i++) {
		char label[16];

		g_snprintf(label, sizeof(label), "t%d", i);
		iopgt_pgtable_set_label(l->host, l->pgt, label);
	}
	atomic_store(&l->stop, true);
	return NULL;
}

static void test_label_race(struct host_fixture *f, gconstpointer data)
{
	struct labeller l = { .host = f->host };
	size_t seen = 0;
	GThread *t;

	(void)data;
	g_test_summary("F13: a label read while another thread replaces it "
		       "stays readable until the table goes (no "
		       "use-after-free under ASan)");
	add_dirs(f);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t", &l.pgt), ==, 0);
	t = g_thread_new("relabel", relabel_thread, &l);
	do {
		const char *s = iopgt_pgtable_get_label(f->host, l.pgt);

		g_assert_cmpint(s[0], ==, 't');
		seen += strlen(s);
	} while (!atomic_load(&l.stop));
	g_thread_join(t);
	g_assert_cmpstr(iopgt_pgtable_get_label(f->host, l.pgt), ==, "t1999");
	g_assert_cmpuint(seen, >, 0);
	iopgt_pgtable_free(f->host, l.pgt);
}

/* ---- deferred unload ------------------------------------------------------- */

struct delayed_free {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	unsigned int ms;
};

static gpointer free_later(gpointer data)
{
	struct delayed_free *d = data;

	g_usleep((gulong)d->ms * 1000);
	iopgt_pgtable_free(d->host, d->pgt);
	return NULL;
}

static void test_unload_wait_zero(struct host_fixture *f, gconstpointer data)
{
	struct delayed_free d = { .host = f->host, .ms = 200 };
	GThread *t;

	(void)data;
	g_test_summary("F10: unload_plugin_wait(.., 0) waits for ever: it "
		       "returns 0 once another thread frees the last table");
	add_dirs(f);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t", &d.pgt), ==, 0);
	t = g_thread_new("free-later", free_later, &d);
	g_assert_cmpint(iopgt_host_unload_plugin_wait(f->host, GOOD_A, 0), ==,
			0);
	g_thread_join(t);
	assert_plugin(iopgt_host_find_plugin(f->host, GOOD_A),
		      IOPGT_PLUGIN_UNLOADED, NULL);
}

static void test_deadline_one_truth(struct host_fixture *f,
				    gconstpointer data)
{
	struct iopgt_plugin *a;
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_test_summary("F17: once a deferred unload's deadline passed with "
		       "tables alive, every caller sees it cancelled: the "
		       "getters, list and load alike (not a bare EBUSY)");
	add_dirs(f);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "t", &pgt), ==, 0);
	a = iopgt_host_find_plugin(f->host, GOOD_A);
	g_assert_cmpint(iopgt_host_unload_plugin_deferred(f->host, GOOD_A, 20),
			==, -EINPROGRESS);
	g_assert_cmpint(iopgt_plugin_get_state(a), ==, IOPGT_PLUGIN_GOING);
	g_usleep(50 * 1000);
	/* nobody called into the host in between: the getter decides */
	g_assert_cmpint(iopgt_plugin_get_state(a), ==, IOPGT_PLUGIN_LOADED);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, GOOD_A, NULL), ==, 0);
	assert_logged(f, "warning: fixture-good-a: unload cancelled: timed "
		      "out with tables still alive");
	iopgt_pgtable_free(f->host, pgt);
	assert_plugin(a, IOPGT_PLUGIN_LOADED, NULL);
}

/* ---- records of reloads ---------------------------------------------------- */

/* Put version v of reloadable.so at dir/reloadable.so as a new file. */
static void install_version(struct host_fixture *f, const char *dir, int v)
{
	g_autofree char *sub = g_strdup_printf("reload/v%d", v);

	fixture_install_new(f, sub, "reloadable", dir);
}

static guint host_records(struct iopgt_host *host)
{
	guint n;

	iopgt_host_lock(host);
	n = host->plugins->len;
	iopgt_host_unlock(host);
	return n;
}

static void test_reload_records_go(struct host_fixture *f,
				   gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	struct iopgt_plugin *held;

	(void)data;
	g_test_summary("F20: each in-use reload's replaced record is freed "
		       "with its last table: 200 reloads leave one record, "
		       "and a reference keeps a record readable after that");
	install_version(f, dir, 1);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	iopgt_host_set_probe(f->host, false);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "reloadable", &held),
			==, 0);
	iopgt_plugin_ref(held);
	for (int i = 0; i < 200; i++) {
		struct iopgt_pgtable *pgt = NULL;

		g_assert_cmpint(fake_table_new(f->host, "fake-reload", "old",
					       &pgt), ==, 0);
		install_version(f, dir, i % 2 ? 1 : 2);
		g_assert_cmpint(iopgt_host_reload_plugin(f->host, "reloadable",
							 NULL), ==, 0);
		g_assert_cmpuint(host_records(f->host), ==, 2);
		iopgt_pgtable_free(f->host, pgt);
		g_assert_cmpuint(host_records(f->host), ==, 1);
	}
	/* the first record is long retired, but our reference keeps it */
	g_assert_cmpstr(iopgt_plugin_get_version(held), ==, "1.0");
	g_assert_cmpint(iopgt_plugin_get_state(held), ==,
			IOPGT_PLUGIN_UNLOADED);
	g_assert_null(iopgt_plugin_unref(held));
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "reloadable"), ==,
			0);
}

static void test_failed_reload_unused(struct host_fixture *f,
				      gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->tmpdir, "plugins", NULL);
	g_autofree char *stage = g_build_filename(f->tmpdir, "stage", NULL);
	g_autofree char *from = g_build_filename(stage, GOOD_A ".so", NULL);
	g_autofree char *to = g_build_filename(dir, "reloadable.so", NULL);
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_plugin *p;

	(void)data;
	g_test_summary("F11: a failed reload of a plugin no table uses "
		       "leaves the old version loaded, formats and all");
	install_version(f, dir, 1);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	iopgt_host_set_probe(f->host, false);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "reloadable", NULL),
			==, 0);
	/* a file whose descriptor names another plugin */
	fixture_copy_to("good", GOOD_A, stage);
	g_assert_cmpint(rename(from, to), ==, 0);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "reloadable", NULL),
			==, -EPROTO);
	p = iopgt_host_find_plugin(f->host, "reloadable");
	assert_plugin(p, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_cmpstr(iopgt_plugin_get_version(p), ==, "1.0");
	g_assert_cmpint(fake_table_new(f->host, "fake-reload", "t", &pgt), ==,
			0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, pgt, 0), ==, 0);
	iopgt_pgtable_free(f->host, pgt);
	g_assert_cmpuint(host_records(f->host), ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	host_test_add("/host/concurrency/tables-while-registering",
		      test_tables_while_registering);
	host_test_add("/host/concurrency/tables-while-probing",
		      test_tables_while_probing);
	host_test_add("/host/concurrency/two-loads-one-plugin",
		      test_two_loads_one_plugin);
	host_test_add("/host/concurrency/label-race", test_label_race);
	host_test_add("/host/concurrency/unload-wait-zero",
		      test_unload_wait_zero);
	host_test_add("/host/concurrency/deadline-one-truth",
		      test_deadline_one_truth);
	host_test_add("/host/concurrency/reload-records-go",
		      test_reload_records_go);
	host_test_add("/host/concurrency/failed-reload-unused",
		      test_failed_reload_unused);
	return g_test_run();
}
