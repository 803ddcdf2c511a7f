/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-oauth.c -- the OAuth 2.0 pieces that need no provider: the oauth2_*
 * keys and the presets (confkey.c, account.c), the token file
 * (tokenstore.c: round trip, permissions, damage, the lock), percent
 * encoding, the bearer mechanism choice (sasl.c) and the state machine's
 * one retry after a refused cached token (smtp.c).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "oauth.h"
#include "reply.h"
#include "sasl.h"
#include "smtp.h"
#include "smtptest.h"
#include "tap.h"
#include "tokenstore.h"
#include "util.h"

static char tmpdir[] = "/tmp/yubin-test-oauth.XXXXXX";

/* ---------------------------------------------------------------- config */

static int
account_from(const char *text, struct config *c, struct account *a,
    struct error *err)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int rc;

	if (f == NULL)
		bail_out("fmemopen: %s", strerror(errno));
	config_init(c);
	error_init(err);
	rc = config_parse(c, f, "t.rc", err);
	fclose(f);
	if (rc < 0)
		return -2;
	return account_select(c, NULL, a, err);
}

#define BASE "account a\nhost smtp.example\nuser alice\n"

static void
account_fails(const char *text, int want_rc, const char *want,
    const char *name)
{
	struct config c;
	struct account a;
	struct error err;

	is_int(account_from(text, &c, &a, &err), want_rc, "%s: refused",
	    name);
	is_str(err.message, want, "%s: message", name);
	config_release(&c);
}

static void __attribute__((unused))
test_presets(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(account_from(BASE "oauth2_provider microsoft\n"
	    "oauth2_client_id cid\n", &c, &a, &err) == 0, "microsoft: ok");
	is_int(a.oauth.provider, ACCOUNT_OAUTH_MICROSOFT, "microsoft: kind");
	is_str(a.oauth.token_url, "https://login.microsoftonline.com/common/"
	    "oauth2/v2.0/token", "microsoft: token endpoint, tenant common");
	is_str(a.oauth.device_url, "https://login.microsoftonline.com/common/"
	    "oauth2/v2.0/devicecode", "microsoft: device endpoint");
	is_str(a.oauth.auth_url, "https://login.microsoftonline.com/common/"
	    "oauth2/v2.0/authorize", "microsoft: authorization endpoint");
	is_str(a.oauth.scope, "https://outlook.office.com/SMTP.Send "
	    "offline_access", "microsoft: scope");
	ok(a.auth && a.auth_mech == NULL, "microsoft: auth on, no method "
	    "forced (OAUTHBEARER or XOAUTH2)");
	config_release(&c);

	ok(account_from(BASE "oauth2_provider microsoft\noauth2_tenant "
	    "contoso.onmicrosoft.com\noauth2_client_id cid\n", &c, &a,
	    &err) == 0, "microsoft with a tenant: ok");
	is_str(a.oauth.token_url, "https://login.microsoftonline.com/"
	    "contoso.onmicrosoft.com/oauth2/v2.0/token", "tenant in the URL");
	config_release(&c);

	ok(account_from(BASE "oauth2_provider google\noauth2_client_id cid\n"
	    "oauth2_client_secret s3\nauth xoauth2\n", &c, &a, &err) == 0,
	    "google: ok");
	is_str(a.oauth.auth_url, "https://accounts.google.com/o/oauth2/v2/"
	    "auth", "google: authorization endpoint");
	is_str(a.oauth.token_url, "https://oauth2.googleapis.com/token",
	    "google: token endpoint");
	is_str(a.oauth.device_url, "", "google: no device flow for Gmail");
	is_str(a.oauth.scope, "https://mail.google.com/", "google: scope");
	is_str(a.oauth.client_secret, "s3", "google: client secret kept");
	is_str(a.auth_mech, "XOAUTH2", "auth xoauth2: forced");
	config_release(&c);

	ok(account_from(BASE "oauth2_provider google\noauth2_client_id cid\n"
	    "oauth2_client_secret_eval cat x\noauth2_trust_file system\n"
	    "oauth2_token_endpoint https://t.example/tok\noauth2_scope s\n",
	    &c, &a, &err) == 0, "preset overridden: ok");
	ok(a.oauth.trust_file == NULL, "oauth2_trust_file system: the system "
	    "store");
	is_str(a.oauth.token_url, "https://t.example/tok",
	    "an endpoint overrides the preset's");
	is_str(a.oauth.scope, "s", "the scope overrides the preset's");
	config_release(&c);

	ok(account_from(BASE "oauth2_provider custom\noauth2_client_id c\n"
	    "oauth2_token_endpoint https://t.example/token\n", &c, &a, &err) ==
	    0, "custom: ok");
	is_str(a.oauth.auth_url, "", "custom: no authorization endpoint");
	config_release(&c);

	ok(account_from(BASE, &c, &a, &err) == 0 &&
	    a.oauth.provider == ACCOUNT_OAUTH_NONE, "no provider: passwords");
	config_release(&c);
}

static void __attribute__((unused))
test_config_errors(void)
{
	account_fails(BASE "oauth2_provider yahoo\n", -2, "t.rc:4: invalid "
	    "value 'yahoo' for 'oauth2_provider' (expected google, microsoft "
	    "or custom)", "unknown provider");
	account_fails(BASE "oauth2_token_endpoint http://t.example/\n", -2,
	    "t.rc:4: invalid value 'http://t.example/' for "
	    "'oauth2_token_endpoint' (expected an https:// URL)",
	    "http endpoint");
	account_fails(BASE "oauth2_provider microsoft\n", -1, "account 'a' "
	    "(t.rc:1): oauth2_client_id is not set: register yubin with "
	    "Microsoft 365 and write the client id here (see 'man yubinrc', "
	    "OAUTH2)", "no client id");
	account_fails(BASE "oauth2_provider custom\noauth2_client_id c\n", -1,
	    "account 'a' (t.rc:1): oauth2_token_endpoint is not set",
	    "custom without a token endpoint");
	account_fails(BASE "oauth2_provider microsoft\noauth2_client_id c\n"
	    "auth plain\n", -1, "account 'a' (t.rc:1): auth plain cannot be "
	    "used with oauth2_provider; write 'auth on', 'auth oauthbearer' "
	    "or 'auth xoauth2'", "auth plain with a provider");
	account_fails(BASE "oauth2_provider microsoft\noauth2_client_id c\n"
	    "auth off\n", -1, "account 'a' (t.rc:1): oauth2_provider is set "
	    "but auth is off", "auth off with a provider");
	account_fails(BASE "oauth2_client_id c\n", -1, "account 'a' "
	    "(t.rc:1): oauth2_* settings without 'oauth2_provider' (google, "
	    "microsoft or custom)", "client id without a provider");
	account_fails("account a\nhost h\noauth2_provider microsoft\n"
	    "oauth2_client_id c\n", -1, "account 'a' (t.rc:1): auth is on but "
	    "no 'user' is given", "a provider needs the user");
	account_fails(BASE "oauth2_provider google\noauth2_client_id c\n", -1,
	    "account 'a' (t.rc:1): Google needs the client secret of the "
	    "application too: set oauth2_client_secret or "
	    "oauth2_client_secret_eval", "google without a client secret");
	account_fails(BASE "oauth2_provider microsoft\noauth2_client_id c\n"
	    "oauth2_tenant a/b\n", -1, "account 'a' (t.rc:1): invalid "
	    "oauth2_tenant 'a/b' (expected common, organizations, consumers, "
	    "a domain or a tenant id)", "bad tenant");
}

/* Built --without-oauth2: the keys parse, an account using them is refused. */
static void __attribute__((unused))
test_without(void)
{
	account_fails(BASE "oauth2_provider microsoft\noauth2_client_id c\n",
	    -1, "account 'a' (t.rc:1): yubin was built without OAuth 2.0 "
	    "support (configure --without-oauth2)", "a provider is refused");
}

/* ---------------------------------------------------------------- store */

static void
test_store_roundtrip(void)
{
	struct token_state st = { 0 }, back;
	struct tokenstore ts;
	struct error err;
	struct stat sb;

	error_init(&err);
	ok(tokenstore_init(&ts, "smtp.example", "a b@x", &err) == 0, "init");
	ok(strstr(ts.path, "/yubin/oauth/a%20b%40x@smtp.example.token") !=
	    NULL, "file name: user and host percent-encoded (%s)", ts.path);
	ok(tokenstore_read(&ts, &back, &err) == 0 && !back.exists,
	    "no file yet: nothing, no error");
	st.store = TOKEN_STORE_FILE;
	st.client_id = xstrdup("cid");
	st.token_url = xstrdup("https://t.example/token?x=1&y=2");
	st.refresh = xstrdup("rt-1 with space\nand newline");
	st.access = xstrdup("at-1");
	st.expires = 1765000000;
	ok(tokenstore_write(&ts, &st, &err) == 0, "write");
	ok(stat(ts.path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "file mode 0600");
	ok(stat(ts.dir, &sb) == 0 && (sb.st_mode & 0777) == 0700,
	    "directory mode 0700");
	ok(tokenstore_read(&ts, &back, &err) == 0 && back.exists, "read back");
	is_int(back.store, TOKEN_STORE_FILE, "store");
	is_str(back.client_id, "cid", "client id");
	is_str(back.token_url, st.token_url, "token endpoint");
	is_str(back.refresh, st.refresh, "refresh token (encoded on disk)");
	is_str(back.access, "at-1", "access token");
	is_int(back.expires, 1765000000, "expiry");
	token_state_release(&back);
	token_state_release(&st);
	is_int(tokenstore_remove(&ts, &err), 1, "remove");
	is_int(tokenstore_remove(&ts, &err), 0, "remove again: nothing");
}

static void
write_raw(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		bail_out("%s: %s", path, strerror(errno));
	close(fd);
	chmod(path, mode);
}

static void
read_fails(struct tokenstore *ts, const char *want, const char *name)
{
	struct token_state st;
	struct error err;

	error_init(&err);
	ok(tokenstore_read(ts, &st, &err) == -1 && err.kind == ERR_CONFIG,
	    "%s: refused", name);
	is_str(err.message, want, "%s: message", name);
}

static void
test_store_refusals(void)
{
	struct tokenstore ts;
	struct token_state st = { .store = TOKEN_STORE_KEYRING,
	    .client_id = (char *)"c", .access = (char *)"a", .expires = 9 };
	struct error err;
	char want[PATH_MAX * 3];

	error_init(&err);
	tokenstore_init(&ts, "h", "u", &err);
	ok(tokenstore_write(&ts, &st, &err) == 0, "write a keyring-store file");
	chmod(ts.path, 0640);
	snprintf(want, sizeof(want), "refusing token file '%s': other users "
	    "can read it (chmod 600 '%s')", ts.path, ts.path);
	read_fails(&ts, want, "group-readable");
	write_raw(ts.path, "hello\n", 0600);
	snprintf(want, sizeof(want), "refusing token file '%s': not a yubin "
	    "OAuth 2.0 token file", ts.path);
	read_fails(&ts, want, "not ours");
	write_raw(ts.path, "yubin-oauth2 1\naccess_token %zz\n", 0600);
	snprintf(want, sizeof(want), "token file '%s' is damaged; log in again "
	    "(yubin --login)", ts.path);
	read_fails(&ts, want, "bad escape");
	unlink(ts.path);
	if (symlink("/etc/passwd", ts.path) != 0)
		bail_out("symlink %s: %s", ts.path, strerror(errno));
	snprintf(want, sizeof(want), "cannot read token file '%s': it is a "
	    "symbolic link", ts.path);
	read_fails(&ts, want, "symbolic link");
	unlink(ts.path);
}

static void
test_store_lock(void)
{
	struct tokenstore ts, other;
	struct error err;
	long long t0;
	int status;
	pid_t pid;

	error_init(&err);
	tokenstore_init(&ts, "h", "lock", &err);
	tokenstore_init(&other, "h", "lock", &err);
	ok(tokenstore_lock(&ts, 1000, &err) == 0, "lock");
	if ((pid = fork()) < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0) {		/* another yubin: must wait, then give up */
		struct error e;
		int r;

		error_init(&e);
		r = tokenstore_lock(&other, 300, &e);
		_exit(r == -1 && e.kind == ERR_TEMP &&
		    strstr(e.message, "another yubin is refreshing") ? 0 : 1);
	}
	t0 = util_now_ms();
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second locker waits "
	    "and gives up with ERR_TEMP");
	ok(util_now_ms() - t0 >= 250, "after its timeout");
	tokenstore_unlock(&ts);
	ok(tokenstore_lock(&other, 300, &err) == 0, "free again after unlock");
	tokenstore_unlock(&other);
}

/* ---------------------------------------------------------------- encode */

static void
test_pct(void)
{
	struct dynbuf b;
	char *d;

	dynbuf_init(&b, 1024);
	ok(util_pct_encode(&b, "a b&c=d/é~._-") == 0, "encode");
	is_str(b.data, "a%20b%26c%3Dd%2F%C3%A9~._-", "encoded");
	d = util_pct_decode(b.data, b.len);
	is_str(d, "a b&c=d/é~._-", "decoded back");
	free(d);
	d = util_pct_decode("a+b%41", 6);
	is_str(d, "a bA", "'+' is a space");
	free(d);
	ok(util_pct_decode("%4", 2) == NULL, "short escape refused");
	ok(util_pct_decode("%zz", 3) == NULL, "bad escape refused");
	ok(util_pct_decode("a%00b", 5) == NULL, "encoded NUL refused");
	dynbuf_release(&b);
	dynbuf_init(&b, 4);
	ok(util_pct_encode(&b, "%%") == -1, "cap respected");
	dynbuf_release(&b);
}

static void
test_token_ok(void)
{
	ok(oauth_token_ok("ya29.a0AfH6SMB-x_y~z+/w=="), "b64token: ok");
	ok(oauth_token_ok("eyJ0eXAi.eyJhdWQ.sig"), "a JWT: ok");
	ok(!oauth_token_ok(""), "empty: refused");
	ok(!oauth_token_ok(NULL), "none: refused");
	ok(!oauth_token_ok("a b"), "a space: refused");
	ok(!oauth_token_ok("a\001b"), "^A (XOAUTH2's separator): refused");
	ok(!oauth_token_ok("a\r\nMAIL FROM:<x>"), "CR LF: refused");
	ok(!oauth_token_ok("=abc"), "padding first: refused");
	ok(!oauth_token_ok("ab=c"), "padding inside: refused");
}

/* ---------------------------------------------------------------- SASL */

static void
test_bearer_choice(void)
{
	char m[32];
	struct error err;

	error_init(&err);
	ok(sasl_choose_bearer("PLAIN XOAUTH2 OAUTHBEARER", true, m, sizeof(m),
	    &err) == 0, "both offered");
	is_str(m, "OAUTHBEARER", "OAUTHBEARER preferred (RFC 7628)");
	ok(sasl_choose_bearer("PLAIN XOAUTH2", true, m, sizeof(m), &err) == 0,
	    "XOAUTH2 only");
	is_str(m, "XOAUTH2", "XOAUTH2 then");
	ok(sasl_choose_bearer("PLAIN LOGIN", true, m, sizeof(m), &err) == -1,
	    "neither offered: refused");
	is_str(err.message, "server offers no OAuth 2.0 method (OAUTHBEARER, "
	    "XOAUTH2); it offers: PLAIN LOGIN", "neither: message");
	ok(sasl_choose_bearer("XOAUTH2", false, m, sizeof(m), &err) == -1 &&
	    err.kind == ERR_AUTH, "never without TLS");
}

/* ------------------------------------------ SMTP (R(), sent(): smtptest.h) */

/* An implicit-TLS machine at AUTH, offering what ehlo says. */
static void
at_auth(struct smtp *s, const char *ehlo)
{
	static const struct smtp_opts o = { .ehlo_domain = "c",
	    .tls = SMTP_TLS_IMPLICIT, .auth = true, .user = "alice",
	    .oauth = true };

	smtp_init(s, &o);
	smtp_start(s);
	smtp_on_reply(s, R("220 mx"));
	sent(s);
	if (smtp_on_reply(s, R(ehlo)) != SMTP_ACT_AUTH)
		printf("# not at AUTH\n");
}

static void
test_retry(void)
{
	struct smtp s;

	at_auth(&s, "250-mx\n250 AUTH PLAIN XOAUTH2");
	is_int(smtp_auth_start(&s, "mx", "tok1", NULL, NULL, true),
	    SMTP_ACT_READ, "XOAUTH2 with a cached token");
	/* base64("user=alice\1auth=Bearer tok1\1\1") */
	is_str(sent(&s), "AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sxAQE="
	    "\r\n", "XOAUTH2 initial response");
	is_int(smtp_on_reply(&s, R("334 eyJzdGF0dXMiOiI0MDEifQ==")),
	    SMTP_ACT_READ, "error challenge answered");
	is_str(sent(&s), "\r\n", "with an empty line");
	is_int(smtp_on_reply(&s, R("535 5.7.8 token expired")), SMTP_ACT_AUTH,
	    "535 to a cached token: AUTH again");
	ok(s.auth_refused, "auth_refused tells the driver to refresh");
	is_int(s.state, SMTP_STATE_AUTH_WAIT, "waiting for credentials");
	is_int(smtp_auth_start(&s, "mx", "tok2", NULL, NULL, false),
	    SMTP_ACT_READ, "a fresh token");
	ok(!s.auth_refused, "auth_refused cleared");
	sent(&s);
	is_int(smtp_on_reply(&s, R("535 5.7.8 still no")), SMTP_ACT_FAIL,
	    "a second 535: failure");
	is_int(s.err.kind, ERR_AUTH, "ERR_AUTH (77)");
	is_str(s.err.message, "authentication (XOAUTH2) failed for user "
	    "'alice'", "the message");
	smtp_release(&s);

	at_auth(&s, "250-mx\n250 AUTH OAUTHBEARER XOAUTH2");
	smtp_auth_start(&s, "mx", "tok", NULL, NULL, true);
	ok(strncmp(sent(&s), "AUTH OAUTHBEARER ", 17) == 0,
	    "auth on with a provider: OAUTHBEARER first");
	is_int(smtp_on_reply(&s, R("454 4.7.0 try later")), SMTP_ACT_FAIL,
	    "454: no retry, temporary");
	is_int(s.err.kind, ERR_TEMP, "ERR_TEMP");
	smtp_release(&s);

	at_auth(&s, "250-mx\n250 AUTH OAUTHBEARER");
	smtp_auth_start(&s, "mx", "tok", NULL, NULL, true);
	sent(&s);
	is_int(smtp_on_reply(&s, R("534 5.7.9 go to the web")),
	    SMTP_ACT_FAIL, "534: no retry");
	smtp_release(&s);
}

int
main(void)
{
	char *state;

	if (mkdtemp(tmpdir) == NULL)
		return 99;
	state = xasprintf("%s/state", tmpdir);
	setenv("XDG_STATE_HOME", state, 1);
#ifdef HAVE_OAUTH2
	test_presets();
	test_config_errors();
#else
	test_without();
#endif
	test_store_roundtrip();
	test_store_refusals();
	test_store_lock();
	test_pct();
	test_token_ok();
	test_bearer_choice();
	test_retry();
	free(state);
	if (tap_failed == 0) {
		char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		(void)!system(cmd);
		free(cmd);
	}
	return done_testing();
}
