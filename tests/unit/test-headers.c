/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-headers.c -- the header section (headers.h): where it ends, fed at
 * once and byte by byte; fields, adding and removing; the Date format;
 * display names; and message_spool() with a header hook: the message
 * robustness cases of yubin(1) "MESSAGE HANDLING".
 *
 * YUBIN_TEST_SEED=N repeats a randomized run.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "headers.h"
#include "message.h"
#include "util.h"
#include "tap.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1	/* string literal with its length */

static char tmpdir[] = "/tmp/yubin-test-headers.XXXXXX";

/* ---------------------------------------------------------------- scan */

struct scan_case {
	const char *name;
	const char *in;
	size_t len;
	bool eof;
	enum headers_end want;
	size_t end;		/* for the END_ results */
	size_t skip;
};

static const struct scan_case scans[] = {
	{ "usual", S("To: a\r\nSubject: b\r\n\r\nbody\r\n"), true,
	    HEADERS_END_EMPTY, 19, 0 },
	{ "folded", S("To: a,\r\n b\r\n\tc\r\n\r\n"), true,
	    HEADERS_END_EMPTY, 16, 0 },
	{ "no header section", S("hello world\r\n"), true,
	    HEADERS_END_BODY, 0, 0 },
	{ "empty first line", S("\r\nbody\r\n"), true, HEADERS_END_EMPTY, 0,
	    0 },
	{ "continuation first", S(" To: a\r\n"), true, HEADERS_END_BODY, 0,
	    0 },
	{ "malformed line ends it", S("To: a\r\nnot a header\r\nx: y\r\n"),
	    true, HEADERS_END_BODY, 7, 0 },
	{ "only headers", S("To: a\r\nSubject: b\r\n"), true,
	    HEADERS_END_EOF, 19, 0 },
	{ "only headers, more to come", S("To: a\r\nSubject: b\r\n"), false,
	    HEADERS_MORE, 0, 0 },
	{ "partial field waits", S("To: a\r\nSubj"), false, HEADERS_MORE, 0,
	    0 },
	{ "partial non-field", S("To: a\r\nno colon here"), false,
	    HEADERS_END_BODY, 7, 0 },
	{ "blank before colon", S("Subject : x\r\n\r\n"), true,
	    HEADERS_END_EMPTY, 13, 0 },
	{ "colon first", S(": x\r\n"), true, HEADERS_END_BODY, 0, 0 },
	{ "8-bit name", S("T\xc3\xb6: x\r\n"), true, HEADERS_END_BODY, 0, 0 },
	{ "NUL in name", S("T\0o: x\r\n"), true, HEADERS_END_BODY, 0, 0 },
	{ "NUL in value", S("To: \0\r\n\r\n"), true, HEADERS_END_EMPTY, 7,
	    0 },
	{ "mbox From line", S("From abc Mon Sep 17 00:00:00 2001\r\nTo: a\r\n"
	    "\r\n"), true, HEADERS_END_EMPTY, 42, 35 },
	{ "mbox From, no fields", S("From abc Mon Sep 17 00:00:00 2001\r\n"
	    "hi\r\n"), true, HEADERS_END_BODY, 35, 35 },
	{ "From text is body", S("From the logs: all fine\r\n"), true,
	    HEADERS_END_BODY, 0, 0 },
	{ "partial From waits", S("From abc Mon"), false, HEADERS_MORE, 0,
	    0 },
	{ "From: is a field", S("From: a@b\r\n\r\n"), true,
	    HEADERS_END_EMPTY, 11, 0 },
	{ "mbox From only later", S("To: a\r\nFrom x Mon y\r\n"), true,
	    HEADERS_END_BODY, 7, 0 },
};

static void
scan_once(const struct scan_case *t, const char *buf, size_t len,
    bool eof, const char *how)
{
	struct headers_scan s;
	enum headers_end r;
	size_t end = 0;

	headers_scan_init(&s);
	r = headers_scan(&s, buf, len, eof, &end);
	is_int(r, t->want, "scan %s (%s): result", t->name, how);
	if (r != HEADERS_MORE)
		is_int(end, t->end, "scan %s (%s): end", t->name, how);
	is_int(s.skip, t->skip, "scan %s (%s): skip", t->name, how);
}

/* The same bytes fed one more byte at a time: the same answer. */
static void
scan_bytewise(const struct scan_case *t)
{
	struct headers_scan s;
	enum headers_end r = HEADERS_MORE;
	size_t end = 0, n;

	headers_scan_init(&s);
	for (n = 1; n <= t->len && r == HEADERS_MORE; n++)
		r = headers_scan(&s, t->in, n, t->eof && n == t->len, &end);
	ok(r == t->want && (r == HEADERS_MORE || end == t->end),
	    "scan %s (byte by byte): same result", t->name);
}

static void
test_scan(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(scans); i++) {
		scan_once(&scans[i], scans[i].in, scans[i].len, scans[i].eof,
		    "at once");
		scan_bytewise(&scans[i]);
	}
}

/* A name of 998 bytes is a field; of 999 it is body. */
static void
test_scan_long_name(void)
{
	struct headers_scan s;
	size_t end = 0, n = HEADERS_NAME_MAX + 1;
	char *buf = xmalloc(n + 8);

	memset(buf, 'X', n);
	memcpy(buf + n - 1, ": v\r\n\r\n", 7);
	headers_scan_init(&s);
	is_int(headers_scan(&s, buf, n + 6, true, &end), HEADERS_END_EMPTY,
	    "998-byte name is a field");
	memset(buf, 'X', n);
	headers_scan_init(&s);
	is_int(headers_scan(&s, buf, n, false, &end), HEADERS_END_BODY,
	    "999 name bytes, no colon yet: body at once");
	free(buf);
}

/* ---------------------------------------------------------------- fields */

static void
test_fields(void)
{
	static const char in[] = "To: a,\r\n b\r\nSubject: hi\r\ncc:c\r\n"
	    "Bcc: x\r\nbcc : y\r\n";
	struct headers h;
	struct error err;
	char name[8];
	const char *v;
	size_t len;

	headers_init(&h);
	error_init(&err);
	ok(headers_parse(&h, in, sizeof(in) - 1, &err) == 0 && h.n == 5,
	    "parse: 5 fields");
	is_mem(h.f[0].raw, h.f[0].len, "To: a,\r\n b\r\n", 12,
	    "parse: folded field kept whole");
	v = header_value(&h.f[0], &len);
	is_mem(v, len, " a,\r\n b", 7, "value: after the colon, no CRLF");
	ok(header_is(&h.f[2], "CC") && !header_is(&h.f[2], "C"),
	    "header_is: case-insensitive, whole name");
	is_str(header_name(&h.f[4], name, sizeof(name)), "bcc",
	    "name without the blank before the colon");
	ok(headers_find(&h, "BCC", 0) == 3 && headers_find(&h, "bcc", 4) == 4
	    && headers_find(&h, "Date", 0) == h.n, "find");
	headers_add(&h, "Date", "now");
	headers_add(&h, "Message-ID", "<x@y>");
	ok(h.n == 7 && h.nadded == 2 && header_is(&h.f[0], "Date") &&
	    header_is(&h.f[1], "Message-ID") && header_is(&h.f[2], "To"),
	    "added fields first, in order");
	is_int(headers_remove_all(&h, "bcc"), 2, "remove_all: both Bcc");
	headers_remove(&h, 0);
	ok(h.n == 4 && h.nadded == 1 && header_is(&h.f[0], "Message-ID"),
	    "remove an added field");
	is_int(headers_size(&h), 19 + 12 + 13 + 6, "size");
	headers_release(&h);
	ok(headers_parse(&h, S("no field\r\n"), &err) == -1 &&
	    err.kind == ERR_SOFTWARE, "parse: a non-field line is a bug");
	headers_release(&h);
	ok(header_has_prefix(&(struct header_field){ .raw = (char *)
	    "Resent-To: x\r\n", .len = 14, .namelen = 9 }, "resent-"),
	    "prefix");
}

/* ---------------------------------------------------------------- writing */

static void
test_date(void)
{
	char buf[HEADERS_DATE_MAX];

	setenv("TZ", "UTC", 1);
	tzset();
	is_str(headers_date(0, HEADERS_ZONE_LOCAL, buf, sizeof(buf)),
	    "Thu, 01 Jan 1970 00:00:00 +0000", "date: epoch in UTC");
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	is_str(headers_date(1795600801, HEADERS_ZONE_LOCAL, buf, sizeof(buf)),
	    "Wed, 25 Nov 2026 15:30:01 +0530", "date: +0530");
	is_str(headers_date(1795600801, HEADERS_ZONE_UTC, buf, sizeof(buf)),
	    "Wed, 25 Nov 2026 10:00:01 +0000", "date: UTC whatever TZ says");
	setenv("TZ", "America/St_Johns", 1);
	tzset();
	is_str(headers_date(1795600801, HEADERS_ZONE_LOCAL, buf, sizeof(buf)),
	    "Wed, 25 Nov 2026 06:30:01 -0330", "date: -0330");
	is_str(headers_date(951782400, HEADERS_ZONE_UTC, buf, sizeof(buf)),
	    "Tue, 29 Feb 2000 00:00:00 +0000", "date: UTC, leap day");
	is_str(headers_date((time_t)1 << 62, HEADERS_ZONE_UTC, buf,
	    sizeof(buf)), "Thu, 01 Jan 1970 00:00:00 +0000",
	    "date: a time that does not break down is the epoch");
	unsetenv("TZ");
	tzset();
}

static void
phrase_is(const char *name, const char *want, const char *what)
{
	struct dynbuf b;
	struct error err;

	dynbuf_init(&b, 4096);
	error_init(&err);
	ok(headers_phrase(name, "full name", &b, &err) == 0, "phrase %s: ok",
	    what);
	is_str(b.data, want, "phrase %s", what);
	dynbuf_release(&b);
}

static void
test_phrase(void)
{
	struct dynbuf b;
	struct error err;

	phrase_is("Alice Example", "Alice Example", "atoms");
	phrase_is("Doe, John", "\"Doe, John\"", "comma quoted");
	phrase_is("J. \"Q\" Pub\\lic", "\"J. \\\"Q\\\" Pub\\\\lic\"",
	    "quotes and backslash escaped");
	phrase_is("Jos\xc3\xa9", "=?UTF-8?B?Sm9zw6k=?=", "UTF-8 encoded");
	phrase_is("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x",
	    "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?="
	    "\r\n =?UTF-8?B?w6l4?=", "long name folded between words, "
	    "not inside a character");
	dynbuf_init(&b, 4096);
	error_init(&err);
	ok(headers_phrase("Eve\r\nBcc: x@y", "full name", &b, &err) == -1 &&
	    err.kind == ERR_DATAERR, "phrase: CRLF refused");
	is_str(err.message, "full name contains a control character (0x0d)",
	    "phrase: CRLF message");
	dynbuf_release(&b);
}

/* ---------------------------------------------------------------- spool */

struct hook_log {
	int calls;
	size_t nfields;
	bool fail;
	bool remove_bcc;
};

static int
test_hook(struct headers *h, void *arg, struct error *err)
{
	struct hook_log *l = arg;

	l->calls++;
	l->nfields = h->n;
	if (l->fail)
		return error_set(err, ERR_DATAERR, "hook says no");
	if (l->remove_bcc)
		headers_remove_all(h, "Bcc");
	headers_add(h, "X-Added", "1");
	return 0;
}

static int
input_fd(const char *data, size_t len)
{
	return test_data_fd(tmpdir, data, len);
}

/* The spool file's bytes into out (at most cap). */
static size_t
slurp(int fd, char *out, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap && (r = read(fd, out + n, cap - n)) > 0)
		n += (size_t)r;
	return n;
}

struct spool_case {
	const char *name;
	const char *in;
	size_t len;
	bool dot_ends;
	const char *want;
	size_t wantlen;
	size_t fields;		/* what the hook saw */
};

static const struct spool_case spools[] = {
	{ "usual", S("Subject: x\nTo: a@b\n\nbody\n"), false,
	    S("X-Added: 1\r\nSubject: x\r\nTo: a@b\r\n\r\nbody\r\n"), 2 },
	{ "no header section", S("hello\nworld"), false,
	    S("X-Added: 1\r\n\r\nhello\r\nworld\r\n"), 0 },
	{ "malformed line ends the header", S("Subject: x\nnot a header\n"
	    "To: a@b\n"), false, S("X-Added: 1\r\nSubject: x\r\n\r\nnot a "
	    "header\r\nTo: a@b\r\n"), 1 },
	{ "only headers, no final newline", S("Subject: x\nTo: a@b"), false,
	    S("X-Added: 1\r\nSubject: x\r\nTo: a@b\r\n"), 2 },
	{ "empty line first", S("\nbody\n"), false,
	    S("X-Added: 1\r\n\r\nbody\r\n"), 0 },
	{ "folding kept", S("To: a@b,\n c@d\nSubject:\tx\n\nb\n"), false,
	    S("X-Added: 1\r\nTo: a@b,\r\n c@d\r\nSubject:\tx\r\n\r\nb\r\n"),
	    2 },
	{ "mbox From dropped", S("From x@y Mon Sep 17 00:00:00 2001\n"
	    "Subject: p\n\nb\n"), false, S("X-Added: 1\r\nSubject: p\r\n\r\n"
	    "b\r\n"), 1 },
	/* from a file: a dot line is text unless it is the last line */
	{ "dot line in the header, more after it",
	    S("Subject: x\n.\nTo: a@b\n"), true,
	    S("X-Added: 1\r\nSubject: x\r\n\r\n.\r\nTo: a@b\r\n"), 1 },
	{ "dot line last, after the header", S("Subject: x\n.\n"), true,
	    S("X-Added: 1\r\nSubject: x\r\n"), 1 },
	{ "bare CR and CRLF", S("Subject: x\r\rb\r\n"), false,
	    S("X-Added: 1\r\nSubject: x\r\n\r\nb\r\n"), 1 },
	{ "binary junk", S("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), false,
	    S("X-Added: 1\r\n\r\n\x89PNG\r\n\x1a\r\n\r\nIHDR\r\n"), 0 },
	{ "NUL in body dropped", S("S: x\n\na\0b\0\n"), false,
	    S("X-Added: 1\r\nS: x\r\n\r\nab\r\n"), 1 },
	{ "NUL in header kept", S("S: \0\n\nb\n"), false,
	    S("X-Added: 1\r\nS: \0\r\n\r\nb\r\n"), 1 },
	{ "Bcc removed", S("Bcc: x\nTo: a\nbcc: y\n\nb\n"), false,
	    S("X-Added: 1\r\nTo: a\r\n\r\nb\r\n"), 3 },
};

static int
spool_with(const struct spool_case *t, struct hook_log *log,
    struct message *m, struct error *err)
{
	struct message_opts o = {
		.dot_ends = t->dot_ends, .spool_dir = tmpdir,
		.header_hook = test_hook, .hook_arg = log, .strip_nul = true,
	};
	int fd = input_fd(t->in, t->len), r;

	message_init(m);
	error_init(err);
	r = message_spool(m, fd, &o, err);
	close(fd);
	return r;
}

static void
test_spool_cases(void)
{
	static char got[4096];

	for (size_t i = 0; i < ARRAY_SIZE(spools); i++) {
		const struct spool_case *t = &spools[i];
		struct hook_log log = { .remove_bcc = true };
		struct message m;
		struct error err;
		size_t n;

		if (!ok(spool_with(t, &log, &m, &err) == 0, "spool %s: ok",
		    t->name))
			printf("#   %s\n", err.message);
		n = m.fd >= 0 ? slurp(m.fd, got, sizeof(got)) : 0;
		is_mem(got, n, t->want, t->wantlen, "spool %s: content",
		    t->name);
		ok(log.calls == 1 && log.nfields == t->fields && m.size ==
		    (off_t)n, "spool %s: hook once with %zu fields, size",
		    t->name, t->fields);
		message_release(&m);
	}
}

static void
test_spool_nul_counts(void)
{
	struct spool_case t = { "nul", S("S: \0\n\na\0b\0\n"), false, NULL, 0,
	    1 };
	struct hook_log log = { 0 };
	struct message m;
	struct error err;

	ok(spool_with(&t, &log, &m, &err) == 0 && m.nul_removed == 2 &&
	    m.has_nul, "NUL: 2 dropped from the body, 1 left in a field");
	message_release(&m);
}

static size_t
count_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	size_t n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static void
test_spool_errors(void)
{
	struct spool_case empty = { "empty", S(""), false, NULL, 0, 0 };
	struct spool_case dot = { "dot", S(".\n"), true, NULL, 0, 0 };
	struct spool_case some = { "some", S("To: a\n\nb\n"), false, NULL, 0,
	    1 };
	struct hook_log log = { 0 };
	struct message m;
	struct error err;

	ok(spool_with(&empty, &log, &m, &err) == -1 && err.kind ==
	    ERR_DATAERR && log.calls == 0, "empty input: 65, no hook call");
	ok(spool_with(&dot, &log, &m, &err) == -1 && err.kind ==
	    ERR_DATAERR && log.calls == 0, "only a dot line: 65, no hook");
	log.fail = true;
	ok(spool_with(&some, &log, &m, &err) == -1 &&
	    strcmp(err.message, "hook says no") == 0 && m.fd == -1,
	    "hook error fails the spool");
	is_int(count_entries(), 0, "failed spools leave no file");
}

/* A header section past 1 MiB is refused; a long body line is not. */
static void
test_spool_big(void)
{
	size_t n = HEADERS_MAX + 10;
	char *in = xmalloc(n + 1);
	struct spool_case t = { "big", in, n, false, NULL, 0, 0 };
	struct hook_log log = { 0 };
	struct message m;
	struct error err;

	memcpy(in, "X-Big: ", 7);
	memset(in + 7, 'a', n - 7);
	ok(spool_with(&t, &log, &m, &err) == -1 && err.kind == ERR_DATAERR,
	    "header field past 1 MiB refused");
	is_str(err.message, "header section larger than 1 MiB",
	    "header too big: message");
	memcpy(in, "Subject: x\n\n", 12);
	ok(spool_with(&t, &log, &m, &err) == 0 && m.max_line == n - 12,
	    "body line of 1 MiB: sent as it is, max_line %zu", m.max_line);
	message_release(&m);
	memset(in, 'a', n);		/* no colon: body at byte 999 */
	ok(spool_with(&t, &log, &m, &err) == 0 && log.nfields == 0,
	    "1 MiB line without a colon: body");
	message_release(&m);
	free(in);
}

/* ---------------------------------------------------------------- random */

/* Random bytes over what matters to headers: spool never fails oddly. */
static void
test_random(void)
{
	static const char alphabet[] = "To:Bc \t\r\n.\0\xff@,F";
	static char in[512], got[4096];
	size_t bad = 0;

	test_rng_seed(TEST_RNG_SEED);
	for (int i = 0; i < 2000; i++) {
		size_t len = 1 + test_rng_below(sizeof(in) - 1);
		struct spool_case t = { "random", in, len, test_rng() & 1,
		    NULL, 0, 0 };
		struct hook_log log = { .remove_bcc = true };
		struct message m;
		struct error err;
		int r;

		for (size_t k = 0; k < len; k++)
			in[k] = alphabet[test_rng_below(sizeof(alphabet) - 1)];
		r = spool_with(&t, &log, &m, &err);
		if (r == 0 && (slurp(m.fd, got, sizeof(got)) != (size_t)m.size
		    || memcmp(got, "X-Added: 1\r\n", 12) != 0))
			bad++;
		if (r < 0 && (err.kind != ERR_DATAERR || log.calls != 0))
			bad++;
		message_release(&m);
	}
	ok(bad == 0 && count_entries() == 0, "random: 2000 inputs, each "
	    "spooled with the added field first or refused as empty");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		bail_out("mkdtemp: %s", strerror(errno));
	test_scan();
	test_scan_long_name();
	test_fields();
	test_date();
	test_phrase();
	test_spool_cases();
	test_spool_nul_counts();
	test_spool_errors();
	test_spool_big();
	test_random();
	rmdir(tmpdir);
	return done_testing();
}
