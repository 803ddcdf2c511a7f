/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * netrc.c -- see netrc.h. The whole file is read into one secret buffer
 * (wiped afterwards) and scanned once; tokens go through a secret dynbuf
 * too, since any of them may be a password.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "netrc.h"
#include "util.h"

#define NETRC_FILE_MAX	(1024 * 1024)	/* bytes read at most */
#define NETRC_TOKEN_MAX	(64 * 1024)

struct lexer {
	const char *p, *end;
	const char *name;	/* file name for messages */
	int line;		/* line of p */
	int tokline;		/* line where the last token started */
};

/* The entry being read. */
struct entry {
	bool active;		/* machine matched the host, or "default" */
	bool is_default;
	bool login_ok;		/* no login, or login equals the user */
	char *password;		/* secret */
};

struct search {
	struct lexer lx;
	struct dynbuf tok;	/* secret */
	const char *host;
	const char *user;
	struct entry cur;
	char *found;		/* from a machine entry (secret) */
	char *dflt;		/* from a default entry (secret) */
};

/* ---------------------------------------------------------------- lexer */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

static void
skip_blanks(struct lexer *lx)
{
	for (; lx->p < lx->end && is_blank(*lx->p); lx->p++)
		if (*lx->p == '\n')
			lx->line++;
}

/* Up to (not past) the end of the current line. */
static void
skip_line(struct lexer *lx)
{
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
}

/* Whether p starts an empty line ("\n" or "\r\n"). */
static bool
empty_line(const struct lexer *lx)
{
	const char *p = lx->p;

	if (p < lx->end && *p == '\r')
		p++;
	return p < lx->end && *p == '\n';
}

/* A macdef body: the rest of its line, then lines up to an empty one. */
static void
skip_macro(struct lexer *lx)
{
	skip_line(lx);
	while (lx->p < lx->end) {
		lx->p++;		/* the '\n' */
		lx->line++;
		if (empty_line(lx)) {
			skip_line(lx);
			return;
		}
		skip_line(lx);
	}
}

/* What next_token() found. */
enum token {
	TOKEN_ERROR = -1,	/* err says why */
	TOKEN_END = 0,		/* the end of the text */
	TOKEN_WORD = 1,		/* a token, in tok */
};

static enum token
quoted_token(struct lexer *lx, struct dynbuf *tok, struct error *err)
{
	for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
		char c = *lx->p;

		if (c == '\n')
			lx->line++;
		if (c == '\\' && lx->p + 1 < lx->end) {
			c = *++lx->p;
			c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ?
			    '\t' : c;
		}
		if (dynbuf_add(tok, &c, 1) < 0) {
			error_set(err, ERR_CONFIG, "%s:%d: token longer than "
			    "%d bytes", lx->name, lx->tokline,
			    NETRC_TOKEN_MAX);
			return TOKEN_ERROR;
		}
	}
	if (lx->p >= lx->end) {
		error_set(err, ERR_CONFIG, "%s:%d: unterminated quoted string",
		    lx->name, lx->tokline);
		return TOKEN_ERROR;
	}
	lx->p++;
	return TOKEN_WORD;
}

/* The next token into tok. */
static enum token
next_token(struct lexer *lx, struct dynbuf *tok, struct error *err)
{
	const char *start;

	dynbuf_reset(tok);
	(void)dynbuf_add(tok, "", 0);	/* tok->data is never NULL */
	skip_blanks(lx);
	if (lx->p >= lx->end)
		return TOKEN_END;
	lx->tokline = lx->line;
	if (*lx->p == '"')
		return quoted_token(lx, tok, err);
	for (start = lx->p; lx->p < lx->end && !is_blank(*lx->p); lx->p++)
		;
	if (dynbuf_add(tok, start, (size_t)(lx->p - start)) < 0) {
		error_set(err, ERR_CONFIG, "%s:%d: token longer than %d bytes",
		    lx->name, lx->tokline, NETRC_TOKEN_MAX);
		return TOKEN_ERROR;
	}
	return TOKEN_WORD;
}

/* The value after keyword kw into tok (kw must be a copy: tok is reused). */
static int
value_token(struct search *s, const char *kw, struct error *err)
{
	enum token r = next_token(&s->lx, &s->tok, err);

	if (r == TOKEN_END)
		return error_set(err, ERR_CONFIG, "%s:%d: '%s' without a "
		    "value", s->lx.name, s->lx.tokline, kw);
	return r == TOKEN_WORD ? 0 : -1;
}

/* ---------------------------------------------------------------- entries */

/* The entry ends: remember its password if it matches. */
static void
entry_end(struct search *s)
{
	struct entry *e = &s->cur;

	if (e->active && e->login_ok && e->password != NULL) {
		char **slot = e->is_default ? &s->dflt : &s->found;

		if (*slot == NULL) {
			*slot = e->password;
			e->password = NULL;
		}
	}
	util_free_secret(e->password);
	memset(e, 0, sizeof(*e));
}

/* machine / default / macdef: a new entry starts. */
static int
entry_start(struct search *s, const char *kw, struct error *err)
{
	entry_end(s);
	if (strcmp(kw, "default") == 0) {
		s->cur.active = s->cur.is_default = s->cur.login_ok = true;
		return 0;
	}
	if (value_token(s, kw, err) < 0)
		return -1;
	if (strcmp(kw, "macdef") == 0) {
		skip_macro(&s->lx);
		return 0;
	}
	s->cur.active = util_strcaseeq(s->tok.data, s->host);
	s->cur.login_ok = true;
	return 0;
}

/* login / password / account / anything else inside an entry. */
static int
entry_keyword(struct search *s, const char *kw, struct error *err)
{
	bool login = strcmp(kw, "login") == 0;
	bool password = strcmp(kw, "password") == 0;

	if (!login && !password && strcmp(kw, "account") != 0)
		return 0;		/* unknown keyword: ignored */
	if (value_token(s, kw, err) < 0)
		return -1;
	if (login)
		s->cur.login_ok = strcmp(s->tok.data, s->user) == 0;
	if (password && s->cur.active) {
		util_free_secret(s->cur.password);
		s->cur.password = xstrndup(s->tok.data, s->tok.len);
	}
	return 0;
}

static bool
starts_entry(const char *kw)
{
	return strcmp(kw, "machine") == 0 || strcmp(kw, "default") == 0 ||
	    strcmp(kw, "macdef") == 0;
}

static int
search_run(struct search *s, struct error *err)
{
	enum token t = TOKEN_END;
	char kw[16];

	while (s->found == NULL &&
	    (t = next_token(&s->lx, &s->tok, err)) == TOKEN_WORD) {
		if (s->tok.data[0] == '#') {	/* a comment (curl) */
			skip_line(&s->lx);
			continue;
		}
		util_strlcpy(kw, s->tok.data, sizeof(kw));
		if ((starts_entry(kw) ? entry_start(s, kw, err) :
		    entry_keyword(s, kw, err)) < 0)
			return -1;
	}
	if (t == TOKEN_ERROR)
		return -1;
	entry_end(s);
	return 0;
}

enum cred
netrc_search(const char *text, size_t len, const char *name,
    const char *host, const char *user, char **password, struct error *err)
{
	struct search s = {
		.lx = { .p = text, .end = text + len, .name = name, .line = 1 },
		.host = host, .user = user,
	};
	enum cred r;

	*password = NULL;
	dynbuf_init(&s.tok, NETRC_TOKEN_MAX);
	s.tok.secret = true;
	r = search_run(&s, err) < 0 ? CRED_ERROR : CRED_NONE;
	dynbuf_release(&s.tok);
	util_free_secret(s.cur.password);
	if (r == CRED_NONE && (s.found != NULL || s.dflt != NULL)) {
		*password = s.found != NULL ? s.found : s.dflt;
		r = CRED_FOUND;
	}
	if (*password != s.found)
		util_free_secret(s.found);
	if (*password != s.dflt)
		util_free_secret(s.dflt);
	return r;
}

/* ---------------------------------------------------------------- files */

char *
netrc_path(void)
{
	const char *env = getenv("NETRC");
	const char *home;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	home = util_home();
	if (home == NULL || *home == '\0')
		return NULL;
	return xasprintf("%s/.netrc", home);
}

/* Read the whole open file into b (cap NETRC_FILE_MAX). */
static int
read_all(int fd, const char *path, struct dynbuf *b, struct error *err)
{
	bool overflow;

	if (dynbuf_read_fd(b, fd, &overflow) < 0)
		return error_set(err, ERR_CONFIG, "cannot read '%s': %s", path,
		    strerror(errno));
	if (overflow)
		return error_set(err, ERR_CONFIG, "'%s' is larger than %d "
		    "bytes", path, NETRC_FILE_MAX);
	return 0;
}

/* Open path (a regular file) into *fd, st; CRED_NONE: no such file. */
static enum cred
open_checked(const char *path, int *fd, struct stat *st, struct error *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (*fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return CRED_NONE;
	if (*fd < 0) {
		error_set(err, ERR_CONFIG, "cannot open '%s': %s", path,
		    strerror(errno));
		return CRED_ERROR;
	}
	if (fstat(*fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(*fd);
		error_set(err, ERR_CONFIG, "'%s' is not a regular file", path);
		return CRED_ERROR;
	}
	return CRED_FOUND;
}

/* The password was found in a file others can read, or another user's. */
static int
not_private(const char *path, const char *host, const char *user,
    const struct stat *st, struct error *err)
{
	if (util_perm_secret(st) == UTIL_PERM_OWNER)
		return error_set(err, ERR_CONFIG, "'%s' holds the password "
		    "for '%s' at '%s' but is owned by another user (uid %ld); "
		    "it must be owned by you", path, user, host,
		    (long)st->st_uid);
	return error_set(err, ERR_CONFIG, "'%s' holds the password for '%s' "
	    "at '%s' but other users can read it; run 'chmod 600 %s'", path,
	    user, host, path);
}

enum cred
netrc_lookup(const char *path, const char *host, const char *user,
    char **password, struct error *err)
{
	struct dynbuf b;
	struct stat st;
	enum cred r;
	int fd;

	*password = NULL;
	r = open_checked(path, &fd, &st, err);
	if (r != CRED_FOUND)
		return r;
	dynbuf_init(&b, NETRC_FILE_MAX);
	b.secret = true;
	(void)dynbuf_add(&b, "", 0);	/* b.data is never NULL */
	r = read_all(fd, path, &b, err) < 0 ? CRED_ERROR :
	    netrc_search(b.data, b.len, path, host, user, password, err);
	close(fd);
	dynbuf_release(&b);
	if (r == CRED_FOUND && util_perm_secret(&st) != UTIL_PERM_OK) {
		util_free_secret(*password);
		*password = NULL;
		not_private(path, host, user, &st, err);
		return CRED_ERROR;
	}
	return r;
}
