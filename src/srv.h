/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * srv.h -- DNS SRV records (RFC 2782) through the system's resolver
 * (res_query(3), so /etc/resolv.conf decides which server is asked).
 */
#ifndef YUBIN_SRV_H
#define YUBIN_SRV_H

#include <stddef.h>

struct error;

#define SRV_MAX 16
#define SRV_TARGET_MAX 256

struct srv_record {
	unsigned priority;
	unsigned weight;
	unsigned port;
	char target[SRV_TARGET_MAX];	/* without the final dot */
};

/*
 * The SRV records of name (at most max), best first: lowest priority,
 * then highest weight. *n 0: none (NXDOMAIN, no SRV record, or only the
 * target "." that says the service is not offered). -1: ERR_TEMP when the
 * resolver could not get an answer (try again), ERR_PROTOCOL for an
 * answer that cannot be parsed.
 */
int srv_lookup(const char *name, struct srv_record *out, size_t max,
    size_t *n, struct error *err);

#endif
