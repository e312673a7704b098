// SPDX-License-Identifier: MIT
/*
 * The end of a plugin's life: unload, deferred unload, hot reload.
 *
 * Unload refuses while tables hold the plugin (-EBUSY, naming them).  The
 * record is GOING and marked loading while unregister_fn and dlclose run
 * without the host lock, so a load of the same plugin waits for the close
 * and a table of its formats is refused, while nothing else waits.
 *
 * Deferred unload: instead of -EBUSY, mark the plugin GOING (no new
 * tables) and let the last iopgt_pgtable_free() unload it.  With a
 * deadline, a plugin still in use when it passes goes back to LOADED: the
 * unload is cancelled, not forced (plugin.c checks the deadline whenever
 * anyone looks).  iopgt_host_unload_plugin_wait() waits on the record it
 * marked, never on whatever the name means later.
 *
 * Hot reload: the file at the plugin's path was replaced by a new version.
 * A fresh record maps the new file and takes over the name; the old one is
 * retired (its formats leave the table, its tables keep the old code) and
 * dlclosed when its last table goes, then forgotten.  If the new version
 * fails, the old one stays in charge, softdeps and all.  glibc identifies
 * a loaded object by device and inode, so the new version must be a new
 * file (write a temporary file, rename it over the old one).
 */
#include <string.h>

#include "iopgt-internal.h"

int iopgt_unload_close(struct iopgt_plugin *p)
{
	struct iopgt_host *host = p->host;
	const struct iopgt_plugin_desc *desc = p->desc;
	void *handle = p->handle;
	g_autofree char *why = NULL;
	int ret = 0;

	p->state = IOPGT_PLUGIN_GOING;
	p->loading = true;
	iopgt_registry_drop_plugin(host, p);
	p->desc = NULL;
	p->handle = NULL;
	iopgt_host_unlock(host);
	if (desc && desc->unregister_fn)
		desc->unregister_fn();
	if (!p->builtin)
		ret = iopgt_loader_close(handle, p->path, &why);
	iopgt_host_lock(host);
	p->loading = false;
	iopgt_host_broadcast(host);
	if (ret == 0) {
		p->state = IOPGT_PLUGIN_UNLOADED;
		INFO(host, "%s: unloaded", iopgt_plugin_where(p));
		return 0;
	}
	iopgt_plugin_set_text(p, &p->error, g_steal_pointer(&why));
	p->state = IOPGT_PLUGIN_RESIDENT;
	WARN(host, "%s: %s", p->path, p->error);
	return ret < 0 ? ret : 0;
}

void iopgt_unload_table_gone(struct iopgt_plugin *p)
{
	iopgt_host_broadcast(p->host);
	if (p->users || p->loading)
		return;
	if (p->retired && p->state == IOPGT_PLUGIN_GOING) {
		INFO(p->host, "%s: last table of the replaced version gone",
		     p->name);
		iopgt_plugin_ref(p);
		iopgt_unload_close(p);
		iopgt_plugin_forget(p);
		iopgt_plugin_unref(p);
		return;
	}
	if (!p->unload_deferred)
		return;
	if (p->unload_deadline && g_get_monotonic_time() >= p->unload_deadline) {
		iopgt_plugin_cancel_deferred(p, "timed out before the last "
					     "table went");
		return;
	}
	p->unload_deferred = false;
	INFO(p->host, "%s: last table gone, unloading", p->name);
	iopgt_unload_close(p);
}

/* Lock held: the current record of a loaded plugin, or NULL after saying
 * why (*err). */
static struct iopgt_plugin *loaded_plugin(struct iopgt_host *host,
					  const char *name, int *err)
{
	struct iopgt_plugin *p = iopgt_plugin_lookup(host, name);

	while (p && p->loading) {
		iopgt_host_wait(host);
		p = iopgt_plugin_lookup(host, name);
	}
	if (!p) {
		ERR(host, "no plugin named '%s'", name);
		*err = -ENOENT;
		return NULL;
	}
	if (p->state != IOPGT_PLUGIN_LOADED) {
		ERR(host, "%s is %s, not loaded", p->name,
		    iopgt_plugin_state_to_string(p->state));
		*err = -EINVAL;
		return NULL;
	}
	return p;
}

static int refuse_busy(struct iopgt_plugin *p)
{
	g_auto(GStrv) holders = iopgt_plugin_holders_strv(p);
	g_autofree char *list = g_strjoinv(", ", holders);

	ERR(p->host, "%s is in use by %d table%s: %s", p->name, p->users,
	    p->users == 1 ? "" : "s", list);
	return -EBUSY;
}

int iopgt_host_unload_plugin(struct iopgt_host *host, const char *name)
{
	struct iopgt_plugin *p;
	int ret = 0;

	g_return_val_if_fail(host && name, -EINVAL);
	iopgt_host_lock(host);
	p = loaded_plugin(host, name, &ret);
	if (p)
		ret = p->users ? refuse_busy(p) : iopgt_unload_close(p);
	iopgt_host_unlock(host);
	return ret;
}

static gint load_order_desc(gconstpointer a, gconstpointer b)
{
	const struct iopgt_plugin *x = *(void *const *)a;
	const struct iopgt_plugin *y = *(void *const *)b;

	return (x->load_index < y->load_index) - (x->load_index > y->load_index);
}

void iopgt_host_unload_all(struct iopgt_host *host)
{
	g_autoptr(GPtrArray) order = NULL;

	g_return_if_fail(host);
	order = g_ptr_array_new_with_free_func(iopgt_plugin_unref_cb);
	iopgt_host_lock(host);
	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		if (p->state == IOPGT_PLUGIN_LOADED && !p->users && !p->loading)
			g_ptr_array_add(order, iopgt_plugin_ref(p));
	}
	/* reverse load order, as modprobe -r removes post deps first */
	g_ptr_array_sort(order, load_order_desc);
	for (guint i = 0; i < order->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(order, i);

		/* another thread may have moved on while we closed others */
		if (p->state == IOPGT_PLUGIN_LOADED && !p->users && !p->loading)
			iopgt_unload_close(p);
	}
	iopgt_host_unlock(host);
}

/* ---- deferred unload ----------------------------------------------------------- */

/* Lock held.  Returns: 0 (unloaded now), -EINPROGRESS (deferred) or why
 * not; *out is the record marked. */
static int unload_deferred(struct iopgt_host *host, const char *name,
			   unsigned int timeout_ms, struct iopgt_plugin **out)
{
	struct iopgt_plugin *p = iopgt_plugin_lookup(host, name);
	int ret = 0;

	*out = p;
	if (p && p->state == IOPGT_PLUGIN_GOING && p->unload_deferred)
		return -EINPROGRESS;	/* asked twice: still waiting */
	p = loaded_plugin(host, name, &ret);
	*out = p;
	if (!p)
		return ret;
	if (!p->users)
		return iopgt_unload_close(p);
	p->state = IOPGT_PLUGIN_GOING;
	p->unload_deferred = true;
	p->unload_deadline = timeout_ms ? g_get_monotonic_time() +
		(gint64)timeout_ms * 1000 : 0;
	INFO(host, "%s: unloading when its %d table%s go%s", p->name,
	     p->users, p->users == 1 ? "" : "s", p->users == 1 ? "es" : "");
	return -EINPROGRESS;
}

int iopgt_host_unload_plugin_deferred(struct iopgt_host *host,
				      const char *name,
				      unsigned int timeout_ms)
{
	struct iopgt_plugin *p;
	int ret;

	g_return_val_if_fail(host && name, -EINVAL);
	iopgt_host_lock(host);
	ret = unload_deferred(host, name, timeout_ms, &p);
	iopgt_host_unlock(host);
	return ret;
}

int iopgt_host_unload_plugin_wait(struct iopgt_host *host, const char *name,
				  unsigned int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	struct iopgt_plugin *p;
	int ret;

	g_return_val_if_fail(host && name, -EINVAL);
	iopgt_host_lock(host);
	ret = unload_deferred(host, name, timeout_ms, &p);
	if (ret != -EINPROGRESS) {
		iopgt_host_unlock(host);
		return ret;
	}
	/* other threads free the tables; timeout_ms 0 waits for ever */
	iopgt_plugin_ref(p);
	/* loading: the last table went and the record is closing */
	while (p->unload_deferred || p->loading) {
		if (!timeout_ms) {
			iopgt_host_wait(host);
		} else if (!iopgt_host_wait_until(host, deadline)) {
			iopgt_plugin_sync_deadline(p);
			break;
		}
	}
	ret = p->state == IOPGT_PLUGIN_UNLOADED ||
	      p->state == IOPGT_PLUGIN_RESIDENT ? 0 : -ETIMEDOUT;
	iopgt_host_unlock(host);
	iopgt_plugin_unref(p);
	return ret;
}

/* ---- hot reload ------------------------------------------------------------ */

/* No lock: has the file at path been replaced since id was taken? */
static int file_replaced(struct iopgt_host *host, const char *path,
			 const struct iopgt_file_id *id)
{
	struct iopgt_file_id now;
	struct stat st;

	if (stat(path, &st))
		return 1;	/* gone: the load will say so */
	iopgt_file_id_from_stat(&now, &st);
	if (now.dev != id->dev || now.ino != id->ino)
		return 1;
	if (now.size != id->size || now.mtime_ns != id->mtime_ns)
		ERR(host, "%s: rewritten in place (same inode): glibc would "
		    "return the old mapping; install the new version as a "
		    "new file and rename it over the old one", path);
	else
		ERR(host, "%s: unchanged since it was loaded", path);
	return 0;
}

/* Lock held.  The old version is back in charge after a failed reload. */
static void reload_undo(struct iopgt_plugin *old, struct iopgt_plugin *np,
			GPtrArray *formats)
{
	iopgt_plugin_forget(np);
	iopgt_plugin_make_current(old);
	iopgt_registry_restore(old, formats);
	iopgt_discover_declare(old);
}

/* Lock held; old is LOADED and marked loading by the caller. */
static int reload_locked(struct iopgt_plugin *old, struct iopgt_plugin **out)
{
	struct iopgt_host *host = old->host;
	g_autoptr(GPtrArray) formats = g_ptr_array_copy(old->formats, NULL,
							 NULL);
	struct iopgt_plugin *np;
	int ret;

	/* the new version registers the same names: make room */
	iopgt_registry_drop_plugin(host, old);
	np = iopgt_plugin_ref(iopgt_plugin_new(host, old->name, old->path));
	np->trusted = old->trusted;
	iopgt_host_unlock(host);
	ret = iopgt_load_one(np);
	iopgt_discover_flush_cache(host);
	iopgt_host_lock(host);
	old->loading = false;
	iopgt_host_broadcast(host);
	if (ret < 0) {
		reload_undo(old, np, formats);
		iopgt_plugin_unref(np);
		return ret;
	}
	old->retired = true;
	old->state = IOPGT_PLUGIN_GOING;
	INFO(host, "%s: reloaded %s; %d table%s keep%s version %s until "
	     "freed", old->name, np->meta->version, old->users,
	     old->users == 1 ? "" : "s", old->users == 1 ? "s" : "",
	     old->meta->version);
	*out = np;
	iopgt_plugin_unref(np);	/* the host's list holds it */
	iopgt_unload_table_gone(old);	/* closes it now if unused */
	return 0;
}

int iopgt_host_reload_plugin(struct iopgt_host *host, const char *name,
			     struct iopgt_plugin **out)
{
	struct iopgt_plugin *p, *np = NULL;
	struct iopgt_file_id id;
	g_autofree char *path = NULL;
	int ret = 0;

	g_return_val_if_fail(host && name, -EINVAL);
	iopgt_host_lock(host);
	p = loaded_plugin(host, name, &ret);
	if (p && p->builtin) {
		ERR(host, "no plugin file named '%s'", name);
		p = NULL;
		ret = -EINVAL;
	}
	if (p) {
		p->loading = true;	/* one reload or unload at a time */
		path = g_strdup(p->path);
		id = p->file_id;
		iopgt_plugin_ref(p);
	}
	iopgt_host_unlock(host);
	if (!p)
		goto out;

	ret = file_replaced(host, path, &id) ? 0 : -EALREADY;
	iopgt_host_lock(host);
	if (ret == 0) {
		ret = reload_locked(p, &np);
	} else {
		p->loading = false;
		iopgt_host_broadcast(host);
	}
	iopgt_host_unlock(host);
	iopgt_plugin_unref(p);
out:
	if (out)
		*out = np;
	return ret;
}
