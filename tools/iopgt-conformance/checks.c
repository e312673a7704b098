// SPDX-License-Identifier: MIT
/*
 * The checks, in the order they run.  Each makes its own table (a fresh
 * one, so one failure does not hide the next) except those that look at
 * the random workload's table after it.
 *
 * The model of what a table must hold is the shared shadow model
 * (pt-model.h) described from the table's cfg alone: one level per page
 * size.  That is enough to predict every translation, but not which
 * tables a format keeps, so the random workload only makes requests whose
 * result every format must agree on: maps over ranges holding no leaf or
 * only leaves at least as large as the page (-EEXIST), unmaps of exact
 * leaves, of holes and of parts of blocks.  A block over smaller leaves
 * and an unmap over a table are the format's own business.
 */
#include <errno.h>
#include <string.h>

#include "conformance.h"
#include "pt-model.h"

#define PROT_RW		(IOMMU_READ | IOMMU_WRITE)
#define N_THREADS_MAX	16

#define fail(...)	g_strdup_printf(__VA_ARGS__)

/* ---- a table with a recording TLB ---------------------------------------- */

enum tlb_kind { TLB_ADD_PAGE, TLB_FLUSH_WALK };

struct tlb_call {
	enum tlb_kind kind;
	unsigned long iova;
	size_t size;
	struct iopgt_iotlb_gather *gather;
};

/* The calls made by this thread's current op (NULL: not recording). */
static __thread GArray *tlb_log;

struct conf_table {
	struct conf *c;
	struct iopgt_pgtable *pgt;
	gint flush_all;
	gint bad_cookie;
};

static void rec_cookie(struct conf_table *t, void *cookie)
{
	if (cookie != t)
		g_atomic_int_inc(&t->bad_cookie);
}

static void rec_flush_all(void *cookie)
{
	struct conf_table *t = cookie;

	g_atomic_int_inc(&t->flush_all);
}

static void rec_flush_walk(unsigned long iova, size_t size, size_t granule,
			   void *cookie)
{
	struct tlb_call call = { TLB_FLUSH_WALK, iova, size, NULL };

	(void)granule;
	rec_cookie(cookie, cookie);
	if (tlb_log)
		g_array_append_val(tlb_log, call);
}

static void rec_add_page(struct iopgt_iotlb_gather *gather, unsigned long iova,
			 size_t granule, void *cookie)
{
	struct tlb_call call = { TLB_ADD_PAGE, iova, granule, gather };

	rec_cookie(cookie, cookie);
	if (tlb_log)
		g_array_append_val(tlb_log, call);
}

static const struct iopgt_flush_ops rec_ops = {
	.tlb_flush_all = rec_flush_all,
	.tlb_flush_walk = rec_flush_walk,
	.tlb_add_page = rec_add_page,
};

/* Returns: 0, or the errno of iopgt_pgtable_new(). */
static int table_new(struct conf *c, bool coherent, struct conf_table **out)
{
	struct conf_table *t = g_new0(struct conf_table, 1);
	struct iopgt_cfg cfg = c->cfg;
	int ret;

	cfg.coherent_walk = coherent && c->cfg.coherent_walk;
	cfg.tlb = &rec_ops;
	t->c = c;
	ret = iopgt_pgtable_new(c->host, c->format, &cfg, t, &t->pgt);
	if (ret) {
		g_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

/* Returns: how many times tlb_flush_all ran during the free. */
static int table_free(struct conf_table *t)
{
	int before = g_atomic_int_get(&t->flush_all), n;

	iopgt_pgtable_free(t->c->host, t->pgt);
	n = g_atomic_int_get(&t->flush_all) - before;
	g_free(t);
	return n;
}

static unsigned long granule(const struct conf_table *t)
{
	return t->pgt->cfg.pgsize_bitmap & -t->pgt->cfg.pgsize_bitmap;
}

static unsigned long largest(const struct conf_table *t)
{
	return 1UL << (63 - __builtin_clzl(t->pgt->cfg.pgsize_bitmap));
}

/* The second smallest page size, or 0. */
static unsigned long block_size(const struct conf_table *t)
{
	unsigned long b = t->pgt->cfg.pgsize_bitmap;

	b &= b - 1;
	return b & -b;
}

/* The lowest iova of the table's range (TTBR1 tables sit at the top). */
static unsigned long iova_base(const struct conf_table *t)
{
	const struct iopgt_cfg *cfg = &t->pgt->cfg;

	if (cfg->ias >= 64 || !(cfg->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1))
		return 0;
	return ~0UL << cfg->ias;
}

static uint64_t iova_span(const struct conf_table *t)
{
	return t->pgt->cfg.ias >= 64 ? ~0ULL : 1ULL << t->pgt->cfg.ias;
}

/* A PA for tests that need one: the middle of oas, nonzero. */
static uint64_t pa_base(const struct conf_table *t)
{
	unsigned int oas = MIN(t->pgt->cfg.oas, 63u);
	uint64_t half = 1ULL << (oas - 1);
	uint64_t pa = half & ~(uint64_t)(largest(t) - 1);

	/* an oas no wider than the largest page: granule-aligned only */
	return pa ? pa : half;
}

static uint64_t phys(const struct conf_table *t, unsigned long iova)
{
	return iopgt_pgtable_iova_to_phys(t->c->host, t->pgt, iova);
}

static int text_entry(void *data, const struct iopgt_walk_entry *e)
{
	g_string_append_printf(data, "L%d[%u] 0x%lx+0x%zx %s 0x%"
			       G_GINT64_MODIFIER "x raw 0x%" G_GINT64_MODIFIER
			       "x\n", e->level, e->index, e->iova, e->size,
			       e->kind == IOPGT_ENTRY_LEAF ? "leaf" : "table",
			       e->oa, e->raw);
	return 0;
}

/* Every entry as text: equal texts, equal tables. */
static char *table_text(const struct conf_table *t)
{
	static const struct iopgt_walk_ops ops = { .entry = text_entry };
	GString *s = g_string_new(NULL);

	iopgt_pgtable_walk(t->c->host, t->pgt, &ops, s);
	return g_string_free(s, FALSE);
}

/*
 * map_pages through the host; *delta is what it added to *mapped.  Only
 * map-partial-progress starts *mapped at a nonzero value (a format that
 * assigns instead of adding shows there); the other checks start at 0, so
 * that they judge their own rule and not that one again.
 */
static size_t mapped_start;

static int map_pages(const struct conf_table *t, unsigned long iova,
		     uint64_t pa, size_t pgsize, size_t count, size_t *delta,
		     char **why)
{
	size_t mapped = mapped_start, before = mapped;
	int ret = iopgt_pgtable_map_pages(t->c->host, t->pgt, iova, pa, pgsize,
					  count, PROT_RW, &mapped);

	*delta = 0;
	if (mapped < before) {
		*why = fail("map_pages(0x%lx, 0x%zx x %zu): *mapped went down "
			    "from 0x%zx to 0x%zx (it must be +=)", iova,
			    pgsize, count, before, mapped);
		return ret;
	}
	*delta = mapped - before;
	if (*delta % pgsize || *delta > pgsize * count)
		*why = fail("map_pages(0x%lx, 0x%zx x %zu) returned %d and "
			    "added 0x%zx to *mapped: not a whole number of "
			    "pages of the request", iova, pgsize, count, ret,
			    *delta);
	return ret;
}

/* ---- map_pages: partial progress and *mapped += -------------------------- */

/*
 * Does exactly [iova, iova + len) of the pages from iova map to pa on, and
 * the page after it not?  "after" is checked only below limit.
 */
static char *check_prefix(const struct conf_table *t, unsigned long iova,
			  uint64_t pa, size_t pg, size_t len, size_t limit)
{
	if (len && phys(t, iova + len - 1) != pa + len - 1)
		return fail("*mapped says 0x%zx bytes from 0x%lx are mapped, "
			    "but 0x%lx translates to 0x%" G_GINT64_MODIFIER "x",
			    len, iova, iova + len - 1,
			    phys(t, iova + len - 1));
	if (len < limit && phys(t, iova + len) == pa + len)
		return fail("*mapped says 0x%zx bytes from 0x%lx are mapped, "
			    "but the page at 0x%lx is mapped too", len, iova,
			    iova + len);
	(void)pg;
	return NULL;
}

static char *check_map_progress_sentinel(struct conf *c, const char **skip)
{
	struct conf_table *t;
	char *why = NULL;
	size_t pg, count, done = 0, calls = 0, hit;
	unsigned long big, iova, iova2;
	uint64_t pa;
	int ret;

	(void)skip;
	if ((ret = table_new(c, true, &t)))
		return fail("iopgt_pgtable_new: %d", ret);
	pg = granule(t);
	big = MIN(largest(t), iova_span(t) / 4);
	/* enough pages to cross at least one table end, from mid-table */
	count = MIN(1100UL, big / pg);
	iova = iova_base(t) + big - 5 * pg;
	pa = pa_base(t);
	if (iova_span(t) < 3 * big || count < 8) {
		*skip = "the iova range is too small";
		goto out;
	}
	while (done < count && !why && calls++ < count) {
		size_t delta;

		ret = map_pages(t, iova + done * pg, pa + done * pg, pg,
				count - done, &delta, &why);
		if (why)
			break;
		if (ret)
			why = fail("map_pages(0x%lx, 0x%zx x %zu) of free pages "
				   "returned %d", iova + done * pg, pg,
				   count - done, ret);
		else if (!delta)
			why = fail("map_pages(0x%lx, 0x%zx x %zu) returned 0 "
				   "and mapped nothing: no progress",
				   iova + done * pg, pg, count - done);
		else
			why = check_prefix(t, iova, pa, pg,
					   (done + delta / pg) * pg, count * pg);
		done += delta / pg;
	}
	if (why)
		goto out;

	/* page 7 of a fresh range is taken: the map must fail there */
	iova2 = iova_base(t) + 2 * big;
	hit = 7;
	ret = map_pages(t, iova2 + hit * pg, pa + big, pg, 1, &done, &why);
	if (!why && (ret || done != pg))
		why = fail("map_pages of one free page at 0x%lx: %d",
			   iova2 + hit * pg, ret);
	for (done = 0, calls = 0; !why && done <= hit && calls++ <= hit;) {
		size_t delta;

		ret = map_pages(t, iova2 + done * pg, pa + done * pg, pg,
				hit + 4 - done, &delta, &why);
		if (why)
			break;
		if (done + delta / pg > hit)
			why = fail("map_pages(0x%lx, 0x%zx x %zu) reports 0x%zx "
				   "bytes mapped, past the page at 0x%lx that "
				   "was already mapped", iova2 + done * pg, pg,
				   hit + 4 - done, delta, iova2 + hit * pg);
		else
			why = check_prefix(t, iova2, pa, pg,
					   (done + delta / pg) * pg, hit * pg);
		done += delta / pg;
		if (why || ret == -EEXIST)
			break;
		if (ret)
			why = fail("map_pages over a mapped page returned %d, "
				   "not -EEXIST", ret);
		else if (!delta)
			why = fail("map_pages(0x%lx, 0x%zx x %zu) returned 0 "
				   "and mapped nothing", iova2 + done * pg, pg,
				   hit + 4 - done);
	}
	if (!why && phys(t, iova2 + hit * pg) != pa + big)
		why = fail("the page at 0x%lx changed under a failed map",
			   iova2 + hit * pg);
out:
	table_free(t);
	return why;
}

static char *check_map_progress(struct conf *c, const char **skip)
{
	char *why;

	mapped_start = 0x5a5a5000;
	why = check_map_progress_sentinel(c, skip);
	mapped_start = 0;
	return why;
}

/* ---- -EEXIST over a leaf ------------------------------------------------- */

/* map_pages over a leaf: -EEXIST, nothing added, the table as it was. */
static char *expect_eexist(const struct conf_table *t, unsigned long iova,
			   uint64_t pa, size_t pgsize)
{
	char *before = table_text(t), *after, *why = NULL;
	size_t delta;
	int ret = map_pages(t, iova, pa, pgsize, 1, &delta, &why);

	after = table_text(t);
	if (!why && ret != -EEXIST)
		why = fail("map_pages(0x%lx, 0x%zx) over a leaf returned %d, "
			   "not -EEXIST (%d)", iova, pgsize, ret, -EEXIST);
	else if (!why && delta)
		why = fail("map_pages over a leaf added 0x%zx to *mapped",
			   delta);
	else if (!why && strcmp(before, after))
		why = fail("map_pages(0x%lx, 0x%zx) over a leaf changed the "
			   "table:\n--- before\n%s--- after\n%s", iova, pgsize,
			   before, after);
	g_free(before);
	g_free(after);
	return why;
}

static char *check_eexist(struct conf *c, const char **skip)
{
	struct conf_table *t;
	unsigned long pg, blk, iova;
	uint64_t pa;
	size_t delta;
	char *why = NULL;
	int ret;

	(void)skip;
	if ((ret = table_new(c, true, &t)))
		return fail("iopgt_pgtable_new: %d", ret);
	pg = granule(t);
	blk = block_size(t);
	iova = iova_base(t) + pg;
	pa = pa_base(t);
	ret = map_pages(t, iova, pa, pg, 1, &delta, &why);
	if (!why && ret)
		why = fail("map_pages of a free page: %d", ret);
	if (!why)
		why = expect_eexist(t, iova, pa + pg, pg);
	if (!why && blk && iova_span(t) >= 4 * blk) {
		/* a page inside a block */
		iova = iova_base(t) + 2 * blk;
		ret = map_pages(t, iova, pa, blk, 1, &delta, &why);
		if (!why && ret)
			why = fail("map_pages of a free 0x%lx block: %d", blk,
				   ret);
		if (!why)
			why = expect_eexist(t, iova + pg, pa, pg);
		if (!why)
			why = expect_eexist(t, iova, pa + blk, blk);
	}
	table_free(t);
	return why;
}

/* ---- unmap of holes and of part of a block ------------------------------- */

static char *expect_unmap(const struct conf_table *t, unsigned long iova,
			  size_t pgsize, size_t want, const char *what)
{
	struct iopgt_iotlb_gather g = { .start = ~0UL };
	char *before = table_text(t), *after, *why = NULL;
	size_t got = iopgt_pgtable_unmap_pages(t->c->host, t->pgt, iova,
					       pgsize, 1, &g);

	after = table_text(t);
	if (got != want)
		why = fail("unmap_pages(0x%lx, 0x%zx) of %s returned 0x%zx, "
			   "not 0x%zx", iova, pgsize, what, got, want);
	else if (!want && strcmp(before, after))
		why = fail("unmap_pages(0x%lx, 0x%zx) of %s returned 0 but "
			   "changed the table:\n--- before\n%s--- after\n%s",
			   iova, pgsize, what, before, after);
	g_free(before);
	g_free(after);
	return why;
}

static char *check_unmap_hole(struct conf *c, const char **skip)
{
	struct conf_table *t;
	unsigned long pg, big, iova;
	size_t delta;
	char *why = NULL;
	int ret;

	(void)skip;
	if ((ret = table_new(c, true, &t)))
		return fail("iopgt_pgtable_new: %d", ret);
	pg = granule(t);
	big = MIN(largest(t), iova_span(t) / 4);
	iova = iova_base(t) + big;
	ret = map_pages(t, iova, pa_base(t), pg, 1, &delta, &why);
	if (!why && ret)
		why = fail("map_pages of a free page: %d", ret);
	if (!why)
		why = expect_unmap(t, iova + pg, pg, 0, "the hole after a page");
	if (!why && iova > iova_base(t))
		why = expect_unmap(t, iova - pg, pg, 0,
				   "the hole before a page");
	if (!why)
		why = expect_unmap(t, iova_base(t) + 2 * big, big, 0,
				   "a hole of the largest size");
	if (!why)
		why = expect_unmap(t, iova, pg, pg, "a page");
	if (!why)
		why = expect_unmap(t, iova, pg, 0, "the same page again");
	table_free(t);
	return why;
}

static char *check_unmap_partial_block(struct conf *c, const char **skip)
{
	struct conf_table *t;
	unsigned long pg, blk, iova;
	uint64_t pa;
	size_t delta;
	char *why = NULL;
	int ret;

	if ((ret = table_new(c, true, &t)))
		return fail("iopgt_pgtable_new: %d", ret);
	pg = granule(t);
	blk = block_size(t);
	if (!blk || iova_span(t) < 4 * blk) {
		*skip = "the table has one page size";
		goto out;
	}
	iova = iova_base(t) + 2 * blk;
	pa = pa_base(t);
	ret = map_pages(t, iova, pa, blk, 1, &delta, &why);
	if (!why && ret)
		why = fail("map_pages of a free 0x%lx block: %d", blk, ret);
	if (why)
		goto out;
	if (!c->split_blocks) {
		why = expect_unmap(t, iova + pg, pg, 0,
				   "one page of a block (the format refuses: "
				   "--no-split-blocks)");
		goto out;
	}
	why = expect_unmap(t, iova + pg, pg, pg,
			   "one page of a block (the format splits: "
			   "--split-blocks)");
	for (unsigned long off = 0; !why && off < blk; off += pg) {
		uint64_t want = off == pg ? 0 : pa + off;

		if (phys(t, iova + off) != want)
			why = fail("after splitting the block at 0x%lx, 0x%lx "
				   "translates to 0x%" G_GINT64_MODIFIER "x, "
				   "not 0x%" G_GINT64_MODIFIER "x", iova,
				   iova + off, phys(t, iova + off), want);
	}
out:
	table_free(t);
	return why;
}

/* ---- random workload against the shadow model ---------------------------- */

struct run {
	struct conf_table *t;
	struct pt_model m;
	GRand *rand;
	unsigned long lo, hi;		/* the iova window */
	uint64_t pa_hi;
	char *err;			/* first disagreement with the model */
	char *tlb_err;			/* first TLB rule broken */
	unsigned int maps, eexist, unmaps, holes, probes;
};

static int run_init(struct run *r, struct conf_table *t, guint32 seed,
		    unsigned long lo, unsigned long hi)
{
	struct pt_model_desc d;
	unsigned int rules = PT_MAP_BLOCK_REPLACES_TABLE;

	if (t->c->split_blocks)
		rules |= PT_UNMAP_SPLITS_BLOCKS;
	*r = (struct run){ .t = t, .lo = lo, .hi = hi };
	if (pt_desc_from_cfg(&d, &t->pgt->cfg, rules))
		return -EINVAL;
	pt_model_init(&r->m, &d);
	r->rand = g_rand_new_with_seed(seed);
	r->pa_hi = t->pgt->cfg.oas >= 64 ? ~0ULL : 1ULL << t->pgt->cfg.oas;
	return 0;
}

static void run_clear(struct run *r)
{
	pt_model_clear(&r->m);
	g_rand_free(r->rand);
	g_free(r->err);
	g_free(r->tlb_err);
}

static unsigned long rand_ul(struct run *r, unsigned long n)
{
	uint64_t x = (uint64_t)g_rand_int(r->rand) << 32 | g_rand_int(r->rand);

	return n ? x % n : 0;
}

/* Small sizes most often: they make the overlaps. */
static size_t rand_pgsize(struct run *r)
{
	unsigned long b = r->m.d.pgsize_bitmap;
	unsigned int k = __builtin_popcountl(b), i = 0;

	while (i + 1 < k && g_rand_int_range(r->rand, 0, 3) == 0)
		i++;
	while (i--)
		b &= b - 1;
	return b & -b;
}

static size_t rand_count(struct run *r)
{
	switch (g_rand_int_range(r->rand, 0, 10)) {
	case 0:
		return g_rand_int_range(r->rand, 1, 600);
	case 1:
	case 2:
		return g_rand_int_range(r->rand, 2, 9);
	default:
		return 1;
	}
}

static void set_err(char **slot, char *why)
{
	if (!*slot)
		*slot = why;
	else
		g_free(why);
}

/* iova_to_phys of the table and of the model agree at iova? */
static void probe(struct run *r, unsigned long iova)
{
	uint64_t got = phys(r->t, iova);
	uint64_t want = pt_model_iova_to_phys(&r->m, iova);

	r->probes++;
	if (got != want)
		set_err(&r->err, fail("iova_to_phys(0x%lx) = 0x%"
				      G_GINT64_MODIFIER "x, the model says 0x%"
				      G_GINT64_MODIFIER "x", iova, got, want));
}

static void probe_range(struct run *r, unsigned long iova, size_t len)
{
	if (iova > r->lo)
		probe(r, iova - 1);
	probe(r, iova);
	probe(r, iova + len / 2);
	probe(r, iova + len - 1);
	if (iova + len < r->hi)
		probe(r, iova + len);
}

/* Is the page of pgsize at iova inside one leaf of at least its size? */
static bool page_taken(const struct run *r, unsigned long iova, size_t pgsize)
{
	for (int l = r->m.d.first; l <= r->m.d.last; l++) {
		const struct pt_slot *s = pt_model_slot(&r->m, l, iova);

		if (pt_model_block(&r->m, l) < pgsize)
			return false;
		if (s && s->kind == PT_SLOT_LEAF)
			return true;
	}
	return false;
}

static void op_map(struct run *r)
{
	size_t pg = rand_pgsize(r), count = rand_count(r), n, hit, done = 0;
	unsigned long span = r->hi - r->lo, iova;
	uint64_t pa;

	if (pg > span)
		return;
	iova = r->lo + rand_ul(r, span / pg) * pg;
	count = MIN(count, (r->hi - iova) / pg);
	if (pg * count >= r->pa_hi / 2)
		count = 1;
	pa = (pa_base(r->t) / 2 & ~(uint64_t)(pg - 1)) +
	     rand_ul(r, (r->pa_hi / 2 - pg * count) / pg) * pg;
	/* pages before one holding smaller leaves; the first taken one */
	for (n = 0, hit = count; n < count; n++) {
		unsigned long va = iova + n * pg;

		if (page_taken(r, va, pg)) {
			hit = MIN(hit, n);
			continue;
		}
		if (pt_model_any_leaf(&r->m, va, pg))
			break;
	}
	count = n;
	hit = MIN(hit, count);
	if (!count)
		return;
	for (unsigned int calls = 0; calls <= count; calls++) {
		size_t delta, rest = count - done;
		char *why = NULL;
		int ret = map_pages(r->t, iova + done * pg, pa + done * pg, pg,
				    rest, &delta, &why);

		if (why) {
			set_err(&r->err, why);
			return;
		}
		if (done + delta / pg > hit) {
			set_err(&r->err, fail("map_pages(0x%lx, 0x%zx x %zu) "
					      "reports 0x%zx bytes mapped, past "
					      "the mapped page at 0x%lx",
					      iova + done * pg, pg, rest, delta,
					      iova + hit * pg));
			return;
		}
		if (delta) {
			size_t ignored = 0;

			pt_model_map(&r->m, iova + done * pg, pa + done * pg,
				     pg, delta / pg, PROT_RW, &ignored);
			done += delta / pg;
		}
		/* the pages before the taken one may or may not be mapped:
		 * *mapped says which */
		if (ret == -EEXIST && hit < count) {
			r->eexist++;
			break;
		}
		if (ret) {
			set_err(&r->err, fail("map_pages(0x%lx, 0x%zx x %zu) "
					      "returned %d, the model expects "
					      "%s", iova + done * pg, pg, rest,
					      ret, hit < count ?
					      "-EEXIST at the mapped page" :
					      "success"));
			return;
		}
		if (done == count)
			break;
		if (!delta) {
			set_err(&r->err, fail("map_pages(0x%lx, 0x%zx x %zu) "
					      "returned 0 and mapped nothing",
					      iova + done * pg, pg, rest));
			return;
		}
	}
	r->maps++;
	probe_range(r, iova, count * pg);
}

static gint cmp_start(gconstpointer a, gconstpointer b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* The TLB calls of one unmap_pages call with a live or queued gather. */
static void check_tlb(struct run *r, GArray *log, unsigned long iova,
		      size_t len, size_t unmapped,
		      const struct iopgt_iotlb_gather *g)
{
	GArray *cover = g_array_new(FALSE, FALSE, sizeof(unsigned long) * 2);
	unsigned long at = iova;

	for (unsigned int i = 0; i < log->len; i++) {
		const struct tlb_call *c = &g_array_index(log, struct tlb_call,
							  i);
		unsigned long iv[2] = { c->iova, c->iova + c->size };

		/*
		 * A page invalidation lies inside the unmap; a walk flush
		 * overlaps it (a table reclaimed by the unmap spans more).
		 */
		bool inside = c->iova >= iova && c->iova - iova < len &&
			      c->size <= len - (c->iova - iova);
		bool overlaps = c->iova < iova + len &&
				c->iova + c->size > iova;

		if (c->kind == TLB_ADD_PAGE ? !inside : !overlaps) {
			set_err(&r->tlb_err, fail("%s(0x%lx, 0x%zx) %s the "
				"unmap of [0x%lx, 0x%lx)",
				c->kind == TLB_ADD_PAGE ? "tlb_add_page" :
				"tlb_flush_walk", c->iova, c->size,
				c->kind == TLB_ADD_PAGE ? "not inside" :
				"not overlapping", iova, iova + len));
			continue;
		}
		/* the NULL-gather rule: the caller invalidates by other means */
		if (c->kind == TLB_ADD_PAGE && !g)
			set_err(&r->tlb_err, fail("tlb_add_page(0x%lx) from an "
				"unmap with a NULL gather (pgtable.h: a NULL "
				"gather means no tlb_add_page)", c->iova));
		if (c->kind == TLB_ADD_PAGE && g && c->gather != g)
			set_err(&r->tlb_err, fail("tlb_add_page got gather %p, "
				"the unmap passed %p", (void *)c->gather,
				(const void *)g));
		if (c->kind == TLB_ADD_PAGE && g && g->queued)
			set_err(&r->tlb_err, fail("tlb_add_page(0x%lx) with a "
				"queued gather (pgtable.h: formats skip it)",
				c->iova));
		g_array_append_val(cover, iv);
	}
	/* a live gather: every unmapped byte is invalidated */
	if (g && !g->queued) {
		g_array_sort(cover, cmp_start);
		for (unsigned int i = 0; i < cover->len; i++) {
			unsigned long *iv = &g_array_index(cover,
							   unsigned long, 2 * i);

			if (iv[0] <= at && iv[1] > at)
				at = iv[1];
		}
		if (at < iova + unmapped)
			set_err(&r->tlb_err, fail("unmap_pages(0x%lx) unmapped "
				"0x%zx bytes but no tlb_add_page or "
				"tlb_flush_walk covers 0x%lx", iova, unmapped,
				at));
	}
	g_array_unref(cover);
}

/* Which pages the model can answer for (a prefix of count). */
static size_t unmap_predictable(const struct run *r, unsigned long iova,
				size_t pg, size_t count)
{
	unsigned int per;
	int lvl = pt_model_level(&r->m, pg, &per);

	for (size_t n = 0; n < count; n++) {
		const struct pt_slot *s = pt_model_slot(&r->m, lvl,
							iova + n * pg);

		/* a table: whether it counts as a block is the format's */
		if (s && s->kind == PT_SLOT_TABLE)
			return n;
	}
	return count;
}

static void op_unmap(struct run *r)
{
	size_t pg = rand_pgsize(r), count = rand_count(r), want, done = 0;
	unsigned long span = r->hi - r->lo, iova;

	if (pg > span)
		return;
	iova = r->lo + rand_ul(r, span / pg) * pg;
	count = MIN(count, (r->hi - iova) / pg);
	count = unmap_predictable(r, iova, pg, count);
	if (!count)
		return;
	want = pt_model_unmap(&r->m, iova, pg, count);
	for (unsigned int calls = 0; calls <= count && done < count * pg;
	     calls++) {
		GArray *log = g_array_new(FALSE, FALSE,
					  sizeof(struct tlb_call));
		struct iopgt_iotlb_gather g = { .start = ~0UL };
		struct iopgt_iotlb_gather *gp = &g;
		size_t got, len = count * pg - done;

		switch (g_rand_int_range(r->rand, 0, 4)) {
		case 0:
			gp = NULL;
			break;
		case 1:
			g.queued = true;
			break;
		}
		tlb_log = log;
		got = iopgt_pgtable_unmap_pages(r->t->c->host, r->t->pgt,
						iova + done, pg, len / pg, gp);
		tlb_log = NULL;
		check_tlb(r, log, iova + done, len, got, gp);
		g_array_unref(log);
		if (got % pg || got > len) {
			set_err(&r->err, fail("unmap_pages(0x%lx, 0x%zx x %zu) "
					      "returned 0x%zx", iova + done, pg,
					      len / pg, got));
			return;
		}
		if (!got)
			break;
		done += got;
	}
	if (done != want) {
		set_err(&r->err, fail("unmap_pages(0x%lx, 0x%zx x %zu) "
				      "unmapped 0x%zx bytes in all, the model "
				      "says 0x%zx", iova, pg, count, done,
				      want));
		return;
	}
	if (want)
		r->unmaps++;
	else
		r->holes++;
	probe_range(r, iova, count * pg);
}

/* Unmap one existing leaf with its own size. */
struct pick {
	unsigned long n;
	int lvl;
	unsigned long iova;
};

static void pick_leaf(void *data, int lvl, unsigned long iova,
		      const struct pt_slot *s)
{
	struct pick *p = data;

	if (s->kind == PT_SLOT_LEAF && p->n-- == 0) {
		p->lvl = lvl;
		p->iova = iova;
	}
}

static void unmap_leaf(struct run *r, int lvl, unsigned long iova)
{
	GArray *log = g_array_new(FALSE, FALSE, sizeof(struct tlb_call));
	struct iopgt_iotlb_gather g = { .start = ~0UL };
	struct pick p = { .lvl = lvl, .iova = iova };
	size_t pg, want, got;

	pg = pt_model_block(&r->m, p.lvl);
	want = pt_model_unmap(&r->m, p.iova, pg, 1);
	tlb_log = log;
	got = iopgt_pgtable_unmap_pages(r->t->c->host, r->t->pgt, p.iova, pg,
					1, &g);
	tlb_log = NULL;
	check_tlb(r, log, p.iova, pg, got, &g);
	g_array_unref(log);
	if (got != want)
		set_err(&r->err, fail("unmap_pages(0x%lx, 0x%zx) of a leaf "
				      "returned 0x%zx, the model says 0x%zx",
				      p.iova, pg, got, want));
	r->unmaps++;
	probe_range(r, p.iova, pg);
}

static void op_unmap_leaf(struct run *r)
{
	struct pick p = { .lvl = -1 };

	if (r->m.leaves)
		p.n = rand_ul(r, r->m.leaves);
	pt_model_foreach(&r->m, pick_leaf, &p);
	if (p.lvl >= 0)
		unmap_leaf(r, p.lvl, p.iova);
}

static void collect_leaf(void *data, int lvl, unsigned long iova,
			 const struct pt_slot *s)
{
	struct pick p = { .lvl = lvl, .iova = iova };

	if (s->kind == PT_SLOT_LEAF)
		g_array_append_val((GArray *)data, p);
}

/* Unmap every leaf, one by one: the window fills up with small pages
 * otherwise, and blocks would stop fitting anywhere. */
static void op_clear(struct run *r)
{
	GArray *all = g_array_new(FALSE, FALSE, sizeof(struct pick));

	pt_model_foreach(&r->m, collect_leaf, all);
	for (unsigned int i = 0; i < all->len && !r->err; i++) {
		struct pick *p = &g_array_index(all, struct pick, i);

		unmap_leaf(r, p->lvl, p->iova);
	}
	g_array_unref(all);
}

static void run_ops(struct run *r, unsigned int n)
{
	for (unsigned int i = 0; i < n && !r->err; i++) {
		int x = g_rand_int_range(r->rand, 0, 20);

		/* never the last: the checks after look at what is left */
		if (i % 500 == 250 && n - i > 100)
			op_clear(r);

		if (x < 10)
			op_map(r);
		else if (x < 14)
			op_unmap(r);
		else if (x < 17)
			op_unmap_leaf(r);
		else
			probe(r, r->lo + rand_ul(r, r->hi - r->lo));
	}
}

/* 16 of the largest pages, at most half the range: never wraps. */
static void window(const struct conf_table *t, unsigned long *lo,
		   unsigned long *hi)
{
	uint64_t span = MIN((uint64_t)largest(t) * 16, iova_span(t) / 2);

	*lo = iova_base(t);
	*hi = *lo + span;
}

static char *check_random(struct conf *c, const char **skip)
{
	struct conf_table *t;
	struct run r;
	unsigned long lo, hi;
	char *why;
	int ret;

	(void)skip;
	if ((ret = table_new(c, true, &t)))
		return fail("iopgt_pgtable_new: %d", ret);
	window(t, &lo, &hi);
	if (run_init(&r, t, c->seed, lo, hi)) {
		table_free(t);
		return fail("the cfg has no usable page size");
	}
	run_ops(&r, c->ops);
	if (c->verbose)
		g_printerr("# random: %u maps, %u -EEXIST, %u unmaps, %u "
			   "holes, %u probes; %lu leaves now\n", r.maps,
			   r.eexist, r.unmaps, r.holes, r.probes, r.m.leaves);
	why = g_steal_pointer(&r.err);
	if (!why && (!r.maps || !r.unmaps))
		why = fail("the workload did nothing useful: %u maps, %u "
			   "unmaps", r.maps, r.unmaps);
	if (why)
		why = fail("%s (seed %u)", why, c->seed);
	c->random_tlb_error = g_steal_pointer(&r.tlb_err);
	run_clear(&r);
	c->random = t;
	return why;
}

/* ---- walk against iova_to_phys ------------------------------------------- */

struct walk_cmp {
	const struct conf_table *t;
	GHashTable *leaves;		/* first iova -> size */
	char *why;
};

static int walk_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct walk_cmp *w = data;
	const size_t offs[] = { 0, e->size / 2, e->size - 1 };

	if (e->kind != IOPGT_ENTRY_LEAF)
		return 0;
	for (unsigned int i = 0; i < G_N_ELEMENTS(offs); i++) {
		uint64_t got = phys(w->t, e->iova + offs[i]);

		if (got != e->oa + offs[i]) {
			w->why = fail("the walk has a leaf L%d 0x%lx+0x%zx -> "
				      "0x%" G_GINT64_MODIFIER "x, but "
				      "iova_to_phys(0x%lx) = 0x%"
				      G_GINT64_MODIFIER "x", e->level, e->iova,
				      e->size, e->oa, e->iova + offs[i], got);
			return 1;
		}
	}
	g_hash_table_insert(w->leaves, GSIZE_TO_POINTER(e->iova),
			    GSIZE_TO_POINTER(e->size));
	return 0;
}

static void add_size(gpointer k, gpointer v, gpointer data)
{
	(void)k;
	*(uint64_t *)data += GPOINTER_TO_SIZE(v);
}

static char *check_walk(struct conf *c, const char **skip)
{
	static const struct iopgt_walk_ops ops = { .entry = walk_entry };
	struct walk_cmp w = { .t = c->random };
	uint64_t walked = 0, mapped = 0;
	unsigned long lo, hi, pg;
	int ret;

	if (!c->random) {
		*skip = "no table: the random workload did not run";
		return NULL;
	}
	if (!c->random->pgt->ops.walk) {
		*skip = "the format has no walk";
		return NULL;
	}
	w.leaves = g_hash_table_new(g_direct_hash, g_direct_equal);
	window(c->random, &lo, &hi);
	pg = granule(c->random);
	ret = iopgt_pgtable_walk(c->host, c->random->pgt, &ops, &w);
	if (!w.why && ret)
		w.why = fail("walk returned %d", ret);
	g_hash_table_foreach(w.leaves, add_size, &walked);
	g_hash_table_unref(w.leaves);
	if (w.why)
		return w.why;
	/* bytes mapped, by translating every granule of the window */
	for (unsigned long va = lo; va < hi; va += pg)
		if (phys(c->random, va))
			mapped += pg;
	if (walked != mapped)
		return fail("the walk's leaves cover 0x%" G_GINT64_MODIFIER "x "
			    "bytes, iova_to_phys translates 0x%"
			    G_GINT64_MODIFIER "x", walked, mapped);
	return NULL;
}

/* ---- TLB ----------------------------------------------------------------- */

static char *check_tlb_ranges(struct conf *c, const char **skip)
{
	if (!c->random) {
		*skip = "no table: the random workload did not run";
		return NULL;
	}
	if (c->random->bad_cookie)
		return fail("%d TLB callbacks got another cookie than the "
			    "table's", c->random->bad_cookie);
	return g_steal_pointer(&c->random_tlb_error);
}

static char *check_memory(struct conf *c, const char **skip)
{
	struct iopgt_mem_stats st;
	struct conf_table *t = g_steal_pointer(&c->random);

	if (!t) {
		*skip = "no table: the random workload did not run";
		return NULL;
	}
	iopgt_pgtable_get_mem_stats(c->host, t->pgt, &st);
	if (!st.table_bytes) {
		table_free(t);
		return fail("a live table reports no table memory");
	}
	table_free(t);
	iopgt_host_get_mem_stats(c->host, &st);
	if (st.table_bytes || st.table_allocs || st.state_bytes)
		return fail("after free %" G_GUINT64_FORMAT " bytes of table "
			    "memory in %" G_GUINT64_FORMAT " blocks and %"
			    G_GUINT64_FORMAT " bytes of format state were not "
			    "returned", st.table_bytes, st.table_allocs,
			    st.state_bytes);
	return NULL;
}

static char *check_flush_all(struct conf *c, const char **skip)
{
	struct conf_table *t;
	size_t delta;
	char *why = NULL;
	int ret, n, before;

	(void)skip;
	if ((ret = table_new(c, true, &t)))
		return fail("iopgt_pgtable_new: %d", ret);
	ret = map_pages(t, iova_base(t), pa_base(t), granule(t), 1, &delta,
			&why);
	if (!why && ret)
		why = fail("map_pages of a free page: %d", ret);
	iopgt_pgtable_unmap_pages(c->host, t->pgt, iova_base(t), granule(t),
				  1, NULL);
	before = g_atomic_int_get(&t->flush_all);
	n = table_free(t);
	if (!why && before)
		why = fail("tlb_flush_all ran %d times before free", before);
	if (!why && n != 1)
		why = fail("tlb_flush_all ran %d times at free, not once", n);
	return why;
}

/* ---- threads ------------------------------------------------------------- */

struct thread_run {
	struct run r;
	GThread *thread;
};

static gpointer thread_fn(gpointer data)
{
	struct thread_run *tr = data;

	run_ops(&tr->r, tr->r.t->c->ops / 2);
	return NULL;
}

static char *check_threads(struct conf *c, const char **skip)
{
	struct thread_run runs[N_THREADS_MAX];
	unsigned int n = MIN(c->threads, N_THREADS_MAX), started = 0;
	struct conf_table *t;
	unsigned long big, lo;
	char *why = NULL;
	int ret;

	if (n < 2) {
		*skip = "--threads below 2";
		return NULL;
	}
	if ((ret = table_new(c, true, &t)))
		return fail("iopgt_pgtable_new: %d", ret);
	/* each thread its own aligned stretch of the largest pages */
	big = largest(t);
	while (big > granule(t) && (uint64_t)big * 2 * n > iova_span(t))
		big >>= 1;
	lo = iova_base(t);
	if ((uint64_t)big * 2 * n > iova_span(t) || big < granule(t)) {
		*skip = "the iova range is too small";
		table_free(t);
		return NULL;
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned long a = lo + i * 2 * big;

		if (run_init(&runs[i].r, t, c->seed + i + 1, a, a + 2 * big)) {
			why = fail("the cfg has no usable page size");
			break;
		}
		started++;
	}
	for (unsigned int i = 0; !why && i < started; i++)
		runs[i].thread = g_thread_new("conformance", thread_fn,
					      &runs[i]);
	for (unsigned int i = 0; !why && i < started; i++)
		g_thread_join(runs[i].thread);
	/* afterwards, from this thread: every window as its model says */
	for (unsigned int i = 0; i < started; i++) {
		struct run *r = &runs[i].r;

		for (unsigned long va = r->lo; !why && !r->err && va < r->hi;
		     va += MAX(granule(t), (r->hi - r->lo) / 4096))
			probe(r, va + (va >> 12) % granule(t));
		if (!why && r->err)
			why = fail("thread %u of %u: %s (seed %u)", i, n,
				   r->err, c->seed + i + 1);
		if (!why && !r->maps)
			why = fail("thread %u mapped nothing", i);
		run_clear(r);
	}
	table_free(t);
	return why;
}

/* ---- non-coherent walkers ------------------------------------------------ */

static char *check_noncoherent(struct conf *c, const char **skip)
{
	struct iopgt_mem_stats st;
	struct conf_table *t;
	size_t delta;
	char *why = NULL;
	int ret;

	if ((ret = table_new(c, false, &t))) {
		if (ret == -EINVAL) {
			*skip = "the format refuses coherent_walk=false";
			return NULL;
		}
		return fail("iopgt_pgtable_new with coherent_walk=false: %d",
			    ret);
	}
	iopgt_pgtable_get_mem_stats(c->host, t->pgt, &st);
	ret = map_pages(t, iova_base(t), pa_base(t), granule(t), 1, &delta,
			&why);
	if (!why && ret)
		why = fail("map_pages of a free page: %d", ret);
	if (!why) {
		uint64_t before = st.syncs;

		iopgt_pgtable_get_mem_stats(c->host, t->pgt, &st);
		if (st.syncs <= before)
			why = fail("a map on a non-coherent table made no "
				   "dma_sync (syncs %" G_GUINT64_FORMAT ")",
				   st.syncs);
	}
	table_free(t);
	return why;
}

const struct conf_check conf_checks[] = {
	{ "map-eexist", check_eexist },
	{ "map-partial-progress", check_map_progress },
	{ "unmap-hole", check_unmap_hole },
	{ "unmap-partial-block", check_unmap_partial_block },
	{ "random-vs-model", check_random },
	{ "walk-vs-iova-to-phys", check_walk },
	{ "tlb-ranges", check_tlb_ranges },
	{ "memory-returned", check_memory },
	{ "tlb-flush-all-once", check_flush_all },
	{ "threads-disjoint", check_threads },
	{ "noncoherent-syncs", check_noncoherent },
	{ NULL, NULL },
};

void conf_cleanup(struct conf *c)
{
	if (c->random)
		table_free(g_steal_pointer(&c->random));
	g_clear_pointer(&c->random_tlb_error, g_free);
}
