// SPDX-License-Identifier: MIT
/*
 * /bad-input/FORMAT/OP/CASE: every format, loaded from its module as a
 * user loads it, against every kind of bad argument to map_pages,
 * unmap_pages, iova_to_phys, iopgt_pgtable_map and iopgt_pgtable_unmap.
 *
 * Each test starts from a table that already holds a few mappings of
 * different sizes (pages, a block, the larger blocks the format has, a page
 * at the top of the input range), takes a text dump of it, runs one bad
 * call and checks the exact return, *mapped, and then that the dump is the
 * same, the table memory the same and that no TLB callback ran.  The few
 * inputs that do change the table by design (a block over a table, a
 * partly mapped unmap, a batch that stops at the end of the input range)
 * check the exact new state and TLB calls instead.
 *
 * Expected values come from the format docs (docs/formats/lpae.md and
 * v7s.md, "Operations" and "Where iopgt differs from Linux") and the
 * host's iommu_map/iommu_unmap contract in host.h.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

#define RW		(IOMMU_READ | IOMMU_WRITE)

/* ---- configurations -------------------------------------------------------- */

struct config {
	const char *name;		/* the first component of the path */
	const char *format;
	const char *module;		/* the plugin file */
	bool v7s;
	unsigned long quirks;
	unsigned long pgsizes;		/* what alloc keeps */
	unsigned int ias, oas;
	size_t pg;			/* the granule: the smallest page */
	size_t blk;			/* one level up from pg (v7s: section) */
	uint64_t pa_base;		/* PA of iova offset 0 */
	/* larger mappings: size, at iova offset == size, PA at extra_pa */
	size_t extra[2];
	uint64_t extra_pa[2];
	/* ias/oas above this are narrowed to it (Linux); 0: refused */
	unsigned int narrow_to;
};

#define LPAE_4K		(SZ_4K | SZ_2M | SZ_1G)
#define V7S_ALL		(SZ_4K | SZ_64K | SZ_1M | SZ_16M)
#define SZ_4T		(1UL << 42)
#define PA_LOW		0x40000000ULL
#define PA_52		0xF000000000000ULL	/* PA[51:48] all set */
#define PA_MTK		0x700000000ULL		/* PA[34:32] all set */

static const struct config configs[] = {
	{ "arm-64-lpae-s1", "arm-64-lpae-s1", "io-pgtable-arm.so", false, 0,
	  LPAE_4K, 48, 48, SZ_4K, SZ_2M, PA_LOW, { SZ_1G }, { 2 * SZ_1G },
	  .narrow_to = 48 },
	{ "arm-64-lpae-s2", "arm-64-lpae-s2", "io-pgtable-arm.so", false, 0,
	  LPAE_4K, 48, 48, SZ_4K, SZ_2M, PA_LOW, { SZ_1G }, { 2 * SZ_1G },
	  .narrow_to = 48 },
	{ "arm-32-lpae-s1", "arm-32-lpae-s1", "io-pgtable-arm.so", false, 0,
	  LPAE_4K, 32, 40, SZ_4K, SZ_2M, PA_LOW, { SZ_1G }, { 2 * SZ_1G } },
	/* 4K 40/40: a concatenated pgd of two tables */
	{ "arm-32-lpae-s2", "arm-32-lpae-s2", "io-pgtable-arm.so", false, 0,
	  LPAE_4K, 40, 40, SZ_4K, SZ_2M, PA_LOW, { SZ_1G }, { 2 * SZ_1G } },
	{ "arm-mali-lpae", "arm-mali-lpae", "io-pgtable-arm.so", false, 0,
	  LPAE_4K, 48, 40, SZ_4K, SZ_2M, PA_LOW, { SZ_1G }, { 2 * SZ_1G } },
	{ "arm-64-lpae-s1-16k", "arm-64-lpae-s1", "io-pgtable-arm.so", false,
	  0, SZ_16K | SZ_32M, 48, 48, SZ_16K, SZ_32M, PA_LOW, { 0 }, { 0 },
	  .narrow_to = 48 },
	/* 52-bit PAs: PA[51:48] go to PTE[15:12] */
	{ "arm-64-lpae-s1-64k", "arm-64-lpae-s1", "io-pgtable-arm.so", false,
	  0, SZ_64K | SZ_512M | SZ_4T, 52, 52, SZ_64K, SZ_512M, PA_52,
	  { SZ_4T }, { PA_52 + SZ_4T }, .narrow_to = 52 },
	/* the upper half of the address space: iova must be sign-extended */
	{ "arm-64-lpae-s1-ttbr1", "arm-64-lpae-s1", "io-pgtable-arm.so", false,
	  IO_PGTABLE_QUIRK_ARM_TTBR1, LPAE_4K, 48, 48, SZ_4K, SZ_2M, PA_LOW,
	  { SZ_1G }, { 2 * SZ_1G }, .narrow_to = 48 },
	{ "arm-v7s", "arm-v7s", "io-pgtable-arm-v7s.so", true, 0, V7S_ALL,
	  32, 32, SZ_4K, SZ_1M, PA_LOW, { SZ_64K, SZ_16M },
	  { PA_LOW + SZ_64K, PA_LOW + SZ_16M } },
	/* MediaTek's 35-bit PAs: PA[34:32] go to descriptor bits 9, 4, 5 */
	{ "arm-v7s-mtk", "arm-v7s", "io-pgtable-arm-v7s.so", true,
	  IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS, V7S_ALL,
	  34, 35, SZ_4K, SZ_1M, PA_MTK, { SZ_64K, SZ_16M },
	  { PA_MTK + SZ_64K, PA_MTK + SZ_16M } },
};

/* ---- fixture ----------------------------------------------------------------- */

struct fixture {
	const struct config *c;
	struct iopgt_host *host;
	struct log_capture log;
	struct tlb_recorder tlb;
	struct iopgt_pgtable *pgt;
	struct iopgt_iotlb_gather gather;
	unsigned long va_base;		/* iova of offset 0 */
	char *before;			/* the dump of the populated table */
	uint64_t table_bytes;
};

struct bad_case {
	const char *name;		/* "map/beyond-ias" */
	const char *summary;
	void (*fn)(struct fixture *f);
};

struct test_data {
	const struct config *c;
	const struct bad_case *bc;
};

/* The layout, as offsets from va_base (PA = pa_base + offset). */
static unsigned long off_pages(const struct config *c)	/* 2 pages */
{
	return 2 * c->blk + 2 * c->pg;
}

static unsigned long off_free(const struct config *c)	/* same table */
{
	return 2 * c->blk;
}

static unsigned long off_block(const struct config *c)	/* one blk */
{
	return 4 * c->blk;
}

static unsigned long off_empty(const struct config *c)	/* no table */
{
	return 6 * c->blk;
}

static unsigned long off_top(const struct config *c)	/* the last but one */
{
	return (1UL << c->ias) - 2 * c->pg;
}

static unsigned long va(const struct fixture *f, unsigned long off)
{
	return f->va_base + off;
}

static uint64_t pa(const struct fixture *f, unsigned long off)
{
	return f->c->pa_base + off;
}

/* The top page maps here: any page-aligned PA, not the identity. */
static uint64_t pa_top(const struct fixture *f)
{
	return f->c->pa_base + 7 * f->c->pg;
}

static size_t mapped_pages(struct fixture *f, unsigned long iova, uint64_t p,
			   size_t pgsize, size_t count)
{
	size_t mapped = 0;

	g_assert_cmpint(iopgt_pgtable_map_pages(f->host, f->pgt, iova, p,
						pgsize, count, RW, &mapped),
			==, 0);
	return mapped;
}

static void populate(struct fixture *f)
{
	const struct config *c = f->c;

	g_assert_cmpuint(mapped_pages(f, va(f, off_pages(c)),
				      pa(f, off_pages(c)), c->pg, 2), ==,
			 2 * c->pg);
	g_assert_cmpuint(mapped_pages(f, va(f, off_block(c)),
				      pa(f, off_block(c)), c->blk, 1), ==,
			 c->blk);
	g_assert_cmpuint(mapped_pages(f, va(f, off_top(c)), pa_top(f), c->pg,
				      1), ==, c->pg);
	for (int i = 0; i < 2 && c->extra[i]; i++)
		g_assert_cmpuint(mapped_pages(f, va(f, c->extra[i]),
					      c->extra_pa[i], c->extra[i], 1),
				 ==, c->extra[i]);
}

static uint64_t table_bytes(struct fixture *f)
{
	struct iopgt_mem_stats st;

	iopgt_pgtable_get_mem_stats(f->host, f->pgt, &st);
	return st.table_bytes;
}

static void setup(struct fixture *f, gconstpointer data)
{
	const struct test_data *td = data;
	const struct config *c = td->c;
	g_autofree char *path = g_build_filename(test_plugin_dir(), c->module,
						 NULL);
	struct iopgt_cfg cfg = {
		.quirks = c->quirks,
		.pgsize_bitmap = c->pgsizes,
		.ias = c->ias,
		.oas = c->oas,
		.coherent_walk = true,
		.tlb = &tlb_recorder_ops,
	};

	f->c = c;
	f->host = iopgt_host_new();
	g_assert_nonnull(f->host);
	/* the bundled plugins: trusted, no probe child for each of 600 */
	iopgt_host_set_probe(f->host, false);
	/* a few tables: 256 MiB of simulated memory is plenty, and quick */
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, 256 * SZ_1M), ==, 0);
	log_capture_init(&f->log);
	log_capture_attach(&f->log, f->host);
	tlb_recorder_init(&f->tlb);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, NULL), ==,
			0);
	g_assert_cmpint(iopgt_pgtable_new(f->host, c->format, &cfg, &f->tlb,
					  &f->pgt), ==, 0);
	/* the configuration is what the layout assumes */
	g_assert_cmphex(f->pgt->cfg.pgsize_bitmap, ==, c->pgsizes);
	g_assert_cmpuint(f->pgt->cfg.ias, ==, c->ias);
	g_assert_cmpuint(f->pgt->cfg.oas, ==, c->oas);
	f->va_base = c->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1 ?
		     ~0UL << c->ias : 0;

	populate(f);
	f->before = walk_to_text(f->host, f->pgt);
	f->table_bytes = table_bytes(f);
	tlb_recorder_reset(&f->tlb);
	g_ptr_array_set_size(f->log.lines, 0);
	f->gather = (struct iopgt_iotlb_gather){ 0 };
}

static void teardown(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;

	(void)data;
	f->tlb.flush_all = 0;
	iopgt_pgtable_free(f->host, f->pgt);
	g_assert_cmpuint(f->tlb.flush_all, ==, 1);
	g_assert_cmpuint(f->tlb.bad_cookie, ==, 0);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_cmpuint(log_capture_count(&f->log, "leaked"), ==, 0);
	g_assert_null(iopgt_host_unref(f->host));
	g_free(f->before);
	tlb_recorder_clear(&f->tlb);
	log_capture_clear(&f->log);
}

/* ---- checks ------------------------------------------------------------------ */

static void assert_no_tlb(struct fixture *f)
{
	g_assert_cmpuint(f->tlb.flush_all, ==, 0);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
}

/* Nothing changed: the same dump, the same memory, no TLB callback. */
static void assert_unchanged(struct fixture *f)
{
	g_autofree char *after = walk_to_text(f->host, f->pgt);

	g_assert_cmpstr(after, ==, f->before);
	g_assert_cmpuint(table_bytes(f), ==, f->table_bytes);
	assert_no_tlb(f);
}

/* The refusal was explained in the log (a warning), or, for the refusals
 * Linux makes silently, nothing was logged. */
static void assert_said(struct fixture *f, const char *needle)
{
	if (log_capture_count(&f->log, needle) == 0) {
		g_autofree char *log = log_capture_dump(&f->log);

		g_test_message("log:\n%s", log);
	}
	g_assert_cmpuint(log_capture_count(&f->log, needle), >=, 1);
}

static void assert_silent(struct fixture *f)
{
	if (log_capture_count(&f->log, "warning: ") ||
	    log_capture_count(&f->log, "err: ")) {
		g_autofree char *log = log_capture_dump(&f->log);

		g_test_message("log:\n%s", log);
	}
	g_assert_cmpuint(log_capture_count(&f->log, "warning: "), ==, 0);
	g_assert_cmpuint(log_capture_count(&f->log, "err: "), ==, 0);
}

static void assert_tlb_page(struct fixture *f, guint i, unsigned long iova,
			    size_t size)
{
	const struct tlb_call *call;

	g_assert_cmpuint(i, <, f->tlb.pages->len);
	call = &g_array_index(f->tlb.pages, struct tlb_call, i);
	g_assert_cmphex(call->iova, ==, iova);
	g_assert_cmphex(call->granule, ==, size);
}

static void assert_tlb_walk(struct fixture *f, guint i, unsigned long iova,
			    size_t size, size_t granule)
{
	const struct tlb_call *call;

	g_assert_cmpuint(i, <, f->tlb.walks->len);
	call = &g_array_index(f->tlb.walks, struct tlb_call, i);
	g_assert_cmphex(call->iova, ==, iova);
	g_assert_cmphex(call->size, ==, size);
	g_assert_cmphex(call->granule, ==, granule);
}

/* A case that changed the table on purpose puts it back for the check. */
static void restore(struct fixture *f, unsigned long iova, size_t size)
{
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, iova, size,
					     NULL), ==, size);
	tlb_recorder_reset(&f->tlb);
	assert_unchanged(f);
}

static int map_pages(struct fixture *f, unsigned long iova, uint64_t p,
		     size_t pgsize, size_t count, int prot, size_t *mapped)
{
	*mapped = 0;
	return iopgt_pgtable_map_pages(f->host, f->pgt, iova, p, pgsize, count,
				       prot, mapped);
}

/* map_pages that must fail with err, having mapped nothing and changed
 * nothing. */
static void map_refused(struct fixture *f, unsigned long iova, uint64_t p,
			size_t pgsize, size_t count, int prot, int err)
{
	size_t mapped;

	g_assert_cmpint(map_pages(f, iova, p, pgsize, count, prot, &mapped),
			==, err);
	g_assert_cmpuint(mapped, ==, 0);
	assert_unchanged(f);
}

static size_t unmap_pages(struct fixture *f, unsigned long iova,
			  size_t pgsize, size_t count)
{
	return iopgt_pgtable_unmap_pages(f->host, f->pgt, iova, pgsize, count,
					 &f->gather);
}

static void unmap_refused(struct fixture *f, unsigned long iova,
			  size_t pgsize, size_t count)
{
	g_assert_cmpuint(unmap_pages(f, iova, pgsize, count), ==, 0);
	assert_unchanged(f);
}

static uint64_t phys(struct fixture *f, unsigned long iova)
{
	return iopgt_pgtable_iova_to_phys(f->host, f->pgt, iova);
}

/* The warning each family gives for a refused argument. */
static const char *range_msg(struct fixture *f)
{
	return f->c->v7s ? "arm-v7s: map:" : "lpae: map: iova";
}

/* ---- map_pages --------------------------------------------------------------- */

static void map_beyond_ias(struct fixture *f)
{
	map_refused(f, va(f, 1UL << f->c->ias), pa(f, 0), f->c->pg, 1, RW,
		    -ERANGE);
	assert_said(f, f->c->v7s ? "is out of range" : "out of range (ias");
}

static unsigned long far_iova(struct fixture *f)
{
	/* bit 63 flipped: far outside ias, sign-extended or not */
	return f->va_base ^ (1UL << 63);
}

static void map_far_beyond_ias(struct fixture *f)
{
	map_refused(f, far_iova(f), pa(f, 0), f->c->pg, 1, RW, -ERANGE);
	assert_said(f, range_msg(f));
}

static void map_beyond_oas(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)), 1ULL << f->c->oas, f->c->pg, 1,
		    RW, -ERANGE);
	assert_said(f, range_msg(f));
}

static void map_far_beyond_oas(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)), ~0ULL & ~(uint64_t)(f->c->pg - 1),
		    f->c->pg, 1, RW, -ERANGE);
	assert_said(f, range_msg(f));
}

/* The end of the batch wraps past 2^64 back below oas: its start counts. */
static void map_batch_paddr_wraps(struct fixture *f)
{
	map_refused(f, va(f, off_empty(f->c)), 0 - 2 * (uint64_t)f->c->pg,
		    f->c->pg, 4, RW, -ERANGE);
	assert_said(f, range_msg(f));
}

static void map_batch_ends_beyond_oas(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)),
		    (1ULL << f->c->oas) - f->c->pg, f->c->pg, 2, RW, -ERANGE);
	assert_said(f, f->c->v7s ? "is out of range" : "beyond oas");
}

/*
 * Two pages from the last page of the input range: LPAE maps the one its
 * table holds and returns 0 (the caller's next call is -ERANGE); v7s
 * refuses the batch as a whole.
 */
static void map_batch_ends_beyond_ias(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long last = va(f, (1UL << c->ias) - c->pg);
	size_t mapped;

	if (c->v7s) {
		map_refused(f, last, pa(f, 0), c->pg, 2, RW, -ERANGE);
		assert_said(f, "is out of range");
		return;
	}
	g_assert_cmpint(map_pages(f, last, pa(f, 0), c->pg, 2, RW, &mapped),
			==, 0);
	g_assert_cmpuint(mapped, ==, c->pg);
	assert_silent(f);
	g_assert_cmphex(phys(f, last + 1), ==, pa(f, 0) + 1);
	assert_no_tlb(f);
	/* the caller's next call */
	g_assert_cmpint(map_pages(f, last + c->pg, pa(f, c->pg), c->pg, 1, RW,
				  &mapped), ==, -ERANGE);
	g_assert_cmpuint(mapped, ==, 0);
	assert_said(f, range_msg(f));
	restore(f, last, c->pg);
}

static void map_misaligned_iova(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)) + f->c->pg / 2,
		    pa(f, off_free(f->c)), f->c->pg, 1, RW, -EINVAL);
	assert_said(f, f->c->v7s ? "aligned" : "bad request");
}

static void map_misaligned_paddr(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)),
		    pa(f, off_free(f->c)) + f->c->pg / 2, f->c->pg, 1, RW,
		    -EINVAL);
	assert_said(f, f->c->v7s ? "aligned" : "bad request");
}

static void map_block_misaligned_iova(struct fixture *f)
{
	map_refused(f, va(f, off_empty(f->c)) + f->c->pg,
		    pa(f, off_empty(f->c)), f->c->blk, 1, RW, -EINVAL);
	assert_said(f, f->c->v7s ? "aligned" : "bad request");
}

static void map_block_misaligned_paddr(struct fixture *f)
{
	map_refused(f, va(f, off_empty(f->c)),
		    pa(f, off_empty(f->c)) + f->c->pg, f->c->blk, 1, RW,
		    -EINVAL);
	assert_said(f, f->c->v7s ? "aligned" : "bad request");
}

static const char *pgsize_msg(struct fixture *f)
{
	return f->c->v7s ? "arm-v7s: map: page size" : "lpae: map: page size";
}

static void map_pgsize_not_in_bitmap(struct fixture *f)
{
	map_refused(f, va(f, off_empty(f->c)), pa(f, off_empty(f->c)),
		    2 * f->c->pg, 1, RW, -EINVAL);
	assert_said(f, pgsize_msg(f));
}

static void map_pgsize_several_bits(struct fixture *f)
{
	map_refused(f, va(f, off_empty(f->c)), pa(f, off_empty(f->c)),
		    f->c->pg | f->c->blk, 1, RW, -EINVAL);
	assert_said(f, pgsize_msg(f));
}

static void map_pgsize_zero(struct fixture *f)
{
	map_refused(f, va(f, off_empty(f->c)), pa(f, off_empty(f->c)), 0, 1,
		    RW, -EINVAL);
	assert_said(f, pgsize_msg(f));
}

static void map_pgsize_bit63(struct fixture *f)
{
	map_refused(f, va(f, 0), pa(f, 0), 1UL << 63, 1, RW, -EINVAL);
	assert_said(f, pgsize_msg(f));
}

static void map_pgcount_zero(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)), pa(f, off_free(f->c)), f->c->pg,
		    0, RW, -EINVAL);
	/* v7s refuses it as Linux's loop does: silently */
	if (f->c->v7s)
		assert_silent(f);
	else
		assert_said(f, "lpae: map: bad request");
}

/*
 * SIZE_MAX pages from a free slot of the pages' table: LPAE checks the
 * whole batch up to the table's end first and meets the pages (-EEXIST);
 * v7s sees the run pass 2^ias (-ERANGE).  Nothing is written either way.
 */
static void map_pgcount_huge(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)), pa(f, off_free(f->c)), f->c->pg,
		    SIZE_MAX, RW, f->c->v7s ? -ERANGE : -EEXIST);
	assert_said(f, f->c->v7s ? "is out of range" : "is already mapped");
}

static void map_prot_zero(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)), pa(f, off_free(f->c)), f->c->pg,
		    1, 0, -EINVAL);
	assert_silent(f);	/* as Linux: no warning */
}

static void map_prot_no_read_write(struct fixture *f)
{
	map_refused(f, va(f, off_free(f->c)), pa(f, off_free(f->c)), f->c->pg,
		    1, IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV |
		    (1 << 6), -EINVAL);
	assert_silent(f);
}

/* The descriptor a prot gives, through a map, a walk and an unmap. */
static char *dump_with_prot(struct fixture *f, int prot)
{
	unsigned long iova = va(f, off_free(f->c));
	size_t mapped;
	char *dump;

	g_assert_cmpint(map_pages(f, iova, pa(f, off_free(f->c)), f->c->pg, 1,
				  prot, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, f->c->pg);
	dump = walk_to_text(f->host, f->pgt);
	g_assert_cmpstr(dump, !=, f->before);
	restore(f, iova, f->c->pg);
	return dump;
}

static void map_prot_unknown_bits(struct fixture *f)
{
	static const struct {
		int prot, same_as;
	} cases[] = {
		{ RW | (1 << 6) | (1 << 20), RW },
		{ IOMMU_READ | (1 << 7) | INT_MIN, IOMMU_READ },
		{ -1, 0x3f },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = dump_with_prot(f, cases[i].prot);
		g_autofree char *want = dump_with_prot(f, cases[i].same_as);

		g_test_message("prot 0x%x", (unsigned int)cases[i].prot);
		g_assert_cmpstr(got, ==, want);
	}
	assert_silent(f);
}

static const char *eexist_msg(struct fixture *f)
{
	return f->c->v7s ? "arm-v7s: map: iova" : "lpae: map: iova";
}

/* Every size up to a mapping's own, at its start, is -EEXIST. */
static void overlap_one(struct fixture *f, unsigned long off, uint64_t p,
			size_t size)
{
	for (unsigned int b = 0; b < 64; b++) {
		size_t pgsize = 1UL << b;

		if (!(f->c->pgsizes & pgsize) || pgsize > size)
			continue;
		g_test_message("%#zx at %#lx", pgsize, va(f, off));
		map_refused(f, va(f, off), p, pgsize, 1, RW, -EEXIST);
		/* and one page inside it, if it is bigger */
		if (size > f->c->pg)
			map_refused(f, va(f, off) + size - f->c->pg, p,
				    f->c->pg, 1, RW, -EEXIST);
	}
	assert_said(f, eexist_msg(f));
}

static void map_overlap_pages(struct fixture *f)
{
	const struct config *c = f->c;

	overlap_one(f, off_pages(c), pa(f, 0), c->pg);
	overlap_one(f, off_pages(c) + c->pg, pa(f, 0), c->pg);
	overlap_one(f, off_top(c), pa(f, 0), c->pg);
}

static void map_overlap_blocks(struct fixture *f)
{
	const struct config *c = f->c;

	overlap_one(f, off_block(c), pa(f, 0), c->blk);
	for (int i = 0; i < 2 && c->extra[i]; i++)
		overlap_one(f, c->extra[i], pa(f, 0), c->extra[i]);
}

/*
 * Four pages from two free slots into the two mapped pages: LPAE checks
 * every slot first and writes none (mapped 0); v7s maps page by page and
 * stops at the first mapped one, reporting the two it mapped.
 */
static void map_overlap_batch(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long iova = va(f, off_free(c));
	size_t mapped;

	g_assert_cmpint(map_pages(f, iova, pa(f, off_free(c)), c->pg, 4, RW,
				  &mapped), ==, -EEXIST);
	assert_said(f, eexist_msg(f));
	if (!c->v7s) {
		g_assert_cmpuint(mapped, ==, 0);
		assert_unchanged(f);
		return;
	}
	g_assert_cmpuint(mapped, ==, 2 * c->pg);
	g_assert_cmphex(phys(f, iova), ==, pa(f, off_free(c)));
	g_assert_cmphex(phys(f, iova + c->pg + 5), ==,
			pa(f, off_free(c)) + c->pg + 5);
	assert_no_tlb(f);
	restore(f, iova, 2 * c->pg);
}

/*
 * A block over the table that holds the pages replaces the table, leaves
 * and all (Linux's arm_lpae_init_pte / v7s): one walk flush for the block,
 * no page invalidation, and the block translates where the pages did.
 */
static void map_block_over_pages(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long iova = va(f, off_free(c));
	size_t mapped;

	g_assert_cmpint(map_pages(f, iova, pa(f, off_free(c)), c->blk, 1, RW,
				  &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, c->blk);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_tlb_walk(f, 0, iova, c->blk, c->pg);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	g_assert_cmpuint(f->tlb.flush_all, ==, 0);
	/* identity offsets: the pages' PAs are the block's */
	g_assert_cmphex(phys(f, va(f, off_pages(c)) + 3), ==,
			pa(f, off_pages(c)) + 3);
	g_assert_cmphex(phys(f, iova + 3), ==, pa(f, off_free(c)) + 3);
	g_assert_cmphex(phys(f, iova + c->blk - 1), ==,
			pa(f, off_free(c)) + c->blk - 1);
	/* the others are untouched */
	g_assert_cmphex(phys(f, va(f, off_block(c))), ==, pa(f, off_block(c)));
	g_assert_cmphex(phys(f, va(f, off_top(c))), ==, pa_top(f));
	if (!c->v7s)
		g_assert_cmpuint(table_bytes(f), ==, f->table_bytes - c->pg);
	assert_silent(f);
}

/* ---- iommu_map (iopgt_pgtable_map) ------------------------------------------- */

static void api_map_refused(struct fixture *f, unsigned long iova,
			    uint64_t p, size_t size, int err)
{
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, iova, p, size, RW),
			==, err);
	assert_unchanged(f);
}

static void api_map_zero_size(struct fixture *f)
{
	api_map_refused(f, va(f, off_free(f->c)), pa(f, 0), 0, -EINVAL);
	assert_said(f, "warning: table #1: map: size 0");
}

static void api_map_iova_wraps(struct fixture *f)
{
	api_map_refused(f, ~0UL & ~(f->c->pg - 1), pa(f, 0), 2 * f->c->pg,
			-EOVERFLOW);
	assert_said(f, "+ size");
}

static void api_map_paddr_wraps(struct fixture *f)
{
	api_map_refused(f, va(f, off_free(f->c)),
			~0ULL & ~(uint64_t)(f->c->pg - 1), 2 * f->c->pg,
			-EOVERFLOW);
	assert_said(f, "wraps around");
}

static void api_map_misaligned_size(struct fixture *f)
{
	api_map_refused(f, va(f, off_free(f->c)), pa(f, off_free(f->c)),
			f->c->pg + f->c->pg / 2, -EINVAL);
	assert_said(f, "must be multiples of the smallest page size");
}

static void api_map_misaligned_iova(struct fixture *f)
{
	api_map_refused(f, va(f, off_free(f->c)) + 512, pa(f, off_free(f->c)),
			f->c->pg, -EINVAL);
	assert_said(f, "must be multiples of the smallest page size");
}

static void api_map_misaligned_paddr(struct fixture *f)
{
	api_map_refused(f, va(f, off_free(f->c)),
			pa(f, off_free(f->c)) + 512, f->c->pg, -EINVAL);
	assert_said(f, "must be multiples of the smallest page size");
}

static void api_map_beyond_ias(struct fixture *f)
{
	api_map_refused(f, va(f, 1UL << f->c->ias), pa(f, 0), f->c->pg,
			-ERANGE);
	assert_said(f, range_msg(f));
}

/*
 * Two pages from the last page of the range.  LPAE maps the first, then
 * refuses the second and the host unmaps the first again (no gather: no
 * TLB call).  v7s refuses the batch whole.  In the upper half (TTBR1) the
 * range ends at 2^64: the host refuses the wrap first.
 */
static void api_map_crosses_ias_end(struct fixture *f)
{
	int err = f->va_base ? -EOVERFLOW : -ERANGE;

	api_map_refused(f, va(f, (1UL << f->c->ias) - f->c->pg), pa(f, 0),
			2 * f->c->pg, err);
	assert_said(f, err == -EOVERFLOW ? "wraps around" : range_msg(f));
}

/*
 * Four pages into the two mapped ones: LPAE refuses the batch whole;
 * v7s maps two and fails, and the host unmaps those two again.  The host
 * passes no gather, so by pgtable.h's rule no format calls tlb_add_page
 * (Linux's v7s would, with a NULL gather).
 */
static void api_map_overlap_rolls_back(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long iova = va(f, off_free(c));
	g_autofree char *after = NULL;

	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, iova,
					  pa(f, off_free(c)), 4 * c->pg, RW),
			==, -EEXIST);
	assert_said(f, eexist_msg(f));
	if (!c->v7s) {
		assert_unchanged(f);
		return;
	}
	after = walk_to_text(f->host, f->pgt);
	g_assert_cmpstr(after, ==, f->before);
	g_assert_cmpuint(table_bytes(f), ==, f->table_bytes);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
}

/* ---- unmap_pages ------------------------------------------------------------- */

static const char *unmap_msg(struct fixture *f)
{
	return f->c->v7s ? "arm-v7s: unmap:" : "lpae: unmap:";
}

static void unmap_beyond_ias(struct fixture *f)
{
	unmap_refused(f, va(f, 1UL << f->c->ias), f->c->pg, 1);
	assert_said(f, unmap_msg(f));
}

static void unmap_far_beyond_ias(struct fixture *f)
{
	unmap_refused(f, far_iova(f), f->c->pg, 1);
	assert_said(f, unmap_msg(f));
}

static void unmap_misaligned_iova(struct fixture *f)
{
	unmap_refused(f, va(f, off_pages(f->c)) + f->c->pg / 2, f->c->pg, 1);
	assert_said(f, unmap_msg(f));
}

static void unmap_block_misaligned(struct fixture *f)
{
	unmap_refused(f, va(f, off_block(f->c)) + f->c->pg, f->c->blk, 1);
	assert_said(f, unmap_msg(f));
}

static void unmap_pgsize_not_in_bitmap(struct fixture *f)
{
	unmap_refused(f, va(f, off_pages(f->c)), 2 * f->c->pg, 1);
	assert_said(f, unmap_msg(f));
}

static void unmap_pgsize_several_bits(struct fixture *f)
{
	unmap_refused(f, va(f, off_block(f->c)), f->c->pg | f->c->blk, 1);
	assert_said(f, unmap_msg(f));
}

static void unmap_pgsize_zero(struct fixture *f)
{
	unmap_refused(f, va(f, off_pages(f->c)), 0, 1);
	assert_said(f, unmap_msg(f));
}

static void unmap_pgcount_zero(struct fixture *f)
{
	unmap_refused(f, va(f, off_pages(f->c)), f->c->pg, 0);
	/* v7s: an empty loop unmaps nothing and has nothing to say */
	if (f->c->v7s)
		assert_silent(f);
	else
		assert_said(f, "lpae: unmap: bad request");
}

static void unmap_hole_in_table(struct fixture *f)
{
	unmap_refused(f, va(f, off_free(f->c)), f->c->pg, 1);
	assert_said(f, "is not mapped");
}

static void unmap_hole_no_table(struct fixture *f)
{
	unmap_refused(f, va(f, off_empty(f->c)), f->c->pg, 1);
	unmap_refused(f, va(f, off_empty(f->c)), f->c->blk, 1);
	assert_said(f, "is not mapped");
}

static void unmap_hole_then_pages(struct fixture *f)
{
	unmap_refused(f, va(f, off_free(f->c)), f->c->pg, 4);
	assert_said(f, "is not mapped");
}

/* Part of a block at every size below it, at its start and inside. */
static void unmap_part_of(struct fixture *f, unsigned long off, size_t size)
{
	for (unsigned int b = 0; b < 64; b++) {
		size_t pgsize = 1UL << b;

		if (!(f->c->pgsizes & pgsize) || pgsize >= size)
			continue;
		g_test_message("%#zx of %#zx at %#lx", pgsize, size,
			       va(f, off));
		unmap_refused(f, va(f, off), pgsize, 1);
		unmap_refused(f, va(f, off) + size - pgsize, pgsize, 1);
	}
}

static void unmap_part_of_block(struct fixture *f)
{
	unmap_part_of(f, off_block(f->c), f->c->blk);
	for (int i = 0; i < 2 && f->c->extra[i]; i++)
		unmap_part_of(f, f->c->extra[i], f->c->extra[i]);
	/* Linux's WARN_ONCE: at least once */
	assert_said(f, "partial large IOPTE is not allowed");
}

/*
 * Four pages from the two mapped ones: the mapped prefix goes (2 pages),
 * each with its invalidation, and the hole ends the batch.
 */
static void unmap_pages_then_hole(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long iova = va(f, off_pages(c));

	g_assert_cmpuint(unmap_pages(f, iova, c->pg, 4), ==, 2 * c->pg);
	g_assert_cmphex(phys(f, iova), ==, 0);
	g_assert_cmphex(phys(f, iova + c->pg), ==, 0);
	g_assert_cmpuint(f->tlb.pages->len, ==, 2);
	assert_tlb_page(f, 0, iova, c->pg);
	assert_tlb_page(f, 1, iova + c->pg, c->pg);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
	/* the table stays, as in Linux */
	g_assert_cmpuint(table_bytes(f), ==, f->table_bytes);
	g_assert_cmphex(phys(f, va(f, off_block(c))), ==, pa(f, off_block(c)));
	g_assert_cmphex(phys(f, va(f, off_top(c))), ==, pa_top(f));
	/* a short count is not a refusal: the call at the hole says it */
	g_assert_cmpuint(log_capture_count(&f->log, "is not mapped"), ==, 0);
	g_assert_cmpuint(unmap_pages(f, iova + 2 * c->pg, c->pg, 2), ==, 0);
	g_assert_cmpuint(log_capture_count(&f->log, "is not mapped"), ==, 1);
}

/*
 * SIZE_MAX pages: LPAE's batch stops at the table's end and the hole
 * after the two pages ends it first; v7s refuses a run past 2^ias.
 */
static void unmap_pgcount_huge(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long iova = va(f, off_pages(c));

	if (c->v7s) {
		unmap_refused(f, iova, c->pg, SIZE_MAX);
		assert_said(f, "out of range");
		return;
	}
	g_assert_cmpuint(unmap_pages(f, iova, c->pg, SIZE_MAX), ==, 2 * c->pg);
	g_assert_cmpuint(f->tlb.pages->len, ==, 2);
	assert_tlb_page(f, 0, iova, c->pg);
	assert_tlb_page(f, 1, iova + c->pg, c->pg);
	g_assert_cmphex(phys(f, iova + c->pg), ==, 0);
}

/*
 * A block-sized unmap over the table that holds the pages removes the
 * table with its pages and counts as the block (no split, no refusal):
 * one walk flush; LPAE also queues the cleared entry (Linux's loop over
 * every cleared entry), v7s only leaves.
 */
static void unmap_larger_than_mapped(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long iova = va(f, off_free(c));

	g_assert_cmpuint(unmap_pages(f, iova, c->blk, 1), ==, c->blk);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_tlb_walk(f, 0, iova, c->blk, c->pg);
	if (c->v7s) {
		g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	} else {
		g_assert_cmpuint(f->tlb.pages->len, ==, 1);
		assert_tlb_page(f, 0, iova, c->blk);
		g_assert_cmpuint(table_bytes(f), ==, f->table_bytes - c->pg);
	}
	g_assert_cmphex(phys(f, va(f, off_pages(c))), ==, 0);
	g_assert_cmphex(phys(f, va(f, off_pages(c)) + c->pg), ==, 0);
	g_assert_cmphex(phys(f, va(f, off_block(c))), ==, pa(f, off_block(c)));
	g_assert_cmphex(phys(f, va(f, off_top(c))), ==, pa_top(f));
	assert_silent(f);
}

/* ---- iommu_unmap (iopgt_pgtable_unmap) --------------------------------------- */

static void api_unmap_refused(struct fixture *f, unsigned long iova,
			      size_t size)
{
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, iova, size,
					     &f->gather), ==, 0);
	assert_unchanged(f);
}

static void api_unmap_zero_size(struct fixture *f)
{
	api_unmap_refused(f, va(f, off_pages(f->c)), 0);
	assert_silent(f);	/* nothing to do is no refusal */
}

static void api_unmap_wraps(struct fixture *f)
{
	api_unmap_refused(f, ~0UL & ~(f->c->pg - 1), 2 * f->c->pg);
	assert_said(f, "warning: table #1: unmap: iova");
}

static void api_unmap_misaligned(struct fixture *f)
{
	api_unmap_refused(f, va(f, off_pages(f->c)) + 512, f->c->pg);
	api_unmap_refused(f, va(f, off_pages(f->c)), f->c->pg + 512);
	assert_said(f, "must be multiples of the smallest page size");
}

static void api_unmap_beyond_ias(struct fixture *f)
{
	api_unmap_refused(f, va(f, 1UL << f->c->ias), f->c->pg);
	assert_said(f, unmap_msg(f));
}

static void api_unmap_partly_mapped(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long iova = va(f, off_pages(c));

	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, iova, 4 * c->pg,
					     &f->gather), ==, 2 * c->pg);
	g_assert_cmpuint(f->tlb.pages->len, ==, 2);
	assert_tlb_page(f, 0, iova, c->pg);
	assert_tlb_page(f, 1, iova + c->pg, c->pg);
	g_assert_cmphex(phys(f, iova), ==, 0);
	g_assert_cmphex(phys(f, va(f, off_top(c))), ==, pa_top(f));
	assert_said(f, "is not mapped");
}

/* ---- iova_to_phys ------------------------------------------------------------ */

static void iova_unmapped(struct fixture *f)
{
	g_assert_cmphex(phys(f, va(f, off_free(f->c))), ==, 0);
	g_assert_cmphex(phys(f, va(f, off_free(f->c)) + f->c->pg - 1), ==, 0);
	g_assert_cmphex(phys(f, va(f, off_empty(f->c))), ==, 0);
	g_assert_cmphex(phys(f, va(f, off_top(f->c)) + f->c->pg), ==, 0);
	assert_unchanged(f);
	assert_silent(f);
}

static void iova_around_mappings(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long start[4] = { off_pages(c), off_block(c), c->extra[0],
				   c->extra[1] };
	size_t size[4] = { 2 * c->pg, c->blk, c->extra[0], c->extra[1] };

	for (int i = 0; i < 4 && size[i]; i++) {
		g_test_message("around %#lx + %#zx", start[i], size[i]);
		g_assert_cmphex(phys(f, va(f, start[i]) - 1), ==, 0);
		g_assert_cmphex(phys(f, va(f, start[i] + size[i])), ==, 0);
		g_assert_cmphex(phys(f, va(f, start[i]) + size[i] - 1), !=, 0);
	}
	g_assert_cmphex(phys(f, va(f, off_top(c)) - 1), ==, 0);
	g_assert_cmphex(phys(f, va(f, off_top(c)) + c->pg), ==, 0);
	assert_unchanged(f);
	assert_silent(f);
}

/* As Linux, bits above ias are not looked at: they alias (documented). */
static void iova_beyond_ias_aliases(struct fixture *f)
{
	const struct config *c = f->c;
	unsigned long alias = 1UL << c->ias;

	g_assert_cmphex(phys(f, va(f, off_pages(c)) + alias + 0x123), ==,
			pa(f, off_pages(c)) + 0x123);
	g_assert_cmphex(phys(f, va(f, off_block(c)) + alias + c->blk - 1), ==,
			pa(f, off_block(c)) + c->blk - 1);
	g_assert_cmphex(phys(f, va(f, off_free(c)) + alias), ==, 0);
	/* all ones: the last page of the range, which is free */
	g_assert_cmphex(phys(f, ~0UL), ==, 0);
	g_assert_cmphex(phys(f, far_iova(f)), ==, 0);
	assert_unchanged(f);
	assert_silent(f);
}

static void iova_offsets_exact(struct fixture *f)
{
	const struct config *c = f->c;

	g_assert_cmphex(phys(f, va(f, off_pages(c)) + c->pg - 1), ==,
			pa(f, off_pages(c)) + c->pg - 1);
	g_assert_cmphex(phys(f, va(f, off_block(c)) + c->blk - 1), ==,
			pa(f, off_block(c)) + c->blk - 1);
	g_assert_cmphex(phys(f, va(f, off_top(c)) + c->pg - 1), ==,
			pa_top(f) + c->pg - 1);
	for (int i = 0; i < 2 && c->extra[i]; i++)
		g_assert_cmphex(phys(f, va(f, c->extra[i]) + c->extra[i] - 1),
				==, c->extra_pa[i] + c->extra[i] - 1);
	assert_unchanged(f);
}

/* ---- alloc ------------------------------------------------------------------- */

/*
 * A configuration the format cannot make: -EINVAL, nothing held (no
 * table, no memory, no plugin reference).  These run on a host with the
 * module loaded and no table.
 */
static void alloc_refused(struct fixture *f, struct iopgt_cfg *cfg)
{
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_mem_stats st;

	g_assert_cmpint(iopgt_pgtable_new(f->host, f->c->format, cfg, &f->tlb,
					  &pgt), ==, -EINVAL);
	g_assert_null(pgt);
	g_assert_cmpint(iopgt_host_get_table_count(f->host), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_refcount(
		iopgt_host_find_format(f->host, f->c->format)), ==, 0);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	assert_no_tlb(f);
}

static struct iopgt_cfg good_cfg(struct fixture *f)
{
	return (struct iopgt_cfg){
		.quirks = f->c->quirks,
		.pgsize_bitmap = f->c->pgsizes,
		.ias = f->c->ias,
		.oas = f->c->oas,
		.coherent_walk = true,
		.tlb = &tlb_recorder_ops,
	};
}

static void alloc_no_usable_pgsize(struct fixture *f)
{
	/* none of the granules (LPAE) or of 4K/64K/1M/16M (v7s); 0 is not
	 * here: iopgt_pgtable_new() fills a zero field from the format's
	 * defaults (host.h) */
	static const unsigned long bitmaps[] = {
		SZ_2M | SZ_1G, SZ_1K, 1UL << 63,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bitmaps); i++) {
		struct iopgt_cfg cfg = good_cfg(f);

		g_test_message("pgsize_bitmap %#lx", bitmaps[i]);
		cfg.pgsize_bitmap = bitmaps[i];
		alloc_refused(f, &cfg);
	}
}

/*
 * Above what the format addresses: the 64-bit LPAE formats narrow ias/oas
 * as Linux does (cfg is in/out); the others refuse, as Linux does.
 */
static void alloc_too_wide(struct fixture *f, struct iopgt_cfg *cfg,
			   unsigned int *field)
{
	struct iopgt_pgtable *pgt = NULL;

	if (!f->c->narrow_to) {
		alloc_refused(f, cfg);
		return;
	}
	g_assert_cmpint(iopgt_pgtable_new(f->host, f->c->format, cfg, &f->tlb,
					  &pgt), ==, 0);
	g_assert_cmpuint(*field, ==, f->c->narrow_to);
	g_assert_cmpuint(pgt->cfg.ias, ==, cfg->ias);
	g_assert_cmpuint(pgt->cfg.oas, ==, cfg->oas);
	iopgt_pgtable_free(f->host, pgt);
	g_assert_cmpuint(f->tlb.flush_all, ==, 1);
	tlb_recorder_reset(&f->tlb);
}

static void alloc_bad_address_sizes(struct fixture *f)
{
	/* not 0: a zero field takes the format's default (host.h) */
	static const unsigned int sizes[] = { 1, 53, 64, 65, UINT_MAX };

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		struct iopgt_cfg cfg = good_cfg(f);

		g_test_message("ias %u", sizes[i]);
		cfg.ias = sizes[i];
		if (sizes[i] < 53)
			alloc_refused(f, &cfg);
		else
			alloc_too_wide(f, &cfg, &cfg.ias);
		/* oas 0 and 1 are valid for the walk (nothing maps) on some
		 * formats: only the ones no format takes */
		if (sizes[i] < 53)
			continue;
		g_test_message("oas %u", sizes[i]);
		cfg = good_cfg(f);
		cfg.oas = sizes[i];
		alloc_too_wide(f, &cfg, &cfg.oas);
	}
}

static void alloc_unknown_quirk(struct fixture *f)
{
	static const unsigned long quirks[] = {
		1UL << 2, 1UL << 47, 1UL << 62, 1UL << 63, ~0UL,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(quirks); i++) {
		struct iopgt_cfg cfg = good_cfg(f);

		g_test_message("quirks %#lx", quirks[i]);
		cfg.quirks |= quirks[i];
		alloc_refused(f, &cfg);
	}
}

static void setup_bare(struct fixture *f, gconstpointer data)
{
	const struct test_data *td = data;
	g_autofree char *path = g_build_filename(test_plugin_dir(),
						 td->c->module, NULL);

	f->c = td->c;
	f->host = iopgt_host_new();
	g_assert_nonnull(f->host);
	/* the bundled plugins: trusted, no probe child for each of 600 */
	iopgt_host_set_probe(f->host, false);
	log_capture_init(&f->log);
	log_capture_attach(&f->log, f->host);
	tlb_recorder_init(&f->tlb);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, NULL), ==,
			0);
}

static void teardown_bare(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_null(iopgt_host_unref(f->host));
	tlb_recorder_clear(&f->tlb);
	log_capture_clear(&f->log);
}

static const struct bad_case alloc_cases[] = {
	{ "alloc/no-usable-pgsize",
	  "a pgsize_bitmap the format can use nothing of is -EINVAL",
	  alloc_no_usable_pgsize },
	{ "alloc/bad-address-sizes",
	  "ias or oas no format takes is -EINVAL, nothing held; above 52 "
	  "the 64-bit LPAE formats narrow it as Linux does",
	  alloc_bad_address_sizes },
	{ "alloc/unknown-quirk", "an unknown quirk bit is -EINVAL",
	  alloc_unknown_quirk },
};

/* ---- the matrix -------------------------------------------------------------- */

static const struct bad_case cases[] = {
	{ "map/beyond-ias", "iova at 2^ias is -ERANGE", map_beyond_ias },
	{ "map/far-beyond-ias", "iova with bit 63 flipped is -ERANGE",
	  map_far_beyond_ias },
	{ "map/beyond-oas", "paddr at 2^oas is -ERANGE", map_beyond_oas },
	{ "map/far-beyond-oas", "the top page of 64-bit paddr is -ERANGE",
	  map_far_beyond_oas },
	{ "map/batch-paddr-wraps",
	  "a batch whose paddr end wraps past 2^64 is -ERANGE",
	  map_batch_paddr_wraps },
	{ "map/batch-ends-beyond-oas",
	  "a batch whose last page lies beyond 2^oas is -ERANGE",
	  map_batch_ends_beyond_oas },
	{ "map/batch-ends-beyond-ias",
	  "a batch from the last page: LPAE maps to its table's end, v7s "
	  "refuses", map_batch_ends_beyond_ias },
	{ "map/misaligned-iova", "iova not aligned to pgsize is -EINVAL",
	  map_misaligned_iova },
	{ "map/misaligned-paddr", "paddr not aligned to pgsize is -EINVAL",
	  map_misaligned_paddr },
	{ "map/block-misaligned-iova",
	  "a block at a page-aligned iova is -EINVAL",
	  map_block_misaligned_iova },
	{ "map/block-misaligned-paddr",
	  "a block at a page-aligned paddr is -EINVAL",
	  map_block_misaligned_paddr },
	{ "map/pgsize-not-in-bitmap", "twice the granule is -EINVAL",
	  map_pgsize_not_in_bitmap },
	{ "map/pgsize-several-bits", "granule|block as pgsize is -EINVAL",
	  map_pgsize_several_bits },
	{ "map/pgsize-zero", "pgsize 0 is -EINVAL", map_pgsize_zero },
	{ "map/pgsize-bit63", "pgsize 2^63 is -EINVAL", map_pgsize_bit63 },
	{ "map/pgcount-zero", "pgcount 0 is -EINVAL", map_pgcount_zero },
	{ "map/pgcount-huge", "SIZE_MAX pages write nothing",
	  map_pgcount_huge },
	{ "map/prot-zero", "prot 0 is -EINVAL", map_prot_zero },
	{ "map/prot-no-read-write",
	  "every prot bit but READ and WRITE is -EINVAL",
	  map_prot_no_read_write },
	{ "map/prot-unknown-bits",
	  "prot bits beyond the six IOMMU_* flags are ignored",
	  map_prot_unknown_bits },
	{ "map/overlap-pages", "every size over a page is -EEXIST",
	  map_overlap_pages },
	{ "map/overlap-blocks",
	  "every size up to a block's, at and inside it, is -EEXIST",
	  map_overlap_blocks },
	{ "map/overlap-batch",
	  "a batch into mapped pages: -EEXIST, *mapped tells the progress",
	  map_overlap_batch },
	{ "map/block-over-pages",
	  "a block over a table of pages replaces the table",
	  map_block_over_pages },
	{ "map-api/zero-size", "iommu_map of 0 bytes is -EINVAL",
	  api_map_zero_size },
	{ "map-api/iova-wraps", "iova + size past 2^64 is -EOVERFLOW",
	  api_map_iova_wraps },
	{ "map-api/paddr-wraps", "paddr + size past 2^64 is -EOVERFLOW",
	  api_map_paddr_wraps },
	{ "map-api/misaligned-size",
	  "a size not a multiple of the granule is -EINVAL",
	  api_map_misaligned_size },
	{ "map-api/misaligned-iova", "iova off the granule is -EINVAL",
	  api_map_misaligned_iova },
	{ "map-api/misaligned-paddr", "paddr off the granule is -EINVAL",
	  api_map_misaligned_paddr },
	{ "map-api/beyond-ias", "the format's -ERANGE comes back",
	  api_map_beyond_ias },
	{ "map-api/crosses-ias-end",
	  "a range across 2^ias fails and leaves nothing mapped",
	  api_map_crosses_ias_end },
	{ "map-api/overlap-rolls-back",
	  "a range into mapped pages fails and leaves nothing mapped",
	  api_map_overlap_rolls_back },
	{ "unmap/beyond-ias", "iova at 2^ias unmaps 0", unmap_beyond_ias },
	{ "unmap/far-beyond-ias", "iova with bit 63 flipped unmaps 0",
	  unmap_far_beyond_ias },
	{ "unmap/misaligned-iova", "a page at a misaligned iova unmaps 0",
	  unmap_misaligned_iova },
	{ "unmap/block-misaligned", "a block at a page offset unmaps 0",
	  unmap_block_misaligned },
	{ "unmap/pgsize-not-in-bitmap", "twice the granule unmaps 0",
	  unmap_pgsize_not_in_bitmap },
	{ "unmap/pgsize-several-bits", "granule|block unmaps 0",
	  unmap_pgsize_several_bits },
	{ "unmap/pgsize-zero", "pgsize 0 unmaps 0", unmap_pgsize_zero },
	{ "unmap/pgcount-zero", "pgcount 0 unmaps 0", unmap_pgcount_zero },
	{ "unmap/pgcount-huge", "SIZE_MAX pages unmap at most what is mapped",
	  unmap_pgcount_huge },
	{ "unmap/hole-in-table", "an empty slot unmaps 0",
	  unmap_hole_in_table },
	{ "unmap/hole-no-table", "a range without tables unmaps 0",
	  unmap_hole_no_table },
	{ "unmap/hole-then-pages", "a batch starting in a hole unmaps 0",
	  unmap_hole_then_pages },
	{ "unmap/part-of-block",
	  "part of any block unmaps 0 and leaves it (no split)",
	  unmap_part_of_block },
	{ "unmap/pages-then-hole",
	  "a partly mapped batch unmaps the mapped prefix; the hole is said "
	  "once, by the call that starts at it",
	  unmap_pages_then_hole },
	{ "unmap/larger-than-mapped",
	  "a block-sized unmap over pages removes their table",
	  unmap_larger_than_mapped },
	{ "unmap-api/zero-size", "iommu_unmap of 0 bytes unmaps 0",
	  api_unmap_zero_size },
	{ "unmap-api/iova-wraps", "iova + size past 2^64 unmaps 0",
	  api_unmap_wraps },
	{ "unmap-api/misaligned", "iova or size off the granule unmaps 0",
	  api_unmap_misaligned },
	{ "unmap-api/beyond-ias", "iova at 2^ias unmaps 0",
	  api_unmap_beyond_ias },
	{ "unmap-api/partly-mapped",
	  "a partly mapped range unmaps the mapped prefix",
	  api_unmap_partly_mapped },
	{ "iova/unmapped", "free slots and empty ranges translate to 0",
	  iova_unmapped },
	{ "iova/around-mappings",
	  "the byte before and after each mapping translates to 0",
	  iova_around_mappings },
	{ "iova/beyond-ias-aliases",
	  "iova bits above ias are ignored, as in Linux",
	  iova_beyond_ias_aliases },
	{ "iova/offsets-exact", "the last byte of each mapping translates",
	  iova_offsets_exact },
};

static void run_case(struct fixture *f, gconstpointer data)
{
	const struct test_data *td = data;

	g_test_summary(td->bc->summary);
	td->bc->fn(f);
}

int main(int argc, char **argv)
{
	struct test_data *data;
	size_t n = 0;
	int ret;

	g_test_init(&argc, &argv, NULL);
	data = g_new(struct test_data, G_N_ELEMENTS(configs) *
		     (G_N_ELEMENTS(alloc_cases) + G_N_ELEMENTS(cases)));
	for (size_t i = 0; i < G_N_ELEMENTS(configs); i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(alloc_cases); j++) {
			g_autofree char *path = g_strdup_printf(
				"/bad-input/%s/%s", configs[i].name,
				alloc_cases[j].name);

			data[n] = (struct test_data){ &configs[i],
						      &alloc_cases[j] };
			g_test_add(path, struct fixture, &data[n], setup_bare,
				   run_case, teardown_bare);
			n++;
		}
		for (size_t j = 0; j < G_N_ELEMENTS(cases); j++) {
			g_autofree char *path = g_strdup_printf(
				"/bad-input/%s/%s", configs[i].name,
				cases[j].name);

			data[n] = (struct test_data){ &configs[i], &cases[j] };
			g_test_add(path, struct fixture, &data[n], setup,
				   run_case, teardown);
			n++;
		}
	}
	ret = g_test_run();
	g_free(data);
	return ret;
}
