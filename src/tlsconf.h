/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tlsconf.h -- how to check the server's TLS certificate and what to
 * present: plain data (no dependencies) that account.c fills from the
 * configuration and transport.c / tls.c use for the handshake.
 */
#ifndef YUBIN_TLSCONF_H
#define YUBIN_TLSCONF_H

#include <stdbool.h>

struct tls_config {
	const char *host;	 /* SNI and certificate name check */
	const char *trust_file;	 /* PEM CA file; NULL: system trust store */
	const char *fingerprint; /* "AB:CD:..." SHA-256 (SHA-1, MD5) of the cert;
				    when set it replaces the CA check */
	bool certcheck;		 /* false: accept any certificate */
	const char *cert_file;	 /* client certificate (EXTERNAL), or NULL */
	const char *key_file;
	const char *priorities;	 /* GnuTLS priority string, or NULL */
	const char *crl_file;	 /* PEM CRLs (tls_crl_file), or NULL */
};


/* The server's certificate, as --serverinfo shows it (tls.c fills it). */
struct tls_cert_info {
	char subject[512];	/* RFC 4514 DN: "CN=mail.example.net" */
	char issuer[512];
	char not_before[64];	/* "2026-12-06 21:43:58 UTC" */
	char not_after[64];
	char sha256[96];	/* "AB:CD:..." */
	char sha1[64];
};
#endif
