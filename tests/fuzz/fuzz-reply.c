/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-reply.c -- reply.c: the SMTP reply parser, reply_format() and the
 * EHLO capability parser, fed the input line by line (LF or CRLF ends a
 * line, as the transport hands them over).
 *
 * Invariants: a complete reply has a code in 200..599, 1..REPLY_LINES_MAX
 * lines, NUL-terminated text shorter than REPLY_TEXT_MAX, an enhanced
 * status code that is "C.S.D" with the reply's class or nothing; an error
 * is ERR_PROTOCOL with a message; reply_format() shows no control byte, no
 * C1 control and only well-formed UTF-8; the capabilities hold only known
 * extension bits and an AUTH list of distinct upper-case RFC 4422 names.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reply.h"
#include "util.h"

#include "fuzz.h"

#define EXT_ALL ((SMTP_EXT_BINARYMIME << 1) - 1)

static void
check_esc(const struct reply *r)
{
	const char *e = r->esc;
	int dots = 0, digits = 0;

	if (e[0] == '\0')
		return;
	FUZZ_CHECK(e[0] - '0' == r->code / 100 && e[1] == '.',
	    "enhanced code '%s' for %d", e, r->code);
	for (const char *p = e + 2; *p != '\0'; p++) {
		if (*p == '.') {
			FUZZ_CHECK(digits >= 1 && digits <= 3, "esc '%s'", e);
			dots++;
			digits = 0;
		} else {
			FUZZ_CHECK(*p >= '0' && *p <= '9', "esc '%s'", e);
			digits++;
		}
	}
	FUZZ_CHECK(dots == 1 && digits >= 1 && digits <= 3, "esc '%s'", e);
}

/* Well-formed UTF-8 without C0, DEL or C1 controls. */
static void
check_shown(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2 :
		    *p >= 0xe0 && *p <= 0xef ? 3 : *p >= 0xf0 && *p <= 0xf4 ?
		    4 : 0;

		FUZZ_CHECK(n > 0, "reply_format() shows byte 0x%02x", *p);
		FUZZ_CHECK(n > 1 || (*p >= 0x20 && *p != 0x7f),
		    "reply_format() shows control 0x%02x", *p);
		for (size_t i = 1; i < n; i++)
			FUZZ_CHECK((p[i] & 0xc0) == 0x80, "reply_format() "
			    "shows broken UTF-8");
		FUZZ_CHECK(n != 2 || p[0] != 0xc2 || p[1] >= 0xa0,
		    "reply_format() shows a C1 control");
		p += n;
	}
}

static void
check_caps(const struct reply *r)
{
	struct smtp_caps caps;
	const char *p;

	reply_parse_ehlo(r, &caps);
	FUZZ_CHECK((caps.ext & ~(unsigned)EXT_ALL) == 0, "unknown bits");
	FUZZ_CHECK(memchr(caps.auth, '\0', sizeof(caps.auth)) != NULL,
	    "AUTH list not terminated");
	FUZZ_CHECK(caps.auth[0] == '\0' || (caps.ext & SMTP_EXT_AUTH),
	    "mechanisms without AUTH");
	for (p = caps.auth; *p != '\0'; ) {
		size_t n = strcspn(p, " ");
		const char *q;

		FUZZ_CHECK(n >= 1 && n <= 20, "mechanism of %zu bytes", n);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK((p[i] >= 'A' && p[i] <= 'Z') ||
			    (p[i] >= '0' && p[i] <= '9') || p[i] == '-' ||
			    p[i] == '_', "mechanism '%.*s'", (int)n, p);
		for (q = p + n + (p[n] == ' '); *q != '\0'; ) {
			size_t m = strcspn(q, " ");

			FUZZ_CHECK(m != n || memcmp(p, q, n) != 0,
			    "mechanism '%.*s' twice", (int)n, p);
			q += m + (q[m] == ' ');
		}
		p += n;
		FUZZ_CHECK(*p == '\0' || p[1] != '\0', "trailing space");
		p += *p == ' ';
	}
	FUZZ_CHECK(caps.size_limit == 0 || (caps.ext & SMTP_EXT_SIZE),
	    "a SIZE limit without SIZE");
}

static void
check_reply(const struct reply *r)
{
	char shown[ERROR_REPLY_MAX];
	char tiny[8];

	FUZZ_CHECK(r->code >= 200 && r->code <= 599, "code %d", r->code);
	FUZZ_CHECK(r->nlines >= 1 && r->nlines <= REPLY_LINES_MAX,
	    "%zu lines", r->nlines);
	FUZZ_CHECK(r->textlen < REPLY_TEXT_MAX && r->text[r->textlen] == '\0',
	    "text length %zu", r->textlen);
	FUZZ_CHECK(memchr(r->esc, '\0', sizeof(r->esc)) != NULL,
	    "esc not terminated");
	check_esc(r);
	reply_format(r, shown, sizeof(shown));
	check_shown(shown);
	reply_format(r, tiny, sizeof(tiny));
	FUZZ_CHECK(strlen(tiny) < sizeof(tiny), "reply_format overflow");
	check_shown(tiny);
	check_caps(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_parser *p = xmalloc(sizeof(*p));
	struct fuzz_lines in;
	struct error err;
	const char *line;
	size_t len;

	reply_parser_init(p);
	fuzz_lines_init(&in, data, size);
	while (fuzz_lines_next(&in, &line, &len)) {
		int rc;

		error_init(&err);
		rc = reply_parser_line(p, line, len, &err);
		FUZZ_CHECK(rc >= -1 && rc <= 1, "result %d", rc);
		if (rc == 1)
			check_reply(&p->reply);
		else if (rc < 0)
			FUZZ_CHECK(err.kind == ERR_PROTOCOL &&
			    err.message[0] != '\0', "error kind %d '%s'",
			    err.kind, err.message);
	}
	free(p);
	return 0;
}
