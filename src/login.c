/*
 * login.c -- see login.h. The grants themselves go through oauth_post();
 * this file is the conversation with the user and the browser: the device
 * code's instructions and polling, the loopback listener, the PKCE pair.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "error.h"
#include "json.h"
#include "keyring.h"
#include "log.h"
#include "login.h"
#include "oauth.h"
#include "tls.h"
#include "util.h"

#define LOGIN_BROWSER_WAIT_MS	(10 * 60 * 1000)
#define LOGIN_REQUEST_MAX	8192	/* bytes of the browser's request */
#define LOGIN_REQUEST_MS	10000	/* to send it */
#define LOGIN_FORM_MAX		(32 * 1024)
#define LOGIN_DEVICE_TTL	900	/* expires_in when none is given */
#define LOGIN_INTERVAL_MAX	60


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
	    d->ttl > 86400)
		d->ttl = LOGIN_DEVICE_TTL;
	if (json_int(j, "interval", &d->interval) < 0 || d->interval <= 0)
		d->interval = 5;		/* RFC 8628 3.2 */
	if (d->interval > LOGIN_INTERVAL_MAX)
		d->interval = LOGIN_INTERVAL_MAX;
	return 0;
}

static int
device_start(const struct account *a, struct device *d, struct error *err)
{
	struct oauth_answer ans;
	struct dynbuf form;
	int r;

	dynbuf_init(&form, LOGIN_FORM_MAX);
	form.secret = true;
	r = dynbuf_addstr(&form, "scope=") ||
	    util_pct_encode(&form, a->oauth.scope != NULL ? a->oauth.scope :
	    "") ? error_set(err, ERR_CONFIG, "oauth2_scope too long") : 0;
	if (r == 0)
		r = oauth_post(a, a->oauth.device_url, &form, &ans, err);
	dynbuf_release(&form);
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
	fprintf(stderr, "yubin: waiting up to %lld minutes for the sign-in "
	    "(Ctrl-C gives up)\n", (d->ttl + 59) / 60);
}

static void
nap_ms(long long ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000L };

	while (ms > 0 && nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* One poll: 1 keep polling, 0 tokens in ans, -1 failed. */
static int
device_poll_once(const struct account *a, struct device *d,
    struct oauth_answer *ans, struct error *err)
{
	struct dynbuf form;
	int r;

	dynbuf_init(&form, LOGIN_FORM_MAX);
	form.secret = true;
	r = dynbuf_addstr(&form, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	    "grant-type%3Adevice_code&device_code=") ||
	    util_pct_encode(&form, d->code) ? error_set(err, ERR_PROTOCOL,
	    "device_code too long") : 0;
	if (r == 0)
		r = oauth_post(a, a->oauth.token_url, &form, ans, err);
	dynbuf_release(&form);
	if (r < 0)
		return err->kind == ERR_TEMP ? 1 : -1;	/* a blip: go on */
	if (ans->error == NULL)
		return 0;
	if (strcmp(ans->error, "authorization_pending") == 0 ||
	    strcmp(ans->error, "slow_down") == 0) {
		if (strcmp(ans->error, "slow_down") == 0)
			d->interval += 5;		/* RFC 8628 3.5 */
		oauth_answer_release(ans);
		return 1;
	}
	if (strcmp(ans->error, "expired_token") == 0)
		r = error_set(err, ERR_AUTH, "the code %s expired before the "
		    "sign-in was finished; run yubin --login again",
		    d->user_code);
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
	int r;

	if (device_start(a, &d, err) < 0) {
		device_release(&d);
		return -1;
	}
	device_tell(a, &d);
	deadline = util_now_ms() + d.ttl * 1000;
	do {
		nap_ms(d.interval * 1000);
		r = device_poll_once(a, &d, ans, err);
		if (r == 1 && err->kind == ERR_TEMP) {
			log_warn("%s; still waiting", err->message);
			error_init(err);
		}
	} while (r == 1 && util_now_ms() < deadline);
	if (r == 1)
		r = error_set(err, ERR_AUTH, "the code %s expired before the "
		    "sign-in was finished; run yubin --login again",
		    d.user_code);
	device_release(&d);
	return r;
}

/* ---------------------------------------------------------------- PKCE */

/* base64url without padding (RFC 4648 section 5) of n bytes. */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 |
		    (i + 1 < n ? (unsigned long)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? in[i + 2] : 0);

		out[o++] = set[v >> 18 & 63];
		out[o++] = set[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = set[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = set[v & 63];
	}
	out[o] = '\0';
}

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
	b64url(r, sizeof(r), p->verifier);
	if (rc == 0)
		rc = tls_sha256(p->verifier, strlen(p->verifier), h);
	b64url(h, sizeof(h), p->challenge);
	if (rc == 0)
		rc = tls_random(r, 16);
	b64url(r, 16, p->state);
	util_wipe(r, sizeof(r));
	return rc == 0 ? 0 : error_set(err, ERR_SOFTWARE, "cannot make the "
	    "PKCE secret: no random bytes");
}

/* ---------------------------------------------------------------- browser */

struct browser {
	int fd;			/* the listener */
	int port;
	char redirect[64];	/* http://127.0.0.1:PORT/ */
	struct pkce pkce;
	struct dynbuf paste;	/* a line being pasted on stdin */
	bool stdin_open;
	char *code;		/* the answer: secret */
};

static int
listen_loopback(struct browser *b, const struct account *a,
    struct error *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	b->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->fd < 0 || bind(b->fd, (struct sockaddr *)&sin, len) < 0 ||
	    listen(b->fd, 8) < 0 ||
	    getsockname(b->fd, (struct sockaddr *)&sin, &len) < 0)
		return error_set(err, ERR_OSERR, "cannot listen on 127.0.0.1 "
		    "for the browser: %s", strerror(errno));
	b->port = ntohs(sin.sin_port);
	/* Microsoft registers "http://localhost" for desktop apps. */
	snprintf(b->redirect, sizeof(b->redirect), "http://%s:%d/",
	    a->oauth.provider == ACCOUNT_OAUTH_MICROSOFT ? "localhost" :
	    "127.0.0.1", b->port);
	return 0;
}

static int
add_param(struct dynbuf *u, const char *key, const char *value)
{
	return dynbuf_printf(u, "&%s=", key) || util_pct_encode(u, value) ?
	    -1 : 0;
}

/* The authorization request (RFC 6749 4.1.1, RFC 7636 4.3). */
static int
auth_url(const struct account *a, const struct browser *b,
    struct dynbuf *u, struct error *err)
{
	const char *sep = strchr(a->oauth.auth_url, '?') != NULL ? "&" : "?";
	int r;

	r = dynbuf_printf(u, "%s%sresponse_type=code", a->oauth.auth_url,
	    sep) || add_param(u, "client_id", a->oauth.client_id) ||
	    add_param(u, "redirect_uri", b->redirect) ||
	    add_param(u, "scope", a->oauth.scope != NULL ? a->oauth.scope :
	    "") || add_param(u, "state", b->pkce.state) ||
	    add_param(u, "code_challenge", b->pkce.challenge) ||
	    add_param(u, "code_challenge_method", "S256") ||
	    add_param(u, "login_hint", a->user);
	/* Google gives a refresh token only for offline access. */
	if (r == 0 && a->oauth.provider == ACCOUNT_OAUTH_GOOGLE)
		r = add_param(u, "access_type", "offline") ||
		    add_param(u, "prompt", "consent");
	return r == 0 ? 0 : error_set(err, ERR_CONFIG, "the authorization "
	    "address is too long");
}

/* $BROWSER URL, or xdg-open URL when there is a display; detached. */
static void
open_browser(const char *url)
{
	const char *cmd = getenv("BROWSER");
	pid_t pid;

	if ((cmd == NULL || *cmd == '\0') && getenv("DISPLAY") == NULL &&
	    getenv("WAYLAND_DISPLAY") == NULL)
		return;
	if (cmd == NULL || *cmd == '\0')
		cmd = "xdg-open";
	if ((pid = fork()) != 0) {
		if (pid > 0)
			(void)waitpid(pid, NULL, 0);
		return;
	}
	if (fork() == 0) {	/* the grandchild, reaped by init */
		char *argv[] = { (char *)cmd, (char *)url, NULL };
		int null = open("/dev/null", O_RDWR);

		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		execvp(cmd, argv);
	}
	_exit(0);
}

static void
browser_tell(const struct account *a, const struct browser *b,
    const char *url)
{
	fprintf(stderr, "yubin: to sign in to %s as %s, open this address in "
	    "a browser:\n  %s\n", a->oauth.name, a->user, url);
	fprintf(stderr, "yubin: waiting up to 10 minutes for the browser to "
	    "come back to %s\n", b->redirect);
	fprintf(stderr, "yubin: if the browser runs on another machine, paste "
	    "here the address it shows after the sign-in (it starts with "
	    "%s)\n", b->redirect);
}

/* ------------------------------------------------- the browser's answer */

enum answer {
	ANSWER_NONE,		/* not a sign-in answer (favicon.ico ...) */
	ANSWER_BAD_STATE,	/* somebody else's, or forged: ignored */
	ANSWER_CODE,		/* b->code is set */
	ANSWER_ERROR,		/* the provider said no: err is set */
};

/* The decoded value of key in query (n bytes), or NULL. */
static char *
query_get(const char *q, size_t n, const char *key)
{
	size_t klen = strlen(key), i = 0;

	while (i < n) {
		size_t len = strcspn(q + i, "&#");

		if (i + len > n)
			len = n - i;
		if (len > klen && q[i + klen] == '=' &&
		    strncmp(q + i, key, klen) == 0)
			return util_pct_decode(q + i + klen + 1,
			    len - klen - 1);
		if (q[i + len] == '#')
			break;
		i += len + 1;
	}
	return NULL;
}

static enum answer
check_answer(struct browser *b, const char *q, size_t n,
    const struct account *a, struct error *err)
{
	char *state = query_get(q, n, "state");
	char *code = query_get(q, n, "code");
	char *e = query_get(q, n, "error");
	enum answer r = ANSWER_NONE;
	char shown[96];

	if (code == NULL && e == NULL)
		r = ANSWER_NONE;
	else if (state == NULL || strcmp(state, b->pkce.state) != 0)
		r = ANSWER_BAD_STATE;
	else if (code != NULL) {
		b->code = code;
		code = NULL;
		r = ANSWER_CODE;
	} else {
		error_set(err, ERR_AUTH, "the sign-in at %s failed: %s",
		    a->oauth.name, util_show(e, 80, true, shown, sizeof(shown)));
		r = ANSWER_ERROR;
	}
	free(state);
	free(e);
	util_free_secret(code);
	return r;
}

static void
send_page(int fd, int status, const char *text)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n<!doctype html><title>yubin</title>"
	    "<p>%s</p>\n", status, status == 200 ? "OK" : status == 404 ?
	    "Not Found" : "Bad Request", text);
	if (n > 0)
		(void)!write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

/* Read the request head (bounded in size and time); 0 or -1. */
static int
read_request(int fd, char *buf, size_t size)
{
	long long deadline = util_now_ms() + LOGIN_REQUEST_MS;
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - util_now_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		r = read(fd, buf + n, size - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			return 0;
	}
	return -1;
}

/* The query of "GET /path?query HTTP/1.1", or NULL. */
static const char *
request_query(const char *req, size_t *n)
{
	const char *q;

	if (strncmp(req, "GET /", 5) != 0)
		return NULL;
	q = req + 4;
	*n = strcspn(q, " \r\n");
	q = memchr(q, '?', *n);
	if (q == NULL)
		return NULL;
	q++;
	*n = strcspn(q, " \r\n");
	return q;
}

static enum answer
on_connection(struct browser *b, const struct account *a,
    struct error *err)
{
	char req[LOGIN_REQUEST_MAX];
	enum answer r = ANSWER_NONE;
	const char *q = NULL;
	size_t n = 0;
	int c = accept4(b->fd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		return ANSWER_NONE;
	if (read_request(c, req, sizeof(req)) == 0 &&
	    (q = request_query(req, &n)) != NULL)
		r = check_answer(b, q, n, a, err);
	if (r == ANSWER_CODE)
		send_page(c, 200, "Signed in: yubin has what it needs. You can "
		    "close this tab.");
	else if (r == ANSWER_ERROR)
		send_page(c, 200, "The sign-in failed; yubin says why in the "
		    "terminal.");
	else if (r == ANSWER_BAD_STATE)
		send_page(c, 400, "This answer does not belong to the sign-in "
		    "yubin is waiting for (wrong state); it was ignored.");
	else
		send_page(c, 404, "Not the sign-in answer yubin waits for.");
	util_wipe(req, sizeof(req));
	close(c);
	if (r == ANSWER_BAD_STATE)
		log_warn("ignored an answer on %s with the wrong state "
		    "(not from this sign-in)", b->redirect);
	return r;
}

/* A pasted line: the address the browser ended on. */
static enum answer
on_paste(struct browser *b, const struct account *a, struct error *err)
{
	const char *line = b->paste.data != NULL ? b->paste.data : "";
	const char *q = strchr(line, '?');
	enum answer r = ANSWER_NONE;

	if (q != NULL)
		r = check_answer(b, q + 1, strcspn(q + 1, " \t\r\n"), a, err);
	if (r == ANSWER_NONE && line[strspn(line, " \t\r\n")] != '\0')
		log_warn("that is not the address the browser shows after the "
		    "sign-in (it starts with %s and holds a code)",
		    b->redirect);
	else if (r == ANSWER_BAD_STATE)
		log_warn("that address does not belong to this sign-in "
		    "(wrong state); paste the one the browser shows now");
	dynbuf_reset(&b->paste);
	return r;
}

static enum answer
on_stdin(struct browser *b, const struct account *a, struct error *err)
{
	char buf[1024];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	enum answer r = ANSWER_NONE;
	char *nl;

	if (n <= 0) {
		b->stdin_open = n < 0 && errno == EINTR;
		return ANSWER_NONE;
	}
	if (dynbuf_add(&b->paste, buf, (size_t)n) < 0)
		dynbuf_reset(&b->paste);	/* junk: start over */
	while (r == ANSWER_NONE && b->paste.data != NULL &&
	    (nl = strchr(b->paste.data, '\n')) != NULL) {
		size_t len = (size_t)(nl - b->paste.data) + 1;
		char *rest = xstrdup(nl + 1);

		b->paste.data[len] = '\0';
		b->paste.len = len;
		r = on_paste(b, a, err);
		(void)dynbuf_addstr(&b->paste, rest);
		util_free_secret(rest);
	}
	util_wipe(buf, sizeof(buf));
	return r;
}

static int
wait_answer(struct browser *b, const struct account *a, struct error *err)
{
	long long deadline = util_now_ms() + LOGIN_BROWSER_WAIT_MS;
	enum answer r = ANSWER_NONE;

	while (r != ANSWER_CODE && r != ANSWER_ERROR) {
		struct pollfd p[2] = { { .fd = b->fd, .events = POLLIN },
		    { .fd = STDIN_FILENO, .events = POLLIN } };
		long long left = deadline - util_now_ms();
		int n = poll(p, b->stdin_open ? 2 : 1, left > 0 ? (int)left :
		    0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, ERR_AUTH, "no answer from the "
			    "browser in 10 minutes; run yubin --login again");
		r = ANSWER_NONE;
		if (p[0].revents & POLLIN)
			r = on_connection(b, a, err);
		if (r == ANSWER_NONE && b->stdin_open && p[1].revents)
			r = on_stdin(b, a, err);
	}
	return r == ANSWER_CODE ? 0 : -1;
}

/* The code for tokens (RFC 6749 4.1.3, RFC 7636 4.5). */
static int
exchange(const struct account *a, struct browser *b,
    struct oauth_answer *ans, struct error *err)
{
	struct dynbuf form;
	int r;

	dynbuf_init(&form, LOGIN_FORM_MAX);
	form.secret = true;
	r = dynbuf_addstr(&form, "grant_type=authorization_code&code=") ||
	    util_pct_encode(&form, b->code) ||
	    dynbuf_addstr(&form, "&redirect_uri=") ||
	    util_pct_encode(&form, b->redirect) ||
	    dynbuf_addstr(&form, "&code_verifier=") ||
	    util_pct_encode(&form, b->pkce.verifier) ?
	    error_set(err, ERR_PROTOCOL, "authorization code too long") : 0;
	if (r == 0)
		r = oauth_post(a, a->oauth.token_url, &form, ans, err);
	dynbuf_release(&form);
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
	struct browser b = { .fd = -1, .stdin_open = true };
	struct dynbuf url;
	int r;

	dynbuf_init(&url, 8192);
	dynbuf_init(&b.paste, 16 * 1024);
	b.paste.secret = true;
	r = pkce_make(&b.pkce, err);
	if (r == 0)
		r = listen_loopback(&b, a, err);
	if (r == 0)
		r = auth_url(a, &b, &url, err);
	if (r == 0) {
		browser_tell(a, &b, url.data);
		open_browser(url.data);
		r = wait_answer(&b, a, err);
	}
	if (r == 0)
		r = exchange(a, &b, ans, err);
	if (b.fd >= 0)
		close(b.fd);
	util_free_secret(b.code);
	util_wipe(&b.pkce, sizeof(b.pkce));
	dynbuf_release(&b.paste);
	dynbuf_release(&url);
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
