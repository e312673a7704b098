// SPDX-License-Identifier: MIT
/*
 * What reaches the user: the host's log lines, errno words, escaping of
 * names and paths, JSON text and the list table.  One place, so every
 * command prints a path, a name or an error the same way:
 *
 * - Every byte string the CLI did not write itself (paths, plugin names,
 *   metadata, log lines) is printed with control bytes escaped (\033),
 *   so a file name cannot forge a line or drive the terminal.
 * - JSON is always valid UTF-8: invalid bytes become U+FFFD, control
 *   bytes are \u escapes, 64-bit values are unsigned integers.
 * - stdout is flushed before anything goes to stderr, so `2>&1` shows
 *   lines in the order they happened.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- text ----------------------------------------------------------------- */

char *cli_escape(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const unsigned char *c = (const unsigned char *)text; c && *c;
	     c++) {
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
			g_string_append_printf(out, "\\%03o", *c);
		else
			g_string_append_c(out, (char)*c);
	}
	return g_string_free(out, FALSE);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/*
 * strerror() texts that mislead in this program's words: a plugin that
 * is unloading is not a network endpoint, a refused .so is not an
 * "exec format", and a softdep cycle is not a symlink loop.
 */
static const struct {
	int err;
	const char *words;
} errno_words[] = {
	{ ESHUTDOWN, "plugin is unloading" },
	{ ENOEXEC, "plugin cannot be loaded" },
	{ ELOOP, "softdep cycle" },
	{ EPROTO, "bad plugin descriptor" },
	{ EAGAIN, "plugin not loaded" },
	{ EBADMSG, "bad manifest line" },
	{ EOVERFLOW, "range wraps around" },
	{ EALREADY, "nothing to do" },
	{ ETIMEDOUT, "timed out" },
	{ EFBIG, "file too large" },
};

const char *cli_strerror(int err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(errno_words); i++)
		if (errno_words[i].err == err)
			return errno_words[i].words;
	return g_strerror(err);
}

char *cli_canonical_path(const char *path)
{
	char *real = realpath(path, NULL);
	char *ret;

	if (!real)
		return g_canonicalize_filename(path, NULL);
	ret = g_strdup(real);
	free(real);
	return ret;
}

/* A path the host reports: "bin/../lib" shown as "lib", then escaped. */
char *cli_display_path(const char *path)
{
	g_autofree char *canon = NULL;

	if (!path)
		return NULL;
	if (!g_path_is_absolute(path))
		return cli_escape(path);
	canon = g_canonicalize_filename(path, NULL);
	return cli_escape(canon);
}

/* ---- the host's log --------------------------------------------------------- */

void cli_log(void *data, int priority, const char *file, int line,
	     const char *fn, const char *format, va_list args)
{
	struct cli *cli = data;
	g_autofree char *msg = g_strdup_vprintf(format, args);
	g_autofree char *safe = NULL;

	(void)file;
	(void)line;
	g_strchomp(msg);
	if (cli->in_command && priority <= IOPGT_LOG_WARNING) {
		/* the command reports it, from iopgt_host_get_last_error() */
		if (priority <= IOPGT_LOG_ERR)
			cli->errors_logged++;
		return;
	}
	safe = cli_escape(msg);
	if (priority <= IOPGT_LOG_ERR)
		cli_err("iopgt-host: %s\n", safe);
	else if (priority == IOPGT_LOG_WARNING)
		cli_err("iopgt-host: warning: %s\n", safe);
	else if (priority >= IOPGT_LOG_DEBUG)
		cli_err("iopgt-host: debug: %s: %s\n", fn, safe);
	else
		cli_err("iopgt-host: %s\n", safe);
}

/* ---- JSON ------------------------------------------------------------------- */

#define JSON_MAX_DEPTH	16

struct cli_json {
	GString *s;
	int depth;
	unsigned int count[JSON_MAX_DEPTH];	/* members written per level */
};

struct cli_json *cli_json_new(void)
{
	struct cli_json *j = g_new0(struct cli_json, 1);

	j->s = g_string_new(NULL);
	return j;
}

static void json_quoted(GString *s, const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);

	g_string_append_c(s, '"');
	for (const unsigned char *c = (const unsigned char *)valid; *c; c++) {
		switch (*c) {
		case '"': g_string_append(s, "\\\""); break;
		case '\\': g_string_append(s, "\\\\"); break;
		case '\n': g_string_append(s, "\\n"); break;
		case '\t': g_string_append(s, "\\t"); break;
		default:
			if (*c < 0x20 || *c == 0x7f)
				g_string_append_printf(s, "\\u%04x", *c);
			else
				g_string_append_c(s, (char)*c);
		}
	}
	g_string_append_c(s, '"');
}

/* Separator, indentation and "key" : of the next value. */
static void json_next(struct cli_json *j, const char *key)
{
	if (j->depth > 0) {
		g_string_append(j->s, j->count[j->depth]++ ? ",\n" : "\n");
		for (int i = 0; i < j->depth; i++)
			g_string_append(j->s, "  ");
	}
	if (key) {
		json_quoted(j->s, key);
		g_string_append(j->s, " : ");
	}
}

static void json_open(struct cli_json *j, const char *key, char bracket)
{
	json_next(j, key);
	g_string_append_c(j->s, bracket);
	g_assert(j->depth + 1 < JSON_MAX_DEPTH);
	j->count[++j->depth] = 0;
}

static void json_close(struct cli_json *j, char bracket)
{
	if (j->count[j->depth]) {
		g_string_append_c(j->s, '\n');
		for (int i = 0; i < j->depth - 1; i++)
			g_string_append(j->s, "  ");
	}
	j->depth--;
	g_string_append_c(j->s, bracket);
}

void cli_json_begin_object(struct cli_json *j, const char *key)
{
	json_open(j, key, '{');
}

void cli_json_end_object(struct cli_json *j)
{
	json_close(j, '}');
}

void cli_json_begin_array(struct cli_json *j, const char *key)
{
	json_open(j, key, '[');
}

void cli_json_end_array(struct cli_json *j)
{
	json_close(j, ']');
}

void cli_json_string(struct cli_json *j, const char *key, const char *value)
{
	json_next(j, key);
	if (value)
		json_quoted(j->s, value);
	else
		g_string_append(j->s, "null");
}

void cli_json_u64(struct cli_json *j, const char *key, uint64_t value)
{
	json_next(j, key);
	g_string_append_printf(j->s, "%" G_GUINT64_FORMAT, value);
}

void cli_json_int(struct cli_json *j, const char *key, int64_t value)
{
	json_next(j, key);
	g_string_append_printf(j->s, "%" G_GINT64_FORMAT, value);
}

void cli_json_bool(struct cli_json *j, const char *key, bool value)
{
	json_next(j, key);
	g_string_append(j->s, value ? "true" : "false");
}

void cli_json_strv(struct cli_json *j, const char *key, char **v)
{
	cli_json_begin_array(j, key);
	for (char **s = v; s && *s; s++)
		cli_json_string(j, NULL, *s);
	cli_json_end_array(j);
}

void cli_json_free(struct cli_json *j)
{
	g_string_free(j->s, TRUE);
	g_free(j);
}

void cli_json_print(struct cli *cli, struct cli_json *j)
{
	g_assert(j->depth == 0);
	fprintf(cli->out, "%s\n", j->s->str);
	cli_json_free(j);
}

/* ---- plugins ------------------------------------------------------------------ */

/* What the plugin said when loaded, else what its file says. */
static const char *plugin_text(struct iopgt_plugin *p, const char *loaded,
			       const char *key)
{
	return loaded ? loaded : iopgt_plugin_get_file_info(p, key);
}

void cli_plugin_json(struct cli_json *j, struct iopgt_plugin *p)
{
	g_auto(GStrv) formats = iopgt_plugin_dup_formats(p);
	g_auto(GStrv) holders = iopgt_plugin_dup_holders(p);
	g_autofree char *path = NULL;

	if (iopgt_plugin_get_path(p))
		path = g_canonicalize_filename(iopgt_plugin_get_path(p), NULL);
	cli_json_string(j, "name", iopgt_plugin_get_name(p));
	cli_json_string(j, "path", path);
	cli_json_string(j, "version",
			plugin_text(p, iopgt_plugin_get_version(p), "version"));
	cli_json_string(j, "description",
			plugin_text(p, iopgt_plugin_get_description(p),
				    "description"));
	cli_json_string(j, "license",
			plugin_text(p, iopgt_plugin_get_license(p), "license"));
	cli_json_string(j, "state",
		iopgt_plugin_state_to_string(iopgt_plugin_get_state(p)));
	cli_json_int(j, "refcount", iopgt_plugin_get_refcount(p));
	cli_json_int(j, "load_index", iopgt_plugin_get_load_index(p));
	cli_json_bool(j, "builtin", iopgt_plugin_is_builtin(p));
	cli_json_strv(j, "formats", formats);
	cli_json_strv(j, "holders", holders);
	cli_json_string(j, "error", iopgt_plugin_get_error(p));
}

static void print_list_row(struct iopgt_plugin *p, void *data)
{
	struct cli *cli = data;
	enum iopgt_plugin_state st = iopgt_plugin_get_state(p);
	g_auto(GStrv) formats = iopgt_plugin_dup_formats(p);
	g_autofree char *joined = g_strjoinv(",", formats);
	const char *err = iopgt_plugin_get_error(p);
	g_autofree char *name = cli_escape(iopgt_plugin_get_name(p));
	g_autofree char *what = cli_escape(*joined ? joined :
					   (err ? err : "-"));

	fprintf(cli->out, "%-24s %-11s %4d  %s\n", name,
		iopgt_plugin_state_to_string(st), iopgt_plugin_get_refcount(p),
		what);
	if (cli->verbose) {
		g_auto(GStrv) holders = iopgt_plugin_dup_holders(p);

		for (char **h = holders; *h; h++) {
			g_autofree char *safe = cli_escape(*h);

			fprintf(cli->out, "%-24s   held by %s\n", "", safe);
		}
	}
}

static void add_plugin_json(struct iopgt_plugin *p, void *data)
{
	struct cli_json *j = data;

	cli_json_begin_object(j, NULL);
	cli_plugin_json(j, p);
	cli_json_end_object(j);
}

void cli_print_list(struct cli *cli)
{
	if (cli->json) {
		struct cli_json *j = cli_json_new();

		cli_json_begin_array(j, NULL);
		iopgt_host_foreach_plugin(cli->host, add_plugin_json, j);
		cli_json_end_array(j);
		cli_json_print(cli, j);
		return;
	}
	fprintf(cli->out, "%-24s %-11s %4s  %s\n", "Plugin", "State", "Used",
		"Formats");
	iopgt_host_foreach_plugin(cli->host, print_list_row, cli);
}

