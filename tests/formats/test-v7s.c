// SPDX-License-Identifier: MIT
/*
 * The ARM v7 short-descriptor format (io-pgtable-arm-v7s): Linux's
 * selftest, exact descriptors and registers, the quirks, every error with
 * its value (and the table unchanged after it), TLB callbacks, DMA syncs,
 * table memory and the walk.
 *
 * Expected descriptors are written out in hex, computed by hand from the
 * architecture's bit layout, never by calling into the format.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define RW		(IOMMU_READ | IOMMU_WRITE)
#define SELFTEST_PROT	(RW | IOMMU_NOEXEC | IOMMU_CACHE)
#define ALL_SIZES	(SZ_4K | SZ_64K | SZ_1M | SZ_16M)
#define MTK_QUIRKS \
	(IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS)

static const size_t sizes[] = { SZ_4K, SZ_64K, SZ_1M, SZ_16M };

struct fixture {
	struct iopgt_host *host;
	struct log_capture log;
	struct tlb_recorder tlb;
	struct iopgt_cfg cfg;
	struct iopgt_pgtable *pgt;
};

/* ---- fixture ------------------------------------------------------------- */

/* A host with the log captured and the TLB recorded, no format yet. */
static void setup_bare(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->host = iopgt_host_new();
	g_assert_nonnull(f->host);
	log_capture_init(&f->log);
	log_capture_attach(&f->log, f->host);
	tlb_recorder_init(&f->tlb);
	/* Linux's selftest configuration. */
	f->cfg = (struct iopgt_cfg){
		.quirks = IO_PGTABLE_QUIRK_ARM_NS,
		.pgsize_bitmap = ALL_SIZES,
		.ias = 32,
		.oas = 32,
		.coherent_walk = true,
		.tlb = &tlb_recorder_ops,
	};
	f->pgt = NULL;
}

/* ... plus the format, registered as a built-in plugin. */
static void setup(struct fixture *f, gconstpointer data)
{
	setup_bare(f, data);
	g_assert_cmpint(iopgt_host_register_builtin(f->host, &iopgt_plugin_desc,
						    NULL), ==, 0);
}

static void table_new(struct fixture *f)
{
	int ret = iopgt_pgtable_new(f->host, "arm-v7s", &f->cfg, &f->tlb,
				    &f->pgt);

	if (ret) {
		char *log = log_capture_dump(&f->log);

		g_test_message("%s", log);
		g_free(log);
	}
	g_assert_cmpint(ret, ==, 0);
	g_assert_nonnull(f->pgt);
}

static void table_free(struct fixture *f)
{
	iopgt_pgtable_free(f->host, f->pgt);
	f->pgt = NULL;
}

/* ... plus a table in the selftest configuration. */
static void setup_table(struct fixture *f, gconstpointer data)
{
	setup(f, data);
	table_new(f);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;

	(void)data;
	if (f->pgt)
		table_free(f);
	g_assert_cmpuint(f->tlb.bad_cookie, ==, 0);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(f->host));
	tlb_recorder_clear(&f->tlb);
	log_capture_clear(&f->log);
}

#define add_test(path, fn, setup_fn) \
	g_test_add(path, struct fixture, NULL, setup_fn, fn, teardown)

/* ---- op helpers ---------------------------------------------------------- */

/* map_pages; on success *mapped must have grown by exactly size * count. */
static int map(struct fixture *f, unsigned long iova, uint64_t pa,
	       size_t size, size_t count, int prot)
{
	size_t mapped = 0;
	int ret = f->pgt->ops.map_pages(&f->pgt->ops, iova, pa, size, count,
					prot, &mapped);

	if (!ret)
		g_assert_cmpuint(mapped, ==, size * count);
	return ret;
}

#define assert_map(f, iova, pa, size, count, prot) \
	g_assert_cmpint(map(f, iova, pa, size, count, prot), ==, 0)

static size_t unmap(struct fixture *f, unsigned long iova, size_t size,
		    size_t count, struct iopgt_iotlb_gather *gather)
{
	return f->pgt->ops.unmap_pages(&f->pgt->ops, iova, size, count, gather);
}

static uint64_t phys(struct fixture *f, unsigned long iova)
{
	return f->pgt->ops.iova_to_phys(&f->pgt->ops, iova);
}

static struct iopgt_mem_stats table_stats(struct fixture *f)
{
	struct iopgt_mem_stats st;

	iopgt_pgtable_get_mem_stats(f->host, f->pgt, &st);
	return st;
}

/* ---- walk helpers -------------------------------------------------------- */

/* Every table and entry as text: a snapshot to compare before/after. */
static char *dump(struct fixture *f)
{
	return walk_to_text(f->host, f->pgt);
}

struct raw_lookup {
	int level;
	unsigned int l1_index;		/* the level-1 slot */
	unsigned int index;		/* the level-2 slot for level 2 */
	unsigned int parent;		/* walk state */
	uint64_t raw;
	uint64_t oa;
	size_t size;
	unsigned long iova;
	int prot;
	bool found;
};

static int raw_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct raw_lookup *l = data;

	if (e->level == 1 && e->kind == IOPGT_ENTRY_TABLE)
		l->parent = e->index;
	if (e->level != l->level)
		return 0;
	if (e->level == 1 ? e->index == l->l1_index :
			    l->parent == l->l1_index && e->index == l->index) {
		l->raw = e->raw;
		l->oa = e->oa;
		l->size = e->size;
		l->iova = e->iova;
		l->prot = e->prot;
		l->found = true;
	}
	return 0;
}

/* The walk's view of the entry at a level that holds iova. */
static struct raw_lookup lookup(struct fixture *f, int level,
				unsigned long iova)
{
	static const struct iopgt_walk_ops ops = { .entry = raw_entry };
	struct raw_lookup l = {
		.level = level,
		.l1_index = iova >> 20,
		.index = (iova >> 12) & 0xff,
		.parent = ~0u,
	};

	g_assert_cmpint(iopgt_pgtable_walk(f->host, f->pgt, &ops, &l), ==, 0);
	return l;
}

/* The raw descriptor at a level for iova; 0 if there is none. */
static uint64_t raw_at(struct fixture *f, int level, unsigned long iova)
{
	struct raw_lookup l = lookup(f, level, iova);

	return l.found ? l.raw : 0;
}

static int count_entry(void *data, const struct iopgt_walk_entry *e)
{
	unsigned int *n = data;

	n[e->level]++;
	return 0;
}

static int collect_table(void *data, uint64_t pa, const void *va, size_t size,
			 int level)
{
	(void)va;
	(void)size;
	(void)level;
	g_array_append_val((GArray *)data, pa);
	return 0;
}

/* PAs of every table, level 1 first. */
static GArray *table_pas(struct fixture *f)
{
	static const struct iopgt_walk_ops ops = { .table = collect_table };
	GArray *pas = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	g_assert_cmpint(iopgt_pgtable_walk(f->host, f->pgt, &ops, pas), ==, 0);
	return pas;
}

/* Number of valid entries at level 1 and level 2. */
static void count_entries(struct fixture *f, unsigned int *l1, unsigned int *l2)
{
	static const struct iopgt_walk_ops ops = { .entry = count_entry };
	unsigned int n[3] = { 0 };

	g_assert_cmpint(iopgt_pgtable_walk(f->host, f->pgt, &ops, n), ==, 0);
	*l1 = n[1];
	*l2 = n[2];
}

#define assert_unchanged_after(f, expr)                         \
	do {                                                    \
		char *__before = dump(f);                       \
		char *__after;                                  \
		expr;                                           \
		__after = dump(f);                              \
		g_assert_cmpstr(__after, ==, __before);         \
		g_free(__before);                               \
		g_free(__after);                                \
	} while (0)

static void assert_tlb_call(GArray *calls, guint i, unsigned long iova,
			    size_t size, size_t granule)
{
	struct tlb_call *c;

	g_assert_cmpuint(i, <, calls->len);
	c = &g_array_index(calls, struct tlb_call, i);
	g_assert_cmphex(c->iova, ==, iova);
	g_assert_cmphex(c->size, ==, size);
	g_assert_cmphex(c->granule, ==, granule);
}

/* ---- Linux's selftest (spec 4.3) ----------------------------------------- */

static void test_selftest_empty(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("An empty table translates nothing: 42, 1G+42, 2G+42");
	g_assert_cmphex(phys(f, 42), ==, 0);
	g_assert_cmphex(phys(f, SZ_1G + 42), ==, 0);
	g_assert_cmphex(phys(f, 2 * SZ_1G + 42), ==, 0);
}

/* Step 1: every size at 0, 16M, 32M, 48M; overlaps fail; +42 round-trips. */
static void selftest_map_phase(struct fixture *f)
{
	unsigned long iova = 0;

	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		size_t size = sizes[i];

		assert_map(f, iova, iova, size, 1, SELFTEST_PROT);
		g_assert_cmpint(map(f, iova, iova + size, size, 1,
				    IOMMU_READ | IOMMU_NOEXEC), ==, -EEXIST);
		g_assert_cmphex(phys(f, iova + 42), ==, iova + 42);
		iova += SZ_16M;
	}
}

/* Step 2: unmap each, translation gone, remap write-only, translates. */
static void selftest_unmap_phase(struct fixture *f)
{
	unsigned long iova = 0;

	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		size_t size = sizes[i];

		g_assert_cmpuint(unmap(f, iova, size, 1, NULL), ==, size);
		g_assert_cmphex(phys(f, iova + 42), ==, 0);
		assert_map(f, iova, iova, size, 1, IOMMU_WRITE);
		g_assert_cmphex(phys(f, iova + 42), ==, iova + 42);
		iova += SZ_16M;
	}
}

static void test_selftest_map(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Each size maps at 16M steps, an overlap is -EEXIST "
		       "and iova+42 round-trips");
	selftest_map_phase(f);
	/* ARM_NS: NS_TABLE in the table descriptor, NS_SECTION in sections */
	g_assert_cmphex(raw_at(f, 2, 0), ==, 0x00000C7F);
	g_assert_cmphex(raw_at(f, 1, 0) & 0x3FF, ==, 0x009);
	g_assert_cmphex(raw_at(f, 2, SZ_16M), ==, 0x01009C3D);
	g_assert_cmphex(raw_at(f, 1, 2 * SZ_16M), ==, 0x020B1C1E);
	g_assert_cmphex(raw_at(f, 1, 3 * SZ_16M), ==, 0x030F1C1E);
	/* the overlapping maps were refused, loudly, as Linux WARNs */
	g_assert_cmpuint(log_capture_count(&f->log, "already mapped"), ==, 4);
}

static void test_selftest_unmap_remap(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Each size unmaps exactly, then remaps write-only "
		       "(read-write on v7s: no write-only AP)");
	selftest_map_phase(f);
	selftest_unmap_phase(f);
	g_assert_cmphex(raw_at(f, 2, 0), ==, 0x00000C72);
	g_assert_cmphex(raw_at(f, 2, SZ_16M), ==, 0x01001C31);
	g_assert_cmphex(raw_at(f, 1, 2 * SZ_16M), ==, 0x020B1C02);
	g_assert_cmphex(raw_at(f, 1, 3 * SZ_16M), ==, 0x030F1C02);
}

static void test_selftest_free(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;

	(void)data;
	g_test_summary("Freeing with mappings still present flushes the TLB "
		       "once and gives every byte back");
	selftest_map_phase(f);
	selftest_unmap_phase(f);
	table_free(f);
	g_assert_cmpuint(f->tlb.flush_all, ==, 1);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.table_allocs, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
}

/* ---- alloc: registers, limits, quirks ------------------------------------ */

struct regs {
	uint64_t ttbr, tcr, nmrr, prrr;
	GString *names;
};

static void collect_reg(void *data, const char *name, uint64_t value)
{
	struct regs *r = data;

	g_string_append_printf(r->names, "%s ", name);
	if (!strcmp(name, "ttbr"))
		r->ttbr = value;
	else if (!strcmp(name, "tcr"))
		r->tcr = value;
	else if (!strcmp(name, "nmrr"))
		r->nmrr = value;
	else if (!strcmp(name, "prrr"))
		r->prrr = value;
}

static void assert_regs(struct fixture *f, uint32_t ttbr_attrs)
{
	struct regs r = { .names = g_string_new(NULL) };

	g_assert_cmphex(f->cfg.arm_v7s_cfg.ttbr, ==,
			(uint32_t)f->pgt->root_pa | ttbr_attrs);
	g_assert_cmphex(f->cfg.arm_v7s_cfg.tcr, ==, 0);
	g_assert_cmphex(f->cfg.arm_v7s_cfg.prrr, ==, 0x800B8204);
	g_assert_cmphex(f->cfg.arm_v7s_cfg.nmrr, ==, 0x40004000);
	/* the host's copy, as alloc_io_pgtable_ops takes it */
	g_assert_cmphex(f->pgt->cfg.arm_v7s_cfg.ttbr, ==,
			f->cfg.arm_v7s_cfg.ttbr);

	iopgt_pgtable_describe_regs(f->host, f->pgt, collect_reg, &r);
	g_assert_cmpstr(r.names->str, ==, "ttbr tcr nmrr prrr ");
	g_assert_cmphex(r.ttbr, ==, f->cfg.arm_v7s_cfg.ttbr);
	g_assert_cmphex(r.tcr, ==, 0);
	g_assert_cmphex(r.nmrr, ==, 0x40004000);
	g_assert_cmphex(r.prrr, ==, 0x800B8204);
	g_string_free(r.names, TRUE);
}

static void test_alloc_regs_coherent(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Coherent walk: TTBR = pa | S | NOS | IRGN/ORGN WBWA "
		       "(0x6A); PRRR 0x800B8204, NMRR 0x40004000, TCR 0");
	table_new(f);
	assert_regs(f, 0x6A);
}

static void test_alloc_regs_non_coherent(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Non-coherent walk: TTBR = pa | S (0x2), caches off");
	f->cfg.coherent_walk = false;
	table_new(f);
	assert_regs(f, 0x2);
}

static void test_alloc_l1(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;

	(void)data;
	g_test_summary("The level-1 table is 16 KiB, 16 KiB aligned, below "
		       "4 GiB, and is the root");
	table_new(f);
	st = table_stats(f);
	g_assert_cmpuint(st.table_bytes, ==, SZ_16K);
	g_assert_cmpuint(st.table_allocs, ==, 1);
	g_assert_cmphex(f->pgt->root_pa & (SZ_16K - 1), ==, 0);
	g_assert_cmphex(f->pgt->root_pa, <, SZ_4G);
	g_assert_cmphex(f->pgt->root_pa, !=, 0);
}

static void test_alloc_pgsizes(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("pgsize_bitmap is narrowed to 4K|64K|1M|16M, and 16M "
		       "only if asked for; ias and oas are kept");
	f->cfg.pgsize_bitmap = SZ_4K | SZ_16K | SZ_64K | SZ_1M | SZ_2M |
			       SZ_16M | SZ_1G;
	table_new(f);
	g_assert_cmphex(f->cfg.pgsize_bitmap, ==, ALL_SIZES);
	g_assert_cmpuint(f->cfg.ias, ==, 32);
	g_assert_cmpuint(f->cfg.oas, ==, 32);
	table_free(f);

	f->cfg.pgsize_bitmap = SZ_4K | SZ_1M;
	table_new(f);
	g_assert_cmphex(f->cfg.pgsize_bitmap, ==, SZ_4K | SZ_1M);
	g_assert_cmphex(f->pgt->cfg.pgsize_bitmap, ==, SZ_4K | SZ_1M);
	/* ... and then a supersection is not a page size */
	g_assert_cmpint(map(f, 0, 0, SZ_16M, 1, RW), ==, -EINVAL);
}

static void assert_alloc_fails(struct fixture *f, int err)
{
	struct iopgt_mem_stats st;
	struct iopgt_pgtable *pgt = NULL;

	g_assert_cmpint(iopgt_pgtable_new(f->host, "arm-v7s", &f->cfg, &f->tlb,
					  &pgt), ==, err);
	g_assert_null(pgt);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
}

static void test_alloc_ias_oas(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("ias or oas above 32 is -EINVAL without MTK_EXT; ias "
		       "below 20 has no level-1 index and is -EINVAL too");
	f->cfg.ias = 33;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.ias = 32;
	f->cfg.oas = 33;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.oas = 32;
	f->cfg.ias = 19;
	assert_alloc_fails(f, -EINVAL);
	/* Linux narrows no v7s ias/oas: a driver's 64 bits are refused too */
	f->cfg.ias = 64;
	f->cfg.oas = 64;
	assert_alloc_fails(f, -EINVAL);
	g_assert_cmpuint(f->cfg.ias, ==, 64);
	g_assert_cmpuint(f->cfg.oas, ==, 64);
	g_assert_cmpuint(log_capture_count(&f->log, "ias 33 is not in"), ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log, "oas 33 is above 32"), ==,
			 1);
}

static void test_alloc_refusal_says_why(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Every alloc refusal logs its reason as a warning (the "
		       "host's error detail), not at debug level");
	f->cfg.ias = 33;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.ias = 32;
	f->cfg.oas = 33;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.oas = 32;
	f->cfg.pgsize_bitmap = SZ_2M;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.pgsize_bitmap = SZ_4K;
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_HD;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_MTK_EXT;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT;
	assert_alloc_fails(f, -EINVAL);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: arm-v7s: alloc: ias 33 is not in [20, 32]"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: arm-v7s: alloc: oas 33 is above 32"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: arm-v7s: alloc: pgsize_bitmap 0x200000 has none of"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: arm-v7s: alloc: unsupported quirks 0x80"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: arm-v7s: alloc: ARM_MTK_EXT needs NO_PERMS"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: arm-v7s: alloc: ARM_MTK_TTBR_EXT needs ARM_MTK_EXT"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log, "warning: arm-v7s: alloc:"),
			 ==, 6);
}

static void test_alloc_small_ias(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("ias 24 makes a 16-entry level-1 table: 16M of iova");
	f->cfg.ias = 24;
	table_new(f);
	assert_map(f, SZ_16M - SZ_1M, 0, SZ_1M, 1, RW);
	assert_map(f, 0, 0, SZ_4K, 1, RW);
	g_assert_cmphex(phys(f, SZ_16M - SZ_1M + 5), ==, 5);
	g_assert_cmpint(map(f, SZ_16M, 0, SZ_4K, 1, RW), ==, -ERANGE);
	assert_map(f, 0 + SZ_1M, 0, SZ_64K, 1, RW);
}

static void test_alloc_bad_quirks(struct fixture *f, gconstpointer data)
{
	static const unsigned long bad[] = {
		IO_PGTABLE_QUIRK_NO_WARN,	IO_PGTABLE_QUIRK_ARM_TTBR1,
		IO_PGTABLE_QUIRK_ARM_OUTER_WBWA, IO_PGTABLE_QUIRK_ARM_HD,
		IO_PGTABLE_QUIRK_ARM_S2FWB,	1UL << 2,
		1UL << 20,			1UL << 63,
	};

	(void)data;
	g_test_summary("Quirks other than NS, NO_PERMS, MTK_EXT and "
		       "MTK_TTBR_EXT (NO_WARN included) are -EINVAL");
	for (unsigned int i = 0; i < G_N_ELEMENTS(bad); i++) {
		f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_NS | bad[i];
		assert_alloc_fails(f, -EINVAL);
	}
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS;
	table_new(f);
}

static void test_alloc_mtk_combinations(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("MTK_EXT needs NO_PERMS, MTK_TTBR_EXT needs MTK_EXT; "
		       "MTK_EXT allows ias 34 and oas 35, not more");
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_MTK_EXT;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT |
			IO_PGTABLE_QUIRK_NO_PERMS;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT |
			IO_PGTABLE_QUIRK_ARM_MTK_EXT;
	assert_alloc_fails(f, -EINVAL);
	g_assert_cmpuint(log_capture_count(&f->log, "MTK_EXT needs NO_PERMS"),
			 ==, 2);
	g_assert_cmpuint(log_capture_count(&f->log, "TTBR_EXT needs ARM_MTK"),
			 ==, 1);

	f->cfg.quirks = MTK_QUIRKS;
	f->cfg.ias = 35;
	f->cfg.oas = 35;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.ias = 34;
	f->cfg.oas = 36;
	assert_alloc_fails(f, -EINVAL);
	f->cfg.oas = 35;
	table_new(f);
	/* 2^14 level-1 entries */
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_64K);
	table_free(f);

	f->cfg.quirks = MTK_QUIRKS | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT |
			IO_PGTABLE_QUIRK_ARM_NS;
	table_new(f);
}

static void test_alloc_enomem(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Table memory refused by the host is -ENOMEM, with "
		       "nothing leaked");
	iopgt_host_set_mem_limit(f->host, SZ_4K);
	assert_alloc_fails(f, -ENOMEM);
	iopgt_host_set_mem_limit(f->host, 0);
	table_new(f);
}

static void test_alloc_table_does_not_fit(struct fixture *f,
					  gconstpointer data)
{
	struct iopgt_mem_provider *high;
	void *mem;

	(void)data;
	g_test_summary("With MTK_TTBR_EXT tables may go above 4 GiB but not "
		       "above oas: the host places them below it (ABI 1.2), "
		       "and memory with nothing below it is -ENOMEM, said");
	f->cfg.quirks = MTK_QUIRKS | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT;
	f->cfg.oas = 32;
	/* issue 14: this was refused ("does not fit in PTE") when the host
	 * handed out normal memory above 4 GiB; the limit moved it */
	table_new(f);
	g_assert_cmphex(f->pgt->root_pa + SZ_16K, <=, SZ_4G);
	table_free(f);
	g_assert_cmpuint(log_capture_count(&f->log, "does not fit"), ==, 0);

	mem = g_aligned_alloc0(1, SZ_1M, SZ_4K);
	g_assert_cmpint(iopgt_mem_provider_new_region(f->host, mem,
						      0x800000000ULL, SZ_1M,
						      &high), ==, 0);
	g_assert_cmpint(iopgt_host_set_mem_provider(f->host, high), ==, 0);
	assert_alloc_fails(f, -ENOMEM);
	g_assert_cmpuint(log_capture_count(&f->log, "warning: no table memory "
					   "below 2^32 for a 16384-byte "
					   "table"), ==, 1);
	g_assert_null(iopgt_mem_provider_unref(high));
	g_aligned_free(mem);
}

static void test_alloc_tables_below_4g(struct fixture *f, gconstpointer data)
{
	GArray *pas;

	(void)data;
	g_test_summary("Without MTK_TTBR_EXT every table is below 4 GiB, "
		       "level 2 included");
	for (unsigned long i = 0; i < 64; i++)
		assert_map(f, i * SZ_1M, 0, SZ_4K, 1, RW);
	pas = table_pas(f);
	g_assert_cmpuint(pas->len, ==, 65);
	for (guint i = 0; i < pas->len; i++) {
		uint64_t pa = g_array_index(pas, uint64_t, i);

		g_assert_cmphex(pa, <, SZ_4G);
		g_assert_cmphex(pa & (i ? SZ_1K - 1 : SZ_16K - 1), ==, 0);
	}
	g_array_unref(pas);
}

/* ---- descriptors --------------------------------------------------------- */

static void test_pte_small_page(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("4K R|W|CACHE at PA 0x1000 is 0x00001C7E; with NOEXEC "
		       "0x00001C7F (spec 3.4)");
	f->cfg.quirks = 0;
	table_new(f);
	assert_map(f, 0x1000, 0x1000, SZ_4K, 1, RW | IOMMU_CACHE);
	assert_map(f, 0x2000, 0x1000, SZ_4K, 1,
		   RW | IOMMU_CACHE | IOMMU_NOEXEC);
	g_assert_cmphex(raw_at(f, 2, 0x1000), ==, 0x00001C7E);
	g_assert_cmphex(raw_at(f, 2, 0x2000), ==, 0x00001C7F);
	/* no NS_TABLE without the quirk: a bare table descriptor */
	g_assert_cmphex(raw_at(f, 1, 0) & 0x3FF, ==, 0x001);
	g_assert_cmphex(raw_at(f, 1, 0) & ~0x3FFu, ==, lookup(f, 1, 0).oa);
}

static void test_pte_section(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("1M R|W|CACHE|NOEXEC with ARM_NS at PA 0x100000 is "
		       "0x001B1C1E (spec 3.4)");
	assert_map(f, SZ_1M, SZ_1M, SZ_1M, 1, SELFTEST_PROT);
	g_assert_cmphex(raw_at(f, 1, SZ_1M), ==, 0x001B1C1E);
}

static void test_pte_supersection(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A supersection is the section | 0x40000, written "
		       "into all 16 level-1 slots");
	assert_map(f, SZ_16M, SZ_16M, SZ_16M, 1, SELFTEST_PROT);
	for (unsigned long i = 0; i < 16; i++) {
		struct raw_lookup l = lookup(f, 1, SZ_16M + i * SZ_1M);

		g_assert_true(l.found);
		g_assert_cmphex(l.raw, ==, 0x010F1C1E);
		g_assert_cmphex(phys(f, SZ_16M + i * SZ_1M + 0x123), ==,
				SZ_16M + i * SZ_1M + 0x123);
	}
	g_assert_cmphex(raw_at(f, 1, 2 * SZ_16M), ==, 0);
	g_assert_cmphex(raw_at(f, 1, SZ_16M - SZ_1M), ==, 0);
}

static void test_pte_large_page(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A large page moves XN to bit 15 and TEX to [14:12], "
		       "is type 01, and fills 16 level-2 slots");
	f->cfg.quirks = 0;
	table_new(f);
	assert_map(f, SZ_64K, SZ_64K, SZ_64K, 1, SELFTEST_PROT);
	for (unsigned long i = 0; i < 16; i++)
		g_assert_cmphex(raw_at(f, 2, SZ_64K + i * SZ_4K), ==,
				0x00019C3D);
	g_assert_cmphex(raw_at(f, 2, 2 * SZ_64K), ==, 0);
	g_assert_cmphex(raw_at(f, 2, SZ_64K - SZ_4K), ==, 0);
}

#define R_MMIO_NX_PRIV \
	(IOMMU_READ | IOMMU_MMIO | IOMMU_NOEXEC | IOMMU_PRIV)

static const struct {
	int prot;
	size_t size;
	uint32_t pte;		/* at PA == size, no quirks */
} prot_table[] = {
	{ IOMMU_READ, SZ_4K, 0x00001E72 },
	{ IOMMU_READ, SZ_64K, 0x00011E31 },
	{ IOMMU_READ, SZ_1M, 0x00139C02 },
	{ IOMMU_READ, SZ_16M, 0x01079C02 },
	{ IOMMU_WRITE, SZ_4K, 0x00001C72 },
	{ IOMMU_WRITE, SZ_64K, 0x00011C31 },
	{ IOMMU_WRITE, SZ_1M, 0x00131C02 },
	{ IOMMU_WRITE, SZ_16M, 0x01071C02 },
	{ RW, SZ_4K, 0x00001C72 },
	{ RW, SZ_64K, 0x00011C31 },
	{ RW, SZ_1M, 0x00131C02 },
	{ RW, SZ_16M, 0x01071C02 },
	{ RW | IOMMU_CACHE, SZ_4K, 0x00001C7E },
	{ RW | IOMMU_CACHE, SZ_64K, 0x00011C3D },
	{ RW | IOMMU_CACHE, SZ_1M, 0x00131C0E },
	{ RW | IOMMU_CACHE, SZ_16M, 0x01071C0E },
	{ RW | IOMMU_CACHE | IOMMU_NOEXEC, SZ_4K, 0x00001C7F },
	{ RW | IOMMU_CACHE | IOMMU_NOEXEC, SZ_64K, 0x00019C3D },
	{ RW | IOMMU_CACHE | IOMMU_NOEXEC, SZ_1M, 0x00131C1E },
	{ RW | IOMMU_CACHE | IOMMU_NOEXEC, SZ_16M, 0x01071C1E },
	{ IOMMU_READ | IOMMU_NOEXEC, SZ_4K, 0x00001E73 },
	{ IOMMU_READ | IOMMU_NOEXEC, SZ_64K, 0x00019E31 },
	{ IOMMU_READ | IOMMU_NOEXEC, SZ_1M, 0x00139C12 },
	{ IOMMU_READ | IOMMU_NOEXEC, SZ_16M, 0x01079C12 },
	{ RW | IOMMU_MMIO, SZ_4K, 0x00001C36 },
	{ RW | IOMMU_MMIO, SZ_64K, 0x00010C35 },
	{ RW | IOMMU_MMIO, SZ_1M, 0x00130C06 },
	{ RW | IOMMU_MMIO, SZ_16M, 0x01070C06 },
	/* MMIO wins over CACHE */
	{ RW | IOMMU_MMIO | IOMMU_CACHE, SZ_4K, 0x00001C36 },
	{ RW | IOMMU_MMIO | IOMMU_CACHE, SZ_16M, 0x01070C06 },
	{ RW | IOMMU_PRIV, SZ_4K, 0x00001C52 },
	{ RW | IOMMU_PRIV, SZ_64K, 0x00011C11 },
	{ RW | IOMMU_PRIV, SZ_1M, 0x00131402 },
	{ RW | IOMMU_PRIV, SZ_16M, 0x01071402 },
	{ R_MMIO_NX_PRIV, SZ_4K, 0x00001E17 },
	{ R_MMIO_NX_PRIV, SZ_64K, 0x00018E15 },
	{ R_MMIO_NX_PRIV, SZ_1M, 0x00138416 },
	{ R_MMIO_NX_PRIV, SZ_16M, 0x01078416 },
};

static void test_pte_prot_table(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("prot x size: AF/UNPRIV/RDONLY, TEX remap index "
		       "(B, B|C, TEX[0]) and XN for all four sizes");
	f->cfg.quirks = 0;
	table_new(f);
	for (unsigned int i = 0; i < G_N_ELEMENTS(prot_table); i++) {
		unsigned long iova = (unsigned long)i * SZ_16M;
		size_t size = prot_table[i].size;
		unsigned int copies = size == SZ_16M || size == SZ_64K ? 16 : 1;
		int level = size >= SZ_1M ? 1 : 2;
		size_t slot = level == 1 ? SZ_1M : SZ_4K;

		assert_map(f, iova, size, size, 1, prot_table[i].prot);
		for (unsigned int c = 0; c < copies; c++)
			g_assert_cmphex(raw_at(f, level, iova + c * slot), ==,
					prot_table[i].pte);
		g_assert_cmphex(phys(f, iova + 0x3c), ==, size + 0x3c);
	}
}

/*
 * What the walk reports for a leaf mapped with prot (spec 3.4 read back):
 * AP has no read bit, so write-only is READ|WRITE; B alone is MMIO, so
 * MMIO|CACHE is MMIO; NO_PERMS keeps only the memory type, and the
 * hardware checks nothing: READ|WRITE.
 */
static int expect_prot(int prot, unsigned long quirks)
{
	int type = prot & IOMMU_MMIO ? IOMMU_MMIO : prot & IOMMU_CACHE;

	if (quirks & IO_PGTABLE_QUIRK_NO_PERMS)
		return RW | type;
	return IOMMU_READ | type |
	       (prot & (IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_PRIV));
}

static void check_walk_prot(struct fixture *f, unsigned long quirks,
			    uint64_t pa_base)
{
	f->cfg.quirks = quirks;
	table_new(f);
	for (int prot = 0; prot < 64; prot++) {
		for (unsigned int s = 0; s < G_N_ELEMENTS(sizes); s++) {
			/* 64 prots x 4 sizes: each its own 16 MiB of 4 GiB */
			unsigned long iova = (unsigned long)(prot * 4 + s) *
					     SZ_16M;
			size_t size = sizes[s];
			unsigned int copies = size == SZ_16M ||
					      size == SZ_64K ? 16 : 1;
			int level = size >= SZ_1M ? 1 : 2;
			size_t slot = level == 1 ? SZ_1M : SZ_4K;

			if (!(prot & RW)) {
				g_assert_cmpint(map(f, iova, pa_base, size, 1,
						    prot), ==, -EINVAL);
				continue;
			}
			assert_map(f, iova, pa_base, size, 1, prot);
			for (unsigned int c = 0; c < copies; c++) {
				struct raw_lookup l = lookup(f, level,
							     iova + c * slot);

				g_assert_true(l.found);
				g_assert_cmphex(l.prot, ==,
						expect_prot(prot, quirks));
			}
			g_assert_cmphex(phys(f, iova + 0x3c), ==,
					pa_base + 0x3c);
		}
	}
	/* prot 1's 4K page hangs off a table entry */
	g_assert_true(lookup(f, 1, 4 * SZ_16M).found);
	g_assert_cmpint(lookup(f, 1, 4 * SZ_16M).prot, ==, 0);
	table_free(f);
}

static void test_walk_prot(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("The walk decodes every prot at every size (every copy "
		       "of a large page or supersection) to what the "
		       "descriptor holds, with and without NO_PERMS and with "
		       "MediaTek PA bits where AP and XN would be; tables: 0");
	check_walk_prot(f, 0, 0);
	check_walk_prot(f, IO_PGTABLE_QUIRK_NO_PERMS, 0);
	f->cfg.oas = 35;
	check_walk_prot(f, MTK_QUIRKS, 0x700000000ULL);
}

static void test_pte_no_perms(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("NO_PERMS: no AF, UNPRIV, RDONLY or XN, whatever prot");
	f->cfg.quirks = IO_PGTABLE_QUIRK_NO_PERMS;
	table_new(f);
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		unsigned long iova = (unsigned long)i * SZ_16M;

		assert_map(f, iova, 0, sizes[i], 1, SELFTEST_PROT);
		assert_map(f, iova + 4 * SZ_16M, 0, sizes[i], 1,
			   IOMMU_READ | IOMMU_CACHE);
	}
	g_assert_cmphex(raw_at(f, 2, 0), ==, 0x00000C4E);
	g_assert_cmphex(raw_at(f, 2, SZ_16M), ==, 0x00001C0D);
	g_assert_cmphex(raw_at(f, 1, 2 * SZ_16M), ==, 0x0003100E);
	g_assert_cmphex(raw_at(f, 1, 3 * SZ_16M), ==, 0x0007100E);
	g_assert_cmphex(raw_at(f, 2, 4 * SZ_16M), ==, 0x00000C4E);
	g_assert_cmphex(raw_at(f, 1, 7 * SZ_16M), ==, 0x0007100E);
}

/* ---- MediaTek ------------------------------------------------------------ */

static void test_mtk_round_trip(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("MTK_EXT: a 4K page at PA 0x7_1234_5000 sets bits 9, "
		       "4 and 5 and translates back in full");
	f->cfg.quirks = MTK_QUIRKS;
	f->cfg.oas = 35;
	table_new(f);
	assert_map(f, 0x40000000, 0x712345000ULL, SZ_4K, 1, RW | IOMMU_CACHE);
	g_assert_cmphex(raw_at(f, 2, 0x40000000), ==, 0x12345E7E);
	g_assert_cmphex(phys(f, 0x40000042), ==, 0x712345042ULL);
	/* MTK_EXT alone keeps tables in DMA32 and the TTBR without attrs */
	g_assert_cmphex(f->pgt->root_pa, <, SZ_4G);
	g_assert_cmphex(f->cfg.arm_v7s_cfg.ttbr, ==, (uint32_t)f->pgt->root_pa);
}

static void test_mtk_each_bit(struct fixture *f, gconstpointer data)
{
	static const struct {
		uint64_t pa_bit;
		uint32_t pte_bit;
	} bits[] = {
		{ 1ULL << 32, 1u << 9 },
		{ 1ULL << 33, 1u << 4 },
		{ 1ULL << 34, 1u << 5 },
	};

	(void)data;
	g_test_summary("MTK_EXT: PA bit 32 is descriptor bit 9, 33 is bit 4, "
		       "34 is bit 5, at every size");
	f->cfg.quirks = MTK_QUIRKS;
	f->cfg.oas = 35;
	table_new(f);
	for (unsigned int b = 0; b < G_N_ELEMENTS(bits); b++) {
		for (unsigned int s = 0; s < G_N_ELEMENTS(sizes); s++) {
			unsigned long iova = (b * 4 + s) * SZ_16M;
			uint64_t pa = bits[b].pa_bit | sizes[s];
			int level = sizes[s] >= SZ_1M ? 1 : 2;
			uint64_t raw;

			assert_map(f, iova, pa, sizes[s], 1, RW);
			raw = raw_at(f, level, iova);
			g_assert_cmphex(raw & 0x230, ==, bits[b].pte_bit);
			uint32_t addr = sizes[s] >= SZ_1M ? 0xFFF00000 :
					sizes[s] == SZ_64K ? 0xFFFF0000 :
							     0xFFFFF000;

			g_assert_cmphex(raw & addr, ==, sizes[s]);
			g_assert_cmphex(lookup(f, level, iova).oa, ==, pa);
			g_assert_cmphex(phys(f, iova + sizes[s] - 1), ==,
					pa + sizes[s] - 1);
		}
	}
	/* supersection and large page with all three */
	assert_map(f, 12 * SZ_16M, 0x701000000ULL, SZ_16M, 1, RW);
	g_assert_cmphex(raw_at(f, 1, 12 * SZ_16M + 5 * SZ_1M), ==,
			0x01000000 | 0x71002 | 0x230);
	g_assert_cmphex(phys(f, 12 * SZ_16M + 0xABCDEF), ==, 0x701ABCDEFULL);
	assert_map(f, 13 * SZ_16M + SZ_64K, 0x700010000ULL, SZ_64K, 1, RW);
	g_assert_cmphex(raw_at(f, 2, 13 * SZ_16M + SZ_64K + 15 * SZ_4K), ==,
			0x00010000 | 0x1C01 | 0x230);
	g_assert_cmphex(phys(f, 13 * SZ_16M + SZ_64K + 0xFEDC), ==,
			0x70001FEDCULL);
}

static void test_mtk_limits(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("MTK_EXT: iova below 2^34 and PA below 2^35 map; one "
		       "beyond is -ERANGE");
	f->cfg.quirks = MTK_QUIRKS;
	f->cfg.ias = 34;
	f->cfg.oas = 35;
	table_new(f);
	assert_map(f, (1UL << 34) - SZ_16M, (1ULL << 35) - SZ_16M, SZ_16M, 1,
		   RW);
	g_assert_cmphex(phys(f, (1UL << 34) - 1), ==, (1ULL << 35) - 1);
	assert_map(f, 0x300000000UL, 0x400000000ULL, SZ_4K, 1, RW);
	g_assert_cmphex(phys(f, 0x300000010UL), ==, 0x400000010ULL);
	g_assert_cmpint(map(f, 1UL << 34, 0, SZ_4K, 1, RW), ==, -ERANGE);
	g_assert_cmpint(map(f, 0, 1ULL << 35, SZ_4K, 1, RW), ==, -ERANGE);
	g_assert_cmpuint(unmap(f, 0x300000000UL, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(unmap(f, 1UL << 34, SZ_4K, 1, NULL), ==, 0);
}

static void test_mtk_ttbr_ext(struct fixture *f, gconstpointer data)
{
	uint64_t root, l2;
	uint32_t l1;
	GArray *pas;

	(void)data;
	g_test_summary("MTK_TTBR_EXT: tables above 4 GiB; TTBR carries "
		       "PA[34:32] in bits [2:0], table descriptors in 9/4/5");
	f->cfg.quirks = MTK_QUIRKS | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT;
	f->cfg.oas = 35;
	table_new(f);
	root = f->pgt->root_pa;
	g_assert_cmphex(root, >=, SZ_4G);
	g_assert_cmphex(root, <, 1ULL << 35);
	g_assert_cmphex(f->cfg.arm_v7s_cfg.ttbr, ==,
			(uint32_t)root | (uint32_t)(root >> 32));

	assert_map(f, 0x1000, 0x5000, SZ_4K, 1, RW);
	l1 = raw_at(f, 1, 0);
	l2 = lookup(f, 1, 0).oa;
	g_assert_cmphex(l2, >=, SZ_4G);
	g_assert_cmphex(l1 & 0xFFFFFC00, ==, (uint32_t)l2);
	g_assert_cmphex(l1 & 0x3FF, ==,
			0x1 | (l2 & (1ULL << 32) ? 0x200 : 0) |
			(l2 & (1ULL << 33) ? 0x10 : 0) |
			(l2 & (1ULL << 34) ? 0x20 : 0));
	g_assert_cmphex(phys(f, 0x1234), ==, 0x5234);

	pas = table_pas(f);
	g_assert_cmpuint(pas->len, ==, 2);
	g_assert_cmphex(g_array_index(pas, uint64_t, 0), ==, root);
	g_assert_cmphex(g_array_index(pas, uint64_t, 1), ==, l2);
	g_array_unref(pas);
	g_assert_cmpuint(unmap(f, 0x1000, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmphex(phys(f, 0x1234), ==, 0);
}

/* ---- map: arguments and conflicts ---------------------------------------- */

static void test_map_erange(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("map: iova at or above 2^ias, or paddr at or above "
		       "2^oas, is -ERANGE and changes nothing");
	assert_map(f, 0, 0, SZ_4K, 1, RW);
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, SZ_4G, 0, SZ_4K, 1, RW), ==, -ERANGE);
		g_assert_cmpint(map(f, SZ_4G + SZ_1M, 0, SZ_1M, 1, RW), ==,
				-ERANGE);
		g_assert_cmpint(map(f, 0x1000, SZ_4G, SZ_4K, 1, RW), ==,
				-ERANGE);
		g_assert_cmpint(map(f, SZ_16M, 1ULL << 40, SZ_16M, 1, RW), ==,
				-ERANGE);
		/* before the prot check, as in Linux */
		g_assert_cmpint(map(f, SZ_4G, 0, SZ_4K, 1, 0), ==, -ERANGE);
	});
}

static void test_map_range_past_limit(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("map: a pgcount that runs past 2^ias or 2^oas is "
		       "-ERANGE up front (Linux would wrap to iova 0)");
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, SZ_4G - SZ_4K, 0, SZ_4K, 2, RW), ==,
				-ERANGE);
		g_assert_cmpint(map(f, 0, SZ_4G - SZ_1M, SZ_1M, 2, RW), ==,
				-ERANGE);
		g_assert_cmpint(map(f, 0, 0, SZ_4K, ~(size_t)0 / 2, RW), ==,
				-ERANGE);
	});
	/* exactly up to the limit is fine */
	assert_map(f, SZ_4G - 2 * SZ_4K, SZ_4G - 2 * SZ_4K, SZ_4K, 2, RW);
	g_assert_cmphex(phys(f, SZ_4G - 1), ==, SZ_4G - 1);
	g_assert_cmphex(phys(f, 0), ==, 0);
}

static void test_map_no_read_write(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("map: prot without READ and WRITE is -EINVAL");
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, 0, 0, SZ_4K, 1, 0), ==, -EINVAL);
		g_assert_cmpint(map(f, 0, 0, SZ_1M, 1,
				    IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO |
				    IOMMU_PRIV), ==, -EINVAL);
	});
	g_assert_cmphex(phys(f, 0x10), ==, 0);
}

static void test_map_zero_pgcount(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("map: pgcount 0 is -EINVAL, as Linux's loop leaves it");
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, 0, 0, SZ_4K, 0, RW), ==, -EINVAL);
	});
}

static void test_map_bad_pgsize(struct fixture *f, gconstpointer data)
{
	static const size_t bad[] = {
		0, SZ_1K, 2 * SZ_4K, SZ_16K, SZ_4K | SZ_64K, SZ_2M, SZ_32M,
		SZ_1G, SZ_1M | SZ_16M,
	};

	(void)data;
	g_test_summary("map: a page size outside the bitmap, or two of them, "
		       "is -EINVAL (Linux writes a malformed entry)");
	assert_map(f, SZ_16M, SZ_16M, SZ_16M, 1, RW);
	assert_unchanged_after(f, {
		for (unsigned int i = 0; i < G_N_ELEMENTS(bad); i++)
			g_assert_cmpint(map(f, 0, 0, bad[i], 1, RW), ==,
					-EINVAL);
	});
	g_assert_cmpuint(log_capture_count(&f->log, "is not in 0x1111000"), ==,
			 G_N_ELEMENTS(bad));
	table_free(f);

	/* a bitmap without 4K: no small pages, whichever path is taken */
	f->cfg.pgsize_bitmap = SZ_64K | SZ_1M;
	table_new(f);
	assert_map(f, 0, 0, SZ_64K, 1, RW);
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, SZ_64K, 0, SZ_4K, 1, RW), ==, -EINVAL);
		g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, 0);
	});
}

static void test_map_misaligned(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("map: an iova or paddr not aligned to pgsize is "
		       "-EINVAL");
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, 0x800, 0, SZ_4K, 1, RW), ==, -EINVAL);
		g_assert_cmpint(map(f, 0, 0x800, SZ_4K, 1, RW), ==, -EINVAL);
		g_assert_cmpint(map(f, SZ_4K, 0, SZ_64K, 1, RW), ==, -EINVAL);
		g_assert_cmpint(map(f, 0, SZ_4K, SZ_64K, 1, RW), ==, -EINVAL);
		g_assert_cmpint(map(f, SZ_64K, 0, SZ_1M, 1, RW), ==, -EINVAL);
		g_assert_cmpint(map(f, 0, SZ_1M, SZ_16M, 1, RW), ==, -EINVAL);
		g_assert_cmpint(map(f, SZ_1M, 0, SZ_16M, 1, RW), ==, -EINVAL);
	});
}

/* Existing mapping, then one that overlaps it: every pairing is -EEXIST. */
static const struct {
	size_t old_size;
	unsigned long old_iova;
	size_t new_size;
	unsigned long new_iova;
} overlaps[] = {
	{ SZ_4K, SZ_16M + SZ_64K, SZ_4K, SZ_16M + SZ_64K },
	{ SZ_4K, SZ_16M + SZ_64K + SZ_4K, SZ_64K, SZ_16M + SZ_64K },
	{ SZ_64K, SZ_16M + SZ_64K, SZ_4K, SZ_16M + SZ_64K + 15 * SZ_4K },
	{ SZ_64K, SZ_16M + SZ_64K, SZ_64K, SZ_16M + SZ_64K },
	{ SZ_1M, SZ_16M + SZ_1M, SZ_4K, SZ_16M + SZ_1M + SZ_4K },
	{ SZ_1M, SZ_16M + SZ_1M, SZ_64K, SZ_16M + SZ_1M + SZ_64K },
	{ SZ_1M, SZ_16M + SZ_1M, SZ_1M, SZ_16M + SZ_1M },
	{ SZ_1M, SZ_16M + 15 * SZ_1M, SZ_16M, SZ_16M },
	{ SZ_16M, SZ_16M, SZ_4K, SZ_16M + 7 * SZ_1M },
	{ SZ_16M, SZ_16M, SZ_64K, SZ_16M + 15 * SZ_1M + 15 * SZ_64K },
	{ SZ_16M, SZ_16M, SZ_1M, SZ_16M + 9 * SZ_1M },
	{ SZ_16M, SZ_16M, SZ_16M, SZ_16M },
};

static void test_map_overlap(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("map: over any existing leaf, same size, smaller or "
		       "larger, is -EEXIST and changes nothing");
	for (unsigned int i = 0; i < G_N_ELEMENTS(overlaps); i++) {
		unsigned long old_iova = overlaps[i].old_iova;

		table_new(f);
		assert_map(f, old_iova, old_iova, overlaps[i].old_size, 1, RW);
		assert_unchanged_after(f, {
			g_assert_cmpint(map(f, overlaps[i].new_iova, 0,
					    overlaps[i].new_size, 1,
					    IOMMU_READ), ==, -EEXIST);
		});
		g_assert_cmphex(phys(f, old_iova + 0x42), ==, old_iova + 0x42);
		table_free(f);
	}
	g_assert_cmpuint(log_capture_count(&f->log, "is already mapped"), ==,
			 G_N_ELEMENTS(overlaps));
}

static void test_map_eexist_keeps_tables(struct fixture *f,
					 gconstpointer data)
{
	(void)data;
	g_test_summary("map: a supersection refused for a section in its "
		       "range frees no level-2 table first (Linux would)");
	assert_map(f, SZ_16M, SZ_16M, SZ_4K, 1, RW);
	assert_map(f, SZ_16M + 5 * SZ_1M, 0, SZ_1M, 1, RW);
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, SZ_16M, 0, SZ_16M, 1, RW), ==, -EEXIST);
	});
	g_assert_cmphex(phys(f, SZ_16M + 1), ==, SZ_16M + 1);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
}

static void test_map_stops_at_first_error(struct fixture *f,
					  gconstpointer data)
{
	(void)data;
	g_test_summary("map: pgcount stops at the first error; the pages "
		       "before it stay mapped and are counted");
	size_t mapped = 0;

	assert_map(f, 2 * SZ_4K, 0, SZ_4K, 1, RW);
	g_assert_cmpint(f->pgt->ops.map_pages(&f->pgt->ops, 0, SZ_1M, SZ_4K, 4,
					      RW, &mapped), ==, -EEXIST);
	g_assert_cmpuint(mapped, ==, 2 * SZ_4K);
	g_assert_cmphex(phys(f, 0), ==, SZ_1M);
	g_assert_cmphex(phys(f, SZ_4K), ==, SZ_1M + SZ_4K);
	g_assert_cmphex(phys(f, 2 * SZ_4K), ==, 0);
	g_assert_cmphex(phys(f, 3 * SZ_4K), ==, 0);

	/* *mapped is added to, never reset */
	mapped = 100;
	g_assert_cmpint(f->pgt->ops.map_pages(&f->pgt->ops, SZ_16M, 0, SZ_1M,
					      3, RW, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, 100 + 3 * SZ_1M);
}

static void test_map_pgcount_all(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("map: v7s maps all pgcount pages in one call, across "
		       "level-2 tables");
	assert_map(f, SZ_1M - 8 * SZ_4K, 0x10000000, SZ_4K, 1024, RW);
	for (unsigned long i = 0; i < 1024; i++)
		g_assert_cmphex(phys(f, SZ_1M - 8 * SZ_4K + i * SZ_4K), ==,
				0x10000000 + i * SZ_4K);
	g_assert_cmpuint(unmap(f, SZ_1M - 8 * SZ_4K, SZ_4K, 1024, NULL), ==,
			 1024 * SZ_4K);
	assert_map(f, SZ_16M, SZ_16M, SZ_16M, 8, RW);
	g_assert_cmphex(phys(f, 9 * SZ_16M - 1), ==, 9 * SZ_16M - 1);
}

static void test_map_enomem(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;

	(void)data;
	g_test_summary("map: a level-2 table the host refuses is -ENOMEM, "
		       "with nothing changed");
	st = table_stats(f);
	iopgt_host_set_mem_limit(f->host, st.table_bytes);
	assert_unchanged_after(f, {
		g_assert_cmpint(map(f, 0, 0, SZ_4K, 1, RW), ==, -ENOMEM);
		g_assert_cmpint(map(f, 0, 0, SZ_64K, 1, RW), ==, -ENOMEM);
	});
	/* sections need no table */
	assert_map(f, SZ_1M, 0, SZ_1M, 1, RW);
	iopgt_host_set_mem_limit(f->host, 0);
	assert_map(f, 0, 0, SZ_4K, 1, RW);
}

static void test_map_section_replaces_table(struct fixture *f,
					    gconstpointer data)
{
	(void)data;
	g_test_summary("map: a section over a level-2 table replaces it, "
		       "leaves and all, with tlb_flush_walk(iova, 1M, 4K)");
	assert_map(f, SZ_1M + SZ_4K, 0x1000, SZ_4K, 1, RW);
	assert_map(f, SZ_1M + SZ_64K, 0x10000, SZ_64K, 1, RW);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K + SZ_4K);
	tlb_recorder_reset(&f->tlb);

	assert_map(f, SZ_1M, 0x300000, SZ_1M, 1, RW);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_tlb_call(f->tlb.walks, 0, SZ_1M, SZ_1M, SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	g_assert_cmphex(phys(f, SZ_1M + SZ_4K), ==, 0x301000);
	g_assert_cmphex(raw_at(f, 1, SZ_1M), ==, 0x003B1C02);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K);
}

static void test_map_supersection_replaces_tables(struct fixture *f,
						  gconstpointer data)
{
	(void)data;
	g_test_summary("map: a supersection over level-2 tables replaces "
		       "each, with one tlb_flush_walk per table");
	assert_map(f, SZ_16M, 0, SZ_4K, 1, RW);
	assert_map(f, SZ_16M + 3 * SZ_1M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, SZ_16M + 3 * SZ_1M, SZ_4K, 1, NULL), ==,
			 SZ_4K);
	tlb_recorder_reset(&f->tlb);
	/* an empty leftover table counts too */
	assert_map(f, SZ_16M, 0x05000000, SZ_16M, 1, RW);
	g_assert_cmpuint(f->tlb.walks->len, ==, 2);
	assert_tlb_call(f->tlb.walks, 0, SZ_16M, SZ_1M, SZ_4K);
	assert_tlb_call(f->tlb.walks, 1, SZ_16M + 3 * SZ_1M, SZ_1M, SZ_4K);
	g_assert_cmphex(phys(f, SZ_16M + 3 * SZ_1M), ==, 0x05300000);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K);
}

/* ---- unmap --------------------------------------------------------------- */

static void test_unmap_exact(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("unmap: each size unmapped whole returns its size and "
		       "the translation is gone");
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		unsigned long iova = (i + 1) * SZ_16M;

		assert_map(f, iova, iova, sizes[i], 1, RW);
		g_assert_cmpuint(unmap(f, iova, sizes[i], 1, NULL), ==,
				 sizes[i]);
		g_assert_cmphex(phys(f, iova + sizes[i] - 1), ==, 0);
	}
}

static void test_unmap_partial(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("unmap: part of a large page, section or supersection "
		       "returns 0 and leaves it mapped (no split since 6.13)");
	assert_map(f, SZ_64K, SZ_64K, SZ_64K, 1, RW);
	assert_map(f, SZ_16M + SZ_1M, SZ_1M, SZ_1M, 1, RW);
	assert_map(f, 2 * SZ_16M, 2 * SZ_16M, SZ_16M, 1, RW);
	assert_unchanged_after(f, {
		g_assert_cmpuint(unmap(f, SZ_64K + SZ_4K, SZ_4K, 1, NULL), ==,
				 0);
		g_assert_cmpuint(unmap(f, SZ_64K, SZ_4K, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, SZ_16M + SZ_1M, SZ_4K, 1, NULL), ==,
				 0);
		g_assert_cmpuint(unmap(f, SZ_16M + SZ_1M + SZ_64K, SZ_64K, 1,
				       NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 2 * SZ_16M, SZ_1M, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 2 * SZ_16M + 3 * SZ_1M, SZ_1M, 1,
				       NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 2 * SZ_16M + SZ_4K, SZ_4K, 1, NULL),
				 ==, 0);
		g_assert_cmpuint(unmap(f, 2 * SZ_16M, SZ_64K, 1, NULL), ==, 0);
	});
	g_assert_cmpuint(log_capture_count(&f->log, "partial large IOPTE"), ==,
			 8);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
}

static void test_unmap_hole(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("unmap: a hole returns 0 (never a negative errno cast "
		       "to size_t) and changes nothing");
	assert_map(f, SZ_4K, 0, SZ_4K, 1, RW);
	assert_map(f, SZ_16M + SZ_4K, 0, SZ_4K, 1, RW);
	assert_unchanged_after(f, {
		g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 2 * SZ_1M, SZ_4K, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, SZ_64K, SZ_64K, 1, NULL), ==, 0);
		/* one of 16 slots holding a page is not enough */
		g_assert_cmpuint(unmap(f, 0, SZ_64K, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 2 * SZ_1M, SZ_1M, 1, NULL), ==, 0);
		/* a level-2 table in slot 0 of 16, the rest empty */
		g_assert_cmpuint(unmap(f, SZ_16M, SZ_16M, 1, NULL), ==, 0);
	});
	g_assert_cmpuint(log_capture_count(&f->log, "is not mapped"), ==, 6);
}

static void test_unmap_stops_at_hole(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("unmap: pgcount stops at the first hole and returns "
		       "the mapped prefix");
	assert_map(f, 0, 0, SZ_4K, 2, RW);
	assert_map(f, 3 * SZ_4K, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 4, NULL), ==, 2 * SZ_4K);
	g_assert_cmphex(phys(f, 3 * SZ_4K + 1), ==, 1);
	assert_map(f, SZ_16M, 0, SZ_1M, 3, RW);
	g_assert_cmpuint(unmap(f, SZ_16M, SZ_1M, 16, NULL), ==, 3 * SZ_1M);
}

static void test_unmap_hole_warns_once(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("iommu_unmap of 8K over one mapped 4K page: the batch "
		       "stops at the hole quietly, the retry at the hole says "
		       "'not mapped' once (issue 12 item 5)");
	assert_map(f, SZ_4K, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, SZ_4K, 2 * SZ_4K,
					     NULL), ==, SZ_4K);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "arm-v7s: unmap: iova 0x2000 is not mapped"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log, "is not mapped"), ==, 1);
	/* the same in one call: the hole after a page is not a refusal */
	assert_map(f, SZ_1M, 0, SZ_1M, 1, RW);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_1M, 2, NULL), ==, SZ_1M);
	g_assert_cmpuint(log_capture_count(&f->log, "is not mapped"), ==, 1);
	/* and a hole first is one */
	g_assert_cmpuint(unmap(f, 2 * SZ_1M, SZ_1M, 2, NULL), ==, 0);
	g_assert_cmpuint(log_capture_count(&f->log, "is not mapped"), ==, 2);
}

static void test_unmap_bad_arguments(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("unmap: iova past ias, a size outside the bitmap, a "
		       "misaligned iova, pgcount 0 or a range past ias: 0");
	assert_map(f, 0, 0, SZ_16M, 1, RW);
	assert_map(f, SZ_4G - SZ_1M, 0, SZ_4K, 1, RW);
	assert_unchanged_after(f, {
		g_assert_cmpuint(unmap(f, SZ_4G, SZ_4K, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 0, SZ_2M, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 0, 0, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 0, SZ_16M | SZ_1M, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, SZ_1M, SZ_16M, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, 0, SZ_16M, 0, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, SZ_4G - SZ_1M, SZ_4K, 257, NULL), ==,
				 0);
	});
}

static void test_unmap_section_over_table(struct fixture *f,
					  gconstpointer data)
{
	(void)data;
	g_test_summary("unmap: 1M over a level-2 table returns 1M, flushes "
		       "the walk, frees the table and its pages");
	assert_map(f, SZ_1M, 0, SZ_4K, 3, RW);
	assert_map(f, SZ_1M + SZ_64K, 0, SZ_64K, 1, RW);
	tlb_recorder_reset(&f->tlb);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_1M, 1, NULL), ==, SZ_1M);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_tlb_call(f->tlb.walks, 0, SZ_1M, SZ_1M, SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	g_assert_cmphex(phys(f, SZ_1M + SZ_4K), ==, 0);
	g_assert_cmphex(raw_at(f, 1, SZ_1M), ==, 0);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K);
}

static void test_unmap_supersection_size(struct fixture *f, gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { 0 };

	(void)data;
	g_test_summary("unmap: 16M over a supersection, or over 16 sections "
		       "and tables, clears all 16 slots");
	assert_map(f, SZ_16M, 0, SZ_16M, 1, RW);
	assert_map(f, 2 * SZ_16M, 0, SZ_1M, 15, RW);
	assert_map(f, 3 * SZ_16M - SZ_1M, 0, SZ_4K, 1, RW);
	tlb_recorder_reset(&f->tlb);
	g_assert_cmpuint(unmap(f, SZ_16M, SZ_16M, 2, &gather), ==, 2 * SZ_16M);
	g_assert_cmpuint(f->tlb.pages->len, ==, 31);
	for (unsigned int i = 0; i < 31; i++)
		assert_tlb_call(f->tlb.pages, i, SZ_16M + i * SZ_1M, SZ_1M,
				SZ_1M);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_tlb_call(f->tlb.walks, 0, 3 * SZ_16M - SZ_1M, SZ_1M, SZ_4K);
	g_assert_cmphex(phys(f, 3 * SZ_16M - SZ_1M), ==, 0);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K);
}

static void test_unmap_large_page_size(struct fixture *f, gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { 0 };

	(void)data;
	g_test_summary("unmap: 64K over 16 small pages clears them all");
	assert_map(f, SZ_64K, SZ_64K, SZ_4K, 16, RW);
	tlb_recorder_reset(&f->tlb);
	g_assert_cmpuint(unmap(f, SZ_64K, SZ_64K, 1, &gather), ==, SZ_64K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 16);
	for (unsigned int i = 0; i < 16; i++)
		assert_tlb_call(f->tlb.pages, i, SZ_64K + i * SZ_4K, SZ_4K,
				SZ_4K);
	g_assert_cmphex(phys(f, SZ_64K + SZ_4K), ==, 0);
}

/* ---- TLB callbacks ------------------------------------------------------- */

static void test_tlb_null_gather(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("pgtable.h's rule: tlb_add_page only into a gather, "
		       "never with a NULL one (Linux's v7s calls it 1, 16, 1, "
		       "16 times with NULL); the entries are cleared all the "
		       "same");
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++)
		assert_map(f, (i + 1) * SZ_16M, 0, sizes[i], 1, RW);
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		unsigned long iova = (i + 1) * SZ_16M;

		tlb_recorder_reset(&f->tlb);
		g_assert_cmpuint(unmap(f, iova, sizes[i], 1, NULL), ==,
				 sizes[i]);
		g_assert_cmphex(phys(f, iova), ==, 0);
		g_assert_cmpuint(f->tlb.pages->len, ==, 0);
		g_assert_cmpuint(f->tlb.walks->len, ==, 0);
		g_assert_cmpuint(f->tlb.flush_all, ==, 0);
	}
}

static void test_tlb_live_gather_counts(struct fixture *f, gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { 0 };

	(void)data;
	g_test_summary("tlb_add_page once per cleared entry into a live "
		       "gather: 1, 16, 1, 16 calls for 4K, 64K, 1M, 16M");
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++)
		assert_map(f, (i + 1) * SZ_16M, 0, sizes[i], 1, RW);
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		unsigned long iova = (i + 1) * SZ_16M;
		size_t granule = sizes[i] >= SZ_1M ? SZ_1M : SZ_4K;
		unsigned int n = sizes[i] / granule;

		tlb_recorder_reset(&f->tlb);
		g_assert_cmpuint(unmap(f, iova, sizes[i], 1, &gather), ==,
				 sizes[i]);
		g_assert_cmpuint(f->tlb.pages->len, ==, n);
		for (unsigned int j = 0; j < n; j++)
			assert_tlb_call(f->tlb.pages, j, iova + j * granule,
					granule, granule);
		g_assert_cmpuint(f->tlb.walks->len, ==, 0);
		g_assert_cmpuint(f->tlb.flush_all, ==, 0);
	}
}

static void test_tlb_gather(struct fixture *f, gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { 0 };

	(void)data;
	g_test_summary("A gather that is not queued gets tlb_add_page; a "
		       "queued one does not, but table removal still flushes");
	assert_map(f, 0, 0, SZ_4K, 4, RW);
	assert_map(f, SZ_1M, 0, SZ_4K, 1, RW);
	tlb_recorder_reset(&f->tlb);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 2, &gather), ==, 2 * SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 2);

	gather.queued = true;
	tlb_recorder_reset(&f->tlb);
	g_assert_cmpuint(unmap(f, 2 * SZ_4K, SZ_4K, 1, &gather), ==, SZ_4K);
	g_assert_cmpuint(unmap(f, 3 * SZ_4K, SZ_4K, 1, &gather), ==, SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	assert_map(f, 0, 0, SZ_4K, 2, RW);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 2, &gather), ==, 2 * SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_1M, 1, &gather), ==, SZ_1M);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_tlb_call(f->tlb.walks, 0, SZ_1M, SZ_1M, SZ_4K);
}

static void test_tlb_map_never_flushes(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Mapping into empty slots calls no TLB operation");
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++)
		assert_map(f, (i + 1) * SZ_16M, 0, sizes[i], 2, RW);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
	g_assert_cmpuint(f->tlb.flush_all, ==, 0);
}

static void test_tlb_none(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("cfg.tlb NULL, or with NULL members, is fine");
	static const struct iopgt_flush_ops empty = { 0 };

	f->cfg.tlb = NULL;
	table_new(f);
	assert_map(f, 0, 0, SZ_4K, 1, RW);
	assert_map(f, SZ_16M, 0, SZ_16M, 1, RW);
	g_assert_cmpuint(unmap(f, 0, SZ_1M, 1, NULL), ==, SZ_1M);
	g_assert_cmpuint(unmap(f, SZ_16M, SZ_16M, 1, NULL), ==, SZ_16M);
	table_free(f);

	f->cfg.tlb = &empty;
	table_new(f);
	assert_map(f, 0, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(unmap(f, 0, SZ_1M, 1, NULL), ==, SZ_1M);
}

/* ---- DMA syncs for a non-coherent walker --------------------------------- */

static uint64_t syncs(struct fixture *f)
{
	return table_stats(f).syncs;
}

static void test_sync_coherent(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A coherent walker is never synced");
	selftest_map_phase(f);
	selftest_unmap_phase(f);
	assert_map(f, SZ_1G, 0, SZ_4K, 1, RW);
	assert_map(f, SZ_1G, 0, SZ_1M, 1, RW);
	g_assert_cmpuint(syncs(f), ==, 0);
}

static void test_sync_non_coherent(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Non-coherent: one sync per table write, as Linux's "
		       "__arm_v7s_pte_sync and dma_map_single of new tables");
	f->cfg.coherent_walk = false;
	table_new(f);
	/* the new level-1 table */
	g_assert_cmpuint(syncs(f), ==, 1);
	/* a new level-2 table, its level-1 entry, the leaf */
	assert_map(f, 0, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(syncs(f), ==, 4);
	/* the level-1 entry again (Linux can't know it was synced), leaf */
	assert_map(f, SZ_4K, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(syncs(f), ==, 6);
	/* 16 entries, one sync */
	assert_map(f, SZ_64K, 0, SZ_64K, 1, RW);
	g_assert_cmpuint(syncs(f), ==, 8);
	assert_map(f, SZ_1M, 0, SZ_1M, 1, RW);
	g_assert_cmpuint(syncs(f), ==, 9);
	assert_map(f, SZ_16M, 0, SZ_16M, 1, RW);
	g_assert_cmpuint(syncs(f), ==, 10);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(syncs(f), ==, 11);
	g_assert_cmpuint(unmap(f, SZ_16M, SZ_16M, 1, NULL), ==, SZ_16M);
	g_assert_cmpuint(syncs(f), ==, 12);
	/* a section over a table: clear the table entry, then the section */
	assert_map(f, 0, 0, SZ_1M, 1, RW);
	g_assert_cmpuint(syncs(f), ==, 14);
	/* errors write nothing and sync nothing */
	g_assert_cmpint(map(f, 0, 0, SZ_4K, 1, RW), ==, -EEXIST);
	g_assert_cmpuint(unmap(f, 2 * SZ_1M, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 14);
}

/* ---- table memory -------------------------------------------------------- */

static void test_mem_l2_packing(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;
	GArray *pas;

	(void)data;
	g_test_summary("Four level-2 tables take one 4K page beyond level 1; "
		       "the fifth takes another");
	for (unsigned long i = 0; i < 4; i++)
		assert_map(f, i * SZ_1M, 0, SZ_4K, 1, RW);
	st = table_stats(f);
	g_assert_cmpuint(st.table_bytes, ==, SZ_16K + SZ_4K);
	g_assert_cmpuint(st.table_allocs, ==, 2);

	pas = table_pas(f);
	g_assert_cmpuint(pas->len, ==, 5);
	for (guint i = 2; i < pas->len; i++)
		g_assert_cmphex(g_array_index(pas, uint64_t, i) & ~0xFFFULL, ==,
				g_array_index(pas, uint64_t, 1) & ~0xFFFULL);
	g_array_unref(pas);

	assert_map(f, 4 * SZ_1M, 0, SZ_4K, 1, RW);
	st = table_stats(f);
	g_assert_cmpuint(st.table_bytes, ==, SZ_16K + 2 * SZ_4K);
	g_assert_cmpuint(st.table_allocs, ==, 3);
}

static void test_mem_l2_release(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A page of level-2 tables goes back to the host when "
		       "its last table is freed, not before");
	for (unsigned long i = 0; i < 5; i++)
		assert_map(f, i * SZ_1M, 0, SZ_4K, 1, RW);
	for (unsigned long i = 0; i < 3; i++) {
		g_assert_cmpuint(unmap(f, i * SZ_1M, SZ_1M, 1, NULL), ==,
				 SZ_1M);
		g_assert_cmpuint(table_stats(f).table_bytes, ==,
				 SZ_16K + 2 * SZ_4K);
	}
	g_assert_cmpuint(unmap(f, 3 * SZ_1M, SZ_1M, 1, NULL), ==, SZ_1M);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K + SZ_4K);
	g_assert_cmpuint(table_stats(f).table_allocs, ==, 2);
	/* a freed slot is reused before a new page is taken */
	for (unsigned long i = 0; i < 3; i++)
		assert_map(f, (8 + i) * SZ_1M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K + SZ_4K);
	assert_map(f, 12 * SZ_1M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(table_stats(f).table_bytes, ==, SZ_16K + 2 * SZ_4K);
}

static void test_mem_l2_zeroed_on_reuse(struct fixture *f, gconstpointer data)
{
	unsigned int l1, l2;

	(void)data;
	g_test_summary("A freed level-2 table that still held leaves comes "
		       "back zeroed");
	assert_map(f, 0, 0, SZ_4K, 256, RW);
	assert_map(f, SZ_1M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, 0, SZ_1M, 1, NULL), ==, SZ_1M);
	assert_map(f, 2 * SZ_1M + SZ_4K, 0x7000, SZ_4K, 1, RW);
	count_entries(f, &l1, &l2);
	g_assert_cmpuint(l1, ==, 2);
	g_assert_cmpuint(l2, ==, 2);
	g_assert_cmphex(phys(f, 2 * SZ_1M), ==, 0);
	g_assert_cmphex(phys(f, 2 * SZ_1M + SZ_4K), ==, 0x7000);
}

static void test_mem_free_releases_all(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;

	(void)data;
	g_test_summary("Freeing a table with hundreds of level-2 tables "
		       "leaves no table memory and no state behind");
	for (unsigned long i = 0; i < 700; i++)
		assert_map(f, i * SZ_1M + (i % 256) * SZ_4K, 0, SZ_4K, 1, RW);
	st = table_stats(f);
	g_assert_cmpuint(st.table_bytes, ==, SZ_16K + 175 * SZ_4K);
	g_assert_cmpuint(st.state_bytes, >, 0);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, SZ_16K + 175 * SZ_4K);
	table_free(f);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.table_allocs, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_cmpuint(log_capture_count(&f->log, "leaked"), ==, 0);
}

/* ---- walk ---------------------------------------------------------------- */

static void test_walk_order(struct fixture *f, gconstpointer data)
{
	char *got, *want;
	uint64_t l2;

	(void)data;
	g_test_summary("walk: level 1, then each level-2 table right after "
		       "its table entry, entries in slot order, table_end");
	f->cfg.quirks = 0;
	table_new(f);
	assert_map(f, SZ_1M + 2 * SZ_4K, 0x3000, SZ_4K, 1, RW);
	assert_map(f, 3 * SZ_1M, 0x500000, SZ_1M, 1, RW);
	l2 = lookup(f, 1, SZ_1M).oa;
	got = dump(f);
	want = g_strdup_printf(
		"table L1 pa=%#" G_GINT64_MODIFIER "x size=0x4000\n"
		"  L1[1] table iova=0x100000 size=0x100000 raw=%#"
		G_GINT64_MODIFIER "x oa=%#" G_GINT64_MODIFIER "x\n"
		"table L2 pa=%#" G_GINT64_MODIFIER "x size=0x400\n"
		"  L2[2] leaf iova=0x102000 size=0x1000 raw=0x3c72 oa=0x3000\n"
		"end L2 pa=%#" G_GINT64_MODIFIER "x\n"
		"  L1[3] leaf iova=0x300000 size=0x100000 raw=0x531c02 "
		"oa=0x500000\n"
		"end L1 pa=%#" G_GINT64_MODIFIER "x\n",
		f->pgt->root_pa, l2 | 1, l2, l2, l2, f->pgt->root_pa);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
}

static int stop_at_second(void *data, const struct iopgt_walk_entry *e)
{
	unsigned int *n = data;

	(void)e;
	return ++*n == 2 ? 77 : 0;
}

static void test_walk_stop(struct fixture *f, gconstpointer data)
{
	static const struct iopgt_walk_ops ops = { .entry = stop_at_second };
	unsigned int n = 0;

	(void)data;
	g_test_summary("walk: a visitor's non-zero return stops the walk and "
		       "is returned");
	assert_map(f, 0, 0, SZ_1M, 4, RW);
	g_assert_cmpint(iopgt_pgtable_walk(f->host, f->pgt, &ops, &n), ==, 77);
	g_assert_cmpuint(n, ==, 2);
}

static void test_walk_contiguous(struct fixture *f, gconstpointer data)
{
	struct raw_lookup l;

	(void)data;
	g_test_summary("walk: every copy of a supersection or large page is "
		       "reported as the whole 16M / 64K block");
	assert_map(f, SZ_16M, 0x05000000, SZ_16M, 1, RW);
	assert_map(f, 2 * SZ_16M + SZ_64K, 0x70000, SZ_64K, 1, RW);
	l = lookup(f, 1, SZ_16M + 9 * SZ_1M);
	g_assert_cmphex(l.iova, ==, SZ_16M);
	g_assert_cmphex(l.size, ==, SZ_16M);
	g_assert_cmphex(l.oa, ==, 0x05000000);
	l = lookup(f, 2, 2 * SZ_16M + SZ_64K + 11 * SZ_4K);
	g_assert_cmphex(l.iova, ==, 2 * SZ_16M + SZ_64K);
	g_assert_cmphex(l.size, ==, SZ_64K);
	g_assert_cmphex(l.oa, ==, 0x70000);
}

/* ---- iova_to_phys -------------------------------------------------------- */

static void test_iova_to_phys_offsets(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("iova_to_phys keeps the offset within each size, "
		       "contiguous ones included");
	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		unsigned long iova = (i + 1) * SZ_16M;
		uint64_t pa = 0x40000000 + i * SZ_16M;

		assert_map(f, iova, pa, sizes[i], 1, RW);
		g_assert_cmphex(phys(f, iova), ==, pa);
		g_assert_cmphex(phys(f, iova + sizes[i] / 2 + 0x123), ==,
				pa + sizes[i] / 2 + 0x123);
		g_assert_cmphex(phys(f, iova + sizes[i] - 1), ==,
				pa + sizes[i] - 1);
		g_assert_cmphex(phys(f, iova + sizes[i]), ==, 0);
	}
}

static void test_iova_to_phys_aliases(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("iova_to_phys ignores iova bits above ias, as Linux "
		       "(map and unmap refuse such iovas)");
	assert_map(f, SZ_1M, 0x200000, SZ_1M, 1, RW);
	g_assert_cmphex(phys(f, SZ_4G + SZ_1M + 7), ==, 0x200007);
}

/* ---- the plugin file ----------------------------------------------------- */

static void test_plugin_file(struct fixture *f, gconstpointer data)
{
	struct iopgt_plugin *plugin = NULL;
	char *path, **formats;

	(void)data;
	g_test_summary("io-pgtable-arm-v7s.so loads and registers arm-v7s, "
		       "alias ARM_V7S");
	path = g_build_filename(test_plugin_dir(), "io-pgtable-arm-v7s.so",
				NULL);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, &plugin), ==,
			0);
	g_free(path);
	g_assert_cmpstr(iopgt_plugin_get_name(plugin), ==,
			"io-pgtable-arm-v7s");
	g_assert_cmpstr(iopgt_plugin_get_license(plugin), ==, "MIT");
	formats = iopgt_plugin_dup_formats(plugin);
	g_assert_cmpstrv(formats, ((const char *const[]){ "arm-v7s", NULL }));
	g_strfreev(formats);
	g_assert_true(iopgt_host_find_format(f->host, "ARM_V7S") == plugin);

	g_assert_cmpint(iopgt_pgtable_new(f->host, "ARM_V7S", &f->cfg, &f->tlb,
					  &f->pgt), ==, 0);
	selftest_map_phase(f);
	selftest_unmap_phase(f);
	g_assert_cmpint(iopgt_plugin_get_refcount(plugin), ==, 1);
	table_free(f);
	g_assert_cmpint(iopgt_plugin_get_refcount(plugin), ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "io-pgtable-arm-v7s"),
			==, 0);
}

/* ---- reclaim of empty tables (IOPGT_QUIRK_RECLAIM_TABLES) ---------------- */

#define RECLAIM		IOPGT_QUIRK_RECLAIM_TABLES

static uint64_t table_bytes(struct fixture *f)
{
	return table_stats(f).table_bytes;
}

/* flush_walk noting the table bytes at the call: flush first, then free */
static struct fixture *flush_fixture;
static uint64_t flush_seen_bytes;

static void flush_walk_noting_bytes(unsigned long iova, size_t size,
				    size_t granule, void *cookie)
{
	flush_seen_bytes = table_bytes(flush_fixture);
	tlb_recorder_ops.tlb_flush_walk(iova, size, granule, cookie);
}

static const struct iopgt_flush_ops tlb_noting_ops = {
	.tlb_flush_walk = flush_walk_noting_bytes,
};

static void test_reclaim_last_page(struct fixture *f, gconstpointer data)
{
	const unsigned long iova = 5 * SZ_1M + 7 * SZ_4K;
	char *empty, *after;
	uint64_t root;

	(void)data;
	g_test_summary("With RECLAIM_TABLES, unmapping the last page of a "
		       "level-2 table unhooks it, calls tlb_flush_walk(MiB, "
		       "1M, 4K) once while it is still allocated, then gives "
		       "it back: only the level-1 table is left");
	f->cfg.quirks |= RECLAIM;
	f->cfg.tlb = &tlb_noting_ops;
	flush_fixture = f;
	table_new(f);
	g_assert_cmphex(f->pgt->cfg.quirks, ==,
			IO_PGTABLE_QUIRK_ARM_NS | RECLAIM);
	root = table_bytes(f);
	empty = dump(f);

	assert_map(f, iova, SZ_16M, SZ_4K, 1, RW);
	g_assert_cmpuint(table_bytes(f), ==, root + SZ_4K);
	g_assert_cmphex(phys(f, iova + 42), ==, SZ_16M + 42);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);

	g_assert_cmpuint(unmap(f, iova, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_tlb_call(f->tlb.walks, 0, 5 * SZ_1M, SZ_1M, SZ_4K);
	g_assert_cmpuint(flush_seen_bytes, ==, root + SZ_4K);
	after = dump(f);
	g_assert_cmpstr(after, ==, empty);
	g_assert_cmphex(phys(f, iova), ==, 0);
	g_free(empty);
	g_free(after);
}

static void test_reclaim_cache_pages(struct fixture *f, gconstpointer data)
{
	uint64_t root;

	(void)data;
	g_test_summary("Reclaimed level-2 tables go back to their cache, "
		       "which gives a page to the host once its four tables "
		       "are gone");
	f->cfg.quirks |= RECLAIM;
	table_new(f);
	root = table_bytes(f);
	for (unsigned long m = 0; m < 5; m++)
		assert_map(f, m * SZ_1M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(table_bytes(f), ==, root + 2 * SZ_4K);

	/* the fifth table has a page of its own */
	g_assert_cmpuint(unmap(f, 4 * SZ_1M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root + SZ_4K);
	for (unsigned long m = 0; m < 3; m++) {
		g_assert_cmpuint(unmap(f, m * SZ_1M, SZ_4K, 1, NULL), ==,
				 SZ_4K);
		g_assert_cmpuint(table_bytes(f), ==, root + SZ_4K);
	}
	g_assert_cmpuint(unmap(f, 3 * SZ_1M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 5);
	for (unsigned int i = 0; i < 5; i++)
		assert_tlb_call(f->tlb.walks, i, (i ? i - 1 : 4) * SZ_1M,
				SZ_1M, SZ_4K);
}

static void test_reclaim_off(struct fixture *f, gconstpointer data)
{
	uint64_t root;

	(void)data;
	g_test_summary("Without RECLAIM_TABLES an emptied level-2 table stays "
		       "and no walk is flushed (Linux)");
	table_new(f);
	root = table_bytes(f);
	assert_map(f, SZ_1M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root + SZ_4K);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
}

static void test_reclaim_partial(struct fixture *f, gconstpointer data)
{
	uint64_t root;

	(void)data;
	g_test_summary("A level-2 table stays while it maps anything: partial "
		       "unmaps, holes, part of a large page and a failed map "
		       "free nothing; 64K pages count as 16 entries");
	f->cfg.quirks |= RECLAIM;
	table_new(f);
	root = table_bytes(f);

	assert_map(f, 0, 0, SZ_4K, 16, RW);
	assert_map(f, SZ_64K, SZ_1M, SZ_64K, 2, RW);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 15, NULL), ==, 15 * SZ_4K);
	assert_unchanged_after(f, {
		g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, 0);
		g_assert_cmpuint(unmap(f, SZ_64K, SZ_4K, 1, NULL), ==, 0);
		g_assert_cmpint(map(f, SZ_64K, 0, SZ_4K, 1, RW), ==, -EEXIST);
		g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1, NULL), ==, 0);
		g_assert_cmphex(phys(f, 3 * SZ_64K), ==, 0);
	});
	g_assert_cmpuint(table_bytes(f), ==, root + SZ_4K);
	g_assert_cmpuint(unmap(f, 15 * SZ_4K, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(unmap(f, SZ_64K, SZ_64K, 1, NULL), ==, SZ_64K);
	g_assert_cmpuint(table_bytes(f), ==, root + SZ_4K);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
	g_assert_cmphex(phys(f, 2 * SZ_64K + 5), ==, SZ_1M + SZ_64K + 5);
	g_assert_cmpuint(unmap(f, 2 * SZ_64K, SZ_64K, 1, NULL), ==, SZ_64K);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
}

static void test_reclaim_noncoherent(struct fixture *f, gconstpointer data)
{
	uint64_t before;

	(void)data;
	g_test_summary("A non-coherent walker: the level-1 entry a reclaim "
		       "clears is synced, once, after the leaf");
	f->cfg.quirks |= RECLAIM;
	f->cfg.coherent_walk = false;
	table_new(f);
	assert_map(f, SZ_1M, 0, SZ_4K, 2, RW);
	before = table_stats(f).syncs;
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_stats(f).syncs, ==, before + 1);
	g_assert_cmpuint(unmap(f, SZ_1M + SZ_4K, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_stats(f).syncs, ==, before + 1 + 2);
	g_assert_cmpuint(raw_at(f, 1, SZ_1M), ==, 0);
}

static void test_reclaim_sections(struct fixture *f, gconstpointer data)
{
	uint64_t root;

	(void)data;
	g_test_summary("A section map or unmap over a level-2 table removes it "
		       "and the slot's count starts again: the next table "
		       "there is reclaimed as usual");
	f->cfg.quirks |= RECLAIM;
	table_new(f);
	root = table_bytes(f);

	/* Linux: a section over a table drops it, leaves and all */
	assert_map(f, SZ_1M + SZ_4K, 0, SZ_4K, 3, RW);
	assert_map(f, SZ_1M, 0, SZ_1M, 1, RW);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_1M, 1, NULL), ==, SZ_1M);
	assert_map(f, SZ_1M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);

	/* a 1M unmap over a table */
	assert_map(f, SZ_1M + SZ_4K, 0, SZ_4K, 2, RW);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_1M, 1, NULL), ==, SZ_1M);
	g_assert_cmpuint(table_bytes(f), ==, root);
	assert_map(f, SZ_1M, 0, SZ_64K, 1, RW);
	g_assert_cmpuint(unmap(f, SZ_1M, SZ_64K, 1, NULL), ==, SZ_64K);
	g_assert_cmpuint(table_bytes(f), ==, root);
	/* 4K inside a section: refused, and the count stays at zero */
	assert_map(f, SZ_2M, 0, SZ_1M, 1, RW);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_4K, 1, RW), ==, -EEXIST);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_1M, 1, NULL), ==, SZ_1M);
	assert_map(f, SZ_2M, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);
}

static void test_reclaim_enomem(struct fixture *f, gconstpointer data)
{
	uint64_t root;

	(void)data;
	g_test_summary("A map the host refuses a table for leaves no count "
		       "behind");
	f->cfg.quirks |= RECLAIM;
	table_new(f);
	root = table_bytes(f);
	iopgt_host_set_mem_limit(f->host, table_stats(f).table_bytes);
	g_assert_cmpint(map(f, 0, 0, SZ_4K, 1, RW), ==, -ENOMEM);
	iopgt_host_set_mem_limit(f->host, 0);
	assert_map(f, 0, 0, SZ_4K, 1, RW);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);
}

static void test_reclaim_with_other_quirks(struct fixture *f,
					   gconstpointer data)
{
	static const struct {
		unsigned long quirks;
		unsigned int ias, oas;
	} cases[] = {
		{ 0, 32, 32 },
		{ IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS, 32, 32 },
		{ MTK_QUIRKS, 34, 35 },
		{ MTK_QUIRKS | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT, 34, 35 },
	};

	(void)data;
	g_test_summary("RECLAIM_TABLES goes with every v7s quirk and ias, up "
		       "to the top slot of a 34-bit MediaTek table");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		unsigned long iova = (1UL << cases[i].ias) - SZ_1M;
		uint64_t root;

		f->cfg.quirks = cases[i].quirks | RECLAIM;
		f->cfg.ias = cases[i].ias;
		f->cfg.oas = cases[i].oas;
		table_new(f);
		g_assert_cmphex(f->pgt->cfg.quirks, ==,
				cases[i].quirks | RECLAIM);
		root = table_bytes(f);
		assert_map(f, iova, SZ_4G - SZ_64K, SZ_64K, 1, RW);
		g_assert_cmphex(phys(f, iova + 9), ==, SZ_4G - SZ_64K + 9);
		g_assert_cmpuint(unmap(f, iova, SZ_64K, 1, NULL), ==, SZ_64K);
		g_assert_cmpuint(table_bytes(f), ==, root);
		assert_tlb_call(f->tlb.walks, f->tlb.walks->len - 1, iova,
				SZ_1M, SZ_4K);
		table_free(f);
	}
}

/* Level-2 tables with no valid entry, from a walk. */
struct l2_empty {
	unsigned int entries;
	unsigned int empty;
};

static int l2e_table(void *data, uint64_t pa, const void *va, size_t size,
		     int level)
{
	(void)pa;
	(void)va;
	(void)size;
	if (level == 2)
		((struct l2_empty *)data)->entries = 0;
	return 0;
}

static int l2e_entry(void *data, const struct iopgt_walk_entry *e)
{
	if (e->level == 2)
		((struct l2_empty *)data)->entries++;
	return 0;
}

static int l2e_end(void *data, uint64_t pa, int level)
{
	struct l2_empty *l = data;

	(void)pa;
	if (level == 2 && !l->entries)
		l->empty++;
	return 0;
}

static unsigned int empty_l2_tables(struct fixture *f)
{
	static const struct iopgt_walk_ops ops = {
		.table = l2e_table,
		.entry = l2e_entry,
		.table_end = l2e_end,
	};
	struct l2_empty l = { 0 };

	g_assert_cmpint(iopgt_pgtable_walk(f->host, f->pgt, &ops, &l), ==, 0);
	return l.empty;
}

/* 16 MiB: 4096 4K pages, 1 = a small page, 2 = 64K, 3 = 1M, 0 free */
#define CHURN_PAGES	4096

static bool range_free(const uint8_t *shadow, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (shadow[i])
			return false;
	return true;
}

static void test_reclaim_churn(struct fixture *f, gconstpointer data)
{
	static const size_t size_of[] = { 0, SZ_4K, SZ_64K, SZ_1M };
	uint8_t *shadow = g_malloc0(CHURN_PAGES);
	GRand *rand = g_rand_new_with_seed(11);
	unsigned int ops = g_test_slow() ? 200500 : 7500;
	uint64_t root, peak = 0;

	(void)data;
	g_test_summary("Random maps and unmaps of 4K, 64K and 1M never leave "
		       "an empty level-2 table, keep every mapping, and end "
		       "with the level-1 table alone");
	f->cfg.quirks |= RECLAIM;
	table_new(f);
	root = table_bytes(f);

	for (unsigned int op = 0; op < ops; op++) {
		bool fill = op / 1000 % 2 == 0;
		bool do_map = g_rand_int_range(rand, 0, 4) ? fill : !fill;
		unsigned int p = g_rand_int_range(rand, 0, CHURN_PAGES);
		unsigned int kind = g_rand_int_range(rand, 1, 4);
		unsigned int k = g_rand_int_range(rand, 1, 33), n = 0, step;

		while (n < CHURN_PAGES && !shadow[p] != do_map) {
			p = (p + 1) % CHURN_PAGES;
			n++;
		}
		if (n == CHURN_PAGES)
			continue;
		if (shadow[p]) {
			/* unmap a run of the size found at p */
			kind = shadow[p];
			step = size_of[kind] / SZ_4K;
			p &= ~(step - 1);
			for (n = 0; n < k && p + n * step < CHURN_PAGES &&
			     shadow[p + n * step] == kind; n++)
				;
			g_assert_cmpuint(unmap(f, p * SZ_4K, size_of[kind], n,
					       NULL), ==, n * size_of[kind]);
		} else {
			/* map a run of free, aligned blocks of one size */
			step = size_of[kind] / SZ_4K;
			p &= ~(step - 1);
			for (n = 0; n < k && p + n * step < CHURN_PAGES &&
			     range_free(shadow + p + n * step, step); n++)
				;
			if (!n)
				continue;
			assert_map(f, p * SZ_4K, p * SZ_4K, size_of[kind], n,
				   RW);
		}
		memset(shadow + p, shadow[p] ? 0 : (int)kind, n * step);
		if (table_bytes(f) > peak)
			peak = table_bytes(f);
		if (op % 500 == 0)
			g_assert_cmpuint(empty_l2_tables(f), ==, 0);
	}
	g_assert_cmpuint(empty_l2_tables(f), ==, 0);
	for (unsigned int p = 0; p < CHURN_PAGES; p++)
		g_assert_cmphex(phys(f, p * SZ_4K + 8), ==,
				shadow[p] ? p * SZ_4K + 8 : 0);
	g_test_message("churn: %u ops, peak %" G_GUINT64_FORMAT
		       " table bytes, %" G_GUINT64_FORMAT " before the end, "
		       "%u walk flushes", ops, peak, table_bytes(f),
		       f->tlb.walks->len);
	g_assert_cmpuint(f->tlb.walks->len, >, 0);

	for (unsigned int p = 0; p < CHURN_PAGES;) {
		size_t size = size_of[shadow[p]];

		if (!size) {
			p++;
			continue;
		}
		g_assert_cmpuint(unmap(f, p * SZ_4K, size, 1, NULL), ==, size);
		p += size / SZ_4K;
	}
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_rand_free(rand);
	g_free(shadow);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	add_test("/v7s/selftest/ias-32/empty-table-translates-nothing",
		 test_selftest_empty, setup_table);
	add_test("/v7s/selftest/ias-32/each-size-maps-and-overlap-fails",
		 test_selftest_map, setup_table);
	add_test("/v7s/selftest/ias-32/unmap-then-remap-write-only",
		 test_selftest_unmap_remap, setup_table);
	add_test("/v7s/selftest/ias-32/free-flushes-tlb-once",
		 test_selftest_free, setup_table);

	add_test("/v7s/alloc/registers-coherent", test_alloc_regs_coherent,
		 setup);
	add_test("/v7s/alloc/registers-non-coherent",
		 test_alloc_regs_non_coherent, setup);
	add_test("/v7s/alloc/level-1-is-16k-below-4g", test_alloc_l1, setup);
	add_test("/v7s/alloc/pgsize-bitmap-is-narrowed", test_alloc_pgsizes,
		 setup);
	add_test("/v7s/alloc/ias-or-oas-out-of-range-is-einval",
		 test_alloc_ias_oas, setup);
	add_test("/v7s/alloc/small-ias-makes-small-level-1",
		 test_alloc_small_ias, setup);
	add_test("/v7s/alloc/refusal-says-why-as-warning",
		 test_alloc_refusal_says_why, setup);
	add_test("/v7s/alloc/unknown-quirks-are-einval", test_alloc_bad_quirks,
		 setup);
	add_test("/v7s/alloc/mtk-quirk-combinations",
		 test_alloc_mtk_combinations, setup);
	add_test("/v7s/alloc/no-memory-is-enomem", test_alloc_enomem, setup);
	add_test("/v7s/alloc/table-above-oas-does-not-fit",
		 test_alloc_table_does_not_fit, setup);
	add_test("/v7s/alloc/tables-are-below-4g", test_alloc_tables_below_4g,
		 setup_table);

	add_test("/v7s/pte/small-page-is-0x00001c7e", test_pte_small_page,
		 setup);
	add_test("/v7s/pte/section-is-0x001b1c1e", test_pte_section,
		 setup_table);
	add_test("/v7s/pte/supersection-is-16-copies-with-bit-18",
		 test_pte_supersection, setup_table);
	add_test("/v7s/pte/large-page-moves-xn-and-tex", test_pte_large_page,
		 setup);
	add_test("/v7s/pte/prot-by-size", test_pte_prot_table, setup);
	add_test("/v7s/walk/prot-of-every-size-and-quirk", test_walk_prot,
		 setup);
	add_test("/v7s/pte/no-perms-drops-ap-and-xn", test_pte_no_perms, setup);

	add_test("/v7s/mtk/pa-above-4g-round-trips", test_mtk_round_trip,
		 setup);
	add_test("/v7s/mtk/each-pa-bit-has-its-descriptor-bit",
		 test_mtk_each_bit, setup);
	add_test("/v7s/mtk/ias-34-oas-35-limits", test_mtk_limits, setup);
	add_test("/v7s/mtk/ttbr-ext-puts-tables-above-4g", test_mtk_ttbr_ext,
		 setup);

	add_test("/v7s/map/out-of-range-is-erange", test_map_erange,
		 setup_table);
	add_test("/v7s/map/range-past-limit-is-erange",
		 test_map_range_past_limit, setup_table);
	add_test("/v7s/map/no-read-no-write-is-einval", test_map_no_read_write,
		 setup_table);
	add_test("/v7s/map/zero-pgcount-is-einval", test_map_zero_pgcount,
		 setup_table);
	add_test("/v7s/map/pgsize-not-in-bitmap-is-einval", test_map_bad_pgsize,
		 setup_table);
	add_test("/v7s/map/misaligned-is-einval", test_map_misaligned,
		 setup_table);
	add_test("/v7s/map/overlap-is-eexist", test_map_overlap, setup);
	add_test("/v7s/map/eexist-frees-no-table-first",
		 test_map_eexist_keeps_tables, setup_table);
	add_test("/v7s/map/pgcount-stops-at-first-error",
		 test_map_stops_at_first_error, setup_table);
	add_test("/v7s/map/pgcount-maps-every-page", test_map_pgcount_all,
		 setup_table);
	add_test("/v7s/map/no-memory-is-enomem", test_map_enomem, setup_table);
	add_test("/v7s/map/section-replaces-level-2-table",
		 test_map_section_replaces_table, setup_table);
	add_test("/v7s/map/supersection-replaces-level-2-tables",
		 test_map_supersection_replaces_tables, setup_table);

	add_test("/v7s/unmap/exact-size-returns-size", test_unmap_exact,
		 setup_table);
	add_test("/v7s/unmap/partial-large-entry-returns-0", test_unmap_partial,
		 setup_table);
	add_test("/v7s/unmap/hole-returns-0", test_unmap_hole, setup_table);
	add_test("/v7s/unmap/hole-after-pages-warns-once",
		 test_unmap_hole_warns_once, setup_table);
	add_test("/v7s/unmap/pgcount-stops-at-hole", test_unmap_stops_at_hole,
		 setup_table);
	add_test("/v7s/unmap/bad-arguments-return-0", test_unmap_bad_arguments,
		 setup_table);
	add_test("/v7s/unmap/section-size-frees-level-2-table",
		 test_unmap_section_over_table, setup_table);
	add_test("/v7s/unmap/supersection-size-clears-16-slots",
		 test_unmap_supersection_size, setup_table);
	add_test("/v7s/unmap/large-page-size-clears-16-pages",
		 test_unmap_large_page_size, setup_table);

	add_test("/v7s/tlb/add-page-per-entry-into-gather",
		 test_tlb_live_gather_counts, setup_table);
	add_test("/v7s/tlb/no-add-page-with-null-gather", test_tlb_null_gather,
		 setup_table);
	add_test("/v7s/tlb/queued-gather-skips-add-page", test_tlb_gather,
		 setup_table);
	add_test("/v7s/tlb/map-never-flushes", test_tlb_map_never_flushes,
		 setup_table);
	add_test("/v7s/tlb/no-callbacks-is-fine", test_tlb_none, setup);

	add_test("/v7s/sync/coherent-walk-never-syncs", test_sync_coherent,
		 setup_table);
	add_test("/v7s/sync/non-coherent-syncs-every-write",
		 test_sync_non_coherent, setup);

	add_test("/v7s/mem/four-level-2-tables-share-a-page",
		 test_mem_l2_packing, setup_table);
	add_test("/v7s/mem/level-2-page-released-when-empty",
		 test_mem_l2_release, setup_table);
	add_test("/v7s/mem/level-2-table-zeroed-on-reuse",
		 test_mem_l2_zeroed_on_reuse, setup_table);
	add_test("/v7s/mem/free-releases-everything",
		 test_mem_free_releases_all, setup_table);

	add_test("/v7s/walk/level-2-follows-its-table-entry", test_walk_order,
		 setup);
	add_test("/v7s/walk/visitor-stop-is-returned", test_walk_stop,
		 setup_table);
	add_test("/v7s/walk/contiguous-copies-report-whole-block",
		 test_walk_contiguous, setup_table);

	add_test("/v7s/iova-to-phys/keeps-offset-in-every-size",
		 test_iova_to_phys_offsets, setup_table);
	add_test("/v7s/iova-to-phys/ignores-bits-above-ias",
		 test_iova_to_phys_aliases, setup_table);

	add_test("/v7s/plugin/loads-from-file", test_plugin_file, setup_bare);

	add_test("/v7s/reclaim/last-page-frees-its-table",
		 test_reclaim_last_page, setup);
	add_test("/v7s/reclaim/cache-gives-pages-back",
		 test_reclaim_cache_pages, setup);
	add_test("/v7s/reclaim/off-keeps-empty-tables", test_reclaim_off,
		 setup);
	add_test("/v7s/reclaim/partial-unmap-keeps-table",
		 test_reclaim_partial, setup);
	add_test("/v7s/reclaim/noncoherent-syncs-unhooked-entry",
		 test_reclaim_noncoherent, setup);
	add_test("/v7s/reclaim/sections-restart-the-count",
		 test_reclaim_sections, setup);
	add_test("/v7s/reclaim/enomem-leaves-no-count",
		 test_reclaim_enomem, setup);
	add_test("/v7s/reclaim/with-every-quirk",
		 test_reclaim_with_other_quirks, setup);
	add_test("/v7s/reclaim/churn-ends-with-the-pgd-alone",
		 test_reclaim_churn, setup);

	return g_test_run();
}
