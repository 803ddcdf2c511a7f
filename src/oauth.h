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
 * No token, secret or code is ever logged; every buffer that held one is
 * wiped.
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

/* yubin --logout: forget the account's tokens (file and keyring). */
int oauth_logout(const struct account *a, struct error *err);

/* ------------------------------------------- for login.c (the grants) */

/* A provider's JSON answer to a token or device request. */
struct oauth_answer {
	long status;		/* HTTP status */
	struct json *doc;	/* the body */
	const char *error;	/* its "error" member, or NULL on success */
	char description[256];	/* "error: error_description", shown safe */
};

/*
 * POST form (the grant's own fields, already encoded) plus client_id and
 * client_secret to url, and read the JSON answer. 0 with ans->error set
 * for an OAuth error answer (the caller decides what it means); -1 for
 * what is never the grant's business (see above: ERR_TEMP, ...).
 */
int oauth_post(const struct account *a, const char *url, struct dynbuf *form,
    struct oauth_answer *ans, struct error *err);

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
