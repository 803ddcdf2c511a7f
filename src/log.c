/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * log.c -- see log.h. Nothing written here carries a raw control byte: the
 * trace escapes them, the other messages and the log file replace them.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_PROTO_MAX 1000		/* bytes of one trace line shown */
#define LOG_MSG_MAX 4096		/* log_verbose / log_warn text */
#define LOG_LINE_MAX (4 * 1024 * 1024)	/* one log file line */

static int log_level;
static struct timespec log_t0;	/* when the level was set: time zero */

void
log_set_verbose(int level)
{
	log_level = level;
	clock_gettime(CLOCK_MONOTONIC, &log_t0);
}

/*
 * At -v -v every trace line and note starts with the time since yubin
 * started, "[  52.3 ms] ", so the trace shows where the time goes (each
 * round trip is a "waiting for the server" note and the reply after it).
 */
static void
log_stamp(char *buf, size_t size)
{
	struct timespec now;
	double ms;

	buf[0] = '\0';
	if (log_level < 2)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - log_t0.tv_sec) * 1000.0 +
	    (double)(now.tv_nsec - log_t0.tv_nsec) / 1e6;
	snprintf(buf, size, "[%7.1f ms] ", ms);
}

int
log_get_verbose(void)
{
	return log_level;
}

/* ---------------------------------------------------------------- stderr */

/* One trace line: "yubin: --> " + line, escaped, cut at LOG_PROTO_MAX. */
static void
log_proto_line(char dir, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char buf[48 + 4 * LOG_PROTO_MAX + 8], stamp[32];
	size_t o, i, n = len < LOG_PROTO_MAX ? len : LOG_PROTO_MAX;

	log_stamp(stamp, sizeof(stamp));
	o = (size_t)snprintf(buf, sizeof(buf), "yubin: %s%s ", stamp,
	    dir == '>' ? "-->" : "<--");
	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			buf[o++] = (char)s[i];
		} else if (s[i] == '\r' || s[i] == '\n') {
			buf[o++] = '\\';
			buf[o++] = s[i] == '\r' ? 'r' : 'n';
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[s[i] >> 4];
			buf[o++] = hex[s[i] & 0xf];
		}
	}
	if (n < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\n';
	(void)!fwrite(buf, 1, o, stderr);
}

/*
 * Lines normally come without their CRLF; if the caller hands over several
 * CRLF-terminated commands (a pipelined batch), each gets its own trace
 * line and the line ends themselves are not shown. A CR anywhere else is
 * shown as "\r", other control bytes and non-ASCII bytes as "\xNN".
 */
void
log_proto(char dir, const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line, *nl;
	size_t n, shown;

	if (log_level < 1)
		return;
	do {
		nl = len > 0 ? memchr(s, '\n', len) : NULL;
		n = nl != NULL ? (size_t)(nl - s) : len;
		shown = n > 0 && s[n - 1] == '\r' ? n - 1 : n;
		log_proto_line(dir, s, shown);
		if (nl == NULL)
			break;
		s += n + 1;
		len -= n + 1;
	} while (len > 0);
}

/* Control bytes (C0, DEL, C1) escaped by util_show(), the one sanitiser. */
static void __attribute__((format(printf, 2, 0)))
log_vprint(const char *prefix, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], shown[LOG_MSG_MAX * 4 + 8];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "yubin: %s%s\n", prefix, util_show(msg, sizeof(msg),
	    false, shown, sizeof(shown)));
}

void
log_verbose(const char *fmt, ...)
{
	char stamp[32];
	va_list ap;

	if (log_level < 1)
		return;
	log_stamp(stamp, sizeof(stamp));
	va_start(ap, fmt);
	log_vprint(stamp, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint("warning: ", fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- logfile */

static const struct {
	int code;
	const char *name;
} log_exits[] = {
	{ EX_OK, "EX_OK" },
	{ EX_USAGE, "EX_USAGE" },
	{ EX_DATAERR, "EX_DATAERR" },
	{ EX_NOINPUT, "EX_NOINPUT" },
	{ EX_NOUSER, "EX_NOUSER" },
	{ EX_NOHOST, "EX_NOHOST" },
	{ EX_UNAVAILABLE, "EX_UNAVAILABLE" },
	{ EX_SOFTWARE, "EX_SOFTWARE" },
	{ EX_OSERR, "EX_OSERR" },
	{ EX_OSFILE, "EX_OSFILE" },
	{ EX_CANTCREAT, "EX_CANTCREAT" },
	{ EX_IOERR, "EX_IOERR" },
	{ EX_TEMPFAIL, "EX_TEMPFAIL" },
	{ EX_PROTOCOL, "EX_PROTOCOL" },
	{ EX_NOPERM, "EX_NOPERM" },
	{ EX_CONFIG, "EX_CONFIG" },
};

/* Whether a value must be written 'quoted' to stay one field. */
static bool
log_needs_quotes(const char *v)
{
	return *v == '\0' || strpbrk(v, " \t'\\") != NULL;
}

/*
 * Append " key=value": control bytes become '?'; quoted (when asked or
 * needed) with ' and \ escaped by a backslash.
 */
static int
log_field(struct dynbuf *b, const char *key, const char *v, bool quote)
{
	int r = 0;

	quote = quote || log_needs_quotes(v);
	r |= dynbuf_printf(b, " %s=%s", key, quote ? "'" : "");
	for (; *v != '\0' && r == 0; v++) {
		char c = (unsigned char)*v < 0x20 || *v == 0x7f ? '?' : *v;

		if (quote && (c == '\'' || c == '\\'))
			r |= dynbuf_add(b, "\\", 1);
		r |= dynbuf_add(b, &c, 1);
	}
	if (quote)
		r |= dynbuf_add(b, "'", 1);
	return r;
}

static int
log_rcpts(struct dynbuf *b, const struct log_record *r)
{
	struct dynbuf list;
	int rc = 0;

	if (r->nrcpt == 0)
		return 0;
	dynbuf_init(&list, LOG_LINE_MAX);
	for (size_t i = 0; i < r->nrcpt && rc == 0; i++) {
		if (i > 0)
			rc |= dynbuf_add(&list, ",", 1);
		rc |= dynbuf_addstr(&list, r->rcpt[i]);
	}
	if (rc == 0)
		rc = log_field(b, "recipients", list.data, false);
	dynbuf_release(&list);
	return rc;
}

/* "smtpstatus=250 smtpmsg='250 2.0.0 Ok'" from the final reply. */
static int
log_reply(struct dynbuf *b, const char *reply)
{
	int r = 0;

	if (reply == NULL || *reply == '\0')
		return 0;
	if (strspn(reply, "0123456789") >= 3)
		r |= dynbuf_printf(b, " smtpstatus=%.3s", reply);
	return r | log_field(b, "smtpmsg", reply, true);
}

static const char *
log_exit_name(int code, char *buf, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_exits); i++)
		if (log_exits[i].code == code)
			return log_exits[i].name;
	snprintf(buf, size, "%d", code);
	return buf;
}

/* The time as logfile_time_format says (msmtp's default format). */
static int
log_time(struct dynbuf *b, const char *format)
{
	char when[256] = "";
	time_t now = time(NULL);
	struct tm tm;

	if (format == NULL || *format == '\0')
		format = "%b %d %H:%M:%S";
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	/* the user's logfile_time_format, as msmtp takes it */
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), format, &tm) == 0)
		util_strlcpy(when, "??? ?? ??:??:??", sizeof(when));
#pragma GCC diagnostic pop
	return dynbuf_addstr(b, when);
}

/* msmtp's fields, in msmtp's order, then yubin's; no time, no newline. */
static int
log_build(struct dynbuf *b, const struct log_record *r)
{
	bool tls = r->tls != NULL && strcmp(r->tls, "none") != 0;
	bool auth = r->mech != NULL && *r->mech != '\0';
	char num[16];
	int rc = 0;

	if (r->host != NULL)
		rc |= log_field(b, "host", r->host, false);
	rc |= log_field(b, "tls", tls ? "on" : "off", false);
	rc |= log_field(b, "auth", auth ? "on" : "off", false);
	if (auth && r->user != NULL)
		rc |= log_field(b, "user", r->user, false);
	if (r->from != NULL)
		rc |= log_field(b, "from", r->from, false);
	rc |= log_rcpts(b, r);
	if (r->exitcode == EX_OK)
		rc |= dynbuf_printf(b, " mailsize=%lld", (long long)r->size);
	rc |= log_reply(b, r->reply);
	if (r->error != NULL && *r->error != '\0')
		rc |= log_field(b, "errormsg", r->error, true);
	rc |= dynbuf_printf(b, " exitcode=%s",
	    log_exit_name(r->exitcode, num, sizeof(num)));
	if (r->account != NULL)
		rc |= log_field(b, "account", r->account, false);
	if (tls)
		rc |= log_field(b, "tlsinfo", r->tls, false);
	if (auth)
		rc |= log_field(b, "authmech", r->mech, false);
	return rc | dynbuf_printf(b, " size=%lld", (long long)r->size);
}

/*
 * One write(2) on an O_APPEND descriptor: lines never interleave. "-" is
 * standard output.
 */
static int
log_append(const char *path, const char *p, size_t n)
{
	bool out = strcmp(path, "-") == 0;
	ssize_t w;
	int fd, saved;

	fd = out ? dup(STDOUT_FILENO) : open(path, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	do
		w = write(fd, p, n);
	while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w != n) {
		errno = ENOSPC;	/* a short write to a file: disk full */
		w = -1;
	}
	saved = errno;
	if (close(fd) < 0 && w >= 0)
		return -1;
	errno = saved;
	return w < 0 ? -1 : 0;
}

int
log_message(const char *path, const struct log_record *r)
{
	struct dynbuf b;
	int rc;

	if (path == NULL || r == NULL) {
		errno = EINVAL;
		return -1;
	}
	dynbuf_init(&b, LOG_LINE_MAX);
	if (log_time(&b, r->time_format) < 0 || log_build(&b, r) < 0 ||
	    dynbuf_add(&b, "\n", 1) < 0) {
		dynbuf_release(&b);
		errno = EMSGSIZE;
		return -1;
	}
	rc = log_append(path, b.data, b.len);
	dynbuf_release(&b);
	return rc;
}

static const struct {
	const char *name;
	int facility;
} log_facilities[] = {
	{ "LOG_USER", LOG_USER }, { "LOG_MAIL", LOG_MAIL },
	{ "LOG_LOCAL0", LOG_LOCAL0 }, { "LOG_LOCAL1", LOG_LOCAL1 },
	{ "LOG_LOCAL2", LOG_LOCAL2 }, { "LOG_LOCAL3", LOG_LOCAL3 },
	{ "LOG_LOCAL4", LOG_LOCAL4 }, { "LOG_LOCAL5", LOG_LOCAL5 },
	{ "LOG_LOCAL6", LOG_LOCAL6 }, { "LOG_LOCAL7", LOG_LOCAL7 },
};

int
log_syslog(const char *facility, const struct log_record *r)
{
	struct dynbuf b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(log_facilities); i++)
		if (facility != NULL &&
		    strcmp(facility, log_facilities[i].name) == 0)
			break;
	if (r == NULL || i == ARRAY_SIZE(log_facilities)) {
		errno = EINVAL;
		return -1;
	}
	dynbuf_init(&b, LOG_LINE_MAX);
	if (log_build(&b, r) < 0) {
		dynbuf_release(&b);
		errno = EMSGSIZE;
		return -1;
	}
	openlog("yubin", 0, log_facilities[i].facility);
	syslog(r->exitcode == EX_OK ? LOG_INFO : LOG_ERR, "%s", b.data + 1);
	closelog();
	dynbuf_release(&b);
	return 0;
}
