// SPDX-License-Identifier: MIT
/*
 * Descriptors.  The loader keeps one descriptor per loaded plugin (its
 * /proc/self/fd name must stay unique while the object is mapped, see
 * loader.c), so a host with many plugins can reach the common soft limit
 * of 1,024 long before the hard limit.  When an open fails with EMFILE the
 * soft limit is raised towards the hard one, once per need, and the open
 * is tried again; when that cannot help, the words say whose limit it is
 * rather than blaming the plugin.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>

#include "iopgt-internal.h"

static pthread_mutex_t raise_lock = PTHREAD_MUTEX_INITIALIZER;

bool iopgt_fd_raise_limit(void)
{
	struct rlimit rl;
	bool raised = false;

	pthread_mutex_lock(&raise_lock);
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_cur * 2;

		rl.rlim_cur = want > rl.rlim_cur && want < rl.rlim_max ?
			      want : rl.rlim_max;
		raised = !setrlimit(RLIMIT_NOFILE, &rl);
	}
	pthread_mutex_unlock(&raise_lock);
	return raised;
}

char *iopgt_fd_limit_text(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return g_strdup("too many open files");
	return g_strdup_printf("too many open files: the process has used its "
			       "limit of %llu descriptors (the host keeps one "
			       "per loaded plugin; raise it with ulimit -n)",
			       (unsigned long long)rl.rlim_cur);
}
