/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * login.c -- see login.h. The grants themselves go through oauth_post();
 * this file is the conversation with the user and the browser: the device
 * code's instructions and polling, the loopback listener, the PKCE pair.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "error.h"
#include "json.h"
#include "keyring.h"
#include "log.h"
#include "login.h"
#include "loopback.h"
#include "oauth.h"
#include "tls.h"
#include "util.h"

#define LOGIN_BROWSER_WAIT_MS	(10 * 60 * 1000)
#define LOGIN_DEVICE_TTL	900	/* expires_in when none is given */
#define LOGIN_DEVICE_TTL_MAX	86400
#define LOGIN_INTERVAL		5	/* RFC 8628 3.2, and slow_down's step */
#define LOGIN_INTERVAL_MAX	60
#define LOGIN_FAILURES		3	/* polls in a row that fail: give up */


/* ---------------------------------------------------------------- device */

struct device {
	char *code;		/* device_code: secret */
	char *user_code;
	char *uri;
	char *uri_complete;
	long long ttl, interval;
};

static void
device_release(struct device *d)
{
	util_free_secret(d->code);
	free(d->user_code);
	free(d->uri);
	free(d->uri_complete);
	memset(d, 0, sizeof(*d));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

/* A string from the provider shown to the user: printable ASCII only. */
static bool
printable(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return s != NULL;
}

static int
device_read(const struct account *a, const struct oauth_answer *ans,
    struct device *d, struct error *err)
{
	const struct json *j = ans->doc;
	const char *uri = json_string(j, "verification_uri");

	if (uri == NULL)
		uri = json_string(j, "verification_url");	/* Google */
	d->code = dup_or_null(json_string(j, "device_code"));
	d->user_code = dup_or_null(json_string(j, "user_code"));
	d->uri = dup_or_null(uri);
	d->uri_complete = dup_or_null(json_string(j,
	    "verification_uri_complete"));
	if (d->code == NULL || !printable(d->user_code) || !printable(d->uri))
		return error_set(err, ERR_PROTOCOL, "%s answered the device "
		    "sign-in without a usable device_code, user_code and "
		    "verification_uri", a->oauth.name);
	if (d->uri_complete != NULL && !printable(d->uri_complete)) {
		free(d->uri_complete);
		d->uri_complete = NULL;
	}
	if (json_int(j, "expires_in", &d->ttl) < 0 || d->ttl <= 0 ||
	    d->ttl > LOGIN_DEVICE_TTL_MAX)
		d->ttl = LOGIN_DEVICE_TTL;
	if (json_int(j, "interval", &d->interval) < 0 || d->interval <= 0)
		d->interval = LOGIN_INTERVAL;
	if (d->interval > LOGIN_INTERVAL_MAX)
		d->interval = LOGIN_INTERVAL_MAX;
	return 0;
}

static int
device_start(const struct account *a, struct device *d, struct error *err)
{
	struct oauth_answer ans;
	struct oauth_form form;
	int r;

	oauth_form_init(&form);
	oauth_form_add(&form, "scope", a->oauth.scope);
	r = oauth_post(a, a->oauth.device_url, &form, &ans, err);
	oauth_form_release(&form);
	if (r < 0)
		return -1;
	if (ans.error != NULL)
		r = error_set(err, ERR_AUTH, "%s refused to start a device "
		    "sign-in (%s)", a->oauth.name, ans.description);
	else
		r = device_read(a, &ans, d, err);
	oauth_answer_release(&ans);
	return r;
}

static void
device_tell(const struct account *a, const struct device *d)
{
	fprintf(stderr, "yubin: to sign in to %s as %s, open\n  %s\n"
	    "yubin: and enter the code %s\n", a->oauth.name, a->user, d->uri,
	    d->user_code);
	if (d->uri_complete != NULL)
		fprintf(stderr, "yubin: (or open %s, which holds the code)\n",
		    d->uri_complete);
	fprintf(stderr, "yubin: waiting up to %lld minute%s for the sign-in "
	    "(Ctrl-C gives up)\n", (d->ttl + 59) / 60,
	    d->ttl > 60 ? "s" : "");
}

static void
nap_ms(long long ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000L };

	while (ms > 0 && nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static int
device_expired(const struct account *a, const struct device *d,
    struct error *err)
{
	char cmd[PATH_MAX + 64];

	return error_set(err, ERR_AUTH, "the code %s expired before the "
	    "sign-in was finished; start again: %s", d->user_code,
	    oauth_login_command(a, cmd, sizeof(cmd)));
}

/* One poll: 1 keep polling, 0 tokens in ans, -1 failed. */
static int
device_poll_once(const struct account *a, struct device *d,
    struct oauth_answer *ans, struct error *err)
{
	struct oauth_form form;
	int r;

	oauth_form_init(&form);
	oauth_form_add(&form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code");
	oauth_form_add(&form, "device_code", d->code);
	r = oauth_post(a, a->oauth.token_url, &form, ans, err);
	oauth_form_release(&form);
	if (r < 0)
		return err->kind == ERR_TEMP ? 1 : -1;	/* a blip: go on */
	if (ans->error == NULL)
		return 0;
	if (strcmp(ans->error, "authorization_pending") == 0 ||
	    strcmp(ans->error, "slow_down") == 0) {
		if (strcmp(ans->error, "slow_down") == 0)
			d->interval += LOGIN_INTERVAL;	/* RFC 8628 3.5 */
		oauth_answer_release(ans);
		return 1;
	}
	if (strcmp(ans->error, "expired_token") == 0)
		r = device_expired(a, d, err);
	else if (strcmp(ans->error, "access_denied") == 0)
		r = error_set(err, ERR_AUTH, "the sign-in was declined (%s)",
		    ans->description);
	else
		r = error_set(err, ERR_AUTH, "%s refused the device sign-in "
		    "(%s)", a->oauth.name, ans->description);
	oauth_answer_release(ans);
	return r;
}

static int
device_flow(const struct account *a, struct oauth_answer *ans,
    struct error *err)
{
	struct device d = { 0 };
	long long deadline;
	int r, failed = 0;

	if (device_start(a, &d, err) < 0) {
		device_release(&d);
		return -1;
	}
	device_tell(a, &d);
	deadline = util_now_ms() + d.ttl * 1000;
	do {
		nap_ms(d.interval * 1000);
		r = device_poll_once(a, &d, ans, err);
		/* a blip is waited out; a provider that keeps failing is not */
		failed = r == 1 && err->kind == ERR_TEMP ? failed + 1 : 0;
		if (failed == LOGIN_FAILURES)
			r = -1;
		else if (failed > 0) {
			log_warn("%s; still waiting", err->message);
			error_init(err);
		}
	} while (r == 1 && util_now_ms() < deadline);
	if (r == 1)
		r = device_expired(a, &d, err);
	device_release(&d);
	return r;
}

/* ---------------------------------------------------------------- PKCE */

struct pkce {
	char verifier[48];	/* 32 random bytes: 43 characters */
	char challenge[48];	/* base64url(SHA-256(verifier)) */
	char state[32];		/* 16 random bytes: 22 characters */
};

static int
pkce_make(struct pkce *p, struct error *err)
{
	unsigned char r[32], h[32];
	int rc;

	rc = tls_random(r, sizeof(r));
	util_base64(r, sizeof(r), UTIL_BASE64URL, p->verifier);
	if (rc == 0)
		rc = tls_sha256(p->verifier, strlen(p->verifier), h);
	util_base64(h, sizeof(h), UTIL_BASE64URL, p->challenge);
	if (rc == 0)
		rc = tls_random(r, 16);
	util_base64(r, 16, UTIL_BASE64URL, p->state);
	util_wipe(r, sizeof(r));
	return rc == 0 ? 0 : error_set(err, ERR_SOFTWARE, "cannot make the "
	    "PKCE secret: no random bytes");
}

/* ---------------------------------------------------------------- browser */

/* The authorization request (RFC 6749 4.1.1, RFC 7636 4.3). */
static int
auth_url(const struct account *a, const char *redirect,
    const struct pkce *p, struct oauth_form *u, struct error *err)
{
	oauth_form_add(u, "response_type", "code");
	oauth_form_add(u, "client_id", a->oauth.client_id);
	oauth_form_add(u, "redirect_uri", redirect);
	oauth_form_add(u, "scope", a->oauth.scope);
	oauth_form_add(u, "state", p->state);
	oauth_form_add(u, "code_challenge", p->challenge);
	oauth_form_add(u, "code_challenge_method", "S256");
	oauth_form_add(u, "login_hint", a->user);
	/* Google gives a refresh token only for offline access. */
	if (a->oauth.provider == ACCOUNT_OAUTH_GOOGLE) {
		oauth_form_add(u, "access_type", "offline");
		oauth_form_add(u, "prompt", "consent");
	}
	return u->full ? error_set(err, ERR_CONFIG, "the authorization "
	    "address is too long") : 0;
}

/*
 * $BROWSER (a shell command, the address as its argument), else xdg-open
 * when there is a display; detached, its output thrown away.
 */
static void
open_browser(const char *url)
{
	const char *cmd = getenv("BROWSER");
	pid_t pid;

	if ((cmd == NULL || *cmd == '\0') && getenv("DISPLAY") == NULL &&
	    getenv("WAYLAND_DISPLAY") == NULL)
		return;
	if ((pid = fork()) != 0) {
		if (pid > 0)
			(void)waitpid(pid, NULL, 0);
		return;
	}
	if (fork() == 0) {	/* the grandchild, reaped by init */
		char *sh = cmd != NULL && *cmd != '\0' ?
		    xasprintf("exec %s \"$1\"", cmd) : NULL;
		char *argv[] = { (char *)"sh", (char *)"-c", sh, (char *)"sh",
		    (char *)url, NULL };
		char *xdg[] = { (char *)"xdg-open", (char *)url, NULL };
		int null = open("/dev/null", O_RDWR);

		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		if (sh != NULL)
			execv("/bin/sh", argv);
		else
			execvp("xdg-open", xdg);
	}
	_exit(0);
}

static void
browser_tell(const struct account *a, const char *redirect, const char *url)
{
	fprintf(stderr, "yubin: to sign in to %s as %s, open this address in "
	    "a browser:\n  %s\n", a->oauth.name, a->user, url);
	fprintf(stderr, "yubin: waiting up to %d minutes for the browser to "
	    "come back to %s\n", LOGIN_BROWSER_WAIT_MS / 60000, redirect);
	fprintf(stderr, "yubin: if the browser runs on another machine, paste "
	    "here the address it shows after the sign-in (it starts with "
	    "%s)\n", redirect);
}

/* The code for tokens (RFC 6749 4.1.3, RFC 7636 4.5). */
static int
exchange(const struct account *a, const char *code, const char *redirect,
    const struct pkce *p, struct oauth_answer *ans, struct error *err)
{
	struct oauth_form form;
	int r;

	oauth_form_init(&form);
	oauth_form_add(&form, "grant_type", "authorization_code");
	oauth_form_add(&form, "code", code);
	oauth_form_add(&form, "redirect_uri", redirect);
	oauth_form_add(&form, "code_verifier", p->verifier);
	r = oauth_post(a, a->oauth.token_url, &form, ans, err);
	oauth_form_release(&form);
	if (r == 0 && ans->error != NULL) {
		r = error_set(err, ERR_AUTH, "%s refused the authorization "
		    "code (%s)", a->oauth.name, ans->description);
		oauth_answer_release(ans);
	}
	return r;
}

static int
browser_flow(const struct account *a, struct oauth_answer *ans,
    struct error *err)
{
	struct loopback *l = NULL;
	struct oauth_form url;
	struct pkce p;
	char *code = NULL;
	int r;

	oauth_form_init(&url);		/* fits: auth_url < ACCOUNT_URL_MAX */
	(void)dynbuf_printf(&url.b, "%s%c", a->oauth.auth_url,
	    strchr(a->oauth.auth_url, '?') != NULL ? '&' : '?');
	r = pkce_make(&p, err);
	if (r == 0)
		r = loopback_open(&l, a->oauth.provider ==
		    ACCOUNT_OAUTH_MICROSOFT, err);
	if (r == 0)
		r = auth_url(a, loopback_redirect(l), &p, &url, err);
	if (r == 0) {
		browser_tell(a, loopback_redirect(l), url.b.data);
		open_browser(url.b.data);
		r = loopback_wait(l, p.state, LOGIN_BROWSER_WAIT_MS, &code,
		    err);
	}
	if (r == 0)
		r = exchange(a, code, loopback_redirect(l), &p, ans, err);
	loopback_close(l);
	util_free_secret(code);
	util_wipe(&p, sizeof(p));
	oauth_form_release(&url);
	return r;
}

/* ---------------------------------------------------------------- run */

static int
pick_flow(const struct account *a, enum login_flow f, enum login_flow *out,
    struct error *err)
{
	bool device = a->oauth.device_url[0] != '\0';

	*out = f != LOGIN_FLOW_AUTO ? f : device ? LOGIN_FLOW_DEVICE :
	    LOGIN_FLOW_BROWSER;
	if (*out == LOGIN_FLOW_DEVICE && !device)
		return error_set(err, ERR_CONFIG, "%s", a->oauth.provider ==
		    ACCOUNT_OAUTH_GOOGLE ? "Google does not allow the device "
		    "sign-in for sending mail; use --login --browser" :
		    "--device needs oauth2_device_endpoint");
	if (*out == LOGIN_FLOW_BROWSER && a->oauth.auth_url[0] == '\0')
		return error_set(err, ERR_CONFIG, "--browser needs "
		    "oauth2_auth_endpoint");
	return 0;
}

static void
tell_store(const struct account *a, enum token_store where)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64];

	if (where == TOKEN_STORE_KEYRING) {
		oauth_login_command(a, cmd, sizeof(cmd));
		fprintf(stderr, "yubin: signed in to %s as %s; the refresh "
		    "token is in the keyring (host '%s', service '%s', user "
		    "'%s'): programs in your desktop session can read it, cron "
		    "jobs and services cannot (for them: %s --store=file)\n",
		    a->oauth.name, a->user, a->host, KEYRING_OAUTH2, a->user,
		    cmd);
	} else
		fprintf(stderr, "yubin: signed in to %s as %s; the refresh "
		    "token is in %s (mode 0600: only you and root can read "
		    "it)\n", a->oauth.name, a->user,
		    oauth_token_path(a, path, sizeof(path)));
}

int
login_run(const struct account *a, const struct login_opts *o,
    struct error *err)
{
	struct oauth_answer ans;
	enum token_store where;
	enum login_flow flow;
	int r;

	if (a->oauth.provider == ACCOUNT_OAUTH_NONE)
		return error_set(err, ERR_CONFIG, "account '%s' has no "
		    "oauth2_provider: --login is for OAuth 2.0 accounts",
		    a->name);
	if (pick_flow(a, o->flow, &flow, err) < 0)
		return -1;
	if (o->store == TOKEN_STORE_KEYRING && keyring_check(err) < 0)
		return -1;
	r = flow == LOGIN_FLOW_DEVICE ? device_flow(a, &ans, err) :
	    browser_flow(a, &ans, err);
	if (r < 0)
		return -1;
	r = oauth_save_login(a, o->store, &ans, &where, err);
	oauth_answer_release(&ans);
	if (r == 0)
		tell_store(a, where);
	return r;
}
