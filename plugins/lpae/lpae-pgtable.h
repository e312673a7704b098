/* SPDX-License-Identifier: MIT */
/*
 * The LPAE formats' state and descriptor decoding, shared by the live table
 * (io-pgtable-arm.c) and the foreign walk (lpae-foreign.c).  A foreign walk
 * reads a table through the same struct lpae_pgtable geometry the live
 * table uses, with no tables of its own, so both readers of a descriptor
 * take its output address, type and level from one place and cannot drift
 * apart.  What lpae-pgtable.c defines is declared here; nothing in it calls
 * into either of the two files above.
 */
#ifndef LPAE_PGTABLE_H
#define LPAE_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iopgt/bits.h>
#include <iopgt/host-services.h>
#include <iopgt/pgtable.h>

#include "lpae-regs.h"

enum lpae_stage {
	LPAE_STAGE1,
	LPAE_STAGE2,
	LPAE_MALI,
};

enum lpae_fmt_id {
	LPAE_FMT_64_S1,
	LPAE_FMT_64_S2,
	LPAE_FMT_32_S1,
	LPAE_FMT_32_S2,
	LPAE_FMT_MALI,
};

/* What each of the five Linux allocators accepts. */
struct lpae_fmt_info {
	enum lpae_stage stage;
	unsigned long quirks;		/* accepted quirks */
	unsigned int max_ias;		/* 0: narrowed, never refused */
	unsigned int max_oas;
	bool small_pages;		/* bitmap &= 4K|2M|1G first */
	bool dirty;			/* read_and_clear_dirty allowed */
};

/* One entry per enum lpae_fmt_id (lpae-pgtable.c). */
extern const struct lpae_fmt_info lpae_fmt_info[];

/*
 * Per-table state.  The geometry is precomputed per level at alloc so the
 * hot paths are shifts, masks and table lookups: no divisions, no
 * per-level calls, no re-derivation of prot bits.
 */
/* The line size that sharing between threads is counted in. */
#define LPAE_CACHE_LINE	64

struct lpae_pgtable {
	struct iopgt_pgtable iop;

	/* hot: read by every map/unmap/iova_to_phys */
	lpae_pte_t *pgd;
	uint64_t pa_to_va;		/* env->pa_to_va, one load less */
	unsigned long pgsize_bitmap;
	unsigned int ias;
	unsigned int oas;
	long iaext_xor;			/* ~0 with TTBR1 */
	int start_level;
	int bits_per_level;
	/* a table entry a walker may follow without help: type, SW_SYNC */
	lpae_pte_t table_need;
	bool coherent;
	bool oa_hi;			/* oas > 48: PA[51:48] at [15:12] */
	unsigned long quirks;
	/*
	 * LPAE_PTE_ADDR_MASK, kept here so each level of a walk masks with
	 * one memory operand instead of materialising a 64-bit constant.
	 */
	lpae_pte_t addr_mask;
	/* per level l: */
	uint8_t lvl_shift[LPAE_MAX_LEVELS];	/* LVL_SHIFT(l) */
	lpae_pte_t leaf_type[LPAE_MAX_LEVELS];	/* type bits of a leaf */
	unsigned long lvl_offset[LPAE_MAX_LEVELS];	/* BLOCK_SIZE - 1 */
	uint32_t lvl_entries[LPAE_MAX_LEVELS];	/* batch limit */
	unsigned long lvl_mask[LPAE_MAX_LEVELS];	/* LVL_IDX mask */
	int8_t size_lvl[64];		/* log2(pgsize) -> level, or -1 */
	lpae_pte_t table_attr;		/* TYPE_TABLE, NSTABLE with NS */
	lpae_pte_t prot_pte[64];	/* IOMMU_* prot -> leaf attributes */

	/* cold */
	const struct iopgt_flush_ops *tlb;
	void *cookie;
	struct iopgt_env env;
	enum lpae_fmt_id id;
	enum lpae_stage stage;
	int pgd_bits;
	size_t pgd_size;		/* PGD_SIZE: 8 << pgd_bits */
	size_t pgd_alloc;		/* what was asked of the host */
	/*
	 * Written by any thread that adds or frees a table: a cache line
	 * away from everything above, or each table one thread adds would
	 * cost the others a miss on fields they read on every op.
	 */
	char gap[LPAE_CACHE_LINE];
	size_t nr_tables;		/* tables held, pgd included */
	int warned_partial;		/* WARN_ONCE for partial unmaps */
};

/* ---- geometry (Linux's macros, once each) -------------------------------- */

/* Bits of iova translated below level l: (4 - l) * bpl + log2(8). */
#define LPAE_LVL_SHIFT(l, bpl)	((LPAE_MAX_LEVELS - (l)) * (bpl) + 3)
/* Bytes one entry at level l maps. */
#define LPAE_BLOCK_SIZE(d, l)	(1UL << (d)->lvl_shift[l])
/* Bytes of one granule-sized table: 8 bytes per entry, 2^bpl entries. */
#define LPAE_GRANULE(d)		(8UL << (d)->bits_per_level)
/* Entries in one granule-sized table. */
#define LPAE_PTES_PER_TABLE(d)	(1UL << (d)->bits_per_level)
/* Index of addr at level l (the pgd index may span several tables). */
#define LPAE_LVL_IDX(d, a, l)	\
	(((a) >> (d)->lvl_shift[l]) & (d)->lvl_mask[l])

/* ---- descriptors --------------------------------------------------------- */

/*
 * The output address in a descriptor: PA[47:12] in place, and with a 64K
 * granule PA[51:48] folded into PTE[15:12] (the 52-bit PA encoding).
 */
static inline lpae_pte_t paddr_to_pte(uint64_t pa)
{
	return (pa | pa >> 36) & LPAE_PTE_ADDR_MASK;
}

/*
 * Inverse of paddr_to_pte.  Only a 64K table with oas > 48 can hold
 * PA[51:48] in PTE[15:12]; everywhere else those bits are zero.
 */
static inline uint64_t pte_to_paddr(const struct lpae_pgtable *d,
				    lpae_pte_t pte)
{
	uint64_t x = pte & d->addr_mask;

	if (unlikely(d->oa_hi))
		x = (x | x << 36) & GENMASK_ULL(51, 16);
	return x;
}

static inline bool pte_is_leaf(const struct lpae_pgtable *d, lpae_pte_t pte,
			       int lvl)
{
	return (pte & LPAE_PTE_TYPE_MASK) == d->leaf_type[lvl];
}

static inline bool pte_is_table(lpae_pte_t pte, int lvl)
{
	return lvl < LPAE_MAX_LEVELS - 1 &&
	       (pte & LPAE_PTE_TYPE_MASK) == LPAE_PTE_TYPE_TABLE;
}

/* Entries of the table at level l, pgd included. */
static inline size_t lpae_table_entries(const struct lpae_pgtable *d, int lvl)
{
	return lvl == d->start_level ? (size_t)1 << d->pgd_bits :
				       LPAE_PTES_PER_TABLE(d);
}

static inline bool lpae_iova_in_range(const struct lpae_pgtable *d,
				      unsigned long iova)
{
	return !(((long)iova >> d->ias) ^ d->iaext_xor);
}

/* ---- lpae-pgtable.c ------------------------------------------------------ */

/* Per-level lookups and prot_pte[] of a table whose geometry is set. */
void lpae_init_lookup(struct lpae_pgtable *d, const struct iopgt_cfg *cfg);
/* The IOMMU_* bits a leaf grants: the inverse of the prot -> pte table. */
int lpae_pte_to_prot(const struct lpae_pgtable *d, lpae_pte_t pte);

#endif /* LPAE_PGTABLE_H */
