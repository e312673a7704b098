// SPDX-License-Identifier: MIT
/*
 * Foreign walks of the LPAE formats: tables built elsewhere (a crash dump,
 * a guest's memory, a saved image) read through iopgt_foreign_src, as the
 * hardware walker reads them (docs/formats/lpae.md).  The geometry and
 * descriptor decoding are the live table's (lpae-pgtable.h); the five ops
 * tables below are hooked into the format definitions at the end of
 * io-pgtable-arm.c as their iopgt_format.foreign.
 *
 * The hardware's view of a table in memory the format never allocated:
 * the geometry comes from the registers alone (as the walker reads them),
 * every descriptor from the source's read(), and nothing in that memory is
 * trusted.  A walk or check enters each table once (a visited set of
 * table PAs, grown through the host's zalloc), stops after
 * LPAE_FW_MAX_TABLES tables and holds one table per level, so a hostile
 * image costs bounded time and memory whatever its pointers say.
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

#include "lpae-foreign.h"
#include "lpae-pgtable.h"

#define LPAE_FW_MAX_TABLES	(1U << 20)

struct lpae_fw {
	struct lpae_pgtable g;		/* geometry only: no tables */
	const struct iopgt_foreign_src *src;
	uint64_t root;			/* the pgd's PA from the base register */
	uint64_t attrs;			/* MAIR (stage 1) or MEMATTR (Mali) */
	bool hw_af;			/* TCR.HA: no access flag faults */
	bool hw_dirty;			/* TCR.HD: DBM makes AP[2] writeable */
	lpae_pte_t *buf[LPAE_MAX_LEVELS];	/* one table per level */
	/* one walk or check */
	uint64_t *seen;			/* open addressing, PA + 1; 0 empty */
	size_t seen_cap;
	size_t seen_n;
	uint64_t path[LPAE_MAX_LEVELS];	/* tables from the root down */
	size_t tables;
	int problems;
	iopgt_problem_fn report;
	void *report_data;
	const struct iopgt_walk_ops *visit;
	void *visit_data;
};

/* Bits a descriptor of this geometry must hold zero: [50:48]. */
#define LPAE_FW_RES0		GENMASK_ULL(50, 48)

static int lpae_fw_reg(const struct lpae_fw *fw, const char *name,
		       uint64_t *v)
{
	if (fw->src->reg(fw->src->ctx, name, v) == 0)
		return 0;
	iopgt_env_warn(&fw->g.env, "foreign: register '%s' not given", name);
	return -EINVAL;
}

static uint64_t lpae_fw_reg_or(const struct lpae_fw *fw, const char *name,
			       uint64_t dflt)
{
	uint64_t v;

	return fw->src->reg(fw->src->ctx, name, &v) ? dflt : v;
}

/* TCR.IPS / VTCR.PS to bits: the inverse of lpae_ps_bits(). */
static int lpae_fw_ps(const struct lpae_fw *fw, uint64_t ps)
{
	static const uint8_t bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	if (ps < IOPGT_ARRAY_SIZE(bits))
		return bits[ps];
	iopgt_env_warn(&fw->g.env, "foreign: PS/IPS %llu is reserved",
		       (unsigned long long)ps);
	return -EINVAL;
}

/* TCR.TG0 (or TG1 with TTBR1) / VTCR.TG0 to the granule shift. */
static int lpae_fw_tg(const struct lpae_fw *fw, uint64_t tg, bool tg1)
{
	static const int8_t tg0[] = { 12, 16, 14, -1 };
	static const int8_t tg1s[] = { -1, 14, 12, 16 };
	int shift = tg < 4 ? (tg1 ? tg1s : tg0)[tg] : -1;

	if (shift < 0)
		iopgt_env_warn(&fw->g.env, "foreign: TG %llu is reserved",
			       (unsigned long long)tg);
	return shift < 0 ? -EINVAL : shift;
}

/* The base register's table address; 52-bit PAs keep PA[51:48] in [5:2]. */
static uint64_t lpae_fw_baddr(const struct lpae_fw *fw, uint64_t reg)
{
	uint64_t pa = reg & GENMASK_ULL(47, 1);

	if (fw->g.oa_hi)
		pa = (pa & GENMASK_ULL(47, 6)) |
		     ((reg & GENMASK_ULL(5, 2)) << 46);
	return pa;
}

/* Levels and pgd size of a walk of ias bits from start level sl. */
static int lpae_fw_levels(struct lpae_fw *fw, int pg_shift, unsigned int ias,
			  int sl)
{
	struct lpae_pgtable *d = &fw->g;
	unsigned int max = pg_shift == 16 ? 52 : 48;
	int bpl = pg_shift - 3;

	if (ias <= (unsigned int)pg_shift || ias > max) {
		iopgt_env_warn(&d->env, "foreign: input size %u bits out of range for a %d-bit granule",
			       ias, pg_shift);
		return -EINVAL;
	}
	d->bits_per_level = bpl;
	if (sl < 0)	/* stage 1: as few levels as cover ias */
		sl = LPAE_MAX_LEVELS -
		     (int)((ias - pg_shift + bpl - 1) / bpl);
	d->start_level = sl;
	d->pgd_bits = (int)ias - LPAE_LVL_SHIFT(sl, bpl);
	/* a stage-2 start level may concatenate up to 16 tables */
	if (sl < 0 || d->pgd_bits > bpl + 4 ||
	    (d->pgd_bits < 1 && d->stage != LPAE_MALI)) {
		iopgt_env_warn(&d->env, "foreign: start level %d cannot translate %u bits with a %d-bit granule",
			       sl, ias, pg_shift);
		return -EINVAL;
	}
	if (d->pgd_bits < 0)
		d->pgd_bits = 0;
	d->ias = ias;
	return 0;
}

static int lpae_fw_open_s1(struct lpae_fw *fw)
{
	uint64_t tg, tsz, ips, ttbr;
	int shift, oas, ret;

	ret = lpae_fw_reg(fw, "ttbr", &ttbr);
	if (!ret)
		ret = lpae_fw_reg(fw, "tcr.tg", &tg);
	if (!ret)
		ret = lpae_fw_reg(fw, "tcr.tsz", &tsz);
	if (!ret)
		ret = lpae_fw_reg(fw, "tcr.ips", &ips);
	if (ret)
		return ret;
	shift = lpae_fw_tg(fw, tg, fw->g.quirks & IO_PGTABLE_QUIRK_ARM_TTBR1);
	oas = lpae_fw_ps(fw, ips);
	if (shift < 0 || oas < 0 || tsz > 64)
		return -EINVAL;
	fw->g.oas = oas;
	fw->g.oa_hi = oas > 48;
	fw->root = lpae_fw_baddr(fw, ttbr);
	fw->attrs = lpae_fw_reg_or(fw, "mair", 0);
	/* Linux sets TCR.HA and TCR.HD together, for ARM_HD */
	fw->hw_af = fw->hw_dirty = fw->g.quirks & IO_PGTABLE_QUIRK_ARM_HD;
	return lpae_fw_levels(fw, shift, 64 - (unsigned int)tsz, -1);
}

static int lpae_fw_open_s2(struct lpae_fw *fw)
{
	uint64_t tg, tsz, ps, sl0, vttbr;
	int shift, oas, sl, ret;

	ret = lpae_fw_reg(fw, "vttbr", &vttbr);
	if (!ret)
		ret = lpae_fw_reg(fw, "vtcr.tg", &tg);
	if (!ret)
		ret = lpae_fw_reg(fw, "vtcr.tsz", &tsz);
	if (!ret)
		ret = lpae_fw_reg(fw, "vtcr.ps", &ps);
	if (!ret)
		ret = lpae_fw_reg(fw, "vtcr.sl", &sl0);
	if (ret)
		return ret;
	shift = lpae_fw_tg(fw, tg, false);
	oas = lpae_fw_ps(fw, ps);
	if (shift < 0 || oas < 0 || tsz > 64 || sl0 > 3)
		return -EINVAL;
	/* SL0 counts down from level 2 with 4K, from level 3 otherwise */
	sl = (shift == 12 ? 2 : 3) - (int)sl0;
	fw->g.oas = oas;
	fw->g.oa_hi = oas > 48;
	fw->root = lpae_fw_baddr(fw, vttbr);
	return lpae_fw_levels(fw, shift, 64 - (unsigned int)tsz, sl);
}

/* Mali: 4K, always four levels; ias and oas from the note when known. */
static int lpae_fw_open_mali(struct lpae_fw *fw)
{
	unsigned int ias;
	uint64_t transtab;
	int ret;

	ret = lpae_fw_reg(fw, "transtab", &transtab);
	if (ret)
		return ret;
	fw->g.oas = (unsigned int)lpae_fw_reg_or(fw, "oas", 40);
	if (fw->g.oas > 48 || fw->g.oas < 32) {
		iopgt_env_warn(&fw->g.env, "foreign: oas %u out of range",
			       fw->g.oas);
		return -EINVAL;
	}
	fw->root = transtab & LPAE_PTE_ADDR_MASK;
	fw->attrs = lpae_fw_reg_or(fw, "memattr", 0);
	ias = (unsigned int)lpae_fw_reg_or(fw, "ias", 48);
	return lpae_fw_levels(fw, 12, ias, 0);
}

static void lpae_fw_close(void *state)
{
	struct lpae_fw *fw = state;
	const struct iopgt_env *env = &fw->g.env;

	for (int l = 0; l < LPAE_MAX_LEVELS; l++)
		env->svc->free(env->mem, fw->buf[l]);
	env->svc->free(env->mem, fw->seen);
	env->svc->free(env->mem, fw);
}

static int lpae_fw_open(enum lpae_fmt_id id,
			const struct iopgt_foreign_src *src,
			const struct iopgt_env *env, void **state)
{
	struct lpae_fw *fw = env->svc->zalloc(env->mem, sizeof(*fw));
	struct lpae_pgtable *d;
	struct iopgt_cfg cfg = { 0 };
	int ret;

	if (!fw)
		return -ENOMEM;
	d = &fw->g;
	d->env = *env;
	d->id = id;
	d->stage = lpae_fmt_info[id].stage;
	fw->src = src;
	d->quirks = lpae_fw_reg_or(fw, "quirks", 0) & lpae_fmt_info[id].quirks;
	d->coherent = true;
	switch (d->stage) {
	case LPAE_STAGE1:
		ret = lpae_fw_open_s1(fw);
		break;
	case LPAE_STAGE2:
		ret = lpae_fw_open_s2(fw);
		break;
	default:
		ret = lpae_fw_open_mali(fw);
		break;
	}
	if (ret)
		goto out_close;
	cfg.oas = d->oas;
	cfg.quirks = d->quirks;
	d->iaext_xor = d->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1 ? ~0L : 0;
	d->pgd_size = 8UL << d->pgd_bits;
	lpae_init_lookup(d, &cfg);
	for (int l = d->start_level; l < LPAE_MAX_LEVELS; l++) {
		fw->buf[l] = env->svc->zalloc(env->mem,
					      lpae_table_entries(d, l) * 8);
		if (!fw->buf[l]) {
			ret = -ENOMEM;
			goto out_close;
		}
	}
	*state = fw;
	return 0;

out_close:
	lpae_fw_close(fw);
	return ret;
}

/* Blocks the architecture has: 4K at levels 1-2, 16K at 2, 64K at 2 (and
 * 1 with 52-bit PAs); Mali's ATE is a leaf at every level below 0. */
static bool lpae_fw_block_ok(const struct lpae_fw *fw, int lvl)
{
	const struct lpae_pgtable *d = &fw->g;

	if (lvl == LPAE_MAX_LEVELS - 1 || d->stage == LPAE_MALI)
		return lvl > 0;
	switch (d->bits_per_level) {
	case 9:
		return lvl >= 1;
	case 11:
		return lvl == 2;
	default:
		return lvl == 2 || (lvl == 1 && d->oa_hi);
	}
}

/* Output address of a leaf: PA[51:48] included, block offset dropped. */
static uint64_t lpae_fw_leaf_oa(const struct lpae_fw *fw, lpae_pte_t pte,
				int lvl)
{
	return pte_to_paddr(&fw->g, pte) & ~(uint64_t)fw->g.lvl_offset[lvl];
}

/* The permission check of one leaf, stage by stage. */
static bool lpae_fw_permits(const struct lpae_fw *fw, lpae_pte_t pte,
			    unsigned int access)
{
	bool priv = access & IOPGT_ACCESS_PRIV;

	if (fw->g.stage != LPAE_STAGE1) {
		if ((access & IOPGT_ACCESS_READ) && !(pte & LPAE_PTE_HAP_READ))
			return false;
		if ((access & IOPGT_ACCESS_WRITE) &&
		    !(pte & LPAE_PTE_HAP_WRITE))
			return false;
		return !((access & IOPGT_ACCESS_EXEC) && (pte & LPAE_PTE_XN));
	}
	if (!priv && !(pte & LPAE_PTE_AP_UNPRIV))
		return false;
	if ((access & IOPGT_ACCESS_WRITE) && (pte & LPAE_PTE_AP_RDONLY) &&
	    !(fw->hw_dirty && (pte & LPAE_PTE_DBM)))
		return false;
	/* PXN is bit 53, UXN bit 54 */
	return !((access & IOPGT_ACCESS_EXEC) &&
		 (pte & (priv ? BIT_ULL(53) : BIT_ULL(54))));
}

/* A leaf that passed every check: its mapping and attributes. */
static void lpae_fw_fill(const struct lpae_fw *fw, lpae_pte_t pte, int lvl,
			 uint64_t iova, struct iopgt_xlate *out)
{
	uint64_t off = fw->g.lvl_offset[lvl];

	out->base = iova & ~off;
	out->size = off + 1;
	out->oa = lpae_fw_leaf_oa(fw, pte, lvl) | (iova & off);
	out->prot = lpae_pte_to_prot(&fw->g, pte);
	out->sh = (unsigned int)FIELD_GET(LPAE_PTE_SH, pte);
	if (fw->g.stage == LPAE_STAGE2) {
		out->memattr = (unsigned int)FIELD_GET(LPAE_PTE_MEMATTR, pte);
	} else {
		unsigned int idx = (unsigned int)FIELD_GET(LPAE_PTE_ATTRINDX,
							   pte);

		out->memattr = (unsigned int)(fw->attrs >> (8 * idx)) & 0xff;
		out->ns = fw->g.stage == LPAE_STAGE1 && (pte & LPAE_PTE_NS);
	}
}

/* Translation, address size, access flag, permission: Arm's order. */
static enum iopgt_fault lpae_fw_leaf(const struct lpae_fw *fw,
				     lpae_pte_t pte, int lvl,
				     unsigned int access)
{
	const struct lpae_pgtable *d = &fw->g;

	if (!pte_is_leaf(d, pte, lvl) || !lpae_fw_block_ok(fw, lvl))
		return IOPGT_FAULT_TRANSLATION;
	if ((lpae_fw_leaf_oa(fw, pte, lvl) + d->lvl_offset[lvl]) >> d->oas)
		return IOPGT_FAULT_ADDRESS_SIZE;
	if (d->stage != LPAE_MALI && !(pte & LPAE_PTE_AF) && !fw->hw_af)
		return IOPGT_FAULT_ACCESS_FLAG;
	if (!lpae_fw_permits(fw, pte, access))
		return IOPGT_FAULT_PERMISSION;
	return IOPGT_FAULT_NONE;
}

static int lpae_fw_translate(void *state, uint64_t iova, unsigned int access,
			     struct iopgt_xlate *out)
{
	const struct lpae_fw *fw = state;
	const struct lpae_pgtable *d = &fw->g;
	unsigned int rwx = access & (IOPGT_ACCESS_READ | IOPGT_ACCESS_WRITE |
				     IOPGT_ACCESS_EXEC);
	uint64_t table = fw->root;

	if (!rwx || (rwx & (rwx - 1)) ||
	    access & ~(rwx | IOPGT_ACCESS_PRIV))
		return -EINVAL;
	*out = (struct iopgt_xlate){ .level = d->start_level,
				     .desc_pa = UINT64_MAX };
	if (!lpae_iova_in_range(d, iova)) {
		out->fault = IOPGT_FAULT_TRANSLATION;
		return 0;
	}
	if ((table + d->pgd_size - 1) >> d->oas) {
		out->fault = IOPGT_FAULT_ADDRESS_SIZE;
		return 0;
	}
	for (int lvl = d->start_level; lvl < LPAE_MAX_LEVELS; lvl++) {
		uint64_t pa = table + LPAE_LVL_IDX(d, iova, lvl) * 8;
		lpae_pte_t pte;

		out->level = lvl;
		out->desc_pa = pa;
		out->desc = 0;
		if (fw->src->read(fw->src->ctx, pa, sizeof(pte), &pte)) {
			out->fault = IOPGT_FAULT_WALK_ABORT;
			return 0;
		}
		out->desc = pte;
		if (!(pte & 1)) {
			out->fault = IOPGT_FAULT_TRANSLATION;
			return 0;
		}
		if (!pte_is_table(pte, lvl) ||
		    (d->stage == LPAE_MALI && lvl == LPAE_MAX_LEVELS - 1))
			break;
		table = pte_to_paddr(d, pte) & ~(LPAE_GRANULE(d) - 1);
		if ((table + LPAE_GRANULE(d) - 1) >> d->oas) {
			out->fault = IOPGT_FAULT_ADDRESS_SIZE;
			return 0;
		}
	}
	out->fault = lpae_fw_leaf(fw, out->desc, out->level, access);
	if (out->fault == IOPGT_FAULT_NONE)
		lpae_fw_fill(fw, out->desc, out->level, iova, out);
	return 0;
}

/* ---- the visited set and problem reports --------------------------------- */

static size_t lpae_fw_hash(uint64_t pa, size_t cap)
{
	return (size_t)((pa >> 10) * 0x9e3779b97f4a7c15ULL) & (cap - 1);
}

static bool lpae_fw_seen_has(const struct lpae_fw *fw, uint64_t pa)
{
	for (size_t i = lpae_fw_hash(pa, fw->seen_cap);; i = (i + 1) &
	     (fw->seen_cap - 1)) {
		if (fw->seen[i] == pa + 1)
			return true;
		if (!fw->seen[i])
			return false;
	}
}

static void lpae_fw_seen_put(uint64_t *set, size_t cap, uint64_t key)
{
	size_t i = lpae_fw_hash(key - 1, cap);

	while (set[i])
		i = (i + 1) & (cap - 1);
	set[i] = key;
}

/* Add pa, doubling the set at half full.  Returns: 0 or -ENOMEM. */
static int lpae_fw_seen_add(struct lpae_fw *fw, uint64_t pa)
{
	const struct iopgt_env *env = &fw->g.env;

	if (2 * (fw->seen_n + 1) > fw->seen_cap) {
		size_t cap = fw->seen_cap ? 2 * fw->seen_cap : 256;
		uint64_t *set = env->svc->zalloc(env->mem, cap * 8);

		if (!set)
			return -ENOMEM;
		for (size_t i = 0; i < fw->seen_cap; i++)
			if (fw->seen[i])
				lpae_fw_seen_put(set, cap, fw->seen[i]);
		env->svc->free(env->mem, fw->seen);
		fw->seen = set;
		fw->seen_cap = cap;
	}
	lpae_fw_seen_put(fw->seen, fw->seen_cap, pa + 1);
	fw->seen_n++;
	return 0;
}

static void lpae_fw_problem(struct lpae_fw *fw, enum iopgt_problem kind,
			    int lvl, uint64_t table, size_t i,
			    lpae_pte_t pte, uint64_t addr, const char *what)
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
static void lpae_fw_check_leaf(struct lpae_fw *fw, int lvl, uint64_t table,
			       size_t i, lpae_pte_t pte)
{
	const struct lpae_pgtable *d = &fw->g;
	uint64_t oa = pte_to_paddr(d, pte);

	if (!lpae_fw_block_ok(fw, lvl))
		lpae_fw_problem(fw, IOPGT_PROBLEM_RES0, lvl, table, i, pte, oa,
				"block descriptor at a level that has none");
	if (pte & LPAE_FW_RES0)
		lpae_fw_problem(fw, IOPGT_PROBLEM_RES0, lvl, table, i, pte, oa,
				"RES0 bits [50:48] set");
	if (oa & d->lvl_offset[lvl])
		lpae_fw_problem(fw, IOPGT_PROBLEM_MISALIGNED, lvl, table, i,
				pte, oa, "output address not aligned to its block");
	if ((oa | d->lvl_offset[lvl]) >> d->oas)
		lpae_fw_problem(fw, IOPGT_PROBLEM_BEYOND_OAS, lvl, table, i,
				pte, oa, "output address beyond the output size");
}

/* Whether the walk may enter the table an entry points at. */
static bool lpae_fw_check_next(struct lpae_fw *fw, int lvl, uint64_t table,
			       size_t i, lpae_pte_t pte)
{
	const struct lpae_pgtable *d = &fw->g;
	uint64_t next = pte_to_paddr(d, pte);

	if (pte & LPAE_FW_RES0)
		lpae_fw_problem(fw, IOPGT_PROBLEM_RES0, lvl, table, i, pte,
				next, "RES0 bits [50:48] set");
	if ((next + LPAE_GRANULE(d) - 1) >> d->oas) {
		lpae_fw_problem(fw, IOPGT_PROBLEM_BEYOND_OAS, lvl, table, i,
				pte, next, "table address beyond the output size");
		return false;
	}
	if (next & (LPAE_GRANULE(d) - 1)) {
		lpae_fw_problem(fw, IOPGT_PROBLEM_MISALIGNED, lvl, table, i,
				pte, next, "table address not aligned to the granule");
		return false;
	}
	if (next < fw->root + d->pgd_size && fw->root < next + LPAE_GRANULE(d) &&
	    next != fw->root) {
		lpae_fw_problem(fw, IOPGT_PROBLEM_OVERLAP, lvl, table, i, pte,
				next, "table overlaps the root table");
		return false;
	}
	return true;
}

/* A table seen before: a loop when it is on the way down, else shared. */
static bool lpae_fw_enter(struct lpae_fw *fw, int lvl, uint64_t pa,
			  uint64_t parent, size_t i, lpae_pte_t pte, int *ret)
{
	*ret = 0;
	if (fw->seen_cap && lpae_fw_seen_has(fw, pa)) {
		bool loop = false;

		for (int l = fw->g.start_level; l < lvl; l++)
			loop |= fw->path[l] == pa;
		lpae_fw_problem(fw, loop ? IOPGT_PROBLEM_LOOP :
					   IOPGT_PROBLEM_SHARED,
				lvl - 1, parent, i, pte, pa,
				loop ? "table points back to a table above it" :
				       "table referenced twice");
		return false;
	}
	if (fw->tables >= LPAE_FW_MAX_TABLES) {
		*ret = -E2BIG;
		lpae_fw_problem(fw, IOPGT_PROBLEM_LIMIT, lvl - 1, parent, i,
				pte, pa, "more than 2^20 tables: walk stopped");
		return false;
	}
	*ret = lpae_fw_seen_add(fw, pa);
	fw->tables++;
	return !*ret;
}

static int lpae_fw_table(struct lpae_fw *fw, int lvl, uint64_t pa,
			 uint64_t base);

/* One non-empty entry: visit it and go down a table entry. */
static int lpae_fw_entry(struct lpae_fw *fw, int lvl, uint64_t pa, size_t i,
			 uint64_t base)
{
	const struct lpae_pgtable *d = &fw->g;
	lpae_pte_t pte = fw->buf[lvl][i];
	struct iopgt_walk_entry e = {
		.level = lvl,
		.index = (unsigned int)i,
		.iova = base + (i << d->lvl_shift[lvl]),
		.size = LPAE_BLOCK_SIZE(d, lvl),
		.raw = pte,
		.oa = pte_to_paddr(d, pte),
	};
	bool down = false;
	int ret = 0;	/* a leaf, or a table not to enter: nothing failed */

	if (pte_is_table(pte, lvl) &&
	    !(d->stage == LPAE_MALI && lvl == LPAE_MAX_LEVELS - 1)) {
		e.kind = IOPGT_ENTRY_TABLE;
		down = lpae_fw_check_next(fw, lvl, pa, i, pte);
	} else if (pte_is_leaf(d, pte, lvl)) {
		e.kind = IOPGT_ENTRY_LEAF;
		e.prot = lpae_pte_to_prot(d, pte);
		lpae_fw_check_leaf(fw, lvl, pa, i, pte);
	} else {
		if (pte & 1)
			lpae_fw_problem(fw, IOPGT_PROBLEM_RES0, lvl, pa, i,
					pte, 0, "reserved descriptor type");
		return 0;
	}
	if (fw->visit && fw->visit->entry) {
		ret = fw->visit->entry(fw->visit_data, &e);
		if (ret)
			return ret;
	}
	if (!down || !lpae_fw_enter(fw, lvl + 1, e.oa, pa, i, pte, &ret))
		return ret;
	return lpae_fw_table(fw, lvl + 1, e.oa, e.iova);
}

static int lpae_fw_table(struct lpae_fw *fw, int lvl, uint64_t pa,
			 uint64_t base)
{
	size_t n = lpae_table_entries(&fw->g, lvl);
	int ret;

	fw->path[lvl] = pa;
	if (fw->src->read(fw->src->ctx, pa, n * 8, fw->buf[lvl])) {
		lpae_fw_problem(fw, IOPGT_PROBLEM_READ, lvl, pa, 0, 0, pa,
				"table could not be read");
		return 0;
	}
	if (fw->visit && fw->visit->table) {
		ret = fw->visit->table(fw->visit_data, pa, fw->buf[lvl],
				       n * 8, lvl);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < n; i++) {
		if (!fw->buf[lvl][i])
			continue;
		ret = lpae_fw_entry(fw, lvl, pa, i, base);
		if (ret)
			return ret;
	}
	return fw->visit && fw->visit->table_end ?
		       fw->visit->table_end(fw->visit_data, pa, lvl) : 0;
}

/* From the root, with a fresh visited set; the root's own problems first. */
static int lpae_fw_run(struct lpae_fw *fw)
{
	const struct lpae_pgtable *d = &fw->g;
	size_t align = d->pgd_size < 64 ? 64 : d->pgd_size;
	int lvl = d->start_level, ret;

	fw->seen_n = 0;
	fw->tables = 1;
	fw->problems = 0;
	if (fw->seen)
		memset(fw->seen, 0, fw->seen_cap * 8);
	if ((fw->root + d->pgd_size - 1) >> d->oas) {
		lpae_fw_problem(fw, IOPGT_PROBLEM_BEYOND_OAS, lvl, fw->root, 0,
				0, fw->root, "root table beyond the output size");
		return 0;
	}
	if (fw->root & (align - 1))
		lpae_fw_problem(fw, IOPGT_PROBLEM_MISALIGNED, lvl, fw->root,
				0, 0, fw->root, "root table not aligned to its size");
	ret = lpae_fw_seen_add(fw, fw->root);
	if (ret)
		return ret;
	return lpae_fw_table(fw, lvl, fw->root,
			     d->iaext_xor ? ~0ULL << d->ias : 0);
}

static int lpae_fw_walk(void *state, const struct iopgt_walk_ops *visit,
			void *data)
{
	struct lpae_fw *fw = state;
	int ret;

	if (!visit)
		return -EINVAL;
	fw->visit = visit;
	fw->visit_data = data;
	fw->report = NULL;
	ret = lpae_fw_run(fw);
	fw->visit = NULL;
	return ret;
}

static int lpae_fw_check(void *state, iopgt_problem_fn report, void *data)
{
	struct lpae_fw *fw = state;
	int ret;

	fw->report = report;
	fw->report_data = data;
	ret = lpae_fw_run(fw);
	fw->report = NULL;
	if (ret == -E2BIG)
		ret = 0;	/* reported as IOPGT_PROBLEM_LIMIT */
	return ret < 0 ? ret : fw->problems;
}

#define LPAE_FOREIGN_OPS(var, id)                                             \
	static int var##_open(const struct iopgt_foreign_src *src,            \
			      const struct iopgt_env *env, void **state)      \
	{                                                                     \
		return lpae_fw_open(id, src, env, state);                     \
	}                                                                     \
	const struct iopgt_foreign_ops var = {                         \
		.open = var##_open,                                           \
		.translate = lpae_fw_translate,                               \
		.walk = lpae_fw_walk,                                         \
		.check = lpae_fw_check,                                       \
		.close = lpae_fw_close,                                       \
	}

LPAE_FOREIGN_OPS(lpae_foreign_64_s1, LPAE_FMT_64_S1);
LPAE_FOREIGN_OPS(lpae_foreign_64_s2, LPAE_FMT_64_S2);
LPAE_FOREIGN_OPS(lpae_foreign_32_s1, LPAE_FMT_32_S1);
LPAE_FOREIGN_OPS(lpae_foreign_32_s2, LPAE_FMT_32_S2);
LPAE_FOREIGN_OPS(lpae_foreign_mali, LPAE_FMT_MALI);
