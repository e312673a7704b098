// SPDX-License-Identifier: MIT
/*
 * Simulated physical memory for page tables.
 *
 * Page tables hold physical addresses exactly as a hardware walker would
 * read them, so the host gives formats memory with a deterministic PA: one
 * linear virtual mapping, PA = IOPGT_PHYS_BASE + offset.  The mapping is
 * MAP_NORESERVE, so only pages that tables really use cost RAM.
 *
 * Allocation is a binary buddy system per zone (DMA32 below 4 GiB for
 * formats with 32-bit table pointers, such as v7s, and NORMAL above), with
 * free lists threaded through the free blocks themselves and one byte of
 * metadata per page.  Blocks are naturally aligned in PA and VA.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "iopgt-internal.h"

#define PAGE_SHIFT	12
#define MAX_ORDER	18		/* 1 GiB blocks */
#define MAX_BLOCK	(IOPGT_PHYS_PAGE << MAX_ORDER)
#define DMA32_END	(1ULL << 32)

/* per-page metadata: head of a free block of order (meta & ORDER_MASK) */
#define META_FREE	0x80
#define META_ORDER_MASK	0x1f

struct free_block {
	struct free_block *next;
	struct free_block *prev;
};

struct zone {
	uint64_t start;			/* page frame numbers, from offset 0 */
	uint64_t end;
	struct free_block *free[MAX_ORDER + 1];
};

enum { ZONE_DMA32, ZONE_NORMAL, NR_ZONES };

struct iopgt_physmem {
	/* pthread, not GMutex: GLib's futex mutex is invisible to TSan */
	pthread_mutex_t lock;
	uint8_t *base;			/* VA of PA IOPGT_PHYS_BASE */
	void *map;			/* what mmap returned */
	size_t map_len;
	uint64_t size;
	uint64_t in_use;
	uint64_t limit;
	uint8_t *meta;
	struct zone zones[NR_ZONES];
};

static inline void *pfn_to_va(struct iopgt_physmem *pm, uint64_t pfn)
{
	return pm->base + (pfn << PAGE_SHIFT);
}

static inline uint64_t va_to_pfn(struct iopgt_physmem *pm, const void *va)
{
	return (uint64_t)((const uint8_t *)va - pm->base) >> PAGE_SHIFT;
}

static void list_push(struct iopgt_physmem *pm, struct zone *z,
		      uint64_t pfn, unsigned int order)
{
	struct free_block *b = pfn_to_va(pm, pfn);

	b->prev = NULL;
	b->next = z->free[order];
	if (b->next)
		b->next->prev = b;
	z->free[order] = b;
	pm->meta[pfn] = META_FREE | order;
}

static void list_del(struct iopgt_physmem *pm, struct zone *z,
		     struct free_block *b, unsigned int order)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		z->free[order] = b->next;
	if (b->next)
		b->next->prev = b->prev;
	pm->meta[va_to_pfn(pm, b)] = 0;
}

/* Carve [start, end) into the largest naturally aligned blocks. */
static void zone_init(struct iopgt_physmem *pm, struct zone *z,
		      uint64_t start, uint64_t end)
{
	uint64_t pfn = start;

	z->start = start;
	z->end = end;
	while (pfn < end) {
		unsigned int order = MAX_ORDER;

		while (order && ((pfn & ((1ULL << order) - 1)) ||
				 pfn + (1ULL << order) > end))
			order--;
		list_push(pm, z, pfn, order);
		pfn += 1ULL << order;
	}
}

static unsigned int size_to_order(size_t size)
{
	uint64_t pages = (size + IOPGT_PHYS_PAGE - 1) >> PAGE_SHIFT;
	unsigned int order = 0;

	while ((1ULL << order) < pages)
		order++;
	return order;
}

size_t iopgt_physmem_block_size(size_t size)
{
	return (size_t)IOPGT_PHYS_PAGE << size_to_order(size ? size : 1);
}

int iopgt_physmem_new(uint64_t size, struct iopgt_physmem **out)
{
	struct iopgt_physmem *pm;
	uint64_t pages, dma32_pages;
	uintptr_t aligned;

	if (size < 16 * IOPGT_PHYS_PAGE)
		return -EINVAL;
	/* map_len below must not wrap: no address space is that large */
	if (size > UINT64_MAX - IOPGT_PHYS_BASE - MAX_BLOCK)
		return -ENOMEM;
	size &= ~(IOPGT_PHYS_PAGE - 1);

	pm = g_new0(struct iopgt_physmem, 1);
	pthread_mutex_init(&pm->lock, NULL);
	/* Over-reserve so the base is aligned like the largest block: then
	 * a block aligned in PA is aligned in VA too. */
	pm->map_len = size + MAX_BLOCK;
	pm->map = mmap(NULL, pm->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pm->map == MAP_FAILED) {
		pthread_mutex_destroy(&pm->lock);
		g_free(pm);
		return -ENOMEM;
	}
	aligned = ((uintptr_t)pm->map + MAX_BLOCK - 1) & ~(uintptr_t)(MAX_BLOCK - 1);
	pm->base = (uint8_t *)aligned;
	pm->size = size;

	pages = size >> PAGE_SHIFT;
	/* a size the caller chose: refusing it is an error, not an abort */
	pm->meta = g_try_malloc0(pages);
	if (!pm->meta) {
		munmap(pm->map, pm->map_len);
		pthread_mutex_destroy(&pm->lock);
		g_free(pm);
		return -ENOMEM;
	}
	dma32_pages = (DMA32_END - IOPGT_PHYS_BASE) >> PAGE_SHIFT;
	if (dma32_pages > pages)
		dma32_pages = pages;
	zone_init(pm, &pm->zones[ZONE_DMA32], 0, dma32_pages);
	zone_init(pm, &pm->zones[ZONE_NORMAL], dma32_pages, pages);
	*out = pm;
	return 0;
}

void iopgt_physmem_free(struct iopgt_physmem *pm)
{
	if (!pm)
		return;
	munmap(pm->map, pm->map_len);
	g_free(pm->meta);
	pthread_mutex_destroy(&pm->lock);
	g_free(pm);
}

/*
 * Zero a block with plain 16-byte stores, 128 bytes per iteration.  Not
 * memset(): glibc clears a block this large with `rep stosb`, which is no
 * faster on the CPUs we run on but which valgrind counts as one
 * instruction per byte, so every table allocation showed up as 4096
 * instructions and buried the real costs of a map in instruction profiles
 * (docs/performance.md).  The empty asm keeps the compiler from turning
 * the loop back into a memset call.
 */
static void zero_block(void *va, size_t bytes)
{
	typedef long long v2di __attribute__((vector_size(16)));
	v2di *p = va, *end = (v2di *)((uint8_t *)va + bytes);
	const v2di z = { 0, 0 };

	for (; p < end; p += 8) {
		__asm__("" : "+r"(p));
		p[0] = z;
		p[1] = z;
		p[2] = z;
		p[3] = z;
		p[4] = z;
		p[5] = z;
		p[6] = z;
		p[7] = z;
	}
}

/* Take a block of exactly this order from the zone, splitting larger ones. */
static void *zone_alloc(struct iopgt_physmem *pm, struct zone *z,
			unsigned int order)
{
	unsigned int o = order;
	struct free_block *b;
	uint64_t pfn;

	while (o <= MAX_ORDER && !z->free[o])
		o++;
	if (o > MAX_ORDER)
		return NULL;
	b = z->free[o];
	list_del(pm, z, b, o);
	pfn = va_to_pfn(pm, b);
	/* keep the low half, give back the upper halves */
	while (o > order) {
		o--;
		list_push(pm, z, pfn + (1ULL << o), o);
	}
	return b;
}

void *iopgt_physmem_alloc(struct iopgt_physmem *pm, size_t size,
			  unsigned int flags, uint64_t *pa)
{
	unsigned int order = size_to_order(size ? size : 1);
	uint64_t bytes = IOPGT_PHYS_PAGE << order;
	void *va = NULL;

	if (order > MAX_ORDER)
		return NULL;

	pthread_mutex_lock(&pm->lock);
	if (pm->limit && pm->in_use + bytes > pm->limit)
		goto out_unlock;
	if (!(flags & IOPGT_MEM_DMA32))
		va = zone_alloc(pm, &pm->zones[ZONE_NORMAL], order);
	if (!va)
		va = zone_alloc(pm, &pm->zones[ZONE_DMA32], order);
	if (va)
		pm->in_use += bytes;
out_unlock:
	pthread_mutex_unlock(&pm->lock);

	if (!va)
		return NULL;
	zero_block(va, bytes);
	if (pa)
		*pa = IOPGT_PHYS_BASE + ((uint64_t)((uint8_t *)va - pm->base));
	return va;
}

static struct zone *pfn_zone(struct iopgt_physmem *pm, uint64_t pfn)
{
	struct zone *z = &pm->zones[ZONE_NORMAL];

	return pfn >= z->start && pfn < z->end ? z : &pm->zones[ZONE_DMA32];
}

void iopgt_physmem_release(struct iopgt_physmem *pm, void *va, size_t size)
{
	unsigned int order = size_to_order(size ? size : 1);
	uint64_t pfn = va_to_pfn(pm, va);
	struct zone *z = pfn_zone(pm, pfn);

	pthread_mutex_lock(&pm->lock);
	pm->in_use -= IOPGT_PHYS_PAGE << order;
	/* merge with free buddies of the same order */
	while (order < MAX_ORDER) {
		uint64_t buddy = pfn ^ (1ULL << order);

		if (buddy < z->start || buddy + (1ULL << order) > z->end)
			break;
		if (pm->meta[buddy] != (META_FREE | order))
			break;
		list_del(pm, z, pfn_to_va(pm, buddy), order);
		pfn &= ~(1ULL << order);
		order++;
	}
	list_push(pm, z, pfn, order);
	pthread_mutex_unlock(&pm->lock);
}

uint64_t iopgt_physmem_pa_to_va_offset(const struct iopgt_physmem *pm)
{
	return (uint64_t)(uintptr_t)pm->base - IOPGT_PHYS_BASE;
}

void iopgt_physmem_set_limit(struct iopgt_physmem *pm, uint64_t bytes)
{
	pthread_mutex_lock(&pm->lock);
	pm->limit = bytes;
	pthread_mutex_unlock(&pm->lock);
}

uint64_t iopgt_physmem_in_use(struct iopgt_physmem *pm)
{
	uint64_t v;

	pthread_mutex_lock(&pm->lock);
	v = pm->in_use;
	pthread_mutex_unlock(&pm->lock);
	return v;
}

uint64_t iopgt_physmem_size(const struct iopgt_physmem *pm)
{
	return pm->size;
}
