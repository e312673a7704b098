// SPDX-License-Identifier: MIT
/*
 * The simulated memory's fast paths (host/physmem.c): the per-thread
 * caches of free single pages in front of the buddy system, and fresh
 * memory that is not written before a table uses it.  What they must
 * keep: exact in-use accounting, zeroed blocks, the limit, and addresses
 * that depend only on the sequence of calls.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "iopgt-internal.h"

#define GiB		(1ULL << 30)
#define PAGE		IOPGT_PHYS_PAGE

static struct iopgt_physmem *mem_new(void)
{
	struct iopgt_physmem *pm;

	g_assert_cmpint(iopgt_physmem_new(16 * GiB, &pm), ==, 0);
	return pm;
}

static void *alloc_page(struct iopgt_physmem *pm, uint64_t *pa)
{
	void *va = iopgt_physmem_alloc(pm, PAGE, 0, pa);

	g_assert_nonnull(va);
	return va;
}

static void test_last_freed_first(void)
{
	struct iopgt_physmem *pm = mem_new();
	uint64_t pa_a, pa_b, pa;
	void *a, *b, *c;

	g_test_summary("The page freed last is handed out first (it is the "
		       "one still in the CPU's cache), not the lowest free "
		       "one the buddy system would give after merging");
	a = alloc_page(pm, &pa_a);
	b = alloc_page(pm, &pa_b);
	g_assert_cmphex(pa_b, ==, pa_a + PAGE);
	iopgt_physmem_release(pm, a, PAGE);
	iopgt_physmem_release(pm, b, PAGE);
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 0);
	c = alloc_page(pm, &pa);
	g_assert_true(c == b);
	g_assert_cmphex(pa, ==, pa_b);
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, PAGE);
	iopgt_physmem_release(pm, c, PAGE);
	iopgt_physmem_free(pm);
}

static void test_reused_page_is_zeroed(void)
{
	struct iopgt_physmem *pm = mem_new();
	uint8_t *p, *q;

	g_test_summary("A page that comes back from the cache is zeroed like "
		       "any other");
	p = alloc_page(pm, NULL);
	memset(p, 0xa5, PAGE);
	iopgt_physmem_release(pm, p, PAGE);
	q = alloc_page(pm, NULL);
	g_assert_true(q == p);
	for (size_t i = 0; i < PAGE; i++)
		if (q[i])
			g_assert_cmpuint(i, ==, PAGE);
	iopgt_physmem_release(pm, q, PAGE);
	iopgt_physmem_free(pm);
}

/* Pages of [va, va + len) the kernel has backed with RAM. */
static size_t resident_pages(void *va, size_t len)
{
	size_t n = len / (size_t)sysconf(_SC_PAGESIZE), count = 0;
	g_autofree unsigned char *vec = g_new(unsigned char, n);

	g_assert_cmpint(mincore(va, len, vec), ==, 0);
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	return count;
}

static void test_fresh_memory_untouched(void)
{
	struct iopgt_physmem *pm = mem_new();
	uint8_t *p, *q;

	g_test_summary("A block never handed out before is not written by "
		       "the allocator (the kernel gives it zeroed): a fresh "
		       "2 MiB block costs no RAM until it is used, and a "
		       "used one is zeroed when it comes back");
	if ((size_t)sysconf(_SC_PAGESIZE) != PAGE) {
		g_test_skip("the host's page size is not 4 KiB");
		iopgt_physmem_free(pm);
		return;
	}
	p = iopgt_physmem_alloc(pm, SZ_2M, 0, NULL);
	g_assert_nonnull(p);
	/* at most its first page, which held the free-list links */
	g_assert_cmpuint(resident_pages(p, SZ_2M), <=, 1);
	for (size_t i = 0; i < SZ_2M; i += 64)
		if (p[i])
			g_assert_cmpuint(i, ==, SZ_2M);
	memset(p, 0x5a, SZ_2M);
	iopgt_physmem_release(pm, p, SZ_2M);
	q = iopgt_physmem_alloc(pm, SZ_2M, 0, NULL);
	g_assert_true(q == p);
	for (size_t i = 0; i < SZ_2M; i++)
		if (q[i])
			g_assert_cmpuint(i, ==, SZ_2M);
	iopgt_physmem_release(pm, q, SZ_2M);
	iopgt_physmem_free(pm);
}

static void test_same_sequence_same_addresses(void)
{
	uint64_t first[64], pa;

	g_test_summary("Two fresh memories given the same mix of allocations "
		       "and frees of pages and blocks hand out the same "
		       "addresses");
	for (int round = 0; round < 2; round++) {
		struct iopgt_physmem *pm = mem_new();
		void *live[64] = { NULL };
		GRand *rand = g_rand_new_with_seed(7);
		unsigned int n = 0;

		for (int i = 0; i < 2000; i++) {
			unsigned int slot = g_rand_int_range(rand, 0, 64);
			unsigned int order = g_rand_int_range(rand, 0, 4) ?
					     0 : g_rand_int_range(rand, 1, 5);
			size_t size = PAGE << order;

			if (live[slot]) {
				iopgt_physmem_release(pm, live[slot], PAGE);
				live[slot] = NULL;
				continue;
			}
			/* blocks are freed at once, pages stay a while */
			if (size != PAGE) {
				void *blk = iopgt_physmem_alloc(pm, size, 0,
								&pa);

				g_assert_nonnull(blk);
				iopgt_physmem_release(pm, blk, size);
			} else {
				live[slot] = iopgt_physmem_alloc(pm, PAGE, 0,
								 &pa);
				g_assert_nonnull(live[slot]);
			}
			if (round == 0 && n < G_N_ELEMENTS(first))
				first[n] = pa;
			else if (n < G_N_ELEMENTS(first))
				g_assert_cmphex(pa, ==, first[n]);
			n++;
		}
		for (int s = 0; s < 64; s++)
			if (live[s])
				iopgt_physmem_release(pm, live[s], PAGE);
		g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 0);
		g_rand_free(rand);
		iopgt_physmem_free(pm);
	}
}

static void test_limit_counts_exactly(void)
{
	struct iopgt_physmem *pm = mem_new();
	void *pages[8];

	g_test_summary("With a limit, pages parked in a cache neither count "
		       "as used nor keep a request that fits from being "
		       "served, and one page more is refused");
	for (int i = 0; i < 8; i++)
		pages[i] = alloc_page(pm, NULL);
	for (int i = 0; i < 8; i++)
		iopgt_physmem_release(pm, pages[i], PAGE);
	iopgt_physmem_set_limit(pm, 8 * PAGE);
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 0);
	/* eight pages as one block: needs the cached ones merged back */
	pages[0] = iopgt_physmem_alloc(pm, 8 * PAGE, 0, NULL);
	g_assert_nonnull(pages[0]);
	g_assert_null(iopgt_physmem_alloc(pm, PAGE, 0, NULL));
	iopgt_physmem_release(pm, pages[0], 8 * PAGE);
	for (int i = 0; i < 8; i++)
		pages[i] = alloc_page(pm, NULL);
	g_assert_null(iopgt_physmem_alloc(pm, PAGE, 0, NULL));
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 8 * PAGE);
	for (int i = 0; i < 8; i++)
		iopgt_physmem_release(pm, pages[i], PAGE);
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 0);
	iopgt_physmem_free(pm);
}

/* ---- threads ------------------------------------------------------------- */

#define ROUNDS		20000
#define HELD		24		/* more than a cache holds */

struct churn {
	struct iopgt_physmem *pm;
	uint64_t tag;
	unsigned int bad;
};

/*
 * Allocate and free pages in a pattern that fills and drains the
 * thread's cache; each page carries the thread's tag while it is held, so
 * a page handed to two threads at once shows up as an overwritten tag.
 */
static gpointer churn_thread(gpointer data)
{
	struct churn *c = data;
	uint64_t *held[HELD] = { NULL };

	for (unsigned int i = 0; i < ROUNDS; i++) {
		unsigned int s = (i * 7) % HELD;

		if (held[s]) {
			if (held[s][0] != c->tag || held[s][511] != c->tag)
				c->bad++;
			iopgt_physmem_release(c->pm, held[s], PAGE);
			held[s] = NULL;
			continue;
		}
		held[s] = iopgt_physmem_alloc(c->pm, PAGE,
					      i & 64 ? IOPGT_MEM_DMA32 : 0,
					      NULL);
		if (!held[s] || held[s][0] || held[s][511]) {
			c->bad++;
			continue;
		}
		held[s][0] = held[s][511] = c->tag;
	}
	for (unsigned int s = 0; s < HELD; s++)
		if (held[s])
			iopgt_physmem_release(c->pm, held[s], PAGE);
	return NULL;
}

static void test_threads_share_nothing_wrong(void)
{
	struct iopgt_physmem *pm = mem_new();
	struct churn c[4];
	GThread *th[4];

	g_test_summary("Four threads allocating and freeing single pages "
		       "through their caches never get the same page at once, "
		       "always get it zeroed, and leave the count at zero");
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){ .pm = pm, .tag = 0x1000 + i };
		th[i] = g_thread_new("churn", churn_thread, &c[i]);
	}
	for (int i = 0; i < 4; i++) {
		g_thread_join(th[i]);
		g_assert_cmpuint(c[i].bad, ==, 0);
	}
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 0);
	iopgt_physmem_free(pm);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/physmem/cache/last-freed-page-comes-back-first",
			test_last_freed_first);
	g_test_add_func("/physmem/cache/reused-page-is-zeroed",
			test_reused_page_is_zeroed);
	g_test_add_func("/physmem/cache/same-sequence-same-addresses",
			test_same_sequence_same_addresses);
	g_test_add_func("/physmem/cache/limit-counts-exactly",
			test_limit_counts_exactly);
	g_test_add_func("/physmem/cache/threads-never-share-a-page",
			test_threads_share_nothing_wrong);
	g_test_add_func("/physmem/fresh/untouched-until-used",
			test_fresh_memory_untouched);
	return g_test_run();
}
