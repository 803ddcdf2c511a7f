/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * reply.h -- pure SMTP reply parser (RFC 5321 4.2, RFC 3463 enhanced status
 * codes, RFC 2034) and EHLO capability parser. No I/O: the transport hands
 * it one line at a time (CRLF already stripped).
 *
 * Hard caps: a line longer than REPLY_LINE_MAX is refused by the transport;
 * more than REPLY_LINES_MAX lines, a code outside 200..599, a code that
 * changes between lines of one reply, or a malformed line -> ERR_PROTOCOL.
 */
#ifndef YUBIN_REPLY_H
#define YUBIN_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define REPLY_LINE_MAX 2048	/* RFC 5321 says 512; be lenient, not naive */
#define REPLY_LINES_MAX 100
#define REPLY_TEXT_MAX 8192

struct reply {
	int code;		/* 200..599 */
	char esc[16];		/* enhanced status code of line 1, "" if none */
	size_t nlines;
	/*
	 * The text of every line after "NNN-" / "NNN " (including any enhanced
	 * status code), lines joined with '\n'. Truncated (not refused) at
	 * REPLY_TEXT_MAX - 1 bytes; always NUL-terminated.
	 */
	char text[REPLY_TEXT_MAX];
	size_t textlen;
};

struct reply_parser {
	struct reply reply;
	bool in_progress;	/* saw a "NNN-" line, waiting for "NNN " */
};

void reply_parser_init(struct reply_parser *p);

/* What one line did to the reply being read. */
enum reply_line {
	REPLY_LINE_BAD = -1,	/* a protocol violation: err (ERR_PROTOCOL)
				   names the problem */
	REPLY_LINE_MORE = 0,	/* more lines are needed */
	REPLY_LINE_DONE = 1,	/* p->reply is complete (valid until the
				   next call) */
};

/*
 * Feed one line (no CR/LF). After DONE or BAD the parser is ready for a
 * new reply.
 */
enum reply_line reply_parser_line(struct reply_parser *p, const char *line,
    size_t len, struct error *err);

/* Code class helpers. */
static inline bool reply_ok(const struct reply *r) { return r->code / 100 == 2; }
static inline bool reply_temp(const struct reply *r) { return r->code / 100 == 4; }
static inline bool reply_perm(const struct reply *r) { return r->code / 100 == 5; }

/*
 * "550 5.1.1 <x@y>: user unknown": code, space, the lines' text joined with
 * a space; control and non-UTF-8-safe bytes replaced by '?', so a hostile
 * server cannot write escape sequences to the user's terminal.
 */
void reply_format(const struct reply *r, char *buf, size_t size);

/*
 * error_set_reply() with r (NULL: no reply): its code, enhanced code and
 * reply_format() text go with the message. Always returns -1.
 */
int reply_error(struct error *err, enum error_kind kind, const struct reply *r,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* EHLO extensions (RFC 5321 4.1.1.1 and the extension RFCs). */
enum smtp_ext {
	SMTP_EXT_STARTTLS = 1 << 0,
	SMTP_EXT_AUTH = 1 << 1,
	SMTP_EXT_PIPELINING = 1 << 2,
	SMTP_EXT_SIZE = 1 << 3,
	SMTP_EXT_8BITMIME = 1 << 4,
	SMTP_EXT_SMTPUTF8 = 1 << 5,
	SMTP_EXT_CHUNKING = 1 << 6,
	SMTP_EXT_DSN = 1 << 7,
	SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 8,
	SMTP_EXT_BINARYMIME = 1 << 9,
};

struct smtp_caps {
	unsigned ext;			/* SMTP_EXT_* bits */
	unsigned long long size_limit;	/* SIZE parameter, 0 = none given */
	char auth[512];			/* AUTH mechanisms, upper case,
					   space separated ("PLAIN LOGIN") */
};

/*
 * Fill caps from a 250 EHLO reply (line 1 is the greeting, the others
 * keywords). Also understands the old "AUTH=PLAIN LOGIN" form. Unknown
 * keywords are ignored; over-long values are truncated.
 */
void reply_parse_ehlo(const struct reply *r, struct smtp_caps *caps);

#endif
