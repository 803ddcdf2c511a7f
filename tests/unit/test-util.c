/*
 * test-util.c -- the shared helpers of util.c that decide a rule for every
 * module: "is this ASCII" (util_has_8bit).
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "tap.h"

/* ---------------------------------------------------------------- 8-bit */

static void
test_has_8bit(void)
{
	char buf[64 + 8];
	bool bad = false;

	ok(!util_has_8bit(NULL, 0), "8bit: nothing");
	ok(!util_has_8bit("", 0), "8bit: empty");
	ok(!util_has_8bit("bob@example.org", 15), "8bit: ASCII address");
	ok(util_has_8bit("b\xc3\xb6@example.org", 16), "8bit: UTF-8 address");
	ok(!util_has_8bit("\x7f\x01\x00\x7f", 4), "8bit: DEL, controls, NUL "
	    "are 7-bit");
	ok(util_has_8bit("\xff", 1), "8bit: 0xff");
	ok(!util_has_8bit("abc\x80", 3), "8bit: only n bytes are read");
	/* every length, every start (alignment) and every position */
	for (size_t start = 0; start < 8; start++)
		for (size_t n = 0; n <= 64; n++) {
			memset(buf, 'a', sizeof(buf));
			if (util_has_8bit(buf + start, n))
				bad = true;
			for (size_t i = 0; i < n; i++) {
				buf[start + i] = (char)(0x80 | i);
				if (!util_has_8bit(buf + start, n))
					bad = true;
				buf[start + i] = 'a';
			}
		}
	ok(!bad, "8bit: one high byte found at every position, length and "
	    "alignment; none reported in ASCII");
}

int
main(void)
{
	test_has_8bit();
	return done_testing();
}
