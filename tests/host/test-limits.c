// SPDX-License-Identifier: MIT
/*
 * The host at its limits, one regression test per finding of the
 * adversarial test (issue 13) that was fixed without one:
 *   F8   a probe report of more than 1 MiB (many long format names) is a
 *        clean child, not a blacklisted one; past PROBE_FORMATS_MAX names
 *        the refusal says so
 *   F15  probing a batch of plugins writes the cache file once
 *   F16  a low soft RLIMIT_NOFILE is raised towards the hard one; when
 *        the hard one is reached the reason names the descriptor limit
 *   F22  after a hot reload only the new version's declared softdeps
 *        count; a failed reload keeps the old version's
 * Growth is counted (probes, cache writes, descriptors), never timed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "host-fixture.h"

#define GOOD_A		"fixture-good-a"
#define GOOD_B		"fixture-good-b"
/* tests/fixtures/CMakeLists.txt builds copy-00 ... copy-19 */
#define N_COPIES	20
/* many-formats.so: every name and alias is this long */
#define MANY_NAME_LEN	63
#define MANY_DEFAULT	8192
/* host/probe.c: what the parent keeps of one report */
#define PROBE_FORMATS_MAX	65536
#define PROBE_LINE_MAX		(64 * 1024)
/* generous: valgrind runs the probe child too */
#define PROBE_TIMEOUT_MS	120000

static struct iopgt_plugin *find(struct host_fixture *f, const char *name)
{
	struct iopgt_plugin *p = iopgt_host_find_plugin(f->host, name);

	g_assert_nonnull(p);
	return p;
}

static char *plugin_dir(struct host_fixture *f)
{
	char *dir = g_build_filename(f->tmpdir, "plugins", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	return dir;
}

/* ---- F8: the probe report streams ---------------------------------------- */

/* many-formats.so's name number i ("fake-many----...00000042"). */
static char *many_name(long i)
{
	GString *s = g_string_new("fake-many-");

	while (s->len < MANY_NAME_LEN - 8)
		g_string_append_c(s, '-');
	g_string_append_printf(s, "%08ld", i);
	return g_string_free(s, FALSE);
}

static void many_setup(struct host_fixture *f, long n_formats)
{
	g_autofree char *dir = plugin_dir(f);
	g_autofree char *n = g_strdup_printf("%ld", n_formats);

	g_setenv("IOPGT_FIXTURE_FORMATS", n, TRUE);
	fixture_copy_to("limits", "many-formats", dir);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 1);
	iopgt_host_set_probe(f->host, true);
	iopgt_host_set_probe_timeout(f->host, PROBE_TIMEOUT_MS);
}

static void assert_many_loaded(struct host_fixture *f, long n_formats)
{
	struct iopgt_probe_stats stats;
	struct iopgt_plugin *p = NULL;
	struct iopgt_pgtable *pgt = NULL;
	g_auto(GStrv) formats = NULL;
	g_autofree char *first = many_name(0);
	g_autofree char *last = many_name(n_formats - 1);

	g_assert_cmpint(iopgt_host_load_plugin(f->host, "many-formats", &p),
			==, 0);
	assert_plugin(p, IOPGT_PLUGIN_LOADED, NULL);
	iopgt_host_get_probe_stats(f->host, &stats);
	g_assert_cmpuint(stats.probes, ==, 1);
	g_assert_cmpuint(stats.blacklisted, ==, 0);
	formats = iopgt_plugin_dup_formats(p);
	g_assert_cmpuint(g_strv_length(formats), ==, n_formats);
	g_assert_cmpstr(formats[0], ==, first);
	g_assert_cmpstr(formats[n_formats - 1], ==, last);
	/* and the last one works */
	g_assert_cmpint(fake_table_new(f->host, last, NULL, &pgt), ==, 0);
	assert_fake_table_works(f->host, pgt);
	iopgt_pgtable_free(f->host, pgt);
}

static void test_probe_many_formats(struct host_fixture *f,
				    gconstpointer data)
{
	/* "format NAME\n" and "alias ALIAS\n" per format */
	const size_t report = MANY_DEFAULT *
			      (sizeof("format ") + MANY_NAME_LEN +
			       sizeof("alias ") + MANY_NAME_LEN);

	(void)data;
	g_test_summary("F8: a plugin registering 8,192 formats with 63-byte "
		       "names and aliases (a probe report over 1 MiB) loads "
		       "with probing on, with every format");
	/* the old 1 MiB cap on the report would cut this one */
	g_assert_cmpuint(report, >, 1u << 20);
	many_setup(f, MANY_DEFAULT);
	assert_many_loaded(f, MANY_DEFAULT);
	g_unsetenv("IOPGT_FIXTURE_FORMATS");
}

static void test_probe_names_at_bound(struct host_fixture *f,
				      gconstpointer data)
{
	/* a name and an alias each */
	const long n = PROBE_FORMATS_MAX / 2;

	(void)data;
	g_test_summary("F8: exactly PROBE_FORMATS_MAX (65,536) names in the "
		       "probe report still load");
	many_setup(f, n);
	assert_many_loaded(f, n);
	g_unsetenv("IOPGT_FIXTURE_FORMATS");
}

static void test_probe_names_past_bound(struct host_fixture *f,
					gconstpointer data)
{
	const long n = PROBE_FORMATS_MAX / 2 + 1;
	g_autofree char *why = g_strdup_printf(
		"probe: the plugin registers more than %d format names, or "
		"names longer than %d bytes", PROBE_FORMATS_MAX,
		PROBE_LINE_MAX);
	struct iopgt_probe_stats stats;
	struct iopgt_plugin *p = NULL;

	(void)data;
	g_test_summary("F8: one name past PROBE_FORMATS_MAX is refused with a "
		       "reason that says so, and no plugin code runs in the "
		       "host");
	many_setup(f, n);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "many-formats", &p),
			==, -EPERM);
	p = find(f, "many-formats");
	assert_plugin(p, IOPGT_PLUGIN_BLACKLISTED, why);
	g_assert_false(fixture_is_mapped(iopgt_plugin_get_path(p)));
	iopgt_host_get_probe_stats(f->host, &stats);
	g_assert_cmpuint(stats.probes, ==, 1);
	g_assert_cmpuint(stats.blacklisted, ==, 1);
	g_unsetenv("IOPGT_FIXTURE_FORMATS");
}

/* ---- F15: one cache write per batch -------------------------------------- */

/* An inotify watch on dir: counts files created or renamed to name. */
struct file_watch {
	int fd;
	const char *name;
};

static void file_watch_init(struct file_watch *w, const char *dir,
			    const char *name)
{
	w->name = name;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	g_assert_cmpint(w->fd, >=, 0);
	g_assert_cmpint(inotify_add_watch(w->fd, dir, IN_CREATE | IN_MOVED_TO),
			>=, 0);
}

/* Times name was (re)placed since the last call: link() or rename(). */
static unsigned int file_watch_count(struct file_watch *w)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	unsigned int n = 0;
	ssize_t len;

	while ((len = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const void *)p;

			g_assert_false(ev->mask & IN_Q_OVERFLOW);
			if (ev->len && !strcmp(ev->name, w->name))
				n++;
			p += sizeof(*ev) + ev->len;
		}
	}
	g_assert_cmpint(len, <, 0);
	g_assert_cmpint(errno, ==, EAGAIN);
	return n;
}

static char *copies_dir(struct host_fixture *f)
{
	char *dir = plugin_dir(f);

	for (int i = 0; i < N_COPIES; i++) {
		g_autofree char *name = g_strdup_printf("copy-%02d", i);

		fixture_copy_to("copies", name, dir);
	}
	return dir;
}

static void test_cache_one_write_per_batch(struct host_fixture *f,
					   gconstpointer data)
{
	g_autofree char *dir = copies_dir(f);
	g_autofree char *cache = g_build_filename(f->tmpdir, "cache", NULL);
	struct iopgt_probe_stats stats;
	struct file_watch w;
	struct iopgt_host *again;

	(void)data;
	g_test_summary("F15: a scan and a load_all of 20 new plugins with "
		       "probing on write the cache file once each, not once "
		       "per probe; a second host finds every result in it");
	file_watch_init(&w, f->tmpdir, "cache");
	iopgt_host_set_probe(f->host, true);
	iopgt_host_set_probe_timeout(f->host, PROBE_TIMEOUT_MS);
	g_assert_cmpint(iopgt_host_set_cache_file(f->host, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpuint(file_watch_count(&w), ==, 0);

	g_assert_cmpint(iopgt_host_scan(f->host), ==, N_COPIES);
	g_assert_cmpuint(file_watch_count(&w), ==, 1);	/* the metadata */
	g_assert_cmpint(iopgt_host_load_all(f->host), ==, N_COPIES);
	g_assert_cmpuint(file_watch_count(&w), ==, 1);	/* the probes */
	iopgt_host_get_probe_stats(f->host, &stats);
	g_assert_cmpuint(stats.probes, ==, N_COPIES);
	g_assert_cmpuint(stats.cache_hits, ==, 0);
	g_assert_cmpuint(stats.blacklisted, ==, 0);
	iopgt_host_unload_all(f->host);
	g_assert_cmpuint(file_watch_count(&w), ==, 0);

	/* warm: nothing new to write */
	again = iopgt_host_new();
	iopgt_host_set_log_fn(again, NULL, NULL);
	iopgt_host_set_probe(again, true);
	g_assert_cmpint(iopgt_host_set_cache_file(again, cache), ==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(again, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(again), ==, N_COPIES);
	g_assert_cmpint(iopgt_host_load_all(again), ==, N_COPIES);
	iopgt_host_get_probe_stats(again, &stats);
	g_assert_cmpuint(stats.probes, ==, 0);
	g_assert_cmpuint(stats.cache_hits, ==, N_COPIES);
	g_assert_cmpuint(file_watch_count(&w), ==, 0);
	g_assert_null(iopgt_host_unref(again));
	close(w.fd);
}

/* ---- F16: descriptors ---------------------------------------------------- */

/* The highest descriptor open in the process. */
static int highest_fd(void)
{
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
	const char *ent;
	int max = -1;

	g_assert_nonnull(d);
	while ((ent = g_dir_read_name(d)))
		max = MAX(max, atoi(ent));
	g_dir_close(d);
	return max;
}

/* "copy-NN STATE[: error]" for every copy, one per line. */
static char *copies_states(struct host_fixture *f)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; i < N_COPIES; i++) {
		g_autofree char *name = g_strdup_printf("copy-%02d", i);
		struct iopgt_plugin *p = find(f, name);
		const char *error = iopgt_plugin_get_error(p);

		g_string_append_printf(s, "%s %s%s%s\n", name,
				       iopgt_plugin_state_to_string(
					       iopgt_plugin_get_state(p)),
				       error ? ": " : "", error ? error : "");
	}
	return g_string_free(s, FALSE);
}

/* What copies_states() says when the first n loaded and the rest failed
 * with why. */
static char *copies_states_want(int n, const char *why)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; i < N_COPIES; i++)
		if (i < n)
			g_string_append_printf(s, "copy-%02d loaded\n", i);
		else
			g_string_append_printf(s, "copy-%02d failed: %s\n", i,
					       why);
	return g_string_free(s, FALSE);
}

/* Lower RLIMIT_NOFILE's soft limit (and the hard one if hard) to leave
 * `spare` descriptors free; returns the new soft limit. */
static rlim_t limit_fds(int spare, bool hard)
{
	struct rlimit rl;

	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	rl.rlim_cur = (rlim_t)(highest_fd() + 1 + spare);
	/* the test needs room above the soft limit to raise it into */
	g_assert_cmpuint(rl.rlim_max, >=, rl.rlim_cur + 4 * N_COPIES);
	if (hard)
		rl.rlim_max = rl.rlim_cur;
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	return rl.rlim_cur;
}

static void test_fd_soft_limit_raised(struct host_fixture *f,
				      gconstpointer data)
{
	g_autofree char *dir = NULL;
	g_autofree char *states = NULL;
	g_autofree char *want = NULL;
	struct rlimit rl;
	rlim_t soft;
	int loaded;

	(void)data;
	if (!g_test_subprocess()) {
		g_test_summary("F16: with the soft descriptor limit a few "
			       "above what is open, 20 plugins (one held "
			       "descriptor each) all load: the host raises "
			       "the soft limit towards the hard one");
		g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
		g_test_trap_assert_passed();
		return;
	}
	dir = copies_dir(f);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, N_COPIES);
	soft = limit_fds(4, false);
	loaded = iopgt_host_load_all(f->host);
	states = copies_states(f);
	want = copies_states_want(N_COPIES, NULL);
	g_assert_cmpstr(states, ==, want);
	g_assert_cmpint(loaded, ==, N_COPIES);
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	g_assert_cmpuint(rl.rlim_cur, >, soft);
	g_assert_cmpuint(rl.rlim_cur, <=, rl.rlim_max);
}

static void test_fd_hard_limit_named(struct host_fixture *f,
				     gconstpointer data)
{
	g_autofree char *dir = NULL;
	g_autofree char *why = NULL;
	g_autofree char *states = NULL;
	g_autofree char *want = NULL;
	int loaded;
	rlim_t limit;

	(void)data;
	if (!g_test_subprocess()) {
		g_test_summary("F16: when the hard descriptor limit is reached "
			       "the plugins that do not fit fail with a reason "
			       "that names the process's limit, not the "
			       "plugin");
		g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
		g_test_trap_assert_passed();
		return;
	}
	dir = copies_dir(f);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, N_COPIES);
	limit = limit_fds(8, true);
	why = g_strdup_printf("too many open files: the process has used its "
			      "limit of %llu descriptors (the host keeps one "
			      "per loaded plugin; raise it with ulimit -n)",
			      (unsigned long long)limit);
	loaded = iopgt_host_load_all(f->host);
	/* how many fit depends on the descriptors a load uses on the way */
	g_assert_cmpint(loaded, >, 0);
	g_assert_cmpint(loaded, <, N_COPIES);
	states = copies_states(f);
	want = copies_states_want(loaded, why);
	g_assert_cmpstr(states, ==, want);
}

/* ---- F22: softdeps across a reload --------------------------------------- */

/* Put version v of flip.so at dir/flip.so as a new file (rename). */
static void install_flip(struct host_fixture *f, const char *dir, int v)
{
	g_autofree char *sub = g_strdup_printf("flip/v%d", v);

	fixture_install_new(f, sub, "flip", dir);
}

static char *flip_dir(struct host_fixture *f)
{
	char *dir = plugin_dir(f);

	fixture_copy_to("good", GOOD_A, dir);
	fixture_copy_to("good", GOOD_B, dir);
	install_flip(f, dir, 1);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), ==, 3);
	return dir;
}

/* The plan's edges, "BEFORE < AFTER" lines, then its errors and the
 * names on a cycle, so one string comparison says it all. */
static char *plan_text(struct host_fixture *f)
{
	GString *s = g_string_new(NULL);
	struct iopgt_plan *plan = NULL;

	g_assert_cmpint(iopgt_host_get_plan(f->host, &plan), ==, 0);
	for (size_t i = 0; i < plan->n_edges; i++)
		g_string_append_printf(s, "%s < %s\n", plan->edges[i].before,
				       plan->edges[i].after);
	for (const char *const *e = plan->errors; *e; e++)
		g_string_append_printf(s, "error: %s\n", *e);
	for (size_t i = 0; i < plan->n_entries; i++)
		if (plan->entries[i].action == IOPGT_PLAN_CYCLE)
			g_string_append_printf(s, "cycle: %s\n",
					       plan->entries[i].name);
	iopgt_plan_free(plan);
	return g_string_free(s, FALSE);
}

static void assert_softdeps(struct host_fixture *f, const char *want)
{
	g_auto(GStrv) softdeps = iopgt_plugin_dup_softdeps(find(f, "flip"));

	assert_strv(softdeps, (const char *const[]){ want, NULL });
}

#define V1_PLAN	GOOD_A " < flip\n"
#define V2_PLAN	"flip < " GOOD_A "\n"

static void test_reload_softdeps_replaced(struct host_fixture *f,
					  gconstpointer data)
{
	g_autofree char *dir = flip_dir(f);
	g_autofree char *plan1 = NULL;
	g_autofree char *plan2 = NULL;
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_test_summary("F22: after a hot reload of a plugin in use, the plan "
		       "has the new version's softdep only (the old one "
		       "reversed would make a cycle), and loading follows it");
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "flip", NULL), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(find(f, GOOD_A)), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(find(f, "flip")), ==, 1);
	plan1 = plan_text(f);
	g_assert_cmpstr(plan1, ==, V1_PLAN);
	g_assert_cmpint(fake_table_new(f->host, "fake-flip", "t", &pgt), ==, 0);

	install_flip(f, dir, 2);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "flip", NULL), ==, 0);
	g_assert_cmpstr(iopgt_plugin_get_version(find(f, "flip")), ==, "2.0");
	assert_softdeps(f, "post: " GOOD_A);
	plan2 = plan_text(f);
	g_assert_cmpstr(plan2, ==, V2_PLAN);
	iopgt_pgtable_free(f->host, pgt);

	/* the reversed order holds for a fresh load: no phantom cycle */
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "flip"), ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, GOOD_A), ==, 0);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "flip", NULL), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(find(f, "flip")), <,
			iopgt_plugin_get_load_index(find(f, GOOD_A)));
	assert_plugin(find(f, GOOD_A), IOPGT_PLUGIN_LOADED, NULL);
}

static void test_reload_unused_metadata(struct host_fixture *f,
					gconstpointer data)
{
	g_autofree char *dir = flip_dir(f);
	g_autofree char *plan = NULL;
	struct iopgt_plugin *p;

	(void)data;
	g_test_summary("F22: after a hot reload of a plugin no table uses, "
		       "its record shows the new file's metadata and the "
		       "plan the new softdep");
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "flip", NULL), ==, 0);
	install_flip(f, dir, 2);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "flip", NULL), ==, 0);
	p = find(f, "flip");
	assert_plugin(p, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_cmpstr(iopgt_plugin_get_version(p), ==, "2.0");
	g_assert_cmpstr(iopgt_plugin_get_file_info(p, "version"), ==, "2.0");
	assert_softdeps(f, "post: " GOOD_A);
	plan = plan_text(f);
	g_assert_cmpstr(plan, ==, V2_PLAN);
}

static void check_failed_reload(struct host_fixture *f, bool in_use)
{
	g_autofree char *dir = flip_dir(f);
	g_autofree char *plan = NULL;
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_plugin *p;

	g_assert_cmpint(iopgt_host_load_plugin(f->host, "flip", NULL), ==, 0);
	if (in_use)
		g_assert_cmpint(fake_table_new(f->host, "fake-flip", "t", &pgt),
				==, 0);
	install_flip(f, dir, 3);
	g_assert_cmpint(iopgt_host_reload_plugin(f->host, "flip", NULL), ==,
			-EIO);
	p = find(f, "flip");
	assert_plugin(p, IOPGT_PLUGIN_LOADED, NULL);
	g_assert_cmpstr(iopgt_plugin_get_version(p), ==, "1.0");
	g_assert_cmpstr(iopgt_plugin_get_file_info(p, "version"), ==, "1.0");
	assert_softdeps(f, "pre: " GOOD_A);
	plan = plan_text(f);
	g_assert_cmpstr(plan, ==, V1_PLAN);
	if (pgt)
		iopgt_pgtable_free(f->host, pgt);
}

static void test_reload_failed_in_use(struct host_fixture *f,
				      gconstpointer data)
{
	(void)data;
	g_test_summary("F22: a failed reload of a plugin in use leaves the "
		       "old version's softdeps and metadata, not the failed "
		       "file's");
	check_failed_reload(f, true);
}

static void test_reload_failed_unused(struct host_fixture *f,
				      gconstpointer data)
{
	(void)data;
	g_test_summary("F22, F11: a failed reload of a plugin no table uses "
		       "keeps the old version loaded, with its softdeps and "
		       "metadata");
	check_failed_reload(f, false);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	host_test_add("/limits/probe/many-formats-load",
		      test_probe_many_formats);
	host_test_add("/limits/probe/names-at-bound-load",
		      test_probe_names_at_bound);
	host_test_add("/limits/probe/names-past-bound-refused",
		      test_probe_names_past_bound);
	host_test_add("/limits/cache/one-write-per-batch",
		      test_cache_one_write_per_batch);
	host_test_add("/limits/fd/soft-limit-raised",
		      test_fd_soft_limit_raised);
	host_test_add("/limits/fd/hard-limit-named", test_fd_hard_limit_named);
	host_test_add("/limits/reload/softdeps-replaced",
		      test_reload_softdeps_replaced);
	host_test_add("/limits/reload/unused-shows-new-metadata",
		      test_reload_unused_metadata);
	host_test_add("/limits/reload/failed-in-use-keeps-old-softdeps",
		      test_reload_failed_in_use);
	host_test_add("/limits/reload/failed-unused-keeps-old-softdeps",
		      test_reload_failed_unused);
	return g_test_run();
}
