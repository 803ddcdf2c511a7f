/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * socks.h -- a SOCKS5 CONNECT (RFC 1928) on a connection to the proxy,
 * with username/password authentication (RFC 1929) when a user is given.
 * The host name goes to the proxy as it is (ATYP 3, DOMAINNAME): the proxy
 * resolves it, nothing is looked up here (Tor needs that, and the local
 * resolver learns nothing). An address literal goes as an address.
 *
 * Errors (each naming the proxy, "SOCKS5 proxy 'P' port N"):
 *  - the proxy's replies 1 (general failure), 3 (network unreachable), 4
 *    (host unreachable), 5 (connection refused), 6 (TTL expired), silence
 *    or a closed connection: ERR_TEMP with err->unreachable (the queue
 *    tries again at the next flush);
 *  - 2 (not allowed by the proxy's rules): ERR_UNAVAILABLE, permanent;
 *  - no acceptable authentication method, or the username/password
 *    refused: ERR_AUTH;
 *  - 7, 8, another code, or a reply that is not SOCKS5: ERR_PROTOCOL.
 */
#ifndef YUBIN_SOCKS_H
#define YUBIN_SOCKS_H

#include <stddef.h>

struct error;

#define SOCKS_DEFAULT_PORT	1080
#define SOCKS_FIELD_MAX		255	/* a host name, user or password */

struct socks_request {
	const char *host;		/* where the proxy connects to */
	int port;
	const char *user;		/* RFC 1929, or NULL: none */
	const char *password;		/* secret */
	const char *proxy;		/* "SOCKS5 proxy 'P' port N" */
	int timeout_ms;			/* for the messages */
};

/*
 * On fd (connected to the proxy, non-blocking), ask for a connection to
 * r->host r->port, everything before deadline (util_now_ms() time, < 0:
 * none). 0: fd now carries the connection to the server.
 */
int socks_connect(int fd, const struct socks_request *r, long long deadline,
    struct error *err);

/*
 * The CONNECT request for host port into buf (at least 262 bytes): its
 * length, or 0 when host is longer than SOCKS_FIELD_MAX. For the tests.
 */
size_t socks_request_encode(const char *host, int port, unsigned char *buf);

/* What a reply code means: "connection refused" ... (for messages). */
const char *socks_reply_text(int rep);

#endif
