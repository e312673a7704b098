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
#include <stdio.h>
#include <string.h>
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

enum bench_fmt { FMT_s1, FMT_s2, FMT_v7s, NR_FMTS };

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
 * tables in either.  v7s: 32-bit, 4K/64K/1M/16M.
 */
static const struct fmt_info fmts[NR_FMTS] = {
	[FMT_s1] = { "s1", "arm-64-lpae-s1", "io-pgtable-arm", 48, 48,
		     SZ_4K | SZ_2M | SZ_1G, SZ_1G, true },
	[FMT_s2] = { "s2", "arm-64-lpae-s2", "io-pgtable-arm", 48, 48,
		     SZ_4K | SZ_2M | SZ_1G, SZ_1G, true },
	[FMT_v7s] = { "v7s", "arm-v7s", "io-pgtable-arm-v7s", 32, 32,
		      SZ_4K | SZ_64K | SZ_1M | SZ_16M, 0x10000000UL, false },
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
static bench_always_inline int op_map(struct iopgt_host *host,
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

static bench_always_inline size_t op_unmap(struct iopgt_host *host,
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

static bench_always_inline uint64_t op_iova(struct iopgt_host *host,
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
static bench_always_inline unsigned int wl_map(const struct run *r,
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

static bench_always_inline unsigned int wl_unmap(const struct run *r,
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

static bench_always_inline unsigned int wl_iova(const struct run *r,
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
 * The rows: format, row, workload, pgsize, pgcount, budget and Linux's
 * figure in instructions per unit (issue #6).  Each row gets three
 * functions: bench_<fmt>_<row> (the host path, also used for the built-in
 * table's host path) and bench_<fmt>_<row>_direct.
 */
#define OP_ROWS(X)                                                      \
	X(s1, map_4k, map, SZ_4K, 1, 150, 367)                          \
	X(s1, map_4k_x512, map, SZ_4K, 512, 12, 33.4)                   \
	X(s1, unmap_4k, unmap, SZ_4K, 1, 130, 319)                      \
	X(s1, unmap_4k_x512, unmap, SZ_4K, 512, 15, 42.6)               \
	X(s1, map_2m, map, SZ_2M, 1, 200, 578)                          \
	X(s1, iova_to_phys, iova, SZ_4K, 1, 60, 467)                    \
	X(s2, map_4k, map, SZ_4K, 1, 150, 367)                          \
	X(s2, map_4k_x512, map, SZ_4K, 512, 12, 33.4)                   \
	X(s2, unmap_4k, unmap, SZ_4K, 1, 130, 319)                      \
	X(s2, unmap_4k_x512, unmap, SZ_4K, 512, 15, 42.6)               \
	X(s2, map_2m, map, SZ_2M, 1, 200, 578)                          \
	X(s2, iova_to_phys, iova, SZ_4K, 1, 60, 467)                    \
	X(v7s, map_4k, map, SZ_4K, 1, 100, 228)                         \
	X(v7s, unmap_4k, unmap, SZ_4K, 1, 90, 203)                      \
	X(v7s, iova_to_phys, iova, SZ_4K, 1, 40, 76)

#define DEFINE_WORKLOAD(name, kind, direct, pgsize, pgcount)            \
	static __noinline unsigned int name(const struct run *r)           \
	{                                                                  \
		return wl_##kind(r, direct, pgsize, pgcount);              \
	}
#define DEFINE_ROW(fmt, row, kind, pgsize, pgcount, budget, linux_)      \
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

static struct iopgt_pgtable nop_pgt = {
	.ops = {
		.map_pages = nop_map,
		.unmap_pages = nop_unmap,
		.iova_to_phys = nop_iova_to_phys,
	},
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
	double budget;			/* instructions per unit */
	double linux_ref;
	workload_fn fn[NR_PATHS];
};

#define ROW_ENTRY(fmt, row, kind, pgsize, pgcount, budget, linux_)       \
	{ FMT_##fmt, #fmt "_" #row, KIND_##kind, pgsize, pgcount, budget,  \
	  linux_, { bench_##fmt##_##row, bench_##fmt##_##row##_builtin,    \
		    bench_##fmt##_##row##_direct } },
static const struct op_row op_rows[] = { OP_ROWS(ROW_ENTRY) };

/* "s1-map-4k" from "s1_map_4k"; g_free it. */
static char *row_name(const char *id)
{
	return g_strdelimit(g_strdup(id), "_", '-');
}

static const char *row_unit(const struct op_row *row)
{
	if (row->pgcount > 1)
		return "page";
	return row->pgsize > SZ_4K ? "block" : "op";
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
	struct run r = {
		.host = host,
		.fi = fi,
		.base = fi->base,
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

static uint64_t row_units(const struct bench *b, const struct op_row *row)
{
	const struct fmt_info *fi = &fmts[row->fmt];

	if (b->opt.callgrind)
		return CG_UNITS;
	if (row->pgsize > SZ_4K)
		return MAX(fmt_size(b, fi) / row->pgsize, 1);
	return fmt_size(b, fi) / row->pgsize;
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
	static __noinline unsigned int                                  \
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
	double budget;
	double linux_ref;
} alloc_free_rows[] = {
	{ FMT_s1, "bench_s1_alloc_free", bench_s1_alloc_free, 2000, 7707 },
	{ FMT_s2, "bench_s2_alloc_free", bench_s2_alloc_free, 0, 0 },
	{ FMT_v7s, "bench_v7s_alloc_free", bench_v7s_alloc_free, 0, 0 },
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
		e->tables = 1 + spans(base, size, 39) + spans(base, size, 30);
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
	for (int f = 0; f < NR_FMTS; f++) {
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

	if (__atomic_add_fetch(a->ready, 1, __ATOMIC_ACQ_REL) == a->nthreads)
		__atomic_store_n(a->go, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(a->go, __ATOMIC_ACQUIRE))
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

void bench_run_threads(struct bench *b)
{
	unsigned int total = b->opt.warmup + b->opt.runs;
	g_autofree char *title = g_strdup_printf(
		"Threads: map 4K x1 into one fresh table on disjoint halves "
		"(%u CPUs online)", g_get_num_processors());

	bench_section_begin(b, "threads", title);
	for (int f = 0; f < NR_FMTS; f++) {
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
				note = g_strdup_printf(
					"speed-up %.2fx wall; cpu/page "
					"%+.1f %% (%.2fx with 2 idle CPUs)",
					st[0].median / st[1].median,
					pct_over(ct[1].median, ct[0].median),
					2 * ct[0].median / ct[1].median);
				out.note = note;
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
	uint64_t tiny_size;
	size_t pgsize;
	size_t pgcount;
};

static const struct scale_case scale_cases[] = {
	{ "s1-scale-64g-4k", 64 * SZ_1G, 64 * SZ_1M, SZ_4K, 1 },
	{ "s1-scale-64g-4k-x512", 64 * SZ_1G, 64 * SZ_1M, SZ_4K, 512 },
	{ "s1-scale-1t-2m", 1024 * SZ_1G, SZ_1G, SZ_2M, 1 },
	{ "s1-scale-1t-2m-x512", 1024 * SZ_1G, SZ_1G, SZ_2M, 512 },
};

/* 512 GiB: the span of one level-0 entry, so the counts are plain. */
#define SCALE_BASE	(512 * SZ_1G)

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

void bench_run_scale(struct bench *b)
{
	const struct fmt_info *fi = &fmts[FMT_s1];

	bench_section_begin(b, "scale", "Scale: arm-64-lpae-s1, one run "
			    "each; map, then unmap, then free the table");
	for (size_t i = 0; i < G_N_ELEMENTS(scale_cases); i++) {
		const struct scale_case *c = &scale_cases[i];
		uint64_t size = b->opt.tiny ? c->tiny_size : c->size;
		uint64_t units = size / c->pgsize;
		g_autofree char *hsize = bench_format_size(size);
		g_autofree char *hpg = bench_format_size(c->pgsize);
		g_autofree char *what = NULL;
		g_autofree char *note = NULL;
		g_autofree char *mem_note = NULL;
		struct iopgt_mem_stats st, host_st;
		struct mem_expect e;
		struct bench_row out;
		struct run r = {
			.host = b->host,
			.fi = fi,
			.base = SCALE_BASE,
			.calls = units / c->pgcount,
		};
		uint64_t t0, t1, t2, t3, c0, c1;
		unsigned int bad;
		struct rusage ru;

		if (!bench_row_selected(b, c->row, fi->key))
			continue;
		if (table_new(b->host, fi, &r.pgt)) {
			b->failures++;
			continue;
		}
		bench_progress(b, c->row, 1, 3);
		c0 = bench_cpu_ns();
		t0 = bench_now_ns();
		bad = c->pgsize == SZ_4K ?
		      (c->pgcount == 1 ? wl_map(&r, false, SZ_4K, 1) :
					 wl_map(&r, false, SZ_4K, 512)) :
		      (c->pgcount == 1 ? wl_map(&r, false, SZ_2M, 1) :
					 wl_map(&r, false, SZ_2M, 512));
		t1 = bench_now_ns();
		c1 = bench_cpu_ns();
		iopgt_pgtable_get_mem_stats(b->host, r.pgt, &st);
		iopgt_host_get_mem_stats(b->host, &host_st);
		bench_progress(b, c->row, 2, 3);
		bad += c->pgsize == SZ_4K ?
		       (c->pgcount == 1 ? wl_unmap(&r, false, SZ_4K, 1) :
					  wl_unmap(&r, false, SZ_4K, 512)) :
		       (c->pgcount == 1 ? wl_unmap(&r, false, SZ_2M, 1) :
					  wl_unmap(&r, false, SZ_2M, 512));
		t2 = bench_now_ns();
		bench_progress(b, c->row, 3, 3);
		iopgt_pgtable_free(b->host, r.pgt);
		t3 = bench_now_ns();
		bench_progress_done(b);
		b->failures += bad;

		expect_tables(fi, SCALE_BASE, size, c->pgsize, &e);
		check_mem(b, c->row, &st, &e, &mem_note);
		if (host_st.table_bytes != st.table_bytes) {
			fprintf(stderr, "iopgt-bench: %s: the host has %"
				G_GUINT64_FORMAT " table bytes in use, the "
				"table %" G_GUINT64_FORMAT "\n", c->row,
				host_st.table_bytes, st.table_bytes);
			b->failures++;
		}
		getrusage(RUSAGE_SELF, &ru);
		what = g_strdup_printf("map %s as %s x%zu", hsize, hpg,
				       c->pgcount);
		note = g_strdup_printf("map %.3f s (cpu %.3f s), unmap %.3f s "
				       "(%.1f ns/%s), free %.3f s; %s; max RSS "
				       "%ld MiB", seconds(t1 - t0),
				       seconds(c1 - c0), seconds(t2 - t1),
				       (double)(t2 - t1) / (double)units,
				       c->pgsize == SZ_4K ? "page" : "block",
				       seconds(t3 - t2), mem_note,
				       ru.ru_maxrss / 1024);
		out = (struct bench_row){
			.row = c->row,
			.what = what,
			.unit = c->pgsize == SZ_4K ? "page" : "block",
			.ns = { .median = (double)(t1 - t0) / (double)units,
				.n = 1 },
			.cpu = { .median = (double)(c1 - c0) / (double)units,
				 .n = 1 },
			.units = units,
			.table_bytes = (int64_t)st.table_bytes,
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

static void cg_line(const char *fn, uint64_t units, const char *unit,
		    double budget, double linux_ref)
{
	printf("%-36s %8" G_GUINT64_FORMAT " %-6s", fn, units, unit);
	if (budget)
		printf(" %8g %8g", budget, linux_ref);
	printf("\n");
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
	printf("%-36s %8s %-6s %8s %8s\n", "# function", "units", "unit",
	       "budget", "linux");
	for (size_t i = 0; i < G_N_ELEMENTS(op_rows); i++) {
		const struct op_row *row = &op_rows[i];
		static const char *const suffix[NR_PATHS] = {
			"", "_builtin", "_direct"
		};

		if (!row_selected(b, row))
			continue;
		for (int p = 0; p < NR_PATHS; p++) {
			g_autofree char *fn = g_strdup_printf("bench_%s%s",
							      row->id,
							      suffix[p]);

			if (p != PATH_HOST && !b->opt.direct)
				continue;
			if (run_row(b, p == PATH_HOST ? b->host : builtin, row,
				    p, CG_UNITS, &res))
				b->failures++;
			cg_line(fn, CG_UNITS, row_unit(row),
				p == PATH_HOST ? row->budget : 0,
				row->linux_ref);
		}
	}
	if (bench_row_selected(b, "loop", NULL)) {
		static const struct {
			const char *name;
			workload_fn fn[2];
		} loops[] = {
			{ "map", { bench_loop_map, bench_loop_map_direct } },
			{ "unmap",
			  { bench_loop_unmap, bench_loop_unmap_direct } },
			{ "iova", { bench_loop_iova, bench_loop_iova_direct } },
		};
		g_autofree unsigned long *iovas = NULL;
		struct run r = {
			.host = b->host,
			.pgt = &nop_pgt,
			.base = SZ_1G,
			.calls = CG_UNITS,
		};

		iovas = random_iovas(b, r.base, SZ_16M, CG_UNITS, &r.expect);
		r.iovas = iovas;
		for (size_t i = 0; i < G_N_ELEMENTS(loops); i++) {
			for (int d = 0; d < 2; d++) {
				g_autofree char *fn = g_strdup_printf(
					"bench_loop_%s%s", loops[i].name,
					d ? "_direct" : "");

				b->failures += loops[i].fn[d](&r);
				cg_line(fn, CG_UNITS, "op", 0, 0);
			}
		}
	}
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
		cg_line(alloc_free_rows[i].fn_name, r.calls, "table",
			alloc_free_rows[i].budget,
			alloc_free_rows[i].linux_ref);
	}
	iopgt_host_unref(builtin);
}
