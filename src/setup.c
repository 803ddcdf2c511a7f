/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * setup.c -- see setup.h.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "error.h"
#include "setup.h"
#include "srv.h"
#include "util.h"

/* Whether host is domain or under it (else msmtp's warning). */
static bool
in_domain(const char *host, const char *domain)
{
	size_t n = strlen(host), m = strlen(domain);

	return n >= m && strcasecmp(host + n - m, domain) == 0 &&
	    (n == m || host[n - m - 1] == '.');
}

/* The OAuth 2.0 preset for a server, or NULL. */
static const char *
oauth_provider(const char *host)
{
	static const struct {
		const char *suffix, *provider;
	} t[] = {
		{ "gmail.com", "google" },
		{ "google.com", "google" },
		{ "googlemail.com", "google" },
		{ "office365.com", "microsoft" },
		{ "outlook.com", "microsoft" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (in_domain(host, t[i].suffix))
			return t[i].provider;
	return NULL;
}

/* The best record of _SERVICE._tcp.domain into r; 1 found, 0 none. */
static int
best(const char *service, const char *domain, struct srv_record *r,
    struct error *err)
{
	struct srv_record rr[SRV_MAX];
	char name[SRV_TARGET_MAX + 32];
	size_t n;

	snprintf(name, sizeof(name), "_%s._tcp.%s", service, domain);
	if (srv_lookup(name, rr, SRV_MAX, &n, err) < 0)
		return -1;
	if (n > 0)
		*r = rr[0];
	return n > 0;
}

static void
print_block(FILE *f, const char *address, const char *local,
    const struct srv_record *r, bool implicit)
{
	const char *provider = oauth_provider(r->target);

	fprintf(f, "# - copy this to your configuration file "
	    "~/.config/yubin/config\n");
	if (!in_domain(r->target, address_domain(address)))
		fprintf(f, "# - warning: the host does not match the mail "
		    "domain; please check\n");
	if (provider != NULL)
		fprintf(f, "# - sign in once: yubin --login -a %s\n", address);
	else
		fprintf(f, "# - add your password to the key ring: "
		    "yubin --store-password -a %s\n", address);
	fprintf(f, "account %s\nhost %s\nport %u\ntls on\ntls_starttls %s\n"
	    "auth on\nuser %s\nfrom %s\n", address, r->target, r->port,
	    implicit ? "off" : "on", provider != NULL ? address : local,
	    address);
	if (provider != NULL)
		fprintf(f, "oauth2_provider %s\n", provider);
}

int
setup_print(FILE *f, const char *address, struct error *err)
{
	const char *domain = address_domain(address);
	struct srv_record r;
	char local[256];
	bool implicit = true;
	int found;

	if (address_check(address, "address", "given to --configure",
	    err) < 0)
		return -1;
	if (domain == NULL || *domain == '\0' ||
	    (size_t)(domain - address) > sizeof(local))
		return error_set(err, ERR_DATAERR, "--configure: '%s' is not "
		    "an address with a domain", address);
	util_strlcpy(local, address, (size_t)(domain - address));
	if ((found = best("submissions", domain, &r, err)) < 0)
		return -1;
	if (found == 0) {
		implicit = false;
		if ((found = best("submission", domain, &r, err)) < 0)
			return -1;
	}
	if (found == 0)
		return error_set(err, ERR_NOHOST, "no SRV records for "
		    "_submissions._tcp.%s or _submission._tcp.%s (RFC 6186); "
		    "ask your provider for the server's name and port",
		    domain, domain);
	print_block(f, address, local, &r, implicit);
	return 0;
}
