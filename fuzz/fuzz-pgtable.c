// SPDX-License-Identifier: MIT
/*
 * fuzz-pgtable: map/unmap sequences on every format (arm-64-lpae-s1/s2,
 * arm-32-lpae-s1/s2, arm-mali-lpae, arm-v7s), each result checked against
 * a shadow model.
 *
 * Input: an 8-byte header that chooses the table, then 9-byte operations
 * (at most MAX_OPS; missing bytes read as 0):
 *
 *   h0  format (h0 % 6, in the order above)
 *   h1  page sizes, bits 0-7 of a mask over cand_sizes[] (with h2 bits 0-1;
 *       an empty mask takes the format's default bitmap)
 *   h2  bit 2: non-coherent walker; bits 3-4: window at the bottom, the
 *       top or the middle of the input range; bit 5: keep only the quirks
 *       the format accepts
 *   h3  ias, h4 oas: below 0xc0 one of addr_bits[], else the byte - 0xc0
 *   h5  quirks, bits 0-7 of a mask over quirk_bits[] (bit 8: h6 bit 0)
 *   h7  bits 0-1: the window is 1, 2, 4 or 8 of the largest page size
 *
 *   o0  bits 0-2: map_pages (0-2), unmap_pages (3, 4), iova_to_phys or
 *       read_and_clear_dirty (5), iopgt_pgtable_map (6),
 *       iopgt_pgtable_unmap (7);
 *       bit 3: flip iova bit o6 % 64 and paddr bit o7 % 64 (range checks,
 *       misalignment); bit 4: start at the previous operation's iova;
 *       bits 5-6: gather (none, fresh, queued, fresh) for unmaps, or for
 *       op 5 bit 5 = read_and_clear_dirty and bit 6 = IOMMU_DIRTY_NO_CLEAR;
 *       bit 7: paddr counted down from the top of oas
 *   o1  page size: below 0xf0 one of the table's sizes, else a raw one
 *   o2  page count: 1-4, 1-32, 1-961 or 0 (see op_count())
 *   o3-o5  iova, in pages of that size, modulo the window
 *   o6-o7  paddr, in pages of that size
 *   o8  prot: bits 0-5 IOMMU_* bits, bit 6 adds IOMMU_READ
 *
 * The model is the shared shadow model (tests/lib/pt-model.h), the same
 * the random format tests and iopgt-conformance use, given each format's
 * description (pt_desc_lpae, pt_desc_v7s): the argument checks in the
 * format's order, -EEXIST for a leaf at or above the target, LPAE's batch
 * stopping at the end of a table, v7s's page by page progress, a table
 * replaced by a block, an unmap that stops at a hole or refuses part of a
 * block, and iommu_map's page size split with its unmap on failure.
 *
 * Checked after every operation: its return value and mapped bytes, every
 * TLB callback's cookie, gather and range, and iova_to_phys at up to
 * PROBES_PER_OP points of its range and just outside it.  At the end: the
 * table walk equals the model entry for entry, every leaf translates at
 * an offset, and the register outputs can be described.  Then the table
 * is freed: no table memory may remain (LeakSanitizer checks the rest).
 * An -ENOMEM (FUZZ_MEM_LIMIT, or v7s tables out of reach) ends the
 * operations early: the model does not predict memory.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/bits.h>

#include "fuzz-host.h"
#include "pt-model.h"

#define MAX_OPS		128
/* an iopgt_pgtable_map predicted to write more entries is skipped */
#define MAX_ENTRIES	16384
#define PROBES_PER_OP	16
#define FINAL_PROBES	4096

/* ---- what the header chooses from --------------------------------------- */

static const struct {
	const char *name;
	unsigned long quirks;		/* what its alloc accepts */
	bool v7s;
} formats[] = {
	{ "arm-64-lpae-s1", IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_ARM_TTBR1 |
	  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA | IO_PGTABLE_QUIRK_ARM_HD |
	  IO_PGTABLE_QUIRK_NO_WARN, false },
	{ "arm-64-lpae-s2", IO_PGTABLE_QUIRK_ARM_S2FWB | IO_PGTABLE_QUIRK_NO_WARN,
	  false },
	{ "arm-32-lpae-s1", IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_ARM_TTBR1 |
	  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA | IO_PGTABLE_QUIRK_ARM_HD |
	  IO_PGTABLE_QUIRK_NO_WARN, false },
	{ "arm-32-lpae-s2", IO_PGTABLE_QUIRK_ARM_S2FWB | IO_PGTABLE_QUIRK_NO_WARN,
	  false },
	{ "arm-mali-lpae", 0, false },
	{ "arm-v7s", IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS |
	  IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
	  true },
};

static const unsigned long cand_sizes[] = {
	SZ_4K, SZ_16K, SZ_64K, SZ_1M, SZ_2M, SZ_16M, SZ_32M, SZ_512M, SZ_1G,
	1UL << 42,
};

/* 0: the format's default */
static const unsigned int addr_bits[] = {
	0, 32, 40, 48, 36, 44, 42, 52, 39, 34, 35, 33, 30, 20, 47, 49, 24,
	21, 38, 41,
};

static const unsigned long quirk_bits[] = {
	IO_PGTABLE_QUIRK_ARM_NS, IO_PGTABLE_QUIRK_NO_PERMS,
	IO_PGTABLE_QUIRK_ARM_MTK_EXT, IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
	IO_PGTABLE_QUIRK_ARM_TTBR1, IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
	IO_PGTABLE_QUIRK_ARM_HD, IO_PGTABLE_QUIRK_ARM_S2FWB,
	IO_PGTABLE_QUIRK_NO_WARN,
};

/* page sizes no table offers, or not powers of two */
static const unsigned long raw_sizes[] = {
	0, 1, 0x3000, SZ_4K, SZ_16K, SZ_64K, SZ_1M, SZ_2M, SZ_16M, SZ_32M,
	SZ_512M, SZ_1G, 2 * SZ_1G, 1UL << 42, 1UL << 63, ~0UL,
};

/* ---- reading the input --------------------------------------------------- */

static unsigned int addr_size(uint8_t v)
{
	return v < 0xc0 ? addr_bits[v % G_N_ELEMENTS(addr_bits)] : v - 0xc0u;
}

/* ---- the model: the shared one, with the format's description ------------ */

static void model_init(struct pt_model *m, struct iopgt_pgtable *pgt,
		       bool v7s)
{
	struct pt_model_desc desc;
	size_t pgd_bytes = 0;
	int pgd_level = -1;

	if (v7s) {
		pt_desc_v7s(&desc, &pgt->cfg);
	} else {
		FUZZ_CHECK(pgt->cfg.pgsize_bitmap & (SZ_4K | SZ_16K | SZ_64K),
			   "no granule in 0x%lx", pgt->cfg.pgsize_bitmap);
		FUZZ_CHECK(pt_root_geometry(&pgt->ops, &pgd_level,
					    &pgd_bytes) == 0);
		FUZZ_CHECK(pt_desc_lpae(&desc, &pgt->cfg, pgd_level,
					pgd_bytes) == 0,
			   "level %d pgd of %zu bytes for ias %u", pgd_level,
			   pgd_bytes, pgt->cfg.ias);
	}
	pt_model_init(m, &desc);
}

/* ---- the run ------------------------------------------------------------- */

struct run {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	struct pt_model m;
	bool v7s;
	unsigned long granule;
	unsigned long win_lo, win_span;
	unsigned long prev_iova;
	/* the operation in progress, for the TLB checks */
	unsigned long op_lo, op_len;
	struct iopgt_iotlb_gather *op_gather;
	unsigned int flush_all;
	/* read_and_clear_dirty in progress */
	unsigned long dirty_lo, dirty_len;
};

/* The run in progress: every TLB callback must get it as its cookie. */
static struct run *current_run;

static struct run *cookie_run(void *cookie)
{
	FUZZ_CHECK(cookie && cookie == current_run, "TLB cookie %p, the "
		   "table's is %p", cookie, (void *)current_run);
	return cookie;
}

static bool in_op(const struct run *r, unsigned long iova)
{
	return iova - r->op_lo < r->op_len;
}

static void tlb_flush_all(void *cookie)
{
	cookie_run(cookie)->flush_all++;
}

static void tlb_flush_walk(unsigned long iova, size_t size, size_t granule,
			   void *cookie)
{
	struct run *r = cookie_run(cookie);

	FUZZ_CHECK(!r->flush_all, "flush_walk after flush_all");
	FUZZ_CHECK(size && granule && in_op(r, iova),
		   "flush_walk 0x%lx size 0x%zx outside the op [0x%lx +0x%lx)",
		   iova, size, r->op_lo, r->op_len);
}

static void tlb_add_page(struct iopgt_iotlb_gather *gather,
			 unsigned long iova, size_t granule, void *cookie)
{
	struct run *r = cookie_run(cookie);

	FUZZ_CHECK(gather == r->op_gather, "add_page with another gather");
	FUZZ_CHECK(!gather || !gather->queued, "add_page on a queued gather");
	FUZZ_CHECK(granule && in_op(r, iova),
		   "add_page 0x%lx outside the op [0x%lx +0x%lx)", iova,
		   r->op_lo, r->op_len);
}

static const struct iopgt_flush_ops tlb_ops = {
	.tlb_flush_all = tlb_flush_all,
	.tlb_flush_walk = tlb_flush_walk,
	.tlb_add_page = tlb_add_page,
};

static void probe(struct run *r, unsigned long iova)
{
	uint64_t got = iopgt_pgtable_iova_to_phys(r->host, r->pgt, iova);
	uint64_t want = pt_model_iova_to_phys(&r->m, iova);

	FUZZ_CHECK(got == want, "iova_to_phys(0x%lx) = 0x%" G_GINT64_MODIFIER
		   "x, the model says 0x%" G_GINT64_MODIFIER "x", iova, got,
		   want);
}

/* Up to PROBES_PER_OP points of [lo, lo + len), and just outside it. */
static void probe_range(struct run *r, unsigned long lo, unsigned long len)
{
	unsigned long pages = len / r->granule;
	unsigned long step = pages > PROBES_PER_OP ? pages / PROBES_PER_OP : 1;

	probe(r, lo - 1);
	probe(r, lo + len);
	if (!pages)
		probe(r, lo);
	for (unsigned long i = 0; i < pages; i += step) {
		unsigned long off = (i * 0x9e3779b1UL) & (r->granule - 1);

		probe(r, lo + i * r->granule + off);
	}
	if (pages)
		probe(r, lo + len - 1);
}

/* ---- the end: walk and model agree --------------------------------------- */

struct walk_check {
	const struct pt_model *m;
	unsigned long leaves, tables;
};

static int check_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct walk_check *w = data;
	char *why = pt_model_check_entry(w->m, e);

	FUZZ_CHECK(!why, "%s", why);
	if (e->kind == IOPGT_ENTRY_TABLE)
		w->tables++;
	else
		w->leaves++;
	return 0;
}

struct leaf_probe {
	struct run *r;
	unsigned long seen, stride;
};

static void probe_leaf(void *data, int lvl, unsigned long iova,
		       const struct pt_slot *s)
{
	struct leaf_probe *lp = data;
	const struct pt_model *m = &lp->r->m;

	if (s->kind != PT_SLOT_LEAF || lp->seen++ % lp->stride)
		return;
	probe(lp->r, iova + ((iova * 0x9e3779b1UL + lvl) &
			     (pt_model_block(m, lvl) - 1)));
}

static void check_reg(void *data, const char *name, uint64_t value)
{
	(void)value;
	FUZZ_CHECK(name && *name);
	(*(unsigned int *)data)++;
}

static void check_all(struct run *r)
{
	static const struct iopgt_walk_ops visit = { .entry = check_entry };
	struct walk_check w = { .m = &r->m };
	struct leaf_probe lp = { .r = r };
	unsigned int regs = 0;

	FUZZ_CHECK(iopgt_pgtable_walk(r->host, r->pgt, &visit, &w) == 0);
	FUZZ_CHECK(w.leaves == r->m.leaves && w.tables == r->m.tables,
		   "the walk has %lu leaves and %lu tables, the model %lu "
		   "and %lu", w.leaves, w.tables, r->m.leaves, r->m.tables);
	lp.stride = r->m.leaves / FINAL_PROBES + 1;
	pt_model_foreach(&r->m, probe_leaf, &lp);
	iopgt_pgtable_describe_regs(r->host, r->pgt, check_reg, &regs);
	FUZZ_CHECK(regs, "no register outputs");
}

/* ---- decoding one operation ---------------------------------------------- */

static size_t op_count(uint8_t v)
{
	if (v == 0xff)
		return 0;
	if (v >= 0xe0)
		return 1 + ((size_t)(v & 0x1f) << 5);
	if (v >= 0x80)
		return 1 + (v & 0x1f);
	return 1 + (v & 3);
}

/* The sel-th size of the table's bitmap, or a raw one. */
static size_t op_pgsize(const struct run *r, uint8_t sel)
{
	unsigned long b = r->m.d.pgsize_bitmap;
	unsigned int k = __builtin_popcountl(b);

	if (sel >= 0xf0 || !k)
		return raw_sizes[sel & 15];
	for (unsigned int i = sel % k; i; i--)
		b &= b - 1;
	return b & -b;
}

struct op {
	unsigned int kind;
	unsigned long iova;
	uint64_t pa;
	size_t pgsize, count;
	int prot;
	struct iopgt_iotlb_gather *gather;
	bool dirty, no_clear;
};

static void op_decode(struct run *r, struct fuzz_input *in, struct op *op,
		      struct iopgt_iotlb_gather *gather)
{
	uint8_t o0 = fuzz_get8(in), o1 = fuzz_get8(in), o2 = fuzz_get8(in);
	uint32_t vidx = fuzz_get8(in) | fuzz_get8(in) << 8 | fuzz_get8(in) << 16;
	uint8_t o6 = fuzz_get8(in), o7 = fuzz_get8(in), o8 = fuzz_get8(in);
	uint64_t pidx = o6 | o7 << 8;
	uint64_t pa_limit = 1ULL << MIN(r->m.d.oas, 63u);
	unsigned long unit;

	op->kind = o0 & 7;
	op->pgsize = op_pgsize(r, o1);
	op->count = op_count(o2);
	op->prot = (o8 & 0x3f) | (o8 & 0x40 ? IOMMU_READ : 0);

	/* in pages of the size when it is one, else of the granule */
	unit = op->pgsize && !(op->pgsize & (op->pgsize - 1)) &&
	       op->pgsize <= r->win_span ? op->pgsize : r->granule;
	if (o0 & 0x10)
		op->iova = r->prev_iova & ~(unit - 1);
	else
		op->iova = r->win_lo + ((vidx * unit) & (r->win_span - 1));
	if (o0 & 0x80)
		op->pa = (pa_limit - (pidx + 1) * unit) & (pa_limit - 1);
	else
		op->pa = (pidx * unit) & (pa_limit - 1);
	if (o0 & 0x08) {
		op->iova ^= 1UL << (o6 & 63);
		op->pa ^= 1ULL << (o7 & 63);
	}

	switch ((o0 >> 5) & 3) {
	case 0:
		op->gather = NULL;
		break;
	case 2:
		*gather = (struct iopgt_iotlb_gather){ .queued = true };
		op->gather = gather;
		break;
	default:
		*gather = (struct iopgt_iotlb_gather){ .start = ~0UL };
		op->gather = gather;
		break;
	}
	op->dirty = o0 & 0x20;
	op->no_clear = o0 & 0x40;
}

static unsigned long sat_mul(size_t a, size_t b)
{
	size_t p;

	return __builtin_mul_overflow(a, b, &p) ? ~0UL : p;
}

/* ---- running one operation on both --------------------------------------- */

static void dirty_record(struct iopgt_dirty_bitmap *dirty, unsigned long iova,
			 size_t size)
{
	struct run *r = dirty->data;

	FUZZ_CHECK(size && iova - r->dirty_lo < r->dirty_len,
		   "dirty record 0x%lx outside [0x%lx +0x%lx)", iova,
		   r->dirty_lo, r->dirty_len);
}

static void op_dirty(struct run *r, const struct op *op)
{
	struct iopgt_iotlb_gather g = { .start = ~0UL };
	struct iopgt_dirty_bitmap dirty = {
		.record = dirty_record,
		.gather = &g,
		.data = r,
	};
	size_t size = sat_mul(op->pgsize, op->count);
	int ret;

	r->dirty_lo = op->iova;
	r->dirty_len = size;
	ret = iopgt_pgtable_read_and_clear_dirty(r->host, r->pgt, op->iova,
						 size, op->no_clear ?
						 IOMMU_DIRTY_NO_CLEAR : 0,
						 &dirty);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -EOPNOTSUPP,
		   "read_and_clear_dirty: %d", ret);
	probe_range(r, op->iova, size);
}

/* Returns: false when the table ran out of memory (the run ends). */
static bool op_run(struct run *r, const struct op *op)
{
	size_t len = sat_mul(op->pgsize, op->count);
	size_t mapped = 0, want_mapped = 0, got, want;
	int ret, want_ret;

	FUZZ_TRACE("op %u: iova 0x%lx pa 0x%" G_GINT64_MODIFIER "x pgsize 0x%zx x "
	      "%zu prot 0x%x gather %s%s\n", op->kind, op->iova, op->pa,
	      op->pgsize, op->count, op->prot,
	      op->gather ? (op->gather->queued ? "queued" : "fresh") : "none",
	      op->kind == 5 && op->dirty ? " dirty" : "");

	r->op_lo = op->iova;
	r->op_len = len;
	/* a map passes no gather, even to the unmap of a failed iommu_map */
	r->op_gather = op->kind == 3 || op->kind == 4 || op->kind == 7 ?
		       op->gather : NULL;

	switch (op->kind) {
	case 0:
	case 1:
	case 2:
		ret = iopgt_pgtable_map_pages(r->host, r->pgt, op->iova,
					      op->pa, op->pgsize, op->count,
					      op->prot, &mapped);
		if (ret == -ENOMEM)
			return false;
		want_ret = pt_model_map(&r->m, op->iova, op->pa, op->pgsize,
					op->count, op->prot, &want_mapped);
		FUZZ_TRACE("  map_pages: %d, mapped 0x%zx\n", ret, mapped);
		FUZZ_CHECK(ret == want_ret && mapped == want_mapped,
			   "map_pages(0x%lx, 0x%" G_GINT64_MODIFIER "x, 0x%zx "
			   "x %zu, prot 0x%x) = %d mapped 0x%zx, the model "
			   "says %d mapped 0x%zx", op->iova, op->pa,
			   op->pgsize, op->count, op->prot, ret, mapped,
			   want_ret, want_mapped);
		break;
	case 3:
	case 4:
		got = iopgt_pgtable_unmap_pages(r->host, r->pgt, op->iova,
						op->pgsize, op->count,
						op->gather);
		want = pt_model_unmap(&r->m, op->iova, op->pgsize, op->count);
		FUZZ_TRACE("  unmap_pages: 0x%zx\n", got);
		FUZZ_CHECK(got == want, "unmap_pages(0x%lx, 0x%zx x %zu) = "
			   "0x%zx, the model says 0x%zx", op->iova,
			   op->pgsize, op->count, got, want);
		break;
	case 5:
		if (op->dirty) {
			op_dirty(r, op);
			return true;
		}
		probe(r, op->iova + (op->pa & (r->granule - 1)));
		break;
	case 6:
		/* only what runs in milliseconds */
		if (pt_model_iommu_map_cost(&r->m, op->iova, op->pa, len,
					    MAX_ENTRIES) > MAX_ENTRIES)
			return true;
		ret = iopgt_pgtable_map(r->host, r->pgt, op->iova, op->pa, len,
					op->prot);
		if (ret == -ENOMEM)
			return false;
		want_ret = pt_model_iommu_map(&r->m, op->iova, op->pa, len,
					      op->prot);
		FUZZ_TRACE("  iopgt_pgtable_map 0x%zx: %d\n", len, ret);
		FUZZ_CHECK(ret == want_ret, "iopgt_pgtable_map(0x%lx, 0x%"
			   G_GINT64_MODIFIER "x, 0x%zx, prot 0x%x) = %d, the "
			   "model says %d", op->iova, op->pa, len, op->prot,
			   ret, want_ret);
		break;
	default:
		got = iopgt_pgtable_unmap(r->host, r->pgt, op->iova, len,
					  op->gather);
		want = pt_model_iommu_unmap(&r->m, op->iova, len);
		FUZZ_TRACE("  iopgt_pgtable_unmap 0x%zx: 0x%zx\n", len, got);
		FUZZ_CHECK(got == want, "iopgt_pgtable_unmap(0x%lx, 0x%zx) = "
			   "0x%zx, the model says 0x%zx", op->iova, len, got,
			   want);
		break;
	}
	probe_range(r, op->iova, len);
	return true;
}

/* ---- the table ----------------------------------------------------------- */

static void cfg_decode(struct iopgt_host *host, struct fuzz_input *in,
		       unsigned int fmt, struct iopgt_cfg *cfg)
{
	uint8_t h1 = fuzz_get8(in), h2 = fuzz_get8(in), h3 = fuzz_get8(in), h4 = fuzz_get8(in);
	uint8_t h5 = fuzz_get8(in), h6 = fuzz_get8(in);
	unsigned int sizes = h1 | (h2 & 3) << 8;
	unsigned int quirks = h5 | (h6 & 1) << 8;
	struct iopgt_cfg def = { 0 };

	FUZZ_CHECK(iopgt_host_get_format_defaults(host, formats[fmt].name,
						  &def) == 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cand_sizes); i++)
		if (sizes & (1u << i))
			cfg->pgsize_bitmap |= cand_sizes[i];
	if (!cfg->pgsize_bitmap)
		cfg->pgsize_bitmap = def.pgsize_bitmap;
	cfg->ias = addr_size(h3);
	cfg->oas = addr_size(h4);
	if (!cfg->ias)
		cfg->ias = def.ias;
	if (!cfg->oas)
		cfg->oas = def.oas;
	for (size_t i = 0; i < G_N_ELEMENTS(quirk_bits); i++)
		if (quirks & (1u << i))
			cfg->quirks |= quirk_bits[i];
	if (h2 & 0x20)
		cfg->quirks &= formats[fmt].quirks;
	cfg->coherent_walk = !(h2 & 0x04);
	cfg->tlb = &tlb_ops;
}

/* A window of 1-8 of the largest pages at the bottom, top or middle. */
static void window_init(struct run *r, uint8_t h2, uint8_t h7)
{
	unsigned long big = 1UL << (63 - __builtin_clzl(r->m.d.pgsize_bitmap));
	unsigned long range = 1UL << r->m.d.ias;
	unsigned long base = r->m.d.upper ? ~0UL << r->m.d.ias : 0;

	r->win_span = MIN(big << (h7 & 3), range);
	switch ((h2 >> 3) & 3) {
	case 1:
		r->win_lo = base + range - r->win_span;
		break;
	case 2:
		r->win_lo = base + range / 2 - r->win_span / 2;
		break;
	default:
		r->win_lo = base;
		break;
	}
	r->prev_iova = r->win_lo;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct run r = { 0 };
	struct iopgt_cfg cfg = { 0 }, asked;
	struct iopgt_mem_stats st;
	unsigned int fmt = fuzz_get8(&in) % G_N_ELEMENTS(formats);
	uint8_t h2 = size > 2 ? data[2] : 0, h7 = size > 7 ? data[7] : 0;
	int ret;

	current_run = &r;
	r.host = fuzz_host_new(NULL, NULL);
	r.v7s = formats[fmt].v7s;
	cfg_decode(r.host, &in, fmt, &cfg);
	fuzz_get8(&in);	/* h7, read above */
	asked = cfg;
	ret = iopgt_pgtable_new(r.host, formats[fmt].name, &cfg, &r, &r.pgt);
	FUZZ_TRACE("%s pgsizes 0x%lx ias %u oas %u quirks 0x%lx coherent %d: %d\n",
	      formats[fmt].name, asked.pgsize_bitmap, asked.ias, asked.oas,
	      asked.quirks, asked.coherent_walk, ret);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM, "alloc: %d", ret);
		iopgt_host_get_mem_stats(r.host, &st);
		FUZZ_CHECK(st.table_bytes == 0 && st.state_bytes == 0,
			   "a failed alloc kept memory");
		fuzz_host_free(r.host);
		current_run = NULL;
		return 0;
	}
	/* alloc narrows the cfg, never widens it */
	FUZZ_CHECK(!(r.pgt->cfg.pgsize_bitmap & ~asked.pgsize_bitmap) &&
		   r.pgt->cfg.ias <= asked.ias && r.pgt->cfg.oas <= asked.oas,
		   "cfg 0x%lx/%u/%u from 0x%lx/%u/%u",
		   r.pgt->cfg.pgsize_bitmap, r.pgt->cfg.ias, r.pgt->cfg.oas,
		   asked.pgsize_bitmap, asked.ias, asked.oas);

	model_init(&r.m, r.pgt, r.v7s);
	r.granule = r.m.d.pgsize_bitmap & -r.m.d.pgsize_bitmap;
	/* v7s keeps no size it does not know: then nothing can be mapped */
	if (r.granule)
		window_init(&r, h2, h7);
	FUZZ_TRACE("levels %d-%d, window [0x%lx +0x%lx)\n", r.m.d.first, r.m.d.last,
	      r.win_lo, r.win_span);

	for (unsigned int i = 0; r.granule && i < MAX_OPS && in.n; i++) {
		struct iopgt_iotlb_gather gather;
		struct op op = { 0 };

		op_decode(&r, &in, &op, &gather);
		if (!op_run(&r, &op))
			break;
		r.prev_iova = op.iova;
	}
	r.op_len = 0;
	check_all(&r);
	FUZZ_TRACE("end: %lu leaves, %lu tables\n", r.m.leaves, r.m.tables);

	iopgt_pgtable_free(r.host, r.pgt);
	FUZZ_CHECK(r.flush_all == 1, "flush_all %u times", r.flush_all);
	iopgt_host_get_mem_stats(r.host, &st);
	FUZZ_CHECK(st.table_bytes == 0 && st.state_bytes == 0,
		   "freed table kept %" G_GUINT64_FORMAT " table bytes, %"
		   G_GUINT64_FORMAT " state bytes", st.table_bytes,
		   st.state_bytes);
	fuzz_host_free(r.host);
	pt_model_clear(&r.m);
	current_run = NULL;
	return 0;
}
