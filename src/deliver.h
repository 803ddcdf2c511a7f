/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * deliver.h -- one message to the account's server, the same way for the
 * direct send (main.c) and for the queue (yubin -q, the flush after a
 * send, the background flush: flush.h's engine through deliver_transport):
 * open a session for the account, send the message, write the logfile
 * line, close.
 *
 *	deliver_init(&d, &account);
 *	if (deliver_open(&d, SESSION_AUTH_PIPELINE, err) == 0)
 *		rc = deliver_send(&d, env, m, err);
 *	deliver_log(&d, env, m, rc == 0 ? NULL : err);
 *	deliver_close(&d);
 */
#ifndef YUBIN_DELIVER_H
#define YUBIN_DELIVER_H

#include <stdbool.h>

#include "session.h"

struct account;
struct envelope;
struct error;
struct flush_transport;
struct message;

struct delivery {
	const struct account *a;
	struct session *s;		/* open, or NULL */
	struct session_facts facts;	/* of the last deliver_open() that
					   failed, for deliver_log() */
};

/* Nothing open yet; a is kept (not copied) and must outlive d. */
void deliver_init(struct delivery *d, const struct account *a);

/*
 * Connect and authenticate (session_open(): auth says whether AUTH may
 * wait for the first deliver_send()); on failure nothing is open.
 */
int deliver_open(struct delivery *d, enum session_auth auth,
    struct error *err);

/* One message over the open session (session_send()); 0 after the 250. */
int deliver_send(struct delivery *d, const struct envelope *env,
    struct message *m, struct error *err);

/* Whether d is open and can carry another message. */
bool deliver_usable(const struct delivery *d);

/*
 * The logfile line (log_message()) and the syslog line (log_syslog()) for
 * one message when the account has a logfile or syslog: err NULL for a message the server took, else why not. Works at
 * every stage: never connected (tls "none"), a connection that failed
 * (what deliver_open() got to), an open session.
 */
void deliver_log(const struct delivery *d, const struct envelope *env,
    const struct message *m, const struct error *err);

/* QUIT when still usable, close; d can be opened again. */
void deliver_close(struct delivery *d);

/*
 * The flush engine's transport (flush.h) over SMTP. open: the queued
 * message's config file (config_load(); "" is the default lookup) and
 * account (account_select()), then deliver_open() with SESSION_AUTH_WAIT
 * (a refused AUTH fails the open: the engine defers the account's
 * messages at once rather than connect again for each); send:
 * deliver_send() and deliver_log(). Its arg is NULL, or a struct deliver_reuse: the
 * caller's open delivery for one account, used first instead of
 * connecting again (the opportunistic flush after a send; neither closed
 * nor freed by the flush).
 */
extern const struct flush_transport deliver_transport;

struct deliver_reuse {
	const char *config;		/* stored config path ("": default) */
	const char *account;		/* account name */
	struct delivery *d;		/* open for that account */
};

#endif
