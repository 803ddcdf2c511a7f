/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * aliases.c -- see aliases.h. The file is read whole (it is small); each
 * entry keeps its targets in order, addresses parsed with address.c.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "aliases.h"
#include "error.h"
#include "util.h"

#define ALIASES_LINE_MAX (64 * 1024)
#define ALIASES_DEPTH 16		/* msmtp's MAXDEPTH */
#define ALIASES_EXPAND_MAX 10000	/* addresses one name may become */

struct target {
	char *text;		/* an address, a local name, or as written */
	bool special;		/* "|command", "/file", ":include:..." */
};

struct alias {
	char *name;
	int line;
	struct target *t;
	size_t n;
};

struct aliases {
	char *file;
	struct alias *e;
	size_t n, cap;
};

/* ---------------------------------------------------------------- entries */

void
aliases_free(struct aliases *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < a->e[i].n; k++)
			free(a->e[i].t[k].text);
		free(a->e[i].t);
		free(a->e[i].name);
	}
	free(a->e);
	free(a->file);
	free(a);
}

static const struct alias *
find(const struct aliases *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcasecmp(a->e[i].name, name) == 0)
			return &a->e[i];
	return NULL;
}

static void
add_target(struct alias *e, const char *text, bool special)
{
	e->t = xrealloc(e->t, (e->n + 1) * sizeof(*e->t));
	e->t[e->n].text = xstrdup(text);
	e->t[e->n].special = special;
	e->n++;
}

/* ---------------------------------------------------------------- parser */

struct reader {
	struct aliases *a;
	const char *name;	/* file name for messages */
	int line;		/* current line */
	int entry_line;		/* first line of the entry being read */
	struct error *err;
};

static int __attribute__((format(printf, 2, 3)))
parse_error(const struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = error_vset_at(r->err, ERR_CONFIG, r->name, r->entry_line, fmt,
	    ap);
	va_end(ap);
	return rc;
}

static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool
is_special(const char *item)
{
	return item[0] == '|' || item[0] == '/' ||
	    strncasecmp(item, ":include:", 9) == 0 ||
	    strncmp(item, "\"|", 2) == 0;
}

/* The end of the item at s: the next ',' outside "", (), <>. */
static char *
item_end(char *s)
{
	int paren = 0;
	bool quote = false, angle = false;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			quote = !quote;
		else if (!quote && *s == '(')
			paren++;
		else if (!quote && *s == ')' && paren > 0)
			paren--;
		else if (!quote && paren == 0 && (*s == '<' || *s == '>'))
			angle = *s == '<';
		else if (*s == ',' && !quote && paren == 0 && !angle)
			break;
	}
	return s;
}

/* One item of an entry: a special target, or addresses. */
static int
parse_item(struct reader *r, struct alias *e, char *item)
{
	struct address_list l;
	struct error sub;

	if (is_special(item)) {
		add_target(e, item, true);
		return 0;
	}
	address_list_init(&l);
	error_init(&sub);
	if (address_parse_arg(item, "address", &l, &sub) < 0)
		return parse_error(r, "alias '%s': %s", e->name, sub.message);
	for (size_t i = 0; i < l.n; i++)
		add_target(e, l.addr[i], false);
	address_list_release(&l);
	return 0;
}

static int
parse_targets(struct reader *r, struct alias *e, char *rhs)
{
	char *end, *item;
	bool last = false;

	while (!last) {
		end = item_end(rhs);
		last = *end == '\0';
		*end = '\0';
		item = trim(rhs);
		if (*item != '\0' && parse_item(r, e, item) < 0)
			return -1;
		rhs = end + 1;
	}
	if (e->n == 0)
		return parse_error(r, "alias '%s' has no address", e->name);
	return 0;
}

/* One logical entry "name: target, ..." (continuations joined). */
static int
parse_entry(struct reader *r, char *s)
{
	char *colon = strchr(s, ':'), *name;
	const struct alias *dup;
	struct alias *e;

	if (colon == NULL)
		return parse_error(r, "expected 'name: address, ...'");
	*colon = '\0';
	name = trim(s);
	if (*name == '\0' || strchr(name, '@') != NULL)
		return parse_error(r, "invalid alias name '%s'", name);
	if ((dup = find(r->a, name)) != NULL)
		return parse_error(r, "duplicate alias '%s' (first at line "
		    "%d)", name, dup->line);
	if (r->a->n == r->a->cap) {
		r->a->cap = r->a->cap == 0 ? 16 : 2 * r->a->cap;
		r->a->e = xrealloc(r->a->e, r->a->cap * sizeof(*r->a->e));
	}
	e = &r->a->e[r->a->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->line = r->entry_line;
	return parse_targets(r, e, colon + 1);
}

/* One physical line into b (comment removed). 1: a line, 0: EOF, -1. */
static int
read_line(struct reader *r, FILE *f, struct dynbuf *b)
{
	int ch;
	bool comment = false;

	dynbuf_reset(b);
	while ((ch = getc(f)) != EOF && ch != '\n') {
		char c = (char)ch;

		if (ch == '\0')
			return error_set(r->err, ERR_CONFIG, "%s:%d: NUL byte "
			    "in line", r->name, r->line + 1);
		comment |= ch == '#';
		if (!comment && dynbuf_add(b, &c, 1) < 0)
			return error_set(r->err, ERR_CONFIG, "%s:%d: line "
			    "longer than %d bytes", r->name, r->line + 1,
			    ALIASES_LINE_MAX);
	}
	if (ferror(f))
		return error_set(r->err, ERR_IOERR, "cannot read '%s': %s",
		    r->name, strerror(errno));
	if (ch == EOF && b->len == 0 && !comment)
		return 0;
	r->line++;
	return 1;
}

/* Finish the pending entry in entry (if any). */
static int
flush_entry(struct reader *r, struct dynbuf *entry)
{
	int rc = 0;

	if (entry->len > 0 && *trim(entry->data) != '\0')
		rc = parse_entry(r, entry->data);
	dynbuf_reset(entry);
	return rc;
}

static int
parse_lines(struct reader *r, FILE *f, struct dynbuf *line,
    struct dynbuf *entry)
{
	int rc;

	while ((rc = read_line(r, f, line)) == 1) {
		bool cont = line->len > 0 && (line->data[0] == ' ' ||
		    line->data[0] == '\t');

		if (cont && entry->len > 0) {
			if (dynbuf_add(entry, " ", 1) < 0 ||
			    dynbuf_add(entry, line->data, line->len) < 0)
				return parse_error(r, "entry longer than %d "
				    "bytes", ALIASES_LINE_MAX);
			continue;
		}
		if (flush_entry(r, entry) < 0)
			return -1;
		r->entry_line = r->line;
		if (line->len > 0)	/* entry is empty: a line fits */
			(void)dynbuf_add(entry, line->data, line->len);
	}
	if (rc < 0)
		return -1;
	return flush_entry(r, entry);
}

int
aliases_parse(struct aliases **out, FILE *f, const char *name,
    struct error *err)
{
	struct reader r = { .name = name, .err = err };
	struct dynbuf line, entry;
	int rc;

	r.a = xcalloc(1, sizeof(*r.a));
	r.a->file = xstrdup(name);
	dynbuf_init(&line, ALIASES_LINE_MAX);
	dynbuf_init(&entry, ALIASES_LINE_MAX);
	rc = parse_lines(&r, f, &line, &entry);
	dynbuf_release(&line);
	dynbuf_release(&entry);
	if (rc < 0) {
		aliases_free(r.a);
		r.a = NULL;
	}
	*out = r.a;
	return rc;
}

int
aliases_load(struct aliases **out, const char *path, struct error *err)
{
	FILE *f = fopen(path, "re");
	int rc;

	*out = NULL;
	if (f == NULL)
		return error_set(err, ERR_CONFIG, "cannot open aliases file "
		    "'%s': %s", path, strerror(errno));
	rc = aliases_parse(out, f, path, err);
	fclose(f);
	return rc;
}

/* ---------------------------------------------------------------- expand */

struct expansion {
	const struct aliases *a;
	const char *name;			/* the name asked for */
	struct address_list *out;
	size_t out0;				/* out->n before */
	const struct alias *path[ALIASES_DEPTH];	/* being expanded */
	int depth;
	bool *done;				/* entries expanded once */
	struct error *err;
};

static bool
on_path(const struct expansion *x, const struct alias *e)
{
	for (int i = 0; i < x->depth; i++)
		if (x->path[i] == e)
			return true;
	return false;
}

/* Append one address, within ALIASES_EXPAND_MAX for the whole name. */
static int
add_out(struct expansion *x, const char *addr)
{
	if (x->out->n - x->out0 == ALIASES_EXPAND_MAX)
		return error_set(x->err, ERR_CONFIG, "aliases file '%s': alias "
		    "'%s' expands to more than %d addresses", x->a->file,
		    x->name, ALIASES_EXPAND_MAX);
	address_list_add(x->out, addr);
	return 0;
}

static int expand_name(struct expansion *x, const char *name);

static int
expand_entry(struct expansion *x, const struct alias *e)
{
	if (x->depth == ALIASES_DEPTH)
		return error_set(x->err, ERR_CONFIG, "aliases file '%s': alias "
		    "'%s' nested more than %d levels", x->a->file, e->name,
		    ALIASES_DEPTH);
	x->path[x->depth++] = e;
	for (size_t i = 0; i < e->n; i++) {
		const struct target *t = &e->t[i];

		if (t->special)
			return error_set(x->err, ERR_NOUSER, "alias '%s' "
			    "(%s:%d) expands to '%s', which yubin cannot "
			    "deliver to (only to addresses)", e->name,
			    x->a->file, e->line, t->text);
		if ((address_domain(t->text) != NULL ?
		    add_out(x, t->text) : expand_name(x, t->text)) < 0)
			return -1;
	}
	x->depth--;
	return 0;
}

/*
 * An entry already expanded for this name adds nothing new (its addresses
 * are there; duplicates go anyway): each is expanded once, so the work is
 * linear in the size of the file, where "a: b, b / b: c, c / ..." doubled
 * it at every level.
 */
static int
expand_name(struct expansion *x, const char *name)
{
	const struct alias *e = find(x->a, name);

	if (e == NULL)
		e = find(x->a, "default");
	if (e == NULL || on_path(x, e))
		return add_out(x, name);
	if (x->done[e - x->a->e])
		return 0;
	x->done[e - x->a->e] = true;
	return expand_entry(x, e);
}

int
aliases_expand(const struct aliases *a, const char *name,
    struct address_list *out, struct error *err)
{
	struct expansion x = { .a = a, .name = name, .out = out,
	    .out0 = out->n, .err = err };
	int rc;

	x.done = xcalloc(a->n, sizeof(*x.done));
	rc = expand_name(&x, name);
	free(x.done);
	return rc;
}
