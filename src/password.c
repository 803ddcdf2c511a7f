/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * password.c -- see password.h. The sources are tried in the order of
 * password_sources[]; each one finds the password (CRED_FOUND), has none
 * for the account (CRED_NONE: it says why in a short note, the next one is
 * tried) or fails (CRED_ERROR, stop: a broken passwordeval must not
 * silently fall through to a prompt). The notes make the "no password"
 * message.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "keyring.h"
#include "log.h"
#include "netrc.h"
#include "password.h"
#include "prompt.h"
#include "shellcmd.h"
#include "util.h"

#define EVAL_OUTPUT_MAX (64 * 1024)	/* passwordeval output kept */
#define NOTE_MAX 192			/* bytes of one "why not" note */

/* Why a source had nothing, for the "no password" message. */
struct note {
	char text[NOTE_MAX];
};

struct password_source {
	const char *name;	/* for the "no password" message */
	enum cred (*get)(const struct account *a, char **out,
	    struct note *why, struct error *err);
};

static enum cred source_config(const struct account *, char **,
    struct note *, struct error *);
static enum cred source_eval(const struct account *, char **,
    struct note *, struct error *);
static enum cred source_keyring(const struct account *, char **,
    struct note *, struct error *);
static enum cred source_netrc(const struct account *, char **,
    struct note *, struct error *);
static enum cred source_prompt(const struct account *, char **,
    struct note *, struct error *);

static const struct password_source password_sources[] = {
	{ "password", source_config },
	{ "passwordeval", source_eval },
	{ "keyring", source_keyring },
	{ "netrc", source_netrc },
	{ "prompt", source_prompt },
};

static void __attribute__((format(printf, 2, 3)))
note_set(struct note *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->text, sizeof(n->text), fmt, ap);
	va_end(ap);
}

/* The account's user (NULL when none is set). */
static const char *
account_user(const struct account *a)
{
	if (a->user != NULL)
		return a->user;
	return a->conf != NULL ? a->conf->user : NULL;
}

/* ---------------------------------------------------------------- config */

static enum cred
source_config(const struct account *a, char **out, struct note *why,
    struct error *err)
{
	if (a->conf == NULL || a->conf->password == NULL) {
		note_set(why, "not set");
		return CRED_NONE;
	}
	*out = xstrdup(a->conf->password);
	return CRED_FOUND;
}

/* ---------------------------------------------------------- passwordeval */

/* What the exit status of the command means here: 0 or ERR_AUTH. */
static int
eval_status(const char *what, const struct shellcmd_result *res,
    struct error *err)
{
	if (res->signaled)
		return error_set(err, ERR_AUTH, "%s was killed by signal %d",
		    what, res->status);
	if (res->status != 0)
		return error_set(err, ERR_AUTH, "%s exited with status %d%s",
		    what, res->status, res->status == 127 ?
		    " (command not found?)" : "");
	return 0;
}

int
password_eval(const struct account *a, const char *key, const char *cmd,
    const char *noun, char **out, struct error *err)
{
	char what[256];
	struct shellcmd_result res;
	struct dynbuf b;
	size_t len;
	int r = 0;

	*out = NULL;
	snprintf(what, sizeof(what), "%s for account '%s'", key, a->name);
	dynbuf_init(&b, EVAL_OUTPUT_MAX);
	b.secret = true;
	if (shellcmd_run(what, cmd, a->timeout_ms, &b, &res, err) < 0 ||
	    eval_status(what, &res, err) < 0) {
		dynbuf_release(&b);
		return -1;
	}
	len = b.data != NULL ? strcspn(b.data, "\n") : 0;
	if (res.overflow && len == b.len)
		r = error_set(err, ERR_AUTH, "%s printed a first line longer "
		    "than %d bytes", what, EVAL_OUTPUT_MAX);
	while (len > 0 && b.data[len - 1] == '\r')
		len--;
	if (r == 0 && len == 0)
		r = error_set(err, ERR_AUTH, "%s printed no %s", what, noun);
	if (r == 0)
		*out = xstrndup(b.data, len);
	dynbuf_release(&b);
	return r;
}

static enum cred
source_eval(const struct account *a, char **out, struct note *why,
    struct error *err)
{
	if (a->conf == NULL || a->conf->passwordeval == NULL) {
		note_set(why, "not set");
		return CRED_NONE;
	}
	if (password_eval(a, "passwordeval", a->conf->passwordeval,
	    "password", out, err) < 0)
		return CRED_ERROR;
	return CRED_FOUND;
}

/* -------------------------------------------------------------- keyring */

static enum cred
source_keyring(const struct account *a, char **out, struct note *why,
    struct error *err)
{
	const char *user = account_user(a);

	if (user == NULL) {
		note_set(why, "no 'user' to look up");
		return CRED_NONE;
	}
	return keyring_lookup(a->host, KEYRING_SMTP, user, out, why->text,
	    sizeof(why->text));
}

/* ---------------------------------------------------------------- netrc */

static enum cred
source_netrc(const struct account *a, char **out, struct note *why,
    struct error *err)
{
	const char *user = account_user(a);
	char *path = netrc_path();
	enum cred r;

	if (path == NULL) {
		note_set(why, "no home directory");
		return CRED_NONE;
	}
	if (user == NULL) {
		note_set(why, "no 'user' to look up");
		free(path);
		return CRED_NONE;
	}
	r = netrc_lookup(path, a->host, user, out, err);
	if (r == CRED_NONE && access(path, F_OK) < 0)
		note_set(why, "%s: %s", path, strerror(errno));
	else if (r == CRED_NONE)
		note_set(why, "no 'machine %s login %s' in %s", a->host, user,
		    path);
	if (r == CRED_FOUND)
		log_verbose("password for '%s' at '%s' found in %s", user,
		    a->host, path);
	free(path);
	return r;
}

/* --------------------------------------------------------------- prompt */

static enum cred
source_prompt(const struct account *a, char **out, struct note *why,
    struct error *err)
{
	const char *user = account_user(a);
	char prompt[256];

	snprintf(prompt, sizeof(prompt), "password for %s at %s: ",
	    user != NULL ? user : "(no user)", a->host);
	return prompt_tty(prompt, out, why->text, sizeof(why->text), err);
}

/* ---------------------------------------------------------------- API */

/* How the keyring could help, for the "no password" message. */
static const char *
store_hint(const struct account *a, char *buf, size_t size)
{
#ifdef HAVE_LIBSECRET
	snprintf(buf, size, ", or run 'yubin --store-password -a %s' in your "
	    "desktop session", a->name);
#else
	snprintf(buf, size, "%s", "");
#endif
	return buf;
}

static int
nothing_found(const struct account *a, const struct note *why,
    struct error *err)
{
	const char *user = account_user(a);
	const char *file = a->conf != NULL ? a->conf->file : NULL;
	char tried[ERROR_MSG_MAX] = "", hint[160];
	size_t used = 0;

	for (size_t i = 0; i < ARRAY_SIZE(password_sources); i++) {
		int n = snprintf(tried + used, sizeof(tried) - used,
		    "\n  %s: %s", password_sources[i].name, why[i].text);

		if (n < 0 || (size_t)n >= sizeof(tried) - used)
			break;
		used += (size_t)n;
	}
	return error_set(err, ERR_AUTH, "no password for user '%s' at '%s' "
	    "(account '%s'); tried:%s\nset 'passwordeval' (works from cron "
	    "too) or 'password' in %s%s", user != NULL ? user : "",
	    a->host != NULL ? a->host : "", a->name, tried,
	    file != NULL ? file : "the configuration file",
	    store_hint(a, hint, sizeof(hint)));
}

int
password_get(const struct account *a, char **out, struct error *err)
{
	struct note why[ARRAY_SIZE(password_sources)];

	*out = NULL;
	memset(why, 0, sizeof(why));
	for (size_t i = 0; i < ARRAY_SIZE(password_sources); i++) {
		enum cred r = password_sources[i].get(a, out, &why[i], err);

		if (r == CRED_ERROR)
			return -1;
		if (r == CRED_FOUND) {
			log_verbose("password from %s",
			    password_sources[i].name);
			return 0;
		}
	}
	return nothing_found(a, why, err);
}

/* ------------------------------------------------- store and forget */

static int
need_user(const struct account *a, struct error *err)
{
	const char *user = account_user(a);

	if (user == NULL || *user == '\0')
		return error_set(err, ERR_CONFIG, "account '%s' has no 'user', "
		    "so there is no password to store or forget", a->name);
	return 0;
}

/* Twice on the terminal, or the first line of stdin. */
static int
read_new_password(const struct account *a, char **out, struct error *err)
{
	char prompt[256], why[NOTE_MAX];
	char *again = NULL;
	enum cred r;

	if (!isatty(STDIN_FILENO))
		return prompt_read_line(STDIN_FILENO, out, err);
	snprintf(prompt, sizeof(prompt), "password for %s at %s: ",
	    account_user(a), a->host);
	r = prompt_tty(prompt, out, why, sizeof(why), err);
	if (r == CRED_FOUND)
		r = prompt_tty("the same password again: ", &again, why,
		    sizeof(why), err);
	if (r == CRED_NONE) {
		error_set(err, ERR_USAGE, "cannot ask for the password: %s; "
		    "give it on standard input", why);
		r = CRED_ERROR;
	}
	if (r == CRED_FOUND && strcmp(*out, again) != 0) {
		error_set(err, ERR_DATAERR, "the two passwords differ; "
		    "nothing was stored");
		r = CRED_ERROR;
	}
	util_free_secret(again);
	if (r == CRED_ERROR) {
		util_free_secret(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
password_store(const struct account *a, struct error *err)
{
	char *pw = NULL;
	int r;

	if (need_user(a, err) < 0 || keyring_check(err) < 0)
		return -1;
	if (read_new_password(a, &pw, err) < 0)
		return -1;
	r = keyring_store(a->host, KEYRING_SMTP, account_user(a), pw, err);
	util_free_secret(pw);
	if (r == 0)
		log_verbose("password for '%s' at '%s' stored in the keyring",
		    account_user(a), a->host);
	return r;
}

int
password_forget(const struct account *a, struct error *err)
{
	enum cred r;

	if (need_user(a, err) < 0)
		return -1;
	r = keyring_forget(a->host, KEYRING_SMTP, account_user(a), err);
	if (r == CRED_NONE)
		log_warn("the keyring holds no password for '%s' at '%s'",
		    account_user(a), a->host);
	else if (r == CRED_FOUND)
		log_verbose("password for '%s' at '%s' removed from the "
		    "keyring", account_user(a), a->host);
	return r == CRED_ERROR ? -1 : 0;
}
