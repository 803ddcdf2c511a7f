/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * setup.h -- --configure ADDRESS (msmtp): an account block for the
 * address, from the domain's RFC 6186 SRV records.
 */
#ifndef YUBIN_SETUP_H
#define YUBIN_SETUP_H

#include <stdio.h>

struct error;

/*
 * Look up _submissions._tcp.DOMAIN (implicit TLS, RFC 8314), then
 * _submission._tcp.DOMAIN (STARTTLS), as msmtp does, and print an
 * account block for the best record: the same lines as msmtp, and for a
 * Gmail or Microsoft 365 server the OAuth 2.0 preset (oauth2_provider,
 * the whole address as user). ERR_DATAERR for an address without a
 * domain; ERR_NOHOST (68, as msmtp) when the domain has neither record.
 */
int setup_print(FILE *f, const char *address, struct error *err);

#endif
