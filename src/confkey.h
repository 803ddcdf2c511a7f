/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * confkey.h -- the keys of the configuration file; an internal interface of
 * config.c. config.c splits the file into lines and keeps the accounts and
 * their inheritance; confkey.c knows what each key means:
 *   - one table row per key msmtp knows (and its old names), each with the
 *     parser/validator of its value (on/off, port, timeout, fingerprint, file
 *     names with "~/" expanded, auth method, ...);
 *   - known msmtp keys yubin does not implement yet (ignored, with a -v note
 *     or a warning) and those it refuses because ignoring them would change
 *     where or how mail goes;
 */
#ifndef YUBIN_CONFKEY_H
#define YUBIN_CONFKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct error;
struct confkey;			/* one row of the key table (opaque) */

/*
 * The line being parsed, filled by config.c: where messages point, and what
 * confkey_set() reports back.
 */
struct confkey_ctx {
	const char *file;	/* name used in messages: "file:line: ..." */
	int line;		/* line number of the current line */
	struct error *err;	/* filled on failure */
	unsigned long written;	/* out: (1UL << CONF_X) if the value of X was
				 * written by the last confkey_set(), else 0 */
	bool password;		/* out: set (never cleared) when a non-empty
				 * password is written */
};

/*
 * Fill ctx->err as ERR_CONFIG with "file:line: " and the formatted message;
 * always returns -1. config.c uses it too, so every message reads the same.
 */
int confkey_error(const struct confkey_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * s made safe to quote in a message, written into buf (size > 8): \xNN for
 * control bytes, bytes >= 0x7f and '\'; cut with "..." once 48 bytes are
 * shown (cut silently when buf is full first). Returns buf.
 */
const char *confkey_show(const char *s, char *buf, size_t size);

/* The row for the key called name (exact, case-sensitive), or NULL. */
const struct confkey *confkey_find(const char *name);

/*
 * Apply "key value" to account a. value has already lost its quotes and
 * surrounding blanks; "" means the key was written without a value (unsets a
 * string, means "on" for on/off keys). On success returns 0 and sets
 * ctx->written (0 for a key that is ignored). On a bad value or a refused
 * key returns -1 with ctx->err filled ("file:line: ..."), a unchanged.
 * Ignored keys log a -v note or a warning with file:line.
 */
int confkey_set(const struct confkey *k, struct account_conf *a,
    const char *value, struct confkey_ctx *ctx);

#endif
