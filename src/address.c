/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * address.c -- see address.h. An RFC 5322 address-list parser in two
 * passes: the field body is cut into tokens (atoms, quoted strings, domain
 * literals, specials; comments and folding white space dropped), then the
 * tokens are read as a list of mailboxes and groups.
 *
 * Tolerated, as real mail has them: a display name with unquoted specials
 * ("John Q. Public", "bob@example.org <bob@example.org>"), obs-route
 * ("<@a,@b:joe@c>"), white space and comments around the dots of an address,
 * dots in a row in a local part ("a..b@docomo.ne.jp"),
 * empty list elements (",,"), a group without its closing ';' at the end,
 * 8-bit bytes (UTF-8, RFC 6532) in atoms and quoted strings.
 * Refused: unbalanced quotes, comments, brackets and angle brackets; an
 * address without its '<>' after a display name; a group inside a group;
 * control characters (except tab) and NUL; a line break that is not
 * folding (CRLF followed by a space or tab).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_LIBIDN2
#include <idn2.h>
#endif

#include "address.h"
#include "error.h"
#include "rfc5322.h"
#include "util.h"

#define SHOW_MAX 40		/* bytes of a token quoted in a message */
#define CHECK_SHOW_MAX 200	/* bytes of an address quoted in a message */
#define SHOWN_SIZE (CHECK_SHOW_MAX * 4 + 8)
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---------------------------------------------------------------- list */

void
address_list_init(struct address_list *l)
{
	memset(l, 0, sizeof(*l));
}

void
address_list_add(struct address_list *l, const char *addr)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : 2 * l->cap;
		l->addr = xrealloc(l->addr, l->cap * sizeof(*l->addr));
	}
	l->addr[l->n++] = xstrdup(addr);
}

void
address_list_release(struct address_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->addr[i]);
	free(l->addr);
	address_list_init(l);
}

/* ---------------------------------------------------------------- tokens */

enum tok_kind {
	TOK_ATOM,		/* 1*atext (and 8-bit bytes) */
	TOK_QUOTED,		/* "..." as in the source, unfolded */
	TOK_DLIT,		/* [...] as in the source, unfolded */
	TOK_SPECIAL,		/* one of < > : ; @ , . */
};

struct token {
	enum tok_kind kind;
	char *text;		/* NUL-terminated */
	size_t off;		/* offset in the field body */
};

struct lexer {
	const char *s;
	size_t len, pos;
	struct token *t;
	size_t n, cap;
	char why[160];		/* what is wrong, "" while all is well */
};

static int __attribute__((format(printf, 2, 3)))
lex_fail(struct lexer *x, const char *fmt, ...)
{
	va_list ap;

	if (x->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(x->why, sizeof(x->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
lex_push(struct lexer *x, enum tok_kind k, const char *p, size_t n,
    size_t off)
{
	if (x->n == x->cap) {
		x->cap = x->cap == 0 ? 16 : 2 * x->cap;
		x->t = xrealloc(x->t, x->cap * sizeof(*x->t));
	}
	x->t[x->n].kind = k;
	x->t[x->n].text = xstrndup(p, n);
	x->t[x->n].off = off;
	x->n++;
}

/*
 * A line break at x->pos: CRLF (or a lone CR or LF) is folding only when a
 * space or tab follows. Returns the bytes to skip, or -1.
 */
static int
lex_break(struct lexer *x)
{
	size_t p = x->pos, n;

	n = x->s[p] == '\r' && p + 1 < x->len && x->s[p + 1] == '\n' ? 2 : 1;
	if (p + n < x->len && rfc5322_is_wsp((unsigned char)x->s[p + n]))
		return (int)n;
	return lex_fail(x, "line break not followed by white space at "
	    "offset %zu", p);
}

/* A byte no token may hold: NUL and control characters but tab. */
static int
lex_control(struct lexer *x, unsigned char ch)
{
	if (ch == '\0')
		return lex_fail(x, "NUL byte at offset %zu", x->pos);
	return lex_fail(x, "control character 0x%02x at offset %zu", ch,
	    x->pos);
}

static bool
is_control(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') ||
	    ch == 0x7f;
}

/* A (possibly nested) comment; x->pos is at '('. */
static int
lex_comment(struct lexer *x)
{
	size_t start = x->pos, depth = 0;
	int n;

	while (x->pos < x->len) {
		unsigned char ch = (unsigned char)x->s[x->pos];

		if (ch == '\\' && x->pos + 1 < x->len &&
		    !is_control((unsigned char)x->s[x->pos + 1]) &&
		    x->s[x->pos + 1] != '\r' && x->s[x->pos + 1] != '\n') {
			x->pos += 2;
			continue;
		}
		if (ch == '\r' || ch == '\n') {
			if ((n = lex_break(x)) < 0)
				return -1;
			x->pos += (size_t)n;
			continue;
		}
		if (is_control(ch) || ch == '\\')
			return ch == '\\' ? lex_fail(x, "bad quoted pair at "
			    "offset %zu", x->pos) : lex_control(x, ch);
		x->pos++;
		if (ch == '(')
			depth++;
		else if (ch == ')' && --depth == 0)
			return 0;
	}
	return lex_fail(x, "unterminated comment at offset %zu", start);
}

/*
 * One step inside a quoted string or domain literal that started at start:
 * a byte, a quoted pair or a folding line break is copied (or skipped);
 * returns 1 to go on, 0 after the closing byte, -1 on an error.
 */
static int
lex_quoted_step(struct lexer *x, char close, enum tok_kind k, size_t start,
    struct dynbuf *b)
{
	unsigned char ch, next;
	int n;

	if (x->pos >= x->len || (x->s[x->pos] == '\\' && x->pos + 1 >= x->len))
		return lex_fail(x, "unterminated %s at offset %zu",
		    k == TOK_DLIT ? "domain literal" : "quoted string", start);
	ch = (unsigned char)x->s[x->pos];
	if (ch == '\r' || ch == '\n') {
		if ((n = lex_break(x)) < 0)
			return -1;
		x->pos += (size_t)n;
		return 1;
	}
	if (is_control(ch))
		return lex_control(x, ch);
	if (k == TOK_DLIT && (ch == '[' || ch == '\\'))
		return lex_fail(x, "'%c' inside a domain literal at offset %zu",
		    ch, x->pos);
	n = ch == '\\' ? 2 : 1;
	next = (unsigned char)x->s[x->pos + (size_t)n - 1];
	if (n == 2 && (is_control(next) || next == '\r' || next == '\n'))
		return lex_fail(x, "bad quoted pair at offset %zu", x->pos);
	(void)dynbuf_add(b, x->s + x->pos, (size_t)n);	/* b holds x->s */
	x->pos += (size_t)n;
	return ch == (unsigned char)close ? 0 : 1;
}

/*
 * A quoted string or domain literal from x->pos (at the opening byte) to
 * the closing one, kept as in the source without folding line breaks.
 */
static int
lex_quoted(struct lexer *x, char close, enum tok_kind k)
{
	struct dynbuf b;
	size_t start = x->pos;
	int r;

	dynbuf_init(&b, x->len + 1);	/* a part of x->s: appends fit */
	(void)dynbuf_add(&b, &x->s[x->pos++], 1);
	while ((r = lex_quoted_step(x, close, k, start, &b)) == 1)
		;
	if (r == 0)
		lex_push(x, k, b.data, b.len, start);
	dynbuf_release(&b);
	return r;
}

/* One token (or skipped white space / comment) at x->pos. */
static int
lex_one(struct lexer *x)
{
	unsigned char ch = (unsigned char)x->s[x->pos];
	size_t start = x->pos;
	int n;

	if (rfc5322_is_wsp(ch)) {
		x->pos++;
		return 0;
	}
	if (ch == '\r' || ch == '\n') {
		if ((n = lex_break(x)) < 0)
			return -1;
		x->pos += (size_t)n;
		return 0;
	}
	if (ch == '(')
		return lex_comment(x);
	if (ch == '"')
		return lex_quoted(x, '"', TOK_QUOTED);
	if (ch == '[')
		return lex_quoted(x, ']', TOK_DLIT);
	if (ch != '\0' && strchr("<>:;@,.", ch) != NULL) {
		lex_push(x, TOK_SPECIAL, x->s + x->pos++, 1, start);
		return 0;
	}
	if (rfc5322_is_atext(ch)) {
		while (x->pos < x->len &&
		    rfc5322_is_atext((unsigned char)x->s[x->pos]))
			x->pos++;
		lex_push(x, TOK_ATOM, x->s + start, x->pos - start, start);
		return 0;
	}
	if (ch == ')' || ch == ']' || ch == '\\')
		return lex_fail(x, "unexpected '%c' at offset %zu", ch, start);
	return lex_control(x, ch);
}

static void
lex_release(struct lexer *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->t[i].text);
	free(x->t);
	x->t = NULL;
	x->n = x->cap = 0;
}

static int
lex(struct lexer *x, const char *s, size_t len)
{
	memset(x, 0, sizeof(*x));
	x->s = s;
	x->len = len;
	while (x->pos < x->len)
		if (lex_one(x) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------- parser */

struct parser {
	struct lexer *x;
	size_t i;			/* next token */
	struct address_list found;	/* addresses so far */
};

static const struct token *
peek(const struct parser *p)
{
	return p->i < p->x->n ? &p->x->t[p->i] : NULL;
}

static bool
peek_is(const struct parser *p, char special)
{
	const struct token *t = peek(p);

	return t != NULL && t->kind == TOK_SPECIAL && t->text[0] == special;
}

/* "unexpected 'x' at offset N" or "unexpected end" for the next token. */
static int
unexpected(struct parser *p, const char *context)
{
	const struct token *t = peek(p);

	if (t == NULL)
		return lex_fail(p->x, "unexpected end %s", context);
	return lex_fail(p->x, "unexpected '%.*s%s' %s at offset %zu",
	    SHOW_MAX, t->text, strlen(t->text) > SHOW_MAX ? "..." : "",
	    context, t->off);
}

/*
 * word *("." word) for a local part, atom *("." atom) or a domain literal
 * for a domain. A local part may also have dots in a row, or at its start
 * or end ("a..b", "a."), as some mobile carriers hand them out.
 */
static int
dotted(struct parser *p, bool domain, struct dynbuf *out)
{
	const struct token *t = peek(p);
	bool words = false, after_word = false;

	if (domain && t != NULL && t->kind == TOK_DLIT) {
		p->i++;
		return dynbuf_addstr(out, t->text);
	}
	for (; (t = peek(p)) != NULL; p->i++) {
		if (!after_word && (t->kind == TOK_ATOM ||
		    (!domain && t->kind == TOK_QUOTED)))
			words = after_word = true;
		else if (peek_is(p, '.') && (after_word || !domain))
			after_word = false;
		else
			break;
		(void)dynbuf_addstr(out, t->text);	/* fits: see addr_spec */
	}
	if (!words || (domain && !after_word))
		return unexpected(p, domain ? "in domain" : "in address");
	return 0;
}

/* local-part ["@" domain] up to the next ',' ';' '>' or the end. */
static int
addr_spec(struct parser *p, bool angle)
{
	struct dynbuf a;
	int r;

	if (peek_is(p, '@'))
		return lex_fail(p->x, "missing local part before '@' at "
		    "offset %zu", peek(p)->off);
	dynbuf_init(&a, p->x->len + 1);	/* tokens of x->s: appends fit */
	r = dotted(p, false, &a);
	if (r == 0 && peek_is(p, '@')) {
		p->i++;
		(void)dynbuf_addstr(&a, "@");
		r = dotted(p, true, &a);
	}
	if (r == 0 && !(peek(p) == NULL || peek_is(p, ',') ||
	    peek_is(p, ';') || (angle && peek_is(p, '>'))))
		r = unexpected(p, "after an address");
	if (r == 0)
		address_list_add(&p->found, a.data);
	dynbuf_release(&a);
	return r;
}

/* "<" [obs-route] addr-spec ">"; p->i is at '<'. */
static int
angle_addr(struct parser *p)
{
	size_t open = peek(p)->off;

	p->i++;
	if (peek_is(p, '>'))
		return lex_fail(p->x, "empty address '<>' at offset %zu", open);
	if (peek_is(p, '@')) {		/* obs-route: @a,@b: */
		while (peek(p) != NULL && !peek_is(p, ':') && !peek_is(p, '>'))
			p->i++;
		if (!peek_is(p, ':'))
			return unexpected(p, "in route");
		p->i++;
	}
	if (addr_spec(p, true) < 0)
		return -1;
	if (!peek_is(p, '>'))
		return lex_fail(p->x, "missing '>' for the '<' at offset %zu",
		    open);
	p->i++;
	return 0;
}

/* The index of the first ',' ';' '<' '>' ':' from p->i on (or n). */
static size_t
next_stop(const struct parser *p)
{
	size_t j;

	for (j = p->i; j < p->x->n; j++)
		if (p->x->t[j].kind == TOK_SPECIAL &&
		    strchr(",;<>:", p->x->t[j].text[0]) != NULL)
			break;
	return j;
}

static int element(struct parser *p, bool in_group);

/* display-name ":" [mailbox-list] ";"; p->i is at ':'. */
static int
group(struct parser *p)
{
	p->i++;
	for (;;) {
		if (peek(p) == NULL)	/* obs: missing ';' at the end */
			return 0;
		if (peek_is(p, ';')) {
			p->i++;
			return 0;
		}
		if (element(p, true) < 0)
			return -1;
		if (peek_is(p, ','))
			p->i++;
	}
}

/*
 * One element of the list: a mailbox (with or without display name), a
 * group, or nothing (",,"). Leaves p->i at the ',' (or ';') that ends it.
 */
static int
element(struct parser *p, bool in_group)
{
	size_t stop = next_stop(p);
	const struct token *t = stop < p->x->n ? &p->x->t[stop] : NULL;
	char c = t != NULL ? t->text[0] : ',';

	if (c == '<') {
		p->i = stop;
		if (angle_addr(p) < 0)
			return -1;
	} else if (c == ':') {
		if (in_group)
			return lex_fail(p->x, "group inside a group at offset "
			    "%zu", t->off);
		p->i = stop;
		if (group(p) < 0)
			return -1;
	} else if (c == '>') {
		return lex_fail(p->x, "unexpected '>' at offset %zu", t->off);
	} else if (stop > p->i && addr_spec(p, false) < 0) {
		return -1;
	}
	if (peek(p) == NULL || peek_is(p, ',') || (in_group && peek_is(p, ';')))
		return 0;
	return unexpected(p, c == '<' ? "after '>'" : c == ':' ?
	    "after a group" : "after an address");
}

static int
parse_tokens(struct parser *p)
{
	while (peek(p) != NULL) {
		if (peek_is(p, ',')) {
			p->i++;
			continue;
		}
		if (peek_is(p, ';'))
			return unexpected(p, "outside a group");
		if (element(p, false) < 0)
			return -1;
	}
	return 0;
}

/* Parse into out (unchanged on failure); *why says what went wrong. */
static int
parse_list(const char *value, size_t len, struct address_list *out,
    char *why, size_t whysize)
{
	struct lexer x;
	struct parser p = { .x = &x };
	int r;

	address_list_init(&p.found);
	r = lex(&x, value, len);
	if (r == 0)
		r = parse_tokens(&p);
	if (r == 0)
		for (size_t i = 0; i < p.found.n; i++)
			address_list_add(out, p.found.addr[i]);
	util_strlcpy(why, x.why, whysize);
	address_list_release(&p.found);
	lex_release(&x);
	return r;
}

int
address_parse_list(const char *value, size_t len, const char *field,
    struct address_list *out, struct error *err)
{
	char why[160];

	if (parse_list(value, len, out, why, sizeof(why)) == 0)
		return 0;
	return error_set(err, ERR_DATAERR, "malformed address in '%s:' "
	    "header: %s", field, why);
}

/* Quote s for a message: control bytes as \xNN, cut after SHOW_MAX. */
static const char *
show(const char *s, char *buf, size_t size)
{
	return util_show(s, SHOW_MAX, false, buf, size);
}

int
address_parse_arg(const char *arg, const char *what, struct address_list *out,
    struct error *err)
{
	char why[160], buf[SHOW_MAX * 4 + 8];

	if (strpbrk(arg, "\r\n") != NULL)
		return error_set(err, ERR_DATAERR, "%s '%s' contains a line "
		    "break", what, show(arg, buf, sizeof(buf)));
	if (parse_list(arg, strlen(arg), out, why, sizeof(why)) == 0)
		return 0;
	return error_set(err, ERR_DATAERR, "malformed %s '%s': %s", what,
	    show(arg, buf, sizeof(buf)), why);
}

/* ---------------------------------------------------------------- parts */

const char *
address_domain(const char *a)
{
	bool quoted = false;
	const char *at = NULL;

	for (const char *p = a; *p != '\0'; p++) {
		if (*p == '\\' && quoted && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '@' && !quoted)
			at = p;
	}
	return at != NULL ? at + 1 : NULL;
}

/* Why a is not safe on a command line (see address_check()), or NULL. */
/*
 * RFC 5321 4.1.2: a local part is a Dot-string or one Quoted-string; only
 * a quoted string that is the whole local part may hold a space (RFC
 * 5322's obsolete forms such as ."john doe" or "a"."b" may not).
 */
static const char *
unsafe_why(const char *a)
{
	bool quoted = *a == '"';

	if (*a == '\0')
		return "is empty";
	if (*a == '-')
		return "begins with '-'";
	if (strlen(a) > ADDRESS_MAX)
		return "is longer than " STR(ADDRESS_MAX) " bytes";
	for (const char *p = a + quoted; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch == 0x7f)
			return "contains a control character";
		if (ch == '<' || ch == '>')
			return "contains '<' or '>'";
		if (ch == ' ' && !quoted)
			return "contains a space outside quotes";
		if (ch == '\\' && quoted && p[1] != '\0')
			p++;
		else if (ch == '"' && quoted && p[1] != '@' && p[1] != '\0')
			return "has a quoted string that is not its whole "
			    "local part";
		else if (ch == '"')
			quoted = false;
	}
	return NULL;
}

/* An address (or domain) quoted in a message. */
static const char *
shown(const char *s, char buf[SHOWN_SIZE])
{
	return util_show(s, CHECK_SHOW_MAX, false, buf, SHOWN_SIZE);
}

int
address_check(const char *a, const char *what, const char *where,
    struct error *err)
{
	char buf[SHOWN_SIZE];
	const char *why = unsafe_why(a);

	if (why == NULL)
		return 0;
	return error_set(err, ERR_DATAERR, "%s '%s'%s%s %s", what,
	    shown(a, buf), where != NULL ? " " : "",
	    where != NULL ? where : "", why);
}

#ifdef HAVE_LIBIDN2
/*
 * dom as A-labels under STD3 rules. libidn2 2.3 drops what STD3 forbids
 * (the '>' a fullwidth '＞' maps to) instead of failing, which would send
 * the message to another domain: the mapping without STD3 must agree.
 */
static int
idna_domain(const char *a, const char *dom, char **ace, struct error *err)
{
	const int flags = IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT;
	char buf[SHOWN_SIZE], dbuf[SHOWN_SIZE], mbuf[SHOWN_SIZE];
	char *mapped = NULL;
	int rc;

	rc = idn2_to_ascii_8z(dom, ace, flags | IDN2_USE_STD3_ASCII_RULES);
	if (rc == IDN2_OK &&
	    idn2_to_ascii_8z(dom, &mapped, flags) == IDN2_OK &&
	    strcmp(*ace, mapped) != 0) {
		error_set(err, ERR_DATAERR, "address '%s' has an invalid "
		    "internationalized domain '%s': it maps to '%s', which is "
		    "not a host name", shown(a, buf), shown(dom, dbuf),
		    shown(mapped, mbuf));
		rc = IDN2_DISALLOWED;
	} else if (rc != IDN2_OK)
		error_set(err, ERR_DATAERR, "address '%s' has an invalid "
		    "internationalized domain '%s': %s", shown(a, buf),
		    shown(dom, dbuf), idn2_strerror(rc));
	idn2_free(mapped);
	if (rc != IDN2_OK) {
		idn2_free(*ace);
		*ace = NULL;
		return -1;
	}
	return 0;
}
#endif

int
address_to_ascii(const char *a, char **out, struct error *err)
{
	const char *dom = address_domain(a);
	size_t local = dom != NULL ? (size_t)(dom - 1 - a) : strlen(a);
	char buf[SHOWN_SIZE], *ace = NULL;

	*out = NULL;
	if (util_has_8bit(a, local))
		return error_set(err, ERR_DATAERR, "address '%s' has a "
		    "non-ASCII local part and the server does not support "
		    "SMTPUTF8", shown(a, buf));
	if (dom == NULL || !util_has_8bit(dom, strlen(dom))) {
		*out = xstrdup(a);
		return 0;
	}
	if (dom[0] == '[')	/* RFC 5321 4.1.3: an address literal is ASCII */
		return error_set(err, ERR_DATAERR, "address '%s' has a "
		    "non-ASCII domain literal", shown(a, buf));
#ifdef HAVE_LIBIDN2
	if (idna_domain(a, dom, &ace, err) < 0)
		return -1;
	*out = xasprintf("%.*s@%s", (int)local, a, ace);
	idn2_free(ace);
	return 0;
#else
	(void)ace;
	return error_set(err, ERR_DATAERR, "address '%s' has a non-ASCII "
	    "domain and yubin was built without libidn2", shown(a, buf));
#endif
}
