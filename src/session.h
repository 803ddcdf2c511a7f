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
#include "reply.h"
#include "tlsconf.h"

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
 * 250 to the final dot or BDAT LAST (LMTP: 250 for every recipient, each
 * reply waited for with the account's timeout). On -1, err says why, and
 * env->status (when not NULL) who has the message all the same (LMTP);
 * session_usable() tells whether the connection can carry another message.
 */
int session_send(struct session *s, const struct envelope *env,
    struct message *m, struct error *err);

/* Whether s (NULL: false) can carry another message. */
bool session_usable(const struct session *s);

/* The facts of s for the log line; s NULL: never connected ("none"). */
void session_facts(const struct session *s, struct session_facts *f);

/* What --serverinfo shows: the server as it presents itself. */
struct session_probe {
	char peer[128];			/* "127.0.0.1 port 587" */
	char greeting[REPLY_TEXT_MAX];	/* the 220's lines, '\n'-joined */
	char ehlo[REPLY_TEXT_MAX];	/* the last EHLO (after TLS): the
					   server's name, then a keyword a
					   line */
	bool esmtp;			/* EHLO worked (else HELO) */
	struct smtp_caps caps;		/* parsed from ehlo */
	char tls[128];			/* as session_facts, or "none" */
	bool has_cert;
	struct tls_cert_info cert;
};

/*
 * Connect, greeting, EHLO, STARTTLS (or implicit TLS), EHLO as for a
 * message, without AUTH; fill p, QUIT. -1 with err as session_open().
 */
int session_probe(const struct account *a, struct session_probe *p,
    struct error *err);

/*
 * --rmqs (RFC 1985): "ETRN arg" on a session ready for a message (after
 * AUTH); 0 when the server accepted it (2xx; its reply, formatted, in
 * reply), else -1: ERR_UNAVAILABLE with the server's reply (as msmtp:
 * exit 69, also for 4xx), or an I/O error.
 */
int session_etrn(struct session *s, const char *arg, char *reply,
    size_t size, struct error *err);

/*
 * QUIT when still usable, without waiting for the 221 (what the server
 * already sent is read, nothing is awaited: transport_close()), close,
 * free. NULL is fine.
 */
void session_close(struct session *s);

#endif
