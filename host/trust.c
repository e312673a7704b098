// SPDX-License-Identifier: MIT
/*
 * File trust: decide whether a plugin file may be mapped, on the very
 * descriptor that will be mapped.
 *
 * The lesson of sudo's plugin loader: check the file you use, not a path
 * that may point elsewhere a moment later.  So the file is opened with
 * O_NOFOLLOW, every check is an fstat() of that descriptor, and the loader
 * maps the descriptor itself (loader.c).  A symlink is followed only when
 * its resolved target stays inside the plugin directory, and then the
 * resolved path (which has no symlink left) is opened the same way.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopgt-internal.h"

static const char *file_kind(mode_t mode)
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

/* Owner and mode rules, shared by files and their directory. */
static char *insecure_reason(const struct stat *st, const char *what)
{
	uid_t me = geteuid();

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return g_strdup_printf("%s is writable by group or others "
				       "(mode %04o)", what,
				       (unsigned int)(st->st_mode & 07777));
	if (st->st_uid != 0 && st->st_uid != me)
		return g_strdup_printf("%s is owned by uid %u, neither root "
				       "nor the caller (uid %u)", what,
				       (unsigned int)st->st_uid,
				       (unsigned int)me);
	return NULL;
}

/* path's parent directory, resolved, or NULL (errno set). */
static char *real_dir_of(const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);
	char *real = realpath(dir, NULL);
	char *out;

	if (!real)
		return NULL;
	out = g_strdup(real);
	free(real);
	return out;
}

/*
 * A symlink: follow it only to a target inside the directory.
 * Returns: an open descriptor or a negative errno with *why set.
 */
static int open_symlink(const char *path, char **why)
{
	g_autofree char *target = g_file_read_link(path, NULL);
	g_autofree char *dir = real_dir_of(path);
	g_autofree char *resolved = NULL;
	char *real;
	int fd;

	if (!target)	/* O_NOFOLLOW's ELOOP for a real loop of links */
		target = g_strdup("?");
	real = realpath(path, NULL);
	if (!real) {
		int err = errno;

		if (err == ENOENT) {
			*why = g_strdup_printf("dangling symlink to '%s'",
					       target);
			return -ENOEXEC;
		}
		*why = g_strdup_printf("symlink to '%s' cannot be resolved: "
				       "%s", target, g_strerror(err));
		return -ENOEXEC;
	}
	resolved = g_strdup(real);
	free(real);
	if (!dir || strncmp(resolved, dir, strlen(dir)) ||
	    resolved[strlen(dir)] != '/') {
		*why = g_strdup_printf("symlink to '%s' leads outside the "
				       "plugin directory", target);
		return -EACCES;
	}
	fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		*why = g_strdup_printf("cannot open symlink target '%s': %s",
				       target, g_strerror(errno));
		return -ENOEXEC;
	}
	return fd;
}

static int check_dir(const char *path, char **why)
{
	g_autofree char *dir = g_path_get_dirname(path);
	struct stat st;
	char *bad;
	int fd;

	fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (fd < 0) {
		*why = g_strdup_printf("cannot open the plugin directory: %s",
				       g_strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st)) {
		int err = errno;

		close(fd);
		*why = g_strdup_printf("cannot stat the plugin directory: %s",
				       g_strerror(err));
		return -err;
	}
	close(fd);
	bad = insecure_reason(&st, "the plugin directory");
	if (bad) {
		*why = bad;
		return -EACCES;
	}
	return 0;
}

int iopgt_trust_open(const char *path, bool allow_insecure, int *out_fd,
		     struct stat *st, char **why)
{
	int fd, ret;
	char *bad;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == EMFILE && iopgt_fd_raise_limit())
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == EMFILE) {
		*why = iopgt_fd_limit_text();
		return -EMFILE;
	}
	if (fd < 0 && errno == ELOOP) {
		fd = open_symlink(path, why);
		if (fd < 0)
			return fd;
	} else if (fd < 0) {
		ret = -errno;
		*why = g_strdup_printf("cannot open: %s", g_strerror(-ret));
		return ret;
	}
	if (fstat(fd, st)) {
		ret = -errno;
		*why = g_strdup_printf("cannot stat: %s", g_strerror(-ret));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		*why = g_strdup_printf("not a regular file (%s)",
				       file_kind(st->st_mode));
		ret = -ENOEXEC;
		goto fail;
	}
	if (!allow_insecure) {
		bad = insecure_reason(st, "the file");
		if (bad) {
			*why = g_strdup_printf("refused: %s", bad);
			g_free(bad);
			ret = -EACCES;
			goto fail;
		}
		ret = check_dir(path, &bad);
		if (ret) {
			*why = g_strdup_printf("refused: %s", bad);
			g_free(bad);
			goto fail;
		}
	}
	/* the blocking mode is for FIFOs at open; dlopen reads normally */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*out_fd = fd;
	return 0;
fail:
	close(fd);
	return ret;
}
