/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mailenv.h -- one message's envelope (RFC 5321 MAIL FROM, RCPT TO, and
 * the DSN parameters of RFC 3461) as plain data: no functions, no
 * dependencies, so every layer can hold one. envelope.c decides it,
 * smtp.c puts it on the wire (and checks its addresses), queue.c keeps it.
 */
#ifndef YUBIN_MAILENV_H
#define YUBIN_MAILENV_H

#include <stddef.h>

/*
 * What one transaction did for each recipient. With SMTP a message goes to
 * all of its recipients or to none; with LMTP (RFC 2033) the server
 * answers for each recipient after the message, so some may have it and
 * others not: what the caller queues, reports or drops follows this.
 */
enum envelope_rcpt {
	ENVELOPE_RCPT_UNTRIED = 0,	/* not known to have it */
	ENVELOPE_RCPT_ACCEPTED,		/* RCPT taken; no verdict yet */
	ENVELOPE_RCPT_SENT,		/* the server took it for this one */
	ENVELOPE_RCPT_DEFERRED,		/* 4xx for this one */
	ENVELOPE_RCPT_REJECTED,		/* 5xx for this one */
};

struct envelope {
	const char *from;		/* "" for the null sender <> */
	const char *const *rcpt;
	size_t nrcpt;
	/* DSN (RFC 3461), sent only when the server offers DSN */
	const char *dsn_notify;		/* NULL, "NEVER", "SUCCESS,DELAY"... */
	const char *dsn_return;		/* NULL, "FULL" or "HDRS" */
	const char *dsn_envid;		/* NULL or printable ASCII */
	/*
	 * NULL, or nrcpt entries the next transaction fills as the server
	 * answers (smtp.c), so they hold what is known even when the
	 * connection fails half-way.
	 */
	enum envelope_rcpt *status;
};

#endif
