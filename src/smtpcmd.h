/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpcmd.h -- the primitives of the SMTP state machine, shared by its two
 * halves: smtp.c (the session and the transaction) and smtpauth.c (AUTH).
 * Internal to them; everyone else uses smtp.h. No I/O: a command goes to
 * s->out, traced; a failure fills s->err and closes the machine.
 */
#ifndef YUBIN_SMTPCMD_H
#define YUBIN_SMTPCMD_H

#include <stdbool.h>

#include "error.h"
#include "reply.h"
#include "smtp.h"

/*
 * Queue one command (CRLF added). When shown is not NULL the -v trace
 * shows it instead of the real line (AUTH payloads: "<redacted>").
 */
void smtp_cmd(struct smtp *s, const char *shown, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Fail the session: s->err = kind, the message, r's text (r may be NULL);
 * state CLOSED. Returns SMTP_ACT_FAIL.
 */
enum smtp_action smtp_fail(struct smtp *s, enum error_kind kind,
    const struct reply *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The error kind of a failed reply: 4xx ERR_TEMP, else perm. */
enum error_kind smtp_kind(const struct reply *r, enum error_kind perm);

/* 421: the server is closing the connection (RFC 5321 3.8). */
bool smtp_closing(const struct reply *r);

#endif
