/* SPDX-License-Identifier: MIT */
/*
 * Shared test doubles: a recording TLB (dummy_tlb_ops that checks the
 * cookie and remembers every call) and a log capture for the host.
 */
#ifndef IOPGT_TEST_UTIL_H
#define IOPGT_TEST_UTIL_H

#include <glib.h>

#include <iopgt/host.h>

/* "MAJOR.MINOR" of the plugin ABI these tests are built with. */
#define TEST_ABI	IOPGT_PLUGIN_STR(IOPGT_ABI_MAJOR) "." \
			IOPGT_PLUGIN_STR(IOPGT_ABI_MINOR)

struct tlb_call {
	unsigned long iova;
	size_t size;
	size_t granule;
};

/* Pass &rec as the table cookie and &tlb_recorder_ops as cfg.tlb. */
struct tlb_recorder {
	unsigned int flush_all;
	GArray *walks;			/* struct tlb_call: tlb_flush_walk */
	GArray *pages;			/* struct tlb_call: tlb_add_page */
	unsigned int bad_cookie;	/* callbacks that got another cookie */
};

extern const struct iopgt_flush_ops tlb_recorder_ops;
void tlb_recorder_init(struct tlb_recorder *rec);
void tlb_recorder_reset(struct tlb_recorder *rec);
void tlb_recorder_clear(struct tlb_recorder *rec);

/* Every message the host logs, as "PRIO: text" lines (PRIO err/warning/...). */
struct log_capture {
	GRecMutex lock;		/* pthread-based: visible to TSan */
	GPtrArray *lines;
	bool echo;			/* also print with g_test_message() */
};

void log_capture_init(struct log_capture *cap);
void log_capture_clear(struct log_capture *cap);
void log_capture_attach(struct log_capture *cap, struct iopgt_host *host);
/* Number of captured lines containing needle. */
unsigned int log_capture_count(struct log_capture *cap, const char *needle);
/* Joined lines, for assertion messages; g_free() it. */
char *log_capture_dump(struct log_capture *cap);

/*
 * Every table and entry of a table as text, in walk order (g_free it).
 * Equal texts mean equal tables: tests take one before and after an
 * operation that must change nothing.
 */
char *walk_to_text(struct iopgt_host *host, struct iopgt_pgtable *pgt);

/* Directories from the CTest environment (see cmake/IopgtTesting.cmake). */
const char *test_plugin_dir(void);
const char *test_fixture_dir(void);

/*
 * Assert got is the walk entry want: every field, prot too unless
 * with_prot is false (a caller that checks prot its own way).
 */
void assert_walk_entry_equal(const struct iopgt_walk_entry *want,
			     const struct iopgt_walk_entry *got,
			     bool with_prot);

#endif
