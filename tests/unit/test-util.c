/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-util.c -- the shared helpers of util.c that decide a rule for every
 * module: "is this ASCII" (util_has_8bit), random bytes and names
 * (util_random_bytes, util_random_name), the home and state directories
 * (util_home, util_state_home), certificate fingerprints
 * (util_fingerprint_parse), base64 (util_base64).
 */
#include "autoconfig.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---------------------------------------------------------------- random */

static void
test_random(void)
{
	static unsigned char a[100000], b[100000];
	static const size_t sizes[] = { 1, 7, 20, 256, 257, sizeof(a) };
	char name[65], name2[65];
	size_t zeros = 0;
	bool bad = false;

	ok(util_random_bytes(a, 0) == 0, "random: no bytes");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		memset(a, 0, n);
		memset(b, 0, n);
		if (util_random_bytes(a, n) < 0 || util_random_bytes(b, n) < 0
		    || (n >= 7 && memcmp(a, b, n) == 0))
			bad = true;
	}
	ok(!bad, "random: 1 to 100000 bytes, two draws differ");
	for (size_t i = 0; i < sizeof(a); i++)
		zeros += a[i] == 0;
	ok(zeros > 100 && zeros < 700, "random: every byte is drawn "
	    "(%zu zero bytes in 100000)", zeros);
	memset(name, 'X', sizeof(name));
	util_random_name(name, 64);
	util_random_name(name2, 64);
	ok(strlen(name) == 64 && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789") == 64 &&
	    strcmp(name, name2) != 0, "random name: 64 letters and digits, "
	    "NUL-terminated, different each time");
	util_random_name(name, 0);
	is_str(name, "", "random name: empty");
}

/* ---------------------------------------------------------------- dirs */

static void
test_dirs(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *pwdir = pw != NULL ? pw->pw_dir : NULL;
	char want[4096], buf[4096];

	setenv("HOME", "/home/h", 1);
	is_str(util_home(), "/home/h", "home: $HOME");
	setenv("HOME", "", 1);
	is_str(util_home(), pwdir, "home: empty $HOME, the passwd entry");
	unsetenv("HOME");
	is_str(util_home(), pwdir, "home: no $HOME, the passwd entry");

	setenv("XDG_STATE_HOME", "/state", 1);
	ok(util_state_home(buf, sizeof(buf)) == 0 && strcmp(buf, "/state") ==
	    0, "state: $XDG_STATE_HOME");
	setenv("XDG_STATE_HOME", "rel", 1);
	setenv("HOME", "/home/h", 1);
	ok(util_state_home(buf, sizeof(buf)) == 0 && strcmp(buf,
	    "/home/h/.local/state") == 0, "state: a relative "
	    "$XDG_STATE_HOME is ignored");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "relative", 1);
	snprintf(want, sizeof(want), "%s/.local/state", pwdir);
	if (pwdir != NULL && pwdir[0] == '/')
		ok(util_state_home(buf, sizeof(buf)) == 0 && strcmp(buf,
		    want) == 0, "state: a relative $HOME, the passwd entry");
	else
		ok(util_state_home(buf, sizeof(buf)) == -1 && errno == ENOENT,
		    "state: no absolute home: ENOENT");
	setenv("HOME", "/home/h", 1);
	ok(util_state_home(buf, 10) == -1 && errno == ENAMETOOLONG,
	    "state: too long: ENAMETOOLONG");
}

/* ---------------------------------------------------------------- hex */

static void
test_fingerprint(void)
{
	static const struct {
		const char *in;
		int n;
	} cases[] = {
		{ "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67",
		  20 },
		{ "01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef", 16 },
		{ "0123456789abcdefABCDEF", 11 },
		{ "0a", 1 },
		{ "", -1 },
		{ ":", -1 },
		{ ":01", -1 },
		{ "01:", -1 },		/* a separator after the last */
		{ "01::23", -1 },
		{ "01:23 45", -1 },	/* separators mixed */
		{ "0123:45", -1 },	/* none, then one */
		{ "012", -1 },		/* half a byte */
		{ "0g", -1 },
		{ "01-23", -1 },
		{ "01\t23", -1 },
	};
	unsigned char out[32];
	char hex[3 * 33];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(util_fingerprint_parse(cases[i].in, out, sizeof(out)),
		    cases[i].n, "fingerprint '%s'", cases[i].in);
	ok(util_fingerprint_parse("0123456789abcdefABCDEF", out, sizeof(out))
	    == 11 && memcmp(out, "\x01\x23\x45\x67\x89\xab\xcd\xef\xab"
	    "\xcd\xef", 11) == 0, "fingerprint: the bytes");
	for (int i = 0; i < 33; i++)
		memcpy(hex + 3 * i, "ab:", 3);
	hex[3 * 32 - 1] = '\0';
	is_int(util_fingerprint_parse(hex, out, 32), 32, "fingerprint: 32 "
	    "bytes fit 32");
	hex[3 * 32 - 1] = ':';
	hex[3 * 33 - 1] = '\0';
	is_int(util_fingerprint_parse(hex, out, 32), -1, "fingerprint: 33 "
	    "bytes do not");
}

/* ---------------------------------------------------------------- base64 */

static void
test_base64(void)
{
	/* RFC 4648 section 10 */
	static const char *const in[] = {
		"", "f", "fo", "foo", "foob", "fooba", "foobar",
	};
	static const char *const std[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
	};
	static const char *const url[] = {
		"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy",
	};
	/* RFC 7636 appendix B: the PKCE code verifier's 32 octets */
	static const unsigned char verifier[32] = {
		116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216,
		173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5,
		88, 83, 132, 141, 121,
	};
	char out[UTIL_BASE64_SIZE(32)];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		is_int(util_base64(in[i], strlen(in[i]), UTIL_BASE64, out),
		    strlen(std[i]), "base64 '%s': length", in[i]);
		is_str(out, std[i], "base64 '%s'", in[i]);
		util_base64(in[i], strlen(in[i]), UTIL_BASE64URL, out);
		is_str(out, url[i], "base64url '%s'", in[i]);
	}
	util_base64("\xfb\xff", 2, UTIL_BASE64, out);
	is_str(out, "+/8=", "base64: + and /");
	util_base64("\xfb\xff", 2, UTIL_BASE64URL, out);
	is_str(out, "-_8", "base64url: - and _");
	util_base64(verifier, sizeof(verifier), UTIL_BASE64URL, out);
	is_str(out, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	    "base64url: RFC 7636's code verifier");
}

int
main(void)
{
	test_has_8bit();
	test_random();
	test_dirs();
	test_fingerprint();
	test_base64();
	return done_testing();
}
