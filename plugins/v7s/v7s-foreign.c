// SPDX-License-Identifier: MIT
/*
 * Foreign walks of the v7s format: tables built elsewhere (a crash dump, a
 * guest's memory, a saved image) read through iopgt_foreign_src, as the
 * hardware walker reads them (docs/formats/v7s.md, "Foreign walks").
 *
 * Supported:
 * - the registers describe_regs emits (ttbr, tcr, prrr, nmrr) and the cfg
 *   keys of an image's note (ias, oas, quirks)
 * - sections, supersections, large and small pages; the simplified AP
 *   model with AP[0] as access flag; XN, PXN (level-1 type 11); TEX remap
 *   through PRRR/NMRR; NS of a section or of a level-2 table's descriptor
 * - quirks ARM_NS, NO_PERMS (nothing checked), ARM_MTK_EXT (PA bits 32-34
 *   in descriptor bits 9/4/5, ias 34, oas 35), ARM_MTK_TTBR_EXT (tables
 *   and TTBR above 4 GiB); RECLAIM_TABLES changes nothing in memory
 *
 * Not supported (refused at open): TTBCR other than 0 (N > 0 or the
 * long-descriptor format), the legacy AP[2:0] model, translation without
 * TEX remap.
 *
 * Nothing in memory is trusted: every descriptor comes through read().
 * A walk or check reads the level-1 table once and enters each level-2
 * table at most once (a set of table PAs sized for the level-1 table), so
 * its cost is bounded by the geometry whatever the descriptors say: at
 * most 2^(ias-20) level-2 tables (4096 for ias 32, 16384 for MediaTek's
 * ias 34) of 1 KiB each.
 */
#define pr_fmt(fmt) "arm-v7s: " fmt

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <iopgt/bits.h>
#include <iopgt/host-services.h>
#include <iopgt/pgtable.h>

#include "v7s-foreign.h"
#include "v7s-pte.h"

/* TTBR0's base field with TTBCR.N = 0: [31:14]; N up to 7 moves it to 7. */
#define V7S_FW_TTBR_BASE	GENMASK(31, 7)
/* MediaTek puts PA[34:32] of the level-1 table in TTBR[2:0]. */
#define V7S_FW_TTBR_MTK_PA	GENMASK(2, 0)
/* Bits a level-1 table descriptor must hold zero: bit 4 (SBZ). */
#define V7S_FW_TABLE_SBZ	BIT(4)
/* ... and a large page: [8:6] (SBZ; its TEX moved to [14:12]). */
#define V7S_FW_LARGE_SBZ	GENMASK(8, 6)
/* A supersection's extended base address, PA[35:32] and PA[39:36]. */
#define V7S_FW_SUPER_EXT	(GENMASK(23, 20) | GENMASK(8, 5))
/* Level-1 type 11: a section whose bit 0 is PXN. */
#define V7S_FW_TYPE_PXN		FIELD_PREP(V7S_PTE_TYPE, 3)
/* TEX[0] of a small page, and of a large page, section or supersection. */
#define V7S_FW_SMALL_TEX0	BIT(6)
#define V7S_FW_TEX0		BIT(12)

struct v7s_fw {
	const struct iopgt_foreign_src *src;
	struct iopgt_env env;
	unsigned long quirks;
	bool mtk;			/* ARM_MTK_EXT: PA bits 32-34 */
	bool perms;			/* not NO_PERMS: AF and AP checked */
	unsigned int ias, oas;
	uint64_t root;			/* the level-1 table, from TTBR */
	uint64_t table_limit;		/* tables lie below it */
	size_t l1_entries;
	uint32_t prrr, nmrr;
	v7s_pte_t *l1;			/* the level-1 table read */
	v7s_pte_t l2[V7S_L2_ENTRIES];	/* one level-2 table read */
	/* one walk or check */
	uint64_t *seen;			/* level-2 tables, PA + 1; 0 empty */
	size_t seen_cap;		/* twice the level-1 entries */
	int problems;
	iopgt_problem_fn report;
	void *report_data;
	const struct iopgt_walk_ops *visit;
	void *visit_data;
};

/* ---- open: registers and geometry ---------------------------------------- */

static uint64_t v7s_fw_reg_or(const struct v7s_fw *fw, const char *name,
			      uint64_t dflt)
{
	uint64_t v;

	return fw->src->reg(fw->src->ctx, name, &v) ? dflt : v;
}

/* A 32-bit register, or the default Linux writes when not given. */
static int v7s_fw_reg32(const struct v7s_fw *fw, const char *name,
			uint32_t dflt, uint32_t *out)
{
	uint64_t v = v7s_fw_reg_or(fw, name, dflt);

	if (v >> 32) {
		iopgt_env_warn(&fw->env, "foreign: register '%s' 0x%llx is wider than 32 bits",
			       name, (unsigned long long)v);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* The quirks and sizes v7s_check_cfg() allows, said as a foreign walk. */
static int v7s_fw_open_cfg(struct v7s_fw *fw)
{
	uint64_t quirks = v7s_fw_reg_or(fw, "quirks", 0);
	uint64_t ias, oas;

	if (quirks & ~(uint64_t)V7S_QUIRKS) {
		iopgt_env_warn(&fw->env, "foreign: unsupported quirks 0x%llx",
			       (unsigned long long)(quirks & ~(uint64_t)V7S_QUIRKS));
		return -EINVAL;
	}
	fw->quirks = (unsigned long)quirks;
	fw->mtk = quirks & IO_PGTABLE_QUIRK_ARM_MTK_EXT;
	fw->perms = !(quirks & IO_PGTABLE_QUIRK_NO_PERMS);
	if (fw->mtk && fw->perms) {
		iopgt_env_warn(&fw->env, "foreign: ARM_MTK_EXT needs NO_PERMS");
		return -EINVAL;
	}
	if ((quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT) && !fw->mtk) {
		iopgt_env_warn(&fw->env, "foreign: ARM_MTK_TTBR_EXT needs ARM_MTK_EXT");
		return -EINVAL;
	}
	ias = v7s_fw_reg_or(fw, "ias", V7S_ADDR_BITS);
	oas = v7s_fw_reg_or(fw, "oas", fw->mtk ? V7S_MTK_OAS_MAX :
						   V7S_ADDR_BITS);
	if (ias < V7S_IAS_MIN ||
	    ias > (fw->mtk ? V7S_MTK_IAS_MAX : V7S_ADDR_BITS)) {
		iopgt_env_warn(&fw->env, "foreign: ias %llu is not in [%u, %u]",
			       (unsigned long long)ias, V7S_IAS_MIN,
			       fw->mtk ? V7S_MTK_IAS_MAX : V7S_ADDR_BITS);
		return -EINVAL;
	}
	if (oas > (fw->mtk ? V7S_MTK_OAS_MAX : V7S_ADDR_BITS)) {
		iopgt_env_warn(&fw->env, "foreign: oas %llu is above %u",
			       (unsigned long long)oas,
			       fw->mtk ? V7S_MTK_OAS_MAX : V7S_ADDR_BITS);
		return -EINVAL;
	}
	fw->ias = (unsigned int)ias;
	fw->oas = (unsigned int)oas;
	fw->l1_entries = V7S_L1_ENTRIES(fw->ias);
	/* as alloc: 32-bit table pointers unless MediaTek's extension */
	fw->table_limit = quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT ?
				  1ULL << fw->oas : 1ULL << V7S_ADDR_BITS;
	return 0;
}

static int v7s_fw_open_regs(struct v7s_fw *fw)
{
	uint32_t ttbr, tcr;
	int ret;

	if (fw->src->reg(fw->src->ctx, "ttbr", &(uint64_t){ 0 })) {
		iopgt_env_warn(&fw->env, "foreign: register 'ttbr' not given");
		return -EINVAL;
	}
	ret = v7s_fw_reg32(fw, "ttbr", 0, &ttbr);
	if (!ret)
		ret = v7s_fw_reg32(fw, "tcr", 0, &tcr);
	if (!ret)
		ret = v7s_fw_reg32(fw, "prrr", V7S_PRRR_LINUX, &fw->prrr);
	if (!ret)
		ret = v7s_fw_reg32(fw, "nmrr", V7S_NMRR_LINUX, &fw->nmrr);
	if (ret)
		return ret;
	/* what Linux writes: N = 0 and EAE = 0 (short descriptors) */
	if (tcr) {
		iopgt_env_warn(&fw->env, "foreign: tcr 0x%x: only TTBCR 0 (N 0, short descriptors) is supported",
			       tcr);
		return -EINVAL;
	}
	fw->root = ttbr & V7S_FW_TTBR_BASE;
	if (fw->mtk)
		fw->root |= (uint64_t)(ttbr & V7S_FW_TTBR_MTK_PA) << 32;
	return 0;
}

static void v7s_fw_close(void *state)
{
	struct v7s_fw *fw = state;
	const struct iopgt_env *env = &fw->env;

	env->svc->free(env->mem, fw->l1);
	env->svc->free(env->mem, fw->seen);
	env->svc->free(env->mem, fw);
}

static int v7s_fw_open(const struct iopgt_foreign_src *src,
		       const struct iopgt_env *env, void **state)
{
	struct v7s_fw *fw = env->svc->zalloc(env->mem, sizeof(*fw));
	int ret;

	if (!fw)
		return -ENOMEM;
	fw->env = *env;
	fw->src = src;
	ret = v7s_fw_open_cfg(fw);
	if (!ret)
		ret = v7s_fw_open_regs(fw);
	if (ret)
		goto out_close;
	fw->seen_cap = 2 * fw->l1_entries;
	fw->seen = env->svc->zalloc(env->mem, fw->seen_cap * sizeof(*fw->seen));
	fw->l1 = env->svc->zalloc(env->mem, fw->l1_entries * sizeof(v7s_pte_t));
	if (!fw->seen || !fw->l1) {
		ret = -ENOMEM;
		goto out_close;
	}
	*state = fw;
	return 0;

out_close:
	v7s_fw_close(fw);
	return ret;
}

/* ---- decoding a leaf ----------------------------------------------------- */

static size_t v7s_fw_pgd_size(const struct v7s_fw *fw)
{
	return fw->l1_entries * sizeof(v7s_pte_t);
}

static uint64_t v7s_fw_leaf_size(v7s_pte_t pte, int lvl)
{
	uint64_t size = V7S_BLOCK_SIZE(lvl);

	return v7s_pte_is_cont(pte, lvl) ? size * V7S_CONT_PAGES : size;
}

static uint64_t v7s_fw_leaf_oa(const struct v7s_fw *fw, v7s_pte_t pte,
			       int lvl)
{
	return v7s_pte_to_paddr(pte, v7s_leaf_mask(pte, lvl), fw->mtk);
}

static uint64_t v7s_fw_table_pa(const struct v7s_fw *fw, v7s_pte_t pte)
{
	return v7s_pte_to_paddr(pte, V7S_PTE_TABLE_ADDR, fw->mtk);
}

/*
 * A supersection naming a PA above 4 GiB in its extended base address
 * bits, which Linux never writes: beyond any oas without MediaTek's
 * extension (whose PA bits sit in some of them instead).
 */
static bool v7s_fw_super_ext(const struct v7s_fw *fw, v7s_pte_t pte, int lvl)
{
	return !fw->mtk && lvl == 1 && v7s_pte_is_cont(pte, 1) &&
	       (pte & V7S_FW_SUPER_EXT);
}

static bool v7s_fw_beyond_oas(const struct v7s_fw *fw, v7s_pte_t pte,
			      int lvl)
{
	uint64_t last = v7s_fw_leaf_oa(fw, pte, lvl) +
			v7s_fw_leaf_size(pte, lvl) - 1;

	return (last >> fw->oas) || v7s_fw_super_ext(fw, pte, lvl);
}

/* The simplified AP model: AP[2] read-only, AP[1] unprivileged too. */
static bool v7s_fw_permits(v7s_pte_t pte, int lvl, unsigned int access)
{
	v7s_pte_t attr = pte >> V7S_ATTR_SHIFT(lvl);
	v7s_pte_t xn = lvl == 2 && v7s_pte_is_cont(pte, 2) ?
			       V7S_PTE_LARGE_XN : V7S_PTE_XN(lvl);
	bool priv = access & IOPGT_ACCESS_PRIV;

	if (!priv && !(attr & V7S_ATTR_AP_UNPRIV))
		return false;
	if ((access & IOPGT_ACCESS_WRITE) && (attr & V7S_ATTR_AP_RDONLY))
		return false;
	if (!(access & IOPGT_ACCESS_EXEC))
		return true;
	if (pte & xn)
		return false;
	return !(priv && lvl == 1 &&
		 (pte & V7S_PTE_TYPE) == V7S_FW_TYPE_PXN);
}

/* Address size, access flag, permission: Arm's order after translation. */
static enum iopgt_fault v7s_fw_leaf(const struct v7s_fw *fw, v7s_pte_t pte,
				    int lvl, unsigned int access)
{
	v7s_pte_t attr = pte >> V7S_ATTR_SHIFT(lvl);

	if (v7s_fw_beyond_oas(fw, pte, lvl))
		return IOPGT_FAULT_ADDRESS_SIZE;
	/* NO_PERMS: MediaTek's walker checks neither (PA bits live there) */
	if (!fw->perms)
		return IOPGT_FAULT_NONE;
	if (!(attr & V7S_ATTR_AF))
		return IOPGT_FAULT_ACCESS_FLAG;
	return v7s_fw_permits(pte, lvl, access) ? IOPGT_FAULT_NONE :
						  IOPGT_FAULT_PERMISSION;
}

/* NMRR's IRn/ORn as the matching MAIR nibble: NC, WB-WA, WT, WB. */
static unsigned int v7s_fw_rgn(uint32_t nmrr, unsigned int shift)
{
	static const uint8_t mair[] = { 0x4, 0xf, 0xa, 0xe };

	return mair[(nmrr >> shift) & 3];
}

/*
 * The memory type TEX remap selects (index TEX[0]:C:B into PRRR/NMRR),
 * written as the MAIR byte LPAE would use for it, so that one dump reads
 * alike for both formats: 0x00 strongly-ordered (and the reserved TR 3),
 * 0x04 device, outer:inner nibbles for normal memory.  Linux's three
 * indices read 0x04, 0x44 and 0xff.
 */
static unsigned int v7s_fw_memattr(const struct v7s_fw *fw, v7s_pte_t pte,
				   int lvl)
{
	v7s_pte_t tex0 = lvl == 2 && !v7s_pte_is_cont(pte, 2) ?
				 V7S_FW_SMALL_TEX0 : V7S_FW_TEX0;
	unsigned int n = (pte & tex0 ? 4 : 0) | (pte & V7S_PTE_C ? 2 : 0) |
			 (pte & V7S_PTE_B ? 1 : 0);

	switch ((fw->prrr >> (2 * n)) & 3) {
	case V7S_PRRR_TYPE_DEVICE:
		return 0x04;
	case V7S_PRRR_TYPE_NORMAL:
		return v7s_fw_rgn(fw->nmrr, 2 * n + 16) << 4 |
		       v7s_fw_rgn(fw->nmrr, 2 * n);
	default:
		return 0x00;
	}
}

/* A leaf that passed every check: its mapping and attributes. */
static void v7s_fw_fill(const struct v7s_fw *fw, v7s_pte_t pte, int lvl,
			bool ns_table, uint64_t iova, struct iopgt_xlate *out)
{
	uint64_t size = v7s_fw_leaf_size(pte, lvl);
	v7s_pte_t attr = pte >> V7S_ATTR_SHIFT(lvl);

	out->base = iova & ~(size - 1);
	out->size = size;
	out->oa = v7s_fw_leaf_oa(fw, pte, lvl) | (iova & (size - 1));
	out->prot = v7s_pte_to_prot(pte, lvl, fw->quirks);
	out->memattr = v7s_fw_memattr(fw, pte, lvl);
	out->sh = attr & V7S_ATTR_S ? 1 : 0;
	out->ns = lvl == 1 ? pte & V7S_PTE_NS_SECTION : ns_table;
}

/* ---- translate ----------------------------------------------------------- */

/* Read the descriptor at pa into out.  Returns: false on a walk abort. */
static bool v7s_fw_fetch(const struct v7s_fw *fw, uint64_t pa, int lvl,
			 struct iopgt_xlate *out)
{
	v7s_pte_t pte;

	out->level = lvl;
	out->desc_pa = pa;
	out->desc = 0;
	if (fw->src->read(fw->src->ctx, pa, sizeof(pte), &pte)) {
		out->fault = IOPGT_FAULT_WALK_ABORT;
		return false;
	}
	out->desc = pte;
	if (!v7s_pte_is_valid(pte)) {
		out->fault = IOPGT_FAULT_TRANSLATION;
		return false;
	}
	return true;
}

static int v7s_fw_translate(void *state, uint64_t iova, unsigned int access,
			    struct iopgt_xlate *out)
{
	const struct v7s_fw *fw = state;
	unsigned int rwx = access & (IOPGT_ACCESS_READ | IOPGT_ACCESS_WRITE |
				     IOPGT_ACCESS_EXEC);
	bool ns_table = false;
	v7s_pte_t pte;
	uint64_t l2;
	int lvl = 1;

	if (!rwx || (rwx & (rwx - 1)) ||
	    access & ~(rwx | IOPGT_ACCESS_PRIV))
		return -EINVAL;
	*out = (struct iopgt_xlate){ .level = 1, .desc_pa = UINT64_MAX };
	if (iova >> fw->ias) {
		out->fault = IOPGT_FAULT_TRANSLATION;
		return 0;
	}
	if (fw->root + v7s_fw_pgd_size(fw) > fw->table_limit) {
		out->fault = IOPGT_FAULT_ADDRESS_SIZE;
		return 0;
	}
	if (!v7s_fw_fetch(fw, fw->root + (iova >> V7S_LVL_SHIFT(1)) * 4, 1,
			  out))
		return 0;
	pte = (v7s_pte_t)out->desc;
	if (v7s_pte_is_table(pte, 1)) {
		l2 = v7s_fw_table_pa(fw, pte);
		if (l2 + V7S_L2_TABLE_SIZE > fw->table_limit) {
			out->fault = IOPGT_FAULT_ADDRESS_SIZE;
			return 0;
		}
		ns_table = pte & V7S_PTE_NS_TABLE;
		lvl = 2;
		if (!v7s_fw_fetch(fw, l2 + V7S_L2_IDX(iova) * 4, 2, out))
			return 0;
		pte = (v7s_pte_t)out->desc;
	}
	out->fault = v7s_fw_leaf(fw, pte, lvl, access);
	if (out->fault == IOPGT_FAULT_NONE)
		v7s_fw_fill(fw, pte, lvl, ns_table, iova, out);
	return 0;
}

/* ---- walk and check ------------------------------------------------------ */

static size_t v7s_fw_hash(uint64_t pa, size_t cap)
{
	return (size_t)((pa >> 10) * 0x9e3779b97f4a7c15ULL) & (cap - 1);
}

/*
 * Add a level-2 table's PA to the set.  Returns: false when it was there.
 * The set never fills: it holds at most one PA per level-1 entry, and has
 * twice as many slots.
 */
static bool v7s_fw_seen_add(struct v7s_fw *fw, uint64_t pa)
{
	size_t i = v7s_fw_hash(pa, fw->seen_cap);

	while (fw->seen[i]) {
		if (fw->seen[i] == pa + 1)
			return false;
		i = (i + 1) & (fw->seen_cap - 1);
	}
	fw->seen[i] = pa + 1;
	return true;
}

static void v7s_fw_problem(struct v7s_fw *fw, enum iopgt_problem kind,
			   int lvl, uint64_t table, size_t i, v7s_pte_t pte,
			   uint64_t addr, const char *what)
{
	struct iopgt_problem_report r = {
		.kind = kind, .level = lvl, .table_pa = table,
		.index = (unsigned int)i, .desc = pte, .addr = addr,
		.what = what,
	};

	fw->problems++;
	if (fw->report)
		fw->report(fw->report_data, &r);
}

/* Problems of one leaf: those a walker would fault on or misread. */
static void v7s_fw_check_leaf(struct v7s_fw *fw, int lvl, uint64_t table,
			      size_t i, v7s_pte_t pte)
{
	uint64_t oa = v7s_fw_leaf_oa(fw, pte, lvl);

	if (lvl == 2 && v7s_pte_is_cont(pte, 2) && (pte & V7S_FW_LARGE_SBZ))
		v7s_fw_problem(fw, IOPGT_PROBLEM_RES0, 2, table, i, pte, oa,
			       "large page SBZ bits [8:6] set");
	if (v7s_fw_super_ext(fw, pte, lvl))
		v7s_fw_problem(fw, IOPGT_PROBLEM_BEYOND_OAS, 1, table, i, pte,
			       oa, "supersection extended base address (PA above 4 GiB) set");
	else if (v7s_fw_beyond_oas(fw, pte, lvl))
		v7s_fw_problem(fw, IOPGT_PROBLEM_BEYOND_OAS, lvl, table, i,
			       pte, oa, "output address beyond the output size");
	/* MediaTek keeps Linux's reading: [23:20] are address bits below
	 * the supersection's 16 MiB */
	if (fw->mtk && lvl == 1 && v7s_pte_is_cont(pte, 1) &&
	    (pte & GENMASK(23, 20)))
		v7s_fw_problem(fw, IOPGT_PROBLEM_MISALIGNED, 1, table, i, pte,
			       oa, "supersection address bits [23:20] set");
}

/*
 * A supersection or large page is one entry written 16 times into an
 * aligned group; any entry of the group that is not the same is reported,
 * once per group, at the first that differs from the first replicated
 * entry.
 */
static void v7s_fw_check_groups(struct v7s_fw *fw, int lvl, uint64_t table,
				const v7s_pte_t *ptes, size_t n)
{
	for (size_t g = 0; g + V7S_CONT_PAGES <= n; g += V7S_CONT_PAGES) {
		const v7s_pte_t *grp = &ptes[g];
		size_t c = 0, j;

		while (c < V7S_CONT_PAGES &&
		       !(v7s_pte_is_valid(grp[c]) &&
			 !v7s_pte_is_table(grp[c], lvl) &&
			 v7s_pte_is_cont(grp[c], lvl)))
			c++;
		if (c == V7S_CONT_PAGES)
			continue;
		for (j = 0; j < V7S_CONT_PAGES && grp[j] == grp[c]; j++)
			;
		if (j < V7S_CONT_PAGES)
			v7s_fw_problem(fw, IOPGT_PROBLEM_REPLICA, lvl, table,
				       g + j, grp[j],
				       v7s_fw_leaf_oa(fw, grp[c], lvl),
				       lvl == 1 ? "supersection not written 16 times alike" :
						  "large page not written 16 times alike");
	}
}

/* Whether the walk may enter the level-2 table level-1 entry i points at. */
static bool v7s_fw_check_next(struct v7s_fw *fw, size_t i, v7s_pte_t pte)
{
	uint64_t next = v7s_fw_table_pa(fw, pte);
	uint64_t pgd_end = fw->root + v7s_fw_pgd_size(fw);

	if (!fw->mtk && (pte & V7S_FW_TABLE_SBZ))
		v7s_fw_problem(fw, IOPGT_PROBLEM_RES0, 1, fw->root, i, pte,
			       next, "table descriptor SBZ bit 4 set");
	if (next + V7S_L2_TABLE_SIZE > fw->table_limit) {
		v7s_fw_problem(fw, IOPGT_PROBLEM_BEYOND_OAS, 1, fw->root, i,
			       pte, next, "table address beyond the table limit");
		return false;
	}
	if (next == fw->root) {
		v7s_fw_problem(fw, IOPGT_PROBLEM_LOOP, 1, fw->root, i, pte,
			       next, "table points back to the level-1 table");
		return false;
	}
	if (next < pgd_end && fw->root < next + V7S_L2_TABLE_SIZE) {
		v7s_fw_problem(fw, IOPGT_PROBLEM_OVERLAP, 1, fw->root, i, pte,
			       next, "table overlaps the level-1 table");
		return false;
	}
	if (!v7s_fw_seen_add(fw, next)) {
		v7s_fw_problem(fw, IOPGT_PROBLEM_SHARED, 1, fw->root, i, pte,
			       next, "table referenced twice");
		return false;
	}
	return true;
}

/* One valid entry, as the live walk reports it (v7s_visit_entry). */
static int v7s_fw_visit(struct v7s_fw *fw, v7s_pte_t pte, int lvl, size_t i,
			uint64_t iova)
{
	struct iopgt_walk_entry e = {
		.level = lvl,
		.index = (unsigned int)i,
		.iova = (unsigned long)iova,
		.size = V7S_BLOCK_SIZE(lvl),
		.raw = pte,
		.kind = IOPGT_ENTRY_LEAF,
	};

	if (v7s_pte_is_table(pte, lvl)) {
		e.kind = IOPGT_ENTRY_TABLE;
		e.oa = v7s_fw_table_pa(fw, pte);
	} else {
		e.size = (size_t)v7s_fw_leaf_size(pte, lvl);
		e.iova &= ~(e.size - 1);
		e.oa = v7s_fw_leaf_oa(fw, pte, lvl);
		e.prot = v7s_pte_to_prot(pte, lvl, fw->quirks);
	}
	return fw->visit && fw->visit->entry ?
		       fw->visit->entry(fw->visit_data, &e) : 0;
}

/* table() before the entries, table_end() after, as the live walk. */
static int v7s_fw_table_begin(struct v7s_fw *fw, uint64_t pa,
			      const void *va, size_t size, int lvl)
{
	return fw->visit && fw->visit->table ?
		       fw->visit->table(fw->visit_data, pa, va, size, lvl) : 0;
}

static int v7s_fw_table_end(struct v7s_fw *fw, uint64_t pa, int lvl)
{
	return fw->visit && fw->visit->table_end ?
		       fw->visit->table_end(fw->visit_data, pa, lvl) : 0;
}

static int v7s_fw_l2(struct v7s_fw *fw, size_t l1_idx, uint64_t pa)
{
	uint64_t iova = (uint64_t)l1_idx << V7S_LVL_SHIFT(1);
	int ret;

	if (fw->src->read(fw->src->ctx, pa, sizeof(fw->l2), fw->l2)) {
		v7s_fw_problem(fw, IOPGT_PROBLEM_READ, 2, pa, 0, 0, pa,
			       "table could not be read");
		return 0;
	}
	ret = v7s_fw_table_begin(fw, pa, fw->l2, sizeof(fw->l2), 2);
	if (ret)
		return ret;
	v7s_fw_check_groups(fw, 2, pa, fw->l2, V7S_L2_ENTRIES);
	for (size_t i = 0; i < V7S_L2_ENTRIES; i++) {
		v7s_pte_t pte = fw->l2[i];

		if (!v7s_pte_is_valid(pte))
			continue;
		v7s_fw_check_leaf(fw, 2, pa, i, pte);
		ret = v7s_fw_visit(fw, pte, 2, i,
				   iova + i * V7S_BLOCK_SIZE(2));
		if (ret)
			return ret;
	}
	return v7s_fw_table_end(fw, pa, 2);
}

static int v7s_fw_l1_entry(struct v7s_fw *fw, size_t i)
{
	v7s_pte_t pte = fw->l1[i];
	int ret;

	if (!v7s_pte_is_table(pte, 1))
		v7s_fw_check_leaf(fw, 1, fw->root, i, pte);
	ret = v7s_fw_visit(fw, pte, 1, i, (uint64_t)i << V7S_LVL_SHIFT(1));
	if (ret || !v7s_pte_is_table(pte, 1) || !v7s_fw_check_next(fw, i, pte))
		return ret;
	return v7s_fw_l2(fw, i, v7s_fw_table_pa(fw, pte));
}

/* From the level-1 table, with a fresh set; its own problems first. */
static int v7s_fw_run(struct v7s_fw *fw)
{
	size_t pgd_size = v7s_fw_pgd_size(fw);
	int ret;

	fw->problems = 0;
	memset(fw->seen, 0, fw->seen_cap * sizeof(*fw->seen));
	if (fw->root + pgd_size > fw->table_limit) {
		v7s_fw_problem(fw, IOPGT_PROBLEM_BEYOND_OAS, 1, fw->root, 0, 0,
			       fw->root, "level-1 table beyond the table limit");
		return 0;
	}
	/* TTBR's base field ends at bit 7: smaller tables cannot be off */
	if (fw->root & (pgd_size - 1))
		v7s_fw_problem(fw, IOPGT_PROBLEM_MISALIGNED, 1, fw->root, 0, 0,
			       fw->root, "level-1 table not aligned to its size");
	if (fw->src->read(fw->src->ctx, fw->root, pgd_size, fw->l1)) {
		v7s_fw_problem(fw, IOPGT_PROBLEM_READ, 1, fw->root, 0, 0,
			       fw->root, "table could not be read");
		return 0;
	}
	ret = v7s_fw_table_begin(fw, fw->root, fw->l1, pgd_size, 1);
	if (ret)
		return ret;
	v7s_fw_check_groups(fw, 1, fw->root, fw->l1, fw->l1_entries);
	for (size_t i = 0; i < fw->l1_entries; i++) {
		if (!v7s_pte_is_valid(fw->l1[i]))
			continue;
		ret = v7s_fw_l1_entry(fw, i);
		if (ret)
			return ret;
	}
	return v7s_fw_table_end(fw, fw->root, 1);
}

static int v7s_fw_walk(void *state, const struct iopgt_walk_ops *visit,
		       void *data)
{
	struct v7s_fw *fw = state;
	int ret;

	if (!visit)
		return -EINVAL;
	fw->visit = visit;
	fw->visit_data = data;
	fw->report = NULL;
	ret = v7s_fw_run(fw);
	fw->visit = NULL;
	return ret;
}

static int v7s_fw_check(void *state, iopgt_problem_fn report, void *data)
{
	struct v7s_fw *fw = state;
	int ret;

	fw->report = report;
	fw->report_data = data;
	ret = v7s_fw_run(fw);
	fw->report = NULL;
	return ret < 0 ? ret : fw->problems;
}

const struct iopgt_foreign_ops v7s_foreign_ops = {
	.open = v7s_fw_open,
	.translate = v7s_fw_translate,
	.walk = v7s_fw_walk,
	.check = v7s_fw_check,
	.close = v7s_fw_close,
};
