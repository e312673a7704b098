// SPDX-License-Identifier: MIT
/*
 * `dump ID tree|json|dot`: everything reachable from a table's root, as
 * the format's walker reports it.  The JSON carries the raw little-endian
 * bytes of every table, so a test can check descriptors bit for bit.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "cli.h"

/* ---- JSON ------------------------------------------------------------------ */

static void json_reg(void *data, const char *name, uint64_t value)
{
	JsonObject *cfg = data;
	const char *dot = strchr(name, '.');

	/* "tcr.tsz" nests as cfg.tcr.tsz, like the Linux sub-structs */
	if (dot) {
		g_autofree char *outer = g_strndup(name, dot - name);
		JsonObject *sub;

		if (!json_object_has_member(cfg, outer))
			json_object_set_object_member(cfg, outer,
						      json_object_new());
		sub = json_object_get_object_member(cfg, outer);
		json_object_set_int_member(sub, dot + 1, (gint64)value);
	} else {
		json_object_set_int_member(cfg, name, (gint64)value);
	}
}

static char *hex_bytes(const void *va, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = va;
	char *s = g_malloc(size * 2 + 1);

	for (size_t i = 0; i < size; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 0xf];
	}
	s[size * 2] = 0;
	return s;
}

static int json_table(void *data, uint64_t pa, const void *va, size_t size,
		      int level)
{
	JsonArray *tables = data;
	JsonObject *t = json_object_new();
	g_autofree char *hex = hex_bytes(va, size);

	json_object_set_int_member(t, "pa", (gint64)pa);
	json_object_set_int_member(t, "level", level);
	json_object_set_int_member(t, "size", (gint64)size);
	json_object_set_string_member(t, "hex", hex);
	json_array_add_object_element(tables, t);
	return 0;
}

static JsonObject *cfg_object(struct iopgt_host *host,
			      struct iopgt_pgtable *pgt)
{
	JsonObject *cfg = json_object_new();

	json_object_set_int_member(cfg, "ias", pgt->cfg.ias);
	json_object_set_int_member(cfg, "oas", pgt->cfg.oas);
	json_object_set_int_member(cfg, "pgsize_bitmap",
				   (gint64)pgt->cfg.pgsize_bitmap);
	json_object_set_int_member(cfg, "quirks", (gint64)pgt->cfg.quirks);
	json_object_set_boolean_member(cfg, "coherent_walk",
				       pgt->cfg.coherent_walk);
	iopgt_pgtable_describe_regs(host, pgt, json_reg, cfg);
	return cfg;
}

static gboolean dump_json(struct cli *cli, struct iopgt_pgtable *pgt,
			  GError **error)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	JsonObject *root = json_object_new();
	JsonArray *tables = json_array_new();
	struct iopgt_walk_ops visit = { .table = json_table };
	JsonNode *node;
	g_autofree char *text = NULL;
	int ret;

	ret = iopgt_pgtable_walk(cli->host, pgt, &visit, tables);
	if (ret < 0) {
		json_array_unref(tables);
		json_object_unref(root);
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "walk failed: %s", g_strerror(-ret));
		return FALSE;
	}
	json_object_set_string_member(root, "format", pgt->fmt->name);
	json_object_set_object_member(root, "cfg", cfg_object(cli->host, pgt));
	json_object_set_int_member(root, "root_pa", (gint64)pgt->root_pa);
	json_object_set_array_member(root, "tables", tables);
	node = json_node_init_object(json_node_alloc(), root);
	json_object_unref(root);
	json_generator_set_root(gen, node);
	json_generator_set_pretty(gen, TRUE);
	json_node_unref(node);
	text = json_generator_to_data(gen, NULL);
	fprintf(cli->out, "%s\n", text);
	return TRUE;
}

/* ---- tree ------------------------------------------------------------------ */

struct tree_ctx {
	FILE *out;
	int depth;
};

static int tree_table(void *data, uint64_t pa, const void *va, size_t size,
		      int level)
{
	struct tree_ctx *t = data;

	(void)va;
	fprintf(t->out, "%*sL%d table @ 0x%" G_GINT64_MODIFIER "x (%zu bytes)\n",
		2 * t->depth, "", level, pa, size);
	t->depth++;
	return 0;
}

static int tree_table_end(void *data, uint64_t pa, int level)
{
	struct tree_ctx *t = data;

	(void)pa;
	(void)level;
	t->depth--;
	return 0;
}

static int tree_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct tree_ctx *t = data;
	g_autofree char *sz = cli_format_size(e->size);

	fprintf(t->out, "%*s[%u] 0x%016" G_GINT64_MODIFIER "x iova 0x%lx +%s "
		"%s 0x%" G_GINT64_MODIFIER "x\n", 2 * t->depth, "", e->index,
		e->raw, e->iova, sz,
		e->kind == IOPGT_ENTRY_TABLE ? "table ->" : "leaf pa", e->oa);
	return 0;
}

static void tree_reg(void *data, const char *name, uint64_t value)
{
	struct tree_ctx *t = data;

	fprintf(t->out, "  %s = 0x%" G_GINT64_MODIFIER "x\n", name, value);
}

static gboolean dump_tree(struct cli *cli, struct iopgt_pgtable *pgt,
			  const char *id, GError **error)
{
	struct tree_ctx t = { .out = cli->out };
	struct iopgt_walk_ops visit = {
		.table = tree_table,
		.entry = tree_entry,
		.table_end = tree_table_end,
	};
	g_autofree char *pgsizes = cli_format_pgsizes(pgt->cfg.pgsize_bitmap);
	struct iopgt_mem_stats ms;
	int ret;

	iopgt_pgtable_get_mem_stats(cli->host, pgt, &ms);
	fprintf(cli->out, "%s: %s ias=%u oas=%u pgsizes=%s quirks=0x%lx "
		"coherent=%d root=0x%" G_GINT64_MODIFIER "x table-bytes=%"
		G_GUINT64_FORMAT "\n", id, pgt->fmt->name, pgt->cfg.ias,
		pgt->cfg.oas, pgsizes, pgt->cfg.quirks,
		pgt->cfg.coherent_walk, pgt->root_pa, ms.table_bytes);
	iopgt_pgtable_describe_regs(cli->host, pgt, tree_reg, &t);
	ret = iopgt_pgtable_walk(cli->host, pgt, &visit, &t);
	if (ret < 0) {
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "walk failed: %s", g_strerror(-ret));
		return FALSE;
	}
	return TRUE;
}

/* ---- Graphviz ---------------------------------------------------------------- */

#define DOT_MAX_ROWS	32	/* a 512-entry table would be unreadable */

/*
 * The walk interleaves a table's entries with its children, but Graphviz
 * wants one label per node: collect each table's rows, print afterwards.
 */
struct dot_node {
	uint64_t pa;
	GString *label;
	unsigned int rows;	/* entries seen */
};

struct dot_collect {
	GPtrArray *nodes;	/* struct dot_node *, in walk order */
	GArray *stack;		/* struct dot_node * of open tables */
	GString *edges;
};

static void dot_node_free(gpointer p)
{
	struct dot_node *n = p;

	g_string_free(n->label, TRUE);
	g_free(n);
}

static int dc_table(void *data, uint64_t pa, const void *va, size_t size,
		    int level)
{
	struct dot_collect *c = data;
	struct dot_node *n = g_new0(struct dot_node, 1);

	(void)va;
	n->pa = pa;
	n->label = g_string_new(NULL);
	g_string_append_printf(n->label, "<tr><td bgcolor=\"lightgrey\">L%d "
			       "@ 0x%" G_GINT64_MODIFIER "x (%zu B)</td></tr>",
			       level, pa, size);
	g_ptr_array_add(c->nodes, n);
	g_array_append_val(c->stack, n);
	return 0;
}

static int dc_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct dot_collect *c = data;
	struct dot_node *n = g_array_index(c->stack, struct dot_node *,
					   c->stack->len - 1);
	g_autofree char *sz = cli_format_size(e->size);
	unsigned int rows = n->rows++;

	if (rows < DOT_MAX_ROWS)
		g_string_append_printf(n->label, "<tr><td port=\"e%u\">[%u] "
				       "0x%lx +%s %s 0x%" G_GINT64_MODIFIER
				       "x</td></tr>", e->index, e->index,
				       e->iova, sz, e->kind ==
				       IOPGT_ENTRY_TABLE ? "&#8594;" : "pa",
				       e->oa);
	else if (rows == DOT_MAX_ROWS)
		g_string_append(n->label, "<tr><td>...</td></tr>");
	if (e->kind == IOPGT_ENTRY_TABLE)
		g_string_append_printf(c->edges, "  t%" G_GINT64_MODIFIER
				       "x:e%u -> t%" G_GINT64_MODIFIER "x;\n",
				       n->pa, e->index, e->oa);
	return 0;
}

static int dc_table_end(void *data, uint64_t pa, int level)
{
	struct dot_collect *c = data;

	(void)pa;
	(void)level;
	g_array_set_size(c->stack, c->stack->len - 1);
	return 0;
}

static gboolean dump_dot(struct cli *cli, struct iopgt_pgtable *pgt,
			 const char *id, GError **error)
{
	struct dot_collect c = {
		.nodes = g_ptr_array_new_with_free_func(dot_node_free),
		.stack = g_array_new(FALSE, FALSE, sizeof(struct dot_node *)),
		.edges = g_string_new(NULL),
	};
	struct iopgt_walk_ops visit = {
		.table = dc_table,
		.entry = dc_entry,
		.table_end = dc_table_end,
	};
	int ret = iopgt_pgtable_walk(cli->host, pgt, &visit, &c);

	if (ret == 0) {
		fprintf(cli->out, "digraph \"%s\" {\n  label=\"%s: %s\";\n"
			"  rankdir=LR;\n  node [shape=plaintext, "
			"fontname=\"monospace\", fontsize=10];\n", id, id,
			pgt->fmt->name);
		for (guint i = 0; i < c.nodes->len; i++) {
			struct dot_node *n = g_ptr_array_index(c.nodes, i);

			fprintf(cli->out, "  t%" G_GINT64_MODIFIER "x [label=<"
				"<table border=\"0\" cellborder=\"1\" "
				"cellspacing=\"0\">%s</table>>];\n", n->pa,
				n->label->str);
		}
		fprintf(cli->out, "%s}\n", c.edges->str);
	} else {
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "walk failed: %s", g_strerror(-ret));
	}
	g_ptr_array_unref(c.nodes);
	g_array_unref(c.stack);
	g_string_free(c.edges, TRUE);
	return ret == 0;
}

gboolean cli_dump(struct cli *cli, struct iopgt_pgtable *pgt, const char *id,
		  enum dump_style style, GError **error)
{
	switch (style) {
	case DUMP_JSON:
		return dump_json(cli, pgt, error);
	case DUMP_DOT:
		return dump_dot(cli, pgt, id, error);
	case DUMP_TREE:
	default:
		return dump_tree(cli, pgt, id, error);
	}
}
