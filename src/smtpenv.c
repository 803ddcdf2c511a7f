/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpenv.c -- see smtpenv.h.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "dsn.h"
#include "smtp.h"
#include "smtpenv.h"
#include "util.h"

void
smtp_free_ascii(struct smtp *s)
{
	for (size_t i = 0; i < s->nascii; i++)
		free(s->ascii[i]);
	free(s->ascii);
	s->ascii = NULL;
	s->nascii = 0;
}

bool
smtp_env_8bit(const struct envelope *env)
{
	bool eight = util_has_8bit(env->from, strlen(env->from));

	for (size_t i = 0; i < env->nrcpt && !eight; i++)
		eight = util_has_8bit(env->rcpt[i], strlen(env->rcpt[i]));
	return eight;
}

/*
 * No SMTPUTF8: send the envelope with every domain as A-labels (RFC 5891);
 * a UTF-8 local part has no ASCII form (ERR_DATAERR from address.c).
 */
static int
smtp_to_ascii(struct smtp *s, const struct envelope *env)
{
	smtp_free_ascii(s);
	s->ascii = xcalloc(env->nrcpt + 1, sizeof(*s->ascii));
	for (size_t i = 0; i <= env->nrcpt; i++) {
		const char *a = i == 0 ? env->from : env->rcpt[i - 1];

		if (address_to_ascii(a, &s->ascii[i], &s->txn_err) < 0)
			return -1;
		s->nascii = i + 1;
	}
	s->ascii_env = *env;
	s->ascii_env.from = s->ascii[0];
	s->ascii_env.rcpt = (const char *const *)s->ascii + 1;
	s->env = &s->ascii_env;
	return 0;
}

/* Every address of env through the one rule (address_check()). */
static int
smtp_check_addrs(const struct envelope *env, const char *where,
    struct error *err)
{
	if (*env->from != '\0' &&
	    address_check(env->from, "sender", where, err) < 0)
		return -1;
	for (size_t i = 0; i < env->nrcpt; i++)
		if (address_check(env->rcpt[i], "recipient", where, err) < 0)
			return -1;
	return 0;
}

/*
 * The envelope as it will be written, checked after its last change (the
 * A-labels of IDNA), so what reaches the wire has passed the same rule as
 * the command line.
 */
int
smtp_check_envelope(struct smtp *s, const struct envelope *env)
{
	if (env->nrcpt == 0)
		return error_set(&s->txn_err, ERR_USAGE, "no recipients");
	if (smtp_check_addrs(env, NULL, &s->txn_err) < 0)
		return -1;
	if (smtp_env_8bit(env) && !(s->caps.ext & SMTP_EXT_SMTPUTF8) &&
	    (smtp_to_ascii(s, env) < 0 || smtp_check_addrs(s->env,
	    "in ASCII (IDNA)", &s->txn_err) < 0))
		return -1;
	if (dsn_check(env->dsn_notify, env->dsn_return, env->dsn_envid,
	    &s->txn_err) < 0 || (!(s->caps.ext & SMTP_EXT_DSN) &&
	    dsn_unsupported(env, s->opts.dsn_optional, &s->txn_err) < 0))
		return -1;
	if (s->info.eightbit && !(s->caps.ext & SMTP_EXT_8BITMIME))
		return error_set(&s->txn_err, ERR_DATAERR, "the message "
		    "contains 8-bit data and the server does not support "
		    "8BITMIME; encode it (quoted-printable or base64) first");
	if (s->caps.size_limit > 0 &&
	    (unsigned long long)s->info.size > s->caps.size_limit)
		return error_set(&s->txn_err, ERR_UNAVAILABLE, "message "
		    "size %lld bytes exceeds the server's limit of %llu "
		    "bytes (SIZE)", (long long)s->info.size,
		    s->caps.size_limit);
	return 0;
}
