// SPDX-License-Identifier: MIT
/*
 * Linux's LPAE selftest (io-pgtable-arm-selftests.c, spec §4.1) as a
 * parameter matrix: three page-size sets x the 21 (ias <= oas) pairs of
 * {32, 36, 40, 42, 44, 48} x {stage 1, stage 2} = 126 runs, and the same
 * sequence for ARM_32_LPAE_S1/S2 and Mali within their limits.
 *
 * Each run: an empty table translates nothing; every page size maps
 * identity, refuses an overlapping map with -EEXIST and translates +42;
 * every page unmaps exactly and remaps write-only; the largest page maps
 * and unmaps at the top of the ias (the concatenated-pgd corner); free
 * returns everything and flushes the TLB once.  On failure the geometry
 * and the table are dumped first.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define SELFTEST_PROT	\
	(IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE)

struct selftest {
	const char *fmt;
	unsigned long pgsizes;
	unsigned int ias, oas;
};

struct run {
	const struct selftest *st;
	struct iopgt_host *host;
	struct log_capture log;
	struct tlb_recorder tlb;
	struct iopgt_cfg cfg;
	struct iopgt_pgtable *pgt;
	const char *step;
};

/* ---- failure report ------------------------------------------------------ */

static void reg_line(void *data, const char *name, uint64_t value)
{
	g_string_append_printf(data, " %s=0x%" G_GINT64_MODIFIER "x", name,
			       value);
}

static int dump_table(void *data, uint64_t pa, const void *va, size_t size,
		      int level)
{
	(void)va;
	g_string_append_printf(data, "  table L%d pa 0x%" G_GINT64_MODIFIER
			       "x %zu bytes\n", level, pa, size);
	return 0;
}

static int dump_entry(void *data, const struct iopgt_walk_entry *e)
{
	g_string_append_printf(data, "    L%d[%u] iova 0x%lx size 0x%zx "
			       "pte 0x%016" G_GINT64_MODIFIER "x\n", e->level,
			       e->index, e->iova, e->size, e->raw);
	return 0;
}

/* The geometry first, then the registers, the table and the log. */
static void dump_geometry(struct run *r)
{
	const struct iopgt_walk_ops v = {
		.table = dump_table,
		.entry = dump_entry,
	};
	GString *s = g_string_new(NULL);
	char *log;

	g_string_append_printf(s, "FAILED at step '%s': %s pgsizes 0x%lx "
			       "ias %u oas %u -> bitmap 0x%lx ias %u oas %u\n",
			       r->step, r->st->fmt, r->st->pgsizes, r->st->ias,
			       r->st->oas, r->cfg.pgsize_bitmap, r->cfg.ias,
			       r->cfg.oas);
	if (r->pgt) {
		g_string_append(s, "  regs:");
		iopgt_pgtable_describe_regs(r->host, r->pgt, reg_line, s);
		g_string_append_c(s, '\n');
		iopgt_pgtable_walk(r->host, r->pgt, &v, s);
	}
	log = log_capture_dump(&r->log);
	g_string_append(s, log);
	g_printerr("%s", s->str);
	g_string_free(s, TRUE);
	g_free(log);
}

#define CHECK(r, a, op, b)                                                   \
	do {                                                                 \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);             \
		if (!(a_ op b_))                                             \
			dump_geometry(r);                                    \
		g_assert_cmphex(a_, op, b_);                                 \
	} while (0)

/* ---- the sequence -------------------------------------------------------- */

static int map(struct run *r, unsigned long iova, uint64_t pa, size_t size,
	       int prot, size_t *mapped)
{
	*mapped = 0;
	return r->pgt->ops.map_pages(&r->pgt->ops, iova, pa, size, 1, prot,
				     mapped);
}

static size_t unmap(struct run *r, unsigned long iova, size_t size)
{
	return r->pgt->ops.unmap_pages(&r->pgt->ops, iova, size, 1, NULL);
}

static uint64_t phys(struct run *r, unsigned long iova)
{
	return r->pgt->ops.iova_to_phys(&r->pgt->ops, iova);
}

/* Linux's dummy TLB ops WARN unless each size is one the table offers. */
static void check_tlb_sizes(struct run *r, GArray *calls, bool granule)
{
	for (guint i = 0; i < calls->len; i++) {
		struct tlb_call *c = &g_array_index(calls, struct tlb_call, i);

		CHECK(r, c->size & r->cfg.pgsize_bitmap, ==, c->size);
		if (granule)
			CHECK(r, c->granule, ==,
			      1UL << __builtin_ctzl(r->cfg.pgsize_bitmap));
	}
}

static void run_selftest(gconstpointer data)
{
	const struct selftest *st = data;
	struct run r = { .st = st, .step = "alloc" };
	struct iopgt_mem_stats ms;
	unsigned long iova, bitmap;
	size_t mapped, size;
	int ret;

	g_test_summary("Linux's io-pgtable-arm selftest for one format, page "
		       "size set and (ias, oas)");
	r.host = iopgt_host_new();
	log_capture_init(&r.log);
	log_capture_attach(&r.log, r.host);
	tlb_recorder_init(&r.tlb);
	g_assert_cmpint(iopgt_host_register_builtin(r.host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	r.cfg = (struct iopgt_cfg){
		.quirks = strcmp(st->fmt, "arm-mali-lpae") ?
				  IO_PGTABLE_QUIRK_NO_WARN : 0,
		.pgsize_bitmap = st->pgsizes,
		.ias = st->ias,
		.oas = st->oas,
		.coherent_walk = true,
		.tlb = &tlb_recorder_ops,
	};

	ret = iopgt_pgtable_new(r.host, st->fmt, &r.cfg, &r.tlb, &r.pgt);
	CHECK(&r, ret, ==, 0);
	bitmap = r.cfg.pgsize_bitmap;
	CHECK(&r, bitmap, ==, st->pgsizes);

	r.step = "empty table translates nothing";
	CHECK(&r, phys(&r, 42), ==, 0);
	CHECK(&r, phys(&r, SZ_1G + 42), ==, 0);
	CHECK(&r, phys(&r, 2 * SZ_1G + 42), ==, 0);

	r.step = "map every size, overlap, translate";
	iova = 0;
	for (unsigned long b = bitmap; b; b &= b - 1) {
		size = 1UL << __builtin_ctzl(b);
		ret = map(&r, iova, iova, size, SELFTEST_PROT, &mapped);
		CHECK(&r, ret, ==, 0);
		CHECK(&r, mapped, ==, size);
		ret = map(&r, iova, iova + size, size,
			  IOMMU_READ | IOMMU_NOEXEC, &mapped);
		CHECK(&r, ret, ==, -EEXIST);
		CHECK(&r, mapped, ==, 0);
		CHECK(&r, phys(&r, iova + 42), ==, iova + 42);
		iova += SZ_1G;
	}

	r.step = "unmap every size, remap write-only";
	iova = 0;
	for (unsigned long b = bitmap; b; b &= b - 1) {
		size = 1UL << __builtin_ctzl(b);
		CHECK(&r, unmap(&r, iova, size), ==, size);
		CHECK(&r, phys(&r, iova + 42), ==, 0);
		ret = map(&r, iova, iova, size, IOMMU_WRITE, &mapped);
		CHECK(&r, ret, ==, 0);
		CHECK(&r, phys(&r, iova + 42), ==, iova + 42);
		iova += SZ_1G;
	}

	r.step = "top of the ias";
	size = 1UL << (63 - __builtin_clzl(bitmap));
	iova = (1UL << st->ias) - size;
	ret = map(&r, iova, iova, size, SELFTEST_PROT, &mapped);
	CHECK(&r, ret, ==, 0);
	CHECK(&r, mapped, ==, size);
	CHECK(&r, phys(&r, iova + size - 1), ==, iova + size - 1);
	CHECK(&r, unmap(&r, iova, size), ==, size);
	CHECK(&r, phys(&r, iova + 42), ==, 0);

	r.step = "free with mappings left";
	check_tlb_sizes(&r, r.tlb.walks, true);
	check_tlb_sizes(&r, r.tlb.pages, false);
	iopgt_pgtable_free(r.host, r.pgt);
	r.pgt = NULL;
	CHECK(&r, r.tlb.flush_all, ==, 1);
	CHECK(&r, r.tlb.bad_cookie, ==, 0);
	iopgt_host_get_mem_stats(r.host, &ms);
	CHECK(&r, ms.table_bytes, ==, 0);
	CHECK(&r, ms.state_bytes, ==, 0);
	/* NO_WARN (not Mali): nothing to say */
	if (r.cfg.quirks)
		CHECK(&r, log_capture_count(&r.log, "lpae:"), ==, 0);

	g_assert_null(iopgt_host_unref(r.host));
	tlb_recorder_clear(&r.tlb);
	log_capture_clear(&r.log);
}

/* ---- the matrix ---------------------------------------------------------- */

static const unsigned int address_sizes[] = { 32, 36, 40, 42, 44, 48 };

static const struct {
	const char *name;
	unsigned long pgsizes;
} pgsize_sets[] = {
	{ "4k", SZ_4K | SZ_2M | SZ_1G },
	{ "16k", SZ_16K | SZ_32M },
	{ "64k", SZ_64K | SZ_512M },
};

static GPtrArray *cases;

static void add_case(const char *stage, const char *fmt, unsigned int set,
		     unsigned int ias, unsigned int oas)
{
	struct selftest *st = g_new0(struct selftest, 1);
	char *path = g_strdup_printf("/lpae/selftest/%s/%s/ias%u-oas%u", stage,
				     pgsize_sets[set].name, ias, oas);

	st->fmt = fmt;
	st->pgsizes = pgsize_sets[set].pgsizes;
	st->ias = ias;
	st->oas = oas;
	g_ptr_array_add(cases, st);
	g_test_add_data_func(path, st, run_selftest);
	g_free(path);
}

/* Every (ias <= oas) pair of the selftest's sizes within the limits. */
static void add_pairs(const char *stage, const char *fmt, unsigned int set,
		      unsigned int max_ias, unsigned int max_oas)
{
	for (unsigned int j = 0; j < G_N_ELEMENTS(address_sizes); j++) {
		for (unsigned int k = 0; k <= j; k++) {
			unsigned int oas = address_sizes[j];
			unsigned int ias = address_sizes[k];

			if (ias <= max_ias && oas <= max_oas)
				add_case(stage, fmt, set, ias, oas);
		}
	}
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	cases = g_ptr_array_new_with_free_func(g_free);

	/* 3 x 21 x 2 = 126, as Linux's "63 PASS" times both stages */
	for (unsigned int set = 0; set < G_N_ELEMENTS(pgsize_sets); set++) {
		add_pairs("s1", "arm-64-lpae-s1", set, 48, 48);
		add_pairs("s2", "arm-64-lpae-s2", set, 48, 48);
	}
	/* the 32-bit and Mali formats keep to 4K|2M|1G and their limits */
	add_pairs("32-s1", "arm-32-lpae-s1", 0, 32, 40);
	add_pairs("32-s2", "arm-32-lpae-s2", 0, 40, 40);
	add_pairs("mali", "arm-mali-lpae", 0, 48, 40);

	ret = g_test_run();
	g_ptr_array_unref(cases);
	return ret;
}
