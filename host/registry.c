// SPDX-License-Identifier: MIT
/*
 * The format table: format names and aliases -> (format, plugin record),
 * filled by plugins' register_fn through the registrar.  A name can be
 * registered once: the first stays, a second registration gets -EEXIST.
 *
 * register_fn runs without the host lock (it is plugin code: it may be
 * slow); the registrar takes the lock for each format it puts in the
 * table.  While the plugin is still loading its formats are in the table
 * but not usable: a table of one waits for the load (ondemand.c).
 *
 * Also here: which records say (in their file metadata, or as a probe
 * saw) that they provide a format, and the words for why one that does
 * cannot give it now; and whether a format registered as its file's
 * record said (the foreign-walk flag).
 */
#include <string.h>

#include "iopgt-internal.h"

struct iopgt_format_entry *iopgt_registry_lookup(struct iopgt_host *host,
						 const char *format)
{
	return g_hash_table_lookup(host->formats, format);
}

static void registry_insert(struct iopgt_host *host, const char *key,
			    const struct iopgt_format *fmt,
			    struct iopgt_plugin *plugin)
{
	struct iopgt_format_entry *e = g_new(struct iopgt_format_entry, 1);

	e->fmt = fmt;
	e->plugin = plugin;
	g_hash_table_insert(host->formats, (gpointer)key, e);
}

static void registry_remove_format(struct iopgt_host *host,
				   const struct iopgt_format *fmt)
{
	g_hash_table_remove(host->formats, fmt->name);
	if (fmt->alias)
		g_hash_table_remove(host->formats, fmt->alias);
}

/* Lock held. */
static void registry_add_format(struct iopgt_plugin *p,
				const struct iopgt_format *fmt)
{
	registry_insert(p->host, fmt->name, fmt, p);
	if (fmt->alias && strcmp(fmt->alias, fmt->name))
		registry_insert(p->host, fmt->alias, fmt, p);
	g_ptr_array_add(p->formats, (gpointer)fmt);
}

void iopgt_registry_drop_plugin(struct iopgt_host *host,
				struct iopgt_plugin *p)
{
	for (guint i = 0; i < p->formats->len; i++)
		registry_remove_format(host, g_ptr_array_index(p->formats, i));
	g_ptr_array_set_size(p->formats, 0);
}

void iopgt_registry_restore(struct iopgt_plugin *p, GPtrArray *formats)
{
	for (guint i = 0; i < formats->len; i++)
		registry_add_format(p, g_ptr_array_index(formats, i));
}

/* ---- the registrar ------------------------------------------------------- */

/*
 * One run of register_fn: the plugin, and the first thing the registrar
 * refused, which becomes part of the failure reason if register_fn fails.
 */
struct activation {
	struct iopgt_plugin *plugin;
	char *refused;
	unsigned int abi_minor;		/* the descriptor's */
};

static int activation_refuse(struct activation *act, char *why, int err)
{
	struct iopgt_plugin *p = act->plugin;

	ERR(p->host, "%s: %s", iopgt_plugin_where(p), why);
	if (!act->refused)
		act->refused = why;
	else
		g_free(why);
	return err;
}

static bool format_is_wellformed(const struct iopgt_format *fmt)
{
	return fmt && iopgt_format_name_is_valid(fmt->name) && fmt->alloc &&
	       fmt->free &&
	       (!fmt->alias || iopgt_format_name_is_valid(fmt->alias));
}

/*
 * The file's record of fmt says whether it walks foreign tables, so that
 * a host can tell without loading the plugin (plugin.h,
 * IOPGT_FORMAT_INFO_FOREIGN); a record that says otherwise than the
 * registered format misleads that host, so say so.  Records before ABI
 * 1.5 had no flag, and a plugin without records says nothing.  Lock held
 * (p->info is set once before the record is seen).  Returns: the warning,
 * or NULL.
 */
static char *foreign_mismatch(const struct activation *act,
			      const struct iopgt_format *fmt)
{
	const struct iopgt_plugin *p = act->plugin;
	int said;

	if (!p->info || act->abi_minor < 5)
		return NULL;
	said = iopgt_plugin_info_has_foreign(p->info, fmt->name);
	if (said < 0 || said == !!fmt->foreign)
		return NULL;
	return said ? g_strdup_printf("format '%s': its metadata says it walks "
				      "foreign tables, but it has no foreign op",
				      fmt->name) :
		      g_strdup_printf("format '%s' has a foreign op its metadata "
				      "does not say (define it with "
				      "IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN)",
				      fmt->name);
}

static int registrar_register_format(struct iopgt_registrar *reg,
				     const struct iopgt_format *fmt)
{
	struct activation *act = reg->host_priv;
	struct iopgt_plugin *p = act->plugin;
	struct iopgt_host *host = p->host;
	struct iopgt_format_entry *e = NULL;
	g_autofree char *mismatch = NULL;
	const char *taken = NULL;

	if (!format_is_wellformed(fmt))
		return activation_refuse(act, g_strdup_printf(
			"malformed format '%s' (name, alias, alloc and free "
			"must be set)", fmt && fmt->name &&
			!iopgt_text_problem(fmt->name, 64) ? fmt->name : "?"),
			-EINVAL);
	iopgt_host_lock(host);
	e = iopgt_registry_lookup(host, fmt->name);
	taken = e ? fmt->name : NULL;
	if (!e && fmt->alias && strcmp(fmt->alias, fmt->name)) {
		e = iopgt_registry_lookup(host, fmt->alias);
		taken = e ? fmt->alias : NULL;
	}
	if (!e) {
		registry_add_format(p, fmt);
		mismatch = foreign_mismatch(act, fmt);
	}
	iopgt_host_unlock(host);
	if (e)
		return activation_refuse(act, g_strdup_printf(
			"format '%s' is already registered by plugin '%s'",
			taken, e->plugin->name), -EEXIST);
	if (mismatch)
		WARN(host, "%s: %s", iopgt_plugin_where(p), mismatch);
	DBG(host, "%s: registered format '%s'", p->name, fmt->name);
	return 0;
}

int iopgt_registry_activate(struct iopgt_plugin *p,
			    const struct iopgt_plugin_desc *desc, char **why)
{
	struct iopgt_host *host = p->host;
	struct activation act = { .plugin = p,
				  .abi_minor = desc->abi_minor };
	struct iopgt_registrar reg = {
		.svc = &iopgt_host_services,
		.log_ctx = host,
		.register_format = registrar_register_format,
		.host_priv = &act,
	};
	g_autofree char *refused = NULL;
	bool none;
	int ret;

	ret = desc->register_fn(&reg);
	refused = g_steal_pointer(&act.refused);
	iopgt_host_lock(host);
	none = ret >= 0 && !p->formats->len;
	if (none)
		ret = -ENOENT;
	/* Partial registration is rolled back whole. */
	if (ret < 0)
		iopgt_registry_drop_plugin(host, p);
	iopgt_host_unlock(host);
	if (ret >= 0)
		return 0;
	*why = none ? g_strdup("register function registered no format") :
	       g_strdup_printf("register function failed: %s",
			       g_strerror(-ret));
	/* what the registrar refused says why, e.g. who owns a name */
	if (refused) {
		char *both = g_strdup_printf("%s (%s)", *why, refused);

		g_free(*why);
		*why = both;
	}
	return ret;
}

/* ---- who provides a format ------------------------------------------------- */

static bool strv_has(char **v, const char *s)
{
	return v && g_strv_contains((const char *const *)v, s);
}

GPtrArray *iopgt_registry_providers(struct iopgt_host *host,
				    const char *format)
{
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		if (p->retired)
			continue;
		if ((p->info && strv_has(p->info->provides, format)) ||
		    (p->meta && strv_has(p->meta->provides, format)))
			g_ptr_array_add(out, p);
	}
	return out;
}

int iopgt_registry_not_available(struct iopgt_host *host, const char *format,
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
