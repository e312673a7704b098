// SPDX-License-Identifier: MIT
/*
 * Page-table operations, measured the way a user of libiopgt-host runs
 * them: plugins dlopen'd by the host, a table from iopgt_pgtable_new()
 * with no-op TLB callbacks and a coherent walker, and every operation
 * through iopgt_pgtable_map_pages/unmap_pages/iova_to_phys.
 *
 * Each workload is one noinline function named bench_<fmt>_<row>, used
 * both for the wall-clock runs and, with a small fixed count, under
 * callgrind (--callgrind), so its inclusive instruction count divided by
 * the printed unit count is the cost per operation.
 *
 * The direct-link comparison (--direct) runs the same workloads on the
 * same format code linked into this program (the io-pgtable-arm-static and
 * io-pgtable-arm-v7s-static archives, descriptor symbol renamed so both
 * fit in one program), registered with iopgt_host_register_builtin() so
 * that tables get the very same memory services, and then calls
 * pgt->ops.map_pages() itself.  What that removes is the host's op
 * wrapper and the call into a separate shared object; what stays is the
 * indirect call through the ops table, which is the io-pgtable contract
 * itself (Linux calls ops->map_pages() the same way).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench.h"

#define RW		(IOMMU_READ | IOMMU_WRITE)

/* Wall-clock rows under --callgrind or --tiny use this many units. */
#define CG_UNITS	4096u
#define CG_ALLOC_FREE	64u

/* The direct-link descriptors (objcopy --redefine-sym, see CMakeLists). */
extern const struct iopgt_plugin_desc iopgt_bench_lpae_desc;
extern const struct iopgt_plugin_desc iopgt_bench_v7s_desc;

/* ---- formats ------------------------------------------------------------- */

/* The first NR_MAIN_FMTS also get the memory and threads sections. */
enum bench_fmt {
	FMT_s1, FMT_s2, FMT_v7s, NR_MAIN_FMTS,
	FMT_s1_16k = NR_MAIN_FMTS, FMT_s1_64k, NR_FMTS
};

struct fmt_info {
	const char *key;		/* --format s1 */
	const char *format;		/* registered name */
	const char *plugin;
	unsigned int ias;
	unsigned int oas;
	unsigned long pgsizes;
	unsigned long base;		/* first iova the rows map */
	bool lpae;
};

/*
 * 4K granule, 48-bit iova and PA: four levels (0-3) for both stages, no
 * concatenated stage-2 pgd, so 1 GiB of 4K pages is 512 + 1 + 1 + 1
 * tables in either.  v7s: 32-bit, 4K/64K/1M/16M.  The 16K and 64K
 * granules (stage 1, 48-bit) get the operation rows only.
 */
static const struct fmt_info fmts[NR_FMTS] = {
	[FMT_s1] = { "s1", "arm-64-lpae-s1", "io-pgtable-arm", 48, 48,
		     SZ_4K | SZ_2M | SZ_1G, SZ_1G, true },
	[FMT_s2] = { "s2", "arm-64-lpae-s2", "io-pgtable-arm", 48, 48,
		     SZ_4K | SZ_2M | SZ_1G, SZ_1G, true },
	[FMT_v7s] = { "v7s", "arm-v7s", "io-pgtable-arm-v7s", 32, 32,
		      SZ_4K | SZ_64K | SZ_1M | SZ_16M, 0x10000000UL, false },
	[FMT_s1_16k] = { "s1-16k", "arm-64-lpae-s1", "io-pgtable-arm", 48, 48,
			 SZ_16K | SZ_32M, SZ_1G, true },
	[FMT_s1_64k] = { "s1-64k", "arm-64-lpae-s1", "io-pgtable-arm", 48, 48,
			 SZ_64K | SZ_512M, SZ_1G, true },
};

/* The largest v7s region starting at its base. */
#define V7S_MAX_SIZE	(SZ_4G - 0x10000000UL)

static uint64_t fmt_size(const struct bench *b, const struct fmt_info *fi)
{
	return fi->lpae ? b->opt.lpae_size : b->opt.v7s_size;
}

/* ---- TLB callbacks: a driver that has nothing to invalidate -------------- */

static void noop_flush_all(void *cookie)
{
	(void)cookie;
}

static void noop_flush_walk(unsigned long iova, size_t size, size_t granule,
			    void *cookie)
{
	(void)iova;
	(void)size;
	(void)granule;
	(void)cookie;
}

static void noop_add_page(struct iopgt_iotlb_gather *gather,
			  unsigned long iova, size_t granule, void *cookie)
{
	(void)gather;
	(void)iova;
	(void)granule;
	(void)cookie;
}

static const struct iopgt_flush_ops noop_tlb = {
	.tlb_flush_all = noop_flush_all,
	.tlb_flush_walk = noop_flush_walk,
	.tlb_add_page = noop_add_page,
};

static int table_new(struct iopgt_host *host, const struct fmt_info *fi,
		     struct iopgt_pgtable **out)
{
	struct iopgt_cfg cfg = {
		.pgsize_bitmap = fi->pgsizes,
		.ias = fi->ias,
		.oas = fi->oas,
		.coherent_walk = true,
		.tlb = &noop_tlb,
	};

	return iopgt_pgtable_new(host, fi->format, &cfg, NULL, out);
}

/* Map [iova, iova + size) as pages of pgsize, in batches, identity PA. */
static int premap(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		  unsigned long iova, uint64_t size, size_t pgsize)
{
	uint64_t done = 0;

	while (done < size) {
		size_t count = MIN((size - done) / pgsize, 512);
		size_t mapped = 0;
		int ret;

		ret = iopgt_pgtable_map_pages(host, pgt, iova + done,
					      iova + done, pgsize, count, RW,
					      &mapped);
		if (ret < 0)
			return ret;
		if (!mapped)
			return -EPROTO;
		done += mapped;
	}
	return 0;
}

/* ---- workloads ----------------------------------------------------------- */

/* Everything one workload call needs, set up before the clock starts. */
struct run {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	const struct fmt_info *fi;
	unsigned long base;
	uint64_t calls;
	const unsigned long *iovas;	/* lookups */
	uint64_t expect;		/* their sum (identity PA) */
};

/*
 * One op, through the host (direct == false: what a user calls) or the
 * ops table (direct == true).  direct is a constant in every caller, so
 * each workload compiles to one straight loop.
 */
static __always_inline int op_map(struct iopgt_host *host,
				      struct iopgt_pgtable *pgt, bool direct,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount, size_t *mapped)
{
	if (direct)
		return pgt->ops.map_pages(&pgt->ops, iova, iova, pgsize,
					  pgcount, RW, mapped);
	return iopgt_pgtable_map_pages(host, pgt, iova, iova, pgsize, pgcount,
				       RW, mapped);
}

static __always_inline size_t op_unmap(struct iopgt_host *host,
					   struct iopgt_pgtable *pgt,
					   bool direct, unsigned long iova,
					   size_t pgsize, size_t pgcount)
{
	if (direct)
		return pgt->ops.unmap_pages(&pgt->ops, iova, pgsize, pgcount,
					    NULL);
	return iopgt_pgtable_unmap_pages(host, pgt, iova, pgsize, pgcount,
					 NULL);
}

static __always_inline uint64_t op_iova(struct iopgt_host *host,
					    struct iopgt_pgtable *pgt,
					    bool direct, unsigned long iova)
{
	if (direct)
		return pgt->ops.iova_to_phys(&pgt->ops, iova);
	return iopgt_pgtable_iova_to_phys(host, pgt, iova);
}

/*
 * The workloads are written as a caller would write them: host and table
 * in locals, *mapped accumulated over the calls (the ops add to it, as
 * iommu_map() relies on), results checked once after the loop.
 * Returns: 0, or 1 if any result was wrong.
 */
static __always_inline unsigned int wl_map(const struct run *r,
					       bool direct, size_t pgsize,
					       size_t pgcount)
{
	struct iopgt_host *host = r->host;
	struct iopgt_pgtable *pgt = r->pgt;
	const size_t step = pgsize * pgcount;
	const unsigned long base = r->base;
	const uint64_t calls = r->calls;
	size_t mapped = 0;
	int err = 0;

	for (uint64_t i = 0; i < calls; i++)
		err |= op_map(host, pgt, direct, base + i * step, pgsize,
			      pgcount, &mapped);
	return err || mapped != calls * step;
}

static __always_inline unsigned int wl_unmap(const struct run *r,
						 bool direct, size_t pgsize,
						 size_t pgcount)
{
	struct iopgt_host *host = r->host;
	struct iopgt_pgtable *pgt = r->pgt;
	const size_t step = pgsize * pgcount;
	const unsigned long base = r->base;
	const uint64_t calls = r->calls;
	size_t unmapped = 0;

	for (uint64_t i = 0; i < calls; i++)
		unmapped += op_unmap(host, pgt, direct, base + i * step, pgsize,
				     pgcount);
	return unmapped != calls * step;
}

static __always_inline unsigned int wl_iova(const struct run *r,
						bool direct, size_t pgsize,
						size_t pgcount)
{
	struct iopgt_host *host = r->host;
	struct iopgt_pgtable *pgt = r->pgt;
	const unsigned long *iovas = r->iovas;
	const uint64_t calls = r->calls;
	uint64_t sum = 0;

	(void)pgsize;
	(void)pgcount;
	for (uint64_t i = 0; i < calls; i++)
		sum += op_iova(host, pgt, direct, iovas[i]);
	return sum != r->expect;
}

typedef unsigned int (*workload_fn)(const struct run *r);

enum path { PATH_HOST, PATH_BUILTIN, PATH_DIRECT, NR_PATHS };

static const char *const path_names[NR_PATHS] = {
	[PATH_HOST] = "host, dlopen'd plugin",
	[PATH_BUILTIN] = "host, linked-in format",
	[PATH_DIRECT] = "pgt->ops, linked-in format",
};

/*
 * The rows: format, row, workload, pgsize, pgcount.  Each row gets three
 * functions: bench_<fmt>_<row> (the host path), bench_<fmt>_<row>_builtin
 * (the same on the built-in table's host) and bench_<fmt>_<row>_direct.
 * Their instruction budgets are in bench/budgets.txt, which
 * bench/callgrind.sh and the perf CTest check.
 */
#define OP_ROWS(X)                                                      \
	X(s1, map_4k, map, SZ_4K, 1)                                    \
	X(s1, map_4k_x512, map, SZ_4K, 512)                             \
	X(s1, unmap_4k, unmap, SZ_4K, 1)                                \
	X(s1, unmap_4k_x512, unmap, SZ_4K, 512)                         \
	X(s1, map_2m, map, SZ_2M, 1)                                    \
	X(s1, map_2m_x512, map, SZ_2M, 512)                             \
	X(s1, unmap_2m, unmap, SZ_2M, 1)                                \
	X(s1, unmap_2m_x512, unmap, SZ_2M, 512)                         \
	X(s1, map_1g, map, SZ_1G, 1)                                    \
	X(s1, map_1g_x512, map, SZ_1G, 512)                             \
	X(s1, unmap_1g, unmap, SZ_1G, 1)                                \
	X(s1, unmap_1g_x512, unmap, SZ_1G, 512)                         \
	X(s1, iova_to_phys, iova, SZ_4K, 1)                             \
	X(s2, map_4k, map, SZ_4K, 1)                                    \
	X(s2, map_4k_x512, map, SZ_4K, 512)                             \
	X(s2, unmap_4k, unmap, SZ_4K, 1)                                \
	X(s2, unmap_4k_x512, unmap, SZ_4K, 512)                         \
	X(s2, map_2m, map, SZ_2M, 1)                                    \
	X(s2, iova_to_phys, iova, SZ_4K, 1)                             \
	X(s1_16k, map_16k, map, SZ_16K, 1)                              \
	X(s1_16k, map_16k_x512, map, SZ_16K, 512)                       \
	X(s1_16k, unmap_16k, unmap, SZ_16K, 1)                          \
	X(s1_16k, unmap_16k_x512, unmap, SZ_16K, 512)                   \
	X(s1_16k, map_32m, map, SZ_32M, 1)                              \
	X(s1_16k, map_32m_x512, map, SZ_32M, 512)                       \
	X(s1_16k, unmap_32m, unmap, SZ_32M, 1)                          \
	X(s1_16k, unmap_32m_x512, unmap, SZ_32M, 512)                   \
	X(s1_16k, iova_to_phys, iova, SZ_16K, 1)                        \
	X(s1_64k, map_64k, map, SZ_64K, 1)                              \
	X(s1_64k, map_64k_x512, map, SZ_64K, 512)                       \
	X(s1_64k, unmap_64k, unmap, SZ_64K, 1)                          \
	X(s1_64k, unmap_64k_x512, unmap, SZ_64K, 512)                   \
	X(s1_64k, map_512m, map, SZ_512M, 1)                            \
	X(s1_64k, map_512m_x512, map, SZ_512M, 512)                     \
	X(s1_64k, unmap_512m, unmap, SZ_512M, 1)                        \
	X(s1_64k, unmap_512m_x512, unmap, SZ_512M, 512)                 \
	X(s1_64k, iova_to_phys, iova, SZ_64K, 1)                        \
	X(v7s, map_4k, map, SZ_4K, 1)                                   \
	X(v7s, unmap_4k, unmap, SZ_4K, 1)                               \
	X(v7s, map_1m, map, SZ_1M, 1)                                   \
	X(v7s, unmap_1m, unmap, SZ_1M, 1)                               \
	X(v7s, map_16m, map, SZ_16M, 1)                                 \
	X(v7s, unmap_16m, unmap, SZ_16M, 1)                             \
	X(v7s, iova_to_phys, iova, SZ_4K, 1)

#define DEFINE_WORKLOAD(name, kind, direct, pgsize, pgcount)            \
	static bench_noinline unsigned int name(const struct run *r)       \
	{                                                                  \
		return wl_##kind(r, direct, pgsize, pgcount);              \
	}
#define DEFINE_ROW(fmt, row, kind, pgsize, pgcount)                     \
	DEFINE_WORKLOAD(bench_##fmt##_##row, kind, false, pgsize, pgcount) \
	DEFINE_WORKLOAD(bench_##fmt##_##row##_builtin, kind, false,        \
			pgsize, pgcount)                                   \
	DEFINE_WORKLOAD(bench_##fmt##_##row##_direct, kind, true, pgsize,  \
			pgcount)
OP_ROWS(DEFINE_ROW)

/*
 * The loop alone: the same workloads on a table whose ops do nothing, so
 * that the callgrind figures can be read without the caller's loop
 * (bench_loop_*_direct: loop + indirect call) and the host's wrapper
 * (bench_loop_*: loop + wrapper + indirect call).
 */
static int nop_map(struct iopgt_ops *ops, unsigned long iova, uint64_t paddr,
		   size_t pgsize, size_t pgcount, int prot, size_t *mapped)
{
	(void)ops;
	(void)iova;
	(void)paddr;
	(void)prot;
	*mapped += pgsize * pgcount;
	return 0;
}

static size_t nop_unmap(struct iopgt_ops *ops, unsigned long iova,
			size_t pgsize, size_t pgcount,
			struct iopgt_iotlb_gather *gather)
{
	(void)ops;
	(void)iova;
	(void)gather;
	return pgsize * pgcount;
}

static uint64_t nop_iova_to_phys(struct iopgt_ops *ops, unsigned long iova)
{
	(void)ops;
	return iova;
}

/* Installed on a real table for the loop rows (the host checks that a
 * table is its own), and the format's ops put back before it is freed. */
static const struct iopgt_ops nop_ops = {
	.map_pages = nop_map,
	.unmap_pages = nop_unmap,
	.iova_to_phys = nop_iova_to_phys,
};

#define DEFINE_LOOP(row, kind)                                          \
	DEFINE_WORKLOAD(bench_loop_##row, kind, false, SZ_4K, 1)         \
	DEFINE_WORKLOAD(bench_loop_##row##_direct, kind, true, SZ_4K, 1)
DEFINE_LOOP(map, map)
DEFINE_LOOP(unmap, unmap)
DEFINE_LOOP(iova, iova)

enum row_kind { KIND_map, KIND_unmap, KIND_iova };

struct op_row {
	enum bench_fmt fmt;
	const char *id;			/* "s1_map_4k" */
	enum row_kind kind;
	size_t pgsize;
	size_t pgcount;
	workload_fn fn[NR_PATHS];
};

#define ROW_ENTRY(fmt, row, kind, pgsize, pgcount)                       \
	{ FMT_##fmt, #fmt "_" #row, KIND_##kind, pgsize, pgcount,          \
	  { bench_##fmt##_##row, bench_##fmt##_##row##_builtin,            \
	    bench_##fmt##_##row##_direct } },
static const struct op_row op_rows[] = { OP_ROWS(ROW_ENTRY) };

/* "s1-map-4k" from "s1_map_4k"; g_free it. */
static char *row_name(const char *id)
{
	return g_strdelimit(g_strdup(id), "_", '-');
}

/* Per page of a batch, else per call (of one page or block). */
static const char *row_unit(const struct op_row *row)
{
	return row->pgcount > 1 ? "page" : "op";
}

static char *row_what(const struct op_row *row)
{
	const struct fmt_info *fi = &fmts[row->fmt];
	g_autofree char *size = bench_format_size(row->pgsize);

	switch (row->kind) {
	case KIND_map:
		return g_strdup_printf("%s map %s x%zu, fresh table",
				       fi->format, size, row->pgcount);
	case KIND_unmap:
		return g_strdup_printf("%s unmap %s x%zu", fi->format, size,
				       row->pgcount);
	case KIND_iova:
	default:
		return g_strdup_printf("%s iova_to_phys, random, %s layout",
				       fi->format, size);
	}
}

/* ---- one run of one row -------------------------------------------------- */

struct row_result {
	double ns_per_unit;
	double cpu_per_unit;
	struct iopgt_mem_stats mem;	/* the table after the workload */
};

static unsigned long *random_iovas(const struct bench *b, unsigned long base,
				   uint64_t size, uint64_t n, uint64_t *sum)
{
	unsigned long *iovas = g_new(unsigned long, n);
	GRand *rand = g_rand_new_with_seed((guint32)b->opt.seed);
	uint64_t pages = size / SZ_4K;

	*sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t page = ((uint64_t)g_rand_int(rand) << 32 |
				 g_rand_int(rand)) % pages;

		iovas[i] = base + page * SZ_4K + (g_rand_int(rand) & 0xfff);
		*sum += iovas[i];
	}
	g_rand_free(rand);
	return iovas;
}

/*
 * Set up a table for the row (the region mapped first for unmap and
 * lookups), run its workload once for `units` units, timed, and free the
 * table.  Returns: 0 or a negative errno from the setup.
 */
static int run_row(struct bench *b, struct iopgt_host *host,
		   const struct op_row *row, enum path path, uint64_t units,
		   struct row_result *res)
{
	const struct fmt_info *fi = &fmts[row->fmt];
	uint64_t region = units * row->pgsize;
	g_autofree unsigned long *iovas = NULL;
	/* a batch never crosses a table it does not fill: one call maps
	 * it all, as the workload counts on */
	uint64_t step = row->pgsize * row->pgcount;
	struct run r = {
		.host = host,
		.fi = fi,
		.base = (fi->base + step - 1) & ~(step - 1),
		.calls = units / row->pgcount,
	};
	uint64_t t0, t1, c0, c1;
	unsigned int bad;
	int ret;

	ret = table_new(host, fi, &r.pgt);
	if (ret < 0) {
		fprintf(stderr, "iopgt-bench: %s: cannot make a table: %s\n",
			fi->format, g_strerror(-ret));
		return ret;
	}
	if (row->kind != KIND_map) {
		ret = premap(host, r.pgt, r.base, region, row->pgsize);
		if (ret < 0) {
			fprintf(stderr, "iopgt-bench: %s: mapping %"
				G_GUINT64_FORMAT " bytes failed: %s\n",
				fi->format, region, g_strerror(-ret));
			iopgt_pgtable_free(host, r.pgt);
			return ret;
		}
	}
	if (row->kind == KIND_iova) {
		iovas = random_iovas(b, r.base, region, units, &r.expect);
		r.iovas = iovas;
	}

	c0 = bench_cpu_ns();
	t0 = bench_now_ns();
	bad = row->fn[path](&r);
	t1 = bench_now_ns();
	c1 = bench_cpu_ns();

	iopgt_pgtable_get_mem_stats(host, r.pgt, &res->mem);
	iopgt_pgtable_free(host, r.pgt);
	res->ns_per_unit = (double)(t1 - t0) / (double)units;
	res->cpu_per_unit = (double)(c1 - c0) / (double)units;
	if (bad) {
		fprintf(stderr, "iopgt-bench: %s: wrong results\n", row->id);
		b->failures += bad;
	}
	return 0;
}

/*
 * Units of one run: the format's size in pages, at least 512 (one batch,
 * and enough calls for a figure) and at most what fits between the
 * format's base and the top of its iova space.
 */
static uint64_t row_units(const struct bench *b, const struct op_row *row)
{
	const struct fmt_info *fi = &fmts[row->fmt];
	uint64_t step = row->pgsize * row->pgcount;
	uint64_t base = (fi->base + step - 1) & ~(step - 1);
	uint64_t span = ((1ULL << fi->ias) - base) / row->pgsize;
	uint64_t units;

	if (b->opt.callgrind)
		units = CG_UNITS;
	else
		units = MAX(fmt_size(b, fi) / row->pgsize, 512);
	units = MIN(units, span);
	return units - units % row->pgcount;
}

static bool row_selected(const struct bench *b, const struct op_row *row)
{
	g_autofree char *name = row_name(row->id);

	return bench_row_selected(b, name, fmts[row->fmt].key);
}

/* ---- hosts --------------------------------------------------------------- */

/* The linked-in copies of the formats, registered as built-ins. */
static struct iopgt_host *builtin_host_new(void)
{
	struct iopgt_host *host = iopgt_host_new();
	int ret;

	ret = iopgt_host_register_builtin(host, &iopgt_bench_lpae_desc, NULL);
	if (ret == 0)
		ret = iopgt_host_register_builtin(host, &iopgt_bench_v7s_desc,
						  NULL);
	if (ret < 0) {
		fprintf(stderr, "iopgt-bench: registering the linked-in "
			"formats failed: %s\n", g_strerror(-ret));
		iopgt_host_unref(host);
		return NULL;
	}
	return host;
}

/* ---- section: operations ------------------------------------------------- */

/* wall and cpu: n samples each (sorted in place). */
static void report_op_row(struct bench *b, const struct op_row *row,
			  const char *variant, double *wall, double *cpu,
			  unsigned int n, uint64_t units,
			  const struct iopgt_mem_stats *mem, const char *note)
{
	g_autofree char *name = row_name(row->id);
	g_autofree char *what = row_what(row);
	struct bench_row out = {
		.row = name,
		.what = what,
		.variant = variant,
		.unit = row_unit(row),
		.units = units,
		.table_bytes = mem ? (int64_t)mem->table_bytes : -1,
		.blocks = mem ? (int64_t)mem->table_allocs : -1,
		.note = note,
	};

	bench_stats_of(wall, n, &out.ns);
	bench_stats_of(cpu, n, &out.cpu);
	bench_report_row(b, &out);
}

void bench_run_ops(struct bench *b)
{
	unsigned int total = b->opt.warmup + b->opt.runs;
	g_autofree char *lsize = bench_format_size(b->opt.lpae_size);
	g_autofree char *vsize = bench_format_size(b->opt.v7s_size);
	g_autofree char *title = g_strdup_printf(
		"Page-table operations through the host (LPAE %s, v7s %s; "
		"median of %d runs after %d warm-up)", lsize, vsize,
		b->opt.runs, b->opt.warmup);

	bench_section_begin(b, "operations", title);
	for (size_t i = 0; i < G_N_ELEMENTS(op_rows); i++) {
		const struct op_row *row = &op_rows[i];
		uint64_t units = row_units(b, row);
		g_autofree double *wall = g_new(double, total);
		g_autofree double *cpu = g_new(double, total);
		struct row_result res = { 0 };
		unsigned int run;

		if (!row_selected(b, row))
			continue;
		for (run = 0; run < total; run++) {
			bench_progress(b, row->id, run + 1, total);
			if (run_row(b, b->host, row, PATH_HOST, units, &res)) {
				b->failures++;
				break;
			}
			wall[run] = res.ns_per_unit;
			cpu[run] = res.cpu_per_unit;
		}
		bench_progress_done(b);
		if (run < total)
			continue;
		report_op_row(b, row, NULL, wall + b->opt.warmup,
			      cpu + b->opt.warmup, b->opt.runs, units,
			      &res.mem, NULL);
	}
	bench_section_end(b);
}

/* ---- section: the host's dispatch against direct calls ------------------- */

static double pct_over(double x, double base)
{
	return 100.0 * (x / base - 1);
}

void bench_run_direct(struct bench *b)
{
	unsigned int total = b->opt.warmup + b->opt.runs;
	struct iopgt_host *hosts[NR_PATHS];
	double sum_wall = 0, sum_cpu = 0;
	unsigned int n_rows = 0;

	/* each path its own host, so its own table memory: no path runs on
	 * tables another one just warmed in the cache */
	hosts[PATH_HOST] = b->host;
	hosts[PATH_BUILTIN] = builtin_host_new();
	hosts[PATH_DIRECT] = builtin_host_new();
	if (!hosts[PATH_BUILTIN] || !hosts[PATH_DIRECT]) {
		b->failures++;
		goto out;
	}
	bench_section_begin(b, "direct", "Dispatch overhead: the same "
			    "workload through the host and the dlopen'd "
			    "plugin, through the host and a linked-in copy, "
			    "and on pgt->ops of the linked-in copy (runs "
			    "interleaved, order rotated)");
	for (size_t i = 0; i < G_N_ELEMENTS(op_rows); i++) {
		const struct op_row *row = &op_rows[i];
		uint64_t units = row_units(b, row);
		g_autofree double *wall = g_new(double, NR_PATHS * total);
		g_autofree double *cpu = g_new(double, NR_PATHS * total);
		struct bench_stats w[NR_PATHS], c[NR_PATHS];
		g_autofree char *note = NULL;
		bool ok = true;

		if (!row_selected(b, row))
			continue;
		for (unsigned int run = 0; run < total && ok; run++) {
			bench_progress(b, row->id, run + 1, total);
			for (int k = 0; k < NR_PATHS && ok; k++) {
				int p = (run + k) % NR_PATHS;
				struct row_result res;

				if (run_row(b, hosts[p], row, p, units,
					    &res)) {
					b->failures++;
					ok = false;
					break;
				}
				wall[p * total + run] = res.ns_per_unit;
				cpu[p * total + run] = res.cpu_per_unit;
			}
		}
		bench_progress_done(b);
		if (!ok)
			continue;
		for (int p = 0; p < NR_PATHS; p++) {
			double *wp = wall + p * total + b->opt.warmup;
			double *cp = cpu + p * total + b->opt.warmup;

			bench_stats_of(wp, b->opt.runs, &w[p]);
			bench_stats_of(cp, b->opt.runs, &c[p]);
		}
		note = g_strdup_printf(
			"host %+.1f %% wall, %+.1f %% cpu (wrapper %+.1f %% "
			"cpu)", pct_over(w[PATH_HOST].median,
					 w[PATH_DIRECT].median),
			pct_over(c[PATH_HOST].median, c[PATH_DIRECT].median),
			pct_over(c[PATH_BUILTIN].median,
				 c[PATH_DIRECT].median));
		sum_wall += pct_over(w[PATH_HOST].median,
				     w[PATH_DIRECT].median);
		sum_cpu += pct_over(c[PATH_HOST].median,
				    c[PATH_DIRECT].median);
		n_rows++;
		for (int p = 0; p < NR_PATHS; p++)
			report_op_row(b, row, path_names[p],
				      wall + p * total + b->opt.warmup,
				      cpu + p * total + b->opt.warmup,
				      b->opt.runs, units, NULL,
				      p == PATH_HOST ? note : NULL);
	}
	if (n_rows) {
		bench_report_number(b, "mean-dispatch-overhead-wall",
				    sum_wall / n_rows, "%");
		bench_report_number(b, "mean-dispatch-overhead-cpu",
				    sum_cpu / n_rows, "%");
	}
	bench_section_end(b);
out:
	if (hosts[PATH_BUILTIN])
		iopgt_host_unref(hosts[PATH_BUILTIN]);
	if (hosts[PATH_DIRECT])
		iopgt_host_unref(hosts[PATH_DIRECT]);
}

/* ---- section: alloc + free of an empty table ----------------------------- */

#define DEFINE_ALLOC_FREE(fmt)                                          \
	static bench_noinline unsigned int                              \
	bench_##fmt##_alloc_free(const struct run *r)                   \
	{                                                               \
		unsigned int bad = 0;                                   \
                                                                        \
		for (uint64_t i = 0; i < r->calls; i++) {               \
			struct iopgt_pgtable *pgt;                      \
                                                                        \
			if (table_new(r->host, r->fi, &pgt)) {          \
				bad++;                                  \
				continue;                               \
			}                                               \
			iopgt_pgtable_free(r->host, pgt);               \
		}                                                       \
		return bad;                                             \
	}
DEFINE_ALLOC_FREE(s1)
DEFINE_ALLOC_FREE(s2)
DEFINE_ALLOC_FREE(v7s)

static const struct {
	enum bench_fmt fmt;
	const char *fn_name;
	workload_fn fn;
} alloc_free_rows[] = {
	{ FMT_s1, "bench_s1_alloc_free", bench_s1_alloc_free },
	{ FMT_s2, "bench_s2_alloc_free", bench_s2_alloc_free },
	{ FMT_v7s, "bench_v7s_alloc_free", bench_v7s_alloc_free },
};

static uint64_t alloc_free_calls(const struct bench *b)
{
	if (b->opt.callgrind || b->opt.tiny)
		return CG_ALLOC_FREE;
	return 4096;
}

void bench_run_alloc_free(struct bench *b)
{
	unsigned int total = b->opt.warmup + b->opt.runs;

	bench_section_begin(b, "alloc-free", "Alloc + free of an empty table "
			    "(iopgt_pgtable_new + iopgt_pgtable_free)");
	for (size_t i = 0; i < G_N_ELEMENTS(alloc_free_rows); i++) {
		const struct fmt_info *fi = &fmts[alloc_free_rows[i].fmt];
		g_autofree char *name = g_strdup_printf("%s-alloc-free",
							fi->key);
		g_autofree char *what = g_strdup_printf("%s alloc + free, "
							"empty", fi->format);
		g_autofree double *wall = g_new(double, total);
		g_autofree double *cpu = g_new(double, total);
		struct run r = {
			.host = b->host,
			.fi = fi,
			.calls = alloc_free_calls(b),
		};
		struct bench_row out = {
			.row = name,
			.what = what,
			.unit = "table",
			.units = r.calls,
			.table_bytes = -1,
			.blocks = -1,
		};

		if (!bench_row_selected(b, name, fi->key))
			continue;
		for (unsigned int run = 0; run < total; run++) {
			uint64_t t0, t1, c0, c1;
			unsigned int bad;

			bench_progress(b, name, run + 1, total);
			c0 = bench_cpu_ns();
			t0 = bench_now_ns();
			bad = alloc_free_rows[i].fn(&r);
			t1 = bench_now_ns();
			c1 = bench_cpu_ns();
			b->failures += bad;
			wall[run] = (double)(t1 - t0) / (double)r.calls;
			cpu[run] = (double)(c1 - c0) / (double)r.calls;
		}
		bench_progress_done(b);
		bench_stats_of(wall + b->opt.warmup, b->opt.runs, &out.ns);
		bench_stats_of(cpu + b->opt.warmup, b->opt.runs, &out.cpu);
		bench_report_row(b, &out);
	}
	bench_section_end(b);
}

/* ---- table memory: what the tables for a region must take ---------------- */

/* Tables of one level whose span is 1 << shift, covering [base, base+size). */
static uint64_t spans(uint64_t base, uint64_t size, unsigned int shift)
{
	return ((base + size - 1) >> shift) - (base >> shift) + 1;
}

struct mem_expect {
	uint64_t tables;		/* page tables */
	uint64_t blocks;		/* host allocations */
	uint64_t bytes;
};

/*
 * LPAE, 4K granule, 48-bit: a 4 KiB pgd (level 0), then one table per
 * 512 GiB (level 1), per 1 GiB (level 2) and, for 4K leaves, per 2 MiB
 * (level 3).  v7s: a 16 KiB level-1 table and one 1 KiB level-2 table per
 * MiB of 4K pages, four to a host page, filled in order.
 */
static void expect_tables(const struct fmt_info *fi, uint64_t base,
			  uint64_t size, size_t leaf, struct mem_expect *e)
{
	if (fi->lpae) {
		e->tables = 1 + spans(base, size, 39);
		if (leaf <= SZ_2M)
			e->tables += spans(base, size, 30);
		if (leaf == SZ_4K)
			e->tables += spans(base, size, 21);
		e->blocks = e->tables;
		e->bytes = e->tables * SZ_4K;
		return;
	}
	e->tables = 1;
	e->blocks = 1;
	e->bytes = SZ_16K;
	if (leaf == SZ_4K) {
		uint64_t l2 = spans(base, size, 20);

		e->tables += l2;
		e->blocks += (l2 + 3) / 4;
		e->bytes += (l2 + 3) / 4 * SZ_4K;
	}
}

static bool check_mem(struct bench *b, const char *what,
		      const struct iopgt_mem_stats *st,
		      const struct mem_expect *e, char **note)
{
	bool ok = st->table_bytes == e->bytes && st->table_allocs == e->blocks;

	*note = g_strdup_printf("%" G_GUINT64_FORMAT " page tables, expected "
				"%" G_GUINT64_FORMAT " bytes in %"
				G_GUINT64_FORMAT " blocks: %s", e->tables,
				e->bytes, e->blocks, ok ? "exact" : "MISMATCH");
	if (!ok) {
		fprintf(stderr, "iopgt-bench: %s: table memory %"
			G_GUINT64_FORMAT " bytes in %" G_GUINT64_FORMAT
			" blocks, expected %" G_GUINT64_FORMAT " in %"
			G_GUINT64_FORMAT "\n", what, st->table_bytes,
			st->table_allocs, e->bytes, e->blocks);
		b->failures++;
	}
	return ok;
}

void bench_run_memory(struct bench *b)
{
	bench_section_begin(b, "memory", "Table memory for the mapped region "
			    "as 4K pages (iopgt_pgtable_get_mem_stats)");
	for (int f = 0; f < NR_MAIN_FMTS; f++) {
		const struct fmt_info *fi = &fmts[f];
		uint64_t size = fmt_size(b, fi);
		g_autofree char *name = g_strdup_printf("%s-memory", fi->key);
		g_autofree char *hsize = bench_format_size(size);
		g_autofree char *what = g_strdup_printf("%s, %s as 4K pages",
							fi->format, hsize);
		g_autofree char *note = NULL;
		struct iopgt_pgtable *pgt;
		struct iopgt_mem_stats st;
		struct mem_expect e;
		uint64_t t0, t1;
		struct bench_row out = {
			.row = name,
			.what = what,
			.unit = "page",
			.units = size / SZ_4K,
		};

		if (!bench_row_selected(b, name, fi->key))
			continue;
		if (table_new(b->host, fi, &pgt)) {
			b->failures++;
			continue;
		}
		t0 = bench_now_ns();
		if (premap(b->host, pgt, fi->base, size, SZ_4K))
			b->failures++;
		t1 = bench_now_ns();
		iopgt_pgtable_get_mem_stats(b->host, pgt, &st);
		iopgt_pgtable_free(b->host, pgt);
		expect_tables(fi, fi->base, size, SZ_4K, &e);
		check_mem(b, name, &st, &e, &note);
		out.ns.median = out.ns.min = out.ns.max =
			(double)(t1 - t0) / (double)out.units;
		out.ns.n = 1;
		out.table_bytes = (int64_t)st.table_bytes;
		out.blocks = (int64_t)st.table_allocs;
		out.note = note;
		bench_report_row(b, &out);
	}
	bench_section_end(b);
}

/* ---- section: threads ---------------------------------------------------- */

struct thread_arg {
	struct run r;
	_Atomic unsigned int *ready;	/* threads at the start line */
	_Atomic int *go;
	unsigned int nthreads;
	unsigned int bad;
	uint64_t start, end, cpu_ns;
};

/*
 * The last thread to reach the start line starts the race, so the clock
 * runs only while every thread has been given a CPU at least once: the
 * time a new thread waits to be scheduled is not counted.
 */
static gpointer map_thread(gpointer data)
{
	struct thread_arg *a = data;
	uint64_t c0;

	if (atomic_fetch_add_explicit(a->ready, 1, memory_order_acq_rel) + 1 ==
	    a->nthreads)
		atomic_store_explicit(a->go, 1, memory_order_release);
	while (!atomic_load_explicit(a->go, memory_order_acquire))
		;
	c0 = bench_cpu_ns();
	a->start = bench_now_ns();
	a->bad = wl_map(&a->r, false, SZ_4K, 1);
	a->end = bench_now_ns();
	a->cpu_ns = bench_cpu_ns() - c0;
	return NULL;
}

/*
 * Map [base, base + size) as 4K pages from nthreads threads, each its own
 * contiguous slice, into one fresh table.  Returns: wall ns (0 on
 * failure); *cpu: the CPU time of all threads together.
 */
static uint64_t threads_run(struct bench *b, const struct fmt_info *fi,
			    uint64_t size, unsigned int nthreads,
			    uint64_t *cpu)
{
	struct thread_arg args[nthreads];
	GThread *th[nthreads];
	_Atomic unsigned int ready = 0;
	_Atomic int go = 0;
	struct iopgt_pgtable *pgt;
	uint64_t slice = size / nthreads, t0 = UINT64_MAX, t1 = 0;

	if (table_new(b->host, fi, &pgt)) {
		b->failures++;
		return 0;
	}
	for (unsigned int i = 0; i < nthreads; i++) {
		args[i] = (struct thread_arg){
			.r = { .host = b->host, .pgt = pgt, .fi = fi,
			       .base = fi->base + i * slice,
			       .calls = slice / SZ_4K },
			.ready = &ready,
			.go = &go,
			.nthreads = nthreads,
		};
		th[i] = g_thread_new("bench-map", map_thread, &args[i]);
	}
	*cpu = 0;
	for (unsigned int i = 0; i < nthreads; i++) {
		g_thread_join(th[i]);
		b->failures += args[i].bad;
		*cpu += args[i].cpu_ns;
		t0 = MIN(t0, args[i].start);
		t1 = MAX(t1, args[i].end);
	}
	iopgt_pgtable_free(b->host, pgt);
	return t1 - t0;
}

static void threads_json(struct bench *b, const char *name,
			 const struct bench_stats st[2],
			 const struct bench_stats ct[2])
{
	g_autofree char *med = g_strdup_printf("%s-speedup-median", name);
	g_autofree char *best = g_strdup_printf("%s-speedup-best", name);
	g_autofree char *cpu = g_strdup_printf("%s-speedup-cpu", name);

	if (!b->json)
		return;
	bench_report_number(b, med, st[0].median / st[1].median, "x");
	bench_report_number(b, best, st[0].min / st[1].min, "x");
	bench_report_number(b, cpu, 2 * ct[0].median / ct[1].median, "x");
}

/* The 1-minute load average: how busy the machine was. */
static char *load_average(void)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents("/proc/loadavg", &text, NULL, NULL))
		return g_strdup("?");
	return g_strndup(text, strcspn(text, " "));
}

void bench_run_threads(struct bench *b)
{
	unsigned int total = b->opt.warmup + b->opt.runs;
	g_autofree char *load = load_average();
	g_autofree char *title = g_strdup_printf(
		"Threads: map 4K x1 into one fresh table on disjoint halves "
		"(%u CPUs online)", g_get_num_processors());

	bench_section_begin(b, "threads", title);
	for (int f = 0; f < NR_MAIN_FMTS; f++) {
		const struct fmt_info *fi = &fmts[f];
		uint64_t size = fmt_size(b, fi);
		g_autofree char *name = g_strdup_printf("%s-threads", fi->key);
		struct bench_stats st[2], ct[2];

		if (!bench_row_selected(b, name, fi->key))
			continue;
		for (unsigned int n = 1; n <= 2; n++) {
			g_autofree double *samples = g_new(double, total);
			g_autofree double *cpu = g_new(double, total);
			g_autofree char *row = g_strdup_printf("%s-%u", name,
							       n);
			g_autofree char *hsize = bench_format_size(size);
			g_autofree char *what = g_strdup_printf(
				"%s map %s, %u thread%s", fi->format, hsize, n,
				n == 1 ? "" : "s");
			g_autofree char *note = NULL;
			struct bench_row out = {
				.row = row,
				.what = what,
				.unit = "page",
				.units = size / SZ_4K,
				.table_bytes = -1,
				.blocks = -1,
			};

			for (unsigned int run = 0; run < total; run++) {
				uint64_t c = 0;

				bench_progress(b, row, run + 1, total);
				samples[run] = (double)threads_run(b, fi, size,
								   n, &c) /
					       (double)out.units;
				cpu[run] = (double)c / (double)out.units;
			}
			bench_progress_done(b);
			bench_stats_of(samples + b->opt.warmup, b->opt.runs,
				       &st[n - 1]);
			bench_stats_of(cpu + b->opt.warmup, b->opt.runs,
				       &ct[n - 1]);
			out.ns = st[n - 1];
			/* CPU time of all threads per page: equal to one
			 * thread's when the threads do not slow each other */
			out.cpu = ct[n - 1];
			if (n == 2) {
				/* median: what this machine gave; best
				 * (fastest run of each): what it gives when
				 * both threads get a CPU; the CPU-time ratio:
				 * what two idle CPUs give, if the threads do
				 * not slow each other down */
				note = g_strdup_printf(
					"speed-up %.2fx median, %.2fx best "
					"(1-thread runs spread %.0f %%); "
					"cpu/page %+.1f %%: %.2fx with 2 idle "
					"CPUs; load %s",
					st[0].median / st[1].median,
					st[0].min / st[1].min,
					100 * (st[0].max - st[0].min) /
						st[0].median,
					pct_over(ct[1].median, ct[0].median),
					2 * ct[0].median / ct[1].median,
					load);
				out.note = note;
				threads_json(b, name, st, ct);
			}
			bench_report_row(b, &out);
		}
	}
	bench_section_end(b);
}

/* ---- section: scale ------------------------------------------------------ */

struct scale_case {
	const char *row;
	uint64_t size;
	size_t pgsize;
	size_t pgcount;
	unsigned long base;
};

/* 512 GiB: the span of one level-0 entry, so the counts are plain. */
#define SCALE_BASE	(512 * SZ_1G)
#define SZ_1T		(1024 * SZ_1G)

/* Time against size for each page size, single and batched calls. */
static const struct scale_case scale_cases[] = {
	{ "s1-scale-4g-4k", 4 * SZ_1G, SZ_4K, 1, SCALE_BASE },
	{ "s1-scale-16g-4k", 16 * SZ_1G, SZ_4K, 1, SCALE_BASE },
	{ "s1-scale-64g-4k", 64 * SZ_1G, SZ_4K, 1, SCALE_BASE },
	{ "s1-scale-4g-4k-x512", 4 * SZ_1G, SZ_4K, 512, SCALE_BASE },
	{ "s1-scale-16g-4k-x512", 16 * SZ_1G, SZ_4K, 512, SCALE_BASE },
	{ "s1-scale-64g-4k-x512", 64 * SZ_1G, SZ_4K, 512, SCALE_BASE },
	{ "s1-scale-64g-2m", 64 * SZ_1G, SZ_2M, 1, SCALE_BASE },
	{ "s1-scale-256g-2m", 256 * SZ_1G, SZ_2M, 1, SCALE_BASE },
	{ "s1-scale-1t-2m", SZ_1T, SZ_2M, 1, SCALE_BASE },
	{ "s1-scale-1t-2m-x512", SZ_1T, SZ_2M, 512, SCALE_BASE },
	{ "s1-scale-16t-1g", 16 * SZ_1T, SZ_1G, 1, 0 },
	{ "s1-scale-64t-1g", 64 * SZ_1T, SZ_1G, 1, 0 },
	{ "s1-scale-256t-1g", 256 * SZ_1T, SZ_1G, 1, 0 },
	{ "s1-scale-256t-1g-x512", 256 * SZ_1T, SZ_1G, 512, 0 },
};

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull +
	       (uint64_t)tv->tv_usec * 1000ull;
}

/* One descriptor-sized store per word: what writing the tables costs. */
static bench_noinline void floor_fill(uint64_t *p, size_t words)
{
	for (size_t i = 0; i < words; i++) {
		__asm__("" : "+r"(p));
		p[i] = (uint64_t)i << 12 | 3;
	}
}

/*
 * The physical floor of mapping: write `bytes` of descriptors into fresh
 * anonymous memory (first-touch faults and the kernel's zeroing
 * included), on 4 KiB pages or, with huge, on 2 MiB pages where the
 * kernel gives them.  Returns: CPU ns of the writes, 0 on failure.
 */
static uint64_t floor_ns(uint64_t bytes, bool huge)
{
	size_t len = (bytes + SZ_2M - 1) & ~(uint64_t)(SZ_2M - 1);
	uint8_t *map, *p;
	uint64_t c0, c1;

	/* over-allocate so the start can be 2 MiB aligned */
	map = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return 0;
	p = (uint8_t *)(((uintptr_t)map + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	c0 = bench_cpu_ns();
	floor_fill((uint64_t *)p, bytes / sizeof(uint64_t));
	c1 = bench_cpu_ns();
	munmap(map, len + SZ_2M);
	return c1 - c0;
}

/* Map r->calls batches of the case's page size; returns wrong results. */
static unsigned int scale_map(const struct run *r, const struct scale_case *c)
{
	switch (c->pgsize) {
	case SZ_4K:
		return c->pgcount == 1 ? wl_map(r, false, SZ_4K, 1) :
					 wl_map(r, false, SZ_4K, 512);
	case SZ_2M:
		return c->pgcount == 1 ? wl_map(r, false, SZ_2M, 1) :
					 wl_map(r, false, SZ_2M, 512);
	default:
		return c->pgcount == 1 ? wl_map(r, false, SZ_1G, 1) :
					 wl_map(r, false, SZ_1G, 512);
	}
}

static unsigned int scale_unmap(const struct run *r,
				const struct scale_case *c)
{
	switch (c->pgsize) {
	case SZ_4K:
		return c->pgcount == 1 ? wl_unmap(r, false, SZ_4K, 1) :
					 wl_unmap(r, false, SZ_4K, 512);
	case SZ_2M:
		return c->pgcount == 1 ? wl_unmap(r, false, SZ_2M, 1) :
					 wl_unmap(r, false, SZ_2M, 512);
	default:
		return c->pgcount == 1 ? wl_unmap(r, false, SZ_1G, 1) :
					 wl_unmap(r, false, SZ_1G, 512);
	}
}

struct scale_result {
	uint64_t map_ns, map_cpu, unmap_ns, free_ns;
	uint64_t user_ns, sys_ns, faults;	/* of the map */
	struct iopgt_mem_stats st, host_st;
};

/* One case on a fresh host, so its table memory is fresh as well. */
static int scale_run(struct bench *b, const struct scale_case *c,
		     uint64_t size, struct scale_result *res)
{
	struct run r = {
		.fi = &fmts[FMT_s1],
		.base = c->base,
		.calls = size / c->pgsize / c->pgcount,
	};
	struct rusage u0, u1;
	uint64_t t0, t1, t2, t3, c0, c1;
	unsigned int bad;

	r.host = bench_host_new(b);
	if (!r.host)
		return -ENOMEM;
	if (table_new(r.host, r.fi, &r.pgt)) {
		iopgt_host_unref(r.host);
		return -ENOMEM;
	}
	bench_progress(b, c->row, 1, 3);
	getrusage(RUSAGE_THREAD, &u0);
	c0 = bench_cpu_ns();
	t0 = bench_now_ns();
	bad = scale_map(&r, c);
	t1 = bench_now_ns();
	c1 = bench_cpu_ns();
	getrusage(RUSAGE_THREAD, &u1);
	iopgt_pgtable_get_mem_stats(r.host, r.pgt, &res->st);
	iopgt_host_get_mem_stats(r.host, &res->host_st);
	bench_progress(b, c->row, 2, 3);
	bad += scale_unmap(&r, c);
	t2 = bench_now_ns();
	bench_progress(b, c->row, 3, 3);
	iopgt_pgtable_free(r.host, r.pgt);
	t3 = bench_now_ns();
	bench_progress_done(b);
	iopgt_host_unref(r.host);

	res->map_ns = t1 - t0;
	res->map_cpu = c1 - c0;
	res->unmap_ns = t2 - t1;
	res->free_ns = t3 - t2;
	res->user_ns = tv_ns(&u1.ru_utime) - tv_ns(&u0.ru_utime);
	res->sys_ns = tv_ns(&u1.ru_stime) - tv_ns(&u0.ru_stime);
	res->faults = (uint64_t)(u1.ru_minflt - u0.ru_minflt);
	b->failures += bad;
	return 0;
}

static void scale_json(struct bench *b, const char *row, const char *what,
		       double value, const char *unit)
{
	g_autofree char *key = g_strdup_printf("%s-%s", row, what);

	if (b->json)
		bench_report_number(b, key, value, unit);
}

void bench_run_scale(struct bench *b)
{
	const struct fmt_info *fi = &fmts[FMT_s1];

	bench_section_begin(b, "scale", "Scale: arm-64-lpae-s1, one run "
			    "each on a fresh host: map, unmap, free; against "
			    "the floor, writing as many bytes of descriptors "
			    "into fresh memory (CPU time)");
	for (size_t i = 0; i < G_N_ELEMENTS(scale_cases); i++) {
		const struct scale_case *c = &scale_cases[i];
		uint64_t size = b->opt.tiny ?
			MAX(c->size / 1024, c->pgsize * c->pgcount) : c->size;
		uint64_t units = size / c->pgsize;
		g_autofree char *hsize = bench_format_size(size);
		g_autofree char *hpg = bench_format_size(c->pgsize);
		g_autofree char *what = NULL;
		g_autofree char *note = NULL;
		g_autofree char *mem_note = NULL;
		struct scale_result res;
		struct mem_expect e;
		struct bench_row out;
		uint64_t floor4k, floor2m;

		if (!bench_row_selected(b, c->row, fi->key))
			continue;
		if (scale_run(b, c, size, &res)) {
			b->failures++;
			continue;
		}
		expect_tables(fi, c->base, size, c->pgsize, &e);
		check_mem(b, c->row, &res.st, &e, &mem_note);
		if (res.host_st.table_bytes != res.st.table_bytes) {
			fprintf(stderr, "iopgt-bench: %s: the host has %"
				G_GUINT64_FORMAT " table bytes in use, the "
				"table %" G_GUINT64_FORMAT "\n", c->row,
				res.host_st.table_bytes, res.st.table_bytes);
			b->failures++;
		}
		floor4k = floor_ns(e.bytes, false);
		floor2m = floor_ns(e.bytes, true);
		what = g_strdup_printf("map %s as %s x%zu", hsize, hpg,
				       c->pgcount);
		note = g_strdup_printf(
			"map %.4f s (cpu %.4f s: user %.4f, sys %.4f, %"
			G_GUINT64_FORMAT " faults); floor %.4f s (4K pages), "
			"%.4f s (2M pages); map/floor %.2fx, %.2fx; unmap "
			"%.4f s; free %.4f s; %s", seconds(res.map_ns),
			seconds(res.map_cpu), seconds(res.user_ns),
			seconds(res.sys_ns), res.faults, seconds(floor4k),
			seconds(floor2m), (double)res.map_cpu / floor4k,
			(double)res.map_cpu / floor2m, seconds(res.unmap_ns),
			seconds(res.free_ns), mem_note);
		scale_json(b, c->row, "bytes", (double)size, "B");
		scale_json(b, c->row, "map-cpu", seconds(res.map_cpu), "s");
		scale_json(b, c->row, "floor-4k", seconds(floor4k), "s");
		scale_json(b, c->row, "floor-2m", seconds(floor2m), "s");
		out = (struct bench_row){
			.row = c->row,
			.what = what,
			.unit = c->pgcount > 1 ? "page" : "op",
			.ns = { .median = (double)res.map_ns / (double)units,
				.n = 1 },
			.cpu = { .median = (double)res.map_cpu / (double)units,
				 .n = 1 },
			.units = units,
			.table_bytes = (int64_t)res.st.table_bytes,
			.blocks = (int64_t)e.tables,
			.note = note,
		};
		out.ns.min = out.ns.max = out.ns.median;
		out.cpu.min = out.cpu.max = out.cpu.median;
		bench_report_row(b, &out);
	}
	bench_section_end(b);
}

/* ---- callgrind mode ------------------------------------------------------ */

static void cg_line(const char *fn, uint64_t units, const char *unit)
{
	printf("%-36s %8" G_GUINT64_FORMAT " %-6s\n", fn, units, unit);
}

/*
 * Resolve every lazily bound symbol the workloads reach (bench -> host
 * PLT, plugin -> libc) before the measured calls, so no bench_ function
 * pays for the dynamic linker.
 */
static void cg_warm_up(struct bench *b, struct iopgt_host *builtin)
{
	for (size_t i = 0; i < G_N_ELEMENTS(op_rows); i++) {
		const struct op_row *row = &op_rows[i];
		const struct fmt_info *fi = &fmts[row->fmt];
		struct iopgt_host *hosts[] = { b->host, builtin };

		for (size_t h = 0; h < G_N_ELEMENTS(hosts); h++) {
			struct iopgt_pgtable *pgt;
			size_t mapped = 0;

			if (table_new(hosts[h], fi, &pgt))
				continue;
			iopgt_pgtable_map_pages(hosts[h], pgt, fi->base,
						fi->base, row->pgsize,
						row->pgcount, RW, &mapped);
			iopgt_pgtable_iova_to_phys(hosts[h], pgt, fi->base);
			iopgt_pgtable_unmap_pages(hosts[h], pgt, fi->base,
						  row->pgsize, row->pgcount,
						  NULL);
			iopgt_pgtable_free(hosts[h], pgt);
		}
	}
}

/* The caller's share: the same loops on a table whose ops do nothing. */
static void cg_run_loops(struct bench *b)
{
	static const struct {
		const char *name;
		workload_fn fn[2];
	} loops[] = {
		{ "map", { bench_loop_map, bench_loop_map_direct } },
		{ "unmap", { bench_loop_unmap, bench_loop_unmap_direct } },
		{ "iova", { bench_loop_iova, bench_loop_iova_direct } },
	};
	g_autofree unsigned long *iovas = NULL;
	struct iopgt_ops saved;
	struct run r = {
		.host = b->host,
		.base = SZ_1G,
		.calls = CG_UNITS,
	};

	if (table_new(b->host, &fmts[FMT_s1], &r.pgt)) {
		b->failures++;
		return;
	}
	saved = r.pgt->ops;
	r.pgt->ops = nop_ops;
	iovas = random_iovas(b, r.base, SZ_16M, CG_UNITS, &r.expect);
	r.iovas = iovas;
	for (size_t i = 0; i < G_N_ELEMENTS(loops); i++) {
		for (int d = 0; d < 2; d++) {
			g_autofree char *fn = g_strdup_printf(
				"bench_loop_%s%s", loops[i].name,
				d ? "_direct" : "");

			b->failures += loops[i].fn[d](&r);
			cg_line(fn, CG_UNITS, "op");
		}
	}
	r.pgt->ops = saved;
	iopgt_pgtable_free(b->host, r.pgt);
}

void bench_run_callgrind(struct bench *b)
{
	struct iopgt_host *builtin = builtin_host_new();
	struct row_result res;

	if (!builtin) {
		b->failures++;
		return;
	}
	cg_warm_up(b, builtin);
	printf("# iopgt-bench --callgrind: divide each function's inclusive "
	       "Ir by its units\n"
	       "# (callgrind_annotate --inclusive=yes cg.out | grep bench_)\n"
	       "# the table is made and, for unmap and lookups, filled "
	       "outside the function\n");
	printf("%-36s %8s %-6s\n", "# function", "units", "unit");
	for (size_t i = 0; i < G_N_ELEMENTS(op_rows); i++) {
		const struct op_row *row = &op_rows[i];
		static const char *const suffix[NR_PATHS] = {
			"", "_builtin", "_direct"
		};
		uint64_t units = row_units(b, row);

		if (!row_selected(b, row))
			continue;
		for (int p = 0; p < NR_PATHS; p++) {
			g_autofree char *fn = g_strdup_printf("bench_%s%s",
							      row->id,
							      suffix[p]);

			if (p != PATH_HOST && !b->opt.direct)
				continue;
			if (run_row(b, p == PATH_HOST ? b->host : builtin, row,
				    p, units, &res))
				b->failures++;
			cg_line(fn, units, row_unit(row));
		}
	}
	if (bench_row_selected(b, "loop", NULL))
		cg_run_loops(b);
	for (size_t i = 0; i < G_N_ELEMENTS(alloc_free_rows); i++) {
		const struct fmt_info *fi = &fmts[alloc_free_rows[i].fmt];
		g_autofree char *name = g_strdup_printf("%s-alloc-free",
							fi->key);
		struct run r = {
			.host = b->host,
			.fi = fi,
			.calls = CG_ALLOC_FREE,
		};
		struct iopgt_pgtable *pgt;

		if (!bench_row_selected(b, name, fi->key))
			continue;
		/* the first table of a format creates the simulated memory */
		if (table_new(b->host, fi, &pgt) == 0)
			iopgt_pgtable_free(b->host, pgt);
		b->failures += alloc_free_rows[i].fn(&r);
		cg_line(alloc_free_rows[i].fn_name, r.calls, "table");
	}
	iopgt_host_unref(builtin);
}
