// SPDX-License-Identifier: MIT
/*
 * fuzz-script: the `iopgt-host run` script language (tools/iopgt-host:
 * script.c, parse.c, dump.c and report.c) over both formats.
 *
 * The input is a script.  It runs against a fresh host per input with the
 * LPAE and v7s formats built in (no plugin directory: `load` and `unload`
 * work on the built-ins), in FUZZ_MEM_SIZE of simulated memory with
 * FUZZ_MEM_LIMIT for tables, so a line like `map t 0 0x1000 1T` ends in
 * -ENOMEM instead of taking gigabytes.  Output and error lines go to
 * /dev/null, or with IOPGT_FUZZ_VERBOSE set in the environment to stdout
 * and stderr (to see what a crashing input does).
 *
 * A first line containing "json" or "verbose" (a comment, say
 * "# fuzz: json verbose") sets --json or -v, so list, dump and the
 * verbose output are reached too.
 *
 * Checked: no sanitizer report, no GLib critical; the runner returns 0 or
 * 1; whatever the script did, it leaves no table, no loaded plugin and no
 * table memory behind, and the host's last reference is the test's.
 */
#include <string.h>

#include <glib.h>

#include "cli.h"
#include "fuzz-host.h"

/* where the script's output and its error lines go */
static FILE *out, *err;

void fuzz_target_init(void)
{
	if (fuzz_verbose) {
		out = stdout;
		err = stderr;
		return;
	}
	out = err = fopen("/dev/null", "w");
	FUZZ_CHECK(out);
}

static void count_loaded(struct iopgt_plugin *p, void *data)
{
	if (iopgt_plugin_get_state(p) == IOPGT_PLUGIN_LOADED)
		(*(unsigned int *)data)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *eol = size ? memchr(text, '\n', size) : NULL;
	g_autofree char *first = g_strndup(size ? text : "",
					   eol ? (size_t)(eol - text) : size);
	struct cli cli = {
		.out = out,
		.json = strstr(first, "json") != NULL,
		.verbose = strstr(first, "verbose") != NULL,
	};
	struct iopgt_mem_stats st;
	unsigned int loaded = 0;
	FILE *saved_stderr = stderr;
	int status;

	cli.host = fuzz_host_new(cli_log, &cli);

	/* "FILE:LINE: error: ..." for every failing script: not worth a line */
	stderr = err;
	status = cli_run_script_data(&cli, "fuzz.iopgt", text, size);
	stderr = saved_stderr;

	FUZZ_CHECK(status == EXIT_OK || status == EXIT_FAILED, "status %d",
		   status);
	FUZZ_CHECK(!cli.in_command);
	FUZZ_CHECK(iopgt_host_get_table_count(cli.host) == 0,
		   "the script left %d tables",
		   iopgt_host_get_table_count(cli.host));
	iopgt_host_foreach_plugin(cli.host, count_loaded, &loaded);
	FUZZ_CHECK(loaded == 0, "the script left %u plugins loaded", loaded);
	iopgt_host_get_mem_stats(cli.host, &st);
	FUZZ_CHECK(st.table_bytes == 0 && st.state_bytes == 0,
		   "table memory left: %" G_GUINT64_FORMAT " bytes, state %"
		   G_GUINT64_FORMAT, st.table_bytes, st.state_bytes);

	fuzz_host_free(cli.host);
	return 0;
}
