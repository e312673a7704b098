// SPDX-License-Identifier: MIT
/*
 * `dump ID tree|json|dot`: everything reachable from a table's root, as
 * the format's walker reports it.  The JSON carries the raw little-endian
 * bytes of every table, so a test can check descriptors bit for bit, and
 * every entry the walker reports with its decoded prot; tree and dot show
 * a run of replicated or contiguous entries as one row, with permissions.
 */
#include <string.h>

#include "cli.h"

/* ---- permissions ------------------------------------------------------------ */

/*
 * "rw-", "r-x priv cache": read, write, execute (no IOMMU_NOEXEC) as ls
 * shows them, then the attributes.  "prot ?" for a plugin built against
 * ABI 1.0, whose walk cannot say.
 */
static char *prot_text(int prot)
{
	if (prot == IOPGT_PROT_UNKNOWN)
		return g_strdup("prot ?");
	return g_strdup_printf("%c%c%c%s%s%s",
			       prot & IOMMU_READ ? 'r' : '-',
			       prot & IOMMU_WRITE ? 'w' : '-',
			       prot & IOMMU_NOEXEC ? '-' : 'x',
			       prot & IOMMU_PRIV ? " priv" : "",
			       prot & IOMMU_CACHE ? " cache" : "",
			       prot & IOMMU_MMIO ? " mmio" : "");
}

/* ---- JSON ------------------------------------------------------------------ */

struct reg {
	char *name;
	uint64_t value;
};

static void collect_reg(void *data, const char *name, uint64_t value)
{
	struct reg r = { g_strdup(name), value };

	g_array_append_val(data, r);
}

static void reg_clear(gpointer p)
{
	g_free(((struct reg *)p)->name);
}

/* "tcr" of "tcr.tsz" (length of the part before the dot), or 0. */
static size_t reg_group_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot ? (size_t)(dot - name) : 0;
}

static bool reg_in_group(const char *name, const char *group, size_t len)
{
	return reg_group_len(name) == len && !strncmp(name, group, len);
}

/*
 * The rule for register names (docs/cli.md): "a.b" nests as member b of
 * object a; a name is either a value or a group, never both, and appears
 * once.  A format that breaks it gets a clear error instead of a JSON
 * object that silently loses members.
 */
static gboolean regs_check(GArray *regs, GError **error)
{
	for (guint i = 0; i < regs->len; i++) {
		struct reg *a = &g_array_index(regs, struct reg, i);

		for (guint k = 0; k < regs->len; k++) {
			struct reg *b = &g_array_index(regs, struct reg, k);
			size_t n = reg_group_len(b->name);
			g_autofree char *sa = NULL, *sb = NULL;

			if (k == i || (strcmp(a->name, b->name) &&
				       (reg_group_len(a->name) || !n ||
					strlen(a->name) != n ||
					strncmp(a->name, b->name, n))))
				continue;
			sa = cli_escape(a->name);
			sb = cli_escape(b->name);
			if (!strcmp(a->name, b->name))
				g_set_error(error, IOPGT_CLI_ERROR,
					    IOPGT_CLI_ERROR_FAILED,
					    "the format reports register '%s' "
					    "twice", sa);
			else
				g_set_error(error, IOPGT_CLI_ERROR,
					    IOPGT_CLI_ERROR_FAILED,
					    "the format reports registers '%s' "
					    "and '%s': a name is a value or a "
					    "group of dotted names, not both",
					    sa, sb);
			return FALSE;
		}
	}
	return TRUE;
}

static void regs_json(struct cli_json *j, GArray *regs)
{
	for (guint i = 0; i < regs->len; i++) {
		struct reg *r = &g_array_index(regs, struct reg, i);
		size_t n = reg_group_len(r->name);
		g_autofree char *group = NULL;
		bool first = true;

		if (!n) {
			cli_json_u64(j, r->name, r->value);
			continue;
		}
		/* the whole group at its first member */
		for (guint k = 0; k < i && first; k++)
			first = !reg_in_group(g_array_index(regs, struct reg,
							    k).name,
					      r->name, n);
		if (!first)
			continue;
		group = g_strndup(r->name, n);
		cli_json_begin_object(j, group);
		for (guint k = i; k < regs->len; k++) {
			struct reg *m = &g_array_index(regs, struct reg, k);

			if (reg_in_group(m->name, r->name, n))
				cli_json_u64(j, m->name + n + 1, m->value);
		}
		cli_json_end_object(j);
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
	struct cli_json *j = data;
	g_autofree char *hex = hex_bytes(va, size);

	cli_json_begin_object(j, NULL);
	cli_json_u64(j, "pa", pa);
	cli_json_int(j, "level", level);
	cli_json_u64(j, "size", size);
	cli_json_string(j, "hex", hex);
	cli_json_end_object(j);
	return 0;
}

/* Every entry as the walker reports it: replicated ones included. */
static int json_walk_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct cli_json *j = data;
	bool leaf = e->kind == IOPGT_ENTRY_LEAF;

	cli_json_begin_object(j, NULL);
	cli_json_int(j, "level", e->level);
	cli_json_u64(j, "index", e->index);
	cli_json_u64(j, "iova", e->iova);
	cli_json_u64(j, "size", e->size);
	cli_json_string(j, "kind", leaf ? "leaf" : "table");
	cli_json_u64(j, "raw", e->raw);
	cli_json_u64(j, "oa", e->oa);
	if (leaf)
		cli_json_int(j, "prot", e->prot);
	cli_json_end_object(j);
	return 0;
}

static gboolean dump_json(struct cli *cli, struct iopgt_pgtable *pgt,
			  GError **error)
{
	g_autoptr(GArray) regs = g_array_new(FALSE, FALSE, sizeof(struct reg));
	struct iopgt_walk_ops visit = { .table = json_table };
	struct iopgt_walk_ops entries = { .entry = json_walk_entry };
	struct cli_json *j;
	int ret;

	g_array_set_clear_func(regs, reg_clear);
	iopgt_pgtable_describe_regs(cli->host, pgt, collect_reg, regs);
	if (!regs_check(regs, error))
		return FALSE;
	j = cli_json_new();
	cli_json_begin_object(j, NULL);
	cli_json_string(j, "format", pgt->fmt->name);
	cli_json_begin_object(j, "cfg");
	cli_json_u64(j, "ias", pgt->cfg.ias);
	cli_json_u64(j, "oas", pgt->cfg.oas);
	cli_json_u64(j, "pgsize_bitmap", pgt->cfg.pgsize_bitmap);
	cli_json_u64(j, "quirks", pgt->cfg.quirks);
	cli_json_bool(j, "coherent_walk", pgt->cfg.coherent_walk);
	regs_json(j, regs);
	cli_json_end_object(j);
	cli_json_u64(j, "root_pa", pgt->root_pa);
	cli_json_begin_array(j, "tables");
	ret = iopgt_pgtable_walk(cli->host, pgt, &visit, j);
	cli_json_end_array(j);
	cli_json_begin_array(j, "entries");
	if (ret == 0)
		ret = iopgt_pgtable_walk(cli->host, pgt, &entries, j);
	cli_json_end_array(j);
	cli_json_end_object(j);
	if (ret < 0) {
		cli_json_free(j);
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "walk failed: %s", cli_strerror(-ret));
		return FALSE;
	}
	cli_json_print(cli, j);
	return TRUE;
}

/* ---- runs of entries: one line for a replicated or contiguous group ---- */

/*
 * v7s repeats a 64K or 16M mapping in 16 consecutive slots, and a range
 * of pages maps consecutive slots to consecutive addresses.  Text and dot
 * output show such a run as one row, "[16..31] x16"; JSON keeps every
 * entry (it has the raw tables).
 */
struct run {
	struct iopgt_walk_entry first;
	unsigned int count;
	bool replicated;	/* same iova each time; else contiguous */
};

/* Whether e continues the run r (same table, next slot). */
static bool run_extends(const struct run *r, const struct iopgt_walk_entry *e)
{
	const struct iopgt_walk_entry *f = &r->first;
	uint64_t n = r->count;

	if (!r->count || e->kind != IOPGT_ENTRY_LEAF ||
	    f->kind != IOPGT_ENTRY_LEAF || e->level != f->level ||
	    e->size != f->size || e->index != f->index + n ||
	    e->prot != f->prot)
		return false;
	if (e->iova == f->iova && e->raw == f->raw && e->oa == f->oa)
		return n == 1 || r->replicated;
	/* the same descriptor but for the address: raw and oa move together */
	return (n == 1 || !r->replicated) &&
	       e->iova == f->iova + n * f->size && e->oa == f->oa + n * f->size &&
	       e->raw - f->raw == e->oa - f->oa;
}

static void run_add(struct run *r, const struct iopgt_walk_entry *e)
{
	if (r->count == 1)
		r->replicated = e->iova == r->first.iova;
	r->count++;
}

/* "[16..31] ×16 " or "[3] " */
static char *run_index(const struct run *r)
{
	if (r->count == 1)
		return g_strdup_printf("[%u]", r->first.index);
	return g_strdup_printf("[%u..%u] \u00d7%u", r->first.index,
			       r->first.index + r->count - 1, r->count);
}

/* "+64K", or "+16x4K" for a contiguous run of 16 pages */
static char *run_size(const struct run *r)
{
	g_autofree char *sz = cli_format_size(r->first.size);

	if (r->count == 1 || r->replicated)
		return g_strdup_printf("+%s", sz);
	return g_strdup_printf("+%u\u00d7%s", r->count, sz);
}

/* ---- tree ------------------------------------------------------------------ */

struct tree_ctx {
	FILE *out;
	int depth;
	struct run pending;	/* not printed yet: it may grow */
	int pending_depth;
};

static void tree_flush(struct tree_ctx *t)
{
	struct run *r = &t->pending;
	g_autofree char *idx = NULL, *sz = NULL, *prot = NULL;
	bool leaf;

	if (!r->count)
		return;
	idx = run_index(r);
	sz = run_size(r);
	leaf = r->first.kind == IOPGT_ENTRY_LEAF;
	if (leaf)
		prot = prot_text(r->first.prot);
	fprintf(t->out, "%*s%s 0x%016" G_GINT64_MODIFIER "x iova 0x%lx %s "
		"%s 0x%" G_GINT64_MODIFIER "x%s%s\n", 2 * t->pending_depth, "",
		idx, r->first.raw, r->first.iova, sz,
		leaf ? "leaf pa" : "table ->", r->first.oa, leaf ? " " : "",
		leaf ? prot : "");
	r->count = 0;
}

static int tree_table(void *data, uint64_t pa, const void *va, size_t size,
		      int level)
{
	struct tree_ctx *t = data;

	(void)va;
	tree_flush(t);
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
	tree_flush(t);
	t->depth--;
	return 0;
}

static int tree_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct tree_ctx *t = data;

	if (run_extends(&t->pending, e)) {
		run_add(&t->pending, e);
		return 0;
	}
	tree_flush(t);
	t->pending = (struct run){ .first = *e, .count = 1 };
	t->pending_depth = t->depth;
	return 0;
}

static void tree_reg(void *data, const char *name, uint64_t value)
{
	struct tree_ctx *t = data;
	g_autofree char *safe = cli_escape(name);

	fprintf(t->out, "  %s = 0x%" G_GINT64_MODIFIER "x\n", safe, value);
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
	tree_flush(&t);
	if (ret < 0) {
		g_set_error(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_FAILED,
			    "walk failed: %s", cli_strerror(-ret));
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
	struct run pending;
	struct dot_node *pending_node;
};

static void dot_node_free(gpointer p)
{
	struct dot_node *n = p;

	g_string_free(n->label, TRUE);
	g_free(n);
}

static void dc_flush(struct dot_collect *c);

static int dc_table(void *data, uint64_t pa, const void *va, size_t size,
		    int level)
{
	struct dot_collect *c = data;
	struct dot_node *n = g_new0(struct dot_node, 1);

	(void)va;
	dc_flush(c);
	n->pa = pa;
	n->label = g_string_new(NULL);
	g_string_append_printf(n->label, "<tr><td bgcolor=\"lightgrey\">L%d "
			       "@ 0x%" G_GINT64_MODIFIER "x (%zu B)</td></tr>",
			       level, pa, size);
	g_ptr_array_add(c->nodes, n);
	g_array_append_val(c->stack, n);
	return 0;
}

static void dc_flush(struct dot_collect *c)
{
	struct run *r = &c->pending;
	struct dot_node *n = c->pending_node;
	g_autofree char *idx = NULL, *sz = NULL, *prot = NULL;
	bool leaf = r->first.kind == IOPGT_ENTRY_LEAF;
	unsigned int rows;

	if (!r->count)
		return;
	rows = n->rows++;
	idx = run_index(r);
	sz = run_size(r);
	/* prot_text() is plain ASCII: nothing to escape for the label */
	prot = leaf ? prot_text(r->first.prot) : g_strdup("");
	if (rows < DOT_MAX_ROWS)
		g_string_append_printf(n->label, "<tr><td port=\"e%u\">%s "
				       "0x%lx %s %s 0x%" G_GINT64_MODIFIER
				       "x%s%s <font color=\"grey40\">(0x%"
				       G_GINT64_MODIFIER "x)</font></td></tr>",
				       r->first.index, idx, r->first.iova, sz,
				       leaf ? "pa" : "&#8594;", r->first.oa,
				       leaf ? " " : "", prot, r->first.raw);
	else if (rows == DOT_MAX_ROWS)
		g_string_append(n->label, "<tr><td>...</td></tr>");
	r->count = 0;
}

static int dc_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct dot_collect *c = data;
	struct dot_node *n = g_array_index(c->stack, struct dot_node *,
					   c->stack->len - 1);

	if (run_extends(&c->pending, e) && c->pending_node == n) {
		run_add(&c->pending, e);
		return 0;
	}
	dc_flush(c);
	c->pending = (struct run){ .first = *e, .count = 1 };
	c->pending_node = n;
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
	dc_flush(c);
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

	dc_flush(&c);
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
			    "walk failed: %s", cli_strerror(-ret));
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
