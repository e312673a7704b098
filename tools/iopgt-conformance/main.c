// SPDX-License-Identifier: MIT
/*
 * iopgt-conformance [--plugin-dir DIR] [--seed N] [--ops N] FORMAT [KEY=VALUE...]
 *
 * Loads FORMAT by name through libiopgt-host, as any program would, and
 * runs the contract checks of checks.c on tables of it, printing TAP: one
 * "ok N - CHECK" or "not ok N - CHECK: why" line per check.
 * Exit status: 0 if every check passed, 1 if one failed, 2 if the format
 * could not be loaded or the command line is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

static gchar **plugin_dirs;
static gint64 opt_seed = 1;
static gint opt_ops = 4000;
static gint opt_threads = 4;
static gboolean opt_split, opt_no_split, opt_verbose, opt_version;

static const GOptionEntry entries[] = {
	{ "plugin-dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &plugin_dirs,
	  "Look for plugins in DIR (repeatable; then IOPGT_PLUGIN_PATH)",
	  "DIR" },
	{ "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed,
	  "Seed of the random workloads (default 1)", "N" },
	{ "ops", 'n', 0, G_OPTION_ARG_INT, &opt_ops,
	  "Random operations (default 4000)", "N" },
	{ "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads,
	  "Threads of the disjoint-range check (default 4)", "N" },
	{ "split-blocks", 0, 0, G_OPTION_ARG_NONE, &opt_split,
	  "The format splits a block when part of it is unmapped", NULL },
	{ "no-split-blocks", 0, 0, G_OPTION_ARG_NONE, &opt_no_split,
	  "The format refuses to unmap part of a block (default)", NULL },
	{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
	  "Say what each workload did", NULL },
	{ "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
	  "Print the version and exit", NULL },
	{ NULL }
};

static bool parse_ul(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return !errno && end != s && !*end;
}

static bool parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no"))
		*out = false;
	else
		return false;
	return true;
}

static bool bad_cfg(const char *arg)
{
	fprintf(stderr, "iopgt-conformance: bad cfg '%s' (keys: pgsize_bitmap, "
		"ias, oas, quirks, coherent_walk)\n", arg);
	return false;
}

/* One KEY=VALUE of the cfg.  Returns: false with a message on stderr. */
static bool parse_cfg(struct iopgt_cfg *cfg, const char *arg)
{
	const char *eq = strchr(arg, '=');
	g_autofree char *key = eq ? g_strndup(arg, eq - arg) : NULL;
	unsigned long v = 0;

	if (!eq) {
		fprintf(stderr, "iopgt-conformance: '%s' is not KEY=VALUE\n",
			arg);
		return false;
	}
	if (!strcmp(key, "coherent_walk"))
		return parse_bool(eq + 1, &cfg->coherent_walk) ||
		       bad_cfg(arg);
	if (!parse_ul(eq + 1, &v))
		return bad_cfg(arg);
	if (!strcmp(key, "pgsize_bitmap"))
		cfg->pgsize_bitmap = v;
	else if (!strcmp(key, "ias") && v <= 64)
		cfg->ias = v;
	else if (!strcmp(key, "oas") && v <= 64)
		cfg->oas = v;
	else if (!strcmp(key, "quirks"))
		cfg->quirks = v;
	else
		return bad_cfg(arg);
	return true;
}

/* Load the plugin whose file says it provides format (else all). */
struct provider {
	const char *format;
	char *name;
};

static void find_provider(struct iopgt_plugin *plugin, void *data)
{
	struct provider *p = data;
	g_auto(GStrv) provides = iopgt_plugin_dup_provides(plugin);

	if (!p->name && provides &&
	    g_strv_contains((const char *const *)provides, p->format))
		p->name = g_strdup(iopgt_plugin_get_name(plugin));
}

static int load_format(struct iopgt_host *host, const char *format)
{
	struct provider p = { .format = format };
	int ret;

	for (char **d = plugin_dirs; d && *d; d++) {
		ret = iopgt_host_add_plugin_dir(host, *d);
		if (ret) {
			fprintf(stderr, "iopgt-conformance: plugin dir %s: "
				"%s\n", *d, g_strerror(-ret));
			return ret;
		}
	}
	ret = iopgt_host_scan(host);
	if (ret < 0)
		return ret;
	iopgt_host_foreach_plugin(host, find_provider, &p);
	if (p.name) {
		ret = iopgt_host_load_plugin(host, p.name, NULL);
		g_free(p.name);
	} else {
		ret = iopgt_host_load_all(host) < 0 ? -ENOENT : 0;
	}
	if (!ret && !iopgt_host_find_format(host, format))
		ret = -ENOENT;
	return ret;
}

static int run(struct conf *c)
{
	unsigned int n = 0, failed = 0;

	while (conf_checks[n].name)
		n++;
	printf("1..%u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		const char *skip = NULL;
		char *why = conf_checks[i].fn(c, &skip);

		if (why) {
			/* TAP: the first line says it, the rest are comments */
			char **lines = g_strsplit(why, "\n", -1);

			printf("not ok %u - %s: %s\n", i + 1,
			       conf_checks[i].name, lines[0]);
			for (char **l = lines + 1; *l; l++)
				if (**l)
					printf("#   %s\n", *l);
			g_strfreev(lines);
			g_free(why);
			failed++;
		} else if (skip) {
			printf("ok %u - %s # SKIP %s\n", i + 1,
			       conf_checks[i].name, skip);
		} else {
			printf("ok %u - %s\n", i + 1, conf_checks[i].name);
		}
		fflush(stdout);
	}
	conf_cleanup(c);
	if (failed)
		printf("# %s: %u of %u checks failed\n", c->format, failed, n);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("FORMAT [KEY=VALUE...]");
	g_autoptr(GError) error = NULL;
	struct conf c = { 0 };
	int ret;

	g_option_context_set_summary(ctx,
		"Check a page-table format plugin against the iopgt format "
		"contract (pgtable.h).\nKEY is pgsize_bitmap, ias, oas, quirks "
		"or coherent_walk; unset ones\ntake the format's defaults.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "iopgt-conformance: %s\n", error->message);
		return 2;
	}
	if (opt_version) {
		printf("iopgt-conformance %s\n", IOPGT_VERSION);
		return 0;
	}
	if (argc < 2 || opt_ops < 1 || opt_threads < 0 ||
	    (opt_split && opt_no_split)) {
		fprintf(stderr, "iopgt-conformance: usage: iopgt-conformance "
			"[OPTION...] FORMAT [KEY=VALUE...] (see --help)\n");
		return 2;
	}
	c.format = argv[1];
	c.seed = (guint32)opt_seed;
	c.ops = opt_ops;
	c.threads = opt_threads;
	c.split_blocks = opt_split;
	c.verbose = opt_verbose;
	c.cfg.coherent_walk = true;
	for (int i = 2; i < argc; i++)
		if (!parse_cfg(&c.cfg, argv[i]))
			return 2;

	c.host = iopgt_host_new();
	if (!c.host)
		return 2;
	/* the checks provoke refusals on purpose: the format's warnings
	 * about them are noise unless asked for */
	if (!opt_verbose && !g_getenv("IOPGT_LOG"))
		iopgt_host_set_log_priority(c.host, IOPGT_LOG_ERR);
	ret = load_format(c.host, c.format);
	if (!ret)
		ret = iopgt_host_get_format_defaults(c.host, c.format, &c.cfg);
	if (ret) {
		fprintf(stderr, "iopgt-conformance: cannot load format %s: "
			"%s\n", c.format, g_strerror(-ret));
		iopgt_host_unref(c.host);
		return 2;
	}
	printf("# %s: pgsize_bitmap 0x%lx ias %u oas %u quirks 0x%lx, seed "
	       "%u, %u ops%s\n", c.format, c.cfg.pgsize_bitmap, c.cfg.ias,
	       c.cfg.oas, c.cfg.quirks, c.seed, c.ops,
	       c.split_blocks ? ", splits blocks" : "");
	ret = run(&c);
	iopgt_host_unload_all(c.host);
	iopgt_host_unref(c.host);
	g_strfreev(plugin_dirs);
	return ret;
}
