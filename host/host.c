// SPDX-License-Identifier: MIT
/*
 * The host context: refcount, log function, userdata, simulated memory.
 * It owns every other object, so each test can build a fresh one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "iopgt-internal.h"

#define IOPGT_DEFAULT_MEM_SIZE	(16ULL << 30)
#define IOPGT_DEFAULT_PROBE_TIMEOUT_MS	5000

/* ---- the context ---------------------------------------------------------------- */

struct iopgt_host *iopgt_host_new(void)
{
	struct iopgt_host *host = g_new0(struct iopgt_host, 1);

	host->refcount = 1;
	pthread_mutex_init(&host->lock, NULL);
	pthread_mutex_init(&host->cache_lock, NULL);
	iopgt_host_cond_init(&host->changed);
	iopgt_log_init(host);
	host->plugin_dirs = g_ptr_array_new_with_free_func(g_free);
	host->plugin_dir_flags = g_array_new(FALSE, FALSE,
					     sizeof(unsigned int));
	host->probe = true;
	host->autoload = true;
	host->probe_timeout_ms = IOPGT_DEFAULT_PROBE_TIMEOUT_MS;
	host->cache = iopgt_cache_new();
	host->manifest = iopgt_manifest_new();
	host->plugins = g_ptr_array_new_with_free_func(iopgt_plugin_unref_cb);
	host->plugins_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	host->formats = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					      g_free);
	host->mem_size = IOPGT_DEFAULT_MEM_SIZE;
	return host;
}

struct iopgt_host *iopgt_host_ref(struct iopgt_host *host)
{
	g_return_val_if_fail(host, NULL);
	atomic_fetch_add(&host->refcount, 1);
	return host;
}

static void host_destroy(struct iopgt_host *host)
{
	/* Tables hold host references, so none is alive here. */
	iopgt_host_unload_all(host);
	g_hash_table_unref(host->plugins_by_name);
	g_ptr_array_unref(host->plugins);
	g_hash_table_unref(host->formats);
	g_ptr_array_unref(host->plugin_dirs);
	g_array_unref(host->plugin_dir_flags);
	iopgt_cache_free(host->cache);
	iopgt_manifest_free(host->manifest);
	iopgt_physmem_free(host->pm);
	iopgt_log_fini(host);
	pthread_cond_destroy(&host->changed);
	pthread_mutex_destroy(&host->cache_lock);
	pthread_mutex_destroy(&host->lock);
	g_free(host);
}

struct iopgt_host *iopgt_host_unref(struct iopgt_host *host)
{
	if (!host)
		return NULL;
	if (atomic_fetch_sub(&host->refcount, 1) > 1)
		return host;
	host_destroy(host);
	return NULL;
}

void iopgt_host_set_userdata(struct iopgt_host *host, void *userdata)
{
	g_return_if_fail(host);
	host->userdata = userdata;
}

void *iopgt_host_get_userdata(const struct iopgt_host *host)
{
	g_return_val_if_fail(host, NULL);
	return host->userdata;
}

int iopgt_host_set_mem_size(struct iopgt_host *host, uint64_t bytes)
{
	int ret = 0;

	g_return_val_if_fail(host, -EINVAL);
	if (bytes < 16 * IOPGT_PHYS_PAGE)
		return -EINVAL;
	iopgt_host_lock(host);
	if (host->pm)
		ret = -EBUSY;
	else
		host->mem_size = bytes;
	iopgt_host_unlock(host);
	return ret;
}

void iopgt_host_set_mem_limit(struct iopgt_host *host, uint64_t bytes)
{
	g_return_if_fail(host);
	iopgt_host_lock(host);
	host->mem_limit = bytes;
	if (host->pm)
		iopgt_physmem_set_limit(host->pm, bytes);
	iopgt_host_unlock(host);
}

int iopgt_host_get_physmem(struct iopgt_host *host, struct iopgt_physmem **out)
{
	int ret;

	if (!host->pm) {
		ret = iopgt_physmem_new(host->mem_size, &host->pm);
		if (ret < 0) {
			ERR(host, "cannot reserve %" G_GUINT64_FORMAT
			    " bytes of simulated memory: %s",
			    host->mem_size, g_strerror(-ret));
			return ret;
		}
		iopgt_physmem_set_limit(host->pm, host->mem_limit);
	}
	*out = host->pm;
	return 0;
}

void iopgt_host_get_mem_stats(struct iopgt_host *host,
			      struct iopgt_mem_stats *stats)
{
	g_return_if_fail(host && stats);
	*stats = (struct iopgt_mem_stats){ 0 };
	iopgt_host_lock(host);
	stats->syncs = atomic_load(&host->retired_syncs);
	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);
		GHashTableIter it;
		gpointer key;

		if (!p->holders)
			continue;
		g_hash_table_iter_init(&it, p->holders);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			struct iopgt_table_priv *t = key;
			struct iopgt_mem_stats s;

			iopgt_mem_get_stats(&t->mem, &s);
			stats->table_bytes += s.table_bytes;
			stats->table_allocs += s.table_allocs;
			stats->peak_table_bytes += s.peak_table_bytes;
			stats->state_bytes += s.state_bytes;
			stats->syncs += s.syncs;
		}
	}
	/* What the simulated memory says is the ground truth for bytes. */
	if (host->pm)
		stats->table_bytes = iopgt_physmem_in_use(host->pm);
	iopgt_host_unlock(host);
}

int iopgt_host_get_table_count(struct iopgt_host *host)
{
	g_return_val_if_fail(host, -EINVAL);
	return atomic_load(&host->tables);
}

int iopgt_host_add_plugin_dir_full(struct iopgt_host *host, const char *dir,
				   unsigned int flags)
{
	struct stat st;

	g_return_val_if_fail(host && dir, -EINVAL);
	if (!*dir || (flags & ~IOPGT_DIR_TRUSTED))
		return -EINVAL;
	/* a typo in a directory name must not look like "no plugins" */
	if (stat(dir, &st)) {
		int ret = -errno;

		ERR(host, "%s: cannot use as a plugin directory: %s", dir,
		    g_strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		ERR(host, "%s: cannot use as a plugin directory: not a "
		    "directory", dir);
		return -ENOTDIR;
	}
	iopgt_host_lock(host);
	g_ptr_array_add(host->plugin_dirs, g_strdup(dir));
	g_array_append_val(host->plugin_dir_flags, flags);
	iopgt_host_unlock(host);
	return 0;
}

int iopgt_host_add_plugin_dir(struct iopgt_host *host, const char *dir)
{
	return iopgt_host_add_plugin_dir_full(host, dir, 0);
}

void iopgt_host_set_allow_insecure(struct iopgt_host *host, bool allow)
{
	g_return_if_fail(host);
	iopgt_host_lock(host);
	host->allow_insecure = allow;
	iopgt_host_unlock(host);
}

void iopgt_host_set_probe(struct iopgt_host *host, bool probe)
{
	g_return_if_fail(host);
	iopgt_host_lock(host);
	host->probe = probe;
	iopgt_host_unlock(host);
}

void iopgt_host_set_probe_timeout(struct iopgt_host *host,
				  unsigned int timeout_ms)
{
	g_return_if_fail(host);
	iopgt_host_lock(host);
	host->probe_timeout_ms = MAX(timeout_ms, 1u);
	iopgt_host_unlock(host);
}

int iopgt_host_set_cache_file(struct iopgt_host *host, const char *path)
{
	g_autofree char *why = NULL;
	int ret;

	g_return_val_if_fail(host, -EINVAL);
	/* file I/O: the cache's own lock, never the host's */
	pthread_mutex_lock(&host->cache_lock);
	ret = iopgt_cache_set_file(host->cache, path, &why);
	pthread_mutex_unlock(&host->cache_lock);
	if (ret)
		WARN(host, "plugin cache: %s", why);
	return ret;
}

void iopgt_host_get_probe_stats(struct iopgt_host *host,
				struct iopgt_probe_stats *stats)
{
	g_return_if_fail(host && stats);
	iopgt_host_lock(host);
	*stats = host->probe_stats;
	iopgt_host_unlock(host);
}

/* ---- the manifest ------------------------------------------------------------ */

/*
 * Read the file without the host lock (a slow disk holds up nobody), then
 * parse it into the host's manifest under the lock.  Returns as
 * iopgt_manifest_add_file().
 */
static int add_manifest(struct iopgt_host *host, const char *path,
			GError **error)
{
	g_autoptr(GPtrArray) diags = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *data = NULL;
	gsize len = 0;
	int ret = 0;

	data = iopgt_manifest_read_file(path, &len, &ret, error);
	if (!data) {
		ERR(host, "%s", (*error)->message);
		return ret;
	}
	iopgt_host_lock(host);
	if (!iopgt_manifest_parse_data(host->manifest, path, data, len, diags,
				       error))
		ret = -EBADMSG;
	iopgt_host_unlock(host);
	for (guint i = 0; i < diags->len; i++)
		ERR(host, "%s", (char *)g_ptr_array_index(diags, i));
	return ret;
}

int iopgt_host_add_manifest(struct iopgt_host *host, const char *path)
{
	g_autoptr(GError) error = NULL;

	g_return_val_if_fail(host && path, -EINVAL);
	return add_manifest(host, path, &error);
}

gboolean iopgt_host_load_manifest(struct iopgt_host *host, const char *path,
				  GError **error)
{
	GError *local = NULL;
	int ret;

	g_return_val_if_fail(host && path, FALSE);
	ret = add_manifest(host, path, &local);
	if (local)
		g_propagate_error(error, local);
	return ret == 0;
}

/* ---- lookups ----------------------------------------------------------------- */

struct iopgt_plugin *iopgt_host_find_plugin(struct iopgt_host *host,
					    const char *name)
{
	struct iopgt_plugin *p;

	g_return_val_if_fail(host && name, NULL);
	iopgt_host_lock(host);
	p = iopgt_plugin_lookup(host, name);
	iopgt_host_unlock(host);
	return p;
}

/* Lock held: the entry of a format whose plugin finished loading. */
static struct iopgt_format_entry *usable_entry(struct iopgt_host *host,
					       const char *format)
{
	struct iopgt_format_entry *e = iopgt_registry_lookup(host, format);

	return e && !e->plugin->loading ? e : NULL;
}

struct iopgt_plugin *iopgt_host_find_format(struct iopgt_host *host,
					    const char *format)
{
	struct iopgt_format_entry *e;
	struct iopgt_plugin *p;

	g_return_val_if_fail(host && format, NULL);
	iopgt_host_lock(host);
	e = usable_entry(host, format);
	p = e ? e->plugin : NULL;
	iopgt_host_unlock(host);
	return p;
}

void iopgt_format_fill_defaults(const struct iopgt_format *fmt,
				struct iopgt_cfg *cfg)
{
	if (!cfg->ias)
		cfg->ias = fmt->default_ias;
	if (!cfg->oas)
		cfg->oas = fmt->default_oas;
	if (!cfg->pgsize_bitmap)
		cfg->pgsize_bitmap = fmt->default_pgsize_bitmap;
}

/* Under the lock: the file metadata of the first plugin that says it
 * provides format and gives its defaults, as on-demand loading would pick
 * it (iopgt_registry_providers()); nothing is mapped. */
static int file_format_defaults(struct iopgt_host *host, const char *format,
				struct iopgt_cfg *cfg)
{
	g_autoptr(GPtrArray) providers = iopgt_registry_providers(host, format);

	for (guint i = 0; i < providers->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(providers, i);

		if (p->info &&
		    !iopgt_plugin_info_fill_defaults(p->info, format, cfg))
			return 0;
	}
	return -ENOENT;
}

int iopgt_host_get_format_defaults(struct iopgt_host *host, const char *format,
				   struct iopgt_cfg *cfg)
{
	struct iopgt_format_entry *e;
	int ret = 0;

	g_return_val_if_fail(host && format && cfg, -EINVAL);
	iopgt_host_lock(host);
	e = usable_entry(host, format);
	if (e)
		iopgt_format_fill_defaults(e->fmt, cfg);
	else
		ret = file_format_defaults(host, format, cfg);
	iopgt_host_unlock(host);
	return ret;
}

/* As file_format_defaults: the first provider whose file has a record. */
static int file_format_has_foreign(struct iopgt_host *host,
				   const char *format)
{
	g_autoptr(GPtrArray) providers = iopgt_registry_providers(host, format);

	for (guint i = 0; i < providers->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(providers, i);
		int ret = p->info ?
			  iopgt_plugin_info_has_foreign(p->info, format) :
			  -ENOENT;

		if (ret >= 0)
			return ret;
	}
	return -ENOENT;
}

int iopgt_host_format_has_foreign(struct iopgt_host *host, const char *format)
{
	struct iopgt_format_entry *e;
	int ret;

	g_return_val_if_fail(host && format, -EINVAL);
	iopgt_host_lock(host);
	e = usable_entry(host, format);
	ret = e ? e->fmt->foreign != NULL :
		  file_format_has_foreign(host, format);
	iopgt_host_unlock(host);
	return ret;
}

static gint plugin_order_cmp(gconstpointer a, gconstpointer b)
{
	const struct iopgt_plugin *x = *(void *const *)a;
	const struct iopgt_plugin *y = *(void *const *)b;

	if ((x->load_index < 0) != (y->load_index < 0))
		return x->load_index < 0 ? 1 : -1;
	if (x->load_index != y->load_index)
		return x->load_index < y->load_index ? -1 : 1;
	return strcmp(x->name, y->name);
}

void iopgt_host_foreach_plugin(struct iopgt_host *host, iopgt_plugin_fn fn,
			       void *data)
{
	g_autoptr(GPtrArray) list = NULL;

	g_return_if_fail(host && fn);
	list = g_ptr_array_new_with_free_func(iopgt_plugin_unref_cb);
	iopgt_host_lock(host);
	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		iopgt_plugin_sync_deadline(p);
		/* a replaced version is shown while its tables live */
		if (p->retired && p->state != IOPGT_PLUGIN_GOING)
			continue;
		g_ptr_array_add(list, iopgt_plugin_ref(p));
	}
	g_ptr_array_sort(list, plugin_order_cmp);
	iopgt_host_unlock(host);
	/* the user's code runs without the lock: it may call back in */
	for (guint i = 0; i < list->len; i++)
		fn(g_ptr_array_index(list, i), data);
}

/* ---- installed defaults ------------------------------------------------------- */

const char *iopgt_get_default_plugin_dir(void)
{
	return IOPGT_DEFAULT_PLUGIN_DIR;
}

const char *iopgt_get_default_manifest(void)
{
	return IOPGT_DEFAULT_MANIFEST;
}
