/* SPDX-License-Identifier: MIT */
/*
 * What the host gives a format instead of kernel APIs: page-table memory
 * (the host's simulated physical memory or an embedder's, with an address
 * limit per request), phys<->virt translation, the DMA-sync
 * hook for non-coherent walkers, small-object memory and logging.
 *
 * A plugin links against nothing from the host: it reaches all of this
 * through the function table below, handed to it at registration and at
 * every table allocation (struct iopgt_env).
 */
#ifndef IOPGT_HOST_SERVICES_H
#define IOPGT_HOST_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One table's memory account in the host (opaque). */
struct iopgt_mem;

/* Log priorities: syslog numbers, as libkmod uses. */
#define IOPGT_LOG_ERR		3
#define IOPGT_LOG_WARNING	4
#define IOPGT_LOG_INFO		6
#define IOPGT_LOG_DEBUG		7

/*
 * alloc_pages flags.  The address limit (ABI 1.2) is what a walker can
 * reach: a format whose table pointers or base register hold n bits asks
 * for IOPGT_MEM_MAX_BITS(n), and the whole block then lies below 2^n PA,
 * whichever memory backs the table (the host's simulated memory, a
 * caller's region or a caller's allocator).  0 in bits 8..15: no limit.
 * IOPGT_MEM_DMA32 (ABI 1.0) means the same as IOPGT_MEM_MAX_BITS(32); a
 * 1.0 or 1.1 host ignores bits 8..15, so a format that needs the limit
 * checks the PA it got, as the bundled ones do.
 */
#define IOPGT_MEM_DMA32		(1U << 0)	/* whole block below 4 GiB PA */
#define IOPGT_MEM_MAX_BITS(n)	((unsigned int)(n) << 8)
#define IOPGT_MEM_FLAGS_MAX_BITS(flags)	(((flags) >> 8) & 0xffU)

struct iopgt_host_services {
	uint32_t struct_size;	/* sizeof(struct iopgt_host_services) */
	uint32_t reserved0;

	/*
	 * Zeroed page-table memory.  size is rounded up to a power-of-two
	 * number of 4 KiB pages.  Alignment guarantee: the block's PA is
	 * aligned to that rounded size, and its VA to 4 KiB (to the rounded
	 * size too in the simulated memory; a caller's region keeps its own
	 * va - pa offset).  With an address limit in flags the whole block
	 * lies below it.  Returns NULL when the memory (or its limit)
	 * refuses: the format returns -ENOMEM.
	 */
	void *(*alloc_pages)(struct iopgt_mem *mem, size_t size,
			     unsigned int flags);
	/* Give back a block from alloc_pages, with the size asked for. */
	void (*free_pages)(struct iopgt_mem *mem, void *va, size_t size);

	/* Zeroed small-object memory for format state (not table memory). */
	void *(*zalloc)(struct iopgt_mem *mem, size_t size);
	void (*free)(struct iopgt_mem *mem, void *ptr);

	/*
	 * Make [va, va + size) of table memory visible to a non-coherent
	 * walker (dma_sync_single_for_device).  Formats call it after every
	 * table write when cfg.coherent_walk is false, before the entry can
	 * be reached by the walker; the host passes each call, in order, to
	 * the embedder's hook (iopgt_host_set_dma_sync_fn).
	 */
	void (*dma_sync)(struct iopgt_mem *mem, const void *va, size_t size);

	/* printf-style log into the host's log function. */
	void (*log)(void *log_ctx, int prio, const char *file, int line,
		    const char *fn, const char *format, ...)
		__attribute__((format(printf, 6, 7)));

	void *reserved[8];
};

/*
 * The environment of one table, owned by the host, valid from alloc until
 * free returns.  Table memory is mapped linearly: va = pa + pa_to_va, so
 * formats translate with the inline helpers below on their hot paths.  A
 * table's memory all comes from one provider, which keeps that offset
 * constant for the table's life.
 */
struct iopgt_env {
	const struct iopgt_host_services *svc;
	struct iopgt_mem *mem;
	void *log_ctx;
	uint64_t pa_to_va;
};

static inline void *iopgt_phys_to_virt(const struct iopgt_env *env,
				       uint64_t pa)
{
	return (void *)(uintptr_t)(pa + env->pa_to_va);
}

static inline uint64_t iopgt_virt_to_phys(const struct iopgt_env *env,
					  const void *va)
{
	return (uint64_t)(uintptr_t)va - env->pa_to_va;
}

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

/*
 * ISO C11 without GNU extensions (no ", ##__VA_ARGS__"): the format is
 * split off the arguments with a counting macro, so that pr_fmt() applies
 * to it and a call without arguments needs no empty __VA_ARGS__.  Up to 14
 * arguments after the format.
 */
#define IOPGT_PP_ARG16(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12,   \
		       a13, a14, a15, a16, ...) a16
#define IOPGT_PP_ARITY(...)                                                   \
	IOPGT_PP_ARG16(__VA_ARGS__, MORE, MORE, MORE, MORE, MORE, MORE, MORE, \
		       MORE, MORE, MORE, MORE, MORE, MORE, MORE, ONE, _)
#define IOPGT_PP_CAT_(a, b)		a##b
#define IOPGT_PP_CAT(a, b)		IOPGT_PP_CAT_(a, b)
#define IOPGT_PP_FMT_ONE(fmt)		pr_fmt(fmt)
#define IOPGT_PP_FMT_MORE(fmt, ...)	pr_fmt(fmt), __VA_ARGS__
/* "fmt, args..." with pr_fmt applied to fmt */
#define IOPGT_PR_FMT(...) \
	IOPGT_PP_CAT(IOPGT_PP_FMT_, IOPGT_PP_ARITY(__VA_ARGS__))(__VA_ARGS__)

/* iopgt_env_log(env, prio, fmt, args...): no pr_fmt prefix */
#define iopgt_env_log(env, prio, ...)                                         \
	(env)->svc->log((env)->log_ctx, (prio), __FILE__, __LINE__, __func__, \
			__VA_ARGS__)
/* iopgt_env_err/warn/dbg(env, fmt, args...), fmt prefixed by pr_fmt() */
#define iopgt_env_err(env, ...) \
	iopgt_env_log(env, IOPGT_LOG_ERR, IOPGT_PR_FMT(__VA_ARGS__))
#define iopgt_env_warn(env, ...) \
	iopgt_env_log(env, IOPGT_LOG_WARNING, IOPGT_PR_FMT(__VA_ARGS__))
#define iopgt_env_dbg(env, ...) \
	iopgt_env_log(env, IOPGT_LOG_DEBUG, IOPGT_PR_FMT(__VA_ARGS__))

/* IOPGT_WARN_ON's cold half: say it, and be true. */
static inline int iopgt_warn_on_(const struct iopgt_env *env,
				 const char *text, const char *file, int line,
				 const char *fn)
{
	env->svc->log(env->log_ctx, IOPGT_LOG_WARNING, file, line, fn, "%s",
		      text);
	return 1;
}

/*
 * WARN_ON for formats: logs the condition (as a warning: the caller gets an
 * error code, the process never aborts) and evaluates to it, 0 or 1.  The
 * condition is tested where it is written, once; no statement expression,
 * so that ISO C compilers take it.
 */
#define IOPGT_WARN_ON(env, cond)                                        \
	((cond) ? iopgt_warn_on_((env), pr_fmt("WARN_ON(" #cond ")"),   \
				 __FILE__, __LINE__, __func__) : 0)

#ifdef __cplusplus
}
#endif

#endif /* IOPGT_HOST_SERVICES_H */
