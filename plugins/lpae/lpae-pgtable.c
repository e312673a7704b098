// SPDX-License-Identifier: MIT
/*
 * What the live table (io-pgtable-arm.c) and the foreign walk
 * (lpae-foreign.c) both build a struct lpae_pgtable from: the table of
 * what each format accepts, the per-level lookups, and the encoding of
 * IOMMU_* prot bits in a leaf both ways.  A file of its own so the
 * foreign walk needs nothing from io-pgtable-arm.c: the dependencies run
 * io-pgtable-arm.c -> lpae-foreign.c -> lpae-pgtable.c, never back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <iopgt/bits.h>
#include <iopgt/pgtable.h>

#include "lpae-pgtable.h"

/* ---- what each format accepts -------------------------------------------- */

/* iopgt's own quirks (extensions): every format takes them */
#define LPAE_EXT_QUIRKS	IOPGT_QUIRK_RECLAIM_TABLES
#define LPAE_S1_QUIRKS	(IO_PGTABLE_QUIRK_ARM_NS |		\
			 IO_PGTABLE_QUIRK_ARM_TTBR1 |		\
			 IO_PGTABLE_QUIRK_ARM_OUTER_WBWA |	\
			 IO_PGTABLE_QUIRK_ARM_HD |		\
			 IO_PGTABLE_QUIRK_NO_WARN |		\
			 LPAE_EXT_QUIRKS)
#define LPAE_S2_QUIRKS	(IO_PGTABLE_QUIRK_ARM_S2FWB |		\
			 IO_PGTABLE_QUIRK_NO_WARN |		\
			 LPAE_EXT_QUIRKS)

const struct lpae_fmt_info lpae_fmt_info[] = {
	[LPAE_FMT_64_S1] = { LPAE_STAGE1, LPAE_S1_QUIRKS, 0, 0, false, true },
	[LPAE_FMT_64_S2] = { LPAE_STAGE2, LPAE_S2_QUIRKS, 0, 0, false, false },
	[LPAE_FMT_32_S1] = { LPAE_STAGE1, LPAE_S1_QUIRKS, 32, 40, true, false },
	[LPAE_FMT_32_S2] = { LPAE_STAGE2, LPAE_S2_QUIRKS, 40, 40, true, false },
	[LPAE_FMT_MALI]  = { LPAE_MALI, LPAE_EXT_QUIRKS, 48, 40, true, false },
};

/* ---- prot -> descriptor (arm_lpae_prot_to_pte) --------------------------- */

static lpae_pte_t lpae_prot_to_pte(const struct lpae_pgtable *d, int prot)
{
	lpae_pte_t pte;

	if (d->stage == LPAE_STAGE1) {
		pte = LPAE_PTE_nG;
		/* write-only cannot be expressed: it becomes read/write */
		if (!(prot & IOMMU_WRITE) && (prot & IOMMU_READ))
			pte |= LPAE_PTE_AP_RDONLY;
		else if (d->quirks & IO_PGTABLE_QUIRK_ARM_HD)
			pte |= LPAE_PTE_DBM;	/* born writeable-dirty */
		if (!(prot & IOMMU_PRIV))
			pte |= LPAE_PTE_AP_UNPRIV;
	} else {
		/* stage 2, and Mali, which has stage-2 style permissions */
		pte = 0;
		if (prot & IOMMU_READ)
			pte |= LPAE_PTE_HAP_READ;
		if (prot & IOMMU_WRITE)
			pte |= LPAE_PTE_HAP_WRITE;
	}

	if (d->stage == LPAE_STAGE2) {
		if (prot & IOMMU_MMIO)
			pte |= LPAE_PTE_MEMATTR_DEV;
		else if (prot & IOMMU_CACHE)
			pte |= d->quirks & IO_PGTABLE_QUIRK_ARM_S2FWB ?
				       LPAE_PTE_MEMATTR_FWB_WB :
				       LPAE_PTE_MEMATTR_OIWB;
		else
			pte |= LPAE_PTE_MEMATTR_NC;
	} else {
		/* stage 1, and Mali, which has stage-1 style attributes */
		if (prot & IOMMU_MMIO)
			pte |= FIELD_PREP(LPAE_PTE_ATTRINDX,
					  LPAE_MAIR_ATTR_IDX_DEV);
		else if (prot & IOMMU_CACHE)
			pte |= FIELD_PREP(LPAE_PTE_ATTRINDX,
					  LPAE_MAIR_ATTR_IDX_CACHE);
	}

	/* Mali's inner domain is the GPU itself: always outer shareable */
	if ((prot & IOMMU_CACHE) && d->stage != LPAE_MALI)
		pte |= LPAE_PTE_SH_IS;
	else
		pte |= LPAE_PTE_SH_OS;

	if (prot & IOMMU_NOEXEC)
		pte |= LPAE_PTE_XN;
	if (d->quirks & IO_PGTABLE_QUIRK_ARM_NS)
		pte |= LPAE_PTE_NS;
	/* Mali has no access flag: its bit 10 means something else */
	if (d->stage != LPAE_MALI)
		pte |= LPAE_PTE_AF;
	return pte;
}

/*
 * The inverse, for the walk: the IOMMU_* bits a leaf grants.  What
 * lpae_prot_to_pte() folds stays folded: stage 1 is always readable (its
 * write-only maps read/write) and has no separate read bit; stage 2 and
 * Mali have no PRIV; Mali keeps MMIO over CACHE.  A stage-1 leaf that
 * dirty tracking made writeable-clean (AP[2] and DBM) is still writeable.
 */
int lpae_pte_to_prot(const struct lpae_pgtable *d, lpae_pte_t pte)
{
	int prot = 0;

	if (d->stage == LPAE_STAGE1) {
		prot |= IOMMU_READ;
		if (!(pte & LPAE_PTE_AP_RDONLY) || (pte & LPAE_PTE_DBM))
			prot |= IOMMU_WRITE;
		if (!(pte & LPAE_PTE_AP_UNPRIV))
			prot |= IOMMU_PRIV;
	} else {
		if (pte & LPAE_PTE_HAP_READ)
			prot |= IOMMU_READ;
		if (pte & LPAE_PTE_HAP_WRITE)
			prot |= IOMMU_WRITE;
	}

	if (d->stage == LPAE_STAGE2) {
		if ((pte & LPAE_PTE_MEMATTR) == LPAE_PTE_MEMATTR_DEV)
			prot |= IOMMU_MMIO;
	} else {
		if (FIELD_GET(LPAE_PTE_ATTRINDX, pte) == LPAE_MAIR_ATTR_IDX_DEV)
			prot |= IOMMU_MMIO;
	}
	/* inner shareable is written for CACHE alone, except on Mali */
	if (d->stage == LPAE_MALI ?
	    FIELD_GET(LPAE_PTE_ATTRINDX, pte) == LPAE_MAIR_ATTR_IDX_CACHE :
	    (pte & LPAE_PTE_SH) == LPAE_PTE_SH_IS)
		prot |= IOMMU_CACHE;

	if (pte & LPAE_PTE_XN)
		prot |= IOMMU_NOEXEC;
	return prot;
}

/* ---- per-level lookups and the prot cache -------------------------------- */

/*
 * prot -> attributes depends on the stage and three quirks only, so each
 * variant is built once per process and copied into later tables: an alloc
 * then costs a 512-byte copy instead of 64 lpae_prot_to_pte() calls.  One
 * builder claims a slot (BUSY) and publishes it (READY, release); a table
 * that finds the slot busy builds its own copy meanwhile.
 */
enum { LPAE_PROT_EMPTY, LPAE_PROT_BUSY, LPAE_PROT_READY };
#define LPAE_PROT_VARIANTS	(3 * 8)		/* stage x NS x HD x S2FWB */
static lpae_pte_t lpae_prot_cache[LPAE_PROT_VARIANTS][64];
static int lpae_prot_state[LPAE_PROT_VARIANTS];

static void lpae_init_prot(struct lpae_pgtable *d)
{
	unsigned int v = d->stage * 8 +
			 !!(d->quirks & IO_PGTABLE_QUIRK_ARM_NS) +
			 2 * !!(d->quirks & IO_PGTABLE_QUIRK_ARM_HD) +
			 4 * !!(d->quirks & IO_PGTABLE_QUIRK_ARM_S2FWB);
	int state = __atomic_load_n(&lpae_prot_state[v], __ATOMIC_ACQUIRE);

	if (state == LPAE_PROT_READY) {
		memcpy(d->prot_pte, lpae_prot_cache[v], sizeof(d->prot_pte));
		return;
	}
	for (int prot = 0; prot < 64; prot++)
		d->prot_pte[prot] = lpae_prot_to_pte(d, prot);
	if (state == LPAE_PROT_EMPTY &&
	    __atomic_compare_exchange_n(&lpae_prot_state[v], &state,
					LPAE_PROT_BUSY, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		memcpy(lpae_prot_cache[v], d->prot_pte, sizeof(d->prot_pte));
		__atomic_store_n(&lpae_prot_state[v], LPAE_PROT_READY,
				 __ATOMIC_RELEASE);
	}
}

/* Fill the per-level tables the hot paths use, once the geometry is final. */
void lpae_init_lookup(struct lpae_pgtable *d, const struct iopgt_cfg *cfg)
{
	int bpl = d->bits_per_level;

	for (int i = 0; i < 64; i++)
		d->size_lvl[i] = -1;
	for (int l = 0; l < LPAE_MAX_LEVELS; l++) {
		int bits = l == d->start_level ? d->pgd_bits : bpl;

		d->lvl_shift[l] = LPAE_LVL_SHIFT(l, bpl);
		d->lvl_offset[l] = LPAE_BLOCK_SIZE(d, l) - 1;
		d->lvl_mask[l] = (1UL << bits) - 1;
		d->lvl_entries[l] = 1U << (bits < bpl ? bits : bpl);
		d->leaf_type[l] = LPAE_PTE_TYPE_BLOCK;
		/* only sizes the bitmap offers: the fast checks rely on it */
		if (l >= d->start_level && d->lvl_shift[l] < 63 &&
		    (d->pgsize_bitmap & BIT(d->lvl_shift[l])))
			d->size_lvl[d->lvl_shift[l]] = l;
	}
	if (d->stage != LPAE_MALI)
		d->leaf_type[LPAE_MAX_LEVELS - 1] = LPAE_PTE_TYPE_PAGE;

	d->addr_mask = LPAE_PTE_ADDR_MASK;
	d->oa_hi = cfg->oas > 48;
	d->table_need = LPAE_PTE_TYPE_TABLE;
	if (!d->coherent)
		d->table_need |= LPAE_PTE_SW_SYNC;
	d->table_attr = LPAE_PTE_TYPE_TABLE;
	if (cfg->quirks & IO_PGTABLE_QUIRK_ARM_NS)
		d->table_attr |= LPAE_PTE_NSTABLE;
	lpae_init_prot(d);
}
