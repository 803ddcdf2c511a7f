/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-address.c -- address.c: the RFC 5322 address-list parser as -t uses
 * it on a header field body, the same parser on a command-line argument,
 * address_domain() and the IDNA conversion for servers without SMTPUTF8.
 *
 * Invariants: a failed parse leaves the list as it was and says
 * ERR_DATAERR; a parsed address is not empty, holds no control
 * character but tab, and no blank outside a quoted string or a domain
 * literal; address_domain() points after an
 * '@' inside the address; address_to_ascii() gives ASCII with the same
 * local part and, for a converted domain, only letters, digits, '-' and
 * '.' (what an A-label domain is made of).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "error.h"
#include "util.h"

#include "fuzz.h"

static void
check_ascii(const char *a)
{
	const char *dom = address_domain(a);
	struct error err;
	char *out = NULL;
	size_t local;

	error_init(&err);
	if (address_to_ascii(a, &out, &err) < 0) {
		FUZZ_CHECK(out == NULL && err.kind == ERR_DATAERR,
		    "address_to_ascii('%s') failed with kind %d", a, err.kind);
		return;
	}
	FUZZ_CHECK(!util_has_8bit(out, strlen(out)) ||
	    (dom != NULL && dom[0] == '['),
	    "address_to_ascii('%s') = '%s' is not ASCII", a, out);
	local = dom != NULL ? (size_t)(dom - a) : strlen(a);
	FUZZ_CHECK(strncmp(out, a, local) == 0, "address_to_ascii('%s') = "
	    "'%s' changed the local part", a, out);
	if (dom != NULL && util_has_8bit(dom, strlen(dom)) && dom[0] != '[')
		for (const char *p = out + local; *p != '\0'; p++)
			FUZZ_CHECK((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') || (*p >= '0' &&
			    *p <= '9') || *p == '-' || *p == '.',
			    "address_to_ascii('%s') = '%s': the domain "
			    "holds '%c'", a, out, *p);
	free(out);
}

/* No blank outside a quoted string or a domain literal. */
static void
check_blanks(const char *a)
{
	bool quoted = false, literal = false;

	for (const char *p = a; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (!literal && *p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '[' || *p == ']'))
			literal = *p == '[';
		else
			FUZZ_CHECK(quoted || literal || (*p != ' ' && *p != '\t'),
			    "address '%s' has a blank outside quotes", a);
	}
}

static void
check_list(const struct address_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *a = l->addr[i], *dom = address_domain(a);

		FUZZ_CHECK(a[0] != '\0', "empty address parsed");
		check_blanks(a);
		for (const char *p = a; *p != '\0'; p++)
			FUZZ_CHECK(*p != '\r' && *p != '\n' &&
			    ((unsigned char)*p >= 0x20 || *p == '\t'),
			    "address '%s' holds 0x%02x", a, *p);
		FUZZ_CHECK(dom == NULL || (dom > a && dom[-1] == '@' &&
		    dom <= a + strlen(a)), "address_domain('%s')", a);
		check_ascii(a);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address_list l;
	struct error err;
	char *arg;
	int rc;

	if (size > 64 * 1024)
		return 0;
	address_list_init(&l);
	address_list_add(&l, "before@example.org");
	error_init(&err);
	rc = address_parse_list((const char *)data, size, "To", &l, &err);
	FUZZ_CHECK(rc == 0 || (l.n == 1 && err.kind == ERR_DATAERR),
	    "failed list parse: %zu addresses, kind %d", l.n, err.kind);
	check_list(&l);
	address_list_release(&l);

	arg = fuzz_strndup(data, size);
	error_init(&err);
	rc = address_parse_arg(arg, "recipient", &l, &err);
	FUZZ_CHECK(rc == 0 || (l.n == 0 && err.kind == ERR_DATAERR),
	    "failed argument parse: %zu addresses, kind %d", l.n, err.kind);
	check_list(&l);
	address_list_release(&l);
	free(arg);
	return 0;
}
