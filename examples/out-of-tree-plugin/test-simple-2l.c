// SPDX-License-Identifier: MIT
/*
 * /simple-2l/ tests: the example format driven through the public API of
 * libiopgt-host, as an embedder would, with recording TLB callbacks.
 *
 * The plugin is loaded from the directory "plugins" next to this binary
 * (G_TEST_BUILDDIR overrides it), where both builds of the example put
 * simple-2l.so.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#define SZ_4M		(4UL << 20)
#define RW		(IOMMU_READ | IOMMU_WRITE)

/* What the format asked of the TLB, for exact counts. */
struct tlb_log {
	unsigned int flush_all;
	unsigned int flush_walk;
	unsigned int add_page;
	unsigned long last_walk_iova;
	size_t last_walk_size;
};

static void rec_flush_all(void *cookie)
{
	((struct tlb_log *)cookie)->flush_all++;
}

static void rec_flush_walk(unsigned long iova, size_t size, size_t granule,
			   void *cookie)
{
	struct tlb_log *log = cookie;

	g_assert_cmpuint(granule, ==, SZ_4K);
	log->flush_walk++;
	log->last_walk_iova = iova;
	log->last_walk_size = size;
}

static void rec_add_page(struct iopgt_iotlb_gather *gather,
			 unsigned long iova, size_t granule, void *cookie)
{
	(void)gather;
	(void)iova;
	(void)granule;
	((struct tlb_log *)cookie)->add_page++;
}

static const struct iopgt_flush_ops rec_tlb = {
	.tlb_flush_all = rec_flush_all,
	.tlb_flush_walk = rec_flush_walk,
	.tlb_add_page = rec_add_page,
};

typedef struct {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	struct tlb_log tlb;
} Fixture;

static void fixture_setup_cfg(Fixture *f, unsigned int ias, bool coherent)
{
	g_autofree char *dir = g_test_build_filename(G_TEST_BUILT, "plugins",
						     NULL);
	struct iopgt_cfg cfg = {
		.ias = ias, .oas = 32, .coherent_walk = coherent,
		.pgsize_bitmap = SZ_4K | SZ_4M, .tlb = &rec_tlb,
	};

	f->host = iopgt_host_new();
	g_assert_nonnull(f->host);
	iopgt_host_set_log_priority(f->host, IOPGT_LOG_ERR);
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, dir), ==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), >=, 1);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "simple-2l", NULL), ==,
			0);
	g_assert_cmpint(iopgt_pgtable_new(f->host, "simple-2l", &cfg, &f->tlb,
					  &f->pgt), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
	(void)data;
	fixture_setup_cfg(f, 32, true);
}

static void fixture_setup_ias24_noncoherent(Fixture *f, gconstpointer data)
{
	(void)data;
	fixture_setup_cfg(f, 24, false);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats ms;

	(void)data;
	iopgt_pgtable_free(f->host, f->pgt);
	g_assert_cmpuint(f->tlb.flush_all, ==, 1);
	iopgt_host_get_mem_stats(f->host, &ms);
	g_assert_cmpuint(ms.table_bytes, ==, 0);
	g_assert_cmpuint(ms.state_bytes, ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "simple-2l"), ==, 0);
	g_assert_null(iopgt_host_unref(f->host));
}

static uint64_t table_bytes(Fixture *f)
{
	struct iopgt_mem_stats ms;

	iopgt_pgtable_get_mem_stats(f->host, f->pgt, &ms);
	return ms.table_bytes;
}

static void test_alloc_narrows_cfg(Fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = {
		.ias = 32, .oas = 32, .coherent_walk = true,
		.pgsize_bitmap = SZ_4K | SZ_64K | SZ_4M | SZ_1G,
	};
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_test_summary("alloc keeps only 4K and 4M of the pgsize_bitmap and "
		       "refuses quirks and address sizes it cannot do");
	g_assert_cmpint(iopgt_pgtable_new(f->host, "SIMPLE_2L", &cfg, NULL,
					  &pgt), ==, 0);
	g_assert_cmphex(pgt->cfg.pgsize_bitmap, ==, SZ_4K | SZ_4M);
	g_assert_cmphex(pgt->cfg.regs[0], ==, pgt->root_pa | 1);
	iopgt_pgtable_free(f->host, pgt);

	cfg.quirks = IO_PGTABLE_QUIRK_ARM_NS;
	g_assert_cmpint(iopgt_pgtable_new(f->host, "simple-2l", &cfg, NULL,
					  &pgt), ==, -EINVAL);
	cfg.quirks = 0;
	cfg.ias = 40;
	g_assert_cmpint(iopgt_pgtable_new(f->host, "simple-2l", &cfg, NULL,
					  &pgt), ==, -EINVAL);
}

static void test_map_page_and_block(Fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A 4K page and a 4M block translate with their offset; "
		       "a hole translates to nothing");
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x1000, 0x80001000,
					  SZ_4K, RW), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x800000,
					  0x40800000, SZ_4M, IOMMU_READ),
			==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, 0x1042),
			==, 0x80001042);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, 0xa12345),
			==, 0x40a12345);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, 0x2000),
			==, 0);
	/* level 1 and one level-2 table */
	g_assert_cmpuint(table_bytes(f), ==, 2 * SZ_4K);
}

static void test_map_overlap_is_eexist(Fixture *f, gconstpointer data)
{
	size_t mapped = 0;

	(void)data;
	g_test_summary("Mapping over a page, or a page into a block, is "
		       "-EEXIST and the old mapping stays");
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x3000, 0x3000,
					  SZ_4K, RW), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 0x2000,
						0x9000, SZ_4K, 2, RW, &mapped),
			==, -EEXIST);
	/* the first page went in before the collision */
	g_assert_cmpuint(mapped, ==, SZ_4K);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, 0x3000),
			==, 0x3000);

	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, SZ_4M, SZ_4M, SZ_4M,
					  RW), ==, 0);
	mapped = 0;
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, SZ_4M + SZ_4K,
						0, SZ_4K, 1, RW, &mapped),
			==, -EEXIST);
	g_assert_cmpuint(mapped, ==, 0);
	/* a block over a level-2 table: unmap first */
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 0, 0, SZ_4M, 1,
						RW, &mapped),
			==, -EEXIST);
}

static void test_map_beyond_ias_is_erange(Fixture *f, gconstpointer data)
{
	size_t mapped = 0;

	(void)data;
	g_test_summary("With ias 24, iovas from 16M and ranges running past "
		       "it are -ERANGE; bad sizes and alignment are -EINVAL");
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 1UL << 24, 0,
						SZ_4K, 1, RW, &mapped),
			==, -ERANGE);
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 0xc00000, 0,
						SZ_4M, 2, RW, &mapped),
			==, -ERANGE);
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 0, 0, SZ_64K,
						1, RW, &mapped),
			==, -EINVAL);
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 0x1000, 0,
						SZ_4M, 1, RW, &mapped),
			==, -EINVAL);
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 0, 0, SZ_4K,
						1, IOMMU_CACHE, &mapped),
			==, -EINVAL);
	g_assert_cmpuint(mapped, ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, SZ_4K);
}

static void test_map_partial_progress(Fixture *f, gconstpointer data)
{
	size_t mapped = 0;

	(void)data;
	g_test_summary("map_pages of 4K pages stops at the end of a level-2 "
		       "table with 0; the caller's next call does the rest");
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, 0x3fe000,
						0x10000000, SZ_4K, 4, RW,
						&mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, 2 * SZ_4K);
	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt,
						0x3fe000 + mapped,
						0x10000000 + mapped, SZ_4K, 2,
						RW, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, 4 * SZ_4K);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, 0x401042),
			==, 0x10003042);
	/* iommu_map() loops by itself */
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x7ff000, 0x7ff000,
					  3 * SZ_4K, RW), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, 4 * SZ_4K);
}

static void test_unmap_tlb_and_tables(Fixture *f, gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { 0 };

	(void)data;
	g_test_summary("unmap queues one add_page per leaf, and a level-2 "
		       "table goes with its last page after a walk flush");
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x400000, 0x400000,
					  2 * SZ_4K, RW), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x800000, 0x800000,
					  SZ_4M, RW), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, 2 * SZ_4K);

	g_assert_cmpuint(iopgt_pgtable_unmap_pages(f->host, f->pgt, 0x400000,
						   SZ_4K, 1, &gather),
			 ==, SZ_4K);
	g_assert_cmpuint(f->tlb.add_page, ==, 1);
	g_assert_cmpuint(f->tlb.flush_walk, ==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap_pages(f->host, f->pgt, 0x401000,
						   SZ_4K, 1, &gather),
			 ==, SZ_4K);
	g_assert_cmpuint(f->tlb.add_page, ==, 2);
	g_assert_cmpuint(f->tlb.flush_walk, ==, 1);
	g_assert_cmphex(f->tlb.last_walk_iova, ==, 0x400000);
	g_assert_cmphex(f->tlb.last_walk_size, ==, SZ_4M);
	g_assert_cmpuint(table_bytes(f), ==, SZ_4K);

	/* a queued gather needs no add_page: a flush_all will follow */
	gather.queued = true;
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, 0x800000, SZ_4M,
					     &gather), ==, SZ_4M);
	g_assert_cmpuint(f->tlb.add_page, ==, 2);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, 0x800000),
			==, 0);
}

static void test_unmap_refusals(Fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Unmapping a hole or part of a block returns 0 and "
		       "keeps the block; a 4M unmap takes a whole level-2 "
		       "table");
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, 0, SZ_4K, NULL),
			 ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0, 0, SZ_4M, RW),
			==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, SZ_4K, SZ_4K,
					     NULL), ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, SZ_4K), ==,
			SZ_4K);

	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, SZ_4M + SZ_4K,
					  SZ_4K, 8 * SZ_4K, RW), ==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, SZ_4M, SZ_4M,
					     NULL), ==, SZ_4M);
	g_assert_cmpuint(f->tlb.flush_walk, ==, 1);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt,
						   SZ_4M + SZ_4K), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, SZ_4K);
}

static void test_noncoherent_syncs(Fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats before, after;

	(void)data;
	g_test_summary("A non-coherent walker gets a dma_sync after each "
		       "table write: new table, its pointer, the pages");
	iopgt_pgtable_get_mem_stats(f->host, f->pgt, &before);
	g_assert_cmpuint(before.syncs, ==, 1);	/* the level-1 table */
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0, 0, 4 * SZ_4K,
					  RW), ==, 0);
	iopgt_pgtable_get_mem_stats(f->host, f->pgt, &after);
	g_assert_cmpuint(after.syncs - before.syncs, ==, 3);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, 0, 4 * SZ_4K,
					     NULL), ==, 4 * SZ_4K);
	iopgt_pgtable_get_mem_stats(f->host, f->pgt, &before);
	/* four leaves, then the level-1 entry of the emptied table */
	g_assert_cmpuint(before.syncs - after.syncs, ==, 5);
}

/* ---- walk ---------------------------------------------------------------- */

struct walk_count {
	unsigned int tables;
	unsigned int leaves;
	unsigned int table_entries;
	size_t leaf_bytes;
};

static int count_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	(void)pa;
	(void)va;
	(void)level;
	g_assert_cmpuint(size, ==, SZ_4K);
	((struct walk_count *)data)->tables++;
	return 0;
}

static int count_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct walk_count *c = data;

	if (e->kind == IOPGT_ENTRY_TABLE) {
		c->table_entries++;
	} else {
		c->leaves++;
		c->leaf_bytes += e->size;
	}
	return 0;
}

static void test_walk_sees_every_entry(Fixture *f, gconstpointer data)
{
	const struct iopgt_walk_ops visit = {
		.table = count_table, .entry = count_entry,
	};
	struct walk_count c = { 0 };

	(void)data;
	g_test_summary("walk visits both tables and every valid entry once");
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x1000, 0x1000,
					  3 * SZ_4K, RW), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0xc00000, 0xc00000,
					  2 * SZ_4M, RW), ==, 0);
	g_assert_cmpint(iopgt_pgtable_walk(f->host, f->pgt, &visit, &c), ==, 0);
	g_assert_cmpuint(c.tables, ==, 2);
	g_assert_cmpuint(c.table_entries, ==, 1);
	g_assert_cmpuint(c.leaves, ==, 5);
	g_assert_cmpuint(c.leaf_bytes, ==, 3 * SZ_4K + 2 * SZ_4M);
}

static void test_unmap_null_gather(Fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("pgtable.h's rule: no gather, no tlb_add_page (the "
		       "caller invalidates by other means); the pages go all "
		       "the same");
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, 0x400000, 0x400000,
					  2 * SZ_4K, RW), ==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap_pages(f->host, f->pgt, 0x400000,
						   SZ_4K, 2, NULL),
			 ==, 2 * SZ_4K);
	g_assert_cmpuint(f->tlb.add_page, ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, f->pgt, 0x401000),
			==, 0);
}

struct said {
	unsigned int warnings;
	char last[256];
};

static void said_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	struct said *s = data;

	(void)file;
	(void)line;
	(void)fn;
	if (priority != IOPGT_LOG_WARNING)
		return;
	s->warnings++;
	g_vsnprintf(s->last, sizeof(s->last), format, args);
}

static void test_alloc_refusal_says_why(Fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = {
		.ias = 40, .oas = 32, .pgsize_bitmap = SZ_4K | SZ_4M,
	};
	struct iopgt_pgtable *pgt = NULL;
	static struct said said;

	(void)data;
	g_test_summary("A refused alloc says why as a warning, which the host "
		       "passes on as the reason of the failed call");
	iopgt_host_set_log_fn(f->host, said_log, &said);
	iopgt_host_set_log_priority(f->host, IOPGT_LOG_WARNING);
	g_assert_cmpint(iopgt_pgtable_new(f->host, "simple-2l", &cfg, NULL,
					  &pgt), ==, -EINVAL);
	g_assert_cmpuint(said.warnings, >=, 1);
	g_assert_nonnull(strstr(said.last, "simple-2l: alloc: ias 40 or oas 32 "
					    "is not in [22, 32]"));
	iopgt_host_set_log_priority(f->host, IOPGT_LOG_ERR);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn, setup) \
	g_test_add(path, Fixture, NULL, setup, fn, fixture_teardown)
	ADD("/simple-2l/alloc/narrows-cfg", test_alloc_narrows_cfg,
	    fixture_setup);
	ADD("/simple-2l/map/page-and-block", test_map_page_and_block,
	    fixture_setup);
	ADD("/simple-2l/map/overlap-is-eexist", test_map_overlap_is_eexist,
	    fixture_setup);
	ADD("/simple-2l/map/beyond-ias-is-erange",
	    test_map_beyond_ias_is_erange, fixture_setup_ias24_noncoherent);
	ADD("/simple-2l/map/partial-progress", test_map_partial_progress,
	    fixture_setup);
	ADD("/simple-2l/unmap/tlb-and-tables", test_unmap_tlb_and_tables,
	    fixture_setup);
	ADD("/simple-2l/unmap/refusals", test_unmap_refusals, fixture_setup);
	ADD("/simple-2l/unmap/null-gather-no-add-page", test_unmap_null_gather,
	    fixture_setup);
	ADD("/simple-2l/alloc/refusal-says-why", test_alloc_refusal_says_why,
	    fixture_setup);
	ADD("/simple-2l/noncoherent/syncs", test_noncoherent_syncs,
	    fixture_setup_ias24_noncoherent);
	ADD("/simple-2l/walk/sees-every-entry", test_walk_sees_every_entry,
	    fixture_setup);
#undef ADD
	return g_test_run();
}

