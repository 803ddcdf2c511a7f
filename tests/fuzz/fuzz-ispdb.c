/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-ispdb.c -- ispdb.c: the autoconfig document parser (--configure),
 * fed the input as a whole document, as the HTTPS answer hands it over.
 *
 * Invariants: the result is 0 or -1; an error is ERR_PROTOCOL with a
 * message "not an autoconfig document: ..."; an accepted document gives
 * a host name that ispdb_value_ok() takes (so no blank, control byte or
 * quote reaches the printed block), a port 1..65535, a known socket
 * type, a username that is empty or ispdb_value_ok(), and auth_none only
 * without a password or OAuth2 method.
 */
#include "autoconfig.h"

#include <string.h>

#include "error.h"
#include "ispdb.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ispdb_smtp s;
	struct error err;
	int rc;

	error_init(&err);
	rc = ispdb_parse((const char *)data, size, &s, &err);
	FUZZ_CHECK(rc == 0 || rc == -1, "result %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(err.kind == ERR_PROTOCOL && strncmp(err.message,
		    "not an autoconfig document: ", 28) == 0,
		    "error kind %d '%s'", err.kind, err.message);
		return 0;
	}
	FUZZ_CHECK(ispdb_value_ok(s.hostname, true), "host '%s'", s.hostname);
	FUZZ_CHECK(s.port >= 1 && s.port <= 65535, "port %u", s.port);
	FUZZ_CHECK(s.socket == ISPDB_SOCKET_SSL ||
	    s.socket == ISPDB_SOCKET_STARTTLS ||
	    s.socket == ISPDB_SOCKET_PLAIN, "socket %d", (int)s.socket);
	FUZZ_CHECK(s.username[0] == '\0' || ispdb_value_ok(s.username, false),
	    "username '%s'", s.username);
	FUZZ_CHECK(!s.auth_none || (!s.auth_password && !s.auth_oauth2),
	    "auth_none with a method");
	return 0;
}
