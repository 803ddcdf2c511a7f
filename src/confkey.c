/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * confkey.c -- see confkey.h. The keys of the msmtprc syntax as msmtp reads
 * them:
 *   - "on" keys take an empty value as on;
 *   - a string key with an empty value is unset (an empty tls_trust_file is
 *     kept: it means "trust no CA");
 *   - file names "~" and "~/x" are relative to the home directory;
 *   - known msmtp keys that yubin does not implement are ignored (none of
 *     them changes where or how mail goes).
 * One table maps each key to its handler; conffield.c describes the fields
 * the handlers fill.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conffield.h"
#include "confkey.h"
#include "dsn.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define CONFKEY_TIMEOUT_MAX 2147483L	/* seconds; milliseconds fit an int */
#define CONFKEY_SHOW_MAX 48		/* bytes of a value shown in errors */

/* ---------------------------------------------------------------- messages */

int
confkey_error(const struct confkey_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = error_vset_at(ctx->err, ERR_CONFIG, ctx->file, ctx->line, fmt,
	    ap);
	va_end(ap);
	return rc;
}

const char *
confkey_show(const char *s, char *buf, size_t size)
{
	return util_show(s, CONFKEY_SHOW_MAX, true, buf, size);
}

/* ---------------------------------------------------------------- values */

struct confkey {
	const char *name;
	int (*set)(struct confkey_ctx *, const struct confkey *,
	    struct account_conf *, const char *);
	int key;		/* enum config_key, or -1 */
};

static int
mark(struct confkey_ctx *c, const struct confkey *k)
{
	c->written = 1UL << k->key;
	return 0;
}

static int
invalid(struct confkey_ctx *c, const struct confkey *k, const char *v,
    const char *expected)
{
	char buf[128];

	return confkey_error(c, "invalid value '%s' for '%s' (expected %s)",
	    confkey_show(v, buf, sizeof(buf)), k->name, expected);
}

/* "~" and "~/x" become $HOME and $HOME/x (msmtp does this for files). */
static char *
expand_home(const char *v)
{
	const char *home;

	if (v[0] != '~' || (v[1] != '\0' && v[1] != '/'))
		return xstrdup(v);
	home = util_home();
	if (home == NULL)
		return xstrdup(v);
	return xasprintf("%s%s", home, v + 1);
}

/* A string; an empty value unsets it (msmtp). */
static int
key_string(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	conffield_set_str(a, k->key, *v != '\0' ? v : NULL);
	return mark(c, k);
}

static int
key_password(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v != '\0')
		c->password = true;
	return key_string(c, k, a, v);
}

static int
key_host(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v == '\0')
		return confkey_error(c, "'%s' needs a value", k->name);
	return key_string(c, k, a, v);
}

/* A file name: "~/" expanded; empty unsets it. */
static int
key_path(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	char **f = conffield_str(a, k->key);

	util_free_secret(*f);
	*f = *v != '\0' ? expand_home(v) : NULL;
	return mark(c, k);
}

/* tls_trust_file: empty is kept, it means "trust no CA" (msmtp). */
static int
key_trust(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	char **f = conffield_str(a, k->key);

	util_free_secret(*f);
	*f = expand_home(v);
	return mark(c, k);
}

static int
parse_bool(const char *v, bool *out)
{
	if (*v == '\0' || util_strcaseeq(v, "on"))
		*out = true;
	else if (util_strcaseeq(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

static int
key_bool(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (parse_bool(v, conffield_bool(a, k->key)) < 0)
		return invalid(c, k, v, "on or off");
	return mark(c, k);
}

/* Old msmtp flags without a value: tls_nocertcheck, tls_nostarttls. */
static int
key_flag_off(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v != '\0')
		return confkey_error(c, "'%s' takes no value", k->name);
	*conffield_bool(a, k->key) = false;
	return mark(c, k);
}

static int
key_port(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v == '\0')
		return confkey_error(c, "'%s' needs a value", k->name);
	if (util_parse_long(v, 1, 65535, conffield_long(a, k->key)) < 0)
		return invalid(c, k, v, "1-65535");
	return mark(c, k);
}

/* msmtp: an empty proxy_port is the default one. */
static int
key_port_or_empty(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v == '\0') {
		*conffield_long(a, k->key) = 0;
		return mark(c, k);
	}
	return key_port(c, k, a, v);
}

static int
key_timeout(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	long *t = conffield_long(a, k->key);

	if (*v == '\0')
		return confkey_error(c, "'%s' needs a value", k->name);
	if (util_strcaseeq(v, "off"))
		*t = 0;
	else if (util_parse_long(v, 1, CONFKEY_TIMEOUT_MAX, t) < 0)
		return invalid(c, k, v, "off or seconds, 1-2147483");
	return mark(c, k);
}

/* queue off | on-failure | always */
static int
key_queue(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	long *q = conffield_long(a, k->key);

	if (strcmp(v, "off") == 0)
		*q = CONF_QUEUE_OFF;
	else if (strcmp(v, "on-failure") == 0)
		*q = CONF_QUEUE_ON_FAILURE;
	else if (strcmp(v, "always") == 0)
		*q = CONF_QUEUE_ALWAYS;
	else
		return invalid(c, k, v, "off, on-failure or always");
	return mark(c, k);
}

/* A duration: seconds, or a number with s, m, h or d. */
static int
key_duration(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	static const struct { char unit; long mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char num[32];
	size_t n = strlen(v);
	long mul = 1, x;

	if (n == 0 || n >= sizeof(num))
		return invalid(c, k, v, "seconds, or a number with s/m/h/d");
	memcpy(num, v, n + 1);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (num[n - 1] == units[i].unit) {
			mul = units[i].mul;
			num[n - 1] = '\0';
		}
	if (util_parse_long(num, 1, 3650L * 86400 / mul, &x) < 0)
		return invalid(c, k, v, "seconds, or a number with s/m/h/d");
	*conffield_long(a, k->key) = x * mul;
	return mark(c, k);
}

/* on, off or a method name; account.c knows which methods exist. */
static int
key_auth(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v == '\0')
		v = "on";
	if (strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(v))
		return invalid(c, k, v, "on, off or a method such as plain");
	return key_string(c, k, a, v);
}

/* tls_fingerprint: kept as upper-case "01:23:..." (32, 20 or 16 bytes). */
static int
key_fingerprint(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char fp[32];
	char buf[3 * sizeof(fp)];
	int n;

	if (*v == '\0')
		return key_string(c, k, a, v);
	n = util_fingerprint_parse(v, fp, sizeof(fp));
	if (n != 32 && n != 20 && n != 16)
		return invalid(c, k, v, "a SHA-256 fingerprint, 32 hex bytes "
		    "such as 01:23:..:EF (or SHA-1, 20 bytes, or MD5, 16)");
	for (int i = 0; i < n; i++) {
		buf[3 * i] = hex[fp[i] >> 4];
		buf[3 * i + 1] = hex[fp[i] & 15];
		buf[3 * i + 2] = i + 1 < n ? ':' : '\0';
	}
	return key_string(c, k, a, buf);
}

/* ---------------------------------------------------------------- message */

/* set_date_header, set_msgid_header: auto (or empty) or off. */
static int
key_auto_off(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v == '\0' || util_strcaseeq(v, "auto"))
		*conffield_bool(a, k->key) = true;
	else if (util_strcaseeq(v, "off"))
		*conffield_bool(a, k->key) = false;
	else
		return invalid(c, k, v, "auto or off");
	return mark(c, k);
}

/* set_from_header: auto, on (or empty) or off. */
static int
key_set_from(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	long *f = conffield_long(a, k->key);

	if (util_strcaseeq(v, "auto"))
		*f = CONF_SET_FROM_AUTO;
	else if (*v == '\0' || util_strcaseeq(v, "on"))
		*f = CONF_SET_FROM_ON;
	else if (util_strcaseeq(v, "off"))
		*f = CONF_SET_FROM_OFF;
	else
		return invalid(c, k, v, "auto, on or off");
	return mark(c, k);
}

/* add_missing_from_header (msmtp < 1.8.8): on is auto, off is off. */
static int
key_missing_from(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	bool on;

	if (parse_bool(v, &on) < 0)
		return invalid(c, k, v, "on or off");
	*conffield_long(a, k->key) = on ? CONF_SET_FROM_AUTO : CONF_SET_FROM_OFF;
	return mark(c, k);
}

/* keepbcc (msmtp 1.4): the opposite of remove_bcc_headers. */
static int
key_keepbcc(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	bool keep;

	if (parse_bool(v, &keep) < 0)
		return invalid(c, k, v, "on or off");
	*conffield_bool(a, k->key) = !keep;
	return mark(c, k);
}

/* A domain: no blanks, no '@' or other specials; empty unsets. */
static int
key_domain_name(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (strpbrk(v, " \t@<>()[]\\,;:\"") != NULL || *v == '.' ||
	    *v == '-')
		return invalid(c, k, v, "a domain such as example.org");
	return key_string(c, k, a, v);
}

/* dsn_notify: off, never, or a list of success, failure, delay. */
static int
key_dsn_notify(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	char buf[DSN_NOTIFY_MAX];

	if (util_strcaseeq(v, "off"))
		return key_string(c, k, a, "");
	if (dsn_notify_parse(v, buf, sizeof(buf)) < 0)
		return invalid(c, k, v, "off, never or a list of "
		    "success, failure, delay");
	return key_string(c, k, a, buf);
}

/* dsn_return: off, headers (or hdrs, as sendmail's -R), full. */
static int
key_dsn_return(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	const char *r = dsn_return_parse(v);

	if (util_strcaseeq(v, "off"))
		return key_string(c, k, a, "");
	if (r == NULL)
		return invalid(c, k, v, "off, headers or full");
	return key_string(c, k, a, r);
}

/* dsn_unsupported: fail (msmtp: exit 69) or send (without it, a warning). */
static int
key_dsn_unsupported(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	long *d = conffield_long(a, k->key);

	if (util_strcaseeq(v, "fail"))
		*d = CONF_DSN_FAIL;
	else if (util_strcaseeq(v, "send"))
		*d = CONF_DSN_SEND;
	else
		return invalid(c, k, v, "fail or send");
	return mark(c, k);
}

/* ---------------------------------------------------------------- logging */

/* syslog: on (or empty: LOG_USER), off, LOG_USER, LOG_MAIL, LOG_LOCAL0-7. */
static int
key_syslog(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v == '\0' || util_strcaseeq(v, "on"))
		return key_string(c, k, a, "LOG_USER");
	if (util_strcaseeq(v, "off"))
		return key_string(c, k, a, "");
	if (strcmp(v, "LOG_USER") == 0 || strcmp(v, "LOG_MAIL") == 0 ||
	    (strncmp(v, "LOG_LOCAL", 9) == 0 && v[9] >= '0' && v[9] <= '7' &&
	    v[10] == '\0'))
		return key_string(c, k, a, v);
	return invalid(c, k, v, "on, off, LOG_USER, LOG_MAIL or "
	    "LOG_LOCAL0 to LOG_LOCAL7");
}

/* ---------------------------------------------------------------- OAuth */

/* oauth2_provider: google, microsoft or custom; empty unsets. */
static int
key_oauth2_provider(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	static const char *const names[] = { "google", "microsoft",
	    "custom" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (util_strcaseeq(v, names[i]))
			return key_string(c, k, a, names[i]);
	if (*v == '\0')
		return key_string(c, k, a, v);
	return invalid(c, k, v, "google, microsoft or custom");
}

/* An endpoint: an https:// URL (tokens never travel in clear). */
static int
key_https_url(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	if (*v != '\0' && (strncmp(v, "https://", 8) != 0 || v[8] == '\0' ||
	    strpbrk(v, " \t\"<>\\") != NULL))
		return invalid(c, k, v, "an https:// URL");
	return key_string(c, k, a, v);
}

/* ---------------------------------------------------------------- ignored */

/* A known msmtp key that yubin does not implement yet. */
static int
key_ignore(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	log_verbose("%s:%d: '%s' is not supported yet, ignored", c->file,
	    c->line, k->name);
	return 0;
}

static int
key_protocol(struct confkey_ctx *c, const struct confkey *k,
    struct account_conf *a, const char *v)
{
	long *f = conffield_long(a, k->key);

	if (strcmp(v, "smtp") == 0)
		*f = CONF_PROTOCOL_SMTP;
	else if (strcmp(v, "lmtp") == 0)
		*f = CONF_PROTOCOL_LMTP;
	else
		return invalid(c, k, v, "smtp or lmtp");
	return mark(c, k);
}

/* ---------------------------------------------------------------- table */

/* One row per key msmtp knows (and its old names). */
#define KEY(name, fn, key)	{ name, fn, key }
#define IGNORE(name)		{ name, key_ignore, -1 }
static const struct confkey keys[] = {
	KEY("add_missing_date_header", key_bool, CONF_SET_DATE_HEADER),
	KEY("add_missing_from_header", key_missing_from,
	    CONF_SET_FROM_HEADER),
	KEY("aliases", key_path, CONF_ALIASES),
	KEY("allow_from_override", key_bool, CONF_ALLOW_FROM_OVERRIDE),
	KEY("auth", key_auth, CONF_AUTH),
	KEY("auto_from", key_bool, CONF_AUTO_FROM),
	KEY("connect_timeout", key_timeout, CONF_TIMEOUT),
	KEY("domain", key_string, CONF_DOMAIN),
	KEY("dsn_notify", key_dsn_notify, CONF_DSN_NOTIFY),
	KEY("dsn_return", key_dsn_return, CONF_DSN_RETURN),
	KEY("dsn_unsupported", key_dsn_unsupported, CONF_DSN_UNSUPPORTED),
	KEY("from", key_string, CONF_FROM),
	KEY("from_full_name", key_string, CONF_FROM_FULL_NAME),
	KEY("host", key_host, CONF_HOST),
	KEY("keepbcc", key_keepbcc, CONF_REMOVE_BCC_HEADERS),
	KEY("logfile", key_path, CONF_LOGFILE),
	KEY("logfile_time_format", key_string, CONF_LOGFILE_TIME_FORMAT),
	KEY("maildomain", key_domain_name, CONF_MAILDOMAIN),
	IGNORE("ntlmdomain"),
	KEY("password", key_password, CONF_PASSWORD),
	KEY("oauth2_auth_endpoint", key_https_url, CONF_OAUTH2_AUTH_ENDPOINT),
	KEY("oauth2_client_id", key_string, CONF_OAUTH2_CLIENT_ID),
	KEY("oauth2_client_secret", key_password, CONF_OAUTH2_CLIENT_SECRET),
	KEY("oauth2_client_secret_eval", key_string,
	    CONF_OAUTH2_CLIENT_SECRET_EVAL),
	KEY("oauth2_device_endpoint", key_https_url,
	    CONF_OAUTH2_DEVICE_ENDPOINT),
	KEY("oauth2_provider", key_oauth2_provider, CONF_OAUTH2_PROVIDER),
	KEY("oauth2_scope", key_string, CONF_OAUTH2_SCOPE),
	KEY("oauth2_tenant", key_string, CONF_OAUTH2_TENANT),
	KEY("oauth2_token_endpoint", key_https_url,
	    CONF_OAUTH2_TOKEN_ENDPOINT),
	KEY("oauth2_trust_file", key_path, CONF_OAUTH2_TRUST_FILE),
	KEY("passwordeval", key_string, CONF_PASSWORDEVAL),
	KEY("port", key_port, CONF_PORT),
	KEY("protocol", key_protocol, CONF_PROTOCOL),
	KEY("proxy_host", key_string, CONF_PROXY_HOST),
	KEY("proxy_password", key_password, CONF_PROXY_PASSWORD),
	KEY("proxy_port", key_port_or_empty, CONF_PROXY_PORT),
	KEY("proxy_user", key_string, CONF_PROXY_USER),
	KEY("queue", key_queue, CONF_QUEUE),
	KEY("queue_max_age", key_duration, CONF_QUEUE_MAX_AGE),
	KEY("remove_bcc_headers", key_bool, CONF_REMOVE_BCC_HEADERS),
	KEY("set_date_header", key_auto_off, CONF_SET_DATE_HEADER),
	KEY("set_from_header", key_set_from, CONF_SET_FROM_HEADER),
	KEY("set_msgid_header", key_auto_off, CONF_SET_MSGID_HEADER),
	KEY("socket", key_path, CONF_SOCKET),
	KEY("source_ip", key_string, CONF_SOURCE_IP),
	KEY("syslog", key_syslog, CONF_SYSLOG),
	KEY("timeout", key_timeout, CONF_TIMEOUT),
	KEY("tls", key_bool, CONF_TLS),
	KEY("tls_cert_file", key_path, CONF_TLS_CERT_FILE),
	KEY("tls_certcheck", key_bool, CONF_TLS_CERTCHECK),
	KEY("tls_crl_file", key_path, CONF_TLS_CRL_FILE),
	KEY("tls_fingerprint", key_fingerprint, CONF_TLS_FINGERPRINT),
	IGNORE("tls_force_sslv3"),
	KEY("tls_host_override", key_string, CONF_TLS_HOST_OVERRIDE),
	KEY("tls_key_file", key_path, CONF_TLS_KEY_FILE),
	IGNORE("tls_min_dh_prime_bits"),
	KEY("tls_nocertcheck", key_flag_off, CONF_TLS_CERTCHECK),
	KEY("tls_nostarttls", key_flag_off, CONF_TLS_STARTTLS),
	KEY("tls_priorities", key_string, CONF_TLS_PRIORITIES),
	KEY("tls_starttls", key_bool, CONF_TLS_STARTTLS),
	KEY("tls_trust_file", key_trust, CONF_TLS_TRUST_FILE),
	KEY("undisclosed_recipients", key_bool, CONF_UNDISCLOSED_RECIPIENTS),
	KEY("user", key_string, CONF_USER),
};
#undef KEY
#undef IGNORE

const struct confkey *
confkey_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int
confkey_set(const struct confkey *k, struct account_conf *a,
    const char *value, struct confkey_ctx *ctx)
{
	ctx->written = 0;
	return k->set(ctx, k, a, value);
}
