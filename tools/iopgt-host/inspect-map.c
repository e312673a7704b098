// SPDX-License-Identifier: MIT
/*
 * Runs of mappings: what `inspect dump` and `inspect diff` print instead
 * of one line per descriptor.  A range mapped page by page is one run;
 * the sixteen copies of a v7s supersection or large page are one leaf.
 */
#include <errno.h>
#include <stdarg.h>

#include "inspect-map.h"

void insp_err(const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	g_autofree char *safe = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	safe = cli_escape(msg);
	cli_err("iopgt-host: inspect: %s\n", safe);
}

void insp_run_start(struct insp_run *r, const struct iopgt_walk_entry *e)
{
	*r = (struct insp_run){
		.iova = e->iova,
		.oa = e->oa,
		.size = e->size,
		.count = 1,
		.raw = e->raw,
		.last_raw = e->raw,
		.prot = e->prot,
		.level = e->level,
		.index = e->index,
		.slots = 1,
	};
}

/* Another slot holding the run's last leaf (a v7s replicated entry). */
static bool is_copy(const struct insp_run *r, const struct iopgt_walk_entry *e)
{
	uint64_t back = (r->count - 1) * r->size;

	return e->iova == r->iova + back && e->oa == r->oa + back &&
	       e->raw == r->last_raw;
}

/*
 * The leaf after the run's last: the next iova to the next output
 * address, and a descriptor that differs from the last one only by the
 * address (raw and oa move together), so every other bit is the same.
 * Neither address may wrap.
 */
static bool is_next(const struct insp_run *r, const struct iopgt_walk_entry *e)
{
	uint64_t len = r->count * r->size;

	return e->iova > r->iova && e->iova == r->iova + len &&
	       e->oa > r->oa && e->oa == r->oa + len &&
	       e->raw - r->last_raw == e->size;
}

bool insp_run_add(struct insp_run *r, const struct iopgt_walk_entry *e)
{
	if (e->kind != IOPGT_ENTRY_LEAF || e->level != r->level ||
	    e->size != r->size || e->prot != r->prot)
		return false;
	if (is_copy(r, e)) {
		r->slots++;
		return true;
	}
	if (!is_next(r, e))
		return false;
	r->count++;
	r->slots++;
	r->last_raw = e->raw;
	return true;
}

char *insp_prot_text(int prot)
{
	return g_strdup_printf("%c%c%c%s%s%s", prot & IOMMU_READ ? 'r' : '-',
			       prot & IOMMU_WRITE ? 'w' : '-',
			       prot & IOMMU_NOEXEC ? '-' : 'x',
			       prot & IOMMU_CACHE ? " cache" : "",
			       prot & IOMMU_MMIO ? " mmio" : "",
			       prot & IOMMU_PRIV ? " priv" : "");
}

uint64_t insp_slice_oa(const struct insp_slice *s, uint64_t iova)
{
	return s->run->oa + (iova - s->run->iova);
}

uint64_t insp_slice_desc(const struct insp_slice *s, uint64_t iova)
{
	const struct insp_run *r = s->run;

	return r->raw + (iova - r->iova) / r->size * r->size;
}

/* Leaves of the run that [first, last] touches. */
static uint64_t slice_count(const struct insp_slice *s)
{
	const struct insp_run *r = s->run;

	return (s->last - r->iova) / r->size -
	       (s->first - r->iova) / r->size + 1;
}

char *insp_slice_text(const struct insp_slice *s, bool with_iova)
{
	const struct insp_run *r = s->run;
	g_autofree char *size = cli_format_size(r->size);
	g_autofree char *prot = insp_prot_text(r->prot);
	g_autofree char *iova = with_iova ?
		g_strdup_printf("0x%" G_GINT64_MODIFIER "x..0x%"
				G_GINT64_MODIFIER "x -> ", s->first, s->last) :
		g_strdup("");

	return g_strdup_printf("%s0x%" G_GINT64_MODIFIER "x..0x%"
			       G_GINT64_MODIFIER "x %s\u00d7%" G_GUINT64_FORMAT
			       " %s", iova, insp_slice_oa(s, s->first),
			       insp_slice_oa(s, s->last), size, slice_count(s),
			       prot);
}

void insp_slice_json(struct cli_json *j, const struct insp_slice *s,
		     bool with_iova)
{
	g_autofree char *perms = insp_prot_text(s->run->prot);

	if (with_iova)
		cli_json_u64(j, "iova", s->first);
	cli_json_u64(j, "pa", insp_slice_oa(s, s->first));
	cli_json_u64(j, "size", s->run->size);
	cli_json_u64(j, "count", slice_count(s));
	cli_json_int(j, "level", s->run->level);
	cli_json_int(j, "prot", s->run->prot);
	cli_json_string(j, "perms", perms);
	cli_json_u64(j, "desc", insp_slice_desc(s, s->first));
}

/* ---- collecting every run ------------------------------------------------ */

struct collect {
	GArray *runs;
	unsigned int tables;
	bool too_many;
};

static int collect_table(void *data, uint64_t pa, const void *va,
			 size_t size, int level)
{
	struct collect *c = data;

	(void)pa;
	(void)va;
	(void)size;
	(void)level;
	c->tables++;
	return 0;
}

static int collect_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct collect *c = data;
	struct insp_run *last = c->runs->len ?
		&g_array_index(c->runs, struct insp_run, c->runs->len - 1) :
		NULL;
	struct insp_run r;

	if (e->kind != IOPGT_ENTRY_LEAF || (last && insp_run_add(last, e)))
		return 0;
	if (c->runs->len == INSP_MAX_RUNS) {
		c->too_many = true;
		return -E2BIG;
	}
	insp_run_start(&r, e);
	g_array_append_val(c->runs, r);
	return 0;
}

int insp_collect_runs(struct iopgt_inspect *insp, GArray **runs,
		      unsigned int *tables)
{
	static const struct iopgt_walk_ops ops = {
		.table = collect_table,
		.entry = collect_entry,
	};
	struct collect c = {
		.runs = g_array_new(FALSE, FALSE, sizeof(struct insp_run)),
	};
	int ret = iopgt_inspect_walk(insp, &ops, &c);

	if (ret) {
		if (c.too_many)
			insp_err("more than %u separate mappings: too many to "
				 "hold", INSP_MAX_RUNS);
		else
			insp_err("walk failed: %s", cli_strerror(-ret));
		g_array_unref(c.runs);
		return ret < 0 ? ret : -EIO;
	}
	*runs = c.runs;
	*tables = c.tables;
	return 0;
}
