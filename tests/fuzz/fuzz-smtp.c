/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-smtp.c -- the SMTP client state machine (smtp.c, with reply.c,
 * sasl.c and address.c's IDNA under it) against a hostile server: an
 * envelope and a random sequence of server replies, every command checked
 * against the wire invariants of fuzz.h (fuzz_wire_check), not only "no
 * crash".
 *
 * Input: text lines, in any order ("S:" lines keep theirs):
 *	from: ADDR		envelope sender ("from:" alone: <>)
 *	rcpt: LIST		recipients (repeatable, up to 64 in all)
 *	notify: V / return: V / envid: V   DSN, taken only when the command
 *				line would take them (-N -R -V)
 *	tls: none|starttls|implicit
 *	auth: on|MECH		authenticate (choose, or that mechanism)
 *	user: U / password: P / cb: BASE64 (channel binding data)
 *	auth-retry		the secret is a cached OAuth token: a 535
 *				asks for a fresh one, once (session.c)
 *	auth-pipeline		AUTH's last line may wait for the first
 *				transaction's commands (the direct send)
 *	window: N		pipelining window
 *	size: N / 8bit / utf8header	the message
 *	messages: N		transactions on the connection (1..4)
 *	lmtp			LMTP (RFC 2033): LHLO, a reply per
 *				recipient after the message; each
 *				recipient's outcome is checked to be
 *				known once the transaction succeeded
 *	S: LINE			one line of the server, in order
 * The session ends when the replies run out, as if the server had closed
 * the connection. Addresses go through address_parse_arg() as envelope.c
 * takes them from the command line (-f: one address, "" or "<>" the null
 * sender; a value it refuses is dropped), so that what the envelope holds
 * is what yubin's own front end lets through.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "error.h"
#include "reply.h"
#include "smtp.h"
#include "util.h"

#include "fuzz.h"

#define MAX_RCPT 64
#define MAX_SERVER 400

struct input {
	const char *rcpt[MAX_RCPT];
	struct address_list addrs;	/* the strings of from and rcpt */
	struct envelope env;
	struct smtp_opts opts;
	struct smtp_msginfo info;
	enum envelope_rcpt status[MAX_RCPT];
	const char *password, *cb;
	bool auth_retry;
	int messages;
	const char *srv[MAX_SERVER];	/* server lines and their lengths */
	size_t srvlen[MAX_SERVER];
	size_t nsrv, next;
};

/* "key: value" (or "key" alone): the value, or NULL when not key. */
static char *
value(char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) != 0)
		return NULL;
	if (line[n] == '\0')
		return line + n;
	if (line[n] != ':')
		return NULL;
	return line + n + 1 + (line[n + 1] == ' ');
}

static bool
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < '!' || *s > '~')
			return false;
	return true;
}

/* -f as envelope.c parses it: one address, or the null sender. */
static void
sender(struct input *in, const char *v)
{
	struct address_list l;
	struct error err;

	if (*v == '\0' || strcmp(v, "<>") == 0) {
		in->env.from = "";
		return;
	}
	address_list_init(&l);
	if (address_parse_arg(v, "sender", &l, &err) == 0 && l.n == 1) {
		address_list_add(&in->addrs, l.addr[0]);
		in->env.from = in->addrs.addr[in->addrs.n - 1];
	}
	address_list_release(&l);
}

/* A recipient argument: every address of the list. */
static void
recipients(struct input *in, const char *v)
{
	struct address_list l;
	struct error err;

	address_list_init(&l);
	if (address_parse_arg(v, "recipient", &l, &err) == 0)
		for (size_t i = 0; i < l.n && in->env.nrcpt < MAX_RCPT; i++) {
			address_list_add(&in->addrs, l.addr[i]);
			in->rcpt[in->env.nrcpt++] =
			    in->addrs.addr[in->addrs.n - 1];
		}
	address_list_release(&l);
}

static void
setting(struct input *in, char *l)
{
	char *v;
	long n;

	if ((v = value(l, "from")) != NULL)
		sender(in, v);
	else if ((v = value(l, "rcpt")) != NULL)
		recipients(in, v);
	else if ((v = value(l, "notify")) != NULL &&
	    fuzz_notify_ok(v, strlen(v)))
		in->env.dsn_notify = v;
	else if ((v = value(l, "return")) != NULL &&
	    (strcmp(v, "FULL") == 0 || strcmp(v, "HDRS") == 0))
		in->env.dsn_return = v;
	else if ((v = value(l, "envid")) != NULL && printable_ascii(v) &&
	    *v != '\0' && strlen(v) <= 100)
		in->env.dsn_envid = v;
	else if ((v = value(l, "tls")) != NULL)
		in->opts.tls = strcmp(v, "starttls") == 0 ? SMTP_TLS_STARTTLS :
		    strcmp(v, "implicit") == 0 ? SMTP_TLS_IMPLICIT :
		    SMTP_TLS_NONE;
	else if ((v = value(l, "auth")) != NULL) {
		in->opts.auth = true;
		in->opts.auth_mech = strcmp(v, "on") == 0 ? NULL : v;
	} else if ((v = value(l, "user")) != NULL)
		in->opts.user = v;
	else if ((v = value(l, "password")) != NULL)
		in->password = v;
	else if ((v = value(l, "cb")) != NULL)
		in->cb = v;
	else if ((v = value(l, "window")) != NULL &&
	    util_parse_long(v, 1, 1000, &n) == 0)
		in->opts.pipeline_window = (size_t)n;
	else if ((v = value(l, "size")) != NULL &&
	    util_parse_long(v, 0, 1L << 40, &n) == 0)
		in->info.size = n;
	else if (strcmp(l, "auth-retry") == 0)
		in->auth_retry = true;
	else if (strcmp(l, "auth-pipeline") == 0)
		in->opts.auth_pipeline = true;
	else if (strcmp(l, "8bit") == 0)
		in->info.eightbit = true;
	else if (strcmp(l, "utf8header") == 0)
		in->info.utf8_header = true;
	else if (strcmp(l, "lmtp") == 0)
		in->opts.lmtp = true;
	else if ((v = value(l, "messages")) != NULL &&
	    util_parse_long(v, 1, 4, &n) == 0)
		in->messages = (int)n;
}

/* Split the input (copied into buf, which it points into). */
static void
parse_input(struct input *in, char *buf, size_t size)
{
	char *p = buf, *end = buf + size;

	memset(in, 0, sizeof(*in));
	address_list_init(&in->addrs);
	in->env.from = "alice@example.test";
	in->env.rcpt = in->rcpt;
	in->env.status = in->status;
	in->opts.ehlo_domain = "client.example";
	in->opts.user = "alice";
	in->password = "secret";
	in->info.size = 1000;
	in->messages = 1;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);

		if (nl != NULL)
			*nl = '\0';
		if (n >= 3 && memcmp(p, "S: ", 3) == 0) {
			if (in->nsrv < MAX_SERVER) {
				in->srv[in->nsrv] = p + 3;
				in->srvlen[in->nsrv] = n - 3 -
				    (n > 3 && p[n - 1] == '\r');
				in->nsrv++;
			}
		} else {
			if (n > 0 && p[n - 1] == '\r')
				p[n - 1] = '\0';
			setting(in, p);
		}
		p += n + 1;
	}
}

/* The next complete reply, as session.c reads it; NULL when none. */
static const struct reply *
next_reply(struct input *in, struct reply_parser *rp)
{
	struct error err;

	reply_parser_init(rp);
	while (in->next < in->nsrv) {
		size_t n = in->srvlen[in->next];
		int rc;

		if (n > REPLY_LINE_MAX)
			return NULL;	/* the transport refuses it */
		rc = reply_parser_line(rp, in->srv[in->next++], n, &err);
		if (rc < 0)
			return NULL;
		if (rc == 1)
			return &rp->reply;
	}
	return NULL;
}

/*
 * After a transaction came back READY: a success left every recipient
 * SENT; with LMTP a failure left none ACCEPTED after the message (each
 * accepted one got its verdict).
 */
static void
check_outcome(const struct input *in, const struct smtp *s, bool after_body)
{
	for (size_t i = 0; i < in->env.nrcpt; i++) {
		enum envelope_rcpt st = in->status[i];

		FUZZ_CHECK(smtp_txn_result(s) < 0 || st == ENVELOPE_RCPT_SENT,
		    "a successful transaction left recipient %zu at %d", i,
		    (int)st);
		FUZZ_CHECK(!after_body || !in->opts.lmtp ||
		    st != ENVELOPE_RCPT_ACCEPTED, "LMTP: recipient %zu has "
		    "no verdict after the message", i);
	}
}

static void
session(struct input *in)
{
	struct reply_parser rp;
	const struct reply *r;
	struct fuzz_wire w = { 0 };
	struct smtp s;
	enum smtp_action act;
	int sent = 0;
	bool quit = false, body = false;

	smtp_init(&s, &in->opts);
	act = smtp_start(&s);
	for (int step = 0; step < 4 * MAX_SERVER; step++) {
		fuzz_wire_check(&w, &s);
		switch (act) {
		case SMTP_ACT_READ:
			if ((r = next_reply(in, &rp)) == NULL)
				goto out;
			act = smtp_on_reply(&s, r);
			break;
		case SMTP_ACT_TLS:
			act = smtp_on_tls(&s);
			break;
		case SMTP_ACT_AUTH:
			/* as session.c: a cached token, until refused once */
			act = smtp_auth_start(&s, "mx.example", in->password,
			    in->cb != NULL ? "tls-exporter" : NULL, in->cb,
			    in->auth_retry && !s.auth_refused);
			break;
		case SMTP_ACT_BODY:
			body = true;
			act = smtp_on_body_sent(&s);
			break;
		case SMTP_ACT_READY:
			if (sent > 0 && s.env != NULL)
				check_outcome(in, &s, body);
			body = false;
			if (sent < in->messages) {
				sent++;
				fuzz_wire_begin(&w, &in->env);
				act = smtp_mail(&s, &in->env, &in->info);
			} else if (!quit) {
				quit = true;
				act = smtp_quit(&s);
			} else {
				goto out;
			}
			break;
		default:
			goto out;
		}
	}
out:
	fuzz_wire_check(&w, &s);
	smtp_release(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input *in;
	char *buf;

	if (size > 64 * 1024)
		return 0;
	in = xmalloc(sizeof(*in));
	buf = fuzz_strndup(data, size);
	parse_input(in, buf, size);
	session(in);
	address_list_release(&in->addrs);
	free(buf);
	free(in);
	return 0;
}
