/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * account.h -- choose the account to use and turn its raw settings into a
 * checked, complete description with yubin's secure defaults applied:
 *   tls on; port 587 + STARTTLS unless tls_starttls off (then 465 and
 *   implicit TLS); port 465 alone also means implicit TLS; certificates
 *   verified (system trust store or tls_trust_file) with host-name check;
 *   auth on when user is set; timeout 60 s; EHLO name "localhost".
 * msmtp's %U %H %C %M are replaced in 'from' and 'domain' (subst.h), and
 * auto_from makes the sender %U@maildomain, over -f (as msmtp).
 * With oauth2_provider, AUTH uses OAUTHBEARER or XOAUTH2 with a token that
 * oauth.h fetches (auth on picks OAUTHBEARER when offered); another
 * method, or auth off, is a configuration error.
 */
#ifndef YUBIN_ACCOUNT_H
#define YUBIN_ACCOUNT_H

#include <stdbool.h>

#include "config.h"
#include "dial.h"
#include "tlsconf.h"

struct account_conf;
struct error;

enum account_tls {
	ACCOUNT_TLS_OFF,	/* plain text ("tls off" written) */
	ACCOUNT_TLS_STARTTLS,	/* RFC 3207, required */
	ACCOUNT_TLS_IMPLICIT,	/* RFC 8314, TLS from the first byte */
};

enum account_oauth_provider {
	ACCOUNT_OAUTH_NONE,		/* no oauth2_provider: passwords */
	ACCOUNT_OAUTH_GOOGLE,
	ACCOUNT_OAUTH_MICROSOFT,
	ACCOUNT_OAUTH_CUSTOM,
};

#define ACCOUNT_URL_MAX 512
#define ACCOUNT_NAME_MAX 1024	/* from, domain after %U %H %C %M */

/*
 * OAuth 2.0 settings with the provider's preset filled in (yubinrc(5),
 * OAUTH2). An endpoint that does not exist is "".
 */
struct account_oauth {
	enum account_oauth_provider provider;
	const char *name;		/* "Google", "Microsoft 365", ... */
	const char *client_id;
	const char *client_secret;	/* or NULL */
	const char *client_secret_eval;	/* or NULL */
	const char *scope;
	const char *trust_file;		/* or NULL: the system store */
	char auth_url[ACCOUNT_URL_MAX];
	char device_url[ACCOUNT_URL_MAX];
	char token_url[ACCOUNT_URL_MAX];
};

struct account {
	const struct account_conf *conf; /* raw settings (owned by config) */
	const char *name;
	const char *host;
	int port;
	struct dial_route route;	/* socket, SOCKS5 proxy, source_ip */
	enum account_tls tls;
	bool lmtp;			/* protocol lmtp (RFC 2033) */
	bool protocol_override;		/* --protocol changed it */
	struct tls_config tlscfg;	/* ready for transport_start_tls() */
	bool auth;			/* authenticate */
	const char *auth_mech;		/* forced method (upper case) or NULL */
	const char *user;
	const char *from;		/* envelope sender, or NULL */
	const char *domain;		/* EHLO argument */
	char frombuf[ACCOUNT_NAME_MAX];	/* from, substituted (or auto_from) */
	char domainbuf[ACCOUNT_NAME_MAX];
	int timeout_ms;			/* 0 = none */
	int queue;			/* enum conf_queue */
	long queue_max_age;		/* seconds */
	const char *logfile;		/* or NULL; "-": standard output */
	const char *logfile_time_format; /* strftime(3), or NULL */
	const char *syslog;		/* "LOG_MAIL" ..., or NULL: none */
	char mechbuf[32];
	struct account_oauth oauth;	/* provider NONE: no OAuth 2.0 */

	/* the message and its envelope (msmtp's keys, see yubinrc(5)) */
	bool from_pattern;		/* from holds a wildcard: * ? [ */
	const char *from_full_name;	/* or NULL */
	bool allow_from_override;	/* -f / -F may replace from */
	enum conf_set_from set_from_header;
	bool set_date_header;		/* add a missing Date: */
	bool set_msgid_header;		/* add a missing Message-ID: */
	bool remove_bcc_headers;
	bool undisclosed_recipients;
	const char *aliases;		/* aliases file or NULL */
	const char *maildomain;		/* or NULL */
	const char *dsn_notify;		/* NULL, "NEVER", "SUCCESS,DELAY"... */
	const char *dsn_return;		/* NULL, "FULL" or "HDRS" */
	bool dsn_optional;		/* dsn_unsupported send: a server
					   without DSN gets the message
					   without it (and a warning) */
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

/*
 * msmtp's choice by envelope sender: with name (-a) given, or sender NULL,
 * the same as account_select(). Otherwise the first account in file order
 * whose 'from' matches sender (account_from_matches()), trying sender as it
 * is first and then without a "+detail" in its local part
 * (user+lists@example.org matches user@example.org); when none matches,
 * as account_select() without a name.
 */
int account_select_by_from(const struct config *c, const char *name,
    const char *sender, struct account *out, struct error *err);

/*
 * Whether addr matches a 'from' value: equal ignoring case, or, when from
 * holds one of * ? [, the shell wildcard pattern matches (fnmatch(3),
 * ignoring case).
 */
bool account_from_matches(const char *from, const char *addr);

/*
 * --protocol: LMTP (lmtp true) or SMTP instead of what the file says. LMTP
 * needs a port written in the file. A changed protocol sets
 * protocol_override: the queue keeps only the account's name, so such a
 * send is never queued (a temporary failure is exit 75) and its
 * connection carries no queued message.
 */
int account_set_protocol(struct account *a, bool lmtp, struct error *err);

/* Apply defaults to and check one account (account_select's second half). */
int account_finish(const struct account_conf *conf, struct account *out,
    struct error *err);

#endif
