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

struct report {
	char *stage;
	bool done;
	struct iopgt_cache_entry *entry;
	GPtrArray *formats;
	GPtrArray *aliases;
};

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
		r->entry->name = g_steal_pointer(&value);
	else if (!strcmp(line, "version"))
		r->entry->version = g_steal_pointer(&value);
	else if (!strcmp(line, "description"))
		r->entry->description = g_steal_pointer(&value);
	else if (!strcmp(line, "license"))
		r->entry->license = g_steal_pointer(&value);
	else if (!strcmp(line, "format"))
		g_ptr_array_add(r->formats, g_steal_pointer(&value));
	else if (!strcmp(line, "alias"))
		g_ptr_array_add(r->aliases, g_steal_pointer(&value));
}

static void report_parse(struct report *r, GString *buf)
{
	char *line = buf->str, *nl;

	while ((nl = strchr(line, '\n'))) {
		*nl = '\0';
		report_line(r, line);
		line = nl + 1;
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

/* Read until EOF or the deadline.  Returns: true on EOF. */
static bool read_report(int in, GString *buf, gint64 deadline)
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
		/* a plugin cannot make the host buffer without bound */
		if (buf->len < 1 << 20)
			g_string_append_len(buf, chunk, n);
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
	if (r->done && eof && !killed)
		return NULL;
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

/*
 * Fork, run the plugin in the child, judge.  Returns a new cache entry
 * (bad or good), never NULL; the host lock is held.
 */
static void probe_file(struct iopgt_host *host, const char *path, int fd,
		       struct iopgt_cache_entry *entry)
{
	struct report r = {
		.entry = entry,
		.formats = g_ptr_array_new(),
		.aliases = g_ptr_array_new(),
	};
	g_autoptr(GString) buf = g_string_new(NULL);
	gint64 start = g_get_monotonic_time();
	gint64 deadline = start + (gint64)host->probe_timeout_ms * 1000;
	int pipefd[2];
	bool eof, killed;
	int status;
	pid_t pid;

	/* a second probe of the same file (cache cleared) starts afresh */
	g_clear_pointer(&entry->reason, g_free);
	g_clear_pointer(&entry->name, g_free);
	g_clear_pointer(&entry->version, g_free);
	g_clear_pointer(&entry->description, g_free);
	g_clear_pointer(&entry->license, g_free);
	g_clear_pointer(&entry->formats, g_strfreev);
	g_clear_pointer(&entry->aliases, g_strfreev);
	entry->probed = true;
	if (pipe2(pipefd, O_CLOEXEC)) {
		/* can't judge: load as without probe, and ask again later */
		entry->probed = false;
		WARN(host, "%s: cannot probe: pipe: %s", path,
		     g_strerror(errno));
		goto out;
	}
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
		WARN(host, "%s: cannot probe: fork: %s", path,
		     g_strerror(errno));
		close(pipefd[0]);
		entry->probed = false;
		goto out;
	}
	eof = read_report(pipefd[0], buf, deadline);
	close(pipefd[0]);
	status = reap(pid, eof ? deadline : 0, &killed);
	report_parse(&r, buf);
	r.entry->reason = verdict(&r, status, eof, killed,
				  host->probe_timeout_ms);
	r.entry->bad = r.entry->reason != NULL;
	host->probe_stats.probes++;
out:
	r.entry->formats = take_strv(r.formats);
	r.entry->aliases = take_strv(r.aliases);
	r.entry->probe_us = (g_get_monotonic_time() - start);
	host->probe_stats.probe_ns += (uint64_t)r.entry->probe_us * 1000;
	g_free(r.stage);
	DBG(host, "%s: probed in %.3f ms: %s", path,
	    (double)r.entry->probe_us / 1000.0,
	    r.entry->bad ? r.entry->reason : "clean");
}

static void plugin_take_metadata(struct iopgt_plugin *p,
				 const struct iopgt_cache_entry *e)
{
	g_strfreev(p->provides);
	p->provides = NULL;
	if (e->formats) {
		GPtrArray *all = g_ptr_array_new();

		for (char **f = e->formats; *f; f++)
			g_ptr_array_add(all, g_strdup(*f));
		for (char **a = e->aliases; a && *a; a++)
			g_ptr_array_add(all, g_strdup(*a));
		p->provides = take_strv(all);
	}
	if (!p->version && e->version)
		iopgt_plugin_set_text(p, &p->version, g_strdup(e->version));
	if (!p->description && e->description)
		iopgt_plugin_set_text(p, &p->description,
				      g_strdup(e->description));
	if (!p->license && e->license)
		iopgt_plugin_set_text(p, &p->license, g_strdup(e->license));
}

int iopgt_probe_plugin(struct iopgt_host *host, struct iopgt_plugin *p,
		       int fd, const struct stat *st)
{
	struct iopgt_file_id id;
	struct iopgt_cache_entry *e;

	iopgt_file_id_from_stat(&id, st);
	e = iopgt_cache_get(host->cache, p->path, &id);
	if (e->probed) {
		host->probe_stats.cache_hits++;
	} else {
		g_autofree char *why = NULL;

		probe_file(host, p->path, fd, e);
		if (iopgt_cache_save(host->cache, &why))
			WARN(host, "probe cache: %s", why);
	}
	plugin_take_metadata(p, e);
	if (!e->bad)
		return 0;
	host->probe_stats.blacklisted++;
	iopgt_plugin_set_text(p, &p->error, g_strdup(e->reason));
	p->state = IOPGT_PLUGIN_BLACKLISTED;
	ERR(host, "%s: %s", p->path, p->error);
	return -EPERM;
}
