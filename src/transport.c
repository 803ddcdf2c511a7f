/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * transport.c -- see transport.h. TCP with poll()-bounded non-blocking I/O;
 * once TLS is up, reads and writes go through tls.c (GnuTLS), which never
 * waits: every poll() and every deadline is kept here.
 *
 * Deadlines (timeout_ms <= 0 means wait forever):
 *  - connect: one deadline of timeout_ms for name resolution and every
 *    address (dial.c: a resolver thread, then Happy Eyeballs, so a
 *    black-holed first address costs 250 ms, not the budget).
 *  - transport_read_line: the line must arrive before the deadline the
 *    caller passes (transport_deadline(): one for a whole reply, so a
 *    server dripping a 100-line reply a line a second cannot stretch
 *    timeout_ms into 100 of them).
 *  - transport_flush: the whole write buffer (at most 64 KiB) within
 *    timeout_ms. Progress does not renew it: a peer taking one byte now
 *    and then cannot hold yubin forever, while a message of N bytes may
 *    take up to timeout_ms per 64 KiB (about 1 KiB/s at the default 60 s).
 *  - TLS handshake: the whole handshake within timeout_ms.
 *  - close: close_notify gets at most TRANSPORT_BYE_MS; what the server
 *    sent meanwhile is read without waiting (no reply is awaited).
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "dial.h"
#include "error.h"
#include "tls.h"
#include "transport.h"
#include "util.h"

#define TRANSPORT_RBUF_SIZE	16384
#define TRANSPORT_WBUF_SIZE	65536
#define TRANSPORT_BYE_MS	1000	/* close_notify: never wait longer */

/*
 * A non-blocking call that must wait: *events says for what. The same value
 * as TLS_AGAIN, so raw_recv() and raw_send() pass tls.c's results on.
 */
#define IO_AGAIN TLS_AGAIN

struct transport {
	int fd;
	int timeout_ms;
	char *host;			/* as given to transport_connect */
	struct dial_peer peer;		/* "127.0.0.1 port 587" */
	struct tls *tls;		/* NULL until transport_start_tls */
	bool tls_up;			/* handshake done and verified */
	char tls_desc[128];
	size_t rpos, rlen;		/* unread bytes: rbuf[rpos..rlen) */
	size_t wlen;
	unsigned char head[TLS_HEAD_MAX];	/* first bytes, in clear text */
	size_t headlen;
	char rbuf[TRANSPORT_RBUF_SIZE];
	char wbuf[TRANSPORT_WBUF_SIZE];	/* held AUTH lines: wiped */
};

/* ------------------------------------------------------------ deadlines */

static long long
deadline_after(int ms)
{
	return ms > 0 ? util_now_ms() + ms : -1;
}

/* Milliseconds left for poll(): -1 forever, 0 when the deadline passed. */
static int
ms_left(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - util_now_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait until fd is ready for events; -1 with errno ETIMEDOUT on timeout. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms, r;

	for (;;) {
		ms = ms_left(deadline);
		if (ms == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int
timeout_error(const struct transport *t, const char *what, struct error *err)
{
	char secs[32];

	return error_set(err, ERR_TEMP,
	    "timed out after %s waiting for the server (%s)",
	    error_seconds(t->timeout_ms, secs, sizeof(secs)), what);
}

/* After wait_fd() failed. */
static int
wait_error(const struct transport *t, const char *what, struct error *err)
{
	if (errno == ETIMEDOUT)
		return timeout_error(t, what, err);
	return error_set(err, ERR_OSERR, "poll: %s", strerror(errno));
}

/* -------------------------------------------------------------- connect */

static struct transport *
transport_new(const char *host, int timeout_ms)
{
	struct transport *t = xcalloc(1, sizeof(*t));

	t->fd = -1;
	t->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	t->host = xstrdup(host);
	util_strlcpy(t->tls_desc, "none", sizeof(t->tls_desc));
	return t;
}

int
transport_connect(struct transport **out, const char *host, int port,
    const struct dial_route *route, int timeout_ms, struct error *err)
{
	struct transport *t;

	*out = NULL;
	if (port < 1 || port > 65535)
		return error_set(err, ERR_CONFIG, "invalid port %d", port);
	t = transport_new(host, timeout_ms);
	if (dial(host, port, route, timeout_ms, &t->fd, &t->peer, err) < 0) {
		transport_close(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* ------------------------------------------------------ raw send / recv */

/* Bytes read (> 0), 0 at EOF, IO_AGAIN (wait for *events), -1 failed. */
static ssize_t
raw_recv(struct transport *t, void *p, size_t n, short *events,
    struct error *err)
{
	ssize_t r;

	if (t->tls_up)
		return tls_recv(t->tls, p, n, events, err);
	*events = POLLIN;
	r = recv(t->fd, p, n, 0);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return IO_AGAIN;
	return error_set(err, ERR_TEMP,
	    "connection to %s lost while reading: %s", t->peer.name,
	    strerror(errno));
}

/* Bytes written (> 0), IO_AGAIN (wait for *events), -1 failed. */
static ssize_t
raw_send(struct transport *t, const void *p, size_t n, short *events,
    struct error *err)
{
	ssize_t r;

	/* On IO_AGAIN GnuTLS wants the very same call again: flush repeats. */
	if (t->tls_up)
		return tls_send(t->tls, p, n, events, err);
	*events = POLLOUT;
	r = send(t->fd, p, n, MSG_NOSIGNAL);
	if (r > 0)
		return r;
	if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return IO_AGAIN;
	return error_set(err, ERR_TEMP,
	    "connection to %s lost while writing: %s", t->peer.name,
	    strerror(errno));
}

/* ------------------------------------------------------------- reading */

/* The first bytes received in clear text, for transport_first(). */
static void
keep_head(struct transport *t, const char *p, size_t n)
{
	size_t k = sizeof(t->head) - t->headlen;

	if (t->tls_up || k == 0)
		return;
	memcpy(t->head + t->headlen, p, n < k ? n : k);
	t->headlen += n < k ? n : k;
}

/* Read once more into rbuf (which has room). */
static int
fill(struct transport *t, long long deadline, struct error *err)
{
	short events;
	ssize_t r;

	for (;;) {
		r = raw_recv(t, t->rbuf + t->rlen, sizeof(t->rbuf) - t->rlen,
		    &events, err);
		if (r > 0) {
			keep_head(t, t->rbuf + t->rlen, (size_t)r);
			t->rlen += (size_t)r;
			return 0;
		}
		if (r == 0)
			return error_set(err, ERR_TEMP,
			    "connection closed by server");
		if (r != IO_AGAIN)
			return -1;
		if (events != 0 && wait_fd(t->fd, events, deadline) < 0)
			return wait_error(t, "reading", err);
	}
}

/* Make room at the end of rbuf. */
static void
compact(struct transport *t)
{
	if (t->rpos == t->rlen) {
		t->rpos = t->rlen = 0;
	} else if (t->rlen == sizeof(t->rbuf)) {
		memmove(t->rbuf, t->rbuf + t->rpos, t->rlen - t->rpos);
		t->rlen -= t->rpos;
		t->rpos = 0;
	}
}

static int
line_too_long(size_t max, struct error *err)
{
	return error_set(err, ERR_PROTOCOL,
	    "server reply line too long (more than %zu bytes)", max);
}

/* Hand out the line ending at nl (consumed even when refused). */
static int
take_line(struct transport *t, const char *nl, size_t max, char *buf,
    size_t *len, struct error *err)
{
	const char *start = t->rbuf + t->rpos;
	size_t n = (size_t)(nl - start);

	t->rpos += n + 1;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (n > max)
		return line_too_long(max, err);
	memcpy(buf, start, n);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return 0;
}

long long
transport_deadline(const struct transport *t)
{
	return deadline_after(t->timeout_ms);
}

int
transport_read_line(struct transport *t, char *buf, size_t size,
    size_t *len, long long deadline, struct error *err)
{
	size_t avail, max;
	const char *nl;

	if (size == 0)
		return error_set(err, ERR_SOFTWARE, "line buffer of size 0");
	/* A line must fit both buf and rbuf (with its CR LF). */
	max = size - 1;
	if (max > sizeof(t->rbuf) - 2)
		max = sizeof(t->rbuf) - 2;
	for (;;) {
		avail = t->rlen - t->rpos;
		nl = memchr(t->rbuf + t->rpos, '\n', avail);
		if (nl != NULL)
			return take_line(t, nl, max, buf, len, err);
		if (avail > max + 1)
			return line_too_long(max, err);
		compact(t);
		if (fill(t, deadline, err) < 0)
			return -1;
	}
}

bool
transport_has_line(const struct transport *t)
{
	return memchr(t->rbuf + t->rpos, '\n', t->rlen - t->rpos) != NULL;
}

size_t
transport_pending(const struct transport *t)
{
	size_t n = t->rlen - t->rpos;
	int queued = 0;

	if (t->tls_up)
		return n + tls_pending(t->tls);
	/* In clear text, what the kernel holds counts too (injection). */
	if (t->fd >= 0 && ioctl(t->fd, FIONREAD, &queued) == 0 && queued > 0)
		n += (size_t)queued;
	return n;
}

/* ------------------------------------------------------------- writing */

int
transport_flush(struct transport *t, struct error *err)
{
	long long deadline = deadline_after(t->timeout_ms);
	size_t off = 0, chunk;
	short events;
	ssize_t r;

	while (off < t->wlen) {
		chunk = t->wlen - off;
		if (t->tls_up && chunk > TLS_RECORD_MAX)
			chunk = TLS_RECORD_MAX;
		r = raw_send(t, t->wbuf + off, chunk, &events, err);
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		if (r != IO_AGAIN)
			return -1;
		if (wait_fd(t->fd, events, deadline) < 0)
			return wait_error(t, "writing", err);
	}
	util_wipe(t->wbuf, t->wlen);
	t->wlen = 0;
	return 0;
}

int
transport_write(struct transport *t, const void *p, size_t n,
    struct error *err)
{
	const char *s = p;
	size_t chunk;

	while (n > 0) {
		chunk = sizeof(t->wbuf) - t->wlen;
		if (chunk > n)
			chunk = n;
		memcpy(t->wbuf + t->wlen, s, chunk);
		t->wlen += chunk;
		s += chunk;
		n -= chunk;
		if (t->wlen == sizeof(t->wbuf) && transport_flush(t, err) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ TLS */

static int
handshake(struct transport *t, struct error *err)
{
	long long deadline = deadline_after(t->timeout_ms);
	short events;
	int rc;

	while ((rc = tls_handshake(t->tls, &events, err)) == IO_AGAIN) {
		if (events != 0 && wait_fd(t->fd, events, deadline) < 0)
			return wait_error(t, "TLS handshake", err);
	}
	return rc;
}

int
transport_start_tls(struct transport *t, const struct tls_config *cfg,
    struct error *err)
{
	const char *host = cfg->host != NULL ? cfg->host : t->host;

	if (t->tls != NULL)
		return error_set(err, ERR_SOFTWARE, "TLS already started");
	if (t->wlen != 0)
		return error_set(err, ERR_SOFTWARE,
		    "unsent data before the TLS handshake");
	/* Clear-text bytes here would be read as if they came over TLS. */
	if (t->rlen != t->rpos)
		return error_set(err, ERR_PROTOCOL, "server sent data before "
		    "the TLS handshake (STARTTLS response injection?)");
	if (tls_setup(&t->tls, t->fd, cfg, host, t->peer.name, err) < 0 ||
	    handshake(t, err) < 0 ||
	    tls_verify(t->tls, cfg, err) < 0)
		return -1;
	t->tls_up = true;
	tls_describe(t->tls, t->tls_desc, sizeof(t->tls_desc));
	return 0;
}

/* ------------------------------------------------------ TLS-mode probe */

/*
 * Wait for fd to be ready for events, or watch (>= 0) to be readable,
 * until deadline: 1 fd ready, 0 watch readable, -1 timed out or failed.
 */
static int
wait_fd_or(int fd, short events, int watch, long long deadline)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = events },
	    { .fd = watch, .events = POLLIN } };
	int ms, r;

	for (;;) {
		ms = ms_left(deadline);
		if (ms == 0)
			return -1;
		r = poll(pfd, watch >= 0 ? 2 : 1, ms);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0)
			return pfd[0].revents != 0 ? 1 : 0;
	}
}

/*
 * Start a TLS handshake on t and go on until the server's first bytes
 * arrive, the deadline passes or watch (>= 0) becomes readable.
 */
static void
probe_handshake(struct transport *t, const struct tls_config *cfg,
    long long deadline, int watch)
{
	const char *host = cfg->host != NULL ? cfg->host : t->host;
	unsigned char h[1];
	short events;

	if (tls_setup(&t->tls, t->fd, cfg, host, t->peer.name, NULL) < 0)
		return;
	while (tls_handshake(t->tls, &events, NULL) == IO_AGAIN &&
	    tls_head(t->tls, h, sizeof(h)) == 0)
		if (events != 0 &&
		    wait_fd_or(t->fd, events, watch, deadline) != 1)
			return;
}

void
transport_probe_tls(struct transport *t, const struct tls_config *cfg,
    int ms)
{
	if (t->tls != NULL || t->headlen > 0 || t->wlen != 0)
		return;
	if (t->timeout_ms > 0 && t->timeout_ms < ms)
		ms = t->timeout_ms;
	probe_handshake(t, cfg, deadline_after(ms), -1);
}

bool
transport_quiet(const struct transport *t, int ms)
{
	if (t->rlen != t->rpos || t->headlen > 0 || t->tls != NULL)
		return false;
	if (t->timeout_ms > 0 && t->timeout_ms < ms)
		ms = t->timeout_ms;
	return wait_fd(t->fd, POLLIN, deadline_after(ms)) < 0 &&
	    errno == ETIMEDOUT;
}

int
transport_probe_aside(const struct transport *t,
    const struct tls_config *cfg, int ms, enum transport_first *first)
{
	struct transport *p;
	long long deadline = deadline_after(ms);
	int rc = -1;

	*first = TRANSPORT_FIRST_NOTHING;
	if (t->peer.proxied)
		return -1;
	p = transport_new(t->host, ms);
	p->peer = t->peer;
	if (dial_again(&p->peer, deadline, &p->fd) == 0) {
		probe_handshake(p, cfg, deadline, t->fd);
		*first = transport_first(p);
		rc = 0;
	}
	transport_close(p);
	return rc;
}

enum transport_first
transport_first(const struct transport *t)
{
	unsigned char h[TLS_HEAD_MAX];
	size_t n = t->headlen;

	if (n > 0)
		memcpy(h, t->head, n);
	else if (t->tls != NULL)
		n = tls_head(t->tls, h, sizeof(h));
	if (n > sizeof(h))
		n = sizeof(h);
	if (n == 0)
		return TRANSPORT_FIRST_NOTHING;
	if (h[0] == 0x16 || h[0] == 0x15)	/* handshake, alert */
		return TRANSPORT_FIRST_TLS;
	if (n >= 4 && h[0] >= '2' && h[0] <= '5' && h[1] >= '0' &&
	    h[1] <= '9' && h[2] >= '0' && h[2] <= '9' &&
	    (h[3] == ' ' || h[3] == '-'))
		return TRANSPORT_FIRST_SMTP;
	return TRANSPORT_FIRST_OTHER;
}

/* --------------------------------------------------------------- facts */

bool
transport_is_tls(const struct transport *t)
{
	return t->tls_up;
}

void
transport_tls_description(const struct transport *t, char *buf,
    size_t size)
{
	util_strlcpy(buf, t->tls_up ? t->tls_desc : "none", size);
}

int
transport_cert_info(const struct transport *t, struct tls_cert_info *out,
    struct error *err)
{
	if (!t->tls_up)
		return error_set(err, ERR_SOFTWARE, "no TLS session");
	return tls_cert_info(t->tls, out, err);
}

int
transport_channel_binding(struct transport *t, const char **type,
    char **b64, struct error *err)
{
	*type = NULL;
	*b64 = NULL;
	if (!t->tls_up)
		return error_set(err, ERR_PROTOCOL,
		    "no channel binding without TLS");
	return tls_channel_binding(t->tls, type, b64, err);
}

const char *
transport_peer(const struct transport *t)
{
	return t->peer.name;
}

/* ---------------------------------------------------------------- close */

/* close_notify, best effort, never longer than TRANSPORT_BYE_MS. */
static void
bye(struct transport *t)
{
	int ms = TRANSPORT_BYE_MS;
	long long deadline;
	short events;

	if (t->timeout_ms > 0 && t->timeout_ms < ms)
		ms = t->timeout_ms;
	deadline = deadline_after(ms);
	while (tls_bye(t->tls, &events) == IO_AGAIN) {
		if (wait_fd(t->fd, events, deadline) < 0)
			return;
	}
}

/*
 * Read and drop what the server has already sent (a 221 that came at
 * once), never waiting: closing a socket with unread data makes the
 * kernel reset the connection instead of ending it.
 */
static void
drain(struct transport *t)
{
	char buf[4096];
	int n = 0;

	while (n++ < 64 && recv(t->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		continue;
}

void
transport_close(struct transport *t)
{
	if (t == NULL)
		return;
	if (t->tls_up)
		bye(t);
	tls_free(t->tls);
	if (t->fd >= 0) {
		drain(t);
		close(t->fd);
	}
	free(t->host);
	util_wipe(t, sizeof(*t));
	free(t);
}

const char *
transport_library(void)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "GnuTLS %s", tls_library_version());
	return buf;
}
