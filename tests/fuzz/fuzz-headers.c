/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-headers.c -- headers.c: where the header section ends (the
 * incremental scanner, fed in pieces and at once), the split into fields,
 * the field operations envelope.c uses, and headers_phrase() on the input
 * as a display name. The input is first put in canonical CRLF form with
 * message.c's normaliser, as message_spool() does.
 *
 * Invariants: the scanner says the same fed in pieces as at once, and
 * what it judged to be header lines headers_parse() accepts; the fields
 * are those bytes exactly, in order, each "name:" then CRLF-terminated
 * lines; after removing and adding fields the sizes add up; a phrase holds
 * no control character but its "CRLF SP" folding, no line longer than 76
 * bytes, and reads back as the name (quoted string or RFC 2047 words).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "headers.h"
#include "message.h"
#include "util.h"

#include "fuzz.h"

/* The canonical form of data (malloc'd, *len). */
static char *
canonical(const uint8_t *data, size_t size, size_t *len)
{
	char *out = xmalloc(2 * size + 2);
	struct crlf c;
	bool ended = false;

	crlf_init(&c, false);
	*len = crlf_run(&c, (const char *)data, size, out, &ended);
	*len += crlf_finish(&c, out + *len);
	return out;
}

static enum headers_end
scan(const char *buf, size_t len, size_t step, size_t *end, size_t *skip)
{
	struct headers_scan s;
	enum headers_end how = HEADERS_MORE;
	size_t have = 0;

	headers_scan_init(&s);
	while (how == HEADERS_MORE && have < len) {
		have = step == 0 || len - have < step ? len : have + step;
		how = headers_scan(&s, buf, have, false, end);
	}
	if (how == HEADERS_MORE)
		how = headers_scan(&s, buf, len, true, end);
	FUZZ_CHECK(how != HEADERS_MORE, "scanner wants more after eof");
	FUZZ_CHECK(*end <= len, "end %zu past %zu", *end, len);
	*skip = s.skip;
	return how;
}

static void
check_fields(struct headers *h, const char *hdr, size_t n)
{
	size_t off = 0, before;
	char name[64];

	for (size_t i = 0; i < h->n; i++) {
		const struct header_field *f = &h->f[i];
		size_t vlen, k = f->namelen;

		FUZZ_CHECK(f->len >= 3 && off + f->len <= n &&
		    memcmp(f->raw, hdr + off, f->len) == 0,
		    "field %zu is not the input's bytes", i);
		FUZZ_CHECK(f->raw[f->len - 2] == '\r' &&
		    f->raw[f->len - 1] == '\n', "field %zu: no CRLF", i);
		FUZZ_CHECK(k >= 1 && k <= HEADERS_NAME_MAX && k < f->len,
		    "field %zu: name of %zu bytes", i, k);
		while (k < f->len && (f->raw[k] == ' ' || f->raw[k] == '\t'))
			k++;
		FUZZ_CHECK(f->raw[k] == ':', "field %zu: no colon", i);
		header_value(f, &vlen);
		header_name(f, name, sizeof(name));
		off += f->len;
	}
	FUZZ_CHECK(off == n, "fields cover %zu of %zu bytes", off, n);
	before = headers_size(h);
	headers_remove_all(h, "Bcc");
	headers_add(h, "X-Fuzz", "a\r\n b");
	FUZZ_CHECK(headers_size(h) <= before + 16 &&
	    headers_find(h, "x-fuzz", 0) < h->n &&
	    headers_find(h, "Bcc", 0) == h->n, "remove/add");
}

static int
b64val(char c)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* "=?UTF-8?B?...?=" words separated by CRLF SP, decoded into out. */
static void
decode_words(const char *s, struct dynbuf *out)
{
	while (*s != '\0') {
		unsigned long v = 0;
		int bits = 0;

		FUZZ_CHECK(strncmp(s, "=?UTF-8?B?", 10) == 0, "not a word: "
		    "'%.20s'", s);
		for (s += 10; *s != '?'; s++) {
			char byte;

			FUZZ_CHECK(*s != '\0', "unterminated word");
			if (*s == '=')
				continue;
			FUZZ_CHECK(b64val(*s) >= 0, "base64 0x%02x", *s);
			v = (v << 6) | (unsigned long)b64val(*s);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				byte = (char)((v >> bits) & 0xff);
				dynbuf_add(out, &byte, 1);
			}
		}
		FUZZ_CHECK(s[1] == '=', "word not closed");
		s += 2;
		if (*s != '\0') {
			FUZZ_CHECK(strncmp(s, "\r\n ", 3) == 0, "words not "
			    "folded");
			s += 3;
		}
	}
}

static void
check_phrase(const uint8_t *data, size_t size)
{
	char *name = fuzz_strndup(data, size);
	struct dynbuf out, back;
	struct error err;
	bool eightbit = false;
	size_t col = 0;

	dynbuf_init(&out, 1 << 20);
	dynbuf_init(&back, 1 << 20);
	error_init(&err);
	for (const char *p = name; *p != '\0'; p++)
		eightbit |= (unsigned char)*p >= 0x80;
	if (headers_phrase(name, "name", &out, &err) < 0) {
		FUZZ_CHECK(err.kind == ERR_DATAERR, "kind %d", err.kind);
		goto out;
	}
	for (size_t i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];

		if (c == '\r') {
			FUZZ_CHECK(i + 2 < out.len && out.data[i + 1] == '\n' &&
			    out.data[i + 2] == ' ', "CR not folding");
			col = 0;
			i++;
			continue;
		}
		FUZZ_CHECK(c >= 0x20 && c != 0x7f && (!eightbit || c < 0x80),
		    "phrase byte 0x%02x", c);
		FUZZ_CHECK(!eightbit || ++col <= 76, "phrase line > 76");
	}
	if (eightbit) {
		decode_words(out.data != NULL ? out.data : "", &back);
	} else if (out.len > 0 && out.data[0] == '"') {
		for (size_t i = 1; i + 1 < out.len; i++) {
			if (out.data[i] == '\\')
				i++;
			dynbuf_add(&back, out.data + i, 1);
		}
	} else {
		dynbuf_addstr(&back, out.data != NULL ? out.data : "");
	}
	FUZZ_CHECK(strcmp(back.data != NULL ? back.data : "", name) == 0,
	    "phrase does not read back as the name");
out:
	dynbuf_release(&out);
	dynbuf_release(&back);
	free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, end, skip, end2, skip2;
	enum headers_end how;
	struct headers h;
	struct error err;
	char *buf;

	if (size > 256 * 1024)
		return 0;
	buf = canonical(data, size, &len);
	how = scan(buf, len, 0, &end, &skip);
	FUZZ_CHECK(scan(buf, len, size > 0 ? data[0] % 64 + 1 : 1, &end2,
	    &skip2) == how && end2 == end && skip2 == skip,
	    "scanner: pieces and whole disagree");
	FUZZ_CHECK(skip <= end || how == HEADERS_END_BODY ||
	    how == HEADERS_END_EMPTY, "skip %zu end %zu", skip, end);
	if (skip > end)
		skip = end;
	headers_init(&h);
	error_init(&err);
	FUZZ_CHECK(headers_parse(&h, buf + skip, end - skip, &err) == 0,
	    "headers_parse refused the scanner's header: %s", err.message);
	check_fields(&h, buf + skip, end - skip);
	headers_release(&h);
	free(buf);
	check_phrase(data, size);
	return 0;
}
