// SPDX-License-Identifier: MIT
/*
 * /host/context/..., /host/log/..., /host/mem/...: the host context, its
 * log function and its simulated physical memory.
 *
 * Reference counts are read from the context itself (the tests link the
 * static host and see iopgt-internal.h), so every step asserts an exact
 * count, GStreamer's ASSERT_OBJECT_REFCOUNT way.
 */
#include <errno.h>
#include <string.h>

#include "fake-format.h"
#include "host-fixture.h"
#include "iopgt-internal.h"

#define GOOD_A		"fixture-good-a"
#define GiB		(1ULL << 30)
#define SZ_8K		0x2000UL

static int host_refs(struct iopgt_host *host)
{
	return atomic_load(&host->refcount);
}

static void load_good_a(struct host_fixture *f)
{
	g_autofree char *path = fixture_so("good", GOOD_A);

	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, path, NULL), ==,
			0);
}

/* ---- context ------------------------------------------------------------- */

static void test_new_ref_unref(void)
{
	struct iopgt_host *host;

	g_test_summary("ref() returns its argument, unref() returns NULL "
		       "exactly when the last reference goes");
	host = iopgt_host_new();
	g_assert_nonnull(host);
	g_assert_cmpint(host_refs(host), ==, 1);
	g_assert_true(iopgt_host_ref(host) == host);
	g_assert_cmpint(host_refs(host), ==, 2);
	g_assert_true(iopgt_host_unref(host) == host);
	g_assert_cmpint(host_refs(host), ==, 1);
	g_assert_null(iopgt_host_unref(host));
	g_assert_null(iopgt_host_unref(NULL));
}

static void test_two_hosts_independent(struct host_fixture *f,
				       gconstpointer data)
{
	struct iopgt_host *other = iopgt_host_new();

	(void)data;
	g_test_summary("Two hosts share nothing: a plugin loaded in one is "
		       "unknown to the other");
	load_good_a(f);
	g_assert_nonnull(iopgt_host_find_format(f->host, "fake-a"));
	g_assert_null(iopgt_host_find_format(other, "fake-a"));
	g_assert_null(iopgt_host_find_plugin(other, GOOD_A));
	g_assert_cmpint(iopgt_host_get_log_priority(other), ==,
			IOPGT_LOG_WARNING);
	g_assert_null(iopgt_host_unref(other));
}

static void test_userdata(struct host_fixture *f, gconstpointer data)
{
	int token;

	(void)data;
	g_test_summary("Userdata is NULL on a new host and returned as set");
	g_assert_null(iopgt_host_get_userdata(f->host));
	iopgt_host_set_userdata(f->host, &token);
	g_assert_true(iopgt_host_get_userdata(f->host) == &token);
	iopgt_host_set_userdata(f->host, NULL);
	g_assert_null(iopgt_host_get_userdata(f->host));
}

/* ---- log ----------------------------------------------------------------- */

static void test_log_default_priority(void)
{
	struct iopgt_host *host;

	g_test_summary("Without IOPGT_LOG a new host logs warnings and worse");
	g_unsetenv("IOPGT_LOG");
	host = iopgt_host_new();
	g_assert_cmpint(iopgt_host_get_log_priority(host), ==,
			IOPGT_LOG_WARNING);
	iopgt_host_set_log_priority(host, IOPGT_LOG_DEBUG);
	g_assert_cmpint(iopgt_host_get_log_priority(host), ==,
			IOPGT_LOG_DEBUG);
	g_assert_null(iopgt_host_unref(host));
}

static void test_log_env_override(void)
{
	static const struct {
		const char *env;
		int prio;
	} cases[] = {
		{ "debug", IOPGT_LOG_DEBUG },
		{ "err", IOPGT_LOG_ERR },
		{ "4", IOPGT_LOG_WARNING },
		{ "info", IOPGT_LOG_INFO },
		{ "error", IOPGT_LOG_ERR },
		{ "DEBUG", IOPGT_LOG_DEBUG },
		{ "7", IOPGT_LOG_DEBUG },
		{ "0", 0 },
		/* not understood: the default stays */
		{ "loud", IOPGT_LOG_WARNING },
		{ "8", IOPGT_LOG_WARNING },
		{ "-1", IOPGT_LOG_WARNING },
		{ "3x", IOPGT_LOG_WARNING },
		{ "", IOPGT_LOG_WARNING },
	};

	g_test_summary("IOPGT_LOG=err|error|warning|info|debug or 0..7, read "
		       "by iopgt_host_new(), overrides the priority; anything "
		       "else leaves the default");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct iopgt_host *host;

		g_setenv("IOPGT_LOG", cases[i].env, TRUE);
		host = iopgt_host_new();
		g_unsetenv("IOPGT_LOG");
		if (iopgt_host_get_log_priority(host) != cases[i].prio)
			g_test_message("IOPGT_LOG='%s'", cases[i].env);
		g_assert_cmpint(iopgt_host_get_log_priority(host), ==,
				cases[i].prio);
		g_assert_null(iopgt_host_unref(host));
	}

	/* only at iopgt_host_new(): a later change does nothing */
	{
		struct iopgt_host *host = iopgt_host_new();

		g_setenv("IOPGT_LOG", "debug", TRUE);
		g_assert_cmpint(iopgt_host_get_log_priority(host), ==,
				IOPGT_LOG_WARNING);
		g_unsetenv("IOPGT_LOG");
		g_assert_null(iopgt_host_unref(host));
	}
}

static void test_log_capture(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *path = fixture_so("good", GOOD_A);
	g_autofree char *loaded = g_strdup_printf(
		"info: %s: loaded fixture-good-a 1.0.0 (1 format)", path);
	struct iopgt_cfg cfg = { .pgsize_bitmap = FAKE_PAGE_SIZE, .ias = 40,
				 .oas = 40 };
	struct iopgt_pgtable *pgt = NULL;

	(void)data;
	g_test_summary("The log function gets host and plugin messages with "
		       "their priority, exactly as formatted");
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "no-such-plugin",
					       NULL), ==, -ENOENT);
	assert_logged(f, "err: no plugin named 'no-such-plugin' in the plugin "
		      "directories");

	load_good_a(f);
	assert_logged(f, "debug: fixture-good-a: registered format 'fake-a'");
	assert_logged(f, loaded);

	/* a plugin's message arrives through the services, with its prefix */
	g_assert_cmpint(iopgt_pgtable_new(f->host, "fake-a", &cfg, NULL, &pgt),
			==, -EINVAL);
	assert_logged(f, "debug: fake: ias 40 not in 1..21");
	assert_logged(f, "debug: format 'fake-a': alloc failed: Invalid "
		      "argument");
	g_assert_cmpuint(f->log.lines->len, ==, 5);
}

static void test_log_priority_filters(struct host_fixture *f,
				      gconstpointer data)
{
	struct iopgt_cfg cfg = { .pgsize_bitmap = FAKE_PAGE_SIZE, .ias = 40,
				 .oas = 40 };
	struct iopgt_pgtable *pgt;

	(void)data;
	g_test_summary("Messages above the priority reach neither the log "
		       "function nor, from plugins, the formatter");
	iopgt_host_set_log_priority(f->host, IOPGT_LOG_ERR);
	load_good_a(f);
	g_assert_cmpint(iopgt_pgtable_new(f->host, "fake-a", &cfg, NULL, &pgt),
			==, -EINVAL);
	g_assert_cmpint(iopgt_host_load_plugin(f->host, "nope", NULL), ==,
			-ENOENT);
	g_assert_cmpuint(f->log.lines->len, ==, 1);
	assert_logged(f, "err: no plugin named 'nope' in the plugin "
		      "directories");

	iopgt_host_set_log_priority(f->host, IOPGT_LOG_INFO);
	g_assert_cmpint(iopgt_pgtable_new(f->host, "fake-a", &cfg, NULL, &pgt),
			==, -EINVAL);
	g_assert_cmpuint(f->log.lines->len, ==, 1);
}

static void test_log_default_is_stderr(void)
{
	g_test_summary("The default log function writes 'iopgt: error: ...' "
		       "lines to stderr");
	if (g_test_subprocess()) {
		struct iopgt_host *host;

		g_unsetenv("IOPGT_LOG");
		host = iopgt_host_new();
		iopgt_host_load_plugin(host, "no-such-plugin", NULL);
		/* a NULL function restores the default */
		iopgt_host_set_log_fn(host, NULL, NULL);
		iopgt_host_load_plugin(host, "still-none", NULL);
		iopgt_host_unref(host);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("");
	g_test_trap_assert_stderr(
		"iopgt: error: no plugin named 'no-such-plugin' in the plugin "
		"directories\n"
		"iopgt: error: no plugin named 'still-none' in the plugin "
		"directories\n");
}

/* ---- simulated memory ---------------------------------------------------- */

struct alloc_case {
	size_t size;
	unsigned int flags;
	size_t block;		/* rounded size */
	uint64_t pa;		/* in a fresh 16 GiB memory, in this order */
};

/*
 * A fresh 16 GiB memory hands out the top 1 GiB block of each zone first,
 * splitting it from the bottom: NORMAL [4 GiB, 18 GiB) starts at 17 GiB,
 * DMA32 [2 GiB, 4 GiB) at 3 GiB.
 */
static const struct alloc_case alloc_cases[] = {
	{ 1, 0, SZ_4K, 0x440000000ULL },
	{ SZ_4K, 0, SZ_4K, 0x440001000ULL },
	{ SZ_4K + 1, 0, SZ_8K, 0x440002000ULL },
	{ 3 * SZ_4K, 0, SZ_16K, 0x440004000ULL },
	{ SZ_64K, 0, SZ_64K, 0x440010000ULL },
	{ SZ_2M, 0, SZ_2M, 0x440200000ULL },
	{ SZ_4K, IOPGT_MEM_DMA32, SZ_4K, 0xc0000000ULL },
	{ SZ_16K, IOPGT_MEM_DMA32, SZ_16K, 0xc0004000ULL },
	{ SZ_4K, 0, SZ_4K, 0x440008000ULL },
};

static void run_alloc_cases(struct iopgt_physmem *pm, void **va)
{
	uint64_t off = iopgt_physmem_pa_to_va_offset(pm);
	uint64_t used = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(alloc_cases); i++) {
		const struct alloc_case *c = &alloc_cases[i];
		uint64_t pa = 0;

		g_assert_cmpuint(iopgt_physmem_block_size(c->size), ==,
				 c->block);
		va[i] = iopgt_physmem_alloc(pm, c->size, c->flags, &pa);
		g_assert_nonnull(va[i]);
		g_assert_cmphex(pa, ==, c->pa);
		g_assert_cmphex(pa & (c->block - 1), ==, 0);
		g_assert_cmphex((uintptr_t)va[i] & (c->block - 1), ==, 0);
		g_assert_cmphex((uintptr_t)va[i], ==, pa + off);
		if (c->flags & IOPGT_MEM_DMA32) {
			g_assert_cmphex(pa, >=, IOPGT_PHYS_BASE);
			g_assert_cmphex(pa + c->block, <=, 4 * GiB);
		} else {
			g_assert_cmphex(pa, >=, 4 * GiB);
		}
		/* zeroed, and writable to its last byte */
		g_assert_cmpint(((uint8_t *)va[i])[c->block - 1], ==, 0);
		memset(va[i], 0xa5, c->block);
		used += c->block;
		g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, used);
	}
}

static void test_mem_alignment_and_pa(void)
{
	void *va[G_N_ELEMENTS(alloc_cases)];
	struct iopgt_physmem *pm;

	g_test_summary("Blocks are power-of-two pages, naturally aligned in "
		       "PA and VA, DMA32 below 4 GiB, zeroed, at the same "
		       "addresses in every fresh memory");
	for (int round = 0; round < 2; round++) {
		g_assert_cmpint(iopgt_physmem_new(16 * GiB, &pm), ==, 0);
		g_assert_cmpuint(iopgt_physmem_size(pm), ==, 16 * GiB);
		run_alloc_cases(pm, va);
		for (size_t i = 0; i < G_N_ELEMENTS(alloc_cases); i++)
			iopgt_physmem_release(pm, va[i], alloc_cases[i].size);
		g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 0);
		/* merged back: the first block comes out again, and the
		 * 0xa5 written into it is gone */
		va[0] = iopgt_physmem_alloc(pm, SZ_64K, 0, NULL);
		g_assert_cmphex((uintptr_t)va[0], ==,
				alloc_cases[0].pa +
				iopgt_physmem_pa_to_va_offset(pm));
		for (size_t b = 0; b < SZ_64K; b++)
			if (((uint8_t *)va[0])[b])
				g_assert_cmphex(b, ==, SZ_64K);
		iopgt_physmem_release(pm, va[0], SZ_64K);
		va[0] = iopgt_physmem_alloc(pm, SZ_4K, 0, NULL);
		iopgt_physmem_release(pm, va[0], SZ_4K);
		iopgt_physmem_free(pm);
	}
	g_assert_cmpint(iopgt_physmem_new(16 * IOPGT_PHYS_PAGE - 1, &pm), ==,
			-EINVAL);
}

static uint64_t table_root_pa(struct iopgt_host *host, unsigned int oas,
			      struct iopgt_pgtable **pgt)
{
	struct iopgt_cfg cfg = { .pgsize_bitmap = FAKE_PAGE_SIZE,
				 .ias = FAKE_IAS, .oas = oas,
				 .coherent_walk = true };

	g_assert_cmpint(iopgt_pgtable_new(host, "fake-a", &cfg, NULL, pgt), ==,
			0);
	g_assert_cmphex(cfg.regs[0], ==, (*pgt)->root_pa);
	return (*pgt)->root_pa;
}

static void test_mem_tables_deterministic(struct host_fixture *f,
					  gconstpointer data)
{
	static const uint64_t want[] = {
		0x440000000ULL,	/* oas 48: NORMAL */
		0xc0000000ULL,	/* oas 32: DMA32 */
		0x440001000ULL,
	};
	static const unsigned int oas[] = { 48, 32, 40 };
	struct iopgt_pgtable *pgt[2][G_N_ELEMENTS(want)];
	struct iopgt_host *hosts[2] = { f->host, iopgt_host_new() };
	g_autofree char *copy_dir = g_build_filename(f->tmpdir, "copy", NULL);
	char *path[2] = {
		fixture_so("good", GOOD_A),
		g_build_filename(copy_dir, GOOD_A ".so", NULL),
	};

	(void)data;
	g_test_summary("Two fresh hosts place the same tables at the same "
		       "PAs; a format asking for DMA32 gets memory below "
		       "4 GiB");
	/* each host its own copy: one file would be one shared mapping */
	fixture_copy_to("good", GOOD_A, copy_dir);
	log_capture_attach(&f->log, hosts[1]);
	for (int h = 0; h < 2; h++) {
		g_assert_cmpint(iopgt_host_load_plugin_file(hosts[h], path[h],
							    NULL), ==, 0);
		g_free(path[h]);
	}
	for (int h = 0; h < 2; h++)
		for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
			g_assert_cmphex(table_root_pa(hosts[h], oas[i],
						      &pgt[h][i]), ==,
					want[i]);
	for (int h = 0; h < 2; h++)
		for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
			iopgt_pgtable_free(hosts[h], pgt[h][i]);
	g_assert_null(iopgt_host_unref(hosts[1]));
}

static void test_mem_limit_gives_enomem(struct host_fixture *f,
					gconstpointer data)
{
	struct iopgt_pgtable *a, *b, *c = NULL;
	struct iopgt_mem_stats s;

	(void)data;
	g_test_summary("Beyond the memory limit a format's alloc gets no "
		       "memory and the table fails with -ENOMEM, leaking "
		       "nothing");
	load_good_a(f);
	iopgt_host_set_mem_limit(f->host, 2 * FAKE_TABLE_SIZE);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "a", &a), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "b", &b), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "c", &c), ==,
			-ENOMEM);
	g_assert_null(c);
	assert_logged(f, "debug: format 'fake-a': alloc failed: Cannot "
		      "allocate memory");
	g_assert_cmpint(iopgt_host_get_table_count(f->host), ==, 2);
	g_assert_cmpint(iopgt_plugin_get_refcount(
				iopgt_host_find_plugin(f->host, GOOD_A)),
			==, 2);
	iopgt_host_get_mem_stats(f->host, &s);
	g_assert_cmpuint(s.table_bytes, ==, 2 * FAKE_TABLE_SIZE);
	g_assert_cmpuint(s.table_allocs, ==, 2);
	g_assert_cmpuint(s.state_bytes, ==, 2 * sizeof(struct fake_pgtable));

	/* lifting the limit (0) applies at once */
	iopgt_host_set_mem_limit(f->host, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "c", &c), ==, 0);
	iopgt_pgtable_free(f->host, c);

	/* a limit below what is in use refuses only new memory */
	iopgt_host_set_mem_limit(f->host, FAKE_TABLE_SIZE);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", "c", &c), ==,
			-ENOMEM);
	assert_fake_table_works(f->host, a);
	iopgt_pgtable_free(f->host, a);
	iopgt_pgtable_free(f->host, b);
}

static void test_mem_size_bounds_tables(struct host_fixture *f,
					gconstpointer data)
{
	struct iopgt_pgtable *pgt[17];

	(void)data;
	g_test_summary("A 64 KiB memory holds exactly 16 one-page tables, all "
		       "in DMA32 [2 GiB, 2 GiB + 64 KiB)");
	load_good_a(f);
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, SZ_64K), ==, 0);
	for (int i = 0; i < 16; i++) {
		g_assert_cmpint(fake_table_new(f->host, "fake-a", NULL,
					       &pgt[i]), ==, 0);
		g_assert_cmphex(pgt[i]->root_pa, >=, IOPGT_PHYS_BASE);
		g_assert_cmphex(pgt[i]->root_pa, <, IOPGT_PHYS_BASE + SZ_64K);
	}
	g_assert_cmpint(fake_table_new(f->host, "fake-a", NULL, &pgt[16]), ==,
			-ENOMEM);
	for (int i = 0; i < 16; i++)
		iopgt_pgtable_free(f->host, pgt[i]);
}

static void test_mem_set_size_after_use_is_ebusy(struct host_fixture *f,
						 gconstpointer data)
{
	struct iopgt_pgtable *pgt;

	(void)data;
	g_test_summary("The memory size can change only before the first "
		       "table; below 64 KiB it is -EINVAL");
	load_good_a(f);
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, SZ_64K - 1), ==,
			-EINVAL);
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, SZ_1M), ==, 0);
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, SZ_2M), ==, 0);
	g_assert_cmpint(fake_table_new(f->host, "fake-a", NULL, &pgt), ==, 0);
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, SZ_1M), ==, -EBUSY);
	iopgt_pgtable_free(f->host, pgt);
	/* the memory exists now, even with nothing in it */
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, SZ_1M), ==, -EBUSY);
	g_assert_cmpint(iopgt_host_set_mem_size(f->host, SZ_64K - 1), ==,
			-EINVAL);
}

static void test_mem_stats_exact(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_cfg cfg = { .pgsize_bitmap = FAKE_PAGE_SIZE,
				 .ias = FAKE_IAS, .oas = 40 };
	struct iopgt_mem_stats s;
	struct iopgt_pgtable *pgt;

	(void)data;
	g_test_summary("Per-table and host memory figures are exact and go "
		       "back to zero when the table is freed; syncs are kept");
	load_good_a(f);
	iopgt_host_get_mem_stats(f->host, &s);
	g_assert_cmpuint(s.table_bytes, ==, 0);
	g_assert_cmpuint(s.syncs, ==, 0);

	/* non-coherent: one sync for the new table, one per map, unmap */
	g_assert_cmpint(iopgt_pgtable_new(f->host, "fake-a", &cfg, NULL, &pgt),
			==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, pgt, 0x10000, 0x200000,
					  3 * SZ_4K, IOMMU_READ), ==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, pgt, 0x10000, 3 * SZ_4K,
					     NULL), ==, 3 * SZ_4K);

	iopgt_pgtable_get_mem_stats(f->host, pgt, &s);
	g_assert_cmpuint(s.table_bytes, ==, FAKE_TABLE_SIZE);
	g_assert_cmpuint(s.table_allocs, ==, 1);
	g_assert_cmpuint(s.peak_table_bytes, ==, FAKE_TABLE_SIZE);
	g_assert_cmpuint(s.state_bytes, ==, sizeof(struct fake_pgtable));
	g_assert_cmpuint(s.syncs, ==, 3);
	iopgt_host_get_mem_stats(f->host, &s);
	g_assert_cmpuint(s.table_bytes, ==, FAKE_TABLE_SIZE);
	g_assert_cmpuint(s.table_allocs, ==, 1);
	g_assert_cmpuint(s.peak_table_bytes, ==, FAKE_TABLE_SIZE);
	g_assert_cmpuint(s.state_bytes, ==, sizeof(struct fake_pgtable));
	g_assert_cmpuint(s.syncs, ==, 3);

	iopgt_pgtable_free(f->host, pgt);
	iopgt_host_get_mem_stats(f->host, &s);
	g_assert_cmpuint(s.table_bytes, ==, 0);
	g_assert_cmpuint(s.table_allocs, ==, 0);
	g_assert_cmpuint(s.peak_table_bytes, ==, 0);
	g_assert_cmpuint(s.state_bytes, ==, 0);
	g_assert_cmpuint(s.syncs, ==, 3);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/host/context/new-ref-unref", test_new_ref_unref);
	host_test_add("/host/context/two-hosts-independent",
		      test_two_hosts_independent);
	host_test_add("/host/context/userdata", test_userdata);

	g_test_add_func("/host/log/default-priority",
			test_log_default_priority);
	g_test_add_func("/host/log/env-override", test_log_env_override);
	host_test_add("/host/log/capture", test_log_capture);
	host_test_add("/host/log/priority-filters", test_log_priority_filters);
	g_test_add_func("/host/log/default-is-stderr",
			test_log_default_is_stderr);

	g_test_add_func("/host/mem/alignment-and-pa",
			test_mem_alignment_and_pa);
	host_test_add("/host/mem/tables-deterministic",
		      test_mem_tables_deterministic);
	host_test_add("/host/mem/limit-gives-enomem",
		      test_mem_limit_gives_enomem);
	host_test_add("/host/mem/size-bounds-tables",
		      test_mem_size_bounds_tables);
	host_test_add("/host/mem/set-size-after-use-is-ebusy",
		      test_mem_set_size_after_use_is_ebusy);
	host_test_add("/host/mem/stats-exact", test_mem_stats_exact);

	return g_test_run();
}
