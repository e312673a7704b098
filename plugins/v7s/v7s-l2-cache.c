// SPDX-License-Identifier: MIT
/*
 * Level-2 tables for the v7s format, four to a page (see v7s-l2-cache.h).
 *
 * Each page has a small record (format state, from the host's zalloc) with
 * a bitmap of its used slots.  Records sit on two lists: a hash chain by
 * page address, so that free() finds the record of a table, and the list
 * of partial pages, so that alloc() finds a free slot without searching.
 * One mutex covers both; tables are allocated once per MiB of iova mapped,
 * far from the per-page hot path.
 */
#define pr_fmt(fmt) "arm-v7s: " fmt

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "v7s-l2-cache.h"

#define SLOTS_ALL	((1u << V7S_L2_PER_PAGE) - 1)

struct v7s_l2_page {
	struct v7s_l2_page *hash_next;
	struct v7s_l2_page *partial_next;
	struct v7s_l2_page **partial_pprev;	/* NULL: not on the list */
	void *va;
	unsigned int used;			/* bit n: slot n is taken */
};

static inline struct v7s_l2_page **bucket_of(struct v7s_l2_cache *cache,
					     const void *page_va)
{
	uintptr_t pfn = (uintptr_t)page_va / V7S_L2_PAGE_SIZE;

	return &cache->buckets[pfn % V7S_L2_CACHE_BUCKETS];
}

static void partial_add(struct v7s_l2_cache *cache, struct v7s_l2_page *page)
{
	page->partial_next = cache->partial;
	if (page->partial_next)
		page->partial_next->partial_pprev = &page->partial_next;
	page->partial_pprev = &cache->partial;
	cache->partial = page;
}

static void partial_del(struct v7s_l2_page *page)
{
	*page->partial_pprev = page->partial_next;
	if (page->partial_next)
		page->partial_next->partial_pprev = page->partial_pprev;
	page->partial_pprev = NULL;
}

int v7s_l2_cache_init(struct v7s_l2_cache *cache, const struct iopgt_env *env,
		      unsigned int flags, uint64_t pa_limit)
{
	int ret;

	memset(cache, 0, sizeof(*cache));
	ret = pthread_mutex_init(&cache->lock, NULL);
	if (ret)
		return -ret;
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

void v7s_l2_cache_destroy(struct v7s_l2_cache *cache)
{
	for (unsigned int b = 0; b < V7S_L2_CACHE_BUCKETS; b++) {
		struct v7s_l2_page *page = cache->buckets[b], *next;

		for (; page; page = next) {
			next = page->hash_next;
			page_release(cache, page);
		}
		cache->buckets[b] = NULL;
	}
	cache->partial = NULL;
	pthread_mutex_destroy(&cache->lock);
}

/* Lock held.  A new, empty page on both lists, or NULL. */
static struct v7s_l2_page *page_new(struct v7s_l2_cache *cache)
{
	const struct iopgt_env *env = cache->env;
	struct v7s_l2_page *page, **bucket;
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
	bucket = bucket_of(cache, va);
	page->hash_next = *bucket;
	*bucket = page;
	partial_add(cache, page);
	return page;
}

void *v7s_l2_cache_alloc(struct v7s_l2_cache *cache)
{
	struct v7s_l2_page *page;
	unsigned int slot;
	void *table = NULL;

	pthread_mutex_lock(&cache->lock);
	page = cache->partial;
	if (!page)
		page = page_new(cache);
	if (page) {
		slot = (unsigned int)__builtin_ctz(~page->used & SLOTS_ALL);
		page->used |= 1u << slot;
		if (page->used == SLOTS_ALL)
			partial_del(page);
		table = (char *)page->va + slot * V7S_L2_TABLE_SIZE;
	}
	pthread_mutex_unlock(&cache->lock);
	return table;
}

void v7s_l2_cache_free(struct v7s_l2_cache *cache, void *table)
{
	uintptr_t offset = (uintptr_t)table % V7S_L2_PAGE_SIZE;
	unsigned int bit = 1u << (offset / V7S_L2_TABLE_SIZE);
	void *page_va = (char *)table - offset;
	struct v7s_l2_page *page, **link;

	pthread_mutex_lock(&cache->lock);
	for (link = bucket_of(cache, page_va); (page = *link);
	     link = &page->hash_next)
		if (page->va == page_va)
			break;
	if (IOPGT_WARN_ON(cache->env, !page || !(page->used & bit)))
		goto out_unlock;

	if (page->used == SLOTS_ALL)
		partial_add(cache, page);
	page->used &= ~bit;
	if (!page->used) {
		*link = page->hash_next;
		partial_del(page);
		page_release(cache, page);
	} else {
		/*
		 * A freed table may still hold leaves (Linux frees a level-2
		 * table together with its entries) and the next user expects
		 * zeroes: the host zeroes whole pages only.
		 */
		memset(table, 0, V7S_L2_TABLE_SIZE);
	}
out_unlock:
	pthread_mutex_unlock(&cache->lock);
}

int v7s_l2_cache_adopt(struct v7s_l2_cache *cache, void *table)
{
	uintptr_t offset = (uintptr_t)table % V7S_L2_PAGE_SIZE;
	unsigned int bit = 1u << (offset / V7S_L2_TABLE_SIZE);
	void *page_va = (char *)table - offset;
	struct v7s_l2_page *page, **bucket;
	int ret = 0;

	pthread_mutex_lock(&cache->lock);
	bucket = bucket_of(cache, page_va);
	for (page = *bucket; page; page = page->hash_next)
		if (page->va == page_va)
			break;
	if (!page) {
		page = cache->env->svc->zalloc(cache->env->mem, sizeof(*page));
		if (!page) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		page->va = page_va;
		page->hash_next = *bucket;
		*bucket = page;
		partial_add(cache, page);
	}
	if (page->used & bit) {
		ret = -EEXIST;
		goto out_unlock;
	}
	page->used |= bit;
	if (page->used == SLOTS_ALL)
		partial_del(page);
out_unlock:
	pthread_mutex_unlock(&cache->lock);
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
		cache->buckets[b] = NULL;
	}
	cache->partial = NULL;
}
