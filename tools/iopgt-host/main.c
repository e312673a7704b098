// SPDX-License-Identifier: MIT
/*
 * iopgt-host [--plugin-dir DIR]... [--manifest FILE] [--json] [-v] COMMAND
 *
 *   list            plugins in load order: state, refcount, formats
 *   info NAME|FILE  everything known about one plugin
 *   plan            the load order the manifest gives; loads nothing
 *   run [FILE|-]    a script of page-table operations (see script.c)
 *
 * Exit status: 0 ok, 1 an operation failed, 2 usage error.
 * The plugin dir and manifest default to the ones installed next to the
 * executable (../lib/iopgt/plugins, ../share/iopgt/iopgt.conf), which is
 * also the layout of the build tree.
 */
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "cli.h"
#include "iopgt-internal.h"

static char **opt_plugin_dirs;
static char *opt_manifest;
static gboolean opt_no_manifest;
static gboolean opt_json;
static gboolean opt_version;
static char *opt_mem;
static int opt_verbose;
static char **opt_trusted_dirs;
static gboolean opt_allow_insecure;
static gboolean opt_no_probe;
static int opt_probe_timeout = -1;
static char *opt_cache;
static gboolean opt_no_cache;
static gboolean opt_no_load;
static gboolean opt_no_autoload;

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

static const GOptionEntry options[] = {
	{ "plugin-dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_plugin_dirs,
	  "Load plugins from DIR (repeatable; default: the installed dir)",
	  "DIR" },
	{ "manifest", 'm', 0, G_OPTION_ARG_FILENAME, &opt_manifest,
	  "Softdep manifest (default: the installed iopgt.conf)", "FILE" },
	{ "no-manifest", 0, 0, G_OPTION_ARG_NONE, &opt_no_manifest,
	  "Use no manifest at all", NULL },
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
	  "JSON output for list, info and plan", NULL },
	{ "mem", 0, 0, G_OPTION_ARG_STRING, &opt_mem,
	  "Simulated physical memory size (default 16G)", "SIZE" },
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
	  "info: show what the file says without loading it", NULL },
	{ "no-autoload", 0, 0, G_OPTION_ARG_NONE, &opt_no_autoload,
	  "Do not load a format's plugin on demand", NULL },
	{ "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK,
	  count_verbose, "More output (repeat for debug logs)", NULL },
	{ "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
	  "Print the version and exit", NULL },
	{ NULL }
};

/* ---- logging: plain stderr, or captured while a script command runs ----- */

static void cli_log(void *data, int priority, const char *file, int line,
		    const char *fn, const char *format, va_list args)
{
	struct cli *cli = data;
	g_autofree char *msg = g_strdup_vprintf(format, args);

	(void)file;
	(void)line;
	g_strchomp(msg);
	if (cli->capture && priority <= IOPGT_LOG_WARNING) {
		if (cli->host_errors->len)
			g_string_append(cli->host_errors, "; ");
		g_string_append(cli->host_errors, msg);
		return;
	}
	if (priority <= IOPGT_LOG_ERR)
		fprintf(stderr, "iopgt-host: %s\n", msg);
	else if (priority == IOPGT_LOG_WARNING)
		fprintf(stderr, "iopgt-host: warning: %s\n", msg);
	else if (priority >= IOPGT_LOG_DEBUG)
		fprintf(stderr, "iopgt-host: debug: %s: %s\n", fn, msg);
	else
		fprintf(stderr, "iopgt-host: %s\n", msg);
}

char *cli_take_host_errors(struct cli *cli)
{
	char *s = g_strdup(cli->host_errors->str);

	g_string_truncate(cli->host_errors, 0);
	return s;
}

/* ---- defaults relative to the executable ---------------------------------- */

static char *prefix_path(const char *subdir)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *bindir = NULL;

	if (!exe)
		return NULL;
	bindir = g_path_get_dirname(exe);
	return g_build_filename(bindir, IOPGT_BIN_TO_PREFIX, subdir, NULL);
}

/* ---- list ------------------------------------------------------------------ */

static void print_list_row(struct iopgt_plugin *p, void *data)
{
	struct cli *cli = data;
	enum iopgt_plugin_state st = iopgt_plugin_get_state(p);
	g_auto(GStrv) formats = iopgt_plugin_dup_formats(p);
	g_autofree char *joined = g_strjoinv(",", formats);
	const char *err = iopgt_plugin_get_error(p);

	fprintf(cli->out, "%-24s %-11s %4d  %s\n", iopgt_plugin_get_name(p),
		iopgt_plugin_state_to_string(st), iopgt_plugin_get_refcount(p),
		*joined ? joined : (err ? err : "-"));
	if (cli->verbose) {
		g_auto(GStrv) holders = iopgt_plugin_dup_holders(p);

		for (char **h = holders; *h; h++)
			fprintf(cli->out, "%-24s   held by %s\n", "", *h);
	}
}

static JsonObject *plugin_json(struct iopgt_plugin *p)
{
	JsonObject *o = json_object_new();
	JsonArray *formats = json_array_new();
	JsonArray *holders = json_array_new();
	g_auto(GStrv) fv = iopgt_plugin_dup_formats(p);
	g_auto(GStrv) hv = iopgt_plugin_dup_holders(p);
	const char *err = iopgt_plugin_get_error(p);
	const char *path = iopgt_plugin_get_path(p);
	const char *version = iopgt_plugin_get_version(p);

	for (char **f = fv; *f; f++)
		json_array_add_string_element(formats, *f);
	for (char **h = hv; *h; h++)
		json_array_add_string_element(holders, *h);
	json_object_set_string_member(o, "name", iopgt_plugin_get_name(p));
	if (path)
		json_object_set_string_member(o, "path", path);
	else
		json_object_set_null_member(o, "path");
	if (version)
		json_object_set_string_member(o, "version", version);
	else
		json_object_set_null_member(o, "version");
	json_object_set_string_member(o, "state",
		iopgt_plugin_state_to_string(iopgt_plugin_get_state(p)));
	json_object_set_int_member(o, "refcount", iopgt_plugin_get_refcount(p));
	json_object_set_array_member(o, "formats", formats);
	json_object_set_array_member(o, "holders", holders);
	json_object_set_int_member(o, "load_index",
				   iopgt_plugin_get_load_index(p));
	if (err)
		json_object_set_string_member(o, "error", err);
	else
		json_object_set_null_member(o, "error");
	return o;
}

static void print_json_node(struct cli *cli, JsonNode *node)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autofree char *text = NULL;

	json_generator_set_pretty(gen, TRUE);
	json_generator_set_root(gen, node);
	text = json_generator_to_data(gen, NULL);
	fprintf(cli->out, "%s\n", text);
}

static void add_plugin_json(struct iopgt_plugin *p, void *data)
{
	json_array_add_object_element(data, plugin_json(p));
}

void cli_print_list(struct cli *cli)
{
	if (cli->json) {
		JsonArray *arr = json_array_new();
		JsonNode *node = json_node_new(JSON_NODE_ARRAY);

		iopgt_host_foreach_plugin(cli->host, add_plugin_json, arr);
		json_node_take_array(node, arr);
		print_json_node(cli, node);
		json_node_unref(node);
		return;
	}
	fprintf(cli->out, "%-24s %-11s %4s  %s\n", "Plugin", "State", "Used",
		"Formats");
	iopgt_host_foreach_plugin(cli->host, print_list_row, cli);
}

static int cmd_list(struct cli *cli)
{
	iopgt_host_scan(cli->host);
	iopgt_host_load_all(cli->host);
	cli_print_list(cli);
	return EXIT_OK;
}

/* ---- info ------------------------------------------------------------------ */

/* A record for FILE itself, with what the file says; nothing loaded. */
static struct iopgt_plugin *info_without_loading(struct cli *cli,
						 const char *file)
{
	g_autofree char *base = g_path_get_basename(file);
	struct iopgt_plugin *p = NULL;

	if (g_str_has_suffix(base, ".so"))
		base[strlen(base) - 3] = '\0';
	if (!iopgt_name_is_valid(base)) {
		fprintf(stderr, "iopgt-host: info: %s: '%s' is not a valid "
			"plugin name\n", file, base);
		return NULL;
	}
	g_rec_mutex_lock(&cli->host->lock);
	p = iopgt_plugin_new_discovered(cli->host, base, file);
	iopgt_plugin_read_info(p, &(bool){ false });
	g_rec_mutex_unlock(&cli->host->lock);
	return p;
}

static JsonArray *strv_json(char **v)
{
	JsonArray *arr = json_array_new();

	for (char **s = v; s && *s; s++)
		json_array_add_string_element(arr, *s);
	return arr;
}

/* What the file says (no code run): the "file" object / "file ..." lines. */
static void add_file_info_json(JsonObject *o, struct iopgt_plugin *p)
{
	static const char *const keys[] = { "name", "version", "abi",
					    "license", "description" };
	JsonObject *fo = json_object_new();
	g_auto(GStrv) provides = iopgt_plugin_dup_provides(p);
	g_auto(GStrv) softdeps = iopgt_plugin_dup_softdeps(p);
	const char *err = iopgt_plugin_get_info_error(p);

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *v = iopgt_plugin_get_file_info(p, keys[i]);

		if (v)
			json_object_set_string_member(fo, keys[i], v);
		else
			json_object_set_null_member(fo, keys[i]);
	}
	json_object_set_array_member(fo, "provides", strv_json(provides));
	json_object_set_array_member(fo, "softdeps", strv_json(softdeps));
	if (err)
		json_object_set_string_member(fo, "error", err);
	else
		json_object_set_null_member(fo, "error");
	json_object_set_object_member(o, "file", fo);
}

static const char *loaded_or_file(struct iopgt_plugin *p, const char *v,
				  const char *key)
{
	return v ? v : iopgt_plugin_get_file_info(p, key);
}

static void print_file_info(struct cli *cli, struct iopgt_plugin *p)
{
	g_auto(GStrv) provides = iopgt_plugin_dup_provides(p);
	g_auto(GStrv) softdeps = iopgt_plugin_dup_softdeps(p);
	g_autofree char *prov = g_strjoinv(" ", provides);
	const char *err = iopgt_plugin_get_info_error(p);
	const char *abi = iopgt_plugin_get_file_info(p, "abi");

	if (!iopgt_plugin_get_path(p))
		return;
	if (err) {
		fprintf(cli->out, "%-12s none: %s\n", "file info:", err);
		return;
	}
	fprintf(cli->out, "%-12s %s\n", "file abi:", abi ? abi : "-");
	fprintf(cli->out, "%-12s %s\n", "provides:", *prov ? prov : "-");
	for (char **d = softdeps; *d; d++)
		fprintf(cli->out, "%-12s %s\n", "softdep:", *d);
}

/* info shows every record, but one that failed to load is a failure */
static int info_status(struct iopgt_plugin *p)
{
	switch (iopgt_plugin_get_state(p)) {
	case IOPGT_PLUGIN_FAILED:
	case IOPGT_PLUGIN_BLACKLISTED:
		return opt_no_load ? EXIT_OK : EXIT_FAILED;
	default:
		return EXIT_OK;
	}
}

static int cmd_info(struct cli *cli, const char *what)
{
	struct iopgt_plugin *p = NULL;
	g_auto(GStrv) formats = NULL;
	const char *s;
	int status;

	if (opt_no_load && (strchr(what, '/') || g_str_has_suffix(what, ".so"))) {
		p = info_without_loading(cli, what);
	} else if (opt_no_load) {
		iopgt_host_scan(cli->host);
		p = iopgt_host_find_plugin(cli->host, what);
	} else if (strchr(what, '/') || g_str_has_suffix(what, ".so")) {
		iopgt_host_load_plugin_file(cli->host, what, &p);
		if (!p) {
			g_autofree char *base = g_path_get_basename(what);

			if (g_str_has_suffix(base, ".so"))
				base[strlen(base) - 3] = 0;
			p = iopgt_host_find_plugin(cli->host, base);
		}
	} else {
		iopgt_host_scan(cli->host);
		iopgt_host_load_plugin(cli->host, what, NULL);
		p = iopgt_host_find_plugin(cli->host, what);
	}
	if (!p) {
		fprintf(stderr, "iopgt-host: info: no plugin '%s'\n", what);
		return EXIT_FAILED;
	}
	status = info_status(p);
	if (cli->json) {
		JsonNode *node = json_node_new(JSON_NODE_OBJECT);
		JsonObject *o = plugin_json(p);

		s = iopgt_plugin_get_description(p);
		json_object_set_string_member(o, "description", s ? s : "");
		s = iopgt_plugin_get_license(p);
		json_object_set_string_member(o, "license", s ? s : "");
		json_object_set_boolean_member(o, "builtin",
					       iopgt_plugin_is_builtin(p));
		add_file_info_json(o, p);
		json_node_take_object(node, o);
		print_json_node(cli, node);
		json_node_unref(node);
		return status;
	}
#define FIELD(label, value) \
	fprintf(cli->out, "%-12s %s\n", label, (value) ? (value) : "-")
	FIELD("name:", iopgt_plugin_get_name(p));
	FIELD("filename:", iopgt_plugin_get_path(p));
	/* never loaded: what the file says is all there is */
	FIELD("version:", loaded_or_file(p, iopgt_plugin_get_version(p),
					 "version"));
	FIELD("description:", loaded_or_file(p,
		iopgt_plugin_get_description(p), "description"));
	FIELD("license:", loaded_or_file(p, iopgt_plugin_get_license(p),
					 "license"));
	FIELD("state:", iopgt_plugin_state_to_string(iopgt_plugin_get_state(p)));
	fprintf(cli->out, "%-12s %d\n", "refcount:", iopgt_plugin_get_refcount(p));
	fprintf(cli->out, "%-12s %d\n", "load index:",
		iopgt_plugin_get_load_index(p));
	formats = iopgt_plugin_dup_formats(p);
	for (char **f = formats; *f; f++)
		FIELD("format:", *f);
	if (iopgt_plugin_get_error(p))
		FIELD("error:", iopgt_plugin_get_error(p));
	print_file_info(cli, p);
#undef FIELD
	return status;
}

/* ---- plan ------------------------------------------------------------------ */

static void collect_name(struct iopgt_plugin *p, void *data)
{
	g_ptr_array_add(data, (gpointer)iopgt_plugin_get_name(p));
}

static JsonArray *strings_json(GPtrArray *a)
{
	JsonArray *arr = json_array_new();

	for (guint i = 0; i < a->len; i++)
		json_array_add_string_element(arr, g_ptr_array_index(a, i));
	return arr;
}

static void print_plan_json(struct cli *cli, struct iopgt_mplan *plan)
{
	JsonObject *o = json_object_new();
	JsonArray *order = json_array_new(), *skipped = json_array_new();
	JsonArray *edges = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	for (guint i = 0; i < plan->entries->len; i++) {
		struct iopgt_mplan_entry *e = g_ptr_array_index(plan->entries, i);
		JsonObject *s;

		if (e->action == IOPGT_MPLAN_LOAD) {
			json_array_add_string_element(order, e->name);
			continue;
		}
		s = json_object_new();
		json_object_set_string_member(s, "name", e->name);
		json_object_set_string_member(s, "action",
			e->action == IOPGT_MPLAN_BLACKLISTED ? "blacklisted" :
			"cycle");
		json_object_set_string_member(s, "reason", e->reason);
		json_array_add_object_element(skipped, s);
	}
	for (guint i = 0; i < plan->edges->len; i++) {
		struct iopgt_mplan_edge *e = g_ptr_array_index(plan->edges, i);
		JsonObject *eo = json_object_new();

		json_object_set_string_member(eo, "before", e->before);
		json_object_set_string_member(eo, "after", e->after);
		json_object_set_string_member(eo, "reason", e->reason);
		json_array_add_object_element(edges, eo);
	}
	json_object_set_array_member(o, "order", order);
	json_object_set_array_member(o, "not_loaded", skipped);
	json_object_set_array_member(o, "edges", edges);
	json_object_set_array_member(o, "warnings", strings_json(plan->warnings));
	json_object_set_array_member(o, "errors", strings_json(plan->errors));
	json_node_take_object(node, o);
	print_json_node(cli, node);
	json_node_unref(node);
}

static void print_plan_text(struct cli *cli, struct iopgt_mplan *plan)
{
	unsigned int n = 0;

	fprintf(cli->out, "load order:\n");
	for (guint i = 0; i < plan->entries->len; i++) {
		struct iopgt_mplan_entry *e = g_ptr_array_index(plan->entries, i);

		if (e->action == IOPGT_MPLAN_LOAD)
			fprintf(cli->out, "  %u. %s\n", ++n, e->name);
	}
	if (plan->edges->len)
		fprintf(cli->out, "because:\n");
	for (guint i = 0; i < plan->edges->len; i++) {
		struct iopgt_mplan_edge *e = g_ptr_array_index(plan->edges, i);

		fprintf(cli->out, "  %s before %s: %s\n", e->before, e->after,
			e->reason);
	}
	for (guint i = 0; i < plan->entries->len; i++) {
		struct iopgt_mplan_entry *e = g_ptr_array_index(plan->entries, i);

		if (e->action != IOPGT_MPLAN_LOAD)
			fprintf(cli->out, "not loaded: %s: %s\n", e->name,
				e->reason);
	}
	for (guint i = 0; i < plan->warnings->len; i++)
		fprintf(cli->out, "warning: %s\n",
			(char *)g_ptr_array_index(plan->warnings, i));
	for (guint i = 0; i < plan->errors->len; i++)
		fprintf(cli->out, "error: %s\n",
			(char *)g_ptr_array_index(plan->errors, i));
}

static int cmd_plan(struct cli *cli, bool manifest_ok)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	struct iopgt_mplan *plan;
	int status;

	iopgt_host_scan(cli->host);
	iopgt_host_foreach_plugin(cli->host, collect_name, names);
	plan = iopgt_manifest_plan(cli->host->manifest,
				   (const char *const *)names->pdata,
				   names->len);
	if (cli->json)
		print_plan_json(cli, plan);
	else
		print_plan_text(cli, plan);
	status = plan->errors->len || !manifest_ok ? EXIT_FAILED : EXIT_OK;
	iopgt_mplan_free(plan);
	return status;
}

/* ---- main ------------------------------------------------------------------ */

static void free_options(void)
{
	g_clear_pointer(&opt_plugin_dirs, g_strfreev);
	g_clear_pointer(&opt_manifest, g_free);
	g_clear_pointer(&opt_mem, g_free);
	g_clear_pointer(&opt_trusted_dirs, g_strfreev);
	g_clear_pointer(&opt_cache, g_free);
}

static int usage_error(GOptionContext *ctx, const char *msg)
{
	fprintf(stderr, "iopgt-host: %s\nTry 'iopgt-host --help'.\n", msg);
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
	if (g_file_test(dir, G_FILE_TEST_IS_DIR))
		return true;
	fprintf(stderr, "iopgt-host: %s %s: %s\n", option, dir,
		g_file_test(dir, G_FILE_TEST_EXISTS) ? "not a directory" :
		"no such directory");
	return false;
}

static bool setup_trust(struct cli *cli)
{
	g_autofree char *cache = NULL;

	if (opt_probe_timeout == 0 || opt_probe_timeout < -1) {
		fprintf(stderr, "iopgt-host: --probe-timeout %d: must be a "
			"positive number of milliseconds\n",
			opt_probe_timeout);
		return false;
	}
	if (opt_cache && opt_no_cache) {
		fprintf(stderr, "iopgt-host: --cache and --no-cache exclude "
			"each other\n");
		return false;
	}
	iopgt_host_set_allow_insecure(cli->host, opt_allow_insecure);
	iopgt_host_set_autoload(cli->host, !opt_no_autoload);
	iopgt_host_set_probe(cli->host, !opt_no_probe);
	if (opt_probe_timeout > 0)
		iopgt_host_set_probe_timeout(cli->host,
					     (unsigned int)opt_probe_timeout);
	if (opt_no_cache)
		return true;
	cache = opt_cache ? g_strdup(opt_cache) : default_cache_file();
	/* a cache that can't be read is rebuilt: warned, not fatal */
	if (cache)
		iopgt_host_set_cache_file(cli->host, cache);
	return true;
}

static bool setup_host(struct cli *cli, bool *manifest_ok)
{
	g_autofree char *def_dir = NULL;
	g_autofree char *def_manifest = NULL;
	g_autoptr(GError) error = NULL;
	uint64_t mem;

	if (opt_mem) {
		if (!cli_parse_u64(opt_mem, &mem, &error) ||
		    iopgt_host_set_mem_size(cli->host, mem) < 0) {
			fprintf(stderr, "iopgt-host: --mem %s: %s\n", opt_mem,
				error ? error->message :
				"must be at least 64K");
			return false;
		}
	}
	if (!setup_trust(cli))
		return false;
	for (char **d = opt_trusted_dirs; d && *d; d++)
		iopgt_host_add_plugin_dir_full(cli->host, *d,
					       IOPGT_DIR_TRUSTED);
	/* a directory the user named must exist: a typo is not "no plugins" */
	for (char **d = opt_plugin_dirs; d && *d; d++)
		if (!check_dir_arg("--plugin-dir", *d))
			return false;
	for (char **d = opt_trusted_dirs; d && *d; d++)
		if (!check_dir_arg("--trusted-plugin-dir", *d))
			return false;
	if (opt_plugin_dirs) {
		for (char **d = opt_plugin_dirs; *d; d++)
			iopgt_host_add_plugin_dir(cli->host, *d);
	} else if (!opt_trusted_dirs) {
		def_dir = prefix_path(IOPGT_PLUGIN_SUBDIR);
		if (def_dir)
			iopgt_host_add_plugin_dir(cli->host, def_dir);
	}
	*manifest_ok = true;
	if (opt_no_manifest)
		return true;
	if (!opt_manifest) {
		def_manifest = prefix_path(IOPGT_DATA_SUBDIR "/iopgt.conf");
		if (!def_manifest || access(def_manifest, R_OK))
			return true;
	}
	if (!iopgt_host_load_manifest(cli->host, opt_manifest ? opt_manifest :
				      def_manifest, &error)) {
		*manifest_ok = false;
		/* parse errors were logged line by line; say I/O ones here */
		if (g_error_matches(error, IOPGT_MANIFEST_ERROR,
				    IOPGT_MANIFEST_ERROR_IO)) {
			fprintf(stderr, "iopgt-host: %s\n", error->message);
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	GOptionContext *ctx;
	g_autoptr(GError) error = NULL;
	struct cli cli = { .out = stdout };
	bool manifest_ok = true;
	const char *cmd;
	int status;

	ctx = g_option_context_new("COMMAND [ARG]");
	g_option_context_set_summary(ctx,
		"Load IOMMU page-table format plugins and drive page tables.\n\n"
		"Commands:\n"
		"  list            plugins in load order with state and formats\n"
		"  info NAME|FILE  all metadata of one plugin\n"
		"  plan            the load order the manifest gives (loads nothing)\n"
		"  run [FILE|-]    run a script of page-table operations");
	g_option_context_set_description(ctx,
		"Exit status: 0 ok, 1 an operation failed, 2 usage error.\n"
		"Environment: IOPGT_PLUGIN_PATH (more plugin dirs, colon-"
		"separated), IOPGT_LOG (err, warning, info, debug),\n"
		"XDG_CACHE_HOME (where the probe cache lives).\n"
		"See docs/cli.md for the script language.");
	g_option_context_add_main_entries(ctx, options, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return usage_error(ctx, error->message);
	if (opt_version) {
		printf("iopgt-host %s (plugin ABI %d.%d)\n", IOPGT_VERSION,
		       IOPGT_ABI_MAJOR, IOPGT_ABI_MINOR);
		g_option_context_free(ctx);
		free_options();
		return EXIT_OK;
	}
	if (argc < 2)
		return usage_error(ctx, "missing COMMAND (list, info, plan, run)");
	cmd = argv[1];
	if ((!strcmp(cmd, "list") || !strcmp(cmd, "plan")) && argc != 2)
		return usage_error(ctx, "too many arguments");
	if (!strcmp(cmd, "info") && argc != 3)
		return usage_error(ctx, "usage: info NAME|FILE");
	if (!strcmp(cmd, "run") && argc > 3)
		return usage_error(ctx, "usage: run [FILE|-]");
	if (strcmp(cmd, "list") && strcmp(cmd, "plan") && strcmp(cmd, "info") &&
	    strcmp(cmd, "run")) {
		g_autofree char *msg = g_strdup_printf("unknown command '%s'",
						       cmd);

		return usage_error(ctx, msg);
	}
	g_option_context_free(ctx);

	cli.host_errors = g_string_new(NULL);
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
	else if (!strcmp(cmd, "list"))
		status = cmd_list(&cli);
	else if (!strcmp(cmd, "info"))
		status = cmd_info(&cli, argv[2]);
	else if (!strcmp(cmd, "plan"))
		status = cmd_plan(&cli, manifest_ok);
	else {
		iopgt_host_scan(cli.host);
		status = cli_run_script(&cli, argc == 3 ? argv[2] : "-");
	}

	iopgt_host_unref(cli.host);
	g_string_free(cli.host_errors, TRUE);
	free_options();
	return status;
}
