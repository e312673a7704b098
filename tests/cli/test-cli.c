// SPDX-License-Identifier: MIT
/*
 * The /cli/ tests: the iopgt-host binary, run as a user runs it.  Each test checks
 * the exit status (0 ok, 1 failed, 2 usage), stdout against an expected
 * file or exact text, and the one-line error on stderr.
 *
 * The binary runs from the source root with relative paths, so outputs
 * carry no machine-specific directories.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include <json-glib/json-glib.h>

#include "cli-run.h"
#include "test-util.h"

static const char *source_root(void)
{
	const char *v = g_getenv("IOPGT_TEST_SOURCE_ROOT");

	g_assert_nonnull(v);
	return v;
}

/*
 * argv after the binary; NULL-terminated.  input may be NULL.  Unless
 * with_defaults, --plugin-dir names the build's plugins explicitly.
 */
static void run_cli_full(struct cli_run *r, const char *input,
			 const char *const *args, bool with_defaults)
{
	cli_run(r, source_root(), input,
		with_defaults ? NULL : test_plugin_dir(), NULL, args);
}

static void run_cli_input(struct cli_run *r, const char *input,
			  const char *const *args)
{
	run_cli_full(r, input, args, false);
}

#define run_cli(r, ...) \
	run_cli_input((r), NULL, (const char *const[]){ __VA_ARGS__, NULL })

static char *expected(const char *name)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "expected",
						      name, NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	return text;
}

/* ---- usage ------------------------------------------------------------------ */

static void test_usage_no_command(void)
{
	struct cli_run r;

	g_test_summary("No command is a usage error (exit 2) naming what is "
		       "missing");
	run_cli_input(&r, NULL, (const char *const[]){ NULL });
	g_assert_cmpint(r.status, ==, 2);
	g_assert_cmpstr(r.out, ==, "");
	g_assert_cmpstr(r.err, ==, "iopgt-host: missing COMMAND (list, info, "
			"plan, formats, run, inspect, help)\n"
			"Try 'iopgt-host --help'.\n");
	cli_run_clear(&r);
}

static void test_usage_unknown_command(void)
{
	struct cli_run r;

	g_test_summary("An unknown command is a usage error");
	run_cli(&r, "frobnicate");
	g_assert_cmpint(r.status, ==, 2);
	g_assert_cmpstr(r.err, ==, "iopgt-host: unknown command 'frobnicate'\n"
			"Try 'iopgt-host --help'.\n");
	cli_run_clear(&r);
}

static void test_usage_bad_option(void)
{
	struct cli_run r;

	g_test_summary("An unknown option is a usage error naming it");
	run_cli(&r, "--frob", "list");
	g_assert_cmpint(r.status, ==, 2);
	g_assert_cmpstr(r.err, ==, "iopgt-host: Unknown option --frob\n"
			"Try 'iopgt-host --help'.\n");
	cli_run_clear(&r);
}

static void test_usage_bad_mem(void)
{
	struct cli_run r;

	g_test_summary("A malformed --mem size is a usage error (exit 2) with "
		       "the reason");
	run_cli(&r, "--mem", "12Q", "list");
	g_assert_cmpint(r.status, ==, 2);
	g_assert_cmpstr(r.err, ==, "iopgt-host: --mem 12Q: '12Q' is not a "
			"number (bad suffix 'Q')\nTry 'iopgt-host --help'.\n");
	cli_run_clear(&r);
}

static void test_version(void)
{
	struct cli_run r;

	g_test_summary("--version prints the version and the plugin ABI");
	run_cli(&r, "--version");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "iopgt-host "));
	g_assert_nonnull(strstr(r.out, "(plugin ABI " TEST_ABI ")"));
	cli_run_clear(&r);
}

static void test_help(void)
{
	struct cli_run r;

	g_test_summary("--help lists the commands and the exit codes");
	run_cli(&r, "--help");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "run [FILE|-]"));
	g_assert_nonnull(strstr(r.out, "Exit status: 0 ok, 1 an operation "
				"failed, 2 usage error."));
	/* issue 12 item 15: the manual, not a source-tree path */
	g_assert_nonnull(strstr(r.out, "See iopgt-host(1)."));
	g_assert_null(strstr(r.out, "docs/cli.md"));
	/* item 21: what --plugin-dir does to the default */
	g_assert_nonnull(strstr(r.out, "--plugin-dir replaces the default "
				"plugin dir; --add-plugin-dir adds to it."));
	cli_run_clear(&r);
}

/* ---- list / info / plan ------------------------------------------------------- */

static void test_list_bundled(void)
{
	g_autofree char *want = expected("list.out");
	struct cli_run r;

	g_test_summary("list loads the bundled plugins in manifest order and "
		       "shows state, users and formats");
	run_cli(&r, "--manifest", "conf/iopgt.conf", "list");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, want);
	g_assert_cmpstr(r.err, ==, "");
	cli_run_clear(&r);
}

static void test_list_json(void)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonArray *arr;
	JsonObject *o;
	struct cli_run r;

	g_test_summary("list --json is an array of objects with the documented "
		       "keys");
	run_cli(&r, "--manifest", "conf/iopgt.conf", "--json", "list");
	g_assert_cmpint(r.status, ==, 0);
	json_parser_load_from_data(parser, r.out, -1, &error);
	g_assert_no_error(error);
	arr = json_node_get_array(json_parser_get_root(parser));
	g_assert_cmpuint(json_array_get_length(arr), ==, 2);
	o = json_array_get_object_element(arr, 0);
	g_assert_cmpstr(json_object_get_string_member(o, "name"), ==,
			"io-pgtable-arm");
	g_assert_cmpstr(json_object_get_string_member(o, "state"), ==,
			"loaded");
	g_assert_cmpint(json_object_get_int_member(o, "refcount"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(o, "load_index"), ==, 0);
	g_assert_cmpuint(json_array_get_length(
		json_object_get_array_member(o, "formats")), ==, 5);
	g_assert_true(json_object_has_member(o, "error"));
	g_assert_true(json_node_is_null(json_object_get_member(o, "error")));
	g_assert_true(json_object_has_member(o, "path"));
	g_assert_true(json_object_has_member(o, "version"));
	o = json_array_get_object_element(arr, 1);
	g_assert_cmpstr(json_object_get_string_member(o, "name"), ==,
			"io-pgtable-arm-v7s");
	g_assert_cmpint(json_object_get_int_member(o, "load_index"), ==, 1);
	cli_run_clear(&r);
}

static void test_info_name(void)
{
	struct cli_run r;

	g_test_summary("info NAME shows the descriptor's metadata and formats");
	run_cli(&r, "info", "io-pgtable-arm-v7s");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "name:        io-pgtable-arm-v7s\n"));
	g_assert_nonnull(strstr(r.out, "\nstate:       loaded\n"));
	g_assert_nonnull(strstr(r.out, "\nformat:      arm-v7s\n"));
	g_assert_nonnull(strstr(r.out, "\nlicense:     MIT\n"));
	cli_run_clear(&r);
}

static void test_info_file(void)
{
	g_autofree char *path = g_build_filename(test_plugin_dir(),
						 "io-pgtable-arm.so", NULL);
	g_autofree char *want = g_strdup_printf("filename:    %s\n", path);
	struct cli_run r;

	g_test_summary("info FILE loads that file directly and shows its "
		       "metadata");
	run_cli(&r, "info", path);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "name:        io-pgtable-arm\n"));
	g_assert_nonnull(strstr(r.out, want));
	g_assert_nonnull(strstr(r.out, "\nformat:      arm-mali-lpae\n"));
	cli_run_clear(&r);
}

static void test_defaults_next_to_executable(void)
{
	struct cli_run r;

	g_test_summary("Without --plugin-dir and --manifest the CLI uses the "
		       "plugins and manifest installed next to it");
	run_cli_full(&r, NULL, (const char *const[]){ "plan", NULL }, true);
	g_assert_cmpint(r.status, ==, 0);
	/* the bundled manifest orders nothing (issue 12 item 7) */
	g_assert_cmpstr(r.out, ==, "load order:\n"
			"  1. io-pgtable-arm\n"
			"  2. io-pgtable-arm-v7s\n");
	g_assert_cmpstr(r.err, ==, "");
	cli_run_clear(&r);
}

static void test_info_missing(void)
{
	struct cli_run r;

	g_test_summary("info of an unknown plugin fails (exit 1) naming it");
	run_cli(&r, "info", "no-such-plugin");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.out, ==, "");
	g_assert_cmpstr(r.err, ==, "iopgt-host: no plugin named "
			"'no-such-plugin' in the plugin directories\n"
			"iopgt-host: info: no plugin 'no-such-plugin'\n");
	cli_run_clear(&r);
}

static void test_plan_bundled(void)
{
	struct cli_run r;

	g_test_summary("plan of the bundled plugins and manifest: no softdep "
		       "between them (issue 12 item 7), so no edge and no "
		       "override");
	run_cli(&r, "--manifest", "conf/iopgt.conf", "plan");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "load order:\n"
			"  1. io-pgtable-arm\n"
			"  2. io-pgtable-arm-v7s\n");
	cli_run_clear(&r);
}

static void test_plan_bad_manifest(void)
{
	g_autofree char *path = NULL;
	struct cli_run r;

	g_test_summary("A bad manifest line is reported as FILE:LINE and plan "
		       "exits 1; the good lines still apply");
	path = g_build_filename(g_get_tmp_dir(), "iopgt-cli-bad.conf", NULL);
	g_assert_true(g_file_set_contents(path,
		"softdep io-pgtable-arm-v7s pre: io-pgtable-arm\n"
		"sofdep x pre: y\n", -1, NULL));
	run_cli(&r, "--manifest", path, "plan");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, ":2: unknown directive 'sofdep'\n"));
	g_assert_nonnull(strstr(r.out, "  1. io-pgtable-arm\n"
				"  2. io-pgtable-arm-v7s\n"));
	g_unlink(path);
	cli_run_clear(&r);
}

static void test_missing_manifest(void)
{
	struct cli_run r;

	g_test_summary("A manifest that cannot be read fails with its name");
	run_cli(&r, "--manifest", "/nonexistent/iopgt.conf", "list");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "/nonexistent/iopgt.conf"));
	cli_run_clear(&r);
}

/* ---- run ---------------------------------------------------------------------- */

static void test_run_demo(void)
{
	g_autofree char *want = expected("demo.out");
	struct cli_run r;

	g_test_summary("The README's main job: the demo script gives exactly "
		       "the expected output and exit 0");
	run_cli(&r, "--manifest", "conf/iopgt.conf", "run",
		"examples/demo.iopgt");
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, want);
	cli_run_clear(&r);
}

static void test_run_stdin(void)
{
	struct cli_run r;

	g_test_summary("run - reads the script from standard input");
	run_cli_input(&r, "load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
		      "map t 0x1000 0x5000 4K\niova t 0x1234\niova t 0x2000\n",
		      (const char *const[]){ "--no-manifest", "run", "-", NULL });
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "loaded io-pgtable-arm\n"
			"t: arm-64-lpae-s1 ias=48 oas=48 pgsizes=4K|2M|1G "
			"root=0x440000000\n0x5234\nnone\n");
	cli_run_clear(&r);
}

static void check_script_error(const char *script, const char *want_err);

/* What an unknown format's error lists (names, not the Linux aliases). */
#define KNOWN_FORMATS "known formats: arm-32-lpae-s1, arm-32-lpae-s2, " \
	"arm-64-lpae-s1, arm-64-lpae-s2, arm-mali-lpae, arm-v7s"

static void test_run_unload_wait(void)
{
	struct cli_run r;

	g_test_summary("unload --wait NAME: the plugin refuses new tables and "
		       "unloads when its last table is freed; reload of an "
		       "unchanged file is refused");
	run_cli_input(&r, "load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
		      "unload --wait=60000 io-pgtable-arm\n"
		      "!alloc u arm-64-lpae-s1\n"
		      "!reload io-pgtable-arm\nfree t\n"
		      "!unload io-pgtable-arm\n",
		      (const char *const[]){ "--no-manifest", "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "loaded io-pgtable-arm\n"
		"t: arm-64-lpae-s1 ias=48 oas=48 pgsizes=4K|2M|1G "
		"root=0x440000000\n"
		"io-pgtable-arm unloads when its last table is freed\n"
		"expected failure: alloc u arm-64-lpae-s1: format "
		"'arm-64-lpae-s1': plugin 'io-pgtable-arm' is unloading "
		"[plugin is unloading]\n"
		"expected failure: reload io-pgtable-arm: io-pgtable-arm is "
		"going, not loaded [Invalid argument]\n"
		"unloaded io-pgtable-arm 1.0.0 (its last table went)\n"
		"expected failure: unload io-pgtable-arm: io-pgtable-arm is "
		"unloaded, not loaded [Invalid argument]\n");
	cli_run_clear(&r);
	check_script_error("unload --now io-pgtable-arm\n",
			   "<stdin>:1: error: unknown option '--now' "
			   "(--wait[=MS])\n");
	check_script_error("unload --wait=soon io-pgtable-arm\n",
			   "<stdin>:1: error: --wait: 'soon' is not a "
			   "number\n");
}

/* One bad line: exit 1, "<stdin>:LINE: error: MESSAGE", cleanup is silent. */
static void check_script_error(const char *script, const char *want_err)
{
	struct cli_run r;

	run_cli_input(&r, script, (const char *const[]){ "--no-manifest", "run",
							 "-", NULL });
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, want_err);
	cli_run_clear(&r);
}

static void test_run_errors(void)
{
	g_test_summary("Every malformed or failing script line gives exit 1 "
		       "and one FILE:LINE error naming the reason");
	check_script_error("frob\n", "<stdin>:1: error: unknown command 'frob'\n");
	check_script_error("\n# c\nload io-pgtable-arm\nalloc t "
			   "arm-64-lpae-s1\nmap t 0x1000 0x1000 4Q\n",
			   "<stdin>:5: error: SIZE: '4Q' is not a number (bad "
			   "suffix 'Q')\n");
	check_script_error("iova nope 0x1000\n",
			   "<stdin>:1: error: unknown table id 'nope'\n");
	check_script_error("load io-pgtable-arm\nalloc t no-such-format\n",
			   "<stdin>:2: error: alloc t no-such-format: no plugin "
			   "provides format 'no-such-format'; " KNOWN_FORMATS
			   " [No such file or directory]\n");
	check_script_error("load io-pgtable-arm\nalloc t arm-64-lpae-s1 "
			   "quirks=fast\n",
			   "<stdin>:2: error: unknown quirk 'fast' (ns, "
			   "no-perms, mtk-ext, mtk-ttbr-ext, ttbr1, outer-wbwa, "
			   "hd, s2fwb, no-warn, reclaim-tables)\n");
	check_script_error("load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
			   "map t 0 0 4K rwx\n",
			   "<stdin>:3: error: unknown prot letter 'x' in 'rwx' "
			   "(r w c n m p)\n");
	check_script_error("load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
			   "alloc t arm-64-lpae-s1\n",
			   "<stdin>:3: error: table id 't' is already in use\n");
	check_script_error("map t\n", "<stdin>:1: error: usage: map ID IOVA "
			   "PADDR SIZE [PROT] [pgsize=SZ]\n");
	check_script_error("load ../etc/passwd\n",
			   "<stdin>:1: error: load ../etc/passwd: '../etc/passwd'"
			   " is not a plugin name (names, not paths) [Invalid "
			   "argument]\n");
	check_script_error("load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
			   "map t 0x1000 0x1000 0x1800\n",
			   "<stdin>:3: error: map t 0x1000 -> 0x1000 size 0x1800:"
			   " table t: map: iova 0x1000, paddr 0x1000 and size "
			   "0x1800 must be multiples of the smallest page size "
			   "0x1000 [Invalid argument]\n");
	check_script_error("load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
			   "unmap t 0x1000 4K\n",
			   "<stdin>:3: error: unmap t 0x1000: unmapped 0x0 of "
			   "0x1000 bytes: lpae: unmap: iova 0x1000 is not mapped "
			   "[Invalid argument]\n");
	check_script_error("!\n", "<stdin>:1: error: '!' without a command\n");
}

static void test_run_expected_failure_succeeds(void)
{
	g_test_summary("A '!' line whose command succeeds is itself an error");
	check_script_error("!load io-pgtable-arm\n",
			   "<stdin>:1: error: 'load' succeeded but the line "
			   "expects it to fail\n");
}

static void test_run_missing_file(void)
{
	struct cli_run r;

	g_test_summary("run of a missing file fails with its name");
	run_cli(&r, "run", "no/such/script.iopgt");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_true(g_str_has_prefix(r.err, "no/such/script.iopgt: error: "));
	cli_run_clear(&r);
}

/* ---- bad input: options and arguments ------------------------------------------ */

/* args after the binary (the build's --plugin-dir first unless own_dirs). */
static void check_cli(const char *const *args, bool own_dirs, int want_status,
		      const char *want_out, const char *want_err)
{
	struct cli_run r;

	run_cli_full(&r, NULL, args, own_dirs);
	g_assert_cmpstr(r.err, ==, want_err);
	g_assert_cmpint(r.status, ==, want_status);
	if (want_out)
		g_assert_cmpstr(r.out, ==, want_out);
	cli_run_clear(&r);
}

#define USAGE_TAIL "Try 'iopgt-host --help'.\n"

static void test_usage_missing_value(void)
{
	static const char *const options[] = {
		"--plugin-dir", "-d", "--manifest", "-m", "--mem",
	};

	g_test_summary("An option without its value is a usage error (exit 2) "
		       "naming the option");
	for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
		g_autofree char *want = g_strdup_printf(
			"iopgt-host: Missing argument for %s\n" USAGE_TAIL,
			options[i]);

		g_test_message("%s", options[i]);
		check_cli((const char *const[]){ options[i], NULL }, false, 2,
			  "", want);
	}
}

static void test_usage_unknown_short_option(void)
{
	g_test_summary("An unknown short option, also grouped with known "
		       "ones, is a usage error naming the word");
	check_cli((const char *const[]){ "-x", "list", NULL }, false, 2, "",
		  "iopgt-host: Unknown option -x\n" USAGE_TAIL);
	check_cli((const char *const[]){ "-vjx", "list", NULL }, false, 2, "",
		  "iopgt-host: Unknown option -vjx\n" USAGE_TAIL);
}

static void test_usage_wrong_argument_count(void)
{
	static const struct {
		const char *args[4];
		const char *err;
	} cases[] = {
		{ { "list", "x" }, "too many arguments" },
		{ { "plan", "x", "y" }, "too many arguments" },
		{ { "info" }, "usage: info NAME|FILE" },
		{ { "info", "a", "b" }, "usage: info NAME|FILE" },
		{ { "run", "a", "b" }, "usage: run [FILE|-]" },
	};

	g_test_summary("A command with the wrong number of arguments is a "
		       "usage error (exit 2) saying the usage");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *want = g_strdup_printf("iopgt-host: %s\n"
							USAGE_TAIL,
							cases[i].err);
		const char *args[6] = { "--no-manifest" };

		memcpy(args + 1, cases[i].args, sizeof(cases[i].args));
		g_test_message("%s", cases[i].err);
		check_cli(args, false, 2, "", want);
	}
}

static void test_usage_bad_mem_values(void)
{
	static const struct {
		const char *value;
		const char *err;
	} cases[] = {
		{ "", "--mem : missing number" },
		{ "0x", "--mem 0x: '0x' is not a number" },
		{ "-5", "--mem -5: '-5' is not a number" },
		{ "16E", "--mem 16E: '16E' is not a number (bad suffix 'E')" },
		{ "4G4", "--mem 4G4: '4G4' is not a number (bad suffix 'G4')" },
		{ "99999999999T",
		  "--mem 99999999999T: '99999999999T' does not fit in 64 bits" },
		{ "0x10000000000000000",
		  "--mem 0x10000000000000000: '0x10000000000000000' does not "
		  "fit in 64 bits" },
		{ "1K", "--mem 1K: must be at least 64K" },
		{ "65535", "--mem 65535: must be at least 64K" },
		/* issue 13 "Error text": refused now, not at the first alloc */
		{ "0xfffffffffffff000", "--mem 0xfffffffffffff000: more than "
		  "this machine can reserve" },
		{ "16383P", "--mem 16383P: '16383P' is not a number (bad "
		  "suffix 'P')" },
	};

	g_test_summary("Every malformed, too small or too large --mem value is "
		       "a usage error (exit 2) naming the value and the reason");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *want = g_strdup_printf("iopgt-host: %s\n"
							USAGE_TAIL,
							cases[i].err);

		g_test_message("--mem '%s'", cases[i].value);
		check_cli((const char *const[]){ "--no-manifest", "--mem",
						 cases[i].value, "list", NULL },
			  false, 2, "", want);
	}
}

static void test_mem_too_big_for_the_machine(void)
{
	struct cli_run r;

	g_test_summary("A --mem no machine can reserve is a usage error when "
		       "the options are parsed, before any script line runs");
	run_cli_input(&r, "load io-pgtable-arm-v7s\nalloc t arm-v7s\n",
		      (const char *const[]){ "--no-manifest", "--mem",
					     "0xfffffffffffff000", "run", "-",
					     NULL });
	g_assert_cmpstr(r.out, ==, "");
	g_assert_cmpstr(r.err, ==, "iopgt-host: --mem 0xfffffffffffff000: more "
			"than this machine can reserve\n" USAGE_TAIL);
	g_assert_cmpint(r.status, ==, 2);
	cli_run_clear(&r);
}

static void test_missing_files(void)
{
	g_test_summary("A manifest or script that does not exist or is a "
		       "directory fails (exit 1) with one line naming it");
	check_cli((const char *const[]){ "--manifest",
					 "/nonexistent/iopgt.conf", "list",
					 NULL }, false, 1, "",
		  "iopgt-host: /nonexistent/iopgt.conf: No such file or "
		  "directory\n");
	check_cli((const char *const[]){ "--manifest", "tests", "plan", NULL },
		  false, 1, "", "iopgt-host: tests: not a regular file\n");
	check_cli((const char *const[]){ "--no-manifest", "run",
					 "no/such/script.iopgt", NULL }, false,
		  1, "", "no/such/script.iopgt: error: No such file or "
		  "directory\n");
	check_cli((const char *const[]){ "--no-manifest", "run", "tests",
					 NULL }, false, 1, "",
		  "tests: error: cannot read: Is a directory\n");
	check_cli((const char *const[]){ "--no-manifest", "info", "../x",
					 NULL }, false, 1, "",
		  "iopgt-host: ../x: not a plugin file name (NAME.so)\n"
		  "iopgt-host: info: no plugin '../x'\n");
}

static void test_nonexistent_plugin_dir(void)
{
	struct cli_run r;

	g_test_summary("A --plugin-dir that does not exist is an error naming "
		       "it, before anything runs: a typo is not 'no plugins'");
	/* nothing on stdin: the CLI exits before it would read it */
	run_cli_full(&r, NULL,
		     (const char *const[]){ "--plugin-dir", "/nonexistent/dir",
					    "--no-manifest", "run", "-",
					    NULL }, true);
	g_assert_cmpstr(r.out, ==, "");
	g_assert_cmpstr(r.err, ==, "iopgt-host: --plugin-dir /nonexistent/dir: "
			"no such directory\n");
	g_assert_cmpint(r.status, ==, 1);
	cli_run_clear(&r);
}

/* ---- bad input: script lines ------------------------------------------------- */

#define LPAE_T "load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"

struct script_case {
	const char *script;
	const char *err;	/* the whole of stderr */
};

static void check_script_cases(const struct script_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_test_message("%s", cases[i].script);
		check_script_error(cases[i].script, cases[i].err);
	}
}

static void test_run_bad_numbers(void)
{
	static const struct script_case cases[] = {
		{ LPAE_T "iova t 0x\n",
		  "<stdin>:3: error: IOVA: '0x' is not a number\n" },
		{ LPAE_T "iova t 0xg\n",
		  "<stdin>:3: error: IOVA: '0xg' is not a number\n" },
		{ LPAE_T "iova t -1\n",
		  "<stdin>:3: error: IOVA: '-1' is not a number\n" },
		{ LPAE_T "iova t +5\n",
		  "<stdin>:3: error: IOVA: '+5' is not a number\n" },
		{ LPAE_T "iova t 0x-1\n",
		  "<stdin>:3: error: IOVA: '0x-1' is not a number\n" },
		{ LPAE_T "iova t 0x0x10\n",
		  "<stdin>:3: error: IOVA: '0x0x10' is not a number\n" },
		{ LPAE_T "iova t 0x10000000000000000\n",
		  "<stdin>:3: error: IOVA: '0x10000000000000000' does not fit "
		  "in 64 bits\n" },
		{ LPAE_T "iova t 18446744073709551616\n",
		  "<stdin>:3: error: IOVA: '18446744073709551616' does not fit "
		  "in 64 bits\n" },
		{ LPAE_T "iova t 16777216T\n",
		  "<stdin>:3: error: IOVA: '16777216T' does not fit in 64 "
		  "bits\n" },
		{ LPAE_T "iova t 0x40000000000000K\n",
		  "<stdin>:3: error: IOVA: '0x40000000000000K' does not fit "
		  "in 64 bits\n" },
		{ LPAE_T "iova t 1KK\n",
		  "<stdin>:3: error: IOVA: '1KK' is not a number (bad suffix "
		  "'KK')\n" },
		{ LPAE_T "iova t 0x1000junk\n",
		  "<stdin>:3: error: IOVA: '0x1000junk' is not a number (bad "
		  "suffix 'junk')\n" },
		{ LPAE_T "iova t 1.5K\n",
		  "<stdin>:3: error: IOVA: '1.5K' is not a number (bad suffix "
		  "'.5K')\n" },
		{ LPAE_T "iova t 0b101\n",
		  "<stdin>:3: error: IOVA: '0b101' is not a number (bad suffix "
		  "'b101')\n" },
		{ LPAE_T "map t 0 0xg 4K\n",
		  "<stdin>:3: error: PADDR: '0xg' is not a number\n" },
		{ LPAE_T "map t 0 0 4Q\n",
		  "<stdin>:3: error: SIZE: '4Q' is not a number (bad suffix "
		  "'Q')\n" },
		{ LPAE_T "unmap t 0 -4K\n",
		  "<stdin>:3: error: SIZE: '-4K' is not a number\n" },
		{ LPAE_T "map t 0 0 4K pgsize=\n",
		  "<stdin>:3: error: pgsize=: missing number\n" },
		{ LPAE_T "map t 0 0 4K rw pgsize=3K\n",
		  "<stdin>:3: error: pgsize=3K is not a power of two\n" },
		{ LPAE_T "unmap t 0 4K pgsize=0\n",
		  "<stdin>:3: error: pgsize=0 is not a power of two\n" },
		{ LPAE_T "map t 0 0 6K pgsize=4K\n",
		  "<stdin>:3: error: SIZE 0x1800 is not a multiple of "
		  "pgsize=0x1000\n" },
		{ LPAE_T "unmap t 0 0 pgsize=4K\n",
		  "<stdin>:3: error: SIZE 0x0 is not a multiple of "
		  "pgsize=0x1000\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 ias=\n",
		  "<stdin>:2: error: ias=: missing number\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 ias=0x\n",
		  "<stdin>:2: error: ias=0x: '0x' is not a number\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 ias=65\n",
		  "<stdin>:2: error: ias=65: address size must be 1..64 "
		  "bits\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 oas=0\n",
		  "<stdin>:2: error: oas=0: address size must be 1..64 bits\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 oas=4294967344\n",
		  "<stdin>:2: error: oas=4294967344: address size must be "
		  "1..64 bits\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 pgsizes=4K,3K\n",
		  "<stdin>:2: error: pgsizes=4K,3K: page size '3K' is not a "
		  "power of two\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 pgsizes=4K,,2M\n",
		  "<stdin>:2: error: pgsizes=4K,,2M: empty page size\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 pgsizes=4K|2Q\n",
		  "<stdin>:2: error: pgsizes=4K|2Q: '2Q' is not a number (bad "
		  "suffix 'Q')\n" },
		{ "load io-pgtable-arm\nalloc t arm-64-lpae-s1 pgsizes=\n",
		  "<stdin>:2: error: pgsizes=: no page size\n" },
	};

	g_test_summary("Every malformed number (empty, '0x', negative, "
		       "trailing junk, over 64 bits) is one FILE:LINE error "
		       "naming the word");
	check_script_cases(cases, G_N_ELEMENTS(cases));
}

static void test_run_good_numbers(void)
{
	struct cli_run r;

	g_test_summary("The number forms the docs promise: decimal, 0x/0X "
		       "hex, K/M/G/T in either case, and the 64-bit maximum");
	run_cli_input(&r, LPAE_T
		      "map t 0X10K 0x20k 4096\n"
		      "map t 1G 2g 0x1000\n"
		      "iova t 16385\n"
		      "iova t 0x40000123\n"
		      "iova t 0xffffffffffffffff\n"
		      "iova t 18446744073709551615\n",
		      (const char *const[]){ "--no-manifest", "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "loaded io-pgtable-arm\n"
			"t: arm-64-lpae-s1 ias=48 oas=48 pgsizes=4K|2M|1G "
			"root=0x440000000\n"
			"0x8001\n0x80000123\nnone\nnone\n");
	cli_run_clear(&r);
}

static void test_run_unknown_names(void)
{
	static const struct script_case cases[] = {
		{ LPAE_T "frob\n",
		  "<stdin>:3: error: unknown command 'frob'\n" },
		{ LPAE_T "Map t 0 0 4K\n",
		  "<stdin>:3: error: unknown command 'Map' (did you mean "
		  "'map'?)\n" },
		{ LPAE_T "map u 0 0 4K\n",
		  "<stdin>:3: error: unknown table id 'u'\n" },
		{ LPAE_T "unmap u 0 4K\n",
		  "<stdin>:3: error: unknown table id 'u'\n" },
		{ LPAE_T "iova u 0\n",
		  "<stdin>:3: error: unknown table id 'u'\n" },
		{ LPAE_T "dump u\n",
		  "<stdin>:3: error: unknown table id 'u'\n" },
		/* a malformed line is an error even after '!' */
		{ LPAE_T "!free u\n",
		  "<stdin>:3: error: unknown table id 'u'\n" },
		{ LPAE_T "free t\nfree t\n",
		  "<stdin>:4: error: unknown table id 't'\n" },
		{ LPAE_T "alloc u ARM_64_LPAE_S3\n",
		  "<stdin>:3: error: alloc u ARM_64_LPAE_S3: no plugin "
		  "provides format 'ARM_64_LPAE_S3'; did you mean "
		  "'ARM_64_LPAE_S1'? " KNOWN_FORMATS " [No such file or "
		  "directory]\n" },
		{ LPAE_T "alloc u ../arm-v7s\n",
		  "<stdin>:3: error: alloc u ../arm-v7s: no plugin provides "
		  "format '../arm-v7s'; " KNOWN_FORMATS " [No such file or "
		  "directory]\n" },
		{ LPAE_T "alloc u arm-64-lpae-s1 quirks=ns,fast\n",
		  "<stdin>:3: error: unknown quirk 'fast' (ns, no-perms, "
		  "mtk-ext, mtk-ttbr-ext, ttbr1, outer-wbwa, hd, s2fwb, "
		  "no-warn, reclaim-tables)\n" },
		{ LPAE_T "alloc u arm-64-lpae-s1 speed=1\n",
		  "<stdin>:3: error: unknown alloc option 'speed=1' (ias= oas= "
		  "pgsizes= quirks= coherent=)\n" },
		{ LPAE_T "alloc u arm-64-lpae-s1 coherent=yes\n",
		  "<stdin>:3: error: coherent=yes: expected 0 or 1\n" },
		{ LPAE_T "alloc u arm-64-lpae-s1 ias=48 oas=40 ias=40\n",
		  "<stdin>:3: error: ias=40: ias= was already given\n" },
		{ LPAE_T "alloc 0123456789abcdef0123456789abcdefX arm-64-lpae-s1\n",
		  "<stdin>:3: error: table id "
		  "'0123456789abcdef0123456789abcdefX' must be 1-32 letters, "
		  "digits, '-' or '_'\n" },
		{ LPAE_T "alloc a.b arm-64-lpae-s1\n",
		  "<stdin>:3: error: table id 'a.b' must be 1-32 letters, "
		  "digits, '-' or '_'\n" },
		{ LPAE_T "map t 0 0 4K rwz\n",
		  "<stdin>:3: error: unknown prot letter 'z' in 'rwz' (r w c n "
		  "m p)\n" },
		{ LPAE_T "map t 0 0 4K RW\n",
		  "<stdin>:3: error: unknown prot letter 'R' in 'RW' (r w c n "
		  "m p)\n" },
		{ LPAE_T "map t 0 0 4K pagesize=4K\n",
		  "<stdin>:3: error: unexpected word 'pagesize=4K'\n" },
		{ LPAE_T "map t 0 0 4K pgsize=4K rw\n",
		  "<stdin>:3: error: unexpected word 'rw'\n" },
		{ LPAE_T "map t 0 0 4K pgsize=4K pgsize=4K\n",
		  "<stdin>:3: error: pgsize=4K: pgsize= was already given\n" },
		{ LPAE_T "unmap t 0 4K rw\n",
		  "<stdin>:3: error: unexpected word 'rw'\n" },
		{ LPAE_T "dump t xml\n",
		  "<stdin>:3: error: unknown dump style 'xml' (tree, json, "
		  "dot)\n" },
		{ "load nope\n",
		  "<stdin>:1: error: load nope: no plugin named 'nope' in the "
		  "plugin directories [No such file or directory]\n" },
		{ "unload nope\n",
		  "<stdin>:1: error: unload nope: no plugin named 'nope' [No "
		  "such file or directory]\n" },
	};

	g_test_summary("Unknown commands, table ids, formats, quirks, prot "
		       "letters, options and dump styles are each one FILE:LINE "
		       "error naming the word");
	check_script_cases(cases, G_N_ELEMENTS(cases));
}

static void test_run_wrong_argument_counts(void)
{
	static const struct script_case cases[] = {
		{ LPAE_T "load a b\n", "<stdin>:3: error: usage: load [NAME]\n" },
		{ LPAE_T "unload\n", "<stdin>:3: error: usage: unload [--wait[=MS]] NAME\n" },
		{ LPAE_T "unload a b\n",
		  "<stdin>:3: error: usage: unload [--wait[=MS]] NAME\n" },
		{ LPAE_T "list x\n", "<stdin>:3: error: usage: list\n" },
		{ LPAE_T "alloc t\n",
		  "<stdin>:3: error: usage: alloc ID FORMAT [ias=N] [oas=N] "
		  "[pgsizes=..] [quirks=..] [coherent=0|1]\n" },
		{ LPAE_T "alloc u arm-64-lpae-s1 ias=48 oas=48 pgsizes=4K "
			 "quirks=ns coherent=1 ias=48\n",
		  "<stdin>:3: error: usage: alloc ID FORMAT [ias=N] [oas=N] "
		  "[pgsizes=..] [quirks=..] [coherent=0|1]\n" },
		{ LPAE_T "map t 0 0\n",
		  "<stdin>:3: error: usage: map ID IOVA PADDR SIZE [PROT] "
		  "[pgsize=SZ]\n" },
		{ LPAE_T "map t 0 0 4K rw pgsize=4K x\n",
		  "<stdin>:3: error: usage: map ID IOVA PADDR SIZE [PROT] "
		  "[pgsize=SZ]\n" },
		{ LPAE_T "unmap t 0\n",
		  "<stdin>:3: error: usage: unmap ID IOVA SIZE [pgsize=SZ]\n" },
		{ LPAE_T "unmap t 0 4K pgsize=4K x\n",
		  "<stdin>:3: error: usage: unmap ID IOVA SIZE [pgsize=SZ]\n" },
		{ LPAE_T "iova t\n", "<stdin>:3: error: usage: iova ID IOVA\n" },
		{ LPAE_T "iova t 0 1\n",
		  "<stdin>:3: error: usage: iova ID IOVA\n" },
		{ LPAE_T "dump\n",
		  "<stdin>:3: error: usage: dump ID [tree|json|dot]\n" },
		{ LPAE_T "dump t tree x\n",
		  "<stdin>:3: error: usage: dump ID [tree|json|dot]\n" },
		{ LPAE_T "free\n", "<stdin>:3: error: usage: free ID\n" },
		{ LPAE_T "free t u\n", "<stdin>:3: error: usage: free ID\n" },
		{ LPAE_T "! \n", "<stdin>:3: error: '!' without a command\n" },
	};

	g_test_summary("Too few or too many words for any command is one "
		       "FILE:LINE error with that command's usage");
	check_script_cases(cases, G_N_ELEMENTS(cases));
}

static void test_run_refusals_say_why(void)
{
	static const struct script_case cases[] = {
		{ LPAE_T "map t 0x1000 0 0\n",
		  "<stdin>:3: error: map t 0x1000 -> 0x0 size 0x0: table t: "
		  "map: size 0 [Invalid argument]\n" },
		{ LPAE_T "map t 0xfffffffffffff000 0 8K\n",
		  "<stdin>:3: error: map t 0xfffffffffffff000 -> 0x0 size "
		  "0x2000: table t: map: iova 0xfffffffffffff000 + size 0x2000 "
		  "wraps around [range wraps around]\n" },
		{ LPAE_T "map t 0 0xfffffffffffff000 8K\n",
		  "<stdin>:3: error: map t 0x0 -> 0xfffffffffffff000 size "
		  "0x2000: table t: map: paddr 0xfffffffffffff000 + size 0x2000 "
		  "wraps around [range wraps around]\n" },
		{ LPAE_T "map t 0x800 0 4K\n",
		  "<stdin>:3: error: map t 0x800 -> 0x0 size 0x1000: table t: "
		  "map: iova 0x800, paddr 0x0 and size 0x1000 must be multiples "
		  "of the smallest page size 0x1000 [Invalid argument]\n" },
		{ LPAE_T "map t 0 0 4K c\n",
		  "<stdin>:3: error: map t 0x0 -> 0x0 size 0x1000: PROT grants "
		  "neither read nor write [Invalid argument]\n" },
		{ LPAE_T "map t 0x1000000000000 0 4K\n",
		  "<stdin>:3: error: map t 0x1000000000000 -> 0x0 size 0x1000: "
		  "lpae: map: iova 0x1000000000000 or paddr 0x0 out of range "
		  "(ias 48, oas 48) [Numerical result out of range]\n" },
		{ LPAE_T "map t 0 0x1000000000000 4K pgsize=4K\n",
		  "<stdin>:3: error: map t 0x0 -> 0x1000000000000 size 0x1000: "
		  "lpae: map: iova 0x0 or paddr 0x1000000000000 out of range "
		  "(ias 48, oas 48) [Numerical result out of range]\n" },
		{ LPAE_T "map t 0 0 8K pgsize=8K\n",
		  "<stdin>:3: error: map t 0x0 -> 0x0 size 0x2000: table t: "
		  "map: page size 0x2000 is not one of the table's (0x40201000) "
		  "[Invalid argument]\n" },
		{ LPAE_T "map t 0 0 4K\nmap t 0 0 4K\n",
		  "<stdin>:4: error: map t 0x0 -> 0x0 size 0x1000: lpae: map: "
		  "iova 0x0 is already mapped (pte 0x0000000000000e43) [File "
		  "exists]\n" },
		{ LPAE_T "map t 0 0 2M\nunmap t 0 4K\n",
		  "<stdin>:4: error: unmap t 0x0: unmapped 0x0 of 0x1000 bytes: "
		  "lpae: Unmap of a partial large IOPTE is not allowed [Invalid "
		  "argument]\n" },
		{ LPAE_T "unmap t 0x2000 4K\n",
		  "<stdin>:3: error: unmap t 0x2000: unmapped 0x0 of 0x1000 "
		  "bytes: lpae: unmap: iova 0x2000 is not mapped [Invalid "
		  "argument]\n" },
		{ LPAE_T "unmap t 0x800 4K\n",
		  "<stdin>:3: error: unmap t 0x800: unmapped 0x0 of 0x1000 "
		  "bytes: table t: unmap: iova 0x800 and size 0x1000 must be "
		  "multiples of the smallest page size 0x1000 [Invalid "
		  "argument]\n" },
		{ LPAE_T "unmap t 0xfffffffffffff000 8K\n",
		  "<stdin>:3: error: unmap t 0xfffffffffffff000: unmapped 0x0 "
		  "of 0x2000 bytes: table t: unmap: iova 0xfffffffffffff000 + "
		  "size 0x2000 wraps around [Invalid argument]\n" },
		{ "load io-pgtable-arm-v7s\nalloc v arm-v7s\n"
		  "map v 0xfffff000 0 8K\n",
		  "<stdin>:3: error: map v 0xfffff000 -> 0x0 size 0x2000: "
		  "arm-v7s: map: 2 x 0x1000 from iova 0xfffff000, paddr 0 is "
		  "out of range [Numerical result out of range]\n" },
		{ "load io-pgtable-arm-v7s\nalloc v arm-v7s\nmap v 0 0 64K\n"
		  "unmap v 0 4K\n",
		  "<stdin>:4: error: unmap v 0x0: unmapped 0x0 of 0x1000 bytes: "
		  "arm-v7s: unmap: iova 0: unmap of a partial large IOPTE is "
		  "not allowed [Invalid argument]\n" },
	};

	g_test_summary("A request the host or the format refuses says why: "
		       "FILE:LINE, the request, the reason, the errno text");
	check_script_cases(cases, G_N_ELEMENTS(cases));
}

static void test_run_control_bytes_escaped(void)
{
	struct cli_run r;

	g_test_summary("Control bytes from a script reach stderr and stdout "
		       "only as octal escapes, also in '!' lines and -v echo");
	check_script_error("\x1b[2Jfrob\n",
			   "<stdin>:1: error: unknown command '\\033[2Jfrob'\n");
	check_script_error("load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
			   "iova t 0\r1\n",
			   "<stdin>:3: error: IOVA: '0\\0151' is not a number "
			   "(bad suffix '\\0151')\n");
	run_cli_input(&r, "!load \x1b]0;pwned\x07\n",
		      (const char *const[]){ "--no-manifest", "-v", "run", "-",
					     NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==,
			"> !load \\033]0;pwned\\007\n"
			"expected failure: load \\033]0;pwned\\007: "
			"'\\033]0;pwned\\007' is not a plugin name (names, not "
			"paths) [Invalid argument]\n"
			"> \n");
	cli_run_clear(&r);
}

static void test_run_nul_byte(void)
{
	/* run_cli_input() takes a C string: the script goes into a file */
	static const char text[] = "load io-pgtable-arm\n\nmap t 0 \0 4K\n";
	g_autofree char *path = g_build_filename(g_get_tmp_dir(),
						 "iopgt-cli-nul.iopgt", NULL);
	g_autofree char *want = g_strdup_printf("%s:3: error: line contains "
						"a NUL byte\n", path);

	g_test_summary("A script with a NUL byte runs no line and names the "
		       "line that holds it");
	g_assert_true(g_file_set_contents(path, text, sizeof(text) - 1, NULL));
	check_cli((const char *const[]){ "--no-manifest", "run", path, NULL },
		  false, 1, "", want);
	g_unlink(path);
}

static void test_run_crlf_script(void)
{
	g_test_summary("A CRLF script runs like an LF one, and its errors name "
		       "the right line without the CR");
	check_script_error("load io-pgtable-arm\r\nalloc t arm-64-lpae-s1\r\n"
			   "map t 0 0 4K\r\n\r\nfrob\r\n",
			   "<stdin>:5: error: unknown command 'frob'\n");
}

/* ---- dump json: the exact bytes ------------------------------------------------- */

/* The n-th table of the dump whose level is `level`, as raw bytes. */
static uint64_t json_entry(JsonObject *root, int level, unsigned int index,
			   unsigned int entry_bytes)
{
	JsonArray *tables = json_object_get_array_member(root, "tables");

	for (guint i = 0; i < json_array_get_length(tables); i++) {
		JsonObject *t = json_array_get_object_element(tables, i);
		const char *hex;
		uint64_t v = 0;

		if (json_object_get_int_member(t, "level") != level)
			continue;
		hex = json_object_get_string_member(t, "hex");
		g_assert_cmpuint(strlen(hex), ==,
				 2 * json_object_get_int_member(t, "size"));
		/* little-endian bytes */
		for (int b = (int)entry_bytes - 1; b >= 0; b--) {
			char byte[3] = { hex[2 * (index * entry_bytes + b)],
					 hex[2 * (index * entry_bytes + b) + 1],
					 0 };

			v = (v << 8) | g_ascii_strtoull(byte, NULL, 16);
		}
		return v;
	}
	g_assert_not_reached();
	return 0;
}

static JsonObject *run_dump_json(const char *script, JsonParser *parser)
{
	g_autoptr(GError) error = NULL;
	struct cli_run r;
	const char *brace;

	run_cli_input(&r, script, (const char *const[]){ "--no-manifest", "run",
							 "-", NULL });
	g_assert_cmpint(r.status, ==, 0);
	brace = strchr(r.out, '{');
	g_assert_nonnull(brace);
	json_parser_load_from_data(parser, brace, -1, &error);
	g_assert_no_error(error);
	cli_run_clear(&r);
	return json_node_get_object(json_parser_get_root(parser));
}

static void test_dump_json_lpae(void)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *root, *cfg, *tcr;

	g_test_summary("dump json of an S1 table: Linux register values and "
		       "the spec's worked descriptor, byte for byte");
	root = run_dump_json("load io-pgtable-arm\n"
			     "alloc t arm-64-lpae-s1 ias=48 oas=48\n"
			     "map t 0x1000 0x1000 4K rwcn\n"
			     "map t 0x200000 0x200000 2M r\n"
			     "dump t json\n", parser);
	g_assert_cmpstr(json_object_get_string_member(root, "format"), ==,
			"arm-64-lpae-s1");
	cfg = json_object_get_object_member(root, "cfg");
	g_assert_cmpint(json_object_get_int_member(cfg, "mair"), ==,
			0xf404ff44);
	g_assert_cmpint(json_object_get_int_member(cfg, "ttbr"), ==,
			json_object_get_int_member(root, "root_pa"));
	tcr = json_object_get_object_member(cfg, "tcr");
	g_assert_cmpint(json_object_get_int_member(tcr, "ips"), ==, 5);
	g_assert_cmpint(json_object_get_int_member(tcr, "tsz"), ==, 16);
	g_assert_cmpint(json_object_get_int_member(tcr, "sh"), ==, 3);
	g_assert_cmpuint(json_array_get_length(
		json_object_get_array_member(root, "tables")), ==, 4);
	/* spec 2.5: S1, R|W|NOEXEC|CACHE, 4K page at PA 0x1000 */
	g_assert_cmphex(json_entry(root, 3, 1, 8), ==, 0x0060000000001F47);
	/* spec 2.5: S1, R only, 2M block at PA 0x200000 */
	g_assert_cmphex(json_entry(root, 2, 1, 8), ==, 0x0000000000200EC1);
}

/* Spec 2.5 worked values, one 4K page at PA 0x1000, per format family. */
static const struct {
	const char *alloc;
	const char *prot;
	uint64_t pte;
	const char *reg;		/* a register the format must report */
	int64_t reg_value;		/* -1: only check presence */
} worked[] = {
	{ "arm-64-lpae-s2 ias=48 oas=48", "rwcn", 0x00600000000017FFULL,
	  "vttbr", -1 },
	{ "arm-64-lpae-s2 ias=48 oas=48", "r", 0x0000000000001657ULL,
	  "vttbr", -1 },
	{ "arm-32-lpae-s1 ias=32 oas=40", "rwcn", 0x0060000000001F47ULL,
	  "mair", 0xf404ff44 },
	{ "arm-32-lpae-s2 ias=40 oas=40", "rwcn", 0x00600000000017FFULL,
	  "vttbr", -1 },
	{ "arm-mali-lpae ias=48 oas=40", "rwc", 0x00000000000012C5ULL,
	  "memattr", 0x888D88 },
};

static void test_dump_json_lpae_formats(void)
{
	g_test_summary("dump json of every other LPAE format: the spec's worked "
		       "descriptor at the last level, byte for byte");
	for (size_t i = 0; i < G_N_ELEMENTS(worked); i++) {
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autofree char *script = g_strdup_printf(
			"load io-pgtable-arm\nalloc t %s\n"
			"map t 0x1000 0x1000 4K %s\ndump t json\n",
			worked[i].alloc, worked[i].prot);
		JsonObject *root = run_dump_json(script, parser);
		JsonObject *cfg = json_object_get_object_member(root, "cfg");

		g_test_message("%s %s", worked[i].alloc, worked[i].prot);
		g_assert_cmphex(json_entry(root, 3, 1, 8), ==, worked[i].pte);
		g_assert_true(json_object_has_member(cfg, worked[i].reg));
		if (worked[i].reg_value >= 0)
			g_assert_cmpint(json_object_get_int_member(
				cfg, worked[i].reg), ==, worked[i].reg_value);
	}
}

static void test_dump_json_v7s(void)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *root, *cfg;

	g_test_summary("dump json of a v7s table: TTBR/PRRR/NMRR and the "
		       "spec's worked descriptors, byte for byte");
	root = run_dump_json("load io-pgtable-arm-v7s\n"
			     "alloc t arm-v7s\n"
			     "map t 0x1000 0x1000 4K rwc\n"
			     "dump t json\n", parser);
	cfg = json_object_get_object_member(root, "cfg");
	g_assert_cmpint(json_object_get_int_member(cfg, "prrr"), ==,
			0x800B8204);
	g_assert_cmpint(json_object_get_int_member(cfg, "nmrr"), ==,
			0x40004000);
	g_assert_cmpint(json_object_get_int_member(cfg, "ttbr"), ==,
			json_object_get_int_member(root, "root_pa") | 0x6A);
	/* spec 3.4: 4K, R|W|CACHE, PA 0x1000 */
	g_assert_cmphex(json_entry(root, 2, 1, 4), ==, 0x00001C7E);
	g_assert_cmpint(json_object_get_int_member(
		json_array_get_object_element(json_object_get_array_member(
			root, "tables"), 0), "size"), ==, 16384);
}

/* Each PROT the CLI takes, as tree and dot show it, on stage 1. */
static const struct {
	const char *prot;
	const char *shown;
} dump_prots[] = {
	{ "r", "r-x" },
	{ "w", "rwx" },		/* stage 1 has no write-only */
	{ "rw", "rwx" },
	{ "rn", "r--" },
	{ "rwp", "rwx priv" },
	{ "rnp", "r-- priv" },
	{ "rwc", "rwx cache" },
	{ "rwm", "rwx mmio" },
	{ "rwcnmp", "rw- priv cache mmio" },
};

static void test_dump_prot(void)
{
	g_autoptr(GString) script = g_string_new("load io-pgtable-arm\n"
						 "alloc t arm-64-lpae-s1\n");
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonArray *entries;
	JsonObject *root;
	struct cli_run r;

	g_test_summary("Issue 12 item 20: tree and dot show each leaf's "
		       "permissions as the descriptor grants them, json its "
		       "IOMMU_* prot");
	for (size_t i = 0; i < G_N_ELEMENTS(dump_prots); i++)
		g_string_append_printf(script, "map t 0x%zx 0x%zx 4K %s\n",
				       (i + 1) << 12, (i + 1) << 20,
				       dump_prots[i].prot);
	g_string_append(script, "dump t tree\ndump t dot\n");
	run_cli_input(&r, script->str, (const char *const[]){
		"--no-manifest", "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(dump_prots); i++) {
		g_autofree char *tree = g_strdup_printf(
			" iova 0x%zx +4K leaf pa 0x%zx %s\n", (i + 1) << 12,
			(i + 1) << 20, dump_prots[i].shown);
		g_autofree char *dot = g_strdup_printf(
			"[%zu] 0x%zx +4K pa 0x%zx %s <font", i + 1,
			(i + 1) << 12, (i + 1) << 20, dump_prots[i].shown);

		g_test_message("%s", dump_prots[i].prot);
		g_assert_nonnull(strstr(r.out, tree));
		g_assert_nonnull(strstr(r.out, dot));
	}
	/* tables show none */
	g_assert_nonnull(strstr(r.out, "iova 0x0 +2M table -> 0x440003000\n"));
	cli_run_clear(&r);

	root = run_dump_json("load io-pgtable-arm-v7s\nalloc t arm-v7s\n"
			     "map t 0x10000 0x30000 64K rnp\ndump t json\n",
			     parser);
	entries = json_object_get_array_member(root, "entries");
	/* the level-1 table entry, then all 16 copies of the large page */
	g_assert_cmpuint(json_array_get_length(entries), ==, 17);
	g_assert_cmpstr(json_object_get_string_member(
		json_array_get_object_element(entries, 0), "kind"), ==, "table");
	g_assert_false(json_object_has_member(
		json_array_get_object_element(entries, 0), "prot"));
	for (guint i = 1; i < 17; i++) {
		JsonObject *e = json_array_get_object_element(entries, i);

		g_assert_cmpstr(json_object_get_string_member(e, "kind"), ==,
				"leaf");
		g_assert_cmpint(json_object_get_int_member(e, "level"), ==, 2);
		g_assert_cmpint(json_object_get_int_member(e, "index"), ==,
				15 + i);
		g_assert_cmpint(json_object_get_int_member(e, "iova"), ==,
				0x10000);
		g_assert_cmpint(json_object_get_int_member(e, "size"), ==,
				0x10000);
		g_assert_cmpint(json_object_get_int_member(e, "oa"), ==,
				0x30000);
		g_assert_cmpint(json_object_get_int_member(e, "raw"), ==,
				0x39e11);
		g_assert_cmpint(json_object_get_int_member(e, "prot"), ==,
				IOMMU_READ | IOMMU_NOEXEC | IOMMU_PRIV);
	}
}

static void test_dump_dot(void)
{
	struct cli_run r;

	g_test_summary("dump dot is a Graphviz digraph with an edge per table "
		       "pointer");
	run_cli_input(&r, "load io-pgtable-arm\nalloc t arm-64-lpae-s1\n"
		      "map t 0x1000 0x1000 4K\ndump t dot\n",
		      (const char *const[]){ "--no-manifest", "run", "-", NULL });
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "digraph \"t\" {\n"));
	g_assert_nonnull(strstr(r.out, "  t440000000:e0 -> t440001000;\n"));
	g_assert_true(g_str_has_suffix(r.out, "}\n"));
	cli_run_clear(&r);
}

/* ---- issue 12 / 13 findings -------------------------------------------------- */

static const char *cli_plugin_dir(void)
{
	const char *v = g_getenv("IOPGT_TEST_CLI_PLUGIN_DIR");

	g_assert_nonnull(v);
	return v;
}

/* The CLI with the fixture plugins of tests/cli/plugins only. */
static void run_odd(struct cli_run *r, const char *input, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	g_ptr_array_add(argv, "--plugin-dir");
	g_ptr_array_add(argv, (gpointer)cli_plugin_dir());
	g_ptr_array_add(argv, "--no-manifest");
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (gpointer)*a);
	g_ptr_array_add(argv, NULL);
	run_cli_full(r, input, (const char *const *)argv->pdata, true);
}

static void test_alloc_defaults_on_demand(void)
{
	struct cli_run r;

	g_test_summary("Issue 12 item 1 / F1: the first alloc of a format whose "
		       "plugin is loaded on demand gets the format's defaults, "
		       "for every field left out");
	run_cli_input(&r, "alloc t arm-64-lpae-s1\nalloc u arm-64-lpae-s1\n"
		      "free t\nfree u\nalloc t arm-64-lpae-s1 ias=40\n"
		      "map t 0x10000000000 0 4K\n",
		      (const char *const[]){ "--no-manifest", "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "<stdin>:6: error: map t 0x10000000000 -> "
			"0x0 size 0x1000: lpae: map: iova 0x10000000000 or paddr "
			"0x0 out of range (ias 40, oas 48) [Numerical result "
			"out of range]\n");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_true(g_str_has_prefix(r.out, "t: arm-64-lpae-s1 ias=48 oas=48 "
				       "pgsizes=4K|2M|1G root=0x"));
	g_assert_nonnull(strstr(r.out, "\nu: arm-64-lpae-s1 ias=48 oas=48 "
				"pgsizes=4K|2M|1G root=0x"));
	g_assert_nonnull(strstr(r.out, "\nt: arm-64-lpae-s1 ias=40 oas=48 "));
	cli_run_clear(&r);
}

static void test_leak_fails_the_run(void)
{
	struct cli_run r;

	g_test_summary("Issue 12 item 2: a leak the host reports while a "
		       "command succeeds reaches the user and the run exits 1");
	run_odd(&r, "alloc t cli-leaky\nfree t\niova t 0\n",
		(const char *const[]){ "run", "-", NULL });
	g_assert_true(g_str_has_prefix(r.err, "<stdin>:2: error: "));
	g_assert_nonnull(strstr(r.err, "leaked"));
	g_assert_nonnull(strstr(r.err, "cli-leaky"));
	/* the script went on: line 3 is the next error */
	g_assert_nonnull(strstr(r.err, "\n<stdin>:3: error: unknown table id "
				"'t'\n"));
	g_assert_cmpint(r.status, ==, 1);
	cli_run_clear(&r);
}

static void test_stdout_flushed_before_stderr(void)
{
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;

	g_test_summary("Issue 12 item 4: with 2>&1 the error line comes after "
		       "the output of the lines before it");
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
				      G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				      G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_subprocess_launcher_set_cwd(l, source_root());
	p = g_subprocess_launcher_spawn(l, &error, g_getenv("IOPGT_TEST_CLI"),
					"--plugin-dir", test_plugin_dir(),
					"--no-manifest", "run", "-", NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(p, LPAE_T "iova t 0\nfrob\n", NULL,
				      &out, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "loaded io-pgtable-arm\n"
			"t: arm-64-lpae-s1 ias=48 oas=48 pgsizes=4K|2M|1G "
			"root=0x440000000\nnone\n"
			"<stdin>:4: error: unknown command 'frob'\n");
}

static void test_no_doubled_messages(void)
{
	g_test_summary("Issue 12 item 5: a reason the format gives twice is "
		       "said once");
	check_script_error(LPAE_T "map t 0x1000 0x1000 4K\nunmap t 0x1000 8K\n",
			   "<stdin>:4: error: unmap t 0x1000: unmapped 0x1000 "
			   "of 0x2000 bytes: lpae: unmap: iova 0x2000 is not "
			   "mapped [Invalid argument]\n");
}

static char *write_tmp(const char *name, const char *text)
{
	char *path = g_build_filename(g_get_tmp_dir(), name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static void test_manifest_repeatable(void)
{
	g_autofree char *a = write_tmp("iopgt-cli-m1.conf",
		"softdep io-pgtable-arm-v7s pre: io-pgtable-arm\n");
	g_autofree char *b = write_tmp("iopgt-cli-m2.conf",
		"blacklist io-pgtable-arm-v7s\n");
	/* v7s declares no softdep: a's line overrides nothing */
	g_autofree char *want = g_strdup_printf(
		"load order:\n  1. io-pgtable-arm\n"
		"not loaded: io-pgtable-arm-v7s: blacklisted at %s:1\n", b);
	struct cli_run r;

	g_test_summary("Issue 12 item 6: --manifest is repeatable and the "
		       "files merge in order");
	run_cli(&r, "--manifest", a, "--manifest", b, "plan");
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpstr(r.out, ==, want);
	g_assert_cmpint(r.status, ==, 0);
	cli_run_clear(&r);
	g_unlink(a);
	g_unlink(b);
}

static void test_dump_json_unsigned_and_dotted(void)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	struct cli_run r;

	g_test_summary("Issue 12 item 10: 64-bit register values are unsigned "
		       "in JSON, and a format reporting both 'x' and 'x.y' gets "
		       "a clear error, no Json-CRITICAL");
	run_odd(&r, "alloc t cli-satp\ndump t json\n",
		(const char *const[]){ "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "\"satp\" : 9223372036854780468,\n") ?
			 strstr(r.out, "\"satp\" : 9223372036854780468") :
			 strstr(r.out, "\"satp\" : 9223372036854780468"));
	g_assert_null(strstr(r.out, ": -"));
	json_parser_load_from_data(parser, strchr(r.out, '{'), -1, &error);
	g_assert_no_error(error);
	cli_run_clear(&r);

	run_odd(&r, "alloc t cli-regs\ndump t json\n",
		(const char *const[]){ "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "<stdin>:2: error: the format reports "
			"registers 'satp' and 'satp.mode': a name is a value or "
			"a group of dotted names, not both\n");
	g_assert_cmpint(r.status, ==, 1);
	cli_run_clear(&r);
}

static JsonNode *parse_json(const char *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	json_parser_load_from_data(parser, text, -1, &error);
	g_assert_no_error(error);
	return json_node_copy(json_parser_get_root(parser));
}

static void test_plan_json_errors(void)
{
	g_autofree char *path = write_tmp("iopgt-cli-bad.conf",
		"softdep io-pgtable-arm-v7s pre: io-pgtable-arm\n"
		"sofdep x pre: y\n");
	g_autofree char *want = g_strdup_printf("%s:2: unknown directive "
						"'sofdep'", path);
	g_autoptr(JsonNode) root = NULL;
	JsonArray *errors;
	struct cli_run r;

	g_test_summary("Issue 12 item 11: plan --json carries the manifest's "
		       "bad lines in 'errors'");
	run_cli(&r, "--json", "--manifest", path, "plan");
	g_assert_cmpint(r.status, ==, 1);
	root = parse_json(r.out);
	errors = json_object_get_array_member(json_node_get_object(root),
					      "errors");
	g_assert_cmpuint(json_array_get_length(errors), >=, 1);
	g_assert_cmpstr(json_array_get_string_element(errors, 0), ==, want);
	cli_run_clear(&r);
	g_unlink(path);
}

/* The keys docs/cli.md promises for a plugin object, in order. */
static const char *const plugin_keys[] = {
	"name", "path", "version", "description", "license", "state",
	"refcount", "load_index", "builtin", "formats", "holders", "error",
	NULL,
};

static void check_plugin_keys(JsonObject *o, const char *const *extra)
{
	g_autoptr(GList) members = json_object_get_members(o);
	GList *m = members;

	for (const char *const *k = plugin_keys; *k; k++, m = m->next) {
		g_assert_nonnull(m);
		g_assert_cmpstr(m->data, ==, *k);
	}
	for (const char *const *k = extra; k && *k; k++, m = m->next) {
		g_assert_nonnull(m);
		g_assert_cmpstr(m->data, ==, *k);
	}
	g_assert_null(m);
}

static void test_json_keys_documented(void)
{
	static const char *const info_extra[] = { "file", "misnamed_as", NULL };
	g_autoptr(JsonNode) list = NULL, info = NULL, plan = NULL;
	JsonArray *arr;
	JsonObject *o;
	struct cli_run r;

	g_test_summary("Issue 12 item 12: list, info and plan JSON have the "
		       "keys docs/cli.md lists; --no-load info shows the file's "
		       "values; paths are canonical; --json run is refused");
	run_cli(&r, "--manifest", "conf/iopgt.conf", "--json", "list");
	g_assert_cmpint(r.status, ==, 0);
	list = parse_json(r.out);
	arr = json_node_get_array(list);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		o = json_array_get_object_element(arr, i);
		check_plugin_keys(o, NULL);
	}
	cli_run_clear(&r);

	/* the default dir is bin/../lib relative to the binary: canonical */
	run_cli_full(&r, NULL, (const char *const[]){ "--json", "list", NULL },
		     true);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_null(strstr(r.out, "/../"));
	g_assert_nonnull(strstr(r.out, "/lib/iopgt/plugins/io-pgtable-arm.so"));
	cli_run_clear(&r);

	run_cli(&r, "--json", "--no-load", "info", "io-pgtable-arm-v7s");
	g_assert_cmpint(r.status, ==, 0);
	info = parse_json(r.out);
	o = json_node_get_object(info);
	check_plugin_keys(o, info_extra);
	g_assert_cmpstr(json_object_get_string_member(o, "state"), ==,
			"discovered");
	g_assert_cmpstr(json_object_get_string_member(o, "version"), ==,
			json_object_get_string_member(
				json_object_get_object_member(o, "file"),
				"version"));
	g_assert_cmpstr(json_object_get_string_member(o, "license"), ==, "MIT");
	g_assert_true(strlen(json_object_get_string_member(o,
							   "description")));
	cli_run_clear(&r);

	run_cli(&r, "--json", "--manifest", "conf/iopgt.conf", "plan");
	g_assert_cmpint(r.status, ==, 0);
	plan = parse_json(r.out);
	o = json_node_get_object(plan);
	{
		g_autoptr(GList) members = json_object_get_members(o);
		static const char *const keys[] = { "order", "not_loaded",
			"edges", "overrides", "warnings", "errors" };
		GList *m = members;

		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++, m = m->next)
			g_assert_cmpstr(m->data, ==, keys[i]);
		g_assert_null(m);
	}
	cli_run_clear(&r);

	check_cli((const char *const[]){ "--json", "run", "-", NULL }, false, 2,
		  "", "iopgt-host: --json: run prints text (dump ID json gives "
		  "a table as JSON)\n" USAGE_TAIL);
}

static void test_bad_option_values_exit_2(void)
{
	g_test_summary("Issue 12 item 13: a bad option value is a usage error "
		       "(exit 2)");
	check_cli((const char *const[]){ "--mem", "10", "list", NULL }, false,
		  2, "", "iopgt-host: --mem 10: must be at least 64K\n"
		  USAGE_TAIL);
	check_cli((const char *const[]){ "--probe-timeout", "0", "list", NULL },
		  false, 2, "", "iopgt-host: --probe-timeout: must be a "
		  "positive number of milliseconds\n" USAGE_TAIL);
	check_cli((const char *const[]){ "--cache", "x", "--no-cache", "list",
					 NULL }, false, 2, "",
		  "iopgt-host: --cache and --no-cache exclude each other\n"
		  USAGE_TAIL);
}

static char *read_source(const char *rel)
{
	g_autofree char *path = g_build_filename(source_root(), rel, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

/* "\-\-no\-load" as groff writes --no-load */
static char *man_escape(const char *opt)
{
	GString *s = g_string_new(NULL);

	for (const char *c = opt; *c; c++) {
		if (*c == '-')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *c);
	}
	return g_string_free(s, FALSE);
}

static void test_docs_agree_with_help(void)
{
	static const char *const man_words[] = {
		"reload", "unload", "\\-\\-wait", "reclaim\\-tables", "going",
		"formats", "help",
	};
	g_autofree char *man = read_source("docs/iopgt-host.1");
	g_autofree char *comp = read_source("contrib/bash-completion/iopgt-host");
	g_autofree char *doc = read_source("docs/cli.md");
	g_autoptr(GRegex) re = g_regex_new("(?:^|[ ,])(--[a-z-]+)", G_REGEX_MULTILINE,
					   0, NULL);
	g_autoptr(GMatchInfo) mi = NULL;
	unsigned int n = 0;
	struct cli_run r;

	g_test_summary("Issue 12 item 14: every option --help lists is in the "
		       "man page, the completion and docs/cli.md, and the man "
		       "page has the script commands");
	run_cli(&r, "--help");
	g_assert_cmpint(r.status, ==, 0);
	g_regex_match(re, r.out, 0, &mi);
	for (; g_match_info_matches(mi); g_match_info_next(mi, NULL)) {
		g_autofree char *opt = g_match_info_fetch(mi, 1);
		g_autofree char *m = man_escape(opt);

		g_test_message("%s", opt);
		if (g_str_has_prefix(opt, "--help"))
			continue;
		g_assert_nonnull(strstr(man, m));
		g_assert_nonnull(strstr(comp, opt));
		g_assert_nonnull(strstr(doc, opt));
		n++;
	}
	g_assert_cmpuint(n, >=, 18);
	for (size_t i = 0; i < G_N_ELEMENTS(man_words); i++)
		g_assert_nonnull(strstr(man, man_words[i]));
	/* completion runs no plugin code: names come from --no-load */
	g_assert_nonnull(strstr(comp, "--no-load"));
	g_assert_null(strstr(comp, "\"$@\" list --json"));
	cli_run_clear(&r);
}

static void test_help_command(void)
{
	struct cli_run r;

	g_test_summary("Issue 12 item 15: 'iopgt-host help' and 'help run' "
		       "with the script language");
	run_cli(&r, "help");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "iopgt-host(1)"));
	cli_run_clear(&r);
	run_cli(&r, "help", "run");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "map ID IOVA PADDR SIZE [PROT] "
				"[pgsize=SZ]"));
	g_assert_nonnull(strstr(r.out, "A line starting with '!' must fail."));
	cli_run_clear(&r);
	check_cli((const char *const[]){ "help", "frob", NULL }, false, 2, "",
		  "iopgt-host: help: unknown command 'frob'\n");
}

static void test_typo_suggestions(void)
{
	struct cli_run r;

	g_test_summary("Issue 12 item 16: underscores fold in format names, "
		       "typos get the closest name, and 'formats' lists formats "
		       "with aliases and plugin from metadata");
	run_cli_input(&r, "alloc t arm_64_lpae_s1\n",
		      (const char *const[]){ "--no-manifest", "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_true(g_str_has_prefix(r.out, "t: arm-64-lpae-s1 ias=48"));
	cli_run_clear(&r);
	check_script_error("mpa t 0 0 4K\n", "<stdin>:1: error: unknown "
			   "command 'mpa' (did you mean 'map'?)\n");
	check_script_error("alloc t arm-64-lpae-s3\n", "<stdin>:1: error: "
			   "alloc t arm-64-lpae-s3: no plugin provides format "
			   "'arm-64-lpae-s3'; did you mean 'arm-64-lpae-s1'? "
			   KNOWN_FORMATS " [No such file or directory]\n");
	check_cli((const char *const[]){ "lsit", NULL }, false, 2, "",
		  "iopgt-host: unknown command 'lsit' (did you mean 'list'?)\n"
		  USAGE_TAIL);
	run_cli(&r, "formats");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.err, ==, "");
	g_assert_nonnull(strstr(r.out, "arm-v7s              ARM_V7S              "
				"io-pgtable-arm-v7s       yes     ias=32 oas=32 "
				"pgsizes=4K|64K|1M|16M\n"));
	g_assert_nonnull(strstr(r.out, "arm-64-lpae-s1       ARM_64_LPAE_S1       "
				"io-pgtable-arm           yes     ias=48 oas=48 "
				"pgsizes=4K|2M|1G\n"));
	cli_run_clear(&r);
}

static void test_formats_defaults(void)
{
	static const char want[] =
		"Format               Aliases              Plugin                   Foreign Defaults\n"
		"arm-32-lpae-s1       ARM_32_LPAE_S1       io-pgtable-arm           yes     ias=32 oas=40 pgsizes=4K|2M|1G\n"
		"arm-32-lpae-s2       ARM_32_LPAE_S2       io-pgtable-arm           yes     ias=40 oas=40 pgsizes=4K|2M|1G\n"
		"arm-64-lpae-s1       ARM_64_LPAE_S1       io-pgtable-arm           yes     ias=48 oas=48 pgsizes=4K|2M|1G\n"
		"arm-64-lpae-s2       ARM_64_LPAE_S2       io-pgtable-arm           yes     ias=48 oas=48 pgsizes=4K|2M|1G\n"
		"arm-mali-lpae        ARM_MALI_LPAE        io-pgtable-arm           yes     ias=48 oas=40 pgsizes=4K|2M|1G\n"
		"arm-v7s              ARM_V7S              io-pgtable-arm-v7s       yes     ias=32 oas=32 pgsizes=4K|64K|1M|16M\n";
	static const struct {
		const char *name;
		int64_t ias, oas, pgsizes;
	} json_want[] = {
		{ "arm-32-lpae-s1", 32, 40, 0x40201000 },
		{ "arm-32-lpae-s2", 40, 40, 0x40201000 },
		{ "arm-64-lpae-s1", 48, 48, 0x40201000 },
		{ "arm-64-lpae-s2", 48, 48, 0x40201000 },
		{ "arm-mali-lpae", 48, 40, 0x40201000 },
		{ "arm-v7s", 32, 32, 0x1111000 },
	};
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonArray *arr;
	struct cli_run r;

	g_test_summary("Issue 12 item 16: 'formats' shows every format's "
		       "defaults from the plugin files' .iopgt_fmt metadata, "
		       "loading nothing (text and --json)");
	run_cli(&r, "--no-manifest", "formats");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpstr(r.out, ==, want);
	cli_run_clear(&r);

	run_cli(&r, "--no-manifest", "--json", "formats");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.err, ==, "");
	json_parser_load_from_data(parser, r.out, -1, &error);
	g_assert_no_error(error);
	arr = json_node_get_array(json_parser_get_root(parser));
	g_assert_cmpuint(json_array_get_length(arr), ==,
			 G_N_ELEMENTS(json_want));
	for (guint i = 0; i < G_N_ELEMENTS(json_want); i++) {
		JsonObject *o = json_array_get_object_element(arr, i);

		g_assert_cmpstr(json_object_get_string_member(o, "name"), ==,
				json_want[i].name);
		g_assert_cmpint(json_object_get_int_member(o, "ias"), ==,
				json_want[i].ias);
		g_assert_cmpint(json_object_get_int_member(o, "oas"), ==,
				json_want[i].oas);
		g_assert_cmphex(json_object_get_int_member(o, "pgsize_bitmap"),
				==, json_want[i].pgsizes);
		g_assert_nonnull(json_object_get_string_member(o,
							       "defaults"));
		g_assert_true(json_object_get_boolean_member(o, "foreign"));
	}
	cli_run_clear(&r);
}

static void test_misnamed_file_flagged(void)
{
	g_autofree char *path = g_build_filename(cli_plugin_dir(), "rv39.so",
						 NULL);
	struct cli_run r;

	g_test_summary("Issue 12 item 19: --no-load info of a file whose "
		       "metadata names another plugin flags it (exit 1)");
	run_odd(&r, NULL, (const char *const[]){ "--no-load", "info", path,
						 NULL });
	g_assert_cmpint(r.status, ==, 1);
	g_assert_true(g_str_has_prefix(r.out, "name:        rv39\n"));
	g_assert_nonnull(strstr(r.err, "rv39.so: the file's metadata names the "
				"plugin 'riscv-sv39'"));
	cli_run_clear(&r);
}

static void test_dump_collapses_runs(void)
{
	struct cli_run r;

	g_test_summary("Issue 12 item 20: tree and dot show replicated v7s "
		       "entries and contiguous pages as one row; JSON keeps "
		       "every entry");
	run_cli_input(&r, "alloc v arm-v7s\nmap v 0x10000 0x30000 64K\n"
		      "map v 0x100000 0x200000 12K\ndump v tree\ndump v dot\n",
		      (const char *const[]){ "--no-manifest", "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "    [16..31] \u00d716 0x0000000000031c31 "
				"iova 0x10000 +64K leaf pa 0x30000 rwx\n"));
	g_assert_nonnull(strstr(r.out, "[0..2] \u00d73 "));
	g_assert_nonnull(strstr(r.out, "iova 0x100000 +3\u00d74K leaf pa "
				"0x200000 rwx\n"));
	g_assert_null(strstr(r.out, "[17] "));
	g_assert_nonnull(strstr(r.out, "[16..31] \u00d716 0x10000 +64K pa 0x30000 "
				"rwx <font"));
	cli_run_clear(&r);
}

static void test_script_size_and_read_errors(void)
{
	g_autofree char *path = g_build_filename(g_get_tmp_dir(),
						 "iopgt-cli-big.iopgt", NULL);
	GString *big = g_string_new(NULL);
	g_autofree char *want = NULL;
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *cmd = NULL;

	g_test_summary("F5, F18: a script over 16 MiB is refused; stdin that "
		       "is a directory or closed is an error, not an empty "
		       "script");
	while (big->len <= (16U << 20))
		g_string_append(big, "# a comment line, 64 bytes long ......"
				"..........................\n");
	g_assert_true(g_file_set_contents(path, big->str, big->len, NULL));
	g_string_free(big, TRUE);
	want = g_strdup_printf("%s: error: larger than 16 MiB, the most a "
			       "script may be\n", path);
	check_cli((const char *const[]){ "--no-manifest", "run", path, NULL },
		  false, 1, "", want);
	g_unlink(path);

	cmd = g_strdup_printf("'%s' --no-manifest run - < /tmp; echo rc=$?; "
			      "'%s' --no-manifest run - <&-; echo rc=$?",
			      g_getenv("IOPGT_TEST_CLI"),
			      g_getenv("IOPGT_TEST_CLI"));
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				      G_SUBPROCESS_FLAGS_STDERR_PIPE);
	p = g_subprocess_launcher_spawn(l, &error, "/bin/sh", "-c", cmd, NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(p, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "rc=1\nrc=1\n");
	g_assert_cmpstr(err, ==, "<stdin>: error: cannot read: Is a directory\n"
			"<stdin>: error: cannot read: Bad file descriptor\n");
}

static void test_names_escaped_and_json_utf8(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-XXXXXX", NULL);
	g_autofree char *dir = g_build_filename(tmp, "bad\033[2J\377\376", NULL);
	g_autofree char *src = g_build_filename(test_plugin_dir(),
						"io-pgtable-arm-v7s.so", NULL);
	g_autofree char *dst = g_build_filename(dir, "io-pgtable-arm-v7s.so",
						NULL);
	g_autofree char *bytes = NULL;
	g_autoptr(JsonNode) root = NULL;
	gsize len = 0;
	struct cli_run r;

	g_test_summary("F19: paths with control bytes are printed escaped and "
		       "JSON stays valid UTF-8 with invalid bytes in a path");
	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	g_assert_cmpint(chmod(tmp, 0755), ==, 0);
	g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
	g_assert_true(g_file_set_contents_full(dst, bytes, len,
					       G_FILE_SET_CONTENTS_NONE, 0755,
					       NULL));
	run_cli_full(&r, NULL, (const char *const[]){ "--plugin-dir", dir,
		     "--no-manifest", "--json", "--no-load", "list", NULL },
		     true);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_utf8_validate(r.out, -1, NULL));
	g_assert_null(strchr(r.out, '\033'));
	root = parse_json(r.out);
	cli_run_clear(&r);
	run_cli_full(&r, NULL, (const char *const[]){ "--plugin-dir", dir,
		     "--no-manifest", "--no-load", "info",
		     "io-pgtable-arm-v7s", NULL }, true);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_null(strchr(r.out, '\033'));
	g_assert_nonnull(strstr(r.out, "bad\\033[2J"));
	cli_run_clear(&r);
	g_unlink(dst);
	g_rmdir(dir);
	g_rmdir(tmp);
}

static void test_error_words(void)
{
	g_autofree char *path = write_tmp("iopgt-cli-cycle.conf",
		"softdep io-pgtable-arm pre: io-pgtable-arm-v7s\n"
		"softdep io-pgtable-arm-v7s pre: io-pgtable-arm\n");
	struct cli_run r;

	g_test_summary("Issue 13 'Error text': a softdep cycle says so, and "
		       "'load' with no name gives each failed plugin's PATH: "
		       "reason line");
	run_cli_input(&r, "!load io-pgtable-arm\n",
		      (const char *const[]){ "--manifest", path, "run", "-",
					     NULL });
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "[softdep cycle]\n"));
	g_assert_null(strstr(r.out, "symbolic links"));
	cli_run_clear(&r);
	g_unlink(path);

	run_odd(&r, "load\n", (const char *const[]){ "run", "-", NULL });
	g_assert_cmpstr(r.out, ==, "loaded cli-odd\n");
	g_assert_true(g_str_has_prefix(r.err, "<stdin>:1: error: "));
	g_assert_nonnull(strstr(r.err, "/rv39.so: "));
	g_assert_cmpint(r.status, ==, 1);
	cli_run_clear(&r);
}

static void test_failed_pgsize_map_rolls_back(void)
{
	g_test_summary("F21: a failing 'map ... pgsize=' leaves nothing mapped, "
		       "as plain map does");
	{
		struct cli_run r;

		run_cli_input(&r, LPAE_T "!map t 0 0 256T pgsize=4K\n"
			      "iova t 0\niova t 0x1000\n",
			      (const char *const[]){ "--no-manifest", "--mem",
						     "1M", "run", "-", NULL });
		g_assert_cmpint(r.status, ==, 0);
		g_assert_true(g_str_has_suffix(r.out, "\nnone\nnone\n"));
		cli_run_clear(&r);
	}
}

/*
 * The tty run: `script` gives the CLI a pseudo-terminal for stderr while
 * its stdout goes to out_path.  Returns what reached the terminal.
 */
static char *run_cli_on_tty(const char *const *args, const char *out_path)
{
	g_autofree char *script = g_find_program_in_path("script");
	g_autoptr(GString) cmd = g_string_new(NULL);
	g_autofree char *q = g_shell_quote(g_getenv("IOPGT_TEST_CLI"));
	g_autofree char *qout = g_shell_quote(out_path);
	g_auto(GStrv) env = g_environ_unsetenv(g_get_environ(), "IOPGT_LOG");
	g_autoptr(GError) error = NULL;
	char *tty = NULL;
	int status;

	/* util-linux script(1): without it this test cannot say anything */
	if (!script)
		g_error("script(1) from util-linux is needed for the tty test");
	g_string_append(cmd, q);
	for (const char *const *a = args; *a; a++) {
		g_autofree char *qa = g_shell_quote(*a);

		g_string_append_printf(cmd, " %s", qa);
	}
	g_string_append_printf(cmd, " > %s", qout);
	g_assert_true(g_spawn_sync(source_root(),
				   (char *[]){ script, "-qec", cmd->str,
					       "/dev/null", NULL },
				   env, G_SPAWN_STDIN_FROM_DEV_NULL, NULL,
				   NULL, &tty, NULL, &status, &error));
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, &error));
	g_assert_no_error(error);
	return tty;
}

static void test_tty_maps_the_same(void)
{
	g_autofree char *dir = g_dir_make_tmp("iopgt-cli-tty-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "map4t.iopgt", NULL);
	g_autofree char *out_path = g_build_filename(dir, "tty.out", NULL);
	g_autofree char *tty = NULL;
	g_autofree char *tty_out = NULL;
	const char *const args[] = { "--plugin-dir", test_plugin_dir(),
				     "--no-manifest", "run", path, NULL };
	struct cli_run r;

	g_test_summary("F12: a terminal on stderr never changes the table: "
		       "map t 0 0 4T on a 64K/52-bit table is one 4T block "
		       "whether stderr is a pipe or a pty (which shows "
		       "progress)");
	g_assert_nonnull(dir);
	g_assert_true(g_file_set_contents(path,
		"load io-pgtable-arm\n"
		"alloc t arm-64-lpae-s1 ias=52 oas=52 pgsizes=64K,512M,4T\n"
		"map t 0x0 0x0 4T\ndump t tree\ndump t json\n", -1, NULL));

	run_cli_input(&r, NULL, args + 2);
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "\n  [0] 0x0000000000000e41 iova 0x0 "
				"+4T leaf pa 0x0 rwx\n"));
	g_assert_null(strstr(strstr(r.out, " leaf ") + 1, " leaf "));

	tty = run_cli_on_tty(args, out_path);
	/* the terminal path was taken: it showed progress */
	g_assert_nonnull(strstr(tty, "map t: 100% (4194304 of 4194304 MiB)"));
	g_assert_true(g_file_get_contents(out_path, &tty_out, NULL, NULL));
	g_assert_cmpstr(tty_out, ==, r.out);
	cli_run_clear(&r);
	g_unlink(path);
	g_unlink(out_path);
	g_rmdir(dir);
}

/*
 * save ID FILE (issue 14 item 5): a new file only.  The v7s table with one
 * page is an L1 (16K) and an L2 (1K) adjacent in PA: headers and note,
 * then the run at file offset 0x1000 (congruent to its PA): 0x5400 bytes.
 */
/*
 * Issue 14 item 5: save -> adopt in one run and in a second run: the
 * adopted table answers lookups, dumps and later maps as the original did;
 * a second adopt of the same image while the first lives is refused.
 */
static void test_save_adopt_round_trip(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-adopt-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(tmp, "t.core", NULL);
	g_autofree char *first = g_strdup_printf(
		"alloc t arm-64-lpae-s1\nmap t 0x1000 0x80001000 4K\n"
		"map t 0x200000 0x40000000 2M\ndump t tree\nsave t %s\n",
		path);
	g_autofree char *second = g_strdup_printf(
		"adopt u %s\niova u 0x1234\niova u 0x200010\niova u 0x5000\n"
		"dump u tree\n!adopt v %s\nmap u 0x5000 0x7000 4K\n"
		"iova u 0x5000\nfree u\n", path, path);
	g_autofree char *tree = NULL;
	const char *start, *end;
	struct cli_run r;

	g_test_summary("save, then adopt in another run: lookups and the "
		       "dump equal the original's, maps go on, a second "
		       "adopt of the same image while it lives is refused");
	run_cli_input(&r, first, (const char *const[]){ "--no-manifest", "run",
		      "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	/* the dump's registers and tables (its header names the table) */
	start = strstr(r.out, "  ttbr = ");
	end = start ? strstr(start, "saved t to ") : NULL;
	g_assert_nonnull(end);
	tree = g_strndup(start, (gsize)(end - start));
	cli_run_clear(&r);

	run_cli_input(&r, second, (const char *const[]){ "--no-manifest",
		      "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "(adopted from "));
	g_assert_nonnull(strstr(r.out, "0x80001234\n0x40000010\nnone\n"));
	/* the same tree, table for table and entry for entry */
	g_assert_nonnull(strstr(r.out, tree));
	g_assert_nonnull(strstr(r.out, "expected failure: adopt v "));
	g_assert_true(g_str_has_suffix(r.out, "0x7000\n"));
	cli_run_clear(&r);
	g_unlink(path);
	g_rmdir(tmp);
}

static void test_save_new_file_only(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-save-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(tmp, "t.core", NULL);
	g_autofree char *link = g_build_filename(tmp, "link.core", NULL);
	g_autofree char *target = g_build_filename(tmp, "target", NULL);
	g_autofree char *script = g_strdup_printf(
		"alloc t arm-v7s\nmap t 0x1000 0x80001000 4K\nsave t %s\n",
		path);
	g_autofree char *again = g_strdup_printf(
		"alloc t arm-v7s\nsave t %s\n", path);
	g_autofree char *via_link = g_strdup_printf(
		"alloc t arm-v7s\nsave t %s\n", link);
	g_autofree char *want = NULL, *before = NULL, *after = NULL;
	g_autofree char *man = read_source("docs/iopgt-host.1");
	g_autofree char *doc = read_source("docs/cli.md");
	gsize len_before = 0, len_after = 0;
	struct stat st;
	mode_t mask;
	struct cli_run r;

	g_test_summary("Issue 14 item 5: 'save ID FILE' writes a new file and "
		       "says its size and table count; a file that exists (or "
		       "a symlink, even dangling) is refused and left as it "
		       "was; help, man page and cli.md list it");
	run_cli_input(&r, script, (const char *const[]){ "--no-manifest", "run",
		      "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	want = g_strdup_printf("saved t to %s (21504 bytes, 2 tables)\n", path);
	g_assert_nonnull(g_strrstr(r.out, want));
	cli_run_clear(&r);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_size, ==, 21504);
	mask = umask(0);
	umask(mask);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0644 & ~mask);
	g_assert_true(g_file_get_contents(path, &before, &len_before, NULL));

	run_cli_input(&r, again, (const char *const[]){ "--no-manifest", "run",
		      "-", NULL });
	g_assert_cmpint(r.status, ==, 1);
	g_free(want);
	want = g_strdup_printf("<stdin>:2: error: save t %s: not replacing a "
			       "file that exists [File exists]\n", path);
	g_assert_cmpstr(r.err, ==, want);
	cli_run_clear(&r);
	g_assert_true(g_file_get_contents(path, &after, &len_after, NULL));
	g_assert_cmpmem(after, len_after, before, len_before);

	g_assert_cmpint(symlink(target, link), ==, 0);
	run_cli_input(&r, via_link, (const char *const[]){ "--no-manifest",
		      "run", "-", NULL });
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "not replacing a file that exists"));
	cli_run_clear(&r);
	g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));

	run_cli(&r, "help", "run");
	g_assert_nonnull(strstr(r.out, "  save ID FILE "));
	cli_run_clear(&r);
	g_assert_nonnull(strstr(man, ".BI save \" ID FILE\""));
	g_assert_nonnull(strstr(doc, "save ID FILE"));
	g_unlink(link);
	g_unlink(path);
	g_rmdir(tmp);
}

/* ---- --mem-file: the tables in a shared file (issue 14 item 4) ---------------- */

#define MF_BASE		0x80000000ULL
#define MF_SIZE		(64ULL << 20)

static char *memfile_peek(const char *file, uint64_t base, uint64_t pa)
{
	g_autofree char *peek = g_test_build_filename(G_TEST_BUILT,
						      "memfile-peek", NULL);
	g_autofree char *b = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", base);
	g_autofree char *p = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", pa);
	const char *argv[] = { peek, file, b, p, NULL };
	g_autoptr(GError) error = NULL;
	char *out = NULL;
	int status = -1;

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
		     &out, NULL, &status, &error);
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	return out;
}

/* The PA of level `level`'s table (the first one, in walk order). */
static uint64_t json_table_pa(JsonObject *root, int level)
{
	JsonArray *tables = json_object_get_array_member(root, "tables");

	for (guint i = 0; i < json_array_get_length(tables); i++) {
		JsonObject *t = json_array_get_object_element(tables, i);

		if (json_object_get_int_member(t, "level") == level)
			return (uint64_t)json_object_get_int_member(t, "pa");
	}
	g_assert_not_reached();
	return 0;
}

static void test_mem_file_second_process(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-mf-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(tmp, "tables.mem", NULL);
	g_autofree char *script = g_build_filename(tmp, "s.iopgt", NULL);
	g_autofree char *errf = g_build_filename(tmp, "err", NULL);
	g_autofree char *json_text = NULL, *seen = NULL, *want = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GDataInputStream) in = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) text = g_string_new(
		"alloc t arm-64-lpae-s1\nmap t 0x1000 0x1000 4K\ndump t json\n");
	GString *json = g_string_new(NULL);
	JsonObject *root;
	uint64_t leaf_pa, leaf;
	struct stat st;
	char *line;

	g_test_summary("Issue 14 item 4: with --mem-file the run's tables live "
		       "in the file at their PA: a second process maps it "
		       "while the run is alive and reads the leaf the dump "
		       "shows; the file is created 0600 and SIZE long");
	/*
	 * The run is held alive by its own output: after the first dump
	 * come ten more (~34 KiB each), so while this test does not read,
	 * the CLI blocks writing one of them (a pipe holds 64 KiB), before
	 * the script ends and its tables are freed.
	 */
	for (int i = 0; i < 10; i++)
		g_string_append(text, "dump t json\n");
	g_assert_true(g_file_set_contents(script, text->str, -1, NULL));
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_stderr_file_path(l, errf);
	g_subprocess_launcher_set_cwd(l, source_root());
	g_subprocess_launcher_unsetenv(l, "IOPGT_LOG");
	p = g_subprocess_launcher_spawn(l, &error, g_getenv("IOPGT_TEST_CLI"),
					"--plugin-dir", test_plugin_dir(),
					"--no-manifest", "--mem-file", file,
					"run", script, NULL);
	g_assert_no_error(error);
	in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));
	/* the alloc line, then the first dump: "{" ... "}" */
	line = g_data_input_stream_read_line(in, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(line, ==, "t: arm-64-lpae-s1 ias=48 oas=48 "
			"pgsizes=4K|2M|1G root=0x80000000");
	g_free(line);
	while ((line = g_data_input_stream_read_line(in, NULL, NULL, &error))) {
		bool end = !strcmp(line, "}");

		g_string_append_printf(json, "%s\n", line);
		g_free(line);
		if (end)
			break;
	}
	g_assert_no_error(error);
	json_text = g_string_free(json, FALSE);
	json_parser_load_from_data(parser, json_text, -1, &error);
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	leaf_pa = json_table_pa(root, 3) + 1 * sizeof(uint64_t);
	leaf = json_entry(root, 3, 1, 8);
	g_assert_cmphex(leaf, ==, 0x0000000000001e43);

	/* the second process, while the run is blocked in its output */
	seen = memfile_peek(file, MF_BASE, leaf_pa);
	want = g_strdup_printf("0x%016" G_GINT64_MODIFIER "x\n", leaf);
	g_assert_cmpstr(seen, ==, want);
	g_assert_cmphex(leaf_pa, ==, MF_BASE + 0x3008);

	/* let it finish */
	while ((line = g_data_input_stream_read_line(in, NULL, NULL, &error)))
		g_free(line);
	g_assert_no_error(error);
	g_subprocess_wait(p, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(errf, &err, NULL, NULL));
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
	g_assert_cmpint(g_stat(file, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpuint(st.st_size, ==, MF_SIZE);
	g_unlink(file);
	g_unlink(script);
	g_unlink(errf);
	g_rmdir(tmp);
}

static void check_tables_inside(const char *alloc, const char *spec,
				uint64_t base, uint64_t size)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-mf-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(tmp, "tables.mem", NULL);
	g_autofree char *arg = g_strconcat(file, spec, NULL);
	g_autofree char *script = g_strdup_printf(
		"%s\nmap t 0x1000 0x1000 4K\nmap t 0x40000000 0x2000 4K\n"
		"dump t json\n", alloc);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *root;
	JsonArray *tables;
	const char *brace;
	uint64_t root_pa;
	struct cli_run r;

	g_test_message("%s --mem-file FILE%s", alloc, spec);
	run_cli_input(&r, script, (const char *const[]){ "--no-manifest",
		      "--mem-file", arg, "run", "-", NULL });
	g_assert_cmpstr(r.err, ==, "");
	g_assert_cmpint(r.status, ==, 0);
	brace = strchr(r.out, '{');
	g_assert_nonnull(brace);
	json_parser_load_from_data(parser, brace, -1, &error);
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	root_pa = (uint64_t)json_object_get_int_member(root, "root_pa");
	g_assert_cmphex(root_pa, >=, base);
	g_assert_cmphex(root_pa, <, base + size);
	tables = json_object_get_array_member(root, "tables");
	g_assert_cmpuint(json_array_get_length(tables), >=, 2);
	for (guint i = 0; i < json_array_get_length(tables); i++) {
		JsonObject *t = json_array_get_object_element(tables, i);
		uint64_t pa = (uint64_t)json_object_get_int_member(t, "pa");
		uint64_t len = (uint64_t)json_object_get_int_member(t, "size");

		g_assert_cmphex(pa, >=, base);
		g_assert_cmphex(pa + len, <=, base + size);
	}
	cli_run_clear(&r);
	g_unlink(file);
	g_rmdir(tmp);
}

static void test_mem_file_tables_inside(void)
{
	g_test_summary("Issue 14 item 4: every table of a --mem-file run, the "
		       "root first, is inside [PA, PA + SIZE), for the default "
		       "and for a given SIZE and PA, LPAE and v7s");
	check_tables_inside("alloc t arm-64-lpae-s1", "", MF_BASE, MF_SIZE);
	check_tables_inside("alloc t arm-64-lpae-s1", ":1M@0x800000000",
			    0x800000000ULL, 1ULL << 20);
	check_tables_inside("alloc t arm-v7s", ":256K@0x10000000",
			    0x10000000ULL, 256ULL << 10);
	check_tables_inside("alloc t arm-32-lpae-s1 ias=32 oas=32",
			    ":64K@0x1000", 0x1000, 64ULL << 10);
}

/*
 * --mem-file FILE+spec refused: exit 1, one line naming FILE and the
 * reason, nothing run.
 */
static void check_mem_file_refused(const char *file, const char *spec,
				   const char *reason)
{
	g_autofree char *arg = g_strconcat(file, spec, NULL);
	g_autofree char *want = g_strdup_printf("iopgt-host: --mem-file %s: "
						"%s\n", file, reason);

	g_test_message("--mem-file %s", arg);
	check_cli((const char *const[]){ "--no-manifest", "--mem-file", arg,
					 "run", "-", NULL }, false, 1, "",
		  want);
}

/* path's bytes, mode and size, to show a refusal changed nothing */
static char *file_state(const char *path)
{
	g_autofree char *data = NULL, *sum = NULL;
	gsize len = 0;
	struct stat st;

	g_assert_cmpint(lstat(path, &st), ==, 0);
	if (S_ISREG(st.st_mode)) {
		g_assert_true(g_file_get_contents(path, &data, &len, NULL));
		sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
						  (guchar *)data, len);
	}
	return g_strdup_printf("mode %o size %" G_GINT64_FORMAT " sum %s",
			       (unsigned int)st.st_mode, (gint64)st.st_size,
			       sum ? sum : "-");
}

static void test_mem_file_refusals(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-mf-XXXXXX", NULL);
	g_autofree char *target = g_build_filename(tmp, "target", NULL);
	g_autofree char *link = g_build_filename(tmp, "link", NULL);
	g_autofree char *open_file = g_build_filename(tmp, "open", NULL);
	g_autofree char *small = g_build_filename(tmp, "small", NULL);
	g_autofree char *dir = g_build_filename(tmp, "dir", NULL);
	const char *files[] = { target, link, open_file, small, dir };
	char *before[G_N_ELEMENTS(files)];
	char big[64 << 10];

	g_test_summary("Issue 14 item 4: --mem-file refuses a symlink, a file "
		       "writable by others, a file smaller than SIZE and a "
		       "directory, each with one line naming it and the "
		       "reason (exit 1), and leaves it as it was");
	memset(big, 0x5a, sizeof(big));
	g_assert_true(g_file_set_contents(target, big, sizeof(big), NULL));
	g_assert_cmpint(chmod(target, 0600), ==, 0);
	g_assert_cmpint(symlink(target, link), ==, 0);
	g_assert_true(g_file_set_contents(open_file, big, sizeof(big), NULL));
	g_assert_cmpint(chmod(open_file, 0666), ==, 0);
	g_assert_true(g_file_set_contents(small, big, 4096, NULL));
	g_assert_cmpint(chmod(small, 0600), ==, 0);
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		before[i] = file_state(files[i]);

	check_mem_file_refused(link, "", "refused: a symbolic link");
	check_mem_file_refused(open_file, "", "refused: writable by group or "
			       "others (mode 0666)");
	check_mem_file_refused(small, "", "refused: 4096 bytes, smaller than "
			       "SIZE 64M");
	check_mem_file_refused(target, ":128K", "refused: 65536 bytes, smaller than "
			       "SIZE 128K");
	check_mem_file_refused(dir, "", "refused: not a regular file (a "
			       "directory)");

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *after = file_state(files[i]);

		g_assert_cmpstr(after, ==, before[i]);
		g_free(before[i]);
		g_unlink(files[i]);
	}
	g_rmdir(dir);
	g_rmdir(tmp);
}

static void test_mem_file_in_use(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-mf-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(tmp, "tables.mem", NULL);
	int fd;

	g_test_summary("A --mem-file another run holds (locked) is refused: "
		       "two allocators in one file would corrupt both");
	fd = g_open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 64 << 10), ==, 0);
	g_assert_cmpint(flock(fd, LOCK_EX), ==, 0);
	check_mem_file_refused(file, ":64K", "refused: in use by another iopgt-host "
			       "run");
	close(fd);
	g_unlink(file);
	g_rmdir(tmp);
}

static void test_mem_file_not_created_if_unused(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-mf-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(tmp, "tables.mem", NULL);

	g_test_summary("A --mem-file run that cannot start (a missing "
		       "--plugin-dir) fails before the file is created");
	check_cli((const char *const[]){ "--plugin-dir", "/nonexistent/dir",
					 "--no-manifest", "--mem-file", file,
					 "run", "-", NULL }, true, 1, "",
		  "iopgt-host: --plugin-dir /nonexistent/dir: no such "
		  "directory\n");
	g_assert_false(g_file_test(file, G_FILE_TEST_EXISTS));
	g_rmdir(tmp);
}

static void test_mem_file_usage(void)
{
	static const struct {
		const char *args[5];
		const char *err;
	} cases[] = {
		{ { "--mem-file", "m:1K", "run" },
		  "--mem-file m:1K: SIZE must be a multiple of 4K, at least "
		  "64K" },
		{ { "--mem-file", "m:65537", "run" },
		  "--mem-file m:65537: SIZE must be a multiple of 4K, at least "
		  "64K" },
		{ { "--mem-file", "m:1X", "run" },
		  "--mem-file m:1X: '1X' is not a number (bad suffix 'X')" },
		{ { "--mem-file", "m@0x1001", "run" },
		  "--mem-file m@0x1001: PA must be 4K aligned, and PA + SIZE "
		  "within 64 bits" },
		{ { "--mem-file", "m@0xfffffffffffff000", "run" },
		  "--mem-file m@0xfffffffffffff000: PA must be 4K aligned, and "
		  "PA + SIZE within 64 bits" },
		{ { "--mem-file", ":64M@0x1000", "run" },
		  "--mem-file :64M@0x1000: missing file name" },
		{ { "--mem-file", "m", "--mem-file", "n", "run" },
		  "--mem-file: given twice" },
		{ { "--mem-file", "m", "list" },
		  "--mem-file applies to run only" },
		{ { "--mem-file", "m", "--mem", "1G", "run" },
		  "--mem and --mem-file exclude each other" },
	};

	g_test_summary("A malformed --mem-file value, or --mem-file where it "
		       "does not apply, is a usage error (exit 2) and creates "
		       "no file");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *want = g_strdup_printf("iopgt-host: %s\n"
							USAGE_TAIL,
							cases[i].err);
		const char *args[7] = { "--no-manifest" };

		memcpy(args + 1, cases[i].args, sizeof(cases[i].args));
		g_test_message("%s", cases[i].err);
		check_cli(args, false, 2, "", want);
	}
	/* the run's cwd is the source root: nothing was created there */
	{
		g_autofree char *m = g_build_filename(source_root(), "m", NULL);

		g_assert_false(g_file_test(m, G_FILE_TEST_EXISTS));
	}
}

static void test_mem_file_documented(void)
{
	g_autofree char *man = read_source("docs/iopgt-host.1");
	g_autofree char *doc = read_source("docs/cli.md");
	g_autofree char *comp = read_source("contrib/bash-completion/iopgt-host");
	struct cli_run r;

	g_test_summary("--mem-file is in --help, the man page, cli.md and the "
		       "completion, with its argument");
	run_cli(&r, "--help");
	g_assert_nonnull(strstr(r.out, "--mem-file=FILE[:SIZE][@PA]"));
	cli_run_clear(&r);
	g_assert_nonnull(strstr(man, ".BI \\-\\-mem\\-file= FILE"));
	g_assert_nonnull(strstr(doc, "`--mem-file FILE[:SIZE][@PA]`"));
	g_assert_nonnull(strstr(comp, "--mem-file"));
}

static void test_inspect_saved_image(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-inspect-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(tmp, "t.core", NULL);
	g_autofree char *script = g_strdup_printf(
		"alloc t arm-64-lpae-s1\nmap t 0x10000000 0x80000000 2M rc\n"
		"map t 0x10200000 0x80400000 4K rwn\nsave t %s\n", path);
	struct cli_run r;

	g_test_summary("Issue 15: 'inspect --image FILE' reads a saved image "
		       "with nothing else: translate gives the PA or the fault "
		       "(exit 1), dump the entries, check nothing; a missing "
		       "--image is a usage error");
	run_cli_input(&r, script, (const char *const[]){ "--no-manifest",
		      "run", "-", NULL });
	g_assert_cmpint(r.status, ==, 0);
	cli_run_clear(&r);
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  path, "translate", "0x10123456", NULL }, false, 0,
		  "0x10123456 -> 0x80123456: 2M at level 2, r-x cache, memattr "
		  "0xff, sh 3, desc 0x0000000080000fc5 at PA 0x440002400\n", "");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  path, "--access", "w", "translate", "0x10123456", NULL },
		  false, 1, "0x10123456: permission fault at level 2, desc "
		  "0x0000000080000fc5 at PA 0x440002400\n", "");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  path, "--access", "x", "translate", "0x10200010", NULL },
		  false, 1, "0x10200010: permission fault at level 3, desc "
		  "0x0060000080400e43 at PA 0x440003000\n", "");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  path, "translate", "0x10201000", NULL }, false, 1,
		  "0x10201000: translation fault at level 3, desc "
		  "0x0000000000000000 at PA 0x440003008\n", "");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  path, "dump", NULL }, false, 0,
		  "arm-64-lpae-s1\n"
		  "L0[0] 0x0 512G table 0x440001000\n"
		  "  L1[0] 0x0 1G table 0x440002000\n"
		  "    L2[128] 0x10000000 2M -> 0x80000000 r-x cache "
		  "(0x0000000080000fc5)\n"
		  "    L2[129] 0x10200000 2M table 0x440003000\n"
		  "      L3[0] 0x10200000 4K -> 0x80400000 rw- "
		  "(0x0060000080400e43)\n", "");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  path, "check", NULL }, false, 0, "no problems\n", "");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "check",
		  NULL }, false, 2, "", "iopgt-host: inspect: --image "
		  "FILE[@PA] is needed\nTry 'iopgt-host help inspect'.\n");
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

/* Two 4K tables at PA 0x10000: L1[0] -> L2, L1[1] -> L1 (a loop), and a
 * 2M block at L2[1]. */
static char *write_raw_tables(const char *dir)
{
	uint64_t t[1024] = { 0 };
	char *path = g_build_filename(dir, "raw.bin", NULL);

	t[0] = 0x11000 | 3;
	t[1] = 0x10000 | 3;
	t[512 + 1] = 0x80200745;	/* block, AF, unpriv, cacheable, IS */
	g_assert_true(g_file_set_contents(path, (const char *)t, sizeof(t),
					  NULL));
	return path;
}

static void test_inspect_raw_file(void)
{
	g_autofree char *tmp = g_dir_make_tmp("iopgt-cli-inspect-XXXXXX", NULL);
	g_autofree char *raw = write_raw_tables(tmp);
	g_autofree char *image = g_strconcat(raw, "@0x10000", NULL);

	g_test_summary("Issue 15: 'inspect --image FILE@PA --format --regs' "
		       "reads raw memory: translate with the MAIR's attribute, "
		       "check --json reports the loop (exit 1), a missing "
		       "register is named");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  image, "--format", "arm-64-lpae-s1", "--regs",
		  "ttbr=0x10000,tcr.tg=0", "--regs",
		  "tcr.tsz=25,tcr.ips=2,mair=0xf404ff44", "translate",
		  "0x234567", NULL }, false, 0,
		  "0x234567 -> 0x80234567: 2M at level 2, rwx cache, memattr "
		  "0xff, sh 3, desc 0x0000000080200745 at PA 0x11008\n", "");
	check_cli((const char *const[]){ "--no-manifest", "--json", "inspect",
		  "--image", image, "--format", "arm-64-lpae-s1", "--regs",
		  "ttbr=0x10000,tcr.tg=0,tcr.tsz=25,tcr.ips=2", "check", NULL },
		  false, 1,
		  "{\n  \"problems\" : [\n    {\n      \"problem\" : \"loop\",\n"
		  "      \"level\" : 1,\n      \"table\" : 65536,\n"
		  "      \"index\" : 1,\n      \"desc\" : 65539,\n"
		  "      \"addr\" : 65536,\n      \"what\" : \"table points "
		  "back to a table above it\"\n    }\n  ],\n"
		  "  \"count\" : 1\n}\n", "");
	check_cli((const char *const[]){ "--no-manifest", "inspect", "--image",
		  image, "--format", "arm-64-lpae-s1", "--regs",
		  "ttbr=0x10000,tcr.tg=0,tcr.tsz=25", "check", NULL }, false, 1,
		  "", "iopgt-host: warning: lpae: foreign: register 'tcr.ips' "
		  "not given\niopgt-host: inspect: cannot read the tables: "
		  "Invalid argument\n");
	g_assert_cmpint(g_unlink(raw), ==, 0);
	g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

int main(int argc, char **argv)
{
	/* a CLI that exits before reading its stdin (a usage error) must
	 * not kill the driver writing it */
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli/usage/no-command", test_usage_no_command);
	g_test_add_func("/cli/usage/unknown-command", test_usage_unknown_command);
	g_test_add_func("/cli/usage/bad-option", test_usage_bad_option);
	g_test_add_func("/cli/usage/bad-mem-size", test_usage_bad_mem);
	g_test_add_func("/cli/usage/version", test_version);
	g_test_add_func("/cli/usage/help", test_help);
	g_test_add_func("/cli/list/bundled-in-manifest-order", test_list_bundled);
	g_test_add_func("/cli/list/json-keys", test_list_json);
	g_test_add_func("/cli/info/by-name", test_info_name);
	g_test_add_func("/cli/info/by-file", test_info_file);
	g_test_add_func("/cli/info/missing-plugin-fails", test_info_missing);
	g_test_add_func("/cli/defaults/next-to-executable",
			test_defaults_next_to_executable);
	g_test_add_func("/cli/plan/bundled", test_plan_bundled);
	g_test_add_func("/cli/plan/bad-manifest-line", test_plan_bad_manifest);
	g_test_add_func("/cli/manifest/unreadable", test_missing_manifest);
	g_test_add_func("/cli/run/demo", test_run_demo);
	g_test_add_func("/cli/run/stdin", test_run_stdin);
	g_test_add_func("/cli/run/unload-wait", test_run_unload_wait);
	g_test_add_func("/cli/run/errors-name-file-and-line", test_run_errors);
	g_test_add_func("/cli/run/expected-failure-that-succeeds",
			test_run_expected_failure_succeeds);
	g_test_add_func("/cli/run/missing-file", test_run_missing_file);
	g_test_add_func("/cli/dump/json-lpae-bytes", test_dump_json_lpae);
	g_test_add_func("/cli/dump/json-lpae-formats-bytes",
			test_dump_json_lpae_formats);
	g_test_add_func("/cli/dump/json-v7s-bytes", test_dump_json_v7s);
	g_test_add_func("/cli/dump/dot", test_dump_dot);
	g_test_add_func("/cli/dump/prot-in-tree-dot-and-json", test_dump_prot);
	g_test_add_func("/cli/usage/missing-option-value",
			test_usage_missing_value);
	g_test_add_func("/cli/usage/unknown-short-option",
			test_usage_unknown_short_option);
	g_test_add_func("/cli/usage/wrong-argument-count",
			test_usage_wrong_argument_count);
	g_test_add_func("/cli/usage/bad-mem-values", test_usage_bad_mem_values);
	g_test_add_func("/cli/usage/mem-too-big-for-the-machine",
			test_mem_too_big_for_the_machine);
	g_test_add_func("/cli/files/missing-or-directory", test_missing_files);
	g_test_add_func("/cli/files/nonexistent-plugin-dir",
			test_nonexistent_plugin_dir);
	g_test_add_func("/cli/run/bad-numbers", test_run_bad_numbers);
	g_test_add_func("/cli/run/good-numbers", test_run_good_numbers);
	g_test_add_func("/cli/run/unknown-names", test_run_unknown_names);
	g_test_add_func("/cli/run/wrong-argument-counts",
			test_run_wrong_argument_counts);
	g_test_add_func("/cli/run/refusals-say-why", test_run_refusals_say_why);
	g_test_add_func("/cli/run/control-bytes-are-escaped",
			test_run_control_bytes_escaped);
	g_test_add_func("/cli/run/nul-byte-names-its-line", test_run_nul_byte);
	g_test_add_func("/cli/run/crlf-script", test_run_crlf_script);
	g_test_add_func("/cli/run/alloc-takes-format-defaults-on-demand",
			test_alloc_defaults_on_demand);
	g_test_add_func("/cli/run/leak-fails-the-run", test_leak_fails_the_run);
	g_test_add_func("/cli/run/stdout-flushed-before-stderr",
			test_stdout_flushed_before_stderr);
	g_test_add_func("/cli/run/reason-said-once", test_no_doubled_messages);
	g_test_add_func("/cli/manifest/repeatable-merges-in-order",
			test_manifest_repeatable);
	g_test_add_func("/cli/dump/json-unsigned-and-dotted-rule",
			test_dump_json_unsigned_and_dotted);
	g_test_add_func("/cli/plan/json-errors", test_plan_json_errors);
	g_test_add_func("/cli/json/documented-keys", test_json_keys_documented);
	g_test_add_func("/cli/usage/bad-option-values-exit-2",
			test_bad_option_values_exit_2);
	g_test_add_func("/cli/docs/options-agree", test_docs_agree_with_help);
	g_test_add_func("/cli/usage/help-command", test_help_command);
	g_test_add_func("/cli/usage/typo-suggestions", test_typo_suggestions);
	g_test_add_func("/cli/formats/defaults", test_formats_defaults);
	g_test_add_func("/cli/info/misnamed-file-flagged",
			test_misnamed_file_flagged);
	g_test_add_func("/cli/dump/runs-collapsed", test_dump_collapses_runs);
	g_test_add_func("/cli/files/script-size-and-read-errors",
			test_script_size_and_read_errors);
	g_test_add_func("/cli/files/names-escaped-json-utf8",
			test_names_escaped_and_json_utf8);
	g_test_add_func("/cli/run/error-words", test_error_words);
	g_test_add_func("/cli/run/failed-pgsize-map-rolls-back",
			test_failed_pgsize_map_rolls_back);
	g_test_add_func("/cli/run/tty-maps-the-same", test_tty_maps_the_same);
	g_test_add_func("/cli/run/save-writes-a-new-file-only",
			test_save_new_file_only);
	g_test_add_func("/cli/run/save-then-adopt", test_save_adopt_round_trip);
	g_test_add_func("/cli/mem-file/second-process-reads-the-leaf",
			test_mem_file_second_process);
	g_test_add_func("/cli/mem-file/tables-inside-the-region",
			test_mem_file_tables_inside);
	g_test_add_func("/cli/mem-file/refusals-leave-the-file",
			test_mem_file_refusals);
	g_test_add_func("/cli/mem-file/in-use-is-refused",
			test_mem_file_in_use);
	g_test_add_func("/cli/mem-file/not-created-if-the-run-cannot-start",
			test_mem_file_not_created_if_unused);
	g_test_add_func("/cli/mem-file/bad-values-are-usage-errors",
			test_mem_file_usage);
	g_test_add_func("/cli/mem-file/documented", test_mem_file_documented);
	g_test_add_func("/cli/inspect/saved-image", test_inspect_saved_image);
	g_test_add_func("/cli/inspect/raw-file-and-registers",
			test_inspect_raw_file);
	return g_test_run();
}
