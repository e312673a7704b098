/* SPDX-License-Identifier: MIT */
/*
 * iopgt-host inspect, inside: what inspect.c (options, sources,
 * translate, check), inspect-map.c (runs of mappings), inspect-dump.c
 * (dump tree, json, dot) and inspect-diff.c (diff) share.  Bottom to
 * top: map, then dump and diff, then inspect.c.
 */
#ifndef IOPGT_CLI_INSPECT_MAP_H
#define IOPGT_CLI_INSPECT_MAP_H

#include "cli.h"

/*
 * A run: count leaves of one size, one after the other in iova and in
 * output address, with the same prot and the same other descriptor bits
 * (docs/inspect.md, "Runs").  A v7s supersection or large page is one
 * leaf however many of its sixteen copies the walk reports: copies counts
 * the slots each leaf takes.
 */
struct insp_run {
	uint64_t iova;		/* the first leaf's */
	uint64_t oa;
	uint64_t size;		/* one leaf's */
	uint64_t count;		/* leaves */
	uint64_t raw;		/* the first leaf's descriptor */
	uint64_t last_raw;	/* the last leaf's, to extend the run */
	int prot;
	int level;
	unsigned int index;	/* the first leaf's slot */
	unsigned int slots;	/* slots the run takes (copies included) */
};

/* The run's last iova and last output byte. */
static inline uint64_t insp_run_last(const struct insp_run *r)
{
	return r->iova + r->count * r->size - 1;
}

static inline uint64_t insp_run_oa_last(const struct insp_run *r)
{
	return r->oa + r->count * r->size - 1;
}

/* A run of the one leaf e. */
void insp_run_start(struct insp_run *r, const struct iopgt_walk_entry *e);
/* Add e to r when it continues it (a copy of its last leaf, or the next
 * leaf); false leaves r as it was. */
bool insp_run_add(struct insp_run *r, const struct iopgt_walk_entry *e);

/*
 * A slice of a run: iova first to last, both inside it (diff compares
 * parts of runs; a slice may cut a leaf).  count is then the leaves it
 * touches and desc the first one's descriptor.
 */
struct insp_slice {
	const struct insp_run *run;
	uint64_t first;
	uint64_t last;
};

/* The whole run as a slice. */
static inline struct insp_slice insp_run_whole(const struct insp_run *r)
{
	return (struct insp_slice){ r, r->iova, insp_run_last(r) };
}

/* "rw-", "r-x cache mmio priv": as translate prints it. */
char *insp_prot_text(int prot);
/* The output address of iova in the slice's run, and its leaf's
 * descriptor (raw moves with the address, leaf by leaf). */
uint64_t insp_slice_oa(const struct insp_slice *s, uint64_t iova);
uint64_t insp_slice_desc(const struct insp_slice *s, uint64_t iova);
/*
 * "0x10200000..0x103fffff -> 0x80400000..0x805fffff 4K×512 rw-", or
 * from the PAs on when with_iova is false.
 */
char *insp_slice_text(const struct insp_slice *s, bool with_iova);
/* iova (unless !with_iova), pa, size, count, level, prot, perms, desc:
 * members of the object j is in (docs/inspect.md, "JSON keys"). */
void insp_slice_json(struct cli_json *j, const struct insp_slice *s,
		     bool with_iova);

/* Most runs one side of a diff holds: past it, diff gives up (exit 2). */
#define INSP_MAX_RUNS	(1U << 22)

/*
 * Every mapping the walk reports, as runs in iova order across tables
 * (a run continues into the next table).  Returns: 0 with *runs (a
 * GArray of struct insp_run) and *tables, -E2BIG past INSP_MAX_RUNS, or
 * the walk's negative errno.
 */
int insp_collect_runs(struct iopgt_inspect *insp, GArray **runs,
		      unsigned int *tables);

/* inspect-dump.c: `dump [tree|json|dot]`.  Returns: an exit status. */
enum insp_dump_style { INSP_DUMP_TREE, INSP_DUMP_JSON, INSP_DUMP_DOT };
int insp_dump(struct cli *cli, struct iopgt_inspect *insp,
	      enum insp_dump_style style);

/* inspect-diff.c: what changed from a to b.  Returns: EXIT_OK (the same),
 * EXIT_FAILED (different) or EXIT_USAGE (a walk failed, as diff(1)). */
int insp_diff(struct cli *cli, struct iopgt_inspect *a,
	      struct iopgt_inspect *b);

/* One line on stderr, "iopgt-host: inspect: MESSAGE". */
void insp_err(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif /* IOPGT_CLI_INSPECT_MAP_H */
