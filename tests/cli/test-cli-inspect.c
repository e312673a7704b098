// SPDX-License-Identifier: MIT
/*
 * /cli/inspect/: `iopgt-host inspect` dump, diff and nested translate,
 * run as a user runs them (issue 15).  Each test makes its images with
 * `iopgt-host run` in a fresh directory, runs the binary there with
 * relative names, and checks the exit status, stdout and the one-line
 * error exactly.  The first slice's translate/dump/check tests are in
 * test-cli.c (/cli/inspect/saved-image, raw-file-and-registers).
 */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include <json-glib/json-glib.h>

#include "cli-run.h"
#include "test-util.h"

/* iopgt-host --plugin-dir (the build's) --no-manifest ARGS in dir, with
 * input (may be NULL) on stdin. */
static void run_cli(struct cli_run *r, const char *dir, const char *input,
		    const char *const *args)
{
	static const char *const no_manifest[] = { "--no-manifest", NULL };

	cli_run(r, dir, input, test_plugin_dir(), no_manifest, args);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Exit status, stdout (NULL: not checked) and stderr, exactly. */
static void check(const char *dir, const char *const *args, int status,
		  const char *out, const char *err)
{
	struct cli_run r;

	run_cli(&r, dir, NULL, args);
	g_assert_cmpstr(r.err, ==, err);
	if (out)
		g_assert_cmpstr(r.out, ==, out);
	g_assert_cmpint(r.status, ==, status);
	cli_run_clear(&r);
}

/* stdout of a run that must succeed. */
static char *output_of(const char *dir, const char *const *args)
{
	struct cli_run r;

	run_cli(&r, dir, NULL, args);
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_free(r.err);
	return r.out;
}

/* Run a script (its `save` lines make the images) in dir. */
static void run_script(const char *dir, const char *script)
{
	struct cli_run r;

	run_cli(&r, dir, script, ARGS("run", "-"));
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	cli_run_clear(&r);
}

static char *tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("iopgt-cli-inspect-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

/* Remove dir and the files the test made in it. */
static void tmp_dir_remove(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_dir_close(d);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	g_free(dir);
}

/* ---- dump ---------------------------------------------------------------- */

/* 512 4K pages in one L3 table, then a lone read-only page. */
static const char run_script_512[] =
	"alloc t arm-64-lpae-s1\n"
	"map t 0x10200000 0x80400000 2M rw pgsize=4K\n"
	"map t 0x40000000 0xc0000000 4K rn\n"
	"save t t.core\n";

static void test_dump_run_collapses(void)
{
	char *dir = tmp_dir();

	g_test_summary("dump tree: 512 contiguous 4K maps with one prot are "
		       "one line with both ranges, the size and the count; a "
		       "lone page keeps its slot and descriptor");
	run_script(dir, run_script_512);
	check(dir, ARGS("inspect", "--image", "t.core", "dump"), 0,
	      "arm-64-lpae-s1\n"
	      "L0[0] 0x0 512G table 0x440001000\n"
	      "  L1[0] 0x0 1G table 0x440002000\n"
	      "    L2[129] 0x10200000 2M table 0x440003000\n"
	      "      L3[0..511] 0x10200000..0x103fffff -> "
	      "0x80400000..0x805fffff 4K\u00d7512 rwx\n"
	      "  L1[1] 0x40000000 1G table 0x440004000\n"
	      "    L2[0] 0x40000000 2M table 0x440005000\n"
	      "      L3[0] 0x40000000 4K -> 0xc0000000 r-- "
	      "(0x00600000c0000ec3)\n", "");
	tmp_dir_remove(dir);
}

static void test_dump_run_breaks(void)
{
	char *dir = tmp_dir();

	g_test_summary("dump tree: a run ends where the prot, the output "
		       "address or the other descriptor bits (nG) stop "
		       "following on");
	run_script(dir, "alloc t arm-64-lpae-s1\n"
		   "map t 0x10000000 0x80000000 0x4000 rw\n"
		   "map t 0x10004000 0x80004000 0x1000 r\n"
		   "map t 0x10005000 0x90000000 0x2000 r\n"
		   "map t 0x10007000 0x90002000 0x1000 rc\n"
		   "save t t.core\n");
	check(dir, ARGS("inspect", "--image", "t.core", "dump"), 0,
	      "arm-64-lpae-s1\n"
	      "L0[0] 0x0 512G table 0x440001000\n"
	      "  L1[0] 0x0 1G table 0x440002000\n"
	      "    L2[128] 0x10000000 2M table 0x440003000\n"
	      "      L3[0..3] 0x10000000..0x10003fff -> 0x80000000..0x80003fff "
	      "4K\u00d74 rwx\n"
	      "      L3[4] 0x10004000 4K -> 0x80004000 r-x "
	      "(0x0000000080004ec3)\n"
	      "      L3[5..6] 0x10005000..0x10006fff -> 0x90000000..0x90001fff "
	      "4K\u00d72 r-x\n"
	      "      L3[7] 0x10007000 4K -> 0x90002000 r-x cache "
	      "(0x0000000090002fc7)\n", "");
	/* three 2M blocks with one prot: the first lacks nG (bit 11) */
	{
		g_autofree char *path = g_build_filename(dir, "ng.bin", NULL);
		uint64_t t[1024] = { 0 };

		t[0] = 0x11000 | 3;
		t[512 + 1] = 0x80200745;
		t[512 + 2] = 0x80400f45;
		t[512 + 3] = 0x80600f45;
		g_assert_true(g_file_set_contents(path, (const char *)t,
						  sizeof(t), NULL));
	}
	check(dir, ARGS("inspect", "--image", "ng.bin@0x10000", "--format",
			"arm-64-lpae-s1", "--regs",
			"ttbr=0x10000,tcr.tg=0,tcr.tsz=25,tcr.ips=2", "dump"),
	      0,
	      "arm-64-lpae-s1\n"
	      "  L1[0] 0x0 1G table 0x11000\n"
	      "    L2[1] 0x200000 2M -> 0x80200000 rwx cache "
	      "(0x0000000080200745)\n"
	      "    L2[2..3] 0x400000..0x7fffff -> 0x80400000..0x807fffff "
	      "2M\u00d72 rwx cache\n", "");
	tmp_dir_remove(dir);
}

static void test_dump_v7s_replicas(void)
{
	char *dir = tmp_dir();

	g_test_summary("dump tree: v7s's sixteen copies of a supersection or "
		       "a large page are one leaf, and two large pages that "
		       "follow on are one run");
	run_script(dir, "alloc v arm-v7s\n"
		   "map v 0x1000000 0x41000000 16M rw\n"
		   "map v 0x2000000 0x50000000 0x20000 r pgsize=64K\n"
		   "save v v.core\n");
	check(dir, ARGS("inspect", "--image", "v.core", "dump"), 0,
	      "arm-v7s\n"
	      "  L1[16..31] 0x1000000..0x1ffffff -> 0x41000000..0x41ffffff "
	      "16M\u00d71 rwx\n"
	      "  L1[32] 0x2000000 1M table 0xc0004000\n"
	      "    L2[0..31] 0x2000000..0x201ffff -> 0x50000000..0x5001ffff "
	      "64K\u00d72 r-x\n", "");
	tmp_dir_remove(dir);
}

/* The member names of a JSON object, in order, joined with ",". */
static char *members(JsonObject *o)
{
	g_autoptr(GString) s = g_string_new(NULL);
	GList *names = json_object_get_members(o);

	for (GList *l = names; l; l = l->next)
		g_string_append_printf(s, "%s%s", s->len ? "," : "",
				       (const char *)l->data);
	g_list_free(names);
	return g_strdup(s->str);
}

static JsonNode *parse_json(const char *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *root = json_from_string(text, &error);

	g_assert_no_error(error);
	g_assert_nonnull(root);
	return root;
}

#define MAPPING_KEYS "iova,pa,size,count,level,prot,perms,desc"

static void check_mapping(JsonObject *m, uint64_t iova, uint64_t pa,
			  uint64_t size, uint64_t count, int level,
			  const char *perms, uint64_t desc)
{
	g_autofree char *keys = members(m);

	g_assert_cmpstr(keys, ==, MAPPING_KEYS);
	g_assert_cmpuint(json_object_get_int_member(m, "iova"), ==, iova);
	g_assert_cmpuint(json_object_get_int_member(m, "pa"), ==, pa);
	g_assert_cmpuint(json_object_get_int_member(m, "size"), ==, size);
	g_assert_cmpuint(json_object_get_int_member(m, "count"), ==, count);
	g_assert_cmpint(json_object_get_int_member(m, "level"), ==, level);
	g_assert_cmpstr(json_object_get_string_member(m, "perms"), ==, perms);
	g_assert_cmpuint(json_object_get_int_member(m, "desc"), ==, desc);
}

static void test_dump_json_keys(void)
{
	char *dir = tmp_dir();
	g_autofree char *text = NULL, *keys = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *o;
	JsonArray *maps;

	g_test_summary("dump json: format, tables and mappings, each mapping "
		       "with exactly the documented keys; a run of 1024 pages "
		       "across two L3 tables is one mapping (the tree shows "
		       "one line per table)");
	run_script(dir, "alloc t arm-64-lpae-s1\n"
		   "map t 0x10200000 0x80400000 4M rwn pgsize=4K\n"
		   "map t 0x40000000 0xc0000000 2M rc\n"
		   "save t t.core\n");
	text = output_of(dir, ARGS("inspect", "--image", "t.core", "dump",
				   "json"));
	root = parse_json(text);
	o = json_node_get_object(root);
	keys = members(o);
	g_assert_cmpstr(keys, ==, "format,tables,mappings");
	g_assert_cmpstr(json_object_get_string_member(o, "format"), ==,
			"arm-64-lpae-s1");
	/* L0, L1 x2, L2, L3 x2 */
	g_assert_cmpint(json_object_get_int_member(o, "tables"), ==, 6);
	maps = json_object_get_array_member(o, "mappings");
	g_assert_cmpuint(json_array_get_length(maps), ==, 2);
	check_mapping(json_array_get_object_element(maps, 0), 0x10200000,
		      0x80400000, 4096, 1024, 3, "rw-", 0x0060000080400e43);
	g_assert_cmpint(json_object_get_int_member(
		json_array_get_object_element(maps, 0), "prot"), ==,
		IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC);
	check_mapping(json_array_get_object_element(maps, 1), 0x40000000,
		      0xc0000000, 2 << 20, 1, 2, "r-x cache",
		      0x00000000c0000fc5);
	/* --json is the same as 'dump json' */
	{
		g_autofree char *again = output_of(dir,
			ARGS("inspect", "--json", "--image", "t.core", "dump"));

		g_assert_cmpstr(again, ==, text);
	}
	tmp_dir_remove(dir);
}

static void test_dump_dot(void)
{
	char *dir = tmp_dir();
	g_autofree char *text = NULL, *dot = g_find_program_in_path("dot");
	g_autofree char *path = NULL;

	g_test_summary("dump dot: one node per table with its level and PA, "
		       "an edge per table pointer from the entry's port, a run "
		       "as one row; Graphviz's dot reads it");
	run_script(dir, run_script_512);
	text = output_of(dir, ARGS("inspect", "--image", "t.core", "dump",
				   "dot"));
	g_assert_true(g_str_has_prefix(text, "digraph \"arm-64-lpae-s1\" {\n"));
	g_assert_nonnull(strstr(text, "  t440003000 [label=<<table border="
				"\"0\" cellborder=\"1\" cellspacing=\"0\"><tr>"
				"<td bgcolor=\"lightgrey\">L3 table "
				"0x440003000 "
				"(4096 bytes)</td></tr><tr><td align=\"left\">"
				"[0..511] 0x10200000..0x103fffff &#8594; "
				"0x80400000..0x805fffff 4K&#215;512 rwx</td>"
				"</tr></table>>];\n"));
	g_assert_nonnull(strstr(text, "  t440002000:e129 -> t440003000;\n"));
	g_assert_nonnull(strstr(text, "  t440001000:e1 -> t440004000;\n"));
	g_assert_true(g_str_has_suffix(text, "}\n"));
	if (!dot) {
		/* graphviz is a build dependency (scripts/deps.sh) */
		tmp_dir_remove(dir);
		g_test_fail_printf("no 'dot' on PATH to parse the graph");
		return;
	}
	path = g_build_filename(dir, "t.dot", NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	{
		const char *argv[] = { dot, "-Tsvg", "-o", "t.svg", "t.dot",
				       NULL };
		g_autofree char *err = NULL;
		int status = -1;
		g_autoptr(GError) error = NULL;

		g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
			     NULL, NULL, &err, &status, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(err, ==, "");
		g_assert_true(g_spawn_check_wait_status(status, NULL));
	}
	tmp_dir_remove(dir);
}

static void test_dump_dot_bounded(void)
{
	char *dir = tmp_dir();
	g_autoptr(GString) script = g_string_new("alloc t arm-64-lpae-s1\n");
	g_autofree char *text = NULL;
	unsigned int nodes = 0;

	g_test_summary("dump dot of 4111 tables draws the first 4096 and one "
		       "'15 more tables' node the pointers to the rest go to");
	/* one page per 2M: 4100 L3 tables under 9 L2s, one L1, the root */
	for (unsigned int i = 0; i < 4100; i++)
		g_string_append_printf(script, "map t 0x%" G_GINT64_MODIFIER
				       "x 0x80000000 4K\n", (uint64_t)i << 21);
	g_string_append(script, "save t t.core\n");
	run_script(dir, script->str);
	text = output_of(dir, ARGS("inspect", "--image", "t.core", "dump",
				   "dot"));
	for (const char *p = text; (p = strstr(p, " [label=<")); p++)
		nodes++;
	g_assert_cmpuint(nodes, ==, 4096);
	g_assert_nonnull(strstr(text, "  more [shape=box, label=\"15 more "
				"tables\"];\n"));
	g_assert_nonnull(strstr(text, " -> more;\n"));
	tmp_dir_remove(dir);
}

static void test_dump_dot_rows_and_unread(void)
{
	char *dir = tmp_dir();
	g_autoptr(GString) script = g_string_new("alloc t arm-64-lpae-s1\n");
	g_autofree char *text = NULL, *path = NULL;
	uint64_t t[1024] = { 0 };

	g_test_summary("dump dot: a table of 100 separate pages shows 64 rows "
		       "and '36 more rows'; a pointer to a table no source "
		       "holds goes to a '(not read)' box");
	for (unsigned int i = 0; i < 100; i++)
		g_string_append_printf(script, "map t 0x%x 0x%x 4K\n",
				       0x10000000 + i * 0x1000,
				       0x80000000 + i * 0x2000);
	g_string_append(script, "save t rows.core\n");
	run_script(dir, script->str);
	text = output_of(dir, ARGS("inspect", "--image", "rows.core", "dump",
				   "dot"));
	g_assert_nonnull(strstr(text, "[63] 0x1003f000..0x1003ffff &#8594; "
				"0x8007e000..0x8007efff 4K&#215;1 rwx</td></tr>"
				"<tr><td>36 more rows</td></tr></table>>];\n"));
	g_assert_null(strstr(text, "[64] 0x10040000"));
	g_free(text);
	/* L1[0] -> L2 at 0x11000, L1[1] -> 0x900000, outside the file */
	t[0] = 0x11000 | 3;
	t[1] = 0x900000 | 3;
	t[512 + 1] = 0x80200745;
	path = g_build_filename(dir, "raw.bin", NULL);
	g_assert_true(g_file_set_contents(path, (const char *)t, sizeof(t),
					  NULL));
	text = output_of(dir, ARGS("inspect", "--image", "raw.bin@0x10000",
				   "--format", "arm-64-lpae-s1", "--regs",
				   "ttbr=0x10000,tcr.tg=0,tcr.tsz=25,tcr.ips=2",
				   "dump", "dot"));
	g_assert_true(g_str_has_suffix(text,
		"  t10000:e0 -> t11000;\n"
		"  t10000:e1 -> t900000;\n"
		"  t900000 [shape=box, label=\"0x900000 (not read)\"];\n"
		"}\n"));
	tmp_dir_remove(dir);
}

/* ---- diff ---------------------------------------------------------------- */

/* a.core, then b.core: 0x20000000 removed, 0x30000000 added, the page
 * at 0x10201000 made read-only inside a run of 512. */
static const char diff_script[] =
	"alloc t arm-64-lpae-s1\n"
	"map t 0x10200000 0x80400000 2M rw pgsize=4K\n"
	"map t 0x20000000 0x90000000 4K rw\n"
	"save t a.core\n"
	"unmap t 0x20000000 4K\n"
	"map t 0x30000000 0xa0000000 4K r\n"
	"unmap t 0x10201000 4K\n"
	"map t 0x10201000 0x80401000 4K r\n"
	"save t b.core\n";

static void test_diff_changes(void)
{
	char *dir = tmp_dir();

	g_test_summary("diff: one line per change in iova order, '~' changed "
		       "(old => new), '-' removed, '+' added, exit 1; the "
		       "same image twice prints nothing, exit 0");
	run_script(dir, diff_script);
	check(dir, ARGS("inspect", "--image", "a.core", "--image2", "b.core",
			"diff"), 1,
	      "~ 0x10201000..0x10201fff -> 0x80401000..0x80401fff 4K\u00d71 "
	      "rwx => 0x80401000..0x80401fff 4K\u00d71 r-x\n"
	      "- 0x20000000..0x20000fff -> 0x90000000..0x90000fff 4K\u00d71 "
	      "rwx\n"
	      "+ 0x30000000..0x30000fff -> 0xa0000000..0xa0000fff 4K\u00d71 "
	      "r-x\n", "");
	check(dir, ARGS("inspect", "--image", "b.core", "--image2", "a.core",
			"diff"), 1,
	      "~ 0x10201000..0x10201fff -> 0x80401000..0x80401fff 4K\u00d71 "
	      "r-x => 0x80401000..0x80401fff 4K\u00d71 rwx\n"
	      "+ 0x20000000..0x20000fff -> 0x90000000..0x90000fff 4K\u00d71 "
	      "rwx\n"
	      "- 0x30000000..0x30000fff -> 0xa0000000..0xa0000fff 4K\u00d71 "
	      "r-x\n", "");
	check(dir, ARGS("inspect", "--image", "a.core", "--image2", "a.core",
			"diff"), 0, "", "");
	tmp_dir_remove(dir);
}

/* A raw LPAE s1 table pair at PA 0x10000: L1[0] -> L2, L2[1] a 2M block
 * with descriptor desc. */
static void write_raw_block(const char *dir, const char *name, uint64_t desc)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	uint64_t t[1024] = { 0 };

	t[0] = 0x11000 | 3;
	t[512 + 1] = desc;
	g_assert_true(g_file_set_contents(path, (const char *)t, sizeof(t),
					  NULL));
}

static void test_diff_block_and_bits(void)
{
	char *dir = tmp_dir();

	g_test_summary("diff: a 2M block replaced by 512 pages to the same "
		       "addresses is a change of size; a change of other "
		       "descriptor bits alone (nG) shows both descriptors; "
		       "--format and --regs serve both raw states");
	run_script(dir, "alloc t arm-64-lpae-s1\n"
		   "map t 0x10000000 0x80000000 2M rw\n"
		   "save t a.core\n"
		   "unmap t 0x10000000 2M\n"
		   "map t 0x10000000 0x80000000 2M rw pgsize=4K\n"
		   "save t b.core\n");
	check(dir, ARGS("inspect", "--image", "a.core", "--image2", "b.core",
			"diff"), 1,
	      "~ 0x10000000..0x101fffff -> 0x80000000..0x801fffff 2M\u00d71 "
	      "rwx => 0x80000000..0x801fffff 4K\u00d7512 rwx\n", "");
	write_raw_block(dir, "r1.bin", 0x80200745);
	write_raw_block(dir, "r2.bin", 0x80200745 | (1 << 11));
	check(dir, ARGS("inspect", "--image", "r1.bin@0x10000", "--image2",
			"r2.bin@0x10000", "--format", "arm-64-lpae-s1",
			"--regs", "ttbr=0x10000,tcr.tg=0,tcr.tsz=25,tcr.ips=2",
			"diff"), 1,
	      "~ 0x200000..0x3fffff -> 0x80200000..0x803fffff 2M\u00d71 rwx "
	      "cache => 0x80200000..0x803fffff 2M\u00d71 rwx cache (desc "
	      "0x0000000080200745 => 0x0000000080200f45)\n", "");
	tmp_dir_remove(dir);
}

static void test_diff_json(void)
{
	static const struct {
		const char *keys, *change;
		uint64_t iova;
	} want[] = {
		{ "change,iova,last,old,new", "changed", 0x10201000 },
		{ "change,iova,last,old", "removed", 0x20000000 },
		{ "change,iova,last,new", "added", 0x30000000 },
	};
	char *dir = tmp_dir();
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *o, *c;
	JsonArray *changes;
	struct cli_run r;

	g_test_summary("diff --json: changes (change, iova, last, old and/or "
		       "new with the mapping keys but iova) and count");
	run_script(dir, diff_script);
	run_cli(&r, dir, NULL, ARGS("inspect", "--json", "--image", "a.core",
				    "--image2", "b.core", "diff"));
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 1);
	root = parse_json(r.out);
	cli_run_clear(&r);
	o = json_node_get_object(root);
	text = members(o);
	g_assert_cmpstr(text, ==, "changes,count");
	g_assert_cmpint(json_object_get_int_member(o, "count"), ==, 3);
	changes = json_object_get_array_member(o, "changes");
	g_assert_cmpuint(json_array_get_length(changes), ==, 3);
	for (guint i = 0; i < 3; i++) {
		g_autofree char *keys = NULL, *side = NULL;

		c = json_array_get_object_element(changes, i);
		keys = members(c);
		g_assert_cmpstr(keys, ==, want[i].keys);
		g_assert_cmpstr(json_object_get_string_member(c, "change"), ==,
				want[i].change);
		g_assert_cmpuint(json_object_get_int_member(c, "iova"), ==,
				 want[i].iova);
		g_assert_cmpuint(json_object_get_int_member(c, "last"), ==,
				 want[i].iova + 0xfff);
		side = members(json_object_get_object_member(c,
			i == 2 ? "new" : "old"));
		g_assert_cmpstr(side, ==,
				"pa,size,count,level,prot,perms,desc");
	}
	c = json_array_get_object_element(changes, 0);
	g_assert_cmpstr(json_object_get_string_member(
		json_object_get_object_member(c, "new"), "perms"), ==, "r-x");
	tmp_dir_remove(dir);
}

/* ---- bad arguments ------------------------------------------------------- */

#define TRY "Try 'iopgt-host help inspect'.\n"

static const struct bad_arg {
	const char *args[12];
	const char *err;
} bad_args[] = {
	{ { "--image", "a.core", "--image2", "nofile", "diff" },
	  "iopgt-host: inspect: --image2: nofile: No such file or "
	  "directory\n" },
	{ { "--image", "a.core", "--image2", "b.core", "dump" },
	  "iopgt-host: inspect: --image2 applies to diff only\n" TRY },
	{ { "--image", "a.core", "diff" },
	  "iopgt-host: inspect: diff needs --image2 FILE[@PA]\n" TRY },
	{ { "--image", "a.core", "--image2", "b.core", "diff", "x" },
	  "iopgt-host: inspect: usage: diff (the second state is "
	  "--image2)\n" TRY },
	{ { "--image", "a.core", "--image2", "b.core", "--regs2", "ttbr",
	    "diff" },
	  "iopgt-host: inspect: --regs2: 'ttbr' is not KEY=NUMBER\n" TRY },
	{ { "--image", "a.core", "--regs2", "ttbr=1", "check" },
	  "iopgt-host: inspect: --regs2 applies to diff only\n" TRY },
	{ { "--image", "a.core", "--image2", "b.core", "--format2", "nosuch",
	    "diff" },
	  "iopgt-host: inspect: --format2: no plugin provides format "
	  "'nosuch'\n" },
	{ { "--image", "a.core", "--image2", "b.core", "--format2=", "diff" },
	  "iopgt-host: inspect: --format2: '' is not a format name\n" TRY },
	{ { "--image", "a.core", "--image2", "a.core@0x440000000", "diff" },
	  "iopgt-host: inspect: --format2: none given, and no image note "
	  "names a format\n" },
	{ { "--image", "a.core", "--stage2" },
	  "iopgt-host: inspect: Missing argument for --stage2\n" TRY },
	{ { "--image", "a.core", "--stage2", "--format", "arm-64-lpae-s1",
	    "translate", "0" },
	  "iopgt-host: inspect: --stage2: '--format' is not a format "
	  "name\n" TRY },
	{ { "--image", "a.core", "--stage2", "arm-64-lpae-s2", "translate",
	    "0" },
	  "iopgt-host: inspect: --stage2 needs --format (stage 1's "
	  "format)\n" TRY },
	{ { "--image", "a.core", "--stage2", "nosuch", "--format",
	    "arm-64-lpae-s1", "translate", "0" },
	  "iopgt-host: inspect: --stage2: no plugin provides format "
	  "'nosuch'\n" },
	{ { "--image", "a.core", "--s2-regs", "vttbr=1", "translate", "0" },
	  "iopgt-host: inspect: --s2-regs needs --stage2 FMT\n" TRY },
	{ { "--image", "a.core", "--stage2", "arm-64-lpae-s2", "--s2-regs",
	    "vttbr", "--format", "arm-64-lpae-s1", "translate", "0" },
	  "iopgt-host: inspect: --s2-regs: 'vttbr' is not KEY=NUMBER\n" TRY },
	{ { "--image", "a.core", "--image2", "b.core", "--stage2",
	    "arm-64-lpae-s2", "--format", "arm-64-lpae-s1", "diff" },
	  "iopgt-host: inspect: --stage2 applies to translate, dump and "
	  "check\n" TRY },
	{ { "--image", "a.core", "dump", "svg" },
	  "iopgt-host: inspect: dump: 'svg' is not tree, json or dot\n" TRY },
	{ { "--image", "nofile", "check" },
	  "iopgt-host: inspect: --image: nofile: No such file or "
	  "directory\n" },
	/* a FIFO is refused at once, not waited on for a writer */
	{ { "--image", "fifo", "check" },
	  "iopgt-host: inspect: --image: fifo: not a regular file\n" },
	{ { "--image", "fifo@0x1000", "check" },
	  "iopgt-host: inspect: --image: fifo: not a regular file\n" },
	{ { "--image", ".@0", "check" },
	  "iopgt-host: inspect: --image: .: not a regular file\n" },
	{ { "--image", "a.core", "--format", "nosuch", "check" },
	  "iopgt-host: inspect: --format: no plugin provides format "
	  "'nosuch'\n" },
	{ { "--image", "a.core", "frob" },
	  "iopgt-host: inspect: COMMAND is translate, dump, check or diff\n"
	  TRY },
};

static void test_bad_args(void)
{
	char *dir = tmp_dir();
	g_autofree char *fifo = NULL;

	g_test_summary("Each bad --image2, --regs2, --format2, --stage2, "
		       "--s2-regs, --image, --format or COMMAND: one line "
		       "naming it and the reason (the usage hint after a "
		       "malformed command line), nothing on stdout, exit 2");
	run_script(dir, diff_script);
	fifo = g_build_filename(dir, "fifo", NULL);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_args); i++) {
		const char *args[G_N_ELEMENTS(bad_args[i].args) + 2] = {
			"inspect",
		};

		memcpy(args + 1, bad_args[i].args, sizeof(bad_args[i].args));
		g_test_message("%s", bad_args[i].err);
		check(dir, args, 2, "", bad_args[i].err);
	}
	tmp_dir_remove(dir);
}

/* ---- nested -------------------------------------------------------------- */

/*
 * s1's tables (at PAs 0x440000000..) are reached through s2's identity
 * map of that 2M, its output IPAs 0x50000000.. through a read-only 2M to
 * 0x90000000; n3.core is a stage 2 without the identity map.
 */
static const char nested_script[] =
	"alloc s1 arm-64-lpae-s1\n"
	"map s1 0x1000 0x50001000 4K rw\n"
	"alloc s2 arm-64-lpae-s2\n"
	"map s2 0x440000000 0x440000000 2M rw\n"
	"map s2 0x50000000 0x90000000 2M r\n"
	"save s1 n1.core\n"
	"save s2 n2.core\n"
	"alloc s3 arm-64-lpae-s2\n"
	"map s3 0x50000000 0x90000000 2M r\n"
	"save s3 n3.core\n";

#define NESTED(s2core, ...) \
	ARGS("inspect", "--image", "n1.core", "--image", s2core, "--stage2", \
	     "arm-64-lpae-s2", "--format", "arm-64-lpae-s1", "--regs", \
	     "ttbr=0x440000000,tcr.ips=5,tcr.tg=0,tcr.tsz=16,mair=0xf404ff44", \
	     __VA_ARGS__)

static void test_nested_translate(void)
{
	char *dir = tmp_dir();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *keys = NULL;
	JsonObject *o;
	struct cli_run r;

	g_test_summary("--stage2: translate through both stages (the IPA "
		       "and each stage's leaf), or which stage faulted, at "
		       "which level, for which IPA and whether it was "
		       "fetching a stage-1 table; --json the same");
	run_script(dir, nested_script);
	check(dir, NESTED("n2.core", "translate", "0x1234"), 0,
	      "0x1234 -> 0x90001234 (IPA 0x50001234)\n"
	      "  stage 1: 4K at level 3, rwx, memattr 0x44, sh 2, desc "
	      "0x0000000050001e43 at IPA 0x440003008\n"
	      "  stage 2: 2M at level 2, r-x, memattr 0x05, sh 2, desc "
	      "0x0000000090000655 at PA 0x440007400\n", "");
	check(dir, NESTED("n2.core", "--access", "w", "translate", "0x1234"),
	      1, "0x1234: stage 2 permission fault at level 2 for IPA "
	      "0x50001234 (the output), desc 0x0000000090000655 at PA "
	      "0x440007400\n", "");
	check(dir, NESTED("n2.core", "translate", "0x3000"), 1,
	      "0x3000: stage 1 translation fault at level 3, desc "
	      "0x0000000000000000 at IPA 0x440003018\n", "");
	check(dir, NESTED("n3.core", "translate", "0x1000"), 1,
	      "0x1000: stage 2 translation fault at level 1 for IPA "
	      "0x440000000 (fetching the stage-1 level 0 table), desc "
	      "0x0000000000000000 at PA 0x440009088\n", "");
	run_cli(&r, dir, NULL, NESTED("n3.core", "--json", "translate",
				      "0x1000"));
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 1);
	root = parse_json(r.out);
	cli_run_clear(&r);
	o = json_node_get_object(root);
	keys = members(o);
	g_assert_cmpstr(keys, ==, "iova,stage,s1_walk,s1_level,ipa,s1,s2");
	g_assert_cmpint(json_object_get_int_member(o, "stage"), ==, 2);
	g_assert_true(json_object_get_boolean_member(o, "s1_walk"));
	g_assert_cmpint(json_object_get_int_member(o, "s1_level"), ==, 0);
	g_assert_cmpuint(json_object_get_int_member(o, "ipa"), ==,
			 0x440000000);
	g_assert_cmpstr(json_object_get_string_member(
		json_object_get_object_member(o, "s2"), "fault"), ==,
		"translation");
	tmp_dir_remove(dir);
}

static void test_nested_dump(void)
{
	char *dir = tmp_dir();

	g_test_summary("--stage2: dump and check walk stage 1 through stage "
		       "2 (table addresses and outputs are IPAs)");
	run_script(dir, nested_script);
	check(dir, NESTED("n2.core", "dump"), 0,
	      "arm-64-lpae-s1\n"
	      "L0[0] 0x0 512G table 0x440001000\n"
	      "  L1[0] 0x0 1G table 0x440002000\n"
	      "    L2[0] 0x0 2M table 0x440003000\n"
	      "      L3[1] 0x1000 4K -> 0x50001000 rwx "
	      "(0x0000000050001e43)\n", "");
	check(dir, NESTED("n2.core", "check"), 0, "no problems\n", "");
	tmp_dir_remove(dir);
}

/* ---- documentation ------------------------------------------------------- */

static char *read_source(const char *rel)
{
	g_autofree char *path = g_build_filename(
		g_getenv("IOPGT_TEST_SOURCE_ROOT"), rel, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static void test_documented(void)
{
	static const char *const words[] = {
		"--image2", "--regs2", "--format2", "--stage2", "--s2-regs",
		"diff", "dot",
	};
	g_autofree char *man = read_source("docs/iopgt-host.1");
	g_autofree char *doc = read_source("docs/cli.md");
	g_autofree char *insp = read_source("docs/inspect.md");
	g_autofree char *comp =
		read_source("contrib/bash-completion/iopgt-host");
	g_autofree char *help = NULL;
	char *tmp = tmp_dir();

	g_test_summary("The new commands and options are in 'help inspect', "
		       "the man page, cli.md, inspect.md and the completion");
	help = output_of(tmp, ARGS("help", "inspect"));
	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		g_autofree char *man_word = NULL;
		char **parts;

		g_test_message("%s", words[i]);
		g_assert_nonnull(strstr(help, words[i]));
		g_assert_nonnull(strstr(doc, words[i]));
		g_assert_nonnull(strstr(insp, words[i]));
		g_assert_nonnull(strstr(comp, words[i]));
		/* roff writes a '-' as "\-" */
		parts = g_strsplit(words[i], "-", -1);
		man_word = g_strjoinv("\\-", parts);
		g_strfreev(parts);
		g_assert_nonnull(strstr(man, man_word));
	}
	tmp_dir_remove(tmp);
}

/*
 * What the bash completion offers for the last of words (after
 * "iopgt-host"), one per line, as bash-completion would call it; the
 * built iopgt-host first on PATH for the format names.
 */
static char *complete(const char *const *words)
{
	static const char script[] =
		"source \"$1\"; shift\n"
		"COMP_WORDS=(iopgt-host \"$@\"); COMP_CWORD=$#\n"
		"_iopgt_host iopgt-host \"${COMP_WORDS[COMP_CWORD]}\" "
		"\"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
		"printf '%s\\n' \"${COMPREPLY[@]}\"\n";
	g_autofree char *comp = g_build_filename(
		g_getenv("IOPGT_TEST_SOURCE_ROOT"),
		"contrib/bash-completion/iopgt-host", NULL);
	g_autofree char *bin = g_path_get_dirname(g_getenv("IOPGT_TEST_CLI"));
	g_autofree char *path = g_strconcat(bin, ":", g_getenv("PATH"), NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "PATH", path,
					     TRUE);
	g_autoptr(GError) error = NULL;
	char *out = NULL;
	int status;

	g_ptr_array_add(argv, "bash");
	g_ptr_array_add(argv, "--norc");
	g_ptr_array_add(argv, "--noprofile");
	g_ptr_array_add(argv, "-c");
	g_ptr_array_add(argv, (gpointer)script);
	g_ptr_array_add(argv, "_");
	g_ptr_array_add(argv, comp);
	for (const char *const *w = words; *w; w++)
		g_ptr_array_add(argv, (gpointer)*w);
	g_ptr_array_add(argv, NULL);
	g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_SEARCH_PATH,
		     NULL, NULL, &out, NULL, &status, &error);
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	return out;
}

static void test_completion(void)
{
	g_autofree char *opts = complete(ARGS("inspect", "--image", "t.core",
					      "--s"));
	g_autofree char *styles = complete(ARGS("inspect", "--image", "t.core",
						"dump", ""));
	g_autofree char *cmds = complete(ARGS("inspect", "--image", "t.core",
					      "d"));
	g_autofree char *fmts = complete(ARGS("--plugin-dir",
					      test_plugin_dir(), "inspect",
					      "--stage2", "arm-64-lpae-s"));

	g_test_summary("Completion after 'inspect': its new options, the "
		       "diff command, dump's styles, format names for "
		       "--stage2");
	g_assert_cmpstr(opts, ==, "--stage2\n--s2-regs\n");
	g_assert_cmpstr(styles, ==, "tree\njson\ndot\n");
	g_assert_cmpstr(cmds, ==, "dump\ndiff\n");
	g_assert_cmpstr(fmts, ==, "arm-64-lpae-s1\narm-64-lpae-s2\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli/inspect/dump/run-collapses",
			test_dump_run_collapses);
	g_test_add_func("/cli/inspect/dump/run-breaks", test_dump_run_breaks);
	g_test_add_func("/cli/inspect/dump/v7s-replicas-are-one-leaf",
			test_dump_v7s_replicas);
	g_test_add_func("/cli/inspect/dump/json-keys", test_dump_json_keys);
	g_test_add_func("/cli/inspect/dump/dot-parses", test_dump_dot);
	g_test_add_func("/cli/inspect/dump/dot-is-bounded",
			test_dump_dot_bounded);
	g_test_add_func("/cli/inspect/dump/dot-rows-and-unread-tables",
			test_dump_dot_rows_and_unread);
	g_test_add_func("/cli/inspect/diff/added-removed-changed",
			test_diff_changes);
	g_test_add_func("/cli/inspect/diff/size-and-attribute-bits",
			test_diff_block_and_bits);
	g_test_add_func("/cli/inspect/diff/json", test_diff_json);
	g_test_add_func("/cli/inspect/bad-arguments-are-one-line",
			test_bad_args);
	g_test_add_func("/cli/inspect/nested/translate",
			test_nested_translate);
	g_test_add_func("/cli/inspect/nested/dump-and-check",
			test_nested_dump);
	g_test_add_func("/cli/inspect/documented", test_documented);
	g_test_add_func("/cli/inspect/completion", test_completion);
	return g_test_run();
}
