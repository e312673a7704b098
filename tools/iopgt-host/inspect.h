/* SPDX-License-Identifier: MIT */
/* iopgt-host inspect (inspect.c, docs/inspect.md). */
#ifndef IOPGT_CLI_INSPECT_H
#define IOPGT_CLI_INSPECT_H

#include "cli.h"

/* argv[0] is "inspect"; the rest are its options and COMMAND [ARG].
 * Returns: an exit status. */
int cli_inspect(struct cli *cli, int argc, char **argv);

#endif /* IOPGT_CLI_INSPECT_H */
