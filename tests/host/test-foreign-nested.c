// SPDX-License-Identifier: MIT
/*
 * Memory sources and nested walks (docs/inspect.md, issue 15): the
 * caller's read callback as a source (called with the exact pieces of a
 * read, refused on overlap), the host's own simulated memory as a source
 * (a live table read where it lies agrees with the live lookups), and a
 * stage-1 table walked through a stage-2 table as an SMMU walks a nested
 * context.
 *
 * The nested setup: a live arm-64-lpae-s1 table and a live arm-64-lpae-s2
 * table built by the host.  Stage 1's table descriptors hold the PAs P
 * where the host put its tables; in the nested view those are IPAs, and
 * stage 2 maps each such IPA P to P + ALIAS, a window that shows the
 * host's memory again ALIAS higher (a caller source).  So every stage-1
 * fetch really goes through stage 2 (an identity stage 2 would prove
 * nothing), and counting the window's reads counts stage-2 leaves used.
 * Stage 1's outputs are IPAs that stage 2 maps to arbitrary PAs.
 */
#include <errno.h>
#include <string.h>

#include "foreign-fixture.h"

#define SZ_2M_ULL	(2ULL << 20)
/* where the physical memory shows the host's memory a second time */
#define ALIAS		(1ULL << 36)
/* stage 1's output IPAs, and where stage 2 sends them */
#define OUT_IPA		0x40000000ULL
#define OUT_PA		0x300000000ULL
#define PAGES		48

/* Stage 1: 48-bit input, four levels; stage 2: 40-bit IPAs. */
static struct iopgt_pgtable *new_table(struct host_fixture *f,
				       const char *format)
{
	struct iopgt_cfg cfg = {
		.pgsize_bitmap = SZ_4K | SZ_2M, .oas = 40,
		.ias = strstr(format, "-s2") ? 40 : 48, .coherent_walk = true,
	};
	struct iopgt_pgtable *pgt = NULL;

	load_plugin(f, "io-pgtable-arm");
	g_assert_cmpint(iopgt_pgtable_new(f->host, format, &cfg, NULL, &pgt),
			==, 0);
	return pgt;
}

static void set_reg(void *data, const char *name, uint64_t value)
{
	g_assert_cmpint(iopgt_inspect_set_reg(data, name, value), ==, 0);
}

/* The live table's registers, as a driver would program them. */
static void set_regs_of(struct host_fixture *f, struct iopgt_inspect *insp,
			struct iopgt_pgtable *pgt)
{
	iopgt_pgtable_describe_regs(f->host, pgt, set_reg, insp);
	set_reg(insp, "quirks", pgt->cfg.quirks);
}

static int collect_table(void *data, uint64_t pa, const void *va, size_t size,
			 int level)
{
	struct iopgt_walk_entry e = { .level = level, .iova = pa,
				      .size = size };

	(void)va;
	g_array_append_val((GArray *)data, e);
	return 0;
}

static const struct iopgt_walk_ops table_ops = { .table = collect_table };

/* The iova of stage 1's page i: spread over two L2 and several L3 tables */
static uint64_t s1_iova(unsigned int i)
{
	return (i % 2 ? 0x8000000000ULL : 0) + (uint64_t)(i / 2) * 0x201000;
}

/*
 * PAGES pages (page i read-write, output IPA OUT_IPA + i pages) and one
 * 2M block at 2^46, read-only.
 */
static void s1_populate(struct host_fixture *f, struct iopgt_pgtable *s1)
{
	for (unsigned int i = 0; i < PAGES; i++)
		g_assert_cmpint(iopgt_pgtable_map(f->host, s1, s1_iova(i),
						  OUT_IPA + i * SZ_4K, SZ_4K,
						  IOMMU_READ | IOMMU_WRITE),
				==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, s1, 1ULL << 46,
					  OUT_IPA + SZ_2M_ULL * 4, SZ_2M,
					  IOMMU_READ), ==, 0);
}

/* ---- the caller's source ------------------------------------------------- */

struct call {
	uint64_t pa;
	size_t size;
};

struct recorder {
	GArray *calls;		/* struct call */
	uint8_t fill;
	int ret;
};

static int record_read(void *ctx, uint64_t pa, size_t size, void *buf)
{
	struct recorder *r = ctx;
	struct call c = { pa, size };

	g_array_append_val(r->calls, c);
	memset(buf, r->fill, size);
	return r->ret;
}

static void assert_call(const struct recorder *r, unsigned int i, uint64_t pa,
			size_t size)
{
	g_assert_cmpuint(r->calls->len, >, i);
	g_assert_cmphex(g_array_index(r->calls, struct call, i).pa, ==, pa);
	g_assert_cmpuint(g_array_index(r->calls, struct call, i).size, ==,
			 size);
}

static void test_add_source(struct host_fixture *f, gconstpointer data)
{
	struct recorder a = { g_array_new(FALSE, FALSE, sizeof(struct call)),
			      0xaa, 0 };
	struct recorder b = { g_array_new(FALSE, FALSE, sizeof(struct call)),
			      0xbb, 0 };
	struct recorder top = { g_array_new(FALSE, FALSE, sizeof(struct call)),
				0xcc, 0 };
	struct iopgt_inspect *insp = NULL;
	uint8_t buf[32];

	g_test_summary("Issue 15 item 2: a caller's read callback is a source: "
		       "a read spanning two sources calls each with exactly "
		       "its piece, a hole or the callback's error is the "
		       "read's, size 0 runs to 2^64, overlap is -EEXIST, "
		       "running past 2^64 -EINVAL, and an open inspector "
		       "takes no more (-EBUSY)");
	(void)data;
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_source(insp, 0x1000, 0x1000,
						 record_read, &a), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_source(insp, 0x2000, 0x1000,
						 record_read, &b), ==, 0);
	g_assert_cmpint(iopgt_inspect_read(insp, 0x1ff0, sizeof(buf), buf),
			==, 0);
	g_assert_cmpuint(a.calls->len, ==, 1);
	g_assert_cmpuint(b.calls->len, ==, 1);
	assert_call(&a, 0, 0x1ff0, 16);
	assert_call(&b, 0, 0x2000, 16);
	g_assert_cmphex(buf[15], ==, 0xaa);
	g_assert_cmphex(buf[16], ==, 0xbb);
	/* a read running off the end into a hole: the piece, then -EFAULT */
	g_assert_cmpint(iopgt_inspect_read(insp, 0x2ff8, 16, buf), ==, -EFAULT);
	assert_call(&b, 1, 0x2ff8, 8);
	/* the callback's error is the read's */
	b.ret = -EIO;
	g_assert_cmpint(iopgt_inspect_read(insp, 0x2100, 8, buf), ==, -EIO);
	assert_call(&b, 2, 0x2100, 8);
	/* overlapping either end of a source */
	g_assert_cmpint(iopgt_inspect_add_source(insp, 0x2fff, 2, record_read,
						 &top), ==, -EEXIST);
	g_assert_cmpint(iopgt_inspect_add_source(insp, 0, 0x1001, record_read,
						 &top), ==, -EEXIST);
	assert_logged(f, "err: caller's source: PA 0x0-0x1000 overlaps memory "
		      "already added");
	g_assert_cmpint(iopgt_inspect_add_source(insp, ~0ULL - 1, 3,
						 record_read, &top), ==,
			-EINVAL);
	/* size 0: to the top of the address space, last byte included */
	g_assert_cmpint(iopgt_inspect_add_source(insp, ~0ULL - 0xfff, 0,
						 record_read, &top), ==, 0);
	g_assert_cmpint(iopgt_inspect_read(insp, ~0ULL - 7, 8, buf), ==, 0);
	assert_call(&top, 0, ~0ULL - 7, 8);
	g_assert_cmpint(iopgt_inspect_read(insp, ~0ULL - 7, 9, buf), ==,
			-EFAULT);
	g_assert_cmpint(iopgt_inspect_add_source(insp, ~0ULL, 0, record_read,
						 &top), ==, -EEXIST);
	/* the table at 0x1000 is all 0xaa: no use to a format, but it opens */
	load_plugin(f, "io-pgtable-arm");
	set_reg(insp, "ttbr", 0x1000);
	set_reg(insp, "tcr.tg", 0);
	set_reg(insp, "tcr.tsz", 64 - 39);
	set_reg(insp, "tcr.ips", 2);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-64-lpae-s1"), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_source(insp, 0x10000, 0x1000,
						 record_read, &top), ==,
			-EBUSY);
	iopgt_inspect_free(insp);
	g_array_unref(a.calls);
	g_array_unref(b.calls);
	g_array_unref(top.calls);
}

/* ---- the host's memory --------------------------------------------------- */

static struct iopgt_inspect *inspect_live(struct host_fixture *f,
					  struct iopgt_pgtable *pgt,
					  const char *format)
{
	struct iopgt_inspect *insp = NULL;

	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(insp), ==, 0);
	set_regs_of(f, insp, pgt);
	g_assert_cmpint(iopgt_inspect_open(insp, format), ==, 0);
	return insp;
}

static void test_host_memory(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *pgt = new_table(f, "arm-64-lpae-s1");
	g_autoptr(GArray) live = NULL, tables = NULL, foreign = NULL;
	struct iopgt_inspect *insp;
	unsigned int pages = 0;
	uint64_t ttbr, desc;

	g_test_summary("Issue 15 item 2: the host's own memory as a source: a "
		       "live LPAE table read where it lies, without saving "
		       "it, translates every mapped page as the live "
		       "iova_to_phys does, lists the live walk's entries, "
		       "passes check, and follows the table as it changes; a "
		       "second add is -EEXIST, PA 0 is outside it (-EFAULT)");
	(void)data;
	s1_populate(f, pgt);
	insp = inspect_live(f, pgt, "arm-64-lpae-s1");
	live = walk_live(f, pgt, &collect_ops);
	foreign = g_array_new(FALSE, FALSE, sizeof(struct iopgt_walk_entry));
	g_assert_cmpint(iopgt_inspect_walk(insp, &collect_ops, foreign), ==, 0);
	assert_entries_equal(live, foreign);
	for (unsigned int i = 0; i < live->len; i++) {
		const struct iopgt_walk_entry *e =
			&g_array_index(live, struct iopgt_walk_entry, i);

		if (e->kind != IOPGT_ENTRY_LEAF)
			continue;
		for (uint64_t off = 0; off < e->size; off += SZ_4K * 16) {
			struct iopgt_xlate x;
			uint64_t iova = e->iova + off + 0x18;

			g_assert_cmpint(iopgt_inspect_translate(insp, iova,
							IOPGT_ACCESS_READ,
							&x), ==, 0);
			g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
			g_assert_cmphex(x.oa, ==, iopgt_pgtable_iova_to_phys(
						  f->host, pgt, iova));
			g_assert_cmphex(x.desc, ==, e->raw);
			pages++;
		}
	}
	g_assert_cmpuint(pages, ==, PAGES + 32);
	g_assert_cmpint(iopgt_inspect_check(insp, NULL, NULL), ==, 0);
	/* the root's first entry, read as bytes, is the live one */
	g_assert_cmpint(iopgt_inspect_get_reg(insp, "ttbr", &ttbr), ==, 0);
	tables = walk_live(f, pgt, &table_ops);
	g_assert_cmphex(g_array_index(tables, struct iopgt_walk_entry, 0).iova,
			==, ttbr);
	g_assert_cmpint(iopgt_inspect_read(insp, ttbr, 8, &desc), ==, 0);
	g_assert_cmphex(desc, ==,
			g_array_index(live, struct iopgt_walk_entry, 0).raw);
	/* live: an unmap shows at once */
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, pgt, s1_iova(3), SZ_4K,
					     NULL), ==, SZ_4K);
	{
		struct iopgt_xlate x;

		g_assert_cmpint(iopgt_inspect_translate(insp, s1_iova(3),
							IOPGT_ACCESS_READ,
							&x), ==, 0);
		g_assert_cmpint(x.fault, ==, IOPGT_FAULT_TRANSLATION);
		g_assert_cmpint(x.level, ==, 3);
	}
	g_assert_cmpint(iopgt_inspect_read(insp, 0, 8, &desc), ==, -EFAULT);
	iopgt_inspect_free(insp);

	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(insp), ==, -EEXIST);
	iopgt_inspect_free(insp);
	iopgt_pgtable_free(f->host, pgt);
}

/* ---- nested -------------------------------------------------------------- */

struct nested {
	struct iopgt_pgtable *s1, *s2;
	struct iopgt_inspect *host_mem;	/* behind the alias window */
	struct iopgt_inspect *insp;	/* stage 1, owning stage 2 */
	GArray *s1_tables;		/* level, iova = PA (= IPA) */
	unsigned int alias_reads;
};

static int alias_read(void *ctx, uint64_t pa, size_t size, void *buf)
{
	struct nested *n = ctx;

	n->alias_reads++;
	return iopgt_inspect_read(n->host_mem, pa - ALIAS, size, buf);
}

/* Stage 2 maps each stage-1 table's IPA to the window, outputs beyond. */
static void s2_populate(struct host_fixture *f, struct nested *n)
{
	for (unsigned int i = 0; i < n->s1_tables->len; i++) {
		const struct iopgt_walk_entry *t =
			&g_array_index(n->s1_tables, struct iopgt_walk_entry,
				       i);

		g_assert_cmpuint(t->size, ==, SZ_4K);
		g_assert_cmpint(iopgt_pgtable_map(f->host, n->s2, t->iova,
						  t->iova + ALIAS, SZ_4K,
						  IOMMU_READ | IOMMU_WRITE),
				==, 0);
	}
	/* page i's output at a PA that is no simple shift of its IPA; the
	 * last page read-only */
	for (unsigned int i = 0; i < PAGES; i++)
		g_assert_cmpint(iopgt_pgtable_map(f->host, n->s2,
						  OUT_IPA + i * SZ_4K,
						  OUT_PA + (PAGES - i) * SZ_4K,
						  SZ_4K,
						  i == PAGES - 1 ? IOMMU_READ :
						  IOMMU_READ | IOMMU_WRITE),
				==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, n->s2,
					  OUT_IPA + SZ_2M_ULL * 4,
					  OUT_PA + SZ_2M_ULL * 8, SZ_2M,
					  IOMMU_READ), ==, 0);
}

static void nested_build(struct host_fixture *f, struct nested *n)
{
	struct iopgt_inspect *s2 = NULL;

	memset(n, 0, sizeof(*n));
	n->s1 = new_table(f, "arm-64-lpae-s1");
	n->s2 = new_table(f, "arm-64-lpae-s2");
	s1_populate(f, n->s1);
	n->s1_tables = walk_live(f, n->s1, &table_ops);
	s2_populate(f, n);

	g_assert_cmpint(iopgt_inspect_new(f->host, &n->host_mem), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(n->host_mem), ==, 0);
	/* the physical memory: the host's (stage 2's own tables) and the
	 * window (where stage 2 says stage 1's tables are) */
	g_assert_cmpint(iopgt_inspect_new(f->host, &s2), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(s2), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_source(s2, ALIAS, 1ULL << 35,
						 alias_read, n), ==, 0);
	set_regs_of(f, s2, n->s2);
	g_assert_cmpint(iopgt_inspect_open(s2, "arm-64-lpae-s2"), ==, 0);

	g_assert_cmpint(iopgt_inspect_new(f->host, &n->insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_stage2(n->insp, s2), ==, 0);
	set_regs_of(f, n->insp, n->s1);
	g_assert_cmpint(iopgt_inspect_open(n->insp, "arm-64-lpae-s1"), ==, 0);
}

static void nested_free(struct host_fixture *f, struct nested *n)
{
	iopgt_inspect_free(n->insp);
	iopgt_inspect_free(n->host_mem);
	g_array_unref(n->s1_tables);
	iopgt_pgtable_free(f->host, n->s1);
	iopgt_pgtable_free(f->host, n->s2);
}

/* What the hardware would give: S2(S1(iova)), by the live tables. */
static uint64_t live_nested(struct host_fixture *f, const struct nested *n,
			    uint64_t iova)
{
	return iopgt_pgtable_iova_to_phys(f->host, n->s2,
		iopgt_pgtable_iova_to_phys(f->host, n->s1, iova));
}

static void test_nested_agrees(struct host_fixture *f, gconstpointer data)
{
	g_autoptr(GArray) live = NULL;
	struct nested n;
	unsigned int pages = 0;

	g_test_summary("Issue 15 item 3: a stage-1 table whose tables are "
		       "reached through stage 2: every stage-1 mapped page "
		       "translates to S2(S1(iova)) exactly, each translate "
		       "fetching one stage-2 leaf per stage-1 level; "
		       "translate, walk and check on stage 1 give stage 1's "
		       "view in IPAs, reading each table through one leaf");
	(void)data;
	nested_build(f, &n);
	live = walk_live(f, n.s1, &collect_ops);
	for (unsigned int i = 0; i < live->len; i++) {
		const struct iopgt_walk_entry *e =
			&g_array_index(live, struct iopgt_walk_entry, i);

		if (e->kind != IOPGT_ENTRY_LEAF)
			continue;
		for (uint64_t off = 0; off < e->size; off += SZ_4K * 16) {
			uint64_t iova = e->iova + off + 0x28;
			struct iopgt_nested_xlate x;
			struct iopgt_xlate s1;
			unsigned int before = n.alias_reads;

			g_assert_cmpint(iopgt_inspect_translate_nested(
						n.insp, iova, IOPGT_ACCESS_READ,
						&x), ==, 0);
			/* four levels: four descriptors, one leaf each */
			g_assert_cmpuint(n.alias_reads - before, ==,
					 e->level + 1);
			g_assert_cmpint(x.stage, ==, 0);
			g_assert_false(x.s1_walk);
			g_assert_cmphex(x.pa, ==, live_nested(f, &n, iova));
			g_assert_cmphex(x.ipa, ==, iopgt_pgtable_iova_to_phys(
						   f->host, n.s1, iova));
			g_assert_cmphex(x.s1.oa, ==, x.ipa);
			g_assert_cmphex(x.s1.desc, ==, e->raw);
			g_assert_cmpint(x.s2.fault, ==, IOPGT_FAULT_NONE);
			g_assert_cmphex(x.s2.oa, ==, x.pa);
			/* the plain translate: stage 1's own view */
			g_assert_cmpint(iopgt_inspect_translate(n.insp, iova,
						IOPGT_ACCESS_READ, &s1), ==, 0);
			g_assert_cmphex(s1.oa, ==, x.ipa);
			pages++;
		}
	}
	g_assert_cmpuint(pages, ==, PAGES + 32);
	/* walk and check: stage 1's entries in IPAs, each table one leaf */
	{
		g_autoptr(GArray) foreign = g_array_new(FALSE, FALSE,
					sizeof(struct iopgt_walk_entry));
		unsigned int before = n.alias_reads;

		g_assert_cmpint(iopgt_inspect_walk(n.insp, &collect_ops, foreign),
				==, 0);
		assert_entries_equal(live, foreign);
		g_assert_cmpuint(n.alias_reads - before, ==,
				 n.s1_tables->len);
		g_assert_cmpint(iopgt_inspect_check(n.insp, NULL, NULL), ==, 0);
		g_assert_cmpuint(n.alias_reads - before, ==,
				 2 * n.s1_tables->len);
	}
	/* a read of stage 1's memory is a read of IPAs: the root's first
	 * entry, fetched through one stage-2 leaf */
	{
		uint64_t root = g_array_index(n.s1_tables,
					      struct iopgt_walk_entry, 0).iova;
		unsigned int before = n.alias_reads;
		uint64_t desc = 0;

		g_assert_cmpint(iopgt_inspect_read(n.insp, root, 8, &desc), ==,
				0);
		g_assert_cmphex(desc, ==, g_array_index(live,
					struct iopgt_walk_entry, 0).raw);
		g_assert_cmpuint(n.alias_reads - before, ==, 1);
	}
	g_test_message("%u stage-1 tables, %u pages agree", n.s1_tables->len,
		       pages);
	nested_free(f, &n);
}

/* The first stage-1 table of this level (its IPA). */
static uint64_t s1_table_at(const struct nested *n, int level)
{
	for (unsigned int i = 0; i < n->s1_tables->len; i++) {
		const struct iopgt_walk_entry *t =
			&g_array_index(n->s1_tables, struct iopgt_walk_entry,
				       i);

		if (t->level == level)
			return t->iova;
	}
	g_assert_not_reached();
}

static void on_problem(void *data, const struct iopgt_problem_report *r)
{
	g_array_append_val((GArray *)data, *r);
}

static void test_nested_s2_fault_on_s1_table(struct host_fixture *f,
					     gconstpointer data)
{
	g_autoptr(GArray) problems = g_array_new(FALSE, FALSE,
				sizeof(struct iopgt_problem_report));
	struct iopgt_nested_xlate x;
	const struct iopgt_problem_report *r;
	uint64_t l2;
	struct nested n;

	g_test_summary("Issue 15 item 3: stage 2 unmapping the page that holds "
		       "a stage-1 L2 table: a nested translate through it is "
		       "a stage-2 translation fault at stage-2 level 3 while "
		       "fetching the stage-1 level-2 descriptor at its IPA; "
		       "check names that table's IPA as a read problem; "
		       "pages under the other L2 table still translate");
	(void)data;
	nested_build(f, &n);
	/* the first L2 table is page 0's (iova 0) */
	l2 = s1_table_at(&n, 2);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, n.s2, l2, SZ_4K, NULL),
			 ==, SZ_4K);
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp, s1_iova(0),
						       IOPGT_ACCESS_READ, &x),
			==, 0);
	g_assert_cmpint(x.stage, ==, 2);
	g_assert_true(x.s1_walk);
	g_assert_cmpint(x.s1_level, ==, 2);
	g_assert_cmpint(x.s1.fault, ==, IOPGT_FAULT_WALK_ABORT);
	g_assert_cmpint(x.s1.level, ==, 2);
	g_assert_cmphex(x.s1.desc_pa, ==, l2);	/* index 0 of the table */
	g_assert_cmphex(x.ipa, ==, l2);
	g_assert_cmpint(x.s2.fault, ==, IOPGT_FAULT_TRANSLATION);
	g_assert_cmpint(x.s2.level, ==, 3);
	g_assert_cmphex(x.s2.desc, ==, 0);
	g_assert_cmphex(x.pa, ==, 0);
	/* an odd page lives under the other L2 table */
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp, s1_iova(5),
						       IOPGT_ACCESS_READ, &x),
			==, 0);
	g_assert_cmpint(x.stage, ==, 0);
	g_assert_cmphex(x.pa, ==, live_nested(f, &n, s1_iova(5)));
	/* check: that table, by its IPA, and nothing else */
	g_assert_cmpint(iopgt_inspect_check(n.insp, on_problem, problems), ==,
			1);
	r = &g_array_index(problems, struct iopgt_problem_report, 0);
	g_assert_cmpint(r->kind, ==, IOPGT_PROBLEM_READ);
	g_assert_cmpint(r->level, ==, 2);
	g_assert_cmphex(r->addr, ==, l2);
	g_assert_cmphex(r->table_pa, ==, l2);

	/* stage 2 sends that IPA to a PA no source holds: an external abort
	 * on stage 1's walk, stage 1's fault, with the PA in s2.oa */
	g_assert_cmpint(iopgt_pgtable_map(f->host, n.s2, l2, 1ULL << 39,
					  SZ_4K, IOMMU_READ), ==, 0);
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp, s1_iova(0) + 8,
						       IOPGT_ACCESS_READ, &x),
			==, 0);
	g_assert_cmpint(x.stage, ==, 1);
	g_assert_false(x.s1_walk);
	g_assert_cmpint(x.s1.fault, ==, IOPGT_FAULT_WALK_ABORT);
	g_assert_cmpint(x.s1.level, ==, 2);
	g_assert_cmphex(x.ipa, ==, l2);
	g_assert_cmpint(x.s2.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.s2.oa, ==, 1ULL << 39);
	nested_free(f, &n);
}

static void test_nested_faults(struct host_fixture *f, gconstpointer data)
{
	const unsigned int last = PAGES - 1;
	struct iopgt_nested_xlate x;
	struct nested n;

	g_test_summary("Issue 15 item 3: a write to a page stage 2 maps "
		       "read-only is stage 2's permission fault on the output "
		       "IPA (not a stage-1 walk); a page stage 1 does not map "
		       "or maps read-only is stage 1's fault with its level, "
		       "before any stage-2 look at the output");
	(void)data;
	nested_build(f, &n);
	/* the last page: stage 1 read-write, stage 2 read-only */
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp,
						s1_iova(last) + 0x10,
						IOPGT_ACCESS_WRITE, &x), ==, 0);
	g_assert_cmpint(x.stage, ==, 2);
	g_assert_false(x.s1_walk);
	g_assert_cmpint(x.s1.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.ipa, ==, OUT_IPA + last * SZ_4K + 0x10);
	g_assert_cmpint(x.s2.fault, ==, IOPGT_FAULT_PERMISSION);
	g_assert_cmpint(x.s2.level, ==, 3);
	g_assert_cmphex(x.pa, ==, 0);
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp,
						s1_iova(last) + 0x10,
						IOPGT_ACCESS_READ, &x), ==, 0);
	g_assert_cmpint(x.stage, ==, 0);
	g_assert_cmphex(x.pa, ==, OUT_PA + SZ_4K + 0x10);
	/* a page stage 1 does not map: level 3's empty entry */
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp, 0x1000,
						IOPGT_ACCESS_READ, &x), ==, 0);
	g_assert_cmpint(x.stage, ==, 1);
	g_assert_false(x.s1_walk);
	g_assert_cmpint(x.s1.fault, ==, IOPGT_FAULT_TRANSLATION);
	g_assert_cmpint(x.s1.level, ==, 3);
	g_assert_cmphex(x.ipa, ==, x.s1.desc_pa);
	/* stage 1's read-only block written */
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp, 1ULL << 46,
						IOPGT_ACCESS_WRITE, &x), ==, 0);
	g_assert_cmpint(x.stage, ==, 1);
	g_assert_cmpint(x.s1.fault, ==, IOPGT_FAULT_PERMISSION);
	g_assert_cmpint(x.s1.level, ==, 2);
	/* the same block read: 2M at stage 1 and stage 2 */
	g_assert_cmpint(iopgt_inspect_translate_nested(n.insp,
						(1ULL << 46) + 0x12345,
						IOPGT_ACCESS_READ, &x), ==, 0);
	g_assert_cmpint(x.stage, ==, 0);
	g_assert_cmphex(x.pa, ==, OUT_PA + SZ_2M_ULL * 8 + 0x12345);
	g_assert_cmpuint(x.s2.size, ==, SZ_2M);
	nested_free(f, &n);
}

static void test_nested_refusals(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_inspect *s1 = NULL, *s2 = NULL, *other = NULL;
	struct iopgt_nested_xlate x;
	struct iopgt_pgtable *pgt;

	g_test_summary("Issue 15 item 3: set_stage2 refuses a stage 2 not open "
		       "(-EINVAL), a stage 1 with sources (-EEXIST) or already "
		       "open (-EBUSY), leaving stage 2 the caller's; once "
		       "nested, stage 1 takes no source (-EEXIST) and no "
		       "second stage 2; translate_nested wants a nested, open "
		       "stage 1 (-EINVAL)");
	(void)data;
	pgt = new_table(f, "arm-64-lpae-s2");
	g_assert_cmpint(iopgt_inspect_new(f->host, &s2), ==, 0);
	g_assert_cmpint(iopgt_inspect_new(f->host, &s1), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_stage2(s1, s2), ==, -EINVAL);
	assert_logged(f, "err: inspect: a stage 2 must be open and not nested "
		      "itself");
	g_assert_cmpint(iopgt_inspect_add_host_memory(s2), ==, 0);
	set_regs_of(f, s2, pgt);
	g_assert_cmpint(iopgt_inspect_open(s2, "arm-64-lpae-s2"), ==, 0);
	/* stage 1 with memory of its own */
	g_assert_cmpint(iopgt_inspect_add_host_memory(s1), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_stage2(s1, s2), ==, -EEXIST);
	iopgt_inspect_free(s1);
	/* stage 1 open */
	g_assert_cmpint(iopgt_inspect_new(f->host, &s1), ==, 0);
	set_regs_of(f, s1, pgt);
	g_assert_cmpint(iopgt_inspect_open(s1, "arm-64-lpae-s2"), ==, 0);
	g_assert_cmpint(iopgt_inspect_translate_nested(s1, 0,
						       IOPGT_ACCESS_READ, &x),
			==, -EINVAL);
	g_assert_cmpint(iopgt_inspect_set_stage2(s1, s2), ==, -EBUSY);
	iopgt_inspect_free(s1);
	/* nested: no more memory, no second stage 2, not open yet */
	g_assert_cmpint(iopgt_inspect_new(f->host, &s1), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_stage2(s1, s2), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(s1), ==, -EEXIST);
	g_assert_cmpint(iopgt_inspect_new(f->host, &other), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(other), ==, 0);
	set_regs_of(f, other, pgt);
	g_assert_cmpint(iopgt_inspect_open(other, "arm-64-lpae-s2"), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_stage2(s1, other), ==, -EEXIST);
	g_assert_cmpint(iopgt_inspect_translate_nested(s1, 0,
						       IOPGT_ACCESS_READ, &x),
			==, -EINVAL);
	/* a nested inspector cannot be another's stage 2 */
	{
		struct iopgt_inspect *top = NULL;

		set_regs_of(f, s1, pgt);
		g_assert_cmpint(iopgt_inspect_open(s1, "arm-64-lpae-s2"), ==,
				0);
		g_assert_cmpint(iopgt_inspect_new(f->host, &top), ==, 0);
		g_assert_cmpint(iopgt_inspect_set_stage2(top, s1), ==,
				-EINVAL);
		iopgt_inspect_free(top);
	}
	iopgt_inspect_free(other);
	iopgt_inspect_free(s1);		/* and s2 with it */
	iopgt_pgtable_free(f->host, pgt);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	host_test_add("/host/foreign-nested/caller-source-gets-exact-pieces",
		      test_add_source);
	host_test_add("/host/foreign-nested/host-memory-agrees-with-live",
		      test_host_memory);
	host_test_add("/host/foreign-nested/agrees-with-both-live-tables",
		      test_nested_agrees);
	host_test_add("/host/foreign-nested/s2-fault-fetching-s1-table",
		      test_nested_s2_fault_on_s1_table);
	host_test_add("/host/foreign-nested/fault-of-each-stage",
		      test_nested_faults);
	host_test_add("/host/foreign-nested/set-stage2-refusals",
		      test_nested_refusals);
	return g_test_run();
}
