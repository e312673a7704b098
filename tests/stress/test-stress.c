// SPDX-License-Identifier: MIT
/*
 * Load/unload stress (issue #5): many threads churn the plugin lifecycle of
 * one host while others read it, unload under it and map into shared
 * tables, and a checker stops the world now and then to check that the
 * books balance.
 *
 * Plugins: the bundled io-pgtable-arm and io-pgtable-arm-v7s
 * (IOPGT_TEST_PLUGIN_DIR) and the good fixtures fixture-good-a/b/c
 * (IOPGT_TEST_FIXTURE_DIR/good), all real files, so every successful unload
 * is a real dlclose.
 *
 * Threads:
 *  - workers (--threads, default 8): each cycle loads a random plugin,
 *    allocates a table of every format it provides (dup_formats), maps 1-3
 *    random ranges per table (random page sizes, random iova and paddr),
 *    checks them with iova_to_phys, unmaps them (the last one only
 *    sometimes: free must reclaim live mappings too), frees the tables and
 *    tries to unload the plugin;
 *  - an unloader: unload attempts on random plugins, all the time;
 *  - a lister: iopgt_host_foreach_plugin with every getter and
 *    dup_formats/dup_holders, checking each record under the host lock;
 *  - an informer: find_plugin, find_format, get_format_defaults, the
 *    getters and the file metadata (dup_provides, get_file_info), without
 *    any lock, as a program's "info" command would;
 *  - mappers (default 2): concurrent map/verify/unmap on a few shared,
 *    long-lived tables, each mapper in its own iova window (the windows
 *    sit next to each other, so they share the formats' intermediate
 *    tables);
 *  - a checker: every IOPGT_STRESS_CHECK_MS (default 20) it quiesces
 *    everybody (a writer-preferring rwlock: a worker holds it as a reader
 *    for a whole cycle, the others per operation), checks the invariants
 *    below exactly, then frees the shared tables, checks that memory went
 *    back to zero, and makes the next shared tables from the next formats
 *    (so every plugin is pinned by shared tables some of the time and free
 *    the rest).
 *
 * Legal results, each counted (any other result fails the test at once):
 *  - load: 0 only (never RESIDENT, never blacklisted);
 *  - dup_formats after our load: the plugin's full format list, or empty
 *    when another thread unloaded it in between;
 *  - alloc: 0, or, when another thread unloaded the plugin since our
 *    load: -EAGAIN (the file provides the format but is not loaded; an
 *    unloaded plugin is not loaded on demand again), -ENOENT (nobody
 *    provides it) or -ESHUTDOWN (unloading);
 *  - unload: 0 (a real dlclose), -EBUSY (a table holds it) or -EINVAL
 *    (not loaded: another thread's unload won).  -ENOENT is never legal:
 *    every record exists from the scan on.
 *
 * Invariants, checked exactly at every checkpoint and at the end:
 *  - live tables (iopgt_host_get_table_count) == the tables the test holds
 *    (the shared ones; workers hold none between cycles);
 *  - the sum of plugin refcounts == live tables, and each plugin's count
 *    == the shared tables made from it;
 *  - no table outlives its plugin code: each live table's plugin is LOADED
 *    and dladdr() finds its map_pages in a mapped object; no record is
 *    GOING, FAILED, BLACKLISTED or RESIDENT;
 *  - memory: the host's table and state bytes == the sum over the live
 *    tables, and both are 0 once the shared tables are freed;
 *  - the host logged no warning, and one error per refusal it made (EBUSY
 *    and EINVAL unloads, the allocs that lost a race) and nothing else.
 * Between checkpoints the lister checks what one getter call reads
 * consistently (foreach runs it without the host lock): names, a legal
 * state or GOING (an unload closing it), formats == the expected list or
 * empty, holders naming the plugin's formats.  Workers check that a table's plugin is LOADED
 * while the table lives.
 *
 * Sizes: --threads N / IOPGT_STRESS_THREADS (default 8), --cycles M /
 * IOPGT_STRESS_CYCLES (cycles per worker, default 1000),
 * IOPGT_STRESS_MAPPERS (default 2), IOPGT_STRESS_SHARED (shared tables,
 * default 2).  --soak SECONDS / IOPGT_STRESS_SOAK runs until the time is up
 * instead, with a progress line per second on stderr when it is a
 * terminal.  Every run ends with one line on stderr:
 *   stress: T threads, C cycles in S s = X cycles/s, tables Y, ...
 * IOPGT_STRESS_PROBE=0 turns crash-isolation probing off (see setup()).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"

#define MAX_FORMATS	8
#define MAX_SHARED	8
#define MAX_MAPPERS	8
#define RW		(IOMMU_READ | IOMMU_WRITE)

/* Pages of a mapper's window, in granules. */
#define WINDOW_PAGES	16
/* Windows of one mapper per shared table, at most (one per region). */
#define REGIONS		8
/* Host log lines kept for a failure message. */
#define LOG_KEEP	16

static const struct {
	const char *name;
	bool fixture;			/* from the fixture dir's good/ */
} pool[] = {
	{ "io-pgtable-arm", false },
	{ "io-pgtable-arm-v7s", false },
	{ "fixture-good-a", true },
	{ "fixture-good-b", true },
	{ "fixture-good-c", true },
};
#define N_PLUGINS	G_N_ELEMENTS(pool)

struct format_info {
	char *name;
	unsigned int plugin;		/* index in pool[] */
	unsigned int ias, oas;
	unsigned long pgsizes;
};

struct plugin_info {
	const char *name;
	struct iopgt_plugin *record;	/* borrowed: lives as long as the host */
	char *path;
	char **formats;			/* what dup_formats gives while loaded */
};

struct shared_table {
	struct iopgt_pgtable *pgt;
	unsigned int format;		/* index in stress.formats[] */
};

struct counters {
	_Atomic unsigned long cycles;
	_Atomic unsigned long loads;
	_Atomic unsigned long formats_raced;
	_Atomic unsigned long tables;
	_Atomic unsigned long alloc_eagain;
	_Atomic unsigned long alloc_enoent;
	_Atomic unsigned long alloc_shutdown;
	_Atomic unsigned long ranges;
	_Atomic unsigned long unload_ok;
	_Atomic unsigned long unload_busy;
	_Atomic unsigned long unload_not_loaded;
	_Atomic unsigned long shared_maps;
	_Atomic unsigned long lists;
	_Atomic unsigned long infos;
	_Atomic unsigned long checks;
	/* host log */
	_Atomic unsigned long log_err;
	_Atomic unsigned long log_warning;
};

struct stress {
	struct iopgt_host *host;
	bool probe;
	unsigned int threads, cycles, mappers, n_shared, check_ms;
	unsigned int soak;		/* seconds, 0: run cycles */

	struct plugin_info plugins[N_PLUGINS];
	struct format_info formats[N_PLUGINS * MAX_FORMATS];
	unsigned int n_formats;

	/*
	 * Quiescence: workers hold it shared for a whole cycle, the other
	 * threads per operation, the checker exclusively.  Writer-preferring,
	 * so the checker is not starved.  The shared tables only change
	 * under it exclusively.
	 */
	pthread_rwlock_t quiesce;
	struct shared_table shared[MAX_SHARED];
	unsigned int epoch;		/* rotations of the shared tables */

	_Atomic int stop_workers;	/* soak: time is up */
	_Atomic int stop;		/* workers done: chaos threads stop */
	_Atomic unsigned int workers_left;

	struct counters n;

	pthread_mutex_t log_lock;	/* pthread: visible to TSan */
	GPtrArray *log_warnings;	/* the first LOG_KEEP */
	char *log_errors[LOG_KEEP];	/* the last LOG_KEEP, a ring */
	unsigned int log_next;
};

struct thread_ctx {
	struct stress *st;
	unsigned int id;
	GRand *rand;
	GThread *thread;
};

/* ---- configuration ------------------------------------------------------- */

static int opt_soak = -1, opt_threads = -1, opt_cycles = -1;

static const GOptionEntry stress_options[] = {
	{ "soak", 0, 0, G_OPTION_ARG_INT, &opt_soak,
	  "Run for SECONDS instead of a number of cycles", "SECONDS" },
	{ "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads,
	  "Worker threads (default 8)", "N" },
	{ "cycles", 0, 0, G_OPTION_ARG_INT, &opt_cycles,
	  "Cycles per worker (default 1000)", "M" },
	{ NULL },
};

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *v = g_getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 0) : def;
}

static unsigned int opt_or_env(int opt, const char *env, unsigned int def)
{
	return opt >= 0 ? (unsigned int)opt : env_uint(env, def);
}

/* ---- the host's log: count it, keep some lines for a failure ------------- */

static void stress_log(void *data, int priority, const char *file, int line,
		       const char *fn, const char *format, va_list args)
{
	struct stress *st = data;
	char *msg;

	(void)file;
	(void)line;
	(void)fn;
	if (priority > IOPGT_LOG_WARNING)
		return;
	msg = g_strdup_vprintf(format, args);
	pthread_mutex_lock(&st->log_lock);
	if (priority == IOPGT_LOG_WARNING) {
		st->n.log_warning++;
		if (st->log_warnings->len < LOG_KEEP)
			g_ptr_array_add(st->log_warnings, g_steal_pointer(&msg));
	} else {
		st->n.log_err++;
		g_free(st->log_errors[st->log_next]);
		st->log_errors[st->log_next] = g_steal_pointer(&msg);
		st->log_next = (st->log_next + 1) % LOG_KEEP;
	}
	pthread_mutex_unlock(&st->log_lock);
	g_free(msg);
}

static char *log_dump(struct stress *st)
{
	GString *s = g_string_new(NULL);

	pthread_mutex_lock(&st->log_lock);
	for (guint i = 0; i < st->log_warnings->len; i++)
		g_string_append_printf(s, "\n  warning: %s", (char *)
				       g_ptr_array_index(st->log_warnings, i));
	for (unsigned int i = 0; i < LOG_KEEP; i++) {
		const char *e = st->log_errors[(st->log_next + i) % LOG_KEEP];

		if (e)
			g_string_append_printf(s, "\n  err: %s", e);
	}
	pthread_mutex_unlock(&st->log_lock);
	return g_string_free(s, FALSE);
}

/* ---- small helpers ------------------------------------------------------- */

static uint64_t rand64(GRand *r)
{
	return (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
}

/* A random integer in [0, n), n > 0. */
static uint64_t rand_below(GRand *r, uint64_t n)
{
	return rand64(r) % n;
}

static unsigned long lowest_pgsize(unsigned long bitmap)
{
	return bitmap & -bitmap;
}

static bool strv_is_empty(char **v)
{
	return !v || !v[0];
}

static void assert_formats(const struct plugin_info *pi, char **got)
{
	if (strv_is_empty(got))
		return;
	if (!g_strv_equal((const char *const *)got,
			  (const char *const *)pi->formats)) {
		g_autofree char *a = g_strjoinv(",", got);
		g_autofree char *b = g_strjoinv(",", pi->formats);

		g_error("%s: formats [%s], expected [%s]", pi->name, a, b);
	}
}

/* Index in pool[] of a record, or -1 for a plugin the test does not use. */
static int plugin_index(struct stress *st, const struct iopgt_plugin *p)
{
	for (unsigned int i = 0; i < N_PLUGINS; i++)
		if (st->plugins[i].record == p)
			return i;
	return -1;
}

/* The plugin's code is mapped: dladdr finds the object holding an op. */
static void assert_code_mapped(struct iopgt_pgtable *pgt)
{
	Dl_info info;

	g_assert_true(dladdr((void *)(uintptr_t)pgt->ops.map_pages, &info));
	g_assert_nonnull(info.dli_fbase);
}

static void count_unload(struct stress *st, const char *name, int ret)
{
	switch (ret) {
	case 0:
		st->n.unload_ok++;
		break;
	case -EBUSY:
		st->n.unload_busy++;
		break;
	case -EINVAL:
		st->n.unload_not_loaded++;
		break;
	default:
		g_error("unload %s: illegal result %d (%s)", name, ret,
			g_strerror(-ret));
	}
}

/*
 * An alloc that lost the race with another thread's unload of the plugin
 * since our load: -EAGAIN (unloaded: the file says it provides the format
 * but it is not loaded), -ENOENT (no plugin registered it), -ESHUTDOWN
 * (unloading).  Returns: whether ret is one of them.
 */
static bool count_alloc_race(struct stress *st, int ret)
{
	switch (ret) {
	case -EAGAIN:
		st->n.alloc_eagain++;
		return true;
	case -ENOENT:
		st->n.alloc_enoent++;
		return true;
	case -ESHUTDOWN:
		st->n.alloc_shutdown++;
		return true;
	default:
		return false;
	}
}

static unsigned long alloc_races(struct stress *st)
{
	return st->n.alloc_eagain + st->n.alloc_enoent + st->n.alloc_shutdown;
}

static void try_unload(struct stress *st, const struct plugin_info *pi)
{
	count_unload(st, pi->name, iopgt_host_unload_plugin(st->host,
							    pi->name));
}

/* ---- worker tables: random ranges ---------------------------------------- */

struct range {
	unsigned long iova;
	uint64_t pa;
	size_t size;
};

/*
 * A random range in slot k of 8 equal slots of the iova space: a page size
 * the table offers (up to 16M), 1-4 pages of it, aligned iova and paddr
 * inside ias and oas.
 */
static void random_range(GRand *r, const struct iopgt_pgtable *pgt,
			 unsigned int k, struct range *out)
{
	unsigned int ias = MIN(pgt->cfg.ias, 48u);
	unsigned int oas = MIN(pgt->cfg.oas, 48u);
	unsigned long slot = (1UL << ias) / 8;
	unsigned long sizes[64];
	unsigned int n = 0;
	unsigned long pg;
	size_t count;

	for (unsigned int b = 0; b < 64; b++) {
		unsigned long s = 1UL << b;

		if ((pgt->cfg.pgsize_bitmap & s) && s <= SZ_16M &&
		    s <= slot / 4)
			sizes[n++] = s;
	}
	g_assert_cmpuint(n, >, 0);
	pg = sizes[g_rand_int_range(r, 0, n)];
	count = pg >= SZ_1M ? (size_t)g_rand_int_range(r, 1, 3) :
			      (size_t)g_rand_int_range(r, 1, 5);
	out->size = pg * count;
	out->iova = k * slot + rand_below(r, (slot - out->size) / pg + 1) * pg;
	out->pa = rand_below(r, ((1ULL << oas) - out->size) / pg + 1) * pg;
}

static void assert_translates(struct stress *st, struct iopgt_pgtable *pgt,
			      const struct range *rg, GRand *r)
{
	unsigned long offs[] = {
		42, rg->size - 1,
		rand_below(r, rg->size),
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(offs); i++)
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(st->host, pgt,
							   rg->iova + offs[i]),
				==, rg->pa + offs[i]);
}

/* Map 1-3 ranges, check them, unmap (the last one only sometimes). */
static void exercise_table(struct stress *st, struct iopgt_pgtable *pgt,
			   GRand *r)
{
	struct range rg[3];
	unsigned int n = g_rand_int_range(r, 1, 4);
	unsigned int first = g_rand_int_range(r, 0, 8);

	for (unsigned int i = 0; i < n; i++) {
		/* distinct slots: the ranges never overlap */
		random_range(r, pgt, (first + i) % 8, &rg[i]);
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(st->host, pgt,
							   rg[i].iova), ==, 0);
		g_assert_cmpint(iopgt_pgtable_map(st->host, pgt, rg[i].iova,
						  rg[i].pa, rg[i].size, RW),
				==, 0);
		assert_translates(st, pgt, &rg[i], r);
		st->n.ranges++;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (i == n - 1 && g_rand_boolean(r))
			break;	/* left for free to reclaim */
		g_assert_cmpuint(iopgt_pgtable_unmap(st->host, pgt, rg[i].iova,
						     rg[i].size, NULL),
				 ==, rg[i].size);
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(st->host, pgt,
							   rg[i].iova), ==, 0);
	}
}

static struct iopgt_cfg format_cfg(const struct format_info *fi, GRand *r)
{
	return (struct iopgt_cfg){
		.ias = fi->ias,
		.oas = fi->oas,
		.pgsize_bitmap = fi->pgsizes,
		.coherent_walk = r ? g_rand_boolean(r) : true,
	};
}

static const struct format_info *find_format_info(struct stress *st,
						  const char *name)
{
	for (unsigned int i = 0; i < st->n_formats; i++)
		if (!strcmp(st->formats[i].name, name))
			return &st->formats[i];
	g_error("format '%s' is not one the test knows", name);
}

/* ---- workers ------------------------------------------------------------- */

static void worker_cycle(struct thread_ctx *tc)
{
	struct stress *st = tc->st;
	unsigned int pi_idx = g_rand_int_range(tc->rand, 0, N_PLUGINS);
	const struct plugin_info *pi = &st->plugins[pi_idx];
	struct iopgt_pgtable *tables[MAX_FORMATS];
	g_auto(GStrv) fmts = NULL;
	struct iopgt_plugin *p = NULL;
	unsigned int n = 0;
	char label[32];
	int ret;

	ret = iopgt_host_load_plugin(st->host, pi->name, &p);
	if (ret)
		g_error("load %s: illegal result %d (%s)", pi->name, ret,
			g_strerror(-ret));
	g_assert_true(p == pi->record);
	st->n.loads++;

	fmts = iopgt_plugin_dup_formats(p);
	if (strv_is_empty(fmts))
		st->n.formats_raced++;	/* unloaded since our load */
	assert_formats(pi, fmts);

	for (char **f = fmts; *f; f++) {
		const struct format_info *fi = find_format_info(st, *f);
		struct iopgt_cfg cfg = format_cfg(fi, tc->rand);
		struct iopgt_pgtable *pgt = NULL;

		ret = iopgt_pgtable_new(st->host, *f, &cfg, NULL, &pgt);
		if (count_alloc_race(st, ret))
			continue;
		if (ret)
			g_error("alloc %s: illegal result %d (%s)", *f, ret,
				g_strerror(-ret));
		st->n.tables++;
		tables[n++] = pgt;
		snprintf(label, sizeof(label), "w%u", tc->id);
		iopgt_pgtable_set_label(st->host, pgt, label);
		/* while a table lives its plugin is loaded and mapped */
		g_assert_true(iopgt_pgtable_get_plugin(st->host, pgt) == p);
		g_assert_cmpint(iopgt_plugin_get_state(p), ==,
				IOPGT_PLUGIN_LOADED);
		g_assert_cmpint(iopgt_plugin_get_refcount(p), >=, n);
		assert_code_mapped(pgt);
		exercise_table(st, pgt, tc->rand);
	}
	for (unsigned int i = 0; i < n; i++)
		iopgt_pgtable_free(st->host, tables[i]);
	try_unload(st, pi);
	st->n.cycles++;
}

static gpointer worker(gpointer data)
{
	struct thread_ctx *tc = data;
	struct stress *st = tc->st;

	for (unsigned int c = 0; st->soak ? !st->stop_workers : c < st->cycles;
	     c++) {
		pthread_rwlock_rdlock(&st->quiesce);
		worker_cycle(tc);
		pthread_rwlock_unlock(&st->quiesce);
	}
	st->workers_left--;
	return NULL;
}

/* ---- chaos: unloader, lister, informer ----------------------------------- */

static gpointer unloader(gpointer data)
{
	struct thread_ctx *tc = data;
	struct stress *st = tc->st;

	while (!st->stop) {
		unsigned int i = g_rand_int_range(tc->rand, 0, N_PLUGINS);

		pthread_rwlock_rdlock(&st->quiesce);
		try_unload(st, &st->plugins[i]);
		pthread_rwlock_unlock(&st->quiesce);
		g_thread_yield();
	}
	return NULL;
}

struct list_round {
	struct stress *st;
	unsigned int seen;
};

static bool state_is_legal(enum iopgt_plugin_state s)
{
	return s == IOPGT_PLUGIN_DISCOVERED || s == IOPGT_PLUGIN_LOADED ||
	       s == IOPGT_PLUGIN_UNLOADED;
}

static void assert_state_legal(const struct plugin_info *pi,
			       enum iopgt_plugin_state s)
{
	if (!state_is_legal(s))
		g_error("%s is %s (%s)", pi->name,
			iopgt_plugin_state_to_string(s),
			iopgt_plugin_get_error(pi->record) ?: "no reason");
}

/*
 * foreach calls this without the host lock (a callback may call back in),
 * so other threads change the record meanwhile: only what one call reads
 * consistently is checked here: stable names, a legal state (GOING while
 * another thread's unload closes it), a format list that is the plugin's
 * whole list or empty, holders that name the plugin's formats.  The
 * stop-the-world checkpoints check counts against each other.
 */
static void list_one(struct iopgt_plugin *p, void *data)
{
	struct list_round *lr = data;
	struct stress *st = lr->st;
	int idx = plugin_index(st, p);
	const struct plugin_info *pi = idx >= 0 ? &st->plugins[idx] : NULL;
	enum iopgt_plugin_state s = iopgt_plugin_get_state(p);
	g_auto(GStrv) fmts = NULL;
	g_auto(GStrv) holders = NULL;

	if (!pi)
		return;	/* another plugin in the directories: not ours */
	fmts = iopgt_plugin_dup_formats(p);
	holders = iopgt_plugin_dup_holders(p);
	lr->seen++;
	g_assert_cmpstr(iopgt_plugin_get_name(p), ==, pi->name);
	g_assert_cmpstr(iopgt_plugin_get_path(p), ==, pi->path);
	g_assert_false(iopgt_plugin_is_builtin(p));
	if (s != IOPGT_PLUGIN_GOING)
		assert_state_legal(pi, s);
	if (!strv_is_empty(fmts))
		assert_formats(pi, fmts);
	/* "LABEL (FORMAT)", FORMAT one of the plugin's */
	for (char **h = holders; *h; h++) {
		const char *open = strrchr(*h, '(');
		g_autofree char *fmt = NULL;

		g_assert_nonnull(open);
		fmt = g_strndup(open + 1, strlen(open + 1) - 1);
		g_assert_true(g_strv_contains((const char *const *)
					      pi->formats, fmt));
	}
}

static gpointer lister(gpointer data)
{
	struct thread_ctx *tc = data;
	struct stress *st = tc->st;

	while (!st->stop) {
		struct list_round lr = { .st = st };

		pthread_rwlock_rdlock(&st->quiesce);
		iopgt_host_foreach_plugin(st->host, list_one, &lr);
		pthread_rwlock_unlock(&st->quiesce);
		g_assert_cmpuint(lr.seen, ==, N_PLUGINS);
		st->n.lists++;
		g_thread_yield();
	}
	return NULL;
}

/* "info NAME": lookups and getters outside any lock of ours or the host's. */
static void info_one(struct stress *st, const struct plugin_info *pi)
{
	struct iopgt_plugin *p = iopgt_host_find_plugin(st->host, pi->name);
	g_auto(GStrv) fmts = NULL;
	g_auto(GStrv) holders = NULL;
	g_auto(GStrv) provides = NULL;
	enum iopgt_plugin_state s;
	const char *v;

	g_assert_true(p == pi->record);
	g_assert_cmpstr(iopgt_plugin_get_name(p), ==, pi->name);
	g_assert_cmpstr(iopgt_plugin_get_path(p), ==, pi->path);
	/* unlocked, an unload in progress may show: it is in the middle of
	 * one locked section, which the lister never sees */
	s = iopgt_plugin_get_state(p);
	if (s != IOPGT_PLUGIN_GOING)
		assert_state_legal(pi, s);
	v = iopgt_plugin_get_version(p);
	g_assert_true(!v || *v);
	v = iopgt_plugin_get_description(p);
	g_assert_true(!v || *v);
	v = iopgt_plugin_get_license(p);
	g_assert_true(!v || *v);
	g_assert_cmpint(iopgt_plugin_get_refcount(p), >=, 0);
	g_assert_cmpint(iopgt_plugin_get_load_index(p), >=, -1);
	fmts = iopgt_plugin_dup_formats(p);
	assert_formats(pi, fmts);
	holders = iopgt_plugin_dup_holders(p);
	g_assert_nonnull(holders);
	/* what the file says, read at the scan: it provides what it
	 * registers, unless it carries no metadata */
	provides = iopgt_plugin_dup_provides(p);
	for (char **f = pi->formats; provides[0] && *f; f++)
		g_assert_true(g_strv_contains((const char *const *)provides,
					      *f));
	v = iopgt_plugin_get_file_info(p, "name");
	g_assert_true(!v || !strcmp(v, pi->name));

	for (char **f = pi->formats; *f; f++) {
		const struct format_info *fi = find_format_info(st, *f);
		struct iopgt_plugin *q = iopgt_host_find_format(st->host, *f);
		struct iopgt_cfg cfg = { 0 };
		int ret;

		g_assert_true(!q || q == p);
		ret = iopgt_host_get_format_defaults(st->host, *f, &cfg);
		if (ret == -ENOENT)
			continue;
		g_assert_cmpint(ret, ==, 0);
		g_assert_cmpuint(cfg.ias, ==, fi->ias);
		g_assert_cmpuint(cfg.oas, ==, fi->oas);
		g_assert_cmphex(cfg.pgsize_bitmap, ==, fi->pgsizes);
	}
}

static gpointer informer(gpointer data)
{
	struct thread_ctx *tc = data;
	struct stress *st = tc->st;

	while (!st->stop) {
		unsigned int i = g_rand_int_range(tc->rand, 0, N_PLUGINS);

		pthread_rwlock_rdlock(&st->quiesce);
		info_one(st, &st->plugins[i]);
		pthread_rwlock_unlock(&st->quiesce);
		st->n.infos++;
		g_thread_yield();
	}
	return NULL;
}

/* ---- mappers: disjoint windows of the shared tables ---------------------- */

/*
 * Mapper t's window in region r: WINDOW_PAGES granules at
 * r * stride + t * window.  Regions are 2M apart where the ias allows
 * (so the windows of one region share a last-level table and the regions
 * do not), back to back in a small ias.  Returns: the number of regions.
 */
static unsigned int mapper_geometry(const struct stress *st,
				    const struct iopgt_pgtable *pgt,
				    unsigned long *window,
				    unsigned long *stride)
{
	unsigned long span = 1UL << MIN(pgt->cfg.ias, 48u);

	*window = WINDOW_PAGES * lowest_pgsize(pgt->cfg.pgsize_bitmap);
	*stride = *window * st->mappers;
	if (REGIONS * SZ_2M <= span && *stride <= SZ_2M)
		*stride = SZ_2M;
	g_assert_cmpuint(*stride, <=, span);
	return MIN(REGIONS, span / *stride);
}

static void mapper_batch(struct thread_ctx *tc, struct iopgt_pgtable *pgt)
{
	struct stress *st = tc->st;
	unsigned long gran = lowest_pgsize(pgt->cfg.pgsize_bitmap);
	unsigned long window, stride;
	unsigned int r = g_rand_int_range(
		tc->rand, 0, mapper_geometry(st, pgt, &window, &stride));
	unsigned long base = r * stride + tc->id * window;
	unsigned int first = g_rand_int_range(tc->rand, 0, WINDOW_PAGES);
	unsigned int pages = g_rand_int_range(tc->rand, 1,
					      WINDOW_PAGES - first + 1);
	unsigned long iova = base + first * gran;
	size_t size = pages * gran;
	/* paddr below 4 GiB for every oas; distinct per mapper */
	uint64_t pa = ((uint64_t)tc->id << 28 | (uint64_t)r << 24) +
		      first * gran;

	/* nobody else wrote into this window: it is empty between batches */
	for (unsigned int k = 0; k < WINDOW_PAGES; k++)
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(st->host, pgt,
							   base + k * gran),
				==, 0);
	g_assert_cmpint(iopgt_pgtable_map(st->host, pgt, iova, pa, size, RW),
			==, 0);
	for (unsigned int k = 0; k < pages; k++)
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(st->host, pgt,
							   iova + k * gran + 7),
				==, pa + k * gran + 7);
	g_assert_cmpuint(iopgt_pgtable_unmap(st->host, pgt, iova, size, NULL),
			 ==, size);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(st->host, pgt, iova), ==, 0);
	st->n.shared_maps++;
}

static gpointer mapper(gpointer data)
{
	struct thread_ctx *tc = data;
	struct stress *st = tc->st;

	while (!st->stop) {
		pthread_rwlock_rdlock(&st->quiesce);
		mapper_batch(tc, st->shared[g_rand_int_range(
			tc->rand, 0, st->n_shared)].pgt);
		pthread_rwlock_unlock(&st->quiesce);
		g_thread_yield();
	}
	return NULL;
}

/* ---- checkpoints --------------------------------------------------------- */

/*
 * Everybody is parked outside the host (quiesce held exclusively, or all
 * threads joined): the only live tables are the shared ones, exactly.
 */
static void check_quiesced(struct stress *st, unsigned int n_shared)
{
	struct iopgt_mem_stats ms, want = { 0 };
	int refs[N_PLUGINS] = { 0 };
	long users = 0;

	g_assert_cmpint(iopgt_host_get_table_count(st->host), ==, n_shared);
	for (unsigned int i = 0; i < n_shared; i++) {
		struct iopgt_pgtable *pgt = st->shared[i].pgt;
		struct iopgt_plugin *p = iopgt_pgtable_get_plugin(st->host,
								  pgt);
		struct iopgt_mem_stats ts;

		/* no table outlives its plugin code */
		g_assert_cmpint(iopgt_plugin_get_state(p), ==,
				IOPGT_PLUGIN_LOADED);
		assert_code_mapped(pgt);
		/* made by the plugin that provides its format */
		g_assert_cmpint(plugin_index(st, p), ==,
				st->formats[st->shared[i].format].plugin);
		refs[plugin_index(st, p)]++;
		iopgt_pgtable_get_mem_stats(st->host, pgt, &ts);
		want.table_bytes += ts.table_bytes;
		want.table_allocs += ts.table_allocs;
		want.state_bytes += ts.state_bytes;
	}
	for (unsigned int i = 0; i < N_PLUGINS; i++) {
		const struct plugin_info *pi = &st->plugins[i];
		int n = iopgt_plugin_get_refcount(pi->record);

		assert_state_legal(pi, iopgt_plugin_get_state(pi->record));
		if (n != refs[i])
			g_error("%s: refcount %d, but %d live tables are its",
				pi->name, n, refs[i]);
		users += n;
	}
	g_assert_cmpint(users, ==, n_shared);

	/* the memory provider holds what the live tables hold, no more */
	iopgt_host_get_mem_stats(st->host, &ms);
	g_assert_cmpuint(ms.table_bytes, ==, want.table_bytes);
	g_assert_cmpuint(ms.table_allocs, ==, want.table_allocs);
	g_assert_cmpuint(ms.state_bytes, ==, want.state_bytes);
	if (!n_shared) {
		g_assert_cmpuint(ms.table_bytes, ==, 0);
		g_assert_cmpuint(ms.state_bytes, ==, 0);
	}

	/* every refusal the host made was logged once, nothing else was */
	if (st->n.log_warning ||
	    st->n.log_err != st->n.unload_busy + st->n.unload_not_loaded +
			     alloc_races(st)) {
		g_autofree char *dump = log_dump(st);

		g_error("host log: %lu warnings, %lu errors for %lu "
			"refusals; the first warnings and last errors:%s",
			(unsigned long)st->n.log_warning,
			(unsigned long)st->n.log_err,
			(unsigned long)(st->n.unload_busy +
					st->n.unload_not_loaded +
					alloc_races(st)), dump);
	}
	st->n.checks++;
}

static void shared_free(struct stress *st)
{
	for (unsigned int i = 0; i < st->n_shared; i++) {
		iopgt_pgtable_free(st->host, st->shared[i].pgt);
		st->shared[i].pgt = NULL;
	}
}

/* The next n_shared formats in turn, each plugin loaded first. */
static void shared_make(struct stress *st)
{
	for (unsigned int i = 0; i < st->n_shared; i++) {
		unsigned int f = (st->epoch * st->n_shared + i) % st->n_formats;
		const struct format_info *fi = &st->formats[f];
		struct iopgt_cfg cfg = format_cfg(fi, NULL);
		g_autofree char *label = g_strdup_printf("shared%u", i);

		g_assert_cmpint(iopgt_host_load_plugin(
			st->host, st->plugins[fi->plugin].name, NULL), ==, 0);
		g_assert_cmpint(iopgt_pgtable_new(st->host, fi->name, &cfg,
						  NULL, &st->shared[i].pgt),
				==, 0);
		st->shared[i].format = f;
		iopgt_pgtable_set_label(st->host, st->shared[i].pgt, label);
	}
	st->epoch++;
}

static void checkpoint(struct stress *st)
{
	pthread_rwlock_wrlock(&st->quiesce);
	check_quiesced(st, st->n_shared);
	shared_free(st);
	check_quiesced(st, 0);
	shared_make(st);
	pthread_rwlock_unlock(&st->quiesce);
}

static gpointer checker(gpointer data)
{
	struct thread_ctx *tc = data;
	struct stress *st = tc->st;

	while (!st->stop) {
		for (unsigned int ms = 0; ms < st->check_ms && !st->stop;
		     ms += 5)
			g_usleep(5000);
		if (!st->stop)
			checkpoint(st);
	}
	return NULL;
}

/* ---- setup --------------------------------------------------------------- */

static const char *plugin_dir_of(unsigned int i)
{
	static char *good;

	if (!pool[i].fixture)
		return test_plugin_dir();
	if (!good)
		good = g_build_filename(test_fixture_dir(), "good", NULL);
	return good;
}

/*
 * What each plugin provides, learnt from a throw-away host with probing
 * off, so the stress host starts with nothing loaded and nothing probed.
 */
static void learn_formats(struct stress *st)
{
	struct iopgt_host *h = iopgt_host_new();

	iopgt_host_set_probe(h, false);
	for (unsigned int i = 0; i < N_PLUGINS; i++) {
		g_autofree char *file = g_strconcat(pool[i].name, ".so", NULL);
		g_autofree char *path = g_build_filename(plugin_dir_of(i),
							 file, NULL);
		struct plugin_info *pi = &st->plugins[i];
		struct iopgt_plugin *p = NULL;

		pi->name = pool[i].name;
		g_assert_cmpint(iopgt_host_load_plugin_file(h, path, &p), ==,
				0);
		pi->formats = iopgt_plugin_dup_formats(p);
		g_assert_cmpuint(g_strv_length(pi->formats), >=, 1);
		g_assert_cmpuint(g_strv_length(pi->formats), <=, MAX_FORMATS);
		for (char **f = pi->formats; *f; f++) {
			struct format_info *fi = &st->formats[st->n_formats++];
			struct iopgt_cfg cfg = { 0 };

			g_assert_cmpint(iopgt_host_get_format_defaults(h, *f,
								       &cfg),
					==, 0);
			fi->name = g_strdup(*f);
			fi->plugin = i;
			fi->ias = cfg.ias;
			fi->oas = cfg.oas;
			fi->pgsizes = cfg.pgsize_bitmap;
		}
		g_assert_cmpint(iopgt_host_unload_plugin(h, pi->name), ==, 0);
	}
	g_assert_null(iopgt_host_unref(h));
}

/*
 * Probing stays on: it is the default, and the host must keep its promise
 * of one probe per file however many threads race to load it first
 * (checked at the end).  The first loads happen in the workers, so the
 * probe's fork() runs in a threaded process.  Both settings were run
 * under ThreadSanitizer: neither gives a report (the host holds its loader
 * lock across fork and the child only dlopens, writes and exits), and
 * probing costs five forks per run.  IOPGT_STRESS_PROBE=0 turns it off
 * for comparison.
 *
 * Except under ThreadSanitizer: its runtime's own locks may be held by
 * another thread at fork(), and a child that then calls into the runtime
 * (dlopen is intercepted) can hang until the probe times out.  A CI run
 * hit exactly that: io-pgtable-arm-v7s blacklisted after 5000 ms "in
 * dlopen".  glibc itself resets its loader lock in the child; TSan does
 * not promise fork safety for threaded programs.
 */
#if defined(__SANITIZE_THREAD__)
#define STRESS_PROBE_DEFAULT	0
#else
#define STRESS_PROBE_DEFAULT	1
#endif

static void setup(struct stress *st)
{
	st->probe = env_uint("IOPGT_STRESS_PROBE", STRESS_PROBE_DEFAULT) != 0;
	learn_formats(st);

	st->host = iopgt_host_new();
	iopgt_host_set_log_fn(st->host, stress_log, st);
	iopgt_host_set_log_priority(st->host, IOPGT_LOG_WARNING);
	iopgt_host_set_probe(st->host, st->probe);
	g_assert_cmpint(iopgt_host_add_plugin_dir(st->host, test_plugin_dir()),
			==, 0);
	g_assert_cmpint(iopgt_host_add_plugin_dir(st->host, plugin_dir_of(2)),
			==, 0);
	g_assert_cmpint(iopgt_host_scan(st->host), >=, (int)N_PLUGINS);
	for (unsigned int i = 0; i < N_PLUGINS; i++) {
		struct plugin_info *pi = &st->plugins[i];

		pi->record = iopgt_host_find_plugin(st->host, pi->name);
		g_assert_nonnull(pi->record);
		g_assert_cmpint(iopgt_plugin_get_state(pi->record), ==,
				IOPGT_PLUGIN_DISCOVERED);
		pi->path = g_strdup(iopgt_plugin_get_path(pi->record));
	}
}

static void teardown(struct stress *st)
{
	g_assert_null(iopgt_host_unref(st->host));
	for (unsigned int i = 0; i < N_PLUGINS; i++) {
		g_free(st->plugins[i].path);
		g_strfreev(st->plugins[i].formats);
	}
	for (unsigned int i = 0; i < st->n_formats; i++)
		g_free(st->formats[i].name);
	g_ptr_array_unref(st->log_warnings);
	for (unsigned int i = 0; i < LOG_KEEP; i++)
		g_free(st->log_errors[i]);
	pthread_mutex_destroy(&st->log_lock);
	pthread_rwlock_destroy(&st->quiesce);
}

/* ---- the run ------------------------------------------------------------- */

static void print_figures(struct stress *st, FILE *f, double secs,
			  const char *tail)
{
	unsigned long cycles = st->n.cycles;

	fprintf(f, "stress: %u threads, %lu cycles in %.1f s = %.0f cycles/s, "
		"tables %lu, unload ok/busy/not-loaded %lu/%lu/%lu, "
		"alloc races %lu, shared maps %lu, checks %lu%s\n",
		st->threads, cycles, secs, secs > 0 ? cycles / secs : 0.0,
		(unsigned long)st->n.tables, (unsigned long)st->n.unload_ok,
		(unsigned long)st->n.unload_busy,
		(unsigned long)st->n.unload_not_loaded,
		alloc_races(st),
		(unsigned long)st->n.shared_maps, (unsigned long)st->n.checks,
		tail);
	fflush(f);
}

static struct thread_ctx *spawn(struct stress *st, const char *name,
				GThreadFunc fn, unsigned int id)
{
	struct thread_ctx *tc = g_new0(struct thread_ctx, 1);

	tc->st = st;
	tc->id = id;
	/* g_test_rand_int is not thread-safe: seed here, in the main thread */
	tc->rand = g_rand_new_with_seed(g_test_rand_int());
	tc->thread = g_thread_new(name, fn, tc);
	return tc;
}

static void reap(gpointer data, gpointer unused)
{
	struct thread_ctx *tc = data;

	(void)unused;
	g_thread_join(tc->thread);
	g_rand_free(tc->rand);
	g_free(tc);
}

/* Wait for the workers, telling a terminal how it goes once a second. */
static void wait_workers(struct stress *st, gint64 t0)
{
	bool tty = isatty(STDERR_FILENO);
	gint64 deadline = t0 + (gint64)st->soak * G_USEC_PER_SEC;
	gint64 next = t0 + G_USEC_PER_SEC;

	while (st->workers_left) {
		gint64 now = g_get_monotonic_time();

		if (st->soak && now >= deadline)
			st->stop_workers = 1;
		if (tty && now >= next) {
			print_figures(st, stderr, (now - t0) / 1e6, " ...");
			next += G_USEC_PER_SEC;
		}
		g_usleep(20000);
	}
}

static void final_checks(struct stress *st)
{
	struct iopgt_probe_stats ps;
	unsigned int ever_loaded = 0;

	check_quiesced(st, st->n_shared);
	shared_free(st);
	check_quiesced(st, 0);

	g_assert_cmpuint(st->n.loads, ==, st->n.cycles);
	g_assert_cmpuint(st->n.unload_ok + st->n.unload_busy +
			 st->n.unload_not_loaded, >=, st->n.cycles);

	/* one probe per file, however many threads raced to load it */
	iopgt_host_get_probe_stats(st->host, &ps);
	for (unsigned int i = 0; i < N_PLUGINS; i++)
		if (iopgt_plugin_get_load_index(st->plugins[i].record) >= 0)
			ever_loaded++;
	g_assert_cmpuint(ps.blacklisted, ==, 0);
	g_assert_cmpuint(ps.probes, ==, st->probe ? ever_loaded : 0);

	/* and everything really goes: dlclose, not RESIDENT */
	iopgt_host_unload_all(st->host);
	for (unsigned int i = 0; i < N_PLUGINS; i++) {
		struct iopgt_plugin *p = st->plugins[i].record;
		enum iopgt_plugin_state s = iopgt_plugin_get_state(p);

		g_assert_true(s == IOPGT_PLUGIN_UNLOADED ||
			      s == IOPGT_PLUGIN_DISCOVERED);
		g_assert_cmpint(iopgt_plugin_get_refcount(p), ==, 0);
	}
	g_test_message("probes %u, probe cache hits %u, loads %lu, formats "
		       "raced %lu, ranges %lu, lists %lu, infos %lu",
		       ps.probes, ps.cache_hits, (unsigned long)st->n.loads,
		       (unsigned long)st->n.formats_raced,
		       (unsigned long)st->n.ranges, (unsigned long)st->n.lists,
		       (unsigned long)st->n.infos);
}

static void test_churn(void)
{
	struct stress st = {
		.threads = opt_or_env(opt_threads, "IOPGT_STRESS_THREADS", 8),
		.cycles = opt_or_env(opt_cycles, "IOPGT_STRESS_CYCLES", 1000),
		.soak = opt_or_env(opt_soak, "IOPGT_STRESS_SOAK", 0),
		.mappers = env_uint("IOPGT_STRESS_MAPPERS", 2),
		.n_shared = env_uint("IOPGT_STRESS_SHARED", 2),
		.check_ms = env_uint("IOPGT_STRESS_CHECK_MS", 20),
		.log_warnings = g_ptr_array_new_with_free_func(g_free),
	};
	pthread_rwlockattr_t attr;
	GPtrArray *chaos = g_ptr_array_new();
	GPtrArray *workers = g_ptr_array_new();
	gint64 t0;
	double secs;

	g_test_summary("Threads loop load, alloc every format, map random "
		       "ranges, free, unload, while others unload, list, "
		       "read info and map into shared tables; the refcounts, "
		       "table count and memory balance at every checkpoint");
	g_assert_cmpuint(st.threads, >=, 1);
	g_assert_cmpuint(st.mappers, >=, 1);
	g_assert_cmpuint(st.mappers, <=, MAX_MAPPERS);
	g_assert_cmpuint(st.n_shared, >=, 1);
	g_assert_cmpuint(st.n_shared, <=, MAX_SHARED);
	pthread_mutex_init(&st.log_lock, NULL);
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st.quiesce, &attr);
	pthread_rwlockattr_destroy(&attr);
	setup(&st);
	shared_make(&st);

	t0 = g_get_monotonic_time();
	st.workers_left = st.threads;
	g_ptr_array_add(chaos, spawn(&st, "unloader", unloader, 0));
	g_ptr_array_add(chaos, spawn(&st, "lister", lister, 0));
	g_ptr_array_add(chaos, spawn(&st, "informer", informer, 0));
	g_ptr_array_add(chaos, spawn(&st, "checker", checker, 0));
	for (unsigned int i = 0; i < st.mappers; i++)
		g_ptr_array_add(chaos, spawn(&st, "mapper", mapper, i));
	for (unsigned int i = 0; i < st.threads; i++)
		g_ptr_array_add(workers, spawn(&st, "worker", worker, i));

	wait_workers(&st, t0);
	g_ptr_array_foreach(workers, reap, NULL);
	secs = (g_get_monotonic_time() - t0) / 1e6;
	st.stop = 1;
	g_ptr_array_foreach(chaos, reap, NULL);
	g_ptr_array_unref(workers);
	g_ptr_array_unref(chaos);

	final_checks(&st);
	if (!st.soak)
		g_assert_cmpuint(st.n.cycles, ==,
				 (unsigned long)st.threads * st.cycles);
	print_figures(&st, stderr, secs, ", invariants held");
	teardown(&st);
}

int main(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new(NULL);
	GError *error = NULL;

	/* our options first; g_test_init() gets (and checks) the rest */
	g_option_context_add_main_entries(ctx, stress_options, NULL);
	g_option_context_set_ignore_unknown_options(ctx, TRUE);
	g_option_context_set_help_enabled(ctx, FALSE);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[i], "-?")) {
			g_autofree char *help = g_option_context_get_help(
				ctx, TRUE, NULL);

			g_print("%s\n", help);
		}
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	g_option_context_free(ctx);

	g_test_init(&argc, &argv, NULL);
	if (opt_soak > 0 || env_uint("IOPGT_STRESS_SOAK", 0))
		g_test_add_func("/host/stress/soak", test_churn);
	else
		g_test_add_func("/host/stress/load-alloc-map-free-unload-churn",
				test_churn);
	return g_test_run();
}
