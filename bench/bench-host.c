// SPDX-License-Identifier: MIT
/*
 * Host costs: what the plugin machinery adds on top of the dynamic loader.
 *
 *  - A plugin cycle, iopgt_host_load_plugin_file() (open, descriptor
 *    checks, register_fn) then iopgt_host_unload_plugin() (drop formats,
 *    unregister_fn, dlclose), against a bare dlopen + dlsym + dlclose of
 *    the same file.
 *  - `iopgt-host list` start-up with 0, 1, 10 and 100 plugins in the
 *    plugin directory, as a user runs it (a new process each time).
 *
 * This file includes <dlfcn.h>.  In the host library only host/loader.c
 * may touch the dynamic loader; iopgt-bench is a separate program, and the
 * bare dlopen here is the baseline the loader is measured against.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bench.h"

#define CYCLES		100u	/* plugin cycles per timed run */
#define CYCLES_SMALL	4u	/* under --tiny and --callgrind */

/* ---- plugin cycles ------------------------------------------------------- */

static bench_noinline unsigned int bench_plugin_cycle(struct iopgt_host *host,
						  const char *path,
						  const char *name,
						  unsigned int n)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (iopgt_host_load_plugin_file(host, path, NULL)) {
			bad++;
			continue;
		}
		bad += iopgt_host_unload_plugin(host, name) != 0;
	}
	return bad;
}

static bench_noinline unsigned int bench_dlopen_cycle(const char *path,
						  unsigned int n)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < n; i++) {
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			bad++;
			continue;
		}
		bad += !dlsym(h, IOPGT_PLUGIN_SYMBOL);
		dlclose(h);
	}
	return bad;
}

/* Is a file already mapped into this process?  Then dlopen costs nothing
 * and the cycle would measure a reference count. */
static bool already_mapped(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);

	if (!h)
		return false;
	dlclose(h);
	return true;
}

static unsigned int cycles_per_run(const struct bench *b)
{
	return b->opt.tiny || b->opt.callgrind ? CYCLES_SMALL : CYCLES;
}

static void cycle_plugin(struct bench *b, const char *path)
{
	unsigned int total = b->opt.warmup + b->opt.runs, n = cycles_per_run(b);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *name = g_strndup(base, strlen(base) - 3);
	g_autofree char *row = g_strdup_printf("cycle-%s", name);
	g_autofree char *row_bare = g_strdup_printf("dlopen-%s", name);
	g_autofree double *host_ns = g_new(double, total);
	g_autofree double *bare_ns = g_new(double, total);
	g_autofree double *host_cpu = g_new(double, total);
	g_autofree double *bare_cpu = g_new(double, total);
	g_autofree char *note = NULL;
	struct iopgt_host *host;
	struct bench_row out = {
		.unit = "cycle",
		.units = n,
		.table_bytes = -1,
		.blocks = -1,
	};
	struct bench_stats hs, bs, hc, bc;
	struct iopgt_probe_stats ps;

	if (!bench_row_selected(b, row, NULL) &&
	    !bench_row_selected(b, row_bare, NULL))
		return;
	if (access(path, R_OK)) {
		bench_note(b, "%s: skipped, %s: %s", row, path,
			   g_strerror(errno));
		return;
	}
	if (already_mapped(path)) {
		bench_note(b, "%s: skipped, %s is already loaded in this "
			   "process", row, path);
		return;
	}
	host = iopgt_host_new();
	if (b->opt.callgrind) {
		/* first load outside: a probe (if any) and lazy binding */
		b->failures += bench_plugin_cycle(host, path, name, 1);
		b->failures += bench_dlopen_cycle(path, 1);
		b->failures += bench_plugin_cycle(host, path, name, n);
		b->failures += bench_dlopen_cycle(path, n);
		printf("%-36s %8u %-6s\n", "bench_plugin_cycle", n, "cycle");
		printf("%-36s %8u %-6s\n", "bench_dlopen_cycle", n, "cycle");
		iopgt_host_unref(host);
		return;
	}
	for (unsigned int run = 0; run < total; run++) {
		uint64_t t0, t1, t2, c0, c1, c2;

		bench_progress(b, row, run + 1, total);
		c0 = bench_cpu_ns();
		t0 = bench_now_ns();
		b->failures += bench_plugin_cycle(host, path, name, n);
		t1 = bench_now_ns();
		c1 = bench_cpu_ns();
		b->failures += bench_dlopen_cycle(path, n);
		t2 = bench_now_ns();
		c2 = bench_cpu_ns();
		host_ns[run] = (double)(t1 - t0) / n;
		bare_ns[run] = (double)(t2 - t1) / n;
		host_cpu[run] = (double)(c1 - c0) / n;
		bare_cpu[run] = (double)(c2 - c1) / n;
	}
	bench_progress_done(b);
	iopgt_host_get_probe_stats(host, &ps);
	iopgt_host_unref(host);

	bench_stats_of(host_ns + b->opt.warmup, b->opt.runs, &hs);
	bench_stats_of(bare_ns + b->opt.warmup, b->opt.runs, &bs);
	bench_stats_of(host_cpu + b->opt.warmup, b->opt.runs, &hc);
	bench_stats_of(bare_cpu + b->opt.warmup, b->opt.runs, &bc);
	note = g_strdup_printf("%.2fx wall, %.2fx cpu of a bare dlopen + "
			       "dlsym + dlclose", hs.median / bs.median,
			       hc.median / bc.median);
	out.row = row;
	out.what = "host load + register + unregister + unload";
	out.ns = hs;
	out.cpu = hc;
	out.note = note;
	bench_report_row(b, &out);
	out.row = row_bare;
	out.what = "bare dlopen + dlsym + dlclose";
	out.ns = bs;
	out.cpu = bc;
	out.note = NULL;
	bench_report_row(b, &out);
	/* the first load of the file in this host ran the crash probe */
	bench_report_value(b, row,
			   "%u probe%s (%.2f ms each), %u cache hits over %u "
			   "loads", ps.probes, ps.probes == 1 ? "" : "s",
			   ps.probes ? (double)ps.probe_ns / ps.probes / 1e6 :
				       0.0,
			   ps.cache_hits, total * n);
}

/* ---- `iopgt-host list` start-up ------------------------------------------ */

/* Lines of `list` output whose state column says "loaded". */
static int count_loaded(const char *out)
{
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	int n = 0;

	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit_set(*l, " ", -1);
		int col = 0;

		for (char **w = f; *w; w++) {
			if (!**w)
				continue;
			if (++col == 2) {
				n += !strcmp(*w, "loaded");
				break;
			}
		}
	}
	return n;
}

/* How `list` treats plugins it has not seen in this process. */
enum list_mode {
	LIST_WARM,		/* probe results from a warm cache file */
	LIST_COLD,		/* no cache: every plugin probed in a child */
	LIST_NO_PROBE,		/* --no-probe */
	NR_LIST_MODES,
};

static const char *const list_mode_suffix[NR_LIST_MODES] = {
	[LIST_WARM] = "",
	[LIST_COLD] = "-cold",
	[LIST_NO_PROBE] = "-noprobe",
};

static const char *const list_mode_what[NR_LIST_MODES] = {
	[LIST_WARM] = "warm probe cache",
	[LIST_COLD] = "no cache: probes all",
	[LIST_NO_PROBE] = "--no-probe",
};

/*
 * Run the CLI once (dir NULL: `--version`, the process start-up alone).
 * The cache file is ours (cache), never the user's.  *cpu: the user +
 * system time of the process and its probe children.
 * Returns: wall ns, or 0 if it failed or loaded other than expect plugins.
 */
static uint64_t children_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	       1000000000ull + (uint64_t)(ru.ru_utime.tv_usec +
					  ru.ru_stime.tv_usec) * 1000ull;
}

static uint64_t spawn_cli(struct bench *b, const char *dir, int expect,
			  enum list_mode mode, const char *cache,
			  uint64_t *cpu)
{
	g_auto(GStrv) envp = g_get_environ();
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;
	uint64_t t0, t1, c0;
	int status;
	gboolean ok;

	g_ptr_array_add(argv, b->opt.cli);
	if (!dir) {
		g_ptr_array_add(argv, "--version");
	} else {
		if (mode == LIST_WARM) {
			g_ptr_array_add(argv, "--cache");
			g_ptr_array_add(argv, (char *)cache);
		} else {
			g_ptr_array_add(argv, "--no-cache");
		}
		if (mode == LIST_NO_PROBE)
			g_ptr_array_add(argv, "--no-probe");
		g_ptr_array_add(argv, "--plugin-dir");
		g_ptr_array_add(argv, (char *)dir);
		g_ptr_array_add(argv, "list");
	}
	g_ptr_array_add(argv, NULL);
	/* only the directory under test */
	envp = g_environ_unsetenv(envp, "IOPGT_PLUGIN_PATH");
	c0 = children_cpu_ns();
	t0 = bench_now_ns();
	ok = g_spawn_sync(NULL, (char **)argv->pdata, envp,
			  G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
			  &status, &error);
	t1 = bench_now_ns();
	*cpu = children_cpu_ns() - c0;
	if (!ok || !g_spawn_check_wait_status(status, &error)) {
		fprintf(stderr, "iopgt-bench: %s %s: %s\n", b->opt.cli,
			dir ? dir : "--version", error->message);
		b->failures++;
		return 0;
	}
	if (dir && count_loaded(out) != expect) {
		fprintf(stderr, "iopgt-bench: %s list: %d plugins loaded, "
			"expected %d\n", dir, count_loaded(out), expect);
		b->failures++;
		return 0;
	}
	return t1 - t0;
}

static bool list_row(struct bench *b, const char *row, const char *what,
		     const char *dir, int expect, enum list_mode mode,
		     const char *cache, struct bench_stats *st)
{
	unsigned int total = b->opt.warmup + b->opt.runs;
	g_autofree double *samples = g_new(double, total);
	g_autofree double *cpu = g_new(double, total);
	struct bench_row out = {
		.row = row,
		.what = what,
		.unit = "run",
		.units = 1,
		.table_bytes = -1,
		.blocks = -1,
	};

	if (!bench_row_selected(b, row, NULL))
		return false;
	for (unsigned int run = 0; run < total; run++) {
		uint64_t ns, c;

		bench_progress(b, row, run + 1, total);
		ns = spawn_cli(b, dir, expect, mode, cache, &c);
		if (!ns) {
			bench_progress_done(b);
			return false;
		}
		samples[run] = (double)ns;
		cpu[run] = (double)c;
	}
	bench_progress_done(b);
	bench_stats_of(samples + b->opt.warmup, b->opt.runs, &out.ns);
	bench_stats_of(cpu + b->opt.warmup, b->opt.runs, &out.cpu);
	/* the per-plugin figures use CPU time: a shared machine's wall
	 * clock counts the queue for a CPU too */
	*st = out.cpu;
	bench_report_row(b, &out);
	return true;
}

/* One directory in every mode; st0: the empty directory's figures. */
static void list_dir(struct bench *b, const char *name, const char *what,
		     const char *dir, int n, const char *cache,
		     struct bench_stats *st0)
{
	for (int m = 0; m < NR_LIST_MODES; m++) {
		g_autofree char *row = g_strdup_printf("list-%s%s", name,
						       list_mode_suffix[m]);
		g_autofree char *text = g_strdup_printf("%s, %s", what,
							list_mode_what[m]);
		struct bench_stats st;

		if (!list_row(b, row, text, dir, n, m, cache, &st))
			continue;
		if (!n) {
			st0[m] = st;
		} else if (n > 1 && st0[m].n) {
			g_autofree char *key = g_strdup_printf(
				"per-plugin%s-%d", list_mode_suffix[m], n);

			bench_report_number(b, key,
					    (st.median - st0[m].median) / n /
					    1000.0, "us cpu/plugin");
		}
	}
}

static void list_startup(struct bench *b)
{
	static const int counts[] = { 1, 10, 100 };
	g_autoptr(GError) error = NULL;
	g_autofree char *tmp = NULL;
	g_autofree char *empty = NULL;
	g_autofree char *cache = NULL;
	struct bench_stats st0[NR_LIST_MODES] = { 0 }, st;

	if (!b->opt.cli || access(b->opt.cli, X_OK)) {
		bench_note(b, "list start-up: skipped, no iopgt-host at %s "
			   "(--cli)", b->opt.cli ? b->opt.cli : "(unknown)");
		return;
	}
	list_row(b, "cli-version", "iopgt-host --version (no host)", NULL, 0,
		 LIST_WARM, NULL, &st);
	tmp = g_dir_make_tmp("iopgt-bench-XXXXXX", &error);
	if (!tmp) {
		bench_note(b, "list start-up: no temporary directory: %s",
			   error->message);
		return;
	}
	empty = g_build_filename(tmp, "empty", NULL);
	cache = g_build_filename(tmp, "plugin-cache", NULL);
	g_mkdir(empty, 0700);
	list_dir(b, "0", "iopgt-host list, empty plugin dir", empty, 0, cache,
		 st0);
	if (b->plugin_dir)
		list_dir(b, "bundled", "iopgt-host list, the 2 format plugins",
			 b->plugin_dir, 2, cache, st0);
	if (!b->opt.bench_plugin_dir ||
	    !g_file_test(b->opt.bench_plugin_dir, G_FILE_TEST_IS_DIR)) {
		bench_note(b, "list scaling: skipped, no trivial plugins at %s "
			   "(build with -DIOPGT_BENCH_PLUGINS=ON, or "
			   "--bench-plugins)", b->opt.bench_plugin_dir ?
			   b->opt.bench_plugin_dir : "(unknown)");
	} else {
		for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
			g_autofree char *sub = g_strdup_printf("n%d",
							       counts[i]);
			g_autofree char *name = g_strdup_printf("%d",
								counts[i]);
			g_autofree char *dir = g_build_filename(
				b->opt.bench_plugin_dir, sub, NULL);
			g_autofree char *what = g_strdup_printf(
				"iopgt-host list, %d trivial plugin%s",
				counts[i], counts[i] == 1 ? "" : "s");

			list_dir(b, name, what, dir, counts[i], cache, st0);
		}
	}
	g_unlink(cache);
	g_rmdir(empty);
	g_rmdir(tmp);
}

void bench_run_host_costs(struct bench *b)
{
	static const char *const plugins[] = {
		"io-pgtable-arm.so",
		"io-pgtable-arm-v7s.so",
	};

	bench_section_begin(b, "host", "Host costs: plugin cycles against a "
			    "bare dlopen, and `iopgt-host list` start-up");
	if (b->opt.callgrind) {
		g_autofree char *path = g_build_filename(b->plugin_dir,
							 plugins[0], NULL);

		cycle_plugin(b, path);
		bench_section_end(b);
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(plugins); i++) {
		g_autofree char *path = g_build_filename(b->plugin_dir,
							 plugins[i], NULL);

		cycle_plugin(b, path);
	}
	if (b->opt.bench_plugin_dir) {
		g_autofree char *path = g_build_filename(
			b->opt.bench_plugin_dir, "n1",
			"bench-trivial-001.so", NULL);

		if (g_file_test(path, G_FILE_TEST_EXISTS))
			cycle_plugin(b, path);
	}
	list_startup(b);
	bench_section_end(b);
}
