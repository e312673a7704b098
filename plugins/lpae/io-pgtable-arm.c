// SPDX-License-Identifier: MIT
/*
 * io-pgtable-arm: the ARM LPAE long-descriptor formats, bit-exact with
 * Linux drivers/iommu/io-pgtable-arm.c (v6.19/7.0 behaviour), written from
 * the architecture and the behaviour digest, not from Linux code.
 *
 * Supported:
 *  - ARM_64_LPAE_S1, ARM_64_LPAE_S2, ARM_32_LPAE_S1, ARM_32_LPAE_S2 and
 *    ARM_MALI_LPAE, registered as arm-64-lpae-s1, arm-64-lpae-s2,
 *    arm-32-lpae-s1, arm-32-lpae-s2 and arm-mali-lpae.
 *  - 4K, 16K and 64K granules; ias/oas up to 48 bits, 52 with 64K; every
 *    start level; stage-2 pgd concatenation exactly when Arm DDI0487 K.a
 *    makes it mandatory (Linux's rule since 2025).
 *  - Quirks: ARM_NS, ARM_TTBR1, ARM_OUTER_WBWA, ARM_HD, NO_WARN (stage 1);
 *    ARM_S2FWB, NO_WARN (stage 2); none on Mali.  Every format also takes
 *    the iopgt extension RECLAIM_TABLES: an unmap that empties a table
 *    frees it, lock-free (see "reclaim of empty tables").
 *  - map_pages batching up to the end of the current table, unmap_pages
 *    with Linux's stop-at-hole/stop-at-table-end rules, iova_to_phys,
 *    read_and_clear_dirty (ARM_64_LPAE_S1 with HD), a dump walk and the
 *    register outputs by their Linux names.
 *  - Non-coherent walkers: every table write is synced through the host
 *    before it is reachable, with SW_SYNC (bit 55) in table descriptors.
 *  - Concurrent map/unmap on disjoint ranges: tables are installed with a
 *    compare-and-swap and the loser frees its table.
 *  - Walking tables built elsewhere (lpae-foreign.c), with the state and
 *    descriptor decoding of lpae-pgtable.h that this file uses too; the
 *    format table, per-level lookups and prot encoding both build their
 *    struct lpae_pgtable with are in lpae-pgtable.c.
 *
 * Not supported:
 *  - the contiguous hint (bit 52), never used by Linux either;
 *  - splitting a block on a partial unmap (Linux removed it in v6.13: a
 *    partial unmap returns 0 and leaves the block alone);
 *  - custom allocators: table memory always comes from the host.
 *
 * Deliberate differences from Linux (each one where Linux would write a
 * corrupt entry or wander off its tables):
 *  - map_pages rejects an iova or paddr not aligned to pgsize, pgcount 0
 *    and a pgsize with more than one bit set with -EINVAL, and a batch
 *    whose last byte lies beyond oas with -ERANGE;
 *  - unmap_pages returns 0 for a misaligned iova;
 *  - a pgsize whose level lies above the start level is refused up front
 *    (Linux allocates tables on the way down, then fails with -EINVAL);
 *  - a batch at the start level never runs past the end of a pgd smaller
 *    than one granule (Linux's limit is the granule-sized table);
 *  - a bitmap that leaves no usable granule, or an ias no larger than the
 *    granule shift, fails alloc instead of producing a broken geometry.
 */
#define pr_fmt(fmt) "lpae: " fmt

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <iopgt/bits.h>
#include <iopgt/host-services.h>
#include <iopgt/pgtable.h>
#include <iopgt/plugin.h>

#include "lpae-foreign.h"
#include "lpae-pgtable.h"
#include "lpae-regs.h"

/* The CPU page size Linux's granule choice prefers; the host's is 4K. */
#define LPAE_HOST_PAGE_SIZE	SZ_4K

/*
 * Shared table entries are read with acquire loads: another thread may
 * have just installed the table (release CAS) and we are about to read
 * the zeroed memory behind it.  Leaf slots inside a caller's own range are
 * touched by that caller alone (the disjoint-range rule), so the batch
 * loops use plain accesses the compiler may unroll.
 */
#define lpae_read_pte(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define lpae_write_pte(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* ---- live-table helpers -------------------------------------------------- */

static inline struct lpae_pgtable *ops_to_data(struct iopgt_ops *ops)
{
	return container_of(ops, struct lpae_pgtable, iop.ops);
}

/*
 * Next-level table of a table descriptor.  Tables come from the host's
 * simulated memory, which lies far below 2^48 (checked at allocation), and
 * are granule aligned, so their address is PTE[47:12] as is.
 */
static inline lpae_pte_t *pte_to_table(const struct lpae_pgtable *d,
				       lpae_pte_t pte)
{
	return (lpae_pte_t *)(uintptr_t)((pte & d->addr_mask) + d->pa_to_va);
}

/* Type 3 (table, or page at level 3) is the only type that wraps to 0. */
static inline bool pte_type_is_3(lpae_pte_t pte)
{
	return !((pte + 1) & LPAE_PTE_TYPE_MASK);
}

static inline void lpae_sync(const struct lpae_pgtable *d, const void *va,
			     size_t bytes)
{
	d->env.svc->dma_sync(d->env.mem, va, bytes);
}

static inline bool lpae_no_warn(const struct lpae_pgtable *d)
{
	return d->quirks & IO_PGTABLE_QUIRK_NO_WARN;
}

static void lpae_tlb_flush_walk(const struct lpae_pgtable *d,
				unsigned long iova, size_t size)
{
	if (d->tlb && d->tlb->tlb_flush_walk)
		d->tlb->tlb_flush_walk(iova, size, LPAE_GRANULE(d), d->cookie);
}

/* ---- table memory -------------------------------------------------------- */

/*
 * A zeroed, naturally aligned table.  For a non-coherent walker the zeroes
 * are synced too (Linux's dma_map_single at allocation), so the table is
 * clean before anything points at it.
 *
 * Every table, the pgd too, lies below 2^oas: the walker takes the TTBR
 * (VTTBR, TRANSTAB) and each next-level pointer as an output address, and
 * one beyond the output size (TCR.IPS, VTCR.PS) is an Address Size fault.
 * The host refuses with a warning when its memory has nothing below it.
 */
static lpae_pte_t *lpae_alloc_table(struct lpae_pgtable *d, size_t size)
{
	void *va = d->env.svc->alloc_pages(d->env.mem, size,
					   IOPGT_MEM_MAX_BITS(d->oas));
	uint64_t pa;

	if (!va)
		return NULL;
	pa = iopgt_virt_to_phys(&d->env, va);
	/* pte_to_table() relies on all three; a host breaking them (one
	 * older than ABI 1.2 ignores the limit) is refused */
	if (unlikely(pa >> 48 || (pa & (size - 1)) ||
		     (pa + size - 1) >> d->oas)) {
		iopgt_env_err(&d->env, "table at PA 0x%llx unusable (size %zu, oas %u)",
			      (unsigned long long)pa, size, d->oas);
		d->env.svc->free_pages(d->env.mem, va, size);
		return NULL;
	}
	if (!d->coherent)
		lpae_sync(d, va, size);
	__atomic_fetch_add(&d->nr_tables, 1, __ATOMIC_RELAXED);
	return va;
}

static void lpae_free_table(struct lpae_pgtable *d, lpae_pte_t *table,
			    size_t size)
{
	__atomic_fetch_sub(&d->nr_tables, 1, __ATOMIC_RELAXED);
	d->env.svc->free_pages(d->env.mem, table, size);
}

/* Entries looked at together when a table is freed: one test per run. */
#define LPAE_FREE_RUN	16

static inline bool lpae_run_empty(const lpae_pte_t *ptep)
{
	lpae_pte_t any = 0;

#pragma GCC unroll 16
	for (int i = 0; i < LPAE_FREE_RUN; i++)
		any |= ptep[i];
	return !any;
}

/*
 * Free a table and every table below it (leaves need no freeing).  *left
 * counts the tables below still to be found: the scan stops when it
 * reaches 0, so an empty pgd is not read at all (SIZE_MAX: unknown).
 */
static void lpae_free_subtree(struct lpae_pgtable *d, lpae_pte_t *table,
			      int lvl, size_t *left)
{
	size_t n = lvl < LPAE_MAX_LEVELS - 1 ? lpae_table_entries(d, lvl) : 0;

	for (size_t i = 0; i < n && *left; i++) {
		lpae_pte_t pte;

		/* an empty run (most of a sparse table): one test */
		if (!(i % LPAE_FREE_RUN) && n - i >= LPAE_FREE_RUN &&
		    lpae_run_empty(&table[i])) {
			i += LPAE_FREE_RUN - 1;
			continue;
		}
		pte = table[i];
		if (pte_is_table(pte, lvl)) {
			--*left;
			lpae_free_subtree(d, pte_to_table(d, pte), lvl + 1,
					  left);
		}
	}
	if (lvl == d->start_level)
		lpae_free_table(d, table, d->pgd_alloc);
	else
		lpae_free_table(d, table, LPAE_GRANULE(d));
}

/*
 * Install a fresh table in an empty slot (arm_lpae_install_table).
 * Returns the entry now in the slot: ours, or the winner's when another
 * thread got there first (then our table goes back), or 0 on -ENOMEM.
 */
static lpae_pte_t lpae_install_table(struct lpae_pgtable *d, lpae_pte_t *ptep)
{
	lpae_pte_t *table = lpae_alloc_table(d, LPAE_GRANULE(d));
	lpae_pte_t old = 0, new;
	bool won;

	if (!table)
		return 0;
	new = paddr_to_pte(iopgt_virt_to_phys(&d->env, table)) | d->table_attr;
	/* release: the zeroed table is visible before the pointer to it */
	won = __atomic_compare_exchange_n(ptep, &old, new, false,
					  __ATOMIC_RELEASE, __ATOMIC_ACQUIRE);
	if (!d->coherent && (won || !(old & LPAE_PTE_SW_SYNC))) {
		lpae_sync(d, ptep, sizeof(*ptep));
		if (won) {
			new |= LPAE_PTE_SW_SYNC;
			lpae_write_pte(ptep, new);
		}
	}
	if (won)
		return new;
	lpae_free_table(d, table, LPAE_GRANULE(d));
	return old;
}

/*
 * Remove the table behind *ptep (a block-sized unmap over it, or a block
 * map over it): clear, sync, flush the walk cache, free the subtree.
 */
static void lpae_remove_table(struct lpae_pgtable *d, lpae_pte_t *ptep,
			      unsigned long iova, int lvl)
{
	lpae_pte_t pte = lpae_read_pte(ptep);
	size_t left = SIZE_MAX;		/* the subtree's size is unknown */

	lpae_write_pte(ptep, 0);
	if (!d->coherent)
		lpae_sync(d, ptep, sizeof(*ptep));
	lpae_tlb_flush_walk(d, iova, LPAE_BLOCK_SIZE(d, lvl));
	lpae_free_subtree(d, pte_to_table(d, pte), lvl + 1, &left);
}

/* ---- map ----------------------------------------------------------------- */

/*
 * Errors travel through table pointers on the walk, as the kernel's
 * ERR_PTR: the top 4095 addresses are never a table.
 */
#define LPAE_ERR_PTR(err)	((lpae_pte_t *)(intptr_t)(err))
#define LPAE_IS_ERR(p)		((uintptr_t)(p) >= (uintptr_t)-4095)
#define LPAE_PTR_ERR(p)		((int)(intptr_t)(p))

/*
 * Entries from iova's slot to the end of its granule-sized (sub-)table at
 * the level whose block size is 2^lg: how far one batch may go.  This
 * keeps a batch inside one table of a concatenated pgd, as Linux's
 * arm_lpae_max_entries does, and inside a pgd smaller than a granule.
 */
static inline size_t lpae_batch(const struct lpae_pgtable *d,
				unsigned long iova, unsigned int lg, int lvl,
				size_t pgcount)
{
	unsigned long e = d->lvl_entries[lvl];
	size_t n;

	if (pgcount == 1)	/* common, and never crosses a table end */
		return 1;
	n = e - ((iova >> lg) & (e - 1));
	return pgcount < n ? pgcount : n;
}

/*
 * The hot ops are compiled once per granule (see LPAE_GRANULE_OPS): bpl
 * and lvl are constants in every use, so each level's shift is an
 * immediate and its mask a fixed-offset load.  The common geometry (4K,
 * 48 bits: start level 0) gets its own copy with the start level a
 * constant too (sl = 0; sl = -1 reads d->start_level).
 *
 * Only a 64K granule (bpl 13) allows oas > 48: elsewhere a constant false.
 */
static __always_inline bool lpae_oa_hi(const struct lpae_pgtable *d, int bpl)
{
	return bpl == 13 && d->oa_hi;
}

/* The last byte of n pages of pgsize from paddr, which is aligned. */
static __always_inline uint64_t lpae_last_byte(uint64_t paddr, size_t pgsize,
					       size_t n)
{
	/* a known single page cannot carry into the upper bits: one OR */
	if (__builtin_constant_p(n) && n == 1)
		return paddr | (pgsize - 1);
	return paddr + (n * pgsize - 1);
}

/*
 * The map argument check, the one every map path makes: pgsize one size
 * of the bitmap whose level the table has, iova and paddr aligned to it,
 * pgcount not 0, read or write asked for, iova inside ias, and the batch
 * from paddr to its last byte below 2^oas (both ends: the end alone wraps
 * for a paddr near 2^64).  lg and target are pgsize's log2 and level.
 * Returns the pages of this batch, or 0: then lpae_map_refuse() says why.
 */
static __always_inline size_t
lpae_map_valid(const struct lpae_pgtable *d, unsigned long iova,
	       uint64_t paddr, size_t pgsize, size_t pgcount, int prot,
	       unsigned int lg, int target)
{
	size_t n;

	if (unlikely(target < 0 || ((iova | paddr | pgsize) & (pgsize - 1)) ||
		     !pgcount || !(prot & (IOMMU_READ | IOMMU_WRITE)) ||
		     !lpae_iova_in_range(d, iova)))
		return 0;
	n = lpae_batch(d, iova, lg, target, pgcount);
	if (unlikely((paddr | lpae_last_byte(paddr, pgsize, n)) >> d->oas))
		return 0;
	return n;
}

/*
 * Why lpae_map_valid() refused a request: its conditions one at a time,
 * in Linux's order and then ours, each with its errno and Linux's warning.
 */
static __noinline __cold int
lpae_map_refuse(struct lpae_pgtable *d, unsigned long iova, uint64_t paddr,
		size_t pgsize, size_t pgcount, int prot)
{
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int target = d->size_lvl[lg];
	size_t n;

	if (!pgsize || (pgsize & d->pgsize_bitmap) != pgsize ||
	    (pgsize & (pgsize - 1))) {
		iopgt_env_warn(&d->env, "map: page size 0x%zx not in pgsize_bitmap 0x%lx",
			       pgsize, d->pgsize_bitmap);
		return -EINVAL;
	}
	if (!lpae_iova_in_range(d, iova) || paddr >> d->oas) {
		iopgt_env_warn(&d->env, "map: iova 0x%lx or paddr 0x%llx out of range (ias %u, oas %u)",
			       iova, (unsigned long long)paddr, d->ias, d->oas);
		return -ERANGE;
	}
	if (!(prot & (IOMMU_READ | IOMMU_WRITE)))
		return -EINVAL;
	if (((iova | paddr) & (pgsize - 1)) || !pgcount || target < 0) {
		iopgt_env_warn(&d->env, "map: bad request: iova 0x%lx paddr 0x%llx size 0x%zx count %zu",
			       iova, (unsigned long long)paddr, pgsize,
			       pgcount);
		return -EINVAL;
	}
	n = lpae_batch(d, iova, lg, target, pgcount);
	if ((paddr + n * pgsize - 1) >> d->oas) {
		iopgt_env_warn(&d->env, "map: paddr 0x%llx + 0x%zx beyond oas %u",
			       (unsigned long long)paddr, n * pgsize, d->oas);
		return -ERANGE;
	}
	/* lpae_map_valid() and this list disagree: a bug, said as one */
	iopgt_env_err(&d->env, "map: lpae_map_valid() refused iova 0x%lx for no reason lpae_map_refuse() knows",
		      iova);
	return -EINVAL;
}

/*
 * The slot on the way down is not a synced table: install a table in an
 * empty slot, sync an entry a racing walker has not synced yet, or refuse
 * to map inside a block.  Returns the next table or an error pointer.
 */
static __noinline lpae_pte_t *
lpae_map_descend_slow(struct lpae_pgtable *d, lpae_pte_t *ptep,
		      lpae_pte_t pte, unsigned long iova, int lvl)
{
	if (!pte) {
		pte = lpae_install_table(d, ptep);
		if (!pte)
			return LPAE_ERR_PTR(-ENOMEM);
	} else if (!d->coherent && !(pte & LPAE_PTE_SW_SYNC)) {
		lpae_sync(d, ptep, sizeof(*ptep));
	}
	/* lvl < target <= 3: anything but a table is a leaf */
	if ((pte & LPAE_PTE_TYPE_MASK) != LPAE_PTE_TYPE_TABLE) {
		if (!lpae_no_warn(d))
			iopgt_env_warn(&d->env,
				       "map: iova 0x%lx is inside a block (level %d pte 0x%016llx)",
				       iova, lvl, (unsigned long long)pte);
		return LPAE_ERR_PTR(-EEXIST);
	}
	return pte_to_table(d, pte);
}

/*
 * Some slot of a batch is in use (arm_lpae_init_pte).  Every slot is
 * checked before anything changes: a leaf anywhere is -EEXIST with the
 * table untouched.  Leftover tables where blocks go are removed, as a
 * block-sized unmap would.
 */
static __noinline int
lpae_map_clear_slots(struct lpae_pgtable *d, lpae_pte_t *ptep, size_t n,
		     unsigned long iova, size_t size, int lvl)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (pte_is_leaf(d, ptep[i], lvl)) {
			if (!lpae_no_warn(d))
				iopgt_env_warn(&d->env,
					       "map: iova 0x%lx is already mapped (pte 0x%016llx)",
					       iova + i * size,
					       (unsigned long long)ptep[i]);
			return -EEXIST;
		}
	}
	for (i = 0; i < n; i++) {
		if (!pte_is_table(ptep[i], lvl))
			continue;
		lpae_remove_table(d, &ptep[i], iova + i * size, lvl);
		/* Linux's unmap clears it once more on the way out */
		if (!d->coherent)
			lpae_sync(d, &ptep[i], sizeof(*ptep));
	}
	return 0;
}

/* Tail of a non-coherent map: make the new leaves visible. */
static __noinline int lpae_sync_leaves(struct lpae_pgtable *d,
				       lpae_pte_t *ptep, size_t n)
{
	lpae_sync(d, ptep, n * sizeof(*ptep));
	return 0;
}

/*
 * Write n leaves for paddr with attributes attr (type bits included) from
 * ptep, make them visible to a non-coherent walker and count them in
 * *mapped: the one place a leaf descriptor is written.  oa_hi folds
 * PA[51:48] into PTE[15:12]; the fast paths, which send such tables
 * elsewhere, pass a constant false.  Returns 0.
 */
static __always_inline int
lpae_set_leaves(struct lpae_pgtable *d, lpae_pte_t *ptep, size_t n,
		lpae_pte_t attr, uint64_t paddr, size_t pgsize, bool oa_hi,
		size_t *mapped)
{
	size_t i;

	if (likely(!oa_hi)) {
		/*
		 * PA[47:12] sit in place: step the descriptor by the size,
		 * four entries a round (the loop's count and test then cost
		 * a quarter each; one page, a constant n, has no loop).
		 */
		lpae_pte_t pte = attr | paddr;

#pragma GCC unroll 4
		for (i = 0; i < n; i++, pte += pgsize)
			ptep[i] = pte;
	} else {
		for (i = 0; i < n; i++)
			ptep[i] = attr | paddr_to_pte(paddr + i * pgsize);
	}
	*mapped += n * pgsize;
	if (!d->coherent)
		return lpae_sync_leaves(d, ptep, n);
	return 0;
}

/*
 * Map n pages into the slots from ptep at level lvl, whose tables exist:
 * unless the slots are known empty (fresh), refuse a leaf and remove
 * leftover tables first, then write the leaves.
 */
static __always_inline int
lpae_map_at(struct lpae_pgtable *d, lpae_pte_t *ptep, int lvl,
	    unsigned long iova, uint64_t paddr, size_t pgsize, size_t n,
	    lpae_pte_t attr, bool fresh, size_t *mapped)
{
	lpae_pte_t any = 0;
	size_t i;
	int ret;

	if (!fresh) {
#pragma GCC unroll 4
		for (i = 0; i < n; i++)
			any |= ptep[i];
		if (any) {
			ret = lpae_map_clear_slots(d, ptep, n, iova, pgsize,
						   lvl);
			if (ret)
				return ret;
		}
	}
	return lpae_set_leaves(d, ptep, n, attr, paddr, pgsize, d->oa_hi,
			       mapped);
}

/*
 * The general map walk, Linux's algorithm step by step: install missing
 * tables, sync for a non-coherent walker, then lpae_map_at().  The
 * arguments passed lpae_map_valid(); n is its batch.
 */
static __noinline int
lpae_map_install(struct lpae_pgtable *d, unsigned long iova, uint64_t paddr,
		 size_t pgsize, size_t n, lpae_pte_t attr, size_t *mapped)
{
	int lvl, target = d->size_lvl[__builtin_ctzl(pgsize)];
	lpae_pte_t *table = d->pgd, *ptep;
	bool fresh = false;

	for (lvl = d->start_level; lvl < target; lvl++) {
		lpae_pte_t pte;

		ptep = &table[LPAE_LVL_IDX(d, iova, lvl)];
		pte = lpae_read_pte(ptep);
		if (likely((pte & d->table_need) == d->table_need)) {
			table = pte_to_table(d, pte);
		} else {
			table = lpae_map_descend_slow(d, ptep, pte, iova, lvl);
			if (LPAE_IS_ERR(table))
				return LPAE_PTR_ERR(table);
			/*
			 * The slot was empty: whoever installed the table,
			 * our slots below it are empty too (another thread
			 * only writes its own, disjoint range).
			 */
			fresh |= !pte;
		}
	}
	ptep = &table[LPAE_LVL_IDX(d, iova, target)];
	return lpae_map_at(d, ptep, target, iova, paddr, pgsize, n, attr, fresh,
			   mapped);
}

/* map_pages the general way: the check (or why it failed), then install. */
static __noinline int
lpae_map_general(struct lpae_pgtable *d, unsigned long iova, uint64_t paddr,
		 size_t pgsize, size_t pgcount, int prot, size_t *mapped)
{
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int target = d->size_lvl[lg];
	size_t n = lpae_map_valid(d, iova, paddr, pgsize, pgcount, prot, lg,
				  target);

	if (unlikely(!n))
		return lpae_map_refuse(d, iova, paddr, pgsize, pgcount, prot);
	return lpae_map_install(d, iova, paddr, pgsize, n,
				d->prot_pte[prot & 63] | d->leaf_type[target],
				mapped);
}

/* The entry for iova in the table at level lvl (constant). */
static __always_inline lpae_pte_t lpae_lookup(const struct lpae_pgtable *d,
					      const lpae_pte_t *table,
					      unsigned long iova, int lvl,
					      int bpl)
{
	return lpae_read_pte(&table[(iova >> LPAE_LVL_SHIFT(lvl, bpl)) &
				    d->lvl_mask[lvl]]);
}

/*
 * Find the table holding iova's entry at level target, through tables a
 * walker may follow as they are (need: the type bits, plus SW_SYNC for a
 * non-coherent walker).  Returns false at the first entry that is not.
 */
static __always_inline bool
lpae_fast_walk(const struct lpae_pgtable *d, unsigned long iova, int target,
	       int bpl, int sl, lpae_pte_t need, lpae_pte_t **out)
{
	lpae_pte_t *table = d->pgd;
	lpae_pte_t pte;

	switch (sl >= 0 ? sl : d->start_level) {
	case 0:
		if (target == 0)
			break;
		pte = lpae_lookup(d, table, iova, 0, bpl);
		if (unlikely(~pte & need))
			return false;
		table = pte_to_table(d, pte);
		/* fallthrough */
	case 1:
		if (target == 1)
			break;
		pte = lpae_lookup(d, table, iova, 1, bpl);
		if (unlikely(~pte & need))
			return false;
		table = pte_to_table(d, pte);
		/* fallthrough */
	case 2:
		if (target == 2)
			break;
		pte = lpae_lookup(d, table, iova, 2, bpl);
		if (unlikely(~pte & need))
			return false;
		table = pte_to_table(d, pte);
		/* fallthrough */
	default:
		break;
	}
	*out = table;
	return true;
}

/*
 * A batch of pages: valid arguments, every table on the way present and
 * synced, the target slots empty, PA[47:12] in place.  Anything else goes
 * to lpae_map_general() (bad arguments, 52-bit PAs) or lpae_map_install()
 * (a table to install, a used slot): tail calls, with the values already
 * folded (n, attr) so that few stay live across the walk.
 */
static __always_inline int
__lpae_map_batch(struct lpae_pgtable *d, unsigned long iova, uint64_t paddr,
		 size_t pgsize, size_t pgcount, int prot, size_t *mapped,
		 const int bpl, const int sl)
{
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int target = d->size_lvl[lg];
	lpae_pte_t *ptep, attr, any = 0;
	size_t i, n;

	n = lpae_map_valid(d, iova, paddr, pgsize, pgcount, prot, lg, target);
	if (unlikely(!n || lpae_oa_hi(d, bpl)))
		return lpae_map_general(d, iova, paddr, pgsize, pgcount, prot,
					mapped);
	attr = d->prot_pte[prot & 63] | d->leaf_type[target];

	if (unlikely(!lpae_fast_walk(d, iova, target, bpl, sl, d->table_need,
				     &ptep)))
		goto install;
	ptep += (iova >> lg) & d->lvl_mask[target];
#pragma GCC unroll 4
	for (i = 0; i < n; i++)
		any |= ptep[i];
	if (unlikely(any))
		goto install;
	return lpae_set_leaves(d, ptep, n, attr, paddr, pgsize, false, mapped);

install:
	return lpae_map_install(d, iova, paddr, pgsize, n, attr, mapped);
}

/*
 * map_pages.  One page, the common case, is handled here without a call
 * that returns, so it needs no stack frame (one slot needs no batch
 * arithmetic).  Batches go to the batch path of the same granule.
 */
static __always_inline int
__lpae_map_pages(struct iopgt_ops *ops, unsigned long iova, uint64_t paddr,
		 size_t pgsize, size_t pgcount, int prot, size_t *mapped,
		 const int bpl, const int sl,
		 int (*batch)(struct lpae_pgtable *, unsigned long, uint64_t,
			      size_t, size_t, int, size_t *))
{
	struct lpae_pgtable *d = ops_to_data(ops);
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int target = d->size_lvl[lg];
	lpae_pte_t *ptep, attr;

	if (unlikely(pgcount != 1 || lpae_oa_hi(d, bpl) ||
		     !lpae_map_valid(d, iova, paddr, pgsize, 1, prot, lg,
				     target)))
		return batch(d, iova, paddr, pgsize, pgcount, prot, mapped);
	attr = d->prot_pte[prot & 63] | d->leaf_type[target];

	if (unlikely(!lpae_fast_walk(d, iova, target, bpl, sl, d->table_need,
				     &ptep)))
		goto install;
	ptep += (iova >> lg) & d->lvl_mask[target];
	if (unlikely(*ptep))
		goto install;
	return lpae_set_leaves(d, ptep, 1, attr, paddr, pgsize, false, mapped);

install:
	return lpae_map_install(d, iova, paddr, pgsize, 1, attr, mapped);
}

/* ---- unmap --------------------------------------------------------------- */

/*
 * The unmap argument check, the one every unmap path makes: pgsize one
 * size of the bitmap whose level the table has, iova aligned to it and
 * inside ias, pgcount not 0.
 */
static __always_inline bool lpae_unmap_valid(const struct lpae_pgtable *d,
					     unsigned long iova, size_t pgsize,
					     size_t pgcount, int target)
{
	return !(target < 0 || ((iova | pgsize) & (pgsize - 1)) || !pgcount ||
		 !lpae_iova_in_range(d, iova));
}

static __noinline __cold size_t
lpae_unmap_bad_args(struct lpae_pgtable *d, unsigned long iova, size_t pgsize,
		    size_t pgcount)
{
	iopgt_env_warn(&d->env, "unmap: bad request: iova 0x%lx size 0x%zx (bitmap 0x%lx) count %zu",
		       iova, pgsize, d->pgsize_bitmap, pgcount);
	return 0;
}

/* The walk met a hole or a block above the requested level: nothing done. */
static __noinline __cold size_t
lpae_unmap_stuck(struct lpae_pgtable *d, lpae_pte_t pte, unsigned long iova)
{
	if (!pte) {
		if (!lpae_no_warn(d))
			iopgt_env_warn(&d->env, "unmap: iova 0x%lx is not mapped",
				       iova);
	} else if (!__atomic_exchange_n(&d->warned_partial, 1,
					__ATOMIC_RELAXED)) {
		/* WARN_ONCE in Linux, and NO_WARN does not hush it */
		iopgt_env_warn(&d->env,
			       "Unmap of a partial large IOPTE is not allowed");
	}
	return 0;
}

/*
 * The table at level lvl that holds iova's entry, for a caller that has
 * just walked there (so every table on the way exists).
 */
static lpae_pte_t *lpae_table_of(const struct lpae_pgtable *d,
				 unsigned long iova, int lvl)
{
	lpae_pte_t *table = d->pgd;

	for (int l = d->start_level; l < lvl; l++) {
		lpae_pte_t *ptep = &table[LPAE_LVL_IDX(d, iova, l)];

		table = pte_to_table(d, lpae_read_pte(ptep));
	}
	return table;
}

/*
 * Finish a batch of unmap_pages from entry i on, the general way (Linux's
 * loop): stop at a hole, remove tables with their subtrees, then sync the
 * cleared entries and queue one TLB invalidation per entry into a live
 * gather (see unmap_pages in pgtable.h: none without one).  A hole at the
 * first entry is warned about (unless NO_WARN); one later in the batch
 * only ends it: the caller sees the short count and its next call, at
 * the hole, says it once.  Returns the bytes unmapped.
 */
static __noinline size_t
lpae_unmap_finish(struct lpae_pgtable *d, unsigned long iova, size_t size,
		  size_t n, size_t i, struct iopgt_iotlb_gather *gather)
{
	int lvl = d->size_lvl[__builtin_ctzl(size)];
	lpae_pte_t *ptep = lpae_table_of(d, iova, lvl) +
			   LPAE_LVL_IDX(d, iova, lvl);

	for (; i < n; i++) {
		lpae_pte_t pte = ptep[i];

		if (!pte) {
			if (!i && !lpae_no_warn(d))
				iopgt_env_warn(&d->env, "unmap: iova 0x%lx is not mapped",
					       iova);
			break;
		}
		if (pte_is_leaf(d, pte, lvl))
			ptep[i] = 0;
		else
			lpae_remove_table(d, &ptep[i], iova + i * size, lvl);
	}
	if (!d->coherent && i)
		lpae_sync(d, ptep, i * sizeof(*ptep));

	if (gather && !gather->queued && d->tlb && d->tlb->tlb_add_page) {
		for (size_t j = 0; j < i; j++)
			d->tlb->tlb_add_page(gather, iova + j * size, size,
					     d->cookie);
	}
	return i * size;
}

/*
 * Are the four entries from ptep all leaves of type leaf?  Each of leaf's
 * type bits must be set in all four and no other type bit in any, which
 * for a page (both bits) is one AND across them.
 */
static __always_inline bool lpae_four_leaves(const lpae_pte_t *ptep,
					     lpae_pte_t leaf)
{
	lpae_pte_t all = ptep[0] & ptep[1] & ptep[2] & ptep[3];
	lpae_pte_t any = ptep[0] | ptep[1] | ptep[2] | ptep[3];

	return !(((~all & leaf) | (any & ~leaf)) & LPAE_PTE_TYPE_MASK);
}

/*
 * Clear the leaves (type leaf) from ptep, at most n, up to the first entry
 * that is not one: the one place unmap clears leaves.  Four at a time
 * while whole rounds remain, then one at a time (the rest, or from the
 * round that stopped).  Returns the entries cleared.
 */
static __always_inline size_t lpae_clear_leaves(lpae_pte_t *ptep, size_t n,
						lpae_pte_t leaf)
{
	lpae_pte_t *p = ptep;
	size_t i;

	for (size_t rounds = n / 4; rounds && lpae_four_leaves(p, leaf);
	     rounds--, p += 4) {
		p[0] = 0;
		p[1] = 0;
		p[2] = 0;
		p[3] = 0;
	}
	for (i = p - ptep; i < n && (ptep[i] & LPAE_PTE_TYPE_MASK) == leaf; i++)
		ptep[i] = 0;
	return i;
}

/*
 * Unmap n entries from ptep (level with leaf type leaf): clear the leaves
 * in one pass and leave anything else (a hole, a table to free, a sync, a
 * gather) to lpae_unmap_finish(), which carries on where the clearing
 * stopped.  Returns the bytes unmapped.
 */
static __always_inline size_t
lpae_unmap_leaves(struct lpae_pgtable *d, lpae_pte_t *ptep, unsigned long iova,
		  size_t pgsize, size_t n, lpae_pte_t leaf,
		  struct iopgt_iotlb_gather *gather)
{
	size_t i = lpae_clear_leaves(ptep, n, leaf);

	if (unlikely(i < n || !d->coherent || gather))
		return lpae_unmap_finish(d, iova, pgsize, n, i, gather);
	return n * pgsize;
}

/*
 * A batch of more than one entry, pages with their type a constant (the
 * rounds' check is then one AND).  Not inlined, and reached by a tail
 * call: the registers a round takes would cost a single-page unmap.
 */
static __noinline size_t
lpae_unmap_batch(struct lpae_pgtable *d, lpae_pte_t *ptep, unsigned long iova,
		 size_t pgsize, size_t n, lpae_pte_t leaf,
		 struct iopgt_iotlb_gather *gather)
{
	if (leaf == LPAE_PTE_TYPE_PAGE)
		return lpae_unmap_leaves(d, ptep, iova, pgsize, n,
					 LPAE_PTE_TYPE_PAGE, gather);
	return lpae_unmap_leaves(d, ptep, iova, pgsize, n, leaf, gather);
}

/*
 * Unmap the batch whose first entry is *ptep (level target, tables above
 * it present).  Returns the bytes unmapped.
 */
static __always_inline size_t
lpae_unmap_at(struct lpae_pgtable *d, lpae_pte_t *ptep, unsigned long iova,
	      size_t pgsize, unsigned int lg, int target, size_t pgcount,
	      struct iopgt_iotlb_gather *gather)
{
	size_t n = lpae_batch(d, iova, lg, target, pgcount);
	lpae_pte_t leaf = d->leaf_type[target];

	if (n > 1)
		return lpae_unmap_batch(d, ptep, iova, pgsize, n, leaf, gather);
	return lpae_unmap_leaves(d, ptep, iova, pgsize, n, leaf, gather);
}

/*
 * The general unmap walk (Linux's): the check, a stop at a hole or at a
 * block above the requested level, then the batch.
 */
static __noinline size_t
lpae_unmap_general(struct lpae_pgtable *d, unsigned long iova, size_t pgsize,
		   size_t pgcount, struct iopgt_iotlb_gather *gather)
{
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int lvl, target = d->size_lvl[lg];
	lpae_pte_t *table = d->pgd;

	if (!lpae_unmap_valid(d, iova, pgsize, pgcount, target))
		return lpae_unmap_bad_args(d, iova, pgsize, pgcount);

	for (lvl = d->start_level; lvl < target; lvl++) {
		lpae_pte_t *ptep = &table[LPAE_LVL_IDX(d, iova, lvl)];
		lpae_pte_t pte = lpae_read_pte(ptep);

		/* a hole, or a block bigger than the request */
		if (~pte & LPAE_PTE_TYPE_TABLE)
			return lpae_unmap_stuck(d, pte, iova);
		table = pte_to_table(d, pte);
	}
	return lpae_unmap_at(d, &table[LPAE_LVL_IDX(d, iova, target)], iova,
			     pgsize, lg, target, pgcount, gather);
}

/* unmap_pages: the check and the walk without calls, then the batch. */
static __always_inline size_t
__lpae_unmap_pages(struct iopgt_ops *ops, unsigned long iova, size_t pgsize,
		   size_t pgcount, struct iopgt_iotlb_gather *gather,
		   const int bpl, const int sl)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int target = d->size_lvl[lg];
	lpae_pte_t *ptep;

	if (unlikely(!lpae_unmap_valid(d, iova, pgsize, pgcount, target)))
		goto general;
	if (unlikely(!lpae_fast_walk(d, iova, target, bpl, sl,
				     LPAE_PTE_TYPE_TABLE, &ptep)))
		goto general;
	ptep += (iova >> lg) & d->lvl_mask[target];
	return lpae_unmap_at(d, ptep, iova, pgsize, lg, target, pgcount,
			     gather);

general:
	return lpae_unmap_general(d, iova, pgsize, pgcount, gather);
}

/* ---- lookups ------------------------------------------------------------- */

/*
 * A leaf's output address plus iova's offset into it, or 0 if not a leaf
 * (pte_to_paddr with the granule known: only 64K can fold PA[51:48]).
 */
static __always_inline uint64_t
lpae_leaf_to_phys(const struct lpae_pgtable *d, lpae_pte_t pte,
		  unsigned long iova, int lvl, int bpl)
{
	uint64_t pa;

	if ((pte & LPAE_PTE_TYPE_MASK) != d->leaf_type[lvl])
		return 0;
	pa = pte & d->addr_mask;
	if (unlikely(lpae_oa_hi(d, bpl)))
		pa = (pa | pa << 36) & GENMASK_ULL(51, 16);
	return pa | (iova & ((1UL << LPAE_LVL_SHIFT(lvl, bpl)) - 1));
}

/*
 * iova_to_phys.  No range check, as Linux: bits above ias are simply not
 * indexed.  The walk is unrolled from the start level and each level ends
 * in its own leaf check.
 */
static __always_inline uint64_t
__lpae_iova_to_phys(struct iopgt_ops *ops, unsigned long iova, const int bpl,
		    const int sl)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	const lpae_pte_t *table = d->pgd;
	lpae_pte_t pte;

	/* 4 levels (4K, 48 bits) is the common geometry: test it first */
	switch (sl >= 0 ? sl : __builtin_expect(d->start_level, 0)) {
	case 0:
		pte = lpae_lookup(d, table, iova, 0, bpl);
		if (!pte_type_is_3(pte))
			return lpae_leaf_to_phys(d, pte, iova, 0, bpl);
		table = pte_to_table(d, pte);
		/* fallthrough */
	case 1:
		pte = lpae_lookup(d, table, iova, 1, bpl);
		if (!pte_type_is_3(pte))
			return lpae_leaf_to_phys(d, pte, iova, 1, bpl);
		table = pte_to_table(d, pte);
		/* fallthrough */
	case 2:
		pte = lpae_lookup(d, table, iova, 2, bpl);
		if (!pte_type_is_3(pte))
			return lpae_leaf_to_phys(d, pte, iova, 2, bpl);
		table = pte_to_table(d, pte);
		/* fallthrough */
	default:
		pte = lpae_lookup(d, table, iova, 3, bpl);
		return lpae_leaf_to_phys(d, pte, iova, 3, bpl);
	}
}

/*
 * Dirty tracking walks like Linux's generic walker: addr starts at iova
 * and advances by each leaf's size, so the visited leaves, the recorded
 * ranges and the -EINVAL at a hole come out the same.
 */
struct lpae_dirty_walk {
	unsigned long addr;
	unsigned long end;
	unsigned long flags;
	struct iopgt_dirty_bitmap *dirty;
};

static int lpae_dirty_table(struct lpae_pgtable *d, struct lpae_dirty_walk *w,
			    lpae_pte_t *table, int lvl);

static int lpae_dirty_visit(struct lpae_pgtable *d, struct lpae_dirty_walk *w,
			    lpae_pte_t *ptep, int lvl)
{
	lpae_pte_t pte = lpae_read_pte(ptep);
	size_t size = LPAE_BLOCK_SIZE(d, lvl);

	if (pte_is_leaf(d, pte, lvl)) {
		if ((pte & LPAE_PTE_AP_WR_CLEAN_MASK) == LPAE_PTE_DBM) {
			struct iopgt_dirty_bitmap *dirty = w->dirty;

			if (dirty->record)
				dirty->record(dirty, w->addr, size);
			if (dirty->gather) {
				struct iopgt_iotlb_gather *g = dirty->gather;

				if (g->start > w->addr)
					g->start = w->addr;
				if (g->end < w->addr + size - 1)
					g->end = w->addr + size - 1;
			}
			/* writeable-clean: a write clears AP[2] again */
			if (!(w->flags & IOMMU_DIRTY_NO_CLEAR))
				__atomic_fetch_or(ptep, LPAE_PTE_AP_RDONLY,
						  __ATOMIC_RELAXED);
		}
		w->addr += size;
		return 0;
	}
	if (!pte_is_table(pte, lvl))
		return -EINVAL;
	return lpae_dirty_table(d, w, pte_to_table(d, pte), lvl + 1);
}

static int lpae_dirty_table(struct lpae_pgtable *d, struct lpae_dirty_walk *w,
			    lpae_pte_t *table, int lvl)
{
	size_t max = lpae_table_entries(d, lvl);

	for (size_t idx = LPAE_LVL_IDX(d, w->addr, lvl);
	     idx < max && w->addr < w->end; idx++) {
		int ret = lpae_dirty_visit(d, w, table + idx, lvl);

		if (ret)
			return ret;
	}
	return 0;
}

static int lpae_read_and_clear_dirty(struct iopgt_ops *ops, unsigned long iova,
				     size_t size, unsigned long flags,
				     struct iopgt_dirty_bitmap *dirty)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	struct lpae_dirty_walk w = {
		.addr = iova,
		.end = iova + size,
		.flags = flags,
		.dirty = dirty,
	};

	if (IOPGT_WARN_ON(&d->env, !size))
		return -EINVAL;
	/* As Linux: a sign-extended TTBR1 iova fails this check too. */
	if (IOPGT_WARN_ON(&d->env, (iova + size - 1) & ~(BIT(d->ias) - 1)))
		return -EINVAL;
	if (!dirty)
		return -EINVAL;
	return lpae_dirty_table(d, &w, d->pgd, d->start_level);
}

/* ---- dump walk and registers --------------------------------------------- */

static int lpae_walk_table(struct lpae_pgtable *d,
			   const struct iopgt_walk_ops *visit, void *data,
			   lpae_pte_t *table, int lvl, unsigned long base)
{
	size_t n = lpae_table_entries(d, lvl);
	uint64_t pa = iopgt_virt_to_phys(&d->env, table);
	int ret;

	if (visit->table) {
		ret = visit->table(data, pa, table, n * sizeof(*table), lvl);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < n; i++) {
		lpae_pte_t pte = lpae_read_pte(&table[i]);
		struct iopgt_walk_entry e = {
			.level = lvl,
			.index = (unsigned int)i,
			.iova = base + (i << d->lvl_shift[lvl]),
			.size = LPAE_BLOCK_SIZE(d, lvl),
			.raw = pte,
			.oa = pte_to_paddr(d, pte),
		};

		if (pte_is_table(pte, lvl)) {
			e.kind = IOPGT_ENTRY_TABLE;
		} else if (pte_is_leaf(d, pte, lvl)) {
			e.kind = IOPGT_ENTRY_LEAF;
			e.prot = lpae_pte_to_prot(d, pte);
		} else {
			continue;	/* empty */
		}
		if (visit->entry) {
			ret = visit->entry(data, &e);
			if (ret)
				return ret;
		}
		if (e.kind == IOPGT_ENTRY_TABLE) {
			ret = lpae_walk_table(d, visit, data,
					      pte_to_table(d, pte), lvl + 1,
					      e.iova);
			if (ret)
				return ret;
		}
	}
	return visit->table_end ? visit->table_end(data, pa, lvl) : 0;
}

static int lpae_walk(struct iopgt_ops *ops, const struct iopgt_walk_ops *visit,
		     void *data)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	/* a TTBR1 table translates the top of the address space */
	unsigned long base = d->iaext_xor ? ~0UL << d->ias : 0;

	if (!visit)
		return -EINVAL;
	return lpae_walk_table(d, visit, data, d->pgd, d->start_level, base);
}

static void lpae_describe_regs(struct iopgt_ops *ops, iopgt_reg_fn fn,
			       void *data)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	const struct iopgt_cfg *cfg = &d->iop.cfg;

	switch (d->stage) {
	case LPAE_STAGE1:
		fn(data, "ttbr", cfg->arm_lpae_s1_cfg.ttbr);
		fn(data, "tcr.ips", cfg->arm_lpae_s1_cfg.tcr.ips);
		fn(data, "tcr.tg", cfg->arm_lpae_s1_cfg.tcr.tg);
		fn(data, "tcr.sh", cfg->arm_lpae_s1_cfg.tcr.sh);
		fn(data, "tcr.orgn", cfg->arm_lpae_s1_cfg.tcr.orgn);
		fn(data, "tcr.irgn", cfg->arm_lpae_s1_cfg.tcr.irgn);
		fn(data, "tcr.tsz", cfg->arm_lpae_s1_cfg.tcr.tsz);
		fn(data, "mair", cfg->arm_lpae_s1_cfg.mair);
		break;
	case LPAE_STAGE2:
		fn(data, "vttbr", cfg->arm_lpae_s2_cfg.vttbr);
		fn(data, "vtcr.ps", cfg->arm_lpae_s2_cfg.vtcr.ps);
		fn(data, "vtcr.tg", cfg->arm_lpae_s2_cfg.vtcr.tg);
		fn(data, "vtcr.sh", cfg->arm_lpae_s2_cfg.vtcr.sh);
		fn(data, "vtcr.orgn", cfg->arm_lpae_s2_cfg.vtcr.orgn);
		fn(data, "vtcr.irgn", cfg->arm_lpae_s2_cfg.vtcr.irgn);
		fn(data, "vtcr.sl", cfg->arm_lpae_s2_cfg.vtcr.sl);
		fn(data, "vtcr.tsz", cfg->arm_lpae_s2_cfg.vtcr.tsz);
		break;
	case LPAE_MALI:
		fn(data, "transtab", cfg->arm_mali_lpae_cfg.transtab);
		fn(data, "memattr", cfg->arm_mali_lpae_cfg.memattr);
		break;
	}
}

/*
 * One ops table per granule: the hot ops instantiated with bits_per_level
 * as a constant (9, 11, 13), the rest shared.
 */
#define LPAE_GRANULE_OPS(sfx, bpl, sl)                                          \
	static __noinline int                                                  \
	lpae_map_batch_##sfx(struct lpae_pgtable *d, unsigned long iova,       \
			     uint64_t paddr, size_t pgsize, size_t pgcount,    \
			     int prot, size_t *mapped)                         \
	{                                                                      \
		return __lpae_map_batch(d, iova, paddr, pgsize, pgcount, prot, \
					mapped, bpl, sl);                      \
	}                                                                      \
	static int lpae_map_pages_##sfx(struct iopgt_ops *ops,                 \
					unsigned long iova, uint64_t paddr,    \
					size_t pgsize, size_t pgcount,         \
					int prot, size_t *mapped)              \
	{                                                                      \
		return __lpae_map_pages(ops, iova, paddr, pgsize, pgcount,     \
					prot, mapped, bpl, sl,                 \
					lpae_map_batch_##sfx);                 \
	}                                                                      \
	static size_t lpae_unmap_pages_##sfx(struct iopgt_ops *ops,            \
					     unsigned long iova,               \
					     size_t pgsize, size_t pgcount,    \
					     struct iopgt_iotlb_gather *g)     \
	{                                                                      \
		return __lpae_unmap_pages(ops, iova, pgsize, pgcount, g, bpl,  \
					  sl);                                 \
	}                                                                      \
	static uint64_t lpae_iova_to_phys_##sfx(struct iopgt_ops *ops,         \
						unsigned long iova)            \
	{                                                                      \
		return __lpae_iova_to_phys(ops, iova, bpl, sl);                \
	}                                                                      \
	static const struct iopgt_ops lpae_ops_##sfx = {                       \
		.map_pages = lpae_map_pages_##sfx,                             \
		.unmap_pages = lpae_unmap_pages_##sfx,                         \
		.iova_to_phys = lpae_iova_to_phys_##sfx,                       \
		.read_and_clear_dirty = lpae_read_and_clear_dirty,             \
		.walk = lpae_walk,                                             \
		.describe_regs = lpae_describe_regs,                           \
	}

LPAE_GRANULE_OPS(4k, 9, -1);
LPAE_GRANULE_OPS(16k, 11, -1);
LPAE_GRANULE_OPS(64k, 13, -1);
/* 4K tables starting at level 0 (ias 40..48): the common geometry */
LPAE_GRANULE_OPS(4k_l0, 9, 0);

/* ---- reclaim of empty tables (IOPGT_QUIRK_RECLAIM_TABLES) ---------------- */

/*
 * An iopgt extension; a table with the quirk gets the ops below, so the
 * ops above never pay for it.
 *
 * Every table under the pgd has a count in the ignored bits of the
 * descriptor that points to it (LPAE_PTE_RC_*): its valid entries plus the
 * operations inside it.  An operation pins each table on its way down by
 * a compare-and-swap on that descriptor before reading the table, and
 * unpins on its way back.  The compare-and-swap that takes a count to zero
 * writes an empty descriptor instead: "empty, and nobody inside" and
 * "unhooked" are one atomic step, so a map on a disjoint range of the same
 * table either pinned it first (and the table stays) or finds the slot
 * empty and installs a new one.  Nothing is read without a pin, so nothing
 * is read after it was freed.  A hooked table always has a count of at
 * least one.
 */

/* A walk's pins: the descriptor at each level [start, end). */
struct lpae_rc_walk {
	lpae_pte_t *ptep[LPAE_MAX_LEVELS];
	int start;
	int end;
};

/* One in the count's low bits. */
#define LPAE_RC_ONE	FIELD_PREP(LPAE_PTE_RC_0, 1)

static inline unsigned int lpae_rc_count(lpae_pte_t pte)
{
	return FIELD_GET(LPAE_PTE_RC_0, pte) |
	       FIELD_GET(LPAE_PTE_RC_1, pte) << 10 |
	       FIELD_GET(LPAE_PTE_RC_2, pte) << 13;
}

static inline lpae_pte_t lpae_rc_with(lpae_pte_t pte, unsigned int n)
{
	return (pte & ~LPAE_PTE_RC_MASK) | FIELD_PREP(LPAE_PTE_RC_0, n) |
	       FIELD_PREP(LPAE_PTE_RC_1, n >> 10) |
	       FIELD_PREP(LPAE_PTE_RC_2, n >> 13);
}

/*
 * The table descriptor pte with delta added to its count, or 0 when the
 * count reaches zero.  Returns false if it would leave [0, LPAE_RC_MAX].
 */
static inline bool lpae_rc_step(lpae_pte_t pte, int delta, lpae_pte_t *new)
{
	unsigned int low = FIELD_GET(LPAE_PTE_RC_0, pte);
	long n;

	/* pins and unpins: the low bits alone, without a carry */
	if (delta == 1 && low != FIELD_GET(LPAE_PTE_RC_0, LPAE_PTE_RC_0)) {
		*new = pte + LPAE_RC_ONE;
		return true;
	}
	if (delta == -1 && low > 1) {
		*new = pte - LPAE_RC_ONE;
		return true;
	}
	n = (long)lpae_rc_count(pte) + delta;
	if (n < 0 || n > LPAE_RC_MAX)
		return false;
	*new = n ? lpae_rc_with(pte, (unsigned int)n) : 0;
	return true;
}

/*
 * Add delta to the count of the table behind *ptep.  At zero the
 * descriptor is cleared in the same step and synced; the table is
 * returned for the caller to flush and free, else NULL.
 */
static lpae_pte_t *lpae_rc_adjust(struct lpae_pgtable *d, lpae_pte_t *ptep,
				  int delta)
{
	lpae_pte_t pte = lpae_read_pte(ptep), new;

	do {
		if (IOPGT_WARN_ON(&d->env, !lpae_rc_step(pte, delta, &new)))
			return NULL;
	} while (!__atomic_compare_exchange_n(ptep, &pte, new, false,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	if (new)
		return NULL;
	if (!d->coherent)
		lpae_sync(d, ptep, sizeof(*ptep));
	return pte_to_table(d, pte);
}

/*
 * Pin the table behind *ptep (level lvl); with install, an empty slot gets
 * a new table, pinned, and the table holding the slot one more entry.
 * Returns 0 and *table, or -ENOENT (an empty slot, without install) or
 * -EEXIST (a leaf) with the entry in *seen, or -ENOMEM, or -EBUSY.
 */
static int lpae_rc_pin(struct lpae_pgtable *d, struct lpae_rc_walk *w,
		       lpae_pte_t *ptep, int lvl, bool install,
		       lpae_pte_t **table, lpae_pte_t *seen)
{
	lpae_pte_t pte = lpae_read_pte(ptep), *fresh = NULL, new = 0;
	int ret;

	for (;;) {
		if (pte_is_table(pte, lvl)) {
			if (IOPGT_WARN_ON(&d->env,
					  !lpae_rc_step(pte, 1, &new))) {
				ret = -EBUSY;
				break;
			}
			if (!__atomic_compare_exchange_n(ptep, &pte, new, false,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE))
				continue;
			/* its installer may not have synced it yet */
			if (!d->coherent && !(pte & LPAE_PTE_SW_SYNC))
				lpae_sync(d, ptep, sizeof(*ptep));
			*table = pte_to_table(d, pte);
			ret = 0;
			break;
		}
		if (pte || !install) {
			*seen = pte;
			ret = pte ? -EEXIST : -ENOENT;
			break;
		}
		if (!fresh) {
			fresh = lpae_alloc_table(d, LPAE_GRANULE(d));
			if (!fresh)
				return -ENOMEM;
			new = paddr_to_pte(iopgt_virt_to_phys(&d->env, fresh)) |
			      d->table_attr | LPAE_RC_ONE;
		}
		/* release: the zeroed table is visible before the pointer */
		if (!__atomic_compare_exchange_n(ptep, &pte, new, false,
						 __ATOMIC_RELEASE,
						 __ATOMIC_ACQUIRE))
			continue;
		if (!d->coherent) {
			lpae_sync(d, ptep, sizeof(*ptep));
			/* an OR: other walks may be counting meanwhile */
			__atomic_fetch_or(ptep, LPAE_PTE_SW_SYNC,
					  __ATOMIC_RELAXED);
		}
		/* the table holding the slot (pinned by us) has one more */
		if (lvl > w->start)
			lpae_rc_adjust(d, w->ptep[lvl - 1], 1);
		*table = fresh;
		return 0;
	}
	if (fresh)
		lpae_free_table(d, fresh, LPAE_GRANULE(d));
	return ret;
}

/*
 * Enter iova's tables from the pgd down to the one holding its entry at
 * level target, pinning each (v7s_rc_enter's part for LPAE).  On failure,
 * the level that failed is w->end and the pins taken stay for
 * lpae_rc_leave().
 */
static int lpae_rc_enter(struct lpae_pgtable *d, struct lpae_rc_walk *w,
			 unsigned long iova, int target, bool install,
			 lpae_pte_t **out, lpae_pte_t *seen)
{
	lpae_pte_t *table = d->pgd;

	w->start = w->end = d->start_level;
	for (int lvl = d->start_level; lvl < target; lvl++) {
		lpae_pte_t *ptep = &table[LPAE_LVL_IDX(d, iova, lvl)];
		int ret = lpae_rc_pin(d, w, ptep, lvl, install, &table, seen);

		if (ret)
			return ret;
		w->ptep[lvl] = ptep;
		w->end = lvl + 1;
	}
	*out = table;
	return 0;
}

/*
 * Leave: drop a walk's pins from the bottom up.  delta goes to the lowest
 * table (-1 for the pin, plus the entries the operation added or removed
 * there); every table a count takes to zero goes, and its parent loses the
 * entry as well as the pin.  The tables that went are unhooked from the
 * bottom up, so they form one subtree: one tlb_flush_walk over the span of
 * the top one (as Linux flushes a subtree it removes), then they are freed.
 */
static void lpae_rc_leave(struct lpae_pgtable *d, struct lpae_rc_walk *w,
			  unsigned long iova, int delta)
{
	lpae_pte_t *gone[LPAE_MAX_LEVELS];
	int n = 0, top = 0;

	for (int lvl = w->end - 1; lvl >= w->start; lvl--) {
		lpae_pte_t *table = lpae_rc_adjust(d, w->ptep[lvl], delta);

		delta = -1;
		if (table) {
			gone[n++] = table;
			top = lvl;
			delta = -2;
		}
	}
	if (!n)
		return;
	lpae_tlb_flush_walk(d, iova & ~d->lvl_offset[top],
			    LPAE_BLOCK_SIZE(d, top));
	while (n--)
		lpae_free_table(d, gone[n], LPAE_GRANULE(d));
}

/*
 * The reclaim ops wrap the checked paths of the others, as v7s's do: the
 * same argument check, then enter (pin the tables on the way, installing
 * missing ones for a map), the same batch code on the pinned table
 * (lpae_map_at, lpae_unmap_at), and leave with the entries added or
 * removed.  A table in a slot gives way to a block, one entry for one.
 */
static int lpae_rc_map_pages(struct iopgt_ops *ops, unsigned long iova,
			     uint64_t paddr, size_t pgsize, size_t pgcount,
			     int prot, size_t *mapped)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int target = d->size_lvl[lg], ret;
	lpae_pte_t *table, *ptep, seen = 0, attr, any = 0;
	struct lpae_rc_walk w;
	size_t n, i, used = 0;

	n = lpae_map_valid(d, iova, paddr, pgsize, pgcount, prot, lg, target);
	if (unlikely(!n))
		return lpae_map_refuse(d, iova, paddr, pgsize, pgcount, prot);

	ret = lpae_rc_enter(d, &w, iova, target, true, &table, &seen);
	if (ret) {
		if (ret == -EEXIST && !lpae_no_warn(d))
			iopgt_env_warn(&d->env,
				       "map: iova 0x%lx is inside a block (level %d pte 0x%016llx)",
				       iova, w.end, (unsigned long long)seen);
		lpae_rc_leave(d, &w, iova, -1);
		return ret;
	}
	ptep = table + LPAE_LVL_IDX(d, iova, target);
	attr = d->prot_pte[prot & 63] | d->leaf_type[target];
	for (i = 0; i < n; i++)
		any |= ptep[i];
	if (likely(!any)) {
		ret = lpae_map_at(d, ptep, target, iova, paddr, pgsize, n, attr,
				  true, mapped);
	} else {
		/* a table in a slot gives way to a block: not a new entry */
		for (i = 0; i < n; i++)
			used += !!ptep[i];
		ret = lpae_map_at(d, ptep, target, iova, paddr, pgsize, n, attr,
				  false, mapped);
	}
	lpae_rc_leave(d, &w, iova, ret ? -1 : (int)(n - used) - 1);
	return ret;
}

static size_t lpae_rc_unmap_pages(struct iopgt_ops *ops, unsigned long iova,
				  size_t pgsize, size_t pgcount,
				  struct iopgt_iotlb_gather *gather)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	unsigned int lg = __builtin_ctzl(pgsize | BIT(63));
	int target = d->size_lvl[lg], ret;
	lpae_pte_t *table, seen = 0;
	struct lpae_rc_walk w;
	size_t bytes;

	if (!lpae_unmap_valid(d, iova, pgsize, pgcount, target))
		return lpae_unmap_bad_args(d, iova, pgsize, pgcount);

	ret = lpae_rc_enter(d, &w, iova, target, false, &table, &seen);
	if (ret) {
		lpae_rc_leave(d, &w, iova, -1);
		return ret == -EBUSY ? 0 : lpae_unmap_stuck(d, seen, iova);
	}
	bytes = lpae_unmap_at(d, table + LPAE_LVL_IDX(d, iova, target), iova,
			      pgsize, lg, target, pgcount, gather);
	lpae_rc_leave(d, &w, iova, -1 - (int)(bytes >> lg));
	return bytes;
}

/* Pinned as well: a table may not go while it is read. */
static uint64_t lpae_rc_iova_to_phys(struct iopgt_ops *ops, unsigned long iova)
{
	struct lpae_pgtable *d = ops_to_data(ops);
	const int last = LPAE_MAX_LEVELS - 1;
	struct lpae_rc_walk w;
	lpae_pte_t *table, pte = 0;
	uint64_t pa;

	if (!lpae_rc_enter(d, &w, iova, last, false, &table, &pte))
		pte = lpae_read_pte(&table[LPAE_LVL_IDX(d, iova, last)]);
	pa = lpae_leaf_to_phys(d, pte, iova, w.end, d->bits_per_level);
	lpae_rc_leave(d, &w, iova, -1);
	return pa;
}

static const struct iopgt_ops lpae_ops_reclaim = {
	.map_pages = lpae_rc_map_pages,
	.unmap_pages = lpae_rc_unmap_pages,
	.iova_to_phys = lpae_rc_iova_to_phys,
	.read_and_clear_dirty = lpae_read_and_clear_dirty,
	.walk = lpae_walk,
	.describe_regs = lpae_describe_regs,
};

/* ---- allocation ---------------------------------------------------------- */

/*
 * arm_lpae_restrict_pgsizes: pick the granule (the host page size if
 * offered, else the largest smaller size, else the smallest larger one),
 * keep only the block sizes that granule can express, clamp ias/oas.
 */
static void lpae_restrict_pgsizes(struct iopgt_cfg *cfg)
{
	unsigned long granule, page_sizes;
	unsigned long below = cfg->pgsize_bitmap & (LPAE_HOST_PAGE_SIZE - 1);
	unsigned long above = cfg->pgsize_bitmap & ~(LPAE_HOST_PAGE_SIZE - 1);
	unsigned int max_addr_bits = 48;

	if (cfg->pgsize_bitmap & LPAE_HOST_PAGE_SIZE)
		granule = LPAE_HOST_PAGE_SIZE;
	else if (below)
		granule = 1UL << (63 - __builtin_clzl(below));
	else if (above)
		granule = 1UL << __builtin_ctzl(above);
	else
		granule = 0;

	switch (granule) {
	case SZ_4K:
		page_sizes = SZ_4K | SZ_2M | SZ_1G;
		break;
	case SZ_16K:
		page_sizes = SZ_16K | SZ_32M;
		break;
	case SZ_64K:
		max_addr_bits = 52;
		page_sizes = SZ_64K | SZ_512M;
		if (cfg->oas > 48)
			page_sizes |= 1UL << 42;	/* 4T level-1 blocks */
		break;
	default:
		page_sizes = 0;
	}

	cfg->pgsize_bitmap &= page_sizes;
	if (cfg->ias > max_addr_bits)
		cfg->ias = max_addr_bits;
	if (cfg->oas > max_addr_bits)
		cfg->oas = max_addr_bits;
}

/* TCR.IPS / VTCR.PS: only the architected sizes exist. */
static int lpae_ps_bits(const struct lpae_pgtable *d, unsigned int oas)
{
	switch (oas) {
	case 32:
		return LPAE_TCR_PS_32_BIT;
	case 36:
		return LPAE_TCR_PS_36_BIT;
	case 40:
		return LPAE_TCR_PS_40_BIT;
	case 42:
		return LPAE_TCR_PS_42_BIT;
	case 44:
		return LPAE_TCR_PS_44_BIT;
	case 48:
		return LPAE_TCR_PS_48_BIT;
	case 52:
		return LPAE_TCR_PS_52_BIT;
	default:
		iopgt_env_warn(&d->env, "alloc: oas %u has no IPS/PS encoding (32, 36, 40, 42, 44, 48 or 52)",
			       oas);
		return -EINVAL;
	}
}

/*
 * arm_lpae_concat_mandatory: Arm DDI0487 K.a R_DXBSH/R_SRKBC make a
 * stage-2 start at a lower level with concatenated tables mandatory in
 * exactly these cases.
 */
static bool lpae_concat_mandatory(const struct lpae_pgtable *d,
				  const struct iopgt_cfg *cfg)
{
	unsigned long granule = LPAE_GRANULE(d);

	if (granule == SZ_16K && d->start_level == 0)
		return cfg->oas == 48 || cfg->ias == 48;
	if (granule == SZ_4K && d->start_level == 0)
		return cfg->oas == 40 || cfg->oas == 42;
	if (granule == SZ_16K && d->start_level == 1)
		return cfg->oas == 40;
	return false;
}

static int lpae_setup_s1(struct lpae_pgtable *d, struct iopgt_cfg *cfg)
{
	typeof(&cfg->arm_lpae_s1_cfg.tcr) tcr = &cfg->arm_lpae_s1_cfg.tcr;
	bool ttbr1 = cfg->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1;
	int ips;

	if (cfg->coherent_walk) {
		/* outer WBWA is the non-coherent walker's option only */
		if (cfg->quirks & IO_PGTABLE_QUIRK_ARM_OUTER_WBWA) {
			iopgt_env_warn(&d->env, "alloc: ARM_OUTER_WBWA is for a non-coherent walker only");
			return -EINVAL;
		}
		tcr->sh = LPAE_TCR_SH_IS;
		tcr->irgn = LPAE_TCR_RGN_WBWA;
		tcr->orgn = LPAE_TCR_RGN_WBWA;
	} else {
		tcr->sh = LPAE_TCR_SH_OS;
		tcr->irgn = LPAE_TCR_RGN_NC;
		tcr->orgn = cfg->quirks & IO_PGTABLE_QUIRK_ARM_OUTER_WBWA ?
				    LPAE_TCR_RGN_WBWA : LPAE_TCR_RGN_NC;
	}

	switch (LPAE_GRANULE(d)) {
	case SZ_4K:
		tcr->tg = ttbr1 ? LPAE_TCR_TG1_4K : LPAE_TCR_TG0_4K;
		break;
	case SZ_16K:
		tcr->tg = ttbr1 ? LPAE_TCR_TG1_16K : LPAE_TCR_TG0_16K;
		break;
	case SZ_64K:
		tcr->tg = ttbr1 ? LPAE_TCR_TG1_64K : LPAE_TCR_TG0_64K;
		break;
	}

	ips = lpae_ps_bits(d, cfg->oas);
	if (ips < 0)
		return ips;
	tcr->ips = ips;
	tcr->tsz = 64 - cfg->ias;

	cfg->arm_lpae_s1_cfg.mair =
		(LPAE_MAIR_ATTR_NC <<
		 LPAE_MAIR_ATTR_SHIFT(LPAE_MAIR_ATTR_IDX_NC)) |
		(LPAE_MAIR_ATTR_WBRWA <<
		 LPAE_MAIR_ATTR_SHIFT(LPAE_MAIR_ATTR_IDX_CACHE)) |
		(LPAE_MAIR_ATTR_DEVICE <<
		 LPAE_MAIR_ATTR_SHIFT(LPAE_MAIR_ATTR_IDX_DEV)) |
		(LPAE_MAIR_ATTR_INC_OWBRWA <<
		 LPAE_MAIR_ATTR_SHIFT(LPAE_MAIR_ATTR_IDX_INC_OCACHE));
	return 0;
}

static int lpae_setup_s2(struct lpae_pgtable *d, struct iopgt_cfg *cfg)
{
	typeof(&cfg->arm_lpae_s2_cfg.vtcr) vtcr = &cfg->arm_lpae_s2_cfg.vtcr;
	unsigned int sl;
	int ps;

	if (lpae_concat_mandatory(d, cfg)) {
		if ((1UL << d->pgd_bits) > LPAE_S2_MAX_CONCAT_PAGES) {
			iopgt_env_warn(&d->env, "alloc: stage 2: %lu concatenated tables needed, at most %d allowed",
				       1UL << d->pgd_bits,
				       LPAE_S2_MAX_CONCAT_PAGES);
			return -EINVAL;
		}
		d->pgd_bits += d->bits_per_level;
		d->start_level++;
	}

	if (cfg->coherent_walk) {
		vtcr->sh = LPAE_TCR_SH_IS;
		vtcr->irgn = LPAE_TCR_RGN_WBWA;
		vtcr->orgn = LPAE_TCR_RGN_WBWA;
	} else {
		vtcr->sh = LPAE_TCR_SH_OS;
		vtcr->irgn = LPAE_TCR_RGN_NC;
		vtcr->orgn = LPAE_TCR_RGN_NC;
	}

	sl = d->start_level;
	switch (LPAE_GRANULE(d)) {
	case SZ_4K:
		vtcr->tg = LPAE_TCR_TG0_4K;
		sl++;	/* SL0 counts from level -1 with a 4K granule */
		break;
	case SZ_16K:
		vtcr->tg = LPAE_TCR_TG0_16K;
		break;
	case SZ_64K:
		vtcr->tg = LPAE_TCR_TG0_64K;
		break;
	}

	ps = lpae_ps_bits(d, cfg->oas);
	if (ps < 0)
		return ps;
	vtcr->ps = ps;
	vtcr->tsz = 64 - cfg->ias;
	vtcr->sl = ~sl & LPAE_VTCR_SL0_MASK;
	return 0;
}

static void lpae_setup_mali(struct lpae_pgtable *d, struct iopgt_cfg *cfg)
{
	/* Mali walks all four levels whatever the ias */
	if (d->start_level > 0) {
		d->start_level = 0;
		d->pgd_bits = 0;
	}
	cfg->arm_mali_lpae_cfg.memattr =
		(MALI_LPAE_MEMATTR_IMP_DEF <<
		 LPAE_MAIR_ATTR_SHIFT(LPAE_MAIR_ATTR_IDX_NC)) |
		(MALI_LPAE_MEMATTR_WRITE_ALLOC <<
		 LPAE_MAIR_ATTR_SHIFT(LPAE_MAIR_ATTR_IDX_CACHE)) |
		(MALI_LPAE_MEMATTR_IMP_DEF <<
		 LPAE_MAIR_ATTR_SHIFT(LPAE_MAIR_ATTR_IDX_DEV));
}


static int lpae_alloc(enum lpae_fmt_id id, struct iopgt_cfg *cfg, void *cookie,
		      const struct iopgt_env *env, struct iopgt_pgtable **out)
{
	const struct lpae_fmt_info *fi = &lpae_fmt_info[id];
	struct lpae_pgtable *d;
	unsigned int pg_shift, va_bits, levels;
	uint64_t pgd_pa;
	int ret;

	/*
	 * Linux's order: the 32-bit and Mali limits refuse, the 64-bit
	 * formats narrow ias and oas to what the granule can address (cfg is
	 * in/out).  Each refusal says why, as a warning: the host passes it
	 * on as the reason of the failed call.
	 */
	if (cfg->quirks & ~fi->quirks) {
		iopgt_env_warn(env, "alloc: quirks 0x%lx not supported (this format takes 0x%lx)",
			       cfg->quirks & ~fi->quirks, fi->quirks);
		return -EINVAL;
	}
	if (fi->max_ias && (cfg->ias > fi->max_ias || cfg->oas > fi->max_oas)) {
		iopgt_env_warn(env, "alloc: ias %u/oas %u beyond this format's %u/%u",
			       cfg->ias, cfg->oas, fi->max_ias, fi->max_oas);
		return -EINVAL;
	}
	if (fi->small_pages)
		cfg->pgsize_bitmap &= SZ_4K | SZ_2M | SZ_1G;
	lpae_restrict_pgsizes(cfg);
	/* Linux's next test, ias/oas above 52, cannot fail once narrowed */
	if (!(cfg->pgsize_bitmap & (SZ_4K | SZ_16K | SZ_64K))) {
		iopgt_env_warn(env, "alloc: no 4K, 16K or 64K granule left in pgsize_bitmap");
		return -EINVAL;
	}
	pg_shift = __builtin_ctzl(cfg->pgsize_bitmap);
	if (cfg->ias <= pg_shift) {
		iopgt_env_warn(env, "alloc: ias %u leaves nothing to translate above the %u-bit granule",
			       cfg->ias, pg_shift);
		return -EINVAL;
	}

	d = env->svc->zalloc(env->mem, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->env = *env;
	d->pa_to_va = env->pa_to_va;
	d->id = id;
	d->stage = fi->stage;
	d->quirks = cfg->quirks;
	d->coherent = cfg->coherent_walk;
	d->tlb = cfg->tlb;
	d->cookie = cookie;

	d->bits_per_level = pg_shift - 3;
	va_bits = cfg->ias - pg_shift;
	levels = (va_bits + d->bits_per_level - 1) / d->bits_per_level;
	d->start_level = LPAE_MAX_LEVELS - levels;
	/* the pgd's own size, before any concatenation */
	d->pgd_bits = va_bits - d->bits_per_level * (levels - 1);

	switch (d->stage) {
	case LPAE_STAGE1:
		ret = lpae_setup_s1(d, cfg);
		break;
	case LPAE_STAGE2:
		ret = lpae_setup_s2(d, cfg);
		break;
	default:
		lpae_setup_mali(d, cfg);
		ret = 0;
		break;
	}
	if (ret)
		goto out_free_data;

	d->pgsize_bitmap = cfg->pgsize_bitmap;
	d->ias = cfg->ias;
	d->oas = cfg->oas;
	d->iaext_xor = cfg->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1 ? ~0L : 0;
	lpae_init_lookup(d, cfg);

	/* the hardware wants at least 64-byte alignment even for a tiny pgd */
	d->pgd_size = 8UL << d->pgd_bits;
	d->pgd_alloc = d->pgd_size < 64 ? 64 : d->pgd_size;
	d->pgd = lpae_alloc_table(d, d->pgd_alloc);
	if (!d->pgd) {
		ret = -ENOMEM;
		goto out_free_data;
	}
	pgd_pa = iopgt_virt_to_phys(env, d->pgd);

	switch (d->stage) {
	case LPAE_STAGE1:
		cfg->arm_lpae_s1_cfg.ttbr = pgd_pa;
		break;
	case LPAE_STAGE2:
		cfg->arm_lpae_s2_cfg.vttbr = pgd_pa;
		break;
	case LPAE_MALI:
		cfg->arm_mali_lpae_cfg.transtab = pgd_pa |
			MALI_LPAE_TTBR_READ_INNER |
			MALI_LPAE_TTBR_ADRMODE_TABLE;
		if (cfg->coherent_walk)
			cfg->arm_mali_lpae_cfg.transtab |=
				MALI_LPAE_TTBR_SHARE_OUTER;
		break;
	}

	d->iop.cookie = cookie;
	d->iop.cfg = *cfg;
	switch (d->bits_per_level) {
	case 9:
		d->iop.ops = d->start_level == 0 ? lpae_ops_4k_l0 : lpae_ops_4k;
		break;
	case 11:
		d->iop.ops = lpae_ops_16k;
		break;
	default:
		d->iop.ops = lpae_ops_64k;
		break;
	}
	if (cfg->quirks & IOPGT_QUIRK_RECLAIM_TABLES)
		d->iop.ops = lpae_ops_reclaim;
	/* no dirty tracking: no op, and the host says -EOPNOTSUPP */
	if (!fi->dirty)
		d->iop.ops.read_and_clear_dirty = NULL;
	d->iop.root_pa = pgd_pa;
	*out = &d->iop;
	return 0;

out_free_data:
	env->svc->free(env->mem, d);
	return ret;
}

static void lpae_free(struct iopgt_pgtable *iop)
{
	struct lpae_pgtable *d = container_of(iop, struct lpae_pgtable, iop);

	/* every table but the pgd is below it */
	size_t left = d->nr_tables - 1;

	lpae_free_subtree(d, d->pgd, d->start_level, &left);
	d->env.svc->free(d->env.mem, d);
}

/* ---- adopting a saved table (iopgt_pgtable_adopt) ------------------------ */

/* A table entry's target: a granule-aligned table wholly below 2^oas. */
static int lpae_adopt_check_next(struct lpae_pgtable *d, uint64_t pa,
				 size_t i, int lvl, uint64_t next)
{
	if ((next + LPAE_GRANULE(d) - 1) >> d->oas) {
		iopgt_env_warn(&d->env, "adopt: entry %zu of the level-%d table at 0x%llx: table at 0x%llx: entry beyond oas %u",
			       i, lvl, (unsigned long long)pa,
			       (unsigned long long)next, d->oas);
		return -EINVAL;
	}
	if (next & (LPAE_GRANULE(d) - 1)) {
		iopgt_env_warn(&d->env, "adopt: entry %zu of the level-%d table at 0x%llx: table at 0x%llx not aligned to the granule",
			       i, lvl, (unsigned long long)pa,
			       (unsigned long long)next);
		return -EINVAL;
	}
	return 0;
}

/*
 * The reclaim count in a table descriptor is its table's valid entries
 * (save is serialised with map and unmap: nobody was inside); without
 * the quirk those ignored bits are zero.
 */
static int lpae_adopt_check_rc(struct lpae_pgtable *d, lpae_pte_t pte,
			       uint64_t next, unsigned int valid)
{
	unsigned int want = d->quirks & IOPGT_QUIRK_RECLAIM_TABLES ? valid : 0;

	if (lpae_rc_count(pte) == want)
		return 0;
	iopgt_env_warn(&d->env, "adopt: table at 0x%llx: reclaim count %u in its descriptor, %u expected",
		       (unsigned long long)next, lpae_rc_count(pte), want);
	return -EINVAL;
}

/* Take the tables below table (at level lvl) and check every entry. */
static int lpae_adopt_table(struct lpae_pgtable *d,
			    const struct iopgt_image_src *src,
			    lpae_pte_t *table, int lvl, unsigned int *valid)
{
	size_t n = lpae_table_entries(d, lvl);
	uint64_t pa = iopgt_virt_to_phys(&d->env, table);
	int ret;

	*valid = 0;
	for (size_t i = 0; i < n; i++) {
		lpae_pte_t pte = table[i];
		uint64_t next = pte & d->addr_mask;
		unsigned int below;
		lpae_pte_t *child;

		if (pte_is_leaf(d, pte, lvl)) {
			uint64_t last = pte_to_paddr(d, pte) +
					LPAE_BLOCK_SIZE(d, lvl) - 1;

			if (last >> d->oas) {
				iopgt_env_warn(&d->env, "adopt: entry %zu of the level-%d table at 0x%llx: output 0x%llx: entry beyond oas %u",
					       i, lvl, (unsigned long long)pa,
					       (unsigned long long)pte_to_paddr(d, pte),
					       d->oas);
				return -EINVAL;
			}
			++*valid;
			continue;
		}
		if (!pte_is_table(pte, lvl))
			continue;
		ret = lpae_adopt_check_next(d, pa, i, lvl, next);
		if (ret)
			return ret;
		child = src->claim(src, next, LPAE_GRANULE(d), LPAE_GRANULE(d),
				   pa, &ret);
		if (!child)
			return ret;
		d->nr_tables++;
		ret = lpae_adopt_table(d, src, child, lvl + 1, &below);
		if (!ret)
			ret = lpae_adopt_check_rc(d, pte, next, below);
		if (ret)
			return ret;
		++*valid;
	}
	return 0;
}

/* The base register of a table whose pgd is at pa (as lpae_alloc). */
static void lpae_adopt_set_base(struct lpae_pgtable *d, struct iopgt_cfg *cfg,
				uint64_t pa)
{
	switch (d->stage) {
	case LPAE_STAGE1:
		cfg->arm_lpae_s1_cfg.ttbr = pa;
		break;
	case LPAE_STAGE2:
		cfg->arm_lpae_s2_cfg.vttbr = pa;
		break;
	case LPAE_MALI:
		cfg->arm_mali_lpae_cfg.transtab =
			(cfg->arm_mali_lpae_cfg.transtab & ~LPAE_PTE_ADDR_MASK) |
			pa;
		break;
	}
	d->iop.cfg = *cfg;
	d->iop.root_pa = pa;
}

/*
 * Everything but the tables is what alloc derives from the cfg, so alloc
 * runs first and its fresh pgd goes back at once: the saved one, at the
 * saved PA, takes its place.
 */
static int lpae_adopt(enum lpae_fmt_id id, struct iopgt_cfg *cfg,
		      void *cookie, const struct iopgt_env *env,
		      const struct iopgt_image_src *src,
		      struct iopgt_pgtable **out)
{
	size_t block = 4096;
	struct iopgt_pgtable *iop;
	struct lpae_pgtable *d;
	unsigned int valid;
	int ret;

	ret = lpae_alloc(id, cfg, cookie, env, &iop);
	if (ret)
		return ret;
	d = container_of(iop, struct lpae_pgtable, iop);
	lpae_free_table(d, d->pgd, d->pgd_alloc);
	while (block < d->pgd_alloc)
		block <<= 1;
	if ((src->root_pa + d->pgd_alloc - 1) >> d->oas ||
	    src->root_pa & (block - 1)) {
		iopgt_env_warn(env, "adopt: root 0x%llx not aligned to %zu or beyond oas %u",
			       (unsigned long long)src->root_pa, block, d->oas);
		ret = -EINVAL;
		goto out_free_data;
	}
	d->pgd = src->claim(src, src->root_pa, d->pgd_size, d->pgd_alloc,
			    IOPGT_IMAGE_NO_PARENT, &ret);
	if (!d->pgd)
		goto out_free_data;
	d->nr_tables = 1;
	ret = lpae_adopt_table(d, src, d->pgd, d->start_level, &valid);
	if (ret)
		goto out_free_data;
	lpae_adopt_set_base(d, cfg, src->root_pa);
	*out = &d->iop;
	return 0;

out_free_data:
	/* the tables claimed are the host's to take back */
	env->svc->free(env->mem, d);
	return ret;
}

/* ---- registration -------------------------------------------------------- */

#define LPAE_ALLOC_FN(fn, id)                                                 \
	static int fn(struct iopgt_cfg *cfg, void *cookie,                    \
		      const struct iopgt_env *env, struct iopgt_pgtable **out) \
	{                                                                     \
		return lpae_alloc(id, cfg, cookie, env, out);                 \
	}

LPAE_ALLOC_FN(lpae_alloc_64_s1, LPAE_FMT_64_S1)
LPAE_ALLOC_FN(lpae_alloc_64_s2, LPAE_FMT_64_S2)
LPAE_ALLOC_FN(lpae_alloc_32_s1, LPAE_FMT_32_S1)
LPAE_ALLOC_FN(lpae_alloc_32_s2, LPAE_FMT_32_S2)
LPAE_ALLOC_FN(lpae_alloc_mali, LPAE_FMT_MALI)

#define LPAE_ADOPT_FN(fn, id)                                                 \
	static int fn(struct iopgt_cfg *cfg, void *cookie,                    \
		      const struct iopgt_env *env,                            \
		      const struct iopgt_image_src *src,                      \
		      struct iopgt_pgtable **out)                             \
	{                                                                     \
		return lpae_adopt(id, cfg, cookie, env, src, out);            \
	}

LPAE_ADOPT_FN(lpae_adopt_64_s1, LPAE_FMT_64_S1)
LPAE_ADOPT_FN(lpae_adopt_64_s2, LPAE_FMT_64_S2)
LPAE_ADOPT_FN(lpae_adopt_32_s1, LPAE_FMT_32_S1)
LPAE_ADOPT_FN(lpae_adopt_32_s2, LPAE_FMT_32_S2)
LPAE_ADOPT_FN(lpae_adopt_mali, LPAE_FMT_MALI)

/*
 * Each name, alias, default (ias, oas, page sizes) and foreign walk once:
 * IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN also emits them as file metadata.
 */
IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(lpae_fmt_64_s1, "arm-64-lpae-s1",
	"ARM_64_LPAE_S1", 48, 48, SZ_4K | SZ_2M | SZ_1G,
	&lpae_foreign_64_s1,
	.description = "ARM LPAE stage 1 (AArch64 TTBR, HD dirty tracking)",
	.caps = IOPGT_FMT_CAP_DIRTY,
	.alloc = lpae_alloc_64_s1,
	.adopt = lpae_adopt_64_s1,
	.free = lpae_free);

IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(lpae_fmt_64_s2, "arm-64-lpae-s2",
	"ARM_64_LPAE_S2", 48, 48, SZ_4K | SZ_2M | SZ_1G,
	&lpae_foreign_64_s2,
	.description = "ARM LPAE stage 2 (AArch64 VTTBR)",
	.alloc = lpae_alloc_64_s2,
	.adopt = lpae_adopt_64_s2,
	.free = lpae_free);

IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(lpae_fmt_32_s1, "arm-32-lpae-s1",
	"ARM_32_LPAE_S1", 32, 40, SZ_4K | SZ_2M | SZ_1G,
	&lpae_foreign_32_s1,
	.description = "ARM LPAE stage 1 (AArch32: ias <= 32, oas <= 40)",
	.alloc = lpae_alloc_32_s1,
	.adopt = lpae_adopt_32_s1,
	.free = lpae_free);

IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(lpae_fmt_32_s2, "arm-32-lpae-s2",
	"ARM_32_LPAE_S2", 40, 40, SZ_4K | SZ_2M | SZ_1G,
	&lpae_foreign_32_s2,
	.description = "ARM LPAE stage 2 (AArch32: ias, oas <= 40)",
	.alloc = lpae_alloc_32_s2,
	.adopt = lpae_adopt_32_s2,
	.free = lpae_free);

IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(lpae_fmt_mali, "arm-mali-lpae",
	"ARM_MALI_LPAE", 48, 40, SZ_4K | SZ_2M | SZ_1G,
	&lpae_foreign_mali,
	.description = "Arm Mali GPU LPAE (4 levels, ias <= 48, oas <= 40)",
	.alloc = lpae_alloc_mali,
	.adopt = lpae_adopt_mali,
	.free = lpae_free);

static const struct iopgt_format *const lpae_formats[] = {
	&lpae_fmt_64_s1,
	&lpae_fmt_64_s2,
	&lpae_fmt_32_s1,
	&lpae_fmt_32_s2,
	&lpae_fmt_mali,
};

static int lpae_register(struct iopgt_registrar *reg)
{
	for (size_t i = 0; i < IOPGT_ARRAY_SIZE(lpae_formats); i++) {
		int ret = reg->register_format(reg, lpae_formats[i]);

		if (ret)
			return ret;
	}
	return 0;
}

IOPGT_PLUGIN_DEFINE("io-pgtable-arm", "1.0.0",
		    "ARM LPAE stage 1/2 (64- and 32-bit) and Mali page tables",
		    "MIT", lpae_register, NULL);
