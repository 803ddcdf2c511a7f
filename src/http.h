/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * http.h -- HTTPS requests: a form POST to an OAuth 2.0 provider, a GET
 * of a mail provider's autoconfig document (--configure); the answer's
 * status and body. libcurl (the GnuTLS build, so one TLS stack
 * and one trust store) does the work; it is loaded with dlopen() on the
 * first request, so a send that needs no token never maps it.
 *
 * Only https:// URLs, no redirects followed, no cookies; the answer is
 * capped at HTTP_BODY_MAX bytes and kept in a secret buffer (it may hold
 * tokens). The request body is never traced.
 */
#ifndef YUBIN_HTTP_H
#define YUBIN_HTTP_H

#include "util.h"

struct error;

#define HTTP_BODY_MAX (64 * 1024)

struct http_request {
	const char *url;	/* https://... */
	const char *form;	/* application/x-www-form-urlencoded body;
				   NULL: a GET */
	const char *accept;	/* the Accept header; NULL: JSON */
	const char *ca_file;	/* PEM CA file, or NULL: the system store */
	int timeout_ms;		/* the whole request; <= 0: none */
};

struct http_response {
	long status;		/* 200, 400, ... */
	struct dynbuf body;	/* secret; NUL-terminated */
};

/*
 * POST rq->form to rq->url. 0 once an answer came, whatever its status
 * (the caller reads rs->status). Errors: cannot resolve or connect,
 * timeout, connection lost, TLS handshake cut off: ERR_TEMP ("cannot reach
 * 'URL': ..."); certificate refused: ERR_PROTOCOL; an answer over
 * HTTP_BODY_MAX: ERR_PROTOCOL; libcurl missing: ERR_SOFTWARE. rs is
 * initialised here; release it with http_response_release() in any case.
 */
int http_post(const struct http_request *rq, struct http_response *rs,
    struct error *err);

/* The same, a GET of rq->url (rq->form must be NULL). */
int http_get(const struct http_request *rq, struct http_response *rs,
    struct error *err);

/* Wipe and free the body. */
void http_response_release(struct http_response *rs);

/* "libcurl/7.88.1 GnuTLS/3.7.9 ..." once loaded, else a short note. */
const char *http_library(void);

#endif
