/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * loopback.c -- see loopback.h. One poll() loop over the listener, stdin
 * and the open connections, each connection with its own deadline.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "loopback.h"
#include "util.h"

#define LOOPBACK_BACKLOG	16
#define LOOPBACK_SHOW		80	/* bytes of a provider's error shown */

struct conn {
	int fd;			/* -1: a free slot */
	long long deadline;
	size_t n;
	char *line;		/* the request line so far (may hold a code) */
};

struct loopback {
	int fd;			/* the listener */
	char redirect[64];	/* http://127.0.0.1:PORT/ */
	struct conn conns[LOOPBACK_CONNS];
	struct dynbuf paste;	/* a line being pasted on stdin */
	bool stdin_open;
	const char *state;	/* what the answer must carry */
	char *code;		/* the answer (secret) */
	struct error *err;	/* where a failed sign-in is told */
};

enum answer {
	ANSWER_NONE,		/* not a sign-in answer (favicon.ico ...) */
	ANSWER_BAD_STATE,	/* somebody else's, or forged: ignored */
	ANSWER_CODE,		/* l->code is set */
	ANSWER_ERROR,		/* the provider said no: l->err is set */
};

int
loopback_open(struct loopback **out, bool localhost_name, struct error *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct loopback *l = xcalloc(1, sizeof(*l));

	*out = l;
	for (size_t i = 0; i < LOOPBACK_CONNS; i++)
		l->conns[i].fd = -1;
	dynbuf_init(&l->paste, LOOPBACK_LINE_MAX);
	l->paste.secret = true;
	l->stdin_open = true;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sin, len) < 0 ||
	    listen(l->fd, LOOPBACK_BACKLOG) < 0 ||
	    getsockname(l->fd, (struct sockaddr *)&sin, &len) < 0)
		return error_set(err, ERR_OSERR, "cannot listen on 127.0.0.1 "
		    "for the browser: %s", strerror(errno));
	snprintf(l->redirect, sizeof(l->redirect), "http://%s:%d/",
	    localhost_name ? "localhost" : "127.0.0.1", ntohs(sin.sin_port));
	return 0;
}

const char *
loopback_redirect(const struct loopback *l)
{
	return l->redirect;
}

/* ---------------------------------------------------------------- answers */

/* The decoded value of key in query (n bytes), or NULL. */
static char *
query_get(const char *q, size_t n, const char *key)
{
	size_t klen = strlen(key), i = 0;

	while (i < n) {
		size_t len = strcspn(q + i, "&#");

		if (i + len > n)
			len = n - i;
		if (len > klen && q[i + klen] == '=' &&
		    strncmp(q + i, key, klen) == 0)
			return util_pct_decode(q + i + klen + 1,
			    len - klen - 1);
		if (i + len < n && q[i + len] == '#')
			break;
		i += len + 1;
	}
	return NULL;
}

/* The provider's refusal, as the user will read it. */
static void
refused(struct loopback *l, const char *e, const char *desc)
{
	char se[LOOPBACK_SHOW + 8], sd[2 * LOOPBACK_SHOW + 8];

	util_show(e, LOOPBACK_SHOW, true, se, sizeof(se));
	if (desc != NULL)
		error_set(l->err, ERR_AUTH, "the sign-in failed: %s: %s", se,
		    util_show(desc, 2 * LOOPBACK_SHOW, true, sd, sizeof(sd)));
	else
		error_set(l->err, ERR_AUTH, "the sign-in failed: %s", se);
}

static enum answer
check_query(struct loopback *l, const char *q, size_t n)
{
	char *state = query_get(q, n, "state");
	char *code = query_get(q, n, "code");
	char *e = query_get(q, n, "error");
	char *desc = query_get(q, n, "error_description");
	enum answer r = ANSWER_NONE;

	if (code == NULL && e == NULL)
		r = ANSWER_NONE;
	else if (state == NULL || strcmp(state, l->state) != 0)
		r = ANSWER_BAD_STATE;
	else if (code != NULL && *code != '\0') {
		l->code = code;
		code = NULL;
		r = ANSWER_CODE;
	} else {
		refused(l, e != NULL ? e : "no code", desc);
		r = ANSWER_ERROR;
	}
	free(state);
	free(e);
	free(desc);
	util_free_secret(code);
	return r;
}

/* ---------------------------------------------------------------- browser */

static void
send_page(int fd, int status, const char *text)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n<!doctype html><title>yubin</title>"
	    "<p>%s</p>\n", status, status == 200 ? "OK" : status == 404 ?
	    "Not Found" : "Bad Request", text);
	if (n > 0)	/* a small page into an empty socket buffer */
		(void)!write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

/* The query of "GET /path?query HTTP/1.1", or NULL. */
static const char *
request_query(const char *line, size_t *n)
{
	const char *q;

	if (strncmp(line, "GET /", 5) != 0)
		return NULL;
	*n = strcspn(line + 4, " \r\n");
	q = memchr(line + 4, '?', *n);
	if (q == NULL)
		return NULL;
	q++;
	*n = strcspn(q, " \r\n");
	return q;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->line != NULL)
		util_wipe(c->line, LOOPBACK_LINE_MAX);
	free(c->line);
	c->fd = -1;
	c->line = NULL;
	c->n = 0;
}

/* A new connection into a free slot (none free: it waits in the queue). */
static void
conn_accept(struct loopback *l)
{
	for (size_t i = 0; i < LOOPBACK_CONNS; i++) {
		struct conn *c = &l->conns[i];

		if (c->fd >= 0)
			continue;
		c->fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (c->fd < 0)
			return;
		c->line = xmalloc(LOOPBACK_LINE_MAX);
		c->n = 0;
		c->deadline = util_now_ms() + LOOPBACK_CONN_MS;
		return;
	}
}

/* The request line is in: answer the browser. */
static enum answer
conn_answer(struct loopback *l, struct conn *c)
{
	enum answer r = ANSWER_NONE;
	const char *q;
	size_t n = 0;

	if ((q = request_query(c->line, &n)) != NULL)
		r = check_query(l, q, n);
	if (r == ANSWER_CODE)
		send_page(c->fd, 200, "Signed in: yubin has what it needs. You "
		    "can close this tab.");
	else if (r == ANSWER_ERROR)
		send_page(c->fd, 200, "The sign-in failed; yubin says why in "
		    "the terminal.");
	else if (r == ANSWER_BAD_STATE)
		send_page(c->fd, 400, "This answer does not belong to the "
		    "sign-in yubin is waiting for (wrong state); it was "
		    "ignored.");
	else
		send_page(c->fd, 404, "Not the sign-in answer yubin waits "
		    "for.");
	if (r == ANSWER_BAD_STATE)
		log_warn("ignored an answer on %s with the wrong state (not "
		    "from this sign-in)", l->redirect);
	conn_close(c);
	return r;
}

static enum answer
conn_read(struct loopback *l, struct conn *c)
{
	ssize_t got = read(c->fd, c->line + c->n, LOOPBACK_LINE_MAX - 1 -
	    c->n);

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return ANSWER_NONE;
	if (got <= 0) {
		conn_close(c);
		return ANSWER_NONE;
	}
	c->n += (size_t)got;
	c->line[c->n] = '\0';
	if (memchr(c->line, '\n', c->n) != NULL ||
	    c->n == LOOPBACK_LINE_MAX - 1)
		return conn_answer(l, c);
	return ANSWER_NONE;
}

/* ---------------------------------------------------------------- pasted */

/* A pasted line: the address the browser ended on. */
static enum answer
on_paste(struct loopback *l, const char *line)
{
	const char *q = strchr(line, '?');
	enum answer r = ANSWER_NONE;

	if (q != NULL)
		r = check_query(l, q + 1, strcspn(q + 1, " \t\r\n"));
	if (r == ANSWER_NONE && line[strspn(line, " \t\r\n")] != '\0')
		log_warn("that is not the address the browser shows after the "
		    "sign-in (it starts with %s and holds a code)",
		    l->redirect);
	else if (r == ANSWER_BAD_STATE)
		log_warn("that address does not belong to this sign-in "
		    "(wrong state); paste the one the browser shows now");
	return r;
}

/* Every complete line of the paste buffer (all of it at EOF). */
static enum answer
paste_lines(struct loopback *l, bool eof)
{
	enum answer r = ANSWER_NONE;
	char *nl;

	while ((r == ANSWER_NONE || r == ANSWER_BAD_STATE) &&
	    l->paste.len > 0) {
		nl = memchr(l->paste.data, '\n', l->paste.len);
		if (nl == NULL && !eof)
			break;
		if (nl != NULL)
			*nl = '\0';
		r = on_paste(l, l->paste.data);
		dynbuf_consume(&l->paste, nl != NULL ?
		    (size_t)(nl - l->paste.data) + 1 : l->paste.len);
	}
	return r;
}

static enum answer
on_stdin(struct loopback *l)
{
	char buf[1024];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	enum answer r;

	if (n < 0 && errno == EINTR)
		return ANSWER_NONE;
	if (n <= 0) {
		l->stdin_open = false;
		return paste_lines(l, true);
	}
	if (dynbuf_add(&l->paste, buf, (size_t)n) < 0) {
		dynbuf_reset(&l->paste);	/* a huge line: junk */
		log_warn("that line is too long to be the sign-in address");
	}
	util_wipe(buf, sizeof(buf));
	r = paste_lines(l, false);
	return r;
}

/* ---------------------------------------------------------------- loop */

/* The pollfds: listener, stdin, the connections; returns the count. */
static nfds_t
poll_set(struct loopback *l, struct pollfd *p, size_t *idx)
{
	nfds_t n = 0;
	bool room = false;

	for (size_t i = 0; i < LOOPBACK_CONNS; i++)
		room = room || l->conns[i].fd < 0;
	/* no room: new connections wait in the listen queue */
	p[n++] = (struct pollfd){ .fd = room ? l->fd : -1, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = l->stdin_open ? STDIN_FILENO : -1,
	    .events = POLLIN };
	for (size_t i = 0; i < LOOPBACK_CONNS; i++)
		if (l->conns[i].fd >= 0) {
			idx[n] = i;
			p[n++] = (struct pollfd){ .fd = l->conns[i].fd,
			    .events = POLLIN };
		}
	return n;
}

/* Until the deadline, or the nearest connection's (closed when due). */
static int
poll_wait(struct loopback *l, long long deadline)
{
	long long now = util_now_ms(), until = deadline;

	for (size_t i = 0; i < LOOPBACK_CONNS; i++) {
		struct conn *c = &l->conns[i];

		if (c->fd >= 0 && c->deadline <= now)
			conn_close(c);
		else if (c->fd >= 0 && c->deadline < until)
			until = c->deadline;
	}
	return until > now ? (int)(until - now) : 0;
}

static enum answer
poll_once(struct loopback *l, long long deadline)
{
	struct pollfd p[2 + LOOPBACK_CONNS];
	size_t idx[2 + LOOPBACK_CONNS];
	enum answer r = ANSWER_NONE;
	int wait = poll_wait(l, deadline);
	nfds_t n = poll_set(l, p, idx);

	if (poll(p, n, wait) <= 0)
		return ANSWER_NONE;
	for (nfds_t i = 2; i < n && (r == ANSWER_NONE ||
	    r == ANSWER_BAD_STATE); i++)
		if (p[i].revents != 0)
			r = conn_read(l, &l->conns[idx[i]]);
	if ((r == ANSWER_NONE || r == ANSWER_BAD_STATE) && p[1].revents != 0)
		r = on_stdin(l);
	if (p[0].revents & POLLIN)
		conn_accept(l);
	return r;
}

int
loopback_wait(struct loopback *l, const char *state, int wait_ms,
    char **code, struct error *err)
{
	long long deadline = util_now_ms() + wait_ms;
	enum answer r = ANSWER_NONE;

	*code = NULL;
	l->state = state;
	l->err = err;
	while (r != ANSWER_CODE && r != ANSWER_ERROR) {
		if (util_now_ms() >= deadline)
			return error_set(err, ERR_AUTH, "no answer from the "
			    "browser in %d minutes", wait_ms / 60000);
		r = poll_once(l, deadline);
	}
	if (r == ANSWER_ERROR)
		return -1;
	*code = l->code;
	l->code = NULL;
	return 0;
}

void
loopback_close(struct loopback *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < LOOPBACK_CONNS; i++)
		conn_close(&l->conns[i]);
	if (l->fd >= 0)
		close(l->fd);
	util_free_secret(l->code);
	dynbuf_release(&l->paste);
	free(l);
}
