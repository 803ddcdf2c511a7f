/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * oauth.c -- see oauth.h. The access token for a send: the cached one
 * while it has more than OAUTH_MARGIN seconds left, else a refresh under
 * the store's lock (re-reading the file first: another yubin may have
 * refreshed meanwhile, and then its token is used and no second request
 * is made). A rotated refresh token is in its store before the new access
 * token is handed out.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "error.h"
#include "http.h"
#include "json.h"
#include "keyring.h"
#include "log.h"
#include "oauth.h"
#include "password.h"
#include "tokenstore.h"
#include "util.h"

#define OAUTH_MARGIN	60	/* refresh when less is left (seconds), */
				/* or half the lifetime of a shorter token */
#define OAUTH_TTL	3600	/* expires_in when the provider says none */
#define OAUTH_TTL_MAX	(366LL * 86400)	/* more is taken as a mistake */
#define OAUTH_FORM_MAX	(32 * 1024)
#define OAUTH_SHOW_ERROR 48	/* bytes of a provider's error code shown */
#define OAUTH_SHOW_DESC	140	/* ... of its error_description */

/* ---------------------------------------------------------------- names */

/* s for a shell command line: as it is, or in single quotes. */
static const char *
shell_word(const char *s, char *buf, size_t size)
{
	struct dynbuf b;

	if (*s != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789@%+=:,./_-") == strlen(s))
		return s;
	/* what does not fit buf is left out (a hint, not a command): (void) */
	dynbuf_init(&b, size > 0 ? size - 1 : 0);
	(void)dynbuf_addstr(&b, "'");
	for (; *s != '\0'; s++)
		(void)(*s == '\'' ? dynbuf_addstr(&b, "'\\''") :
		    dynbuf_add(&b, s, 1));
	(void)dynbuf_addstr(&b, "'");
	util_strlcpy(buf, b.data != NULL ? b.data : "''", size);
	dynbuf_release(&b);
	return buf;
}

const char *
oauth_login_command(const struct account *a, char *buf, size_t size)
{
	const char *file = a->conf != NULL ? a->conf->file : NULL;
	char path[PATH_MAX + 8], qfile[2 * PATH_MAX], qname[256];
	const char *name = shell_word(a->name, qname, sizeof(qname));

	if (file == NULL) {
		snprintf(buf, size, "yubin --login -a %s", name);
		return buf;
	}
	if (file[0] != '/' && getcwd(path, sizeof(path) - 2) != NULL)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "/%s", file);
	else
		util_strlcpy(path, file, sizeof(path));
	snprintf(buf, size, "yubin -C %s --login -a %s",
	    shell_word(path, qfile, sizeof(qfile)), name);
	return buf;
}

const char *
oauth_token_path(const struct account *a, char *buf, size_t size)
{
	struct tokenstore ts;

	if (tokenstore_init(&ts, a->host, a->user, NULL) < 0)
		util_strlcpy(buf, "(no state directory)", size);
	else
		util_strlcpy(buf, ts.path, size);
	return buf;
}

/* ---------------------------------------------------------------- POST */

/* oauth2_client_secret_eval's answer, run once per process. */
static struct {
	char *cmd;
	char *secret;
} evaled;

static void
forget_evaled(void)
{
	free(evaled.cmd);
	util_free_secret(evaled.secret);
	evaled.cmd = evaled.secret = NULL;
}

static int
client_secret(const struct account *a, char **out, struct error *err)
{
	const char *cmd = a->oauth.client_secret_eval;

	*out = NULL;
	if (a->oauth.client_secret != NULL) {
		*out = xstrdup(a->oauth.client_secret);
		return 0;
	}
	if (cmd == NULL)
		return 0;
	if (evaled.cmd == NULL || strcmp(evaled.cmd, cmd) != 0) {
		if (evaled.cmd == NULL)
			atexit(forget_evaled);
		forget_evaled();
		if (password_eval(a, "oauth2_client_secret_eval", cmd,
		    "secret", &evaled.secret, err) < 0)
			return -1;
		evaled.cmd = xstrdup(cmd);
	}
	*out = xstrdup(evaled.secret);
	return 0;
}

void
oauth_form_init(struct oauth_form *f)
{
	dynbuf_init(&f->b, OAUTH_FORM_MAX);
	f->b.secret = true;
	f->full = false;
}

void
oauth_form_add(struct oauth_form *f, const char *key, const char *value)
{
	size_t len = f->b.len;

	if (value == NULL || *value == '\0' || f->full)
		return;
	/* a separator, unless this starts the form or a URL's query */
	if ((len > 0 && strchr("?&", f->b.data[len - 1]) == NULL &&
	    dynbuf_addstr(&f->b, "&") < 0) ||
	    dynbuf_printf(&f->b, "%s=", key) < 0 ||
	    util_pct_encode(&f->b, value) < 0) {
		f->b.len = len;		/* what fitted stays; nothing is sent */
		f->full = true;
	}
}

void
oauth_form_release(struct oauth_form *f)
{
	dynbuf_release(&f->b);
}

/* client_id, and client_secret when there is one. */
static int
add_client(const struct account *a, struct oauth_form *f, struct error *err)
{
	char *secret;

	if (client_secret(a, &secret, err) < 0)
		return -1;
	oauth_form_add(f, "client_id", a->oauth.client_id);
	oauth_form_add(f, "client_secret", secret);
	util_free_secret(secret);
	if (f->full)
		return error_set(err, ERR_SOFTWARE, "OAuth 2.0 request too "
		    "long");
	return 0;
}

/* "error: description" from the answer, safe to print. */
static void
describe(struct oauth_answer *ans)
{
	const char *d = json_string(ans->doc, "error_description");
	char e[64], t[160];

	util_show(ans->error, OAUTH_SHOW_ERROR, true, e, sizeof(e));
	if (d == NULL)
		snprintf(ans->description, sizeof(ans->description), "%s", e);
	else
		snprintf(ans->description, sizeof(ans->description), "%s: %s",
		    e, util_show(d, OAUTH_SHOW_DESC, true, t, sizeof(t)));
}

/* The answer's status and body, made into ans or an error. */
static int
read_answer(const char *url, struct http_response *rs,
    struct oauth_answer *ans, struct error *err)
{
	long st = rs->status;

	ans->status = st;
	if (st >= 500 || st == 429)
		return error_set(err, ERR_TEMP, "the OAuth 2.0 provider at '%s' "
		    "answered HTTP %ld (a temporary failure)", url, st);
	/*
	 * Not JSON: a proxy, a firewall's or a maintenance page; temporary
	 * (a message waits in the queue), named so that a wrong endpoint
	 * can be told apart.
	 */
	if (json_parse(rs->body.data != NULL ? rs->body.data : "",
	    rs->body.len, &ans->doc, err) < 0)
		return err->kind != ERR_PROTOCOL ? -1 : error_set(err,
		    ERR_TEMP, "the OAuth 2.0 provider at '%s' answered HTTP "
		    "%ld with something that is not JSON (check the "
		    "oauth2_*_endpoint settings if this lasts)", url, st);
	ans->error = json_string(ans->doc, "error");
	if (ans->error != NULL)
		describe(ans);
	else if (st != 200)
		return error_set(err, ERR_TEMP, "the OAuth 2.0 provider at '%s' "
		    "answered HTTP %ld without saying why", url, st);
	/* RFC 6749 5.2 has no such code; Microsoft documents both */
	if (ans->error != NULL && (strcmp(ans->error, "server_error") == 0 ||
	    strcmp(ans->error, "temporarily_unavailable") == 0))
		return error_set(err, ERR_TEMP, "the OAuth 2.0 provider at '%s' "
		    "is not available now (%s)", url, ans->description);
	return 0;
}

int
oauth_post(const struct account *a, const char *url, struct oauth_form *form,
    struct oauth_answer *ans, struct error *err)
{
	struct http_request rq = { .url = url, .ca_file = a->oauth.trust_file,
	    .timeout_ms = a->timeout_ms };
	struct http_response rs;
	int r;

	memset(ans, 0, sizeof(*ans));
	if (rq.ca_file != NULL && access(rq.ca_file, R_OK) < 0)
		return error_set(err, ERR_CONFIG, "cannot read "
		    "oauth2_trust_file '%s': %s", rq.ca_file, strerror(errno));
	if (add_client(a, form, err) < 0)
		return -1;
	rq.form = form->b.data;
	r = http_post(&rq, &rs, err);
	if (r == 0)
		r = read_answer(url, &rs, ans, err);
	http_response_release(&rs);
	if (r < 0)
		oauth_answer_release(ans);
	return r;
}

void
oauth_answer_release(struct oauth_answer *ans)
{
	json_free(ans->doc);
	memset(ans, 0, sizeof(*ans));
}

/* ---------------------------------------------------------------- store */

bool
oauth_token_ok(const char *t)
{
	size_t n;

	/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-._~+/" ) *"=" */
	if (t == NULL)
		return false;
	n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/");
	return n > 0 && strspn(t + n, "=") == strlen(t + n);
}

/* The access token of a successful answer, with its expiry, into st. */
static int
take_access(const struct account *a, const struct oauth_answer *ans,
    struct token_state *st, struct error *err)
{
	const char *at = json_string(ans->doc, "access_token");
	long long ttl;

	if (!oauth_token_ok(at))
		return error_set(err, ERR_PROTOCOL, "the OAuth 2.0 provider at "
		    "'%s' sent no usable access_token (RFC 6750 allows letters, "
		    "digits and -._~+/ only)", a->oauth.token_url);
	if (json_int(ans->doc, "expires_in", &ttl) < 0 || ttl <= 0 ||
	    ttl > OAUTH_TTL_MAX)
		ttl = OAUTH_TTL;
	util_free_secret(st->access);
	st->access = xstrdup(at);
	st->issued = (long long)time(NULL);
	st->expires = st->issued + ttl;
	util_free_secret(st->client_id);
	st->client_id = xstrdup(a->oauth.client_id);
	util_free_secret(st->token_url);
	st->token_url = xstrdup(a->oauth.token_url);
	return 0;
}

/* The refresh token goes to the keyring; the file keeps none. */
static int
keep_in_keyring(const struct account *a, struct token_state *st,
    const char *refresh, struct error *err)
{
	if (keyring_store(a->host, KEYRING_OAUTH2, a->user, refresh,
	    err) < 0)
		return -1;
	st->store = TOKEN_STORE_KEYRING;
	util_free_secret(st->refresh);
	st->refresh = NULL;
	return 0;
}

static void
keep_in_file(struct token_state *st, const char *refresh)
{
	st->store = TOKEN_STORE_FILE;
	if (refresh != st->refresh) {
		util_free_secret(st->refresh);
		st->refresh = xstrdup(refresh);
	}
}

/*
 * A refresh answer: a rotated refresh token into its store first (the
 * keyring, or the file when the keyring will not take it), then the file.
 */
static int
save_refreshed(const struct account *a, struct tokenstore *ts,
    struct token_state *st, enum token_store where,
    const struct oauth_answer *ans, struct error *err)
{
	const char *rt = json_string(ans->doc, "refresh_token");
	struct error kerr;

	if (take_access(a, ans, st, err) < 0)
		return -1;
	st->store = where;
	if (rt != NULL && *rt != '\0') {
		log_verbose("OAuth 2.0: the provider sent a new refresh "
		    "token; storing it (%s)", tokenstore_name(where));
		error_init(&kerr);
		if (where != TOKEN_STORE_KEYRING ||
		    keep_in_keyring(a, st, rt, &kerr) < 0) {
			if (where == TOKEN_STORE_KEYRING)
				log_warn("cannot store the new OAuth 2.0 refresh "
				    "token in the keyring (%s); keeping it in "
				    "%s", kerr.message, ts->path);
			keep_in_file(st, rt);
		}
	}
	return tokenstore_write(ts, st, err);
}

/*
 * A login's refresh token into the store asked for; with none asked, the
 * keyring when it is reachable and takes it, else the file (the sign-in
 * must not be lost to a keyring that says no).
 */
static int
keep_login(const struct account *a, enum token_store want,
    struct token_state *st, const char *rt, struct error *err)
{
	struct error kerr;

	if (want == TOKEN_STORE_KEYRING)
		return keep_in_keyring(a, st, rt, err);
	error_init(&kerr);
	if (want == TOKEN_STORE_NONE && keyring_unavailable() == NULL) {
		if (keep_in_keyring(a, st, rt, &kerr) == 0)
			return 0;
		log_warn("%s; keeping the refresh token in the token file "
		    "instead", kerr.message);
	}
	keep_in_file(st, rt);
	if (keyring_unavailable() == NULL)
		(void)keyring_forget(a->host, KEYRING_OAUTH2, a->user, &kerr);
	return 0;
}

int
oauth_save_login(const struct account *a, enum token_store want,
    const struct oauth_answer *ans, enum token_store *where,
    struct error *err)
{
	const char *rt = json_string(ans->doc, "refresh_token");
	struct token_state st = { 0 };
	struct tokenstore ts;
	int r = -1;

	if (rt == NULL || *rt == '\0')
		return error_set(err, ERR_AUTH, "%s sent no refresh token, so "
		    "yubin could not send for long%s", a->oauth.name,
		    a->oauth.provider == ACCOUNT_OAUTH_MICROSOFT ? "; "
		    "oauth2_scope must include offline_access" : "");
	if (tokenstore_init(&ts, a->host, a->user, err) < 0 ||
	    take_access(a, ans, &st, err) < 0 ||
	    tokenstore_lock(&ts, a->timeout_ms, err) < 0)
		goto out;
	if (keep_login(a, want, &st, rt, err) == 0)
		r = tokenstore_write(&ts, &st, err);
	tokenstore_unlock(&ts);
	*where = st.store;
out:
	token_state_release(&st);
	return r;
}

/* ---------------------------------------------------------------- send */

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The stored tokens belong to this account's client and endpoint. */
static bool
ours(const struct account *a, const struct token_state *st)
{
	return same(st->client_id, a->oauth.client_id) &&
	    same(st->token_url, a->oauth.token_url);
}

/*
 * Still good for a while: more than OAUTH_MARGIN seconds left, or half
 * its lifetime for a token that lives shorter than twice that (else
 * every process would refresh a 60-second token anew).
 */
static bool
usable(const struct account *a, const struct token_state *st,
    const char *refused)
{
	long long margin = OAUTH_MARGIN, life = st->expires - st->issued;

	if (st->issued > 0 && life > 0 && life / 2 < margin)
		margin = life / 2;
	return oauth_token_ok(st->access) && ours(a, st) &&
	    st->expires - (long long)time(NULL) > margin &&
	    !same(st->access, refused);
}

/* Where yubin looked, and the login that fixes it from here. */
static int
no_token(const struct account *a, const struct tokenstore *ts,
    const char *file_why, const char *keyring_why, struct error *err)
{
	char cmd[PATH_MAX + 64];

	return error_set(err, ERR_AUTH, "no OAuth 2.0 token for user '%s' at "
	    "'%s' (account '%s'); looked in:\n  token file: %s: %s\n  "
	    "keyring: %s\nlog in once with: %s%s", a->user, a->host, a->name,
	    ts->path, file_why, keyring_why,
	    oauth_login_command(a, cmd, sizeof(cmd)),
	    keyring_unavailable() != NULL ? " --store=file" : "");
}

/* The refresh token and where it is. */
static int
find_refresh(const struct account *a, const struct tokenstore *ts,
    const struct token_state *st, char **out, enum token_store *where,
    struct error *err)
{
	char why[256] = "not used (the token file says the file store)";
	const char *fwhy = st->exists ? "no refresh token in it" :
	    "no such file";

	*out = NULL;
	if (st->exists && !ours(a, st))
		return error_set(err, ERR_AUTH, "the stored OAuth 2.0 token of "
		    "account '%s' was issued to another client or token "
		    "endpoint; log in again: %s", a->name,
		    oauth_login_command(a, why, sizeof(why)));
	if (st->store == TOKEN_STORE_FILE && st->refresh != NULL) {
		*out = xstrdup(st->refresh);
		*where = TOKEN_STORE_FILE;
		log_verbose("OAuth 2.0: refresh token from the token file");
		return 0;
	}
	if (st->store != TOKEN_STORE_FILE && keyring_lookup(a->host,
	    KEYRING_OAUTH2, a->user, out, why, sizeof(why)) == CRED_FOUND) {
		*where = TOKEN_STORE_KEYRING;
		log_verbose("OAuth 2.0: refresh token from the keyring");
		return 0;
	}
	if (st->store == TOKEN_STORE_KEYRING)
		fwhy = "it says the refresh token is in the keyring";
	return no_token(a, ts, fwhy, why, err);
}

/* The provider refused the refresh: what the user must do. */
static int
refresh_refused(const struct account *a, const struct oauth_answer *ans,
    struct error *err)
{
	char cmd[PATH_MAX + 64];

	oauth_login_command(a, cmd, sizeof(cmd));
	if (strcmp(ans->error, "invalid_grant") == 0)
		return error_set(err, ERR_AUTH, "%s refused the refresh token "
		    "of account '%s' (%s): it has expired or was revoked; log "
		    "in again: %s", a->oauth.name, a->name, ans->description,
		    cmd);
	if (strcmp(ans->error, "invalid_client") == 0 ||
	    strcmp(ans->error, "unauthorized_client") == 0)
		return error_set(err, ERR_AUTH, "%s refused the client of "
		    "account '%s' (%s); check oauth2_client_id and "
		    "oauth2_client_secret", a->oauth.name, a->name,
		    ans->description);
	return error_set(err, ERR_AUTH, "%s refused to refresh the access "
	    "token of account '%s' (%s)", a->oauth.name, a->name,
	    ans->description);
}

static int
refresh(const struct account *a, struct tokenstore *ts,
    struct token_state *st, struct error *err)
{
	struct oauth_answer ans;
	enum token_store where = TOKEN_STORE_NONE;
	struct oauth_form form;
	char *rt;
	int r;

	if (find_refresh(a, ts, st, &rt, &where, err) < 0)
		return -1;
	log_verbose("OAuth 2.0: refreshing the access token at %s",
	    a->oauth.token_url);
	oauth_form_init(&form);
	oauth_form_add(&form, "grant_type", "refresh_token");
	oauth_form_add(&form, "refresh_token", rt);
	/* scope is optional (RFC 6749 6); Microsoft's v2 endpoint wants it */
	oauth_form_add(&form, "scope", a->oauth.scope);
	util_free_secret(rt);
	r = oauth_post(a, a->oauth.token_url, &form, &ans, err);
	oauth_form_release(&form);
	if (r < 0)
		return -1;
	if (ans.error != NULL)
		r = refresh_refused(a, &ans, err);
	else
		r = save_refreshed(a, ts, st, where, &ans, err);
	oauth_answer_release(&ans);
	return r;
}

static void
say_cached(const struct token_state *st, const char *how)
{
	long long left = st->expires - (long long)time(NULL);

	log_verbose("OAuth 2.0: access token %s (valid for %lld min more)",
	    how, left / 60);
}

/* Under the lock: re-read, then use what another yubin got, or refresh. */
static int
token_locked(const struct account *a, struct tokenstore *ts,
    struct token_state *st, const char *refused, struct error *err)
{
	token_state_release(st);
	if (tokenstore_read(ts, st, err) < 0)
		return -1;
	if (usable(a, st, refused)) {
		say_cached(st, "just refreshed by another yubin");
		return 0;
	}
	if (refresh(a, ts, st, err) < 0)
		return -1;
	say_cached(st, "refreshed");
	return 0;
}

int
oauth_token(const struct account *a, const char *refused, char **token,
    bool *cached, struct error *err)
{
	struct token_state st;
	struct tokenstore ts;
	int r;

	*token = NULL;
	*cached = false;
	if (tokenstore_init(&ts, a->host, a->user, err) < 0 ||
	    tokenstore_read(&ts, &st, err) < 0)
		return -1;
	if (usable(a, &st, refused)) {
		say_cached(&st, "from the token file");
		*cached = true;
		*token = xstrdup(st.access);
		token_state_release(&st);
		return 0;
	}
	if (refused != NULL)
		log_verbose("OAuth 2.0: the server refused the access token");
	r = tokenstore_lock(&ts, a->timeout_ms, err);
	if (r == 0)
		r = token_locked(a, &ts, &st, refused, err);
	tokenstore_unlock(&ts);
	if (r == 0)
		*token = xstrdup(st.access);
	token_state_release(&st);
	return r;
}

int
oauth_logout(const struct account *a, struct error *err)
{
	enum cred f, k = CRED_NONE;
	struct tokenstore ts;
	struct error kerr;

	if (a->oauth.provider == ACCOUNT_OAUTH_NONE)
		return error_set(err, ERR_CONFIG, "account '%s' has no "
		    "oauth2_provider: --logout is for OAuth 2.0 accounts",
		    a->name);
	if (tokenstore_init(&ts, a->host, a->user, err) < 0 ||
	    tokenstore_lock(&ts, a->timeout_ms, err) < 0)
		return -1;
	f = tokenstore_remove(&ts, err);
	tokenstore_unlock(&ts);
	if (f == CRED_ERROR)
		return -1;
	error_init(&kerr);
	if (keyring_unavailable() == NULL)
		k = keyring_forget(a->host, KEYRING_OAUTH2, a->user, &kerr);
	if (f == CRED_NONE && k != CRED_FOUND)
		log_warn("no OAuth 2.0 token was stored for account '%s'",
		    a->name);
	else
		fprintf(stderr, "yubin: the OAuth 2.0 tokens of account '%s' "
		    "are forgotten (%s%s%s); %s still takes the refresh token "
		    "until it expires or is revoked there\n", a->name,
		    f == CRED_FOUND ? "token file" : "", f == CRED_FOUND &&
		    k == CRED_FOUND ? " and " : "", k == CRED_FOUND ?
		    "keyring" : "", a->oauth.name);
	return 0;
}
