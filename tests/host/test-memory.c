// SPDX-License-Identifier: MIT
/*
 * Page tables in the caller's memory (issue 14): every table below 2^oas,
 * region and custom memory providers, and the DMA-sync hook's order.
 *
 * The bundled LPAE and v7s plugins are loaded from the build's plugin
 * directory; tables are checked through the walk (each table's PA and
 * size) and the root register value, never through format internals.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

#define RW	(IOMMU_READ | IOMMU_WRITE)

struct fixture {
	struct iopgt_host *host;
	struct log_capture log;
};

static void setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->host = iopgt_host_new();
	g_assert_nonnull(f->host);
	log_capture_init(&f->log);
	log_capture_attach(&f->log, f->host);
	for (int i = 0; i < 2; i++) {
		static const char *const files[] = {
			"io-pgtable-arm.so", "io-pgtable-arm-v7s.so",
		};
		char *path = g_build_filename(test_plugin_dir(), files[i],
					      NULL);

		g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path,
							    NULL), ==, 0);
		g_free(path);
	}
}

static void teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_cmpint(iopgt_host_get_table_count(f->host), ==, 0);
	g_assert_null(iopgt_host_unref(f->host));
	log_capture_clear(&f->log);
}

#define add_test(path, fn) \
	g_test_add((path), struct fixture, NULL, setup, (fn), teardown)

/* Anonymous memory standing in for a caller's region (an mmap'd memfd). */
static void *region_mem(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	g_assert_true(p != MAP_FAILED);
	/* garbage, as a caller's memory may hold: tables must come zeroed */
	memset(p, 0xa5, size);
	return p;
}

/* ---- walking ------------------------------------------------------------- */

struct table_rec {
	uint64_t pa;
	const void *va;
	size_t size;
	int level;
};

static int collect_table(void *data, uint64_t pa, const void *va,
			 size_t size, int level)
{
	struct table_rec r = { pa, va, size, level };

	g_array_append_val((GArray *)data, r);
	return 0;
}

static GArray *tables_of(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	static const struct iopgt_walk_ops ops = { .table = collect_table };
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct table_rec));

	g_assert_cmpint(iopgt_pgtable_walk(host, pgt, &ops, a), ==, 0);
	return a;
}

/* Every table lies in [lo, hi) and the first is the root. */
static void assert_tables_within(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt, uint64_t lo,
				 uint64_t hi, guint n)
{
	GArray *a = tables_of(host, pgt);

	g_assert_cmpuint(a->len, ==, n);
	g_assert_cmphex(g_array_index(a, struct table_rec, 0).pa, ==,
			pgt->root_pa);
	for (guint i = 0; i < a->len; i++) {
		struct table_rec *r = &g_array_index(a, struct table_rec, i);

		g_assert_cmphex(r->pa, >=, lo);
		g_assert_cmphex(r->pa + r->size, <=, hi);
		g_assert_cmphex(r->pa & (r->size - 1), ==, 0);
	}
	g_array_unref(a);
}

/* ---- reachability ---------------------------------------------------------- */

struct reach_case {
	const char *format;
	unsigned long quirks;
	unsigned int ias, oas;
	unsigned long pgsizes;
	unsigned long stride;	/* iova step that needs a new last-level table */
};

static const struct reach_case reach_cases[] = {
	{ "arm-64-lpae-s1", 0, 32, 32, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-64-lpae-s1", 0, 48, 48, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-64-lpae-s2", 0, 32, 32, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-64-lpae-s2", 0, 40, 40, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-64-lpae-s2", 0, 48, 48, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-32-lpae-s1", 0, 32, 32, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-32-lpae-s1", 0, 32, 40, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-32-lpae-s2", 0, 32, 32, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-32-lpae-s2", 0, 40, 40, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-mali-lpae", 0, 32, 32, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-mali-lpae", 0, 40, 40, SZ_4K | SZ_2M, SZ_2M },
	{ "arm-v7s", 0, 32, 32, SZ_4K | SZ_1M, SZ_1M },
	{ "arm-v7s", IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS |
		     IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT, 32, 33,
	  SZ_4K | SZ_1M, SZ_1M },
	{ "arm-v7s", IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS |
		     IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT, 34, 35,
	  SZ_4K | SZ_1M, SZ_1M },
};

static struct iopgt_cfg reach_cfg(const struct reach_case *c, bool coherent)
{
	return (struct iopgt_cfg){
		.quirks = c->quirks,
		.pgsize_bitmap = c->pgsizes,
		.ias = c->ias,
		.oas = c->oas,
		.coherent_walk = coherent,
	};
}

/* 8 pages, each in its own last-level table, spread over the iova space */
static unsigned long reach_iova(const struct reach_case *c, unsigned int i)
{
	unsigned long top = c->ias >= 64 ? ~0UL : (1UL << c->ias) - 1;

	return ((top / 8) * i) & ~(c->stride - 1);
}

static void test_reach_every_format(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Every format at its smallest and largest oas: each "
		       "table (pgd included) and the root register lie below "
		       "2^oas, in the default simulated memory");
	for (gsize k = 0; k < G_N_ELEMENTS(reach_cases); k++) {
		const struct reach_case *c = &reach_cases[k];
		struct iopgt_cfg cfg = reach_cfg(c, true);
		struct iopgt_pgtable *pgt;
		uint64_t limit = 1ULL << c->oas;
		GArray *a;

		g_test_message("%s ias %u oas %u", c->format, c->ias, c->oas);
		g_assert_cmpint(iopgt_pgtable_new(f->host, c->format, &cfg,
						  NULL, &pgt), ==, 0);
		g_assert_cmphex(pgt->root_pa, <, limit);
		if (!strcmp(c->format, "arm-64-lpae-s1") ||
		    !strcmp(c->format, "arm-32-lpae-s1"))
			g_assert_cmphex(cfg.arm_lpae_s1_cfg.ttbr, <, limit);
		for (unsigned int i = 0; i < 8; i++)
			g_assert_cmpint(iopgt_pgtable_map(f->host, pgt,
							  reach_iova(c, i),
							  0x1000, SZ_4K, RW),
					==, 0);
		a = tables_of(f->host, pgt);
		g_assert_cmpuint(a->len, >=, 2);
		assert_tables_within(f->host, pgt, 0, limit, a->len);
		g_array_unref(a);
		iopgt_pgtable_free(f->host, pgt);
	}
}

static void test_reach_demo_root(struct fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = { .ias = 32, .oas = 32,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	struct iopgt_pgtable *pgt;

	(void)data;
	g_test_summary("alloc t arm-64-lpae-s1 ias=32 oas=32 has its root in "
		       "the DMA32 zone (it was 0x440000000); oas 48 keeps "
		       "today's address");
	g_assert_cmpint(iopgt_pgtable_new(f->host, "arm-64-lpae-s1", &cfg,
					  NULL, &pgt), ==, 0);
	g_assert_cmphex(cfg.arm_lpae_s1_cfg.ttbr, ==, 0xc0000000);
	iopgt_pgtable_free(f->host, pgt);
	cfg = (struct iopgt_cfg){ .ias = 48, .oas = 48,
				  .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				  .coherent_walk = true };
	g_assert_cmpint(iopgt_pgtable_new(f->host, "arm-64-lpae-s1", &cfg,
					  NULL, &pgt), ==, 0);
	g_assert_cmphex(cfg.arm_lpae_s1_cfg.ttbr, ==, 0x440000000);
	iopgt_pgtable_free(f->host, pgt);
}

static void test_reach_enomem(struct fixture *f, gconstpointer data)
{
	size_t size = 64 * SZ_4K;
	void *mem = region_mem(size);
	/* three pages below 4 GiB, the rest above */
	uint64_t pa = 0x100000000ULL - 3 * SZ_4K;
	struct iopgt_cfg cfg = { .ias = 32, .oas = 32,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	struct iopgt_mem_provider *p;
	struct iopgt_mem_provider_stats st;
	struct iopgt_pgtable *pgt;
	char *before, *after;

	(void)data;
	g_test_summary("Memory that runs out below 2^oas: alloc and map are "
		       "-ENOMEM, said once each, the table unchanged");
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, mem, pa, size,
						      &p), ==, 0);
	/* pgd, one level-2 and one level-3 table fill what is below 4 GiB */
	g_assert_cmpint(iopgt_pgtable_new_in(f->host, p, "arm-64-lpae-s1",
					     &cfg, NULL, &pgt), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, pgt, 0, 0x1000, SZ_4K, RW),
			==, 0);
	assert_tables_within(f->host, pgt, pa, 1ULL << 32, 3);
	before = walk_to_text(f->host, pgt);
	g_assert_cmpint(iopgt_pgtable_map(f->host, pgt, SZ_1G, 0x1000, SZ_4K,
					  RW), ==, -ENOMEM);
	after = walk_to_text(f->host, pgt);
	g_assert_cmpstr(after, ==, before);
	g_assert_cmpuint(log_capture_count(&f->log, "warning: no table memory "
					   "below 2^32 for a 4096-byte table"),
			 ==, 1);
	g_assert_cmpint(iopgt_pgtable_new_in(f->host, p, "arm-64-lpae-s1",
					     &cfg, NULL, &(struct iopgt_pgtable *){ NULL }),
			==, -ENOMEM);
	g_assert_cmpuint(log_capture_count(&f->log, "no table memory below "
					   "2^32"), ==, 2);
	/* oas 36 reaches the pages above 4 GiB */
	iopgt_pgtable_free(f->host, pgt);
	iopgt_mem_provider_get_stats(p, &st);
	g_assert_cmpuint(st.bytes, ==, 0);
	g_assert_cmpuint(st.blocks, ==, 0);
	g_assert_cmpuint(st.refused, ==, 2);
	g_assert_null(iopgt_mem_provider_unref(p));
	g_free(before);
	g_free(after);
	munmap(mem, size);
}

/* ---- region providers -------------------------------------------------------- */

struct region {
	void *va;
	uint64_t pa;
	size_t size;
	struct iopgt_mem_provider *p;
};

static void region_new(struct fixture *f, struct region *r, uint64_t pa,
		       size_t size)
{
	r->va = region_mem(size);
	r->pa = pa;
	r->size = size;
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, r->va, pa, size,
						      &r->p), ==, 0);
}

static void region_free(struct region *r)
{
	g_assert_null(iopgt_mem_provider_unref(r->p));
	munmap(r->va, r->size);
}

/* The leaf descriptor of iova read through the region's own mapping. */
static uint64_t leaf_in_region(struct iopgt_host *host,
			       struct iopgt_pgtable *pgt, struct region *r,
			       int level)
{
	GArray *a = tables_of(host, pgt);
	struct table_rec *t = NULL;
	uint64_t v;

	for (guint i = 0; i < a->len; i++)
		if (g_array_index(a, struct table_rec, i).level == level)
			t = &g_array_index(a, struct table_rec, i);
	g_assert_nonnull(t);
	g_assert_true(t->va == (uint8_t *)r->va + (t->pa - r->pa));
	memcpy(&v, (uint8_t *)r->va + (t->pa - r->pa), sizeof(v));
	g_array_unref(a);
	return v;
}

static void region_table(struct fixture *f, uint64_t pa, unsigned int oas)
{
	struct iopgt_cfg cfg = { .ias = 32, .oas = oas,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	struct iopgt_pgtable *pgt;
	struct region r;

	region_new(f, &r, pa, SZ_1M);
	g_assert_cmpint(iopgt_pgtable_new_in(f->host, r.p, "arm-64-lpae-s1",
					     &cfg, NULL, &pgt), ==, 0);
	g_assert_cmphex(cfg.arm_lpae_s1_cfg.ttbr, >=, pa);
	g_assert_cmphex(cfg.arm_lpae_s1_cfg.ttbr, <, pa + SZ_1M);
	g_assert_cmpint(iopgt_pgtable_map(f->host, pgt, 0x1000, 0x12345000,
					  SZ_4K, RW), ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, pgt, 0x1234), ==,
			0x12345234);
	assert_tables_within(f->host, pgt, pa, pa + SZ_1M, 3);
	/* the leaf is in the caller's memory at its PA: slot 1 of level 3 */
	g_assert_cmphex(leaf_in_region(f->host, pgt, &r, 3) & ~0xfffULL, ==,
			0);
	{
		GArray *a = tables_of(f->host, pgt);
		struct table_rec *t = &g_array_index(a, struct table_rec, 2);
		uint64_t v;

		memcpy(&v, (uint8_t *)r.va + (t->pa - r.pa) + 8, sizeof(v));
		g_assert_cmphex(v & 0xfffffffff000ULL, ==, 0x12345000);
		g_assert_cmphex(v & 3, ==, 3);
		g_array_unref(a);
	}
	iopgt_pgtable_free(f->host, pgt);
	region_free(&r);
}

static void test_region_unusual_pa(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Tables in a caller's region at PA 0x8_0000_0000 and "
		       "at 0x1000: registers, walk and the leaf read back "
		       "through the caller's mapping");
	region_table(f, 0x800000000ULL, 40);
	region_table(f, 0x1000, 32);
}

static void test_region_two(struct fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = { .ias = 32, .oas = 40,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	struct iopgt_pgtable *t1, *t2;
	struct region a, b;

	(void)data;
	g_test_summary("Two regions, two providers: each table's memory all "
		       "comes from its own");
	region_new(f, &a, 0x100000000ULL, SZ_1M);
	region_new(f, &b, 0x200000000ULL, SZ_1M);
	g_assert_cmpint(iopgt_pgtable_new_in(f->host, a.p, "arm-64-lpae-s1",
					     &cfg, NULL, &t1), ==, 0);
	/* and b as the host's default */
	g_assert_cmpint(iopgt_host_set_mem_provider(f->host, b.p), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(f->host, "arm-64-lpae-s1", &cfg,
					  NULL, &t2), ==, 0);
	for (unsigned long i = 0; i < 4; i++) {
		g_assert_cmpint(iopgt_pgtable_map(f->host, t1, i * SZ_1G, 0,
						  SZ_4K, RW), ==, 0);
		g_assert_cmpint(iopgt_pgtable_map(f->host, t2, i * SZ_1G, 0,
						  SZ_4K, RW), ==, 0);
	}
	assert_tables_within(f->host, t1, a.pa, a.pa + SZ_1M, 9);
	assert_tables_within(f->host, t2, b.pa, b.pa + SZ_1M, 9);
	iopgt_pgtable_free(f->host, t1);
	iopgt_pgtable_free(f->host, t2);
	/* b going takes itself off the host: the simulated memory again */
	region_free(&b);
	g_assert_cmpint(iopgt_pgtable_new(f->host, "arm-64-lpae-s1", &cfg,
					  NULL, &t2), ==, 0);
	g_assert_cmphex(t2->root_pa, ==, 0x440000000ULL);
	iopgt_pgtable_free(f->host, t2);
	region_free(&a);
}

static void test_region_refusals(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_provider *p = NULL;
	struct region r;
	uint8_t *mem = region_mem(SZ_1M);

	(void)data;
	g_test_summary("A region below 16 KiB, unaligned in va or pa, or "
		       "overlapping another is -EINVAL with the reason");
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, mem, 0x10000,
						      3 * SZ_4K, &p), ==,
			-EINVAL);
	g_assert_cmpuint(log_capture_count(&f->log, "err: memory region "
					   "[0x10000, +0x3000) refused: 12288 "
					   "bytes is smaller than 16 KiB"),
			 ==, 1);
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, mem + 8,
						      0x10000, SZ_64K, &p),
			==, -EINVAL);
	g_assert_cmpuint(log_capture_count(&f->log, "is not 4 KiB aligned"),
			 ==, 1);
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, mem, 0x10800,
						      SZ_64K, &p), ==, -EINVAL);
	g_assert_cmpuint(log_capture_count(&f->log, "refused: pa 0x10800 is "
					   "not 4 KiB aligned"), ==, 1);
	region_new(f, &r, 0x100000, SZ_64K);
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, mem, 0x10F000,
						      SZ_64K, &p), ==, -EINVAL);
	g_assert_cmpuint(log_capture_count(&f->log, "err: memory region "
					   "[0x10f000, +0x10000) refused: it "
					   "overlaps region [0x100000, "
					   "0x110000)"), ==, 1);
	g_assert_null(p);
	/* right after it is fine */
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, mem, 0x110000,
						      SZ_64K, &p), ==, 0);
	g_assert_null(iopgt_mem_provider_unref(p));
	region_free(&r);
	munmap(mem, SZ_1M);
}

/* ---- custom providers -------------------------------------------------------- */

/* The caller's allocator: aligned heap blocks, va == pa (pa_to_va 0). */
struct custom {
	unsigned int calls;
	unsigned int fail_at;		/* 0: never */
	unsigned int live;
	unsigned int releases;
};

static void *custom_alloc(void *data, size_t size, size_t align,
			  uint64_t max_pa, uint64_t *pa)
{
	struct custom *c = data;
	void *va;

	if (++c->calls == c->fail_at)
		return NULL;
	va = g_aligned_alloc(1, size, align);
	if ((uintptr_t)va + size - 1 > max_pa) {
		g_aligned_free(va);
		return NULL;
	}
	c->live++;
	*pa = (uintptr_t)va;
	return va;
}

static void custom_free(void *data, void *va, uint64_t pa, size_t size)
{
	struct custom *c = data;

	(void)size;
	g_assert_cmphex(pa, ==, (uintptr_t)va);
	c->live--;
	g_aligned_free(va);
}

static void custom_release(void *data)
{
	((struct custom *)data)->releases++;
}

static const struct iopgt_mem_provider_ops custom_ops = {
	.alloc = custom_alloc,
	.free = custom_free,
	.release = custom_release,
};

/*
 * A random workload on a fresh table from p: maps (some fail with
 * -ENOMEM), then unmaps half.  Checks every page against what succeeded.
 * Returns: the number of failed calls (alloc counts as one).
 */
static unsigned int workload(struct fixture *f, struct iopgt_mem_provider *p)
{
	struct iopgt_cfg cfg = { .ias = 48, .oas = 48,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	GRand *rand = g_rand_new_with_seed(14);
	unsigned long iovas[24];
	bool mapped[24];
	struct iopgt_pgtable *pgt;
	unsigned int failed = 0;
	int ret;

	ret = iopgt_pgtable_new_in(f->host, p, "arm-64-lpae-s1", &cfg, NULL,
				   &pgt);
	if (ret) {
		g_assert_cmpint(ret, ==, -ENOMEM);
		g_rand_free(rand);
		return 1;
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i++) {
		iovas[i] = ((unsigned long)g_rand_int_range(rand, 0, 1 << 20)
			    << 28) | ((unsigned long)i << 12);
		ret = iopgt_pgtable_map(f->host, pgt, iovas[i],
					0x40000000UL + i * SZ_4K, SZ_4K, RW);
		g_assert_true(ret == 0 || ret == -ENOMEM);
		mapped[i] = !ret;
		failed += !!ret;
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i++)
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, pgt,
							   iovas[i]), ==,
				mapped[i] ? 0x40000000UL + i * SZ_4K : 0);
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i += 2)
		if (mapped[i])
			g_assert_cmpuint(iopgt_pgtable_unmap(f->host, pgt,
							     iovas[i], SZ_4K,
							     NULL), ==, SZ_4K);
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i++)
		g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, pgt,
							   iovas[i]), ==,
				mapped[i] && i % 2 ?
				0x40000000UL + i * SZ_4K : 0);
	iopgt_pgtable_free(f->host, pgt);
	g_rand_free(rand);
	return failed;
}

static void test_custom_fail_nth(struct fixture *f, gconstpointer data)
{
	struct custom c = { 0 };
	struct iopgt_mem_provider *p;
	struct iopgt_mem_provider_stats st;
	unsigned int total;

	(void)data;
	g_test_summary("A custom allocator failing on its Nth call, for every "
		       "N of a random workload: the table stays consistent and "
		       "every block comes back");
	g_assert_cmpint(iopgt_mem_provider_new_custom(f->host, &custom_ops, &c,
						      0, &p), ==, 0);
	g_assert_cmpuint(workload(f, p), ==, 0);
	total = c.calls;
	g_assert_cmpuint(total, >, 20);
	for (unsigned int n = 1; n <= total; n++) {
		c.calls = 0;
		c.fail_at = n;
		g_assert_cmpuint(workload(f, p), ==, 1);
		g_assert_cmpuint(c.live, ==, 0);
		iopgt_mem_provider_get_stats(p, &st);
		g_assert_cmpuint(st.bytes, ==, 0);
		g_assert_cmpuint(st.blocks, ==, 0);
		g_assert_cmpuint(st.refused, ==, n);
	}
	g_assert_cmpint(iopgt_mem_provider_get_refcount(p), ==, 1);
	g_assert_null(iopgt_mem_provider_unref(p));
	g_assert_cmpuint(c.releases, ==, 1);
}

static void test_custom_shared(struct fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = { .ias = 48, .oas = 48,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	struct custom c = { 0 };
	struct iopgt_mem_provider *p;
	struct iopgt_pgtable *t1, *t2;

	(void)data;
	g_test_summary("A provider shared by two tables outlives the caller's "
		       "reference until the last table goes");
	g_assert_cmpint(iopgt_mem_provider_new_custom(f->host, &custom_ops, &c,
						      0, &p), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new_in(f->host, p, "arm-64-lpae-s1",
					     &cfg, NULL, &t1), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new_in(f->host, p, "arm-64-lpae-s1",
					     &cfg, NULL, &t2), ==, 0);
	/* the caller's and one per block (two pgds) */
	g_assert_cmpint(iopgt_mem_provider_get_refcount(p), ==, 3);
	g_assert_nonnull(iopgt_mem_provider_unref(p));
	g_assert_cmpint(iopgt_pgtable_map(f->host, t1, 0, 0x1000, SZ_4K, RW),
			==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, t2, 0, 0x2000, SZ_4K, RW),
			==, 0);
	/* four levels each */
	g_assert_cmpuint(c.live, ==, 8);
	iopgt_pgtable_free(f->host, t1);
	g_assert_cmpuint(c.releases, ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(f->host, t2, 0), ==, 0x2000);
	iopgt_pgtable_free(f->host, t2);
	g_assert_cmpuint(c.live, ==, 0);
	g_assert_cmpuint(c.releases, ==, 1);
}

static void test_custom_broken_promise(struct fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = { .ias = 48, .oas = 48,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	struct custom c = { 0 };
	struct iopgt_mem_provider *p;
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_test_summary("A block not at pa + pa_to_va is given back and "
		       "refused: -ENOMEM, said");
	g_assert_cmpint(iopgt_mem_provider_new_custom(f->host, &custom_ops, &c,
						      4096, &p), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new_in(f->host, p, "arm-64-lpae-s1",
					     &cfg, NULL, &pgt), ==, -ENOMEM);
	g_assert_cmpuint(log_capture_count(&f->log, "or not at pa + "
					   "pa_to_va"), ==, 1);
	g_assert_cmpuint(c.live, ==, 0);
	g_assert_null(iopgt_mem_provider_unref(p));
}

/* ---- threads ----------------------------------------------------------------- */

struct worker {
	struct fixture *f;
	struct iopgt_pgtable *pgt;
	unsigned long base;
};

static gpointer worker_run(gpointer data)
{
	struct worker *w = data;

	for (unsigned long i = 0; i < 512; i++) {
		unsigned long iova = w->base + i * SZ_2M;

		g_assert_cmpint(iopgt_pgtable_map(w->f->host, w->pgt, iova,
						  iova, SZ_4K, RW), ==, 0);
	}
	for (unsigned long i = 0; i < 512; i++) {
		unsigned long iova = w->base + i * SZ_2M;

		g_assert_cmphex(iopgt_pgtable_iova_to_phys(w->f->host, w->pgt,
							   iova), ==, iova);
		g_assert_cmpuint(iopgt_pgtable_unmap(w->f->host, w->pgt, iova,
						     SZ_4K, NULL), ==, SZ_4K);
	}
	return NULL;
}

static void test_region_threads(struct fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = { .ias = 40, .oas = 40,
				 .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
				 .coherent_walk = true };
	struct iopgt_pgtable *pgt[2];
	struct worker w[4];
	GThread *th[4];
	struct region r;
	struct iopgt_mem_provider_stats st;

	(void)data;
	g_test_summary("Four threads map disjoint ranges of two tables from "
		       "one region");
	region_new(f, &r, 0x800000000ULL, 16 * SZ_1M);
	for (int t = 0; t < 2; t++)
		g_assert_cmpint(iopgt_pgtable_new_in(f->host, r.p,
						     "arm-64-lpae-s1", &cfg,
						     NULL, &pgt[t]), ==, 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ f, pgt[i % 2],
					(unsigned long)(i / 2) << 36 };
		th[i] = g_thread_new("map", worker_run, &w[i]);
	}
	for (int i = 0; i < 4; i++)
		g_thread_join(th[i]);
	for (int t = 0; t < 2; t++)
		iopgt_pgtable_free(f->host, pgt[t]);
	iopgt_mem_provider_get_stats(r.p, &st);
	g_assert_cmpuint(st.blocks, ==, 0);
	region_free(&r);
}

/* ---- DMA sync ------------------------------------------------------------------ */

struct sync_rec {
	const void *va;
	uint64_t pa;
	size_t size;
};

struct sync_log {
	GArray *syncs;			/* struct sync_rec */
	uint64_t pa_to_va;
	unsigned int bad_va;
};

static void record_sync(void *data, const void *va, uint64_t pa, size_t size)
{
	struct sync_log *l = data;
	struct sync_rec r = { va, pa, size };

	g_array_append_val(l->syncs, r);
}

/* Index of the first sync covering [pa, pa + size), or -1. */
static int first_sync(struct sync_log *l, uint64_t pa, size_t size, int from)
{
	for (guint i = from; i < l->syncs->len; i++) {
		struct sync_rec *r = &g_array_index(l->syncs, struct sync_rec, i);

		if (r->pa <= pa && pa + size <= r->pa + r->size)
			return (int)i;
	}
	return -1;
}

struct order_walk {
	struct sync_log *log;
	size_t desc;			/* descriptor size */
	GArray *stack;			/* table PAs, innermost last */
	unsigned int checked;
};

static int order_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	struct order_walk *o = data;

	(void)va;
	(void)level;
	(void)size;
	g_array_append_val(o->stack, pa);
	return 0;
}

static int order_table_end(void *data, uint64_t pa, int level)
{
	struct order_walk *o = data;

	(void)pa;
	(void)level;
	g_array_set_size(o->stack, o->stack->len - 1);
	return 0;
}

/* A TABLE entry: the child's zeroes were synced before the entry was. */
static int order_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct order_walk *o = data;
	uint64_t parent = g_array_index(o->stack, uint64_t, o->stack->len - 1);
	uint64_t entry_pa = parent + (uint64_t)e->index * o->desc;
	int child, entry;

	if (e->kind != IOPGT_ENTRY_TABLE)
		return 0;
	/* the smallest table of the formats: a v7s L2 of 1 KiB */
	child = first_sync(o->log, e->oa, SZ_1K, 0);
	g_assert_cmpint(child, >=, 0);
	entry = first_sync(o->log, entry_pa, o->desc, child + 1);
	g_assert_cmpint(entry, >, child);
	o->checked++;
	return 0;
}

static void test_sync_order(struct fixture *f, gconstpointer data)
{
	struct sync_log l = { 0 };

	(void)data;
	g_test_summary("Non-coherent tables of every format: the hook sees "
		       "each sync with its pa; a new table is synced before "
		       "the entry that points to it; an unmap syncs the leaf");
	l.syncs = g_array_new(FALSE, FALSE, sizeof(struct sync_rec));
	iopgt_host_set_dma_sync_fn(f->host, record_sync, &l);
	for (gsize k = 0; k < G_N_ELEMENTS(reach_cases); k++) {
		const struct reach_case *c = &reach_cases[k];
		struct iopgt_cfg cfg = reach_cfg(c, false);
		static const struct iopgt_walk_ops ops = {
			.table = order_table,
			.entry = order_entry,
			.table_end = order_table_end,
		};
		struct order_walk o = { &l, 8, NULL, 0 };
		struct iopgt_mem_stats ms;
		struct iopgt_pgtable *pgt;
		unsigned long iova = reach_iova(c, 3);
		guint n;

		if (!strcmp(c->format, "arm-mali-lpae"))
			continue;	/* Mali walks coherently only */
		if (!strcmp(c->format, "arm-v7s"))
			o.desc = 4;
		g_test_message("%s ias %u oas %u", c->format, c->ias, c->oas);
		g_array_set_size(l.syncs, 0);
		g_assert_cmpint(iopgt_pgtable_new(f->host, c->format, &cfg,
						  NULL, &pgt), ==, 0);
		/* the root's zeroes, once, with its pa */
		g_assert_cmpuint(l.syncs->len, ==, 1);
		g_assert_cmphex(g_array_index(l.syncs, struct sync_rec, 0).pa,
				==, pgt->root_pa);
		g_assert_cmpint(iopgt_pgtable_map(f->host, pgt, iova, 0x1000,
						  SZ_4K, RW), ==, 0);
		o.stack = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		g_assert_cmpint(iopgt_pgtable_walk(f->host, pgt, &ops, &o),
				==, 0);
		g_assert_cmpuint(o.checked, >=, 1);
		g_array_unref(o.stack);
		iopgt_pgtable_get_mem_stats(f->host, pgt, &ms);
		g_assert_cmpuint(ms.syncs, ==, l.syncs->len);
		for (guint i = 0; i < l.syncs->len; i++) {
			struct sync_rec *r =
				&g_array_index(l.syncs, struct sync_rec, i);

			g_assert_cmphex(r->pa + r->size, <=, 1ULL << c->oas);
		}
		/* the unmap clears the leaf and syncs exactly it, last */
		n = l.syncs->len;
		g_assert_cmpuint(iopgt_pgtable_unmap(f->host, pgt, iova, SZ_4K,
						     NULL), ==, SZ_4K);
		g_assert_cmpuint(l.syncs->len, >, n);
		g_assert_cmpuint(g_array_index(l.syncs, struct sync_rec,
					       l.syncs->len - 1).size, ==,
				 o.desc);
		iopgt_pgtable_free(f->host, pgt);
	}
	iopgt_host_set_dma_sync_fn(f->host, NULL, NULL);
	g_array_unref(l.syncs);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	add_test("/memory/reach/every-format-below-2^oas",
		 test_reach_every_format);
	add_test("/memory/reach/oas-32-root-in-dma32", test_reach_demo_root);
	add_test("/memory/reach/nothing-below-oas-is-enomem",
		 test_reach_enomem);
	add_test("/memory/region/unusual-pa", test_region_unusual_pa);
	add_test("/memory/region/two-regions-two-providers", test_region_two);
	add_test("/memory/region/refusals-are-einval", test_region_refusals);
	add_test("/memory/region/threads-map-disjoint-ranges",
		 test_region_threads);
	add_test("/memory/custom/fail-nth-call", test_custom_fail_nth);
	add_test("/memory/custom/shared-by-two-tables", test_custom_shared);
	add_test("/memory/custom/broken-promise-refused",
		 test_custom_broken_promise);
	add_test("/memory/sync/order-and-ranges", test_sync_order);
	return g_test_run();
}
