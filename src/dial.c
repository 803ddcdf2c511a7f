/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dial.c -- see dial.h.
 *
 * Why a thread for the name: getaddrinfo() has no timeout, and the other
 * ways to bound it are worse here. getaddrinfo_a() is glibc's, and when
 * it times out it leaves a thread behind too (gai_cancel() cannot stop a
 * lookup under way), so it is a thread with less control. A child process
 * could be killed, but costs a fork per connection (of a process that may
 * hold a queue of 200 messages' state) and the addresses would have to
 * come back through a pipe. A detached thread costs ~50 us, needs no
 * copying, and one given up on finishes on the resolver's own timeouts
 * (resolv.conf: timeout x attempts), then frees what it holds: the caller
 * and the thread each hold a reference, the last one frees. Address
 * literals (127.0.0.1, ::1) need no thread: AI_NUMERICHOST first.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dial.h"
#include "error.h"
#include "log.h"
#include "socks.h"
#include "util.h"

/* ------------------------------------------------------------ resolve */

/* One lookup, shared by the caller and its thread. */
struct lookup {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;			/* the last one frees */
	bool done;
	int rc, sys_errno;		/* getaddrinfo()'s result, errno */
	struct addrinfo *res;
	char *host;
	char service[8];
};

static void
lookup_hints(struct addrinfo *hints, int flags)
{
	memset(hints, 0, sizeof(*hints));
	hints->ai_family = AF_UNSPEC;
	hints->ai_socktype = SOCK_STREAM;
	hints->ai_flags = AI_NUMERICSERV | flags;
}

/* Drop one reference (mu held; unlocks it); the last one frees. */
static void
lookup_unref(struct lookup *l)
{
	bool last = --l->refs == 0;

	pthread_mutex_unlock(&l->mu);
	if (!last)
		return;
	if (l->res != NULL)
		freeaddrinfo(l->res);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->host);
	free(l);
}

static void *
lookup_thread(void *arg)
{
	struct lookup *l = arg;
	struct addrinfo hints, *res = NULL;
	int rc, e;

	lookup_hints(&hints, 0);
	errno = 0;
	rc = getaddrinfo(l->host, l->service, &hints, &res);
	e = errno;
	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->sys_errno = e;
	l->res = res;
	l->done = true;
	pthread_cond_signal(&l->cv);
	lookup_unref(l);
	return NULL;
}

static struct lookup *
lookup_new(const char *host, const char *service)
{
	struct lookup *l = xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;

	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* util_now_ms */
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	l->refs = 2;
	l->host = xstrdup(host);
	util_strlcpy(l->service, service, sizeof(l->service));
	return l;
}

/* Start l's thread, every signal blocked in it (they are the caller's). */
static int
lookup_start(struct lookup *l)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&tid, &attr, lookup_thread, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}

/* Wait for l until deadline; whether it is done. mu held. */
static bool
lookup_wait(struct lookup *l, long long deadline)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(deadline / 1000);
	ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
	while (!l->done)
		if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) == ETIMEDOUT)
			break;
	return l->done;
}

/* getaddrinfo() in a thread, given up at deadline: *timed_out then. */
static int
resolve_bounded(const char *host, const char *service, long long deadline,
    struct addrinfo **res, bool *timed_out)
{
	struct lookup *l = lookup_new(host, service);
	int rc, e;

	*res = NULL;
	*timed_out = false;
	rc = lookup_start(l);
	if (rc != 0) {
		l->refs = 1;		/* no thread */
		pthread_mutex_lock(&l->mu);
		lookup_unref(l);
		errno = rc;
		return EAI_SYSTEM;
	}
	pthread_mutex_lock(&l->mu);
	rc = EAI_AGAIN;
	e = 0;
	if (lookup_wait(l, deadline)) {
		rc = l->rc;
		e = l->sys_errno;
		*res = l->res;
		l->res = NULL;
	} else
		*timed_out = true;
	lookup_unref(l);
	errno = e;
	return rc;
}

int
dial_resolve(const char *host, int port, long long deadline,
    int timeout_ms, struct addrinfo **res, struct error *err)
{
	struct addrinfo hints;
	char service[8], secs[32];
	bool timed_out = false;
	int rc;

	snprintf(service, sizeof(service), "%d", port);
	lookup_hints(&hints, AI_NUMERICHOST);
	rc = getaddrinfo(host, service, &hints, res);
	if (rc == EAI_NONAME) {
		lookup_hints(&hints, 0);
		if (deadline < 0)
			rc = getaddrinfo(host, service, &hints, res);
		else if ((timed_out = util_now_ms() >= deadline))
			rc = EAI_AGAIN;	/* no time left to ask */
		else
			rc = resolve_bounded(host, service, deadline, res,
			    &timed_out);
	}
	if (rc == 0)
		return 0;
	if (timed_out)
		error_set(err, ERR_TEMP, "cannot resolve '%s': timed out after "
		    "%s waiting for the DNS resolver", host,
		    error_seconds(timeout_ms, secs, sizeof(secs)));
	else
		error_set(err, ERR_TEMP, "cannot resolve '%s': %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	if (err != NULL)
		err->unreachable = true;
	return -1;
}

/* ---------------------------------------------------------------- order */

size_t
dial_order(const struct addrinfo *list, const struct addrinfo **v,
    size_t max)
{
	const struct addrinfo *ai, *first[2] = { NULL, NULL };
	const struct addrinfo *cur[2];
	size_t n = 0;
	int fam, turn = 0;

	if (list == NULL)
		return 0;
	fam = list->ai_family;
	/* cur[0]: the first address's family; cur[1]: the others */
	for (ai = list; ai != NULL; ai = ai->ai_next)
		if (first[ai->ai_family != fam] == NULL)
			first[ai->ai_family != fam] = ai;
	cur[0] = first[0];
	cur[1] = first[1];
	while (n < max && (cur[0] != NULL || cur[1] != NULL)) {
		if (cur[turn] != NULL) {
			v[n++] = cur[turn];
			for (ai = cur[turn]->ai_next; ai != NULL &&
			    (ai->ai_family != fam) != turn; ai = ai->ai_next)
				continue;
			cur[turn] = ai;
		}
		turn = !turn;
	}
	return n;
}

/* ---------------------------------------------------------------- race */

/* The attempts under way. */
struct race {
	struct pollfd pfd[DIAL_MAX_ADDRS];
	size_t idx[DIAL_MAX_ADDRS];	/* pfd[i] tries v[idx[i]] */
	size_t n;
	int last_errno;
	const struct addrinfo *src;	/* bind to it first, or NULL */
};

/*
 * Start a connect to ai (from src when not NULL): the fd (connecting or
 * connected), or -1.
 */
static int
attempt_start(const struct addrinfo *ai, const struct addrinfo *src,
    bool *connected)
{
	bool tcp = ai->ai_family == AF_INET || ai->ai_family == AF_INET6;
	int fd, one = 1, saved;

	*connected = false;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	/* Nagle + delayed ACK costs 40 ms per command/reply exchange. */
	if (tcp && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) < 0)
		goto fail;
	if (src != NULL && bind(fd, src->ai_addr, src->ai_addrlen) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		*connected = true;
	else if (errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Close every attempt but the one at keep (or all: keep >= r->n). */
static void
race_close(struct race *r, size_t keep)
{
	for (size_t i = 0; i < r->n; i++)
		if (i != keep)
			close(r->pfd[i].fd);
	r->n = 0;
}

static void
race_drop(struct race *r, size_t i, int e)
{
	close(r->pfd[i].fd);
	r->last_errno = e;
	r->n--;
	r->pfd[i] = r->pfd[r->n];
	r->idx[i] = r->idx[r->n];
}

/*
 * Look at the attempts poll() marked: the index into r of one that
 * connected, or r->n when none did (failed ones are dropped).
 */
static size_t
race_check(struct race *r)
{
	socklen_t len;
	size_t i = 0;
	int soerr;

	while (i < r->n) {
		if (r->pfd[i].revents == 0) {
			i++;
			continue;
		}
		soerr = 0;
		len = sizeof(soerr);
		if (getsockopt(r->pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &len) < 0)
			soerr = errno;
		if (soerr == 0 && (r->pfd[i].revents & POLLOUT))
			return i;
		race_drop(r, i, soerr != 0 ? soerr : ECONNREFUSED);
	}
	return r->n;
}

static void
trace_attempt(const struct addrinfo *ai)
{
	char addr[NI_MAXHOST];

	if (log_get_verbose() < 2)
		return;
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL,
	    0, NI_NUMERICHOST) != 0)
		util_strlcpy(addr, "?", sizeof(addr));
	log_verbose("trying %s", addr);
}

/* How long poll() may sleep: until the deadline or the next start. */
static int
race_wait_ms(long long deadline, long long next_start)
{
	long long now = util_now_ms(), until = deadline;

	if (next_start >= 0 && (until < 0 || next_start < until))
		until = next_start;
	if (until < 0)
		return -1;
	if (until <= now)
		return 0;
	return until - now > INT_MAX ? INT_MAX : (int)(until - now);
}

/* What starting an attempt did. */
enum race_start {
	RACE_STARTED,		/* connecting: in r */
	RACE_CONNECTED,		/* connected at once: the last one of r */
	RACE_FAILED,		/* failed at once: r->last_errno */
};

static enum race_start
race_start(struct race *r, const struct addrinfo *ai, size_t next)
{
	bool connected;
	int fd;

	trace_attempt(ai);
	fd = attempt_start(ai, r->src, &connected);
	if (fd < 0) {
		r->last_errno = errno;
		return RACE_FAILED;
	}
	r->pfd[r->n] = (struct pollfd){ .fd = fd, .events = POLLOUT };
	r->idx[r->n] = next;
	r->n++;
	return connected ? RACE_CONNECTED : RACE_STARTED;
}

/* The attempt at won (an index into r) connected: keep it alone. */
static int
race_won(struct race *r, size_t won, int *fd, size_t *winner)
{
	*fd = r->pfd[won].fd;
	*winner = r->idx[won];
	race_close(r, won);
	return 0;
}

int
dial_race(const struct addrinfo *const *v, size_t n,
    const struct addrinfo *src, long long deadline, int *fd, size_t *winner)
{
	struct race r = { .n = 0, .last_errno = EHOSTUNREACH, .src = src };
	long long next_start = util_now_ms();
	enum race_start st;
	size_t next = 0, won;
	int rc;

	if (n > DIAL_MAX_ADDRS)
		n = DIAL_MAX_ADDRS;
	for (;;) {
		if (deadline >= 0 && util_now_ms() >= deadline) {
			race_close(&r, r.n);
			errno = ETIMEDOUT;
			return -1;
		}
		if (next < n && (r.n == 0 || util_now_ms() >= next_start)) {
			st = race_start(&r, v[next], next);
			next++;
			if (st == RACE_CONNECTED)
				return race_won(&r, r.n - 1, fd, winner);
			/* a failed one: the next at once */
			next_start = util_now_ms() + (st == RACE_STARTED ?
			    DIAL_ATTEMPT_DELAY_MS : 0);
			continue;
		}
		if (r.n == 0) {
			errno = r.last_errno;
			return -1;
		}
		rc = poll(r.pfd, r.n, race_wait_ms(deadline,
		    next < n ? next_start : -1));
		if (rc < 0 && errno != EINTR) {
			race_close(&r, r.n);
			return -1;
		}
		if (rc <= 0)
			continue;
		won = race_check(&r);
		if (won < r.n)
			return race_won(&r, won, fd, winner);
		next_start = util_now_ms();	/* one failed: the next now */
	}
}

/* ---------------------------------------------------------------- dial */

static void
peer_set(const struct addrinfo *ai, int port, struct dial_peer *peer)
{
	char addr[NI_MAXHOST];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL,
	    0, NI_NUMERICHOST) != 0)
		util_strlcpy(addr, "?", sizeof(addr));
	if (ai->ai_family == AF_INET6)
		snprintf(peer->name, sizeof(peer->name), "[%s] port %d", addr,
		    port);
	else
		snprintf(peer->name, sizeof(peer->name), "%s port %d", addr,
		    port);
	peer->addrlen = ai->ai_addrlen <= sizeof(peer->addr) ?
	    ai->ai_addrlen : 0;
	memcpy(&peer->addr, ai->ai_addr, peer->addrlen);
}

static int
connect_error(const char *host, int port, int timeout_ms, int e,
    struct error *err)
{
	char secs[32];

	if (e != ETIMEDOUT || timeout_ms <= 0)
		error_set(err, ERR_TEMP, "cannot connect to '%s' port %d: %s",
		    host, port, strerror(e));
	else
		error_set(err, ERR_TEMP, "cannot connect to '%s' port %d: "
		    "timed out after %s waiting for the server (connecting)",
		    host, port, error_seconds(timeout_ms, secs, sizeof(secs)));
	if (err != NULL)
		err->unreachable = true;
	return -1;
}

/*
 * source_ip as an address to bind to (*src; freeaddrinfo() it), checked
 * to be one of this host's: ERR_CONFIG otherwise.
 */
static int
source_get(const char *ip, struct addrinfo **src, struct error *err)
{
	struct addrinfo hints;
	int fd, e;

	lookup_hints(&hints, AI_NUMERICHOST | AI_PASSIVE);
	if (getaddrinfo(ip, "0", &hints, src) != 0)
		return error_set(err, ERR_CONFIG, "source_ip '%s' is not an "
		    "IPv4 or IPv6 address", ip);
	fd = socket((*src)->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	e = fd < 0 || bind(fd, (*src)->ai_addr, (*src)->ai_addrlen) < 0 ?
	    errno : 0;
	if (fd >= 0)
		close(fd);
	if (e == 0)
		return 0;
	freeaddrinfo(*src);
	*src = NULL;
	return error_set(err, ERR_CONFIG, "source_ip '%s' cannot be used%s: "
	    "%s", ip, e == EADDRNOTAVAIL ? " (not an address of this host)" :
	    "", strerror(e));
}

/* Drop the addresses of v[0..n) not of family: how many are left. */
static size_t
keep_family(const struct addrinfo **v, size_t n, int family)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i]->ai_family == family)
			v[k++] = v[i];
	return k;
}

/* host port over TCP (from source_ip when not NULL). */
static int
dial_tcp(const char *host, int port, const char *source_ip,
    long long deadline, int timeout_ms, int *fd, struct dial_peer *peer,
    struct error *err)
{
	const struct addrinfo *v[DIAL_MAX_ADDRS];
	struct addrinfo *res, *src = NULL;
	size_t n, winner;
	int rc = -1;

	if (source_ip != NULL && source_get(source_ip, &src, err) < 0)
		return -1;
	if (dial_resolve(host, port, deadline, timeout_ms, &res, err) < 0)
		goto out;
	n = dial_order(res, v, DIAL_MAX_ADDRS);
	if (src != NULL && (n = keep_family(v, n, src->ai_family)) == 0)
		error_set(err, ERR_CONFIG, "'%s' has no %s address to reach "
		    "from source_ip '%s'", host, src->ai_family == AF_INET6 ?
		    "IPv6" : "IPv4", source_ip);
	else if ((rc = dial_race(v, n, src, deadline, fd, &winner)) == 0) {
		peer_set(v[winner], port, peer);
		if (src != NULL && src->ai_addrlen <= sizeof(peer->src)) {
			memcpy(&peer->src, src->ai_addr, src->ai_addrlen);
			peer->srclen = src->ai_addrlen;
		}
	} else
		connect_error(host, port, timeout_ms, errno, err);
	freeaddrinfo(res);
out:
	if (src != NULL)
		freeaddrinfo(src);
	return rc;
}

/* A unix socket at path instead of TCP. */
static int
dial_unix(const char *path, long long deadline, int timeout_ms, int *fd,
    struct dial_peer *peer, struct error *err)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&peer->addr;
	char secs[32];

	if (strlen(path) >= sizeof(sun->sun_path))
		return error_set(err, ERR_CONFIG, "socket '%s': the name is "
		    "too long for a unix socket", path);
	sun->sun_family = AF_UNIX;
	util_strlcpy(sun->sun_path, path, sizeof(sun->sun_path));
	peer->addrlen = sizeof(*sun);
	snprintf(peer->name, sizeof(peer->name), "unix socket %s", path);
	if (dial_again(peer, deadline, fd) == 0)
		return 0;
	if (errno == ETIMEDOUT && timeout_ms > 0)
		error_set(err, ERR_TEMP, "cannot connect to unix socket '%s': "
		    "timed out after %s", path, error_seconds(timeout_ms, secs,
		    sizeof(secs)));
	else
		error_set(err, ERR_TEMP, "cannot connect to unix socket '%s': "
		    "%s", path, strerror(errno));
	if (err != NULL)
		err->unreachable = true;
	return -1;
}

/* host port through the SOCKS5 proxy of route (socks.h). */
static int
dial_proxy(const char *host, int port, const struct dial_route *route,
    long long deadline, int timeout_ms, int *fd, struct dial_peer *peer,
    struct error *err)
{
	int pport = route->proxy_port > 0 ? route->proxy_port :
	    SOCKS_DEFAULT_PORT;
	char proxy[DIAL_PEER_MAX], at[DIAL_PEER_MAX];
	struct socks_request r = { .host = host, .port = port,
	    .user = route->proxy_user, .password = route->proxy_password,
	    .proxy = proxy, .timeout_ms = timeout_ms };

	snprintf(proxy, sizeof(proxy), "SOCKS5 proxy '%s' port %d",
	    route->proxy_host, pport);
	if (dial_tcp(route->proxy_host, pport, route->source_ip, deadline,
	    timeout_ms, fd, peer, err) < 0)
		return error_prefix(err, "SOCKS5 proxy");
	if (socks_connect(*fd, &r, deadline, err) < 0) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	util_strlcpy(at, peer->name, sizeof(at));
	snprintf(peer->name, sizeof(peer->name), "'%s' port %d via SOCKS5 "
	    "proxy %s", host, port, at);
	peer->proxied = true;
	return 0;
}

int
dial(const char *host, int port, const struct dial_route *route,
    int timeout_ms, int *fd, struct dial_peer *peer, struct error *err)
{
	long long deadline = timeout_ms > 0 ? util_now_ms() + timeout_ms : -1;

	*fd = -1;
	memset(peer, 0, sizeof(*peer));
	if (route != NULL && route->socket != NULL)
		return dial_unix(route->socket, deadline, timeout_ms, fd, peer,
		    err);
	if (route != NULL && route->proxy_host != NULL)
		return dial_proxy(host, port, route, deadline, timeout_ms, fd,
		    peer, err);
	return dial_tcp(host, port, route != NULL ? route->source_ip : NULL,
	    deadline, timeout_ms, fd, peer, err);
}

int
dial_again(const struct dial_peer *peer, long long deadline, int *fd)
{
	struct sockaddr_storage ss = peer->addr;
	struct addrinfo ai = { .ai_family = ss.ss_family,
	    .ai_socktype = SOCK_STREAM, .ai_addrlen = peer->addrlen,
	    .ai_addr = (struct sockaddr *)&ss };
	struct sockaddr_storage sss = peer->src;
	struct addrinfo src = { .ai_family = sss.ss_family,
	    .ai_socktype = SOCK_STREAM, .ai_addrlen = peer->srclen,
	    .ai_addr = (struct sockaddr *)&sss };
	const struct addrinfo *v[1] = { &ai };
	size_t winner;

	*fd = -1;
	if (peer->addrlen == 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return dial_race(v, 1, peer->srclen > 0 ? &src : NULL, deadline, fd,
	    &winner);
}
