// SPDX-License-Identifier: MIT
/*
 * iopgt-host [OPTION]... COMMAND [ARG]
 *
 *   list            plugins in load order: state, refcount, formats
 *   info NAME|FILE  everything known about one plugin
 *   plan            the load order the manifest gives; loads nothing
 *   formats         the formats the plugin files declare; loads nothing
 *   run [FILE|-]    a script of page-table operations (see script.c)
 *   help [COMMAND]  what a command does; `help run`: the script language
 *
 * Exit status: 0 ok, 1 an operation failed, 2 usage error (also a bad
 * option value).  The plugin dir and manifest default to the ones
 * installed next to the executable (../lib/iopgt/plugins,
 * ../share/iopgt/iopgt.conf), which is also the layout of the build tree;
 * installed, they are iopgt_get_default_plugin_dir() and
 * iopgt_get_default_manifest().
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "inspect.h"

static char **opt_plugin_dirs;
static char **opt_add_dirs;
static char **opt_manifests;
static gboolean opt_no_manifest;
static gboolean opt_json;
static gboolean opt_version;
static uint64_t opt_mem;
static int opt_verbose;
static char **opt_trusted_dirs;
static gboolean opt_allow_insecure;
static gboolean opt_no_probe;
static int opt_probe_timeout = -1;
static char *opt_cache;
static gboolean opt_no_cache;
static gboolean opt_no_load;
static gboolean opt_no_autoload;
static struct cli_mem_file opt_mem_file = { .fd = -1 };

static gboolean count_verbose(const char *name, const char *value,
			      gpointer data, GError **error)
{
	(void)name;
	(void)value;
	(void)data;
	(void)error;
	opt_verbose++;
	return TRUE;
}

/*
 * Whether this machine can reserve `bytes` of simulated memory, as the
 * host will at the first table (address space for the memory and one
 * byte of metadata per page): asked now, so a size no run can use is a
 * usage error at once, not a failing `alloc` later.
 */
static bool mem_reservable(uint64_t bytes)
{
	uint64_t need = bytes + (bytes >> 12) + (1ULL << 30);
	void *p;

	if (need < bytes || need > SIZE_MAX)
		return false;
	p = mmap(NULL, need, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	munmap(p, need);
	return true;
}

static gboolean parse_mem(const char *name, const char *value, gpointer data,
			  GError **error)
{
	g_autoptr(GError) e = NULL;

	(void)data;
	if (!cli_parse_u64(value, &opt_mem, &e)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s %s: %s", name, value, e->message);
		return FALSE;
	}
	if (opt_mem < SZ_64K) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s %s: must be at least 64K", name, value);
		return FALSE;
	}
	if (!mem_reservable(opt_mem)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s %s: more than this machine can reserve", name,
			    value);
		return FALSE;
	}
	return TRUE;
}

static gboolean parse_mem_file(const char *name, const char *value,
			       gpointer data, GError **error)
{
	g_autoptr(GError) e = NULL;

	(void)data;
	if (opt_mem_file.path) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: given twice", name);
		return FALSE;
	}
	if (!cli_mem_file_parse(value, &opt_mem_file, &e)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s %s: %s", name, value, e->message);
		return FALSE;
	}
	return TRUE;
}

/*
 * The one list of options: --help prints it, and the man page and the
 * bash completion are tested against it (tests/cli/test-cli.c,
 * /cli/docs/options-agree), so they cannot drift apart.
 */
static const GOptionEntry options[] = {
	{ "plugin-dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_plugin_dirs,
	  "Scan DIR for plugins instead of the default dir (repeatable)",
	  "DIR" },
	{ "add-plugin-dir", 'D', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_add_dirs,
	  "Scan DIR after the default (or --plugin-dir) dirs (repeatable)",
	  "DIR" },
	{ "manifest", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_manifests,
	  "Softdep manifest instead of the installed iopgt.conf (repeatable: "
	  "merged in order)", "FILE" },
	{ "no-manifest", 0, 0, G_OPTION_ARG_NONE, &opt_no_manifest,
	  "Use no manifest at all", NULL },
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
	  "JSON output for list, info, plan and formats", NULL },
	{ "mem", 0, 0, G_OPTION_ARG_CALLBACK, parse_mem,
	  "Simulated physical memory size (default 16G)", "SIZE" },
	{ "mem-file", 0, 0, G_OPTION_ARG_CALLBACK, parse_mem_file,
	  "run: tables in FILE mapped shared, SIZE bytes (default 64M) at "
	  "physical address PA (default 0x80000000)", "FILE[:SIZE][@PA]" },
	{ "trusted-plugin-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY,
	  &opt_trusted_dirs,
	  "Load plugins from DIR without probing them first (repeatable)",
	  "DIR" },
	{ "allow-insecure", 0, 0, G_OPTION_ARG_NONE, &opt_allow_insecure,
	  "Load plugin files writable by group/others or owned by another "
	  "user", NULL },
	{ "no-probe", 0, 0, G_OPTION_ARG_NONE, &opt_no_probe,
	  "Do not probe new plugins in a child process first", NULL },
	{ "probe-timeout", 0, 0, G_OPTION_ARG_INT, &opt_probe_timeout,
	  "Blacklist a plugin whose probe takes longer (default 5000)", "MS" },
	{ "cache", 0, 0, G_OPTION_ARG_FILENAME, &opt_cache,
	  "Probe and metadata cache (default: $XDG_CACHE_HOME/iopgt/"
	  "plugin-cache)", "FILE" },
	{ "no-cache", 0, 0, G_OPTION_ARG_NONE, &opt_no_cache,
	  "Keep probe results in memory only", NULL },
	{ "no-load", 0, 0, G_OPTION_ARG_NONE, &opt_no_load,
	  "info, list: show what the files say without running any of them",
	  NULL },
	{ "no-autoload", 0, 0, G_OPTION_ARG_NONE, &opt_no_autoload,
	  "Do not load a format's plugin on demand", NULL },
	{ "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK,
	  count_verbose, "More output (repeat for debug logs)", NULL },
	{ "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
	  "Print the version and exit", NULL },
	{ 0 }
};

/* ---- defaults relative to the executable ---------------------------------- */

/*
 * PREFIX/SUBDIR for the prefix this executable runs from: the build tree
 * has the install layout, so an uninstalled build finds its own plugins.
 * Installed, this is what iopgt_get_default_plugin_dir() and
 * iopgt_get_default_manifest() say; where the executable cannot be found,
 * those are the answer.  Canonical: no "bin/.." in what is printed.
 */
static char *prefix_path(const char *subdir, const char *fallback)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *bindir = NULL, *path = NULL;

	if (!exe)
		return g_strdup(fallback);
	bindir = g_path_get_dirname(exe);
	path = g_build_filename(bindir, IOPGT_BIN_TO_PREFIX, subdir, NULL);
	return cli_canonical_path(path);
}

/* ---- list ------------------------------------------------------------------ */

/* --no-load: the plugins found, from metadata, none of their code run */
static int cmd_list(struct cli *cli)
{
	if (!opt_no_load)
		iopgt_host_load_all(cli->host);
	cli_print_list(cli);
	return EXIT_OK;
}

/* ---- info ------------------------------------------------------------------ */

static bool is_file_arg(const char *what)
{
	return strchr(what, '/') || g_str_has_suffix(what, ".so");
}

static const char *loaded_or_file(struct iopgt_plugin *p, const char *v,
				  const char *key)
{
	return v ? v : iopgt_plugin_get_file_info(p, key);
}

/*
 * The name the file's metadata gives, if it is not the name the file
 * name gives (rv39.so saying "riscv-sv39"): loading it would fail the
 * descriptor check, so say it before anything runs.
 */
static const char *misnamed(struct iopgt_plugin *p)
{
	const char *meta = iopgt_plugin_get_file_info(p, "name");
	g_autofree char *a = NULL, *b = NULL;

	if (!meta || !iopgt_plugin_get_path(p))
		return NULL;
	a = g_strdelimit(g_strdup(meta), "_", '-');
	b = g_strdelimit(g_strdup(iopgt_plugin_get_name(p)), "_", '-');
	return strcmp(a, b) ? meta : NULL;
}

static void file_info_json(struct cli_json *j, struct iopgt_plugin *p)
{
	static const char *const keys[] = { "name", "version", "abi",
					    "license", "description" };
	g_auto(GStrv) provides = iopgt_plugin_dup_provides(p);
	g_auto(GStrv) softdeps = iopgt_plugin_dup_softdeps(p);

	cli_json_begin_object(j, "file");
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		cli_json_string(j, keys[i],
				iopgt_plugin_get_file_info(p, keys[i]));
	cli_json_strv(j, "provides", provides);
	cli_json_strv(j, "softdeps", softdeps);
	cli_json_string(j, "error", iopgt_plugin_get_info_error(p));
	cli_json_end_object(j);
}

static void print_file_info(struct cli *cli, struct iopgt_plugin *p)
{
	g_auto(GStrv) provides = iopgt_plugin_dup_provides(p);
	g_auto(GStrv) softdeps = iopgt_plugin_dup_softdeps(p);
	g_autofree char *prov = g_strjoinv(" ", provides);
	const char *err = iopgt_plugin_get_info_error(p);
	const char *abi = iopgt_plugin_get_file_info(p, "abi");
	g_autofree char *safe = NULL;

	if (!iopgt_plugin_get_path(p))
		return;
	if (err) {
		safe = cli_escape(err);
		fprintf(cli->out, "%-12s none: %s\n", "file info:", safe);
		return;
	}
	safe = cli_escape(*prov ? prov : "-");
	fprintf(cli->out, "%-12s %s\n", "file abi:", abi ? abi : "-");
	fprintf(cli->out, "%-12s %s\n", "provides:", safe);
	for (char **d = softdeps; *d; d++) {
		g_autofree char *dep = cli_escape(*d);

		fprintf(cli->out, "%-12s %s\n", "softdep:", dep);
	}
}

/* info shows every record, but one that failed to load is a failure */
static int info_status(struct iopgt_plugin *p)
{
	if (misnamed(p))
		return EXIT_FAILED;
	switch (iopgt_plugin_get_state(p)) {
	case IOPGT_PLUGIN_FAILED:
	case IOPGT_PLUGIN_BLACKLISTED:
		return opt_no_load ? EXIT_OK : EXIT_FAILED;
	default:
		return EXIT_OK;
	}
}

static struct iopgt_plugin *info_find(struct cli *cli, const char *what)
{
	struct iopgt_plugin *p = NULL;
	int ret;

	if (opt_no_load && is_file_arg(what)) {
		/* a record for the file itself; nothing of it runs */
		ret = iopgt_host_add_plugin_file(cli->host, what, &p);
		return ret < 0 ? NULL : p;
	}
	if (opt_no_load)
		return iopgt_host_find_plugin(cli->host, what);
	if (is_file_arg(what)) {
		iopgt_host_load_plugin_file(cli->host, what, &p);
		if (!p) {
			g_autofree char *base = g_path_get_basename(what);

			if (g_str_has_suffix(base, ".so"))
				base[strlen(base) - 3] = 0;
			p = iopgt_host_find_plugin(cli->host, base);
		}
		return p;
	}
	iopgt_host_load_plugin(cli->host, what, NULL);
	return iopgt_host_find_plugin(cli->host, what);
}

static void info_json(struct cli *cli, struct iopgt_plugin *p)
{
	struct cli_json *j = cli_json_new();

	cli_json_begin_object(j, NULL);
	cli_plugin_json(j, p);
	file_info_json(j, p);
	cli_json_string(j, "misnamed_as", misnamed(p));
	cli_json_end_object(j);
	cli_json_print(cli, j);
}

static void field(struct cli *cli, const char *label, const char *value)
{
	g_autofree char *safe = cli_escape(value ? value : "-");

	fprintf(cli->out, "%-12s %s\n", label, safe);
}

static void info_text(struct cli *cli, struct iopgt_plugin *p)
{
	g_auto(GStrv) formats = iopgt_plugin_dup_formats(p);
	g_autofree char *path = cli_display_path(iopgt_plugin_get_path(p));

	field(cli, "name:", iopgt_plugin_get_name(p));
	fprintf(cli->out, "%-12s %s\n", "filename:", path ? path : "-");
	/* never loaded: what the file says is all there is */
	field(cli, "version:", loaded_or_file(p, iopgt_plugin_get_version(p),
					      "version"));
	field(cli, "description:", loaded_or_file(p,
		iopgt_plugin_get_description(p), "description"));
	field(cli, "license:", loaded_or_file(p, iopgt_plugin_get_license(p),
					      "license"));
	field(cli, "state:",
	      iopgt_plugin_state_to_string(iopgt_plugin_get_state(p)));
	fprintf(cli->out, "%-12s %d\n", "refcount:",
		iopgt_plugin_get_refcount(p));
	fprintf(cli->out, "%-12s %d\n", "load index:",
		iopgt_plugin_get_load_index(p));
	for (char **f = formats; *f; f++)
		field(cli, "format:", *f);
	if (iopgt_plugin_get_error(p))
		field(cli, "error:", iopgt_plugin_get_error(p));
	print_file_info(cli, p);
}

static int cmd_info(struct cli *cli, const char *what)
{
	struct iopgt_plugin *p = info_find(cli, what);
	g_autofree char *safe = cli_escape(what);
	int status;

	if (!p) {
		cli_err("iopgt-host: info: no plugin '%s'\n", safe);
		return EXIT_FAILED;
	}
	iopgt_plugin_ref(p);
	status = info_status(p);
	if (cli->json)
		info_json(cli, p);
	else
		info_text(cli, p);
	if (misnamed(p)) {
		g_autofree char *path = cli_display_path(iopgt_plugin_get_path(p));
		g_autofree char *meta = cli_escape(misnamed(p));

		cli_err("iopgt-host: %s: the file's metadata names the plugin "
			"'%s': the host will refuse to load it as '%s' (rename "
			"the file %s.so)\n", path, meta, safe, meta);
	}
	iopgt_plugin_unref(p);
	return status;
}

/* ---- formats: who provides what, from the files' metadata ------------------ */

struct format_row {
	char *name;
	GPtrArray *aliases;		/* char * */
	struct iopgt_plugin *plugin;	/* referenced */
};

static void format_row_free(gpointer data)
{
	struct format_row *r = data;

	g_free(r->name);
	g_ptr_array_unref(r->aliases);
	iopgt_plugin_unref(r->plugin);
	g_free(r);
}

static char *fold(const char *name)
{
	return g_strdelimit(g_ascii_strdown(name, -1), "_", '-');
}

/*
 * A plugin declares names and aliases alike ("provides=ARM_V7S",
 * "provides=arm-v7s"): an alias is the one that folds (case, '_') to
 * another name the plugin provides, as Linux's enum names do.
 */
static void collect_formats(struct iopgt_plugin *p, void *data)
{
	GPtrArray *rows = data;
	g_auto(GStrv) provides = iopgt_plugin_dup_provides(p);
	GPtrArray *mine = g_ptr_array_new();

	for (char **f = provides; f && *f; f++) {
		g_autofree char *ff = fold(*f);
		bool alias = false;

		for (char **g = provides; *g && !alias; g++)
			alias = g != f && !strcmp(*g, ff);
		if (alias)
			continue;
		struct format_row *r = g_new0(struct format_row, 1);

		r->name = g_strdup(*f);
		r->aliases = g_ptr_array_new_with_free_func(g_free);
		r->plugin = iopgt_plugin_ref(p);
		g_ptr_array_add(rows, r);
		g_ptr_array_add(mine, r);
	}
	for (char **f = provides; f && *f; f++) {
		g_autofree char *ff = fold(*f);

		for (guint i = 0; i < mine->len; i++) {
			struct format_row *r = g_ptr_array_index(mine, i);

			if (strcmp(r->name, *f) && !strcmp(r->name, ff))
				g_ptr_array_add(r->aliases, g_strdup(*f));
		}
	}
	g_ptr_array_unref(mine);
}

static int row_cmp(gconstpointer a, gconstpointer b)
{
	const struct format_row *x = *(struct format_row *const *)a;
	const struct format_row *y = *(struct format_row *const *)b;

	return strcmp(x->name, y->name);
}

/* "ias=48 oas=48 pgsizes=4K|2M|1G" from the registered format or the
 * plugin file's metadata (nothing is loaded), else NULL; cfg gets the
 * numbers. */
static char *format_defaults(struct cli *cli, const char *name,
			     struct iopgt_cfg *cfg)
{
	g_autofree char *pgsizes = NULL;

	if (iopgt_host_get_format_defaults(cli->host, name, cfg) < 0)
		return NULL;
	pgsizes = cli_format_pgsizes(cfg->pgsize_bitmap);
	return g_strdup_printf("ias=%u oas=%u pgsizes=%s", cfg->ias, cfg->oas,
			       pgsizes);
}

static void format_defaults_json(struct cli_json *j, const char *defaults,
				 const struct iopgt_cfg *cfg)
{
	cli_json_string(j, "defaults", defaults);
	if (!defaults) {
		cli_json_string(j, "ias", NULL);
		cli_json_string(j, "oas", NULL);
		cli_json_string(j, "pgsize_bitmap", NULL);
		return;
	}
	cli_json_u64(j, "ias", cfg->ias);
	cli_json_u64(j, "oas", cfg->oas);
	cli_json_u64(j, "pgsize_bitmap", cfg->pgsize_bitmap);
}

static int cmd_formats(struct cli *cli)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		format_row_free);
	struct cli_json *j = cli->json ? cli_json_new() : NULL;

	iopgt_host_foreach_plugin(cli->host, collect_formats, rows);
	g_ptr_array_sort(rows, row_cmp);
	if (j)
		cli_json_begin_array(j, NULL);
	else
		fprintf(cli->out, "%-20s %-20s %-24s %-7s %s\n", "Format",
			"Aliases", "Plugin", "Foreign", "Defaults");
	for (guint i = 0; i < rows->len; i++) {
		struct format_row *r = g_ptr_array_index(rows, i);
		struct iopgt_cfg cfg = { 0 };
		g_autofree char *defaults = format_defaults(cli, r->name, &cfg);
		g_autofree char *aliases = NULL;
		int foreign = iopgt_host_format_has_foreign(cli->host, r->name);

		g_ptr_array_add(r->aliases, NULL);
		aliases = g_strjoinv(",", (char **)r->aliases->pdata);
		g_ptr_array_remove_index(r->aliases, r->aliases->len - 1);
		if (j) {
			cli_json_begin_object(j, NULL);
			cli_json_string(j, "name", r->name);
			cli_json_strv(j, "aliases", (char **)r->aliases->pdata);
			cli_json_string(j, "plugin",
					iopgt_plugin_get_name(r->plugin));
			format_defaults_json(j, defaults, &cfg);
			if (foreign < 0)
				cli_json_string(j, "foreign", NULL);
			else
				cli_json_bool(j, "foreign", foreign);
			cli_json_end_object(j);
		} else {
			g_autofree char *line = g_strdup_printf(
				"%-20s %-20s %-24s %-7s %s", r->name,
				*aliases ? aliases : "-",
				iopgt_plugin_get_name(r->plugin),
				foreign < 0 ? "-" : foreign ? "yes" : "no",
				defaults ? defaults : "-");
			g_autofree char *safe = cli_escape(line);

			fprintf(cli->out, "%s\n", safe);
		}
	}
	if (j) {
		cli_json_end_array(j);
		cli_json_print(cli, j);
	}
	return EXIT_OK;
}

/* ---- plan ------------------------------------------------------------------ */

static const char *plan_action(enum iopgt_plan_action a)
{
	return a == IOPGT_PLAN_BLACKLISTED ? "blacklisted" : "cycle";
}

static void plan_strv_json(struct cli_json *j, const char *key,
			   const char *const *v)
{
	cli_json_strv(j, key, (char **)v);
}

static void print_plan_json(struct cli *cli, const struct iopgt_plan *plan)
{
	struct cli_json *j = cli_json_new();

	cli_json_begin_object(j, NULL);
	cli_json_begin_array(j, "order");
	for (size_t i = 0; i < plan->n_entries; i++)
		if (plan->entries[i].action == IOPGT_PLAN_LOAD)
			cli_json_string(j, NULL, plan->entries[i].name);
	cli_json_end_array(j);
	cli_json_begin_array(j, "not_loaded");
	for (size_t i = 0; i < plan->n_entries; i++) {
		const struct iopgt_plan_entry *e = &plan->entries[i];

		if (e->action == IOPGT_PLAN_LOAD)
			continue;
		cli_json_begin_object(j, NULL);
		cli_json_string(j, "name", e->name);
		cli_json_string(j, "action", plan_action(e->action));
		cli_json_string(j, "reason", e->reason);
		cli_json_end_object(j);
	}
	cli_json_end_array(j);
	cli_json_begin_array(j, "edges");
	for (size_t i = 0; i < plan->n_edges; i++) {
		cli_json_begin_object(j, NULL);
		cli_json_string(j, "before", plan->edges[i].before);
		cli_json_string(j, "after", plan->edges[i].after);
		cli_json_string(j, "reason", plan->edges[i].reason);
		cli_json_end_object(j);
	}
	cli_json_end_array(j);
	plan_strv_json(j, "overrides", plan->overrides);
	plan_strv_json(j, "warnings", plan->warnings);
	plan_strv_json(j, "errors", plan->errors);
	cli_json_end_object(j);
	cli_json_print(cli, j);
}

static void print_lines(struct cli *cli, const char *prefix,
			const char *const *v)
{
	for (; v && *v; v++) {
		g_autofree char *safe = cli_escape(*v);

		fprintf(cli->out, "%s%s\n", prefix, safe);
	}
}

static void print_plan_text(struct cli *cli, const struct iopgt_plan *plan)
{
	unsigned int n = 0;

	fprintf(cli->out, "load order:\n");
	for (size_t i = 0; i < plan->n_entries; i++) {
		g_autofree char *name = cli_escape(plan->entries[i].name);

		if (plan->entries[i].action == IOPGT_PLAN_LOAD)
			fprintf(cli->out, "  %u. %s\n", ++n, name);
	}
	if (plan->n_edges)
		fprintf(cli->out, "because:\n");
	for (size_t i = 0; i < plan->n_edges; i++) {
		const struct iopgt_plan_edge *e = &plan->edges[i];
		g_autofree char *line = g_strdup_printf("%s before %s: %s",
							e->before, e->after,
							e->reason);
		g_autofree char *safe = cli_escape(line);

		fprintf(cli->out, "  %s\n", safe);
	}
	for (size_t i = 0; i < plan->n_entries; i++) {
		const struct iopgt_plan_entry *e = &plan->entries[i];
		g_autofree char *line = NULL, *safe = NULL;

		if (e->action == IOPGT_PLAN_LOAD)
			continue;
		line = g_strdup_printf("%s: %s", e->name, e->reason);
		safe = cli_escape(line);
		fprintf(cli->out, "not loaded: %s\n", safe);
	}
	print_lines(cli, "override: ", plan->overrides);
	print_lines(cli, "warning: ", plan->warnings);
	print_lines(cli, "error: ", plan->errors);
}

static int cmd_plan(struct cli *cli, bool manifest_ok)
{
	struct iopgt_plan *plan = NULL;
	int ret = iopgt_host_get_plan(cli->host, &plan);
	int status;

	if (ret < 0) {
		cli_err("iopgt-host: plan: %s\n", cli_strerror(-ret));
		return EXIT_FAILED;
	}
	if (cli->json)
		print_plan_json(cli, plan);
	else
		print_plan_text(cli, plan);
	status = (plan->errors && *plan->errors) || !manifest_ok ?
		 EXIT_FAILED : EXIT_OK;
	iopgt_plan_free(plan);
	return status;
}

/* ---- help ------------------------------------------------------------------ */

static const struct command_help {
	const char *name;
	const char *usage;
	const char *text;
} commands[] = {
	{ "list", "list", "Scan the plugin dirs, load every plugin in manifest "
	  "order, and print one line per plugin: name, state, tables using "
	  "it, formats or the reason it failed." },
	{ "info", "info NAME|FILE", "Every field of one plugin, loading it "
	  "first (a FILE directly); with --no-load, what the file's metadata "
	  "says, running none of it." },
	{ "plan", "plan", "The load order the manifests give, the line behind "
	  "each edge, what is not loaded and why, overridden declarations; "
	  "loads nothing." },
	{ "formats", "formats", "Every format the plugin files declare, with "
	  "its aliases and plugin, from metadata: loads nothing (defaults "
	  "are shown for formats already registered)." },
	{ "run", "run [FILE|-]", "Run a script of page-table operations (see "
	  "'iopgt-host help run')." },
	{ "inspect", "inspect [OPTION]... COMMAND", "Tables built elsewhere, "
	  "from ELF cores and raw memory files (docs/inspect.md): "
	  "'translate IOVA', 'dump [tree|json|dot]' (runs of contiguous "
	  "mappings as one line), 'check', or 'diff' against a second "
	  "state.  Options, after 'inspect': --image FILE[@PA] (repeatable: "
	  "an ELF core, or a raw file at PA), --format FMT and --regs "
	  "K=V[,K=V...] (default: the image note's), --access r|w|x[,priv] "
	  "(translate; default r), --json; diff: --image2 FILE[@PA], "
	  "--regs2 and --format2 (default: --regs, --format); nested: "
	  "--stage2 FMT and --s2-regs K=V[,K=V...] (the images are stage "
	  "2's memory, --format and --regs stage 1's).  Exit 1 on a fault, "
	  "a problem or a difference; 2 on a bad argument." },
	{ "help", "help [COMMAND]", "This text, or one command's." },
};

static const struct command_help *find_command(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static const char *command_name(const void *table, size_t i)
{
	return ((const struct command_help *)table)[i].name;
}

static const char *closest_command(const char *name)
{
	return cli_closest(name, commands, G_N_ELEMENTS(commands), command_name);
}

static int cmd_help(const char *what)
{
	const struct command_help *c = what ? find_command(what) : NULL;

	if (what && !c) {
		g_autofree char *safe = cli_escape(what);

		cli_err("iopgt-host: help: unknown command '%s'\n", safe);
		return EXIT_USAGE;
	}
	if (c) {
		printf("iopgt-host %s\n  %s\n", c->usage, c->text);
		if (!strcmp(c->name, "run"))
			printf("\n%s", cli_script_summary);
		return EXIT_OK;
	}
	printf("Usage: iopgt-host [OPTION]... COMMAND [ARG]\n\nCommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		printf("  %-16s %s\n", commands[i].usage, commands[i].text);
	printf("\n'iopgt-host --help' lists the options; the manual is "
	       "iopgt-host(1).\n");
	return EXIT_OK;
}

/* ---- main ------------------------------------------------------------------ */

static void free_options(void)
{
	g_clear_pointer(&opt_plugin_dirs, g_strfreev);
	g_clear_pointer(&opt_add_dirs, g_strfreev);
	g_clear_pointer(&opt_manifests, g_strfreev);
	g_clear_pointer(&opt_trusted_dirs, g_strfreev);
	g_clear_pointer(&opt_cache, g_free);
	g_clear_pointer(&opt_mem_file.path, g_free);
}

static int usage_error(GOptionContext *ctx, const char *msg)
{
	g_autofree char *safe = cli_escape(msg);

	cli_err("iopgt-host: %s\nTry 'iopgt-host --help'.\n", safe);
	if (ctx)
		g_option_context_free(ctx);
	free_options();
	return EXIT_USAGE;
}

/* The probe cache lives in the user's cache dir unless told otherwise;
 * a set-id run never reads the environment to find it. */
static char *default_cache_file(void)
{
	if (getuid() != geteuid() || getgid() != getegid())
		return NULL;
	return g_build_filename(g_get_user_cache_dir(), "iopgt",
				"plugin-cache", NULL);
}

static bool check_dir_arg(const char *option, const char *dir)
{
	g_autofree char *safe = NULL;

	if (g_file_test(dir, G_FILE_TEST_IS_DIR))
		return true;
	safe = cli_escape(dir);
	cli_err("iopgt-host: %s %s: %s\n", option, safe,
		g_file_test(dir, G_FILE_TEST_EXISTS) ? "not a directory" :
		"no such directory");
	return false;
}

/* Option values that are wrong whatever the files say: usage errors. */
static const char *check_option_values(const char *cmd)
{
	if (opt_probe_timeout == 0 || opt_probe_timeout < -1)
		return "--probe-timeout: must be a positive number of "
		       "milliseconds";
	if (opt_cache && opt_no_cache)
		return "--cache and --no-cache exclude each other";
	if (opt_manifests && opt_no_manifest)
		return "--manifest and --no-manifest exclude each other";
	if (opt_json && !strcmp(cmd, "run"))
		return "--json: run prints text (dump ID json gives a table as "
		       "JSON)";
	if (opt_no_load && strcmp(cmd, "info") && strcmp(cmd, "list"))
		return "--no-load applies to info and list only";
	if (opt_mem_file.path && strcmp(cmd, "run"))
		return "--mem-file applies to run only";
	if (opt_mem_file.path && opt_mem)
		return "--mem and --mem-file exclude each other";
	return NULL;
}

static void setup_trust(struct cli *cli)
{
	g_autofree char *cache = NULL;

	iopgt_host_set_allow_insecure(cli->host, opt_allow_insecure);
	iopgt_host_set_autoload(cli->host, !opt_no_autoload);
	iopgt_host_set_probe(cli->host, !opt_no_probe);
	if (opt_probe_timeout > 0)
		iopgt_host_set_probe_timeout(cli->host,
					     (unsigned int)opt_probe_timeout);
	if (opt_no_cache)
		return;
	cache = opt_cache ? g_strdup(opt_cache) : default_cache_file();
	/* a cache that can't be read is rebuilt: warned, not fatal */
	if (cache)
		iopgt_host_set_cache_file(cli->host, cache);
}

static bool add_dirs(struct cli *cli, const char *option, char **dirs,
		     unsigned int flags)
{
	/* a directory the user named must exist: a typo is not "no plugins" */
	for (char **d = dirs; d && *d; d++)
		if (!check_dir_arg(option, *d))
			return false;
	for (char **d = dirs; d && *d; d++) {
		g_autofree char *canon = cli_canonical_path(*d);

		iopgt_host_add_plugin_dir_full(cli->host, canon, flags);
	}
	return true;
}

/*
 * Every --manifest in order (merged, as modprobe.d files are), or the
 * installed one if present.  Bad lines are reported one by one by the
 * host; a file that cannot be read is fatal.
 */
static bool setup_manifests(struct cli *cli, bool *manifest_ok)
{
	g_autofree char *def = NULL;
	char *defv[2] = { NULL, NULL };
	char **files = opt_manifests;

	*manifest_ok = true;
	if (opt_no_manifest)
		return true;
	if (!files) {
		def = prefix_path(IOPGT_DATA_SUBDIR "/iopgt.conf",
				  iopgt_get_default_manifest());
		if (!def || access(def, R_OK))
			return true;
		defv[0] = def;
		files = defv;
	}
	for (char **f = files; *f; f++) {
		int ret = iopgt_host_add_manifest(cli->host, *f);

		if (ret == -EBADMSG) {
			*manifest_ok = false;
		} else if (ret < 0) {
			/* the host said which file and why */
			return false;
		}
	}
	return true;
}

static bool setup_host(struct cli *cli, bool *manifest_ok)
{
	g_autofree char *def_dir = NULL;

	if (opt_mem && iopgt_host_set_mem_size(cli->host, opt_mem) < 0) {
		cli_err("iopgt-host: --mem: cannot be set\n");
		return false;
	}
	setup_trust(cli);
	if (!add_dirs(cli, "--trusted-plugin-dir", opt_trusted_dirs,
		      IOPGT_DIR_TRUSTED))
		return false;
	if (opt_plugin_dirs) {
		if (!add_dirs(cli, "--plugin-dir", opt_plugin_dirs, 0))
			return false;
	} else if (!opt_trusted_dirs) {
		def_dir = prefix_path(IOPGT_PLUGIN_SUBDIR,
				      iopgt_get_default_plugin_dir());
		if (def_dir)
			iopgt_host_add_plugin_dir(cli->host, def_dir);
	}
	if (!add_dirs(cli, "--add-plugin-dir", opt_add_dirs, 0))
		return false;
	if (!setup_manifests(cli, manifest_ok))
		return false;
	/* last: a run that cannot start creates no file */
	return !opt_mem_file.path || cli_mem_file_open(cli, &opt_mem_file);
}

static GOptionContext *option_context(void)
{
	GOptionContext *ctx = g_option_context_new("COMMAND [ARG]");

	g_option_context_set_summary(ctx,
		"Load IOMMU page-table format plugins and drive page tables.\n\n"
		"Commands:\n"
		"  list            plugins in load order with state and formats\n"
		"  info NAME|FILE  all metadata of one plugin\n"
		"  plan            the load order the manifests give (loads nothing)\n"
		"  formats         formats, aliases and plugins (loads nothing)\n"
		"  run [FILE|-]    run a script of page-table operations\n"
		"  inspect ...     tables in images: 'help inspect'\n"
		"  help [COMMAND]  a command's usage; 'help run': the script language");
	g_option_context_set_description(ctx,
		"--plugin-dir replaces the default plugin dir; --add-plugin-dir "
		"adds to it.\n"
		"Exit status: 0 ok, 1 an operation failed, 2 usage error.\n"
		"Environment: IOPGT_PLUGIN_PATH (more plugin dirs, colon-"
		"separated), IOPGT_LOG (err, warning, info, debug),\n"
		"XDG_CACHE_HOME (where the probe cache lives).\n"
		"See iopgt-host(1).");
	g_option_context_add_main_entries(ctx, options, NULL);
	return ctx;
}

/* The command and its arguments are well-formed: NULL, or why not. */
static char *check_command(int argc, char **argv)
{
	const char *cmd = argv[1];
	const struct command_help *c = find_command(cmd);
	g_autofree char *safe = cli_escape(cmd);

	if (!c) {
		const char *best = closest_command(cmd);

		if (best)
			return g_strdup_printf("unknown command '%s' (did you "
					       "mean '%s'?)", safe, best);
		return g_strdup_printf("unknown command '%s'", safe);
	}
	if ((!strcmp(cmd, "list") || !strcmp(cmd, "plan") ||
	     !strcmp(cmd, "formats")) && argc != 2)
		return g_strdup("too many arguments");
	if (!strcmp(cmd, "info") && argc != 3)
		return g_strdup("usage: info NAME|FILE");
	if ((!strcmp(cmd, "run") || !strcmp(cmd, "help")) && argc > 3)
		return g_strdup_printf("usage: %s", c->usage);
	return NULL;
}

/*
 * 'inspect' has options of its own: everything after it is its argv,
 * parsed by inspect.c, so the global parser never sees them.
 */
static int inspect_argc;
static char **inspect_argv;

static void split_inspect(int *argc, char **argv)
{
	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--"))
			return;
		if (!strcmp(argv[i], "inspect")) {
			inspect_argc = *argc - i;
			inspect_argv = argv + i;
			*argc = i + 1;
			return;
		}
	}
}

static int run_command(struct cli *cli, int argc, char **argv,
		       bool manifest_ok)
{
	const char *cmd = argv[1];

	/* metadata of every file, nothing opened for running */
	iopgt_host_scan(cli->host);
	if (!strcmp(cmd, "list"))
		return cmd_list(cli);
	if (!strcmp(cmd, "info"))
		return cmd_info(cli, argv[2]);
	if (!strcmp(cmd, "plan"))
		return cmd_plan(cli, manifest_ok);
	if (!strcmp(cmd, "formats"))
		return cmd_formats(cli);
	if (!strcmp(cmd, "inspect"))
		return cli_inspect(cli, inspect_argc, inspect_argv);
	return cli_run_script(cli, argc == 3 ? argv[2] : "-");
}

int main(int argc, char **argv)
{
	GOptionContext *ctx = option_context();
	g_autoptr(GError) error = NULL;
	g_autofree char *bad = NULL;
	struct cli cli = { .out = stdout };
	bool manifest_ok = true;
	const char *why;
	int status;

	split_inspect(&argc, argv);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return usage_error(ctx, error->message);
	g_option_context_free(ctx);
	if (opt_version) {
		printf("iopgt-host %s (plugin ABI %d.%d)\n", IOPGT_VERSION,
		       IOPGT_ABI_MAJOR, IOPGT_ABI_MINOR);
		free_options();
		return EXIT_OK;
	}
	if (argc < 2)
		return usage_error(NULL, "missing COMMAND (list, info, plan, "
				   "formats, run, inspect, help)");
	bad = check_command(argc, argv);
	if (bad)
		return usage_error(NULL, bad);
	if (!strcmp(argv[1], "help")) {
		status = cmd_help(argc == 3 ? argv[2] : NULL);
		free_options();
		return status;
	}
	why = check_option_values(argv[1]);
	if (why)
		return usage_error(NULL, why);

	cli.json = opt_json;
	cli.verbose = opt_verbose;
	cli.host = iopgt_host_new();
	iopgt_host_set_log_fn(cli.host, cli_log, &cli);
	if (opt_verbose > 1)
		iopgt_host_set_log_priority(cli.host, IOPGT_LOG_DEBUG);
	else if (opt_verbose)
		iopgt_host_set_log_priority(cli.host, IOPGT_LOG_INFO);

	if (!setup_host(&cli, &manifest_ok))
		status = EXIT_FAILED;
	else
		status = run_command(&cli, argc, argv, manifest_ok);

	/* the file stays mapped until the host, and every table, is gone */
	cli_mem_file_release(&opt_mem_file);
	iopgt_host_unref(cli.host);
	cli_mem_file_close(&opt_mem_file);
	free_options();
	return status;
}
