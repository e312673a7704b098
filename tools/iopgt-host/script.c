// SPDX-License-Identifier: MIT
/*
 * `iopgt-host run FILE`: a script of page-table operations, one per line.
 *
 *   load [NAME]   unload [--wait[=MS]] NAME   reload NAME   list
 *   alloc ID FORMAT [ias=N] [oas=N] [pgsizes=4K,2M] [quirks=ns,...] [coherent=0|1]
 *   map ID IOVA PADDR SIZE [PROT] [pgsize=SZ]
 *   unmap ID IOVA SIZE [pgsize=SZ]
 *   iova ID IOVA           dump ID [tree|json|dot]   free ID
 *
 * A leading '!' asserts that the command fails.  The first unexpected
 * result stops the script with "FILE:LINE: error: message"; whatever is
 * left (tables, plugins) is then freed and unloaded in order, so a script
 * never leaks, whatever its lines say.
 */
#include <errno.h>
#include <string.h>
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
	GHashTable *tables;		/* id -> struct script_table * */
	GPtrArray *order;		/* struct script_table *, by alloc */
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
 * "WHAT: what the host said [strerror]", or "WHAT: strerror" when the host
 * said nothing: the host's messages name the file, format or table.
 */
static gboolean fail(struct script *s, GError **error, int err,
		     const char *fmt, ...)
{
	g_autofree char *what = NULL;
	g_autofree char *said = cli_take_host_errors(s->cli);
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (said && *said)
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "%s: %s [%s]", what, said, g_strerror(err));
	else
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "%s: %s", what, g_strerror(err));
	return FALSE;
}

/*
 * Script words end up in messages: control bytes but tab are printed as
 * octal escapes (as the manifest's g_strescape), so a line cannot drive
 * the terminal.  Other bytes, UTF-8 included, pass unchanged.
 */
static char *escape_controls(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
			g_string_append_printf(out, "\\%03o", *c);
		else
			g_string_append_c(out, (char)*c);
	}
	return g_string_free(out, FALSE);
}

/* Add the CLI's own explanation to what the host said for this command. */
static void note(struct script *s, const char *text)
{
	if (s->cli->host_errors->len)
		g_string_append(s->cli->host_errors, "; ");
	g_string_append(s->cli->host_errors, text);
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
	GHashTable *before;
	GPtrArray *now;
};

static void collect_loaded(struct iopgt_plugin *p, void *data)
{
	struct loaded_diff *d = data;

	if (iopgt_plugin_get_state(p) != IOPGT_PLUGIN_LOADED)
		return;
	if (d->now)
		g_ptr_array_add(d->now, p);
	else
		g_hash_table_add(d->before, (gpointer)iopgt_plugin_get_name(p));
}

/* ---- commands ------------------------------------------------------------------ */

static gboolean cmd_load(struct script *s, int argc, char **argv,
			 GError **error)
{
	struct loaded_diff d = {
		.before = g_hash_table_new(g_str_hash, g_str_equal),
	};
	gboolean ok = TRUE;
	int ret;

	iopgt_host_foreach_plugin(s->cli->host, collect_loaded, &d);
	if (argc == 1) {
		iopgt_host_scan(s->cli->host);
		ret = iopgt_host_load_all(s->cli->host);
		if (ret < 0)
			ok = fail(s, error, -ret, "load");
	} else {
		ret = iopgt_host_load_plugin(s->cli->host, argv[1], NULL);
		if (ret < 0)
			ok = fail(s, error, -ret, "load %s", argv[1]);
	}
	d.now = g_ptr_array_new();
	iopgt_host_foreach_plugin(s->cli->host, collect_loaded, &d);
	for (guint i = 0; i < d.now->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(d.now, i);

		if (!g_hash_table_contains(d.before, iopgt_plugin_get_name(p)))
			fprintf(s->cli->out, "loaded %s\n",
				iopgt_plugin_get_name(p));
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

	if (ret == -EINPROGRESS) {
		fprintf(s->cli->out, "%s unloads when its last table is "
			"freed\n", name);
		return TRUE;
	}
	if (ret < 0)
		return fail(s, error, -ret, "unload --wait %s", name);
	fprintf(s->cli->out, "unloaded %s\n", name);
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

/* Sizes a user most likely means when saying nothing. */
#define FALLBACK_PGSIZES	(SZ_4K | SZ_64K | SZ_1M | SZ_2M | SZ_16M | SZ_1G)

static gboolean cmd_alloc(struct script *s, int argc, char **argv,
			  GError **error)
{
	struct iopgt_cfg cfg = { .coherent_walk = true, .tlb = &script_tlb };
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
	/* an unknown format: iopgt_pgtable_new() fails and says why */
	iopgt_host_get_format_defaults(s->cli->host, argv[2], &cfg);
	if (!cfg.ias)
		cfg.ias = 32;
	if (!cfg.oas)
		cfg.oas = 32;
	if (!cfg.pgsize_bitmap)
		cfg.pgsize_bitmap = FALLBACK_PGSIZES;

	t = g_new0(struct script_table, 1);
	t->id = g_strdup(argv[1]);
	ret = iopgt_pgtable_new(s->cli->host, argv[2], &cfg, t, &t->pgt);
	if (ret < 0) {
		g_free(t->id);
		g_free(t);
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

/* map_pages in a loop, as a caller must when a format stops early */
static int map_with_pgsize(struct script *s, struct script_table *t,
			   uint64_t iova, uint64_t paddr, uint64_t size,
			   uint64_t pgsize, int prot)
{
	uint64_t done = 0;

	while (done < size) {
		size_t mapped = 0;
		int ret = iopgt_pgtable_map_pages(s->cli->host, t->pgt,
						  iova + done, paddr + done,
						  pgsize, (size - done) / pgsize,
						  prot, &mapped);

		done += mapped;
		if (ret)
			return ret;
		if (!mapped)
			return -EPROTO;
	}
	return 0;
}

/*
 * A big map on a terminal shows its progress on stderr (never when piped,
 * so scripted output stays exact).  It goes 1 GiB of iova at a time: no
 * page size of any format spans a 1 GiB-aligned iova boundary, so the
 * pieces map exactly what one call would, and a failure unmaps the pieces
 * already mapped, as one call would.
 */
#define PROGRESS_CHUNK	(1ULL << 30)
#define PROGRESS_MIN	(16ULL << 30)

static int map_with_progress(struct script *s, struct script_table *t,
			     uint64_t iova, uint64_t paddr, uint64_t size,
			     int prot)
{
	struct iopgt_host *host = s->cli->host;
	uint64_t done = 0;
	int ret = 0;

	if (size < PROGRESS_MIN || !isatty(STDERR_FILENO))
		return iopgt_pgtable_map(host, t->pgt, iova, paddr, size, prot);
	while (done < size) {
		uint64_t end = MIN((iova + done + PROGRESS_CHUNK) &
				   ~(PROGRESS_CHUNK - 1), iova + size);
		uint64_t n = end - (iova + done);

		ret = iopgt_pgtable_map(host, t->pgt, iova + done,
					paddr + done, n, prot);
		if (ret < 0)
			break;
		done += n;
		fprintf(stderr, "\rmap %s: %3u%% (%" G_GUINT64_FORMAT
			" of %" G_GUINT64_FORMAT " MiB)", t->id,
			(unsigned int)(done * 100 / size), done >> 20,
			size >> 20);
	}
	fputs("\r\033[K", stderr);
	if (ret < 0 && done)
		iopgt_pgtable_unmap(host, t->pgt, iova, done, NULL);
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
		ret = map_with_pgsize(s, t, iova, paddr, size, pgsize, prot);
	} else {
		ret = map_with_progress(s, t, iova, paddr, size, prot);
	}
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
	p = iopgt_pgtable_get_plugin(s->cli->host, t->pgt);
	going = iopgt_plugin_get_state(p) == IOPGT_PLUGIN_GOING;
	table_free(s, t);
	/* the last table of a plugin waiting to go (unload --wait, reload) */
	if (going && iopgt_plugin_get_state(p) == IOPGT_PLUGIN_UNLOADED)
		fprintf(s->cli->out, "unloaded %s %s (its last table went)\n",
			iopgt_plugin_get_name(p), iopgt_plugin_get_version(p));
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
};

/* ---- the runner ------------------------------------------------------------------ */

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
		return syntax(error, "unknown command '%s'",
			      (char *)argv->pdata[0]);
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args)
		return syntax(error, "usage: %s", cmd->usage);

	g_free(cli_take_host_errors(s->cli));
	s->cli->capture = true;
	ok = cmd->fn(s, argc, (char **)argv->pdata, &e);
	s->cli->capture = false;
	if (!ok && e->code == IOPGT_CLI_ERROR_SYNTAX) {
		/* a malformed line is an error even after '!' */
		g_propagate_error(error, g_steal_pointer(&e));
		return FALSE;
	}
	if (expect_fail && ok)
		return syntax(error, "'%s' succeeded but the line expects it "
			      "to fail", cmd->name);
	if (expect_fail) {
		g_autofree char *msg = escape_controls(e->message);

		fprintf(s->cli->out, "expected failure: %s\n", msg);
		return TRUE;
	}
	if (!ok)
		g_propagate_error(error, g_steal_pointer(&e));
	return ok;
}

static void script_cleanup(struct script *s)
{
	while (s->order->len)
		table_free(s, g_ptr_array_index(s->order, s->order->len - 1));
	iopgt_host_unload_all(s->cli->host);
	g_hash_table_unref(s->tables);
	g_ptr_array_unref(s->order);
}

int cli_run_script_data(struct cli *cli, const char *name, const char *data,
			size_t len)
{
	struct script s = {
		.cli = cli,
		.file = name,
		.tables = g_hash_table_new(g_str_hash, g_str_equal),
		.order = g_ptr_array_new(),
	};
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) lines = NULL;
	int status = EXIT_OK;

	if (len && memchr(data, 0, len)) {
		const char *nul = memchr(data, 0, len);
		unsigned int line = 1;

		for (const char *c = data; c < nul; c++)
			line += *c == '\n';
		fprintf(stderr, "%s:%u: error: line contains a NUL byte\n",
			s.file, line);
		script_cleanup(&s);
		return EXIT_FAILED;
	}
	text = g_strndup(len ? data : "", len);
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		s.line++;
		if (cli->verbose) {
			g_autofree char *raw = g_strchomp(g_strdup(*l));
			g_autofree char *echo = escape_controls(raw);

			fprintf(cli->out, "> %s\n", echo);
		}
		if (!run_line(&s, *l, &error)) {
			g_autofree char *msg = escape_controls(error->message);

			fprintf(stderr, "%s:%u: error: %s\n", s.file, s.line,
				msg);
			status = EXIT_FAILED;
			break;
		}
	}
	script_cleanup(&s);
	return status;
}

int cli_run_script(struct cli *cli, const char *file)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;

	if (!file || !strcmp(file, "-")) {
		GString *in = g_string_new(NULL);
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(in, buf, n);
		len = in->len;
		text = g_string_free(in, FALSE);
		return cli_run_script_data(cli, "<stdin>", text, len);
	}
	if (!g_file_get_contents(file, &text, &len, &error)) {
		fprintf(stderr, "%s: error: %s\n", file, error->message);
		/* as after any script: nothing stays loaded */
		iopgt_host_unload_all(cli->host);
		return EXIT_FAILED;
	}
	return cli_run_script_data(cli, file, text, len);
}
