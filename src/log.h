/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * log.h -- what yubin tells the user and the log file.
 *   log_proto():   the -v protocol trace on stderr ("yubin: --> EHLO x",
 *                  "yubin: <-- 250 ok"), control bytes escaped.
 *   log_verbose(): -v notes ("yubin: connected to ...").
 *   log_warn():    always shown ("yubin: warning: ...").
 *   log_message(): one line per message appended to the account's logfile.
 * Callers redact secrets before calling; nothing here ever sees one.
 */
#ifndef YUBIN_LOG_H
#define YUBIN_LOG_H

#include <stddef.h>
#include <sys/types.h>

void log_set_verbose(int level);
int log_get_verbose(void);

/* dir is '>' (client to server) or '<' (server to client). */
void log_proto(char dir, const char *line, size_t len);
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct log_record {
	const char *account;
	const char *host;
	const char *tls;		/* "TLS1.3/..." or "none" */
	const char *mech;		/* SASL mechanism or "" */
	const char *from;
	const char *const *rcpt;
	size_t nrcpt;
	off_t size;
	const char *reply;		/* final SMTP reply or "" */
	int exitcode;
	const char *error;		/* error message or NULL */
};

/*
 * Append "Nov 25 10:00:01 account=work host=... tls=... auth=PLAIN
 * from=... recipients=a,b size=123 smtpstatus=250 smtpmsg='...' exitcode=
 * EX_OK" to path (created 0600). Returns 0/-1 (a log failure is only a
 * warning for the caller).
 */
int log_message(const char *path, const struct log_record *r);

#endif
