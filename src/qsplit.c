/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qsplit.c -- see qsplit.h.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "qsplit.h"
#include "util.h"

bool
queue_envelope_split(const struct envelope *env)
{
	size_t n[ENVELOPE_RCPT_REJECTED + 1] = { 0 };

	for (size_t i = 0; env->status != NULL && i < env->nrcpt; i++)
		if ((size_t)env->status[i] < ARRAY_SIZE(n))
			n[env->status[i]]++;
	if (n[ENVELOPE_RCPT_SENT] > 0)
		return n[ENVELOPE_RCPT_SENT] < env->nrcpt;
	/* nobody has it: split only a verdict for each, some 4xx some 5xx */
	return n[ENVELOPE_RCPT_DEFERRED] > 0 && n[ENVELOPE_RCPT_REJECTED] > 0 &&
	    n[ENVELOPE_RCPT_DEFERRED] + n[ENVELOPE_RCPT_REJECTED] == env->nrcpt;
}

size_t
queue_envelope_part(const struct envelope *env, bool rejected,
    struct envelope *out)
{
	const char **v = xcalloc(env->nrcpt + 1, sizeof(*v));
	enum envelope_rcpt st;
	size_t n = 0;

	*out = *env;
	out->status = NULL;
	for (size_t i = 0; i < env->nrcpt; i++) {
		st = env->status != NULL ? env->status[i] :
		    ENVELOPE_RCPT_UNTRIED;
		if (rejected ? st == ENVELOPE_RCPT_REJECTED :
		    st != ENVELOPE_RCPT_SENT && st != ENVELOPE_RCPT_REJECTED)
			v[n++] = env->rcpt[i];
	}
	out->rcpt = v;
	out->nrcpt = n;
	return n;
}

static const char why_pre[] = "recipient '";

/* Whether p (n bytes, after "recipient '") starts with "rcpt'". */
static bool
why_names(const char *p, size_t n, const char *rcpt)
{
	size_t len = strlen(rcpt);

	return n > len + 1 && memcmp(p, rcpt, len) == 0 && p[len] == '\'';
}

/* Whether line (n bytes) is "recipient 'x' ..." for an x not in part. */
static bool
why_other_rcpt(const char *line, size_t n, const struct envelope *part)
{
	size_t k = sizeof(why_pre) - 1;

	if (n <= k || memcmp(line, why_pre, k) != 0)
		return false;
	for (size_t i = 0; i < part->nrcpt; i++)
		if (why_names(line + k, n - k, part->rcpt[i]))
			return false;
	return true;
}

void
queue_rcpt_esc(const char *error, const char *rcpt, char *esc, size_t size)
{
	const char *p = error;
	size_t n;

	esc[0] = '\0';
	while ((p = strstr(p, why_pre)) != NULL &&
	    !why_names(p + sizeof(why_pre) - 1, strlen(p + sizeof(why_pre) - 1),
	    rcpt))
		p += sizeof(why_pre) - 1;
	if (p == NULL || (p = strstr(p + sizeof(why_pre) - 1 + strlen(rcpt),
	    ": ")) == NULL)
		return;
	p += 2;		/* "NNN X.Y.Z ", the class that of the code */
	if (strspn(p, "0123456789") != 3 || p[3] != ' ' || p[4] != p[0])
		return;
	n = strspn(p + 4, "0123456789.");
	if (n >= 5 && n < size && (p[4 + n] == ' ' || p[4 + n] == '\0')) {
		memcpy(esc, p + 4, n);
		esc[n] = '\0';
	}
}

void
queue_envelope_why(const struct error *why, const struct envelope *part,
    struct error *out)
{
	const char *p = why->message;
	char *o;

	*out = *why;
	o = out->message;
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		if (!why_other_rcpt(p, n, part)) {
			if (o != out->message)
				*o++ = '\n';
			memcpy(o, p, n);	/* a subset of why: it fits */
			o += n;
		}
		p += n + (p[n] == '\n');
	}
	*o = '\0';
	if (out->message[0] == '\0')
		*out = *why;
}
