/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tls.c -- see tls.h. Everything yubin does with GnuTLS: session set-up,
 * the handshake, certificate verification with the reasons in plain words,
 * record I/O, channel binding and close_notify. It never waits: transport.c
 * polls the socket and keeps every deadline.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "error.h"
#include "tls.h"
#include "tlsconf.h"
#include "util.h"

struct tls {
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;	/* NULL until allocated */
	char *host;			/* the certificate must match it */
	char *peer;			/* "127.0.0.1 port 587" */
	int fd;
	unsigned char head[TLS_HEAD_MAX];	/* the first bytes received */
	size_t headlen;
};

/* What the socket must be ready for before GnuTLS is called again. */
static short
tls_direction(const struct tls *s)
{
	return gnutls_record_get_direction(s->session) ? POLLOUT : POLLIN;
}

/* --------------------------------------------------------------- set-up */

/*
 * GnuTLS reads through these (it writes through its own, on the fd) so
 * that the first bytes the server sent can be looked at: a TLS record,
 * or a clear-text greeting from a port that expects STARTTLS.
 */
static ssize_t
tls_pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct tls *s = p;
	ssize_t r = recv(s->fd, buf, n, 0);
	size_t k;

	if (r > 0 && s->headlen < sizeof(s->head)) {
		k = sizeof(s->head) - s->headlen;
		if (k > (size_t)r)
			k = (size_t)r;
		memcpy(s->head + s->headlen, buf, k);
		s->headlen += k;
	}
	return r;
}

static int
tls_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct tls *s = p;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	return poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 :
	    (int)ms);
}

static void
tls_transport(struct tls *s, int fd)
{
	s->fd = fd;
	gnutls_transport_set_ptr2(s->session, s,
	    (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_pull_function(s->session, tls_pull);
	gnutls_transport_set_pull_timeout_function(s->session,
	    tls_pull_timeout);
}

size_t
tls_head(const struct tls *s, unsigned char *buf, size_t size)
{
	size_t n = s->headlen < size ? s->headlen : size;

	if (n > 0)
		memcpy(buf, s->head, n);
	return s->headlen;
}

static bool
is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

static int
tls_trust(struct tls *s, const struct tls_config *cfg,
    struct error *err)
{
	int rc;

	if (cfg->trust_file == NULL) {
		/* No CA at all just means every chain fails: "signer". */
		gnutls_certificate_set_x509_system_trust(s->cred);
		return 0;
	}
	rc = gnutls_certificate_set_x509_trust_file(s->cred, cfg->trust_file,
	    GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		return error_set(err, ERR_CONFIG,
		    "cannot load tls_trust_file '%s': %s", cfg->trust_file,
		    gnutls_strerror(rc));
	if (rc == 0)
		return error_set(err, ERR_CONFIG,
		    "tls_trust_file '%s' holds no PEM certificate",
		    cfg->trust_file);
	return 0;
}

/*
 * tls_crl_file: every CRL in it is loaded; verify_chain() then refuses a
 * certificate one of them revokes (GNUTLS_CERT_REVOKED). A file that
 * cannot be read, or holds no CRL, is a configuration error: going on
 * without it would accept what the user meant to refuse.
 */
static int
tls_crl(struct tls *s, const char *file, struct error *err)
{
	int rc;

	rc = gnutls_certificate_set_x509_crl_file(s->cred, file,
	    GNUTLS_X509_FMT_PEM);
	if (rc < 0 && rc != GNUTLS_E_BASE64_DECODING_ERROR)
		return error_set(err, ERR_CONFIG,
		    "cannot load tls_crl_file '%s': %s", file,
		    gnutls_strerror(rc));
	if (rc <= 0)
		return error_set(err, ERR_CONFIG,
		    "tls_crl_file '%s' holds no PEM certificate revocation "
		    "list", file);
	return 0;
}

static int
tls_credentials(struct tls *s, const struct tls_config *cfg,
    struct error *err)
{
	const char *key;
	int rc;

	rc = gnutls_certificate_allocate_credentials(&s->cred);
	if (rc < 0) {
		s->cred = NULL;
		return error_set(err, ERR_SOFTWARE, "TLS credentials: %s",
		    gnutls_strerror(rc));
	}
	if (cfg->certcheck && cfg->fingerprint == NULL &&
	    tls_trust(s, cfg, err) < 0)
		return -1;
	if (cfg->certcheck && cfg->fingerprint == NULL &&
	    cfg->crl_file != NULL && tls_crl(s, cfg->crl_file, err) < 0)
		return -1;
	if (cfg->cert_file != NULL) {
		key = cfg->key_file != NULL ? cfg->key_file : cfg->cert_file;
		rc = gnutls_certificate_set_x509_key_file(s->cred,
		    cfg->cert_file, key, GNUTLS_X509_FMT_PEM);
		if (rc < 0)
			return error_set(err, ERR_CONFIG, "cannot load "
			    "tls_cert_file '%s' / tls_key_file '%s': %s",
			    cfg->cert_file, key, gnutls_strerror(rc));
	}
	rc = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE,
	    s->cred);
	if (rc < 0)
		return error_set(err, ERR_SOFTWARE, "TLS credentials: %s",
		    gnutls_strerror(rc));
	return 0;
}

static int
tls_priorities(struct tls *s, const struct tls_config *cfg,
    struct error *err)
{
	const char *where = NULL;
	int rc;

	if (cfg->priorities == NULL)
		rc = gnutls_set_default_priority(s->session);
	else
		rc = gnutls_priority_set_direct(s->session, cfg->priorities,
		    &where);
	if (rc < 0 && cfg->priorities != NULL)
		return error_set(err, ERR_CONFIG,
		    "invalid tls_priorities '%s': %s (at '%s')",
		    cfg->priorities, gnutls_strerror(rc),
		    where != NULL ? where : "");
	if (rc < 0)
		return error_set(err, ERR_SOFTWARE, "TLS priorities: %s",
		    gnutls_strerror(rc));
	return 0;
}

static int
session_init(struct tls *s, int fd, const struct tls_config *cfg,
    struct error *err)
{
	const char *host = s->host;
	int rc;

	/* GNUTLS_NO_SIGNAL: GnuTLS sends with MSG_NOSIGNAL (no SIGPIPE). */
	rc = gnutls_init(&s->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
	    GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		s->session = NULL;
		return error_set(err, ERR_SOFTWARE, "cannot start TLS: %s",
		    gnutls_strerror(rc));
	}
	if (tls_credentials(s, cfg, err) < 0 ||
	    tls_priorities(s, cfg, err) < 0)
		return -1;
	if (!is_ip_literal(host)) {
		rc = gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, host,
		    strlen(host));
		if (rc < 0)
			return error_set(err, ERR_SOFTWARE, "TLS SNI '%s': %s",
			    host, gnutls_strerror(rc));
	}
	tls_transport(s, fd);
	gnutls_handshake_set_timeout(s->session, 0);	/* our deadline rules */
	return 0;
}

int
tls_setup(struct tls **out, int fd, const struct tls_config *cfg,
    const char *host, const char *peer, struct error *err)
{
	struct tls *s = xcalloc(1, sizeof(*s));
	int rc;

	s->host = xstrdup(host);
	s->peer = xstrdup(peer);
	rc = session_init(s, fd, cfg, err);
	if (s->session == NULL) {	/* gnutls_init() failed */
		tls_free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

/* ------------------------------------------------------------ handshake */

/*
 * A push or pull error with errno set is the connection failing under TLS
 * (reset, broken pipe): temporary, as it is in clear text.
 */
static bool
tls_lost(int rc)
{
	return (rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR) &&
	    errno != 0;
}

/*
 * The connection dropped or reset during the handshake is ERR_TEMP (the
 * message can wait in the queue); anything TLS itself refused (alerts,
 * bad packets, no common cipher) stays ERR_PROTOCOL.
 */
static int
handshake_error(const struct tls *s, int rc, struct error *err)
{
	if (rc == GNUTLS_E_PREMATURE_TERMINATION)
		return error_set(err, ERR_TEMP, "connection to %s closed by "
		    "the server during the TLS handshake", s->peer);
	if (tls_lost(rc))
		return error_set(err, ERR_TEMP, "connection to %s lost "
		    "during the TLS handshake: %s", s->peer, strerror(errno));
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return error_set(err, ERR_PROTOCOL,
		    "TLS handshake with '%s' failed: %s: %s", s->host,
		    gnutls_strerror(rc),
		    gnutls_alert_get_name(gnutls_alert_get(s->session)));
	return error_set(err, ERR_PROTOCOL,
	    "TLS handshake with '%s' failed: %s", s->host, gnutls_strerror(rc));
}

int
tls_handshake(struct tls *s, short *events, struct error *err)
{
	int rc;

	*events = 0;
	errno = 0;
	rc = gnutls_handshake(s->session);
	if (rc == GNUTLS_E_SUCCESS)
		return 0;
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		*events = tls_direction(s);
		return TLS_AGAIN;
	}
	if (!gnutls_error_is_fatal(rc))
		return TLS_AGAIN;		/* *events 0: at once */
	return handshake_error(s, rc, err);
}

/* ----------------------------------------------------- TLS verification */

static int
peer_certificate(const struct tls *s, const char *host,
    const gnutls_datum_t **der, struct error *err)
{
	unsigned int n = 0;

	if (gnutls_certificate_type_get(s->session) != GNUTLS_CRT_X509)
		return error_set(err, ERR_PROTOCOL,
		    "TLS server '%s' sent no X.509 certificate", host);
	*der = gnutls_certificate_get_peers(s->session, &n);
	if (*der == NULL || n == 0)
		return error_set(err, ERR_PROTOCOL,
		    "TLS server '%s' sent no certificate", host);
	return 0;
}

/* tls_fingerprint replaces every other check (msmtp's behaviour). */
static int
verify_fingerprint(const struct tls *s, const char *fingerprint,
    const char *host, struct error *err)
{
	unsigned char want[32], got[32];
	const gnutls_datum_t *der = NULL;
	gnutls_digest_algorithm_t algo;
	int n;

	n = util_fingerprint_parse(fingerprint, want, sizeof(want));
	if (n != 32 && n != 20 && n != 16)
		return error_set(err, ERR_CONFIG, "invalid tls_fingerprint "
		    "'%s': expected a SHA-256 fingerprint "
		    "(32 hex bytes, colons optional)", fingerprint);
	if (peer_certificate(s, host, &der, err) < 0)
		return -1;
	algo = n == 32 ? GNUTLS_DIG_SHA256 : n == 20 ? GNUTLS_DIG_SHA1 :
	    GNUTLS_DIG_MD5;
	if (gnutls_hash_fast(algo, der[0].data, der[0].size, got) < 0)
		return error_set(err, ERR_SOFTWARE, "cannot hash certificate");
	if (memcmp(want, got, (size_t)n) != 0)
		return error_set(err, ERR_PROTOCOL, "TLS certificate of '%s' "
		    "does not match tls_fingerprint", host);
	return 0;
}

/*
 * Who said "revoked": the OCSP response the server stapled (GnuTLS checks
 * it in gnutls_certificate_verify_peers3() when there is one), else the
 * CRLs of tls_crl_file.
 */
static void
revoked_reason(const struct tls *s, const char *crl_file, char *buf,
    size_t size)
{
	if (gnutls_ocsp_status_request_is_checked(s->session,
	    GNUTLS_OCSP_SR_IS_AVAIL) || crl_file == NULL)
		snprintf(buf, size, "TLS certificate of '%s' has been revoked "
		    "(the server's stapled OCSP response says so)", s->host);
	else
		snprintf(buf, size, "TLS certificate of '%s' has been revoked "
		    "(tls_crl_file '%s' lists it)", s->host, crl_file);
}

/* The main reason, in plain words, for a failed verification. */
static void
verify_reason(const struct tls *s, unsigned int status,
    const char *crl_file, char *buf, size_t size)
{
	const char *host = s->host;

	if (status & GNUTLS_CERT_REVOKED)
		revoked_reason(s, crl_file, buf, size);
	else if (status & GNUTLS_CERT_INVALID_OCSP_STATUS)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "the server stapled an invalid OCSP response", host);
	else if (status & GNUTLS_CERT_MISSING_OCSP_STATUS)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "it requires a stapled OCSP response (OCSP Must-Staple) "
		    "and the server sent none", host);
	else if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "signer not found; set tls_trust_file or tls_fingerprint",
		    host);
	else if (status & GNUTLS_CERT_SIGNER_NOT_CA)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "its signer is not a CA", host);
	else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		snprintf(buf, size, "TLS certificate of '%s' is not trusted: "
		    "it uses an insecure algorithm", host);
	else if (status & GNUTLS_CERT_EXPIRED)
		snprintf(buf, size, "TLS certificate of '%s' has expired",
		    host);
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		snprintf(buf, size, "TLS certificate of '%s' is not yet valid",
		    host);
	else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		snprintf(buf, size, "TLS certificate is for another host: the "
		    "server's certificate does not match '%s'", host);
	else
		snprintf(buf, size, "TLS certificate of '%s' is not trusted",
		    host);
}

static int
verify_chain(const struct tls *s, const char *crl_file, struct error *err)
{
	const char *host = s->host;
	char reason[ERROR_MSG_MAX / 2];
	gnutls_datum_t details = { NULL, 0 };
	unsigned int status = 0;
	size_t n;
	int rc;

	rc = gnutls_certificate_verify_peers3(s->session, host, &status);
	if (rc < 0)
		return error_set(err, ERR_PROTOCOL, "TLS certificate of '%s' "
		    "could not be verified: %s", host, gnutls_strerror(rc));
	if (status == 0)
		return 0;
	verify_reason(s, status, crl_file, reason, sizeof(reason));
	rc = gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &details, 0);
	n = rc < 0 || details.data == NULL ? 0 : details.size;
	while (n > 0 && (details.data[n - 1] == ' ' ||
	    details.data[n - 1] == '\0'))
		n--;
	if (n > 0)
		error_set(err, ERR_PROTOCOL, "%s (%.*s)", reason, (int)n,
		    (const char *)details.data);
	else
		error_set(err, ERR_PROTOCOL, "%s", reason);
	gnutls_free(details.data);
	return -1;
}

int
tls_verify(struct tls *s, const struct tls_config *cfg, struct error *err)
{
	if (!cfg->certcheck)
		return 0;
	if (cfg->fingerprint != NULL)
		return verify_fingerprint(s, cfg->fingerprint, s->host, err);
	return verify_chain(s, cfg->crl_file, err);
}

/* ---------------------------------------------------------------- facts */

void
tls_describe(const struct tls *s, char *buf, size_t size)
{
	const char *proto, *cipher, *kx = NULL, *mac = NULL;
	gnutls_group_t group = gnutls_group_get(s->session);
	gnutls_mac_algorithm_t m = gnutls_mac_get(s->session);
	char kxbuf[64];

	proto = gnutls_protocol_get_name(
	    gnutls_protocol_get_version(s->session));
	cipher = gnutls_cipher_get_name(gnutls_cipher_get(s->session));
	if (group != GNUTLS_GROUP_INVALID) {
		kx = gnutls_group_get_name(group);
		snprintf(kxbuf, sizeof(kxbuf), "%s-%s",
		    kx != NULL && strncmp(kx, "FFDHE", 5) == 0 ? "DHE" :
		    "ECDHE", kx != NULL ? kx : "?");
		kx = kxbuf;
	} else {
		kx = gnutls_kx_get_name(gnutls_kx_get(s->session));
	}
	if (m != GNUTLS_MAC_AEAD)
		mac = gnutls_mac_get_name(m);
	snprintf(buf, size, "%s/%s/%s%s%s",
	    proto != NULL ? proto : "TLS", kx != NULL ? kx : "?",
	    cipher != NULL ? cipher : "?", mac != NULL ? "/" : "",
	    mac != NULL ? mac : "");
}

/* "AB:CD:..." of the certificate's digest with algo. */
static void
cert_digest(gnutls_x509_crt_t crt, gnutls_digest_algorithm_t algo,
    char *out, size_t size)
{
	unsigned char d[64];
	size_t n = sizeof(d), o = 0;

	out[0] = '\0';
	if (gnutls_x509_crt_get_fingerprint(crt, algo, d, &n) < 0)
		return;
	for (size_t i = 0; i < n && o + 4 <= size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%02X",
		    i > 0 ? ":" : "", d[i]);
}

static void
cert_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		util_strlcpy(out, "?", size);
}

int
tls_cert_info(const struct tls *s, struct tls_cert_info *out,
    struct error *err)
{
	const gnutls_datum_t *der = NULL;
	gnutls_x509_crt_t crt;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (peer_certificate(s, s->host, &der, err) < 0)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &der[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return error_set(err, ERR_PROTOCOL, "cannot read the "
		    "certificate of '%s'", s->host);
	}
	n = sizeof(out->subject);
	if (gnutls_x509_crt_get_dn(crt, out->subject, &n) < 0)
		util_strlcpy(out->subject, "?", sizeof(out->subject));
	n = sizeof(out->issuer);
	if (gnutls_x509_crt_get_issuer_dn(crt, out->issuer, &n) < 0)
		util_strlcpy(out->issuer, "?", sizeof(out->issuer));
	cert_time(gnutls_x509_crt_get_activation_time(crt), out->not_before,
	    sizeof(out->not_before));
	cert_time(gnutls_x509_crt_get_expiration_time(crt), out->not_after,
	    sizeof(out->not_after));
	cert_digest(crt, GNUTLS_DIG_SHA256, out->sha256, sizeof(out->sha256));
	cert_digest(crt, GNUTLS_DIG_SHA1, out->sha1, sizeof(out->sha1));
	gnutls_x509_crt_deinit(crt);
	return 0;
}

int
tls_channel_binding(struct tls *s, const char **type, char **b64,
    struct error *err)
{
	gnutls_datum_t cb = { NULL, 0 }, enc = { NULL, 0 };
	gnutls_channel_binding_t kind = GNUTLS_CB_TLS_UNIQUE;
	int rc;

	*type = NULL;
	*b64 = NULL;
	if (gnutls_protocol_get_version(s->session) == GNUTLS_TLS1_3)
		kind = GNUTLS_CB_TLS_EXPORTER;
	rc = gnutls_session_channel_binding(s->session, kind, &cb);
	if (rc >= 0) {
		rc = gnutls_base64_encode2(&cb, &enc);
		gnutls_free(cb.data);
	}
	if (rc < 0)
		return error_set(err, ERR_PROTOCOL,
		    "TLS channel binding unavailable: %s", gnutls_strerror(rc));
	*b64 = xstrndup((const char *)enc.data, enc.size);
	gnutls_free(enc.data);
	*type = kind == GNUTLS_CB_TLS_EXPORTER ? "tls-exporter" :
	    "tls-unique";
	return 0;
}

/* ----------------------------------------------------------- record I/O */

/* A GnuTLS error in the middle of the stream (not the handshake). */
static int
tls_io_error(const struct tls *s, ssize_t rc, const char *what,
    struct error *err)
{
	if (tls_lost((int)rc))
		return error_set(err, ERR_TEMP,
		    "connection to %s lost while %s: %s", s->peer, what,
		    strerror(errno));
	return error_set(err, ERR_PROTOCOL, "TLS error while %s: %s", what,
	    gnutls_strerror((int)rc));
}

ssize_t
tls_recv(struct tls *s, void *p, size_t n, short *events, struct error *err)
{
	ssize_t r;

	*events = POLLIN;
	errno = 0;
	r = gnutls_record_recv(s->session, p, n);
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		*events = tls_direction(s);
		return TLS_AGAIN;
	}
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;		/* closed without close_notify */
	if (r == GNUTLS_E_REHANDSHAKE || !gnutls_error_is_fatal((int)r)) {
		*events = 0;		/* ignore, call again at once */
		return TLS_AGAIN;
	}
	return tls_io_error(s, r, "reading", err);
}

ssize_t
tls_send(struct tls *s, const void *p, size_t n, short *events,
    struct error *err)
{
	ssize_t r;

	*events = POLLOUT;
	errno = 0;
	r = gnutls_record_send(s->session, p, n);
	if (r > 0)
		return r;
	if (r == 0 || r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		/* GnuTLS wants the very same call again: the caller repeats. */
		*events = tls_direction(s);
		return TLS_AGAIN;
	}
	return tls_io_error(s, r, "writing", err);
}

size_t
tls_pending(const struct tls *s)
{
	return gnutls_record_check_pending(s->session);
}

/* ---------------------------------------------------------------- close */

int
tls_bye(struct tls *s, short *events)
{
	int rc;

	*events = 0;
	rc = gnutls_bye(s->session, GNUTLS_SHUT_WR);
	if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED)
		return 0;
	*events = tls_direction(s);
	return TLS_AGAIN;
}

void
tls_free(struct tls *s)
{
	if (s == NULL)
		return;
	if (s->session != NULL)
		gnutls_deinit(s->session);
	if (s->cred != NULL)
		gnutls_certificate_free_credentials(s->cred);
	free(s->host);
	free(s->peer);
	free(s);
}

const char *
tls_library_version(void)
{
	return gnutls_check_version(NULL);
}

/* ---------------------------------------------------------------- crypto */

int
tls_sha256(const void *p, size_t n, unsigned char out[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out) == 0 ? 0 : -1;
}

int
tls_random(void *p, size_t n)
{
	return gnutls_rnd(GNUTLS_RND_KEY, p, n) == 0 ? 0 : -1;
}
