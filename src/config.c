/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config.c -- see config.h. The msmtprc syntax as msmtp reads it:
 *   - a line whose first non-blank character is '#' is a comment, so a '#'
 *     later in a line belongs to the value (passwords may hold one);
 *   - "key value": the key is the first word, the value the rest of the
 *     line without surrounding blanks (space, tab) and without a trailing
 *     CR; a value in double quotes loses them, and nothing else changes
 *     (no escapes: "a\"b" is a\"b, as in msmtp);
 *   - keys before any "account" or "defaults" line start an account named
 *     "default" (msmtp's compatibility with its 1.2 files);
 *   - an account starts from the current defaults, then copies from each
 *     parent the keys written in the parent itself (or copied into it), not
 *     those the parent took from the defaults of its time (msmtp's mask).
 * What each key means, and how its value is checked, copied and freed, is
 * confkey.c's business.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffield.h"
#include "config.h"
#include "confkey.h"
#include "error.h"
#include "util.h"

#define CONFIG_LINE_MAX (64 * 1024)

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
account_conf_free(struct account_conf *a)
{
	conffield_release(a);
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
	d->ac.allow_from_override = true;
	d->ac.set_from_header = CONF_SET_FROM_AUTO;
	d->ac.set_date_header = true;
	d->ac.set_msgid_header = true;
	d->ac.remove_bcc_headers = true;
}

static void
defaults_release(struct conf_node *d)
{
	conffield_release(&d->ac);
	memset(d, 0, sizeof(*d));
}

static struct conf_node *
node_new(const struct conf_node *defaults, const char *name,
    const char *file, int line)
{
	struct conf_node *n = xcalloc(1, sizeof(*n));

	conffield_copy(&n->ac, &defaults->ac, CONFFIELD_ALL);
	n->ac.set = defaults->ac.set;
	n->ac.name = xstrdup(name);
	n->ac.file = xstrdup(file);
	n->ac.line = line;
	return n;
}

static void
node_inherit(struct conf_node *n, const struct conf_node *parent)
{
	conffield_copy(&n->ac, &parent->ac, parent->own);
	n->own |= parent->own;
	n->ac.set |= parent->own;
}

/* ---------------------------------------------------------------- parser */

/*
 * kc is shared with confkey.c: the file name and line number for messages,
 * err, and kc.password, set when a non-empty password was written.
 */
struct parser {
	struct config *c;
	struct confkey_ctx kc;		/* the current line */
	struct conf_node defaults;
	struct conf_node *cur;		/* NULL before the first section */
	struct account_conf **tail;	/* where the next account goes */
};

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

/*
 * Trim; "quoted" (two characters or more) loses its quotes and nothing
 * else: a backslash is a backslash (msmtp's trim_string()).
 */
static char *
unquote(char *s)
{
	size_t n;

	s = trim(s);
	n = strlen(s);
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return s;
	s[n - 1] = '\0';
	return s + 1;
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
			return confkey_error(&p->kc, "missing account name");
		if ((parent = config_find(p->c, name)) == NULL)
			return confkey_error(&p->kc, "account '%s' is not "
			    "defined", confkey_show(name, buf, sizeof(buf)));
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
		return confkey_error(&p->kc, "missing account name");
	if (strpbrk(name, ",:") != NULL)
		return confkey_error(&p->kc, "account name '%s' must not "
		    "contain ',' or ':'", confkey_show(name, buf, sizeof(buf)));
	if ((a = config_find(p->c, name)) != NULL &&
	    strcmp(a->name, name) == 0)
		return confkey_error(&p->kc, "account '%s' is already "
		    "defined (at %s:%d)", confkey_show(name, buf, sizeof(buf)),
		    a->file, a->line);
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
	n = node_new(&p->defaults, name, p->kc.file, p->kc.line);
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

/* "key value" into the current account; the key counts as written in it. */
static int
set_key(struct parser *p, const struct confkey *k, const char *v)
{
	if (confkey_set(k, &p->cur->ac, v, &p->kc) < 0)
		return -1;
	p->cur->ac.set |= p->kc.written;
	p->cur->own |= p->kc.written;
	return 0;
}

static int
check_line(struct parser *p, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return confkey_error(&p->kc, "control character "
			    "0x%02x in line", ch);
	}
	return 0;
}

static int
parse_line(struct parser *p, char *s, size_t len)
{
	const struct confkey *k;
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
			return confkey_error(&p->kc, "'defaults' takes no "
			    "value");
		p->cur = &p->defaults;
		return 0;
	}
	if (strcmp(cmd, "account") == 0)
		return section_account(p, trim(s));
	if ((k = confkey_find(cmd)) == NULL)
		return confkey_error(&p->kc, "unknown command '%s'",
		    confkey_show(cmd, buf, sizeof(buf)));
	if (p->cur == NULL && section_implicit(p) < 0)
		return -1;
	return set_key(p, k, unquote(s));
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
			return confkey_error(&p->kc, "NUL byte in line");
		if (dynbuf_add(b, &c, 1) < 0)
			return confkey_error(&p->kc, "line longer than %d "
			    "bytes", CONFIG_LINE_MAX);
	}
	if (ferror(f))
		return error_set(p->kc.err, ERR_IOERR, "cannot read '%s': %s",
		    p->kc.file, strerror(errno));
	return ch != EOF || b->len > 0;
}

static int
parse_stream(struct config *c, FILE *f, const char *name, bool *password,
    struct error *err)
{
	struct parser p = { .c = c, .kc = { .file = name, .err = err } };
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

		p.kc.line++;
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
	*password = p.kc.password;
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
	switch (util_perm_secret(st)) {
	case UTIL_PERM_OK:
		return 0;
	case UTIL_PERM_OWNER:
		return error_set(err, ERR_CONFIG, "%s: contains a password but "
		    "is owned by another user (uid %ld); it must be owned by "
		    "you", c->path, (long)st->st_uid);
	default:
		return error_set(err, ERR_CONFIG, "%s: contains a password but "
		    "is readable by others; run: chmod 600 '%s'", c->path,
		    c->path);
	}
}

/*
 * The key that makes yubin run a command from this file (passwordeval,
 * oauth2_client_secret_eval in any account), or NULL. Every key that runs
 * a command belongs here.
 */
static const char *
runs_commands(const struct config *c)
{
	for (const struct account_conf *a = c->accounts; a != NULL;
	    a = a->next) {
		if (a->passwordeval != NULL)
			return "passwordeval";
		if (a->oauth2_client_secret_eval != NULL)
			return "oauth2_client_secret_eval";
	}
	return NULL;
}

/* Commands (key) from a file someone else could have written: refused. */
static int
check_commands(const struct config *c, const char *key,
    const struct stat *st, struct error *err)
{
	switch (util_perm_commands(st)) {
	case UTIL_PERM_OK:
		return 0;
	case UTIL_PERM_OWNER:
		return error_set(err, ERR_CONFIG, "%s: can run commands (%s) "
		    "but is owned by another user (uid %ld); it must be owned "
		    "by you or root", c->path, key, (long)st->st_uid);
	default:
		return error_set(err, ERR_CONFIG, "%s: can run commands (%s) "
		    "but others may write to it; run: chmod go-w '%s'",
		    c->path, key, c->path);
	}
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
	if (rc == 0 && runs_commands(c) != NULL)
		rc = check_commands(c, runs_commands(c), &st, err);
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

/* The places config_load() looks in, in order; free with free(). */
static size_t
default_paths(char *paths[3])
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = util_home();
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

	dynbuf_init(&tried, ERROR_MSG_MAX);	/* no more fits the message */
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
