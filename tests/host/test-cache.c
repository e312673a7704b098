// SPDX-License-Identifier: MIT
/*
 * /host/cache/...: the probe and metadata cache file (host/cache.c).
 *
 * The cache path comes from the user (--cache, $XDG_CACHE_HOME): whatever
 * is there that is not an iopgt cache must survive a write byte for byte
 * and inode for inode, and reading must never block or be believed when
 * the file was cut short.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "iopgt-internal.h"

struct fixture {
	char *dir;
	char *path;		/* dir/cache */
	struct iopgt_cache *c;
	char *why;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->dir = g_dir_make_tmp("cache-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "cache", NULL);
	f->c = iopgt_cache_new();
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
	const char *name;

	(void)data;
	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(f->dir, name, NULL);

		if (g_remove(p))
			rmdir(p);
	}
	g_assert_cmpint(rmdir(f->dir), ==, 0);	/* no temp file left */
	iopgt_cache_free(f->c);
	g_free(f->why);
	g_free(f->path);
	g_free(f->dir);
}

/* One entry, as a scan would leave it. */
static void add_entry(struct iopgt_cache *c, const char *path, uint64_t ino)
{
	struct iopgt_file_id id = { .dev = 1, .ino = ino, .size = 42 };
	struct iopgt_cache_entry *e = iopgt_cache_get(c, path, &id);

	e->probed = true;
	e->seen = g_new0(struct iopgt_plugin_info, 1);
	e->seen->name = g_strdup("p");
	e->seen->provides = g_strsplit("fmt-a;fmt-b", ";", -1);
	e->seen->softdeps = g_new0(char *, 1);
}

/*
 * Refused twice over: reading it detached the file (the cache goes on in
 * memory, nothing is written, the warning was said once), and a second
 * cache set on the path while it did not exist yet, with the object
 * appearing before the write (a race), is refused by the write itself.
 */
static void assert_refused(struct fixture *f, int err, const char *problem)
{
	g_autofree char *want = g_strdup_printf("%s: not replaced: %s",
						f->path, problem);
	g_autofree char *gone = g_strdup_printf("%s.moved", f->path);
	struct iopgt_cache *late = iopgt_cache_new();
	g_autofree char *why = NULL;

	g_clear_pointer(&f->why, g_free);
	add_entry(f->c, "/x/p.so", 7);
	g_assert_cmpint(iopgt_cache_flush(f->c, &f->why), ==, 0);
	g_assert_null(f->why);
	g_assert_cmpuint(iopgt_cache_writes(f->c), ==, 0);

	/* the object leaves and comes back between read and write */
	g_assert_cmpint(rename(f->path, gone), ==, 0);
	g_assert_cmpint(iopgt_cache_set_file(late, f->path, &why), ==, 0);
	g_assert_cmpint(rename(gone, f->path), ==, 0);
	add_entry(late, "/x/p.so", 7);
	g_assert_cmpint(iopgt_cache_flush(late, &why), ==, err);
	g_assert_cmpstr(why, ==, want);
	g_assert_cmpuint(iopgt_cache_writes(late), ==, 0);
	iopgt_cache_free(late);
}

/* ---- F24: never replace what is not ours --------------------------------- */

static void test_user_file_untouched(struct fixture *f, gconstpointer data)
{
	static const char notes[] = "my notes\n";
	g_autofree char *after = NULL;
	struct stat before, now;

	(void)data;
	g_test_summary("F24: --cache notes.txt: a regular file without the "
		       "cache header is refused and left byte for byte");
	g_assert_true(g_file_set_contents(f->path, notes, -1, NULL));
	g_assert_cmpint(stat(f->path, &before), ==, 0);
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==,
			-EBADMSG);
	assert_refused(f, -EEXIST, "not an iopgt cache file (no header line)");
	g_assert_true(g_file_get_contents(f->path, &after, NULL, NULL));
	g_assert_cmpstr(after, ==, notes);
	g_assert_cmpint(stat(f->path, &now), ==, 0);
	g_assert_cmpuint(now.st_ino, ==, before.st_ino);
}

static void test_symlink_untouched(struct fixture *f, gconstpointer data)
{
	g_autofree char *target = g_build_filename(f->dir, "target", NULL);
	g_autofree char *link = NULL;
	g_autofree char *after = NULL;

	(void)data;
	g_test_summary("F24: a symlink as cache is refused; link and target "
		       "are left alone");
	g_assert_true(g_file_set_contents(target, "", -1, NULL));
	g_assert_cmpint(symlink("target", f->path), ==, 0);
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==,
			-ELOOP);
	assert_refused(f, -ELOOP, "a symbolic link");
	link = g_file_read_link(f->path, NULL);
	g_assert_cmpstr(link, ==, "target");
	g_assert_true(g_file_get_contents(target, &after, NULL, NULL));
	g_assert_cmpstr(after, ==, "");
}

static void test_fifo_untouched(struct fixture *f, gconstpointer data)
{
	g_autofree char *want = NULL;
	struct stat st;

	(void)data;
	g_test_summary("F6, F24: a FIFO as cache is ignored at once with a "
		       "warning (no reader needed) and never replaced");
	g_assert_cmpint(mkfifo(f->path, 0600), ==, 0);
	/* a blocking open would hang here for ever */
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==,
			-EINVAL);
	want = g_strdup_printf("%s: ignored: not a regular file", f->path);
	g_assert_cmpstr(f->why, ==, want);
	assert_refused(f, -EINVAL, "not a regular file");
	g_assert_cmpint(lstat(f->path, &st), ==, 0);
	g_assert_true(S_ISFIFO(st.st_mode));
}

static void test_directory_untouched(struct fixture *f, gconstpointer data)
{
	struct stat st;

	(void)data;
	g_test_summary("F24: a directory as cache is refused and stays");
	g_assert_cmpint(mkdir(f->path, 0700), ==, 0);
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==,
			-EINVAL);
	assert_refused(f, -EINVAL, "not a regular file");
	g_assert_cmpint(lstat(f->path, &st), ==, 0);
	g_assert_true(S_ISDIR(st.st_mode));
}

static void test_device_untouched(struct fixture *f, gconstpointer data)
{
	struct stat st;

	(void)data;
	g_test_summary("F24: a character device (/dev/zero's numbers, made "
		       "with mknod) as cache is refused and stays a device");
	if (geteuid() != 0) {
		g_test_skip("mknod needs root");
		return;
	}
	g_assert_cmpint(mknod(f->path, S_IFCHR | 0600, makedev(1, 5)), ==, 0);
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==,
			-EINVAL);
	assert_refused(f, -EINVAL, "not a regular file");
	g_assert_cmpint(lstat(f->path, &st), ==, 0);
	g_assert_true(S_ISCHR(st.st_mode));
	g_assert_cmpuint(st.st_rdev, ==, makedev(1, 5));
}

/* ---- round trip, flush, truncation ---------------------------------------- */

static void test_round_trip_and_flush(struct fixture *f, gconstpointer data)
{
	struct iopgt_file_id id = { .dev = 1, .ino = 7, .size = 42 };
	struct iopgt_cache *again = iopgt_cache_new();
	struct iopgt_cache_entry *e;
	g_autofree char *text = NULL;
	struct stat st1, st2;

	(void)data;
	g_test_summary("F15: a new cache file is created mode 0600, written "
		       "once per flush only when something changed, and read "
		       "back whole");
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==, 0);
	g_assert_cmpint(iopgt_cache_flush(f->c, &f->why), ==, 0);
	g_assert_cmpuint(iopgt_cache_writes(f->c), ==, 0);	/* clean */
	for (int i = 0; i < 100; i++) {
		g_autofree char *p = g_strdup_printf("/x/p%d.so", i);

		add_entry(f->c, p, 7);
	}
	g_assert_cmpint(iopgt_cache_flush(f->c, &f->why), ==, 0);
	g_assert_cmpint(iopgt_cache_flush(f->c, &f->why), ==, 0);
	g_assert_cmpuint(iopgt_cache_writes(f->c), ==, 1);
	g_assert_cmpint(stat(f->path, &st1), ==, 0);
	g_assert_cmpint(st1.st_mode & 0777, ==, 0600);
	g_assert_true(g_file_get_contents(f->path, &text, NULL, NULL));
	g_assert_true(g_str_has_prefix(text, "# iopgt plugin cache 1"));

	/* an entry changed in place (a probe) needs marking */
	iopgt_cache_mark_dirty(f->c);
	g_assert_cmpint(iopgt_cache_flush(f->c, &f->why), ==, 0);
	g_assert_cmpuint(iopgt_cache_writes(f->c), ==, 2);
	g_assert_cmpint(stat(f->path, &st2), ==, 0);
	g_assert_cmpuint(st2.st_ino, !=, st1.st_ino);	/* replaced whole */

	g_assert_cmpint(iopgt_cache_set_file(again, f->path, &f->why), ==, 0);
	e = iopgt_cache_lookup(again, "/x/p42.so", &id);
	g_assert_nonnull(e);
	g_assert_true(e->probed);
	g_assert_cmpstr(e->seen->name, ==, "p");
	g_assert_cmpstr(e->seen->provides[1], ==, "fmt-b");
	iopgt_cache_free(again);
}

static void test_truncated_rebuilt(struct fixture *f, gconstpointer data)
{
	struct iopgt_file_id id = { .dev = 1, .ino = 7, .size = 42 };
	struct iopgt_cache *again = iopgt_cache_new();
	g_autofree char *text = NULL;
	g_autofree char *want = NULL;
	gsize len;

	(void)data;
	g_test_summary("F7: a cache file cut short anywhere is not believed "
		       "(the end line's checksum fails) and is rebuilt");
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==, 0);
	add_entry(f->c, "/x/p.so", 7);
	g_assert_cmpint(iopgt_cache_flush(f->c, &f->why), ==, 0);
	g_assert_true(g_file_get_contents(f->path, &text, &len, NULL));
	/* cut inside the last group: GKeyFile alone accepts this */
	g_assert_cmpint(truncate(f->path, (off_t)len - 80), ==, 0);

	g_assert_cmpint(iopgt_cache_set_file(again, f->path, &f->why), ==,
			-EBADMSG);
	want = g_strdup_printf("%s: truncated or damaged (no valid end line): rebuilt",
			       f->path);
	g_assert_cmpstr(f->why, ==, want);
	g_assert_null(iopgt_cache_lookup(again, "/x/p.so", &id));
	/* ours, so the next flush may replace it */
	g_clear_pointer(&f->why, g_free);
	g_assert_cmpint(iopgt_cache_flush(again, &f->why), ==, 0);
	g_assert_cmpuint(iopgt_cache_writes(again), ==, 1);
	iopgt_cache_free(again);
}

static void test_too_big_ignored(struct fixture *f, gconstpointer data)
{
	g_autofree char *want = NULL;
	int fd;

	(void)data;
	g_test_summary("Reading is bounded: a cache over IOPGT_CACHE_MAX_BYTES "
		       "is ignored without being read");
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IOPGT_CACHE_MAX_BYTES + 1), ==, 0);
	close(fd);
	g_assert_cmpint(iopgt_cache_set_file(f->c, f->path, &f->why), ==,
			-EFBIG);
	want = g_strdup_printf("%s: ignored: larger than 67108864 bytes",
			       f->path);
	g_assert_cmpstr(f->why, ==, want);
}

#define add(path, fn)                                                   \
	g_test_add("/host/cache/" path, struct fixture, NULL,           \
		   fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	add("refuses/user-file", test_user_file_untouched);
	add("refuses/symlink", test_symlink_untouched);
	add("refuses/fifo", test_fifo_untouched);
	add("refuses/directory", test_directory_untouched);
	add("refuses/char-device", test_device_untouched);
	add("round-trip-and-flush-once", test_round_trip_and_flush);
	add("truncated-is-rebuilt", test_truncated_rebuilt);
	add("too-big-is-ignored", test_too_big_ignored);

	return g_test_run();
}
