// SPDX-License-Identifier: MIT
/*
 * The v7s format used from several threads on disjoint iova ranges, the
 * io-pgtable rule.  Written to be run under ThreadSanitizer as well.
 *
 * - Shared level-1 slots: every thread maps its own 4K pages in each of
 *   the same MiBs, so all of them race to install each level-2 table; the
 *   losers must free theirs and use the winner's.
 * - Private ranges: each thread keeps allocating and freeing level-2 tables
 *   (the sub-allocator is shared) and mapping every size.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define N_THREADS	8
#define SHARED_SLOTS	32		/* MiBs every thread maps into */
#define PAGES_PER_SLOT	(256 / N_THREADS)
#define PRIVATE_BASE	(64 * SZ_1M)
#define PRIVATE_SLOTS	8		/* MiBs each thread owns */
#define SUPER_BASE	(256 * SZ_1M)	/* then 32M each, big sizes */
#define ROUNDS		20
#define CHURN		40

#define RW		(IOMMU_READ | IOMMU_WRITE)

struct shared {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	pthread_barrier_t barrier;
	bool coherent;
};

struct worker {
	struct shared *sh;
	unsigned int id;
	unsigned int failures;
};

#define check(w, cond)                                                     \
	do {                                                               \
		if (!(cond)) {                                             \
			g_printerr("thread %u: %s:%d: %s\n", (w)->id,      \
				   __FILE__, __LINE__, #cond);             \
			(w)->failures++;                                   \
		}                                                          \
	} while (0)

static uint64_t shared_pa(unsigned int id, unsigned int slot, unsigned int k)
{
	return 0x10000000ULL + ((uint64_t)id << 24) + ((uint64_t)slot << 16) +
	       ((uint64_t)k << 12);
}

static unsigned long shared_iova(unsigned int id, unsigned int slot,
				 unsigned int k)
{
	/* interleaved: neighbours in a MiB belong to different threads */
	return slot * SZ_1M + (k * N_THREADS + id) * SZ_4K;
}

static int map1(struct shared *sh, unsigned long iova, uint64_t pa,
		size_t size, size_t count)
{
	size_t mapped = 0;
	int ret = iopgt_pgtable_map_pages(sh->host, sh->pgt, iova, pa, size,
					  count, RW, &mapped);

	return ret ? ret : mapped == size * count ? 0 : -EPROTO;
}

static size_t unmap1(struct shared *sh, unsigned long iova, size_t size,
		     size_t count)
{
	return iopgt_pgtable_unmap_pages(sh->host, sh->pgt, iova, size, count,
					 NULL);
}

static uint64_t phys1(struct shared *sh, unsigned long iova)
{
	return iopgt_pgtable_iova_to_phys(sh->host, sh->pgt, iova);
}

static void shared_phase(struct worker *w)
{
	struct shared *sh = w->sh;

	for (unsigned int slot = 0; slot < SHARED_SLOTS; slot++) {
		for (unsigned int k = 0; k < PAGES_PER_SLOT; k++) {
			unsigned long iova = shared_iova(w->id, slot, k);
			uint64_t pa = shared_pa(w->id, slot, k);

			check(w, map1(sh, iova, pa, SZ_4K, 1) == 0);
		}
	}
	for (unsigned int slot = 0; slot < SHARED_SLOTS; slot++) {
		for (unsigned int k = 0; k < PAGES_PER_SLOT; k++) {
			unsigned long iova = shared_iova(w->id, slot, k);
			uint64_t pa = shared_pa(w->id, slot, k);

			check(w, phys1(sh, iova + 0x18) == pa + 0x18);
		}
	}
}

static void shared_unmap(struct worker *w)
{
	for (unsigned int slot = 0; slot < SHARED_SLOTS; slot++)
		for (unsigned int k = 0; k < PAGES_PER_SLOT; k++) {
			unsigned long iova = shared_iova(w->id, slot, k);

			check(w, unmap1(w->sh, iova, SZ_4K, 1) == SZ_4K);
			check(w, phys1(w->sh, iova) == 0);
		}
}

/* Level-2 tables come and go while the other threads do the same. */
static void private_phase(struct worker *w)
{
	struct shared *sh = w->sh;
	unsigned long base = PRIVATE_BASE + w->id * PRIVATE_SLOTS * SZ_1M;
	unsigned long big = SUPER_BASE + w->id * 2 * SZ_16M;

	for (unsigned int round = 0; round < CHURN; round++) {
		uint64_t pa = 0x80000000ULL + (uint64_t)round * SZ_16M;

		for (unsigned int s = 0; s < PRIVATE_SLOTS; s++) {
			unsigned long iova = base + s * SZ_1M;

			check(w, map1(sh, iova, pa, SZ_4K, 1) == 0);
			check(w, map1(sh, iova + SZ_64K * (1 + round % 15),
				      pa, SZ_64K, 1) == 0);
		}
		/* every other round a section replaces a table */
		for (unsigned int s = 0; s < PRIVATE_SLOTS; s++) {
			unsigned long iova = base + s * SZ_1M;
			unsigned long off = SZ_64K * (1 + round % 15);
			bool section = (s + round) % 2;

			if (section)
				check(w, map1(sh, iova, pa, SZ_1M, 1) == 0);
			check(w, phys1(sh, iova + off) ==
				 (section ? pa + off : pa));
			check(w, unmap1(sh, iova, SZ_1M, 1) == SZ_1M);
		}
		check(w, map1(sh, big, pa, SZ_16M, 1) == 0);
		check(w, map1(sh, big + SZ_16M, pa, SZ_1M, 16) == 0);
		check(w, phys1(sh, big + SZ_16M + 5 * SZ_1M + 3) ==
			 pa + 5 * SZ_1M + 3);
		check(w, unmap1(sh, big, SZ_16M, 2) == 2 * SZ_16M);
	}
}

static gpointer worker_main(gpointer data)
{
	struct worker *w = data;

	pthread_barrier_wait(&w->sh->barrier);
	shared_phase(w);
	pthread_barrier_wait(&w->sh->barrier);
	/* the main thread checks the shared tables here */
	pthread_barrier_wait(&w->sh->barrier);
	shared_unmap(w);
	private_phase(w);
	return NULL;
}

static int count_l2(void *data, uint64_t pa, const void *va, size_t size,
		    int level)
{
	unsigned int *n = data;

	(void)pa;
	(void)va;
	(void)size;
	if (level == 2)
		(*n)++;
	return 0;
}

static void run_rounds(bool coherent)
{
	static const struct iopgt_walk_ops ops = { .table = count_l2 };
	struct tlb_recorder tlb;
	struct log_capture log;
	struct shared sh = { .coherent = coherent };

	sh.host = iopgt_host_new();
	log_capture_init(&log);
	log.echo = false;
	log_capture_attach(&log, sh.host);
	tlb_recorder_init(&tlb);
	g_assert_cmpint(iopgt_host_register_builtin(sh.host, &iopgt_plugin_desc,
						    NULL), ==, 0);

	for (unsigned int round = 0; round < ROUNDS; round++) {
		struct iopgt_cfg cfg = {
			.quirks = IO_PGTABLE_QUIRK_ARM_NS,
			.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M,
			.ias = 32,
			.oas = 32,
			.coherent_walk = coherent,
			/* the recorder is not thread-safe: no TLB here */
		};
		struct worker workers[N_THREADS];
		GThread *threads[N_THREADS];
		struct iopgt_mem_stats st;
		unsigned int tables = 0;

		g_assert_cmpint(iopgt_pgtable_new(sh.host, "arm-v7s", &cfg,
						  &tlb, &sh.pgt), ==, 0);
		g_assert_cmpint(pthread_barrier_init(&sh.barrier, NULL,
						     N_THREADS + 1), ==, 0);
		for (unsigned int i = 0; i < N_THREADS; i++) {
			workers[i] = (struct worker){ .sh = &sh, .id = i };
			threads[i] = g_thread_new("v7s", worker_main,
						  &workers[i]);
		}
		pthread_barrier_wait(&sh.barrier);
		pthread_barrier_wait(&sh.barrier);

		/* one level-2 table per shared MiB: each loser freed its own */
		g_assert_cmpint(iopgt_pgtable_walk(sh.host, sh.pgt, &ops,
						   &tables), ==, 0);
		g_assert_cmpuint(tables, ==, SHARED_SLOTS);
		/*
		 * A loser's table was taken and given back, so the winners
		 * may sit in more pages than 32 / 4, never one page each.
		 */
		iopgt_pgtable_get_mem_stats(sh.host, sh.pgt, &st);
		g_assert_cmpuint(st.table_bytes, >=,
				 SZ_16K + SHARED_SLOTS / 4 * SZ_4K);
		g_assert_cmpuint(st.table_bytes, <,
				 SZ_16K + SHARED_SLOTS * SZ_4K);
		pthread_barrier_wait(&sh.barrier);

		for (unsigned int i = 0; i < N_THREADS; i++) {
			g_thread_join(threads[i]);
			g_assert_cmpuint(workers[i].failures, ==, 0);
		}
		pthread_barrier_destroy(&sh.barrier);

		/* only the emptied shared tables are left */
		tables = 0;
		g_assert_cmpint(iopgt_pgtable_walk(sh.host, sh.pgt, &ops,
						   &tables), ==, 0);
		g_assert_cmpuint(tables, ==, SHARED_SLOTS);
		for (unsigned long iova = 0; iova < 512 * SZ_1M; iova += SZ_64K)
			g_assert_cmphex(phys1(&sh, iova), ==, 0);
		iopgt_pgtable_get_mem_stats(sh.host, sh.pgt, &st);
		g_assert_cmpuint(st.table_bytes, <,
				 SZ_16K + SHARED_SLOTS * SZ_4K);
		if (coherent)
			g_assert_cmpuint(st.syncs, ==, 0);
		iopgt_pgtable_free(sh.host, sh.pgt);
	}
	g_assert_cmpuint(log_capture_count(&log, "warning:"), ==, 0);
	g_assert_cmpuint(log_capture_count(&log, "err:"), ==, 0);

	{
		struct iopgt_mem_stats st;

		iopgt_host_get_mem_stats(sh.host, &st);
		g_assert_cmpuint(st.table_bytes, ==, 0);
		g_assert_cmpuint(st.state_bytes, ==, 0);
	}
	tlb_recorder_clear(&tlb);
	g_assert_null(iopgt_host_unref(sh.host));
	log_capture_clear(&log);
}

static void test_threads_coherent(void)
{
	g_test_summary("8 threads on disjoint ranges sharing level-1 slots: "
		       "one level-2 table per MiB, every page right, no leak");
	run_rounds(true);
}

static void test_threads_non_coherent(void)
{
	g_test_summary("The same with a non-coherent walker (syncs from "
		       "every thread)");
	run_rounds(false);
}

/* ---- reclaim (IOPGT_QUIRK_RECLAIM_TABLES) -------------------------------- */

/*
 * Every thread owns interleaved 4K pages in each of the same MiBs, and
 * two 64K pages in each of the next ones, and maps, checks and unmaps
 * them again and again: level-2 tables empty and go while other threads
 * map into them.  No map may fail, no translation be lost, and at the end
 * only the level-1 table is left.
 */
#define RC_SLOTS	8
#define RC_ROUNDS	60

static unsigned int rc_walks;

static void rc_count_walk(unsigned long iova, size_t size, size_t granule,
			  void *cookie)
{
	(void)iova;
	(void)size;
	(void)granule;
	(void)cookie;
	__atomic_fetch_add(&rc_walks, 1, __ATOMIC_RELAXED);
}

static const struct iopgt_flush_ops rc_tlb_ops = {
	.tlb_flush_walk = rc_count_walk,
};

static unsigned long rc_large_iova(unsigned int id, unsigned int slot,
				   unsigned int j)
{
	return (RC_SLOTS + slot) * SZ_1M + (id * 2 + j) * SZ_64K;
}

static void rc_round(struct worker *w, bool map)
{
	struct shared *sh = w->sh;

	for (unsigned int slot = 0; slot < RC_SLOTS; slot++) {
		for (unsigned int k = 0; k < PAGES_PER_SLOT; k++) {
			unsigned long iova = shared_iova(w->id, slot, k);
			uint64_t pa = shared_pa(w->id, slot, k);

			if (map) {
				check(w, map1(sh, iova, pa, SZ_4K, 1) == 0);
				continue;
			}
			check(w, phys1(sh, iova + 9) == pa + 9);
			check(w, unmap1(sh, iova, SZ_4K, 1) == SZ_4K);
			check(w, phys1(sh, iova) == 0);
		}
		for (unsigned int j = 0; j < 2; j++) {
			unsigned long iova = rc_large_iova(w->id, slot, j);
			uint64_t pa = 0x40000000ULL + iova;

			if (map) {
				check(w, map1(sh, iova, pa, SZ_64K, 1) == 0);
				continue;
			}
			check(w, phys1(sh, iova + SZ_4K) == pa + SZ_4K);
			check(w, unmap1(sh, iova, SZ_64K, 1) == SZ_64K);
		}
	}
}

static gpointer rc_worker_main(gpointer data)
{
	struct worker *w = data;

	pthread_barrier_wait(&w->sh->barrier);
	for (unsigned int r = 0; r < RC_ROUNDS; r++) {
		rc_round(w, true);
		rc_round(w, false);
	}
	return NULL;
}

static void run_reclaim(bool coherent)
{
	struct log_capture log;
	struct shared sh = { .coherent = coherent };
	struct iopgt_cfg cfg = {
		.quirks = IO_PGTABLE_QUIRK_ARM_NS | IOPGT_QUIRK_RECLAIM_TABLES,
		.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M,
		.ias = 32,
		.oas = 32,
		.coherent_walk = coherent,
		.tlb = &rc_tlb_ops,
	};
	struct worker workers[N_THREADS];
	GThread *threads[N_THREADS];
	struct iopgt_mem_stats st;

	sh.host = iopgt_host_new();
	log_capture_init(&log);
	log.echo = false;
	log_capture_attach(&log, sh.host);
	rc_walks = 0;
	g_assert_cmpint(iopgt_host_register_builtin(sh.host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(sh.host, "arm-v7s", &cfg, NULL,
					  &sh.pgt), ==, 0);
	g_assert_cmpint(pthread_barrier_init(&sh.barrier, NULL, N_THREADS),
			==, 0);
	for (unsigned int i = 0; i < N_THREADS; i++) {
		workers[i] = (struct worker){ .sh = &sh, .id = i };
		threads[i] = g_thread_new("v7s-reclaim", rc_worker_main,
					  &workers[i]);
	}
	for (unsigned int i = 0; i < N_THREADS; i++) {
		g_thread_join(threads[i]);
		g_assert_cmpuint(workers[i].failures, ==, 0);
	}
	pthread_barrier_destroy(&sh.barrier);

	iopgt_pgtable_get_mem_stats(sh.host, sh.pgt, &st);
	g_test_message("%u walk flushes, peak %" G_GUINT64_FORMAT
		       " table bytes", rc_walks, st.peak_table_bytes);
	g_assert_cmpuint(st.table_bytes, ==, SZ_16K);
	g_assert_cmpuint(rc_walks, >, 0);
	iopgt_pgtable_free(sh.host, sh.pgt);
	g_assert_cmpuint(log_capture_count(&log, "warning:"), ==, 0);
	g_assert_cmpuint(log_capture_count(&log, "err:"), ==, 0);
	iopgt_host_get_mem_stats(sh.host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(sh.host));
	log_capture_clear(&log);
}

static void test_reclaim_coherent(void)
{
	g_test_summary("With RECLAIM_TABLES, 8 threads map and unmap disjoint "
		       "pages of the same MiBs over and over: tables go and "
		       "come back under them, every page right, the level-1 "
		       "table alone at the end");
	run_reclaim(true);
}

static void test_reclaim_non_coherent(void)
{
	g_test_summary("The same with a non-coherent walker");
	run_reclaim(false);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/v7s/threads/disjoint-ranges-share-level-2-tables",
			test_threads_coherent);
	g_test_add_func("/v7s/threads/non-coherent-disjoint-ranges",
			test_threads_non_coherent);
	g_test_add_func("/v7s/threads/reclaim/shared-tables-come-and-go",
			test_reclaim_coherent);
	g_test_add_func("/v7s/threads/reclaim/non-coherent",
			test_reclaim_non_coherent);
	return g_test_run();
}
