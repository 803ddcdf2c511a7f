/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtp.c -- the SMTP client state machine; see smtp.h. No I/O here: replies
 * come in through smtp_on_reply(), commands go out through s->out, and
 * everything else is an action the session driver performs.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "dsn.h"
#include "log.h"
#include "sasl.h"
#include "smtp.h"
#include "smtpauth.h"
#include "smtpcmd.h"
#include "smtpenv.h"
#include "util.h"

#define SMTP_OUT_MAX (1024 * 1024)
#define SMTP_RCPT_ERRORS_MAX (64 * 1024)
#define SMTP_PARAMS_MAX 4096	/* MAIL and RCPT parameters */
#define SMTP_WINDOW_DEFAULT 100
/*
 * A message up to this size goes in the same flight as its envelope when
 * it has one recipient (and the server offers PIPELINING and CHUNKING):
 * sent for nothing only when the envelope is refused, where it costs
 * about what the round trip it saves costs (256 KiB: 0.2 s at 10 Mbit/s,
 * a few round trips at 50 ms); also what fits in the socket buffers
 * while the server answers the commands before it. yubin(1).
 */
#define SMTP_FLIGHT_BODY_MAX (256 * 1024)

void
smtp_init(struct smtp *s, const struct smtp_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->opts = *o;
	if (s->opts.pipeline_window == 0)
		s->opts.pipeline_window = SMTP_WINDOW_DEFAULT;
	if (s->opts.ehlo_domain == NULL || *s->opts.ehlo_domain == '\0')
		s->opts.ehlo_domain = "localhost";
	dynbuf_init(&s->out, SMTP_OUT_MAX);
	s->out.secret = true;
	dynbuf_init(&s->rcpt_errors, SMTP_RCPT_ERRORS_MAX);
	s->tls_active = o->tls == SMTP_TLS_IMPLICIT;
	s->state = SMTP_STATE_GREETING;
}

void
smtp_release(struct smtp *s)
{
	sasl_free(s->sasl);
	s->sasl = NULL;
	smtp_free_ascii(s);
	dynbuf_release(&s->out);
	dynbuf_release(&s->rcpt_errors);
	free(s->pending);
	s->pending = NULL;
	free(s->rcpt_st);
	s->rcpt_st = NULL;
}

/* ---------------------------------------------------------------- opening */

enum smtp_action
smtp_start(struct smtp *s)
{
	smtp_set_state(s, SMTP_STATE_GREETING);
	return SMTP_ACT_READ;
}

static enum smtp_action
smtp_send_ehlo(struct smtp *s)
{
	memset(&s->caps, 0, sizeof(s->caps));
	smtp_cmd(s, NULL, "%s %s", s->opts.lmtp ? "LHLO" : "EHLO",
	    s->opts.ehlo_domain);
	smtp_set_state(s, SMTP_STATE_EHLO);
	return SMTP_ACT_READ;
}

static enum smtp_action
smtp_on_greeting_reply(struct smtp *s, const struct reply *r)
{
	if (reply_ok(r) && r->code == 220)
		return smtp_send_ehlo(s);
	if (reply_ok(r))
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "unexpected greeting from the server");
	if (reply_perm(r))
		smtp_cmd(s, NULL, "QUIT");
	return smtp_fail(s, smtp_kind(r, ERR_UNAVAILABLE), r,
	    "server is not accepting mail");
}

/* After EHLO/HELO: STARTTLS, AUTH, or ready. */
static enum smtp_action
smtp_after_hello(struct smtp *s)
{
	if (s->opts.tls == SMTP_TLS_STARTTLS && !s->tls_active) {
		if (!(s->caps.ext & SMTP_EXT_STARTTLS))
			return smtp_fail(s, ERR_PROTOCOL, NULL,
			    "server does not offer STARTTLS; refusing to "
			    "send in clear text (write 'tls off' in the "
			    "config to allow it)");
		smtp_cmd(s, NULL, "STARTTLS");
		smtp_set_state(s, SMTP_STATE_STARTTLS);
		return SMTP_ACT_READ;
	}
	if (s->opts.auth) {
		if (!(s->caps.ext & SMTP_EXT_AUTH) || s->caps.auth[0] == '\0')
			return smtp_fail(s, ERR_AUTH, NULL,
			    "server does not offer authentication (AUTH)%s",
			    s->tls_active ? "" : " before TLS");
		smtp_set_state(s, SMTP_STATE_AUTH_WAIT);
		return SMTP_ACT_AUTH;
	}
	smtp_set_state(s, SMTP_STATE_READY);
	return SMTP_ACT_READY;
}

static enum smtp_action
smtp_on_ehlo_reply(struct smtp *s, const struct reply *r)
{
	if (reply_ok(r)) {
		reply_parse_ehlo(r, &s->caps);
		s->esmtp = true;
		return smtp_after_hello(s);
	}
	if (reply_perm(r) && !smtp_closing(r) && !s->opts.auth &&
	    s->opts.tls != SMTP_TLS_STARTTLS && !s->tls_active &&
	    !s->opts.lmtp) {
		/* An old server: RFC 5321 4.1.1.1 allows falling back. */
		smtp_cmd(s, NULL, "HELO %s", s->opts.ehlo_domain);
		smtp_set_state(s, SMTP_STATE_HELO);
		return SMTP_ACT_READ;
	}
	return smtp_fail(s, smtp_kind(r, ERR_UNAVAILABLE), r,
	    "server rejected %s", s->opts.lmtp ? "LHLO" : "EHLO");
}

static enum smtp_action
smtp_on_helo_reply(struct smtp *s, const struct reply *r)
{
	if (!reply_ok(r))
		return smtp_fail(s, smtp_kind(r, ERR_UNAVAILABLE), r,
		    "server rejected HELO");
	memset(&s->caps, 0, sizeof(s->caps));
	s->esmtp = false;
	return smtp_after_hello(s);
}

static enum smtp_action
smtp_on_starttls_reply(struct smtp *s, const struct reply *r)
{
	if (r->code == 220) {
		smtp_set_state(s, SMTP_STATE_TLS);
		return SMTP_ACT_TLS;
	}
	if (reply_ok(r))
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "unexpected reply to STARTTLS");
	return smtp_fail(s, smtp_kind(r, ERR_PROTOCOL), r,
	    "server refused STARTTLS");
}

enum smtp_action
smtp_on_tls(struct smtp *s)
{
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	s->tls_active = true;
	s->esmtp = false;
	return smtp_send_ehlo(s);
}

/* What became of recipient i, also in the caller's env->status. */
static void
smtp_rcpt_set(struct smtp *s, size_t i, enum envelope_rcpt st)
{
	s->rcpt_st[i] = st;
	if (s->rcpt_out != NULL)
		s->rcpt_out[i] = st;
}

/* Every recipient RCPT accepted gets verdict st (SMTP: one reply). */
static void
smtp_verdict_all(struct smtp *s, enum envelope_rcpt st)
{
	for (size_t i = 0; i < s->env->nrcpt; i++)
		if (s->rcpt_st[i] == ENVELOPE_RCPT_ACCEPTED)
			smtp_rcpt_set(s, i, st);
}

/* The first 4xx to a recipient: the queue's back-off follows it. */
static void
smtp_keep_temp(struct smtp *s, const struct reply *r)
{
	s->rcpt_temp_code = r->code;
	util_strlcpy(s->rcpt_temp_esc, r->esc, sizeof(s->rcpt_temp_esc));
}

/*
 * Recipients failed (perm: some with a 5xx): the transaction's error
 * lists each; only 4xx ones carry the first 4xx, the server's own "later".
 */
static void
smtp_rcpts_failed(struct smtp *s, bool perm)
{
	error_set(&s->txn_err, perm ? ERR_NOUSER : ERR_TEMP, "%s",
	    s->rcpt_errors.data);
	if (!perm) {
		s->txn_err.reply_code = s->rcpt_temp_code;
		util_strlcpy(s->txn_err.reply_esc, s->rcpt_temp_esc,
		    sizeof(s->txn_err.reply_esc));
	}
}

static void
smtp_push(struct smtp *s, enum smtp_cmd cmd, size_t rcpt)
{
	size_t i = (s->pending_head + s->npending) % s->pending_cap;

	s->pending[i].cmd = cmd;
	s->pending[i].rcpt = rcpt;
	s->npending++;
}

static struct smtp_pending
smtp_pop(struct smtp *s)
{
	struct smtp_pending p = s->pending[s->pending_head];

	s->pending_head = (s->pending_head + 1) % s->pending_cap;
	s->npending--;
	return p;
}

/*
 * RFC 3461 4: xtext, "+HH" for '+', '=' and anything not printable. The
 * parameter buffers (SMTP_PARAMS_MAX) hold the longest values three times
 * over (ADDRESS_MAX, DSN_ENVID_MAX): their appends cannot fail, (void).
 */
static void
smtp_xtext(struct dynbuf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (c < '!' || c > '~' || c == '+' || c == '=')
			(void)dynbuf_printf(b, "+%02X", c);
		else
			(void)dynbuf_add(b, v, 1);
	}
}

static void
smtp_send_mail(struct smtp *s)
{
	const struct envelope *env = s->env;
	bool utf8 = smtp_env_8bit(env) || (s->info.utf8_header &&
	    (s->caps.ext & SMTP_EXT_SMTPUTF8));
	struct dynbuf p;

	dynbuf_init(&p, SMTP_PARAMS_MAX);
	if (s->caps.ext & SMTP_EXT_SIZE)
		(void)dynbuf_printf(&p, " SIZE=%lld", (long long)s->info.size);
	if (s->info.eightbit && (s->caps.ext & SMTP_EXT_8BITMIME))
		(void)dynbuf_addstr(&p, " BODY=8BITMIME");
	if (utf8)
		(void)dynbuf_addstr(&p, " SMTPUTF8");
	if ((s->caps.ext & SMTP_EXT_DSN) && env->dsn_return != NULL)
		(void)dynbuf_printf(&p, " RET=%s", env->dsn_return);
	if ((s->caps.ext & SMTP_EXT_DSN) && env->dsn_envid != NULL) {
		(void)dynbuf_addstr(&p, " ENVID=");
		smtp_xtext(&p, env->dsn_envid);
	}
	smtp_cmd(s, NULL, "MAIL FROM:<%s>%s", env->from, p.data ? p.data : "");
	smtp_push(s, SMTP_CMD_MAIL, 0);
	dynbuf_release(&p);
}

static void
smtp_send_rcpt(struct smtp *s, size_t i)
{
	const struct envelope *env = s->env;
	const char *a = env->rcpt[i];
	struct dynbuf p;

	dynbuf_init(&p, SMTP_PARAMS_MAX);
	if ((s->caps.ext & SMTP_EXT_DSN) && env->dsn_notify != NULL)
		(void)dynbuf_printf(&p, " NOTIFY=%s", env->dsn_notify);
	if ((s->caps.ext & SMTP_EXT_DSN) && env->dsn_notify != NULL &&
	    !util_has_8bit(a, strlen(a))) {
		(void)dynbuf_addstr(&p, " ORCPT=rfc822;");
		smtp_xtext(&p, a);
	}
	smtp_cmd(s, NULL, "RCPT TO:<%s>%s", a, p.data ? p.data : "");
	smtp_push(s, SMTP_CMD_RCPT, i);
	dynbuf_release(&p);
}

static bool
smtp_txn_failed(const struct smtp *s)
{
	return s->txn_err.kind != ERR_NONE || s->rcpt_temp + s->rcpt_perm > 0;
}

/*
 * Whether the message may follow its envelope in the same flight, before
 * the replies: with PIPELINING, small (SMTP_FLIGHT_BODY_MAX) and to ONE
 * recipient. Then a refusal of that recipient, or of MAIL or a pipelined
 * AUTH before it, leaves the BDAT without a recipient: refused, its chunk
 * read and dropped by the server (RFC 3030 2), nothing delivered. With
 * several recipients one refused would leave the others delivered: the
 * message waits until every RCPT is accepted (all or nothing). Never with
 * LMTP, whose replies to the message come one per accepted recipient.
 */
static bool
smtp_body_may_fly(const struct smtp *s)
{
	return (s->caps.ext & SMTP_EXT_PIPELINING) && s->env->nrcpt == 1 &&
	    s->info.size <= SMTP_FLIGHT_BODY_MAX && !s->opts.lmtp;
}

/* RFC 3030: the whole spool as one last chunk. */
static void
smtp_send_bdat(struct smtp *s)
{
	smtp_cmd(s, NULL, "BDAT %lld LAST", (long long)s->info.size);
	s->data_queued = s->bdat = true;
}

/*
 * Queue what may go next, up to the pipelining window (1 without
 * PIPELINING). The order is fixed: RSET, MAIL, RCPT..., DATA or BDAT.
 * Nothing more is queued once MAIL (or a pipelined AUTH) failed; DATA and
 * BDAT are not queued once a RCPT failed.
 */
static void
smtp_fill(struct smtp *s)
{
	bool pipe = (s->caps.ext & SMTP_EXT_PIPELINING) != 0;
	size_t window = pipe ? s->opts.pipeline_window : 1;

	while (s->npending < window && s->txn_err.kind == ERR_NONE) {
		if (s->need_rset) {
			smtp_cmd(s, NULL, "RSET");
			smtp_push(s, SMTP_CMD_RSET, 0);
			s->need_rset = false;
		} else if (!s->mail_queued) {
			smtp_send_mail(s);
			s->mail_queued = true;
		} else if (s->next_rcpt < s->env->nrcpt) {
			smtp_send_rcpt(s, s->next_rcpt++);
		} else if (!s->data_queued && !smtp_txn_failed(s) &&
		    (s->caps.ext & SMTP_EXT_CHUNKING)) {
			/* with the envelope, or once it is known good */
			if (s->npending > 0 && smtp_body_may_fly(s)) {
				smtp_send_bdat(s);
				smtp_push(s, SMTP_CMD_BDAT, 0);
				s->body_flying = true;
			} else if (s->npending == 0) {
				s->bdat = true;
			}
			break;
		} else if (!s->data_queued && !smtp_txn_failed(s)) {
			smtp_cmd(s, NULL, "DATA");
			smtp_push(s, SMTP_CMD_DATA, 0);
			s->data_queued = true;
		} else {
			break;
		}
	}
}

enum smtp_action
smtp_mail(struct smtp *s, const struct envelope *env,
    const struct smtp_msginfo *info)
{
	error_init(&s->txn_err);
	dynbuf_reset(&s->rcpt_errors);
	s->last_reply[0] = '\0';
	s->env = env;
	s->info = *info;
	s->next_rcpt = 0;
	s->mail_queued = s->data_queued = s->bdat = false;
	s->body_flying = s->body_accepted = false;
	s->rcpt_ok = s->rcpt_temp = s->rcpt_perm = 0;
	s->lmtp_next = s->lmtp_sent = s->lmtp_temp = s->lmtp_perm = 0;
	s->rcpt_out = env->status;
	free(s->rcpt_st);
	s->rcpt_st = xcalloc(env->nrcpt > 0 ? env->nrcpt : 1,
	    sizeof(*s->rcpt_st));
	for (size_t i = 0; s->rcpt_out != NULL && i < env->nrcpt; i++)
		s->rcpt_out[i] = ENVELOPE_RCPT_UNTRIED;
	if (smtp_check_envelope(s, env) < 0)
		return SMTP_ACT_READY;
	free(s->pending);
	s->pending_cap = env->nrcpt + 4;
	s->pending = xcalloc(s->pending_cap, sizeof(*s->pending));
	s->npending = s->pending_head = 0;
	smtp_set_state(s, SMTP_STATE_ENVELOPE);
	if (s->auth_pending)
		smtp_push(s, SMTP_CMD_AUTH, 0);	/* its line is in s->out */
	smtp_fill(s);
	if (!s->body_flying)
		return SMTP_ACT_READ;
	smtp_set_state(s, SMTP_STATE_BODY);
	return SMTP_ACT_BODY;
}

/* One line of rcpt_errors: "recipient 'x' HOW: reply". */
static void
smtp_rcpt_error(struct smtp *s, size_t i, const struct reply *r,
    const char *how)
{
	char text[ERROR_REPLY_MAX], shown[ADDRESS_MAX * 4 + 8];

	reply_format(r, text, sizeof(text));
	/* past SMTP_RCPT_ERRORS_MAX the rest is left out: (void) */
	if (s->rcpt_errors.len > 0)
		(void)dynbuf_addstr(&s->rcpt_errors, "\n");
	(void)dynbuf_printf(&s->rcpt_errors, "recipient '%s' %s: %s",
	    util_show(s->env->rcpt[i], ADDRESS_MAX, false, shown,
	    sizeof(shown)), how, text);
}

static void
smtp_on_rcpt_reply(struct smtp *s, size_t i, const struct reply *r)
{
	if (reply_ok(r)) {
		s->rcpt_ok++;
		smtp_rcpt_set(s, i, ENVELOPE_RCPT_ACCEPTED);
		return;
	}
	if (reply_temp(r) && s->rcpt_temp++ == 0)
		smtp_keep_temp(s, r);
	else if (!reply_temp(r))
		s->rcpt_perm++;
	smtp_rcpt_set(s, i, reply_temp(r) ? ENVELOPE_RCPT_DEFERRED :
	    ENVELOPE_RCPT_REJECTED);
	smtp_rcpt_error(s, i, r, "rejected");
}

/* A refused pipelined AUTH (smtpauth.h) ends the session with its error. */
static enum smtp_action
smtp_fail_auth(struct smtp *s)
{
	/* what an unauthenticated client was told of RCPT counts for nothing */
	for (size_t i = 0; s->rcpt_out != NULL && i < s->env->nrcpt; i++)
		s->rcpt_out[i] = ENVELOPE_RCPT_UNTRIED;
	s->err = s->txn_err;
	smtp_set_state(s, SMTP_STATE_CLOSED);
	return SMTP_ACT_FAIL;
}

/*
 * The transaction ended without the message: work out the error, go idle.
 * A refused pipelined AUTH is the news, whatever the server then said to
 * MAIL and RCPT: the session fails with it (as it would have waiting for
 * the 235).
 */
static enum smtp_action
smtp_envelope_failed(struct smtp *s, const struct reply *last)
{
	if (s->auth_failed)
		return smtp_fail_auth(s);
	if (s->txn_err.kind == ERR_NONE && s->rcpt_temp + s->rcpt_perm > 0)
		smtp_rcpts_failed(s, s->rcpt_perm > 0);
	if (s->txn_err.kind == ERR_NONE)
		reply_error(&s->txn_err, smtp_kind(last, ERR_UNAVAILABLE),
		    last, "message refused at DATA");
	s->need_rset = true;
	smtp_set_state(s, SMTP_STATE_READY);
	return SMTP_ACT_READY;
}

static enum smtp_action
smtp_on_data_reply(struct smtp *s, const struct reply *r)
{
	if (r->code == 354 && !smtp_txn_failed(s)) {
		smtp_set_state(s, SMTP_STATE_BODY);
		return SMTP_ACT_BODY;
	}
	if (r->code == 354) {
		/*
		 * Pipelined DATA accepted although the envelope failed: the
		 * only safe way out is to drop the connection without the
		 * final dot, so nothing is delivered.
		 */
		smtp_envelope_failed(s, r);
		s->err = s->txn_err;
		smtp_set_state(s, SMTP_STATE_CLOSED);
		return SMTP_ACT_FAIL;
	}
	if (!reply_temp(r) && !reply_perm(r))
		return smtp_fail(s, ERR_PROTOCOL, r, "unexpected reply to DATA");
	return smtp_envelope_failed(s, r);
}

/* The reply to a BDAT LAST that flew with its envelope: the message's. */
static enum smtp_action
smtp_on_flying_bdat_reply(struct smtp *s, const struct reply *r)
{
	reply_format(r, s->last_reply, sizeof(s->last_reply));
	if (reply_ok(r)) {
		s->body_accepted = true;
		return SMTP_ACT_READ;
	}
	if (!reply_temp(r) && !reply_perm(r))
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "unexpected reply to the end of the message");
	if (s->rcpt_ok == s->env->nrcpt)
		smtp_verdict_all(s, reply_temp(r) ? ENVELOPE_RCPT_DEFERRED :
		    ENVELOPE_RCPT_REJECTED);
	/* refused because the envelope was: the envelope's error says why */
	if (!smtp_txn_failed(s))
		reply_error(&s->txn_err, smtp_kind(r, ERR_UNAVAILABLE), r,
		    "message %s by the server", reply_temp(r) ? "deferred" :
		    "rejected");
	return SMTP_ACT_READ;
}

/* A reply to RSET, MAIL or RCPT. */
static enum smtp_action
smtp_on_command_reply(struct smtp *s, struct smtp_pending p,
    const struct reply *r)
{
	char shown[ADDRESS_MAX * 4 + 8];

	if (r->code / 100 == 3 || (p.cmd == SMTP_CMD_RSET && !reply_ok(r)))
		return smtp_fail(s, ERR_PROTOCOL, r, "unexpected reply to %s",
		    p.cmd == SMTP_CMD_RSET ? "RSET" : p.cmd == SMTP_CMD_MAIL ?
		    "MAIL FROM" : "RCPT TO");
	if (p.cmd == SMTP_CMD_MAIL && !reply_ok(r) &&
	    s->txn_err.kind == ERR_NONE)
		reply_error(&s->txn_err, smtp_kind(r, ERR_DATAERR), r,
		    "sender '%s' rejected", util_show(s->env->from,
		    ADDRESS_MAX, false, shown, sizeof(shown)));
	else if (p.cmd == SMTP_CMD_RCPT)
		smtp_on_rcpt_reply(s, p.rcpt, r);
	return SMTP_ACT_READ;
}

/*
 * The message flew with its envelope and the server took it: done. Also
 * when a pipelined AUTH had been refused -- a server that takes mail
 * without it -- since the message is delivered: a warning, and the
 * session carries no more (smtp.auth_failed).
 */
static enum smtp_action
smtp_flown(struct smtp *s)
{
	char why[ERROR_MSG_MAX + ERROR_REPLY_MAX + 8];

	if (s->auth_failed) {
		error_format(&s->txn_err, why, sizeof(why));
		log_warn("%s; the server accepted the message without it",
		    why);
		error_init(&s->txn_err);
	}
	smtp_verdict_all(s, ENVELOPE_RCPT_SENT);
	smtp_set_state(s, SMTP_STATE_READY);
	return SMTP_ACT_READY;
}

/* Every reply of the flight is in. */
static enum smtp_action
smtp_flight_end(struct smtp *s, const struct reply *last)
{
	if (s->body_flying && s->body_accepted &&
	    s->rcpt_ok == s->env->nrcpt)
		return smtp_flown(s);
	if (s->bdat && !s->body_flying && !s->auth_failed) {
		smtp_send_bdat(s);
		smtp_set_state(s, SMTP_STATE_BODY);
		return SMTP_ACT_BODY;
	}
	return smtp_envelope_failed(s, last);
}

static enum smtp_action
smtp_on_envelope_reply(struct smtp *s, const struct reply *r)
{
	struct smtp_pending p;
	enum smtp_action act;

	if (s->npending == 0)
		return smtp_fail(s, ERR_PROTOCOL, r, "unexpected reply");
	p = smtp_pop(s);
	if (p.cmd == SMTP_CMD_DATA)
		return smtp_on_data_reply(s, r);
	if (p.cmd == SMTP_CMD_AUTH)
		act = smtp_on_auth_in_flight(s, r);
	else if (p.cmd == SMTP_CMD_BDAT)
		act = smtp_on_flying_bdat_reply(s, r);
	else
		act = smtp_on_command_reply(s, p, r);
	if (act == SMTP_ACT_FAIL)
		return act;
	smtp_fill(s);
	if (s->npending > 0)
		return SMTP_ACT_READ;
	return smtp_flight_end(s, r);
}

/* The next recipient from i on that RCPT accepted, or nrcpt. */
static size_t
smtp_next_accepted(const struct smtp *s, size_t i)
{
	while (i < s->env->nrcpt && s->rcpt_st[i] != ENVELOPE_RCPT_ACCEPTED)
		i++;
	return i;
}

enum smtp_action
smtp_on_body_sent(struct smtp *s)
{
	s->lmtp_next = smtp_next_accepted(s, 0);
	/* the message flew with its envelope: their replies come now */
	smtp_set_state(s, s->npending > 0 ? SMTP_STATE_ENVELOPE :
	    SMTP_STATE_DATA_END);
	return SMTP_ACT_READ;
}

/*
 * LMTP (RFC 2033 4.2): one reply per accepted recipient, in RCPT order.
 * Each is recorded as it comes; the transaction ends after the last.
 */
static enum smtp_action
smtp_on_lmtp_reply(struct smtp *s, const struct reply *r)
{
	size_t i = s->lmtp_next;

	if (reply_ok(r))
		s->lmtp_sent++;
	else if (reply_temp(r) && s->lmtp_temp++ == 0)
		smtp_keep_temp(s, r);
	else if (!reply_temp(r))
		s->lmtp_perm++;
	smtp_rcpt_set(s, i, reply_ok(r) ? ENVELOPE_RCPT_SENT :
	    reply_temp(r) ? ENVELOPE_RCPT_DEFERRED : ENVELOPE_RCPT_REJECTED);
	if (!reply_ok(r))
		smtp_rcpt_error(s, i, r, reply_temp(r) ? "deferred" :
		    "rejected");
	s->lmtp_next = smtp_next_accepted(s, i + 1);
	if (s->lmtp_next < s->env->nrcpt)
		return SMTP_ACT_READ;
	smtp_set_state(s, SMTP_STATE_READY);
	if (s->lmtp_temp + s->lmtp_perm > 0)
		smtp_rcpts_failed(s, s->lmtp_perm > 0);
	return SMTP_ACT_READY;
}

static enum smtp_action
smtp_on_data_end_reply(struct smtp *s, const struct reply *r)
{
	reply_format(r, s->last_reply, sizeof(s->last_reply));
	if (!reply_ok(r) && !reply_temp(r) && !reply_perm(r))
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "unexpected reply to the end of the message");
	if (s->opts.lmtp)
		return smtp_on_lmtp_reply(s, r);
	smtp_set_state(s, SMTP_STATE_READY);
	smtp_verdict_all(s, reply_ok(r) ? ENVELOPE_RCPT_SENT :
	    reply_temp(r) ? ENVELOPE_RCPT_DEFERRED : ENVELOPE_RCPT_REJECTED);
	if (reply_ok(r))
		return SMTP_ACT_READY;
	reply_error(&s->txn_err, smtp_kind(r, ERR_UNAVAILABLE), r,
	    "message %s by the server", reply_temp(r) ? "deferred" :
	    "rejected");
	return SMTP_ACT_READY;
}

enum smtp_action
smtp_quit(struct smtp *s)
{
	if (s->auth_pending) {
		/* no message came to carry the AUTH: it never goes out */
		dynbuf_reset(&s->out);
		s->auth_pending = false;
	}
	smtp_cmd(s, NULL, "QUIT");
	smtp_set_state(s, SMTP_STATE_QUIT);
	return SMTP_ACT_CLOSE;
}

/* ---------------------------------------------------------------- dispatch */

/* 421: the server is leaving; a refused pipelined AUTH says more. */
static enum smtp_action
smtp_on_closing(struct smtp *s, const struct reply *r)
{
	if (s->auth_failed)
		return smtp_fail_auth(s);
	if (s->state == SMTP_STATE_ENVELOPE ||
	    s->state == SMTP_STATE_DATA_END)
		reply_format(r, s->last_reply, sizeof(s->last_reply));
	return smtp_fail(s, ERR_TEMP, r, "server closed the connection");
}

enum smtp_action
smtp_on_reply(struct smtp *s, const struct reply *r)
{
	if (smtp_closing(r) && s->state != SMTP_STATE_QUIT)
		return smtp_on_closing(s, r);
	switch (s->state) {
	case SMTP_STATE_GREETING:
		return smtp_on_greeting_reply(s, r);
	case SMTP_STATE_EHLO:
		return smtp_on_ehlo_reply(s, r);
	case SMTP_STATE_HELO:
		return smtp_on_helo_reply(s, r);
	case SMTP_STATE_STARTTLS:
		return smtp_on_starttls_reply(s, r);
	case SMTP_STATE_AUTH:
		return smtp_on_auth_reply(s, r);
	case SMTP_STATE_ENVELOPE:
		return smtp_on_envelope_reply(s, r);
	case SMTP_STATE_DATA_END:
		return smtp_on_data_end_reply(s, r);
	case SMTP_STATE_QUIT:
		smtp_set_state(s, SMTP_STATE_CLOSED);
		return SMTP_ACT_CLOSE;
	default:
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "unexpected reply from the server in state %s",
		    smtp_state_name(s->state));
	}
}
