// SPDX-License-Identifier: MIT
/*
 * The services table formats call, and the per-table memory account behind
 * it.  Every byte a table takes is counted on its own account, so a test
 * can assert that freeing a table gives everything back.
 */
#include <stdio.h>
#include <string.h>

#include "iopgt-internal.h"

static void *svc_alloc_pages(struct iopgt_mem *mem, size_t size,
			     unsigned int flags)
{
	size_t bytes = iopgt_physmem_block_size(size);
	gint64 now;
	void *va;

	va = iopgt_physmem_alloc(mem->pm, size, flags, NULL);
	if (!va)
		return NULL;
	now = atomic_fetch_add(&mem->table_bytes, (int64_t)bytes) + bytes;
	atomic_fetch_add(&mem->table_allocs, 1);
	/* peak is a statistic: a racy max is good enough */
	if (now > atomic_load(&mem->peak_table_bytes))
		atomic_store(&mem->peak_table_bytes, now);
	return va;
}

static void svc_free_pages(struct iopgt_mem *mem, void *va, size_t size)
{
	if (!va)
		return;
	iopgt_physmem_release(mem->pm, va, size);
	atomic_fetch_sub(&mem->table_bytes,
			 (int64_t)iopgt_physmem_block_size(size));
	atomic_fetch_sub(&mem->table_allocs, 1);
}

/* State blocks carry their size in front so free() can account for it. */
struct state_hdr {
	size_t size;
	max_align_t pad[];
};

static void *svc_zalloc(struct iopgt_mem *mem, size_t size)
{
	/* malloc + memset, not calloc: glibc's calloc skips the thread cache */
	struct state_hdr *h = g_try_malloc(sizeof(*h) + size);

	if (!h)
		return NULL;
	memset(h->pad, 0, size);
	h->size = size;
	atomic_fetch_add(&mem->state_bytes, (int64_t)size);
	return h->pad;
}

static void svc_free(struct iopgt_mem *mem, void *ptr)
{
	struct state_hdr *h;

	if (!ptr)
		return;
	h = container_of(ptr, struct state_hdr, pad);
	atomic_fetch_sub(&mem->state_bytes, (int64_t)h->size);
	g_free(h);
}

static void svc_dma_sync(struct iopgt_mem *mem, const void *va, size_t size)
{
	(void)va;
	(void)size;
	atomic_fetch_add(&mem->syncs, 1);
}

const struct iopgt_host_services iopgt_host_services = {
	.struct_size = sizeof(struct iopgt_host_services),
	.alloc_pages = svc_alloc_pages,
	.free_pages = svc_free_pages,
	.zalloc = svc_zalloc,
	.free = svc_free,
	.dma_sync = svc_dma_sync,
	.log = iopgt_svc_log,	/* log.c */
};

void iopgt_mem_init(struct iopgt_mem *mem, struct iopgt_host *host,
		    struct iopgt_physmem *pm)
{
	*mem = (struct iopgt_mem){ .host = host, .pm = pm };
}

void iopgt_mem_get_stats(const struct iopgt_mem *mem,
			 struct iopgt_mem_stats *stats)
{
	struct iopgt_mem *m = (struct iopgt_mem *)mem;

	stats->table_bytes = atomic_load(&m->table_bytes);
	stats->table_allocs = atomic_load(&m->table_allocs);
	stats->peak_table_bytes = atomic_load(&m->peak_table_bytes);
	stats->state_bytes = atomic_load(&m->state_bytes);
	stats->syncs = atomic_load(&m->syncs);
}
