// SPDX-License-Identifier: MIT
/*
 * From a manifest to an order: the softdep graph, its cycles (Tarjan), the
 * plan iopgt_host_load_all() follows (struct iopgt_plan, host.h) and the
 * steps that load one plugin with its softdeps (struct iopgt_load_order).
 *
 * Every walk is iterative and every pass looks at each plugin and softdep
 * a bounded number of times (sorting names aside): a 10,000-deep chain
 * costs no stack, and an 8,000-plugin ring is named once, not once per
 * member.  The work counters exist so the tests can assert that growth.
 */
#include <string.h>

#include "iopgt-internal.h"

/* A cycle longer than this is shortened in each member's reason (the
 * whole text is in the plan's errors, once). */
#define CYCLE_REASON_NAMES	8
#define CYCLE_REASON_HEAD	4

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
	uint64_t *work;		/* successors looked at */
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
static struct graph *graph_new(const GPtrArray *names, uint64_t *work)
{
	struct graph *g = g_new0(struct graph, 1);

	g->n = names->len;
	g->names = (const char **)names->pdata;
	g->index = g_hash_table_new(g_str_hash, g_str_equal);
	g->succ = g_new0(GArray *, g->n);
	g->work = work;
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

static guint succ_len(const struct graph *g, guint v)
{
	return g->succ[v]->len;
}

static guint succ_at(const struct graph *g, guint v, guint i)
{
	(*g->work)++;
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

		if (f->next == succ_len(t->g, v)) {
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

/* What Tarjan tells the rest: g_free() the arrays. */
struct sccs {
	guint *comp;		/* node -> component */
	guint ncomp;
	bool *on_cycle;		/* component of 2+ nodes, or a self-loop */
};

static void sccs_clear(struct sccs *s)
{
	g_free(s->comp);
	g_free(s->on_cycle);
}

static void graph_sccs(const struct graph *g, struct sccs *s)
{
	struct tarjan t = { .g = g };
	g_autofree guint *size = NULL;

	t.index = g_new0(guint, g->n);
	t.low = g_new0(guint, g->n);
	t.on_stack = g_new0(bool, g->n);
	t.comp = g_new0(guint, g->n);
	t.stack = g_array_new(FALSE, FALSE, sizeof(guint));
	t.calls = g_array_new(FALSE, FALSE, sizeof(struct dfs_frame));
	for (guint v = 0; v < g->n; v++)
		if (!t.index[v])
			tarjan_from(&t, v);

	s->comp = t.comp;
	s->ncomp = t.ncomp;
	s->on_cycle = g_new0(bool, g->n);
	size = g_new0(guint, t.ncomp);
	for (guint v = 0; v < g->n; v++)
		size[t.comp[v]]++;
	for (guint v = 0; v < g->n; v++) {
		s->on_cycle[v] = size[t.comp[v]] > 1;
		for (guint i = 0; i < succ_len(g, v); i++)
			if (succ_at(g, v, i) == v)
				s->on_cycle[v] = true;
	}

	g_free(t.index);
	g_free(t.low);
	g_free(t.on_stack);
	g_array_unref(t.stack);
	g_array_unref(t.calls);
}

/* ---- naming a cycle ------------------------------------------------------ */

/*
 * One search state reused by every search of a graph: marks are stamps,
 * so a search costs what it walks, not the size of the graph.
 */
struct cycle_walk {
	const struct graph *g;
	const guint *comp;	/* stay inside x's component: nothing outside
				 * it leads back to x */
	guint *mark;		/* == stamp: seen in this search */
	guint stamp;
	GArray *path;		/* struct dfs_frame: the cycle, once found */
};

static void cycle_walk_init(struct cycle_walk *w, const struct graph *g,
			    const guint *comp)
{
	w->g = g;
	w->comp = comp;
	w->mark = g_new0(guint, g->n);
	w->stamp = 0;
	w->path = g_array_new(FALSE, FALSE, sizeof(struct dfs_frame));
}

static void cycle_walk_clear(struct cycle_walk *w)
{
	g_free(w->mark);
	g_array_unref(w->path);
}

/*
 * A cycle through x: depth first from x, successors in name order, until
 * an edge leads back to x; w->path then holds it.  Each successor looked
 * at costs one unit of *budget (NULL: unbounded).
 * Returns: 1 found, 0 x is on no cycle, -1 the budget ran out.
 */
static int cycle_walk_from(struct cycle_walk *w, guint x, uint64_t *budget)
{
	struct dfs_frame f = { .v = x };

	w->stamp++;
	w->mark[x] = w->stamp;
	g_array_set_size(w->path, 0);
	g_array_append_val(w->path, f);
	while (w->path->len) {
		struct dfs_frame *top = &g_array_index(w->path,
						       struct dfs_frame,
						       w->path->len - 1);
		guint v;

		if (top->next == succ_len(w->g, top->v)) {
			g_array_set_size(w->path, w->path->len - 1);
			continue;
		}
		if (budget && !*budget)
			return -1;
		if (budget)
			(*budget)--;
		v = succ_at(w->g, top->v, top->next++);
		if (v == x)
			return 1;
		if (w->mark[v] == w->stamp ||
		    (w->comp && w->comp[v] != w->comp[x]))
			continue;
		w->mark[v] = w->stamp;
		f.v = v;
		g_array_append_val(w->path, f);	/* invalidates top */
	}
	return 0;
}

/* Where the path is rotated to start: its smallest name, so every member
 * prints the same text. */
static guint cycle_start(const GArray *path)
{
	const struct dfs_frame *p = (const struct dfs_frame *)path->data;
	guint start = 0;

	for (guint i = 1; i < path->len; i++)
		if (p[i].v < p[start].v)
			start = i;
	return start;
}

static const char *cycle_name_at(const struct cycle_walk *w, guint start,
				 guint i)
{
	const struct dfs_frame *p = (const struct dfs_frame *)w->path->data;

	return w->g->names[p[(start + i) % w->path->len].v];
}

/* "a -> b -> a" for the path found, from its smallest name. */
static char *cycle_text(const struct cycle_walk *w)
{
	GString *s = g_string_new(NULL);
	guint start = cycle_start(w->path);

	for (guint i = 0; i <= w->path->len; i++)
		g_string_append_printf(s, "%s%s", i ? " -> " : "",
				       cycle_name_at(w, start, i));
	return g_string_free(s, FALSE);
}

/* What a member says: the cycle, or for a long one its head and size. */
static char *cycle_reason(const struct cycle_walk *w, const char *text)
{
	GString *s;
	guint start;

	if (w->path->len <= CYCLE_REASON_NAMES)
		return g_strdup_printf("on softdep cycle %s", text);
	s = g_string_new("on softdep cycle ");
	start = cycle_start(w->path);
	for (guint i = 0; i < CYCLE_REASON_HEAD; i++)
		g_string_append_printf(s, "%s -> ", cycle_name_at(w, start, i));
	g_string_append_printf(s, "\u2026 (%u plugins; see errors)",
			       w->path->len);
	return g_string_free(s, FALSE);
}

/*
 * Every cycle member gets a reason and every cycle found is one error.
 * Greedy, in name order: the smallest member not yet named starts a search
 * and every member of the cycle found is named by it.  Searches inside one
 * component share a budget linear in its size; members left when it runs
 * out (a hub with thousands of small cycles through it) are named in one
 * error with the component's smallest member, so neither time nor text
 * can grow quadratically.
 */
struct cycle_names {
	GPtrArray *errors;	/* char *: "softdep cycle: ...", sorted */
	const char **reason;	/* per node, NULL when on no cycle */
	GPtrArray *texts;	/* owns the reasons */
};

static void cycle_names_clear(struct cycle_names *cn)
{
	g_ptr_array_unref(cn->errors);
	g_ptr_array_unref(cn->texts);
	g_free(cn->reason);
}

static void name_one_cycle(struct cycle_names *cn, struct cycle_walk *w)
{
	g_autofree char *text = cycle_text(w);
	char *reason = cycle_reason(w, text);

	g_ptr_array_add(cn->texts, reason);
	for (guint i = 0; i < w->path->len; i++) {
		guint v = g_array_index(w->path, struct dfs_frame, i).v;

		if (!cn->reason[v])
			cn->reason[v] = reason;
	}
	g_ptr_array_add(cn->errors, g_strdup_printf("softdep cycle: %s", text));
}

/* The members no search reached, one error per component. */
static void name_leftovers(struct cycle_names *cn, const struct graph *g,
			   const struct sccs *s, GPtrArray **left,
			   const guint *first)
{
	for (guint c = 0; c < s->ncomp; c++) {
		g_autoptr(GString) names = NULL;
		char *reason;

		if (!left[c])
			continue;
		names = g_string_new(NULL);
		for (guint i = 0; i < left[c]->len; i++)
			g_string_append_printf(names, "%s%s", i ? ", " : "",
					       g->names[GPOINTER_TO_UINT(
						       left[c]->pdata[i])]);
		g_ptr_array_add(cn->errors, g_strdup_printf(
			"softdep cycle: %s %s on cycles through %s (too many to name one by one)",
			names->str, left[c]->len > 1 ? "are" : "is",
			g->names[first[c]]));
		reason = g_strdup_printf("on a softdep cycle through %s (see errors)",
					 g->names[first[c]]);
		g_ptr_array_add(cn->texts, reason);
		for (guint i = 0; i < left[c]->len; i++)
			cn->reason[GPOINTER_TO_UINT(left[c]->pdata[i])] = reason;
		g_ptr_array_unref(left[c]);
	}
}

static void name_cycles(struct cycle_names *cn, const struct graph *g,
			const struct sccs *s)
{
	g_autofree uint64_t *budget = g_new0(uint64_t, s->ncomp);
	g_autofree guint *first = g_new(guint, s->ncomp);
	g_autofree GPtrArray **left = g_new0(GPtrArray *, s->ncomp);
	struct cycle_walk w;

	cn->errors = g_ptr_array_new_with_free_func(g_free);
	cn->texts = g_ptr_array_new_with_free_func(g_free);
	cn->reason = g_new0(const char *, g->n);
	for (guint v = g->n; v-- > 0;) {
		if (!s->on_cycle[v])
			continue;
		budget[s->comp[v]] += 4 + 4 * (uint64_t)succ_len(g, v);
		first[s->comp[v]] = v;	/* ends as the smallest */
	}

	cycle_walk_init(&w, g, s->comp);
	for (guint v = 0; v < g->n; v++) {
		int found;

		if (!s->on_cycle[v] || cn->reason[v])
			continue;
		found = cycle_walk_from(&w, v, &budget[s->comp[v]]);
		g_assert(found);
		if (found > 0) {
			name_one_cycle(cn, &w);
			continue;
		}
		if (!left[s->comp[v]])
			left[s->comp[v]] = g_ptr_array_new();
		g_ptr_array_add(left[s->comp[v]], GUINT_TO_POINTER(v));
	}
	cycle_walk_clear(&w);
	name_leftovers(cn, g, s, left, first);
	g_ptr_array_sort(cn->errors, cmp_str);
}

/* ---- the plan ------------------------------------------------------------ */

/* The public plan and what owns its memory. */
struct plan_priv {
	struct iopgt_plan pub;
	GStringChunk *strings;
	uint64_t work;
};

void iopgt_plan_free(struct iopgt_plan *plan)
{
	struct plan_priv *pp;

	if (!plan)
		return;
	pp = container_of(plan, struct plan_priv, pub);
	g_free((gpointer)plan->entries);
	g_free((gpointer)plan->edges);
	g_free((gpointer)plan->warnings);
	g_free((gpointer)plan->errors);
	g_free((gpointer)plan->overrides);
	g_string_chunk_free(pp->strings);
	g_free(pp);
}

uint64_t iopgt_plan_work(const struct iopgt_plan *plan)
{
	return container_of(plan, const struct plan_priv, pub)->work;
}

/* Everything plan building needs, freed in one place. */
struct planner {
	const struct iopgt_manifest *m;
	struct plan_priv *pp;
	GHashTable *available;	/* canonical names (owned) */
	GPtrArray *loadable;	/* sorted, borrowed from available */
	GArray *loads;		/* struct iopgt_plan_entry: LOAD, in order */
	GArray *others;		/* struct iopgt_plan_entry: not loaded */
	GArray *edges;		/* struct iopgt_plan_edge */
	GPtrArray *warnings;	/* const char *, in pp->strings */
	GPtrArray *errors;	/* const char *, in pp->strings */
	struct graph *g;
	struct sccs sccs;
	struct cycle_names cycles;
};

static void planner_clear(struct planner *p)
{
	if (p->cycles.errors)
		cycle_names_clear(&p->cycles);
	sccs_clear(&p->sccs);
	graph_free(p->g);
	g_ptr_array_unref(p->loadable);
	g_hash_table_unref(p->available);
}

static const char *plan_str(struct planner *p, const char *s)
{
	return s ? g_string_chunk_insert_const(p->pp->strings, s) : NULL;
}

/* reason is copied. */
static void plan_entry(struct planner *p, GArray *to, const char *name,
		       enum iopgt_plan_action action, const char *reason)
{
	struct iopgt_plan_entry e = {
		.name = plan_str(p, name),
		.action = action,
		.reason = plan_str(p, reason),
	};

	g_array_append_val(to, e);
}

static int cmp_entry(gconstpointer a, gconstpointer b)
{
	const struct iopgt_plan_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int cmp_edge(gconstpointer a, gconstpointer b)
{
	const struct iopgt_plan_edge *x = a, *y = b;
	int r = strcmp(x->before, y->before);

	if (!r)
		r = strcmp(x->after, y->after);
	/* The same pair from two lines: both reasons are kept. */
	return r ? r : strcmp(x->reason, y->reason);
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
	g_hash_table_iter_init(&it, p->available);
	while (g_hash_table_iter_next(&it, &name, NULL)) {
		const char *origin = iopgt_manifest_blacklisted_canon(p->m,
								      name);
		g_autofree char *reason = NULL;

		if (!origin) {
			g_ptr_array_add(p->loadable, name);
			continue;
		}
		reason = g_strdup_printf("blacklisted at %s", origin);
		plan_entry(p, p->others, name, IOPGT_PLAN_BLACKLISTED, reason);
	}
	g_ptr_array_sort(p->loadable, cmp_str);
}

static void plan_add_edge(struct planner *p, guint from, guint to,
			  const char *b, enum iopgt_softdep_kind k,
			  const char *dep, const char *origin)
{
	g_autofree char *reason = g_strdup_printf("softdep %s %s %s (%s)", b,
						  iopgt_softdep_mode[k], dep,
						  origin);
	struct iopgt_plan_edge e = {
		.before = plan_str(p, p->g->names[from]),
		.after = plan_str(p, p->g->names[to]),
		.reason = plan_str(p, reason),
	};

	g_array_append_val(p->edges, e);
	graph_add_edge(p->g, from, to);
}

static char *missing_text(const char *b, enum iopgt_softdep_kind k,
			  const char *dep, const char *origin)
{
	return g_strdup_printf("%s: softdep %s %s %s: no plugin named '%s', ignored",
			       origin, b, iopgt_softdep_mode[k], dep, dep);
}

/* A dependency that is not loadable: missing is worth a warning, while a
 * blacklisted one already shows as a BLACKLISTED entry. */
static void plan_missing_dep(struct planner *p, const char *b,
			     enum iopgt_softdep_kind k, const char *dep,
			     const char *origin)
{
	g_autofree char *text = NULL;

	if (g_hash_table_contains(p->available, dep))
		return;
	text = missing_text(b, k, dep, origin);
	g_ptr_array_add(p->warnings, (gpointer)plan_str(p, text));
}

/* "pre: a" of b is the edge a -> b, "post: c" of b is b -> c.  Returns:
 * the other end, or -1 if it is not a node (missing or blacklisted). */
static int softdep_edge(const struct graph *g, guint b,
			enum iopgt_softdep_kind k, const char *dep,
			guint *from, guint *to)
{
	int d = graph_node(g, dep);

	if (d < 0)
		return -1;
	*from = k == IOPGT_SOFTDEP_PRE ? (guint)d : b;
	*to = k == IOPGT_SOFTDEP_PRE ? b : (guint)d;
	return d;
}

/* Edges and warnings, in name order then declaration order. */
static void plan_build_graph(struct planner *p)
{
	p->g = graph_new(p->loadable, &p->pp->work);
	for (guint b = 0; b < p->g->n; b++) {
		const char *name = p->g->names[b];

		for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++) {
			const GPtrArray *deps, *origins;
			guint from, to;

			iopgt_manifest_softdeps(p->m, name, k, &deps, &origins);
			for (guint i = 0; i < deps->len; i++) {
				const char *dep = deps->pdata[i];
				const char *origin = origins->pdata[i];

				p->pp->work++;
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
	g_array_sort(p->edges, cmp_edge);
}

static void plan_cycles(struct planner *p)
{
	const GPtrArray *refused = iopgt_manifest_refused(p->m);
	g_autoptr(GPtrArray) declared = iopgt_manifest_declared_errors(p->m);

	graph_sccs(p->g, &p->sccs);
	name_cycles(&p->cycles, p->g, &p->sccs);
	for (guint v = 0; v < p->g->n; v++)
		if (p->sccs.on_cycle[v])
			plan_entry(p, p->others, p->g->names[v],
				   IOPGT_PLAN_CYCLE, p->cycles.reason[v]);
	/* what the manifest refused comes first: it may explain the rest */
	for (guint i = 0; i < refused->len; i++)
		g_ptr_array_add(p->errors,
				(gpointer)plan_str(p, refused->pdata[i]));
	for (guint i = 0; i < declared->len; i++)
		g_ptr_array_add(p->errors,
				(gpointer)plan_str(p, declared->pdata[i]));
	for (guint i = 0; i < p->cycles.errors->len; i++)
		g_ptr_array_add(p->errors, (gpointer)plan_str(
			p, p->cycles.errors->pdata[i]));
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
	const bool *on_cycle = p->sccs.on_cycle;
	g_autoptr(GTree) ready = g_tree_new_full(cmp_node, NULL, NULL, NULL);
	g_autofree guint *indeg = g_new0(guint, g->n);
	guint loaded = 0, cyclic = 0;

	for (guint v = 0; v < g->n; v++)
		for (guint i = 0; !on_cycle[v] && i < succ_len(g, v); i++)
			if (!on_cycle[succ_at(g, v, i)])
				indeg[succ_at(g, v, i)]++;
	for (guint v = 0; v < g->n; v++) {
		if (on_cycle[v])
			cyclic++;
		else if (!indeg[v])
			plan_ready(ready, v);
	}

	while (g_tree_nnodes(ready)) {
		guint v = GPOINTER_TO_UINT(g_tree_node_key(g_tree_node_first(ready)));

		g_tree_remove(ready, GUINT_TO_POINTER(v));
		plan_entry(p, p->loads, g->names[v], IOPGT_PLAN_LOAD, NULL);
		loaded++;
		for (guint i = 0; i < succ_len(g, v); i++) {
			guint w = succ_at(g, v, i);

			if (!on_cycle[w] && !--indeg[w])
				plan_ready(ready, w);
		}
	}
	g_assert(loaded + cyclic == g->n);
}

/* A GPtrArray of strings in pp->strings as a NULL-terminated vector. */
static const char *const *plan_strv(GPtrArray *a)
{
	g_ptr_array_add(a, NULL);
	return (const char *const *)g_ptr_array_free(a, FALSE);
}

static void plan_overrides(struct planner *p, GPtrArray *out)
{
	g_autoptr(GPtrArray) o = iopgt_manifest_overrides(p->m);

	for (guint i = 0; i < o->len; i++)
		g_ptr_array_add(out, (gpointer)plan_str(p, o->pdata[i]));
}

/* Hand the arrays over to the public struct, each with its terminator. */
static void plan_publish(struct planner *p, GPtrArray *overrides)
{
	struct iopgt_plan *pub = &p->pp->pub;
	const struct iopgt_plan_entry no_entry = { 0 };
	const struct iopgt_plan_edge no_edge = { 0 };

	g_array_sort(p->others, cmp_entry);
	g_array_append_vals(p->loads, p->others->data, p->others->len);
	g_array_unref(p->others);
	pub->n_entries = p->loads->len;
	g_array_append_val(p->loads, no_entry);
	pub->entries = (const struct iopgt_plan_entry *)
		       g_array_free(p->loads, FALSE);
	pub->n_edges = p->edges->len;
	g_array_append_val(p->edges, no_edge);
	pub->edges = (const struct iopgt_plan_edge *)
		     g_array_free(p->edges, FALSE);
	pub->warnings = plan_strv(p->warnings);
	pub->errors = plan_strv(p->errors);
	pub->overrides = plan_strv(overrides);
}

struct iopgt_plan *iopgt_manifest_plan(const struct iopgt_manifest *m,
				       const char *const *available,
				       size_t n_available)
{
	struct planner p = { .m = m };
	GPtrArray *overrides = g_ptr_array_new();

	g_return_val_if_fail(m, NULL);
	g_return_val_if_fail(available || !n_available, NULL);

	p.pp = g_new0(struct plan_priv, 1);
	p.pp->strings = g_string_chunk_new(4096);
	p.loads = g_array_new(FALSE, FALSE, sizeof(struct iopgt_plan_entry));
	p.others = g_array_new(FALSE, FALSE, sizeof(struct iopgt_plan_entry));
	p.edges = g_array_new(FALSE, FALSE, sizeof(struct iopgt_plan_edge));
	p.warnings = g_ptr_array_new();
	p.errors = g_ptr_array_new();

	plan_split_available(&p, available, n_available);
	plan_build_graph(&p);
	plan_cycles(&p);
	plan_order(&p);
	plan_overrides(&p, overrides);
	plan_publish(&p, overrides);
	planner_clear(&p);
	return &p.pp->pub;
}

/* ---- loading one plugin -------------------------------------------------- */

/*
 * The known plugins: the one asked for (node 0), every plugin the manifest
 * mentions that lookup knows, and the softdeps between them.  Nodes are
 * numbered in the order they are found; the cycle search numbers them
 * again by name.  Only what the root names, transitively, becomes a step.
 */
struct ask {
	guint to;
	enum iopgt_softdep_kind k;
};

struct cnode {
	const char *name;	/* canonical; in the manifest or o->strings */
	bool leaf;		/* blacklisted: not followed, no edges */
	bool loaded;		/* orders and closes cycles, never a step */
	GArray *asks;		/* struct ask: pre: targets, then post: */
	GArray *preds;		/* guint: nodes ordered before it */
	int rank;		/* node in the sorted graph, -1 for a leaf */
	/* the walk that picks what loads */
	bool wanted;
	int wanted_by;		/* -1: the root */
	enum iopgt_softdep_kind kind;
	bool done;		/* has its step */
};

/* What a memo entry says besides "node i" (stored as i + MEMO_NODE). */
enum {
	MEMO_MISSING = 1,
	MEMO_NODE,
};

struct closure {
	const struct iopgt_manifest *m;
	iopgt_softdep_lookup_fn lookup;
	void *data;
	struct iopgt_load_order *o;
	GArray *nodes;		/* struct cnode */
	GHashTable *memo;	/* name -> MEMO_* */
	GPtrArray *names;	/* const char *: non-leaf names, sorted */
	struct graph *g;
	struct sccs sccs;
	struct cycle_names cycles;
	GArray *order;		/* guint: what loads, in the walk's order */
};

static struct cnode *cnode(const struct closure *c, guint i)
{
	return &g_array_index(c->nodes, struct cnode, i);
}

static guint closure_add(struct closure *c, const char *name, bool loaded)
{
	struct cnode n = {
		.name = name,
		.loaded = loaded,
		.leaf = iopgt_manifest_blacklisted_canon(c->m, name) != NULL,
		.asks = g_array_new(FALSE, FALSE, sizeof(struct ask)),
		.preds = g_array_new(FALSE, FALSE, sizeof(guint)),
		.rank = -1,
		.wanted_by = -1,
	};

	g_array_append_val(c->nodes, n);
	g_hash_table_insert(c->memo, (gpointer)name,
			    GUINT_TO_POINTER(c->nodes->len - 1 + MEMO_NODE));
	return c->nodes->len - 1;
}

/* Returns: the node of dep, or -1 if there is no such plugin. */
static int closure_target(struct closure *c, const char *dep)
{
	guint memo = GPOINTER_TO_UINT(g_hash_table_lookup(c->memo, dep));

	if (memo)
		return memo >= MEMO_NODE ? (int)(memo - MEMO_NODE) : -1;
	switch (c->lookup(dep, c->data)) {
	case IOPGT_SOFTDEP_LOAD:
		return (int)closure_add(c, dep, false);
	case IOPGT_SOFTDEP_LOADED:
		return (int)closure_add(c, dep, true);
	case IOPGT_SOFTDEP_MISSING:
	default:
		g_hash_table_insert(c->memo, (gpointer)dep,
				    GUINT_TO_POINTER(MEMO_MISSING));
		return -1;
	}
}

/*
 * Every known plugin the manifest mentions and every softdep between
 * them: a cycle through the root may pass through plugins the root never
 * names.  Nodes are appended as found, so the loop runs until it catches
 * up with them.
 */
static void closure_build(struct closure *c)
{
	g_autoptr(GPtrArray) names = iopgt_manifest_names(c->m);

	for (guint i = 0; i < names->len; i++)
		closure_target(c, names->pdata[i]);
	for (guint v = 0; v < c->nodes->len; v++) {
		if (cnode(c, v)->leaf)
			continue;
		for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++) {
			const GPtrArray *deps, *origins;

			iopgt_manifest_softdeps(c->m, cnode(c, v)->name, k,
						&deps, &origins);
			for (guint i = 0; i < deps->len; i++) {
				int t = closure_target(c, deps->pdata[i]);
				struct ask a = { .to = (guint)t, .k = k };
				guint from = k == IOPGT_SOFTDEP_PRE ? a.to : v;
				guint to = k == IOPGT_SOFTDEP_PRE ? v : a.to;

				c->o->work++;
				if (t < 0)
					continue;
				g_array_append_val(cnode(c, v)->asks, a);
				if (!cnode(c, a.to)->leaf)
					g_array_append_val(cnode(c, to)->preds,
							   from);
			}
		}
	}
}

/* The closure without its leaves as a graph in name order, and its cycles. */
static void closure_graph(struct closure *c)
{
	c->names = g_ptr_array_new();
	for (guint v = 0; v < c->nodes->len; v++)
		if (!cnode(c, v)->leaf)
			g_ptr_array_add(c->names, (gpointer)cnode(c, v)->name);
	g_ptr_array_sort(c->names, cmp_str);
	c->g = graph_new(c->names, &c->o->work);
	for (guint v = 0; v < c->nodes->len; v++)
		if (!cnode(c, v)->leaf)
			cnode(c, v)->rank = graph_node(c->g, cnode(c, v)->name);
	for (guint v = 0; v < c->nodes->len; v++) {
		const GArray *preds = cnode(c, v)->preds;

		for (guint i = 0; i < preds->len; i++)
			graph_add_edge(c->g,
				       cnode(c, g_array_index(preds, guint, i))->rank,
				       cnode(c, v)->rank);
	}
	graph_finish(c->g);
	graph_sccs(c->g, &c->sccs);
}

static bool cnode_cyclic(const struct closure *c, guint v)
{
	const struct cnode *n = cnode(c, v);

	return !n->leaf && c->sccs.on_cycle[n->rank];
}

/* "a -> b -> a" through the root, or NULL. */
static char *closure_root_cycle(struct closure *c)
{
	struct cycle_walk w;
	char *text = NULL;

	if (!cnode_cyclic(c, 0))
		return NULL;
	cycle_walk_init(&w, c->g, c->sccs.comp);
	if (cycle_walk_from(&w, (guint)cnode(c, 0)->rank, NULL) > 0)
		text = cycle_text(&w);
	cycle_walk_clear(&w);
	g_assert(text);
	return text;
}

struct ask_frame {
	guint v;
	guint next;		/* next ask to follow */
	bool placed;		/* v is in c->order */
};

static void want(struct closure *c, GArray *stack, guint v, int by,
		 enum iopgt_softdep_kind k)
{
	struct ask_frame f = { .v = v };
	struct cnode *n = cnode(c, v);

	n->wanted = true;
	n->wanted_by = by;
	n->kind = k;
	g_array_append_val(stack, f);
}

/*
 * What loads, in the order a recursive loader would meet it: a plugin's
 * pre: targets, the plugin, then its post: targets.  Leaves and cycle
 * members are placed but not followed.
 */
static void closure_walk(struct closure *c)
{
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE,
					      sizeof(struct ask_frame));

	c->order = g_array_new(FALSE, FALSE, sizeof(guint));
	want(c, stack, 0, -1, IOPGT_SOFTDEP_PRE);
	while (stack->len) {
		struct ask_frame *f = &g_array_index(stack, struct ask_frame,
						     stack->len - 1);
		const GArray *asks = cnode(c, f->v)->asks;
		bool follow = !cnode(c, f->v)->leaf && !cnode_cyclic(c, f->v);
		struct ask a;

		if (!follow || f->next == asks->len) {
			if (!f->placed)
				g_array_append_val(c->order, f->v);
			g_array_set_size(stack, stack->len - 1);
			continue;
		}
		a = g_array_index(asks, struct ask, f->next);
		c->o->work++;
		if (a.k == IOPGT_SOFTDEP_POST && !f->placed) {
			g_array_append_val(c->order, f->v);
			f->placed = true;
			continue;
		}
		f->next++;
		if (!cnode(c, a.to)->wanted && !cnode(c, a.to)->loaded)
			want(c, stack, a.to, (int)f->v, a.k);	/* moves f */
	}
}

static void add_step(struct closure *c, guint v);

/* Blacklisted and cyclic pre: targets order nothing (they do not load),
 * but read best just before the plugin that asked for them. */
static void add_dead_pre_steps(struct closure *c, guint v)
{
	const GArray *asks = cnode(c, v)->asks;

	for (guint i = 0; i < asks->len; i++) {
		struct ask a = g_array_index(asks, struct ask, i);
		const struct cnode *t = cnode(c, a.to);

		if (a.k == IOPGT_SOFTDEP_PRE && t->wanted && !t->done &&
		    (t->leaf || cnode_cyclic(c, a.to)))
			add_step(c, a.to);
	}
}

static void add_step(struct closure *c, guint v)
{
	struct cnode *n = cnode(c, v);
	GStringChunk *s = c->o->strings;
	struct iopgt_load_step step = {
		.name = g_string_chunk_insert_const(s, n->name),
	};

	if (n->wanted_by >= 0) {
		step.wanted_by = g_string_chunk_insert_const(
			s, cnode(c, (guint)n->wanted_by)->name);
		step.kind = iopgt_softdep_mode[n->kind];
	}
	if (cnode_cyclic(c, v))
		step.skip = g_string_chunk_insert_const(
			s, c->cycles.reason[n->rank]);
	else if (!n->leaf)
		add_dead_pre_steps(c, v);
	n->done = true;
	g_array_append_val(c->o->steps, step);
}

/*
 * The walk's order can put a plugin before one it must follow (a post:
 * target of a plugin met later), so each plugin is placed only after
 * every wanted plugin ordered before it: depth first over predecessors.
 */
static void closure_steps(struct closure *c)
{
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE,
					      sizeof(struct dfs_frame));

	for (guint i = 0; i < c->order->len; i++) {
		struct dfs_frame f = { .v = g_array_index(c->order, guint, i) };

		if (cnode(c, f.v)->done)
			continue;
		g_array_append_val(stack, f);
		while (stack->len) {
			struct dfs_frame *top = &g_array_index(
				stack, struct dfs_frame, stack->len - 1);
			const GArray *preds = cnode(c, top->v)->preds;
			guint u;

			if (cnode_cyclic(c, top->v) || top->next == preds->len) {
				if (!cnode(c, top->v)->done)
					add_step(c, top->v);
				g_array_set_size(stack, stack->len - 1);
				continue;
			}
			u = g_array_index(preds, guint, top->next++);
			c->o->work++;
			/* acyclic here: nothing on the stack comes back */
			if (!cnode(c, u)->wanted || cnode(c, u)->done ||
			    cnode_cyclic(c, u))
				continue;
			f.v = u;
			f.next = 0;
			g_array_append_val(stack, f);	/* moves top */
		}
	}
}

/* Missing targets of what loads, as the plan words them. */
static void closure_warnings(struct closure *c)
{
	for (guint i = 0; i < c->o->steps->len; i++) {
		const struct iopgt_load_step *st = &g_array_index(
			c->o->steps, struct iopgt_load_step, i);

		if (st->skip)
			continue;
		for (int k = 0; k < IOPGT_SOFTDEP_NR_KINDS; k++) {
			const GPtrArray *deps, *origins;

			iopgt_manifest_softdeps(c->m, st->name, k, &deps,
						&origins);
			for (guint j = 0; j < deps->len; j++) {
				gpointer memo = g_hash_table_lookup(
					c->memo, deps->pdata[j]);

				if (GPOINTER_TO_UINT(memo) == MEMO_MISSING)
					g_ptr_array_add(c->o->warnings,
						missing_text(st->name, k,
							     deps->pdata[j],
							     origins->pdata[j]));
			}
		}
	}
}

static void closure_clear(struct closure *c)
{
	for (guint v = 0; c->nodes && v < c->nodes->len; v++) {
		g_array_unref(cnode(c, v)->asks);
		g_array_unref(cnode(c, v)->preds);
	}
	if (c->cycles.errors)
		cycle_names_clear(&c->cycles);
	sccs_clear(&c->sccs);
	graph_free(c->g);
	if (c->order)
		g_array_unref(c->order);
	if (c->names)
		g_ptr_array_unref(c->names);
	g_array_unref(c->nodes);
	g_hash_table_unref(c->memo);
}

struct iopgt_load_order *iopgt_manifest_load_order(
	const struct iopgt_manifest *m, const char *name,
	iopgt_softdep_lookup_fn lookup, void *data)
{
	struct iopgt_load_order *o;
	struct closure c = { .m = m, .lookup = lookup, .data = data };
	g_autofree char *root = NULL;
	g_autofree char *cycle = NULL;

	g_return_val_if_fail(m && name && lookup, NULL);

	o = g_new0(struct iopgt_load_order, 1);
	o->strings = g_string_chunk_new(1024);
	o->steps = g_array_new(FALSE, FALSE, sizeof(struct iopgt_load_step));
	o->warnings = g_ptr_array_new_with_free_func(g_free);
	c.o = o;
	c.nodes = g_array_new(FALSE, FALSE, sizeof(struct cnode));
	c.memo = g_hash_table_new(g_str_hash, g_str_equal);
	root = iopgt_name_canonical(name);
	closure_add(&c, g_string_chunk_insert_const(o->strings, root), false);

	closure_build(&c);
	closure_graph(&c);
	cycle = closure_root_cycle(&c);
	if (cycle) {
		o->cycle = g_string_chunk_insert(o->strings, cycle);
	} else {
		name_cycles(&c.cycles, c.g, &c.sccs);
		closure_walk(&c);
		closure_steps(&c);
		closure_warnings(&c);
	}
	closure_clear(&c);
	return o;
}

void iopgt_load_order_free(struct iopgt_load_order *order)
{
	if (!order)
		return;
	g_array_unref(order->steps);
	g_ptr_array_unref(order->warnings);
	g_string_chunk_free(order->strings);
	g_free(order);
}

/* ---- the cycle through one name ------------------------------------------ */

static enum iopgt_softdep_target every_name(const char *name, void *data)
{
	(void)name;
	(void)data;
	return IOPGT_SOFTDEP_LOAD;
}

char *iopgt_manifest_find_cycle(const struct iopgt_manifest *m,
				const char *name)
{
	struct iopgt_load_order *o;
	char *cycle;

	g_return_val_if_fail(m, NULL);
	g_return_val_if_fail(name, NULL);
	o = iopgt_manifest_load_order(m, name, every_name, NULL);
	cycle = g_strdup(o->cycle);
	iopgt_load_order_free(o);
	return cycle;
}
