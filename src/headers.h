/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * headers.h -- the header section of a message (RFC 5322 2.2): where it
 * ends, its fields, and the few fields yubin writes itself. Works on the
 * canonical form message.c produces (every line ends in CRLF, no bare CR
 * or LF). No policy: envelope.c decides what to add, remove or read.
 *
 * Where the header section ends (headers_scan):
 *   - at the first empty line (the usual case; the line stays the
 *     separator in front of the body);
 *   - at the first line that is neither a field ("name:", where name is
 *     1-998 printable ASCII bytes other than ':', optionally followed by
 *     blanks before the colon) nor a continuation (a line starting with a
 *     space or tab after a field): that line is the first line of the body
 *     (sendmail does the same; message.c puts the missing empty line in);
 *   - at the end of the input (a message of header fields only).
 * A first line "From " (an mbox separator, as in git format-patch output)
 * is dropped, as sendmail does.
 */
#ifndef YUBIN_HEADERS_H
#define YUBIN_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HEADERS_MAX (1024 * 1024)	/* bytes of a header section */
#define HEADERS_NAME_MAX 998		/* bytes of a field name */

struct dynbuf;
struct error;

struct header_field {
	char *raw;		/* "Name: value\r\n" with continuation lines */
	size_t len;		/* bytes in raw */
	size_t namelen;		/* the name is raw[0..namelen) */
	bool added;		/* written by yubin */
};

struct headers {
	struct header_field *f;	/* in the order they are written */
	size_t n, cap;
	size_t nadded;		/* added fields, all at the front */
};

void headers_init(struct headers *h);
void headers_release(struct headers *h);

/*
 * The incremental end-of-header scanner. Feed it the whole buffer of
 * canonical bytes read so far (it remembers how far it got); eof says that
 * no more bytes will come.
 */
struct headers_scan {
	size_t pos;		/* start of the first line not yet judged */
	size_t skip;		/* bytes of a dropped "From " line at 0 */
	bool field_seen;
};

enum headers_end {
	HEADERS_MORE,		/* all lines so far are header lines */
	HEADERS_END_EMPTY,	/* *end is the offset of the empty line */
	HEADERS_END_BODY,	/* *end is the offset of the first body line */
	HEADERS_END_EOF,	/* eof: everything is header (*end = len) */
};

void headers_scan_init(struct headers_scan *s);
enum headers_end headers_scan(struct headers_scan *s, const char *buf,
    size_t len, bool eof, size_t *end);

/*
 * Split buf[0..len) (header lines as headers_scan() judged them: fields and
 * continuations, each ending in CRLF) into fields appended to h. -1 with
 * ERR_SOFTWARE if the bytes are not such lines.
 */
int headers_parse(struct headers *h, const char *buf, size_t len,
    struct error *err);

/* Whether the field is called name (ASCII case-insensitive). */
bool header_is(const struct header_field *f, const char *name);
/* Whether the name starts with prefix ("Resent-"), case-insensitive. */
bool header_has_prefix(const struct header_field *f, const char *prefix);
/* The body: after the colon, up to (not including) the final CRLF. */
const char *header_value(const struct header_field *f, size_t *len);
/* The name as written, NUL-terminated into buf (cut to fit). */
const char *header_name(const struct header_field *f, char *buf,
    size_t size);

/* The index of the first field called name at or after from, or h->n. */
size_t headers_find(const struct headers *h, const char *name, size_t from);
/* Remove field i. */
void headers_remove(struct headers *h, size_t i);
/* Remove every field called name; returns how many. */
size_t headers_remove_all(struct headers *h, const char *name);

/*
 * Add "name: value" in front of the message's own fields, after the fields
 * added before (so they come out in the order they were added). value may
 * hold folding ("\r\n " between words); it must not end in CRLF.
 */
void headers_add(struct headers *h, const char *name, const char *value);

/* Bytes of all fields together. */
size_t headers_size(const struct headers *h);

/* Which clock a date is written in. */
enum headers_zone {
	HEADERS_ZONE_LOCAL,	/* local time, its offset: the Date: field */
	HEADERS_ZONE_UTC,	/* "+0000": the failure report's dates */
};

/*
 * RFC 5322 3.3 date-time of t with a numeric zone, "Tue, 25 Nov 2026
 * 10:00:01 +0100", whatever the locale; a t the C library cannot break
 * down is written as the epoch. The one date format of every message
 * yubin writes. buf needs HEADERS_DATE_MAX bytes.
 */
#define HEADERS_DATE_MAX 40
const char *headers_date(time_t t, enum headers_zone zone, char *buf,
    size_t size);

/*
 * A display name for "name <addr>": as it is when it is a phrase of atoms,
 * a quoted string when it holds specials, RFC 2047 encoded words (UTF-8,
 * base64) when it holds 8-bit bytes, folded between encoded words so that
 * no line grows past 76 bytes. Appended to out. A control character
 * (CR, LF, NUL, ...) is refused: ERR_DATAERR naming what.
 */
int headers_phrase(const char *name, const char *what, struct dynbuf *out,
    struct error *err);

#endif
