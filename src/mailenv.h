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

struct envelope {
	const char *from;		/* "" for the null sender <> */
	const char *const *rcpt;
	size_t nrcpt;
	/* DSN (RFC 3461), sent only when the server offers DSN */
	const char *dsn_notify;		/* NULL, "NEVER", "SUCCESS,DELAY"... */
	const char *dsn_return;		/* NULL, "FULL" or "HDRS" */
	const char *dsn_envid;		/* NULL or printable ASCII */
};

#endif
