// SPDX-License-Identifier: MIT
/*
 * Shared by the fuzz targets: see fuzz-host.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "fuzz-host.h"

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...)
{
	va_list ap;

	dprintf(2, "%s:%d: invariant broken: %s", file, line, cond);
	if (*fmt) {
		dprintf(2, ": ");
		va_start(ap, fmt);
		vdprintf(2, fmt, ap);
		va_end(ap);
	}
	dprintf(2, "\n");
	abort();
}

static void glib_log(const char *domain, GLogLevelFlags level,
		     const char *message, gpointer data)
{
	(void)data;
	dprintf(2, "%s-%s: %s\n", domain ? domain : "glib",
		level & G_LOG_LEVEL_ERROR ? "ERROR" :
		level & G_LOG_LEVEL_CRITICAL ? "CRITICAL" :
		level & G_LOG_LEVEL_WARNING ? "WARNING" : "message", message);
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
		     G_LOG_LEVEL_WARNING))
		abort();
}

bool fuzz_verbose;

/* A target without set-up of its own links this one. */
__attribute__((weak)) void fuzz_target_init(void)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_verbose = getenv("IOPGT_FUZZ_VERBOSE") != NULL;
	/* before GLib's first allocation: plain malloc, freed memory poisoned */
	setenv("G_SLICE", "always-malloc", 1);
	setenv("G_DEBUG", "gc-friendly", 1);
	unsetenv("IOPGT_PLUGIN_PATH");
	unsetenv("IOPGT_LOG");
	g_log_set_default_handler(glib_log, NULL);
	fuzz_target_init();
	return 0;
}

/* Format every message (the sanitizers see its arguments), keep none. */
static void quiet_log(void *data, int priority, const char *file, int line,
		      const char *fn, const char *format, va_list args)
{
	char buf[256];

	(void)data;
	(void)priority;
	(void)file;
	(void)line;
	(void)fn;
	vsnprintf(buf, sizeof(buf), format, args);
}

struct iopgt_host *fuzz_host_new(iopgt_log_fn fn, void *data)
{
	struct iopgt_host *host = iopgt_host_new();
	int ret;

	FUZZ_CHECK(host);
	iopgt_host_set_log_fn(host, fn ? fn : quiet_log, fn ? data : NULL);
	iopgt_host_set_log_priority(host, IOPGT_LOG_WARNING);
	iopgt_host_set_probe(host, false);
	ret = iopgt_host_set_mem_size(host, FUZZ_MEM_SIZE);
	FUZZ_CHECK(ret == 0, "set_mem_size: %d", ret);
	iopgt_host_set_mem_limit(host, FUZZ_MEM_LIMIT);
	ret = iopgt_host_register_builtin(host, &iopgt_fuzz_lpae_desc, NULL);
	FUZZ_CHECK(ret == 0, "register io-pgtable-arm: %d", ret);
	ret = iopgt_host_register_builtin(host, &iopgt_fuzz_v7s_desc, NULL);
	FUZZ_CHECK(ret == 0, "register io-pgtable-arm-v7s: %d", ret);
	return host;
}

void fuzz_host_free(struct iopgt_host *host)
{
	FUZZ_CHECK(iopgt_host_get_table_count(host) == 0);
	FUZZ_CHECK(iopgt_host_unref(host) == NULL,
		   "something still holds the host");
}
