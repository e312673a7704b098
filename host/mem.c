// SPDX-License-Identifier: MIT
/*
 * The services table formats call, and the per-table memory account behind
 * it.  Every byte a table takes is counted on its own account, so a test
 * can assert that freeing a table gives everything back.  The blocks come
 * from the table's memory provider (provider.c, reached through its
 * function pointers) or, by default, from the simulated memory.
 */
#include <stdio.h>
#include <string.h>

#include "iopgt-internal.h"

void iopgt_mem_warn_limit(struct iopgt_host *host, unsigned int flags,
			  size_t size)
{
	unsigned int bits = IOPGT_MEM_FLAGS_MAX_BITS(flags);

	if (flags & IOPGT_MEM_DMA32 && (!bits || bits > 32))
		bits = 32;
	WARN(host, "no table memory below 2^%u for a %zu-byte table", bits,
	     size);
}

/* From the simulated memory; a refusal because of the address limit is
 * said (a full memory is not news: the format returns -ENOMEM). */
static void *sim_alloc(struct iopgt_mem *mem, size_t size, unsigned int flags)
{
	void *va = iopgt_physmem_alloc(mem->pm, size, flags, NULL);

	if (G_UNLIKELY(!va) &&
	    iopgt_physmem_last_pa(mem->pm) > iopgt_mem_flags_max_pa(flags))
		iopgt_mem_warn_limit(mem->host, flags, size);
	return va;
}

static void *svc_alloc_pages(struct iopgt_mem *mem, size_t size,
			     unsigned int flags)
{
	size_t bytes = iopgt_physmem_block_size(size);
	gint64 now;
	void *va;

	if (mem->prov)
		va = mem->prov->alloc(mem->prov, size, flags);
	else
		va = sim_alloc(mem, size, flags);
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
	if (mem->prov)
		mem->prov->release(mem->prov, va, size);
	else
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
	atomic_fetch_add(&mem->syncs, 1);
	if (mem->sync_fn)
		mem->sync_fn(mem->sync_data, va,
			     (uint64_t)(uintptr_t)va - mem->pa_to_va, size);
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
		    struct iopgt_physmem *pm, struct iopgt_mem_provider *prov)
{
	*mem = (struct iopgt_mem){
		.host = host,
		.pm = prov ? NULL : pm,
		.prov = prov,
		.pa_to_va = prov ? prov->pa_to_va :
				   iopgt_physmem_pa_to_va_offset(pm),
		.sync_fn = host->dma_sync_fn,
		.sync_data = host->dma_sync_data,
	};
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
