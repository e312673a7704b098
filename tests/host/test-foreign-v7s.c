// SPDX-License-Identifier: MIT
/*
 * Foreign tables of the v7s format (issue 15, docs/formats/v7s.md
 * "Foreign walks").  First the differential: a live arm-v7s table of each
 * variant (no quirk, NS, NO_PERMS, both MediaTek extensions, reclaim,
 * a small ias and oas, a non-coherent walker) after a random workload of
 * 4K/64K/1M/16M maps, saved, then read back from the file by the foreign
 * walk, must agree with the live iova_to_phys on every mapped page and on
 * unmapped probes, grant exactly the accesses the live walk's prot says,
 * list the very entries the live walk lists, and pass check.  Then tables
 * built by hand in raw memory files: one fault of each kind with its
 * exact level, descriptor and descriptor PA; MediaTek's PA bits; the
 * problems check finds (inconsistent replicated groups, a shared table, a
 * loop, a pointer past the end of memory, reserved bits, outputs beyond
 * oas); and the registers open refuses.
 */
#include <errno.h>
#include <string.h>

#include "foreign-fixture.h"

#define NS		IO_PGTABLE_QUIRK_ARM_NS
#define NO_PERMS	IO_PGTABLE_QUIRK_NO_PERMS
#define MTK		IO_PGTABLE_QUIRK_ARM_MTK_EXT
#define MTK_TTBR	IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT
#define RECLAIM		IOPGT_QUIRK_RECLAIM_TABLES
#define ALL_SIZES	(SZ_4K | SZ_64K | SZ_1M | SZ_16M)

static const unsigned int R = IOPGT_ACCESS_READ, W = IOPGT_ACCESS_WRITE;
static const unsigned int X = IOPGT_ACCESS_EXEC, P = IOPGT_ACCESS_PRIV;

/* ---- the live side ------------------------------------------------------- */

struct variant {
	unsigned long quirks;
	unsigned int ias;
	unsigned int oas;
	bool coherent;
};

static const struct variant variants[] = {
	{ 0, 32, 32, true },
	{ NS, 32, 32, true },
	{ NO_PERMS, 32, 32, true },
	{ MTK | NO_PERMS, 34, 35, true },
	{ MTK | MTK_TTBR | NO_PERMS, 34, 35, false },
	{ NS | RECLAIM, 32, 32, false },
	{ 0, 28, 30, true },
	{ MTK | NO_PERMS | NS, 33, 34, true },
};

static struct iopgt_pgtable *new_table(struct host_fixture *f,
				       const struct variant *v)
{
	struct iopgt_cfg cfg = {
		.quirks = v->quirks, .pgsize_bitmap = ALL_SIZES,
		.ias = v->ias, .oas = v->oas, .coherent_walk = v->coherent,
	};
	struct iopgt_pgtable *pgt = NULL;

	load_plugin(f, "io-pgtable-arm-v7s");
	g_assert_cmpint(iopgt_pgtable_new(f->host, "arm-v7s", &cfg, NULL, &pgt),
			==, 0);
	return pgt;
}

/*
 * 96 maps: half 4K, a quarter 64K, an eighth each 1M and 16M (a section
 * over a level-2 table removes it), assorted prot, PAs anywhere below
 * 2^oas but 0 (iova_to_phys' "none"); then every third unmapped.
 */
static void random_workload(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			    guint32 seed)
{
	static const int prots[] = {
		IOMMU_READ, IOMMU_READ | IOMMU_WRITE, IOMMU_WRITE,
		IOMMU_READ | IOMMU_NOEXEC, IOMMU_READ | IOMMU_CACHE,
		IOMMU_READ | IOMMU_WRITE | IOMMU_PRIV,
		IOMMU_READ | IOMMU_MMIO | IOMMU_NOEXEC,
		IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | IOMMU_PRIV,
	};
	static const size_t sizes[] = { SZ_4K, SZ_4K, SZ_4K, SZ_4K,
					SZ_64K, SZ_64K, SZ_1M, SZ_16M };
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	uint64_t iovas[96];
	size_t sz[96];

	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i++) {
		size_t size = sizes[i % G_N_ELEMENTS(sizes)];
		uint64_t iova = rand64(rand) & ((1ULL << pgt->cfg.ias) - 1);
		uint64_t pa = rand64(rand) & ((1ULL << pgt->cfg.oas) - 1);

		iova &= ~(uint64_t)(size - 1);
		pa &= ~(uint64_t)(size - 1);
		if (!pa)
			pa = size;
		sz[i] = size;
		iovas[i] = iopgt_pgtable_map(host, pgt, iova, pa, size,
					     prots[(i / 3) % G_N_ELEMENTS(prots)]) ?
			   UINT64_MAX : iova;
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i += 3)
		if (iovas[i] != UINT64_MAX)
			iopgt_pgtable_unmap(host, pgt, iovas[i], sz[i], NULL);
}

struct walk_log {
	GArray *entries;
	GString *tables;		/* "L<level>@<pa> " per table() */
};

static int log_entry(void *data, const struct iopgt_walk_entry *e)
{
	g_array_append_val(((struct walk_log *)data)->entries, *e);
	return 0;
}

static int log_table(void *data, uint64_t pa, const void *va, size_t size,
		     int level)
{
	struct walk_log *w = data;

	g_assert_nonnull(va);
	g_string_append_printf(w->tables, "L%d@0x%" G_GINT64_MODIFIER "x/%zu ",
			       level, pa, size);
	return 0;
}

static const struct iopgt_walk_ops log_ops = {
	.table = log_table,
	.entry = log_entry,
};

static void walk_log_init(struct walk_log *w)
{
	w->entries = g_array_new(FALSE, FALSE, sizeof(struct iopgt_walk_entry));
	w->tables = g_string_new(NULL);
}

static void walk_log_clear(struct walk_log *w)
{
	g_array_unref(w->entries);
	g_string_free(w->tables, TRUE);
}

/* The MAIR-style byte of Linux's three TEX-remap indices. */
static unsigned int memattr_of(int prot)
{
	if (prot & IOMMU_MMIO)
		return 0x04;
	return prot & IOMMU_CACHE ? 0xff : 0x44;
}

/* Would the hardware allow access to a leaf granting prot? */
static bool allowed(const struct variant *v, int prot, unsigned int access)
{
	bool priv = access & P;

	if (v->quirks & NO_PERMS)
		return true;
	if (!priv && (prot & IOMMU_PRIV))
		return false;
	if ((access & W) && !(prot & IOMMU_WRITE))
		return false;
	return !((access & X) && (prot & IOMMU_NOEXEC));
}

/* Each of the six accesses to a leaf's first page, against its prot. */
static void assert_access_agrees(const struct variant *v,
				 struct iopgt_inspect *insp,
				 const struct iopgt_walk_entry *e)
{
	static const unsigned int accesses[] = {
		IOPGT_ACCESS_READ, IOPGT_ACCESS_WRITE, IOPGT_ACCESS_EXEC,
		IOPGT_ACCESS_READ | IOPGT_ACCESS_PRIV,
		IOPGT_ACCESS_WRITE | IOPGT_ACCESS_PRIV,
		IOPGT_ACCESS_EXEC | IOPGT_ACCESS_PRIV,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(accesses); i++) {
		struct iopgt_xlate x;

		g_assert_cmpint(iopgt_inspect_translate(insp, e->iova,
							accesses[i], &x), ==, 0);
		g_assert_cmpint(x.fault, ==,
				allowed(v, e->prot, accesses[i]) ?
					IOPGT_FAULT_NONE :
					IOPGT_FAULT_PERMISSION);
		g_assert_cmphex(x.desc, ==, e->raw);
	}
}

/* A page of a leaf (leaf_page_fn; data is the variant): its bits. */
static void assert_page_agrees(void *data, struct iopgt_inspect *insp,
			       const struct iopgt_walk_entry *e, size_t off,
			       const struct iopgt_xlate *x)
{
	const struct variant *v = data;

	g_assert_cmphex(x->memattr, ==, memattr_of(e->prot));
	g_assert_cmpuint(x->sh, ==, 1);		/* Linux always sets S */
	g_assert_cmpint(x->ns, ==, !!(v->quirks & NS));
	if (!off)
		assert_access_agrees(v, insp, e);
}

static unsigned int assert_translations_agree(struct host_fixture *f,
					      const struct variant *v,
					      struct iopgt_pgtable *pgt,
					      struct iopgt_inspect *insp,
					      GArray *live, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	unsigned int pages, mapped = 0;

	pages = assert_leaves_agree(f, pgt, insp, live, SZ_4K, SZ_4K - 4,
				    assert_page_agrees, (void *)v);
	for (unsigned int i = 0; i < 300; i++)
		mapped += assert_probe_agrees(f, pgt, insp, rand64(rand) &
					      ((1ULL << pgt->cfg.ias) - 1));
	g_test_message("  probes: %u of 300 mapped", mapped);
	return pages;
}

static void test_agrees_with_live(struct host_fixture *f, gconstpointer data)
{
	g_test_summary("Issue 15 item 5 for arm-v7s: for no quirk, NS, "
		       "NO_PERMS, both MediaTek extensions, reclaim, a small "
		       "ias/oas and a non-coherent walker, the foreign walk of "
		       "a saved image translates every mapped page to the live "
		       "iova_to_phys with the live prot, memory type and NS, "
		       "grants exactly the accesses prot says, faults unmapped "
		       "probes, lists the live walk's entries exactly and "
		       "finds no problem");
	(void)data;
	for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
		const struct variant *v = &variants[i];
		struct iopgt_pgtable *pgt = new_table(f, v);
		struct walk_log live, foreign;
		g_autofree char *path = NULL;
		struct iopgt_inspect *insp;
		unsigned int pages, big = 0;

		walk_log_init(&live);
		walk_log_init(&foreign);
		random_workload(f->host, pgt, 2500 + (guint32)i);
		path = save_to_file(f, pgt, "t.core");
		insp = inspect_core(f, path);
		g_assert_cmpstr(iopgt_inspect_get_format(insp), ==, "arm-v7s");
		g_assert_cmpint(iopgt_pgtable_walk(f->host, pgt, &log_ops,
						   &live), ==, 0);
		g_assert_cmpint(iopgt_inspect_walk(insp, &log_ops,
						   &foreign), ==, 0);
		assert_entries_equal(live.entries, foreign.entries);
		g_assert_cmpstr(foreign.tables->str, ==, live.tables->str);
		pages = assert_translations_agree(f, v, pgt, insp, live.entries,
						  2600 + (guint32)i);
		for (unsigned int j = 0; j < live.entries->len; j++)
			big += g_array_index(live.entries,
					     struct iopgt_walk_entry, j).size >=
			       SZ_64K;
		g_test_message("quirks 0x%lx ias %u oas %u: %u entries (%u of "
			       "64K or more), %u pages agree", v->quirks, v->ias,
			       v->oas, live.entries->len, big, pages);
		g_assert_cmpuint(pages, >, 100);
		g_assert_cmpuint(big, >, 16);
		g_assert_cmpint(iopgt_inspect_check(insp, NULL, NULL), ==, 0);
		iopgt_inspect_free(insp);
		iopgt_pgtable_free(f->host, pgt);
		walk_log_clear(&live);
		walk_log_clear(&foreign);
	}
}

/* ---- tables built by hand ---------------------------------------------- */

/*
 * ias 32, oas 31, in a raw file at PA 0x100000: the level-1 table (16
 * KiB) at ROOT, level-2 tables at L2A and L2B.
 */
#define ROOT		0x100000ULL
#define L2A		0x104000ULL
#define L2B		0x104400ULL
#define GONE		0x7000000ULL	/* no memory there */

/* descriptor bits (docs/formats/v7s.md "Descriptors") */
#define TABLE		0x1u
#define SECT		0x2u		/* a section; | 0x1 with PXN */
#define SUPER		(SECT | (1u << 18))
#define SECT_NS		(1u << 19)
#define TABLE_NS	(1u << 3)
#define PAGE		0x2u		/* a small page; | 0x1 with XN */
#define LARGE		0x1u
#define B		(1u << 2)
#define C		(1u << 3)
/* the attribute block: [17:10] of a section, [11:4] of a page */
#define S_AF		(1u << 10)
#define S_UNPRIV	(1u << 11)
#define S_TEX0		(1u << 12)
#define S_S		(1u << 16)
#define P_AF		(1u << 4)
#define P_UNPRIV	(1u << 5)
#define P_TEX0		(1u << 6)
#define P_RDONLY	(1u << 9)
#define P_S		(1u << 10)
#define L_TEX0		(1u << 12)
/* Linux's TTBR attributes of a coherent walker, which are not address */
#define TTBR_ATTRS	0x6au

struct hand {
	uint32_t l1[4096];
	uint32_t l2a[256], l2b[256];
};

static void hand_build(struct hand *h)
{
	memset(h, 0, sizeof(*h));
	h->l1[0] = (uint32_t)L2A | TABLE;
	h->l2a[1] = 0x40001000u | PAGE | P_UNPRIV;		/* AF clear */
	h->l2a[2] = 0x80002000u | PAGE | P_AF | P_UNPRIV;	/* >= 2^31 */
	h->l2a[3] = 0x40003000u | PAGE | P_AF | P_UNPRIV | P_RDONLY |
		    P_TEX0 | C | B | P_S;			/* RO, WBWA */
	h->l2a[4] = 0x40004000u | PAGE | P_AF;			/* priv */
	h->l2a[5] = 0x40005000u | PAGE | 1 | P_AF | P_UNPRIV;	/* XN */
	for (int i = 16; i < 32; i++)				/* 64K */
		h->l2a[i] = 0x40010000u | LARGE | P_AF | P_UNPRIV | L_TEX0;
	for (int i = 32; i < 48; i++)				/* 64K, bad */
		h->l2a[i] = 0x40020000u | LARGE | P_AF | P_UNPRIV;
	h->l2a[40] = 0x40030000u | LARGE | P_AF | P_UNPRIV;
	h->l1[2] = 0x40200000u | SECT | 1 | S_AF | S_UNPRIV;	/* PXN */
	h->l1[3] = (uint32_t)L2A | TABLE;			/* shared */
	h->l1[4] = (uint32_t)GONE | TABLE;			/* no memory */
	h->l1[5] = (uint32_t)ROOT | TABLE;			/* loop */
	h->l1[6] = (uint32_t)L2B | TABLE | TABLE_NS | (1u << 4); /* SBZ */
	h->l2b[0] = 0x40600000u | PAGE | P_AF | P_UNPRIV;
	h->l1[7] = 0x80000000u | SECT | S_AF | S_UNPRIV;	/* >= 2^31 */
	h->l1[8] = 0x40800000u | SECT | S_AF | S_UNPRIV | B;	/* device */
	/* a lone supersection with PA[32] in its extended base address */
	h->l1[9] = 0x40000000u | SUPER | S_AF | S_UNPRIV | (1u << 20);
	h->l1[10] = (uint32_t)(ROOT + 0x400) | TABLE;		/* in L1 */
	for (int i = 16; i < 32; i++)				/* 16M, NS */
		h->l1[i] = 0x41000000u | SUPER | S_AF | S_UNPRIV | SECT_NS |
			   S_TEX0 | C | B | S_S;
	for (int i = 32; i < 48; i++)				/* 16M, bad */
		h->l1[i] = 0x42000000u | SUPER | S_AF | S_UNPRIV;
	h->l1[37] = 0x45000000u | SUPER | S_AF | S_UNPRIV;
}

/* An inspector over bytes at pa, not open yet. */
static struct iopgt_inspect *inspect_raw(struct host_fixture *f,
					 const void *bytes, size_t size,
					 uint64_t pa)
{
	g_autofree char *path = write_raw(f, "mem.bin", bytes, size);
	struct iopgt_inspect *insp = NULL;

	load_plugin(f, "io-pgtable-arm-v7s");
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_raw(insp, path, pa), ==, 0);
	return insp;
}

static struct iopgt_inspect *inspect_hand(struct host_fixture *f,
					  const struct hand *h)
{
	struct iopgt_inspect *insp = inspect_raw(f, h, sizeof(*h), ROOT);

	/* ias and the quirks as the defaults, PRRR and NMRR too */
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT | TTBR_ATTRS),
			==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "oas", 31), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-v7s"), ==, 0);
	return insp;
}

static void test_faults(struct host_fixture *f, gconstpointer data)
{
	g_autofree struct hand *h = g_new(struct hand, 1);
	struct iopgt_inspect *insp;

	g_test_summary("Issue 15 for arm-v7s: faults built by hand in a raw "
		       "memory file, each with the kind, level, descriptor and "
		       "descriptor PA: AF clear, outputs beyond oas (a page, a "
		       "section, a supersection's extended base address), a "
		       "read-only page written, an unprivileged access to a "
		       "privileged page, XN and PXN, empty entries, an iova "
		       "beyond ias, a table past the end of memory");
	(void)data;
	hand_build(h);
	insp = inspect_hand(f, h);
	assert_fault(insp, 0x1008, R, IOPGT_FAULT_ACCESS_FLAG, 2, h->l2a[1],
		     L2A + 4);
	assert_fault(insp, 0x2000, R, IOPGT_FAULT_ADDRESS_SIZE, 2, h->l2a[2],
		     L2A + 8);
	assert_fault(insp, 0x3000, W, IOPGT_FAULT_PERMISSION, 2, h->l2a[3],
		     L2A + 12);
	assert_fault(insp, 0x3000, W | P, IOPGT_FAULT_PERMISSION, 2,
		     h->l2a[3], L2A + 12);
	assert_fault(insp, 0x3000, R, IOPGT_FAULT_NONE, 2, h->l2a[3],
		     L2A + 12);
	assert_fault(insp, 0x4000, R, IOPGT_FAULT_PERMISSION, 2, h->l2a[4],
		     L2A + 16);
	assert_fault(insp, 0x4000, W | P, IOPGT_FAULT_NONE, 2, h->l2a[4],
		     L2A + 16);
	assert_fault(insp, 0x5000, X, IOPGT_FAULT_PERMISSION, 2, h->l2a[5],
		     L2A + 20);
	assert_fault(insp, 0x5000, X | P, IOPGT_FAULT_PERMISSION, 2,
		     h->l2a[5], L2A + 20);
	assert_fault(insp, 0x5000, R, IOPGT_FAULT_NONE, 2, h->l2a[5],
		     L2A + 20);
	assert_fault(insp, 0x6000, R, IOPGT_FAULT_TRANSLATION, 2, 0, L2A + 24);
	/* PXN: privileged execution only is refused */
	assert_fault(insp, 0x200000, X | P, IOPGT_FAULT_PERMISSION, 1,
		     h->l1[2], ROOT + 8);
	assert_fault(insp, 0x200000, X, IOPGT_FAULT_NONE, 1, h->l1[2],
		     ROOT + 8);
	assert_fault(insp, 0x400000, R, IOPGT_FAULT_WALK_ABORT, 2, 0, GONE);
	assert_fault(insp, 0x4fffff, R, IOPGT_FAULT_WALK_ABORT, 2, 0,
		     GONE + 255 * 4);
	assert_fault(insp, 0x700000, R, IOPGT_FAULT_ADDRESS_SIZE, 1, h->l1[7],
		     ROOT + 28);
	assert_fault(insp, 0x900000, R, IOPGT_FAULT_ADDRESS_SIZE, 1, h->l1[9],
		     ROOT + 36);
	assert_fault(insp, 0xb00000, R, IOPGT_FAULT_TRANSLATION, 1, 0,
		     ROOT + 44);
	assert_fault(insp, 1ULL << 32, R, IOPGT_FAULT_TRANSLATION, 1, 0,
		     UINT64_MAX);
	/* one of R/W/X exactly */
	g_assert_cmpint(iopgt_inspect_translate(insp, 0, R | X,
						&(struct iopgt_xlate){ 0 }),
			==, -EINVAL);
	g_assert_cmpint(iopgt_inspect_translate(insp, 0, P,
						&(struct iopgt_xlate){ 0 }),
			==, -EINVAL);
	iopgt_inspect_free(insp);
}

static void test_mappings(struct host_fixture *f, gconstpointer data)
{
	g_autofree struct hand *h = g_new(struct hand, 1);
	struct iopgt_inspect *insp;
	struct iopgt_xlate x;

	g_test_summary("Issue 15 for arm-v7s: what a hand-built mapping "
		       "translates to: output with the offset, extent of a "
		       "small page, a large page, a supersection, the prot, "
		       "memory type (TEX remap through Linux's PRRR/NMRR, as "
		       "a MAIR byte), S and NS (of a section, and of a page "
		       "through its table descriptor)");
	(void)data;
	hand_build(h);
	insp = inspect_hand(f, h);
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x3abc, R, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, 0x40003abc);
	g_assert_cmphex(x.base, ==, 0x3000);
	g_assert_cmphex(x.size, ==, SZ_4K);
	g_assert_cmphex(x.prot, ==, IOMMU_READ | IOMMU_CACHE);
	g_assert_cmphex(x.memattr, ==, 0xff);
	g_assert_cmpuint(x.sh, ==, 1);
	g_assert_false(x.ns);
	/* a large page, normal non-cacheable, from any of its 16 entries */
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x1fffc, W, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, 0x4001fffc);
	g_assert_cmphex(x.base, ==, 0x10000);
	g_assert_cmphex(x.size, ==, SZ_64K);
	g_assert_cmphex(x.desc_pa, ==, L2A + 31 * 4);
	g_assert_cmphex(x.prot, ==, IOMMU_READ | IOMMU_WRITE);
	g_assert_cmphex(x.memattr, ==, 0x44);
	g_assert_cmpuint(x.sh, ==, 0);
	/* NS from the table descriptor */
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x600123, R, &x), ==, 0);
	g_assert_cmphex(x.oa, ==, 0x40600123);
	g_assert_true(x.ns);
	/* a device section */
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x812345, R, &x), ==, 0);
	g_assert_cmphex(x.oa, ==, 0x40812345);
	g_assert_cmphex(x.size, ==, SZ_1M);
	g_assert_cmphex(x.prot, ==, IOMMU_READ | IOMMU_WRITE | IOMMU_MMIO);
	g_assert_cmphex(x.memattr, ==, 0x04);
	g_assert_false(x.ns);
	/* a supersection, NS, inner-shareable write-back */
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x1234567, R, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, 0x41234567);
	g_assert_cmphex(x.base, ==, 0x1000000);
	g_assert_cmphex(x.size, ==, SZ_16M);
	g_assert_cmpint(x.level, ==, 1);
	g_assert_cmphex(x.desc_pa, ==, ROOT + 18 * 4);
	g_assert_cmphex(x.memattr, ==, 0xff);
	g_assert_cmpuint(x.sh, ==, 1);
	g_assert_true(x.ns);
	iopgt_inspect_free(insp);
}

/* ---- check --------------------------------------------------------------- */

static void test_check(struct host_fixture *f, gconstpointer data)
{
	struct problems p = { g_string_new(NULL), 0 };
	g_autofree struct hand *h = g_new(struct hand, 1);
	struct walk_log w;
	struct iopgt_inspect *insp;

	g_test_summary("Issue 15 for arm-v7s: check reports each problem of a "
		       "hostile table once, where it is: inconsistent "
		       "supersection and large-page groups, a lone "
		       "supersection, a level-2 table referenced twice, a "
		       "table past the end of memory, a table that is the "
		       "level-1 table or inside it, a table descriptor's SBZ "
		       "bit, outputs beyond oas, a misaligned level-1 table; "
		       "the walk enters each level-2 table once");
	(void)data;
	hand_build(h);
	insp = inspect_hand(f, h);
	g_assert_cmpint(iopgt_inspect_check(insp, note_problem, &p), ==, 11);
	g_assert_cmpstr(p.text->str, ==,
			"replica L1 0x100000[0] -> 0x40000000: supersection "
			"not written 16 times alike\n"
			"replica L1 0x100000[37] -> 0x42000000: supersection "
			"not written 16 times alike\n"
			"replica L2 0x104000[40] -> 0x40020000: large page not "
			"written 16 times alike\n"
			"beyond-oas L2 0x104000[2] -> 0x80002000: output "
			"address beyond the output size\n"
			"shared L1 0x100000[3] -> 0x104000: table referenced "
			"twice\n"
			"read L2 0x7000000[0] -> 0x7000000: table could not be "
			"read\n"
			"loop L1 0x100000[5] -> 0x100000: table points back to "
			"the level-1 table\n"
			"res0 L1 0x100000[6] -> 0x104400: table descriptor SBZ "
			"bit 4 set\n"
			"beyond-oas L1 0x100000[7] -> 0x80000000: output "
			"address beyond the output size\n"
			"beyond-oas L1 0x100000[9] -> 0x40000000: supersection "
			"extended base address (PA above 4 GiB) set\n"
			"overlap L1 0x100000[10] -> 0x100400: table overlaps "
			"the level-1 table\n");
	/* the level-1 table, L2A and L2B once each; GONE unreadable */
	walk_log_init(&w);
	g_assert_cmpint(iopgt_inspect_walk(insp, &log_ops, &w), ==, 0);
	g_assert_cmpstr(w.tables->str, ==,
			"L1@0x100000/16384 L2@0x104000/1024 "
			"L2@0x104400/1024 ");
	/* L1: 0, 2-10, 16-47 (42); L2A: 1-5, 16-47 (37); L2B: 0 (1) */
	g_assert_cmpuint(w.entries->len, ==, 42 + 37 + 1);
	walk_log_clear(&w);
	iopgt_inspect_free(insp);
	g_string_free(p.text, TRUE);

	/* ias 27: a level-1 table of 512 bytes, at a TTBR 128 bytes off */
	p = (struct problems){ g_string_new(NULL), 0 };
	memset(h, 0, sizeof(*h));
	insp = inspect_raw(f, h, SZ_1K, ROOT);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT + 0x80), ==,
			0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ias", 27), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-v7s"), ==, 0);
	g_assert_cmpint(iopgt_inspect_check(insp, note_problem, &p), ==, 1);
	g_assert_cmpstr(p.text->str, ==,
			"misaligned L1 0x100080[0] -> 0x100080: level-1 table "
			"not aligned to its size\n");
	iopgt_inspect_free(insp);
	g_string_free(p.text, TRUE);
}

/* ---- MediaTek ----------------------------------------------------------- */

/*
 * ARM_MTK_EXT | ARM_MTK_TTBR_EXT | NO_PERMS, ias 32, oas 34: the level-1
 * table at 0x1_0010_0000 (TTBR[2:0] = PA[34:32]), its level-2 table at
 * 0x1_0010_4000 (PA[32] in the table descriptor's bit 9).
 */
#define MTK_ROOT	0x100100000ULL
#define MTK_L2		0x100104000ULL

static void test_mtk(struct host_fixture *f, gconstpointer data)
{
	g_autofree struct hand *h = g_new0(struct hand, 1);
	struct iopgt_inspect *insp;
	struct iopgt_xlate x;

	g_test_summary("Issue 15 for arm-v7s: MediaTek's 35-bit PAs: the "
		       "level-1 table above 4 GiB through TTBR[2:0], a table "
		       "descriptor's PA[32], a page's PA[33] and PA[34] (beyond "
		       "oas 34: an address-size fault); with NO_PERMS no "
		       "access flag or permission is checked");
	(void)data;
	h->l1[0] = 0x00104000u | TABLE | (1u << 9);
	h->l2a[1] = 0x40001000u | PAGE | (1u << 4);		/* PA[33] */
	h->l2a[2] = 0x40002000u | PAGE | (1u << 5);		/* PA[34] */
	insp = inspect_raw(f, h, sizeof(*h), MTK_ROOT);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", 0x00100001), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "quirks",
					      MTK | MTK_TTBR | NO_PERMS), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "oas", 34), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-v7s"), ==, 0);
	g_assert_cmpint(iopgt_inspect_translate(insp, 0x1abc, W, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, 0x240001abcULL);
	g_assert_cmphex(x.desc_pa, ==, MTK_L2 + 4);
	g_assert_cmphex(x.prot, ==, IOMMU_READ | IOMMU_WRITE);
	assert_fault(insp, 0x1abc, X, IOPGT_FAULT_NONE, 2, h->l2a[1],
		     MTK_L2 + 4);
	assert_fault(insp, 0x2000, R, IOPGT_FAULT_ADDRESS_SIZE, 2, h->l2a[2],
		     MTK_L2 + 8);
	assert_fault(insp, 0x100000, R, IOPGT_FAULT_TRANSLATION, 1, 0,
		     MTK_ROOT + 4);
	iopgt_inspect_free(insp);
}

/* ---- registers ----------------------------------------------------------- */

static void assert_refused(struct host_fixture *f, const char *key,
			   uint64_t value, const char *line)
{
	uint32_t l1[16] = { 0 };
	struct iopgt_inspect *insp = inspect_raw(f, l1, sizeof(l1), ROOT);

	if (key)
		g_assert_cmpint(iopgt_inspect_set_reg(insp, key, value), ==, 0);
	if (!key || strcmp(key, "ttbr"))
		g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT), ==,
				0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-v7s"), ==, -EINVAL);
	assert_logged(f, line);
	iopgt_inspect_free(insp);
}

static void test_refused_registers(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_inspect *insp;
	uint32_t l1[16] = { 0 };

	g_test_summary("Issue 15 for arm-v7s: open refuses, naming it, what "
		       "the format does not have: no ttbr, a TTBCR other than "
		       "0, an ias or oas out of range, unknown quirks, "
		       "MediaTek's PA bits without NO_PERMS, a 64-bit PRRR");
	(void)data;
	insp = inspect_raw(f, l1, sizeof(l1), ROOT);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-v7s"), ==, -EINVAL);
	assert_logged(f, "warning: arm-v7s: foreign: register 'ttbr' not given");
	iopgt_inspect_free(insp);
	assert_refused(f, "tcr", 0x80000000, "warning: arm-v7s: foreign: tcr "
		       "0x80000000: only TTBCR 0 (N 0, short descriptors) is "
		       "supported");
	assert_refused(f, "ias", 33, "warning: arm-v7s: foreign: ias 33 is "
		       "not in [20, 32]");
	assert_refused(f, "oas", 33, "warning: arm-v7s: foreign: oas 33 is "
		       "above 32");
	assert_refused(f, "quirks", IO_PGTABLE_QUIRK_ARM_TTBR1,
		       "warning: arm-v7s: foreign: unsupported quirks 0x20");
	assert_refused(f, "quirks", MTK, "warning: arm-v7s: foreign: "
		       "ARM_MTK_EXT needs NO_PERMS");
	assert_refused(f, "prrr", 1ULL << 32, "warning: arm-v7s: foreign: "
		       "register 'prrr' 0x100000000 is wider than 32 bits");
	/* ias 20: one level-1 entry, read from the file's first word */
	insp = inspect_raw(f, l1, sizeof(l1), ROOT);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ias", 20), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-v7s"), ==, 0);
	g_assert_cmpint(iopgt_inspect_check(insp, NULL, NULL), ==, 0);
	iopgt_inspect_free(insp);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	host_test_add("/host/foreign-v7s/agrees-with-live",
		      test_agrees_with_live);
	host_test_add("/host/foreign-v7s/faults-built-by-hand", test_faults);
	host_test_add("/host/foreign-v7s/mappings-built-by-hand",
		      test_mappings);
	host_test_add("/host/foreign-v7s/check-reports-hostile-tables",
		      test_check);
	host_test_add("/host/foreign-v7s/mediatek-pa-bits", test_mtk);
	host_test_add("/host/foreign-v7s/open-refuses-what-v7s-lacks",
		      test_refused_registers);
	return g_test_run();
}
