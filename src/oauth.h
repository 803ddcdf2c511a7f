/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * oauth.h -- OAuth 2.0 bearer tokens for SMTP AUTH (XOAUTH2, OAUTHBEARER):
 * the access token for a send, refreshed at the provider's token endpoint
 * (RFC 6749 section 6) when it has expired or the server refused it; the
 * grants login.c uses; the stores of tokenstore.h.
 *
 * HTTPS (http.h) and JSON (json.h) are loaded only when the provider must
 * be asked: a send with a cached access token makes no HTTP request.
 *
 * Errors, for a send:
 *   provider unreachable, 5xx, 429, timeout, an answer that is not JSON
 *                          ERR_TEMP (the message is queued)
 *   invalid_grant (refresh token expired or revoked), no token stored yet,
 *   the token stored for another client
 *                          ERR_AUTH, with the login command that fixes it
 *   the provider's certificate refused   ERR_PROTOCOL
 * No token, secret or code is ever logged; every buffer of yubin's own
 * that held one is wiped (libcurl's and json-c's internal copies are out
 * of reach: main.c turns core dumps off).
 */
#ifndef YUBIN_OAUTH_H
#define YUBIN_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "tokenstore.h"
#include "util.h"

struct account;
struct error;
struct json;

/*
 * The access token for sending as account a (a->oauth.provider set), in
 * *token (util_free_secret() it). refused: the token the server just
 * refused, or NULL; a token equal to it is never handed out again.
 * *cached: the token came from the cache as it was (a refusal of it is
 * worth one refresh); false when it was just obtained.
 */
int oauth_token(const struct account *a, const char *refused, char **token,
    bool *cached, struct error *err);

/*
 * yubin --logout: forget the account's tokens (file and keyring), under
 * the store's lock; says what went. ERR_CONFIG without oauth2_provider.
 */
int oauth_logout(const struct account *a, struct error *err);

/* A bearer token as RFC 6750 2.1 allows it (b64token). */
bool oauth_token_ok(const char *t);

/* ------------------------------------------- for login.c (the grants) */

/* A request body, application/x-www-form-urlencoded (secret). */
struct oauth_form {
	struct dynbuf b;
	bool full;		/* something did not fit: never sent */
};

void oauth_form_init(struct oauth_form *f);
/* Append key=value, the value percent-encoded; NULL or "": nothing. */
void oauth_form_add(struct oauth_form *f, const char *key,
    const char *value);
void oauth_form_release(struct oauth_form *f);

/* A provider's JSON answer to a token or device request. */
struct oauth_answer {
	long status;		/* HTTP status */
	struct json *doc;	/* the body */
	const char *error;	/* its "error" member, or NULL on success */
	char description[256];	/* "error: error_description", shown safe */
};

/*
 * POST form (the grant's own fields) plus client_id and client_secret to
 * url, and read the JSON answer. 0 with ans->error set for an OAuth error
 * answer (the caller decides what it means); -1 for what is never the
 * grant's business: ERR_TEMP for a provider that cannot answer now (no
 * connection, 5xx, 429, not JSON, server_error, temporarily_unavailable),
 * ERR_CONFIG for an unreadable oauth2_trust_file, ERR_PROTOCOL for a
 * refused certificate.
 */
int oauth_post(const struct account *a, const char *url,
    struct oauth_form *form, struct oauth_answer *ans, struct error *err);

void oauth_answer_release(struct oauth_answer *ans);

/*
 * Keep the tokens of a successful login answer: the refresh token in the
 * chosen store (TOKEN_STORE_NONE: the keyring when one is reachable, else
 * the file), the access token in the token file. *where says which one
 * was used, for the user.
 */
int oauth_save_login(const struct account *a, enum token_store want,
    const struct oauth_answer *ans, enum token_store *where,
    struct error *err);

/* "yubin -C FILE --login -a NAME": the command that logs account a in. */
const char *oauth_login_command(const struct account *a, char *buf,
    size_t size);

/* The token file's path for account a, into buf. */
const char *oauth_token_path(const struct account *a, char *buf,
    size_t size);

#endif
