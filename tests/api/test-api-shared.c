// SPDX-License-Identifier: MIT
/*
 * The /api/shared/ tests: a program linked against the shared libiopgt-host, as an
 * embedder links it, drives a real plugin through the public API only.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/host.h>

static void test_public_api_round_trip(void)
{
	struct iopgt_cfg cfg = {
		.ias = 48, .oas = 48, .coherent_walk = true,
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
	};
	g_autofree char *path = NULL;
	struct iopgt_host *host;
	struct iopgt_plugin *plugin = NULL;
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_mem_stats ms;

	g_test_summary("Load, map, translate, refuse unload, free, unload "
		       "through the exported symbols of libiopgt-host.so");
	host = iopgt_host_new();
	g_assert_nonnull(host);
	iopgt_host_set_log_priority(host, IOPGT_LOG_ERR);
	path = g_build_filename(g_getenv("IOPGT_TEST_PLUGIN_DIR"),
				"io-pgtable-arm.so", NULL);
	g_assert_cmpint(iopgt_host_load_plugin_file(host, path, &plugin), ==, 0);
	g_assert_cmpstr(iopgt_plugin_get_name(plugin), ==, "io-pgtable-arm");
	g_assert_true(iopgt_host_find_format(host, "ARM_64_LPAE_S1") == plugin);
	g_assert_cmpint(iopgt_pgtable_new(host, "ARM_64_LPAE_S1", &cfg, NULL,
					  &pgt), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_refcount(plugin), ==, 1);
	g_assert_cmpint(iopgt_pgtable_map(host, pgt, SZ_1G, 0x12340000, SZ_2M,
					  IOMMU_READ | IOMMU_WRITE), ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(host, pgt, SZ_1G + 0x42), ==,
			0x12340042);
	g_assert_cmpint(iopgt_host_unload_plugin(host, "io-pgtable-arm"), ==,
			-EBUSY);
	g_assert_cmpuint(iopgt_pgtable_unmap(host, pgt, SZ_1G, SZ_2M, NULL), ==,
			 SZ_2M);
	iopgt_pgtable_free(host, pgt);
	g_assert_cmpint(iopgt_plugin_get_refcount(plugin), ==, 0);
	iopgt_host_get_mem_stats(host, &ms);
	g_assert_cmpuint(ms.table_bytes, ==, 0);
	g_assert_cmpint(iopgt_host_unload_plugin(host, "io-pgtable-arm"), ==, 0);
	g_assert_cmpint(iopgt_plugin_get_state(plugin), ==,
			IOPGT_PLUGIN_UNLOADED);
	g_assert_null(iopgt_host_unref(host));
}

static void set_reg(void *data, const char *name, uint64_t value)
{
	g_assert_cmpint(iopgt_inspect_set_reg(data, name, value), ==, 0);
}

static int zero_read(void *ctx, uint64_t pa, size_t size, void *buf)
{
	(void)ctx;
	(void)pa;
	memset(buf, 0, size);
	return 0;
}

/*
 * The inspector's exports (LIBIOPGT_HOST_6 and _7) as an embedder links
 * them: a live table read through the host's memory, nested over an
 * inspector of its own, and a caller's source.
 */
static void test_public_inspect(void)
{
	struct iopgt_cfg cfg = {
		.ias = 48, .oas = 48, .coherent_walk = true,
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
	};
	struct iopgt_inspect *insp = NULL, *s2 = NULL;
	struct iopgt_nested_xlate nx;
	struct iopgt_xlate x;
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_host *host = iopgt_host_new();
	g_autofree char *path = g_build_filename(
		g_getenv("IOPGT_TEST_PLUGIN_DIR"), "io-pgtable-arm.so", NULL);

	g_test_summary("The inspector's exported calls read a live table");
	iopgt_host_set_log_priority(host, IOPGT_LOG_ERR);
	g_assert_cmpint(iopgt_host_load_plugin_file(host, path, NULL), ==, 0);
	g_assert_cmpint(iopgt_host_format_has_foreign(host, "arm-64-lpae-s1"),
			==, 1);
	g_assert_cmpint(iopgt_pgtable_new(host, "arm-64-lpae-s1", &cfg, NULL,
					  &pgt), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(host, pgt, SZ_1G, 0x12340000, SZ_4K,
					  IOMMU_READ), ==, 0);
	g_assert_cmpint(iopgt_inspect_new(host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_host_memory(insp), ==, 0);
	iopgt_pgtable_describe_regs(host, pgt, set_reg, insp);
	g_assert_cmpint(iopgt_inspect_open(insp, "arm-64-lpae-s1"), ==, 0);
	g_assert_cmpint(iopgt_inspect_translate(insp, SZ_1G + 0x42,
						IOPGT_ACCESS_WRITE, &x), ==, 0);
	g_assert_cmpstr(iopgt_fault_name(x.fault), ==, "permission");
	g_assert_cmpint(x.level, ==, 3);
	g_assert_cmpint(iopgt_inspect_check(insp, NULL, NULL), ==, 0);
	/* an open inspector takes no stage 2; a nested translate needs one */
	g_assert_cmpint(iopgt_inspect_new(host, &s2), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_source(s2, 0, SZ_1G, zero_read,
						 NULL), ==, 0);
	g_assert_cmpint(iopgt_inspect_set_stage2(insp, s2), ==, -EBUSY);
	g_assert_cmpint(iopgt_inspect_translate_nested(insp, 0,
						       IOPGT_ACCESS_READ, &nx),
			==, -EINVAL);
	iopgt_inspect_free(s2);
	iopgt_inspect_free(insp);
	iopgt_pgtable_free(host, pgt);
	g_assert_null(iopgt_host_unref(host));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/api/shared/public-api-round-trip",
			test_public_api_round_trip);
	g_test_add_func("/api/shared/public-inspect", test_public_inspect);
	return g_test_run();
}
