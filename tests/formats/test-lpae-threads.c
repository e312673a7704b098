// SPDX-License-Identifier: MIT
/*
 * Concurrent map/unmap on disjoint ranges of one LPAE table, without a
 * lock (Linux's rule: callers serialise overlapping ranges only).
 *
 * The threads' ranges interleave page by page and 2M region by 2M region,
 * so they share every intermediate table and race to install each one
 * (compare-and-swap; the loser frees its table).  Every round starts in a
 * fresh region, so the races happen again and again.  Each thread
 * checks its own translations as it goes; after the join the survivors
 * are checked, the walk counted, and free must return every byte.
 * Run under ThreadSanitizer in the tsan build (label "threads").
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define N_THREADS	4
#define ROUNDS		24
#define PAGES		128	/* small pages per thread per round */
#define REGIONS		4	/* 2M regions per thread per round */
#define RW		(IOMMU_READ | IOMMU_WRITE)

struct tconfig {
	const char *path;
	const char *fmt;
	unsigned long pgsizes;
	unsigned int ias, oas;
	bool coherent;
};

struct worker {
	struct iopgt_pgtable *pgt;
	const struct tconfig *tc;
	int id;
	unsigned int failures;
	GThread *thread;
};

static size_t granule(const struct worker *w)
{
	return 1UL << __builtin_ctzl(w->pgt->cfg.pgsize_bitmap);
}

/* the first block size above the granule (2M, 32M, 512M) */
static size_t block(const struct worker *w)
{
	unsigned long b = w->pgt->cfg.pgsize_bitmap;

	return 1UL << __builtin_ctzl(b & (b - 1));
}

static unsigned long round_base(const struct worker *w, int round)
{
	/* each round in its own top-level-ish region, inside the ias */
	return (unsigned long)round * 8 * block(w) * N_THREADS * REGIONS;
}

/* Distinct PAs per (thread, iova): the iova shifted by the thread id. */
static uint64_t pa_of(const struct worker *w, unsigned long iova)
{
	return iova + ((uint64_t)(w->id + 1) << 36);
}

static unsigned long page_iova(const struct worker *w, int round, int k)
{
	return round_base(w, round) + ((unsigned long)k * N_THREADS + w->id) *
	       granule(w);
}

static unsigned long region_iova(const struct worker *w, int round, int k)
{
	return round_base(w, round) + 2 * block(w) * N_THREADS * REGIONS +
	       ((unsigned long)k * N_THREADS + w->id) * block(w);
}

/* TLB callbacks that may run on any thread: atomic counters. */
struct tlb_counts {
	unsigned int flush_all;
	unsigned int walks;
	unsigned int pages;
	unsigned int bad_cookie;
};

static struct tlb_counts *counts_of(void *cookie, void *expect)
{
	struct tlb_counts *c = cookie;

	if (cookie != expect)
		__atomic_fetch_add(&c->bad_cookie, 1, __ATOMIC_RELAXED);
	return c;
}

static struct tlb_counts tlb_counts;

static void count_flush_all(void *cookie)
{
	__atomic_fetch_add(&counts_of(cookie, &tlb_counts)->flush_all, 1,
			   __ATOMIC_RELAXED);
}

static void count_flush_walk(unsigned long iova, size_t size, size_t granule,
			     void *cookie)
{
	(void)iova;
	(void)size;
	(void)granule;
	__atomic_fetch_add(&counts_of(cookie, &tlb_counts)->walks, 1,
			   __ATOMIC_RELAXED);
}

static void count_add_page(struct iopgt_iotlb_gather *gather,
			   unsigned long iova, size_t granule, void *cookie)
{
	(void)gather;
	(void)iova;
	(void)granule;
	__atomic_fetch_add(&counts_of(cookie, &tlb_counts)->pages, 1,
			   __ATOMIC_RELAXED);
}

static const struct iopgt_flush_ops counting_tlb_ops = {
	.tlb_flush_all = count_flush_all,
	.tlb_flush_walk = count_flush_walk,
	.tlb_add_page = count_add_page,
};

#define EXPECT(w, cond)                                                      \
	do {                                                                 \
		if (!(cond))                                                 \
			__atomic_fetch_add(&(w)->failures, 1,                \
					   __ATOMIC_RELAXED);                \
	} while (0)

static gpointer worker_fn(gpointer data)
{
	struct worker *w = data;
	struct iopgt_ops *ops = &w->pgt->ops;
	size_t g = granule(w), b = block(w);

	for (int r = 0; r < ROUNDS; r++) {
		/* small pages, interleaved with the other threads' */
		for (int k = 0; k < PAGES; k++) {
			unsigned long iova = page_iova(w, r, k);
			size_t mapped = 0;

			EXPECT(w, ops->map_pages(ops, iova, pa_of(w, iova), g,
						 1, RW, &mapped) == 0);
			EXPECT(w, mapped == g);
		}
		for (int k = 0; k < PAGES; k++) {
			unsigned long iova = page_iova(w, r, k);

			EXPECT(w, ops->iova_to_phys(ops, iova + 7) ==
				  pa_of(w, iova) + 7);
		}
		/* keep every fourth page until the end */
		for (int k = 0; k < PAGES; k++) {
			unsigned long iova = page_iova(w, r, k);

			if (k % 4)
				EXPECT(w, ops->unmap_pages(ops, iova, g, 1,
							   NULL) == g);
		}

		/* own regions: pages, a block over their table, unmap */
		for (int k = 0; k < REGIONS; k++) {
			unsigned long iova = region_iova(w, r, k);
			size_t mapped = 0;

			EXPECT(w, ops->map_pages(ops, iova, pa_of(w, iova), g,
						 b / g, RW, &mapped) == 0);
			EXPECT(w, mapped == b);
			EXPECT(w, ops->iova_to_phys(ops, iova + b - 1) ==
				  pa_of(w, iova) + b - 1);
			mapped = 0;
			EXPECT(w, ops->map_pages(ops, iova, pa_of(w, iova), b,
						 1, RW, &mapped) == 0);
			EXPECT(w, mapped == b);
			EXPECT(w, ops->iova_to_phys(ops, iova + 5) ==
				  pa_of(w, iova) + 5);
			if (k % 2)
				EXPECT(w, ops->unmap_pages(ops, iova, b, 1,
							   NULL) == b);
		}
	}
	return NULL;
}

static uint64_t phys(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		     unsigned long iova)
{
	return iopgt_pgtable_iova_to_phys(host, pgt, iova);
}

static void run_threads(gconstpointer data)
{
	const struct tconfig *tc = data;
	struct iopgt_host *host = iopgt_host_new();
	struct log_capture log;
	struct iopgt_cfg cfg = {
		.quirks = IO_PGTABLE_QUIRK_NO_WARN,
		.pgsize_bitmap = tc->pgsizes,
		.ias = tc->ias,
		.oas = tc->oas,
		.coherent_walk = tc->coherent,
		.tlb = &counting_tlb_ops,
	};
	struct iopgt_pgtable *pgt;
	struct worker w[N_THREADS];
	struct iopgt_mem_stats st;
	unsigned int leaves = 0;

	g_test_summary("Threads map and unmap disjoint, interleaved ranges of "
		       "one table at once; every translation holds and free "
		       "returns every byte");
	log_capture_init(&log);
	log_capture_attach(&log, host);
	tlb_counts = (struct tlb_counts){ 0 };
	g_assert_cmpint(iopgt_host_register_builtin(host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(host, tc->fmt, &cfg, &tlb_counts,
					  &pgt), ==, 0);

	for (int i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){ .pgt = pgt, .tc = tc, .id = i };
		w[i].thread = g_thread_new("lpae-worker", worker_fn, &w[i]);
	}
	for (int i = 0; i < N_THREADS; i++) {
		g_thread_join(w[i].thread);
		g_assert_cmpuint(w[i].failures, ==, 0);
	}

	/* the survivors: every fourth page, every other block */
	for (int i = 0; i < N_THREADS; i++) {
		size_t b = block(&w[i]);

		for (int r = 0; r < ROUNDS; r++) {
			for (int k = 0; k < PAGES; k += 4) {
				unsigned long iova = page_iova(&w[i], r, k);

				g_assert_cmphex(phys(host, pgt, iova), ==,
						pa_of(&w[i], iova));
				leaves++;
			}
			for (int k = 0; k < REGIONS; k++) {
				unsigned long iova = region_iova(&w[i], r, k);

				g_assert_cmphex(phys(host, pgt, iova + b / 2),
						==, k % 2 ? 0 :
						pa_of(&w[i], iova) + b / 2);
				leaves += !(k % 2);
			}
		}
	}
	{
		unsigned int n = 0;

		/* and nothing of what was unmapped */
		for (int r = 0; r < ROUNDS; r++)
			for (int k = 0; k < PAGES; k++)
				for (int i = 0; i < N_THREADS; i++)
					if (k % 4 &&
					    phys(host, pgt,
						 page_iova(&w[i], r, k)))
						n++;
		g_assert_cmpuint(n, ==, 0);
	}
	g_test_message("%u leaves survive", leaves);
	/* a block over a table flushes the walk cache once per region */
	g_assert_cmpuint(tlb_counts.walks, ==, N_THREADS * ROUNDS * REGIONS);
	g_assert_cmpuint(tlb_counts.pages, ==, 0);

	iopgt_pgtable_free(host, pgt);
	g_assert_cmpuint(tlb_counts.flush_all, ==, 1);
	g_assert_cmpuint(tlb_counts.bad_cookie, ==, 0);
	iopgt_host_get_mem_stats(host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(host));
	log_capture_clear(&log);
}

static const struct tconfig configs[] = {
	{ "/lpae/threads/s1/4k/disjoint-ranges", "arm-64-lpae-s1",
	  SZ_4K | SZ_2M | SZ_1G, 48, 48, true },
	{ "/lpae/threads/s1/4k/disjoint-ranges-noncoherent", "arm-64-lpae-s1",
	  SZ_4K | SZ_2M | SZ_1G, 48, 48, false },
	{ "/lpae/threads/s2/16k/disjoint-ranges-concatenated", "arm-64-lpae-s2",
	  SZ_16K | SZ_32M, 40, 40, true },
	{ "/lpae/threads/s2/64k/disjoint-ranges", "arm-64-lpae-s2",
	  SZ_64K | SZ_512M, 48, 48, false },
};

/* ---- reclaim (IOPGT_QUIRK_RECLAIM_TABLES) -------------------------------- */

/*
 * Every thread owns a run of pages in each of the same four tables (two
 * neighbours, one under another level-1 entry, one under another pgd
 * entry), maps it, checks it, unmaps it, again and again: tables empty
 * and go while other threads are mapping into them.  No map may ever
 * fail, no translation be lost, and at the end only the pgd is left.
 */
#define RC_ROUNDS	150
#define RC_PAGES	32		/* per thread per table */
#define RC_TABLES	4

static unsigned long rc_iova(const struct worker *w, int t, int k)
{
	size_t g = granule(w), b = block(w);
	const unsigned long base[RC_TABLES] = {
		0, b, b * (g / 8), 1UL << (w->pgt->cfg.ias - 1),
	};

	return base[t] + ((unsigned long)w->id * RC_PAGES + k) * g;
}

static gpointer rc_worker_fn(gpointer data)
{
	struct worker *w = data;
	struct iopgt_ops *ops = &w->pgt->ops;
	size_t g = granule(w);

	for (int r = 0; r < RC_ROUNDS; r++) {
		/* odd rounds: the run as one batch; even: page by page */
		size_t count = r % 2 ? RC_PAGES : 1;

		for (int t = 0; t < RC_TABLES; t++) {
			for (int k = 0; k < RC_PAGES; k += count) {
				unsigned long iova = rc_iova(w, t, k);
				size_t mapped = 0;

				EXPECT(w, ops->map_pages(ops, iova,
							 pa_of(w, iova), g,
							 count, RW,
							 &mapped) == 0);
				EXPECT(w, mapped == count * g);
			}
		}
		for (int t = 0; t < RC_TABLES; t++) {
			for (int k = 0; k < RC_PAGES; k++) {
				unsigned long iova = rc_iova(w, t, k);

				EXPECT(w, ops->iova_to_phys(ops, iova + 3) ==
					  pa_of(w, iova) + 3);
			}
		}
		for (int t = 0; t < RC_TABLES; t++) {
			for (int k = 0; k < RC_PAGES; k += count) {
				unsigned long iova = rc_iova(w, t, k);

				EXPECT(w, ops->unmap_pages(ops, iova, g, count,
							   NULL) == count * g);
				EXPECT(w, !ops->iova_to_phys(ops, iova));
			}
		}
	}
	return NULL;
}

static void run_reclaim_threads(gconstpointer data)
{
	const struct tconfig *tc = data;
	struct iopgt_host *host = iopgt_host_new();
	struct log_capture log;
	struct iopgt_cfg cfg = {
		.quirks = IO_PGTABLE_QUIRK_NO_WARN |
			  IOPGT_QUIRK_RECLAIM_TABLES,
		.pgsize_bitmap = tc->pgsizes,
		.ias = tc->ias,
		.oas = tc->oas,
		.coherent_walk = tc->coherent,
		.tlb = &counting_tlb_ops,
	};
	struct iopgt_pgtable *pgt;
	struct worker w[N_THREADS];
	struct iopgt_mem_stats st, root;

	g_test_summary("With RECLAIM_TABLES, threads map and unmap disjoint "
		       "runs of the same tables over and over: tables go and "
		       "come back under them, no map fails, no translation is "
		       "lost, and the pgd alone is left");
	log_capture_init(&log);
	log_capture_attach(&log, host);
	tlb_counts = (struct tlb_counts){ 0 };
	g_assert_cmpint(iopgt_host_register_builtin(host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(host, tc->fmt, &cfg, &tlb_counts,
					  &pgt), ==, 0);
	iopgt_pgtable_get_mem_stats(host, pgt, &root);

	for (int i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){ .pgt = pgt, .tc = tc, .id = i };
		w[i].thread = g_thread_new("lpae-reclaim", rc_worker_fn, &w[i]);
	}
	for (int i = 0; i < N_THREADS; i++)
		g_thread_join(w[i].thread);
	for (int i = 0; i < N_THREADS; i++)
		g_assert_cmpuint(w[i].failures, ==, 0);

	iopgt_pgtable_get_mem_stats(host, pgt, &st);
	g_test_message("%u walk flushes, peak %" G_GUINT64_FORMAT
		       " table bytes", tlb_counts.walks, st.peak_table_bytes);
	g_assert_cmpuint(st.table_bytes, ==, root.table_bytes);
	g_assert_cmpuint(tlb_counts.walks, >, 0);
	g_assert_cmpuint(log_capture_count(&log, "warning"), ==, 0);

	iopgt_pgtable_free(host, pgt);
	g_assert_cmpuint(tlb_counts.bad_cookie, ==, 0);
	iopgt_host_get_mem_stats(host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(host));
	log_capture_clear(&log);
}

static const struct tconfig reclaim_configs[] = {
	{ "/lpae/threads/reclaim/s1/4k/shared-tables", "arm-64-lpae-s1",
	  SZ_4K | SZ_2M | SZ_1G, 48, 48, true },
	{ "/lpae/threads/reclaim/s1/4k/shared-tables-noncoherent",
	  "arm-64-lpae-s1", SZ_4K | SZ_2M | SZ_1G, 48, 48, false },
	{ "/lpae/threads/reclaim/s2/64k/shared-tables", "arm-64-lpae-s2",
	  SZ_64K | SZ_512M, 48, 48, true },
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned int i = 0; i < G_N_ELEMENTS(configs); i++)
		g_test_add_data_func(configs[i].path, &configs[i], run_threads);
	for (unsigned int i = 0; i < G_N_ELEMENTS(reclaim_configs); i++)
		g_test_add_data_func(reclaim_configs[i].path,
				     &reclaim_configs[i], run_reclaim_threads);
	return g_test_run();
}
