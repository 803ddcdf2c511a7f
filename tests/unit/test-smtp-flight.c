/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-smtp-flight.c -- the state machine's round trips (issue 11): what
 * goes in one flight (AUTH with the envelope, the message with them), what
 * waits, and what every reply to such a flight means -- AUTH refused with
 * MAIL, RCPT and BDAT already sent, a refused recipient, a challenge where
 * none may come. Canned replies, no sockets.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reply.h"
#include "smtp.h"
#include "smtptest.h"
#include "tap.h"

#define EHLO_ALL "250-mx\n250-PIPELINING\n250-CHUNKING\n250 AUTH PLAIN LOGIN"
/* base64("\0alice\0pw") */
#define AUTH_LINE "AUTH PLAIN AGFsaWNlAHB3\r\n"
#define MAIL_LINE "MAIL FROM:<alice@example.test>\r\n"

static const char *rcpt1[] = { "bob@example.org" };
static const char *rcpt2[] = { "bob@example.org", "carol@example.org" };
static const struct envelope env1 = {
	.from = "alice@example.test", .rcpt = rcpt1, .nrcpt = 1,
};
static const struct envelope env2 = {
	.from = "alice@example.test", .rcpt = rcpt2, .nrcpt = 2,
};
static const struct smtp_msginfo info = { .size = 1234 };

static const struct smtp_opts pipe_opts = {
	.ehlo_domain = "client.example", .tls = SMTP_TLS_IMPLICIT,
	.auth = true, .auth_mech = "PLAIN", .user = "alice",
	.auth_pipeline = true,
};

/* Up to AUTH with opts and the EHLO reply; returns smtp_auth_start()'s. */
static enum smtp_action
to_auth(struct smtp *s, const struct smtp_opts *o, const char *ehlo,
    bool may_retry)
{
	smtp_init(s, o);
	smtp_start(s);
	smtp_on_reply(s, R("220 mx"));
	if (smtp_on_reply(s, R(ehlo)) != SMTP_ACT_AUTH)
		bail_out("EHLO '%s' does not lead to AUTH", ehlo);
	sent(s);
	return smtp_auth_start(s, "mx", "pw", NULL, NULL, may_retry);
}

/* Feed replies (NULL-terminated); returns the last action. */
static enum smtp_action
replies(struct smtp *s, const char *const *r)
{
	enum smtp_action a = SMTP_ACT_READ;

	for (; *r != NULL; r++)
		a = smtp_on_reply(s, R(*r));
	return a;
}

/* A machine with the AUTH waiting, one recipient, the message flying. */
static void
flying(struct smtp *s)
{
	if (to_auth(s, &pipe_opts, EHLO_ALL, false) != SMTP_ACT_READY)
		bail_out("AUTH PLAIN not deferred");
	if (smtp_mail(s, &env1, &info) != SMTP_ACT_BODY)
		bail_out("the message does not fly with its envelope");
	sent(s);
	smtp_on_body_sent(s);
}

static void
test_one_flight(void)
{
	struct smtp s;

	is_int(to_auth(&s, &pipe_opts, EHLO_ALL, false), SMTP_ACT_READY,
	    "PLAIN with PIPELINING: no wait for the 235, ready at once");
	ok(s.auth_pending, "the AUTH line waits for the transaction");
	is_int(smtp_mail(&s, &env1, &info), SMTP_ACT_BODY,
	    "one recipient, small, CHUNKING: the message goes at once");
	is_str(sent(&s), AUTH_LINE MAIL_LINE "RCPT TO:<bob@example.org>\r\n"
	    "BDAT 1234 LAST\r\n", "AUTH, MAIL, RCPT, BDAT LAST: one flight");
	is_int(smtp_on_body_sent(&s), SMTP_ACT_READ, "then the replies");
	is_int(smtp_on_reply(&s, R("235 2.7.0 ok")), SMTP_ACT_READ, "235");
	ok(!s.auth_pending, "AUTH answered");
	is_int(smtp_on_reply(&s, R("250 2.1.0 ok")), SMTP_ACT_READ, "MAIL");
	is_int(smtp_on_reply(&s, R("250 2.1.5 ok")), SMTP_ACT_READ, "RCPT");
	is_int(smtp_on_reply(&s, R("250 2.0.0 queued as X")), SMTP_ACT_READY,
	    "BDAT's 250 -> ready");
	is_int(smtp_txn_result(&s), 0, "sent");
	is_str(s.last_reply, "250 2.0.0 queued as X", "final reply kept");
	is_str(sent(&s), "", "nothing more to send");
	is_int(smtp_mail(&s, &env1, &info), SMTP_ACT_BODY,
	    "the next message flies too");
	is_str(sent(&s), MAIL_LINE "RCPT TO:<bob@example.org>\r\n"
	    "BDAT 1234 LAST\r\n", "without AUTH this time");
	smtp_on_body_sent(&s);
	replies(&s, (const char *[]){ "250 ok", "250 ok", "250 ok", NULL });
	is_int(smtp_quit(&s), SMTP_ACT_CLOSE, "QUIT: close, no 221 awaited");
	is_str(sent(&s), "QUIT\r\n", "QUIT");
	smtp_release(&s);
}

static void
test_auth_refused(void)
{
	static const struct {
		const char *r[5];
		enum error_kind kind;
		const char *what;
	} cases[] = {
		{ { "535 5.7.8 bad credentials", "530 5.7.0 auth required",
		    "503 5.5.1 need MAIL", "503 5.5.1 need RCPT", NULL },
		    ERR_AUTH, "535 and the rest refused" },
		/* Postfix: MAIL is taken, the recipient refused */
		{ { "535 5.7.8 bad credentials", "250 2.1.0 Ok",
		    "554 5.7.1 <bob@example.org>: Access denied",
		    "554 5.5.1 Error: no valid recipients", NULL },
		    ERR_AUTH, "535, MAIL taken, RCPT and BDAT refused" },
		{ { "454 4.7.0 try later", "530 5.7.0 auth required",
		    "503 5.5.1 need MAIL", "503 5.5.1 need RCPT", NULL },
		    ERR_TEMP, "454" },
		{ { "535 5.7.8 bad credentials", "421 4.3.2 closing", NULL },
		    ERR_AUTH, "535, then 421" },
	};
	struct smtp s;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		flying(&s);
		is_int(replies(&s, cases[i].r), SMTP_ACT_FAIL,
		    "%s: the session fails", cases[i].what);
		is_int(s.err.kind, cases[i].kind, "%s: as %s", cases[i].what,
		    error_kind_name(cases[i].kind));
		is_str(s.err.reply, cases[i].r[0], "%s: AUTH's reply, "
		    "verbatim", cases[i].what);
		if (cases[i].kind == ERR_AUTH)
			is_str(s.err.message, "authentication (PLAIN) failed "
			    "for user 'alice'", "%s: the AUTH message",
			    cases[i].what);
		is_str(sent(&s), "", "%s: nothing more sent", cases[i].what);
		smtp_release(&s);
	}

	/* a server that takes mail without AUTH: the message went */
	flying(&s);
	is_int(replies(&s, (const char *[]){ "535 5.7.8 bad credentials",
	    "250 ok", "250 ok", "250 2.0.0 queued", NULL }), SMTP_ACT_READY,
	    "535 but the message taken: ready");
	is_int(smtp_txn_result(&s), 0, "the message counts as sent");
	ok(s.auth_failed, "and the connection carries no more");
	smtp_release(&s);
}

static void
test_envelope_refused(void)
{
	static const struct {
		const char *r[5];
		enum error_kind kind;
		const char *msg;
	} cases[] = {
		{ { "235 ok", "250 ok", "550 5.1.1 <bob@example.org>: unknown",
		    "554 5.5.1 Error: no valid recipients", NULL }, ERR_NOUSER,
		    "recipient 'bob@example.org' rejected" },
		{ { "235 ok", "250 ok", "451 4.3.0 later",
		    "554 5.5.1 Error: no valid recipients", NULL }, ERR_TEMP,
		    "recipient 'bob@example.org' rejected" },
		{ { "235 ok", "553 5.7.1 not you", "503 5.5.1 need MAIL",
		    "503 5.5.1 need RCPT", NULL }, ERR_DATAERR,
		    "sender 'alice@example.test' rejected" },
		{ { "235 ok", "250 ok", "250 ok", "554 5.6.0 spam", NULL },
		    ERR_UNAVAILABLE, "message rejected by the server" },
		{ { "235 ok", "250 ok", "250 ok", "452 4.3.1 full", NULL },
		    ERR_TEMP, "message deferred by the server" },
	};
	struct smtp s;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		flying(&s);
		is_int(replies(&s, cases[i].r), SMTP_ACT_READY,
		    "'%s': ready", cases[i].r[2]);
		is_int(s.txn_err.kind, cases[i].kind, "'%s': as %s",
		    cases[i].r[2], error_kind_name(cases[i].kind));
		ok(strncmp(s.txn_err.message, cases[i].msg,
		    strlen(cases[i].msg)) == 0, "'%s': %s", cases[i].r[2],
		    s.txn_err.message);
		smtp_mail(&s, &env1, &info);
		ok(strncmp(sent(&s), "RSET\r\n" MAIL_LINE, 38) == 0,
		    "'%s': the next message starts with RSET, no AUTH",
		    cases[i].r[2]);
		smtp_release(&s);
	}
}

static void
test_odd_replies(void)
{
	struct smtp s;

	flying(&s);
	is_int(smtp_on_reply(&s, R("334 ")), SMTP_ACT_FAIL,
	    "a challenge after PLAIN's initial response: the server read "
	    "MAIL as a response -> fail");
	is_int(s.err.kind, ERR_PROTOCOL, "as 76");
	smtp_release(&s);

	flying(&s);
	is_int(smtp_on_reply(&s, R("250 what")), SMTP_ACT_FAIL,
	    "250 to AUTH -> fail");
	is_int(s.err.kind, ERR_PROTOCOL, "as 76");
	smtp_release(&s);
}

static void
test_not_deferred(void)
{
	struct smtp_opts o = pipe_opts;
	struct smtp s;

	is_int(to_auth(&s, &pipe_opts, "250-mx\n250 AUTH PLAIN", false),
	    SMTP_ACT_READ, "no PIPELINING: AUTH waits for its reply");
	is_str(sent(&s), AUTH_LINE, "AUTH alone");
	smtp_release(&s);

	o.auth_pipeline = false;
	is_int(to_auth(&s, &o, EHLO_ALL, false), SMTP_ACT_READ,
	    "not asked for (the queue): AUTH waits for its reply");
	smtp_release(&s);

	is_int(to_auth(&s, &pipe_opts, EHLO_ALL, true), SMTP_ACT_READ,
	    "a cached token that may be refused: AUTH waits");
	smtp_release(&s);

	o = pipe_opts;
	o.auth_mech = NULL;
	o.oauth = true;
	is_int(to_auth(&s, &o, "250-mx\n250-PIPELINING\n250 AUTH XOAUTH2",
	    false), SMTP_ACT_READ, "XOAUTH2: its refusal is a challenge, "
	    "AUTH waits");
	smtp_release(&s);
	is_int(to_auth(&s, &o, "250-mx\n250-PIPELINING\n250 AUTH OAUTHBEARER",
	    false), SMTP_ACT_READ, "OAUTHBEARER: AUTH waits");
	smtp_release(&s);

	o = pipe_opts;
	o.auth_mech = "LOGIN";
	is_int(to_auth(&s, &o, EHLO_ALL, false), SMTP_ACT_READ,
	    "LOGIN: AUTH LOGIN waits for the server's first word");
	is_str(sent(&s), "AUTH LOGIN\r\n", "AUTH LOGIN");
	/* "Username:", "Password:" */
	is_int(smtp_on_reply(&s, R("334 VXNlcm5hbWU6")), SMTP_ACT_READ,
	    "the user name waits for the next challenge");
	is_str(sent(&s), "YWxpY2U=\r\n", "user name");
	is_int(smtp_on_reply(&s, R("334 UGFzc3dvcmQ6")), SMTP_ACT_READY,
	    "the password is LOGIN's last word: it waits for the envelope");
	is_int(smtp_mail(&s, &env1, &info), SMTP_ACT_BODY, "flies");
	is_str(sent(&s), "cHc=\r\n" MAIL_LINE "RCPT TO:<bob@example.org>\r\n"
	    "BDAT 1234 LAST\r\n", "password, MAIL, RCPT, BDAT: one flight");
	smtp_release(&s);
}

static void
test_several_recipients(void)
{
	struct smtp s;

	to_auth(&s, &pipe_opts, EHLO_ALL, false);
	is_int(smtp_mail(&s, &env2, &info), SMTP_ACT_READ,
	    "two recipients: the message waits for their replies");
	is_str(sent(&s), AUTH_LINE MAIL_LINE "RCPT TO:<bob@example.org>\r\n"
	    "RCPT TO:<carol@example.org>\r\n", "AUTH and the envelope");
	is_int(replies(&s, (const char *[]){ "235 ok", "250 ok", "250 ok",
	    "250 ok", NULL }), SMTP_ACT_BODY, "all accepted -> the message");
	is_str(sent(&s), "BDAT 1234 LAST\r\n", "BDAT LAST");
	smtp_release(&s);

	to_auth(&s, &pipe_opts, EHLO_ALL, false);
	smtp_mail(&s, &env2, &info);
	sent(&s);
	is_int(replies(&s, (const char *[]){ "235 ok", "250 ok", "250 ok",
	    "550 5.1.1 no carol", NULL }), SMTP_ACT_READY,
	    "one refused -> nothing sent to anyone");
	is_str(sent(&s), "", "no BDAT");
	is_int(s.txn_err.kind, ERR_NOUSER, "67");
	smtp_release(&s);

	to_auth(&s, &pipe_opts, EHLO_ALL, false);
	smtp_mail(&s, &env2, &info);
	sent(&s);
	is_int(replies(&s, (const char *[]){ "535 5.7.8 no", "250 ok",
	    "250 ok", "250 ok", NULL }), SMTP_ACT_FAIL,
	    "AUTH refused, recipients taken anyway -> fail, no message");
	is_int(s.err.kind, ERR_AUTH, "77");
	is_str(sent(&s), "", "no BDAT");
	smtp_release(&s);
}

static void
test_sizes(void)
{
	struct smtp_msginfo big = { .size = 256 * 1024 };
	struct smtp s;

	to_auth(&s, &pipe_opts, EHLO_ALL, false);
	is_int(smtp_mail(&s, &env1, &big), SMTP_ACT_BODY,
	    "256 KiB: flies");
	smtp_release(&s);

	big.size++;
	to_auth(&s, &pipe_opts, EHLO_ALL, false);
	is_int(smtp_mail(&s, &env1, &big), SMTP_ACT_READ,
	    "256 KiB + 1: waits for the envelope's replies");
	is_str(sent(&s), AUTH_LINE MAIL_LINE "RCPT TO:<bob@example.org>\r\n",
	    "AUTH and the envelope only");
	is_int(replies(&s, (const char *[]){ "235 ok", "250 ok", "250 ok",
	    NULL }), SMTP_ACT_BODY, "then the message");
	is_str(sent(&s), "BDAT 262145 LAST\r\n", "BDAT LAST");
	smtp_release(&s);
}

static void
test_data(void)
{
	const char *ehlo = "250-mx\n250-PIPELINING\n250 AUTH PLAIN";
	struct smtp s;

	to_auth(&s, &pipe_opts, ehlo, false);
	is_int(smtp_mail(&s, &env1, &info), SMTP_ACT_READ,
	    "no CHUNKING: DATA");
	is_str(sent(&s), AUTH_LINE MAIL_LINE "RCPT TO:<bob@example.org>\r\n"
	    "DATA\r\n", "AUTH, MAIL, RCPT, DATA: one flight");
	is_int(replies(&s, (const char *[]){ "235 ok", "250 ok", "250 ok",
	    "354 go", NULL }), SMTP_ACT_BODY, "354 -> the message");
	smtp_release(&s);

	to_auth(&s, &pipe_opts, ehlo, false);
	smtp_mail(&s, &env1, &info);
	sent(&s);
	is_int(replies(&s, (const char *[]){ "535 5.7.8 no", "250 ok",
	    "250 ok", "354 go", NULL }), SMTP_ACT_FAIL,
	    "AUTH refused but 354: drop the connection, no final dot");
	is_int(s.err.kind, ERR_AUTH, "77");
	is_str(sent(&s), "", "no dot");
	smtp_release(&s);
}

static void
test_no_message(void)
{
	static const char *bad[] = { "-oops@example.org" };
	struct smtp s;

	to_auth(&s, &pipe_opts, EHLO_ALL, false);
	is_int(smtp_mail(&s, &(struct envelope){ .from = "alice@example.test",
	    .rcpt = bad, .nrcpt = 1 }, &info), SMTP_ACT_READY,
	    "a message refused before the wire");
	ok(s.auth_pending, "AUTH still waits");
	is_int(smtp_mail(&s, &env1, &info), SMTP_ACT_BODY, "the next flies");
	ok(strncmp(sent(&s), AUTH_LINE MAIL_LINE, 57) == 0,
	    "with the AUTH first");
	smtp_release(&s);

	to_auth(&s, &pipe_opts, EHLO_ALL, false);
	is_int(smtp_quit(&s), SMTP_ACT_CLOSE, "no message at all: QUIT");
	is_str(sent(&s), "QUIT\r\n", "the AUTH never goes out");
	smtp_release(&s);
}

int
main(void)
{
	test_one_flight();
	test_auth_refused();
	test_envelope_refused();
	test_odd_replies();
	test_not_deferred();
	test_several_recipients();
	test_sizes();
	test_data();
	test_no_message();
	return done_testing();
}
