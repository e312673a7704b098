// SPDX-License-Identifier: MIT
/*
 * The dynamic loader: the only file that includes <dlfcn.h>.
 *
 * RTLD_NOW so an unresolved symbol fails here, at load, not at the first
 * map(); RTLD_LOCAL so one plugin's symbols never satisfy another's.
 * dlerror() is cleared before each call and its text kept verbatim, since
 * "failed: Success" style messages are what users complain about most.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "iopgt-internal.h"

/*
 * glibc hands every dlopen() of one file the same handle, whichever host
 * context asked.  The only process-wide state of the library mirrors that:
 * how many opens of each handle are outstanding, so that a dlclose which
 * leaves the object mapped because another host still holds it is not
 * mistaken for NODELETE ("resident").
 */
static pthread_mutex_t opens_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *opens;	/* handle -> outstanding opens */

static void opens_add(void *handle, int delta, int *now)
{
	pthread_mutex_lock(&opens_lock);
	if (!opens)
		opens = g_hash_table_new(NULL, NULL);
	*now = GPOINTER_TO_INT(g_hash_table_lookup(opens, handle)) + delta;
	if (*now > 0)
		g_hash_table_insert(opens, handle, GINT_TO_POINTER(*now));
	else
		g_hash_table_remove(opens, handle);
	pthread_mutex_unlock(&opens_lock);
}

/* dlerror() text, without the "PATH: " glibc puts first (callers do). */
static char *take_dlerror(const char *path, const char *fallback)
{
	const char *e = dlerror();
	size_t n = path ? strlen(path) : 0;

	if (!e)
		return g_strdup(fallback);
	if (n && !strncmp(e, path, n) && !strncmp(e + n, ": ", 2))
		e += n + 2;
	return g_strdup(e);
}

int iopgt_loader_open(const char *path, void **handle, char **error)
{
	void *h;

	dlerror();
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*error = take_dlerror(path, "dlopen failed without a reason");
		return -ENOEXEC;
	}
	*handle = h;
	opens_add(h, 1, &(int){ 0 });
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

int iopgt_loader_find_desc(void *handle,
			   const struct iopgt_plugin_desc **desc,
			   char **error)
{
	void *sym;
	int type;

	dlerror();
	sym = dlsym(handle, IOPGT_PLUGIN_SYMBOL);
	if (!sym) {
		char *why = take_dlerror(NULL, "symbol is NULL");

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

int iopgt_loader_close(void *handle, const char *path, char **error)
{
	void *again;
	int others;

	opens_add(handle, -1, &others);
	dlerror();
	if (dlclose(handle)) {
		*error = take_dlerror(path, "dlclose failed");
		return -EIO;
	}
	/* another host context still has it open: this one is done */
	if (others > 0)
		return 0;
	/* glibc keeps NODELETE objects, unique symbols and objects with
	 * pending thread_local destructors mapped: say so, don't pretend. */
	again = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	if (again) {
		dlclose(again);
		*error = g_strdup("still mapped after dlclose (NODELETE, "
				  "unique symbol or thread-local destructor)");
		return 1;
	}
	return 0;
}
