/* SPDX-License-Identifier: MIT */
/*
 * iopgt-conformance: the format contract of pgtable.h, checked against any
 * format through the public host API (docs/conformance.md).
 */
#ifndef IOPGT_CONFORMANCE_H
#define IOPGT_CONFORMANCE_H

#include <stdbool.h>

#include <glib.h>

#include <iopgt/host.h>

struct conf {
	struct iopgt_host *host;
	const char *format;
	struct iopgt_cfg cfg;		/* what every table is asked for */
	bool split_blocks;		/* --split-blocks */
	guint32 seed;
	unsigned int ops;		/* random operations */
	unsigned int threads;
	bool verbose;
	/* the random workload's table, kept for the checks that follow it */
	struct conf_table *random;
	char *random_tlb_error;
};

/*
 * One check: NULL when it passes, else why it failed (g_free'd by the
 * caller).  *skip may be set to why it could not run (then it passes).
 */
typedef char *(*conf_check_fn)(struct conf *c, const char **skip);

struct conf_check {
	const char *name;
	conf_check_fn fn;
};

extern const struct conf_check conf_checks[];

/* Free what the checks left (after a failure part way). */
void conf_cleanup(struct conf *c);

#endif
