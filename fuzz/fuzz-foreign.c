// SPDX-License-Identifier: MIT
/*
 * fuzz-foreign: the foreign walk (docs/inspect.md) of every format that
 * has one, over registers and a memory image that are all input: the
 * reader must not trust either (issue 15, "hostile images").
 *
 * Input (little-endian; missing bytes read as 0):
 *
 *   f0      bits 0-2: format, % 6 of formats[] (one without a foreign op
 *           is refused with -EOPNOTSUPP and the input ends there);
 *           bit 3: nested over a stage 2 (iopgt_inspect_set_stage2);
 *           bit 4: that stage 2 is arm-32-lpae-s2, else arm-64-lpae-s2
 *   f1      number of registers, f1 % (MAX_REGS + 1), then for each:
 *           1 byte key (% of reg_keys[]), 8 bytes value
 *   (nested only) the stage 2's registers, laid out as f1's
 *   p0      number of probes, p0 % (MAX_PROBES + 1), then for each:
 *           8 bytes iova, 1 byte access (% of accesses[])
 *   8 bytes the image's PA
 *   rest    the image: memory at that PA, nothing anywhere else
 *
 * The image is a source of the caller's (iopgt_inspect_add_source) read
 * straight from the input, so a run costs what the format reads and no
 * file.  For an opened walk: each probe translates (through both stages
 * when nested), then walk and check run over the whole image.
 *
 * Checked: open refuses only with -EINVAL; every read asked of the source
 * lies inside it; translate returns 0 and a mapping that contains its
 * iova with the iova's offset; check's count equals the problems it
 * reported; walk ends with 0 or -E2BIG; every leaf the walk lists
 * translates, when it does, through that very descriptor (walk and
 * translate are two paths through the same tables), unless check finds
 * a problem in the image; reads stay within
 * a bound linear in the image (each table entered once).
 *
 * fuzz/gen-foreign-seeds.py writes the seeds: tables of each format built
 * by hand in this layout.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <iopgt/bits.h>

#include "fuzz-host.h"

#define MAX_REGS	16
#define MAX_PROBES	8
#define F_FORMAT	0x07
#define F_NESTED	0x08
#define F_S2_32		0x10
/* walk's leaves checked against translate, at most */
#define MAX_LEAF_CHECKS	256

/* The order of fuzz-pgtable and of the seed generator. */
static const char *const formats[] = {
	"arm-64-lpae-s1", "arm-64-lpae-s2", "arm-32-lpae-s1",
	"arm-32-lpae-s2", "arm-mali-lpae", "arm-v7s",
};

/* Every register and cfg key a format's open reads (docs/inspect.md);
 * append only: the seeds index it. */
static const char *const reg_keys[] = {
	"ttbr", "tcr.tg", "tcr.tsz", "tcr.ips", "mair",
	"vttbr", "vtcr.tg", "vtcr.tsz", "vtcr.ps", "vtcr.sl",
	"transtab", "memattr", "ias", "oas", "quirks",
	"tcr", "nmrr", "prrr", "pgsize_bitmap",
};

/* Valid accesses, and a few the op must refuse with -EINVAL. */
static const unsigned int accesses[] = {
	IOPGT_ACCESS_READ, IOPGT_ACCESS_WRITE, IOPGT_ACCESS_EXEC,
	IOPGT_ACCESS_READ | IOPGT_ACCESS_PRIV,
	IOPGT_ACCESS_WRITE | IOPGT_ACCESS_PRIV,
	IOPGT_ACCESS_EXEC | IOPGT_ACCESS_PRIV,
	0, IOPGT_ACCESS_PRIV, IOPGT_ACCESS_READ | IOPGT_ACCESS_WRITE,
	1U << 7,
};
#define N_VALID_ACCESSES	6

/* ---- the image as a source ---------------------------------------------- */

struct image {
	uint64_t pa;
	const uint8_t *bytes;
	size_t size;
	uint64_t reads;
	uint64_t read_bytes;
};

static int image_read(void *ctx, uint64_t pa, size_t size, void *buf)
{
	struct image *im = ctx;

	/* the host splits a read at a source's edges: never outside it */
	FUZZ_CHECK(pa >= im->pa && size <= im->size &&
		   pa - im->pa <= im->size - size,
		   "read [0x%" G_GINT64_MODIFIER "x +0x%zx) of a source at 0x%"
		   G_GINT64_MODIFIER "x +0x%zx", pa, size, im->pa, im->size);
	memcpy(buf, im->bytes + (pa - im->pa), size);
	im->reads++;
	im->read_bytes += size;
	return 0;
}

/* ---- what is checked ----------------------------------------------------- */

static void check_translation(uint64_t iova, unsigned int access, int ret,
			      const struct iopgt_xlate *x)
{
	if (access >= 1U << 7 || !access ||
	    __builtin_popcount(access & 7) != 1) {
		FUZZ_CHECK(ret == -EINVAL, "access 0x%x: %d", access, ret);
		return;
	}
	FUZZ_CHECK(ret == 0, "translate: %d", ret);
	FUZZ_CHECK(x->fault <= IOPGT_FAULT_WALK_ABORT, "fault %d", x->fault);
	if (x->fault != IOPGT_FAULT_NONE)
		return;
	FUZZ_CHECK(x->size && !(x->size & (x->size - 1)) &&
		   !(x->base & (x->size - 1)) && iova - x->base < x->size,
		   "0x%" G_GINT64_MODIFIER "x in [0x%" G_GINT64_MODIFIER
		   "x +0x%" G_GINT64_MODIFIER "x)", iova, x->base, x->size);
	FUZZ_CHECK((x->oa & (x->size - 1)) == (iova & (x->size - 1)),
		   "oa 0x%" G_GINT64_MODIFIER "x for iova 0x%"
		   G_GINT64_MODIFIER "x", x->oa, iova);
}

struct run {
	struct iopgt_inspect *insp;
	unsigned int leaves;
	unsigned int problems;
	uint64_t entries;
	bool disagree;		/* walk and translate read different leaves */
};

/*
 * A leaf the walk lists reads, on translate's own path, as that leaf; the
 * one exception is an image check calls broken (a replicated group whose
 * replicas differ lists the group once, at its first iova), so a
 * disagreement is remembered and check must then find something.
 */
static int check_leaf(void *data, const struct iopgt_walk_entry *e)
{
	struct run *r = data;
	struct iopgt_xlate x;
	int ret;

	r->entries++;
	if (e->kind != IOPGT_ENTRY_LEAF || r->leaves >= MAX_LEAF_CHECKS)
		return 0;
	r->leaves++;
	ret = iopgt_inspect_translate(r->insp, e->iova, IOPGT_ACCESS_READ |
				      IOPGT_ACCESS_PRIV, &x);
	FUZZ_CHECK(ret == 0, "translate of a leaf: %d", ret);
	if (x.fault == IOPGT_FAULT_NONE &&
	    (x.desc != e->raw || x.level != e->level)) {
		FUZZ_TRACE("leaf L%d 0x%" G_GINT64_MODIFIER "x at 0x%"
		      G_GINT64_MODIFIER "x translates through L%d 0x%"
		      G_GINT64_MODIFIER "x\n", e->level, e->raw, e->iova,
		      x.level, x.desc);
		r->disagree = true;
	}
	return 0;
}

static const struct iopgt_walk_ops leaf_ops = { .entry = check_leaf };

static void count_problem(void *data, const struct iopgt_problem_report *p)
{
	struct run *r = data;

	FUZZ_CHECK(p->kind >= IOPGT_PROBLEM_READ &&
		   p->kind <= IOPGT_PROBLEM_LIMIT, "problem %d", p->kind);
	FUZZ_CHECK(p->what && *p->what);
	r->problems++;
}

/* Both stages: the output keeps iova's offset in the smaller leaf. */
static void check_nested(uint64_t iova, unsigned int access, int ret,
			 const struct iopgt_nested_xlate *n)
{
	uint64_t mask;

	check_translation(iova, access, ret, &n->s1);
	if (ret)
		return;
	FUZZ_CHECK(n->stage >= 0 && n->stage <= 2, "stage %d", n->stage);
	FUZZ_CHECK(!n->s1_walk || n->stage == 2, "s1_walk at stage %d",
		   n->stage);
	if (n->stage == 1)
		FUZZ_CHECK(n->s1.fault != IOPGT_FAULT_NONE);
	if (n->stage == 2)
		FUZZ_CHECK(n->s2.fault != IOPGT_FAULT_NONE);
	if (n->stage)
		return;
	FUZZ_CHECK(n->s1.fault == IOPGT_FAULT_NONE &&
		   n->s2.fault == IOPGT_FAULT_NONE && n->ipa == n->s1.oa);
	check_translation(n->ipa, access, 0, &n->s2);
	mask = MIN(n->s1.size, n->s2.size) - 1;
	FUZZ_CHECK(n->pa == n->s2.oa && (n->pa & mask) == (iova & mask),
		   "pa 0x%" G_GINT64_MODIFIER "x for iova 0x%"
		   G_GINT64_MODIFIER "x", n->pa, iova);
}

/* One translation of a table over the image. */
static void probe_flat(struct run *r, const struct image *im, uint64_t iova,
		       unsigned int access)
{
	uint64_t reads = im->reads;
	struct iopgt_xlate x;
	int ret;

	ret = iopgt_inspect_translate(r->insp, iova, access, &x);
	FUZZ_TRACE("translate 0x%" G_GINT64_MODIFIER "x 0x%x: %d %s L%d oa 0x%"
	      G_GINT64_MODIFIER "x\n", iova, access, ret,
	      iopgt_fault_name(x.fault), x.level, x.oa);
	check_translation(iova, access, ret, &x);
	/* a level per read: a translation never re-reads */
	FUZZ_CHECK(im->reads - reads <= 8, "%" G_GINT64_MODIFIER "u reads "
		   "for one translation", im->reads - reads);
}

/* One translation through both stages. */
static void probe_nested(struct run *r, uint64_t iova, unsigned int access)
{
	struct iopgt_nested_xlate n = { 0 };
	int ret;

	ret = iopgt_inspect_translate_nested(r->insp, iova, access, &n);
	FUZZ_TRACE("nested 0x%" G_GINT64_MODIFIER "x 0x%x: %d stage %d%s pa 0x%"
	      G_GINT64_MODIFIER "x\n", iova, access, ret, n.stage,
	      n.s1_walk ? " (s1 walk)" : "", n.pa);
	check_nested(iova, access, ret, &n);
}

static void run_walks(struct run *r, struct fuzz_input *in, struct image *im,
		      unsigned int probes, bool nested)
{
	int ret;

	for (unsigned int i = 0; i < probes; i++) {
		uint64_t iova = fuzz_get64(in);
		unsigned int access = accesses[fuzz_get8(in) %
					       G_N_ELEMENTS(accesses)];

		if (nested)
			probe_nested(r, iova, access);
		else
			probe_flat(r, im, iova, access);
	}
	ret = iopgt_inspect_walk(r->insp, &leaf_ops, r);
	FUZZ_CHECK(ret == 0 || ret == -E2BIG, "walk: %d", ret);
	FUZZ_TRACE("walk: %d, %" G_GINT64_MODIFIER "u entries\n", ret, r->entries);
	ret = iopgt_inspect_check(r->insp, count_problem, r);
	FUZZ_TRACE("check: %d\n", ret);
	FUZZ_CHECK(ret >= 0 && (unsigned int)ret == r->problems,
		   "check returned %d after %u reports", ret, r->problems);
	FUZZ_CHECK(!r->disagree || r->problems,
		   "walk and translate disagree on an image check passes");
}

/* A register block of the input into insp.  Returns: how many. */
static unsigned int set_regs(struct iopgt_inspect *insp, struct fuzz_input *in)
{
	unsigned int n = fuzz_get8(in) % (MAX_REGS + 1);

	for (unsigned int i = 0; i < n; i++) {
		const char *key = reg_keys[fuzz_get8(in) % G_N_ELEMENTS(reg_keys)];

		FUZZ_CHECK(iopgt_inspect_set_reg(insp, key, fuzz_get64(in)) == 0);
	}
	return n;
}

/*
 * Open *s2 as format and put it under s1, which then owns it.  Returns:
 * false (and *s2 freed) when its registers describe nothing.
 */
static bool nest(struct iopgt_inspect *s1, struct iopgt_inspect **s2,
		 const char *format)
{
	int ret = iopgt_inspect_open(*s2, format);

	FUZZ_TRACE("stage 2 %s: %d\n", format, ret);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "open %s: %d", format, ret);
	if (!ret) {
		ret = iopgt_inspect_set_stage2(s1, *s2);
		FUZZ_CHECK(ret == 0, "set_stage2: %d", ret);
	}
	if (ret)
		iopgt_inspect_free(*s2);
	*s2 = NULL;
	return !ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct iopgt_host *host = fuzz_host_new(NULL, NULL);
	uint8_t f0 = fuzz_get8(&in);
	const char *format = formats[(f0 & F_FORMAT) % G_N_ELEMENTS(formats)];
	bool nested = f0 & F_NESTED;
	struct iopgt_inspect *s2 = NULL;
	struct image im = { 0 };
	struct run r = { 0 };
	struct fuzz_input probe_in;
	unsigned int nregs, probes;
	int ret;

	FUZZ_CHECK(iopgt_inspect_new(host, &r.insp) == 0);
	nregs = set_regs(r.insp, &in);
	if (nested) {
		FUZZ_CHECK(iopgt_inspect_new(host, &s2) == 0);
		set_regs(s2, &in);
	}
	probes = fuzz_get8(&in) % (MAX_PROBES + 1);
	/* the probes come before the image: read them when they are used */
	probe_in = in;
	for (unsigned int i = 0; i < probes * 9; i++)
		fuzz_get8(&in);
	im.pa = fuzz_get64(&in);
	im.bytes = in.p;
	im.size = in.n;
	ret = im.size ? iopgt_inspect_add_source(nested ? s2 : r.insp, im.pa,
						 im.size, image_read, &im) : 0;
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "add_source: %d", ret);
	if (nested && !nest(r.insp, &s2, f0 & F_S2_32 ? "arm-32-lpae-s2" :
							 "arm-64-lpae-s2")) {
		iopgt_inspect_free(r.insp);
		fuzz_host_free(host);
		return 0;
	}
	ret = iopgt_inspect_open(r.insp, format);
	FUZZ_TRACE("open %s, %u registers, %zu bytes at 0x%" G_GINT64_MODIFIER
	      "x: %d\n", format, nregs, im.size, im.pa, ret);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -EOPNOTSUPP,
		   "open %s: %d", format, ret);
	if (!ret) {
		run_walks(&r, &probe_in, &im, probes, nested);
		/*
		 * Walk and check enter each table once, and only a table
		 * that lies whole in the image is read from it: at most one
		 * read per byte of image each, whatever the pointers say;
		 * the translations add a level each.
		 */
		FUZZ_CHECK(nested ||
			   im.reads <= 2 * ((uint64_t)im.size + 1) +
					(probes + MAX_LEAF_CHECKS) * 8,
			   "%" G_GINT64_MODIFIER "u reads of a %zu-byte image",
			   im.reads, im.size);
	}
	iopgt_inspect_free(r.insp);
	fuzz_host_free(host);
	return 0;
}
