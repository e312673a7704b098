// SPDX-License-Identifier: MIT
/*
 * Page-table dispatch: the io-pgtable.c of iopgt.
 *
 * iopgt_pgtable_new() takes the plugin reference *before* the format's
 * alloc runs and iopgt_pgtable_free() drops it only after the format's free
 * has returned, so plugin code is never unmapped under a running call
 * (the GTypeModule rule: the last reference is never released from inside
 * the module).  The op wrappers add nothing but a NULL check: concurrency
 * on disjoint ranges is the format's business, as in Linux.
 */
#include <string.h>

#include "iopgt-internal.h"

static inline struct iopgt_table_priv *table_priv(struct iopgt_pgtable *pgt)
{
	return pgt->host_priv;
}

/* host.h's inline wrappers read the head: it must stay first. */
G_STATIC_ASSERT(offsetof(struct iopgt_table_priv, head) == 0);

/* Every call names the host that made the table: anything else is a
 * programmer error, refused as g_return_val_if_fail() would. */
static __attribute__((noinline, cold)) bool foreign_table(const char *fn)
{
	g_return_if_fail_warning(G_LOG_DOMAIN, fn,
				 "table_priv(pgt)->head.host == host");
	return true;
}

#define BAD_TABLE(host, pgt)                                                \
	(G_UNLIKELY(!(host) || !(pgt) ||                                    \
		    table_priv(pgt)->head.host != (host)) &&                 \
	 ((host) && (pgt) ? foreign_table(G_STRFUNC) :                      \
	  (g_return_if_fail_warning(G_LOG_DOMAIN, G_STRFUNC, "host && pgt"),\
	   true)))

static void table_priv_free(struct iopgt_table_priv *t)
{
	if (t->old_labels)
		g_ptr_array_unref(t->old_labels);
	g_free(t->label);
	g_free(t);
}

static void table_detach(struct iopgt_host *host, struct iopgt_table_priv *t)
{
	iopgt_host_lock(host);
	g_hash_table_remove(t->plugin->holders, t);
	t->plugin->users--;
	/* the last table of a plugin waiting to go lets it go */
	iopgt_unload_table_gone(t->plugin);
	iopgt_host_unlock(host);
}

/* A format that returns memory it never gave back is a bug worth naming. */
static void check_leaks(struct iopgt_host *host, struct iopgt_table_priv *t,
			const char *when)
{
	struct iopgt_mem_stats s;

	iopgt_mem_get_stats(&t->mem, &s);
	if (s.table_bytes || s.state_bytes)
		ERR(host, "format '%s' %s: leaked %" G_GUINT64_FORMAT
		    " bytes of table memory and %" G_GUINT64_FORMAT
		    " bytes of state", t->fmt->name, when, s.table_bytes,
		    s.state_bytes);
}

int iopgt_pgtable_new(struct iopgt_host *host, const char *format,
		      struct iopgt_cfg *cfg, void *cookie,
		      struct iopgt_pgtable **out)
{
	return iopgt_pgtable_new_in(host, NULL, format, cfg, cookie, out);
}

/*
 * The table's provider reference (attach's, or p's) lasts while the
 * format allocates; after that the blocks it holds keep the provider.
 */
int iopgt_pgtable_new_in(struct iopgt_host *host, struct iopgt_mem_provider *p,
			 const char *format, struct iopgt_cfg *cfg,
			 void *cookie, struct iopgt_pgtable **out)
{
	struct iopgt_table_priv *t;
	struct iopgt_pgtable *pgt = NULL;
	int ret;

	g_return_val_if_fail(host && format && cfg && out, -EINVAL);
	g_return_val_if_fail(!p || p->host == host, -EINVAL);
	/* not g_new0: glibc's calloc skips the thread cache */
	t = g_new(struct iopgt_table_priv, 1);
	*t = (struct iopgt_table_priv){ 0 };
	/* the provider asked for, which attach() keeps */
	t->mem.prov = p ? iopgt_mem_provider_ref(p) : NULL;
	/* finds the format, loading its plugin on demand, and takes a use
	 * of the plugin before any of its code runs */
	ret = iopgt_ondemand_attach(host, format, t);
	if (ret < 0) {
		iopgt_mem_provider_unref(t->mem.prov);
		table_priv_free(t);
		return ret;
	}
	iopgt_host_ref(host);
	/* the format's defaults, whether or not it was loaded before */
	iopgt_format_fill_defaults(t->fmt, cfg);

	ret = t->fmt->alloc(cfg, cookie, &t->env, &pgt);
	if (ret == 0 && !pgt)
		ret = -EPROTO;
	/* from here the table's blocks hold its provider */
	iopgt_mem_provider_unref(t->mem.prov);
	if (ret < 0) {
		DBG(host, "format '%s': alloc failed: %s", t->fmt->name,
		    g_strerror(-ret));
		check_leaks(host, t, "failed alloc");
		table_detach(host, t);
		table_priv_free(t);
		iopgt_host_unref(host);
		return ret;
	}
	/* As alloc_io_pgtable_ops: the copy is taken after alloc wrote it. */
	pgt->fmt = t->fmt;
	pgt->cookie = cookie;
	pgt->cfg = *cfg;
	pgt->host_priv = t;
	t->pgt = pgt;
	atomic_fetch_add(&host->tables, 1);
	*out = pgt;
	return 0;
}

void iopgt_pgtable_free(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	struct iopgt_table_priv *t;
	struct iopgt_mem_stats s;
	const struct iopgt_flush_ops *tlb;

	g_return_if_fail(host);
	if (!pgt || BAD_TABLE(host, pgt))
		return;
	t = table_priv(pgt);
	tlb = pgt->cfg.tlb;
	if (tlb && tlb->tlb_flush_all)
		tlb->tlb_flush_all(pgt->cookie);
	t->fmt->free(pgt);
	/* plugin code has returned: now the reference may go */
	check_leaks(host, t, "free");
	iopgt_mem_get_stats(&t->mem, &s);
	atomic_fetch_add(&host->retired_syncs, (int64_t)s.syncs);
	table_detach(host, t);
	atomic_fetch_sub(&host->tables, 1);
	table_priv_free(t);
	iopgt_host_unref(host);
}

/*
 * The three op wrappers on every map, unmap and lookup are inline
 * functions in host.h (the same checks, no PLT jump); these declarations
 * make this file hold their external definitions, the exported symbols.
 */
extern inline int iopgt_pgtable_map_pages(struct iopgt_host *host,
					  struct iopgt_pgtable *pgt,
					  unsigned long iova, uint64_t paddr,
					  size_t pgsize, size_t pgcount,
					  int prot, size_t *mapped);
extern inline size_t iopgt_pgtable_unmap_pages(struct iopgt_host *host,
					       struct iopgt_pgtable *pgt,
					       unsigned long iova,
					       size_t pgsize, size_t pgcount,
					       struct iopgt_iotlb_gather *gather);
extern inline uint64_t iopgt_pgtable_iova_to_phys(struct iopgt_host *host,
						  struct iopgt_pgtable *pgt,
						  unsigned long iova);

/* Their refusal, out of line: warns exactly as g_return_val_if_fail(). */
int iopgt_pgtable_refuse_call(const char *fn)
{
	g_return_if_fail_warning(G_LOG_DOMAIN, fn,
				 "pgt && the table is host's (and mapped)");
	return -EINVAL;
}

int iopgt_pgtable_read_and_clear_dirty(struct iopgt_host *host,
				       struct iopgt_pgtable *pgt,
				       unsigned long iova, size_t size,
				       unsigned long flags,
				       struct iopgt_dirty_bitmap *dirty)
{
	g_return_val_if_fail(dirty, -EINVAL);
	if (BAD_TABLE(host, pgt))
		return -EINVAL;
	if (!pgt->ops.read_and_clear_dirty)
		return -EOPNOTSUPP;
	return pgt->ops.read_and_clear_dirty(&pgt->ops, iova, size, flags,
					     dirty);
}

/* ---- iommu_map / iommu_unmap ---------------------------------------------- */

static inline unsigned int fls_ul(unsigned long x)
{
	return x ? 64 - __builtin_clzl(x) : 0;
}

/*
 * The largest page size that fits [iova, iova + size) and the alignment of
 * both addresses, and how many of them to map before a larger size could
 * take over (iommu_pgsize()).
 */
static size_t pick_pgsize(unsigned long bitmap, unsigned long iova,
			  uint64_t paddr, size_t size, size_t *count)
{
	uint64_t addr_merge = iova | paddr;
	unsigned long pgsizes, bigger;
	unsigned int idx;

	pgsizes = bitmap & (~0UL >> (64 - fls_ul(size)));
	if (addr_merge)
		pgsizes &= ~0UL >> (63 - __builtin_ctzll(addr_merge));
	if (!pgsizes)
		return 0;
	idx = fls_ul(pgsizes) - 1;
	bigger = idx < 63 ? bitmap & (~0UL << (idx + 1)) : 0;
	if (bigger) {
		unsigned long next = 1UL << __builtin_ctzl(bigger);

		/* Stop at the boundary where the bigger size could start. */
		if (!((iova ^ paddr) & (next - 1))) {
			unsigned long offset = next - (iova & (next - 1));

			if (offset < size)
				size = offset;
		}
	}
	*count = size >> idx;
	return 1UL << idx;
}

/*
 * Why iommu_map/iommu_unmap refused a request, said once as a warning:
 * the formats warn about their own refusals, these are the host's.  The
 * label is read under the lock (a set_label may replace it).
 */
static void refuse(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		   const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void refuse(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		   const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	iopgt_host_lock(host);
	WARN(host, "table %s: %s", table_priv(pgt)->label, msg);
	iopgt_host_unlock(host);
}

/*
 * iommu_map()'s and iommu_unmap()'s argument checks (unmap passes paddr 0).
 * Returns: 0 or a negative errno.
 */
static int check_range(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		       const char *op, unsigned long iova, uint64_t paddr,
		       size_t size)
{
	unsigned long bitmap = pgt->cfg.pgsize_bitmap;
	unsigned long min_pg = bitmap & -bitmap;

	if (!bitmap) {
		refuse(host, pgt, "%s: the table has no page sizes", op);
		return -EINVAL;
	}
	if (!size) {
		refuse(host, pgt, "%s: size 0", op);
		return -EINVAL;
	}
	if (iova + (size - 1) < iova) {
		refuse(host, pgt, "%s: iova 0x%lx + size 0x%zx wraps around",
		       op, iova, size);
		return -EOVERFLOW;
	}
	if (paddr + (size - 1) < paddr) {
		refuse(host, pgt, "%s: paddr 0x%" G_GINT64_MODIFIER "x + size "
		       "0x%zx wraps around", op, paddr, size);
		return -EOVERFLOW;
	}
	if (!((iova | paddr | size) & (min_pg - 1)))
		return 0;
	if (!strcmp(op, "map"))
		refuse(host, pgt, "map: iova 0x%lx, paddr 0x%" G_GINT64_MODIFIER
		       "x and size 0x%zx must be multiples of the smallest "
		       "page size 0x%lx", iova, paddr, size, min_pg);
	else
		refuse(host, pgt, "%s: iova 0x%lx and size 0x%zx must be "
		       "multiples of the smallest page size 0x%lx", op, iova,
		       size, min_pg);
	return -EINVAL;
}

/* A fixed page size must be one of the table's, and fit the range. */
static int check_pgsize(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			unsigned long iova, uint64_t paddr, size_t size,
			size_t pgsize)
{
	if (!pgsize)
		return 0;
	if (!(pgsize & pgt->cfg.pgsize_bitmap) ||
	    (pgsize & (pgsize - 1))) {
		refuse(host, pgt, "map: page size 0x%zx is not one of the "
		       "table's (0x%lx)", pgsize, pgt->cfg.pgsize_bitmap);
		return -EINVAL;
	}
	if ((iova | paddr | size) & (pgsize - 1)) {
		refuse(host, pgt, "map: iova 0x%lx, paddr 0x%" G_GINT64_MODIFIER
		       "x and size 0x%zx must be multiples of the page size "
		       "0x%zx", iova, paddr, size, pgsize);
		return -EINVAL;
	}
	return 0;
}

/*
 * The one iommu_map() loop: split by pick_pgsize() (or a fixed pgsize),
 * loop on partial progress, and on failure unmap what this call mapped.
 * The progress callback only observes: it never changes the split.
 */
static int map_range(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		     unsigned long iova, uint64_t paddr, size_t size, int prot,
		     size_t fixed, iopgt_progress_fn progress, void *data)
{
	unsigned long bitmap = pgt->cfg.pgsize_bitmap;
	size_t done = 0;
	int ret = 0;

	while (done < size) {
		size_t count = 0, mapped = 0;
		size_t pgsize = fixed;

		if (fixed)
			count = (size - done) / fixed;
		else
			pgsize = pick_pgsize(bitmap, iova + done, paddr + done,
					     size - done, &count);
		ret = pgt->ops.map_pages(&pgt->ops, iova + done, paddr + done,
					 pgsize, count, prot, &mapped);
		done += mapped;
		if (ret)
			break;
		if (!mapped) {
			/* a format must make progress or fail */
			ERR(host, "format '%s' mapped nothing and returned 0",
			    pgt->fmt->name);
			ret = -EPROTO;
			break;
		}
		if (progress)
			progress(data, done, size);
	}
	if (ret && done)
		iopgt_pgtable_unmap(host, pgt, iova, done, NULL);
	return ret;
}

int iopgt_pgtable_map_full(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			   unsigned long iova, uint64_t paddr, size_t size,
			   int prot, size_t pgsize, iopgt_progress_fn progress,
			   void *progress_data)
{
	int ret;

	if (BAD_TABLE(host, pgt))
		return -EINVAL;
	ret = check_range(host, pgt, "map", iova, paddr, size);
	if (!ret)
		ret = check_pgsize(host, pgt, iova, paddr, size, pgsize);
	if (ret)
		return ret;
	return map_range(host, pgt, iova, paddr, size, prot, pgsize, progress,
			 progress_data);
}

int iopgt_pgtable_map(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		      unsigned long iova, uint64_t paddr, size_t size,
		      int prot)
{
	return iopgt_pgtable_map_full(host, pgt, iova, paddr, size, prot, 0,
				      NULL, NULL);
}

size_t iopgt_pgtable_unmap(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			   unsigned long iova, size_t size,
			   struct iopgt_iotlb_gather *gather)
{
	unsigned long bitmap;
	size_t done = 0;

	if (BAD_TABLE(host, pgt))
		return 0;
	bitmap = pgt->cfg.pgsize_bitmap;
	/* nothing to do is not a refusal (Linux returns 0 too) */
	if (!size || check_range(host, pgt, "unmap", iova, 0, size))
		return 0;
	while (done < size) {
		size_t count = 0, unmapped;
		size_t pgsize = pick_pgsize(bitmap, iova + done, iova + done,
					    size - done, &count);

		unmapped = pgt->ops.unmap_pages(&pgt->ops, iova + done, pgsize,
						count, gather);
		if (!unmapped)
			break;
		done += unmapped;
	}
	return done;
}

/* ---- inspection ------------------------------------------------------------ */

/*
 * A plugin built against ABI 1.0 fills iopgt_walk_entry up to kind: what
 * follows in its struct is not its to fill (stack padding, at best).  Its
 * walk gets a visitor that hands the caller a copy of the 1.0 fields with
 * prot = IOPGT_PROT_UNKNOWN.  NULL members stay NULL: formats skip them.
 */
struct walk_abi_1_0 {
	const struct iopgt_walk_ops *visit;
	void *data;
};

#define WALK_ENTRY_1_0_SIZE	offsetof(struct iopgt_walk_entry, prot)

static int walk_abi_1_0_table(void *data, uint64_t pa, const void *va,
			      size_t size, int level)
{
	struct walk_abi_1_0 *w = data;

	return w->visit->table(w->data, pa, va, size, level);
}

static int walk_abi_1_0_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct walk_abi_1_0 *w = data;
	struct iopgt_walk_entry copy = { .prot = IOPGT_PROT_UNKNOWN };

	memcpy(&copy, e, WALK_ENTRY_1_0_SIZE);
	return w->visit->entry(w->data, &copy);
}

static int walk_abi_1_0_table_end(void *data, uint64_t pa, int level)
{
	struct walk_abi_1_0 *w = data;

	return w->visit->table_end(w->data, pa, level);
}

int iopgt_pgtable_walk(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		       const struct iopgt_walk_ops *visit, void *data)
{
	const struct iopgt_plugin_desc *desc;
	struct walk_abi_1_0 w = { visit, data };
	struct iopgt_walk_ops v;

	g_return_val_if_fail(visit, -EINVAL);
	if (BAD_TABLE(host, pgt))
		return -EINVAL;
	if (!pgt->ops.walk)
		return -EOPNOTSUPP;
	/* a live table pins its plugin: desc cannot change under us */
	desc = table_priv(pgt)->plugin->desc;
	if (desc->abi_minor >= 1)
		return pgt->ops.walk(&pgt->ops, visit, data);
	v = (struct iopgt_walk_ops){
		.table = visit->table ? walk_abi_1_0_table : NULL,
		.entry = visit->entry ? walk_abi_1_0_entry : NULL,
		.table_end = visit->table_end ? walk_abi_1_0_table_end : NULL,
	};
	return pgt->ops.walk(&pgt->ops, &v, &w);
}

void iopgt_pgtable_describe_regs(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt, iopgt_reg_fn fn,
				 void *data)
{
	g_return_if_fail(fn);
	if (BAD_TABLE(host, pgt))
		return;
	if (pgt->ops.describe_regs)
		pgt->ops.describe_regs(&pgt->ops, fn, data);
}

void iopgt_pgtable_get_mem_stats(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt,
				 struct iopgt_mem_stats *stats)
{
	g_return_if_fail(stats);
	if (BAD_TABLE(host, pgt))
		return;
	iopgt_mem_get_stats(&table_priv(pgt)->mem, stats);
}

/* A label a getter handed out lives as long as the table. */
void iopgt_pgtable_set_label(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			     const char *label)
{
	struct iopgt_table_priv *t;

	g_return_if_fail(label);
	if (BAD_TABLE(host, pgt))
		return;
	t = table_priv(pgt);
	iopgt_host_lock(host);
	if (!t->old_labels)
		t->old_labels = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(t->old_labels, t->label);
	t->label = g_strdup(label);
	iopgt_host_unlock(host);
}

const char *iopgt_pgtable_get_label(struct iopgt_host *host,
				    struct iopgt_pgtable *pgt)
{
	const char *label;

	if (BAD_TABLE(host, pgt))
		return NULL;
	iopgt_host_lock(host);
	label = table_priv(pgt)->label;
	iopgt_host_unlock(host);
	return label;
}

struct iopgt_plugin *iopgt_pgtable_get_plugin(struct iopgt_host *host,
					      struct iopgt_pgtable *pgt)
{
	if (BAD_TABLE(host, pgt))
		return NULL;
	return table_priv(pgt)->plugin;
}
