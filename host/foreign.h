/* SPDX-License-Identifier: MIT */
#ifndef IOPGT_FOREIGN_H
#define IOPGT_FOREIGN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "iopgt/host.h"

/* ---- the inspector's sources, for the files above foreign.c -------------- */

/*
 * iopgt_inspect_add_source() with a name for messages and destroy(ctx)
 * called when insp is freed (not when this fails: ctx stays the caller's).
 * size 0: to 2^64.  Returns: 0 or -EEXIST, -EBUSY, -EINVAL.
 */
int iopgt_inspect_add_source_full(struct iopgt_inspect *insp, const char *what,
				  uint64_t pa, uint64_t size,
				  iopgt_inspect_read_fn read, void *ctx,
				  GDestroyNotify destroy);
/* The ctx of the first source read through read, or NULL. */
void *iopgt_inspect_get_source_ctx(const struct iopgt_inspect *insp,
				   iopgt_inspect_read_fn read);
bool iopgt_inspect_is_open(const struct iopgt_inspect *insp);
struct iopgt_host *iopgt_inspect_get_host(const struct iopgt_inspect *insp);

#endif /* IOPGT_FOREIGN_H */
