// SPDX-License-Identifier: MIT
/*
 * Level-2 tables for the v7s format, four to a page (see v7s-l2-cache.h).
 *
 * Each page has a small record (format state, from the host's zalloc) with
 * a bitmap of its used slots.  Records sit on two lists: a hash chain by
 * page address, so that free() finds the record of a table, and a list of
 * partial pages, so that alloc() finds a free slot without searching.
 *
 * Threads mapping disjoint ranges each take a table per MiB, in step with
 * each other.  Had they one list and one lock, every table would move the
 * lock, the list head and a page's bitmap from one CPU to the other, and
 * a collision would cost a futex round trip: for 4K pages that doubled the
 * CPU time per page with two threads.  So each thread carves tables from
 * pages of its own list (thread n: list n % V7S_L2_CACHE_LISTS), under
 * that list's lock; the hash chains have their own lock, taken only when
 * a page comes or goes.  A page stays on the list of the thread that took
 * it from the host, whoever frees its tables.  One thread alone uses one
 * list, so a sequence of operations gets the same tables as with a single
 * list.  New pages are got from the host before any lock is taken, and
 * the locks spin briefly before sleeping (adaptive mutexes).
 */
#define _GNU_SOURCE	/* PTHREAD_MUTEX_ADAPTIVE_NP */
#define pr_fmt(fmt) "arm-v7s: " fmt

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <iopgt/bits.h>

#include "v7s-l2-cache.h"

#define SLOTS_ALL	((1u << V7S_L2_PER_PAGE) - 1)

struct v7s_l2_page {
	struct v7s_l2_page *hash_next;
	struct v7s_l2_page *partial_next;
	struct v7s_l2_page **partial_pprev;	/* NULL: not on the list */
	void *va;
	struct v7s_l2_list *list;		/* whose pages: never changes */
	unsigned int used;			/* bit n: slot n is taken */
};

/* adaptive mutexes: spin briefly before sleeping */
static const pthread_mutex_t adaptive_mutex =
	PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;

/*
 * The lists, made at the first table: a table that never gets one (an
 * empty table's alloc + free) does not pay for them.  Threads racing
 * here both make them; the first to publish wins.  NULL: no memory.
 */
static __noinline __cold struct v7s_l2_list *
lists_new(struct v7s_l2_cache *cache)
{
	const struct iopgt_env *env = cache->env;
	struct v7s_l2_list *lists, *old = NULL;

	lists = env->svc->zalloc(env->mem,
				 V7S_L2_CACHE_LISTS * sizeof(*lists));
	if (!lists)
		return NULL;
	for (unsigned int i = 0; i < V7S_L2_CACHE_LISTS; i++)
		lists[i].lock = adaptive_mutex;
	if (__atomic_compare_exchange_n(&cache->lists, &old, lists, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return lists;
	env->svc->free(env->mem, lists);
	return old;
}

/* Threads are numbered as they first come here (0 = not yet). */
static unsigned int l2_threads;	/* __atomic builtins only */
static __thread unsigned int l2_thread_nr;

/* The calling thread's list, or NULL (no memory for the lists). */
static struct v7s_l2_list *list_of_thread(struct v7s_l2_cache *cache)
{
	struct v7s_l2_list *lists;
	unsigned int nr = l2_thread_nr;

	if (unlikely(!nr)) {
		nr = __atomic_add_fetch(&l2_threads, 1, __ATOMIC_RELAXED);
		l2_thread_nr = nr;
	}
	lists = __atomic_load_n(&cache->lists, __ATOMIC_ACQUIRE);
	if (unlikely(!lists)) {
		lists = lists_new(cache);
		if (!lists)
			return NULL;
	}
	return &lists[nr % V7S_L2_CACHE_LISTS];
}

static inline struct v7s_l2_page **bucket_of(struct v7s_l2_cache *cache,
					     const void *page_va)
{
	uintptr_t pfn = (uintptr_t)page_va / V7S_L2_PAGE_SIZE;

	return &cache->buckets[pfn % V7S_L2_CACHE_BUCKETS];
}

/* The page's list lock held. */
static void partial_add(struct v7s_l2_page *page)
{
	struct v7s_l2_page **head = &page->list->partial;

	page->partial_next = *head;
	if (page->partial_next)
		page->partial_next->partial_pprev = &page->partial_next;
	page->partial_pprev = head;
	*head = page;
}

static void partial_del(struct v7s_l2_page *page)
{
	*page->partial_pprev = page->partial_next;
	if (page->partial_next)
		page->partial_next->partial_pprev = page->partial_pprev;
	page->partial_pprev = NULL;
}

/* Hash lock held.  Where page_va's record is linked from (*link: NULL
 * when there is none). */
static struct v7s_l2_page **hash_find(struct v7s_l2_cache *cache,
				      const void *page_va)
{
	struct v7s_l2_page **link = bucket_of(cache, page_va);

	while (*link && (*link)->va != page_va)
		link = &(*link)->hash_next;
	return link;
}

/* Hash lock held. */
static void hash_add(struct v7s_l2_cache *cache, struct v7s_l2_page *page)
{
	struct v7s_l2_page **bucket = bucket_of(cache, page->va);

	page->hash_next = *bucket;
	*bucket = page;
}

int v7s_l2_cache_init(struct v7s_l2_cache *cache, const struct iopgt_env *env,
		      unsigned int flags, uint64_t pa_limit)
{
	memset(cache, 0, sizeof(*cache));
	cache->hash_lock = adaptive_mutex;
	cache->env = env;
	cache->flags = flags;
	cache->pa_limit = pa_limit;
	return 0;
}

static void page_release(struct v7s_l2_cache *cache, struct v7s_l2_page *page)
{
	const struct iopgt_env *env = cache->env;

	env->svc->free_pages(env->mem, page->va, V7S_L2_PAGE_SIZE);
	env->svc->free(env->mem, page);
}

/* No page on any list any more (their records freed, or not). */
static void lists_clear(struct v7s_l2_cache *cache)
{
	for (unsigned int b = 0; b < V7S_L2_CACHE_BUCKETS; b++)
		cache->buckets[b] = NULL;
	for (unsigned int i = 0; cache->lists && i < V7S_L2_CACHE_LISTS; i++)
		cache->lists[i].partial = NULL;
}

void v7s_l2_cache_destroy(struct v7s_l2_cache *cache)
{
	for (unsigned int b = 0; b < V7S_L2_CACHE_BUCKETS; b++) {
		struct v7s_l2_page *page = cache->buckets[b], *next;

		for (; page; page = next) {
			next = page->hash_next;
			page_release(cache, page);
		}
	}
	lists_clear(cache);
	for (unsigned int i = 0; cache->lists && i < V7S_L2_CACHE_LISTS; i++)
		pthread_mutex_destroy(&cache->lists[i].lock);
	pthread_mutex_destroy(&cache->hash_lock);
	cache->env->svc->free(cache->env->mem, cache->lists);
	cache->lists = NULL;
}

/* A new, empty page and its record, on no list yet, or NULL.  No lock
 * held: the host's allocator and malloc are the slow part. */
static struct v7s_l2_page *page_new(struct v7s_l2_cache *cache,
				    struct v7s_l2_list *list)
{
	const struct iopgt_env *env = cache->env;
	struct v7s_l2_page *page;
	uint64_t pa;
	void *va;

	va = env->svc->alloc_pages(env->mem, V7S_L2_PAGE_SIZE, cache->flags);
	if (!va)
		return NULL;
	pa = iopgt_virt_to_phys(env, va);
	if (pa >= cache->pa_limit) {
		/* An L1 table descriptor has no room for this address. */
		iopgt_env_err(env, "page table does not fit in PTE: %#llx",
			      (unsigned long long)pa);
		env->svc->free_pages(env->mem, va, V7S_L2_PAGE_SIZE);
		return NULL;
	}
	page = env->svc->zalloc(env->mem, sizeof(*page));
	if (!page) {
		env->svc->free_pages(env->mem, va, V7S_L2_PAGE_SIZE);
		return NULL;
	}
	page->va = va;
	page->list = list;
	return page;
}

/* The page's list lock held; page is partial.  Its first free slot, now
 * taken. */
static void *slot_take(struct v7s_l2_page *page)
{
	unsigned int slot = (unsigned int)__builtin_ctz(~page->used & SLOTS_ALL);

	page->used |= 1u << slot;
	if (page->used == SLOTS_ALL)
		partial_del(page);
	return (char *)page->va + slot * V7S_L2_TABLE_SIZE;
}

void *v7s_l2_cache_alloc(struct v7s_l2_cache *cache)
{
	struct v7s_l2_list *list = list_of_thread(cache);
	struct v7s_l2_page *fresh;
	void *table;

	if (unlikely(!list))
		return NULL;
	pthread_mutex_lock(&list->lock);
	if (likely(list->partial)) {
		table = slot_take(list->partial);
		pthread_mutex_unlock(&list->lock);
		return table;
	}
	pthread_mutex_unlock(&list->lock);

	fresh = page_new(cache, list);
	if (!fresh)
		return NULL;
	/*
	 * A thread sharing the list may have added a page meanwhile: keep
	 * both, and take from ours, which is now first.
	 */
	pthread_mutex_lock(&list->lock);
	pthread_mutex_lock(&cache->hash_lock);
	hash_add(cache, fresh);
	pthread_mutex_unlock(&cache->hash_lock);
	partial_add(fresh);
	table = slot_take(fresh);
	pthread_mutex_unlock(&list->lock);
	return table;
}

void v7s_l2_cache_free(struct v7s_l2_cache *cache, void *table)
{
	uintptr_t offset = (uintptr_t)table % V7S_L2_PAGE_SIZE;
	unsigned int bit = 1u << (offset / V7S_L2_TABLE_SIZE);
	void *page_va = (char *)table - offset;
	struct v7s_l2_page *page;
	struct v7s_l2_list *list;

	/*
	 * The table being freed keeps its page alive until its bit is
	 * cleared below, so the record found stays valid once the hash
	 * lock is dropped.
	 */
	pthread_mutex_lock(&cache->hash_lock);
	page = *hash_find(cache, page_va);
	pthread_mutex_unlock(&cache->hash_lock);
	if (IOPGT_WARN_ON(cache->env, !page))
		return;

	list = page->list;
	pthread_mutex_lock(&list->lock);
	if (IOPGT_WARN_ON(cache->env, !(page->used & bit)))
		goto out_unlock;
	if (page->used == SLOTS_ALL)
		partial_add(page);
	page->used &= ~bit;
	if (!page->used) {
		partial_del(page);
		pthread_mutex_lock(&cache->hash_lock);
		*hash_find(cache, page_va) = page->hash_next;
		pthread_mutex_unlock(&cache->hash_lock);
		pthread_mutex_unlock(&list->lock);
		page_release(cache, page);
		return;
	}
	/*
	 * A freed table may still hold leaves (Linux frees a level-2 table
	 * together with its entries) and the next user expects zeroes: the
	 * host zeroes whole pages only.
	 */
	memset(table, 0, V7S_L2_TABLE_SIZE);
out_unlock:
	pthread_mutex_unlock(&list->lock);
}

int v7s_l2_cache_adopt(struct v7s_l2_cache *cache, void *table)
{
	uintptr_t offset = (uintptr_t)table % V7S_L2_PAGE_SIZE;
	unsigned int bit = 1u << (offset / V7S_L2_TABLE_SIZE);
	void *page_va = (char *)table - offset;
	struct v7s_l2_list *list = list_of_thread(cache);
	struct v7s_l2_page *page;
	int ret = 0;

	if (!list)
		return -ENOMEM;
	/* One thread adopts into a table nobody else uses yet: the locks
	 * are taken for form's sake, in the usual order. */
	pthread_mutex_lock(&list->lock);
	pthread_mutex_lock(&cache->hash_lock);
	page = *hash_find(cache, page_va);
	if (!page) {
		page = cache->env->svc->zalloc(cache->env->mem, sizeof(*page));
		if (!page) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		page->va = page_va;
		page->list = list;
		hash_add(cache, page);
		partial_add(page);
	}
	if (page->used & bit) {
		ret = -EEXIST;
		goto out_unlock;
	}
	page->used |= bit;
	if (page->used == SLOTS_ALL)
		partial_del(page);
out_unlock:
	pthread_mutex_unlock(&cache->hash_lock);
	pthread_mutex_unlock(&list->lock);
	return ret;
}

void v7s_l2_cache_forget(struct v7s_l2_cache *cache)
{
	const struct iopgt_env *env = cache->env;

	for (unsigned int b = 0; b < V7S_L2_CACHE_BUCKETS; b++) {
		struct v7s_l2_page *page = cache->buckets[b], *next;

		for (; page; page = next) {
			next = page->hash_next;
			env->svc->free(env->mem, page);
		}
	}
	lists_clear(cache);
}
