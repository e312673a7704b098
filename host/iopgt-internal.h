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
#include <sys/stat.h>

#include <glib.h>

#include <iopgt/host-glib.h>

#define _must_check_ __attribute__((warn_unused_result))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* ---- logging (host.c) ---------------------------------------------------- */

void iopgt_log(struct iopgt_host *host, int priority, const char *file,
	       int line, const char *fn, const char *format, ...) _printf_(6, 7);

#define iopgt_log_cond(host, prio, ...)                                      \
	do {                                                                 \
		if (iopgt_host_get_log_priority(host) >= (prio))             \
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
/* The comparable form: '_' folded to '-' (kmod's underscores()). */
char *iopgt_name_canonical(const char *name);

#include "physmem.h"
#include "manifest.h"
#include "cache.h"

/* ---- per-table memory accounts and the services table (mem.c) ------------ */

struct iopgt_mem {
	struct iopgt_host *host;
	struct iopgt_physmem *pm;
	/* atomics: several threads may map into one table */
	_Atomic int64_t table_bytes;
	_Atomic int64_t table_allocs;
	_Atomic int64_t peak_table_bytes;
	_Atomic int64_t state_bytes;
	_Atomic int64_t syncs;
};

extern const struct iopgt_host_services iopgt_host_services;

void iopgt_mem_init(struct iopgt_mem *mem, struct iopgt_host *host,
		    struct iopgt_physmem *pm);
void iopgt_mem_get_stats(const struct iopgt_mem *mem,
			 struct iopgt_mem_stats *stats);

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

struct iopgt_plugin;
/*
 * Probe p's file (descriptor fd, fstat st) in a child unless the cache has
 * a verdict for this very file; records metadata in p.  Host lock held.
 * Returns: 0 if the in-process load may go ahead, -EPERM with p
 * BLACKLISTED if the probe crashed, exited or timed out.
 */
int iopgt_probe_plugin(struct iopgt_host *host, struct iopgt_plugin *p,
		       int fd, const struct stat *st);

/* ---- host context (host.c) ----------------------------------------------- */

struct iopgt_format_entry {
	const struct iopgt_format *fmt;
	struct iopgt_plugin *plugin;
};

struct iopgt_host {
	_Atomic int refcount;
	/* Recursive: register_fn runs under it and calls back in. */
	GRecMutex lock;
	iopgt_log_fn log_fn;
	void *log_data;
	_Atomic int log_priority;
	void *userdata;

	GPtrArray *plugin_dirs;		/* char *, in search order */
	GArray *plugin_dir_flags;	/* unsigned int IOPGT_DIR_*, parallel */
	struct iopgt_manifest *manifest;
	GPtrArray *plugins;		/* struct iopgt_plugin *, by creation */
	GHashTable *plugins_by_name;	/* canonical name -> plugin */
	GHashTable *formats;		/* name and alias -> format_entry */
	int next_load_index;

	bool allow_insecure;
	bool probe;
	bool autoload;
	unsigned int probe_timeout_ms;
	struct iopgt_cache *cache;
	struct iopgt_probe_stats probe_stats;

	struct iopgt_physmem *pm;
	uint64_t mem_size;
	uint64_t mem_limit;
	_Atomic int tables;
	_Atomic uint64_t table_serial;
	/* counters of tables already freed, for host-wide stats */
	_Atomic int64_t retired_syncs;
};

/* Creates the simulated memory on first use.  Called with the lock held. */
int iopgt_host_get_physmem(struct iopgt_host *host,
			   struct iopgt_physmem **out);

/* ---- plugin records and the format registry (registry.c) ---------------- */

struct iopgt_table_priv;

struct iopgt_plugin {
	struct iopgt_host *host;
	char *name;			/* canonical */
	char *path;			/* NULL for built-ins */
	char *version;			/* copied: they outlive dlclose */
	char *description;
	char *license;
	enum iopgt_plugin_state state;
	char *error;
	int load_index;
	bool builtin;
	bool trusted;			/* from an IOPGT_DIR_TRUSTED dir */
	/* formats and aliases a probe saw it register, or NULL */
	char **provides;
	/* metadata read from the file without running it, or NULL */
	struct iopgt_plugin_info *info;
	char *info_error;
	/* texts replaced while getters may still hold them */
	GPtrArray *old_texts;
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
	int users;			/* live tables; under host->lock */
	GHashTable *holders;		/* struct iopgt_table_priv * set */
};

/* Record for a file found by a scan (state DISCOVERED), or the existing one
 * of that name.  Lock held. */
struct iopgt_plugin *iopgt_plugin_new_discovered(struct iopgt_host *host,
						 const char *name,
						 const char *path);
void iopgt_plugin_destroy(struct iopgt_plugin *plugin);
/* A record for a new version of old's file, taking over its name (reload);
 * forget_replacement undoes that when the new version fails. */
struct iopgt_plugin *iopgt_plugin_new_replacement(struct iopgt_plugin *old);
void iopgt_plugin_forget_replacement(struct iopgt_plugin *plugin,
				     struct iopgt_plugin *old);
/* Run descriptor checks and register_fn; lock held. */
int iopgt_plugin_activate(struct iopgt_plugin *plugin,
			  const struct iopgt_plugin_desc *desc);
/* Replace a text field getters return (version, error...): takes value;
 * the old text is kept until the record is destroyed.  Lock held. */
void iopgt_plugin_set_text(struct iopgt_plugin *plugin, char **field,
			   char *value);
void iopgt_plugin_set_failed(struct iopgt_plugin *plugin, const char *fmt,
			     ...) _printf_(2, 3);
/*
 * Check a descriptor field by field before any plugin code runs.  expect
 * is the name the file name gives, or NULL for built-ins.  On failure,
 * *reason names the field.  Returns: 0 or -EPROTO.
 */
int iopgt_desc_check(const struct iopgt_plugin_desc *desc, const char *expect,
		     char **reason);
/* Lock held: load_one opens, checks and registers one record;
 * load_by_name does that with its softdeps; close unregisters and
 * dlcloses a record without users. */
int iopgt_plugin_load_one(struct iopgt_plugin *plugin);
int iopgt_registry_load_by_name(struct iopgt_host *host, const char *name);
int iopgt_plugin_close(struct iopgt_plugin *plugin);

/* ---- metadata and on-demand loading (ondemand.c) -------------------------- */

/* Read the file's metadata (through the cache) into the record and merge
 * the softdeps it declares into the manifest.  Lock held. */
void iopgt_plugin_read_info(struct iopgt_plugin *plugin, bool *dirty);
/*
 * The registered format, loading the plugin whose metadata says it
 * provides it if on-demand loading is on.  Lock held.
 * Returns: 0, -ENOENT (nobody provides it), -EAGAIN (its plugin is not
 * loaded), -ENOEXEC (its plugin failed), -EPERM (blacklisted), -EALREADY
 * (resident), -ESHUTDOWN (unloading), with one log line saying which.
 */
int iopgt_registry_find_format(struct iopgt_host *host, const char *format,
			       struct iopgt_format_entry **out);

/* ---- deferred unload and hot reload (reload.c) ------------------------------ */

/* A table of p went: finish a deferred unload or a retirement.  Lock held. */
void iopgt_plugin_table_gone(struct iopgt_plugin *plugin);
/* A deferred unload past its deadline goes back to LOADED.  Lock held. */
void iopgt_plugin_check_deadline(struct iopgt_plugin *plugin);

/* Add key -> (fmt, plugin) to the registry, no checks.  Lock held. */
void iopgt_registry_insert(struct iopgt_host *host, const char *key,
			   const struct iopgt_format *fmt,
			   struct iopgt_plugin *plugin);

/* Lookup with the lock held. */
struct iopgt_format_entry *iopgt_registry_lookup(struct iopgt_host *host,
						 const char *format);
void iopgt_registry_drop_plugin(struct iopgt_host *host,
				struct iopgt_plugin *plugin);

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
	struct iopgt_pgtable *pgt;
	struct iopgt_plugin *plugin;
	const struct iopgt_format *fmt;
	struct iopgt_mem mem;
	struct iopgt_env env;
	uint64_t serial;
	char *label;
};

#endif /* IOPGT_INTERNAL_H */
