// SPDX-License-Identifier: MIT
/*
 * Thousands of random map/unmap/lookup operations on LPAE tables, checked
 * against a shadow model.
 *
 * The model is the table's structure without its bits: a hash of slots
 * keyed by (level, index), each empty, a table or a leaf (pa).  It follows
 * Linux's rules literally: tables appear on the way down and stay until a
 * block-sized unmap or a block map removes them; a leaf at or above the
 * target is -EEXIST; a batch stops at the end of its table; an unmap stops
 * at a hole, counts a table as a block, and refuses part of a block.
 *
 * Every return value is compared; every few hundred operations the whole
 * table (ops.walk) is compared with the model, and every leaf is looked up
 * with iova_to_phys at a random offset.  The seed comes from g_test_rand
 * (--seed=...) and is printed.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define N_OPS		4000
#define CHECK_EVERY	250

struct config {
	const char *path;
	const char *fmt;
	unsigned long pgsizes;
	unsigned int ias, oas;
	bool coherent;
};

enum slot_kind { SLOT_TABLE = 1, SLOT_LEAF = 2 };

struct slot {
	enum slot_kind kind;
	uint64_t pa;
};

struct model {
	GHashTable *slots;	/* key(level, index) -> struct slot */
	unsigned int tables_dropped;	/* tables a block replaced */
	int start_level;
	unsigned int bpl;
	unsigned long start_entries;	/* batch limit at the start level */
	unsigned int ias;
};

struct rt {
	const struct config *cfgp;
	struct iopgt_host *host;
	struct log_capture log;
	struct iopgt_cfg cfg;
	struct iopgt_pgtable *pgt;
	struct model m;
	GRand *rand;
	unsigned long window_lo, window_hi;	/* all operations */
	unsigned long hot_lo, hot_hi;		/* half of them */
	unsigned int ops[8];
};

/* ---- model geometry ------------------------------------------------------ */

static unsigned int lvl_shift(const struct model *m, int lvl)
{
	return (4 - lvl) * m->bpl + 3;
}

static gpointer key(int lvl, uint64_t index)
{
	return GSIZE_TO_POINTER(((uint64_t)lvl << 60) | index);
}

static struct slot *slot_get(struct model *m, int lvl, unsigned long iova)
{
	return g_hash_table_lookup(m->slots,
				   key(lvl, iova >> lvl_shift(m, lvl)));
}

static void slot_set(struct model *m, int lvl, unsigned long iova,
		     enum slot_kind kind, uint64_t pa)
{
	struct slot *s = g_new(struct slot, 1);

	s->kind = kind;
	s->pa = pa;
	g_hash_table_insert(m->slots, key(lvl, iova >> lvl_shift(m, lvl)), s);
}

static int size_level(const struct model *m, size_t size)
{
	for (int l = 0; l < 4; l++)
		if (size == 1UL << lvl_shift(m, l))
			return l;
	g_assert_not_reached();
}

/* Entries to the end of the granule-sized (sub-)table at level lvl. */
static size_t batch(const struct model *m, unsigned long iova, int lvl,
		    size_t count)
{
	unsigned long e = lvl == m->start_level ? m->start_entries :
						   1UL << m->bpl;
	size_t n = e - ((iova >> lvl_shift(m, lvl)) & (e - 1));

	return MIN(n, count);
}

struct subtree {
	const struct model *m;
	int lvl;
	unsigned long lo, hi;	/* iova range, inclusive */
};

static gboolean in_subtree(gpointer k, gpointer v, gpointer data)
{
	struct subtree *st = data;
	uint64_t raw = GPOINTER_TO_SIZE(k);
	int lvl = raw >> 60;
	unsigned long iova = (raw & ((1ULL << 60) - 1)) <<
			     lvl_shift(st->m, lvl);

	(void)v;
	return lvl > st->lvl && iova >= st->lo && iova <= st->hi;
}

/* Forget everything below the slot at (lvl, iova). */
static void drop_subtree(struct model *m, int lvl, unsigned long iova)
{
	unsigned long size = 1UL << lvl_shift(m, lvl);
	struct subtree st = {
		.m = m, .lvl = lvl,
		.lo = iova & ~(size - 1),
		.hi = (iova & ~(size - 1)) + size - 1,
	};

	if (g_hash_table_foreach_remove(m->slots, in_subtree, &st))
		m->tables_dropped++;
}

/* ---- model operations ---------------------------------------------------- */

static int model_map(struct model *m, unsigned long iova, uint64_t pa,
		     size_t size, size_t count, size_t *mapped)
{
	int target = size_level(m, size);
	size_t n;

	*mapped = 0;
	for (int l = m->start_level; l < target; l++) {
		struct slot *s = slot_get(m, l, iova);

		if (s && s->kind == SLOT_LEAF)
			return -EEXIST;
		if (!s)
			slot_set(m, l, iova, SLOT_TABLE, 0);
	}
	n = batch(m, iova, target, count);
	for (size_t i = 0; i < n; i++) {
		struct slot *s = slot_get(m, target, iova + i * size);

		if (s && s->kind == SLOT_LEAF)
			return -EEXIST;
	}
	for (size_t i = 0; i < n; i++) {
		drop_subtree(m, target, iova + i * size);
		slot_set(m, target, iova + i * size, SLOT_LEAF, pa + i * size);
	}
	*mapped = n * size;
	return 0;
}

static size_t model_unmap(struct model *m, unsigned long iova, size_t size,
			  size_t count)
{
	int target = size_level(m, size);
	size_t i, n;

	for (int l = m->start_level; l < target; l++) {
		struct slot *s = slot_get(m, l, iova);

		if (!s || s->kind == SLOT_LEAF)
			return 0;	/* a hole, or part of a block */
	}
	n = batch(m, iova, target, count);
	for (i = 0; i < n; i++) {
		unsigned long va = iova + i * size;
		struct slot *s = slot_get(m, target, va);

		if (!s)
			break;
		if (s->kind == SLOT_TABLE)
			drop_subtree(m, target, va);
		g_hash_table_remove(m->slots,
				    key(target, va >> lvl_shift(m, target)));
	}
	return i * size;
}

static uint64_t model_phys(struct model *m, unsigned long iova)
{
	for (int l = m->start_level; l < 4; l++) {
		struct slot *s = slot_get(m, l, iova);

		if (!s)
			return 0;
		if (s->kind == SLOT_LEAF)
			return s->pa + (iova & ((1UL << lvl_shift(m, l)) - 1));
	}
	return 0;
}

/* ---- comparing the table with the model ---------------------------------- */

struct cmp {
	struct rt *t;
	unsigned int entries;
	unsigned int tables;
	int first_level;
	size_t root_size;
};

static int cmp_table(void *data, uint64_t pa, const void *va, size_t size,
		     int level)
{
	struct cmp *c = data;

	(void)pa;
	(void)va;
	if (!c->tables++) {
		c->first_level = level;
		c->root_size = size;
	}
	return 0;
}

static int cmp_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct cmp *c = data;
	struct model *m = &c->t->m;
	struct slot *s = slot_get(m, e->level, e->iova);

	c->entries++;
	if (!s) {
		g_test_message("table has L%d entry at 0x%lx the model lacks",
			       e->level, e->iova);
		return 1;
	}
	if ((s->kind == SLOT_LEAF) != (e->kind == IOPGT_ENTRY_LEAF)) {
		g_test_message("L%d at 0x%lx: kind differs", e->level, e->iova);
		return 1;
	}
	if (s->kind == SLOT_LEAF && s->pa != e->oa) {
		g_test_message("L%d at 0x%lx: pa 0x%" G_GINT64_MODIFIER
			       "x, model 0x%" G_GINT64_MODIFIER "x",
			       e->level, e->iova, e->oa, s->pa);
		return 1;
	}
	return 0;
}

struct leaf_check {
	struct rt *t;
	unsigned int bad;
};

static void check_leaf(gpointer k, gpointer v, gpointer data)
{
	struct leaf_check *lc = data;
	struct model *m = &lc->t->m;
	struct slot *s = v;
	uint64_t raw = GPOINTER_TO_SIZE(k);
	int lvl = raw >> 60;
	unsigned long size = 1UL << lvl_shift(m, lvl);
	unsigned long iova = (raw & ((1ULL << 60) - 1)) << lvl_shift(m, lvl);
	unsigned long off = g_rand_int_range(lc->t->rand, 0, 1 << 30) &
			    (size - 1);
	struct iopgt_pgtable *pgt = lc->t->pgt;

	if (s->kind != SLOT_LEAF)
		return;
	if (pgt->ops.iova_to_phys(&pgt->ops, iova + off) != s->pa + off)
		lc->bad++;
}

static void compare(struct rt *t)
{
	const struct iopgt_walk_ops v = {
		.table = cmp_table,
		.entry = cmp_entry,
	};
	struct cmp c = { .t = t };
	struct leaf_check lc = { .t = t };

	g_assert_cmpint(t->pgt->ops.walk(&t->pgt->ops, &v, &c), ==, 0);
	g_assert_cmpuint(c.entries, ==, g_hash_table_size(t->m.slots));
	g_assert_cmpint(c.first_level, ==, t->m.start_level);
	g_hash_table_foreach(t->m.slots, check_leaf, &lc);
	g_assert_cmpuint(lc.bad, ==, 0);
}

/* ---- random operations --------------------------------------------------- */

static size_t random_size(struct rt *t)
{
	unsigned long b = t->cfg.pgsize_bitmap;
	int n = __builtin_popcountl(b);
	/* small pages most often: weights 14, 5, 1 */
	int r = g_rand_int_range(t->rand, 0, n == 3 ? 20 : 19);
	int pick = r < 14 ? 0 : (r < 19 ? 1 : 2);

	while (pick--)
		b &= b - 1;
	return 1UL << __builtin_ctzl(b);
}

static unsigned long random_u64(struct rt *t)
{
	return (unsigned long)g_rand_int(t->rand) << 32 | g_rand_int(t->rand);
}

/* Half in a hot spot (collisions, batches at table ends), half anywhere. */
static unsigned long random_iova(struct rt *t, size_t size)
{
	bool hot = g_rand_boolean(t->rand);
	unsigned long lo = hot ? t->hot_lo : t->window_lo;
	unsigned long hi = hot ? t->hot_hi : t->window_hi;

	if (size > hi - lo) {
		lo = t->window_lo;
		hi = t->window_hi;
	}
	return (lo + random_u64(t) % (hi - lo)) & ~(size - 1);
}

struct pick {
	unsigned int n;
	uint64_t key;
};

static void pick_leaf(gpointer k, gpointer v, gpointer data)
{
	struct pick *p = data;
	struct slot *s = v;

	if (s->kind == SLOT_LEAF && p->n-- == 0)
		p->key = GPOINTER_TO_SIZE(k);
}

/* An existing leaf (its iova and size), or false if there is none. */
static bool random_leaf(struct rt *t, unsigned long *iova, size_t *size)
{
	struct pick p = { .key = ~0ULL };
	unsigned int n = g_hash_table_size(t->m.slots);
	int lvl;

	if (!n)
		return false;
	p.n = g_rand_int_range(t->rand, 0, n);
	g_hash_table_foreach(t->m.slots, pick_leaf, &p);
	if (p.key == ~0ULL)
		return false;
	lvl = p.key >> 60;
	*size = 1UL << lvl_shift(&t->m, lvl);
	*iova = (p.key & ((1ULL << 60) - 1)) << lvl_shift(&t->m, lvl);
	return true;
}

static size_t random_count(struct rt *t)
{
	switch (g_rand_int_range(t->rand, 0, 10)) {
	case 0:
		return g_rand_int_range(t->rand, 1, 1100);
	case 1:
	case 2:
		return g_rand_int_range(t->rand, 2, 9);
	default:
		return 1;
	}
}

static uint64_t random_pa(struct rt *t, size_t size, size_t count)
{
	unsigned int bits = MIN(t->cfg.oas, 40u);
	uint64_t span = (1ULL << bits) - (uint64_t)size * count;
	uint64_t pa = (((uint64_t)g_rand_int(t->rand) << 32) |
		       g_rand_int(t->rand)) % span;

	return pa & ~((uint64_t)size - 1);
}

static void op_map(struct rt *t)
{
	size_t size = random_size(t), count = random_count(t);
	unsigned long iova = random_iova(t, size);
	uint64_t pa = random_pa(t, size, MIN(count, 1UL << t->m.bpl));
	int prot = g_rand_int_range(t->rand, 0, 64);
	size_t mapped = 0, expect_mapped;
	int ret, expect;

	if (g_rand_int_range(t->rand, 0, 8))
		prot |= IOMMU_READ;
	if (!(prot & (IOMMU_READ | IOMMU_WRITE))) {
		expect = -EINVAL;
		expect_mapped = 0;
	} else {
		expect = model_map(&t->m, iova, pa, size, count,
				   &expect_mapped);
	}
	ret = t->pgt->ops.map_pages(&t->pgt->ops, iova, pa, size, count, prot,
				    &mapped);
	if (ret != expect || mapped != expect_mapped)
		g_test_message("map 0x%lx -> 0x%" G_GINT64_MODIFIER
			       "x size 0x%zx x%zu prot 0x%x", iova, pa, size,
			       count, prot);
	g_assert_cmpint(ret, ==, expect);
	g_assert_cmpuint(mapped, ==, expect_mapped);
	t->ops[ret ? 1 : 0]++;
}

static void op_unmap(struct rt *t)
{
	size_t size, count = random_count(t);
	unsigned long iova;
	size_t expect;

	/* half the time an existing leaf, else anything */
	if (!g_rand_boolean(t->rand) || !random_leaf(t, &iova, &size)) {
		size = random_size(t);
		iova = random_iova(t, size);
	}
	expect = model_unmap(&t->m, iova, size, count);
	size_t got = t->pgt->ops.unmap_pages(&t->pgt->ops, iova, size, count,
					     NULL);

	if (got != expect)
		g_test_message("unmap 0x%lx size 0x%zx x%zu", iova, size,
			       count);
	g_assert_cmpuint(got, ==, expect);
	t->ops[got ? 2 : 3]++;
}

static void op_lookup(struct rt *t)
{
	unsigned long iova = random_iova(t, 1);
	g_assert_cmphex(t->pgt->ops.iova_to_phys(&t->pgt->ops, iova), ==,
			model_phys(&t->m, iova));
	t->ops[4]++;
}

static int first_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	struct model *m = data;

	(void)pa;
	(void)va;
	m->start_level = level;
	m->start_entries = MIN(size / 8, 1UL << m->bpl);
	return 1;
}

static void run_random(gconstpointer data)
{
	const struct config *cf = data;
	const struct iopgt_walk_ops first = { .table = first_table };
	struct rt t = { .cfgp = cf };
	/* per configuration, and reproducible with --seed */
	guint32 seed = g_test_rand_int() ^ g_str_hash(cf->path);
	unsigned long big, mid;
	struct iopgt_mem_stats st;

	g_test_summary("Random map/unmap/iova_to_phys agree with a shadow model "
		       "of Linux's rules, and the table walk equals the model");
	g_test_message("seed %u", seed);
	t.rand = g_rand_new_with_seed(seed);
	t.host = iopgt_host_new();
	log_capture_init(&t.log);
	log_capture_attach(&t.log, t.host);
	g_assert_cmpint(iopgt_host_register_builtin(t.host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	t.cfg = (struct iopgt_cfg){
		.quirks = strcmp(cf->fmt, "arm-mali-lpae") ?
				  IO_PGTABLE_QUIRK_NO_WARN : 0,
		.pgsize_bitmap = cf->pgsizes,
		.ias = cf->ias,
		.oas = cf->oas,
		.coherent_walk = cf->coherent,
	};
	g_assert_cmpint(iopgt_pgtable_new(t.host, cf->fmt, &t.cfg, NULL,
					  &t.pgt), ==, 0);
	t.m.slots = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					  g_free);
	t.m.bpl = __builtin_ctzl(t.cfg.pgsize_bitmap) - 3;
	t.m.ias = t.cfg.ias;
	t.pgt->ops.walk(&t.pgt->ops, &first, &t.m);

	/*
	 * A window of four of the largest pages at the bottom or the top of
	 * the ias, and inside it a hot spot of four second-largest pages
	 * across a table boundary.
	 */
	big = 1UL << (63 - __builtin_clzl(t.cfg.pgsize_bitmap));
	mid = 1UL << (63 - __builtin_clzl(t.cfg.pgsize_bitmap & (big - 1)));
	t.window_lo = g_rand_boolean(t.rand) ? 0 : (1UL << cf->ias) - 4 * big;
	t.window_hi = t.window_lo + 4 * big;
	t.hot_lo = t.window_lo + big - 2 * mid;
	t.hot_hi = t.hot_lo + 4 * mid;
	g_test_message("window [0x%lx, 0x%lx), hot [0x%lx, 0x%lx)",
		       t.window_lo, t.window_hi, t.hot_lo, t.hot_hi);

	for (unsigned int i = 0; i < N_OPS; i++) {
		int r = g_rand_int_range(t.rand, 0, 20);

		if (r < 10)
			op_map(&t);
		else if (r < 17)
			op_unmap(&t);
		else
			op_lookup(&t);
		if (i % CHECK_EVERY == CHECK_EVERY - 1)
			compare(&t);
	}
	compare(&t);
	g_test_message("maps %u (refused %u), unmaps %u (empty %u), lookups %u, "
		       "tables replaced %u, slots now %u", t.ops[0], t.ops[1],
		       t.ops[2], t.ops[3], t.ops[4], t.m.tables_dropped,
		       g_hash_table_size(t.m.slots));
	/* every outcome must have happened for the run to mean something */
	g_assert_cmpuint(t.ops[0], >, N_OPS / 10);
	g_assert_cmpuint(t.ops[1], >, 0);
	g_assert_cmpuint(t.ops[2], >, N_OPS / 10);
	g_assert_cmpuint(t.ops[3], >, 0);
	g_assert_cmpuint(t.m.tables_dropped, >, 0);

	iopgt_pgtable_free(t.host, t.pgt);
	iopgt_host_get_mem_stats(t.host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(t.host));
	g_hash_table_unref(t.m.slots);
	g_rand_free(t.rand);
	log_capture_clear(&t.log);
}

static const struct config configs[] = {
	{ "/lpae/random/s1/4k/ias48-oas48", "arm-64-lpae-s1",
	  SZ_4K | SZ_2M | SZ_1G, 48, 48, true },
	{ "/lpae/random/s1/4k/ias48-oas48-noncoherent", "arm-64-lpae-s1",
	  SZ_4K | SZ_2M | SZ_1G, 48, 48, false },
	{ "/lpae/random/s1/4k/ias32-oas40-small-pgd", "arm-64-lpae-s1",
	  SZ_4K | SZ_2M | SZ_1G, 32, 40, true },
	{ "/lpae/random/s2/4k/ias40-oas40-concatenated", "arm-64-lpae-s2",
	  SZ_4K | SZ_2M | SZ_1G, 40, 40, true },
	{ "/lpae/random/s1/16k/ias36-oas40", "arm-64-lpae-s1",
	  SZ_16K | SZ_32M, 36, 40, true },
	{ "/lpae/random/s2/16k/ias40-oas40-concatenated", "arm-64-lpae-s2",
	  SZ_16K | SZ_32M, 40, 40, true },
	{ "/lpae/random/s2/64k/ias42-oas44", "arm-64-lpae-s2",
	  SZ_64K | SZ_512M, 42, 44, true },
	{ "/lpae/random/32-s2/4k/ias40-oas40", "arm-32-lpae-s2",
	  SZ_4K | SZ_2M | SZ_1G, 40, 40, true },
	{ "/lpae/random/mali/4k/ias40-oas40", "arm-mali-lpae",
	  SZ_4K | SZ_2M | SZ_1G, 40, 40, false },
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned int i = 0; i < G_N_ELEMENTS(configs); i++)
		g_test_add_data_func(configs[i].path, &configs[i], run_random);
	return g_test_run();
}
