/* SPDX-License-Identifier: MIT */
/*
 * Bit-field helpers for page-table formats: BIT, GENMASK, FIELD_GET/PREP,
 * size constants, container_of and the compiler hints (likely, __cold...).  Written for iopgt; the names follow the
 * Linux spellings so that descriptor layouts read the same as in the
 * architecture manuals and in io-pgtable.
 */
#ifndef IOPGT_BITS_H
#define IOPGT_BITS_H

#include <stddef.h>
#include <stdint.h>

#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))

/* Contiguous mask from bit l up to and including bit h. */
#define GENMASK(h, l)		((~0UL << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))

/* Shift of the lowest set bit of a constant, non-zero mask. */
#define IOPGT_MASK_SHIFT(mask)	__builtin_ctzll(mask)
#define FIELD_PREP(mask, val) \
	(((uint64_t)(val) << IOPGT_MASK_SHIFT(mask)) & (mask))
#define FIELD_GET(mask, reg) \
	(((uint64_t)(reg) & (mask)) >> IOPGT_MASK_SHIFT(mask))

#define lower_32_bits(n)	((uint32_t)((n) & 0xffffffffu))
#define upper_32_bits(n)	((uint32_t)((uint64_t)(n) >> 32))

#define SZ_1K			0x00000400UL
#define SZ_4K			0x00001000UL
#define SZ_16K			0x00004000UL
#define SZ_64K			0x00010000UL
#define SZ_1M			0x00100000UL
#define SZ_2M			0x00200000UL
#define SZ_16M			0x01000000UL
#define SZ_32M			0x02000000UL
#define SZ_512M			0x20000000UL
#define SZ_1G			0x40000000UL
#define SZ_4G			0x100000000ULL

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

#define IOPGT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Compiler hints, spelled once for every plugin and tool (the kernel's
 * names).  Each is left alone if the program defines it first, as glibc's
 * <sys/cdefs.h> does for __always_inline.
 */
#ifndef likely
#define likely(x)		__builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x)		__builtin_expect(!!(x), 0)
#endif
#ifndef __always_inline
#define __always_inline		inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline		__attribute__((noinline))
#endif
/* rarely run: kept out of the hot code's cache lines */
#ifndef __cold
#define __cold			__attribute__((cold))
#endif

#endif /* IOPGT_BITS_H */
