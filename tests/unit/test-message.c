/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-message.c -- the line-ending normaliser, the dot-stuffer, the spool
 * file and the spool directory (message.h).
 *
 * YUBIN_TEST_SEED=N repeats a randomized run.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "message.h"
#include "util.h"
#include "tap.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1	/* string literal with its length */
#define GUARD 32			/* canary bytes after each out buffer */
#define ONE_CHUNK SIZE_MAX
#define RANDOM_CHUNKS 0

static char tmpdir[PATH_MAX];

/* ---------------------------------------------------------------- random */

/* ---------------------------------------------------------------- helpers */

static bool
guard_intact(const char *p)
{
	for (size_t i = 0; i < GUARD; i++)
		if ((unsigned char)p[i] != 0xA5)
			return false;
	return true;
}

/* A fresh out buffer of room bytes followed by a canary. */
static char *
guarded(size_t room)
{
	char *p = xmalloc(room + GUARD);

	memset(p, 0xA5, room + GUARD);
	return p;
}

struct canon {
	struct dynbuf out;
	bool ended;
	bool overflow;		/* wrote past the documented bound */
	size_t max_line;
	bool eightbit, has_nul;
};

static void
canon_chunk(struct canon *k, struct crlf *c, const char *in, size_t n)
{
	size_t room = 2 * n + 3, got;
	char *out = guarded(room);

	got = crlf_run(c, in, n, out, &k->ended);
	if (got > room || !guard_intact(out + room))
		k->overflow = true;
	dynbuf_add(&k->out, out, got);
	free(out);
}

/*
 * Normalise in[0..len) fed in chunks of `chunk` bytes (ONE_CHUNK: all at
 * once; RANDOM_CHUNKS: random sizes 0..17), then crlf_finish().
 */
static void
canon_run(struct canon *k, const char *in, size_t len, enum message_dot dot,
    size_t chunk)
{
	struct crlf c;
	size_t off = 0, n;
	char *fin;

	memset(k, 0, sizeof(*k));
	dynbuf_init(&k->out, SIZE_MAX / 2);
	crlf_init(&c, dot);
	while (off < len && !k->ended) {
		n = chunk == RANDOM_CHUNKS ? test_rng_below(18) : chunk;
		if (n > len - off)
			n = len - off;
		canon_chunk(k, &c, in + off, n);
		off += n;
	}
	fin = guarded(3);
	n = crlf_finish(&c, fin);
	if (n > 3 || !guard_intact(fin + 3))
		k->overflow = true;
	dynbuf_add(&k->out, fin, n);
	free(fin);
	k->max_line = c.max_line;
	k->eightbit = c.eightbit;
	k->has_nul = c.has_nul;
}

/*
 * Reference model, written differently on purpose: split into lines at
 * CRLF, CR or LF; a "." line ends the input (DOT_ENDS), or is dropped when
 * nothing follows it (DOT_LAST); a last unterminated line gets its CRLF.
 */
static void
ref_canon(struct canon *k, const char *in, size_t len, enum message_dot dot)
{
	size_t start = 0, i;

	memset(k, 0, sizeof(*k));
	dynbuf_init(&k->out, SIZE_MAX / 2);
	for (i = 0; i <= len; i++) {
		bool eol = i < len && (in[i] == '\r' || in[i] == '\n');
		size_t n = i - start;

		if (!eol && !(i == len && n > 0))
			continue;
		if (eol && dot == MESSAGE_DOT_ENDS && n == 1 &&
		    in[start] == '.') {
			k->ended = true;
			break;
		}
		if (eol && dot == MESSAGE_DOT_LAST && n == 1 &&
		    in[start] == '.' && (i + 1 == len || (i + 2 == len &&
		    in[i] == '\r' && in[i + 1] == '\n'))) {
			if (n > k->max_line)
				k->max_line = n;
			break;
		}
		dynbuf_add(&k->out, in + start, n);
		dynbuf_add(&k->out, "\r\n", 2);
		if (n > k->max_line)
			k->max_line = n;
		if (i + 1 < len && in[i] == '\r' && in[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	for (i = 0; i < k->out.len; i++) {
		k->has_nul |= k->out.data[i] == '\0';
		k->eightbit |= (unsigned char)k->out.data[i] >= 0x80;
	}
}

static bool
dynbuf_eq(const struct dynbuf *a, const struct dynbuf *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Same output and same facts about it. */
static bool
canon_eq(const struct canon *a, const struct canon *b)
{
	return dynbuf_eq(&a->out, &b->out) && a->ended == b->ended &&
	    a->max_line == b->max_line && a->eightbit == b->eightbit &&
	    a->has_nul == b->has_nul;
}

/* Dot-stuff canonical text in chunks, then the end marker. */
static bool
wire_run(struct dynbuf *w, const char *in, size_t len, size_t chunk)
{
	struct dotstuff d;
	size_t off = 0, n, got;
	bool fine = true;
	char *out;

	dynbuf_init(w, SIZE_MAX / 2);
	dotstuff_init(&d);
	while (off < len) {
		n = chunk == RANDOM_CHUNKS ? test_rng_below(18) : chunk;
		if (n > len - off)
			n = len - off;
		out = guarded(2 * n);
		got = dotstuff_run(&d, in + off, n, out);
		fine &= got <= 2 * n && guard_intact(out + 2 * n);
		dynbuf_add(w, out, got);
		free(out);
		off += n;
	}
	dynbuf_addstr(w, dotstuff_end(&d));
	return fine;
}

/* NULL when the wire bytes are well-formed DATA, else what is wrong. */
static const char *
wire_check(const char *w, size_t len)
{
	const char *p;

	for (size_t i = 0; i < len; i++) {
		if (w[i] == '\r' && (i + 1 == len || w[i + 1] != '\n'))
			return "bare CR on the wire";
		if (w[i] == '\n' && (i == 0 || w[i - 1] != '\r'))
			return "bare LF on the wire";
	}
	if (len == 3 && memcmp(w, ".\r\n", 3) == 0)
		return NULL;				/* empty body */
	if (len >= 3 && memcmp(w, ".\r\n", 3) == 0)
		return "first line is a lone dot";
	if (len < 5 || memcmp(w + len - 5, "\r\n.\r\n", 5) != 0)
		return "does not end with CRLF.CRLF";
	p = memmem(w, len, "\r\n.\r\n", 5);
	if (p != w + len - 5)
		return "CRLF.CRLF before the end";
	return NULL;
}

/* What a server keeps: lines up to ".", one leading dot removed. */
static int
unstuff(const char *w, size_t len, struct dynbuf *out)
{
	const char *p = w, *end = w + len, *eol;

	dynbuf_init(out, SIZE_MAX / 2);
	while (p < end) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			return -1;
		if (eol - p == 1 && *p == '.')
			return eol + 2 == end ? 0 : -1;
		if (*p == '.')
			p++;
		dynbuf_add(out, p, (size_t)(eol - p) + 2);
		p = eol + 2;
	}
	return -1;
}

/* Normalise + stuff + end marker, check the wire; NULL or the problem. */
static const char *
e2e(const char *in, size_t len, enum message_dot dot, size_t chunk)
{
	struct canon k;
	struct dynbuf w, back;
	const char *why = NULL;

	canon_run(&k, in, len, dot, chunk);
	if (!wire_run(&w, k.out.data ? k.out.data : "", k.out.len, chunk))
		why = "dot-stuffer overflow";
	else if (k.overflow)
		why = "normaliser overflow";
	else if ((why = wire_check(w.data, w.len)) != NULL)
		diag_mem("wire", w.data, w.len);
	else if (unstuff(w.data, w.len, &back) < 0)
		why = "cannot un-stuff";
	else {
		if (!dynbuf_eq(&back, &k.out))
			why = "un-stuffed wire differs from the canonical text";
		dynbuf_release(&back);
	}
	dynbuf_release(&w);
	dynbuf_release(&k.out);
	return why;
}

/* ---------------------------------------------------------------- crlf */

/* is_mem() as a function, so that S("...") works as two arguments. */
static void
expect_mem(const char *got, size_t glen, const char *want, size_t wlen,
    const char *name)
{
	is_mem(got, glen, want, wlen, "%s", name);
}

struct crlf_case {
	const char *name;
	const char *in;
	size_t inlen;
	enum message_dot dot;
	const char *want;
	size_t wantlen;
	bool ended;
};

#define T MESSAGE_DOT_TEXT
#define E MESSAGE_DOT_ENDS
#define L MESSAGE_DOT_LAST
static const struct crlf_case crlf_cases[] = {
	{ "LF", S("a\nb\n"), T, S("a\r\nb\r\n"), false },
	{ "CRLF", S("a\r\nb\r\n"), T, S("a\r\nb\r\n"), false },
	{ "bare CR", S("a\rb\r"), T, S("a\r\nb\r\n"), false },
	{ "mixed", S("a\nb\r\nc\rd\n"), T, S("a\r\nb\r\nc\r\nd\r\n"),
	    false },
	{ "CR CRLF LF", S("\r\r\n\n"), T, S("\r\n\r\n\r\n"), false },
	{ "LF then CR", S("\n\r"), T, S("\r\n\r\n"), false },
	{ "no final newline", S("a\nlast"), T, S("a\r\nlast\r\n"),
	    false },
	{ "NUL bytes kept", S("a\0b\n\0\n"), T, S("a\0b\r\n\0\r\n"),
	    false },
	{ "8-bit bytes kept", S("caf\xc3\xa9\n\xff"), false,
	    S("caf\xc3\xa9\r\n\xff\r\n"), false },
	{ "empty input", S(""), T, S(""), false },
	{ "dot line ends", S("a\n.\nb\n"), E, S("a\r\n"), true },
	{ "dot line alone", S(".\n"), E, S(""), true },
	{ "dot CRLF ends", S("a\r\n.\r\nb"), E, S("a\r\n"), true },
	{ "dot CR ends", S("x\n.\ry"), E, S("x\r\n"), true },
	{ "double dot is text", S("..\n"), E, S("..\r\n"), false },
	{ "dot space is text", S(". \n"), E, S(". \r\n"), false },
	{ "dot then text", S(".a\n"), E, S(".a\r\n"), false },
	{ "dot line kept with -i", S("a\n.\nb\n"), false,
	    S("a\r\n.\r\nb\r\n"), false },
	{ "CR dot CR with -i", S("\r.\r"), T, S("\r\n.\r\n"), false },
	{ "CR dot CR ends", S("\r.\r"), E, S("\r\n"), true },
	{ "unterminated dot at EOF is text", S("a\n."), true,
	    S("a\r\n.\r\n"), false },
	{ "dot mid-line", S("a.\n.b"), E, S("a.\r\n.b\r\n"), false },
	{ "last dot line removed", S("a\n.\n"), L, S("a\r\n"), false },
	{ "last dot CRLF removed", S("a\r\n.\r\n"), L, S("a\r\n"), false },
	{ "last dot CR removed", S("a\r.\r"), L, S("a\r\n"), false },
	{ "dot then more is text", S("a\n.\nb\n"), L,
	    S("a\r\n.\r\nb\r\n"), false },
	{ "dot then empty line is text", S("a\n.\n\n"), L,
	    S("a\r\n.\r\n\r\n"), false },
	{ "two dot lines: the last goes", S(".\n.\n"), L, S(".\r\n"),
	    false },
	{ "dot CR then LF is one line end", S("a\n.\r\n"), L, S("a\r\n"),
	    false },
	{ "dot CR CR: an empty line follows", S("a\n.\r\r"), L,
	    S("a\r\n.\r\n\r\n"), false },
	{ "unterminated dot at EOF is text (last)", S("a\n."), L,
	    S("a\r\n.\r\n"), false },
	{ "dot alone is the terminator", S(".\n"), L, S(""), false },
};

#undef T
#undef E
#undef L

static void
test_crlf_case(const struct crlf_case *t)
{
	static const size_t chunks[] = { ONE_CHUNK, 1, 2, 3 };
	struct canon k, ref;
	bool same = true;

	canon_run(&k, t->in, t->inlen, t->dot, ONE_CHUNK);
	is_mem(k.out.data ? k.out.data : "", k.out.len, t->want, t->wantlen,
	    "crlf: %s", t->name);
	ok(k.ended == t->ended && !k.overflow, "crlf: %s: ended=%d, in bounds",
	    t->name, t->ended);
	dynbuf_release(&k.out);
	for (size_t i = 1; i < ARRAY_SIZE(chunks); i++) {
		canon_run(&k, t->in, t->inlen, t->dot, chunks[i]);
		same &= k.out.len == t->wantlen && k.ended == t->ended &&
		    memcmp(k.out.data ? k.out.data : "", t->want,
		    t->wantlen) == 0 && !k.overflow;
		dynbuf_release(&k.out);
	}
	ok(same, "crlf: %s: same in 1-, 2-, 3-byte chunks", t->name);
	canon_run(&k, t->in, t->inlen, t->dot, ONE_CHUNK);
	ref_canon(&ref, t->in, t->inlen, t->dot);
	ok(k.max_line == ref.max_line && k.has_nul == ref.has_nul &&
	    k.eightbit == ref.eightbit, "crlf: %s: max_line %zu, nul %d, "
	    "8bit %d", t->name, ref.max_line, ref.has_nul, ref.eightbit);
	dynbuf_release(&k.out);
	dynbuf_release(&ref.out);
}

static void
test_crlf_boundaries(void)
{
	struct crlf c;
	char out[64];
	size_t n;
	bool ended;

	crlf_init(&c, MESSAGE_DOT_TEXT);
	n = crlf_run(&c, "a\r", 2, out, &ended);
	expect_mem(out, n, S("a\r\n"), "crlf: CR at the end of a call");
	ok(c.pending_cr, "crlf: CR at the end of a call is pending");
	n = crlf_run(&c, "\nb", 2, out, &ended);
	expect_mem(out, n, S("b"), "crlf: LF at the start of the next call "
	    "completes the CRLF");
	n = crlf_finish(&c, out);
	expect_mem(out, n, S("\r\n"), "crlf: finish terminates the last line");

	crlf_init(&c, MESSAGE_DOT_TEXT);
	n = crlf_run(&c, "a\r", 2, out, &ended);
	n += crlf_run(&c, "\r", 1, out + n, &ended);
	n += crlf_finish(&c, out + n);
	expect_mem(out, n, S("a\r\n\r\n"), "crlf: CR, boundary, CR: two lines");

	crlf_init(&c, MESSAGE_DOT_ENDS);
	n = crlf_run(&c, "a\n.", 3, out, &ended);
	expect_mem(out, n, S("a\r\n"), "crlf: a leading dot is held back");
	n = crlf_run(&c, "x\n", 2, out, &ended);
	expect_mem(out, n, S(".x\r\n"), "crlf: held dot written before text");
	ok(!ended && c.max_line == 2, "crlf: no end, max_line 2");

	crlf_init(&c, MESSAGE_DOT_ENDS);
	n = crlf_run(&c, "a\n.", 3, out, &ended);
	n = crlf_run(&c, "\r", 1, out, &ended);
	ok(ended && n == 0, "crlf: dot, boundary, CR: ends");
	is_int(crlf_finish(&c, out), 0, "crlf: nothing to finish after "
	    "the end");

	crlf_init(&c, MESSAGE_DOT_LAST);
	n = crlf_run(&c, "a\n.\r", 4, out, &ended);
	expect_mem(out, n, S("a\r\n"), "crlf: a whole dot line is held back");
	ok(c.dot_held && !ended, "crlf: ... held, not ended");
	n = crlf_run(&c, "\n", 1, out, &ended);
	ok(n == 0 && c.dot_held, "crlf: the LF of its CRLF is no more input");
	n = crlf_run(&c, "b", 1, out, &ended);
	expect_mem(out, n, S(".\r\nb"), "crlf: more input: the held dot "
	    "line is written first");
	n = crlf_finish(&c, out);
	expect_mem(out, n, S("\r\n"), "crlf: then the last line ends");
	ok(!c.dot_removed, "crlf: nothing removed");

	crlf_init(&c, MESSAGE_DOT_LAST);
	n = crlf_run(&c, "a\n.\n", 4, out, &ended);
	is_int(crlf_finish(&c, out), 0, "crlf: a held dot line at the end is "
	    "dropped");
	ok(c.dot_removed && !c.dot_held, "crlf: ... dot_removed");
}

/* The worst cases for the 2 * inlen + 3 bound. */
static void
test_crlf_bound(void)
{
	static const char lfs[] = "\n\n\n\n\n\n\n\n";
	static const char crs[] = "x\r\r\r\r\r\r\r";
	struct canon k;
	struct crlf c;
	char first[8], *out;
	size_t n;
	bool ended;

	crlf_init(&c, MESSAGE_DOT_ENDS);
	crlf_run(&c, "a\n.", 3, first, &ended);
	out = guarded(2 * 8 + 3);
	n = crlf_run(&c, crs, 8, out, &ended);
	ok(n == 16 && guard_intact(out + 2 * 8 + 3),
	    "crlf: held dot + text + bare CRs = 2 * inlen (%zu)", n);
	free(out);
	crlf_init(&c, MESSAGE_DOT_LAST);
	crlf_run(&c, "a\n.\n", 4, first, &ended);
	out = guarded(2 * 8 + 3);
	n = crlf_run(&c, lfs, 8, out, &ended);
	ok(n == 19 && guard_intact(out + 2 * 8 + 3),
	    "crlf: held dot line + bare LFs = 2 * inlen + 3 (%zu)", n);
	free(out);
	canon_run(&k, lfs, 8, MESSAGE_DOT_TEXT, ONE_CHUNK);
	ok(k.out.len == 16 && !k.overflow, "crlf: bare LFs = 2 * inlen");
	dynbuf_release(&k.out);
}

/* ---------------------------------------------------------------- dotstuff */

static void
test_dotstuff(void)
{
	struct dotstuff d;
	char out[64];
	size_t n;

	dotstuff_init(&d);
	n = dotstuff_run(&d, S(".a\r\nb.\r\n..\r\n"), out);
	expect_mem(out, n, S("..a\r\nb.\r\n...\r\n"), "dotstuff: leading dots "
	    "doubled");
	is_str(dotstuff_end(&d), ".\r\n", "dotstuff: end after CRLF");

	dotstuff_init(&d);
	n = dotstuff_run(&d, S("a\r"), out);
	n += dotstuff_run(&d, S("\n"), out + n);
	n += dotstuff_run(&d, S(".b"), out + n);
	expect_mem(out, n, S("a\r\n..b"), "dotstuff: dot after a split CRLF");
	is_str(dotstuff_end(&d), "\r\n.\r\n", "dotstuff: end without "
	    "final CRLF");

	dotstuff_init(&d);
	is_str(dotstuff_end(&d), ".\r\n", "dotstuff: end of an empty body");
}

/* -------------------------------------------------------------- end-to-end */

static void
test_e2e(void)
{
	static const struct { const char *in; size_t len; } cases[] = {
		{ S("a\n.\nb\n") }, { S("a\r.\rb\r") }, { S("x\ry\nz") },
		{ S("no final newline") }, { S("a\0b\n.\0\n\0") },
		{ S(".\n..\n...\n") }, { S(".") }, { S("\n.\n") },
		{ S("\r.\r") }, { S("line\r\n.\r\n") }, { S("\r\n.\r\n.") },
		{ S("a\n.\r\n.\n") }, { S("") }, { S("\r\r\n\n.") },
	};
	const char *why = NULL;
	size_t i, bad = 0;
	int de;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		for (de = 0; de < 3; de++) {
			why = e2e(cases[i].in, cases[i].len, de, ONE_CHUNK);
			if (why == NULL)
				why = e2e(cases[i].in, cases[i].len, de, 1);
			if (why == NULL)
				continue;
			if (bad++ == 0)
				diag_mem("input", cases[i].in, cases[i].len);
			printf("#   dot=%d: %s\n", de, why);
		}
	ok(bad == 0, "e2e: %zu inputs x (-i, terminal, pipe): CRLF only, one final "
	    "dot, un-stuffing gives the canonical text", ARRAY_SIZE(cases));
}

static void
random_message(char *buf, size_t len)
{
	static const char alphabet[] = { 'a', '.', '\r', '\n', '\0' };

	for (size_t i = 0; i < len; i++)
		buf[i] = alphabet[test_rng_below(sizeof(alphabet))];
}

/* One random message; returns NULL or what went wrong. */
static const char *
random_one(const char *in, size_t len, enum message_dot dot)
{
	struct canon one, many, ref;
	const char *why = NULL;

	canon_run(&one, in, len, dot, ONE_CHUNK);
	canon_run(&many, in, len, dot, RANDOM_CHUNKS);
	ref_canon(&ref, in, len, dot);
	if (one.overflow || many.overflow)
		why = "normaliser wrote past 2 * inlen + 3";
	else if (!canon_eq(&one, &many))
		why = "random chunks differ from one chunk";
	else if (!canon_eq(&one, &ref))
		why = "differs from the reference model";
	else
		why = e2e(in, len, dot, RANDOM_CHUNKS);
	dynbuf_release(&one.out);
	dynbuf_release(&many.out);
	dynbuf_release(&ref.out);
	return why;
}

static void
test_random(void)
{
	char buf[300];
	size_t i, len, bad = 0;
	const char *why;

	for (i = 0; i < 1000; i++) {
		len = test_rng_below(sizeof(buf));
		random_message(buf, len);
		why = random_one(buf, len, (enum message_dot)(i % 3));
		if (why == NULL || bad++ > 0)
			continue;
		printf("#   message %zu, dot=%d: %s\n", i,
		    (int)(i % 3), why);
		diag_mem("input", buf, len);
	}
	ok(bad == 0, "random: 1000 messages over {a . CR LF NUL}, random "
	    "chunks = one chunk = reference, wire well-formed (%zu bad)",
	    bad);
}

/* ---------------------------------------------------------------- spool */

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return (size_t)-1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
mkdir_or_die(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		bail_out("mkdir %s: %s", path, strerror(errno));
}

static int
data_fd(const char *data, size_t len)
{
	return test_data_fd(tmpdir, data, len);
}

static int
spool_bytes(struct message *m, const char *data, size_t len, bool dot_ends,
    const char *dir, struct error *err)
{
	struct message_opts o = { .dot_ends = dot_ends, .spool_dir = dir };
	int fd = data_fd(data, len), r;

	error_init(err);
	message_init(m);
	r = message_spool(m, fd, &o, err);
	close(fd);
	return r;
}

static bool
spool_content_is(struct message *m, const char *want, size_t wantlen)
{
	char buf[256];
	ssize_t n = read(m->fd, buf, sizeof(buf));

	return n == (ssize_t)wantlen && memcmp(buf, want, wantlen) == 0;
}

static void
test_spool_basic(const char *dir)
{
	struct message m;
	struct error err;
	struct stat st;
	char prefix[PATH_MAX], *kept;
	mode_t old = umask(0277);

	snprintf(prefix, sizeof(prefix), "%s/spool.", dir);
	is_int(spool_bytes(&m, S("a\nb\xe9\n.x"), true, dir, &err), 0,
	    "spool: ok");
	umask(old);
	is_int(m.size, 11, "spool: size of the canonical form");
	ok(spool_content_is(&m, S("a\r\nb\xe9\r\n.x\r\n")), "spool: content "
	    "normalised, fd at offset 0");
	ok(m.eightbit && !m.has_nul && m.max_line == 2, "spool: eightbit, "
	    "no NUL, max_line 2");
	ok(m.path != NULL && strncmp(m.path, prefix, strlen(prefix)) == 0,
	    "spool: file %s in the spool dir", m.path ? m.path : "(null)");
	if (fstat(m.fd, &st) < 0)
		memset(&st, 0, sizeof(st));
	ok((st.st_mode & 07777) == 0600, "spool: mode 0600 under umask 0277 "
	    "(%o)",
	    (unsigned)(st.st_mode & 07777));
	ok(fcntl(m.fd, F_GETFD) & FD_CLOEXEC, "spool: close-on-exec");
	message_release(&m);
	is_int(count_entries(dir), 0, "spool: release removes the file");
	ok(m.fd == -1 && m.path == NULL, "spool: release resets the struct");

	spool_bytes(&m, S("x\0y"), false, dir, &err);
	ok(m.has_nul && m.size == 5, "spool: NUL kept, has_nul");
	kept = xstrdup(m.path);
	m.keep = true;
	message_release(&m);
	ok(access(kept, F_OK) == 0, "spool: keep leaves the file");
	unlink(kept);
	free(kept);
}

static void
test_spool_errors(const char *dir)
{
	struct message m;
	struct error err;
	struct message_opts o = { .dot_ends = true, .spool_dir = dir };
	char missing[PATH_MAX];
	int fd;

	is_int(spool_bytes(&m, S(""), true, dir, &err), -1, "spool: empty "
	    "input fails");
	ok(err.kind == ERR_DATAERR && strcmp(err.message, "no message on "
	    "standard input") == 0, "spool: empty input: %s", err.message);
	is_int(count_entries(dir), 0, "spool: empty input leaves no file");
	is_int(spool_bytes(&m, S(".\n"), true, dir, &err), -1,
	    "spool: only a dot line fails");
	ok(err.kind == ERR_DATAERR && count_entries(dir) == 0,
	    "spool: only a dot line: ERR_DATAERR, no file left");
	is_int(spool_bytes(&m, S(".\nrest\n"), true, dir, &err), 0,
	    "spool: a dot line followed by more input (a file) is text");
	ok(m.size == 9 && spool_content_is(&m, S(".\r\nrest\r\n")) &&
	    !m.dot_removed, "spool: ... all of it kept");
	message_release(&m);
	is_int(spool_bytes(&m, S("a\n.\n"), true, dir, &err), 0,
	    "spool: a dot as the last line of a file");
	ok(m.size == 3 && m.dot_removed, "spool: ... is removed, dot_removed");
	message_release(&m);
	is_int(spool_bytes(&m, S(".\n"), false, dir, &err), 0,
	    "spool: a dot line with -i is a message");
	ok(m.size == 3, "spool: ... of 3 bytes");
	message_release(&m);

	snprintf(missing, sizeof(missing), "%s/no/such/dir", tmpdir);
	is_int(spool_bytes(&m, S("a\n"), true, missing, &err), -1,
	    "spool: missing spool dir fails");
	ok(err.kind == ERR_CANTCREAT && strstr(err.message, missing) != NULL,
	    "spool: missing dir: %s", err.message);
	ok(m.fd == -1 && m.path == NULL, "spool: failed spool: no fd/path");

	fd = open("/dev/null", O_WRONLY);
	error_init(&err);
	is_int(message_spool(&m, fd, &o, &err), -1, "spool: read error");
	close(fd);
	ok(err.kind == ERR_IOERR && count_entries(dir) == 0,
	    "spool: read error: ERR_IOERR, no file left (%s)", err.message);
}

/* A file size limit makes write() fail like a full disk. */
static void
test_spool_write_error(const char *dir)
{
	static char big[10000];
	struct message_opts o = { .dot_ends = true, .spool_dir = dir };
	struct message m;
	struct error err;
	struct rlimit old, lim;
	int fd, r;

	memset(big, 'x', sizeof(big));
	fd = data_fd(big, sizeof(big));
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim) < 0) {
		ok(1, "spool: write error # SKIP setrlimit: %s",
		    strerror(errno));
		close(fd);
		return;
	}
	error_init(&err);
	message_init(&m);
	r = message_spool(&m, fd, &o, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	close(fd);
	is_int(r, -1, "spool: write error fails");
	ok(err.kind == ERR_IOERR && strstr(err.message, "cannot write spool "
	    "file '") != NULL, "spool: write error: %s", err.message);
	is_int(count_entries(dir), 0, "spool: write error leaves no file");
}

/*
 * On a terminal the "." line stops reading: a terminal that stays open is
 * fine. From a pipe, a "." line followed by more input is text.
 */
static void
test_spool_dot_tty_pipe(const char *dir)
{
	struct message_opts o = { .dot_ends = true, .spool_dir = dir };
	struct message m;
	struct error err;
	int master, slave, p[2];

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
	    (slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0 ||
	    write(master, S("a\n.\nb\n")) != 6)
		bail_out("pty: %s", strerror(errno));
	alarm(20);		/* a hang here is a failure */
	error_init(&err);
	message_init(&m);
	is_int(message_spool(&m, slave, &o, &err), 0, "spool: dot line on a "
	    "terminal that stays open");
	alarm(0);
	ok(m.size == 3 && spool_content_is(&m, S("a\r\n")),
	    "spool: a terminal stops at the dot line");
	message_release(&m);
	close(slave);
	close(master);

	if (pipe(p) < 0 || write(p[1], S("a\n.\nb\n.\n")) != 8)
		bail_out("pipe: %s", strerror(errno));
	close(p[1]);
	error_init(&err);
	message_init(&m);
	is_int(message_spool(&m, p[0], &o, &err), 0, "spool: dot lines on a "
	    "pipe");
	ok(m.size == 9 && spool_content_is(&m, S("a\r\n.\r\nb\r\n")) &&
	    m.dot_removed, "spool: a pipe is read to its end, the last dot "
	    "line removed");
	message_release(&m);
	close(p[0]);
}

/* Writes n bytes of 63-byte lines to fd, then exits. */
static void
producer(int fd, size_t n)
{
	static char chunk[64 * 1024];
	size_t k;
	ssize_t w;

	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = i % 64 == 63 ? '\n' : 'a' + i % 26;
	while (n > 0) {
		k = n < sizeof(chunk) ? n : sizeof(chunk);
		w = write(fd, chunk, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);
		n -= (size_t)w;
	}
	_exit(0);
}

static void
test_spool_memory(const char *dir)
{
	const size_t total = (size_t)50 << 20;	/* a multiple of 64 */
	struct message_opts o = { .dot_ends = true, .spool_dir = dir };
	struct rusage before, after;
	struct message m;
	struct error err;
	int p[2], status;
	pid_t pid;

	fflush(stdout);		/* the child must not print it again */
	if (pipe(p) < 0 || (pid = fork()) < 0)
		bail_out("pipe/fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		producer(p[1], total);
	}
	close(p[1]);
	getrusage(RUSAGE_SELF, &before);
	error_init(&err);
	message_init(&m);
	is_int(message_spool(&m, p[0], &o, &err), 0, "spool: 50 MB from "
	    "a pipe");
	getrusage(RUSAGE_SELF, &after);
	close(p[0]);
	waitpid(pid, &status, 0);
	is_int(m.size, (off_t)(total / 64 * 65), "spool: 50 MB: size");
	ok(m.max_line == 63 && !m.eightbit, "spool: 50 MB: max_line 63");
	ok(after.ru_maxrss - before.ru_maxrss < 4096, "spool: 50 MB: max "
	    "RSS grew by %ld KiB (< 4096)",
	    after.ru_maxrss - before.ru_maxrss);
	message_release(&m);
}

/* ---------------------------------------------------------------- spool dir */

static void
set_env(const char *name, const char *value)
{
	if (value == NULL)
		unsetenv(name);
	else
		setenv(name, value, 1);
}

/* message_spool_dir() with XDG_STATE_HOME, HOME, TMPDIR as given. */
static int
spool_dir_with(const char *xdg, const char *home, const char *tmp,
    char *buf, size_t size, struct error *err)
{
	set_env("XDG_STATE_HOME", xdg);
	set_env("HOME", home);
	set_env("TMPDIR", tmp);
	error_init(err);
	return message_spool_dir(buf, size, err);
}

static bool
is_private_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 07777) == 0700;
}

static void
test_spool_dir(void)
{
	char state[PATH_MAX], want[PATH_MAX], got[PATH_MAX], yubin[PATH_MAX];
	struct error err;
	mode_t old;

	snprintf(state, sizeof(state), "%s/state", tmpdir);
	snprintf(want, sizeof(want), "%s/yubin/queue/tmp", state);
	snprintf(yubin, sizeof(yubin), "%s/yubin", state);
	old = umask(0022);
	is_int(spool_dir_with(state, NULL, NULL, got, sizeof(got), &err), 0,
	    "spool dir: XDG_STATE_HOME");
	umask(old);
	is_str(got, want, "spool dir: $XDG_STATE_HOME/yubin/queue/tmp");
	ok(is_private_dir(want) && is_private_dir(yubin), "spool dir: "
	    "created with mode 0700 (umask 022)");
	is_int(spool_dir_with(state, NULL, NULL, got, sizeof(got), &err), 0,
	    "spool dir: second call");
	is_str(got, want, "spool dir: same dir again");

	snprintf(state, sizeof(state), "%s/home", tmpdir);
	mkdir_or_die(state);
	snprintf(want, sizeof(want), "%s/.local/state/yubin/queue/tmp",
	    state);
	old = umask(0277);
	is_int(spool_dir_with("relative/xdg", state, NULL, got, sizeof(got),
	    &err), 0, "spool dir: relative XDG_STATE_HOME is ignored");
	umask(old);
	is_str(got, want, "spool dir: $HOME/.local/state/yubin/queue/tmp");
	ok(is_private_dir(want), "spool dir: mode 0700 under umask 0277");
	is_int(spool_dir_with(NULL, state, NULL, got, sizeof(got), &err), 0,
	    "spool dir: XDG_STATE_HOME unset (cron)");
	is_str(got, want, "spool dir: cron gets the same dir");
}

static void
test_spool_dir_refused(void)
{
	char state[PATH_MAX], dir[PATH_MAX], target[PATH_MAX], got[PATH_MAX];
	struct error err;

	snprintf(state, sizeof(state), "%s/planted", tmpdir);
	snprintf(dir, sizeof(dir), "%s/yubin", state);
	mkdir_or_die(state);
	mkdir_or_die(dir);
	snprintf(dir, sizeof(dir), "%s/yubin/queue", state);
	mkdir_or_die(dir);
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	mkdir_or_die(target);
	snprintf(dir, sizeof(dir), "%s/yubin/queue/tmp", state);
	if (symlink(target, dir) < 0)
		printf("# symlink: %s\n", strerror(errno));
	is_int(spool_dir_with(state, NULL, NULL, got, sizeof(got), &err), -1,
	    "spool dir: a symlink is refused");
	ok(err.kind == ERR_CANTCREAT && strstr(err.message, dir) != NULL &&
	    strstr(err.message, "symbolic link") != NULL, "spool dir: %s",
	    err.message);
	unlink(dir);

	if (geteuid() != 0) {
		ok(1, "spool dir: foreign owner # SKIP needs root");
		return;
	}
	mkdir_or_die(dir);
	if (chown(dir, 65534, 65534) < 0)
		printf("# chown: %s\n", strerror(errno));
	is_int(spool_dir_with(state, NULL, NULL, got, sizeof(got), &err), -1,
	    "spool dir: a foreign owner is refused (%s)", err.message);
}

/*
 * Root writes everywhere, so as root the read-only home is checked in a
 * child that has become nobody (65534): the home is nobody's, mode 0500.
 */
static void
read_only_home_as_nobody(const char *home, const char *tmp)
{
	char got[PATH_MAX] = "";
	struct error err;
	int fds[2], status = 0;
	ssize_t n = 0;
	pid_t pid;

	if (chmod(tmpdir, 0711) < 0 || chown(home, 65534, 65534) < 0 ||
	    chown(tmp, 65534, 65534) < 0 || pipe(fds) < 0) {
		ok(0, "spool dir: read-only home: set-up as nobody failed");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		spool_dir_with(NULL, home, tmp, got, sizeof(got), &err);
		_exit(write(fds[1], got, strlen(got)) < 0);
	}
	close(fds[1]);
	if (pid > 0)
		n = read(fds[0], got, sizeof(got) - 1);
	close(fds[0]);
	got[n > 0 ? n : 0] = '\0';
	if (pid > 0)
		waitpid(pid, &status, 0);
	is_str(got, tmp, "spool dir: read-only home (as nobody): falls "
	    "back to $TMPDIR");
}

static void
test_spool_dir_fallback(void)
{
	char file[PATH_MAX], tmp[PATH_MAX], got[PATH_MAX];
	struct error err;
	int fd;

	/* a regular file where the state dir should be: cannot create */
	snprintf(file, sizeof(file), "%s/not-a-dir", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	snprintf(tmp, sizeof(tmp), "%s/tmpdir", tmpdir);
	mkdir_or_die(tmp);
	is_int(spool_dir_with(file, NULL, tmp, got, sizeof(got), &err), 0,
	    "spool dir: cannot create: falls back");
	is_str(got, tmp, "spool dir: ... to $TMPDIR");
	spool_dir_with(file, NULL, NULL, got, sizeof(got), &err);
	is_str(got, "/tmp", "spool dir: ... to /tmp without TMPDIR");
	spool_dir_with(file, NULL, "rel", got, sizeof(got), &err);
	is_str(got, "/tmp", "spool dir: ... to /tmp for a relative TMPDIR");

	snprintf(file, sizeof(file), "%s/read-only-home", tmpdir);
	mkdir_or_die(file);
	chmod(file, 0500);
	if (geteuid() == 0) {
		read_only_home_as_nobody(file, tmp);
		return;
	}
	spool_dir_with(NULL, file, tmp, got, sizeof(got), &err);
	is_str(got, tmp, "spool dir: read-only home: falls back to $TMPDIR");
}

/* message_spool() with no spool_dir uses message_spool_dir(). */
static void
test_spool_default_dir(void)
{
	struct message_opts o = { .dot_ends = true, .spool_dir = NULL };
	char state[PATH_MAX], want[PATH_MAX];
	struct message m;
	struct error err;
	int fd = data_fd(S("hi\n"));

	snprintf(state, sizeof(state), "%s/state", tmpdir);
	snprintf(want, sizeof(want), "%s/yubin/queue/tmp/spool.", state);
	set_env("XDG_STATE_HOME", state);
	error_init(&err);
	message_init(&m);
	is_int(message_spool(&m, fd, &o, &err), 0, "spool: default dir");
	ok(m.path != NULL && strncmp(m.path, want, strlen(want)) == 0,
	    "spool: file in $XDG_STATE_HOME/yubin/queue/tmp");
	message_release(&m);
	close(fd);
}

/* ---------------------------------------------------------------- main */

static void
rm_rf(const char *path)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", path);
}

static void
setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-message.XXXXXX",
	    t != NULL && t[0] == '/' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		bail_out("mkdtemp: %s", strerror(errno));
	test_rng_seed(TEST_RNG_SEED);
}

int
main(void)
{
	char spool[PATH_MAX];

	setup();
	snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
	mkdir_or_die(spool);
	test_spool_memory(spool);	/* first: a clean max RSS baseline */
	for (size_t i = 0; i < ARRAY_SIZE(crlf_cases); i++)
		test_crlf_case(&crlf_cases[i]);
	test_crlf_boundaries();
	test_crlf_bound();
	test_dotstuff();
	test_e2e();
	test_random();
	test_spool_basic(spool);
	test_spool_errors(spool);
	test_spool_write_error(spool);
	test_spool_dot_tty_pipe(spool);
	test_spool_dir();
	test_spool_dir_refused();
	test_spool_dir_fallback();
	test_spool_default_dir();
	rm_rf(tmpdir);
	return done_testing();
}
