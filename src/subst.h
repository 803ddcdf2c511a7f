/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * subst.h -- msmtp's substitutions in 'from' (%U %H %C %M) and 'domain'
 * (%H %C %M), as msmtp 1.8 makes them:
 *   %U  $USER, else $LOGNAME, else the login name of the user;
 *   %H  $HOSTNAME, else the host name (gethostname());
 *   %C  the canonical name of %H (getaddrinfo() AI_CANONNAME), else %H;
 *   %M  the first line of MSMTP_SYSCONFDIR/mailname (/etc/mailname); a
 *       missing or empty file is an error.
 * Any other '%' is kept as it is; there is no escape ("%%U" is "%" and
 * the user, as in msmtp).
 */
#ifndef YUBIN_SUBST_H
#define YUBIN_SUBST_H

#include <stddef.h>

struct error;

/* The patterns each key knows. */
#define SUBST_FROM "UHCM"
#define SUBST_DOMAIN "HCM"

/*
 * in with the patterns of which (SUBST_FROM, SUBST_DOMAIN) replaced, into
 * out. -1: ERR_CONFIG ("cannot read /etc/mailname (%M): ...", or the
 * result longer than size).
 */
int subst_expand(const char *in, const char *which, char *out, size_t size,
    struct error *err);

/* Whether in holds one of the patterns of which. */
int subst_has(const char *in, const char *which);

/* The user name of %U into out (auto_from's local part). */
int subst_user(char *out, size_t size, struct error *err);

#endif
