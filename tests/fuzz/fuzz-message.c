/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-message.c -- message.c: the line-ending normaliser (fed at once and
 * in pieces; a lone dot is text, ends the input, or goes when it is the
 * last line), the
 * dot-stuffer for DATA, and message_spool() itself from a memfd into a
 * spool file under fuzz_tmpdir(), with a header hook that removes and
 * adds fields as envelope.c does.
 *
 * Invariants: pieces and whole give the same bytes and the same facts
 * (longest line, 8-bit, NUL, ended); the result is canonical (every line
 * ends in CRLF, no bare CR or LF) and never holds a lone-dot line when a
 * dot ends the input; when only the last one goes, the result is the text
 * mode's, minus that last ".\r\n" exactly when dot_removed; dot-stuffed
 * text has no line "." and un-stuffs back to its input, and its end
 * marker ends it at the right place; the spool file is canonical, m.size
 * long, and holds no NUL in the body when NULs are stripped.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "headers.h"
#include "message.h"
#include "util.h"

#include "fuzz.h"

struct norm {
	char *out;
	size_t len;
	bool ended;
	struct crlf c;
};

static void
normalise(const uint8_t *data, size_t size, enum message_dot dot,
    size_t step, struct norm *n)
{
	size_t off = 0;

	n->out = xmalloc(2 * size + 3);
	n->len = 0;
	n->ended = false;
	crlf_init(&n->c, dot);
	while (off < size && !n->ended) {
		size_t k = step == 0 || size - off < step ? size - off : step;

		n->len += crlf_run(&n->c, (const char *)data + off, k,
		    n->out + n->len, &n->ended);
		off += k;
	}
	n->len += crlf_finish(&n->c, n->out + n->len);
}

static void
check_canonical(const char *p, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			FUZZ_CHECK(i + 1 < n && p[i + 1] == '\n', "%s: bare CR "
			    "at %zu", what, i);
		if (p[i] == '\n')
			FUZZ_CHECK(i > 0 && p[i - 1] == '\r', "%s: bare LF "
			    "at %zu", what, i);
	}
	FUZZ_CHECK(n == 0 || (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n'),
	    "%s: last line not terminated", what);
}

static bool
has_dot_line(const char *p, size_t n)
{
	return (n >= 3 && memcmp(p, ".\r\n", 3) == 0) ||
	    memmem(p, n, "\r\n.\r\n", 5) != NULL;
}

/* A "." at the very end, unterminated, is text: it stays. */
static bool
unterminated_dot(const uint8_t *data, size_t size, const struct norm *n)
{
	return !n->ended && size > 0 && data[size - 1] == '.' &&
	    n->len >= 3 && memcmp(n->out + n->len - 3, ".\r\n", 3) == 0;
}

static void
check_dotstuff(const char *in, size_t n, size_t step)
{
	char *out = xmalloc(2 * n + 8), *back = xmalloc(n + 1);
	struct dotstuff d;
	size_t len = 0, off = 0, blen = 0;
	const char *end;
	bool bol = true;

	dotstuff_init(&d);
	while (off < n) {
		size_t k = step == 0 || n - off < step ? n - off : step;

		len += dotstuff_run(&d, in + off, k, out + len);
		off += k;
	}
	FUZZ_CHECK(!has_dot_line(out, len), "a lone dot after stuffing");
	for (size_t i = 0; i < len; i++) {
		if (bol && out[i] == '.') {
			FUZZ_CHECK(i + 1 < len && out[i + 1] == '.',
			    "a line starting with one dot after stuffing");
			i++;
		}
		back[blen++] = out[i];
		bol = out[i] == '\n';
	}
	FUZZ_CHECK(blen == n && memcmp(back, in, n) == 0, "un-stuffing does "
	    "not give the input back");
	end = dotstuff_end(&d);
	memcpy(out + len, end, strlen(end));
	len += strlen(end);
	FUZZ_CHECK(len >= 3 && memcmp(out + len - 3, ".\r\n", 3) == 0 &&
	    (len == 3 || memcmp(out + len - 5, "\r\n.\r\n", 5) == 0),
	    "end marker '%s'", end);
	FUZZ_CHECK(!has_dot_line(out, len - 3), "the data ends early");
	free(out);
	free(back);
}

static int
hook(struct headers *h, void *arg, struct error *err)
{
	(void)arg;
	(void)err;
	headers_remove_all(h, "Bcc");
	if (headers_find(h, "Date", 0) == h->n)
		headers_add(h, "Date", "Thu, 01 Jan 1970 00:00:00 +0000");
	return 0;
}

static void
check_spool(const uint8_t *data, size_t size, bool dot_ends, bool strip)
{
	struct message_opts o = { .dot_ends = dot_ends,
	    .spool_dir = fuzz_tmpdir(), .header_hook = hook, .strip_nul = strip };
	struct message m;
	struct error err;
	char *got;
	ssize_t r;
	int fd;

	fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd_create");
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size &&
	    lseek(fd, 0, SEEK_SET) == 0, "memfd write");
	message_init(&m);
	error_init(&err);
	if (message_spool(&m, fd, &o, &err) < 0) {
		FUZZ_CHECK(err.kind == ERR_DATAERR, "message_spool: kind %d "
		    "'%s'", err.kind, err.message);
		message_release(&m);
		close(fd);
		return;
	}
	close(fd);
	got = xmalloc((size_t)m.size + 1);
	r = pread(m.fd, got, (size_t)m.size + 1, m.offset);
	FUZZ_CHECK(r == (ssize_t)m.size, "spool holds %zd bytes, size says "
	    "%lld", r, (long long)m.size);
	check_canonical(got, (size_t)m.size, "spool");
	FUZZ_CHECK(!strip || !m.has_nul || memchr(got, '\0', (size_t)m.size),
	    "has_nul without a NUL");
	free(got);
	message_release(&m);
}

/* DOT_LAST: the text mode's bytes, without the last line when removed. */
static void
check_last(const uint8_t *data, size_t size, const struct norm *last)
{
	struct norm text;

	normalise(data, size, MESSAGE_DOT_TEXT, 0, &text);
	if (last->c.dot_removed)
		FUZZ_CHECK(text.len == last->len + 3 && memcmp(text.out +
		    last->len, ".\r\n", 3) == 0, "dot_removed, but not a "
		    "last \".\" line");
	else
		FUZZ_CHECK(text.len == last->len, "a line lost without "
		    "dot_removed");
	FUZZ_CHECK(memcmp(text.out, last->out, last->len) == 0, "the text "
	    "differs from -i's");
	free(text.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct norm whole, piece;
	enum message_dot dot = size > 0 ? (enum message_dot)(data[0] % 3) :
	    MESSAGE_DOT_TEXT;
	bool dot_ends = dot == MESSAGE_DOT_ENDS;
	size_t step = size > 0 ? data[0] / 3 % 97 + 1 : 1;

	if (size > 256 * 1024)
		return 0;
	normalise(data, size, dot, 0, &whole);
	normalise(data, size, dot, step, &piece);
	FUZZ_CHECK(whole.len == piece.len && memcmp(whole.out, piece.out,
	    whole.len) == 0 && whole.ended == piece.ended &&
	    whole.c.max_line == piece.c.max_line &&
	    whole.c.eightbit == piece.c.eightbit &&
	    whole.c.has_nul == piece.c.has_nul &&
	    whole.c.dot_removed == piece.c.dot_removed,
	    "normaliser: pieces of %zu and whole disagree", step);
	check_canonical(whole.out, whole.len, "normaliser");
	FUZZ_CHECK(!dot_ends || !has_dot_line(whole.out, whole.len -
	    (unterminated_dot(data, size, &whole) ? 3 : 0)),
	    "a lone dot passed the normaliser");
	if (dot == MESSAGE_DOT_LAST)
		check_last(data, size, &whole);
	check_dotstuff(whole.out, whole.len, step);
	check_spool(data, size, dot != MESSAGE_DOT_TEXT,
	    size > 1 && (data[1] & 1));
	free(whole.out);
	free(piece.out);
	return 0;
}
