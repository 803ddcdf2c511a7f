/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-reply.c -- the SMTP reply parser and the EHLO capability parser. */
#include "autoconfig.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reply.h"
#include "tap.h"

static struct reply_parser P;
static struct error E;

/*
 * Feed NULL-terminated lines to a fresh parser. Returns the first non-zero
 * result (1 complete, -1 error) and in *used how many lines were consumed,
 * or 0 when every line left the reply incomplete.
 */
static int
feed(const char *const *lines, size_t *used)
{
	size_t i;
	int r = 0;

	reply_parser_init(&P);
	error_init(&E);
	for (i = 0; lines[i] != NULL; i++) {
		r = reply_parser_line(&P, lines[i], strlen(lines[i]), &E);
		if (r != 0) {
			i++;
			break;
		}
	}
	if (used != NULL)
		*used = i;
	return r;
}

/* A one-line reply: 1 when it parses, -1 (with E) when it does not. */
static int
feed1(const char *line)
{
	const char *lines[] = { line, NULL };

	return feed(lines, NULL);
}

static void
refused(const char *line, const char *why)
{
	int r = feed1(line);

	ok(r == -1 && E.kind == ERR_PROTOCOL && E.message[0] != '\0',
	    "refused: %s", why);
	if (r != -1)
		printf("#   result %d\n", r);
}

static void
test_single(void)
{
	is_int(feed1("250 OK"), 1, "single line complete");
	is_int(P.reply.code, 250, "code 250");
	is_int(P.reply.nlines, 1, "one line");
	is_str(P.reply.text, "OK", "text after the separator");
	is_int(P.reply.textlen, 2, "textlen");
	is_str(P.reply.esc, "", "no enhanced code");
	ok(!P.in_progress, "parser idle after a complete reply");
	ok(reply_ok(&P.reply) && !reply_temp(&P.reply) &&
	    !reply_perm(&P.reply), "250 is ok");

	is_int(feed1("220 mail.example.org ESMTP Postfix (Debian/GNU)"), 1,
	    "greeting");
	is_str(P.reply.text, "mail.example.org ESMTP Postfix (Debian/GNU)",
	    "greeting text");

	is_int(feed1("250"), 1, "bare code is a final line");
	is_int(P.reply.textlen, 0, "bare code: no text");
	is_str(P.reply.text, "", "bare code: empty text");
	is_int(feed1("250 "), 1, "code and space: final line");
	is_int(P.reply.textlen, 0, "code and space: no text");

	is_int(feed1("421 4.4.2 closing"), 1, "421");
	ok(reply_temp(&P.reply), "421 is temporary");
	is_int(feed1("554 no"), 1, "554");
	ok(reply_perm(&P.reply), "554 is permanent");
	is_int(feed1("599 x"), 1, "599 accepted");
	is_int(feed1("200 x"), 1, "200 accepted");
	is_int(feed1("354 End data with <CR><LF>.<CR><LF>"), 1, "354");
	is_int(P.reply.code, 354, "354 code");
	is_int(feed1("334 VXNlcm5hbWU6"), 1, "334 challenge");
	is_str(P.reply.text, "VXNlcm5hbWU6", "334 text is the challenge");
}

static void
test_multi(void)
{
	const char *l1[] = { "250-mail.example.org", "250-PIPELINING",
	    "250 8BITMIME", NULL };
	const char *l2[] = { "250-first", "250", NULL };
	const char *l3[] = { "250-first", "250-", "250 third", NULL };
	const char *l4[] = { "250-a", "251 b", NULL };
	const char *l5[] = { "250-a", "550 b", NULL };
	const char *l6[] = { "250-a", "250-b", NULL };
	size_t used;

	is_int(feed(l1, &used), 1, "multi-line complete");
	is_int(used, 3, "complete on the last line only");
	is_int(P.reply.nlines, 3, "three lines");
	is_str(P.reply.text, "mail.example.org\nPIPELINING\n8BITMIME",
	    "lines joined with newline");
	is_int(P.reply.textlen, strlen(P.reply.text), "textlen matches");

	is_int(feed(l2, &used), 1, "bare code ends a multi-line reply");
	is_int(used, 2, "on the second line");
	is_str(P.reply.text, "first\n", "empty last line text");

	is_int(feed(l3, &used), 1, "empty continuation line");
	is_str(P.reply.text, "first\n\nthird", "empty middle line kept");

	is_int(feed(l4, &used), -1, "code change between lines refused");
	is_int(used, 2, "on the second line");
	is_int(E.kind, ERR_PROTOCOL, "code change is ERR_PROTOCOL");
	ok(strstr(E.message, "250") && strstr(E.message, "251"),
	    "message names both codes: %s", E.message);
	is_int(feed(l5, NULL), -1, "class change between lines refused");

	is_int(feed(l6, &used), 0, "continuation lines: incomplete");
	ok(P.in_progress, "in progress after a '-' line");

	/* the parser starts afresh after a complete reply */
	is_int(feed(l1, NULL), 1, "first reply");
	is_int(reply_parser_line(&P, "221 bye", 7, &E), 1, "second reply");
	is_int(P.reply.nlines, 1, "second reply: one line");
	is_str(P.reply.text, "bye", "second reply: own text only");

	/* and after an error */
	is_int(feed(l4, NULL), -1, "error");
	ok(!P.in_progress, "idle after an error");
	is_int(reply_parser_line(&P, "250 ok", 6, &E), 1,
	    "a new reply parses after an error");
	is_int(P.reply.nlines, 1, "with only its own line");
	is_str(P.reply.text, "ok", "and its own text");
}

static void
test_bad(void)
{
	refused("", "empty line");
	refused("099 x", "099");
	refused("000 x", "000");
	refused("150 x", "1xx");
	refused("199", "bare 1xx");
	refused("600 x", "600");
	refused("999 x", "999");
	refused("abc", "letters");
	refused("abc def", "letters and text");
	refused("25", "two digits");
	refused("2", "one digit");
	refused("2500 x", "four digits");
	refused("25a x", "non-digit in code");
	refused(" 250 x", "leading space");
	refused("250x", "no separator");
	refused("250\tx", "tab separator");
	refused("250_x", "underscore separator");
	refused("+50 x", "sign");
	refused("250\r", "CR as separator");
	is_int(feed1("550 x"), 1, "after refusals, a good line parses");
}

static void
test_caps(void)
{
	const char *lines[REPLY_LINES_MAX + 2];
	char *big;
	size_t i, used;

	for (i = 0; i < REPLY_LINES_MAX - 1; i++)
		lines[i] = "250-x";
	lines[i++] = "250 last";
	lines[i] = NULL;
	is_int(feed(lines, &used), 1, "%d lines accepted", REPLY_LINES_MAX);
	is_int(P.reply.nlines, REPLY_LINES_MAX, "nlines is the cap");

	for (i = 0; i < REPLY_LINES_MAX; i++)
		lines[i] = "250-x";
	lines[i++] = "250 last";
	lines[i] = NULL;
	is_int(feed(lines, &used), -1, "%d lines refused",
	    REPLY_LINES_MAX + 1);
	is_int(used, REPLY_LINES_MAX + 1, "refused at the extra line");
	is_int(E.kind, ERR_PROTOCOL, "too many lines is ERR_PROTOCOL");

	/* five 2000-byte lines: 10000 bytes of text, cut at the cap */
	big = malloc(2005);
	memcpy(big, "250-", 4);
	memset(big + 4, 'a', 2000);
	big[2004] = '\0';
	reply_parser_init(&P);
	for (i = 0; i < 4; i++)
		is_int(reply_parser_line(&P, big, 2004, &E), 0,
		    "long line %zu", i + 1);
	big[3] = ' ';
	is_int(reply_parser_line(&P, big, 2004, &E), 1, "long last line");
	is_int(P.reply.textlen, REPLY_TEXT_MAX - 1, "text truncated at cap");
	is_int(strlen(P.reply.text), REPLY_TEXT_MAX - 1,
	    "text NUL-terminated at the cap");
	is_int(P.reply.nlines, 5, "all five lines counted");
	is_int(P.reply.text[2000], '\n', "separator kept before the cut");
	free(big);

	big = malloc(REPLY_LINE_MAX + 2);
	memcpy(big, "250 ", 4);
	memset(big + 4, 'b', REPLY_LINE_MAX - 3);
	reply_parser_init(&P);
	is_int(reply_parser_line(&P, big, REPLY_LINE_MAX, &E), 1,
	    "line of REPLY_LINE_MAX bytes accepted");
	is_int(P.reply.textlen, REPLY_LINE_MAX - 4, "its text");
	is_int(reply_parser_line(&P, big, REPLY_LINE_MAX + 1, &E), -1,
	    "longer line refused");
	free(big);
}

static void
esc(const char *line, const char *want, const char *name)
{
	int r = feed1(line);

	ok(r == 1, "%s: parses", name);
	is_str(P.reply.esc, want, "%s: enhanced code", name);
}

static void
test_esc(void)
{
	const char *l1[] = { "550-first line", "550 5.1.1 second", NULL };
	const char *l2[] = { "550-5.7.1 first", "550 5.7.1 second", NULL };

	esc("550 5.1.1 <x@y>: user unknown", "5.1.1", "5.1.1");
	is_str(P.reply.text, "5.1.1 <x@y>: user unknown",
	    "text keeps the enhanced code");
	esc("250 2.0.0 Ok: queued as 4XyZ", "2.0.0", "2.0.0");
	esc("421 4.7.0 try later", "4.7.0", "4.7.0");
	esc("250 2.0.0", "2.0.0", "code at end of line");
	esc("550 5.123.456 x", "5.123.456", "three-digit parts");
	esc("550 5.1.1234 x", "", "four-digit detail");
	esc("550 5.1234.1 x", "", "four-digit subject");
	esc("550 5.1 x", "", "two parts");
	esc("550 5..1 x", "", "empty subject");
	esc("550 5.1. x", "", "empty detail");
	esc("550 5.1.1x", "", "no space after code");
	esc("550 5.1.1.2 x", "", "four parts");
	esc("550 4.1.1 x", "", "wrong class (4 in 5xx)");
	esc("250 5.0.0 x", "", "wrong class (5 in 2xx)");
	esc("450 5.0.0 x", "", "wrong class (5 in 4xx)");
	esc("354 3.0.0 go ahead", "", "no class 3 in RFC 3463");
	esc("550 user unknown", "", "absent");
	esc("550", "", "bare code");
	esc("550 5", "", "class only");
	esc("550  5.1.1 x", "", "not at the start of the text");
	is_int(feed(l1, NULL), 1, "multi-line, code on line 2");
	is_str(P.reply.esc, "", "only line 1 is looked at");
	is_int(feed(l2, NULL), 1, "multi-line, code on line 1");
	is_str(P.reply.esc, "5.7.1", "line 1 code found");
}

static void
fmt(const char *line, size_t len, size_t size, const char *want,
    const char *name)
{
	char buf[256];
	struct reply_parser p;

	reply_parser_init(&p);
	is_int(reply_parser_line(&p, line, len, &E), 1, "%s: parses", name);
	memset(buf, 'Z', sizeof(buf));
	reply_format(&p.reply, buf, size);
	is_str(buf, want, "%s", name);
}

#define FMT(s, want, name) fmt(s, sizeof(s) - 1, 256, want, name)

static void
test_format(void)
{
	const char *l1[] = { "250-mail.example.org", "250-PIPELINING",
	    "250 8BITMIME", NULL };
	char buf[256];

	FMT("550 5.1.1 <x@y>: user unknown", "550 5.1.1 <x@y>: user unknown",
	    "plain reply");
	FMT("250", "250", "bare code");
	FMT("250 ", "250", "code and space");
	FMT("550 \x1b[31mred\x1b[0m", "550 ?[31mred?[0m", "ESC replaced");
	FMT("550 ding\a", "550 ding?", "BEL replaced");
	FMT("550 a\rb", "550 a?b", "CR replaced");
	FMT("550 a\tb", "550 a?b", "TAB replaced");
	FMT("550 a\x7f" "b", "550 a?b", "DEL replaced");
	FMT("550 a\0b", "550 a?b", "NUL replaced");
	FMT("550 Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93 \xf0\x9f\x93\xa7",
	    "550 Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93 \xf0\x9f\x93\xa7",
	    "UTF-8 kept");
	FMT("550 a\xff" "b", "550 a?b", "invalid byte replaced");
	FMT("550 a\xc3", "550 a?", "truncated sequence replaced");
	FMT("550 a\xc0\xaf" "b", "550 a??b", "overlong form replaced");
	FMT("550 a\xed\xa0\x80" "b", "550 a???b", "surrogate replaced");
	FMT("550 a\xc2\x9b" "31m", "550 a?31m", "C1 CSI replaced");
	FMT("550 a\x9b" "31m", "550 a?31m", "raw C1 byte replaced");
	FMT("550 a\xc2\xa0" "b", "550 a\xc2\xa0" "b", "U+00A0 kept");

	is_int(feed(l1, NULL), 1, "multi-line reply");
	reply_format(&P.reply, buf, sizeof(buf));
	is_str(buf, "250 mail.example.org PIPELINING 8BITMIME",
	    "lines joined with one space");

	fmt("250 hello", 9, 6, "250 h", "cut to the buffer");
	fmt("250 hello", 9, 4, "250", "cut inside the code");
	fmt("250 hello", 9, 1, "", "one-byte buffer");
	fmt("250 \xc3\xbc", 6, 6, "250 ", "no half UTF-8 sequence");
	fmt("250 \xc3\xbc", 6, 7, "250 \xc3\xbc", "sequence that fits");
	memset(buf, 'Z', sizeof(buf));
	reply_format(&P.reply, buf, 0);
	is_int(buf[0], 'Z', "size 0 writes nothing");
}

/* Parse an EHLO reply given as lines into caps. */
static void
ehlo(const char *const *lines, struct smtp_caps *caps)
{
	int r = feed(lines, NULL);

	if (r != 1)
		printf("#   ehlo reply did not parse (%d): %s\n", r, E.message);
	memset(caps, 0xa5, sizeof(*caps));
	reply_parse_ehlo(&P.reply, caps);
}

static void
test_ehlo_real(void)
{
	const char *postfix[] = { "250-mail.example.org", "250-PIPELINING",
	    "250-SIZE 10240000", "250-VRFY", "250-ETRN", "250-STARTTLS",
	    "250-AUTH PLAIN LOGIN", "250-AUTH=PLAIN LOGIN",
	    "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
	    "250-SMTPUTF8", "250 CHUNKING", NULL };
	const char *gmail[] = {
	    "250-smtp.gmail.com at your service, [203.0.113.5]",
	    "250-SIZE 35882577", "250-8BITMIME",
	    "250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
	    "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250-CHUNKING",
	    "250 SMTPUTF8", NULL };
	struct smtp_caps c;

	ehlo(postfix, &c);
	is_int(c.ext, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_STARTTLS |
	    SMTP_EXT_AUTH | SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_8BITMIME |
	    SMTP_EXT_DSN | SMTP_EXT_SMTPUTF8 | SMTP_EXT_CHUNKING,
	    "postfix: extensions");
	is_int(c.size_limit, 10240000, "postfix: SIZE");
	is_str(c.auth, "PLAIN LOGIN", "postfix: AUTH de-duplicated");

	ehlo(gmail, &c);
	is_int(c.ext, SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_AUTH |
	    SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_PIPELINING |
	    SMTP_EXT_CHUNKING | SMTP_EXT_SMTPUTF8, "gmail: extensions");
	ok(!(c.ext & SMTP_EXT_STARTTLS), "gmail: no STARTTLS");
	is_int(c.size_limit, 35882577, "gmail: SIZE");
	is_str(c.auth, "LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER "
	    "XOAUTH", "gmail: AUTH list");
}

static void
test_ehlo_forms(void)
{
	const char *lower[] = { "250-x", "250-starttls", "250-auth plain "
	    "cram-md5", "250-Pipelining", "250 size 1000", NULL };
	const char *old[] = { "250-x", "250 AUTH=LOGIN", NULL };
	const char *both[] = { "250-x", "250-AUTH=LOGIN PLAIN",
	    "250 AUTH PLAIN CRAM-MD5 login", NULL };
	const char *greet[] = { "250 STARTTLS", NULL };
	const char *spaces[] = { "250-x", "250-AUTH  PLAIN \t LOGIN  ",
	    "250  BINARYMIME", NULL };
	const char *near[] = { "250-x", "250-STARTTLSX", "250-SIZEX 5",
	    "250-SIZE=100", "250-STARTTLS=1", "250-XAUTH PLAIN", "250-AUTHX",
	    "250 X-EXPS LOGIN", NULL };
	const char *bare[] = { "250-x", "250 AUTH", NULL };
	const char *nope[] = { "550 5.7.1 go away", NULL };
	struct smtp_caps c;

	ehlo(lower, &c);
	is_int(c.ext, SMTP_EXT_STARTTLS | SMTP_EXT_AUTH | SMTP_EXT_PIPELINING |
	    SMTP_EXT_SIZE, "lowercase keywords");
	is_str(c.auth, "PLAIN CRAM-MD5", "lowercase mechanisms upper-cased");
	is_int(c.size_limit, 1000, "lowercase size");
	ehlo(old, &c);
	is_int(c.ext, SMTP_EXT_AUTH, "AUTH= form alone");
	is_str(c.auth, "LOGIN", "AUTH= mechanisms");
	ehlo(both, &c);
	is_str(c.auth, "LOGIN PLAIN CRAM-MD5", "both forms merged, no dups");
	ehlo(greet, &c);
	is_int(c.ext, 0, "greeting line is not a keyword");
	is_str(c.auth, "", "no AUTH");
	is_int(c.size_limit, 0, "no SIZE");
	ehlo(spaces, &c);
	is_str(c.auth, "PLAIN LOGIN", "extra blanks ignored");
	is_int(c.ext, SMTP_EXT_AUTH | SMTP_EXT_BINARYMIME, "leading blank");
	ehlo(near, &c);
	is_int(c.ext, 0, "near-miss keywords ignored");
	is_str(c.auth, "", "no mechanisms from near misses");
	ehlo(bare, &c);
	is_int(c.ext, SMTP_EXT_AUTH, "AUTH without mechanisms");
	is_str(c.auth, "", "empty list");
	ehlo(nope, &c);
	is_int(c.ext, 0, "non-250 reply: nothing");
	is_str(c.auth, "", "non-250 reply: caps cleared");
}

static unsigned long long
size_of(const char *line, unsigned *ext)
{
	const char *lines[] = { "250-x", line, NULL };
	struct smtp_caps c;

	ehlo(lines, &c);
	*ext = c.ext;
	return c.size_limit;
}

static void
test_ehlo_size(void)
{
	const char *absent[] = { "250-x", "250 PIPELINING", NULL };
	struct smtp_caps c;
	unsigned ext;

	ehlo(absent, &c);
	ok(!(c.ext & SMTP_EXT_SIZE), "SIZE absent: no bit");
	is_int(c.size_limit, 0, "SIZE absent: 0");
	is_int(size_of("250 SIZE", &ext), 0, "bare SIZE: 0");
	ok(ext & SMTP_EXT_SIZE, "bare SIZE: bit set");
	is_int(size_of("250 SIZE 0", &ext), 0, "SIZE 0: no limit");
	ok(ext & SMTP_EXT_SIZE, "SIZE 0: bit set");
	is_int(size_of("250 SIZE 52428800", &ext), 52428800, "SIZE 50 MB");
	ok(size_of("250 SIZE 18446744073709551615", &ext) == ULLONG_MAX,
	    "SIZE at ULLONG_MAX");
	is_int(size_of("250 SIZE 18446744073709551616", &ext), 0,
	    "SIZE overflow: 0");
	is_int(size_of("250 SIZE 99999999999999999999999999999999999", &ext),
	    0, "SIZE huge: 0");
	ok(ext & SMTP_EXT_SIZE, "SIZE huge: bit still set");
	is_int(size_of("250 SIZE abc", &ext), 0, "SIZE garbage: 0");
	is_int(size_of("250 SIZE -1", &ext), 0, "SIZE negative: 0");
	is_int(size_of("250 SIZE +5", &ext), 0, "SIZE with sign: 0");
	is_int(size_of("250 SIZE 12x", &ext), 0, "SIZE trailing junk: 0");
	is_int(size_of("250 SIZE 12 34", &ext), 0, "SIZE two numbers: 0");
	is_int(size_of("250 SIZE 1000  ", &ext), 1000, "trailing blanks ok");
}

static void
test_ehlo_auth_caps(void)
{
	char line[4096], *p = line;
	const char *lines[] = { "250-x", line, NULL };
	const char *odd[] = { "250-x", "250-AUTH PL\x1b" "AIN LOGIN",
	    "250-AUTH ABCDEFGHIJKLMNOPQRSTU CRAM-MD5",
	    "250 AUTH PLAIN: ok X_Y-Z", NULL };
	struct smtp_caps c;
	size_t i, len;
	int good = 1;

	p += snprintf(p, sizeof(line), "250 AUTH");
	for (i = 0; i < 300; i++)
		p += snprintf(p, sizeof(line) - (size_t)(p - line), " M%03zu",
		    i);
	ehlo(lines, &c);
	len = strlen(c.auth);
	ok(len < sizeof(c.auth), "overlong AUTH list fits (%zu bytes)", len);
	ok(len > sizeof(c.auth) - 8, "and is filled up (%zu bytes)", len);
	for (i = 0; i < len; i += 5)
		good &= c.auth[i] == 'M' && (c.auth[i + 4] == ' ' ||
		    c.auth[i + 4] == '\0');
	ok(good, "only whole mechanism names kept");
	is_int(c.ext, SMTP_EXT_AUTH, "AUTH bit set");

	ehlo(odd, &c);
	is_str(c.auth, "LOGIN CRAM-MD5 OK X_Y-Z",
	    "names with bad bytes or over 20 chars dropped");
}

int
main(void)
{
	test_single();
	test_multi();
	test_bad();
	test_caps();
	test_esc();
	test_format();
	test_ehlo_real();
	test_ehlo_forms();
	test_ehlo_size();
	test_ehlo_auth_caps();
	return done_testing();
}
