// SPDX-License-Identifier: MIT
/*
 * The v7s format against a shadow model: thousands of random map and unmap
 * calls (fixed seeds) in a 64 MiB window, each result compared with what
 * the model says Linux returns, and the whole table compared with the
 * model (translations, the walk, TLB calls, table memory) as it goes.
 *
 * The model is the shared one (tests/lib/pt-model.h) with the v7s
 * description, written from the rules of the format (spec 3.6), not from
 * the code: a level-1 slot is empty, a level-2 table, a section or part of
 * a supersection; a level-2 slot is empty, a small page or part of a large
 * page.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "pt-model.h"
#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define WIN_SLOTS	64			/* level-1 slots: 64 MiB */
#define WIN_PAGES	(WIN_SLOTS * 256)
#define N_OPS		20000
#define CHECK_EVERY	1000

struct config {
	const char *name;
	unsigned long quirks;
	unsigned int oas;
	bool coherent;
	guint32 seed;
};

struct run {
	const struct config *cfg;
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	struct log_capture log;
	struct tlb_recorder tlb;
	struct pt_model m;
	GRand *rand;
	uint64_t pa_limit;
	/* how the ops ended, to show the mix is worth something */
	unsigned int maps_ok, maps_eexist, maps_einval, unmaps_ok, unmaps_zero;
	/* recent successful maps, so that unmaps often hit something */
	struct {
		unsigned long iova;
		size_t size, count;
	} recent[64];
	unsigned int n_recent;
};

/* ---- comparing the table with the model ---------------------------------- */

struct walk_check {
	const struct pt_model *m;
	unsigned int seen;
	unsigned int errors;
};

static int check_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct walk_check *w = data;
	char *why = pt_model_check_entry(w->m, e);

	w->seen++;
	if (why) {
		g_test_message("%s", why);
		w->errors++;
		g_free(why);
	}
	return 0;
}

static void check_all(struct run *r)
{
	static const struct iopgt_walk_ops ops = { .entry = check_entry };
	struct walk_check w = { .m = &r->m };
	struct iopgt_mem_stats st;

	for (unsigned long iova = 0; iova < WIN_SLOTS * SZ_1M; iova += SZ_4K) {
		unsigned long at = iova + (iova >> 12) % SZ_4K;

		if (iopgt_pgtable_iova_to_phys(r->host, r->pgt, at) !=
		    pt_model_iova_to_phys(&r->m, at))
			g_assert_cmphex(iopgt_pgtable_iova_to_phys(r->host,
								   r->pgt, at),
					==, pt_model_iova_to_phys(&r->m, at));
	}
	g_assert_cmpint(iopgt_pgtable_walk(r->host, r->pgt, &ops, &w), ==, 0);
	g_assert_cmpuint(w.errors, ==, 0);
	g_assert_cmpuint(w.seen, ==, r->m.leaves + r->m.tables);

	/* level 1, plus level-2 tables packed four to a page at best */
	iopgt_pgtable_get_mem_stats(r->host, r->pgt, &st);
	g_assert_cmpuint(st.table_bytes, >=,
			 SZ_16K + (r->m.tables + 3) / 4 * SZ_4K);
	g_assert_cmpuint(st.table_bytes, <=, SZ_16K + r->m.tables * SZ_4K);
}

/* ---- random operations --------------------------------------------------- */

static const size_t sizes[] = { SZ_4K, SZ_64K, SZ_1M, SZ_16M };

static size_t random_size(struct run *r)
{
	/* small sizes more often: they make the interesting overlaps */
	static const unsigned int weights[] = { 45, 25, 20, 10 };
	unsigned int x = g_rand_int_range(r->rand, 0, 100);

	for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
		if (x < weights[i])
			return sizes[i];
		x -= weights[i];
	}
	return SZ_4K;
}

static int random_prot(struct run *r)
{
	static const int prots[] = {
		IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE,
		IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE,
		IOMMU_READ | IOMMU_NOEXEC | IOMMU_PRIV,
		IOMMU_READ | IOMMU_WRITE | IOMMU_MMIO,
		IOMMU_CACHE,		/* no READ, no WRITE: -EINVAL */
	};

	return prots[g_rand_int_range(r->rand, 0, G_N_ELEMENTS(prots))];
}

static void one_op(struct run *r, unsigned int n)
{
	size_t size = random_size(r);
	size_t max_count = size == SZ_16M ? 2 : 4;
	size_t count = g_rand_int_range(r->rand, 1, max_count + 1);
	unsigned long span = WIN_SLOTS * SZ_1M - count * size;
	unsigned long iova =
		g_rand_int_range(r->rand, 0, span / size + 1) * size;

	if (g_rand_int_range(r->rand, 0, 100) < 60) {
		uint64_t pa_slots = (r->pa_limit - count * size) / size + 1;
		uint64_t pa = (uint64_t)g_rand_double_range(r->rand, 0,
							    pa_slots) * size;
		int prot = random_prot(r);
		size_t mapped = 0, want_mapped = 0;
		int want = pt_model_map(&r->m, iova, pa, size, count, prot,
					&want_mapped);
		int ret = iopgt_pgtable_map_pages(r->host, r->pgt, iova, pa,
						  size, count, prot, &mapped);

		r->maps_ok += ret == 0;
		r->maps_eexist += ret == -EEXIST;
		r->maps_einval += ret == -EINVAL;
		if (ret != want || mapped != want_mapped)
			g_error("op %u: map(%#lx, %#" G_GINT64_MODIFIER "x, "
				"%#zx x %zu, prot %#x) = %d mapped %#zx, "
				"model %d mapped %#zx", n, iova, pa, size,
				count, prot, ret, mapped, want, want_mapped);
		if (!ret)
			r->recent[r->n_recent++ % G_N_ELEMENTS(r->recent)] =
				(typeof(r->recent[0])){ iova, size, count };
	} else {
		size_t want;

		/* half the time a recent mapping, maybe at another size */
		if (r->n_recent && g_rand_boolean(r->rand)) {
			unsigned int i = g_rand_int_range(r->rand, 0,
				MIN(r->n_recent, G_N_ELEMENTS(r->recent)));

			iova = r->recent[i].iova;
			if (g_rand_int_range(r->rand, 0, 4)) {
				size = r->recent[i].size;
				count = r->recent[i].count;
			} else {
				/* stay in the window the model covers */
				iova &= ~(size - 1);
				count = MIN(count,
					    (WIN_SLOTS * SZ_1M - iova) / size);
			}
		}
		/* a live gather: each leaf entry removed is one add_page */
		struct iopgt_iotlb_gather g = { .start = ~0UL };

		want = pt_model_unmap(&r->m, iova, size, count);
		size_t got = iopgt_pgtable_unmap_pages(r->host, r->pgt, iova,
						       size, count, &g);

		r->unmaps_ok += got != 0;
		r->unmaps_zero += got == 0;
		if (got != want)
			g_error("op %u: unmap(%#lx, %#zx x %zu) = %#zx, model "
				"%#zx", n, iova, size, count, got, want);
	}

	/* every TLB call the model expects, and no other */
	g_assert_cmpuint(r->tlb.pages->len, ==,
			 r->m.stats.leaf_entries_removed);
	g_assert_cmpuint(r->tlb.walks->len, ==, r->m.stats.tables_removed);

	/* a random probe after every op, everything now and then */
	iova = g_rand_int_range(r->rand, 0, WIN_SLOTS * SZ_1M);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(r->host, r->pgt, iova), ==,
			pt_model_iova_to_phys(&r->m, iova));
	if (n % CHECK_EVERY == 0)
		check_all(r);
}

static void test_random(gconstpointer data)
{
	const struct config *cfg = data;
	struct iopgt_cfg pcfg = {
		.quirks = cfg->quirks,
		.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M,
		.ias = 32,
		.oas = cfg->oas,
		.coherent_walk = cfg->coherent,
		.tlb = &tlb_recorder_ops,
	};
	struct run r = { .cfg = cfg };
	struct pt_model_desc desc;
	struct iopgt_mem_stats st;

	g_test_summary("Random map/unmap against a shadow model: results, "
		       "translations, walk, TLB calls and memory agree");
	r.host = iopgt_host_new();
	log_capture_init(&r.log);
	r.log.echo = false;
	log_capture_attach(&r.log, r.host);
	tlb_recorder_init(&r.tlb);
	g_assert_cmpint(iopgt_host_register_builtin(r.host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(r.host, "arm-v7s", &pcfg, &r.tlb,
					  &r.pgt), ==, 0);
	pt_desc_v7s(&desc, &r.pgt->cfg);
	pt_model_init(&r.m, &desc);
	r.rand = g_rand_new_with_seed(cfg->seed);
	r.pa_limit = 1ULL << cfg->oas;

	for (unsigned int n = 1; n <= N_OPS; n++)
		one_op(&r, n);
	check_all(&r);
	g_test_message("maps: %u ok, %u -EEXIST, %u -EINVAL; unmaps: %u ok, "
		       "%u returned 0", r.maps_ok, r.maps_eexist, r.maps_einval,
		       r.unmaps_ok, r.unmaps_zero);
	g_assert_cmpuint(r.maps_ok, >, N_OPS / 10);
	g_assert_cmpuint(r.maps_eexist, >, N_OPS / 10);
	g_assert_cmpuint(r.maps_einval, >, N_OPS / 100);
	g_assert_cmpuint(r.unmaps_ok, >, N_OPS / 20);
	g_assert_cmpuint(r.unmaps_zero, >, N_OPS / 20);

	/* unmap the whole window: only what the model holds goes */
	for (unsigned int s = 0; s < WIN_SLOTS; s++) {
		const struct pt_slot *slot = pt_model_slot(&r.m, 1, s * SZ_1M);
		bool super = slot && slot->kind == PT_SLOT_LEAF &&
			     slot->cont > 1;
		size_t want = pt_model_unmap(&r.m, s * SZ_1M, SZ_1M, 1);

		g_assert_cmpuint(iopgt_pgtable_unmap_pages(r.host, r.pgt,
							   s * SZ_1M, SZ_1M, 1,
							   NULL), ==, want);
		if (!want && super) {
			unsigned int base = s & ~15u;

			size_t got = iopgt_pgtable_unmap_pages(r.host, r.pgt,
							       base * SZ_1M,
							       SZ_16M, 1, NULL);

			g_assert_cmpuint(got, ==, pt_model_unmap(&r.m,
								 base * SZ_1M,
								 SZ_16M, 1));
		}
	}
	check_all(&r);
	iopgt_pgtable_get_mem_stats(r.host, r.pgt, &st);
	g_assert_cmpuint(st.table_bytes, ==, SZ_16K);
	g_assert_cmpuint(r.tlb.bad_cookie, ==, 0);
	if (!cfg->coherent)
		g_assert_cmpuint(st.syncs, >, 0);
	else
		g_assert_cmpuint(st.syncs, ==, 0);

	iopgt_pgtable_free(r.host, r.pgt);
	iopgt_host_get_mem_stats(r.host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_cmpuint(log_capture_count(&r.log, "err:"), ==, 0);

	g_rand_free(r.rand);
	pt_model_clear(&r.m);
	tlb_recorder_clear(&r.tlb);
	g_assert_null(iopgt_host_unref(r.host));
	log_capture_clear(&r.log);
}

static const struct config configs[] = {
	{ "coherent-arm-ns", IO_PGTABLE_QUIRK_ARM_NS, 32, true, 1 },
	{ "non-coherent", 0, 32, false, 2 },
	{ "mtk-35-bit-pa",
	  IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS, 35, true,
	  3 },
	{ "mtk-tables-above-4g",
	  IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS |
	  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT, 35, false, 4 },
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned int i = 0; i < G_N_ELEMENTS(configs); i++) {
		char *path = g_strdup_printf("/v7s/random/%s/seed-%u",
					     configs[i].name, configs[i].seed);

		g_test_add_data_func(path, &configs[i], test_random);
		g_free(path);
	}
	return g_test_run();
}
