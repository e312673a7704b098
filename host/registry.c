// SPDX-License-Identifier: MIT
/*
 * Plugin records and the format registry.
 *
 * A record exists for every plugin the host has heard of (found by a scan,
 * loaded from a file, or built in) and lives until the host goes, so `list`
 * can always say what happened to it.  The registry maps format names and
 * aliases to (format, plugin); a name can only be registered once: the
 * first stays, a second registration gets -EEXIST.
 *
 * Lifetime rule: every live table counts as a user of its plugin (users,
 * holders).  Unload refuses while users > 0 and marks the plugin GOING
 * under the same lock that iopgt_pgtable_new() takes to add a user, so a
 * table can never be created from a plugin that is being closed.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopgt-internal.h"

/* The smallest descriptor layout this host understands (ABI 1.0). */
#define DESC_MIN_SIZE	offsetof(struct iopgt_plugin_desc, reserved)

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

/* ---- records --------------------------------------------------------------- */

static struct iopgt_plugin *plugin_new(struct iopgt_host *host,
				       const char *name, const char *path)
{
	struct iopgt_plugin *p = g_new0(struct iopgt_plugin, 1);

	p->host = host;
	p->name = iopgt_name_canonical(name);
	p->path = g_strdup(path);
	p->load_index = -1;
	p->formats = g_ptr_array_new();
	p->holders = g_hash_table_new(NULL, NULL);
	g_ptr_array_add(host->plugins, p);
	g_hash_table_insert(host->plugins_by_name, p->name, p);
	return p;
}

struct iopgt_plugin *iopgt_plugin_new_discovered(struct iopgt_host *host,
						 const char *name,
						 const char *path)
{
	g_autofree char *canon = iopgt_name_canonical(name);
	struct iopgt_plugin *p = g_hash_table_lookup(host->plugins_by_name,
						     canon);

	if (p)
		return p;
	p = plugin_new(host, name, path);
	p->state = IOPGT_PLUGIN_DISCOVERED;
	return p;
}

struct iopgt_plugin *iopgt_plugin_new_replacement(struct iopgt_plugin *old)
{
	struct iopgt_host *host = old->host;
	struct iopgt_plugin *p = g_new0(struct iopgt_plugin, 1);
	bool dirty = false;

	p->host = host;
	p->name = g_strdup(old->name);
	p->path = g_strdup(old->path);
	p->trusted = old->trusted;
	p->load_index = -1;
	p->state = IOPGT_PLUGIN_DISCOVERED;
	p->formats = g_ptr_array_new();
	p->holders = g_hash_table_new(NULL, NULL);
	g_ptr_array_add(host->plugins, p);
	/* the name now means the new version */
	g_hash_table_replace(host->plugins_by_name, p->name, p);
	iopgt_plugin_read_info(p, &dirty);
	return p;
}

void iopgt_plugin_forget_replacement(struct iopgt_plugin *p,
				     struct iopgt_plugin *old)
{
	struct iopgt_host *host = p->host;

	g_hash_table_replace(host->plugins_by_name, old->name, old);
	g_ptr_array_remove(host->plugins, p);
	iopgt_plugin_destroy(p);
}

void iopgt_plugin_set_text(struct iopgt_plugin *p, char **field, char *value)
{
	if (!g_strcmp0(*field, value)) {
		g_free(value);
		return;
	}
	/* getters hand these out without a lock: the old text lives on
	 * until the record goes */
	if (*field) {
		if (!p->old_texts)
			p->old_texts = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(p->old_texts, *field);
	}
	*field = value;
}

void iopgt_plugin_destroy(struct iopgt_plugin *p)
{
	if (p->old_texts)
		g_ptr_array_unref(p->old_texts);
	g_ptr_array_unref(p->formats);
	g_hash_table_unref(p->holders);
	g_free(p->name);
	g_free(p->path);
	g_free(p->version);
	g_free(p->description);
	g_free(p->license);
	g_free(p->error);
	g_strfreev(p->provides);
	iopgt_plugin_info_free(p->info);
	g_free(p->info_error);
	g_free(p);
}

static const char *plugin_where(const struct iopgt_plugin *p)
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
	ERR(p->host, "%s: %s", plugin_where(p), p->error);
}

/* ---- descriptor checks ----------------------------------------------------- */

/* Printable ASCII only, 1..max bytes: names reach terminals and JSON. */
static const char *text_problem(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return "is NULL";
	for (; s[n]; n++) {
		if (n >= max)
			return "is too long";
		if (!g_ascii_isprint(s[n]))
			return "has a non-printable byte";
	}
	return n ? NULL : "is empty";
}

#define CHECK_DESC_TEXT(desc, field, max)                                     \
	do {                                                                  \
		const char *why_ = text_problem((desc)->field, (max));        \
		if (why_) {                                                   \
			*reason = g_strdup_printf("descriptor field '" #field \
						  "' %s", why_);              \
			return -EPROTO;                                       \
		}                                                             \
	} while (0)

int iopgt_desc_check(const struct iopgt_plugin_desc *desc, const char *expect,
		     char **reason)
{
	if (desc->magic != IOPGT_PLUGIN_MAGIC) {
		*reason = g_strdup_printf("descriptor field 'magic' is 0x%08x, "
					  "expected 0x%08x", desc->magic,
					  IOPGT_PLUGIN_MAGIC);
		return -EPROTO;
	}
	if (desc->abi_major != IOPGT_ABI_MAJOR) {
		*reason = g_strdup_printf("descriptor field 'abi_major' is %u, "
					  "host speaks ABI %d.%d",
					  desc->abi_major, IOPGT_ABI_MAJOR,
					  IOPGT_ABI_MINOR);
		return -EPROTO;
	}
	if (desc->abi_minor > IOPGT_ABI_MINOR) {
		*reason = g_strdup_printf("descriptor field 'abi_minor' is %u, "
					  "newer than host ABI %d.%d",
					  desc->abi_minor, IOPGT_ABI_MAJOR,
					  IOPGT_ABI_MINOR);
		return -EPROTO;
	}
	if (desc->struct_size < DESC_MIN_SIZE) {
		*reason = g_strdup_printf("descriptor field 'struct_size' is %u, "
					  "smaller than %zu", desc->struct_size,
					  DESC_MIN_SIZE);
		return -EPROTO;
	}
	CHECK_DESC_TEXT(desc, name, IOPGT_NAME_MAX);
	if (!iopgt_name_is_valid(desc->name)) {
		*reason = g_strdup_printf("descriptor field 'name' '%s' is not "
					  "a valid plugin name", desc->name);
		return -EPROTO;
	}
	if (expect) {
		g_autofree char *canon = iopgt_name_canonical(desc->name);

		if (strcmp(canon, expect)) {
			*reason = g_strdup_printf("descriptor field 'name' is "
						  "'%s' but the file is named "
						  "'%s.so'", desc->name, expect);
			return -EPROTO;
		}
	}
	CHECK_DESC_TEXT(desc, version, 64);
	CHECK_DESC_TEXT(desc, description, 256);
	CHECK_DESC_TEXT(desc, license, 64);
	if (!desc->register_fn) {
		*reason = g_strdup("descriptor field 'register_fn' is NULL");
		return -EPROTO;
	}
	return 0;
}

/* ---- the format registry --------------------------------------------------- */

struct iopgt_format_entry *iopgt_registry_lookup(struct iopgt_host *host,
						 const char *format)
{
	return g_hash_table_lookup(host->formats, format);
}

static bool format_name_is_valid(const char *name)
{
	if (text_problem(name, IOPGT_NAME_MAX))
		return false;
	for (const char *c = name; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

/*
 * One run of register_fn: the plugin, and the first thing the registrar
 * refused, which becomes part of the failure reason if register_fn fails.
 */
struct activation {
	struct iopgt_plugin *plugin;
	char *refused;
};

static void activation_refuse(struct activation *act, char *why)
{
	struct iopgt_plugin *p = act->plugin;

	ERR(p->host, "%s: %s", plugin_where(p), why);
	if (!act->refused)
		act->refused = why;
	else
		g_free(why);
}

void iopgt_registry_insert(struct iopgt_host *host, const char *key,
			   const struct iopgt_format *fmt,
			   struct iopgt_plugin *plugin)
{
	struct iopgt_format_entry *e = g_new(struct iopgt_format_entry, 1);

	e->fmt = fmt;
	e->plugin = plugin;
	g_hash_table_insert(host->formats, (gpointer)key, e);
}

static int registry_add(struct activation *act, const struct iopgt_format *fmt,
			const char *key)
{
	struct iopgt_plugin *p = act->plugin;
	struct iopgt_host *host = p->host;
	struct iopgt_format_entry *e = iopgt_registry_lookup(host, key);

	if (e) {
		activation_refuse(act, g_strdup_printf(
			"format '%s' is already registered by plugin '%s'",
			key, e->plugin->name));
		return -EEXIST;
	}
	iopgt_registry_insert(host, key, fmt, p);
	return 0;
}

static void registry_remove_format(struct iopgt_host *host,
				   const struct iopgt_format *fmt)
{
	g_hash_table_remove(host->formats, fmt->name);
	if (fmt->alias)
		g_hash_table_remove(host->formats, fmt->alias);
}

static int registrar_register_format(struct iopgt_registrar *reg,
				     const struct iopgt_format *fmt)
{
	struct activation *act = reg->host_priv;
	struct iopgt_plugin *p = act->plugin;
	struct iopgt_host *host = p->host;
	int ret;

	if (!fmt || !format_name_is_valid(fmt->name) || !fmt->alloc ||
	    !fmt->free || (fmt->alias && !format_name_is_valid(fmt->alias))) {
		activation_refuse(act, g_strdup_printf(
			"malformed format '%s' (name, alias, alloc and free "
			"must be set)", fmt && fmt->name &&
			!text_problem(fmt->name, 64) ? fmt->name : "?"));
		return -EINVAL;
	}
	ret = registry_add(act, fmt, fmt->name);
	if (ret)
		return ret;
	if (fmt->alias && strcmp(fmt->alias, fmt->name)) {
		ret = registry_add(act, fmt, fmt->alias);
		if (ret) {
			g_hash_table_remove(host->formats, fmt->name);
			return ret;
		}
	}
	g_ptr_array_add(p->formats, (gpointer)fmt);
	DBG(host, "%s: registered format '%s'", p->name, fmt->name);
	return 0;
}

void iopgt_registry_drop_plugin(struct iopgt_host *host,
				struct iopgt_plugin *p)
{
	for (guint i = 0; i < p->formats->len; i++)
		registry_remove_format(host, g_ptr_array_index(p->formats, i));
	g_ptr_array_set_size(p->formats, 0);
}

/* ---- activation: descriptor checked, register_fn called ------------------- */


static void copy_metadata(struct iopgt_plugin *p,
			  const struct iopgt_plugin_desc *desc)
{
	iopgt_plugin_set_text(p, &p->version, g_strdup(desc->version));
	iopgt_plugin_set_text(p, &p->description,
			      g_strdup(desc->description));
	iopgt_plugin_set_text(p, &p->license, g_strdup(desc->license));
}

int iopgt_plugin_activate(struct iopgt_plugin *p,
			  const struct iopgt_plugin_desc *desc)
{
	struct iopgt_host *host = p->host;
	struct activation act = { .plugin = p };
	struct iopgt_registrar reg = {
		.svc = &iopgt_host_services,
		.log_ctx = host,
		.register_format = registrar_register_format,
		.host_priv = &act,
	};
	g_autofree char *refused = NULL;
	bool none = false;
	int ret;

	copy_metadata(p, desc);
	p->desc = desc;
	ret = desc->register_fn(&reg);
	refused = g_steal_pointer(&act.refused);
	if (ret >= 0 && !p->formats->len) {
		none = true;
		ret = -ENOENT;
	}
	if (ret < 0) {
		g_autofree char *why = none ?
			g_strdup("register function registered no format") :
			g_strdup_printf("register function failed: %s",
					g_strerror(-ret));

		/* Partial registration is rolled back whole. */
		iopgt_registry_drop_plugin(host, p);
		p->desc = NULL;
		/* what the registrar refused says why, e.g. who owns a name */
		if (refused)
			iopgt_plugin_set_failed(p, "%s (%s)", why, refused);
		else
			iopgt_plugin_set_failed(p, "%s", why);
		return ret;
	}
	iopgt_plugin_set_text(p, &p->error, NULL);
	p->state = IOPGT_PLUGIN_LOADED;
	p->load_index = host->next_load_index++;
	INFO(host, "%s: loaded %s %s (%u format%s)", plugin_where(p), p->name,
	     p->version, p->formats->len, p->formats->len == 1 ? "" : "s");
	return 0;
}

/* ---- scanning -------------------------------------------------------------- */

static gint str_ptr_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void scan_dir(struct iopgt_host *host, const char *dir,
		     unsigned int flags, int *found, bool *dirty)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	GDir *d;
	const char *ent;
	GError *error = NULL;

	d = g_dir_open(dir, 0, &error);
	if (!d) {
		WARN(host, "%s: cannot scan plugin directory: %s", dir,
		     error->message);
		g_error_free(error);
		return;
	}
	while ((ent = g_dir_read_name(d)))
		if (g_str_has_suffix(ent, ".so") && strlen(ent) > 3)
			g_ptr_array_add(names, g_strdup(ent));
	g_dir_close(d);
	/* readdir order is arbitrary: sort so nothing depends on it */
	g_ptr_array_sort(names, str_ptr_cmp);

	for (guint i = 0; i < names->len; i++) {
		const char *file = g_ptr_array_index(names, i);
		g_autofree char *stem = g_strndup(file, strlen(file) - 3);
		g_autofree char *canon = iopgt_name_canonical(stem);
		g_autofree char *path = g_build_filename(dir, file, NULL);
		struct iopgt_plugin *old;

		if (!iopgt_name_is_valid(stem)) {
			WARN(host, "%s: ignored: '%s' is not a valid plugin "
			     "name", path, stem);
			continue;
		}
		old = g_hash_table_lookup(host->plugins_by_name, canon);
		if (old) {
			if (g_strcmp0(old->path, path))
				INFO(host, "%s: shadowed by %s", path,
				     plugin_where(old));
			continue;
		}
		old = iopgt_plugin_new_discovered(host, stem, path);
		old->trusted = flags & IOPGT_DIR_TRUSTED;
		iopgt_plugin_read_info(old, dirty);
		(*found)++;
	}
}

int iopgt_host_scan(struct iopgt_host *host)
{
	g_auto(GStrv) env_dirs = NULL;
	const char *env;
	bool dirty = false;
	int found = 0;

	g_return_val_if_fail(host, -EINVAL);
	env = secure_getenv("IOPGT_PLUGIN_PATH");
	if (env && *env)
		env_dirs = g_strsplit(env, ":", -1);

	g_rec_mutex_lock(&host->lock);
	for (guint i = 0; i < host->plugin_dirs->len; i++)
		scan_dir(host, g_ptr_array_index(host->plugin_dirs, i),
			 g_array_index(host->plugin_dir_flags, unsigned int, i),
			 &found, &dirty);
	for (char **d = env_dirs; d && *d; d++)
		if (**d)
			scan_dir(host, *d, 0, &found, &dirty);
	if (dirty) {
		g_autofree char *why = NULL;

		if (iopgt_cache_save(host->cache, &why))
			WARN(host, "plugin cache: %s", why);
	}
	g_rec_mutex_unlock(&host->lock);
	return found;
}

/* ---- loading ---------------------------------------------------------------- */

/* The descriptor's function pointers must point to code of the object:
 * data there would be executed. */
static int check_desc_code(void *handle, const struct iopgt_plugin_desc *desc,
			   char **why)
{
	if (iopgt_loader_check_code(handle, (const void *)desc->register_fn)) {
		*why = g_strdup("descriptor field 'register_fn' does not point "
				"to code in the plugin");
		return -EPROTO;
	}
	if (desc->unregister_fn &&
	    iopgt_loader_check_code(handle,
				    (const void *)desc->unregister_fn)) {
		*why = g_strdup("descriptor field 'unregister_fn' does not "
				"point to code in the plugin");
		return -EPROTO;
	}
	return 0;
}

/* Open, check and register one plugin record; lock held. */
int iopgt_plugin_load_one(struct iopgt_plugin *p)
{
	struct iopgt_host *host = p->host;
	const struct iopgt_plugin_desc *desc;
	g_autofree char *why = NULL;
	const char *origin;
	struct stat st;
	int fd, ret;

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
	if (p->builtin) /* a built-in unloaded earlier registers again */
		return iopgt_plugin_activate(p, p->builtin_desc);
	origin = iopgt_manifest_blacklist_origin(host->manifest, p->name);
	if (origin) {
		iopgt_plugin_set_text(p, &p->error,
				      g_strdup_printf("blacklisted at %s",
						      origin));
		p->state = IOPGT_PLUGIN_BLACKLISTED;
		INFO(host, "%s: not loaded: %s", p->path, p->error);
		return -EPERM;
	}
	/* what the file says it provides outlives a failed load */
	iopgt_plugin_read_info(p, &(bool){ false });
	ret = iopgt_trust_open(p->path, host->allow_insecure, &fd, &st, &why);
	if (ret < 0) {
		iopgt_plugin_set_failed(p, "%s", why);
		return ret;
	}
	if (host->probe && !p->trusted) {
		ret = iopgt_probe_plugin(host, p, fd, &st);
		if (ret < 0) {
			close(fd);
			return ret;
		}
	}
	iopgt_file_id_from_stat(&p->file_id, &st);
	/* the checked descriptor is what gets mapped */
	ret = iopgt_loader_open_fd(fd, p->path, &p->handle, &why);
	close(fd);
	if (ret < 0) {
		iopgt_plugin_set_failed(p, "%s", why);
		return ret;
	}
	ret = iopgt_loader_find_desc(p->handle, p->path, &desc, &why);
	if (ret == 0)
		ret = iopgt_desc_check(desc, p->name, &why);
	if (ret == 0)
		ret = check_desc_code(p->handle, desc, &why);
	if (ret == 0)
		ret = iopgt_plugin_activate(p, desc);
	else
		iopgt_plugin_set_failed(p, "%s", why);
	if (ret < 0) {
		g_autofree char *cerr = NULL;

		/* failed before or during register: no unregister hook */
		iopgt_loader_close(p->handle, p->path, &cerr);
		p->handle = NULL;
	}
	return ret;
}

static int load_by_name(struct iopgt_host *host, const char *name,
			GHashTable *visiting);

/* Best-effort soft dependencies: failures are logged, never returned. */
static void load_softdeps(struct iopgt_host *host, const char *name,
			  const GPtrArray *deps, const char *kind,
			  GHashTable *visiting)
{
	for (guint i = 0; deps && i < deps->len; i++) {
		const char *dep = g_ptr_array_index(deps, i);
		int ret;

		if (!g_hash_table_lookup(host->plugins_by_name, dep)) {
			WARN(host, "softdep %s %s %s: no plugin named '%s', "
			     "ignored", name, kind, dep, dep);
			continue;
		}
		ret = load_by_name(host, dep, visiting);
		if (ret < 0 && ret != -EPERM)
			WARN(host, "softdep %s %s %s: %s, continuing", name,
			     kind, dep, g_strerror(-ret));
	}
}

static int load_by_name(struct iopgt_host *host, const char *name,
			GHashTable *visiting)
{
	g_autofree char *canon = iopgt_name_canonical(name);
	g_autofree char *cycle = NULL;
	struct iopgt_plugin *p;
	int ret;

	p = g_hash_table_lookup(host->plugins_by_name, canon);
	if (!p)
		return -ENOENT;
	if (p->state == IOPGT_PLUGIN_LOADED ||
	    g_hash_table_contains(visiting, p->name))
		return 0;
	cycle = iopgt_manifest_find_cycle(host->manifest, p->name);
	if (cycle) {
		if (p->state != IOPGT_PLUGIN_FAILED)
			iopgt_plugin_set_failed(p, "on softdep cycle %s", cycle);
		return -ELOOP;
	}
	g_hash_table_add(visiting, p->name);
	load_softdeps(host, p->name, iopgt_manifest_get_pre(host->manifest,
							     p->name),
		      "pre:", visiting);
	ret = iopgt_plugin_load_one(p);
	if (ret == 0)
		load_softdeps(host, p->name,
			      iopgt_manifest_get_post(host->manifest, p->name),
			      "post:", visiting);
	return ret;
}

int iopgt_registry_load_by_name(struct iopgt_host *host, const char *name)
{
	GHashTable *visiting = g_hash_table_new(g_str_hash, g_str_equal);
	int ret = load_by_name(host, name, visiting);

	g_hash_table_unref(visiting);
	return ret;
}

int iopgt_host_load_plugin(struct iopgt_host *host, const char *name,
			   struct iopgt_plugin **out)
{
	GHashTable *visiting;
	int ret;

	g_return_val_if_fail(host && name, -EINVAL);
	if (!iopgt_name_is_valid(name)) {
		ERR(host, "'%s' is not a plugin name (names, not paths)", name);
		return -EINVAL;
	}
	visiting = g_hash_table_new(g_str_hash, g_str_equal);
	g_rec_mutex_lock(&host->lock);
	ret = load_by_name(host, name, visiting);
	if (ret == -ENOENT)
		ERR(host, "no plugin named '%s' in the plugin directories",
		    name);
	if (out) {
		g_autofree char *canon = iopgt_name_canonical(name);

		*out = ret == 0 ? g_hash_table_lookup(host->plugins_by_name,
						      canon) : NULL;
	}
	g_rec_mutex_unlock(&host->lock);
	g_hash_table_unref(visiting);
	return ret;
}

int iopgt_host_load_plugin_file(struct iopgt_host *host, const char *path,
				struct iopgt_plugin **out)
{
	g_autofree char *base = NULL;
	g_autofree char *stem = NULL;
	struct iopgt_plugin *p;
	int ret;

	g_return_val_if_fail(host && path, -EINVAL);
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
	g_rec_mutex_lock(&host->lock);
	p = iopgt_plugin_new_discovered(host, stem, path);
	if (p->path && strcmp(p->path, path)) {
		ERR(host, "%s: a plugin named '%s' is already known from %s",
		    path, p->name, p->path);
		ret = -EEXIST;
	} else {
		ret = iopgt_plugin_load_one(p);
	}
	if (out)
		*out = ret == 0 ? p : NULL;
	g_rec_mutex_unlock(&host->lock);
	return ret;
}

int iopgt_host_register_builtin(struct iopgt_host *host,
				const struct iopgt_plugin_desc *desc,
				struct iopgt_plugin **out)
{
	g_autofree char *why = NULL;
	g_autofree char *canon = NULL;
	struct iopgt_plugin *p;
	int ret;

	g_return_val_if_fail(host && desc, -EINVAL);
	ret = iopgt_desc_check(desc, NULL, &why);
	if (ret < 0) {
		ERR(host, "built-in plugin: %s", why);
		return ret;
	}
	canon = iopgt_name_canonical(desc->name);
	g_rec_mutex_lock(&host->lock);
	p = g_hash_table_lookup(host->plugins_by_name, canon);
	if (p && !(p->builtin && p->builtin_desc == desc)) {
		ERR(host, "built-in plugin '%s': the name is already taken",
		    desc->name);
		ret = -EEXIST;
		goto out_unlock;
	}
	if (!p) {
		p = plugin_new(host, desc->name, NULL);
		p->builtin = true;
		p->builtin_desc = desc;
	}
	ret = p->state == IOPGT_PLUGIN_LOADED ? 0 :
	      iopgt_plugin_activate(p, desc);
out_unlock:
	if (out)
		*out = ret == 0 ? p : NULL;
	g_rec_mutex_unlock(&host->lock);
	return ret;
}

int iopgt_host_load_all(struct iopgt_host *host)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	struct iopgt_mplan *plan;
	int loaded = 0;

	g_return_val_if_fail(host, -EINVAL);
	g_rec_mutex_lock(&host->lock);
	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		g_ptr_array_add(names, p->name);
	}
	plan = iopgt_manifest_plan(host->manifest,
				   (const char *const *)names->pdata,
				   names->len);
	for (guint i = 0; i < plan->warnings->len; i++)
		WARN(host, "%s", (char *)g_ptr_array_index(plan->warnings, i));
	for (guint i = 0; i < plan->errors->len; i++)
		ERR(host, "%s", (char *)g_ptr_array_index(plan->errors, i));

	for (guint i = 0; i < plan->entries->len; i++) {
		struct iopgt_mplan_entry *e = g_ptr_array_index(plan->entries, i);
		struct iopgt_plugin *p = g_hash_table_lookup(
			host->plugins_by_name, e->name);

		if (!p)
			continue;
		switch (e->action) {
		case IOPGT_MPLAN_LOAD:
			if (p->state == IOPGT_PLUGIN_LOADED)
				loaded++;
			else if (iopgt_plugin_load_one(p) == 0)
				loaded++;
			break;
		case IOPGT_MPLAN_BLACKLISTED:
			iopgt_plugin_set_text(p, &p->error,
					      g_strdup(e->reason));
			p->state = IOPGT_PLUGIN_BLACKLISTED;
			break;
		case IOPGT_MPLAN_CYCLE:
			if (p->state != IOPGT_PLUGIN_LOADED)
				iopgt_plugin_set_failed(p, "%s",
							e->reason);
			break;
		}
	}
	g_rec_mutex_unlock(&host->lock);
	iopgt_mplan_free(plan);
	return loaded;
}

/* ---- unloading --------------------------------------------------------------- */

static gint holder_cmp(gconstpointer a, gconstpointer b)
{
	const struct iopgt_table_priv *x = *(void *const *)a;
	const struct iopgt_table_priv *y = *(void *const *)b;

	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

static char **holders_strv(const struct iopgt_plugin *p)
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

char **iopgt_plugin_dup_holders(const struct iopgt_plugin *p)
{
	char **v;

	g_return_val_if_fail(p, NULL);
	g_rec_mutex_lock(&p->host->lock);
	v = holders_strv(p);
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

/* Lock held; p is LOADED (or retired) with no users. */
int iopgt_plugin_close(struct iopgt_plugin *p)
{
	struct iopgt_host *host = p->host;
	g_autofree char *why = NULL;
	int ret;

	p->state = IOPGT_PLUGIN_GOING;
	iopgt_registry_drop_plugin(host, p);
	if (p->desc && p->desc->unregister_fn)
		p->desc->unregister_fn();
	if (p->builtin) {
		p->state = IOPGT_PLUGIN_UNLOADED;
		return 0;
	}
	p->desc = NULL;
	ret = iopgt_loader_close(p->handle, p->path, &why);
	p->handle = NULL;
	if (ret == 0) {
		p->state = IOPGT_PLUGIN_UNLOADED;
		INFO(host, "%s: unloaded", p->path);
		return 0;
	}
	iopgt_plugin_set_text(p, &p->error, g_steal_pointer(&why));
	p->state = IOPGT_PLUGIN_RESIDENT;
	WARN(host, "%s: %s", p->path, p->error);
	return ret < 0 ? ret : 0;
}

int iopgt_host_unload_plugin(struct iopgt_host *host, const char *name)
{
	g_autofree char *canon = NULL;
	struct iopgt_plugin *p;
	int ret;

	g_return_val_if_fail(host && name, -EINVAL);
	canon = iopgt_name_canonical(name);
	g_rec_mutex_lock(&host->lock);
	p = g_hash_table_lookup(host->plugins_by_name, canon);
	if (!p) {
		ERR(host, "no plugin named '%s'", name);
		ret = -ENOENT;
	} else if (p->state != IOPGT_PLUGIN_LOADED) {
		ERR(host, "%s is %s, not loaded", p->name,
		    iopgt_plugin_state_to_string(p->state));
		ret = -EINVAL;
	} else if (p->users) {
		g_auto(GStrv) holders = holders_strv(p);
		g_autofree char *list = g_strjoinv(", ", holders);

		ERR(host, "%s is in use by %d table%s: %s", p->name,
		    p->users, p->users == 1 ? "" : "s", list);
		ret = -EBUSY;
	} else {
		ret = iopgt_plugin_close(p);
	}
	g_rec_mutex_unlock(&host->lock);
	return ret;
}

void iopgt_host_unload_all(struct iopgt_host *host)
{
	g_autoptr(GPtrArray) order = g_ptr_array_new();

	g_return_if_fail(host);
	g_rec_mutex_lock(&host->lock);
	for (guint i = 0; i < host->plugins->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(host->plugins, i);

		if (p->state == IOPGT_PLUGIN_LOADED && !p->users)
			g_ptr_array_add(order, p);
	}
	/* reverse load order, as modprobe -r removes post deps first */
	for (guint i = 0; i < order->len; i++)
		for (guint j = i + 1; j < order->len; j++) {
			struct iopgt_plugin *a = order->pdata[i];
			struct iopgt_plugin *b = order->pdata[j];

			if (a->load_index < b->load_index) {
				order->pdata[i] = b;
				order->pdata[j] = a;
			}
		}
	for (guint i = 0; i < order->len; i++)
		iopgt_plugin_close(g_ptr_array_index(order, i));
	g_rec_mutex_unlock(&host->lock);
}

/* ---- lookups and getters --------------------------------------------------- */

struct iopgt_plugin *iopgt_host_find_plugin(struct iopgt_host *host,
					    const char *name)
{
	g_autofree char *canon = NULL;
	struct iopgt_plugin *p;

	g_return_val_if_fail(host && name, NULL);
	canon = iopgt_name_canonical(name);
	g_rec_mutex_lock(&host->lock);
	p = g_hash_table_lookup(host->plugins_by_name, canon);
	g_rec_mutex_unlock(&host->lock);
	return p;
}

struct iopgt_plugin *iopgt_host_find_format(struct iopgt_host *host,
					    const char *format)
{
	struct iopgt_format_entry *e;
	struct iopgt_plugin *p;

	g_return_val_if_fail(host && format, NULL);
	g_rec_mutex_lock(&host->lock);
	e = iopgt_registry_lookup(host, format);
	/* the entry goes with an unload: read it under the lock */
	p = e ? e->plugin : NULL;
	g_rec_mutex_unlock(&host->lock);
	return p;
}

int iopgt_host_get_format_defaults(struct iopgt_host *host, const char *format,
				   struct iopgt_cfg *cfg)
{
	struct iopgt_format_entry *e;
	int ret = -ENOENT;

	g_return_val_if_fail(host && format && cfg, -EINVAL);
	g_rec_mutex_lock(&host->lock);
	e = iopgt_registry_lookup(host, format);
	if (e) {
		if (!cfg->ias)
			cfg->ias = e->fmt->default_ias;
		if (!cfg->oas)
			cfg->oas = e->fmt->default_oas;
		if (!cfg->pgsize_bitmap)
			cfg->pgsize_bitmap = e->fmt->default_pgsize_bitmap;
		ret = 0;
	}
	g_rec_mutex_unlock(&host->lock);
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
	g_autoptr(GPtrArray) sorted = NULL;

	g_return_if_fail(host && fn);
	g_rec_mutex_lock(&host->lock);
	sorted = g_ptr_array_copy(host->plugins, NULL, NULL);
	g_ptr_array_sort(sorted, plugin_order_cmp);
	for (guint i = 0; i < sorted->len; i++) {
		struct iopgt_plugin *p = g_ptr_array_index(sorted, i);

		/* a replaced version is shown while its tables live */
		if (p->retired && p->state != IOPGT_PLUGIN_GOING)
			continue;
		fn(p, data);
	}
	g_rec_mutex_unlock(&host->lock);
}

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

const char *iopgt_plugin_get_version(const struct iopgt_plugin *p)
{
	const char *v;

	g_return_val_if_fail(p, NULL);
	g_rec_mutex_lock(&p->host->lock);
	v = p->version;
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

const char *iopgt_plugin_get_description(const struct iopgt_plugin *p)
{
	const char *v;

	g_return_val_if_fail(p, NULL);
	g_rec_mutex_lock(&p->host->lock);
	v = p->description;
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

const char *iopgt_plugin_get_license(const struct iopgt_plugin *p)
{
	const char *v;

	g_return_val_if_fail(p, NULL);
	g_rec_mutex_lock(&p->host->lock);
	v = p->license;
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

enum iopgt_plugin_state iopgt_plugin_get_state(const struct iopgt_plugin *p)
{
	enum iopgt_plugin_state v;

	g_return_val_if_fail(p, IOPGT_PLUGIN_FAILED);
	g_rec_mutex_lock(&p->host->lock);
	v = p->state;
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

const char *iopgt_plugin_get_error(const struct iopgt_plugin *p)
{
	const char *v;

	g_return_val_if_fail(p, NULL);
	g_rec_mutex_lock(&p->host->lock);
	v = p->error;
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

int iopgt_plugin_get_refcount(const struct iopgt_plugin *p)
{
	int n;

	g_return_val_if_fail(p, -EINVAL);
	g_rec_mutex_lock(&p->host->lock);
	n = p->users;
	g_rec_mutex_unlock(&p->host->lock);
	return n;
}

int iopgt_plugin_get_load_index(const struct iopgt_plugin *p)
{
	int v;

	g_return_val_if_fail(p, -1);
	g_rec_mutex_lock(&p->host->lock);
	v = p->load_index;
	g_rec_mutex_unlock(&p->host->lock);
	return v;
}

bool iopgt_plugin_is_builtin(const struct iopgt_plugin *p)
{
	g_return_val_if_fail(p, false);
	return p->builtin;
}

char **iopgt_plugin_dup_formats(const struct iopgt_plugin *p)
{
	GPtrArray *out = g_ptr_array_new();

	g_return_val_if_fail(p, NULL);
	g_rec_mutex_lock(&p->host->lock);
	for (guint i = 0; i < p->formats->len; i++) {
		const struct iopgt_format *f = g_ptr_array_index(p->formats, i);

		g_ptr_array_add(out, g_strdup(f->name));
	}
	g_rec_mutex_unlock(&p->host->lock);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}
