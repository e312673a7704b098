// SPDX-License-Identifier: MIT
/*
 * The LPAE hot paths as fixed scenarios, for instruction budgets.
 *
 * Natively this is a plain test: each scenario runs PERF_N operations on a
 * 4K, 48-bit ARM_64_LPAE_S1 table made through the host, warm (the tables
 * exist), and checks every result.  Under callgrind each scenario is one
 * noinline function, so its inclusive cost divided by PERF_N is the
 * instructions per operation (the loop adds about 8):
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *            tests/test-lpae-perf
 *   callgrind_annotate --inclusive=yes cg.out | grep perf_
 *
 * The instruction budgets are not asserted here: they are written once,
 * in bench/budgets.txt, for iopgt-bench's workloads of the same
 * operations (bench_s1_*), and the perf CTest `perf-budgets` fails when
 * one is exceeded (docs/performance.md, "The perf CTest").
 */
#include <errno.h>

#include <glib.h>

#include <iopgt/host.h>

#include "test-util.h"

extern const struct iopgt_plugin_desc iopgt_plugin_desc;

#define PERF_N		4096
#define RW		(IOMMU_READ | IOMMU_WRITE)
#define BASE		(1UL << 30)

/* failures are counted, not asserted, to keep the loops lean */
static unsigned int failures;

static __attribute__((noinline)) void
perf_map_4k(struct iopgt_ops *ops, unsigned long base)
{
	for (unsigned long i = 0; i < PERF_N; i++) {
		size_t mapped = 0;

		if (ops->map_pages(ops, base + i * SZ_4K, base + i * SZ_4K,
				   SZ_4K, 1, RW, &mapped))
			failures++;
	}
}

static __attribute__((noinline)) void
perf_unmap_4k(struct iopgt_ops *ops, unsigned long base)
{
	for (unsigned long i = 0; i < PERF_N; i++)
		if (ops->unmap_pages(ops, base + i * SZ_4K, SZ_4K, 1, NULL) !=
		    SZ_4K)
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

static __attribute__((noinline)) void
perf_map_512(struct iopgt_ops *ops, unsigned long base, unsigned int n)
{
	for (unsigned long i = 0; i < n; i++) {
		size_t mapped = 0;

		if (ops->map_pages(ops, base + i * SZ_2M, base + i * SZ_2M,
				   SZ_4K, 512, RW, &mapped) || mapped != SZ_2M)
			failures++;
	}
}

static __attribute__((noinline)) void
perf_unmap_512(struct iopgt_ops *ops, unsigned long base, unsigned int n)
{
	for (unsigned long i = 0; i < n; i++)
		if (ops->unmap_pages(ops, base + i * SZ_2M, SZ_4K, 512, NULL) !=
		    SZ_2M)
			failures++;
}

static __attribute__((noinline)) void
perf_map_2m(struct iopgt_ops *ops, unsigned long base)
{
	for (unsigned long i = 0; i < PERF_N; i++) {
		size_t mapped = 0;

		if (ops->map_pages(ops, base + i * SZ_2M, i * SZ_2M, SZ_2M, 1,
				   RW, &mapped))
			failures++;
	}
}

static __attribute__((noinline)) void
perf_unmap_2m(struct iopgt_ops *ops, unsigned long base)
{
	for (unsigned long i = 0; i < PERF_N; i++)
		if (ops->unmap_pages(ops, base + i * SZ_2M, SZ_2M, 1, NULL) !=
		    SZ_2M)
			failures++;
}

static void test_hot_paths(void)
{
	struct iopgt_host *host = iopgt_host_new();
	struct iopgt_cfg cfg = {
		.quirks = IO_PGTABLE_QUIRK_NO_WARN,
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
		.ias = 48,
		.oas = 48,
		.coherent_walk = true,
	};
	struct iopgt_pgtable *pgt;
	struct iopgt_mem_stats st;
	struct iopgt_ops *ops;
	uint64_t expect = 0;

	g_test_summary("The hot-path scenarios behind the instruction budgets "
		       "(warm 4K, 4K x 512 and 2M maps, unmaps and lookups) "
		       "all succeed");
	g_assert_cmpint(iopgt_host_register_builtin(host, &iopgt_plugin_desc,
						    NULL), ==, 0);
	g_assert_cmpint(iopgt_pgtable_new(host, "arm-64-lpae-s1", &cfg, NULL,
					  &pgt), ==, 0);
	ops = &pgt->ops;

	/* warm: the tables for [BASE, BASE + 16M) exist from here on */
	perf_map_4k(ops, BASE);
	perf_unmap_4k(ops, BASE);

	perf_map_4k(ops, BASE);
	for (unsigned long i = 0; i < PERF_N; i++)
		expect += BASE + i * SZ_4K + 42;
	g_assert_cmphex(perf_iova_to_phys(ops, BASE), ==, expect);
	perf_unmap_4k(ops, BASE);

	perf_map_512(ops, BASE, PERF_N / 512);
	perf_unmap_512(ops, BASE, PERF_N / 512);

	/* 2M blocks in a region of their own, after a warm-up */
	perf_map_2m(ops, 64 * BASE);
	perf_unmap_2m(ops, 64 * BASE);
	perf_map_2m(ops, 64 * BASE);
	perf_unmap_2m(ops, 64 * BASE);
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
	g_test_add_func("/lpae/perf/hot-paths-succeed", test_hot_paths);
	return g_test_run();
}
