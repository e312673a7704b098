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
 *
 * Two sources of softdeps, kept apart:
 *   - manifest lines (parse_data/parse_file): every line for NAME merges;
 *   - what a plugin file declares about itself (set_declared): one set
 *     per plugin, replaced whole on every call.
 * The effective softdeps of NAME are its manifest lines if there is any,
 * else its declared set: an administrator's line replaces a plugin's own
 * declaration, never merges with it (plan->overrides says so).
 */
struct iopgt_manifest;

struct iopgt_manifest *iopgt_manifest_new(void);
void iopgt_manifest_free(struct iopgt_manifest *m);

/*
 * Parse and merge.  Every bad line is appended to diagnostics (a GPtrArray
 * of g_malloc'd "FILE:LINE: message" strings, may be NULL), kept by the
 * manifest for the plan's errors, and the first one is also set in *error
 * (IOPGT_MANIFEST_ERROR_PARSE); good lines still count.  filename is what
 * messages print.  Linear in len.
 * Returns: TRUE if every line was good.
 */
gboolean iopgt_manifest_parse_data(struct iopgt_manifest *m,
				   const char *filename, const char *data,
				   gsize len, GPtrArray *diagnostics,
				   GError **error);
/*
 * Read the file and parse_data it.  The file is opened without blocking
 * (a FIFO cannot hang us) and must be a regular file of at most
 * IOPGT_MANIFEST_MAX_BYTES (host.h); otherwise nothing of it is used and
 * *error (IOPGT_MANIFEST_ERROR_IO) is one line naming the file: "PATH: not
 * a regular file", "PATH: larger than 16777216 bytes (the manifest
 * limit)" or "PATH: strerror".
 * Returns: 0 if every line was good, -EBADMSG if some line was bad, or
 * -EINVAL (not a regular file), -EFBIG (too large) or open()/read()'s
 * negative errno.
 */
int iopgt_manifest_add_file(struct iopgt_manifest *m, const char *path,
			    GPtrArray *diagnostics, GError **error);
/* add_file()'s reading half, on no manifest (no lock needed): the data
 * (g_free it) or NULL with *err and *error set as add_file() sets them. */
char *iopgt_manifest_read_file(const char *path, gsize *len, int *err,
			       GError **error);
/* The same, as a gboolean: TRUE if add_file() returned 0. */
gboolean iopgt_manifest_parse_file(struct iopgt_manifest *m, const char *path,
				   GPtrArray *diagnostics, GError **error);

/*
 * Replace what plugin_name's file declares about its softdeps: each of
 * softdeps is "pre: A B post: C" (the rest of a softdep line).  NULL or an
 * empty vector clears the declaration (a plugin removed, a reload that
 * failed or was rolled back).  origin is what plan edges and overrides
 * print, e.g. "PATH[.iopgt_info]".  A bad entry is skipped and kept with
 * the declaration ("ORIGIN: message", in the plan's errors until the
 * declaration is replaced); the good ones still count.
 * Returns: 0, -EBADMSG if some entry was bad, -EINVAL for a bad name.
 */
int iopgt_manifest_set_declared(struct iopgt_manifest *m,
				const char *plugin_name, const char *origin,
				const char *const *softdeps);

bool iopgt_manifest_is_blacklisted(const struct iopgt_manifest *m,
				   const char *name);
/* "FILE:LINE" of the blacklist line, or NULL. */
const char *iopgt_manifest_blacklist_origin(const struct iopgt_manifest *m,
					    const char *name);
/* The effective (see above) canonical names in declaration order, never
 * NULL; the array is owned by the manifest and valid until it changes. */
const GPtrArray *iopgt_manifest_get_pre(const struct iopgt_manifest *m,
					const char *name);
const GPtrArray *iopgt_manifest_get_post(const struct iopgt_manifest *m,
					 const char *name);

/* ---- what plan.c reads of a manifest (manifest.c) ------------------------- */

enum iopgt_softdep_kind {
	IOPGT_SOFTDEP_PRE,
	IOPGT_SOFTDEP_POST,
	IOPGT_SOFTDEP_NR_KINDS,
};
/* "pre:" and "post:" */
extern const char *const iopgt_softdep_mode[IOPGT_SOFTDEP_NR_KINDS];

/* The effective deps of a canonical name and, parallel, the "FILE:LINE"
 * (or declared origin) of each; both never NULL, owned by the manifest. */
void iopgt_manifest_softdeps(const struct iopgt_manifest *m,
			     const char *canon, enum iopgt_softdep_kind k,
			     const GPtrArray **deps, const GPtrArray **origins);
/* Blacklist origin of a canonical name, or NULL (no allocation). */
const char *iopgt_manifest_blacklisted_canon(const struct iopgt_manifest *m,
					     const char *canon);
/* char *: "FILE:LINE: why" of every refused manifest line, in order. */
const GPtrArray *iopgt_manifest_refused(const struct iopgt_manifest *m);
/* "ORIGIN: why" of every bad entry of a current declaration, by plugin
 * name; g_ptr_array_unref() it. */
GPtrArray *iopgt_manifest_declared_errors(const struct iopgt_manifest *m);
/* "softdep NAME declared by ORIGIN is overridden by FILE:LINE", sorted by
 * NAME, one per plugin whose declaration manifest lines replace; g_free
 * the array (it frees its strings). */
GPtrArray *iopgt_manifest_overrides(const struct iopgt_manifest *m);
/* Every name that has softdeps (lines or a declaration), in no order;
 * the strings are the manifest's.  g_ptr_array_unref() it. */
GPtrArray *iopgt_manifest_names(const struct iopgt_manifest *m);
/* Test-only: softdep list entries compared while merging (linear parse:
 * at most a small constant per dependency added). */
uint64_t iopgt_manifest_work(const struct iopgt_manifest *m);

/* ---- the load plan (plan.c) ----------------------------------------------- */

/*
 * Order the available plugins (any spelling, any order, duplicates
 * allowed) into the public struct iopgt_plan (host.h): a stable
 * topological order over sorted names, so it never depends on discovery
 * order.  A missing softdep target is a warning.  errors lists the
 * manifest's refused lines first, then each softdep cycle once ("softdep
 * cycle: a -> b -> a", sorted); a member's reason is short: the cycle when
 * it has at most 8 plugins, else its first names and "(N plugins; see
 * errors)".  Linear time and memory in plugins plus softdeps (sorting
 * aside).  Free with iopgt_plan_free().
 */
struct iopgt_plan *iopgt_manifest_plan(const struct iopgt_manifest *m,
				       const char *const *available,
				       size_t n_available);
/* Test-only: graph steps the plan took (successors looked at). */
uint64_t iopgt_plan_work(const struct iopgt_plan *plan);

/* ---- loading one plugin (plan.c) ------------------------------------------ */

/* What the loader knows about a softdep target (a canonical name). */
enum iopgt_softdep_target {
	IOPGT_SOFTDEP_MISSING,		/* no such plugin: a warning */
	IOPGT_SOFTDEP_LOAD,		/* a plugin to load: its softdeps
					 * are followed */
	IOPGT_SOFTDEP_LOADED,		/* already loaded: no step, its
					 * softdeps are not followed (they
					 * still order and close cycles) */
};
typedef enum iopgt_softdep_target (*iopgt_softdep_lookup_fn)(const char *name,
							     void *data);

struct iopgt_load_step {
	const char *name;		/* canonical */
	const char *wanted_by;		/* who named it; NULL for the root */
	const char *kind;		/* "pre:", "post:"; NULL for the root */
	/* NULL: load it.  Else why it is skipped: "on softdep cycle ..."
	 * (its own softdeps were not followed). */
	const char *skip;
};

struct iopgt_load_order {
	/* Set when the plugin asked for is on a softdep cycle: "a -> b -> a"
	 * (no "softdep cycle: " prefix: the caller words it); steps is then
	 * empty. */
	const char *cycle;
	GArray *steps;			/* struct iopgt_load_step */
	GPtrArray *warnings;		/* char *: "ORIGIN: softdep B pre: A:
					 * no plugin named 'A', ignored" */
	uint64_t work;			/* test-only: successors looked at */
	GStringChunk *strings;		/* owns every text above */
};

/*
 * The steps that load name and its softdeps, computed once, iteratively,
 * in O(V + E) of the softdep graph of the known plugins (sorting names
 * aside): every plugin comes after its pre: targets and after every wanted
 * plugin that names it in post:, and post: targets come after the plugin
 * that names them.  The steps are name and what it names, transitively;
 * lookup is called once per distinct name the manifest mentions (never for
 * name itself) under whatever lock the caller holds.  Cycles are those of
 * the known plugins (lookup LOAD or LOADED), as in iopgt_manifest_plan():
 * a cycle through a plugin that name does not need still refuses it if
 * name is on it.  Blacklisted names (manifest) are steps whose softdeps
 * are not followed and that close no cycle: loading them gives the
 * blacklist's refusal.
 *
 * The loader runs the steps in order, best effort: a skip step marks that
 * plugin failed with its reason; a "post:" step whose wanted_by did not
 * load (failed or skipped) should be skipped too, as should be any step
 * whose wanted_by was so skipped (post: softdeps follow a loaded plugin).
 * Free with iopgt_load_order_free().
 */
struct iopgt_load_order *iopgt_manifest_load_order(
	const struct iopgt_manifest *m, const char *name,
	iopgt_softdep_lookup_fn lookup, void *data);
void iopgt_load_order_free(struct iopgt_load_order *order);

/*
 * The cycle through name over every manifest name that is not blacklisted
 * (no availability), or NULL.  Kept for callers not yet on
 * iopgt_manifest_load_order(): O(V + E) of the whole manifest per call,
 * so never call it once per plugin.
 */
char *iopgt_manifest_find_cycle(const struct iopgt_manifest *m,
				const char *name);

#endif /* IOPGT_MANIFEST_H */
