/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-dial.c -- dial.c: the RFC 8305 order (families interleaved), the
 * race on loopback sockets (a black-holed address costs the 250 ms
 * Connection Attempt Delay, not the timeout; a refused one nothing; the
 * deadline bounds it all), name resolution of literals and localhost,
 * and dial() as transport.c calls it.
 *
 * A black hole on loopback: a listening socket with backlog 0 whose one
 * queue place is taken by a connection never accepted; the kernel drops
 * further SYNs, so a connect to it stays pending (as it does to an address
 * that drops packets).
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "error.h"
#include "util.h"
#include "tap.h"

/* ---------------------------------------------------------------- helpers */

/* An addrinfo for addr:port (family from the literal), not from libc. */
struct fake_ai {
	struct addrinfo ai;
	struct sockaddr_storage ss;
};

static struct fake_ai *
fake_ai(const char *addr, int port)
{
	struct fake_ai *f = xcalloc(1, sizeof(*f));
	struct sockaddr_in *in = (struct sockaddr_in *)&f->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&f->ss;

	f->ai.ai_socktype = SOCK_STREAM;
	f->ai.ai_addr = (struct sockaddr *)&f->ss;
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		f->ai.ai_family = AF_INET;
		f->ai.ai_addrlen = sizeof(*in);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		f->ai.ai_family = AF_INET6;
		f->ai.ai_addrlen = sizeof(*in6);
	} else
		bail_out("bad address literal %s", addr);
	return f;
}

/* A chain of n fake addresses; freed with chain_free(). */
static struct addrinfo *
chain(size_t n, const char *const *addrs, const int *ports)
{
	struct addrinfo *head = NULL, **tail = &head;

	for (size_t i = 0; i < n; i++) {
		*tail = &fake_ai(addrs[i], ports[i])->ai;
		tail = &(*tail)->ai_next;
	}
	return head;
}

static void
chain_free(struct addrinfo *ai)
{
	struct addrinfo *next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai);		/* ai is the first member of fake_ai */
	}
}

/* A socket of family bound to addr port 0; *port set. listen: backlog. */
static int
bound(const char *addr, int backlog, int *port)
{
	struct fake_ai *f = fake_ai(addr, 0);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(f->ai.ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, f->ai.ai_addr, f->ai.ai_addrlen) < 0 ||
	    (backlog >= 0 && listen(fd, backlog) < 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		bail_out("cannot bind %s: %s", addr, strerror(errno));
	*port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	free(f);
	return fd;
}

/* A black hole at addr: *port; the listener and the filler in fds[2]. */
static void
black_hole(const char *addr, int *port, int fds[2])
{
	struct fake_ai *f;
	struct pollfd p;

	fds[0] = bound(addr, 0, port);
	f = fake_ai(addr, *port);
	fds[1] = socket(f->ai.ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fds[1] < 0 || (connect(fds[1], f->ai.ai_addr,
	    f->ai.ai_addrlen) < 0 && errno != EINPROGRESS))
		bail_out("cannot fill the black hole: %s", strerror(errno));
	p = (struct pollfd){ .fd = fds[1], .events = POLLOUT };
	if (poll(&p, 1, 2000) != 1)
		bail_out("the filler of the black hole did not connect");
	free(f);
}

static bool
have_ipv6_loopback(void)
{
	struct fake_ai *f = fake_ai("::1", 0);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes = fd >= 0 && bind(fd, f->ai.ai_addr, f->ai.ai_addrlen) == 0;

	if (fd >= 0)
		close(fd);
	free(f);
	return yes;
}

/* ---------------------------------------------------------------- order */

static void
test_order(void)
{
	const char *a[] = { "::1", "::2", "127.0.0.1", "127.0.0.2", "::3" };
	const int p[] = { 1, 2, 3, 4, 5 };
	const char *b[] = { "127.0.0.1", "127.0.0.2", "::1" };
	const struct addrinfo *v[8];
	struct addrinfo *l = chain(5, a, p), *m = chain(3, b, p);
	int got[8];
	size_t n;

	n = dial_order(l, v, 8);
	for (size_t i = 0; i < n; i++)
		got[i] = ntohs(((struct sockaddr_in *)v[i]->ai_addr)->sin_port);
	ok(n == 5 && got[0] == 1 && got[1] == 3 && got[2] == 2 &&
	    got[3] == 4 && got[4] == 5, "order: v6 v4 v6 v4 v6 (the first "
	    "family first, then alternating)");
	n = dial_order(m, v, 8);
	for (size_t i = 0; i < n; i++)
		got[i] = ntohs(((struct sockaddr_in *)v[i]->ai_addr)->sin_port);
	ok(n == 3 && got[0] == 1 && got[1] == 3 && got[2] == 2,
	    "order: v4 first when it comes first: v4 v6 v4");
	ok(dial_order(l, v, 2) == 2, "order: at most max");
	ok(dial_order(NULL, v, 8) == 0, "order: nothing");
	chain_free(l);
	chain_free(m);
}

/* ---------------------------------------------------------------- race */

/* Race the chain of addrs/ports with timeout ms: rc, *ms, *winner. */
static int
race(size_t n, const char *const *addrs, const int *ports, int timeout,
    long long *ms, size_t *winner, int *e)
{
	struct addrinfo *l = chain(n, addrs, ports);
	const struct addrinfo *v[8];
	long long t0 = util_now_ms();
	int fd = -1, rc;

	*winner = 99;
	n = dial_order(l, v, 8);
	rc = dial_race(v, n, NULL, timeout > 0 ? t0 + timeout : -1, &fd,
	    winner);
	*e = errno;
	*ms = util_now_ms() - t0;
	if (fd >= 0)
		close(fd);
	chain_free(l);
	return rc;
}

static void
test_race_v4(void)
{
	const char *a[] = { "127.0.0.1", "127.0.0.1" };
	int bh[2], bh_port, good, closed, ports[2], e, lfd, cfd, rc;
	long long ms;
	size_t w;

	black_hole("127.0.0.1", &bh_port, bh);
	ports[0] = bh_port;
	lfd = bound("127.0.0.1", 16, &good);
	cfd = bound("127.0.0.1", -1, &closed);	/* bound, not listening */

	ports[1] = good;
	rc = race(2, a, ports, 5000, &ms, &w, &e);
	ok(rc == 0 && w == 1 &&
	    ms >= DIAL_ATTEMPT_DELAY_MS - 10 && ms < 500,
	    "race: black hole first, then a listener: the second wins after "
	    "the 250 ms delay, < 0.5 s (%lld ms)", ms);
	ports[0] = closed;
	rc = race(2, a, ports, 5000, &ms, &w, &e);
	ok(rc == 0 && w == 1 && ms < 100,
	    "race: refused first: the second at once (%lld ms)", ms);
	ports[0] = good;
	rc = race(1, a, ports, 5000, &ms, &w, &e);
	ok(rc == 0 && w == 0 && ms < 100,
	    "race: one address that answers (%lld ms)", ms);
	ports[0] = closed;
	rc = race(1, a, ports, 5000, &ms, &w, &e);
	ok(rc < 0 && e == ECONNREFUSED &&
	    ms < 100, "race: refused: ECONNREFUSED at once (%lld ms)", ms);
	ports[0] = ports[1] = bh_port;
	rc = race(2, a, ports, 600, &ms, &w, &e);
	ok(rc < 0 && e == ETIMEDOUT &&
	    ms >= 590 && ms < 900, "race: two black holes: ETIMEDOUT at the "
	    "deadline, 600 ms (%lld ms)", ms);
	close(lfd);
	close(cfd);
	close(bh[0]);
	close(bh[1]);
}

static void
test_race_v6(void)
{
	const char *a[] = { "::1", "127.0.0.1" };
	int bh[2], ports[2], e, lfd, rc;
	long long ms;
	size_t w;

	if (!have_ipv6_loopback()) {
		ok(1, "race v6: # SKIP no IPv6 loopback here");
		return;
	}
	black_hole("::1", &ports[0], bh);
	lfd = bound("127.0.0.1", 16, &ports[1]);
	rc = race(2, a, ports, 5000, &ms, &w, &e);
	ok(rc == 0 && w == 1 && ms < 500,
	    "race: ::1 black-holed, 127.0.0.1 answers: IPv4 wins in < 0.5 s "
	    "(%lld ms)", ms);
	close(lfd);
	close(bh[0]);
	close(bh[1]);
}

/* ---------------------------------------------------------------- resolve */

static void
test_resolve(void)
{
	struct addrinfo *res = NULL;
	struct error err;
	long long dl = util_now_ms() + 5000;

	error_init(&err);
	ok(dial_resolve("127.0.0.1", 25, dl, 5000, &res, &err) == 0 &&
	    res != NULL && res->ai_family == AF_INET,
	    "resolve: an IPv4 literal");
	if (res != NULL)
		freeaddrinfo(res);
	res = NULL;
	ok(dial_resolve("localhost", 25, dl, 5000, &res, &err) == 0 &&
	    res != NULL, "resolve: localhost (through the thread)");
	if (res != NULL)
		freeaddrinfo(res);
	res = NULL;
	ok(dial_resolve("localhost", 25, -1, 0, &res, &err) == 0 &&
	    res != NULL, "resolve: localhost without a timeout");
	if (res != NULL)
		freeaddrinfo(res);
	ok(dial_resolve("localhost", 25, util_now_ms() - 1, 2000, &res,
	    &err) < 0 && err.unreachable && strcmp(err.message,
	    "cannot resolve 'localhost': timed out after 2 s waiting for the "
	    "DNS resolver") == 0, "resolve: a deadline already gone: the "
	    "timeout message (%s)", err.message);
}

static void
test_dial(void)
{
	struct dial_peer peer;
	char want[128];
	struct error err;
	int lfd, port, fd = -1, closed, cfd;

	error_init(&err);
	lfd = bound("127.0.0.1", 16, &port);
	ok(dial("127.0.0.1", port, NULL, 5000, &fd, &peer, &err) == 0 &&
	    fd >= 0, "dial: connects");
	snprintf(want, sizeof(want), "127.0.0.1 port %d", port);
	is_str(peer.name, want, "dial: peer");
	if (fd >= 0)
		close(fd);
	fd = -1;
	ok(dial_again(&peer, util_now_ms() + 5000, &fd) == 0 && fd >= 0,
	    "dial_again: the same address again");
	if (fd >= 0)
		close(fd);
	cfd = bound("127.0.0.1", -1, &closed);
	ok(dial("127.0.0.1", closed, NULL, 5000, &fd, &peer, &err) < 0 &&
	    err.kind == ERR_TEMP && err.unreachable, "dial: refused: "
	    "ERR_TEMP, unreachable");
	snprintf(want, sizeof(want), "cannot connect to '127.0.0.1' port %d: "
	    "Connection refused", closed);
	is_str(err.message, want, "dial: refused: the message");
	close(lfd);
	close(cfd);
}

int
main(void)
{
	test_order();
	test_race_v4();
	test_race_v6();
	test_resolve();
	test_dial();
	return done_testing();
}
