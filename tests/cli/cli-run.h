/* SPDX-License-Identifier: MIT */
/*
 * Running the built iopgt-host ($IOPGT_TEST_CLI) as a user would, for the
 * CLI test binaries (test-cli.c, test-cli-inspect.c): its exit status,
 * stdout and stderr, whole.
 */
#ifndef IOPGT_TEST_CLI_RUN_H
#define IOPGT_TEST_CLI_RUN_H

struct cli_run {
	int status;		/* the exit status, 128 when killed */
	char *out;
	char *err;
};

void cli_run_clear(struct cli_run *r);

/*
 * Run iopgt-host in cwd with input (NULL: empty) on stdin, IOPGT_LOG
 * unset.  Its argv is: --plugin-dir plugin_dir (unless NULL), then the
 * NULL-terminated lists first (may be NULL) and args.
 */
void cli_run(struct cli_run *r, const char *cwd, const char *input,
	     const char *plugin_dir, const char *const *first,
	     const char *const *args);

#endif
