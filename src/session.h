/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session.h -- one connection to the account's server: drives transport <->
 * reply parser <-> smtp state machine, with the account's timeout on every
 * wait. Built for several messages over one connection (queue flush).
 */
#ifndef YUBIN_SESSION_H
#define YUBIN_SESSION_H

#include <stddef.h>

struct account;
struct envelope;
struct error;
struct message;
struct session;

/*
 * Connect, greeting, EHLO, STARTTLS (or implicit TLS), EHLO, AUTH. On
 * success the session is ready for session_send().
 */
int session_open(struct session **out, const struct account *a,
    struct error *err);

/*
 * One transaction: MAIL, RCPT..., DATA, m->size bytes streamed from m->fd
 * (from m->offset, dot-stuffed, in large writes), final dot; or BDAT. 0 only after 250
 * to the final dot. On -1, err says why; session_usable() tells whether the
 * connection can carry another message.
 */
int session_send(struct session *s, const struct envelope *env,
    struct message *m, struct error *err);

int session_usable(const struct session *s);

/* Facts for the log line. */
const char *session_tls(const struct session *s);	/* "TLS1.3/..." */
const char *session_mech(const struct session *s);	/* "PLAIN" or "" */
const char *session_reply(const struct session *s);	/* last reply */

/* QUIT when still usable, close, free. NULL is fine. */
void session_close(struct session *s);

#endif
