// SPDX-License-Identifier: Apache-2.0
/*
 * Opening files the client names (objects to load, uprobe binaries) without ever blocking: a FIFO
 * blocks open() until a writer comes, a device can block read() or never end. The path is looked
 * at first (O_PATH, which opens nothing), and only a regular file is opened, non-blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "agent.h"

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
	     : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

int open_regular(const char *path, struct stat *st, const char **kind)
{
	*kind = NULL;
	int pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	int err = fstat(pfd, st) ? -errno : 0;
	close(pfd);
	if (err)
		return err;
	if (!S_ISREG(st->st_mode)) {
		*kind = kind_of(st->st_mode);
		return -EINVAL;
	}
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat again;
	/* the path may have been replaced between the look and the open */
	if (fstat(fd, &again) || !S_ISREG(again.st_mode) || again.st_ino != st->st_ino || again.st_dev != st->st_dev) {
		*kind = fstat(fd, &again) ? "gone" : kind_of(again.st_mode);
		close(fd);
		return -EINVAL;
	}
	*st = again;
	return fd;
}
