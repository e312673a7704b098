/* SPDX-License-Identifier: MIT */
/*
 * libiopgt-host: load page-table format plugins and make page tables.
 *
 * One context (struct iopgt_host) owns everything: plugin dirs, the
 * manifest, the plugin records, the format registry, the simulated physical
 * memory and the log function.  Every call takes it first.  There is no
 * global state, so a program may hold several hosts.
 *
 * Errors: negative errno everywhere.  The words that say why (the line the
 * host or a format logged) are kept per thread and per host as a value:
 * iopgt_host_get_last_error().  <iopgt/host-glib.h> adds a GError edge
 * for programs that use GLib; this header needs nothing but libc.
 *
 * Threads: every iopgt_host_* and iopgt_plugin_* call is thread-safe.
 * Operations on one page table may run concurrently on disjoint iova ranges
 * (the io-pgtable rule); overlapping ranges are the caller's to serialise.
 */
#ifndef IOPGT_HOST_H
#define IOPGT_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iopgt/pgtable.h>
#include <iopgt/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iopgt_host;
struct iopgt_plugin;

/* ---- context ------------------------------------------------------------- */

/* The initial refcount is 1.  Returns NULL only on out-of-memory. */
struct iopgt_host *iopgt_host_new(void);
struct iopgt_host *iopgt_host_ref(struct iopgt_host *host);
/* Returns NULL once freed.  Live tables each hold a host reference. */
struct iopgt_host *iopgt_host_unref(struct iopgt_host *host);

typedef void (*iopgt_log_fn)(void *data, int priority, const char *file,
			     int line, const char *fn, const char *format,
			     va_list args);
/* Default: stderr, priority IOPGT_LOG_WARNING, IOPGT_LOG=err|warning|info|debug
 * (or a number) overrides it at iopgt_host_new(). */
void iopgt_host_set_log_fn(struct iopgt_host *host, iopgt_log_fn fn,
			   void *data);
int iopgt_host_get_log_priority(const struct iopgt_host *host);
void iopgt_host_set_log_priority(struct iopgt_host *host, int priority);
void iopgt_host_set_userdata(struct iopgt_host *host, void *userdata);
void *iopgt_host_get_userdata(const struct iopgt_host *host);

/*
 * Simulated physical memory size in bytes (default 16 GiB, of which
 * [2 GiB, 4 GiB) is the DMA32 zone).  Only before the first table.
 * Returns: 0 on success or a negative errno (-EBUSY once memory is in use,
 * -EINVAL for a size below 64 KiB).
 */
int iopgt_host_set_mem_size(struct iopgt_host *host, uint64_t bytes);
/* Refuse table memory beyond this many bytes in use (0 = no limit). */
void iopgt_host_set_mem_limit(struct iopgt_host *host, uint64_t bytes);

struct iopgt_mem_stats {
	uint64_t table_bytes;		/* page-table memory outstanding */
	uint64_t table_allocs;		/* blocks outstanding */
	uint64_t peak_table_bytes;
	uint64_t state_bytes;		/* format state (zalloc) outstanding */
	uint64_t syncs;			/* dma_sync calls */
};
/* Whole-host memory figures. */
void iopgt_host_get_mem_stats(struct iopgt_host *host,
			      struct iopgt_mem_stats *stats);

/* ---- memory: tables in the caller's memory (docs/embedding.md) ------------ */

/*
 * A source of page-table memory other than the simulated one: a region of
 * the caller's memory (an mmap of a memfd shared with an emulator, a DMA
 * buffer) or the caller's own allocator.  Every table's memory comes from
 * one provider, so va = pa + (one offset) holds for all of it and formats
 * translate with one add, as in the simulated memory.
 *
 * Reference counted: the initial refcount is 1; ref returns its argument,
 * unref returns NULL once freed.  Every block a table holds keeps its
 * provider, so unref'ing a provider that tables use only drops the
 * caller's reference.  A provider holds a reference on its host.
 */
struct iopgt_mem_provider;

struct iopgt_mem_provider *
iopgt_mem_provider_ref(struct iopgt_mem_provider *p);
struct iopgt_mem_provider *
iopgt_mem_provider_unref(struct iopgt_mem_provider *p);
int iopgt_mem_provider_get_refcount(const struct iopgt_mem_provider *p);

/*
 * Tables in [va, va + size) of the caller's memory, whose physical (device
 * visible) address is pa.  The host manages 4 KiB-page blocks in it with
 * the same buddy allocator as the simulated memory: blocks are aligned to
 * their size in PA, honour the formats' address limits, and are zeroed
 * when handed out (the memory is not assumed zero).  Free blocks hold the
 * allocator's links, so the whole region is the host's until the provider
 * goes; the caller unmaps it after that.
 * Returns: 0 on success or a negative errno: -EINVAL (size below 16 KiB,
 * va or pa not 4 KiB aligned, pa + size wraps, or [pa, pa + size)
 * overlaps another region of this host: the log says which), -ENOMEM.
 */
int iopgt_mem_provider_new_region(struct iopgt_host *host, void *va,
				  uint64_t pa, uint64_t size,
				  struct iopgt_mem_provider **out);

/*
 * The caller's allocator, as Linux's cfg->alloc/free with
 * IO_PGTABLE_CAP_CUSTOM_ALLOCATOR.  alloc returns size bytes (a power of
 * two number of 4 KiB pages) whose PA, in *pa, is aligned to align and
 * with pa + size - 1 <= max_pa (UINT64_MAX: no limit), or NULL.  The
 * caller promises va == pa + pa_to_va for every block (checked: a block
 * that breaks a promise is given back and refused).  The host zeroes each
 * block.  free gets back what alloc gave.  release, if set, is called once
 * when the provider goes, after the last free.
 */
struct iopgt_mem_provider_ops {
	void *(*alloc)(void *data, size_t size, size_t align, uint64_t max_pa,
		       uint64_t *pa);
	void (*free)(void *data, void *va, uint64_t pa, size_t size);
	void (*release)(void *data);
};
/* Returns: 0 on success or a negative errno (-EINVAL: no alloc or free). */
int iopgt_mem_provider_new_custom(struct iopgt_host *host,
				  const struct iopgt_mem_provider_ops *ops,
				  void *data, int64_t pa_to_va,
				  struct iopgt_mem_provider **out);

struct iopgt_mem_provider_stats {
	uint64_t bytes;			/* table memory outstanding */
	uint64_t blocks;		/* blocks outstanding */
	uint64_t refused;		/* requests it could not satisfy */
};
void iopgt_mem_provider_get_stats(const struct iopgt_mem_provider *p,
				  struct iopgt_mem_provider_stats *stats);

/*
 * Where tables made from now on take their memory: p, or NULL for the
 * simulated memory (the default, with the addresses it always had).  The
 * host takes no reference (p holds the host): when p goes, new tables use
 * the simulated memory again.  Tables made before keep theirs.
 * Returns: 0 on success or -EINVAL (p is another host's).
 */
int iopgt_host_set_mem_provider(struct iopgt_host *host,
				struct iopgt_mem_provider *p);

/*
 * For non-coherent tables (cfg.coherent_walk false) the formats sync every
 * table write before the walker can reach it; fn is called for each sync,
 * in order, with the range's va, its pa and its size (the caller's
 * dma_sync_single_for_device, cache clean or shared-memory barrier).  Set
 * it before making the tables: a table uses the hook set when it was made.
 * NULL: syncs are only counted (iopgt_mem_stats.syncs).
 */
typedef void (*iopgt_dma_sync_fn)(void *data, const void *va, uint64_t pa,
				  size_t size);
void iopgt_host_set_dma_sync_fn(struct iopgt_host *host, iopgt_dma_sync_fn fn,
				void *data);

/* ---- discovery, manifest, loading ---------------------------------------- */

/*
 * Add a directory to scan for *.so plugins.  Directories are searched in
 * the order added, then IOPGT_PLUGIN_PATH (colon-separated).  A plugin name
 * found in an earlier directory shadows later ones.
 * Returns: 0 on success or a negative errno (-ENOENT: no such directory,
 * -ENOTDIR: not a directory, or stat()'s).
 */
int iopgt_host_add_plugin_dir(struct iopgt_host *host, const char *dir);

/*
 * Directory flags for iopgt_host_add_plugin_dir_full().
 * IOPGT_DIR_TRUSTED: plugins from this directory are not probed in a child
 * process first (see iopgt_host_set_probe()).  The file trust checks still
 * apply.
 */
#define IOPGT_DIR_TRUSTED	(1U << 0)
int iopgt_host_add_plugin_dir_full(struct iopgt_host *host, const char *dir,
				   unsigned int flags);

/* ---- trust and crash isolation (docs/security.md) ------------------------ */

/*
 * File trust.  Every plugin file is opened with O_NOFOLLOW (a symlink is
 * followed only if its target stays inside the plugin directory), checked
 * with fstat() on that descriptor, and the same descriptor is what dlopen
 * maps (/proc/self/fd/N), so nothing can swap the file between check and
 * use.  A file or its directory writable by group or others, or owned by a
 * user other than root and the caller, is refused unless allowed here.
 * Default: refused.
 */
void iopgt_host_set_allow_insecure(struct iopgt_host *host, bool allow);

/*
 * Crash isolation.  With probing on (the default) a plugin file the host
 * has not seen before is first loaded in a forked child against a recording
 * registrar; if the child crashes, exits or does not answer within the
 * timeout, the plugin is BLACKLISTED with the reason ("probe: ...") and the
 * host never runs its code.  Results are remembered per file (path, device,
 * inode, size, mtime) in memory and, if set, in the cache file, until the
 * file changes.  IOPGT_DIR_TRUSTED directories are never probed.
 */
void iopgt_host_set_probe(struct iopgt_host *host, bool probe);
/* Bound on one probe in milliseconds (default 5000, minimum 1). */
void iopgt_host_set_probe_timeout(struct iopgt_host *host,
				  unsigned int timeout_ms);
/*
 * Remember probe results (good and bad) and plugin metadata across runs in
 * this file (a GKeyFile written atomically).  NULL turns the file off (the
 * in-memory cache remains).  A cache file that is not owned by the caller
 * or is writable by others is ignored with a warning.
 * Returns: 0, or a negative errno if an existing file cannot be read or
 * parsed (the cache then starts empty and is rewritten).
 */
int iopgt_host_set_cache_file(struct iopgt_host *host, const char *path);

struct iopgt_probe_stats {
	unsigned int probes;		/* child processes run */
	unsigned int cache_hits;	/* probe results reused */
	unsigned int blacklisted;	/* plugins refused by a probe */
	uint64_t probe_ns;		/* total wall time spent probing */
};
void iopgt_host_get_probe_stats(struct iopgt_host *host,
				struct iopgt_probe_stats *stats);

/*
 * Parse a modprobe.d-style manifest (softdep/blacklist lines) and merge it
 * into the host's; several files merge in the order given (modprobe.d).
 * Bad lines are reported one by one through the log ("FILE:LINE: why")
 * and kept for iopgt_host_get_plan(); good lines still count.  A file that
 * is not a regular file, or larger than IOPGT_MANIFEST_MAX_BYTES, is
 * refused whole.  (iopgt_host_load_manifest() in <iopgt/host-glib.h> is
 * the same with a GError.)
 * Returns: 0 if every line was good, -EBADMSG if some line was bad, or
 * why the file could not be used at all: -EINVAL (not a regular file),
 * -EFBIG (too large), or open()/read()'s errno (the logged line says it
 * in words).
 */
#define IOPGT_MANIFEST_MAX_BYTES	(16U << 20)
int iopgt_host_add_manifest(struct iopgt_host *host, const char *path);

/*
 * Scan the plugin directories: every regular *.so becomes a plugin record
 * in state DISCOVERED (name = file name without .so).  Nothing is opened.
 * Returns: the number of plugins discovered or a negative errno.
 */
int iopgt_host_scan(struct iopgt_host *host);

/*
 * Load every discovered plugin in manifest order (stable topological order
 * over sorted names; pre: before, post: after).  Blacklisted plugins and
 * plugins on a softdep cycle are not loaded.  A plugin that fails is
 * recorded as FAILED with its reason and the rest still load.
 * Returns: the number of plugins loaded or a negative errno.
 */
int iopgt_host_load_all(struct iopgt_host *host);

/*
 * Load one plugin by name (its pre: softdeps first, post: after, both
 * best-effort).  Loading an already-loaded plugin returns 0.
 * Returns: 0 on success or a negative errno: -ENOENT (no such plugin;
 * also a file without the descriptor symbol, or a register_fn that
 * registered no format: the plugin's error text says which), -EPERM
 * (blacklisted by the manifest or by a probe), -EACCES (refused by the
 * file trust checks: insecure mode or owner, symlink leaving the plugin
 * directory), -ELOOP (on a softdep cycle), -EPROTO (bad descriptor),
 * -ENOEXEC (not a regular file, dangling symlink, dlopen failed), -EEXIST
 * (format name taken) or what register_fn returned.
 */
int iopgt_host_load_plugin(struct iopgt_host *host, const char *name,
			   struct iopgt_plugin **out);

/*
 * Add one plugin file as a DISCOVERED record without running any of it:
 * the file trust checks run and its metadata is read from the file
 * (iopgt_plugin_get_file_info()), as a scan would.  *out is borrowed, as
 * iopgt_host_find_plugin()'s.
 * Returns: 0 (with the file's metadata, or why there is none in
 * iopgt_plugin_get_info_error(): a file the trust checks refuse is not
 * read), -EINVAL (not NAME.so) or -EEXIST (a plugin of that name is known
 * from another path).
 */
int iopgt_host_add_plugin_file(struct iopgt_host *host, const char *path,
			       struct iopgt_plugin **out);

/* Load one file directly (no manifest, name from the descriptor). */
int iopgt_host_load_plugin_file(struct iopgt_host *host, const char *path,
				struct iopgt_plugin **out);

/*
 * Register a plugin linked into the program (no dlopen): the same
 * descriptor checks and registration as for a file.  This is how a
 * "built-in" format coexists with modular ones.
 */
int iopgt_host_register_builtin(struct iopgt_host *host,
				const struct iopgt_plugin_desc *desc,
				struct iopgt_plugin **out);

/*
 * Unload a plugin: refuse with -EBUSY while tables hold it (the log says
 * how many and which), otherwise drop its formats, call unregister_fn and
 * dlclose; a library that stays mapped afterwards is reported RESIDENT.
 * Returns: 0 on success or a negative errno (-ENOENT, -EBUSY, -EINVAL if
 * not loaded).
 */
int iopgt_host_unload_plugin(struct iopgt_host *host, const char *name);

/*
 * Unload when the last table goes (unload --wait): with no tables, unload
 * now; otherwise mark the plugin GOING (no new tables) and let the last
 * iopgt_pgtable_free() unload it.  timeout_ms 0 waits forever; otherwise
 * an unload still waiting when it passes is cancelled (back to LOADED).
 * Returns: 0 (unloaded now), -EINPROGRESS (deferred) or as
 * iopgt_host_unload_plugin().
 */
int iopgt_host_unload_plugin_deferred(struct iopgt_host *host,
				      const char *name,
				      unsigned int timeout_ms);
/*
 * The same, blocking until other threads free the tables.
 * Returns: 0 (unloaded), -ETIMEDOUT (cancelled: still LOADED) or as
 * iopgt_host_unload_plugin().
 */
int iopgt_host_unload_plugin_wait(struct iopgt_host *host, const char *name,
				  unsigned int timeout_ms);

/*
 * Hot reload: map the new file now at the plugin's path.  New tables use
 * the new code; tables made by the old version keep the old code (the old
 * record stays GOING, listed, with its holders) until the last is freed,
 * then the old copy is dlclosed.  The new version must be a new file
 * (glibc identifies objects by inode: rename a new file over the old).
 * Returns: 0 with *out the new record, or a negative errno: -ENOENT,
 * -EINVAL (not loaded), -EALREADY (file unchanged or rewritten in place),
 * or what loading the new version returned (the old one stays in charge).
 */
int iopgt_host_reload_plugin(struct iopgt_host *host, const char *name,
			     struct iopgt_plugin **out);

/*
 * On-demand loading (default on): iopgt_pgtable_new() of a format no
 * loaded plugin registered loads the never-loaded plugin whose file
 * metadata provides it, after its pre: softdeps (request_module).
 */
void iopgt_host_set_autoload(struct iopgt_host *host, bool autoload);

/* Unload everything that can be unloaded, in reverse load order. */
void iopgt_host_unload_all(struct iopgt_host *host);

/*
 * The record that a name means now, or NULL.  Borrowed: it stays valid
 * while the host holds it, which is until a reload replaces it and its
 * last table goes (or the host goes).  Take iopgt_plugin_ref() to keep it
 * longer; its texts live as long as the record.
 */
struct iopgt_plugin *iopgt_host_find_plugin(struct iopgt_host *host,
					    const char *name);
/* The plugin providing a loaded format (name or alias), or NULL; borrowed
 * as iopgt_host_find_plugin()'s. */
struct iopgt_plugin *iopgt_host_find_format(struct iopgt_host *host,
					    const char *format);

/* Records are reference counted: ref returns its argument, unref returns
 * NULL once the last reference went.  A reference keeps the record and
 * its texts, never the plugin's code (tables do that). */
struct iopgt_plugin *iopgt_plugin_ref(struct iopgt_plugin *plugin);
struct iopgt_plugin *iopgt_plugin_unref(struct iopgt_plugin *plugin);

/*
 * Fill ias, oas and pgsize_bitmap of cfg where cfg has 0, from the
 * registered format (name or alias), or else from the providing plugin's
 * file metadata (IOPGT_FORMAT_DEFINE_DEFAULTS), without loading it.
 * Returns: 0 or -ENOENT (no registered format and no file metadata gives
 * its defaults).
 */
int iopgt_host_get_format_defaults(struct iopgt_host *host, const char *format,
				   struct iopgt_cfg *cfg);
/*
 * Whether format (name or alias) can walk tables built elsewhere (the
 * foreign op, docs/inspect.md): from the registered format, or else from
 * the providing plugin's file metadata (IOPGT_FORMAT_DEFINE_DEFAULTS_
 * FOREIGN), without loading it.  Returns: 1 or 0, or -ENOENT when neither
 * a registered format nor file metadata says.
 */
int iopgt_host_format_has_foreign(struct iopgt_host *host, const char *format);

typedef void (*iopgt_plugin_fn)(struct iopgt_plugin *plugin, void *data);
/* Every known plugin: loaded ones in load order, then the rest by name.
 * fn runs with no host lock held (it may call any iopgt_* function); each
 * record is referenced while fn runs. */
void iopgt_host_foreach_plugin(struct iopgt_host *host, iopgt_plugin_fn fn,
			       void *data);

/* ---- plugin records ------------------------------------------------------ */

enum iopgt_plugin_state {
	IOPGT_PLUGIN_DISCOVERED,	/* found on disk, never opened */
	IOPGT_PLUGIN_LOADED,
	IOPGT_PLUGIN_FAILED,		/* see iopgt_plugin_get_error() */
	IOPGT_PLUGIN_BLACKLISTED,	/* by the manifest or by a probe */
	IOPGT_PLUGIN_GOING,		/* unloading: no new tables */
	IOPGT_PLUGIN_UNLOADED,
	IOPGT_PLUGIN_RESIDENT,		/* dlclosed but still mapped */
};
const char *iopgt_plugin_state_to_string(enum iopgt_plugin_state state);

const char *iopgt_plugin_get_name(const struct iopgt_plugin *plugin);
const char *iopgt_plugin_get_path(const struct iopgt_plugin *plugin);
const char *iopgt_plugin_get_version(const struct iopgt_plugin *plugin);
const char *iopgt_plugin_get_description(const struct iopgt_plugin *plugin);
const char *iopgt_plugin_get_license(const struct iopgt_plugin *plugin);
enum iopgt_plugin_state iopgt_plugin_get_state(const struct iopgt_plugin *plugin);
/* Why it failed, was blacklisted or stayed resident; NULL otherwise. */
const char *iopgt_plugin_get_error(const struct iopgt_plugin *plugin);
/* Live tables holding the plugin. */
int iopgt_plugin_get_refcount(const struct iopgt_plugin *plugin);
/* 0-based position in load order, -1 if never loaded. */
int iopgt_plugin_get_load_index(const struct iopgt_plugin *plugin);
bool iopgt_plugin_is_builtin(const struct iopgt_plugin *plugin);
/*
 * The names of the formats it registered (while loaded), NULL-terminated;
 * free with g_strfreev().
 */
char **iopgt_plugin_dup_formats(const struct iopgt_plugin *plugin);

/*
 * Metadata read from the plugin file without running it (the
 * IOPGT_PLUGIN_INFO section): key is "name", "version", "description",
 * "license" or "abi".  NULL if the file has no such entry (see
 * iopgt_plugin_get_info_error()).
 */
const char *iopgt_plugin_get_file_info(const struct iopgt_plugin *plugin,
				       const char *key);
/* Why the file has no metadata, or NULL. */
const char *iopgt_plugin_get_info_error(const struct iopgt_plugin *plugin);
/* Formats and aliases the file says it provides, and the softdeps it
 * declares ("pre: a post: b"); NULL-terminated, g_strfreev() them. */
char **iopgt_plugin_dup_provides(const struct iopgt_plugin *plugin);
char **iopgt_plugin_dup_softdeps(const struct iopgt_plugin *plugin);

/*
 * The tables holding the plugin, as "LABEL (FORMAT)" strings sorted by
 * creation, NULL-terminated; free with g_strfreev().
 */
char **iopgt_plugin_dup_holders(const struct iopgt_plugin *plugin);

/* ---- the load plan (what `iopgt-host plan` prints) ------------------------ */

enum iopgt_plan_action {
	IOPGT_PLAN_LOAD,
	IOPGT_PLAN_BLACKLISTED,
	IOPGT_PLAN_CYCLE,		/* on a softdep cycle: not loaded */
};

struct iopgt_plan_entry {
	const char *name;		/* canonical plugin name */
	enum iopgt_plan_action action;
	const char *reason;		/* NULL for LOAD */
};

struct iopgt_plan_edge {
	const char *before;
	const char *after;
	const char *reason;		/* "softdep B pre: A (FILE:LINE)" */
};

/*
 * What iopgt_host_load_all() would do with the discovered plugins and the
 * manifest, and why.  Every array is NULL-terminated (entries and edges by
 * a NULL name / before).  Owned by the plan: free it with
 * iopgt_plan_free().
 */
struct iopgt_plan {
	/* LOAD entries in load order, then BLACKLISTED and CYCLE by name */
	const struct iopgt_plan_entry *entries;
	size_t n_entries;
	const struct iopgt_plan_edge *edges;	/* sorted */
	size_t n_edges;
	const char *const *warnings;	/* missing softdep targets */
	/* manifest lines that were refused ("FILE:LINE: why"), then
	 * "softdep cycle: a -> b -> a" */
	const char *const *errors;
	/* "softdep NAME declared by FILE[.iopgt_info] is overridden by
	 * FILE:LINE" for each plugin whose own softdeps a manifest replaced */
	const char *const *overrides;
};
/* Returns: 0 with *out set, or a negative errno. */
int iopgt_host_get_plan(struct iopgt_host *host, struct iopgt_plan **out);
void iopgt_plan_free(struct iopgt_plan *plan);

/* ---- why a call failed ------------------------------------------------------ */

/*
 * The error and warning lines the host and the formats logged for this
 * thread's calls on host since the last iopgt_host_clear_last_error(),
 * joined with "; " (a line repeated verbatim is kept once), whatever the
 * log priority: an errno says what, this says why.  NULL if there were
 * none.  Valid until this thread's next iopgt_host_clear_last_error() on
 * host, or the next line logged for it.
 */
const char *iopgt_host_get_last_error(struct iopgt_host *host);
void iopgt_host_clear_last_error(struct iopgt_host *host);

/* ---- installed defaults --------------------------------------------------- */

/* The plugin directory and manifest of this installation (configured at
 * build time; the same values as iopgt-host.pc's plugindir and manifest). */
const char *iopgt_get_default_plugin_dir(void);
const char *iopgt_get_default_manifest(void);

/* ---- page tables ---------------------------------------------------------- */

/*
 * Every iopgt_pgtable_* call checks that the table was made by the host it
 * is given: a mismatch is a programmer error (a g_return_if_fail-style
 * critical, -EINVAL / 0 / nothing done).
 */

/*
 * Make a table of a format (name or Linux alias): alloc_io_pgtable_ops.
 * cfg is in/out as in Linux; its ias, oas and pgsize_bitmap, where 0, are
 * first filled from the format's defaults (after an on-demand load).  The table holds a reference on its plugin
 * (taken before the format's alloc runs) and on the host.
 * A format nobody registered is loaded on demand (iopgt_host_set_autoload).
 * Returns: 0 on success or a negative errno: -ENOENT (no plugin provides
 * the format), -EAGAIN (provided by a plugin that is not loaded, with
 * on-demand loading off or after an explicit unload), -ENOEXEC (provided
 * by a plugin that failed), -EPERM (blacklisted), -ESHUTDOWN (its plugin
 * is unloading), or what the format's alloc returned (-EINVAL bad cfg,
 * -ENOMEM).  The log line says which plugin and why.
 */
int iopgt_pgtable_new(struct iopgt_host *host, const char *format,
		      struct iopgt_cfg *cfg, void *cookie,
		      struct iopgt_pgtable **out);
/*
 * iopgt_pgtable_new() with the table's memory from p (NULL: the host's
 * choice, iopgt_host_set_mem_provider()).  All of the table's memory comes
 * from p; a format whose address limit p cannot meet fails with -ENOMEM.
 * Returns: as iopgt_pgtable_new(), -EINVAL if p is another host's.
 */
int iopgt_pgtable_new_in(struct iopgt_host *host, struct iopgt_mem_provider *p,
			 const char *format, struct iopgt_cfg *cfg,
			 void *cookie, struct iopgt_pgtable **out);
/*
 * free_io_pgtable_ops: tlb_flush_all once, the format's free, then the
 * plugin reference is dropped (after the plugin code has returned).
 */
void iopgt_pgtable_free(struct iopgt_host *host, struct iopgt_pgtable *pgt);

/*
 * The ops, as Linux's map/unmap callers use them (returns as in
 * pgtable.h).  They are on every map, unmap and lookup, so they are
 * inline here: the check that the table is host's and one indirect call,
 * as fast as calling the format's ops directly.  The library exports the
 * same functions (for callers that take their address, or build without
 * optimisation).
 */

/* What every table's host_priv begins with: the host that made it. */
struct iopgt_table_head {
	struct iopgt_host *host;
};

/* A call the inline wrappers refuse: warns, returns -EINVAL. */
int iopgt_pgtable_refuse_call(const char *fn);

#if defined(__GNUC__)
#define IOPGT_UNLIKELY(x)	__builtin_expect(!!(x), 0)
#else
#define IOPGT_UNLIKELY(x)	(x)
#endif

/* (a macro: an inline function with external linkage may not call a
 * static one) */
#define IOPGT_PGTABLE_IS_HOSTS(host, pgt)                                    \
	((pgt) && ((const struct iopgt_table_head *)(pgt)->host_priv)->host \
		  == (host))

inline int iopgt_pgtable_map_pages(struct iopgt_host *host,
				   struct iopgt_pgtable *pgt,
				   unsigned long iova, uint64_t paddr,
				   size_t pgsize, size_t pgcount, int prot,
				   size_t *mapped)
{
	if (IOPGT_UNLIKELY(!IOPGT_PGTABLE_IS_HOSTS(host, pgt) || !mapped))
		return iopgt_pgtable_refuse_call("iopgt_pgtable_map_pages");
	return pgt->ops.map_pages(&pgt->ops, iova, paddr, pgsize, pgcount,
				  prot, mapped);
}

inline size_t iopgt_pgtable_unmap_pages(struct iopgt_host *host,
					struct iopgt_pgtable *pgt,
					unsigned long iova, size_t pgsize,
					size_t pgcount,
					struct iopgt_iotlb_gather *gather)
{
	if (IOPGT_UNLIKELY(!IOPGT_PGTABLE_IS_HOSTS(host, pgt)))
		return iopgt_pgtable_refuse_call("iopgt_pgtable_unmap_pages"),
		       0;
	return pgt->ops.unmap_pages(&pgt->ops, iova, pgsize, pgcount, gather);
}

inline uint64_t iopgt_pgtable_iova_to_phys(struct iopgt_host *host,
					   struct iopgt_pgtable *pgt,
					   unsigned long iova)
{
	if (IOPGT_UNLIKELY(!IOPGT_PGTABLE_IS_HOSTS(host, pgt)))
		return iopgt_pgtable_refuse_call("iopgt_pgtable_iova_to_phys"),
		       0;
	return pgt->ops.iova_to_phys(&pgt->ops, iova);
}

/* Returns: 0, -EOPNOTSUPP if the format has no dirty tracking, or its errno */
int iopgt_pgtable_read_and_clear_dirty(struct iopgt_host *host,
				       struct iopgt_pgtable *pgt,
				       unsigned long iova, size_t size,
				       unsigned long flags,
				       struct iopgt_dirty_bitmap *dirty);

/*
 * iommu_map(): split [iova, iova + size) into the largest page sizes that
 * alignment and pgsize_bitmap allow, loop on partial progress.  On failure
 * what was mapped by this call is unmapped again.
 * Returns: 0 on success or a negative errno (-EINVAL for a size or
 * alignment no page size fits, -EOVERFLOW for iova + size wrapping).
 */
int iopgt_pgtable_map(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		      unsigned long iova, uint64_t paddr, size_t size,
		      int prot);
/*
 * iopgt_pgtable_map() with the page size fixed (pgsize must be one of the
 * table's; 0 picks as iopgt_pgtable_map() does), and an optional progress
 * callback called between the format's map_pages calls with the bytes
 * mapped so far.  The callback never changes how the range is split, so
 * the table is the same with or without it; on failure what this call
 * mapped is unmapped again.
 * Returns: as iopgt_pgtable_map(), and -EINVAL for a pgsize the table does
 * not have.
 */
typedef void (*iopgt_progress_fn)(void *data, size_t done, size_t total);
int iopgt_pgtable_map_full(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			   unsigned long iova, uint64_t paddr, size_t size,
			   int prot, size_t pgsize, iopgt_progress_fn progress,
			   void *progress_data);

/* iommu_unmap(): Returns: the bytes unmapped (stops at the first 0). */
size_t iopgt_pgtable_unmap(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			   unsigned long iova, size_t size,
			   struct iopgt_iotlb_gather *gather);

/* Walk every table and entry (see struct iopgt_walk_ops). */
int iopgt_pgtable_walk(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		       const struct iopgt_walk_ops *visit, void *data);
/* Emit the register outputs as (Linux name, value) pairs. */
void iopgt_pgtable_describe_regs(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt, iopgt_reg_fn fn,
				 void *data);
/* This table's memory figures. */
void iopgt_pgtable_get_mem_stats(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt,
				 struct iopgt_mem_stats *stats);
/* Name the table in messages (e.g. the CLI's id); copied. */
void iopgt_pgtable_set_label(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			     const char *label);
const char *iopgt_pgtable_get_label(struct iopgt_host *host,
				    struct iopgt_pgtable *pgt);
/* The plugin that made the table (borrowed). */
struct iopgt_plugin *iopgt_pgtable_get_plugin(struct iopgt_host *host,
					      struct iopgt_pgtable *pgt);

/* Number of live tables in the host. */
int iopgt_host_get_table_count(struct iopgt_host *host);

/* ---- images (docs/images.md) ---------------------------------------------- */

/*
 * Write an image of the table to fd: an ELF64 core file (ET_CORE,
 * EM_NONE) with one PT_LOAD per run of table memory adjacent in PA
 * (p_paddr = p_vaddr = the PA; only the bytes the walk reports as tables)
 * and an "IOPGT" note of type 0x494f5031 ("IOP1") whose text is key=value
 * lines: format, the cfg, root and every register describe_regs emits,
 * numbers in hex.
 * Written front to back (fd may be a pipe), retrying short writes and
 * EINTR.  Serialise it with map and unmap of the same table, as a walk.
 * Returns: 0 on success or a negative errno: -EINVAL (not host's table),
 * -EBADF (fd not open), -EOPNOTSUPP (the format cannot walk), -EPROTO
 * (the walk reported overlapping tables, or a register name that cannot
 * be a key: the log says which), or write()'s errno (-EIO if it wrote
 * nothing); the file is then incomplete.
 */
int iopgt_pgtable_save(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		       int fd);

/*
 * Make a live table of an image iopgt_pgtable_save() wrote, read from fd
 * (to its end; at most 256 MiB, 65536 program headers and a 64 KiB note).
 * The format named in the note is loaded on demand, as by
 * iopgt_pgtable_new(); its tables go back at their saved PAs in the
 * host's simulated memory, which must have them free; the format's adopt
 * op checks the structure and rebuilds its state.  The table has no TLB
 * callbacks (cfg.tlb NULL).  A refusal logs its reason, one line, and
 * leaves nothing allocated.
 * Returns: 0 on success or a negative errno: -EINVAL (not a table image,
 * or not a valid one: a loop, a table referenced twice, a pointer outside
 * the image, an entry beyond oas, a register that does not match),
 * -EBUSY (a saved PA is in use), -EOPNOTSUPP (the format cannot adopt, or
 * the host's memory is a provider's), -ENOENT (no such format), -EFBIG,
 * -EBADF, or read()'s errno.
 */
int iopgt_pgtable_adopt(struct iopgt_host *host, int fd, void *cookie,
			struct iopgt_pgtable **out);

/* ---- foreign tables (docs/inspect.md) ------------------------------------ */

/*
 * Tables built elsewhere, read where they lie: an ELF core file (a saved
 * image, QEMU dump-guest-memory, a kdump vmcore: its PT_LOAD p_paddr
 * runs) or raw memory files at a given PA, walked by the format's foreign
 * op (pgtable.h, struct iopgt_foreign_ops) with the registers the caller
 * gives or the image's note holds.  Nothing in the files is trusted: every
 * read is a bounds-checked pread, and the format's walk is bounded.
 * One object per set of sources; use it from one thread at a time.
 */
struct iopgt_inspect;

/*
 * A new, empty inspector: add sources and registers, then open.  It holds
 * a reference on host.  Returns: 0 on success or a negative errno.
 */
int iopgt_inspect_new(struct iopgt_host *host, struct iopgt_inspect **out);
/* Close the format's state, the files, and free.  NULL is a no-op. */
void iopgt_inspect_free(struct iopgt_inspect *insp);

/*
 * Add every PT_LOAD of an ELF core file (ELFCLASS64, or ELFCLASS32 as a
 * 32-bit guest's dump) as memory at its p_paddr (the bytes the file
 * holds: a PT_LOAD running past the end of a truncated file keeps the
 * part that is there, with a warning).  When it has an
 * IOPGT note (iopgt_pgtable_save), the note's format and keys fill what
 * the caller has not set.  Returns: 0 on success or a negative errno:
 * -EINVAL (not an ELF core in the host's byte order), -EEXIST (memory
 * overlapping a source already added), -EBUSY (already opened), or
 * open()'s errno.
 */
int iopgt_inspect_add_core(struct iopgt_inspect *insp, const char *path);
/*
 * Add a raw memory file: its byte 0 is at PA pa.  Returns: as
 * iopgt_inspect_add_core() (-EINVAL: an empty file, or one that would
 * run past 2^64).
 */
int iopgt_inspect_add_raw(struct iopgt_inspect *insp, const char *path,
			  uint64_t pa);
/*
 * Set a register (the names describe_regs emits, e.g. "ttbr",
 * "tcr.tsz") or cfg key ("ias", "oas", "quirks"); replaces a value from
 * a note.  Returns: 0 on success or a negative errno (-EBUSY once open).
 */
int iopgt_inspect_set_reg(struct iopgt_inspect *insp, const char *name,
			  uint64_t value);
/* A register's value.  Returns: 0, or -ENOENT when none is set. */
int iopgt_inspect_get_reg(const struct iopgt_inspect *insp, const char *name,
			  uint64_t *value);
/*
 * Load the format (on demand, as iopgt_pgtable_new) and open its foreign
 * walk over the sources.  format NULL: the one a core's note names.
 * Returns: 0 on success or a negative errno: -ENOENT (no such format, or
 * none given and no note), -EOPNOTSUPP (its plugin has no foreign op),
 * -EINVAL (the registers describe nothing the format has: the log says
 * why), -EBUSY (already open).
 */
int iopgt_inspect_open(struct iopgt_inspect *insp, const char *format);
/* The format's name once open, else the note's, else NULL. */
const char *iopgt_inspect_get_format(const struct iopgt_inspect *insp);
/*
 * Copy size bytes at pa from the sources.  Returns: 0 on success or a
 * negative errno: -EFAULT (some byte is in no source), or pread's errno.
 */
int iopgt_inspect_read(struct iopgt_inspect *insp, uint64_t pa, size_t size,
		       void *buf);
/*
 * Translate iova for access (IOPGT_ACCESS_*) as the hardware would:
 * *out holds the mapping or the fault (pgtable.h, struct iopgt_xlate).
 * Returns: 0 on success or a negative errno (-EINVAL: not open, or a bad
 * access).
 */
int iopgt_inspect_translate(struct iopgt_inspect *insp, uint64_t iova,
			    unsigned int access, struct iopgt_xlate *out);
/*
 * Visit every table and valid entry in memory (iopgt_walk_ops; table()'s
 * va is a copy, valid during the call).  Returns: 0, the visitor's stop,
 * or a negative errno (-E2BIG at the format's cap on tables).
 */
int iopgt_inspect_walk(struct iopgt_inspect *insp,
		       const struct iopgt_walk_ops *visit, void *data);
/*
 * Report structural problems to fn (may be NULL).  Returns: the number of
 * problems found (0: none), or a negative errno.
 */
int iopgt_inspect_check(struct iopgt_inspect *insp, iopgt_problem_fn fn,
			void *data);
/* Names for the CLI and logs: "translation", "loop"... (docs/inspect.md) */
const char *iopgt_fault_name(enum iopgt_fault fault);
const char *iopgt_problem_name(enum iopgt_problem problem);

/* ---- memory sources and nested walks (docs/inspect.md) ------------------ */

/*
 * A source of the caller's: a read of [pa, pa + size) calls read(ctx, pa,
 * n, buf) with a part inside it (a read spanning sources is split at
 * their edges, as for files).  It returns 0 or a negative errno, which
 * the read returns (-EFAULT: reads as missing memory).
 */
typedef int (*iopgt_inspect_read_fn)(void *ctx, uint64_t pa, size_t size,
				     void *buf);
/*
 * Add size bytes at pa read through read(ctx, ...); size 0 means up to
 * 2^64 (pa to the top of the address space).  ctx must outlive insp.
 * Returns: 0 on success or a negative errno: -EEXIST (overlapping a
 * source already added), -EBUSY (already open), -EINVAL (runs past 2^64).
 */
int iopgt_inspect_add_source(struct iopgt_inspect *insp, uint64_t pa,
			     uint64_t size, iopgt_inspect_read_fn read,
			     void *ctx);
/*
 * Add the host's own simulated memory (where iopgt_pgtable_new() puts
 * tables without a memory provider) at its PAs, read-only: inspect a
 * live table without saving it.  Its whole extent reads, and memory no
 * table holds reads as the host keeps it (zeros, or a freed block's old
 * bytes); a live table being changed meanwhile gives torn reads, so
 * serialise with map and unmap as for a walk.  Tables in a provider's
 * memory are not covered: add them with iopgt_inspect_add_source().
 * Returns: 0 on success or a negative errno: -EEXIST, -EBUSY (as above),
 * or -ENOMEM (the host could not make its memory).
 */
int iopgt_inspect_add_host_memory(struct iopgt_inspect *insp);
/*
 * Nest s1 over s2: s1's table and output addresses become IPAs that s2
 * (an opened inspector of a stage-2 format over the physical memory)
 * translates.  Each stage-1 fetch is a stage-2 translation for an
 * unprivileged read (an SMMU's nested table walk is a data read of the
 * walker, checked against stage 2's permissions), split at the stage-2
 * leaf's end, then a read of s2's sources.  s1 must not be open yet and
 * must have no sources of its own (none may be added after: -EEXIST); on
 * success it owns s2 (freed with s1), on failure s2 stays the caller's.
 * Then open s1 as usual.  iopgt_inspect_read/translate/walk/check on s1
 * work in IPAs, through s2: translate gives stage 1's result (oa an IPA),
 * a descriptor stage 2 cannot give is a walk abort, and for check a table
 * that cannot be read is a READ problem naming its IPA.
 * Bound: a stage-1 read of n bytes costs at most ceil(n / g) + 1 stage-2
 * translations, ceil(n / g) when aligned to n as the formats' reads are
 * (g: stage 2's smallest leaf, its granule): one per descriptor fetch of
 * a translate, one per granule of each table a walk or check reads (so
 * at most T * ceil(t / g) for a format capped at T tables of t bytes:
 * 2^20 for LPAE 4K tables over a 4K stage 2).  A nested translate costs
 * at most (stage-1 levels + 1) stage-2 translations, each bounded by
 * stage 2's own levels.
 * Returns: 0 on success or a negative errno: -EBUSY (s1 already open),
 * -EEXIST (s1 has sources, or a stage 2 already), -EINVAL (s2 not open,
 * or nested itself).
 */
int iopgt_inspect_set_stage2(struct iopgt_inspect *s1,
			     struct iopgt_inspect *s2);
/* The result of a nested translation (iopgt_inspect_translate_nested). */
struct iopgt_nested_xlate {
	int stage;		/* 0: translated; 1 or 2: the stage that
				 * faulted */
	bool s1_walk;		/* stage 2 faulted (or aborted) fetching a
				 * stage-1 descriptor */
	int s1_level;		/* the stage-1 level being fetched when
				 * s1_walk */
	uint64_t ipa;		/* the IPA stage 2 translated last (a table's
				 * or the output's) */
	struct iopgt_xlate s1;	/* stage 1's result: oa is an IPA */
	struct iopgt_xlate s2;	/* stage 2's result for ipa */
	uint64_t pa;		/* the output PA when stage == 0 */
};
/*
 * Translate iova through both stages for access (as
 * iopgt_inspect_translate; stage-1 descriptor fetches as
 * iopgt_inspect_set_stage2 says, the output IPA for the caller's access).
 * stage 2 with s1_walk: stage 2 faulted on the IPA of a stage-1
 * descriptor (ipa; s1_level and s1.desc_pa say which, s2 how).  stage 2
 * without: on the output IPA.  stage 1: stage 1's own fault; ipa and s2
 * are its last descriptor fetch's (ipa 0 and s2.desc_pa UINT64_MAX when
 * none), so a walk abort whose s2 translated says the PA s2.oa is in no
 * source (an external abort on stage 1's walk, as the SMMU reports it).
 * Returns: 0 with *out, or -EINVAL (s1 has no stage 2, is not open, or a
 * bad access).
 */
int iopgt_inspect_translate_nested(struct iopgt_inspect *s1, uint64_t iova,
				   unsigned int access,
				   struct iopgt_nested_xlate *out);

#ifdef __cplusplus
}
#endif

#endif /* IOPGT_HOST_H */
