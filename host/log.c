// SPDX-License-Identifier: MIT
/*
 * The host's log: one sink (function and data) per host, a priority, and
 * the "last error" of each thread.
 *
 * Lines logged while the calling thread holds the host lock are queued
 * and handed to the sink after it lets go: a log function is the user's
 * code, and the host never runs user code under its lock.
 *
 * The sink is swapped atomically because formats log from lock-free op
 * paths while another thread may call iopgt_host_set_log_fn(); a replaced
 * sink is kept until the host goes, so a logger that loaded the old
 * pointer still calls a valid pair.
 *
 * Why a call failed travels as a value, not through the log: every error
 * and warning line logged for a host is also appended to the calling
 * thread's record for that host (whatever the priority filter says), and
 * iopgt_host_get_last_error() hands it back.  A thread may use several
 * hosts, so the records are keyed by the host's serial number (never
 * reused, unlike its address); a thread keeps LAST_ERROR_HOSTS of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iopgt-internal.h"

static void log_stderr(void *data, int priority, const char *file, int line,
		       const char *fn, const char *format, va_list args)
{
	(void)data;
	(void)file;
	(void)line;
	fprintf(stderr, "iopgt: %s%s", priority <= IOPGT_LOG_ERR ? "error: " :
		priority == IOPGT_LOG_WARNING ? "warning: " : "",
		priority >= IOPGT_LOG_DEBUG ? fn : "");
	if (priority >= IOPGT_LOG_DEBUG)
		fputs(": ", stderr);
	vfprintf(stderr, format, args);
	if (!*format || format[strlen(format) - 1] != '\n')
		fputc('\n', stderr);
}

static const struct iopgt_log_sink stderr_sink = { .fn = log_stderr };

/* "err", "warning", "info", "debug" or a number, as KMOD_LOG. */
static int log_priority_from_string(const char *s)
{
	static const struct {
		const char *name;
		int prio;
	} names[] = {
		{ "err", IOPGT_LOG_ERR },	{ "error", IOPGT_LOG_ERR },
		{ "warning", IOPGT_LOG_WARNING }, { "info", IOPGT_LOG_INFO },
		{ "debug", IOPGT_LOG_DEBUG },
	};
	char *end;
	long v;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (!g_ascii_strcasecmp(s, names[i].name))
			return names[i].prio;
	v = strtol(s, &end, 10);
	if (end != s && !*end && v >= 0 && v <= IOPGT_LOG_DEBUG)
		return (int)v;
	return -1;
}

void iopgt_log_init(struct iopgt_host *host)
{
	static _Atomic uint64_t serials;
	const char *env = secure_getenv("IOPGT_LOG");

	host->serial = atomic_fetch_add(&serials, 1) + 1;
	atomic_store(&host->sink, (struct iopgt_log_sink *)&stderr_sink);
	host->log_priority = IOPGT_LOG_WARNING;
	if (env && log_priority_from_string(env) >= 0)
		host->log_priority = log_priority_from_string(env);
}

void iopgt_log_fini(struct iopgt_host *host)
{
	/* the destroying thread's record goes now; others' age out */
	iopgt_host_clear_last_error(host);
	struct iopgt_log_sink *s = atomic_load(&host->sink);

	if (s != &stderr_sink)
		g_free(s);
	for (s = atomic_load(&host->old_sinks); s;) {
		struct iopgt_log_sink *next = s->next;

		g_free(s);
		s = next;
	}
}

void iopgt_host_set_log_fn(struct iopgt_host *host, iopgt_log_fn fn,
			   void *data)
{
	struct iopgt_log_sink *s = (struct iopgt_log_sink *)&stderr_sink;
	struct iopgt_log_sink *old;

	g_return_if_fail(host);
	if (fn) {
		s = g_new0(struct iopgt_log_sink, 1);
		s->fn = fn;
		s->data = data;
	}
	old = atomic_exchange(&host->sink, s);
	if (old == &stderr_sink)
		return;
	/* push old on the list: a logger may still be calling it */
	old->next = atomic_load(&host->old_sinks);
	while (!atomic_compare_exchange_weak(&host->old_sinks, &old->next,
					     old))
		;
}

int iopgt_host_get_log_priority(const struct iopgt_host *host)
{
	g_return_val_if_fail(host, 0);
	return atomic_load(&((struct iopgt_host *)host)->log_priority);
}

void iopgt_host_set_log_priority(struct iopgt_host *host, int priority)
{
	g_return_if_fail(host);
	atomic_store(&host->log_priority, priority);
}

/* ---- the last error of each thread --------------------------------------- */

/*
 * A thread keeps the records of the last few hosts it logged for (a
 * program rarely drives more): bounded, so a thread that makes and drops
 * hosts by the thousand (a fuzzer, a test) holds no more than this.  A
 * host's destroy drops the destroying thread's record at once.
 */
#define LAST_ERROR_HOSTS	8

struct last_error {
	uint64_t serial;	/* the host's */
	GString *text;
	GHashTable *lines;	/* what text holds, to keep a line once */
};

static void last_error_free(gpointer data)
{
	struct last_error *le = data;

	g_string_free(le->text, TRUE);
	g_hash_table_unref(le->lines);
	g_free(le);
}

/* struct last_error *, most recently used first, per thread */
static GPrivate records_key = G_PRIVATE_INIT((GDestroyNotify)g_ptr_array_unref);

static GPtrArray *thread_records(bool create)
{
	GPtrArray *a = g_private_get(&records_key);

	if (!a && create) {
		a = g_ptr_array_new_with_free_func(last_error_free);
		g_private_set(&records_key, a);
	}
	return a;
}

static guint record_index(GPtrArray *a, uint64_t serial)
{
	for (guint i = 0; a && i < a->len; i++)
		if (((struct last_error *)a->pdata[i])->serial == serial)
			return i;
	return G_MAXUINT;
}

static void last_error_add(const struct iopgt_host *host, const char *line)
{
	GPtrArray *a = thread_records(true);
	guint i = record_index(a, host->serial);
	struct last_error *le;

	if (i == G_MAXUINT) {
		if (a->len >= LAST_ERROR_HOSTS)
			g_ptr_array_remove_index(a, a->len - 1);
		le = g_new(struct last_error, 1);
		le->serial = host->serial;
		le->text = g_string_new(NULL);
		le->lines = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, NULL);
		g_ptr_array_insert(a, 0, le);
	} else {
		le = a->pdata[i];
	}
	if (g_hash_table_contains(le->lines, line))
		return;
	g_hash_table_add(le->lines, g_strdup(line));
	if (le->text->len)
		g_string_append(le->text, "; ");
	g_string_append(le->text, line);
}

const char *iopgt_host_get_last_error(struct iopgt_host *host)
{
	GPtrArray *a = thread_records(false);
	guint i;
	struct last_error *le;

	g_return_val_if_fail(host, NULL);
	i = record_index(a, host->serial);
	if (i == G_MAXUINT)
		return NULL;
	le = a->pdata[i];
	return le->text->len ? le->text->str : NULL;
}

void iopgt_host_clear_last_error(struct iopgt_host *host)
{
	GPtrArray *a = thread_records(false);
	guint i;

	g_return_if_fail(host);
	i = record_index(a, host->serial);
	if (i != G_MAXUINT)
		g_ptr_array_remove_index(a, i);
}

/* ---- lines held while the host lock is ---------------------------------- */

struct held_line {
	int priority;
	const char *file;	/* __FILE__ and __func__: static strings */
	int line;
	const char *fn;
	char *msg;
};

static void held_line_free(gpointer data)
{
	struct held_line *h = data;

	g_free(h->msg);
	g_free(h);
}

static _Thread_local const struct iopgt_host *holding;
static GPrivate held_key = G_PRIVATE_INIT((GDestroyNotify)g_ptr_array_unref);

static GPtrArray *held_lines(void)
{
	GPtrArray *a = g_private_get(&held_key);

	if (!a) {
		a = g_ptr_array_new_with_free_func(held_line_free);
		g_private_set(&held_key, a);
	}
	return a;
}

void iopgt_log_hold(const struct iopgt_host *host)
{
	holding = host;
}

/* Called right after the lock was let go. */
static void emit(struct iopgt_host *host, int priority, const char *file,
		 int line, const char *fn, const char *format, ...)
	_printf_(6, 7);

void iopgt_log_release(struct iopgt_host *host)
{
	GPtrArray *a;

	holding = NULL;
	a = g_private_get(&held_key);
	if (!a || !a->len)
		return;
	/* a sink may log again (into a new array round) */
	g_private_set(&held_key, NULL);
	for (guint i = 0; i < a->len; i++) {
		struct held_line *h = g_ptr_array_index(a, i);

		emit(host, h->priority, h->file, h->line, h->fn, "%s", h->msg);
	}
	g_ptr_array_unref(a);
}

/* ---- logging ---------------------------------------------------------------- */

static void sink_va(struct iopgt_host *host, int priority, const char *file,
		    int line, const char *fn, const char *format, va_list args)
{
	struct iopgt_log_sink *s = atomic_load(&host->sink);

	s->fn(s->data, priority, file, line, fn, format, args);
}

static void emit(struct iopgt_host *host, int priority, const char *file,
		 int line, const char *fn, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	sink_va(host, priority, file, line, fn, format, args);
	va_end(args);
}

static void log_va(struct iopgt_host *host, int priority, const char *file,
		   int line, const char *fn, const char *format, va_list args)
{
	bool shown = atomic_load(&host->log_priority) >= priority;
	g_autofree char *msg = NULL;

	if (priority > IOPGT_LOG_WARNING && shown && holding != host) {
		sink_va(host, priority, file, line, fn, format, args);
		return;
	}
	msg = g_strdup_vprintf(format, args);
	if (priority <= IOPGT_LOG_WARNING) {
		g_autofree char *line_text = g_strchomp(g_strdup(msg));

		last_error_add(host, line_text);
	}
	if (!shown)
		return;
	if (holding == host) {
		struct held_line *h = g_new(struct held_line, 1);

		*h = (struct held_line){ priority, file, line, fn,
					 g_steal_pointer(&msg) };
		g_ptr_array_add(held_lines(), h);
		return;
	}
	emit(host, priority, file, line, fn, "%s", msg);
}

void iopgt_log(struct iopgt_host *host, int priority, const char *file,
	       int line, const char *fn, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	log_va(host, priority, file, line, fn, format, args);
	va_end(args);
}

bool iopgt_log_wanted(const struct iopgt_host *host, int priority)
{
	return priority <= IOPGT_LOG_WARNING ||
	       atomic_load(&((struct iopgt_host *)host)->log_priority) >=
	       priority;
}

/* The log entry of the services table formats call (host-services.h). */
void iopgt_svc_log(void *log_ctx, int prio, const char *file, int line,
		   const char *fn, const char *format, ...)
{
	struct iopgt_host *host = log_ctx;
	va_list ap;

	if (!host || !iopgt_log_wanted(host, prio))
		return;
	va_start(ap, format);
	log_va(host, prio, file, line, fn, format, ap);
	va_end(ap);
}
