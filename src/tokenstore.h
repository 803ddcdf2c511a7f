/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tokenstore.h -- where an account's OAuth 2.0 tokens live between runs.
 *
 *   the token file   $XDG_STATE_HOME/yubin/oauth/USER@HOST.token (USER
 *                    and HOST percent-encoded; directory 0700, file 0600,
 *                    both ours, never a symbolic link): the access token
 *                    with its expiry (so most sends make no HTTP request),
 *                    the client id and token endpoint it was issued for,
 *                    where the refresh token is, and -- with the file
 *                    store -- the refresh token itself
 *   the keyring      the refresh token as the secret of the item
 *                    host HOST, service "oauth2", user USER (keyring.h)
 *
 * The file is replaced whole: written to a temporary file, fsync'd,
 * renamed over the old one, the directory fsync'd. Refreshing happens
 * under flock() on USER@HOST.lock, so that concurrent yubin processes
 * refresh once and a rotated refresh token is never lost.
 */
#ifndef YUBIN_TOKENSTORE_H
#define YUBIN_TOKENSTORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cred.h"

struct error;

enum token_store {
	TOKEN_STORE_NONE,	/* nothing stored yet */
	TOKEN_STORE_FILE,	/* the refresh token is in the token file */
	TOKEN_STORE_KEYRING,	/* ... in the desktop keyring */
};

/* What the token file says. Every string is malloc'd or NULL. */
struct token_state {
	bool exists;		/* the file was there */
	enum token_store store;
	char *client_id;	/* the client the tokens were issued to */
	char *token_url;
	char *refresh;		/* TOKEN_STORE_FILE only (secret) */
	char *access;		/* cached access token (secret) */
	long long issued;	/* when it came (0: unknown) */
	long long expires;	/* when it expires, seconds since the epoch */
};

struct tokenstore {
	const char *host, *user;
	char dir[PATH_MAX];
	char path[PATH_MAX];	/* .../USER@HOST.token */
	char lock[PATH_MAX];	/* .../USER@HOST.lock */
	int lockfd;		/* -1 when not locked */
};

/* The paths for user at host. No I/O. ERR_CANTCREAT without a home. */
int tokenstore_init(struct tokenstore *ts, const char *host,
    const char *user, struct error *err);

/*
 * Read the token file into st (zeroed first; st->exists false when there
 * is none). A file others can read or that someone else owns, a symbolic
 * link, or a file that is not yubin's: ERR_CONFIG saying what to do.
 */
int tokenstore_read(const struct tokenstore *ts, struct token_state *st,
    struct error *err);

/* Replace the token file with st, durably (see above). ERR_CANTCREAT. */
int tokenstore_write(const struct tokenstore *ts,
    const struct token_state *st, struct error *err);

/*
 * Remove the token file and any temporary file a crash left beside it:
 * CRED_FOUND (removed), CRED_NONE (there was none) or CRED_ERROR.
 */
enum cred tokenstore_remove(const struct tokenstore *ts, struct error *err);

/*
 * flock() the lock file, waiting up to timeout_ms (<= 0: 60 s). ERR_TEMP
 * when another yubin holds it that long.
 */
int tokenstore_lock(struct tokenstore *ts, int timeout_ms,
    struct error *err);
void tokenstore_unlock(struct tokenstore *ts);

/* Wipe and free every string of st. */
void token_state_release(struct token_state *st);

/* "file" / "keyring" / "none". */
const char *tokenstore_name(enum token_store s);

#endif
