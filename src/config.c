/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config.c -- see config.h: which files are read, in which order, and
 * whether they may be trusted (their owner and mode); the syntax of one file
 * is confparse.c's business, what each key means confkey.c's.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffield.h"
#include "config.h"
#include "confkey.h"
#include "confparse.h"
#include "error.h"
#include "util.h"

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
		confparse_free(a);
	}
	free(c->path);
	free(c->system_path);
	free(c->default_name);
	config_init(c);
}

int
config_parse(struct config *c, FILE *f, const char *name, struct error *err)
{
	struct confparse_src src = { .name = name };

	if (c->path == NULL)
		c->path = xstrdup(name);
	if (confparse_stream(c, f, &src, err) < 0) {
		config_release(c);
		return -1;
	}
	return 0;
}

struct account_conf *
config_find(const struct config *c, const char *name)
{
	return confparse_find(c->accounts, c->default_name, name);
}

/* A password in a file others can read, or that someone else owns. */
static int
check_private(const char *path, const struct stat *st, struct error *err)
{
	switch (util_perm_secret(st)) {
	case UTIL_PERM_OK:
		return 0;
	case UTIL_PERM_OWNER:
		return error_set(err, ERR_CONFIG, "%s: contains a password but "
		    "is owned by another user (uid %ld); it must be owned by "
		    "you", path, (long)st->st_uid);
	default:
		return error_set(err, ERR_CONFIG, "%s: contains a password but "
		    "is readable by others; run: chmod 600 '%s'", path, path);
	}
}

/*
 * The key that makes yubin run a command from the accounts of this file
 * (passwordeval, oauth2_client_secret_eval), or NULL. Every key that runs
 * a command belongs here (eval is checked when its line is read).
 */
static const char *
runs_commands(const struct account_conf *a)
{
	for (; a != NULL; a = a->next) {
		if (a->passwordeval != NULL)
			return "passwordeval";
		if (a->oauth2_client_secret_eval != NULL)
			return "oauth2_client_secret_eval";
	}
	return NULL;
}

/* Commands (key) from a file someone else could have written: refused. */
static int
check_commands(const char *path, const char *key, const struct stat *st,
    struct error *err)
{
	switch (util_perm_commands(st)) {
	case UTIL_PERM_OK:
		return 0;
	case UTIL_PERM_OWNER:
		return error_set(err, ERR_CONFIG, "%s: can run commands (%s) "
		    "but is owned by another user (uid %ld); it must be owned "
		    "by you or root", path, key, (long)st->st_uid);
	default:
		return error_set(err, ERR_CONFIG, "%s: can run commands (%s) "
		    "but others may write to it; run: chmod go-w '%s'",
		    path, key, path);
	}
}

/* The file being read, for its eval lines (confparse_src.may_run). */
struct loading {
	const char *path;
	struct stat st;
};

static int
may_run_eval(void *arg, struct error *err)
{
	const struct loading *l = arg;

	return check_commands(l->path, "eval", &l->st, err);
}

static int
open_stream(int fd, const char *path, struct stat *st, FILE **f,
    struct error *err)
{
	int rc = 0;

	if (fstat(fd, st) < 0)
		rc = error_set(err, ERR_OSERR, "cannot stat '%s': %s", path,
		    strerror(errno));
	else if (S_ISDIR(st->st_mode))
		rc = error_set(err, ERR_CONFIG, "cannot read '%s': %s", path,
		    strerror(EISDIR));
	else if ((*f = fdopen(fd, "r")) == NULL)
		rc = error_set(err, ERR_OSERR, "cannot read '%s': %s", path,
		    strerror(errno));
	if (rc < 0)
		close(fd);
	return rc;
}

/*
 * Parse the file open on fd into c, after the accounts c already has;
 * checks its owner and mode against what it holds. Closes fd.
 */
static int
load_fd(struct config *c, int fd, const char *path, struct error *err)
{
	struct loading l = { .path = path };
	struct confparse_src src = { .name = path, .may_run = may_run_eval,
	    .arg = &l };
	struct account_conf **first = &c->accounts;
	FILE *f;
	int rc;

	if (open_stream(fd, path, &l.st, &f, err) < 0)
		return -1;
	while (*first != NULL)
		first = &(*first)->next;
	rc = confparse_stream(c, f, &src, err);
	fclose(f);
	c->private_file = (l.st.st_mode & 077) == 0;
	if (rc == 0 && src.password)
		rc = check_private(path, &l.st, err);
	if (rc == 0 && runs_commands(*first) != NULL)
		rc = check_commands(path, runs_commands(*first), &l.st, err);
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

/*
 * The first of paths[0..n) that exists, loaded into c (c->path). 0 when
 * none exists.
 */
static int
load_first(struct config *c, char *const *paths, size_t n,
    struct error *err)
{
	int rc = 0, fd = -1;
	size_t i;

	for (i = 0; i < n && rc == 0; i++)
		rc = open_config(paths[i], false, &fd, err);
	if (rc <= 0)
		return rc;
	free(c->path);
	c->path = xstrdup(paths[i - 1]);
	return load_fd(c, fd, c->path, err) < 0 ? -1 : 1;
}

/* yubin's own places, in order; free with free(). */
static size_t
yubin_paths(char *paths[3])
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

/* msmtp's user files: ~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config. */
static size_t
msmtp_paths(char *paths[2])
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = util_home();
	size_t n = 0;

	if (home != NULL)
		paths[n++] = xasprintf("%s/.msmtprc", home);
	if (xdg != NULL && xdg[0] == '/')
		paths[n++] = xasprintf("%s/msmtp/config", xdg);
	else if (home != NULL)
		paths[n++] = xasprintf("%s/.config/msmtp/config", home);
	return n;
}

/*
 * The accounts of sys that user does not define (by name) are added to
 * user, after its own; sys is left empty. The default of sys holds when
 * user names none.
 */
static void
merge_system(struct config *user, struct config *sys)
{
	struct account_conf **tail = &user->accounts, *a, *next;

	while (*tail != NULL)
		tail = &(*tail)->next;
	for (a = sys->accounts; a != NULL; a = next) {
		next = a->next;
		a->next = NULL;
		if (config_find(user, a->name) != NULL &&
		    strcmp(config_find(user, a->name)->name, a->name) == 0) {
			confparse_free(a);
			continue;
		}
		*tail = a;
		tail = &a->next;
	}
	sys->accounts = NULL;
	if (user->default_name == NULL && sys->default_name != NULL)
		user->default_name = xstrdup(sys->default_name);
}

int
config_load_msmtp(struct config *c, const char *system_file,
    char *const *user_files, size_t n, struct error *err)
{
	struct config sys;
	int rs, ru, fd;

	config_init(&sys);
	rs = open_config(system_file, false, &fd, err);
	if (rs > 0 && load_fd(&sys, fd, system_file, err) < 0)
		rs = -1;
	ru = rs < 0 ? -1 : load_first(c, user_files, n, err);
	if (rs > 0 && ru >= 0) {
		merge_system(c, &sys);
		if (ru > 0)
			c->system_path = xstrdup(system_file);
		else
			c->path = xstrdup(system_file);
	}
	config_release(&sys);
	if (rs < 0 || ru < 0) {
		config_release(c);
		return -1;
	}
	return rs > 0 || ru > 0;
}

/*
 * msmtp's SMTPSERVER and EMAIL: an account "default" with that host and
 * from, when no account "default" is defined. 1: added; 0: not.
 */
static int
config_env(struct config *c, struct error *err)
{
	const char *host = getenv("SMTPSERVER"), *from = getenv("EMAIL");
	struct confparse_src src = { .name = "SMTPSERVER" };
	char *text;
	FILE *f;
	int rc;

	if (host == NULL || *host == '\0' || config_find(c, "default") != NULL)
		return 0;
	if (from == NULL)
		from = "";
	if (strpbrk(host, " \t\r\n") != NULL || strpbrk(from, "\r\n") != NULL)
		return error_set(err, ERR_CONFIG, "SMTPSERVER must be a plain "
		    "host name, EMAIL a plain address");
	text = xasprintf("account default\nhost %s\n%s%s\n", host,
	    *from != '\0' ? "from " : "", from);
	if ((f = fmemopen(text, strlen(text), "r")) == NULL) {
		free(text);
		return error_set(err, ERR_OSERR, "fmemopen: %s",
		    strerror(errno));
	}
	rc = confparse_stream(c, f, &src, err);
	fclose(f);
	free(text);
	return rc < 0 ? -1 : 1;
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
	    "write one (see 'man yubinrc')", tried.data);
	dynbuf_release(&tried);
	return -1;
}

static void
free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
}

/* yubin's files, else msmtp's, else SMTPSERVER. */
static int
load_default(struct config *c, struct error *err)
{
	char *paths[6];
	size_t n = yubin_paths(paths), m;
	int rc, env = 0;

	if ((rc = load_first(c, paths, n, err)) == 0) {
		m = msmtp_paths(paths + n);
		rc = config_load_msmtp(c, MSMTP_SYSCONFDIR "/msmtprc",
		    paths + n, m, err);
		paths[n + m] = xstrdup(MSMTP_SYSCONFDIR "/msmtprc");
		n += m + 1;
	}
	if (rc >= 0)
		env = config_env(c, err);
	if (rc == 0 && env == 0)
		not_found(paths, n, err);
	free_paths(paths, n);
	if (env < 0 || rc < 0 || (rc == 0 && env == 0)) {
		config_release(c);
		return -1;
	}
	return 0;
}

int
config_load(struct config *c, const char *path, struct error *err)
{
	int fd;

	if (path == NULL)
		return load_default(c, err);
	if (open_config(path, true, &fd, err) < 0)
		return -1;
	free(c->path);
	c->path = xstrdup(path);
	if (load_fd(c, fd, path, err) < 0 || config_env(c, err) < 0) {
		config_release(c);
		return -1;
	}
	return 0;
}

int
config_set(struct config *c, const char *option, const char *key,
    const char *value, struct error *err)
{
	const struct confkey *k = confkey_find(key);
	char what[80];
	struct confkey_ctx kc = { .file = what, .err = err };

	snprintf(what, sizeof(what), "option '%s'", option);
	if (k == NULL)
		return error_set(err, ERR_USAGE, "%s: no key '%s'", what, key);
	for (struct account_conf *a = c->accounts; a != NULL; a = a->next) {
		kc.written = 0;
		if (confkey_set(k, a, value, &kc) < 0)
			return -1;
		a->set |= kc.written;
	}
	return 0;
}

int
config_cmdline(struct config *c, struct error *err)
{
	static const char text[] = "account cmdline\n";
	struct confparse_src src = { .name = "command line" };
	FILE *f = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r");
	int rc;

	if (f == NULL)
		return error_set(err, ERR_OSERR, "fmemopen: %s",
		    strerror(errno));
	rc = confparse_stream(c, f, &src, err);
	fclose(f);
	return rc;
}
