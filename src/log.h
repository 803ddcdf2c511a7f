/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * log.h -- what yubin tells the user and the log file.
 *   log_proto():   the -v protocol trace on stderr ("yubin: --> EHLO x",
 *                  "yubin: <-- 250 ok"), control bytes escaped.
 *   log_verbose(): -v notes ("yubin: connected to ...").
 *   log_warn():    always shown ("yubin: warning: ...").
 *   log_message(): one line per message appended to the account's logfile
 *                  (or written to standard output); log_syslog(): the same
 *                  line to the system log.
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
	const char *user;		/* the AUTH user, or NULL */
	const char *from;
	const char *const *rcpt;
	size_t nrcpt;
	off_t size;
	const char *reply;		/* final SMTP reply or "" */
	int exitcode;
	const char *error;		/* error message or NULL */
	const char *time_format;	/* strftime(3); NULL: "%b %d %H:%M:%S" */
};

/*
 * Append msmtp's line, then yubin's own fields:
 *   "Nov 25 10:00:01 host=H tls=on auth=on user=U from=F recipients=a,b
 *   mailsize=123 smtpstatus=250 smtpmsg='...' exitcode=EX_OK
 *   account=work tlsinfo=TLS1.3/... authmech=PLAIN size=123"
 * msmtp's fields in msmtp's order and with its rules (user only with auth,
 * mailsize only on success, smtpstatus/smtpmsg when there was a reply,
 * errormsg on failure), so parsers written for msmtp's log keep working.
 * path "-": standard output (msmtp's logfile -); else the file, created
 * 0600. Returns 0/-1 (a log failure is only a warning for the caller).
 */
int log_message(const char *path, const struct log_record *r);

/*
 * The same line without the time to the system log (syslog(3), ident
 * "yubin"), facility "LOG_USER", "LOG_MAIL" or "LOG_LOCAL0".."LOG_LOCAL7";
 * priority LOG_INFO for a message sent, LOG_ERR otherwise (as msmtp).
 */
int log_syslog(const char *facility, const struct log_record *r);

#endif
