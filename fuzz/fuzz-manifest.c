// SPDX-License-Identifier: MIT
/*
 * fuzz-manifest: the softdep manifest parser and the load planner
 * (host/manifest.c).
 *
 * The input is a manifest file, parsed as "fuzz.conf".  It is then planned
 * over a set of available plugins (a few fixed names plus every word of
 * the input that is a valid name) and every promise of iopgt-internal.h is
 * checked:
 *  - parse_data returns TRUE exactly when there is no diagnostic, and
 *    *error then holds the first one; each diagnostic reads
 *    "fuzz.conf:N: message" with N a line of the input, in input order,
 *    in printable ASCII (user text is escaped);
 *  - the plan names each available plugin once: LOAD entries first, in the
 *    smallest-name-first topological order of the edges, then the others
 *    sorted by name; BLACKLISTED exactly for blacklisted names; CYCLE
 *    entries on a cycle of loadable plugins that find_cycle can name;
 *  - every edge is a softdep line between loadable plugins and every such
 *    softdep is an edge; every softdep on a missing plugin is a warning
 *    "fuzz.conf:N: ..."; errors are "softdep cycle: a -> ... -> a" along
 *    real edges;
 *  - errors list the refused lines first, in order;
 *  - load_order over the same plugins agrees with the plan on cycles and
 *    respects every edge between the plugins it loads;
 *  - the plan does not depend on the order of the available names, and
 *    parsing the same text again changes nothing but repeat the refused
 *    lines (lines merge).
 */
#include <string.h>

#include <glib.h>

#include "fuzz-host.h"
#include "iopgt-internal.h"

#define FILE_NAME	"fuzz.conf"
#define MAX_NAMES	48

static const char *const fixed_names[] = {
	"io-pgtable-arm", "io-pgtable-arm-v7s", "a", "b", "c", "d",
};

/* ---- the names --------------------------------------------------------- */

static void add_name(GPtrArray *names, GHashTable *seen, const char *name)
{
	char *c;

	if (names->len >= MAX_NAMES || !iopgt_name_is_valid(name))
		return;
	c = iopgt_name_canonical(name);
	if (g_hash_table_contains(seen, c)) {
		g_free(c);
		return;
	}
	g_hash_table_add(seen, c);
	g_ptr_array_add(names, c);
}

/* Canonical, without duplicates: what iopgt_manifest_plan() expects. */
static GPtrArray *available_names(const char *text)
{
	GPtrArray *names = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
							   g_str_equal,
							   g_free, NULL);
	g_auto(GStrv) words = g_strsplit_set(text, " \t\r\n\v\f\\#", -1);

	for (size_t i = 0; i < G_N_ELEMENTS(fixed_names); i++)
		add_name(names, seen, fixed_names[i]);
	for (char **w = words; *w; w++)
		add_name(names, seen, *w);
	/* the strings now belong to names */
	g_hash_table_steal_all(seen);
	g_ptr_array_set_free_func(names, g_free);
	return names;
}

/* ---- parse results ------------------------------------------------------- */

/* N of a "fuzz.conf:N: message", or 0 if s does not read so. */
static unsigned int diag_line(const char *s)
{
	const size_t n = strlen(FILE_NAME);
	unsigned int line = 0;
	const char *p;

	if (strncmp(s, FILE_NAME ":", n + 1))
		return 0;
	for (p = s + n + 1; g_ascii_isdigit(*p) && line < 10000000; p++)
		line = line * 10 + (unsigned int)(*p - '0');
	if (p == s + n + 1 || p[0] != ':' || p[1] != ' ' || !p[2])
		return 0;
	return line;
}

static bool is_printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static void check_parse(gboolean ok, const GPtrArray *diags,
			const GError *error, unsigned int n_lines)
{
	unsigned int last = 0;

	FUZZ_CHECK(ok == !diags->len, "ok %d with %u diagnostics", ok,
		   diags->len);
	if (ok) {
		FUZZ_CHECK(!error);
		return;
	}
	FUZZ_CHECK(error && error->domain == IOPGT_MANIFEST_ERROR &&
		   error->code == IOPGT_MANIFEST_ERROR_PARSE);
	FUZZ_CHECK(!strcmp(error->message, g_ptr_array_index(diags, 0)),
		   "error '%s' is not the first diagnostic", error->message);
	for (guint i = 0; i < diags->len; i++) {
		const char *d = g_ptr_array_index(diags, i);
		unsigned int line = diag_line(d);

		FUZZ_CHECK(line >= 1 && line <= n_lines && line > last,
			   "diagnostic '%s' (input has %u lines, last %u)", d,
			   n_lines, last);
		FUZZ_CHECK(is_printable(d), "unescaped text in a diagnostic");
		last = line;
	}
}

/* ---- the plan ------------------------------------------------------------ */

static bool array_has(const GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++)
		if (!strcmp(g_ptr_array_index(a, i), s))
			return true;
	return false;
}

/* "pre: a" on b, or "post: b" on a: a loads before b. */
static bool is_softdep(const struct iopgt_manifest *m, const char *a,
		       const char *b)
{
	return array_has(iopgt_manifest_get_post(m, a), b) ||
	       array_has(iopgt_manifest_get_pre(m, b), a);
}

/*
 * "a -> b -> ... -> a": a simple cycle through `through` along softdeps,
 * each member in members (if given).
 */
static void check_cycle_text(const struct iopgt_manifest *m, const char *text,
			     const char *through, GHashTable *members)
{
	g_auto(GStrv) v = g_strsplit(text, " -> ", -1);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint n = g_strv_length(v);
	bool found = false;

	FUZZ_CHECK(n >= 2 && !strcmp(v[0], v[n - 1]), "cycle '%s'", text);
	for (guint i = 0; i + 1 < n; i++) {
		FUZZ_CHECK(g_hash_table_add(seen, v[i]),
			   "cycle '%s' repeats '%s'", text, v[i]);
		FUZZ_CHECK(is_softdep(m, v[i], v[i + 1]),
			   "cycle '%s': no softdep %s -> %s", text, v[i],
			   v[i + 1]);
		FUZZ_CHECK(!iopgt_manifest_is_blacklisted(m, v[i]),
			   "cycle '%s' through blacklisted %s", text, v[i]);
		FUZZ_CHECK(!members || g_hash_table_contains(members, v[i]),
			   "cycle '%s': %s is not loadable", text, v[i]);
		found |= !strcmp(v[i], through);
	}
	FUZZ_CHECK(found, "cycle '%s' does not pass %s", text, through);
}

/* Every cycle find_cycle names, for any name. */
static char *checked_find_cycle(const struct iopgt_manifest *m,
				const char *name)
{
	g_autofree char *c = iopgt_name_canonical(name);
	char *cycle = iopgt_manifest_find_cycle(m, name);

	if (cycle)
		check_cycle_text(m, cycle, c, NULL);
	return cycle;
}

/* Every cycle member is loadable: then x cannot be loaded. */
static bool cycle_within(const char *text, GHashTable *set)
{
	g_auto(GStrv) v = g_strsplit(text, " -> ", -1);

	for (char **p = v; *p; p++)
		if (!g_hash_table_contains(set, *p))
			return false;
	return true;
}

static guint strv_len(const char *const *v)
{
	return g_strv_length((char **)v);
}

static bool strv_has(const char *const *v, const char *s)
{
	return g_strv_contains(v, s);
}

/*
 * A member's reason is the cycle itself, when short, or points at the
 * error that names it (a long cycle, or one of too many to name).
 */
static void check_cycle_reason(const struct iopgt_manifest *m,
			       const struct iopgt_plan *plan,
			       const struct iopgt_plan_entry *e,
			       GHashTable *loadable)
{
	const char *cycle = e->reason + strlen("on softdep cycle ");
	g_autofree char *err = NULL;
	bool named = false;

	if (g_str_has_suffix(e->reason, "see errors)")) {
		for (const char *const *x = plan->errors; *x; x++)
			named |= g_str_has_prefix(*x, "softdep cycle") &&
				 strstr(*x, e->name);
		FUZZ_CHECK(named, "no error names %s", e->name);
		return;
	}
	FUZZ_CHECK(g_str_has_prefix(e->reason, "on softdep cycle "), "%s",
		   e->reason);
	check_cycle_text(m, cycle, e->name, loadable);
	err = g_strdup_printf("softdep cycle: %s", cycle);
	FUZZ_CHECK(strv_has(plan->errors, err), "no error '%s'", err);
}

/*
 * The LOAD order must be the topological order that always takes the
 * smallest ready name: recomputed here the slow, obvious way.
 */
static void check_load_order(const struct iopgt_plan *plan, GPtrArray *order)
{
	g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) in_order = g_hash_table_new(g_str_hash,
							  g_str_equal);

	for (guint i = 0; i < order->len; i++)
		g_hash_table_add(in_order, g_ptr_array_index(order, i));
	for (guint k = 0; k < order->len; k++) {
		const char *best = NULL;

		for (guint i = 0; i < order->len; i++) {
			const char *v = g_ptr_array_index(order, i);
			bool ready = !g_hash_table_contains(done, v);

			for (guint j = 0; ready && j < plan->n_edges; j++) {
				const struct iopgt_plan_edge *e =
					&plan->edges[j];

				if (!strcmp(e->after, v) &&
				    g_hash_table_contains(in_order, e->before) &&
				    !g_hash_table_contains(done, e->before))
					ready = false;
			}
			if (ready && (!best || strcmp(v, best) < 0))
				best = v;
		}
		FUZZ_CHECK(best, "no ready plugin at step %u", k);
		FUZZ_CHECK(!strcmp(best, g_ptr_array_index(order, k)),
			   "step %u loads %s, the smallest ready is %s", k,
			   (char *)g_ptr_array_index(order, k), best);
		g_hash_table_add(done, (gpointer)best);
	}
}

static enum iopgt_softdep_target avail_lookup(const char *name, void *data)
{
	const GPtrArray *avail = data;

	for (guint i = 0; i < avail->len; i++)
		if (!strcmp(g_ptr_array_index(avail, i), name))
			return IOPGT_SOFTDEP_LOAD;
	return IOPGT_SOFTDEP_MISSING;
}

/*
 * load_order over the same plugins sees the same cycles as the plan, and
 * its steps respect every plan edge between plugins it loads.
 */
/*
 * The per-plugin cross-checks cost O(V + E) each: doing them for every
 * plugin would make one run quadratic in the input and the fuzzer slow on
 * exactly the big inputs that matter.  The first few plugins (in plan
 * order, which mutates with the input) are enough to catch a disagreement.
 */
#define CROSS_CHECKS_MAX	32

static void check_load_orders(const struct iopgt_manifest *m,
			      const struct iopgt_plan *plan,
			      const GPtrArray *avail)
{
	for (size_t i = 0; i < MIN(plan->n_entries, CROSS_CHECKS_MAX); i++) {
		const struct iopgt_plan_entry *e = &plan->entries[i];
		g_autoptr(GHashTable) pos = g_hash_table_new(g_str_hash,
							     g_str_equal);
		struct iopgt_load_order *o;

		if (e->action == IOPGT_PLAN_BLACKLISTED)
			continue;
		o = iopgt_manifest_load_order(m, e->name, avail_lookup,
					      (gpointer)avail);
		FUZZ_CHECK(!o->cycle == (e->action == IOPGT_PLAN_LOAD),
			   "%s: plan action %d, load_order cycle '%s'",
			   e->name, e->action, o->cycle);
		for (guint j = 0; j < o->steps->len; j++) {
			const struct iopgt_load_step *st = &g_array_index(
				o->steps, struct iopgt_load_step, j);

			if (!st->skip && !iopgt_manifest_is_blacklisted(
						m, st->name))
				g_hash_table_insert(pos, (gpointer)st->name,
						    GUINT_TO_POINTER(j + 1));
		}
		for (size_t j = 0; j < plan->n_edges; j++) {
			guint b = GPOINTER_TO_UINT(g_hash_table_lookup(
				pos, plan->edges[j].before));
			guint a = GPOINTER_TO_UINT(g_hash_table_lookup(
				pos, plan->edges[j].after));

			FUZZ_CHECK(!a || !b || b < a,
				   "load %s: %s after %s", e->name,
				   plan->edges[j].before, plan->edges[j].after);
		}
		iopgt_load_order_free(o);
	}
}

static void check_plan(const struct iopgt_manifest *m,
		       const struct iopgt_plan *plan, const GPtrArray *avail)
{
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) loadable = g_hash_table_new(g_str_hash,
							  g_str_equal);
	g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash,
							g_str_equal);
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	const GPtrArray *refused = iopgt_manifest_refused(m);
	guint n_edges = 0, n_missing = 0;
	const char *prev_other = NULL;

	for (guint i = 0; i < avail->len; i++) {
		const char *n = g_ptr_array_index(avail, i);

		g_hash_table_add(names, (gpointer)n);
		if (!iopgt_manifest_is_blacklisted(m, n))
			g_hash_table_add(loadable, (gpointer)n);
	}

	/* entries: a permutation, LOAD first, then the rest by name */
	FUZZ_CHECK(plan->n_entries == avail->len, "%zu entries for %u names",
		   plan->n_entries, avail->len);
	for (guint i = 0; i < plan->n_entries; i++) {
		const struct iopgt_plan_entry *e = &plan->entries[i];
		bool black = iopgt_manifest_is_blacklisted(m, e->name);

		FUZZ_CHECK(g_hash_table_contains(names, e->name),
			   "entry %s is not available", e->name);
		FUZZ_CHECK(g_hash_table_add(listed, (gpointer)e->name),
			   "entry %s twice", e->name);
		FUZZ_CHECK(black == (e->action == IOPGT_PLAN_BLACKLISTED),
			   "%s: blacklisted %d, action %d", e->name, black,
			   e->action);
		if (e->action == IOPGT_PLAN_LOAD) {
			FUZZ_CHECK(!prev_other, "LOAD %s after %s", e->name,
				   prev_other);
			FUZZ_CHECK(!e->reason);
			g_ptr_array_add(order, (gpointer)e->name);
			continue;
		}
		FUZZ_CHECK(e->reason);
		FUZZ_CHECK(!prev_other || strcmp(prev_other, e->name) < 0,
			   "%s listed after %s", e->name, prev_other);
		prev_other = e->name;
		if (e->action == IOPGT_PLAN_BLACKLISTED) {
			FUZZ_CHECK(g_str_has_prefix(e->reason,
						    "blacklisted at " FILE_NAME
						    ":"), "%s", e->reason);
			continue;
		}
		FUZZ_CHECK(e->action == IOPGT_PLAN_CYCLE);
		check_cycle_reason(m, plan, e, loadable);
	}

	/*
	 * find_cycle sees every name the manifest mentions: a CYCLE entry is
	 * on one, and a LOAD entry on none made of loadable plugins only.
	 */
	for (guint i = 0; i < MIN(plan->n_entries, CROSS_CHECKS_MAX); i++) {
		const struct iopgt_plan_entry *e = &plan->entries[i];
		g_autofree char *cycle = NULL;

		if (e->action == IOPGT_PLAN_BLACKLISTED)
			continue;
		cycle = checked_find_cycle(m, e->name);
		FUZZ_CHECK(e->action == IOPGT_PLAN_LOAD || cycle,
			   "plan says %s is on a cycle, find_cycle does not",
			   e->name);
		FUZZ_CHECK(e->action != IOPGT_PLAN_LOAD || !cycle ||
			   !cycle_within(cycle, loadable),
			   "%s loads, but is on the cycle %s", e->name, cycle);
	}

	/* edges: exactly the softdeps between loadable plugins */
	for (guint i = 0; i < plan->n_edges; i++) {
		const struct iopgt_plan_edge *e = &plan->edges[i];

		FUZZ_CHECK(g_hash_table_contains(loadable, e->before) &&
			   g_hash_table_contains(loadable, e->after),
			   "edge %s -> %s", e->before, e->after);
		FUZZ_CHECK(is_softdep(m, e->before, e->after),
			   "edge %s -> %s is no softdep", e->before, e->after);
		FUZZ_CHECK(g_str_has_prefix(e->reason, "softdep ") &&
			   g_str_has_suffix(e->reason, ")"), "%s", e->reason);
	}
	for (guint i = 0; i < avail->len; i++) {
		const char *b = g_ptr_array_index(avail, i);
		const GPtrArray *deps[2] = {
			iopgt_manifest_get_pre(m, b),
			iopgt_manifest_get_post(m, b),
		};

		if (!g_hash_table_contains(loadable, b))
			continue;
		for (int k = 0; k < 2; k++) {
			for (guint j = 0; j < deps[k]->len; j++) {
				const char *d = g_ptr_array_index(deps[k], j);

				if (g_hash_table_contains(loadable, d))
					n_edges++;
				else if (!g_hash_table_contains(names, d))
					n_missing++;
			}
		}
	}
	FUZZ_CHECK(plan->n_edges == n_edges, "%zu edges, %u softdeps",
		   plan->n_edges, n_edges);
	FUZZ_CHECK(strv_len(plan->warnings) == n_missing,
		   "%u warnings, %u missing", strv_len(plan->warnings),
		   n_missing);
	for (const char *const *w = plan->warnings; *w; w++)
		FUZZ_CHECK(diag_line(*w), "warning '%s'", *w);
	/* the refused lines, in order, then the cycles, sorted */
	for (guint i = 0; i < refused->len; i++)
		FUZZ_CHECK(plan->errors[i] &&
			   !strcmp(plan->errors[i], refused->pdata[i]),
			   "error %u is not refused line '%s'", i,
			   (char *)refused->pdata[i]);
	for (guint i = refused->len; plan->errors[i]; i++) {
		const char *e = plan->errors[i];

		FUZZ_CHECK(g_str_has_prefix(e, "softdep cycle: "), "%s", e);
		FUZZ_CHECK(i == refused->len ||
			   strcmp(plan->errors[i - 1], e) < 0,
			   "errors not sorted or repeated");
	}
	check_load_order(plan, order);
	check_load_orders(m, plan, avail);
}

/* ---- comparing two plans ------------------------------------------------- */

/* Everything but the refused lines, which a second parse repeats. */
static char *plan_text(const struct iopgt_manifest *m,
		       const struct iopgt_plan *plan)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < plan->n_entries; i++) {
		const struct iopgt_plan_entry *e = &plan->entries[i];

		g_string_append_printf(s, "entry %s %d %s\n", e->name,
				       e->action, e->reason ? e->reason : "-");
	}
	for (size_t i = 0; i < plan->n_edges; i++) {
		const struct iopgt_plan_edge *e = &plan->edges[i];

		g_string_append_printf(s, "edge %s %s %s\n", e->before,
				       e->after, e->reason);
	}
	for (const char *const *w = plan->warnings; *w; w++)
		g_string_append_printf(s, "warning %s\n", *w);
	for (guint i = iopgt_manifest_refused(m)->len; plan->errors[i]; i++)
		g_string_append_printf(s, "error %s\n", plan->errors[i]);
	return g_string_free(s, FALSE);
}

static char *plan_text_reversed(const struct iopgt_manifest *m,
				const GPtrArray *avail)
{
	g_autoptr(GPtrArray) rev = g_ptr_array_new();
	struct iopgt_plan *plan;
	char *text;

	for (guint i = avail->len; i-- > 0;)
		g_ptr_array_add(rev, g_ptr_array_index(avail, i));
	plan = iopgt_manifest_plan(m, (const char *const *)rev->pdata,
				   rev->len);
	text = plan_text(m, plan);
	iopgt_plan_free(plan);
	return text;
}

/* ---- the target ---------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct iopgt_manifest *m = iopgt_manifest_new();
	g_autoptr(GPtrArray) diags = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) diags2 = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) avail = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;
	g_autofree char *copy = g_strndup(size ? text : "", size);
	g_autofree char *first = NULL, *reversed = NULL, *again = NULL;
	struct iopgt_plan *plan;
	unsigned int n_lines = 1;
	gboolean ok, ok2;

	for (size_t i = 0; i < size; i++)
		n_lines += text[i] == '\n';

	/* the parser takes a length: NULs and no terminator are its to handle */
	ok = iopgt_manifest_parse_data(m, FILE_NAME, size ? text : NULL, size,
				       diags, &error);
	check_parse(ok, diags, error, n_lines);

	/* g_strndup stops at a NUL: names come from the text before it */
	avail = available_names(copy);
	plan = iopgt_manifest_plan(m, (const char *const *)avail->pdata,
				   avail->len);
	check_plan(m, plan, avail);
	first = plan_text(m, plan);
	iopgt_plan_free(plan);

	reversed = plan_text_reversed(m, avail);
	FUZZ_CHECK(!strcmp(first, reversed),
		   "the plan depends on the order of the names:\n%s---\n%s",
		   first, reversed);

	/* a blacklisted name names its line */
	for (guint i = 0; i < avail->len; i++) {
		const char *origin = iopgt_manifest_blacklist_origin(
			m, g_ptr_array_index(avail, i));

		FUZZ_CHECK(!origin || (g_str_has_prefix(origin,
							FILE_NAME ":") &&
				       g_ascii_isdigit(origin[sizeof(FILE_NAME)])),
			   "blacklist origin '%s'", origin);
	}

	/* the same lines again: merged, nothing changes */
	ok2 = iopgt_manifest_parse_data(m, FILE_NAME, size ? text : NULL, size,
					diags2, &error2);
	FUZZ_CHECK(ok == ok2 && diags->len == diags2->len);
	for (guint i = 0; i < diags->len; i++)
		FUZZ_CHECK(!strcmp(g_ptr_array_index(diags, i),
				   g_ptr_array_index(diags2, i)));
	plan = iopgt_manifest_plan(m, (const char *const *)avail->pdata,
				   avail->len);
	again = plan_text(m, plan);
	iopgt_plan_free(plan);
	FUZZ_CHECK(!strcmp(first, again),
		   "parsing the text twice changed the plan:\n%s---\n%s",
		   first, again);

	iopgt_manifest_free(m);
	return 0;
}
