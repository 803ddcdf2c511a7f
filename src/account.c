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

	if (conf->host == NULL || *conf->host == '\0')
		return account_error(conf, err, "no 'host' given");
	out->host = conf->host;
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

/* "AB:CD:..." with 32 (SHA-256) or 20 (SHA-1) bytes, as confkey.c writes. */
static bool
fingerprint_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != 32 * 3 - 1 && n != 20 * 3 - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The CA file: NULL is the system store ("system"); "" trusts no CA. */
static const char *
trust_file(const struct account_conf *conf)
{
	const char *t = conf->tls_trust_file;

	return t == NULL || strcmp(t, "system") == 0 ? NULL : t;
}

static int
check_trust(const struct account_conf *conf, const struct tls_config *t,
    struct error *err)
{
	bool ca = t->trust_file != NULL && *t->trust_file != '\0';

	if (t->fingerprint != NULL && !fingerprint_ok(t->fingerprint))
		return account_error(conf, err, "invalid tls_fingerprint '%s'",
		    t->fingerprint);
	if (!t->certcheck && (ca || t->fingerprint != NULL))
		return account_error(conf, err, "%s cannot be used with "
		    "tls_certcheck off", ca ? "tls_trust_file" :
		    "tls_fingerprint");
	if (ca && t->fingerprint != NULL)
		return account_error(conf, err, "tls_trust_file and "
		    "tls_fingerprint cannot be used together");
	if (t->certcheck && t->trust_file != NULL && !ca &&
	    t->fingerprint == NULL)
		return account_error(conf, err, "tls_trust_file is empty, so "
		    "no certificate would be trusted; set tls_fingerprint, "
		    "or a CA file");
	return 0;
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
	if (out->tls == ACCOUNT_TLS_OFF)
		return 0;
	return check_trust(conf, t, err);
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
		out->auth = conf->user != NULL;
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

/* msmtp's %U %H %C %M substitutions, which yubin does not do (yet). */
static bool
has_pattern(const char *s)
{
	for (s = s != NULL ? strchr(s, '%') : NULL; s != NULL;
	    s = strchr(s + 1, '%'))
		if (s[1] != '\0' && strchr("UHCM", s[1]) != NULL)
			return true;
	return false;
}

static int
finish_misc(const struct account_conf *conf, struct account *out,
    struct error *err)
{
	long t = config_isset(conf, CONF_TIMEOUT) ? conf->timeout :
	    ACCOUNT_TIMEOUT_DEFAULT;

	if (has_pattern(conf->from) || has_pattern(conf->domain))
		return account_error(conf, err, "'%s' uses msmtp's %%U/%%H/"
		    "%%C/%%M substitutions, which are not supported yet",
		    has_pattern(conf->from) ? "from" : "domain");
	if (t < 0 || t > ACCOUNT_TIMEOUT_MAX)
		return account_error(conf, err, "invalid timeout %ld", t);
	out->from = conf->from;
	out->domain = conf->domain != NULL && *conf->domain != '\0' ?
	    conf->domain : "localhost";
	out->timeout_ms = (int)(t * 1000);
	out->logfile = conf->logfile;
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
	out->from_pattern = conf->from != NULL &&
	    strpbrk(conf->from, "*?[") != NULL;
	out->from_full_name = conf->from_full_name;
	out->allow_from_override = conf_bool(conf, CONF_ALLOW_FROM_OVERRIDE,
	    conf->allow_from_override, true);
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
	    finish_auth(conf, out, err) < 0 ||
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
