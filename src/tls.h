/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tls.h -- GnuTLS behind an opaque struct tls. The sessions are INTERNAL:
 * used by transport.c only; every other module goes through transport.h.
 * Two primitives at the end (SHA-256, strong random bytes) serve modules
 * that need no session (OAuth's PKCE). This header includes no GnuTLS
 * header, so GnuTLS stays in tls.c.
 *
 * Every call is non-blocking and never waits: the ones that would block
 * return TLS_AGAIN and say in *events (POLLIN / POLLOUT, or 0 for "call
 * again at once") what the socket must be ready for. transport.c owns the
 * poll() loop and the deadlines, then repeats the very same call.
 */
#ifndef YUBIN_TLS_H
#define YUBIN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct error;
struct tls;
struct tls_cert_info;
struct tls_config;

/* Besides >= 0 and -1: must wait for *events, then call again. */
#define TLS_AGAIN	(-2)
/* Plaintext bytes per TLS record: hand tls_send() no more at a time. */
#define TLS_RECORD_MAX	16384

/*
 * Client session over the connected non-blocking socket fd: credentials
 * (trust file or system trust store, client certificate), priorities, SNI
 * (unless host is an IP literal). host is the name the certificate must
 * match; peer ("127.0.0.1 port 587") names the connection in I/O errors;
 * both are copied. No I/O yet. *out is NULL only when no session could be
 * made; otherwise it is set even on failure and must be tls_free()d.
 */
int tls_setup(struct tls **out, int fd, const struct tls_config *cfg,
    const char *host, const char *peer, struct error *err);

/*
 * One handshake step: 0 done, TLS_AGAIN, -1 failed: ERR_TEMP when the
 * connection was closed or reset under it, else ERR_PROTOCOL.
 */
int tls_handshake(struct tls *s, short *events, struct error *err);

/*
 * After the handshake: check the server certificate as cfg says
 * (tls_fingerprint replaces the CA check; certcheck off accepts anything).
 * A refusal is ERR_PROTOCOL with the reason in plain words.
 */
int tls_verify(struct tls *s, const struct tls_config *cfg,
    struct error *err);

/* Bytes read (> 0), 0 at EOF (with or without close_notify), TLS_AGAIN, -1. */
ssize_t tls_recv(struct tls *s, void *p, size_t n, short *events,
    struct error *err);
/* Bytes written (> 0), TLS_AGAIN (repeat with the same p and n), -1. */
ssize_t tls_send(struct tls *s, const void *p, size_t n, short *events,
    struct error *err);

/*
 * The first bytes the server sent on this session (up to TLS_HEAD_MAX of
 * them into buf): a TLS record starts 0x16 (handshake) or 0x15 (alert);
 * "220" is a clear-text greeting. Returns how many are known (0: none).
 */
#define TLS_HEAD_MAX	8
size_t tls_head(const struct tls *s, unsigned char *buf, size_t size);

/* Decrypted bytes GnuTLS holds that tls_recv() has not returned yet. */
size_t tls_pending(const struct tls *s);

/* "TLS1.3/ECDHE-X25519/AES-256-GCM" (a MAC is added when not AEAD). */
void tls_describe(const struct tls *s, char *buf, size_t size);

/* The peer's certificate (after the handshake): 0, or -1 with err. */
int tls_cert_info(const struct tls *s, struct tls_cert_info *out,
    struct error *err);

/* See transport_channel_binding(); the session must be established. */
int tls_channel_binding(struct tls *s, const char **type, char **b64,
    struct error *err);

/* One close_notify step: TLS_AGAIN, or 0 when sent (or given up). */
int tls_bye(struct tls *s, short *events);

/* Free the session and its credentials; NULL is fine. Sends nothing. */
void tls_free(struct tls *s);

/* The GnuTLS version string. */
const char *tls_library_version(void);

/* SHA-256 of n bytes at p into out. 0, or -1 (GnuTLS failed). */
int tls_sha256(const void *p, size_t n, unsigned char out[32]);

/* n bytes from GnuTLS's key-grade random generator. 0, or -1. */
int tls_random(void *p, size_t n);

#endif
