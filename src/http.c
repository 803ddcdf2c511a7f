/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * http.c -- see http.h. libcurl is not linked but loaded with dlopen() on
 * the first request: <curl/curl.h> gives the types and constants only,
 * every call goes through lib below.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http.h"
#include "log.h"
#include "dlload.h"
#include "util.h"

#ifdef HAVE_OAUTH2

#include <curl/curl.h>

static struct {
	CURLcode (*global_init)(long);
	CURL *(*init)(void);
	CURLcode (*setopt)(CURL *, CURLoption, ...);
	CURLcode (*perform)(CURL *);
	CURLcode (*getinfo)(CURL *, CURLINFO, ...);
	void (*cleanup)(CURL *);
	const char *(*strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free)(struct curl_slist *);
	char *(*version)(void);
} lib;

#define SYM(field, name) { name, (void **)&lib.field }
static const struct dl_sym syms[] = {
	SYM(global_init, "curl_global_init"),
	SYM(init, "curl_easy_init"),
	SYM(setopt, "curl_easy_setopt"),
	SYM(perform, "curl_easy_perform"),
	SYM(getinfo, "curl_easy_getinfo"),
	SYM(cleanup, "curl_easy_cleanup"),
	SYM(strerror, "curl_easy_strerror"),
	SYM(slist_append, "curl_slist_append"),
	SYM(slist_free, "curl_slist_free_all"),
	SYM(version, "curl_version"),
};
#undef SYM

static const char *
http_init(void)
{
	if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return "curl_global_init failed";
	return NULL;
}

/* libcurl, the GnuTLS build first. */
static const char *const sonames[] = { "libcurl-gnutls.so.4",
    "libcurl.so.4", NULL };
static struct dl_lib curl = { sonames, syms, ARRAY_SIZE(syms),
    http_init, false, "" };

/* libcurl's write callback: append under the cap, else stop. */
static size_t
http_collect(char *p, size_t size, size_t n, void *data)
{
	struct dynbuf *b = data;

	if (dynbuf_add(b, p, size * n) < 0)
		return 0;	/* CURLE_WRITE_ERROR: too large */
	return size * n;
}

/* What a failed transfer means for the caller. */
static enum error_kind
http_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_WRITE_ERROR:
		return ERR_PROTOCOL;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return ERR_CONFIG;
	default:
		return ERR_TEMP;	/* DNS, connect, timeout, reset, 5xx */
	}
}

static int
http_fail(const struct http_request *rq, CURLcode rc, const char *detail,
    struct error *err)
{
	const char *why = *detail != '\0' ? detail : lib.strerror(rc);

	if (rc == CURLE_WRITE_ERROR)
		return error_set(err, http_kind(rc), "the answer of '%s' is "
		    "larger than %d KiB", rq->url, HTTP_BODY_MAX / 1024);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		why = "no answer in time (timeout)";
	return error_set(err, http_kind(rc), "cannot reach '%s': %s",
	    rq->url, why);
}

/*
 * The request's options; CURLE_OK, or the first that failed. https only,
 * no redirects; a proxy from https_proxy/all_proxy/no_proxy is used, as
 * libcurl does (TLS still ends at the provider).
 */
static CURLcode
http_options(CURL *c, const struct http_request *rq, struct dynbuf *body,
    struct curl_slist *hdr, char *errbuf)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val) \
	do { if (rc == CURLE_OK) rc = lib.setopt(c, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, rq->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "yubin/" PACKAGE_VERSION);
	SET(CURLOPT_HTTPHEADER, hdr);
	if (rq->form != NULL) {
		SET(CURLOPT_POSTFIELDS, rq->form);
		SET(CURLOPT_POSTFIELDSIZE, (long)strlen(rq->form));
	} else
		SET(CURLOPT_HTTPGET, 1L);
	SET(CURLOPT_WRITEFUNCTION, http_collect);
	SET(CURLOPT_WRITEDATA, body);
	if (rq->ca_file != NULL)
		SET(CURLOPT_CAINFO, rq->ca_file);
	if (rq->timeout_ms > 0) {
		SET(CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
		SET(CURLOPT_CONNECTTIMEOUT_MS, (long)rq->timeout_ms);
	}
#undef SET
	return rc;
}

/* The Accept header line for rq. */
static void
http_accept(const struct http_request *rq, char *line, size_t size)
{
	snprintf(line, size, "Accept: %s",
	    rq->accept != NULL ? rq->accept : "application/json");
}

/* A POST (rq->form set) or a GET. */
static int
http_request(const struct http_request *rq, struct http_response *rs,
    struct error *err)
{
	char errbuf[CURL_ERROR_SIZE] = "", accept[128];
	const char *why = dl_load(&curl);
	struct curl_slist *hdr;
	CURLcode rc;
	CURL *c;

	rs->status = 0;
	dynbuf_init(&rs->body, HTTP_BODY_MAX);
	rs->body.secret = true;
	if (why != NULL)
		return error_set(err, ERR_SOFTWARE, "cannot make HTTPS "
		    "requests: %s", why);
	if (strncmp(rq->url, "https://", 8) != 0)
		return error_set(err, ERR_CONFIG, "refusing '%s': not an "
		    "https:// URL", rq->url);
	if ((c = lib.init()) == NULL)
		return error_set(err, ERR_SOFTWARE, "curl_easy_init failed");
	http_accept(rq, accept, sizeof(accept));
	hdr = lib.slist_append(NULL, accept);
	log_verbose("HTTPS %s %s", rq->form != NULL ? "POST" : "GET",
	    rq->url);
	rc = hdr == NULL ? CURLE_OUT_OF_MEMORY :
	    http_options(c, rq, &rs->body, hdr, errbuf);
	if (rc == CURLE_OK)
		rc = lib.perform(c);
	if (rc == CURLE_OK)
		lib.getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	lib.cleanup(c);
	lib.slist_free(hdr);
	if (rc != CURLE_OK)
		return http_fail(rq, rc, errbuf, err);
	log_verbose("HTTPS answer: %ld, %zu bytes", rs->status,
	    rs->body.len);
	return 0;
}

int
http_post(const struct http_request *rq, struct http_response *rs,
    struct error *err)
{
	return http_request(rq, rs, err);
}

int
http_get(const struct http_request *rq, struct http_response *rs,
    struct error *err)
{
	return http_request(rq, rs, err);
}

const char *
http_library(void)
{
	if (lib.version == NULL)
		return "libcurl (loaded when needed)";
	return lib.version();
}

#else /* !HAVE_OAUTH2 */

int
http_post(const struct http_request *rq, struct http_response *rs,
    struct error *err)
{
	return http_get(rq, rs, err);
}

int
http_get(const struct http_request *rq, struct http_response *rs,
    struct error *err)
{
	rs->status = 0;
	dynbuf_init(&rs->body, HTTP_BODY_MAX);
	return error_set(err, ERR_SOFTWARE, "yubin was built without HTTPS "
	    "support (--without-oauth2)");
}

const char *
http_library(void)
{
	return "none";
}

#endif /* HAVE_OAUTH2 */

void
http_response_release(struct http_response *rs)
{
	dynbuf_release(&rs->body);
}
