// SPDX-License-Identifier: MIT
/*
 * iopgt-bench: how fast libiopgt-host and its format plugins are, measured
 * the way a program uses them (docs/performance.md).
 *
 *   iopgt-bench [--size 1G] [--v7s-size 256M] [--runs 5] [--format s1]...
 *               [--only GLOB]... [--direct] [--host] [--threads] [--scale]
 *               [--all] [--json] [--callgrind] [--tiny]
 *
 * Plugins come from the directory installed next to the executable
 * (../lib/iopgt/plugins, as iopgt-host finds them) unless --plugin-dir
 * says otherwise.  Exit status: 0, 1 if any operation gave a wrong result
 * or table memory differed from what the tables need, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "bench.h"

#define EXIT_WRONG	1
#define EXIT_USAGE	2

/* ---- options ------------------------------------------------------------- */

static char **opt_plugin_dirs;
static char *opt_bench_plugins;
static char *opt_cli;
static char *opt_size;
static char *opt_v7s_size;
static int opt_runs = 5;
static int opt_warmup = 1;
static char **opt_formats;
static char **opt_only;
static gint64 opt_seed = 1;
static gboolean opt_json;
static gboolean opt_callgrind;
static gboolean opt_tiny;
static gboolean opt_direct;
static gboolean opt_host;
static gboolean opt_threads;
static gboolean opt_scale;
static gboolean opt_all;

static const GOptionEntry options[] = {
	{ "plugin-dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_plugin_dirs,
	  "Load plugins from DIR (repeatable; default: the installed dir)",
	  "DIR" },
	{ "size", 's', 0, G_OPTION_ARG_STRING, &opt_size,
	  "Bytes each LPAE row maps (default 1G; a multiple of 2M)", "SIZE" },
	{ "v7s-size", 0, 0, G_OPTION_ARG_STRING, &opt_v7s_size,
	  "Bytes each v7s row maps (default 256M; a multiple of 1M)", "SIZE" },
	{ "runs", 'n', 0, G_OPTION_ARG_INT, &opt_runs,
	  "Timed runs per row; the median is reported (default 5)", "N" },
	{ "warmup", 'w', 0, G_OPTION_ARG_INT, &opt_warmup,
	  "Untimed runs before them (default 1)", "N" },
	{ "format", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &opt_formats,
	  "Only rows of this format: s1, s2, v7s (or the format name), "
	  "s1-16k, s1-64k (granules) (repeatable)", "FMT" },
	{ "only", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &opt_only,
	  "Only rows whose name matches GLOB, e.g. 's1-map-*' (repeatable)",
	  "GLOB" },
	{ "seed", 0, 0, G_OPTION_ARG_INT64, &opt_seed,
	  "Seed of the random lookups (default 1)", "N" },
	{ "direct", 0, 0, G_OPTION_ARG_NONE, &opt_direct,
	  "Compare with the format code linked in and called directly", NULL },
	{ "host", 0, 0, G_OPTION_ARG_NONE, &opt_host,
	  "Plugin load cycles against bare dlopen; `iopgt-host list` "
	  "start-up with 0, 1, 10, 100 plugins", NULL },
	{ "threads", 0, 0, G_OPTION_ARG_NONE, &opt_threads,
	  "Map from 1 and 2 threads on disjoint ranges", NULL },
	{ "scale", 0, 0, G_OPTION_ARG_NONE, &opt_scale,
	  "Map and unmap up to 64 GiB as 4K pages, 1 TiB as 2M and 256 TiB "
	  "as 1G blocks, against the floor", NULL },
	{ "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all,
	  "--direct --host --threads (not --scale)", NULL },
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
	  "Print one JSON document instead of tables", NULL },
	{ "callgrind", 0, 0, G_OPTION_ARG_NONE, &opt_callgrind,
	  "Run each workload once with a small fixed count, for valgrind "
	  "--tool=callgrind (see docs/performance.md)", NULL },
	{ "tiny", 0, 0, G_OPTION_ARG_NONE, &opt_tiny,
	  "Every section, small and once: proves the benchmark works", NULL },
	{ "bench-plugins", 0, 0, G_OPTION_ARG_FILENAME, &opt_bench_plugins,
	  "Directory with n1/, n10/, n100/ trivial plugins (default: "
	  "../lib/iopgt/bench-plugins)", "DIR" },
	{ "cli", 0, 0, G_OPTION_ARG_FILENAME, &opt_cli,
	  "The iopgt-host to time (default: next to this program)", "PATH" },
	{ NULL }
};

static void free_options(void)
{
	g_clear_pointer(&opt_plugin_dirs, g_strfreev);
	g_clear_pointer(&opt_bench_plugins, g_free);
	g_clear_pointer(&opt_cli, g_free);
	g_clear_pointer(&opt_size, g_free);
	g_clear_pointer(&opt_v7s_size, g_free);
	g_clear_pointer(&opt_formats, g_strfreev);
	g_clear_pointer(&opt_only, g_strfreev);
}

/* ---- the machine --------------------------------------------------------- */

static char *cpu_model(void)
{
	g_autofree char *info = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents("/proc/cpuinfo", &info, NULL, NULL))
		return g_strdup("unknown");
	lines = g_strsplit(info, "\n", -1);
	for (char **l = lines; *l; l++) {
		const char *colon = strchr(*l, ':');

		if (g_str_has_prefix(*l, "model name") && colon)
			return g_strstrip(g_strdup(colon + 1));
	}
	return g_strdup("unknown");
}

/* The 1-minute load average: on a shared machine, read it with the times. */
static double load_average(void)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents("/proc/loadavg", &text, NULL, NULL))
		return -1;
	return g_ascii_strtod(text, NULL);
}

static void report_header(struct bench *b)
{
	g_autofree char *cpu = cpu_model();
	g_autofree char *lsize = bench_format_size(b->opt.lpae_size);
	g_autofree char *vsize = bench_format_size(b->opt.v7s_size);
	struct utsname u;

	uname(&u);
	if (b->json) {
		JsonObject *m = json_object_new();
		JsonObject *c = json_object_new();

		json_object_set_string_member(m, "cpu", cpu);
		json_object_set_int_member(m, "cpus", g_get_num_processors());
		json_object_set_string_member(m, "kernel", u.release);
		json_object_set_string_member(m, "arch", u.machine);
		json_object_set_double_member(m, "loadavg", load_average());
		json_object_set_object_member(b->json, "machine", m);
		json_object_set_string_member(c, "plugin_dir",
					      b->plugin_dir ? b->plugin_dir :
					      "");
		json_object_set_int_member(c, "lpae_size", b->opt.lpae_size);
		json_object_set_int_member(c, "v7s_size", b->opt.v7s_size);
		json_object_set_int_member(c, "runs", b->opt.runs);
		json_object_set_int_member(c, "warmup", b->opt.warmup);
		json_object_set_int_member(c, "seed", b->opt.seed);
		json_object_set_object_member(b->json, "config", c);
		return;
	}
	printf("%siopgt-bench %s: %s, %u CPUs, Linux %s %s, load average "
	       "%.2f\n", b->opt.callgrind ? "# " : "", IOPGT_VERSION, cpu,
	       g_get_num_processors(), u.release, u.machine, load_average());
	printf("%splugins: %s; LPAE %s, v7s %s\n", b->opt.callgrind ? "# " : "",
	       b->plugin_dir ? b->plugin_dir : "(none)", lsize, vsize);
}

static int check_options(struct bench *b, GError **error)
{
	struct bench_opts *o = &b->opt;

	o->lpae_size = SZ_1G;
	o->v7s_size = 256 * SZ_1M;
	if (opt_tiny) {
		o->lpae_size = 16 * SZ_1M;
		o->v7s_size = 16 * SZ_1M;
		opt_runs = 1;
		opt_warmup = 0;
	}
	if (opt_size && !bench_parse_size(opt_size, &o->lpae_size, error))
		return -EINVAL;
	if (opt_v7s_size &&
	    !bench_parse_size(opt_v7s_size, &o->v7s_size, error))
		return -EINVAL;
	if (!o->lpae_size || o->lpae_size % SZ_2M ||
	    o->lpae_size > 64 * SZ_1G) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--size must be a multiple of 2M, at most 64G");
		return -EINVAL;
	}
	if (!o->v7s_size || o->v7s_size % SZ_1M ||
	    o->v7s_size > SZ_4G - 0x10000000UL) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--v7s-size must be a multiple of 1M, at most "
			    "3840M");
		return -EINVAL;
	}
	if (opt_runs < 1 || opt_warmup < 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--runs must be at least 1, --warmup at least 0");
		return -EINVAL;
	}
	for (char **f = opt_formats; f && *f; f++) {
		static const char *const keys[][2] = {
			{ "s1", "arm-64-lpae-s1" },
			{ "s2", "arm-64-lpae-s2" },
			{ "v7s", "arm-v7s" },
			{ "s1-16k", "s1-16k" },
			{ "s1-64k", "s1-64k" },
		};
		bool known = false;

		for (size_t k = 0; k < G_N_ELEMENTS(keys) && !known; k++) {
			if (!strcmp(*f, keys[k][0]) ||
			    !strcmp(*f, keys[k][1])) {
				g_free(*f);
				*f = g_strdup(keys[k][0]);
				known = true;
			}
		}
		if (!known) {
			g_set_error(error, G_OPTION_ERROR,
				    G_OPTION_ERROR_BAD_VALUE,
				    "--format %s: not s1, s2, v7s, s1-16k or "
				    "s1-64k", *f);
			return -EINVAL;
		}
	}
	o->plugin_dirs = opt_plugin_dirs;
	o->formats = opt_formats;
	o->only = opt_only;
	o->runs = opt_runs;
	o->warmup = opt_warmup;
	o->seed = (uint64_t)opt_seed;
	o->json = opt_json;
	o->callgrind = opt_callgrind;
	o->tiny = opt_tiny;
	o->direct = opt_direct || opt_all || opt_tiny;
	o->host = opt_host || opt_all || opt_tiny;
	o->threads = opt_threads || opt_all || opt_tiny;
	o->scale = opt_scale || opt_tiny;
	o->progress = isatty(STDERR_FILENO) && !opt_callgrind;
	o->cli = opt_cli ? g_strdup(opt_cli) : bench_exe_sibling("iopgt-host");
	o->bench_plugin_dir = opt_bench_plugins ? g_strdup(opt_bench_plugins) :
			      bench_prefix_path(IOPGT_BENCH_PLUGIN_SUBDIR);
	b->plugin_dir = opt_plugin_dirs ? g_strdup(opt_plugin_dirs[0]) :
			bench_prefix_path(IOPGT_PLUGIN_SUBDIR);
	return 0;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	struct bench b = { 0 };
	GOptionContext *ctx;
	int ret;

	ctx = g_option_context_new(NULL);
	g_option_context_set_summary(ctx,
		"Benchmark libiopgt-host and its format plugins: page-table "
		"operations\nthrough the host (ns per op, table memory), and "
		"optionally the host's\ndispatch overhead, plugin load costs, "
		"threads and scale.");
	g_option_context_set_description(ctx,
		"Instruction counts: valgrind --tool=callgrind "
		"--callgrind-out-file=cg.out iopgt-bench --callgrind, then\n"
		"callgrind_annotate --inclusive=yes cg.out | grep bench_ and "
		"divide by the printed units\n(bench/callgrind.sh does it). "
		"See docs/performance.md.");
	g_option_context_add_main_entries(ctx, options, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) ||
	    check_options(&b, &error) < 0) {
		fprintf(stderr, "iopgt-bench: %s\nTry 'iopgt-bench --help'.\n",
			error->message);
		g_option_context_free(ctx);
		free_options();
		return EXIT_USAGE;
	}
	g_option_context_free(ctx);
	if (argc > 1) {
		fprintf(stderr, "iopgt-bench: unexpected argument '%s'\n",
			argv[1]);
		free_options();
		return EXIT_USAGE;
	}

	if (b.opt.json) {
		b.json = json_object_new();
		json_object_set_string_member(b.json, "program", "iopgt-bench");
		json_object_set_string_member(b.json, "version", IOPGT_VERSION);
		json_object_set_array_member(b.json, "sections",
					     json_array_new());
	}
	report_header(&b);

	/* First, while no plugin is loaded in this process: a load cycle
	 * must really map and unmap the file. */
	if (b.opt.host)
		bench_run_host_costs(&b);

	ret = bench_setup_host(&b);
	if (ret < 0) {
		fprintf(stderr, "iopgt-bench: cannot load the format plugins: "
			"%s\n", g_strerror(-ret));
		b.failures++;
		goto out;
	}
	if (b.opt.callgrind) {
		bench_run_callgrind(&b);
		goto out;
	}
	bench_run_ops(&b);
	bench_run_alloc_free(&b);
	bench_run_memory(&b);
	if (b.opt.direct)
		bench_run_direct(&b);
	if (b.opt.threads)
		bench_run_threads(&b);
	if (b.opt.scale)
		bench_run_scale(&b);

out:
	if (b.json) {
		JsonNode *root = json_node_new(JSON_NODE_OBJECT);
		g_autofree char *text = NULL;

		json_object_set_int_member(b.json, "failures", b.failures);
		json_node_take_object(root, b.json);
		text = json_to_string(root, TRUE);
		printf("%s\n", text);
		json_node_unref(root);
	}
	if (b.failures)
		fprintf(stderr, "iopgt-bench: %u failures\n", b.failures);
	if (b.host)
		iopgt_host_unref(b.host);
	g_free(b.plugin_dir);
	g_free(b.opt.cli);
	g_free(b.opt.bench_plugin_dir);
	free_options();
	return b.failures ? EXIT_WRONG : EXIT_SUCCESS;
}
