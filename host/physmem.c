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
 *
 * In front of the buddy system sit a few caches of free single pages
 * (Linux's per-CPU page lists, here one per thread slot): most tables are
 * one page, and freeing one to merge it 18 orders up only to split it
 * again at the next allocation was most of the cost of an empty table's
 * alloc + free.  A thread takes its slot's try-lock, never the zone lock,
 * to reuse a page, and the slots sit on their own cache lines, so two
 * threads reusing pages share nothing here.
 *
 * A thread whose free pages are used up takes a run of up to 16 fresh
 * pages at once (Linux's rmqueue_bulk), under one acquisition of
 * the zone lock, so threads mapping fresh tables meet there once per run,
 * not once per table.  A run is exactly the pages the buddy system would
 * hand out next one at a time, lowest first, and goes back to it before
 * any other call of that thread reaches the buddy system: a thread's
 * addresses are the same as without runs (see run_refill()).
 *
 * Fresh memory is not zeroed twice: the kernel hands out anonymous pages
 * zeroed, so only pages that were handed out before are cleared (a
 * watermark per 1 GiB chunk, see claim_range()).
 *
 * The same allocator runs over a caller's region (iopgt_physmem_new_region,
 * for memory providers): there the PA base is the caller's, nothing is
 * known to be zero, and the free-list links live in the caller's free
 * pages.  Page frame numbers count from the PA rounded down to the largest
 * block, so blocks are naturally aligned in PA wherever the region starts.
 *
 * A request may carry an address limit (IOPGT_MEM_MAX_BITS): a zone wholly
 * below it is used as it is; one straddling it is searched for a free
 * block that ends below it (zone_find()), and its page cache is
 * skipped.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "iopgt-internal.h"

#define PAGE_SHIFT	12
#define MAX_ORDER	18		/* 1 GiB blocks */
#define MAX_BLOCK	(IOPGT_PHYS_PAGE << MAX_ORDER)
#define DMA32_END	(1ULL << 32)

/* per-page metadata: head of a free block of order (meta & ORDER_MASK) */
#define META_FREE	0x80
#define META_ORDER_MASK	0x1f

/*
 * Page caches: PCP_SLOTS slots, a thread uses slot (its number % slots).
 * Each holds up to PCP_HIGH free pages per zone and gives the oldest
 * PCP_BATCH back to the buddy system when full.
 */
#define PCP_SLOTS	8
#define PCP_HIGH	16
#define PCP_BATCH	8
/* fresh pages a slot takes from the buddy system at once, as an order */
#define RUN_ORDER	4
#define CACHE_LINE	64

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

/* Free single pages of one zone, oldest first. */
struct pcp_list {
	unsigned int count;
	void *pages[PCP_HIGH];
};

/*
 * Page frames [next, end), ascending, that the buddy system would hand
 * out next; those below dirty_end may hold old data.  Free to the buddy
 * system's count, in use to its lists.
 */
struct pcp_run {
	uint64_t next;
	uint64_t end;
	uint64_t dirty_end;
};

struct pcp {
	/* try-lock: 1 while a thread uses the slot (no waiting on it) */
	_Atomic int busy;
	/* bytes allocated minus bytes freed through this slot; only its
	 * holder writes it, iopgt_physmem_in_use() adds the slots up */
	_Atomic int64_t in_use;
	struct pcp_list list[NR_ZONES];
	/* per requested zone (a NORMAL request may fall back to DMA32) */
	struct pcp_run run[NR_ZONES];
} __attribute__((aligned(CACHE_LINE)));

/*
 * Laid out by who writes what: the slots (each written by its thread),
 * then what only iopgt_physmem_new() and set_limit write, read on every
 * allocation, then the buddy system's state, written under its lock.
 */
struct iopgt_physmem {
	struct pcp pcp[PCP_SLOTS];
	uint8_t *base;			/* VA of pfn 0 (PA pa_base) */
	uint64_t pa_base;		/* PA of pfn 0, aligned to MAX_BLOCK */
	void *map;			/* what mmap returned; NULL: a region */
	size_t map_len;
	uint64_t size;
	uint64_t first_pa;		/* PA of the first usable page */
	/* read without the lock.  While it is set the caches are off, so
	 * that no request near the limit fails for pages parked in them */
	_Atomic uint64_t limit;
	uint8_t *meta;
	/* per 1 GiB chunk: pages at or above this offset were never handed
	 * out, so they are still zero from mmap */
	uint32_t *clean_from;
	unsigned int run_order;		/* RUN_ORDER; 0 (no runs) in tests */
	/* pthread, not GMutex: GLib's futex mutex is invisible to TSan */
	pthread_mutex_t lock __attribute__((aligned(CACHE_LINE)));
	uint64_t in_use;		/* through the buddy system */
	uint64_t lock_count;		/* acquisitions of lock */
	struct zone zones[NR_ZONES];
};

/* The buddy system's lock, counted (iopgt_physmem_lock_count()). */
static void zone_lock(struct iopgt_physmem *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->lock_count++;
}

static void zone_unlock(struct iopgt_physmem *pm)
{
	pthread_mutex_unlock(&pm->lock);
}

/* Integer arithmetic: in a region, base may lie before the caller's
 * memory (pfn 0 is the PA rounded down), and is never dereferenced. */
static inline void *pfn_to_va(struct iopgt_physmem *pm, uint64_t pfn)
{
	return (void *)((uintptr_t)pm->base + (uintptr_t)(pfn << PAGE_SHIFT));
}

static inline uint64_t va_to_pfn(struct iopgt_physmem *pm, const void *va)
{
	return (uint64_t)((uintptr_t)va - (uintptr_t)pm->base) >> PAGE_SHIFT;
}

static inline uint64_t pfn_to_pa(const struct iopgt_physmem *pm, uint64_t pfn)
{
	return pm->pa_base + (pfn << PAGE_SHIFT);
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

/* Leaves the block's links zero: a never-used block is all zero again. */
static void list_del(struct iopgt_physmem *pm, struct zone *z,
		     struct free_block *b, unsigned int order)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		z->free[order] = b->next;
	if (b->next)
		b->next->prev = b->prev;
	b->next = NULL;
	b->prev = NULL;
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

static void physmem_destroy(struct iopgt_physmem *pm)
{
	if (pm->map && pm->map != MAP_FAILED)
		munmap(pm->map, pm->map_len);
	g_free(pm->meta);
	g_free(pm->clean_from);
	pthread_mutex_destroy(&pm->lock);
	g_aligned_free(pm);
}

static struct iopgt_physmem *physmem_alloc_struct(void)
{
	/* aligned members: not g_new0 */
	struct iopgt_physmem *pm = g_aligned_alloc0(1, sizeof(*pm), CACHE_LINE);
	pthread_mutexattr_t attr;

	/*
	 * Threads that map from empty page caches take the lock once per
	 * table, in step with each other, and hold it for a few hundred
	 * instructions: spinning a little first saves the futex round trip
	 * (an adaptive mutex; a plain one sleeps at the first collision).
	 */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&pm->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pm->run_order = RUN_ORDER;
	return pm;
}

/*
 * Metadata and zones for size bytes at PA pa (page aligned) whose VA is
 * va.  dirty: the memory may hold old data, so every block is zeroed when
 * handed out.  Returns: 0 or -ENOMEM.
 */
static int physmem_setup(struct iopgt_physmem *pm, uint8_t *va, uint64_t pa,
			 uint64_t size, bool dirty)
{
	uint64_t first, pages, dma32;
	size_t chunks;

	pm->pa_base = pa & ~(MAX_BLOCK - 1);
	first = (pa - pm->pa_base) >> PAGE_SHIFT;
	pm->base = (uint8_t *)((uintptr_t)va - (uintptr_t)(first << PAGE_SHIFT));
	pm->first_pa = pa;
	pm->size = size;
	pages = first + (size >> PAGE_SHIFT);
	chunks = (pages >> MAX_ORDER) + 1;
	/* a size the caller chose: refusing it is an error, not an abort */
	pm->meta = g_try_malloc0(pages);
	pm->clean_from = g_try_new0(uint32_t, chunks);
	if (!pm->meta || !pm->clean_from)
		return -ENOMEM;
	/* a watermark past every chunk: all of it counts as handed out */
	for (size_t i = 0; dirty && i < chunks; i++)
		pm->clean_from[i] = 1U << MAX_ORDER;
	dma32 = pm->pa_base >= DMA32_END ? 0 :
		(DMA32_END - pm->pa_base) >> PAGE_SHIFT;
	dma32 = CLAMP(dma32, first, pages);
	zone_init(pm, &pm->zones[ZONE_DMA32], first, dma32);
	zone_init(pm, &pm->zones[ZONE_NORMAL], dma32, pages);
	return 0;
}

int iopgt_physmem_new(uint64_t size, struct iopgt_physmem **out)
{
	struct iopgt_physmem *pm;
	uintptr_t aligned;

	if (size < 16 * IOPGT_PHYS_PAGE)
		return -EINVAL;
	/* map_len below must not wrap: no address space is that large */
	if (size > UINT64_MAX - IOPGT_PHYS_BASE - MAX_BLOCK)
		return -ENOMEM;
	size &= ~(IOPGT_PHYS_PAGE - 1);

	pm = physmem_alloc_struct();
	/* Over-reserve so the base is aligned like the largest block: then
	 * a block aligned in PA is aligned in VA too. */
	pm->map_len = size + MAX_BLOCK;
	pm->map = mmap(NULL, pm->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pm->map == MAP_FAILED)
		goto fail;
	aligned = ((uintptr_t)pm->map + MAX_BLOCK - 1) & ~(uintptr_t)(MAX_BLOCK - 1);
	if (physmem_setup(pm, (uint8_t *)aligned, IOPGT_PHYS_BASE, size, false))
		goto fail;
	*out = pm;
	return 0;

fail:
	physmem_destroy(pm);
	return -ENOMEM;
}

int iopgt_physmem_new_region(void *va, uint64_t pa, uint64_t size,
			     struct iopgt_physmem **out)
{
	struct iopgt_physmem *pm;

	if (size < IOPGT_REGION_MIN || (pa | size) & (IOPGT_PHYS_PAGE - 1) ||
	    (uintptr_t)va & (IOPGT_PHYS_PAGE - 1) || pa + size < pa)
		return -EINVAL;
	pm = physmem_alloc_struct();
	if (physmem_setup(pm, va, pa, size, true)) {
		physmem_destroy(pm);
		return -ENOMEM;
	}
	*out = pm;
	return 0;
}

void iopgt_physmem_free(struct iopgt_physmem *pm)
{
	if (pm)
		physmem_destroy(pm);
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

/*
 * A block of 1 << order pages at pfn is being handed out: raise its
 * chunk's watermark and return how many of its leading pages may hold
 * old data and need zeroing.  Pages above the watermark have never been
 * handed out, and the only writes the allocator makes into free pages,
 * the free-list links, are cleared again by list_del().  Skipping them
 * saves writing every fresh table page twice (and a 4 KiB table that the
 * format fills at once is then touched only by the format).  Called with
 * pm->lock held.
 */
static uint64_t claim_range(struct iopgt_physmem *pm, uint64_t pfn,
			    unsigned int order)
{
	uint32_t *mark = &pm->clean_from[pfn >> MAX_ORDER];
	uint64_t lo = pfn & ((1ULL << MAX_ORDER) - 1);
	uint64_t hi = lo + (1ULL << order);
	uint64_t dirty = *mark > lo ? MIN(*mark, hi) - lo : 0;

	if (hi > *mark)
		*mark = (uint32_t)hi;
	return dirty;
}

/*
 * The first free block of order >= order whose first 1 << order pages end
 * at or below max_pa (the low half is what a split keeps), with *o its
 * order; NULL if none.
 */
static struct free_block *zone_find(struct iopgt_physmem *pm, struct zone *z,
				    unsigned int order, uint64_t max_pa,
				    unsigned int *o)
{
	uint64_t bytes = IOPGT_PHYS_PAGE << order;

	for (*o = order; *o <= MAX_ORDER; (*o)++) {
		for (struct free_block *b = z->free[*o]; b; b = b->next) {
			uint64_t pa = pfn_to_pa(pm, va_to_pfn(pm, b));

			if (pa + bytes - 1 <= max_pa)
				return b;
		}
	}
	return NULL;
}

/* PA of a zone's last byte; 0 for an empty zone. */
static uint64_t zone_last_pa(struct iopgt_physmem *pm, const struct zone *z)
{
	return z->end > z->start ? pfn_to_pa(pm, z->end) - 1 : 0;
}

/*
 * Take a block of exactly this order from the zone, ending at or below
 * max_pa, splitting larger ones.
 */
static void *zone_alloc(struct iopgt_physmem *pm, struct zone *z,
			unsigned int order, uint64_t max_pa)
{
	unsigned int o = order;
	struct free_block *b;
	uint64_t pfn;

	if (z->end == z->start ||
	    pfn_to_pa(pm, z->start) + (IOPGT_PHYS_PAGE << order) - 1 > max_pa)
		return NULL;
	if (zone_last_pa(pm, z) > max_pa) {
		/* straddles the limit: look for a block below it */
		b = zone_find(pm, z, order, max_pa, &o);
		if (!b)
			return NULL;
	} else {
		while (o <= MAX_ORDER && !z->free[o])
			o++;
		if (o > MAX_ORDER)
			return NULL;
		b = z->free[o];
	}
	list_del(pm, z, b, o);
	pfn = va_to_pfn(pm, b);
	/* keep the low half, give back the upper halves */
	while (o > order) {
		o--;
		list_push(pm, z, pfn + (1ULL << o), o);
	}
	return b;
}

static struct zone *pfn_zone(struct iopgt_physmem *pm, uint64_t pfn)
{
	struct zone *z = &pm->zones[ZONE_NORMAL];

	return pfn >= z->start && pfn < z->end ? z : &pm->zones[ZONE_DMA32];
}

/* Give a block back and merge it with free buddies.  pm->lock held. */
static void buddy_release(struct iopgt_physmem *pm, uint64_t pfn,
			  unsigned int order)
{
	struct zone *z = pfn_zone(pm, pfn);

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
}

/* ---- page caches --------------------------------------------------------- */

/* Which slot the calling thread uses: threads are numbered as they first
 * come here, so a single-threaded program always uses the same slot and
 * gets the same addresses for the same sequence of calls. */
static _Atomic unsigned int pcp_threads;
static __thread unsigned int pcp_thread_nr
	__attribute__((tls_model("initial-exec")));

static struct pcp *pcp_of_thread(struct iopgt_physmem *pm)
{
	unsigned int nr = pcp_thread_nr;

	if (G_UNLIKELY(!nr)) {
		nr = atomic_fetch_add_explicit(&pcp_threads, 1,
					       memory_order_relaxed) + 1;
		pcp_thread_nr = nr;
	}
	return &pm->pcp[nr % PCP_SLOTS];
}

static bool pcp_trylock(struct pcp *pcp)
{
	return !atomic_exchange_explicit(&pcp->busy, 1, memory_order_acquire);
}

static void pcp_lock(struct pcp *pcp)
{
	while (!pcp_trylock(pcp))
		sched_yield();
}

static void pcp_unlock(struct pcp *pcp)
{
	atomic_store_explicit(&pcp->busy, 0, memory_order_release);
}

/* Only the slot's holder writes its count: no read-modify-write needed. */
static void pcp_account(struct pcp *pcp, int64_t bytes)
{
	int64_t v = atomic_load_explicit(&pcp->in_use, memory_order_relaxed);

	atomic_store_explicit(&pcp->in_use, v + bytes, memory_order_relaxed);
}

/*
 * Give a run back: the buddy system then holds what it would hold had the
 * run never been taken (its pages and the halves split off after them
 * are one free set, which merges into the same blocks whatever the
 * order), and the chunk's watermark goes back down when none of the run
 * held old data.  Slot and pm->lock held.
 */
static void run_return(struct iopgt_physmem *pm, struct pcp *pcp,
		       struct pcp_run *r)
{
	uint64_t chunk = r->next & ~((1ULL << MAX_ORDER) - 1);
	uint64_t n = r->end - r->next, pfn = r->next;
	uint32_t *mark;

	if (!n)
		return;
	mark = &pm->clean_from[r->next >> MAX_ORDER];
	if (r->next >= r->dirty_end && *mark == r->end - chunk)
		*mark = (uint32_t)(r->next - chunk);
	/* as the largest aligned blocks: a few merges, not one per page */
	while (pfn < r->end) {
		unsigned int o = (unsigned int)__builtin_ctzll(pfn | r->end);

		while (pfn + (1ULL << o) > r->end)
			o--;
		buddy_release(pm, pfn, o);
		pfn += 1ULL << o;
	}
	pm->in_use -= n << PAGE_SHIFT;
	pcp_account(pcp, (int64_t)(n << PAGE_SHIFT));
	*r = (struct pcp_run){ 0 };
}

static bool pcp_has_runs(const struct pcp *pcp)
{
	for (int z = 0; z < NR_ZONES; z++)
		if (pcp->run[z].next < pcp->run[z].end)
			return true;
	return false;
}

/* Slot and pm->lock held. */
static void pcp_return_runs(struct iopgt_physmem *pm, struct pcp *pcp)
{
	for (int z = 0; z < NR_ZONES; z++)
		run_return(pm, pcp, &pcp->run[z]);
}

/*
 * Give the oldest n pages of a list back to the buddy system, in the
 * order they were freed, so the buddy system ends up as if they had gone
 * straight to it.  Slot and pm->lock held; the runs are back already.
 */
static void pcp_drain_list(struct iopgt_physmem *pm, struct pcp_list *l,
			   unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		buddy_release(pm, va_to_pfn(pm, l->pages[i]), 0);
	l->count -= n;
	memmove(l->pages, l->pages + n, l->count * sizeof(l->pages[0]));
}

/* The slot's runs, and with lists its free pages too, back to the buddy
 * system.  Slot held; takes pm->lock if there is anything to give. */
static void pcp_drain(struct iopgt_physmem *pm, struct pcp *pcp, bool lists)
{
	bool any = pcp_has_runs(pcp);

	for (int z = 0; lists && z < NR_ZONES; z++)
		any |= pcp->list[z].count != 0;
	if (!any)
		return;
	zone_lock(pm);
	pcp_return_runs(pm, pcp);
	for (int z = 0; lists && z < NR_ZONES; z++)
		pcp_drain_list(pm, &pcp->list[z], pcp->list[z].count);
	zone_unlock(pm);
}

/* Every slot's pages back to the buddy system: before giving up on a
 * request, and when a limit is set. */
static void pcp_drain_all(struct iopgt_physmem *pm)
{
	for (int i = 0; i < PCP_SLOTS; i++) {
		pcp_lock(&pm->pcp[i]);
		pcp_drain(pm, &pm->pcp[i], true);
		pcp_unlock(&pm->pcp[i]);
	}
}

/* The smallest order with a free block in z; MAX_ORDER + 1: none. */
static unsigned int zone_min_order(const struct zone *z)
{
	unsigned int o = 0;

	while (o <= MAX_ORDER && !z->free[o])
		o++;
	return o;
}

/*
 * Fill the slot's empty run for requests of this zone.  Where the
 * smallest free block has order o, the next 2^o single-page requests
 * would get its pages lowest first: a split keeps the low half and gives
 * the upper halves back as the only free blocks below order o, and each
 * following request takes the smallest.  So the run is the first
 * 2^min(o, run_order) pages of that block, split off as one block, and a
 * thread gets the same addresses as without runs provided its every other
 * way into the buddy system gives its runs back first.  NORMAL requests
 * fall back to DMA32, as buddy_alloc().  Slot held; takes pm->lock.
 */
static void run_refill(struct iopgt_physmem *pm, struct pcp *pcp, int zone)
{
	/* two zones: NORMAL (1) falls back to DMA32 (0), never back up */
	struct pcp_run *r = &pcp->run[zone], *other = &pcp->run[!zone];

	G_STATIC_ASSERT(ZONE_DMA32 == 0 && ZONE_NORMAL == 1 && NR_ZONES == 2);
	zone_lock(pm);
	/* set_limit() turns the caches off under this lock */
	if (atomic_load_explicit(&pm->limit, memory_order_relaxed))
		goto out_unlock;
	for (int zi = zone; zi >= 0; zi--) {
		struct zone *z = &pm->zones[zi];
		unsigned int o;
		uint64_t pfn;

		/* to the buddy system the other run's pages here are free */
		if (other->next < other->end && pfn_zone(pm, other->next) == z)
			run_return(pm, pcp, other);
		o = zone_min_order(z);
		if (o > MAX_ORDER)
			continue;
		o = MIN(o, pm->run_order);
		pfn = va_to_pfn(pm, zone_alloc(pm, z, o, UINT64_MAX));
		pm->in_use += IOPGT_PHYS_PAGE << o;
		r->next = pfn;
		r->end = pfn + (1ULL << o);
		r->dirty_end = pfn + claim_range(pm, pfn, o);
		pcp_account(pcp, -(int64_t)(IOPGT_PHYS_PAGE << o));
		break;
	}
out_unlock:
	zone_unlock(pm);
}

/* A cached page for this zone: the page freed last, else the next of the
 * run; NULL when the slot is busy or the zone empty (then the caller asks
 * the buddy system). */
static void *pcp_alloc(struct iopgt_physmem *pm, struct pcp *pcp, int zone)
{
	struct pcp_list *l = &pcp->list[zone];
	struct pcp_run *r = &pcp->run[zone];
	bool dirty = true;
	void *va = NULL;

	if (!pcp_trylock(pcp))
		return NULL;
	if (l->count) {
		va = l->pages[--l->count];
	} else {
		if (r->next == r->end)
			run_refill(pm, pcp, zone);
		if (r->next < r->end) {
			dirty = r->next < r->dirty_end;
			va = pfn_to_va(pm, r->next++);
		}
	}
	if (va)
		pcp_account(pcp, IOPGT_PHYS_PAGE);
	pcp_unlock(pcp);
	if (va && dirty)
		zero_block(va, IOPGT_PHYS_PAGE);
	return va;
}

/* Keep a freed page in the thread's slot.  Returns: false if the slot is
 * busy (another thread with the same slot number): free it directly. */
static bool pcp_free(struct iopgt_physmem *pm, struct pcp *pcp, void *va,
		     uint64_t pfn)
{
	struct pcp_list *l;

	if (!pcp_trylock(pcp))
		return false;
	l = &pcp->list[pfn_zone(pm, pfn) == &pm->zones[ZONE_NORMAL] ?
		       ZONE_NORMAL : ZONE_DMA32];
	if (l->count == PCP_HIGH) {
		zone_lock(pm);
		pcp_return_runs(pm, pcp);
		pcp_drain_list(pm, l, PCP_BATCH);
		zone_unlock(pm);
	}
	l->pages[l->count++] = va;
	pcp_account(pcp, -(int64_t)IOPGT_PHYS_PAGE);
	pcp_unlock(pcp);
	return true;
}

/* ---- allocation ---------------------------------------------------------- */

/* Bytes handed out: the buddy system's count and every slot's share.
 * pm->lock held, so no page moves between the two while we add up. */
static uint64_t total_in_use(struct iopgt_physmem *pm)
{
	int64_t v = (int64_t)pm->in_use;

	for (int i = 0; i < PCP_SLOTS; i++)
		v += atomic_load_explicit(&pm->pcp[i].in_use,
					  memory_order_relaxed);
	return (uint64_t)v;
}

/* From the buddy system.  *dirty: bytes at the start that need zeroing. */
static void *buddy_alloc(struct iopgt_physmem *pm, unsigned int order,
			 unsigned int flags, uint64_t max_pa, uint64_t *dirty)
{
	uint64_t bytes = IOPGT_PHYS_PAGE << order;
	uint64_t limit;
	void *va = NULL;

	zone_lock(pm);
	limit = atomic_load_explicit(&pm->limit, memory_order_relaxed);
	if (limit && total_in_use(pm) + bytes > limit)
		goto out_unlock;
	if (!(flags & IOPGT_MEM_DMA32))
		va = zone_alloc(pm, &pm->zones[ZONE_NORMAL], order, max_pa);
	if (!va)
		va = zone_alloc(pm, &pm->zones[ZONE_DMA32], order, max_pa);
	if (va) {
		pm->in_use += bytes;
		*dirty = claim_range(pm, va_to_pfn(pm, va), order) <<
			 PAGE_SHIFT;
	}
out_unlock:
	zone_unlock(pm);
	return va;
}

uint64_t iopgt_mem_flags_max_pa(unsigned int flags)
{
	unsigned int bits = IOPGT_MEM_FLAGS_MAX_BITS(flags);

	if (flags & IOPGT_MEM_DMA32 && (!bits || bits > 32))
		bits = 32;
	return bits && bits < 64 ? (1ULL << bits) - 1 : UINT64_MAX;
}

void *iopgt_physmem_alloc(struct iopgt_physmem *pm, size_t size,
			  unsigned int flags, uint64_t *pa)
{
	unsigned int order = size_to_order(size ? size : 1);
	uint64_t max_pa = iopgt_mem_flags_max_pa(flags);
	int zone = max_pa < DMA32_END ? ZONE_DMA32 : ZONE_NORMAL;
	struct pcp *pcp = pcp_of_thread(pm);
	uint64_t dirty = 0;
	void *va = NULL;
	bool cached = !atomic_load_explicit(&pm->limit, memory_order_relaxed);

	if (order > MAX_ORDER)
		return NULL;
	/* a DMA32-sized limit is the DMA32 zone, as IOPGT_MEM_DMA32 */
	if (zone == ZONE_DMA32)
		flags |= IOPGT_MEM_DMA32;
	/* the cache holds pages from anywhere in the zone */
	if (order == 0 && cached &&
	    zone_last_pa(pm, &pm->zones[zone]) <= max_pa)
		va = pcp_alloc(pm, pcp, zone);
	if (!va) {
		/* the buddy system as if this thread's runs, and for larger
		 * blocks its cached pages too, had gone straight back to it */
		if (pcp_trylock(pcp)) {
			pcp_drain(pm, pcp, order != 0);
			pcp_unlock(pcp);
		}
		va = buddy_alloc(pm, order, flags, max_pa, &dirty);
		if (!va && cached) {
			pcp_drain_all(pm);
			va = buddy_alloc(pm, order, flags, max_pa, &dirty);
		}
		if (!va)
			return NULL;
		zero_block(va, dirty);
	}
	if (pa)
		*pa = pm->pa_base + ((uintptr_t)va - (uintptr_t)pm->base);
	return va;
}

/*
 * The free block of order >= order that contains pfn, its order in *o;
 * NULL if a page of [pfn, pfn + 1 << order) is in use.  pm->lock held.
 */
static struct free_block *free_block_holding(struct iopgt_physmem *pm,
					     struct zone *z, uint64_t pfn,
					     unsigned int order,
					     unsigned int *o)
{
	for (*o = order; *o <= MAX_ORDER; (*o)++) {
		uint64_t head = pfn & ~((1ULL << *o) - 1);

		if (head < z->start || head + (1ULL << *o) > z->end)
			return NULL;
		if (pm->meta[head] == (META_FREE | *o))
			return pfn_to_va(pm, head);
	}
	return NULL;
}

void *iopgt_physmem_claim(struct iopgt_physmem *pm, uint64_t pa, size_t size,
			  int *err)
{
	unsigned int order = size_to_order(size ? size : 1), o;
	uint64_t bytes = IOPGT_PHYS_PAGE << order;
	uint64_t pfn, limit;
	struct free_block *b;
	struct zone *z;
	void *va = NULL;

	*err = -EINVAL;
	if (order > MAX_ORDER || pa & (bytes - 1) || pa < pm->first_pa ||
	    pa + bytes - 1 > iopgt_physmem_last_pa(pm))
		return NULL;
	/* cached free pages look in use to the buddy system */
	pcp_drain_all(pm);
	pfn = (pa - pm->pa_base) >> PAGE_SHIFT;
	zone_lock(pm);
	*err = -EBUSY;
	z = pfn_zone(pm, pfn);
	b = free_block_holding(pm, z, pfn, order, &o);
	limit = atomic_load_explicit(&pm->limit, memory_order_relaxed);
	if (b && limit && total_in_use(pm) + bytes > limit) {
		*err = -ENOMEM;
		b = NULL;
	}
	if (b) {
		uint64_t head = va_to_pfn(pm, b);

		list_del(pm, z, b, o);
		/* split down to pfn's block, giving back the other halves */
		while (o > order) {
			o--;
			if (pfn & (1ULL << o)) {
				list_push(pm, z, head, o);
				head += 1ULL << o;
			} else {
				list_push(pm, z, head + (1ULL << o), o);
			}
		}
		pm->in_use += bytes;
		claim_range(pm, pfn, order);
		va = pfn_to_va(pm, pfn);
		*err = 0;
	}
	zone_unlock(pm);
	if (va)
		zero_block(va, bytes);
	return va;
}

void iopgt_physmem_release(struct iopgt_physmem *pm, void *va, size_t size)
{
	unsigned int order = size_to_order(size ? size : 1);
	uint64_t pfn = va_to_pfn(pm, va);
	bool cached = !atomic_load_explicit(&pm->limit, memory_order_relaxed);
	struct pcp *pcp = pcp_of_thread(pm);
	bool held;

	if (order == 0 && cached && pcp_free(pm, pcp, va, pfn))
		return;
	held = pcp_trylock(pcp);
	zone_lock(pm);
	/* into the buddy system as if this thread's runs had never been
	 * taken */
	if (held)
		pcp_return_runs(pm, pcp);
	pm->in_use -= IOPGT_PHYS_PAGE << order;
	buddy_release(pm, pfn, order);
	zone_unlock(pm);
	if (held)
		pcp_unlock(pcp);
}

uint64_t iopgt_physmem_pa_to_va_offset(const struct iopgt_physmem *pm)
{
	return (uint64_t)(uintptr_t)pm->base - pm->pa_base;
}

uint64_t iopgt_physmem_last_pa(const struct iopgt_physmem *pm)
{
	return pm->first_pa + pm->size - 1;
}

void iopgt_physmem_set_limit(struct iopgt_physmem *pm, uint64_t bytes)
{
	zone_lock(pm);
	atomic_store_explicit(&pm->limit, bytes, memory_order_relaxed);
	zone_unlock(pm);
	/* with a limit every request goes to the buddy system, which then
	 * must see every free page */
	if (bytes)
		pcp_drain_all(pm);
}

uint64_t iopgt_physmem_in_use(struct iopgt_physmem *pm)
{
	uint64_t v;

	zone_lock(pm);
	v = total_in_use(pm);
	zone_unlock(pm);
	return v;
}

uint64_t iopgt_physmem_size(const struct iopgt_physmem *pm)
{
	return pm->size;
}

uint64_t iopgt_physmem_lock_count(struct iopgt_physmem *pm)
{
	uint64_t v;

	zone_lock(pm);
	v = --pm->lock_count;	/* this one does not count */
	zone_unlock(pm);
	return v;
}

void iopgt_physmem_set_run_pages(struct iopgt_physmem *pm, unsigned int pages)
{
	unsigned int order = 0;

	while (order < MAX_ORDER && (2U << order) <= pages)
		order++;
	zone_lock(pm);
	pm->run_order = order;
	zone_unlock(pm);
	pcp_drain_all(pm);
}
