/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * serverinfo.h -- -S / --serverinfo (msmtp): what the account's server
 * says about itself (greeting, EHLO capabilities, TLS session and
 * certificate, AUTH methods), for a person or, with --json, a program.
 */
#ifndef YUBIN_SERVERINFO_H
#define YUBIN_SERVERINFO_H

#include <stdbool.h>
#include <stdio.h>

struct account;
struct error;

/*
 * Connect as for a message (TLS as the account says, no AUTH), print to f
 * and QUIT. Every text from the server is printed on one line each with
 * its control characters replaced ('?'). -1 with err as a send would
 * fail (75 for a connection refused, 76 for a certificate refused, ...).
 */
int serverinfo_run(FILE *f, const struct account *a, bool json,
    struct error *err);

#endif
