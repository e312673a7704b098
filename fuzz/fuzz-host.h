/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share: invariant checks that abort (a finding for
 * libFuzzer), the process environment, and a fresh host per input with
 * both format plugins built in.
 */
#ifndef IOPGT_FUZZ_HOST_H
#define IOPGT_FUZZ_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <iopgt/host.h>

/*
 * The descriptors of plugins/lpae and plugins/v7s.  Both plugins name
 * theirs iopgt_plugin_desc; fuzz/CMakeLists.txt renames the symbol in a
 * copy of each NAME-static library so that both fit in one program.
 */
extern const struct iopgt_plugin_desc iopgt_fuzz_lpae_desc;
extern const struct iopgt_plugin_desc iopgt_fuzz_v7s_desc;

/*
 * Simulated memory per input.  Physical memory starts at 2 GiB, so the
 * 2 GiB DMA32 zone plus 128 MiB above 4 GiB: tables land above 4 GiB as
 * they would on a real machine (v7s's MTK_TTBR_EXT tables included) and
 * DMA32 requests below.  Only what is touched costs anything.  No input
 * can make its tables take more than FUZZ_MEM_LIMIT, so a run stays within
 * libFuzzer's RSS limit and an allocation storm ends in -ENOMEM.
 */
#define FUZZ_MEM_SIZE	((2ULL << 30) + (128ULL << 20))
#define FUZZ_MEM_LIMIT	(32ULL << 20)

/*
 * IOPGT_FUZZ_VERBOSE set: the targets say what each input did, on stderr
 * (LLVMFuzzerInitialize() reads it).
 */
extern bool fuzz_verbose;
#define FUZZ_TRACE(...)                                                      \
	do {                                                                 \
		if (fuzz_verbose)                                            \
			fprintf(stderr, __VA_ARGS__);                        \
	} while (0)

/*
 * A broken invariant: say which on fd 2 (the targets may point stderr at
 * /dev/null) and abort, which libFuzzer reports as a crash with the input.
 */
#define FUZZ_CHECK(cond, ...)                                                \
	do {                                                                 \
		if (!(cond))                                                 \
			fuzz_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
	} while (0)

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...) __attribute__((noreturn, format(printf, 4, 5)));

/* The input, read front to back; past its end every byte reads as 0. */
struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_get8(struct fuzz_input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Eight bytes, little-endian. */
static inline uint64_t fuzz_get64(struct fuzz_input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)fuzz_get8(in) << (8 * i);
	return v;
}

/*
 * libFuzzer's entry points.  fuzz-host.c defines LLVMFuzzerInitialize():
 * once per process, no plugin path or log level from the caller's
 * environment, GLib allocations that LeakSanitizer can account for, GLib
 * criticals and warnings (a programmer error in the code under test) made
 * fatal, then the target's fuzz_target_init() if it has one.  Each target
 * defines LLVMFuzzerTestOneInput().
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, per target: more set-up once per process (fuzz_verbose is
 * set by then). */
void fuzz_target_init(void);

/*
 * A fresh host for one input: both formats registered as built-ins, no
 * plugin directories and no probing (so nothing is ever dlopen()ed or
 * forked), FUZZ_MEM_SIZE of memory with FUZZ_MEM_LIMIT for tables.  fn
 * receives the host's log (NULL: each message is formatted, then
 * dropped).
 */
struct iopgt_host *fuzz_host_new(iopgt_log_fn fn, void *data);

/* Unref the last reference, and check that it was the last. */
void fuzz_host_free(struct iopgt_host *host);

#endif
