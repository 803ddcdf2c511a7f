/*
 * account.h -- choose the account to use and turn its raw settings into a
 * checked, complete description with yubin's secure defaults applied:
 *   tls on; port 587 + STARTTLS unless tls_starttls off (then 465 and
 *   implicit TLS); port 465 alone also means implicit TLS; certificates
 *   verified (system trust store or tls_trust_file) with host-name check;
 *   auth on when user is set; timeout 60 s; EHLO name "localhost".
 */
#ifndef YUBIN_ACCOUNT_H
#define YUBIN_ACCOUNT_H

#include <stdbool.h>

#include "transport.h"

struct config;
struct account_conf;
struct error;

enum account_tls {
	ACCOUNT_TLS_OFF,	/* plain text ("tls off" written) */
	ACCOUNT_TLS_STARTTLS,	/* RFC 3207, required */
	ACCOUNT_TLS_IMPLICIT,	/* RFC 8314, TLS from the first byte */
};

struct account {
	const struct account_conf *conf; /* raw settings (owned by config) */
	const char *name;
	const char *host;
	int port;
	enum account_tls tls;
	struct tls_config tlscfg;	/* ready for transport_start_tls() */
	bool auth;			/* authenticate */
	const char *auth_mech;		/* forced method (upper case) or NULL */
	const char *user;
	const char *from;		/* envelope sender, or NULL */
	const char *domain;		/* EHLO argument */
	int timeout_ms;			/* 0 = none */
	const char *logfile;		/* or NULL */
	char mechbuf[32];
};

/*
 * Select the account: name (from -a) if given, else "default" (from
 * "account default : X" or an account literally named default), else the
 * only account if the file has exactly one. Then apply the defaults above
 * and check it: host set, port 1..65535, auth method known, user present
 * when auth is on, tls_fingerprint well-formed, cert and key given together.
 * ERR_CONFIG naming the account and where it was defined ("file:line").
 */
int account_select(const struct config *c, const char *name,
    struct account *out, struct error *err);

/* Apply defaults to and check one account (account_select's second half). */
int account_finish(const struct account_conf *conf, struct account *out,
    struct error *err);

#endif
