/* SPDX-License-Identifier: MIT */
#ifndef IOPGT_CACHE_H
#define IOPGT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct iopgt_cfg;

/* ---- metadata from the file (elfinfo.c) ----------------------------------- */

/*
 * What is known about a plugin, wherever it was learnt: from its file
 * (elfinfo.c), from what a probe saw it register (probe.c, the cache), or
 * from its loaded descriptor (the record).  One shape for all three.
 */
struct iopgt_plugin_info {
	char *name;
	char *version;
	char *description;
	char *license;
	char *abi;			/* "1.0" */
	char **provides;		/* sorted, never NULL */
	char **softdeps;		/* "pre: a post: b", sorted, never NULL */
	/* from IOPGT_FORMAT_INFO_SECTION: "NAME IAS OAS 0xBITMAP[ foreign]"
	 * (FORMAT_FOREIGN_WORD when the record has IOPGT_FORMAT_INFO_FOREIGN),
	 * one for each name and each alias, sorted; NULL or empty: none (why
	 * in format_defaults_error when the section was refused) */
	char **format_defaults;
	char *format_defaults_error;
};
void iopgt_plugin_info_free(struct iopgt_plugin_info *info);

/* The word a format_defaults string ends with when the record has
 * IOPGT_FORMAT_INFO_FOREIGN (plugin.h). */
#define FORMAT_FOREIGN_WORD	"foreign"

/*
 * Whether info's record of format (a name or alias, exact) says it walks
 * foreign tables, read from the file without loading the plugin.
 * Returns: 1 or 0, or -ENOENT when info has no record of it.
 */
int iopgt_plugin_info_has_foreign(const struct iopgt_plugin_info *info,
				  const char *format);
struct iopgt_plugin_info *iopgt_plugin_info_copy(
	const struct iopgt_plugin_info *info);
/*
 * Read the IOPGT_PLUGIN_INFO_SECTION strings of an ELF file without
 * mapping it.  Returns: 0, -ENODATA (no such section), -ENOEXEC (not a
 * usable ELF file) or open()'s errno, with *why set on failure.
 */
int iopgt_plugin_info_read(const char *path, struct iopgt_plugin_info **out,
			   char **why);
int iopgt_plugin_info_read_fd(int fd, struct iopgt_plugin_info **out,
			      char **why);
/* Fill the zero fields of cfg from info's defaults of format (a name or
 * alias, exact).  Returns: 0, or -ENOENT when info has none for it. */
int iopgt_plugin_info_fill_defaults(const struct iopgt_plugin_info *info,
				    const char *format, struct iopgt_cfg *cfg);

/* ---- probe results and metadata (cache.c) --------------------------------- */

struct iopgt_file_id {
	uint64_t dev;
	uint64_t ino;
	int64_t size;
	int64_t mtime_ns;
};
void iopgt_file_id_from_stat(struct iopgt_file_id *id, const struct stat *st);

struct iopgt_cache_entry {
	char *path;			/* the key */
	struct iopgt_file_id id;	/* believed only while it matches */
	/* metadata read from the file (elfinfo.c), if has_info */
	bool has_info;
	struct iopgt_plugin_info *info;	/* NULL when info_error says why */
	char *info_error;
	/* the probe's verdict, if probed */
	bool probed;
	bool bad;			/* blacklisted by a probe */
	char *reason;			/* "probe: ..." when bad */
	/* what the probe saw: the descriptor's texts and what register_fn
	 * registered (provides: formats, then aliases); NULL if not probed */
	struct iopgt_plugin_info *seen;
	int64_t probe_us;
};
void iopgt_cache_entry_free(struct iopgt_cache_entry *e);

struct iopgt_cache;
struct iopgt_cache *iopgt_cache_new(void);
void iopgt_cache_free(struct iopgt_cache *c);
/* The entry for path if the file is still the same one (else dropped). */
struct iopgt_cache_entry *iopgt_cache_lookup(struct iopgt_cache *c,
					     const char *path,
					     const struct iopgt_file_id *id);
/* The entry for this file, created empty if there is none. */
struct iopgt_cache_entry *iopgt_cache_get(struct iopgt_cache *c,
					  const char *path,
					  const struct iopgt_file_id *id);
/* Metadata of the file at path (stat, then cache or the file itself);
 * NULL with *why set if it has none.  *dirty is set when the cache
 * changed. */
const struct iopgt_plugin_info *iopgt_cache_file_info(struct iopgt_cache *c,
						      const char *path,
						      bool *dirty,
						      const char **why);
/* Takes e. */
void iopgt_cache_store(struct iopgt_cache *c, struct iopgt_cache_entry *e);
/* An entry returned by get/lookup was changed in place (a probe's
 * verdict): the file needs writing.  store/get/lookup mark it themselves. */
void iopgt_cache_mark_dirty(struct iopgt_cache *c);

/*
 * The file.  Reading is bounded: a file over IOPGT_CACHE_MAX_BYTES is
 * ignored.  A file is believed only if it is a regular file (never a
 * symlink, FIFO or device: it is opened O_NOFOLLOW | O_NONBLOCK), owned by
 * the caller, writable only by it, starts with the cache's header line and
 * ends with its end line (a SHA-256 of the rest): a file cut short is
 * noticed and rebuilt.
 *
 * Writing replaces the file only if it is recognisably an iopgt cache
 * (header line, or empty), regular, not a symlink and owned by the
 * caller; anything else is left untouched and refused with one line
 * ("FILE: not replaced: why").  The file is written to a new O_EXCL temp
 * file beside it, fsynced, then renamed over the checked file (or linked
 * into place, never over anything, when there was none).
 */
#define IOPGT_CACHE_MAX_BYTES	(64U << 20)
/* Back the cache by a file (NULL: none) and read it.  Returns: 0 or a
 * negative errno with *why set (-EINVAL not a regular file, -ELOOP a
 * symlink, -EACCES others' file, -EFBIG too large, -EBADMSG not a cache,
 * truncated or unparsable); the cache stays usable either way. */
int iopgt_cache_set_file(struct iopgt_cache *c, const char *file, char **why);
/* Write the file now (if there is one), changed or not.  Returns: 0 or a
 * negative errno with *why set. */
int iopgt_cache_save(struct iopgt_cache *c, char **why);
/* Write the file once if anything changed since it was last read or
 * written: call it once per scan or load batch, not per probe (each write
 * is the whole file and an fsync).  Returns: as iopgt_cache_save(). */
int iopgt_cache_flush(struct iopgt_cache *c, char **why);
/* Test-only: files written so far. */
unsigned int iopgt_cache_writes(const struct iopgt_cache *c);

#endif /* IOPGT_CACHE_H */
