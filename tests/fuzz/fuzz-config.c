/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-config.c -- config.c and confkey.c: config_parse() on the input
 * (fmemopen), then account.c on every account it defined, as main.c would
 * choose one (by name, by default, by sender).
 *
 * Invariants: an error is ERR_CONFIG "fuzz:LINE: ..." (or names the
 * account); every account has a name; an account that account_finish()
 * accepts has a host, a port in 1..65535, a user when it authenticates
 * with anything but EXTERNAL, and a timeout that is not negative.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "error.h"

#include "fuzz.h"

static void
check_account(const struct account_conf *a)
{
	struct account acct;
	struct error err;

	FUZZ_CHECK(a->name != NULL && a->name[0] != '\0', "account without "
	    "a name");
	error_init(&err);
	if (account_finish(a, &acct, &err) < 0) {
		FUZZ_CHECK(err.kind == ERR_CONFIG && err.message[0] != '\0',
		    "account_finish: kind %d '%s'", err.kind, err.message);
		return;
	}
	FUZZ_CHECK(acct.host != NULL && acct.host[0] != '\0', "no host");
	FUZZ_CHECK(acct.port >= 1 && acct.port <= 65535, "port %d",
	    acct.port);
	FUZZ_CHECK(!acct.auth || acct.user != NULL || (acct.auth_mech != NULL &&
	    strcmp(acct.auth_mech, "EXTERNAL") == 0), "auth without user");
	FUZZ_CHECK(acct.timeout_ms >= 0, "timeout %d", acct.timeout_ms);
}

static void
check_select(const struct config *c, const char *name, const char *from)
{
	struct account acct;
	struct error err;

	error_init(&err);
	if (account_select_by_from(c, name, from, &acct, &err) < 0)
		FUZZ_CHECK(err.kind == ERR_CONFIG && err.message[0] != '\0',
		    "account_select: kind %d '%s'", err.kind, err.message);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct error err;
	FILE *f;
	int rc;

	if (size == 0 || size > 64 * 1024)
		return 0;
	/* %C of msmtp's substitutions resolves %H: /etc/hosts, no DNS */
	setenv("HOSTNAME", "localhost", 1);
	f = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(f != NULL, "fmemopen");
	config_init(&c);
	error_init(&err);
	rc = config_parse(&c, f, "fuzz", &err);
	fclose(f);
	if (rc < 0) {
		FUZZ_CHECK(err.kind == ERR_CONFIG &&
		    strncmp(err.message, "fuzz:", 5) == 0,
		    "config_parse: kind %d '%s'", err.kind, err.message);
	} else {
		FUZZ_CHECK(rc == 0, "config_parse returned %d", rc);
		for (const struct account_conf *a = c.accounts; a != NULL;
		    a = a->next)
			check_account(a);
		check_select(&c, NULL, NULL);
		check_select(&c, "default", NULL);
		check_select(&c, NULL, "alice+list@example.org");
	}
	config_release(&c);
	return 0;
}
