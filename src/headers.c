/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * headers.c -- see headers.h. The header section is judged line by line
 * as the canonical bytes come in, split into fields once its end is known,
 * and written back field by field: a field yubin does not touch keeps its
 * bytes exactly, folding included.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "headers.h"
#include "rfc5322.h"
#include "util.h"

#define PHRASE_MAX 256		/* bytes of a display name yubin writes */
#define EW_BYTES 39		/* input bytes per encoded word (64 chars) */

/* ---------------------------------------------------------------- fields */

void
headers_init(struct headers *h)
{
	memset(h, 0, sizeof(*h));
}

void
headers_release(struct headers *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->f[i].raw);
	free(h->f);
	headers_init(h);
}

/* Room for one more field at index at (0..n), which is left zeroed. */
static struct header_field *
headers_insert(struct headers *h, size_t at)
{
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 16 : 2 * h->cap;
		h->f = xrealloc(h->f, h->cap * sizeof(*h->f));
	}
	memmove(&h->f[at + 1], &h->f[at], (h->n - at) * sizeof(*h->f));
	h->n++;
	memset(&h->f[at], 0, sizeof(*h->f));
	return &h->f[at];
}

static bool
is_ftext(unsigned char ch)
{
	return ch >= 33 && ch <= 126 && ch != ':';
}

/* ASCII case-insensitive comparison of n bytes. */
static bool
ascii_caseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

bool
header_is(const struct header_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->namelen == n && ascii_caseeq(f->raw, name, n);
}

bool
header_has_prefix(const struct header_field *f, const char *prefix)
{
	size_t n = strlen(prefix);

	return f->namelen >= n && ascii_caseeq(f->raw, prefix, n);
}

const char *
header_value(const struct header_field *f, size_t *len)
{
	const char *colon = memchr(f->raw, ':', f->len);
	size_t start = colon != NULL ? (size_t)(colon - f->raw) + 1 : f->len;
	size_t end = f->len;

	if (end >= start + 2 && f->raw[end - 2] == '\r' &&
	    f->raw[end - 1] == '\n')
		end -= 2;
	*len = end - start;
	return f->raw + start;
}

const char *
header_name(const struct header_field *f, char *buf, size_t size)
{
	size_t n = f->namelen < size ? f->namelen : size - 1;

	memcpy(buf, f->raw, n);
	buf[n] = '\0';
	return buf;
}

size_t
headers_find(const struct headers *h, const char *name, size_t from)
{
	for (size_t i = from; i < h->n; i++)
		if (header_is(&h->f[i], name))
			return i;
	return h->n;
}

void
headers_remove(struct headers *h, size_t i)
{
	free(h->f[i].raw);
	memmove(&h->f[i], &h->f[i + 1], (h->n - i - 1) * sizeof(*h->f));
	h->n--;
	if (i < h->nadded)
		h->nadded--;
}

/* In one pass: 170,000 fields removed one by one were quadratic. */
size_t
headers_remove_all(struct headers *h, const char *name)
{
	size_t n = 0, added = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (!header_is(&h->f[i], name)) {
			h->f[n++] = h->f[i];
			continue;
		}
		free(h->f[i].raw);
		added += i < h->nadded;
	}
	h->nadded -= added;
	added = h->n - n;
	h->n = n;
	return added;
}

void
headers_add(struct headers *h, const char *name, const char *value)
{
	struct header_field *f = headers_insert(h, h->nadded++);

	f->raw = xasprintf("%s: %s\r\n", name, value);
	f->len = strlen(f->raw);
	f->namelen = strlen(name);
	f->added = true;
}

size_t
headers_size(const struct headers *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++)
		n += h->f[i].len;
	return n;
}

/* ---------------------------------------------------------------- scanner */

enum line_kind { LINE_FIELD, LINE_CONT, LINE_EMPTY, LINE_OTHER, LINE_MORE };

/* The length of the field name at p, or 0 when p does not start a field. */
static size_t
field_name(const char *p, size_t n, bool complete, bool *more)
{
	size_t i = 0, name;

	*more = false;
	while (i < n && i <= HEADERS_NAME_MAX && is_ftext((unsigned char)p[i]))
		i++;
	name = i;
	if (name == 0 || name > HEADERS_NAME_MAX)
		return 0;
	while (i < n && rfc5322_is_wsp((unsigned char)p[i]))
		i++;
	if (i == n)
		*more = !complete;
	return i < n && p[i] == ':' ? name : 0;
}

/* Judge a line of n bytes (without its CRLF; complete: the CRLF is there). */
static enum line_kind
judge(const char *p, size_t n, bool complete, bool field_seen)
{
	bool more;

	if (n == 0)
		return complete ? LINE_EMPTY : LINE_MORE;
	if (rfc5322_is_wsp((unsigned char)p[0]))
		return field_seen ? LINE_CONT : LINE_OTHER;
	if (field_name(p, n, complete, &more) > 0)
		return LINE_FIELD;
	return more ? LINE_MORE : LINE_OTHER;
}

/* "From x Www " with Www a weekday: the mbox separator line. */
static bool
is_mbox_from(const char *p, size_t n)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	size_t i = 5;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return false;
	while (i < n && p[i] == ' ')
		i++;
	if (i == n)
		return false;
	while (i < n && p[i] != ' ' && p[i] != '\t')
		i++;
	while (i < n && p[i] == ' ')
		i++;
	if (i + 4 > n || p[i + 3] != ' ')
		return false;
	for (size_t d = 0; d < sizeof(days) - 1; d += 3)
		if (memcmp(p + i, days + d, 3) == 0)
			return true;
	return false;
}

void
headers_scan_init(struct headers_scan *s)
{
	memset(s, 0, sizeof(*s));
}

/*
 * The first line: an mbox "From " line is skipped once complete (a line
 * that may still turn into one waits). 1: skipped or waiting (*more), 0:
 * an ordinary line.
 */
static int
scan_first(struct headers_scan *s, const char *p, size_t n, bool complete,
    bool *more)
{
	*more = false;
	if (s->pos != 0 || s->skip != 0)
		return 0;
	if (!complete && memcmp(p, "From ", n < 5 ? n : 5) == 0) {
		*more = true;
		return 1;
	}
	if (!complete || !is_mbox_from(p, n))
		return 0;
	s->skip = n + 2;
	s->pos = s->skip;
	return 1;
}

enum headers_end
headers_scan(struct headers_scan *s, const char *buf, size_t len, bool eof,
    size_t *end)
{
	while (s->pos < len) {
		const char *p = buf + s->pos;
		const char *nl = memchr(p, '\n', len - s->pos);
		size_t n = nl != NULL ? (size_t)(nl - p) : len - s->pos;
		bool complete = nl != NULL || eof, more;

		if (n > 0 && p[n - 1] == '\r')	/* a CR waiting for its LF */
			n--;
		if (scan_first(s, p, n, complete, &more) == 1) {
			if (more)
				return HEADERS_MORE;
			continue;
		}
		switch (judge(p, n, complete, s->field_seen)) {
		case LINE_EMPTY:
			*end = s->pos;
			return HEADERS_END_EMPTY;
		case LINE_OTHER:
			*end = s->pos;
			return HEADERS_END_BODY;
		case LINE_MORE:
			return HEADERS_MORE;
		case LINE_FIELD:
			s->field_seen = true;
			break;
		case LINE_CONT:
			break;
		}
		if (nl == NULL)
			break;		/* the last line, unterminated */
		s->pos = (size_t)(nl + 1 - buf);
	}
	if (!eof)
		return HEADERS_MORE;
	*end = len;
	return HEADERS_END_EOF;
}

/* ---------------------------------------------------------------- parse */

/* The end of the line at p (after its LF, or end). */
static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl + 1 : end;
}

int
headers_parse(struct headers *h, const char *buf, size_t len,
    struct error *err)
{
	const char *p = buf, *end = buf + len, *q;
	struct header_field *f;
	bool more;
	size_t name;

	while (p < end) {
		q = line_end(p, end);
		name = field_name(p, (size_t)(q - p), true, &more);
		if (name == 0)
			return error_set(err, ERR_SOFTWARE, "header line at "
			    "offset %zu is not a field", (size_t)(p - buf));
		while (q < end && rfc5322_is_wsp((unsigned char)*q))
			q = line_end(q, end);
		f = headers_insert(h, h->n);
		f->raw = xmalloc((size_t)(q - p) + 1);	/* may hold NUL */
		memcpy(f->raw, p, (size_t)(q - p));
		f->raw[q - p] = '\0';
		f->len = (size_t)(q - p);
		f->namelen = name;
		p = q;
	}
	return 0;
}

/* ---------------------------------------------------------------- writing */

const char *
headers_date(time_t t, enum headers_zone zone, char *buf, size_t size)
{
	static const char days[][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char months[][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	struct tm tm, *ok;
	long off;

	ok = zone == HEADERS_ZONE_UTC ? gmtime_r(&t, &tm) :
	    localtime_r(&t, &tm);
	if (ok == NULL) {
		util_strlcpy(buf, "Thu, 01 Jan 1970 00:00:00 +0000", size);
		return buf;
	}
	off = zone == HEADERS_ZONE_UTC ? 0 : tm.tm_gmtoff / 60;
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	return buf;
}

/*
 * RFC 2047 "=?UTF-8?B?...?=" words, cut between UTF-8 characters. Here
 * and in headers_phrase() the appends are (void): a phrase is at most
 * PHRASE_MAX bytes, and the caller's buffer has room for it encoded
 * (envelope.c: 64 KiB).
 */
static void
encoded_words(const char *s, struct dynbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	char b64[UTIL_BASE64_SIZE(EW_BYTES)];
	size_t left = strlen(s), n;

	while (left > 0) {
		n = left < EW_BYTES ? left : EW_BYTES;
		while (n < left && n > 1 && (p[n] & 0xC0) == 0x80)
			n--;
		(void)dynbuf_addstr(out, "=?UTF-8?B?");
		util_base64(p, n, UTIL_BASE64, b64);
		(void)dynbuf_addstr(out, b64);
		(void)dynbuf_addstr(out, "?=");
		p += n;
		left -= n;
		if (left > 0)
			(void)dynbuf_addstr(out, "\r\n ");
	}
}

int
headers_phrase(const char *name, const char *what, struct dynbuf *out,
    struct error *err)
{
	bool special = false;
	const char *s;

	for (s = name; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			return error_set(err, ERR_DATAERR, "%s contains a "
			    "control character (0x%02x)", what, ch);
		special |= ch != ' ' && !rfc5322_is_atext(ch);
	}
	if (s - name > PHRASE_MAX)
		return error_set(err, ERR_DATAERR, "%s is longer than %d "
		    "bytes", what, PHRASE_MAX);
	if (util_has_8bit(name, (size_t)(s - name))) {
		encoded_words(name, out);
		return 0;
	}
	if (!special && strspn(name, " ") != strlen(name))
		return dynbuf_addstr(out, name);
	(void)dynbuf_addstr(out, "\"");
	for (s = name; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			(void)dynbuf_addstr(out, "\\");
		(void)dynbuf_add(out, s, 1);
	}
	return dynbuf_addstr(out, "\"");
}
