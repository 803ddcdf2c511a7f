/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * conffield.c -- see conffield.h. One row per field of struct
 * account_conf; confkey.c parses values into them, config.c copies them
 * along the inheritance.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "conffield.h"
#include "util.h"

enum field_kind { FIELD_STR, FIELD_BOOL, FIELD_LONG };

/* How a value is written back (besides its kind). */
enum field_show {
	SHOW_PLAIN,		/* string as it is, on/off, a number */
	SHOW_AUTO_OFF,		/* bool: auto or off */
	SHOW_OFF_ZERO,		/* number: 0 is "off" (timeout) */
	SHOW_UNSET_ZERO,	/* number: 0 is not set (port) */
	SHOW_SET_FROM,		/* enum conf_set_from */
	SHOW_QUEUE,		/* enum conf_queue */
	SHOW_DSN_UNSUPPORTED,	/* enum conf_dsn_unsupported */
	SHOW_PROTOCOL,		/* enum conf_protocol */
};

static const struct field {
	size_t off;
	enum field_kind kind;
	const char *name;
	enum field_show show;
	bool secret;
} fields[CONF_NKEYS] = {
#define F(key, member, kind, name, show) \
	[key] = { offsetof(struct account_conf, member), kind, name, show, \
	    false }
#define SECRET(key, member, name) \
	[key] = { offsetof(struct account_conf, member), FIELD_STR, name, \
	    SHOW_PLAIN, true }
	F(CONF_HOST, host, FIELD_STR, "host", SHOW_PLAIN),
	F(CONF_PORT, port, FIELD_LONG, "port", SHOW_UNSET_ZERO),
	F(CONF_TLS, tls, FIELD_BOOL, "tls", SHOW_PLAIN),
	F(CONF_TLS_STARTTLS, tls_starttls, FIELD_BOOL, "tls_starttls",
	    SHOW_PLAIN),
	F(CONF_TLS_TRUST_FILE, tls_trust_file, FIELD_STR, "tls_trust_file",
	    SHOW_PLAIN),
	F(CONF_TLS_FINGERPRINT, tls_fingerprint, FIELD_STR,
	    "tls_fingerprint", SHOW_PLAIN),
	F(CONF_TLS_CERTCHECK, tls_certcheck, FIELD_BOOL, "tls_certcheck",
	    SHOW_PLAIN),
	F(CONF_TLS_CERT_FILE, tls_cert_file, FIELD_STR, "tls_cert_file",
	    SHOW_PLAIN),
	F(CONF_TLS_KEY_FILE, tls_key_file, FIELD_STR, "tls_key_file",
	    SHOW_PLAIN),
	F(CONF_TLS_HOST_OVERRIDE, tls_host_override, FIELD_STR,
	    "tls_host_override", SHOW_PLAIN),
	F(CONF_TLS_PRIORITIES, tls_priorities, FIELD_STR, "tls_priorities",
	    SHOW_PLAIN),
	F(CONF_AUTH, auth, FIELD_STR, "auth", SHOW_PLAIN),
	F(CONF_USER, user, FIELD_STR, "user", SHOW_PLAIN),
	SECRET(CONF_PASSWORD, password, "password"),
	F(CONF_PASSWORDEVAL, passwordeval, FIELD_STR, "passwordeval",
	    SHOW_PLAIN),
	F(CONF_FROM, from, FIELD_STR, "from", SHOW_PLAIN),
	F(CONF_DOMAIN, domain, FIELD_STR, "domain", SHOW_PLAIN),
	F(CONF_TIMEOUT, timeout, FIELD_LONG, "timeout", SHOW_OFF_ZERO),
	F(CONF_LOGFILE, logfile, FIELD_STR, "logfile", SHOW_PLAIN),
	F(CONF_LOGFILE_TIME_FORMAT, logfile_time_format, FIELD_STR,
	    "logfile_time_format", SHOW_PLAIN),
	F(CONF_SYSLOG, syslog, FIELD_STR, "syslog", SHOW_PLAIN),
	F(CONF_AUTO_FROM, auto_from, FIELD_BOOL, "auto_from", SHOW_PLAIN),
	F(CONF_FROM_FULL_NAME, from_full_name, FIELD_STR, "from_full_name",
	    SHOW_PLAIN),
	F(CONF_ALLOW_FROM_OVERRIDE, allow_from_override, FIELD_BOOL,
	    "allow_from_override", SHOW_PLAIN),
	F(CONF_SET_FROM_HEADER, set_from_header, FIELD_LONG,
	    "set_from_header", SHOW_SET_FROM),
	F(CONF_SET_DATE_HEADER, set_date_header, FIELD_BOOL,
	    "set_date_header", SHOW_AUTO_OFF),
	F(CONF_SET_MSGID_HEADER, set_msgid_header, FIELD_BOOL,
	    "set_msgid_header", SHOW_AUTO_OFF),
	F(CONF_REMOVE_BCC_HEADERS, remove_bcc_headers, FIELD_BOOL,
	    "remove_bcc_headers", SHOW_PLAIN),
	F(CONF_UNDISCLOSED_RECIPIENTS, undisclosed_recipients, FIELD_BOOL,
	    "undisclosed_recipients", SHOW_PLAIN),
	F(CONF_ALIASES, aliases, FIELD_STR, "aliases", SHOW_PLAIN),
	F(CONF_MAILDOMAIN, maildomain, FIELD_STR, "maildomain", SHOW_PLAIN),
	F(CONF_DSN_NOTIFY, dsn_notify, FIELD_STR, "dsn_notify", SHOW_PLAIN),
	F(CONF_DSN_RETURN, dsn_return, FIELD_STR, "dsn_return", SHOW_PLAIN),
	F(CONF_DSN_UNSUPPORTED, dsn_unsupported, FIELD_LONG,
	    "dsn_unsupported", SHOW_DSN_UNSUPPORTED),
	F(CONF_QUEUE, queue, FIELD_LONG, "queue", SHOW_QUEUE),
	F(CONF_QUEUE_MAX_AGE, queue_max_age, FIELD_LONG, "queue_max_age",
	    SHOW_PLAIN),
	F(CONF_TLS_CRL_FILE, tls_crl_file, FIELD_STR, "tls_crl_file",
	    SHOW_PLAIN),
	F(CONF_PROTOCOL, protocol, FIELD_LONG, "protocol", SHOW_PROTOCOL),
	F(CONF_OAUTH2_PROVIDER, oauth2_provider, FIELD_STR, "oauth2_provider",
	    SHOW_PLAIN),
	F(CONF_OAUTH2_TENANT, oauth2_tenant, FIELD_STR, "oauth2_tenant",
	    SHOW_PLAIN),
	F(CONF_OAUTH2_AUTH_ENDPOINT, oauth2_auth_endpoint, FIELD_STR,
	    "oauth2_auth_endpoint", SHOW_PLAIN),
	F(CONF_OAUTH2_DEVICE_ENDPOINT, oauth2_device_endpoint, FIELD_STR,
	    "oauth2_device_endpoint", SHOW_PLAIN),
	F(CONF_OAUTH2_TOKEN_ENDPOINT, oauth2_token_endpoint, FIELD_STR,
	    "oauth2_token_endpoint", SHOW_PLAIN),
	F(CONF_OAUTH2_SCOPE, oauth2_scope, FIELD_STR, "oauth2_scope",
	    SHOW_PLAIN),
	F(CONF_OAUTH2_CLIENT_ID, oauth2_client_id, FIELD_STR,
	    "oauth2_client_id", SHOW_PLAIN),
	SECRET(CONF_OAUTH2_CLIENT_SECRET, oauth2_client_secret,
	    "oauth2_client_secret"),
	F(CONF_OAUTH2_CLIENT_SECRET_EVAL, oauth2_client_secret_eval,
	    FIELD_STR, "oauth2_client_secret_eval", SHOW_PLAIN),
	F(CONF_OAUTH2_TRUST_FILE, oauth2_trust_file, FIELD_STR,
	    "oauth2_trust_file", SHOW_PLAIN),
	F(CONF_PROXY_HOST, proxy_host, FIELD_STR, "proxy_host", SHOW_PLAIN),
	F(CONF_PROXY_PORT, proxy_port, FIELD_LONG, "proxy_port",
	    SHOW_UNSET_ZERO),
	F(CONF_PROXY_USER, proxy_user, FIELD_STR, "proxy_user", SHOW_PLAIN),
	SECRET(CONF_PROXY_PASSWORD, proxy_password, "proxy_password"),
	F(CONF_SOCKET, socket, FIELD_STR, "socket", SHOW_PLAIN),
	F(CONF_SOURCE_IP, source_ip, FIELD_STR, "source_ip", SHOW_PLAIN),
#undef F
#undef SECRET
};

_Static_assert(CONF_NKEYS < sizeof(unsigned long) * 8,
    "one bit per key in an unsigned long");

char **
conffield_str(struct account_conf *a, enum config_key k)
{
	return (char **)(void *)((char *)a + fields[k].off);
}

bool *
conffield_bool(struct account_conf *a, enum config_key k)
{
	return (bool *)(void *)((char *)a + fields[k].off);
}

long *
conffield_long(struct account_conf *a, enum config_key k)
{
	return (long *)(void *)((char *)a + fields[k].off);
}

void
conffield_set_str(struct account_conf *a, enum config_key k, const char *v)
{
	char **p = conffield_str(a, k);

	util_free_secret(*p);
	*p = v != NULL ? xstrdup(v) : NULL;
}

static void
field_copy(struct account_conf *dst, const struct account_conf *src,
    enum config_key k)
{
	struct account_conf *s = (struct account_conf *)src;	/* read only */

	switch (fields[k].kind) {
	case FIELD_STR:
		conffield_set_str(dst, k, *conffield_str(s, k));
		break;
	case FIELD_BOOL:
		*conffield_bool(dst, k) = *conffield_bool(s, k);
		break;
	case FIELD_LONG:
		*conffield_long(dst, k) = *conffield_long(s, k);
		break;
	}
}

void
conffield_copy(struct account_conf *dst, const struct account_conf *src,
    unsigned long mask)
{
	for (int k = 0; k < CONF_NKEYS; k++)
		if ((mask >> k) & 1)
			field_copy(dst, src, (enum config_key)k);
}

void
conffield_release(struct account_conf *a)
{
	for (int k = 0; k < CONF_NKEYS; k++) {
		if (fields[k].kind == FIELD_STR) {
			char **p = conffield_str(a, (enum config_key)k);

			util_free_secret(*p);
			*p = NULL;
		}
	}
}

const char *
conffield_name(enum config_key k)
{
	return fields[k].name;
}

bool
conffield_secret(enum config_key k)
{
	return fields[k].secret;
}

/* A number as its enum's word, or NULL when show does not name it. */
static const char *
show_word(enum field_show show, long v)
{
	static const char *const set_from[] = {
		[CONF_SET_FROM_AUTO] = "auto", [CONF_SET_FROM_ON] = "on",
		[CONF_SET_FROM_OFF] = "off",
	};
	static const char *const queue[] = {
		[CONF_QUEUE_OFF] = "off",
		[CONF_QUEUE_ON_FAILURE] = "on-failure",
		[CONF_QUEUE_ALWAYS] = "always",
	};
	static const char *const dsn[] = {
		[CONF_DSN_FAIL] = "fail", [CONF_DSN_SEND] = "send",
	};
	static const char *const protocol[] = {
		[CONF_PROTOCOL_SMTP] = "smtp", [CONF_PROTOCOL_LMTP] = "lmtp",
	};

	if (show == SHOW_SET_FROM && v >= 0 && v < (long)ARRAY_SIZE(set_from))
		return set_from[v];
	if (show == SHOW_QUEUE && v >= 0 && v < (long)ARRAY_SIZE(queue))
		return queue[v];
	if (show == SHOW_DSN_UNSUPPORTED && v >= 0 && v < (long)ARRAY_SIZE(dsn))
		return dsn[v];
	if (show == SHOW_PROTOCOL && v >= 0 && v < (long)ARRAY_SIZE(protocol))
		return protocol[v];
	if (show == SHOW_OFF_ZERO && v == 0)
		return "off";
	return NULL;
}

const char *
conffield_format(const struct account_conf *a, enum config_key k,
    char *buf, size_t size)
{
	struct account_conf *c = (struct account_conf *)a;	/* read only */
	const struct field *f = &fields[k];
	const char *w;
	long v;

	switch (f->kind) {
	case FIELD_STR:
		return *conffield_str(c, k);
	case FIELD_BOOL:
		if (*conffield_bool(c, k))
			return f->show == SHOW_AUTO_OFF ? "auto" : "on";
		return "off";
	case FIELD_LONG:
		break;
	}
	v = *conffield_long(c, k);
	if (f->show == SHOW_UNSET_ZERO && v == 0)
		return NULL;
	if ((w = show_word(f->show, v)) != NULL)
		return w;
	snprintf(buf, size, "%ld", v);
	return buf;
}

void
conffield_each(const struct account_conf *a,
    void (*fn)(void *arg, enum config_key k, const char *name,
    const char *value), void *arg)
{
	char buf[32];

	for (int k = 0; k < CONF_NKEYS; k++)
		fn(arg, (enum config_key)k, fields[k].name,
		    conffield_format(a, (enum config_key)k, buf, sizeof(buf)));
}
