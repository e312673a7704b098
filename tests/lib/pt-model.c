// SPDX-License-Identifier: MIT
/*
 * The shadow model (pt-model.h).  Every rule that differs between formats
 * is a test of m->d.rules or m->d.map_checks; nothing here knows a format.
 */
#include <errno.h>
#include <string.h>

#include <iopgt/bits.h>

#include "pt-model.h"

#define KEY_LVL_SHIFT	60

static bool rule(const struct pt_model *m, unsigned int r)
{
	return m->d.rules & r;
}

static guint key_hash(gconstpointer k)
{
	uint64_t x = GPOINTER_TO_SIZE(k);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (guint)x;
}

static gpointer key(const struct pt_model *m, int lvl, unsigned long iova)
{
	return GSIZE_TO_POINTER(((uint64_t)lvl << KEY_LVL_SHIFT) |
				((iova & m->va_mask) >> m->d.shift[lvl]));
}

void pt_model_init(struct pt_model *m, const struct pt_model_desc *desc)
{
	unsigned int top = desc->shift[desc->first] + desc->bits[desc->first];

	*m = (struct pt_model){ .d = *desc };
	m->slots = g_hash_table_new_full(key_hash, g_direct_equal, NULL,
					 g_free);
	m->va_mask = top >= 64 ? ~0UL : (1UL << top) - 1;
}

void pt_model_clear(struct pt_model *m)
{
	g_clear_pointer(&m->slots, g_hash_table_unref);
}

const struct pt_slot *pt_model_slot(const struct pt_model *m, int lvl,
				    unsigned long iova)
{
	return g_hash_table_lookup(m->slots, key(m, lvl, iova));
}

static struct pt_slot *slot_get(const struct pt_model *m, int lvl,
				unsigned long iova)
{
	return g_hash_table_lookup(m->slots, key(m, lvl, iova));
}

static void slot_new(struct pt_model *m, int lvl, unsigned long iova,
		     enum pt_slot_kind kind, uint64_t pa, unsigned int cont)
{
	struct pt_slot *s = g_new0(struct pt_slot, 1);

	s->kind = kind;
	s->pa = pa;
	s->cont = cont;
	g_hash_table_insert(m->slots, key(m, lvl, iova), s);
	if (lvl > m->d.first)
		slot_get(m, lvl - 1, iova)->children++;
	if (kind == PT_SLOT_LEAF)
		m->leaves++;
	else
		m->tables++;
}

static void slot_del(struct pt_model *m, int lvl, unsigned long iova);

/* A table goes: everything below it goes with it (no TLB call of its own). */
static void drop_children(struct pt_model *m, int lvl, unsigned long iova)
{
	struct pt_slot *t = slot_get(m, lvl, iova);
	unsigned long base = iova & ~(pt_model_block(m, lvl) - 1);
	unsigned long n = 1UL << m->d.bits[lvl + 1];

	for (unsigned long i = 0; i < n && t->children; i++) {
		unsigned long va = base + (i << m->d.shift[lvl + 1]);

		if (slot_get(m, lvl + 1, va))
			slot_del(m, lvl + 1, va);
	}
}

static void slot_del(struct pt_model *m, int lvl, unsigned long iova)
{
	struct pt_slot *s = slot_get(m, lvl, iova);

	if (s->kind == PT_SLOT_TABLE) {
		drop_children(m, lvl, iova);
		m->tables--;
	} else {
		m->leaves--;
	}
	if (lvl > m->d.first)
		slot_get(m, lvl - 1, iova)->children--;
	g_hash_table_remove(m->slots, key(m, lvl, iova));
}

/* Unmap or map removed the slot: count what the TLB must hear about. */
static void slot_remove(struct pt_model *m, int lvl, unsigned long iova)
{
	if (slot_get(m, lvl, iova)->kind == PT_SLOT_TABLE)
		m->stats.tables_removed++;
	else
		m->stats.leaf_entries_removed++;
	slot_del(m, lvl, iova);
}

/* PT_RECLAIMS_TABLES: empty tables above (lvl, iova) go, bottom up. */
static void reclaim_up(struct pt_model *m, int lvl, unsigned long iova)
{
	for (int l = lvl - 1; l >= m->d.first && rule(m, PT_RECLAIMS_TABLES);
	     l--) {
		struct pt_slot *t = slot_get(m, l, iova);

		if (!t || t->kind != PT_SLOT_TABLE || t->children)
			return;
		slot_remove(m, l, iova);
	}
}

uint64_t pt_model_iova_to_phys(const struct pt_model *m, unsigned long iova)
{
	for (int l = m->d.first; l <= m->d.last; l++) {
		const struct pt_slot *s = slot_get(m, l, iova);

		if (!s)
			return 0;
		if (s->kind == PT_SLOT_LEAF)
			return s->pa + (iova & (pt_model_block(m, l) - 1));
	}
	return 0;
}

/* ---- geometry ------------------------------------------------------------ */

int pt_model_level(const struct pt_model *m, size_t pgsize,
		   unsigned int *entries)
{
	if (!pgsize || (pgsize & (pgsize - 1)) ||
	    !(pgsize & m->d.pgsize_bitmap))
		return -1;
	/* an entry of a level, or a run of the deepest level's below it */
	for (int l = m->d.last; l >= m->d.first; l--) {
		unsigned long blk = pt_model_block(m, l);

		if (blk > pgsize)
			return -1;
		if (blk == pgsize ||
		    ((pgsize & m->d.cont_bitmap) &&
		     (l == m->d.first || pt_model_block(m, l - 1) > pgsize))) {
			*entries = pgsize / blk;
			return l;
		}
	}
	return -1;
}

static bool in_range(const struct pt_model *m, unsigned long iova)
{
	if (m->d.ias >= 64)
		return true;
	return ((long)iova >> m->d.ias) == (m->d.upper ? -1L : 0L);
}

/* Pages of pgsize (entries each) from iova to the end of its table. */
static size_t batch(const struct pt_model *m, unsigned long iova, int lvl,
		    unsigned int entries, size_t count)
{
	unsigned long e = 1UL << m->d.batch_bits[lvl];
	size_t n = (e - ((iova >> m->d.shift[lvl]) & (e - 1))) / entries;

	return MIN(n, count);
}

/* Would count pages of 2^shift from start run past 2^bits? */
static bool past(uint64_t start, size_t count, unsigned int shift,
		 unsigned int bits)
{
	uint64_t limit = bits >= 64 ? ~0ULL : 1ULL << bits;

	return start > limit || count > (limit - start) >> shift;
}

/* ---- map ----------------------------------------------------------------- */

static int check_map_args(const struct pt_model *m, unsigned long iova,
			  uint64_t pa, size_t pgsize, size_t count, int prot,
			  size_t n)
{
	unsigned int entries;
	int lvl = pt_model_level(m, pgsize, &entries);

	for (const enum pt_check *c = m->d.map_checks; *c; c++) {
		switch (*c) {
		case PT_CHECK_PGSIZE:
			if (!pgsize || (pgsize & (pgsize - 1)) ||
			    !(pgsize & m->d.pgsize_bitmap))
				return -EINVAL;
			break;
		case PT_CHECK_START:
			if (!in_range(m, iova) ||
			    (m->d.oas < 64 && pa >> m->d.oas))
				return -ERANGE;
			break;
		case PT_CHECK_PROT:
			if (!(prot & (IOMMU_READ | IOMMU_WRITE)))
				return -EINVAL;
			break;
		case PT_CHECK_COUNT:
			if (!count)
				return -EINVAL;
			break;
		case PT_CHECK_ALIGN:
			if (lvl < 0 || ((iova | pa) & (pgsize - 1)))
				return -EINVAL;
			break;
		case PT_CHECK_END:
			if (rule(m, PT_RANGE_CHECKS_WHOLE_COUNT)) {
				unsigned int sh = __builtin_ctzl(pgsize);

				if (past(iova & m->va_mask, count, sh,
					 m->d.ias) ||
				    past(pa, count, sh, m->d.oas))
					return -ERANGE;
			} else if (m->d.oas < 64 &&
				   (pa + n * pgsize - 1) >> m->d.oas) {
				return -ERANGE;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Tables down to lvl; a leaf on the way is -EEXIST. */
static int descend(struct pt_model *m, unsigned long iova, int lvl)
{
	for (int l = m->d.first; l < lvl; l++) {
		struct pt_slot *s = slot_get(m, l, iova);

		if (!s)
			slot_new(m, l, iova, PT_SLOT_TABLE, 0, 0);
		else if (s->kind == PT_SLOT_LEAF)
			return -EEXIST;
	}
	return 0;
}

static bool slot_taken(const struct pt_model *m, int lvl, unsigned long iova)
{
	const struct pt_slot *s = slot_get(m, lvl, iova);

	return s && (s->kind == PT_SLOT_LEAF ||
		     !rule(m, PT_MAP_BLOCK_REPLACES_TABLE));
}

/* pages pages of entries entries at lvl: -EEXIST, or all written. */
static int map_chunk(struct pt_model *m, unsigned long iova, uint64_t pa,
		     int lvl, unsigned int entries, size_t pages)
{
	unsigned long blk = pt_model_block(m, lvl);
	size_t n = pages * entries;
	int ret = descend(m, iova, lvl);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (slot_taken(m, lvl, iova + i * blk))
			return -EEXIST;
	for (size_t i = 0; i < n; i++) {
		unsigned long va = iova + i * blk;

		if (slot_get(m, lvl, va))
			slot_remove(m, lvl, va);
		slot_new(m, lvl, va, PT_SLOT_LEAF, pa + i * blk, entries);
	}
	return 0;
}

int pt_model_map(struct pt_model *m, unsigned long iova, uint64_t pa,
		 size_t pgsize, size_t count, int prot, size_t *mapped)
{
	unsigned int entries = 1;
	int lvl = pt_model_level(m, pgsize, &entries);
	size_t n = count, chunk;
	int ret;

	if (lvl >= 0 && rule(m, PT_MAP_STOPS_AT_TABLE_END))
		n = batch(m, iova, lvl, entries, count);
	ret = check_map_args(m, iova, pa, pgsize, count, prot, n);
	if (ret)
		return ret;
	if (lvl < 0 || !count)
		return -EINVAL;	/* a description without those checks */
	chunk = rule(m, PT_MAP_CHECKS_BATCH_FIRST) ? n : 1;
	for (size_t done = 0; done < n; done += chunk) {
		ret = map_chunk(m, iova + done * pgsize, pa + done * pgsize,
				lvl, entries, chunk);
		if (ret)
			return ret;
		*mapped += chunk * pgsize;
	}
	return 0;
}

/* ---- unmap --------------------------------------------------------------- */

/* PT_UNMAP_SPLITS_BLOCKS: a leaf at lvl becomes a table of lvl + 1 leaves
 * (a contiguous run of them becomes single entries first). */
static void split(struct pt_model *m, int lvl, unsigned long iova)
{
	unsigned long blk = pt_model_block(m, lvl);
	struct pt_slot *s = slot_get(m, lvl, iova);
	unsigned long base = iova & ~(blk - 1);
	uint64_t pa = s->pa;

	if (s->cont > 1) {
		unsigned long first = iova & ~(blk * s->cont - 1);

		for (unsigned int i = 0; i < s->cont; i++)
			slot_get(m, lvl, first + i * blk)->cont = 1;
		return;
	}
	slot_del(m, lvl, iova);
	slot_new(m, lvl, base, PT_SLOT_TABLE, 0, 0);
	for (unsigned long i = 0; i < 1UL << m->d.bits[lvl + 1]; i++) {
		unsigned long sub = pt_model_block(m, lvl + 1);

		slot_new(m, lvl + 1, base + i * sub, PT_SLOT_LEAF,
			 pa + i * sub, 1);
	}
}

/* One page of entries entries at lvl.  Returns: false at a hole or at
 * part of a block the format will not split. */
static bool unmap_one(struct pt_model *m, unsigned long iova, int lvl,
		      unsigned int entries)
{
	unsigned long blk = pt_model_block(m, lvl);
	struct pt_slot *s;

	for (int l = m->d.first; l < lvl; l++) {
		s = slot_get(m, l, iova);
		if (!s)
			return false;
		while (s->kind == PT_SLOT_LEAF) {
			if (!rule(m, PT_UNMAP_SPLITS_BLOCKS))
				return false;
			split(m, l, iova);
			s = slot_get(m, l, iova);
		}
	}
	for (unsigned int i = 0; i < entries; i++)
		if (!slot_get(m, lvl, iova + i * blk))
			return false;
	s = slot_get(m, lvl, iova);
	if (s->kind == PT_SLOT_LEAF && s->cont > entries) {
		if (!rule(m, PT_UNMAP_SPLITS_BLOCKS))
			return false;
		split(m, lvl, iova);
	}
	for (unsigned int i = 0; i < entries; i++)
		slot_remove(m, lvl, iova + i * blk);
	reclaim_up(m, lvl, iova);
	return true;
}

size_t pt_model_unmap(struct pt_model *m, unsigned long iova, size_t pgsize,
		      size_t count)
{
	unsigned int entries = 1;
	int lvl = pt_model_level(m, pgsize, &entries);
	size_t n = count, i;

	if (lvl < 0 || (iova & (pgsize - 1)) || !count || !in_range(m, iova))
		return 0;
	if (rule(m, PT_RANGE_CHECKS_WHOLE_COUNT) &&
	    past(iova & m->va_mask, count, __builtin_ctzl(pgsize), m->d.ias))
		return 0;
	if (rule(m, PT_UNMAP_STOPS_AT_TABLE_END))
		n = batch(m, iova, lvl, entries, count);
	for (i = 0; i < n; i++)
		if (!unmap_one(m, iova + i * pgsize, lvl, entries))
			break;
	return i * pgsize;
}

/* ---- iommu_map / iommu_unmap --------------------------------------------- */

/*
 * Linux's iommu_pgsize(): the largest offered size that fits the rest of
 * the range and the alignment of both addresses, and how many of it to
 * map before the next larger size could start.
 */
static size_t pick_pgsize(unsigned long bitmap, unsigned long iova,
			  uint64_t pa, size_t size, size_t *count)
{
	unsigned int top = 63 - __builtin_clzl(size);
	unsigned long fits = top == 63 ? ~0UL : (2UL << top) - 1;
	uint64_t align = iova | pa;
	unsigned long cand = bitmap & fits, pg, larger;

	if (align)
		cand &= (align & -align) | ((align & -align) - 1);
	if (!cand)
		return 0;
	pg = 1UL << (63 - __builtin_clzl(cand));
	larger = bitmap & ~(pg | (pg - 1));
	if (larger) {
		unsigned long next = larger & -larger;

		if (!((iova ^ pa) & (next - 1)) &&
		    next - (iova & (next - 1)) < size)
			size = next - (iova & (next - 1));
	}
	*count = size / pg;
	return pg;
}

size_t pt_model_iommu_map_cost(const struct pt_model *m, unsigned long iova,
			       uint64_t pa, size_t size, size_t limit)
{
	size_t done = 0, entries = 0;

	while (done < size && entries <= limit) {
		size_t count = 0;
		unsigned int per = 1;
		size_t pg = pick_pgsize(m->d.pgsize_bitmap, iova + done,
					pa + done, size - done, &count);

		if (!pg)
			return 0;
		pt_model_level(m, pg, &per);
		entries += count * per;
		done += count * pg;
	}
	return entries;
}

size_t pt_model_iommu_unmap(struct pt_model *m, unsigned long iova,
			    size_t size)
{
	unsigned long bitmap = m->d.pgsize_bitmap;
	unsigned long min = bitmap & -bitmap;
	size_t done = 0;

	if (!size || !bitmap || iova + (size - 1) < iova ||
	    ((iova | size) & (min - 1)))
		return 0;
	while (done < size) {
		size_t count = 0, n;
		size_t pg = pick_pgsize(bitmap, iova + done, iova + done,
					size - done, &count);

		n = pt_model_unmap(m, iova + done, pg, count);
		if (!n)
			break;
		done += n;
	}
	return done;
}

int pt_model_iommu_map(struct pt_model *m, unsigned long iova, uint64_t pa,
		       size_t size, int prot)
{
	unsigned long bitmap = m->d.pgsize_bitmap;
	unsigned long min = bitmap & -bitmap;
	size_t done = 0;
	int ret = 0;

	if (!size || !bitmap)
		return -EINVAL;
	if (iova + (size - 1) < iova || pa + (size - 1) < pa)
		return -EOVERFLOW;
	if ((iova | pa | size) & (min - 1))
		return -EINVAL;
	while (done < size) {
		size_t count = 0, mapped = 0;
		size_t pg = pick_pgsize(bitmap, iova + done, pa + done,
					size - done, &count);

		ret = pt_model_map(m, iova + done, pa + done, pg, count, prot,
				   &mapped);
		done += mapped;
		if (ret)
			break;
		if (!mapped) {
			ret = -EPROTO;	/* no progress: the host's rule */
			break;
		}
	}
	if (ret && done)
		pt_model_iommu_unmap(m, iova, done);
	return ret;
}

/* ---- queries ------------------------------------------------------------- */

bool pt_model_any_leaf(const struct pt_model *m, unsigned long iova,
		       size_t size)
{
	unsigned long end = iova + size - 1;

	for (int l = m->d.first; l <= m->d.last; l++) {
		unsigned long blk = pt_model_block(m, l);

		for (unsigned long va = iova & ~(blk - 1); va <= end; va += blk) {
			const struct pt_slot *s = slot_get(m, l, va);

			if (s && s->kind == PT_SLOT_LEAF)
				return true;
			if (va + blk - 1 >= end)
				break;
		}
	}
	return false;
}

struct foreach_ctx {
	const struct pt_model *m;
	pt_model_slot_fn fn;
	void *data;
};

static void foreach_one(gpointer k, gpointer v, gpointer data)
{
	struct foreach_ctx *c = data;
	uint64_t raw = GPOINTER_TO_SIZE(k);
	int lvl = raw >> KEY_LVL_SHIFT;
	unsigned long iova = (raw & ((1ULL << KEY_LVL_SHIFT) - 1)) <<
			     c->m->d.shift[lvl];

	if (c->m->d.upper)
		iova |= ~c->m->va_mask;
	c->fn(c->data, lvl, iova, v);
}

void pt_model_foreach(const struct pt_model *m, pt_model_slot_fn fn,
		      void *data)
{
	struct foreach_ctx c = { m, fn, data };

	g_hash_table_foreach(m->slots, foreach_one, &c);
}

char *pt_model_check_entry(const struct pt_model *m,
			   const struct iopgt_walk_entry *e)
{
	const struct pt_slot *s;

	if (e->level < m->d.first || e->level > m->d.last)
		return g_strdup_printf("entry at level %d", e->level);
	s = slot_get(m, e->level, e->iova);
	if (!s)
		return g_strdup_printf("the table has a level-%d entry at "
				       "0x%lx, the model does not", e->level,
				       e->iova);
	if (e->kind == IOPGT_ENTRY_TABLE)
		return s->kind == PT_SLOT_TABLE ? NULL :
		       g_strdup_printf("L%d 0x%lx: a table, the model has a "
				       "leaf", e->level, e->iova);
	if (e->kind != IOPGT_ENTRY_LEAF || s->kind != PT_SLOT_LEAF)
		return g_strdup_printf("L%d 0x%lx: a leaf, the model has a "
				       "table", e->level, e->iova);
	if (e->size != pt_model_block(m, e->level) * s->cont)
		return g_strdup_printf("L%d 0x%lx: size 0x%zx, the model has "
				       "0x%lx", e->level, e->iova, e->size,
				       pt_model_block(m, e->level) * s->cont);
	if (e->oa != s->pa)
		return g_strdup_printf("L%d 0x%lx: pa 0x%" G_GINT64_MODIFIER
				       "x, the model has 0x%" G_GINT64_MODIFIER
				       "x", e->level, e->iova, e->oa, s->pa);
	return NULL;
}

/* ---- descriptions -------------------------------------------------------- */

static int first_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	size_t *out = data;

	(void)pa;
	(void)va;
	out[0] = (size_t)level;
	out[1] = size;
	return 1;
}

int pt_root_geometry(struct iopgt_ops *ops, int *level, size_t *bytes)
{
	static const struct iopgt_walk_ops visit = { .table = first_table };
	size_t out[2] = { 0, 0 };

	if (ops->walk(ops, &visit, out) != 1)
		return -EINVAL;
	*level = (int)out[0];
	*bytes = out[1];
	return 0;
}

/*
 * LPAE: the granule is the smallest size; each level resolves granule/8
 * entries except the root, whose size the walk gives (a concatenated
 * stage-2 pgd or a small one).  A batch never leaves a granule-sized
 * (sub-)table.
 */
int pt_desc_lpae(struct pt_model_desc *d, const struct iopgt_cfg *cfg,
		 int pgd_level, size_t pgd_bytes)
{
	static const enum pt_check checks[] = {
		PT_CHECK_PGSIZE, PT_CHECK_START, PT_CHECK_PROT,
		PT_CHECK_ALIGN, PT_CHECK_COUNT, PT_CHECK_END,
	};
	unsigned int bpl, pgd_bits;

	if (!cfg->pgsize_bitmap || pgd_level < 0 || pgd_level > 3 ||
	    pgd_bytes < 8 || (pgd_bytes & (pgd_bytes - 1)))
		return -EINVAL;
	bpl = __builtin_ctzl(cfg->pgsize_bitmap) - 3;
	pgd_bits = __builtin_ctzl(pgd_bytes / 8);
	*d = (struct pt_model_desc){
		.first = pgd_level,
		.last = 3,
		.pgsize_bitmap = cfg->pgsize_bitmap,
		.ias = cfg->ias,
		.oas = cfg->oas,
		.upper = cfg->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1,
		.rules = PT_MAP_STOPS_AT_TABLE_END |
			 PT_UNMAP_STOPS_AT_TABLE_END |
			 PT_MAP_CHECKS_BATCH_FIRST |
			 PT_MAP_BLOCK_REPLACES_TABLE,
	};
	if (cfg->quirks & IOPGT_QUIRK_RECLAIM_TABLES)
		d->rules |= PT_RECLAIMS_TABLES;
	memcpy(d->map_checks, checks, sizeof(checks));
	for (int l = 0; l <= 3; l++) {
		d->shift[l] = (4 - l) * bpl + 3;
		d->bits[l] = l == pgd_level ? pgd_bits : bpl;
		d->batch_bits[l] = MIN(d->bits[l], bpl);
	}
	/* the pgd covers ias (Mali: at least) */
	if (d->shift[pgd_level] + pgd_bits < cfg->ias ||
	    d->shift[pgd_level] + pgd_bits >= 64)
		return -EINVAL;
	return 0;
}

/*
 * v7s: 4K entries in 1K level-2 tables of 256, 1M entries in the level-1
 * table; 64K and 16M are runs of 16.  Pages are written one by one and
 * the whole request must fit ias and oas.
 */
void pt_desc_v7s(struct pt_model_desc *d, const struct iopgt_cfg *cfg)
{
	static const enum pt_check checks[] = {
		PT_CHECK_START, PT_CHECK_PROT, PT_CHECK_COUNT,
		PT_CHECK_PGSIZE, PT_CHECK_ALIGN, PT_CHECK_END,
	};

	*d = (struct pt_model_desc){
		.first = 1,
		.last = 2,
		.shift = { [1] = 20, [2] = 12 },
		.bits = { [1] = cfg->ias - 20, [2] = 8 },
		.pgsize_bitmap = cfg->pgsize_bitmap,
		.cont_bitmap = SZ_64K | SZ_16M,
		.ias = cfg->ias,
		.oas = cfg->oas,
		.rules = PT_MAP_BLOCK_REPLACES_TABLE |
			 PT_RANGE_CHECKS_WHOLE_COUNT,
	};
	if (cfg->quirks & IOPGT_QUIRK_RECLAIM_TABLES)
		d->rules |= PT_RECLAIMS_TABLES;
	memcpy(d->map_checks, checks, sizeof(checks));
}

int pt_desc_from_cfg(struct pt_model_desc *d, const struct iopgt_cfg *cfg,
		     unsigned int rules)
{
	static const enum pt_check checks[] = {
		PT_CHECK_PGSIZE, PT_CHECK_COUNT, PT_CHECK_ALIGN,
		PT_CHECK_PROT, PT_CHECK_START, PT_CHECK_END,
	};
	unsigned long b = cfg->pgsize_bitmap;
	int l = -1;

	if (cfg->ias < 64)
		b &= (1UL << cfg->ias) | ((1UL << cfg->ias) - 1);
	if (!b || __builtin_popcountl(b) > PT_MAX_LEVELS)
		return -EINVAL;
	*d = (struct pt_model_desc){
		.pgsize_bitmap = b,
		.ias = cfg->ias,
		.oas = cfg->oas,
		.upper = cfg->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1,
		.rules = rules | PT_RANGE_CHECKS_WHOLE_COUNT,
	};
	memcpy(d->map_checks, checks, sizeof(checks));
	for (unsigned int sh = 63; b; sh--) {
		if (!(b & (1UL << sh)))
			continue;
		b &= ~(1UL << sh);
		l++;
		d->shift[l] = sh;
		d->bits[l] = l ? d->shift[l - 1] - sh :
				 (cfg->ias >= 64 ? 64 : cfg->ias) - sh;
		d->batch_bits[l] = d->bits[l];
	}
	d->first = 0;
	d->last = l;
	return 0;
}
