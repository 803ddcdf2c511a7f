/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * srv.c -- see srv.h.
 */
#include "autoconfig.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "srv.h"
#include "util.h"

#define SRV_ANSWER_MAX 65536

static int
srv_cmp(const void *a, const void *b)
{
	const struct srv_record *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return 0;
}

/* One answer record into out; 0, or 1 when it is not a usable SRV. */
static int
srv_record(ns_msg *msg, ns_rr *rr, struct srv_record *out)
{
	const unsigned char *rd = ns_rr_rdata(*rr);

	if (ns_rr_type(*rr) != ns_t_srv || ns_rr_rdlen(*rr) < 7)
		return 1;
	out->priority = ns_get16(rd);
	out->weight = ns_get16(rd + 2);
	out->port = ns_get16(rd + 4);
	if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd + 6,
	    out->target, sizeof(out->target)) < 0)
		return -1;
	/* "." (expanded to ""): the service is not offered here */
	return out->target[0] == '\0' || out->port == 0 ? 1 : 0;
}

static int
srv_parse(const unsigned char *ans, int len, const char *name,
    struct srv_record *out, size_t max, size_t *n, struct error *err)
{
	ns_msg msg;
	ns_rr rr;
	int r;

	if (ns_initparse(ans, len, &msg) < 0)
		return error_set(err, ERR_PROTOCOL, "cannot parse the DNS "
		    "answer for '%s'", name);
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && *n < max; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 ||
		    (r = srv_record(&msg, &rr, &out[*n])) < 0)
			return error_set(err, ERR_PROTOCOL, "cannot parse the "
			    "DNS answer for '%s'", name);
		if (r == 0)
			(*n)++;
	}
	qsort(out, *n, sizeof(*out), srv_cmp);
	return 0;
}

int
srv_lookup(const char *name, struct srv_record *out, size_t max,
    size_t *n, struct error *err)
{
	unsigned char *ans = xmalloc(SRV_ANSWER_MAX);
	int len, rc = 0;

	*n = 0;
	len = res_query(name, ns_c_in, ns_t_srv, ans, SRV_ANSWER_MAX);
	if (len < 0 && h_errno == TRY_AGAIN)
		rc = error_set(err, ERR_TEMP, "no answer from DNS for '%s' "
		    "(try again later)", name);
	else if (len > 0)
		rc = srv_parse(ans, len, name, out, max, n, err);
	free(ans);
	return rc;
}
