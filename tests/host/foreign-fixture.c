// SPDX-License-Identifier: MIT
/*
 * Helpers of the foreign-walk tests; see foreign-fixture.h.
 */
#include <fcntl.h>
#include <unistd.h>

#include "foreign-fixture.h"

void load_plugin(struct host_fixture *f, const char *plugin)
{
	if (iopgt_host_find_plugin(f->host, plugin))
		return;
	g_assert_cmpint(iopgt_host_add_plugin_dir(f->host, test_plugin_dir()),
			==, 0);
	g_assert_cmpint(iopgt_host_scan(f->host), >=, 1);
}

uint64_t rand64(GRand *rand)
{
	return (uint64_t)g_rand_int(rand) << 32 | g_rand_int(rand);
}

static int collect_entry(void *data, const struct iopgt_walk_entry *e)
{
	g_array_append_val((GArray *)data, *e);
	return 0;
}

const struct iopgt_walk_ops collect_ops = { .entry = collect_entry };

GArray *walk_live(struct host_fixture *f, struct iopgt_pgtable *pgt,
		  const struct iopgt_walk_ops *ops)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct iopgt_walk_entry));

	g_assert_cmpint(iopgt_pgtable_walk(f->host, pgt, ops, a), ==, 0);
	return a;
}

#define WALK_ENTRY	struct iopgt_walk_entry

void assert_entries_equal(GArray *live, GArray *foreign)
{
	g_assert_cmpuint(foreign->len, ==, live->len);
	for (unsigned int i = 0; i < live->len; i++)
		assert_walk_entry_equal(&g_array_index(live, WALK_ENTRY, i),
					&g_array_index(foreign, WALK_ENTRY, i),
					true);
}

void assert_leaf_agrees(struct host_fixture *f, struct iopgt_pgtable *pgt,
			struct iopgt_inspect *insp,
			const struct iopgt_walk_entry *e, uint64_t iova,
			struct iopgt_xlate *x)
{
	g_assert_cmpint(iopgt_inspect_translate(insp, iova,
						IOPGT_ACCESS_READ |
						IOPGT_ACCESS_PRIV, x), ==, 0);
	g_assert_cmpint(x->fault, ==, IOPGT_FAULT_NONE);
	g_assert_cmphex(x->oa, ==, iopgt_pgtable_iova_to_phys(f->host, pgt,
							       iova));
	g_assert_cmphex(x->base, ==, e->iova);
	g_assert_cmpuint(x->size, ==, e->size);
	g_assert_cmpint(x->level, ==, e->level);
	g_assert_cmphex(x->desc, ==, e->raw);
	g_assert_cmphex(x->prot, ==, e->prot);
}

unsigned int assert_leaves_agree(struct host_fixture *f,
				 struct iopgt_pgtable *pgt,
				 struct iopgt_inspect *insp, GArray *live,
				 size_t granule, size_t tail,
				 leaf_page_fn *page_fn, void *data)
{
	unsigned int pages = 0;

	for (unsigned int i = 0; i < live->len; i++) {
		const struct iopgt_walk_entry *e =
			&g_array_index(live, struct iopgt_walk_entry, i);
		/* a block or section of thousands of pages: a sample */
		size_t step = MAX(granule, e->size / 64);
		struct iopgt_xlate x;

		if (e->kind != IOPGT_ENTRY_LEAF)
			continue;
		for (size_t off = 0; off < e->size; off += step, pages++) {
			assert_leaf_agrees(f, pgt, insp, e, e->iova + off + tail,
					   &x);
			if (page_fn)
				page_fn(data, insp, e, off, &x);
		}
	}
	return pages;
}

bool assert_probe_agrees(struct host_fixture *f, struct iopgt_pgtable *pgt,
			 struct iopgt_inspect *insp, uint64_t iova)
{
	/* PA 0 is iova_to_phys' "none": the workloads never map it */
	uint64_t pa = iopgt_pgtable_iova_to_phys(f->host, pgt, iova);
	struct iopgt_xlate x;

	g_assert_cmpint(iopgt_inspect_translate(insp, iova,
						IOPGT_ACCESS_READ |
						IOPGT_ACCESS_PRIV, &x), ==, 0);
	if (pa) {
		g_assert_cmpint(x.fault, ==, IOPGT_FAULT_NONE);
		g_assert_cmphex(x.oa, ==, pa);
	} else {
		g_assert_cmpint(x.fault, ==, IOPGT_FAULT_TRANSLATION);
		g_assert_cmphex(x.desc, ==, 0);
	}
	return pa;
}

char *save_to_file(struct host_fixture *f, struct iopgt_pgtable *pgt,
		   const char *name)
{
	char *path = g_build_filename(f->tmpdir, name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, fd), ==, 0);
	g_assert_cmpint(close(fd), ==, 0);
	return path;
}

struct iopgt_inspect *inspect_core(struct host_fixture *f, const char *path)
{
	struct iopgt_inspect *insp = NULL;

	g_assert_cmpint(iopgt_inspect_new(f->host, &insp), ==, 0);
	g_assert_cmpint(iopgt_inspect_add_core(insp, path), ==, 0);
	g_assert_cmpint(iopgt_inspect_open(insp, NULL), ==, 0);
	return insp;
}

char *write_raw(struct host_fixture *f, const char *name, const void *bytes,
		size_t size)
{
	char *path = g_build_filename(f->tmpdir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, bytes, (gssize)size, &error));
	return path;
}

void assert_fault(struct iopgt_inspect *insp, uint64_t iova,
		  unsigned int access, enum iopgt_fault fault, int level,
		  uint64_t desc, uint64_t desc_pa)
{
	struct iopgt_xlate x;

	g_assert_cmpint(iopgt_inspect_translate(insp, iova, access, &x), ==, 0);
	/* by name, so that a failure says which fault came instead */
	g_assert_cmpstr(iopgt_fault_name(x.fault), ==, iopgt_fault_name(fault));
	g_assert_cmpint(x.level, ==, level);
	g_assert_cmphex(x.desc, ==, desc);
	g_assert_cmphex(x.desc_pa, ==, desc_pa);
}

void note_problem(void *data, const struct iopgt_problem_report *r)
{
	struct problems *p = data;

	g_string_append_printf(p->text, "%s L%d 0x%" G_GINT64_MODIFIER "x[%u] "
			       "-> 0x%" G_GINT64_MODIFIER "x: %s\n",
			       iopgt_problem_name(r->kind), r->level,
			       r->table_pa, r->index, r->addr, r->what);
	p->n++;
}
