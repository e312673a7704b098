// SPDX-License-Identifier: MIT
/*
 * Discovery: plugin files become DISCOVERED records, with the metadata
 * their files carry (formats provided, softdeps declared) read without
 * running them.
 *
 * Metadata is only believed from a file that passes the same trust checks
 * a load applies (trust.c), read through the checked descriptor: a file
 * anyone could have written must not be able to claim a format or put a
 * trusted plugin on a softdep cycle.
 *
 * None of this holds the host lock across file I/O: records are made
 * under the lock, files are read without it, the results are stored under
 * it again.  The cache has its own lock and is written once per scan.
 */
#include <string.h>
#include <unistd.h>

#include "iopgt-internal.h"

/*
 * The metadata of the file open at fd (fstat st), from the cache or the
 * file.  Cache lock only; returns a copy or NULL with *why set.
 */
static struct iopgt_plugin_info *file_info(struct iopgt_host *host,
					   const char *path, int fd,
					   const struct stat *st, char **why)
{
	struct iopgt_plugin_info *info = NULL;
	struct iopgt_cache_entry *e;
	struct iopgt_file_id id;
	char *err = NULL;

	iopgt_file_id_from_stat(&id, st);
	pthread_mutex_lock(&host->cache_lock);
	e = iopgt_cache_lookup(host->cache, path, &id);
	if (e && e->has_info) {
		info = e->info ? iopgt_plugin_info_copy(e->info) : NULL;
		*why = g_strdup(e->info_error);
		pthread_mutex_unlock(&host->cache_lock);
		return info;
	}
	pthread_mutex_unlock(&host->cache_lock);

	iopgt_plugin_info_read_fd(fd, &info, &err);
	pthread_mutex_lock(&host->cache_lock);
	e = iopgt_cache_get(host->cache, path, &id);
	if (!e->has_info) {
		e->has_info = true;
		e->info = info ? iopgt_plugin_info_copy(info) : NULL;
		e->info_error = g_strdup(err);
		host->cache_dirty = true;
	}
	pthread_mutex_unlock(&host->cache_lock);
	*why = err;
	return info;
}

/* A plugin's own softdeps are a declaration the manifest may override.
 * Lock held. */
void iopgt_discover_declare(struct iopgt_plugin *p)
{
	g_autofree char *origin = g_strdup_printf("%s[" IOPGT_PLUGIN_INFO_SECTION
						  "]", p->path);

	/* bad entries are the plugin's fault: the plan's errors list them */
	iopgt_manifest_set_declared(p->host->manifest, p->name, origin,
				    p->info ? (const char *const *)
				    p->info->softdeps : NULL);
}

void iopgt_discover_read_info(struct iopgt_plugin *p)
{
	struct iopgt_host *host = p->host;
	struct iopgt_plugin_info *info = NULL;
	g_autofree char *why = NULL;
	g_autofree char *path = NULL;
	bool insecure;
	struct stat st;
	int fd, ret;

	iopgt_host_lock(host);
	if (p->info || p->info_error || !p->path) {
		iopgt_host_unlock(host);
		return;
	}
	path = g_strdup(p->path);
	insecure = host->allow_insecure;
	iopgt_host_unlock(host);

	ret = iopgt_trust_open(path, insecure, &fd, &st, &why);
	if (ret == 0) {
		g_clear_pointer(&why, g_free);
		info = file_info(host, path, fd, &st, &why);
		close(fd);
	}

	iopgt_host_lock(host);
	if (!p->info && !p->info_error) {
		p->info = info;
		info = NULL;
		if (!p->info)
			p->info_error = g_strdup_printf("%s%s", ret ?
				"not read: " : "", why ? why : "no metadata");
		else
			iopgt_discover_declare(p);
	}
	iopgt_host_unlock(host);
	if (ret || !p->info)
		DBG(host, "%s: no metadata: %s", path, why ? why : "none");
	iopgt_plugin_info_free(info);
}

void iopgt_discover_flush_cache(struct iopgt_host *host)
{
	g_autofree char *why = NULL;
	int ret = 0;

	pthread_mutex_lock(&host->cache_lock);
	if (host->cache_dirty) {
		host->cache_dirty = false;
		ret = iopgt_cache_save(host->cache, &why);
		/* said once: the cache goes on in memory only */
		if (ret)
			iopgt_cache_set_file(host->cache, NULL, &(char *){ NULL });
	}
	pthread_mutex_unlock(&host->cache_lock);
	if (ret)
		WARN(host, "plugin cache: %s (kept in memory only)", why);
}

/* ---- scanning ---------------------------------------------------------------- */

static gint str_ptr_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted *.so names of dir (readdir order is arbitrary). */
static GPtrArray *list_dir(struct iopgt_host *host, const char *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	const char *ent;
	GDir *d;

	d = g_dir_open(dir, 0, &error);
	if (!d) {
		WARN(host, "%s: cannot scan plugin directory: %s", dir,
		     error->message);
		return names;
	}
	while ((ent = g_dir_read_name(d)))
		if (g_str_has_suffix(ent, ".so") && strlen(ent) > 3)
			g_ptr_array_add(names, g_strdup(ent));
	g_dir_close(d);
	g_ptr_array_sort(names, str_ptr_cmp);
	return names;
}

/* Lock held: a record for dir/file unless the name is known already. */
static struct iopgt_plugin *scan_one(struct iopgt_host *host, const char *dir,
				     const char *file, unsigned int flags)
{
	g_autofree char *stem = g_strndup(file, strlen(file) - 3);
	g_autofree char *path = g_build_filename(dir, file, NULL);
	struct iopgt_plugin *old;

	if (!iopgt_name_is_valid(stem)) {
		WARN(host, "%s: ignored: '%s' is not a valid plugin name", path,
		     stem);
		return NULL;
	}
	old = iopgt_plugin_lookup(host, stem);
	if (old) {
		if (g_strcmp0(old->path, path))
			INFO(host, "%s: shadowed by %s", path,
			     iopgt_plugin_where(old));
		return NULL;
	}
	old = iopgt_plugin_new(host, stem, path);
	old->trusted = flags & IOPGT_DIR_TRUSTED;
	return old;
}

static void scan_dir(struct iopgt_host *host, const char *dir,
		     unsigned int flags, GPtrArray *found)
{
	g_autoptr(GPtrArray) names = list_dir(host, dir);

	iopgt_host_lock(host);
	for (guint i = 0; i < names->len; i++) {
		struct iopgt_plugin *p = scan_one(host, dir, names->pdata[i],
						  flags);

		if (p)
			g_ptr_array_add(found, iopgt_plugin_ref(p));
	}
	iopgt_host_unlock(host);
}

int iopgt_host_scan(struct iopgt_host *host)
{
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) flags = g_array_new(FALSE, FALSE,
					      sizeof(unsigned int));
	g_auto(GStrv) env_dirs = NULL;
	const char *env;

	g_return_val_if_fail(host, -EINVAL);
	found = g_ptr_array_new_with_free_func(iopgt_plugin_unref_cb);
	env = secure_getenv("IOPGT_PLUGIN_PATH");
	if (env && *env)
		env_dirs = g_strsplit(env, ":", -1);
	iopgt_host_lock(host);
	for (guint i = 0; i < host->plugin_dirs->len; i++) {
		g_ptr_array_add(dirs, g_strdup(host->plugin_dirs->pdata[i]));
		g_array_append_val(flags, g_array_index(host->plugin_dir_flags,
							unsigned int, i));
	}
	iopgt_host_unlock(host);
	for (char **d = env_dirs; d && *d; d++) {
		unsigned int none = 0;

		if (!**d)
			continue;
		g_ptr_array_add(dirs, g_strdup(*d));
		g_array_append_val(flags, none);
	}
	for (guint i = 0; i < dirs->len; i++)
		scan_dir(host, dirs->pdata[i],
			 g_array_index(flags, unsigned int, i), found);
	for (guint i = 0; i < found->len; i++)
		iopgt_discover_read_info(found->pdata[i]);
	iopgt_discover_flush_cache(host);
	return (int)found->len;
}

int iopgt_host_add_plugin_file(struct iopgt_host *host, const char *path,
			       struct iopgt_plugin **out)
{
	g_autofree char *base = NULL;
	g_autofree char *stem = NULL;
	struct iopgt_plugin *p;
	int ret = 0;

	g_return_val_if_fail(host && path, -EINVAL);
	if (out)
		*out = NULL;
	base = g_path_get_basename(path);
	if (!g_str_has_suffix(base, ".so") || strlen(base) <= 3) {
		ERR(host, "%s: not a plugin file name (NAME.so)", path);
		return -EINVAL;
	}
	stem = g_strndup(base, strlen(base) - 3);
	if (!iopgt_name_is_valid(stem)) {
		ERR(host, "%s: '%s' is not a valid plugin name", path, stem);
		return -EINVAL;
	}
	iopgt_host_lock(host);
	p = iopgt_plugin_lookup(host, stem);
	if (p && g_strcmp0(p->path, path)) {
		ERR(host, "%s: a plugin named '%s' is already known from %s",
		    path, p->name, iopgt_plugin_where(p));
		ret = -EEXIST;
		p = NULL;
	} else if (!p) {
		p = iopgt_plugin_new(host, stem, path);
	}
	if (p)
		iopgt_plugin_ref(p);
	iopgt_host_unlock(host);
	if (!p)
		return ret;
	iopgt_discover_read_info(p);
	iopgt_discover_flush_cache(host);
	if (out)
		*out = p;
	iopgt_plugin_unref(p);	/* the host's list still holds it */
	return 0;
}
