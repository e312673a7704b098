// SPDX-License-Identifier: MIT
/*
 * The host lock and its condition.  The lock guards plugin records, the
 * format table, the manifest and settings; it is held only for short
 * bookkeeping (see struct iopgt_host).  Lines logged while a thread holds
 * it reach the user's log function after the unlock (log.c), so no user
 * code ever runs under it.  The condition is broadcast when a load
 * finishes, a record closes or a table goes.
 */
#include <time.h>

#include "iopgt-internal.h"

/* CLOCK_MONOTONIC, the clock g_get_monotonic_time() reads. */
void iopgt_host_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

void iopgt_host_lock(struct iopgt_host *host)
{
	pthread_mutex_lock(&host->lock);
	iopgt_log_hold(host);
}

void iopgt_host_unlock(struct iopgt_host *host)
{
	pthread_mutex_unlock(&host->lock);
	/* what was logged meanwhile reaches the user's log function now */
	iopgt_log_release(host);
}

void iopgt_host_wait(struct iopgt_host *host)
{
	pthread_cond_wait(&host->changed, &host->lock);
}

bool iopgt_host_wait_until(struct iopgt_host *host, gint64 deadline_us)
{
	struct timespec ts = {
		.tv_sec = deadline_us / G_USEC_PER_SEC,
		.tv_nsec = (deadline_us % G_USEC_PER_SEC) * 1000,
	};

	if (g_get_monotonic_time() >= deadline_us)
		return false;
	pthread_cond_timedwait(&host->changed, &host->lock, &ts);
	return g_get_monotonic_time() < deadline_us;
}

void iopgt_host_broadcast(struct iopgt_host *host)
{
	pthread_cond_broadcast(&host->changed);
}
