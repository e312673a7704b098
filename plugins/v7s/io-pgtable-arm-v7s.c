// SPDX-License-Identifier: MIT
/*
 * CPU-agnostic ARM page tables: the ARMv7 short-descriptor format as an
 * IOMMU uses it, bit-exact with Linux's io-pgtable-arm-v7s (v6.13 and
 * later), written for iopgt from the architecture's facts.
 *
 * Supported:
 * - two levels: a 16 KiB level-1 table (4096 entries for ias 32) and 1 KiB
 *   level-2 tables packed four to a page (v7s-l2-cache.c)
 * - 4 KiB small pages, 64 KiB large pages, 1 MiB sections and 16 MiB
 *   supersections (the last only if the caller's pgsize_bitmap has 16M)
 * - simplified access permissions (AP[2:1] model, AP[0] as access flag)
 * - TEX remap, with the PRRR/NMRR values the attribute indices need
 * - quirks ARM_NS, NO_PERMS, ARM_MTK_EXT (PA bits 32-34 in descriptor bits
 *   9/4/5, ias 34, oas 35) and ARM_MTK_TTBR_EXT (tables above 4 GiB)
 * - the iopgt extension RECLAIM_TABLES: an unmap that empties a level-2
 *   table frees it (see "reclaim of empty tables")
 * - non-coherent walkers: every table write is followed by a dma_sync
 * - map and unmap on disjoint ranges from several threads
 * - walking tables built elsewhere (v7s-foreign.c), with the descriptor
 *   decoding of v7s-pte.h that this file uses too
 *
 * Not supported:
 * - legacy access permissions (AP[2:0] model), domains, PXN
 * - splitting a large page, section or supersection on a partial unmap:
 *   it returns 0 and leaves the mapping, as Linux does since v6.13
 * - dirty tracking, custom allocators, the NO_WARN quirk
 *
 * Where iopgt refuses what Linux accepts (page sizes outside the bitmap,
 * misaligned addresses, ranges running past ias/oas) and why:
 * docs/formats/v7s.md.
 */
#define pr_fmt(fmt) "arm-v7s: " fmt

#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include <iopgt/bits.h>
#include <iopgt/host-services.h>
#include <iopgt/pgtable.h>
#include <iopgt/plugin.h>

#include "v7s-foreign.h"
#include "v7s-l2-cache.h"
#include "v7s-pte.h"

struct v7s_pgtable {
	struct iopgt_pgtable iop;

	/* read on every op */
	v7s_pte_t *pgd;
	unsigned long l1_mask;		/* level-1 entries - 1 */
	uint64_t iova_limit;		/* 1 << ias */
	uint64_t pa_limit;		/* 1 << oas */
	unsigned long pgsize_bitmap;
	unsigned long quirks;
	bool coherent;
	bool mtk;			/* ARM_MTK_EXT: PA bits 32-34 */
	bool mtk_tables;		/* ARM_MTK_TTBR_EXT: tables > 4G */
	/*
	 * The sizes of which one page may take the short paths (a 4K page
	 * map and unmap, a 1M section map): the walker is coherent (no
	 * syncs), no MediaTek encoding, the size is in the bitmap and at
	 * most 2^oas (an aligned PA below 2^oas then ends below it).
	 */
	unsigned long fast_pgsizes;
	void *cookie;
	void (*tlb_flush_walk)(unsigned long iova, size_t size,
			       size_t granule, void *cookie);
	void (*tlb_add_page)(struct iopgt_iotlb_gather *gather,
			     unsigned long iova, size_t granule, void *cookie);
	struct iopgt_env env;		/* the host's: it never changes */
	/*
	 * Every leaf descriptor but its address, by size and prot: Linux
	 * builds one per call, the quirks make it fixed per table.
	 */
	v7s_pte_t leaf_attrs[V7S_NR_SIZES][V7S_PROT_MASK + 1];

	uint64_t pgd_pa;
	size_t pgd_size;
	uint64_t table_pa_limit;	/* tables must lie below it */
	uint32_t ttbr, tcr, nmrr, prrr;
	/* RECLAIM_TABLES: per level-1 slot, see v7s_rc_enter() */
	uint16_t *l2_refs;
	/* last: what threads adding level-2 tables write is in its lists'
	 * own block, or at most once per four tables (its hash) */
	struct v7s_l2_cache l2;
};

#define ops_to_data(ops) \
	container_of(iopgt_ops_to_pgtable(ops), struct v7s_pgtable, iop)

/* ---- descriptor helpers -------------------------------------------------- */

/*
 * Entries are read and written whole (READ_ONCE/WRITE_ONCE): a walker, or
 * another thread descending through the same level-1 entry, must never see
 * half an update.  Level-1 entries are loaded with acquire so that a
 * level-2 table installed by another thread is seen zeroed.
 */
static inline v7s_pte_t v7s_read(const v7s_pte_t *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_RELAXED);
}

static inline v7s_pte_t v7s_read_l1(const v7s_pte_t *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
}

static inline void v7s_write(v7s_pte_t *ptep, v7s_pte_t pte)
{
	__atomic_store_n(ptep, pte, __ATOMIC_RELAXED);
}


static inline unsigned long v7s_l1_idx(const struct v7s_pgtable *data,
				       unsigned long iova)
{
	return (iova >> V7S_LVL_SHIFT(1)) & data->l1_mask;
}


static inline v7s_pte_t paddr_to_iopte(const struct v7s_pgtable *data,
				       uint64_t paddr, int lvl)
{
	v7s_pte_t pte = (v7s_pte_t)paddr & V7S_LVL_MASK(lvl);

	if (data->mtk)
		pte |= v7s_mtk_pa_to_pte(paddr);
	return pte;
}

/* mask: V7S_PTE_TABLE_ADDR, V7S_LVL_MASK or V7S_CONT_MASK for the entry. */
static inline uint64_t iopte_to_paddr(const struct v7s_pgtable *data,
				      v7s_pte_t pte, v7s_pte_t mask)
{
	return v7s_pte_to_paddr(pte, mask, data->mtk);
}

static inline v7s_pte_t *v7s_table_va(const struct v7s_pgtable *data,
				      v7s_pte_t pte)
{
	uint64_t pa = iopte_to_paddr(data, pte, V7S_PTE_TABLE_ADDR);

	return iopgt_phys_to_virt(&data->env, pa);
}


/* The attributes of a leaf at a level, without its output address. */
static v7s_pte_t v7s_prot_to_pte(int prot, int lvl, unsigned long quirks)
{
	bool ap = !(quirks & IO_PGTABLE_QUIRK_NO_PERMS);
	v7s_pte_t attr = V7S_ATTR_NG | V7S_ATTR_S;
	v7s_pte_t pte;

	if (!(prot & IOMMU_MMIO))
		attr |= FIELD_PREP(V7S_ATTR_TEX, 1);
	if (ap) {
		attr |= V7S_ATTR_AF;
		if (!(prot & IOMMU_PRIV))
			attr |= V7S_ATTR_AP_UNPRIV;
		if (!(prot & IOMMU_WRITE))
			attr |= V7S_ATTR_AP_RDONLY;
	}
	pte = attr << V7S_ATTR_SHIFT(lvl);

	if ((prot & IOMMU_NOEXEC) && ap)
		pte |= V7S_PTE_XN(lvl);
	if (prot & IOMMU_MMIO)
		pte |= V7S_PTE_B;
	else if (prot & IOMMU_CACHE)
		pte |= V7S_PTE_B | V7S_PTE_C;

	pte |= V7S_PTE_TYPE_PAGE;
	if (lvl == 1 && (quirks & IO_PGTABLE_QUIRK_ARM_NS))
		pte |= V7S_PTE_NS_SECTION;
	return pte;
}


/*
 * The contiguous form: a supersection is a section with bit 18 set; a
 * large page moves XN from bit 0 to bit 15 and TEX from [8:6] to [14:12],
 * and becomes type 01.
 */
static v7s_pte_t v7s_pte_to_cont(v7s_pte_t pte, int lvl)
{
	v7s_pte_t xn, tex;

	if (lvl == 1)
		return pte | V7S_PTE_CONT_SECTION;

	xn = FIELD_GET(V7S_PTE_XN(2), pte);
	tex = FIELD_GET(V7S_PTE_SMALL_TEX, pte);
	pte &= ~(v7s_pte_t)(V7S_PTE_XN(2) | V7S_PTE_SMALL_TEX | V7S_PTE_TYPE);
	return pte | FIELD_PREP(V7S_PTE_LARGE_XN, xn) |
	       FIELD_PREP(V7S_PTE_LARGE_TEX, tex) | V7S_PTE_TYPE_CONT_PAGE;
}

static void v7s_init_leaf_attrs(struct v7s_pgtable *data)
{
	for (int prot = 0; prot <= V7S_PROT_MASK; prot++) {
		v7s_pte_t page = v7s_prot_to_pte(prot, 2, data->quirks);
		v7s_pte_t section = v7s_prot_to_pte(prot, 1, data->quirks);

		data->leaf_attrs[V7S_SMALL][prot] = page;
		data->leaf_attrs[V7S_LARGE][prot] = v7s_pte_to_cont(page, 2);
		data->leaf_attrs[V7S_SECTION][prot] = section;
		data->leaf_attrs[V7S_SUPERSECTION][prot] =
			v7s_pte_to_cont(section, 1);
	}
}

/* ---- table memory -------------------------------------------------------- */

/* Make n entries from ptep visible to a non-coherent walker. */
static inline void v7s_sync(const struct v7s_pgtable *data,
			    const v7s_pte_t *ptep, size_t n)
{
	if (!data->coherent)
		data->env.svc->dma_sync(data->env.mem, ptep, n * sizeof(*ptep));
}

/* A new table must be clean for the walker before anything points to it. */
static void v7s_sync_new_table(const struct v7s_pgtable *data,
			       const void *table, size_t size)
{
	if (!data->coherent)
		data->env.svc->dma_sync(data->env.mem, table, size);
}

static v7s_pte_t *v7s_alloc_l2(struct v7s_pgtable *data)
{
	v7s_pte_t *table = v7s_l2_cache_alloc(&data->l2);

	if (table)
		v7s_sync_new_table(data, table, V7S_L2_TABLE_SIZE);
	return table;
}

static inline void v7s_free_l2(struct v7s_pgtable *data, v7s_pte_t *table)
{
	v7s_l2_cache_free(&data->l2, table);
}

/*
 * Point an empty level-1 entry at a new level-2 table.  Threads mapping
 * disjoint ranges under the same MiB race here: the compare-and-swap picks
 * one table, and the loser frees its own and uses the winner's.  Release
 * publishes the zeroed table with its pointer.
 * Returns: 0 and *l2, -ENOMEM, or -EEXIST when a leaf got there first.
 */
static int v7s_install_l2(struct v7s_pgtable *data, v7s_pte_t *l1p,
			  v7s_pte_t **l2)
{
	v7s_pte_t *table = v7s_alloc_l2(data);
	v7s_pte_t old = 0, new;
	uint64_t pa;

	if (!table)
		return -ENOMEM;

	pa = iopgt_virt_to_phys(&data->env, table);
	new = (v7s_pte_t)pa | V7S_PTE_TYPE_TABLE;
	if (data->mtk_tables)
		new |= v7s_mtk_pa_to_pte(pa);
	if (data->quirks & IO_PGTABLE_QUIRK_ARM_NS)
		new |= V7S_PTE_NS_TABLE;

	if (__atomic_compare_exchange_n(l1p, &old, new, false,
					__ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
		v7s_sync(data, l1p, 1);
		*l2 = table;
		return 0;
	}
	/* Lost the race (Linux syncs the entry either way). */
	v7s_sync(data, l1p, 1);
	v7s_free_l2(data, table);
	if (!v7s_pte_is_table(old, 1))
		return -EEXIST;
	*l2 = v7s_table_va(data, old);
	return 0;
}

/*
 * A level-2 table removed by a section over it (map or unmap): nobody
 * else may be inside that MiB (the disjoint-range rule), so the count of
 * the slot starts again from zero.
 */
static __noinline __cold void v7s_rc_forget(struct v7s_pgtable *data,
					    unsigned long iova)
{
	if (data->l2_refs)
		__atomic_store_n(&data->l2_refs[v7s_l1_idx(data, iova)], 0,
				 __ATOMIC_RELAXED);
}

/*
 * Clear a level-1 entry that points to a level-2 table, then flush the
 * walk caches for its MiB and free the table, leaves and all.
 */
static void v7s_remove_l2(struct v7s_pgtable *data, v7s_pte_t *l1p,
			  v7s_pte_t pte, unsigned long iova)
{
	v7s_write(l1p, 0);
	v7s_sync(data, l1p, 1);
	if (data->tlb_flush_walk)
		data->tlb_flush_walk(iova, V7S_BLOCK_SIZE(1), V7S_BLOCK_SIZE(2),
				     data->cookie);
	v7s_free_l2(data, v7s_table_va(data, pte));
	v7s_rc_forget(data, iova);
}

/* ---- map ----------------------------------------------------------------- */

/* A small page's (lvl 2) or section's (lvl 1) descriptor, for the short
 * paths of map. */
static inline v7s_pte_t v7s_short_pte(const struct v7s_pgtable *data,
				      uint64_t paddr, int prot, const int lvl)
{
	int size = lvl == 1 ? V7S_SECTION : V7S_SMALL;

	return data->leaf_attrs[size][prot & V7S_PROT_MASK] |
	       paddr_to_iopte(data, paddr, lvl);
}

static int __cold v7s_eexist(const struct v7s_pgtable *data, unsigned long iova)
{
	/* Linux WARNs: the caller must unmap first. */
	iopgt_env_warn(&data->env, "map: iova %#lx is already mapped", iova);
	return -EEXIST;
}

/*
 * n small pages (n = 1) or large pages (n = 16) from iova, pgcount of
 * them.  Always inlined, so that each size gets its own loop with n known.
 */
static __always_inline int v7s_map_l2(struct v7s_pgtable *data,
				      unsigned long iova, uint64_t paddr,
				      size_t pgcount, v7s_pte_t attrs,
				      size_t *mapped, const unsigned int n)
{
	const size_t pgsize = n * V7S_BLOCK_SIZE(2);

	while (pgcount--) {
		v7s_pte_t *l1p = &data->pgd[v7s_l1_idx(data, iova)];
		v7s_pte_t l1 = v7s_read_l1(l1p);
		v7s_pte_t *ptep, pte;
		int ret;

		if (likely(v7s_pte_is_table(l1, 1))) {
			/* Its installer may not have synced it yet. */
			v7s_sync(data, l1p, 1);
			ptep = v7s_table_va(data, l1);
		} else if (l1) {
			return v7s_eexist(data, iova);
		} else {
			ret = v7s_install_l2(data, l1p, &ptep);
			if (unlikely(ret))
				return ret == -EEXIST ? v7s_eexist(data, iova) :
							ret;
		}

		ptep += V7S_L2_IDX(iova);
		for (unsigned int i = 0; i < n; i++)
			if (unlikely(v7s_read(&ptep[i])))
				return v7s_eexist(data, iova);
		pte = attrs | paddr_to_iopte(data, paddr, 2);
		for (unsigned int i = 0; i < n; i++)
			v7s_write(&ptep[i], pte);
		v7s_sync(data, ptep, n);

		iova += pgsize;
		paddr += pgsize;
		*mapped += pgsize;
	}
	return 0;
}

/*
 * pgcount sections (n = 1) or supersections (n = 16).  Always inlined, as
 * v7s_map_l2(), so that each size gets its own loops with n known.
 */
static __always_inline int v7s_map_l1(struct v7s_pgtable *data,
				      unsigned long iova, uint64_t paddr,
				      size_t pgcount, v7s_pte_t attrs,
				      size_t *mapped, const unsigned int n)
{
	const size_t pgsize = n * V7S_BLOCK_SIZE(1);

	while (pgcount--) {
		v7s_pte_t *ptep = &data->pgd[v7s_l1_idx(data, iova)];
		v7s_pte_t pte;

		/*
		 * Refuse before touching anything: Linux may free level-2
		 * tables in front of the entry that makes it fail.
		 */
		for (unsigned int i = 0; i < n; i++) {
			pte = v7s_read_l1(&ptep[i]);
			if (pte && !v7s_pte_is_table(pte, 1))
				return v7s_eexist(data, iova);
		}
		/* A level-2 table goes, with whatever it still maps. */
		for (unsigned int i = 0; i < n; i++) {
			pte = v7s_read_l1(&ptep[i]);
			if (pte)
				v7s_remove_l2(data, &ptep[i], pte,
					      iova + i * V7S_BLOCK_SIZE(1));
		}

		pte = attrs | paddr_to_iopte(data, paddr, 1);
		for (unsigned int i = 0; i < n; i++)
			v7s_write(&ptep[i], pte);
		v7s_sync(data, ptep, n);

		iova += pgsize;
		paddr += pgsize;
		*mapped += pgsize;
	}
	return 0;
}

/* pgcount pages of a valid, aligned pgsize: one loop per size. */
static __noinline int v7s_map_pgcount(struct v7s_pgtable *data,
				      unsigned long iova, uint64_t paddr,
				      size_t pgsize, size_t pgcount,
				      v7s_pte_t attrs, size_t *mapped)
{
	switch (pgsize) {
	case SZ_4K:
		return v7s_map_l2(data, iova, paddr, pgcount, attrs, mapped, 1);
	case SZ_64K:
		return v7s_map_l2(data, iova, paddr, pgcount, attrs, mapped,
				  V7S_CONT_PAGES);
	case SZ_1M:
		return v7s_map_l1(data, iova, paddr, pgcount, attrs, mapped, 1);
	default:
		return v7s_map_l1(data, iova, paddr, pgcount, attrs, mapped,
				  V7S_CONT_PAGES);
	}
}

/* log2(pgsize) if pgsize is exactly one size of the bitmap, else 0. */
static inline unsigned int v7s_pgsize_shift(const struct v7s_pgtable *data,
					    size_t pgsize)
{
	if (unlikely((pgsize & (pgsize - 1)) ||
		     !(pgsize & data->pgsize_bitmap)))
		return 0;
	return __builtin_ctzl(pgsize);
}

/* Would pgcount pages of 1 << shift from start run past limit? */
static inline bool v7s_past_limit(uint64_t start, size_t pgcount,
				  unsigned int shift, uint64_t limit)
{
	return pgcount > (limit - start) >> shift;
}

static int __cold v7s_map_refused(const struct v7s_pgtable *data,
				  unsigned long iova, uint64_t paddr,
				  size_t pgsize, size_t pgcount, int ret)
{
	const struct iopgt_env *env = &data->env;
	unsigned long long pa = paddr;

	if (ret == -ERANGE)
		iopgt_env_warn(env,
			       "map: %zu x %#zx from iova %#lx, paddr %#llx is out of range",
			       pgcount, pgsize, iova, pa);
	else if (!v7s_pgsize_shift(data, pgsize))
		iopgt_env_warn(env, "map: page size %#zx is not in %#lx",
			       pgsize, data->pgsize_bitmap);
	else
		iopgt_env_warn(env,
			       "map: iova %#lx or paddr %#llx is not %#zx aligned",
			       iova, pa, pgsize);
	return ret;
}

/* Every check, then the loops: the general case and every failure. */
static __noinline int v7s_map_checked(struct v7s_pgtable *data,
				      unsigned long iova, uint64_t paddr,
				      size_t pgsize, size_t pgcount, int prot,
				      size_t *mapped)
{
	unsigned int shift;
	v7s_pte_t attrs;

	/* Linux's checks, in Linux's order, with Linux's results. */
	if (unlikely(iova >= data->iova_limit || paddr >= data->pa_limit))
		return v7s_map_refused(data, iova, paddr, pgsize, pgcount,
				       -ERANGE);
	if (unlikely(!(prot & (IOMMU_READ | IOMMU_WRITE)) || !pgcount))
		return -EINVAL;

	/* What Linux leaves to the caller: it writes malformed entries. */
	shift = v7s_pgsize_shift(data, pgsize);
	if (unlikely(!shift || ((iova | paddr) & (pgsize - 1))))
		return v7s_map_refused(data, iova, paddr, pgsize, pgcount,
				       -EINVAL);
	if (unlikely(v7s_past_limit(iova, pgcount, shift, data->iova_limit) ||
		     v7s_past_limit(paddr, pgcount, shift, data->pa_limit)))
		return v7s_map_refused(data, iova, paddr, pgsize, pgcount,
				       -ERANGE);

	/*
	 * No barrier is needed after the writes: the release in
	 * v7s_install_l2() is what orders table contents for other threads.
	 */
	attrs = data->leaf_attrs[V7S_SIZE_IDX(shift)][prot & V7S_PROT_MASK];
	return v7s_map_pgcount(data, iova, paddr, pgsize, pgcount, attrs,
			       mapped);
}

/*
 * The other everyday case, one section into an empty level-1 slot, is
 * done here without a loop when the table allows it (fast_pgsizes) and
 * every check passes at a glance; all else goes through v7s_map_checked().
 * Apart from v7s_map_pages(), whose small-page path it would lengthen.
 */
static __noinline int v7s_map_section(struct v7s_pgtable *data,
				      unsigned long iova, uint64_t paddr,
				      size_t pgsize, size_t pgcount, int prot,
				      size_t *mapped)
{
	if (pgsize == SZ_1M && pgcount == 1 && (data->fast_pgsizes & SZ_1M) &&
	    iova < data->iova_limit && paddr < data->pa_limit &&
	    (prot & (IOMMU_READ | IOMMU_WRITE)) &&
	    !((iova | paddr) & (SZ_1M - 1))) {
		v7s_pte_t *l1p = &data->pgd[v7s_l1_idx(data, iova)];

		/* empty: no level-2 table to remove, no leaf to refuse */
		if (likely(!v7s_read_l1(l1p))) {
			v7s_write(l1p, v7s_short_pte(data, paddr, prot, 1));
			*mapped += SZ_1M;
			return 0;
		}
	}
	return v7s_map_checked(data, iova, paddr, pgsize, pgcount, prot,
			       mapped);
}

static int v7s_map_pages(struct iopgt_ops *ops, unsigned long iova,
			 uint64_t paddr, size_t pgsize, size_t pgcount,
			 int prot, size_t *mapped)
{
	struct v7s_pgtable *data = ops_to_data(ops);

	/*
	 * The DMA API's everyday case, one small page into an existing
	 * level-2 table, is done here without a call when the table allows
	 * it (fast_pgsizes) and every check passes at a glance; all
	 * else, failures included, goes through v7s_map_checked() (sections
	 * through v7s_map_section() first).
	 */
	if (pgsize == SZ_4K && pgcount == 1 && (data->fast_pgsizes & SZ_4K) &&
	    iova < data->iova_limit && paddr < data->pa_limit &&
	    (prot & (IOMMU_READ | IOMMU_WRITE)) &&
	    !((iova | paddr) & (SZ_4K - 1))) {
		v7s_pte_t l1 = v7s_read_l1(&data->pgd[v7s_l1_idx(data, iova)]);
		v7s_pte_t *ptep;

		if (likely(v7s_pte_is_table(l1, 1))) {
			ptep = v7s_table_va(data, l1) + V7S_L2_IDX(iova);
			if (likely(!v7s_read(ptep))) {
				v7s_write(ptep, v7s_short_pte(data, paddr,
							      prot, 2));
				*mapped += SZ_4K;
				return 0;
			}
		}
	}
	return v7s_map_section(data, iova, paddr, pgsize, pgcount, prot,
			       mapped);
}

/* ---- unmap --------------------------------------------------------------- */

static size_t __cold v7s_unmap_hole(const struct v7s_pgtable *data,
				    unsigned long iova)
{
	iopgt_env_warn(&data->env, "unmap: iova %#lx is not mapped", iova);
	return 0;
}

static size_t __cold v7s_unmap_partial(const struct v7s_pgtable *data,
				       unsigned long iova)
{
	iopgt_env_warn(&data->env,
		       "unmap: iova %#lx: unmap of a partial large IOPTE is not allowed",
		       iova);
	return 0;
}

/*
 * A gather that wants tlb_add_page: one the caller passed (pgtable.h: a
 * NULL gather means the caller invalidates by other means) and that a
 * later flush_all does not already cover.
 */
static inline bool v7s_add_pages(const struct v7s_pgtable *data,
				 const struct iopgt_iotlb_gather *gather)
{
	return gather && !gather->queued && data->tlb_add_page;
}

/*
 * Unmap n entries from ptep at a level, all of which must be valid: queue
 * leaves for invalidation (add_page: see v7s_add_pages), flush the walk
 * for level-2 tables and free them.  A hole or part of a large entry is
 * said only for the first page of a call (first, a constant): later in a
 * batch it just ends it, and the caller's next call, at that page, says it
 * once.
 * Returns: the bytes unmapped, or 0 for a hole or part of a large entry.
 */
static __always_inline size_t
v7s_unmap_entries(struct v7s_pgtable *data, struct iopgt_iotlb_gather *gather,
		  unsigned long iova, v7s_pte_t *ptep, bool add_page,
		  const int lvl, const unsigned int n, const bool first)
{
	const size_t blk_size = V7S_BLOCK_SIZE(lvl);
	v7s_pte_t pte[V7S_CONT_PAGES];

	for (unsigned int i = 0; i < n; i++) {
		pte[i] = v7s_read(&ptep[i]);
		if (unlikely(!v7s_pte_is_valid(pte[i])))
			return first ? v7s_unmap_hole(data, iova) : 0;
	}
	if (unlikely(n == 1 && v7s_pte_is_cont(pte[0], lvl)))
		return first ? v7s_unmap_partial(data, iova) : 0;

	for (unsigned int i = 0; i < n; i++)
		v7s_write(&ptep[i], 0);
	v7s_sync(data, ptep, n);

	for (unsigned int i = 0; i < n; i++, iova += blk_size) {
		if (v7s_pte_is_table(pte[i], lvl)) {
			/* Also flush any partial walks. */
			if (data->tlb_flush_walk)
				data->tlb_flush_walk(iova, blk_size,
						     V7S_BLOCK_SIZE(2),
						     data->cookie);
			v7s_free_l2(data, v7s_table_va(data, pte[i]));
			v7s_rc_forget(data, iova);
		} else if (add_page) {
			data->tlb_add_page(gather, iova, blk_size,
					   data->cookie);
		}
	}
	return n * blk_size;
}

/* One page of n entries at a level (first: see v7s_unmap_entries). */
static __always_inline size_t v7s_unmap_page(struct v7s_pgtable *data,
					     struct iopgt_iotlb_gather *gather,
					     unsigned long iova, bool add_page,
					     const int lvl,
					     const unsigned int n,
					     const bool first)
{
	v7s_pte_t *l1p = &data->pgd[v7s_l1_idx(data, iova)];
	v7s_pte_t *ptep = l1p;

	if (lvl == 2) {
		v7s_pte_t l1 = v7s_read_l1(l1p);

		if (unlikely(!v7s_pte_is_table(l1, 1))) {
			if (first && l1)
				v7s_unmap_partial(data, iova);
			else if (first)
				v7s_unmap_hole(data, iova);
			return 0;
		}
		ptep = v7s_table_va(data, l1) + V7S_L2_IDX(iova);
	}
	return v7s_unmap_entries(data, gather, iova, ptep, add_page, lvl, n,
				 first);
}

/*
 * pgcount pages of n entries at a level, stopping at the first that fails.
 * Always inlined: each size gets its own loop, with the first page peeled
 * off so that "first" costs nothing.
 */
static __always_inline size_t v7s_unmap_loop(struct v7s_pgtable *data,
					     struct iopgt_iotlb_gather *gather,
					     unsigned long iova, size_t pgcount,
					     const int lvl,
					     const unsigned int n)
{
	bool add_page = v7s_add_pages(data, gather);
	size_t unmapped, bytes;

	if (unlikely(!pgcount))		/* nothing asked, nothing said */
		return 0;
	unmapped = v7s_unmap_page(data, gather, iova, add_page, lvl, n, true);
	if (!unmapped)
		return 0;
	while (--pgcount) {
		bytes = v7s_unmap_page(data, gather, iova + unmapped, add_page,
				       lvl, n, false);
		if (!bytes)
			break;
		unmapped += bytes;
	}
	return unmapped;
}

/* pgcount pages of a valid, aligned pgsize: one loop per size. */
static __noinline size_t v7s_unmap_pgcount(struct v7s_pgtable *data,
					   struct iopgt_iotlb_gather *gather,
					   unsigned long iova, size_t pgsize,
					   size_t pgcount)
{
	switch (pgsize) {
	case SZ_4K:
		return v7s_unmap_loop(data, gather, iova, pgcount, 2, 1);
	case SZ_64K:
		return v7s_unmap_loop(data, gather, iova, pgcount, 2,
				      V7S_CONT_PAGES);
	case SZ_1M:
		return v7s_unmap_loop(data, gather, iova, pgcount, 1, 1);
	default:
		return v7s_unmap_loop(data, gather, iova, pgcount, 1,
				      V7S_CONT_PAGES);
	}
}

/* Every check, then the loops: the general case and every failure. */
static __noinline size_t v7s_unmap_checked(struct v7s_pgtable *data,
					   unsigned long iova, size_t pgsize,
					   size_t pgcount,
					   struct iopgt_iotlb_gather *gather)
{
	const struct iopgt_env *env = &data->env;
	unsigned int shift;

	if (unlikely(iova >= data->iova_limit)) {
		iopgt_env_warn(env, "unmap: iova %#lx out of range", iova);
		return 0;
	}
	shift = v7s_pgsize_shift(data, pgsize);
	if (unlikely(!shift || (iova & (pgsize - 1)) ||
		     v7s_past_limit(iova, pgcount, shift, data->iova_limit))) {
		iopgt_env_warn(env,
			       "unmap: %zu x %#zx from iova %#lx: page size not in %#lx, misaligned or out of range",
			       pgcount, pgsize, iova, data->pgsize_bitmap);
		return 0;
	}
	return v7s_unmap_pgcount(data, gather, iova, pgsize, pgcount);
}

static size_t v7s_unmap_pages(struct iopgt_ops *ops, unsigned long iova,
			      size_t pgsize, size_t pgcount,
			      struct iopgt_iotlb_gather *gather)
{
	struct v7s_pgtable *data = ops_to_data(ops);

	/* As for map: one small page, without a call but the TLB's. */
	if (pgsize == SZ_4K && pgcount == 1 && (data->fast_pgsizes & SZ_4K) &&
	    iova < data->iova_limit && !(iova & (SZ_4K - 1))) {
		v7s_pte_t l1 = v7s_read_l1(&data->pgd[v7s_l1_idx(data, iova)]);
		v7s_pte_t *ptep;

		if (likely(v7s_pte_is_table(l1, 1))) {
			ptep = v7s_table_va(data, l1) + V7S_L2_IDX(iova);
			/* types 10 and 11 are small pages; 01 is a large one */
			if (likely(v7s_read(ptep) & V7S_PTE_TYPE_PAGE)) {
				v7s_write(ptep, 0);
				if (v7s_add_pages(data, gather))
					data->tlb_add_page(gather, iova, SZ_4K,
							   data->cookie);
				return SZ_4K;
			}
		}
	}
	return v7s_unmap_checked(data, iova, pgsize, pgcount, gather);
}

/* ---- iova_to_phys -------------------------------------------------------- */

/*
 * Like Linux, bits of iova above ias are not looked at.  Always inlined
 * with mtk constant: the MediaTek decoding costs a few instructions per
 * lookup, so tables without ARM_MTK_EXT get a version without it.
 */
static __always_inline uint64_t __v7s_iova_to_phys(struct iopgt_ops *ops,
						   unsigned long iova,
						   const bool mtk)
{
	struct v7s_pgtable *data = ops_to_data(ops);
	v7s_pte_t pte = v7s_read_l1(&data->pgd[v7s_l1_idx(data, iova)]);
	v7s_pte_t mask, *ptep;
	uint64_t paddr;

	if (v7s_pte_is_table(pte, 1)) {
		paddr = pte & V7S_PTE_TABLE_ADDR;
		if (mtk)
			paddr |= v7s_mtk_pte_to_pa(pte);
		ptep = iopgt_phys_to_virt(&data->env, paddr);
		pte = v7s_read(&ptep[V7S_L2_IDX(iova)]);
		/* a small page (types 10 and 11), the common case: done */
		if (likely(pte & V7S_PTE_TYPE_PAGE)) {
			paddr = (pte & V7S_LVL_MASK(2)) |
				(iova & ~V7S_LVL_MASK(2));
			if (mtk)
				paddr |= v7s_mtk_pte_to_pa(pte);
			return paddr;
		}
		mask = V7S_CONT_MASK(2);
	} else {
		mask = (pte & V7S_PTE_CONT_SECTION) ? V7S_CONT_MASK(1) :
						      V7S_LVL_MASK(1);
	}
	if (!v7s_pte_is_valid(pte))
		return 0;
	paddr = (pte & mask) | (iova & ~mask);
	if (mtk)
		paddr |= v7s_mtk_pte_to_pa(pte);
	return paddr;
}

static uint64_t v7s_iova_to_phys(struct iopgt_ops *ops, unsigned long iova)
{
	return __v7s_iova_to_phys(ops, iova, false);
}

static uint64_t v7s_iova_to_phys_mtk(struct iopgt_ops *ops, unsigned long iova)
{
	return __v7s_iova_to_phys(ops, iova, true);
}

/* ---- walk and registers -------------------------------------------------- */

/*
 * Report an entry as the hardware walker reads it: each of the sixteen
 * copies of a supersection or large page covers the whole 16 MiB / 64 KiB.
 */
static int v7s_visit_entry(const struct v7s_pgtable *data,
			   const struct iopgt_walk_ops *visit, void *priv,
			   v7s_pte_t pte, int lvl, unsigned int idx,
			   unsigned long iova)
{
	struct iopgt_walk_entry e = {
		.level = lvl,
		.index = idx,
		.iova = iova,
		.size = V7S_BLOCK_SIZE(lvl),
		.raw = pte,
		.kind = IOPGT_ENTRY_LEAF,
	};

	if (v7s_pte_is_table(pte, lvl)) {
		e.kind = IOPGT_ENTRY_TABLE;
		e.oa = iopte_to_paddr(data, pte, V7S_PTE_TABLE_ADDR);
	} else {
		if (v7s_pte_is_cont(pte, lvl)) {
			e.size *= V7S_CONT_PAGES;
			e.iova &= ~(e.size - 1);
		}
		e.oa = iopte_to_paddr(data, pte, v7s_leaf_mask(pte, lvl));
		e.prot = v7s_pte_to_prot(pte, lvl, data->quirks);
	}
	return visit->entry ? visit->entry(priv, &e) : 0;
}

static int v7s_walk_l2(const struct v7s_pgtable *data,
		       const struct iopgt_walk_ops *visit, void *priv,
		       v7s_pte_t l1, unsigned long iova)
{
	const v7s_pte_t *table = v7s_table_va(data, l1);
	uint64_t pa = iopte_to_paddr(data, l1, V7S_PTE_TABLE_ADDR);
	int ret = 0;

	if (visit->table)
		ret = visit->table(priv, pa, table, V7S_L2_TABLE_SIZE, 2);
	for (unsigned int i = 0; !ret && i < V7S_L2_ENTRIES; i++) {
		v7s_pte_t pte = v7s_read(&table[i]);

		if (v7s_pte_is_valid(pte))
			ret = v7s_visit_entry(data, visit, priv, pte, 2, i,
					      iova + i * V7S_BLOCK_SIZE(2));
	}
	if (!ret && visit->table_end)
		ret = visit->table_end(priv, pa, 2);
	return ret;
}

static int v7s_walk(struct iopgt_ops *ops, const struct iopgt_walk_ops *visit,
		    void *priv)
{
	struct v7s_pgtable *data = ops_to_data(ops);
	int ret = 0;

	if (visit->table)
		ret = visit->table(priv, data->pgd_pa, data->pgd,
				   data->pgd_size, 1);
	for (unsigned long i = 0; !ret && i <= data->l1_mask; i++) {
		v7s_pte_t pte = v7s_read_l1(&data->pgd[i]);
		unsigned long iova = i << V7S_LVL_SHIFT(1);

		if (!v7s_pte_is_valid(pte))
			continue;
		ret = v7s_visit_entry(data, visit, priv, pte, 1, i, iova);
		if (!ret && v7s_pte_is_table(pte, 1))
			ret = v7s_walk_l2(data, visit, priv, pte, iova);
	}
	if (!ret && visit->table_end)
		ret = visit->table_end(priv, data->pgd_pa, 1);
	return ret;
}

static void v7s_describe_regs(struct iopgt_ops *ops, iopgt_reg_fn fn,
			      void *priv)
{
	struct v7s_pgtable *data = ops_to_data(ops);

	fn(priv, "ttbr", data->ttbr);
	fn(priv, "tcr", data->tcr);
	fn(priv, "nmrr", data->nmrr);
	fn(priv, "prrr", data->prrr);
}

/* ---- reclaim of empty tables (IOPGT_QUIRK_RECLAIM_TABLES) ---------------- */

/*
 * An iopgt extension; a table with the quirk gets the ops below, so the
 * ops above never pay for it.
 *
 * A level-1 table descriptor has no bit to spare, so each level-1 slot has
 * a count in l2_refs[]: the valid entries of its level-2 table plus the
 * operations inside its MiB.  An operation enters (raises the count)
 * before it reads the level-1 entry and leaves when done.  The one that
 * takes the count to zero marks it V7S_RC_DEAD, unhooks the table (empty,
 * with nobody inside), reopens the slot, then flushes the walk cache for
 * the MiB and frees the table.  Another operation meeting DEAD waits out
 * that window: one store and its sync.
 */
#define V7S_RC_DEAD	UINT16_MAX

static void v7s_rc_enter(struct v7s_pgtable *data, unsigned long i)
{
	uint16_t *ref = &data->l2_refs[i];
	uint16_t n = __atomic_load_n(ref, __ATOMIC_RELAXED);

	for (;;) {
		if (unlikely(n >= V7S_RC_DEAD - 1)) {
			sched_yield();
			n = __atomic_load_n(ref, __ATOMIC_RELAXED);
			continue;
		}
		/* acquire: a slot reopened after an unhook reads as empty */
		if (__atomic_compare_exchange_n(ref, &n, n + 1, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
	}
}

/* Leave slot i, having added (removed, if negative) entries to its table. */
static void v7s_rc_leave(struct v7s_pgtable *data, unsigned long i,
			 int entries)
{
	uint16_t *ref = &data->l2_refs[i];
	uint16_t n = __atomic_load_n(ref, __ATOMIC_RELAXED), left;
	v7s_pte_t *l1p = &data->pgd[i], l1;

	do {
		int rest = n - 1 + entries;

		if (IOPGT_WARN_ON(&data->env, rest < 0 || n == V7S_RC_DEAD))
			return;
		left = rest ? (uint16_t)rest : V7S_RC_DEAD;
	} while (!__atomic_compare_exchange_n(ref, &n, left, false,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	if (left != V7S_RC_DEAD)
		return;

	l1 = v7s_read_l1(l1p);
	if (v7s_pte_is_table(l1, 1)) {
		v7s_write(l1p, 0);
		v7s_sync(data, l1p, 1);
	}
	__atomic_store_n(ref, 0, __ATOMIC_RELEASE);
	if (!v7s_pte_is_table(l1, 1))
		return;	/* a hole or a section: nothing to free */
	if (data->tlb_flush_walk)
		data->tlb_flush_walk(i << V7S_LVL_SHIFT(1), V7S_BLOCK_SIZE(1),
				     V7S_BLOCK_SIZE(2), data->cookie);
	v7s_free_l2(data, v7s_table_va(data, l1));
}

/*
 * v7s_map_checked()'s checks, which refuse a bad batch whole: the batch
 * goes there when any fails, so the MiB-by-MiB loop never starts.
 */
static bool v7s_rc_map_ok(const struct v7s_pgtable *data, unsigned long iova,
			  uint64_t paddr, size_t pgsize, size_t pgcount,
			  int prot)
{
	unsigned int shift = v7s_pgsize_shift(data, pgsize);

	return iova < data->iova_limit && paddr < data->pa_limit &&
	       (prot & (IOMMU_READ | IOMMU_WRITE)) && pgcount && shift &&
	       !((iova | paddr) & (pgsize - 1)) &&
	       !v7s_past_limit(iova, pgcount, shift, data->iova_limit) &&
	       !v7s_past_limit(paddr, pgcount, shift, data->pa_limit);
}

/* ... and v7s_unmap_checked()'s. */
static bool v7s_rc_unmap_ok(const struct v7s_pgtable *data,
			    unsigned long iova, size_t pgsize, size_t pgcount)
{
	unsigned int shift = v7s_pgsize_shift(data, pgsize);

	return iova < data->iova_limit && shift && !(iova & (pgsize - 1)) &&
	       !v7s_past_limit(iova, pgcount, shift, data->iova_limit);
}

/* Pages of pgsize from iova to the end of its MiB, at most pgcount. */
static inline size_t v7s_rc_chunk(unsigned long iova, size_t pgsize,
				  size_t pgcount)
{
	size_t n = (V7S_BLOCK_SIZE(1) - (iova & (V7S_BLOCK_SIZE(1) - 1))) /
		   pgsize;

	return n < pgcount ? n : pgcount;
}

static int v7s_rc_map_pages(struct iopgt_ops *ops, unsigned long iova,
			    uint64_t paddr, size_t pgsize, size_t pgcount,
			    int prot, size_t *mapped)
{
	struct v7s_pgtable *data = ops_to_data(ops);

	/* sections and supersections count nothing */
	if (pgsize > SZ_64K ||
	    !v7s_rc_map_ok(data, iova, paddr, pgsize, pgcount, prot))
		return v7s_map_checked(data, iova, paddr, pgsize, pgcount,
				       prot, mapped);
	while (pgcount) {
		unsigned long i = v7s_l1_idx(data, iova);
		size_t n = v7s_rc_chunk(iova, pgsize, pgcount), done = 0;
		int ret;

		v7s_rc_enter(data, i);
		ret = v7s_map_checked(data, iova, paddr, pgsize, n, prot,
				      &done);
		v7s_rc_leave(data, i, (int)(done / V7S_BLOCK_SIZE(2)));
		*mapped += done;
		if (ret)
			return ret;
		iova += n * pgsize;
		paddr += n * pgsize;
		pgcount -= n;
	}
	return 0;
}

static size_t v7s_rc_unmap_pages(struct iopgt_ops *ops, unsigned long iova,
				 size_t pgsize, size_t pgcount,
				 struct iopgt_iotlb_gather *gather)
{
	struct v7s_pgtable *data = ops_to_data(ops);
	size_t unmapped = 0;

	if (pgsize > SZ_64K || !v7s_rc_unmap_ok(data, iova, pgsize, pgcount))
		return v7s_unmap_checked(data, iova, pgsize, pgcount, gather);
	while (pgcount) {
		unsigned long i = v7s_l1_idx(data, iova);
		size_t n = v7s_rc_chunk(iova, pgsize, pgcount), bytes;

		v7s_rc_enter(data, i);
		bytes = v7s_unmap_checked(data, iova, pgsize, n, gather);
		v7s_rc_leave(data, i, -(int)(bytes / V7S_BLOCK_SIZE(2)));
		unmapped += bytes;
		if (bytes != n * pgsize)
			break;	/* a hole: the loop stopped there */
		iova += bytes;
		pgcount -= n;
	}
	return unmapped;
}

/* Inside the MiB as well: its table may not go while it is read. */
static uint64_t v7s_rc_iova_to_phys(struct iopgt_ops *ops, unsigned long iova)
{
	struct v7s_pgtable *data = ops_to_data(ops);
	unsigned long i = v7s_l1_idx(data, iova);
	uint64_t pa;

	v7s_rc_enter(data, i);
	pa = __v7s_iova_to_phys(ops, iova, data->mtk);
	v7s_rc_leave(data, i, 0);
	return pa;
}

/* ---- alloc and free ------------------------------------------------------ */

/* IRGN's two bits sit apart in the TTBR: [0] at bit 6, [1] at bit 0. */
static uint32_t v7s_ttbr_irgn(unsigned int rgn)
{
	return ((rgn & 1) ? V7S_TTBR_IRGN0 : 0) |
	       ((rgn & 2) ? V7S_TTBR_IRGN1 : 0);
}

static uint32_t v7s_ttbr(const struct v7s_pgtable *data, uint64_t pa)
{
	/* MediaTek puts PA[34:32] of the level-1 table in TTBR[2:0]. */
	if (data->mtk)
		return (uint32_t)pa | upper_32_bits(pa);
	if (data->coherent)
		return (uint32_t)pa | V7S_TTBR_S | V7S_TTBR_NOS |
		       v7s_ttbr_irgn(V7S_RGN_WBWA) |
		       FIELD_PREP(V7S_TTBR_ORGN, V7S_RGN_WBWA);
	return (uint32_t)pa | V7S_TTBR_S | v7s_ttbr_irgn(V7S_RGN_NC) |
	       FIELD_PREP(V7S_TTBR_ORGN, V7S_RGN_NC);
}

/*
 * Linux returns NULL for each of these, and narrows nothing but the
 * bitmap; iopgt says which one it was, as a warning, which the host
 * passes on as the reason of the failed call.
 */
static int v7s_check_cfg(const struct iopgt_cfg *cfg,
			 const struct iopgt_env *env)
{
	bool mtk = cfg->quirks & IO_PGTABLE_QUIRK_ARM_MTK_EXT;
	unsigned int ias_max = mtk ? V7S_MTK_IAS_MAX : V7S_ADDR_BITS;
	unsigned int oas_max = mtk ? V7S_MTK_OAS_MAX : V7S_ADDR_BITS;

	if (cfg->ias > ias_max || cfg->ias < V7S_IAS_MIN) {
		iopgt_env_warn(env, "alloc: ias %u is not in [%u, %u]", cfg->ias,
			      V7S_IAS_MIN, ias_max);
		return -EINVAL;
	}
	if (cfg->oas > oas_max) {
		iopgt_env_warn(env, "alloc: oas %u is above %u", cfg->oas,
			       oas_max);
		return -EINVAL;
	}
	/* Linux keeps an empty bitmap; a table nothing can be mapped into
	 * is never what the caller meant. */
	if (!(cfg->pgsize_bitmap & V7S_PGSIZES)) {
		iopgt_env_warn(env, "alloc: pgsize_bitmap %#lx has none of 4K, 64K, 1M, 16M",
			      cfg->pgsize_bitmap);
		return -EINVAL;
	}
	if (cfg->quirks & ~V7S_QUIRKS) {
		iopgt_env_warn(env, "alloc: unsupported quirks %#lx",
			      cfg->quirks & ~V7S_QUIRKS);
		return -EINVAL;
	}
	/* The MTK PA bits overlap AP and XN bits. */
	if (mtk && !(cfg->quirks & IO_PGTABLE_QUIRK_NO_PERMS)) {
		iopgt_env_warn(env, "alloc: ARM_MTK_EXT needs NO_PERMS");
		return -EINVAL;
	}
	if ((cfg->quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT) && !mtk) {
		iopgt_env_warn(env, "alloc: ARM_MTK_TTBR_EXT needs ARM_MTK_EXT");
		return -EINVAL;
	}
	return 0;
}

static int v7s_alloc_pgd(struct v7s_pgtable *data, unsigned int flags)
{
	const struct iopgt_env *env = &data->env;

	data->pgd = env->svc->alloc_pages(env->mem, data->pgd_size, flags);
	if (!data->pgd)
		return -ENOMEM;
	data->pgd_pa = iopgt_virt_to_phys(env, data->pgd);
	if (data->pgd_pa >= data->table_pa_limit) {
		iopgt_env_err(env, "page table does not fit in PTE: %#llx",
			      (unsigned long long)data->pgd_pa);
		env->svc->free_pages(env->mem, data->pgd, data->pgd_size);
		data->pgd = NULL;
		return -ENOMEM;
	}
	v7s_sync_new_table(data, data->pgd, data->pgd_size);
	return 0;
}

static void v7s_free(struct iopgt_pgtable *iop);

static int v7s_alloc(struct iopgt_cfg *cfg, void *cookie,
		     const struct iopgt_env *env, struct iopgt_pgtable **out)
{
	struct v7s_pgtable *data;
	unsigned int flags;
	int ret;

	ret = v7s_check_cfg(cfg, env);
	if (ret)
		return ret;

	data = env->svc->zalloc(env->mem, sizeof(*data));
	if (!data)
		return -ENOMEM;
	data->env = *env;
	data->quirks = cfg->quirks;
	data->coherent = cfg->coherent_walk;
	data->mtk = cfg->quirks & IO_PGTABLE_QUIRK_ARM_MTK_EXT;
	data->mtk_tables = cfg->quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT;
	data->iova_limit = 1ULL << cfg->ias;
	data->pa_limit = 1ULL << cfg->oas;
	data->l1_mask = V7S_L1_ENTRIES(cfg->ias) - 1;
	data->pgd_size = V7S_L1_ENTRIES(cfg->ias) * sizeof(v7s_pte_t);
	data->cookie = cookie;
	if (cfg->tlb) {
		data->tlb_flush_walk = cfg->tlb->tlb_flush_walk;
		data->tlb_add_page = cfg->tlb->tlb_add_page;
	}

	/*
	 * Table pointers are 32 bits, so tables live in DMA32 memory unless
	 * MediaTek's extension lets them go up to oas: its TTBR and its L1
	 * table descriptors carry PA bits 32..34 (v7s_mtk_pa_to_pte).
	 */
	if (data->mtk_tables) {
		flags = IOPGT_MEM_MAX_BITS(cfg->oas);
		data->table_pa_limit = data->pa_limit;
	} else {
		flags = IOPGT_MEM_DMA32;
		data->table_pa_limit = SZ_4G;
	}
	ret = v7s_l2_cache_init(&data->l2, &data->env, flags,
				data->table_pa_limit);
	if (ret) {
		env->svc->free(env->mem, data);
		return ret;
	}

	v7s_init_leaf_attrs(data);

	/* Supersections only if the caller asked for 16M. */
	cfg->pgsize_bitmap &= V7S_PGSIZES;
	data->pgsize_bitmap = cfg->pgsize_bitmap;
	/* 2 * pa_limit - 1: every size up to 2^oas */
	if (data->coherent && !data->mtk)
		data->fast_pgsizes = data->pgsize_bitmap & (SZ_4K | SZ_1M) &
				     (2 * data->pa_limit - 1);

	/* TCR: T0SZ = 0, EAE = 0. */
	cfg->arm_v7s_cfg.tcr = 0;
	/* TEX remap (v7s-pte.h) */
	cfg->arm_v7s_cfg.prrr = V7S_PRRR_LINUX;
	cfg->arm_v7s_cfg.nmrr = V7S_NMRR_LINUX;

	ret = v7s_alloc_pgd(data, flags);
	if (!ret && (cfg->quirks & IOPGT_QUIRK_RECLAIM_TABLES)) {
		data->l2_refs = env->svc->zalloc(env->mem,
						 (data->l1_mask + 1) *
						 sizeof(*data->l2_refs));
		if (!data->l2_refs)
			ret = -ENOMEM;
	}
	if (ret) {
		v7s_free(&data->iop);
		return ret;
	}
	cfg->arm_v7s_cfg.ttbr = v7s_ttbr(data, data->pgd_pa);

	data->ttbr = cfg->arm_v7s_cfg.ttbr;
	data->tcr = cfg->arm_v7s_cfg.tcr;
	data->nmrr = cfg->arm_v7s_cfg.nmrr;
	data->prrr = cfg->arm_v7s_cfg.prrr;

	data->iop.cfg = *cfg;
	data->iop.root_pa = data->pgd_pa;
	data->iop.ops = (struct iopgt_ops){
		.map_pages = v7s_map_pages,
		.unmap_pages = v7s_unmap_pages,
		.iova_to_phys = data->mtk ? v7s_iova_to_phys_mtk :
					    v7s_iova_to_phys,
		.walk = v7s_walk,
		.describe_regs = v7s_describe_regs,
	};
	if (data->l2_refs) {
		data->iop.ops.map_pages = v7s_rc_map_pages;
		data->iop.ops.unmap_pages = v7s_rc_unmap_pages;
		data->iop.ops.iova_to_phys = v7s_rc_iova_to_phys;
	}
	*out = &data->iop;
	return 0;
}

/* Level-2 tables go with the cache that holds them (kmem_cache_destroy). */
static void v7s_free(struct iopgt_pgtable *iop)
{
	struct v7s_pgtable *data = container_of(iop, struct v7s_pgtable, iop);
	const struct iopgt_env *env = &data->env;
	struct iopgt_mem *mem = env->mem;
	const struct iopgt_host_services *svc = env->svc;

	v7s_l2_cache_destroy(&data->l2);
	if (data->pgd)
		svc->free_pages(mem, data->pgd, data->pgd_size);
	if (data->l2_refs)
		svc->free(mem, data->l2_refs);
	svc->free(mem, data);
}

/* ---- adopting a saved table (iopgt_pgtable_adopt) ------------------------ */

/* A leaf's output, all of it below 2^oas. */
static int v7s_adopt_check_leaf(struct v7s_pgtable *data, v7s_pte_t pte,
				int lvl, unsigned long iova)
{
	uint64_t oa = iopte_to_paddr(data, pte, v7s_leaf_mask(pte, lvl));
	uint64_t size = V7S_BLOCK_SIZE(lvl);

	if (v7s_pte_is_cont(pte, lvl))
		size *= V7S_CONT_PAGES;
	if (oa + size <= data->pa_limit)
		return 0;
	iopgt_env_warn(&data->env, "adopt: level-%d entry for iova 0x%lx: output 0x%llx: entry beyond oas %u",
		       lvl, iova, (unsigned long long)oa, data->iop.cfg.oas);
	return -EINVAL;
}

/* The level-2 table of level-1 slot i: taken, checked, counted. */
static int v7s_adopt_l2(struct v7s_pgtable *data,
			const struct iopgt_image_src *src, unsigned long i,
			v7s_pte_t l1)
{
	uint64_t pa = iopte_to_paddr(data, l1, V7S_PTE_TABLE_ADDR);
	unsigned long iova = i << V7S_LVL_SHIFT(1);
	unsigned int valid = 0;
	v7s_pte_t *table;
	int ret;

	if (pa + V7S_L2_TABLE_SIZE > data->table_pa_limit) {
		iopgt_env_warn(&data->env, "adopt: level-1 entry %lu: table at 0x%llx: entry beyond the table limit 0x%llx",
			       i, (unsigned long long)pa,
			       (unsigned long long)data->table_pa_limit);
		return -EINVAL;
	}
	table = src->claim(src, pa, V7S_L2_TABLE_SIZE, V7S_L2_PAGE_SIZE,
			   data->pgd_pa, &ret);
	if (!table)
		return ret;
	ret = v7s_l2_cache_adopt(&data->l2, table);
	for (unsigned int j = 0; !ret && j < V7S_L2_ENTRIES; j++) {
		if (!v7s_pte_is_valid(table[j]))
			continue;
		ret = v7s_adopt_check_leaf(data, table[j], 2,
					   iova + j * V7S_BLOCK_SIZE(2));
		valid++;
	}
	if (!ret && data->l2_refs)
		data->l2_refs[i] = (uint16_t)valid;
	return ret;
}

static int v7s_adopt_tables(struct v7s_pgtable *data,
			    const struct iopgt_image_src *src)
{
	uint64_t align = data->pgd_size < SZ_4K ? SZ_4K : data->pgd_size;
	int ret = 0;

	if (src->root_pa & (align - 1) ||
	    src->root_pa + data->pgd_size > data->table_pa_limit) {
		iopgt_env_warn(&data->env, "adopt: root 0x%llx not aligned to %llu or beyond the table limit 0x%llx",
			       (unsigned long long)src->root_pa,
			       (unsigned long long)align,
			       (unsigned long long)data->table_pa_limit);
		return -EINVAL;
	}
	data->pgd = src->claim(src, src->root_pa, data->pgd_size,
			       data->pgd_size, IOPGT_IMAGE_NO_PARENT, &ret);
	if (!data->pgd)
		return ret;
	data->pgd_pa = src->root_pa;
	for (unsigned long i = 0; !ret && i <= data->l1_mask; i++) {
		v7s_pte_t pte = data->pgd[i];

		if (v7s_pte_is_table(pte, 1))
			ret = v7s_adopt_l2(data, src, i, pte);
		else if (v7s_pte_is_valid(pte))
			ret = v7s_adopt_check_leaf(data, pte, 1,
						   i << V7S_LVL_SHIFT(1));
	}
	return ret;
}

/*
 * Everything but the tables is what alloc derives from the cfg, so alloc
 * runs first and its fresh level-1 table goes back at once: the saved one,
 * at the saved PA, takes its place.
 */
static int v7s_adopt(struct iopgt_cfg *cfg, void *cookie,
		     const struct iopgt_env *env,
		     const struct iopgt_image_src *src,
		     struct iopgt_pgtable **out)
{
	struct iopgt_pgtable *iop;
	struct v7s_pgtable *data;
	int ret;

	ret = v7s_alloc(cfg, cookie, env, &iop);
	if (ret)
		return ret;
	data = container_of(iop, struct v7s_pgtable, iop);
	env->svc->free_pages(env->mem, data->pgd, data->pgd_size);
	data->pgd = NULL;
	ret = v7s_adopt_tables(data, src);
	if (ret) {
		/* the tables claimed are the host's to take back */
		v7s_l2_cache_forget(&data->l2);
		data->pgd = NULL;
		v7s_free(&data->iop);
		return ret;
	}
	cfg->arm_v7s_cfg.ttbr = v7s_ttbr(data, data->pgd_pa);
	data->ttbr = cfg->arm_v7s_cfg.ttbr;
	data->iop.cfg = *cfg;
	data->iop.root_pa = data->pgd_pa;
	*out = &data->iop;
	return 0;
}

/* ---- plugin -------------------------------------------------------------- */

/* Name, alias and defaults (ias, oas, page sizes) once:
 * IOPGT_FORMAT_DEFINE_DEFAULTS also emits them as metadata. */
IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(v7s_format, "arm-v7s", "ARM_V7S",
	V7S_ADDR_BITS, V7S_ADDR_BITS, V7S_PGSIZES, &v7s_foreign_ops,
	.description = "ARM v7 short-descriptor: 4K/64K pages, 1M/16M sections",
	.alloc = v7s_alloc,
	.adopt = v7s_adopt,
	.free = v7s_free);

static int v7s_register(struct iopgt_registrar *reg)
{
	return reg->register_format(reg, &v7s_format);
}

/*
 * No IOPGT_PLUGIN_SOFTDEP: neither this format nor io-pgtable-arm uses
 * the other, so they load in any order (docs/formats/v7s.md).
 */
IOPGT_PLUGIN_DEFINE("io-pgtable-arm-v7s", "1.0",
		    "ARM v7 short-descriptor IOMMU page tables", "MIT",
		    v7s_register, NULL);
