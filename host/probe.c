// SPDX-License-Identifier: MIT
/*
 * Crash isolation: run a new plugin's code in a throw-away child first.
 *
 * GStreamer's answer to plugins that crash on load is a scanner process and
 * a blacklist; ours is a fork() per plugin file not seen before.  The child
 * maps the already-checked descriptor, runs the descriptor checks and
 * register_fn against a registrar that only records, calls unregister_fn
 * and dlclose, and reports each stage over a pipe.  The parent reads with a
 * deadline.  A child that dies, exits or goes quiet before "done" names the
 * stage it was in, and the plugin is blacklisted; the host process never
 * ran a line of it.  A clean child (even one whose plugin failed politely,
 * say with a bad descriptor) means the in-process load is safe to attempt,
 * and that load then reports the ordinary errors.
 *
 * The child only calls what is safe after fork() in a threaded parent:
 * glibc's malloc and dynamic loader (the parent holds the loader lock
 * across fork() so no dlopen of ours is half-done), write() and _exit().
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iopgt-internal.h"

/* ---- the child ------------------------------------------------------------ */

struct child {
	int out;
	GPtrArray *formats;
	GPtrArray *aliases;
};

static void child_write(struct child *c, const char *key, const char *value)
{
	g_autofree char *esc = value ? g_strescape(value, NULL) : NULL;
	g_autofree char *line = g_strdup_printf("%s %s\n", key,
						esc ? esc : "");
	size_t len = strlen(line);
	const char *p = line;

	while (len) {
		ssize_t n = write(c->out, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(120);
		p += n;
		len -= (size_t)n;
	}
}

static int child_register_format(struct iopgt_registrar *reg,
				 const struct iopgt_format *fmt)
{
	struct child *c = reg->host_priv;

	/* Only record: the parent's registry decides conflicts in-process. */
	if (!fmt || !fmt->name)
		return -EINVAL;
	if (strnlen(fmt->name, IOPGT_NAME_MAX + 1) <= IOPGT_NAME_MAX)
		child_write(c, "format", fmt->name);
	if (fmt->alias && strnlen(fmt->alias, IOPGT_NAME_MAX + 1) <=
	    IOPGT_NAME_MAX)
		child_write(c, "alias", fmt->alias);
	return 0;
}

static void child_default_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
				    SIGPIPE, SIGALRM, SIGTERM };

	for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++)
		signal(sigs[i], SIG_DFL);
}

static G_NORETURN void child_main(int out, int fd, const char *path)
{
	struct child c = { .out = out };
	const struct iopgt_plugin_desc *desc;
	struct iopgt_registrar reg = {
		.svc = &iopgt_host_services,
		.log_ctx = NULL,	/* the child says nothing */
		.register_format = child_register_format,
		.host_priv = &c,
	};
	char *why = NULL;
	void *handle;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_default_signals();
	child_write(&c, "stage", "dlopen");
	if (iopgt_loader_probe_open(fd, path, &handle, &why)) {
		child_write(&c, "fail", why);
		goto done;
	}
	if (iopgt_loader_find_desc(handle, path, &desc, &why) ||
	    iopgt_desc_check(desc, NULL, &why) ||
	    iopgt_loader_check_code(handle, (const void *)desc->register_fn)) {
		child_write(&c, "fail", why ? why : "register_fn is not code");
		goto close;
	}
	child_write(&c, "name", desc->name);
	child_write(&c, "version", desc->version);
	child_write(&c, "description", desc->description);
	child_write(&c, "license", desc->license);
	child_write(&c, "stage", "register_fn");
	ret = desc->register_fn(&reg);
	if (ret >= 0 && desc->unregister_fn) {
		child_write(&c, "stage", "unregister_fn");
		desc->unregister_fn();
	}
close:
	child_write(&c, "stage", "dlclose");
	iopgt_loader_probe_close(handle);
done:
	child_write(&c, "done", NULL);
	_exit(0);
}

/* ---- the parent ----------------------------------------------------------- */

/*
 * The report is parsed as it streams in, so its size never matters: a
 * plugin that registers many formats cannot push "done" past a buffer
 * limit and get a clean child blacklisted.  What it can make the host keep
 * is bounded: one line (PROBE_LINE_MAX) and PROBE_FORMATS_MAX names.
 */
#define PROBE_LINE_MAX		(64 * 1024)
#define PROBE_FORMATS_MAX	65536

struct report {
	char *stage;
	bool done;
	bool overflow;		/* a line or the name count went past its bound */
	struct iopgt_plugin_info *seen;
	GPtrArray *formats;
	GPtrArray *aliases;
	GString *line;		/* the partial line so far */
};

static void report_text(char **field, char **value)
{
	g_free(*field);
	*field = g_steal_pointer(value);
}

static void report_name(struct report *r, GPtrArray *list, char **value)
{
	if (r->formats->len + r->aliases->len >= PROBE_FORMATS_MAX) {
		r->overflow = true;
		return;
	}
	g_ptr_array_add(list, g_steal_pointer(value));
}

static void report_line(struct report *r, char *line)
{
	char *sp = strchr(line, ' ');
	g_autofree char *value = NULL;

	if (!sp)
		return;
	*sp = '\0';
	value = g_strcompress(sp + 1);
	if (!strcmp(line, "stage"))
		g_free(r->stage), r->stage = g_steal_pointer(&value);
	else if (!strcmp(line, "done"))
		r->done = true;
	else if (!strcmp(line, "name"))
		report_text(&r->seen->name, &value);
	else if (!strcmp(line, "version"))
		report_text(&r->seen->version, &value);
	else if (!strcmp(line, "description"))
		report_text(&r->seen->description, &value);
	else if (!strcmp(line, "license"))
		report_text(&r->seen->license, &value);
	else if (!strcmp(line, "format"))
		report_name(r, r->formats, &value);
	else if (!strcmp(line, "alias"))
		report_name(r, r->aliases, &value);
}

/* Feed a chunk: complete lines are parsed at once. */
static void report_feed(struct report *r, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (r->line->len < PROBE_LINE_MAX)
				g_string_append_c(r->line, buf[i]);
			else
				r->overflow = true;
			continue;
		}
		report_line(r, r->line->str);
		g_string_truncate(r->line, 0);
	}
}

static const char *stage_text(const char *stage)
{
	if (!stage)
		return "before loading";
	if (!strcmp(stage, "dlopen"))
		return "in dlopen";
	if (!strcmp(stage, "dlclose"))
		return "in dlclose (destructors)";
	if (!strcmp(stage, "register_fn"))
		return "in register_fn";
	if (!strcmp(stage, "unregister_fn"))
		return "in unregister_fn";
	return stage;
}

/* Read and parse until EOF or the deadline.  Returns: true on EOF. */
static bool read_report(int in, struct report *r, gint64 deadline)
{
	char chunk[4096];

	for (;;) {
		struct pollfd pfd = { .fd = in, .events = POLLIN };
		gint64 left = deadline - g_get_monotonic_time();
		ssize_t n;
		int ready;

		if (left <= 0)
			return false;
		ready = poll(&pfd, 1, (int)((left + 999) / 1000));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return false;
		n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		report_feed(r, chunk, (size_t)n);
	}
}

/* Wait for the child until the deadline, then kill it. */
static int reap(pid_t pid, gint64 deadline, bool *killed)
{
	int status = 0;

	*killed = false;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;	/* SIGCHLD ignored: auto-reaped */
		if (g_get_monotonic_time() >= deadline) {
			kill(pid, SIGKILL);
			*killed = true;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return status;
		}
		g_usleep(200);
	}
}

static char *verdict(const struct report *r, int status, bool eof,
		     bool killed, unsigned int timeout_ms)
{
	const char *where = stage_text(r->stage);

	/*
	 * "done" is written after dlclose: the plugin's code is finished.
	 * How the child then exits is not the plugin's doing (valgrind, for
	 * one, leak-checks the child's copy of our heap and exits 99).
	 */
	if (r->done && eof && !killed && !r->overflow)
		return NULL;
	if (r->overflow)
		return g_strdup_printf("probe: the plugin registers more than "
				       "%d format names, or names longer "
				       "than %d bytes", PROBE_FORMATS_MAX,
				       PROBE_LINE_MAX);
	if (!eof || killed)
		return g_strdup_printf("probe: no answer within %u ms %s "
				       "(killed)", timeout_ms, where);
	if (status >= 0 && WIFSIGNALED(status))
		return g_strdup_printf("probe: killed by signal %d (%s) %s",
				       WTERMSIG(status),
				       g_strsignal(WTERMSIG(status)), where);
	if (status >= 0 && WIFEXITED(status))
		return g_strdup_printf("probe: exited with status %d %s",
				       WEXITSTATUS(status), where);
	return g_strdup_printf("probe: vanished %s", where);
}

static char **take_strv(GPtrArray *a)
{
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

/* Fork a child that runs the plugin; -errno if none could be started. */
static pid_t spawn(const char *path, int fd, int *in)
{
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	/* the child must not flush the parent's buffered output again */
	fflush(NULL);
	iopgt_loader_lock();
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child_main(pipefd[1], fd, path);
	}
	iopgt_loader_unlock();
	close(pipefd[1]);
	if (pid < 0) {
		int ret = -errno;

		close(pipefd[0]);
		return ret;
	}
	*in = pipefd[0];
	return pid;
}

void iopgt_probe_file(const char *path, int fd, unsigned int timeout_ms,
		      struct iopgt_cache_entry *e)
{
	struct report r = {
		.seen = g_new0(struct iopgt_plugin_info, 1),
		.formats = g_ptr_array_new(),
		.aliases = g_ptr_array_new(),
		.line = g_string_new(NULL),
	};
	gint64 start = g_get_monotonic_time();
	gint64 deadline = start + (gint64)timeout_ms * 1000;
	bool eof, killed;
	int status, in = -1;
	pid_t pid;

	pid = spawn(path, fd, &in);
	/* can't judge: load as without probe, and ask again later */
	e->probed = pid > 0;
	if (pid > 0) {
		eof = read_report(in, &r, deadline);
		close(in);
		status = reap(pid, eof ? deadline : 0, &killed);
		e->reason = verdict(&r, status, eof, killed, timeout_ms);
		e->bad = e->reason != NULL;
	}
	/* formats, then aliases */
	for (guint i = 0; i < r.aliases->len; i++)
		g_ptr_array_add(r.formats, r.aliases->pdata[i]);
	g_ptr_array_free(r.aliases, TRUE);
	r.seen->provides = take_strv(r.formats);
	r.seen->softdeps = g_new0(char *, 1);
	iopgt_plugin_info_free(e->seen);
	e->seen = r.seen;
	e->probe_us = g_get_monotonic_time() - start;
	g_free(r.stage);
	g_string_free(r.line, TRUE);
}
