/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sasl.h -- SMTP AUTH mechanisms through GNU SASL (libgsasl): PLAIN, LOGIN,
 * CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants
 * (channel binding), EXTERNAL, GSSAPI; XOAUTH2 and OAUTHBEARER built here
 * (Debian's libgsasl lacks them). No I/O: base64 in, base64 out.
 */
#ifndef YUBIN_SASL_H
#define YUBIN_SASL_H

#include <stdbool.h>
#include <stddef.h>

struct error;
struct sasl;

struct sasl_creds {
	const char *user;
	const char *password;	/* or the OAuth2 bearer token */
	const char *service;	/* "smtp" */
	const char *hostname;	/* server name, for DIGEST-MD5 / GSSAPI */
	const char *cb_type;	/* "tls-exporter" / "tls-unique" / NULL */
	const char *cb_data;	/* base64 channel-binding data, or NULL */
};

/*
 * Pick the mechanism to use.
 *   server:  the server's AUTH list, upper case, space separated
 *   forced:  the configured method (any case) or NULL for "choose"
 *   secure:  the channel is TLS
 *   have_cb: channel binding data is available (TLS)
 * Without forced, the strongest one both sides support that the client may
 * use: SCRAM-SHA-256-PLUS > SCRAM-SHA-1-PLUS > SCRAM-SHA-256 > SCRAM-SHA-1 >
 * DIGEST-MD5 > CRAM-MD5 > PLAIN > LOGIN (XOAUTH2/OAUTHBEARER/EXTERNAL/GSSAPI
 * only when forced). PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER are never chosen
 * nor allowed when !secure. Writes the name to out.
 * Errors (ERR_AUTH): forced method unknown to yubin, not offered by the
 * server ("server does not offer 'CRAM-MD5' (it offers: PLAIN LOGIN)"),
 * refused in clear text; no common mechanism.
 */
int sasl_choose(const char *server, const char *forced, bool secure,
    bool have_cb, char *out, size_t outsize, struct error *err);

/*
 * For an OAuth 2.0 bearer token: OAUTHBEARER (RFC 7628) when the server
 * offers it, else XOAUTH2; never without TLS. ERR_AUTH when it offers
 * neither ("server offers no OAuth 2.0 method ...").
 */
int sasl_choose_bearer(const char *server, bool secure, char *out,
    size_t outsize, struct error *err);

/* Start a client exchange for mech. creds are copied (and wiped on free). */
int sasl_start(struct sasl **out, const char *mech,
    const struct sasl_creds *creds, struct error *err);

/*
 * One step. challenge: the base64 text of a 334 reply, or NULL for the
 * initial response. *response: malloc'd base64 (possibly "" for an empty
 * response), or NULL when the mechanism has no initial response (LOGIN,
 * CRAM-MD5, DIGEST-MD5). Free *response with util_free_secret().
 * Error: ERR_AUTH (or ERR_PROTOCOL for an undecodable challenge).
 */
int sasl_step(struct sasl *s, const char *challenge, char **response,
    struct error *err);

const char *sasl_mech(const struct sasl *s);

/*
 * Whether the server may now say 235. SCRAM authenticates the server too:
 * a 235 before the server's proof (v=) was checked is refused.
 */
bool sasl_complete(const struct sasl *s);

/*
 * Whether the response just handed out was the client's last word, so
 * that the server can only answer 235 or refuse, never challenge again:
 * commands may follow it in the same flight (RFC 4954 section 4's
 * exception, for PLAIN and EXTERNAL's initial response; the same holds
 * after LOGIN's password, CRAM-MD5's answer, SCRAM's reply to the
 * server's signature). Never for XOAUTH2 and OAUTHBEARER (a refused
 * token is answered with an error challenge, RFC 7628 3.2.2: a command
 * behind it would be read as the response), nor for the mechanisms that
 * may negotiate a security layer (DIGEST-MD5, GSSAPI).
 */
bool sasl_last(const struct sasl *s);

/* "GNU SASL 2.2.0": the SASL library in use, for --version. */
const char *sasl_library(void);

/* Wipes all secrets held, frees. NULL is fine. */
void sasl_free(struct sasl *s);

#endif
