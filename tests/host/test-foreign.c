// SPDX-License-Identifier: MIT
/*
 * Foreign tables (docs/inspect.md, issue 15): the LPAE formats' foreign
 * walk over memory they did not allocate.  First the project's own
 * differential: a live table of every LPAE format, granule and quirk after
 * a random workload, saved, then read back from the file by the foreign
 * walk must agree with the live iova_to_phys on every mapped page and on
 * unmapped probes, list the very entries the live walk lists, and pass
 * check.  Then tables built by hand in raw memory files, one fault kind
 * per entry with its exact level and descriptor, and hostile memory: a
 * table pointing at itself, two entries pointing at one table, a pointer
 * past the end of memory, truncated cores and a PT_LOAD claiming 2^60
 * bytes, each ending in a report, never a crash.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "host-fixture.h"

/* ---- the live side ------------------------------------------------------- */

struct variant {
	const char *format;
	unsigned long pgsizes;		/* the granule and its block */
	unsigned int ias;
	unsigned int oas;
	unsigned long quirks;
};

#define G4K	(SZ_4K | SZ_2M)
#define G16K	(SZ_16K | SZ_32M)
#define G64K	(SZ_64K | SZ_512M)
#define NS	IO_PGTABLE_QUIRK_ARM_NS
#define TTBR1	IO_PGTABLE_QUIRK_ARM_TTBR1
#define HD	IO_PGTABLE_QUIRK_ARM_HD
#define FWB	IO_PGTABLE_QUIRK_ARM_S2FWB
#define RECLAIM	IOPGT_QUIRK_RECLAIM_TABLES

static const struct variant variants[] = {
	{ "arm-64-lpae-s1", G4K, 48, 48, 0 },
	{ "arm-64-lpae-s1", G4K, 39, 40, NS | HD },
	{ "arm-64-lpae-s1", G4K, 48, 48, TTBR1 | RECLAIM },
	{ "arm-64-lpae-s1", G16K, 48, 48, 0 },
	{ "arm-64-lpae-s1", G16K, 36, 44, RECLAIM },
	{ "arm-64-lpae-s1", G64K, 48, 48, 0 },
	{ "arm-64-lpae-s1", G64K, 42, 52, NS },
	{ "arm-64-lpae-s2", G4K, 48, 48, 0 },
	{ "arm-64-lpae-s2", G4K, 40, 40, FWB | RECLAIM },
	{ "arm-64-lpae-s2", G16K, 48, 48, 0 },
	{ "arm-64-lpae-s2", G64K, 48, 48, RECLAIM },
	{ "arm-32-lpae-s1", G4K, 32, 40, 0 },
	{ "arm-32-lpae-s1", G4K, 32, 40, NS | RECLAIM },
	{ "arm-32-lpae-s2", G4K, 40, 40, 0 },
	{ "arm-32-lpae-s2", G4K, 40, 40, FWB | RECLAIM },
	{ "arm-mali-lpae", G4K, 48, 40, 0 },
	{ "arm-mali-lpae", G4K, 36, 40, RECLAIM },
};

static void load_plugins(struct host_fixture *f)
{
	if (!iopgt_host_find_plugin(f->host, "io-pgtable-arm")) {
		g_assert_cmpint(iopgt_host_add_plugin_dir(f->host,
							  test_plugin_dir()),
				==, 0);
		g_assert_cmpint(iopgt_host_scan(f->host), >=, 1);
	}
}

static struct iopgt_pgtable *new_table(struct host_fixture *f,
				       const struct variant *v)
{
	struct iopgt_cfg cfg = {
		.quirks = v->quirks, .pgsize_bitmap = v->pgsizes,
		.ias = v->ias, .oas = v->oas, .coherent_walk = true,
	};
	struct iopgt_pgtable *pgt = NULL;

	load_plugins(f);
	g_assert_cmpint(iopgt_pgtable_new(f->host, v->format, &cfg, NULL, &pgt),
			==, 0);
	return pgt;
}

/* The first iova of the table's range: a TTBR1 table has the top. */
static uint64_t iova_base(const struct iopgt_pgtable *pgt)
{
	return pgt->cfg.quirks & TTBR1 ? ~0ULL << pgt->cfg.ias : 0;
}

static uint64_t rand64(GRand *rand)
{
	return (uint64_t)g_rand_int(rand) << 32 | g_rand_int(rand);
}

/*
 * 64 maps of the granule and of its block size with assorted prot, all
 * readable, never at PA 0 (iova_to_phys' "none"); then a third unmapped,
 * so that with reclaim some tables go again.
 */
static void random_workload(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			    guint32 seed)
{
	static const int prots[] = {
		IOMMU_READ, IOMMU_READ | IOMMU_WRITE,
		IOMMU_READ | IOMMU_NOEXEC, IOMMU_READ | IOMMU_CACHE,
		IOMMU_READ | IOMMU_WRITE | IOMMU_PRIV,
		IOMMU_READ | IOMMU_MMIO,
	};
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	unsigned long granule = 1UL << __builtin_ctzl(pgt->cfg.pgsize_bitmap);
	unsigned long block = pgt->cfg.pgsize_bitmap & ~granule;
	unsigned int ibits = MIN(pgt->cfg.ias, 36U);
	unsigned int obits = MIN(pgt->cfg.oas, 36U);
	uint64_t iovas[64];
	size_t sizes[64];

	block = block ? 1UL << __builtin_ctzl(block) : granule;
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i++) {
		size_t size = i % 8 == 7 && block < (1UL << ibits) ? block :
								     granule;
		uint64_t iova = rand64(rand) & ((1ULL << ibits) - 1);
		uint64_t pa = rand64(rand) & ((1ULL << obits) - 1);

		iova = (iova & ~(uint64_t)(size - 1)) | iova_base(pgt);
		pa &= ~(uint64_t)(size - 1);
		if (!pa)
			pa = size;
		sizes[i] = size;
		iovas[i] = iopgt_pgtable_map(host, pgt, iova, pa, size,
					     prots[i % G_N_ELEMENTS(prots)]) ?
			   UINT64_MAX : iova;
	}
	/* the live table is the reference whatever each unmap did */
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i += 3)
		if (iovas[i] != UINT64_MAX)
			iopgt_pgtable_unmap(host, pgt, iovas[i], sizes[i],
					    NULL);
}

static int collect_entry(void *data, const struct iopgt_walk_entry *e)
{
	g_array_append_val((GArray *)data, *e);
	return 0;
}

static const struct iopgt_walk_ops collect_ops = { .entry = collect_entry };

static char *save_to_file(struct host_fixture *f, struct iopgt_pgtable *pgt,
			  const char *name)
{
	char *path = g_build_filename(f->tmpdir, name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, fd), ==, 0);
	g_assert_cmpint(close(fd), ==, 0);
	return path;
}

static struct iopgt_inspect *inspect_core(struct host_fixture *f,
					  const char *path)
{
	struct iopgt_inspect *insp = NULL;

	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_core(insp, path), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, NULL), ==, 0);
	return insp;
}

static void assert_entries_equal(GArray *live, GArray *foreign)
{
	g_assert_cmpuint(foreign->len, ==, live->len);
	for (unsigned int i = 0; i < live->len; i++) {
		const struct iopgt_walk_entry *a =
			&g_array_index(live, struct iopgt_walk_entry, i);
		const struct iopgt_walk_entry *b =
			&g_array_index(foreign, struct iopgt_walk_entry, i);

		g_assert_cmpint(b->level, ==, a->level);
		g_assert_cmpuint(b->index, ==, a->index);
		g_assert_cmphex(b->iova, ==, a->iova);
		g_assert_cmpuint(b->size, ==, a->size);
		g_assert_cmphex(b->raw, ==, a->raw);
		g_assert_cmphex(b->oa, ==, a->oa);
		g_assert_cmpint(b->kind, ==, a->kind);
		g_assert_cmphex(b->prot, ==, a->prot);
	}
}

/* A page of a leaf: same PA as the live lookup, the leaf's extent. */
static void assert_page_agrees(struct host_fixture *f,
			       struct iopgt_pgtable *pgt,
			       struct iopgt_inspect *insp,
			       const struct iopgt_walk_entry *e, uint64_t iova)
{
	struct iopgt_xlate x;

	g_assert_cmpint(iopgt_inspect_translate(insp, iova,
						IOPGT_ACCESS_READ |
						IOPGT_ACCESS_PRIV, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, iopgt_pgtable_iova_to_phys(f->host, pgt,
							      iova));
	g_assert_cmphex(x.base, ==, e->iova);
	g_assert_cmpuint(x.size, ==, e->size);
	g_assert_cmpint(x.level, ==, e->level);
	g_assert_cmphex(x.desc, ==, e->raw);
	g_assert_cmphex(x.prot, ==, e->prot);
}

/* Every granule page of every leaf (at most 64 per block), 200 probes. */
static unsigned int assert_translations_agree(struct host_fixture *f,
					      struct iopgt_pgtable *pgt,
					      struct iopgt_inspect *insp,
					      GArray *live, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	unsigned long granule = 1UL << __builtin_ctzl(pgt->cfg.pgsize_bitmap);
	unsigned int pages = 0;

	for (unsigned int i = 0; i < live->len; i++) {
		const struct iopgt_walk_entry *e =
			&g_array_index(live, struct iopgt_walk_entry, i);
		size_t step = MAX(granule, e->size / 64);

		if (e->kind != IOPGT_ENTRY_LEAF)
			continue;
		for (size_t off = 0; off < e->size; off += step, pages++)
			assert_page_agrees(f, pgt, insp, e,
					   e->iova + off + (granule - 8));
	}
	for (unsigned int i = 0; i < 200; i++) {
		uint64_t iova = (rand64(rand) &
				 ((1ULL << MIN(pgt->cfg.ias, 36U)) - 1)) |
				iova_base(pgt);
		struct iopgt_xlate x;

		g_assert_cmpint(iopgt_inspect_translate(insp, iova,
							IOPGT_ACCESS_READ |
							IOPGT_ACCESS_PRIV, &x),
				==, 0);
		if (iopgt_pgtable_iova_to_phys(f->host, pgt, iova)) {
			g_assert_cmphex(x.oa, ==, iopgt_pgtable_iova_to_phys(
						  f->host, pgt, iova));
		} else {
			g_assert_cmpint(x.fault, ==, IOPGT_FAULT_TRANSLATION);
			g_assert_cmphex(x.desc, ==, 0);
		}
	}
	return pages;
}

static void test_agrees_with_live(struct host_fixture *f, gconstpointer data)
{
	g_test_summary("Issue 15 item 5: for the five LPAE formats, 4K/16K/64K "
		       "and their quirks, the foreign walk of a saved image "
		       "translates every mapped page to the live iova_to_phys "
		       "and unmapped probes to translation faults, lists the "
		       "live walk's entries exactly, and check finds nothing");
	(void)data;
	for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
		const struct variant *v = &variants[i];
		struct iopgt_pgtable *pgt = new_table(f, v);
		g_autoptr(GArray) live = g_array_new(FALSE, FALSE,
					sizeof(struct iopgt_walk_entry));
		g_autoptr(GArray) foreign = g_array_new(FALSE, FALSE,
					sizeof(struct iopgt_walk_entry));
		g_autofree char *path = NULL;
		struct iopgt_inspect *insp;
		unsigned int pages;

		random_workload(f->host, pgt, 1500 + (guint32)i);
		path = save_to_file(f, pgt, "t.core");
		insp = inspect_core(f, path);
		g_assert_cmpstr(iopgt_inspect_get_format(insp), ==, v->format);
		g_assert_cmpint(iopgt_pgtable_walk(f->host, pgt, &collect_ops,
						   live), ==, 0);
		g_assert_cmpint(iopgt_inspect_walk(insp, &collect_ops,
						   foreign), ==, 0);
		assert_entries_equal(live, foreign);
		pages = assert_translations_agree(f, pgt, insp, live,
						  1600 + (guint32)i);
		g_test_message("%s pgsizes 0x%lx ias %u quirks 0x%lx: %u "
			       "entries, %u pages agree", v->format, v->pgsizes,
			       v->ias, v->quirks, live->len, pages);
		g_assert_cmpuint(pages, >, 20);
		g_assert_cmpint(iopgt_inspect_check(insp, NULL, NULL), ==, 0);
		iopgt_inspect_free(insp);
		iopgt_pgtable_free(f->host, pgt);
	}
}

/* ---- tables built by hand ---------------------------------------------- */

/*
 * A 4K stage-1 table of three levels (ias 39, oas 40) in a raw file at
 * PA 0x10000: L1 at 0x10000, L2 at 0x11000, L3 at 0x12000.
 */
#define ROOT		0x10000ULL
#define L2		0x11000ULL
#define L3		0x12000ULL
#define PAGE		(3ULL)			/* page / table type */
#define BLOCK		(1ULL)
#define AF		(1ULL << 10)
#define UNPRIV		(1ULL << 6)
#define RDONLY		(1ULL << 7)
#define XN		(3ULL << 53)
#define SH_IS		(3ULL << 8)
#define IDX(n)		((uint64_t)(n) << 2)
/* Linux's MAIR: NC, WBRWA, device, inner-NC outer-WB */
#define MAIR		0xf404ff44ULL

struct hand {
	uint64_t l1[512], l2[512], l3[512];
};

static void hand_build(struct hand *h)
{
	memset(h, 0, sizeof(*h));
	h->l1[0] = L2 | PAGE;
	h->l2[0] = L3 | PAGE;
	/* 0x1000: access flag clear */
	h->l3[1] = 0x80001000ULL | PAGE | UNPRIV | SH_IS;
	/* 0x2000: output beyond 2^40 */
	h->l3[2] = (1ULL << 40) | PAGE | AF | UNPRIV;
	/* 0x3000: read-only */
	h->l3[3] = 0x80003000ULL | PAGE | AF | UNPRIV | RDONLY | IDX(1) |
		   SH_IS;
	/* 0x4000: privileged only */
	h->l3[4] = 0x80004000ULL | PAGE | AF;
	/* 0x5000: never executable */
	h->l3[5] = 0x80005000ULL | PAGE | AF | UNPRIV | XN;
	/* 0x200000: a 2M block, cacheable */
	h->l2[1] = 0x80200000ULL | BLOCK | AF | UNPRIV | IDX(1) | SH_IS;
}

static char *write_raw(struct host_fixture *f, const char *name,
		       const void *bytes, size_t size)
{
	char *path = g_build_filename(f->tmpdir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, bytes, (gssize)size, &error));
	return path;
}

static struct iopgt_inspect *inspect_hand(struct host_fixture *f,
					  const struct hand *h)
{
	g_autofree char *path = write_raw(f, "mem.bin", h, sizeof(*h));
	struct iopgt_inspect *insp = NULL;

	load_plugins(f);
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_raw(insp, path, ROOT), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tg", 0), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tsz", 64 - 39), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.ips", 2), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "mair", MAIR), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-64-lpae-s1"), ==, 0);
	return insp;
}

static void assert_fault(struct iopgt_inspect *insp, uint64_t iova,
			 unsigned int access, enum iopgt_fault fault,
			 int level, uint64_t desc, uint64_t desc_pa)
{
	struct iopgt_xlate x;

	g_assert_cmpint(iopgt_inspect_translate(insp, iova, access, &x), ==, 0);
	g_assert_cmpstr(iopgt_fault_name(x.fault), ==, iopgt_fault_name(fault));
	g_assert_cmpint(x.level, ==, level);
	g_assert_cmphex(x.desc, ==, desc);
	g_assert_cmphex(x.desc_pa, ==, desc_pa);
}

static void test_faults(struct host_fixture *f, gconstpointer data)
{
	struct hand h;
	struct iopgt_inspect *insp;
	struct iopgt_xlate x;
	const unsigned int R = IOPGT_ACCESS_READ, W = IOPGT_ACCESS_WRITE;
	const unsigned int X = IOPGT_ACCESS_EXEC, P = IOPGT_ACCESS_PRIV;

	g_test_summary("Issue 15: faults built by hand in a raw memory file, "
		       "each with the kind, level, descriptor and descriptor "
		       "PA the hardware reports: access flag, address size, "
		       "a read-only page written, an unprivileged access to a "
		       "PRIV page, a non-executable page executed, an empty "
		       "entry, an iova beyond ias; and a block's attributes");
	(void)data;
	hand_build(&h);
	insp = inspect_hand(f, &h);
	assert_fault(insp, 0x1008, R, IOPGT_FAULT_ACCESS_FLAG, 3, h.l3[1],
		     L3 + 8);
	assert_fault(insp, 0x2000, R, IOPGT_FAULT_ADDRESS_SIZE, 3, h.l3[2],
		     L3 + 16);
	assert_fault(insp, 0x3000, W, IOPGT_FAULT_PERMISSION, 3, h.l3[3],
		     L3 + 24);
	assert_fault(insp, 0x3000, R, IOPGT_FAULT_NONE, 3, h.l3[3], L3 + 24);
	assert_fault(insp, 0x4000, R, IOPGT_FAULT_PERMISSION, 3, h.l3[4],
		     L3 + 32);
	assert_fault(insp, 0x4000, R | P, IOPGT_FAULT_NONE, 3, h.l3[4],
		     L3 + 32);
	assert_fault(insp, 0x5000, X, IOPGT_FAULT_PERMISSION, 3, h.l3[5],
		     L3 + 40);
	assert_fault(insp, 0x5000, X | P, IOPGT_FAULT_PERMISSION, 3, h.l3[5],
		     L3 + 40);
	assert_fault(insp, 0x6000, R, IOPGT_FAULT_TRANSLATION, 3, 0, L3 + 48);
	assert_fault(insp, 1ULL << 39, R, IOPGT_FAULT_TRANSLATION, 1, 0,
		     UINT64_MAX);
	/* a mapping: output, extent and decoded attributes */
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x234567, R, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, 0x80234567ULL);
	g_assert_cmphex(x.base, ==, 0x200000);
	g_assert_cmphex(x.size, ==, SZ_2M);
	g_assert_cmpint(x.level, ==, 2);
	g_assert_cmphex(x.desc_pa, ==, L2 + 8);
	g_assert_cmphex(x.prot, ==, IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE);
	g_assert_cmphex(x.memattr, ==, 0xff);
	g_assert_cmpuint(x.sh, ==, 3);
	g_assert_false(x.ns);
	/* one of R/W/X exactly */
	g_assert_cmpint(iopgt_inspect_translate(insp, 0, R | W, &x), ==,
			-EINVAL);
	g_assert_cmpint(iopgt_inspect_translate(insp, 0, P, &x), ==, -EINVAL);
	iopgt_inspect_free(insp);
}

/* ---- hostile memory ------------------------------------------------------ */

struct problems {
	GString *text;
	unsigned int n;
};

static void note_problem(void *data, const struct iopgt_problem_report *r)
{
	struct problems *p = data;

	g_string_append_printf(p->text, "%s L%d 0x%" G_GINT64_MODIFIER "x[%u] "
			       "-> 0x%" G_GINT64_MODIFIER "x: %s\n",
			       iopgt_problem_name(r->kind), r->level,
			       r->table_pa, r->index, r->addr, r->what);
	p->n++;
}

static void test_hostile_tables(struct host_fixture *f, gconstpointer data)
{
	struct problems p = { g_string_new(NULL), 0 };
	g_autoptr(GArray) entries = g_array_new(FALSE, FALSE,
					sizeof(struct iopgt_walk_entry));
	struct hand h;
	struct iopgt_inspect *insp;

	g_test_summary("Issue 15: hostile memory: a table pointing at itself, "
		       "two entries pointing at one table, a pointer past the "
		       "end of memory and an output beyond oas: check reports "
		       "each, exactly once, where it is; walk and translate "
		       "end");
	(void)data;
	hand_build(&h);
	h.l1[1] = 0x7000000ULL | PAGE;	/* past the end of the file */
	h.l1[2] = ROOT | PAGE;		/* back to the root */
	h.l1[3] = L2 | PAGE;		/* L2 a second time */
	insp = inspect_hand(f, &h);
	g_assert_cmpint(iopgt_inspect_check(insp, note_problem, &p), ==, 4);
	g_assert_cmpstr(p.text->str, ==,
			"beyond-oas L3 0x12000[2] -> 0x10000000000: output "
			"address beyond the output size\n"
			"read L2 0x7000000[0] -> 0x7000000: table could not be "
			"read\n"
			"loop L1 0x10000[2] -> 0x10000: table points back to a "
			"table above it\n"
			"shared L1 0x10000[3] -> 0x11000: table referenced "
			"twice\n");
	/* the walk enters each table once and lists what it can read */
	g_assert_cmpint(iopgt_inspect_walk(insp, &collect_ops, entries), ==, 0);
	g_assert_cmpuint(entries->len, ==, 11);
	assert_fault(insp, 1ULL << 30, IOPGT_ACCESS_READ,
		     IOPGT_FAULT_WALK_ABORT, 2, 0, 0x7000000ULL);
	/*
	 * translate follows the loop as the hardware would, a level per
	 * read: the root as a level-2 table, L2 as a level-3 one, whose
	 * entry 0 (L3's table descriptor) reads as a page with AF clear
	 */
	assert_fault(insp, 2ULL << 30, IOPGT_ACCESS_READ,
		     IOPGT_FAULT_ACCESS_FLAG, 3, L3 | PAGE, L2);
	iopgt_inspect_free(insp);
	g_string_free(p.text, TRUE);
}

/* A saved image cut short, or claiming 2^60 bytes in a PT_LOAD. */
static char *saved_image(struct host_fixture *f, off_t *size)
{
	const struct variant v = { "arm-64-lpae-s1", G4K, 48, 48, 0 };
	struct iopgt_pgtable *pgt = new_table(f, &v);
	char *path;
	struct stat st;

	random_workload(f->host, pgt, 77);
	path = save_to_file(f, pgt, "cut.core");
	iopgt_pgtable_free(f->host, pgt);
	g_assert_cmpint(stat(path, &st), ==, 0);
	*size = st.st_size;
	return path;
}

static void test_truncated_core(struct host_fixture *f, gconstpointer data)
{
	struct problems p = { g_string_new(NULL), 0 };
	g_autofree char *path = NULL;
	struct iopgt_inspect *insp;
	off_t size;
	int ret;

	g_test_summary("Issue 15: a saved image cut to half its size keeps "
		       "its note and what is left: the missing tables are "
		       "read problems, with a warning naming the PT_LOAD");
	(void)data;
	path = saved_image(f, &size);
	g_assert_cmpint(truncate(path, size / 2), ==, 0);
	insp = inspect_core(f, path);
	ret = iopgt_inspect_check(insp, note_problem, &p);
	g_assert_cmpint(ret, >, 0);
	g_assert_cmpuint(p.n, ==, (unsigned int)ret);
	g_assert_nonnull(strstr(p.text->str, ": table could not be read\n"));
	iopgt_inspect_free(insp);
	g_string_free(p.text, TRUE);
	/* cut inside the headers: not a core any more */
	g_assert_cmpint(truncate(path, 100), ==, 0);
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_core(insp, path), ==, -EINVAL);
	iopgt_inspect_free(insp);
}

static void test_huge_load(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *path = NULL;
	struct iopgt_inspect *insp;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	off_t size;
	int fd;

	g_test_summary("Issue 15: a PT_LOAD claiming 2^60 bytes: only what the "
		       "file holds is memory; the table still reads whole");
	(void)data;
	path = saved_image(f, &size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, &eh, sizeof(eh), 0), ==, sizeof(eh));
	/* the last PT_LOAD: the note comes first (docs/images.md) */
	g_assert_cmpint(pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			(eh.e_phnum - 1) * sizeof(ph))), ==, sizeof(ph));
	g_assert_cmpuint(ph.p_type, ==, PT_LOAD);
	ph.p_filesz = ph.p_memsz = 1ULL << 60;
	g_assert_cmpint(pwrite(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			(eh.e_phnum - 1) * sizeof(ph))), ==, sizeof(ph));
	close(fd);
	insp = inspect_core(f, path);
	g_assert_cmpint(iopgt_inspect_check(insp, NULL, NULL), ==, 0);
	iopgt_inspect_free(insp);
}

static void test_raw_files(struct host_fixture *f, gconstpointer data)
{
	struct hand h;
	g_autofree char *a = NULL, *b = NULL;
	struct iopgt_inspect *insp;
	struct iopgt_xlate x;

	g_test_summary("Issue 15: memory from several raw files at their "
		       "PAs (FILE@PA): the walk crosses from one to the other; "
		       "a file overlapping another is -EEXIST");
	(void)data;
	hand_build(&h);
	load_plugins(f);
	a = write_raw(f, "a.bin", h.l1, sizeof(h.l1) + sizeof(h.l2));
	b = write_raw(f, "b.bin", h.l3, sizeof(h.l3));
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_raw(insp, b, L3), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_raw(insp, a, ROOT), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_raw(insp, b, L3 - 8), ==, -EEXIST);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tg", 0), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tsz", 25), ==, 0);
	/* a register missing is refused with its name */
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-64-lpae-s1"), ==,
			-EINVAL);
	assert_logged(f, "warning: lpae: foreign: register 'tcr.ips' not given");
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.ips", 2), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-64-lpae-s1"), ==, 0);
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x3abc,
						IOPGT_ACCESS_READ, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, 0x80003abcULL);
	iopgt_inspect_free(insp);
}

static void test_no_foreign_op(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *so = fixture_so("good", "fixture-good-a");
	struct iopgt_inspect *insp = NULL;

	g_test_summary("Issue 15: a format without the foreign op (the "
		       "fixture's fake-a) gives -EOPNOTSUPP, says so, and "
		       "holds nothing of its plugin afterwards");
	(void)data;
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, so, NULL), ==, 0);
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "fake-a"), ==, -EOPNOTSUPP);
	assert_logged(f, "err: inspect: format 'fake-a' cannot walk foreign "
		      "tables (its plugin has no foreign op)");
	/* no format given and no note naming one */
	g_assert_cmpint(iopgt_inspect_open(insp, NULL), ==, -ENOENT);
	assert_logged(f, "err: inspect: no format given and no image note "
		      "names one");
	g_assert_cmpint(iopgt_inspect_translate(insp, 0, IOPGT_ACCESS_READ,
						&(struct iopgt_xlate){ 0 }),
			==, -EINVAL);
	iopgt_inspect_free(insp);
	/* the use of the plugin went with the attempt: it unloads */
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "fixture-good-a"),
			==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	host_test_add("/host/foreign/agrees-with-live", test_agrees_with_live);
	host_test_add("/host/foreign/faults-built-by-hand", test_faults);
	host_test_add("/host/foreign/hostile-tables-reported",
		      test_hostile_tables);
	host_test_add("/host/foreign/truncated-core", test_truncated_core);
	host_test_add("/host/foreign/pt-load-of-2^60-bytes", test_huge_load);
	host_test_add("/host/foreign/raw-files-at-their-pa", test_raw_files);
	host_test_add("/host/foreign/format-without-the-op", test_no_foreign_op);
	return g_test_run();
}
