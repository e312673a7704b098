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

static void table_priv_free(struct iopgt_table_priv *t)
{
	g_free(t->label);
	g_free(t);
}

/* Lock held.  Finds the format and takes a use of its plugin. */
static int table_attach(struct iopgt_host *host, const char *format,
			struct iopgt_table_priv *t)
{
	struct iopgt_format_entry *e = iopgt_registry_lookup(host, format);
	struct iopgt_physmem *pm;
	int ret;

	if (!e) {
		ERR(host, "no loaded plugin provides format '%s'", format);
		return -ENOENT;
	}
	if (e->plugin->state != IOPGT_PLUGIN_LOADED) {
		ERR(host, "format '%s': plugin '%s' is unloading", format,
		    e->plugin->name);
		return -ESHUTDOWN;
	}
	ret = iopgt_host_get_physmem(host, &pm);
	if (ret < 0)
		return ret;

	t->plugin = e->plugin;
	t->fmt = e->fmt;
	iopgt_mem_init(&t->mem, host, pm);
	t->env = (struct iopgt_env){
		.svc = &iopgt_host_services,
		.mem = &t->mem,
		.log_ctx = host,
		.pa_to_va = iopgt_physmem_pa_to_va_offset(pm),
	};
	t->serial = atomic_fetch_add(&host->table_serial, 1) + 1;
	t->label = g_strdup_printf("#%" G_GUINT64_FORMAT, t->serial);
	t->plugin->users++;
	g_hash_table_add(t->plugin->holders, t);
	return 0;
}

static void table_detach(struct iopgt_host *host, struct iopgt_table_priv *t)
{
	g_rec_mutex_lock(&host->lock);
	g_hash_table_remove(t->plugin->holders, t);
	t->plugin->users--;
	g_rec_mutex_unlock(&host->lock);
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
	struct iopgt_table_priv *t;
	struct iopgt_pgtable *pgt = NULL;
	int ret;

	g_return_val_if_fail(host && format && cfg && out, -EINVAL);
	t = g_new0(struct iopgt_table_priv, 1);
	g_rec_mutex_lock(&host->lock);
	ret = table_attach(host, format, t);
	g_rec_mutex_unlock(&host->lock);
	if (ret < 0) {
		table_priv_free(t);
		return ret;
	}
	iopgt_host_ref(host);

	ret = t->fmt->alloc(cfg, cookie, &t->env, &pgt);
	if (ret == 0 && !pgt)
		ret = -EPROTO;
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
	if (!pgt)
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

int iopgt_pgtable_map_pages(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			    unsigned long iova, uint64_t paddr, size_t pgsize,
			    size_t pgcount, int prot, size_t *mapped)
{
	(void)host;
	g_return_val_if_fail(pgt && mapped, -EINVAL);
	return pgt->ops.map_pages(&pgt->ops, iova, paddr, pgsize, pgcount,
				  prot, mapped);
}

size_t iopgt_pgtable_unmap_pages(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt, unsigned long iova,
				 size_t pgsize, size_t pgcount,
				 struct iopgt_iotlb_gather *gather)
{
	(void)host;
	g_return_val_if_fail(pgt, 0);
	return pgt->ops.unmap_pages(&pgt->ops, iova, pgsize, pgcount, gather);
}

uint64_t iopgt_pgtable_iova_to_phys(struct iopgt_host *host,
				    struct iopgt_pgtable *pgt,
				    unsigned long iova)
{
	(void)host;
	g_return_val_if_fail(pgt, 0);
	return pgt->ops.iova_to_phys(&pgt->ops, iova);
}

int iopgt_pgtable_read_and_clear_dirty(struct iopgt_host *host,
				       struct iopgt_pgtable *pgt,
				       unsigned long iova, size_t size,
				       unsigned long flags,
				       struct iopgt_dirty_bitmap *dirty)
{
	(void)host;
	g_return_val_if_fail(pgt && dirty, -EINVAL);
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

int iopgt_pgtable_map(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		      unsigned long iova, uint64_t paddr, size_t size,
		      int prot)
{
	unsigned long bitmap, min_pg;
	size_t done = 0;
	int ret = 0;

	g_return_val_if_fail(host && pgt, -EINVAL);
	bitmap = pgt->cfg.pgsize_bitmap;
	if (!size || !bitmap)
		return -EINVAL;
	if (iova + (size - 1) < iova || paddr + (size - 1) < paddr)
		return -EOVERFLOW;
	min_pg = bitmap & -bitmap;
	if ((iova | paddr | size) & (min_pg - 1)) {
		DBG(host, "map 0x%lx -> 0x%" G_GINT64_MODIFIER "x size 0x%zx "
		    "is not aligned to the smallest page 0x%lx", iova, paddr,
		    size, min_pg);
		return -EINVAL;
	}
	while (done < size) {
		size_t count = 0, mapped = 0;
		size_t pgsize = pick_pgsize(bitmap, iova + done, paddr + done,
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
	}
	if (ret && done)
		iopgt_pgtable_unmap(host, pgt, iova, done, NULL);
	return ret;
}

size_t iopgt_pgtable_unmap(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			   unsigned long iova, size_t size,
			   struct iopgt_iotlb_gather *gather)
{
	unsigned long bitmap, min_pg;
	size_t done = 0;

	g_return_val_if_fail(host && pgt, 0);
	bitmap = pgt->cfg.pgsize_bitmap;
	if (!size || !bitmap || iova + (size - 1) < iova)
		return 0;
	min_pg = bitmap & -bitmap;
	if ((iova | size) & (min_pg - 1))
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

int iopgt_pgtable_walk(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		       const struct iopgt_walk_ops *visit, void *data)
{
	g_return_val_if_fail(host && pgt && visit, -EINVAL);
	if (!pgt->ops.walk)
		return -EOPNOTSUPP;
	return pgt->ops.walk(&pgt->ops, visit, data);
}

void iopgt_pgtable_describe_regs(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt, iopgt_reg_fn fn,
				 void *data)
{
	g_return_if_fail(host && pgt && fn);
	if (pgt->ops.describe_regs)
		pgt->ops.describe_regs(&pgt->ops, fn, data);
}

void iopgt_pgtable_get_mem_stats(struct iopgt_host *host,
				 struct iopgt_pgtable *pgt,
				 struct iopgt_mem_stats *stats)
{
	g_return_if_fail(host && pgt && stats);
	iopgt_mem_get_stats(&table_priv(pgt)->mem, stats);
}

void iopgt_pgtable_set_label(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			     const char *label)
{
	struct iopgt_table_priv *t;

	g_return_if_fail(host && pgt && label);
	t = table_priv(pgt);
	g_rec_mutex_lock(&host->lock);
	g_free(t->label);
	t->label = g_strdup(label);
	g_rec_mutex_unlock(&host->lock);
}

const char *iopgt_pgtable_get_label(struct iopgt_host *host,
				    struct iopgt_pgtable *pgt)
{
	g_return_val_if_fail(host && pgt, NULL);
	return table_priv(pgt)->label;
}

struct iopgt_plugin *iopgt_pgtable_get_plugin(struct iopgt_host *host,
					      struct iopgt_pgtable *pgt)
{
	g_return_val_if_fail(host && pgt, NULL);
	return table_priv(pgt)->plugin;
}
