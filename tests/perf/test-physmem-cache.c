// SPDX-License-Identifier: MIT
/*
 * The simulated memory's fast paths (host/physmem.c): the per-thread
 * caches of free single pages in front of the buddy system, and fresh
 * memory that is not written before a table uses it.  What they must
 * keep: exact in-use accounting, zeroed blocks, the limit, and addresses
 * that depend only on the sequence of calls.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
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

static void test_run_given_back_untouched(void)
{
	struct iopgt_physmem *pm = mem_new();
	uint8_t *first, *blk, *p[15];

	g_test_summary("Fresh pages of a run that goes back to the buddy "
		       "system unused are still known to be zero: handed out "
		       "later, they are not written by the allocator");
	if ((size_t)sysconf(_SC_PAGESIZE) != PAGE) {
		g_test_skip("the host's page size is not 4 KiB");
		iopgt_physmem_free(pm);
		return;
	}
	blk = iopgt_physmem_alloc(pm, 32 * PAGE, 0, NULL);
	g_assert_nonnull(blk);
	/* a run of the 16 fresh pages above the block, one handed out */
	first = alloc_page(pm, NULL);
	g_assert_true(first == blk + 32 * PAGE);
	/* a block released gives the other 15 back first */
	iopgt_physmem_release(pm, blk, 32 * PAGE);
	for (int i = 0; i < 15; i++) {
		p[i] = alloc_page(pm, NULL);
		g_assert_true(p[i] == first + (i + 1) * PAGE);
	}
	/* only the heads of the free blocks they were split into, which
	 * held free-list links (pages 1, 2, 4 and 8 of the run) */
	g_assert_cmpuint(resident_pages(first + PAGE, 15 * PAGE), <=, 4);
	for (int i = 0; i < 15; i++)
		iopgt_physmem_release(pm, p[i], PAGE);
	iopgt_physmem_release(pm, first, PAGE);
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

/* ---- runs: fresh pages taken in batches --------------------------------- */

/*
 * One step of a random mix of requests, the same for every memory it is
 * applied to: pages of both zones, and below an address limit, kept a
 * while, blocks of 2 to 16 pages
 * allocated and freed, now and then a block kept a while.  Phases of 200
 * steps alternate between mostly allocating and mostly freeing, so the
 * free-page caches fill up and drain, and every other pair of phases has
 * neither blocks nor limits, so that runs last until a cache drains.
 */
#define MIX_SLOTS	64

struct mix {
	GRand *rand;
	unsigned int step;
	void *live[MIX_SLOTS];
	size_t size[MIX_SLOTS];
};

/* A slot that is live, or not, as the phase wants, if one is found. */
static unsigned int mix_slot(struct mix *m, bool want_live)
{
	unsigned int slot = g_rand_int_range(m->rand, 0, MIX_SLOTS);

	for (unsigned int i = 0; i < MIX_SLOTS; i++) {
		unsigned int s = (slot + i) % MIX_SLOTS;

		if ((m->live[s] != NULL) == want_live)
			return s;
	}
	return slot;
}

/* Returns: the PA handed out, 0 for a free, 1 for a refusal. */
static uint64_t mix_step(struct iopgt_physmem *pm, struct mix *m)
{
	bool freeing = (m->step / 200) % 2, blocks = !((m->step++ / 400) % 2);
	unsigned int slot = mix_slot(m, g_rand_int_range(m->rand, 0, 4) ?
					       freeing : !freeing);
	unsigned int kind = g_rand_int_range(m->rand, 0, blocks ? 8 : 6);
	unsigned int order = g_rand_int_range(m->rand, 1, 5);
	/* kind 1 with blocks: below 16 GiB, inside the NORMAL zone of
	 * mem_new()'s memory, so the page caches are bypassed */
	unsigned int flags = kind == 0 ? IOPGT_MEM_DMA32 :
			     kind == 1 && blocks ? IOPGT_MEM_MAX_BITS(34) : 0;
	uint64_t pa = 1;
	void *blk;

	if (m->live[slot]) {
		iopgt_physmem_release(pm, m->live[slot], m->size[slot]);
		m->live[slot] = NULL;
		return 0;
	}
	if (kind == 7) {
		blk = iopgt_physmem_alloc(pm, PAGE << order, 0, &pa);
		if (blk)
			iopgt_physmem_release(pm, blk, PAGE << order);
		return blk ? pa : 1;
	}
	m->size[slot] = kind == 6 ? PAGE << order : PAGE;
	m->live[slot] = iopgt_physmem_alloc(pm, m->size[slot], flags, &pa);
	return m->live[slot] ? pa : 1;
}

static void mix_end(struct iopgt_physmem *pm, struct mix *m)
{
	for (unsigned int s = 0; s < MIX_SLOTS; s++)
		if (m->live[s])
			iopgt_physmem_release(pm, m->live[s], m->size[s]);
	g_rand_free(m->rand);
}

/* The same mix on a memory with runs of one page and one with runs of
 * 16: every address, refusal and in-use count agrees.  Frees both. */
static void compare_mix(struct iopgt_physmem *one, struct iopgt_physmem *runs,
			unsigned int steps, unsigned int *refusals)
{
	struct mix m1 = { .rand = g_rand_new_with_seed(11) };
	struct mix m2 = { .rand = g_rand_new_with_seed(11) };

	iopgt_physmem_set_run_pages(one, 1);
	*refusals = 0;
	for (unsigned int i = 0; i < steps; i++) {
		uint64_t a = mix_step(one, &m1), b = mix_step(runs, &m2);

		if (a != b)
			g_assert_cmphex(b, ==, a);
		*refusals += a == 1;
		if (iopgt_physmem_in_use(one) != iopgt_physmem_in_use(runs))
			g_assert_cmpuint(iopgt_physmem_in_use(runs), ==,
					 iopgt_physmem_in_use(one));
	}
	mix_end(one, &m1);
	mix_end(runs, &m2);
	g_assert_cmpuint(iopgt_physmem_in_use(one), ==, 0);
	g_assert_cmpuint(iopgt_physmem_in_use(runs), ==, 0);
	iopgt_physmem_free(one);
	iopgt_physmem_free(runs);
}

static void test_runs_same_addresses(void)
{
	unsigned int refusals;

	g_test_summary("Taking fresh pages 16 at a time changes no address: "
		       "a long random mix of pages of both zones, blocks and "
		       "frees gets the same PA at every step, and the same "
		       "count in use, as taking them one at a time");
	compare_mix(mem_new(), mem_new(), 20000, &refusals);
	g_assert_cmpuint(refusals, ==, 0);
}

/* 64 pages of a caller's region straddling 4 GiB: 32 in each zone. */
#define SMALL_PAGES	64
#define SMALL_PA	(0x100000000ULL - SMALL_PAGES / 2 * PAGE)

static struct iopgt_physmem *small_region(void *buf)
{
	struct iopgt_physmem *pm;

	g_assert_cmpint(iopgt_physmem_new_region(buf, SMALL_PA,
						 SMALL_PAGES * PAGE, &pm),
			==, 0);
	return pm;
}

static void test_runs_same_addresses_when_full(void)
{
	void *buf[2];
	unsigned int refusals;

	g_test_summary("The same in a memory of 32 pages per zone, which the "
		       "mix keeps filling: NORMAL requests fall back to DMA32, "
		       "refusals reclaim every cached page, and still every "
		       "address and refusal agrees with runs of one page");
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(posix_memalign(&buf[i], PAGE,
					       SMALL_PAGES * PAGE), ==, 0);
	compare_mix(small_region(buf[0]), small_region(buf[1]), 20000,
		    &refusals);
	/* the memory did fill up: the refusal path was taken */
	g_assert_cmpuint(refusals, >, 100);
	free(buf[0]);
	free(buf[1]);
}

static void test_run_pages_not_in_use(void)
{
	struct iopgt_physmem *pm = mem_new();
	uint64_t pa[17], locks;
	void *va[17];

	g_test_summary("One lock acquisition hands a thread 16 fresh pages, "
		       "in ascending order, of which only those handed out "
		       "count as in use; the 17th takes the lock again");
	locks = iopgt_physmem_lock_count(pm);
	for (int i = 0; i < 17; i++) {
		va[i] = alloc_page(pm, &pa[i]);
		if (i)
			g_assert_cmphex(pa[i], ==, pa[0] + i * PAGE);
		if (i == 0 || i == 15)
			g_assert_cmpuint(iopgt_physmem_lock_count(pm) - locks,
					 ==, 1);
	}
	g_assert_cmpuint(iopgt_physmem_lock_count(pm) - locks, ==, 2);
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 17 * PAGE);
	for (int i = 0; i < 17; i++)
		iopgt_physmem_release(pm, va[i], PAGE);
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

#define FILL_PAGES	4096

struct fill {
	struct iopgt_physmem *pm;
	unsigned int flags;
	_Atomic unsigned int *ready;
	void *pages[FILL_PAGES];
};

/* Take FILL_PAGES fresh pages, the two threads starting together. */
static gpointer fill_thread(gpointer data)
{
	struct fill *f = data;

	atomic_fetch_add(f->ready, 1);
	while (atomic_load(f->ready) < 2)
		;
	for (unsigned int i = 0; i < FILL_PAGES; i++)
		f->pages[i] = iopgt_physmem_alloc(f->pm, PAGE, f->flags, NULL);
	return NULL;
}

static void threads_fill(unsigned int flags)
{
	struct iopgt_physmem *pm = mem_new();
	_Atomic unsigned int ready = 0;
	struct fill *f = g_new0(struct fill, 2);
	GThread *th[2];
	uint64_t locks;

	locks = iopgt_physmem_lock_count(pm);
	for (int i = 0; i < 2; i++) {
		f[i] = (struct fill){ .pm = pm, .flags = flags,
				      .ready = &ready };
		th[i] = g_thread_new("fill", fill_thread, &f[i]);
	}
	for (int i = 0; i < 2; i++)
		g_thread_join(th[i]);
	/* one per run of 16 pages: what two threads meet at */
	g_assert_cmpuint(iopgt_physmem_lock_count(pm) - locks, ==,
			 2 * FILL_PAGES / 16);
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 2 * FILL_PAGES * PAGE);
	for (int i = 0; i < 2; i++) {
		for (unsigned int p = 0; p < FILL_PAGES; p++) {
			g_assert_nonnull(f[i].pages[p]);
			iopgt_physmem_release(pm, f[i].pages[p], PAGE);
		}
	}
	g_assert_cmpuint(iopgt_physmem_in_use(pm), ==, 0);
	g_free(f);
	iopgt_physmem_free(pm);
}

static void test_threads_lock_once_per_run(void)
{
	g_test_summary("Two threads taking fresh pages at once take the "
		       "buddy system's lock once per 16 pages, in each zone "
		       "(it was once per page)");
	threads_fill(0);
	threads_fill(IOPGT_MEM_DMA32);
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
	g_test_add_func("/physmem/run/same-addresses-as-one-page-at-a-time",
			test_runs_same_addresses);
	g_test_add_func("/physmem/run/same-addresses-when-memory-is-full",
			test_runs_same_addresses_when_full);
	g_test_add_func("/physmem/run/one-lock-for-16-pages",
			test_run_pages_not_in_use);
	g_test_add_func("/physmem/run/two-threads-lock-once-per-16-pages",
			test_threads_lock_once_per_run);
	g_test_add_func("/physmem/fresh/untouched-until-used",
			test_fresh_memory_untouched);
	g_test_add_func("/physmem/fresh/run-given-back-stays-untouched",
			test_run_given_back_untouched);
	return g_test_run();
}
