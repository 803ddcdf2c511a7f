/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * socks.c -- see socks.h. Three exchanges at most (methods, RFC 1929
 * authentication, CONNECT), each read exactly: not a byte of what the
 * server sends after the proxy's reply is taken from the socket.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "socks.h"
#include "util.h"

#define SOCKS_VERSION		5
#define SOCKS_AUTH_VERSION	1	/* RFC 1929 */
#define SOCKS_METHOD_NONE	0x00
#define SOCKS_METHOD_USERPASS	0x02
#define SOCKS_METHOD_REFUSED	0xff
#define SOCKS_CMD_CONNECT	1
#define SOCKS_ATYP_IPV4		1
#define SOCKS_ATYP_DOMAIN	3
#define SOCKS_ATYP_IPV6		4

/* ---------------------------------------------------------------- I/O */

/* Wait for fd until deadline: 0, or -1 with errno (ETIMEDOUT). */
static int
socks_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		left = deadline < 0 ? -1 : deadline - util_now_ms();
		if (deadline >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int
socks_send(int fd, const unsigned char *p, size_t n, long long deadline)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		else if (socks_wait(fd, POLLOUT, deadline) < 0)
			return -1;
	}
	return 0;
}

/* Exactly n bytes; -1 with errno (ECONNRESET at EOF). */
static int
socks_recv(int fd, unsigned char *p, size_t n, long long deadline)
{
	ssize_t r;

	while (n > 0) {
		r = recv(fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r == 0) {
			errno = ECONNRESET;
			return -1;
		} else if (errno != EAGAIN && errno != EINTR)
			return -1;
		else if (socks_wait(fd, POLLIN, deadline) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- errors */

static int
io_error(const struct socks_request *r, int e, struct error *err)
{
	char secs[32];

	if (e == ETIMEDOUT && r->timeout_ms > 0)
		error_set(err, ERR_TEMP, "%s: timed out after %s waiting for "
		    "the proxy", r->proxy, error_seconds(r->timeout_ms, secs,
		    sizeof(secs)));
	else
		error_set(err, ERR_TEMP, "%s: %s", r->proxy,
		    e == ECONNRESET ? "the proxy closed the connection" :
		    strerror(e));
	if (err != NULL)
		err->unreachable = true;
	return -1;
}

static int
not_socks5(const struct socks_request *r, struct error *err)
{
	return error_set(err, ERR_PROTOCOL, "%s: the reply is not SOCKS5 "
	    "(is it a SOCKS5 proxy?)", r->proxy);
}

const char *
socks_reply_text(int rep)
{
	static const char *const text[] = {
		[1] = "general SOCKS server failure",
		[2] = "connection not allowed by the proxy's rules",
		[3] = "network unreachable",
		[4] = "host unreachable",
		[5] = "connection refused",
		[6] = "TTL expired",
		[7] = "command not supported",
		[8] = "address type not supported",
	};

	if (rep > 0 && (size_t)rep < ARRAY_SIZE(text))
		return text[rep];
	return "unknown reply";
}

/* The proxy's reply rep (not 0) to CONNECT. */
static int
reply_error(const struct socks_request *r, int rep, struct error *err)
{
	enum error_kind kind = ERR_PROTOCOL;

	if (rep == 1 || (rep >= 3 && rep <= 6))
		kind = ERR_TEMP;
	else if (rep == 2)
		kind = ERR_UNAVAILABLE;
	error_set(err, kind, "%s cannot connect to '%s' port %d: %s "
	    "(SOCKS5 reply %d)", r->proxy, r->host, r->port,
	    socks_reply_text(rep), rep);
	if (err != NULL && kind == ERR_TEMP)
		err->unreachable = true;
	return -1;
}

/* ------------------------------------------------------------ exchanges */

/* The method: none, or username/password when r has a user. */
static int
socks_method(int fd, const struct socks_request *r, long long deadline,
    int *method, struct error *err)
{
	unsigned char req[4] = { SOCKS_VERSION, 1, SOCKS_METHOD_NONE, 0 };
	unsigned char rep[2];
	size_t n = 3;

	if (r->user != NULL) {
		req[1] = 2;
		req[3] = SOCKS_METHOD_USERPASS;
		n = 4;
	}
	if (socks_send(fd, req, n, deadline) < 0 ||
	    socks_recv(fd, rep, sizeof(rep), deadline) < 0)
		return io_error(r, errno, err);
	if (rep[0] != SOCKS_VERSION)
		return not_socks5(r, err);
	*method = rep[1];
	if (rep[1] == SOCKS_METHOD_NONE ||
	    (rep[1] == SOCKS_METHOD_USERPASS && r->user != NULL))
		return 0;
	if (rep[1] == SOCKS_METHOD_REFUSED)
		return error_set(err, ERR_AUTH, "%s accepts none of the "
		    "authentication methods offered (%s)", r->proxy,
		    r->user != NULL ? "none, username/password" :
		    "none; set proxy_user and proxy_password");
	return not_socks5(r, err);
}

/* RFC 1929: user and password, wiped afterwards. */
static int
socks_userpass(int fd, const struct socks_request *r, long long deadline,
    struct error *err)
{
	unsigned char req[3 + 2 * SOCKS_FIELD_MAX], rep[2];
	size_t ul = strlen(r->user);
	size_t pl = r->password != NULL ? strlen(r->password) : 0;
	int rc;

	if (ul == 0 || ul > SOCKS_FIELD_MAX || pl > SOCKS_FIELD_MAX)
		return error_set(err, ERR_CONFIG, "%s: proxy_user and "
		    "proxy_password must be 1-255 bytes", r->proxy);
	req[0] = SOCKS_AUTH_VERSION;
	req[1] = (unsigned char)ul;
	memcpy(req + 2, r->user, ul);
	req[2 + ul] = (unsigned char)pl;
	if (pl > 0)
		memcpy(req + 3 + ul, r->password, pl);
	rc = socks_send(fd, req, 3 + ul + pl, deadline);
	util_wipe(req, sizeof(req));
	if (rc < 0 || socks_recv(fd, rep, sizeof(rep), deadline) < 0)
		return io_error(r, errno, err);
	if (rep[0] != SOCKS_AUTH_VERSION)
		return not_socks5(r, err);
	if (rep[1] != 0)
		return error_set(err, ERR_AUTH, "%s refused the username and "
		    "password of proxy_user '%s'", r->proxy, r->user);
	return 0;
}

size_t
socks_request_encode(const char *host, int port, unsigned char *buf)
{
	size_t n = 4, hl = strlen(host);

	buf[0] = SOCKS_VERSION;
	buf[1] = SOCKS_CMD_CONNECT;
	buf[2] = 0;
	if (inet_pton(AF_INET, host, buf + 4) == 1) {
		buf[3] = SOCKS_ATYP_IPV4;
		n += 4;
	} else if (inet_pton(AF_INET6, host, buf + 4) == 1) {
		buf[3] = SOCKS_ATYP_IPV6;
		n += 16;
	} else {
		if (hl == 0 || hl > SOCKS_FIELD_MAX)
			return 0;
		buf[3] = SOCKS_ATYP_DOMAIN;
		buf[4] = (unsigned char)hl;
		memcpy(buf + 5, host, hl);
		n += 1 + hl;
	}
	buf[n++] = (unsigned char)(port >> 8);
	buf[n++] = (unsigned char)(port & 0xff);
	return n;
}

/* The rest of the reply after its 4 bytes: the bound address and port. */
static int
socks_bound(int fd, const struct socks_request *r, int atyp,
    long long deadline, struct error *err)
{
	unsigned char buf[SOCKS_FIELD_MAX + 2];
	size_t n;

	if (atyp == SOCKS_ATYP_IPV4)
		n = 4 + 2;
	else if (atyp == SOCKS_ATYP_IPV6)
		n = 16 + 2;
	else if (atyp == SOCKS_ATYP_DOMAIN) {
		if (socks_recv(fd, buf, 1, deadline) < 0)
			return io_error(r, errno, err);
		n = (size_t)buf[0] + 2;
	} else
		return not_socks5(r, err);
	if (socks_recv(fd, buf, n, deadline) < 0)
		return io_error(r, errno, err);
	return 0;
}

static int
socks_request(int fd, const struct socks_request *r, long long deadline,
    struct error *err)
{
	unsigned char req[6 + SOCKS_FIELD_MAX + 1], rep[4];
	size_t n = socks_request_encode(r->host, r->port, req);

	if (n == 0)
		return error_set(err, ERR_CONFIG, "host name '%s' is too long "
		    "for a SOCKS5 proxy (at most 255 bytes)", r->host);
	if (socks_send(fd, req, n, deadline) < 0 ||
	    socks_recv(fd, rep, sizeof(rep), deadline) < 0)
		return io_error(r, errno, err);
	if (rep[0] != SOCKS_VERSION)
		return not_socks5(r, err);
	if (rep[1] != 0)
		return reply_error(r, rep[1], err);
	return socks_bound(fd, r, rep[3], deadline, err);
}

int
socks_connect(int fd, const struct socks_request *r, long long deadline,
    struct error *err)
{
	int method = SOCKS_METHOD_NONE;

	if (socks_method(fd, r, deadline, &method, err) < 0)
		return -1;
	if (method == SOCKS_METHOD_USERPASS &&
	    socks_userpass(fd, r, deadline, err) < 0)
		return -1;
	return socks_request(fd, r, deadline, err);
}
