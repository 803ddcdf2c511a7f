/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * serverinfo.c -- see serverinfo.h. The readable layout:
 *
 *	SMTP server at HOST (PEER):
 *	    GREETING LINE...
 *	TLS session:
 *	    TLS1.3/ECDHE-SECP256R1/AES-256-GCM
 *	TLS certificate:
 *	    subject:     CN=...
 *	    ...
 *	Capabilities (EHLO after STARTTLS):
 *	    KEYWORD PARAMS    what it means
 *	Authentication methods:
 *	    PLAIN SCRAM-SHA-256 ...
 *
 * --json: one object, {"host", "peer", "greeting": [...], "tls": {...} or
 * null, "capabilities": [...], "auth": [...]}.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "error.h"
#include "json.h"
#include "serverinfo.h"
#include "session.h"
#include "util.h"

/* What a keyword means, as msmtp explains it. */
static const char *
keyword_meaning(const char *kw, size_t n)
{
	static const struct {
		const char *kw, *what;
	} t[] = {
		{ "SIZE", "maximum message size" },
		{ "PIPELINING", "commands sent in groups" },
		{ "ETRN", "remote message queue starting (--rmqs)" },
		{ "DSN", "delivery status notifications (-N, -R)" },
		{ "STARTTLS", "TLS via STARTTLS" },
		{ "AUTH", "authentication" },
		{ "8BITMIME", "8-bit message bodies" },
		{ "SMTPUTF8", "UTF-8 addresses and header fields" },
		{ "CHUNKING", "BDAT (RFC 3030)" },
		{ "BINARYMIME", "binary message bodies" },
		{ "ENHANCEDSTATUSCODES", "enhanced status codes (RFC 3463)" },
		{ "VRFY", "address verification" },
		{ "DELIVERBY", "delivery deadlines (RFC 2852)" },
		{ "REQUIRETLS", "TLS required onward (RFC 8689)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strlen(t[i].kw) == n && strncasecmp(t[i].kw, kw, n) == 0)
			return t[i].what;
	return NULL;
}

/*
 * Call fn for each line of text (the '\n'-joined lines of a reply), made
 * safe for a terminal; skip the first skip lines.
 */
static void
each_line(const char *text, size_t skip,
    void (*fn)(void *arg, const char *line, size_t i), void *arg)
{
	char *copy = xstrdup(text), *line = copy, *nl;
	char safe[1024];

	for (size_t i = 0; line != NULL; i++, line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (i < skip || (*line == '\0' && nl == NULL))
			continue;
		util_oneline(safe, sizeof(safe), line);
		fn(arg, safe, i - skip);
	}
	free(copy);
}

/* ---------------------------------------------------------------- text */

static void
text_line(void *arg, const char *line, size_t i)
{
	(void)i;
	fprintf(arg, "    %s\n", line);
}

static void
text_capability(void *arg, const char *line, size_t i)
{
	size_t n = strcspn(line, " =");
	const char *what = keyword_meaning(line, n);

	(void)i;
	if (what != NULL)
		fprintf(arg, "    %-28s %s\n", line, what);
	else
		fprintf(arg, "    %s\n", line);
}

static void
text_cert(FILE *f, const struct tls_cert_info *c)
{
	fprintf(f, "TLS certificate:\n"
	    "    subject:     %s\n"
	    "    issuer:      %s\n"
	    "    valid from:  %s\n"
	    "    valid until: %s\n"
	    "    SHA-256:     %s\n"
	    "    SHA-1:       %s\n", c->subject, c->issuer, c->not_before,
	    c->not_after, c->sha256, c->sha1);
}

static void
print_text(FILE *f, const struct account *a, const struct session_probe *p)
{
	char host[256];

	fprintf(f, "SMTP server at %s (%s):\n", util_show(a->host, 200, false,
	    host, sizeof(host)), p->peer);
	each_line(p->greeting, 0, text_line, f);
	fprintf(f, "TLS session:\n    %s\n", strcmp(p->tls, "none") == 0 ?
	    "none (tls off)" : p->tls);
	if (p->has_cert)
		text_cert(f, &p->cert);
	fprintf(f, "Capabilities%s:\n", !p->esmtp ? " (no EHLO: none)" :
	    a->tls == ACCOUNT_TLS_STARTTLS ? " (EHLO after STARTTLS)" : "");
	each_line(p->ehlo, 1, text_capability, f);
	fprintf(f, "Authentication methods:\n    %s\n", p->caps.auth[0] !=
	    '\0' ? p->caps.auth : "none offered");
}

/* ---------------------------------------------------------------- JSON */

static void
json_item(void *arg, const char *line, size_t i)
{
	fputs(i > 0 ? ", " : "", arg);
	json_write_str(arg, line);
}

static void
json_field(FILE *f, const char *name, const char *value, bool last)
{
	fprintf(f, "\"%s\": ", name);
	json_write_str(f, value);
	fputs(last ? "" : ", ", f);
}

/* The AUTH methods ("PLAIN LOGIN") as a JSON array. */
static void
json_auth(FILE *f, const char *auth)
{
	char m[64];
	size_t i = 0, n;

	fputs("\"auth\": [", f);
	for (; *auth != '\0'; auth += n) {
		n = strcspn(auth, " ");
		if (n > 0 && n < sizeof(m)) {
			memcpy(m, auth, n);
			m[n] = '\0';
			json_item(f, m, i++);
		}
		if (auth[n] == ' ')
			n++;
	}
	fputs("]", f);
}

static void
print_json(FILE *f, const struct account *a, const struct session_probe *p)
{
	fputc('{', f);
	json_field(f, "host", a->host, false);
	json_field(f, "peer", p->peer, false);
	fputs("\"greeting\": [", f);
	each_line(p->greeting, 0, json_item, f);
	fputs("], \"tls\": ", f);
	if (strcmp(p->tls, "none") == 0)
		fputs("null", f);
	else {
		fputc('{', f);
		json_field(f, "session", p->tls, !p->has_cert);
		if (p->has_cert) {
			json_field(f, "subject", p->cert.subject, false);
			json_field(f, "issuer", p->cert.issuer, false);
			json_field(f, "not_before", p->cert.not_before, false);
			json_field(f, "not_after", p->cert.not_after, false);
			json_field(f, "sha256", p->cert.sha256, false);
			json_field(f, "sha1", p->cert.sha1, true);
		}
		fputc('}', f);
	}
	fputs(", \"capabilities\": [", f);
	each_line(p->ehlo, 1, json_item, f);
	fputs("], ", f);
	json_auth(f, p->caps.auth);
	fputs("}\n", f);
}

int
serverinfo_run(FILE *f, const struct account *a, bool json,
    struct error *err)
{
	struct session_probe *p = xcalloc(1, sizeof(*p));
	int rc = session_probe(a, p, err);

	if (rc == 0) {
		if (json)
			print_json(f, a, p);
		else
			print_text(f, a, p);
		if (fflush(f) != 0)
			rc = error_set(err, ERR_IOERR, "cannot write to "
			    "standard output");
	}
	free(p);
	return rc;
}
