/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session.c -- drives transport <-> reply parser <-> smtp state machine; see
 * session.h. The state machine decides, this file does the I/O it asks for.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "oauth.h"
#include "password.h"
#include "reply.h"
#include "session.h"
#include "smtp.h"
#include "transport.h"
#include "util.h"

#define SESSION_CHUNK (64 * 1024)
#define SESSION_PROBE_MS 5000	/* a TLS server answers a ClientHello in
				   a round trip: the TLS-mode probe */
#define SESSION_PATIENCE_MS 1000 /* silence before the greeting that
				   starts a probe on a second connection */

struct session {
	const struct account *acct;
	struct transport *t;
	struct smtp smtp;
	struct reply_parser parser;
	char line[REPLY_LINE_MAX + 2];
	char tls[128];
	char *token;		/* the OAuth 2.0 token last sent (secret) */
	bool probed;		/* the TLS-mode probe ran: not again */
	long long greet_by;	/* the greeting's deadline, or 0: one
				   timeout from when it is read */
	char *in, *out;		/* the body: SESSION_CHUNK read, twice that
				   dot-stuffed; allocated on first use */
	bool usable;
	struct session_probe *probe;	/* --serverinfo: keep replies */
};

/* What the session was doing, for error messages. */
static const char *
session_stage(const struct session *s)
{
	if (s->smtp.auth_pending && s->smtp.state == SMTP_STATE_ENVELOPE)
		return "during authentication";
	if (s->smtp.body_flying && s->smtp.state == SMTP_STATE_ENVELOPE)
		return "after sending the message, before the server "
		    "confirmed it";
	switch (s->smtp.state) {
	case SMTP_STATE_GREETING:
		return "waiting for the server's greeting";
	case SMTP_STATE_EHLO:
	case SMTP_STATE_HELO:
		return "during EHLO";
	case SMTP_STATE_STARTTLS:
	case SMTP_STATE_TLS:
		return "during STARTTLS";
	case SMTP_STATE_AUTH_WAIT:
	case SMTP_STATE_AUTH:
		return "during authentication";
	case SMTP_STATE_ENVELOPE:
		return "during MAIL FROM/RCPT TO/DATA";
	case SMTP_STATE_BODY:
		return "while sending the message";
	case SMTP_STATE_DATA_END:
		return "after sending the message, before the server "
		    "confirmed it";
	case SMTP_STATE_QUIT:
		return "during QUIT";
	default:
		return "between messages";
	}
}

static int
session_io_error(struct session *s, struct error *err)
{
	s->usable = false;
	/* a refused pipelined AUTH is the news, not the connection after */
	if (s->smtp.auth_failed && s->smtp.txn_err.kind != ERR_NONE) {
		*err = s->smtp.txn_err;
		return -1;
	}
	/* silent or gone before its greeting, or in the TLS handshake */
	if (err != NULL && err->kind == ERR_TEMP && err->reply_code == 0 &&
	    (s->smtp.state == SMTP_STATE_GREETING ||
	    s->smtp.state == SMTP_STATE_TLS))
		err->unreachable = true;
	return error_prefix(err, "%s", session_stage(s));
}

/* The port expects TLS from the first byte: say so (ERR_PROTOCOL). */
static int
session_wants_tls(const struct session *s, struct error *err)
{
	const struct account *a = s->acct;

	return error_set(err, ERR_PROTOCOL, "'%s' port %d sent no greeting "
	    "but answers a TLS handshake: this port expects TLS from the "
	    "first byte: add %s to account '%s'", a->host, a->port,
	    a->tls == ACCOUNT_TLS_OFF ? "`tls on` and `tls_starttls off`" :
	    "`tls_starttls off`", a->name);
}

/*
 * After a failure before the greeting: was it a port that expects the
 * other TLS mode? Then err says so and what to write (ERR_PROTOCOL:
 * waiting will not fix it) and true. A clear-text reply to our
 * ClientHello: the port wants STARTTLS. Silence where the greeting was
 * due (when session_greeting_probe() did not look already), and a TLS
 * server answering a ClientHello on the same connection: it wants TLS
 * from the first byte.
 */
static bool
session_tls_mode(struct session *s, struct error *err)
{
	const struct account *a = s->acct;

	if (s->t == NULL || s->smtp.state != SMTP_STATE_GREETING)
		return false;
	if (a->tls == ACCOUNT_TLS_IMPLICIT) {
		if (transport_first(s->t) != TRANSPORT_FIRST_SMTP)
			return false;
		error_set(err, ERR_PROTOCOL, "'%s' port %d answered the TLS "
		    "handshake in clear text (an SMTP greeting): this port "
		    "expects STARTTLS: add `tls_starttls on` to account '%s'",
		    a->host, a->port, a->name);
		return true;
	}
	if (s->probed || err->kind != ERR_TEMP ||
	    transport_first(s->t) != TRANSPORT_FIRST_NOTHING)
		return false;
	transport_probe_tls(s->t, &a->tlscfg, SESSION_PROBE_MS);
	if (transport_first(s->t) != TRANSPORT_FIRST_TLS)
		return false;
	session_wants_tls(s, err);
	return true;
}

/*
 * No greeting after SESSION_PATIENCE_MS (clear text or STARTTLS): a
 * port that waits for a ClientHello stays silent until the timeout, so
 * ask it on a second connection while this one goes on waiting. A TLS
 * answer there: -1 with the fix in err, at once rather than after the
 * timeout. Anything else (a slow server): 0, this connection goes on.
 */
static int
session_greeting_probe(struct session *s, struct error *err)
{
	const struct account *a = s->acct;
	enum transport_first first;
	long long left;

	/* a local socket (often LMTP) is not probed on a second connection */
	if (a->tls == ACCOUNT_TLS_IMPLICIT || a->route.socket != NULL)
		return 0;
	s->greet_by = transport_deadline(s->t);	/* the probe counts */
	if (!transport_quiet(s->t, SESSION_PATIENCE_MS))
		return 0;
	left = s->greet_by < 0 ? SESSION_PROBE_MS : s->greet_by -
	    util_now_ms();
	if (left <= 0)
		return 0;
	if (transport_probe_aside(s->t, &a->tlscfg, left < SESSION_PROBE_MS ?
	    (int)left : SESSION_PROBE_MS, &first) < 0)
		return 0;
	s->probed = true;
	log_verbose("no greeting after %d ms; a TLS handshake on a second "
	    "connection: %s", SESSION_PATIENCE_MS, first ==
	    TRANSPORT_FIRST_TLS ? "answered (a TLS port)" : "no TLS answer");
	if (first != TRANSPORT_FIRST_TLS)
		return 0;
	s->usable = false;
	return session_wants_tls(s, err);
}

static int
session_flush(struct session *s, struct error *err)
{
	struct dynbuf *out = &s->smtp.out;

	if (out->len > 0 && transport_write(s->t, out->data, out->len,
	    err) < 0) {
		dynbuf_reset(out);
		return -1;
	}
	dynbuf_reset(out);
	return transport_flush(s->t, err);
}

/* --serverinfo: the greeting and the last EHLO reply, as they came. */
static void
session_keep(struct session *s, const struct reply *r)
{
	struct session_probe *p = s->probe;

	if (p == NULL)
		return;
	if (s->smtp.state == SMTP_STATE_GREETING)
		util_strlcpy(p->greeting, r->text, sizeof(p->greeting));
	else if (s->smtp.state == SMTP_STATE_EHLO ||
	    s->smtp.state == SMTP_STATE_HELO) {
		util_strlcpy(p->ehlo, r->text, sizeof(p->ehlo));
		p->esmtp = s->smtp.state == SMTP_STATE_EHLO && reply_ok(r);
	}
}

/*
 * About to wait for the server: what is queued goes out as one flight.
 * Each wait is a round trip: -v -v says so, with the time.
 */
static int
session_wait(struct session *s, struct error *err)
{
	if (log_get_verbose() >= 2)
		log_verbose("waiting for the server");
	return session_flush(s, err);
}

/* One reply, all its lines within one timeout (transport_deadline()). */
static int
session_read_reply(struct session *s, const struct reply **r,
    struct error *err)
{
	long long deadline = transport_deadline(s->t);
	enum reply_line rc;

	if (s->smtp.state == SMTP_STATE_GREETING && s->greet_by != 0)
		deadline = s->greet_by;
	size_t len;

	for (;;) {
		if (transport_read_line(s->t, s->line, sizeof(s->line), &len,
		    deadline, err) < 0)
			return -1;
		log_proto('<', s->line, len);
		rc = reply_parser_line(&s->parser, s->line, len, err);
		if (rc == REPLY_LINE_BAD)
			return -1;
		if (rc == REPLY_LINE_DONE) {
			*r = &s->parser.reply;
			session_keep(s, *r);
			return 0;
		}
	}
}

static enum smtp_action
session_starttls(struct session *s, struct error *err)
{
	if (transport_pending(s->t) > 0) {
		error_set(err, ERR_PROTOCOL, "the server sent data after its "
		    "reply to STARTTLS (a STARTTLS injection attack?); "
		    "aborting before TLS");
		return SMTP_ACT_FAIL;
	}
	if (transport_start_tls(s->t, &s->acct->tlscfg, err) < 0)
		return SMTP_ACT_FAIL;
	transport_tls_description(s->t, s->tls, sizeof(s->tls));
	log_verbose("TLS started: %s", s->tls);
	return smtp_on_tls(&s->smtp);
}

/*
 * The secret for AUTH: an OAuth 2.0 token (after a refusal, another one:
 * *may_retry says whether a refusal of this one deserves that), or the
 * password. EXTERNAL uses the client certificate, GSSAPI the Kerberos
 * cache: no secret.
 */
static int
session_secret(struct session *s, char **secret, bool *may_retry,
    struct error *err)
{
	const struct account *a = s->acct;
	bool refused = s->smtp.auth_refused, cached;

	*secret = NULL;
	*may_retry = false;
	if (a->oauth.provider != ACCOUNT_OAUTH_NONE) {
		if (oauth_token(a, refused ? s->token : NULL, secret, &cached,
		    err) < 0)
			return -1;
		util_free_secret(s->token);
		s->token = xstrdup(*secret);
		*may_retry = cached && !refused;
		return 0;
	}
	if (a->auth_mech != NULL && (strcmp(a->auth_mech, "EXTERNAL") == 0 ||
	    strcmp(a->auth_mech, "GSSAPI") == 0))
		return 0;
	return password_get(a, secret, err);
}

static enum smtp_action
session_auth(struct session *s, struct error *err)
{
	const char *cb_type = NULL;
	char *password = NULL, *cb = NULL;
	enum smtp_action act;
	bool may_retry;

	if (session_secret(s, &password, &may_retry, err) < 0)
		return SMTP_ACT_FAIL;
	if (transport_is_tls(s->t) &&
	    transport_channel_binding(s->t, &cb_type, &cb, NULL) < 0) {
		cb_type = NULL;
		cb = NULL;
	}
	act = smtp_auth_start(&s->smtp, s->acct->host, password, cb_type, cb,
	    may_retry);
	util_free_secret(password);
	free(cb);
	return act;
}

/*
 * Run the state machine until it is idle (READY), wants the body (BODY) or
 * is finished (CLOSE). -1 on failure, with err filled.
 */
static int
session_run(struct session *s, enum smtp_action act, enum smtp_action *end,
    struct error *err)
{
	const struct reply *r;

	for (;;) {
		switch (act) {
		case SMTP_ACT_READ:
			/* replies already here first: one write for many */
			if ((!transport_has_line(s->t) &&
			    session_wait(s, err) < 0) ||
			    session_read_reply(s, &r, err) < 0)
				return session_io_error(s, err);
			act = smtp_on_reply(&s->smtp, r);
			break;
		case SMTP_ACT_TLS:
			if (session_flush(s, err) < 0)
				return session_io_error(s, err);
			act = session_starttls(s, err);
			if (act == SMTP_ACT_FAIL)
				return session_io_error(s, err);
			break;
		case SMTP_ACT_AUTH:
			act = session_auth(s, err);
			if (act == SMTP_ACT_FAIL && s->smtp.err.kind == ERR_NONE)
				return session_io_error(s, err);
			break;
		case SMTP_ACT_FAIL:
			(void)session_flush(s, NULL);
			*err = s->smtp.err;
			s->usable = false;
			return -1;
		default:
			*end = act;
			return 0;
		}
	}
}

/* Connect, start TLS at once if implicit, then run up to READY. */
static int
session_start(struct session *s, struct error *err)
{
	const struct account *a = s->acct;
	enum smtp_action end;

	if (transport_connect(&s->t, a->host, a->port, &a->route,
	    a->timeout_ms, err) < 0)
		return -1;
	log_verbose("connected to %s", transport_peer(s->t));
	s->usable = true;
	if (a->tls == ACCOUNT_TLS_IMPLICIT) {
		if (transport_start_tls(s->t, &a->tlscfg, err) < 0) {
			session_io_error(s, err);
			session_tls_mode(s, err);
			return -1;
		}
		transport_tls_description(s->t, s->tls, sizeof(s->tls));
		log_verbose("TLS started: %s", s->tls);
	}
	if (session_greeting_probe(s, err) < 0)
		return -1;
	if (session_run(s, smtp_start(&s->smtp), &end, err) < 0) {
		session_tls_mode(s, err);
		return -1;
	}
	if (end != SMTP_ACT_READY) {
		s->usable = false;
		return error_set(err, ERR_SOFTWARE, "session ended early");
	}
	return 0;
}

/* session_open(), or with probe a session without AUTH that keeps what
 * --serverinfo shows. */
static int
session_begin(struct session **out, const struct account *a,
    struct session_probe *probe, enum session_auth auth,
    struct session_facts *facts, struct error *err)
{
	struct smtp_opts o = {
		.ehlo_domain = a->domain,
		.tls = a->tls == ACCOUNT_TLS_OFF ? SMTP_TLS_NONE :
		    a->tls == ACCOUNT_TLS_STARTTLS ? SMTP_TLS_STARTTLS :
		    SMTP_TLS_IMPLICIT,
		.auth = a->auth && probe == NULL, .auth_mech = a->auth_mech,
		.user = a->user,
		.oauth = a->oauth.provider != ACCOUNT_OAUTH_NONE,
		.lmtp = a->lmtp,
		.dsn_optional = a->dsn_optional,
		.auth_pipeline = auth == SESSION_AUTH_PIPELINE,
	};
	struct session *s = xcalloc(1, sizeof(*s));

	s->acct = a;
	s->probe = probe;
	util_strlcpy(s->tls, "none", sizeof(s->tls));
	smtp_init(&s->smtp, &o);
	reply_parser_init(&s->parser);
	*out = NULL;
	if (log_get_verbose() >= 2)
		log_verbose("connecting to %s port %d", a->host, a->port);
	if (session_start(s, err) < 0) {
		if (facts != NULL)
			session_facts(s, facts);
		session_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
session_open(struct session **out, const struct account *a,
    enum session_auth auth, struct session_facts *facts, struct error *err)
{
	return session_begin(out, a, NULL, auth, facts, err);
}

int
session_probe(const struct account *a, struct session_probe *p,
    struct error *err)
{
	struct session *s;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (session_begin(&s, a, p, SESSION_AUTH_WAIT, NULL, err) < 0)
		return -1;
	util_strlcpy(p->peer, transport_peer(s->t), sizeof(p->peer));
	util_strlcpy(p->tls, s->tls, sizeof(p->tls));
	p->caps = s->smtp.caps;
	if (transport_is_tls(s->t)) {
		rc = transport_cert_info(s->t, &p->cert, err);
		p->has_cert = rc == 0;
	}
	session_close(s);
	return rc;
}

int
session_etrn(struct session *s, const char *arg, char *reply,
    size_t size, struct error *err)
{
	const struct reply *r;
	struct dynbuf *out = &s->smtp.out;

	if (!s->usable)
		return error_set(err, ERR_SOFTWARE, "the session is closed");
	if (dynbuf_printf(out, "ETRN %s", arg) < 0)
		return error_set(err, ERR_USAGE, "--rmqs: argument too long");
	log_proto('>', out->data, out->len);
	if (dynbuf_addstr(out, "\r\n") < 0 || session_flush(s, err) < 0 ||
	    session_read_reply(s, &r, err) < 0)
		return session_io_error(s, err);
	reply_format(r, reply, size);
	if (!reply_ok(r))
		return reply_error(err, ERR_UNAVAILABLE, r, "the server "
		    "refused ETRN %s", arg);
	return 0;
}

/*
 * m's bytes from its offset to the server, through the dot-stuffer d
 * (raw after BDAT), in large writes; *total: how many were read.
 */
static int
session_stream(struct session *s, struct message *m, struct dotstuff *d,
    off_t *total, struct error *err)
{
	ssize_t n;

	if (s->in == NULL) {
		s->in = xmalloc(SESSION_CHUNK);
		s->out = xmalloc(2 * SESSION_CHUNK);
	}
	if (lseek(m->fd, m->offset, SEEK_SET) < 0)
		return error_set(err, ERR_IOERR, "cannot rewind the spool "
		    "file: %s", strerror(errno));
	while (*total < m->size) {
		n = read(m->fd, s->in, (size_t)(m->size - *total) <
		    SESSION_CHUNK ? (size_t)(m->size - *total) : SESSION_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, ERR_IOERR, "cannot read the "
			    "spool file: %s", strerror(errno));
		if (n == 0)
			break;
		*total += n;
		if (s->smtp.bdat ? transport_write(s->t, s->in, (size_t)n,
		    err) < 0 : transport_write(s->t, s->out, dotstuff_run(d,
		    s->in, (size_t)n, s->out), err) < 0)
			return session_io_error(s, err);
	}
	return 0;
}

/* The pending commands, the message, the final dot (unless BDAT). */
static int
session_send_body(struct session *s, struct message *m, struct error *err)
{
	struct dotstuff d;
	const char *end;
	off_t total = 0;

	dotstuff_init(&d);
	if (s->smtp.out.len > 0 && transport_write(s->t, s->smtp.out.data,
	    s->smtp.out.len, err) < 0)
		return session_io_error(s, err);
	dynbuf_reset(&s->smtp.out);
	if (session_stream(s, m, &d, &total, err) < 0)
		return -1;
	if (total != m->size) {
		/* BDAT announced m->size octets: the connection is unusable. */
		s->usable = false;
		return error_set(err, ERR_IOERR, "the spool file changed "
		    "while it was sent (%lld bytes, expected %lld)",
		    (long long)total, (long long)m->size);
	}
	if (s->smtp.bdat)
		return 0;
	end = dotstuff_end(&d);
	if (transport_write(s->t, end, strlen(end), err) < 0)
		return session_io_error(s, err);
	return 0;
}

int
session_send(struct session *s, const struct envelope *env,
    struct message *m, struct error *err)
{
	struct smtp_msginfo info = { .size = m->size, .eightbit = m->eightbit,
	    .utf8_header = m->utf8_header };
	enum smtp_action end;

	if (!s->usable)
		return error_set(err, ERR_SOFTWARE, "session is not usable");
	if (session_run(s, smtp_mail(&s->smtp, env, &info), &end, err) < 0)
		return -1;
	if (end == SMTP_ACT_BODY) {
		if (session_send_body(s, m, err) < 0) {
			s->usable = false;
			return -1;
		}
		if (session_run(s, smtp_on_body_sent(&s->smtp), &end,
		    err) < 0)
			return -1;
	}
	if (end != SMTP_ACT_READY) {
		s->usable = false;
		return error_set(err, ERR_SOFTWARE, "unexpected end of the "
		    "SMTP transaction");
	}
	/* AUTH was refused but the message went: the connection is done */
	if (s->smtp.auth_failed)
		s->usable = false;
	if (smtp_txn_result(&s->smtp) < 0) {
		*err = s->smtp.txn_err;
		return -1;
	}
	return 0;
}

bool
session_usable(const struct session *s)
{
	return s != NULL && s->usable;
}

void
session_facts(const struct session *s, struct session_facts *f)
{
	util_strlcpy(f->tls, s != NULL ? s->tls : "none", sizeof(f->tls));
	util_strlcpy(f->mech, s != NULL ? s->smtp.mech : "", sizeof(f->mech));
	util_strlcpy(f->reply, s != NULL ? s->smtp.last_reply : "",
	    sizeof(f->reply));
}

void
session_close(struct session *s)
{
	if (s == NULL)
		return;
	/* QUIT, not waiting for the 221: the outcome is known already */
	if (s->usable && s->smtp.state == SMTP_STATE_READY &&
	    smtp_quit(&s->smtp) == SMTP_ACT_CLOSE)
		(void)session_flush(s, NULL);
	if (s->t != NULL)
		transport_close(s->t);
	smtp_release(&s->smtp);
	util_wipe(s->line, sizeof(s->line));
	util_free_secret(s->token);
	free(s->in);
	free(s->out);
	free(s);
}
