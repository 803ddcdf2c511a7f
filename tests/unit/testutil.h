/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * testutil.h -- small helpers shared by the C unit tests. Header-only.
 */
#ifndef YUBIN_TESTUTIL_H
#define YUBIN_TESTUTIL_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
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

/*
 * The random inputs of the unit tests: xorshift64*, reproducible. Each
 * test program seeds it once with test_rng_seed(); YUBIN_TEST_SEED
 * (decimal, or 0x hex) overrides the seed, which is printed as a TAP
 * comment, so a failing run replays: YUBIN_TEST_SEED=N tests/unit/test-x.
 */
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ULL

static inline uint64_t *
test_rng_state(void)
{
	static uint64_t state = TEST_RNG_SEED;

	return &state;
}

static inline void
test_rng_seed(uint64_t seed)
{
	const char *env = getenv("YUBIN_TEST_SEED");
	uint64_t *s = test_rng_state();

	*s = env != NULL ? strtoull(env, NULL, 0) | 1 : seed;
	printf("# seed %llu\n", (unsigned long long)*s);
}

static inline uint64_t
test_rng(void)
{
	uint64_t *s = test_rng_state();

	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A number in [0, n). */
static inline size_t
test_rng_below(size_t n)
{
	return (size_t)(test_rng() % n);
}

#endif
