// SPDX-License-Identifier: MIT
/*
 * The softdep manifest: a modprobe.d(5)-style text file, plus what each
 * plugin file declares about its own softdeps.  Parsing and lookups only;
 * the graph, its cycles and the load order are plan.c's.
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
 *   - a manifest line for NAME replaces what NAME's own file declares, so
 *     an administrator can always undo a plugin's softdep (in kmod the
 *     module's own softdep can silently win);
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

/* Up to this many deps a list is scanned for duplicates; past it a hash set
 * takes over, so 320k lines "softdep SAME pre: depN" stay linear. */
#define SOFTDEP_SCAN_MAX	8

const char *const iopgt_softdep_mode[IOPGT_SOFTDEP_NR_KINDS] = {
	[IOPGT_SOFTDEP_PRE] = "pre:",
	[IOPGT_SOFTDEP_POST] = "post:",
};

/* Merged dependencies of one name; the arrays point into m->strings. */
struct softdep {
	GPtrArray *deps[IOPGT_SOFTDEP_NR_KINDS];	/* canonical names */
	GPtrArray *origins[IOPGT_SOFTDEP_NR_KINDS];	/* parallel */
	GHashTable *set[IOPGT_SOFTDEP_NR_KINDS];	/* deps, once long */
	const char *origin;	/* of the first line: what overrides name */
	GPtrArray *problems;	/* declared only: char *, bad entries */
};

struct iopgt_manifest {
	GStringChunk *strings;	/* every name and origin, interned */
	GHashTable *softdeps;	/* name -> struct softdep, manifest lines */
	GHashTable *declared;	/* name -> struct softdep, plugin files */
	GHashTable *blacklist;	/* name -> origin of its first blacklist */
	GPtrArray *refused;	/* char *: "FILE:LINE: why" */
	GPtrArray *empty;	/* what lookups return for none */
	uint64_t work;		/* dedup comparisons, for the tests */
};

/* ---- the manifest object ------------------------------------------------- */

static void softdep_free(gpointer data)
{
	struct softdep *sd = data;

	for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++) {
		g_ptr_array_unref(sd->deps[k]);
		g_ptr_array_unref(sd->origins[k]);
		if (sd->set[k])
			g_hash_table_unref(sd->set[k]);
	}
	if (sd->problems)
		g_ptr_array_unref(sd->problems);
	g_free(sd);
}

static struct softdep *softdep_new(const char *origin)
{
	struct softdep *sd = g_new0(struct softdep, 1);

	for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++) {
		sd->deps[k] = g_ptr_array_new();
		sd->origins[k] = g_ptr_array_new();
	}
	sd->origin = origin;
	return sd;
}

struct iopgt_manifest *iopgt_manifest_new(void)
{
	struct iopgt_manifest *m = g_new0(struct iopgt_manifest, 1);

	m->strings = g_string_chunk_new(1024);
	/* keys live in m->strings */
	m->softdeps = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    softdep_free);
	m->declared = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    softdep_free);
	m->blacklist = g_hash_table_new(g_str_hash, g_str_equal);
	m->refused = g_ptr_array_new_with_free_func(g_free);
	m->empty = g_ptr_array_new();
	return m;
}

void iopgt_manifest_free(struct iopgt_manifest *m)
{
	if (!m)
		return;
	g_hash_table_unref(m->softdeps);
	g_hash_table_unref(m->declared);
	g_hash_table_unref(m->blacklist);
	g_ptr_array_unref(m->refused);
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

static struct softdep *softdep_get(struct iopgt_manifest *m, const char *name,
				   const char *origin)
{
	struct softdep *sd = g_hash_table_lookup(m->softdeps, name);

	if (sd)
		return sd;
	sd = softdep_new(origin);
	g_hash_table_insert(m->softdeps, (gpointer)name, sd);
	return sd;
}

/* Interned strings compare by pointer: the chunk stores each text once. */
static bool softdep_has(struct iopgt_manifest *m, struct softdep *sd,
			enum iopgt_softdep_kind k, const char *dep)
{
	GPtrArray *deps = sd->deps[k];

	m->work++;
	if (sd->set[k])
		return g_hash_table_contains(sd->set[k], dep);
	for (guint i = 0; i < deps->len; i++, m->work++)
		if (g_ptr_array_index(deps, i) == dep)
			return true;
	if (deps->len < SOFTDEP_SCAN_MAX)
		return false;
	sd->set[k] = g_hash_table_new(NULL, NULL);
	for (guint i = 0; i < deps->len; i++)
		g_hash_table_add(sd->set[k], deps->pdata[i]);
	return false;
}

static void softdep_add(struct iopgt_manifest *m, struct softdep *sd,
			enum iopgt_softdep_kind k, const char *dep,
			const char *origin)
{
	if (softdep_has(m, sd, k, dep))
		return;
	g_ptr_array_add(sd->deps[k], (gpointer)dep);
	g_ptr_array_add(sd->origins[k], (gpointer)origin);
	if (sd->set[k])
		g_hash_table_add(sd->set[k], (gpointer)dep);
}

/* ---- lookups ------------------------------------------------------------- */

/* A manifest line for name replaces what its file declares. */
static const struct softdep *softdep_effective(const struct iopgt_manifest *m,
					       const char *canon)
{
	const struct softdep *sd = g_hash_table_lookup(m->softdeps, canon);

	return sd ? sd : g_hash_table_lookup(m->declared, canon);
}

void iopgt_manifest_softdeps(const struct iopgt_manifest *m,
			     const char *canon, enum iopgt_softdep_kind k,
			     const GPtrArray **deps, const GPtrArray **origins)
{
	const struct softdep *sd = softdep_effective(m, canon);

	*deps = sd ? sd->deps[k] : m->empty;
	*origins = sd ? sd->origins[k] : m->empty;
}

const char *iopgt_manifest_blacklisted_canon(const struct iopgt_manifest *m,
					     const char *canon)
{
	return g_hash_table_lookup(m->blacklist, canon);
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
				 const char *name, enum iopgt_softdep_kind k)
{
	g_autofree char *c = NULL;
	const GPtrArray *deps, *origins;

	g_return_val_if_fail(m, NULL);
	g_return_val_if_fail(name, m->empty);
	c = iopgt_name_canonical(name);
	iopgt_manifest_softdeps(m, c, k, &deps, &origins);
	return deps;
}

const GPtrArray *iopgt_manifest_get_pre(const struct iopgt_manifest *m,
					const char *name)
{
	return get_deps(m, name, IOPGT_SOFTDEP_PRE);
}

const GPtrArray *iopgt_manifest_get_post(const struct iopgt_manifest *m,
					 const char *name)
{
	return get_deps(m, name, IOPGT_SOFTDEP_POST);
}

const GPtrArray *iopgt_manifest_refused(const struct iopgt_manifest *m)
{
	return m->refused;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *iopgt_manifest_overrides(const struct iopgt_manifest *m)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer name, value;

	g_hash_table_iter_init(&it, m->declared);
	while (g_hash_table_iter_next(&it, &name, &value)) {
		const struct softdep *decl = value;
		const struct softdep *line = g_hash_table_lookup(m->softdeps,
								 name);

		if (line)
			g_ptr_array_add(out, g_strdup_printf(
				"softdep %s declared by %s is overridden by %s",
				(const char *)name, decl->origin,
				line->origin));
	}
	g_ptr_array_sort(out, cmp_str);
	return out;
}

GPtrArray *iopgt_manifest_names(const struct iopgt_manifest *m)
{
	GPtrArray *names = g_ptr_array_new();
	GHashTableIter it;
	gpointer name;

	g_hash_table_iter_init(&it, m->softdeps);
	while (g_hash_table_iter_next(&it, &name, NULL))
		g_ptr_array_add(names, name);
	g_hash_table_iter_init(&it, m->declared);
	while (g_hash_table_iter_next(&it, &name, NULL))
		if (!g_hash_table_contains(m->softdeps, name))
			g_ptr_array_add(names, name);
	return names;
}

uint64_t iopgt_manifest_work(const struct iopgt_manifest *m)
{
	return m->work;
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
	for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++)
		if (!strcmp(tok, iopgt_softdep_mode[k]))
			return k;
	return -1;
}

/* "pre:a" is a typo for "pre: a", worth its own message. */
static const char *glued_mode(const char *tok)
{
	for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++)
		if (g_str_has_prefix(tok, iopgt_softdep_mode[k]))
			return iopgt_softdep_mode[k];
	return NULL;
}

/* "pre" is "pre:" with its colon forgotten, not a plugin called "pre". */
static const char *bare_mode(const char *tok)
{
	for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++)
		if (!strncmp(tok, iopgt_softdep_mode[k], strlen(tok)) &&
		    strlen(tok) + 1 == strlen(iopgt_softdep_mode[k]))
			return iopgt_softdep_mode[k];
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
			       iopgt_softdep_mode[mode]);
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

/* The line passed softdep_check(): its modes and names are good. */
static void softdep_apply(struct iopgt_manifest *m, struct softdep *sd,
			  const struct line *l, const char *origin)
{
	int mode = -1;

	for (guint i = 2; i < l->ntok; i++) {
		int k = mode_of(l->tok[i]);

		if (k >= 0)
			mode = k;
		else
			softdep_add(m, sd, mode,
				    intern_canonical(m, l->tok[i]), origin);
	}
}

static char *parse_softdep(struct iopgt_manifest *m, const struct line *l)
{
	const char *origin;
	struct softdep *sd;
	char *msg;

	msg = softdep_check(l);
	if (msg)
		return msg;

	origin = intern(m, l->origin);
	sd = softdep_get(m, intern_canonical(m, l->tok[1]), origin);
	softdep_apply(m, sd, l, origin);
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
		   GPtrArray *refused, GPtrArray *diagnostics, GError **error,
		   bool *ok)
{
	g_autofree char *text = g_strdup_printf("%s:%u: %s", filename, lineno,
						msg);

	if (*ok)
		g_set_error_literal(error, IOPGT_MANIFEST_ERROR,
				    IOPGT_MANIFEST_ERROR_PARSE, text);
	*ok = false;
	if (diagnostics)
		g_ptr_array_add(diagnostics, g_strdup(text));
	g_ptr_array_add(refused, g_steal_pointer(&text));
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
			report(filename, ll.lineno, msg, m->refused,
			       diagnostics, error, &ok);
	}
	g_string_free(ll.text, TRUE);
	return ok;
}

/* ---- reading the file ---------------------------------------------------- */

/*
 * Our own reader rather than g_file_get_contents(): it would block on a
 * FIFO and read /dev/zero until memory runs out, its message repeats the
 * path and its errno is not kept.  O_NONBLOCK makes opening a FIFO return
 * at once; only a regular file is then read, and never past the limit.
 * Returns: the data, or NULL with *err (negative errno) and *why set.
 */
static char *read_bounded(const char *path, gsize *len, int *err,
			  const char **why)
{
	g_autoptr(GString) buf = NULL;
	char chunk[8192];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		goto out_errno;
	if (fstat(fd, &st))
		goto out_close_errno;
	if (!S_ISREG(st.st_mode)) {
		*err = -EINVAL;
		*why = "not a regular file";
		goto out_close;
	}
	buf = g_string_sized_new(MIN((gsize)st.st_size,
				     IOPGT_MANIFEST_MAX_BYTES) + 1);
	/* the size may change under us: the limit holds on what is read */
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out_close_errno;
		if (buf->len + (gsize)n > IOPGT_MANIFEST_MAX_BYTES) {
			*err = -EFBIG;
			*why = NULL;
			goto out_close;
		}
		g_string_append_len(buf, chunk, n);
	}
	close(fd);
	*len = buf->len;
	return g_string_free(g_steal_pointer(&buf), FALSE);

out_close_errno:
	*err = -errno;
	*why = g_strerror(errno);
out_close:
	close(fd);
	return NULL;
out_errno:
	*err = -errno;
	*why = g_strerror(errno);
	return NULL;
}

char *iopgt_manifest_read_file(const char *path, gsize *len, int *err,
			       GError **error)
{
	g_autofree char *e = NULL;
	const char *why = NULL;
	char *data;

	*err = 0;
	data = read_bounded(path, len, err, &why);
	if (data)
		return data;
	e = g_strescape(path, NULL);
	if (*err == -EFBIG)
		g_set_error(error, IOPGT_MANIFEST_ERROR, IOPGT_MANIFEST_ERROR_IO,
			    "%s: larger than %u bytes (the manifest limit)", e,
			    IOPGT_MANIFEST_MAX_BYTES);
	else
		g_set_error(error, IOPGT_MANIFEST_ERROR, IOPGT_MANIFEST_ERROR_IO,
			    "%s: %s", e, why);
	return NULL;
}

int iopgt_manifest_add_file(struct iopgt_manifest *m, const char *path,
			    GPtrArray *diagnostics, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	int err = 0;

	g_return_val_if_fail(m, -EINVAL);
	g_return_val_if_fail(path, -EINVAL);

	data = iopgt_manifest_read_file(path, &len, &err, error);
	if (!data)
		return err;
	if (!iopgt_manifest_parse_data(m, path, data, len, diagnostics, error))
		return -EBADMSG;
	return 0;
}

gboolean iopgt_manifest_parse_file(struct iopgt_manifest *m, const char *path,
				   GPtrArray *diagnostics, GError **error)
{
	return iopgt_manifest_add_file(m, path, diagnostics, error) == 0;
}

/* ---- what plugin files declare ------------------------------------------- */

/* One declared entry, "pre: a post: b", checked as the rest of a line. */
static char *declared_add(struct iopgt_manifest *m, struct softdep *sd,
			  const char *name, const char *origin,
			  const char *entry)
{
	g_autofree char *text = NULL;
	g_autoptr(GPtrArray) tok = NULL;
	struct line l = { .origin = origin };
	char *msg;

	if (strlen(entry) > MANIFEST_LINE_MAX)
		return g_strdup_printf("line is longer than %d bytes",
				       MANIFEST_LINE_MAX);
	text = g_strdup_printf("softdep %s %s", name, entry);
	tok = tokenize(text);
	l.tok = (char **)tok->pdata;
	l.ntok = tok->len;
	msg = softdep_check(&l);
	if (!msg)
		softdep_apply(m, sd, &l, origin);
	return msg;
}

int iopgt_manifest_set_declared(struct iopgt_manifest *m,
				const char *plugin_name, const char *origin,
				const char *const *softdeps)
{
	struct softdep *sd;
	const char *name;
	int ret = 0;

	g_return_val_if_fail(m && plugin_name && origin, -EINVAL);
	if (!iopgt_name_is_valid(plugin_name))
		return -EINVAL;
	name = intern_canonical(m, plugin_name);
	if (!softdeps || !*softdeps) {
		g_hash_table_remove(m->declared, name);
		return 0;
	}
	origin = intern(m, origin);
	sd = softdep_new(origin);
	for (const char *const *d = softdeps; *d; d++) {
		g_autofree char *msg = declared_add(m, sd, name, origin, *d);

		if (!msg)
			continue;
		ret = -EBADMSG;
		if (!sd->problems)
			sd->problems = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(sd->problems,
				g_strdup_printf("%s: %s", origin, msg));
	}
	g_hash_table_replace(m->declared, (gpointer)name, sd);
	return ret;
}

GPtrArray *iopgt_manifest_declared_errors(const struct iopgt_manifest *m)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer name;

	g_hash_table_iter_init(&it, m->declared);
	while (g_hash_table_iter_next(&it, &name, NULL))
		g_ptr_array_add(names, name);
	g_ptr_array_sort(names, cmp_str);
	for (guint i = 0; i < names->len; i++) {
		const struct softdep *sd = g_hash_table_lookup(m->declared,
							       names->pdata[i]);

		for (guint j = 0; sd->problems && j < sd->problems->len; j++)
			g_ptr_array_add(out, g_strdup(sd->problems->pdata[j]));
	}
	return out;
}
