/*
 * testutil.h -- small helpers shared by the C unit tests. Header-only.
 */
#ifndef YUBIN_TESTUTIL_H
#define YUBIN_TESTUTIL_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

/*
 * An fd at offset 0 of a file in dir holding data, already unlinked. Bails
 * out of the whole test (bail_out()) when that fails.
 */
static inline int
test_data_fd(const char *dir, const char *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/input.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) != 0)
		bail_out("input file: %s", strerror(errno));
	unlink(path);
	return fd;
}

#endif
