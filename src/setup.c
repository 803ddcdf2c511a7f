/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * setup.c -- see setup.h.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "error.h"
#include "http.h"
#include "ispdb.h"
#include "log.h"
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

/* What the account block says; from an SRV record or a document. */
struct setup_server {
	const char *host;
	unsigned port;
	bool implicit;		/* tls_starttls off */
	bool auth_off;		/* the document names no password method */
	bool oauth2;		/* the document names OAuth2 */
	bool oauth2_only;	/* and no password method */
	const char *user;
	const char *source;	/* the document's URL, or NULL */
};

static void
print_notes(FILE *f, const char *address, const struct setup_server *s,
    const char *provider)
{
	fprintf(f, "# - copy this to your configuration file "
	    "~/.config/yubin/config\n");
	if (s->source != NULL)
		fprintf(f, "# - found in %s\n", s->source);
	if (!in_domain(s->host, address_domain(address)))
		fprintf(f, "# - warning: the host does not match the mail "
		    "domain; please check\n");
	if (provider != NULL)
		fprintf(f, "# - sign in once: yubin --login -a %s\n", address);
	else if (s->oauth2)
		fprintf(f, "# - the provider offers OAuth 2.0: see the "
		    "oauth2_* keys in yubinrc(5)\n");
	if (provider == NULL && !s->auth_off && !s->oauth2_only)
		fprintf(f, "# - add your password to the key ring: "
		    "yubin --store-password -a %s\n", address);
}

static void
print_block(FILE *f, const char *address, const struct setup_server *s)
{
	const char *provider = oauth_provider(s->host);

	print_notes(f, address, s, provider);
	fprintf(f, "account %s\nhost %s\nport %u\ntls on\ntls_starttls %s\n",
	    address, s->host, s->port, s->implicit ? "off" : "on");
	if (s->auth_off)
		fprintf(f, "auth off\n");
	else
		fprintf(f, "auth on\nuser %s\n", provider != NULL ? address :
		    s->user);
	fprintf(f, "from %s\n", address);
	if (provider != NULL)
		fprintf(f, "oauth2_provider %s\n", provider);
}

/* in the document's values: %EMAILADDRESS% %EMAILLOCALPART% %EMAILDOMAIN% */
static int
placeholders(char *out, size_t size, const char *v, const char *address,
    const char *local)
{
	const char *domain = address_domain(address);
	struct dynbuf b;
	int r = 0;

	dynbuf_init(&b, size - 1);
	while (*v != '\0' && r == 0) {
		if (strncmp(v, "%EMAILADDRESS%", 14) == 0)
			r = dynbuf_addstr(&b, address), v += 14;
		else if (strncmp(v, "%EMAILLOCALPART%", 16) == 0)
			r = dynbuf_addstr(&b, local), v += 16;
		else if (strncmp(v, "%EMAILDOMAIN%", 13) == 0)
			r = dynbuf_addstr(&b, domain), v += 13;
		else
			r = dynbuf_add(&b, v++, 1);
	}
	if (r == 0)
		util_strlcpy(out, b.len > 0 ? b.data : "", size);
	dynbuf_release(&b);
	return r;
}

/* Whether v may go into the block (placeholders replaced). */
static bool
printable(const char *v, bool host)
{
	return ispdb_value_ok(v, host) && (!host || strchr(v, '%') == NULL);
}

/* The document's smtp server as a block; -1: it cannot be one. */
static int
from_document(FILE *f, const char *address, const char *local,
    const char *url, const struct ispdb_smtp *d, struct error *err)
{
	char host[ISPDB_VALUE_MAX], user[ISPDB_VALUE_MAX];
	struct setup_server s = { .host = host, .port = d->port,
	    .implicit = d->socket == ISPDB_SOCKET_SSL,
	    .auth_off = d->auth_none, .oauth2 = d->auth_oauth2,
	    .oauth2_only = d->auth_oauth2 && !d->auth_password,
	    .user = user, .source = url };

	if (d->socket == ISPDB_SOCKET_PLAIN)
		return error_set(err, ERR_PROTOCOL, "its smtp server '%s' "
		    "has no TLS (socketType plain)", d->hostname);
	if (placeholders(host, sizeof(host), d->hostname, address,
	    local) < 0 || !printable(host, true))
		return error_set(err, ERR_PROTOCOL, "its hostname '%s' is not "
		    "a host name", d->hostname);
	if (placeholders(user, sizeof(user), *d->username != '\0' ?
	    d->username : "%EMAILADDRESS%", address, local) < 0 ||
	    !printable(user, false))
		return error_set(err, ERR_PROTOCOL, "its username '%s' cannot "
		    "go into a configuration file", d->username);
	print_block(f, address, &s);
	return 0;
}

/* Thunderbird's order; "https://HOST/..." under YUBIN_AUTOCONFIG_URL
 * (tests: a local server) becomes "BASE/HOST/...". */
static int
autoconfig_url(struct dynbuf *b, int i, const char *address,
    const char *domain)
{
	const char *base = getenv("YUBIN_AUTOCONFIG_URL");
	int r;

	dynbuf_reset(b);
	r = base != NULL && *base != '\0' ? dynbuf_printf(b, "%s/", base) :
	    dynbuf_addstr(b, "https://");
	if (r < 0)
		return -1;
	switch (i) {
	case 0:
		if (dynbuf_printf(b, "autoconfig.%s/mail/config-v1.1.xml"
		    "?emailaddress=", domain) < 0)
			return -1;
		return util_pct_encode(b, address);
	case 1:
		return dynbuf_printf(b, "%s/.well-known/autoconfig/mail/"
		    "config-v1.1.xml", domain);
	default:
		return dynbuf_printf(b, "autoconfig.thunderbird.net/v1.1/%s",
		    domain);
	}
}

/* The shown URL: the real one, even under YUBIN_AUTOCONFIG_URL. */
static const char *
shown_url(const char *url)
{
	const char *base = getenv("YUBIN_AUTOCONFIG_URL");
	static char shown[1024];

	if (base == NULL || *base == '\0')
		return url;
	snprintf(shown, sizeof(shown), "https://%s", url + strlen(base) + 1);
	return shown;
}

/* One document: 1 printed, 0 none there (noted, or warned if broken). */
static int
try_document(FILE *f, const char *address, const char *local,
    const char *url)
{
	const char *ca = getenv("YUBIN_AUTOCONFIG_CA");
	struct http_request rq = { .url = url, .timeout_ms = 10000,
	    .accept = "application/xml, text/xml",
	    .ca_file = ca != NULL && *ca != '\0' ? ca : NULL };
	struct http_response rs;
	struct ispdb_smtp d;
	struct error e;
	int r = 0;

	error_init(&e);
	if (http_get(&rq, &rs, &e) < 0) {
		if (e.kind == ERR_TEMP || e.kind == ERR_SOFTWARE)
			log_verbose("autoconfig: %s", e.message);
		else
			log_warn("autoconfig: %s", e.message);
	} else if (rs.status != 200)
		log_verbose("autoconfig: '%s': HTTP %ld", shown_url(url),
		    rs.status);
	else if (ispdb_parse(rs.body.data, rs.body.len, &d, &e) < 0 ||
	    from_document(f, address, local, shown_url(url), &d, &e) < 0)
		log_warn("autoconfig: ignoring '%s': %s", shown_url(url),
		    e.message);
	else
		r = 1;
	http_response_release(&rs);
	return r;
}

/* The autoconfig documents in turn; 1 printed, 0 none. */
static int
autoconfig(FILE *f, const char *address, const char *local)
{
	const char *domain = address_domain(address);
	struct dynbuf url;
	int r = 0;

	if (!printable(domain, true)) {
		log_verbose("autoconfig: '%s' is not an ASCII domain name",
		    domain);
		return 0;
	}
	dynbuf_init(&url, 1024);
	for (int i = 0; i < 3 && r == 0; i++)
		if (autoconfig_url(&url, i, address, domain) == 0)
			r = try_document(f, address, local, url.data);
	dynbuf_release(&url);
	return r;
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
	found = best("submissions", domain, &r, err);
	if (found == 0) {
		implicit = false;
		found = best("submission", domain, &r, err);
	}
	if (found > 0) {
		struct setup_server s = { .host = r.target, .port = r.port,
		    .implicit = implicit, .user = local };

		print_block(f, address, &s);
		return 0;
	}
	if (found < 0)	/* the resolver failed: the documents may help */
		log_verbose("SRV lookup: %s", err->message);
	if (autoconfig(f, address, local) > 0)
		return 0;
	if (found < 0)
		return -1;
	return error_set(err, ERR_NOHOST, "no SRV records for "
	    "_submissions._tcp.%s or _submission._tcp.%s (RFC 6186) and no "
	    "autoconfig document; ask your provider for the server's name "
	    "and port", domain, domain);
}
