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
 * bytes, each ending in a report, never a crash; more than 2^20 tables
 * computed by a read callback, stopped at the format's cap; a hand-built
 * core whose PT_LOADs leave holes.  Last, the foreign op advertised in
 * the plugin file's metadata, read without loading it, and the warning
 * when a format registers otherwise.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND	0
#endif

#include "foreign-fixture.h"
#include "iopgt-internal.h"

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

static struct iopgt_pgtable *new_table(struct host_fixture *f,
				       const struct variant *v)
{
	struct iopgt_cfg cfg = {
		.quirks = v->quirks, .pgsize_bitmap = v->pgsizes,
		.ias = v->ias, .oas = v->oas, .coherent_walk = true,
	};
	struct iopgt_pgtable *pgt = NULL;

	load_plugin(f, "io-pgtable-arm");
	g_assert_cmpint(iopgt_pgtable_new(f->host, v->format, &cfg, NULL, &pgt),
			==, 0);
	return pgt;
}

/* The first iova of the table's range: a TTBR1 table has the top. */
static uint64_t iova_base(const struct iopgt_pgtable *pgt)
{
	return pgt->cfg.quirks & TTBR1 ? ~0ULL << pgt->cfg.ias : 0;
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

/* Every granule page of every leaf (at most 64 per block), 200 probes. */
static unsigned int assert_translations_agree(struct host_fixture *f,
					      struct iopgt_pgtable *pgt,
					      struct iopgt_inspect *insp,
					      GArray *live, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	unsigned long granule = 1UL << __builtin_ctzl(pgt->cfg.pgsize_bitmap);
	unsigned int pages;

	pages = assert_leaves_agree(f, pgt, insp, live, granule, granule - 8,
				    NULL, NULL);
	for (unsigned int i = 0; i < 200; i++)
		assert_probe_agrees(f, pgt, insp,
				    (rand64(rand) &
				     ((1ULL << MIN(pgt->cfg.ias, 36U)) - 1)) |
				    iova_base(pgt));
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

static struct iopgt_inspect *inspect_hand(struct host_fixture *f,
					  const struct hand *h)
{
	g_autofree char *path = write_raw(f, "mem.bin", h, sizeof(*h));
	struct iopgt_inspect *insp = NULL;

	load_plugin(f, "io-pgtable-arm");
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
	load_plugin(f, "io-pgtable-arm");
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

/* ---- more tables than the cap ------------------------------------------- */

/*
 * A 4K stage-1 table of four levels (ias 48) that exists only in a read
 * callback: the table at level l and index n (in its level) lies at
 * l << 40 | n << 12 (the root at ROOT), and its first fanout entries
 * point at the tables (l + 1, n * 512 + i); level-3 tables are empty.
 * With fanout 512 that is 2^27 tables, far past LPAE_FW_MAX_TABLES.
 */
#define LPAE_FW_MAX_TABLES	(1U << 20)	/* lpae-foreign.c */
#define FAN_LEVEL_SPAN		(1ULL << 40)

struct fan_mem {
	unsigned int fanout;
	uint64_t reads;
};

static uint64_t fan_table_pa(int lvl, uint64_t n)
{
	return lvl ? (uint64_t)lvl * FAN_LEVEL_SPAN + (n << 12) : ROOT;
}

static int fan_read(void *ctx, uint64_t pa, size_t size, void *buf)
{
	struct fan_mem *m = ctx;
	uint64_t *e = buf;
	uint64_t base = pa & ~0xfffULL;
	int lvl = pa == ROOT || pa < FAN_LEVEL_SPAN ? 0 :
		  (int)(pa / FAN_LEVEL_SPAN);
	uint64_t n = lvl ? (base % FAN_LEVEL_SPAN) >> 12 : 0;

	m->reads++;
	g_assert_cmpuint(pa % 8, ==, 0);
	g_assert_cmpuint((pa & 0xfff) + size, <=, 4096);
	memset(buf, 0, size);
	if (lvl >= 3)
		return 0;
	for (size_t i = (pa & 0xfff) / 8, k = 0; k < size / 8; i++, k++)
		if (i < m->fanout)
			e[k] = fan_table_pa(lvl + 1, n * 512 + i) | PAGE;
	return 0;
}

static struct iopgt_inspect *inspect_fan(struct host_fixture *f,
					 struct fan_mem *m)
{
	struct iopgt_inspect *insp = NULL;

	load_plugin(f, "io-pgtable-arm");
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_source(insp, 0, 0, fan_read, m), ==,
			0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tg", 0), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tsz", 64 - 48), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.ips", 5), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-64-lpae-s1"), ==, 0);
	return insp;
}

static int count_entry(void *data, const struct iopgt_walk_entry *e)
{
	(void)e;
	(*(uint64_t *)data)++;
	return 0;
}

static const struct iopgt_walk_ops count_ops = { .entry = count_entry };

/* A translation reads one descriptor per level, whatever lies beyond. */
static void assert_fan_translate(struct iopgt_inspect *insp,
				 struct fan_mem *m, uint64_t iova)
{
	uint64_t l3 = (((iova >> 39) * 512 + (iova >> 30 & 511)) * 512 +
		       (iova >> 21 & 511));
	struct iopgt_xlate x;

	m->reads = 0;
	g_assert_cmpint(iopgt_inspect_translate(insp, iova, IOPGT_ACCESS_READ,
						&x), ==, 0);
	g_assert_cmpuint(m->reads, ==, 4);
	assert_fault(insp, iova, IOPGT_ACCESS_READ, IOPGT_FAULT_TRANSLATION,
		     3, 0, fan_table_pa(3, l3) + (iova >> 12 & 511) * 8);
}

static void test_fan_small(struct host_fixture *f, gconstpointer data)
{
	struct fan_mem m = { .fanout = 21 };
	/* 1 + 21 + 21^2 + 21^3 tables, each entered once */
	const uint64_t tables = 1 + 21 + 441 + 9261;
	struct problems p = { g_string_new(NULL), 0 };
	struct iopgt_inspect *insp;
	uint64_t entries = 0;

	g_test_summary("Issue 15: 9724 tables made up by a read callback: "
		       "walk and check read each exactly once and find "
		       "nothing wrong; a translation reads four descriptors");
	(void)data;
	insp = inspect_fan(f, &m);
	g_assert_cmpint(iopgt_inspect_walk(insp, &count_ops, &entries), ==, 0);
	g_assert_cmpuint(m.reads, ==, tables);
	g_assert_cmpuint(entries, ==, tables - 1);
	m.reads = 0;
	g_assert_cmpint(iopgt_inspect_check(insp, note_problem, &p), ==, 0);
	g_assert_cmpuint(m.reads, ==, tables);
	assert_fan_translate(insp, &m, 0x0000000000345000ULL);
	assert_fan_translate(insp, &m, (20ULL << 39) | (20ULL << 30) |
					   (20ULL << 21) | 0x7000);
	iopgt_inspect_free(insp);
	g_string_free(p.text, TRUE);
}

static void test_fan_over_cap(struct host_fixture *f, gconstpointer data)
{
	struct fan_mem m = { .fanout = 512 };
	struct problems p = { g_string_new(NULL), 0 };
	struct iopgt_inspect *insp;
	uint64_t entries = 0;
	/*
	 * Depth first, a level-1 table brings 1 + 512 * 513 tables and a
	 * level-2 one 1 + 512: three whole level-1 subtrees, 507 level-2
	 * subtrees of the fourth, then level-3 tables 0-510 of the next
	 * make 2^20 with the root; its entry 511 is refused.
	 */
	const uint64_t l2 = 3 * 512 + 507, l3 = l2 * 512 + 511;
	g_autofree char *expect = g_strdup_printf(
		"limit L2 0x%" G_GINT64_MODIFIER "x[511] -> 0x%"
		G_GINT64_MODIFIER "x: more than 2^20 tables: walk stopped\n",
		fan_table_pa(2, l2), fan_table_pa(3, l3));

	g_test_summary("Issue 15: 2^27 tables made up by a read callback: "
		       "walk ends with -E2BIG and check with one limit "
		       "problem after exactly 2^20 tables, each read once; a "
		       "translation still reads four descriptors.  Not under "
		       "valgrind (2^20 4K reads per pass): "
		       "/host/foreign/9724-tables runs the same code there");
	(void)data;
	if (RUNNING_ON_VALGRIND) {
		g_test_skip("2^20 tables per pass: too slow under valgrind; "
			    "9724-tables covers the same code");
		g_string_free(p.text, TRUE);
		return;
	}
	insp = inspect_fan(f, &m);
	g_assert_cmpint(iopgt_inspect_walk(insp, &count_ops, &entries), ==,
			-E2BIG);
	g_assert_cmpuint(m.reads, ==, LPAE_FW_MAX_TABLES);
	/* every table but the root through an entry, and the refused one */
	g_assert_cmpuint(entries, ==, LPAE_FW_MAX_TABLES);
	m.reads = 0;
	g_assert_cmpint(iopgt_inspect_check(insp, note_problem, &p), ==, 1);
	g_assert_cmpuint(m.reads, ==, LPAE_FW_MAX_TABLES);
	g_assert_cmpstr(p.text->str, ==, expect);
	assert_fan_translate(insp, &m, 511ULL << 39 | 511ULL << 30 |
				   511ULL << 21 | 511ULL << 12);
	iopgt_inspect_free(insp);
	g_string_free(p.text, TRUE);
}

/* ---- a core with holes ---------------------------------------------------- */

/*
 * hand_build()'s tables in an ELF core of four PT_LOADs, out of order in
 * the file: the root in two halves (0x10000 and 0x10800, so one table
 * read spans both), L2 at 0x11000, a second L3 at 0x13000, and nothing at
 * 0x12000, where L2[0] points: a hole.  Past 0x14000 another hole, then
 * a PT_LOAD at 0x20000 that only a table pointer of L1[2] reaches.
 */
#define L3B		0x13000ULL
#define FAR		0x20000ULL

struct core_seg {
	uint64_t pa;
	const void *bytes;
	size_t size;
};

/* ELFCLASS64, as QEMU dumps a 64-bit guest and `save` writes */
static GByteArray *core64(const struct core_seg *segs, unsigned int n)
{
	GByteArray *out = g_byte_array_new();
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     G_BYTE_ORDER == G_LITTLE_ENDIAN ? ELFDATA2LSB :
							      ELFDATA2MSB,
			     EV_CURRENT },
		.e_type = ET_CORE,
		.e_machine = EM_AARCH64,
		.e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = (Elf64_Half)n,
	};
	uint64_t off = sizeof(eh) + n * sizeof(Elf64_Phdr);

	g_byte_array_append(out, (const guint8 *)&eh, sizeof(eh));
	for (unsigned int i = 0; i < n; i++) {
		Elf64_Phdr ph = {
			.p_type = PT_LOAD, .p_flags = PF_R, .p_offset = off,
			.p_paddr = segs[i].pa, .p_filesz = segs[i].size,
			.p_memsz = segs[i].size, .p_align = 8,
		};

		g_byte_array_append(out, (const guint8 *)&ph, sizeof(ph));
		off += segs[i].size;
	}
	return out;
}

/* ELFCLASS32, as QEMU and kdump dump a 32-bit guest */
static GByteArray *core32(const struct core_seg *segs, unsigned int n)
{
	GByteArray *out = g_byte_array_new();
	Elf32_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS32,
			     G_BYTE_ORDER == G_LITTLE_ENDIAN ? ELFDATA2LSB :
							      ELFDATA2MSB,
			     EV_CURRENT },
		.e_type = ET_CORE,
		.e_machine = EM_ARM,
		.e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf32_Ehdr),
		.e_ehsize = sizeof(Elf32_Ehdr),
		.e_phentsize = sizeof(Elf32_Phdr),
		.e_phnum = (Elf32_Half)n,
	};
	uint32_t off = sizeof(eh) + n * sizeof(Elf32_Phdr);

	g_byte_array_append(out, (const guint8 *)&eh, sizeof(eh));
	for (unsigned int i = 0; i < n; i++) {
		Elf32_Phdr ph = {
			.p_type = PT_LOAD, .p_flags = PF_R, .p_offset = off,
			.p_paddr = (Elf32_Addr)segs[i].pa,
			.p_filesz = (Elf32_Word)segs[i].size,
			.p_memsz = (Elf32_Word)segs[i].size, .p_align = 8,
		};

		g_byte_array_append(out, (const guint8 *)&ph, sizeof(ph));
		off += (uint32_t)segs[i].size;
	}
	return out;
}

static char *write_core(struct host_fixture *f, const struct core_seg *segs,
			unsigned int n, bool elf32)
{
	g_autoptr(GByteArray) out = elf32 ? core32(segs, n) : core64(segs, n);

	for (unsigned int i = 0; i < n; i++)
		g_byte_array_append(out, segs[i].bytes, (guint)segs[i].size);
	return write_raw(f, "holes.core", out->data, out->len);
}

static void test_core_with_holes(struct host_fixture *f, gconstpointer data)
{
	struct problems p = { g_string_new(NULL), 0 };
	static uint64_t far[512];
	g_autofree char *path = NULL;
	struct iopgt_inspect *insp = NULL;
	struct iopgt_xlate x;
	struct hand h;
	uint64_t buf[4];

	g_test_summary("Issue 15: a hand-built ELF core (64-bit, or 32-bit "
		       "as a 32-bit guest's dump) with five PT_LOADs out of "
		       "file order and holes between them: a table spanning "
		       "two PT_LOADs reads whole, a descriptor in a hole is a "
		       "walk abort at its exact PA, check reports the hole as "
		       "an unreadable table");
	hand_build(&h);
	h.l2[0] = L3 | PAGE;			/* in the hole */
	h.l2[2] = L3B | PAGE;
	h.l1[300] = L2 | PAGE;			/* in the root's second half */
	h.l1[2] = FAR | PAGE;
	h.l3[9] = 0x80009000ULL | PAGE | AF | UNPRIV;
	far[0] = 0x90000000ULL | BLOCK | AF | UNPRIV;
	{
		const struct core_seg segs[] = {
			{ L3B, h.l3, sizeof(h.l3) },
			{ ROOT + 0x800, &h.l1[256], 0x800 },
			{ FAR, far, sizeof(far) },
			{ L2, h.l2, sizeof(h.l2) },
			{ ROOT, h.l1, 0x800 },
		};

		path = write_core(f, segs, G_N_ELEMENTS(segs), data != NULL);
	}
	load_plugin(f, "io-pgtable-arm");
	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_core(insp, path), ==, 0);
	/* a read across the two halves, and one running into a hole */
	g_assert_cmpint(iopgt_inspect_read(insp, ROOT + 0x800 - 16, 32, buf),
			==, 0);
	g_assert_cmphex(buf[0], ==, h.l1[254]);
	g_assert_cmphex(buf[2], ==, h.l1[256]);
	g_assert_cmpint(iopgt_inspect_read(insp, L2 + 0x1000 - 8, 16, buf),
			==, -EFAULT);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "ttbr", ROOT), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tg", 0), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.tsz", 64 - 39), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_reg(insp, "tcr.ips", 2), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-64-lpae-s1"), ==, 0);
	/* L2[0] leads into the hole: the L3 descriptor's own PA */
	assert_fault(insp, 0x5000, IOPGT_ACCESS_READ, IOPGT_FAULT_WALK_ABORT,
		     3, 0, L3 + 5 * 8);
	/* the root's second half, then L2, then the L3 after the hole */
	g_assert_cmpint(iopgt_inspect_translate(insp, (300ULL << 30) |
						(2ULL << 21) | 0x9abc,
						IOPGT_ACCESS_READ, &x), ==, 0);
	g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x.oa, ==, 0x80009abcULL);
	g_assert_cmphex(x.desc_pa, ==, L3B + 9 * 8);
	/* the PT_LOAD past the second hole */
	g_assert_cmpint(iopgt_inspect_translate(insp, (2ULL << 30) | 0x1234,
						IOPGT_ACCESS_READ, &x), ==, 0);
	g_assert_cmphex(x.oa, ==, 0x90001234ULL);
	g_assert_cmphex(x.desc_pa, ==, FAR);
	/* and hand_build()'s output beyond oas; L2 is referenced by L1[0]
	 * and L1[300]: shared, as it is */
	g_assert_cmpint(iopgt_inspect_check(insp, note_problem, &p), ==, 3);
	g_assert_cmpstr(p.text->str, ==,
			"read L3 0x12000[0] -> 0x12000: table could not be "
			"read\n"
			"beyond-oas L3 0x13000[2] -> 0x10000000000: output "
			"address beyond the output size\n"
			"shared L1 0x10000[300] -> 0x11000: table referenced "
			"twice\n");
	iopgt_inspect_free(insp);
	g_string_free(p.text, TRUE);
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

/* ---- the foreign op in the file's metadata ------------------------------- */

static const char *const lpae_names[] = {
	"arm-64-lpae-s1", "ARM_64_LPAE_S1", "arm-64-lpae-s2", "ARM_64_LPAE_S2",
	"arm-32-lpae-s1", "ARM_32_LPAE_S1", "arm-32-lpae-s2", "ARM_32_LPAE_S2",
	"arm-mali-lpae", "ARM_MALI_LPAE",
};

static void test_metadata_flag(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *so = g_build_filename(test_plugin_dir(),
					       "io-pgtable-arm.so", NULL);
	g_autofree char *dump = NULL;
	g_autofree char *why = NULL;
	struct iopgt_plugin_info *info = NULL;

	g_test_summary("Issue 15 item 1: the foreign op is advertised in the "
		       "plugin file's metadata: every LPAE name and alias "
		       "reads as walking foreign tables from the file, with "
		       "no plugin loaded; a name with no record is -ENOENT; "
		       "loaded, the formats agree with their records");
	(void)data;
	g_assert_cmpint(iopgt_plugin_info_read(so, &info, &why), ==, 0);
	g_assert_null(info->format_defaults_error);
	for (size_t i = 0; i < G_N_ELEMENTS(lpae_names); i++)
		g_assert_cmpint(iopgt_plugin_info_has_foreign(info,
							      lpae_names[i]),
				==, 1);
	g_assert_cmpint(iopgt_plugin_info_has_foreign(info, "arm-v7s"), ==,
			-ENOENT);
	g_assert_true(g_strv_contains((const char *const *)
				      info->format_defaults,
				      "arm-64-lpae-s1 48 48 0x40201000 "
				      "foreign"));
	iopgt_plugin_info_free(info);
	/* the public call reads the same from a scan, loading nothing */
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, test_plugin_dir()),
			==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), >=, 1);
	for (size_t i = 0; i < G_N_ELEMENTS(lpae_names); i++)
		g_assert_cmpint(iopgt_host_format_has_foreign(f->host,
							      lpae_names[i]),
				==, 1);
	g_assert_cmpint(iopgt_host_format_has_foreign(f->host, "arm-v7s"), ==,
			1);
	g_assert_cmpint(iopgt_host_format_has_foreign(f->host, "no-such"), ==,
			-ENOENT);
	/* nothing was loaded to learn it */
	g_assert_cmpint(iopgt_plugin_get_state(iopgt_host_find_plugin(
				f->host, "io-pgtable-arm")), !=,
			IOPGT_PLUGIN_LOADED);
	g_assert_false(fixture_is_mapped(so));
	/* and the formats register as their records say: no warning */
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, so, NULL), ==, 0);
	dump = log_capture_dump(&f->log);
	g_assert_null(strstr(dump, "foreign op"));
}

/* A copy of io-pgtable-arm.so in tmpdir with format's flags set to flags. */
static char *lpae_copy_with_flags(struct host_fixture *f, const char *format,
				  uint8_t flags)
{
	g_autofree char *src = g_build_filename(test_plugin_dir(),
						"io-pgtable-arm.so", NULL);
	g_autofree char *dir = g_build_filename(f->tmpdir, "flags", NULL);
	char *dst = g_build_filename(dir, "io-pgtable-arm.so", NULL);
	g_autofree char *image = NULL;
	const ElfW(Ehdr) *eh;
	const ElfW(Shdr) *sh;
	gsize len;
	bool done = false;

	g_assert_true(g_file_get_contents(src, &image, &len, NULL));
	eh = (const ElfW(Ehdr) *)(const void *)image;
	g_assert_cmpuint(eh->e_shoff + eh->e_shnum * sizeof(*sh), <=, len);
	sh = (const ElfW(Shdr) *)(const void *)(image + eh->e_shoff);
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		const char *name = image + sh[eh->e_shstrndx].sh_offset +
				   sh[i].sh_name;
		struct iopgt_format_info *rec;

		if (strcmp(name, IOPGT_FORMAT_INFO_SECTION))
			continue;
		rec = (struct iopgt_format_info *)(void *)(image +
							   sh[i].sh_offset);
		for (size_t r = 0; r < sh[i].sh_size / sizeof(*rec); r++) {
			if (strcmp(rec[r].name, format))
				continue;
			rec[r].flags = flags;
			done = true;
		}
	}
	g_assert_true(done);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(dst, image, (gssize)len, NULL));
	return dst;
}

static void test_metadata_cross_check(struct host_fixture *f,
				      gconstpointer data)
{
	g_autofree char *so = lpae_copy_with_flags(f, "arm-64-lpae-s2", 0);
	g_autofree char *want = g_strdup_printf(
		"warning: %s: format 'arm-64-lpae-s2' has a foreign op its "
		"metadata does not say (define it with "
		"IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN)", so);
	g_autofree char *dump = NULL;
	g_autofree char *why = NULL;
	struct iopgt_plugin_info *info = NULL;

	g_test_summary("Issue 15 item 1: a plugin whose file says a format "
		       "has no foreign op while the format registers one "
		       "loads, with a warning naming the file and the "
		       "format; only that format is named");
	(void)data;
	g_assert_cmpint(iopgt_plugin_info_read(so, &info, &why), ==, 0);
	g_assert_cmpint(iopgt_plugin_info_has_foreign(info, "arm-64-lpae-s2"),
			==, 0);
	g_assert_cmpint(iopgt_plugin_info_has_foreign(info, "ARM_64_LPAE_S1"),
			==, 1);
	iopgt_plugin_info_free(info);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, so, NULL), ==, 0);
	g_assert_cmpuint(host_fixture_count_logged(f, want), ==, 1);
	dump = log_capture_dump(&f->log);
	g_assert_null(strstr(dump, "'arm-64-lpae-s1' has a foreign op"));
	g_assert_cmpint(iopgt_host_unload_plugin(f->host, "io-pgtable-arm"),
			==, 0);
}

static void test_metadata_unknown_flag(struct host_fixture *f,
				       gconstpointer data)
{
	g_autofree char *so = lpae_copy_with_flags(f, "arm-mali-lpae", 0x03);
	g_autofree char *why = NULL;
	struct iopgt_plugin_info *info = NULL;

	g_test_summary("Issue 15 item 1: a record with a flag this host does "
		       "not know (a newer plugin's) voids the file's format "
		       "records with the reason, as any bad record does; the "
		       "rest of the metadata stands");
	(void)data;
	g_assert_cmpint(iopgt_plugin_info_read(so, &info, &why), ==, 0);
	g_assert_cmpstr(info->name, ==, "io-pgtable-arm");
	g_assert_nonnull(info->format_defaults);
	g_assert_null(info->format_defaults[0]);
	g_assert_true(g_str_has_prefix(info->format_defaults_error,
				       "bad .iopgt_fmt section: record "));
	g_assert_true(g_str_has_suffix(info->format_defaults_error,
				       ": unknown flags 0x03"));
	g_assert_cmpint(iopgt_plugin_info_has_foreign(info, "arm-mali-lpae"),
			==, -ENOENT);
	iopgt_plugin_info_free(info);
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
	host_test_add("/host/foreign/9724-tables", test_fan_small);
	host_test_add("/host/foreign/2^27-tables-stop-at-2^20", test_fan_over_cap);
	host_test_add("/host/foreign/core-with-holes", test_core_with_holes);
	g_test_add("/host/foreign/core32-with-holes", struct host_fixture,
		   "elf32", host_fixture_setup, test_core_with_holes,
		   host_fixture_teardown);
	host_test_add("/host/foreign/metadata-says-foreign-unloaded",
		      test_metadata_flag);
	host_test_add("/host/foreign/metadata-disagreeing-is-a-warning",
		      test_metadata_cross_check);
	host_test_add("/host/foreign/metadata-unknown-flag-voids-records",
		      test_metadata_unknown_flag);
	return g_test_run();
}
