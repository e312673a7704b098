// SPDX-License-Identifier: MIT
/*
 * /host/manifest/...: the softdep manifest parser and the load planner.
 *
 * Plans are compared as text (plan_dump()), the way modprobe --show-depends
 * output is compared in kmod's testsuite, so a failure shows the whole
 * plan and every order is asserted exactly.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "iopgt-internal.h"

struct fixture {
	struct iopgt_manifest *m;
	GPtrArray *diag;		/* char *: "FILE:LINE: message" */
	GError *error;			/* of the last parse */
	struct iopgt_plan *plan;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->m = iopgt_manifest_new();
	f->diag = g_ptr_array_new_with_free_func(g_free);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	iopgt_plan_free(f->plan);
	g_clear_error(&f->error);
	g_ptr_array_unref(f->diag);
	iopgt_manifest_free(f->m);
}

/* ---- helpers ------------------------------------------------------------- */

static gboolean parse_len(struct fixture *f, const char *filename,
			  const char *data, gsize len)
{
	g_clear_error(&f->error);
	return iopgt_manifest_parse_data(f->m, filename, data, len, f->diag,
					 &f->error);
}

static gboolean parse(struct fixture *f, const char *filename,
		      const char *text)
{
	return parse_len(f, filename, text, strlen(text));
}

static char *fixture_path(const char *conf)
{
	return g_test_build_filename(G_TEST_DIST, "fixtures", "conf", conf,
				     NULL);
}

/* Parse tests/fixtures/conf/CONF with messages naming just "CONF". */
static gboolean parse_fixture(struct fixture *f, const char *conf)
{
	g_autofree char *path = fixture_path(conf);
	g_autofree char *data = NULL;
	g_autoptr(GError) error = NULL;
	gsize len;

	g_file_get_contents(path, &data, &len, &error);
	g_assert_no_error(error);
	return parse_len(f, conf, data, len);
}

/* avail: NULL-terminated. */
static void plan(struct fixture *f, const char *const *avail)
{
	iopgt_plan_free(f->plan);
	f->plan = iopgt_manifest_plan(f->m, avail,
				      g_strv_length((char **)avail));
	g_assert_nonnull(f->plan);
}

static const char *action_name(enum iopgt_plan_action action)
{
	switch (action) {
	case IOPGT_PLAN_LOAD:
		return "load";
	case IOPGT_PLAN_BLACKLISTED:
		return "blacklisted";
	case IOPGT_PLAN_CYCLE:
		return "cycle";
	}
	return "?";
}

/* "load a\n", "cycle b: on softdep cycle a -> b -> a\n", ... */
static char *entries_dump(const struct iopgt_plan *p)
{
	GString *s = g_string_new(NULL);

	g_assert_null(p->entries[p->n_entries].name);
	for (size_t i = 0; i < p->n_entries; i++) {
		const struct iopgt_plan_entry *e = &p->entries[i];

		g_string_append_printf(s, "%s %s", action_name(e->action),
				       e->name);
		if (e->action == IOPGT_PLAN_LOAD)
			g_assert_null(e->reason);
		else
			g_string_append_printf(s, ": %s", e->reason);
		g_string_append_c(s, '\n');
	}
	return g_string_free(s, FALSE);
}

/* "a -> b: softdep b pre: a (x.conf:1)\n" per edge */
static char *edges_dump(const struct iopgt_plan *p)
{
	GString *s = g_string_new(NULL);

	g_assert_null(p->edges[p->n_edges].before);
	for (size_t i = 0; i < p->n_edges; i++) {
		const struct iopgt_plan_edge *e = &p->edges[i];

		g_string_append_printf(s, "%s -> %s: %s\n", e->before,
				       e->after, e->reason);
	}
	return g_string_free(s, FALSE);
}

static char *lines_dump(const GPtrArray *a)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < a->len; i++)
		g_string_append_printf(s, "%s\n", (const char *)a->pdata[i]);
	return g_string_free(s, FALSE);
}

/* The same for a plan's NULL-terminated vectors. */
static char *strv_dump(const char *const *v)
{
	GString *s = g_string_new(NULL);

	for (; *v; v++)
		g_string_append_printf(s, "%s\n", *v);
	return g_string_free(s, FALSE);
}

static guint strv_len(const char *const *v)
{
	return g_strv_length((char **)v);
}

/* Everything in a plan, for comparing two plans. */
static char *plan_dump(const struct iopgt_plan *p)
{
	g_autofree char *entries = entries_dump(p);
	g_autofree char *edges = edges_dump(p);
	g_autofree char *warnings = strv_dump(p->warnings);
	g_autofree char *errors = strv_dump(p->errors);

	return g_strconcat(entries, "--\n", edges, "--\n", warnings, "--\n",
			   errors, NULL);
}

#define assert_entries(f, expected)                                     \
	do {                                                            \
		g_autofree char *_s = entries_dump((f)->plan);          \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

#define assert_edges(f, expected)                                       \
	do {                                                            \
		g_autofree char *_s = edges_dump((f)->plan);            \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

#define assert_lines(array, expected)                                   \
	do {                                                            \
		g_autofree char *_s = lines_dump(array);                \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

#define assert_strv(v, expected)                                        \
	do {                                                            \
		g_autofree char *_s = strv_dump(v);                     \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

/* A pre:/post: list as "a b c". */
static char *deps_text(const GPtrArray *deps)
{
	GString *s = g_string_new(NULL);

	g_assert_nonnull(deps);
	for (guint i = 0; i < deps->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "",
				       (const char *)deps->pdata[i]);
	return g_string_free(s, FALSE);
}

#define assert_pre(f, name, expected)                                   \
	do {                                                            \
		g_autofree char *_s =                                   \
			deps_text(iopgt_manifest_get_pre((f)->m, name)); \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

#define assert_post(f, name, expected)                                  \
	do {                                                            \
		g_autofree char *_s =                                   \
			deps_text(iopgt_manifest_get_post((f)->m, name)); \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

#define assert_cycle(f, name, expected)                                 \
	do {                                                            \
		g_autofree char *_s =                                   \
			iopgt_manifest_find_cycle((f)->m, name);        \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

static void assert_parse_error(const struct fixture *f, const char *message)
{
	g_assert_error(f->error, IOPGT_MANIFEST_ERROR,
		       IOPGT_MANIFEST_ERROR_PARSE);
	g_assert_cmpstr(f->error->message, ==, message);
}

/* ---- parsing ------------------------------------------------------------- */

static void test_good_file(struct fixture *f, gconstpointer data)
{
	g_autofree char *path = fixture_path("good.conf");
	const char *const avail[] = {
		"io-pgtable-apple", "io-pgtable-arm", "io-pgtable-arm-v7s",
		"io-pgtable-broken", "io-pgtable-dart", NULL
	};
	g_autofree char *origin = NULL;
	g_autofree char *entries = NULL;
	g_autofree char *edges = NULL;

	(void)data;
	g_test_summary("A valid manifest read with parse_file() gives no "
		       "diagnostics and the expected plan");

	g_assert_true(iopgt_manifest_parse_file(f->m, path, f->diag,
						&f->error));
	g_assert_no_error(f->error);
	g_assert_cmpuint(f->diag->len, ==, 0);

	assert_pre(f, "io-pgtable-arm-v7s", "io-pgtable-arm");
	assert_post(f, "io-pgtable-arm-v7s", "");
	assert_pre(f, "io-pgtable-dart", "io-pgtable-arm");
	assert_post(f, "io-pgtable-dart", "io-pgtable-apple");
	origin = g_strdup_printf("%s:10", path);
	g_assert_cmpstr(iopgt_manifest_blacklist_origin(f->m,
							"io-pgtable-broken"),
			==, origin);

	plan(f, avail);
	entries = g_strdup_printf(
		"load io-pgtable-arm\n"
		"load io-pgtable-arm-v7s\n"
		"load io-pgtable-dart\n"
		"load io-pgtable-apple\n"
		"blacklisted io-pgtable-broken: blacklisted at %s:10\n", path);
	assert_entries(f, entries);
	edges = g_strdup_printf(
		"io-pgtable-arm -> io-pgtable-arm-v7s: softdep io-pgtable-arm-v7s pre: io-pgtable-arm (%s:4)\n"
		"io-pgtable-arm -> io-pgtable-dart: softdep io-pgtable-dart pre: io-pgtable-arm (%s:7)\n"
		"io-pgtable-dart -> io-pgtable-apple: softdep io-pgtable-dart post: io-pgtable-apple (%s:7)\n",
		path, path, path);
	assert_edges(f, edges);
	g_assert_cmpuint(strv_len(f->plan->warnings), ==, 0);
	g_assert_cmpuint(strv_len(f->plan->errors), ==, 0);
}

static void test_default_conf(struct fixture *f, gconstpointer data)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..",
						      "conf", "iopgt.conf",
						      NULL);

	(void)data;
	g_test_summary("The shipped conf/iopgt.conf parses cleanly");

	g_assert_true(iopgt_manifest_parse_file(f->m, path, f->diag,
						&f->error));
	g_assert_no_error(f->error);
	g_assert_cmpuint(f->diag->len, ==, 0);
}

static void test_bad_line(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Each bad line gives one 'FILE:LINE: message' and is "
		       "ignored; parsing goes on and good lines apply");

	g_assert_false(parse_fixture(f, "bad-line.conf"));
	assert_lines(f->diag,
		"bad-line.conf:7: unknown directive 'sofdep'\n"
		"bad-line.conf:8: softdep: missing plugin name\n"
		"bad-line.conf:9: softdep: missing plugin name before 'pre:'\n"
		"bad-line.conf:10: softdep io-pgtable-arm: no 'pre:' or 'post:' dependencies\n"
		"bad-line.conf:11: softdep io-pgtable-arm: 'io-pgtable-dart' comes before any 'pre:' or 'post:'\n"
		"bad-line.conf:12: softdep io-pgtable-arm: 'pre:' names no plugin\n"
		"bad-line.conf:13: softdep io-pgtable-arm: 'pre:' names no plugin\n"
		"bad-line.conf:14: softdep io-pgtable-arm: 'pre:a' needs a space after 'pre:'\n"
		"bad-line.conf:15: blacklist: missing plugin name\n"
		"bad-line.conf:16: blacklist: takes one plugin name, got 2\n"
		"bad-line.conf:17: invalid plugin name '../evil': names are plugin names, not paths\n"
		"bad-line.conf:18: invalid plugin name '../evil': names are plugin names, not paths\n"
		"bad-line.conf:19: invalid plugin name '/usr/lib/iopgt/plugins/x.so': names are plugin names, not paths\n"
		"bad-line.conf:20: invalid plugin name 'b*': use only letters, digits, '-', '_' and '.'\n"
		"bad-line.conf:21: invalid plugin name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': longer than 64 bytes\n"
		"bad-line.conf:22: unknown directive 'options'\n");
	g_assert_cmpstr(f->diag->pdata[0], ==,
			"bad-line.conf:7: unknown directive 'sofdep'");
	/* *error holds the first one only */
	assert_parse_error(f, "bad-line.conf:7: unknown directive 'sofdep'");

	/* the good lines around them */
	assert_pre(f, "good-a", "good-b");
	assert_post(f, "good-a", "good-d");
	g_assert_cmpstr(iopgt_manifest_blacklist_origin(f->m, "good-c"), ==,
			"bad-line.conf:5");
	/* and nothing from the bad ones, not even half a line */
	assert_pre(f, "io-pgtable-arm", "");
	assert_post(f, "io-pgtable-arm", "");
	assert_pre(f, "a", "");
	g_assert_false(iopgt_manifest_is_blacklisted(f->m, "a"));
	g_assert_false(iopgt_manifest_is_blacklisted(f->m, "b"));
}

static void test_parse_file_names_path(struct fixture *f, gconstpointer data)
{
	g_autofree char *path = fixture_path("bad-line.conf");
	g_autofree char *first = NULL;

	(void)data;
	g_test_summary("parse_file() prints the path it was given as FILE");

	g_assert_false(iopgt_manifest_parse_file(f->m, path, f->diag,
						 &f->error));
	first = g_strdup_printf("%s:7: unknown directive 'sofdep'", path);
	g_assert_cmpuint(f->diag->len, ==, 16);
	g_assert_cmpstr(f->diag->pdata[0], ==, first);
	assert_parse_error(f, first);
}

static void test_io_error(struct fixture *f, gconstpointer data)
{
	g_autofree char *path = fixture_path("no-such-file.conf");
	g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "fixtures",
						     "conf", NULL);
	g_autofree char *expected = NULL;

	(void)data;
	g_test_summary("An unreadable manifest is IOPGT_MANIFEST_ERROR_IO "
		       "'PATH: strerror', not a diagnostic");

	g_assert_false(iopgt_manifest_parse_file(f->m, path, f->diag,
						 &f->error));
	g_assert_error(f->error, IOPGT_MANIFEST_ERROR, IOPGT_MANIFEST_ERROR_IO);
	expected = g_strdup_printf("%s: %s", path, g_strerror(ENOENT));
	g_assert_cmpstr(f->error->message, ==, expected);
	g_assert_cmpuint(f->diag->len, ==, 0);

	g_clear_error(&f->error);
	g_assert_false(iopgt_manifest_parse_file(f->m, dir, NULL, &f->error));
	g_assert_error(f->error, IOPGT_MANIFEST_ERROR, IOPGT_MANIFEST_ERROR_IO);
	g_free(expected);
	expected = g_strdup_printf("%s: not a regular file", dir);
	g_assert_cmpstr(f->error->message, ==, expected);
}

static void test_error_optional(struct fixture *f, gconstpointer data)
{
	static const char text[] = "bogus\nsoftdep a pre: b\n";

	(void)data;
	g_test_summary("diagnostics and error may both be NULL");

	g_assert_false(iopgt_manifest_parse_data(f->m, "x.conf", text,
						 sizeof(text) - 1, NULL, NULL));
	assert_pre(f, "a", "b");
	g_assert_true(iopgt_manifest_parse_data(f->m, "empty.conf", NULL, 0,
						NULL, NULL));
}

static void test_comments(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("'#' starts a comment at the start of a token only");

	g_assert_false(parse(f, "c.conf",
			     "# a comment\n"
			     "   \t# an indented comment\n"
			     "softdep a pre: b # trailing comment pre: x\n"
			     "softdep a post:\tc\t#tab before the comment\n"
			     "softdep d pre: e#f\n"
			     "\n"
			     "   \t  \n"
			     "blacklist g#note\n"));
	assert_pre(f, "a", "b");
	assert_post(f, "a", "c");
	assert_pre(f, "d", "");
	assert_lines(f->diag,
		"c.conf:5: invalid plugin name 'e#f': use only letters, digits, '-', '_' and '.'\n"
		"c.conf:8: invalid plugin name 'g#note': use only letters, digits, '-', '_' and '.'\n");
}

static void test_pre_post_any_order(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("'pre:' and 'post:' may repeat in any order on a line");

	g_assert_true(parse(f, "o.conf",
			    "softdep a post: d pre: b post: e pre: c post: d\n"));
	assert_pre(f, "a", "b c");
	assert_post(f, "a", "d e");
	assert_pre(f, "nothing", "");
}

static void test_softdep_lines_merge(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = {
		"smmu-helper", "io-pgtable-dart", "io-pgtable-arm-v7s",
		"io-pgtable-arm", "io-pgtable-amd", "io-pgtable-apple", NULL
	};

	(void)data;
	g_test_summary("Every softdep line for a name counts (kmod: only the "
		       "first, kmod#33), in declaration order without repeats, "
		       "across files too");

	g_assert_true(parse_fixture(f, "multi-softdep.conf"));
	assert_pre(f, "io-pgtable-arm-v7s",
		   "io-pgtable-arm io-pgtable-dart io-pgtable-amd");
	assert_post(f, "io-pgtable-arm-v7s", "smmu-helper");

	g_assert_true(parse_fixture(f, "multi-softdep-local.conf"));
	assert_pre(f, "io-pgtable-arm-v7s",
		   "io-pgtable-arm io-pgtable-dart io-pgtable-amd io-pgtable-apple");
	g_assert_cmpuint(f->diag->len, ==, 0);

	/* a repeat keeps the line that declared it first */
	plan(f, avail);
	assert_edges(f,
		"io-pgtable-amd -> io-pgtable-arm-v7s: softdep io-pgtable-arm-v7s pre: io-pgtable-amd (multi-softdep.conf:5)\n"
		"io-pgtable-apple -> io-pgtable-arm-v7s: softdep io-pgtable-arm-v7s pre: io-pgtable-apple (multi-softdep-local.conf:2)\n"
		"io-pgtable-arm -> io-pgtable-arm-v7s: softdep io-pgtable-arm-v7s pre: io-pgtable-arm (multi-softdep.conf:3)\n"
		"io-pgtable-arm-v7s -> smmu-helper: softdep io-pgtable-arm-v7s post: smmu-helper (multi-softdep.conf:4)\n"
		"io-pgtable-dart -> io-pgtable-arm-v7s: softdep io-pgtable-arm-v7s pre: io-pgtable-dart (multi-softdep.conf:4)\n");
	assert_entries(f,
		"load io-pgtable-amd\n"
		"load io-pgtable-apple\n"
		"load io-pgtable-arm\n"
		"load io-pgtable-dart\n"
		"load io-pgtable-arm-v7s\n"
		"load smmu-helper\n");
}

static void test_continuation(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "a", "b", "c", "d", NULL };

	(void)data;
	g_test_summary("'\\' at the end of a line joins the next one; "
		       "messages give the line where the logical line starts");

	g_assert_false(parse(f, "c.conf",
			     "softdep a pre: b \\\n"		/* 1 */
			     "\tc \\\n"				/* 2 */
			     "\tpost: d\n"			/* 3 */
			     "softdep e pre: f\\\n"		/* 4 */
			     "g\n"				/* 5 */
			     "# a comment \\\n"			/* 6 */
			     "softdep h pre: i\n"		/* 7 */
			     "sofdep x \\\n"			/* 8 */
			     "  y\n"				/* 9 */
			     "softdep j pre: k\r\n"		/* 10 */
			     "softdep l pre: m \\\r\n"		/* 11 */
			     "  n\r\n"				/* 12 */
			     "softdep o \\\n"			/* 13 */
			     "\n"				/* 14 */
			     "blacklist z\n"));			/* 15 */
	assert_lines(f->diag,
		"c.conf:8: unknown directive 'sofdep'\n"
		"c.conf:13: softdep o: no 'pre:' or 'post:' dependencies\n");

	assert_pre(f, "a", "b c");
	assert_post(f, "a", "d");
	/* the backslash and newline go, nothing is put in their place */
	assert_pre(f, "e", "fg");
	/* a comment line continues like any other */
	assert_pre(f, "h", "");
	/* CRLF line ends */
	assert_pre(f, "j", "k");
	assert_pre(f, "l", "m n");
	g_assert_cmpstr(iopgt_manifest_blacklist_origin(f->m, "z"), ==,
			"c.conf:15");

	plan(f, avail);
	assert_edges(f,
		"a -> d: softdep a post: d (c.conf:1)\n"
		"b -> a: softdep a pre: b (c.conf:1)\n"
		"c -> a: softdep a pre: c (c.conf:1)\n");
}

static void test_underscore_folds(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = {
		"io_pgtable_arm", "io-pgtable-arm-v7s", "io_pgtable_broken",
		"io-pgtable-broken", NULL
	};

	(void)data;
	g_test_summary("'_' and '-' are the same in names (kmod's "
		       "underscores()); plans use the '-' form");

	g_assert_true(parse(f, "u.conf",
			    "softdep io_pgtable_arm_v7s pre: io_pgtable_arm\n"
			    "softdep io-pgtable-arm-v7s pre: io-pgtable-arm\n"
			    "blacklist io_pgtable_broken\n"));
	assert_pre(f, "io-pgtable-arm-v7s", "io-pgtable-arm");
	assert_pre(f, "io_pgtable_arm_v7s", "io-pgtable-arm");
	g_assert_true(iopgt_manifest_is_blacklisted(f->m, "io-pgtable-broken"));
	g_assert_true(iopgt_manifest_is_blacklisted(f->m, "io_pgtable_broken"));

	/* "io_pgtable_broken" and "io-pgtable-broken" are one plugin */
	plan(f, avail);
	assert_entries(f,
		"load io-pgtable-arm\n"
		"load io-pgtable-arm-v7s\n"
		"blacklisted io-pgtable-broken: blacklisted at u.conf:3\n");
	assert_edges(f,
		"io-pgtable-arm -> io-pgtable-arm-v7s: softdep io-pgtable-arm-v7s pre: io-pgtable-arm (u.conf:1)\n");
}

static void test_name_is_not_a_path(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Names are plugin names: '/', '..' and a leading '.' "
		       "are refused, and the line does nothing");

	g_assert_false(parse(f, "p.conf",
			     "softdep ../evil pre: a\n"
			     "softdep a pre: ../evil\n"
			     "softdep a post: /usr/lib/x.so\n"
			     "softdep a pre: b/c\n"
			     "softdep a pre: .hidden\n"
			     "softdep a pre: b..c\n"
			     "blacklist ./x\n"
			     "softdep a pre: ok \033[2J\n"));
	assert_lines(f->diag,
		"p.conf:1: invalid plugin name '../evil': names are plugin names, not paths\n"
		"p.conf:2: invalid plugin name '../evil': names are plugin names, not paths\n"
		"p.conf:3: invalid plugin name '/usr/lib/x.so': names are plugin names, not paths\n"
		"p.conf:4: invalid plugin name 'b/c': names are plugin names, not paths\n"
		"p.conf:5: invalid plugin name '.hidden': names are plugin names, not paths\n"
		"p.conf:6: invalid plugin name 'b..c': names are plugin names, not paths\n"
		"p.conf:7: invalid plugin name './x': names are plugin names, not paths\n"
		/* control bytes are echoed escaped */
		"p.conf:8: invalid plugin name '\\033[2J': use only letters, digits, '-', '_' and '.'\n");
	assert_pre(f, "a", "");
	assert_post(f, "a", "");
	assert_pre(f, "../evil", "");
	g_assert_false(iopgt_manifest_is_blacklisted(f->m, "./x"));
}

static void test_nul_byte(struct fixture *f, gconstpointer data)
{
	static const char text[] =
		"softdep a pre: b\n"			/* 1 */
		"softdep c pre: d\0e\n"			/* 2 */
		"softdep f pre: g \\\n"			/* 3 */
		"\0\n"					/* 4 */
		"softdep h pre: i\n";			/* 5 */

	(void)data;
	g_test_summary("A line with a NUL byte is refused, the rest apply");

	g_assert_false(parse_len(f, "n.conf", text, sizeof(text) - 1));
	assert_lines(f->diag,
		"n.conf:2: line contains a NUL byte\n"
		"n.conf:3: line contains a NUL byte\n");
	assert_parse_error(f, "n.conf:2: line contains a NUL byte");
	assert_pre(f, "a", "b");
	assert_pre(f, "c", "");
	assert_pre(f, "f", "");
	assert_pre(f, "h", "i");
}

/* "softdep NAME pre: DEP #xxxx" padded to exactly len bytes. */
static char *line_of(const char *name, const char *dep, gsize len)
{
	GString *s = g_string_new(NULL);

	g_string_printf(s, "softdep %s pre: %s #", name, dep);
	g_assert_cmpuint(s->len, <=, len);
	while (s->len < len)
		g_string_append_c(s, 'x');
	return g_string_free(s, FALSE);
}

static void test_over_long_line(struct fixture *f, gconstpointer data)
{
	g_autofree char *fits = line_of("a", "b", 4096);
	g_autofree char *over = line_of("c", "d", 4097);
	g_autofree char *huge = line_of("e", "f", 1 << 20);
	g_autofree char *joined = line_of("g", "h", 4000);
	g_autofree char *text = NULL;

	(void)data;
	g_test_summary("A logical line over 4096 bytes is refused, also when "
		       "it is long only once continued");

	text = g_strdup_printf("%s\n%s\n%s\n%s\\\n%s\nsoftdep i pre: j\n",
			       fits, over, huge, joined, joined);
	g_assert_false(parse(f, "l.conf", text));
	assert_lines(f->diag,
		"l.conf:2: line is longer than 4096 bytes\n"
		"l.conf:3: line is longer than 4096 bytes\n"
		"l.conf:4: line is longer than 4096 bytes\n");
	assert_pre(f, "a", "b");
	assert_pre(f, "c", "");
	assert_pre(f, "e", "");
	assert_pre(f, "g", "");
	assert_pre(f, "i", "j");
}

static void test_unterminated_continuation(struct fixture *f,
					   gconstpointer data)
{
	(void)data;
	g_test_summary("A '\\' on the last line continues into nothing: the "
		       "line is refused, at the line where it started");

	g_assert_false(parse(f, "u.conf",
			     "softdep a pre: b\n"
			     "softdep c pre: \\\n"
			     "  d \\\n"));
	assert_lines(f->diag,
		"u.conf:2: '\\' continues the last line past the end of the file\n");
	assert_pre(f, "a", "b");
	assert_pre(f, "c", "");

	/* without the final newline too */
	g_assert_false(parse(f, "v.conf", "softdep e pre: f \\"));
	assert_parse_error(f,
		"v.conf:1: '\\' continues the last line past the end of the file");
	assert_pre(f, "e", "");

	/* a missing final newline alone is fine */
	g_assert_true(parse(f, "w.conf", "softdep g pre: h"));
	assert_pre(f, "g", "h");
}

/* ---- planning ------------------------------------------------------------ */

static void test_blacklist(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "v7s", "arm", "dart", "p", "q", NULL };

	(void)data;
	g_test_summary("A blacklisted plugin is not loaded and its edges go; "
		       "who depended on it still loads, with no warning");

	g_assert_true(parse(f, "bl.conf",
			    "softdep v7s pre: arm post: dart\n"	/* 1 */
			    "blacklist arm\n"			/* 2 */
			    "blacklist dart\n"			/* 3 */
			    "blacklist arm\n"			/* 4 */
			    "softdep p pre: q\n"		/* 5 */
			    "softdep q pre: p\n"		/* 6 */
			    "blacklist q\n"));			/* 7 */
	g_assert_true(iopgt_manifest_is_blacklisted(f->m, "arm"));
	g_assert_false(iopgt_manifest_is_blacklisted(f->m, "v7s"));
	/* the first line that blacklisted it */
	g_assert_cmpstr(iopgt_manifest_blacklist_origin(f->m, "arm"), ==,
			"bl.conf:2");
	g_assert_null(iopgt_manifest_blacklist_origin(f->m, "v7s"));

	plan(f, avail);
	assert_entries(f,
		"load p\n"
		"load v7s\n"
		"blacklisted arm: blacklisted at bl.conf:2\n"
		"blacklisted dart: blacklisted at bl.conf:3\n"
		"blacklisted q: blacklisted at bl.conf:7\n");
	assert_edges(f, "");
	g_assert_cmpuint(strv_len(f->plan->warnings), ==, 0);
	/* blacklisting q breaks the p <-> q cycle */
	g_assert_cmpuint(strv_len(f->plan->errors), ==, 0);
	assert_cycle(f, "p", NULL);

	/* a later file adds to the blacklist */
	g_assert_true(parse(f, "local.conf", "\nblacklist v7s\n"));
	plan(f, avail);
	assert_entries(f,
		"load p\n"
		"blacklisted arm: blacklisted at bl.conf:2\n"
		"blacklisted dart: blacklisted at bl.conf:3\n"
		"blacklisted q: blacklisted at bl.conf:7\n"
		"blacklisted v7s: blacklisted at local.conf:2\n");
}

static void test_missing_target_warns(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "b", "a", NULL };

	(void)data;
	g_test_summary("A softdep on a plugin that is not there is a warning, "
		       "never fatal; softdeps of absent plugins say nothing");

	g_assert_true(parse(f, "m.conf",
			    "softdep b pre: x post: a\n"
			    "softdep a pre: y post: z y\n"
			    "softdep absent pre: nowhere\n"));
	plan(f, avail);
	assert_entries(f,
		"load b\n"
		"load a\n");
	assert_edges(f, "b -> a: softdep b post: a (m.conf:1)\n");
	assert_strv(f->plan->warnings,
		"m.conf:2: softdep a pre: y: no plugin named 'y', ignored\n"
		"m.conf:2: softdep a post: z: no plugin named 'z', ignored\n"
		"m.conf:2: softdep a post: y: no plugin named 'y', ignored\n"
		"m.conf:1: softdep b pre: x: no plugin named 'x', ignored\n");
	g_assert_cmpuint(strv_len(f->plan->errors), ==, 0);
}

static void test_pre_post_every_level(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = {
		"alpha", "beta", "mid", "xray", "yak", "zeta", NULL
	};

	(void)data;
	g_test_summary("pre: loads before and post: after, at every level of "
		       "a chain, against alphabetical order");

	g_assert_true(parse(f, "chain.conf",
			    "softdep zeta pre: yak post: alpha\n"
			    "softdep yak pre: xray\n"
			    "softdep alpha post: beta\n"));
	plan(f, avail);
	/* mid has no softdeps: it sorts first among the ready */
	assert_entries(f,
		"load mid\n"
		"load xray\n"
		"load yak\n"
		"load zeta\n"
		"load alpha\n"
		"load beta\n");
	assert_edges(f,
		"alpha -> beta: softdep alpha post: beta (chain.conf:3)\n"
		"xray -> yak: softdep yak pre: xray (chain.conf:2)\n"
		"yak -> zeta: softdep zeta pre: yak (chain.conf:1)\n"
		"zeta -> alpha: softdep zeta post: alpha (chain.conf:1)\n");
}

static void test_same_edge_twice(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "b", "a", NULL };

	(void)data;
	g_test_summary("One order declared from both ends gives two edges, "
		       "each with its own reason");

	g_assert_true(parse(f, "t.conf",
			    "softdep b pre: a\n"
			    "softdep a post: b\n"));
	plan(f, avail);
	assert_entries(f, "load a\nload b\n");
	assert_edges(f,
		"a -> b: softdep a post: b (t.conf:2)\n"
		"a -> b: softdep b pre: a (t.conf:1)\n");
}

static void test_cycle(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "e", "d", "c", "b", "a", NULL };

	(void)data;
	g_test_summary("A cycle is one error that names it; its members are "
		       "not loaded, everything else is");

	g_assert_true(parse_fixture(f, "cycle.conf"));
	plan(f, avail);
	assert_entries(f,
		"load d\n"
		"load c\n"
		"load e\n"
		"cycle a: on softdep cycle a -> b -> a\n"
		"cycle b: on softdep cycle a -> b -> a\n");
	assert_strv(f->plan->errors, "softdep cycle: a -> b -> a\n");
	g_assert_cmpuint(strv_len(f->plan->warnings), ==, 0);
	/* the cycle's edges stay in the plan: they explain it */
	assert_edges(f,
		"a -> b: softdep b pre: a (cycle.conf:3)\n"
		"a -> c: softdep c pre: a (cycle.conf:5)\n"
		"b -> a: softdep a pre: b (cycle.conf:2)\n"
		"d -> c: softdep d post: c (cycle.conf:6)\n");

	assert_cycle(f, "a", "a -> b -> a");
	assert_cycle(f, "b", "a -> b -> a");
	assert_cycle(f, "c", NULL);
	assert_cycle(f, "e", NULL);
}

static void test_self_dependency(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "a", "b", NULL };

	(void)data;
	g_test_summary("softdep a pre: a is the cycle a -> a");

	g_assert_true(parse(f, "s.conf",
			    "softdep a pre: a\n"
			    "softdep b post: b\n"));
	plan(f, avail);
	assert_entries(f,
		"cycle a: on softdep cycle a -> a\n"
		"cycle b: on softdep cycle b -> b\n");
	assert_strv(f->plan->errors,
		"softdep cycle: a -> a\n"
		"softdep cycle: b -> b\n");
	assert_cycle(f, "a", "a -> a");
}

static void test_long_cycle(struct fixture *f, gconstpointer data)
{
	enum { N = 200 };
	GPtrArray *avail = g_ptr_array_new_with_free_func(g_free);
	GString *text = g_string_new(NULL);
	GString *ring = g_string_new("n000");
	GString *entries = g_string_new("load after\n");
	g_autofree char *error = NULL;

	(void)data;
	g_test_summary("A ring of 200 plugins, declared backwards, is one "
		       "error naming the whole ring from its smallest name; "
		       "members point at it with a short reason");

	for (int i = N - 1; i >= 0; i--)
		g_string_append_printf(text, "softdep n%03d post: n%03d\n", i,
				       (i + 1) % N);
	g_string_append(text, "softdep after pre: n150\n");
	for (int i = 1; i <= N; i++)
		g_string_append_printf(ring, " -> n%03d", i % N);
	/* each member's reason is short: the ring is named once, in errors */
	for (int i = 0; i < N; i++) {
		g_ptr_array_add(avail, g_strdup_printf("n%03d", i));
		g_string_append_printf(entries,
				       "cycle n%03d: on softdep cycle n000 -> n001 -> n002 -> n003 -> \u2026 (200 plugins; see errors)\n",
				       i);
	}
	g_ptr_array_add(avail, g_strdup("after"));
	g_ptr_array_add(avail, NULL);

	g_assert_true(parse(f, "ring.conf", text->str));
	plan(f, (const char *const *)avail->pdata);

	error = g_strdup_printf("softdep cycle: %s\n", ring->str);
	assert_strv(f->plan->errors, error);
	assert_entries(f, entries->str);
	assert_cycle(f, "n123", ring->str);
	g_assert_cmpuint(f->plan->n_edges, ==, N + 1);

	g_ptr_array_unref(avail);
	g_string_free(text, TRUE);
	g_string_free(ring, TRUE);
	g_string_free(entries, TRUE);
}

static void test_cycles_sharing_a_node(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "c", "b", "a", "x", NULL };

	(void)data;
	g_test_summary("Two cycles through one plugin are two errors; each "
		       "member is named on a cycle through it");

	g_assert_true(parse(f, "8.conf",
			    "softdep a post: b c\n"
			    "softdep b post: a\n"
			    "softdep c post: a\n"
			    "softdep x pre: c\n"));
	plan(f, avail);
	assert_strv(f->plan->errors,
		"softdep cycle: a -> b -> a\n"
		"softdep cycle: a -> c -> a\n");
	assert_entries(f,
		"load x\n"
		"cycle a: on softdep cycle a -> b -> a\n"
		"cycle b: on softdep cycle a -> b -> a\n"
		"cycle c: on softdep cycle a -> c -> a\n");
	assert_cycle(f, "c", "a -> c -> a");
}

static void test_cycle_order_is_by_name(struct fixture *f,
					gconstpointer data)
{
	const char *const avail[] = { "d", "c", "b", "a", NULL };

	(void)data;
	g_test_summary("A cycle is walked from its smallest name, following "
		       "edges in name order");

	/* a -> b, a -> c, b -> d, c -> d, d -> a: a -> b -> d -> a first */
	g_assert_true(parse(f, "w.conf",
			    "softdep a post: c b\n"
			    "softdep d pre: c b post: a\n"));
	plan(f, avail);
	assert_strv(f->plan->errors,
		"softdep cycle: a -> b -> d -> a\n"
		"softdep cycle: a -> c -> d -> a\n");
	assert_cycle(f, "a", "a -> b -> d -> a");
	assert_cycle(f, "d", "a -> b -> d -> a");
	assert_cycle(f, "c", "a -> c -> d -> a");
}

static void test_find_cycle_over_manifest(struct fixture *f,
					  gconstpointer data)
{
	const char *const avail[] = { "a", NULL };

	(void)data;
	g_test_summary("find_cycle() sees every manifest name, the plan only "
		       "available ones");

	g_assert_true(parse(f, "f.conf",
			    "softdep a pre: b\n"
			    "softdep b pre: a\n"));
	assert_cycle(f, "a", "a -> b -> a");
	assert_cycle(f, "b", "a -> b -> a");
	assert_cycle(f, "nobody", NULL);

	plan(f, avail);
	assert_entries(f, "load a\n");
	assert_strv(f->plan->warnings,
		"f.conf:1: softdep a pre: b: no plugin named 'b', ignored\n");
	g_assert_cmpuint(strv_len(f->plan->errors), ==, 0);
}

/* Every shuffle must give byte-identical plans. */
static void test_order_independent(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {
		"io-pgtable-apple", "io-pgtable-arm", "io-pgtable-arm-v7s",
		"io-pgtable-broken", "io-pgtable-dart", "a", "b", "c", "d",
		"e", "lonely",
	};
	enum { N = G_N_ELEMENTS(names) };
	const char *avail[N + 1];
	g_autofree char *reference = NULL;

	(void)data;
	g_test_summary("The plan depends on the manifest only: reversed, "
		       "rotated and shuffled discovery orders give one plan");

	g_assert_true(parse_fixture(f, "good.conf"));
	g_assert_true(parse_fixture(f, "cycle.conf"));
	g_assert_true(parse(f, "extra.conf", "softdep lonely pre: nobody\n"));

	memcpy(avail, names, sizeof(names));
	avail[N] = NULL;
	plan(f, avail);
	reference = plan_dump(f->plan);
	g_assert_cmpstr(reference, ==,
		"load d\n"
		"load c\n"
		"load e\n"
		"load io-pgtable-arm\n"
		"load io-pgtable-arm-v7s\n"
		"load io-pgtable-dart\n"
		"load io-pgtable-apple\n"
		"load lonely\n"
		"cycle a: on softdep cycle a -> b -> a\n"
		"cycle b: on softdep cycle a -> b -> a\n"
		"blacklisted io-pgtable-broken: blacklisted at good.conf:10\n"
		"--\n"
		"a -> b: softdep b pre: a (cycle.conf:3)\n"
		"a -> c: softdep c pre: a (cycle.conf:5)\n"
		"b -> a: softdep a pre: b (cycle.conf:2)\n"
		"d -> c: softdep d post: c (cycle.conf:6)\n"
		"io-pgtable-arm -> io-pgtable-arm-v7s: softdep io-pgtable-arm-v7s pre: io-pgtable-arm (good.conf:4)\n"
		"io-pgtable-arm -> io-pgtable-dart: softdep io-pgtable-dart pre: io-pgtable-arm (good.conf:7)\n"
		"io-pgtable-dart -> io-pgtable-apple: softdep io-pgtable-dart post: io-pgtable-apple (good.conf:7)\n"
		"--\n"
		"extra.conf:1: softdep lonely pre: nobody: no plugin named 'nobody', ignored\n"
		"--\n"
		"softdep cycle: a -> b -> a\n");

	for (int round = 0; round < 2 * N + 50; round++) {
		g_autofree char *dump = NULL;

		if (round < N) {		/* every rotation */
			for (int i = 0; i < N; i++)
				avail[i] = names[(i + round) % N];
		} else if (round < 2 * N) {	/* reversed rotations */
			for (int i = 0; i < N; i++)
				avail[i] = names[(N - 1 - i + round) % N];
		} else {			/* Fisher-Yates */
			for (int i = N - 1; i > 0; i--) {
				int j = g_test_rand_int_range(0, i + 1);
				const char *t = avail[i];

				avail[i] = avail[j];
				avail[j] = t;
			}
		}
		plan(f, avail);
		dump = plan_dump(f->plan);
		g_assert_cmpstr(dump, ==, reference);
	}
}

static void test_empty(struct fixture *f, gconstpointer data)
{
	const char *const none[] = { NULL };
	const char *const avail[] = { "b", "a", "a", NULL };

	(void)data;
	g_test_summary("Empty input gives an empty plan; with no manifest, "
		       "plugins load by name, duplicates once");

	g_assert_true(parse(f, "empty.conf", ""));
	g_assert_true(parse(f, "blank.conf", "\n\n  \n# nothing\n"));
	plan(f, none);
	g_assert_cmpuint(f->plan->n_entries, ==, 0);
	g_assert_cmpuint(f->plan->n_edges, ==, 0);
	g_assert_cmpuint(strv_len(f->plan->warnings), ==, 0);
	g_assert_cmpuint(strv_len(f->plan->errors), ==, 0);

	plan(f, avail);
	assert_entries(f, "load a\nload b\n");
	iopgt_plan_free(NULL);
}

/* ---- bad input: every malformed line kind -------------------------------- */

static void test_mode_without_colon(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "a", "b", "j", "k", NULL };

	(void)data;
	g_test_summary("'pre' or 'post' without its colon is refused with a "
		       "message that says so, wherever it stands");

	g_assert_false(parse(f, "c.conf",
			     "softdep a pre: b\n"		/* 1 */
			     "softdep c pre d\n"		/* 2 */
			     "softdep e post: f post g\n"	/* 3 */
			     "softdep h pre: i post\n"		/* 4 */
			     "softdep j post: k\n"));		/* 5 */
	assert_lines(f->diag,
		"c.conf:2: softdep c: 'pre' is missing its colon ('pre:')\n"
		"c.conf:3: softdep e: 'post' is missing its colon ('post:')\n"
		"c.conf:4: softdep h: 'post' is missing its colon ('post:')\n");
	assert_parse_error(f,
		"c.conf:2: softdep c: 'pre' is missing its colon ('pre:')");
	assert_pre(f, "c", "");
	assert_post(f, "e", "");
	assert_pre(f, "h", "");
	plan(f, avail);
	assert_entries(f, "load b\nload a\nload j\nload k\n");
	assert_edges(f,
		"b -> a: softdep a pre: b (c.conf:1)\n"
		"j -> k: softdep j post: k (c.conf:5)\n");
	/* "pre" is still a fine name for a plugin, just not after a mode */
	g_assert_true(parse(f, "d.conf", "blacklist pre\nsoftdep post pre: x\n"));
	g_assert_true(iopgt_manifest_is_blacklisted(f->m, "pre"));
	assert_pre(f, "post", "x");
}

static void test_mode_twice(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A mode followed by another mode, or ending the line, "
		       "names no plugin; a mode may repeat after names");

	g_assert_false(parse(f, "m.conf",
			     "softdep a pre: pre: b\n"		/* 1 */
			     "softdep a post: pre: b\n"		/* 2 */
			     "softdep a pre: b post:\n"		/* 3 */
			     "softdep a pre: c pre: d\n"	/* 4 */
			     "softdep a post: post:\n"));	/* 5 */
	assert_lines(f->diag,
		"m.conf:1: softdep a: 'pre:' names no plugin\n"
		"m.conf:2: softdep a: 'post:' names no plugin\n"
		"m.conf:3: softdep a: 'post:' names no plugin\n"
		"m.conf:5: softdep a: 'post:' names no plugin\n");
	/* only line 4 applied: not even the "b" of line 3 */
	assert_pre(f, "a", "c d");
	assert_post(f, "a", "");
}

static void test_comment_only_files(struct fixture *f, gconstpointer data)
{
	static const char *const files[] = {
		"",
		"\n",
		"#",
		"#\n#\n",
		"# only\r\n\t# comments\r\n",
		"   \t\v\f\r\n",
		"\r\n\r\n",
		"# a comment that continues \\\nsoftdep x pre: y\n",
	};
	const char *const avail[] = { "x", "y", NULL };

	(void)data;
	g_test_summary("Empty, blank-only and comment-only files are good and "
		       "add nothing (a comment's '\\' swallows the next line)");

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *name = g_strdup_printf("e%zu.conf", i);

		g_assert_true(parse(f, name, files[i]));
		g_assert_no_error(f->error);
	}
	g_assert_cmpuint(f->diag->len, ==, 0);
	assert_pre(f, "x", "");
	plan(f, avail);
	assert_entries(f, "load x\nload y\n");
	assert_edges(f, "");
}

static void test_crlf(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("CRLF files: bad lines are reported without the CR, a "
		       "lone CR is a blank, a final CR without LF is fine");

	g_assert_false(parse(f, "r.conf",
			     "softdep a pre: b\r\n"		/* 1 */
			     "sofdep x\r\n"			/* 2 */
			     "softdep c pre:\r\n"		/* 3 */
			     "blacklist d e\r\n"		/* 4 */
			     "blacklist f\r\n"			/* 5 */
			     "softdep i\rpre: j\r\n"		/* 6 */
			     "softdep g pre: h\r"));		/* 7 */
	assert_lines(f->diag,
		"r.conf:2: unknown directive 'sofdep'\n"
		"r.conf:3: softdep c: 'pre:' names no plugin\n"
		"r.conf:4: blacklist: takes one plugin name, got 2\n");
	assert_pre(f, "a", "b");
	assert_pre(f, "c", "");
	g_assert_false(iopgt_manifest_is_blacklisted(f->m, "d"));
	g_assert_cmpstr(iopgt_manifest_blacklist_origin(f->m, "f"), ==,
			"r.conf:5");
	assert_pre(f, "i", "j");
	assert_pre(f, "g", "h");
}

static void test_tabs_and_blanks(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Tabs, \\v and \\f separate tokens like spaces; a '\\' "
		       "followed by a blank is an ordinary (invalid) character");

	g_assert_false(parse(f, "t.conf",
			     "\tsoftdep\ta\tpre:\tb\t\n"	/* 1 */
			     "softdep\vc\fpre: d\n"		/* 2 */
			     "\t\tblacklist\te\t# why\n"	/* 3 */
			     "\tsofdep\tx\n"			/* 4 */
			     "softdep f pre:\tg\\\t\n"		/* 5 */
			     "softdep h pre: \\ i\n"		/* 6 */
			     "softdep j post:\t\tk\n"));	/* 7 */
	assert_lines(f->diag,
		"t.conf:4: unknown directive 'sofdep'\n"
		"t.conf:5: invalid plugin name 'g\\\\': use only letters, digits, '-', '_' and '.'\n"
		"t.conf:6: invalid plugin name '\\\\': use only letters, digits, '-', '_' and '.'\n");
	assert_pre(f, "a", "b");
	assert_pre(f, "c", "d");
	g_assert_cmpstr(iopgt_manifest_blacklist_origin(f->m, "e"), ==,
			"t.conf:3");
	assert_pre(f, "f", "");
	assert_pre(f, "h", "");
	assert_post(f, "j", "k");
}

static void test_non_printable(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Non-UTF-8, non-ASCII and control bytes are invalid in "
		       "names and come back escaped, never raw");

	g_assert_false(parse(f, "n.conf",
			     "softdep a pre: b\n"		/* 1 */
			     "softdep c pre: \xff\xfe\n"	/* 2 */
			     "\xc3\x28 x\n"			/* 3 */
			     "blacklist caf\xc3\xa9\n"		/* 4 */
			     "softdep d pre: e\x7f\n"		/* 5 */
			     "softdep \x1b[31mred pre: f\n"	/* 6 */
			     "blacklist \x01\n"			/* 7 */
			     "blacklist x\by\n"			/* 8 */
			     "softdep g post: h\n"));		/* 9 */
	assert_lines(f->diag,
		"n.conf:2: invalid plugin name '\\377\\376': use only letters, digits, '-', '_' and '.'\n"
		"n.conf:3: unknown directive '\\303('\n"
		"n.conf:4: invalid plugin name 'caf\\303\\251': use only letters, digits, '-', '_' and '.'\n"
		"n.conf:5: invalid plugin name 'e\\177': use only letters, digits, '-', '_' and '.'\n"
		"n.conf:6: invalid plugin name '\\033[31mred': use only letters, digits, '-', '_' and '.'\n"
		"n.conf:7: invalid plugin name '\\001': use only letters, digits, '-', '_' and '.'\n"
		"n.conf:8: invalid plugin name 'x\\by': use only letters, digits, '-', '_' and '.'\n");
	for (guint i = 0; i < f->diag->len; i++)
		for (const char *p = f->diag->pdata[i]; *p; p++)
			g_assert_true(g_ascii_isprint(*p));
	assert_pre(f, "a", "b");
	assert_pre(f, "c", "");
	assert_pre(f, "d", "");
	assert_post(f, "g", "h");
}

static void test_line_limit_exact(struct fixture *f, gconstpointer data)
{
	g_autofree char *crlf = line_of("a", "b", 4096);
	g_autofree char *j1 = line_of("e", "f", 2048);
	g_autofree char *j2 = line_of("g", "h", 2048);
	g_autofree char *tail = line_of("c", "d", 4097);
	g_autofree char *y1 = g_strnfill(2048, 'y');
	g_autofree char *y2 = g_strnfill(2049, 'y');
	g_autofree char *text = NULL;

	(void)data;
	g_test_summary("4096 bytes is the limit after joining, not counting "
		       "'\\', CR or LF: exactly 4096 is good, 4097 is refused, "
		       "also at the end of a file without a newline");

	text = g_strdup_printf("%s\r\n"		/* 1: 4096 + CR */
			       "%s\\\n%s\n"	/* 2-3: 2048 + 2048 */
			       "%s\\\r\n%s\n"	/* 4-5: 2048 + 2049 */
			       "softdep i pre: j\n"	/* 6 */
			       "%s",		/* 7: 4097, no newline */
			       crlf, j1, y1, j2, y2, tail);
	g_assert_false(parse(f, "x.conf", text));
	assert_lines(f->diag,
		"x.conf:4: line is longer than 4096 bytes\n"
		"x.conf:7: line is longer than 4096 bytes\n");
	assert_pre(f, "a", "b");
	assert_pre(f, "e", "f");
	assert_pre(f, "g", "");
	assert_pre(f, "i", "j");
	assert_pre(f, "c", "");
}

static void test_other_directives(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("modprobe.d's other directives and wrongly cased ones "
		       "are each one 'unknown directive' line");

	g_assert_false(parse(f, "o.conf",
			     "alias foo bar\n"			/* 1 */
			     "install a /bin/true\n"		/* 2 */
			     "remove a /bin/true\n"		/* 3 */
			     "weakdep a b\n"			/* 4 */
			     "softdep a pre: b\n"		/* 5 */
			     "Softdep a pre: c\n"		/* 6 */
			     "BLACKLIST a\n"			/* 7 */
			     "include /etc/iopgt.d\n"		/* 8 */
			     "softdep# a pre: d\n"));		/* 9 */
	assert_lines(f->diag,
		"o.conf:1: unknown directive 'alias'\n"
		"o.conf:2: unknown directive 'install'\n"
		"o.conf:3: unknown directive 'remove'\n"
		"o.conf:4: unknown directive 'weakdep'\n"
		"o.conf:6: unknown directive 'Softdep'\n"
		"o.conf:7: unknown directive 'BLACKLIST'\n"
		"o.conf:8: unknown directive 'include'\n"
		"o.conf:9: unknown directive 'softdep#'\n");
	assert_pre(f, "a", "b");
	g_assert_false(iopgt_manifest_is_blacklisted(f->m, "a"));
}

static void test_backslash_at_eof(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A file that is only '\\', or ends in '\\' with or "
		       "without a newline or CR, is one unterminated line");

	g_assert_false(parse(f, "a.conf", "\\"));
	assert_parse_error(f,
		"a.conf:1: '\\' continues the last line past the end of the file");
	g_assert_false(parse(f, "b.conf", "softdep a pre: b\n\\\n"));
	assert_parse_error(f,
		"b.conf:2: '\\' continues the last line past the end of the file");
	g_assert_false(parse(f, "c.conf", "softdep c pre: d\nblacklist e \\\r"));
	assert_parse_error(f,
		"c.conf:2: '\\' continues the last line past the end of the file");
	assert_lines(f->diag,
		"a.conf:1: '\\' continues the last line past the end of the file\n"
		"b.conf:2: '\\' continues the last line past the end of the file\n"
		"c.conf:2: '\\' continues the last line past the end of the file\n");
	assert_pre(f, "a", "b");
	assert_pre(f, "c", "d");
	g_assert_false(iopgt_manifest_is_blacklisted(f->m, "e"));
}

static void test_nul_anywhere(struct fixture *f, gconstpointer data)
{
	static const char text[] =
		"softdep a pre: b\n"		/* 1 */
		"# x\0y\n"			/* 2 */
		"\0\n"				/* 3 */
		"softdep g pre: h\n"		/* 4 */
		"softdep c pre: d\0";		/* 5, no newline */

	(void)data;
	g_test_summary("A NUL byte refuses its line even in a comment, alone, "
		       "or as the very last byte");

	g_assert_false(parse_len(f, "z.conf", text, sizeof(text) - 1));
	assert_lines(f->diag,
		"z.conf:2: line contains a NUL byte\n"
		"z.conf:3: line contains a NUL byte\n"
		"z.conf:5: line contains a NUL byte\n");
	assert_pre(f, "a", "b");
	assert_pre(f, "g", "h");
	assert_pre(f, "c", "");
}

static void test_name_length_limit(struct fixture *f, gconstpointer data)
{
	g_autofree char *n64 = g_strnfill(64, 'n');
	g_autofree char *n65 = g_strnfill(65, 'n');
	g_autofree char *text = NULL;
	g_autofree char *diag = NULL;
	g_autofree char *origin = NULL;

	(void)data;
	g_test_summary("A name of exactly 64 bytes is good in every position; "
		       "65 is refused in every position");

	text = g_strdup_printf("softdep %s pre: a\n"	/* 1 */
			       "softdep b pre: %s\n"	/* 2 */
			       "blacklist %s\n"		/* 3 */
			       "softdep %s pre: a\n"	/* 4 */
			       "softdep b post: %s\n"	/* 5 */
			       "blacklist %s\n",	/* 6 */
			       n64, n64, n64, n65, n65, n65);
	g_assert_false(parse(f, "l.conf", text));
	diag = g_strdup_printf(
		"l.conf:4: invalid plugin name '%s': longer than 64 bytes\n"
		"l.conf:5: invalid plugin name '%s': longer than 64 bytes\n"
		"l.conf:6: invalid plugin name '%s': longer than 64 bytes\n",
		n65, n65, n65);
	assert_lines(f->diag, diag);
	assert_pre(f, n64, "a");
	assert_pre(f, "b", n64);
	assert_post(f, "b", "");
	assert_pre(f, n65, "");
	origin = g_strdup("l.conf:3");
	g_assert_cmpstr(iopgt_manifest_blacklist_origin(f->m, n64), ==, origin);
	g_assert_null(iopgt_manifest_blacklist_origin(f->m, n65));
}

static void test_self_dependency_folded(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "x_y", "z", NULL };

	(void)data;
	g_test_summary("A name that depends on its own '_' spelling is a "
		       "self-dependency: the cycle x-y -> x-y");

	g_assert_true(parse(f, "s.conf",
			    "softdep x_y post: x-y\n"
			    "softdep z pre: x_y\n"));
	plan(f, avail);
	assert_entries(f,
		"load z\n"
		"cycle x-y: on softdep cycle x-y -> x-y\n");
	assert_strv(f->plan->errors, "softdep cycle: x-y -> x-y\n");
	assert_cycle(f, "x_y", "x-y -> x-y");
	assert_cycle(f, "z", NULL);
}

static void test_long_chain_and_ring(struct fixture *f, gconstpointer data)
{
	enum { CHAIN = 3000, RING = 50 };
	g_autoptr(GPtrArray) avail = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GString) ring = g_string_new("r00");
	g_autoptr(GString) entries = g_string_new(NULL);
	g_autofree char *error = NULL;

	(void)data;
	g_test_summary("A 3000-deep softdep chain loads in order without "
		       "recursion; a 50-plugin ring hanging off its end is one "
		       "error, and the chain still loads");

	/* declared backwards, so nothing comes for free from line order */
	for (int i = CHAIN - 1; i > 0; i--)
		g_string_append_printf(text, "softdep c%04d pre: c%04d\n", i,
				       i - 1);
	for (int i = 0; i < RING; i++)
		g_string_append_printf(text, "softdep r%02d pre: r%02d\n", i,
				       (i + 1) % RING);
	g_string_append_printf(text, "softdep r00 pre: c%04d\n", CHAIN - 1);

	for (int i = CHAIN - 1; i >= 0; i--)
		g_ptr_array_add(avail, g_strdup_printf("c%04d", i));
	for (int i = 0; i < RING; i++)
		g_ptr_array_add(avail, g_strdup_printf("r%02d", i));
	g_ptr_array_add(avail, NULL);

	/* the ring in name order: r00 -> r49 -> r48 ... -> r01 -> r00 */
	for (int i = RING - 1; i >= 0; i--)
		g_string_append_printf(ring, " -> r%02d", i);
	for (int i = 0; i < CHAIN; i++)
		g_string_append_printf(entries, "load c%04d\n", i);
	for (int i = 0; i < RING; i++)
		g_string_append_printf(entries,
				       "cycle r%02d: on softdep cycle r00 -> r49 -> r48 -> r47 -> \u2026 (50 plugins; see errors)\n",
				       i);

	g_assert_true(parse(f, "chain.conf", text->str));
	plan(f, (const char *const *)avail->pdata);
	error = g_strdup_printf("softdep cycle: %s\n", ring->str);
	assert_strv(f->plan->errors, error);
	assert_entries(f, entries->str);
	g_assert_cmpuint(f->plan->n_edges, ==, CHAIN - 1 + RING + 1);
	g_assert_cmpuint(strv_len(f->plan->warnings), ==, 0);
	assert_cycle(f, "r17", ring->str);
	assert_cycle(f, "c1234", NULL);
}

static void test_many_bad_lines(struct fixture *f, gconstpointer data)
{
	enum { N = 1000 };
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GString) want = g_string_new(NULL);

	(void)data;
	g_test_summary("1000 bad lines between 1000 good ones: each reported "
		       "once in order, *error holds the first, all good apply");

	for (int i = 0; i < N; i++) {
		g_string_append_printf(text, "softdep g%d pre: h%d\n"
				       "bogus%d\n", i, i, i);
		g_string_append_printf(want, "b.conf:%d: unknown directive "
				       "'bogus%d'\n", 2 * i + 2, i);
	}
	g_assert_false(parse(f, "b.conf", text->str));
	assert_lines(f->diag, want->str);
	assert_parse_error(f, "b.conf:2: unknown directive 'bogus0'");
	for (int i = 0; i < N; i += 111) {
		g_autofree char *g = g_strdup_printf("g%d", i);
		g_autofree char *h = g_strdup_printf("h%d", i);

		assert_pre(f, g, h);
	}
}

static void test_error_quark(struct fixture *f, gconstpointer data)
{
	(void)f;
	(void)data;
	g_test_summary("IOPGT_MANIFEST_ERROR is a stable, named quark");

	g_assert_cmpuint(IOPGT_MANIFEST_ERROR, !=, 0);
	g_assert_cmpstr(g_quark_to_string(IOPGT_MANIFEST_ERROR), ==,
			"iopgt-manifest-error-quark");
}

/* ---- size: every pass grows linearly (work counters, never time) ---------- */

/* "softdep same pre: d0 ... " as n lines, one new dep each, plus n
 * repeats of the first line (duplicates merge). */
static uint64_t parse_same_name(guint n)
{
	g_autoptr(GString) text = g_string_new(NULL);
	struct iopgt_manifest *m = iopgt_manifest_new();
	const GPtrArray *pre;
	uint64_t work;

	for (guint i = 0; i < n; i++)
		g_string_append_printf(text, "softdep same pre: d%u\n", i);
	for (guint i = 0; i < n; i++)
		g_string_append(text, "softdep same pre: d0\n");
	g_assert_true(iopgt_manifest_parse_data(m, "s.conf", text->str,
						text->len, NULL, NULL));
	pre = iopgt_manifest_get_pre(m, "same");
	g_assert_cmpuint(pre->len, ==, n);
	g_assert_cmpstr(pre->pdata[0], ==, "d0");
	work = iopgt_manifest_work(m);
	iopgt_manifest_free(m);
	return work;
}

static void test_parse_is_linear(struct fixture *f, gconstpointer data)
{
	uint64_t small, big;

	(void)f;
	(void)data;
	g_test_summary("F2: N lines 'softdep SAME pre: depN' merge with a "
		       "bounded number of comparisons per line (it was a scan "
		       "of the whole list per line: N^2/2)");
	small = parse_same_name(2000);
	big = parse_same_name(20000);
	/* a scan per line would be 2e8 at 20000, and 100x the small run */
	g_assert_cmpuint(big, <=, 12 * 2 * 20000);
	g_assert_cmpuint(big, <=, 12 * small);
}

static uint64_t plan_ring(guint n, gsize *reason_bytes)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GPtrArray) avail = g_ptr_array_new_with_free_func(g_free);
	struct iopgt_manifest *m = iopgt_manifest_new();
	struct iopgt_plan *plan;
	uint64_t work;

	for (guint i = 0; i < n; i++) {
		g_string_append_printf(text, "softdep r%05u pre: r%05u\n", i,
				       (i + 1) % n);
		g_ptr_array_add(avail, g_strdup_printf("r%05u", i));
	}
	g_assert_true(iopgt_manifest_parse_data(m, "ring.conf", text->str,
						text->len, NULL, NULL));
	plan = iopgt_manifest_plan(m, (const char *const *)avail->pdata, n);
	g_assert_cmpuint(plan->n_entries, ==, n);
	g_assert_cmpuint(g_strv_length((char **)plan->errors), ==, 1);
	*reason_bytes = strlen(plan->errors[0]);
	for (size_t i = 0; i < plan->n_entries; i++) {
		g_assert_cmpint(plan->entries[i].action, ==, IOPGT_PLAN_CYCLE);
		*reason_bytes += strlen(plan->entries[i].reason);
	}
	work = iopgt_plan_work(plan);
	iopgt_plan_free(plan);
	iopgt_manifest_free(m);
	return work;
}

static void test_ring_is_linear(struct fixture *f, gconstpointer data)
{
	gsize small_bytes, big_bytes;
	uint64_t small, big;

	(void)f;
	(void)data;
	g_test_summary("F4: a softdep ring is named once; plan work and text "
		       "grow linearly with its size (each member used to carry "
		       "the whole ring and search it again)");
	small = plan_ring(800, &small_bytes);
	big = plan_ring(8000, &big_bytes);
	g_assert_cmpuint(big, <=, 12 * small);
	g_assert_cmpuint(big, <=, 20 * 8000);
	/* 8000 names in the error, ~90 bytes per member's reason */
	g_assert_cmpuint(big_bytes, <=, 8000 * (10 + 100));
	g_assert_cmpuint(big_bytes, <=, 12 * small_bytes);
}

/* A hub with n two-plugin cycles through it: one strongly connected
 * component where naming every cycle separately costs n^2 steps. */
static uint64_t plan_hub(guint n, char **last_error)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GPtrArray) avail = g_ptr_array_new_with_free_func(g_free);
	struct iopgt_manifest *m = iopgt_manifest_new();
	struct iopgt_plan *plan;
	uint64_t work;
	guint nerr;

	g_ptr_array_add(avail, g_strdup("hub"));
	for (guint i = 0; i < n; i++) {
		g_string_append_printf(text, "softdep hub post: x%05u\n"
				       "softdep hub pre: x%05u\n", i, i);
		g_ptr_array_add(avail, g_strdup_printf("x%05u", i));
	}
	g_assert_true(iopgt_manifest_parse_data(m, "hub.conf", text->str,
						text->len, NULL, NULL));
	plan = iopgt_manifest_plan(m, (const char *const *)avail->pdata,
				   avail->len);
	for (size_t i = 0; i < plan->n_entries; i++)
		g_assert_cmpint(plan->entries[i].action, ==, IOPGT_PLAN_CYCLE);
	nerr = g_strv_length((char **)plan->errors);
	*last_error = g_strdup(plan->errors[nerr - 1]);
	work = iopgt_plan_work(plan);
	iopgt_plan_free(plan);
	iopgt_manifest_free(m);
	return work;
}

static void test_hub_is_linear(struct fixture *f, gconstpointer data)
{
	g_autofree char *small_err = NULL;
	g_autofree char *big_err = NULL;
	uint64_t small, big;

	(void)f;
	(void)data;
	g_test_summary("F4: thousands of small cycles through one plugin: "
		       "named one by one while that stays linear, the rest in "
		       "one error");
	small = plan_hub(400, &small_err);
	big = plan_hub(4000, &big_err);
	g_assert_cmpuint(big, <=, 12 * small);
	g_assert_true(g_str_has_prefix(big_err, "softdep cycle: x"));
	g_assert_true(g_str_has_suffix(big_err,
		"are on cycles through hub (too many to name one by one)"));
}

/* ---- loading one plugin --------------------------------------------------- */

struct known {
	const char *const *load;	/* LOAD */
	const char *const *loaded;	/* LOADED */
	guint calls;
};

static enum iopgt_softdep_target known_lookup(const char *name, void *data)
{
	struct known *k = data;

	k->calls++;
	if (k->loaded && g_strv_contains(k->loaded, name))
		return IOPGT_SOFTDEP_LOADED;
	if (!k->load || g_strv_contains(k->load, name))
		return IOPGT_SOFTDEP_LOAD;
	return IOPGT_SOFTDEP_MISSING;
}

/* "name <- wanted_by kind [skip: why]\n" per step */
static char *steps_dump(const struct iopgt_load_order *o)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < o->steps->len; i++) {
		const struct iopgt_load_step *st = &g_array_index(
			o->steps, struct iopgt_load_step, i);

		g_string_append(s, st->name);
		if (st->wanted_by)
			g_string_append_printf(s, " <- %s %s", st->wanted_by,
					       st->kind);
		if (st->skip)
			g_string_append_printf(s, " [skip: %s]", st->skip);
		g_string_append_c(s, '\n');
	}
	return g_string_free(s, FALSE);
}

#define assert_steps(o, expected)                                       \
	do {                                                            \
		g_autofree char *_s = steps_dump(o);                    \
		g_assert_cmpstr(_s, ==, expected);                      \
	} while (0)

static void test_load_order(struct fixture *f, gconstpointer data)
{
	const char *const load[] = {
		"root", "p1", "p2", "q", "post1", "late", "bl", "c1", "c2",
		"done", NULL
	};
	const char *const loaded[] = { "done", NULL };
	struct known k = { .load = load, .loaded = loaded };
	struct iopgt_load_order *o;

	(void)data;
	g_test_summary("load_order: pre: targets first, post: after, a "
		       "plugin after every wanted plugin that names it in "
		       "post:, missing targets warn, cycles elsewhere are "
		       "skipped with their reason, loaded ones are no step");
	g_assert_true(parse(f, "l.conf",
		"softdep root pre: p1 p2 nowhere post: post1\n"	/* 1 */
		"softdep p1 pre: q post: late\n"		/* 2 */
		"softdep p2 post: q pre: bl c1 done\n"		/* 3 */
		"softdep c1 pre: c2\n"				/* 4 */
		"softdep c2 pre: c1\n"				/* 5 */
		"softdep bl pre: p1\n"				/* 6 */
		"blacklist bl\n"				/* 7 */
		"softdep late pre: post1\n"));			/* 8 */
	o = iopgt_manifest_load_order(f->m, "root", known_lookup, &k);
	g_assert_null(o->cycle);
	/* p2 post: q puts q after p2 although p1 asked for it first */
	/* the walk meets post1 through late before root's own post: */
	assert_steps(o,
		"bl <- p2 pre:\n"
		"c1 <- p2 pre: [skip: on softdep cycle c1 -> c2 -> c1]\n"
		"p2 <- root pre:\n"
		"q <- p1 pre:\n"
		"p1 <- root pre:\n"
		"root\n"
		"post1 <- late pre:\n"
		"late <- p1 post:\n");
	assert_lines(o->warnings,
		"l.conf:1: softdep root pre: nowhere: no plugin named 'nowhere', ignored\n");
	/* one lookup per name, none for root, none for what is loaded twice */
	g_assert_cmpuint(k.calls, ==, 10);
	iopgt_load_order_free(o);
}

static void test_load_order_post_after_asker(struct fixture *f,
					     gconstpointer data)
{
	struct known k = { 0 };
	struct iopgt_load_order *o;

	(void)data;
	g_test_summary("load_order: a plugin met through a post: target is "
		       "still placed after a plugin that must precede it (a "
		       "recursive loader got this wrong)");
	/* z pre: a; a post: b; b pre: w; w pre: z  ->  z before w */
	g_assert_true(parse(f, "o.conf",
			    "softdep z pre: a\n"
			    "softdep a post: b\n"
			    "softdep b pre: w\n"
			    "softdep w pre: z\n"));
	o = iopgt_manifest_load_order(f->m, "z", known_lookup, &k);
	g_assert_null(o->cycle);
	assert_steps(o,
		"a <- z pre:\n"
		"z\n"
		"w <- b pre:\n"
		"b <- a post:\n");
	g_assert_cmpuint(o->warnings->len, ==, 0);
	iopgt_load_order_free(o);
}

static void test_load_order_root_cycle(struct fixture *f, gconstpointer data)
{
	const char *const load[] = { "a", "b", "c", "x", NULL };
	struct known k = { .load = load };
	struct iopgt_load_order *o;

	(void)data;
	g_test_summary("load_order: a plugin on a cycle gives the cycle text "
		       "and no steps, also through a plugin it never names; "
		       "missing targets are warnings in the plan's words");
	g_assert_true(parse(f, "c.conf",
			    "softdep a post: b\n"
			    "softdep c pre: b post: a\n"	/* b -> c -> a */
			    "softdep x pre: gone\n"));
	o = iopgt_manifest_load_order(f->m, "a", known_lookup, &k);
	g_assert_cmpstr(o->cycle, ==, "a -> b -> c -> a");
	g_assert_cmpuint(o->steps->len, ==, 0);
	iopgt_load_order_free(o);

	o = iopgt_manifest_load_order(f->m, "x", known_lookup, &k);
	g_assert_null(o->cycle);
	assert_steps(o, "x\n");
	assert_lines(o->warnings,
		"c.conf:3: softdep x pre: gone: no plugin named 'gone', ignored\n");
	iopgt_load_order_free(o);
}

static uint64_t chain_work(guint n, guint *calls)
{
	g_autoptr(GString) text = g_string_new(NULL);
	struct iopgt_manifest *m = iopgt_manifest_new();
	struct known k = { 0 };
	struct iopgt_load_order *o;
	g_autofree char *root = g_strdup_printf("p%05u", 0);
	uint64_t work;

	/* p00000 pre: p00001 pre: ... : the deepest loads first */
	for (guint i = 0; i + 1 < n; i++)
		g_string_append_printf(text, "softdep p%05u pre: p%05u\n", i,
				       i + 1);
	g_assert_true(iopgt_manifest_parse_data(m, "chain.conf", text->str,
						text->len, NULL, NULL));
	o = iopgt_manifest_load_order(m, root, known_lookup, &k);
	g_assert_null(o->cycle);
	g_assert_cmpuint(o->steps->len, ==, n);
	for (guint i = 0; i < n; i++) {
		const struct iopgt_load_step *st = &g_array_index(
			o->steps, struct iopgt_load_step, i);
		g_autofree char *want = g_strdup_printf("p%05u", n - 1 - i);

		g_assert_cmpstr(st->name, ==, want);
	}
	work = o->work;
	*calls = k.calls;
	iopgt_load_order_free(o);
	iopgt_manifest_free(m);
	return work;
}

static void test_load_order_chain_is_linear(struct fixture *f,
					    gconstpointer data)
{
	guint small_calls, big_calls;
	uint64_t small, big;

	(void)f;
	(void)data;
	g_test_summary("F3: loading down a 10,000-deep softdep chain is one "
		       "iterative pass: linear work, one lookup per plugin, no "
		       "recursion (a cycle search per level was quadratic)");
	small = chain_work(1000, &small_calls);
	big = chain_work(10000, &big_calls);
	g_assert_cmpuint(big_calls, ==, 10000 - 1);
	g_assert_cmpuint(small_calls, ==, 1000 - 1);
	g_assert_cmpuint(big, <=, 12 * small);
	g_assert_cmpuint(big, <=, 20 * 10000);
}

/* ---- declared softdeps and the manifest ------------------------------------ */

static void test_declared_overridden(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "arm", "v7s", "dart", NULL };
	const char *const v1[] = { "pre: arm", NULL };
	const char *const v2[] = { "post: dart", "pre: bad/name", NULL };

	(void)data;
	g_test_summary("A plugin's declared softdeps are replaced by a reload, "
		       "cleared by NULL, and replaced by any manifest line for "
		       "that plugin; the plan says which line overrode what");

	g_assert_cmpint(iopgt_manifest_set_declared(f->m, "v7s", "v7s.so[i]",
						    v1), ==, 0);
	assert_pre(f, "v7s", "arm");
	/* a reload declares other softdeps: the old ones are gone */
	g_assert_cmpint(iopgt_manifest_set_declared(f->m, "v7s", "v7s.so[i]",
						    v2), ==, -EBADMSG);
	assert_pre(f, "v7s", "");
	assert_post(f, "v7s", "dart");
	plan(f, avail);
	assert_strv(f->plan->errors,
		"v7s.so[i]: invalid plugin name 'bad/name': names are plugin names, not paths\n");
	assert_edges(f, "v7s -> dart: softdep v7s post: dart (v7s.so[i])\n");
	g_assert_cmpint(iopgt_manifest_set_declared(f->m, "v7s", "v7s.so[i]",
						    NULL), ==, 0);
	assert_post(f, "v7s", "");

	/* the issue's case: the declaration plus a line the other way */
	g_assert_cmpint(iopgt_manifest_set_declared(f->m, "v7s", "v7s.so[i]",
						    v1), ==, 0);
	g_assert_true(parse(f, "m.conf", "softdep arm pre: v7s\n"));
	plan(f, avail);
	assert_strv(f->plan->errors, "softdep cycle: arm -> v7s -> arm\n");
	/* a manifest line for v7s replaces what its file declares */
	g_assert_true(parse(f, "local.conf", "\nsoftdep v7s post: dart\n"));
	assert_pre(f, "v7s", "");
	plan(f, avail);
	assert_entries(f, "load v7s\nload arm\nload dart\n");
	assert_strv(f->plan->errors, "");
	assert_strv(f->plan->overrides,
		"softdep v7s declared by v7s.so[i] is overridden by local.conf:2\n");
	/* manifest lines for one name still merge with each other */
	g_assert_true(parse(f, "more.conf", "softdep v7s pre: arm\n"));
	assert_pre(f, "v7s", "arm");
	assert_post(f, "v7s", "dart");
}

static void test_refused_lines_in_plan(struct fixture *f, gconstpointer data)
{
	const char *const avail[] = { "a", "b", NULL };

	(void)data;
	g_test_summary("Refused manifest lines are the plan's first errors, "
		       "then the cycles; no cycle text mentions ELOOP");
	g_assert_false(parse(f, "e.conf",
			     "softdep a pre: b\n"
			     "sofdep b pre: a\n"
			     "softdep b pre: a\n"));
	plan(f, avail);
	assert_strv(f->plan->errors,
		"e.conf:2: unknown directive 'sofdep'\n"
		"softdep cycle: a -> b -> a\n");
	g_assert_null(strstr(f->plan->entries[0].reason,
			     g_strerror(ELOOP)));
}

/* ---- the file ------------------------------------------------------------ */

static void test_file_not_regular_or_too_big(struct fixture *f,
					     gconstpointer data)
{
	g_autofree char *dir = g_dir_make_tmp("manifest-XXXXXX", NULL);
	g_autofree char *fifo = g_build_filename(dir, "fifo.conf", NULL);
	g_autofree char *big = g_build_filename(dir, "big.conf", NULL);
	g_autofree char *want = NULL;
	int fd;

	(void)data;
	g_test_summary("F5: a FIFO or device is refused at once (no block, no "
		       "endless read); a file over IOPGT_MANIFEST_MAX_BYTES is "
		       "refused whole; one line names the file");
	g_assert_nonnull(dir);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	g_assert_cmpint(iopgt_manifest_add_file(f->m, fifo, f->diag,
						&f->error), ==, -EINVAL);
	want = g_strdup_printf("%s: not a regular file", fifo);
	g_assert_cmpstr(f->error->message, ==, want);
	g_clear_error(&f->error);
	g_assert_cmpint(iopgt_manifest_add_file(f->m, "/dev/zero", f->diag,
						&f->error), ==, -EINVAL);
	g_assert_cmpstr(f->error->message, ==,
			"/dev/zero: not a regular file");
	g_clear_error(&f->error);

	/* sparse: the limit is checked while reading, not by allocating */
	fd = open(big, O_CREAT | O_WRONLY, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IOPGT_MANIFEST_MAX_BYTES + 1), ==, 0);
	close(fd);
	g_assert_cmpint(iopgt_manifest_add_file(f->m, big, f->diag, &f->error),
			==, -EFBIG);
	g_free(want);
	want = g_strdup_printf("%s: larger than 16777216 bytes (the manifest limit)",
			       big);
	g_assert_cmpstr(f->error->message, ==, want);
	g_assert_error(f->error, IOPGT_MANIFEST_ERROR, IOPGT_MANIFEST_ERROR_IO);
	g_assert_cmpuint(f->diag->len, ==, 0);

	unlink(fifo);
	unlink(big);
	rmdir(dir);
}

#define add(path, fn)                                                   \
	g_test_add("/host/manifest/" path, struct fixture, NULL,        \
		   fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	add("good-file-parses", test_good_file);
	add("default-conf-parses", test_default_conf);
	add("bad-line-reports-lineno", test_bad_line);
	add("parse-file-names-path", test_parse_file_names_path);
	add("unreadable-file-is-io-error", test_io_error);
	add("diagnostics-and-error-are-optional", test_error_optional);
	add("comments", test_comments);
	add("pre-post-in-any-order", test_pre_post_any_order);
	add("softdep-lines-merge", test_softdep_lines_merge);
	add("continuation", test_continuation);
	add("underscore-folds-to-dash", test_underscore_folds);
	add("name-is-not-a-path", test_name_is_not_a_path);
	add("nul-byte", test_nul_byte);
	add("over-long-line", test_over_long_line);
	add("unterminated-continuation", test_unterminated_continuation);
	add("blacklist", test_blacklist);
	add("missing-target-warns", test_missing_target_warns);
	add("pre-post-at-every-level", test_pre_post_every_level);
	add("same-edge-from-both-ends", test_same_edge_twice);
	add("cycle-is-reported-and-skipped", test_cycle);
	add("self-dependency-is-a-cycle", test_self_dependency);
	add("long-cycle", test_long_cycle);
	add("cycles-sharing-a-plugin", test_cycles_sharing_a_node);
	add("cycle-walk-is-by-name", test_cycle_order_is_by_name);
	add("find-cycle-sees-whole-manifest", test_find_cycle_over_manifest);
	add("order-independent-of-discovery", test_order_independent);
	add("empty", test_empty);
	add("error-quark", test_error_quark);
	add("bad/mode-without-colon", test_mode_without_colon);
	add("bad/mode-twice-in-a-row", test_mode_twice);
	add("bad/empty-and-comment-only-files", test_comment_only_files);
	add("bad/crlf-line-ends", test_crlf);
	add("bad/tabs-and-other-blanks", test_tabs_and_blanks);
	add("bad/non-utf8-and-control-bytes", test_non_printable);
	add("bad/line-length-at-and-over-limit", test_line_limit_exact);
	add("bad/other-modprobe-directives", test_other_directives);
	add("bad/backslash-at-end-of-file", test_backslash_at_eof);
	add("bad/nul-byte-anywhere", test_nul_anywhere);
	add("bad/name-length-at-and-over-limit", test_name_length_limit);
	add("bad/self-dependency-through-underscore",
	    test_self_dependency_folded);
	add("bad/long-chain-and-ring", test_long_chain_and_ring);
	add("bad/many-bad-lines", test_many_bad_lines);
	add("size/same-name-parse-is-linear", test_parse_is_linear);
	add("size/ring-plan-is-linear", test_ring_is_linear);
	add("size/hub-of-cycles-plan-is-linear", test_hub_is_linear);
	add("size/chain-load-order-is-linear",
	    test_load_order_chain_is_linear);
	add("load-order/pre-post-and-skips", test_load_order);
	add("load-order/post-target-after-its-predecessors",
	    test_load_order_post_after_asker);
	add("load-order/root-on-cycle", test_load_order_root_cycle);
	add("declared/replaced-and-overridden", test_declared_overridden);
	add("refused-lines-are-plan-errors", test_refused_lines_in_plan);
	add("file/not-regular-or-too-big", test_file_not_regular_or_too_big);

	return g_test_run();
}
