// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-util.h"

static void rec_check_cookie(struct tlb_recorder *rec, void *cookie)
{
	if (cookie != rec)
		rec->bad_cookie++;
}

static void rec_flush_all(void *cookie)
{
	struct tlb_recorder *rec = cookie;

	rec->flush_all++;
}

static void rec_flush_walk(unsigned long iova, size_t size, size_t granule,
			   void *cookie)
{
	struct tlb_recorder *rec = cookie;
	struct tlb_call c = { iova, size, granule };

	rec_check_cookie(rec, cookie);
	g_array_append_val(rec->walks, c);
}

static void rec_add_page(struct iopgt_iotlb_gather *gather,
			 unsigned long iova, size_t granule, void *cookie)
{
	struct tlb_recorder *rec = cookie;
	struct tlb_call c = { iova, granule, granule };

	(void)gather;
	rec_check_cookie(rec, cookie);
	g_array_append_val(rec->pages, c);
}

const struct iopgt_flush_ops tlb_recorder_ops = {
	.tlb_flush_all = rec_flush_all,
	.tlb_flush_walk = rec_flush_walk,
	.tlb_add_page = rec_add_page,
};

void tlb_recorder_init(struct tlb_recorder *rec)
{
	*rec = (struct tlb_recorder){ 0 };
	rec->walks = g_array_new(FALSE, FALSE, sizeof(struct tlb_call));
	rec->pages = g_array_new(FALSE, FALSE, sizeof(struct tlb_call));
}

void tlb_recorder_reset(struct tlb_recorder *rec)
{
	rec->flush_all = 0;
	rec->bad_cookie = 0;
	g_array_set_size(rec->walks, 0);
	g_array_set_size(rec->pages, 0);
}

void tlb_recorder_clear(struct tlb_recorder *rec)
{
	g_array_unref(rec->walks);
	g_array_unref(rec->pages);
	rec->walks = rec->pages = NULL;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case IOPGT_LOG_ERR:
		return "err";
	case IOPGT_LOG_WARNING:
		return "warning";
	case IOPGT_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static void capture_fn(void *data, int priority, const char *file, int line,
		       const char *fn, const char *format, va_list args)
{
	struct log_capture *cap = data;
	char *msg = g_strdup_vprintf(format, args);
	char *l = g_strdup_printf("%s: %s", prio_name(priority), msg);

	(void)file;
	(void)line;
	(void)fn;
	g_free(msg);
	g_strchomp(l);
	if (cap->echo)
		g_test_message("%s", l);
	g_rec_mutex_lock(&cap->lock);
	g_ptr_array_add(cap->lines, l);
	g_rec_mutex_unlock(&cap->lock);
}

void log_capture_init(struct log_capture *cap)
{
	g_rec_mutex_init(&cap->lock);
	cap->lines = g_ptr_array_new_with_free_func(g_free);
	cap->echo = g_test_verbose();
}

void log_capture_clear(struct log_capture *cap)
{
	g_ptr_array_unref(cap->lines);
	g_rec_mutex_clear(&cap->lock);
}

void log_capture_attach(struct log_capture *cap, struct iopgt_host *host)
{
	iopgt_host_set_log_fn(host, capture_fn, cap);
	iopgt_host_set_log_priority(host, IOPGT_LOG_DEBUG);
}

unsigned int log_capture_count(struct log_capture *cap, const char *needle)
{
	unsigned int n = 0;

	g_rec_mutex_lock(&cap->lock);
	for (guint i = 0; i < cap->lines->len; i++)
		if (strstr(g_ptr_array_index(cap->lines, i), needle))
			n++;
	g_rec_mutex_unlock(&cap->lock);
	return n;
}

char *log_capture_dump(struct log_capture *cap)
{
	GString *s = g_string_new(NULL);

	g_rec_mutex_lock(&cap->lock);
	for (guint i = 0; i < cap->lines->len; i++)
		g_string_append_printf(s, "%s\n",
				       (char *)g_ptr_array_index(cap->lines, i));
	g_rec_mutex_unlock(&cap->lock);
	return g_string_free(s, FALSE);
}

static int text_table(void *data, uint64_t pa, const void *va, size_t size,
		      int level)
{
	(void)va;
	g_string_append_printf(data, "table L%d pa=%#" G_GINT64_MODIFIER
			       "x size=%#zx\n", level, pa, size);
	return 0;
}

static int text_entry(void *data, const struct iopgt_walk_entry *e)
{
	g_string_append_printf(data, "  L%d[%u] %s iova=%#lx size=%#zx raw=%#"
			       G_GINT64_MODIFIER "x oa=%#" G_GINT64_MODIFIER
			       "x\n", e->level, e->index,
			       e->kind == IOPGT_ENTRY_TABLE ? "table" : "leaf",
			       e->iova, e->size, e->raw, e->oa);
	return 0;
}

static int text_table_end(void *data, uint64_t pa, int level)
{
	g_string_append_printf(data, "end L%d pa=%#" G_GINT64_MODIFIER "x\n",
			       level, pa);
	return 0;
}

char *walk_to_text(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	static const struct iopgt_walk_ops ops = {
		.table = text_table,
		.entry = text_entry,
		.table_end = text_table_end,
	};
	GString *s = g_string_new(NULL);

	g_assert_cmpint(iopgt_pgtable_walk(host, pgt, &ops, s), ==, 0);
	return g_string_free(s, FALSE);
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = g_getenv(name);

	return v && *v ? v : fallback;
}

const char *test_plugin_dir(void)
{
	return env_or("IOPGT_TEST_PLUGIN_DIR", "lib/iopgt/plugins");
}

const char *test_fixture_dir(void)
{
	return env_or("IOPGT_TEST_FIXTURE_DIR", "tests/fixtures/plugins");
}

void assert_walk_entry_equal(const struct iopgt_walk_entry *want,
			     const struct iopgt_walk_entry *got,
			     bool with_prot)
{
	g_assert_cmpint(got->level, ==, want->level);
	g_assert_cmpuint(got->index, ==, want->index);
	g_assert_cmphex(got->iova, ==, want->iova);
	g_assert_cmpuint(got->size, ==, want->size);
	g_assert_cmphex(got->raw, ==, want->raw);
	g_assert_cmphex(got->oa, ==, want->oa);
	g_assert_cmpint(got->kind, ==, want->kind);
	if (with_prot)
		g_assert_cmphex(got->prot, ==, want->prot);
}
