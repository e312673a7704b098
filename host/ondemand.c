// SPDX-License-Identifier: MIT
/*
 * The RFC's open problem: "format not loaded yet" could not be told from
 * "never available".  Here it can, because every plugin file's metadata
 * (elfinfo.c) says which formats it provides before any of its code runs.
 *
 * A table of a format nobody registered is then either
 *   - provided by a plugin that was never loaded: loaded on demand
 *     (request_module), or with on-demand loading off, -EAGAIN "which is
 *     not loaded" (the EPROBE_DEFER case: try again after loading it);
 *   - provided by a plugin that failed or was blacklisted: that reason;
 *   - provided by nobody: -ENOENT.
 */
#include <string.h>

#include "iopgt-internal.h"

static struct iopgt_plugin_info *info_copy(const struct iopgt_plugin_info *i)
{
	struct iopgt_plugin_info *c = g_new0(struct iopgt_plugin_info, 1);

	c->name = g_strdup(i->name);
	c->version = g_strdup(i->version);
	c->description = g_strdup(i->description);
	c->license = g_strdup(i->license);
	c->abi = g_strdup(i->abi);
	c->provides = g_strdupv(i->provides);
	c->softdeps = g_strdupv(i->softdeps);
	return c;
}

/* The plugin's own softdeps count as manifest lines of the host. */
static void merge_softdeps(struct iopgt_plugin *p)
{
	struct iopgt_host *host = p->host;
	g_autoptr(GPtrArray) diags = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *origin = g_strdup_printf("%s[" IOPGT_PLUGIN_INFO_SECTION
						  "]", p->path);
	g_autoptr(GString) text = g_string_new(NULL);

	for (char **d = p->info->softdeps; *d; d++)
		g_string_append_printf(text, "softdep %s %s\n", p->name, *d);
	if (!text->len)
		return;
	iopgt_manifest_parse_data(host->manifest, origin, text->str, text->len,
				  diags, NULL);
	for (guint i = 0; i < diags->len; i++)
		WARN(host, "%s", (char *)g_ptr_array_index(diags, i));
}

void iopgt_plugin_read_info(struct iopgt_plugin *p, bool *dirty)
{
	const struct iopgt_plugin_info *info;
	const char *why = NULL;

	if (p->info || p->info_error || !p->path)
		return;
	info = iopgt_cache_file_info(p->host->cache, p->path, dirty, &why);
	if (!info) {
		p->info_error = g_strdup(why ? why : "no metadata");
		DBG(p->host, "%s: no metadata: %s", p->path, p->info_error);
		return;
	}
	p->info = info_copy(info);
	merge_softdeps(p);
}

static bool strv_has(char **v, const char *s)
{
	return v && g_strv_contains((const char *const *)v, s);
}

/* The current (not retired) plugin that says it provides format. */
static struct iopgt_plugin *provider_of(struct iopgt_host *host,
					const char *format)
{
	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		if (p->retired)
			continue;
		if ((p->info && strv_has(p->info->provides, format)) ||
		    strv_has(p->provides, format))
			return p;
	}
	return NULL;
}

static int not_available(struct iopgt_host *host, const char *format,
			 struct iopgt_plugin *p)
{
	const char *why = p->error ? p->error : "no reason recorded";

	switch (p->state) {
	case IOPGT_PLUGIN_DISCOVERED:
	case IOPGT_PLUGIN_UNLOADED:
		ERR(host, "format '%s' is provided by plugin '%s', which is "
		    "not loaded", format, p->name);
		return -EAGAIN;
	case IOPGT_PLUGIN_FAILED:
		ERR(host, "format '%s' is provided by plugin '%s', which "
		    "failed: %s", format, p->name, why);
		return -ENOEXEC;
	case IOPGT_PLUGIN_BLACKLISTED:
		ERR(host, "format '%s' is provided by plugin '%s', which is "
		    "blacklisted: %s", format, p->name, why);
		return -EPERM;
	case IOPGT_PLUGIN_RESIDENT:
		ERR(host, "format '%s' is provided by plugin '%s', which stayed "
		    "resident after an unload and cannot be loaded again",
		    format, p->name);
		return -EALREADY;
	case IOPGT_PLUGIN_GOING:
		ERR(host, "format '%s': plugin '%s' is unloading", format,
		    p->name);
		return -ESHUTDOWN;
	case IOPGT_PLUGIN_LOADED:
		break;
	}
	ERR(host, "format '%s': plugin '%s' says it provides it but did not "
	    "register it", format, p->name);
	return -ENOENT;
}

int iopgt_registry_find_format(struct iopgt_host *host, const char *format,
			       struct iopgt_format_entry **out)
{
	struct iopgt_format_entry *e = iopgt_registry_lookup(host, format);
	struct iopgt_plugin *p;

	if (e) {
		iopgt_plugin_check_deadline(e->plugin);
		if (e->plugin->state != IOPGT_PLUGIN_LOADED)
			return not_available(host, format, e->plugin);
		*out = e;
		return 0;
	}
	p = provider_of(host, format);
	if (!p) {
		ERR(host, "no plugin provides format '%s'", format);
		return -ENOENT;
	}
	/* request_module: only a plugin never loaded; an unloaded one was
	 * unloaded on purpose */
	if (host->autoload && p->state == IOPGT_PLUGIN_DISCOVERED) {
		INFO(host, "format '%s': loading plugin '%s' on demand", format,
		     p->name);
		iopgt_registry_load_by_name(host, p->name);
		e = iopgt_registry_lookup(host, format);
		if (e && e->plugin->state == IOPGT_PLUGIN_LOADED) {
			*out = e;
			return 0;
		}
	}
	return not_available(host, format, p);
}

void iopgt_host_set_autoload(struct iopgt_host *host, bool autoload)
{
	g_return_if_fail(host);
	g_rec_mutex_lock(&host->lock);
	host->autoload = autoload;
	g_rec_mutex_unlock(&host->lock);
}

static const char *file_info(const struct iopgt_plugin *p, const char *key)
{
	if (!p->info)
		return NULL;
	if (!strcmp(key, "name"))
		return p->info->name;
	if (!strcmp(key, "version"))
		return p->info->version;
	if (!strcmp(key, "description"))
		return p->info->description;
	if (!strcmp(key, "license"))
		return p->info->license;
	if (!strcmp(key, "abi"))
		return p->info->abi;
	return NULL;
}

/* The metadata of a record is set once and never changes after: the
 * lock only orders that one write with the readers. */
const char *iopgt_plugin_get_file_info(const struct iopgt_plugin *p,
				       const char *key)
{
	const char *v;

	g_return_val_if_fail(p && key, NULL);
	g_rec_mutex_lock(&p->host->lock);
	v = file_info(p, key);
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

const char *iopgt_plugin_get_info_error(const struct iopgt_plugin *p)
{
	const char *v;

	g_return_val_if_fail(p, NULL);
	g_rec_mutex_lock(&p->host->lock);
	v = p->info_error;
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

static char **dup_info_strv(const struct iopgt_plugin *p, bool softdeps)
{
	char **v;

	g_rec_mutex_lock(&p->host->lock);
	v = g_strdupv(!p->info ? (char *[]){ NULL } :
		      softdeps ? p->info->softdeps : p->info->provides);
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

char **iopgt_plugin_dup_provides(const struct iopgt_plugin *p)
{
	g_return_val_if_fail(p, NULL);
	return dup_info_strv(p, false);
}

char **iopgt_plugin_dup_softdeps(const struct iopgt_plugin *p)
{
	g_return_val_if_fail(p, NULL);
	return dup_info_strv(p, true);
}
