// SPDX-License-Identifier: MIT
/*
 * Table memory under churn, with and without IOPGT_QUIRK_RECLAIM_TABLES:
 * the figures behind "Reclaim of empty tables" in
 * docs/performance-reclaim.md (a section for docs/performance.md).
 *
 * The workload is a DMA-mapping pattern run for a long time: ranges of
 * 4K to 4M (log-uniform) are placed at random in an IOVA window, aligned
 * like an IOVA allocator aligns them (to their size, at most the largest
 * block), mapped and unmapped the way iommu_map()/iommu_unmap() split them
 * into page sizes, keeping about `live` bytes mapped.  Over time every
 * table-sized region of the window gets touched; without the quirk each
 * keeps its table (Linux), with it only regions with a live mapping do.
 *
 * Each run reports, per format and quirk: the peak table bytes, their
 * mean over the second half, the bytes at the end of the churn, the
 * bytes once everything is unmapped, the tlb_flush_walk calls and the
 * time per operation.  With the quirk, the last must be the root table.
 *
 *   tests/test-reclaim-churn --verbose             # CTest's short run
 *   IOPGT_CHURN_OPS=1000000 tests/test-reclaim-churn --verbose
 *
 * Both plugins are loaded as modules from IOPGT_TEST_PLUGIN_DIR.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

#define RW		(IOMMU_READ | IOMMU_WRITE)
#define MIN_SHIFT	12		/* 4K ranges ... */
#define MAX_SHIFT	22		/* ... to 4M */

struct churn_config {
	const char *path;
	const char *plugin;		/* module file name */
	const char *fmt;
	unsigned long pgsizes;		/* sizes the splitter uses */
	unsigned int ias, oas;
	unsigned long window;		/* iovas [window, 2 * window) */
	uint64_t live;			/* bytes kept mapped, about */
};

/* PA = offset in the window: the same alignment, the same page sizes */
#define churn_pa(c, iova)	((uint64_t)(iova) - (c)->cc->window)

struct range {
	unsigned long iova;
	size_t size;
};

struct churn {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	const struct churn_config *cc;
	GArray *live;			/* struct range */
	uint64_t live_bytes;
	uint8_t *used;			/* a bit per 4K page of the window */
	unsigned int walks;
};

struct churn_result {
	uint64_t root, peak, mean, end, drained;
	unsigned int walks;
	double ns_per_op;
};

static void churn_flush_walk(unsigned long iova, size_t size, size_t granule,
			     void *cookie)
{
	struct churn *c = cookie;

	(void)iova;
	(void)size;
	(void)granule;
	c->walks++;
}

static const struct iopgt_flush_ops churn_tlb = {
	.tlb_flush_walk = churn_flush_walk,
};

static uint64_t churn_table_bytes(struct churn *c)
{
	struct iopgt_mem_stats st;

	iopgt_pgtable_get_mem_stats(c->host, c->pgt, &st);
	return st.table_bytes;
}

/*
 * iommu_pgsize(): the largest size that iova is aligned to and that fits,
 * and how many of it before a larger size could take over.
 */
static size_t churn_pgsize(const struct churn *c, unsigned long iova,
			   size_t left, size_t *count)
{
	unsigned long sizes = c->cc->pgsizes;
	size_t size = 0, larger;

	for (unsigned long s = sizes; s; s &= s - 1) {
		size_t sz = (size_t)1 << __builtin_ctzl(s);

		if (!(iova & (sz - 1)) && sz <= left)
			size = sz;
	}
	g_assert_cmpuint(size, !=, 0);
	*count = left / size;
	larger = sizes & ~((size << 1) - 1);
	if (larger) {
		size_t next = (size_t)1 << __builtin_ctzl(larger);
		size_t to_next = (next - (iova & (next - 1))) / size;

		if (to_next < *count)
			*count = to_next;
	}
	return size;
}

static __attribute__((noinline)) void
churn_map(struct churn *c, unsigned long iova, size_t size)
{
	for (size_t done = 0; done < size;) {
		size_t count, mapped = 0;
		size_t pgsize = churn_pgsize(c, iova + done, size - done,
					     &count);
		uint64_t pa = churn_pa(c, iova + done);

		g_assert_cmpint(iopgt_pgtable_map_pages(c->host, c->pgt,
							iova + done, pa, pgsize,
							count, RW, &mapped),
				==, 0);
		g_assert_cmpuint(mapped, >, 0);
		done += mapped;
	}
}

static __attribute__((noinline)) void
churn_unmap(struct churn *c, unsigned long iova, size_t size)
{
	for (size_t done = 0; done < size;) {
		size_t count, got;
		size_t pgsize = churn_pgsize(c, iova + done, size - done,
					     &count);

		got = iopgt_pgtable_unmap_pages(c->host, c->pgt, iova + done,
						pgsize, count, NULL);
		g_assert_cmpuint(got, >, 0);
		done += got;
	}
}

static bool churn_used(const struct churn *c, unsigned long page)
{
	return c->used[page / 8] & (1u << (page % 8));
}

static void churn_mark(struct churn *c, const struct range *r, bool on)
{
	unsigned long first = (r->iova - c->cc->window) / SZ_4K;

	for (unsigned long p = first; p < first + r->size / SZ_4K; p++) {
		if (on)
			c->used[p / 8] |= 1u << (p % 8);
		else
			c->used[p / 8] &= ~(1u << (p % 8));
	}
}

/* A random free range, aligned as an IOVA allocator would; false if none. */
static bool churn_place(struct churn *c, GRand *rand, struct range *r)
{
	unsigned int shift = g_rand_int_range(rand, MIN_SHIFT, MAX_SHIFT + 1);
	size_t size = (size_t)1 << shift, align;
	unsigned long pages = c->cc->window / SZ_4K;
	unsigned long biggest = 1UL << (63 - __builtin_clzl(c->cc->pgsizes));

	/* not only powers of two: 1 to 2 times the size, in pages */
	size += (size_t)g_rand_int_range(rand, 0, (gint32)(size / SZ_4K)) *
		SZ_4K;
	align = 1UL << (63 - __builtin_clzl(size));
	if (align > biggest)
		align = biggest;

	for (int attempt = 0; attempt < 8; attempt++) {
		unsigned long off = (unsigned long)g_rand_double_range(rand, 0,
					(double)(c->cc->window - size));
		unsigned long first, p;

		off &= ~(align - 1);
		first = off / SZ_4K;
		for (p = first; p < first + size / SZ_4K && p < pages; p++)
			if (churn_used(c, p))
				break;
		if (p == first + size / SZ_4K) {
			r->iova = c->cc->window + off;
			r->size = size;
			return true;
		}
	}
	return false;
}

static void churn_run(const struct churn_config *cc, bool reclaim,
		      unsigned int ops, struct churn_result *res)
{
	struct churn c = { .cc = cc };
	struct iopgt_cfg cfg = {
		.quirks = reclaim ? IOPGT_QUIRK_RECLAIM_TABLES : 0,
		.pgsize_bitmap = cc->pgsizes,
		.ias = cc->ias,
		.oas = cc->oas,
		.coherent_walk = true,
		.tlb = &churn_tlb,
	};
	char *path = g_build_filename(test_plugin_dir(), cc->plugin, NULL);
	GRand *rand = g_rand_new_with_seed(2024);
	struct iopgt_mem_stats st;
	uint64_t sum = 0, samples = 0;
	gint64 t0;

	c.host = iopgt_host_new();
	g_assert_nonnull(c.host);
	g_assert_cmpint(iopgt_host_load_plugin_file(c.host, path, NULL), ==,
			0);
	g_assert_cmpint(iopgt_pgtable_new(c.host, cc->fmt, &cfg, &c, &c.pgt),
			==, 0);
	c.live = g_array_new(FALSE, FALSE, sizeof(struct range));
	c.used = g_malloc0(cc->window / SZ_4K / 8);
	*res = (struct churn_result){ .root = churn_table_bytes(&c) };

	t0 = g_get_monotonic_time();
	for (unsigned int op = 0; op < ops; op++) {
		/* drift towards `live` bytes mapped */
		bool grow = g_rand_int_range(rand, 0, 10) <
			    (c.live_bytes < cc->live ? 6 : 4);
		struct range r;

		if (grow || !c.live->len) {
			if (!churn_place(&c, rand, &r))
				continue;
			churn_map(&c, r.iova, r.size);
			churn_mark(&c, &r, true);
			g_array_append_val(c.live, r);
			c.live_bytes += r.size;
		} else {
			guint i = g_rand_int_range(rand, 0,
						   (gint32)c.live->len);

			r = g_array_index(c.live, struct range, i);
			churn_unmap(&c, r.iova, r.size);
			churn_mark(&c, &r, false);
			g_array_remove_index_fast(c.live, i);
			c.live_bytes -= r.size;
		}
		if (op >= ops / 2 && op % 64 == 0) {
			sum += churn_table_bytes(&c);
			samples++;
		}
	}
	res->ns_per_op = (double)(g_get_monotonic_time() - t0) * 1000.0 /
			 (ops ? ops : 1);
	iopgt_pgtable_get_mem_stats(c.host, c.pgt, &st);
	res->peak = st.peak_table_bytes;
	res->end = st.table_bytes;
	res->mean = samples ? sum / samples : res->end;

	while (c.live->len) {
		struct range r = g_array_index(c.live, struct range, 0);

		churn_unmap(&c, r.iova, r.size);
		g_array_remove_index_fast(c.live, 0);
	}
	res->drained = churn_table_bytes(&c);
	res->walks = c.walks;

	iopgt_pgtable_free(c.host, c.pgt);
	iopgt_host_get_mem_stats(c.host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(c.host));
	g_array_free(c.live, TRUE);
	g_free(c.used);
	g_rand_free(rand);
	g_free(path);
}

static unsigned int churn_ops(void)
{
	const char *env = g_getenv("IOPGT_CHURN_OPS");

	if (env && *env)
		return (unsigned int)strtoul(env, NULL, 0);
	return g_test_slow() ? 1000000 : 5000;
}

static void churn_report(const char *label, const struct churn_result *r)
{
	g_test_message("%-4s peak %8" G_GUINT64_FORMAT " KiB  mean %8"
		       G_GUINT64_FORMAT " KiB  end %8" G_GUINT64_FORMAT
		       " KiB  drained %8" G_GUINT64_FORMAT " KiB  root %"
		       G_GUINT64_FORMAT " KiB  flush_walk %u  %.0f ns/op",
		       label, r->peak / 1024, r->mean / 1024, r->end / 1024,
		       r->drained / 1024, r->root / 1024, r->walks,
		       r->ns_per_op);
}

static void test_churn(gconstpointer data)
{
	const struct churn_config *cc = data;
	struct churn_result off, on;
	unsigned int ops = churn_ops();

	g_test_summary("Long map/unmap churn of random ranges: with "
		       "RECLAIM_TABLES table memory follows the live "
		       "mappings and ends at the root table alone; without, "
		       "it keeps every table ever used (Linux)");
	churn_run(cc, false, ops, &off);
	churn_run(cc, true, ops, &on);
	g_test_message("%s: %u ops, ~%" G_GUINT64_FORMAT " MiB live in a %lu "
		       "MiB window", cc->fmt, ops, cc->live >> 20,
		       cc->window >> 20);
	churn_report("off", &off);
	churn_report("on", &on);

	/* the same workload: the same seed, the same ranges */
	g_assert_cmpuint(on.root, ==, off.root);
	g_assert_cmpuint(on.drained, ==, on.root);
	/* without: only a block or section over a leftover table flushes */
	g_assert_cmpuint(on.walks, >, off.walks);
	g_assert_cmpuint(on.peak, <=, off.peak);
	g_assert_cmpuint(on.end, <=, off.end);
	if (ops >= 1000)
		g_assert_cmpuint(off.drained, >, off.root);
}

/*
 * The ops themselves, with and without the quirk, for callgrind: each
 * scenario is one noinline function run once over PERF_N operations, so
 * its inclusive cost / PERF_N is instructions per op (the loop adds ~8):
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *            tests/test-reclaim-churn -p /reclaim/ops/arm-v7s/on
 *   callgrind_annotate --inclusive=yes cg.out | grep '=> .*perf_'
 *
 * (map and unmap run twice: divide their lines by PERF_N each).
 *
 * Each table keeps its last page mapped, so warm ops find their tables
 * (as a busy table would); "lone" maps and unmaps one page where nothing
 * else is mapped, so with the quirk every table on the way comes and goes.
 */
#define PERF_N		4096

static unsigned int perf_failures;

/* Page i of the warm scenarios: all but the last page of each table. */
static unsigned long perf_iova(unsigned long base, size_t span, size_t pg,
			       unsigned long i)
{
	unsigned long per = span / pg - 1;

	return base + i / per * span + i % per * pg;
}

static __attribute__((noinline)) void
perf_map(struct iopgt_ops *ops, unsigned long base, size_t span, size_t pg)
{
	for (unsigned long i = 0; i < PERF_N; i++) {
		unsigned long iova = perf_iova(base, span, pg, i);
		size_t mapped = 0;

		if (ops->map_pages(ops, iova, iova, pg, 1, RW, &mapped))
			perf_failures++;
	}
}

static __attribute__((noinline)) void
perf_unmap(struct iopgt_ops *ops, unsigned long base, size_t span, size_t pg)
{
	for (unsigned long i = 0; i < PERF_N; i++)
		if (ops->unmap_pages(ops, perf_iova(base, span, pg, i), pg, 1,
				     NULL) != pg)
			perf_failures++;
}

static __attribute__((noinline)) uint64_t
perf_iova_to_phys(struct iopgt_ops *ops, unsigned long base, size_t span,
		  size_t pg)
{
	uint64_t sum = 0;

	for (unsigned long i = 0; i < PERF_N; i++)
		sum += ops->iova_to_phys(ops, perf_iova(base, span, pg, i));
	return sum;
}

static __attribute__((noinline)) void
perf_lone(struct iopgt_ops *ops, unsigned long base, size_t span, size_t pg)
{
	for (unsigned long i = 0; i < PERF_N; i++) {
		unsigned long iova = base + i % 1024 * span;
		size_t mapped = 0;

		if (ops->map_pages(ops, iova, iova, pg, 1, RW, &mapped) ||
		    ops->unmap_pages(ops, iova, pg, 1, NULL) != pg)
			perf_failures++;
	}
}

static void perf_run(const char *plugin, const char *fmt, unsigned int ias,
		     unsigned long pgsizes, unsigned long base, size_t span,
		     bool reclaim)
{
	struct iopgt_host *host = iopgt_host_new();
	struct iopgt_cfg cfg = {
		.quirks = reclaim ? IOPGT_QUIRK_RECLAIM_TABLES : 0,
		.pgsize_bitmap = pgsizes,
		.ias = ias,
		.oas = ias,
		.coherent_walk = true,
	};
	char *path = g_build_filename(test_plugin_dir(), plugin, NULL);
	unsigned long tables = PERF_N / (span / SZ_4K - 1) + 1;
	struct iopgt_pgtable *pgt;
	struct iopgt_ops *ops;
	size_t mapped = 0;

	g_assert_cmpint(iopgt_host_load_plugin_file(host, path, NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(host, fmt, &cfg, NULL, &pgt), ==, 0);
	ops = &pgt->ops;
	for (unsigned long t = 0; t < tables; t++)
		g_assert_cmpint(ops->map_pages(ops, base + (t + 1) * span -
					       SZ_4K, 0, SZ_4K, 1, RW,
					       &mapped), ==, 0);
	perf_map(ops, base, span, SZ_4K);
	perf_unmap(ops, base, span, SZ_4K);
	perf_map(ops, base, span, SZ_4K);
	g_assert_cmpuint(perf_iova_to_phys(ops, base, span, SZ_4K), !=, 0);
	perf_unmap(ops, base, span, SZ_4K);
	perf_lone(ops, base + (1UL << (ias - 1)), span, SZ_4K);
	g_assert_cmpuint(perf_failures, ==, 0);
	iopgt_pgtable_free(host, pgt);
	g_assert_null(iopgt_host_unref(host));
	g_free(path);
}

struct perf_config {
	const char *path;
	const char *plugin;
	const char *fmt;
	unsigned int ias;
	unsigned long pgsizes;
	unsigned long base;
	size_t span;			/* a last-level table's */
	bool reclaim;
};

static void test_ops(gconstpointer data)
{
	const struct perf_config *pc = data;

	g_test_summary("The per-op scenarios behind the instruction counts of "
		       "RECLAIM_TABLES (warm map, unmap, lookup; a lone page "
		       "mapped and unmapped) all succeed");
	perf_run(pc->plugin, pc->fmt, pc->ias, pc->pgsizes, pc->base,
		 pc->span, pc->reclaim);
}

#define LPAE_PERF(path, on)                                                \
	{ path, "io-pgtable-arm.so", "arm-64-lpae-s1", 48,                  \
	  SZ_4K | SZ_2M | SZ_1G, SZ_1G, SZ_2M, on }
#define V7S_PERF(path, on)                                                 \
	{ path, "io-pgtable-arm-v7s.so", "arm-v7s", 32,                     \
	  SZ_4K | SZ_64K | SZ_1M, 256 * SZ_1M, SZ_1M, on }

static const struct perf_config perf_configs[] = {
	LPAE_PERF("/reclaim/ops/arm-64-lpae-s1/off", false),
	LPAE_PERF("/reclaim/ops/arm-64-lpae-s1/on", true),
	V7S_PERF("/reclaim/ops/arm-v7s/off", false),
	V7S_PERF("/reclaim/ops/arm-v7s/on", true),
};

static const struct churn_config configs[] = {
	/* 4K pages and 2M blocks in 16 GiB: 8192 last-level tables */
	{ "/reclaim/churn/arm-64-lpae-s1/4k", "io-pgtable-arm.so",
	  "arm-64-lpae-s1", SZ_4K | SZ_2M, 48, 48, 16UL << 30, 256UL << 20 },
	/* 4K and 64K pages and 1M sections in 2 GiB: 2048 level-2 tables */
	{ "/reclaim/churn/arm-v7s", "io-pgtable-arm-v7s.so", "arm-v7s",
	  SZ_4K | SZ_64K | SZ_1M, 32, 32, 2UL << 30, 256UL << 20 },
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned int i = 0; i < G_N_ELEMENTS(configs); i++)
		g_test_add_data_func(configs[i].path, &configs[i], test_churn);
	for (unsigned int i = 0; i < G_N_ELEMENTS(perf_configs); i++)
		g_test_add_data_func(perf_configs[i].path, &perf_configs[i],
				     test_ops);
	return g_test_run();
}
