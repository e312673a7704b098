/* SPDX-License-Identifier: MIT */
/*
 * The LPAE formats' walks of tables built elsewhere (lpae-foreign.c), one
 * per format, hooked into the format definitions in io-pgtable-arm.c as
 * their iopgt_format.foreign.
 */
#ifndef LPAE_FOREIGN_H
#define LPAE_FOREIGN_H

#include <iopgt/pgtable.h>

extern const struct iopgt_foreign_ops lpae_foreign_64_s1;
extern const struct iopgt_foreign_ops lpae_foreign_64_s2;
extern const struct iopgt_foreign_ops lpae_foreign_32_s1;
extern const struct iopgt_foreign_ops lpae_foreign_32_s2;
extern const struct iopgt_foreign_ops lpae_foreign_mali;

#endif /* LPAE_FOREIGN_H */
