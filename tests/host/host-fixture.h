/* SPDX-License-Identifier: MIT */
/*
 * HostFixture for the /host/ test binaries: a fresh host with its log
 * captured at debug priority, a private temporary directory, and a
 * teardown that asserts the test left no table, no table memory and no
 * host reference behind.
 *
 * Fixture plugins live in subdirectories of $IOPGT_TEST_FIXTURE_DIR (see
 * tests/fixtures/CMakeLists.txt): good/, broken/, crash/, lifecycle/,
 * mixed/.
 */
#ifndef IOPGT_HOST_FIXTURE_H
#define IOPGT_HOST_FIXTURE_H

#include <glib.h>

#include <iopgt/host-glib.h>

#include "test-util.h"

struct host_fixture {
	struct iopgt_host *host;	/* NULL if the test already freed it */
	struct log_capture log;
	char *tmpdir;			/* removed with its contents */
	char *marker;			/* $IOPGT_FIXTURE_MARKER, in tmpdir */
};

void host_fixture_setup(struct host_fixture *f, gconstpointer data);
void host_fixture_teardown(struct host_fixture *f, gconstpointer data);

/* g_test_add() with the HostFixture. */
#define host_test_add(path, func)                                          \
	g_test_add((path), struct host_fixture, NULL, host_fixture_setup,  \
		   (func), host_fixture_teardown)

/* $IOPGT_TEST_FIXTURE_DIR/SUB, and .../SUB/NAME.so; g_free() them. */
char *fixture_dir(const char *sub);
char *fixture_so(const char *sub, const char *name);

/* Install fixture SUB/NAME.so as DIR/NAME.so through a rename, so it is a
 * new file (a new inode: what a reload needs). */
void fixture_install_new(struct host_fixture *f, const char *sub,
			 const char *name, const char *dir);

/* Copy fixture SUB/NAME.so into DIR (created if needed). */
void fixture_copy_to(const char *sub, const char *name, const char *dir);

/* Write text to tmpdir/NAME and return the path; g_free() it. */
char *host_fixture_write(struct host_fixture *f, const char *name,
			 const char *text);

/* Assert that some captured log line is exactly LINE ("err: ..."). */
#define assert_logged(f, line) \
	host_fixture_assert_logged((f), (line), __FILE__, __LINE__)
void host_fixture_assert_logged(struct host_fixture *f, const char *line,
				const char *file, int lineno);
/* Number of captured lines exactly equal to LINE. */
unsigned int host_fixture_count_logged(struct host_fixture *f,
				       const char *line);

/* The marker file's text ("" if no hook wrote it); g_free() it. */
char *host_fixture_read_marker(struct host_fixture *f);

/* Is this file mapped into the process?  dlopen(RTLD_NOLOAD), independent
 * of the host's own check. */
bool fixture_is_mapped(const char *path);

/*
 * A table of a fake format (tests/fixtures/plugins/fake-format.h) with its
 * default geometry, coherent walk, no TLB callbacks, labelled LABEL (if not
 * NULL).  Returns: what iopgt_pgtable_new() returned.
 */
int fake_table_new(struct iopgt_host *host, const char *format,
		   const char *label, struct iopgt_pgtable **out);

/* Map one 4 KiB page and check it translates (with an offset). */
void assert_fake_table_works(struct iopgt_host *host,
			     struct iopgt_pgtable *pgt);

/* The plugin must be in STATE with exactly ERROR (NULL: no error). */
#define assert_plugin(p, state, error)                                     \
	do {                                                               \
		const struct iopgt_plugin *p_ = (p);                       \
		g_assert_nonnull(p_);                                      \
		g_assert_cmpstr(iopgt_plugin_state_to_string(              \
					iopgt_plugin_get_state(p_)), ==,   \
				iopgt_plugin_state_to_string(state));      \
		g_assert_cmpstr(iopgt_plugin_get_error(p_), ==, (error));  \
	} while (0)

/* NULL-terminated list of format names, compared exactly. */
void assert_strv(char **got, const char *const *want);

#endif /* IOPGT_HOST_FIXTURE_H */
