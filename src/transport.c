/*
 * transport.c -- see transport.h. TCP with poll()-bounded non-blocking I/O,
 * and TLS through GnuTLS (the only file of yubin that includes it).
 *
 * Deadlines (timeout_ms <= 0 means wait forever):
 *  - connect: one overall deadline of timeout_ms for all addresses; each
 *    address gets a fair share of what is left (remaining / addresses left),
 *    so a black-holed first address cannot eat the whole budget, and a
 *    single address gets all of it.
 *  - transport_read_line: the whole line must arrive within timeout_ms.
 *  - transport_flush: timeout_ms without any progress; every chunk the
 *    kernel accepts renews the deadline, so a 100 MB message over a slow
 *    but working link does not time out.
 *  - TLS handshake: the whole handshake within timeout_ms.
 *  - close: close_notify gets at most TRANSPORT_BYE_MS.
 * DNS resolution (getaddrinfo) is bounded by the resolver's own settings.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "error.h"
#include "transport.h"
#include "util.h"

#define TRANSPORT_RBUF_SIZE	16384
#define TRANSPORT_WBUF_SIZE	65536
#define TRANSPORT_TLS_RECORD	16384	/* plaintext bytes per TLS record */
#define TRANSPORT_BYE_MS	1000	/* close_notify: never wait longer */
#define TRANSPORT_PEER_MAX	(NI_MAXHOST + 16)

/* A non-blocking call that must wait: *events says for what. */
#define IO_AGAIN (-2)

struct transport {
	int fd;
	int timeout_ms;
	char *host;			/* as given to transport_connect */
	char peer[TRANSPORT_PEER_MAX];	/* "127.0.0.1 port 587" */
	gnutls_session_t tls;		/* NULL until transport_start_tls */
	gnutls_certificate_credentials_t cred;
	bool tls_up;			/* handshake done and verified */
	char tls_desc[128];
	size_t rpos, rlen;		/* unread bytes: rbuf[rpos..rlen) */
	size_t wlen;
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

/* "2 s", "1.5 s" */
static void
format_seconds(int ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%d s", ms / 1000);
	else
		snprintf(buf, size, "%.1f s", ms / 1000.0);
}

static int
timeout_error(const struct transport *t, const char *what, struct error *err)
{
	char secs[32];

	format_seconds(t->timeout_ms, secs, sizeof(secs));
	return error_set(err, ERR_TEMP,
	    "timed out after %s waiting for the server (%s)", secs, what);
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

static int
connect_wait(int fd, long long deadline)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (wait_fd(fd, POLLOUT, deadline) < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/* Connect to one address; the fd, or -1 with errno set. */
static int
connect_one(const struct addrinfo *ai, long long deadline)
{
	int fd, one = 1, saved;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    (errno != EINPROGRESS || connect_wait(fd, deadline) < 0))
		goto fail;
	/* Nagle + delayed ACK costs 40 ms per command/reply exchange. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static void
set_peer(struct transport *t, const struct addrinfo *ai, int port)
{
	char addr[NI_MAXHOST];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL,
	    0, NI_NUMERICHOST) != 0)
		util_strlcpy(addr, "?", sizeof(addr));
	if (ai->ai_family == AF_INET6)
		snprintf(t->peer, sizeof(t->peer), "[%s] port %d", addr, port);
	else
		snprintf(t->peer, sizeof(t->peer), "%s port %d", addr, port);
}

/* Every address in turn, each with a fair share of the time left. */
static int
connect_any(struct transport *t, const struct addrinfo *list, int port)
{
	long long deadline = deadline_after(t->timeout_ms), now, share;
	const struct addrinfo *ai;
	long long left = 0;

	for (ai = list; ai != NULL; ai = ai->ai_next)
		left++;
	errno = EHOSTUNREACH;
	for (ai = list; ai != NULL; ai = ai->ai_next, left--) {
		share = -1;
		if (deadline >= 0) {
			now = util_now_ms();
			if (now >= deadline) {
				errno = ETIMEDOUT;
				break;
			}
			share = now + (deadline - now) / left;
		}
		t->fd = connect_one(ai, share);
		if (t->fd >= 0) {
			set_peer(t, ai, port);
			return 0;
		}
	}
	return -1;
}

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

static int
connect_error(const struct transport *t, int port, int saved,
    struct error *err)
{
	char secs[32];

	if (saved != ETIMEDOUT || t->timeout_ms <= 0)
		return error_set(err, ERR_TEMP,
		    "cannot connect to '%s' port %d: %s", t->host, port,
		    strerror(saved));
	format_seconds(t->timeout_ms, secs, sizeof(secs));
	return error_set(err, ERR_TEMP, "cannot connect to '%s' port %d: "
	    "timed out after %s waiting for the server (connecting)",
	    t->host, port, secs);
}

int
transport_connect(struct transport **out, const char *host, int port,
    int timeout_ms, struct error *err)
{
	struct addrinfo hints, *res;
	struct transport *t;
	char service[16];
	int rc, saved;

	*out = NULL;
	if (port < 1 || port > 65535)
		return error_set(err, ERR_CONFIG, "invalid port %d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0)
		return error_set(err, ERR_TEMP, "cannot resolve '%s': %s",
		    host, rc == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(rc));
	t = transport_new(host, timeout_ms);
	rc = connect_any(t, res, port);
	saved = errno;
	freeaddrinfo(res);
	if (rc < 0) {
		connect_error(t, port, saved, err);
		transport_close(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* ------------------------------------------------------ raw send / recv */

/* A GnuTLS error in the middle of the stream (not the handshake). */
static int
tls_io_error(const struct transport *t, ssize_t rc, const char *what,
    struct error *err)
{
	if ((rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR) &&
	    errno != 0)
		return error_set(err, ERR_TEMP,
		    "connection to %s lost while %s: %s", t->peer, what,
		    strerror(errno));
	return error_set(err, ERR_PROTOCOL, "TLS error while %s: %s", what,
	    gnutls_strerror((int)rc));
}

static short
tls_direction(const struct transport *t)
{
	return gnutls_record_get_direction(t->tls) ? POLLOUT : POLLIN;
}

/* Bytes read (> 0), 0 at EOF, IO_AGAIN (wait for *events), -1 failed. */
static ssize_t
raw_recv(struct transport *t, void *p, size_t n, short *events,
    struct error *err)
{
	ssize_t r;

	*events = POLLIN;
	if (!t->tls_up) {
		r = recv(t->fd, p, n, 0);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return IO_AGAIN;
		return error_set(err, ERR_TEMP,
		    "connection to %s lost while reading: %s", t->peer,
		    strerror(errno));
	}
	errno = 0;
	r = gnutls_record_recv(t->tls, p, n);
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		*events = tls_direction(t);
		return IO_AGAIN;
	}
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;		/* closed without close_notify */
	if (r == GNUTLS_E_REHANDSHAKE || !gnutls_error_is_fatal((int)r)) {
		*events = 0;		/* ignore, call again at once */
		return IO_AGAIN;
	}
	return tls_io_error(t, r, "reading", err);
}

/* Bytes written (> 0), IO_AGAIN (wait for *events), -1 failed. */
static ssize_t
raw_send(struct transport *t, const void *p, size_t n, short *events,
    struct error *err)
{
	ssize_t r;

	*events = POLLOUT;
	if (!t->tls_up) {
		r = send(t->fd, p, n, MSG_NOSIGNAL);
		if (r > 0)
			return r;
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)
			return IO_AGAIN;
		return error_set(err, ERR_TEMP,
		    "connection to %s lost while writing: %s", t->peer,
		    strerror(errno));
	}
	errno = 0;
	r = gnutls_record_send(t->tls, p, n);
	if (r > 0)
		return r;
	if (r == 0 || r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		/* GnuTLS wants the very same call again: we repeat it. */
		*events = tls_direction(t);
		return IO_AGAIN;
	}
	return tls_io_error(t, r, "writing", err);
}

/* ------------------------------------------------------------- reading */

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

int
transport_read_line(struct transport *t, char *buf, size_t size,
    size_t *len, struct error *err)
{
	long long deadline = deadline_after(t->timeout_ms);
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

size_t
transport_pending(const struct transport *t)
{
	size_t n = t->rlen - t->rpos;
	int queued = 0;

	if (t->tls_up)
		return n + gnutls_record_check_pending(t->tls);
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
		if (t->tls_up && chunk > TRANSPORT_TLS_RECORD)
			chunk = TRANSPORT_TLS_RECORD;
		r = raw_send(t, t->wbuf + off, chunk, &events, err);
		if (r > 0) {
			off += (size_t)r;
			deadline = deadline_after(t->timeout_ms);
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

/* ----------------------------------------------------------- TLS setup */

static bool
is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

static int
tls_trust(struct transport *t, const struct tls_config *cfg,
    struct error *err)
{
	int rc;

	if (cfg->trust_file == NULL) {
		/* No CA at all just means every chain fails: "signer". */
		gnutls_certificate_set_x509_system_trust(t->cred);
		return 0;
	}
	rc = gnutls_certificate_set_x509_trust_file(t->cred, cfg->trust_file,
	    GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		return error_set(err, ERR_CONFIG,
		    "cannot load tls_trust_file '%s': %s", cfg->trust_file,
		    gnutls_strerror(rc));
	if (rc == 0)
		return error_set(err, ERR_CONFIG,
		    "tls_trust_file '%s' holds no PEM certificate",
		    cfg->trust_file);
	return 0;
}

static int
tls_credentials(struct transport *t, const struct tls_config *cfg,
    struct error *err)
{
	const char *key;
	int rc;

	rc = gnutls_certificate_allocate_credentials(&t->cred);
	if (rc < 0) {
		t->cred = NULL;
		return error_set(err, ERR_SOFTWARE, "TLS credentials: %s",
		    gnutls_strerror(rc));
	}
	if (cfg->certcheck && cfg->fingerprint == NULL &&
	    tls_trust(t, cfg, err) < 0)
		return -1;
	if (cfg->cert_file != NULL) {
		key = cfg->key_file != NULL ? cfg->key_file : cfg->cert_file;
		rc = gnutls_certificate_set_x509_key_file(t->cred,
		    cfg->cert_file, key, GNUTLS_X509_FMT_PEM);
		if (rc < 0)
			return error_set(err, ERR_CONFIG, "cannot load "
			    "tls_cert_file '%s' / tls_key_file '%s': %s",
			    cfg->cert_file, key, gnutls_strerror(rc));
	}
	rc = gnutls_credentials_set(t->tls, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (rc < 0)
		return error_set(err, ERR_SOFTWARE, "TLS credentials: %s",
		    gnutls_strerror(rc));
	return 0;
}

static int
tls_priorities(struct transport *t, const struct tls_config *cfg,
    struct error *err)
{
	const char *where = NULL;
	int rc;

	if (cfg->priorities == NULL)
		rc = gnutls_set_default_priority(t->tls);
	else
		rc = gnutls_priority_set_direct(t->tls, cfg->priorities,
		    &where);
	if (rc < 0 && cfg->priorities != NULL)
		return error_set(err, ERR_CONFIG,
		    "invalid tls_priorities '%s': %s (at '%s')",
		    cfg->priorities, gnutls_strerror(rc),
		    where != NULL ? where : "");
	if (rc < 0)
		return error_set(err, ERR_SOFTWARE, "TLS priorities: %s",
		    gnutls_strerror(rc));
	return 0;
}

static int
tls_setup(struct transport *t, const struct tls_config *cfg,
    const char *host, struct error *err)
{
	int rc;

	/* GNUTLS_NO_SIGNAL: GnuTLS sends with MSG_NOSIGNAL (no SIGPIPE). */
	rc = gnutls_init(&t->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
	    GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		t->tls = NULL;
		return error_set(err, ERR_SOFTWARE, "cannot start TLS: %s",
		    gnutls_strerror(rc));
	}
	if (tls_credentials(t, cfg, err) < 0 ||
	    tls_priorities(t, cfg, err) < 0)
		return -1;
	if (!is_ip_literal(host)) {
		rc = gnutls_server_name_set(t->tls, GNUTLS_NAME_DNS, host,
		    strlen(host));
		if (rc < 0)
			return error_set(err, ERR_SOFTWARE, "TLS SNI '%s': %s",
			    host, gnutls_strerror(rc));
	}
	gnutls_transport_set_int(t->tls, t->fd);
	gnutls_handshake_set_timeout(t->tls, 0);	/* our deadline rules */
	return 0;
}

static int
handshake_error(const struct transport *t, const char *host, int rc,
    struct error *err)
{
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return error_set(err, ERR_PROTOCOL,
		    "TLS handshake with '%s' failed: %s: %s", host,
		    gnutls_strerror(rc),
		    gnutls_alert_get_name(gnutls_alert_get(t->tls)));
	return error_set(err, ERR_PROTOCOL, "TLS handshake with '%s' failed: %s",
	    host, gnutls_strerror(rc));
}

static int
tls_handshake(struct transport *t, const char *host, struct error *err)
{
	long long deadline = deadline_after(t->timeout_ms);
	int rc;

	for (;;) {
		rc = gnutls_handshake(t->tls);
		if (rc == GNUTLS_E_SUCCESS)
			return 0;
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			if (wait_fd(t->fd, tls_direction(t), deadline) < 0)
				return wait_error(t, "TLS handshake", err);
			continue;
		}
		if (!gnutls_error_is_fatal(rc))
			continue;
		return handshake_error(t, host, rc, err);
	}
}

/* ---------------------------------------------------- TLS verification */

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "AB:cd:..." or "abcd..." -> bytes; the byte count, or -1 if malformed. */
static int
parse_fingerprint(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	int hi, lo;

	while (*s != '\0') {
		if (*s == ':') {
			s++;
			continue;
		}
		hi = hex_value((unsigned char)s[0]);
		lo = hi < 0 ? -1 : hex_value((unsigned char)s[1]);
		if (lo < 0 || n == max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return (int)n;
}

static int
peer_certificate(const struct transport *t, const char *host,
    const gnutls_datum_t **der, struct error *err)
{
	unsigned int n = 0;

	if (gnutls_certificate_type_get(t->tls) != GNUTLS_CRT_X509)
		return error_set(err, ERR_PROTOCOL,
		    "TLS server '%s' sent no X.509 certificate", host);
	*der = gnutls_certificate_get_peers(t->tls, &n);
	if (*der == NULL || n == 0)
		return error_set(err, ERR_PROTOCOL,
		    "TLS server '%s' sent no certificate", host);
	return 0;
}

/* tls_fingerprint replaces every other check (msmtp's behaviour). */
static int
verify_fingerprint(const struct transport *t, const char *fingerprint,
    const char *host, struct error *err)
{
	unsigned char want[32], got[32];
	const gnutls_datum_t *der = NULL;
	gnutls_digest_algorithm_t algo;
	int n;

	n = parse_fingerprint(fingerprint, want, sizeof(want));
	if (n != 32 && n != 20)
		return error_set(err, ERR_CONFIG, "invalid tls_fingerprint "
		    "'%s': expected a SHA-256 fingerprint "
		    "(32 hex bytes, colons optional)", fingerprint);
	if (peer_certificate(t, host, &der, err) < 0)
		return -1;
	algo = n == 32 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA1;
	if (gnutls_hash_fast(algo, der[0].data, der[0].size, got) < 0)
		return error_set(err, ERR_SOFTWARE, "cannot hash certificate");
	if (memcmp(want, got, (size_t)n) != 0)
		return error_set(err, ERR_PROTOCOL, "TLS certificate of '%s' "
		    "does not match tls_fingerprint", host);
	return 0;
}

/* The main reason, in plain words, for a failed verification. */
static void
verify_reason(unsigned int status, const char *host, char *buf, size_t size)
{
	if (status & GNUTLS_CERT_REVOKED)
		snprintf(buf, size, "TLS certificate of '%s' has been revoked",
		    host);
	else if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "signer not found; set tls_trust_file or tls_fingerprint",
		    host);
	else if (status & GNUTLS_CERT_SIGNER_NOT_CA)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "its signer is not a CA", host);
	else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "it uses an insecure algorithm", host);
	else if (status & GNUTLS_CERT_EXPIRED)
		snprintf(buf, size, "TLS certificate of '%s' has expired", host);
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		snprintf(buf, size, "TLS certificate of '%s' is not yet valid",
		    host);
	else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		snprintf(buf, size, "TLS certificate is for another host: the "
		    "server's certificate does not match '%s'", host);
	else
		snprintf(buf, size, "TLS certificate of '%s' is not trusted",
		    host);
}

static int
verify_chain(const struct transport *t, const char *host, struct error *err)
{
	char reason[ERROR_MSG_MAX / 2];
	gnutls_datum_t details = { NULL, 0 };
	unsigned int status = 0;
	size_t n;
	int rc;

	rc = gnutls_certificate_verify_peers3(t->tls, host, &status);
	if (rc < 0)
		return error_set(err, ERR_PROTOCOL, "TLS certificate of '%s' "
		    "could not be verified: %s", host, gnutls_strerror(rc));
	if (status == 0)
		return 0;
	verify_reason(status, host, reason, sizeof(reason));
	rc = gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &details, 0);
	n = rc < 0 || details.data == NULL ? 0 : details.size;
	while (n > 0 && (details.data[n - 1] == ' ' ||
	    details.data[n - 1] == '\0'))
		n--;
	if (n > 0)
		error_set(err, ERR_PROTOCOL, "%s (%.*s)", reason, (int)n,
		    (const char *)details.data);
	else
		error_set(err, ERR_PROTOCOL, "%s", reason);
	gnutls_free(details.data);
	return -1;
}

static int
tls_verify(const struct transport *t, const struct tls_config *cfg,
    const char *host, struct error *err)
{
	if (!cfg->certcheck)
		return 0;
	if (cfg->fingerprint != NULL)
		return verify_fingerprint(t, cfg->fingerprint, host, err);
	return verify_chain(t, host, err);
}

/* "TLS1.3/ECDHE-X25519/AES-256-GCM" (a MAC is added when not AEAD). */
static void
tls_describe(struct transport *t)
{
	const char *proto, *cipher, *kx = NULL, *mac = NULL;
	gnutls_group_t group = gnutls_group_get(t->tls);
	gnutls_mac_algorithm_t m = gnutls_mac_get(t->tls);
	char kxbuf[64];

	proto = gnutls_protocol_get_name(gnutls_protocol_get_version(t->tls));
	cipher = gnutls_cipher_get_name(gnutls_cipher_get(t->tls));
	if (group != GNUTLS_GROUP_INVALID) {
		kx = gnutls_group_get_name(group);
		snprintf(kxbuf, sizeof(kxbuf), "%s-%s",
		    kx != NULL && strncmp(kx, "FFDHE", 5) == 0 ? "DHE" :
		    "ECDHE", kx != NULL ? kx : "?");
		kx = kxbuf;
	} else {
		kx = gnutls_kx_get_name(gnutls_kx_get(t->tls));
	}
	if (m != GNUTLS_MAC_AEAD)
		mac = gnutls_mac_get_name(m);
	snprintf(t->tls_desc, sizeof(t->tls_desc), "%s/%s/%s%s%s",
	    proto != NULL ? proto : "TLS", kx != NULL ? kx : "?",
	    cipher != NULL ? cipher : "?", mac != NULL ? "/" : "",
	    mac != NULL ? mac : "");
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
	if (tls_setup(t, cfg, host, err) < 0 ||
	    tls_handshake(t, host, err) < 0 ||
	    tls_verify(t, cfg, host, err) < 0)
		return -1;
	t->tls_up = true;
	tls_describe(t);
	return 0;
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
transport_channel_binding(struct transport *t, const char **type,
    char **b64, struct error *err)
{
	gnutls_datum_t cb = { NULL, 0 }, enc = { NULL, 0 };
	gnutls_channel_binding_t kind = GNUTLS_CB_TLS_UNIQUE;
	int rc;

	*type = NULL;
	*b64 = NULL;
	if (!t->tls_up)
		return error_set(err, ERR_PROTOCOL,
		    "no channel binding without TLS");
	if (gnutls_protocol_get_version(t->tls) == GNUTLS_TLS1_3)
		kind = GNUTLS_CB_TLS_EXPORTER;
	rc = gnutls_session_channel_binding(t->tls, kind, &cb);
	if (rc >= 0) {
		rc = gnutls_base64_encode2(&cb, &enc);
		gnutls_free(cb.data);
	}
	if (rc < 0)
		return error_set(err, ERR_PROTOCOL,
		    "TLS channel binding unavailable: %s", gnutls_strerror(rc));
	*b64 = xstrndup((const char *)enc.data, enc.size);
	gnutls_free(enc.data);
	*type = kind == GNUTLS_CB_TLS_EXPORTER ? "tls-exporter" :
	    "tls-unique";
	return 0;
}

const char *
transport_peer(const struct transport *t)
{
	return t->peer;
}

/* ---------------------------------------------------------------- close */

/* close_notify, best effort, never longer than TRANSPORT_BYE_MS. */
static void
tls_bye(struct transport *t)
{
	int ms = TRANSPORT_BYE_MS, rc;
	long long deadline;

	if (t->timeout_ms > 0 && t->timeout_ms < ms)
		ms = t->timeout_ms;
	deadline = deadline_after(ms);
	for (;;) {
		rc = gnutls_bye(t->tls, GNUTLS_SHUT_WR);
		if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED)
			return;
		if (wait_fd(t->fd, tls_direction(t), deadline) < 0)
			return;
	}
}

void
transport_close(struct transport *t)
{
	if (t == NULL)
		return;
	if (t->tls_up)
		tls_bye(t);
	if (t->tls != NULL)
		gnutls_deinit(t->tls);
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	if (t->fd >= 0)
		close(t->fd);
	free(t->host);
	util_wipe(t, sizeof(*t));
	free(t);
}
