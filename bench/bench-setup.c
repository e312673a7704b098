// SPDX-License-Identifier: MIT
/*
 * The host the benchmark runs on: the bundled plugins from the directory
 * installed next to the executable (as iopgt-host finds them) or
 * --plugin-dir, loaded with the default trust checks and probing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "bench.h"

/* ---- setup --------------------------------------------------------------- */

/* DIR relative to the executable's prefix, as iopgt-host resolves it. */
char *bench_prefix_path(const char *subdir)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *bindir = NULL;

	if (!exe)
		return NULL;
	bindir = g_path_get_dirname(exe);
	return g_build_filename(bindir, IOPGT_BIN_TO_PREFIX, subdir, NULL);
}

char *bench_exe_sibling(const char *name)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *bindir = NULL;

	if (!exe)
		return NULL;
	bindir = g_path_get_dirname(exe);
	return g_build_filename(bindir, name, NULL);
}

static const char *const needed_formats[] = {
	"arm-64-lpae-s1", "arm-64-lpae-s2", "arm-v7s",
};

/* A host with the format plugins loaded.  *ms: how long that took. */
static int host_new_loaded(const struct bench *b, struct iopgt_host **out,
			   double *ms)
{
	struct iopgt_host *host;
	uint64_t t0, t1;
	int loaded;

	host = iopgt_host_new();
	if (!host)
		return -ENOMEM;
	t0 = bench_now_ns();
	for (char **d = b->opt.plugin_dirs; d && *d; d++)
		iopgt_host_add_plugin_dir(host, *d);
	if (!b->opt.plugin_dirs && b->plugin_dir)
		iopgt_host_add_plugin_dir(host, b->plugin_dir);
	iopgt_host_scan(host);
	loaded = iopgt_host_load_all(host);
	t1 = bench_now_ns();
	if (loaded < 0) {
		iopgt_host_unref(host);
		return loaded;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(needed_formats); i++) {
		if (!iopgt_host_find_format(host, needed_formats[i])) {
			fprintf(stderr, "iopgt-bench: no plugin provides '%s' "
				"in %s (--plugin-dir)\n", needed_formats[i],
				b->plugin_dir ? b->plugin_dir : "(none)");
			iopgt_host_unref(host);
			return -ENOENT;
		}
	}
	*out = host;
	*ms = (double)(t1 - t0) / 1e6;
	return loaded;
}

struct iopgt_host *bench_host_new(const struct bench *b)
{
	struct iopgt_host *host;
	double ms;

	return host_new_loaded(b, &host, &ms) < 0 ? NULL : host;
}

int bench_setup_host(struct bench *b)
{
	double ms;
	int loaded;

	loaded = host_new_loaded(b, &b->host, &ms);
	if (loaded < 0)
		return loaded;
	if (!b->opt.callgrind && !b->json)
		printf("host start-up: scan + load_all of %d plugins in "
		       "%.2f ms\n", loaded, ms);
	return 0;
}
