// SPDX-License-Identifier: MIT
/*
 * The v7s format against a shadow model: thousands of random map and unmap
 * calls (fixed seeds) in a 64 MiB window, each result compared with what
 * the model says Linux returns, and the whole table compared with the
 * model (translations, the walk, TLB calls, table memory) as it goes.
 *
 * The model is written from the rules of the format (spec 3.6), not from
 * the code: a level-1 slot is empty, a level-2 table, a section or part of
 * a supersection; a level-2 slot is empty, a small page or part of a large
 * page.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define WIN_SLOTS	64			/* level-1 slots: 64 MiB */
#define WIN_PAGES	(WIN_SLOTS * 256)
#define N_OPS		20000
#define CHECK_EVERY	1000

enum l1_kind { L1_EMPTY, L1_TABLE, L1_SECTION, L1_SUPER };
enum l2_kind { L2_EMPTY, L2_SMALL, L2_LARGE };

struct shadow {
	uint8_t l1[WIN_SLOTS];
	uint64_t l1_pa[WIN_SLOTS];		/* PA of the slot's MiB */
	uint8_t l2[WIN_SLOTS][256];
	uint64_t l2_pa[WIN_SLOTS][256];		/* PA of the slot's 4K */
	unsigned int tables;
	/* TLB calls the model expects, cumulative */
	unsigned int add_pages;
	unsigned int flush_walks;
};

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
	struct shadow *sh;
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

/* ---- the model ----------------------------------------------------------- */

static int model_map_one(struct shadow *sh, unsigned long iova, uint64_t pa,
			 size_t size)
{
	unsigned int slot = iova >> 20;

	if (size >= SZ_1M) {
		unsigned int n = size / SZ_1M;

		for (unsigned int i = 0; i < n; i++)
			if (sh->l1[slot + i] >= L1_SECTION)
				return -EEXIST;
		for (unsigned int i = 0; i < n; i++) {
			if (sh->l1[slot + i] == L1_TABLE) {
				memset(sh->l2[slot + i], L2_EMPTY, 256);
				sh->tables--;
				sh->flush_walks++;
			}
			sh->l1[slot + i] = n > 1 ? L1_SUPER : L1_SECTION;
			sh->l1_pa[slot + i] = pa + i * SZ_1M;
		}
		return 0;
	}

	unsigned int idx = (iova >> 12) & 0xff, n = size / SZ_4K;

	if (sh->l1[slot] >= L1_SECTION)
		return -EEXIST;
	if (sh->l1[slot] == L1_EMPTY) {
		sh->l1[slot] = L1_TABLE;
		sh->tables++;
	}
	for (unsigned int i = 0; i < n; i++)
		if (sh->l2[slot][idx + i] != L2_EMPTY)
			return -EEXIST;
	for (unsigned int i = 0; i < n; i++) {
		sh->l2[slot][idx + i] = n > 1 ? L2_LARGE : L2_SMALL;
		sh->l2_pa[slot][idx + i] = pa + i * SZ_4K;
	}
	return 0;
}

static int model_map(struct shadow *sh, unsigned long iova, uint64_t pa,
		     size_t size, size_t count, int prot, size_t *mapped)
{
	int ret = -EINVAL;

	if (!(prot & (IOMMU_READ | IOMMU_WRITE)))
		return -EINVAL;
	while (count--) {
		ret = model_map_one(sh, iova, pa, size);
		if (ret)
			break;
		*mapped += size;
		iova += size;
		pa += size;
	}
	return ret;
}

static size_t model_unmap_one(struct shadow *sh, unsigned long iova,
			      size_t size)
{
	unsigned int slot = iova >> 20;

	if (size >= SZ_1M) {
		unsigned int n = size / SZ_1M;

		for (unsigned int i = 0; i < n; i++)
			if (sh->l1[slot + i] == L1_EMPTY)
				return 0;
		if (n == 1 && sh->l1[slot] == L1_SUPER)
			return 0;
		for (unsigned int i = 0; i < n; i++) {
			if (sh->l1[slot + i] == L1_TABLE) {
				memset(sh->l2[slot + i], L2_EMPTY, 256);
				sh->tables--;
				sh->flush_walks++;
			} else {
				sh->add_pages++;
			}
			sh->l1[slot + i] = L1_EMPTY;
		}
		return size;
	}

	unsigned int idx = (iova >> 12) & 0xff, n = size / SZ_4K;

	if (sh->l1[slot] != L1_TABLE)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		if (sh->l2[slot][idx + i] == L2_EMPTY)
			return 0;
	if (n == 1 && sh->l2[slot][idx] == L2_LARGE)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		sh->l2[slot][idx + i] = L2_EMPTY;
	sh->add_pages += n;
	return size;
}

static size_t model_unmap(struct shadow *sh, unsigned long iova, size_t size,
			  size_t count)
{
	size_t unmapped = 0;

	while (count--) {
		if (!model_unmap_one(sh, iova, size))
			break;
		unmapped += size;
		iova += size;
	}
	return unmapped;
}

static uint64_t model_phys(const struct shadow *sh, unsigned long iova)
{
	unsigned int slot = iova >> 20, idx = (iova >> 12) & 0xff;

	switch (sh->l1[slot]) {
	case L1_SECTION:
	case L1_SUPER:
		return sh->l1_pa[slot] + (iova & (SZ_1M - 1));
	case L1_TABLE:
		if (sh->l2[slot][idx] == L2_EMPTY)
			return 0;
		return sh->l2_pa[slot][idx] + (iova & (SZ_4K - 1));
	default:
		return 0;
	}
}

/* ---- comparing the table with the model ---------------------------------- */

struct walk_check {
	const struct shadow *sh;
	unsigned int parent;
	unsigned int l1_seen, l2_seen;
	unsigned int errors;
};

static int check_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct walk_check *w = data;
	const struct shadow *sh = w->sh;
	unsigned int slot = e->level == 1 ? e->index : w->parent;

	if (slot >= WIN_SLOTS) {
		w->errors++;
		return 0;
	}
	if (e->level == 1) {
		w->l1_seen++;
		if (e->kind == IOPGT_ENTRY_TABLE) {
			w->parent = e->index;
			w->errors += sh->l1[slot] != L1_TABLE;
		} else if (e->size == SZ_16M) {
			w->errors += sh->l1[slot] != L1_SUPER ||
				     e->oa != sh->l1_pa[slot & ~15u];
		} else {
			w->errors += sh->l1[slot] != L1_SECTION ||
				     e->oa != sh->l1_pa[slot];
		}
	} else {
		unsigned int idx = e->index;

		w->l2_seen++;
		if (e->size == SZ_64K)
			w->errors += sh->l2[slot][idx] != L2_LARGE ||
				     e->oa != sh->l2_pa[slot][idx & ~15u];
		else
			w->errors += sh->l2[slot][idx] != L2_SMALL ||
				     e->oa != sh->l2_pa[slot][idx];
	}
	return 0;
}

static void check_all(struct run *r)
{
	static const struct iopgt_walk_ops ops = { .entry = check_entry };
	struct walk_check w = { .sh = r->sh };
	unsigned int l1 = 0, l2 = 0;
	struct iopgt_mem_stats st;

	for (unsigned long iova = 0; iova < WIN_SLOTS * SZ_1M; iova += SZ_4K) {
		unsigned long at = iova + (iova >> 12) % SZ_4K;

		if (iopgt_pgtable_iova_to_phys(r->host, r->pgt, at) !=
		    model_phys(r->sh, at))
			g_assert_cmphex(iopgt_pgtable_iova_to_phys(r->host,
								   r->pgt, at),
					==, model_phys(r->sh, at));
	}
	g_assert_cmpint(iopgt_pgtable_walk(r->host, r->pgt, &ops, &w), ==, 0);
	g_assert_cmpuint(w.errors, ==, 0);
	for (unsigned int s = 0; s < WIN_SLOTS; s++) {
		l1 += r->sh->l1[s] != L1_EMPTY;
		for (unsigned int i = 0; i < 256; i++)
			l2 += r->sh->l2[s][i] != L2_EMPTY;
	}
	g_assert_cmpuint(w.l1_seen, ==, l1);
	g_assert_cmpuint(w.l2_seen, ==, l2);

	/* level 1, plus level-2 tables packed four to a page at best */
	iopgt_pgtable_get_mem_stats(r->host, r->pgt, &st);
	g_assert_cmpuint(st.table_bytes, >=,
			 SZ_16K + (r->sh->tables + 3) / 4 * SZ_4K);
	g_assert_cmpuint(st.table_bytes, <=, SZ_16K + r->sh->tables * SZ_4K);
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
		int want = model_map(r->sh, iova, pa, size, count, prot,
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
		want = model_unmap(r->sh, iova, size, count);
		size_t got = iopgt_pgtable_unmap_pages(r->host, r->pgt, iova,
						       size, count, NULL);

		r->unmaps_ok += got != 0;
		r->unmaps_zero += got == 0;
		if (got != want)
			g_error("op %u: unmap(%#lx, %#zx x %zu) = %#zx, model "
				"%#zx", n, iova, size, count, got, want);
	}

	/* every TLB call the model expects, and no other */
	g_assert_cmpuint(r->tlb.pages->len, ==, r->sh->add_pages);
	g_assert_cmpuint(r->tlb.walks->len, ==, r->sh->flush_walks);

	/* a random probe after every op, everything now and then */
	iova = g_rand_int_range(r->rand, 0, WIN_SLOTS * SZ_1M);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(r->host, r->pgt, iova), ==,
			model_phys(r->sh, iova));
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
	r.sh = g_new0(struct shadow, 1);
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
		size_t want = model_unmap(r.sh, s * SZ_1M, SZ_1M, 1);

		g_assert_cmpuint(iopgt_pgtable_unmap_pages(r.host, r.pgt,
							   s * SZ_1M, SZ_1M, 1,
							   NULL), ==, want);
		if (!want && r.sh->l1[s] == L1_SUPER) {
			unsigned int base = s & ~15u;

			size_t got = iopgt_pgtable_unmap_pages(r.host, r.pgt,
							       base * SZ_1M,
							       SZ_16M, 1, NULL);

			g_assert_cmpuint(got, ==, model_unmap(r.sh,
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
	g_free(r.sh);
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
