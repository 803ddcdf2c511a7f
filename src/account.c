/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * account.c -- see account.h. Turns what the file says (struct
 * account_conf, where config_isset() tells what was written) into a
 * complete struct account with yubin's secure defaults, and refuses
 * settings that contradict each other. Every error names the account and
 * where it was defined.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "subst.h"
#include "util.h"

#define ACCOUNT_TIMEOUT_DEFAULT 60	/* seconds */
#define ACCOUNT_TIMEOUT_MAX 2147483L	/* milliseconds fit an int */

/* The methods msmtp's "auth" accepts. */
static const struct {
	const char *name;
	bool needs_user;
	bool supported;
} methods[] = {
	{ "plain", true, true },
	{ "login", true, true },
	{ "cram-md5", true, true },
	{ "digest-md5", true, true },
	{ "scram-sha-1", true, true },
	{ "scram-sha-1-plus", true, true },
	{ "scram-sha-256", true, true },
	{ "scram-sha-256-plus", true, true },
	{ "external", false, true },
	{ "gssapi", true, true },
	{ "xoauth2", true, true },
	{ "oauthbearer", true, true },
	{ "ntlm", true, false },
};

static int __attribute__((format(printf, 3, 4)))
account_error(const struct account_conf *conf, struct error *err,
    const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (conf->file == NULL)
		return error_set(err, ERR_CONFIG, "account '%s': %s",
		    conf->name, msg);
	return error_set(err, ERR_CONFIG, "account '%s' (%s:%d): %s",
	    conf->name, conf->file, conf->line, msg);
}

/* TLS mode from tls, tls_starttls and port; then the default port. */
static int
finish_transport(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	static const int ports[] = {
		[ACCOUNT_TLS_OFF] = 25,
		[ACCOUNT_TLS_STARTTLS] = 587,
		[ACCOUNT_TLS_IMPLICIT] = 465,
	};
	bool port_set = config_isset(conf, CONF_PORT);

	if ((conf->host == NULL || *conf->host == '\0') &&
	    conf->socket == NULL)
		return account_error(conf, err, "no 'host' given");
	out->lmtp = conf->protocol == CONF_PROTOCOL_LMTP;
	if (out->lmtp && !port_set && conf->socket == NULL)
		return account_error(conf, err, "'protocol lmtp' needs a "
		    "'port': LMTP has no default port");
	out->host = conf->host != NULL ? conf->host : conf->socket;
	if (config_isset(conf, CONF_TLS) && !conf->tls)
		out->tls = ACCOUNT_TLS_OFF;
	else if (config_isset(conf, CONF_TLS_STARTTLS))
		out->tls = conf->tls_starttls ? ACCOUNT_TLS_STARTTLS :
		    ACCOUNT_TLS_IMPLICIT;
	else if (port_set && conf->port == 465)
		out->tls = ACCOUNT_TLS_IMPLICIT;
	else
		out->tls = ACCOUNT_TLS_STARTTLS;
	if (port_set && (conf->port < 1 || conf->port > 65535))
		return account_error(conf, err, "invalid port %ld "
		    "(expected 1-65535)", conf->port);
	out->port = port_set ? (int)conf->port : ports[out->tls];
	return 0;
}

/* A SHA-256 (32 bytes), SHA-1 (20) or MD5 (16) fingerprint: its length. */
static int
fingerprint_len(const char *s)
{
	unsigned char fp[32];
	int n = util_fingerprint_parse(s, fp, sizeof(fp));

	return n == 32 || n == 20 || n == 16 ? n : -1;
}

/* The CA file: NULL is the system store ("system"); "" trusts no CA. */
static const char *
trust_file(const struct account_conf *conf)
{
	const char *t = conf->tls_trust_file;

	return t == NULL || strcmp(t, "system") == 0 ? NULL : t;
}

/*
 * msmtp's order: tls_certcheck off accepts any certificate, else a
 * tls_fingerprint replaces the CA check (tls_trust_file is then not
 * used), wherever each was written (an account's own, the defaults, a
 * parent). What is not used gets a -v note; an MD5 fingerprint a warning.
 */
static int
check_trust(const struct account_conf *conf, const struct tls_config *t,
    struct error *err)
{
	bool ca = t->trust_file != NULL && *t->trust_file != '\0';
	int n = t->fingerprint != NULL ? fingerprint_len(t->fingerprint) : 0;

	if (n < 0)
		return account_error(conf, err, "invalid tls_fingerprint '%s'",
		    t->fingerprint);
	if (!t->certcheck && (ca || n > 0))
		log_verbose("account '%s': tls_certcheck off: %s not used",
		    conf->name, n > 0 ? "tls_fingerprint" : "tls_trust_file");
	else if (ca && n > 0)
		log_verbose("account '%s': tls_fingerprint replaces the CA "
		    "check: tls_trust_file not used", conf->name);
	if (t->certcheck && n == 16)
		log_warn("account '%s': tls_fingerprint is an MD5 fingerprint, "
		    "which can be forged; use the SHA-256 one (openssl x509 "
		    "-noout -fingerprint -sha256)", conf->name);
	if (t->certcheck && t->trust_file != NULL && !ca &&
	    t->fingerprint == NULL)
		return account_error(conf, err, "tls_trust_file is empty, so "
		    "no certificate would be trusted; set tls_fingerprint, "
		    "or a CA file");
	return 0;
}

/* Only what tls.c uses: --pretend and the -v notes say the same. */
static void
drop_unused_trust(struct tls_config *t)
{
	if (!t->certcheck)
		t->fingerprint = NULL;
	if (!t->certcheck || t->fingerprint != NULL)
		t->trust_file = NULL;
}

static int
finish_tls(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	struct tls_config *t = &out->tlscfg;

	if ((conf->tls_cert_file == NULL) != (conf->tls_key_file == NULL))
		return account_error(conf, err, "tls_cert_file and "
		    "tls_key_file must be given together");
	t->host = conf->tls_host_override != NULL ? conf->tls_host_override :
	    conf->host;
	t->trust_file = trust_file(conf);
	t->fingerprint = conf->tls_fingerprint;
	t->certcheck = config_isset(conf, CONF_TLS_CERTCHECK) ?
	    conf->tls_certcheck : true;
	t->cert_file = conf->tls_cert_file;
	t->key_file = conf->tls_key_file;
	t->priorities = conf->tls_priorities;
	t->crl_file = conf->tls_crl_file;
	if (out->tls == ACCOUNT_TLS_OFF)
		return 0;
	if (check_trust(conf, t, err) < 0)
		return -1;
	drop_unused_trust(t);
	return 0;
}

/* A method name, upper-cased into out->mechbuf. */
static int
finish_method(const struct account_conf *conf, struct account *out,
    bool *needs_user, struct error *err)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(methods); i++)
		if (util_strcaseeq(conf->auth, methods[i].name))
			break;
	if (i == ARRAY_SIZE(methods))
		return account_error(conf, err, "unknown auth method '%s'",
		    conf->auth);
	if (!methods[i].supported)
		return account_error(conf, err, "auth method '%s' is not "
		    "supported", methods[i].name);
	n = util_strlcpy(out->mechbuf, methods[i].name, sizeof(out->mechbuf));
	for (size_t j = 0; j < n; j++)
		out->mechbuf[j] = (char)toupper((unsigned char)out->mechbuf[j]);
	out->auth_mech = out->mechbuf;
	*needs_user = methods[i].needs_user;
	return 0;
}

static int
finish_auth(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	const char *a = config_isset(conf, CONF_AUTH) ? conf->auth : NULL;
	bool needs_user = true;

	out->user = conf->user;
	out->auth_mech = NULL;
	if (a == NULL)
		out->auth = conf->user != NULL || conf->oauth2_provider != NULL;
	else if (util_strcaseeq(a, "off"))
		out->auth = false;
	else if (util_strcaseeq(a, "on"))
		out->auth = true;
	else if (finish_method(conf, out, &needs_user, err) < 0)
		return -1;
	else
		out->auth = true;
	if (out->auth && needs_user && conf->user == NULL)
		return account_error(conf, err, "auth is %s but no 'user' is "
		    "given", out->auth_mech != NULL ? out->auth_mech : "on");
	return 0;
}

/* ---------------------------------------------------------------- OAuth */

/* An endpoint is base + tenant + path; Google's have no tenant. */
static const struct oauth_preset {
	const char *key;		/* oauth2_provider value */
	enum account_oauth_provider provider;
	const char *name;		/* for messages */
	const char *base;		/* up to the tenant */
	const char *auth, *device, *token;	/* after it; NULL: none */
	const char *scope;
} presets[] = {
	{ "google", ACCOUNT_OAUTH_GOOGLE, "Google",
	    "https://", "accounts.google.com/o/oauth2/v2/auth",
	    NULL, "oauth2.googleapis.com/token",
	    "https://mail.google.com/" },
	{ "microsoft", ACCOUNT_OAUTH_MICROSOFT, "Microsoft 365",
	    "https://login.microsoftonline.com/", "/oauth2/v2.0/authorize",
	    "/oauth2/v2.0/devicecode", "/oauth2/v2.0/token",
	    "https://outlook.office.com/SMTP.Send offline_access" },
	{ "custom", ACCOUNT_OAUTH_CUSTOM, "the OAuth 2.0 provider",
	    "", NULL, NULL, NULL, NULL },
};

/* Whether any oauth2_* key was written. */
static bool
oauth_keys_set(const struct account_conf *conf)
{
	for (int k = CONF_OAUTH2_PROVIDER; k <= CONF_OAUTH2_TRUST_FILE; k++)
		if (config_isset(conf, (enum config_key)k))
			return true;
	return false;
}

/* url = the configured value, else the preset's (base, tenant, path). */
static int
oauth_url(const struct account_conf *conf, const char *value,
    const struct oauth_preset *p, const char *path, const char *tenant,
    char *url, struct error *err)
{
	int n;

	if (value != NULL)
		n = snprintf(url, ACCOUNT_URL_MAX, "%s", value);
	else if (path != NULL)
		n = snprintf(url, ACCOUNT_URL_MAX, "%s%s%s", p->base,
		    p->provider == ACCOUNT_OAUTH_MICROSOFT ? tenant : "", path);
	else
		n = snprintf(url, ACCOUNT_URL_MAX, "%s", "");
	if (n < 0 || n >= ACCOUNT_URL_MAX)
		return account_error(conf, err, "OAuth 2.0 endpoint too long");
	return 0;
}

static int
oauth_tenant(const struct account_conf *conf, const char **out,
    struct error *err)
{
	const char *t = conf->oauth2_tenant != NULL ? conf->oauth2_tenant :
	    "common";

	if (*t == '\0' || strspn(t, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(t))
		return account_error(conf, err, "invalid oauth2_tenant '%s' "
		    "(expected common, organizations, consumers, a domain or "
		    "a tenant id)", t);
	*out = t;
	return 0;
}

/* The method must be one that carries a bearer token. */
static int
oauth_method(const struct account_conf *conf, const struct account *out,
    struct error *err)
{
	if (!out->auth)
		return account_error(conf, err, "oauth2_provider is set but "
		    "auth is off");
	if (out->auth_mech != NULL && strcmp(out->auth_mech, "XOAUTH2") != 0 &&
	    strcmp(out->auth_mech, "OAUTHBEARER") != 0)
		return account_error(conf, err, "auth %s cannot be used with "
		    "oauth2_provider; write 'auth on', 'auth oauthbearer' or "
		    "'auth xoauth2'", conf->auth);
	return 0;
}

static int
oauth_fill(const struct account_conf *conf, const struct oauth_preset *p,
    struct account_oauth *o, struct error *err)
{
	const char *tenant = "";

	if (p->provider == ACCOUNT_OAUTH_MICROSOFT &&
	    oauth_tenant(conf, &tenant, err) < 0)
		return -1;
	o->provider = p->provider;
	o->name = p->name;
	o->client_id = conf->oauth2_client_id;
	o->client_secret = conf->oauth2_client_secret;
	o->client_secret_eval = conf->oauth2_client_secret_eval;
	o->scope = conf->oauth2_scope != NULL ? conf->oauth2_scope : p->scope;
	o->trust_file = conf->oauth2_trust_file != NULL &&
	    strcmp(conf->oauth2_trust_file, "system") != 0 ?
	    conf->oauth2_trust_file : NULL;
	if (oauth_url(conf, conf->oauth2_auth_endpoint, p, p->auth, tenant,
	    o->auth_url, err) < 0 ||
	    oauth_url(conf, conf->oauth2_device_endpoint, p, p->device,
	    tenant, o->device_url, err) < 0 ||
	    oauth_url(conf, conf->oauth2_token_endpoint, p, p->token, tenant,
	    o->token_url, err) < 0)
		return -1;
	return 0;
}

static int
finish_oauth(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	const char *name = conf->oauth2_provider;
	size_t i;

	if (name == NULL)
		return oauth_keys_set(conf) ? account_error(conf, err,
		    "oauth2_* settings without 'oauth2_provider' (google, "
		    "microsoft or custom)") : 0;
#ifndef HAVE_OAUTH2
	return account_error(conf, err, "yubin was built without OAuth 2.0 "
	    "support (configure --without-oauth2)");
#endif
	for (i = 0; i < ARRAY_SIZE(presets); i++)
		if (strcmp(presets[i].key, name) == 0)
			break;
	if (i == ARRAY_SIZE(presets))
		return account_error(conf, err, "unknown oauth2_provider '%s'",
		    name);
	if (oauth_method(conf, out, err) < 0 ||
	    oauth_fill(conf, &presets[i], &out->oauth, err) < 0)
		return -1;
	if (out->oauth.client_id == NULL)
		return account_error(conf, err, "oauth2_client_id is not set: "
		    "register yubin with %s and write the client id here "
		    "(see 'man yubinrc', OAUTH2)", out->oauth.name);
	if (out->oauth.token_url[0] == '\0')
		return account_error(conf, err, "oauth2_token_endpoint is not "
		    "set");
	if (out->oauth.provider == ACCOUNT_OAUTH_GOOGLE &&
	    out->oauth.client_secret == NULL &&
	    out->oauth.client_secret_eval == NULL)
		return account_error(conf, err, "Google needs the client "
		    "secret of the application too: set oauth2_client_secret "
		    "or oauth2_client_secret_eval");
	return 0;
}

/* v with msmtp's patterns of which replaced, in buf; NULL stays NULL. */
static int
substitute(const struct account_conf *conf, const char *key, const char *v,
    const char *which, char *buf, const char **out, struct error *err)
{
	struct error e;

	*out = v;
	if (v == NULL || !subst_has(v, which))
		return 0;
	error_init(&e);
	if (subst_expand(v, which, buf, ACCOUNT_NAME_MAX, &e) < 0)
		return account_error(conf, err, "'%s %s': %s", key, v,
		    e.message);
	*out = buf;
	return 0;
}

/* auto_from (msmtp): the sender is %U@maildomain, or %U without one. */
static int
auto_from(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	char user[256];
	struct error e;
	int n;

	error_init(&e);
	if (subst_user(user, sizeof(user), &e) < 0)
		return account_error(conf, err, "auto_from: %s", e.message);
	n = snprintf(out->frombuf, sizeof(out->frombuf), "%s%s%s", user,
	    conf->maildomain != NULL ? "@" : "", conf->maildomain != NULL ?
	    conf->maildomain : "");
	if (n < 0 || (size_t)n >= sizeof(out->frombuf))
		return account_error(conf, err, "auto_from: address too long");
	out->from = out->frombuf;
	return 0;
}

static int
finish_misc(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	long t = config_isset(conf, CONF_TIMEOUT) ? conf->timeout :
	    ACCOUNT_TIMEOUT_DEFAULT;

	if (t < 0 || t > ACCOUNT_TIMEOUT_MAX)
		return account_error(conf, err, "invalid timeout %ld", t);
	if (conf->auto_from ? auto_from(conf, out, err) < 0 :
	    substitute(conf, "from", conf->from, SUBST_FROM, out->frombuf,
	    &out->from, err) < 0)
		return -1;
	if (substitute(conf, "domain", conf->domain, SUBST_DOMAIN,
	    out->domainbuf, &out->domain, err) < 0)
		return -1;
	if (out->domain == NULL || *out->domain == '\0')
		out->domain = "localhost";
	out->timeout_ms = (int)(t * 1000);
	out->logfile = conf->logfile;
	out->logfile_time_format = conf->logfile_time_format;
	out->syslog = conf->syslog;
	out->queue = config_isset(conf, CONF_QUEUE) ? (int)conf->queue :
	    CONF_QUEUE_ON_FAILURE;
	out->queue_max_age = config_isset(conf, CONF_QUEUE_MAX_AGE) ?
	    conf->queue_max_age : 5L * 86400;
	return 0;
}

/* A bool key: its value when written, else the default. */
static bool
conf_bool(const struct account_conf *conf, enum config_key k, bool value,
    bool dflt)
{
	return config_isset(conf, k) ? value : dflt;
}

/* How the message and its envelope are treated. */
static int
finish_message(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	long sf = config_isset(conf, CONF_SET_FROM_HEADER) ?
	    conf->set_from_header : CONF_SET_FROM_AUTO;

	if (sf < CONF_SET_FROM_AUTO || sf > CONF_SET_FROM_OFF)
		return account_error(conf, err, "invalid set_from_header %ld",
		    sf);
	out->from_pattern = !conf->auto_from && out->from != NULL &&
	    strpbrk(out->from, "*?[") != NULL;
	out->from_full_name = conf->from_full_name;
	/* auto_from's sender replaces the one of -f too (msmtp) */
	out->allow_from_override = !conf->auto_from && conf_bool(conf,
	    CONF_ALLOW_FROM_OVERRIDE, conf->allow_from_override, true);
	out->set_from_header = (enum conf_set_from)sf;
	out->set_date_header = conf_bool(conf, CONF_SET_DATE_HEADER,
	    conf->set_date_header, true);
	out->set_msgid_header = conf_bool(conf, CONF_SET_MSGID_HEADER,
	    conf->set_msgid_header, true);
	out->remove_bcc_headers = conf_bool(conf, CONF_REMOVE_BCC_HEADERS,
	    conf->remove_bcc_headers, true);
	out->undisclosed_recipients = conf_bool(conf,
	    CONF_UNDISCLOSED_RECIPIENTS, conf->undisclosed_recipients, false);
	out->aliases = conf->aliases;
	out->maildomain = conf->maildomain;
	out->dsn_notify = conf->dsn_notify;
	out->dsn_return = conf->dsn_return;
	out->dsn_optional = conf->dsn_unsupported == CONF_DSN_SEND;
	return 0;
}

int
account_set_protocol(struct account *a, bool lmtp, struct error *err)
{
	if (lmtp == a->lmtp)
		return 0;
	if (lmtp && !config_isset(a->conf, CONF_PORT))
		return account_error(a->conf, err, "'--protocol=lmtp' needs "
		    "a 'port': LMTP has no default port");
	a->lmtp = lmtp;
	a->protocol_override = true;
	a->queue = CONF_QUEUE_OFF;
	return 0;
}

/* socket, proxy_*, source_ip: out->route. */
static int
finish_route(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	struct dial_route *r = &out->route;
	const struct tls_config *t = &out->tlscfg;

	if (conf->socket != NULL && conf->proxy_host != NULL)
		return account_error(conf, err, "'socket' and 'proxy_host' "
		    "cannot be used together");
	if ((conf->proxy_user == NULL) != (conf->proxy_password == NULL))
		return account_error(conf, err, "proxy_user and "
		    "proxy_password must be given together");
	if (conf->socket != NULL && conf->host == NULL &&
	    out->tls != ACCOUNT_TLS_OFF && t->host == NULL && t->certcheck &&
	    t->fingerprint == NULL)
		return account_error(conf, err, "with 'socket', the server's "
		    "certificate needs a name to be checked against: set "
		    "'host' (or tls_host_override), tls_fingerprint, or "
		    "'tls off'");
	r->socket = conf->socket;
	r->source_ip = conf->source_ip;
	r->proxy_host = conf->proxy_host;
	r->proxy_port = (int)conf->proxy_port;
	r->proxy_user = conf->proxy_user;
	r->proxy_password = conf->proxy_password;
	return 0;
}

int
account_finish(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	memset(out, 0, sizeof(*out));
	out->conf = conf;
	out->name = conf->name;
	if (finish_transport(conf, out, err) < 0 ||
	    finish_tls(conf, out, err) < 0 ||
	    finish_route(conf, out, err) < 0 ||
	    finish_auth(conf, out, err) < 0 ||
	    finish_oauth(conf, out, err) < 0 ||
	    finish_misc(conf, out, err) < 0 ||
	    finish_message(conf, out, err) < 0)
		return -1;
	return 0;
}

bool
account_from_matches(const char *from, const char *addr)
{
	if (strpbrk(from, "*?[") != NULL)
		return fnmatch(from, addr, FNM_CASEFOLD) == 0;
	return strcasecmp(from, addr) == 0;
}

/* sender without "+detail" in the local part, or NULL when it has none. */
static char *
strip_detail(const char *sender)
{
	const char *at = strrchr(sender, '@');
	const char *plus = strchr(sender, '+');

	if (at == NULL || plus == NULL || plus > at || sender[0] == '"')
		return NULL;
	return xasprintf("%.*s%s", (int)(plus - sender), sender, at);
}

static const struct account_conf *
find_by_from(const struct config *c, const char *sender)
{
	const struct account_conf *a;

	for (a = c->accounts; a != NULL; a = a->next)
		if (a->from != NULL && account_from_matches(a->from, sender))
			return a;
	return NULL;
}

int
account_select_by_from(const struct config *c, const char *name,
    const char *sender, struct account *out, struct error *err)
{
	const struct account_conf *a;
	char *bare;

	if (name != NULL || sender == NULL || *sender == '\0')
		return account_select(c, name, out, err);
	if ((a = find_by_from(c, sender)) == NULL &&
	    (bare = strip_detail(sender)) != NULL) {
		a = find_by_from(c, bare);
		free(bare);
	}
	if (a == NULL)
		return account_select(c, NULL, out, err);
	log_verbose("account '%s' chosen by envelope sender '%s'", a->name,
	    sender);
	return account_finish(a, out, err);
}

int
account_select(const struct config *c, const char *name,
    struct account *out, struct error *err)
{
	const char *file = c->path != NULL ? c->path : "the configuration";
	const struct account_conf *a;

	if (name != NULL) {
		if ((a = config_find(c, name)) == NULL)
			return error_set(err, ERR_CONFIG, "account '%s' not "
			    "found in %s", name, file);
	} else if ((a = config_find(c, "default")) == NULL) {
		if (c->accounts == NULL)
			return error_set(err, ERR_CONFIG, "no account defined "
			    "in %s", file);
		if (c->accounts->next != NULL)
			return error_set(err, ERR_CONFIG, "no account given "
			    "with -a and no 'account default : NAME' in %s",
			    file);
		a = c->accounts;
	}
	return account_finish(a, out, err);
}
