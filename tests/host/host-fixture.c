// SPDX-License-Identifier: MIT
/* HostFixture for the /host/ tests (see host-fixture.h). */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "fake-format.h"
#include "host-fixture.h"

static void remove_tree(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *ent;

	if (d) {
		while ((ent = g_dir_read_name(d))) {
			g_autofree char *child = g_build_filename(path, ent,
								  NULL);

			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				remove_tree(child);
			else
				g_unlink(child);
		}
		g_dir_close(d);
	}
	g_rmdir(path);
}

void host_fixture_setup(struct host_fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	/* Nothing from the caller's environment may reach the host. */
	g_unsetenv("IOPGT_PLUGIN_PATH");
	g_unsetenv("IOPGT_LOG");
	f->tmpdir = g_dir_make_tmp("iopgt-host-test-XXXXXX", &error);
	g_assert_no_error(error);
	f->marker = g_build_filename(f->tmpdir, "marker", NULL);
	g_setenv("IOPGT_FIXTURE_MARKER", f->marker, TRUE);
	log_capture_init(&f->log);
	f->host = iopgt_host_new();
	g_assert_nonnull(f->host);
	/* These tests watch in-process loading line by line (markers, log);
	 * the probe child would add its own.  test-gallery covers probing. */
	iopgt_host_set_probe(f->host, false);
	log_capture_attach(&f->log, f->host);
}

void host_fixture_teardown(struct host_fixture *f, gconstpointer data)
{
	(void)data;
	if (f->host) {
		struct iopgt_mem_stats s;

		g_assert_cmpint(iopgt_host_get_table_count(f->host), ==, 0);
		iopgt_host_get_mem_stats(f->host, &s);
		g_assert_cmpuint(s.table_bytes, ==, 0);
		g_assert_cmpuint(s.table_allocs, ==, 0);
		g_assert_cmpuint(s.state_bytes, ==, 0);
		/* the fixture held the only reference */
		g_assert_null(iopgt_host_unref(f->host));
		f->host = NULL;
	}
	log_capture_clear(&f->log);
	g_unsetenv("IOPGT_FIXTURE_MARKER");
	remove_tree(f->tmpdir);
	g_free(f->tmpdir);
	g_free(f->marker);
}

char *fixture_dir(const char *sub)
{
	return g_build_filename(test_fixture_dir(), sub, NULL);
}

char *fixture_so(const char *sub, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".so", NULL);

	return g_build_filename(test_fixture_dir(), sub, file, NULL);
}

void fixture_copy_to(const char *sub, const char *name, const char *dir)
{
	g_autofree char *src = fixture_so(sub, name);
	g_autofree char *base = g_path_get_basename(src);
	g_autofree char *dst = g_build_filename(dir, base, NULL);
	g_autofree char *data = NULL;
	g_autoptr(GError) error = NULL;
	gsize len;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_file_get_contents(src, &data, &len, &error);
	g_assert_no_error(error);
	g_file_set_contents(dst, data, len, &error);
	g_assert_no_error(error);
	/* whatever the umask: the host refuses group-writable plugins */
	g_assert_cmpint(chmod(dst, 0755), ==, 0);
}

void fixture_install_new(struct host_fixture *f, const char *sub,
			 const char *name, const char *dir)
{
	g_autofree char *stage = g_build_filename(f->tmpdir, "stage", NULL);
	g_autofree char *file = g_strconcat(name, ".so", NULL);
	g_autofree char *from = g_build_filename(stage, file, NULL);
	g_autofree char *to = g_build_filename(dir, file, NULL);

	fixture_copy_to(sub, name, stage);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_cmpint(rename(from, to), ==, 0);
}

char *host_fixture_write(struct host_fixture *f, const char *name,
			 const char *text)
{
	char *path = g_build_filename(f->tmpdir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
	return path;
}

unsigned int host_fixture_count_logged(struct host_fixture *f,
				       const char *line)
{
	g_autofree char *dump = log_capture_dump(&f->log);
	g_auto(GStrv) lines = g_strsplit(dump, "\n", -1);
	unsigned int n = 0;

	for (char **l = lines; *l; l++)
		if (!strcmp(*l, line))
			n++;
	return n;
}

void host_fixture_assert_logged(struct host_fixture *f, const char *line,
				const char *file, int lineno)
{
	g_autofree char *dump = NULL;
	g_autofree char *msg = NULL;

	if (host_fixture_count_logged(f, line))
		return;
	dump = log_capture_dump(&f->log);
	msg = g_strdup_printf("expected log line:\n  %s\ncaptured:\n%s", line,
			      dump);
	g_assertion_message(G_LOG_DOMAIN, file, lineno, G_STRFUNC, msg);
}

char *host_fixture_read_marker(struct host_fixture *f)
{
	char *text = NULL;

	if (!g_file_get_contents(f->marker, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

bool fixture_is_mapped(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);

	if (!h)
		return false;
	dlclose(h);
	return true;
}

int fake_table_new(struct iopgt_host *host, const char *format,
		   const char *label, struct iopgt_pgtable **out)
{
	struct iopgt_cfg cfg = {
		.pgsize_bitmap = FAKE_PAGE_SIZE,
		.ias = FAKE_IAS,
		.oas = FAKE_OAS_MAX,
		.coherent_walk = true,
	};
	int ret;

	*out = NULL;
	ret = iopgt_pgtable_new(host, format, &cfg, NULL, out);
	if (ret == 0 && label)
		iopgt_pgtable_set_label(host, *out, label);
	return ret;
}

void assert_fake_table_works(struct iopgt_host *host,
			     struct iopgt_pgtable *pgt)
{
	const unsigned long iova = 0x5000;
	const uint64_t pa = 0x123456000ULL;

	g_assert_cmpuint(iopgt_pgtable_iova_to_phys(host, pgt, iova), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(host, pgt, iova, pa, FAKE_PAGE_SIZE,
					  IOMMU_READ | IOMMU_WRITE), ==, 0);
	g_assert_cmphex(iopgt_pgtable_iova_to_phys(host, pgt, iova + 0x42),
			==, pa + 0x42);
	g_assert_cmpint(iopgt_pgtable_map(host, pgt, iova, pa, FAKE_PAGE_SIZE,
					  IOMMU_READ), ==, -EEXIST);
	g_assert_cmpuint(iopgt_pgtable_unmap(host, pgt, iova, FAKE_PAGE_SIZE,
					     NULL), ==, FAKE_PAGE_SIZE);
	g_assert_cmpuint(iopgt_pgtable_iova_to_phys(host, pgt, iova), ==, 0);
}

void assert_strv(char **got, const char *const *want)
{
	g_autofree char *g = g_strjoinv(",", got);
	g_autofree char *w = g_strjoinv(",", (char **)want);

	g_assert_cmpstr(g, ==, w);
}
