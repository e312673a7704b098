// SPDX-License-Identifier: MIT
/*
 * Thousands of random map/unmap/lookup operations on LPAE tables, checked
 * against a shadow model.
 *
 * The model is the shared one (tests/lib/pt-model.h) with the LPAE
 * description: tables appear on the way down and stay until a block-sized
 * unmap or a block map removes them; a leaf at or above the target is
 * -EEXIST; a batch stops at the end of its table; an unmap stops at a
 * hole, counts a table as a block, and refuses part of a block.
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

#include "pt-model.h"
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

struct rt {
	const struct config *cfgp;
	struct iopgt_host *host;
	struct log_capture log;
	struct iopgt_cfg cfg;
	struct iopgt_pgtable *pgt;
	struct pt_model m;
	GRand *rand;
	unsigned long window_lo, window_hi;	/* all operations */
	unsigned long hot_lo, hot_hi;		/* half of them */
	unsigned int ops[8];
};

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
	char *why = pt_model_check_entry(&c->t->m, e);

	c->entries++;
	if (why) {
		g_test_message("%s", why);
		g_free(why);
		return 1;
	}
	return 0;
}

struct leaf_check {
	struct rt *t;
	unsigned int bad;
};

static void check_leaf(void *data, int lvl, unsigned long iova,
		       const struct pt_slot *s)
{
	struct leaf_check *lc = data;
	unsigned long size = pt_model_block(&lc->t->m, lvl);
	unsigned long off = g_rand_int_range(lc->t->rand, 0, 1 << 30) &
			    (size - 1);
	struct iopgt_pgtable *pgt = lc->t->pgt;

	if (s->kind != PT_SLOT_LEAF)
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
	g_assert_cmpuint(c.entries, ==, t->m.leaves + t->m.tables);
	g_assert_cmpint(c.first_level, ==, t->m.d.first);
	pt_model_foreach(&t->m, check_leaf, &lc);
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
	int lvl;
	unsigned long iova;
};

static void pick_leaf(void *data, int lvl, unsigned long iova,
		      const struct pt_slot *s)
{
	struct pick *p = data;

	if (s->kind == PT_SLOT_LEAF && p->n-- == 0) {
		p->lvl = lvl;
		p->iova = iova;
	}
}

/* An existing leaf (its iova and size), or false if there is none. */
static bool random_leaf(struct rt *t, unsigned long *iova, size_t *size)
{
	struct pick p = { .lvl = -1 };
	unsigned int n = t->m.leaves + t->m.tables;

	if (!n)
		return false;
	p.n = g_rand_int_range(t->rand, 0, n);
	pt_model_foreach(&t->m, pick_leaf, &p);
	if (p.lvl < 0)
		return false;
	*size = pt_model_block(&t->m, p.lvl);
	*iova = p.iova;
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
	uint64_t pa = random_pa(t, size, MIN(count, 1UL << t->m.d.batch_bits[3]));
	int prot = g_rand_int_range(t->rand, 0, 64);
	size_t mapped = 0, expect_mapped = 0;
	int ret, expect;

	if (g_rand_int_range(t->rand, 0, 8))
		prot |= IOMMU_READ;
	expect = pt_model_map(&t->m, iova, pa, size, count, prot,
			      &expect_mapped);
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
	expect = pt_model_unmap(&t->m, iova, size, count);
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
			pt_model_iova_to_phys(&t->m, iova));
	t->ops[4]++;
}

static void run_random(gconstpointer data)
{
	const struct config *cf = data;
	struct pt_model_desc desc;
	int pgd_level;
	size_t pgd_bytes;
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
	g_assert_cmpint(pt_root_geometry(&t.pgt->ops, &pgd_level, &pgd_bytes),
			==, 0);
	g_assert_cmpint(pt_desc_lpae(&desc, &t.pgt->cfg, pgd_level, pgd_bytes),
			==, 0);
	pt_model_init(&t.m, &desc);

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
		       "tables removed %lu, slots now %u", t.ops[0], t.ops[1],
		       t.ops[2], t.ops[3], t.ops[4], t.m.stats.tables_removed,
		       (unsigned int)(t.m.leaves + t.m.tables));
	/* every outcome must have happened for the run to mean something */
	g_assert_cmpuint(t.ops[0], >, N_OPS / 10);
	g_assert_cmpuint(t.ops[1], >, 0);
	g_assert_cmpuint(t.ops[2], >, N_OPS / 10);
	g_assert_cmpuint(t.ops[3], >, 0);
	g_assert_cmpuint(t.m.stats.tables_removed, >, 0);

	iopgt_pgtable_free(t.host, t.pgt);
	iopgt_host_get_mem_stats(t.host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(t.host));
	pt_model_clear(&t.m);
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
