// SPDX-License-Identifier: MIT
/*
 * `iopgt-host run FILE`: a script of page-table operations, one per line.
 *
 *   load [NAME]   unload [--wait[=MS]] NAME   reload NAME   list
 *   alloc ID FORMAT [ias=N] [oas=N] [pgsizes=4K,2M] [quirks=ns,...] [coherent=0|1]
 *   map ID IOVA PADDR SIZE [PROT] [pgsize=SZ]
 *   unmap ID IOVA SIZE [pgsize=SZ]
 *   iova ID IOVA           dump ID [tree|json|dot]   free ID
 *   save ID FILE   adopt ID FILE
 *
 * A leading '!' asserts that the command fails.  The first unexpected
 * result stops the script with "FILE:LINE: error: message"; whatever is
 * left (tables, plugins) is then freed and unloaded in order, so a script
 * never leaks, whatever its lines say.  What the host logged while a
 * command ran comes back as a value (iopgt_host_get_last_error()): it is
 * the reason in a failure's message, and after a command that succeeded
 * it is printed as "FILE:LINE: warning:" (or "error:" for an error line,
 * such as a format leaking table memory, which makes the run exit 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct script_table {
	char *id;
	struct iopgt_pgtable *pgt;
	/* TLB callbacks seen, for -v */
	unsigned int flush_all;
	unsigned int flush_walk;
	unsigned int add_page;
};

struct script {
	struct cli *cli;
	const char *file;
	unsigned int line;
	int status;			/* EXIT_FAILED once a line reported an error */
	GHashTable *tables;		/* id -> struct script_table * */
	GPtrArray *order;		/* struct script_table *, by alloc */
	const char *note;		/* the CLI's own words for this failure */
};

typedef gboolean (*cmd_fn)(struct script *s, int argc, char **argv,
			   GError **error);

/* ---- TLB callbacks: counted, so -v can show them -------------------------- */

static void tlb_flush_all(void *cookie)
{
	((struct script_table *)cookie)->flush_all++;
}

static void tlb_flush_walk(unsigned long iova, size_t size, size_t granule,
			   void *cookie)
{
	(void)iova;
	(void)size;
	(void)granule;
	((struct script_table *)cookie)->flush_walk++;
}

static void tlb_add_page(struct iopgt_iotlb_gather *gather,
			 unsigned long iova, size_t granule, void *cookie)
{
	(void)gather;
	(void)iova;
	(void)granule;
	((struct script_table *)cookie)->add_page++;
}

static const struct iopgt_flush_ops script_tlb = {
	.tlb_flush_all = tlb_flush_all,
	.tlb_flush_walk = tlb_flush_walk,
	.tlb_add_page = tlb_add_page,
};

/* ---- helpers ----------------------------------------------------------------- */

static gboolean fail(struct script *s, GError **error, int err,
		     const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/*
 * "WHAT: what the host said [reason]", or "WHAT: reason" when the host
 * said nothing: the host's messages name the file, format or table.
 */
static gboolean fail(struct script *s, GError **error, int err,
		     const char *fmt, ...)
{
	g_autofree char *what = NULL;
	const char *said = iopgt_host_get_last_error(s->cli->host);
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (said && *said && s->note)
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "%s: %s; %s [%s]", what, said, s->note,
			    cli_strerror(err));
	else if (said && *said)
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "%s: %s [%s]", what, said, cli_strerror(err));
	else if (s->note)
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "%s: %s [%s]", what, s->note, cli_strerror(err));
	else
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "%s: %s", what, cli_strerror(err));
	return FALSE;
}

/* Add the CLI's own explanation to what the host said for this command. */
static void note(struct script *s, const char *text)
{
	s->note = text;
}

static gboolean syntax(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean syntax(GError **error, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_SYNTAX, msg);
	return FALSE;
}

static struct script_table *find_table(struct script *s, const char *id,
				       GError **error)
{
	struct script_table *t = g_hash_table_lookup(s->tables, id);

	if (!t)
		syntax(error, "unknown table id '%s'", id);
	return t;
}

/* "word" or "word: detail", for number errors in a named argument */
static gboolean parse_arg(const char *what, const char *word, uint64_t *out,
			  GError **error)
{
	g_autoptr(GError) e = NULL;

	if (cli_parse_u64(word, out, &e))
		return TRUE;
	return syntax(error, "%s: %s", what, e->message);
}

/* Split "key=value" optional words; positional words are left in place. */
static const char *opt_value(const char *word, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(word, key, n) && word[n] == '=' ? word + n + 1 : NULL;
}

/* Print the plugins this command loaded, in load order. */
struct loaded_diff {
	GHashTable *before;		/* name -> state before the command */
	GPtrArray *now;			/* referenced records, after it */
};

static void collect_state(struct iopgt_plugin *p, void *data)
{
	struct loaded_diff *d = data;

	if (d->now)
		g_ptr_array_add(d->now, iopgt_plugin_ref(p));
	else
		g_hash_table_insert(d->before,
				    g_strdup(iopgt_plugin_get_name(p)),
				    GINT_TO_POINTER(iopgt_plugin_get_state(p)));
}

static void plugin_unref(gpointer p)
{
	iopgt_plugin_unref(p);
}

static bool became(struct loaded_diff *d, struct iopgt_plugin *p,
		   enum iopgt_plugin_state state)
{
	gpointer old;

	if (iopgt_plugin_get_state(p) != state)
		return false;
	return !g_hash_table_lookup_extended(d->before,
					     iopgt_plugin_get_name(p), NULL,
					     &old) ||
	       GPOINTER_TO_INT(old) != (int)state;
}

/*
 * `load` with no name: the plugins that failed are no reason to stop the
 * script (the others loaded), but each is one "PATH: reason" error line
 * and the run exits 1.
 */
static void report_failed(struct script *s, struct loaded_diff *d)
{
	for (guint i = 0; i < d->now->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(d->now, i);
		g_autofree char *path = NULL, *why = NULL;

		if (!became(d, p, IOPGT_PLUGIN_FAILED) &&
		    !became(d, p, IOPGT_PLUGIN_BLACKLISTED))
			continue;
		path = cli_display_path(iopgt_plugin_get_path(p) ?
					iopgt_plugin_get_path(p) :
					iopgt_plugin_get_name(p));
		why = cli_escape(iopgt_plugin_get_error(p));
		cli_err("%s:%u: error: %s: %s\n", s->file, s->line, path, why);
		s->status = EXIT_FAILED;
	}
}

static gboolean cmd_load(struct script *s, int argc, char **argv,
			 GError **error)
{
	struct loaded_diff d = {
		.before = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						NULL),
	};
	gboolean ok = TRUE;
	int ret;

	iopgt_host_foreach_plugin(s->cli->host, collect_state, &d);
	if (argc == 1) {
		ret = iopgt_host_load_all(s->cli->host);
		if (ret < 0)
			ok = fail(s, error, -ret, "load");
	} else {
		ret = iopgt_host_load_plugin(s->cli->host, argv[1], NULL);
		if (ret < 0)
			ok = fail(s, error, -ret, "load %s", argv[1]);
	}
	d.now = g_ptr_array_new_with_free_func(plugin_unref);
	iopgt_host_foreach_plugin(s->cli->host, collect_state, &d);
	for (guint i = 0; i < d.now->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(d.now, i);
		g_autofree char *name = NULL;

		if (!became(&d, p, IOPGT_PLUGIN_LOADED))
			continue;
		name = cli_escape(iopgt_plugin_get_name(p));
		fprintf(s->cli->out, "loaded %s\n", name);
	}
	if (argc == 1 && ok) {
		report_failed(s, &d);
		/* said line by line above */
		iopgt_host_clear_last_error(s->cli->host);
		s->cli->errors_logged = 0;
	}
	g_ptr_array_unref(d.now);
	g_hash_table_unref(d.before);
	return ok;
}

/* "--wait" or "--wait=MS": 0 waits for ever.  Returns: FALSE if not it. */
static gboolean parse_wait(const char *arg, unsigned int *ms, GError **error,
			   gboolean *bad)
{
	uint64_t v;

	*bad = FALSE;
	if (strcmp(arg, "--wait") && !g_str_has_prefix(arg, "--wait="))
		return FALSE;
	*ms = 0;
	if (!arg[6])
		return TRUE;
	if (!cli_parse_u64(arg + 7, &v, error) || v > G_MAXUINT) {
		if (*error)
			g_prefix_error(error, "--wait: ");
		else
			g_set_error(error, IOPGT_CLI_ERROR,
				    IOPGT_CLI_ERROR_SYNTAX,
				    "--wait=%s: too many milliseconds",
				    arg + 7);
		*bad = TRUE;
		return TRUE;
	}
	*ms = (unsigned int)v;
	return TRUE;
}

/*
 * unload --wait[=MS] NAME: the plugin goes GOING now and unloads when its
 * last table is freed (a later `free` line says so), or the wait times
 * out and is cancelled.  A script is one thread: nothing blocks.
 */
static gboolean cmd_unload_deferred(struct script *s, const char *name,
				    unsigned int ms, GError **error)
{
	int ret = iopgt_host_unload_plugin_deferred(s->cli->host, name, ms);

	g_autofree char *safe = cli_escape(name);

	if (ret == -EINPROGRESS) {
		fprintf(s->cli->out, "%s unloads when its last table is "
			"freed\n", safe);
		return TRUE;
	}
	if (ret < 0)
		return fail(s, error, -ret, "unload --wait %s", name);
	fprintf(s->cli->out, "unloaded %s\n", safe);
	return TRUE;
}

static gboolean cmd_unload(struct script *s, int argc, char **argv,
			   GError **error)
{
	struct iopgt_plugin *p;
	unsigned int ms;
	gboolean bad;
	int ret;

	if (argc == 3) {
		if (!parse_wait(argv[1], &ms, error, &bad)) {
			if (g_str_has_prefix(argv[1], "--"))
				g_set_error(error, IOPGT_CLI_ERROR,
					    IOPGT_CLI_ERROR_SYNTAX,
					    "unknown option '%s' (--wait[=MS])",
					    argv[1]);
			else
				g_set_error_literal(error, IOPGT_CLI_ERROR,
					IOPGT_CLI_ERROR_SYNTAX,
					"usage: unload [--wait[=MS]] NAME");
			return FALSE;
		}
		if (bad)
			return FALSE;
		return cmd_unload_deferred(s, argv[2], ms, error);
	}
	ret = iopgt_host_unload_plugin(s->cli->host, argv[1]);
	if (ret < 0)
		return fail(s, error, -ret, "unload %s", argv[1]);
	p = iopgt_host_find_plugin(s->cli->host, argv[1]);
	if (iopgt_plugin_get_state(p) == IOPGT_PLUGIN_RESIDENT)
		fprintf(s->cli->out, "%s stayed resident: %s\n", argv[1],
			iopgt_plugin_get_error(p));
	else
		fprintf(s->cli->out, "unloaded %s\n", argv[1]);
	return TRUE;
}

static gboolean cmd_list(struct script *s, int argc, char **argv,
			 GError **error)
{
	(void)argc;
	(void)argv;
	(void)error;
	cli_print_list(s->cli);
	return TRUE;
}

static gboolean id_is_valid(const char *id)
{
	if (!*id || strlen(id) > 32)
		return FALSE;
	for (const char *c = id; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_')
			return FALSE;
	return TRUE;
}

/* "key=" of a word that has one, else 0. */
static int key_len(const char *word)
{
	const char *eq = strchr(word, '=');

	return eq ? (int)(eq - word) + 1 : 0;
}

/*
 * Whether argv[i] repeats the key= of one of argv[first..i).
 * Returns: TRUE, with *error set, if it does.
 */
static gboolean opt_repeated(char **argv, int first, int i, GError **error)
{
	int n = key_len(argv[i]);

	for (int j = first; n && j < i; j++)
		if (key_len(argv[j]) == n && !strncmp(argv[i], argv[j], n))
			return !syntax(error, "%s: %.*s was already given",
				       argv[i], n, argv[i]);
	return FALSE;
}

static gboolean parse_alloc_opts(int argc, char **argv, struct iopgt_cfg *cfg,
				 GError **error)
{
	for (int i = 3; i < argc; i++) {
		const char *v;
		uint64_t n;

		if (opt_repeated(argv, 3, i, error))
			return FALSE;
		if ((v = opt_value(argv[i], "ias")) ||
		    (v = opt_value(argv[i], "oas"))) {
			if (!parse_arg(argv[i], v, &n, error))
				return FALSE;
			if (n < 1 || n > 64)
				return syntax(error, "%s: address size must be "
					      "1..64 bits", argv[i]);
			*(argv[i][0] == 'i' ? &cfg->ias : &cfg->oas) =
				(unsigned int)n;
		} else if ((v = opt_value(argv[i], "pgsizes"))) {
			g_autoptr(GError) e = NULL;

			if (!cli_parse_pgsizes(v, &cfg->pgsize_bitmap, &e))
				return syntax(error, "%s: %s", argv[i],
					      e->message);
		} else if ((v = opt_value(argv[i], "quirks"))) {
			if (!cli_parse_quirks(v, &cfg->quirks, error))
				return FALSE;
		} else if ((v = opt_value(argv[i], "coherent"))) {
			if (strcmp(v, "0") && strcmp(v, "1"))
				return syntax(error, "coherent=%s: expected 0 "
					      "or 1", v);
			cfg->coherent_walk = v[0] == '1';
		} else {
			return syntax(error, "unknown alloc option '%s' (ias= "
				      "oas= pgsizes= quirks= coherent=)",
				      argv[i]);
		}
	}
	return TRUE;
}

/* "arm_64_lpae_s1" is "arm-64-lpae-s1", as for plugin names and quirks */
static char *fold_name(const char *name)
{
	char *f = g_ascii_strdown(name, -1);

	g_strdelimit(f, "_", '-');
	return f;
}

/* Every format name and alias the plugin files declare, from metadata:
 * nothing is loaded to find them. */
static void collect_provides(struct iopgt_plugin *p, void *data)
{
	g_auto(GStrv) provides = iopgt_plugin_dup_provides(p);

	for (char **f = provides; f && *f; f++)
		if (!g_ptr_array_find_with_equal_func(data, *f, g_str_equal,
						      NULL))
			g_ptr_array_add(data, g_strdup(*f));
}

static GPtrArray *known_formats(struct iopgt_host *host)
{
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);

	iopgt_host_foreach_plugin(host, collect_provides, all);
	return all;
}

/*
 * A format name nobody provides as written: the known name it folds to
 * (underscores and case), else NULL.
 */
static const char *folded_format(GPtrArray *known, const char *format)
{
	g_autofree char *want = fold_name(format);

	if (g_ptr_array_find_with_equal_func(known, format, g_str_equal, NULL))
		return NULL;
	for (guint i = 0; i < known->len; i++) {
		const char *k = g_ptr_array_index(known, i);
		g_autofree char *fk = fold_name(k);

		if (!strcmp(fk, want))
			return k;
	}
	return NULL;
}

static int strptr_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "did you mean 'x'? known formats: a, b" for an unknown format */
static char *format_hint(GPtrArray *known, const char *format)
{
	g_autofree char *want = fold_name(format);
	GString *hint = g_string_new(NULL);
	const char *best = NULL;
	unsigned int best_d = G_MAXUINT, best_raw = G_MAXUINT;
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (guint i = 0; i < known->len; i++) {
		const char *k = g_ptr_array_index(known, i);
		g_autofree char *fk = fold_name(k);
		unsigned int d = cli_edit_distance(want, fk);
		/* a tie goes to the spelling the user used: name or alias */
		unsigned int raw = cli_edit_distance(format, k);

		/* the registered names, not their Linux aliases */
		if (strchr(k, '-') || !strchr(k, '_'))
			g_ptr_array_add(names, (gpointer)k);
		if (d < best_d || (d == best_d && raw < best_raw)) {
			best_d = d;
			best_raw = raw;
			best = k;
		}
	}
	if (!known->len)
		return g_string_free(hint, FALSE);
	if (best && best_d <= cli_close_enough(want))
		g_string_append_printf(hint, "did you mean '%s'? ", best);
	g_ptr_array_sort(names, strptr_cmp);
	g_string_append(hint, "known formats:");
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(hint, "%s %s", i ? "," : "",
				       (char *)g_ptr_array_index(names, i));
	return g_string_free(hint, FALSE);
}

static gboolean cmd_alloc(struct script *s, int argc, char **argv,
			  GError **error)
{
	struct iopgt_cfg cfg = { .coherent_walk = true, .tlb = &script_tlb };
	g_autoptr(GPtrArray) known = NULL;
	g_autofree char *hint = NULL;
	const char *format = argv[2];
	struct script_table *t;
	g_autofree char *pgsizes = NULL;
	int ret;

	if (!id_is_valid(argv[1]))
		return syntax(error, "table id '%s' must be 1-32 letters, "
			      "digits, '-' or '_'", argv[1]);
	if (g_hash_table_contains(s->tables, argv[1]))
		return syntax(error, "table id '%s' is already in use", argv[1]);
	if (!parse_alloc_opts(argc, argv, &cfg, error))
		return FALSE;
	known = known_formats(s->cli->host);
	if (folded_format(known, format))
		format = folded_format(known, format);

	/* ias, oas, pgsizes left 0: iopgt_pgtable_new() takes the format's
	 * defaults, after loading its plugin if need be */
	t = g_new0(struct script_table, 1);
	t->id = g_strdup(argv[1]);
	ret = iopgt_pgtable_new(s->cli->host, format, &cfg, t, &t->pgt);
	if (ret < 0) {
		g_free(t->id);
		g_free(t);
		if (ret == -ENOENT) {
			hint = format_hint(known, format);
			if (*hint)
				note(s, hint);
		}
		return fail(s, error, -ret, "alloc %s %s", argv[1], argv[2]);
	}
	iopgt_pgtable_set_label(s->cli->host, t->pgt, t->id);
	g_hash_table_insert(s->tables, t->id, t);
	g_ptr_array_add(s->order, t);
	pgsizes = cli_format_pgsizes(t->pgt->cfg.pgsize_bitmap);
	fprintf(s->cli->out, "%s: %s ias=%u oas=%u pgsizes=%s root=0x%"
		G_GINT64_MODIFIER "x\n", t->id, t->pgt->fmt->name,
		t->pgt->cfg.ias, t->pgt->cfg.oas, pgsizes, t->pgt->root_pa);
	return TRUE;
}

static gboolean parse_pgsize_opt(const char *word, uint64_t *pgsize,
				 GError **error)
{
	const char *v = opt_value(word, "pgsize");

	if (!v)
		return syntax(error, "unexpected word '%s'", word);
	if (!parse_arg(word, v, pgsize, error))
		return FALSE;
	if (!*pgsize || (*pgsize & (*pgsize - 1)))
		return syntax(error, "pgsize=%s is not a power of two", v);
	return TRUE;
}

/*
 * A big map on a terminal shows its progress on stderr (never when piped,
 * so scripted output stays exact).  The library reports progress between
 * its own map_pages calls: the split into page sizes is the same with or
 * without a terminal, and so is the rollback on failure.
 */
#define PROGRESS_MIN	(16ULL << 30)

struct progress {
	const char *id;
	bool shown;
};

static void show_progress(void *data, size_t done, size_t total)
{
	struct progress *p = data;

	p->shown = true;
	fprintf(stderr, "\rmap %s: %3u%% (%zu of %zu MiB)", p->id,
		(unsigned int)((double)done * 100 / (double)total), done >> 20,
		total >> 20);
}

static int map_range(struct script *s, struct script_table *t, uint64_t iova,
		     uint64_t paddr, uint64_t size, uint64_t pgsize, int prot)
{
	struct progress p = { .id = t->id };
	bool tty = size >= PROGRESS_MIN && isatty(STDERR_FILENO);
	int ret;

	if (tty)
		fflush(s->cli->out);
	ret = iopgt_pgtable_map_full(s->cli->host, t->pgt, iova, paddr, size,
				     prot, pgsize, tty ? show_progress : NULL,
				     &p);
	if (p.shown)
		fputs("\r\033[K", stderr);
	return ret;
}

static gboolean cmd_map(struct script *s, int argc, char **argv,
			GError **error)
{
	uint64_t iova, paddr, size, pgsize = 0;
	int prot = IOMMU_READ | IOMMU_WRITE;
	struct script_table *t = find_table(s, argv[1], error);
	int ret;

	if (!t || !parse_arg("IOVA", argv[2], &iova, error) ||
	    !parse_arg("PADDR", argv[3], &paddr, error) ||
	    !parse_arg("SIZE", argv[4], &size, error))
		return FALSE;
	for (int i = 5; i < argc; i++) {
		if (opt_repeated(argv, 5, i, error))
			return FALSE;
		if (strchr(argv[i], '=')) {
			if (!parse_pgsize_opt(argv[i], &pgsize, error))
				return FALSE;
		} else if (i == 5) {
			if (!cli_parse_prot(argv[i], &prot, error))
				return FALSE;
		} else {
			return syntax(error, "unexpected word '%s'", argv[i]);
		}
	}
	if (iova > G_MAXULONG)
		return syntax(error, "IOVA 0x%" G_GINT64_MODIFIER "x does not "
			      "fit an unsigned long", iova);
	if (pgsize) {
		if (!size || size % pgsize)
			return syntax(error, "SIZE 0x%" G_GINT64_MODIFIER "x is "
				      "not a multiple of pgsize=0x%"
				      G_GINT64_MODIFIER "x", size, pgsize);
	}
	if (size > G_MAXSIZE)
		return syntax(error, "SIZE 0x%" G_GINT64_MODIFIER "x does not "
			      "fit a size_t", size);
	ret = map_range(s, t, iova, paddr, size, pgsize, prot);
	/* formats refuse this silently, as Linux does: say it here */
	if (ret == -EINVAL && !(prot & (IOMMU_READ | IOMMU_WRITE)))
		note(s, "PROT grants neither read nor write");
	if (ret < 0)
		return fail(s, error, -ret, "map %s 0x%" G_GINT64_MODIFIER "x "
			    "-> 0x%" G_GINT64_MODIFIER "x size 0x%"
			    G_GINT64_MODIFIER "x", t->id, iova, paddr, size);
	return TRUE;
}

static gboolean cmd_unmap(struct script *s, int argc, char **argv,
			  GError **error)
{
	struct script_table *t = find_table(s, argv[1], error);
	struct iopgt_iotlb_gather gather = { 0 };
	uint64_t iova, size, pgsize = 0, done = 0;

	if (!t || !parse_arg("IOVA", argv[2], &iova, error) ||
	    !parse_arg("SIZE", argv[3], &size, error))
		return FALSE;
	if (argc == 5 && !parse_pgsize_opt(argv[4], &pgsize, error))
		return FALSE;
	if (pgsize) {
		if (!size || size % pgsize)
			return syntax(error, "SIZE 0x%" G_GINT64_MODIFIER "x is "
				      "not a multiple of pgsize=0x%"
				      G_GINT64_MODIFIER "x", size, pgsize);
		while (done < size) {
			size_t n = iopgt_pgtable_unmap_pages(
				s->cli->host, t->pgt, iova + done, pgsize,
				(size - done) / pgsize, &gather);

			if (!n)
				break;
			done += n;
		}
	} else {
		done = iopgt_pgtable_unmap(s->cli->host, t->pgt, iova, size,
					   &gather);
	}
	fprintf(s->cli->out, "0x%" G_GINT64_MODIFIER "x\n", done);
	if (done != size)
		return fail(s, error, EINVAL, "unmap %s 0x%" G_GINT64_MODIFIER
			    "x: unmapped 0x%" G_GINT64_MODIFIER "x of 0x%"
			    G_GINT64_MODIFIER "x bytes", t->id, iova, done,
			    size);
	return TRUE;
}

static gboolean cmd_iova(struct script *s, int argc, char **argv,
			 GError **error)
{
	struct script_table *t = find_table(s, argv[1], error);
	uint64_t iova, pa;

	(void)argc;
	if (!t || !parse_arg("IOVA", argv[2], &iova, error))
		return FALSE;
	pa = iopgt_pgtable_iova_to_phys(s->cli->host, t->pgt, iova);
	if (pa)
		fprintf(s->cli->out, "0x%" G_GINT64_MODIFIER "x\n", pa);
	else
		fprintf(s->cli->out, "none\n");
	return TRUE;
}

static gboolean cmd_dump(struct script *s, int argc, char **argv,
			 GError **error)
{
	struct script_table *t = find_table(s, argv[1], error);
	enum dump_style style = DUMP_TREE;

	if (!t)
		return FALSE;
	if (argc == 3) {
		if (!strcmp(argv[2], "json"))
			style = DUMP_JSON;
		else if (!strcmp(argv[2], "dot"))
			style = DUMP_DOT;
		else if (strcmp(argv[2], "tree"))
			return syntax(error, "unknown dump style '%s' (tree, "
				      "json, dot)", argv[2]);
	}
	return cli_dump(s->cli, t->pgt, t->id, style, error);
}

static void table_free(struct script *s, struct script_table *t)
{
	iopgt_pgtable_free(s->cli->host, t->pgt);
	if (s->cli->verbose)
		fprintf(s->cli->out, "%s: freed (tlb: %u flush_all, %u "
			"flush_walk, %u add_page)\n", t->id, t->flush_all,
			t->flush_walk, t->add_page);
	g_ptr_array_remove(s->order, t);
	g_hash_table_remove(s->tables, t->id);
	g_free(t->id);
	g_free(t);
}

static gboolean cmd_free(struct script *s, int argc, char **argv,
			 GError **error)
{
	struct script_table *t = find_table(s, argv[1], error);
	struct iopgt_plugin *p;
	bool going;

	(void)argc;
	if (!t)
		return FALSE;
	/* a reference: a replaced version's record goes with its last table */
	p = iopgt_plugin_ref(iopgt_pgtable_get_plugin(s->cli->host, t->pgt));
	going = iopgt_plugin_get_state(p) == IOPGT_PLUGIN_GOING;
	table_free(s, t);
	/* the last table of a plugin waiting to go (unload --wait, reload) */
	if (going && iopgt_plugin_get_state(p) == IOPGT_PLUGIN_UNLOADED) {
		g_autofree char *version = cli_escape(
			iopgt_plugin_get_version(p));

		fprintf(s->cli->out, "unloaded %s %s (its last table went)\n",
			iopgt_plugin_get_name(p), version);
	}
	iopgt_plugin_unref(p);
	return TRUE;
}

static gboolean cmd_reload(struct script *s, int argc, char **argv,
			   GError **error)
{
	struct iopgt_plugin *p = NULL;
	int ret;

	(void)argc;
	ret = iopgt_host_reload_plugin(s->cli->host, argv[1], &p);
	if (ret < 0)
		return fail(s, error, -ret, "reload %s", argv[1]);
	fprintf(s->cli->out, "reloaded %s %s\n", iopgt_plugin_get_name(p),
		iopgt_plugin_get_version(p));
	return TRUE;
}

/* ---- save ---------------------------------------------------------------- */

static int count_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	(void)pa;
	(void)va;
	(void)size;
	(void)level;
	(*(unsigned int *)data)++;
	return 0;
}

/*
 * save ID FILE: a new file only (O_EXCL, no symlink followed), never one
 * the user did not ask for; a save that fails removes what it created.
 */
static gboolean cmd_save(struct script *s, int argc, char **argv,
			 GError **error)
{
	static const struct iopgt_walk_ops counter = { .table = count_table };
	struct script_table *t = find_table(s, argv[1], error);
	g_autofree char *shown = NULL;
	unsigned int tables = 0;
	struct stat st;
	int fd, ret;

	(void)argc;
	if (!t)
		return FALSE;
	shown = cli_escape(argv[2]);
	fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		int err = errno;

		if (err == EEXIST)
			note(s, "not replacing a file that exists");
		return fail(s, error, err, "save %s %s", t->id, shown);
	}
	ret = iopgt_pgtable_save(s->cli->host, t->pgt, fd);
	if (!ret && fstat(fd, &st) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret) {
		unlink(argv[2]);
		return fail(s, error, -ret, "save %s %s", t->id, shown);
	}
	iopgt_pgtable_walk(s->cli->host, t->pgt, &counter, &tables);
	fprintf(s->cli->out, "saved %s to %s (%" G_GINT64_MODIFIER "d bytes, "
		"%u tables)\n", t->id, shown, (gint64)st.st_size, tables);
	return TRUE;
}

/*
 * adopt ID FILE: a live table again from an image save wrote, at its
 * saved PAs (docs/images.md).  It has no TLB callbacks, so -v counts
 * none for it.
 */
static gboolean cmd_adopt(struct script *s, int argc, char **argv,
			  GError **error)
{
	g_autofree char *shown = NULL, *pgsizes = NULL;
	struct script_table *t;
	int fd, ret;

	(void)argc;
	if (!id_is_valid(argv[1]))
		return syntax(error, "table id '%s' must be 1-32 letters, "
			      "digits, '-' or '_'", argv[1]);
	if (g_hash_table_contains(s->tables, argv[1]))
		return syntax(error, "table id '%s' is already in use", argv[1]);
	shown = cli_escape(argv[2]);
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(s, error, errno, "adopt %s %s", argv[1], shown);
	t = g_new0(struct script_table, 1);
	t->id = g_strdup(argv[1]);
	ret = iopgt_pgtable_adopt(s->cli->host, fd, t, &t->pgt);
	close(fd);
	if (ret < 0) {
		g_free(t->id);
		g_free(t);
		return fail(s, error, -ret, "adopt %s %s", argv[1], shown);
	}
	iopgt_pgtable_set_label(s->cli->host, t->pgt, t->id);
	g_hash_table_insert(s->tables, t->id, t);
	g_ptr_array_add(s->order, t);
	pgsizes = cli_format_pgsizes(t->pgt->cfg.pgsize_bitmap);
	fprintf(s->cli->out, "%s: %s ias=%u oas=%u pgsizes=%s root=0x%"
		G_GINT64_MODIFIER "x (adopted from %s)\n", t->id,
		t->pgt->fmt->name, t->pgt->cfg.ias, t->pgt->cfg.oas, pgsizes,
		t->pgt->root_pa, shown);
	return TRUE;
}

static const struct command {
	const char *name;
	int min_args;		/* words after the command */
	int max_args;
	const char *usage;
	cmd_fn fn;
} commands[] = {
	{ "load", 0, 1, "load [NAME]", cmd_load },
	{ "unload", 1, 2, "unload [--wait[=MS]] NAME", cmd_unload },
	{ "reload", 1, 1, "reload NAME", cmd_reload },
	{ "list", 0, 0, "list", cmd_list },
	{ "alloc", 2, 7, "alloc ID FORMAT [ias=N] [oas=N] [pgsizes=..] "
	  "[quirks=..] [coherent=0|1]", cmd_alloc },
	{ "map", 4, 6, "map ID IOVA PADDR SIZE [PROT] [pgsize=SZ]", cmd_map },
	{ "unmap", 3, 4, "unmap ID IOVA SIZE [pgsize=SZ]", cmd_unmap },
	{ "iova", 2, 2, "iova ID IOVA", cmd_iova },
	{ "dump", 1, 2, "dump ID [tree|json|dot]", cmd_dump },
	{ "free", 1, 1, "free ID", cmd_free },
	{ "save", 2, 2, "save ID FILE", cmd_save },
	{ "adopt", 2, 2, "adopt ID FILE", cmd_adopt },
};

const char cli_script_summary[] =
	"A script is one command per line; '#' starts a comment.\n"
	"  load [NAME]                  load NAME (softdeps first), or all\n"
	"  unload [--wait[=MS]] NAME    unload now, or when its last table goes\n"
	"  reload NAME                  map a new version of the file now\n"
	"  list                         the list table\n"
	"  alloc ID FORMAT [ias=N] [oas=N] [pgsizes=4K,2M] [quirks=Q,...]\n"
	"        [coherent=0|1]         make a table (defaults: the format's)\n"
	"  map ID IOVA PADDR SIZE [PROT] [pgsize=SZ]\n"
	"                               PROT letters r w c n m p (default rw)\n"
	"  unmap ID IOVA SIZE [pgsize=SZ]\n"
	"  iova ID IOVA                 the physical address, or none\n"
	"  dump ID [tree|json|dot]      every table and entry\n"
	"  free ID                      free the table\n"
	"  save ID FILE                 write an image of the table to a new\n"
	"                               FILE (an ELF core, docs/images.md)\n"
	"  adopt ID FILE                a live table again from such an image\n"
	"A line starting with '!' must fail.  Numbers: decimal or 0x hex with\n"
	"an optional K, M, G or T suffix.  The first unexpected failure stops\n"
	"the script: FILE:LINE: error: MESSAGE, exit status 1.\n";

/* ---- the runner ------------------------------------------------------------------ */

/* "; did you mean 'map'?" for a word close to a command */
static const char *command_name(const void *table, size_t i)
{
	return ((const struct command *)table)[i].name;
}

static const char *closest_command(const char *word)
{
	return cli_closest(word, commands, G_N_ELEMENTS(commands), command_name);
}

static gboolean unknown_command(const char *word, GError **error)
{
	const char *best = closest_command(word);

	if (best)
		return syntax(error, "unknown command '%s' (did you mean "
			      "'%s'?)", word, best);
	return syntax(error, "unknown command '%s'", word);
}

/*
 * After a command that succeeded: what the host logged while it ran.
 * Warnings are printed; an error line (a leak, say) fails the run.
 */
static void report_logged(struct script *s)
{
	const char *said = iopgt_host_get_last_error(s->cli->host);
	g_autofree char *safe = NULL, *where = NULL;

	if (!said || !*said)
		return;
	safe = cli_escape(said);
	/* line 0: the cleanup after the last line */
	if (s->line)
		where = g_strdup_printf("%s:%u", s->file, s->line);
	else
		where = g_strdup(s->file);
	if (s->cli->errors_logged) {
		cli_err("%s: error: %s\n", where, safe);
		s->status = EXIT_FAILED;
	} else {
		cli_err("%s: warning: %s\n", where, safe);
	}
}

static gboolean run_command(struct script *s, const struct command *cmd,
			    int argc, char **argv, GError **error)
{
	gboolean ok;

	iopgt_host_clear_last_error(s->cli->host);
	s->note = NULL;
	s->cli->errors_logged = 0;
	s->cli->in_command = true;
	ok = cmd->fn(s, argc, argv, error);
	s->cli->in_command = false;
	if (ok)
		report_logged(s);
	return ok;
}

static gboolean run_line(struct script *s, char *text, GError **error)
{
	g_auto(GStrv) words = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const struct command *cmd = NULL;
	gboolean expect_fail = FALSE;
	g_autoptr(GError) e = NULL;
	char *hash = strchr(text, '#');
	gboolean ok;
	int argc;

	if (hash)
		*hash = 0;
	words = g_strsplit_set(g_strstrip(text), " \t", -1);
	for (char **w = words; *w; w++)
		if (**w)
			g_ptr_array_add(argv, *w);
	if (!argv->len)
		return TRUE;
	if (((char *)argv->pdata[0])[0] == '!') {
		expect_fail = TRUE;
		if (((char *)argv->pdata[0])[1])
			argv->pdata[0] = (char *)argv->pdata[0] + 1;
		else
			g_ptr_array_remove_index(argv, 0);
		if (!argv->len)
			return syntax(error, "'!' without a command");
	}
	argc = (int)argv->len;
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (!strcmp(commands[i].name, argv->pdata[0]))
			cmd = &commands[i];
	if (!cmd)
		return unknown_command(argv->pdata[0], error);
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args)
		return syntax(error, "usage: %s", cmd->usage);

	ok = run_command(s, cmd, argc, (char **)argv->pdata, &e);
	if (!ok && e->code == IOPGT_CLI_ERROR_SYNTAX) {
		/* a malformed line is an error even after '!' */
		g_propagate_error(error, g_steal_pointer(&e));
		return FALSE;
	}
	if (expect_fail && ok)
		return syntax(error, "'%s' succeeded but the line expects it "
			      "to fail", cmd->name);
	if (expect_fail) {
		g_autofree char *msg = cli_escape(e->message);

		fprintf(s->cli->out, "expected failure: %s\n", msg);
		return TRUE;
	}
	if (!ok)
		g_propagate_error(error, g_steal_pointer(&e));
	return ok;
}

static void script_cleanup(struct script *s)
{
	s->line = 0;
	iopgt_host_clear_last_error(s->cli->host);
	s->cli->errors_logged = 0;
	s->cli->in_command = true;
	while (s->order->len)
		table_free(s, g_ptr_array_index(s->order, s->order->len - 1));
	iopgt_host_unload_all(s->cli->host);
	s->cli->in_command = false;
	report_logged(s);
	g_hash_table_unref(s->tables);
	g_ptr_array_unref(s->order);
}

/* The line of the first NUL byte, or 0 if there is none. */
static unsigned int nul_line(const char *data, size_t len)
{
	const char *nul = len ? memchr(data, 0, len) : NULL;
	unsigned int line = 1;

	if (!nul)
		return 0;
	for (const char *c = data; c < nul; c++)
		line += *c == '\n';
	return line;
}

int cli_run_script_data(struct cli *cli, const char *name, const char *data,
			size_t len)
{
	g_autofree char *file = cli_escape(name);
	struct script s = {
		.cli = cli,
		.file = file,
		.tables = g_hash_table_new(g_str_hash, g_str_equal),
		.order = g_ptr_array_new(),
	};
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) lines = NULL;
	unsigned int nul = nul_line(data, len);

	if (nul) {
		cli_err("%s:%u: error: line contains a NUL byte\n", s.file,
			nul);
		script_cleanup(&s);
		return EXIT_FAILED;
	}
	text = g_strndup(len ? data : "", len);
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		s.line++;
		if (cli->verbose) {
			g_autofree char *raw = g_strchomp(g_strdup(*l));
			g_autofree char *echo = cli_escape(raw);

			fprintf(cli->out, "> %s\n", echo);
		}
		if (!run_line(&s, *l, &error)) {
			g_autofree char *msg = cli_escape(error->message);

			cli_err("%s:%u: error: %s\n", s.file, s.line, msg);
			s.status = EXIT_FAILED;
			break;
		}
	}
	script_cleanup(&s);
	return s.status;
}

/*
 * Read a script: at most CLI_SCRIPT_MAX_BYTES, stopping after the first
 * NUL (the runner then names its line).  A read error is an error, never
 * a shorter script.  Returns: the bytes, or NULL with *why set.
 */
static GString *read_script(int fd, char **why)
{
	GString *in = g_string_new(NULL);
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = g_strdup_printf("cannot read: %s",
					       g_strerror(errno));
			break;
		}
		if (n == 0)
			return in;
		g_string_append_len(in, buf, n);
		if (memchr(buf, 0, (size_t)n))
			return in;
		if (in->len > CLI_SCRIPT_MAX_BYTES) {
			*why = g_strdup_printf("larger than %u MiB, the most a "
					       "script may be",
					       CLI_SCRIPT_MAX_BYTES >> 20);
			break;
		}
	}
	g_string_free(in, TRUE);
	return NULL;
}

int cli_run_script(struct cli *cli, const char *file)
{
	bool is_stdin = !file || !strcmp(file, "-");
	const char *name = is_stdin ? "<stdin>" : file;
	g_autofree char *why = NULL;
	GString *text = NULL;
	int fd = is_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	int status;

	if (fd < 0)
		why = g_strdup(g_strerror(errno));
	else
		text = read_script(fd, &why);
	if (fd >= 0 && !is_stdin)
		close(fd);
	if (!text) {
		g_autofree char *safe = cli_escape(name);
		g_autofree char *reason = cli_escape(why);

		cli_err("%s: error: %s\n", safe, reason);
		/* as after any script: nothing stays loaded */
		iopgt_host_unload_all(cli->host);
		return EXIT_FAILED;
	}
	status = cli_run_script_data(cli, name, text->str, text->len);
	g_string_free(text, TRUE);
	return status;
}
