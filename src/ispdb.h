/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ispdb.h -- a mail provider's autoconfig document (Thunderbird's
 * config-v1.1.xml, also what its ISPDB serves): the first outgoingServer
 * of type smtp. Pure: a bounded parser of the XML subset such documents
 * use (elements, attributes, text, comments, <?...?>, the five predefined
 * entities); anything else (a DOCTYPE, CDATA, other entities, a nesting
 * deeper than ISPDB_DEPTH_MAX, a value longer than ISPDB_VALUE_MAX) is
 * refused, so a hostile document costs one pass over its bytes.
 */
#ifndef YUBIN_ISPDB_H
#define YUBIN_ISPDB_H

#include <stdbool.h>
#include <stddef.h>

struct error;

#define ISPDB_DEPTH_MAX 16
#define ISPDB_VALUE_MAX 256

enum ispdb_socket {
	ISPDB_SOCKET_SSL,	/* implicit TLS */
	ISPDB_SOCKET_STARTTLS,
	ISPDB_SOCKET_PLAIN,
};

struct ispdb_smtp {
	char hostname[ISPDB_VALUE_MAX];
	unsigned port;
	enum ispdb_socket socket;
	char username[ISPDB_VALUE_MAX];	/* may hold %EMAILADDRESS% ...; "" */
	bool auth_password;	/* password-cleartext, plain, -encrypted, ... */
	bool auth_oauth2;	/* OAuth2 */
	bool auth_none;		/* only none / client-IP-address */
};

/*
 * Parse the document doc[0..len) into *out. -1 with ERR_PROTOCOL for a
 * document that is not well-formed XML, not a clientConfig, or without
 * an smtp outgoingServer that names a hostname, a port (1-65535) and a
 * socketType SSL, STARTTLS or plain.
 */
int ispdb_parse(const char *doc, size_t len, struct ispdb_smtp *out,
    struct error *err);

/*
 * Whether v (not empty) may go into a configuration line: no blank,
 * control character, '"', '#' or '\\'; for a host, only letters, digits,
 * '.', '-', '_' and the placeholders' '%'.
 */
bool ispdb_value_ok(const char *v, bool host);

#endif
