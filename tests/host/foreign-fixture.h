/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the foreign-walk tests (test-foreign.c, test-foreign-v7s.c,
 * test-foreign-nested.c, issue 15): load a format's plugin, save a live
 * table to a core and open it again as a foreign table, write raw memory
 * files, collect walks, and compare what the live and the foreign walk
 * saw, fault by fault and entry by entry.  Each helper asserts as it goes,
 * so a caller only reads the result.
 */
#ifndef IOPGT_FOREIGN_FIXTURE_H
#define IOPGT_FOREIGN_FIXTURE_H

#include "host-fixture.h"

/* Load the test plugin directory unless PLUGIN is loaded already. */
void load_plugin(struct host_fixture *f, const char *plugin);

/* 64 random bits: GRand gives 32 at a time. */
uint64_t rand64(GRand *rand);

/* ---- walks ---------------------------------------------------------------- */

/* Append each entry to the GArray of struct iopgt_walk_entry in data. */
extern const struct iopgt_walk_ops collect_ops;

/* The live walk of PGT with OPS into a new entry array; g_array_unref() it. */
GArray *walk_live(struct host_fixture *f, struct iopgt_pgtable *pgt,
		  const struct iopgt_walk_ops *ops);

/* Both walks listed the same entries, field by field, prot included. */
void assert_entries_equal(GArray *live, GArray *foreign);

/* ---- memory files --------------------------------------------------------- */

/* Save PGT as tmpdir/NAME and return the path; g_free() it. */
char *save_to_file(struct host_fixture *f, struct iopgt_pgtable *pgt,
		   const char *name);

/* An inspector over the saved core at PATH, open with its own format. */
struct iopgt_inspect *inspect_core(struct host_fixture *f, const char *path);

/* Write SIZE bytes to tmpdir/NAME and return the path; g_free() it. */
char *write_raw(struct host_fixture *f, const char *name, const void *bytes,
		size_t size);

/* ---- translations --------------------------------------------------------- */

/*
 * A privileged read of IOVA, inside the live leaf E of PGT: no fault, the
 * live iova_to_phys, E's extent, level, descriptor and prot.  X gets the
 * translation, for the checks of one format.
 */
void assert_leaf_agrees(struct host_fixture *f, struct iopgt_pgtable *pgt,
			struct iopgt_inspect *insp,
			const struct iopgt_walk_entry *e, uint64_t iova,
			struct iopgt_xlate *x);

/* A format's own checks of page OFF of leaf E, which translated as X. */
typedef void leaf_page_fn(void *data, struct iopgt_inspect *insp,
			  const struct iopgt_walk_entry *e, size_t off,
			  const struct iopgt_xlate *x);

/*
 * Every leaf of LIVE (the live walk's entries) read back through INSP:
 * each GRANULE page of it, at most 64 per leaf, TAIL bytes in, by
 * assert_leaf_agrees() and then PAGE_FN (NULL: none).
 * Returns: the number of pages read.
 */
unsigned int assert_leaves_agree(struct host_fixture *f,
				 struct iopgt_pgtable *pgt,
				 struct iopgt_inspect *insp, GArray *live,
				 size_t granule, size_t tail,
				 leaf_page_fn *page_fn, void *data);

/*
 * A privileged read of any IOVA agrees with PGT: the live PA where it is
 * mapped, else a translation fault with no descriptor.
 * Returns: whether IOVA is mapped.
 */
bool assert_probe_agrees(struct host_fixture *f, struct iopgt_pgtable *pgt,
			 struct iopgt_inspect *insp, uint64_t iova);

/* ---- faults and problems -------------------------------------------------- */

/* Translating IOVA for ACCESS reports exactly this fault, level and desc. */
void assert_fault(struct iopgt_inspect *insp, uint64_t iova,
		  unsigned int access, enum iopgt_fault fault, int level,
		  uint64_t desc, uint64_t desc_pa);

/* What check reported: a line per problem, in order. */
struct problems {
	GString *text;
	unsigned int n;
};

/* A check callback; data is a struct problems. */
void note_problem(void *data, const struct iopgt_problem_report *r);

#endif /* IOPGT_FOREIGN_FIXTURE_H */
