/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * message.c -- see message.h. Standard input is copied to a private spool
 * file through the line-ending normaliser; the session later streams the
 * spool through the dot-stuffer. Memory is two fixed buffers, whatever the
 * size of the message.
 *
 * Behaviour choices (user-visible; yubin(1) should say so):
 * - With dot_ends, only a *terminated* line holding exactly "." is the
 *   end (terminated by LF, CRLF or a bare CR, as sendmail does). From a
 *   terminal it ends the input at once; from a pipe or a file it is the
 *   end only when it is the last line (removed), and text when more input
 *   follows: input is never dropped. A "." as the last, unterminated line
 *   is text: it becomes ".\r\n" like any other last line. ". " or ".."
 *   are text too.
 * - NUL bytes are copied unchanged and reported in has_nul (RFC 5321 does
 *   not allow them in DATA), unless strip_nul drops them from the body.
 * - With a header hook, the header section is held in memory (at most
 *   HEADERS_MAX bytes) until its end is known, then edited and written;
 *   the body is streamed as before.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "headers.h"
#include "message.h"
#include "util.h"

#define SPOOL_CHUNK	(64 * 1024)	/* read size */
/*
 * Worst case of one crlf_run() call: every input byte gives at most two
 * output bytes. A bare CR or LF becomes CRLF; the LF of a CRLF gives nothing
 * (its CR already wrote the CRLF, also across calls: pending_cr); a "." that
 * starts a line gives nothing at first (held back with dot_ends) and the
 * byte after it gives the dot and itself, or ends the input. A whole "."
 * line held back (MESSAGE_DOT_LAST: its 2 or 3 input bytes gave nothing)
 * gives ".\r\n" in front of the next byte, which may come in the next call.
 * So out needs 2 * inlen + 3 bytes. crlf_finish() writes at most 3
 * (".\r\n").
 */
#define SPOOL_OUT	(2 * SPOOL_CHUNK + 3)
#define FINISH_MAX	3
_Static_assert(SPOOL_OUT >= FINISH_MAX, "crlf_finish() fits in out");
#define SPOOL_PREFIX	"spool."
#define SPOOL_RANDLEN	12

/* ---------------------------------------------------------------- crlf */

void
crlf_init(struct crlf *c, enum message_dot dot)
{
	memset(c, 0, sizeof(*c));
	c->dot = dot;
}

/* The current line is complete: account for it, start a new one. */
static void
crlf_end_line(struct crlf *c)
{
	if (c->linelen > c->max_line)
		c->max_line = c->linelen;
	c->linelen = 0;
	c->line_is_dot = false;
}

/*
 * The next ch at or after p, or end. *cache remembers the last answer (NULL:
 * none yet), so every byte is searched once per call even when lines are
 * short and the other line-ending byte never occurs.
 */
static const unsigned char *
find_byte(const unsigned char **cache, const unsigned char *p,
    const unsigned char *end, int ch)
{
	if (*cache == NULL || *cache < p) {
		*cache = memchr(p, ch, (size_t)(end - p));
		if (*cache == NULL)
			*cache = end;
	}
	return *cache;
}

/*
 * Copy text (no CR, no LF) from p to eol. With dot_ends a "." that starts a
 * line is held back until the next byte shows whether the line is just
 * "."; it is written here, in front of the text that follows it. Returns
 * where the input continues.
 */
static const unsigned char *
crlf_text(struct crlf *c, const unsigned char *p, const unsigned char *eol,
    char **op)
{
	size_t n;

	if (c->linelen == 0 && *p == '.') {
		c->line_is_dot = true;
		c->linelen = 1;
		if (c->dot == MESSAGE_DOT_TEXT)
			*(*op)++ = '.';
		return p + 1;
	}
	if (c->line_is_dot && c->dot != MESSAGE_DOT_TEXT)
		*(*op)++ = '.';
	c->line_is_dot = false;
	n = (size_t)(eol - p);
	memcpy(*op, p, n);
	*op += n;
	c->linelen += n;
	return eol;
}

/* Note 8-bit and NUL bytes in what was written. */
static void
crlf_note(struct crlf *c, const char *out, size_t n)
{
	if (!c->eightbit)
		c->eightbit = util_has_8bit(out, n);
	if (!c->has_nul && n > 0 && memchr(out, '\0', n) != NULL)
		c->has_nul = true;
}

size_t
crlf_run(struct crlf *c, const char *in, size_t inlen, char *out,
    bool *ended)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + inlen;
	const unsigned char *cr = NULL, *lf = NULL, *eol;
	char *o = out;

	*ended = false;
	while (p < end) {
		if (c->pending_cr) {
			c->pending_cr = false;
			if (*p == '\n') {	/* second half of a CRLF */
				p++;
				continue;
			}
		}
		if (c->dot_held) {	/* more input: the "." line is text */
			memcpy(o, ".\r\n", 3);
			o += 3;
			c->dot_held = false;
		}
		eol = find_byte(&cr, p, end, '\r');
		if (find_byte(&lf, p, end, '\n') < eol)
			eol = lf;
		if (p < eol) {
			p = crlf_text(c, p, eol, &o);
			continue;
		}
		if (c->dot == MESSAGE_DOT_ENDS && c->line_is_dot) {
			/* the "." line: not copied, the rest is ignored */
			c->linelen = 0;
			c->line_is_dot = false;
			*ended = true;
			break;
		}
		c->dot_held = c->dot == MESSAGE_DOT_LAST && c->line_is_dot;
		crlf_end_line(c);
		c->pending_cr = *p++ == '\r';
		if (c->dot_held)
			continue;
		*o++ = '\r';
		*o++ = '\n';
	}
	crlf_note(c, out, (size_t)(o - out));
	return (size_t)(o - out);
}

size_t
crlf_finish(struct crlf *c, char *out)
{
	size_t n = 0;

	c->dot_removed = c->dot_held;	/* the last line: the terminator */
	c->dot_held = false;
	if (c->dot != MESSAGE_DOT_TEXT && c->line_is_dot)
		out[n++] = '.';		/* unterminated "." at EOF is text */
	if (c->linelen > 0) {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	crlf_end_line(c);
	c->pending_cr = false;
	return n;
}

/* ---------------------------------------------------------------- dotstuff */

void
dotstuff_init(struct dotstuff *d)
{
	d->at_line_start = true;
}

size_t
dotstuff_run(struct dotstuff *d, const char *in, size_t inlen, char *out)
{
	const char *p = in, *end = in + inlen, *nl;
	char *o = out;
	size_t n;

	while (p < end) {
		if (d->at_line_start && *p == '.')
			*o++ = '.';
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		memcpy(o, p, n);
		o += n;
		p += n;
		d->at_line_start = nl != NULL;
	}
	return (size_t)(o - out);
}

const char *
dotstuff_end(const struct dotstuff *d)
{
	return d->at_line_start ? ".\r\n" : "\r\n.\r\n";
}

/* ---------------------------------------------------------------- spool dir */

/* snprintf into buf; -1 if it did not fit. */
static int __attribute__((format(printf, 3, 4)))
path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * The queue directory and its tmp/ must pass the queue's own check
 * (util_open_private_dir(): no symbolic link, ours, not writable by others).
 */
static int
check_spool_dir(const char *queue, struct error *err)
{
	char why[128];
	int qfd, fd = -1;

	qfd = util_open_private_dir(AT_FDCWD, queue, why, sizeof(why));
	if (qfd >= 0)
		fd = util_open_private_dir(qfd, "tmp", why, sizeof(why));
	if (qfd >= 0)
		close(qfd);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return error_set(err, ERR_CANTCREAT, "refusing spool directory "
	    "'%s%s': %s", queue, qfd >= 0 ? "/tmp" : "", why);
}

/* $TMPDIR (if absolute) or /tmp: shared, so names are random + O_EXCL. */
static int
spool_dir_fallback(char *buf, size_t size, struct error *err)
{
	const char *t = getenv("TMPDIR");

	if (t == NULL || t[0] != '/')
		t = "/tmp";
	if (path_fmt(buf, size, "%s", t) < 0)
		return error_set(err, ERR_CANTCREAT, "spool directory name "
		    "'%s' too long", t);
	return 0;
}

int
message_spool_dir(char *buf, size_t size, struct error *err)
{
	char path[PATH_MAX], home[PATH_MAX], queue[PATH_MAX];

	if (util_state_home(home, sizeof(home)) < 0 ||
	    path_fmt(queue, sizeof(queue), "%s/yubin/queue", home) < 0 ||
	    path_fmt(path, sizeof(path), "%s/tmp", queue) < 0 ||
	    util_mkdir_p(path) < 0)
		return spool_dir_fallback(buf, size, err);
	if (check_spool_dir(queue, err) < 0)
		return -1;
	if (access(path, W_OK | X_OK) < 0)	/* e.g. read-only home */
		return spool_dir_fallback(buf, size, err);
	if (path_fmt(buf, size, "%s", path) < 0)
		return error_set(err, ERR_CANTCREAT, "spool directory name "
		    "'%s' too long", path);
	return 0;
}

/* ---------------------------------------------------------------- spool */

void
message_init(struct message *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

void
message_release(struct message *m)
{
	if (m->fd >= 0)
		(void)close(m->fd);
	if (m->path != NULL && !m->keep)
		(void)unlink(m->path);
	free(m->path);
	message_init(m);
}

/* Create dir/spool.XXXXXXXXXXXX, 0600 whatever the umask. */
static int
spool_create(struct message *m, const char *dir, struct error *err)
{
	char path[PATH_MAX], name[SPOOL_RANDLEN + 1];
	int fd = -1, tries;

	for (tries = 0; tries < 100 && fd < 0; tries++) {
		util_random_name(name, SPOOL_RANDLEN);
		if (path_fmt(path, sizeof(path), "%s/" SPOOL_PREFIX "%s", dir,
		    name) < 0)
			return error_set(err, ERR_CANTCREAT, "cannot create "
			    "spool file in '%s': %s", dir, strerror(errno));
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return error_set(err, util_disk_full(errno) ? ERR_TEMP :
		    ERR_CANTCREAT, "cannot create spool file in '%s': %s",
		    dir, strerror(errno));
	m->fd = fd;
	m->path = xstrdup(path);
	if (fchmod(fd, 0600) < 0)
		return error_set(err, ERR_CANTCREAT, "cannot set mode of "
		    "spool file '%s': %s", path, strerror(errno));
	return 0;
}

/* read() that retries on EINTR and waits when infd is non-blocking. */
static ssize_t
read_some(int fd, char *buf, size_t size)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		n = read(fd, buf, size);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			(void)poll(&pfd, 1, -1);
		else if (errno != EINTR)
			return -1;
	}
}

/*
 * A failed write, fsync or create of the spool: a full disk is temporary
 * (75: the caller may try again later), anything else as given.
 */
static int
spool_error(const struct message *m, const char *what, enum error_kind kind,
    struct error *err)
{
	int e = errno;

	return error_set(err, util_disk_full(e) ? ERR_TEMP : kind, "cannot %s "
	    "spool file '%s': %s", what, m->path, strerror(e));
}

static int
spool_write(struct message *m, const char *p, size_t n, struct error *err)
{
	ssize_t w;

	while (n > 0) {
		w = util_test_fail("spool-write") ? -1 : write(m->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return spool_error(m, "write", ERR_IOERR, err);
		}
		p += w;
		n -= (size_t)w;
		m->size += w;
	}
	return 0;
}

/* ---------------------------------------------------------------- headers */

/*
 * One spool run: where the canonical bytes go. With a header hook, they
 * are held in hdr until the end of the header section is known.
 */
struct spool {
	struct message *m;
	const struct message_opts *o;
	bool in_header;			/* collecting the header section */
	struct dynbuf hdr;
	struct headers_scan scan;
	bool hdr_nul;			/* a field written holds a NUL byte */
	bool hdr_8bit;			/* a field written has a byte >= 0x80 */
};

/* Body bytes to the file, NUL bytes dropped when asked. */
static int
spool_body(struct spool *sp, const char *p, size_t n, struct error *err)
{
	const char *z;

	if (!sp->o->strip_nul)
		return spool_write(sp->m, p, n, err);
	while (n > 0 && (z = memchr(p, '\0', n)) != NULL) {
		if (spool_write(sp->m, p, (size_t)(z - p), err) < 0)
			return -1;
		sp->m->nul_removed++;
		n -= (size_t)(z - p) + 1;
		p = z + 1;
	}
	return spool_write(sp->m, p, n, err);
}

static int
write_fields(struct spool *sp, const struct headers *h, struct error *err)
{
	for (size_t i = 0; i < h->n; i++) {
		if (memchr(h->f[i].raw, '\0', h->f[i].len) != NULL)
			sp->hdr_nul = true;
		if (util_has_8bit(h->f[i].raw, h->f[i].len))
			sp->hdr_8bit = true;
		if (spool_write(sp->m, h->f[i].raw, h->f[i].len, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * The header section is hdr[scan.skip..end): hand it to the hook, write
 * the fields, the empty line when the input lacked one, and the body bytes
 * read so far; from now on bytes go straight to the file.
 */
static int
header_done(struct spool *sp, enum headers_end how, size_t end,
    struct error *err)
{
	const char *buf = sp->hdr.data;
	size_t skip = sp->scan.skip < end ? sp->scan.skip : end;
	struct headers h;
	int r = -1;

	headers_init(&h);
	if (headers_parse(&h, buf + skip, end - skip, err) == 0 &&
	    sp->o->header_hook(&h, sp->o->hook_arg, err) == 0 &&
	    write_fields(sp, &h, err) == 0 &&
	    (how != HEADERS_END_BODY || h.n == 0 ||
	    spool_write(sp->m, "\r\n", 2, err) == 0) &&
	    spool_body(sp, buf + end, sp->hdr.len - end, err) == 0)
		r = 0;
	headers_release(&h);
	dynbuf_release(&sp->hdr);
	sp->in_header = false;
	return r;
}

static int
header_too_big(struct error *err)
{
	return error_set(err, ERR_DATAERR, "header section larger than %d "
	    "MiB", HEADERS_MAX / (1024 * 1024));
}

/* Look for the end of the header section in what was collected. */
static int
header_step(struct spool *sp, bool eof, struct error *err)
{
	enum headers_end how;
	size_t end = 0;

	how = headers_scan(&sp->scan, sp->hdr.data, sp->hdr.len, eof, &end);
	if (how == HEADERS_MORE)
		return sp->hdr.len > HEADERS_MAX ? header_too_big(err) : 0;
	if (end > HEADERS_MAX)
		return header_too_big(err);
	return header_done(sp, how, end, err);
}

/* Canonical bytes from the normaliser. */
static int
spool_out(struct spool *sp, const char *p, size_t n, struct error *err)
{
	if (!sp->in_header)
		return spool_body(sp, p, n, err);
	if (n == 0)
		return 0;
	if (dynbuf_add(&sp->hdr, p, n) < 0)
		return header_too_big(err);
	return header_step(sp, false, err);
}

/* ---------------------------------------------------------------- copy */

/* infd -> crlf -> spool file, until EOF or the "." line. */
static int
spool_copy(struct spool *sp, int infd, struct crlf *c, char *in, char *out,
    struct error *err)
{
	bool ended = false;
	ssize_t n;

	while (!ended) {
		n = read_some(infd, in, SPOOL_CHUNK);
		if (n < 0)
			return error_set(err, ERR_IOERR, "cannot read standard "
			    "input: %s", strerror(errno));
		if (n == 0)
			break;
		/* out has SPOOL_OUT = 2 * SPOOL_CHUNK + 3 bytes, see above */
		if (spool_out(sp, out, crlf_run(c, in, (size_t)n, out,
		    &ended), err) < 0)
			return -1;
	}
	if (spool_out(sp, out, crlf_finish(c, out), err) < 0)
		return -1;
	if (sp->in_header && sp->hdr.len > 0)	/* empty input: no hook */
		return header_step(sp, true, err);
	return 0;
}

/* fsync, rewind, check that there was a message at all. */
static int
spool_commit(struct spool *sp, const struct crlf *c, struct error *err)
{
	struct message *m = sp->m;

	if (m->size == 0)
		return error_set(err, ERR_DATAERR, "no message on standard "
		    "input");
	if (fsync(m->fd) < 0)
		return spool_error(m, "write", ERR_IOERR, err);
	if (lseek(m->fd, 0, SEEK_SET) < 0)
		return error_set(err, ERR_IOERR, "cannot rewind spool file "
		    "'%s': %s", m->path, strerror(errno));
	/* the fields yubin wrote (an added From:) count too */
	m->eightbit = c->eightbit || sp->hdr_8bit;
	m->utf8_header = sp->hdr_8bit;
	m->has_nul = sp->o->strip_nul ? sp->hdr_nul : c->has_nul;
	m->max_line = c->max_line;
	m->dot_removed = c->dot_removed;
	return 0;
}

int
message_spool(struct message *m, int infd, const struct message_opts *o,
    struct error *err)
{
	char dir[PATH_MAX], *buf;
	const char *d = o->spool_dir;
	struct spool sp = {
		.m = m, .o = o, .in_header = o->header_hook != NULL,
	};
	struct crlf c;
	int r = -1;

	message_init(m);
	if (d == NULL) {
		if (message_spool_dir(dir, sizeof(dir), err) < 0)
			return -1;
		d = dir;
	}
	crlf_init(&c, !o->dot_ends ? MESSAGE_DOT_TEXT : isatty(infd) ?
	    MESSAGE_DOT_ENDS : MESSAGE_DOT_LAST);
	dynbuf_init(&sp.hdr, HEADERS_MAX + SPOOL_OUT);
	headers_scan_init(&sp.scan);
	buf = xmalloc(SPOOL_CHUNK + SPOOL_OUT);
	if (spool_create(m, d, err) < 0 ||
	    spool_copy(&sp, infd, &c, buf, buf + SPOOL_CHUNK, err) < 0 ||
	    spool_commit(&sp, &c, err) < 0)
		goto out;
	r = 0;
out:
	free(buf);
	dynbuf_release(&sp.hdr);
	if (r < 0)
		message_release(m);	/* keep is false: the file goes */
	return r;
}
