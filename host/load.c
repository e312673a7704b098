// SPDX-License-Identifier: MIT
/*
 * Loading a plugin: prepare without the host lock, commit with it.
 *
 *   begin (locked)    wait if another thread is loading this record; stop
 *                     if it is loaded, going, resident or blacklisted by
 *                     the manifest; else mark it loading
 *   prepare (no lock) metadata, file trust checks, the crash-isolation
 *                     probe (fork, up to the probe timeout), dlopen of the
 *                     checked descriptor, descriptor checks, register_fn
 *                     (its registrar takes the lock per format)
 *   commit (locked)   LOADED, texts, load index; or FAILED/BLACKLISTED with
 *                     the reason; wake the waiters
 *
 * So a slow or hanging plugin holds up only the threads that want that
 * plugin (they wait for its one load, the kernel's MODULE_STATE_COMING
 * idea); tables and lookups of other plugins never wait for it.
 *
 * Softdeps: a plugin's pre: targets load before it and its post: targets
 * after it, best effort; the manifest names the order.
 */
#include <string.h>
#include <unistd.h>

#include "iopgt-internal.h"

/* What begin() snapshots for the unlocked part. */
struct load_job {
	struct iopgt_plugin *p;
	char *path;
	bool allow_insecure;
	bool probe;
	bool batch;			/* probe_batch(): probe, don't load */
	unsigned int probe_timeout_ms;
	/* results */
	void *handle;
	const struct iopgt_plugin_desc *desc;
	struct iopgt_file_id file_id;
	/* what the probe saw, then the checked descriptor's texts */
	struct iopgt_plugin_info *meta;
	bool blacklisted;
	char *why;
};

static void load_job_clear(struct load_job *j)
{
	g_free(j->path);
	iopgt_plugin_info_free(j->meta);
	g_free(j->why);
}

/*
 * Lock held.  Returns: 1 to go ahead (p is now loading), or the result of
 * a load that needs no work: 0 (loaded), -EBUSY (going), -EALREADY
 * (resident), -EPERM (blacklisted by the manifest).
 */
static int load_begin(struct load_job *j)
{
	struct iopgt_plugin *p = j->p;
	struct iopgt_host *host = p->host;
	const char *origin;

	while (p->loading)
		iopgt_host_wait(host);
	iopgt_plugin_sync_deadline(p);
	switch (p->state) {
	case IOPGT_PLUGIN_LOADED:
		return 0;
	case IOPGT_PLUGIN_GOING:
		return -EBUSY;
	case IOPGT_PLUGIN_RESIDENT:
		/* glibc would hand back the old mapping and its statics */
		return -EALREADY;
	default:
		break;
	}
	origin = p->builtin ? NULL :
		 iopgt_manifest_blacklist_origin(host->manifest, p->name);
	if (origin) {
		iopgt_plugin_set_blacklisted(p, g_strdup_printf(
			"blacklisted at %s", origin));
		INFO(host, "%s: not loaded: %s", p->path, p->error);
		return -EPERM;
	}
	p->loading = true;
	j->path = g_strdup(p->path);
	j->allow_insecure = host->allow_insecure;
	j->probe = host->probe && !p->trusted && !p->builtin;
	j->probe_timeout_ms = host->probe_timeout_ms;
	return 1;
}

/* Take what a probe saw (or the cache remembers) into the job. */
static void take_verdict(struct load_job *j, const struct iopgt_cache_entry *e)
{
	if (e->seen) {
		iopgt_plugin_info_free(j->meta);
		j->meta = iopgt_plugin_info_copy(e->seen);
	}
	if (e->bad) {
		j->blacklisted = true;
		j->why = g_strdup(e->reason);
	}
}

/* Move the probe's findings from a scratch entry into the cache's. */
static void store_verdict(struct iopgt_cache_entry *dst,
			  struct iopgt_cache_entry *src)
{
	g_free(dst->reason);
	dst->reason = g_steal_pointer(&src->reason);
	iopgt_plugin_info_free(dst->seen);
	dst->seen = g_steal_pointer(&src->seen);
	dst->probed = src->probed;
	dst->bad = src->bad;
	dst->probe_us = src->probe_us;
}

/*
 * Count a verdict once: a batch probe (probe_batch) counts the children it
 * ran; the load that then finds the verdict it left does not count a
 * cache hit for it.  Lock held.
 */
static void probe_count(struct iopgt_host *host, struct load_job *j, bool hit,
			bool probed, int64_t probe_us)
{
	struct iopgt_probe_stats *st = &host->probe_stats;

	if (hit && (j->batch || j->p->probed_now)) {
		/* the load counts it / the batch counted it */
		j->p->probed_now = j->p->probed_now && j->batch;
		return;
	}
	if (hit)
		st->cache_hits++;
	else if (probed)
		st->probes++;
	if (!hit)
		st->probe_ns += (uint64_t)probe_us * 1000;
	if (j->blacklisted)
		st->blacklisted++;
	j->p->probed_now = !hit && j->batch;
}

/* The probe's verdict on the open file: from the cache, or a new probe
 * (no host lock: it forks and waits). */
static void probe_verdict(struct load_job *j, int fd, const struct stat *st)
{
	struct iopgt_host *host = j->p->host;
	struct iopgt_cache_entry *e, scratch = { 0 };
	struct iopgt_file_id id;
	bool hit;

	iopgt_file_id_from_stat(&id, st);
	pthread_mutex_lock(&host->cache_lock);
	e = iopgt_cache_lookup(host->cache, j->path, &id);
	hit = e && e->probed;
	if (hit)
		take_verdict(j, e);
	pthread_mutex_unlock(&host->cache_lock);
	if (!hit) {
		iopgt_probe_file(j->path, fd, j->probe_timeout_ms, &scratch);
		pthread_mutex_lock(&host->cache_lock);
		e = iopgt_cache_get(host->cache, j->path, &id);
		store_verdict(e, &scratch);
		take_verdict(j, e);
		host->cache_dirty = true;
		pthread_mutex_unlock(&host->cache_lock);
		g_free(scratch.reason);
		iopgt_plugin_info_free(scratch.seen);
	}
	if (!hit && !e->probed)
		WARN(host, "%s: cannot probe (no pipe or fork): loading "
		     "without", j->path);
	else if (!hit)
		DBG(host, "%s: probed in %.3f ms: %s", j->path,
		    (double)e->probe_us / 1000.0,
		    j->blacklisted ? j->why : "clean");
	iopgt_host_lock(host);
	probe_count(host, j, hit, e->probed, e->probe_us);
	iopgt_host_unlock(host);
}

/* A checked descriptor's texts describe the plugin even if register_fn
 * then fails (and the object is closed). */
static void take_desc_texts(struct load_job *j)
{
	struct iopgt_plugin_info *m = j->meta;

	if (!m) {
		m = j->meta = g_new0(struct iopgt_plugin_info, 1);
		m->provides = g_new0(char *, 1);
		m->softdeps = g_new0(char *, 1);
	}
	g_free(m->name);
	m->name = g_strdup(j->desc->name);
	g_free(m->version);
	m->version = g_strdup(j->desc->version);
	g_free(m->description);
	m->description = g_strdup(j->desc->description);
	g_free(m->license);
	m->license = g_strdup(j->desc->license);
}

/* Trust, probe, dlopen, descriptor.  No lock.  Returns: 0 or -errno with
 * j->why set. */
static int load_open(struct load_job *j)
{
	struct stat st;
	int fd, ret;

	ret = iopgt_trust_open(j->path, j->allow_insecure, &fd, &st, &j->why);
	if (ret < 0)
		return ret;
	iopgt_file_id_from_stat(&j->file_id, &st);
	if (j->probe) {
		probe_verdict(j, fd, &st);
		if (j->blacklisted) {
			close(fd);
			return -EPERM;
		}
	}
	/* the checked descriptor is what gets mapped */
	ret = iopgt_loader_open_fd(fd, j->path, &j->handle, &j->why);
	close(fd);
	if (ret < 0)
		return ret;
	ret = iopgt_loader_find_desc(j->handle, j->path, &j->desc, &j->why);
	if (ret == 0)
		ret = iopgt_desc_check(j->desc, j->p->name, &j->why);
	if (ret == 0)
		ret = iopgt_desc_check_code(j->handle, j->desc, &j->why);
	if (ret == 0)
		take_desc_texts(j);
	return ret;
}

static void commit_loaded(struct load_job *j)
{
	struct iopgt_plugin *p = j->p;
	struct iopgt_host *host = p->host;
	const struct iopgt_plugin_desc *d = j->desc;

	p->handle = j->handle;
	p->desc = d;
	p->file_id = j->file_id;
	iopgt_plugin_set_text(p, &p->error, NULL);
	p->state = IOPGT_PLUGIN_LOADED;
	p->load_index = host->next_load_index++;
	INFO(host, "%s: loaded %s %s (%u format%s)", iopgt_plugin_where(p),
	     p->name, d->version, p->formats->len,
	     p->formats->len == 1 ? "" : "s");
}

/* What the probe saw outlives a failed load (on-demand errors use it). */
static void commit_seen(struct load_job *j)
{
	struct iopgt_plugin *p = j->p;

	if (j->meta)
		iopgt_plugin_set_meta(p, g_steal_pointer(&j->meta));
}

static int load_prepare(struct load_job *j)
{
	struct iopgt_plugin *p = j->p;
	int ret;

	if (p->builtin) {
		j->desc = p->builtin_desc;
		take_desc_texts(j);
		return iopgt_registry_activate(p, j->desc, &j->why);
	}
	iopgt_discover_read_info(p);
	ret = load_open(j);
	if (ret == 0)
		ret = iopgt_registry_activate(p, j->desc, &j->why);
	if (ret < 0 && j->handle) {
		g_autofree char *cerr = NULL;

		/* failed before or during register: no unregister hook */
		iopgt_loader_close(j->handle, j->path, &cerr);
		j->handle = NULL;
	}
	return ret;
}

int iopgt_load_one(struct iopgt_plugin *p)
{
	struct iopgt_host *host = p->host;
	struct load_job j = { .p = p };
	int ret;

	iopgt_host_lock(host);
	ret = load_begin(&j);
	iopgt_host_unlock(host);
	if (ret <= 0)
		goto out;

	ret = load_prepare(&j);

	iopgt_host_lock(host);
	commit_seen(&j);
	if (ret == 0) {
		commit_loaded(&j);
	} else if (j.blacklisted) {
		iopgt_plugin_set_blacklisted(p, g_steal_pointer(&j.why));
		ERR(host, "%s: %s", p->path, p->error);
	} else {
		iopgt_plugin_set_failed(p, "%s", j.why ? j.why : "failed");
	}
	p->loading = false;
	iopgt_host_broadcast(host);
	iopgt_host_unlock(host);
out:
	load_job_clear(&j);
	return ret;
}

/* ---- softdeps ----------------------------------------------------------------- */

/* Lock held (the manifest calls it while it computes the order). */
static enum iopgt_softdep_target target_of(const char *name, void *data)
{
	struct iopgt_host *host = data;
	struct iopgt_plugin *p = g_hash_table_lookup(host->plugins_by_name,
						     name);

	if (!p)
		return IOPGT_SOFTDEP_MISSING;
	return p->state == IOPGT_PLUGIN_LOADED ? IOPGT_SOFTDEP_LOADED :
	       IOPGT_SOFTDEP_LOAD;
}

/* Lock held: the load order of root, or -ELOOP when root is on a cycle. */
static int load_order(struct iopgt_host *host, struct iopgt_plugin *root,
		      struct iopgt_load_order **out)
{
	struct iopgt_load_order *o;

	o = iopgt_manifest_load_order(host->manifest, root->name, target_of,
				      host);
	for (guint i = 0; i < o->warnings->len; i++)
		WARN(host, "%s", (char *)g_ptr_array_index(o->warnings, i));
	if (o->cycle) {
		if (root->state != IOPGT_PLUGIN_FAILED)
			iopgt_plugin_set_failed(root, "on softdep cycle %s",
						o->cycle);
		iopgt_load_order_free(o);
		return -ELOOP;
	}
	*out = o;
	return 0;
}

/* One step; returns what loading it gave.  No lock held. */
static int load_step(struct iopgt_host *host,
		     const struct iopgt_load_step *s)
{
	struct iopgt_plugin *p;
	int ret;

	iopgt_host_lock(host);
	p = iopgt_plugin_lookup(host, s->name);
	if (p && s->skip) {
		if (p->state != IOPGT_PLUGIN_LOADED && !p->loading)
			iopgt_plugin_set_failed(p, "%s", s->skip);
		p = NULL;
	}
	if (p)
		iopgt_plugin_ref(p);
	iopgt_host_unlock(host);
	if (!p)
		return s->skip ? -ELOOP : -ENOENT;
	ret = iopgt_load_one(p);
	iopgt_plugin_unref(p);
	return ret;
}

/*
 * The plugin and its softdeps, in the order the manifest computed once:
 * best effort for the softdeps (failures are logged, never returned), and
 * post: targets only after the plugin that names them loaded.
 */
int iopgt_load_by_name(struct iopgt_host *host, const char *name)
{
	g_autoptr(GHashTable) failed = g_hash_table_new(g_str_hash,
							g_str_equal);
	struct iopgt_load_order *order = NULL;
	struct iopgt_plugin *root;
	int ret = 0;

	iopgt_host_lock(host);
	root = iopgt_plugin_lookup(host, name);
	if (!root || root->state == IOPGT_PLUGIN_LOADED) {
		iopgt_host_unlock(host);
		return root ? 0 : -ENOENT;
	}
	ret = load_order(host, root, &order);
	iopgt_host_unlock(host);
	if (ret)
		return ret;

	for (guint i = 0; i < order->steps->len; i++) {
		const struct iopgt_load_step *s =
			&g_array_index(order->steps, struct iopgt_load_step, i);
		bool post = s->kind && !strcmp(s->kind, "post:");
		int r;

		if (s->wanted_by && g_hash_table_contains(failed, s->wanted_by) &&
		    post) {
			g_hash_table_add(failed, (gpointer)s->name);
			continue;
		}
		r = load_step(host, s);
		if (r < 0)
			g_hash_table_add(failed, (gpointer)s->name);
		if (!s->wanted_by)
			ret = r;
		else if (r < 0 && r != -EPERM)
			WARN(host, "softdep %s %s %s: %s, continuing",
			     s->wanted_by, s->kind, s->name,
			     r == -ELOOP ? "on a softdep cycle" :
			     g_strerror(-r));
	}
	iopgt_load_order_free(order);
	return ret;
}

/* ---- the public calls ----------------------------------------------------------- */

int iopgt_host_load_plugin(struct iopgt_host *host, const char *name,
			   struct iopgt_plugin **out)
{
	int ret;

	g_return_val_if_fail(host && name, -EINVAL);
	if (out)
		*out = NULL;
	if (!iopgt_name_is_valid(name)) {
		ERR(host, "'%s' is not a plugin name (names, not paths)", name);
		return -EINVAL;
	}
	ret = iopgt_load_by_name(host, name);
	iopgt_discover_flush_cache(host);
	if (ret == -ENOENT)
		ERR(host, "no plugin named '%s' in the plugin directories",
		    name);
	if (out && ret == 0) {
		iopgt_host_lock(host);
		*out = iopgt_plugin_lookup(host, name);
		iopgt_host_unlock(host);
	}
	return ret;
}

int iopgt_host_load_plugin_file(struct iopgt_host *host, const char *path,
				struct iopgt_plugin **out)
{
	struct iopgt_plugin *p = NULL;
	int ret;

	g_return_val_if_fail(host && path, -EINVAL);
	if (out)
		*out = NULL;
	ret = iopgt_host_add_plugin_file(host, path, &p);
	if (ret < 0)
		return ret;
	ret = iopgt_load_one(p);
	iopgt_discover_flush_cache(host);
	if (out && ret == 0)
		*out = p;
	return ret;
}

int iopgt_host_register_builtin(struct iopgt_host *host,
				const struct iopgt_plugin_desc *desc,
				struct iopgt_plugin **out)
{
	g_autofree char *why = NULL;
	struct iopgt_plugin *p;
	int ret;

	g_return_val_if_fail(host && desc, -EINVAL);
	if (out)
		*out = NULL;
	ret = iopgt_desc_check(desc, NULL, &why);
	if (ret < 0) {
		ERR(host, "built-in plugin: %s", why);
		return ret;
	}
	iopgt_host_lock(host);
	p = iopgt_plugin_lookup(host, desc->name);
	if (p && !(p->builtin && p->builtin_desc == desc)) {
		ERR(host, "built-in plugin '%s': the name is already taken",
		    desc->name);
		iopgt_host_unlock(host);
		return -EEXIST;
	}
	if (!p) {
		p = iopgt_plugin_new(host, desc->name, NULL);
		p->builtin = true;
		p->builtin_desc = desc;
	}
	iopgt_host_unlock(host);
	ret = iopgt_load_one(p);
	if (out && ret == 0)
		*out = p;
	return ret;
}

/* Lock held: the plan over every current record. */
static struct iopgt_plan *plan_locked(struct iopgt_host *host)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		if (!p->retired)
			g_ptr_array_add(names, p->name);
	}
	return iopgt_manifest_plan(host->manifest,
				   (const char *const *)names->pdata,
				   names->len);
}

int iopgt_host_get_plan(struct iopgt_host *host, struct iopgt_plan **out)
{
	g_return_val_if_fail(host && out, -EINVAL);
	iopgt_host_lock(host);
	*out = plan_locked(host);
	iopgt_host_unlock(host);
	return *out ? 0 : -ENOMEM;
}

/* Lock held: blacklisted and cycle entries take their states. */
static void plan_mark(struct iopgt_host *host, const struct iopgt_plan *plan)
{
	for (size_t i = 0; i < plan->n_entries; i++) {
		const struct iopgt_plan_entry *e = &plan->entries[i];
		struct iopgt_plugin *p = iopgt_plugin_lookup(host, e->name);

		if (!p || p->loading)
			continue;
		if (e->action == IOPGT_PLAN_BLACKLISTED &&
		    p->state != IOPGT_PLUGIN_LOADED)
			iopgt_plugin_set_blacklisted(p, g_strdup(e->reason));
		else if (e->action == IOPGT_PLAN_CYCLE &&
			 p->state != IOPGT_PLUGIN_LOADED)
			iopgt_plugin_set_failed(p, "%s", e->reason);
	}
}

/*
 * Probe every file of a batch before any of them is mapped here: a fork
 * copies the whole process, so probing each file just before loading it,
 * with all the earlier ones already mapped, costs more per probe the
 * further the batch goes (quadratic over 2,000 plugins).  The loads then
 * find the verdicts in the cache.  No lock held.
 */
static void probe_batch(struct iopgt_host *host, GPtrArray *todo)
{
	for (guint i = 0; i < todo->len; i++) {
		struct iopgt_plugin *p = todo->pdata[i];
		struct load_job j = { .p = p, .batch = true };
		struct stat st;
		bool skip;
		int fd;

		iopgt_host_lock(host);
		skip = !host->probe || p->trusted || p->builtin || p->loading ||
		       p->state == IOPGT_PLUGIN_LOADED;
		j.path = g_strdup(p->path);
		j.allow_insecure = host->allow_insecure;
		j.probe_timeout_ms = host->probe_timeout_ms;
		iopgt_host_unlock(host);
		/* a file the trust checks refuse: its load will say why */
		if (!skip && iopgt_trust_open(j.path, j.allow_insecure, &fd,
					      &st, &j.why) == 0) {
			probe_verdict(&j, fd, &st);
			close(fd);
		}
		load_job_clear(&j);
	}
}

int iopgt_host_load_all(struct iopgt_host *host)
{
	g_autoptr(GPtrArray) todo = NULL;
	struct iopgt_plan *plan;
	int loaded = 0;

	g_return_val_if_fail(host, -EINVAL);
	todo = g_ptr_array_new_with_free_func(iopgt_plugin_unref_cb);
	iopgt_host_lock(host);
	plan = plan_locked(host);
	for (const char *const *w = plan->warnings; *w; w++)
		WARN(host, "%s", *w);
	for (const char *const *e = plan->errors; *e; e++)
		ERR(host, "%s", *e);
	plan_mark(host, plan);
	for (size_t i = 0; i < plan->n_entries; i++) {
		struct iopgt_plugin *p;

		if (plan->entries[i].action != IOPGT_PLAN_LOAD)
			continue;
		p = iopgt_plugin_lookup(host, plan->entries[i].name);
		if (p)
			g_ptr_array_add(todo, iopgt_plugin_ref(p));
	}
	iopgt_host_unlock(host);
	iopgt_plan_free(plan);

	probe_batch(host, todo);
	for (guint i = 0; i < todo->len; i++)
		if (iopgt_load_one(todo->pdata[i]) == 0)
			loaded++;
	/* one cache write for the whole batch, not one per probe */
	iopgt_discover_flush_cache(host);
	return loaded;
}
