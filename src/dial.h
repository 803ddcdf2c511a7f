/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dial.h -- from a host name and a port to a connected TCP socket, all of
 * it within one timeout:
 *  - the name is resolved by getaddrinfo() in a thread of its own, which
 *    the caller stops waiting for at the deadline (getaddrinfo has no
 *    timeout, and a dead resolver under cron would hang a send for ever);
 *  - the addresses are raced as RFC 8305 (Happy Eyeballs v2) says: the
 *    families interleaved (getaddrinfo's order within each), the first
 *    attempt at once, the next one DIAL_ATTEMPT_DELAY_MS later while the
 *    earlier ones go on (or at once when one fails), the first to connect
 *    wins and the others are closed. An address that drops packets costs
 *    250 ms, not the timeout.
 * Every failure is ERR_TEMP with err->unreachable set: the messages are
 * "cannot resolve 'HOST': WHY", "cannot resolve 'HOST': timed out after
 * 2 s waiting for the DNS resolver", "cannot connect to 'HOST' port N:
 * WHY" and "... port N: timed out after 2 s waiting for the server
 * (connecting)".
 */
#ifndef YUBIN_DIAL_H
#define YUBIN_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct addrinfo;
struct error;

#define DIAL_ATTEMPT_DELAY_MS	250	/* RFC 8305's Connection Attempt Delay */
#define DIAL_MAX_ADDRS		32	/* addresses tried, at most */
#define DIAL_PEER_MAX		400	/* "'HOST' port N via SOCKS5 proxy
					   [ffff:...:ffff] port 65535" */

/* How to reach the server besides its name and port (NULL: directly). */
struct dial_route {
	const char *socket;		/* a unix socket instead of TCP */
	const char *source_ip;		/* TCP: bind to it before connecting */
	const char *proxy_host;		/* a SOCKS5 proxy (socks.h), or NULL */
	int proxy_port;			/* 0: 1080 */
	const char *proxy_user;		/* RFC 1929, or NULL */
	const char *proxy_password;	/* secret */
};

/* The address that answered. */
struct dial_peer {
	char name[DIAL_PEER_MAX];	/* "127.0.0.1 port 587", "[::1] port
					   587", "unix socket PATH", "'HOST'
					   port 587 via SOCKS5 proxy ..." */
	struct sockaddr_storage addr;	/* the server's, the socket's, or the
					   proxy's (proxied) */
	socklen_t addrlen;
	struct sockaddr_storage src;	/* source_ip's, when srclen > 0 */
	socklen_t srclen;
	bool proxied;
};

/*
 * Connect to host (a name or an address literal) port within timeout_ms
 * (<= 0: no limit) for resolution and connection together, the way route
 * (NULL: directly) says:
 *  - socket: to that unix socket, host and port unused ("cannot connect
 *    to unix socket 'PATH': WHY", ERR_TEMP, unreachable);
 *  - proxy_host: to the proxy (as to a server, from source_ip; its
 *    failures prefixed "SOCKS5 proxy: "), then socks_connect() to host
 *    port, the name unresolved;
 *  - source_ip: bound to before connecting, only addresses of its family
 *    tried; one that is not this host's is ERR_CONFIG ("source_ip 'IP'
 *    cannot be used (not an address of this host): WHY").
 * On success *fd is a non-blocking socket (TCP_NODELAY for TCP), and
 * *peer says what answered.
 */
int dial(const char *host, int port, const struct dial_route *route,
    int timeout_ms, int *fd, struct dial_peer *peer, struct error *err);

/*
 * Another connection to the address that answered (peer, from dial(); not
 * proxied: that would be the proxy), from the same source address,
 * before deadline (util_now_ms() time, < 0: none): 0 and *fd, or -1 with
 * errno.
 */
int dial_again(const struct dial_peer *peer, long long deadline, int *fd);

/* The parts, for the unit tests. */

/*
 * RFC 8305 section 4: the addresses of list in the order to try them,
 * families alternating, starting with the family of the first; at most
 * max of them into v. Returns how many.
 */
size_t dial_order(const struct addrinfo *list, const struct addrinfo **v,
    size_t max);

/*
 * Race v[0..n) (in that order; each socket bound to src first when not
 * NULL) until one connects or the deadline (util_now_ms() time, < 0:
 * none) passes: *fd and *winner (its index).
 * -1 with errno: that of the last attempt that failed, or ETIMEDOUT.
 */
int dial_race(const struct addrinfo *const *v, size_t n,
    const struct addrinfo *src, long long deadline, int *fd, size_t *winner);

/*
 * getaddrinfo(host, port, SOCK_STREAM) given up at deadline (< 0: none):
 * 0 and *res (freeaddrinfo() it), or an error as said above.
 */
int dial_resolve(const char *host, int port, long long deadline,
    int timeout_ms, struct addrinfo **res, struct error *err);

#endif
