/* SPDX-License-Identifier: MIT */
/*
 * The page-table contract: the shapes of Linux io_pgtable_cfg, io_pgtable_ops,
 * iommu_flush_ops and iommu_iotlb_gather, written for a userspace host.
 *
 * Someone porting a Linux format finds the same fields under the same names:
 * quirk bits and IOMMU_* prot bits keep Linux's values, the per-format
 * register outputs keep Linux's field names, and every op keeps Linux's
 * return convention (written once, below, next to the op).
 *
 * Formats are registered by name, never by a central enum, so a third-party
 * format needs no host change.
 */
#ifndef IOPGT_PGTABLE_H
#define IOPGT_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iopgt_env;
struct iopgt_format;
struct iopgt_image_src;

/* ---- protection flags (include/linux/iommu.h values) -------------------- */
#define IOMMU_READ		(1 << 0)
#define IOMMU_WRITE		(1 << 1)
#define IOMMU_CACHE		(1 << 2)	/* DMA cache coherency */
#define IOMMU_NOEXEC		(1 << 3)
#define IOMMU_MMIO		(1 << 4)	/* e.g. MSI doorbells */
#define IOMMU_PRIV		(1 << 5)	/* privileged accesses only */

/* ---- quirks (io_pgtable_cfg.quirks bit numbers, Linux v6.19) ------------- */
#define IO_PGTABLE_QUIRK_ARM_NS			(1UL << 0)
#define IO_PGTABLE_QUIRK_NO_PERMS		(1UL << 1)
#define IO_PGTABLE_QUIRK_ARM_MTK_EXT		(1UL << 3)
#define IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT	(1UL << 4)
#define IO_PGTABLE_QUIRK_ARM_TTBR1		(1UL << 5)
#define IO_PGTABLE_QUIRK_ARM_OUTER_WBWA		(1UL << 6)
#define IO_PGTABLE_QUIRK_ARM_HD			(1UL << 7)
#define IO_PGTABLE_QUIRK_ARM_S2FWB		(1UL << 8)
#define IO_PGTABLE_QUIRK_NO_WARN		(1UL << 9)

/*
 * ---- quirks that are iopgt extensions ------------------------------------
 * Linux numbers its quirks up from bit 0; iopgt's own count down from
 * bit 31 (the top bit of a 32-bit unsigned long), so neither can take the
 * other's.  A format that does not know one refuses it like any quirk.
 *
 * RECLAIM_TABLES: when an unmap leaves a table with no valid entry, the
 * table is unhooked from its parent (synced for a non-coherent walker),
 * tlb_flush_walk() is called for its span and its memory goes back to the
 * host.  Linux keeps empty tables until a block covers them.
 */
#define IOPGT_QUIRK_RECLAIM_TABLES		(1UL << 31)

/* read_and_clear_dirty() flags */
#define IOMMU_DIRTY_NO_CLEAR	(1UL << 0)

/* ---- TLB maintenance (iommu_flush_ops / iommu_iotlb_gather) -------------- */

/*
 * A batch of pending leaf invalidations.  end is inclusive.  When queued is
 * true a later flush_all covers everything and formats skip tlb_add_page.
 * Who calls tlb_add_page, and with which gather: see unmap_pages below.
 */
struct iopgt_iotlb_gather {
	unsigned long start;
	unsigned long end;
	size_t pgsize;
	bool queued;
};

/*
 * Caller-supplied TLB callbacks.  The table and every member may be NULL.
 * They run on the mapping thread and must not call back into the same table.
 */
struct iopgt_flush_ops {
	/* Invalidate the whole context; called once by iopgt_pgtable_free(). */
	void (*tlb_flush_all)(void *cookie);
	/* Invalidate walk caches for [iova, iova + size) when a table goes. */
	void (*tlb_flush_walk)(unsigned long iova, size_t size, size_t granule,
			       void *cookie);
	/* Queue one leaf invalidation into the gather. */
	void (*tlb_add_page)(struct iopgt_iotlb_gather *gather,
			     unsigned long iova, size_t granule, void *cookie);
};

/* Dirty-range sink for read_and_clear_dirty (iommu_dirty_bitmap). */
struct iopgt_dirty_bitmap {
	void (*record)(struct iopgt_dirty_bitmap *dirty, unsigned long iova,
		       size_t size);
	struct iopgt_iotlb_gather *gather;
	void *data;
};

/* ---- configuration (io_pgtable_cfg); in/out ------------------------------ */

/*
 * The caller fills quirks, pgsize_bitmap, ias, oas, coherent_walk and tlb.
 * The format's alloc narrows pgsize_bitmap/ias/oas where Linux's does
 * (e.g. LPAE 64-bit: ias 64 becomes 48) and writes the register union;
 * what Linux refuses, and unknown quirks, make alloc fail with -EINVAL.
 */
struct iopgt_cfg {
	unsigned long quirks;
	unsigned long pgsize_bitmap;
	unsigned int ias;
	unsigned int oas;
	bool coherent_walk;
	const struct iopgt_flush_ops *tlb;

	/* Register outputs, by their Linux names.  Decoded fields, not images. */
	union {
		struct {
			uint64_t ttbr;
			struct {
				uint32_t ips:3;
				uint32_t tg:2;
				uint32_t sh:2;
				uint32_t orgn:2;
				uint32_t irgn:2;
				uint32_t tsz:6;
			} tcr;
			uint64_t mair;
		} arm_lpae_s1_cfg;

		struct {
			uint64_t vttbr;
			struct {
				uint32_t ps:3;
				uint32_t tg:2;
				uint32_t sh:2;
				uint32_t orgn:2;
				uint32_t irgn:2;
				uint32_t sl:2;
				uint32_t tsz:6;
			} vtcr;
		} arm_lpae_s2_cfg;

		struct {
			uint32_t ttbr;
			uint32_t tcr;
			uint32_t nmrr;
			uint32_t prrr;
		} arm_v7s_cfg;

		struct {
			uint64_t transtab;
			uint64_t memattr;
		} arm_mali_lpae_cfg;

		/* Room for third-party formats' registers. */
		uint64_t regs[8];
	};
};

/* ---- walking a table (dump, statistics) ---------------------------------- */

enum iopgt_entry_kind {
	IOPGT_ENTRY_LEAF = 1,
	IOPGT_ENTRY_TABLE = 2,
};

/* iopgt_walk_entry.prot of an ABI 1.0 plugin: it had no such field. */
#define IOPGT_PROT_UNKNOWN	(-1)

/*
 * One valid entry, as the hardware walker would interpret it.
 *
 * prot (ABI 1.1) is what a LEAF descriptor grants, as IOMMU_* bits decoded
 * from its own bits: the inverse of the format's prot-to-descriptor
 * conversion, so a combination the format cannot hold comes back as the
 * format holds it (e.g. LPAE stage 1 has no write-only: IOMMU_WRITE maps
 * as READ|WRITE; v7s keeps MMIO and drops CACHE when given both).  Each
 * format's page in docs/formats says which bits it keeps.  0 for TABLE
 * entries.  New fields only ever go at the end: the host gives a visitor
 * of a plugin built against ABI 1.0 a copy of the 1.0 fields with prot =
 * IOPGT_PROT_UNKNOWN (docs/plugin-abi.md).
 */
struct iopgt_walk_entry {
	int level;			/* format's own level number */
	unsigned int index;		/* slot within its table */
	unsigned long iova;		/* first iova the entry covers */
	size_t size;			/* bytes of iova it covers */
	uint64_t raw;			/* descriptor value, host order */
	uint64_t oa;			/* output address: PA or next table */
	enum iopgt_entry_kind kind;
	/* ---- ABI 1.1 ---- */
	int prot;			/* IOMMU_* of a leaf, 0 for a table */
};

/*
 * Visitor for ops.walk.  table() is called for every table reachable from
 * the root, before its entries; entry() for each non-empty entry in slot
 * order; a TABLE entry is followed by the walk of that table.  A non-zero
 * return stops the walk and is returned by walk().  Members may be NULL.
 */
struct iopgt_walk_ops {
	int (*table)(void *data, uint64_t pa, const void *va, size_t size,
		     int level);
	int (*entry)(void *data, const struct iopgt_walk_entry *entry);
	int (*table_end)(void *data, uint64_t pa, int level);
};

/* Register outputs as (Linux name, value) pairs, e.g. ("tcr.tsz", 16). */
typedef void (*iopgt_reg_fn)(void *data, const char *name, uint64_t value);

/* ---- the ops table (io_pgtable_ops) -------------------------------------- */

struct iopgt_ops {
	/*
	 * Map pgcount physically contiguous pages of exactly pgsize.
	 * *mapped is incremented (+=) by the bytes mapped; a format may map
	 * fewer than pgcount and still return 0 (LPAE stops at a table end):
	 * the caller loops.  Returns: 0 on success or a negative errno.
	 */
	int (*map_pages)(struct iopgt_ops *ops, unsigned long iova,
			 uint64_t paddr, size_t pgsize, size_t pgcount,
			 int prot, size_t *mapped);
	/*
	 * Unmap pgcount pages of exactly pgsize.  A format may stop early
	 * (at a hole, at the end of a table): the caller loops on the count.
	 * Returns: the bytes unmapped (0 on error or nothing; no errno).
	 *
	 * TLB contract, the same for every format:
	 * - each leaf entry cleared gets one tlb_add_page(gather, iova of
	 *   the entry, size of the entry) when gather is non-NULL and not
	 *   queued;
	 * - gather NULL: no tlb_add_page at all.  The callback's job is to
	 *   add to a gather, so without one the caller invalidates by other
	 *   means (tlb_flush_all, or its own flush of the bytes returned).
	 *   Linux's LPAE has this rule; Linux's v7s calls tlb_add_page(NULL,
	 *   ...) instead, which a callback that extends the gather would
	 *   dereference, and only its selftest passes NULL.  iopgt's v7s
	 *   follows the rule here (docs/formats/v7s.md);
	 * - gather queued: no tlb_add_page (a flush_all follows);
	 * - a table removed (its entry cleared) gets tlb_flush_walk(iova,
	 *   span of the entry, granule) whatever the gather.
	 * A refused request (a hole or part of a block at the first page) is
	 * logged once as a warning (LPAE: unless NO_WARN); a hole later in
	 * the batch only ends it, and the caller's next call says it.
	 */
	size_t (*unmap_pages)(struct iopgt_ops *ops, unsigned long iova,
			      size_t pgsize, size_t pgcount,
			      struct iopgt_iotlb_gather *gather);
	/* Returns: the PA including the offset, or 0 when not mapped. */
	uint64_t (*iova_to_phys)(struct iopgt_ops *ops, unsigned long iova);
	/*
	 * Optional: NULL when the table has no dirty tracking, and the host
	 * then returns -EOPNOTSUPP (host.h).  Returns: 0 on success or a
	 * negative errno.
	 */
	int (*read_and_clear_dirty)(struct iopgt_ops *ops, unsigned long iova,
				    size_t size, unsigned long flags,
				    struct iopgt_dirty_bitmap *dirty);
	/* Visit every table and entry.  Returns: 0 or the visitor's stop. */
	int (*walk)(struct iopgt_ops *ops, const struct iopgt_walk_ops *visit,
		    void *data);
	/* Emit the register outputs.  Optional. */
	void (*describe_regs)(struct iopgt_ops *ops, iopgt_reg_fn fn,
			      void *data);
};

/*
 * A live page table (io_pgtable).  Formats embed it in their private state
 * and find that state with container_of(ops, ..., iop.ops).
 * The host fills fmt, cookie, cfg and host_priv after alloc returns, so
 * alloc must use its arguments, not these fields.
 */
struct iopgt_pgtable {
	const struct iopgt_format *fmt;
	void *cookie;
	struct iopgt_cfg cfg;
	struct iopgt_ops ops;
	uint64_t root_pa;		/* set by the format's alloc */
	void *host_priv;		/* host bookkeeping; formats don't touch */
};

#define iopgt_ops_to_pgtable(x) container_of((x), struct iopgt_pgtable, ops)

/*
 * Format capabilities (iopgt_format.caps), informational: the host reads
 * none of them, tools may show them.  What a table can do is decided at
 * alloc and shows in its ops (a NULL op: not supported).
 * CAP_DIRTY: some tables of the format track dirty pages (for
 * arm-64-lpae-s1, those allocated with ARM_HD); others have no
 * read_and_clear_dirty op.
 */
#define IOPGT_FMT_CAP_DIRTY	(1U << 0)	/* read_and_clear_dirty */

/* iopgt_image_src.claim()'s parent for the root table. */
#define IOPGT_IMAGE_NO_PARENT	UINT64_MAX

/*
 * A table image offered to a format's adopt op (ABI 1.3): the host has
 * read the file and checked its note; the format asks for each table it
 * finds, from the root down, and gets it back at its saved PA.
 */
struct iopgt_image_src {
	uint64_t root_pa;
	/*
	 * The table of size bytes at pa, with the image's bytes, inside the
	 * block of alloc_pages(block) at pa rounded down to that block: the
	 * format gives the block back with free_pages(va of the block,
	 * block) as if it had allocated it.  Several tables may share a
	 * block (v7s level-2 tables); it is taken once.  parent: the PA of
	 * the table whose entry points at this one (IOPGT_IMAGE_NO_PARENT
	 * for the root).  Returns: the table's va, or NULL with *err set and
	 * the reason logged: -EINVAL for a pointer outside the image, a table
	 * reached twice or by a loop; -EBUSY when the host's memory holds
	 * something else there; -ENOMEM.
	 */
	void *(*claim)(const struct iopgt_image_src *src, uint64_t pa,
		       size_t size, size_t block, uint64_t parent, int *err);
	void *priv;			/* the host's */
};

/* ---- foreign walks: tables built elsewhere (ABI 1.4) --------------------- */

/*
 * Where a foreign walk reads from, handed to iopgt_foreign_ops.open():
 * memory the format never allocated (a crash dump, a guest's memory, a
 * saved image) and the register values that make sense of it.  The format
 * trusts none of it: every descriptor comes through read(), and a read
 * that fails is a fault or a reported problem, never a crash.
 */
struct iopgt_foreign_src {
	/* Copy size bytes at pa into buf.  Returns: 0 or a negative errno
	 * (-EFAULT: no memory there). */
	int (*read)(void *ctx, uint64_t pa, size_t size, void *buf);
	/*
	 * A register by the name describe_regs emits ("ttbr", "tcr.tsz",
	 * "vtcr.sl", "transtab", ...) or a cfg key of an image's note
	 * ("ias", "oas", "quirks", "pgsize_bitmap").  Returns: 0 and *value,
	 * or -ENOENT when the caller did not give it.
	 */
	int (*reg)(void *ctx, const char *name, uint64_t *value);
	void *ctx;
};

/* iopgt_foreign_ops.translate()'s access: one of R/W/X, maybe PRIV. */
#define IOPGT_ACCESS_READ	(1U << 0)
#define IOPGT_ACCESS_WRITE	(1U << 1)
#define IOPGT_ACCESS_EXEC	(1U << 2)
#define IOPGT_ACCESS_PRIV	(1U << 3)

/* A fault as the hardware reports it (Arm's fault status classes). */
enum iopgt_fault {
	IOPGT_FAULT_NONE = 0,		/* translated */
	IOPGT_FAULT_TRANSLATION,	/* invalid or reserved descriptor, or
					 * an input address beyond ias */
	IOPGT_FAULT_ADDRESS_SIZE,	/* base, table or output address
					 * beyond the output size */
	IOPGT_FAULT_ACCESS_FLAG,	/* leaf with AF clear */
	IOPGT_FAULT_PERMISSION,		/* the leaf forbids this access */
	IOPGT_FAULT_WALK_ABORT,		/* a descriptor could not be read
					 * (external abort on a table walk) */
};

/*
 * One translation.  Always: level (of the descriptor that decided: the
 * leaf, or the one that faulted; the start level for a fault before any
 * read), desc and desc_pa (0 and UINT64_MAX when nothing was read).  When
 * fault is NONE, also the mapping: oa is the output address with iova's
 * offset, base and size the leaf's extent in iova, prot the IOMMU_* bits
 * the leaf grants (as iopgt_walk_entry.prot), memattr the attribute the
 * descriptor selects (the MAIR/MEMATTR byte at its index for stage 1 and
 * Mali, MemAttr[3:0] for stage 2), sh the descriptor's shareability field
 * and ns its NS bit.
 */
struct iopgt_xlate {
	enum iopgt_fault fault;
	int level;
	uint64_t desc;
	uint64_t desc_pa;
	uint64_t oa;
	uint64_t base;
	uint64_t size;
	int prot;
	unsigned int memattr;
	unsigned int sh;
	bool ns;
};

/* What check() finds; each comes with the table and entry where it is. */
enum iopgt_problem {
	IOPGT_PROBLEM_READ = 1,		/* a table could not be read */
	IOPGT_PROBLEM_SHARED,		/* a table referenced twice */
	IOPGT_PROBLEM_LOOP,		/* a table referencing an ancestor */
	IOPGT_PROBLEM_OVERLAP,		/* tables overlapping in PA */
	IOPGT_PROBLEM_RES0,		/* reserved-zero bits set */
	IOPGT_PROBLEM_MISALIGNED,	/* output or table address not
					 * aligned to its block or table */
	IOPGT_PROBLEM_BEYOND_OAS,	/* an address beyond the output size */
	IOPGT_PROBLEM_REPLICA,		/* an inconsistent replicated group */
	IOPGT_PROBLEM_LIMIT,		/* the walk hit its bound and stopped */
};

struct iopgt_problem_report {
	enum iopgt_problem kind;
	int level;			/* of the table holding the entry */
	uint64_t table_pa;		/* that table (or the root) */
	unsigned int index;		/* the entry, or 0 */
	uint64_t desc;			/* its descriptor, or 0 */
	uint64_t addr;			/* the address in question */
	const char *what;		/* one line, the format's words */
};

typedef void (*iopgt_problem_fn)(void *data,
				 const struct iopgt_problem_report *report);

/*
 * Walking tables the format did not build (iopgt_format.foreign).  State
 * comes from env->svc->zalloc; the format keeps the caps it documents on
 * the tables and entries one call may visit, and visits each table once,
 * so a hostile image ends in bounded time.
 */
struct iopgt_foreign_ops {
	/*
	 * Read the registers (src->reg) and check they describe a geometry
	 * the format has; no table is read yet.  src and env must outlive
	 * the state.  A refusal says why with iopgt_env_warn().
	 * Returns: 0 and *state, or -EINVAL (a register missing or out of
	 * range) or -ENOMEM.
	 */
	int (*open)(const struct iopgt_foreign_src *src,
		    const struct iopgt_env *env, void **state);
	/*
	 * Translate iova for access (IOPGT_ACCESS_*) as the hardware would.
	 * A fault is a result, not an error.
	 * Returns: 0 with *out filled, or -EINVAL for a bad access.
	 */
	int (*translate)(void *state, uint64_t iova, unsigned int access,
			 struct iopgt_xlate *out);
	/*
	 * ops.walk's visitor over the tables in memory: table() gets a copy
	 * of the table read (va valid during the call only).  A table that
	 * cannot be read, or was visited already, is not entered.
	 * Returns: 0, the visitor's stop, or -E2BIG at the format's cap.
	 */
	int (*walk)(void *state, const struct iopgt_walk_ops *visit,
		    void *data);
	/*
	 * Report every structural problem found (report may be called many
	 * times).  Returns: the number of problems (0: none), or a negative
	 * errno (-ENOMEM).
	 */
	int (*check)(void *state, iopgt_problem_fn report, void *data);
	void (*close)(void *state);
};

/*
 * One format a plugin provides (io_pgtable_init_fns plus its name).
 * alloc receives the host environment for this table (memory, sync, log);
 * it stays valid until free returns.  alloc returns 0 and *out, or a
 * negative errno: -EINVAL for a cfg the format does not support (after
 * saying why with iopgt_env_warn(): the host passes the warning on as the
 * reason of the failed call), -ENOMEM when the host refuses memory.  free
 * releases everything alloc and the ops obtained; the host calls
 * tlb_flush_all before it.
 *
 * Names and aliases: 1 to IOPGT_NAME_MAX ASCII letters, digits, '-' and
 * '_' (the host refuses anything else at registration); by convention the
 * name is lower case with '-' ("arm-64-lpae-s1") and the alias Linux's
 * enum name ("ARM_64_LPAE_S1").  IOPGT_FORMAT_DEFINE (plugin.h) writes
 * both once, with their metadata.
 */
struct iopgt_format {
	const char *name;		/* "arm-64-lpae-s1" */
	const char *alias;		/* "ARM_64_LPAE_S1", or NULL */
	const char *description;
	unsigned int caps;		/* IOPGT_FMT_CAP_*, informational */
	int (*alloc)(struct iopgt_cfg *cfg, void *cookie,
		     const struct iopgt_env *env, struct iopgt_pgtable **out);
	void (*free)(struct iopgt_pgtable *iop);
	/*
	 * A typical configuration, used by tools (the CLI's alloc) for the
	 * cfg fields a user leaves out.  Zero means "no default".
	 */
	unsigned int default_ias;
	unsigned int default_oas;
	unsigned long default_pgsize_bitmap;
	/* ---- ABI 1.3: the first reserved slot ---- */
	/*
	 * Optional: take over a saved table (iopgt_pgtable_adopt, docs/
	 * images.md).  cfg holds the image's ias, oas, pgsize_bitmap, quirks
	 * and coherent_walk (and the caller's tlb), as alloc gets them; the
	 * format derives its registers as alloc does, takes each table from
	 * src->root_pa down with src->claim(), checks what only it can (table
	 * pointers aligned, no entry beyond oas, its own counts) and rebuilds
	 * its private state.  A refusal says why with iopgt_env_warn().  On
	 * failure it frees its own state only: the host takes back every
	 * table claimed.  Returns: 0 or a negative errno, as alloc.
	 */
	int (*adopt)(struct iopgt_cfg *cfg, void *cookie,
		     const struct iopgt_env *env,
		     const struct iopgt_image_src *src,
		     struct iopgt_pgtable **out);
	/* ---- ABI 1.4: the second reserved slot ---- */
	/* Optional: walk tables built elsewhere (docs/inspect.md). */
	const struct iopgt_foreign_ops *foreign;
	void *reserved[2];
};

#ifdef __cplusplus
}
#endif

#endif /* IOPGT_PGTABLE_H */
