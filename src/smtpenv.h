/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpenv.h -- the SMTP state machine's check of an envelope against the
 * server's capabilities (SMTPUTF8 or A-labels, DSN, 8BITMIME, SIZE), before
 * MAIL FROM goes out. Internal to smtp.c; no I/O.
 */
#ifndef YUBIN_SMTPENV_H
#define YUBIN_SMTPENV_H

#include <stdbool.h>

#include "mailenv.h"
#include "smtp.h"

/*
 * The envelope as it will be written, checked after its last change (the
 * A-labels of IDNA, which then become s->env), so what reaches the wire
 * has passed the same rule as the command line. -1 with s->txn_err.
 */
int smtp_check_envelope(struct smtp *s, const struct envelope *env);

/* Whether an address of env is not ASCII (SMTPUTF8 on MAIL FROM). */
bool smtp_env_8bit(const struct envelope *env);

/* Free the A-label copy of the envelope that smtp_check_envelope() made. */
void smtp_free_ascii(struct smtp *s);

#endif
