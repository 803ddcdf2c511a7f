/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * saslserver.c -- a small SMTP submission server for yubin's AUTH tests,
 * with GnuTLS and the server side of GNU SASL: what Dovecot 2.3 cannot do,
 * SCRAM-*-PLUS (channel binding: tls-exporter under TLS 1.3, tls-unique
 * under TLS 1.2) and EXTERNAL (the client certificate's CN, checked against
 * a CA), plus every other mechanism libgsasl's server side has.
 *
 *	saslserver --cert F --key F [--port N] [--tls starttls|implicit]
 *	    [--ca F] [--priorities P] [--mechs M1,M2] [--user NAME:PASS]
 *	    [--save FILE] [--corrupt-cb] [--scram-iter N] [--timeout SECS]
 *
 * Listens on 127.0.0.1 (port 0: any free port) and prints "READY <port>"
 * on stdout. Serves one connection, then exits: 0 when a message was
 * accepted, 1 otherwise. --save writes the message (dot-unstuffed, CRLF
 * kept). --corrupt-cb hands libgsasl wrong channel-binding data, so a
 * -PLUS exchange must fail (535): proof the client's binding is checked.
 * --scram-iter sets the SCRAM iteration count (i=) the server asks for.
 * --timeout (default 30 s) bounds the whole run. What happened is logged
 * on stderr: "saslserver: tls TLS1.3 ...", "saslserver: auth ok
 * mech=SCRAM-SHA-256-PLUS user=alice cb=tls-exporter", "saslserver: from
 * <...>" -- for the tests to check.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gsasl.h>

#define LINE_MAX_LEN	16384
#define DEFAULT_MECHS	"SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS " \
	"SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN EXTERNAL"

struct opts {
	int port;
	bool implicit;
	const char *cert, *key, *ca, *priorities, *mechs, *save;
	const char *user, *pass;
	const char *scram_iter;
	bool corrupt_cb;
	int timeout;
};

struct conn {
	const struct opts *o;
	int fd;
	gnutls_session_t tls;	/* NULL before TLS */
	gnutls_certificate_credentials_t cred;
	char buf[LINE_MAX_LEN];
	size_t len;
	char client_cn[256];	/* verified client cert's CN, or "" */
	const char *cb_used;	/* channel binding handed to libgsasl */
	bool authed;
	bool delivered;
};

static void __attribute__((format(printf, 1, 2)))
note(const char *fmt, ...)
{
	va_list ap;

	fputs("saslserver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("saslserver: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
on_alarm(int sig)
{
	static const char msg[] = "saslserver: timeout, giving up\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(3);
}

/* ---------------------------------------------------------------- args */

static void
usage(void)
{
	fputs("usage: saslserver --cert F --key F [--port N] "
	    "[--tls starttls|implicit] [--ca F] [--priorities P] "
	    "[--mechs LIST] [--user NAME:PASS] [--save FILE] [--corrupt-cb] "
	    "[--scram-iter N] [--timeout SECS]\n", stderr);
	exit(64);
}

static void
set_user(struct opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (colon == NULL)
		usage();
	o->user = strndup(arg, (size_t)(colon - arg));
	o->pass = colon + 1;
}

static bool
opt_value(int argc, char **argv, int *i, const char *name, const char **v)
{
	if (strcmp(argv[*i], name) != 0)
		return false;
	if (*i + 1 >= argc)
		usage();
	*v = argv[++*i];
	return true;
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
	const char *v;

	*o = (struct opts){ .mechs = DEFAULT_MECHS, .timeout = 30,
	    .priorities = "NORMAL" };
	for (int i = 1; i < argc; i++) {
		if (opt_value(argc, argv, &i, "--port", &v))
			o->port = (int)strtol(v, NULL, 10);
		else if (opt_value(argc, argv, &i, "--tls", &v))
			o->implicit = strcmp(v, "implicit") == 0;
		else if (opt_value(argc, argv, &i, "--timeout", &v))
			o->timeout = (int)strtol(v, NULL, 10);
		else if (opt_value(argc, argv, &i, "--user", &v))
			set_user(o, v);
		else if (strcmp(argv[i], "--corrupt-cb") == 0)
			o->corrupt_cb = true;
		else if (!opt_value(argc, argv, &i, "--cert", &o->cert) &&
		    !opt_value(argc, argv, &i, "--key", &o->key) &&
		    !opt_value(argc, argv, &i, "--ca", &o->ca) &&
		    !opt_value(argc, argv, &i, "--priorities",
		    &o->priorities) &&
		    !opt_value(argc, argv, &i, "--mechs", &o->mechs) &&
		    !opt_value(argc, argv, &i, "--scram-iter",
		    &o->scram_iter) &&
		    !opt_value(argc, argv, &i, "--save", &o->save))
			usage();
	}
	if (o->cert == NULL || o->key == NULL)
		usage();
	o->mechs = strdup(o->mechs);
	for (char *p = (char *)o->mechs; *p != '\0'; p++)
		if (*p == ',')
			*p = ' ';
}

/* ---------------------------------------------------------------- I/O */

static ssize_t
conn_recv(struct conn *c, char *p, size_t n)
{
	ssize_t r;

	if (c->tls == NULL) {
		do
			r = read(c->fd, p, n);
		while (r == -1 && errno == EINTR);
		return r;
	}
	do
		r = gnutls_record_recv(c->tls, p, n);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	return r < 0 ? -1 : r;
}

/* One line without CRLF into line (NUL-terminated); -1 at EOF/error. */
static int
conn_read_line(struct conn *c, char *line, size_t size)
{
	char *nl;
	ssize_t n;
	size_t len;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
		if (c->len == sizeof(c->buf))
			die("line too long");
		n = conn_recv(c, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
	len = (size_t)(nl - c->buf);
	if (len + 1 > size)
		die("line too long");
	memcpy(line, c->buf, len);
	line[len > 0 && line[len - 1] == '\r' ? len - 1 : len] = '\0';
	c->len -= len + 1;
	memmove(c->buf, nl + 1, c->len);
	return 0;
}

static void
conn_write(struct conn *c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if (c->tls == NULL)
			w = write(c->fd, p, n);
		else
			w = gnutls_record_send(c->tls, p, n);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED ||
		    (w == -1 && errno == EINTR))
			continue;
		if (w <= 0)
			die("write failed");
		p += w;
		n -= (size_t)w;
	}
}

static void __attribute__((format(printf, 2, 3)))
reply(struct conn *c, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		die("reply too long");
	memcpy(line + n, "\r\n", 3);
	conn_write(c, line, (size_t)n + 2);
}

/* ---------------------------------------------------------------- TLS */

static void
tls_credentials(struct conn *c)
{
	const struct opts *o = c->o;
	int rc;

	gnutls_certificate_allocate_credentials(&c->cred);
	rc = gnutls_certificate_set_x509_key_file(c->cred, o->cert, o->key,
	    GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		die("cannot load %s / %s: %s", o->cert, o->key,
		    gnutls_strerror(rc));
	if (o->ca != NULL &&
	    gnutls_certificate_set_x509_trust_file(c->cred, o->ca,
	    GNUTLS_X509_FMT_PEM) < 0)
		die("cannot load CA %s", o->ca);
}

/* The CN of a verified client certificate into c->client_cn. */
static void
tls_client_cert(struct conn *c)
{
	const gnutls_datum_t *chain;
	unsigned int n = 0, status = 0;
	gnutls_x509_crt_t crt;
	size_t size = sizeof(c->client_cn);

	chain = gnutls_certificate_get_peers(c->tls, &n);
	if (chain == NULL || n == 0) {
		note("no client certificate");
		return;
	}
	if (gnutls_certificate_verify_peers2(c->tls, &status) < 0 ||
	    status != 0) {
		note("client certificate NOT trusted (status %#x)", status);
		return;
	}
	gnutls_x509_crt_init(&crt);
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, c->client_cn, &size) < 0)
		c->client_cn[0] = '\0';
	gnutls_x509_crt_deinit(crt);
	note("client certificate verified: CN=%s", c->client_cn);
}

static void
tls_start(struct conn *c)
{
	const char *errpos = NULL;
	int rc;

	tls_credentials(c);
	gnutls_init(&c->tls, GNUTLS_SERVER);
	if (gnutls_priority_set_direct(c->tls, c->o->priorities,
	    &errpos) < 0)
		die("bad priority string at '%s'", errpos);
	gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred);
	if (c->o->ca != NULL)
		gnutls_certificate_server_set_request(c->tls,
		    GNUTLS_CERT_REQUEST);
	gnutls_transport_set_int(c->tls, c->fd);
	do
		rc = gnutls_handshake(c->tls);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		die("TLS handshake failed: %s", gnutls_strerror(rc));
	note("tls %s", gnutls_protocol_get_name(
	    gnutls_protocol_get_version(c->tls)));
	if (c->o->ca != NULL)
		tls_client_cert(c);
}

/* ---------------------------------------------------------------- SASL */

/* base64 channel binding of our own TLS session (corrupted if asked). */
static int
set_cb(struct conn *c, Gsasl_session *s, Gsasl_property prop)
{
	gnutls_channel_binding_t type = prop == GSASL_CB_TLS_UNIQUE ?
	    GNUTLS_CB_TLS_UNIQUE : GNUTLS_CB_TLS_EXPORTER;
	gnutls_datum_t cb = { NULL, 0 }, b64 = { NULL, 0 };
	int rc;

	if (c->tls == NULL ||
	    gnutls_session_channel_binding(c->tls, type, &cb) < 0) {
		note("channel binding %s unavailable",
		    prop == GSASL_CB_TLS_UNIQUE ? "tls-unique" :
		    "tls-exporter");
		return GSASL_NO_CALLBACK;
	}
	if (c->o->corrupt_cb && cb.size > 0)
		cb.data[0] ^= 0x55;
	gnutls_base64_encode2(&cb, &b64);
	rc = gsasl_property_set_raw(s, prop, (const char *)b64.data,
	    b64.size);
	gnutls_free(cb.data);
	gnutls_free(b64.data);
	c->cb_used = prop == GSASL_CB_TLS_UNIQUE ? "tls-unique" :
	    "tls-exporter";
	return rc;
}

static int
validate_external(struct conn *c, Gsasl_session *s)
{
	const char *authzid = gsasl_property_fast(s, GSASL_AUTHZID);

	if (c->client_cn[0] == '\0')
		return GSASL_AUTHENTICATION_ERROR;
	if (authzid != NULL && *authzid != '\0' &&
	    strcmp(authzid, c->client_cn) != 0)
		return GSASL_AUTHENTICATION_ERROR;
	return GSASL_OK;
}

static int
sasl_callback(Gsasl *ctx, Gsasl_session *s, Gsasl_property prop)
{
	struct conn *c = gsasl_callback_hook_get(ctx);
	const char *authid = gsasl_property_fast(s, GSASL_AUTHID);

	switch (prop) {
	case GSASL_PASSWORD:
		if (c->o->user == NULL || authid == NULL ||
		    strcmp(authid, c->o->user) != 0)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(s, GSASL_PASSWORD, c->o->pass);
	case GSASL_CB_TLS_UNIQUE:
	case GSASL_CB_TLS_EXPORTER:
		return set_cb(c, s, prop);
	case GSASL_VALIDATE_EXTERNAL:
		return validate_external(c, s);
	case GSASL_SCRAM_ITER:
		if (c->o->scram_iter == NULL)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(s, prop, c->o->scram_iter);
	case GSASL_SERVICE:
		return gsasl_property_set(s, prop, "smtp");
	case GSASL_HOSTNAME:
		return gsasl_property_set(s, prop, "localhost");
	default:
		return GSASL_NO_CALLBACK;
	}
}

/* Whether the space-separated list holds word (any case). */
static bool
list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncasecmp(p, word, n) == 0 && (p[n] == ' ' ||
		    p[n] == '\0'))
			return true;
	}
	return false;
}

static void
auth_done(struct conn *c, Gsasl_session *s, const char *mech)
{
	const char *who = gsasl_property_fast(s, GSASL_AUTHID);

	if (strcmp(mech, "EXTERNAL") == 0)
		who = c->client_cn;
	note("auth ok mech=%s user=%s cb=%s", mech, who ? who : "",
	    c->cb_used ? c->cb_used : "none");
	reply(c, "235 2.7.0 Authentication successful");
	c->authed = true;
}

/* The exchange: 334 challenges until libgsasl says OK or fails. */
static void
auth_exchange(struct conn *c, Gsasl_session *s, const char *mech,
    const char *initial)
{
	char line[LINE_MAX_LEN], *out = NULL;
	const char *in = initial;
	int rc;

	for (;;) {
		rc = gsasl_step64(s, in, &out);
		if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
			break;
		if (rc == GSASL_OK && *out == '\0')
			break;
		reply(c, "334 %s", out);	/* SCRAM: the server-final */
		gsasl_free(out);
		out = NULL;
		if (conn_read_line(c, line, sizeof(line)) == -1)
			die("connection lost during AUTH");
		if (strcmp(line, "*") == 0) {
			reply(c, "501 5.7.0 AUTH cancelled");
			return;
		}
		if (rc == GSASL_OK)
			break;
		in = line;
	}
	gsasl_free(out);
	if (rc == GSASL_OK)
		auth_done(c, s, mech);
	else {
		note("auth FAILED mech=%s: %s", mech, gsasl_strerror(rc));
		reply(c, "535 5.7.8 Authentication credentials invalid");
	}
}

static void
smtp_auth(struct conn *c, Gsasl *ctx, char *arg)
{
	char *initial = strchr(arg, ' ');
	Gsasl_session *s;

	if (initial != NULL)
		*initial++ = '\0';
	for (char *p = arg; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (c->authed)
		return reply(c, "503 5.5.1 already authenticated");
	if (c->tls == NULL || !list_has(c->o->mechs, arg)) {
		note("auth refused: %s not offered", arg);
		return reply(c, "504 5.5.4 mechanism not offered");
	}
	if (gsasl_server_start(ctx, arg, &s) != GSASL_OK)
		return reply(c, "504 5.5.4 mechanism not supported");
	c->cb_used = NULL;
	if (initial != NULL && strcmp(initial, "=") == 0)
		initial = (char *)"";
	auth_exchange(c, s, arg, initial != NULL ? initial : "");
	gsasl_finish(s);
}

/* ---------------------------------------------------------------- SMTP */

static void
smtp_ehlo(struct conn *c)
{
	bool offer_tls = !c->o->implicit && c->tls == NULL;

	reply(c, "250-saslserver.test");
	if (offer_tls)
		reply(c, "250-STARTTLS");
	if (c->tls != NULL)
		reply(c, "250-AUTH %s", c->o->mechs);
	reply(c, "250-8BITMIME");
	reply(c, "250 ENHANCEDSTATUSCODES");
}

static void
smtp_starttls(struct conn *c)
{
	if (c->tls != NULL)
		return reply(c, "503 5.5.1 TLS already active");
	reply(c, "220 2.0.0 ready to start TLS");
	if (c->len > 0)
		die("client sent data after STARTTLS (injection?)");
	tls_start(c);
}

/* DATA: dot-unstuffed, CRLF kept, into --save. */
static void
smtp_data(struct conn *c)
{
	char line[LINE_MAX_LEN];
	FILE *f = NULL;

	if (c->o->save != NULL && (f = fopen(c->o->save, "wb")) == NULL)
		die("cannot write %s", c->o->save);
	reply(c, "354 go ahead");
	for (;;) {
		if (conn_read_line(c, line, sizeof(line)) == -1)
			die("connection lost during DATA");
		if (strcmp(line, ".") == 0)
			break;
		if (f != NULL)
			fprintf(f, "%s\r\n", line[0] == '.' ? line + 1 : line);
	}
	if (f != NULL && fclose(f) != 0)
		die("cannot write %s", c->o->save);
	note("message accepted");
	c->delivered = true;
	reply(c, "250 2.0.0 accepted");
}

/* Needs authentication first: 530 (RFC 4954). */
static bool
need_auth(struct conn *c)
{
	if (c->authed)
		return false;
	reply(c, "530 5.7.0 authentication required");
	return true;
}

/* One command; false after QUIT. */
static bool
smtp_command(struct conn *c, Gsasl *ctx, char *line)
{
	char *arg = line + strcspn(line, " ");

	arg += strspn(arg, " ");
	note("C: %s", strncasecmp(line, "AUTH ", 5) == 0 ? "AUTH ..." : line);
	if (strncasecmp(line, "EHLO", 4) == 0)
		smtp_ehlo(c);
	else if (strncasecmp(line, "STARTTLS", 8) == 0)
		smtp_starttls(c);
	else if (strncasecmp(line, "AUTH ", 5) == 0)
		smtp_auth(c, ctx, arg);
	else if (strncasecmp(line, "MAIL ", 5) == 0 ||
	    strncasecmp(line, "RCPT ", 5) == 0) {
		if (!need_auth(c))
			reply(c, "250 2.1.0 ok");
	} else if (strncasecmp(line, "DATA", 4) == 0) {
		if (!need_auth(c))
			smtp_data(c);
	} else if (strncasecmp(line, "QUIT", 4) == 0) {
		reply(c, "221 2.0.0 bye");
		return false;
	} else if (strncasecmp(line, "RSET", 4) == 0 ||
	    strncasecmp(line, "NOOP", 4) == 0)
		reply(c, "250 2.0.0 ok");
	else
		reply(c, "502 5.5.2 command not implemented");
	return true;
}

static void
serve(struct conn *c)
{
	char line[LINE_MAX_LEN];
	Gsasl *ctx;

	if (gsasl_init(&ctx) != GSASL_OK)
		die("gsasl_init failed");
	gsasl_callback_set(ctx, sasl_callback);
	gsasl_callback_hook_set(ctx, c);
	if (c->o->implicit)
		tls_start(c);
	reply(c, "220 saslserver.test ESMTP");
	while (conn_read_line(c, line, sizeof(line)) == 0 &&
	    smtp_command(c, ctx, line))
		;
	if (c->tls != NULL)
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	gsasl_done(ctx);
}

static int
listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 1) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		die("cannot listen on 127.0.0.1 port %d: %s", port,
		    strerror(errno));
	printf("READY %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct conn c;
	int lfd;

	parse_args(&o, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm((unsigned int)o.timeout);
	gnutls_global_init();
	lfd = listen_on(o.port);
	memset(&c, 0, sizeof(c));
	c.o = &o;
	while ((c.fd = accept(lfd, NULL, NULL)) == -1 && errno == EINTR)
		;
	if (c.fd == -1)
		die("accept: %s", strerror(errno));
	close(lfd);
	serve(&c);
	close(c.fd);
	if (c.tls != NULL)
		gnutls_deinit(c.tls);
	if (c.cred != NULL)
		gnutls_certificate_free_credentials(c.cred);
	gnutls_global_deinit();
	free((char *)o.mechs);
	free((char *)o.user);
	return c.delivered ? 0 : 1;
}
