/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sasl.c -- see sasl.h. A thin layer over GNU SASL: one Gsasl context for
 * the process (created on first use, freed at exit), one Gsasl_session per
 * struct sasl with the credentials set as properties before the first step.
 * XOAUTH2 and OAUTHBEARER are simple enough to build here.
 *
 * Responses, as the session driver sends them (RFC 4954):
 *   sasl_step(s, NULL, &r): r == NULL  -> "AUTH MECH" (no initial response)
 *                           r == "="   -> "AUTH MECH =" (empty initial
 *                                         response, mapped here: EXTERNAL)
 *                           otherwise  -> "AUTH MECH r"
 *   sasl_step(s, chal, &r): r == ""    -> an empty line (SCRAM's answer to
 *                                         the server-final message, XOAUTH2's
 *                                         answer to an error challenge)
 *                           otherwise  -> the line r
 * Every response may hold a secret: free it with util_free_secret().
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsasl.h>

#include "error.h"
#include "log.h"
#include "sasl.h"
#include "util.h"

/* GSASL_CB_TLS_EXPORTER (RFC 9266) first appeared in libgsasl 2.1.0. */
#if defined(GSASL_VERSION_NUMBER) && GSASL_VERSION_NUMBER >= 0x020100
#define SASL_HAVE_TLS_EXPORTER 1
#endif

#define SASL_OAUTH_MAX	(64 * 1024)	/* cap on an OAuth2 initial response */
/*
 * SCRAM: the most PBKDF2 iterations a server may ask for (i=). Real
 * servers use 4096 to 100000; one round costs about 0.5 us, so the cap is
 * well under a second, where 2^31-1 would be minutes of CPU. yubin(1).
 */
#define SASL_SCRAM_ITER_MAX 1000000

enum sasl_impl {
	SASL_IMPL_GSASL,	/* libgsasl does the work */
	SASL_IMPL_XOAUTH2,	/* Google/Microsoft's XOAUTH2, built here */
	SASL_IMPL_OAUTHBEARER,	/* RFC 7628, built here */
};

#define MECH_AUTO	 0x01	/* sasl_choose may pick it unasked */
#define MECH_CLEARTEXT	 0x02	/* secret readable on the wire: TLS only */
#define MECH_CB		 0x04	/* -PLUS: needs channel-binding data */
#define MECH_SERVER_FIRST 0x08	/* no initial response */
#define MECH_LAYER	 0x10	/* may negotiate a security layer */

struct sasl_mech {
	const char *name;
	enum sasl_impl impl;
	unsigned int flags;
};

/*
 * Strongest first: the order in which sasl_choose() prefers them.
 * DIGEST-MD5 (historic, RFC 6331): libgsasl converts a UTF-8 password to
 * ISO 8859-1 when it can, as RFC 2831 says; Dovecot hashes the UTF-8 bytes,
 * so a non-ASCII password fails there. SCRAM ranks higher anyway.
 */
static const struct sasl_mech sasl_mechs[] = {
	{ "SCRAM-SHA-256-PLUS", SASL_IMPL_GSASL, MECH_AUTO | MECH_CB },
	{ "SCRAM-SHA-1-PLUS", SASL_IMPL_GSASL, MECH_AUTO | MECH_CB },
	{ "SCRAM-SHA-256", SASL_IMPL_GSASL, MECH_AUTO },
	{ "SCRAM-SHA-1", SASL_IMPL_GSASL, MECH_AUTO },
	{ "DIGEST-MD5", SASL_IMPL_GSASL,
	    MECH_AUTO | MECH_SERVER_FIRST | MECH_LAYER },
	{ "CRAM-MD5", SASL_IMPL_GSASL, MECH_AUTO | MECH_SERVER_FIRST },
	{ "PLAIN", SASL_IMPL_GSASL, MECH_AUTO | MECH_CLEARTEXT },
	{ "LOGIN", SASL_IMPL_GSASL,
	    MECH_AUTO | MECH_CLEARTEXT | MECH_SERVER_FIRST },
	{ "EXTERNAL", SASL_IMPL_GSASL, 0 },
	{ "GSSAPI", SASL_IMPL_GSASL, MECH_LAYER },
	{ "XOAUTH2", SASL_IMPL_XOAUTH2, MECH_CLEARTEXT },
	{ "OAUTHBEARER", SASL_IMPL_OAUTHBEARER, MECH_CLEARTEXT },
};

struct sasl {
	const struct sasl_mech *mech;
	Gsasl_session *gs;	/* SASL_IMPL_GSASL */
	char *initial;		/* OAuth2: the raw initial response (secret) */
	size_t initial_len;
	bool started;		/* the initial step was taken */
	bool sent_initial;	/* OAuth2: initial response handed out */
	bool done;		/* the mechanism has nothing more to say */
};

static Gsasl *sasl_ctx;

static void
sasl_atexit(void)
{
	gsasl_done(sasl_ctx);
	sasl_ctx = NULL;
}

/* The process-wide libgsasl context, or NULL (err filled). */
static Gsasl *
sasl_context(struct error *err)
{
	int rc;

	if (sasl_ctx != NULL)
		return sasl_ctx;
	rc = gsasl_init(&sasl_ctx);
	if (rc != GSASL_OK) {
		sasl_ctx = NULL;
		error_set(err, ERR_SOFTWARE, "cannot initialise GNU SASL: %s",
		    gsasl_strerror(rc));
		return NULL;
	}
	atexit(sasl_atexit);
	return sasl_ctx;
}

static const struct sasl_mech *
mech_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sasl_mechs); i++)
		if (util_strcaseeq(sasl_mechs[i].name, name))
			return &sasl_mechs[i];
	return NULL;
}

/* Whether this build can do m (libgsasl may lack some mechanisms). */
static bool
mech_available(const struct sasl_mech *m)
{
	Gsasl *ctx;

	if (m->impl != SASL_IMPL_GSASL)
		return true;
	if ((ctx = sasl_context(NULL)) == NULL)
		return false;
	return gsasl_client_support_p(ctx, m->name) != 0;
}

/* Whether the space-separated list holds name (ASCII case-insensitive). */
static bool
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t");
		if (len == n && strncasecmp(p, name, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The server's list made safe for a message (it comes from the wire). */
static const char *
list_text(const char *list, char *buf, size_t size)
{
	size_t i;

	for (i = 0; list[i] != '\0' && i + 1 < size; i++)
		buf[i] = list[i] >= 0x20 && list[i] < 0x7f ? list[i] : '?';
	buf[i] = '\0';
	return i > 0 ? buf : "no mechanism";
}

static const struct sasl_mech *
choose_forced(const char *server, const char *forced, bool secure,
    bool have_cb, struct error *err)
{
	const struct sasl_mech *m = mech_find(forced);
	char buf[256];

	if (m == NULL || !mech_available(m)) {
		error_set(err, ERR_AUTH,
		    "authentication method '%s' is not supported", forced);
		return NULL;
	}
	if (!secure && (m->flags & MECH_CLEARTEXT)) {
		error_set(err, ERR_AUTH, "authentication method '%s' refused: "
		    "it would send the secret over an unencrypted connection",
		    m->name);
		return NULL;
	}
	if (!have_cb && (m->flags & MECH_CB)) {
		error_set(err, ERR_AUTH, "authentication method '%s' needs "
		    "TLS channel binding, which is not available", m->name);
		return NULL;
	}
	if (!list_has(server, m->name)) {
		error_set(err, ERR_AUTH, "server does not offer '%s' "
		    "(it offers: %s)", m->name,
		    list_text(server, buf, sizeof(buf)));
		return NULL;
	}
	return m;
}

static const struct sasl_mech *
choose_auto(const char *server, bool secure, bool have_cb,
    struct error *err)
{
	char buf[256];
	bool clear_only;

	for (size_t i = 0; i < ARRAY_SIZE(sasl_mechs); i++) {
		const struct sasl_mech *m = &sasl_mechs[i];

		if (!(m->flags & MECH_AUTO) ||
		    (!secure && (m->flags & MECH_CLEARTEXT)) ||
		    (!have_cb && (m->flags & MECH_CB)))
			continue;
		if (list_has(server, m->name) && mech_available(m))
			return m;
	}
	clear_only = !secure &&
	    (list_has(server, "PLAIN") || list_has(server, "LOGIN"));
	error_set(err, ERR_AUTH, "no usable authentication method "
	    "(server offers: %s)%s", list_text(server, buf, sizeof(buf)),
	    clear_only ? "; PLAIN and LOGIN are never used without TLS" : "");
	return NULL;
}

int
sasl_choose(const char *server, const char *forced, bool secure,
    bool have_cb, char *out, size_t outsize, struct error *err)
{
	const struct sasl_mech *m;

	if (server == NULL)
		server = "";
	if (forced != NULL)
		m = choose_forced(server, forced, secure, have_cb, err);
	else
		m = choose_auto(server, secure, have_cb, err);
	if (m == NULL)
		return -1;
	if (util_strlcpy(out, m->name, outsize) >= outsize)
		return error_set(err, ERR_SOFTWARE,
		    "no room for mechanism name '%s'", m->name);
	return 0;
}

int
sasl_choose_bearer(const char *server, bool secure, char *out,
    size_t outsize, struct error *err)
{
	static const char *const bearer[] = { "OAUTHBEARER", "XOAUTH2" };
	char buf[256];

	if (server == NULL)
		server = "";
	for (size_t i = 0; i < ARRAY_SIZE(bearer); i++)
		if (list_has(server, bearer[i]))
			return sasl_choose(server, bearer[i], secure, false,
			    out, outsize, err);
	return error_set(err, ERR_AUTH, "server offers no OAuth 2.0 method "
	    "(OAUTHBEARER, XOAUTH2); it offers: %s",
	    list_text(server, buf, sizeof(buf)));
}

/* ---------------------------------------------------------------- start */

static int
set_prop(struct sasl *s, Gsasl_property prop, const char *value,
    struct error *err)
{
	int rc;

	if (value == NULL)
		return 0;
	rc = gsasl_property_set(s->gs, prop, value);
	if (rc != GSASL_OK)
		return error_set(err, ERR_SOFTWARE, "%s: cannot set "
		    "property: %s", s->mech->name, gsasl_strerror(rc));
	return 0;
}

/*
 * Channel binding, for -PLUS only: given to a plain SCRAM, libgsasl would
 * send the "y" flag ("I could bind, I think you cannot"), which a server
 * that offers -PLUS must reject as a downgrade. libgsasl picks the binding
 * type from the property that is set, and (2.x) reads it at the first
 * step, so setting it after gsasl_client_start() is in time.
 */
static int
set_cb(struct sasl *s, const struct sasl_creds *c, struct error *err)
{
	Gsasl_property prop;

	if (c->cb_type == NULL || c->cb_data == NULL)
		return error_set(err, ERR_AUTH, "authentication method '%s' "
		    "needs TLS channel binding, which is not available",
		    s->mech->name);
	if (strcmp(c->cb_type, "tls-unique") == 0)
		prop = GSASL_CB_TLS_UNIQUE;
#ifdef SASL_HAVE_TLS_EXPORTER
	else if (strcmp(c->cb_type, "tls-exporter") == 0)
		prop = GSASL_CB_TLS_EXPORTER;
#endif
	else
		return error_set(err, ERR_AUTH, "%s: channel binding type '%s' "
		    "is not supported", s->mech->name, c->cb_type);
	return set_prop(s, prop, c->cb_data, err);
}

static int
start_gsasl(struct sasl *s, const struct sasl_creds *c, struct error *err)
{
	Gsasl *ctx = sasl_context(err);
	int rc;

	if (ctx == NULL)
		return -1;
	rc = gsasl_client_start(ctx, s->mech->name, &s->gs);
	if (rc != GSASL_OK) {
		s->gs = NULL;
		return error_set(err, ERR_AUTH, "cannot start %s "
		    "authentication: %s", s->mech->name, gsasl_strerror(rc));
	}
	if (set_prop(s, GSASL_AUTHID, c->user, err) < 0 ||
	    set_prop(s, GSASL_PASSWORD, c->password, err) < 0 ||
	    set_prop(s, GSASL_SERVICE, c->service ? c->service : "smtp",
	    err) < 0 ||
	    set_prop(s, GSASL_HOSTNAME, c->hostname, err) < 0)
		return -1;
	if ((s->mech->flags & MECH_CB) && set_cb(s, c, err) < 0)
		return -1;
	return 0;
}

/* OAUTHBEARER's a= is a saslname (RFC 5801): ',' and '=' escaped. */
static int
add_saslname(struct dynbuf *b, const char *name)
{
	for (const char *p = name; *p != '\0'; p++) {
		const char *esc = *p == ',' ? "=2C" : *p == '=' ? "=3D" : NULL;

		if ((esc ? dynbuf_addstr(b, esc) : dynbuf_add(b, p, 1)) < 0)
			return -1;
	}
	return 0;
}

/*
 * XOAUTH2:     "user=" U ^A "auth=Bearer " T ^A ^A
 * OAUTHBEARER: "n,a=" U "," ^A "auth=Bearer " T ^A ^A   (RFC 7628 3.1)
 */
static int
start_oauth(struct sasl *s, const struct sasl_creds *c, struct error *err)
{
	const char *name = s->mech->name;
	struct dynbuf b;
	int r;

	if (c->password == NULL || *c->password == '\0' ||
	    strchr(c->password, '\x01') != NULL)
		return error_set(err, ERR_AUTH, "%s needs an OAuth2 bearer "
		    "token as the password", name);
	if (c->user != NULL && strchr(c->user, '\x01') != NULL)
		return error_set(err, ERR_AUTH, "%s: bad user name", name);
	if (s->mech->impl == SASL_IMPL_XOAUTH2 && c->user == NULL)
		return error_set(err, ERR_AUTH, "%s needs a user name", name);
	dynbuf_init(&b, SASL_OAUTH_MAX);
	b.secret = true;
	if (s->mech->impl == SASL_IMPL_XOAUTH2)
		r = dynbuf_printf(&b, "user=%s", c->user);
	else if (c->user != NULL)
		r = dynbuf_addstr(&b, "n,a=") || add_saslname(&b, c->user) ||
		    dynbuf_addstr(&b, ",");
	else
		r = dynbuf_addstr(&b, "n,,");
	if (r == 0)
		r = dynbuf_printf(&b, "\001auth=Bearer %s\001\001",
		    c->password);
	if (r != 0) {
		dynbuf_release(&b);
		return error_set(err, ERR_AUTH, "%s: token too long", name);
	}
	s->initial = b.data;	/* the dynbuf's allocation changes hands */
	s->initial_len = b.len;
	return 0;
}

int
sasl_start(struct sasl **out, const char *mech,
    const struct sasl_creds *creds, struct error *err)
{
	const struct sasl_mech *m = mech_find(mech);
	struct sasl *s;
	int r;

	*out = NULL;
	if (m == NULL || !mech_available(m))
		return error_set(err, ERR_AUTH,
		    "authentication method '%s' is not supported", mech);
	s = xcalloc(1, sizeof(*s));
	s->mech = m;
	if (m->impl == SASL_IMPL_GSASL)
		r = start_gsasl(s, creds, err);
	else
		r = start_oauth(s, creds, err);
	if (r < 0) {
		sasl_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* ---------------------------------------------------------------- step */

/* Decode a challenge; an empty one is no data. */
static int
decode(const struct sasl *s, const char *b64, char **out, size_t *outlen,
    struct error *err)
{
	int rc;

	*out = NULL;
	*outlen = 0;
	if (*b64 == '\0')
		return 0;
	rc = gsasl_base64_from(b64, strlen(b64), out, outlen);
	if (rc != GSASL_OK) {
		*out = NULL;
		return error_set(err, rc == GSASL_BASE64_ERROR ? ERR_PROTOCOL :
		    ERR_SOFTWARE, "cannot decode the server's %s challenge: %s",
		    s->mech->name, gsasl_strerror(rc));
	}
	return 0;
}

/* base64 of raw into a fresh string ("" for no data). */
static int
encode(const char *raw, size_t len, char **out, struct error *err)
{
	char *b64 = NULL;
	size_t b64len = 0;
	int rc;

	if (len == 0) {
		*out = xstrdup("");
		return 0;
	}
	rc = gsasl_base64_to(raw, len, &b64, &b64len);
	if (rc != GSASL_OK)
		return error_set(err, ERR_SOFTWARE, "base64: %s",
		    gsasl_strerror(rc));
	*out = xstrndup(b64, b64len);
	util_wipe(b64, b64len);
	gsasl_free(b64);
	return 0;
}

static void
free_raw(char *p, size_t len)
{
	util_wipe(p, len);
	gsasl_free(p);
}

/*
 * A SCRAM server-first message names the iteration count ("r=..,s=..,
 * i=4096"): libgsasl would spend that many PBKDF2 rounds, so a hostile
 * server could hold the client for hours. Refuse i above the cap first.
 */
static int
scram_check_iterations(const struct sasl *s, const char *msg, size_t len,
    struct error *err)
{
	const char *p = msg, *end, *comma, *num;
	unsigned long long i;
	int n;

	if (len == 0)		/* the first step has no message (NULL) */
		return 0;
	for (end = msg + len; p < end; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (comma - p < 2 || p[0] != 'i' || p[1] != '=')
			continue;
		num = p + 2;
		for (i = 0, p = num; p < comma && *p >= '0' && *p <= '9'; p++)
			if (i <= SASL_SCRAM_ITER_MAX)
				i = i * 10 + (unsigned)(*p - '0');
		n = (int)(p - num);
		if (i > SASL_SCRAM_ITER_MAX)
			return error_set(err, ERR_PROTOCOL, "%s authentication "
			    "refused: the server asks for %.*s%s iterations "
			    "(i=), more than the limit of %d", s->mech->name,
			    n > 20 ? 20 : n, num, n > 20 ? "..." : "",
			    SASL_SCRAM_ITER_MAX);
	}
	return 0;
}

static int
step_gsasl(struct sasl *s, const char *challenge, char **response,
    struct error *err)
{
	char *in = NULL, *raw = NULL;
	size_t inlen = 0, rawlen = 0;
	int rc, r;

	if (challenge != NULL &&
	    decode(s, challenge, &in, &inlen, err) < 0)
		return -1;
	if (strncmp(s->mech->name, "SCRAM-", 6) == 0 &&
	    scram_check_iterations(s, in, inlen, err) < 0) {
		free_raw(in, inlen);
		return -1;
	}
	rc = gsasl_step(s->gs, in, inlen, &raw, &rawlen);
	free_raw(in, inlen);
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
		if (raw != NULL)
			free_raw(raw, rawlen);
		return error_set(err, ERR_AUTH, "%s authentication failed: %s",
		    s->mech->name, gsasl_strerror(rc));
	}
	s->done = rc == GSASL_OK;
	r = encode(raw, rawlen, response, err);
	free_raw(raw, rawlen);
	return r;
}

/*
 * After the initial response the only challenge an OAuth2 server sends is
 * an error (a JSON document). The client answers so the server can finish
 * with 535: XOAUTH2 with an empty response (Google's and Microsoft's
 * documentation), OAUTHBEARER with a single ^A (RFC 7628 3.2.3).
 */
static int
step_oauth(struct sasl *s, const char *challenge, char **response,
    struct error *err)
{
	char *why = NULL, shown[256];
	size_t len = 0;

	if (!s->sent_initial) {
		s->sent_initial = true;
		return encode(s->initial, s->initial_len, response, err);
	}
	if (decode(s, challenge, &why, &len, NULL) == 0 && why != NULL) {
		char *text = xstrndup(why, len);

		log_verbose("the server's %s error: %s", s->mech->name,
		    util_show(text, 200, true, shown, sizeof(shown)));
		free(text);
	}
	free_raw(why, len);
	s->done = true;
	if (s->mech->impl == SASL_IMPL_OAUTHBEARER)
		return encode("\001", 1, response, err);
	*response = xstrdup("");
	return 0;
}

int
sasl_step(struct sasl *s, const char *challenge, char **response,
    struct error *err)
{
	int r;

	*response = NULL;
	if (challenge == NULL) {
		if (s->started)
			return error_set(err, ERR_SOFTWARE, "%s: initial "
			    "response asked for twice", s->mech->name);
		s->started = true;
		if (s->mech->flags & MECH_SERVER_FIRST)
			return 0;
	}
	s->started = true;
	if (s->done)
		return error_set(err, ERR_PROTOCOL, "server sent a %s "
		    "challenge after the exchange was complete", s->mech->name);
	if (s->mech->impl == SASL_IMPL_GSASL)
		r = step_gsasl(s, challenge, response, err);
	else
		r = step_oauth(s, challenge, response, err);
	if (r == 0 && challenge == NULL && **response == '\0') {
		/* An empty initial response is "=" (RFC 4954 section 4). */
		free(*response);
		*response = xstrdup("=");
	}
	return r;
}

const char *
sasl_mech(const struct sasl *s)
{
	return s->mech->name;
}

bool
sasl_complete(const struct sasl *s)
{
	if (strncmp(s->mech->name, "SCRAM-", 6) == 0)
		return s->done;
	return true;
}

bool
sasl_last(const struct sasl *s)
{
	return s->mech->impl == SASL_IMPL_GSASL && s->done &&
	    !(s->mech->flags & MECH_LAYER);
}

/*
 * libgsasl frees its properties without wiping them: wipe the ones that
 * are secrets (or password equivalents) in place first. The strings are
 * the session's own heap copies, so writing to them before
 * gsasl_finish() is safe.
 */
static void
wipe_gsasl(Gsasl_session *gs)
{
	static const Gsasl_property secret[] = {
		GSASL_PASSWORD, GSASL_SCRAM_SALTED_PASSWORD,
		GSASL_DIGEST_MD5_HASHED_PASSWORD,
#if defined(GSASL_VERSION_NUMBER) && GSASL_VERSION_NUMBER >= 0x020000
		GSASL_SCRAM_SERVERKEY, GSASL_SCRAM_STOREDKEY,
#endif
	};

	for (size_t i = 0; i < ARRAY_SIZE(secret); i++) {
		char *p = (char *)gsasl_property_fast(gs, secret[i]);

		if (p != NULL)
			util_wipe(p, strlen(p));
	}
}

void
sasl_free(struct sasl *s)
{
	if (s == NULL)
		return;
	if (s->gs != NULL) {
		wipe_gsasl(s->gs);
		gsasl_finish(s->gs);
	}
	if (s->initial != NULL) {
		util_wipe(s->initial, s->initial_len);
		free(s->initial);
	}
	free(s);
}

const char *
sasl_library(void)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "GNU SASL %s", gsasl_check_version(NULL));
	return buf;
}
