/* SPDX-License-Identifier: MIT */
/*
 * One shadow model of what map_pages, unmap_pages and iova_to_phys do to a
 * page table: the table's structure without its bits.  Slots are keyed by
 * (level, index); each is a table or a leaf (its PA).
 *
 * The algorithm is written once.  What differs between formats is a small
 * description (struct pt_model_desc): the geometry (levels, iova bits per
 * level, page sizes, ias/oas) and a few rules, each a flag named for what
 * it does (a map stops at the end of a table, a block replaces a table,
 * part of a block cannot be unmapped...), plus the order in which map
 * checks its arguments.  The in-tree random tests, the fuzz target and
 * iopgt-conformance all use it; none has a model of its own.
 *
 * Uses GLib and the public headers only (iopgt-conformance is installed).
 */
#ifndef IOPGT_PT_MODEL_H
#define IOPGT_PT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <iopgt/pgtable.h>

#define PT_MAX_LEVELS	16	/* the slot key has 4 bits of level */

/* ---- rules --------------------------------------------------------------- */

/* map_pages returns 0 after the last entry of a table: the caller loops. */
#define PT_MAP_STOPS_AT_TABLE_END	(1U << 0)
/* unmap_pages returns the bytes up to the end of a table, likewise. */
#define PT_UNMAP_STOPS_AT_TABLE_END	(1U << 1)
/*
 * -EEXIST is decided for the whole batch before any entry is written
 * (LPAE); without it pages are written one by one and a map that fails
 * part way reports the pages before the failure in *mapped (v7s).
 */
#define PT_MAP_CHECKS_BATCH_FIRST	(1U << 2)
/* A block mapped over a table frees the table and all below it (Linux);
 * without it, any table there is -EEXIST. */
#define PT_MAP_BLOCK_REPLACES_TABLE	(1U << 3)
/* Unmapping part of a block splits the block into next-level entries and
 * unmaps the part (Linux before 6.x); without it the unmap returns 0. */
#define PT_UNMAP_SPLITS_BLOCKS		(1U << 4)
/* A table goes when its last entry goes (IOPGT_QUIRK_RECLAIM_TABLES). */
#define PT_RECLAIMS_TABLES		(1U << 5)
/*
 * The range check covers all pgcount pages: iova and PA ends past ias or
 * oas are -ERANGE (and unmap returns 0).  Without it only the PA end of
 * the batch is checked (LPAE: a batch never leaves its table).
 */
#define PT_RANGE_CHECKS_WHOLE_COUNT	(1U << 6)

/*
 * map_pages' argument checks, in the order the format makes them: the
 * first that fails decides the error.
 */
enum pt_check {
	PT_CHECK_NONE,		/* ends the list */
	PT_CHECK_PGSIZE,	/* one size of pgsize_bitmap: else -EINVAL */
	PT_CHECK_START,		/* iova within ias, PA within oas: -ERANGE */
	PT_CHECK_PROT,		/* IOMMU_READ or IOMMU_WRITE: -EINVAL */
	PT_CHECK_COUNT,		/* pgcount > 0: -EINVAL */
	PT_CHECK_ALIGN,		/* iova, PA aligned, a level maps it: -EINVAL */
	PT_CHECK_END,		/* see PT_RANGE_CHECKS_WHOLE_COUNT: -ERANGE */
};

struct pt_model_desc {
	int first, last;		/* levels of the root and the leaves */
	unsigned int shift[PT_MAX_LEVELS];	/* iova bits below an entry */
	unsigned int bits[PT_MAX_LEVELS];	/* index bits of a table */
	unsigned int batch_bits[PT_MAX_LEVELS];	/* entries a batch spans */
	unsigned long pgsize_bitmap;
	/* sizes mapped as a run of smaller entries (v7s: 64K and 16M) */
	unsigned long cont_bitmap;
	unsigned int ias, oas;
	bool upper;			/* iova sign-extended from ias (TTBR1) */
	unsigned int rules;		/* PT_* above */
	enum pt_check map_checks[8];
};

/* ---- the model ----------------------------------------------------------- */

enum pt_slot_kind { PT_SLOT_TABLE = 1, PT_SLOT_LEAF = 2 };

struct pt_slot {
	enum pt_slot_kind kind;
	unsigned int cont;	/* entries of the page it belongs to (v7s 16) */
	unsigned int children;	/* a table's slots in use */
	uint64_t pa;		/* a leaf's, for this slot's first byte */
};

/* What the TLB must have been told, counted since pt_model_init(). */
struct pt_model_stats {
	unsigned long leaf_entries_removed;	/* by unmap: tlb_add_page */
	unsigned long tables_removed;		/* tlb_flush_walk */
};

struct pt_model {
	struct pt_model_desc d;
	GHashTable *slots;		/* key(level, index) -> struct pt_slot */
	unsigned long va_mask;		/* iova bits the tables index */
	unsigned long leaves, tables;	/* slots of each kind */
	struct pt_model_stats stats;
};

void pt_model_init(struct pt_model *m, const struct pt_model_desc *desc);
void pt_model_clear(struct pt_model *m);

/*
 * map_pages / unmap_pages / iova_to_phys as the described format does them.
 * Returns: as the ops in pgtable.h (*mapped +=).
 */
int pt_model_map(struct pt_model *m, unsigned long iova, uint64_t pa,
		 size_t pgsize, size_t count, int prot, size_t *mapped);
size_t pt_model_unmap(struct pt_model *m, unsigned long iova, size_t pgsize,
		      size_t count);
uint64_t pt_model_iova_to_phys(const struct pt_model *m, unsigned long iova);

/*
 * iommu_map()/iommu_unmap() over the model: the host's page-size split,
 * its loop on partial progress and its unmap on failure
 * (iopgt_pgtable_map/unmap in host.h).
 */
int pt_model_iommu_map(struct pt_model *m, unsigned long iova, uint64_t pa,
		       size_t size, int prot);
size_t pt_model_iommu_unmap(struct pt_model *m, unsigned long iova,
			    size_t size);
/* Entries iommu_map would write, stopping early past limit; 0: it fails. */
size_t pt_model_iommu_map_cost(const struct pt_model *m, unsigned long iova,
			       uint64_t pa, size_t size, size_t limit);

/* The level and entry count of a page size, or -1 if no level maps it. */
int pt_model_level(const struct pt_model *m, size_t pgsize,
		   unsigned int *entries);
static inline unsigned long pt_model_block(const struct pt_model *m, int lvl)
{
	return 1UL << m->d.shift[lvl];
}

/* The slot at (lvl, iova), or NULL. */
const struct pt_slot *pt_model_slot(const struct pt_model *m, int lvl,
				    unsigned long iova);
/* Is any leaf mapped in [iova, iova + size)? */
bool pt_model_any_leaf(const struct pt_model *m, unsigned long iova,
		       size_t size);

typedef void (*pt_model_slot_fn)(void *data, int lvl, unsigned long iova,
				 const struct pt_slot *slot);
/* Every slot, in no particular order; iova is the slot's first. */
void pt_model_foreach(const struct pt_model *m, pt_model_slot_fn fn,
		      void *data);

/*
 * Does a walk entry (ops.walk) match the model?  A large v7s-style entry
 * is reported by each of its slots with the first one's iova and PA.
 * Returns: NULL, or why not (g_free it).
 */
char *pt_model_check_entry(const struct pt_model *m,
			   const struct iopgt_walk_entry *e);

/* ---- descriptions -------------------------------------------------------- */

/*
 * The in-tree formats, from the cfg alloc returned (and for LPAE the root
 * table, which the walk reports: its level and bytes).
 * Returns: 0, or -EINVAL if the table's geometry makes no sense.
 */
int pt_desc_lpae(struct pt_model_desc *d, const struct iopgt_cfg *cfg,
		 int pgd_level, size_t pgd_bytes);
void pt_desc_v7s(struct pt_model_desc *d, const struct iopgt_cfg *cfg);
/* The root table's level and bytes, from the first table ops.walk visits. */
int pt_root_geometry(struct iopgt_ops *ops, int *level, size_t *bytes);

/*
 * Any format, knowing only its cfg: one level per page size, largest
 * first, and the rules given.  The levels need not be the format's: a
 * caller that compares only leaves and translations (iopgt-conformance)
 * cannot tell.  Returns: 0, or -EINVAL for an empty bitmap or too many
 * sizes.
 */
int pt_desc_from_cfg(struct pt_model_desc *d, const struct iopgt_cfg *cfg,
		     unsigned int rules);

#endif
