/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qsplit.h -- a message that reached some recipients and not others (LMTP,
 * or every RCPT refused, some 4xx some 5xx): which part is queued again,
 * which is reported, and the error that belongs to each part. No I/O.
 */
#ifndef YUBIN_QSPLIT_H
#define YUBIN_QSPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "mailenv.h"

/*
 * After a transaction that reached some recipients and not others (LMTP's
 * reply per recipient; env->status says who): queue_envelope_split()
 * tells whether it did (some SENT, some not; or none SENT, each DEFERRED
 * or REJECTED, some of both: the deferred ones are retried alone, the
 * rejected ones reported); queue_envelope_part() puts
 * into out env with only the recipients still to try (rejected false:
 * neither SENT nor REJECTED) or only the rejected ones, out->rcpt
 * allocated (free() it), and returns how many. Those are what gets queued
 * again and what gets reported, so nobody who has the message gets it
 * twice.
 */
bool queue_envelope_split(const struct envelope *env);
size_t queue_envelope_part(const struct envelope *env, bool rejected,
    struct envelope *out);
/*
 * why as it concerns part only: of its lines "recipient 'x' ...", those
 * naming a recipient of part (the others kept as they are), so that a
 * part's queue file and failure report tell about its own recipients.
 */
void queue_envelope_why(const struct error *why, const struct envelope *part,
    struct error *out);
/*
 * The enhanced status code ("5.2.2") of rcpt's own reply in error (such a
 * why as one line: its "recipient 'x' how: NNN X.Y.Z text" parts) into
 * esc (size bytes), or "" when it has none: a failure report's Status per
 * recipient.
 */
void queue_rcpt_esc(const char *error, const char *rcpt, char *esc,
    size_t size);

#endif
