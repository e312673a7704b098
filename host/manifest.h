/* SPDX-License-Identifier: MIT */
#ifndef IOPGT_MANIFEST_H
#define IOPGT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* ---- manifest (manifest.c) ------------------------------------------------ */

/*
 * modprobe.d-style manifest:
 *   softdep NAME [pre: A B ...] [post: C D ...]    (pre:/post: any order,
 *                                                   repeatable; lines merge)
 *   blacklist NAME
 *   # comment, blank lines, "\" at end of line continues it.
 * Names are canonicalised with iopgt_name_canonical().
 */
struct iopgt_manifest;

struct iopgt_manifest *iopgt_manifest_new(void);
void iopgt_manifest_free(struct iopgt_manifest *m);

/*
 * Parse and merge.  Every bad line is appended to diagnostics (a GPtrArray
 * of g_malloc'd "FILE:LINE: message" strings, may be NULL) and the first one
 * is also set in *error (IOPGT_MANIFEST_ERROR_PARSE); good lines still count.
 * filename is what messages print.
 * Returns: TRUE if every line was good.
 */
gboolean iopgt_manifest_parse_data(struct iopgt_manifest *m,
				   const char *filename, const char *data,
				   gsize len, GPtrArray *diagnostics,
				   GError **error);
/* Reads the file (IOPGT_MANIFEST_ERROR_IO if it can't) then parse_data. */
gboolean iopgt_manifest_parse_file(struct iopgt_manifest *m, const char *path,
				   GPtrArray *diagnostics, GError **error);

bool iopgt_manifest_is_blacklisted(const struct iopgt_manifest *m,
				   const char *name);
/* "FILE:LINE" of the blacklist line, or NULL. */
const char *iopgt_manifest_blacklist_origin(const struct iopgt_manifest *m,
					    const char *name);
/* Canonical names in declaration order (merged over all lines), never NULL;
 * the array is owned by the manifest. */
const GPtrArray *iopgt_manifest_get_pre(const struct iopgt_manifest *m,
					const char *name);
const GPtrArray *iopgt_manifest_get_post(const struct iopgt_manifest *m,
					 const char *name);

enum iopgt_mplan_action {
	IOPGT_MPLAN_LOAD,
	IOPGT_MPLAN_BLACKLISTED,
	IOPGT_MPLAN_CYCLE,		/* on a softdep cycle: not loaded */
};

struct iopgt_mplan_entry {
	char *name;			/* canonical */
	enum iopgt_mplan_action action;
	char *reason;			/* NULL for LOAD */
};

struct iopgt_mplan_edge {
	char *before;
	char *after;
	char *reason;			/* "softdep B pre: A (FILE:LINE)" */
};

struct iopgt_mplan {
	/* LOAD entries in load order, then BLACKLISTED and CYCLE entries
	 * sorted by name */
	GPtrArray *entries;		/* struct iopgt_mplan_entry * */
	GPtrArray *edges;		/* struct iopgt_mplan_edge *, only between
					 * available plugins, sorted */
	GPtrArray *warnings;		/* char *: missing softdep targets */
	GPtrArray *errors;		/* char *: "softdep cycle: a -> b -> a" */
};

/*
 * Order the available plugins (canonical names, any order, no duplicates):
 * a stable topological order over sorted names, so it never depends on
 * discovery order.  A missing softdep target is a warning.  Every cycle is
 * one error naming it; its members are not loaded, everything else is.
 */
struct iopgt_mplan *iopgt_manifest_plan(const struct iopgt_manifest *m,
				       const char *const *available,
				       size_t n_available);
void iopgt_mplan_free(struct iopgt_mplan *plan);

/* Names of plugins on a cycle through name (for load_plugin), or NULL. */
char *iopgt_manifest_find_cycle(const struct iopgt_manifest *m,
				const char *name);

#endif /* IOPGT_MANIFEST_H */
