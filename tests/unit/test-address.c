/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-address.c -- the RFC 5322 address-list parser (address.h): a table
 * of real-world and RFC 5322 appendix A header bodies, a table of
 * malformed ones, command-line arguments, IDN conversion, and random bytes.
 *
 * YUBIN_TEST_SEED=N repeats a randomized run.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "error.h"
#include "rfc5322.h"
#include "util.h"
#include "tap.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1	/* string literal with its length */

/* ---------------------------------------------------------------- helpers */

/* The list joined with "|" into a static buffer. */
static const char *
joined(const struct address_list *l)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    i > 0 ? "|" : "", l->addr[i]);
	return buf;
}

/* ---------------------------------------------------------------- good */

struct good {
	const char *name;
	const char *in;
	size_t len;
	const char *want;	/* addresses joined with "|" */
};

static const struct good goods[] = {
	{ "bare", S("bob@example.org"), "bob@example.org" },
	{ "display name", S("Bob <bob@example.org>"), "bob@example.org" },
	{ "quoted name with comma",
	    S("\"Doe, John\" <john@example.org>, jane@example.org"),
	    "john@example.org|jane@example.org" },
	{ "trailing comment", S("bob@example.org (Bob Smith)"),
	    "bob@example.org" },
	{ "nested comment", S("(a (nested (deep)) one) bob@example.org"),
	    "bob@example.org" },
	{ "undisclosed", S("undisclosed-recipients:;"), "" },
	{ "undisclosed without ';'", S("undisclosed-recipients:"), "" },
	{ "group and more", S("friends: a@x.org, B <b@y.org>;, c@z.org"),
	    "a@x.org|b@y.org|c@z.org" },
	{ "folded", S("Alice <alice@example.org>,\r\n\tBob <bob@example.org>"),
	    "alice@example.org|bob@example.org" },
	{ "folded bare LF", S("a@x.org,\n b@y.org"), "a@x.org|b@y.org" },
	{ "encoded word left alone",
	    S("=?UTF-8?B?w6lsb2k=?= <eloi@example.org>"),
	    "eloi@example.org" },
	{ "encoded word, Q", S("=?iso-8859-1?q?J=F6rg?= <j@example.org>"),
	    "j@example.org" },
	{ "quoted local part", S("\"john doe\"@example.org"),
	    "\"john doe\"@example.org" },
	{ "quoted pair kept", S("\"a\\\"b\"@example.org"),
	    "\"a\\\"b\"@example.org" },
	{ "folded quoted local part", S("\"john\r\n doe\"@example.org"),
	    "\"john doe\"@example.org" },
	{ "obs-route", S("<@relay.example,@r2.example:joe@example.org>"),
	    "joe@example.org" },
	{ "unquoted dot in name", S("John Q. Public <jqp@example.org>"),
	    "jqp@example.org" },
	{ "address as name", S("bob@example.org <bob@example.org>"),
	    "bob@example.org" },
	{ "empty elements", S("a@x.org, , b@y.org,"), "a@x.org|b@y.org" },
	{ "bare local name", S("root"), "root" },
	{ "local names", S("root, postmaster"), "root|postmaster" },
	{ "empty", S(""), "" },
	{ "only blanks", S("  \t "), "" },
	{ "RFC 5322 A.1.2",
	    S("Mary Smith <mary@x.test>, jdoe@example.org, "
	    "Who? <one@y.test>"), "mary@x.test|jdoe@example.org|one@y.test" },
	{ "RFC 5322 A.1.2 quotes",
	    S("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
	    "<sysservices@example.net>"), "boss@nil.test|"
	    "sysservices@example.net" },
	{ "RFC 5322 A.1.3 group",
	    S("A Group:Ed Jones <c@a.test>,joe@where.test,John "
	    "<jdoe@one.test>;"), "c@a.test|joe@where.test|jdoe@one.test" },
	{ "RFC 5322 A.1.3 empty group", S("Undisclosed recipients:;"), "" },
	{ "RFC 5322 A.5 comments",
	    S("Pete(A nice \\) chap) <pete(his account)@silly.test(his "
	    "host)>"), "pete@silly.test" },
	{ "RFC 5322 A.5 group",
	    S("A Group(Some people)\r\n     :Chris Jones <c@(Chris's "
	    "host.)public.example>,\r\n         joe@example.org,\r\n  John "
	    "<jdoe@one.test> (my dear friend); (the end of the group)"),
	    "c@public.example|joe@example.org|jdoe@one.test" },
	{ "RFC 5322 A.5 hidden",
	    S("(Empty list)(start)Hidden recipients  :(nobody(that I "
	    "know))  ;"), "" },
	{ "domain literal", S("jdoe@[192.0.2.1]"), "jdoe@[192.0.2.1]" },
	{ "IPv6 literal", S("jdoe@[IPv6:2001:db8::1]"),
	    "jdoe@[IPv6:2001:db8::1]" },
	{ "obs white space around dots", S("jdoe @ example . org"),
	    "jdoe@example.org" },
	{ "dotted local part", S("j.r.doe@mail.example.org"),
	    "j.r.doe@mail.example.org" },
	{ "UTF-8", S("Jos\xc3\xa9 <jos\xc3\xa9@ex\xc3\xa4mple.org>"),
	    "jos\xc3\xa9@ex\xc3\xa4mple.org" },
	{ "tab separated", S("a@x.org,\tb@y.org"), "a@x.org|b@y.org" },
	{ "mutt style", S("\"Alice Example\" <alice@example.test>, "
	    "bob@example.test"), "alice@example.test|bob@example.test" },
	{ "carrier dots", S("a..b@docomo.ne.jp, abc.@ezweb.ne.jp"),
	    "a..b@docomo.ne.jp|abc.@ezweb.ne.jp" },
	{ "plus address", S("bob+lists@example.org"),
	    "bob+lists@example.org" },
	{ "leading dash parses", S("-oQ@example.org"), "-oQ@example.org" },
};

static void
test_good(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++) {
		const struct good *g = &goods[i];
		struct address_list l;
		struct error err;
		int r;

		address_list_init(&l);
		error_init(&err);
		r = address_parse_list(g->in, g->len, "To", &l, &err);
		if (!ok(r == 0, "%s: parses", g->name))
			printf("#   %s\n", err.message);
		is_str(joined(&l), g->want, "%s: addresses", g->name);
		address_list_release(&l);
	}
}

/* ---------------------------------------------------------------- bad */

struct bad {
	const char *name;
	const char *in;
	size_t len;
	const char *want;	/* the whole message */
};

#define M "malformed address in 'Cc:' header: "
static const struct bad bads[] = {
	{ "name without angle", S("John Doe john@example.org"),
	    M "unexpected 'Doe' after an address at offset 5" },
	{ "missing '>'", S("Bob <bob@example.org"),
	    M "missing '>' for the '<' at offset 4" },
	{ "unterminated quote", S("\"unterminated@example.org"),
	    M "unterminated quoted string at offset 0" },
	{ "unterminated comment", S("bob@example.org (no end"),
	    M "unterminated comment at offset 16" },
	{ "two '@'", S("a@b@c"), M "unexpected '@' after an address at "
	    "offset 3" },
	{ "empty angle", S("<>"), M "empty address '<>' at offset 0" },
	{ "no local part", S("@example.org"),
	    M "missing local part before '@' at offset 0" },
	{ "no domain", S("bob@"), M "unexpected end in domain" },
	{ "nested group", S("a: b: c@d;;"),
	    M "group inside a group at offset 4" },
	{ "stray '>'", S("bob@example.org>"),
	    M "unexpected '>' at offset 15" },
	{ "NUL byte", S("a\0b@example.org"), M "NUL byte at offset 1" },
	{ "line break without fold", S("a@x.org\r\nb@y.org"),
	    M "line break not followed by white space at offset 7" },
	{ "control character", S("a@x.org\x01"),
	    M "control character 0x01 at offset 7" },
	{ "unterminated literal", S("bob@[1.2.3"),
	    M "unterminated domain literal at offset 4" },
	{ "stray ')'", S("bob@x.org)"), M "unexpected ')' at offset 9" },
	{ "';' outside a group", S("a@x.org; b@y.org"),
	    M "unexpected ';' after an address at offset 7" },
	{ "junk after '>'", S("<a@x.org> junk"),
	    M "unexpected 'junk' after '>' at offset 10" },
	{ "'<' inside angle", S("<a<b@x.org>"),
	    M "unexpected '<' after an address at offset 2" },
	{ "NUL in quotes", S("\"a\0\"@x.org"), M "NUL byte at offset 2" },
	{ "CR in quoted pair", S("\"a\\\r\n b\"@x.org"),
	    M "bad quoted pair at offset 2" },
	{ "dot at end of domain", S("a@example."),
	    M "unexpected end in domain" },
	{ "two dots in domain", S("a@example..org"),
	    M "unexpected '.' in domain at offset 10" },
	{ "only dots", S(".@x.org"),
	    M "unexpected '@' in address at offset 1" },
	{ "long token cut", S("a@x.org bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
	    M "unexpected 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...' after "
	    "an address at offset 8" },
};
#undef M

static void
test_bad(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		const struct bad *b = &bads[i];
		struct address_list l;
		struct error err;

		address_list_init(&l);
		address_list_add(&l, "kept@example.org");
		error_init(&err);
		ok(address_parse_list(b->in, b->len, "Cc", &l, &err) == -1 &&
		    err.kind == ERR_DATAERR, "%s: refused", b->name);
		is_str(err.message, b->want, "%s: message", b->name);
		ok(l.n == 1, "%s: list unchanged", b->name);
		address_list_release(&l);
	}
}

/* ---------------------------------------------------------------- args */

static void
test_args(void)
{
	struct address_list l;
	struct error err;

	address_list_init(&l);
	error_init(&err);
	ok(address_parse_arg("Bob <bob@example.org>, c@example.org",
	    "recipient", &l, &err) == 0, "arg: list parses");
	is_str(joined(&l), "bob@example.org|c@example.org", "arg: addresses");
	ok(address_parse_arg("a@x.org\nRCPT TO:<evil@x.org>", "recipient",
	    &l, &err) == -1 && err.kind == ERR_DATAERR, "arg: LF refused");
	is_str(err.message, "recipient 'a@x.org\\x0aRCPT TO:<evil@x.org>' "
	    "contains a line break", "arg: LF message");
	ok(address_parse_arg("a@x.org\r", "recipient", &l, &err) == -1,
	    "arg: CR refused");
	ok(address_parse_arg("John Doe j@x.org", "sender", &l, &err) == -1,
	    "arg: malformed refused");
	is_str(err.message, "malformed sender 'John Doe j@x.org': unexpected "
	    "'Doe' after an address at offset 5", "arg: malformed message");
	ok(l.n == 2, "arg: failures leave the list");
	address_list_release(&l);
}

/* ---------------------------------------------------------------- parts */

static void
test_domain(void)
{
	is_str(address_domain("bob@example.org"), "example.org", "domain");
	is_str(address_domain("\"a@b\"@example.org"), "example.org",
	    "domain after quoted '@'");
	is_str(address_domain("\"a\\\"@b\"@x.org"), "x.org",
	    "domain after quoted pair");
	ok(address_domain("root") == NULL, "no domain");
	ok(address_domain("\"a@b\"") == NULL, "no domain, '@' quoted");
}

static void
to_ascii_is(const char *in, const char *want, const char *name)
{
	struct error err;
	char *out = NULL;

	error_init(&err);
	if (!ok(address_to_ascii(in, &out, &err) == 0, "%s: converts", name))
		printf("#   %s\n", err.message);
	is_str(out, want, "%s: result", name);
	free(out);
}

static void
test_to_ascii(void)
{
	struct error err;
	char *out = (char *)"x";

	to_ascii_is("bob@example.org", "bob@example.org", "ascii unchanged");
	to_ascii_is("root", "root", "local name unchanged");
	to_ascii_is("bob@[192.0.2.1]", "bob@[192.0.2.1]", "literal unchanged");
#ifdef HAVE_LIBIDN2
	to_ascii_is("bob@b\xc3\xbc" "cher.example", "bob@xn--bcher-kva.example",
	    "IDN to A-labels");
	to_ascii_is("bob@FA\xc3\x9f.de", "bob@xn--fa-hia.de",
	    "UTS #46 non-transitional");
#endif
	error_init(&err);
	ok(address_to_ascii("j\xc3\xb6rg@example.org", &out, &err) == -1 &&
	    out == NULL && err.kind == ERR_DATAERR, "non-ASCII local refused");
	is_str(err.message, "address 'j\xc3\xb6rg@example.org' has a "
	    "non-ASCII local part and the server does not support SMTPUTF8",
	    "non-ASCII local message");
	/* it went out unchanged, and MAIL FROM said SMTPUTF8 to a server
	   without it (tests/fuzz/corpus/smtp/domain-literal-8bit) */
	error_init(&err);
	ok(address_to_ascii("a@[\xc3\xbc]", &out, &err) == -1 &&
	    out == NULL && err.kind == ERR_DATAERR, "non-ASCII literal refused");
	is_str(err.message, "address 'a@[\xc3\xbc]' has a non-ASCII domain "
	    "literal", "non-ASCII literal message");
#ifdef HAVE_LIBIDN2
	ok(address_to_ascii("a@\xe2\x98\x83\xe2\x80\x8d.example", &out,
	    &err) == -1 && err.kind == ERR_DATAERR &&
	    strstr(err.message, "invalid internationalized domain") != NULL,
	    "invalid IDN refused: %s", err.message);
#endif
}

/* The one "safe on a command line" rule (address_check()). */
static void
test_check(void)
{
	static const struct {
		const char *addr, *where, *msg;
	} bad[] = {
		{ "victim@example.com> NOTIFY=SUCCESS", NULL, "recipient "
		    "'victim@example.com> NOTIFY=SUCCESS' contains '<' or '>'" },
		{ "victim@example.com NOTIFY=SUCCESS", "in ASCII (IDNA)",
		    "recipient 'victim@example.com NOTIFY=SUCCESS' in ASCII "
		    "(IDNA) contains a space outside quotes" },
		{ "-oQ/tmp@x.org", "on the command line", "recipient "
		    "'-oQ/tmp@x.org' on the command line begins with '-'" },
		{ "bob@x\r\nRSET", NULL, "recipient 'bob@x\\x0d\\x0aRSET' "
		    "contains a control character" },
		{ "", NULL, "recipient '' is empty" },
		{ "\"a\"b c\"\"@x", NULL, "recipient '\"a\"b c\"\"@x' has a quoted "
		    "string that is not its whole local part" },
		{ ".\"john doe\"@example.org", NULL, "recipient '.\"john "
		    "doe\"@example.org' contains a space outside quotes" },
		{ "\"a\".\"b\"@x", NULL, "recipient '\"a\".\"b\"@x' has a quoted "
		    "string that is not its whole local part" },
	};
	char longer[600];
	struct error err;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		error_init(&err);
		is_int(address_check(bad[i].addr, "recipient", bad[i].where,
		    &err), -1, "check: '%s' refused", bad[i].msg);
		is_str(err.message, bad[i].msg, "check: message %zu", i);
		is_int(err.kind, ERR_DATAERR, "check: as 65");
	}
	is_int(address_check("\"john doe\"@example.org", "sender", NULL,
	    &err), 0, "check: a space inside quotes is fine");
	is_int(address_check("a\"\\\" >\"@x", "sender", NULL, &err), -1,
	    "check: '>' inside quotes is not");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	longer[100] = '@';
	is_int(address_check(longer, "sender", NULL, &err), -1,
	    "check: 599 bytes refused");
	ok(strstr(err.message, "...' is longer than 512 bytes") != NULL,
	    "check: length message cut: %s", err.message);
}

/* ---------------------------------------------------------------- classes */

/* rfc5322.h against RFC 5322 3.2.3 and RFC 5234 B.1, byte by byte. */
static void
test_classes(void)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";
	int atext = 0, wsp = 0;
	bool bad = false;

	for (int ch = 0; ch < 256; ch++) {
		bool want = (ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
		    ch <= 'Z') || (ch >= '0' && ch <= '9') || ch >= 0x80 ||
		    (ch != 0 && memchr(specials, ch, sizeof(specials) - 1));

		if (rfc5322_is_atext((unsigned char)ch) != want) {
			printf("# atext 0x%02x: want %d\n", ch, want);
			bad = true;
		}
		atext += rfc5322_is_atext((unsigned char)ch);
		wsp += rfc5322_is_wsp((unsigned char)ch);
	}
	ok(!bad && atext == 26 + 26 + 10 + 19 + 128, "atext: letters, "
	    "digits, the 19 specials of RFC 5322 3.2.3, 8-bit bytes (%d)",
	    atext);
	ok(wsp == 2 && rfc5322_is_wsp(' ') && rfc5322_is_wsp('\t'),
	    "WSP: space and tab only");
	ok(!rfc5322_is_atext('.') && !rfc5322_is_atext('@') &&
	    !rfc5322_is_atext('"') && !rfc5322_is_atext(' '),
	    "atext: no dot, at sign, quote or space");
}

/* ---------------------------------------------------------------- random */

/* Random field bodies over the bytes that matter: nothing may crash. */
static void
test_random(void)
{
	static const char alphabet[] = "ab@.,;:<>()\"\\[] \t\r\n\0\x80=?";
	char buf[64];
	size_t good = 0, bad = 0;

	test_rng_seed(0x2545f4914f6cdd1dULL);
	for (int i = 0; i < 20000; i++) {
		size_t len = test_rng_below(sizeof(buf));
		struct address_list l;
		struct error err;

		for (size_t k = 0; k < len; k++)
			buf[k] = alphabet[test_rng_below(sizeof(alphabet) - 1)];
		address_list_init(&l);
		if (address_parse_list(buf, len, "To", &l, &err) == 0)
			good++;
		else if (err.kind == ERR_DATAERR && l.n == 0)
			bad++;
		address_list_release(&l);
	}
	ok(good + bad == 20000, "random: 20000 bodies parsed or refused "
	    "cleanly (%zu parsed, %zu refused)", good, bad);
}

int
main(void)
{
	test_good();
	test_bad();
	test_args();
	test_domain();
	test_to_ascii();
	test_check();
	test_classes();
	test_random();
	return done_testing();
}
