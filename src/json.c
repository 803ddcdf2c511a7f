/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * json.c -- see json.h. json-c is not linked but loaded with dlopen() on
 * the first json_parse(): <json-c/json.h> gives the types only, every call
 * goes through lib below.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "dlload.h"
#include "util.h"

#ifdef HAVE_OAUTH2

#include <json-c/json.h>

#ifndef JSONC_SONAME
#define JSONC_SONAME "libjson-c.so.5"
#endif

#define JSON_DEPTH 16		/* a flat object needs 1 */
#define JSON_TEXT_MAX (1024 * 1024)	/* http.c caps answers far lower */

struct json {
	struct json_object *obj;
};

static struct {
	struct json_tokener *(*tok_new)(int);
	struct json_object *(*tok_parse)(struct json_tokener *, const char *,
	    int);
	enum json_tokener_error (*tok_error)(struct json_tokener *);
	size_t (*tok_offset)(struct json_tokener *);
	void (*tok_free)(struct json_tokener *);
	const char *(*error_desc)(enum json_tokener_error);
	int (*is_type)(const struct json_object *, enum json_type);
	json_bool (*get_ex)(const struct json_object *, const char *,
	    struct json_object **);
	const char *(*get_string)(struct json_object *);
	int (*get_string_len)(const struct json_object *);
	int64_t (*get_int64)(const struct json_object *);
	struct json_object_iterator (*iter_begin)(struct json_object *);
	struct json_object_iterator (*iter_end)(const struct json_object *);
	void (*iter_next)(struct json_object_iterator *);
	json_bool (*iter_equal)(const struct json_object_iterator *,
	    const struct json_object_iterator *);
	struct json_object *(*iter_value)(
	    const struct json_object_iterator *);
	int (*put)(struct json_object *);
	const char *(*version)(void);
} lib;

#define SYM(field, name) { name, (void **)&lib.field }
static const struct dl_sym syms[] = {
	SYM(tok_new, "json_tokener_new_ex"),
	SYM(tok_parse, "json_tokener_parse_ex"),
	SYM(tok_error, "json_tokener_get_error"),
	SYM(tok_offset, "json_tokener_get_parse_end"),
	SYM(tok_free, "json_tokener_free"),
	SYM(error_desc, "json_tokener_error_desc"),
	SYM(is_type, "json_object_is_type"),
	SYM(get_ex, "json_object_object_get_ex"),
	SYM(get_string, "json_object_get_string"),
	SYM(get_string_len, "json_object_get_string_len"),
	SYM(get_int64, "json_object_get_int64"),
	SYM(iter_begin, "json_object_iter_begin"),
	SYM(iter_end, "json_object_iter_end"),
	SYM(iter_next, "json_object_iter_next"),
	SYM(iter_equal, "json_object_iter_equal"),
	SYM(iter_value, "json_object_iter_peek_value"),
	SYM(put, "json_object_put"),
	SYM(version, "json_c_version"),
};
#undef SYM

static const char *const sonames[] = { JSONC_SONAME, "libjson-c.so",
    NULL };
static struct dl_lib jsonc = { sonames, syms, ARRAY_SIZE(syms), NULL,
    false, "" };

/* The whole of text must be one value; trailing blanks are fine. */
static struct json_object *
parse_all(const char *text, size_t len, const char **why)
{
	struct json_tokener *tok = lib.tok_new(JSON_DEPTH);
	struct json_object *obj;
	size_t end;

	if (tok == NULL) {
		*why = "out of memory";
		return NULL;
	}
	obj = lib.tok_parse(tok, text, (int)len);
	end = lib.tok_offset(tok);
	*why = lib.error_desc(lib.tok_error(tok));
	if (obj != NULL && strspn(text + end, " \t\r\n") != len - end) {
		*why = "data after the JSON value";
		lib.put(obj);
		obj = NULL;
	} else if (obj == NULL && lib.tok_error(tok) == json_tokener_continue)
		*why = "unexpected end of data";
	lib.tok_free(tok);
	return obj;
}

int
json_parse(const char *text, size_t len, struct json **out,
    struct error *err)
{
	const char *why = dl_load(&jsonc);
	struct json_object *obj;

	*out = NULL;
	if (why != NULL)
		return error_set(err, ERR_SOFTWARE, "cannot read JSON: %s",
		    why);
	if (len > JSON_TEXT_MAX || strlen(text) != len)
		return error_set(err, ERR_PROTOCOL, "not a JSON object: %s",
		    len > JSON_TEXT_MAX ? "too large" : "it holds a NUL byte");
	if ((obj = parse_all(text, len, &why)) == NULL)
		return error_set(err, ERR_PROTOCOL, "not a JSON object: %s",
		    why);
	if (!lib.is_type(obj, json_type_object)) {
		lib.put(obj);
		return error_set(err, ERR_PROTOCOL, "not a JSON object: a "
		    "JSON value of another type");
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->obj = obj;
	return 0;
}

static struct json_object *
member(const struct json *j, const char *key)
{
	struct json_object *v = NULL;

	if (j == NULL || !lib.get_ex(j->obj, key, &v))
		return NULL;
	return v;
}

const char *
json_string(const struct json *j, const char *key)
{
	struct json_object *v = member(j, key);

	if (v == NULL || !lib.is_type(v, json_type_string))
		return NULL;
	return lib.get_string(v);
}

int
json_int(const struct json *j, const char *key, long long *out)
{
	struct json_object *v = member(j, key);
	const char *s;
	char *end;

	if (v != NULL && lib.is_type(v, json_type_int)) {
		*out = (long long)lib.get_int64(v);
		return 0;
	}
	if (v == NULL || !lib.is_type(v, json_type_string))
		return -1;
	s = lib.get_string(v);
	*out = strtoll(s, &end, 10);
	return *s != '\0' && *end == '\0' ? 0 : -1;
}

void
json_free(struct json *j)
{
	struct json_object_iterator it, end;

	if (j == NULL)
		return;
	it = lib.iter_begin(j->obj);
	end = lib.iter_end(j->obj);
	for (; !lib.iter_equal(&it, &end); lib.iter_next(&it)) {
		struct json_object *v = lib.iter_value(&it);

		/* json-c's own copy of a token: wipe it before it is freed */
		if (v != NULL && lib.is_type(v, json_type_string))
			util_wipe((char *)lib.get_string(v),
			    (size_t)lib.get_string_len(v));
	}
	lib.put(j->obj);
	free(j);
}

const char *
json_library(void)
{
	static char buf[64];

	if (lib.version == NULL)
		return "json-c (loaded when needed)";
	snprintf(buf, sizeof(buf), "json-c %s", lib.version());
	return buf;
}

#else /* !HAVE_OAUTH2 */

int
json_parse(const char *text, size_t len, struct json **out,
    struct error *err)
{
	*out = NULL;
	return error_set(err, ERR_SOFTWARE, "yubin was built without JSON "
	    "support (--without-oauth2)");
}

const char *
json_string(const struct json *j, const char *key)
{
	return NULL;
}

int
json_int(const struct json *j, const char *key, long long *out)
{
	return -1;
}

void
json_free(struct json *j)
{
}

const char *
json_library(void)
{
	return "none";
}

#endif /* HAVE_OAUTH2 */

void
json_write_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
