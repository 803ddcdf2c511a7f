/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * confparse.c -- see confparse.h. The msmtprc syntax as msmtp reads it:
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
 *     those the parent took from the defaults of its time (msmtp's mask);
 *   - "eval CMD" is replaced by the first line CMD prints (msmtp 1.8.x):
 *     a key, a section or a comment, never another eval.
 * What each key means, and how its value is checked, is confkey.c's
 * business; copying and freeing values, conffield.c's.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conffield.h"
#include "config.h"
#include "confkey.h"
#include "confparse.h"
#include "error.h"
#include "shellcmd.h"
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

void
confparse_free(struct account_conf *a)
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
	struct confparse_src *src;
	struct confkey_ctx kc;		/* the current line */
	bool in_eval;			/* parsing an eval command's output */
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
		if ((parent = confparse_find(p->c->accounts, p->c->default_name, name)) == NULL)
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
	if ((a = confparse_find(p->c->accounts, p->c->default_name, name)) != NULL &&
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
		confparse_free(&n->ac);
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

static int parse_line(struct parser *p, char *s, size_t len);

/*
 * Run cmd; *line: the first line of its output, without CR, in out. Its
 * exit status does not matter (msmtp); no output is an error.
 */
static int
eval_line(struct parser *p, const char *cmd, struct dynbuf *out,
    char **line)
{
	long t = (p->cur != NULL ? p->cur : &p->defaults)->ac.timeout;
	struct shellcmd_result res;
	char what[64], buf[128];
	char *nl;
	size_t n;

	snprintf(what, sizeof(what), "eval at %s:%d", p->kc.file,
	    p->kc.line);
	if (shellcmd_run(what, cmd, (int)(t * 1000), out, &res,
	    p->kc.err) < 0)
		return -1;
	nl = out->len > 0 ? memchr(out->data, '\n', out->len) : NULL;
	n = nl != NULL ? (size_t)(nl - out->data) : out->len;
	if (nl == NULL && res.overflow)
		return confkey_error(&p->kc, "eval: the first line of its "
		    "output is longer than %d bytes", CONFIG_LINE_MAX);
	while (n > 0 && out->data[n - 1] == '\r')
		n--;
	if (n == 0)
		return confkey_error(&p->kc, "eval '%s' printed nothing (exit "
		    "status %d)", confkey_show(cmd, buf, sizeof(buf)),
		    res.status);
	if (memchr(out->data, '\0', n) != NULL)
		return confkey_error(&p->kc, "NUL byte in the output of eval");
	out->data[n] = '\0';
	*line = out->data;
	return 0;
}

/*
 * eval CMD (msmtp): the first line CMD prints is read in place of this
 * one; the file must be one that may run commands.
 */
static int
line_eval(struct parser *p, const char *cmd)
{
	struct dynbuf out;
	char *line = NULL;
	int r = -1;

	if (p->in_eval)
		return confkey_error(&p->kc, "the output of eval is another "
		    "eval");
	if (*cmd == '\0')
		return confkey_error(&p->kc, "'eval' needs a command");
	if (p->src->may_run == NULL)
		return confkey_error(&p->kc, "'eval' runs a command, which "
		    "only a configuration file may do");
	if (p->src->may_run(p->src->arg, p->kc.err) < 0)
		return -1;
	dynbuf_init(&out, CONFIG_LINE_MAX);
	out.secret = true;	/* it may well print a password */
	if (eval_line(p, cmd, &out, &line) == 0) {
		p->in_eval = true;
		r = parse_line(p, line, strlen(line));
		p->in_eval = false;
	}
	dynbuf_release(&out);
	return r;
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
	if (strcmp(cmd, "eval") == 0)
		return line_eval(p, trim(s));
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

int
confparse_stream(struct config *c, FILE *f, struct confparse_src *src,
    struct error *err)
{
	struct parser p = { .c = c, .src = src,
	    .kc = { .file = src->name, .err = err } };
	struct dynbuf line;
	int rc;

	defaults_init(&p.defaults);
	for (p.tail = &c->accounts; *p.tail != NULL; )
		p.tail = &(*p.tail)->next;
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
	src->password = p.kc.password;
	return rc;
}

struct account_conf *
confparse_find(struct account_conf *list, const char *default_name,
    const char *name)
{
	struct account_conf *a;

	for (a = list; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	if (strcmp(name, "default") == 0 && default_name != NULL &&
	    strcmp(default_name, "default") != 0)
		return confparse_find(list, default_name, default_name);
	return NULL;
}

