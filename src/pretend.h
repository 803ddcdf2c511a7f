/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pretend.h -- -P / --pretend (msmtp): the settings the chosen account
 * would send with, one "key = value" line each, as msmtp prints them.
 */
#ifndef YUBIN_PRETEND_H
#define YUBIN_PRETEND_H

#include <stdio.h>

struct account;

/*
 * "using account NAME from FILE" (where it is defined: a file, "command
 * line" for --host, "SMTPSERVER and EMAIL"), then every key of a->conf in the order
 * of conffield.h: "key = value", "(not set)" for a value not set, "*" for
 * a secret that is set. The values yubin works out (port, tls,
 * tls_starttls, auth, from, domain) are shown as they will be used.
 */
void pretend_print(FILE *f, const struct account *a);

#endif
