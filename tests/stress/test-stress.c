// SPDX-License-Identifier: MIT
/*
 * Load/unload stress: worker threads loop load -> alloc -> map -> verify ->
 * unmap -> free -> unload on the real format plugins while a chaos thread
 * keeps trying to unload them and reads the plugin list.  The host must
 * keep its promises under that churn:
 *  - an unload either succeeds or says -EBUSY (or -EINVAL: not loaded);
 *  - a plugin whose unload succeeded has no table left (no table outlives
 *    its plugin's code);
 *  - at the end: no table, no reference, no simulated memory in use, and
 *    every plugin LOADED or UNLOADED.
 *
 * IOPGT_STRESS_THREADS (default 4) and IOPGT_STRESS_CYCLES (default 200)
 * scale it; the defaults keep CI, ASan and TSan runs to seconds.
 */
#include <errno.h>
#include <stdlib.h>

#include "test-util.h"

static const struct {
	const char *plugin;
	const char *format;
	unsigned int ias;
	unsigned int oas;
	unsigned long pgsizes;
} targets[] = {
	{ "io-pgtable-arm", "arm-64-lpae-s1", 48, 48, SZ_4K | SZ_2M | SZ_1G },
	{ "io-pgtable-arm", "arm-64-lpae-s2", 40, 40, SZ_4K | SZ_2M | SZ_1G },
	{ "io-pgtable-arm", "arm-mali-lpae", 48, 40, SZ_4K | SZ_2M | SZ_1G },
	{ "io-pgtable-arm-v7s", "arm-v7s", 32, 32,
	  SZ_4K | SZ_64K | SZ_1M | SZ_16M },
};

struct stress {
	struct iopgt_host *host;
	unsigned int cycles;
	_Atomic int stop;
	_Atomic unsigned long tables_made;
	_Atomic unsigned long alloc_enoent;
	_Atomic unsigned long unload_ok;
	_Atomic unsigned long unload_busy;
	_Atomic unsigned long unload_not_loaded;
	_Atomic unsigned long unload_other;
	_Atomic unsigned long bad_translation;
	_Atomic unsigned long list_rounds;
};

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *v = g_getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 0) : def;
}

static void count_unload(struct stress *st, int ret)
{
	switch (ret) {
	case 0:
		st->unload_ok++;
		break;
	case -EBUSY:
		st->unload_busy++;
		break;
	case -EINVAL:
		st->unload_not_loaded++;
		break;
	default:
		st->unload_other++;
	}
}

/* Map a few pages, check they translate, unmap them. */
static void exercise_table(struct stress *st, struct iopgt_pgtable *pgt,
			   GRand *rand)
{
	unsigned long base = (unsigned long)g_rand_int_range(rand, 1, 64) << 20;
	uint64_t pa = 0x10000000ULL + ((uint64_t)g_rand_int_range(rand, 0, 256)
				       << 16);
	int ret;

	ret = iopgt_pgtable_map(st->host, pgt, base, pa, 16 * SZ_4K,
				IOMMU_READ | IOMMU_WRITE);
	g_assert_cmpint(ret, ==, 0);
	for (unsigned long off = 0; off < 16 * SZ_4K; off += SZ_4K)
		if (iopgt_pgtable_iova_to_phys(st->host, pgt, base + off + 42)
		    != pa + off + 42)
			st->bad_translation++;
	g_assert_cmpuint(iopgt_pgtable_unmap(st->host, pgt, base, 16 * SZ_4K,
					     NULL), ==, 16 * SZ_4K);
}

static gpointer worker(gpointer data)
{
	struct stress *st = data;
	GRand *rand = g_rand_new_with_seed(g_test_rand_int());

	for (unsigned int c = 0; c < st->cycles; c++) {
		unsigned int i = g_rand_int_range(rand, 0,
						  G_N_ELEMENTS(targets));
		struct iopgt_cfg cfg = {
			.ias = targets[i].ias,
			.oas = targets[i].oas,
			.pgsize_bitmap = targets[i].pgsizes,
			.coherent_walk = true,
		};
		struct iopgt_pgtable *pgt = NULL;
		int ret;

		ret = iopgt_host_load_plugin(st->host, targets[i].plugin, NULL);
		g_assert_cmpint(ret, ==, 0);
		ret = iopgt_pgtable_new(st->host, targets[i].format, &cfg,
					NULL, &pgt);
		if (ret == -ENOENT) {
			/* the chaos thread unloaded it in between: fine */
			st->alloc_enoent++;
			continue;
		}
		g_assert_cmpint(ret, ==, 0);
		st->tables_made++;
		/* while we hold a table, the plugin can't go */
		g_assert_cmpint(iopgt_plugin_get_state(
			iopgt_pgtable_get_plugin(st->host, pgt)), ==,
			IOPGT_PLUGIN_LOADED);
		exercise_table(st, pgt, rand);
		iopgt_pgtable_free(st->host, pgt);
		count_unload(st, iopgt_host_unload_plugin(st->host,
							  targets[i].plugin));
	}
	g_rand_free(rand);
	return NULL;
}

static void check_plugin(struct iopgt_plugin *p, void *data)
{
	struct stress *st = data;
	enum iopgt_plugin_state s = iopgt_plugin_get_state(p);
	int users = iopgt_plugin_get_refcount(p);

	(void)st;
	g_assert_cmpint(users, >=, 0);
	/* only a loaded plugin may be used by tables */
	if (s != IOPGT_PLUGIN_LOADED && s != IOPGT_PLUGIN_GOING)
		g_assert_cmpint(users, ==, 0);
}

static gpointer chaos(gpointer data)
{
	struct stress *st = data;
	GRand *rand = g_rand_new_with_seed(g_test_rand_int());

	while (!st->stop) {
		unsigned int i = g_rand_int_range(rand, 0,
						  G_N_ELEMENTS(targets));

		count_unload(st, iopgt_host_unload_plugin(st->host,
							  targets[i].plugin));
		iopgt_host_foreach_plugin(st->host, check_plugin, st);
		st->list_rounds++;
		g_thread_yield();
	}
	g_rand_free(rand);
	return NULL;
}

static void test_churn(void)
{
	struct stress st = {
		.cycles = env_uint("IOPGT_STRESS_CYCLES", 200),
	};
	unsigned int nthreads = env_uint("IOPGT_STRESS_THREADS", 4);
	GThread **threads = g_new0(GThread *, nthreads);
	struct log_capture cap;
	struct iopgt_mem_stats ms;
	GThread *ch;
	gint64 t0;
	double secs;

	g_test_summary("Threads loop load, alloc, map, unmap, free, unload "
		       "while another thread unloads and lists; everything "
		       "balances at the end");
	st.host = iopgt_host_new();
	log_capture_init(&cap);
	log_capture_attach(&cap, st.host);
	iopgt_host_set_log_priority(st.host, IOPGT_LOG_WARNING);
	g_assert_cmpint(iopgt_host_add_plugin_dir(st.host, test_plugin_dir()),
			==, 0);
	g_assert_cmpint(iopgt_host_scan(st.host), >=, 2);

	t0 = g_get_monotonic_time();
	ch = g_thread_new("chaos", chaos, &st);
	for (unsigned int i = 0; i < nthreads; i++)
		threads[i] = g_thread_new("worker", worker, &st);
	for (unsigned int i = 0; i < nthreads; i++)
		g_thread_join(threads[i]);
	st.stop = 1;
	g_thread_join(ch);
	secs = (g_get_monotonic_time() - t0) / 1e6;

	g_test_message("%u threads x %u cycles: %lu tables, %lu alloc races, "
		       "unload ok %lu busy %lu not-loaded %lu, %lu list rounds,"
		       " %.0f cycles/s", nthreads, st.cycles,
		       (unsigned long)st.tables_made,
		       (unsigned long)st.alloc_enoent,
		       (unsigned long)st.unload_ok,
		       (unsigned long)st.unload_busy,
		       (unsigned long)st.unload_not_loaded,
		       (unsigned long)st.list_rounds,
		       nthreads * st.cycles / (secs > 0 ? secs : 1));
	g_assert_cmpuint(st.unload_other, ==, 0);
	g_assert_cmpuint(st.bad_translation, ==, 0);
	g_assert_cmpuint(st.tables_made + st.alloc_enoent, ==,
			 (unsigned long)nthreads * st.cycles);
	g_assert_cmpint(iopgt_host_get_table_count(st.host), ==, 0);
	iopgt_host_foreach_plugin(st.host, check_plugin, &st);
	for (size_t i = 0; i < G_N_ELEMENTS(targets); i++) {
		struct iopgt_plugin *p = iopgt_host_find_plugin(
			st.host, targets[i].plugin);
		enum iopgt_plugin_state s = iopgt_plugin_get_state(p);

		g_assert_cmpint(iopgt_plugin_get_refcount(p), ==, 0);
		g_assert_true(s == IOPGT_PLUGIN_LOADED ||
			      s == IOPGT_PLUGIN_UNLOADED);
	}
	iopgt_host_get_mem_stats(st.host, &ms);
	g_assert_cmpuint(ms.table_bytes, ==, 0);
	g_assert_cmpuint(ms.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(st.host));
	log_capture_clear(&cap);
	g_free(threads);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/host/stress/load-alloc-free-unload-churn",
			test_churn);
	return g_test_run();
}
