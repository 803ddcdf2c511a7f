/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpcmd.c -- the state machine's primitives; see smtpcmd.h. The one place
 * that changes state (smtp_set_state(), traced at -v -v) and the one that
 * queues a command (traced at -v, secrets shown redacted).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtpcmd.h"
#include "util.h"

static const char *const smtp_state_names[] = {
	[SMTP_STATE_GREETING] = "GREETING",
	[SMTP_STATE_EHLO] = "EHLO",
	[SMTP_STATE_HELO] = "HELO",
	[SMTP_STATE_STARTTLS] = "STARTTLS",
	[SMTP_STATE_TLS] = "TLS",
	[SMTP_STATE_AUTH_WAIT] = "AUTH_WAIT",
	[SMTP_STATE_AUTH] = "AUTH",
	[SMTP_STATE_READY] = "READY",
	[SMTP_STATE_ENVELOPE] = "ENVELOPE",
	[SMTP_STATE_BODY] = "BODY",
	[SMTP_STATE_DATA_END] = "DATA_END",
	[SMTP_STATE_QUIT] = "QUIT",
	[SMTP_STATE_CLOSED] = "CLOSED",
};

const char *
smtp_state_name(enum smtp_state st)
{
	if ((size_t)st < ARRAY_SIZE(smtp_state_names))
		return smtp_state_names[st];
	return "?";
}

void
smtp_set_state(struct smtp *s, enum smtp_state st)
{
	if (log_get_verbose() >= 2 && s->state != st)
		log_verbose("smtp state %s -> %s", smtp_state_name(s->state),
		    smtp_state_name(st));
	s->state = st;
}

void
smtp_cmd(struct smtp *s, const char *shown, const char *fmt, ...)
{
	va_list ap;
	char *line;
	size_t n;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	n = strlen(line);
	log_proto('>', shown != NULL ? shown : line, shown != NULL ?
	    strlen(shown) : n);
	/*
	 * Cannot fail with the window and address caps; if it did, the cap
	 * is the memory commands may take: util's out-of-memory exit.
	 */
	if (dynbuf_add(&s->out, line, n) < 0 ||
	    dynbuf_add(&s->out, "\r\n", 2) < 0)
		util_out_of_memory();
	util_wipe(line, n);
	free(line);
}

enum smtp_action
smtp_fail(struct smtp *s, enum error_kind kind, const struct reply *r,
    const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_error(&s->err, kind, r, "%s", msg);
	smtp_set_state(s, SMTP_STATE_CLOSED);
	return SMTP_ACT_FAIL;
}

enum error_kind
smtp_kind(const struct reply *r, enum error_kind perm)
{
	return reply_temp(r) ? ERR_TEMP : perm;
}

bool
smtp_closing(const struct reply *r)
{
	return r->code == 421;
}
