// SPDX-License-Identifier: MIT
/*
 * The host context: refcount, log function, userdata, simulated memory.
 * It owns every other object, so each test can build a fresh one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "iopgt-internal.h"

#define IOPGT_DEFAULT_MEM_SIZE	(16ULL << 30)
#define IOPGT_DEFAULT_PROBE_TIMEOUT_MS	5000

static void log_stderr(void *data, int priority, const char *file, int line,
		       const char *fn, const char *format, va_list args)
{
	(void)data;
	(void)file;
	(void)line;
	fprintf(stderr, "iopgt: %s%s", priority <= IOPGT_LOG_ERR ? "error: " :
		priority == IOPGT_LOG_WARNING ? "warning: " : "",
		priority >= IOPGT_LOG_DEBUG ? fn : "");
	if (priority >= IOPGT_LOG_DEBUG)
		fputs(": ", stderr);
	vfprintf(stderr, format, args);
	if (!*format || format[strlen(format) - 1] != '\n')
		fputc('\n', stderr);
}

/* "err", "warning", "info", "debug" or a number, as KMOD_LOG. */
static int log_priority_from_string(const char *s)
{
	static const struct {
		const char *name;
		int prio;
	} names[] = {
		{ "err", IOPGT_LOG_ERR },	{ "error", IOPGT_LOG_ERR },
		{ "warning", IOPGT_LOG_WARNING }, { "info", IOPGT_LOG_INFO },
		{ "debug", IOPGT_LOG_DEBUG },
	};
	char *end;
	long v;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (!g_ascii_strcasecmp(s, names[i].name))
			return names[i].prio;
	v = strtol(s, &end, 10);
	if (end != s && !*end && v >= 0 && v <= IOPGT_LOG_DEBUG)
		return (int)v;
	return -1;
}

struct iopgt_host *iopgt_host_new(void)
{
	struct iopgt_host *host = g_new0(struct iopgt_host, 1);
	const char *env;

	host->refcount = 1;
	g_rec_mutex_init(&host->lock);
	host->log_fn = log_stderr;
	host->log_priority = IOPGT_LOG_WARNING;
	env = secure_getenv("IOPGT_LOG");
	if (env && log_priority_from_string(env) >= 0)
		host->log_priority = log_priority_from_string(env);
	host->plugin_dirs = g_ptr_array_new_with_free_func(g_free);
	host->plugin_dir_flags = g_array_new(FALSE, FALSE,
					     sizeof(unsigned int));
	host->probe = true;
	host->autoload = true;
	host->probe_timeout_ms = IOPGT_DEFAULT_PROBE_TIMEOUT_MS;
	host->cache = iopgt_cache_new();
	host->manifest = iopgt_manifest_new();
	host->plugins = g_ptr_array_new();
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
	for (guint i = 0; i < host->plugins->len; i++)
		iopgt_plugin_destroy(g_ptr_array_index(host->plugins, i));
	g_ptr_array_unref(host->plugins);
	g_hash_table_unref(host->plugins_by_name);
	g_hash_table_unref(host->formats);
	g_ptr_array_unref(host->plugin_dirs);
	g_array_unref(host->plugin_dir_flags);
	iopgt_cache_free(host->cache);
	iopgt_manifest_free(host->manifest);
	iopgt_physmem_free(host->pm);
	g_rec_mutex_clear(&host->lock);
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

void iopgt_host_set_log_fn(struct iopgt_host *host, iopgt_log_fn fn,
			   void *data)
{
	g_return_if_fail(host);
	host->log_fn = fn ? fn : log_stderr;
	host->log_data = fn ? data : NULL;
}

int iopgt_host_get_log_priority(const struct iopgt_host *host)
{
	g_return_val_if_fail(host, 0);
	return atomic_load(&((struct iopgt_host *)host)->log_priority);
}

void iopgt_host_set_log_priority(struct iopgt_host *host, int priority)
{
	g_return_if_fail(host);
	atomic_store(&host->log_priority, priority);
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

void iopgt_log(struct iopgt_host *host, int priority, const char *file,
	       int line, const char *fn, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	host->log_fn(host->log_data, priority, file, line, fn, format, args);
	va_end(args);
}

int iopgt_host_set_mem_size(struct iopgt_host *host, uint64_t bytes)
{
	int ret = 0;

	g_return_val_if_fail(host, -EINVAL);
	if (bytes < 16 * IOPGT_PHYS_PAGE)
		return -EINVAL;
	g_rec_mutex_lock(&host->lock);
	if (host->pm)
		ret = -EBUSY;
	else
		host->mem_size = bytes;
	g_rec_mutex_unlock(&host->lock);
	return ret;
}

void iopgt_host_set_mem_limit(struct iopgt_host *host, uint64_t bytes)
{
	g_return_if_fail(host);
	g_rec_mutex_lock(&host->lock);
	host->mem_limit = bytes;
	if (host->pm)
		iopgt_physmem_set_limit(host->pm, bytes);
	g_rec_mutex_unlock(&host->lock);
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
	g_rec_mutex_lock(&host->lock);
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
	g_rec_mutex_unlock(&host->lock);
}

int iopgt_host_get_table_count(struct iopgt_host *host)
{
	g_return_val_if_fail(host, -EINVAL);
	return atomic_load(&host->tables);
}

int iopgt_host_add_plugin_dir_full(struct iopgt_host *host, const char *dir,
				   unsigned int flags)
{
	g_return_val_if_fail(host && dir, -EINVAL);
	if (!*dir || (flags & ~IOPGT_DIR_TRUSTED))
		return -EINVAL;
	g_rec_mutex_lock(&host->lock);
	g_ptr_array_add(host->plugin_dirs, g_strdup(dir));
	g_array_append_val(host->plugin_dir_flags, flags);
	g_rec_mutex_unlock(&host->lock);
	return 0;
}

int iopgt_host_add_plugin_dir(struct iopgt_host *host, const char *dir)
{
	return iopgt_host_add_plugin_dir_full(host, dir, 0);
}

void iopgt_host_set_allow_insecure(struct iopgt_host *host, bool allow)
{
	g_return_if_fail(host);
	g_rec_mutex_lock(&host->lock);
	host->allow_insecure = allow;
	g_rec_mutex_unlock(&host->lock);
}

void iopgt_host_set_probe(struct iopgt_host *host, bool probe)
{
	g_return_if_fail(host);
	g_rec_mutex_lock(&host->lock);
	host->probe = probe;
	g_rec_mutex_unlock(&host->lock);
}

void iopgt_host_set_probe_timeout(struct iopgt_host *host,
				  unsigned int timeout_ms)
{
	g_return_if_fail(host);
	g_rec_mutex_lock(&host->lock);
	host->probe_timeout_ms = MAX(timeout_ms, 1u);
	g_rec_mutex_unlock(&host->lock);
}

int iopgt_host_set_cache_file(struct iopgt_host *host, const char *path)
{
	g_autofree char *why = NULL;
	int ret;

	g_return_val_if_fail(host, -EINVAL);
	g_rec_mutex_lock(&host->lock);
	ret = iopgt_cache_set_file(host->cache, path, &why);
	g_rec_mutex_unlock(&host->lock);
	if (ret)
		WARN(host, "probe cache: %s", why);
	return ret;
}

void iopgt_host_get_probe_stats(struct iopgt_host *host,
				struct iopgt_probe_stats *stats)
{
	g_return_if_fail(host && stats);
	g_rec_mutex_lock(&host->lock);
	*stats = host->probe_stats;
	g_rec_mutex_unlock(&host->lock);
}

gboolean iopgt_host_load_manifest(struct iopgt_host *host, const char *path,
				  GError **error)
{
	GPtrArray *diags = g_ptr_array_new_with_free_func(g_free);
	gboolean ok;

	g_return_val_if_fail(host && path, FALSE);
	g_rec_mutex_lock(&host->lock);
	ok = iopgt_manifest_parse_file(host->manifest, path, diags, error);
	g_rec_mutex_unlock(&host->lock);
	for (guint i = 0; i < diags->len; i++)
		ERR(host, "%s", (char *)g_ptr_array_index(diags, i));
	g_ptr_array_unref(diags);
	return ok;
}
