// SPDX-License-Identifier: MIT
/*
 * The ARM LPAE formats (io-pgtable-arm): registration, allocation outputs
 * and rejections, register values, stage-2 concatenation, exact
 * descriptors for every prot at every level, map/unmap semantics and every
 * error with its value (and the table unchanged after it), TLB callbacks,
 * DMA syncs for a non-coherent walker, dirty tracking and the dump walk.
 *
 * Expected descriptors are written out in hex or built from the bit list
 * of the Arm ARM / the io-pgtable digest (spec §2.4-2.6) by a tiny oracle
 * in this file; they are never read back from the format and compared
 * with itself.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define RW		(IOMMU_READ | IOMMU_WRITE)
#define SELFTEST_PROT	\
	(IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE)
#define PGSIZES_4K	(SZ_4K | SZ_2M | SZ_1G)
#define PGSIZES_16K	(SZ_16K | SZ_32M)
#define PGSIZES_64K	(SZ_64K | SZ_512M)
#define SZ_8K		0x2000UL
#define SZ_4M		0x400000UL
#define SZ_4T		(1UL << 42)
#define SZ_512G		(1UL << 39)

/* descriptor bits, spelled out for the oracle (spec §2.4) */
#define PTE_TYPE_BLOCK	0x1ULL
#define PTE_TYPE_PAGE	0x3ULL
#define PTE_TYPE_TABLE	0x3ULL
#define PTE_NS		(1ULL << 5)
#define PTE_AP_UNPRIV	(1ULL << 6)
#define PTE_AP_RDONLY	(1ULL << 7)
#define PTE_HAP_READ	(1ULL << 6)
#define PTE_HAP_WRITE	(1ULL << 7)
#define PTE_SH_OS	(2ULL << 8)
#define PTE_SH_IS	(3ULL << 8)
#define PTE_AF		(1ULL << 10)
#define PTE_NG		(1ULL << 11)
#define PTE_DBM		(1ULL << 51)
#define PTE_XN		(3ULL << 53)
#define PTE_SW_SYNC	(1ULL << 55)
#define PTE_NSTABLE	(1ULL << 63)
/* RECLAIM_TABLES: a table's count in its descriptor's ignored bits */
#define PTE_RC_BITS	((0x3ffULL << 2) | (7ULL << 52) | (7ULL << 56))
#define PTE_ATTR(i)	((uint64_t)(i) << 2)
#define PTE_MEMATTR_OIWB	(0xfULL << 2)
#define PTE_MEMATTR_NC		(0x5ULL << 2)
#define PTE_MEMATTR_DEV		(0x1ULL << 2)
#define PTE_MEMATTR_FWB_WB	(0x6ULL << 2)

struct fixture {
	struct iopgt_host *host;
	struct log_capture log;
	struct tlb_recorder tlb;
	struct iopgt_cfg cfg;
	struct iopgt_pgtable *pgt;
};

/* ---- fixture ------------------------------------------------------------- */

static void setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->host = iopgt_host_new();
	g_assert_nonnull(f->host);
	log_capture_init(&f->log);
	log_capture_attach(&f->log, f->host);
	tlb_recorder_init(&f->tlb);
	g_assert_cmpint(iopgt_host_register_builtin(f->host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	/* the selftest's configuration: S1/S2 4K, 48 bits, coherent */
	f->cfg = (struct iopgt_cfg){
		.quirks = IO_PGTABLE_QUIRK_NO_WARN,
		.pgsize_bitmap = PGSIZES_4K,
		.ias = 48,
		.oas = 48,
		.coherent_walk = true,
		.tlb = &tlb_recorder_ops,
	};
	f->pgt = NULL;
}

static int table_try(struct fixture *f, const char *fmt)
{
	return iopgt_pgtable_new(f->host, fmt, &f->cfg, &f->tlb, &f->pgt);
}

static void table_new(struct fixture *f, const char *fmt)
{
	int ret = table_try(f, fmt);

	if (ret) {
		char *log = log_capture_dump(&f->log);

		g_test_message("%s: %s", fmt, log);
		g_free(log);
	}
	g_assert_cmpint(ret, ==, 0);
	g_assert_nonnull(f->pgt);
}

/* free_io_pgtable_ops: the host flushes the whole TLB exactly once. */
static void table_free(struct fixture *f)
{
	bool recorded = f->pgt->cfg.tlb == &tlb_recorder_ops;

	f->tlb.flush_all = 0;
	iopgt_pgtable_free(f->host, f->pgt);
	f->pgt = NULL;
	if (recorded)
		g_assert_cmpuint(f->tlb.flush_all, ==, 1);
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
	g_assert_cmpuint(st.table_allocs, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(f->host));
	tlb_recorder_clear(&f->tlb);
	log_capture_clear(&f->log);
}

#define add_test(path, fn) \
	g_test_add(path, struct fixture, NULL, setup, fn, teardown)

/* ---- op helpers ---------------------------------------------------------- */

static int map_n(struct fixture *f, unsigned long iova, uint64_t pa,
		 size_t size, size_t count, int prot, size_t *mapped)
{
	*mapped = 0;
	return f->pgt->ops.map_pages(&f->pgt->ops, iova, pa, size, count, prot,
				     mapped);
}

/* One page; on success exactly size bytes are mapped. */
static int map(struct fixture *f, unsigned long iova, uint64_t pa,
	       size_t size, int prot)
{
	size_t mapped;
	int ret = map_n(f, iova, pa, size, 1, prot, &mapped);

	g_assert_cmpuint(mapped, ==, ret ? 0 : size);
	return ret;
}

static size_t unmap(struct fixture *f, unsigned long iova, size_t size,
		    size_t count, struct iopgt_iotlb_gather *gather)
{
	return f->pgt->ops.unmap_pages(&f->pgt->ops, iova, size, count, gather);
}

static uint64_t phys(struct fixture *f, unsigned long iova)
{
	return f->pgt->ops.iova_to_phys(&f->pgt->ops, iova);
}

static void mem_stats(struct fixture *f, struct iopgt_mem_stats *st)
{
	iopgt_pgtable_get_mem_stats(f->host, f->pgt, st);
}

static uint64_t syncs(struct fixture *f)
{
	struct iopgt_mem_stats st;

	mem_stats(f, &st);
	return st.syncs;
}

static uint64_t table_bytes(struct fixture *f)
{
	struct iopgt_mem_stats st;

	mem_stats(f, &st);
	return st.table_bytes;
}

/* ---- walk helpers -------------------------------------------------------- */

struct find {
	unsigned long iova;
	int level;		/* -1: the leaf, wherever it is */
	const struct iopgt_walk_entry *hit;
	struct iopgt_walk_entry e;
	bool found;
};

static int find_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct find *fd = data;

	if (fd->iova - e->iova >= e->size)
		return 0;
	if (fd->level == e->level ||
	    (fd->level < 0 && e->kind == IOPGT_ENTRY_LEAF)) {
		fd->e = *e;
		fd->found = true;
		return 1;
	}
	return 0;
}

/* The descriptor covering iova at a level (-1: the leaf), or 0. */
static uint64_t pte_at(struct fixture *f, unsigned long iova, int level,
		       struct iopgt_walk_entry *out)
{
	const struct iopgt_walk_ops v = { .entry = find_entry };
	struct find fd = { .iova = iova, .level = level };

	f->pgt->ops.walk(&f->pgt->ops, &v, &fd);
	if (out)
		*out = fd.e;
	return fd.found ? fd.e.raw : 0;
}

static uint64_t leaf_pte(struct fixture *f, unsigned long iova)
{
	return pte_at(f, iova, -1, NULL);
}

/* Every table and entry, as text: equal snapshots mean equal tables. */
static char *snapshot(struct fixture *f)
{
	return walk_to_text(f->host, f->pgt);
}

struct counts {
	unsigned int tables;
	unsigned int leaves;
	unsigned int table_entries;
	int first_level;
	size_t root_size;
};

static int count_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	struct counts *c = data;

	(void)pa;
	(void)va;
	if (!c->tables++) {
		c->first_level = level;
		c->root_size = size;
	}
	return 0;
}

static int count_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct counts *c = data;

	if (e->kind == IOPGT_ENTRY_LEAF)
		c->leaves++;
	else
		c->table_entries++;
	return 0;
}

static struct counts count(struct fixture *f)
{
	const struct iopgt_walk_ops v = {
		.table = count_table,
		.entry = count_entry,
	};
	struct counts c = { 0 };

	g_assert_cmpint(f->pgt->ops.walk(&f->pgt->ops, &v, &c), ==, 0);
	return c;
}

/* ---- the descriptor oracle (spec 2.5) ------------------------------------ */

enum stage { S1, S2, MALI };

/* Leaf attributes for a prot, before the type and the address. */
static uint64_t expect_attrs(enum stage st, int prot, unsigned long quirks)
{
	uint64_t pte = 0;

	switch (st) {
	case S1:
		pte |= PTE_NG;
		if ((prot & IOMMU_READ) && !(prot & IOMMU_WRITE))
			pte |= PTE_AP_RDONLY;
		else if (quirks & IO_PGTABLE_QUIRK_ARM_HD)
			pte |= PTE_DBM;
		if (!(prot & IOMMU_PRIV))
			pte |= PTE_AP_UNPRIV;
		break;
	case S2:
	case MALI:
		if (prot & IOMMU_READ)
			pte |= PTE_HAP_READ;
		if (prot & IOMMU_WRITE)
			pte |= PTE_HAP_WRITE;
		break;
	}
	if (st == S2) {
		if (prot & IOMMU_MMIO)
			pte |= PTE_MEMATTR_DEV;
		else if (prot & IOMMU_CACHE)
			pte |= quirks & IO_PGTABLE_QUIRK_ARM_S2FWB ?
				       PTE_MEMATTR_FWB_WB : PTE_MEMATTR_OIWB;
		else
			pte |= PTE_MEMATTR_NC;
	} else {
		if (prot & IOMMU_MMIO)
			pte |= PTE_ATTR(2);
		else if (prot & IOMMU_CACHE)
			pte |= PTE_ATTR(1);
	}
	pte |= (prot & IOMMU_CACHE) && st != MALI ? PTE_SH_IS : PTE_SH_OS;
	if (prot & IOMMU_NOEXEC)
		pte |= PTE_XN;
	if (quirks & IO_PGTABLE_QUIRK_ARM_NS)
		pte |= PTE_NS;
	if (st != MALI)
		pte |= PTE_AF;
	return pte;
}

/*
 * What the walk reports for a leaf mapped with prot (spec 2.5 read back):
 * stage 1 has AP[2:1] only, so it is always readable and write-only maps
 * read/write; stage 2 and Mali have no privilege bit; Mali writes MMIO
 * over CACHE and never marks CACHE inner shareable.
 */
static int expect_prot(enum stage st, int prot)
{
	int keep = IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO |
		   IOMMU_CACHE;

	switch (st) {
	case S1:
		return (prot & (keep | IOMMU_PRIV)) | IOMMU_READ |
		       (prot & IOMMU_READ ? 0 : IOMMU_WRITE);
	case S2:
		return prot & keep;
	case MALI:
		return prot & keep & ~(prot & IOMMU_MMIO ? IOMMU_CACHE : 0);
	}
	g_assert_not_reached();
	return 0;
}

static uint64_t expect_leaf(enum stage st, int prot, unsigned long quirks,
			    int level, uint64_t pa)
{
	uint64_t type = level == 3 && st != MALI ? PTE_TYPE_PAGE :
						   PTE_TYPE_BLOCK;

	return expect_attrs(st, prot, quirks) | type | pa;
}

/* ---- /lpae/plugin -------------------------------------------------------- */

static const char *const lpae_names[] = {
	"arm-64-lpae-s1", "arm-64-lpae-s2", "arm-32-lpae-s1",
	"arm-32-lpae-s2", "arm-mali-lpae",
};
static const char *const lpae_aliases[] = {
	"ARM_64_LPAE_S1", "ARM_64_LPAE_S2", "ARM_32_LPAE_S1",
	"ARM_32_LPAE_S2", "ARM_MALI_LPAE",
};

static void test_plugin_formats(struct fixture *f, gconstpointer data)
{
	struct iopgt_plugin *p = iopgt_host_find_plugin(f->host,
							"io-pgtable-arm");
	char **names;

	(void)data;
	g_test_summary("One plugin, io-pgtable-arm, registers the five LPAE "
		       "formats by name and by their Linux aliases");
	g_assert_nonnull(p);
	g_assert_cmpstr(iopgt_plugin_get_license(p), ==, "MIT");
	names = iopgt_plugin_dup_formats(p);
	g_assert_cmpuint(g_strv_length(names), ==, 5);
	for (unsigned int i = 0; i < 5; i++) {
		g_assert_true(g_strv_contains((const char *const *)names,
					      lpae_names[i]));
		g_assert_true(iopgt_host_find_format(f->host, lpae_names[i]) ==
			      p);
		g_assert_true(iopgt_host_find_format(f->host,
						     lpae_aliases[i]) == p);
	}
	g_strfreev(names);

	/* a table by alias is the same format */
	table_new(f, "ARM_64_LPAE_S2");
	g_assert_cmpstr(f->pgt->fmt->name, ==, "arm-64-lpae-s2");
	g_assert_cmpuint(f->pgt->fmt->caps & IOPGT_FMT_CAP_DIRTY, ==, 0);
	table_free(f);
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpuint(f->pgt->fmt->caps, ==, IOPGT_FMT_CAP_DIRTY);
}

static void test_plugin_from_file(struct fixture *f, gconstpointer data)
{
	struct iopgt_host *host = iopgt_host_new();
	struct iopgt_plugin *p = NULL;
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_mem_stats st;
	char *path = g_build_filename(test_plugin_dir(), "io-pgtable-arm.so",
				      NULL);
	size_t mapped = 0;

	(void)data;
	(void)f;
	g_test_summary("The module io-pgtable-arm.so loads with dlopen and "
		       "its tables work like the built-in ones");
	g_assert_cmpint(iopgt_host_load_plugin_file(host, path, &p), ==, 0);
	g_assert_cmpstr(iopgt_plugin_get_name(p), ==, "io-pgtable-arm");
	g_assert_false(iopgt_plugin_is_builtin(p));
	f->cfg.tlb = NULL;
	g_assert_cmpint(iopgt_pgtable_new(host, "ARM_MALI_LPAE", &f->cfg, NULL,
					  &pgt), ==, -EINVAL);
	f->cfg.quirks = 0;
	f->cfg.oas = 40;
	g_assert_cmpint(iopgt_pgtable_new(host, "ARM_MALI_LPAE", &f->cfg, NULL,
					  &pgt), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map_pages(host, pgt, SZ_1G, SZ_2M, SZ_2M,
						1, RW, &mapped), ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(host, pgt, SZ_1G + 42), ==,
			SZ_2M + 42);
	iopgt_pgtable_free(host, pgt);
	iopgt_host_get_mem_stats(host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin(host, "io-pgtable-arm"), ==,
			0);
	g_assert_null(iopgt_host_unref(host));
	g_free(path);
}

/* ---- /lpae/alloc --------------------------------------------------------- */

static void test_alloc_s1_outputs(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("ARM_64_LPAE_S1, 4K, 48/48, coherent: Linux's MAIR, "
		       "TCR fields and TTBR (the pgd's physical address)");
	f->cfg.pgsize_bitmap = SZ_4K | SZ_16K | SZ_64K | SZ_2M | SZ_32M |
			       SZ_512M | SZ_1G;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmphex(f->cfg.pgsize_bitmap, ==, PGSIZES_4K);
	g_assert_cmphex(f->cfg.arm_lpae_s1_cfg.mair, ==, 0xf404ff44);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.ips, ==, 5);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.tg, ==, 0);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.sh, ==, 3);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.orgn, ==, 1);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.irgn, ==, 1);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.tsz, ==, 16);
	g_assert_cmphex(f->cfg.arm_lpae_s1_cfg.ttbr, ==, f->pgt->root_pa);
	/* the table's copy of cfg carries the same outputs */
	g_assert_cmphex(f->pgt->cfg.arm_lpae_s1_cfg.ttbr, ==, f->pgt->root_pa);
	g_assert_cmphex(f->pgt->cfg.pgsize_bitmap, ==, PGSIZES_4K);
	/* the root is real table memory: a 4K page for a 4K pgd */
	g_assert_cmpuint(f->pgt->root_pa & (SZ_4K - 1), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, SZ_4K);
}

struct restrict_case {
	unsigned long in;
	unsigned int ias, oas;
	unsigned long out;
	unsigned int ias_out, oas_out;
};

static void test_alloc_pgsize_restriction(struct fixture *f,
					  gconstpointer data)
{
	static const struct restrict_case cases[] = {
		/* the host's page size wins when offered */
		{ SZ_4K | SZ_16K | SZ_64K | SZ_2M | SZ_32M | SZ_512M | SZ_1G,
		  48, 48, PGSIZES_4K, 48, 48 },
		{ SZ_16K | SZ_32M, 48, 48, SZ_16K | SZ_32M, 48, 48 },
		/* no 4K: the smallest larger size is the granule */
		{ SZ_16K | SZ_64K | SZ_32M | SZ_512M, 40, 40,
		  SZ_16K | SZ_32M, 40, 40 },
		{ SZ_64K | SZ_2M | SZ_512M | SZ_1G, 44, 44,
		  SZ_64K | SZ_512M, 44, 44 },
		/* 64K with oas > 48 adds the 4T level-1 block */
		{ SZ_64K | SZ_512M | SZ_4T, 52, 52,
		  SZ_64K | SZ_512M | SZ_4T, 52, 52 },
		{ SZ_64K | SZ_512M | SZ_4T, 48, 48, SZ_64K | SZ_512M, 48, 48 },
		/* ias and oas clamp to 48 below the 64K granule */
		{ PGSIZES_4K, 52, 52, PGSIZES_4K, 48, 48 },
		{ SZ_16K | SZ_32M, 52, 52, SZ_16K | SZ_32M, 48, 48 },
	};

	(void)data;
	g_test_summary("pgsize_bitmap narrows to what the chosen granule can "
		       "express (host PAGE_SIZE 4K) and ias/oas clamp");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		f->cfg.pgsize_bitmap = cases[i].in;
		f->cfg.ias = cases[i].ias;
		f->cfg.oas = cases[i].oas;
		table_new(f, "arm-64-lpae-s1");
		g_assert_cmphex(f->cfg.pgsize_bitmap, ==, cases[i].out);
		g_assert_cmpuint(f->cfg.ias, ==, cases[i].ias_out);
		g_assert_cmpuint(f->cfg.oas, ==, cases[i].oas_out);
		table_free(f);
	}
}

struct reject_case {
	const char *fmt;
	unsigned long quirks;
	unsigned long bitmap;
	unsigned int ias, oas;
	bool coherent;
	const char *why;
};

static void test_alloc_rejects(struct fixture *f, gconstpointer data)
{
	const unsigned long NO_WARN = IO_PGTABLE_QUIRK_NO_WARN;
	static const struct reject_case cases[] = {
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_S2FWB, PGSIZES_4K,
		  48, 48, true, "S2FWB on stage 1" },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_NO_PERMS, PGSIZES_4K,
		  48, 48, true, "NO_PERMS (v7s only)" },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_MTK_EXT, PGSIZES_4K,
		  48, 48, true, "MTK_EXT (v7s only)" },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
		  PGSIZES_4K, 48, 48, true, "OUTER_WBWA with coherent walk" },
		{ "arm-64-lpae-s1", 1UL << 2, PGSIZES_4K, 48, 48, true,
		  "an unknown quirk bit" },
		{ "arm-64-lpae-s2", IO_PGTABLE_QUIRK_ARM_HD, PGSIZES_4K,
		  48, 48, true, "HD on stage 2" },
		{ "arm-64-lpae-s2", IO_PGTABLE_QUIRK_ARM_NS, PGSIZES_4K,
		  48, 48, true, "NS on stage 2" },
		{ "arm-64-lpae-s2", IO_PGTABLE_QUIRK_ARM_TTBR1, PGSIZES_4K,
		  48, 48, true, "TTBR1 on stage 2" },
		{ "arm-64-lpae-s2", IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
		  PGSIZES_4K, 48, 48, false, "OUTER_WBWA on stage 2" },
		{ "arm-mali-lpae", NO_WARN, PGSIZES_4K, 48, 40, true,
		  "NO_WARN on Mali" },
		{ "arm-mali-lpae", IO_PGTABLE_QUIRK_ARM_NS, PGSIZES_4K, 48, 40,
		  true, "NS on Mali" },
		{ "arm-64-lpae-s1", 0, PGSIZES_4K, 48, 33, true,
		  "oas 33 has no IPS encoding" },
		{ "arm-64-lpae-s1", 0, PGSIZES_4K, 48, 39, true,
		  "oas 39 has no IPS encoding" },
		{ "arm-64-lpae-s2", 0, PGSIZES_4K, 40, 46, true,
		  "oas 46 has no PS encoding" },
		{ "arm-64-lpae-s1", 0, SZ_2M | SZ_1G, 48, 48, true,
		  "no granule in the bitmap" },
		{ "arm-64-lpae-s1", 0, SZ_16K | SZ_8K | SZ_2M, 48, 48, true,
		  "the granule chosen (8K) is no LPAE granule" },
		{ "arm-32-lpae-s1", 0, PGSIZES_4K, 36, 40, true,
		  "32-bit stage 1 with ias > 32" },
		{ "arm-32-lpae-s1", 0, PGSIZES_4K, 32, 42, true,
		  "32-bit stage 1 with oas > 40" },
		{ "arm-32-lpae-s2", 0, PGSIZES_4K, 42, 42, true,
		  "32-bit stage 2 with ias > 40" },
		{ "arm-32-lpae-s2", 0, PGSIZES_4K, 40, 42, true,
		  "32-bit stage 2 with oas > 40" },
		{ "arm-32-lpae-s1", 0, SZ_16K | SZ_32M, 32, 40, true,
		  "32-bit stage 1 with a 16K granule only" },
		{ "arm-mali-lpae", 0, PGSIZES_4K, 48, 42, true,
		  "Mali with oas > 40" },
		{ "arm-mali-lpae", 0, PGSIZES_4K, 52, 40, true,
		  "Mali with ias > 48" },
		{ "arm-mali-lpae", 0, PGSIZES_4K, 64, 64, true,
		  "Mali is refused, never narrowed" },
		{ "arm-32-lpae-s1", 0, PGSIZES_4K, 64, 64, true,
		  "32-bit stage 1 is refused, never narrowed" },
		{ "arm-32-lpae-s2", 0, PGSIZES_4K, 64, 64, true,
		  "32-bit stage 2 is refused, never narrowed" },
		{ "arm-64-lpae-s1", 0, PGSIZES_64K, 48, 50, true,
		  "oas 50 (not narrowed with 64K) has no IPS encoding" },
		{ "arm-mali-lpae", 0, SZ_64K | SZ_512M, 48, 40, true,
		  "Mali with a 64K granule only" },
		/* 4K, ias 44: a 32-entry level-0 pgd would need 32 tables */
		{ "arm-64-lpae-s2", 0, PGSIZES_4K, 44, 42, true,
		  "mandatory concatenation of more than 16 tables" },
		{ "arm-64-lpae-s2", 0, SZ_16K | SZ_32M, 44, 40, true,
		  "16K start level 1 concatenation of 256 tables" },
		{ "arm-64-lpae-s1", 0, PGSIZES_4K, 12, 32, true,
		  "ias no larger than the granule" },
	};

	(void)data;
	g_test_summary("Configurations Linux refuses fail with -EINVAL, leave "
		       "nothing allocated and say why as a warning (the "
		       "host's error detail), not at debug level");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct iopgt_mem_stats st;
		unsigned int said = log_capture_count(&f->log,
						      "warning: lpae: alloc: ");

		f->cfg.quirks = cases[i].quirks;
		f->cfg.pgsize_bitmap = cases[i].bitmap;
		f->cfg.ias = cases[i].ias;
		f->cfg.oas = cases[i].oas;
		f->cfg.coherent_walk = cases[i].coherent;
		g_test_message("%s: %s", cases[i].fmt, cases[i].why);
		g_assert_cmpint(table_try(f, cases[i].fmt), ==, -EINVAL);
		g_assert_cmpuint(log_capture_count(&f->log,
						   "warning: lpae: alloc: "),
				 ==, said + 1);
		iopgt_host_get_mem_stats(f->host, &st);
		g_assert_cmpuint(st.table_bytes, ==, 0);
		g_assert_cmpuint(st.state_bytes, ==, 0);
	}
	/* mandatory concatenation refused: Linux WARNs */
	g_assert_cmpuint(log_capture_count(&f->log, "concatenated tables"), ==,
			 2);
	/* the reasons, word for word, for two of them */
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: lpae: alloc: oas 33 has no IPS/PS encoding"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: lpae: alloc: ias 12 leaves nothing to translate above the 12-bit granule"),
			 ==, 1);
}

struct narrow_case {
	const char *fmt;
	unsigned long bitmap;
	unsigned int ias, oas;
	unsigned long bitmap_out;
	unsigned int ias_out, oas_out;
	unsigned int tsz, ps;
};

static void test_alloc_narrows_like_linux(struct fixture *f,
					  gconstpointer data)
{
	static const struct narrow_case cases[] = {
		/* issue 12 item 8: a driver passing its hardware's sizes */
		{ "arm-64-lpae-s1", PGSIZES_4K, 64, 64, PGSIZES_4K, 48, 48,
		  16, 5 },
		{ "arm-64-lpae-s1", PGSIZES_64K, 53, 48, PGSIZES_64K, 52, 48,
		  12, 5 },
		/* oas > 48 before narrowing adds the 4T block, as Linux */
		{ "arm-64-lpae-s1", PGSIZES_64K | SZ_4T, 48, 56,
		  PGSIZES_64K | SZ_4T, 48, 52, 16, 6 },
		{ "arm-64-lpae-s1", PGSIZES_4K, 53, 48, PGSIZES_4K, 48, 48,
		  16, 5 },
		{ "arm-64-lpae-s1", PGSIZES_16K, 60, 60, PGSIZES_16K, 48, 48,
		  16, 5 },
		{ "arm-64-lpae-s2", PGSIZES_4K, 64, 64, PGSIZES_4K, 48, 48,
		  16, 5 },
		{ "arm-64-lpae-s2", PGSIZES_64K, 64, 64, PGSIZES_64K, 52, 52,
		  12, 6 },
	};

	(void)data;
	g_test_summary("The 64-bit formats narrow ias/oas above what the "
		       "granule addresses (48, 52 with 64K) as Linux does: "
		       "cfg is in/out, and the registers follow the result");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct narrow_case *c = &cases[i];
		bool s1 = !strcmp(c->fmt, "arm-64-lpae-s1");

		f->cfg.pgsize_bitmap = c->bitmap;
		f->cfg.ias = c->ias;
		f->cfg.oas = c->oas;
		g_test_message("%s ias %u oas %u", c->fmt, c->ias, c->oas);
		table_new(f, c->fmt);
		g_assert_cmphex(f->cfg.pgsize_bitmap, ==, c->bitmap_out);
		g_assert_cmpuint(f->cfg.ias, ==, c->ias_out);
		g_assert_cmpuint(f->cfg.oas, ==, c->oas_out);
		g_assert_cmpuint(f->pgt->cfg.ias, ==, c->ias_out);
		g_assert_cmpuint(f->pgt->cfg.oas, ==, c->oas_out);
		g_assert_cmpuint(s1 ? f->cfg.arm_lpae_s1_cfg.tcr.tsz :
				      f->cfg.arm_lpae_s2_cfg.vtcr.tsz, ==,
				 c->tsz);
		g_assert_cmpuint(s1 ? f->cfg.arm_lpae_s1_cfg.tcr.ips :
				      f->cfg.arm_lpae_s2_cfg.vtcr.ps, ==,
				 c->ps);
		/* the narrowed range is the table's: its top maps, above not */
		g_assert_cmpint(map(f, (1UL << c->ias_out) - (c->bitmap_out &
							     -c->bitmap_out),
				    0, c->bitmap_out & -c->bitmap_out, RW), ==,
				0);
		g_assert_cmpint(map(f, 1UL << c->ias_out, 0,
				    c->bitmap_out & -c->bitmap_out, RW), ==,
				-ERANGE);
		table_free(f);
	}
	g_assert_cmpuint(log_capture_count(&f->log, "warning: lpae: alloc"),
			 ==, 0);
}

static void test_alloc_quirks_accepted(struct fixture *f, gconstpointer data)
{
	static const struct {
		const char *fmt;
		unsigned long quirks;
		bool coherent;
		unsigned int ias, oas;
	} cases[] = {
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_NS, true, 48, 48 },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_TTBR1, true, 48, 48 },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_OUTER_WBWA, false,
		  48, 48 },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_HD, true, 48, 48 },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_NO_WARN, true, 48, 48 },
		{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_NS |
		  IO_PGTABLE_QUIRK_ARM_TTBR1 | IO_PGTABLE_QUIRK_ARM_HD |
		  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA | IO_PGTABLE_QUIRK_NO_WARN,
		  false, 48, 48 },
		{ "arm-32-lpae-s1", IO_PGTABLE_QUIRK_ARM_NS |
		  IO_PGTABLE_QUIRK_ARM_TTBR1 | IO_PGTABLE_QUIRK_ARM_HD |
		  IO_PGTABLE_QUIRK_NO_WARN, true, 32, 40 },
		{ "arm-64-lpae-s2", IO_PGTABLE_QUIRK_ARM_S2FWB, true, 48, 48 },
		{ "arm-64-lpae-s2", IO_PGTABLE_QUIRK_NO_WARN, true, 48, 48 },
		{ "arm-32-lpae-s2", IO_PGTABLE_QUIRK_ARM_S2FWB |
		  IO_PGTABLE_QUIRK_NO_WARN, true, 40, 40 },
		{ "arm-mali-lpae", 0, true, 48, 40 },
	};

	(void)data;
	g_test_summary("Each quirk Linux accepts for a format is accepted "
		       "and kept in cfg");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		f->cfg.quirks = cases[i].quirks;
		f->cfg.coherent_walk = cases[i].coherent;
		f->cfg.ias = cases[i].ias;
		f->cfg.oas = cases[i].oas;
		f->cfg.pgsize_bitmap = PGSIZES_4K;
		table_new(f, cases[i].fmt);
		g_assert_cmphex(f->pgt->cfg.quirks, ==, cases[i].quirks);
		table_free(f);
	}
}

static void test_alloc_enomem(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A pgd the host refuses makes alloc fail with -ENOMEM "
		       "and free its state");
	iopgt_host_set_mem_limit(f->host, 1);
	g_assert_cmpint(table_try(f, "arm-64-lpae-s1"), ==, -ENOMEM);
	g_assert_cmpint(table_try(f, "arm-mali-lpae"), ==, -EINVAL);
	f->cfg.quirks = 0;
	f->cfg.oas = 40;
	g_assert_cmpint(table_try(f, "arm-mali-lpae"), ==, -ENOMEM);
	f->cfg.oas = 48;
	g_assert_cmpint(table_try(f, "arm-64-lpae-s2"), ==, -ENOMEM);
	g_assert_null(f->pgt);
	iopgt_host_set_mem_limit(f->host, 0);
	table_new(f, "arm-64-lpae-s2");
}

/* ---- /lpae/regs ---------------------------------------------------------- */

struct reg_capture {
	GString *names;
	GHashTable *values;
};

static void reg_fn(void *data, const char *name, uint64_t value)
{
	struct reg_capture *rc = data;

	g_string_append_printf(rc->names, "%s%s", rc->names->len ? " " : "",
			       name);
	g_hash_table_insert(rc->values, g_strdup(name),
			    g_memdup2(&value, sizeof(value)));
}

static char *describe(struct fixture *f, struct reg_capture *rc)
{
	rc->names = g_string_new(NULL);
	rc->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   g_free);
	iopgt_pgtable_describe_regs(f->host, f->pgt, reg_fn, rc);
	return g_string_free(rc->names, FALSE);
}

static uint64_t reg(struct reg_capture *rc, const char *name)
{
	uint64_t *v = g_hash_table_lookup(rc->values, name);

	g_assert_nonnull(v);
	return *v;
}

struct s1_regs_case {
	unsigned long bitmap;
	unsigned int ias, oas;
	unsigned long quirks;
	bool coherent;
	unsigned int ips, tg, sh, orgn, irgn, tsz;
};

static void test_regs_s1(struct fixture *f, gconstpointer data)
{
	static const struct s1_regs_case cases[] = {
		{ PGSIZES_4K, 48, 48, 0, true, 5, 0, 3, 1, 1, 16 },
		{ PGSIZES_4K, 32, 32, 0, true, 0, 0, 3, 1, 1, 32 },
		{ PGSIZES_4K, 39, 36, 0, true, 1, 0, 3, 1, 1, 25 },
		{ PGSIZES_4K, 40, 42, 0, false, 3, 0, 2, 0, 0, 24 },
		{ PGSIZES_4K, 44, 44, IO_PGTABLE_QUIRK_ARM_OUTER_WBWA, false,
		  4, 0, 2, 1, 0, 20 },
		{ PGSIZES_4K, 48, 48, IO_PGTABLE_QUIRK_ARM_TTBR1, true,
		  5, 2, 3, 1, 1, 16 },
		{ PGSIZES_16K, 36, 40, 0, false, 2, 2, 2, 0, 0, 28 },
		{ PGSIZES_16K, 47, 48, IO_PGTABLE_QUIRK_ARM_TTBR1, true,
		  5, 1, 3, 1, 1, 17 },
		{ PGSIZES_64K, 42, 48, 0, true, 5, 1, 3, 1, 1, 22 },
		{ PGSIZES_64K | SZ_4T, 52, 52, IO_PGTABLE_QUIRK_ARM_TTBR1 |
		  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA, false, 6, 3, 2, 1, 0, 12 },
	};

	(void)data;
	g_test_summary("Stage-1 TCR fields (ips, tg incl. TTBR1 encodings, "
		       "sh/orgn/irgn by coherency, tsz), MAIR and TTBR");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct s1_regs_case *c = &cases[i];
		typeof(&f->cfg.arm_lpae_s1_cfg.tcr) tcr =
			&f->cfg.arm_lpae_s1_cfg.tcr;
		struct reg_capture rc;
		char *names;

		f->cfg.pgsize_bitmap = c->bitmap;
		f->cfg.ias = c->ias;
		f->cfg.oas = c->oas;
		f->cfg.quirks = c->quirks;
		f->cfg.coherent_walk = c->coherent;
		table_new(f, "arm-64-lpae-s1");
		g_assert_cmpuint(tcr->ips, ==, c->ips);
		g_assert_cmpuint(tcr->tg, ==, c->tg);
		g_assert_cmpuint(tcr->sh, ==, c->sh);
		g_assert_cmpuint(tcr->orgn, ==, c->orgn);
		g_assert_cmpuint(tcr->irgn, ==, c->irgn);
		g_assert_cmpuint(tcr->tsz, ==, c->tsz);
		g_assert_cmphex(f->cfg.arm_lpae_s1_cfg.mair, ==, 0xf404ff44);
		g_assert_cmphex(f->cfg.arm_lpae_s1_cfg.ttbr, ==,
				f->pgt->root_pa);

		names = describe(f, &rc);
		g_assert_cmpstr(names, ==, "ttbr tcr.ips tcr.tg tcr.sh "
			       "tcr.orgn tcr.irgn tcr.tsz mair");
		g_assert_cmphex(reg(&rc, "ttbr"), ==, f->pgt->root_pa);
		g_assert_cmpuint(reg(&rc, "tcr.ips"), ==, c->ips);
		g_assert_cmpuint(reg(&rc, "tcr.tg"), ==, c->tg);
		g_assert_cmpuint(reg(&rc, "tcr.sh"), ==, c->sh);
		g_assert_cmpuint(reg(&rc, "tcr.orgn"), ==, c->orgn);
		g_assert_cmpuint(reg(&rc, "tcr.irgn"), ==, c->irgn);
		g_assert_cmpuint(reg(&rc, "tcr.tsz"), ==, c->tsz);
		g_assert_cmphex(reg(&rc, "mair"), ==, 0xf404ff44);
		g_free(names);
		g_hash_table_unref(rc.values);
		table_free(f);
	}
}

struct s2_regs_case {
	unsigned long bitmap;
	unsigned int ias, oas;
	bool coherent;
	unsigned int ps, tg, sh, orgn, irgn, sl, tsz;
	int start_level;
	size_t pgd_bytes;	/* PGD_SIZE after concatenation */
	size_t table_bytes;	/* what the host handed out for it */
};

static void test_regs_s2(struct fixture *f, gconstpointer data)
{
	static const struct s2_regs_case cases[] = {
		/* 4K: SL0 counts from level -1 */
		{ PGSIZES_4K, 48, 48, true, 5, 0, 3, 1, 1, 2, 16, 0,
		  SZ_4K, SZ_4K },
		{ PGSIZES_4K, 40, 48, true, 5, 0, 3, 1, 1, 2, 24, 0,
		  16, SZ_4K },
		{ PGSIZES_4K, 40, 40, true, 2, 0, 3, 1, 1, 1, 24, 1,
		  2 * SZ_4K, 2 * SZ_4K },
		{ PGSIZES_4K, 40, 42, false, 3, 0, 2, 0, 0, 1, 24, 1,
		  2 * SZ_4K, 2 * SZ_4K },
		{ PGSIZES_4K, 42, 42, true, 3, 0, 3, 1, 1, 1, 22, 1,
		  8 * SZ_4K, 8 * SZ_4K },
		{ PGSIZES_4K, 36, 36, true, 1, 0, 3, 1, 1, 1, 28, 1,
		  512, SZ_4K },
		{ PGSIZES_4K, 32, 32, true, 0, 0, 3, 1, 1, 1, 32, 1,
		  32, SZ_4K },
		{ PGSIZES_4K, 30, 32, true, 0, 0, 3, 1, 1, 0, 34, 2,
		  SZ_4K, SZ_4K },
		/* 16K */
		{ PGSIZES_16K, 48, 48, true, 5, 2, 3, 1, 1, 2, 16, 1,
		  2 * SZ_16K, 2 * SZ_16K },
		{ PGSIZES_16K, 40, 40, true, 2, 2, 3, 1, 1, 1, 24, 2,
		  16 * SZ_16K, 16 * SZ_16K },
		{ PGSIZES_16K, 40, 42, true, 3, 2, 3, 1, 1, 2, 24, 1,
		  128, SZ_4K },
		{ PGSIZES_16K, 36, 40, true, 2, 2, 3, 1, 1, 1, 28, 2,
		  SZ_16K, SZ_16K },
		/* 64K */
		{ PGSIZES_64K, 48, 48, true, 5, 1, 3, 1, 1, 2, 16, 1,
		  512, SZ_4K },
		{ PGSIZES_64K, 42, 44, false, 4, 1, 2, 0, 0, 1, 22, 2,
		  SZ_64K, SZ_64K },
		{ PGSIZES_64K | SZ_4T, 52, 52, true, 6, 1, 3, 1, 1, 2, 12, 1,
		  8 * 1024, 8 * 1024 },
	};

	(void)data;
	g_test_summary("Stage-2 VTCR fields (ps, tg, sh/orgn/irgn, SL0, tsz), "
		       "the start level and pgd size with concatenation");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct s2_regs_case *c = &cases[i];
		typeof(&f->cfg.arm_lpae_s2_cfg.vtcr) vtcr =
			&f->cfg.arm_lpae_s2_cfg.vtcr;
		struct reg_capture rc;
		struct counts n;
		char *names;

		f->cfg.pgsize_bitmap = c->bitmap;
		f->cfg.ias = c->ias;
		f->cfg.oas = c->oas;
		f->cfg.quirks = 0;
		f->cfg.coherent_walk = c->coherent;
		g_test_message("s2 %lx ias %u oas %u", c->bitmap, c->ias,
			       c->oas);
		table_new(f, "arm-64-lpae-s2");
		g_assert_cmpuint(table_bytes(f), ==, c->table_bytes);
		g_assert_cmpuint(vtcr->ps, ==, c->ps);
		g_assert_cmpuint(vtcr->tg, ==, c->tg);
		g_assert_cmpuint(vtcr->sh, ==, c->sh);
		g_assert_cmpuint(vtcr->orgn, ==, c->orgn);
		g_assert_cmpuint(vtcr->irgn, ==, c->irgn);
		g_assert_cmpuint(vtcr->sl, ==, c->sl);
		g_assert_cmpuint(vtcr->tsz, ==, c->tsz);
		g_assert_cmphex(f->cfg.arm_lpae_s2_cfg.vttbr, ==,
				f->pgt->root_pa);
		n = count(f);
		g_assert_cmpint(n.first_level, ==, c->start_level);
		g_assert_cmpuint(n.root_size, ==, c->pgd_bytes);

		names = describe(f, &rc);
		g_assert_cmpstr(names, ==, "vttbr vtcr.ps vtcr.tg vtcr.sh "
			       "vtcr.orgn vtcr.irgn vtcr.sl vtcr.tsz");
		g_assert_cmphex(reg(&rc, "vttbr"), ==, f->pgt->root_pa);
		g_assert_cmpuint(reg(&rc, "vtcr.ps"), ==, c->ps);
		g_assert_cmpuint(reg(&rc, "vtcr.tg"), ==, c->tg);
		g_assert_cmpuint(reg(&rc, "vtcr.sh"), ==, c->sh);
		g_assert_cmpuint(reg(&rc, "vtcr.orgn"), ==, c->orgn);
		g_assert_cmpuint(reg(&rc, "vtcr.irgn"), ==, c->irgn);
		g_assert_cmpuint(reg(&rc, "vtcr.sl"), ==, c->sl);
		g_assert_cmpuint(reg(&rc, "vtcr.tsz"), ==, c->tsz);
		g_free(names);
		g_hash_table_unref(rc.values);
		table_free(f);
	}
}

static void test_regs_mali(struct fixture *f, gconstpointer data)
{
	struct reg_capture rc;
	struct counts n;
	char *names;

	(void)data;
	g_test_summary("Mali: MEMATTR 0x888D88, TRANSTAB = pgd | READ_INNER | "
		       "ADRMODE_TABLE (| SHARE_OUTER when coherent), 4 levels");
	f->cfg.quirks = 0;
	f->cfg.ias = 36;
	f->cfg.oas = 40;
	table_new(f, "arm-mali-lpae");
	g_assert_cmphex(f->cfg.arm_mali_lpae_cfg.memattr, ==, 0x888D88);
	g_assert_cmphex(f->cfg.arm_mali_lpae_cfg.transtab, ==,
			f->pgt->root_pa | 0x17);
	n = count(f);
	/* always four levels: ias 36 starts at level 0 with one entry */
	g_assert_cmpint(n.first_level, ==, 0);
	g_assert_cmpuint(n.root_size, ==, 8);
	g_assert_cmpuint(table_bytes(f), ==, SZ_4K);
	g_assert_cmpint(map(f, (1UL << 36) - SZ_1G, 0, SZ_1G, RW), ==, 0);
	g_assert_cmpint(pte_at(f, (1UL << 36) - SZ_1G, 1, NULL), ==,
			0x2C1);

	names = describe(f, &rc);
	g_assert_cmpstr(names, ==, "transtab memattr");
	g_assert_cmphex(reg(&rc, "transtab"), ==, f->pgt->root_pa | 0x17);
	g_assert_cmphex(reg(&rc, "memattr"), ==, 0x888D88);
	g_free(names);
	g_hash_table_unref(rc.values);
	table_free(f);

	/* ias 40 starts at level 0 anyway: two entries */
	f->cfg.ias = 40;
	table_new(f, "arm-mali-lpae");
	g_assert_cmpuint(count(f).root_size, ==, 16);
	table_free(f);

	f->cfg.coherent_walk = false;
	f->cfg.ias = 48;
	table_new(f, "arm-mali-lpae");
	g_assert_cmphex(f->cfg.arm_mali_lpae_cfg.transtab, ==,
			f->pgt->root_pa | 0x7);
	g_assert_cmpuint(count(f).root_size, ==, SZ_4K);
}

static void test_regs_32bit(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("The 32-bit formats fill the same fields as the 64-bit "
		       "ones and keep to 4K|2M|1G");
	f->cfg.pgsize_bitmap = PGSIZES_4K | SZ_16K | SZ_32M;
	f->cfg.ias = 32;
	f->cfg.oas = 40;
	table_new(f, "arm-32-lpae-s1");
	g_assert_cmphex(f->cfg.pgsize_bitmap, ==, PGSIZES_4K);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.ips, ==, 2);
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.tsz, ==, 32);
	g_assert_cmphex(f->cfg.arm_lpae_s1_cfg.mair, ==, 0xf404ff44);
	g_assert_cmphex(f->cfg.arm_lpae_s1_cfg.ttbr, ==, f->pgt->root_pa);
	table_free(f);

	f->cfg.pgsize_bitmap = SZ_16K | SZ_4K;
	f->cfg.ias = 40;
	f->cfg.oas = 40;
	table_new(f, "arm-32-lpae-s2");
	g_assert_cmphex(f->cfg.pgsize_bitmap, ==, SZ_4K);
	/* 4K 40/40 concatenates, as for the 64-bit format */
	g_assert_cmpuint(f->cfg.arm_lpae_s2_cfg.vtcr.sl, ==, 1);
	g_assert_cmpuint(table_bytes(f), ==, 2 * SZ_4K);
}

/* ---- /lpae/geometry ------------------------------------------------------ */

static void test_geometry_start_levels(struct fixture *f, gconstpointer data)
{
	/* spec §2.1: start level / pgd entries per granule and ias */
	static const unsigned int ias[] = { 32, 36, 40, 42, 44, 48 };
	static const struct {
		unsigned long bitmap;
		int level[6];
		unsigned int entries[6];
	} rows[] = {
		{ PGSIZES_4K, { 1, 1, 0, 0, 0, 0 }, { 4, 64, 2, 8, 32, 512 } },
		{ PGSIZES_16K, { 2, 2, 1, 1, 1, 0 },
		  { 128, 2048, 16, 64, 256, 2 } },
		{ PGSIZES_64K, { 2, 2, 2, 2, 1, 1 },
		  { 8, 128, 2048, 8192, 4, 64 } },
	};

	(void)data;
	g_test_summary("Stage-1 start level and pgd entries for every granule "
		       "and selftest ias, as Linux computes them");
	for (unsigned int r = 0; r < G_N_ELEMENTS(rows); r++) {
		for (unsigned int i = 0; i < G_N_ELEMENTS(ias); i++) {
			struct counts n;

			f->cfg.pgsize_bitmap = rows[r].bitmap;
			f->cfg.ias = ias[i];
			f->cfg.oas = 48;
			table_new(f, "arm-64-lpae-s1");
			n = count(f);
			g_assert_cmpint(n.first_level, ==, rows[r].level[i]);
			g_assert_cmpuint(n.root_size, ==,
					 8 * rows[r].entries[i]);
			table_free(f);
		}
	}
	/* 64K with a 52-bit ias: start level 1, 1024 entries */
	f->cfg.pgsize_bitmap = PGSIZES_64K;
	f->cfg.ias = 52;
	f->cfg.oas = 52;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(count(f).first_level, ==, 1);
	g_assert_cmpuint(count(f).root_size, ==, 8 * 1024);
}

/* ---- /lpae/concat -------------------------------------------------------- */

static void test_concat_top_of_ias(struct fixture *f, gconstpointer data)
{
	/* edge: the first iova of the second concatenated table */
	static const struct {
		unsigned long bitmap;
		unsigned int ias, oas;
		size_t big;
		unsigned long edge;
	} cases[] = {
		{ PGSIZES_4K, 40, 40, SZ_1G, SZ_512G },
		{ PGSIZES_4K, 40, 42, SZ_1G, SZ_512G },
		{ PGSIZES_4K, 42, 42, SZ_1G, SZ_512G },
		{ PGSIZES_16K, 48, 48, SZ_32M, 1UL << 47 },
		{ PGSIZES_16K, 40, 40, SZ_32M, 1UL << 36 },
	};

	(void)data;
	g_test_summary("A concatenated pgd maps and unmaps at the bottom, at "
		       "each sub-table edge and at the top of the ias");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		unsigned long top = (1UL << cases[i].ias) - cases[i].big;
		unsigned long edge = cases[i].edge;

		f->cfg.pgsize_bitmap = cases[i].bitmap;
		f->cfg.ias = cases[i].ias;
		f->cfg.oas = cases[i].oas;
		table_new(f, "arm-64-lpae-s2");
		g_assert_cmpint(map(f, top, top, cases[i].big, SELFTEST_PROT),
				==, 0);
		g_assert_cmphex(phys(f, top + 42), ==, top + 42);
		g_assert_cmpint(map(f, edge, 0, cases[i].big, RW), ==, 0);
		g_assert_cmphex(phys(f, edge + 42), ==, 42);
		g_assert_cmpint(map(f, edge - cases[i].big, cases[i].big,
				    cases[i].big, RW), ==, 0);
		g_assert_cmpuint(unmap(f, top, cases[i].big, 1, NULL), ==,
				 cases[i].big);
		g_assert_cmphex(phys(f, top + 42), ==, 0);
		table_free(f);
	}
}

static void test_concat_batch_stops_at_subtable(struct fixture *f,
						gconstpointer data)
{
	size_t mapped;

	(void)data;
	g_test_summary("A batch at the start level of a concatenated pgd "
		       "stops at the end of its granule-sized table");
	f->cfg.ias = 40;
	f->cfg.oas = 40;
	table_new(f, "arm-64-lpae-s2");
	/* 2 concatenated level-1 tables of 512 x 1G */
	g_assert_cmpint(map_n(f, SZ_512G - 2 * SZ_1G, 0, SZ_1G, 8, RW,
			      &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, 2 * SZ_1G);
	g_assert_cmpint(map_n(f, SZ_512G, 2 * SZ_1G, SZ_1G, 6, RW, &mapped),
			==, 0);
	g_assert_cmpuint(mapped, ==, 6 * SZ_1G);
	g_assert_cmphex(phys(f, SZ_512G + 5 * SZ_1G + 7), ==,
			7 * SZ_1G + 7);
	g_assert_cmpuint(unmap(f, SZ_512G - 2 * SZ_1G, SZ_1G, 8, NULL), ==,
			 2 * SZ_1G);
	g_assert_cmpuint(unmap(f, SZ_512G, SZ_1G, 8, NULL), ==, 6 * SZ_1G);
	g_assert_cmpuint(count(f).leaves, ==, 0);
}

static void test_concat_small_pgd_batch(struct fixture *f, gconstpointer data)
{
	size_t mapped;
	char *before, *after;

	(void)data;
	g_test_summary("A batch never runs past the end of a pgd smaller than "
		       "a granule (iopgt stops there; Linux would overrun)");
	f->cfg.ias = 32;
	f->cfg.oas = 36;
	table_new(f, "arm-64-lpae-s1");
	/* a 4-entry level-1 pgd */
	g_assert_cmpint(map_n(f, 2 * SZ_1G, 2 * SZ_1G, SZ_1G, 8, RW, &mapped),
			==, 0);
	g_assert_cmpuint(mapped, ==, 2 * SZ_1G);
	before = snapshot(f);
	g_assert_cmpint(map_n(f, 4 * SZ_1G, 4 * SZ_1G, SZ_1G, 6, RW, &mapped),
			==, -ERANGE);
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpuint(count(f).leaves, ==, 2);
	g_assert_cmpuint(unmap(f, 2 * SZ_1G, SZ_1G, 8, NULL), ==, 2 * SZ_1G);
	g_free(before);
	g_free(after);
}

/* ---- /lpae/descriptors --------------------------------------------------- */

static void test_desc_worked_examples(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("The worked descriptor values of spec §2.5 come out "
		       "bit for bit");
	f->cfg.quirks = 0;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 0x1000, 0x1000, SZ_4K, RW | IOMMU_NOEXEC |
			    IOMMU_CACHE), ==, 0);
	g_assert_cmphex(leaf_pte(f, 0x1000), ==, 0x0060000000001F47);
	g_assert_cmpint(map(f, SZ_2M, SZ_2M, SZ_2M, IOMMU_READ), ==, 0);
	g_assert_cmphex(leaf_pte(f, SZ_2M), ==, 0x0000000000200EC1);
	table_free(f);

	table_new(f, "arm-64-lpae-s2");
	g_assert_cmpint(map(f, 0x1000, 0x1000, SZ_4K, RW | IOMMU_NOEXEC |
			    IOMMU_CACHE), ==, 0);
	g_assert_cmphex(leaf_pte(f, 0x1000), ==, 0x00600000000017FF);
	g_assert_cmpint(map(f, 0x2000, 0x1000, SZ_4K, IOMMU_READ), ==, 0);
	g_assert_cmphex(leaf_pte(f, 0x2000), ==, 0x0000000000001657);
	table_free(f);

	f->cfg.oas = 40;
	table_new(f, "arm-mali-lpae");
	g_assert_cmpint(map(f, 0x1000, 0x1000, SZ_4K, RW | IOMMU_CACHE), ==,
			0);
	g_assert_cmphex(leaf_pte(f, 0x1000), ==, 0x00000000000012C5);
}

struct prot_case {
	const char *fmt;
	enum stage stage;
	unsigned long quirks;
	unsigned int oas;
};

static void check_prot_matrix(struct fixture *f, const struct prot_case *pc)
{
	static const struct {
		size_t size;
		int level;
	} sizes[] = { { SZ_4K, 3 }, { SZ_2M, 2 }, { SZ_1G, 1 } };

	f->cfg.quirks = pc->quirks;
	f->cfg.oas = pc->oas;
	f->cfg.ias = pc->stage == S2 ? 40 : 32;
	table_new(f, pc->fmt);
	for (int prot = 0; prot < 64; prot++) {
		for (unsigned int s = 0; s < G_N_ELEMENTS(sizes); s++) {
			size_t size = sizes[s].size;
			/* a fresh place per (prot, size), PA != iova */
			unsigned long iova = s == 2 ?
				(unsigned long)(prot % 4) * SZ_1G :
				(unsigned long)prot * SZ_4M + s * SZ_2M;
			uint64_t pa = (uint64_t)(63 - prot) * SZ_1G / 16 +
				      SZ_1G * 4;
			struct iopgt_walk_entry e;
			uint64_t expect;
			int ret;

			pa &= ~(uint64_t)(size - 1);
			ret = map(f, iova, pa, size, prot);
			if (!(prot & RW)) {
				g_assert_cmpint(ret, ==, -EINVAL);
				continue;
			}
			g_assert_cmpint(ret, ==, 0);
			expect = expect_leaf(pc->stage, prot, pc->quirks,
					     sizes[s].level, pa);
			g_assert_cmphex(pte_at(f, iova, sizes[s].level, &e), ==,
					expect);
			g_assert_cmpint(e.kind, ==, IOPGT_ENTRY_LEAF);
			g_assert_cmphex(e.oa, ==, pa);
			g_assert_cmpuint(e.size, ==, size);
			g_assert_cmphex(e.prot, ==,
					expect_prot(pc->stage, prot));
			g_assert_cmphex(phys(f, iova + size - 1), ==,
					pa + size - 1);
			g_assert_cmpuint(unmap(f, iova, size, 1, NULL), ==,
					 size);
		}
	}
	table_free(f);
}

static void test_desc_prot_matrix(struct fixture *f, gconstpointer data)
{
	static const struct prot_case cases[] = {
		{ "arm-64-lpae-s1", S1, 0, 48 },
		{ "arm-64-lpae-s1", S1, IO_PGTABLE_QUIRK_ARM_NS, 48 },
		{ "arm-64-lpae-s1", S1, IO_PGTABLE_QUIRK_ARM_HD, 48 },
		{ "arm-32-lpae-s1", S1, IO_PGTABLE_QUIRK_ARM_HD |
		  IO_PGTABLE_QUIRK_ARM_NS, 40 },
		{ "arm-64-lpae-s2", S2, 0, 48 },
		{ "arm-64-lpae-s2", S2, IO_PGTABLE_QUIRK_ARM_S2FWB, 44 },
		{ "arm-32-lpae-s2", S2, 0, 40 },
		{ "arm-mali-lpae", MALI, 0, 40 },
	};

	(void)data;
	g_test_summary("Every prot combination (r/w/c/n/m/p) at levels 1, 2 "
		       "and 3 of every stage, with the leaf quirks, gives "
		       "Linux's descriptor, and the walk decodes it to the "
		       "prot the stage can hold; no r/w is -EINVAL");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s quirks %lx", cases[i].fmt, cases[i].quirks);
		check_prot_matrix(f, &cases[i]);
	}
}

static void test_desc_tables(struct fixture *f, gconstpointer data)
{
	struct iopgt_walk_entry e;
	uint64_t raw;

	(void)data;
	g_test_summary("Table descriptors: next table's PA | 3, NSTABLE with "
		       "ARM_NS, SW_SYNC (bit 55) for a non-coherent walker");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_1G + SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	for (int lvl = 0; lvl < 3; lvl++) {
		raw = pte_at(f, SZ_1G + SZ_4K, lvl, &e);
		g_assert_cmpint(e.kind, ==, IOPGT_ENTRY_TABLE);
		g_assert_cmphex(raw, ==, e.oa | PTE_TYPE_TABLE);
		g_assert_cmphex(e.oa & (SZ_4K - 1), ==, 0);
	}
	table_free(f);

	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_NS;
	f->cfg.coherent_walk = false;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_1G + SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	for (int lvl = 0; lvl < 3; lvl++) {
		raw = pte_at(f, SZ_1G + SZ_4K, lvl, &e);
		g_assert_cmphex(raw, ==, e.oa | PTE_TYPE_TABLE | PTE_NSTABLE |
					 PTE_SW_SYNC);
	}
	g_assert_cmphex(leaf_pte(f, SZ_1G + SZ_4K), ==,
			expect_leaf(S1, RW, IO_PGTABLE_QUIRK_ARM_NS, 3, SZ_4K));
}

static void test_desc_52bit_pa(struct fixture *f, gconstpointer data)
{
	const uint64_t pa = 0x000F000000010000ULL;	/* PA[51:48] = 0xF */
	size_t mapped;

	(void)data;
	g_test_summary("64K granule, oas 52: PA[51:48] live in PTE[15:12] and "
		       "come back out of iova_to_phys; 4T level-1 blocks");
	f->cfg.pgsize_bitmap = PGSIZES_64K | SZ_4T;
	f->cfg.ias = 52;
	f->cfg.oas = 52;
	f->cfg.quirks = 0;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmphex(f->cfg.pgsize_bitmap, ==, PGSIZES_64K | SZ_4T);
	g_assert_cmpint(map(f, SZ_64K, pa, SZ_64K, RW), ==, 0);
	/* nG | AF | SH_OS | UNPRIV | page, address 0x10000 | 0xF000 */
	g_assert_cmphex(leaf_pte(f, SZ_64K), ==, 0x000000000001FE43);
	g_assert_cmphex(phys(f, SZ_64K + 0x1234), ==, pa + 0x1234);
	/* a batch across PA bit 48 */
	g_assert_cmpint(map_n(f, 2 * SZ_64K, (1ULL << 48) - SZ_64K, SZ_64K, 2,
			      RW, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, 2 * SZ_64K);
	/* PA bit 48 folds into PTE bit 12 */
	g_assert_cmphex(leaf_pte(f, 3 * SZ_64K), ==, 0x0000000000001E43);
	g_assert_cmphex(phys(f, 3 * SZ_64K + 8), ==, (1ULL << 48) + 8);
	g_assert_cmphex(phys(f, 2 * SZ_64K + 8), ==, (1ULL << 48) - SZ_64K + 8);
	/* a 4T block at level 1 */
	g_assert_cmpint(map(f, 3 * SZ_4T, 5 * SZ_4T, SZ_4T, RW), ==, 0);
	g_assert_cmphex(pte_at(f, 3 * SZ_4T, 1, NULL), ==,
			(5 * SZ_4T) | 0xE41);
	g_assert_cmphex(phys(f, 4 * SZ_4T - 1), ==, 6 * SZ_4T - 1);
	g_assert_cmpuint(unmap(f, 3 * SZ_4T, SZ_4T, 1, NULL), ==, SZ_4T);
	/* beyond 52 bits */
	g_assert_cmpint(map(f, 0, 1ULL << 52, SZ_64K, RW), ==, -ERANGE);
}

static void test_desc_ttbr1(struct fixture *f, gconstpointer data)
{
	const unsigned long top = ~0UL << 39;	/* ias 39: sign-extended */
	struct iopgt_walk_entry e;

	(void)data;
	g_test_summary("TTBR1: iovas are sign-extended above ias; others are "
		       "-ERANGE; the walk reports sign-extended iovas");
	f->cfg.quirks = IO_PGTABLE_QUIRK_ARM_TTBR1;
	f->cfg.ias = 39;
	f->cfg.oas = 40;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpuint(f->cfg.arm_lpae_s1_cfg.tcr.tg, ==, 2);
	g_assert_cmpint(map(f, top + SZ_2M, SZ_2M, SZ_4K, RW), ==, 0);
	g_assert_cmphex(phys(f, top + SZ_2M + 5), ==, SZ_2M + 5);
	g_assert_cmphex(leaf_pte(f, top + SZ_2M), ==,
			expect_leaf(S1, RW, 0, 3, SZ_2M));
	pte_at(f, top + SZ_2M, 3, &e);
	g_assert_cmphex(e.iova, ==, top + SZ_2M);
	/* not sign-extended: out of range, both ways */
	g_assert_cmpint(map(f, SZ_2M, SZ_2M, SZ_4K, RW), ==, -ERANGE);
	g_assert_cmpint(map(f, (top << 1) + SZ_2M, SZ_2M, SZ_4K, RW), ==,
			-ERANGE);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(unmap(f, top + SZ_2M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmphex(phys(f, top + SZ_2M + 5), ==, 0);
}

/* ---- /lpae/map ----------------------------------------------------------- */

static void test_map_identity(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Each page size maps, translates with the offset "
		       "inside it kept, and an empty table translates nothing");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmphex(phys(f, 42), ==, 0);
	g_assert_cmphex(phys(f, SZ_1G + 42), ==, 0);
	g_assert_cmphex(phys(f, 2 * SZ_1G + 42), ==, 0);
	g_assert_cmpint(map(f, 0, 0, SZ_4K, SELFTEST_PROT), ==, 0);
	g_assert_cmpint(map(f, SZ_1G, SZ_1G, SZ_2M, SELFTEST_PROT), ==, 0);
	g_assert_cmpint(map(f, 2 * SZ_1G, 2 * SZ_1G, SZ_1G, SELFTEST_PROT), ==,
			0);
	g_assert_cmphex(phys(f, 42), ==, 42);
	g_assert_cmphex(phys(f, SZ_1G + 0x12345), ==, SZ_1G + 0x12345);
	g_assert_cmphex(phys(f, 2 * SZ_1G + 0x3456789), ==,
			2 * SZ_1G + 0x3456789);
	g_assert_cmphex(phys(f, SZ_4K), ==, 0);
	g_assert_cmphex(phys(f, SZ_1G + SZ_2M), ==, 0);
	/* bits above ias are not indexed (Linux does not check them) */
	g_assert_cmphex(phys(f, (1UL << 48) + 42), ==, 42);
}

static void test_map_overlap_is_eexist(struct fixture *f, gconstpointer data)
{
	size_t mapped;
	char *before, *after;

	(void)data;
	g_test_summary("Mapping over a leaf (same size, smaller inside a "
		       "block, or a batch with one used slot) is -EEXIST and "
		       "changes nothing");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_1G, SZ_1G, SZ_2M, RW), ==, 0);
	g_assert_cmpint(map(f, 2 * SZ_1G, 2 * SZ_1G, SZ_1G, RW), ==, 0);
	before = snapshot(f);

	g_assert_cmpint(map(f, SZ_4K, SZ_2M, SZ_4K, IOMMU_READ), ==, -EEXIST);
	g_assert_cmpint(map(f, SZ_1G, 0, SZ_2M, IOMMU_READ), ==, -EEXIST);
	g_assert_cmpint(map(f, SZ_1G + SZ_4K, 0, SZ_4K, RW), ==, -EEXIST);
	g_assert_cmpint(map(f, 2 * SZ_1G + SZ_2M, 0, SZ_2M, RW), ==, -EEXIST);
	g_assert_cmpint(map(f, 2 * SZ_1G + SZ_4K, 0, SZ_4K, RW), ==, -EEXIST);
	g_assert_cmpint(map(f, 2 * SZ_1G, 0, SZ_1G, RW), ==, -EEXIST);
	/* a batch whose second slot is used writes none of the others */
	g_assert_cmpint(map_n(f, 0, 0, SZ_4K, 8, RW, &mapped), ==, -EEXIST);
	g_assert_cmpuint(mapped, ==, 0);
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmphex(phys(f, SZ_4K + 1), ==, SZ_4K + 1);
	g_assert_cmpuint(log_capture_count(&f->log, "lpae:"), ==, 0);
	g_free(before);
	g_free(after);
}

static void test_map_eexist_warns(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Without NO_WARN a conflicting map logs Linux's WARN as "
		       "a warning; with it, nothing is logged");
	f->cfg.quirks = 0;
	table_new(f, "arm-64-lpae-s2");
	g_assert_cmpint(map(f, SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_4K, SZ_4K, SZ_4K, RW), ==, -EEXIST);
	g_assert_cmpint(map(f, SZ_2M, SZ_2M, SZ_2M, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_2M + SZ_4K, 0, SZ_4K, RW), ==, -EEXIST);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: lpae: map: iova 0x1000 is already mapped"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: lpae: map: iova 0x201000 is inside a block"),
			 ==, 1);
	g_assert_cmpuint(unmap(f, 5 * SZ_4K, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: lpae: unmap: iova 0x5000 is not mapped"),
			 ==, 1);
}

static void test_map_batch_stops_at_table_end(struct fixture *f,
					      gconstpointer data)
{
	size_t mapped;

	(void)data;
	g_test_summary("map_pages maps only up to the end of the current table "
		       "and returns 0; the caller continues from *mapped");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map_n(f, 0, 0, SZ_4K, 1024, RW, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, SZ_2M);
	g_assert_cmpint(map_n(f, SZ_2M, SZ_2M, SZ_4K, 512, RW, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, SZ_2M);
	g_assert_cmphex(phys(f, SZ_4M - 1), ==, SZ_4M - 1);
	/* mid-table: up to the end */
	g_assert_cmpint(map_n(f, SZ_1G - 2 * SZ_4K, 0, SZ_4K, 5, RW, &mapped),
			==, 0);
	g_assert_cmpuint(mapped, ==, 2 * SZ_4K);
	/* *mapped accumulates (+=), as Linux */
	mapped = 100;
	g_assert_cmpint(f->pgt->ops.map_pages(&f->pgt->ops, SZ_1G, 0, SZ_2M, 3,
					      RW, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, 100 + 3 * SZ_2M);

	g_assert_cmpuint(unmap(f, 0, SZ_4K, 1024, NULL), ==, SZ_2M);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1024, NULL), ==, SZ_2M);
	g_assert_cmpuint(unmap(f, SZ_1G - 2 * SZ_4K, SZ_4K, 3, NULL), ==,
			 2 * SZ_4K);
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_2M, 3, NULL), ==, 3 * SZ_2M);
	g_assert_cmpuint(count(f).leaves, ==, 0);
}

static void test_map_write_only_is_rw(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("Stage 1 cannot express write-only: IOMMU_WRITE alone "
		       "maps read/write (no AP_RDONLY), stage 2 sets HAP W only");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 0, SZ_4K, SZ_4K, IOMMU_WRITE), ==, 0);
	g_assert_cmphex(leaf_pte(f, 0), ==, 0x1000 | 0xE43);
	table_free(f);
	table_new(f, "arm-64-lpae-s2");
	g_assert_cmpint(map(f, 0, SZ_4K, SZ_4K, IOMMU_WRITE), ==, 0);
	g_assert_cmphex(leaf_pte(f, 0), ==, 0x1000 | 0x697);
}

static void test_map_block_over_tables(struct fixture *f, gconstpointer data)
{
	uint64_t bytes;

	(void)data;
	g_test_summary("A block over a table removes the table (flush_walk, "
		       "subtree freed), whether the table is empty or not, "
		       "as Linux does");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_2M, SZ_2M, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1, NULL), ==, SZ_4K);
	bytes = table_bytes(f);
	/* the empty level-3 table is still there */
	g_assert_cmpuint(count(f).tables, ==, 4);
	g_assert_cmpint(map(f, SZ_2M, 4 * SZ_2M, SZ_2M, RW), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, bytes - SZ_4K);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	g_assert_cmphex(g_array_index(f->tlb.walks, struct tlb_call, 0).iova,
			==, SZ_2M);
	g_assert_cmpuint(g_array_index(f->tlb.walks, struct tlb_call, 0).size,
			 ==, SZ_2M);
	g_assert_cmpuint(g_array_index(f->tlb.walks, struct tlb_call,
				       0).granule, ==, SZ_4K);
	g_assert_cmphex(phys(f, SZ_2M + 7), ==, 4 * SZ_2M + 7);

	/* a table with live leaves goes the same way */
	g_assert_cmpint(map(f, SZ_1G + SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_1G + 9 * SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_1G, 8 * SZ_2M, SZ_2M, RW), ==, 0);
	g_assert_cmphex(phys(f, SZ_1G + SZ_4K), ==, 8 * SZ_2M + SZ_4K);
	g_assert_cmpuint(f->tlb.walks->len, ==, 2);
	/* and a 1G block over a whole level-2 subtree */
	g_assert_cmpint(map(f, 0, 4 * SZ_1G, SZ_1G, RW), ==, 0);
	g_assert_cmpuint(f->tlb.walks->len, ==, 3);
	g_assert_cmpuint(g_array_index(f->tlb.walks, struct tlb_call, 2).size,
			 ==, SZ_1G);
	g_assert_cmphex(phys(f, SZ_2M), ==, 4 * SZ_1G + SZ_2M);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
}

static void test_map_errors(struct fixture *f, gconstpointer data)
{
	static const struct {
		unsigned long iova;
		uint64_t pa;
		size_t size, count;
		int prot, err;
		const char *why;
	} cases[] = {
		{ 0, 0, 0, 1, RW, -EINVAL, "pgsize 0" },
		{ 0, 0, SZ_8K, 1, RW, -EINVAL, "pgsize not in the bitmap" },
		{ 0, 0, SZ_16K, 1, RW, -EINVAL, "another granule's size" },
		{ 0, 0, SZ_4K | SZ_2M, 1, RW, -EINVAL, "two sizes at once" },
		{ 1UL << 40, 0, SZ_4K, 1, RW, -ERANGE, "iova at 2^ias" },
		{ ~0UL << 12, 0, SZ_4K, 1, RW, -ERANGE, "iova at the top" },
		{ 0, 1ULL << 40, SZ_4K, 1, RW, -ERANGE, "paddr at 2^oas" },
		{ 0, (1ULL << 40) - SZ_4K, SZ_4K, 2, RW, -ERANGE,
		  "a batch ending beyond oas" },
		{ 0, 0, SZ_4K, 1, 0, -EINVAL, "no prot" },
		{ 0, 0, SZ_4K, 1, IOMMU_NOEXEC | IOMMU_CACHE | IOMMU_PRIV,
		  -EINVAL, "neither read nor write" },
		{ SZ_4K + 8, 0, SZ_4K, 1, RW, -EINVAL, "misaligned iova" },
		{ 0, SZ_4K + 8, SZ_4K, 1, RW, -EINVAL, "misaligned paddr" },
		{ SZ_1G + SZ_4K, SZ_2M, SZ_2M, 1, RW, -EINVAL,
		  "iova not aligned to the block" },
		{ SZ_2M, SZ_4K, SZ_2M, 1, RW, -EINVAL,
		  "paddr not aligned to the block" },
		{ 0, 0, SZ_4K, 0, RW, -EINVAL, "pgcount 0" },
		/* checks run in Linux's order: range before prot */
		{ 1UL << 40, 0, SZ_4K, 1, 0, -ERANGE, "range before prot" },
		{ 1UL << 40, 0, SZ_8K, 1, RW, -EINVAL, "pgsize before range" },
	};
	char *before, *after;

	(void)data;
	g_test_summary("Every map_pages argument error returns its errno and "
		       "leaves the table as it was");
	f->cfg.ias = 40;
	f->cfg.oas = 40;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_1G, SZ_1G, SZ_2M, RW), ==, 0);
	before = snapshot(f);
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t mapped;

		g_test_message("%s", cases[i].why);
		g_assert_cmpint(map_n(f, cases[i].iova, cases[i].pa,
				      cases[i].size, cases[i].count,
				      cases[i].prot, &mapped), ==,
				cases[i].err);
		g_assert_cmpuint(mapped, ==, 0);
		after = snapshot(f);
		g_assert_cmpstr(before, ==, after);
		g_free(after);
	}
	g_free(before);
	/* argument WARNs are Linux's WARN_ONs: logged despite NO_WARN */
	g_assert_cmpuint(log_capture_count(&f->log, "warning: lpae: map:"), ==,
			 G_N_ELEMENTS(cases) - 2);
}

static void test_map_level_above_start(struct fixture *f, gconstpointer data)
{
	char *before, *after;

	(void)data;
	g_test_summary("A page size whose level lies above the start level "
		       "(1G with ias 30) is -EINVAL with no table allocated");
	f->cfg.ias = 30;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(count(f).first_level, ==, 2);
	before = snapshot(f);
	g_assert_cmpint(map(f, 0, 0, SZ_1G, RW), ==, -EINVAL);
	g_assert_cmpuint(unmap(f, 0, SZ_1G, 1, NULL), ==, 0);
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpint(map(f, SZ_512M, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_512M - SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_free(before);
	g_free(after);
}

static void test_map_enomem(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;
	char *before, *after;

	(void)data;
	g_test_summary("When the host refuses a table, map_pages is -ENOMEM; "
		       "tables already installed on the way stay (as Linux)");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
	before = snapshot(f);
	iopgt_host_get_mem_stats(f->host, &st);
	iopgt_host_set_mem_limit(f->host, st.table_bytes);
	/* the tables for [0, 2M) exist: mapping there needs no memory */
	g_assert_cmpint(map(f, SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_4K, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_4K, RW), ==, -ENOMEM);
	g_assert_cmpint(map(f, SZ_512G, 0, SZ_4K, RW), ==, -ENOMEM);
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	/* one table's worth more: a level-3 table, then the leaf */
	iopgt_host_set_mem_limit(f->host, st.table_bytes + SZ_4K);
	g_assert_cmpint(map(f, SZ_512G, 0, SZ_4K, RW), ==, -ENOMEM);
	g_assert_cmpuint(count(f).tables, ==, 5);
	iopgt_host_set_mem_limit(f->host, 0);
	g_assert_cmpint(map(f, SZ_512G, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_4K, RW), ==, 0);
	g_free(before);
	g_free(after);
}

static void test_map_through_iommu_map(struct fixture *f, gconstpointer data)
{
	const unsigned long iova = SZ_1G - 3 * SZ_4K;
	const size_t size = 3 * SZ_4K + 2 * SZ_2M + 5 * SZ_4K;
	/* pa 4K off iova's 2M alignment: only pages, across table ends */
	const unsigned long iova2 = 4 * SZ_1G - 2 * SZ_4K;
	const uint64_t pa2 = iova2 + SZ_4K;
	const size_t size2 = 1030 * SZ_4K;

	(void)data;
	g_test_summary("The host's iommu_map loop drives the partial-progress "
		       "contract: pages up to a block edge, blocks, pages; and "
		       "page batches across table ends; iommu_unmap undoes it");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, iova, iova, size,
					  RW), ==, 0);
	g_assert_cmpuint(count(f).leaves, ==, 3 + 2 + 5);
	g_assert_cmphex(leaf_pte(f, SZ_1G) & 3, ==, PTE_TYPE_BLOCK);
	for (size_t off = 0; off < size; off += SZ_4K)
		g_assert_cmphex(phys(f, iova + off + 1), ==, iova + off + 1);

	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, iova2, pa2, size2,
					  RW), ==, 0);
	g_assert_cmpuint(count(f).leaves, ==, 10 + 1030);
	for (size_t off = 0; off < size2; off += SZ_4K)
		g_assert_cmphex(phys(f, iova2 + off + 1), ==, pa2 + off + 1);

	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, iova, size, NULL),
			 ==, size);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, iova2, size2,
					     NULL), ==, size2);
	g_assert_cmpuint(count(f).leaves, ==, 0);
	/*
	 * A block in the second batch (after the table end at 1G): -EEXIST,
	 * and the first batch, already mapped, is undone by the host.
	 */
	g_assert_cmpint(map(f, SZ_1G + SZ_2M, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, f->pgt, SZ_1G - SZ_4M,
					  SZ_1G - SZ_4M, 4 * SZ_2M, RW), ==,
			-EEXIST);
	g_assert_cmpuint(count(f).leaves, ==, 1);
	g_assert_cmphex(phys(f, SZ_1G - SZ_4M), ==, 0);
}

/* ---- /lpae/unmap --------------------------------------------------------- */

static void test_unmap_exact_and_remap(struct fixture *f, gconstpointer data)
{
	static const size_t sizes[] = { SZ_4K, SZ_2M, SZ_1G };

	(void)data;
	g_test_summary("Unmapping exactly one page returns its size; a remap "
		       "with IOMMU_WRITE only maps RW again");
	table_new(f, "arm-64-lpae-s1");
	for (unsigned int i = 0; i < 3; i++) {
		unsigned long iova = i * SZ_1G;

		g_assert_cmpint(map(f, iova, iova, sizes[i], SELFTEST_PROT), ==,
				0);
	}
	for (unsigned int i = 0; i < 3; i++) {
		unsigned long iova = i * SZ_1G;

		g_assert_cmpuint(unmap(f, iova, sizes[i], 1, NULL), ==,
				 sizes[i]);
		g_assert_cmphex(phys(f, iova + 42), ==, 0);
		g_assert_cmpint(map(f, iova, iova, sizes[i], IOMMU_WRITE), ==,
				0);
		g_assert_cmphex(phys(f, iova + 42), ==, iova + 42);
		g_assert_cmphex(leaf_pte(f, iova) & PTE_AP_RDONLY, ==, 0);
	}
}

static void test_unmap_partial_block(struct fixture *f, gconstpointer data)
{
	char *before, *after;

	(void)data;
	g_test_summary("Unmapping 4K out of a 2M block returns 0 and keeps the "
		       "block; Linux's WARN_ONCE is logged once, even with "
		       "NO_WARN");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_1G, SZ_1G, SZ_2M, RW), ==, 0);
	g_assert_cmpint(map(f, 2 * SZ_1G, 0, SZ_1G, RW), ==, 0);
	before = snapshot(f);
	g_assert_cmpuint(unmap(f, SZ_1G + SZ_4K, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(unmap(f, 2 * SZ_1G + SZ_2M, SZ_2M, 4, NULL), ==, 0);
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmphex(phys(f, SZ_1G + SZ_4K + 3), ==, SZ_1G + SZ_4K + 3);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "Unmap of a partial large IOPTE is not allowed"),
			 ==, 1);
	g_free(before);
	g_free(after);
}

static void test_unmap_holes(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("An unmapped iova unmaps 0 bytes; a range whose tail is "
		       "unmapped counts only the mapped prefix");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_2M, 1, NULL), ==, 0);
	g_assert_cmpint(map_n(f, SZ_4K, 0, SZ_4K, 3, RW, &(size_t){ 0 }), ==,
			0);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 4, NULL), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_4K, SZ_4K, 8, NULL), ==, 3 * SZ_4K);
	g_assert_cmpuint(count(f).leaves, ==, 0);
	/* a hole in the middle */
	g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, 2 * SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 3, NULL), ==, SZ_4K);
	g_assert_cmphex(phys(f, 2 * SZ_4K + 1), ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log, "lpae:"), ==, 0);
}

static void test_unmap_table_at_block_size(struct fixture *f,
					   gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { 0 };
	uint64_t bytes;

	(void)data;
	g_test_summary("A 2M unmap over 4K pages removes their table: returns "
		       "2M, flush_walk(iova, 2M, 4K), subtree freed, one "
		       "add_page");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map_n(f, SZ_2M, 0, SZ_4K, 512, RW, &(size_t){ 0 }), ==,
			0);
	bytes = table_bytes(f);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_2M, 1, &gather), ==, SZ_2M);
	g_assert_cmpuint(table_bytes(f), ==, bytes - SZ_4K);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	g_assert_cmphex(g_array_index(f->tlb.walks, struct tlb_call, 0).iova,
			==, SZ_2M);
	g_assert_cmpuint(g_array_index(f->tlb.walks, struct tlb_call, 0).size,
			 ==, SZ_2M);
	g_assert_cmpuint(g_array_index(f->tlb.walks, struct tlb_call,
				       0).granule, ==, SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 1);
	g_assert_cmphex(g_array_index(f->tlb.pages, struct tlb_call, 0).iova,
			==, SZ_2M);
	g_assert_cmpuint(g_array_index(f->tlb.pages, struct tlb_call, 0).size,
			 ==, SZ_2M);
	g_assert_cmphex(phys(f, SZ_2M + SZ_4K), ==, 0);

	/* an empty leftover table counts the same */
	g_assert_cmpint(map(f, SZ_4M, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_4M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(unmap(f, SZ_4M, SZ_2M, 1, NULL), ==, SZ_2M);
	g_assert_cmpuint(table_bytes(f), ==, bytes - SZ_4K);
	/* a batch of 1G over level-2 tables and a block */
	g_assert_cmpint(map(f, 0, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_1G + SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, 2 * SZ_1G, 0, SZ_1G, RW), ==, 0);
	g_assert_cmpuint(unmap(f, 0, SZ_1G, 4, NULL), ==, 3 * SZ_1G);
	g_assert_cmpuint(count(f).tables, ==, 2);
	g_assert_cmpuint(table_bytes(f), ==, 2 * SZ_4K);
}

static void test_unmap_errors(struct fixture *f, gconstpointer data)
{
	static const struct {
		unsigned long iova;
		size_t size, count;
		const char *why;
	} cases[] = {
		{ 0, 0, 1, "pgsize 0" },
		{ 0, SZ_8K, 1, "pgsize not in the bitmap" },
		{ 0, SZ_4K | SZ_2M, 1, "two sizes" },
		{ 0, SZ_4K, 0, "pgcount 0" },
		{ 1UL << 40, SZ_4K, 1, "iova at 2^ias" },
		{ 8, SZ_4K, 1, "misaligned iova" },
	};
	char *before, *after;

	(void)data;
	g_test_summary("Every unmap_pages argument error unmaps 0 bytes and "
		       "changes nothing");
	f->cfg.ias = 40;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
	before = snapshot(f);
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s", cases[i].why);
		g_assert_cmpuint(unmap(f, cases[i].iova, cases[i].size,
				       cases[i].count, NULL), ==, 0);
		after = snapshot(f);
		g_assert_cmpstr(before, ==, after);
		g_free(after);
	}
	g_free(before);
	g_assert_cmpuint(log_capture_count(&f->log, "warning: lpae: unmap:"),
			 ==, G_N_ELEMENTS(cases));
}

static void test_unmap_hole_warns_once(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("iommu_unmap of 8K over one mapped 4K page: the batch "
		       "stops at the hole quietly, the retry at the hole says "
		       "'not mapped' once (issue 12 item 5)");
	f->cfg.quirks = 0;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, SZ_4K, 2 * SZ_4K,
					     NULL), ==, SZ_4K);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: lpae: unmap: iova 0x2000 is not mapped"),
			 ==, 1);
	g_assert_cmpuint(log_capture_count(&f->log, "lpae:"), ==, 1);
	/* one call: a hole after a leaf ends the batch without a word */
	g_assert_cmpint(map(f, SZ_2M, SZ_2M, SZ_2M, RW), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_2M, 2, NULL), ==, SZ_2M);
	g_assert_cmpuint(log_capture_count(&f->log, "lpae:"), ==, 1);
	/* a hole first is a refusal, said */
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_2M, 2, NULL), ==, 0);
	g_assert_cmpuint(log_capture_count(&f->log,
					   "warning: lpae: unmap: iova 0x200000 is not mapped"),
			 ==, 1);
	/* the same with RECLAIM_TABLES, whose ops share the batch code */
	table_free(f);
	f->cfg.quirks = IOPGT_QUIRK_RECLAIM_TABLES;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, 3 * SZ_4K, SZ_4K, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, f->pgt, SZ_4K, 2 * SZ_4K,
					     NULL), ==, SZ_4K);
	g_assert_cmpuint(log_capture_count(&f->log, "is not mapped"), ==, 3);
}

static void test_free_finds_far_tables(struct fixture *f, gconstpointer data)
{
	static const unsigned long iovas[] = {
		0, SZ_1G - SZ_4K, 255 * SZ_512G + SZ_1G, 511 * SZ_512G,
		511 * SZ_512G + 511 * SZ_1G + 511 * SZ_2M,
	};

	(void)data;
	g_test_summary("free stops looking once it has found every table, "
		       "and still finds tables at the last slots of the pgd "
		       "and of its children (teardown: no byte left)");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpuint(table_bytes(f), ==, SZ_4K);
	table_free(f);
	table_new(f, "arm-64-lpae-s1");
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i++)
		g_assert_cmpint(map(f, iovas[i], 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, 200 * SZ_512G, 0, SZ_1G, RW), ==, 0);
	/* pgd, 4 level-1 tables (one holds the block), 4 level-2, 5 level-3 */
	g_assert_cmpuint(table_bytes(f), ==, 14 * SZ_4K);
	table_free(f);
	/* the same after tables went and came back */
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 511 * SZ_512G, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(unmap(f, 511 * SZ_512G, SZ_2M, 1, NULL), ==, SZ_2M);
	g_assert_cmpint(map(f, 511 * SZ_512G + SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, 4 * SZ_4K);
}

/* ---- /lpae/tlb ----------------------------------------------------------- */

static void test_tlb_gather(struct fixture *f, gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { 0 };

	(void)data;
	g_test_summary("tlb_add_page once per cleared leaf (iova, leaf size) "
		       "only for a non-NULL gather that is not queued");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map_n(f, 0, 0, SZ_4K, 8, RW, &(size_t){ 0 }), ==, 0);
	g_assert_cmpint(map_n(f, SZ_1G, 0, SZ_2M, 2, RW, &(size_t){ 0 }), ==,
			0);
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 2, NULL), ==, 2 * SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	gather.queued = true;
	g_assert_cmpuint(unmap(f, 2 * SZ_4K, SZ_4K, 2, &gather), ==,
			 2 * SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 0);
	gather.queued = false;
	g_assert_cmpuint(unmap(f, 4 * SZ_4K, SZ_4K, 8, &gather), ==,
			 4 * SZ_4K);
	g_assert_cmpuint(f->tlb.pages->len, ==, 4);
	for (unsigned int i = 0; i < 4; i++) {
		struct tlb_call *c = &g_array_index(f->tlb.pages,
						    struct tlb_call, i);

		g_assert_cmphex(c->iova, ==, (4 + i) * SZ_4K);
		g_assert_cmpuint(c->granule, ==, SZ_4K);
	}
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_2M, 2, &gather), ==, 2 * SZ_2M);
	g_assert_cmpuint(f->tlb.pages->len, ==, 6);
	g_assert_cmphex(g_array_index(f->tlb.pages, struct tlb_call, 5).iova,
			==, SZ_1G + SZ_2M);
	g_assert_cmpuint(g_array_index(f->tlb.pages, struct tlb_call,
				       5).granule, ==, SZ_2M);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
	g_assert_cmpuint(f->tlb.flush_all, ==, 0);
}

static void test_tlb_null_ops(struct fixture *f, gconstpointer data)
{
	static const struct iopgt_flush_ops empty = { 0 };
	struct iopgt_iotlb_gather gather = { 0 };

	(void)data;
	g_test_summary("A NULL flush-ops table, or one with NULL members, is "
		       "simply not called");
	for (int i = 0; i < 2; i++) {
		f->cfg.tlb = i ? &empty : NULL;
		table_new(f, "arm-64-lpae-s1");
		g_assert_cmpint(map_n(f, 0, 0, SZ_4K, 4, RW, &(size_t){ 0 }),
				==, 0);
		g_assert_cmpuint(unmap(f, 0, SZ_4K, 4, &gather), ==,
				 4 * SZ_4K);
		g_assert_cmpint(map(f, 0, 0, SZ_2M, RW), ==, 0);
		g_assert_cmpuint(unmap(f, 0, SZ_2M, 1, &gather), ==, SZ_2M);
		table_free(f);
	}
}

/* ---- /lpae/sync ---------------------------------------------------------- */

static void test_sync_coherent_none(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A coherent walker gets no DMA syncs at all");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpuint(unmap(f, 0, SZ_2M, 2, NULL), ==, 2 * SZ_2M);
	g_assert_cmpuint(syncs(f), ==, 0);
}

static void test_sync_noncoherent_counts(struct fixture *f,
					 gconstpointer data)
{
	size_t mapped;

	(void)data;
	g_test_summary("A non-coherent walker: every table and entry write is "
		       "synced before it is reachable, each exactly once");
	f->cfg.coherent_walk = false;
	table_new(f, "arm-64-lpae-s1");
	/* the zeroed pgd */
	g_assert_cmpuint(syncs(f), ==, 1);
	/* three new tables (zeroes, then the entry) and the leaf */
	g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 1 + 3 * 2 + 1);
	/* SW_SYNC tables need no sync on the way: just the leaf */
	g_assert_cmpint(map(f, SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 9);
	/* a batch is one sync */
	g_assert_cmpint(map_n(f, 4 * SZ_4K, 0, SZ_4K, 16, RW, &mapped), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 10);
	g_assert_cmpuint(unmap(f, 4 * SZ_4K, SZ_4K, 16, NULL), ==, 16 * SZ_4K);
	g_assert_cmpuint(syncs(f), ==, 11);
	/* a hole clears nothing and syncs nothing */
	g_assert_cmpuint(unmap(f, 4 * SZ_4K, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 11);
	/* a 2M unmap over the table: the entry, then the batch */
	g_assert_cmpuint(unmap(f, 0, SZ_2M, 1, NULL), ==, SZ_2M);
	g_assert_cmpuint(syncs(f), ==, 13);
	/* a block over a leftover table: the removal (twice) and the leaf */
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 13 + 2 + 1);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(syncs(f), ==, 17);
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 20);
	/* errors sync nothing */
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_2M, RW), ==, -EEXIST);
	g_assert_cmpuint(syncs(f), ==, 20);
	/* stage-2 TCR reflects the non-coherent walker */
	table_free(f);
	table_new(f, "arm-64-lpae-s2");
	g_assert_cmpuint(f->cfg.arm_lpae_s2_cfg.vtcr.sh, ==, 2);
	g_assert_cmpuint(f->cfg.arm_lpae_s2_cfg.vtcr.irgn, ==, 0);
	g_assert_cmpuint(f->cfg.arm_lpae_s2_cfg.vtcr.orgn, ==, 0);
}

/* ---- /lpae/dirty --------------------------------------------------------- */

struct dirty_log {
	struct iopgt_dirty_bitmap bitmap;
	GArray *ranges;		/* struct tlb_call: iova, size */
};

static void dirty_record(struct iopgt_dirty_bitmap *dirty, unsigned long iova,
			 size_t size)
{
	struct dirty_log *dl = container_of(dirty, struct dirty_log, bitmap);
	struct tlb_call c = { iova, size, size };

	g_array_append_val(dl->ranges, c);
}

static int read_dirty(struct fixture *f, struct dirty_log *dl,
		      unsigned long iova, size_t size, unsigned long flags)
{
	g_array_set_size(dl->ranges, 0);
	return iopgt_pgtable_read_and_clear_dirty(f->host, f->pgt, iova, size,
						  flags, &dl->bitmap);
}

static void test_dirty_tracking(struct fixture *f, gconstpointer data)
{
	struct iopgt_iotlb_gather gather = { .start = ~0UL, .end = 0 };
	struct dirty_log dl = {
		.bitmap = { .record = dirty_record, .gather = &gather },
		.ranges = g_array_new(FALSE, FALSE, sizeof(struct tlb_call)),
	};

	(void)data;
	g_test_summary("HD: writable leaves start writeable-dirty (DBM); a read "
		       "reports and cleans them unless NO_CLEAR; read-only "
		       "leaves never report");
	f->cfg.quirks |= IO_PGTABLE_QUIRK_ARM_HD;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 0, SZ_1G, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_4K, SZ_1G, SZ_4K, IOMMU_READ), ==, 0);
	g_assert_cmpint(map(f, 2 * SZ_4K, SZ_1G, SZ_4K, IOMMU_WRITE), ==, 0);
	g_assert_cmpint(map(f, SZ_2M, SZ_2M, SZ_2M, RW | IOMMU_CACHE), ==, 0);
	g_assert_cmphex(leaf_pte(f, 0), ==, SZ_1G | PTE_DBM | 0xE43);
	g_assert_cmphex(leaf_pte(f, SZ_4K), ==, SZ_1G | 0xEC3);

	/* NO_CLEAR: reported, still dirty */
	g_assert_cmpint(read_dirty(f, &dl, 0, 3 * SZ_4K, IOMMU_DIRTY_NO_CLEAR),
			==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 2);
	g_assert_cmphex(g_array_index(dl.ranges, struct tlb_call, 0).iova, ==,
			0);
	g_assert_cmpuint(g_array_index(dl.ranges, struct tlb_call, 0).size, ==,
			 SZ_4K);
	g_assert_cmphex(g_array_index(dl.ranges, struct tlb_call, 1).iova, ==,
			2 * SZ_4K);
	g_assert_cmpint(read_dirty(f, &dl, SZ_2M, SZ_2M, IOMMU_DIRTY_NO_CLEAR),
			==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 1);
	g_assert_cmphex(g_array_index(dl.ranges, struct tlb_call, 0).iova, ==,
			SZ_2M);
	g_assert_cmpuint(g_array_index(dl.ranges, struct tlb_call, 0).size, ==,
			 SZ_2M);
	/* the gather grows to cover what was recorded */
	g_assert_cmphex(gather.start, ==, 0);
	g_assert_cmphex(gather.end, ==, SZ_4M - 1);
	g_assert_cmphex(leaf_pte(f, 0), ==, SZ_1G | PTE_DBM | 0xE43);

	/* clearing: reported once, then writeable-clean (AP[2] set) */
	g_assert_cmpint(read_dirty(f, &dl, 0, 3 * SZ_4K, 0), ==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 2);
	g_assert_cmphex(leaf_pte(f, 0), ==,
			SZ_1G | PTE_DBM | PTE_AP_RDONLY | 0xE43);
	g_assert_cmphex(leaf_pte(f, SZ_4K), ==, SZ_1G | 0xEC3);
	g_assert_cmpint(read_dirty(f, &dl, 0, 3 * SZ_4K, 0), ==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 0);
	g_assert_cmpint(read_dirty(f, &dl, SZ_2M + SZ_4K, SZ_4K, 0), ==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 1);
	g_assert_cmpint(read_dirty(f, &dl, SZ_2M, SZ_2M, 0), ==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 0);
	/* the walker would clear AP[2] on a write; iova_to_phys still works */
	g_assert_cmphex(phys(f, 2 * SZ_4K + 5), ==, SZ_1G + 5);

	/* a hole inside the range: -EINVAL, leaves before it processed */
	g_assert_cmpint(map(f, 8 * SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(read_dirty(f, &dl, 8 * SZ_4K, 2 * SZ_4K, 0), ==,
			-EINVAL);
	g_assert_cmpuint(dl.ranges->len, ==, 1);
	g_assert_cmphex(leaf_pte(f, 8 * SZ_4K) & PTE_AP_RDONLY, ==,
			PTE_AP_RDONLY);

	/* argument errors */
	g_assert_cmpint(read_dirty(f, &dl, 0, 0, 0), ==, -EINVAL);
	g_assert_cmpint(read_dirty(f, &dl, (1UL << 48) - SZ_4K, 2 * SZ_4K, 0),
			==, -EINVAL);
	g_assert_cmpint(read_dirty(f, &dl, SZ_1G, SZ_4K, 0), ==, -EINVAL);
	g_assert_cmpint(iopgt_pgtable_read_and_clear_dirty(f->host, f->pgt, 0,
							   SZ_4K, 0,
							   &dl.bitmap),
			==, 0);
	g_array_unref(dl.ranges);
}

static void test_dirty_other_formats(struct fixture *f, gconstpointer data)
{
	static const struct {
		const char *fmt;
		unsigned long quirks;
		unsigned int ias, oas;
	} cases[] = {
		{ "arm-64-lpae-s2", 0, 48, 48 },
		{ "arm-32-lpae-s1", IO_PGTABLE_QUIRK_ARM_HD, 32, 40 },
		{ "arm-32-lpae-s2", 0, 40, 40 },
		{ "arm-mali-lpae", 0, 48, 40 },
	};
	struct dirty_log dl = {
		.bitmap = { .record = dirty_record },
		.ranges = g_array_new(FALSE, FALSE, sizeof(struct tlb_call)),
	};

	(void)data;
	g_test_summary("read_and_clear_dirty is ARM_64_LPAE_S1 only: the "
		       "others have no op, so -EOPNOTSUPP as host.h promises, "
		       "and without HD nothing is ever dirty");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		f->cfg.quirks = cases[i].quirks;
		f->cfg.ias = cases[i].ias;
		f->cfg.oas = cases[i].oas;
		table_new(f, cases[i].fmt);
		g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
		g_assert_null(f->pgt->ops.read_and_clear_dirty);
		g_assert_cmpint(read_dirty(f, &dl, 0, SZ_4K, 0), ==,
				-EOPNOTSUPP);
		/* whatever the arguments */
		g_assert_cmpint(read_dirty(f, &dl, 0, 0, 0), ==, -EOPNOTSUPP);
		table_free(f);
	}
	f->cfg.quirks = 0;
	f->cfg.ias = f->cfg.oas = 48;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
	g_assert_cmphex(leaf_pte(f, 0) & PTE_DBM, ==, 0);
	g_assert_cmpint(read_dirty(f, &dl, 0, SZ_4K, 0), ==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 0);
	g_array_unref(dl.ranges);
}

/* ---- /lpae/walk ---------------------------------------------------------- */

struct order {
	GString *s;
	int stop_after;
	int entries;
};

static int order_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	struct order *o = data;

	(void)pa;
	(void)va;
	(void)size;
	g_string_append_printf(o->s, "(%d", level);
	return 0;
}

static int order_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct order *o = data;

	g_string_append_printf(o->s, " %c%d", e->kind == IOPGT_ENTRY_LEAF ?
			       'L' : 'T', e->level);
	return ++o->entries == o->stop_after ? 77 : 0;
}

static int order_end(void *data, uint64_t pa, int level)
{
	struct order *o = data;

	(void)pa;
	g_string_append_printf(o->s, " %d)", level);
	return 0;
}

static void test_walk_order(struct fixture *f, gconstpointer data)
{
	const struct iopgt_walk_ops v = {
		.table = order_table,
		.entry = order_entry,
		.table_end = order_end,
	};
	struct order o = { .s = g_string_new(NULL) };
	struct iopgt_walk_entry e;

	(void)data;
	g_test_summary("The walk visits each table before its entries, recurses "
		       "into tables, closes each table, uses Linux's level "
		       "numbers, and stops on a visitor's non-zero return");
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_2M, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_1G, 0, SZ_1G, RW), ==, 0);
	g_assert_cmpint(f->pgt->ops.walk(&f->pgt->ops, &v, &o), ==, 0);
	g_assert_cmpstr(o.s->str, ==,
			"(0 T0(1 T1(2 T2(3 L3 3) L2 2) L1 1) 0)");
	g_string_truncate(o.s, 0);
	o.entries = 0;
	o.stop_after = 3;
	g_assert_cmpint(iopgt_pgtable_walk(f->host, f->pgt, &v, &o), ==, 77);
	g_assert_cmpstr(o.s->str, ==, "(0 T0(1 T1(2 T2");
	g_string_free(o.s, TRUE);

	pte_at(f, SZ_1G + 5, 1, &e);
	g_assert_cmpint(e.kind, ==, IOPGT_ENTRY_LEAF);
	g_assert_cmpuint(e.index, ==, 1);
	g_assert_cmphex(e.iova, ==, SZ_1G);
	g_assert_cmpuint(e.size, ==, SZ_1G);
	g_assert_cmphex(e.oa, ==, 0);
	pte_at(f, SZ_4K, 3, &e);
	g_assert_cmpuint(e.index, ==, 1);
	g_assert_cmpuint(e.size, ==, SZ_4K);
	pte_at(f, SZ_4K, 0, &e);
	g_assert_cmpint(e.kind, ==, IOPGT_ENTRY_TABLE);
	g_assert_cmpuint(e.size, ==, SZ_512G);
	/* members may be NULL */
	g_assert_cmpint(f->pgt->ops.walk(&f->pgt->ops,
					 &(struct iopgt_walk_ops){ 0 }, NULL),
			==, 0);
}

/* Each entry's prot, "level:prot " in walk order. */
static int prot_entry(void *data, const struct iopgt_walk_entry *e)
{
	g_string_append_printf(data, "%d:%d ", e->level, e->prot);
	return 0;
}

static char *walk_prots(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	const struct iopgt_walk_ops v = { .entry = prot_entry };
	GString *s = g_string_new(NULL);

	g_assert_cmpint(iopgt_pgtable_walk(host, pgt, &v, s), ==, 0);
	return g_string_free(s, FALSE);
}

static void test_walk_prot_tables_and_dirty(struct fixture *f,
					    gconstpointer data)
{
	struct dirty_log dl = {
		.bitmap = { .record = dirty_record },
		.ranges = g_array_new(FALSE, FALSE, sizeof(struct tlb_call)),
	};
	g_autofree char *before = NULL, *after = NULL;

	(void)data;
	g_test_summary("Table entries walk with prot 0; a leaf that dirty "
		       "tracking made writeable-clean (AP[2] and DBM) still "
		       "walks as writeable, a read-only one as read-only");
	f->cfg.quirks |= IO_PGTABLE_QUIRK_ARM_HD;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpint(map(f, SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_8K, 0, SZ_4K, IOMMU_READ), ==, 0);
	before = walk_prots(f->host, f->pgt);
	g_assert_cmpstr(before, ==, "0:0 1:0 2:0 3:3 3:1 ");
	g_assert_cmpint(read_dirty(f, &dl, SZ_4K, SZ_8K, 0), ==, 0);
	g_assert_cmpuint(dl.ranges->len, ==, 1);
	g_assert_cmphex(leaf_pte(f, SZ_4K) & (PTE_AP_RDONLY | PTE_DBM), ==,
			PTE_AP_RDONLY | PTE_DBM);
	after = walk_prots(f->host, f->pgt);
	g_assert_cmpstr(after, ==, before);
	g_array_unref(dl.ranges);
}

/*
 * A copy of this plugin's descriptor that says ABI 1.0: the host must
 * treat its walk as a 1.0 plugin's, whose entries end before prot.
 */
static struct iopgt_plugin_desc lpae_desc_abi_1_0;

struct walk_copy {
	GArray *entries;	/* struct iopgt_walk_entry */
};

static int copy_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct walk_copy *c = data;

	g_array_append_val(c->entries, *e);
	return 0;
}

static GArray *walk_entries(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	const struct iopgt_walk_ops v = { .entry = copy_entry };
	struct walk_copy c = {
		g_array_new(FALSE, TRUE, sizeof(struct iopgt_walk_entry))
	};

	g_assert_cmpint(iopgt_pgtable_walk(host, pgt, &v, &c), ==, 0);
	return c.entries;
}

static void test_walk_abi_1_0_plugin(struct fixture *f, gconstpointer data)
{
	struct iopgt_host *old = iopgt_host_new();
	struct iopgt_pgtable *pgt = NULL;
	g_autoptr(GArray) now = NULL, then = NULL;

	(void)data;
	g_test_summary("A plugin that declares ABI 1.0 still walks: the "
		       "visitor gets its 1.0 fields unchanged and prot "
		       "IOPGT_PROT_UNKNOWN, whatever lies after them");
	lpae_desc_abi_1_0 = iopgt_plugin_desc;
	lpae_desc_abi_1_0.abi_minor = 0;
	g_assert_cmpint(iopgt_host_register_builtin(old, &lpae_desc_abi_1_0,
						    NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(old, "arm-64-lpae-s1", &f->cfg,
					  &f->tlb, &pgt), ==, 0);
	table_new(f, "arm-64-lpae-s1");
	for (int i = 0; i < 2; i++) {
		struct iopgt_pgtable *t = i ? pgt : f->pgt;
		size_t mapped = 0;

		g_assert_cmpint(t->ops.map_pages(&t->ops, SZ_4K, SZ_8K, SZ_4K,
						 1, IOMMU_READ, &mapped),
				==, 0);
		g_assert_cmpint(t->ops.map_pages(&t->ops, SZ_2M, SZ_2M, SZ_2M,
						 1, RW | IOMMU_NOEXEC,
						 &mapped), ==, 0);
	}
	now = walk_entries(f->host, f->pgt);
	then = walk_entries(old, pgt);
	g_assert_cmpuint(now->len, ==, 5);
	g_assert_cmpuint(then->len, ==, now->len);
	for (guint i = 0; i < now->len; i++) {
		struct iopgt_walk_entry *a = &g_array_index(now,
			struct iopgt_walk_entry, i);
		struct iopgt_walk_entry *b = &g_array_index(then,
			struct iopgt_walk_entry, i);

		assert_walk_entry_equal(a, b, false);
		g_assert_cmpint(b->prot, ==, IOPGT_PROT_UNKNOWN);
	}
	/* the 1.1 walk of the same leaves */
	g_assert_cmpint(g_array_index(now, struct iopgt_walk_entry, 3).prot,
			==, IOMMU_READ);
	g_assert_cmpint(g_array_index(now, struct iopgt_walk_entry, 4).prot,
			==, RW | IOMMU_NOEXEC);
	iopgt_pgtable_free(old, pgt);
	g_assert_null(iopgt_host_unref(old));
}

/* ---- /lpae/mem ----------------------------------------------------------- */

static void test_mem_free_returns_everything(struct fixture *f,
					     gconstpointer data)
{
	struct iopgt_mem_stats st;

	(void)data;
	g_test_summary("Freeing a populated table returns every table and the "
		       "state; tlb_flush_all is called exactly once");
	f->cfg.pgsize_bitmap = PGSIZES_16K;
	f->cfg.ias = 40;
	f->cfg.oas = 40;
	table_new(f, "arm-64-lpae-s2");
	for (unsigned long i = 0; i < 64; i++)
		g_assert_cmpint(map(f, i * (SZ_1G / 2) + i * SZ_16K, 0, SZ_16K,
				    RW), ==, 0);
	g_assert_cmpint(map(f, (1UL << 40) - SZ_32M, 0, SZ_32M, RW), ==, 0);
	mem_stats(f, &st);
	/* the pgd is 16 concatenated level-2 tables; 64 level-3 tables */
	g_assert_cmpuint(st.table_bytes, ==, 16 * SZ_16K + 64 * SZ_16K);
	g_assert_cmpuint(st.table_allocs, ==, 1 + 64);
	g_assert_cmpuint(st.state_bytes, >, 0);
	table_free(f);
	g_assert_cmpuint(f->tlb.flush_all, ==, 1);
	iopgt_host_get_mem_stats(f->host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
}

/* ---- reclaim of empty tables (IOPGT_QUIRK_RECLAIM_TABLES) ---------------- */

#define RECLAIM	(IOPGT_QUIRK_RECLAIM_TABLES | IO_PGTABLE_QUIRK_NO_WARN)

static const struct tlb_call *walk_call(struct fixture *f, unsigned int i)
{
	return &g_array_index(f->tlb.walks, struct tlb_call, i);
}

static void assert_walk_call(struct fixture *f, unsigned int i,
			     unsigned long iova, size_t size, size_t granule)
{
	g_assert_cmpuint(f->tlb.walks->len, >, i);
	g_assert_cmphex(walk_call(f, i)->iova, ==, iova);
	g_assert_cmphex(walk_call(f, i)->size, ==, size);
	g_assert_cmphex(walk_call(f, i)->granule, ==, granule);
}

/*
 * A flush_walk that also notes the table bytes at the time of the call:
 * the tables it covers must still be allocated (flush first, then free).
 */
static struct fixture *flush_fixture;
static uint64_t flush_seen_bytes;

static void flush_walk_noting_bytes(unsigned long iova, size_t size,
				    size_t granule, void *cookie)
{
	flush_seen_bytes = table_bytes(flush_fixture);
	tlb_recorder_ops.tlb_flush_walk(iova, size, granule, cookie);
}

static const struct iopgt_flush_ops tlb_noting_ops = {
	.tlb_flush_all = NULL,
	.tlb_flush_walk = flush_walk_noting_bytes,
	.tlb_add_page = NULL,
};

static void test_reclaim_last_page(struct fixture *f, gconstpointer data)
{
	const unsigned long iova = 5 * SZ_2M + 7 * SZ_4K;
	char *empty, *after;
	uint64_t root;

	(void)data;
	g_test_summary("With RECLAIM_TABLES, unmapping the last page of a "
		       "table unhooks it, calls tlb_flush_walk(span, 2M, 4K) "
		       "once while the table is still allocated, then frees "
		       "it: only the pgd is left");
	/* ias 30: the pgd is at level 2, the tables below it are last */
	f->cfg.quirks = RECLAIM;
	f->cfg.ias = 30;
	f->cfg.tlb = &tlb_noting_ops;
	flush_fixture = f;
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);
	empty = snapshot(f);

	g_assert_cmpint(map(f, iova, SZ_1G, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, root + SZ_4K);
	g_assert_cmphex(phys(f, iova + 42), ==, SZ_1G + 42);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);

	g_assert_cmpuint(unmap(f, iova, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_walk_call(f, 0, iova & ~(SZ_2M - 1), SZ_2M, SZ_4K);
	g_assert_cmpuint(flush_seen_bytes, ==, root + SZ_4K);
	after = snapshot(f);
	g_assert_cmpstr(after, ==, empty);
	g_assert_cmpuint(count(f).tables, ==, 1);
	g_assert_cmphex(phys(f, iova), ==, 0);
	g_free(empty);
	g_free(after);
}

static void test_reclaim_parents(struct fixture *f, gconstpointer data)
{
	const unsigned long a = SZ_512G + 3 * SZ_1G + 5 * SZ_2M;
	const unsigned long b = a + SZ_2M;
	uint64_t root;

	(void)data;
	g_test_summary("Tables emptied by the removal of their last table go "
		       "as well, in one tlb_flush_walk over the span of the "
		       "topmost; a parent with another entry stays");
	f->cfg.quirks = RECLAIM;
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);

	/* two level-3 tables under one level-2 table */
	g_assert_cmpint(map(f, a, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, b, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, root + 4 * SZ_4K);

	g_assert_cmpuint(unmap(f, a, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root + 3 * SZ_4K);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_walk_call(f, 0, a, SZ_2M, SZ_4K);

	/* the last page: level 3, 2 and 1 go, the flush covers 512G */
	g_assert_cmpuint(unmap(f, b, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 2);
	assert_walk_call(f, 1, SZ_512G, SZ_512G, SZ_4K);
	g_assert_cmpuint(count(f).tables, ==, 1);
}

static void test_reclaim_off_keeps_tables(struct fixture *f,
					  gconstpointer data)
{
	uint64_t root;

	(void)data;
	g_test_summary("Without RECLAIM_TABLES an emptied table stays and no "
		       "walk is flushed (Linux)");
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);
	g_assert_cmpint(map(f, SZ_1G, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root + 3 * SZ_4K);
	g_assert_cmpuint(count(f).tables, ==, 4);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
}

static void test_reclaim_partial_unmap(struct fixture *f, gconstpointer data)
{
	uint64_t root, full;
	char *before, *after;
	size_t mapped;

	(void)data;
	g_test_summary("A table keeps going while it has a valid entry: a "
		       "partial unmap, a hole or a refused unmap frees "
		       "nothing");
	f->cfg.quirks = RECLAIM;
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);

	g_assert_cmpint(map_n(f, SZ_2M, SZ_2M, SZ_4K, 512, RW, &mapped), ==, 0);
	full = table_bytes(f);
	g_assert_cmpuint(full, ==, root + 3 * SZ_4K);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 511, NULL), ==, 511 * SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, full);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
	g_assert_cmphex(phys(f, SZ_4M - SZ_4K), ==, SZ_4M - SZ_4K);

	/* a hole in the table, a hole without a table, part of a block */
	before = snapshot(f);
	g_assert_cmpuint(unmap(f, SZ_2M, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpint(map(f, SZ_4M, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_4M, SZ_4K, 1, NULL), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_4M, SZ_2M, 1, NULL), ==, SZ_2M);
	after = snapshot(f);
	g_assert_cmpstr(after, ==, before);
	g_assert_cmpuint(table_bytes(f), ==, full);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);

	/* a batch that ends at the last entry empties it */
	g_assert_cmpuint(unmap(f, SZ_4M - SZ_4K, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_walk_call(f, 0, 0, SZ_512G, SZ_4K);
	g_free(before);
	g_free(after);
}

static void test_reclaim_noncoherent(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_test_summary("A non-coherent walker: each descriptor cleared by a "
		       "reclaim is synced, once");
	f->cfg.quirks = RECLAIM;
	f->cfg.coherent_walk = false;
	table_new(f, "arm-64-lpae-s1");
	g_assert_cmpuint(syncs(f), ==, 1);
	/* as without the quirk: three tables (zeroes, entry), the leaf */
	g_assert_cmpint(map(f, 0, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 1 + 3 * 2 + 1);
	g_assert_cmpint(map(f, SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(syncs(f), ==, 9);
	/* the leaf only: the table keeps an entry */
	g_assert_cmpuint(unmap(f, 0, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(syncs(f), ==, 10);
	/* the leaf, then three table descriptors */
	g_assert_cmpuint(unmap(f, SZ_4K, SZ_4K, 1, NULL), ==, SZ_4K);
	g_assert_cmpuint(syncs(f), ==, 10 + 1 + 3);
	g_assert_cmpuint(count(f).tables, ==, 1);
	/* descriptors a walker sees: SW_SYNC set, count bits ignored */
	g_assert_cmpint(map(f, SZ_2M, SZ_2M, SZ_4K, RW), ==, 0);
	g_assert_cmphex(pte_at(f, SZ_2M, 2, NULL) & (PTE_TYPE_TABLE |
						     PTE_SW_SYNC),
			==, PTE_TYPE_TABLE | PTE_SW_SYNC);
	g_assert_cmphex(phys(f, SZ_2M + 1), ==, SZ_2M + 1);
}

static void test_reclaim_block_paths(struct fixture *f, gconstpointer data)
{
	uint64_t root;

	(void)data;
	g_test_summary("A block over a table counts as one entry for one, and "
		       "a block-size unmap over tables takes the emptied "
		       "parents with it");
	f->cfg.quirks = RECLAIM;
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);

	/* Linux: a block over a table drops the table, leaves and all */
	g_assert_cmpint(map(f, SZ_1G + SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpint(map(f, SZ_1G, 0, SZ_2M, RW), ==, 0);
	g_assert_cmpuint(table_bytes(f), ==, root + 2 * SZ_4K);
	assert_walk_call(f, 0, SZ_1G, SZ_2M, SZ_4K);
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_2M, 1, NULL), ==, SZ_2M);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 2);
	assert_walk_call(f, 1, 0, SZ_512G, SZ_4K);

	/* a 1G unmap over a level-2 table: it goes, then its parent */
	tlb_recorder_reset(&f->tlb);
	g_assert_cmpint(map(f, SZ_1G + SZ_4K, 0, SZ_4K, RW), ==, 0);
	g_assert_cmpuint(unmap(f, SZ_1G, SZ_1G, 1, NULL), ==, SZ_1G);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 2);
	assert_walk_call(f, 0, SZ_1G, SZ_1G, SZ_4K);
	assert_walk_call(f, 1, 0, SZ_512G, SZ_4K);
}

static void test_reclaim_enomem(struct fixture *f, gconstpointer data)
{
	struct iopgt_mem_stats st;
	uint64_t root;

	(void)data;
	g_test_summary("A map that fails with -ENOMEM takes back the tables "
		       "it installed on the way (Linux leaves them)");
	f->cfg.quirks = RECLAIM;
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);
	iopgt_host_get_mem_stats(f->host, &st);
	/* room for the level-1 and level-2 tables, not the last one */
	iopgt_host_set_mem_limit(f->host, st.table_bytes + 2 * SZ_4K);
	g_assert_cmpint(map(f, SZ_1G, 0, SZ_4K, RW), ==, -ENOMEM);
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(f->tlb.walks->len, ==, 1);
	assert_walk_call(f, 0, 0, SZ_512G, SZ_4K);
	iopgt_host_set_mem_limit(f->host, 0);
	g_assert_cmpint(map(f, SZ_1G, 0, SZ_4K, RW), ==, 0);
}

static void test_reclaim_every_format(struct fixture *f, gconstpointer data)
{
	static const struct {
		const char *fmt;
		unsigned long pgsizes;
		unsigned int ias, oas;
		size_t page, span;	/* a page; the last table's span */
	} cases[] = {
		{ "arm-64-lpae-s1", PGSIZES_4K, 48, 48, SZ_4K, SZ_2M },
		{ "arm-64-lpae-s1", PGSIZES_16K, 48, 48, SZ_16K, SZ_32M },
		{ "arm-64-lpae-s1", PGSIZES_64K, 52, 52, SZ_64K, SZ_512M },
		{ "arm-64-lpae-s2", PGSIZES_4K, 40, 40, SZ_4K, SZ_2M },
		{ "arm-64-lpae-s2", PGSIZES_16K, 48, 48, SZ_16K, SZ_32M },
		{ "arm-32-lpae-s1", PGSIZES_4K, 32, 40, SZ_4K, SZ_2M },
		{ "arm-32-lpae-s2", PGSIZES_4K, 40, 40, SZ_4K, SZ_2M },
		{ "arm-mali-lpae", PGSIZES_4K, 48, 40, SZ_4K, SZ_2M },
	};

	(void)data;
	g_test_summary("Every LPAE format, granule and concatenated pgd takes "
		       "RECLAIM_TABLES and ends a map/unmap cycle with its "
		       "pgd alone");
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		/* the top of ias: the last pgd entry (concatenated table) */
		unsigned long iova = (1UL << cases[i].ias) - 2 * cases[i].span;
		uint64_t root;

		f->cfg.quirks = IOPGT_QUIRK_RECLAIM_TABLES;
		f->cfg.pgsize_bitmap = cases[i].pgsizes;
		f->cfg.ias = cases[i].ias;
		f->cfg.oas = cases[i].oas;
		table_new(f, cases[i].fmt);
		g_assert_cmphex(f->pgt->cfg.quirks, ==,
				IOPGT_QUIRK_RECLAIM_TABLES);
		root = table_bytes(f);
		g_assert_cmpint(map(f, iova, cases[i].page, cases[i].page, RW),
				==, 0);
		g_assert_cmpint(map(f, iova + cases[i].span, 0, cases[i].page,
				    RW), ==, 0);
		g_assert_cmpuint(table_bytes(f), >, root);
		g_assert_cmphex(phys(f, iova + 3), ==, cases[i].page + 3);
		g_assert_cmpuint(unmap(f, iova, cases[i].page, 1, NULL), ==,
				 cases[i].page);
		g_assert_cmpuint(unmap(f, iova + cases[i].span, cases[i].page,
				       1, NULL), ==, cases[i].page);
		g_assert_cmpuint(table_bytes(f), ==, root);
		g_assert_cmpuint(count(f).tables, ==, 1);
		/* the last flush covers the top table's span, granule-wise */
		g_assert_cmpuint(walk_call(f, f->tlb.walks->len - 1)->granule,
				 ==, cases[i].page);
		tlb_recorder_reset(&f->tlb);
		table_free(f);
	}
}

static void test_reclaim_big_counts(struct fixture *f, gconstpointer data)
{
	const unsigned long base = SZ_512M;
	uint64_t root, full;
	size_t mapped;

	(void)data;
	g_test_summary("A 64K-granule table's count runs past the 10 low bits "
		       "of its field and back: 1100 pages in one table, "
		       "unmapped one by one, the table goes with the last");
	f->cfg.quirks = RECLAIM;
	f->cfg.pgsize_bitmap = PGSIZES_64K;
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);
	g_assert_cmpint(map_n(f, base, 0, SZ_64K, 1100, RW, &mapped), ==, 0);
	g_assert_cmpuint(mapped, ==, 1100 * SZ_64K);
	full = table_bytes(f);
	/* 1100 = 1 << 10 | 76: [11:2] holds 76, [54:52] holds 1 */
	g_assert_cmphex(pte_at(f, base, 2, NULL) & PTE_RC_BITS, ==,
			(76ULL << 2) | (1ULL << 52));
	for (unsigned long i = 0; i < 1099; i++)
		g_assert_cmpuint(unmap(f, base + i * SZ_64K, SZ_64K, 1, NULL),
				 ==, SZ_64K);
	g_assert_cmpuint(table_bytes(f), ==, full);
	g_assert_cmpuint(f->tlb.walks->len, ==, 0);
	g_assert_cmphex(phys(f, base + 1099 * SZ_64K + 1), ==,
			1099 * SZ_64K + 1);
	g_assert_cmpuint(unmap(f, base + 1099 * SZ_64K, SZ_64K, 1, NULL), ==,
			 SZ_64K);
	g_assert_cmpuint(table_bytes(f), ==, root);
}

/* Every table but the root has a valid entry: no empty table is left. */
struct nonempty {
	int depth;
	unsigned int entries[8];
	unsigned int empty;
};

static int ne_table(void *data, uint64_t pa, const void *va, size_t size,
		    int level)
{
	struct nonempty *ne = data;

	(void)pa;
	(void)va;
	(void)size;
	(void)level;
	ne->entries[++ne->depth] = 0;
	return 0;
}

static int ne_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct nonempty *ne = data;

	(void)e;
	ne->entries[ne->depth]++;
	return 0;
}

static int ne_end(void *data, uint64_t pa, int level)
{
	struct nonempty *ne = data;

	(void)pa;
	(void)level;
	if (ne->depth > 1 && !ne->entries[ne->depth])
		ne->empty++;
	ne->depth--;
	return 0;
}

static unsigned int empty_tables(struct fixture *f)
{
	const struct iopgt_walk_ops v = {
		.table = ne_table,
		.entry = ne_entry,
		.table_end = ne_end,
	};
	struct nonempty ne = { 0 };

	g_assert_cmpint(f->pgt->ops.walk(&f->pgt->ops, &v, &ne), ==, 0);
	return ne.empty;
}

/*
 * The churn: 4K pages and 2M blocks in four 8M windows far apart (two
 * level-1 tables, four level-2 tables), against a shadow of what is
 * mapped at which size.
 */
#define CHURN_PAGES	(4 * SZ_2M * 4 / SZ_4K)

static unsigned long churn_iova(unsigned int page)
{
	static const unsigned long base[] = {
		0, SZ_1G, SZ_512G, SZ_512G + 7 * SZ_1G,
	};

	return base[page / 2048] + (page % 2048) * SZ_4K;
}

static void test_reclaim_churn(struct fixture *f, gconstpointer data)
{
	uint8_t *shadow = g_malloc0(CHURN_PAGES);	/* 1 page, 2 block */
	GRand *rand = g_rand_new_with_seed(7);
	unsigned int ops = g_test_slow() ? 200500 : 7500;
	uint64_t root, peak = 0;

	(void)data;
	g_test_summary("Random maps and unmaps of pages and blocks never leave "
		       "an empty table, keep every mapping, and end with the "
		       "pgd alone");
	f->cfg.quirks = RECLAIM;
	table_new(f, "arm-64-lpae-s1");
	root = table_bytes(f);

	for (unsigned int op = 0; op < ops; op++) {
		/* phases of mostly maps, then mostly unmaps */
		bool fill = op / 1000 % 2 == 0;
		bool do_map = g_rand_int_range(rand, 0, 4) ? fill : !fill;
		unsigned int p = g_rand_int_range(rand, 0, CHURN_PAGES);
		unsigned int k = g_rand_int_range(rand, 1, 65), n = 0;
		unsigned long iova;
		size_t mapped;

		/* the next page from p that is free (map) or mapped */
		while (n < CHURN_PAGES && !shadow[p] != do_map) {
			p = (p + 1) % CHURN_PAGES;
			n++;
		}
		if (n == CHURN_PAGES)
			continue;
		n = 0;
		iova = churn_iova(p);
		if (shadow[p] == 2) {
			p &= ~511u;
			g_assert_cmpuint(unmap(f, churn_iova(p), SZ_2M, 1,
					       NULL), ==, SZ_2M);
			memset(shadow + p, 0, 512);
		} else if (shadow[p] == 1) {
			while (n < k && p + n < CHURN_PAGES &&
			       shadow[p + n] == 1 && (!n || (p + n) % 2048))
				n++;
			for (size_t done = 0; done < n * SZ_4K;) {
				size_t got = unmap(f, iova + done, SZ_4K,
						   n - done / SZ_4K, NULL);

				g_assert_cmpuint(got, >, 0);
				done += got;
			}
			memset(shadow + p, 0, n);
		} else if (g_rand_int_range(rand, 0, 8) == 0) {
			p &= ~511u;
			if (memchr(shadow + p, 1, 512) ||
			    memchr(shadow + p, 2, 512))
				continue;
			g_assert_cmpint(map(f, churn_iova(p), churn_iova(p),
					    SZ_2M, RW), ==, 0);
			memset(shadow + p, 2, 512);
		} else {
			while (n < k && p + n < CHURN_PAGES && !shadow[p + n] &&
			       (!n || (p + n) % 2048))
				n++;
			for (size_t done = 0; done < n * SZ_4K;) {
				g_assert_cmpint(map_n(f, iova + done,
						      iova + done, SZ_4K,
						      n - done / SZ_4K, RW,
						      &mapped), ==, 0);
				done += mapped;
			}
			memset(shadow + p, 1, n);
		}
		if (table_bytes(f) > peak)
			peak = table_bytes(f);
		if (op % 500 == 0)
			g_assert_cmpuint(empty_tables(f), ==, 0);
	}
	g_assert_cmpuint(empty_tables(f), ==, 0);
	for (unsigned int p = 0; p < CHURN_PAGES; p++)
		g_assert_cmphex(phys(f, churn_iova(p) + 8), ==,
				shadow[p] ? churn_iova(p) + 8 : 0);
	g_test_message("churn: %u ops, peak %" G_GUINT64_FORMAT
		       " table bytes, %" G_GUINT64_FORMAT " before the end, "
		       "%u walk flushes", ops, peak, table_bytes(f),
		       f->tlb.walks->len);
	/* the drain phases emptied tables, which went */
	g_assert_cmpuint(f->tlb.walks->len, >, 0);

	for (unsigned int p = 0; p < CHURN_PAGES; p += 512) {
		if (shadow[p] == 2) {
			g_assert_cmpuint(unmap(f, churn_iova(p), SZ_2M, 1,
					       NULL), ==, SZ_2M);
			continue;
		}
		for (unsigned int q = p; q < p + 512; q++)
			if (shadow[q])
				g_assert_cmpuint(unmap(f, churn_iova(q), SZ_4K,
						       1, NULL), ==, SZ_4K);
	}
	g_assert_cmpuint(table_bytes(f), ==, root);
	g_assert_cmpuint(count(f).tables, ==, 1);
	g_rand_free(rand);
	g_free(shadow);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	add_test("/lpae/plugin/registers-five-formats", test_plugin_formats);
	add_test("/lpae/plugin/loads-from-file", test_plugin_from_file);

	add_test("/lpae/alloc/s1-outputs", test_alloc_s1_outputs);
	add_test("/lpae/alloc/pgsize-restriction",
		 test_alloc_pgsize_restriction);
	add_test("/lpae/alloc/rejects-what-linux-rejects", test_alloc_rejects);
	add_test("/lpae/alloc/narrows-ias-oas-like-linux",
		 test_alloc_narrows_like_linux);
	add_test("/lpae/alloc/accepts-linux-quirks",
		 test_alloc_quirks_accepted);
	add_test("/lpae/alloc/enomem-frees-state", test_alloc_enomem);

	add_test("/lpae/regs/s1-tcr-mair-ttbr", test_regs_s1);
	add_test("/lpae/regs/s2-vtcr-concatenation", test_regs_s2);
	add_test("/lpae/regs/mali-transtab-memattr", test_regs_mali);
	add_test("/lpae/regs/32-bit-formats", test_regs_32bit);

	add_test("/lpae/geometry/start-levels", test_geometry_start_levels);

	add_test("/lpae/concat/maps-to-top-of-ias", test_concat_top_of_ias);
	add_test("/lpae/concat/batch-stops-at-subtable",
		 test_concat_batch_stops_at_subtable);
	add_test("/lpae/concat/small-pgd-batch-stays-inside",
		 test_concat_small_pgd_batch);

	add_test("/lpae/descriptors/worked-examples",
		 test_desc_worked_examples);
	add_test("/lpae/descriptors/prot-by-stage-and-level",
		 test_desc_prot_matrix);
	add_test("/lpae/descriptors/tables", test_desc_tables);
	add_test("/lpae/descriptors/52-bit-pa", test_desc_52bit_pa);
	add_test("/lpae/descriptors/ttbr1-sign-extended", test_desc_ttbr1);

	add_test("/lpae/map/identity-per-size", test_map_identity);
	add_test("/lpae/map/overlap-is-eexist", test_map_overlap_is_eexist);
	add_test("/lpae/map/eexist-warns-without-no-warn",
		 test_map_eexist_warns);
	add_test("/lpae/map/batch-stops-at-table-end",
		 test_map_batch_stops_at_table_end);
	add_test("/lpae/map/write-only-is-read-write",
		 test_map_write_only_is_rw);
	add_test("/lpae/map/block-replaces-tables", test_map_block_over_tables);
	add_test("/lpae/map/errors-leave-table-unchanged", test_map_errors);
	add_test("/lpae/map/size-above-start-level",
		 test_map_level_above_start);
	add_test("/lpae/map/enomem", test_map_enomem);
	add_test("/lpae/map/through-iommu-map", test_map_through_iommu_map);

	add_test("/lpae/unmap/exact-then-remap-write-only",
		 test_unmap_exact_and_remap);
	add_test("/lpae/unmap/partial-block-is-refused",
		 test_unmap_partial_block);
	add_test("/lpae/unmap/holes-stop-the-count", test_unmap_holes);
	add_test("/lpae/unmap/hole-after-pages-warns-once",
		 test_unmap_hole_warns_once);
	add_test("/lpae/free/stops-when-every-table-is-found",
		 test_free_finds_far_tables);
	add_test("/lpae/unmap/block-size-frees-table",
		 test_unmap_table_at_block_size);
	add_test("/lpae/unmap/errors-leave-table-unchanged",
		 test_unmap_errors);

	add_test("/lpae/tlb/add-page-per-leaf-unless-queued", test_tlb_gather);
	add_test("/lpae/tlb/null-ops-are-skipped", test_tlb_null_ops);

	add_test("/lpae/sync/coherent-never-syncs", test_sync_coherent_none);
	add_test("/lpae/sync/noncoherent-syncs-every-write",
		 test_sync_noncoherent_counts);

	add_test("/lpae/dirty/hd-reports-and-cleans", test_dirty_tracking);
	add_test("/lpae/dirty/only-64-bit-s1", test_dirty_other_formats);

	add_test("/lpae/walk/order-levels-and-stop", test_walk_order);
	add_test("/lpae/walk/prot-of-tables-and-dirty-leaves",
		 test_walk_prot_tables_and_dirty);
	add_test("/lpae/walk/abi-1.0-plugin-prot-unknown",
		 test_walk_abi_1_0_plugin);

	add_test("/lpae/mem/free-returns-everything",
		 test_mem_free_returns_everything);

	add_test("/lpae/reclaim/last-page-frees-its-table",
		 test_reclaim_last_page);
	add_test("/lpae/reclaim/emptied-parents-go-too",
		 test_reclaim_parents);
	add_test("/lpae/reclaim/off-keeps-empty-tables",
		 test_reclaim_off_keeps_tables);
	add_test("/lpae/reclaim/partial-unmap-keeps-table",
		 test_reclaim_partial_unmap);
	add_test("/lpae/reclaim/noncoherent-syncs-unhooked-entries",
		 test_reclaim_noncoherent);
	add_test("/lpae/reclaim/block-map-and-unmap-keep-counts",
		 test_reclaim_block_paths);
	add_test("/lpae/reclaim/enomem-takes-back-new-tables",
		 test_reclaim_enomem);
	add_test("/lpae/reclaim/every-format-and-granule",
		 test_reclaim_every_format);
	add_test("/lpae/reclaim/count-carries-past-its-low-bits",
		 test_reclaim_big_counts);
	add_test("/lpae/reclaim/churn-ends-with-the-pgd-alone",
		 test_reclaim_churn);

	return g_test_run();
}
