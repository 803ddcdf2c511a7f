/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ispdb.c -- the autoconfig document parser (--configure): what it
 * takes from a document (the first smtp outgoingServer of the
 * emailProvider, trimmed, the authentication methods summed up), the XML
 * it accepts (comments, <?...?>, a byte order mark, either quote, the
 * five entities, empty elements) and each reason it refuses one; and
 * ispdb_value_ok(), the check of what goes into the printed block.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ispdb.h"
#include "tap.h"

#define HEAD "<clientConfig><emailProvider id='x'>"
#define TAIL "</emailProvider></clientConfig>"
#define SMTP(body) HEAD "<outgoingServer type=\"smtp\">" body \
    "</outgoingServer>" TAIL
#define GOOD "<hostname>h.x</hostname><port>587</port>" \
    "<socketType>STARTTLS</socketType>"

/* doc's summary "HOST PORT SOCKET USER [password] [oauth2] [none]", or
 * "error: MESSAGE" */
static void
parses(const char *doc, size_t len, const char *want, const char *name)
{
	static const char *const socks[] = { "SSL", "STARTTLS", "plain" };
	struct ispdb_smtp s;
	struct error err;
	char got[ERROR_MSG_MAX + 600];

	error_init(&err);
	if (ispdb_parse(doc, len, &s, &err) < 0)
		snprintf(got, sizeof(got), "error: %s", err.message);
	else
		snprintf(got, sizeof(got), "%s %u %s %s%s%s%s", s.hostname,
		    s.port, socks[s.socket], s.username[0] != '\0' ?
		    s.username : "-", s.auth_password ? " password" : "",
		    s.auth_oauth2 ? " oauth2" : "", s.auth_none ? " none" : "");
	is_str(got, want, "%s", name);
}

#define PARSES(doc, want, name) parses(doc, sizeof(doc) - 1, want, name)
#define NOT(why) "error: not an autoconfig document: " why

static void
test_accepted(void)
{
	PARSES("\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- <x> -->\n"
	    "<clientConfig version='1.1'>\n <emailProvider id=\"e\">\n"
	    "  <displayName>A &amp; B &lt;&gt;&quot;&apos;</displayName>\n"
	    "  <incomingServer type=\"imap\"><hostname>imap.x</hostname>"
	    "<port>993</port><socketType>SSL</socketType></incomingServer>\n"
	    "  <outgoingServer type = 'SMTP' >\n"
	    "   <hostname>\n  smtp.%EMAILDOMAIN%\t</hostname>\n"
	    "   <port> 465 </port><socketType>ssl</socketType>\n"
	    "   <username>%EMAILADDRESS%</username>\n"
	    "   <authentication>OAuth2</authentication>\n"
	    "   <authentication>password-cleartext</authentication>\n"
	    "   <empty/><other a=\"&amp;\"/>\n"
	    "  </outgoingServer>\n"
	    "  <outgoingServer type=\"smtp\"><hostname>second.x</hostname>"
	    "<port>25</port><socketType>plain</socketType></outgoingServer>\n"
	    " </emailProvider>\n <oAuth2><issuer>i</issuer></oAuth2>\n"
	    "</clientConfig>\n",
	    "smtp.%EMAILDOMAIN% 465 SSL %EMAILADDRESS% password oauth2",
	    "a whole document: the first smtp server, trimmed");
	PARSES(SMTP(GOOD "<authentication>none</authentication>"),
	    "h.x 587 STARTTLS - none", "authentication none alone");
	PARSES(SMTP(GOOD "<authentication>client-IP-address</authentication>"
	    "<authentication>plain</authentication>"),
	    "h.x 587 STARTTLS - password", "none with a password method");
	PARSES(SMTP(GOOD "<authentication>GSSAPI</authentication>"
	    "<authentication>none</authentication>"),
	    "h.x 587 STARTTLS -", "none with another method");
	PARSES(HEAD "<outgoingServer type=\"ews\"><hostname>e.x</hostname>"
	    "</outgoingServer><outgoingServer type=\"smtp\">" GOOD
	    "</outgoingServer>" TAIL, "h.x 587 STARTTLS -",
	    "another type before: skipped");
}

static void
test_refused(void)
{
	PARSES("", NOT("no root element"), "empty");
	PARSES("  \n", NOT("no root element"), "blanks");
	PARSES("<html><body></body></html>",
	    NOT("the root element is not clientConfig"), "HTML");
	PARSES("<clientConfig", NOT("a start tag is malformed"), "cut");
	PARSES("<clientConfig a=\"1", NOT("an attribute value is not closed"),
	    "cut in a value");
	PARSES("<clientConfig a=\"<\"/>", NOT("'<' in an attribute value"),
	    "< in a value");
	PARSES("<clientConfig a/>", NOT("an attribute without a value"),
	    "attribute without value");
	PARSES("<clientConfig a=\"1\"b=\"2\"/>", NOT("a start tag is malformed"),
	    "attributes without a blank between");
	PARSES("<clientConfig><!-- x </clientConfig>",
	    NOT("a comment is not closed"), "open comment");
	PARSES("<?xml <clientConfig/>", NOT("a <? is not closed"), "open <?");
	PARSES("<clientConfig></clientconfig>",
	    NOT("an end tag does not match its start tag"), "case of names");
	PARSES("<clientConfig/></clientConfig>",
	    NOT("an end tag does not match its start tag"), "end after root");
	PARSES("<clientConfig/>x", NOT("text outside the root element"),
	    "text after the root");
	PARSES("<clientConfig>&amp</clientConfig>",
	    NOT("an entity other than &amp; &lt; &gt; &quot; &apos;"),
	    "entity without ;");
	PARSES("<clientConfig>a\0b</clientConfig>", NOT("a NUL byte"),
	    "NUL in text");
	PARSES("<clientConfig>< a/></clientConfig>",
	    NOT("a name was expected"), "blank after <");
	PARSES("<clientConfig><" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "/></clientConfig>",
	    NOT("an element or attribute name is too long"), "a long name");
	PARSES(SMTP("<hostname>h.x</hostname><port>587</port>"),
	    NOT("the smtp server has no socketType"), "no socketType");
	PARSES(SMTP("<hostname>h.x</hostname><socketType>SSL</socketType>"),
	    NOT("the smtp server has no port"), "no port");
	PARSES(SMTP("<port>5x</port>"), NOT("the port is not a number"),
	    "port 5x");
	PARSES(SMTP("<port/>"), NOT("the port is not in 1-65535"),
	    "empty port");
	PARSES(SMTP("<port>00000000000000000000000000000000587</port>"),
	    "error: not an autoconfig document: the smtp server has no "
	    "hostname", "leading zeros: a number");
	PARSES(SMTP("<port>18446744073709551617</port>"),
	    NOT("the port is not in 1-65535"), "a port past 64 bits");
	PARSES(SMTP("<port>65536</port>"), NOT("the port is not in 1-65535"),
	    "port 65536");
	PARSES(SMTP("<hostname>a<b>c</b></hostname>"),
	    NOT("the hostname is not a host name"), "markup in the hostname");
	PARSES(SMTP("<hostname>a:25</hostname>"),
	    NOT("the hostname is not a host name"), "a port in the hostname");
	PARSES(SMTP("<username>a\tb</username>"),
	    NOT("the username holds a blank, a quote or a control "
	    "character"), "a tab in the username");
	PARSES(HEAD "<x><outgoingServer type=\"smtp\">" GOOD
	    "</outgoingServer></x>" TAIL,
	    NOT("no outgoingServer of type smtp"), "one nested deeper");
}

static void
test_value_ok(void)
{
	ok(ispdb_value_ok("smtp.example-1.org", true), "a host name");
	ok(ispdb_value_ok("smtp.%EMAILDOMAIN%", true), "a placeholder");
	ok(!ispdb_value_ok("", true), "empty");
	ok(!ispdb_value_ok("h x", true) && !ispdb_value_ok("h\nx", false),
	    "a blank or a newline");
	ok(!ispdb_value_ok("h/x", true) && ispdb_value_ok("u/x", false),
	    "'/' in a user, not in a host");
	ok(!ispdb_value_ok("a\"b", false) && !ispdb_value_ok("a#b", false) &&
	    !ispdb_value_ok("a\\b", false) && !ispdb_value_ok("a\x7f", false),
	    "quote, #, backslash, DEL");
	ok(ispdb_value_ok("j\xc3\xb6rg", false), "UTF-8 in a user");
}

int
main(void)
{
	test_accepted();
	test_refused();
	test_value_ok();
	return done_testing();
}
