/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-sasl.c -- sasl_choose() on many server lists; every mechanism's
 * bytes (PLAIN, LOGIN, CRAM-MD5 with the RFC 2195 vector, EXTERNAL,
 * XOAUTH2, OAUTHBEARER); SCRAM and DIGEST-MD5 against libgsasl's own
 * server, including -PLUS with tls-exporter and tls-unique.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "error.h"
#include "sasl.h"
#include "tap.h"
#include "util.h"

/* ------------------------------------------------------------ helpers */

/* Decode base64 into a static buffer; returns its length or -1. */
static long
unb64(const char *b64, char *buf, size_t size)
{
	char *out;
	size_t len;

	if (b64 == NULL || gsasl_base64_from(b64, strlen(b64), &out, &len) !=
	    GSASL_OK || len > size)
		return -1;
	memcpy(buf, out, len);
	gsasl_free(out);
	return (long)len;
}

static char *
b64(const char *raw, size_t len)
{
	char *out, *s;

	if (gsasl_base64_to(raw, len, &out, NULL) != GSASL_OK)
		return NULL;
	s = xstrdup(out);
	gsasl_free(out);
	return s;
}

static void
choose_ok(const char *server, const char *forced, bool secure, bool cb,
    const char *want)
{
	struct error err;
	char mech[32] = "";
	int r;

	error_init(&err);
	r = sasl_choose(server, forced, secure, cb, mech, sizeof(mech), &err);
	if (!ok(r == 0 && strcmp(mech, want) == 0,
	    "choose [%s] forced=%s%s%s -> %s", server, forced ? forced : "-",
	    secure ? " tls" : "", cb ? " cb" : "", want))
		printf("#   got r=%d mech '%s' err '%s'\n", r, mech,
		    err.message);
}

static void
choose_fails(const char *server, const char *forced, bool secure, bool cb,
    const char *want_text)
{
	struct error err;
	char mech[32] = "";
	int r;

	error_init(&err);
	r = sasl_choose(server, forced, secure, cb, mech, sizeof(mech), &err);
	if (!ok(r == -1 && err.kind == ERR_AUTH &&
	    strstr(err.message, want_text) != NULL,
	    "choose [%s] forced=%s%s%s fails", server ? server : "(null)",
	    forced ? forced : "-", secure ? " tls" : "", cb ? " cb" : ""))
		printf("#   got r=%d mech '%s' err '%s', want '%s'\n", r, mech,
		    err.message, want_text);
}

static struct sasl *
start(const char *mech, const char *user, const char *pw)
{
	struct sasl_creds c = { user, pw, "smtp", "mail.example.test",
	    NULL, NULL };
	struct sasl *s = NULL;
	struct error err;

	error_init(&err);
	if (sasl_start(&s, mech, &c, &err) == -1)
		printf("# sasl_start %s: %s\n", mech, err.message);
	return s;
}

/* One step; returns the response (caller frees) or "(error)". */
static char *
step(struct sasl *s, const char *challenge)
{
	struct error err;
	char *resp = NULL;

	error_init(&err);
	if (sasl_step(s, challenge, &resp, &err) == -1) {
		printf("# step: %s\n", err.message);
		return xstrdup("(error)");
	}
	return resp;
}

static void
is_b64(char *resp, const char *want, size_t wantlen, const char *name)
{
	char buf[512];
	long n = unb64(resp, buf, sizeof(buf));

	if (n < 0)
		ok(0, "%s: response '%s' is base64", name,
		    resp ? resp : "NULL");
	else
		is_mem(buf, (size_t)n, want, wantlen, "%s", name);
	util_free_secret(resp);
}

/* ------------------------------------------------------------ choose */

static void
test_choose(void)
{
	const char *all = "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 "
	    "SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS";

	choose_ok(all, NULL, true, true, "SCRAM-SHA-256-PLUS");
	choose_ok(all, NULL, true, false, "SCRAM-SHA-256");
	choose_ok(all, NULL, false, false, "SCRAM-SHA-256");
	choose_ok("SCRAM-SHA-1 SCRAM-SHA-1-PLUS PLAIN", NULL, true, true,
	    "SCRAM-SHA-1-PLUS");
	choose_ok("SCRAM-SHA-1 SCRAM-SHA-1-PLUS PLAIN", NULL, true, false,
	    "SCRAM-SHA-1");
	choose_ok("PLAIN LOGIN DIGEST-MD5 CRAM-MD5", NULL, true, false,
	    "DIGEST-MD5");
	choose_ok("PLAIN LOGIN CRAM-MD5", NULL, true, false, "CRAM-MD5");
	choose_ok("PLAIN CRAM-MD5", NULL, false, false, "CRAM-MD5");
	choose_ok("LOGIN PLAIN", NULL, true, false, "PLAIN");
	choose_ok("LOGIN", NULL, true, false, "LOGIN");
	choose_ok("login plain", NULL, true, false, "PLAIN");
	choose_ok("  PLAIN\tLOGIN  ", NULL, true, false, "PLAIN");
	choose_ok("XOAUTH2 PLAIN OAUTHBEARER GSSAPI EXTERNAL", NULL, true,
	    true, "PLAIN");
}

static void
test_choose_refused(void)
{

	/* PLAIN and LOGIN never in clear text */
	choose_fails("PLAIN LOGIN", NULL, false, false,
	    "PLAIN and LOGIN are never used without TLS");
	choose_fails("PLAIN LOGIN", NULL, false, false,
	    "(server offers: PLAIN LOGIN)");
	/* the OAuth2 ones, EXTERNAL and GSSAPI only when forced */
	choose_fails("XOAUTH2 OAUTHBEARER EXTERNAL GSSAPI", NULL, true, true,
	    "no usable authentication method");
	/* no prefix matches */
	choose_fails("PLAINX SCRAM-SHA-256-PLUSX CRAM-MD", NULL, true, true,
	    "no usable authentication method");
	choose_fails("", NULL, true, true, "(server offers: no mechanism)");
	choose_fails(NULL, NULL, true, true, "no usable");
}

static void
test_choose_forced(void)
{
	struct error err;
	char tiny[4];

	choose_ok("PLAIN CRAM-MD5 SCRAM-SHA-256", "cram-md5", true, false,
	    "CRAM-MD5");
	choose_ok("PLAIN LOGIN", "Login", true, false, "LOGIN");
	choose_ok("PLAIN XOAUTH2", "xoauth2", true, false, "XOAUTH2");
	choose_ok("OAUTHBEARER", "oauthbearer", true, false, "OAUTHBEARER");
	choose_ok("EXTERNAL PLAIN", "external", true, false, "EXTERNAL");
	choose_ok("EXTERNAL", "EXTERNAL", false, false, "EXTERNAL");
	choose_ok("SCRAM-SHA-256", "scram-sha-256", false, false,
	    "SCRAM-SHA-256");
	choose_ok("SCRAM-SHA-256-PLUS SCRAM-SHA-256", "SCRAM-SHA-256", true,
	    true, "SCRAM-SHA-256");
	choose_fails("PLAIN LOGIN", "CRAM-MD5", true, false,
	    "server does not offer 'CRAM-MD5' (it offers: PLAIN LOGIN)");
	choose_fails("", "CRAM-MD5", true, false,
	    "server does not offer 'CRAM-MD5' (it offers: no mechanism)");
	choose_fails("PLAIN\x1b[2J", "LOGIN", true, false,
	    "(it offers: PLAIN?[2J)");
	choose_fails("PLAIN LOGIN", "plain", false, false,
	    "'PLAIN' refused");
	choose_fails("PLAIN LOGIN", "LOGIN", false, false, "unencrypted");
	choose_fails("XOAUTH2", "XOAUTH2", false, false, "unencrypted");
	choose_fails("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256-PLUS", true, false,
	    "channel binding");
	choose_fails("FOO-BAR", "foo-bar",
	    true, true, "authentication method 'foo-bar' is not supported");
	/* libgsasl has NTLM and ANONYMOUS; yubin does not offer them */
	choose_fails("NTLM", "NTLM", true, true,
	    "authentication method 'NTLM' is not supported");
	choose_fails("ANONYMOUS", "ANONYMOUS", true, true, "not supported");

	error_init(&err);
	is_int(sasl_choose("PLAIN", NULL, true, false, tiny, sizeof(tiny),
	    &err), -1, "choose: name longer than the buffer");
	is_int(err.kind, ERR_SOFTWARE, "choose: ... is ERR_SOFTWARE");
}

/* ------------------------------------------------------------ mechanisms */

static void
test_plain_login_cram(void)
{
	struct sasl *s;
	char *chal;

	s = start("plain", "user", "pass");
	is_str(s ? sasl_mech(s) : NULL, "PLAIN", "sasl_mech is upper case");
	is_b64(step(s, NULL), "\0user\0pass", 10, "PLAIN initial response");
	sasl_free(s);

	s = start("PLAIN", "bob", "p\xc3\xa4ssw\xc3\xb6rd");
	is_b64(step(s, NULL), "\0bob\0p\xc3\xa4ssw\xc3\xb6rd", 15,
	    "PLAIN with a UTF-8 password sends it as is");
	sasl_free(s);

	s = start("LOGIN", "user", "pass");
	is_str(step(s, NULL), NULL, "LOGIN has no initial response");
	is_b64(step(s, "VXNlcm5hbWU6"), "user", 4, "LOGIN: Username:");
	is_b64(step(s, "UGFzc3dvcmQ6"), "pass", 4, "LOGIN: Password:");
	sasl_free(s);

	/* RFC 2195 section 2 */
	s = start("CRAM-MD5", "tim", "tanstaaftanstaaf");
	is_str(step(s, NULL), NULL, "CRAM-MD5 has no initial response");
	chal = b64("<1896.697170952@postoffice.reston.mci.net>", 42);
	is_b64(step(s, chal), "tim b913a602c7eda7a495b4e6e7334d3890", 36,
	    "CRAM-MD5: RFC 2195 vector");
	free(chal);
	sasl_free(s);
}

static void
test_external_errors(void)
{
	struct sasl_creds c = { "u", "p", "smtp", "h", NULL, NULL };
	struct sasl *s;
	struct error err;
	char *resp;

	s = start("EXTERNAL", NULL, NULL);
	resp = step(s, NULL);
	is_str(resp, "=", "EXTERNAL: empty initial response is '='");
	free(resp);
	sasl_free(s);

	s = start("PLAIN", "u", "p");
	resp = step(s, NULL);
	util_free_secret(resp);
	error_init(&err);
	is_int(sasl_step(s, NULL, &resp, &err), -1,
	    "initial response twice is an error");
	sasl_free(s);

	s = start("CRAM-MD5", "u", "p");
	error_init(&err);
	is_int(sasl_step(s, "not base64!", &resp, &err), -1,
	    "undecodable challenge fails");
	is_int(err.kind, ERR_PROTOCOL, "... with ERR_PROTOCOL");
	is_str(resp, NULL, "... and no response");
	sasl_free(s);

	error_init(&err);
	is_int(sasl_start(&s, "NTLM", &c, &err), -1, "start NTLM refused");
	ok(s == NULL && err.kind == ERR_AUTH &&
	    strstr(err.message, "'NTLM' is not supported") != NULL,
	    "... ERR_AUTH: %s", err.message);
	error_init(&err);
	is_int(sasl_start(&s, "SCRAM-SHA-256-PLUS", &c, &err), -1,
	    "start -PLUS without channel binding refused");
	ok(strstr(err.message, "channel binding") != NULL, "... %s",
	    err.message);
	c.cb_type = "tls-server-end-point";
	c.cb_data = "AAAA";
	error_init(&err);
	is_int(sasl_start(&s, "SCRAM-SHA-1-PLUS", &c, &err), -1,
	    "start -PLUS with an unknown binding type refused");
	sasl_free(NULL);
	ok(1, "sasl_free(NULL)");
}

static void
test_oauth(void)
{
	static const char x[] = "user=u@example.test\001auth=Bearer tok-123"
	    "\001\001";
	static const char o[] = "n,a=u@example.test,\001auth=Bearer tok-123"
	    "\001\001";
	static const char oesc[] = "n,a=a=2Cb=3Dc,\001auth=Bearer t\001\001";
	static const char onouser[] = "n,,\001auth=Bearer t\001\001";
	struct sasl_creds c = { NULL, "t", "smtp", "h", NULL, NULL };
	char *errchal = b64("{\"status\":\"invalid_token\"}", 26);
	struct error err;
	struct sasl *s;
	char *resp;

	s = start("XOAUTH2", "u@example.test", "tok-123");
	is_b64(step(s, NULL), x, sizeof(x) - 1, "XOAUTH2 initial response");
	resp = step(s, errchal);
	is_str(resp, "", "XOAUTH2: error challenge answered with empty line");
	free(resp);
	resp = step(s, errchal);
	is_str(resp, "(error)", "XOAUTH2: a third challenge is an error");
	free(resp);
	sasl_free(s);

	s = start("XOAUTH2", "u@example.test", "tok-123");
	is_b64(step(s, ""), x, sizeof(x) - 1,
	    "XOAUTH2: initial response after an empty 334");
	sasl_free(s);

	s = start("OAUTHBEARER", "u@example.test", "tok-123");
	is_b64(step(s, NULL), o, sizeof(o) - 1, "OAUTHBEARER initial");
	resp = step(s, errchal);
	is_str(resp, "AQ==", "OAUTHBEARER: error challenge answered with ^A");
	free(resp);
	sasl_free(s);

	s = start("OAUTHBEARER", "a,b=c", "t");
	is_b64(step(s, NULL), oesc, sizeof(oesc) - 1,
	    "OAUTHBEARER: a= is a saslname (, and = escaped)");
	sasl_free(s);
	s = start("OAUTHBEARER", NULL, "t");
	is_b64(step(s, NULL), onouser, sizeof(onouser) - 1,
	    "OAUTHBEARER without a user");
	sasl_free(s);

	error_init(&err);
	is_int(sasl_start(&s, "XOAUTH2", &c, &err), -1,
	    "XOAUTH2 without a user refused");
	c.user = "u";
	c.password = NULL;
	is_int(sasl_start(&s, "OAUTHBEARER", &c, &err), -1,
	    "OAUTHBEARER without a token refused");
	ok(err.kind == ERR_AUTH, "... ERR_AUTH: %s", err.message);
	free(errchal);
}

/* ------------------------------------------------- against gsasl's server */

struct srv {
	const char *pw;
	Gsasl_property cbprop;
	const char *cb;
	const char *iter;	/* SCRAM iteration count, or NULL: 4096 */
};

static int
srv_cb(Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
	struct srv *v = gsasl_callback_hook_get(ctx);

	switch (prop) {
	case GSASL_PASSWORD:
		return gsasl_property_set(sctx, prop, v->pw);
	case GSASL_SERVICE:
		return gsasl_property_set(sctx, prop, "smtp");
	case GSASL_HOSTNAME:
		return gsasl_property_set(sctx, prop, "mail.example.test");
	case GSASL_SCRAM_ITER:
		if (v->iter == NULL)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(sctx, prop, v->iter);
	case GSASL_CB_TLS_UNIQUE:
	case GSASL_CB_TLS_EXPORTER:
		if (v->cb != NULL && prop == v->cbprop)
			return gsasl_property_set(sctx, prop, v->cb);
		return GSASL_NO_CALLBACK;
	default:
		return GSASL_NO_CALLBACK;
	}
}

/*
 * Run mech between yubin's client and libgsasl's server the way SMTP
 * carries it. Returns 1 when both sides agree it worked.
 */
static int
exchange(const char *mech, const struct sasl_creds *c, struct srv *v,
    char *first, size_t firstsize)
{
	Gsasl *ctx;
	Gsasl_session *ss;
	struct sasl *s;
	struct error err;
	char *resp, *chal;
	int rc, result = 0;

	error_init(&err);
	if (gsasl_init(&ctx) != GSASL_OK)
		return 0;
	gsasl_callback_hook_set(ctx, v);
	gsasl_callback_set(ctx, srv_cb);
	if (gsasl_server_start(ctx, mech, &ss) != GSASL_OK ||
	    sasl_start(&s, mech, c, &err) == -1) {
		printf("# start: %s\n", err.message);
		gsasl_done(ctx);
		return 0;
	}
	resp = step(s, NULL);
	if (first != NULL && resp != NULL && unb64(resp, first, firstsize) < 0)
		first[0] = '\0';
	for (int i = 0; i < 10; i++) {
		const char *in = resp == NULL || strcmp(resp, "=") == 0 ?
		    "" : resp;

		rc = gsasl_step64(ss, in, &chal);
		util_free_secret(resp);
		resp = NULL;
		if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
			printf("# server: %s\n", gsasl_strerror(rc));
			break;
		}
		if (rc == GSASL_OK && *chal == '\0') {
			result = 1;
			gsasl_free(chal);
			break;
		}
		resp = step(s, chal);	/* server-final goes to the client */
		gsasl_free(chal);
		if (strcmp(resp, "(error)") == 0)
			break;
		if (rc == GSASL_OK) {
			result = *resp == '\0';
			break;
		}
	}
	util_free_secret(resp);
	sasl_free(s);
	gsasl_finish(ss);
	gsasl_done(ctx);
	return result;
}

static void
test_against_gsasl(void)
{
	struct sasl_creds c = { "bob", "p\xc3\xa4ssw\xc3\xb6rd", "smtp",
	    "mail.example.test", NULL, NULL };
	struct srv v = { "p\xc3\xa4ssw\xc3\xb6rd", GSASL_CB_TLS_EXPORTER,
	    NULL, NULL };
	char first[256];

	ok(exchange("SCRAM-SHA-256", &c, &v, first, sizeof(first)),
	    "SCRAM-SHA-256 with a UTF-8 password");
	ok(strncmp(first, "n,,n=bob,r=", 11) == 0,
	    "SCRAM-SHA-256 client-first starts n,,n=bob");
	ok(exchange("SCRAM-SHA-1", &c, &v, NULL, 0), "SCRAM-SHA-1");
	ok(exchange("DIGEST-MD5", &c, &v, NULL, 0), "DIGEST-MD5");
	ok(exchange("CRAM-MD5", &c, &v, NULL, 0), "CRAM-MD5");
	ok(exchange("PLAIN", &c, &v, NULL, 0), "PLAIN");
	ok(exchange("LOGIN", &c, &v, NULL, 0), "LOGIN");
	v.pw = "wrong";
	ok(!exchange("SCRAM-SHA-256", &c, &v, NULL, 0),
	    "SCRAM-SHA-256 with the wrong password fails");
	ok(!exchange("DIGEST-MD5", &c, &v, NULL, 0),
	    "DIGEST-MD5 with the wrong password fails");
	v.pw = c.password;

	/* channel binding: the binding data is passed as base64 */
	c.cb_type = "tls-exporter";
	c.cb_data = "c2VjcmV0LWV4cG9ydGVyLWRhdGEtMzItYnl0ZXMtbG9uZw==";
	v.cb = c.cb_data;
	ok(exchange("SCRAM-SHA-256-PLUS", &c, &v, first, sizeof(first)),
	    "SCRAM-SHA-256-PLUS with tls-exporter");
	ok(strncmp(first, "p=tls-exporter,,n=bob,", 22) == 0,
	    "... client-first starts p=tls-exporter");
	ok(exchange("SCRAM-SHA-256", &c, &v, first, sizeof(first)) &&
	    strncmp(first, "n,,", 3) == 0,
	    "plain SCRAM given binding data sends n, not y (no downgrade)");
	v.cb = "b3RoZXItZGF0YQ==";
	ok(!exchange("SCRAM-SHA-256-PLUS", &c, &v, NULL, 0),
	    "SCRAM-SHA-256-PLUS with different binding data fails");
	c.cb_type = "tls-unique";
	c.cb_data = "dW5pcXVl";
	v.cbprop = GSASL_CB_TLS_UNIQUE;
	v.cb = c.cb_data;
	ok(exchange("SCRAM-SHA-1-PLUS", &c, &v, first, sizeof(first)),
	    "SCRAM-SHA-1-PLUS with tls-unique");
	ok(strncmp(first, "p=tls-unique,,n=bob,", 20) == 0,
	    "... client-first starts p=tls-unique");
}

/*
 * Issue 9, finding 2: the server-first message's i= above 1,000,000 is
 * refused before libgsasl spends the PBKDF2 rounds on it.
 */
static void
scram_iter_case(const char *iter, const char *want)
{
	struct sasl_creds c = { "bob", "pw", "smtp", "mail.example.test",
	    NULL, NULL };
	struct srv v = { "pw", GSASL_CB_TLS_EXPORTER, NULL, iter };
	char *resp = NULL, *chal = NULL;
	Gsasl_session *ss = NULL;
	struct sasl *s = NULL;
	struct error err;
	long long t0;
	Gsasl *ctx;
	int r;

	error_init(&err);
	if (gsasl_init(&ctx) != GSASL_OK)
		return;
	gsasl_callback_hook_set(ctx, &v);
	gsasl_callback_set(ctx, srv_cb);
	gsasl_server_start(ctx, "SCRAM-SHA-256", &ss);
	sasl_start(&s, "SCRAM-SHA-256", &c, &err);
	resp = step(s, NULL);
	gsasl_step64(ss, resp, &chal);		/* the server-first message */
	util_free_secret(resp);
	resp = NULL;
	t0 = util_now_ms();
	r = sasl_step(s, chal, &resp, &err);
	ok(util_now_ms() - t0 < 1000, "SCRAM i=%s: answered at once", iter);
	is_int(r, -1, "SCRAM i=%s: refused", iter);
	is_int(err.kind, ERR_PROTOCOL, "SCRAM i=%s: as a protocol error", iter);
	is_str(err.message, want, "SCRAM i=%s: message", iter);
	util_free_secret(resp);
	gsasl_free(chal);
	sasl_free(s);
	gsasl_finish(ss);
	gsasl_done(ctx);
}

static void
test_scram_iterations(void)
{
	struct sasl_creds c = { "bob", "pw", "smtp", "mail.example.test",
	    NULL, NULL };
	struct srv v = { "pw", GSASL_CB_TLS_EXPORTER, NULL, "100000" };

	ok(exchange("SCRAM-SHA-256", &c, &v, NULL, 0),
	    "SCRAM with i=100000 (below the cap) works");
	scram_iter_case("1000001", "SCRAM-SHA-256 authentication refused: "
	    "the server asks for 1000001 iterations (i=), more than the limit "
	    "of 1000000");
	scram_iter_case("1000000000", "SCRAM-SHA-256 authentication refused: "
	    "the server asks for 1000000000 iterations (i=), more than the "
	    "limit of 1000000");
}

int
main(void)
{
	test_choose();
	test_choose_refused();
	test_choose_forced();
	test_plain_login_cram();
	test_external_errors();
	test_oauth();
	test_against_gsasl();
	test_scram_iterations();
	return done_testing();
}
