// SPDX-License-Identifier: MIT
/*
 * What the host remembers about plugin files it probed: whether the probe
 * came back clean or the plugin is blacklisted (and why), and the metadata
 * the probe saw (name, version, formats).  An entry is only believed while
 * the file is the same one: path, device, inode, size and mtime all match,
 * as GStreamer's registry does.
 *
 * The optional file is a GKeyFile between a header line and an end line
 * carrying a SHA-256 of everything before it, so a file cut short (a full
 * disk, a crash mid-copy) is noticed and rebuilt instead of believed.  It
 * is only read if the caller owns it and nobody else can write it: a
 * cache others can edit could whitelist a crashing plugin.  It is written
 * only when something changed (iopgt_cache_flush()), and it only ever
 * replaces a file that is recognisably an iopgt cache: the path a user
 * gives may be anyone's notes, a symlink or a device node.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopgt-internal.h"

struct iopgt_cache {
	GHashTable *entries;	/* path -> struct iopgt_cache_entry */
	char *file;		/* NULL: memory only */
	bool dirty;		/* entries changed since the file was written */
	unsigned int writes;	/* files written, for the tests */
};

void iopgt_file_id_from_stat(struct iopgt_file_id *id, const struct stat *st)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (int64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL +
		       st->st_mtim.tv_nsec;
}

static bool file_id_equal(const struct iopgt_file_id *a,
			  const struct iopgt_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

void iopgt_cache_entry_free(struct iopgt_cache_entry *e)
{
	if (!e)
		return;
	g_free(e->path);
	iopgt_plugin_info_free(e->info);
	g_free(e->info_error);
	g_free(e->reason);
	iopgt_plugin_info_free(e->seen);
	g_free(e);
}

struct iopgt_cache *iopgt_cache_new(void)
{
	struct iopgt_cache *c = g_new0(struct iopgt_cache, 1);

	c->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
		(GDestroyNotify)iopgt_cache_entry_free);
	return c;
}

void iopgt_cache_free(struct iopgt_cache *c)
{
	if (!c)
		return;
	g_hash_table_unref(c->entries);
	g_free(c->file);
	g_free(c);
}

struct iopgt_cache_entry *iopgt_cache_lookup(struct iopgt_cache *c,
					     const char *path,
					     const struct iopgt_file_id *id)
{
	struct iopgt_cache_entry *e = g_hash_table_lookup(c->entries, path);

	if (!e)
		return NULL;
	if (!file_id_equal(&e->id, id)) {
		/* the file changed: whatever we knew is void */
		g_hash_table_remove(c->entries, path);
		c->dirty = true;
		return NULL;
	}
	return e;
}

void iopgt_cache_store(struct iopgt_cache *c, struct iopgt_cache_entry *e)
{
	g_hash_table_replace(c->entries, e->path, e);
	c->dirty = true;
}

void iopgt_cache_mark_dirty(struct iopgt_cache *c)
{
	c->dirty = true;
}

struct iopgt_cache_entry *iopgt_cache_get(struct iopgt_cache *c,
					  const char *path,
					  const struct iopgt_file_id *id)
{
	struct iopgt_cache_entry *e = iopgt_cache_lookup(c, path, id);

	if (e)
		return e;
	e = g_new0(struct iopgt_cache_entry, 1);
	e->path = g_strdup(path);
	e->id = *id;
	iopgt_cache_store(c, e);
	return e;
}

const struct iopgt_plugin_info *iopgt_cache_file_info(struct iopgt_cache *c,
						      const char *path,
						      bool *dirty,
						      const char **why)
{
	struct iopgt_cache_entry *e;
	struct iopgt_file_id id;
	struct stat st;

	/* metadata is read, never run: following a symlink is harmless */
	if (stat(path, &st)) {
		*why = "cannot stat";
		return NULL;
	}
	iopgt_file_id_from_stat(&id, &st);
	e = iopgt_cache_get(c, path, &id);
	if (!e->has_info) {
		e->has_info = true;
		iopgt_plugin_info_read(path, &e->info, &e->info_error);
		c->dirty = true;
		*dirty = true;
	}
	*why = e->info_error;
	return e->info;
}

/* ---- the file ------------------------------------------------------------- */

#define GROUP_PREFIX	"plugin "

static void set_str(GKeyFile *kf, const char *group, const char *key,
		    const char *value)
{
	if (value)
		g_key_file_set_string(kf, group, key, value);
}

static void set_strv(GKeyFile *kf, const char *group, const char *key,
		     char **v)
{
	if (v)
		g_key_file_set_string_list(kf, group, key,
					   (const char *const *)v,
					   g_strv_length(v));
}

static char *no_strv[] = { NULL };

static void save_info(GKeyFile *kf, const char *group,
		      const struct iopgt_cache_entry *e)
{
	const struct iopgt_plugin_info *i = e->info;

	g_key_file_set_boolean(kf, group, "info", TRUE);
	set_str(kf, group, "info-error", e->info_error);
	if (!i)
		return;
	set_str(kf, group, "info-name", i->name);
	set_str(kf, group, "info-version", i->version);
	set_str(kf, group, "info-description", i->description);
	set_str(kf, group, "info-license", i->license);
	set_str(kf, group, "info-abi", i->abi);
	set_strv(kf, group, "info-provides", i->provides);
	set_strv(kf, group, "info-softdeps", i->softdeps);
	/* always written, empty or not: its absence marks an entry from
	 * before format defaults were read (load_info) */
	set_strv(kf, group, "info-format-defaults",
		 i->format_defaults ? i->format_defaults : no_strv);
	set_str(kf, group, "info-format-defaults-error",
		i->format_defaults_error);
}

static char **get_strv(GKeyFile *kf, const char *group, const char *key)
{
	char **v = g_key_file_get_string_list(kf, group, key, NULL, NULL);

	return v ? v : g_new0(char *, 1);
}

static void load_info(GKeyFile *kf, const char *group,
		      struct iopgt_cache_entry *e)
{
	struct iopgt_plugin_info *i;

	if (!g_key_file_get_boolean(kf, group, "info", NULL))
		return;
	e->info_error = g_key_file_get_string(kf, group, "info-error", NULL);
	if (e->info_error) {
		e->has_info = true;
		return;
	}
	/* written by a host that did not read format defaults: the file
	 * is read again (has_info stays false) rather than believed empty */
	if (!g_key_file_has_key(kf, group, "info-format-defaults", NULL))
		return;
	e->has_info = true;
	i = e->info = g_new0(struct iopgt_plugin_info, 1);
	i->name = g_key_file_get_string(kf, group, "info-name", NULL);
	i->version = g_key_file_get_string(kf, group, "info-version", NULL);
	i->description = g_key_file_get_string(kf, group, "info-description",
					       NULL);
	i->license = g_key_file_get_string(kf, group, "info-license", NULL);
	i->abi = g_key_file_get_string(kf, group, "info-abi", NULL);
	i->provides = get_strv(kf, group, "info-provides");
	i->softdeps = get_strv(kf, group, "info-softdeps");
	i->format_defaults = get_strv(kf, group, "info-format-defaults");
	i->format_defaults_error = g_key_file_get_string(kf, group,
		"info-format-defaults-error", NULL);
}

static gint entry_path_cmp(gconstpointer a, gconstpointer b)
{
	const struct iopgt_cache_entry *x = *(void *const *)a;
	const struct iopgt_cache_entry *y = *(void *const *)b;

	return strcmp(x->path, y->path);
}

static char *get_str(GKeyFile *kf, const char *group, const char *key)
{
	return g_key_file_get_string(kf, group, key, NULL);
}

/* What the probe saw (an entry of a file from before "provides" counts
 * as having seen nothing: the file's own metadata still says). */
static struct iopgt_plugin_info *load_seen(GKeyFile *kf, const char *group)
{
	struct iopgt_plugin_info *i = g_new0(struct iopgt_plugin_info, 1);

	i->name = get_str(kf, group, "name");
	i->version = get_str(kf, group, "version");
	i->description = get_str(kf, group, "description");
	i->license = get_str(kf, group, "license");
	i->provides = g_key_file_get_string_list(kf, group, "provides", NULL,
						 NULL);
	if (!i->provides)
		i->provides = g_new0(char *, 1);
	i->softdeps = g_new0(char *, 1);
	return i;
}

static struct iopgt_cache_entry *entry_from_group(GKeyFile *kf,
						  const char *group)
{
	struct iopgt_cache_entry *e = g_new0(struct iopgt_cache_entry, 1);
	g_autofree char *result = get_str(kf, group, "result");
	GError *error = NULL;

	e->path = get_str(kf, group, "path");
	e->id.dev = g_key_file_get_uint64(kf, group, "dev", &error);
	if (!error)
		e->id.ino = g_key_file_get_uint64(kf, group, "ino", &error);
	if (!error)
		e->id.size = g_key_file_get_int64(kf, group, "size", &error);
	if (!error)
		e->id.mtime_ns = g_key_file_get_int64(kf, group, "mtime-ns",
						      &error);
	if (error || !e->path ||
	    (result && strcmp(result, "ok") && strcmp(result, "blacklisted"))) {
		g_clear_error(&error);
		iopgt_cache_entry_free(e);
		return NULL;
	}
	load_info(kf, group, e);
	if (!result)
		return e;
	e->probed = true;
	e->bad = !strcmp(result, "blacklisted");
	e->reason = get_str(kf, group, "reason");
	if (e->bad && !e->reason)
		e->reason = g_strdup("probe: blacklisted (no reason recorded)");
	e->seen = load_seen(kf, group);
	e->probe_us = g_key_file_get_int64(kf, group, "probe-us", NULL);
	return e;
}

/* ---- the file: format ------------------------------------------------------- */

/*
 * First line: what the file is, so a write can tell a cache from a file
 * it must not touch.  Last line: "# end sha256=HEX" over every byte
 * before it.  GKeyFile skips both as comments.
 */
#define CACHE_HEADER		"# iopgt plugin cache 1 (libiopgt-host; safe to delete)\n"
#define CACHE_END		"# end sha256="
/* Files written before the header existed start with their first group:
 * recognisably ours, so they may be replaced (never believed). */
#define CACHE_LEGACY_START	"[" GROUP_PREFIX

static void save_entry(GKeyFile *kf, const char *group,
		       const struct iopgt_cache_entry *e)
{
	set_str(kf, group, "path", e->path);
	g_key_file_set_uint64(kf, group, "dev", e->id.dev);
	g_key_file_set_uint64(kf, group, "ino", e->id.ino);
	g_key_file_set_int64(kf, group, "size", e->id.size);
	g_key_file_set_int64(kf, group, "mtime-ns", e->id.mtime_ns);
	if (e->has_info)
		save_info(kf, group, e);
	if (!e->probed)
		return;
	set_str(kf, group, "result", e->bad ? "blacklisted" : "ok");
	set_str(kf, group, "reason", e->reason);
	if (e->seen) {
		set_str(kf, group, "name", e->seen->name);
		set_str(kf, group, "version", e->seen->version);
		set_str(kf, group, "description", e->seen->description);
		set_str(kf, group, "license", e->seen->license);
		set_strv(kf, group, "provides", e->seen->provides);
	}
	g_key_file_set_int64(kf, group, "probe-us", e->probe_us);
}

/* The whole file: header, one group per entry by path, end line. */
static GString *cache_to_text(struct iopgt_cache *c)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();
	g_autofree char *data = NULL;
	g_autofree char *sum = NULL;
	GHashTableIter it;
	gpointer value;
	GString *text;

	g_hash_table_iter_init(&it, c->entries);
	while (g_hash_table_iter_next(&it, NULL, &value))
		g_ptr_array_add(sorted, value);
	g_ptr_array_sort(sorted, entry_path_cmp);
	for (guint i = 0; i < sorted->len; i++) {
		g_autofree char *group = g_strdup_printf(GROUP_PREFIX "%u", i);

		save_entry(kf, group, sorted->pdata[i]);
	}
	data = g_key_file_to_data(kf, NULL, NULL);
	text = g_string_new(CACHE_HEADER);
	g_string_append(text, data);
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
					  (const guchar *)text->str, text->len);
	g_string_append_printf(text, CACHE_END "%s\n", sum);
	return text;
}

/* Returns: the length of the body before a valid end line, or -1. */
static gssize cache_body_len(const char *data, gsize len)
{
	g_autofree char *sum = NULL;
	const char *end;
	gsize body;

	if (len < 2 || data[len - 1] != '\n')
		return -1;
	end = g_strrstr_len(data, (gssize)len - 1, "\n");
	if (!end)
		return -1;
	body = (gsize)(end - data) + 1;
	if (strncmp(data + body, CACHE_END, strlen(CACHE_END)))
		return -1;
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
					  (const guchar *)data, body);
	if (len - body != strlen(CACHE_END) + strlen(sum) + 1 ||
	    strncmp(data + body + strlen(CACHE_END), sum, strlen(sum)))
		return -1;
	return (gssize)body;
}

/* ---- the file: writing -------------------------------------------------------- */

/* What a write may replace, checked through a descriptor. */
struct cache_target {
	bool exists;
	dev_t dev;
	ino_t ino;
};

static bool starts_as_cache(int fd, const struct stat *st)
{
	char buf[sizeof(CACHE_HEADER)];
	ssize_t n;

	if (st->st_size == 0)	/* nothing to lose: mktemp's empty file */
		return true;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return g_str_has_prefix(buf, CACHE_HEADER) ||
	       g_str_has_prefix(buf, CACHE_LEGACY_START);
}

/*
 * May the cache replace file?  Only a regular file of ours that reads as
 * a cache: not a symlink (O_NOFOLLOW), FIFO or device (O_NONBLOCK: opening
 * them must not block or have effects), not a directory, not a user's
 * notes.  Returns: 0 with *t set, or a negative errno with *why.
 */
static int cache_target_check(const char *file, struct cache_target *t,
			      char **why)
{
	const char *problem = NULL;
	struct stat st;
	int fd, ret = 0;

	t->exists = false;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
		  O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP) {
		*why = g_strdup_printf("%s: not replaced: a symbolic link",
				       file);
		return -ELOOP;
	}
	if (fd < 0) {
		ret = -errno;
		*why = g_strdup_printf("%s: not replaced: %s", file,
				       g_strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		problem = g_strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		problem = "not a regular file";
	} else if (st.st_uid != geteuid()) {
		ret = -EACCES;
		problem = "owned by another user";
	} else if (!starts_as_cache(fd, &st)) {
		ret = -EEXIST;
		problem = "not an iopgt cache file (no header line)";
	}
	close(fd);
	if (ret) {
		*why = g_strdup_printf("%s: not replaced: %s", file, problem);
		return ret;
	}
	t->exists = true;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	return 0;
}

static int write_all(int fd, const char *data, gsize len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (gsize)n;
	}
	return fsync(fd) ? -errno : 0;
}

/* A new file, O_EXCL (so never through a symlink), beside the target. */
static int write_temp(const char *file, const GString *text, char **tmp_out,
		      char **why)
{
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", file);
	int fd, ret;

	fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = -errno;
		*why = g_strdup_printf("%s: cannot create: %s", tmp,
				       g_strerror(errno));
		return ret;
	}
	ret = write_all(fd, text->str, text->len);
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		*why = g_strdup_printf("%s: cannot write: %s", tmp,
				       g_strerror(-ret));
		unlink(tmp);
		return ret;
	}
	*tmp_out = g_steal_pointer(&tmp);
	return 0;
}

/*
 * Put tmp in place.  A new file must not appear meanwhile (link() fails
 * if it does); an old one must still be the file we checked.
 */
static int install(const char *tmp, const char *file,
		   const struct cache_target *t, char **why)
{
	struct stat st;

	if (!t->exists) {
		if (link(tmp, file) == 0)
			return unlink(tmp), 0;
		if (errno != EPERM && errno != ENOTSUP && errno != EEXIST)
			goto out_errno;
		if (errno == EEXIST) {
			*why = g_strdup_printf("%s: not replaced: created by someone else meanwhile",
					       file);
			return -EEXIST;
		}
		/* no hard links on this file system */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, file, RENAME_NOREPLACE))
			goto out_errno;
		return 0;
	}
	if (lstat(file, &st) || st.st_dev != t->dev || st.st_ino != t->ino) {
		*why = g_strdup_printf("%s: not replaced: it changed while the cache was written",
				       file);
		return -EAGAIN;
	}
	if (rename(tmp, file))
		goto out_errno;
	return 0;

out_errno:
	*why = g_strdup_printf("%s: cannot write: %s", file, g_strerror(errno));
	return -errno;
}

int iopgt_cache_save(struct iopgt_cache *c, char **why)
{
	g_autoptr(GString) text = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *tmp = NULL;
	struct cache_target t;
	int ret;

	c->dirty = false;
	if (!c->file)
		return 0;
	ret = cache_target_check(c->file, &t, why);
	if (ret)
		return ret;
	dir = g_path_get_dirname(c->file);
	if (g_mkdir_with_parents(dir, 0700)) {
		ret = -errno;
		*why = g_strdup_printf("%s: cannot create: %s", dir,
				       g_strerror(errno));
		return ret;
	}
	text = cache_to_text(c);
	ret = write_temp(c->file, text, &tmp, why);
	if (ret)
		return ret;
	ret = install(tmp, c->file, &t, why);
	if (ret) {
		int saved = errno;

		unlink(tmp);
		errno = saved;
		return ret;
	}
	c->writes++;
	return 0;
}

int iopgt_cache_flush(struct iopgt_cache *c, char **why)
{
	return c->dirty ? iopgt_cache_save(c, why) : 0;
}

unsigned int iopgt_cache_writes(const struct iopgt_cache *c)
{
	return c->writes;
}

/* ---- the file: reading -------------------------------------------------------- */

/*
 * Read the file only through a descriptor we checked, never past
 * IOPGT_CACHE_MAX_BYTES.  Returns: 0 with the data, 1 if there is no file
 * yet, or a negative errno with *why.
 */
static int read_trusted(const char *file, char **data, gsize *len,
			char **why)
{
	g_autoptr(GString) buf = NULL;
	const char *problem = NULL;
	char chunk[8192];
	struct stat st;
	int fd, ret = 0;
	ssize_t n;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
		  O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;	/* no cache yet */
		ret = -errno;
		*why = g_strdup_printf("%s: ignored: %s", file,
				       errno == ELOOP ? "a symbolic link" :
				       g_strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		problem = g_strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		problem = "not a regular file";
	} else if (st.st_uid != geteuid() ||
		   (st.st_mode & (S_IWGRP | S_IWOTH))) {
		ret = -EACCES;
		problem = "not a regular file owned by the caller and writable only by it";
	} else if (st.st_size > IOPGT_CACHE_MAX_BYTES) {
		ret = -EFBIG;
	}
	buf = g_string_new(NULL);
	while (!ret && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			problem = g_strerror(errno);
		} else if (buf->len + (gsize)n > IOPGT_CACHE_MAX_BYTES) {
			ret = -EFBIG;	/* it grew under us */
		} else {
			g_string_append_len(buf, chunk, n);
		}
	}
	close(fd);
	if (ret == -EFBIG)
		*why = g_strdup_printf("%s: ignored: larger than %u bytes",
				       file, IOPGT_CACHE_MAX_BYTES);
	else if (ret)
		*why = g_strdup_printf("%s: ignored: %s", file, problem);
	if (ret)
		return ret;
	*len = buf->len;
	*data = g_string_free(g_steal_pointer(&buf), FALSE);
	return 0;
}

/* Returns: the key file's text without header and end line, or NULL with
 * *why (the file is then rebuilt, or left alone if it is not ours). */
static const char *cache_body(const char *file, const char *data, gsize len,
			      gsize *body_len, char **why)
{
	gssize n;

	if (!g_str_has_prefix(data, CACHE_HEADER)) {
		if (g_str_has_prefix(data, CACHE_LEGACY_START))
			*why = g_strdup_printf("%s: written by an older version: rebuilt",
					       file);
		else if (len)
			*why = g_strdup_printf("%s: not an iopgt cache file (no header line): ignored and never overwritten",
					       file);
		return NULL;
	}
	n = cache_body_len(data, len);
	if (n < 0) {
		*why = g_strdup_printf("%s: truncated or damaged (no valid end line): rebuilt",
				       file);
		return NULL;
	}
	*body_len = (gsize)n - strlen(CACHE_HEADER);
	return data + strlen(CACHE_HEADER);
}

int iopgt_cache_set_file(struct iopgt_cache *c, const char *file, char **why)
{
	g_autoptr(GKeyFile) kf = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	g_auto(GStrv) groups = NULL;
	const char *body;
	gsize len = 0, body_len = 0;
	int ret;

	g_free(c->file);
	c->file = g_strdup(file);
	if (!file)
		return 0;
	ret = read_trusted(file, &data, &len, why);
	if (ret < 0)
		g_clear_pointer(&c->file, g_free);	/* memory only: said once */
	if (ret)
		return ret > 0 ? 0 : ret;
	if (!len)
		return 0;	/* an empty file: a cache with nothing yet */
	body = cache_body(file, data, len, &body_len, why);
	if (!body && !g_str_has_prefix(data, CACHE_LEGACY_START) &&
	    !g_str_has_prefix(data, CACHE_HEADER)) {
		/* not ours: never overwritten, so never written */
		g_clear_pointer(&c->file, g_free);
		return -EBADMSG;
	}
	if (!body) {
		c->dirty = true;	/* rebuilt at the next flush */
		return -EBADMSG;
	}
	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, body, body_len, G_KEY_FILE_NONE,
				       &error)) {
		*why = g_strdup_printf("%s: %s", file, error->message);
		c->dirty = true;
		return -EBADMSG;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (char **g = groups; *g; g++) {
		struct iopgt_cache_entry *e;

		if (!g_str_has_prefix(*g, GROUP_PREFIX))
			continue;
		e = entry_from_group(kf, *g);
		if (e)
			g_hash_table_replace(c->entries, e->path, e);
	}
	c->dirty = false;
	return 0;
}
