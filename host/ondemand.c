// SPDX-License-Identifier: MIT
/*
 * On-demand loading: the RFC's open problem was that "format not loaded
 * yet" could not be told from "never available".  Here it can, because
 * every plugin file's metadata (discover.c) says which formats it
 * provides before any of its code runs.
 *
 * A table of a format nobody registered is then either
 *   - provided by a plugin that was never loaded: loaded on demand
 *     (request_module), or with on-demand loading off, -EAGAIN "which is
 *     not loaded" (the EPROBE_DEFER case: try again after loading it);
 *   - provided by a plugin that failed or was blacklisted: that reason;
 *   - provided by nobody: -ENOENT.
 * A plugin whose metadata claims a format its register_fn does not
 * register is named as lying, and the next provider is tried.
 *
 * A table of a format whose plugin is being loaded by another thread waits
 * for that load; nothing here holds the host lock across a load.
 */
#include <string.h>

#include "iopgt-internal.h"

/* "#N", the default label, without printf (a tenth of an empty alloc). */
static char *serial_label(uint64_t serial)
{
	char buf[24], *p = buf + sizeof(buf);

	*--p = '\0';
	do {
		*--p = (char)('0' + serial % 10);
		serial /= 10;
	} while (serial);
	*--p = '#';
	return g_strdup(p);
}

/*
 * Lock held: e's plugin is LOADED; t takes a use of it.  Its memory comes
 * from t->mem.prov if the caller named a provider (with a reference for
 * the table's alloc), else from the host's default provider (a reference
 * taken here, unless it is going), else from the simulated memory.
 */
static int attach(struct iopgt_host *host, struct iopgt_format_entry *e,
		  struct iopgt_table_priv *t)
{
	struct iopgt_mem_provider *prov = t->mem.prov;
	struct iopgt_physmem *pm = NULL;
	int ret;

	if (!prov && host->mem_provider &&
	    iopgt_provider_tryref(host->mem_provider))
		prov = host->mem_provider;
	if (!prov) {
		ret = iopgt_host_get_physmem(host, &pm);
		if (ret < 0)
			return ret;
	}
	t->head.host = host;
	t->plugin = e->plugin;
	t->fmt = e->fmt;
	iopgt_mem_init(&t->mem, host, pm, prov);
	t->env = (struct iopgt_env){
		.svc = &iopgt_host_services,
		.mem = &t->mem,
		.log_ctx = host,
		.pa_to_va = t->mem.pa_to_va,
	};
	t->serial = atomic_fetch_add(&host->table_serial, 1) + 1;
	t->label = serial_label(t->serial);
	t->plugin->users++;
	g_hash_table_add(t->plugin->holders, t);
	return 0;
}

/*
 * Lock held.  Returns: 1 when the format is registered by a loaded plugin
 * (*out set), 0 when it is not registered, -EAGAIN after waiting for a
 * load (look again), or why the registered one is not usable.
 */
static int registered(struct iopgt_host *host, const char *format,
		      struct iopgt_format_entry **out)
{
	struct iopgt_format_entry *e = iopgt_registry_lookup(host, format);

	if (!e)
		return 0;
	if (e->plugin->loading) {
		iopgt_host_wait(host);
		return -EAGAIN;
	}
	iopgt_plugin_sync_deadline(e->plugin);
	if (e->plugin->state != IOPGT_PLUGIN_LOADED)
		return iopgt_registry_not_available(host, format, e->plugin);
	*out = e;
	return 1;
}

/* " (not read: PATH: why; ...)" for files whose metadata was refused,
 * which might have said they provide it; "" if none.  Lock held. */
static char *unread_files(struct iopgt_host *host)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		if (p->retired || !p->info_error ||
		    !g_str_has_prefix(p->info_error, "not read: "))
			continue;
		g_string_append_printf(s, "%s%s: %s", s->len ? "; " :
				       " (not read: ", p->path,
				       p->info_error + strlen("not read: "));
	}
	if (s->len)
		g_string_append_c(s, ')');
	return g_strdup(s->str);
}

/*
 * Lock held, dropped while a provider loads.  Returns: 1 when something
 * changed (look again), or -errno for the first provider that cannot give
 * the format.
 */
static int try_providers(struct iopgt_host *host, const char *format)
{
	g_autoptr(GPtrArray) providers = iopgt_registry_providers(host, format);
	struct iopgt_plugin *first = NULL;

	if (!providers->len) {
		g_autofree char *unread = unread_files(host);

		ERR(host, "no plugin provides format '%s'%s", format, unread);
		return -ENOENT;
	}
	for (guint i = 0; i < providers->len; i++) {
		struct iopgt_plugin *p = providers->pdata[i];

		if (p->loading) {
			iopgt_host_wait(host);
			return 1;
		}
		/* request_module: only a plugin never loaded; an unloaded
		 * one was unloaded on purpose */
		if (host->autoload && p->state == IOPGT_PLUGIN_DISCOVERED) {
			g_autofree char *name = g_strdup(p->name);

			INFO(host, "format '%s': loading plugin '%s' on demand",
			     format, name);
			iopgt_host_unlock(host);
			iopgt_load_by_name(host, name);
			iopgt_discover_flush_cache(host);
			iopgt_host_lock(host);
			return 1;
		}
		if (p->state == IOPGT_PLUGIN_LOADED) {
			WARN(host, "format '%s': plugin '%s' says it provides "
			     "it but did not register it", format, p->name);
			continue;
		}
		if (!first)
			first = p;
	}
	if (!first) {
		ERR(host, "no plugin that says it provides format '%s' "
		    "registered it", format);
		return -ENOENT;
	}
	return iopgt_registry_not_available(host, format, first);
}

int iopgt_ondemand_attach(struct iopgt_host *host, const char *format,
			  struct iopgt_table_priv *t)
{
	struct iopgt_format_entry *e = NULL;
	/* each pass either attaches, fails, or saw a load finish: a
	 * provider is loaded at most once, so this ends */
	int ret;

	iopgt_host_lock(host);
	for (;;) {
		ret = registered(host, format, &e);
		if (ret == -EAGAIN)
			continue;
		if (ret == 1) {
			ret = attach(host, e, t);
			break;
		}
		if (ret < 0)
			break;
		ret = try_providers(host, format);
		if (ret <= 0)
			break;
	}
	iopgt_host_unlock(host);
	return ret;
}

void iopgt_host_set_autoload(struct iopgt_host *host, bool autoload)
{
	g_return_if_fail(host);
	iopgt_host_lock(host);
	host->autoload = autoload;
	iopgt_host_unlock(host);
}
