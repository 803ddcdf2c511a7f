/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpauth.h -- AUTH (RFC 4954) in the SMTP state machine: the mechanism,
 * the exchange, and whether its last line may share a flight with the
 * first transaction. smtp_auth_start() is in smtp.h (the driver calls
 * it); these are smtp.c's. Internal to the smtp module.
 *
 * When smtp_opts.auth_pipeline allows it, the server offers PIPELINING and
 * the mechanism has said its last word (sasl_last(): PLAIN's or EXTERNAL's
 * initial response, SCRAM's answer to the server's signature, LOGIN's
 * password; never a bearer token), the machine does not wait for the 235:
 * it goes READY with the line still in s->out and s->auth_pending set, and
 * smtp_mail() sends it together with MAIL, RCPT (and a small message) --
 * RFC 4954 section 4's exception. Its reply then comes first among the
 * transaction's: smtp_on_auth_in_flight().
 */
#ifndef YUBIN_SMTPAUTH_H
#define YUBIN_SMTPAUTH_H

#include "reply.h"
#include "smtp.h"

/* A reply in state AUTH: a challenge, 235, or a refusal. */
enum smtp_action smtp_on_auth_reply(struct smtp *s, const struct reply *r);

/*
 * The reply to an AUTH that went out with a transaction (auth_pending):
 * 235 -> SMTP_ACT_READ (go on with the transaction's replies); a refusal
 * -> s->auth_failed, s->txn_err says why (as smtp_on_auth_reply() would:
 * 535 is ERR_AUTH with the server's text, 454 ERR_TEMP), SMTP_ACT_READ: the
 * other replies still come and tell whether the message went anyway; a
 * challenge (the server read the next command as a response) or another
 * odd reply -> SMTP_ACT_FAIL, ERR_PROTOCOL.
 */
enum smtp_action smtp_on_auth_in_flight(struct smtp *s,
    const struct reply *r);

#endif
