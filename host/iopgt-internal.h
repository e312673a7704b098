/* SPDX-License-Identifier: MIT */
/*
 * Private structures and helpers of libiopgt-host.  Nothing here is
 * exported (see libiopgt-host.sym); the tests link the static build.
 */
#ifndef IOPGT_INTERNAL_H
#define IOPGT_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/stat.h>

#include <glib.h>

#include <iopgt/host-glib.h>

#define _must_check_ __attribute__((warn_unused_result))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* ---- logging and the last error (log.c) ----------------------------------- */

struct iopgt_log_sink {
	iopgt_log_fn fn;
	void *data;
	struct iopgt_log_sink *next;	/* on the host's old_sinks list */
};

void iopgt_log_init(struct iopgt_host *host);
void iopgt_log_fini(struct iopgt_host *host);
void iopgt_log(struct iopgt_host *host, int priority, const char *file,
	       int line, const char *fn, const char *format, ...) _printf_(6, 7);
/* Errors and warnings are always wanted: they become the last error. */
bool iopgt_log_wanted(const struct iopgt_host *host, int priority);
/* The calling thread holds / let go of host->lock: lines logged in
 * between reach the sink after the unlock (host.c's lock functions). */
void iopgt_log_hold(const struct iopgt_host *host);
void iopgt_log_release(struct iopgt_host *host);
/* host-services.h's log entry for formats */
void iopgt_svc_log(void *log_ctx, int prio, const char *file, int line,
		   const char *fn, const char *format, ...) _printf_(6, 7);

#define iopgt_log_cond(host, prio, ...)                                      \
	do {                                                                 \
		if (iopgt_log_wanted(host, prio))                            \
			iopgt_log(host, prio, __FILE__, __LINE__, __func__,  \
				  __VA_ARGS__);                              \
	} while (0)

#define DBG(host, ...)	iopgt_log_cond(host, IOPGT_LOG_DEBUG, __VA_ARGS__)
#define INFO(host, ...)	iopgt_log_cond(host, IOPGT_LOG_INFO, __VA_ARGS__)
#define WARN(host, ...)	iopgt_log_cond(host, IOPGT_LOG_WARNING, __VA_ARGS__)
#define ERR(host, ...)	iopgt_log_cond(host, IOPGT_LOG_ERR, __VA_ARGS__)

/* ---- names ---------------------------------------------------------------- */

/*
 * A plugin or manifest name: [A-Za-z0-9_.-]+, no leading '.', no "..",
 * at most IOPGT_NAME_MAX bytes.  Never a path.
 */
bool iopgt_name_is_valid(const char *name);
/* A format name or alias (pgtable.h's rule): 1 to IOPGT_NAME_MAX of
 * [A-Za-z0-9_-].  The registry and the file metadata reader both apply it. */
bool iopgt_format_name_is_valid(const char *name);
/* The comparable form: '_' folded to '-' (kmod's underscores()). */
char *iopgt_name_canonical(const char *name);

#include "physmem.h"
#include "manifest.h"
#include "cache.h"

/* ---- memory providers (provider.c) ----------------------------------------- */

/*
 * Memory other than the host's simulated memory (host.h's "memory"
 * section).  A region is a physmem over the caller's memory; a custom
 * provider calls the caller's ops.  mem.c reaches either through the two
 * function pointers (provider.c sits below host.c, whose stats read
 * mem.c).  Each outstanding block holds a reference, and a table keeps
 * its root block from alloc to free, so a table's blocks keep its
 * provider.  The regions of a host are on host->regions (under
 * host->lock) so that a new one can be checked for overlap.
 */
struct iopgt_mem_provider {
	_Atomic int refcount;
	struct iopgt_host *host;	/* a reference */
	/* a zeroed block with a reference on the provider for it, or NULL
	 * (then logged when the address limit was the reason) */
	void *(*alloc)(struct iopgt_mem_provider *p, size_t size,
		       unsigned int flags);
	/* give a block back and drop its reference */
	void (*release)(struct iopgt_mem_provider *p, void *va, size_t size);
	struct iopgt_physmem *pm;	/* region; NULL: custom */
	const struct iopgt_mem_provider_ops *ops;
	void *data;
	uint64_t pa_to_va;		/* va = pa + pa_to_va */
	uint64_t pa, size;		/* a region's range */
	struct iopgt_mem_provider *next_region;
	_Atomic int64_t bytes;
	_Atomic int64_t blocks;
	_Atomic int64_t refused;
};

/* A reference on p unless it is already going.  Lock held (the host's
 * lock keeps a going provider valid until it is off the host). */
bool iopgt_provider_tryref(struct iopgt_mem_provider *p);

/* ---- per-table memory accounts and the services table (mem.c) ------------ */

struct iopgt_mem {
	struct iopgt_host *host;
	/* where the blocks come from: prov if set, else the simulated pm */
	struct iopgt_physmem *pm;
	struct iopgt_mem_provider *prov;
	uint64_t pa_to_va;
	iopgt_dma_sync_fn sync_fn;	/* the host's hook when made */
	void *sync_data;
	/* atomics: several threads may map into one table */
	_Atomic int64_t table_bytes;
	_Atomic int64_t table_allocs;
	_Atomic int64_t peak_table_bytes;
	_Atomic int64_t state_bytes;
	_Atomic int64_t syncs;
};

extern const struct iopgt_host_services iopgt_host_services;

/* A table's account, drawing from prov or else from the simulated pm,
 * with the host's DMA-sync hook of the moment.  Lock held. */
void iopgt_mem_init(struct iopgt_mem *mem, struct iopgt_host *host,
		    struct iopgt_physmem *pm, struct iopgt_mem_provider *prov);
void iopgt_mem_get_stats(const struct iopgt_mem *mem,
			 struct iopgt_mem_stats *stats);
/* Warn that a request with an address limit found no memory below it. */
void iopgt_mem_warn_limit(struct iopgt_host *host, unsigned int flags,
			  size_t size);

/* ---- descriptors (fdlimit.c) ---------------------------------------------- */

/* EMFILE: raise the soft RLIMIT_NOFILE towards the hard one; true if it
 * was raised (try again). */
bool iopgt_fd_raise_limit(void);
/* Words for an EMFILE that raising could not cure (g_free it). */
char *iopgt_fd_limit_text(void);

/* ---- file trust (trust.c) ------------------------------------------------ */

/*
 * Open a plugin file for mapping: O_NOFOLLOW, a symlink only if it stays
 * inside the file's directory, a regular file, and (unless allow_insecure)
 * neither the file nor its directory writable by group/others or owned by
 * someone other than root and the caller.  *st is fstat() of the returned
 * descriptor, which is what the loader maps.
 * Returns: 0 with *fd set, or a negative errno (-ENOEXEC: not a regular
 * file or dangling symlink, -EACCES: refused, or open()'s) with *why set.
 */
int iopgt_trust_open(const char *path, bool allow_insecure, int *fd,
		     struct stat *st, char **why);

/* ---- crash isolation (probe.c) ---------------------------------------------- */

/*
 * Run a plugin file (descriptor fd, already trust-checked) in a forked
 * child and judge it into e (probed, bad, reason, seen metadata).  Takes
 * no lock and may block up to timeout_ms: call it without the host lock.
 */
void iopgt_probe_file(const char *path, int fd, unsigned int timeout_ms,
		      struct iopgt_cache_entry *e);

/* ---- host context (host.c) ----------------------------------------------- */

struct iopgt_format_entry {
	const struct iopgt_format *fmt;
	struct iopgt_plugin *plugin;
};

struct iopgt_host {
	_Atomic int refcount;
	uint64_t serial;		/* never reused: keys the last error */
	/*
	 * Guards the plugin records, the format table, the manifest and the
	 * settings below.  Held only for short bookkeeping: never across
	 * plugin code, fork/poll/waitpid, file I/O or user callbacks (each
	 * function that takes it is short enough to read that off).  Not
	 * recursive.  A pthread mutex so that TSan sees it.
	 */
	pthread_mutex_t lock;
	/* broadcast when a load finishes or a table goes (lock held) */
	pthread_cond_t changed;
	_Atomic(struct iopgt_log_sink *) sink;
	/* replaced sinks, freed at destroy (a list pushed lock-free) */
	_Atomic(struct iopgt_log_sink *) old_sinks;
	_Atomic int log_priority;
	void *userdata;

	GPtrArray *plugin_dirs;		/* char *, in search order */
	GArray *plugin_dir_flags;	/* unsigned int IOPGT_DIR_*, parallel */
	struct iopgt_manifest *manifest;
	GPtrArray *plugins;		/* struct iopgt_plugin * (a reference
					 * each), by creation */
	GHashTable *plugins_by_name;	/* canonical name -> current record */
	GHashTable *formats;		/* name and alias -> format_entry */
	int next_load_index;

	bool allow_insecure;
	bool probe;
	bool autoload;
	unsigned int probe_timeout_ms;
	struct iopgt_probe_stats probe_stats;
	/* the probe and metadata cache has a lock of its own: loads of
	 * different plugins use it without the host lock */
	pthread_mutex_t cache_lock;
	struct iopgt_cache *cache;
	bool cache_dirty;		/* under cache_lock */

	struct iopgt_physmem *pm;
	uint64_t mem_size;
	uint64_t mem_limit;
	/* provider.c, under lock: the default provider (borrowed: it holds
	 * the host and clears this when it goes), the region list, the
	 * DMA-sync hook tables copy when made */
	struct iopgt_mem_provider *mem_provider;
	struct iopgt_mem_provider *regions;
	iopgt_dma_sync_fn dma_sync_fn;
	void *dma_sync_data;
	_Atomic int tables;
	_Atomic uint64_t table_serial;
	/* counters of tables already freed, for host-wide stats */
	_Atomic int64_t retired_syncs;
};

/* ---- the host lock (lock.c) ------------------------------------------------ */

void iopgt_host_cond_init(pthread_cond_t *cond);
void iopgt_host_lock(struct iopgt_host *host);
void iopgt_host_unlock(struct iopgt_host *host);
/* Wait on host->changed; lock held. */
void iopgt_host_wait(struct iopgt_host *host);
/* Wait until the monotonic time deadline_us; false when it passed. */
bool iopgt_host_wait_until(struct iopgt_host *host, gint64 deadline_us);
void iopgt_host_broadcast(struct iopgt_host *host);

/* Fill cfg's zero ias, oas and pgsize_bitmap from the format's defaults. */
void iopgt_format_fill_defaults(const struct iopgt_format *fmt,
				struct iopgt_cfg *cfg);

/* Creates the simulated memory on first use.  Lock held. */
int iopgt_host_get_physmem(struct iopgt_host *host,
			   struct iopgt_physmem **out);

/* ---- plugin records (plugin.c) ------------------------------------------- */

struct iopgt_table_priv;

struct iopgt_plugin {
	_Atomic int refcount;
	struct iopgt_host *host;	/* not a reference: see host.h */
	char *name;			/* canonical */
	char *path;			/* NULL for built-ins */
	/* What getters hand out: a replaced error text or meta goes to
	 * old_texts / old_meta and lives as long as the record (a record
	 * lives while referenced). */
	char *error;
	GPtrArray *old_texts;
	/* what the loaded descriptor (or a probe) says: texts, provides */
	struct iopgt_plugin_info *meta;
	GPtrArray *old_meta;
	/* the rest is under host->lock */
	enum iopgt_plugin_state state;
	/* a thread is loading this record: others wait on host->changed */
	bool loading;
	/* probed by a load_all batch just now: its load reuses the verdict
	 * without counting a cache hit */
	bool probed_now;
	int load_index;
	bool builtin;
	bool trusted;			/* from an IOPGT_DIR_TRUSTED dir */
	/* metadata read from the (trusted) file without running it */
	struct iopgt_plugin_info *info;
	char *info_error;
	/* the file this record's code was mapped from */
	struct iopgt_file_id file_id;
	/* replaced by a reload: closed when its last table goes */
	bool retired;
	/* unload deferred until the last table goes, cancelled after this
	 * monotonic time (0: never) */
	bool unload_deferred;
	gint64 unload_deadline;
	const struct iopgt_plugin_desc *builtin_desc;
	void *handle;			/* loader handle while loaded */
	const struct iopgt_plugin_desc *desc;
	GPtrArray *formats;		/* const struct iopgt_format *, while
					 * loaded */
	int users;			/* live tables */
	GHashTable *holders;		/* struct iopgt_table_priv * set */
};

/* A new DISCOVERED record, held by host->plugins (that is its one
 * reference), which its name now means.  Lock held. */
struct iopgt_plugin *iopgt_plugin_new(struct iopgt_host *host,
				      const char *name, const char *path);
/* iopgt_plugin_unref() as a GDestroyNotify */
void iopgt_plugin_unref_cb(gpointer plugin);
/* The record a name means now, or NULL.  Lock held. */
struct iopgt_plugin *iopgt_plugin_lookup(struct iopgt_host *host,
					 const char *name);
/* Let the name mean p again / drop p from the host's list (its reference
 * goes; the record is freed when nobody else holds one).  Lock held. */
void iopgt_plugin_make_current(struct iopgt_plugin *p);
void iopgt_plugin_forget(struct iopgt_plugin *p);
/* Replace a text field getters return: takes value.  Lock held. */
void iopgt_plugin_set_text(struct iopgt_plugin *plugin, char **field,
			   char *value);
/* Replace what the record's code says about itself: takes meta. */
void iopgt_plugin_set_meta(struct iopgt_plugin *plugin,
			   struct iopgt_plugin_info *meta);
void iopgt_plugin_set_failed(struct iopgt_plugin *plugin, const char *fmt,
			     ...) _printf_(2, 3);
void iopgt_plugin_set_blacklisted(struct iopgt_plugin *plugin, char *why);
const char *iopgt_plugin_where(const struct iopgt_plugin *plugin);
/* A deferred unload past its deadline with tables alive is cancelled
 * (back to LOADED) by whoever looks first.  Lock held. */
void iopgt_plugin_sync_deadline(struct iopgt_plugin *plugin);
void iopgt_plugin_cancel_deferred(struct iopgt_plugin *plugin,
				  const char *why);
/* "LABEL (FORMAT)" of the tables holding it, by creation.  Lock held. */
char **iopgt_plugin_holders_strv(const struct iopgt_plugin *plugin);

/* ---- descriptor checks (plugin-desc.c) ------------------------------------ */

/*
 * Check a descriptor field by field before any plugin code runs.  expect
 * is the name the file name gives, or NULL for built-ins.  On failure,
 * *reason names the field.  Returns: 0 or -EPROTO.
 */
int iopgt_desc_check(const struct iopgt_plugin_desc *desc, const char *expect,
		     char **reason);
/* The descriptor's functions must be code of the object (loader.c).
 * Returns: 0 or -EPROTO with *why set. */
int iopgt_desc_check_code(void *handle, const struct iopgt_plugin_desc *desc,
			  char **why);
/* Printable ASCII, 1..max bytes; NULL or what is wrong. */
const char *iopgt_text_problem(const char *s, size_t max);

/* ---- the format table (registry.c) ----------------------------------------- */

struct iopgt_format_entry *iopgt_registry_lookup(struct iopgt_host *host,
						 const char *format);
/* Run p's register_fn (no lock held): each format it registers is put in
 * the table at once, refused with -EEXIST if the name is taken; a failed
 * register_fn is rolled back whole.  Returns: 0 or a negative errno with
 * *why set. */
int iopgt_registry_activate(struct iopgt_plugin *p,
			    const struct iopgt_plugin_desc *desc, char **why);
/* Drop p's formats from the table / put saved ones back.  Lock held. */
void iopgt_registry_drop_plugin(struct iopgt_host *host,
				struct iopgt_plugin *plugin);
void iopgt_registry_restore(struct iopgt_plugin *plugin, GPtrArray *formats);
/* The current records whose metadata says they provide format, in
 * creation order.  Lock held. */
GPtrArray *iopgt_registry_providers(struct iopgt_host *host,
				    const char *format);
/* Log why p cannot give format now and return the errno for it. */
int iopgt_registry_not_available(struct iopgt_host *host, const char *format,
				 struct iopgt_plugin *p);

/* ---- discovery (discover.c) ----------------------------------------------- */

/* Read p's file metadata (trust-checked, through the cache) and declare
 * its softdeps to the manifest.  No lock held. */
void iopgt_discover_read_info(struct iopgt_plugin *p);
/* Declare p's own softdeps (its file metadata) to the manifest, replacing
 * what it declared before.  Lock held. */
void iopgt_discover_declare(struct iopgt_plugin *p);
/* Write the cache file if a scan or load changed it.  No lock held. */
void iopgt_discover_flush_cache(struct iopgt_host *host);

/* ---- loading (load.c) ------------------------------------------------------ */

/* Load p (not its softdeps): prepare unlocked, commit locked; a second
 * loader of the same record waits for the first.  No lock held.  The
 * cache is not written: callers flush once per batch. */
int iopgt_load_one(struct iopgt_plugin *p);
/* Load a plugin with its softdeps.  No lock held. */
int iopgt_load_by_name(struct iopgt_host *host, const char *name);

/* ---- on-demand loading (ondemand.c) ---------------------------------------- */

/*
 * The registered format with a use of its plugin taken (users, holders
 * get t), loading the plugin whose metadata says it provides it if
 * on-demand loading is on.  No lock held.
 * Returns: 0, -ENOENT (nobody provides it), -EAGAIN (its plugin is not
 * loaded), -ENOEXEC (its plugin failed), -EPERM (blacklisted), -EALREADY
 * (resident), -ESHUTDOWN (unloading), with one log line saying which.
 */
int iopgt_ondemand_attach(struct iopgt_host *host, const char *format,
			  struct iopgt_table_priv *t);

/* ---- unload, deferred unload, reload (unload.c) ---------------------------- */

/* dlclose a record without users.  Lock held on entry and exit; dropped
 * around unregister_fn and dlclose (the record is GOING meanwhile). */
int iopgt_unload_close(struct iopgt_plugin *plugin);
/* A table of p went: finish a deferred unload or a retirement.  Lock held
 * (dropped while the record closes). */
void iopgt_unload_table_gone(struct iopgt_plugin *plugin);

/* ---- the dynamic loader (loader.c, the only <dlfcn.h> user) ------------- */

/* dlopen(RTLD_NOW | RTLD_LOCAL) of a checked descriptor: maps that very
 * file (/proc/self/fd)
 * and keeps a duplicate of fd reserved while the object may be mapped;
 * the caller still closes its fd.  fd < 0: open path. */
int iopgt_loader_open_fd(int fd, const char *path, void **handle,
			 char **error);
/* Whether fn lies in an executable segment of the object.
 * Returns: 0, -EPROTO (in a data segment) or -ENOENT (not in the object). */
int iopgt_loader_check_code(void *handle, const void *fn);
/* Serialises our dlopen/dlclose with the probe's fork(). */
void iopgt_loader_lock(void);
void iopgt_loader_unlock(void);
/* For the probe child only: plain dlopen/dlclose, no locks, no records. */
int iopgt_loader_probe_open(int fd, const char *path, void **handle,
			    char **error);
void iopgt_loader_probe_close(void *handle);
/* Resolve IOPGT_PLUGIN_SYMBOL and check it is a data object.
 * Returns: 0, -ENOENT (no symbol) or -EPROTO (wrong kind), *error set. */
int iopgt_loader_find_desc(void *handle, const char *path,
			   const struct iopgt_plugin_desc **desc,
			   char **error);
/* dlclose, then check with RTLD_NOLOAD whether path stayed mapped.
 * Returns: 0 when unmapped, 1 when still resident, -errno on failure. */
int iopgt_loader_close(void *handle, const char *path, char **error);

/* ---- page tables (pgtable.c) ---------------------------------------------- */

struct iopgt_table_priv {
	struct iopgt_table_head head;	/* first: host.h reads it */
	struct iopgt_pgtable *pgt;
	struct iopgt_plugin *plugin;
	const struct iopgt_format *fmt;
	struct iopgt_mem mem;
	struct iopgt_env env;
	uint64_t serial;
	/* Labels getters handed out live until the table goes. */
	char *label;
	GPtrArray *old_labels;
};

#endif /* IOPGT_INTERNAL_H */
