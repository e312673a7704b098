// SPDX-License-Identifier: MIT
/*
 * Memory providers: page tables in the caller's memory.
 *
 * An embedder (an emulator keeping IOMMU tables in guest RAM, a driver
 * handing a DMA buffer to a device) gives the host either regions it owns,
 * where the host runs the simulated memory's buddy allocator (physmem.c)
 * over the caller's pages, or an allocator of its own.  Either way one
 * table's memory comes from one provider, so the table's va - pa offset
 * is one number and formats keep translating with one add.
 *
 * Lifetimes: a provider holds its host; the host's default provider is
 * borrowed (the other way round would be a cycle), and a provider that
 * goes takes itself off the host under the host lock.  Each block handed
 * out holds a provider reference, so the caller may drop its reference
 * while tables still use the memory.
 */
#include <inttypes.h>
#include <string.h>

#include "iopgt-internal.h"

static struct iopgt_mem_provider *provider_new(struct iopgt_host *host)
{
	struct iopgt_mem_provider *p = g_new0(struct iopgt_mem_provider, 1);

	atomic_init(&p->refcount, 1);
	p->host = iopgt_host_ref(host);
	return p;
}

static void provider_destroy(struct iopgt_mem_provider *p)
{
	struct iopgt_host *host = p->host;

	iopgt_host_lock(host);
	if (host->mem_provider == p)
		host->mem_provider = NULL;
	for (struct iopgt_mem_provider **pp = &host->regions; *pp;
	     pp = &(*pp)->next_region) {
		if (*pp == p) {
			*pp = p->next_region;
			break;
		}
	}
	iopgt_host_unlock(host);
	iopgt_physmem_free(p->pm);
	if (p->ops && p->ops->release)
		p->ops->release(p->data);
	g_free(p);
	iopgt_host_unref(host);
}

struct iopgt_mem_provider *iopgt_mem_provider_ref(struct iopgt_mem_provider *p)
{
	g_return_val_if_fail(p, NULL);
	atomic_fetch_add(&p->refcount, 1);
	return p;
}

struct iopgt_mem_provider *
iopgt_mem_provider_unref(struct iopgt_mem_provider *p)
{
	if (!p)
		return NULL;
	if (atomic_fetch_sub(&p->refcount, 1) > 1)
		return p;
	provider_destroy(p);
	return NULL;
}

int iopgt_mem_provider_get_refcount(const struct iopgt_mem_provider *p)
{
	g_return_val_if_fail(p, 0);
	return atomic_load(&((struct iopgt_mem_provider *)p)->refcount);
}

bool iopgt_provider_tryref(struct iopgt_mem_provider *p)
{
	int v = atomic_load(&p->refcount);

	while (v > 0)
		if (atomic_compare_exchange_weak(&p->refcount, &v, v + 1))
			return true;
	return false;
}

void iopgt_mem_provider_get_stats(const struct iopgt_mem_provider *p,
				  struct iopgt_mem_provider_stats *stats)
{
	struct iopgt_mem_provider *m = (struct iopgt_mem_provider *)p;

	g_return_if_fail(p && stats);
	stats->bytes = (uint64_t)atomic_load(&m->bytes);
	stats->blocks = (uint64_t)atomic_load(&m->blocks);
	stats->refused = (uint64_t)atomic_load(&m->refused);
}

/* A block went out (+1) or came back (-1): its bytes and its reference. */
static void provider_account(struct iopgt_mem_provider *p, size_t bytes,
			     int dir)
{
	atomic_fetch_add(&p->bytes, dir * (int64_t)bytes);
	atomic_fetch_add(&p->blocks, dir);
	if (dir > 0)
		atomic_fetch_add(&p->refcount, 1);
	else
		iopgt_mem_provider_unref(p);
}

/* ---- regions -------------------------------------------------------------- */

static void *region_alloc(struct iopgt_mem_provider *p, size_t size,
			  unsigned int flags)
{
	void *va = iopgt_physmem_alloc(p->pm, size, flags, NULL);

	if (!va) {
		atomic_fetch_add(&p->refused, 1);
		if (iopgt_physmem_last_pa(p->pm) > iopgt_mem_flags_max_pa(flags))
			iopgt_mem_warn_limit(p->host, flags, size);
		return NULL;
	}
	provider_account(p, iopgt_physmem_block_size(size), 1);
	return va;
}

static void region_release(struct iopgt_mem_provider *p, void *va,
			   size_t size)
{
	iopgt_physmem_release(p->pm, va, size);
	provider_account(p, iopgt_physmem_block_size(size), -1);
}

/* Why [pa, pa + size) at va cannot be a region, or NULL.  Lock held. */
static char *region_problem(struct iopgt_host *host, const void *va,
			    uint64_t pa, uint64_t size)
{
	if (size < IOPGT_REGION_MIN)
		return g_strdup_printf("%" PRIu64 " bytes is smaller than 16 KiB",
				       size);
	if ((uintptr_t)va & (IOPGT_PHYS_PAGE - 1))
		return g_strdup_printf("va %p is not 4 KiB aligned", va);
	if (pa & (IOPGT_PHYS_PAGE - 1))
		return g_strdup_printf("pa 0x%" PRIx64 " is not 4 KiB aligned",
				       pa);
	if (size & (IOPGT_PHYS_PAGE - 1))
		return g_strdup_printf("size 0x%" PRIx64 " is not a multiple of 4 KiB",
				       size);
	if (pa + size < pa)
		return g_strdup_printf("pa 0x%" PRIx64 " + size 0x%" PRIx64
				       " wraps", pa, size);
	for (struct iopgt_mem_provider *r = host->regions; r;
	     r = r->next_region) {
		if (pa < r->pa + r->size && r->pa < pa + size)
			return g_strdup_printf("it overlaps region [0x%" PRIx64
					       ", 0x%" PRIx64 ")", r->pa,
					       r->pa + r->size);
	}
	return NULL;
}

int iopgt_mem_provider_new_region(struct iopgt_host *host, void *va,
				  uint64_t pa, uint64_t size,
				  struct iopgt_mem_provider **out)
{
	struct iopgt_mem_provider *p;
	g_autofree char *why = NULL;
	int ret;

	g_return_val_if_fail(host && va && out, -EINVAL);
	iopgt_host_lock(host);
	why = region_problem(host, va, pa, size);
	if (why) {
		iopgt_host_unlock(host);
		ERR(host, "memory region [0x%" PRIx64 ", +0x%" PRIx64
		    ") refused: %s", pa, size, why);
		return -EINVAL;
	}
	p = provider_new(host);
	ret = iopgt_physmem_new_region(va, pa, size, &p->pm);
	if (ret < 0) {
		iopgt_host_unlock(host);
		ERR(host, "memory region [0x%" PRIx64 ", +0x%" PRIx64
		    "): %s", pa, size, g_strerror(-ret));
		iopgt_host_unref(p->host);
		g_free(p);
		return ret;
	}
	p->alloc = region_alloc;
	p->release = region_release;
	p->pa_to_va = iopgt_physmem_pa_to_va_offset(p->pm);
	p->pa = pa;
	p->size = size;
	/* on the list before the lock goes: no second region slips in */
	p->next_region = host->regions;
	host->regions = p;
	iopgt_host_unlock(host);
	*out = p;
	return 0;
}

/* ---- the caller's allocator ------------------------------------------------ */

static void *custom_alloc(struct iopgt_mem_provider *p, size_t size,
			  unsigned int flags)
{
	size_t bytes = iopgt_physmem_block_size(size);
	uint64_t max_pa = iopgt_mem_flags_max_pa(flags);
	uint64_t pa = 0;
	void *va = p->ops->alloc(p->data, bytes, bytes, max_pa, &pa);

	if (!va) {
		atomic_fetch_add(&p->refused, 1);
		if (max_pa != UINT64_MAX)
			iopgt_mem_warn_limit(p->host, flags, size);
		return NULL;
	}
	/* a promise broken here would corrupt a table later: refuse now */
	if (pa & (bytes - 1) || pa + bytes - 1 < pa ||
	    pa + bytes - 1 > max_pa || (uintptr_t)va != pa + p->pa_to_va) {
		ERR(p->host, "memory provider gave a %zu-byte block at PA 0x%"
		    PRIx64 " VA %p: not aligned, above 0x%" PRIx64
		    " or not at pa + pa_to_va", bytes, pa, va, max_pa);
		p->ops->free(p->data, va, pa, bytes);
		atomic_fetch_add(&p->refused, 1);
		return NULL;
	}
	memset(va, 0, bytes);
	provider_account(p, bytes, 1);
	return va;
}

static void custom_release(struct iopgt_mem_provider *p, void *va,
			   size_t size)
{
	size_t bytes = iopgt_physmem_block_size(size);

	p->ops->free(p->data, va, (uintptr_t)va - p->pa_to_va, bytes);
	provider_account(p, bytes, -1);
}

int iopgt_mem_provider_new_custom(struct iopgt_host *host,
				  const struct iopgt_mem_provider_ops *ops,
				  void *data, int64_t pa_to_va,
				  struct iopgt_mem_provider **out)
{
	struct iopgt_mem_provider *p;

	g_return_val_if_fail(host && ops && out, -EINVAL);
	if (!ops->alloc || !ops->free) {
		ERR(host, "memory provider refused: it needs both alloc and free");
		return -EINVAL;
	}
	p = provider_new(host);
	p->alloc = custom_alloc;
	p->release = custom_release;
	p->ops = ops;
	p->data = data;
	p->pa_to_va = (uint64_t)pa_to_va;
	*out = p;
	return 0;
}

/* ---- the host's choices ---------------------------------------------------- */

int iopgt_host_set_mem_provider(struct iopgt_host *host,
				struct iopgt_mem_provider *p)
{
	g_return_val_if_fail(host, -EINVAL);
	g_return_val_if_fail(!p || p->host == host, -EINVAL);
	iopgt_host_lock(host);
	host->mem_provider = p;
	iopgt_host_unlock(host);
	return 0;
}

void iopgt_host_set_dma_sync_fn(struct iopgt_host *host, iopgt_dma_sync_fn fn,
				void *data)
{
	g_return_if_fail(host);
	iopgt_host_lock(host);
	host->dma_sync_fn = fn;
	host->dma_sync_data = data;
	iopgt_host_unlock(host);
}
