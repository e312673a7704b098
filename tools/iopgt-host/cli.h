/* SPDX-License-Identifier: MIT */
/*
 * iopgt-host internals: the edge where errno becomes text.  Commands
 * report failures as GError (IOPGT_CLI_ERROR) so the script runner can
 * prefix "FILE:LINE: error:".  The program is a client of libiopgt-host:
 * it includes <iopgt/host.h> and nothing private.
 *
 * Files, bottom to top (none calls one above it): parse.c (words),
 * report.c (what reaches the user: log lines, errno words, escaping, JSON,
 * the list table), dump.c, script.c (`run`), memfile.c (--mem-file),
 * inspect-map.c (runs of mappings), inspect-dump.c, inspect-diff.c,
 * inspect.c (`inspect`), main.c (options, commands).
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

/* The largest script `run` reads (docs/cli.md); more is refused. */
#define CLI_SCRIPT_MAX_BYTES	(16U << 20)

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
	/*
	 * While a script command runs, the host's error and warning lines
	 * are not printed as they come: the command reports them, from
	 * iopgt_host_get_last_error().  errors_logged counts the ERR lines,
	 * which make even a successful command fail the run.
	 */
	bool in_command;
	unsigned int errors_logged;
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
/* Edit distance, for "did you mean" (a swap of neighbours is one edit) */
unsigned int cli_edit_distance(const char *a, const char *b);
/* The most edits a suggestion for word may be away. */
unsigned int cli_close_enough(const char *word);
/* Of the n names name_at(table, i), the one closest to word and close
 * enough to suggest, or NULL. */
const char *cli_closest(const char *word, const void *table, size_t n,
			const char *(*name_at)(const void *table, size_t i));

/* report.c: everything that reaches the user's terminal */
/* The host's log function: "iopgt-host: [warning: ]LINE", escaped. */
void cli_log(void *data, int priority, const char *file, int line,
	     const char *fn, const char *format, va_list args);
/* stderr, after flushing stdout, so a 2>&1 reader sees lines in order */
void cli_err(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Control bytes (all but tab) and DEL as octal escapes (\033). */
char *cli_escape(const char *text);
/* Words for an errno, plainer than strerror() where that misleads. */
const char *cli_strerror(int err);
/*
 * JSON, written as it goes (pretty, two spaces): strings are always valid
 * UTF-8 (an invalid byte becomes U+FFFD) with control bytes escaped, and
 * 64-bit values are unsigned decimal integers, never negative.  key is
 * NULL for an array element.  A NULL string is written as null.
 */
struct cli_json;
struct cli_json *cli_json_new(void);
void cli_json_begin_object(struct cli_json *j, const char *key);
void cli_json_end_object(struct cli_json *j);
void cli_json_begin_array(struct cli_json *j, const char *key);
void cli_json_end_array(struct cli_json *j);
void cli_json_string(struct cli_json *j, const char *key, const char *value);
void cli_json_u64(struct cli_json *j, const char *key, uint64_t value);
void cli_json_int(struct cli_json *j, const char *key, int64_t value);
void cli_json_bool(struct cli_json *j, const char *key, bool value);
/* an array of strings (NULL: an empty array) */
void cli_json_strv(struct cli_json *j, const char *key, char **v);
/* Print to cli->out with a final newline, and free. */
void cli_json_print(struct cli *cli, struct cli_json *j);
void cli_json_free(struct cli_json *j);
/* The list table (text or --json), for `list` and the script's `list`. */
void cli_print_list(struct cli *cli);
/* One plugin's members (list and info share them), inside an object. */
void cli_plugin_json(struct cli_json *j, struct iopgt_plugin *p);
/* The canonical form of a path (no "..", symlinks resolved if it exists). */
char *cli_canonical_path(const char *path);
/* A path as printed: lexically canonical ("bin/../lib" is "lib"), escaped. */
char *cli_display_path(const char *path);

/* dump.c */
enum dump_style { DUMP_TREE, DUMP_JSON, DUMP_DOT };
gboolean cli_dump(struct cli *cli, struct iopgt_pgtable *pgt, const char *id,
		  enum dump_style style, GError **error);

/*
 * memfile.c: --mem-file FILE[:SIZE][@PA], the run's tables in a file
 * mapped MAP_SHARED (docs/cli.md).  fd is -1 while nothing is open.
 */
#define CLI_MEM_FILE_DEFAULT_SIZE	(64ULL << 20)
#define CLI_MEM_FILE_DEFAULT_PA		0x80000000ULL

struct cli_mem_file {
	char *path;
	uint64_t size;
	uint64_t pa;
	void *va;
	int fd;
	bool created;			/* by this run: removed if unusable */
	struct iopgt_mem_provider *region;
};

/* The option's words; a bad one is a usage error. */
gboolean cli_mem_file_parse(const char *arg, struct cli_mem_file *mf,
			    GError **error);
/* Open, check, lock and map the file; make it the host's table memory.
 * false after one line on stderr naming the file and the reason. */
bool cli_mem_file_open(struct cli *cli, struct cli_mem_file *mf);
/* Drop the region (before the host goes)... */
void cli_mem_file_release(struct cli_mem_file *mf);
/* ...and unmap the file once the host is gone. */
void cli_mem_file_close(struct cli_mem_file *mf);

/* script.c: FILE, or "-" for stdin */
int cli_run_script(struct cli *cli, const char *file);
/*
 * The same for a script held in memory (len bytes, no terminating NUL
 * needed); name is what messages print as FILE.  Returns: EXIT_OK or
 * EXIT_FAILED.
 */
int cli_run_script_data(struct cli *cli, const char *name, const char *data,
			size_t len);
/* The script language in a few lines, for `iopgt-host help run`. */
extern const char cli_script_summary[];

#endif
