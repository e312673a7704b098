/* SPDX-License-Identifier: MIT */
/*
 * The v7s short-descriptor format's bits, shared by the live table
 * (io-pgtable-arm-v7s.c) and the foreign walk (v7s-foreign.c): one place
 * for each field, each geometry macro and each decoding, so the two
 * readers of a descriptor cannot drift apart.
 */
#ifndef V7S_PTE_H
#define V7S_PTE_H

#include <stdbool.h>
#include <stdint.h>

#include <iopgt/bits.h>
#include <iopgt/pgtable.h>

#include "v7s-l2-cache.h"

typedef uint32_t v7s_pte_t;

/* ---- geometry ------------------------------------------------------------ */

/* Address bits without the MediaTek extension (ias and oas). */
#define V7S_ADDR_BITS		32
/* With ARM_MTK_EXT: 14 bits resolved at level 1, and a 35-bit PA. */
#define V7S_MTK_IAS_MAX		34
#define V7S_MTK_OAS_MAX		35
/* The level-1 index starts at bit 20, so ias can't be smaller. */
#define V7S_IAS_MIN		20

/* Lowest iova bit a level resolves: 20 (level 1) or 12 (level 2). */
#define V7S_LVL_SHIFT(lvl)	((lvl) == 1 ? 20 : 12)
/* Bytes one entry of a level maps: 1 MiB or 4 KiB. */
#define V7S_BLOCK_SIZE(lvl)	(1UL << V7S_LVL_SHIFT(lvl))
/* Entries in a level-1 table: iova[ias-1:20]. */
#define V7S_L1_ENTRIES(ias)	(1UL << ((ias) - V7S_LVL_SHIFT(1)))
/* Entries in a level-2 table: iova[19:12]. */
#define V7S_L2_ENTRIES		(V7S_L2_TABLE_SIZE / sizeof(v7s_pte_t))
/* Level-2 index of an iova. */
#define V7S_L2_IDX(iova) \
	(((iova) >> V7S_LVL_SHIFT(2)) & (V7S_L2_ENTRIES - 1))
/* A supersection or large page is one entry written 16 times. */
#define V7S_CONT_PAGES		16
/* Leaf sizes, 4K to 16M, indexed by log2(size): 12, 16, 20, 24. */
enum { V7S_SMALL, V7S_LARGE, V7S_SECTION, V7S_SUPERSECTION, V7S_NR_SIZES };
#define V7S_SIZE_IDX(shift)	(((shift) - 12) / 4)
/* Output-address bits of a leaf at a level: [31:20] or [31:12]. */
#define V7S_LVL_MASK(lvl)	((v7s_pte_t)GENMASK(31, V7S_LVL_SHIFT(lvl)))
/* ... and of its contiguous form: [31:24] or [31:16]. */
#define V7S_CONT_MASK(lvl) \
	((v7s_pte_t)GENMASK(31, V7S_LVL_SHIFT(lvl) + 4))

/* ---- descriptor type and level-specific bits ----------------------------- */

/*
 * Type: 0 invalid; level 1: 1 table, 2 section (or supersection);
 * level 2: 1 large page, 2 or 3 small page (bit 0 is its XN).
 */
#define V7S_PTE_TYPE		GENMASK(1, 0)
#define V7S_PTE_TYPE_TABLE	FIELD_PREP(V7S_PTE_TYPE, 1)
#define V7S_PTE_TYPE_PAGE	FIELD_PREP(V7S_PTE_TYPE, 2)
#define V7S_PTE_TYPE_CONT_PAGE	FIELD_PREP(V7S_PTE_TYPE, 1)
/* A table descriptor points to a 1 KiB aligned level-2 table. */
#define V7S_PTE_TABLE_ADDR	GENMASK(31, 10)

#define V7S_PTE_B		BIT(2)
#define V7S_PTE_C		BIT(3)
#define V7S_PTE_NS_TABLE	BIT(3)		/* table descriptor */
/* Execute-never: bit 4 of a section, bit 0 of a small page. */
#define V7S_PTE_XN(lvl)		BIT(4 * (2 - (lvl)))
#define V7S_PTE_CONT_SECTION	BIT(18)		/* supersection */
#define V7S_PTE_NS_SECTION	BIT(19)

/* A large page keeps XN and TEX elsewhere than a small page does. */
#define V7S_PTE_SMALL_TEX	GENMASK(8, 6)
#define V7S_PTE_LARGE_TEX	GENMASK(14, 12)
#define V7S_PTE_LARGE_XN	BIT(15)

/* MediaTek: PA bits 32, 33 and 34 in bits that are free with NO_PERMS. */
#define V7S_PTE_MTK_PA32	BIT(9)
#define V7S_PTE_MTK_PA33	BIT(4)
#define V7S_PTE_MTK_PA34	BIT(5)

/* ---- attribute block --------------------------------------------------------
 * The same eight bits at [17:10] of a section and [11:4] of a small page.
 */
#define V7S_ATTR_SHIFT(lvl)	(16 - (lvl) * 6)
#define V7S_ATTR_AP0		BIT(0)		/* the access flag */
#define V7S_ATTR_AP1		BIT(1)		/* unprivileged too */
#define V7S_ATTR_TEX		GENMASK(4, 2)
#define V7S_ATTR_AP2		BIT(5)		/* read-only */
#define V7S_ATTR_S		BIT(6)
#define V7S_ATTR_NG		BIT(7)

#define V7S_ATTR_AF		V7S_ATTR_AP0
#define V7S_ATTR_AP_UNPRIV	V7S_ATTR_AP1
#define V7S_ATTR_AP_RDONLY	V7S_ATTR_AP2

/* ---- TEX remap --------------------------------------------------------------
 * With TEX remap, TEX[0]:C:B index PRRR/NMRR.  prot_to_pte sets TEX[0]
 * for memory and B or B|C, so only three indices are ever used.
 */
#define V7S_TEXRE_DEVICE	1		/* B: IOMMU_MMIO */
#define V7S_TEXRE_NORMAL_NC	4		/* TEX[0] */
#define V7S_TEXRE_NORMAL_WBWA	7		/* TEX[0] C B: CACHE */

#define V7S_PRRR_TYPE_DEVICE	1
#define V7S_PRRR_TYPE_NORMAL	2
#define V7S_PRRR_TR(n, type)	((uint32_t)(type) << (2 * (n)))
#define V7S_PRRR_DS0		BIT(16)
#define V7S_PRRR_DS1		BIT(17)
#define V7S_PRRR_NS0		BIT(18)
#define V7S_PRRR_NS1		BIT(19)
#define V7S_PRRR_NOS(n)		BIT(24 + (n))

#define V7S_RGN_NC		0
#define V7S_RGN_WBWA		1
#define V7S_NMRR_IR(n, rgn)	((uint32_t)(rgn) << (2 * (n)))
#define V7S_NMRR_OR(n, rgn)	((uint32_t)(rgn) << (2 * (n) + 16))

/*
 * The PRRR and NMRR every table gets: the indices map to the closest
 * equivalent of the non-remapped meaning of their bits.
 */
#define V7S_PRRR_LINUX							\
	(V7S_PRRR_TR(V7S_TEXRE_DEVICE, V7S_PRRR_TYPE_DEVICE) |		\
	 V7S_PRRR_TR(V7S_TEXRE_NORMAL_NC, V7S_PRRR_TYPE_NORMAL) |	\
	 V7S_PRRR_TR(V7S_TEXRE_NORMAL_WBWA, V7S_PRRR_TYPE_NORMAL) |	\
	 V7S_PRRR_DS0 | V7S_PRRR_DS1 | V7S_PRRR_NS1 |			\
	 V7S_PRRR_NOS(V7S_TEXRE_NORMAL_WBWA))
#define V7S_NMRR_LINUX							\
	(V7S_NMRR_IR(V7S_TEXRE_NORMAL_WBWA, V7S_RGN_WBWA) |		\
	 V7S_NMRR_OR(V7S_TEXRE_NORMAL_WBWA, V7S_RGN_WBWA))

/* ---- TTBR ---------------------------------------------------------------- */

/* IRGN is split: IRGN[1] is bit 0 and IRGN[0] bit 6. */
#define V7S_TTBR_IRGN1		BIT(0)
#define V7S_TTBR_S		BIT(1)
#define V7S_TTBR_ORGN		GENMASK(4, 3)
#define V7S_TTBR_NOS		BIT(5)
#define V7S_TTBR_IRGN0		BIT(6)

#define V7S_QUIRKS		(IO_PGTABLE_QUIRK_ARM_NS |		\
				 IO_PGTABLE_QUIRK_NO_PERMS |		\
				 IO_PGTABLE_QUIRK_ARM_MTK_EXT |		\
				 IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT |	\
				 IOPGT_QUIRK_RECLAIM_TABLES)
#define V7S_PGSIZES		(SZ_4K | SZ_64K | SZ_1M | SZ_16M)
/* READ, WRITE, CACHE, NOEXEC, MMIO, PRIV: all that changes a descriptor. */
#define V7S_PROT_MASK		(IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | \
				 IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV)

/* ---- decoding a descriptor ---------------------------------------------- */

static inline bool v7s_pte_is_valid(v7s_pte_t pte)
{
	return pte & V7S_PTE_TYPE;
}

static inline bool v7s_pte_is_table(v7s_pte_t pte, int lvl)
{
	return lvl == 1 && (pte & V7S_PTE_TYPE) == V7S_PTE_TYPE_TABLE;
}

/* A supersection, or a large page (type 01 at level 2).  pte is valid. */
static inline bool v7s_pte_is_cont(v7s_pte_t pte, int lvl)
{
	if (lvl == 1)
		return !v7s_pte_is_table(pte, 1) &&
		       (pte & V7S_PTE_CONT_SECTION);
	return !(pte & V7S_PTE_TYPE_PAGE);
}

/*
 * MediaTek's 35-bit PA: PA bits 32, 33 and 34 go into descriptor bits 9, 4
 * and 5, which NO_PERMS (required with the quirk) leaves at zero.
 */
static inline v7s_pte_t v7s_mtk_pa_to_pte(uint64_t paddr)
{
	v7s_pte_t pte = 0;

	if (paddr & BIT_ULL(32))
		pte |= V7S_PTE_MTK_PA32;
	if (paddr & BIT_ULL(33))
		pte |= V7S_PTE_MTK_PA33;
	if (paddr & BIT_ULL(34))
		pte |= V7S_PTE_MTK_PA34;
	return pte;
}

static inline uint64_t v7s_mtk_pte_to_pa(v7s_pte_t pte)
{
	uint64_t paddr = 0;

	if (pte & V7S_PTE_MTK_PA32)
		paddr |= BIT_ULL(32);
	if (pte & V7S_PTE_MTK_PA33)
		paddr |= BIT_ULL(33);
	if (pte & V7S_PTE_MTK_PA34)
		paddr |= BIT_ULL(34);
	return paddr;
}

/* The leaf's output mask: contiguous entries map 16 times the block. */
static inline v7s_pte_t v7s_leaf_mask(v7s_pte_t pte, int lvl)
{
	return v7s_pte_is_cont(pte, lvl) ? V7S_CONT_MASK(lvl) :
					   V7S_LVL_MASK(lvl);
}

/*
 * The inverse, for the walk: the IOMMU_* bits a leaf at a level grants.
 * There is no read bit (a write-only map comes back READ|WRITE) and MMIO
 * is written over CACHE (MMIO|CACHE comes back MMIO).  With NO_PERMS
 * nothing is checked: READ|WRITE, never PRIV or NOEXEC (MediaTek keeps
 * PA bits where AP and XN would be).
 */
static inline int v7s_pte_to_prot(v7s_pte_t pte, int lvl,
				  unsigned long quirks)
{
	v7s_pte_t attr = pte >> V7S_ATTR_SHIFT(lvl);
	v7s_pte_t xn = lvl == 2 && v7s_pte_is_cont(pte, 2) ?
			       V7S_PTE_LARGE_XN : V7S_PTE_XN(lvl);
	int prot = IOMMU_READ;

	if (quirks & IO_PGTABLE_QUIRK_NO_PERMS) {
		prot |= IOMMU_WRITE;
	} else {
		if (!(attr & V7S_ATTR_AP_RDONLY))
			prot |= IOMMU_WRITE;
		if (!(attr & V7S_ATTR_AP_UNPRIV))
			prot |= IOMMU_PRIV;
		if (pte & xn)
			prot |= IOMMU_NOEXEC;
	}
	if (pte & V7S_PTE_B)
		prot |= pte & V7S_PTE_C ? IOMMU_CACHE : IOMMU_MMIO;
	return prot;
}

/* A descriptor's address under mask, with MediaTek's PA bits if mtk. */
static inline uint64_t v7s_pte_to_paddr(v7s_pte_t pte, v7s_pte_t mask,
					bool mtk)
{
	uint64_t paddr = pte & mask;

	if (mtk)
		paddr |= v7s_mtk_pte_to_pa(pte);
	return paddr;
}

#endif /* V7S_PTE_H */
