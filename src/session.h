/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session.h -- one connection to the account's server: drives transport <->
 * reply parser <-> smtp state machine, with the account's timeout on every
 * wait. Built for several messages over one connection (queue flush).
 */
#ifndef YUBIN_SESSION_H
#define YUBIN_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct account;
struct envelope;
struct message;
struct session;

/* What the logfile line says about a connection (log.h). */
struct session_facts {
	char tls[128];			/* "TLS1.3/..." or "none" */
	char mech[32];			/* AUTH mechanism, or "" */
	char reply[ERROR_REPLY_MAX];	/* reply to the last message, or "" */
};

/* When session_open() learns whether AUTH worked. */
enum session_auth {
	SESSION_AUTH_WAIT,	/* in session_open(): it waits for the 235 */
	SESSION_AUTH_PIPELINE,	/* when the server offers PIPELINING and the
				   mechanism allows it (smtpauth.h), AUTH
				   goes in one flight with the first
				   session_send()'s commands, and a refusal
				   is that call's error (ERR_AUTH, the
				   server's reply, as session_open() would
				   give it); else as SESSION_AUTH_WAIT */
};

/*
 * Connect, greeting, EHLO, STARTTLS (or implicit TLS), EHLO, AUTH (see
 * enum session_auth). On success *out is ready for session_send()
 * (session_close() it). On failure (-1, err says why) everything is closed
 * and freed already, as transport_connect() does: *out is NULL; facts (may
 * be NULL) then tells how far the attempt got (TLS started, mechanism
 * tried) for the log line.
 */
int session_open(struct session **out, const struct account *a,
    enum session_auth auth, struct session_facts *facts, struct error *err);

/*
 * One transaction: MAIL, RCPT..., DATA, m->size bytes streamed from m->fd
 * (from m->offset, dot-stuffed, in large writes), final dot; or BDAT (in
 * the same flight as MAIL and RCPT when smtp.h says it may). 0 only after
 * 250 to the final dot (or BDAT LAST). On -1, err says why;
 * session_usable() tells whether the connection can carry another
 * message.
 */
int session_send(struct session *s, const struct envelope *env,
    struct message *m, struct error *err);

/* Whether s (NULL: false) can carry another message. */
bool session_usable(const struct session *s);

/* The facts of s for the log line; s NULL: never connected ("none"). */
void session_facts(const struct session *s, struct session_facts *f);

/*
 * QUIT when still usable, without waiting for the 221 (what the server
 * already sent is read, nothing is awaited: transport_close()), close,
 * free. NULL is fine.
 */
void session_close(struct session *s);

#endif
