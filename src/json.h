/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * json.h -- the few JSON documents yubin reads: an OAuth 2.0 provider's
 * answers (RFC 6749 section 5, RFC 8628 section 3.2), each one flat object.
 * json-c does the parsing; it is loaded with dlopen() the first time a
 * document is parsed, so a send that needs no token never maps it.
 *
 * The strings of a document may be secrets (tokens): json_free() wipes
 * every string value of the object before json-c frees it.
 */
#ifndef YUBIN_JSON_H
#define YUBIN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct error;
struct json;

/*
 * Parse text (len bytes, NUL-terminated) into *out. The document must be
 * a JSON object. ERR_PROTOCOL "not a JSON object: ..." when it is not
 * (or not JSON at all); ERR_SOFTWARE when json-c cannot be loaded.
 */
int json_parse(const char *text, size_t len, struct json **out,
    struct error *err);

/* The string value of member key, or NULL (absent, or not a string). */
const char *json_string(const struct json *j, const char *key);

/*
 * The integer value of member key: a JSON number, or a string holding
 * one ("3600", as some providers send expires_in). 0 and *out set, or
 * -1 when absent or not an integer.
 */
int json_int(const struct json *j, const char *key, long long *out);

/* Wipe every string member, free. NULL is fine. */
void json_free(struct json *j);

/*
 * Write s as a JSON string: quotes, backslashes and control bytes escaped
 * (for the documents yubin writes: --queue-list --json, --serverinfo
 * --json). Needs no json-c.
 */
void json_write_str(FILE *out, const char *s);

/* "json-c 0.16" once loaded, else "json-c (loaded when needed)". */
const char *json_library(void);

#endif
