/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * transport.h -- a byte stream to the server: TCP (dial.h: the name
 * resolved within the timeout, the addresses raced, Happy Eyeballs) with
 * optional TLS (GnuTLS). GnuTLS appears in
 * tls.c only, behind transport.c; the protocol layers never see it (curl's
 * filters).
 *
 * Every wait (connect, read, write, handshake) is bounded by the timeout
 * given to transport_connect(); a timeout is ERR_TEMP.
 */
#ifndef YUBIN_TRANSPORT_H
#define YUBIN_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "tlsconf.h"

struct dial_route;
struct error;
struct transport;

/*
 * Resolve host and connect to port (dial(): directly, or the way route
 * says: a unix socket, a SOCKS5 proxy, a source address), all within
 * timeout_ms (<= 0: no timeout). Sets TCP_NODELAY. Failure is ERR_TEMP
 * with err->unreachable ("cannot connect to 'host' port 587: Connection
 * refused"); a name that does not resolve, or not in time, is ERR_TEMP
 * too (DNS may be down); a source_ip this host does not have ERR_CONFIG.
 */
int transport_connect(struct transport **out, const char *host, int port,
    const struct dial_route *route, int timeout_ms, struct error *err);

/*
 * TLS handshake over the open connection (after "220" to STARTTLS, or right
 * after connect for implicit TLS). Verifies the certificate as cfg says;
 * a refused certificate is ERR_PROTOCOL and the message names the reason:
 * "TLS certificate of 'host' is not trusted: expired" / "... does not match
 * host name 'host'" / "... signer not found". Handshake failure: ERR_PROTOCOL;
 * but the connection closed or reset during the handshake is ERR_TEMP, as
 * it is in clear text.
 */
int transport_start_tls(struct transport *t, const struct tls_config *cfg,
    struct error *err);

/*
 * What the server sent first on the connection: tells a port that expects
 * the other TLS mode. A TLS record (handshake or alert) where a greeting
 * was due; a clear-text reply ("220 ", "421-") where a TLS record was.
 */
enum transport_first {
	TRANSPORT_FIRST_NOTHING,	/* not a byte yet */
	TRANSPORT_FIRST_TLS,		/* a TLS record */
	TRANSPORT_FIRST_SMTP,		/* an SMTP reply in clear text */
	TRANSPORT_FIRST_OTHER,
};
enum transport_first transport_first(const struct transport *t);

/*
 * After silence where the greeting was due (nothing received, nothing
 * sent): start a TLS handshake on the connection and wait up to ms (and
 * the timeout) for the server's first bytes, then stop; transport_first()
 * then says whether a TLS server was waiting for our ClientHello. The
 * connection is of no use afterwards: close it.
 */
void transport_probe_tls(struct transport *t, const struct tls_config *cfg,
    int ms);

/*
 * Whether the server stays silent for ms (and the timeout): nothing
 * received so far, and nothing arrives within ms.
 */
bool transport_quiet(const struct transport *t, int ms);

/*
 * While t waits for the greeting: a second connection to the address t
 * is connected to, a TLS handshake started on it, until the server's
 * first bytes, ms, or anything arriving on t; then closed. *first: what
 * the server sent first on it (transport_first()): TRANSPORT_FIRST_TLS
 * says the port expects TLS from the first byte; t is untouched. -1
 * when it could not ask: no second connection, or t goes through a
 * proxy (transport_probe_tls() after the timeout does then).
 */
int transport_probe_aside(const struct transport *t,
    const struct tls_config *cfg, int ms, enum transport_first *first);

/* Whether a whole line is buffered: reading it will not wait. */
bool transport_has_line(const struct transport *t);

/* Bytes received but not yet consumed (STARTTLS injection check). */
size_t transport_pending(const struct transport *t);

/* The deadline one timeout from now (-1: none), for transport_read_line. */
long long transport_deadline(const struct transport *t);

/*
 * Read one line, CRLF (or a bare LF) stripped, into buf (NUL-terminated),
 * before deadline (transport_deadline(), taken once for all the lines of a
 * reply). A line (without CRLF) longer than size-1 bytes: ERR_PROTOCOL
 * "reply line too long"; pass a buffer of REPLY_LINE_MAX + 1 bytes or
 * more. EOF: ERR_TEMP "connection closed by server"; timeout: ERR_TEMP.
 */
int transport_read_line(struct transport *t, char *buf, size_t size,
    size_t *len, long long deadline, struct error *err);

/*
 * Buffered write; data goes out when the buffer (64 KiB) fills or on
 * flush. Each flush must finish within the timeout, however slowly the
 * peer reads (see transport.c).
 */
int transport_write(struct transport *t, const void *p, size_t n,
    struct error *err);
int transport_flush(struct transport *t, struct error *err);

bool transport_is_tls(const struct transport *t);

/* "TLS1.3/ECDHE-X25519/AES-256-GCM" style, or "none". */
void transport_tls_description(const struct transport *t, char *buf,
    size_t size);

/* The server's certificate (TLS up): 0, or -1 with err. */
int transport_cert_info(const struct transport *t, struct tls_cert_info *out,
    struct error *err);

/*
 * Channel binding for SCRAM-*-PLUS: tls-exporter under TLS 1.3, tls-unique
 * under TLS 1.2. *type is "tls-exporter" or "tls-unique"; *b64 is base64 of
 * the binding data (malloc'd). -1 when not available (no TLS).
 */
int transport_channel_binding(struct transport *t, const char **type,
    char **b64, struct error *err);

/* "127.0.0.1 port 587" of the connected peer. */
const char *transport_peer(const struct transport *t);

/* "GnuTLS 3.7.9": the TLS library in use, for --version. */
const char *transport_library(void);

/*
 * Close (TLS close_notify best effort, bounded by a short timeout; what
 * the server already sent is read and dropped, never awaited), free.
 */
void transport_close(struct transport *t);

#endif
