// SPDX-License-Identifier: MIT
/*
 * `inspect dump [tree|json|dot]`: what is mapped, as runs
 * (inspect-map.c).  tree keeps the tables, one line per table entry and
 * per run inside a table; json lists the runs across tables; dot draws
 * the tables and their pointers for Graphviz, bounded so that a huge or
 * hostile image still gives a graph dot can lay out.
 */
#include <errno.h>

#include "inspect-map.h"

/* ---- tree ---------------------------------------------------------------- */

struct tree {
	FILE *out;
	struct insp_run pending;	/* count 0: none */
};

/* "L3[0] 0x10200000 4K -> 0x80400000 rw- (0x...)" for one slot, else
 * "L3[0..511] 0x10200000..0x103fffff -> 0x80400000..0x805fffff 4K×512 rw-". */
static void tree_flush(struct tree *t)
{
	const struct insp_run *r = &t->pending;
	g_autofree char *text = NULL;

	if (!r->count)
		return;
	if (r->slots == 1) {
		g_autofree char *size = cli_format_size(r->size);

		text = insp_prot_text(r->prot);
		fprintf(t->out, "%*sL%d[%u] 0x%" G_GINT64_MODIFIER "x %s -> 0x%"
			G_GINT64_MODIFIER "x %s (0x%016" G_GINT64_MODIFIER
			"x)\n", 2 * r->level, "", r->level, r->index, r->iova,
			size, r->oa, text, r->raw);
	} else {
		struct insp_slice s = insp_run_whole(r);

		text = insp_slice_text(&s, true);
		fprintf(t->out, "%*sL%d[%u..%u] %s\n", 2 * r->level, "",
			r->level, r->index, r->index + r->slots - 1, text);
	}
	t->pending.count = 0;
}

static int tree_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct tree *t = data;
	g_autofree char *size = NULL;

	if (e->kind == IOPGT_ENTRY_LEAF) {
		if (t->pending.count && insp_run_add(&t->pending, e))
			return 0;
		tree_flush(t);
		insp_run_start(&t->pending, e);
		return 0;
	}
	tree_flush(t);
	size = cli_format_size(e->size);
	fprintf(t->out, "%*sL%d[%u] 0x%lx %s table 0x%" G_GINT64_MODIFIER
		"x\n", 2 * e->level, "", e->level, e->index, e->iova, size,
		e->oa);
	return 0;
}

static int tree_table_end(void *data, uint64_t pa, int level)
{
	(void)pa;
	(void)level;
	tree_flush(data);
	return 0;
}

static int dump_tree(struct cli *cli, struct iopgt_inspect *insp)
{
	static const struct iopgt_walk_ops ops = {
		.entry = tree_entry,
		.table_end = tree_table_end,
	};
	struct tree t = { .out = cli->out };
	int ret;

	fprintf(cli->out, "%s\n", iopgt_inspect_get_format(insp));
	ret = iopgt_inspect_walk(insp, &ops, &t);
	tree_flush(&t);
	if (ret) {
		insp_err("walk failed: %s", cli_strerror(-ret));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* ---- json ---------------------------------------------------------------- */

static int dump_json(struct cli *cli, struct iopgt_inspect *insp)
{
	struct cli_json *j;
	unsigned int tables;
	GArray *runs;

	if (insp_collect_runs(insp, &runs, &tables))
		return EXIT_FAILED;
	j = cli_json_new();
	cli_json_begin_object(j, NULL);
	cli_json_string(j, "format", iopgt_inspect_get_format(insp));
	cli_json_u64(j, "tables", tables);
	cli_json_begin_array(j, "mappings");
	for (guint i = 0; i < runs->len; i++) {
		const struct insp_run *r =
			&g_array_index(runs, struct insp_run, i);
		struct insp_slice s = insp_run_whole(r);

		cli_json_begin_object(j, NULL);
		insp_slice_json(j, &s, true);
		cli_json_end_object(j);
	}
	cli_json_end_array(j);
	cli_json_end_object(j);
	cli_json_print(cli, j);
	g_array_unref(runs);
	return EXIT_OK;
}

/* ---- dot ----------------------------------------------------------------- */

/* Past these, a graph is unreadable and slow to lay out: say how many
 * more instead. */
#define DOT_MAX_TABLES	4096
#define DOT_MAX_ROWS	64

enum { DOT_DRAWN = 1, DOT_HIDDEN = 2 };

/* One table's node: its rows are written as the walk reaches them. */
struct dot_node {
	uint64_t pa;
	GString *rows;
	unsigned int nrows;
	unsigned int more;	/* rows past DOT_MAX_ROWS */
	struct insp_run pending;
};

struct dot {
	GPtrArray *nodes;	/* drawn, in walk order */
	GPtrArray *stack;	/* open tables: a node, or NULL when hidden */
	GHashTable *seen;	/* table PA -> DOT_DRAWN or DOT_HIDDEN */
	GArray *edges;		/* struct dot_edge */
	unsigned int hidden;
};

struct dot_edge {
	uint64_t from;
	unsigned int port;
	uint64_t to;
};

static void dot_node_free(gpointer p)
{
	struct dot_node *n = p;

	g_string_free(n->rows, TRUE);
	g_free(n);
}

static void dot_row(struct dot_node *n, const char *port_fmt, unsigned int port,
		    const char *text)
{
	if (n->nrows++ >= DOT_MAX_ROWS) {
		n->more++;
		return;
	}
	g_string_append(n->rows, "<tr><td align=\"left\"");
	if (port_fmt)
		g_string_append_printf(n->rows, port_fmt, port);
	g_string_append_printf(n->rows, ">%s</td></tr>", text);
}

/* "[0..511] 0x10200000..0x103fffff &#8594; 0x80400000..0x805fffff
 * 4K&#215;512 rw-": the tree's words, as HTML (prot text is ASCII). */
static void dot_flush(struct dot_node *n)
{
	struct insp_run *r = &n->pending;
	g_autofree char *size = NULL, *prot = NULL, *row = NULL;
	g_autofree char *slots = NULL;

	if (!r->count)
		return;
	size = cli_format_size(r->size);
	prot = insp_prot_text(r->prot);
	slots = r->slots == 1 ? g_strdup_printf("[%u]", r->index) :
		g_strdup_printf("[%u..%u]", r->index, r->index + r->slots - 1);
	row = g_strdup_printf("%s 0x%" G_GINT64_MODIFIER "x..0x%"
			      G_GINT64_MODIFIER "x &#8594; 0x%"
			      G_GINT64_MODIFIER "x..0x%" G_GINT64_MODIFIER
			      "x %s&#215;%" G_GUINT64_FORMAT " %s", slots,
			      r->iova, insp_run_last(r), r->oa,
			      insp_run_oa_last(r), size, r->count, prot);
	dot_row(n, NULL, 0, row);
	r->count = 0;
}

static struct dot_node *dot_top(struct dot *d)
{
	return d->stack->len ? g_ptr_array_index(d->stack, d->stack->len - 1) :
			       NULL;
}

static int dot_table(void *data, uint64_t pa, const void *va, size_t size,
		     int level)
{
	struct dot *d = data;
	struct dot_node *n = NULL;

	(void)va;
	if (d->nodes->len < DOT_MAX_TABLES) {
		n = g_new0(struct dot_node, 1);
		n->pa = pa;
		n->rows = g_string_new(NULL);
		g_string_append_printf(n->rows, "<tr><td bgcolor=\"lightgrey\">"
				       "L%d table 0x%" G_GINT64_MODIFIER "x "
				       "(%zu bytes)</td></tr>", level, pa,
				       size);
		g_ptr_array_add(d->nodes, n);
	} else {
		d->hidden++;
	}
	g_hash_table_insert(d->seen, g_memdup2(&pa, sizeof(pa)),
			    GINT_TO_POINTER(n ? DOT_DRAWN : DOT_HIDDEN));
	g_ptr_array_add(d->stack, n);
	return 0;
}

static int dot_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct dot *d = data;
	struct dot_node *n = dot_top(d);
	g_autofree char *size = NULL, *row = NULL;
	struct dot_edge edge;

	if (!n)
		return 0;
	if (e->kind == IOPGT_ENTRY_LEAF) {
		if (n->pending.count && insp_run_add(&n->pending, e))
			return 0;
		dot_flush(n);
		insp_run_start(&n->pending, e);
		return 0;
	}
	dot_flush(n);
	size = cli_format_size(e->size);
	row = g_strdup_printf("[%u] 0x%lx %s table", e->index, e->iova, size);
	dot_row(n, " port=\"e%u\"", e->index, row);
	if (n->nrows > DOT_MAX_ROWS)
		return 0;
	edge = (struct dot_edge){ n->pa, e->index, e->oa };
	g_array_append_val(d->edges, edge);
	return 0;
}

static int dot_table_end(void *data, uint64_t pa, int level)
{
	struct dot *d = data;
	struct dot_node *n = dot_top(d);

	(void)pa;
	(void)level;
	if (n)
		dot_flush(n);
	g_ptr_array_set_size(d->stack, d->stack->len - 1);
	return 0;
}

/* An edge to a table the walk did not enter (unreadable) gets a node that
 * says so; one to a table past the cap goes to the "more" node. */
static void dot_print_edges(FILE *out, struct dot *d)
{
	for (guint i = 0; i < d->edges->len; i++) {
		struct dot_edge *e =
			&g_array_index(d->edges, struct dot_edge, i);
		int seen =
			GPOINTER_TO_INT(g_hash_table_lookup(d->seen, &e->to));

		fprintf(out, "  t%" G_GINT64_MODIFIER "x:e%u -> ", e->from,
			e->port);
		if (seen == DOT_DRAWN)
			fprintf(out, "t%" G_GINT64_MODIFIER "x;\n", e->to);
		else if (seen == DOT_HIDDEN)
			fprintf(out, "more;\n");
		else
			fprintf(out, "t%" G_GINT64_MODIFIER "x;\n  t%"
				G_GINT64_MODIFIER "x [shape=box, label=\"0x%"
				G_GINT64_MODIFIER "x (not read)\"];\n", e->to,
				e->to, e->to);
	}
}

static void dot_print(FILE *out, const char *format, struct dot *d)
{
	fprintf(out, "digraph \"%s\" {\n  rankdir=LR;\n  node "
		"[shape=plaintext, fontname=\"monospace\", fontsize=10];\n",
		format);
	for (guint i = 0; i < d->nodes->len; i++) {
		struct dot_node *n = g_ptr_array_index(d->nodes, i);

		if (n->more)
			g_string_append_printf(n->rows, "<tr><td>%u more rows"
					       "</td></tr>", n->more);
		fprintf(out, "  t%" G_GINT64_MODIFIER "x [label=<<table "
			"border=\"0\" cellborder=\"1\" cellspacing=\"0\">%s"
			"</table>>];\n", n->pa, n->rows->str);
	}
	if (d->hidden)
		fprintf(out, "  more [shape=box, label=\"%u more tables\"];\n",
			d->hidden);
	dot_print_edges(out, d);
	fprintf(out, "}\n");
}

static int dump_dot(struct cli *cli, struct iopgt_inspect *insp)
{
	static const struct iopgt_walk_ops ops = {
		.table = dot_table,
		.entry = dot_entry,
		.table_end = dot_table_end,
	};
	struct dot d = {
		.nodes = g_ptr_array_new_with_free_func(dot_node_free),
		.stack = g_ptr_array_new(),
		.seen = g_hash_table_new_full(g_int64_hash, g_int64_equal,
					      g_free, NULL),
		.edges = g_array_new(FALSE, FALSE, sizeof(struct dot_edge)),
	};
	int ret = iopgt_inspect_walk(insp, &ops, &d);

	if (ret)
		insp_err("walk failed: %s", cli_strerror(-ret));
	else
		dot_print(cli->out, iopgt_inspect_get_format(insp), &d);
	g_ptr_array_unref(d.nodes);
	g_ptr_array_unref(d.stack);
	g_hash_table_unref(d.seen);
	g_array_unref(d.edges);
	return ret ? EXIT_FAILED : EXIT_OK;
}

int insp_dump(struct cli *cli, struct iopgt_inspect *insp,
	      enum insp_dump_style style)
{
	switch (style) {
	case INSP_DUMP_JSON:
		return dump_json(cli, insp);
	case INSP_DUMP_DOT:
		return dump_dot(cli, insp);
	case INSP_DUMP_TREE:
	default:
		return dump_tree(cli, insp);
	}
}
