// SPDX-License-Identifier: MIT
/*
 * --mem-file FILE[:SIZE][@PA]: the tables of a run in a file mapped
 * MAP_SHARED, so another process (an emulator, a debugger, a test) can
 * map the same file and walk the tables at their physical addresses:
 * a descriptor at PA is at offset PA - base in the file.
 *
 * The file is trusted as a plugin file is (the host's trust.c, which is
 * not public, hence written again here for a data file): the checks are
 * fstat()s of the descriptor that is mapped, opened with O_NOFOLLOW, so
 * a path swapped for a symlink after a check is never what is used.
 * A refusal writes nothing, and a file this run created is removed again
 * if it cannot be used.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MEM_FILE_MIN_SIZE	SZ_64K
#define MEM_FILE_PAGE		4096ULL

/* the number after the last `sep` of *rest, cutting it off; none: keep def */
static gboolean take_number(char *rest, char sep, uint64_t def, uint64_t *out,
			    GError **error)
{
	char *at = strrchr(rest, sep);

	*out = def;
	if (!at)
		return TRUE;
	if (!cli_parse_u64(at + 1, out, error))
		return FALSE;
	*at = 0;
	return TRUE;
}

/*
 * FILE[:SIZE][@PA], split at the last '@' and then the last ':', so a
 * FILE whose name holds either character is written with both SIZE and
 * PA.  Only the words are checked here; the file is opened later.
 */
gboolean cli_mem_file_parse(const char *arg, struct cli_mem_file *mf,
			    GError **error)
{
	g_autofree char *path = g_strdup(arg);
	uint64_t size, pa;

	if (!take_number(path, '@', CLI_MEM_FILE_DEFAULT_PA, &pa, error) ||
	    !take_number(path, ':', CLI_MEM_FILE_DEFAULT_SIZE, &size, error))
		return FALSE;
	if (!*path) {
		g_set_error_literal(error, IOPGT_CLI_ERROR,
				    IOPGT_CLI_ERROR_SYNTAX, "missing file name");
		return FALSE;
	}
	if (size < MEM_FILE_MIN_SIZE || size % MEM_FILE_PAGE ||
	    size > (uint64_t)INT64_MAX) {
		g_set_error_literal(error, IOPGT_CLI_ERROR,
				    IOPGT_CLI_ERROR_SYNTAX, "SIZE must be a "
				    "multiple of 4K, at least 64K");
		return FALSE;
	}
	if (pa % MEM_FILE_PAGE || pa + size - 1 < pa) {
		g_set_error_literal(error, IOPGT_CLI_ERROR,
				    IOPGT_CLI_ERROR_SYNTAX, "PA must be 4K "
				    "aligned, and PA + SIZE within 64 bits");
		return FALSE;
	}
	g_free(mf->path);
	mf->path = g_steal_pointer(&path);
	mf->size = size;
	mf->pa = pa;
	return TRUE;
}

static const char *kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a file";
}

/* Why the file at fd may not hold the tables, or NULL. */
static char *refusal(const struct stat *st, uint64_t size)
{
	g_autofree char *want = NULL;

	if (!S_ISREG(st->st_mode))
		return g_strdup_printf("not a regular file (%s)",
				       kind_of(st->st_mode));
	if (st->st_uid != geteuid())
		return g_strdup_printf("owned by uid %u, not by the caller "
				       "(uid %u)", (unsigned int)st->st_uid,
				       (unsigned int)geteuid());
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return g_strdup_printf("writable by group or others (mode "
				       "%04o)",
				       (unsigned int)(st->st_mode & 07777));
	if ((uint64_t)st->st_size >= size)
		return NULL;
	want = cli_format_size(size);
	return g_strdup_printf("%" G_GINT64_FORMAT " bytes, smaller than SIZE "
			       "%s", (gint64)st->st_size, want);
}

static void say(const struct cli_mem_file *mf, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static void say(const struct cli_mem_file *mf, const char *fmt, ...)
{
	g_autofree char *safe = cli_escape(mf->path);
	g_autofree char *why = NULL;
	va_list ap;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	cli_err("iopgt-host: --mem-file %s: %s\n", safe, why);
}

/*
 * A new file, or the existing one checked.  O_NONBLOCK: a FIFO at the
 * path must not hang the open before fstat() says what it is.
 * Returns: the descriptor, or -1 after saying why.
 */
static int open_file(struct cli_mem_file *mf)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
	g_autofree char *why = NULL;
	struct stat st;
	int fd;

	fd = open(mf->path, flags | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		mf->created = true;
		if (ftruncate(fd, (off_t)mf->size) == 0)
			return fd;
		say(mf, "cannot grow to SIZE: %s", g_strerror(errno));
		goto fail;
	}
	if (errno == EEXIST)
		fd = open(mf->path, flags | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			say(mf, "refused: a symbolic link");
		else if (errno == EISDIR)
			say(mf, "refused: not a regular file (a directory)");
		else
			say(mf, "cannot open: %s", g_strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		say(mf, "cannot stat: %s", g_strerror(errno));
		goto fail;
	}
	why = refusal(&st, mf->size);
	if (why) {
		say(mf, "refused: %s", why);
		goto fail;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
fail:
	close(fd);
	if (mf->created)
		unlink(mf->path);
	mf->created = false;
	return -1;
}

/* A file two runs map at once would hold two allocators' tables. */
static bool lock_file(struct cli_mem_file *mf, int fd)
{
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return true;
	if (errno == EWOULDBLOCK)
		say(mf, "refused: in use by another iopgt-host run");
	else
		say(mf, "cannot lock: %s", g_strerror(errno));
	return false;
}

bool cli_mem_file_open(struct cli *cli, struct cli_mem_file *mf)
{
	int fd = open_file(mf);
	int ret;

	if (fd < 0)
		return false;
	if (!lock_file(mf, fd))
		goto fail;
	mf->va = mmap(NULL, mf->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0);
	if (mf->va == MAP_FAILED) {
		mf->va = NULL;
		say(mf, "cannot map: %s", g_strerror(errno));
		goto fail;
	}
	ret = iopgt_mem_provider_new_region(cli->host, mf->va, mf->pa,
					    mf->size, &mf->region);
	if (ret < 0) {
		/* the host logged the region's problem */
		say(mf, "cannot hold tables: %s", cli_strerror(-ret));
		goto fail;
	}
	iopgt_host_set_mem_provider(cli->host, mf->region);
	/* kept open: the lock lasts as long as the descriptor */
	mf->fd = fd;
	return true;
fail:
	if (mf->va)
		munmap(mf->va, mf->size);
	mf->va = NULL;
	close(fd);
	if (mf->created)
		unlink(mf->path);
	return false;
}

void cli_mem_file_release(struct cli_mem_file *mf)
{
	mf->region = iopgt_mem_provider_unref(mf->region);
}

void cli_mem_file_close(struct cli_mem_file *mf)
{
	if (mf->va)
		munmap(mf->va, mf->size);
	if (mf->fd >= 0)
		close(mf->fd);
	g_clear_pointer(&mf->path, g_free);
	mf->va = NULL;
	mf->fd = -1;
}
