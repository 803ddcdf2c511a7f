/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * error.h -- the error struct every fallible function fills, and the one
 * table that maps an error kind to a sysexits(3) exit code.
 *
 * Pattern (git's "return error()"):
 *	if (connect(...) < 0)
 *		return error_set(err, ERR_TEMP, "cannot connect to '%s': %s",
 *		    host, strerror(errno));
 *
 * err may be NULL in every error_set*() and error_prefix(): the failure
 * is then only returned (-1), for a caller that does not care why (a
 * best-effort QUIT, a cheap check). error_format() needs a real one.
 */
#ifndef YUBIN_ERROR_H
#define YUBIN_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum error_kind {
	ERR_NONE = 0,
	ERR_USAGE,		/* 64 EX_USAGE */
	ERR_DATAERR,		/* 65 EX_DATAERR: bad message/address, 5xx MAIL */
	ERR_NOUSER,		/* 67 EX_NOUSER: 5xx to RCPT */
	ERR_UNAVAILABLE,	/* 69 EX_UNAVAILABLE: other 5xx */
	ERR_SOFTWARE,		/* 70 EX_SOFTWARE: internal error */
	ERR_OSERR,		/* 71 EX_OSERR: a system call failed */
	ERR_CANTCREAT,		/* 73 EX_CANTCREAT: cannot create spool file */
	ERR_IOERR,		/* 74 EX_IOERR: local I/O error */
	ERR_TEMP,		/* 75 EX_TEMPFAIL: 4xx, connect, timeout, lost */
	ERR_PROTOCOL,		/* 76 EX_PROTOCOL: bad reply, TLS, injection */
	ERR_AUTH,		/* 77 EX_NOPERM: authentication failed */
	ERR_CONFIG,		/* 78 EX_CONFIG: configuration error */
	ERR_NOHOST,		/* 68 EX_NOHOST: no such domain (DNS) */
};

#define ERROR_MSG_MAX 1024
#define ERROR_REPLY_MAX 1024

struct error {
	enum error_kind kind;
	char message[ERROR_MSG_MAX];	/* "recipient 'x@y' rejected" */
	char reply[ERROR_REPLY_MAX];	/* server reply verbatim, or "" */
	int reply_code;			/* 0 when no server reply */
	char reply_esc[16];		/* enhanced status code "5.1.1" or "" */
	/*
	 * The server could not be reached: its name did not resolve, no
	 * address took the connection, or it went away (or stayed silent)
	 * before its greeting or during the TLS handshake. Waiting for the
	 * network, not for the server: the queue tries such a message again
	 * at the next flush, without a back-off. error_set() clears it.
	 */
	bool unreachable;
};

void error_init(struct error *err);

/* Fill err (kind + formatted message, clears reply); always returns -1. */
int error_set(struct error *err, enum error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like error_set, the message prefixed with "file:line: " ("file: " when
 * line is 0: "option '--port'" for a value from the command line). */
int error_set_at(struct error *err, enum error_kind kind, const char *file,
    int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int error_vset_at(struct error *err, enum error_kind kind, const char *file,
    int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/*
 * Like error_set, and also records the server's reply: its code, its
 * enhanced status code (or "" / NULL) and its text as the user will see
 * it, already formatted and sanitised (reply_format()). Always returns -1.
 */
int error_set_reply(struct error *err, enum error_kind kind, int code,
    const char *esc, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Prefix context to an existing message: "reading 'x': <old message>". */
int error_prefix(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The sysexits code for a kind (0 for ERR_NONE). */
int error_exit_code(enum error_kind kind);
/* A short name for logs: "tempfail", "auth", ... */
const char *error_kind_name(enum error_kind kind);

/* A timeout as messages say it: "2 s", "1.5 s" (ms > 0); returns buf. */
const char *error_seconds(int ms, char *buf, size_t size);

/* Format "message: reply" into buf (what main prints after "yubin: "). */
void error_format(const struct error *err, char *buf, size_t size);

#endif
