/* SPDX-License-Identifier: MIT */
/*
 * iopgt-host internals: the edge where errno becomes text.  Commands
 * report failures as GError (IOPGT_CLI_ERROR) so the script runner can
 * prefix "FILE:LINE: error:".
 */
#ifndef IOPGT_CLI_H
#define IOPGT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <glib.h>

#include <iopgt/host.h>

/* Exit codes (documented in docs/cli.md and --help). */
#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2

#define IOPGT_CLI_ERROR (iopgt_cli_error_quark())
GQuark iopgt_cli_error_quark(void);
enum {
	IOPGT_CLI_ERROR_SYNTAX,		/* the line itself is malformed */
	IOPGT_CLI_ERROR_FAILED,		/* the operation failed */
};

struct cli {
	struct iopgt_host *host;
	bool json;
	int verbose;
	FILE *out;
	/* host errors said during the current command, for its message */
	GString *host_errors;
	bool capture;
};

/* parse.c: numbers, page sizes, prot letters, quirk names */
gboolean cli_parse_u64(const char *s, uint64_t *out, GError **error);
gboolean cli_parse_pgsizes(const char *s, unsigned long *out, GError **error);
gboolean cli_parse_prot(const char *s, int *out, GError **error);
gboolean cli_parse_quirks(const char *s, unsigned long *out, GError **error);
/* "4K|2M|1G" */
char *cli_format_pgsizes(unsigned long bitmap);
/* "4K", "2M", "0x3000" */
char *cli_format_size(uint64_t size);

/* dump.c */
enum dump_style { DUMP_TREE, DUMP_JSON, DUMP_DOT };
gboolean cli_dump(struct cli *cli, struct iopgt_pgtable *pgt, const char *id,
		  enum dump_style style, GError **error);

/* script.c: FILE, or "-" for stdin */
int cli_run_script(struct cli *cli, const char *file);
/*
 * The same for a script held in memory (len bytes, no terminating NUL
 * needed); name is what messages print as FILE.  Returns: EXIT_OK or
 * EXIT_FAILED.
 */
int cli_run_script_data(struct cli *cli, const char *name, const char *data,
			size_t len);

/* main.c: the list table, shared with the script's `list` */
void cli_print_list(struct cli *cli);
/* Take what the host logged as errors since the last call. */
char *cli_take_host_errors(struct cli *cli);

#endif
