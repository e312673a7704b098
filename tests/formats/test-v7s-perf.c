// SPDX-License-Identifier: MIT
/*
 * The v7s hot paths as fixed scenarios, for instruction budgets.
 *
 * Natively a plain test: each scenario runs PERF_N operations on a warm
 * (L2 tables already present) 32-bit ARM_V7S table made through the host
 * and checks every result.  Under callgrind each scenario is one noinline
 * function called once per phase, so its inclusive cost per call divided
 * by PERF_N is instructions per operation (the loop adds a few):
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *            tests/test-v7s-perf
 *   callgrind_annotate --inclusive=yes cg.out | grep '=> .*perf_'
 *
 * Map/unmap of 1M sections are run alongside.  The instruction budgets
 * are not asserted here: they are written once, in bench/budgets.txt, for
 * iopgt-bench's workloads of the same operations (bench_v7s_*), and the
 * perf CTest `perf-budgets` fails when one is exceeded
 * (docs/performance.md, "The perf CTest").
 */
#include <errno.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define PERF_N		4096
#define RW		(IOMMU_READ | IOMMU_WRITE)
#define BASE_4K		0x10000000UL	/* 16 MiB of 4K pages: 16 L2 tables */
#define BASE_1M		0x40000000UL	/* 1 GiB of sections */

/* failures are counted, not asserted, to keep the loops lean */
static unsigned int failures;

static __attribute__((noinline)) void
perf_map(struct iopgt_ops *ops, unsigned long base, size_t size)
{
	for (unsigned long i = 0; i < PERF_N / (size == SZ_4K ? 1 : 4); i++) {
		size_t mapped = 0;

		if (ops->map_pages(ops, base + i * size, base + i * size, size,
				   1, RW, &mapped) || mapped != size)
			failures++;
	}
}

static __attribute__((noinline)) void
perf_unmap(struct iopgt_ops *ops, unsigned long base, size_t size)
{
	for (unsigned long i = 0; i < PERF_N / (size == SZ_4K ? 1 : 4); i++)
		if (ops->unmap_pages(ops, base + i * size, size, 1, NULL) !=
		    size)
			failures++;
}

static __attribute__((noinline)) uint64_t
perf_iova_to_phys(struct iopgt_ops *ops, unsigned long base)
{
	uint64_t sum = 0;

	for (unsigned long i = 0; i < PERF_N; i++)
		sum += ops->iova_to_phys(ops, base + i * SZ_4K + 42);
	return sum;
}

static void test_hot_paths(void)
{
	struct iopgt_host *host = iopgt_host_new();
	struct iopgt_cfg cfg = {
		.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M,
		.ias = 32,
		.oas = 32,
		.coherent_walk = true,
	};
	struct iopgt_pgtable *pgt;
	struct iopgt_mem_stats st;
	struct iopgt_ops *ops;
	uint64_t expect = 0;

	g_test_summary("The v7s hot-path scenarios behind the instruction "
		       "budgets (warm 4K map/unmap/lookup, 1M sections) all "
		       "succeed");
	g_assert_cmpint(iopgt_host_register_builtin(host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(host, "arm-v7s", &cfg, NULL, &pgt),
			==, 0);
	ops = &pgt->ops;

	/* cold then warm: the L2 tables stay after the first unmap */
	perf_map(ops, BASE_4K, SZ_4K);
	perf_unmap(ops, BASE_4K, SZ_4K);
	perf_map(ops, BASE_4K, SZ_4K);
	for (unsigned long i = 0; i < PERF_N; i++)
		expect += BASE_4K + i * SZ_4K + 42;
	g_assert_cmphex(perf_iova_to_phys(ops, BASE_4K), ==, expect);
	perf_unmap(ops, BASE_4K, SZ_4K);

	/* 1M sections (1024 of them: a quarter of PERF_N) */
	perf_map(ops, BASE_1M, SZ_1M);
	perf_unmap(ops, BASE_1M, SZ_1M);
	g_assert_cmpuint(failures, ==, 0);

	iopgt_pgtable_free(host, pgt);
	iopgt_host_get_mem_stats(host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
	g_assert_null(iopgt_host_unref(host));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/v7s/perf/hot-paths", test_hot_paths);
	return g_test_run();
}
