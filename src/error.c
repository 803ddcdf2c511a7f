/* SPDX-License-Identifier: GPL-3.0-or-later */
/* error.c -- see error.h. The one table from error kind to exit code. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "error.h"
#include "util.h"

static const struct {
	enum error_kind kind;
	int code;
	const char *name;
} error_table[] = {
	{ ERR_NONE, EX_OK, "ok" },
	{ ERR_USAGE, EX_USAGE, "usage" },
	{ ERR_DATAERR, EX_DATAERR, "dataerr" },
	{ ERR_NOUSER, EX_NOUSER, "nouser" },
	{ ERR_UNAVAILABLE, EX_UNAVAILABLE, "unavailable" },
	{ ERR_SOFTWARE, EX_SOFTWARE, "software" },
	{ ERR_OSERR, EX_OSERR, "oserr" },
	{ ERR_CANTCREAT, EX_CANTCREAT, "cantcreat" },
	{ ERR_IOERR, EX_IOERR, "ioerr" },
	{ ERR_TEMP, EX_TEMPFAIL, "tempfail" },
	{ ERR_PROTOCOL, EX_PROTOCOL, "protocol" },
	{ ERR_AUTH, EX_NOPERM, "noperm" },
	{ ERR_CONFIG, EX_CONFIG, "config" },
	{ ERR_NOHOST, EX_NOHOST, "nohost" },
};

void
error_init(struct error *err)
{
	memset(err, 0, sizeof(*err));
}

static void __attribute__((format(printf, 3, 0)))
error_vset(struct error *err, enum error_kind kind, const char *fmt,
    va_list ap)
{
	err->kind = kind;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	err->reply[0] = '\0';
	err->reply_code = 0;
	err->reply_esc[0] = '\0';
	err->unreachable = false;
}

int
error_set(struct error *err, enum error_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	error_vset(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int
error_vset_at(struct error *err, enum error_kind kind, const char *file,
    int line, const char *fmt, va_list ap)
{
	char msg[ERROR_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line == 0)		/* not a file: the command line */
		return error_set(err, kind, "%s: %s", file, msg);
	return error_set(err, kind, "%s:%d: %s", file, line, msg);
}

int
error_set_at(struct error *err, enum error_kind kind, const char *file,
    int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_vset_at(err, kind, file, line, fmt, ap);
	va_end(ap);
	return r;
}

int
error_set_reply(struct error *err, enum error_kind kind, int code,
    const char *esc, const char *text, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	error_vset(err, kind, fmt, ap);
	va_end(ap);
	util_strlcpy(err->reply, text != NULL ? text : "", sizeof(err->reply));
	err->reply_code = code;
	util_strlcpy(err->reply_esc, esc != NULL ? esc : "",
	    sizeof(err->reply_esc));
	return -1;
}

int
error_prefix(struct error *err, const char *fmt, ...)
{
	char prefix[ERROR_MSG_MAX], old[ERROR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	util_strlcpy(old, err->message, sizeof(old));
	snprintf(err->message, sizeof(err->message), "%s: %s", prefix, old);
	return -1;
}

int
error_exit_code(enum error_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(error_table); i++)
		if (error_table[i].kind == kind)
			return error_table[i].code;
	return EX_SOFTWARE;
}

const char *
error_kind_name(enum error_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(error_table); i++)
		if (error_table[i].kind == kind)
			return error_table[i].name;
	return "software";
}

void
error_format(const struct error *err, char *buf, size_t size)
{
	if (err->reply[0] != '\0')
		snprintf(buf, size, "%s: %s", err->message, err->reply);
	else
		snprintf(buf, size, "%s", err->message);
}

const char *
error_seconds(int ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%d s", ms / 1000);
	else
		snprintf(buf, size, "%.1f s", ms / 1000.0);
	return buf;
}
