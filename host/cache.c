// SPDX-License-Identifier: MIT
/*
 * What the host remembers about plugin files it probed: whether the probe
 * came back clean or the plugin is blacklisted (and why), and the metadata
 * the probe saw (name, version, formats).  An entry is only believed while
 * the file is the same one: path, device, inode, size and mtime all match,
 * as GStreamer's registry does.
 *
 * The optional file is a GKeyFile, one group per plugin, replaced
 * atomically (write a temporary file, rename) on every change, and only
 * read if the caller owns it and nobody else can write it: a cache others
 * can edit could whitelist a crashing plugin.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopgt-internal.h"

struct iopgt_cache {
	GHashTable *entries;	/* path -> struct iopgt_cache_entry */
	char *file;		/* NULL: memory only */
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
	g_free(e->name);
	g_free(e->version);
	g_free(e->description);
	g_free(e->license);
	g_strfreev(e->formats);
	g_strfreev(e->aliases);
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
		return NULL;
	}
	return e;
}

void iopgt_cache_store(struct iopgt_cache *c, struct iopgt_cache_entry *e)
{
	g_hash_table_replace(c->entries, e->path, e);
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
	e->has_info = true;
	e->info_error = g_key_file_get_string(kf, group, "info-error", NULL);
	if (e->info_error)
		return;
	i = e->info = g_new0(struct iopgt_plugin_info, 1);
	i->name = g_key_file_get_string(kf, group, "info-name", NULL);
	i->version = g_key_file_get_string(kf, group, "info-version", NULL);
	i->description = g_key_file_get_string(kf, group, "info-description",
					       NULL);
	i->license = g_key_file_get_string(kf, group, "info-license", NULL);
	i->abi = g_key_file_get_string(kf, group, "info-abi", NULL);
	i->provides = get_strv(kf, group, "info-provides");
	i->softdeps = get_strv(kf, group, "info-softdeps");
}

static gint entry_path_cmp(gconstpointer a, gconstpointer b)
{
	const struct iopgt_cache_entry *x = *(void *const *)a;
	const struct iopgt_cache_entry *y = *(void *const *)b;

	return strcmp(x->path, y->path);
}

int iopgt_cache_save(struct iopgt_cache *c, char **why)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *data = NULL;
	GHashTableIter it;
	gpointer value;
	gsize len;

	if (!c->file)
		return 0;
	g_hash_table_iter_init(&it, c->entries);
	while (g_hash_table_iter_next(&it, NULL, &value))
		g_ptr_array_add(sorted, value);
	g_ptr_array_sort(sorted, entry_path_cmp);
	for (guint i = 0; i < sorted->len; i++) {
		const struct iopgt_cache_entry *e = sorted->pdata[i];
		g_autofree char *group = g_strdup_printf(GROUP_PREFIX "%u", i);

		set_str(kf, group, "path", e->path);
		g_key_file_set_uint64(kf, group, "dev", e->id.dev);
		g_key_file_set_uint64(kf, group, "ino", e->id.ino);
		g_key_file_set_int64(kf, group, "size", e->id.size);
		g_key_file_set_int64(kf, group, "mtime-ns", e->id.mtime_ns);
		if (e->has_info)
			save_info(kf, group, e);
		if (!e->probed)
			continue;
		set_str(kf, group, "result", e->bad ? "blacklisted" : "ok");
		set_str(kf, group, "reason", e->reason);
		set_str(kf, group, "name", e->name);
		set_str(kf, group, "version", e->version);
		set_str(kf, group, "description", e->description);
		set_str(kf, group, "license", e->license);
		set_strv(kf, group, "formats", e->formats);
		set_strv(kf, group, "aliases", e->aliases);
		g_key_file_set_int64(kf, group, "probe-us", e->probe_us);
	}
	data = g_key_file_to_data(kf, &len, NULL);
	dir = g_path_get_dirname(c->file);
	if (g_mkdir_with_parents(dir, 0700)) {
		*why = g_strdup_printf("%s: cannot create: %s", dir,
				       g_strerror(errno));
		return -errno;
	}
	/* CONSISTENT: temporary file, fsync, rename over the old one */
	if (!g_file_set_contents_full(c->file, data, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      &error)) {
		*why = g_strdup(error->message);
		return -EIO;
	}
	return 0;
}

static char *get_str(GKeyFile *kf, const char *group, const char *key)
{
	return g_key_file_get_string(kf, group, key, NULL);
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
	e->name = get_str(kf, group, "name");
	e->version = get_str(kf, group, "version");
	e->description = get_str(kf, group, "description");
	e->license = get_str(kf, group, "license");
	e->formats = g_key_file_get_string_list(kf, group, "formats", NULL,
						NULL);
	e->aliases = g_key_file_get_string_list(kf, group, "aliases", NULL,
						NULL);
	e->probe_us = g_key_file_get_int64(kf, group, "probe-us", NULL);
	return e;
}

/* Read the file only through a descriptor we checked. */
static int read_trusted(const char *file, char **data, gsize *len,
			char **why)
{
	g_autoptr(GIOChannel) ch = NULL;
	g_autoptr(GError) error = NULL;
	struct stat st;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;	/* no cache yet */
		*why = g_strdup_printf("%s: %s", file, g_strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		*why = g_strdup_printf("%s: ignored: not a regular file owned "
				       "by the caller and writable only by "
				       "it", file);
		return -EACCES;
	}
	ch = g_io_channel_unix_new(fd);
	g_io_channel_set_close_on_unref(ch, TRUE);
	g_io_channel_set_encoding(ch, NULL, NULL);
	if (g_io_channel_read_to_end(ch, data, len, &error) !=
	    G_IO_STATUS_NORMAL) {
		*why = g_strdup_printf("%s: %s", file, error->message);
		return -EIO;
	}
	return 0;
}

int iopgt_cache_set_file(struct iopgt_cache *c, const char *file, char **why)
{
	g_autoptr(GKeyFile) kf = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	g_auto(GStrv) groups = NULL;
	gsize len = 0;
	int ret;

	g_free(c->file);
	c->file = g_strdup(file);
	if (!file)
		return 0;
	ret = read_trusted(file, &data, &len, why);
	if (ret)
		return ret > 0 ? 0 : ret;
	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE,
				       &error)) {
		*why = g_strdup_printf("%s: %s", file, error->message);
		return -EBADMSG;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (char **g = groups; *g; g++) {
		struct iopgt_cache_entry *e;

		if (!g_str_has_prefix(*g, GROUP_PREFIX))
			continue;
		e = entry_from_group(kf, *g);
		if (e)
			iopgt_cache_store(c, e);
	}
	return 0;
}
