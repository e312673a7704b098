/* SPDX-License-Identifier: MIT */
/*
 * ARM LPAE (VMSAv8-64 long-descriptor) field encodings: descriptor bits,
 * TCR/VTCR field values, MAIR attributes and the Mali TRANSTAB/MEMATTR
 * encodings.  Values follow the Arm ARM (DDI0487) and the names follow
 * Linux io-pgtable-arm.c / io-pgtable-arm.h, so a reader can hold the two
 * side by side.  Private to the io-pgtable-arm plugin.
 */
#ifndef IOPGT_LPAE_REGS_H
#define IOPGT_LPAE_REGS_H

#include <stdint.h>

#include <iopgt/bits.h>

typedef uint64_t lpae_pte_t;

#define LPAE_MAX_LEVELS		4
#define LPAE_MAX_ADDR_BITS	52
#define LPAE_S2_MAX_CONCAT_PAGES 16

/* ---- descriptors --------------------------------------------------------- */
#define LPAE_PTE_TYPE_MASK	GENMASK_ULL(1, 0)
/* leaf at levels 0-2 (at every level on Mali) */
#define LPAE_PTE_TYPE_BLOCK	1ULL
/* next-level table at levels 0-2 */
#define LPAE_PTE_TYPE_TABLE	3ULL
/* leaf at level 3 */
#define LPAE_PTE_TYPE_PAGE	3ULL

/* Table descriptor attributes */
#define LPAE_PTE_NSTABLE	BIT_ULL(63)
/*
 * Software bit: the table entry has been made visible to a non-coherent
 * walker, so later walkers through it need not sync it again.
 */
#define LPAE_PTE_SW_SYNC	BIT_ULL(55)
/*
 * iopgt extension (IOPGT_QUIRK_RECLAIM_TABLES): a 16-bit count kept in
 * the bits a walker ignores in a table descriptor, [11:2] (count bits
 * 9:0), [54:52] (12:10) and [58:56] (15:13): the next table's valid
 * entries plus the operations inside it.
 */
#define LPAE_PTE_RC_0		GENMASK_ULL(11, 2)
#define LPAE_PTE_RC_1		GENMASK_ULL(54, 52)
#define LPAE_PTE_RC_2		GENMASK_ULL(58, 56)
#define LPAE_PTE_RC_MASK	(LPAE_PTE_RC_0 | LPAE_PTE_RC_1 | LPAE_PTE_RC_2)
#define LPAE_RC_MAX		0xffffU

/* Leaf attributes shared by every stage */
#define LPAE_PTE_XN		GENMASK_ULL(54, 53)	/* PXN, UXN */
#define LPAE_PTE_DBM		BIT_ULL(51)	/* dirty bit modifier */
#define LPAE_PTE_ADDR_MASK	GENMASK_ULL(47, 12)
#define LPAE_PTE_nG		BIT_ULL(11)
#define LPAE_PTE_AF		BIT_ULL(10)
#define LPAE_PTE_SH		GENMASK_ULL(9, 8)
#define LPAE_PTE_SH_OS		FIELD_PREP(LPAE_PTE_SH, 2)
#define LPAE_PTE_SH_IS		FIELD_PREP(LPAE_PTE_SH, 3)
#define LPAE_PTE_NS		BIT_ULL(5)

/* Stage-1 permissions and memory attribute index */
#define LPAE_PTE_AP_UNPRIV	BIT_ULL(6)
#define LPAE_PTE_AP_RDONLY_BIT	7
#define LPAE_PTE_AP_RDONLY	BIT_ULL(LPAE_PTE_AP_RDONLY_BIT)
/* DBM set and AP[2] clear: writeable-dirty; both set: writeable-clean */
#define LPAE_PTE_AP_WR_CLEAN_MASK (LPAE_PTE_AP_RDONLY | LPAE_PTE_DBM)
#define LPAE_PTE_ATTRINDX	GENMASK_ULL(4, 2)

/* Stage-2 (and Mali) permissions and memory attributes */
#define LPAE_PTE_HAP_READ	BIT_ULL(6)
#define LPAE_PTE_HAP_WRITE	BIT_ULL(7)
#define LPAE_PTE_MEMATTR	GENMASK_ULL(5, 2)
#define LPAE_PTE_MEMATTR_OIWB	FIELD_PREP(LPAE_PTE_MEMATTR, 0xf)
#define LPAE_PTE_MEMATTR_NC	FIELD_PREP(LPAE_PTE_MEMATTR, 0x5)
#define LPAE_PTE_MEMATTR_DEV	FIELD_PREP(LPAE_PTE_MEMATTR, 0x1)
#define LPAE_PTE_MEMATTR_FWB_WB	FIELD_PREP(LPAE_PTE_MEMATTR, 0x6)

/* ---- TCR / VTCR fields (decoded values, as io_pgtable_cfg holds them) ---- */
#define LPAE_TCR_TG0_4K		0
#define LPAE_TCR_TG0_64K	1
#define LPAE_TCR_TG0_16K	2

#define LPAE_TCR_TG1_16K	1
#define LPAE_TCR_TG1_4K		2
#define LPAE_TCR_TG1_64K	3

#define LPAE_TCR_SH_OS		2
#define LPAE_TCR_SH_IS		3

#define LPAE_TCR_RGN_NC		0
#define LPAE_TCR_RGN_WBWA	1

#define LPAE_TCR_PS_32_BIT	0
#define LPAE_TCR_PS_36_BIT	1
#define LPAE_TCR_PS_40_BIT	2
#define LPAE_TCR_PS_42_BIT	3
#define LPAE_TCR_PS_44_BIT	4
#define LPAE_TCR_PS_48_BIT	5
#define LPAE_TCR_PS_52_BIT	6

#define LPAE_VTCR_SL0_MASK	3

/* ---- MAIR ---------------------------------------------------------------- */
#define LPAE_MAIR_ATTR_SHIFT(n)	((n) << 3)
#define LPAE_MAIR_ATTR_DEVICE	0x04ULL
#define LPAE_MAIR_ATTR_NC	0x44ULL
#define LPAE_MAIR_ATTR_INC_OWBRWA 0xf4ULL
#define LPAE_MAIR_ATTR_WBRWA	0xffULL
#define LPAE_MAIR_ATTR_IDX_NC	0
#define LPAE_MAIR_ATTR_IDX_CACHE 1
#define LPAE_MAIR_ATTR_IDX_DEV	2
#define LPAE_MAIR_ATTR_IDX_INC_OCACHE 3

/* ---- Mali TRANSTAB / MEMATTR --------------------------------------------- */
#define MALI_LPAE_TTBR_ADRMODE_TABLE	(3ULL << 0)
#define MALI_LPAE_TTBR_READ_INNER	BIT_ULL(2)
#define MALI_LPAE_TTBR_SHARE_OUTER	BIT_ULL(4)

#define MALI_LPAE_MEMATTR_IMP_DEF	0x88ULL
#define MALI_LPAE_MEMATTR_WRITE_ALLOC	0x8DULL

#endif /* IOPGT_LPAE_REGS_H */
