// SPDX-License-Identifier: MIT
/*
 * Nested walks (docs/inspect.md): a stage-1 inspector whose memory is an
 * IPA space, read through a stage-2 inspector over the physical memory,
 * as an SMMU walks a nested context.  Neither format knows the other:
 * stage 2 is just stage 1's only source, one read callback over all of
 * [0, 2^64) that translates each IPA before reading s2's own sources.
 * What made a read fail is kept here, so that a stage-1 walk abort can be
 * told apart: stage 2 refused the descriptor's IPA (a stage-2 fault, as
 * the SMMU reports it, with the stage-1 walk flagged) or stage 2 gave a
 * PA no source holds (an external abort on stage 1's walk).
 */
#include <errno.h>

#include "foreign.h"
#include "iopgt-internal.h"

enum nested_miss {
	NESTED_OK,		/* every read so far was served */
	NESTED_S2_FAULT,	/* stage 2 faulted on the IPA */
	NESTED_PA_ABORT,	/* stage 2 translated, the PA did not read */
};

struct nested {
	struct iopgt_host *host;	/* stage 1's, for messages */
	struct iopgt_inspect *s2;	/* owned */
	/* the last stage-2 translation a read made, and how it ended */
	enum nested_miss miss;
	uint64_t ipa;
	struct iopgt_xlate x;
};

/*
 * Stage 1's read: IPA by IPA, one stage-2 translation per stage-2 leaf the
 * range touches (each chunk runs to the leaf's end).  Stage 1's walk
 * fetches descriptors as data reads of the walker, unprivileged.
 */
static int nested_read(void *ctx, uint64_t ipa, size_t size, void *buf)
{
	struct nested *n = ctx;
	uint8_t *p = buf;

	while (size) {
		uint64_t left;
		size_t len;
		int ret;

		ret = iopgt_inspect_translate(n->s2, ipa, IOPGT_ACCESS_READ,
					      &n->x);
		if (ret < 0)
			return ret;
		n->ipa = ipa;
		if (n->x.fault != IOPGT_FAULT_NONE) {
			n->miss = NESTED_S2_FAULT;
			return -EFAULT;
		}
		/* a leaf that does not hold ipa would make no progress */
		if (ipa < n->x.base || ipa - n->x.base >= n->x.size) {
			ERR(n->host, "inspect: stage 2's format gave IPA 0x%"
			    G_GINT64_MODIFIER "x a leaf that does not hold it",
			    ipa);
			return -EPROTO;
		}
		left = n->x.size - (ipa - n->x.base);
		len = (uint64_t)size <= left ? size : (size_t)left;
		ret = iopgt_inspect_read(n->s2, n->x.oa, len, p);
		if (ret < 0) {
			n->miss = NESTED_PA_ABORT;
			return ret;
		}
		p += len;
		size -= len;
		ipa += len;
		if (size && !ipa)
			return -EFAULT;	/* wrapped past 2^64 */
	}
	return 0;
}

static void nested_free(void *ctx)
{
	struct nested *n = ctx;

	iopgt_inspect_free(n->s2);
	g_free(n);
}

int iopgt_inspect_set_stage2(struct iopgt_inspect *s1,
			     struct iopgt_inspect *s2)
{
	struct iopgt_host *host;
	struct nested *n;
	int ret;

	g_return_val_if_fail(s1 && s2, -EINVAL);
	host = iopgt_inspect_get_host(s1);
	if (iopgt_inspect_is_open(s1)) {
		ERR(host, "inspect: stage 1 is already open");
		return -EBUSY;
	}
	if (!iopgt_inspect_is_open(s2) ||
	    iopgt_inspect_get_source_ctx(s2, nested_read)) {
		ERR(host, "inspect: a stage 2 must be open and not nested "
		    "itself");
		return -EINVAL;
	}
	n = g_new0(struct nested, 1);
	n->host = host;
	n->s2 = s2;
	ret = iopgt_inspect_add_source_full(s1, "stage 2", 0, 0, nested_read,
					    n, nested_free);
	if (ret < 0)
		g_free(n);
	return ret;
}

/*
 * Stage 1 faulted: the last descriptor fetch's IPA and stage-2 result go
 * with it, and a walk abort stage 2 refused is stage 2's fault (a PA no
 * source holds stays stage 1's walk abort, as an external abort is).
 */
static void nested_s1_fault(const struct nested *n,
			    struct iopgt_nested_xlate *out)
{
	out->ipa = n->ipa;
	out->s2 = n->x;
	if (out->s1.fault == IOPGT_FAULT_WALK_ABORT &&
	    n->miss == NESTED_S2_FAULT) {
		out->stage = 2;
		out->s1_walk = true;
		out->s1_level = out->s1.level;
	}
}

int iopgt_inspect_translate_nested(struct iopgt_inspect *s1, uint64_t iova,
				   unsigned int access,
				   struct iopgt_nested_xlate *out)
{
	struct nested *n;
	int ret;

	g_return_val_if_fail(s1 && out, -EINVAL);
	n = iopgt_inspect_get_source_ctx(s1, nested_read);
	if (!n || !iopgt_inspect_is_open(s1))
		return -EINVAL;
	*out = (struct iopgt_nested_xlate){ .stage = 1 };
	n->miss = NESTED_OK;
	n->ipa = 0;
	n->x = (struct iopgt_xlate){ .desc_pa = UINT64_MAX };
	ret = iopgt_inspect_translate(s1, iova, access, &out->s1);
	if (ret < 0)
		return ret;
	if (out->s1.fault != IOPGT_FAULT_NONE) {
		nested_s1_fault(n, out);
		return 0;
	}
	/* the output: an IPA, translated for the caller's access */
	out->ipa = out->s1.oa;
	ret = iopgt_inspect_translate(n->s2, out->ipa, access, &out->s2);
	if (ret < 0)
		return ret;
	out->stage = out->s2.fault == IOPGT_FAULT_NONE ? 0 : 2;
	if (!out->stage)
		out->pa = out->s2.oa;
	return 0;
}
