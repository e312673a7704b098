// SPDX-License-Identifier: MIT
/*
 * The dynamic loader: the only file that includes <dlfcn.h>.
 *
 * RTLD_NOW so an unresolved symbol fails here, at load, not at the first
 * map(); RTLD_LOCAL so one plugin's symbols never satisfy another's.
 * dlerror() is cleared before each call and its text kept verbatim, since
 * "failed: Success" style messages are what users complain about most.
 *
 * Files are mapped from a descriptor the host already checked
 * (/proc/self/fd/N), so nothing can swap the file between fstat() and
 * dlopen().  glibc remembers every name an object was opened under and
 * matches a later dlopen() of that name to it without looking at the file,
 * so a descriptor used as a name stays open (reserved) for as long as the
 * object may be mapped: otherwise a recycled fd number would hand a new
 * plugin the old one's object.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iopgt-internal.h"

/*
 * The only process-wide state of the library mirrors glibc's own: every
 * dlopen() of one file returns the same handle, whichever host context
 * asked.  Per handle: outstanding opens (so a dlclose that leaves the
 * object mapped because another host still holds it is not mistaken for
 * NODELETE) and the descriptors reserved as its names.
 *
 * The same lock serialises our dlopen/dlclose calls with the probe's
 * fork(), so a child never inherits a loader lock held mid-dlopen.
 */
struct open_record {
	int opens;
	GArray *name_fds;	/* int: /proc/self/fd/N names of the object */
};

static pthread_mutex_t loader_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *records;	/* handle -> struct open_record */

void iopgt_loader_lock(void)
{
	pthread_mutex_lock(&loader_lock);
}

void iopgt_loader_unlock(void)
{
	pthread_mutex_unlock(&loader_lock);
}

static void record_free(gpointer data)
{
	struct open_record *r = data;

	g_array_unref(r->name_fds);
	g_free(r);
}

/* loader_lock held */
static struct open_record *record_get(void *handle)
{
	struct open_record *r;

	if (!records)
		records = g_hash_table_new_full(NULL, NULL, NULL, record_free);
	r = g_hash_table_lookup(records, handle);
	if (!r) {
		r = g_new0(struct open_record, 1);
		r->name_fds = g_array_new(FALSE, FALSE, sizeof(int));
		g_hash_table_insert(records, handle, r);
	}
	return r;
}

/*
 * dlerror() text, without the "NAME: " glibc puts first (callers do), and
 * with the /proc/self/fd/N name glibc knows the object by replaced by the
 * path the user knows it by.
 */
static char *take_dlerror(const char *name, const char *path,
			  const char *fallback)
{
	const char *e = dlerror();
	size_t n = name ? strlen(name) : 0;
	g_auto(GStrv) parts = NULL;

	if (!e)
		return g_strdup(fallback);
	if (n && !strncmp(e, name, n) && !strncmp(e + n, ": ", 2))
		e += n + 2;
	if (!n || !path || !strstr(e, name))
		return g_strdup(e);
	parts = g_strsplit(e, name, -1);
	return g_strjoinv(path, parts);
}

/* The name glibc has for the object (its l_name). */
static const char *object_name(void *handle)
{
	struct link_map *lm = NULL;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm)
		return NULL;
	return lm->l_name;
}

static bool proc_fd_usable(void)
{
	return access("/proc/self/fd", X_OK) == 0;
}

/* A new descriptor for fd, raising the soft limit once on EMFILE.
 * Returns: the descriptor or a negative errno. */
static int dup_raising(int fd)
{
	int ret = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (ret < 0 && errno == EMFILE && iopgt_fd_raise_limit())
		ret = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return ret < 0 ? -errno : ret;
}

int iopgt_loader_open_fd(int fd, const char *path, void **handle,
			 char **error)
{
	char name[64];
	const char *use = path;
	int name_fd = -1;
	void *h;

	/*
	 * Without /proc the checked file is opened by path again: the
	 * check/use race is back, which the log of the caller says.
	 */
	if (fd >= 0 && proc_fd_usable()) {
		int spare;

		/*
		 * One descriptor kept while mapped, and one left free for
		 * dlopen's own open: its EMFILE would read as a broken
		 * plugin ("cannot open shared object file").
		 */
		name_fd = dup_raising(fd);
		spare = name_fd < 0 ? name_fd : dup_raising(fd);
		if (spare < 0) {
			if (name_fd >= 0)
				close(name_fd);
			*error = spare == -EMFILE ? iopgt_fd_limit_text() :
				 g_strdup_printf("cannot reserve a descriptor: "
						 "%s", g_strerror(-spare));
			return spare;
		}
		close(spare);
		snprintf(name, sizeof(name), "/proc/self/fd/%d", name_fd);
		use = name;
	}
	pthread_mutex_lock(&loader_lock);
	dlerror();
	h = dlopen(use, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*error = take_dlerror(use, path,
				      "dlopen failed without a reason");
		pthread_mutex_unlock(&loader_lock);
		if (name_fd >= 0)
			close(name_fd);
		return -ENOEXEC;
	}
	{
		struct open_record *r = record_get(h);

		r->opens++;
		if (name_fd >= 0)
			g_array_append_val(r->name_fds, name_fd);
	}
	pthread_mutex_unlock(&loader_lock);
	*handle = h;
	return 0;
}

/* The ELF symbol type of the object at addr, or -1 if unknown. */
static int symbol_type(const void *addr)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return -1;
	return ELF64_ST_TYPE(sym->st_info);
}

int iopgt_loader_find_desc(void *handle, const char *path,
			   const struct iopgt_plugin_desc **desc,
			   char **error)
{
	/* before dlsym: a successful dlinfo() clears dlerror() */
	const char *name = object_name(handle);
	void *sym;
	int type;

	dlerror();
	sym = dlsym(handle, IOPGT_PLUGIN_SYMBOL);
	if (!sym) {
		char *why = take_dlerror(name, path, "symbol is NULL");

		*error = g_strdup_printf("no plugin descriptor '%s' (%s)",
					 IOPGT_PLUGIN_SYMBOL, why);
		g_free(why);
		return -ENOENT;
	}
	/* A function of that name would be run as data: refuse it. */
	type = symbol_type(sym);
	if (type != STT_OBJECT) {
		*error = g_strdup_printf("'%s' is %s, not a data object",
					 IOPGT_PLUGIN_SYMBOL,
					 type == STT_FUNC ? "a function" :
					 "of an unexpected symbol type");
		return -EPROTO;
	}
	*desc = sym;
	return 0;
}

struct code_search {
	uintptr_t base;
	uintptr_t addr;
	int found;	/* 1: executable segment, 0: other segment, -1: none */
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *data)
{
	struct code_search *s = data;

	(void)size;
	if (info->dlpi_addr != s->base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (s->addr >= start && s->addr - start < ph->p_memsz) {
			s->found = (ph->p_flags & PF_X) ? 1 : 0;
			return 1;
		}
	}
	return 0;
}

int iopgt_loader_check_code(void *handle, const void *fn)
{
	struct link_map *lm = NULL;
	struct code_search s = { .addr = (uintptr_t)fn, .found = -1 };

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm)
		return -ENOENT;
	s.base = lm->l_addr;
	dl_iterate_phdr(find_segment, &s);
	if (s.found == 1)
		return 0;
	return s.found == 0 ? -EPROTO : -ENOENT;
}

struct mapped_search {
	uintptr_t base;
	const char *name;
	bool found;
};

static int find_mapped(struct dl_phdr_info *info, size_t size, void *data)
{
	struct mapped_search *s = data;

	(void)size;
	if (info->dlpi_addr == s->base && info->dlpi_name &&
	    !strcmp(info->dlpi_name, s->name)) {
		s->found = true;
		return 1;
	}
	return 0;
}

/* loader_lock held; the record's last open has gone */
static void record_release(void *handle, struct open_record *r)
{
	for (guint i = 0; i < r->name_fds->len; i++)
		close(g_array_index(r->name_fds, int, i));
	g_hash_table_remove(records, handle);
}

int iopgt_loader_close(void *handle, const char *path, char **error)
{
	struct mapped_search s = { 0 };
	struct open_record *r;
	struct link_map *lm = NULL;
	g_autofree char *lname = NULL;
	int ret = 0;

	pthread_mutex_lock(&loader_lock);
	r = record_get(handle);
	r->opens--;
	if (!dlinfo(handle, RTLD_DI_LINKMAP, &lm) && lm) {
		s.base = lm->l_addr;
		lname = g_strdup(lm->l_name ? lm->l_name : "");
	}
	dlerror();
	if (dlclose(handle)) {
		*error = take_dlerror(lname, path, "dlclose failed");
		ret = -EIO;
		goto out;
	}
	/* another host context still has it open: this one is done */
	if (r->opens > 0)
		goto out;
	/*
	 * glibc keeps NODELETE objects, unique symbols and objects with
	 * pending thread_local destructors mapped: say so, don't pretend.
	 * Their names stay bound, so their descriptors stay reserved.
	 */
	s.name = lname;
	if (lname)
		dl_iterate_phdr(find_mapped, &s);
	if (s.found) {
		*error = g_strdup("still mapped after dlclose (NODELETE, "
				  "unique symbol or thread-local destructor)");
		ret = 1;
		goto out;
	}
	record_release(handle, r);
out:
	pthread_mutex_unlock(&loader_lock);
	return ret;
}

/* ---- the probe child: no locks, no records, the process is thrown away -- */

int iopgt_loader_probe_open(int fd, const char *path, void **handle,
			    char **error)
{
	char name[64];
	const char *use = path;
	void *h;

	if (fd >= 0 && proc_fd_usable()) {
		snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
		use = name;
	}
	dlerror();
	h = dlopen(use, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*error = take_dlerror(use, path,
				      "dlopen failed without a reason");
		return -ENOEXEC;
	}
	*handle = h;
	return 0;
}

void iopgt_loader_probe_close(void *handle)
{
	dlclose(handle);
}
