// SPDX-License-Identifier: MIT
/*
 * Unload semantics beyond kmod.
 *
 * Deferred unload: instead of -EBUSY, mark the plugin GOING (no new
 * tables) and let the last iopgt_pgtable_free() unload it.  With a
 * deadline, a plugin still in use when it passes goes back to LOADED: the
 * unload is cancelled, not forced.
 *
 * Hot reload: the file at the plugin's path was replaced by a new version.
 * The old record is retired (its formats leave the registry, its tables
 * keep working with the old code) and a fresh record maps the new file;
 * the old copy is dlclosed when its last table goes.  glibc identifies a
 * loaded object by device and inode, so the new version must be a new
 * file (write a temporary file, rename it over the old one); a file
 * rewritten in place is the same inode and is refused.
 */
#include <string.h>

#include "iopgt-internal.h"

/* ---- deferred unload --------------------------------------------------------- */

static void cancel_deferred(struct iopgt_plugin *p, const char *why)
{
	p->unload_deferred = false;
	p->unload_deadline = 0;
	p->state = IOPGT_PLUGIN_LOADED;
	WARN(p->host, "%s: unload cancelled: %s", p->name, why);
}

void iopgt_plugin_check_deadline(struct iopgt_plugin *p)
{
	if (p->unload_deferred && p->unload_deadline &&
	    g_get_monotonic_time() >= p->unload_deadline && p->users)
		cancel_deferred(p, "timed out with tables still alive");
}

void iopgt_plugin_table_gone(struct iopgt_plugin *p)
{
	if (p->users)
		return;
	if (p->retired && p->state == IOPGT_PLUGIN_GOING) {
		INFO(p->host, "%s: last table of the replaced version gone",
		     p->name);
		iopgt_plugin_close(p);
		return;
	}
	if (!p->unload_deferred)
		return;
	if (p->unload_deadline && g_get_monotonic_time() >= p->unload_deadline) {
		cancel_deferred(p, "timed out before the last table went");
		return;
	}
	p->unload_deferred = false;
	INFO(p->host, "%s: last table gone, unloading", p->name);
	iopgt_plugin_close(p);
}

static struct iopgt_plugin *current(struct iopgt_host *host, const char *name)
{
	g_autofree char *canon = iopgt_name_canonical(name);

	return g_hash_table_lookup(host->plugins_by_name, canon);
}

int iopgt_host_unload_plugin_deferred(struct iopgt_host *host,
				      const char *name,
				      unsigned int timeout_ms)
{
	struct iopgt_plugin *p;
	int ret;

	g_return_val_if_fail(host && name, -EINVAL);
	g_rec_mutex_lock(&host->lock);
	p = current(host, name);
	if (!p) {
		ERR(host, "no plugin named '%s'", name);
		ret = -ENOENT;
	} else if (p->state == IOPGT_PLUGIN_GOING && p->unload_deferred) {
		ret = -EINPROGRESS;	/* asked twice: still waiting */
	} else if (p->state != IOPGT_PLUGIN_LOADED) {
		ERR(host, "%s is %s, not loaded", p->name,
		    iopgt_plugin_state_to_string(p->state));
		ret = -EINVAL;
	} else if (!p->users) {
		ret = iopgt_plugin_close(p);
	} else {
		p->state = IOPGT_PLUGIN_GOING;
		p->unload_deferred = true;
		p->unload_deadline = timeout_ms ? g_get_monotonic_time() +
			(gint64)timeout_ms * 1000 : 0;
		INFO(host, "%s: unloading when its %d table%s go%s", p->name,
		     p->users, p->users == 1 ? "" : "s",
		     p->users == 1 ? "es" : "");
		ret = -EINPROGRESS;
	}
	g_rec_mutex_unlock(&host->lock);
	return ret;
}

int iopgt_host_unload_plugin_wait(struct iopgt_host *host, const char *name,
				  unsigned int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	struct iopgt_plugin *p;
	int ret;

	ret = iopgt_host_unload_plugin_deferred(host, name, timeout_ms);
	if (ret != -EINPROGRESS)
		return ret;
	p = iopgt_host_find_plugin(host, name);
	/* other threads free the tables; poll, never hold the lock */
	for (;;) {
		g_rec_mutex_lock(&host->lock);
		if (!p->unload_deferred) {
			ret = p->state == IOPGT_PLUGIN_LOADED ? -ETIMEDOUT : 0;
			g_rec_mutex_unlock(&host->lock);
			return ret;
		}
		if (g_get_monotonic_time() >= deadline) {
			cancel_deferred(p, "timed out with tables still alive");
			g_rec_mutex_unlock(&host->lock);
			return -ETIMEDOUT;
		}
		g_rec_mutex_unlock(&host->lock);
		g_usleep(1000);
	}
}

/* ---- hot reload ------------------------------------------------------------ */

static bool same_file(const struct iopgt_file_id *a, const char *path,
		      bool *in_place)
{
	struct stat st;
	struct iopgt_file_id b;

	if (stat(path, &st))
		return false;
	iopgt_file_id_from_stat(&b, &st);
	*in_place = a->dev == b.dev && a->ino == b.ino &&
		    (a->size != b.size || a->mtime_ns != b.mtime_ns);
	return a->dev == b.dev && a->ino == b.ino;
}

/* Put the old version's formats back after a failed reload. */
static void restore_formats(struct iopgt_plugin *old, GPtrArray *formats)
{
	struct iopgt_host *host = old->host;

	for (guint i = 0; i < formats->len; i++) {
		const struct iopgt_format *f = g_ptr_array_index(formats, i);

		iopgt_registry_insert(host, f->name, f, old);
		if (f->alias && strcmp(f->alias, f->name))
			iopgt_registry_insert(host, f->alias, f, old);
		g_ptr_array_add(old->formats, (gpointer)f);
	}
}

/* Lock held; old is LOADED with tables. */
static int reload_in_use(struct iopgt_plugin *old, struct iopgt_plugin **out)
{
	struct iopgt_host *host = old->host;
	g_autoptr(GPtrArray) formats = g_ptr_array_copy(old->formats, NULL,
							 NULL);
	struct iopgt_plugin *np;
	int ret;

	/* the new version registers the same names: make room */
	iopgt_registry_drop_plugin(host, old);
	np = iopgt_plugin_new_replacement(old);
	ret = iopgt_plugin_load_one(np);
	if (ret < 0) {
		/* the old version stays in charge */
		iopgt_plugin_forget_replacement(np, old);
		restore_formats(old, formats);
		return ret;
	}
	old->retired = true;
	old->state = IOPGT_PLUGIN_GOING;
	INFO(host, "%s: reloaded %s; %d table%s keep%s version %s until "
	     "freed", old->name, np->version, old->users,
	     old->users == 1 ? "" : "s", old->users == 1 ? "s" : "",
	     old->version);
	*out = np;
	return 0;
}

int iopgt_host_reload_plugin(struct iopgt_host *host, const char *name,
			     struct iopgt_plugin **out)
{
	struct iopgt_plugin *p, *np = NULL;
	bool in_place = false;
	int ret;

	g_return_val_if_fail(host && name, -EINVAL);
	g_rec_mutex_lock(&host->lock);
	p = current(host, name);
	if (!p || p->builtin) {
		ERR(host, "no plugin file named '%s'", name);
		ret = p ? -EINVAL : -ENOENT;
	} else if (p->state != IOPGT_PLUGIN_LOADED) {
		ERR(host, "%s is %s, not loaded", p->name,
		    iopgt_plugin_state_to_string(p->state));
		ret = -EINVAL;
	} else if (same_file(&p->file_id, p->path, &in_place)) {
		ERR(host, "%s: %s", p->path, in_place ?
		    "rewritten in place (same inode): glibc would return the "
		    "old mapping; install the new version as a new file and "
		    "rename it over the old one" :
		    "unchanged since it was loaded");
		ret = -EALREADY;
	} else if (!p->users) {
		ret = iopgt_plugin_close(p);
		if (ret == 0)
			ret = iopgt_registry_load_by_name(host, p->name);
		np = ret == 0 ? p : NULL;
	} else {
		ret = reload_in_use(p, &np);
	}
	if (out)
		*out = np;
	g_rec_mutex_unlock(&host->lock);
	return ret;
}
