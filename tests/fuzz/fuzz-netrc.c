/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-netrc.c -- netrc.c: netrc_search() on the input for a few hosts and
 * users (fixed ones, and the first "machine" and "login" values of the
 * input, so that entries can match), and netrc_lookup() on the same bytes
 * written to a private file (mode 0600) under fuzz_tmpdir().
 *
 * Invariants: 1 exactly when a password comes back; an error is
 * ERR_CONFIG "fuzz:LINE: ..."; the host matches without regard to ASCII
 * case (the upper-cased host finds the same password); the file gives the
 * same answer as the text.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "netrc.h"
#include "util.h"

#include "fuzz.h"

/* rc, then the password (malloc'd, or NULL). */
static int
search(const uint8_t *data, size_t size, const char *host, const char *user,
    char **pw)
{
	struct error err;
	int rc;

	error_init(&err);
	rc = netrc_search((const char *)data, size, "fuzz", host, user, pw,
	    &err);
	FUZZ_CHECK(rc >= -1 && rc <= 1 && (rc == 1) == (*pw != NULL),
	    "netrc_search: %d, password %s", rc, *pw ? "set" : "NULL");
	FUZZ_CHECK(rc >= 0 || (err.kind == ERR_CONFIG &&
	    strncmp(err.message, "fuzz:", 5) == 0), "error kind %d '%s'",
	    err.kind, err.message);
	return rc;
}

static bool
same(int ra, const char *a, int rb, const char *b)
{
	return ra == rb && (a == NULL) == (b == NULL) &&
	    (a == NULL || strcmp(a, b) == 0);
}

static void
query(const uint8_t *data, size_t size, const char *path, const char *host,
    const char *user)
{
	char *pw = NULL, *pw2 = NULL, *up = xstrdup(host);
	struct error err;
	int rc, rc2;

	rc = search(data, size, host, user, &pw);
	for (char *p = up; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	rc2 = search(data, size, up, user, &pw2);
	FUZZ_CHECK(same(rc, pw, rc2, pw2), "'%s' and '%s' differ", host, up);
	util_free_secret(pw2);
	pw2 = NULL;
	if (path != NULL) {
		error_init(&err);
		rc2 = netrc_lookup(path, host, user, &pw2, &err);
		FUZZ_CHECK(rc2 == (rc < 0 ? -1 : rc) && (rc2 != 1 ||
		    strcmp(pw, pw2) == 0), "netrc_lookup %d, netrc_search %d",
		    rc2, rc);
		util_free_secret(pw2);
	}
	util_free_secret(pw);
	free(up);
}

/* The value after the first "key " in the input, or dflt (malloc'd). */
static char *
first_value(const uint8_t *data, size_t size, const char *key,
    const char *dflt)
{
	const char *p = memmem(data, size, key, strlen(key)), *e;
	const char *end = (const char *)data + size;

	if (p == NULL)
		return xstrdup(dflt);
	p += strlen(key);
	for (e = p; e < end && *e != ' ' && *e != '\t' && *e != '\n' &&
	    *e != '\0'; e++)
		;
	return xstrndup(p, (size_t)(e - p));
}

static char *
write_file(const uint8_t *data, size_t size)
{
	char *path = xasprintf("%s/netrc", fuzz_tmpdir());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size &&
	    close(fd) == 0, "cannot write %s", path);
	return path;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *host, *user, *path;

	if (size > 64 * 1024)
		return 0;
	host = first_value(data, size, "machine ", "mail.example.org");
	user = first_value(data, size, "login ", "alice");
	path = write_file(data, size);
	query(data, size, path, host, user);
	query(data, size, NULL, "mail.example.org", "alice");
	query(data, size, NULL, host, "");
	unlink(path);
	free(path);
	free(host);
	free(user);
	return 0;
}
