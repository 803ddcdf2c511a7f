/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dsn.c -- see dsn.h. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "error.h"
#include "log.h"
#include "mailenv.h"
#include "util.h"

int
dsn_notify_parse(const char *in, char *out, size_t size)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	char buf[DSN_NOTIFY_MAX] = "";
	const char *p = in;
	size_t n, i;

	if (strcasecmp(in, "never") == 0)
		return util_strlcpy(out, "NEVER", size) < size ? 0 : -1;
	do {
		n = strcspn(p, ",");
		for (i = 0; i < ARRAY_SIZE(words); i++)
			if (n == strlen(words[i]) &&
			    strncasecmp(p, words[i], n) == 0)
				break;
		if (i == ARRAY_SIZE(words) || strstr(buf, words[i]) != NULL)
			return -1;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    buf[0] != '\0' ? "," : "", words[i]);
		p += n;
	} while (*p++ == ',');
	return util_strlcpy(out, buf, size) < size ? 0 : -1;
}

const char *
dsn_return_parse(const char *in)
{
	if (strcasecmp(in, "full") == 0)
		return "FULL";
	if (strcasecmp(in, "hdrs") == 0 || strcasecmp(in, "headers") == 0)
		return "HDRS";
	return NULL;
}

bool
dsn_envid_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DSN_ENVID_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (*s < '!' || *s > '~')
			return false;
	return true;
}

static int
dsn_invalid(const char *what, const char *v, struct error *err)
{
	char buf[64 * 4 + 8];

	return error_set(err, ERR_DATAERR, "invalid DSN %s value '%s'", what,
	    util_show(v, 64, true, buf, sizeof(buf)));
}

int
dsn_check(const char *notify, const char *ret, const char *envid,
    struct error *err)
{
	char canon[DSN_NOTIFY_MAX];
	const char *r;

	if (notify != NULL && (dsn_notify_parse(notify, canon,
	    sizeof(canon)) < 0 || strcmp(canon, notify) != 0))
		return dsn_invalid("NOTIFY", notify, err);
	if (ret != NULL && ((r = dsn_return_parse(ret)) == NULL ||
	    strcmp(r, ret) != 0))
		return dsn_invalid("RET", ret, err);
	if (envid != NULL && !dsn_envid_valid(envid))
		return dsn_invalid("ENVID", envid, err);
	return 0;
}

int
dsn_unsupported(const struct envelope *env, bool send_without,
    struct error *err)
{
	char what[DSN_NOTIFY_MAX + 32];

	if (env->dsn_notify == NULL && env->dsn_return == NULL &&
	    env->dsn_envid == NULL)
		return 0;
	snprintf(what, sizeof(what), "%s%s%s%s%s", env->dsn_notify != NULL ?
	    " NOTIFY=" : "", env->dsn_notify != NULL ? env->dsn_notify : "",
	    env->dsn_return != NULL ? " RET=" : "", env->dsn_return != NULL ?
	    env->dsn_return : "", env->dsn_envid != NULL ? " ENVID" : "");
	if (!send_without)
		return error_set(err, ERR_UNAVAILABLE, "the server does not "
		    "support DSN, which the message asks for (%s); set "
		    "'dsn_unsupported send' to send it without", what + 1);
	log_warn("the server does not support DSN: the message goes without "
	    "what it asks for (%s)", what + 1);
	return 0;
}
