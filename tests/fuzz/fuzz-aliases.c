/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-aliases.c -- aliases.c: aliases_parse() on the input (fmemopen),
 * then aliases_expand() of the names the file defines (the first few) and
 * of root, postmaster and a name nobody defines.
 *
 * Invariants: an error is ERR_CONFIG "fuzz:LINE: ..."; an expansion gives
 * at least one address, none empty or holding a control character but
 * tab (the address parser keeps a tab inside quotes; address_check()
 * refuses it before the wire), or
 * fails with ERR_CONFIG (nesting) or ERR_NOUSER (a command, file or
 * include target) and leaves the list as it was.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "aliases.h"
#include "error.h"
#include "util.h"

#include "fuzz.h"

#define NAMES_MAX 8

static void
expand(const struct aliases *a, const char *name)
{
	struct address_list l;
	struct error err;
	int rc;

	address_list_init(&l);
	error_init(&err);
	rc = aliases_expand(a, name, &l, &err);
	if (rc < 0) {
		FUZZ_CHECK(err.kind == ERR_CONFIG || err.kind == ERR_NOUSER,
		    "aliases_expand('%s'): kind %d", name, err.kind);
	} else {
		FUZZ_CHECK(rc == 0 && l.n >= 1, "aliases_expand('%s'): %d, "
		    "%zu addresses", name, rc, l.n);
		for (size_t i = 0; i < l.n; i++) {
			FUZZ_CHECK(l.addr[i][0] != '\0', "empty address");
			for (const char *p = l.addr[i]; *p != '\0'; p++)
				FUZZ_CHECK(((unsigned char)*p >= 0x20 ||
				    *p == '\t') && *p != 0x7f, "address '%s' "
				    "holds 0x%02x", l.addr[i], *p);
		}
	}
	address_list_release(&l);
}

/*
 * The names of the first entries: "name:" at the start of a line, when it
 * could be a recipient (envelope.c expands only checked addresses: no
 * control character).
 */
static size_t
names(const uint8_t *data, size_t size, char **out)
{
	struct fuzz_lines in;
	const char *line;
	size_t len, n = 0;

	fuzz_lines_init(&in, data, size);
	while (n < NAMES_MAX && fuzz_lines_next(&in, &line, &len)) {
		const char *colon = memchr(line, ':', len);

		bool ctl = false;

		for (const char *p = line; colon != NULL && p < colon; p++)
			ctl |= (unsigned char)*p < 0x20 || *p == 0x7f;
		if (colon != NULL && colon > line && !ctl && line[0] != ' ' &&
		    line[0] != '#')
			out[n++] = xstrndup(line, (size_t)(colon - line));
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aliases *a = NULL;
	struct error err;
	char *name[NAMES_MAX];
	size_t n;
	FILE *f;

	if (size == 0 || size > 64 * 1024)
		return 0;
	f = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(f != NULL, "fmemopen");
	error_init(&err);
	if (aliases_parse(&a, f, "fuzz", &err) < 0) {
		fclose(f);
		FUZZ_CHECK(err.kind == ERR_CONFIG &&
		    strncmp(err.message, "fuzz:", 5) == 0,
		    "aliases_parse: kind %d '%s'", err.kind, err.message);
		return 0;
	}
	fclose(f);
	n = names(data, size, name);
	for (size_t i = 0; i < n; i++) {
		expand(a, name[i]);
		free(name[i]);
	}
	expand(a, "root");
	expand(a, "postmaster");
	expand(a, "nobody-defines-this");
	aliases_free(a);
	return 0;
}
