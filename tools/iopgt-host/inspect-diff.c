// SPDX-License-Identifier: MIT
/*
 * `inspect diff`: what is mapped differently in a second state.  Both
 * states become runs (inspect-map.c); one sweep over the iova space cuts
 * it where either side's run starts or ends, and each piece is added
 * (only the second maps it), removed (only the first), changed (both, to
 * another address, size or prot, or with other descriptor bits when both
 * are one format) or the same.  Exit status as diff(1).
 */
#include <string.h>

#include "inspect-map.h"

enum change { SAME, ADDED, REMOVED, CHANGED };

static const char *const change_names[] = {
	[ADDED] = "added", [REMOVED] = "removed", [CHANGED] = "changed",
};

static const char change_marks[] = { [ADDED] = '+', [REMOVED] = '-',
				     [CHANGED] = '~' };

struct side {
	GArray *runs;
	guint i;
	bool same_format;	/* descriptor bits are comparable */
};

static const struct insp_run *side_run(const struct side *s)
{
	return s->i < s->runs->len ?
	       &g_array_index(s->runs, struct insp_run, s->i) : NULL;
}

/* The run that holds x (NULL: a hole), after skipping those below x. */
static const struct insp_run *side_at(struct side *s, uint64_t x)
{
	const struct insp_run *r;

	while ((r = side_run(s)) && insp_run_last(r) < x)
		s->i++;
	return r && r->iova <= x ? r : NULL;
}

/* The last iova from here on where this side stays as it is here (in
 * the run "in", or in a hole when in is NULL). */
static uint64_t side_until(const struct side *s, const struct insp_run *in)
{
	const struct insp_run *next = side_run(s);

	if (in)
		return insp_run_last(in);
	return next ? next->iova - 1 : UINT64_MAX;
}

static enum change classify(const struct insp_slice *a,
			    const struct insp_slice *b, bool same_format)
{
	uint64_t x = a->first;

	if (!a->run)
		return b->run ? ADDED : SAME;
	if (!b->run)
		return REMOVED;
	if (insp_slice_oa(a, x) != insp_slice_oa(b, x) ||
	    a->run->size != b->run->size || a->run->prot != b->run->prot)
		return CHANGED;
	/* the other bits: each descriptor less its own address */
	if (same_format && insp_slice_desc(a, x) - insp_slice_oa(a, x) !=
			   insp_slice_desc(b, x) - insp_slice_oa(b, x))
		return CHANGED;
	return SAME;
}

/* ---- output -------------------------------------------------------------- */

struct out {
	struct cli *cli;
	struct cli_json *j;
	unsigned int count;
};

/*
 * "- IOVA..IOVA -> PA..PA 4K×1 rw-", "+ ...", "~ IOVA..IOVA -> OLD => NEW";
 * a change only in other bits adds both descriptors.
 */
static void emit_text(struct out *o, enum change c, const struct insp_slice *a,
		      const struct insp_slice *b)
{
	g_autofree char *old = NULL, *new = NULL;

	if (c != CHANGED) {
		old = insp_slice_text(c == ADDED ? b : a, true);
		fprintf(o->cli->out, "%c %s\n", change_marks[c], old);
		return;
	}
	old = insp_slice_text(a, false);
	new = insp_slice_text(b, false);
	fprintf(o->cli->out, "~ 0x%" G_GINT64_MODIFIER "x..0x%"
		G_GINT64_MODIFIER "x -> %s => %s", a->first, a->last, old, new);
	if (!strcmp(old, new))
		fprintf(o->cli->out, " (desc 0x%016" G_GINT64_MODIFIER "x => "
			"0x%016" G_GINT64_MODIFIER "x)",
			insp_slice_desc(a, a->first),
			insp_slice_desc(b, b->first));
	fputc('\n', o->cli->out);
}

static void emit_json(struct out *o, enum change c, const struct insp_slice *a,
		      const struct insp_slice *b)
{
	cli_json_begin_object(o->j, NULL);
	cli_json_string(o->j, "change", change_names[c]);
	cli_json_u64(o->j, "iova", a->first);
	cli_json_u64(o->j, "last", a->last);
	if (c != ADDED) {
		cli_json_begin_object(o->j, "old");
		insp_slice_json(o->j, a, false);
		cli_json_end_object(o->j);
	}
	if (c != REMOVED) {
		cli_json_begin_object(o->j, "new");
		insp_slice_json(o->j, b, false);
		cli_json_end_object(o->j);
	}
	cli_json_end_object(o->j);
}

static void emit(struct out *o, enum change c, const struct insp_slice *a,
		 const struct insp_slice *b)
{
	o->count++;
	if (o->j)
		emit_json(o, c, a, b);
	else
		emit_text(o, c, a, b);
}

/* ---- the sweep ----------------------------------------------------------- */

/* Every piece of the iova space where neither side changes run, in
 * order; each step passes a run's end, so it ends after at most
 * a->runs->len + b->runs->len pieces with a run on either side. */
static void sweep(struct side *a, struct side *b, struct out *o)
{
	uint64_t x = 0;

	for (;;) {
		const struct insp_run *ra = side_at(a, x), *rb = side_at(b, x);
		const struct insp_run *na = side_run(a), *nb = side_run(b);
		struct insp_slice sa = { ra, x, 0 }, sb = { rb, x, 0 };
		uint64_t y;
		enum change c;

		if (!ra && !rb) {
			/* a hole on both sides: on to the next run */
			if (!na && !nb)
				return;
			x = MIN(na ? na->iova : UINT64_MAX,
				nb ? nb->iova : UINT64_MAX);
			continue;
		}
		y = MIN(side_until(a, ra), side_until(b, rb));
		sa.last = sb.last = y;
		c = classify(&sa, &sb, a->same_format);
		if (c != SAME)
			emit(o, c, &sa, &sb);
		if (y == UINT64_MAX)
			return;
		x = y + 1;
	}
}

/* Runs in iova order (a walk gives them so; a hostile image need not). */
static gint run_cmp(gconstpointer pa, gconstpointer pb)
{
	const struct insp_run *a = pa, *b = pb;

	return a->iova < b->iova ? -1 : a->iova > b->iova;
}

int insp_diff(struct cli *cli, struct iopgt_inspect *a, struct iopgt_inspect *b)
{
	struct side sa = { 0 }, sb = { 0 };
	struct out o = { .cli = cli };
	unsigned int tables;

	if (insp_collect_runs(a, &sa.runs, &tables))
		return EXIT_USAGE;
	if (insp_collect_runs(b, &sb.runs, &tables)) {
		g_array_unref(sa.runs);
		return EXIT_USAGE;
	}
	g_array_sort(sa.runs, run_cmp);
	g_array_sort(sb.runs, run_cmp);
	sa.same_format = !strcmp(iopgt_inspect_get_format(a),
				 iopgt_inspect_get_format(b));
	if (cli->json) {
		o.j = cli_json_new();
		cli_json_begin_object(o.j, NULL);
		cli_json_begin_array(o.j, "changes");
	}
	sweep(&sa, &sb, &o);
	if (o.j) {
		cli_json_end_array(o.j);
		cli_json_u64(o.j, "count", o.count);
		cli_json_end_object(o.j);
		cli_json_print(cli, o.j);
	}
	g_array_unref(sa.runs);
	g_array_unref(sb.runs);
	return o.count ? EXIT_FAILED : EXIT_OK;
}
