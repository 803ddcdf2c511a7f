/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz.c -- helpers the fuzz targets share; see fuzz.h. The SMTP wire
 * invariants live here because two targets drive the state machine: the
 * smtp target with an envelope and hostile replies, the qfile target with
 * the envelope of a (hand-edited) queue file.
 */
#include "autoconfig.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "reply.h"
#include "smtp.h"
#include "util.h"

#include "fuzz.h"

void
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n%s:%d: invariant broken: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* ---------------------------------------------------------------- tmpdir */

static char tmpdir[256];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void
fuzz_rm_tree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
rm_tmpdir(void)
{
	if (tmpdir[0] != '\0')
		fuzz_rm_tree(tmpdir);
}

/* Where scratch directories go: $FUZZ_TMPDIR, /dev/shm, $TMPDIR, /tmp. */
const char *
fuzz_tmpbase(void)
{
	const char *base = getenv("FUZZ_TMPDIR");
	struct stat st;

	if (base != NULL && base[0] == '/')
		return base;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	base = getenv("TMPDIR");
	return base != NULL && base[0] == '/' ? base : "/tmp";
}

const char *
fuzz_tmpdir(void)
{
	if (tmpdir[0] != '\0')
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/yubin-fuzz.XXXXXX",
	    fuzz_tmpbase());
	FUZZ_CHECK(mkdtemp(tmpdir) != NULL, "cannot make %s", tmpdir);
	atexit(rm_tmpdir);
	return tmpdir;
}

/* ---------------------------------------------------------------- lines */

void
fuzz_lines_init(struct fuzz_lines *l, const uint8_t *data, size_t size)
{
	l->p = (const char *)data;
	l->end = l->p + size;
}

bool
fuzz_lines_next(struct fuzz_lines *l, const char **line, size_t *len)
{
	const char *nl;
	size_t n;

	if (l->p >= l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	n = (size_t)((nl != NULL ? nl : l->end) - l->p);
	*line = l->p;
	l->p += n + (nl != NULL);
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*len = n;
	return true;
}

/* ---------------------------------------------------------------- wire */

void
fuzz_wire_begin(struct fuzz_wire *w, const struct envelope *env)
{
	w->env = env;
	w->next_rcpt = 0;
	w->mail_seen = false;
	w->utf8 = false;
}

static bool
is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static bool
has_prefix(const char *s, size_t n, const char *p)
{
	size_t pn = strlen(p);

	return n >= pn && memcmp(s, p, pn) == 0;
}

/* RFC 3461 4 xtext: decode into out; false when malformed. */
static bool
xtext_decode(const char *s, size_t n, struct dynbuf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *h1, *h2;
		char v;

		if (c == '+') {
			if (i + 2 >= n || s[i + 1] == '\0' || s[i + 2] == '\0')
				return false;
			h1 = memchr(hex, s[i + 1], 16);
			h2 = memchr(hex, s[i + 2], 16);
			if (h1 == NULL || h2 == NULL)
				return false;
			v = (char)((h1 - hex) * 16 + (h2 - hex));
			dynbuf_add(out, &v, 1);
			i += 2;
		} else if (c < '!' || c > '~' || c == '=') {
			return false;
		} else {
			dynbuf_add(out, s + i, 1);
		}
	}
	return true;
}

bool
fuzz_notify_ok(const char *v, size_t n)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	size_t i = 0;

	if (n == 5 && strncasecmp(v, "NEVER", 5) == 0)
		return true;
	while (i < n) {
		size_t w = 0, k;

		while (i + w < n && v[i + w] != ',')
			w++;
		for (k = 0; k < ARRAY_SIZE(words); k++)
			if (strlen(words[k]) == w &&
			    strncasecmp(v + i, words[k], w) == 0)
				break;
		if (k == ARRAY_SIZE(words))
			return false;
		i += w + 1;
		if (i == n)
			return false;	/* a trailing comma */
	}
	return n > 0;
}

/* The end of the address after "<": the first '>' after a quoted part. */
static size_t
addr_end(const char *a, size_t n)
{
	size_t i = 0;

	if (n > 0 && a[0] == '"') {
		for (i = 1; i < n && a[i] != '"'; i++)
			if (a[i] == '\\')
				i++;
		i++;
	}
	while (i < n && a[i] != '>')
		i++;
	return i;
}

static size_t
quoted_len(const char *a, size_t n)
{
	size_t i;

	if (n == 0 || a[0] != '"')
		return 0;
	for (i = 1; i < n && a[i] != '"'; i++)
		if (a[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

static void
check_addr(const char *what, const char *a, size_t n,
    const char *want, bool utf8)
{
	size_t q = quoted_len(a, n), at = n;
	const char *wat;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		FUZZ_CHECK(c != '<' && c != '>' && c != '\r' && c != '\n' &&
		    c != '\0', "%s address '%.*s' holds 0x%02x", what,
		    (int)n, a, c);
		FUZZ_CHECK(c != ' ' || i < q, "%s address '%.*s' holds a "
		    "space outside a quoted local part", what, (int)n, a);
	}
	FUZZ_CHECK(want != NULL, "%s with no address to send", what);
	if (utf8 || is_ascii(want, strlen(want))) {
		FUZZ_CHECK(strlen(want) == n && memcmp(a, want, n) == 0,
		    "%s address '%.*s' is not the envelope's '%s'", what,
		    (int)n, a, want);
		return;
	}
	/* Converted to A-labels: the same local part, an LDH domain. */
	for (size_t i = q; i < n; i++)
		if (a[i] == '@')
			at = i;
	wat = strrchr(want, '@');
	FUZZ_CHECK(at < n && wat != NULL && (size_t)(wat - want) == at &&
	    memcmp(a, want, at) == 0, "%s address '%.*s': local part is "
	    "not that of '%s'", what, (int)n, a, want);
	for (size_t i = at + 1; i < n; i++) {
		char c = a[i];

		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.',
		    "%s address '%.*s': the A-label domain of '%s' holds "
		    "'%c'", what, (int)n, a, want, c);
	}
}

#define PARAM_SMTPUTF8 (1u << 2)	/* keys[2] below */

/* One parameter " KEY[=VALUE]" of MAIL FROM (rcpt false) or RCPT TO. */
static void
check_param(const struct smtp *s, const struct envelope *env, bool rcpt,
    const char *p, size_t n, const char *addr, size_t addrlen,
    unsigned *seen)
{
	static const char *const keys[] = { "SIZE=", "BODY=", "SMTPUTF8",
	    "RET=", "ENVID=", "NOTIFY=", "ORCPT=" };
	unsigned ext = s->caps.ext;
	struct dynbuf d;
	size_t k, kl = 0;
	const char *v;
	size_t vn;

	for (k = 0; k < ARRAY_SIZE(keys); k++) {
		kl = strlen(keys[k]);
		if (keys[k][kl - 1] == '=' ? has_prefix(p, n, keys[k]) :
		    n == kl && memcmp(p, keys[k], kl) == 0)
			break;
	}
	FUZZ_CHECK(k < ARRAY_SIZE(keys) && (k >= 5) == rcpt,
	    "%s: parameter '%.*s' is not one yubin adds",
	    rcpt ? "RCPT TO" : "MAIL FROM", (int)n, p);
	FUZZ_CHECK(!(*seen & (1u << k)), "parameter '%s' twice", keys[k]);
	*seen |= 1u << k;
	v = p + kl;
	vn = n - kl;
	dynbuf_init(&d, 4096);
	switch (k) {
	case 0:
		FUZZ_CHECK((ext & SMTP_EXT_SIZE) && vn > 0 && vn < 21,
		    "SIZE= without SIZE, or malformed");
		for (size_t i = 0; i < vn; i++)
			FUZZ_CHECK(v[i] >= '0' && v[i] <= '9', "SIZE=%.*s",
			    (int)vn, v);
		FUZZ_CHECK(strtoll(v, NULL, 10) == (long long)s->info.size,
		    "SIZE=%.*s is not the message size %lld", (int)vn, v,
		    (long long)s->info.size);
		break;
	case 1:
		FUZZ_CHECK(vn == 8 && memcmp(v, "8BITMIME", 8) == 0 &&
		    (ext & SMTP_EXT_8BITMIME) && s->info.eightbit,
		    "BODY=%.*s unasked", (int)vn, v);
		break;
	case 2:
		FUZZ_CHECK(ext & SMTP_EXT_SMTPUTF8, "SMTPUTF8 without the "
		    "extension");
		break;
	case 3:
		FUZZ_CHECK((ext & SMTP_EXT_DSN) && env->dsn_return != NULL &&
		    vn == 4 && (strncasecmp(v, "FULL", 4) == 0 ||
		    strncasecmp(v, "HDRS", 4) == 0), "RET=%.*s unasked or "
		    "malformed", (int)vn, v);
		break;
	case 4:
		FUZZ_CHECK((ext & SMTP_EXT_DSN) && env->dsn_envid != NULL &&
		    xtext_decode(v, vn, &d) && d.data != NULL &&
		    strcmp(d.data, env->dsn_envid) == 0, "ENVID=%.*s unasked "
		    "or not the envelope's", (int)vn, v);
		break;
	case 5:
		FUZZ_CHECK((ext & SMTP_EXT_DSN) && env->dsn_notify != NULL &&
		    fuzz_notify_ok(v, vn), "NOTIFY=%.*s unasked or malformed",
		    (int)vn, v);
		break;
	default:
		FUZZ_CHECK((ext & SMTP_EXT_DSN) && env->dsn_notify != NULL &&
		    has_prefix(v, vn, "rfc822;") &&
		    xtext_decode(v + 7, vn - 7, &d) && d.len == addrlen &&
		    memcmp(d.data, addr, addrlen) == 0,
		    "ORCPT=%.*s unasked or not the address", (int)vn, v);
		break;
	}
	dynbuf_release(&d);
}

/* "MAIL FROM:<a> params" or "RCPT TO:<a> params" (prefix skipped). */
static void
check_envelope_cmd(struct fuzz_wire *w, const struct smtp *s, bool rcpt,
    const char *l, size_t n)
{
	const struct envelope *env = w->env;
	const char *what = rcpt ? "RCPT TO" : "MAIL FROM";
	size_t e = addr_end(l, n), i;
	unsigned seen = 0;
	const char *want;

	FUZZ_CHECK(env != NULL, "%s outside a transaction", what);
	FUZZ_CHECK(e < n, "%s: no '>' after the address: '%.*s'", what,
	    (int)n, l);
	if (rcpt) {
		FUZZ_CHECK(w->mail_seen && w->next_rcpt < env->nrcpt,
		    "RCPT TO number %zu of %zu", w->next_rcpt + 1,
		    env->nrcpt);
		want = env->rcpt[w->next_rcpt++];
	} else {
		FUZZ_CHECK(!w->mail_seen, "MAIL FROM twice");
		w->mail_seen = true;
		want = env->from;
	}
	for (i = e + 1; i < n; ) {
		size_t t;

		FUZZ_CHECK(l[i] == ' ' && i + 1 < n && l[i + 1] != ' ',
		    "%s: '%.*s' after the address", what, (int)(n - i),
		    l + i);
		i++;
		for (t = i; t < n && l[t] != ' '; t++)
			;
		check_param(s, env, rcpt, l + i, t - i, l, e, &seen);
		i = t;
	}
	if (!rcpt)
		w->utf8 = (seen & PARAM_SMTPUTF8) != 0;
	check_addr(what, l, e, want, w->utf8);
}

static bool
base64_line(const char *l, size_t n)
{
	if (n == 1 && l[0] == '*')
		return true;
	for (size_t i = 0; i < n; i++)
		if (!((l[i] >= 'A' && l[i] <= 'Z') || (l[i] >= 'a' &&
		    l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') ||
		    l[i] == '+' || l[i] == '/' || l[i] == '='))
			return false;
	return true;
}

static void
check_auth(const struct smtp *s, const char *l, size_t n)
{
	static const char *const clear_never[] = { "PLAIN", "LOGIN",
	    "XOAUTH2", "OAUTHBEARER" };
	size_t m = 5;

	FUZZ_CHECK(s->tls_active || s->opts.tls == SMTP_TLS_NONE,
	    "AUTH before TLS: '%.*s'", (int)(n < 40 ? n : 40), l);
	while (m < n && l[m] != ' ')
		m++;
	for (size_t i = 0; i < ARRAY_SIZE(clear_never); i++)
		FUZZ_CHECK(s->tls_active || strlen(clear_never[i]) != m - 5 ||
		    memcmp(l + 5, clear_never[i], m - 5) != 0,
		    "AUTH %s in clear text", clear_never[i]);
	FUZZ_CHECK(m >= n || base64_line(l + m + 1, n - m - 1),
	    "AUTH initial response is not base64");
}

static void
check_line(struct fuzz_wire *w, const struct smtp *s, const char *l,
    size_t n)
{
	bool clear_ok = s->opts.tls != SMTP_TLS_STARTTLS || s->tls_active;

	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(l[i] != '\r' && l[i] != '\n' && l[i] != '\0',
		    "command line '%.*s' holds 0x%02x", (int)n, l, l[i]);
	FUZZ_CHECK((s->caps.ext & SMTP_EXT_SMTPUTF8) || is_ascii(l, n),
	    "8-bit command '%.*s' to a server without SMTPUTF8", (int)n, l);
	if (has_prefix(l, n, "MAIL FROM:<") || has_prefix(l, n, "RCPT TO:<")) {
		bool rcpt = l[0] == 'R';
		size_t skip = rcpt ? 9 : 11;

		FUZZ_CHECK(clear_ok, "'%.*s' before STARTTLS", (int)n, l);
		check_envelope_cmd(w, s, rcpt, l + skip, n - skip);
	} else if (has_prefix(l, n, "AUTH ")) {
		check_auth(s, l, n);
	} else if (has_prefix(l, n, "BDAT ")) {
		FUZZ_CHECK(clear_ok && (s->caps.ext & SMTP_EXT_CHUNKING),
		    "BDAT before STARTTLS or without CHUNKING");
		FUZZ_CHECK(strtoll(l + 5, NULL, 10) == (long long)s->info.size,
		    "'%.*s' is not the message size", (int)n, l);
	} else if (n == 4 && memcmp(l, "DATA", 4) == 0) {
		FUZZ_CHECK(clear_ok, "DATA before STARTTLS");
	} else if (has_prefix(l, n, "LHLO ")) {
		FUZZ_CHECK(s->opts.lmtp, "LHLO without LMTP");
	} else if (has_prefix(l, n, "EHLO ") || has_prefix(l, n, "HELO ")) {
		FUZZ_CHECK(!s->opts.lmtp, "'%.*s' with LMTP (RFC 2033 4.1)",
		    (int)n, l);
	} else if ((n == 8 && memcmp(l, "STARTTLS", 8) == 0) ||
	    (n == 4 && memcmp(l, "RSET", 4) == 0) ||
	    (n == 4 && memcmp(l, "QUIT", 4) == 0)) {
		/* the verbs with nothing from the envelope */
	} else {
		FUZZ_CHECK(base64_line(l, n), "unknown command line '%.*s'",
		    (int)n, l);
	}
}

void
fuzz_wire_check(struct fuzz_wire *w, struct smtp *s)
{
	const char *p = s->out.data, *end;

	if (s->out.len == 0)
		return;
	end = p + s->out.len;
	FUZZ_CHECK(s->out.len >= 2 && end[-2] == '\r' && end[-1] == '\n',
	    "output does not end in CRLF");
	while (p < end) {
		const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);

		check_line(w, s, p, (size_t)(crlf - p));
		p = crlf + 2;
	}
	dynbuf_reset(&s->out);
}

/* ---------------------------------------------------------------- send */

/* Feed text ("250-a\n250 b") as one reply. */
static enum smtp_action
reply_text(struct smtp *s, const char *text)
{
	struct reply_parser rp;
	struct error err;
	int rc = 0;

	reply_parser_init(&rp);
	while (*text != '\0') {
		size_t n = strcspn(text, "\n");

		rc = reply_parser_line(&rp, text, n, &err);
		FUZZ_CHECK(rc >= 0, "canned reply '%s': %s", text,
		    err.message);
		text += n + (text[n] == '\n');
	}
	FUZZ_CHECK(rc == 1, "canned reply incomplete");
	return smtp_on_reply(s, &rp.reply);
}

void
fuzz_smtp_send(const struct envelope *env, const char *ehlo_keywords,
    bool eightbit, bool utf8_header)
{
	const struct smtp_opts o = { .ehlo_domain = "client.example",
	    .tls = SMTP_TLS_NONE };
	struct smtp_msginfo info = { .size = 1234, .eightbit = eightbit,
	    .utf8_header = utf8_header };
	struct fuzz_wire w = { 0 };
	struct dynbuf ehlo;
	struct smtp s;
	enum smtp_action act;
	bool mailed = false;

	dynbuf_init(&ehlo, 4096);
	dynbuf_addstr(&ehlo, "250-fuzz.example");
	for (const char *k = ehlo_keywords; *k != '\0'; ) {
		size_t n = strcspn(k, " ");

		dynbuf_printf(&ehlo, "\n250-%.*s", (int)n, k);
		k += n + (k[n] == ' ');
	}
	dynbuf_addstr(&ehlo, "\n250 HELP");
	smtp_init(&s, &o);
	act = smtp_start(&s);
	act = reply_text(&s, "220 fuzz.example ESMTP");
	fuzz_wire_check(&w, &s);
	act = reply_text(&s, ehlo.data);
	for (int step = 0; step < 10000; step++) {
		fuzz_wire_check(&w, &s);
		if (act == SMTP_ACT_READY && !mailed) {
			fuzz_wire_begin(&w, env);
			act = smtp_mail(&s, env, &info);
			mailed = true;
		} else if (act == SMTP_ACT_READY) {
			act = smtp_quit(&s);
		} else if (act == SMTP_ACT_BODY) {
			act = smtp_on_body_sent(&s);
		} else if (act == SMTP_ACT_READ) {
			bool data = s.npending > 0 && s.pending[s.pending_head].cmd
			    == SMTP_CMD_DATA;

			act = reply_text(&s, s.state == SMTP_STATE_QUIT ?
			    "221 bye" : data ? "354 go" : "250 ok");
		} else {
			break;
		}
	}
	fuzz_wire_check(&w, &s);
	smtp_release(&s);
	dynbuf_release(&ehlo);
}
