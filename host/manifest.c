// SPDX-License-Identifier: MIT
/*
 * The softdep manifest: a modprobe.d(5)-style text file, and the load
 * planner that turns it plus a list of discovered plugins into a load order.
 *
 * Supported:
 *   softdep NAME pre: A B post: C D   (pre:/post: in any order, repeatable)
 *   blacklist NAME
 *   '#' comments, blank lines, '\' continuation, CRLF line ends.
 * Not supported (unknown directive): alias, options, install, remove,
 *   weakdep; globs in names (kmod matches softdep names with fnmatch()).
 *
 * Where it differs from kmod on purpose (see docs/manifest.md):
 *   - every softdep line for a name counts, merged in declaration order;
 *     kmod honours only the first (kmod#33);
 *   - a bad line is reported as "FILE:LINE: message" and ignored as a
 *     whole, instead of being half-applied;
 *   - the order is one stable topological order over sorted names, and a
 *     softdep cycle is reported by name (depmod style) instead of being
 *     silently broken at run time.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "iopgt-internal.h"

G_DEFINE_QUARK(iopgt-manifest-error-quark, iopgt_manifest_error)

/* A logical line (continuations joined) longer than this is refused. */
#define MANIFEST_LINE_MAX	4096

enum softdep_kind {
	SOFTDEP_PRE,
	SOFTDEP_POST,
	SOFTDEP_NR_KINDS,
};

static const char *const softdep_mode[SOFTDEP_NR_KINDS] = {
	[SOFTDEP_PRE] = "pre:",
	[SOFTDEP_POST] = "post:",
};

/* Merged dependencies of one name; the arrays point into m->strings. */
struct softdep {
	GPtrArray *deps[SOFTDEP_NR_KINDS];	/* canonical names */
	GPtrArray *origins[SOFTDEP_NR_KINDS];	/* "FILE:LINE", parallel */
};

struct iopgt_manifest {
	GStringChunk *strings;	/* every name and origin, interned */
	GHashTable *softdeps;	/* name -> struct softdep */
	GHashTable *blacklist;	/* name -> origin of its first blacklist */
	GPtrArray *empty;	/* what get_pre/get_post return for none */
};

/* ---- the manifest object ------------------------------------------------- */

static void softdep_free(gpointer data)
{
	struct softdep *sd = data;

	for (int k = 0; k < SOFTDEP_NR_KINDS; k++) {
		g_ptr_array_unref(sd->deps[k]);
		g_ptr_array_unref(sd->origins[k]);
	}
	g_free(sd);
}

struct iopgt_manifest *iopgt_manifest_new(void)
{
	struct iopgt_manifest *m = g_new0(struct iopgt_manifest, 1);

	m->strings = g_string_chunk_new(1024);
	/* keys live in m->strings */
	m->softdeps = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    softdep_free);
	m->blacklist = g_hash_table_new(g_str_hash, g_str_equal);
	m->empty = g_ptr_array_new();
	return m;
}

void iopgt_manifest_free(struct iopgt_manifest *m)
{
	if (!m)
		return;
	g_hash_table_unref(m->softdeps);
	g_hash_table_unref(m->blacklist);
	g_ptr_array_unref(m->empty);
	g_string_chunk_free(m->strings);
	g_free(m);
}

static const char *intern(struct iopgt_manifest *m, const char *s)
{
	return g_string_chunk_insert_const(m->strings, s);
}

static const char *intern_canonical(struct iopgt_manifest *m,
				    const char *name)
{
	g_autofree char *c = iopgt_name_canonical(name);

	return intern(m, c);
}

static struct softdep *softdep_get(struct iopgt_manifest *m, const char *name)
{
	struct softdep *sd = g_hash_table_lookup(m->softdeps, name);

	if (sd)
		return sd;
	sd = g_new0(struct softdep, 1);
	for (int k = 0; k < SOFTDEP_NR_KINDS; k++) {
		sd->deps[k] = g_ptr_array_new();
		sd->origins[k] = g_ptr_array_new();
	}
	g_hash_table_insert(m->softdeps, (gpointer)name, sd);
	return sd;
}

/* Interned strings compare by pointer: the chunk stores each text once. */
static void softdep_add(struct softdep *sd, enum softdep_kind k,
			const char *dep, const char *origin)
{
	for (guint i = 0; i < sd->deps[k]->len; i++)
		if (g_ptr_array_index(sd->deps[k], i) == dep)
			return;
	g_ptr_array_add(sd->deps[k], (gpointer)dep);
	g_ptr_array_add(sd->origins[k], (gpointer)origin);
}

/* ---- lookups ------------------------------------------------------------- */

static const struct softdep *softdep_lookup(const struct iopgt_manifest *m,
					    const char *name)
{
	g_autofree char *c = iopgt_name_canonical(name);

	return g_hash_table_lookup(m->softdeps, c);
}

const char *iopgt_manifest_blacklist_origin(const struct iopgt_manifest *m,
					    const char *name)
{
	g_autofree char *c = NULL;

	g_return_val_if_fail(m, NULL);
	g_return_val_if_fail(name, NULL);
	c = iopgt_name_canonical(name);
	return g_hash_table_lookup(m->blacklist, c);
}

bool iopgt_manifest_is_blacklisted(const struct iopgt_manifest *m,
				   const char *name)
{
	return iopgt_manifest_blacklist_origin(m, name) != NULL;
}

static const GPtrArray *get_deps(const struct iopgt_manifest *m,
				 const char *name, enum softdep_kind k)
{
	const struct softdep *sd;

	g_return_val_if_fail(m, NULL);
	g_return_val_if_fail(name, m->empty);
	sd = softdep_lookup(m, name);
	return sd ? sd->deps[k] : m->empty;
}

const GPtrArray *iopgt_manifest_get_pre(const struct iopgt_manifest *m,
					const char *name)
{
	return get_deps(m, name, SOFTDEP_PRE);
}

const GPtrArray *iopgt_manifest_get_post(const struct iopgt_manifest *m,
					 const char *name)
{
	return get_deps(m, name, SOFTDEP_POST);
}

/* ---- parsing one logical line -------------------------------------------- */

/*
 * Tokens point into the line buffer; a token that starts with '#' starts a
 * comment, so "a#b" stays one (invalid) name while "a #b" is "a".
 */
struct line {
	const char *origin;	/* "FILE:LINE", interned only when applied */
	char **tok;
	guint ntok;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static GPtrArray *tokenize(char *text)
{
	GPtrArray *tok = g_ptr_array_new();
	char *p = text;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			break;
		g_ptr_array_add(tok, p);
		while (*p && !is_blank(*p))
			p++;
		if (!*p)
			break;
		*p++ = '\0';
	}
	return tok;
}

/* User text goes into messages escaped, so a line cannot inject control
 * characters into a terminal or log. */
static char *name_problem(const char *name)
{
	g_autofree char *e = NULL;

	if (iopgt_name_is_valid(name))
		return NULL;
	e = g_strescape(name, NULL);
	if (strchr(name, '/') || strstr(name, "..") || name[0] == '.')
		return g_strdup_printf("invalid plugin name '%s': names are plugin names, not paths",
				       e);
	if (strlen(name) > IOPGT_NAME_MAX)
		return g_strdup_printf("invalid plugin name '%s': longer than %d bytes",
				       e, IOPGT_NAME_MAX);
	return g_strdup_printf("invalid plugin name '%s': use only letters, digits, '-', '_' and '.'",
			       e);
}

static int mode_of(const char *tok)
{
	for (int k = 0; k < SOFTDEP_NR_KINDS; k++)
		if (!strcmp(tok, softdep_mode[k]))
			return k;
	return -1;
}

/* "pre:a" is a typo for "pre: a", worth its own message. */
static const char *glued_mode(const char *tok)
{
	for (int k = 0; k < SOFTDEP_NR_KINDS; k++)
		if (g_str_has_prefix(tok, softdep_mode[k]))
			return softdep_mode[k];
	return NULL;
}

/* "pre" is "pre:" with its colon forgotten, not a plugin called "pre". */
static const char *bare_mode(const char *tok)
{
	for (int k = 0; k < SOFTDEP_NR_KINDS; k++)
		if (!strncmp(tok, softdep_mode[k], strlen(tok)) &&
		    strlen(tok) + 1 == strlen(softdep_mode[k]))
			return softdep_mode[k];
	return NULL;
}

/* The tokens after "softdep NAME": mode tokens, each followed by names. */
static char *softdep_check_deps(const char *name, char *const *tok,
				guint ntok)
{
	int mode = -1;
	guint count = 0;

	for (guint i = 0; i < ntok; i++) {
		int k = mode_of(tok[i]);
		g_autofree char *e = NULL;

		if (k >= 0) {
			if (mode >= 0 && !count)
				break;
			mode = k;
			count = 0;
			continue;
		}
		if (bare_mode(tok[i]))
			return g_strdup_printf("softdep %s: '%s' is missing its colon ('%s')",
					       name, tok[i], bare_mode(tok[i]));
		if (mode >= 0 && !glued_mode(tok[i])) {
			if (!iopgt_name_is_valid(tok[i]))
				return name_problem(tok[i]);
			count++;
			continue;
		}
		e = g_strescape(tok[i], NULL);
		if (glued_mode(tok[i]))
			return g_strdup_printf("softdep %s: '%s' needs a space after '%s'",
					       name, e, glued_mode(tok[i]));
		return g_strdup_printf("softdep %s: '%s' comes before any 'pre:' or 'post:'",
				       name, e);
	}
	/* mode is set: a name before any mode has returned above */
	if (count)
		return NULL;
	return g_strdup_printf("softdep %s: '%s' names no plugin", name,
			       softdep_mode[mode]);
}

/* Every check before any change, so a bad line changes nothing. */
static char *softdep_check(const struct line *l)
{
	const char *name = l->ntok > 1 ? l->tok[1] : NULL;

	if (!name)
		return g_strdup("softdep: missing plugin name");
	if (mode_of(name) >= 0)
		return g_strdup_printf("softdep: missing plugin name before '%s'",
				       name);
	if (!iopgt_name_is_valid(name))
		return name_problem(name);
	if (l->ntok == 2)
		return g_strdup_printf("softdep %s: no 'pre:' or 'post:' dependencies",
				       name);
	return softdep_check_deps(name, l->tok + 2, l->ntok - 2);
}

static char *parse_softdep(struct iopgt_manifest *m, const struct line *l)
{
	const char *origin;
	struct softdep *sd;
	int mode = -1;
	char *msg;

	msg = softdep_check(l);
	if (msg)
		return msg;

	origin = intern(m, l->origin);
	sd = softdep_get(m, intern_canonical(m, l->tok[1]));
	for (guint i = 2; i < l->ntok; i++) {
		int k = mode_of(l->tok[i]);

		if (k >= 0)
			mode = k;
		else
			softdep_add(sd, mode, intern_canonical(m, l->tok[i]),
				    origin);
	}
	return NULL;
}

static char *parse_blacklist(struct iopgt_manifest *m, const struct line *l)
{
	const char *name;

	if (l->ntok < 2)
		return g_strdup("blacklist: missing plugin name");
	if (l->ntok > 2)
		return g_strdup_printf("blacklist: takes one plugin name, got %u",
				       l->ntok - 1);
	if (!iopgt_name_is_valid(l->tok[1]))
		return name_problem(l->tok[1]);

	/* The first blacklist line is the one worth pointing at. */
	name = intern_canonical(m, l->tok[1]);
	if (!g_hash_table_contains(m->blacklist, name))
		g_hash_table_insert(m->blacklist, (gpointer)name,
				    (gpointer)intern(m, l->origin));
	return NULL;
}

static const struct {
	const char *name;
	char *(*parse)(struct iopgt_manifest *m, const struct line *l);
} directives[] = {
	{ "softdep", parse_softdep },
	{ "blacklist", parse_blacklist },
};

/* Returns: NULL if the line was applied, else the message (g_free it). */
static char *parse_line(struct iopgt_manifest *m, const char *origin,
			char *text)
{
	g_autoptr(GPtrArray) tok = tokenize(text);
	struct line l = {
		.origin = origin,
		.tok = (char **)tok->pdata,
		.ntok = tok->len,
	};
	g_autofree char *e = NULL;

	if (!l.ntok)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(directives); i++)
		if (!strcmp(l.tok[0], directives[i].name))
			return directives[i].parse(m, &l);
	e = g_strescape(l.tok[0], NULL);
	return g_strdup_printf("unknown directive '%s'", e);
}

/* ---- splitting the data into logical lines ------------------------------- */

struct reader {
	const char *data;
	gsize len;
	gsize pos;
	guint lineno;		/* of the next physical line */
};

struct logical_line {
	GString *text;		/* continuations joined, '\' and '\n' removed */
	guint lineno;		/* where it started */
	bool has_nul;
	bool too_long;
	bool unterminated;	/* '\' on the last line of the data */
};

/*
 * Consume one physical line and append it to ll.  Returns: true if it ends
 * in '\' (the next physical line continues it).
 */
static bool read_physical(struct reader *r, struct logical_line *ll)
{
	const char *p = r->data + r->pos;
	const char *eol = memchr(p, '\n', r->len - r->pos);
	gsize n = eol ? (gsize)(eol - p) : r->len - r->pos;
	bool cont;

	r->pos += eol ? n + 1 : n;
	r->lineno++;

	if (memchr(p, '\0', n))
		ll->has_nul = true;
	if (n && p[n - 1] == '\r')	/* CRLF: the '\' comes before the CR */
		n--;
	cont = n && p[n - 1] == '\\';
	if (cont)
		n--;
	/* A refused line is not copied: a huge one costs no memory. */
	if (ll->has_nul || ll->too_long)
		return cont;
	if (ll->text->len + n > MANIFEST_LINE_MAX)
		ll->too_long = true;
	else
		g_string_append_len(ll->text, p, n);
	return cont;
}

/* Returns: false at the end of the data. */
static bool read_logical(struct reader *r, struct logical_line *ll)
{
	if (r->pos >= r->len)
		return false;
	g_string_truncate(ll->text, 0);
	ll->lineno = r->lineno;
	ll->has_nul = ll->too_long = ll->unterminated = false;

	while (read_physical(r, ll)) {
		if (r->pos >= r->len) {
			ll->unterminated = true;
			break;
		}
	}
	return true;
}

static char *logical_line_problem(const struct logical_line *ll)
{
	if (ll->has_nul)
		return g_strdup("line contains a NUL byte");
	if (ll->too_long)
		return g_strdup_printf("line is longer than %d bytes",
				       MANIFEST_LINE_MAX);
	if (ll->unterminated)
		return g_strdup("'\\' continues the last line past the end of the file");
	return NULL;
}

static void report(const char *filename, guint lineno, const char *msg,
		   GPtrArray *diagnostics, GError **error, bool *ok)
{
	g_autofree char *text = g_strdup_printf("%s:%u: %s", filename, lineno,
						msg);

	if (*ok)
		g_set_error_literal(error, IOPGT_MANIFEST_ERROR,
				    IOPGT_MANIFEST_ERROR_PARSE, text);
	*ok = false;
	if (diagnostics)
		g_ptr_array_add(diagnostics, g_steal_pointer(&text));
}

gboolean iopgt_manifest_parse_data(struct iopgt_manifest *m,
				   const char *filename, const char *data,
				   gsize len, GPtrArray *diagnostics,
				   GError **error)
{
	struct reader r = { .data = data, .len = len, .lineno = 1 };
	struct logical_line ll = { 0 };
	bool ok = true;

	g_return_val_if_fail(m, FALSE);
	g_return_val_if_fail(filename, FALSE);
	g_return_val_if_fail(data || !len, FALSE);
	g_return_val_if_fail(!error || !*error, FALSE);

	ll.text = g_string_sized_new(128);
	while (read_logical(&r, &ll)) {
		g_autofree char *origin = g_strdup_printf("%s:%u", filename,
							  ll.lineno);
		g_autofree char *msg = logical_line_problem(&ll);

		if (!msg)
			msg = parse_line(m, origin, ll.text->str);
		if (msg)
			report(filename, ll.lineno, msg, diagnostics, error,
			       &ok);
	}
	g_string_free(ll.text, TRUE);
	return ok;
}

/*
 * Our own reader rather than g_file_get_contents(): its message repeats
 * the path and its errno is not kept, and we want "PATH: strerror".
 */
static char *read_all(const char *path, gsize *len, int *err)
{
	GString *buf = g_string_new(NULL);
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		goto out_errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out_close;
		g_string_append_len(buf, chunk, n);
	}
	close(fd);
	*len = buf->len;
	return g_string_free(buf, FALSE);

out_close:
	*err = errno;
	close(fd);
	g_string_free(buf, TRUE);
	return NULL;
out_errno:
	*err = errno;
	g_string_free(buf, TRUE);
	return NULL;
}

gboolean iopgt_manifest_parse_file(struct iopgt_manifest *m, const char *path,
				   GPtrArray *diagnostics, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	int err = 0;

	g_return_val_if_fail(m, FALSE);
	g_return_val_if_fail(path, FALSE);

	data = read_all(path, &len, &err);
	if (!data) {
		g_set_error(error, IOPGT_MANIFEST_ERROR,
			    IOPGT_MANIFEST_ERROR_IO, "%s: %s", path,
			    g_strerror(err));
		return FALSE;
	}
	return iopgt_manifest_parse_data(m, path, data, len, diagnostics,
					 error);
}

/* ---- the dependency graph ------------------------------------------------ */

/*
 * Nodes are indexed in sorted name order, so "smallest index" is "smallest
 * name" everywhere below and every tie is broken by name.
 */
struct graph {
	guint n;
	const char **names;	/* borrowed, sorted */
	GHashTable *index;	/* name -> index + 1 */
	GArray **succ;		/* guint: sorted, unique after graph_finish() */
};

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_uint(gconstpointer a, gconstpointer b)
{
	guint x = *(const guint *)a, y = *(const guint *)b;

	return (x > y) - (x < y);
}

/* names must be sorted and unique. */
static struct graph *graph_new(const GPtrArray *names)
{
	struct graph *g = g_new0(struct graph, 1);

	g->n = names->len;
	g->names = (const char **)names->pdata;
	g->index = g_hash_table_new(g_str_hash, g_str_equal);
	g->succ = g_new0(GArray *, g->n);
	for (guint i = 0; i < g->n; i++) {
		g_hash_table_insert(g->index, (gpointer)g->names[i],
				    GUINT_TO_POINTER(i + 1));
		g->succ[i] = g_array_new(FALSE, FALSE, sizeof(guint));
	}
	return g;
}

static void graph_free(struct graph *g)
{
	if (!g)
		return;
	for (guint i = 0; i < g->n; i++)
		g_array_unref(g->succ[i]);
	g_free(g->succ);
	g_hash_table_unref(g->index);
	g_free(g);
}

/* Returns: the node of name, or -1. */
static int graph_node(const struct graph *g, const char *name)
{
	return (int)GPOINTER_TO_UINT(g_hash_table_lookup(g->index, name)) - 1;
}

static void graph_add_edge(struct graph *g, guint from, guint to)
{
	g_array_append_val(g->succ[from], to);
}

/* Sorted successors make every walk visit edges in name order. */
static void graph_finish(struct graph *g)
{
	for (guint i = 0; i < g->n; i++) {
		GArray *s = g->succ[i];
		guint out = 0;

		g_array_sort(s, cmp_uint);
		for (guint j = 0; j < s->len; j++)
			if (!out || g_array_index(s, guint, out - 1) !=
				    g_array_index(s, guint, j))
				g_array_index(s, guint, out++) =
					g_array_index(s, guint, j);
		g_array_set_size(s, out);
	}
}

static guint succ_at(const struct graph *g, guint v, guint i)
{
	return g_array_index(g->succ[v], guint, i);
}

/* ---- strongly connected components (Tarjan, iterative) ------------------- */

struct dfs_frame {
	guint v;
	guint next;		/* next successor to look at */
};

struct tarjan {
	const struct graph *g;
	guint *index;		/* 0 = not visited yet */
	guint *low;
	bool *on_stack;
	guint *comp;
	guint counter;
	guint ncomp;
	GArray *stack;		/* guint: Tarjan's node stack */
	GArray *calls;		/* struct dfs_frame: the recursion, unrolled */
};

static void tarjan_enter(struct tarjan *t, guint v)
{
	struct dfs_frame f = { .v = v };

	t->index[v] = t->low[v] = ++t->counter;
	g_array_append_val(t->stack, v);
	t->on_stack[v] = true;
	g_array_append_val(t->calls, f);
}

/* v is done: if it is a component's root, pop the component. */
static void tarjan_leave(struct tarjan *t, guint v)
{
	guint w;

	if (t->low[v] == t->index[v]) {
		do {
			w = g_array_index(t->stack, guint, t->stack->len - 1);
			g_array_set_size(t->stack, t->stack->len - 1);
			t->on_stack[w] = false;
			t->comp[w] = t->ncomp;
		} while (w != v);
		t->ncomp++;
	}
	g_array_set_size(t->calls, t->calls->len - 1);
	if (t->calls->len) {
		guint u = g_array_index(t->calls, struct dfs_frame,
					t->calls->len - 1).v;

		t->low[u] = MIN(t->low[u], t->low[v]);
	}
}

static void tarjan_from(struct tarjan *t, guint root)
{
	tarjan_enter(t, root);
	while (t->calls->len) {
		struct dfs_frame *f = &g_array_index(t->calls, struct dfs_frame,
						     t->calls->len - 1);
		guint v = f->v, w;

		if (f->next == t->g->succ[v]->len) {
			tarjan_leave(t, v);
			continue;
		}
		w = succ_at(t->g, v, f->next++);
		if (!t->index[w])
			tarjan_enter(t, w);	/* invalidates f */
		else if (t->on_stack[w])
			t->low[v] = MIN(t->low[v], t->index[w]);
	}
}

/*
 * comp[v] = component of v.  Returns: on_cycle[v], true when v's component
 * has more than one node or v depends on itself.  g_free() both.
 */
static bool *graph_cycles(const struct graph *g, guint **comp_out)
{
	struct tarjan t = { .g = g };
	guint *size;
	bool *on_cycle = g_new0(bool, g->n);

	t.index = g_new0(guint, g->n);
	t.low = g_new0(guint, g->n);
	t.on_stack = g_new0(bool, g->n);
	t.comp = g_new0(guint, g->n);
	t.stack = g_array_new(FALSE, FALSE, sizeof(guint));
	t.calls = g_array_new(FALSE, FALSE, sizeof(struct dfs_frame));
	for (guint v = 0; v < g->n; v++)
		if (!t.index[v])
			tarjan_from(&t, v);

	size = g_new0(guint, t.ncomp);
	for (guint v = 0; v < g->n; v++)
		size[t.comp[v]]++;
	for (guint v = 0; v < g->n; v++) {
		on_cycle[v] = size[t.comp[v]] > 1;
		for (guint i = 0; i < g->succ[v]->len; i++)
			if (succ_at(g, v, i) == v)
				on_cycle[v] = true;
	}

	g_free(size);
	g_free(t.index);
	g_free(t.low);
	g_free(t.on_stack);
	g_array_unref(t.stack);
	g_array_unref(t.calls);
	*comp_out = t.comp;
	return on_cycle;
}

/* ---- naming a cycle ------------------------------------------------------ */

/* "a -> b -> a" for the path p[0] -> ... -> p[n-1] -> p[0], rotated to
 * start at its smallest name so every member prints the same text. */
static char *cycle_text(const struct graph *g, const struct dfs_frame *p,
			guint n)
{
	GString *s = g_string_new(NULL);
	guint start = 0;

	for (guint i = 1; i < n; i++)
		if (p[i].v < p[start].v)
			start = i;
	for (guint i = 0; i <= n; i++)
		g_string_append_printf(s, "%s%s", i ? " -> " : "",
				       g->names[p[(start + i) % n].v]);
	return g_string_free(s, FALSE);
}

/*
 * A cycle through x: depth first from x, successors in name order, until
 * an edge leads back to x.  comp, if not NULL, keeps the walk inside x's
 * component (a pure speed-up: nothing outside it leads back to x).
 * Returns: the cycle text (g_free it) or NULL if x is on no cycle.
 */
static char *graph_cycle_through(const struct graph *g, guint x,
				 const guint *comp)
{
	g_autoptr(GArray) path = g_array_new(FALSE, FALSE,
					     sizeof(struct dfs_frame));
	g_autofree bool *seen = g_new0(bool, g->n);
	struct dfs_frame f = { .v = x };

	seen[x] = true;
	g_array_append_val(path, f);
	while (path->len) {
		struct dfs_frame *top = &g_array_index(path, struct dfs_frame,
						       path->len - 1);
		guint w;

		if (top->next == g->succ[top->v]->len) {
			g_array_set_size(path, path->len - 1);
			continue;
		}
		w = succ_at(g, top->v, top->next++);
		if (w == x)
			return cycle_text(g, (struct dfs_frame *)path->data,
					  path->len);
		if (seen[w] || (comp && comp[w] != comp[x]))
			continue;
		seen[w] = true;
		f.v = w;
		g_array_append_val(path, f);
	}
	return NULL;
}

/* ---- the manifest as a graph (for find_cycle) ---------------------------- */

static void add_name(GHashTable *set, const char *name)
{
	g_hash_table_add(set, (gpointer)name);
}

/* Every name the manifest mentions except blacklisted ones, sorted. */
static GPtrArray *manifest_names(const struct iopgt_manifest *m)
{
	g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it;
	gpointer key, value;
	GPtrArray *names;

	g_hash_table_iter_init(&it, m->softdeps);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		const struct softdep *sd = value;

		add_name(set, key);
		for (int k = 0; k < SOFTDEP_NR_KINDS; k++)
			for (guint i = 0; i < sd->deps[k]->len; i++)
				add_name(set, sd->deps[k]->pdata[i]);
	}
	g_hash_table_iter_init(&it, m->blacklist);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_hash_table_remove(set, key);

	names = g_ptr_array_sized_new(g_hash_table_size(set));
	g_hash_table_iter_init(&it, set);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(names, key);
	g_ptr_array_sort(names, cmp_str);
	return names;
}

/*
 * The softdep edges of name b, for both users of the graph: "pre: a" is
 * a -> b, "post: c" is b -> c.  Returns: the other end, or -1 if it is not
 * a node (missing or blacklisted).
 */
static int softdep_edge(const struct graph *g, guint b, enum softdep_kind k,
			const char *dep, guint *from, guint *to)
{
	int d = graph_node(g, dep);

	if (d < 0)
		return -1;
	*from = k == SOFTDEP_PRE ? (guint)d : b;
	*to = k == SOFTDEP_PRE ? b : (guint)d;
	return d;
}

char *iopgt_manifest_find_cycle(const struct iopgt_manifest *m,
				const char *name)
{
	g_autoptr(GPtrArray) names = NULL;
	g_autofree char *c = NULL;
	struct graph *g;
	char *cycle;
	int x;

	g_return_val_if_fail(m, NULL);
	g_return_val_if_fail(name, NULL);

	names = manifest_names(m);
	g = graph_new(names);
	for (guint b = 0; b < g->n; b++) {
		const struct softdep *sd = g_hash_table_lookup(m->softdeps,
							       g->names[b]);
		guint from, to;

		for (int k = 0; sd && k < SOFTDEP_NR_KINDS; k++)
			for (guint i = 0; i < sd->deps[k]->len; i++)
				if (softdep_edge(g, b, k, sd->deps[k]->pdata[i],
						 &from, &to) >= 0)
					graph_add_edge(g, from, to);
	}
	graph_finish(g);

	c = iopgt_name_canonical(name);
	x = graph_node(g, c);
	cycle = x < 0 ? NULL : graph_cycle_through(g, x, NULL);
	graph_free(g);
	return cycle;
}

/* ---- the plan ------------------------------------------------------------ */

static void plan_entry_free(gpointer data)
{
	struct iopgt_mplan_entry *e = data;

	g_free(e->name);
	g_free(e->reason);
	g_free(e);
}

static void plan_edge_free(gpointer data)
{
	struct iopgt_mplan_edge *e = data;

	g_free(e->before);
	g_free(e->after);
	g_free(e->reason);
	g_free(e);
}

void iopgt_mplan_free(struct iopgt_mplan *plan)
{
	if (!plan)
		return;
	g_ptr_array_unref(plan->entries);
	g_ptr_array_unref(plan->edges);
	g_ptr_array_unref(plan->warnings);
	g_ptr_array_unref(plan->errors);
	g_free(plan);
}

static struct iopgt_mplan *plan_new(void)
{
	struct iopgt_mplan *plan = g_new0(struct iopgt_mplan, 1);

	plan->entries = g_ptr_array_new_with_free_func(plan_entry_free);
	plan->edges = g_ptr_array_new_with_free_func(plan_edge_free);
	plan->warnings = g_ptr_array_new_with_free_func(g_free);
	plan->errors = g_ptr_array_new_with_free_func(g_free);
	return plan;
}

/* reason is taken over. */
static struct iopgt_mplan_entry *plan_entry(const char *name,
					   enum iopgt_mplan_action action,
					   char *reason)
{
	struct iopgt_mplan_entry *e = g_new0(struct iopgt_mplan_entry, 1);

	e->name = g_strdup(name);
	e->action = action;
	e->reason = reason;
	return e;
}

static int cmp_entry(gconstpointer a, gconstpointer b)
{
	const struct iopgt_mplan_entry *x = *(const struct iopgt_mplan_entry **)a;
	const struct iopgt_mplan_entry *y = *(const struct iopgt_mplan_entry **)b;

	return strcmp(x->name, y->name);
}

static int cmp_edge(gconstpointer a, gconstpointer b)
{
	const struct iopgt_mplan_edge *x = *(const struct iopgt_mplan_edge **)a;
	const struct iopgt_mplan_edge *y = *(const struct iopgt_mplan_edge **)b;
	int r = strcmp(x->before, y->before);

	if (!r)
		r = strcmp(x->after, y->after);
	/* The same pair from two lines: both reasons are kept. */
	return r ? r : strcmp(x->reason, y->reason);
}

/* Everything plan building needs, freed in one place. */
struct planner {
	const struct iopgt_manifest *m;
	struct iopgt_mplan *plan;
	GHashTable *available;	/* canonical names (owned) */
	GPtrArray *loadable;	/* sorted, borrowed from available */
	GPtrArray *others;	/* struct iopgt_mplan_entry *: not loaded */
	struct graph *g;
	guint *comp;
	bool *on_cycle;
};

static void planner_clear(struct planner *p)
{
	g_free(p->comp);
	g_free(p->on_cycle);
	graph_free(p->g);
	if (p->others)
		g_ptr_array_unref(p->others);
	if (p->loadable)
		g_ptr_array_unref(p->loadable);
	if (p->available)
		g_hash_table_unref(p->available);
}

/*
 * The available names, canonical and without duplicates; blacklisted ones
 * go straight to the "not loaded" entries.
 */
static void plan_split_available(struct planner *p,
				 const char *const *available, size_t n)
{
	GHashTableIter it;
	gpointer name;

	p->available = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     NULL);
	for (size_t i = 0; i < n; i++)
		g_hash_table_add(p->available,
				 iopgt_name_canonical(available[i]));

	p->loadable = g_ptr_array_new();
	p->others = g_ptr_array_new_with_free_func(plan_entry_free);
	g_hash_table_iter_init(&it, p->available);
	while (g_hash_table_iter_next(&it, &name, NULL)) {
		const char *origin = g_hash_table_lookup(p->m->blacklist,
							 name);

		if (!origin) {
			g_ptr_array_add(p->loadable, name);
			continue;
		}
		g_ptr_array_add(p->others,
				plan_entry(name, IOPGT_MPLAN_BLACKLISTED,
					   g_strdup_printf("blacklisted at %s",
							   origin)));
	}
	g_ptr_array_sort(p->loadable, cmp_str);
}

static void plan_add_edge(struct planner *p, guint from, guint to,
			  const char *b, enum softdep_kind k, const char *dep,
			  const char *origin)
{
	struct iopgt_mplan_edge *e = g_new0(struct iopgt_mplan_edge, 1);

	e->before = g_strdup(p->g->names[from]);
	e->after = g_strdup(p->g->names[to]);
	e->reason = g_strdup_printf("softdep %s %s %s (%s)", b,
				    softdep_mode[k], dep, origin);
	g_ptr_array_add(p->plan->edges, e);
	graph_add_edge(p->g, from, to);
}

/* A dependency that is not loadable: missing is worth a warning, while a
 * blacklisted one already shows as a BLACKLISTED entry. */
static void plan_missing_dep(struct planner *p, const char *b,
			     enum softdep_kind k, const char *dep,
			     const char *origin)
{
	if (g_hash_table_contains(p->available, dep))
		return;
	g_ptr_array_add(p->plan->warnings,
			g_strdup_printf("%s: softdep %s %s %s: no plugin named '%s', ignored",
					origin, b, softdep_mode[k], dep, dep));
}

/* Edges and warnings, in name order then declaration order. */
static void plan_build_graph(struct planner *p)
{
	p->g = graph_new(p->loadable);
	for (guint b = 0; b < p->g->n; b++) {
		const char *name = p->g->names[b];
		const struct softdep *sd = g_hash_table_lookup(p->m->softdeps,
							       name);
		guint from, to;

		for (int k = 0; sd && k < SOFTDEP_NR_KINDS; k++) {
			for (guint i = 0; i < sd->deps[k]->len; i++) {
				const char *dep = sd->deps[k]->pdata[i];
				const char *origin = sd->origins[k]->pdata[i];

				if (softdep_edge(p->g, b, k, dep, &from,
						 &to) >= 0)
					plan_add_edge(p, from, to, name, k,
						      dep, origin);
				else
					plan_missing_dep(p, name, k, dep,
							 origin);
			}
		}
	}
	graph_finish(p->g);
	g_ptr_array_sort(p->plan->edges, cmp_edge);
}

/*
 * Each member of a cycle is named on a cycle through it; each distinct
 * cycle is one error.  A component of several cycles gives several errors.
 */
static void plan_cycles(struct planner *p)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
							   g_str_equal,
							   g_free, NULL);
	GHashTableIter it;
	gpointer text;

	p->on_cycle = graph_cycles(p->g, &p->comp);
	for (guint v = 0; v < p->g->n; v++) {
		char *cycle;

		if (!p->on_cycle[v])
			continue;
		cycle = graph_cycle_through(p->g, v, p->comp);
		g_assert(cycle);
		g_ptr_array_add(p->others,
				plan_entry(p->g->names[v], IOPGT_MPLAN_CYCLE,
					   g_strdup_printf("on softdep cycle %s",
							   cycle)));
		g_hash_table_add(seen, cycle);	/* takes it, or frees it */
	}

	g_hash_table_iter_init(&it, seen);
	while (g_hash_table_iter_next(&it, &text, NULL))
		g_ptr_array_add(p->plan->errors,
				g_strdup_printf("softdep cycle: %s",
						(char *)text));
	g_ptr_array_sort(p->plan->errors, cmp_str);
}

static int cmp_node(gconstpointer a, gconstpointer b, gpointer data)
{
	guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);

	(void)data;
	return (x > y) - (x < y);
}

static void plan_ready(GTree *ready, guint v)
{
	g_tree_insert(ready, GUINT_TO_POINTER(v), NULL);
}

/*
 * Kahn's algorithm, always taking the smallest ready name: the order then
 * depends only on names and edges, never on discovery order.  Cycle
 * members and their edges are left out, so what remains is acyclic.
 */
static void plan_order(struct planner *p)
{
	const struct graph *g = p->g;
	g_autoptr(GTree) ready = g_tree_new_full(cmp_node, NULL, NULL, NULL);
	g_autofree guint *indeg = g_new0(guint, g->n);
	guint loaded = 0, cyclic = 0;

	for (guint v = 0; v < g->n; v++)
		for (guint i = 0; !p->on_cycle[v] && i < g->succ[v]->len; i++)
			if (!p->on_cycle[succ_at(g, v, i)])
				indeg[succ_at(g, v, i)]++;
	for (guint v = 0; v < g->n; v++) {
		if (p->on_cycle[v])
			cyclic++;
		else if (!indeg[v])
			plan_ready(ready, v);
	}

	while (g_tree_nnodes(ready)) {
		guint v = GPOINTER_TO_UINT(g_tree_node_key(g_tree_node_first(ready)));

		g_tree_remove(ready, GUINT_TO_POINTER(v));
		g_ptr_array_add(p->plan->entries,
				plan_entry(g->names[v], IOPGT_MPLAN_LOAD, NULL));
		loaded++;
		for (guint i = 0; i < g->succ[v]->len; i++) {
			guint w = succ_at(g, v, i);

			if (!p->on_cycle[w] && !--indeg[w])
				plan_ready(ready, w);
		}
	}
	g_assert(loaded + cyclic == g->n);
}

struct iopgt_mplan *iopgt_manifest_plan(const struct iopgt_manifest *m,
				       const char *const *available,
				       size_t n_available)
{
	struct planner p = { .m = m };

	g_return_val_if_fail(m, NULL);
	g_return_val_if_fail(available || !n_available, NULL);

	p.plan = plan_new();
	plan_split_available(&p, available, n_available);
	plan_build_graph(&p);
	plan_cycles(&p);
	plan_order(&p);

	g_ptr_array_sort(p.others, cmp_entry);
	g_ptr_array_extend_and_steal(p.plan->entries,
				     g_steal_pointer(&p.others));
	planner_clear(&p);
	return p.plan;
}
