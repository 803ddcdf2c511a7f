/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tap.h -- a minimal TAP producer for the C unit tests (automake's TAP
 * driver reads it). Header-only.
 *
 *	plan_no_plan(); ok(cond, "name"); is_int(got, want, "name");
 *	is_str(got, want, "name"); is_mem(got, glen, want, wlen, "name");
 *	return done_testing();
 *
 * A fixture the test cannot make (a temporary directory, a file, a pipe, a
 * fork) ends the whole test through bail_out("why: %s", ...): TAP's "Bail
 * out!" and exit 99, automake's hard error (the shell tests' bail_out does
 * the same).  A forked child reports through its exit status instead.
 */
#ifndef YUBIN_TAP_H
#define YUBIN_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline void __attribute__((noreturn, format(printf, 1, 2)))
bail_out(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(99);
}

static inline void
diag_mem(const char *label, const char *p, size_t n)
{
	printf("#   %s (%zu bytes): \"", label, n);
	for (size_t i = 0; i < n && i < 400; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			printf("\\r");
		else if (c == '\n')
			printf("\\n");
		else if (c < 32 || c > 126)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("%s\"\n", n > 400 ? "..." : "");
}

#define is_int(got, want, ...) do { \
	long long g_ = (got), w_ = (want); \
	if (!ok(g_ == w_, __VA_ARGS__)) \
		printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int c_ = (g_ == NULL && w_ == NULL) || \
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0); \
	if (!ok(c_, __VA_ARGS__)) \
		printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", \
		    w_ ? w_ : "(null)"); \
} while (0)

#define is_mem(got, glen, want, wlen, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	size_t gl_ = (glen), wl_ = (wlen); \
	if (!ok(gl_ == wl_ && memcmp(g_, w_, gl_) == 0, __VA_ARGS__)) { \
		diag_mem("got", g_, gl_); \
		diag_mem("want", w_, wl_); \
	} \
} while (0)

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
