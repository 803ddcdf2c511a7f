/*
 * config.c -- see config.h. The msmtprc syntax as msmtp reads it:
 *   - a line whose first non-blank character is '#' is a comment, so a '#'
 *     later in a line belongs to the value (passwords may hold one);
 *   - "key value": the key is the first word, the value the rest of the
 *     line without surrounding blanks (space, tab) and without a trailing
 *     CR; a value in double quotes loses them (yubin also reads \" and \\);
 *   - "on" keys take an empty value as on;
 *   - keys before any "account" or "defaults" line start an account named
 *     "default" (msmtp's compatibility with its 1.2 files);
 *   - an account starts from the current defaults, then copies from each
 *     parent the keys written in the parent itself (or copied into it), not
 *     those the parent took from the defaults of its time (msmtp's mask).
 * One table maps each key to its handler; each field of struct
 * account_conf is described once, for copying and freeing.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define CONFIG_LINE_MAX (64 * 1024)
#define CONFIG_TIMEOUT_MAX 2147483L	/* seconds; milliseconds fit an int */
#define CONFIG_SHOW_MAX 48		/* bytes of a value shown in errors */

/* ---------------------------------------------------------------- fields */

enum field_kind { FIELD_STR, FIELD_BOOL, FIELD_LONG };

static const struct field {
	size_t off;
	enum field_kind kind;
} fields[CONF_NKEYS] = {
#define F(key, member, kind) \
	[key] = { offsetof(struct account_conf, member), kind }
	F(CONF_HOST, host, FIELD_STR),
	F(CONF_PORT, port, FIELD_LONG),
	F(CONF_TLS, tls, FIELD_BOOL),
	F(CONF_TLS_STARTTLS, tls_starttls, FIELD_BOOL),
	F(CONF_TLS_TRUST_FILE, tls_trust_file, FIELD_STR),
	F(CONF_TLS_FINGERPRINT, tls_fingerprint, FIELD_STR),
	F(CONF_TLS_CERTCHECK, tls_certcheck, FIELD_BOOL),
	F(CONF_TLS_CERT_FILE, tls_cert_file, FIELD_STR),
	F(CONF_TLS_KEY_FILE, tls_key_file, FIELD_STR),
	F(CONF_TLS_HOST_OVERRIDE, tls_host_override, FIELD_STR),
	F(CONF_TLS_PRIORITIES, tls_priorities, FIELD_STR),
	F(CONF_AUTH, auth, FIELD_STR),
	F(CONF_USER, user, FIELD_STR),
	F(CONF_PASSWORD, password, FIELD_STR),
	F(CONF_PASSWORDEVAL, passwordeval, FIELD_STR),
	F(CONF_FROM, from, FIELD_STR),
	F(CONF_DOMAIN, domain, FIELD_STR),
	F(CONF_TIMEOUT, timeout, FIELD_LONG),
	F(CONF_LOGFILE, logfile, FIELD_STR),
#undef F
};

static char **
field_str(struct account_conf *a, enum config_key k)
{
	return (char **)(void *)((char *)a + fields[k].off);
}

static bool *
field_bool(struct account_conf *a, enum config_key k)
{
	return (bool *)(void *)((char *)a + fields[k].off);
}

static long *
field_long(struct account_conf *a, enum config_key k)
{
	return (long *)(void *)((char *)a + fields[k].off);
}

/* Replace a string field (the old value is wiped: it may be a password). */
static void
field_set_str(struct account_conf *a, enum config_key k, const char *v)
{
	char **p = field_str(a, k);

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
		field_set_str(dst, k, *field_str(s, k));
		break;
	case FIELD_BOOL:
		*field_bool(dst, k) = *field_bool(s, k);
		break;
	case FIELD_LONG:
		*field_long(dst, k) = *field_long(s, k);
		break;
	}
}

/* ---------------------------------------------------------------- accounts */

/*
 * What the parser keeps per account: besides "set" (every key written,
 * including those from the defaults), msmtp's mask "own": the keys written
 * in the account itself or copied from its parents. A child copies only
 * its parents' own keys.
 */
struct conf_node {
	struct account_conf ac;		/* first: freed as account_conf */
	unsigned long own;
};
/* Every account in a config comes from the parser, so this cast holds. */

static struct conf_node *
node_of(struct account_conf *a)
{
	return (struct conf_node *)(void *)a;
}

static void
free_strings(struct account_conf *a)
{
	for (int k = 0; k < CONF_NKEYS; k++)
		if (fields[k].kind == FIELD_STR)
			util_free_secret(*field_str(a, (enum config_key)k));
}

static void
account_conf_free(struct account_conf *a)
{
	free_strings(a);
	free(a->name);
	free(a->file);
	free(a);
}

/*
 * The values before any "defaults" line: yubin's secure defaults. account.c
 * goes by the set bits; these only make an unset field read right.
 */
static void
defaults_init(struct conf_node *d)
{
	memset(d, 0, sizeof(*d));
	d->ac.tls = true;
	d->ac.tls_starttls = true;
	d->ac.tls_certcheck = true;
	d->ac.timeout = 60;
}

static void
defaults_release(struct conf_node *d)
{
	free_strings(&d->ac);
	memset(d, 0, sizeof(*d));
}

static struct conf_node *
node_new(const struct conf_node *defaults, const char *name,
    const char *file, int line)
{
	struct conf_node *n = xcalloc(1, sizeof(*n));

	for (int k = 0; k < CONF_NKEYS; k++)
		field_copy(&n->ac, &defaults->ac, (enum config_key)k);
	n->ac.set = defaults->ac.set;
	n->ac.name = xstrdup(name);
	n->ac.file = xstrdup(file);
	n->ac.line = line;
	return n;
}

static void
node_inherit(struct conf_node *n, const struct conf_node *parent)
{
	for (int k = 0; k < CONF_NKEYS; k++)
		if ((parent->own >> k) & 1)
			field_copy(&n->ac, &parent->ac, (enum config_key)k);
	n->own |= parent->own;
	n->ac.set |= parent->own;
}

/* ---------------------------------------------------------------- parser */

struct parser {
	struct config *c;
	const char *name;		/* file name for messages */
	int line;
	struct conf_node defaults;
	struct conf_node *cur;		/* NULL before the first section */
	struct account_conf **tail;	/* where the next account goes */
	bool password;			/* a password was written */
	struct error *err;
};

static int __attribute__((format(printf, 2, 3)))
parse_error(struct parser *p, const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(p->err, ERR_CONFIG, "%s:%d: %s", p->name, p->line,
	    msg);
}

/* s made safe for a message: \xNN for unprintable bytes, cut when long. */
static const char *
show(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 8 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (n >= CONFIG_SHOW_MAX) {
			n += (size_t)snprintf(buf + n, size - n, "...");
			break;
		}
		if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", ch);
		else
			buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	return buf;
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char *
trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Trim; "quoted" loses its quotes, and \" and \\ inside become " and \. */
static char *
unquote(char *s)
{
	size_t n;
	char *r, *w;

	s = trim(s);
	n = strlen(s);
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return s;
	s[n - 1] = '\0';
	for (r = w = s + 1; *r != '\0'; r++) {
		if (r[0] == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	*w = '\0';
	return s + 1;
}

/* "~" and "~/x" become $HOME and $HOME/x (msmtp does this for files). */
static char *
expand_home(const char *v)
{
	const char *home = getenv("HOME");

	if (v[0] != '~' || (v[1] != '\0' && v[1] != '/'))
		return xstrdup(v);
	if (home == NULL || *home == '\0') {
		struct passwd *pw = getpwuid(getuid());

		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL)
		return xstrdup(v);
	return xasprintf("%s%s", home, v + 1);
}

/* ---------------------------------------------------------------- keys */

struct keydef {
	const char *name;
	int (*set)(struct parser *, const struct keydef *, const char *);
	int key;		/* enum config_key, or -1 */
	const char *why;	/* refused, ignored: what goes differently */
	const char *same;	/* ignored: the value that changes nothing */
};

static void
mark(struct parser *p, const struct keydef *k)
{
	p->cur->ac.set |= 1UL << k->key;
	p->cur->own |= 1UL << k->key;
}

static int
invalid(struct parser *p, const struct keydef *k, const char *v,
    const char *expected)
{
	char buf[128];

	return parse_error(p, "invalid value '%s' for '%s' (expected %s)",
	    show(v, buf, sizeof(buf)), k->name, expected);
}

/* A string; an empty value unsets it (msmtp). */
static int
key_string(struct parser *p, const struct keydef *k, const char *v)
{
	field_set_str(&p->cur->ac, k->key, *v != '\0' ? v : NULL);
	mark(p, k);
	return 0;
}

static int
key_password(struct parser *p, const struct keydef *k, const char *v)
{
	if (*v != '\0')
		p->password = true;
	return key_string(p, k, v);
}

static int
key_host(struct parser *p, const struct keydef *k, const char *v)
{
	if (*v == '\0')
		return parse_error(p, "'%s' needs a value", k->name);
	return key_string(p, k, v);
}

/* A file name: "~/" expanded; empty unsets it. */
static int
key_path(struct parser *p, const struct keydef *k, const char *v)
{
	char **f = field_str(&p->cur->ac, k->key);

	util_free_secret(*f);
	*f = *v != '\0' ? expand_home(v) : NULL;
	mark(p, k);
	return 0;
}

/* tls_trust_file: empty is kept, it means "trust no CA" (msmtp). */
static int
key_trust(struct parser *p, const struct keydef *k, const char *v)
{
	char **f = field_str(&p->cur->ac, k->key);

	util_free_secret(*f);
	*f = expand_home(v);
	mark(p, k);
	return 0;
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
key_bool(struct parser *p, const struct keydef *k, const char *v)
{
	if (parse_bool(v, field_bool(&p->cur->ac, k->key)) < 0)
		return invalid(p, k, v, "on or off");
	mark(p, k);
	return 0;
}

/* Old msmtp flags without a value: tls_nocertcheck, tls_nostarttls. */
static int
key_flag_off(struct parser *p, const struct keydef *k, const char *v)
{
	if (*v != '\0')
		return parse_error(p, "'%s' takes no value", k->name);
	*field_bool(&p->cur->ac, k->key) = false;
	mark(p, k);
	return 0;
}

static int
key_port(struct parser *p, const struct keydef *k, const char *v)
{
	if (*v == '\0')
		return parse_error(p, "'%s' needs a value", k->name);
	if (util_parse_long(v, 1, 65535, field_long(&p->cur->ac, k->key)) < 0)
		return invalid(p, k, v, "1-65535");
	mark(p, k);
	return 0;
}

static int
key_timeout(struct parser *p, const struct keydef *k, const char *v)
{
	long *t = field_long(&p->cur->ac, k->key);

	if (*v == '\0')
		return parse_error(p, "'%s' needs a value", k->name);
	if (util_strcaseeq(v, "off"))
		*t = 0;
	else if (util_parse_long(v, 1, CONFIG_TIMEOUT_MAX, t) < 0)
		return invalid(p, k, v, "off or seconds, 1-2147483");
	mark(p, k);
	return 0;
}

/* on, off or a method name; account.c knows which methods exist. */
static int
key_auth(struct parser *p, const struct keydef *k, const char *v)
{
	if (*v == '\0')
		v = "on";
	if (strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(v))
		return invalid(p, k, v, "on, off or a method such as plain");
	return key_string(p, k, v);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * "01:23:..", "01 23 .." or "0123..": 32 bytes (SHA-256) or 20 (SHA-1).
 * Written into out as upper-case "01:23:...". Returns the byte count, or -1.
 */
static int
parse_fingerprint(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	char sep = '\0';

	while (*s != '\0') {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0 || (n + 1) * 3 > size)
			return -1;
		if (n > 0)
			out[3 * n - 1] = ':';
		out[3 * n] = hex[hi];
		out[3 * n + 1] = hex[lo];
		n++;
		s += 2;
		if (n == 1)
			sep = (*s == ':' || *s == ' ') ? *s : '\0';
		if (sep != '\0' && *s != '\0' && *s++ != sep)
			return -1;
	}
	if (n == 0 || (sep != '\0' && s[-1] == sep))
		return -1;
	out[3 * n - 1] = '\0';
	return (int)n;
}

static int
key_fingerprint(struct parser *p, const struct keydef *k, const char *v)
{
	char buf[3 * 32];
	int n;

	if (*v == '\0')
		return key_string(p, k, v);
	n = parse_fingerprint(v, buf, sizeof(buf));
	if (n == 16)
		return parse_error(p, "MD5 fingerprints are not supported for "
		    "'%s'; use the SHA-256 fingerprint", k->name);
	if (n != 32 && n != 20)
		return invalid(p, k, v, "a SHA-256 fingerprint, 32 hex bytes "
		    "such as 01:23:..:EF (or SHA-1, 20 bytes)");
	return key_string(p, k, buf);
}

/* A known msmtp key that yubin does not implement yet. */
static int
key_ignore(struct parser *p, const struct keydef *k, const char *v)
{
	log_verbose("%s:%d: '%s' is not supported yet, ignored", p->name,
	    p->line, k->name);
	return 0;
}

/* Same, but a warning unless the value changes nothing anyway. */
static int
key_ignore_warn(struct parser *p, const struct keydef *k, const char *v)
{
	if (*v == '\0' || (k->same != NULL && util_strcaseeq(v, k->same)))
		return key_ignore(p, k, v);
	log_warn("%s:%d: '%s' is not supported yet, ignored: %s", p->name,
	    p->line, k->name, k->why);
	return 0;
}

/* Ignoring these would change where or how mail goes: refuse. */
static int
key_refuse(struct parser *p, const struct keydef *k, const char *v)
{
	return parse_error(p, "'%s' is not supported (%s)", k->name, k->why);
}

/* Refused unless empty (msmtp: an empty value turns the feature off). */
static int
key_refuse_set(struct parser *p, const struct keydef *k, const char *v)
{
	if (*v == '\0')
		return key_ignore(p, k, v);
	return key_refuse(p, k, v);
}

static int
key_protocol(struct parser *p, const struct keydef *k, const char *v)
{
	if (strcmp(v, "smtp") == 0)
		return 0;
	if (strcmp(v, "lmtp") == 0)
		return parse_error(p, "'protocol lmtp' is not supported");
	return invalid(p, k, v, "smtp");
}

/* One row per key msmtp knows (and its old names). */
#define KEY(name, fn, key)	{ name, fn, key, NULL, NULL }
#define IGNORE(name)		{ name, key_ignore, -1, NULL, NULL }
#define WARN(name, why, same)	{ name, key_ignore_warn, -1, why, same }
#define REFUSE(name, fn, why)	{ name, fn, -1, why, NULL }
static const struct keydef keys[] = {
	IGNORE("add_missing_date_header"),
	IGNORE("add_missing_from_header"),
	WARN("aliases", "local recipients are not replaced", NULL),
	WARN("allow_from_override", "-f still overrides 'from'", "on"),
	KEY("auth", key_auth, CONF_AUTH),
	IGNORE("auto_from"),
	KEY("connect_timeout", key_timeout, CONF_TIMEOUT),
	KEY("domain", key_string, CONF_DOMAIN),
	IGNORE("dsn_notify"),
	IGNORE("dsn_return"),
	REFUSE("eval", key_refuse,
	    "its line would be lost; use passwordeval for a password"),
	KEY("from", key_string, CONF_FROM),
	IGNORE("from_full_name"),
	KEY("host", key_host, CONF_HOST),
	IGNORE("keepbcc"),
	KEY("logfile", key_path, CONF_LOGFILE),
	IGNORE("logfile_time_format"),
	IGNORE("maildomain"),
	IGNORE("ntlmdomain"),
	KEY("password", key_password, CONF_PASSWORD),
	KEY("passwordeval", key_string, CONF_PASSWORDEVAL),
	KEY("port", key_port, CONF_PORT),
	KEY("protocol", key_protocol, -1),
	REFUSE("proxy_host", key_refuse_set,
	    "yubin would connect without the proxy"),
	REFUSE("proxy_port", key_refuse_set,
	    "yubin would connect without the proxy"),
	IGNORE("remove_bcc_headers"),
	IGNORE("set_date_header"),
	IGNORE("set_from_header"),
	IGNORE("set_msgid_header"),
	REFUSE("socket", key_refuse_set,
	    "yubin would connect to host and port instead"),
	IGNORE("source_ip"),
	IGNORE("syslog"),
	KEY("timeout", key_timeout, CONF_TIMEOUT),
	KEY("tls", key_bool, CONF_TLS),
	KEY("tls_cert_file", key_path, CONF_TLS_CERT_FILE),
	KEY("tls_certcheck", key_bool, CONF_TLS_CERTCHECK),
	WARN("tls_crl_file",
	    "certificates are not checked against this revocation list", NULL),
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
	WARN("undisclosed_recipients", "To and Cc headers are sent as they are",
	    "off"),
	KEY("user", key_string, CONF_USER),
};
#undef KEY
#undef IGNORE
#undef WARN
#undef REFUSE

static const struct keydef *
key_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* ---------------------------------------------------------------- sections */

/*
 * Copy from each account in "A, B" (already defined) into n, in order.
 * *only: the parent's name when there is exactly one, else NULL.
 */
static int
inherit_list(struct parser *p, struct conf_node *n, char *list,
    const char **only)
{
	char buf[128];

	*only = NULL;
	for (int i = 0; ; i++) {
		char *comma = strchr(list, ',');
		char *name;
		struct account_conf *parent;

		if (comma != NULL)
			*comma = '\0';
		name = unquote(list);
		if (*name == '\0')
			return parse_error(p, "missing account name");
		if ((parent = config_find(p->c, name)) == NULL)
			return parse_error(p, "account '%s' is not defined",
			    show(name, buf, sizeof(buf)));
		node_inherit(n, node_of(parent));
		*only = i == 0 ? parent->name : NULL;
		if (comma == NULL)
			return 0;
		list = comma + 1;
	}
}

static int
check_account_name(struct parser *p, const char *name)
{
	char buf[128];
	const struct account_conf *a;

	if (*name == '\0')
		return parse_error(p, "missing account name");
	if (strpbrk(name, ",:") != NULL)
		return parse_error(p, "account name '%s' must not contain "
		    "',' or ':'", show(name, buf, sizeof(buf)));
	if ((a = config_find(p->c, name)) != NULL &&
	    strcmp(a->name, name) == 0)
		return parse_error(p, "account '%s' is already defined (at "
		    "%s:%d)", show(name, buf, sizeof(buf)), a->file, a->line);
	return 0;
}

/* "account NAME" or "account NAME : A, B". */
static int
section_account(struct parser *p, char *arg)
{
	char *colon = strchr(arg, ':');
	const char *only = NULL;
	struct conf_node *n;
	char *name;

	if (colon != NULL)
		*colon = '\0';
	name = unquote(arg);
	if (check_account_name(p, name) < 0)
		return -1;
	n = node_new(&p->defaults, name, p->name, p->line);
	if (colon != NULL && inherit_list(p, n, colon + 1, &only) < 0) {
		account_conf_free(&n->ac);
		return -1;
	}
	if (only != NULL && strcmp(name, "default") == 0) {
		free(p->c->default_name);
		p->c->default_name = xstrdup(only);
	}
	*p->tail = &n->ac;
	p->tail = &n->ac.next;
	p->cur = n;
	return 0;
}

/* A key before any section: msmtp starts an account named "default". */
static int
section_implicit(struct parser *p)
{
	char name[] = "default";

	return section_account(p, name);
}

/* ---------------------------------------------------------------- lines */

static int
check_line(struct parser *p, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return parse_error(p, "control character 0x%02x in "
			    "line", ch);
	}
	return 0;
}

static int
parse_line(struct parser *p, char *s, size_t len)
{
	const struct keydef *k;
	char buf[128];
	char *cmd;

	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	while (is_blank(*s))
		s++;
	if (*s == '#' || *s == '\0')
		return 0;
	if (check_line(p, s) < 0)
		return -1;
	cmd = s;
	s += strcspn(s, " \t");
	if (*s != '\0')
		*s++ = '\0';
	if (strcmp(cmd, "defaults") == 0) {
		if (*trim(s) != '\0')
			return parse_error(p, "'defaults' takes no value");
		p->cur = &p->defaults;
		return 0;
	}
	if (strcmp(cmd, "account") == 0)
		return section_account(p, trim(s));
	if ((k = key_find(cmd)) == NULL)
		return parse_error(p, "unknown command '%s'",
		    show(cmd, buf, sizeof(buf)));
	if (p->cur == NULL && section_implicit(p) < 0)
		return -1;
	return k->set(p, k, unquote(s));
}

/* One line without its "\n" into b. 1: a line; 0: end of file; -1. */
static int
read_line(struct parser *p, FILE *f, struct dynbuf *b)
{
	int ch;

	dynbuf_reset(b);
	while ((ch = getc(f)) != EOF && ch != '\n') {
		char c = (char)ch;

		if (ch == '\0')
			return parse_error(p, "NUL byte in line");
		if (dynbuf_add(b, &c, 1) < 0)
			return parse_error(p, "line longer than %d bytes",
			    CONFIG_LINE_MAX);
	}
	if (ferror(f))
		return error_set(p->err, ERR_IOERR, "cannot read '%s': %s",
		    p->name, strerror(errno));
	return ch != EOF || b->len > 0;
}

static int
parse_stream(struct config *c, FILE *f, const char *name, bool *password,
    struct error *err)
{
	struct parser p = { .c = c, .name = name, .err = err };
	struct dynbuf line;
	int rc;

	defaults_init(&p.defaults);
	for (p.tail = &c->accounts; *p.tail != NULL; )
		p.tail = &(*p.tail)->next;
	if (c->path == NULL)
		c->path = xstrdup(name);
	dynbuf_init(&line, CONFIG_LINE_MAX);
	line.secret = true;
	for (;;) {
		char empty[1] = "";

		p.line++;
		if ((rc = read_line(&p, f, &line)) <= 0)
			break;
		if (parse_line(&p, line.data != NULL ? line.data : empty,
		    line.len) < 0) {
			rc = -1;
			break;
		}
	}
	dynbuf_release(&line);
	defaults_release(&p.defaults);
	*password = p.password;
	return rc;
}

/* ---------------------------------------------------------------- API */

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
}

void
config_release(struct config *c)
{
	struct account_conf *a, *next;

	for (a = c->accounts; a != NULL; a = next) {
		next = a->next;
		account_conf_free(a);
	}
	free(c->path);
	free(c->default_name);
	config_init(c);
}

int
config_parse(struct config *c, FILE *f, const char *name, struct error *err)
{
	bool password;

	if (parse_stream(c, f, name, &password, err) < 0) {
		config_release(c);
		return -1;
	}
	return 0;
}

struct account_conf *
config_find(const struct config *c, const char *name)
{
	struct account_conf *a;

	for (a = c->accounts; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	if (strcmp(name, "default") == 0 && c->default_name != NULL &&
	    strcmp(c->default_name, "default") != 0)
		return config_find(c, c->default_name);
	return NULL;
}

/* A password in a file others can read, or that someone else owns. */
static int
check_private(const struct config *c, const struct stat *st,
    struct error *err)
{
	if ((st->st_mode & 077) != 0)
		return error_set(err, ERR_CONFIG, "%s: contains a password but "
		    "is readable by others; run: chmod 600 '%s'", c->path,
		    c->path);
	if (st->st_uid != geteuid())
		return error_set(err, ERR_CONFIG, "%s: contains a password but "
		    "is owned by another user (uid %ld); it must be owned by "
		    "you", c->path, (long)st->st_uid);
	return 0;
}

static int
load_fd(struct config *c, int fd, const char *path, struct error *err)
{
	struct stat st;
	bool password = false;
	FILE *f;
	int rc;

	if (fstat(fd, &st) < 0)
		rc = error_set(err, ERR_OSERR, "cannot stat '%s': %s", path,
		    strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = error_set(err, ERR_CONFIG, "cannot read '%s': %s", path,
		    strerror(EISDIR));
	else if ((f = fdopen(fd, "r")) == NULL)
		rc = error_set(err, ERR_OSERR, "cannot read '%s': %s", path,
		    strerror(errno));
	else
		rc = 0;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	free(c->path);
	c->path = xstrdup(path);
	rc = parse_stream(c, f, path, &password, err);
	fclose(f);
	c->private_file = (st.st_mode & 077) == 0;
	if (rc == 0 && password)
		rc = check_private(c, &st, err);
	if (rc < 0)
		config_release(c);
	return rc;
}

/* 1: opened; 0: does not exist (and may not); -1: error. */
static int
open_config(const char *path, bool must_exist, int *fd, struct error *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (*fd >= 0)
		return 1;
	if (!must_exist && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	return error_set(err, ERR_CONFIG, "cannot open '%s': %s", path,
	    strerror(errno));
}

static const char *
home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && *home != '\0')
		return home;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : NULL;
}

/* The places config_load() looks in, in order; free with free(). */
static size_t
default_paths(char *paths[3])
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = home_dir();
	size_t n = 0;

	if (xdg != NULL && xdg[0] == '/')
		paths[n++] = xasprintf("%s/yubin/config", xdg);
	else if (home != NULL)
		paths[n++] = xasprintf("%s/.config/yubin/config", home);
	if (home != NULL)
		paths[n++] = xasprintf("%s/.yubinrc", home);
	paths[n++] = xstrdup(SYSCONFDIR "/yubinrc");
	return n;
}

static int
not_found(char *const *paths, size_t n, struct error *err)
{
	struct dynbuf tried;

	dynbuf_init(&tried, ERROR_MSG_MAX);
	for (size_t i = 0; i < n; i++)
		(void)dynbuf_printf(&tried, "%s'%s'", i > 0 ? ", " : "",
		    paths[i]);
	error_set(err, ERR_CONFIG, "no configuration file found (tried %s); "
	    "write one (see 'man yubinrc'), or use an existing msmtprc: "
	    "yubin -C ~/.msmtprc", tried.data);
	dynbuf_release(&tried);
	return -1;
}

static int
load_default(struct config *c, struct error *err)
{
	char *paths[3];
	size_t n = default_paths(paths), i;
	int rc = 0, fd = -1;

	for (i = 0; i < n && rc == 0; i++)
		rc = open_config(paths[i], false, &fd, err);
	if (rc > 0)
		rc = load_fd(c, fd, paths[i - 1], err);
	else if (rc == 0)
		rc = not_found(paths, n, err);
	for (i = 0; i < n; i++)
		free(paths[i]);
	return rc;
}

int
config_load(struct config *c, const char *path, struct error *err)
{
	int fd;

	if (path == NULL)
		return load_default(c, err);
	if (open_config(path, true, &fd, err) < 0)
		return -1;
	return load_fd(c, fd, path, err);
}
