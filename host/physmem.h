/* SPDX-License-Identifier: MIT */
#ifndef IOPGT_PHYSMEM_H
#define IOPGT_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- simulated physical memory (physmem.c) -------------------------------- */

/*
 * A buddy allocator over one linear, lazily-backed virtual mapping whose
 * physical addresses start at IOPGT_PHYS_BASE.  Two zones: DMA32 below
 * 4 GiB and NORMAL above; NORMAL requests fall back to DMA32.
 * Freed single pages wait in a small cache of the freeing thread's slot
 * for its next single-page request, and a slot with none takes a run of
 * fresh pages from the buddy system at once.  Deterministic: the same
 * request sequence (per thread) gives the same addresses, with or without
 * runs.  Thread-safe.
 */
#define IOPGT_PHYS_BASE		0x80000000ULL	/* 2 GiB, like ARM DRAM */
#define IOPGT_PHYS_PAGE		4096ULL
/* The smallest caller region a provider takes (host.h) */
#define IOPGT_REGION_MIN	(4 * IOPGT_PHYS_PAGE)

struct iopgt_physmem;

int iopgt_physmem_new(uint64_t size, struct iopgt_physmem **out);
/*
 * The same allocator over a caller's memory: size bytes at va whose PA is
 * pa (va, pa and size page aligned, size at least IOPGT_REGION_MIN).  The memory
 * is not assumed zero; free pages hold the free-list links.
 * Returns: 0, -EINVAL or -ENOMEM.
 */
int iopgt_physmem_new_region(void *va, uint64_t pa, uint64_t size,
			     struct iopgt_physmem **out);
void iopgt_physmem_free(struct iopgt_physmem *pm);
/* Zeroed block of (pages rounded up to a power of two) * 4 KiB, aligned to
 * its size in PA, wholly below the flags' address limit; NULL when no
 * block fits or the limit is reached. */
void *iopgt_physmem_alloc(struct iopgt_physmem *pm, size_t size,
			  unsigned int flags, uint64_t *pa);
/*
 * Take the block of size bytes (rounded as alloc rounds) at exactly pa,
 * zeroed, as if alloc had returned it: for a table image put back at its
 * saved PAs.  Returns: its va, or NULL with *err -EINVAL (pa not aligned
 * to the block or outside the memory), -EBUSY (some of it in use) or
 * -ENOMEM (the limit).
 */
void *iopgt_physmem_claim(struct iopgt_physmem *pm, uint64_t pa, size_t size,
			  int *err);
void iopgt_physmem_release(struct iopgt_physmem *pm, void *va, size_t size);
uint64_t iopgt_physmem_pa_to_va_offset(const struct iopgt_physmem *pm);
void iopgt_physmem_set_limit(struct iopgt_physmem *pm, uint64_t bytes);
uint64_t iopgt_physmem_in_use(struct iopgt_physmem *pm);
uint64_t iopgt_physmem_size(const struct iopgt_physmem *pm);
/* PA of the last byte of the memory. */
uint64_t iopgt_physmem_last_pa(const struct iopgt_physmem *pm);
/* The highest PA a block allocated with these alloc_pages flags may
 * cover (UINT64_MAX: no limit). */
uint64_t iopgt_mem_flags_max_pa(unsigned int flags);
/* Acquisitions of the buddy system's lock so far (this call's not
 * counted): what threads allocating at once meet at. */
uint64_t iopgt_physmem_lock_count(struct iopgt_physmem *pm);
/* How many fresh pages (rounded down to a power of two; 16 by default,
 * 1 for none beyond the request) a thread takes from the buddy system at
 * once: for tests, which compare addresses with and without runs. */
void iopgt_physmem_set_run_pages(struct iopgt_physmem *pm, unsigned int pages);
/* Rounded size actually taken for a request of size bytes. */
size_t iopgt_physmem_block_size(size_t size);

#endif /* IOPGT_PHYSMEM_H */
