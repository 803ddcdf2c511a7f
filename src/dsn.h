/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dsn.h -- the Delivery Status Notification parameters of RFC 3461 that
 * reach MAIL FROM and RCPT TO: NOTIFY (-N, dsn_notify), RET (-R,
 * dsn_return) and ENVID (-V). One parser per parameter for the command
 * line and the configuration file, and one check for values handed over
 * by anything else (a queue file) and again right before the wire; what
 * happens to them when the server does not offer DSN. No I/O.
 */
#ifndef YUBIN_DSN_H
#define YUBIN_DSN_H

#include <stdbool.h>
#include <stddef.h>

struct envelope;
struct error;

#define DSN_NOTIFY_MAX 32	/* "SUCCESS,FAILURE,DELAY" and its NUL */
#define DSN_ENVID_MAX 100	/* characters of an ENVID (RFC 3461 4.4) */

/*
 * "never", or a list of "success", "failure", "delay" without repeats,
 * any case: the canonical upper-case form ("NEVER", "SUCCESS,DELAY") into
 * out (DSN_NOTIFY_MAX bytes). -1 when it is anything else.
 */
int dsn_notify_parse(const char *in, char *out, size_t size);

/* "full" or "hdrs" (also "headers"), any case: "FULL" / "HDRS"; else NULL. */
const char *dsn_return_parse(const char *in);

/* 1 to 100 printable ASCII characters other than space. */
bool dsn_envid_valid(const char *s);

/*
 * Each value that is not NULL is in the canonical form the parsers above
 * produce. ERR_DATAERR "invalid DSN NOTIFY value 'x'" (RET, ENVID), the
 * value shown through util_show().
 */
int dsn_check(const char *notify, const char *ret, const char *envid,
    struct error *err);

/*
 * The server does not offer DSN. 0 when env asks for none of NOTIFY, RET,
 * ENVID. Otherwise, as msmtp: ERR_UNAVAILABLE "the server does not support
 * DSN, which the message asks for (NOTIFY=FAILURE RET=HDRS); set
 * 'dsn_unsupported send' to send it without"; or with send_without, a
 * warning on stderr and 0 (the caller leaves the parameters out). Never
 * dropped silently.
 */
int dsn_unsupported(const struct envelope *env, bool send_without,
    struct error *err);

#endif
