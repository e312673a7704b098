/* SPDX-License-Identifier: MIT */
/*
 * The level-2 table allocator of the v7s format: Linux's per-table
 * "io-pgtable_armv7s_l2" kmem_cache, written small.
 *
 * A v7s level-2 table is 1 KiB (256 x u32) and must be 1 KiB aligned, but
 * the host hands out table memory by the 4 KiB page.  The cache packs four
 * tables into each page it takes, gives a page back as soon as its last
 * table is freed, and gives every page back when it is destroyed (with the
 * format's table).  It is thread-safe: threads mapping disjoint ranges of
 * one table allocate and free level-2 tables concurrently.
 */
#ifndef V7S_L2_CACHE_H
#define V7S_L2_CACHE_H

#include <pthread.h>
#include <stdint.h>

#include <iopgt/host-services.h>

#define V7S_L2_TABLE_SIZE	1024u	/* bytes in one level-2 table */
#define V7S_L2_PAGE_SIZE	4096u	/* taken from the host at a time */
#define V7S_L2_PER_PAGE		(V7S_L2_PAGE_SIZE / V7S_L2_TABLE_SIZE)

/* Pages are found by PA on free; 64 chains of a few pages each at most. */
#define V7S_L2_CACHE_BUCKETS	64
/* Threads carve tables from their own pages: thread n uses list n % 4. */
#define V7S_L2_CACHE_LISTS	4

struct v7s_l2_page;

/*
 * The pages a group of threads carves tables from.  Two lines apart from
 * the next (the block holding them is not line-aligned), so that threads
 * mapping disjoint ranges do not write the same line when they add a
 * table.
 */
struct v7s_l2_list {
	pthread_mutex_t lock;
	struct v7s_l2_page *partial;	/* pages with a free slot */
	char pad[128 - sizeof(pthread_mutex_t) - sizeof(void *)];
};

struct v7s_l2_cache {
	const struct iopgt_env *env;
	unsigned int flags;		/* alloc_pages flags */
	uint64_t pa_limit;		/* tables must lie below it */
	/* V7S_L2_CACHE_LISTS of them, a block of their own made with the
	 * first table (NULL before): in the cache they would cost every
	 * new format table 512 bytes more to zero */
	struct v7s_l2_list *lists;
	/* taken inside a list's lock, never around one */
	pthread_mutex_t hash_lock;
	struct v7s_l2_page *buckets[V7S_L2_CACHE_BUCKETS];
};

/* Returns: 0 (it cannot fail; an int for the callers' sake). */
int v7s_l2_cache_init(struct v7s_l2_cache *cache, const struct iopgt_env *env,
		      unsigned int flags, uint64_t pa_limit);
/* Gives every page back, whether its tables were freed or not. */
void v7s_l2_cache_destroy(struct v7s_l2_cache *cache);
/*
 * A zeroed, 1 KiB aligned level-2 table below pa_limit, or NULL when the
 * host refuses memory or the page it gave does not fit (logged).
 */
void *v7s_l2_cache_alloc(struct v7s_l2_cache *cache);
void v7s_l2_cache_free(struct v7s_l2_cache *cache, void *table);
/*
 * Adopting a saved table: table, in a page the host put back at its saved
 * PA (v7s_adopt), is in use.  Returns: 0, -ENOMEM or -EEXIST (taken).
 */
int v7s_l2_cache_adopt(struct v7s_l2_cache *cache, void *table);
/* Drop every page's record but not the page: a refused adopt, whose pages
 * are the host's to take back.  The cache stays usable. */
void v7s_l2_cache_forget(struct v7s_l2_cache *cache);

#endif /* V7S_L2_CACHE_H */
