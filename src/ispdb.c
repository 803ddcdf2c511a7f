/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ispdb.c -- see ispdb.h. One pass, no allocation: a cursor over the
 * bytes, a stack of element names, the text of the few elements read.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "error.h"
#include "ispdb.h"
#include "util.h"

#define NAME_MAX_LEN 64

struct xp {
	const char *p, *end;
	char stack[ISPDB_DEPTH_MAX][NAME_MAX_LEN];
	int depth;
	int smtp_depth;		/* the open smtp outgoingServer's, or -1 */
	bool found;		/* one smtp outgoingServer complete */
	bool have_socket, auth_other;
	char text[ISPDB_VALUE_MAX];
	size_t text_len;
	struct ispdb_smtp *out;
	struct error *err;
};

static int
bad(struct xp *x, const char *what)
{
	return error_set(x->err, ERR_PROTOCOL, "not an autoconfig document: "
	    "%s", what);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == ':';
}

static void
skip_space(struct xp *x)
{
	while (x->p < x->end && is_space(*x->p))
		x->p++;
}

/* Whether the input goes on with s (and step over it). */
static bool
eat(struct xp *x, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(x->end - x->p) < n || memcmp(x->p, s, n) != 0)
		return false;
	x->p += n;
	return true;
}

/* Step past the next s (the end of a comment, a <?...?>). */
static int
skip_past(struct xp *x, const char *s, const char *what)
{
	size_t n = strlen(s);

	for (; x->end - x->p >= (ptrdiff_t)n; x->p++)
		if (memcmp(x->p, s, n) == 0) {
			x->p += n;
			return 0;
		}
	return bad(x, what);
}

static int
read_name(struct xp *x, char *name)
{
	size_t n = 0;

	while (x->p < x->end && is_name(*x->p)) {
		if (n + 1 >= NAME_MAX_LEN)
			return bad(x, "an element or attribute name is too "
			    "long");
		name[n++] = *x->p++;
	}
	name[n] = '\0';
	return n > 0 ? 0 : bad(x, "a name was expected");
}

/* One character of text or of an attribute value, entities decoded. */
static int
read_char(struct xp *x, char *c)
{
	static const struct {
		const char *ref;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
	    { "&quot;", '"' }, { "&apos;", '\'' } };

	if (*x->p != '&') {
		*c = *x->p++;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ents); i++)
		if (eat(x, ents[i].ref)) {
			*c = ents[i].c;
			return 0;
		}
	return bad(x, "an entity other than &amp; &lt; &gt; &quot; &apos;");
}

/* An attribute value into val (truncated; only 'type' is read). */
static int
read_value(struct xp *x, char *val, size_t size)
{
	char q, c;
	size_t n = 0;

	if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
		return bad(x, "an attribute value must be quoted");
	q = *x->p++;
	while (x->p < x->end && *x->p != q) {
		if (*x->p == '<')
			return bad(x, "'<' in an attribute value");
		if (read_char(x, &c) < 0)
			return -1;
		if (n + 1 < size)
			val[n++] = c;
	}
	val[n] = '\0';
	if (x->p >= x->end)
		return bad(x, "an attribute value is not closed");
	x->p++;
	return 0;
}

/* The attributes of a start tag up to '>' or '/>'; *type: its type=. */
static int
read_attrs(struct xp *x, char *type, size_t size, bool *empty)
{
	char name[NAME_MAX_LEN], val[ISPDB_VALUE_MAX];

	for (;;) {
		bool sep = x->p < x->end && is_space(*x->p);

		skip_space(x);
		if ((*empty = eat(x, "/>")) || eat(x, ">"))
			return 0;
		if (!sep || read_name(x, name) < 0)
			return bad(x, "a start tag is malformed");
		skip_space(x);
		if (!eat(x, "="))
			return bad(x, "an attribute without a value");
		skip_space(x);
		if (read_value(x, val, sizeof(val)) < 0)
			return -1;
		if (strcmp(name, "type") == 0)
			util_strlcpy(type, val, size);
	}
}

/* Whether the element just opened at x->depth is a child of the smtp
 * outgoingServer being read. */
static bool
in_smtp(const struct xp *x)
{
	return x->smtp_depth >= 0 && x->depth == x->smtp_depth + 1;
}

static int
on_start(struct xp *x, const char *name, const char *type)
{
	if (x->depth == 0 && strcmp(name, "clientConfig") != 0)
		return bad(x, "the root element is not clientConfig");
	if (x->depth >= ISPDB_DEPTH_MAX)
		return bad(x, "nested too deep");
	util_strlcpy(x->stack[x->depth], name, NAME_MAX_LEN);
	if (!x->found && x->smtp_depth < 0 && x->depth == 2 &&
	    strcmp(name, "outgoingServer") == 0 &&
	    strcmp(x->stack[1], "emailProvider") == 0 &&
	    strcasecmp(type, "smtp") == 0)
		x->smtp_depth = x->depth;
	x->depth++;
	x->text_len = 0;
	return 0;
}

bool
ispdb_value_ok(const char *v, bool host)
{
	if (*v == '\0')
		return false;
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= ' ' || c == 0x7f || c == '"' || c == '#' ||
		    c == '\\' || (host && c != '%' &&
		    (!is_name((char)c) || c == ':')))
			return false;
	}
	return true;
}

static int
on_port(struct xp *x, const char *v)
{
	unsigned long n = 0;

	for (const char *q = v; *q != '\0'; q++) {
		if (*q < '0' || *q > '9')
			return bad(x, "the port is not a number");
		if (n <= 65535)	/* else it stays too large */
			n = n * 10 + (unsigned long)(*q - '0');
	}
	if (n == 0 || n > 65535)
		return bad(x, "the port is not in 1-65535");
	x->out->port = (unsigned)n;
	return 0;
}

static int
on_socket(struct xp *x, const char *v)
{
	if (strcasecmp(v, "SSL") == 0)
		x->out->socket = ISPDB_SOCKET_SSL;
	else if (strcasecmp(v, "STARTTLS") == 0)
		x->out->socket = ISPDB_SOCKET_STARTTLS;
	else if (strcasecmp(v, "plain") == 0)
		x->out->socket = ISPDB_SOCKET_PLAIN;
	else
		return bad(x, "the socketType is not SSL, STARTTLS or plain");
	x->have_socket = true;
	return 0;
}

static void
on_auth(struct xp *x, const char *v)
{
	static const char *const password[] = { "password-cleartext",
	    "plain", "password-encrypted", "secure" };

	for (size_t i = 0; i < ARRAY_SIZE(password); i++)
		if (strcasecmp(v, password[i]) == 0)
			x->out->auth_password = true;
	if (strcasecmp(v, "OAuth2") == 0)
		x->out->auth_oauth2 = true;
	else if (strcasecmp(v, "none") == 0 ||
	    strcasecmp(v, "client-IP-address") == 0)
		x->out->auth_none = true;
	else
		x->auth_other = true;
}

/* The text of a child of the smtp outgoingServer, trimmed. */
static int
on_field(struct xp *x, const char *name)
{
	char *v = x->text;
	size_t n = x->text_len;

	while (n > 0 && is_space(v[n - 1]))
		n--;
	v[n] = '\0';
	while (is_space(*v))
		v++;
	if (strcmp(name, "hostname") == 0) {
		if (!ispdb_value_ok(v, true))
			return bad(x, "the hostname is not a host name");
		util_strlcpy(x->out->hostname, v, ISPDB_VALUE_MAX);
	} else if (strcmp(name, "port") == 0)
		return on_port(x, v);
	else if (strcmp(name, "socketType") == 0)
		return on_socket(x, v);
	else if (strcmp(name, "username") == 0) {
		if (*v != '\0' && !ispdb_value_ok(v, false))
			return bad(x, "the username holds a blank, a quote "
			    "or a control character");
		util_strlcpy(x->out->username, v, ISPDB_VALUE_MAX);
	} else if (strcmp(name, "authentication") == 0)
		on_auth(x, v);
	return 0;
}

static int
on_end(struct xp *x, const char *name)
{
	if (x->depth == 0 || strcmp(x->stack[x->depth - 1], name) != 0)
		return bad(x, "an end tag does not match its start tag");
	x->depth--;
	if (in_smtp(x) && on_field(x, name) < 0)
		return -1;
	if (x->depth == x->smtp_depth) {
		x->smtp_depth = -1;
		x->found = true;
	}
	x->text_len = 0;
	return 0;
}

/* Text up to the next '<': kept for a field of the smtp server. */
static int
on_text(struct xp *x)
{
	bool keep = x->depth > 0 && x->smtp_depth >= 0 &&
	    x->depth == x->smtp_depth + 2;
	char c;

	while (x->p < x->end && *x->p != '<') {
		if (x->depth == 0 && !is_space(*x->p))
			return bad(x, "text outside the root element");
		if (read_char(x, &c) < 0)
			return -1;
		if (c == '\0')
			return bad(x, "a NUL byte");
		if (!keep)
			continue;
		if (x->text_len + 1 >= sizeof(x->text))
			return bad(x, "a value is too long");
		x->text[x->text_len++] = c;
	}
	return 0;
}

static int
on_tag(struct xp *x)
{
	char name[NAME_MAX_LEN], type[16] = "";
	bool empty;

	if (eat(x, "<?"))
		return skip_past(x, "?>", "a <? is not closed");
	if (eat(x, "<!--"))
		return skip_past(x, "-->", "a comment is not closed");
	if (eat(x, "<!"))
		return bad(x, "a DOCTYPE or CDATA section (not accepted)");
	if (eat(x, "</")) {
		if (read_name(x, name) < 0)
			return -1;
		skip_space(x);
		if (!eat(x, ">"))
			return bad(x, "an end tag is malformed");
		return on_end(x, name);
	}
	x->p++;
	if (x->depth == 0 && x->stack[0][0] != '\0')
		return bad(x, "more than one root element");
	if (read_name(x, name) < 0 ||
	    read_attrs(x, type, sizeof(type), &empty) < 0 ||
	    on_start(x, name, type) < 0)
		return -1;
	return empty ? on_end(x, name) : 0;
}

/* What the smtp server found lacks, or NULL. */
static const char *
incomplete(const struct xp *x)
{
	if (!x->found)
		return "no outgoingServer of type smtp";
	if (x->out->hostname[0] == '\0')
		return "the smtp server has no hostname";
	if (x->out->port == 0)
		return "the smtp server has no port";
	if (!x->have_socket)
		return "the smtp server has no socketType";
	return NULL;
}

int
ispdb_parse(const char *doc, size_t len, struct ispdb_smtp *out,
    struct error *err)
{
	struct xp x = { .p = doc, .end = doc + len, .smtp_depth = -1,
	    .out = out, .err = err };
	const char *why;

	memset(out, 0, sizeof(*out));
	(void)eat(&x, "\xef\xbb\xbf");	/* a UTF-8 byte order mark */
	while (x.p < x.end)
		if ((*x.p == '<' ? on_tag(&x) : on_text(&x)) < 0)
			return -1;
	if (x.stack[0][0] == '\0')
		return bad(&x, "no root element");
	if (x.depth > 0)
		return bad(&x, "the document ends inside an element");
	if ((why = incomplete(&x)) != NULL)
		return bad(&x, why);
	if (out->auth_password || out->auth_oauth2 || x.auth_other)
		out->auth_none = false;
	return 0;
}
