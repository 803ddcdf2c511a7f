/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtp.h -- the SMTP client state machine (RFC 5321, 3207, 4954, 2920, 1870,
 * 6152). It never touches a socket (OpenSMTPD's smtp_client.c): the session
 * driver feeds it replies and performs the action it asks for.
 *
 *	act = smtp_start(&smtp);
 *	for (;;) switch (act) {
 *	case SMTP_ACT_READ:   write smtp.out, read a reply, act = smtp_on_reply()
 *	case SMTP_ACT_TLS:    write smtp.out, check nothing is buffered
 *			      (injection), handshake, act = smtp_on_tls()
 *	case SMTP_ACT_AUTH:   get the password, act = smtp_auth_start()
 *	case SMTP_ACT_BODY:   write smtp.out, stream the message (raw after
 *			      BDAT when smtp.bdat, else dot-stuffed and
 *			      the final dot), act = smtp_on_body_sent()
 *	case SMTP_ACT_READY:  idle: smtp_mail() for a message, or smtp_quit()
 *	case SMTP_ACT_CLOSE:  write smtp.out, close (after QUIT: its reply is
 *			      not awaited, the outcome is known)
 *	case SMTP_ACT_FAIL:   write smtp.out, close; smtp.err says why
 *	}
 *
 * Commands are appended to smtp.out (CRLF-terminated, possibly several when
 * pipelining); the buffer may hold secrets (AUTH) and is wiped when reset.
 * Every command is traced through log_proto() with AUTH payloads redacted.
 *
 * Round trips (with PIPELINING; without it, one command at a time): the
 * driver writes smtp.out only when it must wait, so everything queued
 * until then is one flight. With opts.auth_pipeline, AUTH's last line
 * waits for the first transaction (smtpauth.h): one flight then holds
 * AUTH, MAIL, the RCPTs and -- one recipient, CHUNKING, a message up to
 * 256 KiB -- BDAT LAST and the message (smtp_mail() returns
 * SMTP_ACT_BODY at once). Several recipients: the message goes only once
 * every RCPT was accepted (all or nothing), in a second flight.
 */
#ifndef YUBIN_SMTP_H
#define YUBIN_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "mailenv.h"
#include "reply.h"
#include "util.h"

struct sasl;

enum smtp_state {
	SMTP_STATE_GREETING,	/* waiting for 220 */
	SMTP_STATE_EHLO,
	SMTP_STATE_HELO,
	SMTP_STATE_STARTTLS,	/* waiting for 220 to STARTTLS */
	SMTP_STATE_TLS,		/* driver is doing the handshake */
	SMTP_STATE_AUTH_WAIT,	/* driver fetches credentials */
	SMTP_STATE_AUTH,	/* AUTH exchange in progress */
	SMTP_STATE_READY,	/* idle between transactions */
	SMTP_STATE_ENVELOPE,	/* MAIL / RCPT / DATA replies pending */
	SMTP_STATE_BODY,	/* driver streams the message */
	SMTP_STATE_DATA_END,	/* waiting for the reply to the final dot */
	SMTP_STATE_QUIT,
	SMTP_STATE_CLOSED,
};

enum smtp_action {
	SMTP_ACT_READ,
	SMTP_ACT_TLS,
	SMTP_ACT_AUTH,
	SMTP_ACT_BODY,
	SMTP_ACT_READY,
	SMTP_ACT_CLOSE,
	SMTP_ACT_FAIL,
};

enum smtp_tls {
	SMTP_TLS_NONE,		/* clear text */
	SMTP_TLS_STARTTLS,	/* STARTTLS required */
	SMTP_TLS_IMPLICIT,	/* already TLS when the greeting comes */
};

struct smtp_opts {
	const char *ehlo_domain;
	enum smtp_tls tls;
	bool auth;		/* authenticate before MAIL */
	const char *auth_mech;	/* forced mechanism or NULL: choose */
	const char *user;
	bool oauth;		/* the secret is an OAuth 2.0 bearer token:
				   OAUTHBEARER, else XOAUTH2 */
	size_t pipeline_window;	/* max commands in flight (0: 100) */
	bool lmtp;		/* RFC 2033: LHLO, a reply per recipient
				   after the message */
	bool dsn_optional;	/* DSN asked for, server without DSN: send
				   without it and warn (else ERR_UNAVAILABLE,
				   as msmtp) */
	bool auth_pipeline;	/* AUTH may go with the first transaction's
				   commands (smtpauth.h) */
};

/* What the state machine needs to know about the message. */
struct smtp_msginfo {
	off_t size;		/* octets as sent (canonical CRLF form) */
	bool eightbit;
	bool utf8_header;	/* SMTPUTF8 on MAIL when the server has it */
};

enum smtp_cmd {
	SMTP_CMD_RSET, SMTP_CMD_AUTH, SMTP_CMD_MAIL, SMTP_CMD_RCPT,
	SMTP_CMD_DATA, SMTP_CMD_BDAT,
};

struct smtp_pending {
	enum smtp_cmd cmd;
	size_t rcpt;		/* recipient index for SMTP_CMD_RCPT */
};

struct smtp {
	struct smtp_opts opts;
	enum smtp_state state;
	struct dynbuf out;		/* commands to send (secret) */
	struct smtp_caps caps;		/* from the latest EHLO */
	bool tls_active;
	bool esmtp;			/* EHLO worked (else HELO) */
	struct sasl *sasl;
	char mech[32];			/* AUTH mechanism in use, or "" */
	bool auth_may_retry;		/* a 535 asks for another token */
	bool auth_refused;		/* ... and it came: SMTP_ACT_AUTH again */
	bool auth_pending;		/* AUTH's last line waits in out for
					   the first transaction's commands */
	bool auth_failed;		/* ... and the server refused it:
					   txn_err says why; no more messages */

	/* current transaction */
	const struct envelope *env;
	struct envelope ascii_env;	/* env with A-label domains (IDN) */
	char **ascii;			/* its strings: from, then rcpts */
	size_t nascii;
	struct smtp_msginfo info;
	bool need_rset;			/* a failed transaction left state */
	bool mail_queued;
	bool bdat;			/* body goes as BDAT (RFC 3030) */
	bool body_flying;		/* ... with the envelope, before its
					   replies */
	bool body_accepted;		/* ... and the server took it */
	size_t next_rcpt;		/* next RCPT to queue */
	bool data_queued;
	struct smtp_pending *pending;	/* FIFO of commands awaiting replies */
	size_t npending, pending_head, pending_cap;
	size_t rcpt_ok, rcpt_temp, rcpt_perm;
	enum envelope_rcpt *rcpt_st;	/* per recipient (nrcpt) */
	enum envelope_rcpt *rcpt_out;	/* the caller's env->status, or NULL */
	size_t lmtp_next;		/* LMTP: recipient of the next reply */
	size_t lmtp_sent, lmtp_temp, lmtp_perm; /* LMTP: replies after it */
	int rcpt_temp_code;		/* the first 4xx to a RCPT, 0 */
	char rcpt_temp_esc[16];		/* its enhanced status code */
	struct dynbuf rcpt_errors;	/* one line per rejected recipient */
	struct error txn_err;		/* outcome of the transaction */
	char last_reply[ERROR_REPLY_MAX]; /* formatted final reply */

	struct error err;		/* why SMTP_ACT_FAIL */
};

void smtp_init(struct smtp *s, const struct smtp_opts *o);
void smtp_release(struct smtp *s);

/* Begin: wait for the greeting. */
enum smtp_action smtp_start(struct smtp *s);

/* A complete reply arrived. */
enum smtp_action smtp_on_reply(struct smtp *s, const struct reply *r);

/* TLS is up (after STARTTLS): forget capabilities, EHLO again. */
enum smtp_action smtp_on_tls(struct smtp *s);

/*
 * Credentials for AUTH (after SMTP_ACT_AUTH). password may be NULL for
 * EXTERNAL. cb_type/cb_data: channel binding from the transport, or NULL.
 * Chooses the mechanism, starts the exchange. may_retry (an OAuth 2.0
 * token that came from a cache): a 535 then sets auth_refused and returns
 * SMTP_ACT_AUTH once more, for a fresh token, instead of failing.
 */
enum smtp_action smtp_auth_start(struct smtp *s, const char *hostname,
    const char *password, const char *cb_type, const char *cb_data,
    bool may_retry);

/*
 * Start a transaction (state must be READY). Checks every address with
 * address_check() (no CR, LF, NUL, '<', '>', no leading '-', ...); a bad
 * one fails the transaction with ERR_DATAERR before anything is sent. A
 * UTF-8 address goes as is with SMTPUTF8 (RFC 6531); without it the domain
 * is converted to A-labels (IDNA), a UTF-8 local part is ERR_DATAERR, and
 * the converted addresses -- what the commands will hold -- pass
 * address_check() again. Refuses
 * locally (ERR_UNAVAILABLE) when the server's SIZE limit is smaller than
 * info->size. Queues a waiting AUTH line (auth_pending), RSET (if
 * needed), MAIL, RCPTs and DATA, pipelined when the server offers
 * PIPELINING; or, for a message that may go with them, BDAT LAST.
 * Returns SMTP_ACT_READ, SMTP_ACT_BODY (the message goes now, the replies
 * come after smtp_on_body_sent()), or SMTP_ACT_READY with txn_err set when
 * refused locally.
 */
enum smtp_action smtp_mail(struct smtp *s, const struct envelope *env,
    const struct smtp_msginfo *info);

/* The driver has written the body and the final dot. */
enum smtp_action smtp_on_body_sent(struct smtp *s);

/*
 * Queue QUIT (a waiting AUTH line is dropped: nothing needs it); returns
 * SMTP_ACT_CLOSE: write it and close, the 221 is not awaited.
 */
enum smtp_action smtp_quit(struct smtp *s);

/* The one way to change state; traces the change at -v level 2. */
void smtp_set_state(struct smtp *s, enum smtp_state st);
const char *smtp_state_name(enum smtp_state st);

/*
 * Outcome of the last transaction once SMTP_ACT_READY comes back after
 * smtp_mail(): 0 and txn_err.kind == ERR_NONE on success (250 to the final
 * dot; with LMTP, 250 for every recipient); otherwise -1 with txn_err
 * filled: with LMTP, one line per recipient that did not get it
 * ("recipient 'x' deferred: 452 ..." / "... rejected: 552 ..."),
 * ERR_NOUSER when one was rejected, else ERR_TEMP; env->status then says
 * who got it.
 */
static inline int smtp_txn_result(const struct smtp *s)
{
	return s->txn_err.kind == ERR_NONE ? 0 : -1;
}

#endif
