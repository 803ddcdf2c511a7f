/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-smtp.c -- the SMTP state machine fed canned replies: no sockets, just
 * "given this reply, which commands and which action come out".
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reply.h"
#include "smtp.h"
#include "smtptest.h"
#include "tap.h"

static const char *rcpt2[] = { "bob@example.org", "carol@example.org" };
static const struct envelope env2 = {
	.from = "alice@example.test", .rcpt = rcpt2, .nrcpt = 2,
};
static const struct smtp_msginfo info = { .size = 1234, .eightbit = false };

static const struct smtp_opts starttls_auth = {
	.ehlo_domain = "client.example", .tls = SMTP_TLS_STARTTLS,
	.auth = true, .auth_mech = "PLAIN", .user = "alice",
};
static const struct smtp_opts plain_noauth = {
	.ehlo_domain = "client.example", .tls = SMTP_TLS_NONE,
};

/* Bring a machine with plain_noauth to READY with the given EHLO reply. */
static void
ready(struct smtp *s, const char *ehlo)
{
	smtp_init(s, &plain_noauth);
	smtp_start(s);
	smtp_on_reply(s, R("220 fake ESMTP"));
	sent(s);
	if (smtp_on_reply(s, R(ehlo)) != SMTP_ACT_READY)
		printf("# not ready\n");
}

static void
test_full_session(void)
{
	struct smtp s;
	enum smtp_action a;

	smtp_init(&s, &starttls_auth);
	is_int(smtp_start(&s), SMTP_ACT_READ, "start waits for greeting");
	is_int(smtp_on_reply(&s, R("220 mx ESMTP")), SMTP_ACT_READ,
	    "greeting -> EHLO");
	is_str(sent(&s), "EHLO client.example\r\n", "EHLO with domain");
	a = smtp_on_reply(&s, R("250-mx\n250-STARTTLS\n250 AUTH LOGIN"));
	is_int(a, SMTP_ACT_READ, "EHLO -> STARTTLS");
	is_str(sent(&s), "STARTTLS\r\n", "STARTTLS sent, no AUTH before TLS");
	is_int(smtp_on_reply(&s, R("220 go ahead")), SMTP_ACT_TLS,
	    "220 -> TLS handshake");
	is_int(smtp_on_tls(&s), SMTP_ACT_READ, "after TLS -> EHLO again");
	is_str(sent(&s), "EHLO client.example\r\n", "second EHLO");
	ok(!(s.caps.ext & SMTP_EXT_STARTTLS), "pre-TLS capabilities forgotten");
	a = smtp_on_reply(&s, R("250-mx\n250-AUTH PLAIN LOGIN\n250 SIZE 100000"));
	is_int(a, SMTP_ACT_AUTH, "EHLO over TLS -> AUTH wanted");
	a = smtp_auth_start(&s, "mx", "secret", NULL, NULL, false);
	is_int(a, SMTP_ACT_READ, "AUTH sent");
	/* base64("\0alice\0secret") */
	is_str(sent(&s), "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
	    "AUTH PLAIN initial response");
	is_int(smtp_on_reply(&s, R("235 2.7.0 ok")), SMTP_ACT_READY,
	    "235 -> ready");
	is_str(s.mech, "PLAIN", "mechanism recorded");

	a = smtp_mail(&s, &env2, &info);
	is_int(a, SMTP_ACT_READ, "MAIL queued");
	is_str(sent(&s), "MAIL FROM:<alice@example.test> SIZE=1234\r\n",
	    "without PIPELINING only MAIL goes first, with SIZE");
	smtp_on_reply(&s, R("250 2.1.0 ok"));
	is_str(sent(&s), "RCPT TO:<bob@example.org>\r\n", "first RCPT");
	smtp_on_reply(&s, R("250 2.1.5 ok"));
	is_str(sent(&s), "RCPT TO:<carol@example.org>\r\n", "second RCPT");
	smtp_on_reply(&s, R("250 2.1.5 ok"));
	is_str(sent(&s), "DATA\r\n", "then DATA");
	is_int(smtp_on_reply(&s, R("354 go")), SMTP_ACT_BODY, "354 -> body");
	is_int(smtp_on_body_sent(&s), SMTP_ACT_READ, "wait for final reply");
	is_int(smtp_on_reply(&s, R("250 2.0.0 queued as X")), SMTP_ACT_READY,
	    "250 -> ready");
	is_int(smtp_txn_result(&s), 0, "transaction succeeded");
	is_str(s.last_reply, "250 2.0.0 queued as X", "final reply kept");
	is_int(smtp_quit(&s), SMTP_ACT_CLOSE,
	    "QUIT queued, then close: the 221 is not awaited");
	is_str(sent(&s), "QUIT\r\n", "QUIT");
	smtp_release(&s);
}

static void
test_no_starttls(void)
{
	struct smtp s;

	smtp_init(&s, &starttls_auth);
	smtp_start(&s);
	smtp_on_reply(&s, R("220 mx"));
	sent(&s);
	is_int(smtp_on_reply(&s, R("250-mx\n250 AUTH PLAIN")), SMTP_ACT_FAIL,
	    "no STARTTLS offered -> fail");
	is_int(s.err.kind, ERR_PROTOCOL, "as a protocol error (76)");
	is_str(sent(&s), "", "nothing sent: no AUTH in clear");
	ok(strstr(s.err.message, "STARTTLS") != NULL, "message names STARTTLS");
	smtp_release(&s);

	smtp_init(&s, &starttls_auth);
	smtp_start(&s);
	smtp_on_reply(&s, R("220 mx"));
	smtp_on_reply(&s, R("250-mx\n250 STARTTLS"));
	sent(&s);
	is_int(smtp_on_reply(&s, R("454 4.7.0 TLS not available")),
	    SMTP_ACT_FAIL, "454 to STARTTLS -> fail");
	is_int(s.err.kind, ERR_TEMP, "as temporary");
	smtp_release(&s);
}

static void
test_pipelining(void)
{
	struct smtp s;

	ready(&s, "250-mx\n250-PIPELINING\n250 8BITMIME");
	smtp_mail(&s, &env2, &(struct smtp_msginfo){ .size = 10, .eightbit = true });
	is_str(sent(&s), "MAIL FROM:<alice@example.test> BODY=8BITMIME\r\n"
	    "RCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\n"
	    "DATA\r\n", "MAIL, RCPTs and DATA in one write");
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	is_int(smtp_on_reply(&s, R("550 5.1.1 <carol@example.org>: unknown")),
	    SMTP_ACT_READ, "rejected RCPT: still waiting for DATA's reply");
	is_int(smtp_on_reply(&s, R("354 go")), SMTP_ACT_FAIL,
	    "354 after a rejected RCPT -> drop the connection, no dot");
	is_int(s.err.kind, ERR_NOUSER, "67 for the rejected recipient");
	ok(strstr(s.err.message, "carol@example.org") != NULL &&
	    strstr(s.err.message, "550 5.1.1") != NULL,
	    "message names the recipient and quotes the reply: %s",
	    s.err.message);
	smtp_release(&s);

	ready(&s, "250-mx\n250 PIPELINING");
	smtp_mail(&s, &env2, &info);
	sent(&s);
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("550 5.1.1 no bob"));
	smtp_on_reply(&s, R("550 5.1.1 no carol"));
	is_int(smtp_on_reply(&s, R("554 5.5.1 no valid recipients")),
	    SMTP_ACT_READY, "all RCPTs rejected, DATA 554 -> ready");
	is_int(s.txn_err.kind, ERR_NOUSER, "67");
	ok(strstr(s.txn_err.message, "bob") && strstr(s.txn_err.message,
	    "carol"), "each rejected recipient reported");
	smtp_mail(&s, &env2, &info);
	ok(strncmp(sent(&s), "RSET\r\nMAIL FROM:", 16) == 0,
	    "next transaction starts with RSET");
	smtp_release(&s);
}

static void
test_window(void)
{
	static const char *many[250];
	struct envelope env = { .from = "a@b", .rcpt = many, .nrcpt = 250 };
	struct smtp s;
	const char *o;
	size_t n = 0;

	for (size_t i = 0; i < 250; i++)
		many[i] = "x@example.org";
	ready(&s, "250-mx\n250 PIPELINING");
	smtp_mail(&s, &env, &info);
	for (o = sent(&s); (o = strstr(o, "\r\n")) != NULL; o += 2)
		n++;
	is_int(n, 100, "at most 100 commands in flight");
	smtp_on_reply(&s, R("250 ok"));
	o = sent(&s);
	ok(strncmp(o, "RCPT", 4) == 0 && strlen(o) < 40,
	    "one reply frees one slot");
	smtp_release(&s);
}

static void
test_envelope_failures(void)
{
	struct smtp s;

	ready(&s, "250 mx");
	smtp_mail(&s, &env2, &info);
	sent(&s);
	is_int(smtp_on_reply(&s, R("553 5.7.1 sender not allowed")),
	    SMTP_ACT_READY, "5xx to MAIL -> ready");
	is_int(s.txn_err.kind, ERR_DATAERR, "5xx to MAIL is 65");
	is_str(sent(&s), "", "no RCPT after a refused MAIL");
	is_str(s.txn_err.reply, "553 5.7.1 sender not allowed", "reply kept");
	smtp_release(&s);

	ready(&s, "250 mx");
	smtp_mail(&s, &env2, &info);
	is_int(smtp_on_reply(&s, R("421 4.3.2 shutting down")), SMTP_ACT_FAIL,
	    "421 -> connection over");
	is_int(s.err.kind, ERR_TEMP, "421 is 75");
	smtp_release(&s);

	ready(&s, "250 mx");
	smtp_mail(&s, &env2, &info);
	smtp_on_reply(&s, R("250 ok"));
	sent(&s);
	smtp_on_reply(&s, R("451 4.3.0 try later"));
	is_str(sent(&s), "RCPT TO:<carol@example.org>\r\n",
	    "the other recipients are still tried");
	smtp_on_reply(&s, R("250 ok"));
	is_str(sent(&s), "", "no DATA after a rejected recipient");
	is_int(s.state, SMTP_STATE_READY, "ready");
	is_int(s.txn_err.kind, ERR_TEMP, "4xx to RCPT is 75");
	smtp_release(&s);
}

static void
test_data_end(void)
{
	static const struct {
		const char *reply;
		enum error_kind kind;
	} cases[] = {
		{ "250 2.0.0 ok", ERR_NONE },
		{ "451 4.3.0 later", ERR_TEMP },
		{ "554 5.6.0 spam", ERR_UNAVAILABLE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct smtp s;

		ready(&s, "250-mx\n250 PIPELINING");
		smtp_mail(&s, &env2, &info);
		smtp_on_reply(&s, R("250 ok"));
		smtp_on_reply(&s, R("250 ok"));
		smtp_on_reply(&s, R("250 ok"));
		smtp_on_reply(&s, R("354 go"));
		smtp_on_body_sent(&s);
		is_int(smtp_on_reply(&s, R(cases[i].reply)), SMTP_ACT_READY,
		    "'%s' after the dot -> ready", cases[i].reply);
		is_int(s.txn_err.kind, cases[i].kind, "'%s' -> %s",
		    cases[i].reply, error_kind_name(cases[i].kind));
		smtp_release(&s);
	}
}

static void
test_local_refusals(void)
{
	static const char *bad[] = { "bob@x\r\nRSET", "-oQ/tmp", "a<b>",
	    "" };
	struct smtp s;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct envelope env = { .from = "a@b", .rcpt = &bad[i],
		    .nrcpt = 1 };

		ready(&s, "250 mx");
		is_int(smtp_mail(&s, &env, &info), SMTP_ACT_READY,
		    "bad recipient %zu refused locally", i);
		is_int(s.txn_err.kind, ERR_DATAERR, "as 65");
		is_str(sent(&s), "", "nothing sent");
		smtp_release(&s);
	}
	ready(&s, "250-mx\n250 SIZE 1000");
	is_int(smtp_mail(&s, &env2, &info), SMTP_ACT_READY,
	    "message over the SIZE limit refused locally");
	is_int(s.txn_err.kind, ERR_UNAVAILABLE, "as 69");
	ok(strstr(s.txn_err.message, "1000") != NULL, "limit named: %s",
	    s.txn_err.message);
	smtp_release(&s);

	{
		static const char *utf8[] = { "j\xc3\xb6rg@example.org" };
		struct envelope env = { .from = "a@b", .rcpt = utf8,
		    .nrcpt = 1 };

		ready(&s, "250 mx");
		smtp_mail(&s, &env, &info);
		is_int(s.txn_err.kind, ERR_DATAERR,
		    "UTF-8 address without SMTPUTF8 -> 65");
		smtp_release(&s);
		ready(&s, "250-mx\n250 SMTPUTF8");
		smtp_mail(&s, &env, &info);
		is_str(sent(&s), "MAIL FROM:<a@b> SMTPUTF8\r\n",
		    "UTF-8 address with SMTPUTF8 -> parameter sent");
		smtp_release(&s);
	}
	{
		static const char *idn[] = { "joerg@ex\xc3\xa4mple.org" };
		struct envelope env = { .from = "a@b\xc3\xbc.example",
		    .rcpt = idn, .nrcpt = 1 };

		ready(&s, "250-mx\n250 PIPELINING");
		is_int(smtp_mail(&s, &env, &info), SMTP_ACT_READ,
		    "UTF-8 domains without SMTPUTF8: sent");
		is_str(sent(&s), "MAIL FROM:<a@xn--b-eha.example>\r\n"
		    "RCPT TO:<joerg@xn--exmple-cua.org>\r\nDATA\r\n",
		    "as A-labels, no SMTPUTF8 parameter");
		smtp_release(&s);
	}
}

static void
test_greeting_and_auth(void)
{
	struct smtp s;

	smtp_init(&s, &plain_noauth);
	smtp_start(&s);
	is_int(smtp_on_reply(&s, R("554 5.3.2 go away")), SMTP_ACT_FAIL,
	    "554 greeting -> fail");
	is_int(s.err.kind, ERR_UNAVAILABLE, "as 69");
	is_str(sent(&s), "QUIT\r\n", "QUIT after a 554 greeting");
	smtp_release(&s);

	smtp_init(&s, &plain_noauth);
	smtp_start(&s);
	smtp_on_reply(&s, R("220 old"));
	sent(&s);
	is_int(smtp_on_reply(&s, R("502 what")), SMTP_ACT_READ,
	    "EHLO refused -> HELO");
	is_str(sent(&s), "HELO client.example\r\n", "HELO");
	is_int(smtp_on_reply(&s, R("250 hi")), SMTP_ACT_READY, "ready");
	smtp_release(&s);

	static const struct {
		const char *reply;
		enum error_kind kind;
	} cases[] = {
		{ "535 5.7.8 bad credentials", ERR_AUTH },
		{ "454 4.7.0 try later", ERR_TEMP },
		{ "534 5.7.9 web login required", ERR_AUTH },
		{ "250 what", ERR_PROTOCOL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		smtp_init(&s, &(struct smtp_opts){ .tls = SMTP_TLS_IMPLICIT,
		    .auth = true, .user = "alice" });
		smtp_start(&s);
		smtp_on_reply(&s, R("220 mx"));
		smtp_on_reply(&s, R("250-mx\n250 AUTH PLAIN"));
		smtp_auth_start(&s, "mx", "pw", NULL, NULL, false);
		sent(&s);
		is_int(smtp_on_reply(&s, R(cases[i].reply)), SMTP_ACT_FAIL,
		    "'%s' to AUTH -> fail", cases[i].reply);
		is_int(s.err.kind, cases[i].kind, "as %s",
		    error_kind_name(cases[i].kind));
		smtp_release(&s);
	}
}

static void
test_extensions(void)
{
	static const char *r1[] = { "bob+x@example.org" };
	struct envelope env = { .from = "a@b", .rcpt = r1, .nrcpt = 1,
	    .dsn_notify = "FAILURE,DELAY", .dsn_return = "HDRS",
	    .dsn_envid = "id=1" };
	struct smtp s;

	ready(&s, "250-mx\n250-PIPELINING\n250 DSN");
	smtp_mail(&s, &env, &info);
	is_str(sent(&s), "MAIL FROM:<a@b> RET=HDRS ENVID=id+3D1\r\n"
	    "RCPT TO:<bob+x@example.org> NOTIFY=FAILURE,DELAY "
	    "ORCPT=rfc822;bob+2Bx@example.org\r\nDATA\r\n",
	    "DSN parameters, xtext-encoded");
	smtp_release(&s);

	ready(&s, "250-mx\n250 PIPELINING");
	ok(smtp_mail(&s, &env, &info) == SMTP_ACT_READY &&
	    s.txn_err.kind == ERR_UNAVAILABLE, "DSN asked for, server "
	    "without DSN: ERR_UNAVAILABLE (msmtp's 69)");
	is_str(s.txn_err.message, "the server does not support DSN, which "
	    "the message asks for (NOTIFY=FAILURE,DELAY RET=HDRS ENVID); set "
	    "'dsn_unsupported send' to send it without", "... saying so");
	is_str(sent(&s), "", "... and nothing is sent");
	smtp_release(&s);

	ready(&s, "250-mx\n250 PIPELINING");
	s.opts.dsn_optional = true;
	smtp_mail(&s, &env, &info);
	is_str(sent(&s), "MAIL FROM:<a@b>\r\nRCPT TO:<bob+x@example.org>\r\n"
	    "DATA\r\n", "dsn_unsupported send: no DSN parameters without DSN");
	smtp_release(&s);

	ready(&s, "250-mx\n250-PIPELINING\n250 CHUNKING");
	smtp_mail(&s, &env2, &info);
	is_str(sent(&s), "MAIL FROM:<alice@example.test>\r\n"
	    "RCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\n",
	    "CHUNKING: envelope pipelined, no DATA");
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	is_int(smtp_on_reply(&s, R("250 ok")), SMTP_ACT_BODY,
	    "all recipients accepted -> body");
	ok(s.bdat, "as BDAT");
	is_str(sent(&s), "BDAT 1234 LAST\r\n", "one last chunk of SIZE bytes");
	smtp_on_body_sent(&s);
	is_int(smtp_on_reply(&s, R("250 2.0.0 ok")), SMTP_ACT_READY, "ready");
	is_int(smtp_txn_result(&s), 0, "sent");
	smtp_release(&s);

	ready(&s, "250-mx\n250-PIPELINING\n250 CHUNKING");
	smtp_mail(&s, &env2, &info);
	sent(&s);
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("550 5.1.1 no"));
	is_int(smtp_on_reply(&s, R("250 ok")), SMTP_ACT_READY,
	    "CHUNKING with a rejected recipient: no BDAT at all");
	is_str(sent(&s), "", "nothing sent");
	is_int(s.txn_err.kind, ERR_NOUSER, "67");
	smtp_release(&s);

	ready(&s, "250 mx");
	is_int(smtp_mail(&s, &env2, &(struct smtp_msginfo){ .size = 10, .eightbit = true }),
	    SMTP_ACT_READY, "8-bit message, no 8BITMIME: refused locally");
	is_int(s.txn_err.kind, ERR_DATAERR, "as 65");
	ok(strstr(s.txn_err.message, "8BITMIME") != NULL, "says why");
	smtp_release(&s);
}

/*
 * smtp_mail(env) with a server offering DSN but not SMTPUTF8: refused
 * before anything is written, 65, the message want.
 */
static void
refused_locally(const struct envelope *env, const char *want,
    const char *name)
{
	struct smtp s;

	ready(&s, "250-mx\n250-PIPELINING\n250-8BITMIME\n250 DSN");
	is_int(smtp_mail(&s, env, &info), SMTP_ACT_READY,
	    "%s: refused locally", name);
	is_int(s.txn_err.kind, ERR_DATAERR, "%s: as 65", name);
	is_str(s.txn_err.message, want, "%s: message", name);
	is_str(sent(&s), "", "%s: nothing sent", name);
	smtp_release(&s);
}

/*
 * Issue 9, finding 1: fullwidth characters that UTS #46 maps to '>', ' ',
 * '=' and '@' must not turn into ESMTP parameters when the domain goes out
 * as A-labels (a server without SMTPUTF8): refused, nothing sent.
 */
static void
test_idna_injection(void)
{
	static const char *victim[] = {
		"victim@ｅｘａｍｐｌｅ．ｃｏｍ＞　ＮＯＴＩＦＹ＝ＳＵＣＣＥＳＳ",
	};
	static const char *boss = "me@ｅｘａｍｐｌｅ．ｏｒｇ＞　ＲＥＴ＝ＦＵＬＬ"
	    "　ＡＵＴＨ＝ｂｏｓｓ＠ｅｘａｍｐｌｅ．ｏｒｇ";
	struct smtp s;

	refused_locally(&(struct envelope){ .from = "a@b", .rcpt = victim,
	    .nrcpt = 1, .dsn_notify = "FAILURE" }, "address 'victim@ｅｘａｍ"
	    "ｐｌｅ．ｃｏｍ＞　ＮＯＴＩＦＹ＝ＳＵＣＣＥＳＳ' has an invalid "
	    "internationalized domain 'ｅｘａｍｐｌｅ．ｃｏｍ＞　ＮＯＴＩＦＹ＝"
	    "ＳＵＣＣＥＳＳ': it maps to 'example.com> notify=success', which "
	    "is not a host name", "IDNA: fullwidth '＞　ＮＯＴＩＦＹ＝' recipient");
	refused_locally(&(struct envelope){ .from = boss, .rcpt = rcpt2,
	    .nrcpt = 1 }, "address 'me@ｅｘａｍｐｌｅ．ｏｒｇ＞　ＲＥＴ＝ＦＵＬＬ"
	    "　ＡＵＴＨ＝ｂｏｓｓ＠ｅｘａｍｐｌｅ．ｏｒｇ' has an invalid "
	    "internationalized domain 'ｅｘａｍｐｌｅ．ｏｒｇ＞　ＲＥＴ＝ＦＵＬＬ　"
	    "ＡＵＴＨ＝ｂｏｓｓ＠ｅｘａｍｐｌｅ．ｏｒｇ': it maps to 'example.org> "
	    "ret=full auth=boss@example.org', which is not a host name",
	    "IDNA: fullwidth '＞　ＲＥＴ＝ＦＵＬＬ　ＡＵＴＨ＝' sender");

	ready(&s, "250-mx\n250-PIPELINING\n250-8BITMIME\n250 DSN");
	is_int(smtp_mail(&s, &(struct envelope){ .from = "a@b",
	    .rcpt = (const char *[]){ "joerg@ｅｘäｍｐｌｅ．ｏｒｇ" },
	    .nrcpt = 1 }, &info), SMTP_ACT_READ,
	    "IDNA: fullwidth letters and dots alone still map");
	is_str(sent(&s), "MAIL FROM:<a@b>\r\nRCPT TO:<joerg@xn--exmple-cua"
	    ".org>\r\nDATA\r\n", "IDNA: the A-labels on the wire");
	smtp_release(&s);
}

/*
 * Issue 9, finding 8e: DSN values (as a queue file hands them over) are
 * checked right before the wire, like the addresses: no bare CR in RCPT.
 */
static void
test_dsn_values(void)
{
	static const struct {
		const char *notify, *ret, *envid, *msg;
	} bad[] = {
		{ "SUCCESS\rX", NULL, NULL,
		    "invalid DSN NOTIFY value 'SUCCESS\\x0dX'" },
		{ "success", NULL, NULL, "invalid DSN NOTIFY value 'success'" },
		{ NULL, "FULL\r\nRSET", NULL,
		    "invalid DSN RET value 'FULL\\x0d\\x0aRSET'" },
		{ NULL, NULL, "a b", "invalid DSN ENVID value 'a b'" },
	};
	char name[32];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(name, sizeof(name), "DSN value %zu", i);
		refused_locally(&(struct envelope){ .from = "a@b",
		    .rcpt = rcpt2, .nrcpt = 1, .dsn_notify = bad[i].notify,
		    .dsn_return = bad[i].ret, .dsn_envid = bad[i].envid },
		    bad[i].msg, name);
	}
}

/* LMTP: a machine with lmtp set, ready after LHLO. */
static void
lmtp_ready(struct smtp *s, const char *lhlo)
{
	struct smtp_opts o = plain_noauth;

	o.lmtp = true;
	smtp_init(s, &o);
	smtp_start(s);
	smtp_on_reply(s, R("220 fake LMTP"));
	is_str(sent(s), "LHLO client.example\r\n", "LMTP: LHLO, not EHLO");
	if (smtp_on_reply(s, R(lhlo)) != SMTP_ACT_READY)
		printf("# not ready\n");
}

static const char *rcpt3[] = { "a@example.org", "b@example.org",
	"c@example.org" };

/* RFC 2033 4.2: a reply per accepted recipient, in RCPT order. */
static void
test_lmtp_replies(void)
{
	enum envelope_rcpt st[3];
	struct envelope env = { .from = "alice@example.test", .rcpt = rcpt3,
	    .nrcpt = 3, .status = st };
	struct smtp s;

	lmtp_ready(&s, "250-lmtp\n250 PIPELINING");
	smtp_mail(&s, &env, &info);
	sent(&s);
	smtp_on_reply(&s, R("250 ok"));
	for (size_t i = 0; i < 3; i++)
		smtp_on_reply(&s, R("250 ok"));
	is_int(smtp_on_reply(&s, R("354 go")), SMTP_ACT_BODY, "LMTP: body");
	is_int(st[1], ENVELOPE_RCPT_ACCEPTED, "LMTP: b accepted at RCPT");
	smtp_on_body_sent(&s);
	is_int(smtp_on_reply(&s, R("250 2.0.0 a saved")), SMTP_ACT_READ,
	    "LMTP: after the first reply, wait for the next");
	is_int(st[0], ENVELOPE_RCPT_SENT, "LMTP: a has it at once");
	is_int(st[2], ENVELOPE_RCPT_ACCEPTED, "LMTP: c not yet known");
	is_int(smtp_on_reply(&s, R("550 5.1.1 no such user")), SMTP_ACT_READ,
	    "LMTP: b refused, wait for c");
	is_int(smtp_on_reply(&s, R("452 4.2.2 c full")), SMTP_ACT_READY,
	    "LMTP: a reply for each accepted recipient, then ready");
	is_int(st[1], ENVELOPE_RCPT_REJECTED, "LMTP: b rejected");
	is_int(st[2], ENVELOPE_RCPT_DEFERRED, "LMTP: c deferred");
	is_int(s.txn_err.kind, ERR_NOUSER, "LMTP: one rejected -> NOUSER");
	is_str(s.txn_err.message, "recipient 'b@example.org' rejected: 550 "
	    "5.1.1 no such user\nrecipient 'c@example.org' deferred: 452 "
	    "4.2.2 c full", "LMTP: every failed recipient named");
	smtp_release(&s);
}

/* Only deferred ones: ERR_TEMP; every one delivered: success; BDAT. */
static void
test_lmtp_outcomes(void)
{
	enum envelope_rcpt st[2];
	struct envelope env = env2;
	struct smtp s;

	env.status = st;
	lmtp_ready(&s, "250-lmtp\n250-PIPELINING\n250 CHUNKING");
	smtp_mail(&s, &env, &info);
	sent(&s);
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	is_int(smtp_on_reply(&s, R("250 ok")), SMTP_ACT_BODY, "LMTP: BDAT");
	is_str(sent(&s), "BDAT 1234 LAST\r\n", "LMTP: BDAT LAST");
	smtp_on_body_sent(&s);
	smtp_on_reply(&s, R("250 ok"));
	is_int(smtp_on_reply(&s, R("451 4.3.0 later")), SMTP_ACT_READY,
	    "LMTP: two replies after BDAT LAST");
	is_int(s.txn_err.kind, ERR_TEMP, "LMTP: only deferred -> TEMP");
	is_int(st[0], ENVELOPE_RCPT_SENT, "LMTP: bob has it");
	is_int(st[1], ENVELOPE_RCPT_DEFERRED, "LMTP: carol deferred");
	smtp_mail(&s, &env, &info);
	sent(&s);
	is_int(st[0], ENVELOPE_RCPT_UNTRIED, "LMTP: a new transaction "
	    "starts from UNTRIED");
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_body_sent(&s);
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	is_int(smtp_txn_result(&s), 0, "LMTP: all delivered -> success");
	is_int(st[1], ENVELOPE_RCPT_SENT, "LMTP: carol has it");
	is_int(smtp_on_reply(&s, R("250 extra")), SMTP_ACT_FAIL,
	    "LMTP: a reply too many is a protocol error");
	smtp_release(&s);
}

/* LHLO refused: no HELO fall-back (RFC 2033 4.1); SMTP: one verdict. */
static void
test_lmtp_lhlo_and_smtp(void)
{
	enum envelope_rcpt st[2];
	struct envelope env = env2;
	struct smtp s;
	struct smtp_opts o = plain_noauth;

	o.lmtp = true;
	smtp_init(&s, &o);
	smtp_start(&s);
	smtp_on_reply(&s, R("220 fake LMTP"));
	sent(&s);
	is_int(smtp_on_reply(&s, R("500 5.5.1 what")), SMTP_ACT_FAIL,
	    "LMTP: LHLO refused fails");
	is_str(sent(&s), "", "LMTP: no HELO after a refused LHLO");
	smtp_release(&s);

	o.tls = SMTP_TLS_STARTTLS;
	smtp_init(&s, &o);
	smtp_start(&s);
	smtp_on_reply(&s, R("220 fake LMTP"));
	sent(&s);
	smtp_on_reply(&s, R("250-lmtp\n250 STARTTLS"));
	is_str(sent(&s), "STARTTLS\r\n", "LMTP: STARTTLS");
	smtp_on_reply(&s, R("220 go"));
	smtp_on_tls(&s);
	is_str(sent(&s), "LHLO client.example\r\n", "LMTP: LHLO again over "
	    "TLS");
	smtp_release(&s);

	env.status = st;
	ready(&s, "250-mx\n250 PIPELINING");
	smtp_mail(&s, &env, &info);
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("250 ok"));
	smtp_on_reply(&s, R("354 go"));
	smtp_on_body_sent(&s);
	smtp_on_reply(&s, R("250 ok"));
	is_int(st[0] == ENVELOPE_RCPT_SENT && st[1] == ENVELOPE_RCPT_SENT, 1,
	    "SMTP: one 250 for every recipient");
	smtp_release(&s);
}

int
main(void)
{
	test_extensions();
	test_full_session();
	test_no_starttls();
	test_pipelining();
	test_window();
	test_envelope_failures();
	test_data_end();
	test_local_refusals();
	test_greeting_and_auth();
	test_idna_injection();
	test_dsn_values();
	test_lmtp_replies();
	test_lmtp_outcomes();
	test_lmtp_lhlo_and_smtp();
	return done_testing();
}
