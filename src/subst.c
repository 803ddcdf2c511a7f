/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * subst.c -- see subst.h. Each value is found when a pattern asks for it,
 * so a file without %C makes no DNS query and one without %M never reads
 * the mailname file.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "subst.h"
#include "util.h"

#define SUBST_MAILNAME MSMTP_SYSCONFDIR "/mailname"
#define SUBST_VALUE_MAX 256

/* Copy v into out (size bytes); -1 when it does not fit. */
static int
put(char *out, size_t size, const char *v)
{
	return util_strlcpy(out, v, size) < size ? 0 : -1;
}

int
subst_user(char *out, size_t size, struct error *err)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u == NULL || *u == '\0')
		u = getenv("LOGNAME");
	if ((u == NULL || *u == '\0') && (pw = getpwuid(geteuid())) != NULL)
		u = pw->pw_name;
	if (u == NULL || *u == '\0')
		return error_set(err, ERR_CONFIG, "cannot tell the user name "
		    "for %%U: no USER, no LOGNAME, no passwd entry");
	if (put(out, size, u) < 0)
		return error_set(err, ERR_CONFIG, "user name too long for %%U");
	return 0;
}

static int
host(char *out, size_t size, struct error *err)
{
	const char *h = getenv("HOSTNAME");

	if (h != NULL && *h != '\0')
		return put(out, size, h) < 0 ? error_set(err, ERR_CONFIG,
		    "HOSTNAME too long for %%H") : 0;
	if (gethostname(out, size) < 0 || memchr(out, '\0', size) == NULL)
		return error_set(err, ERR_CONFIG, "cannot get the host name "
		    "for %%H: %s", strerror(errno));
	return 0;
}

/* %C: the canonical name of %H, else %H itself (msmtp). */
static int
canonical(char *out, size_t size, struct error *err)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME,
	    .ai_socktype = SOCK_STREAM }, *res = NULL;

	if (host(out, size, err) < 0)
		return -1;
	if (getaddrinfo(out, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && *res->ai_canonname != '\0')
		(void)put(out, size, res->ai_canonname);	/* else %H */
	if (res != NULL)
		freeaddrinfo(res);
	return 0;
}

/* %M: the first line of the mailname file, which must not be empty. */
static int
mailname(char *out, size_t size, struct error *err)
{
	FILE *f = fopen(SUBST_MAILNAME, "re");
	int e;

	if (f == NULL)
		return error_set(err, ERR_CONFIG, "cannot read '%s' (for %%M): "
		    "%s", SUBST_MAILNAME, strerror(errno));
	if (fgets(out, (int)size, f) == NULL)
		out[0] = '\0';
	e = ferror(f) ? errno : 0;
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0')
		return error_set(err, ERR_CONFIG, "cannot read '%s' (for %%M): "
		    "%s", SUBST_MAILNAME, e != 0 ? strerror(e) : "it is empty");
	return 0;
}

static int
value(char p, char *out, size_t size, struct error *err)
{
	switch (p) {
	case 'U':
		return subst_user(out, size, err);
	case 'H':
		return host(out, size, err);
	case 'C':
		return canonical(out, size, err);
	default:
		return mailname(out, size, err);
	}
}

int
subst_has(const char *in, const char *which)
{
	for (const char *p = strchr(in, '%'); p != NULL; p = strchr(p + 1, '%'))
		if (p[1] != '\0' && strchr(which, p[1]) != NULL)
			return 1;
	return 0;
}

int
subst_expand(const char *in, const char *which, char *out, size_t size,
    struct error *err)
{
	char v[SUBST_VALUE_MAX];
	struct dynbuf b;
	int r = 0;

	dynbuf_init(&b, size > 0 ? size - 1 : 0);
	for (; *in != '\0' && r == 0; in++) {
		if (in[0] != '%' || in[1] == '\0' ||
		    strchr(which, in[1]) == NULL)
			r = dynbuf_add(&b, in, 1);
		else if (value(*++in, v, sizeof(v), err) < 0)
			break;
		else
			r = dynbuf_addstr(&b, v);
	}
	if (*in == '\0' && r == 0)
		(void)put(out, size, b.data != NULL ? b.data : "");
	else if (r < 0)
		error_set(err, ERR_CONFIG, "longer than %zu bytes after the "
		    "substitutions", size > 0 ? size - 1 : 0);
	dynbuf_release(&b);
	return *in == '\0' && r == 0 ? 0 : -1;
}
