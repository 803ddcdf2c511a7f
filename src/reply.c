/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * reply.c -- see reply.h. Pure: no I/O, no allocation. Everything here reads
 * bytes a (possibly hostile) server chose, so every copy is bounded and every
 * byte shown to a person goes through reply_format()'s sanitiser.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "reply.h"
#include "util.h"

#define SASL_MECH_MAX 20	/* RFC 4422 3.1: 1 to 20 characters */

/* ---------------------------------------------------------------- parser */

void
reply_parser_init(struct reply_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static void
reply_reset(struct reply *r)
{
	r->code = 0;
	r->esc[0] = '\0';
	r->nlines = 0;
	r->text[0] = '\0';
	r->textlen = 0;
}

/* A short, printable excerpt of a bad line for an error message. */
static void
reply_excerpt(const char *line, size_t len, char *buf, size_t size)
{
	size_t i, n = len < size - 4 ? len : size - 4;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		buf[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	buf[i] = '\0';
	if (n < len)
		util_strlcpy(buf + i, "...", size - i);
}

/*
 * "NNN", "NNN text", "NNN-text": the code (200..599) and whether this is
 * the last line of the reply.
 */
static int
reply_check_line(const char *line, size_t len, int *code, int *last,
    struct error *err)
{
	char ex[64];

	if (len == 0)
		return error_set(err, ERR_PROTOCOL, "empty reply line from "
		    "server");
	if (len > REPLY_LINE_MAX)
		return error_set(err, ERR_PROTOCOL, "reply line from server "
		    "too long (%zu bytes)", len);
	reply_excerpt(line, len, ex, sizeof(ex));
	if (len < 3 || (len > 3 && line[3] != ' ' && line[3] != '-') ||
	    line[0] < '0' || line[0] > '9' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return error_set(err, ERR_PROTOCOL, "malformed reply line "
		    "from server: '%s'", ex);
	if (line[0] < '2' || line[0] > '5')
		return error_set(err, ERR_PROTOCOL, "invalid reply code "
		    "'%.3s' from server (not 2xx..5xx)", line);
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*last = len == 3 || line[3] == ' ';
	return 0;
}

/* Up to 4 leading digits of s[0..len): enough to tell 1..3 from more. */
static size_t
reply_digits(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && n < 4 && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * RFC 3463 / RFC 2034: class "." 1*3digit "." 1*3digit, the class equal to
 * the reply's first digit (2, 4 or 5), then a space or the end of the line.
 */
static void
reply_find_esc(struct reply *r, const char *s, size_t len)
{
	char cls = (char)('0' + r->code / 100);
	size_t i = 2, n;

	if (cls == '3' || len < 5 || s[0] != cls || s[1] != '.')
		return;
	n = reply_digits(s + i, len - i);
	if (n < 1 || n > 3)
		return;
	i += n;
	if (i >= len || s[i] != '.')
		return;
	i++;
	n = reply_digits(s + i, len - i);
	if (n < 1 || n > 3)
		return;
	i += n;
	if (i < len && s[i] != ' ')
		return;
	memcpy(r->esc, s, i);
	r->esc[i] = '\0';
}

/* Append one line's text, '\n'-separated, truncating at REPLY_TEXT_MAX-1. */
static void
reply_append(struct reply *r, const char *s, size_t len)
{
	size_t room;

	if (r->nlines > 1 && r->textlen < REPLY_TEXT_MAX - 1)
		r->text[r->textlen++] = '\n';
	room = REPLY_TEXT_MAX - 1 - r->textlen;
	if (len > room)
		len = room;
	memcpy(r->text + r->textlen, s, len);
	r->textlen += len;
	r->text[r->textlen] = '\0';
}

enum reply_line
reply_parser_line(struct reply_parser *p, const char *line, size_t len,
    struct error *err)
{
	struct reply *r = &p->reply;
	int code = 0, last = 0;

	if (!p->in_progress)
		reply_reset(r);
	p->in_progress = false;
	if (reply_check_line(line, len, &code, &last, err) < 0)
		return REPLY_LINE_BAD;
	if (r->nlines > 0 && code != r->code) {
		error_set(err, ERR_PROTOCOL, "reply code changed from %d to "
		    "%d within one server reply", r->code, code);
		return REPLY_LINE_BAD;
	}
	if (r->nlines >= REPLY_LINES_MAX) {
		error_set(err, ERR_PROTOCOL, "server reply has more than %d "
		    "lines", REPLY_LINES_MAX);
		return REPLY_LINE_BAD;
	}
	r->code = code;
	r->nlines++;
	line += len > 3 ? 4 : 3;
	len -= len > 3 ? 4 : 3;
	if (r->nlines == 1)
		reply_find_esc(r, line, len);
	reply_append(r, line, len);
	p->in_progress = !last;
	return last ? REPLY_LINE_DONE : REPLY_LINE_MORE;
}

/* ---------------------------------------------------------------- format */

/*
 * Length of the well-formed UTF-8 sequence at s (no overlong forms, no
 * surrogates, at most U+10FFFF), 0 if there is none; its code point in *cp.
 */
static size_t
utf8_seq(const unsigned char *s, size_t len, unsigned long *cp)
{
	static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned long v;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len)
		return 0;
	v = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/*
 * Copy text to buf[o..size-1) for a terminal: the line separator becomes a
 * space, every other control (util_control(): C0, DEL, C1) one '?'; and,
 * stricter than util_show() for bytes a server chose, so does each byte
 * that is not part of well-formed UTF-8; UTF-8 is kept whole or not at
 * all.
 */
static size_t
reply_sanitise(const char *text, size_t len, char *buf, size_t o,
    size_t size)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned long cp;
	size_t i = 0, n;

	while (i < len && o + 1 < size) {
		n = util_control(text + i, len - i);
		if (n > 0) {
			buf[o++] = s[i] == '\n' ? ' ' : '?';
			i += n;
			continue;
		}
		if (s[i] < 0x80) {
			buf[o++] = (char)s[i++];
			continue;
		}
		n = utf8_seq(s + i, len - i, &cp);
		if (n == 0) {
			buf[o++] = '?';
			i++;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(buf + o, s + i, n);
		o += n;
		i += n;
	}
	return o;
}

void
reply_format(const struct reply *r, char *buf, size_t size)
{
	int n;
	size_t o;

	if (size == 0)
		return;
	n = snprintf(buf, size, "%03d", r->code);
	o = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
	if (r->textlen > 0 && o + 1 < size) {
		buf[o++] = ' ';
		o = reply_sanitise(r->text, r->textlen, buf, o, size);
	}
	buf[o] = '\0';
}

int
reply_error(struct error *err, enum error_kind kind, const struct reply *r,
    const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX], text[ERROR_REPLY_MAX] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r != NULL)
		reply_format(r, text, sizeof(text));
	return error_set_reply(err, kind, r != NULL ? r->code : 0,
	    r != NULL ? r->esc : "", text, "%s", msg);
}

/* ---------------------------------------------------------------- EHLO */

static const struct {
	const char *name;
	unsigned bit;
} ehlo_keywords[] = {
	{ "STARTTLS", SMTP_EXT_STARTTLS },
	{ "AUTH", SMTP_EXT_AUTH },
	{ "PIPELINING", SMTP_EXT_PIPELINING },
	{ "SIZE", SMTP_EXT_SIZE },
	{ "8BITMIME", SMTP_EXT_8BITMIME },
	{ "SMTPUTF8", SMTP_EXT_SMTPUTF8 },
	{ "CHUNKING", SMTP_EXT_CHUNKING },
	{ "DSN", SMTP_EXT_DSN },
	{ "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES },
	{ "BINARYMIME", SMTP_EXT_BINARYMIME },
};

static bool
ehlo_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * RFC 1870: "SIZE" [SP 1*20DIGIT]. A missing, zero, malformed or
 * overflowing value all mean: no limit we can act on (0).
 */
static unsigned long long
ehlo_size(const char *s, size_t len)
{
	char buf[32], *end;
	unsigned long long v;

	while (len > 0 && ehlo_blank(s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return v;
}

/* Whether the space-separated list has the word w (n bytes). */
static bool
ehlo_has_word(const char *list, const char *w, size_t n)
{
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		if (len == n && memcmp(p, w, n) == 0)
			return true;
		p += len;
		p += *p == ' ';
	}
	return false;
}

/* Add one mechanism name (RFC 4422: [A-Z0-9-_], 1..20), upper case. */
static void
ehlo_add_mech(struct smtp_caps *caps, const char *s, size_t n)
{
	char mech[SASL_MECH_MAX + 1];
	size_t have = strlen(caps->auth), i;

	if (n == 0 || n > SASL_MECH_MAX)
		return;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '-' && c != '_')
			return;
		mech[i] = c;
	}
	mech[n] = '\0';
	if (ehlo_has_word(caps->auth, mech, n) ||
	    have + (have > 0) + n >= sizeof(caps->auth))
		return;
	if (have > 0)
		caps->auth[have++] = ' ';
	memcpy(caps->auth + have, mech, n + 1);
}

static void
ehlo_auth(struct smtp_caps *caps, const char *s, size_t len)
{
	size_t i = 0, start;

	while (i < len) {
		while (i < len && ehlo_blank(s[i]))
			i++;
		start = i;
		while (i < len && !ehlo_blank(s[i]))
			i++;
		ehlo_add_mech(caps, s + start, i - start);
	}
}

/* One keyword line: KEYWORD [SP params], or the old "AUTH=mech ..." form. */
static void
ehlo_line(struct smtp_caps *caps, const char *s, size_t len)
{
	size_t i, kw;

	while (len > 0 && ehlo_blank(*s)) {
		s++;
		len--;
	}
	for (kw = 0; kw < len && !ehlo_blank(s[kw]) && s[kw] != '='; kw++)
		;
	for (i = 0; i < ARRAY_SIZE(ehlo_keywords); i++)
		if (strlen(ehlo_keywords[i].name) == kw &&
		    strncasecmp(s, ehlo_keywords[i].name, kw) == 0)
			break;
	if (i == ARRAY_SIZE(ehlo_keywords))
		return;
	if (kw < len && s[kw] == '=' && ehlo_keywords[i].bit != SMTP_EXT_AUTH)
		return;
	caps->ext |= ehlo_keywords[i].bit;
	s += kw < len ? kw + 1 : kw;
	len -= kw < len ? kw + 1 : kw;
	if (ehlo_keywords[i].bit == SMTP_EXT_SIZE)
		caps->size_limit = ehlo_size(s, len);
	else if (ehlo_keywords[i].bit == SMTP_EXT_AUTH)
		ehlo_auth(caps, s, len);
}

void
reply_parse_ehlo(const struct reply *r, struct smtp_caps *caps)
{
	const char *p = r->text, *end = r->text + r->textlen, *nl;

	memset(caps, 0, sizeof(*caps));
	if (!reply_ok(r))
		return;
	/* Line 1 is the greeting ("mail.example.org Hello ..."). */
	nl = memchr(p, '\n', (size_t)(end - p));
	while (nl != NULL) {
		p = nl + 1;
		nl = memchr(p, '\n', (size_t)(end - p));
		ehlo_line(caps, p, (size_t)((nl != NULL ? nl : end) - p));
	}
}
