/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpauth.c -- AUTH in the state machine; see smtpauth.h. The mechanisms
 * themselves are sasl.c's; this file decides what goes on the wire when,
 * and what a reply means.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "sasl.h"
#include "smtpauth.h"
#include "smtpcmd.h"
#include "util.h"

/* The mechanism: OAuth 2.0 picks among the bearer methods. */
static int
smtp_auth_choose(struct smtp *s, bool have_cb)
{
	if (s->opts.oauth && s->opts.auth_mech == NULL)
		return sasl_choose_bearer(s->caps.auth, s->tls_active, s->mech,
		    sizeof(s->mech), &s->err);
	return sasl_choose(s->caps.auth, s->opts.auth_mech, s->tls_active,
	    have_cb, s->mech, sizeof(s->mech), &s->err);
}

/*
 * A line of the exchange is queued: wait for its reply, or -- when it is
 * the last one and may share a flight (smtpauth.h) -- leave it in s->out
 * for the first transaction and go READY. A cached OAuth token
 * (auth_may_retry) is never deferred: its refusal is a challenge.
 */
static enum smtp_action
smtp_auth_sent(struct smtp *s)
{
	if (s->opts.auth_pipeline && (s->caps.ext & SMTP_EXT_PIPELINING) &&
	    !s->auth_may_retry && sasl_last(s->sasl)) {
		s->auth_pending = true;
		smtp_set_state(s, SMTP_STATE_READY);
		return SMTP_ACT_READY;
	}
	return SMTP_ACT_READ;
}

enum smtp_action
smtp_auth_start(struct smtp *s, const char *hostname, const char *password,
    const char *cb_type, const char *cb_data, bool may_retry)
{
	struct sasl_creds creds = {
		.user = s->opts.user, .password = password, .service = "smtp",
		.hostname = hostname, .cb_type = cb_type, .cb_data = cb_data,
	};
	char shown[64];
	char *resp = NULL;

	s->auth_may_retry = may_retry;
	s->auth_refused = false;
	if (smtp_auth_choose(s, cb_data != NULL) < 0 ||
	    sasl_start(&s->sasl, s->mech, &creds, &s->err) < 0 ||
	    sasl_step(s->sasl, NULL, &resp, &s->err) < 0) {
		smtp_set_state(s, SMTP_STATE_CLOSED);
		return SMTP_ACT_FAIL;
	}
	smtp_set_state(s, SMTP_STATE_AUTH);
	if (resp == NULL) {
		smtp_cmd(s, NULL, "AUTH %s", s->mech);
		return SMTP_ACT_READ;
	}
	snprintf(shown, sizeof(shown), "AUTH %s <redacted>", s->mech);
	smtp_cmd(s, shown, "AUTH %s %s", s->mech, *resp ? resp : "=");
	util_free_secret(resp);
	return smtp_auth_sent(s);
}

static enum smtp_action
smtp_on_auth_challenge(struct smtp *s, const struct reply *r)
{
	char *resp = NULL;

	if (r->nlines != 1)
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "malformed AUTH challenge");
	if (sasl_step(s->sasl, r->text, &resp, &s->err) < 0) {
		/* RFC 4954 4: cancel the exchange, then give up. */
		smtp_cmd(s, NULL, "*");
		smtp_set_state(s, SMTP_STATE_CLOSED);
		return SMTP_ACT_FAIL;
	}
	smtp_cmd(s, "<redacted>", "%s", resp != NULL ? resp : "");
	util_free_secret(resp);
	return smtp_auth_sent(s);
}

/* 235: the exchange is over (0), unless the server skipped its proof. */
static int
smtp_auth_ok(struct smtp *s, const struct reply *r)
{
	bool complete = s->sasl != NULL && sasl_complete(s->sasl);

	sasl_free(s->sasl);
	s->sasl = NULL;
	if (complete)
		return 0;
	smtp_fail(s, ERR_AUTH, r, "server accepted %s authentication "
	    "without proving it knows the password", s->mech);
	return -1;
}

/* Why AUTH failed (r: 4xx or 5xx, not 421), into e. */
static void
smtp_auth_error(const struct smtp *s, const struct reply *r,
    struct error *e)
{
	const char *m = s->mech;

	if (reply_temp(r))
		reply_error(e, ERR_TEMP, r,
		    "authentication (%s) failed temporarily", m);
	else if (r->code == 534)
		reply_error(e, ERR_AUTH, r, "authentication (%s) refused: the "
		    "server wants another mechanism or a log-in through its "
		    "web site first", m);
	else if (r->code == 538)
		reply_error(e, ERR_AUTH, r, "authentication (%s) refused: the "
		    "server requires encryption", m);
	else
		reply_error(e, ERR_AUTH, r,
		    "authentication (%s) failed for user '%s'", m,
		    s->opts.user != NULL ? s->opts.user : "");
}

enum smtp_action
smtp_on_auth_reply(struct smtp *s, const struct reply *r)
{
	if (r->code == 334)
		return smtp_on_auth_challenge(s, r);
	if (r->code == 235) {
		if (smtp_auth_ok(s, r) < 0)
			return SMTP_ACT_FAIL;
		smtp_set_state(s, SMTP_STATE_READY);
		return SMTP_ACT_READY;
	}
	sasl_free(s->sasl);
	s->sasl = NULL;
	if (reply_ok(r) || r->code / 100 == 3)
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "unexpected reply to AUTH %s", s->mech);
	if (r->code == 535 && s->auth_may_retry) {
		/* a cached bearer token may have expired early: one more */
		s->auth_may_retry = false;
		s->auth_refused = true;
		smtp_set_state(s, SMTP_STATE_AUTH_WAIT);
		return SMTP_ACT_AUTH;
	}
	smtp_auth_error(s, r, &s->err);
	smtp_set_state(s, SMTP_STATE_CLOSED);
	return SMTP_ACT_FAIL;
}

enum smtp_action
smtp_on_auth_in_flight(struct smtp *s, const struct reply *r)
{
	s->auth_pending = false;
	if (r->code == 334) {
		sasl_free(s->sasl);
		s->sasl = NULL;
		return smtp_fail(s, ERR_PROTOCOL, r, "unexpected challenge "
		    "after the last AUTH %s response", s->mech);
	}
	if (r->code == 235)
		return smtp_auth_ok(s, r) < 0 ? SMTP_ACT_FAIL : SMTP_ACT_READ;
	sasl_free(s->sasl);
	s->sasl = NULL;
	if (reply_ok(r) || r->code / 100 == 3)
		return smtp_fail(s, ERR_PROTOCOL, r,
		    "unexpected reply to AUTH %s", s->mech);
	smtp_auth_error(s, r, &s->txn_err);
	s->auth_failed = true;
	return SMTP_ACT_READ;
}
