/* SPDX-License-Identifier: MIT */
/*
 * The v7s format's walk of tables built elsewhere (v7s-foreign.c), hooked
 * into the format definition as its iopgt_format.foreign.
 */
#ifndef V7S_FOREIGN_H
#define V7S_FOREIGN_H

#include <iopgt/pgtable.h>

extern const struct iopgt_foreign_ops v7s_foreign_ops;

#endif /* V7S_FOREIGN_H */
