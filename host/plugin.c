// SPDX-License-Identifier: MIT
/*
 * Plugin records: what the host knows about one plugin file (or built-in),
 * its state, and the getters.
 *
 * A record is reference counted (kmod_module's rule: ref returns its
 * argument, unref returns NULL once freed).  The host's list holds one
 * reference on every record it knows; a record that a reload replaced
 * leaves the list when its last table goes, and is freed when nobody else
 * holds a reference.  Texts a getter handed out (version, error, ...) are
 * never freed before the record: a replaced text moves to old_texts.
 *
 * Everything mutable is under host->lock.  A deferred unload's deadline is
 * checked by whoever looks at the record first (getters, lookups, loads,
 * frees): there is one truth, whoever asks.
 */
#include <string.h>

#include "iopgt-internal.h"

static const char *const state_names[] = {
	[IOPGT_PLUGIN_DISCOVERED] = "discovered",
	[IOPGT_PLUGIN_LOADED] = "loaded",
	[IOPGT_PLUGIN_FAILED] = "failed",
	[IOPGT_PLUGIN_BLACKLISTED] = "blacklisted",
	[IOPGT_PLUGIN_GOING] = "going",
	[IOPGT_PLUGIN_UNLOADED] = "unloaded",
	[IOPGT_PLUGIN_RESIDENT] = "resident",
};

const char *iopgt_plugin_state_to_string(enum iopgt_plugin_state state)
{
	if ((unsigned int)state >= G_N_ELEMENTS(state_names))
		return "invalid";
	return state_names[state];
}

/* ---- life of a record ------------------------------------------------------ */

struct iopgt_plugin *iopgt_plugin_new(struct iopgt_host *host,
				      const char *name, const char *path)
{
	struct iopgt_plugin *p = g_new0(struct iopgt_plugin, 1);

	p->refcount = 1;	/* host->plugins' */
	p->host = host;
	p->name = iopgt_name_canonical(name);
	p->path = g_strdup(path);
	p->state = IOPGT_PLUGIN_DISCOVERED;
	p->load_index = -1;
	p->formats = g_ptr_array_new();
	p->holders = g_hash_table_new(NULL, NULL);
	g_ptr_array_add(host->plugins, p);
	g_hash_table_replace(host->plugins_by_name, p->name, p);
	return p;
}

static void plugin_destroy(struct iopgt_plugin *p)
{
	if (p->old_texts)
		g_ptr_array_unref(p->old_texts);
	g_ptr_array_unref(p->formats);
	g_hash_table_unref(p->holders);
	g_free(p->name);
	g_free(p->path);
	g_free(p->error);
	iopgt_plugin_info_free(p->meta);
	if (p->old_meta)
		g_ptr_array_unref(p->old_meta);
	iopgt_plugin_info_free(p->info);
	g_free(p->info_error);
	g_free(p);
}

struct iopgt_plugin *iopgt_plugin_ref(struct iopgt_plugin *p)
{
	g_return_val_if_fail(p, NULL);
	atomic_fetch_add(&p->refcount, 1);
	return p;
}

struct iopgt_plugin *iopgt_plugin_unref(struct iopgt_plugin *p)
{
	if (!p)
		return NULL;
	if (atomic_fetch_sub(&p->refcount, 1) > 1)
		return p;
	plugin_destroy(p);
	return NULL;
}

void iopgt_plugin_unref_cb(gpointer p)
{
	iopgt_plugin_unref(p);
}

struct iopgt_plugin *iopgt_plugin_lookup(struct iopgt_host *host,
					 const char *name)
{
	g_autofree char *canon = iopgt_name_canonical(name);
	struct iopgt_plugin *p = g_hash_table_lookup(host->plugins_by_name,
						     canon);

	if (p)
		iopgt_plugin_sync_deadline(p);
	return p;
}

void iopgt_plugin_make_current(struct iopgt_plugin *p)
{
	g_hash_table_replace(p->host->plugins_by_name, p->name, p);
}

void iopgt_plugin_forget(struct iopgt_plugin *p)
{
	struct iopgt_host *host = p->host;

	if (g_hash_table_lookup(host->plugins_by_name, p->name) == p)
		g_hash_table_remove(host->plugins_by_name, p->name);
	/* the array's free function drops its reference */
	g_ptr_array_remove(host->plugins, p);
}

/* ---- texts and states ------------------------------------------------------ */

void iopgt_plugin_set_text(struct iopgt_plugin *p, char **field, char *value)
{
	if (!g_strcmp0(*field, value)) {
		g_free(value);
		return;
	}
	if (*field) {
		if (!p->old_texts)
			p->old_texts = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(p->old_texts, *field);
	}
	*field = value;
}

void iopgt_plugin_set_meta(struct iopgt_plugin *p,
			   struct iopgt_plugin_info *meta)
{
	if (p->meta) {
		if (!p->old_meta)
			p->old_meta = g_ptr_array_new_with_free_func(
				(GDestroyNotify)iopgt_plugin_info_free);
		g_ptr_array_add(p->old_meta, p->meta);
	}
	p->meta = meta;
}

const char *iopgt_plugin_where(const struct iopgt_plugin *p)
{
	return p->path ? p->path : p->name;
}

void iopgt_plugin_set_failed(struct iopgt_plugin *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iopgt_plugin_set_text(p, &p->error, g_strdup_vprintf(fmt, ap));
	va_end(ap);
	p->state = IOPGT_PLUGIN_FAILED;
	ERR(p->host, "%s: %s", iopgt_plugin_where(p), p->error);
}

void iopgt_plugin_set_blacklisted(struct iopgt_plugin *p, char *why)
{
	iopgt_plugin_set_text(p, &p->error, why);
	p->state = IOPGT_PLUGIN_BLACKLISTED;
}

void iopgt_plugin_cancel_deferred(struct iopgt_plugin *p, const char *why)
{
	p->unload_deferred = false;
	p->unload_deadline = 0;
	p->state = IOPGT_PLUGIN_LOADED;
	WARN(p->host, "%s: unload cancelled: %s", p->name, why);
	iopgt_host_broadcast(p->host);
}

void iopgt_plugin_sync_deadline(struct iopgt_plugin *p)
{
	if (p->unload_deferred && p->unload_deadline && p->users &&
	    g_get_monotonic_time() >= p->unload_deadline)
		iopgt_plugin_cancel_deferred(p, "timed out with tables still "
					     "alive");
}

static gint holder_cmp(gconstpointer a, gconstpointer b)
{
	const struct iopgt_table_priv *x = *(void *const *)a;
	const struct iopgt_table_priv *y = *(void *const *)b;

	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

char **iopgt_plugin_holders_strv(const struct iopgt_plugin *p)
{
	g_autoptr(GPtrArray) tables = g_ptr_array_new();
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, p->holders);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(tables, key);
	g_ptr_array_sort(tables, holder_cmp);
	for (guint i = 0; i < tables->len; i++) {
		struct iopgt_table_priv *t = g_ptr_array_index(tables, i);

		g_ptr_array_add(out, g_strdup_printf("%s (%s)", t->label,
						     t->fmt->name));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* ---- getters ------------------------------------------------------------------ */

/*
 * Getters read under the host lock; the texts they return live as long as
 * the record (see the top of this file).  A state can change right after
 * it was read: that is the nature of a getter, not a use-after-free.
 */
#define GETTER(type, fn, expr, bad)                                          \
	type fn(const struct iopgt_plugin *cp)                               \
	{                                                                    \
		struct iopgt_plugin *p = (struct iopgt_plugin *)cp;          \
		type v;                                                      \
                                                                             \
		g_return_val_if_fail(p, bad);                                \
		iopgt_host_lock(p->host);                                    \
		iopgt_plugin_sync_deadline(p);                               \
		v = (expr);                                                  \
		iopgt_host_unlock(p->host);                                  \
		return v;                                                    \
	}

GETTER(const char *, iopgt_plugin_get_version,
       p->meta ? p->meta->version : NULL, NULL)
GETTER(const char *, iopgt_plugin_get_description,
       p->meta ? p->meta->description : NULL, NULL)
GETTER(const char *, iopgt_plugin_get_license,
       p->meta ? p->meta->license : NULL, NULL)
GETTER(const char *, iopgt_plugin_get_error, p->error, NULL)
GETTER(enum iopgt_plugin_state, iopgt_plugin_get_state, p->state,
       IOPGT_PLUGIN_FAILED)
GETTER(int, iopgt_plugin_get_refcount, p->users, -EINVAL)
GETTER(int, iopgt_plugin_get_load_index, p->load_index, -1)
GETTER(const char *, iopgt_plugin_get_info_error, p->info_error, NULL)
GETTER(char **, iopgt_plugin_dup_holders, iopgt_plugin_holders_strv(p), NULL)

/* name, path and builtin never change after the record is made */
const char *iopgt_plugin_get_name(const struct iopgt_plugin *p)
{
	g_return_val_if_fail(p, NULL);
	return p->name;
}

const char *iopgt_plugin_get_path(const struct iopgt_plugin *p)
{
	g_return_val_if_fail(p, NULL);
	return p->path;
}

bool iopgt_plugin_is_builtin(const struct iopgt_plugin *p)
{
	g_return_val_if_fail(p, false);
	return p->builtin;
}

/* Only a finished load's list: register_fn adds formats one by one. */
static char **formats_strv(const struct iopgt_plugin *p)
{
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; !p->loading && i < p->formats->len; i++) {
		const struct iopgt_format *f = g_ptr_array_index(p->formats, i);

		g_ptr_array_add(out, g_strdup(f->name));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

GETTER(char **, iopgt_plugin_dup_formats, formats_strv(p), NULL)

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

/* The file metadata of a record is set once (before anyone can see the
 * record, or under the lock) and never changes after. */
const char *iopgt_plugin_get_file_info(const struct iopgt_plugin *p,
				       const char *key)
{
	const char *v;

	g_return_val_if_fail(p && key, NULL);
	iopgt_host_lock(p->host);
	v = file_info(p, key);
	iopgt_host_unlock(p->host);
	return v;
}

static char *const no_strings[] = { NULL };

GETTER(char **, iopgt_plugin_dup_provides,
       g_strdupv(p->info ? p->info->provides : (char **)no_strings), NULL)
GETTER(char **, iopgt_plugin_dup_softdeps,
       g_strdupv(p->info ? p->info->softdeps : (char **)no_strings), NULL)
