/* SPDX-License-Identifier: MIT */
/*
 * iopgt-bench: shared state of the benchmark program.
 *
 * The program is split by what it measures: bench-formats.c (page-table
 * operations through the host, the direct-link comparison, table memory,
 * threads and scale), bench-host.c (plugin load cycles against bare
 * dlopen, `iopgt-host list` start-up) and iopgt-bench.c (options, output,
 * the order of sections).  Every section reports through bench_report_*()
 * so the text table and the JSON document always agree.
 */
#ifndef IOPGT_BENCH_H
#define IOPGT_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include <iopgt/host.h>

/*
 * A workload: not inlined, not cloned and never folded with an identical
 * body, so callgrind sees each one under its own name (bits.h's
 * __noinline only stops inlining).  gcc clones and folds (-fipa-cp-clone,
 * -fipa-icf) unless told not to; clang has neither pass by default, nor
 * these two attributes.  __always_inline and the rest come from
 * <iopgt/bits.h>.
 */
#ifdef __clang__
#define bench_noinline	__attribute__((noinline))
#else
#define bench_noinline	__attribute__((noinline, noclone, no_icf))
#endif

/* ---- options (iopgt-bench.c) --------------------------------------------- */

struct bench_opts {
	char **plugin_dirs;		/* NULL: the bundled dir */
	char *bench_plugin_dir;		/* for `list` scaling */
	char *cli;			/* iopgt-host, for `list` start-up */
	uint64_t lpae_size;		/* bytes mapped by the LPAE rows */
	uint64_t v7s_size;		/* bytes mapped by the v7s rows */
	int runs;			/* timed runs per row */
	int warmup;			/* untimed runs first */
	char **formats;			/* NULL: all; else s1, s2, v7s */
	char **only;			/* NULL: all rows; else globs */
	uint64_t seed;
	bool json;
	bool callgrind;
	bool tiny;
	bool direct;
	bool host;
	bool threads;
	bool scale;
	bool progress;			/* stderr is a terminal */
};

/* ---- the context every section gets -------------------------------------- */

struct bench {
	struct bench_opts opt;
	struct iopgt_host *host;	/* plugins dlopen'd from plugin_dir */
	char *plugin_dir;		/* the first plugin directory */
	unsigned int failures;		/* wrong results: exit status 1 */
	JsonObject *json;		/* the document, NULL unless --json */
	JsonObject *json_section;	/* the section being filled */
};

/* Load the format plugins into b->host.  Returns: 0 or a negative errno. */
int bench_setup_host(struct bench *b);
/* Another host like b->host, with its own (fresh) table memory; NULL on
 * failure (reported).  iopgt_host_unref() it. */
struct iopgt_host *bench_host_new(const struct bench *b);
/* PREFIX/subdir of this installation, and a program installed next to
 * this one (bench-setup.c); g_free() them. */
char *bench_prefix_path(const char *subdir);
char *bench_exe_sibling(const char *name);

/* Section runners (bench-formats.c, bench-host.c). */
void bench_run_ops(struct bench *b);
void bench_run_alloc_free(struct bench *b);
void bench_run_memory(struct bench *b);
void bench_run_direct(struct bench *b);
void bench_run_threads(struct bench *b);
void bench_run_scale(struct bench *b);
void bench_run_host_costs(struct bench *b);
void bench_run_callgrind(struct bench *b);

/* True if a row passes --only (and its format passes --format). */
bool bench_row_selected(const struct bench *b, const char *row,
			const char *fmt_key);

/* ---- timing and statistics ----------------------------------------------- */

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: what a run cost when the machine is
 * shared and the wall clock also counts time spent preempted. */
static inline uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct bench_stats {
	double median;
	double min;
	double max;
	unsigned int n;
};

/* Sorts samples in place. */
void bench_stats_of(double *samples, unsigned int n, struct bench_stats *st);

/* ---- progress on a terminal ---------------------------------------------- */

void bench_progress(const struct bench *b, const char *what, unsigned int i,
		    unsigned int n);
void bench_progress_done(const struct bench *b);

/* ---- reporting ----------------------------------------------------------- */

/* One timed row: time per unit (op, page, block, cycle...). */
struct bench_row {
	const char *row;		/* "s1-map-4k" */
	const char *what;		/* human description */
	const char *variant;		/* NULL, or how it was called */
	const char *unit;		/* "op", "page", ... */
	struct bench_stats ns;		/* ns per unit, wall clock */
	struct bench_stats cpu;		/* ns per unit, thread CPU time
					 * (n == 0: not measured) */
	uint64_t units;			/* units per run */
	int64_t table_bytes;		/* -1: not applicable */
	int64_t blocks;			/* host allocations; -1: n/a */
	const char *note;		/* NULL or extra text */
};

/* Start a section: prints its title and column header. */
void bench_section_begin(struct bench *b, const char *name,
			 const char *title);
void bench_section_end(struct bench *b);
void bench_report_row(struct bench *b, const struct bench_row *r);
/* Free-form result lines of a section (key = value), text and JSON. */
void bench_report_value(struct bench *b, const char *key, const char *fmt,
			...) G_GNUC_PRINTF(3, 4);
void bench_report_number(struct bench *b, const char *key, double value,
			 const char *unit);
void bench_note(struct bench *b, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* "1 GiB", "256 MiB", "4 KiB" */
char *bench_format_size(uint64_t bytes);
gboolean bench_parse_size(const char *s, uint64_t *out, GError **error);

#endif /* IOPGT_BENCH_H */
