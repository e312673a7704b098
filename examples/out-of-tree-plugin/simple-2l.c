// SPDX-License-Identifier: MIT
/*
 * simple-2l: a small two-level page-table format, built outside the iopgt
 * tree as an example plugin (docs/writing-a-format.md walks through it).
 * No real IOMMU uses it, but it is complete: the same contract as the
 * Linux-derived formats, in a few hundred lines.
 *
 * Supported:
 * - 32-bit iova and PA (ias and oas 22..32); tables below 4 GiB
 * - a 4 KiB level-1 table of 1024 entries, each a 4 MiB block or a pointer
 *   to a 4 KiB level-2 table of 1024 entries, each a 4 KiB page
 * - read and write permission bits
 * - map_pages of pgcount pages; 4 KiB pages stop at the end of a level-2
 *   table with 0 (partial progress: the caller loops)
 * - unmap_pages of pages, of blocks, and of a whole level-2 table with a
 *   4 MiB unmap; a level-2 table is freed when its last page goes
 * - TLB callbacks: tlb_add_page per leaf into a gather that is not queued
 *   (none without a gather: pgtable.h), tlb_flush_walk when a level-2 table
 *   goes
 * - non-coherent walkers: every table write is followed by a dma_sync
 *
 * Not supported:
 * - quirks (alloc fails with -EINVAL), cache, execute-never and privilege
 *   attributes (IOMMU_CACHE, NOEXEC, MMIO and PRIV are ignored)
 * - unmapping part of a 4 MiB block (returns 0 and keeps it, as Linux)
 * - a block over a level-2 table on map (-EEXIST: unmap first)
 * - map and unmap on one table from several threads at once
 * - dirty tracking
 */
#define pr_fmt(fmt) "simple-2l: " fmt

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <iopgt/bits.h>
#include <iopgt/host-services.h>
#include <iopgt/pgtable.h>
#include <iopgt/plugin.h>

typedef uint32_t s2l_pte_t;

/* ---- geometry ------------------------------------------------------------ */

/* Widest iova and PA: every address and table pointer is 32 bits. */
#define S2L_ADDR_BITS		32
/* Narrowest ias and oas: one level-1 entry, one block. */
#define S2L_ADDR_BITS_MIN	22
/* Lowest iova bit a level resolves: 22 (level 1) or 12 (level 2). */
#define S2L_LVL_SHIFT(lvl)	((lvl) == 1 ? 22 : 12)
/* Bytes one entry of a level maps: 4 MiB or 4 KiB. */
#define S2L_LVL_SIZE(lvl)	(1UL << S2L_LVL_SHIFT(lvl))
#define S2L_BLOCK_SIZE		S2L_LVL_SIZE(1)
#define S2L_PAGE_SIZE		S2L_LVL_SIZE(2)
/* Entries in a table, at either level. */
#define S2L_PTES		1024
/* Bytes of a table, at either level: one 4 KiB page. */
#define S2L_TABLE_SIZE		(S2L_PTES * sizeof(s2l_pte_t))
/* Index of an iova in its table at a level. */
#define S2L_LVL_IDX(iova, lvl) \
	(((iova) >> S2L_LVL_SHIFT(lvl)) & (S2L_PTES - 1))
#define S2L_PGSIZES		(S2L_PAGE_SIZE | S2L_BLOCK_SIZE)

/* ---- descriptors ----------------------------------------------------------
 * level 1 block:  [31:22] PA        [3] W [2] R [1] 0 [0] valid
 * level 1 table:  [31:12] table PA              [1] 1 [0] valid
 * level 2 page:   [31:12] PA        [3] W [2] R [1] 0 [0] valid
 */
#define S2L_PTE_VALID		BIT(0)
#define S2L_PTE_TABLE		BIT(1)		/* level 1 only */
#define S2L_PTE_READ		BIT(2)
#define S2L_PTE_WRITE		BIT(3)
#define S2L_PTE_TABLE_ADDR	GENMASK(31, 12)
/* Output-address bits of a leaf at a level: [31:22] or [31:12]. */
#define S2L_PTE_ADDR(lvl)	GENMASK(31, S2L_LVL_SHIFT(lvl))

/* ---- TTBR: the level-1 table and how the walker reads it ---------------- */
#define S2L_TTBR_COHERENT	BIT(0)		/* walker snoops CPU caches */
#define S2L_TTBR_ADDR		GENMASK(31, 12)

struct s2l_pgtable {
	struct iopgt_pgtable iop;
	struct iopgt_env env;		/* the host's; valid until free */
	s2l_pte_t *l1;
	uint64_t iova_limit;		/* 1 << ias */
	uint64_t pa_limit;		/* 1 << oas */
	unsigned long pgsize_bitmap;
	bool coherent;
	const struct iopgt_flush_ops *tlb;	/* NULL, or members NULL */
	void *cookie;
	uint32_t ttbr;
	/*
	 * Valid entries of each level-2 table, by level-1 index: a table
	 * exists exactly while it maps something.
	 */
	uint16_t l2_used[S2L_PTES];
};

#define to_s2l(ops) \
	container_of(iopgt_ops_to_pgtable(ops), struct s2l_pgtable, iop)

/* ---- descriptor helpers -------------------------------------------------- */

static inline bool s2l_pte_is_table(s2l_pte_t pte, int lvl)
{
	return lvl == 1 && (pte & S2L_PTE_VALID) && (pte & S2L_PTE_TABLE);
}

static s2l_pte_t s2l_mk_leaf(uint64_t paddr, int lvl, int prot)
{
	s2l_pte_t pte = (s2l_pte_t)(paddr & S2L_PTE_ADDR(lvl)) | S2L_PTE_VALID;

	if (prot & IOMMU_READ)
		pte |= S2L_PTE_READ;
	if (prot & IOMMU_WRITE)
		pte |= S2L_PTE_WRITE;
	return pte;
}

/* The inverse of s2l_mk_leaf's prot, for the walk: R and W only. */
static int s2l_leaf_to_prot(s2l_pte_t pte)
{
	int prot = 0;

	if (pte & S2L_PTE_READ)
		prot |= IOMMU_READ;
	if (pte & S2L_PTE_WRITE)
		prot |= IOMMU_WRITE;
	return prot;
}

static inline uint64_t s2l_leaf_to_paddr(s2l_pte_t pte, int lvl)
{
	return pte & S2L_PTE_ADDR(lvl);
}

static inline s2l_pte_t *s2l_table_va(const struct s2l_pgtable *d,
				      s2l_pte_t pte)
{
	return iopgt_phys_to_virt(&d->env, pte & S2L_PTE_TABLE_ADDR);
}

/* Make n entries from ptep visible to a non-coherent walker. */
static void s2l_sync(const struct s2l_pgtable *d, const void *ptep, size_t n)
{
	if (!d->coherent && n)
		d->env.svc->dma_sync(d->env.mem, ptep, n * sizeof(s2l_pte_t));
}

/*
 * Queue a leaf invalidation, as io_pgtable_tlb_add_page(), into a gather
 * the caller passed and a later flush_all does not cover (pgtable.h: a
 * NULL gather means the caller invalidates by other means).
 */
static void s2l_tlb_add_page(const struct s2l_pgtable *d,
			     struct iopgt_iotlb_gather *gather,
			     unsigned long iova, size_t size)
{
	if (gather && !gather->queued && d->tlb && d->tlb->tlb_add_page)
		d->tlb->tlb_add_page(gather, iova, size, d->cookie);
}

/* ---- table memory -------------------------------------------------------- */

/* A zeroed table below 4 GiB: table pointers hold 32 bits of PA. */
static s2l_pte_t *s2l_alloc_table(const struct s2l_pgtable *d)
{
	const struct iopgt_env *env = &d->env;
	s2l_pte_t *table;

	table = env->svc->alloc_pages(env->mem, S2L_TABLE_SIZE,
				      IOPGT_MEM_DMA32);
	if (!table)
		return NULL;
	if (IOPGT_WARN_ON(env, iopgt_virt_to_phys(env, table) >
			       S2L_PTE_TABLE_ADDR)) {
		env->svc->free_pages(env->mem, table, S2L_TABLE_SIZE);
		return NULL;
	}
	/* Clean for the walker before anything points to it. */
	s2l_sync(d, table, S2L_PTES);
	return table;
}

static void s2l_free_table(const struct s2l_pgtable *d, s2l_pte_t *table)
{
	d->env.svc->free_pages(d->env.mem, table, S2L_TABLE_SIZE);
}

/* The level-2 table under *l1p, made if the entry is empty. */
static int s2l_get_l2(struct s2l_pgtable *d, s2l_pte_t *l1p, s2l_pte_t **l2)
{
	s2l_pte_t *table;

	if (s2l_pte_is_table(*l1p, 1)) {
		*l2 = s2l_table_va(d, *l1p);
		return 0;
	}
	if (*l1p & S2L_PTE_VALID)
		return -EEXIST;			/* a 4 MiB block is there */
	table = s2l_alloc_table(d);
	if (!table)
		return -ENOMEM;
	*l1p = (s2l_pte_t)iopgt_virt_to_phys(&d->env, table) |
	       S2L_PTE_TABLE | S2L_PTE_VALID;
	s2l_sync(d, l1p, 1);
	*l2 = table;
	return 0;
}

/*
 * Clear a level-1 entry that points to a level-2 table, flush the walk
 * caches for its 4 MiB, then free the table with whatever it still maps.
 */
static void s2l_remove_l2(struct s2l_pgtable *d, s2l_pte_t *l1p,
			  unsigned long iova)
{
	s2l_pte_t pte = *l1p;

	*l1p = 0;
	s2l_sync(d, l1p, 1);
	if (d->tlb && d->tlb->tlb_flush_walk)
		d->tlb->tlb_flush_walk(iova, S2L_BLOCK_SIZE, S2L_PAGE_SIZE,
				       d->cookie);
	d->l2_used[S2L_LVL_IDX(iova, 1)] = 0;
	s2l_free_table(d, s2l_table_va(d, pte));
}

/* ---- map ----------------------------------------------------------------- */

static int s2l_eexist(const struct s2l_pgtable *d, unsigned long iova)
{
	iopgt_env_warn(&d->env, "map: iova %#lx is already mapped", iova);
	return -EEXIST;
}

/*
 * Is pgsize one of the table's sizes, and do pgcount pages of it from iova
 * (and from paddr, when mapping) fit below ias (and oas) and align?
 * Returns: 0, -EINVAL (size, alignment) or -ERANGE (beyond ias or oas).
 */
static int s2l_check_range(const struct s2l_pgtable *d, unsigned long iova,
			   uint64_t paddr, size_t pgsize, size_t pgcount)
{
	if (!pgcount || (pgsize & d->pgsize_bitmap) != pgsize ||
	    (pgsize & (pgsize - 1)))
		return -EINVAL;
	if (iova >= d->iova_limit || paddr >= d->pa_limit ||
	    pgcount > (d->iova_limit - iova) / pgsize ||
	    pgcount > (d->pa_limit - paddr) / pgsize)
		return -ERANGE;
	if ((iova | paddr) & (pgsize - 1))
		return -EINVAL;
	return 0;
}

/* pgcount 4 MiB blocks: all in the one level-1 table. */
static int s2l_map_blocks(struct s2l_pgtable *d, unsigned long iova,
			  uint64_t paddr, size_t pgcount, int prot,
			  size_t *mapped)
{
	s2l_pte_t *ptep = &d->l1[S2L_LVL_IDX(iova, 1)];
	size_t i;
	int ret = 0;

	for (i = 0; i < pgcount; i++) {
		if (ptep[i] & S2L_PTE_VALID) {
			ret = s2l_eexist(d, iova + i * S2L_BLOCK_SIZE);
			break;
		}
		ptep[i] = s2l_mk_leaf(paddr + i * S2L_BLOCK_SIZE, 1, prot);
	}
	s2l_sync(d, ptep, i);
	*mapped += i * S2L_BLOCK_SIZE;
	return ret;
}

/*
 * 4 KiB pages up to the end of the level-2 table that holds iova.  The
 * rest is the caller's next call: returning 0 with fewer than pgcount
 * pages mapped is partial progress, not an error.
 */
static int s2l_map_small(struct s2l_pgtable *d, unsigned long iova,
			 uint64_t paddr, size_t pgcount, int prot,
			 size_t *mapped)
{
	unsigned long l1_idx = S2L_LVL_IDX(iova, 1);
	size_t first = S2L_LVL_IDX(iova, 2);
	size_t n = pgcount < S2L_PTES - first ? pgcount : S2L_PTES - first;
	s2l_pte_t *ptep;
	size_t i;
	int ret;

	ret = s2l_get_l2(d, &d->l1[l1_idx], &ptep);
	if (ret)
		return ret == -EEXIST ? s2l_eexist(d, iova) : ret;
	ptep += first;
	for (i = 0; i < n; i++) {
		if (ptep[i] & S2L_PTE_VALID) {
			ret = s2l_eexist(d, iova + i * S2L_PAGE_SIZE);
			break;
		}
		ptep[i] = s2l_mk_leaf(paddr + i * S2L_PAGE_SIZE, 2, prot);
	}
	d->l2_used[l1_idx] += (uint16_t)i;
	s2l_sync(d, ptep, i);
	*mapped += i * S2L_PAGE_SIZE;
	return ret;
}

static int s2l_map_pages(struct iopgt_ops *ops, unsigned long iova,
			 uint64_t paddr, size_t pgsize, size_t pgcount,
			 int prot, size_t *mapped)
{
	struct s2l_pgtable *d = to_s2l(ops);
	int ret;

	ret = s2l_check_range(d, iova, paddr, pgsize, pgcount);
	if (ret) {
		iopgt_env_warn(&d->env,
			       "map: %zu x %#zx from iova %#lx to %#llx: %s",
			       pgcount, pgsize, iova, (unsigned long long)paddr,
			       ret == -ERANGE ? "beyond ias or oas" :
			       "bad page size or alignment");
		return ret;
	}
	/* No permission at all cannot be expressed: refuse. */
	if (!(prot & (IOMMU_READ | IOMMU_WRITE)))
		return -EINVAL;
	if (pgsize == S2L_BLOCK_SIZE)
		return s2l_map_blocks(d, iova, paddr, pgcount, prot, mapped);
	return s2l_map_small(d, iova, paddr, pgcount, prot, mapped);
}

/* ---- unmap --------------------------------------------------------------- */

/*
 * A hole is said only at the first page of a call (first): later it just
 * ends the batch, and the caller's next call, at the hole, says it once.
 */
static size_t s2l_unmap_hole(const struct s2l_pgtable *d, unsigned long iova,
			     bool first)
{
	if (first)
		iopgt_env_warn(&d->env, "unmap: iova %#lx is not mapped",
			       iova);
	return 0;
}

/* A 4 MiB entry: a block, or a level-2 table with all it maps. */
static size_t s2l_unmap_block(struct s2l_pgtable *d, unsigned long iova,
			      struct iopgt_iotlb_gather *gather, bool first)
{
	s2l_pte_t *l1p = &d->l1[S2L_LVL_IDX(iova, 1)];

	if (!(*l1p & S2L_PTE_VALID))
		return s2l_unmap_hole(d, iova, first);
	if (s2l_pte_is_table(*l1p, 1)) {
		s2l_remove_l2(d, l1p, iova);
		return S2L_BLOCK_SIZE;
	}
	*l1p = 0;
	s2l_sync(d, l1p, 1);
	s2l_tlb_add_page(d, gather, iova, S2L_BLOCK_SIZE);
	return S2L_BLOCK_SIZE;
}

/* A 4 KiB page; its level-2 table goes with its last page. */
static size_t s2l_unmap_small(struct s2l_pgtable *d, unsigned long iova,
			      struct iopgt_iotlb_gather *gather, bool first)
{
	unsigned long l1_idx = S2L_LVL_IDX(iova, 1);
	s2l_pte_t *l1p = &d->l1[l1_idx];
	s2l_pte_t *ptep;

	if (!(*l1p & S2L_PTE_VALID))
		return s2l_unmap_hole(d, iova, first);
	if (!s2l_pte_is_table(*l1p, 1)) {
		if (first)
			iopgt_env_warn(&d->env,
				       "unmap: iova %#lx is part of a 4 MiB block",
				       iova);
		return 0;
	}
	ptep = s2l_table_va(d, *l1p) + S2L_LVL_IDX(iova, 2);
	if (!(*ptep & S2L_PTE_VALID))
		return s2l_unmap_hole(d, iova, first);
	*ptep = 0;
	s2l_sync(d, ptep, 1);
	s2l_tlb_add_page(d, gather, iova, S2L_PAGE_SIZE);
	if (--d->l2_used[l1_idx] == 0)
		s2l_remove_l2(d, l1p, iova & ~(S2L_BLOCK_SIZE - 1));
	return S2L_PAGE_SIZE;
}

static size_t s2l_unmap_pages(struct iopgt_ops *ops, unsigned long iova,
			      size_t pgsize, size_t pgcount,
			      struct iopgt_iotlb_gather *gather)
{
	struct s2l_pgtable *d = to_s2l(ops);
	size_t unmapped = 0;

	if (s2l_check_range(d, iova, 0, pgsize, pgcount)) {
		iopgt_env_warn(&d->env,
			       "unmap: %zu x %#zx from iova %#lx: bad page size, alignment or range",
			       pgcount, pgsize, iova);
		return 0;
	}
	while (pgcount--) {
		size_t n = pgsize == S2L_BLOCK_SIZE ?
			   s2l_unmap_block(d, iova, gather, !unmapped) :
			   s2l_unmap_small(d, iova, gather, !unmapped);

		if (!n)
			break;
		unmapped += n;
		iova += n;
	}
	return unmapped;
}

/* ---- iova_to_phys -------------------------------------------------------- */

static uint64_t s2l_iova_to_phys(struct iopgt_ops *ops, unsigned long iova)
{
	struct s2l_pgtable *d = to_s2l(ops);
	s2l_pte_t pte;
	int lvl = 1;

	if (iova >= d->iova_limit)
		return 0;
	pte = d->l1[S2L_LVL_IDX(iova, 1)];
	if (s2l_pte_is_table(pte, 1)) {
		pte = s2l_table_va(d, pte)[S2L_LVL_IDX(iova, 2)];
		lvl = 2;
	}
	if (!(pte & S2L_PTE_VALID))
		return 0;
	return s2l_leaf_to_paddr(pte, lvl) | (iova & (S2L_LVL_SIZE(lvl) - 1));
}

/* ---- walk and registers -------------------------------------------------- */

static int s2l_visit_entry(const struct iopgt_walk_ops *visit, void *data,
			   s2l_pte_t pte, int lvl, unsigned int idx,
			   unsigned long iova)
{
	struct iopgt_walk_entry e = {
		.level = lvl,
		.index = idx,
		.iova = iova,
		.size = S2L_LVL_SIZE(lvl),
		.raw = pte,
		.oa = s2l_leaf_to_paddr(pte, lvl),
		.kind = IOPGT_ENTRY_LEAF,
		.prot = s2l_leaf_to_prot(pte),
	};

	if (s2l_pte_is_table(pte, lvl)) {
		e.kind = IOPGT_ENTRY_TABLE;
		e.oa = pte & S2L_PTE_TABLE_ADDR;
		e.prot = 0;
	}
	return visit->entry ? visit->entry(data, &e) : 0;
}

/* One table and its valid entries; level-2 tables recursively. */
static int s2l_walk_table(const struct s2l_pgtable *d,
			  const struct iopgt_walk_ops *visit, void *data,
			  const s2l_pte_t *table, int lvl, unsigned long iova)
{
	uint64_t pa = iopgt_virt_to_phys(&d->env, table);
	int ret = 0;

	if (visit->table)
		ret = visit->table(data, pa, table, S2L_TABLE_SIZE, lvl);
	for (unsigned int i = 0; !ret && i < S2L_PTES; i++) {
		unsigned long va = iova + i * S2L_LVL_SIZE(lvl);

		if (!(table[i] & S2L_PTE_VALID))
			continue;
		ret = s2l_visit_entry(visit, data, table[i], lvl, i, va);
		if (!ret && s2l_pte_is_table(table[i], lvl))
			ret = s2l_walk_table(d, visit, data,
					     s2l_table_va(d, table[i]), 2, va);
	}
	if (!ret && visit->table_end)
		ret = visit->table_end(data, pa, lvl);
	return ret;
}

static int s2l_walk(struct iopgt_ops *ops, const struct iopgt_walk_ops *visit,
		    void *data)
{
	struct s2l_pgtable *d = to_s2l(ops);

	return s2l_walk_table(d, visit, data, d->l1, 1, 0);
}

static void s2l_describe_regs(struct iopgt_ops *ops, iopgt_reg_fn fn,
			      void *data)
{
	fn(data, "ttbr", to_s2l(ops)->ttbr);
}

/* ---- alloc and free ------------------------------------------------------ */

/*
 * Each refusal says why, as a warning: the host passes it on as the reason
 * of the failed call (a debug message would stay hidden).
 */
static int s2l_check_cfg(const struct iopgt_cfg *cfg,
			 const struct iopgt_env *env)
{
	if (cfg->quirks) {
		iopgt_env_warn(env, "alloc: quirks %#lx are not supported",
			       cfg->quirks);
		return -EINVAL;
	}
	if (cfg->ias < S2L_ADDR_BITS_MIN || cfg->ias > S2L_ADDR_BITS ||
	    cfg->oas < S2L_ADDR_BITS_MIN || cfg->oas > S2L_ADDR_BITS) {
		iopgt_env_warn(env, "alloc: ias %u or oas %u is not in [%u, %u]",
			       cfg->ias, cfg->oas, S2L_ADDR_BITS_MIN,
			       S2L_ADDR_BITS);
		return -EINVAL;
	}
	if (!(cfg->pgsize_bitmap & S2L_PGSIZES)) {
		iopgt_env_warn(env, "alloc: pgsize_bitmap %#lx has neither 4K nor 4M",
			       cfg->pgsize_bitmap);
		return -EINVAL;
	}
	return 0;
}

static int s2l_alloc(struct iopgt_cfg *cfg, void *cookie,
		     const struct iopgt_env *env, struct iopgt_pgtable **out)
{
	struct s2l_pgtable *d;
	uint64_t l1_pa;
	int ret;

	ret = s2l_check_cfg(cfg, env);
	if (ret)
		return ret;
	d = env->svc->zalloc(env->mem, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->env = *env;
	d->coherent = cfg->coherent_walk;
	d->l1 = s2l_alloc_table(d);
	if (!d->l1) {
		env->svc->free(env->mem, d);
		return -ENOMEM;
	}

	/* cfg is in/out: narrow it to what the format does. */
	cfg->pgsize_bitmap &= S2L_PGSIZES;
	d->pgsize_bitmap = cfg->pgsize_bitmap;
	d->iova_limit = 1ULL << cfg->ias;
	d->pa_limit = 1ULL << cfg->oas;
	d->tlb = cfg->tlb;
	d->cookie = cookie;

	l1_pa = iopgt_virt_to_phys(env, d->l1);
	d->ttbr = (uint32_t)(l1_pa & S2L_TTBR_ADDR);
	if (d->coherent)
		d->ttbr |= S2L_TTBR_COHERENT;
	cfg->regs[0] = d->ttbr;

	d->iop.root_pa = l1_pa;
	d->iop.ops = (struct iopgt_ops){
		.map_pages = s2l_map_pages,
		.unmap_pages = s2l_unmap_pages,
		.iova_to_phys = s2l_iova_to_phys,
		.walk = s2l_walk,
		.describe_regs = s2l_describe_regs,
	};
	*out = &d->iop;
	return 0;
}

/* The host has called tlb_flush_all: just give everything back. */
static void s2l_free(struct iopgt_pgtable *iop)
{
	struct s2l_pgtable *d = container_of(iop, struct s2l_pgtable, iop);
	struct iopgt_env env = d->env;

	for (unsigned int i = 0; i < S2L_PTES; i++)
		if (s2l_pte_is_table(d->l1[i], 1))
			s2l_free_table(d, s2l_table_va(d, d->l1[i]));
	s2l_free_table(d, d->l1);
	env.svc->free(env.mem, d);
}

/* ---- plugin -------------------------------------------------------------- */

/*
 * The format, and the metadata that lets `alloc t simple-2l` (or
 * SIMPLE_2L) find this file before loading it and `iopgt-host formats`
 * show its defaults (ias, oas, page sizes): each written once.
 */
IOPGT_FORMAT_DEFINE_DEFAULTS(s2l_format, "simple-2l", "SIMPLE_2L",
	S2L_ADDR_BITS, S2L_ADDR_BITS, S2L_PGSIZES,
	.description = "example two-level 32-bit format: 4K pages, 4M blocks",
	.alloc = s2l_alloc,
	.free = s2l_free);

static int s2l_register(struct iopgt_registrar *reg)
{
	return reg->register_format(reg, &s2l_format);
}

IOPGT_PLUGIN_DEFINE("simple-2l", "1.0",
		    "Example out-of-tree format: two levels, 32 bits", "MIT",
		    s2l_register, NULL);
