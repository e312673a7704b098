// SPDX-License-Identifier: MIT
/*
 * What two threads mapping disjoint halves of one fresh table share in
 * the simulated memory, counted rather than timed: the acquisitions of
 * the buddy system's lock (host/physmem.c) per mapped page.  Each new
 * table page used to take it (LPAE: one per 512 pages, v7s: one per 1024
 * pages, four level-2 tables a page); a thread now takes 16 fresh pages
 * at once.  The wall-clock speed-up this buys is measured by
 * `iopgt-bench --threads` (docs/performance.md, "Threads"); this test
 * keeps the count from creeping back, on any machine, however busy.
 */
#include <stdatomic.h>

#include <glib.h>

#include "iopgt-internal.h"
#include "test-util.h"

#define RW	(IOMMU_READ | IOMMU_WRITE)

struct fmt_case {
	const char *module;
	const char *format;
	unsigned int bits;
	unsigned long base;
	uint64_t size;
};

static const struct fmt_case cases[] = {
	{ "io-pgtable-arm.so", "arm-64-lpae-s1", 48, 0, SZ_1G },
	{ "io-pgtable-arm.so", "arm-64-lpae-s2", 48, 0, SZ_1G },
	{ "io-pgtable-arm-v7s.so", "arm-v7s", 32, 0x10000000UL,
	  256 * SZ_1M },
};

struct half {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	_Atomic unsigned int *ready;
	unsigned long iova;
	uint64_t size;
	unsigned int bad;
};

/* Map the half as 4K pages, one a call, once both threads are here. */
static gpointer map_half(gpointer data)
{
	struct half *h = data;

	atomic_fetch_add(h->ready, 1);
	while (atomic_load(h->ready) < 2)
		;
	for (uint64_t off = 0; off < h->size; off += SZ_4K) {
		size_t mapped = 0;

		if (iopgt_pgtable_map_pages(h->host, h->pgt, h->iova + off,
					    h->iova + off, SZ_4K, 1, RW,
					    &mapped) || mapped != SZ_4K)
			h->bad++;
	}
	return NULL;
}

static void test_two_threads(gconstpointer data)
{
	const struct fmt_case *c = data;
	struct iopgt_host *host = iopgt_host_new();
	g_autofree char *path = g_build_filename(test_plugin_dir(), c->module,
						 NULL);
	struct iopgt_cfg cfg = {
		.pgsize_bitmap = SZ_4K,
		.ias = c->bits,
		.oas = c->bits,
		.coherent_walk = true,	/* no TLB callbacks: cfg.tlb NULL */
	};
	uint64_t pages = c->size / SZ_4K, locks;
	_Atomic unsigned int ready = 0;
	struct iopgt_physmem *pm;
	struct iopgt_pgtable *pgt;
	struct iopgt_plugin *p;
	struct half h[2];
	GThread *th[2];

	g_test_summary("Two threads mapping disjoint halves of one fresh "
		       "table as 4K pages take the simulated memory's lock "
		       "at most once per 4096 mapped pages");
	g_assert_cmpint(iopgt_host_load_plugin_file(host, path, &p), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(host, c->format, &cfg, NULL, &pgt),
			==, 0);
	iopgt_host_lock(host);
	g_assert_cmpint(iopgt_host_get_physmem(host, &pm), ==, 0);
	iopgt_host_unlock(host);

	locks = iopgt_physmem_lock_count(pm);
	for (int i = 0; i < 2; i++) {
		h[i] = (struct half){ .host = host, .pgt = pgt,
				      .ready = &ready,
				      .iova = c->base + i * c->size / 2,
				      .size = c->size / 2 };
		th[i] = g_thread_new("map-half", map_half, &h[i]);
	}
	for (int i = 0; i < 2; i++) {
		g_thread_join(th[i]);
		g_assert_cmpuint(h[i].bad, ==, 0);
	}
	locks = iopgt_physmem_lock_count(pm) - locks;
	g_test_message("%s: %" G_GUINT64_FORMAT " lock acquisitions for %"
		       G_GUINT64_FORMAT " pages", c->format, locks, pages);
	g_assert_cmpuint(locks, <=, pages / 4096);
	/* and the mappings are there */
	for (int i = 0; i < 2; i++) {
		unsigned long last = h[i].iova + h[i].size - SZ_4K;

		g_assert_cmphex(iopgt_pgtable_iova_to_phys(host, pgt,
							   h[i].iova + 42),
				==, h[i].iova + 42);
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(host, pgt, last),
				==, last);
	}
	iopgt_pgtable_free(host, pgt);
	iopgt_host_unref(host);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *name = g_strdup_printf(
			"/physmem/threads/%s-two-halves-lock-once-per-4096-pages",
			cases[i].format);

		g_test_add_data_func(name, &cases[i], test_two_threads);
	}
	return g_test_run();
}
